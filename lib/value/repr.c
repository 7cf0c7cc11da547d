/* value: repr() as CPython 3.13 prints it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal/compiler.h"
#include "internal/utf8.h"
#include "internal/value.h"

/* ---- output ------------------------------------------------------------------------------ */

/* The writers below store straight into the buffer once room() made space (growing it by
 * doubling); st__buf_detach adds the final NUL. */
static inline int room(st__buf *b, size_t n)
{
    return b->cap - b->len > n ? 0 : st__buf_reserve(b, n);
}

static inline int put(st__buf *b, const void *p, size_t n)
{
    if (room(b, n) < 0)
        return -1;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

static inline int putc1(st__buf *b, char c)
{
    if (room(b, 1) < 0)
        return -1;
    b->data[b->len++] = c;
    return 0;
}

/* ---- ints -------------------------------------------------------------------------------- */

ST__NOINLINE static int big_repr(st__buf *b, const st_value *v)
{
#ifdef __SIZEOF_INT128__
    size_t n;
    int neg;
    const uint32_t *d = st__int_mag(v, &n, &neg);
    /* Up to 128 bits (the big ints met most) in at most three 19-digit pieces. */
    if (n <= 4) {
        __extension__ typedef unsigned __int128 u128;
        const uint64_t e19 = UINT64_C(10000000000000000000);
        char tmp[48], *end = tmp + sizeof tmp, *p = end;
        u128 m = 0;
        for (size_t i = n; i-- > 0;)
            m = m << 32 | d[i];
        while (m >= e19) {
            char *piece = st__u64_digits(p, (uint64_t)(m % e19));
            m /= e19;
            while (p - piece < 19)
                *--piece = '0';
            p = piece;
        }
        p = st__u64_digits(p, (uint64_t)m);
        if (neg)
            *--p = '-';
        return put(b, p, (size_t)(end - p));
    }
#endif
    return st__int_repr(b, v);
}

static int int_repr(st__buf *b, const st_value *v)
{
    int64_t i;
    if (!st__int_small(v, &i))
        return big_repr(b, v);
    if (st__kind(v) == ST_VALUE_BOOL)
        return i ? put(b, "True", 4) : put(b, "False", 5);
    char tmp[24], *end = tmp + sizeof tmp;
    char *p = st__u64_digits(end, i < 0 ? (uint64_t)0 - (uint64_t)i : (uint64_t)i);
    if (i < 0)
        *--p = '-';
    return put(b, p, (size_t)(end - p));
}

/* ---- str and bytes ----------------------------------------------------------------------- */

static const char hexdigits[] = "0123456789abcdef";

/* What a byte may need in a str or bytes repr: SQ and DQ are the quotes (escaped only when
 * they are the chosen quote), ESC bytes are always escaped, HIGH ones start UTF-8 sequences
 * (bytes: always escaped; str: escaped when not printable). */
enum { SQ = 1, DQ = 2, ESC = 4, HIGH = 8 };
#define E4 ESC, ESC, ESC, ESC
#define Z4 0, 0, 0, 0
#define H16 HIGH, HIGH, HIGH, HIGH, HIGH, HIGH, HIGH, HIGH, HIGH, HIGH, HIGH, HIGH, HIGH, HIGH, HIGH, HIGH
static const unsigned char byte_class[256] = {
    E4, E4, E4, E4, E4, E4, E4, E4,           /* 0x00-0x1f */
    0, 0, DQ, 0, 0, 0, 0, SQ, Z4, Z4,         /* 0x20-0x2f */
    Z4, Z4, Z4, Z4, Z4, Z4, Z4, Z4,           /* 0x30-0x4f */
    Z4, Z4, Z4, ESC, 0, 0, 0,                 /* 0x50-0x5f */
    Z4, Z4, Z4, Z4, Z4, Z4, Z4, 0, 0, 0, ESC, /* 0x60-0x7f */
    H16, H16, H16, H16, H16, H16, H16, H16,   /* 0x80-0xff */
};
#undef E4
#undef Z4
#undef H16

static int put_hex_escape(st__buf *b, char kind, uint32_t v, int width)
{
    char o[10];
    o[0] = '\\';
    o[1] = kind;
    for (int i = 0; i < width; i++)
        o[2 + i] = hexdigits[(v >> (4 * (width - 1 - i))) & 0xf];
    return put(b, o, (size_t)width + 2);
}

/* The escape of an ASCII byte that needs one: \\ \t \n \r \' \" or \xNN. */
static int put_ascii_escape(st__buf *b, unsigned c)
{
    char o[2] = {'\\', 0};
    switch (c) {
    case '\t':
        o[1] = 't';
        break;
    case '\n':
        o[1] = 'n';
        break;
    case '\r':
        o[1] = 'r';
        break;
    case '\\':
    case '\'':
    case '"':
        o[1] = (char)c;
        break;
    default:
        return put_hex_escape(b, 'x', c, 2);
    }
    return put(b, o, 2);
}

/* Writes s between quotes, escaping the bytes whose class is in mask. In a str (text) a HIGH
 * byte starts a UTF-8 sequence, kept when printable; in bytes it becomes \xNN. Runs of bytes
 * that print as themselves are copied whole. */
ST__NOINLINE static int put_quoted(st__buf *b, const unsigned char *s, size_t len, char quote,
                                   unsigned mask, int text)
{
    if (putc1(b, quote) < 0)
        return -1;
    size_t run = 0;
    for (size_t i = 0; i < len;) {
        unsigned c = s[i];
        if (!(byte_class[c] & mask)) {
            i++;
            continue;
        }
        if (c < 0x80 || !text) {
            if (put(b, s + run, i - run) < 0 ||
                (c < 0x80 ? put_ascii_escape(b, c) : put_hex_escape(b, 'x', c, 2)) < 0)
                return -1;
            run = ++i;
            continue;
        }
        uint32_t cp;
        size_t n = st__utf8_decode(s + i, len - i, 1, &cp);
        if (!st__unicode_isprintable(cp)) {
            int w = cp <= 0xff ? 2 : cp <= 0xffff ? 4 : 8;
            if (put(b, s + run, i - run) < 0 ||
                put_hex_escape(b, w == 2 ? 'x' : w == 4 ? 'u' : 'U', cp, w) < 0)
                return -1;
            run = i + n;
        }
        i += n;
    }
    if (put(b, s + run, len - run) < 0)
        return -1;
    return putc1(b, quote);
}

/* Writes s quoted as repr() does. It is copied while its bytes are classified, which is all
 * the work when none needs an escape; otherwise put_quoted rewrites it. */
static int put_text(st__buf *b, const unsigned char *s, size_t len, int text, int bytearray)
{
    if (room(b, len + 2) < 0)
        return -1;
    char *w = b->data + b->len + 1;
    unsigned acc = 0;
    for (size_t i = 0; i < len; i++) {
        w[i] = (char)s[i];
        acc |= byte_class[s[i]];
    }
    /* CPython's choice: single quotes unless the text has ' and no "; bytearray's repr
     * escapes every single quote, even inside double quotes */
    char quote = (acc & (SQ | DQ)) == SQ ? '"' : '\'';
    unsigned mask = ESC | HIGH | (quote == '\'' || bytearray ? SQ : DQ);
    if (acc & mask)
        return put_quoted(b, s, len, quote, mask, text);
    w[-1] = quote;
    w[len] = quote;
    b->len += len + 2;
    return 0;
}

/* ---- containers -------------------------------------------------------------------------- */

/* The containers being printed, innermost last: one met again prints as "[...]" etc. */
typedef struct active {
    const st_value *v[ST_VALUE_MAX_DEPTH + 1];
    int n;
} active;

static int repr_value(st__buf *b, const st_value *v, active *act);

/* ", " between items, none before the first. */
static inline int put_sep(st__buf *b, int first)
{
    return first ? 0 : put(b, ", ", 2);
}

static int repr_items(st__buf *b, const st_value *v, active *act)
{
    size_t pos = 0;
    st_value *k, *x;
    switch (st__base_kind(v)) {
    case ST_VALUE_TUPLE:
    case ST_VALUE_LIST: {
        size_t n;
        st_value *const *items = st__items(v, &n);
        for (size_t i = 0; i < n; i++)
            if (put_sep(b, i == 0) < 0 || repr_value(b, items[i], act) < 0)
                return -1;
        return 0;
    }
    case ST_VALUE_DICT:
        for (int first = 1; st__dict_next(v, &pos, &k, &x); first = 0)
            if (put_sep(b, first) < 0 || repr_value(b, k, act) < 0 || put(b, ": ", 2) < 0 ||
                repr_value(b, x, act) < 0)
                return -1;
        return 0;
    default: /* set, frozenset: table order, as CPython iterates */
        for (int first = 1; st__set_next(v, &pos, &k); first = 0)
            if (put_sep(b, first) < 0 || repr_value(b, k, act) < 0)
                return -1;
        return 0;
    }
}

static int recursion_error(void)
{
    return ST_RAISE(ST_ERECURSION,
                    "maximum recursion depth exceeded while getting the repr of an object");
}

/* The dict of a Counter, most common first (the order of Counter.__repr__). */
static int repr_counter_items(st__buf *b, const st_value *v, active *act)
{
    size_t n, *order = st__counter_order(v, &n);
    if (!order)
        return n ? -1 : repr_items(b, v, act);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        size_t pos = order[i];
        st_value *k = NULL, *x = NULL;
        st__dict_next(v, &pos, &k, &x);
        rc = put_sep(b, i == 0) < 0 || repr_value(b, k, act) < 0 || put(b, ": ", 2) < 0 ||
                     repr_value(b, x, act) < 0
                 ? -1
                 : 0;
    }
    free(order);
    return rc;
}

