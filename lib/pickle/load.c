/* pickle: the loader. It understands every opcode CPython emits, and runs no code: what is not
 * plain data is refused, or with objects on kept as data (globals and objects). */
#include "systools/pickle.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal/compiler.h"
#include "internal/error.h"
#include "internal/mem.h"
#include "internal/options.h"
#include "internal/posix.h"
#include "internal/utf8.h"
#include "internal/value.h"
#include "pickle.h"
#include "st_config.h"

#define UNPICKLING_ERROR "pickle.UnpicklingError"

/* What the loader knows about a stack or memo entry besides its value. */
typedef struct meta {
    uint32_t depth;  /* nesting of the value as built */
    uint16_t global; /* G_*: a global (value NULL) or arguments that only REDUCE may use */
    uint16_t base;   /* G_RECON_ARGS: the type (G_*) to call on the value; G_FACTORY_ARGS:
                        the factory's G_*; a value: G_UUID for a UUID awaiting BUILD */
} meta;

/* A MARK: where its items start, and the summary of the frame below it (see fsum). */
typedef struct mark {
    size_t at;
    uint32_t sum;
} mark;

/* A value with its meta (a stack entry taken apart). */
typedef struct slot {
    st_value *v;
    meta m;
} slot;

/* The first stack, marks and memo of a load live in its frame: a small load mallocs none. */
#define SMALL_STACK 32
#define SMALL_MARKS 16
#define SMALL_MEMO 32
/* A memo from this many bytes on (or expected to reach it) is one of the arena's big blocks:
 * a fault per huge page instead of per 4 KiB page in a fresh process, none when the last
 * load's is still cached. */
#define MEMO_BIG ((size_t)256 << 10)
/* At most this much memo is made room for from the input's size alone (a mapping that large is
 * address space only, but the cache of the arena keeps blocks up to 64 MiB in all). */
#define MEMO_EXPECT_MAX ((size_t)32 << 20)
typedef struct small_store {
    st_value *sv[SMALL_STACK];
    meta sm[SMALL_STACK];
    mark marks[SMALL_MARKS];
    st_value *memo[SMALL_MEMO];
    meta mm[SMALL_MEMO];
} small_store;

typedef struct unpickler {
    /* Input: [p, end) is what is available; start is where the window began, at offset base. */
    const unsigned char *p, *end, *start;
    uint64_t base; /* 64 bits: a stream may outgrow a 32-bit size_t */
    int fd;      /* -1: not a descriptor */
    FILE *f;     /* NULL: not a stdio stream */
    st__buf win; /* the window for streams */
    /* Where the current opcode starts; NULL once fill() moved the window, op_offset then. */
    const unsigned char *op_at;
    uint64_t op_offset;
    const st_pickle_load_options *o;
    size_t max_depth;

    st__arena arena;   /* where the values come from */
    st__shapes shapes; /* the keys of the records' dicts */
    /* The stack: values apart from their meta, so a container takes its items in one copy. */
    st_value **sv;
    meta *sm;
    size_t sp, scap;
    mark *marks;
    size_t nmarks, mcap;
    /* The items since the last MARK (the frame) summed up, so that the container they go into
     * needs no look at each: below SUM_SCAN, the largest depth among them, none a global;
     * SUM_SCAN set, look at them (a global is among them, or some went away). */
    uint32_t fsum;
    uint32_t sum_fast; /* a frame whose fsum is below this nests within max_depth */
    /* The memo: values without their meta, which has its own array once an entry's is not
     * the plain value's (a global, a nesting depth). Without memo_refs the memo holds no
     * references, so the end of a load touches none of its values again: the graveyard keeps
     * what dies until then, and a fetch takes it back. With objects or the caller's callbacks
     * (which may hand values to other threads, or look at their counts) it holds references. */
    st_value **memo;
    meta *mm;
    size_t memo_cap, memo_top, memo_len; /* allocated, initialised, filled */
    /* The short ways, open while every entry below memo_top is a value stored as itself (no
     * meta, no gap: memo_len is memo_top): */
    size_t fetch_top;  /* memo_top then, else 0: the bound of the fast fetch */
    size_t memo_plain; /* memo_cap then and without references, else 0: the one test of the
                          paths that store a plain value */
    int memo_refs;
    int memo_big;       /* the memo is from st__big_alloc() */
    size_t memo_expect; /* bytes of memo to make room for at once, when big (from the input) */
    st__grave grave;
    char **gnames; /* caller-accepted globals: module, name pairs */
    size_t ngnames;
    /* Containers pushed again by GET or DUP (references held): every reference cycle the
     * load makes goes through one of them. */
    st_value **refetched;
    size_t nrefetched, rcap;
    /* Bounded deques filled past their maxlen (references held), trimmed at the end. */
    st_value **deques;
    size_t ndeques, dcap;
    int keep_error; /* the error stands as raised (a caller's reduce(), a ValueError) */
    /* The version 2 options (zero for a version 1 struct, which has no such fields). */
    int objects;
    st_value *(*persistent_load)(void *ctx, st_value *pid);
    st_value *const *buffers;
    size_t nbuffers, next_buffer;
    int proto; /* the PROTO opcode's, 0 before one: below 3, fix_imports maps names */
    small_store *small;
} unpickler;

static uint64_t offset_of(const unpickler *u, const unsigned char *at)
{
    return u->base + (size_t)(at - u->start);
}

static uint64_t op_offset(const unpickler *u)
{
    return u->op_at ? offset_of(u, u->op_at) : u->op_offset;
}

/* Raises the formatted message: pickle.UnpicklingError followed by " (at offset N)", or
 * (value_error) ValueError with _pickle's exact message, which says no offset. Returns -1. */
static int raise_fmt(unpickler *u, int value_error, const char *fmt, va_list ap)
{
    st__buf b = ST__BUF_INIT;
    if (st__buf_vprintf(&b, fmt, ap))
        return -1;
    if (value_error) {
        ST_RAISE(ST_EVALUE, "%s", b.data);
        u->keep_error = 1;
    } else {
        ST_RAISE_AS(ST_EFORMAT, UNPICKLING_ERROR, "%s (at offset %" PRIu64 ")", b.data,
                    op_offset(u));
    }
    st__buf_free(&b);
    return -1;
}

static int uerror(unpickler *u, const char *fmt, ...) ST__PRINTF(2, 3);

static int uerror(unpickler *u, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = raise_fmt(u, 0, fmt, ap);
    va_end(ap);
    return rc;
}

static int value_error(unpickler *u, const char *fmt, ...) ST__PRINTF(2, 3);

static int value_error(unpickler *u, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = raise_fmt(u, 1, fmt, ap);
    va_end(ap);
    return rc;
}

/* Reads more of a stream so that n bytes are available at u->p: exactly what is missing, in
 * chunks, so a lying length never allocates more than 1 MiB beyond the data that came. */
static int fill(unpickler *u, size_t n)
{
    if (u->op_at) {
        u->op_offset = offset_of(u, u->op_at);
        u->op_at = NULL;
    }
    size_t avail = (size_t)(u->end - u->p);
    uint64_t off = offset_of(u, u->p);
    /* As _pickle: the data ending where an opcode would start is EOFError, inside one
     * "truncated" (as is data cut at max_size). */
    int at_op = avail == 0 && off == u->op_offset && !(u->o->max_size && off == u->o->max_size);
    if (u->fd < 0 && !u->f)
        return at_op ? ST_RAISE(ST_EEOF, "Ran out of input")
                     : uerror(u, "pickle data was truncated");
    if (u->o->max_size && (n > u->o->max_size || off > u->o->max_size - n))
        return uerror(u, "pickle larger than the limit of %zu bytes", u->o->max_size);
    /* Keep the unread bytes at the start of the window. */
    if (u->p != (const unsigned char *)u->win.data && avail)
        memmove(u->win.data, u->p, avail);
    u->win.len = avail;
    u->base = off;
    while (u->win.len < n) {
        size_t want = n - u->win.len;
        if (want > ((size_t)1 << 20))
            want = (size_t)1 << 20;
        if (st__buf_reserve(&u->win, want))
            return ST_TRACE();
        size_t got;
        if (u->f) {
            got = fread(u->win.data + u->win.len, 1, want, u->f);
            if (got == 0 && ferror(u->f))
                return ST_RAISE_OS(errno ? errno : EIO, "cannot read pickle from stream");
        } else {
            ssize_t r = st__read_retry(u->fd, u->win.data + u->win.len, want);
            if (r < 0)
                return ST_RAISE_OS(errno, "cannot read pickle from file descriptor %d", u->fd);
            got = (size_t)r;
        }
        if (got == 0) {
            u->start = u->p = (const unsigned char *)u->win.data;
            u->end = u->p + u->win.len;
            if (at_op)
                return ST_RAISE(ST_EEOF, "Ran out of input");
            return uerror(u, "pickle data was truncated");
        }
        u->win.len += got;
    }
    u->start = u->p = (const unsigned char *)u->win.data;
    u->end = u->p + u->win.len;
    return 0;
}

/* Makes n bytes available at u->p: 0, or -1 (raised). */
static inline int need(unpickler *u, size_t n)
{
    return (size_t)(u->end - u->p) < n && fill(u, n);
}

/* The next n bytes (consumed). */
static inline const unsigned char *take(unpickler *u, size_t n)
{
    if (need(u, n))
        return NULL;
    const unsigned char *r = u->p;
    u->p += n;
    return r;
}

/* The next line without its '\n' (consumed). */
static const unsigned char *take_line(unpickler *u, size_t *len)
{
    size_t scanned = 0;
    for (;;) {
        size_t avail = (size_t)(u->end - u->p);
        const unsigned char *nl = memchr(u->p + scanned, '\n', avail - scanned);
        if (nl) {
            const unsigned char *r = u->p;
            *len = (size_t)(nl - r);
            u->p = nl + 1;
            return r;
        }
        scanned = avail;
        if (fill(u, avail + 1)) /* one byte at a time: never read past the line */
            return NULL;
    }
}

/* ---- stack ---- */

#define SUM_SCAN ((uint32_t)1 << 31)

/* Adds the meta of an item of the frame (pushed, or a container's that took items) to fsum. */
static inline void note_meta(unpickler *u, meta m)
{
    uint32_t s = u->fsum | (m.global ? SUM_SCAN : 0);
    u->fsum = m.depth > s ? m.depth : s;
}

/* Reallocates an array of n items of `size` bytes to cap items, moving it out of the small
 * store (`small`) the first time. */
static void *grow_array(void *p, const void *small, size_t n, size_t cap, size_t size)
{
    if (p != small)
        return st__reallocarray(p, cap, size);
    void *q = st__reallocarray(NULL, cap, size);
    if (q)
        memcpy(q, p, n * size);
    return q;
}

