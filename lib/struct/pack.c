/* struct/pack.c: packing and unpacking with a compiled format. Pack and unpack walk the array
 * of codes once, reading C arguments straight from the va_list (or from an item array for the
 * value path), with no allocation. */
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

/* ---- Scalars ------------------------------------------------------------------------------ */

static ST__INLINE void store(unsigned char *p, uint64_t v, unsigned width, bool swap)
{
    switch (width) {
    case 1:
        *p = (unsigned char)v;
        break;
    case 2: {
        uint16_t x = (uint16_t)v;
        x = swap ? ST__BSWAP16(x) : x;
        memcpy(p, &x, 2);
        break;
    }
    case 4: {
        uint32_t x = (uint32_t)v;
        x = swap ? ST__BSWAP32(x) : x;
        memcpy(p, &x, 4);
        break;
    }
    default: {
        uint64_t x = swap ? ST__BSWAP64(v) : v;
        memcpy(p, &x, 8);
        break;
    }
    }
}

static ST__INLINE uint64_t load(const unsigned char *p, unsigned width, bool swap)
{
    switch (width) {
    case 1:
        return *p;
    case 2: {
        uint16_t x;
        memcpy(&x, p, 2);
        return swap ? ST__BSWAP16(x) : x;
    }
    case 4: {
        uint32_t x;
        memcpy(&x, p, 4);
        return swap ? ST__BSWAP32(x) : x;
    }
    default: {
        uint64_t x;
        memcpy(&x, p, 8);
        return swap ? ST__BSWAP64(x) : x;
    }
    }
}

static ST__INLINE int64_t load_signed(const unsigned char *p, unsigned width, bool swap)
{
    /* Through the exact-width type: sign extension in one instruction, and no
     * implementation-defined conversion (intN_t is two's complement). */
    uint64_t u = load(p, width, swap);
    switch (width) {
    case 1: {
        uint8_t x = (uint8_t)u;
        int8_t v;
        memcpy(&v, &x, 1);
        return v;
    }
    case 2: {
        uint16_t x = (uint16_t)u;
        int16_t v;
        memcpy(&v, &x, 2);
        return v;
    }
    case 4: {
        uint32_t x = (uint32_t)u;
        int32_t v;
        memcpy(&v, &x, 4);
        return v;
    }
    default: {
        int64_t v;
        memcpy(&v, &u, 8);
        return v;
    }
    }
}

static ST__COLD int range_error(const st__struct_code *c, bool is_signed)
{
    unsigned bits = 8u * (unsigned)c->size;
    if (c->op == ST__OP_CHAR)
        return ST__STRUCT_ERROR("char format requires a bytes object of length 1");
    if (is_signed) {
        long long max = (long long)(((uint64_t)1 << (bits - 1)) - 1);
        return ST__STRUCT_ERROR("'%c' format requires %lld <= number <= %lld", c->letter, -max - 1, max);
    }
    return ST__STRUCT_ERROR("'%c' format requires 0 <= number <= %llu", c->letter,
                        (unsigned long long)(bits == 64 ? UINT64_MAX : ((uint64_t)1 << bits) - 1));
}

/* Whether a value fits a field of the width (every value fits 8 bytes: the test folds away). */
static ST__INLINE bool fits_signed(long long v, unsigned width)
{
    if (width >= 8)
        return true;
    uint64_t half = (uint64_t)1 << (8 * width - 1); /* one compare: v + half in [0, 2 * half) */
    return (uint64_t)v + half < 2 * half;
}

static ST__INLINE bool fits_unsigned(unsigned long long v, unsigned width)
{
    return width >= 8 || (v >> (8 * width)) == 0;
}

/* PyLong_AsVoidPtr's OverflowError, which CPython's pack turns into this struct.error. */
static ST__COLD int pointer_overflow(void) { return ST__STRUCT_ERROR("int too large to convert"); }

/* ---- The pack and unpack loops ------------------------------------------------------------ */

/* Where the values come from (pack) or go (unpack): the caller's va_list, or an item array. */
typedef struct argsrc {
    va_list ap;
    const st__struct_item *in;
    const st__struct_item *stop; /* items: pack stops here (the value path's first bad value) */
    st__struct_item *out;
} argsrc;

