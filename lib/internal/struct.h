/* Internal: the compiled form of a struct format, and packing from / unpacking to an array of
 * items (used by the value path, the tests and the fuzz target). Never installed. */
#ifndef ST_INTERNAL_STRUCT_H
#define ST_INTERNAL_STRUCT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "internal/compiler.h"
#include "internal/error.h"

#include "systools/struct.h"

/* What one code does: its C argument type and its field width together, so that pack and
 * unpack dispatch once per value. */
typedef enum st__struct_op {
    ST__OP_CHAR,    /* c: int, one byte */
    ST__OP_BOOL,    /* ?: int truth value, one byte */
    ST__OP_INT8,    /* b: int */
    ST__OP_INT16,   /* h: int */
    ST__OP_INT32,   /* i: int */
    ST__OP_UINT8,   /* B: unsigned int */
    ST__OP_UINT16,  /* H: unsigned int */
    ST__OP_UINT32,  /* I: unsigned int */
    ST__OP_LONG32,  /* l in 4 bytes: long */
    ST__OP_LONG64,  /* l in 8 bytes: long */
    ST__OP_ULONG32, /* L in 4 bytes: unsigned long */
    ST__OP_ULONG64, /* L in 8 bytes: unsigned long */
    ST__OP_LLONG,   /* q: long long */
    ST__OP_ULLONG,  /* Q: unsigned long long */
    ST__OP_SSIZE,   /* n: ssize_t */
    ST__OP_SIZE,    /* N: size_t */
    ST__OP_PTR,     /* P: void * */
    ST__OP_HALF,    /* e: double */
    ST__OP_FLOAT,   /* f, standard size: double; overflow is an error */
    ST__OP_NFLOAT,  /* f, native: double, converted as C does (as CPython does) */
    ST__OP_DOUBLE,  /* d: double */
    ST__OP_STR,     /* s: data, length */
    ST__OP_PSTR     /* p: data, length */
} st__struct_op;

/* One run of values of the same code. */
typedef struct st__struct_code {
    uint8_t op;     /* st__struct_op */
    uint8_t letter; /* the format character, for messages */
    size_t offset;  /* of the first value */
    size_t count;   /* number of values (1 for s and p) */
    size_t size;    /* bytes per value (for s and p: the field length) */
} st__struct_code;

typedef struct st__struct_layout {
    size_t size;       /* record size */
    size_t nitems;     /* values per record (Python's s_len) */
    size_t ncodes;
    bool swap;         /* byte order differs from the host's */
    bool zero_fill;    /* has padding (x or alignment) that pack must clear */
    const st__struct_code *codes;
} st__struct_layout;

struct st_struct {
    st__struct_layout layout;
    char *format;
    st__struct_code codes[];
};

/* One value for the item API. Integers of signed codes (and c, ?) use i, unsigned codes
 * (B H I L Q N P) use u (P: the pointer's value, so -1 is UINTPTR_MAX), e f d use d, s and p
 * use str. Pack checks every integer against its field (n N P too, where they are 4 bytes).
 * Unpacking stores s/p as a pointer into the input buffer and a length. */
typedef union st__struct_item {
    long long i;
    unsigned long long u;
    double d;
    struct {
        const void *data;
        size_t len;
    } str;
} st__struct_item;

/* Parses a format: fills *out (codes written while fewer than cap) and returns the number of
 * codes it needs, or -1 (struct.error) on a bad format. */
ssize_t st__struct_compile(const char *format, st__struct_code *codes, size_t cap,
                           st__struct_layout *out);

/* Pack/unpack with an array of s->layout.nitems items instead of varargs; same checks. */
int st__struct_pack_items(const st_struct *s, void *buf, size_t buflen, const st__struct_item *items);
int st__struct_unpack_items(const st_struct *s, const void *buf, size_t buflen, st__struct_item *items);

/* Half-precision conversions with CPython's rounding (round half to even) and errors. */
int st__float_pack2(double x, unsigned char out[2], int little_endian);
double st__float_unpack2(const unsigned char in[2], int little_endian);

/* ---- Shared by the files of lib/struct/ ------------------------------------------------------ */

/* Integer ops whose values are unsigned (Python ints from 0 up; a pointer too). */
static inline bool st__struct_op_unsigned(uint8_t op)
{
    switch ((st__struct_op)op) {
    case ST__OP_UINT8:
    case ST__OP_UINT16:
    case ST__OP_UINT32:
    case ST__OP_ULONG32:
    case ST__OP_ULONG64:
    case ST__OP_ULLONG:
    case ST__OP_SIZE:
    case ST__OP_PTR:
        return true;
    default:
        return false;
    }
}

#if defined(__GNUC__) || defined(__clang__)
#define ST__BSWAP16 __builtin_bswap16
#define ST__BSWAP32 __builtin_bswap32
#define ST__BSWAP64 __builtin_bswap64
#else
static inline uint16_t ST__BSWAP16(uint16_t x) { return (uint16_t)(x << 8 | x >> 8); }
static inline uint32_t ST__BSWAP32(uint32_t x)
{
    return (uint32_t)ST__BSWAP16((uint16_t)x) << 16 | ST__BSWAP16((uint16_t)(x >> 16));
}
static inline uint64_t ST__BSWAP64(uint64_t x)
{
    return (uint64_t)ST__BSWAP32((uint32_t)x) << 32 | ST__BSWAP32((uint32_t)(x >> 32));
}
#endif

#define ST__STRUCT_ERROR(...) ST_RAISE_AS(ST_EFORMAT, "struct.error", __VA_ARGS__)

static inline bool st__host_is_little(void)
{
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

/* Python's checks of a buffer: pack_into/unpack_from's at an offset (negative counts from the
 * end; *start receives the record's start), and unpack's exact size. 0 or -1 (struct.error). */
int st__struct_locate(const st__struct_layout *L, size_t buflen, ssize_t offset, bool packing,
                      size_t *start);
int st__struct_check_exact(const st__struct_layout *L, size_t buflen);

/* OverflowError "float too large to pack with <letter> format". */
int st__struct_float_overflow(char letter);

#endif
