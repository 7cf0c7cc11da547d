/* pickle: CPython's pickle format for plain values. The dumper follows Modules/_pickle.c's
 * Pickler (opcode choices, memo, batching, framing) so its output is byte-identical; the
 * loader understands every opcode CPython emits for plain data and nothing that runs code. */
#include "systools/pickle.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal/error.h"
#include "internal/mem.h"
#include "internal/options.h"
#include "internal/value.h"

#define UNPICKLING_ERROR "pickle.UnpicklingError"
#define FRAME_SIZE_TARGET (64 * 1024)
#define FRAME_HEADER_SIZE 9
#define FRAME_SIZE_MIN 4
#define BATCHSIZE 1000

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

static const char *const global_module[] = {NULL,      "builtins", "builtins", "builtins",
                                            "builtins", "_codecs", "copyreg", "copyreg"};
static const char *const global_name[] = {NULL,    "set",           "frozenset",
                                          "bytearray", "bytes",     "encode",
                                          "_reconstructor", "_reconstructor arguments"};

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

/* ======================================================================================= */
/* Pickler                                                                                 */
/* ======================================================================================= */

/* Memo keys: a value's address, or one of these small numbers for objects CPython shares
 * (its type objects, interned names, and the cached empty and one-character str/bytes). */
enum {
    K_GLOBAL = 0x10,        /* + G_*: the global's object */
    K_NAME = 0x20,          /* + G_*: its name as an interned str (protocol 4+) */
    K_BUILTINS = 0x30,      /* "builtins" (protocol 4+) */
    K_LATIN1 = 0x31,        /* "latin1", the encoding in protocol 0-2 bytes */
    K_STR_EMPTY = 0x40,     /* '' */
    K_BYTES_EMPTY = 0x41,   /* b'' */
    K_STR_CHAR = 0x100,     /* + code point < 256 */
    K_BYTES_CHAR = 0x200,   /* + byte */
    K_FIRST_ADDRESS = 0x300 /* real addresses are above */
};

/* A hash map from non-zero keys (addresses, or the small K_* numbers) to memo indexes; the
 * unpickler uses it as a set of addresses. */
struct memo_entry {
    uintptr_t key; /* 0: empty */
    uint32_t idx;
};

typedef struct ptrmap {
    struct memo_entry *t;
    unsigned shift; /* 64 - log2(table size) */
    size_t mask, used;
} ptrmap;

typedef struct pickler {
    unsigned char *out;
    size_t len, cap;
    int proto;
    int framing;
    size_t frame_start; /* SIZE_MAX: no frame open */
    size_t frame_end;   /* where the open frame reaches its target size; SIZE_MAX: none */
    ptrmap memo;
    size_t memo_len; /* memo entries written (the next index) */
    int tuple_item;  /* the value being saved is an item of a tuple */
    int depth;
} pickler;

static int grow(pickler *p, size_t n)
{
    if (p->len + n <= p->cap)
        return 0;
    size_t cap = p->cap ? p->cap : 256;
    while (cap < p->len + n) {
        if (cap > SIZE_MAX / 2)
            return ST_RAISE_NOMEM();
        cap *= 2;
    }
    unsigned char *o = st__realloc(p->out, cap);
    if (!o)
        return ST_TRACE();
    p->out = o;
    p->cap = cap;
    return 0;
}

/* _Pickler_Write: opens a frame (header filled in at commit) when framing and none is open. */
static int emit_slow(pickler *p, const void *s, size_t n)
{
    int new_frame = p->framing && p->frame_start == SIZE_MAX;
    if (grow(p, n + (new_frame ? FRAME_HEADER_SIZE : 0)))
        return -1;
    if (new_frame) {
        p->frame_start = p->len;
        p->frame_end = p->len + FRAME_HEADER_SIZE + FRAME_SIZE_TARGET;
        p->len += FRAME_HEADER_SIZE;
    }
    memcpy(p->out + p->len, s, n);
    p->len += n;
    return 0;
}

static inline int emit(pickler *p, const void *s, size_t n)
{
    if (n > p->cap - p->len || (p->framing && p->frame_start == SIZE_MAX))
        return emit_slow(p, s, n);
    memcpy(p->out + p->len, s, n);
    p->len += n;
    return 0;
}

static inline int emit1(pickler *p, unsigned char c)
{
    if (p->len < p->cap && !(p->framing && p->frame_start == SIZE_MAX)) {
        p->out[p->len++] = c;
        return 0;
    }
    return emit_slow(p, &c, 1);
}

/* Writes an opcode and an n-byte little-endian argument. */
static int emit_op_le(pickler *p, unsigned char op, uint64_t arg, int n)
{
    unsigned char b[9];
    b[0] = op;
    put_le(b + 1, arg, n);
    return emit(p, b, (size_t)n + 1);
}

static void commit_frame(pickler *p)
{
    if (!p->framing || p->frame_start == SIZE_MAX)
        return;
    size_t flen = p->len - p->frame_start - FRAME_HEADER_SIZE;
    unsigned char *q = p->out + p->frame_start;
    if (flen >= FRAME_SIZE_MIN) {
        q[0] = 0x95; /* FRAME */
        put_le(q + 1, flen, 8);
    } else {
        memmove(q, q + FRAME_HEADER_SIZE, flen);
        p->len -= FRAME_HEADER_SIZE;
    }
    p->frame_start = p->frame_end = SIZE_MAX;
}

/* _Pickler_OpcodeBoundary: a frame closes once it reaches the target size. */
static void opcode_boundary(pickler *p)
{
    if (p->len >= p->frame_end)
        commit_frame(p);
}

/* _Pickler_write_bytes: payloads of a frame's size or more go between frames. */
static int emit_payload(pickler *p, const unsigned char hdr[9], size_t hlen, const void *data,
                        size_t n)
{
    if (n < FRAME_SIZE_TARGET && p->cap - p->len >= 9 + n &&
        !(p->framing && p->frame_start == SIZE_MAX)) {
        /* all 9 header bytes (a fixed-size copy), the data over those past hlen */
        memcpy(p->out + p->len, hdr, 9);
        memcpy(p->out + p->len + hlen, data, n);
        p->len += hlen + n;
        return 0;
    }
    int framing = p->framing;
    if (n >= FRAME_SIZE_TARGET) {
        commit_frame(p);
        p->framing = 0;
    }
    int rc = emit(p, hdr, hlen) || emit(p, data, n);
    p->framing = framing;
    return rc ? -1 : 0;
}

/* ---- memo ---- */

/* Fibonacci hashing: the top bits of key * 2^64/phi pick the slot. */
static size_t key_slot(const struct memo_entry *t, unsigned shift, size_t mask, uintptr_t key)
{
    size_t i = (size_t)(((uint64_t)key * UINT64_C(0x9E3779B97F4A7C15)) >> shift);
    while (t[i].key && t[i].key != key)
        i = (i + 1) & mask;
    return i;
}

/* The index stored under key, or -1. */
static int64_t ptrmap_find(const ptrmap *m, uintptr_t key)
{
    if (!key || !m->t)
        return -1;
    const struct memo_entry *e = &m->t[key_slot(m->t, m->shift, m->mask, key)];
    return e->key ? (int64_t)e->idx : -1;
}