static int grow_stack(unpickler *u)
{
    size_t cap = u->scap * 2;
    st_value **v = grow_array(u->sv, u->small->sv, u->sp, cap, sizeof *v);
    if (v)
        u->sv = v;
    meta *m = v ? grow_array(u->sm, u->small->sm, u->sp, cap, sizeof *m) : NULL;
    if (!m)
        return ST_TRACE();
    u->sm = m;
    u->scap = cap;
    return 0;
}

static int push_slow(unpickler *u, st_value *v, meta m)
{
    if (!v && !m.global)
        return ST_TRACE();
    if (grow_stack(u)) {
        st_value_unref(v);
        return -1;
    }
    u->sv[u->sp] = v;
    u->sm[u->sp++] = m;
    note_meta(u, m);
    return 0;
}

/* Pushes v (taking the reference) unless it is NULL for a failure. */
static inline int push(unpickler *u, st_value *v, meta m)
{
    if ((!v && !m.global) || u->sp == u->scap)
        return push_slow(u, v, m);
    u->sv[u->sp] = v;
    u->sm[u->sp++] = m;
    note_meta(u, m); /* nothing for a plain value's */
    return 0;
}

static inline int push_value(unpickler *u, st_value *v)
{
    return push(u, v, (meta){0, G_NONE, 0});
}

/* The index of the first item after the last MARK (the mark is removed, its frame's summary
 * is *sum, the frame below is the current one again). */
static ST__INLINE int pop_mark(unpickler *u, size_t *at, uint32_t *sum)
{
    if (ST__UNLIKELY(u->nmarks == 0))
        return uerror(u, "could not find MARK");
    mark k = u->marks[--u->nmarks];
    *at = k.at;
    *sum = u->fsum;
    u->fsum = k.sum;
    return 0;
}

/* After items of the frame went away otherwise than into a container of it, fsum may be
 * larger than what is left: the frame's items are looked at when it is closed. */
static inline void forget_sum(unpickler *u) { u->fsum |= SUM_SCAN; }

/* Pops down to `to`. */
static void drop(unpickler *u, size_t to)
{
    if (u->sp > to)
        forget_sum(u);
    while (u->sp > to)
        st_value_unref(u->sv[--u->sp]);
}

/* The first item of the frame. */
static inline size_t frame_floor(const unpickler *u)
{
    return u->nmarks ? u->marks[u->nmarks - 1].at : 0;
}

static int need_stack(unpickler *u, size_t n)
{
    size_t floor = frame_floor(u);
    return u->sp - floor < n ? uerror(u, "unpickling stack underflow") : 0;
}

static const char *gname(const unpickler *u, uint32_t g, int which)
{
    if (g < G_CUSTOM)
        return which ? st__pickle_global_name[g] : st__pickle_global_module[g];
    return u->gnames[2 * (g - G_CUSTOM) + (size_t)which];
}

/* Whether stack entry i is a value: with objects on, globals and _reconstructor arguments are
 * values too (a global, a tuple). */
static inline int usable(const unpickler *u, size_t i)
{
    return !u->sm[i].global || (u->objects && u->sv[i]);
}

/* The error of check_values(), if any: a global among items [from, sp) that is not a value. */
static ST__COLD int globals_error(unpickler *u, size_t from)
{
    const meta *m = u->sm;
    for (size_t i = from; i < u->sp; i++)
        if (!usable(u, i)) {
            /* a (global,) tuple kept for defaultdict is named by its global */
            uint16_t gi = m[i].global == G_FACTORY_ARGS ? m[i].base : m[i].global;
            return uerror(u, "global '%s.%s' cannot be used as a value", gname(u, gi, 0),
                          gname(u, gi, 1));
        }
    return 0;
}

/* Items [from, sp) must be values to go into a container; *depth: the container's. */
static ST__INLINE int check_values(unpickler *u, size_t from, uint32_t *depth)
{
    uint32_t d = 0, g = 0;
    const meta *m = u->sm;
    /* one pass without branches over the metas (a record's items are all plain values); which
     * global is not a value is looked for only when there is one */
    for (size_t i = from, sp = u->sp; i < sp; i++) {
        g |= m[i].global;
        d = m[i].depth > d ? m[i].depth : d;
    }
    if (ST__UNLIKELY(g) && globals_error(u, from))
        return -1;
    if (from < u->sp && (size_t)d + 1 > u->max_depth)
        return uerror(u, "nesting deeper than %zu", u->max_depth);
    *depth = from < u->sp ? d + 1 : 0;
    return 0;
}

/* check_values() of a whole frame, [from, sp), whose summary is sum (SUM_SCAN: look at each):
 * most need no look at the items. */
static ST__INLINE int check_frame(unpickler *u, size_t from, uint32_t sum, uint32_t *depth)
{
    if (ST__LIKELY(sum < u->sum_fast)) {
        *depth = from < u->sp ? sum + 1 : 0;
        return 0;
    }
    return check_values(u, from, depth);
}

/* The container at stack index at (in the frame) took items: its nesting is now at least d. A
 * container at least one deeper than what it took keeps fsum exact. */
static inline void deepen(unpickler *u, size_t at, uint32_t d)
{
    if (d > u->sm[at].depth)
        u->sm[at].depth = d;
    u->fsum = d > u->fsum ? d : u->fsum;
}

/* An object's nesting from d, what check_values() gives for its parts: they sit in a tuple or
 * list of the object's, one level further. */
static int object_depth(unpickler *u, uint32_t d, uint32_t *depth)
{
    if ((size_t)d + 1 > u->max_depth)
        return uerror(u, "nesting deeper than %zu", u->max_depth);
    *depth = d + 1;
    return 0;
}

/* APPEND(S) and SETITEM(S) on an object: its list items and dict items. */
static int fill_object(unpickler *u, size_t at, size_t from, int kind, uint32_t d)
{
    st_value *o = u->sv[at];
    int rc = 0;
    for (size_t i = from; i < u->sp && rc == 0; i += kind == ST_VALUE_DICT ? 2 : 1)
        rc = kind == ST_VALUE_LIST ? st_value_object_append(o, u->sv[i])
                                   : st_value_object_setitem(o, u->sv[i], u->sv[i + 1]);
    drop(u, from);
    if (rc || (d && object_depth(u, d, &d)))
        return -1;
    deepen(u, at, d);
    return 0;
}

/* Moves items [from, sp), of nesting d, into the list or dict at stack index at. */
static inline int fill_steal(unpickler *u, size_t at, size_t from, int kind, uint32_t d)
{
    st_value *c = u->sv[at];
    size_t n = u->sp - from;
    int rc = kind == ST_VALUE_LIST
                 ? st__list_extend_steal(&u->arena, c, u->sv + from, n)
                 : st__dict_update_steal(&u->arena, &u->shapes, c, u->sv + from, n / 2);
    u->sp = from; /* the container took the items over */
    if (rc)
        return ST_TRACE();
    deepen(u, at, d);
    return 0;
}

/* Moves items [from, sp) into the container at stack index at, pairwise for dicts; sum: as
 * for check_frame(). */
static int fill_container(unpickler *u, size_t at, size_t from, uint32_t sum, int kind,
                          const char *op)
{
    uint32_t d = 0;
    st_value *c = u->sv[at];
    int is_object = kind != ST_VALUE_SET && c && usable(u, at) && st__kind(c) == ST_VALUE_OBJECT;
    if (!is_object && (!usable(u, at) || (int)st__base_kind(c) != kind))
        return uerror(u, "%s on a %s", op, !usable(u, at) ? "global" : st_value_type_name(c));
    if (check_frame(u, from, sum, &d))
        return -1;
    size_t n = u->sp - from;
    if (kind == ST_VALUE_DICT && n % 2)
        return uerror(u, "odd number of items for %s", op);
    if (is_object)
        return fill_object(u, at, from, kind, d);
    int rc = 0;
    ptrdiff_t maxlen = -1;
    if (st__kind(c) == ST_VALUE_DEQUE && (maxlen = st__deque_maxlen(c)) >= 0 &&
        (size_t)st_value_len(c) <= (size_t)maxlen && (size_t)st_value_len(c) + n > (size_t)maxlen) {
        /* appended as to a list now, trimmed to maxlen once at the end: linear, however
         * many appends a full deque gets */
        if (u->ndeques == u->dcap) {
            st_value **r = st__grow(u->deques, &u->dcap, sizeof *r, 4);
            if (!r)
                return ST_TRACE();
            u->deques = r;
        }
        u->deques[u->ndeques++] = st_value_ref(c);
    }
    if (kind == ST_VALUE_LIST || kind == ST_VALUE_DICT)
        return fill_steal(u, at, from, kind, d);
    for (size_t i = from; i < u->sp && rc == 0; i++)
        rc = st_value_set_add(c, u->sv[i]);
    drop(u, from);
    if (rc)
        return ST_TRACE();
    deepen(u, at, d);
    return 0;
}

/* Builds a tuple, list, dict or frozenset of items [from, sp) and pushes it instead; sum: as
 * for check_frame(). */
static int build(unpickler *u, size_t from, uint32_t sum, int kind)
{
    uint32_t d = 0;
    size_t n = u->sp - from;
    const meta *m = n == 3 ? u->sm + from : NULL;
    /* (cls, base, state) for copyreg._reconstructor, cls and base the same plain type, or
     * (UUID, object, None). */
    if (kind == ST_VALUE_TUPLE && m &&
        ((m[0].global == m[1].global && m[0].global >= G_SET && m[0].global <= G_BYTES &&
          !m[2].global) ||
         (m[0].global == G_UUID && m[1].global == G_OBJECT && !m[2].global &&
          st_value_kind(u->sv[from + 2]) == ST_VALUE_NONE))) {
        uint16_t base = m[0].global;
        d = m[2].depth;
        if (u->objects) { /* the tuple is a value too */
            if (check_values(u, from, &d))
                return -1;
            u->sp = from;
            return push(u, st__tuple_steal(&u->arena, 3, &u->sv[from]),
                        (meta){d, G_RECON_ARGS, base});
        }
        u->sp = from;
        return push(u, st__tuple_steal(&u->arena, 1, &u->sv[from + 2]),
                    (meta){d, G_RECON_ARGS, base});
    }
    /* (factory,) for defaultdict: a known global kept by name, never called; with objects on
     * the tuple is a value too (anything may take it as arguments or hold it) */
    if (kind == ST_VALUE_TUPLE && n == 1 && u->sm[from].global &&
        u->sm[from].global != G_RECON_ARGS && u->sm[from].global != G_FACTORY_ARGS) {
        uint16_t factory = u->sm[from].global;
        if (!usable(u, from)) {
            u->sm[from] = (meta){0, G_FACTORY_ARGS, factory};
            note_meta(u, u->sm[from]);
            return 0;
        }
        if (check_values(u, from, &d))
            return -1;
        u->sp = from;
        return push(u, st__tuple_steal(&u->arena, 1, &u->sv[from]),
                    (meta){d, G_FACTORY_ARGS, factory});
    }
    if (check_frame(u, from, sum, &d))
        return -1;
    if (kind == ST_VALUE_TUPLE) {
        u->sp = from;
        st_value *t = st__tuple_steal(&u->arena, n, n ? u->sv + from : NULL);
        return push(u, t, (meta){d, G_NONE, 0});
    }
    st_value *c = st__container_new(&u->arena, (st_value_type)kind);
    if (push_value(u, c))
        return -1;
    /* Move the container below its items, then fill it. */
    if (n) {
        memmove(&u->sv[from + 1], &u->sv[from], n * sizeof *u->sv);
        memmove(&u->sm[from + 1], &u->sm[from], n * sizeof *u->sm);
    }
    u->sv[from] = c;
    u->sm[from] = (meta){0, G_NONE, 0};
    return fill_container(u, from, from + 1, sum, kind,
                          kind == ST_VALUE_LIST   ? "LIST"
                          : kind == ST_VALUE_DICT ? "DICT"
                                                  : "FROZENSET");
}

