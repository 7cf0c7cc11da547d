/* Internal: the layout of st_value and the inline accessors every other file reads a value
 * through. Only this header, value.c and object.c name the fields, so a change of layout stays
 * in these files (stdtypes.c reads its kinds' payload, st__std, through st__std_of()); the rest
 * of the library includes internal/value.h. Never installed. */
#ifndef ST_VALUE_LAYOUT_H
#define ST_VALUE_LAYOUT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "systools/value.h"

/* flags */
#define ST__V_BIG 0x01    /* an int kept as sign + magnitude limbs (does not fit int64) */
#define ST__V_HASHED 0x02 /* the hash field holds the cached hash (str, bytes, tuple, frozenset) */
#define ST__V_ARENA_ITEMS 0x04 /* a list's items, a dict's table or values: in an arena chunk */
#define ST__V_SHORT 0x08       /* a str or bytes in the short form (see u.s) */
#define ST__V_LIST_ITEMS 0x40  /* a tuple made from a list in place: its items are apart */
#define ST__V_ARENA_NEAR 0x80  /* ... in the value's own arena chunk (no distance kept) */
#define ST__V_UUID_SAFE 0x10   /* a UUID's is_safe is SafeUUID.safe */
#define ST__V_UUID_UNSAFE 0x20 /* ... SafeUUID.unsafe (neither: SafeUUID.unknown) */

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

/* A dict's table: this header, then its entries and index in the same block (a shape's keys:
 * the header in the shape). */
typedef struct st__dict {
    st__dentry *entries; /* insertion order, then the open-addressing index of entry numbers */
    size_t nentries;     /* entries used, deleted ones included */
    size_t cap;          /* entries allocated */
    size_t used;         /* live entries */
    size_t mask;         /* index size - 1 */
    unsigned char ixw;   /* index slots are 1 << ixw bytes */
} st__dict;

/* The keys of shared-key dicts (CPython's split tables): dicts filled with the same key
 * objects in the same order (a load's records, whose keys the memo makes one str each) keep
 * one shape and only their values. Immutable once made, so dicts on several threads may share
 * it; freed with the last of them (its count is atomic, as a value's). A dict that gains or
 * loses a key gets a table of its own first, as a resize would. */
typedef struct st__shape {
    atomic_size_t rc;
    st__dict keys; /* strs and their hashes (the entries' values NULL), none deleted, indexed,
                      no room for more (so that adding a key resizes) */
} st__shape;

/* The payload of the standard library's scalar types (lib/value/stdtypes.c). */
typedef struct st__std {
    st_value *ref; /* datetime, time: tzinfo (a timezone) or NULL; timezone: its name (str) or
                      NULL; Decimal: its text (str) */
    union {
        struct {
            int32_t days, seconds, us; /* normalized as timedelta's */
        } td;                          /* timedelta; a timezone's offset */
        struct {
            uint16_t year;
            uint8_t month, day, hour, minute, second, fold;
            int32_t us;
        } dt; /* date, time, datetime */
        unsigned char uuid[16];
        double c[2]; /* complex: real, imag */
    };
} st__std;

typedef struct st__set {
    st__sentry *table;
    size_t mask;
    size_t fill;  /* active + dummy */
    size_t used;  /* active */
    int64_t hash; /* a frozenset's cached hash (ST__V_HASHED) */
} st__set;

/* An object kept as data (lib/value/object.c); absent parts are NULL. */
typedef struct st__object {
    st_value *part[7]; /* indexed by st_value_part */
    unsigned char form; /* st_value_object_form */
} st__object;

/* An int or float made in an arena ends after u.i / u.f, a short str or bytes after its
 * bytes, a list after u.seq.cap, any dict after u.values (a defaultdict after its factory):
 * never copy a whole st_value. Most ints and floats are no st_value at all but immediates,
 * see below. */