static ST__INLINE void put_text(const st__struct_code *c, unsigned char *p, const void *data, size_t len,
                                   bool zeroed)
{
    size_t field = c->size, n;
    if (c->op == ST__OP_STR) {
        n = len < field ? len : field;
        st__copy_short(p, data, n);
    } else {
        if (field == 0)
            return;
        n = len < field - 1 ? len : field - 1;
        st__copy_short(p + 1, data, n);
        p[0] = (unsigned char)(n > 255 ? 255 : n);
        p++;
        field--;
    }
    if (!zeroed && n < field)
        memset(p + n, 0, field - n);
}

/* The integer ops, each with the C argument type it takes and its width: one list for the pack
 * and the unpack loops, which define SIGNED and UNSIGNED. */
#define INTEGER_OPS(SIGNED, UNSIGNED)                                                              \
    SIGNED(ST__OP_INT8, int, 1)                                                                    \
    SIGNED(ST__OP_INT16, int, 2)                                                                   \
    SIGNED(ST__OP_INT32, int, 4)                                                                   \
    UNSIGNED(ST__OP_UINT8, unsigned int, 1)                                                        \
    UNSIGNED(ST__OP_UINT16, unsigned int, 2)                                                       \
    UNSIGNED(ST__OP_UINT32, unsigned int, 4)                                                       \
    SIGNED(ST__OP_LONG32, long, 4)                                                                 \
    SIGNED(ST__OP_LONG64, long, 8)                                                                 \
    UNSIGNED(ST__OP_ULONG32, unsigned long, 4)                                                     \
    UNSIGNED(ST__OP_ULONG64, unsigned long, 8)                                                     \
    SIGNED(ST__OP_LLONG, long long, 8)                                                             \
    UNSIGNED(ST__OP_ULLONG, unsigned long long, 8)                                                 \
    SIGNED(ST__OP_SSIZE, ssize_t, sizeof(ssize_t))                                                 \
    UNSIGNED(ST__OP_SIZE, size_t, sizeof(size_t))

/* The loop is instantiated for each (byte order, argument source) pair, so the tests on swap
 * and from_items fold away. Each case advances by its own constant width, so a value costs
 * one argument fetch, at most one compare and one store. */
