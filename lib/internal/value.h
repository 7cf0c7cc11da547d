/* Internal: the value module's interface for the rest of the library and for the lib/value
 * sources besides value.c: constructors, number and text helpers, and the accessors of
 * value/layout.h, the only way to a value's contents (no field is named outside that header
 * and value.c). Never installed. */
#ifndef ST_INTERNAL_VALUE_H
#define ST_INTERNAL_VALUE_H

#include <stdint.h>

#include "mem.h"
#include "systools/value.h"
#include "value/layout.h"

/* Memory for the many small values one load makes (lib/pickle/load.c): values, list items and dict
 * tables are carved from chunks of growing size instead of one malloc each. A chunk counts
 * its blocks and goes with the last of them, from whichever thread drops it (the count is
 * atomic), to a cache for later loads (chunks of 2 MiB and more, mapped apart with huge pages
 * asked for, up to 64 MiB in all) or back to the system. Large blocks still get their
 * own malloc. Under AddressSanitizer the arena hands every block to malloc, so leaks and use
 * after free stay visible per value. Zero-initialise with ST__ARENA_INIT; st__arena_done()
 * when the load is over. */
typedef struct st__arena {
    char *cur, *end; /* the free part of the current chunk */
    void *chunk;
    size_t taken; /* blocks carved from the current chunk */
    size_t next;  /* size of the next chunk */
    size_t expect; /* 0, or the size of the first mapped chunk (st__arena_expect) */
} st__arena;
#define ST__ARENA_INIT {NULL, NULL, NULL, 0, 0, 0}
void st__arena_done(st__arena *a);
/* Tells an arena that about `bytes` of values may come (the loader knows its input's size):
 * from 1 MiB on, once its malloc'd chunks hold 64 KiB of values, the next is a mapped one of
 * that size (up to 8 MiB) instead of 2 MiB more in malloc'd 4 KiB pages, which a fresh process
 * faults in one at a time (~4 us each under a hypervisor, as much as a whole 2 MiB huge page).
 * Not sooner: a chunk stays with its values, and a pickle of a few large bytes makes few
 * small values, which should not hold a huge page. */
void st__arena_expect(st__arena *a, size_t bytes);
/* A large array that one load fills from its start and drops at its end (the loader's memo):
 * at least `want` bytes (*got says how many) in a chunk from the arena's cache or a fresh
 * mapping with huge pages asked for, so it costs a fault per 2 MiB rather than per 4 KiB, and
 * none when the last load's is still cached. NULL with ST_ENOMEM; st__big_free() gives it back
 * (to the cache), and takes NULL. Plain malloc under AddressSanitizer, as the arena. */
void *st__big_alloc(size_t want, size_t *got);
void st__big_free(void *p);

/* A load's graveyard: while it is open, the values whose last reference goes on its thread are
 * not freed but kept whole, with a count of 0, until st__grave_close(). The loader's memo then
 * points at the values it memoized without holding references (touching none of them again at
 * the end), and a memoized value dropped during the load (popped, a dict value replaced, a
 * container's item that died with it) stays valid: fetching it takes a reference, which brings
 * it back. Opened and closed on one thread, nested as a stack; a value that dies on another
 * thread is freed there, so the loader holds references instead while code of the caller's may
 * run (callbacks) or an object may be made. What dies is kept until the end: memory stays
 * what the load built, as if nothing had been popped (linear in the input, as the stack is).
 * Zero-initialise with ST__GRAVE_INIT. */
typedef struct st__grave {
    st_value **v; /* the values buried, a value once per time it died */
    size_t n, cap;
    struct st__grave *outer; /* the graveyard open before this one on the thread */
} st__grave;
#define ST__GRAVE_INIT {NULL, 0, 0, NULL}
void st__grave_open(st__grave *g);
/* Frees the values still dead (and what only they held); those taken back live on. */
void st__grave_close(st__grave *g);

/* The constructors the loader uses; a is the arena, or NULL for plain malloc. Small ints are
 * the shared immortal ones, as CPython's -5..256. */
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
/* The shapes (layout.h) of the dicts one load filled lately, found by their keys' addresses:
 * dicts filled with the same key objects in the same order share one. Zero-initialise;
 * st__shapes_done() when the load is over. */
#define ST__SHAPES 8
typedef struct st__shapes_entry {
    st__shape *shape; /* a reference; NULL: keys seen once, no shape yet */
    uint64_t sig;     /* the mix of the keys' addresses */
} st__shapes_entry;
typedef struct st__shapes {
    st__shapes_entry e[ST__SHAPES]; /* the most recently used first */
} st__shapes;
void st__shapes_done(st__shapes *c);
/* Sets n key/value pairs (kv[2i], kv[2i+1]) in a dict in order, as d[k] = v does; takes
 * over the references even on failure (TypeError for an unhashable key). With shapes, an empty
 * dict filled with the keys of a recent shape shares it (keeping only its values), and the
 * second dict filled with the same str keys makes their shape. */
int st__dict_update_steal(st__arena *a, st__shapes *shapes, st_value *dict, st_value *const *kv,
                          size_t n);
/* A dict's shape (compared by tests), or NULL for a dict with its own table. */
const void *st__dict_shape(const st_value *d);

