/* value: ints beyond int64 as sign + magnitude in 32-bit limbs (least significant first), and
 * the int conversions every int needs (text, bytes, hash). Ints that fit in int64 always use
 * the int64 form, so two equal ints always have the same form. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/value.h"

/* CPython's default sys.int_max_str_digits. */
#define MAX_STR_DIGITS 4300

/* A magnitude borrowed from an int of either form. */
typedef struct mag {
    const uint32_t *d;
    size_t n;
    int neg;
    uint32_t small[2];
} mag;

static void get_mag(const st_value *v, mag *m)
{
    int64_t i;
    if (!st__int_small(v, &i)) {
        m->d = st__int_mag(v, &m->n, &m->neg);
        return;
    }
    uint64_t a = i < 0 ? (uint64_t)0 - (uint64_t)i : (uint64_t)i;
    m->small[0] = (uint32_t)a;
    m->small[1] = (uint32_t)(a >> 32);
    m->d = m->small;
    m->n = a >> 32 ? 2 : a ? 1 : 0;
    m->neg = i < 0;
}

st_value *st__int_from_mag(uint32_t *d, size_t n, int neg)
{
    while (n && !d[n - 1])
        n--;
    if (n <= 2) {
        uint64_t a = n ? d[0] : 0;
        if (n == 2)
            a |= (uint64_t)d[1] << 32;
        if (a <= INT64_MAX || (neg && a == (uint64_t)1 << 63)) {
            free(d);
            return st_value_int(neg ? (int64_t)((uint64_t)0 - a) : (int64_t)a);
        }
    }
    st_value *v = st__int_big_new(d, n, neg);
    free(d);
    return v;
}

static st_value *copy_mag(const mag *m, int neg)
{
    uint32_t *d = st__malloc((m->n ? m->n : 1) * sizeof *d);
    if (!d)
        return NULL;
    if (m->n)
        memcpy(d, m->d, m->n * sizeof *d);
    return st__int_from_mag(d, m->n, neg);
}

st_value *st__int_negate(const st_value *v)
{
    mag m;
    get_mag(v, &m);
    return copy_mag(&m, !m.neg && m.n);
}

static int digit_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'Z')
        return c - 'A' + 10;
    return 99;
}

st_value *st__int_from_digits(const char *s, size_t len, int base, int neg)
{
    size_t ndigits = 0;
    for (size_t i = 0; i < len; i++)
        ndigits += s[i] != '_';
    int shift = base == 2 ? 1 : base == 4 ? 2 : base == 8 ? 3 : base == 16 ? 4 : base == 32 ? 5 : 0;
    if (!shift && ndigits > MAX_STR_DIGITS)
        return (ST_RAISE(ST_EVALUE,
                         "Exceeds the limit (%d digits) for integer string conversion: value has "
                         "%zu digits; use sys.set_int_max_str_digits() to increase the limit",
                         MAX_STR_DIGITS, ndigits),
                NULL);
    size_t cap = shift ? (ndigits * (size_t)shift) / 32 + 1 : ndigits / 9 + 2;
    uint32_t *d = st__calloc(cap, sizeof *d);
    if (!d)
        return NULL;
    size_t n = 0;
    if (shift) {
        /* Power-of-two base: place bits from the least significant digit up, linear time. */
        size_t bit = 0;
        for (size_t i = len; i-- > 0;) {
            if (s[i] == '_')
                continue;
            uint64_t dv = (uint64_t)digit_value(s[i]) << (bit % 32);
            d[bit / 32] |= (uint32_t)dv;
            if (dv >> 32)
                d[bit / 32 + 1] |= (uint32_t)(dv >> 32);
            bit += (size_t)shift;
        }
        n = cap;
    } else {
        /* Multiply-add a chunk of digits at a time: quadratic, bounded by the digit limit. */
        uint32_t chunk_mul = 1, chunk = 0;
        for (size_t i = 0; i <= len; i++) {
            int last = i == len;
            if (!last && s[i] == '_')
                continue;
            if (!last) {
                chunk = chunk * (uint32_t)base + (uint32_t)digit_value(s[i]);
                chunk_mul *= (uint32_t)base;
            }
            if ((last && chunk_mul > 1) || chunk_mul > UINT32_MAX / (uint32_t)base / 36) {
                uint64_t carry = chunk;
                for (size_t k = 0; k < n; k++) {
                    uint64_t t = (uint64_t)d[k] * chunk_mul + carry;
                    d[k] = (uint32_t)t;
                    carry = t >> 32;
                }
                if (carry)
                    d[n++] = (uint32_t)carry;
                chunk = 0;
                chunk_mul = 1;
            }
        }
    }
    return st__int_from_mag(d, n, neg);
}