static ST__INLINE int pack_loop(const st__struct_layout *L, unsigned char *out, argsrc *src, const bool swap,
                                   const bool from_items)
{
/* Items carry Python-sized integers (long long), so they are range-checked for every field
 * narrower than 8 bytes (n, N and P too where size_t has 32 bits); C arguments only where the
 * argument type is wider than the field. */
#define ARG(T, field) (from_items ? (in++)->field : va_arg(src->ap, T))
/* One value of W bytes at p; items stop at src->stop (the value path's first bad value). */
#define VALUE(W, ...)                                                                                        \
    if (from_items && in == src->stop)                                                                       \
        return 0;                                                                                            \
    __VA_ARGS__;                                                                                             \
    p += (W);                                                                                                \
    break
#define SIGNED(OP, T, W)                                                                                     \
    case OP:                                                                                                 \
        VALUE(W, {                                                                                           \
            long long v = ARG(T, i);                                                                         \
            if ((from_items || sizeof(T) > (W)) && ST__UNLIKELY(!fits_signed(v, (W))))                           \
                return range_error(c, true);                                                                 \
            store(p, (uint64_t)v, (W), swap);                                                                \
        });
#define UNSIGNED(OP, T, W)                                                                                   \
    case OP:                                                                                                 \
        VALUE(W, {                                                                                           \
            unsigned long long v = ARG(T, u);                                                                \
            if ((from_items || sizeof(T) > (W)) && ST__UNLIKELY(!fits_unsigned(v, (W))))                         \
                return range_error(c, false);                                                                \
            store(p, v, (W), swap);                                                                          \
        });
    static unsigned char no_bytes[1];
    const st__struct_item *in = src->in;
    const bool little = st__host_is_little() != swap;
    if (ST__UNLIKELY(!out))
        out = no_bytes; /* a NULL buffer is fine for a 0-byte record; NULL + 0 is not */
    if (L->zero_fill)
        memset(out, 0, L->size);
    for (const st__struct_code *c = L->codes, *end = c + L->ncodes; c < end; c++) {
        unsigned char *p = out + c->offset;
        size_t n = c->count; /* codes hold at least one value */
        do {
            switch ((st__struct_op)c->op) {
            case ST__OP_CHAR:
                VALUE(1, {
                    long long v = ARG(int, i);
                    if (ST__UNLIKELY(v < -128 || v > 255))
                        return range_error(c, true);
                    *p = (unsigned char)v;
                });
            case ST__OP_BOOL:
                VALUE(1, *p = ARG(int, i) != 0);
            INTEGER_OPS(SIGNED, UNSIGNED)
            case ST__OP_PTR:
                VALUE(sizeof(void *), {
                    unsigned long long v = from_items ? (in++)->u : (uintptr_t)va_arg(src->ap, void *);
                    if (from_items && ST__UNLIKELY(!fits_unsigned(v, sizeof(void *))))
                        return pointer_overflow();
                    store(p, v, sizeof(void *), swap);
                });
            case ST__OP_HALF:
                VALUE(2, {
                    if (st__float_pack2(ARG(double, d), p, little) < 0)
                        return -1;
                });
            case ST__OP_FLOAT:
            case ST__OP_NFLOAT:
                VALUE(4, {
                    double x = ARG(double, d);
                    float f = (float)x;
                    if (c->op == ST__OP_FLOAT && ST__UNLIKELY(isinf(f) && !isinf(x)))
                        return st__struct_float_overflow('f');
                    uint32_t bits;
                    memcpy(&bits, &f, 4);
                    store(p, bits, 4, swap);
                });
            case ST__OP_DOUBLE:
                VALUE(8, {
                    double x = ARG(double, d);
                    uint64_t bits;
                    memcpy(&bits, &x, 8);
                    store(p, bits, 8, swap);
                });
            case ST__OP_STR:
            case ST__OP_PSTR: { /* count is 1 */
                const void *data;
                size_t len;
                if (from_items) {
                    if (in == src->stop)
                        return 0;
                    data = in->str.data;
                    len = in->str.len;
                    in++;
                } else {
                    data = va_arg(src->ap, const void *);
                    len = va_arg(src->ap, size_t);
                }
                put_text(c, p, data, len, L->zero_fill);
                break;
            }
            default:
                ST__UNREACHABLE();
            }
        } while (ST__UNLIKELY(--n));
    }
    return 0;
#undef ARG
#undef VALUE
#undef SIGNED
#undef UNSIGNED
}

