/* Internal: what the pickle dumper (dump.c) and loader (load.c) share. Never installed. */
#ifndef ST_PICKLE_PICKLE_H
#define ST_PICKLE_PICKLE_H

#include <stdint.h>
#include <string.h>

#include "opcodes.h"

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
    G_CUSTOM         /* first index of the caller-accepted globals */
};

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

#endif