/* Python's whitespace for int(): ASCII space, \t\n\v\f\r and the info separators. */
static int is_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f); }

st_value *st_value_int_from_string(const char *text, int base)
{
    if (base != 0 && (base < 2 || base > 36))
        return (ST_RAISE(ST_EVALUE, "int() base must be >= 2 and <= 36, or 0"), NULL);
    const char *s = text, *end = text + strlen(text);
    while (s < end && is_space(*s))
        s++;
    while (end > s && is_space(end[-1]))
        end--;
    int neg = 0;
    if (s < end && (*s == '+' || *s == '-'))
        neg = *s++ == '-';
    int b = base;
    if (s + 1 < end && s[0] == '0') {
        char p = (char)(s[1] | 0x20);
        int pb = p == 'x' ? 16 : p == 'o' ? 8 : p == 'b' ? 2 : 0;
        if (pb && (base == 0 || base == pb)) {
            b = pb;
            s += 2;
            if (s < end && *s == '_')
                s++; /* one underscore may follow the prefix */
        }
    }
    int leading_zero_ok = 1;
    if (b == 0) {
        b = 10;
        /* base 0: a decimal with leading zeros must be all zeros */
        for (const char *q = s; q < end; q++)
            if (*q != '0' && *q != '_')
                leading_zero_ok = s[0] != '0';
    }
    int ok = s < end && *s != '_' && end[-1] != '_' && leading_zero_ok;
    for (const char *q = s; ok && q < end; q++)
        ok = (*q == '_' && q[1] != '_') || digit_value(*q) < b;
    if (!ok) {
        st_value *t = st_value_str(text);
        char *r = t ? st_value_repr(t) : NULL;
        st_value_unref(t);
        ST_RAISE(ST_EVALUE, "invalid literal for int() with base %d: %s", base, r ? r : "?");
        st_free(r);
        return NULL;
    }
    st_value *v = st__int_from_digits(s, (size_t)(end - s), b, neg);
    return v ? v : (ST_TRACE(), NULL);
}

/* Divides the magnitude in place by `by`, returning the remainder. */
static uint32_t divmod_small(uint32_t *d, size_t *n, uint32_t by)
{
    uint64_t rem = 0;
    for (size_t i = *n; i-- > 0;) {
        uint64_t cur = (rem << 32) | d[i];
        d[i] = (uint32_t)(cur / by);
        rem = cur % by;
    }
    while (*n && !d[*n - 1])
        (*n)--;
    return (uint32_t)rem;
}

static int too_many_digits(void)
{
    return ST_RAISE(ST_EVALUE, "Exceeds the limit (%d digits) for integer string conversion; "
                               "use sys.set_int_max_str_digits() to increase the limit",
                    MAX_STR_DIGITS);
}

