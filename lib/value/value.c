/* value: lifetime, scalars, containers (CPython's set table, an insertion-ordered dict),
 * equality, hashing and deep copy; with layout.h, the only file that knows st_value's fields.
 * repr.c prints values, parse.c reads them, bigint.c does arbitrary-size ints, utf8.c the
 * UTF-8 codec. */
#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal/compiler.h"
#include "internal/mem.h"
#include "internal/utf8.h"
#include "internal/value.h"
#include "st_config.h"

#ifdef ST_HAVE_MAP_ANONYMOUS
#include <sys/mman.h>
#endif

/* ---- lifetime ---------------------------------------------------------------------------- */

#define IMMORTAL SIZE_MAX

static st_value g_none = {{IMMORTAL}, ST_VALUE_NONE, 0, 0, 0, {0}};
static st_value g_false = {{IMMORTAL}, ST_VALUE_BOOL, 0, 0, 0, {0}};
static st_value g_true = {{IMMORTAL}, ST_VALUE_BOOL, 0, 0, 0, {1}};
static st_value g_dummy = {{IMMORTAL}, ST_VALUE_NONE, 0, 0, 0, {0}};
st_value *const st__set_dummy = &g_dummy;
static st_value g_utc = {{IMMORTAL}, ST_VALUE_TIMEZONE, 0, 0, 0, {0}}; /* a zero offset, no name */

/* The arena is compiled out under AddressSanitizer: one malloc per value keeps its leak and
 * use-after-free reports exact. */
#if defined(__SANITIZE_ADDRESS__)
#define ARENA 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ARENA 0
#endif
#endif
#ifndef ARENA
#define ARENA 1
#endif

/* A chunk's header. `live` counts its blocks, plus CHUNK_BIAS while an arena still carves
 * it (the arena adds up what it carved once, when it lets the chunk go). */
typedef struct chunk {
    atomic_size_t live;
    size_t size;
    struct chunk *next; /* in the cache */
} chunk;

/* A load's chunks double from 1 KiB, so a small load takes little, to 8 MiB, so a large one
 * takes few. From 2 MiB on they are mapped on their own, 2 MiB-aligned, and the system is asked
 * to back them with huge pages: a fresh load then faults once per 2 MiB instead of once per
 * 4 KiB page, and the page faults were most of its time. Memory is still touched only as
 * values fill it: the last chunk's unused part stays unbacked (at most one huge page of it is). */
#define CHUNK_FIRST 1024
#define CHUNK_MAPPED ((size_t)2 << 20)
#define CHUNK_MAX ((size_t)8 << 20)
#define BLOCK_MAX (16 * 1024) /* larger blocks get their own malloc */
#define CHUNK_BIAS (SIZE_MAX / 4 + 1) /* far above any block count, on 32 bits too */
/* With an expected size (st__arena_expect), the chunk after 64 KiB of malloc'd ones is mapped */
#define CHUNK_EXPECT_AFTER ((size_t)64 << 10)

/* Mapped chunks whose blocks are all gone wait here for the next loads, up to 64 MiB (a load
 * of some 55 MB of values, 100,000 records of five fields), so that loading again does not
 * fault the same memory in from the kernel (which costs more than the loading). That much, and
 * no more, stays with a program that loaded once and freed everything. Touched once per chunk,
 * and only when the lock is free: never a wait, nor a deadlock in a child forked while another
 * thread held it. */
#define CACHE_BYTES ((size_t)64 << 20)
static struct {
    pthread_mutex_t lock;
    chunk *head;
    size_t bytes;
} g_cache = {PTHREAD_MUTEX_INITIALIZER, NULL, 0};

#if ARENA
/* A chunk of `size` bytes, a multiple of CHUNK_MAPPED, aligned to CHUNK_MAPPED: a mapping of
 * its own, trimmed to the alignment, with huge pages asked for where the system has them;
 * aligned heap memory where anonymous mappings are missing. */