static int ptrmap_insert(ptrmap *m, uintptr_t key, uint32_t idx)
{
    if (!m->t || (m->used + 1) * 2 > m->mask + 1) {
        unsigned shift = m->t ? m->shift - 1 : 64 - 6;
        size_t n = (size_t)1 << (64 - shift);
        struct memo_entry *t = st__calloc(n, sizeof *t);
        if (!t)
            return ST_TRACE();
        for (size_t i = 0; m->t && i <= m->mask; i++)
            if (m->t[i].key)
                t[key_slot(t, shift, n - 1, m->t[i].key)] = m->t[i];
        st_free(m->t);
        m->t = t;
        m->shift = shift;
        m->mask = n - 1;
    }
    struct memo_entry *e = &m->t[key_slot(m->t, m->shift, m->mask, key)];
    e->key = key;
    e->idx = idx;
    m->used++;
    return 0;
}

static int64_t memo_find(const pickler *p, uintptr_t key)
{
    return ptrmap_find(&p->memo, key);
}

/* memo_put: records the next index under key (0: an object never seen again) and writes the
 * opcode that stores it. */
static int memo_put_slow(pickler *p, uintptr_t key)
{
    size_t idx = p->memo_len++;
    if (idx > 0xffffffffu)
        return ST_RAISE(ST_EVALUE, "memo id too large for LONG_BINPUT");
    if (key && ptrmap_insert(&p->memo, key, (uint32_t)idx))
        return -1;
    if (p->proto >= 4)
        return emit1(p, 0x94); /* MEMOIZE */
    if (p->proto == 0) {
        char b[32];
        int n = snprintf(b, sizeof b, "p%zu\n", idx);
        return emit(p, b, (size_t)n);
    }
    if (idx < 256)
        return emit_op_le(p, 'q', idx, 1);
    return emit_op_le(p, 'r', idx, 4);
}

static inline int memo_put(pickler *p, uintptr_t key)
{
    if (p->proto < 4 || p->memo_len > 0xffffffffu)
        return memo_put_slow(p, key);
    size_t idx = p->memo_len++;
    if (key && ptrmap_insert(&p->memo, key, (uint32_t)idx))
        return -1;
    return emit1(p, 0x94); /* MEMOIZE */
}

static int memo_get(pickler *p, uint32_t idx)
{
    if (p->proto == 0) {
        char b[32];
        int n = snprintf(b, sizeof b, "g%" PRIu32 "\n", idx);
        return emit(p, b, (size_t)n);
    }
    if (idx < 256)
        return emit_op_le(p, 'h', idx, 1);
    return emit_op_le(p, 'j', idx, 4);
}

/* Writes a memo reference when key is known; returns 1 then, 0 if not, -1 on error. */
static int memo_hit(pickler *p, uintptr_t key)
{
    int64_t idx = memo_find(p, key);
    if (idx < 0)
        return 0;
    return memo_get(p, (uint32_t)idx) ? -1 : 1;
}

/* The memo key of a str or bytes given as bytes: CPython's cached objects by content. */
static uintptr_t str_key(const char *utf8, size_t len)
{
    if (len == 0)
        return K_STR_EMPTY;
    if (len == 1)
        return K_STR_CHAR + (unsigned char)utf8[0];
    if (len == 2 && ((unsigned char)utf8[0] & 0xFE) == 0xC2) /* U+0080..U+00FF */
        return K_STR_CHAR + ((((unsigned)utf8[0] & 0x1F) << 6) | ((unsigned)utf8[1] & 0x3F));
    return 0;
}

static uintptr_t bytes_key(const unsigned char *data, size_t len)
{
    return len == 0 ? K_BYTES_EMPTY : len == 1 ? (uintptr_t)K_BYTES_CHAR + data[0] : 0;
}

static inline uintptr_t value_key(const st_value *v)
{
    uintptr_t k = 0;
    if (v->kind == ST_VALUE_STR)
        k = str_key(v->u.s.data, v->u.s.len);
    else if (v->kind == ST_VALUE_BYTES)
        k = bytes_key((const unsigned char *)v->u.s.data, v->u.s.len);
    return k ? k : (uintptr_t)v;
}

/* ---- atoms ---- */

static int save_int(pickler *p, const st_value *v)
{
    if (!(v->flags & ST__V_BIG) && v->u.i >= INT32_MIN && v->u.i <= INT32_MAX) {
        int64_t i = v->u.i;
        if (p->proto == 0) {
            char b[32];
            int n = snprintf(b, sizeof b, "I%" PRId64 "\n", i);
            return emit(p, b, (size_t)n);
        }
        if (i >= 0 && i <= 0xff)
            return emit_op_le(p, 'K', (uint64_t)i, 1);
        if (i >= 0 && i <= 0xffff)
            return emit_op_le(p, 'M', (uint64_t)i, 2);
        return emit_op_le(p, 'J', (uint64_t)(uint32_t)(int32_t)i, 4);
    }
    if (p->proto >= 2) {
        size_t nbytes = st_value_int_bit_length(v) / 8 + 1;
        unsigned char stackbuf[64];
        unsigned char *d = nbytes <= sizeof stackbuf ? stackbuf : st__malloc(nbytes);
        if (!d)
            return ST_TRACE();
        int rc = st_value_int_to_bytes(v, d, nbytes, 1);
        if (rc == 0) {
            /* A negative number may carry one redundant sign byte. */
            if (nbytes > 1 && d[nbytes - 1] == 0xff && (d[nbytes - 2] & 0x80))
                nbytes--;
            unsigned char hdr[5];
            size_t hlen = 0;
            if (nbytes < 256) {
                hdr[0] = 0x8a; /* LONG1 */
                hdr[1] = (unsigned char)nbytes;
                hlen = 2;
            } else if (nbytes <= 0x7fffffff) {
                hdr[0] = 0x8b; /* LONG4 */
                put_le(hdr + 1, nbytes, 4);
                hlen = 5;
            } else {
                rc = ST_RAISE(ST_EOVERFLOW, "int too large to pickle");
            }
            if (rc == 0)
                rc = emit(p, hdr, hlen) || emit(p, d, nbytes) ? -1 : 0;
        }
        if (d != stackbuf)
            st_free(d);
        return rc;
    }
    st__buf b = ST__BUF_INIT;
    int rc = st__buf_putc(&b, 'L') || st__int_repr(&b, v) || st__buf_append(&b, "L\n", 2) ||
             emit(p, b.data, b.len);
    st__buf_free(&b);
    return rc ? -1 : 0;
}

static int save_float(pickler *p, double d)
{
    if (p->proto >= 1) {
        unsigned char b[9];
        uint64_t bits;
        memcpy(&bits, &d, 8);
        b[0] = 'G';
        put_be64(b + 1, bits);
        return emit(p, b, 9);
    }
    st__buf b = ST__BUF_INIT;
    int rc = st__buf_putc(&b, 'F') || st__float_repr(&b, d) || st__buf_putc(&b, '\n') ||
             emit(p, b.data, b.len);
    st__buf_free(&b);
    return rc ? -1 : 0;
}

/* Protocol 0's UNICODE argument: raw-unicode-escape with backslash, NUL, CR, LF and ^Z escaped
 * too, so the line stays one line. */
static int save_str_text(pickler *p, const char *utf8, size_t len)
{
    st__buf b = ST__BUF_INIT;
    int rc = st__buf_putc(&b, 'V');
    for (size_t i = 0; i < len && rc == 0;) {
        uint32_t cp;
        size_t k = st__utf8_decode((const unsigned char *)utf8 + i, len - i, 1, &cp);
        if (k == 0)
            k = 1, cp = (unsigned char)utf8[i];
        i += k;
        if (cp >= 0x10000)
            rc = st__buf_printf(&b, "\\U%08" PRIx32, cp);
        else if (cp >= 256 || cp == '\\' || cp == 0 || cp == '\n' || cp == '\r' || cp == 0x1a)
            rc = st__buf_printf(&b, "\\u%04" PRIx32, cp);
        else
            rc = st__buf_putc(&b, (char)cp);
    }
    if (rc == 0)
        rc = st__buf_putc(&b, '\n') || emit(p, b.data, b.len) ? -1 : 0;
    st__buf_free(&b);
    return rc;
}