/* ---- memo and cycles ---- */

static int remember_refetch(unpickler *u, st_value *v)
{
    if (u->nrefetched == u->rcap) {
        st_value **r = st__grow(u->refetched, &u->rcap, sizeof *r, 16);
        if (!r)
            return ST_TRACE();
        u->refetched = r;
    }
    u->refetched[u->nrefetched++] = st_value_ref(v);
    return 0;
}

/* The kinds whose values may be part of a reference cycle: containers, the dicts and lists
 * of collections, and objects (a set holds only hashable values, but an object is one and may
 * lead back). A mask: the test is on the path of every memo fetch. */
#define CYCLE_KINDS                                                                                \
    ((1u << ST_VALUE_LIST) | (1u << ST_VALUE_DICT) | (1u << ST_VALUE_TUPLE) |                      \
     (1u << ST_VALUE_SET) | (1u << ST_VALUE_FROZENSET) | (1u << ST_VALUE_OBJECT) |                \
     (1u << ST_VALUE_ORDEREDDICT) | (1u << ST_VALUE_DEFAULTDICT) | (1u << ST_VALUE_COUNTER) |      \
     (1u << ST_VALUE_DEQUE))
_Static_assert(ST_VALUE_PICKLEBUFFER < 32, "CYCLE_KINDS needs a bit per kind");

static inline int may_cycle(const st_value *v)
{
    return (CYCLE_KINDS >> st__kind(v)) & 1;
}

/* Remembers a container pushed a second time (the only way a cycle can close). */
static inline int note_refetch(unpickler *u, st_value *v)
{
    return v && may_cycle(v) ? remember_refetch(u, v) : 0;
}

/* Visits the containers and objects reachable from root that are not in `skip` yet, adding
 * them to it; with clear, empties all but tuples (their children stay alive while they are
 * visited). */
static int walk(ptrmap *skip, st_value *root, int clear)
{
    st_value **todo = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    st_value_ref(root);
    for (st_value *c = root; c; c = n ? todo[--n] : NULL) {
        int k = (int)st__base_kind(c);
        if (!may_cycle(c) || ptrmap_find(skip, (uintptr_t)c) >= 0 ||
            (rc = ptrmap_insert(skip, (uintptr_t)c, 0))) {
            st_value_unref(c);
            continue;
        }
        size_t pos = 0, len = k == ST_VALUE_OBJECT ? 7 : (size_t)st_value_len(c) * 2;
        if (n + len > cap) {
            cap = (n + len) * 2;
            st_value **t = st__reallocarray(todo, cap, sizeof *t);
            if (!t) {
                st_value_unref(c);
                rc = -1;
                continue;
            }
            todo = t;
        }
        st_value *item, *key;
        if (k == ST_VALUE_DICT) { /* keys too: an object key may be part of a cycle */
            while (st_value_dict_next(c, &pos, &key, &item) > 0) {
                todo[n++] = st_value_ref(key);
                todo[n++] = st_value_ref(item);
            }
        } else if (k == ST_VALUE_OBJECT) {
            for (int i = 0; i < 7; i++)
                todo[n++] = st_value_ref(st_value_object_part(c, (st_value_part)i));
        } else {
            while (st_value_next(c, &pos, &item) > 0)
                todo[n++] = st_value_ref(item);
        }
        if (clear && k != ST_VALUE_TUPLE)
            st_value_clear(c);
        st_value_unref(c);
    }
    st_free(todo);
    return rc;
}

/* Empties the containers the load made that refer to themselves but are not part of the
 * result (all of them after a failure), so that reference counting frees them. */
static void collect_cycles(unpickler *u, st_value *result)
{
    ptrmap live = {0};
    if (result)
        walk(&live, result, 0);
    for (size_t i = 0; i < u->nrefetched; i++) {
        walk(&live, u->refetched[i], 1);
        st_value_unref(u->refetched[i]);
    }
    st_free(live.t);
    st_free(u->refetched);
}

/* Releases the memo's block: a big one to the chunk cache, a malloc'd one to malloc. */
static void memo_free(unpickler *u)
{
    if (u->memo_big)
        st__big_free(u->memo);
    else if (u->memo != u->small->memo)
        st_free(u->memo);
}

/* Opens or closes the short ways (fetch_top, memo_plain) after the memo changed otherwise than
 * by memo_append_plain(). */
static void memo_ways(unpickler *u)
{
    int plain = !u->mm && u->memo_len == u->memo_top;
    u->fetch_top = plain ? u->memo_top : 0;
    u->memo_plain = plain && !u->memo_refs ? u->memo_cap : 0;
}

/* Makes room for memo index idx (64 bits: a text PUT's index is checked, never truncated). */
static int grow_memo(unpickler *u, uint64_t idx)
{
    /* Indexes are bounded by the input read so far, so the memo is too. */
    if (idx > op_offset(u) + 1024)
        return uerror(u, "memo index %" PRIu64 " too large", idx);
    if (idx > SIZE_MAX / 2 / sizeof(meta))
        return ST_RAISE_NOMEM();
    size_t cap = u->memo_cap;
    while (cap <= idx)
        cap *= 2;
    st_value **m;
    if (cap * sizeof *m >= MEMO_BIG || u->memo_expect >= MEMO_BIG) {
        size_t got;
        if (!(m = st__big_alloc(cap * sizeof *m > u->memo_expect ? cap * sizeof *m
                                                                   : u->memo_expect,
                                &got)))
            return ST_TRACE();
        memcpy(m, u->memo, u->memo_top * sizeof *m);
        memo_free(u);
        u->memo_big = 1;
        cap = got / sizeof *m;
    } else {
        m = grow_array(u->memo, u->small->memo, u->memo_top, cap, sizeof *m);
    }
    if (m)
        u->memo = m;
    meta *mm = m && u->mm ? grow_array(u->mm, u->small->mm, u->memo_top, cap, sizeof *mm) : NULL;
    if (!m || (u->mm && !mm))
        return ST_TRACE();
    if (mm)
        u->mm = mm;
    u->memo_cap = cap;
    memo_ways(u);
    return 0;
}

/* The meta array, made the first time an entry's meta is not the plain value's. */
static int make_meta(unpickler *u)
{
    u->mm = u->memo == u->small->memo ? u->small->mm
                                      : st__reallocarray(NULL, u->memo_cap, sizeof *u->mm);
    if (!u->mm)
        return ST_TRACE();
    memset(u->mm, 0, u->memo_top * sizeof *u->mm);
    memo_ways(u);
    return 0;
}

static int memo_used(const unpickler *u, size_t idx)
{
    return u->memo[idx] || (u->mm && u->mm[idx].global);
}

/* Whether m is a plain value's meta (the memo keeps no meta for those until one is not). */
static inline int plain_meta(meta m)
{
    return !m.depth && !m.global && !m.base;
}

/* Stores top (v, m) at PUT idx beyond the next free one, or at one in use, or with its meta. */
static int memo_store_slow(unpickler *u, uint64_t idx, st_value *v, meta m)
{
    if (idx >= u->memo_top) {
        if (idx >= u->memo_cap && grow_memo(u, idx))
            return -1;
        for (; u->memo_top <= idx; u->memo_top++) {
            u->memo[u->memo_top] = NULL;
            if (u->mm)
                u->mm[u->memo_top] = (meta){0, G_NONE, 0};
        }
    }
    if (!memo_used(u, (size_t)idx))
        u->memo_len++;
    else if (u->memo_refs && u->memo[idx])
        st__unref(u->memo[idx]);
    u->memo[idx] = v;
    if (u->memo_refs && v)
        st__ref(v);
    if (!plain_meta(m) || u->mm) {
        if (!u->mm && make_meta(u))
            return -1;
        u->mm[idx] = m;
    }
    memo_ways(u);
    return 0;
}

/* MEMOIZE of plain value v the short way, while the memo holds plain values as themselves
 * (then memo_len, its index, is memo_top: the next free one): 1 stored, 0 not (the long way). */
static ST__INLINE int memoize_plain(unpickler *u, st_value *v)
{
    size_t idx = u->memo_len;
    if (idx >= u->memo_plain)
        return 0;
    u->memo[idx] = v;
    u->memo_len = u->fetch_top = u->memo_top = idx + 1;
    return 1;
}

/* The same at index idx, if that is the next free one. */
static ST__INLINE int memo_append_plain(unpickler *u, uint64_t idx, st_value *v)
{
    return idx == u->memo_top && memoize_plain(u, v);
}

static inline int memo_store(unpickler *u, uint64_t idx)
{
    if (frame_floor(u) == u->sp)
        return uerror(u, "unpickling stack underflow");
    st_value *v = u->sv[u->sp - 1];
    meta m = u->sm[u->sp - 1];
    if (plain_meta(m) && memo_append_plain(u, idx, v))
        return 0;
    return memo_store_slow(u, idx, v, m);
}

static int memo_fetch_slow(unpickler *u, uint64_t idx)
{
    if (idx >= u->memo_top || !memo_used(u, (size_t)idx))
        return uerror(u, "Memo value not found at index %" PRIu64, idx);
    st_value *v = u->memo[idx];
    if (v)
        st__ref(v); /* brings back a value the load dropped (kept in the graveyard) */
    return push(u, v, u->mm ? u->mm[idx] : (meta){0, G_NONE, 0}) || note_refetch(u, v) ? -1 : 0;
}

/* Pushes memo entry idx the short way if it is what records fetch most, a plain value that
 * cannot close a cycle (a shared key): no meta, no refetch to note, room on the stack. 1 when
 * it did, 0 when memo_fetch_slow() is to. */
