/* io: utf-8, ascii and latin-1 with CPython's error handlers (strict, replace, ignore,
 * surrogateescape, backslashreplace), decoding incrementally into the library's str text. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "internal/codec.h"
#include "internal/error.h"
#include "internal/utf8.h"
#include "systools/sys.h"

/* CPython's names for the three codecs (encodings.aliases), compared after normalising. */
static const struct {
    const char *name;
    st__encoding enc;
} g_aliases[] = {
    {"utf8", ST__ENC_UTF8},
    {"u8", ST__ENC_UTF8},
    {"utf", ST__ENC_UTF8},
    {"cp65001", ST__ENC_UTF8},
    {"ascii", ST__ENC_ASCII},
    {"usascii", ST__ENC_ASCII},
    {"646", ST__ENC_ASCII},
    {"ansix3.41968", ST__ENC_ASCII},
    {"us", ST__ENC_ASCII},
    {"iso646us", ST__ENC_ASCII},
    {"latin1", ST__ENC_LATIN1},
    {"latin", ST__ENC_LATIN1},
    {"l1", ST__ENC_LATIN1},
    {"iso88591", ST__ENC_LATIN1},
    {"8859", ST__ENC_LATIN1},
    {"cp819", ST__ENC_LATIN1},
    {"iso885911987", ST__ENC_LATIN1},
};

int st__codec_lookup(const char *name, st__encoding *enc)
{
    if (!name || !strcmp(name, "locale"))
        name = st_sys_getfilesystemencoding(); /* Python's locale encoding, UTF-8 mode included */
    char key[32];
    size_t n = 0;
    for (const char *p = name; *p && n + 1 < sizeof key; p++) {
        if (*p == '-' || *p == '_' || *p == ' ')
            continue;
        key[n++] = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    }
    key[n] = '\0';
    for (size_t i = 0; i < sizeof g_aliases / sizeof g_aliases[0]; i++)
        if (strlen(name) < sizeof key && !strcmp(key, g_aliases[i].name)) {
            *enc = g_aliases[i].enc;
            return 0;
        }
    return ST_RAISE_AS(ST_EKEY, "LookupError", "unknown encoding: %s", name);
}

int st__codec_errors(const char *name, st__errors *errors)
{
    static const char *const names[] = {"strict", "replace", "ignore", "surrogateescape",
                                        "backslashreplace"};
    if (!name) {
        *errors = ST__ERR_STRICT;
        return 0;
    }
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(name, names[i])) {
            *errors = (st__errors)i;
            return 0;
        }
    return -1; /* the caller raises when CPython would: where a handler is first needed */
}

const char *st__codec_name(st__encoding enc)
{
    return enc == ST__ENC_UTF8 ? "utf-8" : enc == ST__ENC_ASCII ? "ascii" : "latin-1";
}

int st__codec_identity(st__encoding enc, const unsigned char *in, size_t len)
{
    for (size_t i = st__ascii_prefix(in, len); i < len; i += st__ascii_prefix(in + i, len - i)) {
        uint32_t cp;
        size_t n = enc == ST__ENC_UTF8 ? st__utf8_decode(in + i, len - i, 0, &cp) : 0;
        if (!n)
            return 0;
        i += n;
    }
    return 1;
}

/* Appends unless only validating (out NULL). */
static int append(st__buf *out, const void *p, size_t n)
{
    return out ? st__buf_append(out, p, n) : 0;
}

static int put(st__buf *out, uint32_t cp) { return out ? st__utf8_put(out, cp) : 0; }

int st__codec_decode(st__encoding enc, st__errors errors, const unsigned char *in, size_t len,
                     size_t ahead, int final, size_t base, size_t max_chars, st__buf *out,
                     size_t *used, size_t *nchars)
{
    size_t i = 0, chars = 0;
    int rc = 0;
    while (i < len && chars < max_chars) {
        size_t run = st__ascii_prefix(in + i, len - i);
        if (run > max_chars - chars)
            run = max_chars - chars;
        if (run) {
            if (append(out, in + i, run) < 0)
                goto fail;
            i += run;
            chars += run;
            continue;
        }
        uint32_t cp;
        size_t bad = 1; /* the invalid bytes at in[i], one error */
        const char *reason = "ordinal not in range(128)";
        if (enc == ST__ENC_LATIN1) {
            if (put(out, in[i]) < 0)
                goto fail;
            i++;
            chars++;
            continue;
        }
        if (enc == ST__ENC_UTF8) {
            size_t n = st__utf8_decode(in + i, len - i, 0, &cp);
            if (n) {
                if (append(out, in + i, n) < 0)
                    goto fail;
                i += n;
                chars++;
                continue;
            }
            /* the bytes ahead are never continuation bytes of this one (a newline follows) */
            bad = st__utf8_invalid(in, len + ahead, i, 0, &reason);
            if (!final && i + bad == len && !strcmp(reason, "unexpected end of data"))
                break; /* may complete with the next bytes */
        }
        switch (errors) {
        case ST__ERR_STRICT:
            rc = st__unicode_decode_error(st__codec_name(enc), in[i], base + i, base + i + bad,
                                          reason);
            goto fail;
        case ST__ERR_REPLACE:
            if (put(out, 0xfffd) < 0)
                goto fail;
            chars++;
            i += bad;
            break;
        case ST__ERR_IGNORE:
            i += bad;
            break;
        case ST__ERR_SURROGATEESCAPE: /* every invalid byte is >= 0x80 here */
            if (put(out, 0xdc00 + in[i]) < 0)
                goto fail;
            chars++;
            i++; /* byte by byte: a limit may fall inside the subpart */
            break;
        case ST__ERR_BACKSLASHREPLACE: {
            char esc[5];
            snprintf(esc, sizeof esc, "\\x%02x", in[i]);
            if (append(out, esc, 4) < 0)
                goto fail;
            chars += 4;
            i++;
            break;
        }
        }
    }
    *used = i;
    if (nchars)
        *nchars = chars;
    return 0;
fail:
    *used = i;
    if (nchars)
        *nchars = chars;
    return rc < 0 ? rc : ST_TRACE();
}