/* save_unicode for a str given as its (surrogatepass) UTF-8, memoized under key. */
static int save_str_data(pickler *p, const char *utf8, size_t len, uintptr_t key)
{
    /* The usual case, a short str into an open frame with room: SHORT_BINUNICODE and MEMOIZE
     * written at once. */
    if (len <= 0xff && p->proto >= 4 && p->frame_start != SIZE_MAX && p->cap - p->len >= len + 3 &&
        p->memo_len <= 0xffffffffu) {
        unsigned char *o = p->out + p->len;
        o[0] = 0x8c;
        o[1] = (unsigned char)len;
        memcpy(o + 2, utf8, len);
        o[len + 2] = 0x94;
        p->len += len + 3;
        size_t idx = p->memo_len++;
        return key && ptrmap_insert(&p->memo, key, (uint32_t)idx) ? -1 : 0;
    }
    int rc;
    if (p->proto == 0) {
        rc = save_str_text(p, utf8, len);
    } else {
        unsigned char hdr[9];
        size_t hlen;
        if (len <= 0xff && p->proto >= 4) {
            hdr[0] = 0x8c; /* SHORT_BINUNICODE */
            hdr[1] = (unsigned char)len;
            hlen = 2;
        } else if (len <= 0xffffffffu) {
            hdr[0] = 'X';
            put_le(hdr + 1, len, 4);
            hlen = 5;
        } else if (p->proto >= 4) {
            hdr[0] = 0x8d; /* BINUNICODE8 */
            put_le(hdr + 1, len, 8);
            hlen = 9;
        } else {
            return ST_RAISE(ST_EOVERFLOW, "serializing a string larger than 4 GiB requires "
                                          "pickle protocol 4 or higher");
        }
        rc = emit_payload(p, hdr, hlen, utf8, len);
    }
    return rc ? -1 : memo_put(p, key);
}

/* An interned name (protocol 4 STACK_GLOBAL), memoized under key. */
static int save_name(pickler *p, const char *name, uintptr_t key)
{
    opcode_boundary(p);
    int hit = memo_hit(p, key);
    return hit ? (hit < 0 ? -1 : 0) : save_str_data(p, name, strlen(name), key);
}

/* save_global for one of the plain-data globals. */
static int save_global(pickler *p, int g)
{
    opcode_boundary(p);
    int hit = memo_hit(p, K_GLOBAL + g);
    if (hit)
        return hit < 0 ? -1 : 0;
    int rc;
    if (p->proto >= 4) {
        rc = save_name(p, global_module[g], K_BUILTINS) ||
             save_name(p, global_name[g], K_NAME + g) || emit1(p, 0x93);
    } else {
        /* fix_imports renames builtins to Python 2's __builtin__ below protocol 3. */
        const char *mod = global_module[g];
        if (p->proto < 3 && strcmp(mod, "builtins") == 0)
            mod = "__builtin__";
        st__buf b = ST__BUF_INIT;
        rc = st__buf_printf(&b, "c%s\n%s\n", mod, global_name[g]) || emit(p, b.data, b.len);
        st__buf_free(&b);
    }
    return rc ? -1 : memo_put(p, K_GLOBAL + g);
}

/* A tuple CPython builds on the fly (reduce arguments): MARK before the items below
 * protocol 2, TUPLE1..3 after them from protocol 2; memoized as an object never seen again. */
static int tuple_open(pickler *p, size_t n)
{
    return n > 0 && (p->proto < 2 || n > 3) ? emit1(p, '(') : 0;
}

static int tuple_close(pickler *p, size_t n)
{
    if (n == 0)
        return p->proto ? emit1(p, ')') : emit(p, "(t", 2);
    if (p->proto >= 2 && n <= 3)
        return emit1(p, (unsigned char)(0x84 + n)) || memo_put(p, 0);
    return emit1(p, 't') || memo_put(p, 0);
}

/* bytes data below protocol 3: codecs.encode(data.decode('latin1'), 'latin1'), or bytes()
 * when empty; memoized under key. */
static int save_bytes_reduce(pickler *p, const unsigned char *data, size_t len, uintptr_t key)
{
    if (len == 0)
        return save_global(p, G_BYTES) || tuple_close(p, 0) || emit1(p, 'R') ||
                       memo_put(p, key)
                   ? -1
                   : 0;
    if (save_global(p, G_ENCODE) || tuple_open(p, 2))
        return -1;
    opcode_boundary(p);
    st__buf s = ST__BUF_INIT;
    for (size_t i = 0; i < len; i++) {
        if (st__utf8_put(&s, data[i])) {
            st__buf_free(&s);
            return ST_TRACE();
        }
    }
    uintptr_t skey = str_key(s.data, s.len);
    int hit = memo_hit(p, skey);
    int rc = hit < 0 || (!hit && save_str_data(p, s.data, s.len, skey));
    st__buf_free(&s);
    return rc || save_name(p, "latin1", K_LATIN1) || tuple_close(p, 2) || emit1(p, 'R') ||
                   memo_put(p, key)
               ? -1
               : 0;
}

/* save_bytes / _save_bytes_data, memoized under key. */
static int save_bytes_data(pickler *p, const unsigned char *data, size_t len, uintptr_t key)
{
    if (p->proto < 3)
        return save_bytes_reduce(p, data, len, key);
    unsigned char hdr[9];
    size_t hlen;
    if (len <= 0xff) {
        hdr[0] = 'C';
        hdr[1] = (unsigned char)len;
        hlen = 2;
    } else if (len <= 0xffffffffu) {
        hdr[0] = 'B';
        put_le(hdr + 1, len, 4);
        hlen = 5;
    } else if (p->proto >= 4) {
        hdr[0] = 0x8e;
        put_le(hdr + 1, len, 8);
        hlen = 9;
    } else {
        return ST_RAISE(ST_EOVERFLOW, "serializing a bytes object larger than 4 GiB requires "
                                      "pickle protocol 4 or higher");
    }
    return emit_payload(p, hdr, hlen, data, len) || memo_put(p, key) ? -1 : 0;
}

/* ---- containers ---- */

static int save(pickler *p, const st_value *v);

/* st_value_next and st_value_dict_next, with lists, tuples and dicts read in place. */
static inline int next_item(const st_value *c, size_t *pos, st_value **item)
{
    if (c->kind != ST_VALUE_LIST && c->kind != ST_VALUE_TUPLE)
        return st_value_next(c, pos, item);
    if (*pos >= c->u.seq.len)
        return 0;
    *item = c->u.seq.items[(*pos)++];
    return 1;
}

static inline int next_entry(const st_value *d, size_t *pos, st_value **k, st_value **x)
{
    const st__dict *t = d->u.dict;
    while (*pos < t->nentries && !t->entries[*pos].key)
        (*pos)++;
    if (*pos >= t->nentries)
        return 0;
    *k = t->entries[*pos].key;
    *x = t->entries[(*pos)++].value;
    return 1;
}