int st__int_repr(st__buf *out, const st_value *v)
{
    char tmp[24], *end = tmp + sizeof tmp, *p;
    int64_t small;
    if (st__int_small(v, &small)) {
        if (st__kind(v) == ST_VALUE_BOOL)
            return st__buf_puts(out, small ? "True" : "False");
        p = st__u64_digits(end, small < 0 ? (uint64_t)0 - (uint64_t)small : (uint64_t)small);
        if (small < 0)
            *--p = '-';
        return st__buf_append(out, p, (size_t)(end - p));
    }
    size_t n;
    int neg;
    const uint32_t *limbs = st__int_mag(v, &n, &neg);
    /* (n-1) full limbs already give more than the limit's digits: refuse before working. */
    if ((double)(n - 1) * 32 * 0.30102999566398120 >= MAX_STR_DIGITS)
        return too_many_digits();
    /* Ints of up to 512 bits (the usual ones) need no allocation. */
    uint32_t dsmall[16], csmall[20];
    size_t nchunks = n * 32 / 29 + 2; /* 10^9 > 2^29 */
    uint32_t *d = n <= 16 ? dsmall : st__malloc(n * sizeof *d);
    uint32_t *chunks = n <= 16 ? csmall : st__malloc(nchunks * sizeof *chunks);
    int rc = 0;
    if (!d || !chunks) {
        rc = ST_TRACE();
        goto done;
    }
    memcpy(d, limbs, n * sizeof *d);
    size_t nc = 0;
    while (n)
        chunks[nc++] = divmod_small(d, &n, 1000000000u);
    p = st__u64_digits(end, chunks[nc - 1]);
    if ((size_t)(end - p) + 9 * (nc - 1) > MAX_STR_DIGITS) {
        rc = too_many_digits();
        goto done;
    }
    if (neg)
        *--p = '-';
    rc = st__buf_reserve(out, (size_t)(end - p) + 9 * nc);
    if (rc == 0) {
        st__buf_append(out, p, (size_t)(end - p));
        for (size_t i = nc - 1; i-- > 0;) {
            char *q = st__u64_digits(end, chunks[i]);
            while (end - q < 9)
                *--q = '0';
            st__buf_append(out, q, 9);
        }
    }
done:
    if (d != dsmall)
        free(d);
    if (chunks != csmall)
        free(chunks);
    return rc;
}

int64_t st__int_hash(const st_value *v)
{
    mag m;
    get_mag(v, &m);
    uint64_t x = 0;
    for (size_t i = m.n; i-- > 0;) {
        /* x * 2^32 mod (2^61 - 1) is a rotation within 61 bits */
        x = ((x << 32) & ST__HASH_MODULUS) | (x >> (ST__HASH_BITS - 32));
        x += m.d[i];
        if (x >= ST__HASH_MODULUS)
            x -= ST__HASH_MODULUS;
    }
    int64_t h = m.neg ? -(int64_t)x : (int64_t)x;
    return h == -1 ? -2 : h;
}

int st__int_equal(const st_value *a, const st_value *b)
{
    int64_t x, y;
    if (st__int_small(a, &x) && st__int_small(b, &y))
        return x == y;
    mag ma, mb; /* both big, or of different forms (then not equal: the sizes differ) */
    get_mag(a, &ma);
    get_mag(b, &mb);
    return ma.neg == mb.neg && ma.n == mb.n && memcmp(ma.d, mb.d, ma.n * sizeof *ma.d) == 0;
}

/* Compares two magnitudes: -1, 0 or 1. */
static int mag_cmp(const uint32_t *a, size_t na, const uint32_t *b, size_t nb)
{
    if (na != nb)
        return na < nb ? -1 : 1;
    for (size_t i = na; i-- > 0;)
        if (a[i] != b[i])
            return a[i] < b[i] ? -1 : 1;
    return 0;
}

int st__int_compare(const st_value *a, const st_value *b)
{
    int64_t x, y;
    if (st__int_small(a, &x) && st__int_small(b, &y))
        return (x > y) - (x < y);
    mag ma, mb;
    get_mag(a, &ma);
    get_mag(b, &mb);
    if (ma.neg != mb.neg)
        return ma.neg ? -1 : 1;
    int c = mag_cmp(ma.d, ma.n, mb.d, mb.n);
    return ma.neg ? -c : c;
}