/* ---- globals, objects, PickleBuffers (lib/value/object.c) ---- */
/* A value of the given kind with rc 1, zeroed, and `extra` zeroed bytes after it (value.c). */
st_value *st__value_new(st_value_type kind, size_t extra);
/* A global of two strs, taking over both references even on failure (either may be NULL). */
st_value *st__global_new_steal(st_value *module, st_value *qualname);
/* The module (0) or qualname (1) str of a global. */
const st_value *st__global_str(const st_value *g, int qualname);
/* A read-only PickleBuffer over a bytes or bytearray (READONLY_BUFFER). */
st_value *st__picklebuffer_readonly(st_value *base);
/* st_value_type_name() of a global, object or PickleBuffer. */
const char *st__object_type_name(const st_value *v);
/* Appends "module.qualname" of a global. */
int st__global_repr(st__buf *b, const st_value *v);
/* Appends the repr of a global, object or PickleBuffer; `item` prints a part, `again` says the
 * object is being printed already (a cycle). */
int st__object_repr(st__buf *b, const st_value *v, int again,
                    int (*item)(st__buf *, const st_value *, void *), void *ctx);
/* st_value_clear() of an object. */
int st__object_clear(st_value *v);

/* Python's numeric hash modulus, 2**61 - 1. */
#define ST__HASH_MODULUS ((((uint64_t)1) << 61) - 1)
#define ST__HASH_BITS 61

/* ---- bigint (lib/value/bigint.c) ---- */
/* An int beyond int64 made of a copy of its n limbs (least significant first, the top one
 * non-zero) and its sign (lib/value/value.c). */
st_value *st__int_big_new(const uint32_t *d, size_t n, int neg);
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
/* Compares two ints (bool read as int): -1, 0 or 1. */
int st__int_compare(const st_value *a, const st_value *b);
/* Compares an int with a double exactly, as Python does: -1, 0, 1, or 2 when d is a NaN. */
int st__int_compare_double(const st_value *v, double d);

/* ---- numbers as text (lib/value/dtoa.c) ---- */
/* Appends Python's repr() of a float. */
int st__float_repr(st__buf *out, double d);
/* Writes the decimal digits of x ending just before end (room for 20); returns where they
 * start. */
char *st__u64_digits(char *end, uint64_t x);

/* A str from UTF-8 (surrogates allowed) the caller validated, of nchars code points. */
st_value *st__str_from_utf8(const char *data, size_t len, size_t nchars);

/* TypeError "expected <expected>, got '<type>'" (lib/value/value.c); returns -1. */
int st__wrong_kind(const st_value *v, const char *expected);

/* ---- the standard library's types (lib/value/stdtypes.c) ---- */
/* A value of one of the st__is_std() kinds, its payload zeroed; timezone.utc, immortal
 * (lib/value/value.c). */
st_value *st__std_new(st_value_type kind);
st_value *st__timezone_utc(void);
/* st_value_timezone() with the name as a str value (borrowed; NULL for none), kept as it is:
 * the loader's timezone holds the pickle's own name object, as CPython's does. */
st_value *st__timezone_new(const st_value *offset, st_value *name);
/* Drops the leftmost items of a deque beyond its maxlen, in one move: the loader appends to a
 * deque as to a list and trims it once, at the end (a full deque's append is O(len) here). */
void st__deque_trim(st_value *d);
/* bool(v), v == w (w of any kind; 2: compare them as their st__base_kind()s), hash(v) and
 * repr(v) for the st__is_std() kinds; equality also for the collections. */
int st__std_truth(const st_value *v);
int st__std_equal(const st_value *a, const st_value *b, int depth);
int st__std_hash(const st_value *v, int64_t *out);
int st__std_repr(st__buf *out, const st_value *v);
/* The entry positions of a Counter in repr() order (most common first, stable), *n of them:
 * malloc'd; NULL and *n 0 when the counts do not sort (insertion order then), NULL and *n
 * non-zero on failure. */
size_t *st__counter_order(const st_value *c, size_t *n);
/* Appends repr() of a defaultdict's factory ("<class 'list'>", "None"). */
int st__factory_repr(st__buf *out, const st_value *d);
/* For stdtypes.c, from value.c: ==, hash of a float value (NaN by identity) and of bytes. */
int st__equal_depth(const st_value *a, const st_value *b, int depth);
int64_t st__float_hash(const st_value *v, double d);
int64_t st__bytes_hash(const unsigned char *p, size_t len);

/* ---- Unicode character names (lib/value/uninames.c) ---- */
/* The code point of a name as CPython's \N{name} escape finds it (aliases, algorithmic names;
 * no named sequences): 1 and *cp, or 0 for an unknown name. */
int st__unicode_lookup(const char *name, size_t len, uint32_t *cp);
/* For the tests: the i-th table entry (names and aliases, sorted) into buf, of at least
 * ST__UNICODE_NAME_MAX bytes; returns its length, 0 past the last entry. */
#define ST__UNICODE_NAME_MAX 128
size_t st__unicode_name_at(size_t i, char *buf, uint32_t *cp);

/* ---- ordering (lib/value/compare.c) ---- */
/* Python's `a < b` on values: 1 or 0, or -1 with TypeError "'<' not supported between
 * instances of 'dict' and 'dict'" where Python raises it. */
int st__value_lt(const st_value *a, const st_value *b);

#endif
