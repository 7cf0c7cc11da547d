/* Internal: what the pickle dumper (dump.c) and loader (load.c) share. Never installed. */
#ifndef ST_PICKLE_PICKLE_H
#define ST_PICKLE_PICKLE_H

#include <stdint.h>
#include <string.h>

#include "opcodes.h"
#include "systools/value.h"

/* The globals CPython writes for plain data, and the objects it memoizes by identity although
 * we have no value for them (types, functions, interned strings). */
enum {
    G_NONE = 0,
    G_SET,
    G_FROZENSET,
    G_BYTEARRAY,
    G_BYTES,
    G_ENCODE,
    G_RECONSTRUCTOR, /* copyreg._reconstructor (loading only) */
    G_RECON_ARGS,    /* its arguments (cls, base, state) for cls == base: (state,) */
    /* the standard library's types (lib/pickle/stdtypes.c) */
    G_DATE,
    G_TIME,
    G_DATETIME,
    G_TIMEDELTA,
    G_TIMEZONE,
    G_DECIMAL,
    G_UUID,
    G_COMPLEX,
    G_ORDEREDDICT,
    G_DEFAULTDICT,
    G_DEQUE,
    G_COUNTER,
    G_OBJECT, /* builtins.object, copyreg._reconstructor's base for a UUID */
    G_INT,    /* builtins types that are common defaultdict factories */
    G_STR,
    G_FLOAT,
    G_LIST,
    G_DICT,
    G_TUPLE,
    G_BOOL,
    G_FACTORY_ARGS, /* the arguments (factory,) of defaultdict, base the factory's G_* */
    G_CUSTOM        /* first index of the caller-accepted globals */
};

#define BATCHSIZE 1000 /* items per APPENDS / SETITEMS, as CPython's pickler */

/* Module and name of each G_* below G_CUSTOM (lib/pickle/common.c). */
extern const char *const st__pickle_global_module[G_CUSTOM];
extern const char *const st__pickle_global_name[G_CUSTOM];

/* fix_imports (pickle's default): Python 2's module and name of a Python 3 global, for
 * dumping below protocol 3, or (to3) Python 3's of a Python 2 one, for loading below protocol
 * 3. The strings are replaced by static ones when a table names them. */
void st__pickle_fix_imports(const char **module, const char **name, int to3);

/* n-byte little-endian numbers (n is 1, 2, 4 or 8): fixed-size copies on little-endian hosts,
 * which compilers turn into single moves. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define HOST_LE 1
#else
#define HOST_LE 0
#endif

static inline void put_le(unsigned char *p, uint64_t v, int n)
{
    if (HOST_LE && n == 8) {
        memcpy(p, &v, 8);
    } else if (HOST_LE && n == 4) {
        uint32_t x = (uint32_t)v;
        memcpy(p, &x, 4);
    } else {
        for (int i = 0; i < n; i++)
            p[i] = (unsigned char)(v >> (8 * i));
    }
}

static inline uint64_t get_le(const unsigned char *p, int n)
{
    if (HOST_LE && n == 8) {
        uint64_t x;
        memcpy(&x, p, 8);
        return x;
    }
    if (HOST_LE && n == 4) {
        uint32_t x;
        memcpy(&x, p, 4);
        return x;
    }
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* The big-endian 8 bytes of a float (BINFLOAT). */
static inline uint64_t get_be64(const unsigned char *p)
{
#if HOST_LE && (defined(__GNUC__) || defined(__clang__))
    uint64_t x;
    memcpy(&x, p, 8);
    return __builtin_bswap64(x);
#else
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
#endif
}

static inline void put_be64(unsigned char *p, uint64_t v)
{
#if HOST_LE && (defined(__GNUC__) || defined(__clang__))
    v = __builtin_bswap64(v);
    memcpy(p, &v, 8);
#else
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (56 - 8 * i));
#endif
}

/* A hash map from non-zero keys (addresses, or the dumper's small K_* numbers) to memo
 * indexes; the loader uses it as a set of addresses. Zero-initialise; st_free(m.t) after. */
struct memo_entry {
    uintptr_t key; /* 0: empty */
    uint32_t idx;
};

typedef struct ptrmap {
    struct memo_entry *t;
    unsigned shift; /* 64 - log2(table size) */
    size_t mask, used;
} ptrmap;