/* OrderedDict({...}), defaultdict(<class 'list'>, {...}), deque([...], maxlen=n) and
 * Counter({...}): a dict's or list's repr inside a call of the type, as collections prints
 * them; a container met again prints as OrderedDict's recursive_repr ("..."), deque's "[...]"
 * or dict's "{...}" inside the call (defaultdict; Python's Counter recurses without end). */
ST__NOINLINE static int repr_collection(st__buf *b, const st_value *v, active *act)
{
    int kind = st__kind(v), list = kind == ST_VALUE_DEQUE, again = 0;
    for (int i = 0; i < act->n; i++)
        again |= act->v[i] == v;
    if (again && kind == ST_VALUE_ORDEREDDICT)
        return put(b, "...", 3);
    if (again && list)
        return put(b, "[...]", 5);
    if (st__buf_puts(b, st_value_type_name(v)) < 0 || putc1(b, '(') < 0)
        return -1;
    if (kind == ST_VALUE_DEFAULTDICT && (st__factory_repr(b, v) < 0 || put(b, ", ", 2) < 0))
        return -1;
    if (st_value_len(v) == 0 && (kind == ST_VALUE_ORDEREDDICT || kind == ST_VALUE_COUNTER))
        return putc1(b, ')');
    if (again)
        return put(b, "{...})", 6);
    if (act->n > ST_VALUE_MAX_DEPTH)
        return recursion_error();
    if (putc1(b, list ? '[' : '{') < 0)
        return -1;
    act->v[act->n++] = v;
    int rc = kind == ST_VALUE_COUNTER ? repr_counter_items(b, v, act) : repr_items(b, v, act);
    act->n--;
    if (rc < 0 || putc1(b, list ? ']' : '}') < 0)
        return -1;
    if (list && st__deque_maxlen(v) >= 0 &&
        st__buf_printf(b, ", maxlen=%td", st__deque_maxlen(v)) < 0)
        return -1;
    return putc1(b, ')');
}