static ST__INLINE int memo_fetch_fast(unpickler *u, uint64_t idx)
{
    if (idx >= u->fetch_top)
        return 0;
    st_value *v = u->memo[idx]; /* not NULL: no gap below fetch_top */
    size_t sp = u->sp; /* read once: the count's add below could be a store to it */
    if (sp == u->scap || may_cycle(v))
        return 0;
    u->sv[sp] = v;
    u->sm[sp] = (meta){0, G_NONE, 0};
    u->sp = sp + 1;
    st__ref(v);
    return 1;
}

/* Pushes memo entry idx. */
static inline int memo_fetch(unpickler *u, uint64_t idx)
{
    return memo_fetch_fast(u, idx) ? 0 : memo_fetch_slow(u, idx);
}

/* ---- text arguments (protocol 0) ---- */

/* A text line as a NUL-terminated copy (lines are short: numbers and names). */
static char *line_copy(unpickler *u)
{
    size_t len;
    const unsigned char *s = take_line(u, &len);
    return s ? st__strndup((const char *)s, len) : NULL;
}

static int load_int_text(unpickler *u, int is_long)
{
    char *s = line_copy(u);
    if (!s)
        return -1;
    size_t len = strlen(s);
    st_value *v = NULL;
    if (!is_long && len == 2 && s[0] == '0' && (s[1] == '0' || s[1] == '1')) {
        v = st_value_bool(s[1] == '1');
    } else if (is_long) {
        if (len > 0 && s[len - 1] == 'L')
            s[len - 1] = '\0';
        v = st_value_int_from_string(s, 0);
    } else {
        /* CPython tries strtol(s, 0) first (so "010" is 8), then int(s, 0). */
        char *end;
        errno = 0;
        long long x = strtoll(s, &end, 0);
        if (!errno && end != s && *end == '\0')
            v = st_value_int(x);
        else if (!(v = st_value_int_from_string(s, 0)))
            ST_RAISE(ST_EVALUE, "could not convert string to int");
    }
    st_free(s);
    return push_value(u, v);
}

static int load_float_text(unpickler *u)
{
    char *s = line_copy(u);
    if (!s)
        return -1;
    /* PyOS_string_to_double: decimal or inf/nan, no hex, no surrounding space. */
    char *end = s;
    double d = 0;
    int ok = *s && !strpbrk(s, "xXpP \t");
    if (ok) {
        errno = 0;
        d = strtod(s, &end);
        ok = end != s && *end == '\0';
    }
    if (ok && errno == ERANGE && (d > 1 || d < -1)) {
        st_free(s);
        return ST_RAISE(ST_EOVERFLOW, "could not convert string to float");
    }
    st_free(s);
    if (!ok)
        return ST_RAISE(ST_EVALUE, "could not convert string to float");
    return push_value(u, st_value_float(d));
}

static int hexval(int c)
{
    return c >= '0' && c <= '9' ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* The UNICODE argument: raw-unicode-escape (\uXXXX and \UXXXXXXXX after an odd number of
 * backslashes; every other byte is a Latin-1 character). */
static int load_unicode_text(unpickler *u)
{
    size_t len;
    const unsigned char *s = take_line(u, &len);
    if (!s)
        return -1;
    st__buf b = ST__BUF_INIT;
    int rc = st__buf_reserve(&b, len + 1);
    size_t bs = 0; /* backslashes just before */
    for (size_t i = 0; i < len && rc == 0;) {
        unsigned char c = s[i];
        if (c == '\\') {
            bs++;
            rc = st__buf_putc(&b, '\\');
            i++;
            continue;
        }
        if ((c == 'u' || c == 'U') && bs % 2) {
            size_t n = c == 'u' ? 4 : 8;
            uint32_t cp = 0;
            size_t k;
            for (k = 0; k < n && i + 1 + k < len && hexval(s[i + 1 + k]) >= 0; k++)
                cp = cp << 4 | (uint32_t)hexval(s[i + 1 + k]);
            if (k < n) {
                st__buf_free(&b);
                return ST_RAISE_AS(ST_EVALUE, "UnicodeDecodeError",
                                   "'rawunicodeescape' codec can't decode bytes in position "
                                   "%zu-%zu: truncated \\%cXXXX%s escape",
                                   i - 1, i + k, c, c == 'U' ? "XXXX" : "");
            }
            if (cp > 0x10ffff) {
                st__buf_free(&b);
                return ST_RAISE_AS(ST_EVALUE, "UnicodeDecodeError",
                                   "'rawunicodeescape' codec can't decode bytes in position "
                                   "%zu-%zu: \\Uxxxxxxxx out of range",
                                   i - 1, i + n);
            }
            b.len--; /* the escaping backslash */
            rc = st__utf8_put(&b, cp);
            i += n + 1;
        } else {
            rc = st__utf8_put(&b, c);
            i++;
        }
        bs = 0;
    }
    st_value *v = rc ? NULL : st_value_str_surrogatepass(b.data ? b.data : "", b.len);
    st__buf_free(&b);
    return push_value(u, v);
}

/* STRING/BINSTRING data as Python 3 loads them by default: decoded as ASCII. */
static st_value *ascii_str(const unsigned char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] >= 0x80)
            return (ST_RAISE_AS(ST_EVALUE, "UnicodeDecodeError",
                                "'ascii' codec can't decode byte 0x%02x in position %zu: "
                                "ordinal not in range(128)",
                                s[i], i),
                    NULL);
    return st_value_str_n((const char *)s, len);
}

/* The STRING argument: a quoted Python 2 str literal (PyBytes_DecodeEscape). */
static int load_string_text(unpickler *u)
{
    size_t len;
    const unsigned char *s = take_line(u, &len);
    if (!s)
        return -1;
    if (len < 2 || s[0] != s[len - 1] || (s[0] != '\'' && s[0] != '"'))
        return uerror(u, "the STRING opcode argument must be quoted");
    s++;
    len -= 2;
    st__buf b = ST__BUF_INIT;
    int rc = st__buf_reserve(&b, len + 1);
    for (size_t i = 0; i < len && rc == 0; i++) {
        if (s[i] != '\\') {
            rc = st__buf_putc(&b, (char)s[i]);
            continue;
        }
        if (++i == len) {
            st__buf_free(&b);
            return ST_RAISE(ST_EVALUE, "Trailing \\ in string");
        }
        static const char from[] = "\n\\'\"abfnrtv", to[] = "\0\\'\"\a\b\f\n\r\t\v";
        const char *e = memchr(from, s[i], sizeof from - 1);
        if (e) {
            if (*e != '\n') /* backslash-newline is a continuation */
                rc = st__buf_putc(&b, to[e - from]);
        } else if (s[i] >= '0' && s[i] <= '7') {
            unsigned c = 0;
            for (int k = 0; k < 3 && i < len && s[i] >= '0' && s[i] <= '7'; k++, i++)
                c = c * 8 + (unsigned)(s[i] - '0');
            i--;
            rc = st__buf_putc(&b, (char)(c & 0xff));
        } else if (s[i] == 'x') {
            if (i + 2 >= len + 0 || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0) {
                st__buf_free(&b);
                return ST_RAISE(ST_EVALUE, "invalid \\x escape at position %zu", i - 1);
            }
            rc = st__buf_putc(&b, (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2])));
            i += 2;
        } else {
            rc = st__buf_putc(&b, '\\') || st__buf_putc(&b, (char)s[i]);
        }
    }
    st_value *v = rc ? NULL : ascii_str((const unsigned char *)(b.data ? b.data : ""), b.len);
    st__buf_free(&b);
    return push_value(u, v);
}

/* ---- binary arguments ---- */

/* A 64-bit length from the input as the size_t to read: every host answers as 64-bit CPython
 * does, which raises OverflowError above 2**63 - 1 (the message names the opcode, `what`) and
 * finds the data truncated below. A 32-bit host cannot hold more than SIZE_MAX bytes: asking
 * for SIZE_MAX then gives the same "truncated" (or the max_size error, or ENOMEM on a stream
 * that really is that long), never a length cut to its low bits. */
static int input_size(unpickler *u, uint64_t l, const char *what, size_t *len)
{
    *len = l > SIZE_MAX ? SIZE_MAX : (size_t)l;
    int frame = strcmp(what, "FRAME") == 0;
    if (l > INT64_MAX)
        return uerror(u, "OverflowError: %s%s exceeds system's maximum%s of %" PRId64 " bytes",
                      what, frame ? " length" : "", frame ? "" : " size", INT64_MAX);
    return 0;
}

/* Reads an n-byte little-endian length, then that many bytes (checked against what is there
 * or can come, never allocated up front). */
static const unsigned char *take_counted_slow(unpickler *u, int n, const char *what, size_t *len)
{
    const unsigned char *s = take(u, (size_t)n);
    if (!s || input_size(u, get_le(s, n), what, len))
        return NULL;
    return take(u, *len);
}

static inline const unsigned char *take_counted(unpickler *u, int n, const char *what,
                                                size_t *len)
{
    /* a one-byte count and its data at hand */
    if (n == 1 && u->p < u->end && (size_t)(u->end - u->p) > u->p[0]) {
        const unsigned char *r = u->p + 1;
        *len = u->p[0];
        u->p = r + *len;
        return r;
    }
    return take_counted_slow(u, n, what, len);
}

/* Pushes the global module.name: the plain-data ones as their G_* (no value unless objects are
 * on), the caller-accepted ones as G_CUSTOM + n, and with objects on any other as a global
 * value. modv and namev: the strs STACK_GLOBAL took them from (the global keeps them, so that
 * what shares them in the pickle still does), or NULL. */
static int load_global_names(unpickler *u, const char *mod, const char *name, st_value *modv,
                             st_value *namev)
{
    static const struct {
        const char *mod, *name;
        uint32_t g;
    } known[] = {
        {"builtins", "set", G_SET},
        {"__builtin__", "set", G_SET},
        {"builtins", "frozenset", G_FROZENSET},
        {"__builtin__", "frozenset", G_FROZENSET},
        {"builtins", "bytearray", G_BYTEARRAY},
        {"__builtin__", "bytearray", G_BYTEARRAY},
        {"builtins", "bytes", G_BYTES},
        {"__builtin__", "bytes", G_BYTES},
        {"_codecs", "encode", G_ENCODE},
        {"copyreg", "_reconstructor", G_RECONSTRUCTOR},
        {"copy_reg", "_reconstructor", G_RECONSTRUCTOR},
    };
    if (u->objects && u->proto < 3) { /* Unpickler.find_class's fix_imports */
        const char *m = mod, *n = name;
        st__pickle_fix_imports(&m, &n, 1);
        modv = m == mod ? modv : NULL;
        namev = n == name ? namev : NULL;
        mod = m;
        name = n;
    }
    uint32_t g = G_NONE;
    for (size_t i = 0; i < sizeof known / sizeof known[0] && !g; i++)
        if (strcmp(mod, known[i].mod) == 0 && strcmp(name, known[i].name) == 0)
            g = known[i].g;
    if (!g)
        g = (uint32_t)st__pickle_std_global(mod, name);
    if (!g && u->o->allow_global && u->o->allow_global(u->o->ctx, mod, name)) {
        if (u->ngnames >= UINT16_MAX - G_CUSTOM)
            return uerror(u, "too many globals");
        char **gn = st__reallocarray(u->gnames, 2 * (u->ngnames + 1), sizeof *gn);
        if (!gn)
            return ST_TRACE();
        u->gnames = gn;
        gn[2 * u->ngnames] = st__strdup(mod);
        gn[2 * u->ngnames + 1] = st__strdup(name);
        u->ngnames++;
        if (!gn[2 * u->ngnames - 2] || !gn[2 * u->ngnames - 1])
            return ST_TRACE();
        g = (uint32_t)(G_CUSTOM + u->ngnames - 1);
    }
    if (!u->objects) {
        if (!g)
            return uerror(u, "global '%s.%s' is forbidden", mod, name);
        return push(u, NULL, (meta){0, (uint16_t)g, 0});
    }
    st_value *m = modv ? st_value_ref(modv) : st_value_str(mod);
    st_value *n = m ? (namev ? st_value_ref(namev) : st_value_str(name)) : NULL;
    return push(u, st__global_new_steal(m, n), (meta){1, (uint16_t)g, 0});
}