static ST__INLINE void unpack_loop(const st__struct_layout *L, const unsigned char *data, argsrc *src,
                                      const bool swap, const bool to_items)
{
/* Stores v in the next destination: the item field, or *(T *)va_arg. */
#define PUT(T, field, v)                                                                                     \
    do {                                                                                                     \
        if (to_items)                                                                                        \
            (out++)->field = (v);                                                                            \
        else                                                                                                 \
            *va_arg(src->ap, T *) = (T)(v);                                                                  \
    } while (0)
#define VALUE(W, ...)                                                                                        \
    __VA_ARGS__;                                                                                             \
    p += (W);                                                                                                \
    break
#define SIGNED(OP, T, W)                                                                                     \
    case OP:                                                                                                 \
        VALUE(W, PUT(T, i, load_signed(p, (W), swap)));
#define UNSIGNED(OP, T, W)                                                                                   \
    case OP:                                                                                                 \
        VALUE(W, PUT(T, u, load(p, (W), swap)));
    static const unsigned char no_bytes[1];
    st__struct_item *out = src->out;
    const bool little = st__host_is_little() != swap;
    if (ST__UNLIKELY(!data))
        data = no_bytes; /* as in pack_loop */
    for (const st__struct_code *c = L->codes, *end = c + L->ncodes; c < end; c++) {
        const unsigned char *p = data + c->offset;
        size_t n = c->count;
        do {
            switch ((st__struct_op)c->op) {
            case ST__OP_CHAR:
                VALUE(1, PUT(char, i, *p));
            case ST__OP_BOOL:
                VALUE(1, PUT(_Bool, i, *p != 0));
            INTEGER_OPS(SIGNED, UNSIGNED)
            case ST__OP_PTR:
                VALUE(sizeof(void *), {
                    if (to_items)
                        (out++)->u = load(p, sizeof(void *), swap);
                    else
                        *va_arg(src->ap, void **) = (void *)(uintptr_t)load(p, sizeof(void *), swap);
                });
            case ST__OP_HALF:
                VALUE(2, PUT(double, d, st__float_unpack2(p, little)));
            case ST__OP_FLOAT:
            case ST__OP_NFLOAT:
                VALUE(4, {
                    uint32_t bits = (uint32_t)load(p, 4, swap);
                    float f;
                    memcpy(&f, &bits, 4);
                    PUT(double, d, (double)f);
                });
            case ST__OP_DOUBLE:
                VALUE(8, {
                    uint64_t bits = load(p, 8, swap);
                    double x;
                    memcpy(&x, &bits, 8);
                    PUT(double, d, x);
                });
            case ST__OP_STR:
            case ST__OP_PSTR: { /* count is 1 */
                const unsigned char *text = p;
                size_t len = c->size;
                if (c->op == ST__OP_PSTR) { /* the count byte, cut to the field */
                    len = len == 0 ? 0 : (p[0] < len ? p[0] : len - 1);
                    text = p + 1;
                }
                if (to_items) {
                    out->str.data = text;
                    out->str.len = len;
                    out++;
                } else {
                    st__copy_short(va_arg(src->ap, void *), text, len);
                    if (c->op == ST__OP_PSTR)
                        *va_arg(src->ap, size_t *) = len;
                }
                break;
            }
            default:
                ST__UNREACHABLE();
            }
        } while (ST__UNLIKELY(--n));
    }
#undef PUT
#undef VALUE
#undef SIGNED
#undef UNSIGNED
}

static int pack_va(const st__struct_layout *L, unsigned char *out, argsrc *src)
{
    return L->swap ? pack_loop(L, out, src, true, false) : pack_loop(L, out, src, false, false);
}

static void unpack_va(const st__struct_layout *L, const unsigned char *data, argsrc *src)
{
    if (L->swap)
        unpack_loop(L, data, src, true, false);
    else
        unpack_loop(L, data, src, false, false);
}

/* ---- Buffer checks -------------------------------------------------------------------------- */

/* Resolves pack_into/unpack_from's offset (negative counts from the end) with Python's checks. */
int st__struct_locate(const st__struct_layout *L, size_t buflen, ssize_t offset, bool packing, size_t *start)
{
    ssize_t size = (ssize_t)L->size, len = (ssize_t)buflen;
    if (offset < 0) {
        if (offset + size > 0)
            return ST__STRUCT_ERROR("%s %zd bytes at offset %zd", packing ? "no space to pack" : "not enough data to unpack",
                                size, offset);
        if (offset + len < 0)
            return ST__STRUCT_ERROR("offset %zd out of range for %zd-byte buffer", offset, len);
        offset += len;
    }
    if (len - offset < size)
        return ST__STRUCT_ERROR("%s requires a buffer of at least %zu bytes for %s %zd bytes at offset %zd "
                            "(actual buffer size is %zd)",
                            packing ? "pack_into" : "unpack_from", (size_t)size + (size_t)offset,
                            packing ? "packing" : "unpacking", size, offset, len);
    *start = (size_t)offset;
    return 0;
}

int st__struct_check_exact(const st__struct_layout *L, size_t buflen)
{
    if (buflen != L->size)
        return ST__STRUCT_ERROR("unpack requires a buffer of %zu bytes", L->size);
    return 0;
}

static int pack_at(const st__struct_layout *L, void *buf, size_t buflen, ssize_t offset, argsrc *src)
{
    size_t start;
    if (st__struct_locate(L, buflen, offset, true, &start) < 0 || pack_va(L, start ? (unsigned char *)buf + start : buf, src) < 0)
        return ST_TRACE();
    return 0;
}

static int unpack_at(const st__struct_layout *L, const void *buf, size_t buflen, ssize_t offset, argsrc *src)
{
    size_t start;
    if (st__struct_locate(L, buflen, offset, false, &start) < 0)
        return ST_TRACE();
    unpack_va(L, start ? (const unsigned char *)buf + start : buf, src);
    return 0;
}

