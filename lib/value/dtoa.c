/* value: repr() of a float, as CPython 3.13's float_repr prints it.
 *
 * The digits are the shortest decimal that reads back as the same double, and among those the
 * closest (what David Gay's dtoa gives CPython in mode 0). They come from Raffaello Giulietti's
 * Schubfach algorithm ("The Schubfach way to render doubles", 2021): one 64x128-bit multiply
 * per bound with a round-to-odd product, exact for every double, no bignum fallback. Integer
 * arithmetic only: x87's excess precision (i386) cannot touch it, so unlike CPython's dtoa it
 * needs no 53-bit FPU control word. */
#include <stdint.h>
#include <string.h>

#include "internal/value.h"

/* The two-digit strings "00".."99", for writing digits in pairs. */
static const char pairs[201] = "00010203040506070809101112131415161718192021222324"
                               "25262728293031323334353637383940414243444546474849"
                               "50515253545556575859606162636465666768697071727374"
                               "75767778798081828384858687888990919293949596979899";

/* 10**0 .. 10**16 */
static const uint64_t pow10_u64[17] = {
    1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000, 10000000000,
    100000000000, 1000000000000, 10000000000000, 100000000000000, 1000000000000000,
    10000000000000000};

/* 10**e for e = POW10_MIN.., as a 128-bit over-approximation (see tests/gen/gen_value.py). */
#define POW10_MIN (-292)
static const uint64_t pow10_128[][2] = {
#include "pow10.inc"
};

/* These floor() logarithms are exact over the exponents of doubles (tests/gen/gen_value.py
 * checks each against exact arithmetic); >> of a negative int is arithmetic on every
 * supported compiler. */
static int floor_log10_pow2(int e) { return (e * 1262611) >> 22; }
static int floor_log10_three_quarters_pow2(int e) { return (e * 1262611 - 524031) >> 22; }
static int floor_log2_pow10(int e) { return (e * 1741647) >> 19; }

/* floor(g * cp / 2**128), with the lowest bit set when the exact product has a fraction:
 * Schubfach's round to odd. g over-approximates by less than 1, so a fraction below 2 units of
 * 2**64 is the error, not the value (the paper proves the exact fraction is 0 or larger). */
static uint64_t round_to_odd(const uint64_t g[2], uint64_t cp)
{
#ifdef __SIZEOF_INT128__
    __extension__ typedef unsigned __int128 u128;
    u128 x = (u128)g[1] * cp;
    u128 y = (u128)g[0] * cp + (uint64_t)(x >> 64);
    uint64_t y1 = (uint64_t)(y >> 64), y0 = (uint64_t)y;
#else
    /* Portable 64x64->128 multiplies in 32-bit halves. */
    uint64_t c_lo = cp & 0xffffffffu, c_hi = cp >> 32, hi[2], lo[2];
    for (int i = 0; i < 2; i++) {
        uint64_t a_lo = g[i] & 0xffffffffu, a_hi = g[i] >> 32;
        uint64_t ll = a_lo * c_lo, lh = a_lo * c_hi, hl = a_hi * c_lo, hh = a_hi * c_hi;
        uint64_t mid = (ll >> 32) + (lh & 0xffffffffu) + (hl & 0xffffffffu);
        lo[i] = (mid << 32) | (ll & 0xffffffffu);
        hi[i] = hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
    }
    uint64_t y0 = lo[0] + hi[1];
    uint64_t y1 = hi[0] + (y0 < hi[1]);
#endif
    return y1 | (y0 > 1);
}

/* The shortest round-trip decimal of the finite double with these exponent and fraction fields
 * (not both 0), as digits * 10**exp10 (the digits may end in zeros). */