static int load_global(unpickler *u)
{
    char *mod = line_copy(u);
    char *name = mod ? line_copy(u) : NULL;
    int rc = name ? load_global_names(u, mod, name, NULL, NULL) : -1;
    st_free(mod);
    st_free(name);
    return rc;
}

static int load_stack_global(unpickler *u)
{
    if (need_stack(u, 2))
        return -1;
    st_value *m = u->sv[u->sp - 2], *n = u->sv[u->sp - 1];
    if (!usable(u, u->sp - 2) || !usable(u, u->sp - 1) || st_value_kind(m) != ST_VALUE_STR ||
        st_value_kind(n) != ST_VALUE_STR)
        return uerror(u, "STACK_GLOBAL requires str");
    u->sp -= 2; /* the references are ours now */
    forget_sum(u);
    int rc = load_global_names(u, st_value_str_data(m, NULL), st_value_str_data(n, NULL), m, n);
    st_value_unref(m);
    st_value_unref(n);
    return rc;
}

/* Encodes a str as Latin-1 (bytearray(s, 'latin-1'), codecs.encode(s, 'latin1')). */
static int latin1(const st_value *s, st__buf *out)
{
    size_t len;
    const unsigned char *d = (const unsigned char *)st_value_str_data(s, &len);
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t k = st__utf8_decode(d + i, len - i, 1, &cp);
        if (k == 0 || cp > 0xff)
            return ST_RAISE_AS(ST_EVALUE, "UnicodeEncodeError",
                               "'latin-1' codec can't encode character in position %zu: "
                               "ordinal not in range(256)",
                               i);
        if (st__buf_putc(out, (char)cp))
            return -1;
        i += k;
    }
    return 0;
}

static int is_latin1_name(const st_value *v)
{
    if (st_value_kind(v) != ST_VALUE_STR)
        return 0;
    const char *s = st_value_str_data(v, NULL);
    return !strcmp(s, "latin1") || !strcmp(s, "latin-1") || !strcmp(s, "latin_1") ||
           !strcmp(s, "iso-8859-1") || !strcmp(s, "iso8859-1");
}

/* Calls one of the plain-data globals on args, the way CPython would. */
static st_value *call_builtin(unpickler *u, uint32_t g, st_value *args)
{
    if (g >= G_DATE && g <= G_COUNTER) {
        int bad;
        st_value *r = st__pickle_std_call((int)g, args, &bad);
        return bad ? (uerror(u, "unsupported arguments for %s.%s", gname(u, g, 0), gname(u, g, 1)),
                      NULL)
                   : r;
    }
    size_t n = (size_t)st_value_len(args);
    st_value *a0 = n ? st_value_item(args, 0) : NULL;
    int k0 = a0 ? st_value_kind(a0) : ST_VALUE_NONE;
    if (g == G_SET || g == G_FROZENSET) {
        if (n > 1 || (n == 1 && k0 != ST_VALUE_LIST && k0 != ST_VALUE_TUPLE &&
                      k0 != ST_VALUE_SET && k0 != ST_VALUE_FROZENSET && k0 != ST_VALUE_DICT))
            goto bad;
        st_value *s = g == G_SET ? st_value_set() : st_value_frozenset();
        size_t pos = 0;
        st_value *item;
        while (s && a0 && st_value_next(a0, &pos, &item) > 0)
            if (st_value_set_add(s, item)) {
                st_value_unref(s);
                return (ST_TRACE(), NULL);
            }
        return s;
    }
    if (g == G_BYTES || g == G_BYTEARRAY) {
        st__buf b = ST__BUF_INIT;
        const unsigned char *d = (const unsigned char *)"";
        size_t len = 0;
        if (n == 1 && (k0 == ST_VALUE_BYTES || k0 == ST_VALUE_BYTEARRAY)) {
            d = st_value_bytes_data(a0, &len);
        } else if (n == 2 && k0 == ST_VALUE_STR && is_latin1_name(st_value_item(args, 1))) {
            if (latin1(a0, &b))
                return (st__buf_free(&b), ST_TRACE(), NULL);
            d = (const unsigned char *)b.data;
            len = b.len;
        } else if (n != 0) {
            goto bad;
        }
        st_value *v = g == G_BYTES ? st_value_bytes(d, len) : st_value_bytearray(d, len);
        st__buf_free(&b);
        return v;
    }
    if (g == G_ENCODE) {
        if (k0 != ST_VALUE_STR || n < 1 || n > 2)
            goto bad;
        size_t len;
        const char *s = st_value_str_data(a0, &len);
        st_value *enc = n == 2 ? st_value_item(args, 1) : NULL;
        if (!enc || (st_value_kind(enc) == ST_VALUE_STR &&
                     (!strcmp(st_value_str_data(enc, NULL), "utf-8") ||
                      !strcmp(st_value_str_data(enc, NULL), "utf8"))))
            return st_value_bytes(s, len); /* Python refuses lone surrogates here; rare */
        if (!is_latin1_name(enc))
            goto bad;
        st__buf b = ST__BUF_INIT;
        st_value *v = latin1(a0, &b) ? NULL : st_value_bytes(b.data, b.len);
        st__buf_free(&b);
        return v;
    }
bad:
    return (uerror(u, "unsupported arguments for %s.%s", gname(u, g, 0), gname(u, g, 1)),
            NULL);
}

/* Whether a value can stand for a class or a callable of an object: a global, or an object
 * (what a REDUCE made, like getattr(Outer, 'Inner')). */
static int is_callable(const st_value *v)
{
    return st_value_kind(v) == ST_VALUE_GLOBAL || st_value_kind(v) == ST_VALUE_OBJECT;
}

static int global_is(const st_value *g, const char *module, const char *qualname)
{
    return st_value_kind(g) == ST_VALUE_GLOBAL &&
           strcmp(st_value_global_module(g), module) == 0 &&
           strcmp(st_value_global_qualname(g), qualname) == 0;
}

/* REDUCE with objects on: below protocol 4 CPython writes a nested name (save_global) as
 * `getattr(module.Outer, 'name')` with neither Outer nor the tuple memoized (they are steps,
 * not objects), so that becomes the global module.Outer.name. A getattr the pickle memoized
 * (a method of a class, say), and anything else, is an object. */
static st_value *reduce_object(unpickler *u, st_value *f, st_value *args)
{
    st_value *a0 = st_value_len(args) == 2 ? st_value_item(args, 0) : NULL;
    st_value *a1 = a0 ? st_value_item(args, 1) : NULL;
    if (u->proto < 4 && a0 && global_is(f, "builtins", "getattr") && st__unshared(args) &&
        st__unshared(a0) && st_value_kind(a0) == ST_VALUE_GLOBAL &&
        st_value_kind(a1) == ST_VALUE_STR) {
        char *q = st__asprintf("%s.%s", st_value_global_qualname(a0), st_value_str_data(a1, NULL));
        st_value *g = q ? st_value_global(st_value_global_module(a0), q) : NULL;
        st_free(q);
        return g;
    }
    return st_value_object(ST_VALUE_FORM_REDUCE, f, args, NULL);
}

static int load_reduce(unpickler *u)
{
    if (need_stack(u, 2))
        return -1;
    slot f = {u->sv[u->sp - 2], u->sm[u->sp - 2]}, a = {u->sv[u->sp - 1], u->sm[u->sp - 1]};
    if (!f.m.global && !(u->objects && is_callable(f.v)))
        return uerror(u, "REDUCE on a %s (only globals can be called)",
                      st_value_type_name(f.v));
    st_value *r;
    uint32_t d = a.m.depth;
    if (f.m.global == G_DEFAULTDICT && a.m.global == G_FACTORY_ARGS) {
        r = st_value_defaultdict(gname(u, a.m.base, 0), gname(u, a.m.base, 1));
    } else if (f.m.global == G_RECONSTRUCTOR && a.m.global == G_RECON_ARGS) {
        /* _reconstructor(cls, base, state) with cls is base: base(state). */
        st_value *st = u->objects ? st_value_item(a.v, 2) : NULL;
        st_value *state = st ? st_value_tuple(1, &st) : NULL;
        r = u->objects && !state ? NULL : call_builtin(u, a.m.base, u->objects ? state : a.v);
        st_value_unref(state);
    } else if (f.m.global == G_RECONSTRUCTOR && !u->objects) {
        return uerror(u, "unsupported arguments for copyreg._reconstructor");
    } else if (!usable(u, u->sp - 1) || st_value_kind(a.v) != ST_VALUE_TUPLE) {
        return uerror(u, "REDUCE arguments must be a tuple");
    } else if (u->objects && f.m.global >= G_DATE && f.m.global <= G_COUNTER) {
        /* a standard library type; with arguments it cannot hold (a datetime's tzinfo of
         * another class, a defaultdict factory nothing allowed) an object, as any class */
        int bad = 0;
        for (size_t i = 0; i < (size_t)st_value_len(a.v) && !bad; i++)
            bad = st_value_kind(st_value_item(a.v, i)) >= ST_VALUE_GLOBAL;
        r = bad ? NULL : st__pickle_std_call((int)f.m.global, a.v, &bad);
        if (bad) {
            if (object_depth(u, d > f.m.depth ? d : f.m.depth, &d))
                return -1;
            r = reduce_object(u, f.v, a.v);
        }
    } else if (f.m.global && f.m.global < G_CUSTOM && f.m.global != G_RECONSTRUCTOR &&
               !(u->objects && f.m.global >= G_OBJECT && f.m.global <= G_BOOL)) {
        /* (with objects, a call of object, int, str... is kept as data, as any class's: what
         * an OBJ or NEWOBJ of them made dumps as such a REDUCE) */
        r = call_builtin(u, f.m.global, a.v);
    } else if (f.m.global >= G_CUSTOM && u->o->reduce) {
        r = u->o->reduce(u->o->ctx, gname(u, f.m.global, 0), gname(u, f.m.global, 1), a.v);
        u->keep_error = !r;
    } else if (u->objects) {
        if (object_depth(u, d > f.m.depth ? d : f.m.depth, &d))
            return -1;
        r = reduce_object(u, f.v, a.v);
        if (r && st_value_kind(r) == ST_VALUE_GLOBAL)
            d = 1; /* a nested name: two strs deep, however long */
    } else {
        return uerror(u, "cannot call %s.%s: no reduce callback", gname(u, f.m.global, 0),
                      gname(u, f.m.global, 1));
    }
    if (!r)
        return ST_TRACE();
    drop(u, u->sp - 2);
    /* a UUID made this way awaits its state (BUILD) */
    uint16_t pending = st__kind(r) == ST_VALUE_UUID ? G_UUID : 0;
    return push(u, r, (meta){d, G_NONE, pending});
}