/* ---- Typed API ---------------------------------------------------------------------------- */

/* st_struct_pack() and st_struct_unpack() are the hot calls: the loop is inlined into them so the
 * va_list never leaves the function. */
int st_struct_pack(const st_struct *s, void *buf, size_t buflen, ...)
{
    const st__struct_layout *L = &s->layout;
    size_t start;
    if (buflen < L->size && st__struct_locate(L, buflen, 0, true, &start) < 0)
        return ST_TRACE();
    argsrc src;
    va_start(src.ap, buflen);
    int r = L->swap ? pack_loop(L, buf, &src, true, false) : pack_loop(L, buf, &src, false, false);
    va_end(src.ap);
    return r < 0 ? ST_TRACE() : 0;
}

int st_struct_vpack(const st_struct *s, void *buf, size_t buflen, va_list ap)
{
    argsrc src;
    va_copy(src.ap, ap);
    int r = pack_at(&s->layout, buf, buflen, 0, &src);
    va_end(src.ap);
    return r;
}

int st_struct_pack_into(const st_struct *s, void *buf, size_t buflen, ssize_t offset, ...)
{
    argsrc src;
    va_start(src.ap, offset);
    int r = pack_at(&s->layout, buf, buflen, offset, &src);
    va_end(src.ap);
    return r;
}

int st_struct_unpack(const st_struct *s, const void *buf, size_t buflen, ...)
{
    const st__struct_layout *L = &s->layout;
    if (st__struct_check_exact(L, buflen) < 0)
        return ST_TRACE();
    argsrc src;
    va_start(src.ap, buflen);
    if (L->swap)
        unpack_loop(L, buf, &src, true, false);
    else
        unpack_loop(L, buf, &src, false, false);
    va_end(src.ap);
    return 0;
}

int st_struct_vunpack(const st_struct *s, const void *buf, size_t buflen, va_list ap)
{
    if (st__struct_check_exact(&s->layout, buflen) < 0)
        return ST_TRACE();
    argsrc src;
    va_copy(src.ap, ap);
    unpack_va(&s->layout, buf, &src);
    va_end(src.ap);
    return 0;
}

int st_struct_unpack_from(const st_struct *s, const void *buf, size_t buflen, ssize_t offset, ...)
{
    argsrc src;
    va_start(src.ap, offset);
    int r = unpack_at(&s->layout, buf, buflen, offset, &src);
    va_end(src.ap);
    return r;
}

/* ---- Item API (value path, tests) ------------------------------------------------------------ */

/* Packs the items before stop (all of them when stop is NULL). */
static int pack_items_until(const st_struct *s, void *buf, size_t buflen, const st__struct_item *items,
                            const st__struct_item *stop)
{
    size_t start;
    argsrc src;
    src.in = items;
    src.stop = stop;
    if (st__struct_locate(&s->layout, buflen, 0, true, &start) < 0)
        return ST_TRACE();
    int r = s->layout.swap ? pack_loop(&s->layout, buf, &src, true, true)
                           : pack_loop(&s->layout, buf, &src, false, true);
    return r < 0 ? ST_TRACE() : 0;
}

int st__struct_pack_items(const st_struct *s, void *buf, size_t buflen, const st__struct_item *items)
{
    return pack_items_until(s, buf, buflen, items, NULL);
}

int st__struct_unpack_items(const st_struct *s, const void *buf, size_t buflen, st__struct_item *items)
{
    if (st__struct_check_exact(&s->layout, buflen) < 0)
        return ST_TRACE();
    argsrc src;
    src.out = items;
    if (s->layout.swap)
        unpack_loop(&s->layout, buf, &src, true, true);
    else
        unpack_loop(&s->layout, buf, &src, false, true);
    return 0;
}

/* ---- Value path ------------------------------------------------------------------------------ */