static chunk *chunk_map(size_t size)
{
#ifdef ST_HAVE_MAP_ANONYMOUS
    char *p = mmap(NULL, size + CHUNK_MAPPED, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    size_t lead = (CHUNK_MAPPED - (uintptr_t)p % CHUNK_MAPPED) % CHUNK_MAPPED;
    if (lead)
        munmap(p, lead);
    munmap(p + lead + size, CHUNK_MAPPED - lead);
    p += lead;
#ifdef ST_HAVE_MADV_HUGEPAGE
    madvise(p, size, MADV_HUGEPAGE); /* advice: without huge pages the chunk still works */
#endif
    return (chunk *)(void *)p;
#else
    void *p;
    return posix_memalign(&p, CHUNK_MAPPED, size) ? NULL : p;
#endif
}
#endif

static void chunk_unmap(chunk *c)
{
#ifdef ST_HAVE_MAP_ANONYMOUS
    munmap(c, c->size);
#else
    free(c);
#endif
}

/* A chunk whose blocks are all gone: to the cache, or back to the system. */
static void chunk_gone(chunk *c)
{
    if (c->size < CHUNK_MAPPED) {
        free(c);
        return;
    }
    if (pthread_mutex_trylock(&g_cache.lock) == 0) {
        if (g_cache.bytes + c->size <= CACHE_BYTES) {
            c->next = g_cache.head;
            g_cache.head = c;
            g_cache.bytes += c->size;
            c = NULL;
        }
        pthread_mutex_unlock(&g_cache.lock);
    }
    if (c)
        chunk_unmap(c);
}

static inline void chunk_release(chunk *c, size_t n)
{
    if (atomic_fetch_sub_explicit(&c->live, n, memory_order_acq_rel) == n)
        chunk_gone(c);
}

void st__arena_done(st__arena *a)
{
    if (a->chunk)
        chunk_release(a->chunk, CHUNK_BIAS - a->taken);
    a->chunk = NULL;
    a->cur = a->end = NULL;
}

/* A zeroed value of `size` bytes, at least its header (kinds that end early are shorter than
 * st_value). */
static st_value *value_calloc(st_value_type kind, size_t size)
{
    st_value *v = st__calloc(1, size);
    if (v) {
        st__rc_init(v);
        v->kind = (unsigned char)kind;
    }
    return v;
}

static st_value *value_malloc(st_value_type kind, size_t extra)
{
    if (extra > SIZE_MAX - sizeof(st_value))
        return (ST_RAISE_NOMEM(), NULL);
    return value_calloc(kind, sizeof(st_value) + extra);
}

#if ARENA
/* The smallest cached chunk of at least `size` bytes (of those, the most recently released:
 * its memory is the likeliest to be in the caches), or NULL. Smallest, so that a load's memo
 * (st__big_alloc) does not take the chunk its values will want next. */
static chunk *cache_take(size_t size)
{
    chunk *c = NULL;
    if (pthread_mutex_trylock(&g_cache.lock) == 0) {
        chunk **best = NULL;
        for (chunk **pc = &g_cache.head; *pc; pc = &(*pc)->next)
            if ((*pc)->size >= size && (!best || (*pc)->size < (*best)->size))
                best = pc;
        if (best) {
            c = *best;
            *best = c->next;
            g_cache.bytes -= c->size;
        }
        pthread_mutex_unlock(&g_cache.lock);
    }
    return c;
}

/* Starts a chunk for at least n bytes; 0, or -1 when memory is short. */
static int arena_grow(st__arena *a, size_t n)
{
    size_t size = a->next ? a->next : CHUNK_FIRST;
    if (size >= CHUNK_EXPECT_AFTER && a->expect > size)
        size = a->expect;
    while (size < sizeof(chunk) + n)
        size *= 2;
    chunk *c = NULL;
    if (size >= CHUNK_MAPPED) {
        if ((c = cache_take(size)))
            size = c->size;
        else if (!(c = chunk_map(size)))
            return -1;
    } else if (!(c = malloc(size))) {
        return -1;
    }
    st__arena_done(a);
    atomic_init(&c->live, CHUNK_BIAS);
    c->size = size;
    a->chunk = c;
    a->taken = 0;
    a->cur = (char *)(c + 1);
    a->end = (char *)c + size;
    a->next = size < CHUNK_MAX ? size * 2 : CHUNK_MAX;
    return 0;
}

/* n bytes (a multiple of 8) of the current chunk, which has room for them: one block more. */
static inline void *arena_carve(st__arena *a, size_t n)
{
    void *p = a->cur;
    a->cur += n;
    a->taken++;
    return p;
}

/* n bytes (a multiple of 8, at most BLOCK_MAX) of arena memory, or NULL. */
static inline void *arena_take(st__arena *a, size_t n)
{
    if ((size_t)(a->end - a->cur) < n && arena_grow(a, n))
        return NULL;
    return arena_carve(a, n);
}
#endif

void st__arena_expect(st__arena *a, size_t bytes)
{
    size_t size = CHUNK_MAPPED;
    while (size < bytes && size < CHUNK_MAX)
        size *= 2;
    a->expect = bytes < CHUNK_MAPPED / 2 ? 0 : size;
}

void *st__big_alloc(size_t want, size_t *got)
{
#if ARENA
    if (want > SIZE_MAX - sizeof(chunk) - CHUNK_MAPPED)
        return (ST_RAISE_NOMEM(), NULL);
    size_t size = (want + sizeof(chunk) + CHUNK_MAPPED - 1) / CHUNK_MAPPED * CHUNK_MAPPED;
    chunk *c = cache_take(size);
    if (c)
        size = c->size;
    else if (!(c = chunk_map(size)))
        return (ST_RAISE_NOMEM(), NULL);
    c->size = size;
    atomic_init(&c->live, 1);
    *got = size - sizeof *c;
    return c + 1;
#else
    *got = want;
    return st__malloc(want);
#endif
}

void st__big_free(void *p)
{
#if ARENA
    if (p)
        chunk_gone((chunk *)p - 1);
#else
    free(p);
#endif
}

/* An int or float beyond the immediates (layout.h); made in an arena, it is only as long as its
 * header and number. */
static st_value *scalar_new(st__arena *a, st_value_type kind)
{
#if ARENA
    st_value *v;
    if (a && (v = arena_take(a, offsetof(st_value, u) + sizeof(int64_t)))) {
        st__rc_init(v);
        v->kind = (unsigned char)kind;
        v->flags = 0;
        v->chunk = (uint32_t)(((char *)v - (char *)a->chunk) / 8);
        return v;
    }
#else
    (void)a;
#endif
    return value_malloc(kind, 0);
}

#if ARENA
/* The header of a value carved at p from the arena's current chunk: all of its fields (one
 * reference, kind, flags, short length, distance back to the chunk), so no memset. */
static inline st_value *arena_header(const st__arena *a, void *p, st_value_type kind)
{
    st_value *v = p;
    st__rc_init(v);
    v->kind = (unsigned char)kind;
    v->flags = 0;
    v->slen = 0;
    v->chunk = (uint32_t)((size_t)((char *)v - (char *)a->chunk) / 8);
    return v;
}
#endif

/* value_sized() when the arena's chunk is full or there is no arena. */
ST__NOINLINE static st_value *value_sized_slow(st__arena *a, st_value_type kind, size_t size)
{
#if ARENA
    st_value *v;
    if (a && size <= sizeof(st_value) + BLOCK_MAX && (v = arena_take(a, (size + 7) & ~(size_t)7))) {
        if (size >= sizeof *v)
            memset(v, 0, sizeof *v);
        return arena_header(a, v, kind);
    }
#endif
    return value_calloc(kind, size);
}

/* A value of the given kind with rc 1, `size` bytes long (at least its header), zeroed up to
 * the size of st_value (the bytes past it too but in an arena); in an arena, a value shorter
 * than st_value has only its header set: its constructor sets the rest. Inline, so that the
 * constructors' constant sizes and kinds fold into a few stores. */
static inline st_value *value_sized(st__arena *a, st_value_type kind, size_t size)
{
#if ARENA
    size_t n = (size + 7) & ~(size_t)7;
    if (a && size <= sizeof(st_value) + BLOCK_MAX && n <= (size_t)(a->end - a->cur)) {
        void *p = arena_carve(a, n);
        /* one fixed size or the other: no memset of a variable size in the hot path */
        if (size >= sizeof(st_value))
            memset(p, 0, sizeof(st_value));
        return arena_header(a, p, kind);
    }
#endif
    return value_sized_slow(a, kind, size);
}

/* A value of the given kind with rc 1 and `extra` bytes right after it, where long strs and
 * bytes, tuples, big ints, dicts and sets keep their contents (one allocation, and the
 * contents share the value's cache lines). All zeroed, but for the extra bytes of an arena
 * value. */
static st_value *value_new(st__arena *a, st_value_type kind, size_t extra)
{
    if (extra > SIZE_MAX - sizeof(st_value))
        return (ST_RAISE_NOMEM(), NULL);
    return value_sized(a, kind, sizeof(st_value) + extra);
}

st_value *st__value_new(st_value_type kind, size_t extra) { return value_new(NULL, kind, extra); }

/* The chunk of a value made in an arena, or NULL. */
static chunk *value_chunk(const st_value *x)
{
    return x->chunk ? (chunk *)(void *)((char *)x - (size_t)x->chunk * 8) : NULL;
}

static void value_free(st_value *x)
{
    chunk *c = value_chunk(x);
    if (c)
        chunk_release(c, 1);
    else
        free(x);
}

/* Where a list's items or a dict's table are: malloc'd, in an arena block that starts with
 * its distance back to its chunk, or in the chunk of the value they belong to, which finds it
 * (the common case, 8 bytes less). */
enum { ITEMS_MALLOC, ITEMS_ARENA, ITEMS_NEAR };

#if ARENA
/* r bytes (a multiple of 8) of the arena's current chunk when it holds owner and has room for
 * them (ITEMS_NEAR), else NULL. */
static inline void *near_take(st__arena *a, const st_value *owner, size_t r)
{
    /* owner's chunk, with no test for a malloc'd owner: its distance 0 gives its own address,
     * where no chunk starts */
    if ((const char *)owner - (size_t)owner->chunk * 8 != (char *)a->chunk ||
        (size_t)(a->end - a->cur) < r)
        return NULL;
    return arena_carve(a, r);
}
#endif

/* The items or table of `owner`: from the arena when there is one, else malloc'd (*where). */
static inline void *items_alloc(st__arena *a, const st_value *owner, size_t n, int *where)
{
    *where = ITEMS_MALLOC;
#if ARENA
    if (a && n <= BLOCK_MAX) {
        size_t r = (n + 7) & ~(size_t)7;
        void *near = near_take(a, owner, r);
        if (near) {
            *where = ITEMS_NEAR;
            return near;
        }
        uint64_t *p = arena_take(a, sizeof *p + r);
        if (p) {
            *p = (uint64_t)((char *)p - (char *)a->chunk);
            *where = ITEMS_ARENA;
            return p + 1;
        }
    }
#else
    (void)a;
    (void)owner;
#endif
    return st__malloc(n);
}

/* Frees items or a table from items_alloc(); home: the owner's chunk. */
static void items_free(void *p, int where, chunk *home)
{
    if (where == ITEMS_NEAR) {
        chunk_release(home, 1);
    } else if (where == ITEMS_ARENA) {
        uint64_t *h = (uint64_t *)p - 1;
        chunk_release((chunk *)(void *)((char *)h - *h), 1);
    } else {
        free(p);
    }
}

static int arena_items(const st_value *v)
{
    return v->flags & ST__V_ARENA_NEAR    ? ITEMS_NEAR
           : v->flags & ST__V_ARENA_ITEMS ? ITEMS_ARENA
                                          : ITEMS_MALLOC;
}

static void set_arena_items(st_value *v, int where)
{
    unsigned f = v->flags & ~(unsigned)(ST__V_ARENA_ITEMS | ST__V_ARENA_NEAR);
    v->flags = (unsigned char)(where == ITEMS_NEAR    ? f | ST__V_ARENA_NEAR
                               : where == ITEMS_ARENA ? f | ST__V_ARENA_ITEMS
                                                      : f);
}

/* A set's first table lives in its own allocation, as CPython's smalltable. */
#define SET_MINSIZE 8
static st__sentry *small_table(st__set *s) { return (st__sentry *)(s + 1); }

st_value *st_value_ref(st_value *v)
{
    return v ? st__ref(v) : NULL;
}

/* Drops one reference to a child; a child that dies joins the worklist instead of being freed
 * recursively, so releasing a deeply nested value uses constant stack. */
static void drop(st_value *c, st_value **dead)
{
    if (!c || !st__rc_release(c))
        return;
    c->h.next_dead = *dead;
    *dead = c;
}

#define SHAPE_MAX 30 /* keys of the largest shape, as CPython's SHARED_KEYS_MAX_SIZE */

/* The table of every dict that has none yet (entries NULL). Never written: a dict writes to
 * its table only once it has one of its own. */
static st__dict g_no_table;
_Static_assert(sizeof(st__dict) % _Alignof(st__dentry) == 0, "a table's entries follow it");

/* A defaultdict's factory names. */
static inline st_value **factory_of(st_value *dv)
{
    return (st_value **)(void *)((char *)dv + ST__DICT_FACTORY);
}

/* The shape of a shared-key dict, whose table is the shape's. */
static inline st__shape *shape_of(const st_value *dv)
{
    return (st__shape *)(void *)((char *)dv->u.dict - offsetof(st__shape, keys));
}

/* Where a dict keeps the value of its entry i. */
static inline st_value **dict_slot(const st_value *dv, size_t i)
{
    return dv->u.values ? &dv->u.values[i] : &dv->u.dict->entries[i].value;
}

/* Drops one reference to a shape; with the last one go its keys. */
static void shape_drop(st__shape *s, st_value **dead)
{
    if (atomic_load_explicit(&s->rc, memory_order_acquire) != 1 &&
        atomic_fetch_sub_explicit(&s->rc, 1, memory_order_acq_rel) != 1)
        return;
    for (size_t i = 0; i < s->keys.nentries; i++)
        drop(s->keys.entries[i].key, dead);
    free(s);
}

/* home: the chunk of the value whose contents these are (x may be a copy of it). */
static void release_contents(st_value *x, chunk *home, st_value **dead)
{
    switch (st__base_kind(x)) {
    case ST_VALUE_BYTEARRAY:
        free(x->u.s.data);
        break;
    case ST_VALUE_TUPLE:
    case ST_VALUE_LIST:
        for (size_t i = 0; i < x->u.seq.len; i++)
            drop(x->u.seq.items[i], dead);
        if (x->u.seq.items && (x->kind != ST_VALUE_TUPLE || (x->flags & ST__V_LIST_ITEMS)))
            items_free(x->u.seq.items, arena_items(x), home); /* a tuple's own are inline */
        break;
    case ST_VALUE_DICT:
        if (x->u.values) {
            size_t n = x->u.dict->nentries;
            for (size_t i = 0; i < n; i++)
                drop(x->u.values[i], dead);
            items_free(x->u.values, arena_items(x), home);
            shape_drop(shape_of(x), dead);
        } else {
            for (size_t i = 0; i < x->u.dict->nentries; i++) {
                drop(x->u.dict->entries[i].key, dead);
                drop(x->u.dict->entries[i].value, dead);
            }
            if (x->u.dict->entries)
                items_free(x->u.dict, arena_items(x), home);
        }
        if (x->kind == ST_VALUE_DEFAULTDICT) {
            drop(factory_of(x)[0], dead);
            drop(factory_of(x)[1], dead);
        }
        break;
    case ST_VALUE_SET:
    case ST_VALUE_FROZENSET:
        for (size_t i = 0; i <= x->u.set->mask; i++)
            if (x->u.set->table[i].key != st__set_dummy)
                drop(x->u.set->table[i].key, dead);
        if (x->u.set->table != small_table(x->u.set))
            free(x->u.set->table);
        break;
    case ST_VALUE_GLOBAL:
        drop(x->u.global.module, dead);
        drop(x->u.global.qualname, dead);
        break;
    case ST_VALUE_OBJECT:
        for (size_t i = 0; i < 7; i++)
            drop(x->u.obj->part[i], dead);
        break;
    case ST_VALUE_PICKLEBUFFER:
        drop(x->u.pbuf.base, dead);
        break;
    default:
        if (st__is_std(x))
            drop(x->u.std.ref, dead);
        break;
    }
}

void st_value_unref(st_value *v)
{
    if (v && st__rc_release(v))
        st__value_release(v);
}

/* The graveyard open on this thread; g_graves counts those open on any thread, so that a
 * release while none is pays no thread-local look-up. */
static _Thread_local st__grave *t_grave;
static atomic_size_t g_graves;

void st__grave_open(st__grave *g)
{
    g->outer = t_grave;
    t_grave = g;
    atomic_fetch_add_explicit(&g_graves, 1, memory_order_relaxed);
}

/* Keeps x, whose count reached 0, whole (its children stay held). When the list cannot grow, x
 * is kept anyway, unlisted: lost memory rather than a memo pointing at freed memory. */
static void bury(st__grave *g, st_value *x)
{
    atomic_store_explicit(&x->h.rc, 0, memory_order_relaxed);
    if (g->n == g->cap) {
        size_t cap = g->cap ? 2 * g->cap : 64;
        st_value **v = cap < SIZE_MAX / sizeof *v ? realloc(g->v, cap * sizeof *v) : NULL;
        if (!v)
            return;
        g->v = v;
        g->cap = cap;
    }
    g->v[g->n++] = x;
}

void st__grave_close(st__grave *g)
{
    t_grave = g->outer;
    atomic_fetch_sub_explicit(&g_graves, 1, memory_order_relaxed);
    /* A reference to every value listed first: one may hold another, or be listed twice (taken
     * back and dropped again), and none may go before its own turn. */
    for (size_t i = 0; i < g->n; i++)
        st__ref(g->v[i]);
    for (size_t i = 0; i < g->n; i++)
        st__unref(g->v[i]);
    free(g->v);
    *g = (st__grave)ST__GRAVE_INIT;
}

/* Frees the values of the worklist `dead` and the children that die with them, or buries them
 * while a graveyard is open. */
static void release_dead(st_value *dead)
{
    st__grave *g = atomic_load_explicit(&g_graves, memory_order_relaxed) ? t_grave : NULL;
    while (g && dead) {
        st_value *x = dead;
        dead = x->h.next_dead;
        bury(g, x);
    }
    while (dead) {
        st_value *x = dead;
        dead = x->h.next_dead;
        release_contents(x, value_chunk(x), &dead);
        value_free(x);
    }
}

void st__value_release(st_value *v)
{
    v->h.next_dead = NULL;
    release_dead(v);
}

static void shape_unref(st__shape *s)
{
    st_value *dead = NULL;
    shape_drop(s, &dead);
    release_dead(dead);
}

st_value_type st_value_kind(const st_value *v) { return st__kind(v); }

const char *st_value_type_name(const st_value *v)
{
    static const char *const names[] = {
        "NoneType",  "bool",    "int",         "float",       "str",      "bytes",
        "bytearray", "tuple",   "list",        "dict",        "set",      "frozenset",
        "date",      "time",    "datetime",    "timedelta",   "timezone", "Decimal",
        "UUID",      "complex", "OrderedDict", "defaultdict", "deque",    "Counter"};
    return st__kind(v) < ST_VALUE_GLOBAL ? names[st__kind(v)] : st__object_type_name(v);
}

int st__wrong_kind(const st_value *v, const char *expected)
{
    return ST_RAISE(ST_ETYPE, "expected %s, got '%s'", expected, st_value_type_name(v));
}

/* ---- scalars ----------------------------------------------------------------------------- */

st_value *st_value_none(void) { return &g_none; }

st_value *st_value_bool(int b) { return b ? &g_true : &g_false; }

/* An int or float that is no immediate, from the bits of its int64 or double; apart, so that
 * the constructors' immediate paths need no frame. */
ST__NOINLINE static st_value *scalar_value(st__arena *a, st_value_type kind, int64_t bits)
{
    st_value *v = scalar_new(a, kind);
    if (v)
        v->u.i = bits;
    return v;
}

st_value *st__int_new(st__arena *a, int64_t i)
{
    if (i >= ST__IMM_INT_MIN && i <= ST__IMM_INT_MAX)
        return st__imm_int(i);
    return scalar_value(a, ST_VALUE_INT, i);
}

st_value *st_value_int(int64_t i) { return st__int_new(NULL, i); }

st_value *st_value_int_from_u64(uint64_t u)
{
    if (u <= INT64_MAX)
        return st_value_int((int64_t)u);
    const uint32_t d[2] = {(uint32_t)u, (uint32_t)(u >> 32)};
    return st__int_big_new(d, 2, 0);
}

st_value *st__int_big_new(const uint32_t *d, size_t n, int neg)
{
    st_value *v = value_malloc(ST_VALUE_INT, n * sizeof *d);
    if (!v)
        return NULL;
    v->flags = ST__V_BIG;
    v->u.big.d = (uint32_t *)(v + 1);
    memcpy(v->u.big.d, d, n * sizeof *d);
    v->u.big.n = n;
    v->u.big.neg = neg;
    return v;
}

st_value *st__float_new(st__arena *a, double d)
{
    st_value *v = st__imm_float(d);
    if (v)
        return v;
    int64_t bits;
    memcpy(&bits, &d, sizeof bits);
    return scalar_value(a, ST_VALUE_FLOAT, bits);
}

st_value *st_value_float(double d) { return st__float_new(NULL, d); }

int st_value_as_int64(const st_value *v, int64_t *out)
{
    if (st__kind(v) != ST_VALUE_INT && st__kind(v) != ST_VALUE_BOOL)
        return st__wrong_kind(v, "int");
    if (!st__int_small(v, out))
        return ST_RAISE(ST_EOVERFLOW, "Python int too large to convert to C long");
    return 0;
}

int st_value_as_double(const st_value *v, double *out)
{
    if (st__kind(v) == ST_VALUE_FLOAT) {
        *out = st__float_value(v);
        return 0;
    }
    if (st__kind(v) != ST_VALUE_INT && st__kind(v) != ST_VALUE_BOOL)
        return st__wrong_kind(v, "float");
    int64_t small;
    if (st__int_small(v, &small)) {
        *out = (double)small;
        return 0;
    }
    /* Hex text converts exactly, and strtod rounds it correctly (half to even). */
    st__buf b = ST__BUF_INIT;
    int rc = st__buf_puts(&b, v->u.big.neg ? "-0x" : "0x");
    for (size_t i = v->u.big.n; rc == 0 && i-- > 0;)
        rc = st__buf_printf(&b, "%08x", (unsigned)v->u.big.d[i]);
    if (rc == 0) {
        *out = strtod(b.data, NULL);
        if (isinf(*out))
            rc = ST_RAISE(ST_EOVERFLOW, "int too large to convert to float");
    }
    st__buf_free(&b);
    return rc;
}

int st_value_truth(const st_value *v)
{
    switch (st__kind(v)) {
    case ST_VALUE_NONE:
        return 0;
    case ST_VALUE_BOOL:
    case ST_VALUE_INT: {
        int64_t i;
        return !st__int_small(v, &i) || i != 0;
    }
    case ST_VALUE_FLOAT:
        return st__float_value(v) != 0.0;
    case ST_VALUE_GLOBAL:
    case ST_VALUE_OBJECT:
    case ST_VALUE_PICKLEBUFFER: /* no __len__ nor __bool__: true */
        return 1;
    default:
        return st__is_std(v) ? st__std_truth(v) : st_value_len(v) != 0;
    }
}

/* ---- str, bytes, bytearray --------------------------------------------------------------- */

/* alloc_inline() of a short str or bytes that fits in the arena's current chunk and in the
 * size of an st_value (so nothing of it needs zeroing), inline for the loader: NULL when
 * it does not (alloc_inline() then). */
static inline st_value *short_new(st__arena *a, st_value_type kind, const void *data, size_t len,
                                  size_t nchars)
{
#if ARENA
    size_t at = kind == ST_VALUE_BYTES ? ST__SHORT_BYTES : ST__SHORT_DATA;
    size_t n = (at + len + 1 + 7) & ~(size_t)7;
    if (!a || at + len >= sizeof(st_value) || n > (size_t)(a->end - a->cur))
        return NULL;
    st_value *v = arena_header(a, arena_carve(a, n), kind);
    v->flags = ST__V_SHORT;
    v->slen = (uint16_t)len;
    if (kind == ST_VALUE_STR)
        v->u.s.sh.nchars = (uint16_t)nchars;
    char *p = (char *)v + at;
    st__copy_short(p, data, len);
    p[len] = '\0';
    return v;
#else
    (void)a;
    (void)kind;
    (void)data;
    (void)len;
    (void)nchars;
    return NULL;
#endif
}

/* A str (of nchars code points) or bytes with its bytes stored in the value: one allocation,
 * one cache line for short ones, which have the short form. */
static ST__INLINE st_value *alloc_inline(st__arena *a, st_value_type kind, const void *data,
                                         size_t len, size_t nchars)
{
    st_value *v;
    char *p;
    if (len <= ST__SHORT_MAX) {
        size_t at = kind == ST_VALUE_BYTES ? ST__SHORT_BYTES : ST__SHORT_DATA;
        if (!(v = value_sized(a, kind, at + len + 1)))
            return NULL;
        v->flags = ST__V_SHORT;
        v->slen = (uint16_t)len;
        if (kind == ST_VALUE_STR)
            v->u.s.sh.nchars = (uint16_t)nchars;
        p = (char *)v + at;
    } else {
        if (!(v = len < SIZE_MAX ? value_new(a, kind, len + 1) : (ST_RAISE_NOMEM(), NULL)))
            return NULL;
        v->u.s.data = p = (char *)(v + 1);
        v->u.s.len = len;
        v->u.s.nchars = nchars;
    }
    st__copy_short(p, data, len);
    p[len] = '\0';
    return v;
}

/* alloc_inline() for the loader's constructors once short_new() did not do: apart, so that
 * their fast paths save no registers. */
ST__NOINLINE static st_value *alloc_apart(st__arena *a, st_value_type kind, const void *data,
                                          size_t len, size_t nchars)
{
    return alloc_inline(a, kind, data, len, nchars);
}

st_value *st__str_from_utf8(const char *data, size_t len, size_t nchars)
{
    return alloc_inline(NULL, ST_VALUE_STR, data, len, nchars);
}

/* st__str_new() from the first byte that is not ASCII, at i. */
ST__NOINLINE static st_value *str_new_utf8(st__arena *a, const char *data, size_t len,
                                           int surrogates, size_t i)
{
    const unsigned char *s = (const unsigned char *)data;
    size_t nchars;
    for (nchars = i; i < len; nchars++) {
        uint32_t cp;
        size_t n = s[i] < 0x80 ? 1 : st__utf8_decode(s + i, len - i, surrogates, &cp);
        if (!n)
            return (st__utf8_error(s, len, i, surrogates), NULL);
        i += n;
    }
    return alloc_inline(a, ST_VALUE_STR, data, len, nchars);
}

st_value *st__str_new(st__arena *a, const char *data, size_t len, int surrogates)
{
    const unsigned char *s = (const unsigned char *)data;
    size_t i = st__ascii_prefix(s, len);
    if (i < len)
        return str_new_utf8(a, data, len, surrogates, i);
    st_value *v = short_new(a, ST_VALUE_STR, data, len, len);
    return v ? v : alloc_apart(a, ST_VALUE_STR, data, len, len);
}

st_value *st_value_str(const char *utf8) { return st__str_new(NULL, utf8, strlen(utf8), 0); }

st_value *st_value_str_n(const char *utf8, size_t len) { return st__str_new(NULL, utf8, len, 0); }

st_value *st_value_str_surrogatepass(const char *data, size_t len)
{
    return st__str_new(NULL, data, len, 1);
}

const char *st_value_str_data(const st_value *v, size_t *len)
{
    if (st__kind(v) != ST_VALUE_STR)
        return (st__wrong_kind(v, "str"), NULL);
    size_t n;
    const char *p = st__data(v, &n);
    if (len)
        *len = n;
    return p;
}

st_value *st__bytes_new(st__arena *a, const void *data, size_t len)
{
    st_value *v = short_new(a, ST_VALUE_BYTES, data, len, len);
    return v ? v : alloc_apart(a, ST_VALUE_BYTES, data, len, len);
}

st_value *st_value_bytes(const void *data, size_t len) { return st__bytes_new(NULL, data, len); }

/* A bytearray keeps its bytes apart: they grow. */
st_value *st_value_bytearray(const void *data, size_t len)
{
    st_value *v = value_malloc(ST_VALUE_BYTEARRAY, 0);
    if (!v)
        return NULL;
    v->u.s.data = st__malloc(len + 1);
    if (!v->u.s.data)
        return (free(v), NULL);
    if (len)
        memcpy(v->u.s.data, data, len);
    v->u.s.data[len] = '\0';
    v->u.s.len = v->u.s.nchars = len;
    v->u.s.cap = len + 1;
    return v;
}


const unsigned char *st_value_bytes_data(const st_value *v, size_t *len)
{
    if (st__kind(v) == ST_VALUE_PICKLEBUFFER)
        v = v->u.pbuf.base;
    if (st__kind(v) != ST_VALUE_BYTES && st__kind(v) != ST_VALUE_BYTEARRAY)
        return (st__wrong_kind(v, "bytes or bytearray"), NULL);
    size_t n;
    const char *p = st__data(v, &n);
    if (len)
        *len = n;
    return (const unsigned char *)p;
}

int st_value_bytearray_extend(st_value *v, const void *data, size_t len)
{
    if (st__kind(v) != ST_VALUE_BYTEARRAY)
        return st__wrong_kind(v, "bytearray");
    if (len >= SIZE_MAX - v->u.s.len)
        return ST_RAISE_NOMEM();
    size_t need = v->u.s.len + len + 1;
    if (need > v->u.s.cap) {
        size_t cap = v->u.s.cap * 2 > need ? v->u.s.cap * 2 : need;
        char *p = st__realloc(v->u.s.data, cap);
        if (!p)
            return ST_TRACE();
        v->u.s.data = p;
        v->u.s.cap = cap;
    }
    if (len)
        memcpy(v->u.s.data + v->u.s.len, data, len);
    v->u.s.len += len;
    v->u.s.nchars = v->u.s.len;
    v->u.s.data[v->u.s.len] = '\0';
    return 0;
}

/* ---- tuple and list ---------------------------------------------------------------------- */

/* Room for `extra` more items: exactly that many when a loader fills an empty list (it knows
 * the count), else at least doubling. Items in an arena move to malloc'd memory to grow. */
static int list_reserve(st__arena *a, st_value *v, size_t extra)
{
    size_t len = v->u.seq.len;
    if (extra <= v->u.seq.cap - len)
        return 0;
    if (extra > SIZE_MAX / 2 / sizeof(st_value *) - len)
        return ST_RAISE_NOMEM();
    size_t cap = v->u.seq.cap ? v->u.seq.cap * 2 : a ? 0 : 4;
    if (cap < len + extra)
        cap = len + extra;
    st_value **p;
    if (v->u.seq.items && arena_items(v) == ITEMS_MALLOC) {
        if (!(p = st__reallocarray(v->u.seq.items, cap, sizeof *p)))
            return -1;
    } else {
        int where;
        if (!(p = items_alloc(v->u.seq.items ? NULL : a, v, cap * sizeof *p, &where)))
            return -1;
        if (v->u.seq.items) {
            memcpy(p, v->u.seq.items, len * sizeof *p);
            items_free(v->u.seq.items, arena_items(v), value_chunk(v));
        }
        set_arena_items(v, where);
    }
    v->u.seq.items = p;
    v->u.seq.cap = cap;
    return 0;
}

/* memcpy of n item pointers, a few without a call (a record's list or tuple has a few). */
static inline void copy_items(st_value **dst, st_value *const *src, size_t n)
{
    if (n >= 2 && n <= 4) { /* the first two and the last two, overlapping */
        st_value *x0 = src[0], *x1 = src[1], *y0 = src[n - 2], *y1 = src[n - 1];
        dst[0] = x0;
        dst[1] = x1;
        dst[n - 2] = y0;
        dst[n - 1] = y1;
    } else if (n == 1) {
        dst[0] = src[0];
    } else if (n) {
        memcpy(dst, src, n * sizeof *src);
    }
}

static st_value *tuple_new(st__arena *a, size_t n)
{
    if (n > (SIZE_MAX - sizeof(st_value)) / sizeof(st_value *))
        return (ST_RAISE_NOMEM(), NULL);
    st_value *t = value_new(a, ST_VALUE_TUPLE, n * sizeof(st_value *));
    if (t) {
        t->u.seq.items = (st_value **)(t + 1);
        t->u.seq.len = n;
    }
    return t;
}

st_value *st_value_tuple(size_t n, st_value *const *items)
{
    st_value *t = tuple_new(NULL, n);
    for (size_t i = 0; t && i < n; i++)
        t->u.seq.items[i] = st_value_ref(items[i]);
    return t;
}

st_value *st__tuple_steal(st__arena *a, size_t n, st_value *const *items)
{
    st_value *t = tuple_new(a, n);
    if (t)
        copy_items(t->u.seq.items, items, n);
    for (size_t i = 0; !t && i < n; i++)
        st_value_unref(items[i]);
    return t;
}

int st__list_extend_steal(st__arena *a, st_value *list, st_value *const *items, size_t n)
{
#if ARENA
    /* the loader's list, empty and filled once: n slots next to it, no more */
    st_value **p;
    if (!list->u.seq.items && a && n && n <= BLOCK_MAX / sizeof *p &&
        (p = near_take(a, list, n * sizeof *p))) {
        set_arena_items(list, ITEMS_NEAR);
        list->u.seq.items = p;
        list->u.seq.len = list->u.seq.cap = n;
        copy_items(p, items, n);
        return 0;
    }
#endif
    if (n > list->u.seq.cap - list->u.seq.len && list_reserve(a, list, n) < 0) {
        for (size_t i = 0; i < n; i++)
            st_value_unref(items[i]);
        return ST_TRACE();
    }
    if (n) /* an empty list may have no items yet */
        copy_items(list->u.seq.items + list->u.seq.len, items, n);
    list->u.seq.len += n;
    return 0;
}

st_value *st_value_tuple_steal(size_t n, st_value **items)
{
    st_value *t = NULL;
    size_t i = 0;
    while (i < n && items[i])
        i++;
    if (i == n)
        t = st_value_tuple(n, items);
    for (i = 0; i < n; i++)
        st_value_unref(items[i]);
    return t;
}

st_value *st_value_list(void) { return st__container_new(NULL, ST_VALUE_LIST); }

int st_value_list_append(st_value *list, st_value *item)
{
    /* a full deque drops its leftmost item first */
    if (st__kind(list) == ST_VALUE_DEQUE && list->u.seq.maxlen >= 0 &&
        list->u.seq.len >= (size_t)list->u.seq.maxlen) {
        if (list->u.seq.maxlen == 0)
            return 0;
        if (st_value_list_delete(list, 0))
            return -1;
    }
    return st_value_list_insert(list, PTRDIFF_MAX, item);
}

int st_value_list_append_steal(st_value *list, st_value *item)
{
    int rc = item ? st_value_list_append(list, item) : -1;
    st_value_unref(item);
    return rc;
}

int st_value_list_insert(st_value *list, ptrdiff_t index, st_value *item)
{
    if (st__base_kind(list) != ST_VALUE_LIST)
        return st__wrong_kind(list, "list");
    if (st__kind(list) == ST_VALUE_DEQUE && list->u.seq.maxlen >= 0 &&
        list->u.seq.len >= (size_t)list->u.seq.maxlen)
        return ST_RAISE(ST_EINDEX, "deque already at its maximum size");
    if (list_reserve(NULL, list, 1) < 0)
        return ST_TRACE();
    size_t len = list->u.seq.len, at;
    if (index < 0)
        at = (size_t)-index >= len ? 0 : len - (size_t)-index;
    else
        at = (size_t)index > len ? len : (size_t)index;
    memmove(list->u.seq.items + at + 1, list->u.seq.items + at, (len - at) * sizeof(st_value *));
    list->u.seq.items[at] = st_value_ref(item);
    list->u.seq.len++;
    return 0;
}

/* Resolves a Python index against len; returns 0 and sets *at, or -1 when out of range. */
static int resolve_index(ptrdiff_t index, size_t len, size_t *at)
{
    if (index < 0) {
        if ((size_t)-index > len)
            return -1;
        *at = len - (size_t)-index;
        return 0;
    }
    if ((size_t)index >= len)
        return -1;
    *at = (size_t)index;
    return 0;
}

int st_value_list_set(st_value *list, ptrdiff_t index, st_value *item)
{
    size_t at;
    if (st__base_kind(list) != ST_VALUE_LIST)
        return st__wrong_kind(list, "list");
    if (resolve_index(index, list->u.seq.len, &at) < 0)
        return ST_RAISE(ST_EINDEX, "list assignment index out of range");
    st_value *old = list->u.seq.items[at];
    list->u.seq.items[at] = st_value_ref(item);
    st_value_unref(old);
    return 0;
}

int st_value_list_delete(st_value *list, ptrdiff_t index)
{
    size_t at;
    if (st__base_kind(list) != ST_VALUE_LIST)
        return st__wrong_kind(list, "list");
    if (resolve_index(index, list->u.seq.len, &at) < 0)
        return ST_RAISE(ST_EINDEX, "list assignment index out of range");
    st_value *old = list->u.seq.items[at];
    list->u.seq.len--;
    memmove(list->u.seq.items + at, list->u.seq.items + at + 1,
            (list->u.seq.len - at) * sizeof(st_value *));
    st_value_unref(old);
    return 0;
}

st_value *st_value_item(const st_value *seq, ptrdiff_t index)
{
    size_t at;
    if (st__base_kind(seq) != ST_VALUE_LIST && st__kind(seq) != ST_VALUE_TUPLE)
        return (st__wrong_kind(seq, "tuple or list"), NULL);
    if (resolve_index(index, seq->u.seq.len, &at) < 0)
        return (ST_RAISE(ST_EINDEX, "%s index out of range", st_value_type_name(seq)), NULL);
    return seq->u.seq.items[at];
}

/* ---- hashing ----------------------------------------------------------------------------- */

#define ROTATE(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define HALF_ROUND(a, b, c, d, s, t) \
    a += b;                          \
    c += d;                          \
    b = ROTATE(b, s) ^ a;            \
    d = ROTATE(d, t) ^ c;            \
    a = ROTATE(a, 32);
#define SINGLE_ROUND(v0, v1, v2, v3)    \
    HALF_ROUND(v0, v1, v2, v3, 13, 16); \
    HALF_ROUND(v2, v1, v0, v3, 17, 21);

/* Eight little-endian bytes: one load on little-endian hosts. */
static inline uint64_t load_le64(const unsigned char *in)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t mi;
    memcpy(&mi, in, 8);
    return mi;
#else
    uint64_t mi = 0;
    for (int k = 7; k >= 0; k--)
        mi = (mi << 8) | in[k];
    return mi;
#endif
}