/* batch_list_exact (and batch_list for protocol 0) over any iterable container. */
static int save_appends(pickler *p, const st_value *c)
{
    size_t n = (size_t)st_value_len(c), pos = 0, total = 0;
    st_value *item;
    if (n == 0)
        return 0;
    if (p->proto == 0) {
        while (next_item(c, &pos, &item))
            if (save(p, item) || emit1(p, 'a'))
                return -1;
        return 0;
    }
    if (n == 1) {
        next_item(c, &pos, &item);
        return save(p, item) || emit1(p, 'a') ? -1 : 0;
    }
    while (total < n) {
        if (emit1(p, '('))
            return -1;
        for (size_t k = 0; k < BATCHSIZE && next_item(c, &pos, &item); k++, total++)
            if (save(p, item))
                return -1;
        if (emit1(p, 'e'))
            return -1;
    }
    return 0;
}

/* A list the pickler makes from a set's items (protocol < 4 set and frozenset). */
static int save_item_list(pickler *p, const st_value *c)
{
    opcode_boundary(p);
    return (p->proto ? emit1(p, ']') : emit(p, "(l", 2)) || memo_put(p, 0) ||
                   save_appends(p, c)
               ? -1
               : 0;
}

static int save_list(pickler *p, const st_value *v, uintptr_t key)
{
    return (p->proto ? emit1(p, ']') : emit(p, "(l", 2)) || memo_put(p, key) ||
                   save_appends(p, v)
               ? -1
               : 0;
}

static int save_dict(pickler *p, const st_value *v, uintptr_t key)
{
    if ((p->proto ? emit1(p, '}') : emit(p, "(d", 2)) || memo_put(p, key))
        return -1;
    size_t n = (size_t)st_value_len(v), pos = 0;
    st_value *k, *x;
    if (p->proto == 0 || n == 1) {
        while (next_entry(v, &pos, &k, &x))
            if (save(p, k) || save(p, x) || emit1(p, 's'))
                return -1;
        return 0;
    }
    if (n == 0)
        return 0;
    /* Like CPython, a batch that ends exactly at the end is followed by an empty one. */
    size_t i;
    do {
        if (emit1(p, '('))
            return -1;
        for (i = 0; i < BATCHSIZE && next_entry(v, &pos, &k, &x); i++)
            if (save(p, k) || save(p, x))
                return -1;
        if (emit1(p, 'u'))
            return -1;
    } while (i == BATCHSIZE);
    return 0;
}

/* set and frozenset below protocol 4: set(list) / frozenset(list) through REDUCE. */
static int save_set_reduce(pickler *p, const st_value *v, uintptr_t key, int g)
{
    return save_global(p, g) || tuple_open(p, 1) || save_item_list(p, v) ||
                   tuple_close(p, 1) || emit1(p, 'R') || memo_put(p, key)
               ? -1
               : 0;
}

static int save_set(pickler *p, const st_value *v, uintptr_t key)
{
    if (p->proto < 4)
        return save_set_reduce(p, v, key, G_SET);
    if (emit1(p, 0x8f) || memo_put(p, key))
        return -1;
    size_t pos = 0, i;
    st_value *item;
    if (st_value_len(v) == 0)
        return 0;
    do {
        if (emit1(p, '('))
            return -1;
        for (i = 0; i < BATCHSIZE && st_value_next(v, &pos, &item); i++)
            if (save(p, item))
                return -1;
        if (emit1(p, 0x90))
            return -1;
    } while (i == BATCHSIZE);
    return 0;
}

static int save_frozenset(pickler *p, const st_value *v, uintptr_t key)
{
    if (p->proto < 4)
        return save_set_reduce(p, v, key, G_FROZENSET);
    size_t pos = 0;
    st_value *item;
    if (emit1(p, '('))
        return -1;
    while (st_value_next(v, &pos, &item) > 0)
        if (save(p, item))
            return -1;
    return emit1(p, 0x91) || memo_put(p, key) ? -1 : 0;
}

static int save_tuple(pickler *p, const st_value *v, uintptr_t key)
{
    size_t n = (size_t)st_value_len(v), pos = 0;
    st_value *item;
    if (n == 0)
        return p->proto ? emit1(p, ')') : emit(p, "(t", 2);
    if (tuple_open(p, n))
        return -1;
    while (next_item(v, &pos, &item)) {
        p->tuple_item = 1;
        if (save(p, item))
            return -1;
    }
    /* Recursive: an item refers back to the tuple, which is in the memo now. */
    int64_t idx = memo_find(p, key);
    if (idx >= 0) {
        if (p->proto >= 2 && n <= 3) {
            for (size_t i = 0; i < n; i++)
                if (emit1(p, '0'))
                    return -1;
        } else if (p->proto) {
            if (emit1(p, '1'))
                return -1;
        } else {
            for (size_t i = 0; i <= n; i++)
                if (emit1(p, '0'))
                    return -1;
        }
        return memo_get(p, (uint32_t)idx);
    }
    if (p->proto >= 2 && n <= 3)
        return emit1(p, (unsigned char)(0x84 + n)) || memo_put(p, key) ? -1 : 0;
    return emit1(p, 't') || memo_put(p, key) ? -1 : 0;
}

static int save_bytearray(pickler *p, const st_value *v, uintptr_t key)
{
    size_t len;
    const unsigned char *data = st_value_bytes_data(v, &len);
    if (p->proto >= 5) {
        unsigned char hdr[9];
        hdr[0] = 0x96; /* BYTEARRAY8 */
        put_le(hdr + 1, len, 8);
        return emit_payload(p, hdr, 9, data, len) || memo_put(p, key) ? -1 : 0;
    }
    /* bytearray(bytes(v)), or bytearray() when empty. */
    if (save_global(p, G_BYTEARRAY))
        return -1;
    if (len) {
        if (tuple_open(p, 1))
            return -1;
        /* bytes(bytearray) is a new object even for one byte (not CPython's cached one). */
        opcode_boundary(p);
        if (save_bytes_data(p, data, len, 0))
            return -1;
    }
    return tuple_close(p, len ? 1 : 0) || emit1(p, 'R') || memo_put(p, key) ? -1 : 0;
}

static int save(pickler *p, const st_value *v)
{
    opcode_boundary(p);
    switch (v->kind) {
    case ST_VALUE_NONE:
        return emit1(p, 'N');
    case ST_VALUE_BOOL:
        if (p->proto >= 2)
            return emit1(p, v->u.i ? 0x88 : 0x89);
        return emit(p, v->u.i ? "I01\n" : "I00\n", 4);
    case ST_VALUE_INT:
        return save_int(p, v);
    case ST_VALUE_FLOAT:
        return save_float(p, v->u.f);
    default:
        break;
    }
    /* A value referenced once (by its container) cannot be met again, unless that container
     * is a tuple (memoized only after its items, so a cycle through it revisits them): no
     * memo lookup and no entry then, only the memo opcode CPython writes. */
    uintptr_t key = value_key(v);
    if (key == (uintptr_t)v && v->h.rc == 1 && !p->tuple_item)
        key = 0;
    p->tuple_item = 0;
    int hit = memo_hit(p, key);
    if (hit)
        return hit < 0 ? -1 : 0;
    if (v->kind == ST_VALUE_STR)
        return save_str_data(p, v->u.s.data, v->u.s.len, key);
    if (v->kind == ST_VALUE_BYTES)
        return save_bytes_data(p, (const unsigned char *)v->u.s.data, v->u.s.len, key);
    if (p->depth >= ST_VALUE_MAX_DEPTH)
        return ST_RAISE(ST_ERECURSION, "maximum recursion depth exceeded while pickling an object");
    p->depth++;
    int rc;
    switch (v->kind) {
    case ST_VALUE_DICT:
        rc = save_dict(p, v, key);
        break;
    case ST_VALUE_SET:
        rc = save_set(p, v, key);
        break;
    case ST_VALUE_FROZENSET:
        rc = save_frozenset(p, v, key);
        break;
    case ST_VALUE_LIST:
        rc = save_list(p, v, key);
        break;
    case ST_VALUE_TUPLE:
        rc = save_tuple(p, v, key);
        break;
    default:
        rc = save_bytearray(p, v, key);
        break;
    }
    p->depth--;
    return rc;
}