/* The Python value of one unpacked item. */
static st_value *item_value(uint8_t op, const st__struct_item *it)
{
    switch ((st__struct_op)op) {
    case ST__OP_CHAR: {
        unsigned char b = (unsigned char)it->i;
        return st_value_bytes(&b, 1);
    }
    case ST__OP_BOOL:
        return st_value_bool((int)it->i);
    case ST__OP_HALF:
    case ST__OP_FLOAT:
    case ST__OP_NFLOAT:
    case ST__OP_DOUBLE:
        return st_value_float(it->d);
    case ST__OP_STR:
    case ST__OP_PSTR:
        return st_value_bytes(it->str.data, it->str.len);
    default:
        return st__struct_op_unsigned(op) ? st_value_int_from_u64(it->u) : st_value_int(it->i);
    }
}

st_value *st_struct_unpack_values(const st_struct *s, const void *buf, size_t buflen)
{
    const st__struct_layout *L = &s->layout;
    if (st__struct_check_exact(L, buflen) < 0)
        return (ST_TRACE(), NULL);
    st__struct_item *items = st__calloc(L->nitems, sizeof *items);
    st_value **values = items ? st__calloc(L->nitems, sizeof *values) : NULL;
    if (!values) {
        free(items);
        return (ST_TRACE(), NULL);
    }
    argsrc src;
    src.out = items;
    if (L->swap)
        unpack_loop(L, buf, &src, true, true);
    else
        unpack_loop(L, buf, &src, false, true);
    size_t k = 0;
    for (const st__struct_code *c = L->codes; c < L->codes + L->ncodes; c++)
        for (size_t n = 0; n < c->count; n++, k++)
            values[k] = item_value(c->op, &items[k]);
    st_value *tuple = st_value_tuple_steal(L->nitems, values); /* fails if any item is NULL */
    free(values);
    free(items);
    return tuple ? tuple : (ST_TRACE(), NULL);
}

static bool is_int(const st_value *v) { return st_value_kind(v) == ST_VALUE_INT || st_value_kind(v) == ST_VALUE_BOOL; }

/* Converts a Python int for an integer code as CPython's get_long family does: signed codes
 * read it as a long long, unsigned ones as an unsigned long long; anything beyond is out of
 * range for the code (the field's own range is checked by the pack loop). */
static int int_item(const st__struct_code *c, const st_value *v, st__struct_item *it)
{
    if (!is_int(v))
        return ST__STRUCT_ERROR("required argument is not an integer");
    int64_t i;
    unsigned char le[8];
    if (!st__struct_op_unsigned(c->op)) {
        if (st_value_as_int64(v, &i) < 0) {
            st_error_clear();
            return range_error(c, true);
        }
        it->i = i;
        return 0;
    }
    if (st_value_int_to_bytes(v, le, 8, 0) == 0) {
        uint64_t u = 0;
        for (int b = 7; b >= 0; b--)
            u = u << 8 | le[b];
        it->u = u;
        return 0;
    }
    /* P takes a negative pointer-sized int too, as PyLong_AsVoidPtr does: the item holds the
     * pointer's value, which the pack loop checks like any other. */
    if (c->op == ST__OP_PTR && st_value_as_int64(v, &i) == 0 && i >= INTPTR_MIN) {
        st_error_clear();
        it->u = (uintptr_t)(intptr_t)i;
        return 0;
    }
    st_error_clear();
    return c->op == ST__OP_PTR ? pointer_overflow() : range_error(c, false);
}

/* Converts one Python value to the item its code packs, with CPython's struct.error messages. */
static int value_item(const st__struct_code *c, const st_value *v, st__struct_item *it)
{
    switch ((st__struct_op)c->op) {
    case ST__OP_CHAR: {
        size_t n;
        const unsigned char *b = st_value_kind(v) == ST_VALUE_BYTES ? st_value_bytes_data(v, &n) : NULL;
        if (!b || n != 1)
            return ST__STRUCT_ERROR("char format requires a bytes object of length 1");
        it->i = b[0];
        return 0;
    }
    case ST__OP_BOOL:
        it->i = st_value_truth(v);
        return 0;
    case ST__OP_HALF:
    case ST__OP_FLOAT:
    case ST__OP_NFLOAT:
    case ST__OP_DOUBLE: {
        st_value_type k = st_value_kind(v);
        if ((k != ST_VALUE_FLOAT && !is_int(v)) || st_value_as_double(v, &it->d) < 0) {
            st_error_clear();
            return ST__STRUCT_ERROR("required argument is not a float");
        }
        /* An int too large for the field is reported as such (CPython turns the OverflowError of
         * an int argument into this struct.error). */
        unsigned char half[2];
        if (is_int(v) && ((c->op == ST__OP_HALF && st__float_pack2(it->d, half, 1) < 0) ||
                          (c->op == ST__OP_FLOAT && isinf((float)it->d) && !isinf(it->d))))
            return ST__STRUCT_ERROR("int too large to convert");
        return 0;
    }
    case ST__OP_STR:
    case ST__OP_PSTR: {
        st_value_type k = st_value_kind(v);
        if (k != ST_VALUE_BYTES && k != ST_VALUE_BYTEARRAY)
            return ST__STRUCT_ERROR("argument for '%c' must be a bytes object", c->letter);
        it->str.data = st_value_bytes_data(v, &it->str.len);
        return 0;
    }
    default:
        return int_item(c, v, it);
    }
}