/* CPython's SipHash-1-3 with the all-zero key that PYTHONHASHSEED=0 selects. */
static uint64_t siphash13(const unsigned char *in, size_t len)
{
    uint64_t b = (uint64_t)len << 56;
    uint64_t v0 = 0x736f6d6570736575ULL, v1 = 0x646f72616e646f6dULL;
    uint64_t v2 = 0x6c7967656e657261ULL, v3 = 0x7465646279746573ULL;
    for (; len >= 8; in += 8, len -= 8) {
        uint64_t mi = load_le64(in);
        v3 ^= mi;
        SINGLE_ROUND(v0, v1, v2, v3);
        v0 ^= mi;
    }
    uint64_t t = 0;
    for (size_t k = len; k-- > 0;)
        t = (t << 8) | in[k];
    b |= t;
    v3 ^= b;
    SINGLE_ROUND(v0, v1, v2, v3);
    v0 ^= b;
    v2 ^= 0xff;
    SINGLE_ROUND(v0, v1, v2, v3);
    SINGLE_ROUND(v0, v1, v2, v3);
    SINGLE_ROUND(v0, v1, v2, v3);
    return (v0 ^ v1) ^ (v2 ^ v3);
}

static int64_t fix_hash(uint64_t h) { return (int64_t)h == -1 ? -2 : (int64_t)h; }