/* NEWOBJ of uuid.UUID, which copyreg.__reduce_ex__ writes as cls.__new__(cls) then BUILD:
 * 1 when it was one, 0 when not, -1. */
static int load_newobj_uuid(unpickler *u)
{
    if (need_stack(u, 2))
        return -1;
    slot c = {u->sv[u->sp - 2], u->sm[u->sp - 2]}, a = {u->sv[u->sp - 1], u->sm[u->sp - 1]};
    if (c.m.global != G_UUID || !usable(u, u->sp - 1) || st_value_kind(a.v) != ST_VALUE_TUPLE ||
        st_value_len(a.v) != 0)
        return 0;
    drop(u, u->sp - 2);
    return push(u, st_value_uuid((const unsigned char[16]){0}), (meta){0, G_NONE, G_UUID}) ? -1 : 1;
}

/* BUILD of the state of a UUID that NEWOBJ or copyreg._reconstructor made: 1 when it was one,
 * 0 when not, -1. */
static int load_build_uuid(unpickler *u)
{
    if (need_stack(u, 2))
        return -1;
    slot t = {u->sv[u->sp - 2], u->sm[u->sp - 2]}, st = {u->sv[u->sp - 1], u->sm[u->sp - 1]};
    if (t.m.global || t.m.base != G_UUID || !usable(u, u->sp - 1))
        return 0;
    int bad;
    if (st__pickle_std_uuid_setstate(t.v, st.v, &bad))
        return bad ? uerror(u, "unsupported state for uuid.UUID") : -1;
    drop(u, u->sp - 1);
    return 1;
}

/* NEWOBJ (cls, args) and NEWOBJ_EX (cls, args, kwargs), with objects on. */
static int load_newobj(unpickler *u, int ex)
{
    const char *op = ex ? "NEWOBJ_EX" : "NEWOBJ";
    size_t n = ex ? 3 : 2;
    uint32_t d = 0;
    if (need_stack(u, n) || check_values(u, u->sp - n, &d) || object_depth(u, d, &d))
        return -1;
    st_value **x = &u->sv[u->sp - n];
    if (!is_callable(x[0]))
        return uerror(u, "%s class argument must be a type, not %s", op,
                      st_value_type_name(x[0]));
    if (st_value_kind(x[1]) != ST_VALUE_TUPLE)
        return uerror(u, "%s args argument must be a tuple, not %s", op,
                      st_value_type_name(x[1]));
    if (ex && st_value_kind(x[2]) != ST_VALUE_DICT)
        return uerror(u, "NEWOBJ_EX kwargs argument must be a dict, not %s",
                      st_value_type_name(x[2]));
    st_value *o = st_value_object(ex ? ST_VALUE_FORM_NEWOBJ_EX : ST_VALUE_FORM_NEWOBJ, x[0], x[1],
                                  ex ? x[2] : NULL);
    if (!o)
        return ST_TRACE();
    drop(u, u->sp - n);
    return push(u, o, (meta){d, G_NONE, 0});
}

/* INST (the class from two lines) and OBJ (the class first after the mark), with objects on:
 * `cls(*args)`, kept as REDUCE. */
static int load_inst(unpickler *u, int inst)
{
    size_t at = 0;
    uint32_t sum;
    if (inst && load_global(u))
        return -1;
    size_t cls = inst ? u->sp - 1 : 0;
    if (pop_mark(u, &at, &sum))
        return -1;
    if (!inst) {
        if (at == u->sp)
            return uerror(u, "unpickling stack underflow");
        cls = at++;
    }
    size_t end = inst ? u->sp - 1 : u->sp;
    uint32_t d = 0;
    for (size_t i = at; i < end; i++)
        d = u->sm[i].depth > d ? u->sm[i].depth : d;
    if (!usable(u, cls) || !is_callable(u->sv[cls]))
        return uerror(u, "%s on a %s", inst ? "INST" : "OBJ",
                      usable(u, cls) ? st_value_type_name(u->sv[cls]) : "global");
    for (size_t i = at; i < end; i++)
        if (!usable(u, i))
            return uerror(u, "a global cannot be an argument of %s", inst ? "INST" : "OBJ");
    if (object_depth(u, d + 1, &d))
        return -1;
    st_value *args = st_value_tuple(end - at, &u->sv[at]);
    st_value *o = args ? st_value_object(ST_VALUE_FORM_REDUCE, u->sv[cls], args, NULL) : NULL;
    st_value_unref(args);
    if (!o)
        return ST_TRACE();
    drop(u, inst ? at : at - 1);
    return push(u, o, (meta){d, G_NONE, 0});
}

/* BUILD with objects on: the state of the object below. */
static int load_build(unpickler *u)
{
    uint32_t d = 0;
    if (need_stack(u, 2) || check_values(u, u->sp - 1, &d))
        return -1;
    size_t at = u->sp - 2;
    st_value *o = u->sv[at];
    if (!usable(u, at) || st_value_kind(o) != ST_VALUE_OBJECT)
        return uerror(u, "BUILD on a %s", usable(u, at) ? st_value_type_name(o) : "global");
    if (st_value_kind(st_value_object_part(o, ST_VALUE_PART_STATE)) != ST_VALUE_NONE)
        return uerror(u, "BUILD on an object that has a state already");
    if (object_depth(u, d, &d) || st_value_object_set_state(o, u->sv[u->sp - 1], NULL))
        return -1;
    drop(u, u->sp - 1);
    deepen(u, at, d);
    return 0;
}

/* POP of what `state_setter(obj, state)` made: save_reduce writes state_setter, obj, state,
 * TUPLE2, REDUCE, POP for a 6-item __reduce__, so with objects on such a popped object (new,
 * referred to by nothing else, its first argument the object below it, which has no state)
 * becomes that object's state and state setter. 1 when it did, 0 when POP is an ordinary one. */
static int pop_state_setter(unpickler *u)
{
    if (!u->objects || u->sp < frame_floor(u) + 2)
        return 0;
    st_value *r = u->sv[u->sp - 1], *o = u->sv[u->sp - 2];
    st_value_form form;
    if (!r || !o || st_value_kind(r) != ST_VALUE_OBJECT || !st__unshared(r) ||
        st_value_kind(o) != ST_VALUE_OBJECT || st_value_object_form(r, &form) ||
        form != ST_VALUE_FORM_REDUCE ||
        st_value_kind(st_value_object_part(o, ST_VALUE_PART_STATE)) != ST_VALUE_NONE)
        return 0;
    st_value *args = st_value_object_part(r, ST_VALUE_PART_ARGS);
    if (st_value_len(args) != 2 || st_value_item(args, 0) != o ||
        st_value_kind(st_value_item(args, 1)) == ST_VALUE_NONE)
        return 0;
    st_value_object_set_state(o, st_value_item(args, 1),
                              st_value_object_part(r, ST_VALUE_PART_CALLABLE));
    drop(u, u->sp - 1);
    return 1;
}

/* PERSID (a text line) and BINPERSID (the value on top): persistent_load(pid). */
static int load_persid(unpickler *u, int bin)
{
    st_value *pid;
    if (!u->persistent_load)
        return uerror(u, "A load persistent id instruction was encountered, but no "
                         "persistent_load function was specified.");
    if (bin) {
        if (need_stack(u, 1))
            return -1;
        if (!usable(u, u->sp - 1))
            return uerror(u, "a global cannot be a persistent id");
        pid = u->sv[--u->sp];
        forget_sum(u);
    } else {
        size_t len;
        const unsigned char *s = take_line(u, &len);
        if (!s)
            return -1;
        for (size_t i = 0; i < len; i++)
            if (s[i] >= 0x80)
                return uerror(u, "persistent IDs in protocol 0 must be ASCII strings");
        if (!(pid = st_value_str_n((const char *)s, len)))
            return ST_TRACE();
    }
    st_value *r = u->persistent_load(u->o->ctx, pid);
    st_value_unref(pid);
    u->keep_error = !r;
    return r ? push_value(u, r) : -1;
}

/* NEXT_BUFFER: the caller's next out-of-band buffer, as it is. */
static int load_next_buffer(unpickler *u)
{
    if (!u->buffers)
        return uerror(u, "pickle stream refers to out-of-band data but no *buffers* argument "
                         "was given");
    if (u->next_buffer >= u->nbuffers)
        return uerror(u, "not enough out-of-band buffers");
    return push_value(u, st_value_ref(u->buffers[u->next_buffer++]));
}

/* READONLY_BUFFER: memoryview(top).toreadonly() when top is writable; a read-only one stays. */
static int load_readonly_buffer(unpickler *u)
{
    if (need_stack(u, 1))
        return -1;
    st_value *b = u->sv[u->sp - 1], *base = b;
    int k = usable(u, u->sp - 1) ? (int)st_value_kind(b) : -1, ro = k == ST_VALUE_BYTES;
    if (k == ST_VALUE_PICKLEBUFFER)
        base = st_value_picklebuffer_raw(b, &ro);
    else if (k != ST_VALUE_BYTES && k != ST_VALUE_BYTEARRAY)
        return uerror(u, "TypeError: memoryview: a bytes-like object is required, not '%s'",
                      k < 0 ? "global" : st_value_type_name(b));
    if (ro)
        return 0;
    st_value *v = st__picklebuffer_readonly(base);
    if (!v)
        return ST_TRACE();
    u->sv[u->sp - 1] = v;
    st_value_unref(b);
    return 0;
}

static int unsupported(unpickler *u, const char *what)
{
    return uerror(u, "%s is not supported: only plain data can be loaded", what);
}

/* Data a value operation refused (an unhashable key, a bad number in text, a str that is
 * not ASCII for STRING) is bad data too: ST_EFORMAT with Python's error named and the
 * offset. Memory, system, recursion errors and the caller's reduce() errors stay as they are. */