int st_struct_pack_values(const st_struct *s, const st_value *values, void *buf, size_t buflen)
{
    const st__struct_layout *L = &s->layout;
    st_value_type kind = values ? st_value_kind(values) : ST_VALUE_NONE;
    if (kind != ST_VALUE_TUPLE && kind != ST_VALUE_LIST)
        return ST_RAISE(ST_ETYPE, "pack_values() argument must be a tuple or list, not %s",
                        values ? st_value_type_name(values) : "NULL");
    size_t n = (size_t)st_value_len(values);
    if (n != L->nitems)
        return ST__STRUCT_ERROR("pack expected %zu items for packing (got %zu)", L->nitems, n);
    st__struct_item *items = st__calloc(n, sizeof *items);
    if (!items)
        return ST_TRACE();
    /* Convert in order; at the first bad value, pack what came before it: an earlier value out
     * of range is the error Python reports, else the conversion error stands. */
    size_t k = 0;
    int bad = 0;
    for (const st__struct_code *c = L->codes; c < L->codes + L->ncodes && !bad; c++)
        for (size_t j = 0; j < c->count && !bad; j++, k++)
            bad = value_item(c, st_value_item(values, (ptrdiff_t)k), &items[k]) < 0;
    int r;
    if (bad) {
        k--;
        r = pack_items_until(s, buf, buflen, items, items + k) < 0 ? -1 : ST_TRACE();
    } else {
        r = pack_items_until(s, buf, buflen, items, NULL);
    }
    free(items);
    return r;
}

/* ---- iter_unpack -------------------------------------------------------------------------- */

struct st_struct_unpack_iterator {
    const st_struct *s;
    const unsigned char *buf;
    size_t len;
    size_t index;
};

st_struct_unpack_iterator *st_struct_iter_unpack(const st_struct *s, const void *buf, size_t buflen)
{
    size_t size = s->layout.size;
    if (size == 0)
        return (ST__STRUCT_ERROR("cannot iteratively unpack with a struct of length 0"), NULL);
    if (buflen % size != 0)
        return (ST__STRUCT_ERROR("iterative unpacking requires a buffer of a multiple of %zu bytes", size), NULL);
    st_struct_unpack_iterator *it = st__malloc(sizeof *it);
    if (!it)
        return (ST_TRACE(), NULL);
    it->s = s;
    it->buf = buf;
    it->len = buflen;
    it->index = 0;
    return it;
}

int st_struct_unpack_iterator_next(st_struct_unpack_iterator *it, ...)
{
    if (!it)
        return ST_RAISE(ST_ETYPE, "'NoneType' object is not an iterator");
    if (it->index >= it->len)
        return 0;
    const st__struct_layout *L = &it->s->layout;
    argsrc src;
    va_start(src.ap, it);
    if (L->swap) /* inlined, as in st_struct_unpack() */
        unpack_loop(L, it->buf + it->index, &src, true, false);
    else
        unpack_loop(L, it->buf + it->index, &src, false, false);
    va_end(src.ap);
    it->index += L->size;
    return 1;
}

size_t st_struct_unpack_iterator_length_hint(const st_struct_unpack_iterator *it) { return (it->len - it->index) / it->s->layout.size; }