static int64_t bytes_hash(const unsigned char *p, size_t len)
{
    return len ? fix_hash(siphash13(p, len)) : 0;
}

/* CPython hashes a str over its PEP 393 storage: 1, 2 or 4 bytes per code point. */
static int str_hash(const st_value *v, int64_t *out)
{
    size_t len, n = st__str_nchars(v);
    const unsigned char *s = (const unsigned char *)st__data(v, &len);
    if (len == n) {
        *out = bytes_hash(s, len);
        return 0;
    }
    uint32_t maxcp = 0, cp;
    for (size_t i = 0; i < len;) {
        i += st__utf8_decode(s + i, len - i, 1, &cp);
        if (cp > maxcp)
            maxcp = cp;
    }
    size_t width = maxcp < 0x100 ? 1 : maxcp < 0x10000 ? 2 : 4;
    unsigned char *wide = st__malloc(n * width);
    if (!wide)
        return ST_TRACE();
    unsigned char *w = wide;
    for (size_t i = 0; i < len;) {
        i += st__utf8_decode(s + i, len - i, 1, &cp);
        for (size_t k = 0; k < width; k++)
            *w++ = (unsigned char)(cp >> (8 * k)); /* little-endian, as on CPython's hosts */
    }
    *out = bytes_hash(wide, n * width);
    free(wide);
    return 0;
}

static int64_t double_hash(const st_value *v, double d)
{
    if (!isfinite(d)) {
        if (isinf(d))
            return d > 0 ? 314159 : -314159;
        uintptr_t y = (uintptr_t)v; /* NaN: by identity, as _Py_HashPointer */
        y = (y >> 4) | (y << (8 * sizeof(y) - 4));
        return fix_hash((uint64_t)y);
    }
    int e;
    double m = frexp(d, &e);
    int sign = 1;
    if (m < 0) {
        sign = -1;
        m = -m;
    }
    uint64_t x = 0;
    while (m) {
        x = ((x << 28) & ST__HASH_MODULUS) | x >> (ST__HASH_BITS - 28);
        m *= 268435456.0;
        e -= 28;
        uint64_t y = (uint64_t)m;
        m -= (double)y;
        x += y;
        if (x >= ST__HASH_MODULUS)
            x -= ST__HASH_MODULUS;
    }
    e = e >= 0 ? e % ST__HASH_BITS : ST__HASH_BITS - 1 - ((-1 - e) % ST__HASH_BITS);
    x = ((x << e) & ST__HASH_MODULUS) | x >> (ST__HASH_BITS - e);
    return fix_hash(sign < 0 ? (uint64_t)0 - x : x);
}

static int hash_depth(const st_value *v, int64_t *out, int depth);
static int parts_hash(const st_value *v, int64_t *out, int depth);

/* CPython's tuple hash of n items. */
static int items_hash(const st_value *const *items, size_t n, int64_t *out, int depth)
{
    const uint64_t p1 = 11400714785074694791ULL, p2 = 14029467366897019727ULL,
                   p5 = 2870177450012600261ULL;
    uint64_t acc = p5;
    for (size_t i = 0; i < n; i++) {
        int64_t lane;
        if (hash_depth(items[i], &lane, depth + 1) < 0)
            return -1;
        acc += (uint64_t)lane * p2;
        acc = (acc << 31) | (acc >> 33);
        acc *= p1;
    }
    acc += n ^ (p5 ^ 3527539UL);
    *out = (int64_t)acc == -1 ? 1546275796 : (int64_t)acc;
    return 0;
}

static int tuple_hash(const st_value *v, int64_t *out, int depth)
{
    return items_hash((const st_value *const *)v->u.seq.items, v->u.seq.len, out, depth);
}

static uint64_t shuffle_bits(uint64_t h) { return ((h ^ 89869747UL) ^ (h << 16)) * 3644798167UL; }

static int64_t frozenset_hash(const st__set *s)
{
    uint64_t hash = 0;
    for (size_t i = 0; i <= s->mask; i++)
        if (s->table[i].key && s->table[i].key != st__set_dummy)
            hash ^= shuffle_bits((uint64_t)s->table[i].hash);
    hash ^= ((uint64_t)s->used + 1) * 1927868237UL;
    hash ^= (hash >> 11) ^ (hash >> 25);
    hash = hash * 69069U + 907133923UL;
    return (int64_t)hash == -1 ? 590923713 : (int64_t)hash;
}

/* Where a str, a long bytes, tuple or frozenset caches its hash. */
static int64_t *hash_cache(st_value *v)
{
    switch ((st_value_type)v->kind) {
    case ST_VALUE_STR:
    case ST_VALUE_BYTES:
        return &v->u.s.hash;
    case ST_VALUE_TUPLE:
        return &v->u.seq.hash;
    default:
        return &v->u.set->hash;
    }
}

/* A global: the hash of (module, qualname). An object: the hash of (callable, args), or of
 * (callable,) when the arguments are unhashable (equal objects have equal arguments, so both or
 * neither are). */
static int parts_hash(const st_value *v, int64_t *out, int depth)
{
    if (v->kind == ST_VALUE_GLOBAL) {
        const st_value *p[2] = {v->u.global.module, v->u.global.qualname};
        return items_hash(p, 2, out, depth);
    }
    const st_value *p[2] = {v->u.obj->part[ST_VALUE_PART_CALLABLE],
                            v->u.obj->part[ST_VALUE_PART_ARGS]};
    return items_hash(p, 2, out, depth) == 0 ? 0 : items_hash(p, 1, out, depth);
}