struct st_value {
    union {
        /* References; SIZE_MAX for the immortal singletons. Atomic, so that references to
         * one value may be taken and dropped on several threads at once (a key string shared
         * by the records a producer puts on a queue): relaxed increments, acquire-release
         * decrements (the last owner's release sees every other owner's writes). */
        atomic_size_t rc;
        st_value *next_dead; /* link of the release worklist once rc reached 0 */
    } h;
    unsigned char kind;
    unsigned char flags;
    uint16_t slen;  /* a short str's or bytes' length (ST__V_SHORT), in what was padding */
    uint32_t chunk; /* made in an arena: distance in 8-byte units back to its chunk; 0: malloc'd */
    union {
        int64_t i; /* int (when not ST__V_BIG), bool */
        double f;
        struct {
            uint32_t *d; /* magnitude (inline), least significant limb first, top limb non-zero */
            size_t n;
            int neg;
        } big;
        /* A str or bytes of at most ST__SHORT_MAX bytes has the short form (ST__V_SHORT):
         * its length in the header's slen; a str then its hash, 16-bit nchars and its bytes
         * at ST__SHORT_DATA (26 bytes in on 64-bit hosts), a bytes its bytes at
         * ST__SHORT_BYTES (16: its hash is not cached); it ends there ('user12345' takes 40
         * bytes, not 64; an 8-byte bytes 32, not 64). Longer ones and bytearrays have
         * a pointer to their bytes (inline after the value but for a bytearray's) and
         * full-width lengths. */
        struct {
            union {
                size_t cap;   /* bytearray */
                int64_t hash; /* str: either form; bytes: the long form */
            };
            union {
                struct {
                    char *data; /* NUL-terminated */
                    size_t len;
                    size_t nchars; /* str: code points */
                };
                struct {
                    uint16_t nchars;
                } sh;
            };
        } s;
        struct {
            st_value **items;
            size_t len;
            union {
                size_t cap;   /* list */
                int64_t hash; /* tuple */
            };
            ptrdiff_t maxlen; /* deque: its maxlen, -1 for None; a list ends before it */
        } seq;
        /* A dict ends after these (a defaultdict after its factory, at ST__DICT_FACTORY):
         * its own table's header starts the table's block, a shared-key dict's values have
         * a block of their own (as long as the shape's keys need: 40 bytes for 5 keys). */
        struct {
            st__dict *dict;    /* its table's: its own, its shape's, or a static empty one */
            st_value **values; /* a shared-key dict's values, one per key of its shape, else NULL */
        };
        st__set *set;
        st__std std;
        st__object *obj;
        struct {
            st_value *module, *qualname; /* strs */
        } global;
        struct {
            st_value *base; /* bytes or bytearray */
            int readonly;
        } pbuf;
    } u;
};

extern st_value *const st__set_dummy;

/* ---- immediates ----
 * An int or float kept in the st_value pointer itself: no allocation, no count, never
 * dereferenced, never written. A value is at least 4-byte aligned, so a pointer to one has its
 * two low bits clear; an immediate has one of them set:
 * - low bit 1: an int, the pointer's bits shifted right by one (an arithmetic shift): ints of
 *   63 bits (31 on 32-bit hosts); wider ones, and bools, are values.
 * - low bits 10, 64-bit hosts only: a double whose exponent lies in -255..256 (magnitudes
 *   2^-255 to 2^257, about 1.7e-77 to 2.3e+77), Ruby's "flonum": the top three exponent bits of
 *   such a double are 011 or 100, so the last of them gives the other two, whose room takes the
 *   tag (the bits are rotated left by 3, the sign landing in bit 2). +0.0 takes the code of
 *   0x3000000000000000 (2^-255), which stays a value; so do -0.0, subnormals, nan, inf and
 *   the magnitudes outside that range.
 * Python promises no identity for ints and floats (and pickle memoizes neither), so two equal
 * numbers being one pointer changes nothing seen. */
_Static_assert(_Alignof(st_value) >= 4, "immediates take a value pointer's two low bits");
#define ST__IMM_MASK ((uintptr_t)3)
#define ST__IMM_INT ((uintptr_t)1)
#define ST__IMM_INT_MAX ((int64_t)(INTPTR_MAX >> 1))
#define ST__IMM_INT_MIN (-ST__IMM_INT_MAX - 1)
#if UINTPTR_MAX >= UINT64_MAX
#define ST__IMM_FLOAT ((uintptr_t)2)
#define ST__FLONUM_ZERO ((uintptr_t)0x8000000000000002u) /* +0.0 */
#define ST__FLONUM_TAKEN 0x3000000000000000u             /* the double whose code +0.0 takes */
#endif

/* A low-bit pattern that no st_value pointer has, for a word that holds either a value or a
 * pointer of the caller's own (aligned as malloc's) with these bits set (lib/ipc/queue.c's
 * items): 10 where only ints are immediates; 100 where floats take 10, values being 8-byte
 * aligned there. */
#ifdef ST__IMM_FLOAT
_Static_assert(_Alignof(st_value) >= 8, "a value pointer's third bit is free");
#define ST__NOT_VALUE_MASK ((uintptr_t)7)
#define ST__NOT_VALUE_TAG ((uintptr_t)4)
#else
#define ST__NOT_VALUE_MASK ((uintptr_t)3)
#define ST__NOT_VALUE_TAG ((uintptr_t)2)
#endif