ST__NOINLINE static int repr_container(st__buf *b, const st_value *v, active *act)
{
    static const char open[] = {[ST_VALUE_TUPLE] = '(', [ST_VALUE_LIST] = '[',
                                [ST_VALUE_DICT] = '{', [ST_VALUE_SET] = '{',
                                [ST_VALUE_FROZENSET] = '{'};
    static const char close[] = {[ST_VALUE_TUPLE] = ')', [ST_VALUE_LIST] = ']',
                                 [ST_VALUE_DICT] = '}', [ST_VALUE_SET] = '}',
                                 [ST_VALUE_FROZENSET] = '}'};
    static const char *const empty[] = {[ST_VALUE_TUPLE] = "()", [ST_VALUE_LIST] = "[]",
                                        [ST_VALUE_DICT] = "{}", [ST_VALUE_SET] = "set()",
                                        [ST_VALUE_FROZENSET] = "frozenset()"};
    static const char *const again[] = {[ST_VALUE_TUPLE] = "(...)", [ST_VALUE_LIST] = "[...]",
                                        [ST_VALUE_DICT] = "{...}", [ST_VALUE_SET] = "set(...)",
                                        [ST_VALUE_FROZENSET] = "frozenset(...)"};
    if (st__kind(v) >= ST_VALUE_ORDEREDDICT)
        return repr_collection(b, v, act);
    ptrdiff_t len = st_value_len(v);
    int kind = st__kind(v), frozen = kind == ST_VALUE_FROZENSET;
    if (len == 0)
        return st__buf_puts(b, empty[kind]);
    for (int i = 0; i < act->n; i++)
        if (act->v[i] == v)
            return st__buf_puts(b, again[kind]);
    if (act->n > ST_VALUE_MAX_DEPTH)
        return recursion_error();
    if ((frozen && put(b, "frozenset(", 10) < 0) || putc1(b, open[kind]) < 0)
        return -1;
    act->v[act->n++] = v;
    int rc = repr_items(b, v, act);
    act->n--;
    if (rc < 0 || (kind == ST_VALUE_TUPLE && len == 1 && putc1(b, ',') < 0) ||
        putc1(b, close[kind]) < 0)
        return -1;
    return frozen ? putc1(b, ')') : 0;
}