static int hash_depth(const st_value *v, int64_t *out, int depth)
{
    if (!st__imm(v) && (v->flags & ST__V_HASHED)) {
        *out = *hash_cache((st_value *)v);
        return 0;
    }
    if (depth > ST_VALUE_MAX_DEPTH)
        return ST_RAISE(ST_ERECURSION, "maximum recursion depth exceeded while hashing");
    int64_t h = 0;
    switch (st__kind(v)) {
    case ST_VALUE_NONE:
        *out = 0xFCA86420; /* CPython 3.12+: a constant */
        return 0;
    case ST_VALUE_BOOL:
    case ST_VALUE_INT:
        *out = st__int_hash(v);
        return 0;
    case ST_VALUE_FLOAT:
        *out = double_hash(v, st__float_value(v));
        return 0;
    case ST_VALUE_STR:
        if (str_hash(v, &h) < 0)
            return -1;
        break;
    case ST_VALUE_BYTES: {
        size_t len;
        const char *p = st__data(v, &len);
        h = bytes_hash((const unsigned char *)p, len);
        if (v->flags & ST__V_SHORT) { /* no room to cache it: recomputed each time */
            *out = h;
            return 0;
        }
        break;
    }
    case ST_VALUE_TUPLE:
        if (tuple_hash(v, &h, depth) < 0)
            return -1;
        break;
    case ST_VALUE_FROZENSET:
        h = frozenset_hash(v->u.set);
        break;
    case ST_VALUE_GLOBAL:
    case ST_VALUE_OBJECT:
        return parts_hash(v, out, depth); /* not cached: an object may change */
    default:
        if (st__is_std(v)) /* not cached: these kinds have no room for it */
            return st__std_hash(v, out);
        return ST_RAISE(ST_ETYPE, "unhashable type: '%s'", st_value_type_name(v));
    }
    /* Caching writes into an immutable value: harmless for readers, the hash never changes. */
    st_value *w = (st_value *)v;
    *hash_cache(w) = h;
    w->flags |= ST__V_HASHED;
    *out = h;
    return 0;
}

int64_t st__float_hash(const st_value *v, double d) { return double_hash(v, d); }

int64_t st__bytes_hash(const unsigned char *p, size_t len) { return bytes_hash(p, len); }

int st_value_hash(const st_value *v, int64_t *out)
{
    return hash_depth(v, out, 0) < 0 ? ST_TRACE() : 0;
}

/* ---- equality ---------------------------------------------------------------------------- */

static int is_number(const st_value *v)
{
    st_value_type k = st__kind(v);
    return k == ST_VALUE_BOOL || k == ST_VALUE_INT || k == ST_VALUE_FLOAT;
}

static int int_equal_double(const st_value *i, double d)
{
    if (!isfinite(d) || d != floor(d))
        return 0;
    int64_t n;
    if (!st__int_small(i, &n))
        return st__int_equal_double(i, d);
    if (d < -9223372036854775808.0 || d >= 9223372036854775808.0)
        return 0;
    return (int64_t)d == n;
}

static int number_equal(const st_value *a, const st_value *b)
{
    if (st__kind(a) == ST_VALUE_FLOAT && st__kind(b) == ST_VALUE_FLOAT)
        return st__float_value(a) == st__float_value(b);
    if (st__kind(a) == ST_VALUE_FLOAT)
        return int_equal_double(b, st__float_value(a));
    if (st__kind(b) == ST_VALUE_FLOAT)
        return int_equal_double(a, st__float_value(b));
    return st__int_equal(a, b);
}

static int equal_depth(const st_value *a, const st_value *b, int depth);

/* Container items compare by identity first, as PyObject_RichCompareBool does. */
static int item_equal(const st_value *a, const st_value *b, int depth)
{
    return a == b ? 1 : equal_depth(a, b, depth + 1);
}

static int set_lookup(const st__set *s, const st_value *key, int64_t hash, st__sentry **found);
static int dict_lookup(const st__dict *d, const st_value *key, int64_t hash, size_t *entry,
                       size_t *slot);

static int equal_depth(const st_value *a, const st_value *b, int depth)
{
    if (depth > ST_VALUE_MAX_DEPTH)
        return ST_RAISE(ST_ERECURSION, "maximum recursion depth exceeded in comparison");
    if (is_number(a) && is_number(b))
        return number_equal(a, b);
    st_value_type ka = st__kind(a), kb = st__kind(b);
    if ((ka >= ST_VALUE_DATE && ka <= ST_VALUE_COUNTER) ||
        (kb >= ST_VALUE_DATE && kb <= ST_VALUE_COUNTER)) {
        int r = st__std_equal(a, b, depth);
        if (r != 2)
            return r;
        ka = st__base_kind(a);
        kb = st__base_kind(b);
    }
    if (ka == ST_VALUE_BYTEARRAY)
        ka = ST_VALUE_BYTES;
    if (kb == ST_VALUE_BYTEARRAY)
        kb = ST_VALUE_BYTES;
    if (ka == ST_VALUE_FROZENSET)
        ka = ST_VALUE_SET;
    if (kb == ST_VALUE_FROZENSET)
        kb = ST_VALUE_SET;
    if (ka != kb)
        return 0;
    switch (ka) {
    case ST_VALUE_NONE:
        return 1;
    case ST_VALUE_STR:
    case ST_VALUE_BYTES: {
        size_t na, nb;
        const char *pa = st__data(a, &na), *pb = st__data(b, &nb);
        return na == nb && memcmp(pa, pb, na) == 0;
    }
    case ST_VALUE_TUPLE:
    case ST_VALUE_LIST:
        if (a->u.seq.len != b->u.seq.len)
            return 0;
        for (size_t i = 0; i < a->u.seq.len; i++) {
            int r = item_equal(a->u.seq.items[i], b->u.seq.items[i], depth);
            if (r <= 0)
                return r;
        }
        return 1;
    case ST_VALUE_DICT: {
        const st__dict *ta = a->u.dict, *tb = b->u.dict;
        if (ta->used != tb->used)
            return 0;
        for (size_t i = 0; i < ta->nentries; i++) {
            const st__dentry *e = &ta->entries[i];
            size_t at = i, slot;
            if (!e->key)
                continue;
            /* one shape: the same keys in the same places */
            int r = ta == tb ? 1 : dict_lookup(tb, e->key, e->hash, &at, &slot);
            if (r <= 0)
                return r;
            r = item_equal(*dict_slot(a, i), *dict_slot(b, at), depth);
            if (r <= 0)
                return r;
        }
        return 1;
    }
    case ST_VALUE_SET:
        if (a->u.set->used != b->u.set->used)
            return 0;
        for (size_t i = 0; i <= a->u.set->mask; i++) {
            const st__sentry *e = &a->u.set->table[i];
            st__sentry *f;
            if (!e->key || e->key == st__set_dummy)
                continue;
            int r = set_lookup(b->u.set, e->key, e->hash, &f);
            if (r <= 0)
                return r;
        }
        return 1;
    case ST_VALUE_GLOBAL:
        return item_equal(a->u.global.module, b->u.global.module, depth) == 1 &&
               item_equal(a->u.global.qualname, b->u.global.qualname, depth) == 1;
    case ST_VALUE_OBJECT:
        if (a->u.obj->form != b->u.obj->form)
            return 0;
        for (int i = 0; i < 7; i++) {
            const st_value *pa = a->u.obj->part[i], *pb = b->u.obj->part[i];
            int r = !pa || !pb ? pa == pb : item_equal(pa, pb, depth);
            if (r <= 0)
                return r;
        }
        return 1;
    default: /* PickleBuffer: equal only to itself, as in Python */
        return 0;
    }
}

int st__equal_depth(const st_value *a, const st_value *b, int depth)
{
    return equal_depth(a, b, depth);
}

int st_value_equal(const st_value *a, const st_value *b)
{
    if (a == b && st__kind(a) != ST_VALUE_FLOAT && st__kind(a) != ST_VALUE_COMPLEX &&
        st__kind(a) != ST_VALUE_DECIMAL) /* NaN != NaN */
        return 1;
    int r = equal_depth(a, b, 0);
    return r < 0 ? ST_TRACE() : r;
}

/* Keys compare as in CPython's lookups: identity, then hash, then ==. */
static inline int key_equal(const st_value *a, int64_t ha, const st_value *b, int64_t hb)
{
    if (a == b)
        return 1;
    if (ha != hb)
        return 0;
    return equal_depth(a, b, 1);
}

/* ---- dict -------------------------------------------------------------------------------- */

/* Index slots hold entry number + 1, 0 when empty, the largest number of their width for a
 * deleted entry; they are as narrow as the table allows (1 byte up to 253 entries), as
 * CPython's. */
static inline size_t ix_load(const void *index, unsigned ixw, size_t i)
{
    switch (ixw) {
    case 0:
        return ((const uint8_t *)index)[i];
    case 1:
        return ((const uint16_t *)index)[i];
    case 2:
        return ((const uint32_t *)index)[i];
    default:
        return ((const size_t *)index)[i];
    }
}

/* The index follows the entries in their block. */
static inline void *index_of(const st__dict *d) { return d->entries + d->cap; }

static inline size_t ix_get(const st__dict *d, size_t i) { return ix_load(index_of(d), d->ixw, i); }

static inline void ix_set(st__dict *d, size_t i, size_t ix)
{
    void *index = index_of(d);
    switch (d->ixw) {
    case 0:
        ((uint8_t *)index)[i] = (uint8_t)ix;
        break;
    case 1:
        ((uint16_t *)index)[i] = (uint16_t)ix;
        break;
    case 2:
        ((uint32_t *)index)[i] = (uint32_t)ix;
        break;
    default:
        ((size_t *)index)[i] = ix;
    }
}

/* The next slot of CPython's open addressing, which shifts the hash's upper bits in. perturb
 * is 64 bits on every host, as on 64-bit CPython, so that a table's layout, and so a set's
 * order, its repr and its pickle, is the same on 32-bit hosts (32-bit CPython's differs). */
static inline size_t probe_next(size_t i, uint64_t *perturb, size_t mask)
{
    *perturb >>= 5;
    return (size_t)(((uint64_t)i * 5 + 1 + *perturb) & mask);
}

static inline size_t dummy_of(unsigned ixw)
{
    return ixw == 3 ? SIZE_MAX : ((size_t)1 << (8 << ixw)) - 1;
}

static size_t ix_dummy(const st__dict *d) { return dummy_of(d->ixw); }

st_value *st_value_dict(void) { return st__container_new(NULL, ST_VALUE_DICT); }

/* dict_lookup for index slots of 1 << ixw bytes (a constant where it is inlined). */
static inline int dict_probe(const st__dict *d, unsigned ixw, const st_value *key, int64_t hash,
                             size_t *entry, size_t *slot)
{
    uint64_t perturb = (uint64_t)hash;
    size_t i = (size_t)hash & d->mask;
    for (;;) {
        size_t ix = ix_load(index_of(d), ixw, i);
        if (ix == 0) {
            *slot = i;
            return 0;
        }
        if (ix != dummy_of(ixw)) {
            const st__dentry *e = &d->entries[ix - 1];
            int r = key_equal(e->key, e->hash, key, hash);
            if (r) {
                *entry = ix - 1;
                return r < 0 ? -1 : 1;
            }
        }
        i = probe_next(i, &perturb, d->mask);
    }
}

/* Finds key: returns 1 with *entry set, 0 with *slot the free index slot, -1 on error. */
static inline int dict_lookup(const st__dict *d, const st_value *key, int64_t hash,
                              size_t *entry, size_t *slot)
{
    switch (d->entries ? d->ixw : 4) {
    case 0:
        return dict_probe(d, 0, key, hash, entry, slot);
    case 1:
        return dict_probe(d, 1, key, hash, entry, slot);
    case 2:
        return dict_probe(d, 2, key, hash, entry, slot);
    case 3:
        return dict_probe(d, 3, key, hash, entry, slot);
    default:
        *slot = 0;
        return 0;
    }
}

/* Builds a table with room for cap entries (>= n) holding the live entries of from[0, n) in
 * their order: header, entries and index in one block, the index at most 2/3 full. NULL when
 * memory is short. */