int st_pickle_dumps(const st_value *v, int protocol, unsigned char **out, size_t *len)
{
    if (protocol < 0)
        protocol = ST_PICKLE_HIGHEST_PROTOCOL;
    if (protocol > ST_PICKLE_HIGHEST_PROTOCOL)
        return ST_RAISE(ST_EVALUE, "pickle protocol must be <= %d", ST_PICKLE_HIGHEST_PROTOCOL);
    pickler p = {0};
    p.proto = protocol;
    p.frame_start = p.frame_end = SIZE_MAX;
    int rc = 0;
    if (protocol >= 2) {
        unsigned char hdr[2] = {0x80, (unsigned char)protocol};
        rc = emit(&p, hdr, 2);
        p.framing = protocol >= 4;
    }
    if (rc == 0)
        rc = save(&p, v) || emit1(&p, '.') ? -1 : 0;
    commit_frame(&p);
    st_free(p.memo.t);
    if (rc) {
        st_free(p.out);
        return ST_TRACE();
    }
    *out = p.out;
    *len = p.len;
    return 0;
}

int st_pickle_dump(const st_value *v, int protocol, int fd)
{
    unsigned char *data;
    size_t len;
    if (st_pickle_dumps(v, protocol, &data, &len))
        return ST_TRACE();
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(fd, data + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            st_free(data);
            return ST_RAISE_OS(e, "cannot write pickle to file descriptor %d", fd);
        }
        off += (size_t)n;
    }
    st_free(data);
    return 0;
}

int st_pickle_dump_file(const st_value *v, int protocol, FILE *f)
{
    unsigned char *data;
    size_t len;
    if (st_pickle_dumps(v, protocol, &data, &len))
        return ST_TRACE();
    size_t n = fwrite(data, 1, len, f);
    int e = errno;
    st_free(data);
    if (n != len)
        return ST_RAISE_OS(e ? e : EIO, "cannot write pickle to stream");
    return 0;
}

/* ======================================================================================= */
/* Unpickler                                                                               */
/* ======================================================================================= */

/* What the loader knows about a stack or memo entry besides its value. */
typedef struct meta {
    uint32_t depth;  /* nesting of the value as built */
    uint16_t global; /* G_*: a global (value NULL) or arguments that only REDUCE may use */
    uint16_t base;   /* G_RECON_ARGS: the type (G_*) to call on the value */
} meta;

/* A memo entry. */
typedef struct slot {
    st_value *v;
    meta m;
} slot;

/* The first stack, marks and memo of a load live in its frame: a small load mallocs none. */
#define SMALL_STACK 32
#define SMALL_MARKS 16
#define SMALL_MEMO 32
typedef struct small_store {
    st_value *sv[SMALL_STACK];
    meta sm[SMALL_STACK];
    size_t marks[SMALL_MARKS];
    slot memo[SMALL_MEMO];
} small_store;

typedef struct unpickler {
    /* Input: [p, end) is what is available; start is where the window began, at offset base. */
    const unsigned char *p, *end, *start;
    size_t base;
    int fd;      /* -1: not a descriptor */
    FILE *f;     /* NULL: not a stdio stream */
    st__buf win; /* the window for streams */
    /* Where the current opcode starts; NULL once fill() moved the window, op_offset then. */
    const unsigned char *op_at;
    size_t op_offset;
    const st_pickle_load_options *o;
    size_t max_depth;

    st__arena arena; /* where the values come from */
    /* The stack: values apart from their meta, so a container takes its items in one copy. */
    st_value **sv;
    meta *sm;
    size_t sp, scap;
    size_t *marks;
    size_t nmarks, mcap;
    slot *memo;
    size_t memo_cap, memo_top, memo_len; /* allocated, initialised, filled */
    char **gnames; /* caller-accepted globals: module, name pairs */
    size_t ngnames;
    /* Containers pushed again by GET or DUP (references held): every reference cycle the
     * load makes goes through one of them. */
    st_value **refetched;
    size_t nrefetched, rcap;
    int keep_error; /* the caller's reduce() failed: its error stands */
    small_store *small;
} unpickler;

static size_t offset_of(const unpickler *u, const unsigned char *at)
{
    return u->base + (size_t)(at - u->start);
}

static size_t op_offset(const unpickler *u)
{
    return u->op_at ? offset_of(u, u->op_at) : u->op_offset;
}

static int uerror(unpickler *u, const char *fmt, ...) ST__PRINTF(2, 3);

static int uerror(unpickler *u, const char *fmt, ...)
{
    st__buf b = ST__BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    int rc = st__buf_vprintf(&b, fmt, ap);
    va_end(ap);
    if (rc)
        return -1;
    ST_RAISE_AS(ST_EFORMAT, UNPICKLING_ERROR, "%s (at offset %zu)", b.data, op_offset(u));
    st__buf_free(&b);
    return -1;
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
    if (u->fd < 0 && !u->f)
        return uerror(u, "pickle data was truncated");
    size_t off = offset_of(u, u->p);
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
            ssize_t r = read(u->fd, u->win.data + u->win.len, want);
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0)
                return ST_RAISE_OS(errno, "cannot read pickle from file descriptor %d", u->fd);
            got = (size_t)r;
        }
        if (got == 0) {
            u->start = u->p = (const unsigned char *)u->win.data;
            u->end = u->p + u->win.len;
            if (off == 0 && u->win.len == 0)
                return ST_RAISE(ST_EEOF, "Ran out of input");
            return uerror(u, "pickle data was truncated");
        }
        u->win.len += got;
    }
    u->start = u->p = (const unsigned char *)u->win.data;
    u->end = u->p + u->win.len;
    return 0;
}

/* The next n bytes (consumed). */
static inline const unsigned char *take(unpickler *u, size_t n)
{
    if ((size_t)(u->end - u->p) < n && fill(u, n))
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
    return 0;
}

/* Pushes v (taking the reference) unless it is NULL for a failure. */
static inline int push(unpickler *u, st_value *v, meta m)
{
    if ((!v && !m.global) || u->sp == u->scap)
        return push_slow(u, v, m);
    u->sv[u->sp] = v;
    u->sm[u->sp++] = m;
    return 0;
}

static inline int push_value(unpickler *u, st_value *v)
{
    return push(u, v, (meta){0, G_NONE, 0});
}

/* The index of the first item after the last MARK (the mark is removed). */
static int pop_mark(unpickler *u, size_t *at)
{
    if (u->nmarks == 0)
        return uerror(u, "could not find MARK");
    *at = u->marks[--u->nmarks];
    return 0;
}

static void drop(unpickler *u, size_t to)
{
    while (u->sp > to)
        st_value_unref(u->sv[--u->sp]);
}

static int need_stack(unpickler *u, size_t n)
{
    size_t floor = u->nmarks ? u->marks[u->nmarks - 1] : 0;
    return u->sp - floor < n ? uerror(u, "unpickling stack underflow") : 0;
}