static uint64_t shortest(unsigned field_e, uint64_t field_m, int *exp10)
{
    uint64_t c = field_e ? field_m | (UINT64_C(1) << 52) : field_m;
    int q = field_e ? (int)field_e - 1075 : -1074;
    /* Integers below 2**53: their rounding interval holds no other decimal as short. */
    if (q <= 0 && q >= -52 && !(c & ((UINT64_C(1) << -q) - 1))) {
        *exp10 = 0;
        return c >> -q;
    }
    /* The rounding interval, times 4 / 2**q: [cbl, cbr], closed when c is even; at a power of
     * two the next double down is nearer, so the interval is narrower below. */
    int even = !(c & 1), closer = field_m == 0 && field_e > 1;
    uint64_t cbl = 4 * c - 2 + (uint64_t)closer, cb = 4 * c, cbr = 4 * c + 2;
    /* 10**k is the unit that makes the interval between 1 and 10 units wide: it then holds at
     * most one multiple of 10 units (a digit shorter) and at least one integer. */
    int k = closer ? floor_log10_three_quarters_pow2(q) : floor_log10_pow2(q);
    int h = q + floor_log2_pow10(-k) + 1; /* 1..4 */
    const uint64_t *g = pow10_128[-k - POW10_MIN];
    uint64_t vbl = round_to_odd(g, cbl << h), vb = round_to_odd(g, cb << h),
             vbr = round_to_odd(g, cbr << h);
    /* vb = 4 * v / 10**k and the bounds likewise, to within round to odd */
    uint64_t lower = vbl + !even, upper = vbr - !even;
    uint64_t s = vb / 4;
    if (s >= 10) {
        uint64_t sp = s / 10;
        int up_inside = lower <= 40 * sp, wp_inside = 40 * sp + 40 <= upper;
        if (up_inside != wp_inside) {
            *exp10 = k + 1;
            return sp + (uint64_t)wp_inside;
        }
    }
    int u_inside = lower <= 4 * s, w_inside = 4 * s + 4 <= upper;
    *exp10 = k;
    if (u_inside != w_inside)
        return s + (uint64_t)w_inside;
    /* both are inside: the nearer, ties to even */
    uint64_t mid = 4 * s + 2;
    return s + (uint64_t)(vb > mid || (vb == mid && (s & 1)));
}

/* Pairs of digits, and 32-bit arithmetic below 10**8 (cheaper than 64-bit). */
char *st__u64_digits(char *end, uint64_t x)
{
    while (x >= 100000000) {
        uint32_t lo = (uint32_t)(x % 100000000);
        x /= 100000000;
        for (int i = 0; i < 4; i++) {
            end -= 2;
            memcpy(end, pairs + 2 * (lo % 100), 2);
            lo /= 100;
        }
    }
    uint32_t y = (uint32_t)x;
    while (y >= 100) {
        end -= 2;
        memcpy(end, pairs + 2 * (y % 100), 2);
        y /= 100;
    }
    if (y >= 10) {
        end -= 2;
        memcpy(end, pairs + 2 * y, 2);
    } else {
        *--end = (char)('0' + y);
    }
    return end;
}

int st__float_repr(st__buf *out, double d)
{
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    unsigned field_e = (unsigned)(bits >> 52) & 0x7ff;
    uint64_t field_m = bits & ((UINT64_C(1) << 52) - 1);
    int neg = (int)(bits >> 63);
    if (field_e == 0x7ff)
        return st__buf_puts(out, field_m ? "nan" : neg ? "-inf" : "inf");
    /* the longest text is "-" + 17 digits + "." + "e-308" (or "0.000" + 17 digits), under 32 */
    if (out->cap - out->len < 32 && st__buf_reserve(out, 32) < 0)
        return -1;
    char *w = out->data + out->len;
    if (neg)
        *w++ = '-';
    if (field_e == 0 && field_m == 0) {
        memcpy(w, "0.0", 4);
        out->len = (size_t)(w + 3 - out->data);
        return 0;
    }
    int e;
    uint64_t s = shortest(field_e, field_m, &e);
    /* drop trailing zeros (at most 16) in steps of 16, 8, 4, 2 and 1 */
    for (int z = 16; z > 0; z /= 2) {
        uint64_t p10 = pow10_u64[z];
        if (s % p10 == 0) {
            s /= p10;
            e += z;
        }
    }
    char dg[24], *end = dg + sizeof dg, *p = st__u64_digits(end, s);
    int n = (int)(end - p);
    int decpt = n + e; /* the value is 0.DIGITS * 10**decpt */
    /* CPython's float_repr ('r' format): scientific unless -4 < decpt <= 16 */
    if (decpt <= -4 || decpt > 16) {
        int x = decpt - 1;
        *w++ = p[0];
        if (n > 1) {
            *w++ = '.';
            memcpy(w, p + 1, (size_t)n - 1);
            w += n - 1;
        }
        *w++ = 'e';
        *w++ = x < 0 ? '-' : '+';
        if (x < 0)
            x = -x;
        if (x >= 100)
            *w++ = (char)('0' + x / 100);
        memcpy(w, pairs + 2 * (x % 100), 2);
        w += 2;
    } else if (decpt <= 0) {
        memcpy(w, "0.000", 2 + (size_t)-decpt);
        w += 2 - decpt;
        memcpy(w, p, (size_t)n);
        w += n;
    } else if (decpt >= n) {
        memcpy(w, p, (size_t)n);
        memset(w + n, '0', (size_t)(decpt - n));
        w += decpt;
        memcpy(w, ".0", 2);
        w += 2;
    } else {
        memcpy(w, p, (size_t)decpt);
        w += decpt;
        *w++ = '.';
        memcpy(w, p + decpt, (size_t)(n - decpt));
        w += n - decpt;
    }
    *w = '\0';
    out->len = (size_t)(w - out->data);
    return 0;
}