static st__dict *table_make(st__arena *a, const st_value *owner, int *where, size_t cap,
                            const st__dentry *from, size_t n)
{
    if (cap > SIZE_MAX / 4 / (sizeof(st__dentry) + sizeof(size_t)))
        return (ST_RAISE_NOMEM(), NULL);
    size_t size = 8;
    while (size * 2 < cap * 3)
        size *= 2;
    unsigned char ixw = cap < 0xfe ? 0 : cap < 0xfffe ? 1 : cap < 0xfffffffe ? 2 : 3;
    st__dict *t =
        items_alloc(a, owner, sizeof *t + cap * sizeof(st__dentry) + (size << ixw), where);
    if (!t)
        return NULL;
    st__dentry *entries = (st__dentry *)(void *)(t + 1);
    memset(entries + cap, 0, size << ixw);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (from[i].key)
            entries[k++] = from[i];
    *t = (st__dict){entries, k, cap, k, size - 1, ixw};
    for (size_t j = 0; j < k; j++) {
        uint64_t perturb = (uint64_t)entries[j].hash;
        size_t i = (size_t)entries[j].hash & t->mask;
        while (ix_get(t, i)) {
            i = probe_next(i, &perturb, t->mask);
        }
        ix_set(t, i, j + 1);
    }
    return t;
}

/* Rebuilds a dict's own table (dropping deleted entries) with room for cap entries, >= the
 * used ones. */
static int dict_rebuild(st__arena *a, st_value *dv, size_t cap)
{
    st__dict *d = dv->u.dict;
    int where;
    st__dict *t = table_make(a, dv, &where, cap, d->entries, d->nentries);
    if (!t)
        return -1;
    if (d->entries)
        items_free(d, arena_items(dv), value_chunk(dv));
    set_arena_items(dv, where);
    dv->u.dict = t;
    return 0;
}

/* The room a table of `used` live entries grows to for `extra` more: at least twice the live
 * ones, at least 8. */
static size_t grown_cap(size_t used, size_t extra)
{
    size_t cap = used + extra;
    return cap < used * 2 ? used * 2 : cap < 8 ? 8 : cap;
}

/* Room for `extra` more entries: exactly that many when a loader fills an empty dict (it
 * knows the count), else at least twice the live ones. */
static int dict_reserve(st__arena *a, st_value *dv, size_t extra)
{
    st__dict *d = dv->u.dict;
    if (extra <= d->cap - d->nentries)
        return 0;
    if (extra > SIZE_MAX / 4 - d->used)
        return ST_RAISE_NOMEM();
    size_t cap = d->used + extra;
    if (d->entries || !a) {
        a = NULL;
        cap = grown_cap(d->used, extra);
    }
    return dict_rebuild(a, dv, cap);
}

/* Gives a shared-key dict a table of its own with room for `extra` more keys, as a resize
 * would: the same entries in the same order, so that positions stay valid. */
static int dict_unshare(st_value *dv, size_t extra)
{
    st__shape *s = shape_of(dv);
    size_t n = s->keys.nentries;
    if (extra > SIZE_MAX / 4 - n)
        return ST_RAISE_NOMEM();
    st__dentry from[SHAPE_MAX];
    for (size_t i = 0; i < n; i++)
        from[i] = (st__dentry){s->keys.entries[i].key, dv->u.values[i], s->keys.entries[i].hash};
    int where;
    st__dict *t = table_make(NULL, dv, &where, grown_cap(n, extra), from, n);
    if (!t)
        return -1;
    for (size_t i = 0; i < n; i++)
        st__ref(from[i].key);
    items_free(dv->u.values, arena_items(dv), value_chunk(dv));
    set_arena_items(dv, where);
    dv->u.values = NULL;
    dv->u.dict = t;
    shape_unref(s);
    return 0;
}

/* dict_insert_steal() once the lookup found key at entry `at` (r 1) or failed (r -1). */
static int dict_found_steal(st_value *dv, int r, size_t at, st_value *key, st_value *value)
{
    if (r > 0) { /* a shared-key dict too: its values are its own */
        st_value **p = dict_slot(dv, at);
        st_value *old = *p;
        *p = value;
        st_value_unref(old);
    } else {
        st_value_unref(value);
    }
    st_value_unref(key); /* the dict keeps its first key, as CPython */
    return r < 0 ? -1 : 0;
}

/* Room in a dict's own table for one more key (the free index slot for it in *slot). */
static int dict_room(st_value *dv, const st_value *key, int64_t hash, size_t *slot)
{
    size_t at;
    if ((dv->u.values ? dict_unshare(dv, 1) : dict_reserve(NULL, dv, 1)) < 0)
        return -1;
    return dict_lookup(dv->u.dict, key, hash, &at, slot); /* cannot fail: key is absent */
}

/* Inserts key (hash given) with value, taking both references: d[key] = value. */
static inline int dict_insert_steal(st_value *dv, st_value *key, int64_t hash, st_value *value)
{
    size_t at = 0, slot;
    int r = dict_lookup(dv->u.dict, key, hash, &at, &slot);
    if (r)
        return dict_found_steal(dv, r, at, key, value);
    if (dv->u.dict->nentries == dv->u.dict->cap && dict_room(dv, key, hash, &slot) < 0) {
        st_value_unref(key);
        st_value_unref(value);
        return -1;
    }
    st__dict *d = dv->u.dict;
    d->entries[d->nentries] = (st__dentry){key, value, hash};
    ix_set(d, slot, ++d->nentries);
    d->used++;
    return 0;
}

int st_value_dict_set(st_value *dv, st_value *key, st_value *value)
{
    if (st__base_kind(dv) != ST_VALUE_DICT)
        return st__wrong_kind(dv, "dict");
    int64_t hash;
    if (st_value_hash(key, &hash) < 0)
        return ST_TRACE();
    return dict_insert_steal(dv, st_value_ref(key), hash, st_value_ref(value)) ? ST_TRACE() : 0;
}

/* ---- shapes: the keys of shared-key dicts ------------------------------------------------- */

static st__shape *shape_ref(st__shape *s)
{
    atomic_fetch_add_explicit(&s->rc, 1, memory_order_relaxed);
    return s;
}

/* Finds the key set of the pairs kv[0, 2n) among the cache's by the mix of their addresses
 * and moves it first (a new one goes first, the least recently used leaves): 1 when it was
 * there. */
static int shapes_find(st__shapes *c, st_value *const *kv, size_t n)
{
    uint64_t sig = n;
    for (size_t i = 0; i < n; i++)
        sig = (sig ^ (uintptr_t)kv[2 * i]) * 0x9E3779B97F4A7C15ULL;
    size_t j = 0;
    while (j < ST__SHAPES && c->e[j].sig != sig)
        j++;
    int found = j < ST__SHAPES;
    if (!found) {
        j = ST__SHAPES - 1;
        if (c->e[j].shape)
            shape_unref(c->e[j].shape);
        c->e[j].shape = NULL;
        c->e[j].sig = sig;
    }
    if (j) {
        st__shapes_entry e = c->e[j];
        memmove(&c->e[1], &c->e[0], j * sizeof e);
        c->e[0] = e;
    }
    return found;
}

/* 1 if the pairs kv[0, 2n) have the keys of shape s: the same objects in the same order. */
static inline int shape_keys(const st__shape *s, st_value *const *kv, size_t n)
{
    if (s->keys.nentries != n)
        return 0;
    const st__dentry *e = s->keys.entries;
    for (st_value *const *k = kv, *const *end = kv + 2 * n; k != end; k += 2, e++)
        if (*k != e->key)
            return 0;
    return 1;
}

/* Makes an empty dict one of shape s, whose keys the pairs kv[0, 2n) have, keeping their
 * values in `values` (from items_alloc(), at `where`); takes the references. */
static inline void shape_fill(st_value *dv, st__shape *s, st_value *const *kv, size_t n,
                              st_value **values, int where)
{
    for (size_t i = 0; i < n; i++) {
        values[i] = kv[2 * i + 1];
        /* the shape holds the key too, so this reference is not its last; a str is neither
         * an immediate nor immortal: a plain decrement */
        atomic_fetch_sub_explicit(&kv[2 * i]->h.rc, 1, memory_order_release);
    }
    set_arena_items(dv, where);
    dv->u.dict = &shape_ref(s)->keys;
    dv->u.values = values;
}

/* Fills an empty dict with the pairs kv[0, 2n) as a dict of shape s when they have its keys:
 * 1 done (the references taken), 0 not. */
static int shape_attach(st__arena *a, st_value *dv, st__shape *s, st_value *const *kv, size_t n)
{
    if (!shape_keys(s, kv, n))
        return 0;
    int where;
    st_value **values = items_alloc(a, dv, n * sizeof *values, &where);
    if (!values)
        return 0; /* a table, then */
    shape_fill(dv, s, kv, n, values, where);
    return 1;
}

/* Makes a dict's table, n distinct str keys and no deleted entry, the table of a new shape
 * (holding the references to the keys; no room for more) and keeps only the values: NULL
 * when memory is short (the dict stays as it was). The shape has two references, the dict's
 * and the cache's. */
static st__shape *dict_share(st__arena *a, st_value *dv)
{
    st__dict *d = dv->u.dict;
    size_t n = d->nentries, isize = (d->mask + 1) << d->ixw;
    st__shape *s = malloc(sizeof *s + n * sizeof(st__dentry) + isize);
    if (!s)
        return NULL;
    int where;
    st_value **values = items_alloc(a, dv, n * sizeof *values, &where);
    if (!values) {
        free(s);
        return NULL;
    }
    s->keys = *d;
    s->keys.entries = (st__dentry *)(void *)(s + 1);
    s->keys.cap = n;
    memcpy(s->keys.entries, d->entries, n * sizeof(st__dentry));
    memcpy(index_of(&s->keys), index_of(d), isize);
    atomic_init(&s->rc, 2);
    items_free(d, arena_items(dv), value_chunk(dv));
    for (size_t i = 0; i < n; i++) {
        values[i] = s->keys.entries[i].value;
        s->keys.entries[i].value = NULL;
    }
    set_arena_items(dv, where);
    dv->u.dict = &s->keys;
    dv->u.values = values;
    return s;
}

/* 1 if a table's keys are all strs (none deleted). */
static int all_str_keys(const st__dict *d)
{
    for (size_t i = 0; i < d->nentries; i++)
        if (st__kind(d->entries[i].key) != ST_VALUE_STR)
            return 0;
    return 1;
}

void st__shapes_done(st__shapes *c)
{
    for (size_t i = 0; i < ST__SHAPES; i++)
        if (c->e[i].shape)
            shape_unref(c->e[i].shape);
    memset(c, 0, sizeof *c);
}

const void *st__dict_shape(const st_value *d) { return d->u.values ? shape_of(d) : NULL; }

/* st__dict_update_steal() but for a record of the shape used last. */
ST__NOINLINE static int dict_update(st__arena *a, st__shapes *shapes, st_value *dv,
                                    st_value *const *kv, size_t n)
{
    size_t i = 0;
    /* An empty dict filled with the keys of a recent shape shares it; the second one filled
     * with the same str keys lately makes their shape. */
    int share = 0;
    if (shapes && n && n <= SHAPE_MAX && !dv->u.values && !dv->u.dict->entries &&
        shapes_find(shapes, kv, n)) {
        st__shape *s = shapes->e[0].shape;
        if (s && shape_attach(a, dv, s, kv, n))
            return 0;
        share = !s;
    }
    int rc = 0;
    if (dv->u.values)
        rc = dict_unshare(dv, n);
    else if (n > dv->u.dict->cap - dv->u.dict->nentries)
        rc = dict_reserve(a, dv, n);
    for (; rc == 0 && i < n; i++) {
        int64_t hash;
        size_t len;
        const char *p;
        st_value *k = kv[2 * i];
        if (!st__imm(k) && (k->flags & ST__V_HASHED)) { /* memoized keys: hashed at first use */
            hash = k->kind == ST_VALUE_STR ? k->u.s.hash : *hash_cache(k);
        } else if (st__kind(k) == ST_VALUE_STR &&
                   (p = st__data(k, &len), len == st__str_nchars(k))) {
            /* the common key, an ASCII str: str_hash without the dispatch */
            hash = k->u.s.hash = bytes_hash((const unsigned char *)p, len);
            k->flags |= ST__V_HASHED;
        } else if (hash_depth(k, &hash, 0) < 0) {
            break;
        }
        rc = dict_insert_steal(dv, kv[2 * i], hash, kv[2 * i + 1]);
    }
    if (i == n && rc == 0) {
        if (share && dv->u.dict->nentries == n && all_str_keys(dv->u.dict))
            shapes->e[0].shape = dict_share(a, dv);
        return 0;
    }
    for (; i < n; i++) {
        st_value_unref(kv[2 * i]);
        st_value_unref(kv[2 * i + 1]);
    }
    return ST_TRACE();
}