/* 1 for an immediate int or float. */
static inline int st__imm(const st_value *v) { return ((uintptr_t)v & ST__IMM_MASK) != 0; }

/* The immediate of i, which the caller knows to be within ST__IMM_INT_MIN..ST__IMM_INT_MAX. */
static inline st_value *st__imm_int(int64_t i)
{
    return (st_value *)(((uintptr_t)(intptr_t)i << 1) | ST__IMM_INT);
}

/* The immediate of d, or NULL when d needs a value. */
static inline st_value *st__imm_float(double d)
{
#ifdef ST__IMM_FLOAT
    uint64_t b;
    memcpy(&b, &d, sizeof b);
    unsigned top = (unsigned)(b >> 60) & 7; /* the sign's neighbours: three exponent bits */
    if ((top == 3 || top == 4) && b != ST__FLONUM_TAKEN)
        return (st_value *)(uintptr_t)((((b << 3) | (b >> 61)) & ~(uint64_t)3) | ST__IMM_FLOAT);
    if (b == 0)
        return (st_value *)ST__FLONUM_ZERO;
#else
    (void)d;
#endif
    return NULL;
}

/* ---- accessors: no checks, the caller knows the kind ---- */

/* A new value's count: one reference, nothing shared yet, so a plain store. */
static inline void st__rc_init(st_value *v)
{
    atomic_store_explicit(&v->h.rc, 1, memory_order_relaxed);
}

/* Drops one reference: 1 when it was the last (the caller frees), else 0. A count of 1 is the
 * caller's own reference, which no other thread can hold or copy, so it needs no atomic
 * write; the acquire load still orders the free after other threads' earlier releases. */
static inline int st__rc_release(st_value *v)
{
    if (st__imm(v))
        return 0;
    size_t rc = atomic_load_explicit(&v->h.rc, memory_order_acquire);
    if (rc == SIZE_MAX)
        return 0;
    return rc == 1 || atomic_fetch_sub_explicit(&v->h.rc, 1, memory_order_acq_rel) == 1;
}

/* st_value_ref() and st_value_unref() of a value known not to be NULL, for hot loops. */
static inline st_value *st__ref(st_value *v)
{
    if (!st__imm(v) && atomic_load_explicit(&v->h.rc, memory_order_relaxed) != SIZE_MAX)
        atomic_fetch_add_explicit(&v->h.rc, 1, memory_order_relaxed);
    return v;
}

/* Frees a value whose count reached 0, and the children that die with it (value.c). */
void st__value_release(st_value *v);

static inline void st__unref(st_value *v)
{
    if (st__rc_release(v))
        st__value_release(v);
}

static inline st_value_type st__kind(const st_value *v)
{
    uintptr_t tag = (uintptr_t)v & ST__IMM_MASK;
    if (tag)
        return tag & ST__IMM_INT ? ST_VALUE_INT : ST_VALUE_FLOAT;
    return (st_value_type)v->kind;
}

/* The kind whose layout and container behaviour v has: dict for OrderedDict, defaultdict and
 * Counter, list for deque, its own kind otherwise. */
static inline st_value_type st__base_kind(const st_value *v)
{
    switch (st__kind(v)) {
    case ST_VALUE_ORDEREDDICT:
    case ST_VALUE_DEFAULTDICT:
    case ST_VALUE_COUNTER:
        return ST_VALUE_DICT;
    case ST_VALUE_DEQUE:
        return ST_VALUE_LIST;
    default:
        return st__kind(v);
    }
}

/* 1 for the standard library's scalar kinds, whose payload is st__std. */
static inline int st__is_std(const st_value *v)
{
    st_value_type k = st__kind(v);
    return k >= ST_VALUE_DATE && k <= ST_VALUE_COMPLEX;
}

/* The payload of a value of one of those kinds, to read and (a value being made) to fill. */
static inline const st__std *st__std_of(const st_value *v) { return &v->u.std; }
static inline st__std *st__std_mut(st_value *v) { return &v->u.std; }

/* A UUID's is_safe: ST__V_UUID_SAFE, ST__V_UUID_UNSAFE or 0 (unknown). */
static inline unsigned st__uuid_flags(const st_value *v) { return v->flags; }
static inline void st__uuid_set_flags(st_value *v, unsigned f) { v->flags = (unsigned char)f; }

/* Where a defaultdict's factory names, default_factory's module and qualname (strs, NULL for
 * None), are: right after the dict's two pointers. */
#define ST__DICT_FACTORY (offsetof(st_value, u.values) + sizeof(st_value **))