static void as_format_error(unpickler *u)
{
    const st_error *e = st_error_last();
    if (u->keep_error || !e || e->code == ST_EFORMAT || e->code == ST_ENOMEM ||
        e->code == ST_EOS || e->code == ST_EEOF || e->code == ST_ERECURSION)
        return;
    char *msg = st__asprintf("%s: %s", e->type, e->message);
    if (msg) {
        uerror(u, "%s", msg);
        st_free(msg);
    }
}

/* APPENDS, SETITEMS and ADDITEMS: the items after the last mark into the container below it.
 * Inline for a list or dict as it is (what records fill), which fill_container() would find
 * to be neither an object nor a deque. */
static ST__INLINE int fill_to_mark(unpickler *u, int kind, const char *op)
{
    size_t at = 0;
    uint32_t d = 0, sum;
    if (pop_mark(u, &at, &sum))
        return -1;
    if (at == 0 || (u->nmarks && u->marks[u->nmarks - 1].at >= at))
        return uerror(u, "unpickling stack underflow");
    st_value *c = u->sv[at - 1];
    if (kind == ST_VALUE_SET || !c || u->sm[at - 1].global || (int)st__kind(c) != kind)
        return fill_container(u, at - 1, at, sum, kind, op);
    if (check_frame(u, at, sum, &d))
        return -1;
    if (kind == ST_VALUE_DICT && (u->sp - at) % 2)
        return uerror(u, "odd number of items for %s", op);
    return fill_steal(u, at - 1, at, kind, d);
}

/* The opcodes of plain data, with the size of their fixed argument. They run outside the
 * switch, on a cursor in a local (u->p lags behind it until the switch, which works on u->p).
 * Where the compiler can jump to a label's address (GCC, Clang), they are reached from a table,
 * each ending in the jump to the next opcode (no switch's range check, no trip to the top), and
 * their arguments are read without a check of their own: the one check before the jump covers
 * the longest (8 bytes). The rest, and every opcode near the end of the input, go through the
 * switch, which checks; elsewhere the switch takes every opcode. */
#define HOT_OPS(X)                                                                                 \
    X(BINGET, 1) X(BINPUT, 1) X(MEMOIZE, 0) X(MARK, 0) X(BININT1, 1) X(BININT2, 2) X(BININT, 4)    \
    X(BINFLOAT, 8) X(SHORT_BINUNICODE, 1) X(SHORT_BINBYTES, 1) X(EMPTY_LIST, 0) X(EMPTY_DICT, 0)   \
    X(APPENDS, 0) X(SETITEMS, 0) X(NONE, 0)
#ifdef ST_HAVE_COMPUTED_GOTO
#define THREADED 1
#endif

/* The input's end less the longest fixed argument (8 bytes), as a number: an opcode at p below
 * it has its argument there, one compare (no pointer before the input is made; a stream before
 * its first read has a NULL end). */
static inline uintptr_t arg_limit(const unsigned char *end)
{
    return (uintptr_t)end > 8 ? (uintptr_t)end - 8 : 0;
}

/* The opcode loop; returns the value of STOP. */
static st_value *run(unpickler *u)
{
#ifdef THREADED
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#pragma GCC diagnostic ignored "-Woverride-init"
#define HOT_ENTRY(k, n) [k] = &&op_##k,
    static const void *const hot[256] = {[0 ... 255] = &&other, HOT_OPS(HOT_ENTRY)};
#undef HOT_ENTRY
#endif
    const unsigned char *p = u->p, *lim = u->end, *s;
    uintptr_t lim8 = arg_limit(lim);
    size_t len, at;
    uint32_t sum;
    st_value *pv;
    int rc;
    unsigned char op;
#ifdef THREADED
#define NEXT()                               \
    do {                                     \
        if (ST__LIKELY((uintptr_t)p < lim8)) \
            goto *hot[*p++];                 \
        goto slow;                           \
    } while (0)
#else
#define NEXT()      \
    do {            \
        (void)lim8; \
        goto slow;  \
    } while (0)
#endif
/* after a hot opcode: the next one, or the error */
#define DONE()                                                                                     \
    do {                                                                                           \
        if (ST__UNLIKELY(rc))                                                                      \
            goto failed;                                                                           \
        NEXT();                                                                                    \
    } while (0)
/* after one that made a plain value (NULL: failed): pushed at `pushed` */
#define PUSHED(v)    \
    do {             \
        pv = (v);    \
        goto pushed; \
    } while (0)
    NEXT();
slow:
    u->op_at = p;
    u->p = p;
    if (u->p == u->end && fill(u, 1))
        return NULL;
    op = *u->p++;
#ifdef THREADED
    if (0) {
    other:
        op = p[-1]; /* read again: op need not live across the jump */
        u->op_at = p - 1;
        u->p = p;
    }
#endif
    rc = 0;
    at = 0;
    sum = 0;
    { /* the other opcodes, on u->p */
        switch (op) {
#define HOT_CASE(k, n)                                                                 \
    case k:                                                                            \
        u->p--; /* the opcode stays in the window: a hot opcode's error is at p - 1 */ \
        if (need(u, n + 1))                                                            \
            return NULL;                                                               \
        p = u->p + 1;                                                                  \
        lim = u->end;                                                                  \
        lim8 = arg_limit(lim);                                                         \
        goto op_##k;
            HOT_OPS(HOT_CASE)
#undef HOT_CASE
        case PROTO:
            if (!(s = take(u, 1)))
                return NULL;
            if (s[0] > ST_PICKLE_HIGHEST_PROTOCOL)
                rc = value_error(u, "unsupported pickle protocol: %d", s[0]);
            u->proto = s[0];
            break;
        case FRAME: /* a hint; read the whole frame from a stream at once */
            if (!(s = take(u, 8)))
                return NULL;
            if (input_size(u, get_le(s, 8), "FRAME", &len))
                return NULL;
            if ((size_t)(u->end - u->p) < len)
                rc = fill(u, len);
            break;
        case STOP:
            if (frame_floor(u) == u->sp) {
                uerror(u, "unpickling stack underflow");
                return NULL;
            }
            if (!usable(u, u->sp - 1)) {
                uerror(u, "a global cannot be the result");
                return NULL;
            }
            return u->sv[--u->sp];
        case NEWTRUE:
        case NEWFALSE:
            rc = push_value(u, st_value_bool(op == NEWTRUE));
            break;
        case LONG1:
        case LONG4:
            if (!(s = take(u, op == LONG1 ? 1 : 4)))
                return NULL;
            len = (size_t)get_le(s, op == LONG1 ? 1 : 4);
            /* a negative count fails before its data is looked for, as in CPython */
            if (len > INT32_MAX)
                rc = uerror(u, "LONG pickle has negative byte count");
            else if (!(s = take(u, len)))
                return NULL;
            else
                rc = push_value(u, st_value_int_from_bytes(s, len, 1));
            break;
        case INT:
        case LONG:
            rc = load_int_text(u, op == LONG);
            break;
        case FLOAT:
            rc = load_float_text(u);
            break;
        case BINUNICODE:
        case BINUNICODE8:
            if (!(s = take_counted(u, op == BINUNICODE ? 4 : 8, "BINUNICODE", &len)))
                return NULL;
            rc = push_value(u, st__str_new(&u->arena, (const char *)s, len, 1));
            break;
        case UNICODE:
            rc = load_unicode_text(u);
            break;
        case STRING:
            rc = load_string_text(u);
            break;
        case SHORT_BINSTRING:
        case BINSTRING:
            if (!(s = take_counted(u, op == SHORT_BINSTRING ? 1 : 4, "BINSTRING", &len)))
                return NULL;
            rc = push_value(u, ascii_str(s, len));
            break;
        case BINBYTES:
        case BINBYTES8:
            if (!(s = take_counted(u, op == BINBYTES ? 4 : 8, "BINBYTES", &len)))
                return NULL;
            rc = push_value(u, st__bytes_new(&u->arena, s, len));
            break;
        case BYTEARRAY8:
            if (!(s = take_counted(u, 8, "BYTEARRAY8", &len)))
                return NULL;
            rc = push_value(u, st_value_bytearray(s, len));
            break;
        case EMPTY_TUPLE:
            rc = push_value(u, st__tuple_steal(&u->arena, 0, NULL));
            break;
        case EMPTY_SET:
            rc = push_value(u, st__container_new(&u->arena, ST_VALUE_SET));
            break;
        case TUPLE1:
        case TUPLE2:
        case TUPLE3:
            len = (size_t)(op - TUPLE1 + 1);
            rc = need_stack(u, len) || build(u, u->sp - len, SUM_SCAN, ST_VALUE_TUPLE);
            break;
        case TUPLE:
        case LIST:
        case DICT:
        case FROZENSET:
            rc = pop_mark(u, &at, &sum) || build(u, at, sum,
                                                 op == TUPLE  ? ST_VALUE_TUPLE
                                                 : op == LIST ? ST_VALUE_LIST
                                                 : op == DICT ? ST_VALUE_DICT
                                                              : ST_VALUE_FROZENSET);
            break;
        case APPEND:
            rc = need_stack(u, 2) ||
                 fill_container(u, u->sp - 2, u->sp - 1, SUM_SCAN, ST_VALUE_LIST, "APPEND");
            break;
        case SETITEM:
            rc = need_stack(u, 3) ||
                 fill_container(u, u->sp - 3, u->sp - 2, SUM_SCAN, ST_VALUE_DICT, "SETITEM");
            break;
        case ADDITEMS:
            rc = fill_to_mark(u, ST_VALUE_SET, "ADDITEMS");
            break;
        case POP:
            if (u->nmarks && u->marks[u->nmarks - 1].at == u->sp)
                rc = pop_mark(u, &at, &sum); /* POP of an empty mark pops it, as CPython */
            else if (pop_state_setter(u))
                break;
            else
                rc = need_stack(u, 1) ? -1 : (drop(u, u->sp - 1), 0);
            break;
        case POP_MARK:
            rc = pop_mark(u, &at, &sum) ? -1 : (drop(u, at), 0);
            break;
        case DUP:
            if (need_stack(u, 1))
                return NULL;
            rc = push(u, st_value_ref(u->sv[u->sp - 1]), u->sm[u->sp - 1]) ||
                 note_refetch(u, u->sv[u->sp - 1]);
            break;
        case PUT:
        case GET: {
            char *line = line_copy(u);
            if (!line)
                return NULL;
            char *end;
            errno = 0;
            long long idx = strtoll(line, &end, 10);
            int bad = end == line || *end || errno, empty = !*line;
            st_free(line);
            if (empty) /* _pickle's bad_readline() */
                rc = uerror(u, "pickle data was truncated");
            else if (bad)
                rc = op == PUT ? uerror(u, "invalid PUT argument")
                               : uerror(u, "invalid GET argument");
            else if (idx < 0 && op == PUT)
                rc = value_error(u, "negative PUT argument");
            else if (idx < 0)
                rc = uerror(u, "Memo value not found at index %lld", idx);
            else
                rc = op == PUT ? memo_store(u, (uint64_t)idx) : memo_fetch(u, (uint64_t)idx);
            break;
        }
        case LONG_BINPUT:
        case LONG_BINGET:
            if (!(s = take(u, 4)))
                return NULL;
            len = (size_t)get_le(s, 4);
            rc = op == LONG_BINGET ? memo_fetch(u, len) : memo_store(u, len);
            break;
        case GLOBAL:
            rc = load_global(u);
            break;
        case STACK_GLOBAL:
            rc = load_stack_global(u);
            break;
        case REDUCE:
            rc = load_reduce(u);
            break;
        case PERSID:
        case BINPERSID:
            rc = load_persid(u, op == BINPERSID);
            break;
        case BUILD:
            rc = load_build_uuid(u);
            rc = rc ? (rc < 0 ? -1 : 0) : u->objects ? load_build(u) : unsupported(u, "BUILD");
            break;
        case INST:
        case OBJ:
            rc = u->objects ? load_inst(u, op == INST)
                            : unsupported(u, op == INST ? "INST" : "OBJ");
            break;
        case NEWOBJ:
        case NEWOBJ_EX:
            rc = op == NEWOBJ ? load_newobj_uuid(u) : 0;
            rc = rc ? (rc < 0 ? -1 : 0)
                 : u->objects ? load_newobj(u, op == NEWOBJ_EX)
                              : unsupported(u, op == NEWOBJ ? "NEWOBJ" : "NEWOBJ_EX");
            break;
        case EXT1:
        case EXT2:
        case EXT4:
            rc = unsupported(u, "EXT (the extension registry)");
            break;
        case NEXT_BUFFER:
            rc = load_next_buffer(u);
            break;
        case READONLY_BUFFER:
            rc = load_readonly_buffer(u);
            break;
        default:
            if (op >= 0x20 && op < 0x7f)
                rc = uerror(u, "invalid load key, '%c'.", op);
            else
                rc = uerror(u, "invalid load key, '\\x%02x'.", op);
            break;
        }
        if (rc)
            goto failed;
        p = u->p;
        lim = u->end;
        lim8 = arg_limit(lim);
        NEXT();
    }

    /* The hot opcodes: p is at the argument, which is there. */
op_BINGET: /* the most common opcode of shared data */
    if (ST__LIKELY(memo_fetch_fast(u, *p++)))
        NEXT();
    u->op_at = p - 2;
    rc = memo_fetch_slow(u, p[-1]);
    DONE();
op_BINPUT:
    u->op_at = p - 1;
    rc = memo_store(u, *p++);
    DONE();
op_MEMOIZE:
    u->op_at = p - 1;
    rc = memo_store(u, u->memo_len);
    DONE();
op_MARK:
    if (u->nmarks >= u->max_depth) {
        u->op_at = p - 1;
        rc = uerror(u, "nesting deeper than %zu", u->max_depth);
        DONE();
    }
    if (u->nmarks == u->mcap) {
        size_t cap = u->mcap * 2;
        mark *m = grow_array(u->marks, u->small->marks, u->nmarks, cap, sizeof *m);
        if (!m)
            return NULL;
        u->marks = m;
        u->mcap = cap;
    }
    u->marks[u->nmarks++] = (mark){u->sp, u->fsum};
    u->fsum = 0; /* a new frame, empty */
    NEXT();
op_BININT1:
    PUSHED(st__int_new(&u->arena, *p++));
op_BININT2:
    p += 2;
    PUSHED(st__int_new(&u->arena, (int64_t)get_le(p - 2, 2)));
op_BININT:
    p += 4;
    PUSHED(st__int_new(&u->arena, (int64_t)(int32_t)get_le(p - 4, 4)));
op_BINFLOAT: {
    uint64_t bits = get_be64(p);
    double x;
    memcpy(&x, &bits, 8);
    p += 8;
    PUSHED(st__float_new(&u->arena, x));
}
/* the count byte is there: is its data? */
#define TAKE_SHORT(what)                                    \
    do {                                                    \
        if (ST__LIKELY((size_t)(lim - p) > p[0])) {         \
            len = p[0];                                     \
            s = p + 1;                                      \
            p = s + len;                                    \
        } else {                                            \
            u->op_at = p - 1;                               \
            u->p = p;                                       \
            if (!(s = take_counted_slow(u, 1, what, &len))) \
                return NULL;                                \
            p = u->p;                                       \
            lim = u->end;                                   \
            lim8 = arg_limit(lim);                          \
        }                                                   \
    } while (0)
op_SHORT_BINUNICODE:
    u->op_at = p - 1; /* for data that is not UTF-8 */
    TAKE_SHORT("BINUNICODE");
    PUSHED(st__str_new(&u->arena, (const char *)s, len, 1));
op_SHORT_BINBYTES:
    TAKE_SHORT("BINBYTES");
    PUSHED(st__bytes_new(&u->arena, s, len));
#undef TAKE_SHORT
op_EMPTY_LIST:
    PUSHED(st__container_new(&u->arena, ST_VALUE_LIST));
op_EMPTY_DICT:
    PUSHED(st__container_new(&u->arena, ST_VALUE_DICT));
op_APPENDS:
    u->op_at = p - 1;
    rc = fill_to_mark(u, ST_VALUE_LIST, "APPENDS");
    DONE();
op_SETITEMS:
    u->op_at = p - 1;
    rc = fill_to_mark(u, ST_VALUE_DICT, "SETITEMS");
    DONE();
op_NONE:
    PUSHED(st_value_none());
pushed: /* the MEMOIZE that follows most is stored at once (what memo_store() does with it:
         * there is a value above the mark, and its meta is plain) */
    if (ST__UNLIKELY(push_value(u, pv)))
        goto failed;
    if (p < lim && *p == MEMOIZE && memoize_plain(u, pv))
        p++;
    NEXT();
failed:
    as_format_error(u);
    return NULL;
#ifdef THREADED
#pragma GCC diagnostic pop
#endif
#undef NEXT
#undef DONE
#undef PUSHED
}
#undef THREADED
#undef HOT_OPS