int st__dict_update_steal(st__arena *a, st__shapes *shapes, st_value *dv, st_value *const *kv,
                          size_t n)
{
#if ARENA
    /* A load's records: an empty dict filled with the keys of the shape used last, compared
     * with them directly (no mix of their addresses, no search), its values next to it. */
    st__shape *last;
    st_value **values;
    if (a && shapes && (last = shapes->e[0].shape) && dv->u.dict == &g_no_table &&
        shape_keys(last, kv, n) && (values = near_take(a, dv, n * sizeof *values))) {
        shape_fill(dv, last, kv, n, values, ITEMS_NEAR);
        return 0;
    }
#endif
    return dict_update(a, shapes, dv, kv, n);
}

int st_value_dict_set_steal(st_value *d, st_value *key, st_value *value)
{
    int rc = key && value ? st_value_dict_set(d, key, value) : -1;
    st_value_unref(key);
    st_value_unref(value);
    return rc;
}

static int raise_key_error(const st_value *key)
{
    char *r = st_value_repr(key);
    ST_RAISE(ST_EKEY, "%s", r ? r : "?");
    st_free(r);
    return -1;
}

/* Finds the entry of key: 1 found (*at), 0 missing, -1 error (TypeError for a wrong kind). */
static int dict_find(const st_value *dv, const st_value *key, size_t *at)
{
    if (st__base_kind(dv) != ST_VALUE_DICT)
        return st__wrong_kind(dv, "dict");
    int64_t hash;
    size_t slot;
    if (st_value_hash(key, &hash) < 0)
        return -1;
    return dict_lookup(dv->u.dict, key, hash, at, &slot);
}

st_value *st_value_dict_get(const st_value *d, const st_value *key)
{
    size_t at = 0;
    int r = dict_find(d, key, &at);
    if (r <= 0)
        return (r == 0 ? raise_key_error(key) : ST_TRACE(), NULL);
    return *dict_slot(d, at);
}

st_value *st_value_dict_get_str(const st_value *d, const char *key)
{
    st_value *k = st_value_str(key);
    if (!k)
        return (ST_TRACE(), NULL);
    st_value *v = st_value_dict_get(d, k);
    st_value_unref(k);
    return v;
}

int st_value_dict_delete(st_value *dv, const st_value *key)
{
    size_t at = 0;
    int r = dict_find(dv, key, &at);
    if (r <= 0)
        return r == 0 ? raise_key_error(key) : ST_TRACE();
    if (dv->u.values && dict_unshare(dv, 0) < 0) /* the entry keeps its position */
        return ST_TRACE();
    st__dict *d = dv->u.dict;
    st__dentry e = d->entries[at];
    uint64_t perturb = (uint64_t)e.hash;
    size_t i = (size_t)e.hash & d->mask;
    while (ix_get(d, i) != at + 1) {
        i = probe_next(i, &perturb, d->mask);
    }
    ix_set(d, i, ix_dummy(d));
    d->entries[at].key = d->entries[at].value = NULL;
    d->used--;
    st_value_unref(e.key);
    st_value_unref(e.value);
    return 0;
}

int st_value_dict_next(const st_value *dv, size_t *pos, st_value **key, st_value **value)
{
    if (st__base_kind(dv) != ST_VALUE_DICT)
        return st__wrong_kind(dv, "dict");
    return st__dict_next(dv, pos, key, value);
}

/* ---- set: CPython's table, probes and resizes, so iteration order matches -------------- */

#define LINEAR_PROBES 9

static void set_init(st__set *s)
{
    memset(s, 0, sizeof *s + SET_MINSIZE * sizeof(st__sentry));
    s->table = small_table(s);
    s->mask = SET_MINSIZE - 1;
}

/* st__container_new() of the kinds but list and dict. */
ST__NOINLINE static st_value *container_new(st__arena *a, st_value_type kind)
{
    if (kind == ST_VALUE_DEQUE) {
        st_value *v = value_new(a, kind, 0);
        if (v)
            v->u.seq.maxlen = -1;
        return v;
    }
    if (kind == ST_VALUE_ORDEREDDICT || kind == ST_VALUE_DEFAULTDICT || kind == ST_VALUE_COUNTER) {
        size_t size = kind == ST_VALUE_DEFAULTDICT ? ST__DICT_FACTORY + 2 * sizeof(st_value *)
                                                   : ST__DICT_FACTORY;
        st_value *v = value_sized(a, kind, size);
        if (v) {
            v->u.dict = &g_no_table;
            v->u.values = NULL;
            if (kind == ST_VALUE_DEFAULTDICT)
                factory_of(v)[0] = factory_of(v)[1] = NULL;
        }
        return v;
    }
    st_value *v = value_new(a, kind, sizeof(st__set) + SET_MINSIZE * sizeof(st__sentry));
    if (v) {
        v->u.set = (st__set *)(v + 1);
        set_init(v->u.set);
    }
    return v;
}

st_value *st__container_new(st__arena *a, st_value_type kind)
{
    /* a load's lists and dicts: a few stores (the rest, in the arena's fast path) */
    if (kind == ST_VALUE_LIST) {
        st_value *v = value_sized(a, kind, offsetof(st_value, u.seq.maxlen));
        if (v) {
            v->u.seq.items = NULL;
            v->u.seq.len = v->u.seq.cap = 0;
        }
        return v;
    }
    if (kind == ST_VALUE_DICT) {
        st_value *v = value_sized(a, kind, ST__DICT_FACTORY);
        if (v) {
            v->u.dict = &g_no_table;
            v->u.values = NULL;
        }
        return v;
    }
    return container_new(a, kind);
}

st_value *st_value_set(void) { return st__container_new(NULL, ST_VALUE_SET); }

st_value *st__std_new(st_value_type kind) { return value_new(NULL, kind, 0); }

st_value *st__timezone_utc(void) { return &g_utc; }

st_value *st_value_ordereddict(void) { return st__container_new(NULL, ST_VALUE_ORDEREDDICT); }

st_value *st_value_counter(void) { return st__container_new(NULL, ST_VALUE_COUNTER); }

st_value *st_value_defaultdict(const char *module, const char *qualname)
{
    st_value *d = st__container_new(NULL, ST_VALUE_DEFAULTDICT);
    st_value **f = d ? factory_of(d) : NULL;
    if (d && module && qualname &&
        (!(f[0] = st_value_str(module)) || !(f[1] = st_value_str(qualname))))
        return (st_value_unref(d), NULL);
    return d;
}

void st__deque_trim(st_value *d)
{
    size_t len = d->u.seq.len, keep = (size_t)d->u.seq.maxlen;
    if (d->u.seq.maxlen < 0 || len <= keep)
        return;
    size_t drop = len - keep;
    st_value **gone = st__malloc(drop * sizeof *gone);
    if (gone) /* released after the move: a release may reach d again */
        memcpy(gone, d->u.seq.items, drop * sizeof *gone);
    else
        for (size_t i = 0; i < drop; i++)
            st_value_unref(d->u.seq.items[i]);
    memmove(d->u.seq.items, d->u.seq.items + drop, keep * sizeof *d->u.seq.items);
    d->u.seq.len = keep;
    for (size_t i = 0; gone && i < drop; i++)
        st_value_unref(gone[i]);
    free(gone);
}

st_value *st_value_deque(ptrdiff_t maxlen)
{
    if (maxlen < -1)
        return (ST_RAISE(ST_EVALUE, "maxlen must be non-negative"), NULL);
    st_value *d = st__container_new(NULL, ST_VALUE_DEQUE);
    if (d)
        d->u.seq.maxlen = maxlen;
    return d;
}

st_value *st_value_frozenset(void) { return st__container_new(NULL, ST_VALUE_FROZENSET); }

/* set_lookkey: 1 found (*found), 0 absent, -1 error. */
static int set_lookup(const st__set *s, const st_value *key, int64_t hash, st__sentry **found)
{
    uint64_t perturb = (uint64_t)hash;
    size_t mask = s->mask, i = (size_t)hash & mask;
    for (;;) {
        st__sentry *e = &s->table[i];
        size_t probes = i + LINEAR_PROBES <= mask ? LINEAR_PROBES : 0;
        do {
            if (e->hash == 0 && !e->key)
                return 0;
            if (e->hash == hash && e->key != st__set_dummy) {
                int r = key_equal(e->key, e->hash, key, hash);
                if (r) {
                    *found = e;
                    return r;
                }
            }
            e++;
        } while (probes--);
        i = probe_next(i, &perturb, mask);
    }
}

static void set_insert_clean(st__sentry *table, size_t mask, st_value *key, int64_t hash)
{
    uint64_t perturb = (uint64_t)hash;
    size_t i = (size_t)hash & mask;
    st__sentry *e;
    for (;;) {
        e = &table[i];
        if (!e->key)
            goto found;
        if (i + LINEAR_PROBES <= mask)
            for (size_t j = 0; j < LINEAR_PROBES; j++)
                if (!(++e)->key)
                    goto found;
        i = probe_next(i, &perturb, mask);
    }
found:
    e->key = key;
    e->hash = hash;
}

static int set_resize(st__set *s, size_t minused)
{
    size_t newsize = SET_MINSIZE;
    while (newsize <= minused)
        newsize <<= 1;
    if (newsize == SET_MINSIZE && s->mask + 1 == SET_MINSIZE && s->fill == s->used)
        return 0;
    st__sentry copy[SET_MINSIZE], *old = s->table, *table;
    if (newsize == SET_MINSIZE) {
        /* back to (or rebuilt in) the small table: keep the old entries aside first */
        if (old == small_table(s)) {
            memcpy(copy, old, sizeof copy);
            old = copy;
        }
        table = small_table(s);
        memset(table, 0, SET_MINSIZE * sizeof *table);
    } else if (!(table = st__calloc(newsize, sizeof *table))) {
        return -1;
    }
    for (size_t i = 0; i <= s->mask; i++)
        if (old[i].key && old[i].key != st__set_dummy)
            set_insert_clean(table, newsize - 1, old[i].key, old[i].hash);
    if (old != copy && old != small_table(s))
        free(old);
    s->table = table;
    s->mask = newsize - 1;
    s->fill = s->used;
    return 0;
}

/* set_add_entry: takes a reference to key only when it is inserted. */
static int set_add_entry(st__set *s, st_value *key, int64_t hash)
{
    uint64_t perturb = (uint64_t)hash;
    size_t mask = s->mask, i = (size_t)hash & mask;
    st__sentry *freeslot = NULL, *e;
    for (;;) {
        e = &s->table[i];
        size_t probes = i + LINEAR_PROBES <= mask ? LINEAR_PROBES : 0;
        do {
            if (e->hash == 0 && !e->key)
                goto found_unused_or_dummy;
            if (e->hash == hash && e->key != st__set_dummy) {
                int r = key_equal(e->key, e->hash, key, hash);
                if (r)
                    return r < 0 ? -1 : 0;
            } else if (e->hash == -1 && e->key == st__set_dummy) {
                freeslot = e;
            }
            e++;
        } while (probes--);
        i = probe_next(i, &perturb, mask);
    }
found_unused_or_dummy:
    if (freeslot) {
        s->used++;
        freeslot->key = st_value_ref(key);
        freeslot->hash = hash;
        return 0;
    }
    s->fill++;
    s->used++;
    e->key = st_value_ref(key);
    e->hash = hash;
    if (s->fill * 5 < mask * 3)
        return 0;
    return set_resize(s, s->used > 50000 ? s->used * 2 : s->used * 4);
}

static int is_set(const st_value *v)
{
    st_value_type k = st__kind(v);
    return k == ST_VALUE_SET || k == ST_VALUE_FROZENSET;
}

int st_value_set_add(st_value *sv, st_value *item)
{
    if (!is_set(sv))
        return st__wrong_kind(sv, "set");
    int64_t hash;
    if (st_value_hash(item, &hash) < 0 || set_add_entry(sv->u.set, item, hash) < 0)
        return ST_TRACE();
    sv->flags &= (unsigned char)~ST__V_HASHED;
    return 0;
}

int st_value_set_add_steal(st_value *s, st_value *item)
{
    int rc = item ? st_value_set_add(s, item) : -1;
    st_value_unref(item);
    return rc;
}

