/* struct/format.c: Python's struct format language. A format compiles to an array of codes (one
 * per run of equal items), which pack.c walks and record.c binds to the members of a C struct.
 * Also the half-precision conversions both use. */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal/mem.h"
#include "internal/struct.h"
#include "systools/value.h"


_Static_assert(FLT_RADIX == 2 && FLT_MANT_DIG == 24 && DBL_MANT_DIG == 53, "IEEE 754 floats required");
_Static_assert(sizeof(_Bool) == 1 && sizeof(long long) == 8, "unsupported native sizes");
_Static_assert(sizeof(short) == 2 && sizeof(int) == 4 && (sizeof(long) == 4 || sizeof(long) == 8) &&
                   (sizeof(size_t) == 4 || sizeof(size_t) == 8) && sizeof(void *) == sizeof(size_t),
               "unsupported native sizes");

/* ---- Format tables ---------------------------------------------------------------------- */

/* Native alignments as CPython measures them: the offset of T after a char in a struct. */
typedef struct { char c; short x; } align_short;
typedef struct { char c; int x; } align_int;
typedef struct { char c; long x; } align_long;
typedef struct { char c; long long x; } align_llong;
typedef struct { char c; size_t x; } align_size;
typedef struct { char c; void *x; } align_ptr;
typedef struct { char c; float x; } align_float;
typedef struct { char c; double x; } align_double;
typedef struct { char c; _Bool x; } align_bool;
#define ALIGN(T) ((uint8_t)offsetof(align_##T, x))

#define OP_PAD 0xff /* 'x': occupies bytes, has no code */

#define LONG_OP (sizeof(long) == 8 ? ST__OP_LONG64 : ST__OP_LONG32)
#define ULONG_OP (sizeof(long) == 8 ? ST__OP_ULONG64 : ST__OP_ULONG32)

typedef struct fmtdef {
    char letter;
    uint8_t op;
    uint8_t size;
    uint8_t align;
} fmtdef;

static const fmtdef native_table[] = {
    {'x', OP_PAD, 1, 0},
    {'c', ST__OP_CHAR, 1, 0},
    {'b', ST__OP_INT8, 1, 0},
    {'B', ST__OP_UINT8, 1, 0},
    {'?', ST__OP_BOOL, sizeof(_Bool), ALIGN(bool)},
    {'h', ST__OP_INT16, sizeof(short), ALIGN(short)},
    {'H', ST__OP_UINT16, sizeof(short), ALIGN(short)},
    {'i', ST__OP_INT32, sizeof(int), ALIGN(int)},
    {'I', ST__OP_UINT32, sizeof(int), ALIGN(int)},
    {'l', LONG_OP, sizeof(long), ALIGN(long)},
    {'L', ULONG_OP, sizeof(long), ALIGN(long)},
    {'q', ST__OP_LLONG, sizeof(long long), ALIGN(llong)},
    {'Q', ST__OP_ULLONG, sizeof(long long), ALIGN(llong)},
    {'n', ST__OP_SSIZE, sizeof(size_t), ALIGN(size)},
    {'N', ST__OP_SIZE, sizeof(size_t), ALIGN(size)},
    {'P', ST__OP_PTR, sizeof(void *), ALIGN(ptr)},
    {'e', ST__OP_HALF, 2, ALIGN(short)},
    {'f', ST__OP_NFLOAT, sizeof(float), ALIGN(float)},
    {'d', ST__OP_DOUBLE, sizeof(double), ALIGN(double)},
    {'s', ST__OP_STR, 1, 0},
    {'p', ST__OP_PSTR, 1, 0},
    {0, 0, 0, 0},
};

/* Standard sizes ('=', '<', '>', '!'): no alignment, and no n, N or P. */
static const fmtdef std_table[] = {
    {'x', OP_PAD, 1, 0},
    {'c', ST__OP_CHAR, 1, 0},
    {'b', ST__OP_INT8, 1, 0},
    {'B', ST__OP_UINT8, 1, 0},
    {'?', ST__OP_BOOL, 1, 0},
    {'h', ST__OP_INT16, 2, 0},
    {'H', ST__OP_UINT16, 2, 0},
    {'i', ST__OP_INT32, 4, 0},
    {'I', ST__OP_UINT32, 4, 0},
    {'l', ST__OP_LONG32, 4, 0},
    {'L', ST__OP_ULONG32, 4, 0},
    {'q', ST__OP_LLONG, 8, 0},
    {'Q', ST__OP_ULLONG, 8, 0},
    {'e', ST__OP_HALF, 2, 0},
    {'f', ST__OP_FLOAT, 4, 0},
    {'d', ST__OP_DOUBLE, 8, 0},
    {'s', ST__OP_STR, 1, 0},
    {'p', ST__OP_PSTR, 1, 0},
    {0, 0, 0, 0},
};

static bool is_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

