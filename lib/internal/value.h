/* Internal: the layout of st_value and the helpers shared by the lib/value sources. Never installed. */
#ifndef ST_INTERNAL_VALUE_H
#define ST_INTERNAL_VALUE_H

#include <stdint.h>

#include "mem.h"
#include "systools/value.h"

/* flags */
#define ST__V_BIG 0x01    /* an int kept as sign + magnitude limbs (does not fit int64) */
#define ST__V_HASHED 0x02 /* the hash field holds the cached hash (str, bytes, tuple, frozenset) */
#define ST__V_ARENA_ITEMS 0x04 /* a list's items or a dict's table sit in an arena chunk */

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
    st__dentry *entries; /* insertion order, then the open-addressing index of entry numbers */
    size_t nentries;     /* entries used, deleted ones included */
    size_t cap;          /* entries allocated */
    size_t used;         /* live entries */
    size_t mask;         /* index size - 1 */
    unsigned char ixw;   /* index slots are 1 << ixw bytes */
} st__dict;

typedef struct st__set {
    st__sentry *table;
    size_t mask;
    size_t fill;  /* active + dummy */
    size_t used;  /* active */
    int64_t hash; /* a frozenset's cached hash (ST__V_HASHED) */
} st__set;

/* An int or float made in an arena ends after u.i / u.f: never copy a whole st_value. */
struct st_value {
    union {
        size_t rc;          /* references; SIZE_MAX for the immortal singletons */
        st_value *next_dead; /* link of the release worklist once rc reached 0 */
    } h;
    unsigned char kind;
    unsigned char flags;
    uint32_t chunk; /* made in an arena: distance in 8-byte units back to its chunk; 0: malloc'd */
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
            union {
                size_t cap;   /* bytearray */
                int64_t hash; /* str, bytes */
            };
        } s;
        struct {
            st_value **items;
            size_t len;
            union {
                size_t cap;   /* list */
                int64_t hash; /* tuple */
            };
        } seq;
        st__dict *dict;
        st__set *set;
    } u;
};

extern st_value *const st__set_dummy;

/* st_value_ref() and st_value_unref() of a value known not to be NULL, for hot loops. */
static inline st_value *st__ref(st_value *v)
{
    if (v->h.rc != SIZE_MAX)
        v->h.rc++;
    return v;
}

static inline void st__unref(st_value *v)
{
    if (v->h.rc != SIZE_MAX && v->h.rc > 1)
        v->h.rc--;
    else
        st_value_unref(v);
}

/* Allocates a value of the given kind with rc 1, a zeroed payload and `extra` zeroed bytes
 * right after it, where strs, bytes, tuples, big ints, dicts and sets keep their contents
 * (one allocation, and the contents share the value's cache lines). */
st_value *st__value_alloc(st_value_type kind, size_t extra);

/* Memory for the many small values one load makes (lib/pickle.c): values, list items and dict
 * tables are carved from chunks of growing size instead of one malloc each. A chunk counts
 * its blocks and goes with the last of them, from whichever thread drops it (the count is
 * atomic), to a small cache for later loads or back to free(). Large blocks still get their
 * own malloc. Under AddressSanitizer the arena hands every block to malloc, so leaks and use
 * after free stay visible per value. Zero-initialise with ST__ARENA_INIT; st__arena_done()
 * when the load is over. */
typedef struct st__arena {
    char *cur, *end; /* the free part of the current chunk */
    void *chunk;
    size_t taken; /* blocks carved from the current chunk */
    size_t next;  /* size of the next chunk */
} st__arena;
#define ST__ARENA_INIT {NULL, NULL, NULL, 0, 0}
void st__arena_done(st__arena *a);

/* The constructors the loader uses; a is the arena, or NULL for plain malloc. */
st_value *st__value_new(st__arena *a, st_value_type kind, size_t extra);
/* int, float (small ints are the shared immortal ones, as CPython's -5..256) */
st_value *st__int_new(st__arena *a, int64_t i);
st_value *st__float_new(st__arena *a, double d);
/* A str from UTF-8, validated (encoded surrogates allowed when surrogates != 0). */
st_value *st__str_new(st__arena *a, const char *data, size_t len, int surrogates);
st_value *st__bytes_new(st__arena *a, const void *data, size_t len);
/* An empty list, dict, set or frozenset. */
st_value *st__container_new(st__arena *a, st_value_type kind);
/* A tuple of n items, taking over their references (none may be NULL). */
st_value *st__tuple_steal(st__arena *a, size_t n, st_value *const *items);
/* Appends n items to a list, sized exactly when it was empty; takes over the references
 * even on failure. */
int st__list_extend_steal(st__arena *a, st_value *list, st_value *const *items, size_t n);
/* Sets n key/value pairs (kv[2i], kv[2i+1]) in a dict in order, as d[k] = v does; takes
 * over the references even on failure (TypeError for an unhashable key). */
int st__dict_update_steal(st__arena *a, st_value *dict, st_value *const *kv, size_t n);

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
/* Appends Python's repr() of a float (lib/value/dtoa.c). */
int st__float_repr(st__buf *out, double d);
/* Writes the decimal digits of x ending just before end (room for 20); returns where they
 * start (lib/value/dtoa.c). */
char *st__u64_digits(char *end, uint64_t x);

/* A str from UTF-8 (surrogates allowed) the caller validated, of nchars code points. */
st_value *st__str_from_utf8(const char *data, size_t len, size_t nchars);

/* ---- Unicode character names (lib/value/uninames.c) ---- */
/* The code point of a name as CPython's \N{name} escape finds it (aliases, algorithmic names;
 * no named sequences): 1 and *cp, or 0 for an unknown name. */
int st__unicode_lookup(const char *name, size_t len, uint32_t *cp);
/* For the tests: the i-th table entry (names and aliases, sorted) into buf, of at least
 * ST__UNICODE_NAME_MAX bytes; returns its length, 0 past the last entry. */
#define ST__UNICODE_NAME_MAX 128
size_t st__unicode_name_at(size_t i, char *buf, uint32_t *cp);

#endif