static const char *gname(const unpickler *u, uint32_t g, int which)
{
    if (g < G_CUSTOM)
        return which ? global_name[g] : global_module[g];
    return u->gnames[2 * (g - G_CUSTOM) + (size_t)which];
}

/* Items [from, sp) must be values to go into a container; *depth: the container's. */
static inline int check_values(unpickler *u, size_t from, uint32_t *depth)
{
    uint32_t d = 0;
    for (size_t i = from; i < u->sp; i++) {
        if (u->sm[i].global)
            return uerror(u, "global '%s.%s' cannot be used as a value",
                          gname(u, u->sm[i].global, 0), gname(u, u->sm[i].global, 1));
        if (u->sm[i].depth > d)
            d = u->sm[i].depth;
    }
    if (from < u->sp && (size_t)d + 1 > u->max_depth)
        return uerror(u, "nesting deeper than %zu", u->max_depth);
    *depth = from < u->sp ? d + 1 : 0;
    return 0;
}

/* Moves items [from, sp) into the container at stack index at, pairwise for dicts. */
static int fill_container(unpickler *u, size_t at, size_t from, int kind, const char *op)
{
    uint32_t d = 0;
    st_value *c = u->sv[at];
    if (u->sm[at].global || (int)st_value_kind(c) != kind)
        return uerror(u, "%s on a %s", op, u->sm[at].global ? "global" : st_value_type_name(c));
    if (check_values(u, from, &d))
        return -1;
    size_t n = u->sp - from;
    if (kind == ST_VALUE_DICT && n % 2)
        return uerror(u, "odd number of items for %s", op);
    int rc = 0;
    if (kind == ST_VALUE_LIST) {
        rc = st__list_extend_steal(&u->arena, c, u->sv + from, n);
    } else if (kind == ST_VALUE_DICT) {
        rc = st__dict_update_steal(&u->arena, c, u->sv + from, n / 2);
    } else {
        for (size_t i = from; i < u->sp && rc == 0; i++)
            rc = st_value_set_add(c, u->sv[i]);
        drop(u, from);
    }
    u->sp = from; /* the container took the items over */
    if (rc)
        return ST_TRACE();
    if (d > u->sm[at].depth)
        u->sm[at].depth = d;
    return 0;
}