int st__int_compare_double(const st_value *v, double d)
{
    if (isnan(d))
        return 2;
    if (isinf(d))
        return d > 0 ? -1 : 1;
    int64_t i;
    if (st__int_small(v, &i)) {
        if (d >= 9223372036854775808.0 || d < -9223372036854775808.0) /* beyond int64 */
            return d > 0 ? -1 : 1;
        /* exact: i < d exactly when i < ceil(d), i > d when i > floor(d) */
        return i < (int64_t)ceil(d) ? -1 : i > (int64_t)floor(d) ? 1 : 0;
    }
    mag m; /* a big int: beyond int64, so beyond any double under 2^63 */
    get_mag(v, &m);
    if ((d < 0) != (m.neg != 0) || fabs(d) < 9223372036854775808.0)
        return m.neg ? -1 : 1;
    int e;
    double f = frexp(fabs(d), &e); /* |d| = f * 2^e, f in [0.5, 1), e >= 64: an integer */
    uint64_t mant = (uint64_t)ldexp(f, 53);
    int shift = e - 53;
    uint32_t limbs[(1024 + 31) / 32];
    size_t n = ((size_t)e + 31) / 32;
    for (size_t k = 0; k < n; k++) { /* limb k of mant << shift */
        long lo = (long)k * 32 - shift;
        limbs[k] = lo <= -32 || lo >= 64 ? 0
                   : lo < 0              ? (uint32_t)(mant << -lo)
                                         : (uint32_t)(mant >> lo);
    }
    int c = mag_cmp(m.d, m.n, limbs, n);
    return m.neg ? -c : c;
}

int st__int_equal_double(const st_value *v, double d) { return st__int_compare_double(v, d) == 0; }

static int need_int(const st_value *v)
{
    if (st__kind(v) == ST_VALUE_INT || st__kind(v) == ST_VALUE_BOOL)
        return 0;
    return ST_RAISE(ST_ETYPE, "'%s' object cannot be interpreted as an integer", st_value_type_name(v));
}

size_t st_value_int_bit_length(const st_value *v)
{
    if (need_int(v) < 0)
        return (size_t)-1;
    mag m;
    get_mag(v, &m);
    if (!m.n)
        return 0;
    size_t bits = (m.n - 1) * 32;
    for (uint32_t top = m.d[m.n - 1]; top; top >>= 1)
        bits++;
    return bits;
}

st_value *st_value_int_from_bytes(const void *data, size_t len, int is_signed)
{
    const unsigned char *p = data;
    int neg = is_signed && len && (p[len - 1] & 0x80);
    size_t n = (len + 3) / 4;
    uint32_t *d = st__calloc(n ? n : 1, sizeof *d);
    if (!d)
        return (ST_TRACE(), NULL);
    unsigned carry = 1;
    for (size_t i = 0; i < len; i++) {
        unsigned byte = p[i];
        if (neg) { /* magnitude of a two's complement negative: invert and add one */
            byte = (~byte & 0xff) + carry;
            carry = byte >> 8;
            byte &= 0xff;
        }
        d[i / 4] |= (uint32_t)byte << (8 * (i % 4));
    }
    return st__int_from_mag(d, n, neg);
}

int st_value_int_to_bytes(const st_value *v, void *out, size_t len, int is_signed)
{
    if (need_int(v) < 0)
        return ST_TRACE();
    mag m;
    get_mag(v, &m);
    if (m.neg && !is_signed)
        return ST_RAISE(ST_EOVERFLOW, "can't convert negative int to unsigned");
    unsigned char *p = out;
    for (size_t i = 0; i < m.n * 4; i++) {
        unsigned char byte = (unsigned char)(m.d[i / 4] >> (8 * (i % 4)));
        if (i < len)
            p[i] = byte;
        else if (byte)
            return ST_RAISE(ST_EOVERFLOW, "int too big to convert");
    }
    for (size_t i = m.n * 4; i < len; i++)
        p[i] = 0;
    if (m.neg) {
        unsigned carry = 1;
        for (size_t i = 0; i < len; i++) {
            unsigned byte = (~p[i] & 0xffu) + carry;
            carry = byte >> 8;
            p[i] = (unsigned char)byte;
        }
    }
    if (is_signed && m.n && (len == 0 || ((p[len - 1] & 0x80) != 0) != m.neg))
        return ST_RAISE(ST_EOVERFLOW, "int too big to convert");
    return 0;
}
