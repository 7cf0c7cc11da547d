/* Internal: the layout of st_value and the helpers shared by the lib/value sources. Never installed. */
#ifndef ST_INTERNAL_VALUE_H
#define ST_INTERNAL_VALUE_H

#include <stdint.h>

#include "mem.h"
#include "systools/value.h"

/* flags */
#define ST__V_BIG 0x01    /* an int kept as sign + magnitude limbs (does not fit int64) */
#define ST__V_HASHED 0x02 /* hash holds the cached hash (str, bytes, tuple, frozenset) */

/* A set entry: CPython's layout, so iteration order can follow CPython's. */
typedef struct st__sentry {
    st_value *key; /* NULL: never used; st__set_dummy: deleted */
    int64_t hash;
} st__sentry;

/* A dict entry; key NULL marks a deleted entry (kept until the next resize). */
typedef struct st__dentry {
    st_value *key;
    st_value *value;
    int64_t hash;
} st__dentry;

typedef struct st__dict {
    st__dentry *entries; /* insertion order */
    size_t nentries;     /* entries used, deleted ones included */
    size_t cap;          /* entries allocated */
    size_t used;         /* live entries */
    size_t *index;       /* open-addressing table of entry numbers */
    size_t mask;         /* index size - 1 */
} st__dict;

typedef struct st__set {
    st__sentry *table;
    size_t mask;
    size_t fill; /* active + dummy */
    size_t used; /* active */
} st__set;

struct st_value {
    union {
        size_t rc;          /* references; SIZE_MAX for the immortal singletons */
        st_value *next_dead; /* link of the release worklist once rc reached 0 */
    } h;
    unsigned char kind;
    unsigned char flags;
    int64_t hash;
    union {
        int64_t i; /* int (when not ST__V_BIG), bool */
        double f;
        struct {
            uint32_t *d; /* magnitude (inline), least significant limb first, top limb non-zero */
            size_t n;
            int neg;
        } big;
        struct {
            char *data; /* NUL-terminated */
            size_t len;
            size_t nchars; /* str: code points */
            size_t cap;    /* bytearray */
        } s;
        struct {
            st_value **items;
            size_t len;
            size_t cap;
        } seq;
        st__dict *dict;
        st__set *set;
    } u;
};

extern st_value *const st__set_dummy;

/* Allocates a value of the given kind with rc 1, a zeroed payload and `extra` zeroed bytes
 * right after it, where strs, bytes, tuples, big ints, dicts and sets keep their contents
 * (one allocation, and the contents share the value's cache lines). */
st_value *st__value_alloc(st_value_type kind, size_t extra);

/* Python's numeric hash modulus, 2**61 - 1. */
#define ST__HASH_MODULUS ((((uint64_t)1) << 61) - 1)
#define ST__HASH_BITS 61

/* ---- bigint (lib/value/bigint.c) ---- */
/* An int from a magnitude (limbs least significant first, any leading zeros) and sign; takes
 * ownership of d (st__malloc'd) even on failure. Normalizes to the int64 form when it fits. */
st_value *st__int_from_mag(uint32_t *d, size_t n, int neg);
/* Parses digits in base 2..36 ('_' skipped; the caller validated them). Applies CPython's
 * 4300-digit limit (ValueError) to bases that are not powers of two. */
st_value *st__int_from_digits(const char *s, size_t len, int base, int neg);
/* -v for an int (bool is read as int). */
st_value *st__int_negate(const st_value *v);
/* Appends the decimal text of an int (ValueError beyond 4300 digits, as CPython). */
int st__int_repr(st__buf *out, const st_value *v);
/* Numeric hash of an int. */
int64_t st__int_hash(const st_value *v);
/* 1 if the big int equals the finite, integral double d. */
int st__int_equal_double(const st_value *v, double d);
/* 1 if both ints are equal. */
int st__int_equal(const st_value *a, const st_value *b);

/* ---- text helpers (lib/value/repr.c) ---- */
/* Decodes one UTF-8 sequence at s (len > 0 bytes left). Allows encoded surrogates when
 * surrogates != 0. Returns its length and stores the code point, or 0 if invalid. */
size_t st__utf8_decode(const unsigned char *s, size_t len, int surrogates, uint32_t *cp);
/* Raises CPython's UnicodeDecodeError for the undecodable sequence at s[i]; returns -1. */
int st__utf8_error(const unsigned char *s, size_t len, size_t i, int surrogates);
/* Appends the UTF-8 encoding of cp (surrogates encoded like 'surrogatepass'). */
int st__utf8_put(st__buf *b, uint32_t cp);
/* Python's str.isprintable() for one code point. */
int st__unicode_isprintable(uint32_t cp);
/* Appends Python's repr() of a float. */
int st__float_repr(st__buf *out, double d);

/* A str from UTF-8 (surrogates allowed) the caller validated, of nchars code points. */
st_value *st__str_from_utf8(const char *data, size_t len, size_t nchars);

#endif