ssize_t st__struct_compile(const char *format, st__struct_code *codes, size_t cap, st__struct_layout *out)
{
    if (!format)
        return ST_RAISE(ST_ETYPE, "Struct() argument 1 must be a str or bytes object, not NoneType");
    const char *s = format;
    const fmtdef *table = std_table;
    bool little = st__host_is_little();
    switch (*s) {
    case '<':
        little = true;
        s++;
        break;
    case '>':
    case '!':
        little = false;
        s++;
        break;
    case '=':
        s++;
        break;
    case '@':
        s++;
        /* fall through */
    default:
        table = native_table;
    }

    size_t size = 0, nitems = 0, ncodes = 0;
    bool zero_fill = false;
    char c;
    while ((c = *s++) != '\0') {
        if (is_space(c))
            continue;
        size_t num = 1;
        if (c >= '0' && c <= '9') {
            num = (size_t)(c - '0');
            while ((c = *s++) >= '0' && c <= '9') {
                if (num > ((size_t)SSIZE_MAX - (size_t)(c - '0')) / 10)
                    return ST__STRUCT_ERROR("total struct size too long");
                num = num * 10 + (size_t)(c - '0');
            }
            if (c == '\0')
                return ST__STRUCT_ERROR("repeat count given without format specifier");
        }
        const fmtdef *e = table;
        while (e->letter && e->letter != c)
            e++;
        if (!e->letter)
            return ST__STRUCT_ERROR("bad char in struct format");

        /* Native alignment applies even to a zero count: "0l" aligns the end of a record. */
        if (e->align && size > 0) {
            size_t extra = (e->align - 1) - (size - 1) % e->align;
            if (extra > (size_t)SSIZE_MAX - size)
                return ST__STRUCT_ERROR("total struct size too long");
            zero_fill |= extra > 0;
            size += extra;
        }
        if (num > ((size_t)SSIZE_MAX - size) / e->size)
            return ST__STRUCT_ERROR("total struct size too long");

        if (e->op == OP_PAD) {
            zero_fill |= num > 0;
        } else if (num > 0 || e->op == ST__OP_STR || e->op == ST__OP_PSTR) {
            bool text = e->op == ST__OP_STR || e->op == ST__OP_PSTR;
            if (ncodes < cap) {
                st__struct_code *k = &codes[ncodes];
                k->op = e->op;
                k->letter = (uint8_t)c;
                k->offset = size;
                k->count = text ? 1 : num;
                k->size = text ? num : e->size;
            }
            ncodes++;
            nitems += text ? 1 : num;
        }
        size += num * e->size;
    }
    out->size = size;
    out->nitems = nitems;
    out->ncodes = ncodes;
    out->swap = little != st__host_is_little();
    out->zero_fill = zero_fill;
    out->codes = codes;
    return (ssize_t)ncodes;
}

/* ---- Compiled formats --------------------------------------------------------------------- */

ssize_t st_struct_calcsize(const char *format)
{
    st__struct_layout layout;
    if (st__struct_compile(format, NULL, 0, &layout) < 0)
        return ST_TRACE();
    return (ssize_t)layout.size;
}

st_struct *st_struct_new(const char *format)
{
    st__struct_layout layout;
    ssize_t n = st__struct_compile(format, NULL, 0, &layout);
    if (n < 0)
        return (ST_TRACE(), NULL);
    size_t flen = strlen(format) + 1;
    st_struct *s = st__malloc(sizeof *s + (size_t)n * sizeof s->codes[0] + flen);
    if (!s)
        return (ST_TRACE(), NULL);
    st__struct_compile(format, s->codes, (size_t)n, &s->layout);
    s->format = (char *)(s->codes + n);
    memcpy(s->format, format, flen);
    return s;
}

size_t st_struct_size(const st_struct *s) { return s->layout.size; }

const char *st_struct_format(const st_struct *s) { return s->format; }

void st_struct_free(st_struct *s) { free(s); }

ST__COLD int st__struct_float_overflow(char letter)
{
    return ST_RAISE(ST_EOVERFLOW, "float too large to pack with %c format", letter);
}

/* CPython's PyFloat_Pack2: round half to even, overflow is OverflowError, NaN keeps its sign. */
int st__float_pack2(double x, unsigned char out[2], int little_endian)
{
    unsigned sign, bits;
    int e;
    if (x == 0.0) {
        sign = signbit(x) != 0;
        e = 0;
        bits = 0;
    } else if (isinf(x)) {
        sign = x < 0.0;
        e = 0x1f;
        bits = 0;
    } else if (isnan(x)) {
        sign = signbit(x) != 0;
        e = 0x1f;
        bits = 512;
    } else {
        sign = x < 0.0;
        double f = frexp(sign ? -x : x, &e) * 2.0; /* f in [1, 2) */
        e--;
        if (e >= 16)
            return st__struct_float_overflow('e');
        if (e < -25) { /* below half the smallest subnormal: zero */
            f = 0.0;
            e = 0;
        } else if (e < -14) { /* subnormal */
            f = ldexp(f, 14 + e);
            e = 0;
        } else {
            e += 15;
            f -= 1.0;
        }
        f *= 1024.0;
        bits = (unsigned)f;
        if (f - bits > 0.5 || (f - bits == 0.5 && bits % 2 == 1)) {
            if (++bits == 1024) { /* the carry ran out of the mantissa */
                bits = 0;
                if (++e == 31)
                    return st__struct_float_overflow('e');
            }
        }
    }
    bits |= (unsigned)e << 10 | sign << 15;
    out[little_endian ? 0 : 1] = (unsigned char)(bits & 0xff);
    out[little_endian ? 1 : 0] = (unsigned char)(bits >> 8);
    return 0;
}

double st__float_unpack2(const unsigned char in[2], int little_endian)
{
    unsigned bits = (unsigned)in[little_endian ? 1 : 0] << 8 | in[little_endian ? 0 : 1];
    int sign = bits >> 15, e = (int)(bits >> 10) & 0x1f;
    unsigned f = bits & 0x3ff;
    if (e == 0x1f)
        return f == 0 ? (sign ? -HUGE_VAL : HUGE_VAL) : copysign(NAN, sign ? -1.0 : 1.0);
    double x = (double)f / 1024.0;
    if (e == 0) {
        e = -14;
    } else {
        x += 1.0;
        e -= 15;
    }
    x = ldexp(x, e);
    return sign ? -x : x;
}