int st_value_set_remove(st_value *sv, const st_value *item)
{
    if (st__kind(sv) != ST_VALUE_SET)
        return st__wrong_kind(sv, "set");
    int64_t hash;
    st__sentry *e;
    if (st_value_hash(item, &hash) < 0)
        return ST_TRACE();
    int r = set_lookup(sv->u.set, item, hash, &e);
    if (r <= 0)
        return r == 0 ? raise_key_error(item) : ST_TRACE();
    st_value *old = e->key;
    e->key = st__set_dummy;
    e->hash = -1;
    sv->u.set->used--;
    st_value_unref(old);
    return 0;
}

/* ---- any container ----------------------------------------------------------------------- */

ptrdiff_t st_value_len(const st_value *v)
{
    size_t len;
    switch (st__base_kind(v)) {
    case ST_VALUE_STR:
        return (ptrdiff_t)st__str_nchars(v);
    case ST_VALUE_BYTES:
    case ST_VALUE_BYTEARRAY:
        return (ptrdiff_t)(st__data(v, &len), len);
    case ST_VALUE_PICKLEBUFFER:
        return (ptrdiff_t)(st__data(v->u.pbuf.base, &len), len);
    case ST_VALUE_TUPLE:
    case ST_VALUE_LIST:
        return (ptrdiff_t)v->u.seq.len;
    case ST_VALUE_DICT:
        return (ptrdiff_t)v->u.dict->used;
    case ST_VALUE_SET:
    case ST_VALUE_FROZENSET:
        return (ptrdiff_t)v->u.set->used;
    default:
        return ST_RAISE(ST_ETYPE, "object of type '%s' has no len()", st_value_type_name(v));
    }
}

int st_value_contains(const st_value *c, const st_value *item)
{
    int64_t hash;
    size_t at = 0;
    st__sentry *e;
    switch (st__base_kind(c)) {
    case ST_VALUE_TUPLE:
    case ST_VALUE_LIST:
        for (size_t i = 0; i < c->u.seq.len; i++) {
            int r = item_equal(c->u.seq.items[i], item, 0);
            if (r)
                return r < 0 ? ST_TRACE() : 1;
        }
        return 0;
    case ST_VALUE_DICT: {
        int r = dict_find(c, item, &at);
        return r < 0 ? ST_TRACE() : r;
    }
    case ST_VALUE_SET:
    case ST_VALUE_FROZENSET: {
        if (st_value_hash(item, &hash) < 0)
            return ST_TRACE();
        int r = set_lookup(c->u.set, item, hash, &e);
        return r < 0 ? ST_TRACE() : r;
    }
    default:
        return ST_RAISE(ST_ETYPE, "argument of type '%s' is not iterable", st_value_type_name(c));
    }
}

int st_value_next(const st_value *c, size_t *pos, st_value **item)
{
    switch (st__base_kind(c)) {
    case ST_VALUE_TUPLE:
    case ST_VALUE_LIST:
        if (*pos >= c->u.seq.len)
            return 0;
        *item = c->u.seq.items[(*pos)++];
        return 1;
    case ST_VALUE_DICT:
        return st_value_dict_next(c, pos, item, NULL);
    case ST_VALUE_SET:
    case ST_VALUE_FROZENSET:
        return st__set_next(c, pos, item);
    case ST_VALUE_STR:
    case ST_VALUE_BYTES:
    case ST_VALUE_BYTEARRAY:
        /* Iterable in Python, but their items would be new values, not borrowed ones. */
        return ST_RAISE(ST_ETYPE, "'%s' object is not iterable by st_value_next(): read it "
                                  "with st_value_%s_data()",
                        st_value_type_name(c), st__kind(c) == ST_VALUE_STR ? "str" : "bytes");
    default:
        return ST_RAISE(ST_ETYPE, "'%s' object is not iterable", st_value_type_name(c));
    }
}

int st_value_clear(st_value *c)
{
    if (st__kind(c) < ST_VALUE_BYTEARRAY) /* before the copy: an arena int or float is shorter */
        return st__wrong_kind(c, "list, dict, set or bytearray");
    if (st__kind(c) == ST_VALUE_OBJECT)
        return st__object_clear(c);
    /* the fields a list, dict or set has (a list ends there, a dict before) */
    st_value tmp;
    memcpy(&tmp, c,
           st__base_kind(c) == ST_VALUE_DICT ? ST__DICT_FACTORY : offsetof(st_value, u.seq.maxlen));
    struct {
        st__set s;
        st__sentry small[SET_MINSIZE];
    } old_set;
    switch (st__base_kind(c)) {
    case ST_VALUE_LIST:
        c->u.seq.items = NULL;
        c->u.seq.len = c->u.seq.cap = 0;
        set_arena_items(c, 0);
        break;
    case ST_VALUE_BYTEARRAY:
        c->u.s.len = c->u.s.nchars = 0;
        c->u.s.data[0] = '\0';
        return 0;
    case ST_VALUE_DICT:
        c->u.values = NULL; /* the table or values stay tmp's, in blocks of their own */
        c->u.dict = &g_no_table;
        set_arena_items(c, 0);
        break;
    case ST_VALUE_SET:
    case ST_VALUE_FROZENSET:
        /* the old entries move aside (with the small table's contents) before c empties */
        memcpy(&old_set, c->u.set, sizeof old_set);
        if (old_set.s.table == small_table(c->u.set))
            old_set.s.table = old_set.small;
        tmp.u.set = &old_set.s;
        set_init(c->u.set);
        c->flags = 0;
        break;
    default:
        return st__wrong_kind(c, "list, dict, set or bytearray");
    }
    tmp.kind = (unsigned char)st__base_kind(c); /* a defaultdict keeps its factory */
    /* Release the old contents only now: a child's release may reach c again. */
    st_value *dead = NULL;
    release_contents(&tmp, value_chunk(c), &dead);
    release_dead(dead);
    return 0;
}

/* ---- deep copy --------------------------------------------------------------------------- */

/* Maps originals to their copies (open addressing on the pointer). */
typedef struct memo {
    const st_value **from;
    st_value **to;
    size_t mask, used;
} memo;

static size_t ptr_slot(const memo *m, const st_value *p)
{
    size_t i = ((uintptr_t)p >> 4) * 0x9E3779B97F4A7C15ULL & m->mask;
    while (m->from[i] && m->from[i] != p)
        i = (i + 1) & m->mask;
    return i;
}

static st_value *memo_get(const memo *m, const st_value *p)
{
    return m->mask ? m->to[ptr_slot(m, p)] : NULL;
}

static int memo_put(memo *m, const st_value *p, st_value *copy)
{
    if ((m->used + 1) * 2 > m->mask) {
        memo big = {NULL, NULL, m->mask ? m->mask * 2 + 1 : 15, 0};
        big.from = st__calloc(big.mask + 1, sizeof *big.from);
        big.to = st__calloc(big.mask + 1, sizeof *big.to);
        if (!big.from || !big.to) {
            free(big.from);
            free(big.to);
            return -1;
        }
        for (size_t i = 0; m->mask && i <= m->mask; i++)
            if (m->from[i]) {
                size_t j = ptr_slot(&big, m->from[i]);
                big.from[j] = m->from[i];
                big.to[j] = m->to[i];
            }
        big.used = m->used;
        free(m->from);
        free(m->to);
        *m = big;
    }
    size_t i = ptr_slot(m, p);
    m->from[i] = p;
    m->to[i] = copy; /* borrowed: the copy tree owns it */
    m->used++;
    return 0;
}

static st_value *copy_depth(const st_value *v, memo *m, int depth);

static st_value *copy_container(const st_value *v, memo *m, int depth)
{
    st_value *c = st__container_new(NULL, (st_value_type)v->kind);
    if (c && v->kind == ST_VALUE_DEQUE)
        c->u.seq.maxlen = v->u.seq.maxlen;
    if (c && v->kind == ST_VALUE_DEFAULTDICT) {
        factory_of(c)[0] = st_value_ref(st__factory(v)[0]);
        factory_of(c)[1] = st_value_ref(st__factory(v)[1]);
    }
    if (!c || memo_put(m, v, c) < 0)
        return (st_value_unref(c), NULL);
    size_t pos = 0;
    st_value *k, *val;
    if (st__base_kind(v) == ST_VALUE_LIST) {
        for (size_t i = 0; i < v->u.seq.len; i++)
            if (st_value_list_append_steal(c, copy_depth(v->u.seq.items[i], m, depth + 1)) < 0)
                return (st_value_unref(c), NULL);
        return c;
    }
    if (v->u.values) { /* its keys are strs, which copy to themselves: it shares the shape */
        size_t n = v->u.dict->nentries;
        st_value **values = st__calloc(n, sizeof *values); /* a copy failing half-way drops them */
        if (!values)
            return (st_value_unref(c), NULL);
        c->u.dict = &shape_ref(shape_of(v))->keys;
        c->u.values = values;
        for (size_t i = 0; i < n; i++)
            if (!(values[i] = copy_depth(v->u.values[i], m, depth + 1)))
                return (st_value_unref(c), NULL);
        return c;
    }
    while (st_value_dict_next(v, &pos, &k, &val))
        if (st_value_dict_set_steal(c, copy_depth(k, m, depth + 1), copy_depth(val, m, depth + 1)) < 0)
            return (st_value_unref(c), NULL);
    return c;
}

/* copy.deepcopy's tuple rule: a tuple whose items all copy to themselves is shared; a tuple
 * reached again while its items were being copied (a cycle through a list) is the memo's. */
static st_value *copy_tuple(const st_value *v, memo *m, int depth)
{
    size_t n = v->u.seq.len;
    st_value **items = st__calloc(n ? n : 1, sizeof *items);
    if (!items)
        return NULL;
    int same = 1;
    for (size_t i = 0; i < n; i++) {
        items[i] = copy_depth(v->u.seq.items[i], m, depth + 1);
        if (!items[i]) {
            for (size_t j = 0; j < i; j++)
                st_value_unref(items[j]);
            free(items);
            return NULL;
        }
        same &= items[i] == v->u.seq.items[i];
    }
    st_value *t = same ? st_value_ref((st_value *)v) : st_value_ref(memo_get(m, v));
    if (!t)
        t = st_value_tuple(n, items);
    for (size_t i = 0; i < n; i++)
        st_value_unref(items[i]);
    free(items);
    if (t && !memo_get(m, v) && memo_put(m, v, t) < 0)
        return (st_value_unref(t), NULL);
    return t;
}

/* An object's copy is in the memo before its parts are copied: they may lead back to it. */
static st_value *copy_object(const st_value *v, memo *m, int depth)
{
    st_value *c = value_new(NULL, ST_VALUE_OBJECT, sizeof(st__object));
    if (!c || memo_put(m, v, c) < 0)
        return (st_value_unref(c), NULL);
    c->u.obj = (st__object *)(void *)(c + 1);
    c->u.obj->form = v->u.obj->form;
    for (int i = 0; i < 7; i++)
        if (v->u.obj->part[i] && !(c->u.obj->part[i] = copy_depth(v->u.obj->part[i], m, depth + 1)))
            return (st_value_unref(c), NULL);
    return c;
}

static st_value *copy_depth(const st_value *v, memo *m, int depth)
{
    if (depth > ST_VALUE_MAX_DEPTH)
        return (ST_RAISE(ST_ERECURSION, "maximum recursion depth exceeded while copying"), NULL);
    st_value *seen = memo_get(m, v);
    if (seen)
        return st_value_ref(seen);
    switch (st__kind(v)) {
    case ST_VALUE_BYTEARRAY:
        return st_value_bytearray(v->u.s.data, v->u.s.len);
    case ST_VALUE_LIST:
    case ST_VALUE_DICT:
    case ST_VALUE_ORDEREDDICT:
    case ST_VALUE_DEFAULTDICT:
    case ST_VALUE_DEQUE:
    case ST_VALUE_COUNTER:
        return copy_container(v, m, depth);
    case ST_VALUE_TUPLE:
        return copy_tuple(v, m, depth);
    case ST_VALUE_SET: {
        st_value *s = st_value_set();
        size_t pos = 0;
        st_value *item;
        while (s && st_value_next(v, &pos, &item))
            if (st_value_set_add_steal(s, copy_depth(item, m, depth + 1)) < 0)
                return (st_value_unref(s), NULL);
        return s;
    }
    case ST_VALUE_OBJECT:
        return copy_object(v, m, depth);
    default: /* immutable all the way down (a frozenset holds only hashable values) */
        return st_value_ref((st_value *)v);
    }
}

st_value *st_value_copy(const st_value *v)
{
    memo m = {NULL, NULL, 0, 0};
    st_value *c = copy_depth(v, &m, 0);
    free(m.from);
    free(m.to);
    return c ? c : (ST_TRACE(), NULL);
}