static int repr_part(st__buf *b, const st_value *v, void *act)
{
    return repr_value(b, v, act);
}

/* A global, object or PickleBuffer; an object met again inside itself prints short. */
ST__NOINLINE static int repr_pickled(st__buf *b, const st_value *v, active *act)
{
    int again = 0;
    for (int i = 0; i < act->n; i++)
        again |= act->v[i] == v;
    if (act->n > ST_VALUE_MAX_DEPTH)
        return ST_RAISE(ST_ERECURSION,
                        "maximum recursion depth exceeded while getting the repr of an object");
    act->v[act->n++] = v;
    int rc = st__object_repr(b, v, again, repr_part, act);
    act->n--;
    return rc;
}

static int repr_value(st__buf *b, const st_value *v, active *act)
{
    size_t len;
    const unsigned char *s;
    switch (st__kind(v)) {
    case ST_VALUE_NONE:
        return put(b, "None", 4);
    case ST_VALUE_BOOL:
    case ST_VALUE_INT:
        return int_repr(b, v);
    case ST_VALUE_FLOAT:
        return st__float_repr(b, st__float_value(v));
    case ST_VALUE_STR:
        s = (const unsigned char *)st__data(v, &len);
        return put_text(b, s, len, 1, 0);
    case ST_VALUE_BYTES:
        s = (const unsigned char *)st__data(v, &len);
        if (putc1(b, 'b') < 0)
            return -1;
        return put_text(b, s, len, 0, 0);
    case ST_VALUE_BYTEARRAY:
        s = (const unsigned char *)st__data(v, &len);
        if (put(b, "bytearray(b", 11) < 0 || put_text(b, s, len, 0, 1) < 0)
            return -1;
        return putc1(b, ')');
    case ST_VALUE_GLOBAL:
    case ST_VALUE_OBJECT:
    case ST_VALUE_PICKLEBUFFER:
        return repr_pickled(b, v, act);
    default:
        return st__is_std(v) ? st__std_repr(b, v) : repr_container(b, v, act);
    }
}

char *st_value_repr(const st_value *v)
{
    st__buf b = ST__BUF_INIT;
    active *act = NULL;
    int rc;
    if (st__kind(v) >= ST_VALUE_TUPLE) {
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