/* Fibonacci hashing: the top bits of key * 2^64/phi pick the slot. */
static inline size_t key_slot(const struct memo_entry *t, unsigned shift, size_t mask,
                              uintptr_t key)
{
    size_t i = (size_t)(((uint64_t)key * UINT64_C(0x9E3779B97F4A7C15)) >> shift);
    while (t[i].key && t[i].key != key)
        i = (i + 1) & mask;
    return i;
}

/* The index stored under key, or -1. */
static inline int64_t ptrmap_find(const ptrmap *m, uintptr_t key)
{
    if (!key || !m->t)
        return -1;
    const struct memo_entry *e = &m->t[key_slot(m->t, m->shift, m->mask, key)];
    return e->key ? (int64_t)e->idx : -1;
}

/* Doubles the table (makes the first one); 0, or -1 with ST_ENOMEM (lib/pickle/common.c). */
int st__ptrmap_grow(ptrmap *m);

/* Stores idx under key, which is not in the map yet. */
static inline int ptrmap_insert(ptrmap *m, uintptr_t key, uint32_t idx)
{
    if ((!m->t || (m->used + 1) * 2 > m->mask + 1) && st__ptrmap_grow(m))
        return -1;
    struct memo_entry *e = &m->t[key_slot(m->t, m->shift, m->mask, key)];
    e->key = key;
    e->idx = idx;
    m->used++;
    return 0;
}

/* ---- what lib/pickle/stdtypes.c shares with the loader and the dumper ---- */

/* The G_* of a standard library global, by module and name as CPython 3 or Python 2
 * (fix_imports) writes it, or G_NONE. */
int st__pickle_std_global(const char *mod, const char *name);
/* Calls the standard library type g (G_DATE..G_COUNTER) on args (a tuple) as REDUCE does:
 * a new value; NULL with *bad set for arguments CPython never writes (the caller raises), or
 * with the error of the value's constructor. */
st_value *st__pickle_std_call(int g, const st_value *args, int *bad);
/* UUID.__setstate__(state) on a UUID that NEWOBJ or copyreg._reconstructor made: 0, or -1
 * with *bad set for a state that is not {'int': n[, 'is_safe': s]}. */
int st__pickle_std_uuid_setstate(st_value *uuid, const st_value *state, int *bad);

/* The dumper's state (lib/pickle/dump.c) and the operations stdtypes.c writes with; each
 * returns 0 or -1. */
typedef struct pickler pickler;
int st__pickler_proto(const pickler *p);
int st__pickler_save(pickler *p, const st_value *v);
int st__pickler_op(pickler *p, unsigned char op);
/* A global: one of the table (its object memoized as CPython's class), or any by name. */
int st__pickler_global(pickler *p, int g);
int st__pickler_global_name(pickler *p, const char *mod, const char *name);
/* A tuple CPython builds on the fly: the frame boundary of its save() and MARK (or nothing)
 * before n items (n may be 0), then the closing opcode and a memo entry never looked up
 * again. */
int st__pickler_tuple_open(pickler *p, size_t n);
int st__pickler_tuple_close(pickler *p, size_t n);
/* Where CPython's save() of an object starts: a frame of the target size ends there. */
int st__pickler_boundary(pickler *p);
int st__pickler_memo_put(pickler *p, uintptr_t key);
/* A memo reference when key is known: 1 then, 0 if not, -1. */
int st__pickler_memo_hit(pickler *p, uintptr_t key);
/* An interned str (an attribute or global name), memoized by content as CPython shares it. */
int st__pickler_name(pickler *p, const char *name);
/* Fresh objects: a str, bytes, an int, a float, and a dict with the items of a dict-like
 * value. */
int st__pickler_str(pickler *p, const char *utf8, size_t len);
int st__pickler_bytes(pickler *p, const unsigned char *data, size_t len);
int st__pickler_int(pickler *p, int64_t i);
int st__pickler_float(pickler *p, double d);
int st__pickler_dict(pickler *p, const st_value *d);
/* Writes a value of a standard library kind (>= ST_VALUE_DATE) as CPython's Pickler does,
 * memoized under key. */
int st__pickle_save_std(pickler *p, const st_value *v, uintptr_t key);

#endif