void st_struct_unpack_iterator_free(st_struct_unpack_iterator *it) { free(it); }

/* ---- One-shot functions taking the format string ------------------------------------------- */

/* Formats up to this many codes compile on the stack. */
#define STACK_CODES 32

typedef struct tmp_layout {
    st__struct_layout layout;
    st__struct_code *heap;
    st__struct_code stack[STACK_CODES];
} tmp_layout;

/* Programs call st_struct_pack_fmt() and st_struct_unpack_fmt() in loops with a few literal formats, so each thread
 * keeps its last few short formats compiled. The slots are thread-local storage (no heap, so
 * nothing to free when a thread ends); a slot is found by the format's address and confirmed
 * by its text, since that address may hold another string by now. */
#define CACHE_SLOTS 4
#define CACHE_TEXT 32
#define CACHE_CODES 16

typedef struct cached_format {
    const char *key;
    char text[CACHE_TEXT];
    st__struct_layout layout;
    st__struct_code codes[CACHE_CODES];
} cached_format;

static _Thread_local struct {
    cached_format slot[CACHE_SLOTS];
    unsigned next; /* the slot to replace next */
} cache;

/* The compiled format: from the cache, else compiled into *t (and cached when it fits). The
 * caller frees t->heap. */
static const st__struct_layout *compile_tmp(const char *format, tmp_layout *t)
{
    t->heap = NULL;
    for (cached_format *f = cache.slot; f < cache.slot + CACHE_SLOTS; f++)
        if (format && f->key == format && strcmp(f->text, format) == 0)
            return &f->layout;
    ssize_t n = st__struct_compile(format, t->stack, STACK_CODES, &t->layout);
    if (n < 0)
        return (ST_TRACE(), NULL);
    if (n > STACK_CODES) {
        t->heap = st__calloc((size_t)n, sizeof *t->heap);
        if (!t->heap)
            return (ST_TRACE(), NULL);
        st__struct_compile(format, t->heap, (size_t)n, &t->layout);
    }
    size_t len = strlen(format);
    if (len >= CACHE_TEXT || n > CACHE_CODES)
        return &t->layout;
    cached_format *f = &cache.slot[cache.next++ % CACHE_SLOTS];
    f->key = format;
    memcpy(f->text, format, len + 1);
    f->layout = t->layout;
    memcpy(f->codes, t->stack, (size_t)n * sizeof f->codes[0]);
    f->layout.codes = f->codes;
    return &f->layout;
}

int st_struct_pack_fmt(const char *format, void *buf, size_t buflen, ...)
{
    tmp_layout t;
    const st__struct_layout *L = compile_tmp(format, &t);
    if (!L)
        return -1;
    argsrc src;
    va_start(src.ap, buflen);
    int r = pack_at(L, buf, buflen, 0, &src);
    va_end(src.ap);
    free(t.heap);
    return r;
}

int st_struct_pack_into_fmt(const char *format, void *buf, size_t buflen, ssize_t offset, ...)
{
    tmp_layout t;
    const st__struct_layout *L = compile_tmp(format, &t);
    if (!L)
        return -1;
    argsrc src;
    va_start(src.ap, offset);
    int r = pack_at(L, buf, buflen, offset, &src);
    va_end(src.ap);
    free(t.heap);
    return r;
}

int st_struct_unpack_fmt(const char *format, const void *buf, size_t buflen, ...)
{
    tmp_layout t;
    const st__struct_layout *L = compile_tmp(format, &t);
    if (!L)
        return -1;
    int r = st__struct_check_exact(L, buflen);
    if (r == 0) {
        argsrc src;
        va_start(src.ap, buflen);
        unpack_va(L, buf, &src);
        va_end(src.ap);
    }
    free(t.heap);
    return r < 0 ? ST_TRACE() : 0;
}

int st_struct_unpack_from_fmt(const char *format, const void *buf, size_t buflen, ssize_t offset, ...)
{
    tmp_layout t;
    const st__struct_layout *L = compile_tmp(format, &t);
    if (!L)
        return -1;
    argsrc src;
    va_start(src.ap, offset);
    int r = unpack_at(L, buf, buflen, offset, &src);
    va_end(src.ap);
    free(t.heap);
    return r;
}