int st_pickle_load_options_init(st_pickle_load_options *opts, unsigned int version)
{
    return st__options_init(opts,
                            ST_OPTIONS_SIZES(offsetof(st_pickle_load_options, objects),
                                             sizeof *opts),
                            version, ST_PICKLE_LOAD_OPTIONS_VERSION, "st_pickle_load_options");
}

/* Loads with opts already checked (NULL: the defaults). */
static st_value *load(unpickler *u, const st_pickle_load_options *opts)
{
    static const st_pickle_load_options defaults = ST_PICKLE_LOAD_OPTIONS_INIT;
    if (!opts)
        opts = &defaults;
    u->o = opts;
    if (opts->version >= 2) {
        u->objects = opts->objects;
        u->persistent_load = opts->persistent_load;
        u->buffers = opts->buffers;
        u->nbuffers = opts->nbuffers;
    }
    u->max_depth = opts->max_depth ? opts->max_depth : ST_VALUE_MAX_DEPTH;
    u->sum_fast = u->max_depth < SUM_SCAN ? (uint32_t)u->max_depth : SUM_SCAN;
    small_store small;
    u->small = &small;
    u->sv = small.sv;
    u->sm = small.sm;
    u->scap = SMALL_STACK;
    u->marks = small.marks;
    u->mcap = SMALL_MARKS;
    u->memo = small.memo;
    u->memo_cap = SMALL_MEMO;
    u->memo_refs = u->objects || u->persistent_load || opts->reduce;
    u->memo_plain = u->memo_refs ? 0 : u->memo_cap;
    if (!u->memo_refs)
        st__grave_open(&u->grave);
    st_value *v = run(u);
    if (!v && st_error_code() != ST_EEOF)
        ST_TRACE();
    drop(u, 0);
    for (size_t i = 0; u->memo_refs && i < u->memo_top; i++)
        if (u->memo[i])
            st__unref(u->memo[i]);
    for (size_t i = 0; i < u->ndeques; i++) {
        st__deque_trim(u->deques[i]);
        st_value_unref(u->deques[i]);
    }
    st_free(u->deques);
    if (u->nrefetched)
        collect_cycles(u, v);
    if (!u->memo_refs)
        st__grave_close(&u->grave);
    st__arena_done(&u->arena);
    st__shapes_done(&u->shapes);
    for (size_t i = 0; i < 2 * u->ngnames; i++)
        st_free(u->gnames[i]);
    st_free(u->gnames);
    memo_free(u);
    if (u->mm != small.mm)
        st_free(u->mm);
    if (u->sv != small.sv)
        st_free(u->sv);
    if (u->sm != small.sm)
        st_free(u->sm);
    if (u->marks != small.marks)
        st_free(u->marks);
    st__buf_free(&u->win);
    return v;
}

st_value *st_pickle_loads(const void *data, size_t len, const st_pickle_load_options *opts)
{
    if (ST_OPTIONS_CHECK(opts, ST_PICKLE_LOAD_OPTIONS_VERSION, "st_pickle_load_options") < 0)
        return NULL;
    unpickler u = {0};
    u.fd = -1;
    u.start = u.p = data;
    u.end = u.p + len;
    if (len == 0)
        return (ST_RAISE(ST_EEOF, "Ran out of input"), NULL);
    if (opts && opts->max_size && len > opts->max_size)
        u.end = u.p + opts->max_size; /* beyond: "truncated", like a stream cut there */
    /* The values take at least about as much as their pickle (records: 4x); a memo entry per
     * 8 bytes of it is more than records have (one per 15) and less than the most (one per 2:
     * a list of empty lists), past which the memo grows as usual. */
    st__arena_expect(&u.arena, (size_t)(u.end - u.p));
    u.memo_expect = (size_t)(u.end - u.p) / 8 * sizeof(st_value *);
    if (u.memo_expect > MEMO_EXPECT_MAX)
        u.memo_expect = MEMO_EXPECT_MAX;
    return load(&u, opts);
}

st_value *st_pickle_load(int fd, const st_pickle_load_options *opts)
{
    if (ST_OPTIONS_CHECK(opts, ST_PICKLE_LOAD_OPTIONS_VERSION, "st_pickle_load_options") < 0)
        return NULL;
    unpickler u = {0};
    u.fd = fd;
    return load(&u, opts);
}

st_value *st_pickle_load_file(FILE *f, const st_pickle_load_options *opts)
{
    if (ST_OPTIONS_CHECK(opts, ST_PICKLE_LOAD_OPTIONS_VERSION, "st_pickle_load_options") < 0)
        return NULL;
    unpickler u = {0};
    u.fd = -1;
    u.f = f;
    return load(&u, opts);
}