/* CPython's UnicodeEncodeError for the code points [start_cp, end_cp), the first being first. */
static int encode_error(st__encoding enc, size_t start_cp, size_t end_cp, uint32_t first)
{
    const char *reason = enc == ST__ENC_UTF8    ? "surrogates not allowed"
                         : enc == ST__ENC_ASCII ? "ordinal not in range(128)"
                                                : "ordinal not in range(256)";
    if (end_cp - start_cp > 1)
        return ST_RAISE_AS(ST_EVALUE, "UnicodeEncodeError",
                           "'%s' codec can't encode characters in position %zu-%zu: %s",
                           st__codec_name(enc), start_cp, end_cp - 1, reason);
    char esc[12];
    snprintf(esc, sizeof esc,
             first < 0x100     ? "\\x%02x"
             : first < 0x10000 ? "\\u%04x"
                               : "\\U%08x",
             (unsigned)first);
    return ST_RAISE_AS(ST_EVALUE, "UnicodeEncodeError",
                       "'%s' codec can't encode character '%s' in position %zu: %s",
                       st__codec_name(enc), esc, start_cp, reason);
}

static int encodable(st__encoding enc, uint32_t cp)
{
    return enc == ST__ENC_UTF8    ? !(cp >= 0xd800 && cp <= 0xdfff)
           : enc == ST__ENC_ASCII ? cp < 0x80
                                  : cp < 0x100;
}

int st__codec_encode(st__encoding enc, st__errors errors, const char *text, size_t len,
                     st__buf *out)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0, pos = 0; /* byte offset, code point position */
    while (i < len) {
        size_t run = st__ascii_prefix(s + i, len - i);
        if (run) {
            if (st__buf_append(out, s + i, run) < 0)
                return ST_TRACE();
            i += run;
            pos += run;
            continue;
        }
        uint32_t cp;
        size_t n = st__utf8_decode(s + i, len - i, 1, &cp);
        if (!n)
            return st__utf8_error(s, len, i, 1);
        if (encodable(enc, cp)) {
            if (enc == ST__ENC_UTF8 ? st__buf_append(out, s + i, n) : st__buf_putc(out, (char)cp))
                return ST_TRACE();
            i += n;
            pos++;
            continue;
        }
        /* The run of characters the codec cannot encode: one error, as CPython reports it. */
        size_t j = i, end = pos, err_start = pos;
        uint32_t first = cp;
        while (j < len) {
            uint32_t c;
            size_t m = st__utf8_decode(s + j, len - j, 1, &c);
            if (!m)
                return st__utf8_error(s, len, j, 1);
            if (encodable(enc, c))
                break;
            if (errors == ST__ERR_STRICT || errors == ST__ERR_IGNORE || errors == ST__ERR_REPLACE) {
                if (errors == ST__ERR_REPLACE && st__buf_putc(out, '?') < 0)
                    return ST_TRACE();
            } else if (errors == ST__ERR_SURROGATEESCAPE) {
                if (c < 0xdc80 || c > 0xdcff) { /* CPython's error starts at this one */
                    err_start = end;
                    first = c;
                    goto strict;
                }
                if (st__buf_putc(out, (char)(c - 0xdc00)) < 0)
                    return ST_TRACE();
            } else {
                char esc[12];
                snprintf(esc, sizeof esc,
                         c < 0x100     ? "\\x%02x"
                         : c < 0x10000 ? "\\u%04x"
                                       : "\\U%08x",
                         (unsigned)c);
                if (st__buf_puts(out, esc) < 0)
                    return ST_TRACE();
            }
            j += m;
            end++;
        }
        if (errors == ST__ERR_STRICT)
            goto strict;
        i = j;
        pos = end;
        continue;
    strict:
        /* the whole run, as CPython's exception spans it */
        while (j < len) {
            uint32_t c;
            size_t m = st__utf8_decode(s + j, len - j, 1, &c);
            if (!m || encodable(enc, c))
                break;
            j += m;
            end++;
        }
        return encode_error(enc, err_start, end, first);
    }
    return 0;
}
