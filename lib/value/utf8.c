/* value: UTF-8 decoding and encoding as CPython's codecs do it, and str.isprintable(). */
#include <stdint.h>

#include "internal/error.h"
#include "internal/utf8.h"

size_t st__utf8_decode(const unsigned char *s, size_t len, int surrogates, uint32_t *cp)
{
    unsigned c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t n;
    uint32_t v, min;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        v = c & 0x1f;
        min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        v = c & 0x0f;
        min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        v = c & 0x07;
        min = 0x10000;
    } else {
        return 0;
    }
    if (len < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (!surrogates && v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return n;
}

size_t st__utf8_invalid(const unsigned char *s, size_t len, size_t i, int surrogates,
                        const char **reason)
{
    unsigned c = s[i];
    if (c < 0xc2 || c > 0xf4) {
        *reason = "invalid start byte";
        return 1;
    }
    size_t n = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4, k = 1;
    /* the second byte's range depends on the first (no overlongs, surrogates, > U+10FFFF) */
    unsigned lo = c == 0xe0 ? 0xa0 : c == 0xf0 ? 0x90 : 0x80;
    unsigned hi = c == 0xed && !surrogates ? 0x9f : c == 0xf4 ? 0x8f : 0xbf;
    while (k < n && i + k < len && s[i + k] >= (k == 1 ? lo : 0x80) && s[i + k] <= (k == 1 ? hi : 0xbf))
        k++;
    *reason = i + k == len ? "unexpected end of data" : "invalid continuation byte";
    return k;
}

int st__unicode_decode_error(const char *encoding, unsigned char first, size_t start, size_t end,
                             const char *reason)
{
    if (end - start > 1)
        return ST_RAISE_AS(ST_EVALUE, "UnicodeDecodeError",
                           "'%s' codec can't decode bytes in position %zu-%zu: %s", encoding,
                           start, end - 1, reason);
    return ST_RAISE_AS(ST_EVALUE, "UnicodeDecodeError",
                       "'%s' codec can't decode byte 0x%02x in position %zu: %s", encoding,
                       first, start, reason);
}

int st__utf8_error(const unsigned char *s, size_t len, size_t i, int surrogates)
{
    const char *reason;
    size_t k = st__utf8_invalid(s, len, i, surrogates, &reason);
    return st__unicode_decode_error("utf-8", s[i], i, i + k, reason);
}

int st__utf8_put(st__buf *b, uint32_t cp)
{
    char o[4];
    size_t n;
    if (cp < 0x80) {
        o[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        o[0] = (char)(0xc0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        o[0] = (char)(0xe0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        o[0] = (char)(0xf0 | (cp >> 18));
        o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[3] = (char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    return st__buf_append(b, o, n);
}

static const uint32_t nonprintable[][2] = {
#include "printable.inc"
};

int st__unicode_isprintable(uint32_t cp)
{
    if (cp < 0x80)
        return cp >= 0x20 && cp < 0x7f;
    if (cp > 0xa0 && cp < 0x378) /* Latin, IPA, Greek: all printable but the soft hyphen */
        return cp != 0xad;
    size_t lo = 0, hi = sizeof nonprintable / sizeof nonprintable[0];
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cp < nonprintable[mid][0])
            hi = mid;
        else if (cp > nonprintable[mid][1])
            lo = mid + 1;
        else
            return 0;
    }
    return 1;
}
