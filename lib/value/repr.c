/* value: repr() as CPython 3.13 prints it, and the UTF-8 helpers shared with parse.c. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/value.h"

/* ---- UTF-8 ------------------------------------------------------------------------------- */

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

int st__utf8_error(const unsigned char *s, size_t len, size_t i, int surrogates)
{
    unsigned c = s[i];
    if (c < 0xc2 || c > 0xf4)
        return ST_RAISE_AS(ST_EVALUE, "UnicodeDecodeError",
                           "'utf-8' codec can't decode byte 0x%02x in position %zu: invalid start byte",
                           c, i);
    size_t n = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4, k = 1;
    /* the second byte's range depends on the first (no overlongs, surrogates, > U+10FFFF) */
    unsigned lo = c == 0xe0 ? 0xa0 : c == 0xf0 ? 0x90 : 0x80;
    unsigned hi = c == 0xed && !surrogates ? 0x9f : c == 0xf4 ? 0x8f : 0xbf;
    while (k < n && i + k < len && s[i + k] >= (k == 1 ? lo : 0x80) && s[i + k] <= (k == 1 ? hi : 0xbf))
        k++;
    if (i + k == len && k > 1)
        return ST_RAISE_AS(ST_EVALUE, "UnicodeDecodeError",
                           "'utf-8' codec can't decode bytes in position %zu-%zu: unexpected end of data",
                           i, len - 1);
    return ST_RAISE_AS(ST_EVALUE, "UnicodeDecodeError",
                       "'utf-8' codec can't decode byte 0x%02x in position %zu: %s", c, i,
                       i + k == len ? "unexpected end of data" : "invalid continuation byte");
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

/* ---- numbers ----------------------------------------------------------------------------- */

/* Splits printf's "D.DDDe[+-]XX" into digits and exponent. */
static int split_e(const char *buf, char *digits, int *exp10)
{
    int n = 0;
    for (; *buf != 'e'; buf++)
        if (*buf != '.')
            digits[n++] = *buf;
    *exp10 = atoi(buf + 1);
    return n;
}

/* Adds one unit in the last of p digits, carrying into the exponent. */
static void bump(char *dg, int p, int *exp10)
{
    int i = p - 1;
    while (i >= 0 && dg[i] == '9')
        dg[i--] = '0';
    if (i >= 0) {
        dg[i]++;
    } else {
        dg[0] = '1';
        (*exp10)++;
    }
}

/* The p-digit decimal nearest to a (> 0), from its 17-digit expansion d17/e17: rounding that
 * expansion again is exact unless it lies exactly on a p-digit midpoint; then printf decides. */
static void round_to(double a, const char *d17, int e17, int p, char *dg, int *exp10)
{
    memcpy(dg, d17, (size_t)p);
    *exp10 = e17;
    int cmp = d17[p] - '5';
    for (int k = p + 1; cmp == 0 && k < 17; k++)
        cmp = d17[k] != '0';
    if (cmp == 0) {
        char buf[40], tmp[20];
        snprintf(buf, sizeof buf, "%.*e", p - 1, a);
        split_e(buf, tmp, exp10);
        memcpy(dg, tmp, (size_t)p);
    } else if (cmp > 0) {
        bump(dg, p, exp10);
    }
}

static int reads_back(const char *dg, int p, int exp10, double a)
{
    char buf[40];
    snprintf(buf, sizeof buf, "%c.%.*se%d", dg[0], p - 1, dg + 1, exp10);
    return strtod(buf, NULL) == a;
}

/* The shortest decimal that reads back as a (> 0), as digits and the exponent of the first
 * digit. The nearest p-digit decimal for the fewest p that round-trips is the shortest form
 * (any decimal of <= 15 digits round-trips for normal doubles, so the search starts there;
 * subnormals have fewer digits and start at 1), except at powers of two, whose rounding
 * interval is wider above: there the next p-digit decimal up is tried too. One printf gives
 * the 17-digit expansion the candidates are rounded from. */
static int shortest(double a, char *digits, int *exp10)
{
    char buf[40], d17[20], dg[20];
    int e17, e;
    snprintf(buf, sizeof buf, "%.16e", a);
    split_e(buf, d17, &e17);
    int pow2 = frexp(a, &e) == 0.5;
    int n = 17;
    memcpy(digits, d17, 17);
    *exp10 = e17;
    for (int p = a < DBL_MIN ? 1 : 15; p < 17; p++) {
        round_to(a, d17, e17, p, dg, &e);
        int ok = reads_back(dg, p, e, a);
        if (!ok && pow2) {
            bump(dg, p, &e);
            ok = reads_back(dg, p, e, a);
        }
        if (ok) {
            memcpy(digits, dg, (size_t)p);
            *exp10 = e;
            n = p;
            break;
        }
    }
    while (n > 1 && digits[n - 1] == '0')
        n--;
    return n;
}

int st__float_repr(st__buf *out, double d)
{
    if (isnan(d))
        return st__buf_puts(out, "nan");
    if (isinf(d))
        return st__buf_puts(out, d > 0 ? "inf" : "-inf");
    if (d == 0)
        return st__buf_puts(out, signbit(d) ? "-0.0" : "0.0");
    char digits[20], text[48];
    int e, k = 0;
    int n = shortest(fabs(d), digits, &e);
    if (d < 0)
        text[k++] = '-';
    int decpt = e + 1;
    if (decpt <= -4 || decpt > 16) {
        text[k++] = digits[0];
        if (n > 1) {
            text[k++] = '.';
            memcpy(text + k, digits + 1, (size_t)n - 1);
            k += n - 1;
        }
        k += snprintf(text + k, sizeof text - (size_t)k, "e%c%02d", e < 0 ? '-' : '+', abs(e));
    } else if (decpt <= 0) {
        text[k++] = '0';
        text[k++] = '.';
        for (int i = 0; i < -decpt; i++)
            text[k++] = '0';
        memcpy(text + k, digits, (size_t)n);
        k += n;
    } else if (decpt >= n) {
        memcpy(text + k, digits, (size_t)n);
        k += n;
        for (int i = n; i < decpt; i++)
            text[k++] = '0';
        text[k++] = '.';
        text[k++] = '0';
    } else {
        memcpy(text + k, digits, (size_t)decpt);
        k += decpt;
        text[k++] = '.';
        memcpy(text + k, digits + decpt, (size_t)(n - decpt));
        k += n - decpt;
    }
    return st__buf_append(out, text, (size_t)k);
}

/* ---- str and bytes ----------------------------------------------------------------------- */

static const char hexdigits[] = "0123456789abcdef";

static char pick_quote(const char *s, size_t len)
{
    return memchr(s, '\'', len) && !memchr(s, '"', len) ? '"' : '\'';
}

static int put_hex_escape(st__buf *b, char kind, uint32_t v, int width)
{
    char o[10];
    o[0] = '\\';
    o[1] = kind;
    for (int i = 0; i < width; i++)
        o[2 + i] = hexdigits[(v >> (4 * (width - 1 - i))) & 0xf];
    return st__buf_append(b, o, (size_t)width + 2);
}

/* The escape of an ASCII character, or NULL when it prints as itself. */
static const char *ascii_escape(unsigned c, char quote)
{
    switch (c) {
    case '\\':
        return "\\\\";
    case '\t':
        return "\\t";
    case '\n':
        return "\\n";
    case '\r':
        return "\\r";
    case '\'':
        return quote == '\'' ? "\\'" : NULL;
    case '"':
        return quote == '"' ? "\\\"" : NULL;
    default:
        return NULL;
    }
}

static int str_repr(st__buf *b, const st_value *v)
{
    const unsigned char *s = (const unsigned char *)v->u.s.data;
    size_t len = v->u.s.len;
    char quote = pick_quote(v->u.s.data, len);
    if (st__buf_reserve(b, len + 2) < 0 || st__buf_putc(b, quote) < 0)
        return -1;
    size_t run = 0; /* start of the pending run of bytes that print as themselves */
    for (size_t i = 0; i < len;) {
        unsigned c = s[i];
        const char *esc = NULL;
        uint32_t cp = c;
        size_t n = 1;
        if (c < 0x80) {
            esc = ascii_escape(c, quote);
            if (!esc && (c < 0x20 || c == 0x7f)) {
                if (st__buf_append(b, s + run, i - run) < 0 || put_hex_escape(b, 'x', c, 2) < 0)
                    return -1;
                run = ++i;
                continue;
            }
        } else {
            n = st__utf8_decode(s + i, len - i, 1, &cp);
            if (!st__unicode_isprintable(cp)) {
                int w = cp <= 0xff ? 2 : cp <= 0xffff ? 4 : 8;
                if (st__buf_append(b, s + run, i - run) < 0 ||
                    put_hex_escape(b, w == 2 ? 'x' : w == 4 ? 'u' : 'U', cp, w) < 0)
                    return -1;
                run = i += n;
                continue;
            }
        }
        if (esc) {
            if (st__buf_append(b, s + run, i - run) < 0 || st__buf_puts(b, esc) < 0)
                return -1;
            run = i + 1;
        }
        i += n;
    }
    if (st__buf_append(b, s + run, len - run) < 0)
        return -1;
    return st__buf_putc(b, quote);
}

/* CPython's bytearray repr escapes every single quote, even inside double quotes. */
static int bytes_repr(st__buf *b, const st_value *v, int escape_all_squotes)
{
    const unsigned char *s = (const unsigned char *)v->u.s.data;
    size_t len = v->u.s.len;
    char quote = pick_quote(v->u.s.data, len);
    if (st__buf_reserve(b, len + 3) < 0 || st__buf_putc(b, 'b') < 0 || st__buf_putc(b, quote) < 0)
        return -1;
    for (size_t i = 0; i < len; i++) {
        const char *esc = escape_all_squotes && s[i] == '\'' ? "\\'" : ascii_escape(s[i], quote);
        int rc = esc                              ? st__buf_puts(b, esc)
                 : s[i] < 0x20 || s[i] >= 0x7f ? put_hex_escape(b, 'x', s[i], 2)
                                                  : st__buf_putc(b, (char)s[i]);
        if (rc < 0)
            return -1;
    }
    return st__buf_putc(b, quote);
}

/* ---- containers -------------------------------------------------------------------------- */

/* The containers being printed, innermost last: one met again prints as "[...]" etc. */
typedef struct active {
    const st_value *v[ST_VALUE_MAX_DEPTH + 1];
    int n;
} active;

static int repr_value(st__buf *b, const st_value *v, active *act);

static int repr_items(st__buf *b, const st_value *v, active *act)
{
    size_t pos = 0;
    st_value *k, *val;
    int first = 1;
    if (v->kind == ST_VALUE_DICT) {
        while (st_value_dict_next(v, &pos, &k, &val)) {
            if ((!first && st__buf_append(b, ", ", 2) < 0) || repr_value(b, k, act) < 0 ||
                st__buf_append(b, ": ", 2) < 0 || repr_value(b, val, act) < 0)
                return -1;
            first = 0;
        }
        return 0;
    }
    while (st_value_next(v, &pos, &k)) {
        if ((!first && st__buf_append(b, ", ", 2) < 0) || repr_value(b, k, act) < 0)
            return -1;
        first = 0;
    }
    return 0;
}

static int repr_container(st__buf *b, const st_value *v, active *act)
{
    static const char *const open[] = {[ST_VALUE_TUPLE] = "(", [ST_VALUE_LIST] = "[",
                                       [ST_VALUE_DICT] = "{", [ST_VALUE_SET] = "{",
                                       [ST_VALUE_FROZENSET] = "frozenset({"};
    static const char *const close[] = {[ST_VALUE_TUPLE] = ")", [ST_VALUE_LIST] = "]",
                                        [ST_VALUE_DICT] = "}", [ST_VALUE_SET] = "}",
                                        [ST_VALUE_FROZENSET] = "})"};
    static const char *const again[] = {[ST_VALUE_TUPLE] = "(...)", [ST_VALUE_LIST] = "[...]",
                                        [ST_VALUE_DICT] = "{...}", [ST_VALUE_SET] = "set(...)",
                                        [ST_VALUE_FROZENSET] = "frozenset(...)"};
    ptrdiff_t len = st_value_len(v);
    if (len == 0)
        return st__buf_puts(b, v->kind == ST_VALUE_TUPLE ? "()"
                               : v->kind == ST_VALUE_LIST ? "[]"
                               : v->kind == ST_VALUE_DICT ? "{}"
                               : v->kind == ST_VALUE_SET  ? "set()"
                                                          : "frozenset()");
    for (int i = 0; i < act->n; i++)
        if (act->v[i] == v)
            return st__buf_puts(b, again[v->kind]);
    if (act->n > ST_VALUE_MAX_DEPTH)
        return ST_RAISE(ST_ERECURSION,
                        "maximum recursion depth exceeded while getting the repr of an object");
    act->v[act->n++] = v;
    int rc = st__buf_puts(b, open[v->kind]);
    if (rc == 0)
        rc = repr_items(b, v, act);
    if (rc == 0 && v->kind == ST_VALUE_TUPLE && len == 1)
        rc = st__buf_putc(b, ',');
    if (rc == 0)
        rc = st__buf_puts(b, close[v->kind]);
    act->n--;
    return rc;
}

static int repr_value(st__buf *b, const st_value *v, active *act)
{
    switch ((st_value_type)v->kind) {
    case ST_VALUE_NONE:
        return st__buf_append(b, "None", 4);
    case ST_VALUE_BOOL:
    case ST_VALUE_INT:
        return st__int_repr(b, v);
    case ST_VALUE_FLOAT:
        return st__float_repr(b, v->u.f);
    case ST_VALUE_STR:
        return str_repr(b, v);
    case ST_VALUE_BYTES:
        return bytes_repr(b, v, 0);
    case ST_VALUE_BYTEARRAY:
        if (st__buf_puts(b, "bytearray(") < 0 || bytes_repr(b, v, 1) < 0)
            return -1;
        return st__buf_putc(b, ')');
    default:
        return repr_container(b, v, act);
    }
}

char *st_value_repr(const st_value *v)
{
    st__buf b = ST__BUF_INIT;
    active *act = NULL;
    int rc;
    if (v->kind >= ST_VALUE_TUPLE) {
        act = st__malloc(sizeof *act);
        if (!act)
            return (ST_TRACE(), NULL);
        act->n = 0;
    }
    rc = repr_value(&b, v, act);
    free(act);
    if (rc < 0) {
        st__buf_free(&b);
        return (ST_TRACE(), NULL);
    }
    return st__buf_detach(&b);
}