/* Builds a tuple, list, dict or frozenset of items [from, sp) and pushes it instead. */
static int build(unpickler *u, size_t from, int kind)
{
    uint32_t d = 0;
    size_t n = u->sp - from;
    const meta *m = n == 3 ? u->sm + from : NULL;
    /* (cls, base, state) for copyreg._reconstructor, cls and base the same plain type. */
    if (kind == ST_VALUE_TUPLE && m && m[0].global == m[1].global && m[0].global >= G_SET &&
        m[0].global <= G_BYTES && !m[2].global) {
        uint16_t base = m[0].global;
        d = m[2].depth;
        u->sp = from;
        return push(u, st__tuple_steal(&u->arena, 1, &u->sv[from + 2]),
                    (meta){d, G_RECON_ARGS, base});
    }
    if (check_values(u, from, &d))
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
    return fill_container(u, from, from + 1, kind,
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

/* Remembers a container pushed a second time (the only way a cycle can close). */
static inline int note_refetch(unpickler *u, st_value *v)
{
    int k = v ? v->kind : -1;
    if (k != ST_VALUE_LIST && k != ST_VALUE_DICT && k != ST_VALUE_TUPLE)
        return 0;
    return remember_refetch(u, v);
}

/* Visits the lists, tuples and dicts reachable from root that are not in `skip` yet, adding
 * them to it; with clear, empties the lists and dicts (their children stay alive while they
 * are visited). Sets and frozensets hold only hashable values, never part of a cycle. */
static int walk(ptrmap *skip, st_value *root, int clear)
{
    st_value **todo = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    st_value_ref(root);
    for (st_value *c = root; c; c = n ? todo[--n] : NULL) {
        int k = (int)st_value_kind(c);
        if ((k != ST_VALUE_LIST && k != ST_VALUE_DICT && k != ST_VALUE_TUPLE) ||
            ptrmap_find(skip, (uintptr_t)c) >= 0 || (rc = ptrmap_insert(skip, (uintptr_t)c, 0))) {
            st_value_unref(c);
            continue;
        }
        size_t pos = 0, len = (size_t)st_value_len(c);
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
        st_value *item;
        if (k == ST_VALUE_DICT) {
            while (st_value_dict_next(c, &pos, NULL, &item) > 0)
                todo[n++] = st_value_ref(item);
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

/* Makes room for memo index idx. */
static int grow_memo(unpickler *u, size_t idx)
{
    /* Indexes are bounded by the input read so far, so the memo is too. */
    if (idx > op_offset(u) + 1024)
        return uerror(u, "memo index %zu too large", idx);
    size_t cap = u->memo_cap;
    while (cap <= idx)
        cap *= 2;
    slot *m = grow_array(u->memo, u->small->memo, u->memo_top, cap, sizeof *m);
    if (!m)
        return ST_TRACE();
    u->memo = m;
    u->memo_cap = cap;
    return 0;
}

/* The slot of PUT idx beyond the next free one, or of one in use (its value dropped). */
static slot *memo_slot_slow(unpickler *u, size_t idx)
{
    if (idx >= u->memo_top) {
        if (idx >= u->memo_cap && grow_memo(u, idx))
            return NULL;
        while (u->memo_top <= idx)
            u->memo[u->memo_top++] = (slot){NULL, {0, G_NONE, 0}};
    }
    slot *m = &u->memo[idx];
    if (m->v || m->m.global)
        st_value_unref(m->v);
    else
        u->memo_len++;
    return m;
}

static inline int memo_store(unpickler *u, size_t idx)
{
    if (u->sp == 0 || (u->nmarks && u->marks[u->nmarks - 1] == u->sp))
        return uerror(u, "unpickling stack underflow");
    slot *m;
    if (idx == u->memo_top && idx < u->memo_cap) { /* the next free index, as MEMOIZE uses */
        m = &u->memo[u->memo_top++];
        u->memo_len++;
    } else if (!(m = memo_slot_slow(u, idx))) {
        return -1;
    }
    m->v = u->sv[u->sp - 1];
    if (m->v)
        st__ref(m->v);
    m->m = u->sm[u->sp - 1];
    return 0;
}

static inline int memo_fetch(unpickler *u, size_t idx)
{
    if (idx >= u->memo_top || (!u->memo[idx].v && !u->memo[idx].m.global))
        return uerror(u, "Memo value not found at index %zu", idx);
    slot m = u->memo[idx];
    if (m.v)
        st__ref(m.v);
    return push(u, m.v, m.m) || note_refetch(u, m.v) ? -1 : 0;
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

/* Reads an n-byte little-endian length, then that many bytes (checked against what is there
 * or can come, never allocated up front). */
static const unsigned char *take_counted_slow(unpickler *u, int n, size_t *len)
{
    const unsigned char *s = take(u, (size_t)n);
    if (!s)
        return NULL;
    uint64_t l = get_le(s, n);
    if (l > SIZE_MAX / 2)
        return (uerror(u, "length %" PRIu64 " too large", l), NULL);
    *len = (size_t)l;
    return take(u, *len);
}

static inline const unsigned char *take_counted(unpickler *u, int n, size_t *len)
{
    /* a one-byte count and its data at hand */
    if (n == 1 && u->p < u->end && (size_t)(u->end - u->p) > u->p[0]) {
        const unsigned char *r = u->p + 1;
        *len = u->p[0];
        u->p = r + *len;
        return r;
    }
    return take_counted_slow(u, n, len);
}

static int load_global_names(unpickler *u, const char *mod, const char *name)
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
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(mod, known[i].mod) == 0 && strcmp(name, known[i].name) == 0)
            return push(u, NULL, (meta){0, (uint16_t)known[i].g, 0});
    if (!u->o->allow_global || !u->o->allow_global(u->o->ctx, mod, name))
        return uerror(u, "global '%s.%s' is forbidden", mod, name);
    if (u->ngnames >= UINT16_MAX - G_CUSTOM)
        return uerror(u, "too many globals");
    char **g = st__reallocarray(u->gnames, 2 * (u->ngnames + 1), sizeof *g);
    if (!g)
        return ST_TRACE();
    u->gnames = g;
    g[2 * u->ngnames] = st__strdup(mod);
    g[2 * u->ngnames + 1] = st__strdup(name);
    u->ngnames++;
    if (!g[2 * u->ngnames - 2] || !g[2 * u->ngnames - 1])
        return ST_TRACE();
    return push(u, NULL, (meta){0, (uint16_t)(G_CUSTOM + u->ngnames - 1), 0});
}

static int load_global(unpickler *u)
{
    char *mod = line_copy(u);
    char *name = mod ? line_copy(u) : NULL;
    int rc = name ? load_global_names(u, mod, name) : -1;
    st_free(mod);
    st_free(name);
    return rc;
}

static int load_stack_global(unpickler *u)
{
    if (need_stack(u, 2))
        return -1;
    st_value *m = u->sv[u->sp - 2], *n = u->sv[u->sp - 1];
    if (u->sm[u->sp - 2].global || u->sm[u->sp - 1].global || st_value_kind(m) != ST_VALUE_STR ||
        st_value_kind(n) != ST_VALUE_STR)
        return uerror(u, "STACK_GLOBAL requires str");
    char *mod = st__strdup(st_value_str_data(m, NULL));
    char *name = mod ? st__strdup(st_value_str_data(n, NULL)) : NULL;
    drop(u, u->sp - 2);
    int rc = name ? load_global_names(u, mod, name) : -1;
    st_free(mod);
    st_free(name);
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

static int load_reduce(unpickler *u)
{
    if (need_stack(u, 2))
        return -1;
    slot f = {u->sv[u->sp - 2], u->sm[u->sp - 2]}, a = {u->sv[u->sp - 1], u->sm[u->sp - 1]};
    if (!f.m.global)
        return uerror(u, "REDUCE on a %s (only globals can be called)",
                      st_value_type_name(f.v));
    st_value *r;
    if (f.m.global == G_RECONSTRUCTOR) {
        /* _reconstructor(cls, base, state) with cls is base: base(state). */
        if (a.m.global != G_RECON_ARGS)
            return uerror(u, "unsupported arguments for copyreg._reconstructor");
        r = call_builtin(u, a.m.base, a.v);
    } else if (a.m.global || st_value_kind(a.v) != ST_VALUE_TUPLE) {
        return uerror(u, "REDUCE arguments must be a tuple");
    } else if (f.m.global < G_CUSTOM) {
        r = call_builtin(u, f.m.global, a.v);
    } else if (u->o->reduce) {
        r = u->o->reduce(u->o->ctx, gname(u, f.m.global, 0), gname(u, f.m.global, 1), a.v);
        u->keep_error = !r;
    } else {
        return uerror(u, "cannot call %s.%s: no reduce callback", gname(u, f.m.global, 0),
                      gname(u, f.m.global, 1));
    }
    if (!r)
        return ST_TRACE();
    drop(u, u->sp - 2);
    return push(u, r, (meta){a.m.depth, G_NONE, 0});
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

/* The opcode loop; returns the value of STOP. */
static st_value *run(unpickler *u)
{
    for (;;) {
        const unsigned char *s;
        size_t len, at = 0;
        int rc = 0;
        u->op_at = u->p;
        if (u->p == u->end && fill(u, 1))
            return NULL;
        unsigned char op = *u->p++;
        switch (op) {
        case 0x80: /* PROTO */
            if (!(s = take(u, 1)))
                return NULL;
            if (s[0] > ST_PICKLE_HIGHEST_PROTOCOL)
                rc = uerror(u, "unsupported pickle protocol: %d", s[0]);
            break;
        case 0x95: /* FRAME: a hint; read the whole frame from a stream at once */
            if (!(s = take(u, 8)))
                return NULL;
            len = (size_t)get_le(s, 8);
            if (get_le(s, 8) > SIZE_MAX / 2)
                rc = uerror(u, "frame size too large");
            else if ((size_t)(u->end - u->p) < len)
                rc = fill(u, len);
            break;
        case '.': /* STOP */
            if (u->sp == 0 || (u->nmarks && u->marks[u->nmarks - 1] == u->sp)) {
                uerror(u, "unpickling stack underflow");
                return NULL;
            }
            if (u->sm[u->sp - 1].global) {
                uerror(u, "a global cannot be the result");
                return NULL;
            }
            return u->sv[--u->sp];
        case 'N':
            rc = push_value(u, st_value_none());
            break;
        case 0x88:
        case 0x89:
            rc = push_value(u, st_value_bool(op == 0x88));
            break;
        case 'K':
        case 'M':
        case 'J':
            if (!(s = take(u, op == 'K' ? 1 : op == 'M' ? 2 : 4)))
                return NULL;
            rc = push_value(u, st__int_new(&u->arena, op == 'K' ? s[0]
                                            : op == 'M' ? (int64_t)get_le(s, 2)
                                                        : (int64_t)(int32_t)get_le(s, 4)));
            break;
        case 0x8a: /* LONG1 */
        case 0x8b: /* LONG4 */
            if (!(s = take_counted(u, op == 0x8a ? 1 : 4, &len)))
                return NULL;
            if (op == 0x8b && len > INT32_MAX)
                rc = uerror(u, "LONG pickle has negative byte count");
            else
                rc = push_value(u, st_value_int_from_bytes(s, len, 1));
            break;
        case 'I':
        case 'L':
            rc = load_int_text(u, op == 'L');
            break;
        case 'G':
            if (!(s = take(u, 8)))
                return NULL;
            {
                uint64_t bits = get_be64(s);
                double x;
                memcpy(&x, &bits, 8);
                rc = push_value(u, st__float_new(&u->arena, x));
            }
            break;
        case 'F':
            rc = load_float_text(u);
            break;
        case 0x8c: /* SHORT_BINUNICODE */
        case 'X':  /* BINUNICODE */
        case 0x8d: /* BINUNICODE8 */
            if (!(s = take_counted(u, op == 0x8c ? 1 : op == 'X' ? 4 : 8, &len)))
                return NULL;
            rc = push_value(u, st__str_new(&u->arena, (const char *)s, len, 1));
            break;
        case 'V':
            rc = load_unicode_text(u);
            break;
        case 'S':
            rc = load_string_text(u);
            break;
        case 'U': /* SHORT_BINSTRING */
        case 'T': /* BINSTRING */
            if (!(s = take_counted(u, op == 'U' ? 1 : 4, &len)))
                return NULL;
            rc = push_value(u, ascii_str(s, len));
            break;
        case 'C': /* SHORT_BINBYTES */
        case 'B': /* BINBYTES */
        case 0x8e: /* BINBYTES8 */
            if (!(s = take_counted(u, op == 'C' ? 1 : op == 'B' ? 4 : 8, &len)))
                return NULL;
            rc = push_value(u, st__bytes_new(&u->arena, s, len));
            break;
        case 0x96: /* BYTEARRAY8 */
            if (!(s = take_counted(u, 8, &len)))
                return NULL;
            rc = push_value(u, st_value_bytearray(s, len));
            break;
        case ')':
            rc = push_value(u, st__tuple_steal(&u->arena, 0, NULL));
            break;
        case ']':
            rc = push_value(u, st__container_new(&u->arena, ST_VALUE_LIST));
            break;
        case '}':
            rc = push_value(u, st__container_new(&u->arena, ST_VALUE_DICT));
            break;
        case 0x8f:
            rc = push_value(u, st__container_new(&u->arena, ST_VALUE_SET));
            break;
        case 0x85:
        case 0x86:
        case 0x87:
            rc = need_stack(u, (size_t)(op - 0x84)) || build(u, u->sp - (size_t)(op - 0x84),
                                                             ST_VALUE_TUPLE);
            break;
        case '(':
            if (u->nmarks >= u->max_depth) {
                rc = uerror(u, "nesting deeper than %zu", u->max_depth);
                break;
            }
            if (u->nmarks == u->mcap) {
                size_t cap = u->mcap * 2;
                size_t *m = grow_array(u->marks, u->small->marks, u->nmarks, cap, sizeof *m);
                if (!m)
                    return NULL;
                u->marks = m;
                u->mcap = cap;
            }
            u->marks[u->nmarks++] = u->sp;
            break;
        case 't':
        case 'l':
        case 'd':
        case 0x91:
            rc = pop_mark(u, &at) || build(u, at, op == 't'   ? ST_VALUE_TUPLE
                                                  : op == 'l' ? ST_VALUE_LIST
                                                  : op == 'd' ? ST_VALUE_DICT
                                                              : ST_VALUE_FROZENSET);
            break;
        case 'a':
            rc = need_stack(u, 2) ||
                 fill_container(u, u->sp - 2, u->sp - 1, ST_VALUE_LIST, "APPEND");
            break;
        case 's':
            rc = need_stack(u, 3) ||
                 fill_container(u, u->sp - 3, u->sp - 2, ST_VALUE_DICT, "SETITEM");
            break;
        case 'e':
        case 'u':
        case 0x90:
            if (pop_mark(u, &at))
                return NULL;
            if (at == 0 || (u->nmarks && u->marks[u->nmarks - 1] >= at)) {
                rc = uerror(u, "unpickling stack underflow");
                break;
            }
            rc = fill_container(u, at - 1, at,
                                op == 'e'   ? ST_VALUE_LIST
                                : op == 'u' ? ST_VALUE_DICT
                                            : ST_VALUE_SET,
                                op == 'e' ? "APPENDS" : op == 'u' ? "SETITEMS" : "ADDITEMS");
            break;
        case '0':
            if (u->nmarks && u->marks[u->nmarks - 1] == u->sp)
                u->nmarks--; /* POP of an empty mark pops the mark, as CPython */
            else
                rc = need_stack(u, 1) ? -1 : (drop(u, u->sp - 1), 0);
            break;
        case '1':
            rc = pop_mark(u, &at) ? -1 : (drop(u, at), 0);
            break;
        case '2':
            if (need_stack(u, 1))
                return NULL;
            rc = push(u, st_value_ref(u->sv[u->sp - 1]), u->sm[u->sp - 1]) ||
                 note_refetch(u, u->sv[u->sp - 1]);
            break;
        case 'p':
        case 'g': {
            char *line = line_copy(u);
            if (!line)
                return NULL;
            char *end;
            errno = 0;
            long long idx = strtoll(line, &end, 10);
            int bad = end == line || *end || errno;
            st_free(line);
            if (bad)
                rc = op == 'p' ? uerror(u, "invalid PUT argument")
                               : uerror(u, "invalid GET argument");
            else if (idx < 0)
                rc = uerror(u, "negative %s argument", op == 'p' ? "PUT" : "GET");
            else
                rc = op == 'p' ? memo_store(u, (size_t)idx) : memo_fetch(u, (size_t)idx);
            break;
        }
        case 'h': /* BINGET, the most common opcode of shared data */
            if (!(s = take(u, 1)))
                return NULL;
            rc = memo_fetch(u, s[0]);
            break;
        case 'q':
        case 'r':
        case 'j':
            if (!(s = take(u, op == 'q' ? 1 : 4)))
                return NULL;
            len = (size_t)get_le(s, op == 'q' ? 1 : 4);
            rc = op == 'j' ? memo_fetch(u, len) : memo_store(u, len);
            break;
        case 0x94: /* MEMOIZE */
            rc = memo_store(u, u->memo_len);
            break;
        case 'c':
            rc = load_global(u);
            break;
        case 0x93:
            rc = load_stack_global(u);
            break;
        case 'R':
            rc = load_reduce(u);
            break;
        case 'P':
        case 'Q':
            rc = uerror(u, "A load persistent id instruction was encountered, but no "
                           "persistent_load function was specified.");
            break;
        case 'b':
            rc = unsupported(u, "BUILD");
            break;
        case 'i':
        case 'o':
            rc = unsupported(u, op == 'i' ? "INST" : "OBJ");
            break;
        case 0x81:
        case 0x92:
            rc = unsupported(u, op == 0x81 ? "NEWOBJ" : "NEWOBJ_EX");
            break;
        case 0x82:
        case 0x83:
        case 0x84:
            rc = unsupported(u, "EXT (the extension registry)");
            break;
        case 0x97:
        case 0x98:
            rc = unsupported(u, op == 0x97 ? "NEXT_BUFFER" : "READONLY_BUFFER");
            break;
        default:
            if (op >= 0x20 && op < 0x7f)
                rc = uerror(u, "invalid load key, '%c'.", op);
            else
                rc = uerror(u, "invalid load key, '\\x%02x'.", op);
            break;
        }
        if (rc) {
            as_format_error(u);
            return NULL;
        }
    }
}

int st_pickle_load_options_init(st_pickle_load_options *opts, unsigned int version)
{
    return st__options_init(opts, sizeof *opts, version, ST_PICKLE_LOAD_OPTIONS_VERSION,
                            "st_pickle_load_options");
}

/* Loads with opts already checked (NULL: the defaults). */
static st_value *load(unpickler *u, const st_pickle_load_options *opts)
{
    static const st_pickle_load_options defaults = ST_PICKLE_LOAD_OPTIONS_INIT;
    if (!opts)
        opts = &defaults;
    u->o = opts;
    u->max_depth = opts->max_depth ? opts->max_depth : ST_VALUE_MAX_DEPTH;
    small_store small;
    u->small = &small;
    u->sv = small.sv;
    u->sm = small.sm;
    u->scap = SMALL_STACK;
    u->marks = small.marks;
    u->mcap = SMALL_MARKS;
    u->memo = small.memo;
    u->memo_cap = SMALL_MEMO;
    st_value *v = run(u);
    if (!v && st_error_code() != ST_EEOF)
        ST_TRACE();
    drop(u, 0);
    for (size_t i = 0; i < u->memo_top; i++)
        if (u->memo[i].v)
            st__unref(u->memo[i].v);
    if (u->nrefetched)
        collect_cycles(u, v);
    st__arena_done(&u->arena);
    for (size_t i = 0; i < 2 * u->ngnames; i++)
        st_free(u->gnames[i]);
    st_free(u->gnames);
    if (u->memo != small.memo)
        st_free(u->memo);
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