/* A deque's maxlen (-1: None); a defaultdict's factory names (NULL: None). */
static inline ptrdiff_t st__deque_maxlen(const st_value *v) { return v->u.seq.maxlen; }
static inline st_value *const *st__factory(const st_value *v)
{
    return (st_value *const *)(const void *)((const char *)v + ST__DICT_FACTORY);
}

/* 1 if v is held by a single reference, so nothing else can lead to it (an immediate: 0, it
 * is no value to change in place). */
static inline int st__unshared(const st_value *v)
{
    return !st__imm(v) && atomic_load_explicit(&v->h.rc, memory_order_relaxed) == 1;
}

/* An int or bool in the int64 form: 1 and its value; 0 for an int beyond int64. */
static inline int st__int_small(const st_value *v, int64_t *i)
{
    if ((uintptr_t)v & ST__IMM_INT) {
        *i = (int64_t)((intptr_t)(uintptr_t)v >> 1);
        return 1;
    }
    if (v->flags & ST__V_BIG)
        return 0;
    *i = v->u.i;
    return 1;
}

/* The magnitude of an int beyond int64: its limbs, least significant first, the top one
 * non-zero; their number and the sign. */
static inline const uint32_t *st__int_mag(const st_value *v, size_t *n, int *neg)
{
    *n = v->u.big.n;
    *neg = v->u.big.neg;
    return v->u.big.d;
}

static inline double st__float_value(const st_value *v)
{
#ifdef ST__IMM_FLOAT
    if (st__imm(v)) {
        uint64_t x = (uintptr_t)v;
        if (x == ST__FLONUM_ZERO)
            return 0.0;
        /* the two exponent bits the tag took: 01 after a 1, 10 after a 0 (now bit 63) */
        uint64_t b = (2 - (x >> 63)) | (x & ~(uint64_t)3);
        b = (b >> 3) | (b << 61);
        double d;
        memcpy(&d, &b, sizeof d);
        return d;
    }
#endif
    return v->u.f;
}

/* Where a short str's bytes start (after its hash and nchars), a short bytes' (right after
 * the header: no hash cached), and the longest that has the short form. */
#define ST__SHORT_DATA (offsetof(st_value, u.s.sh) + sizeof(uint16_t))
#define ST__SHORT_BYTES offsetof(st_value, u)
#define ST__SHORT_MAX UINT16_MAX

/* The contents of a str (its UTF-8, surrogates encoded), bytes or bytearray, NUL-terminated. */
static inline const char *st__data(const st_value *v, size_t *len)
{
    if (v->flags & ST__V_SHORT) {
        *len = v->slen;
        return (const char *)v + (v->kind == ST_VALUE_BYTES ? ST__SHORT_BYTES : ST__SHORT_DATA);
    }
    *len = v->u.s.len;
    return v->u.s.data;
}

/* The code points of a str. */
static inline size_t st__str_nchars(const st_value *v)
{
    return v->flags & ST__V_SHORT ? v->u.s.sh.nchars : v->u.s.nchars;
}

/* The items of a tuple or list. */
static inline st_value *const *st__items(const st_value *v, size_t *n)
{
    *n = v->u.seq.len;
    return v->u.seq.items;
}

/* The entry of a dict at or after *pos (0 to start), in insertion order: 1 (key and value
 * borrowed, either pointer may be NULL), or 0 past the last. */
static inline int st__dict_next(const st_value *d, size_t *pos, st_value **key, st_value **value)
{
    const st__dict *t = d->u.dict;
    while (*pos < t->nentries && !t->entries[*pos].key)
        (*pos)++;
    if (*pos >= t->nentries)
        return 0;
    if (key)
        *key = t->entries[*pos].key;
    if (value)
        *value = d->u.values ? d->u.values[*pos] : t->entries[*pos].value;
    (*pos)++;
    return 1;
}

/* The item of a set or frozenset at or after *pos, in table order (CPython's iteration
 * order): 1 (borrowed), or 0 past the last. */
static inline int st__set_next(const st_value *s, size_t *pos, st_value **item)
{
    const st__set *t = s->u.set;
    while (*pos <= t->mask && (!t->table[*pos].key || t->table[*pos].key == st__set_dummy))
        (*pos)++;
    if (*pos > t->mask)
        return 0;
    *item = t->table[(*pos)++].key;
    return 1;
}

/* Makes a list nothing else refers to the tuple of its items, in place: same fields, its
 * items marked as apart for the release; the capacity is no hash (flag unset). */
static inline void st__list_to_tuple(st_value *list)
{
    list->kind = ST_VALUE_TUPLE;
    list->flags |= ST__V_LIST_ITEMS;
}

#endif
