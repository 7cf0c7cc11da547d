/* pickle: the dumper. It follows Modules/_pickle.c's Pickler (opcode choices, memo, batching,
 * framing) so its output is byte-identical to CPython's. */
#include "systools/pickle.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
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

#define FRAME_SIZE_TARGET (64 * 1024)
#define FRAME_HEADER_SIZE 9
#define FRAME_SIZE_MIN 4

/* Memo keys: a value's address, or one of these small numbers for the cached empty and
 * one-character str/bytes CPython shares. (Its type objects and interned names, shared by
 * content too, are in the pickler's names map.) */
enum {
    K_STR_EMPTY = 0x40,     /* '' */
    K_BYTES_EMPTY = 0x41,   /* b'' */
    K_STR_CHAR = 0x100,     /* + code point < 256 */
    K_BYTES_CHAR = 0x200,   /* + byte */
    K_FIRST_ADDRESS = 0x300 /* real addresses are above */
};

/* Memo indexes of what CPython shares although we only know it by content: its interned strs
 * (module and qualified names, "latin1") and its classes and functions (globals). A key is the
 * text with a tag byte first: 'n' + name, or 'g' + module + '\0' + qualname. */
typedef struct name_entry {
    char *key; /* NULL: empty */
    size_t len;
    uint32_t idx;
} name_entry;

typedef struct namemap {
    name_entry *t;
    size_t mask, used;
} namemap;

/* What save()'s fast path may write without checks: a short str or bytes (opcode, 1-byte
 * length, up to 255 bytes, MEMOIZE), a number, a memo reference, a container's opening. */
#define SAVE_ROOM 512
#define HINTS 8 /* the first positions of dicts' keys and lists' items with hints */

typedef struct pickler {
    unsigned char *out;
    size_t len, cap;
    /* The inline writes' end: cap, or 0 while framing with no frame open (the next write or
     * save() opens one: open_frame()). */
    size_t wend;
    /* save() takes its fast path below this length: the open frame's end, and SAVE_ROOM short
     * of wend; 0 (never) in protocol 0 or with a persistent_id callback (slow). */
    size_t limit;
    int slow;
    int proto;
    int framing;
    size_t frame_start; /* SIZE_MAX: no frame open */
    size_t frame_end;   /* where the open frame reaches its target size; SIZE_MAX: none */
    ptrmap memo;
    size_t memo_len; /* memo entries written (the next index) */
    int tuple_item;  /* the value being saved is an item of a tuple */
    int depth;
    namemap names;
    uint32_t gmemo[G_CUSTOM]; /* the names map's index + 1 of each plain-data global (0: none) */
    const st_pickle_dump_options *o; /* NULL: no callbacks */
    int skip_pers; /* the value being saved is a persistent id: no persistent_id() for it */
    /* Records repeat their shared strs at the same places: the one met lately at each of the
     * first positions of dicts' keys and of lists' items, with its memo index. */
    struct hint {
        const st_value *v;
        uint32_t idx;
    } key_hints[HINTS], item_hints[HINTS];
} pickler;

/* Recomputes wend and limit after the buffer, the frame or framing changed. */
static void set_limits(pickler *p)
{
    p->wend = p->framing && p->frame_start == SIZE_MAX ? 0 : p->cap;
    size_t room = p->wend > SAVE_ROOM ? p->wend - SAVE_ROOM : 0;
    p->limit = p->slow ? 0 : room < p->frame_end ? room : p->frame_end;
}

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
    set_limits(p);
    return 0;
}

/* _Pickler_Write's frame: opened (header filled in at commit) when framing and none is open,
 * with room for n bytes more. */
static int open_frame(pickler *p, size_t n)
{
    int new_frame = p->framing && p->frame_start == SIZE_MAX;
    if (grow(p, n + (new_frame ? FRAME_HEADER_SIZE : 0)))
        return -1;
    if (new_frame) {
        p->frame_start = p->len;
        p->frame_end = p->len + FRAME_HEADER_SIZE + FRAME_SIZE_TARGET;
        p->len += FRAME_HEADER_SIZE;
        set_limits(p);
    }
    return 0;
}

static int emit_slow(pickler *p, const void *s, size_t n)
{
    if (open_frame(p, n))
        return -1;
    memcpy(p->out + p->len, s, n);
    p->len += n;
    return 0;
}

static inline int emit(pickler *p, const void *s, size_t n)
{
    if (p->len + n > p->wend)
        return emit_slow(p, s, n);
    memcpy(p->out + p->len, s, n);
    p->len += n;
    return 0;
}

static inline int emit1(pickler *p, unsigned char c)
{
    if (p->len < p->wend) {
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

/* Protocol 0's MARK and the opcode that builds an empty container from it. */
static int emit2(pickler *p, unsigned char op1, unsigned char op2)
{
    const unsigned char b[2] = {op1, op2};
    return emit(p, b, 2);
}

static void commit_frame(pickler *p)
{
    if (!p->framing || p->frame_start == SIZE_MAX)
        return;
    size_t flen = p->len - p->frame_start - FRAME_HEADER_SIZE;
    unsigned char *q = p->out + p->frame_start;
    if (flen >= FRAME_SIZE_MIN) {
        q[0] = FRAME;
        put_le(q + 1, flen, 8);
    } else {
        memmove(q, q + FRAME_HEADER_SIZE, flen);
        p->len -= FRAME_HEADER_SIZE;
    }
    p->frame_start = p->frame_end = SIZE_MAX;
    set_limits(p);
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
    if (n < FRAME_SIZE_TARGET && p->len + 9 + n <= p->wend) {
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
        set_limits(p);
    }
    int rc = emit(p, hdr, hlen) || emit(p, data, n);
    p->framing = framing;
    set_limits(p);
    return rc ? -1 : 0;
}

/* Writes the header of a str or bytes payload of len bytes: ops[0] with a 1-byte length (if
 * not 0), else ops[1] with 4 bytes, else ops[2] with 8 (protocol 4+). Returns its size, or 0
 * (OverflowError) when the protocol cannot hold that length. */
static size_t counted_header(const pickler *p, unsigned char hdr[9], const unsigned char ops[3],
                             size_t len, const char *what)
{
    if (len <= 0xff && ops[0]) {
        hdr[0] = ops[0];
        hdr[1] = (unsigned char)len;
        return 2;
    }
    if (len <= 0xffffffffu) {
        hdr[0] = ops[1];
        put_le(hdr + 1, len, 4);
        return 5;
    }
    if (p->proto >= 4) {
        hdr[0] = ops[2];
        put_le(hdr + 1, len, 8);
        return 9;
    }
    ST_RAISE(ST_EOVERFLOW, "serializing %s larger than 4 GiB requires pickle protocol 4 or higher",
             what);
    return 0;
}

/* ---- memo ---- */

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
        return emit1(p, MEMOIZE);
    if (p->proto == 0) {
        char b[32];
        int n = snprintf(b, sizeof b, "%c%zu\n", PUT, idx);
        return emit(p, b, (size_t)n);
    }
    if (idx < 256)
        return emit_op_le(p, BINPUT, idx, 1);
    return emit_op_le(p, LONG_BINPUT, idx, 4);
}

/* Out of line, so that save()'s fast path makes no call but in its tail. */
static ST__NOINLINE int memo_insert(pickler *p, uintptr_t key, uint32_t idx)
{
    return ptrmap_insert(&p->memo, key, idx);
}

/* memo_put from protocol 4 on, with room for MEMOIZE known. */
static inline int memoize(pickler *p, uintptr_t key)
{
    if (ST__UNLIKELY(p->memo_len > 0xffffffffu))
        return memo_put_slow(p, key);
    size_t idx = p->memo_len++;
    p->out[p->len++] = MEMOIZE;
    return key ? memo_insert(p, key, (uint32_t)idx) : 0;
}

static inline int memo_put(pickler *p, uintptr_t key)
{
    if (p->proto < 4 || p->len >= p->wend)
        return memo_put_slow(p, key);
    return memoize(p, key);
}

static int memo_get_slow(pickler *p, uint32_t idx)
{
    if (p->proto == 0) {
        char b[32];
        int n = snprintf(b, sizeof b, "%c%" PRIu32 "\n", GET, idx);
        return emit(p, b, (size_t)n);
    }
    if (idx < 256)
        return emit_op_le(p, BINGET, idx, 1);
    return emit_op_le(p, LONG_BINGET, idx, 4);
}

/* BINGET or LONG_BINGET of idx at o, which has room for 5 bytes; returns its size. */
static inline size_t put_memo_get(unsigned char *o, uint32_t idx)
{
    if (idx < 256) {
        o[0] = BINGET;
        o[1] = (unsigned char)idx;
        return 2;
    }
    o[0] = LONG_BINGET;
    put_le(o + 1, idx, 4);
    return 5;
}

/* Writes the opcode that fetches memo entry idx. Inline for the binary ones into an open
 * frame with room: records fetch their shared keys many times each. */
static inline int memo_get(pickler *p, uint32_t idx)
{
    if (p->proto && p->len + 5 <= p->wend) {
        p->len += put_memo_get(p->out + p->len, idx);
        return 0;
    }
    return memo_get_slow(p, idx);
}

/* Writes a memo reference when key is known; returns 1 then, 0 if not, -1 on error. Inline,
 * as the lookup it wraps: it runs once for every value save() meets. */
static inline int memo_hit(pickler *p, uintptr_t key)
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

/* The memo key of a str or bytes v of kind with these contents. */
static inline uintptr_t data_key(const st_value *v, st_value_type kind, const char *data,
                                 size_t len)
{
    uintptr_t k = len > 2                ? 0
                  : kind == ST_VALUE_STR ? str_key(data, len)
                                         : bytes_key((const unsigned char *)data, len);
    return k ? k : (uintptr_t)v;
}

static inline uintptr_t value_key(const st_value *v)
{
    st_value_type kind = st__kind(v);
    if (kind != ST_VALUE_STR && kind != ST_VALUE_BYTES)
        return (uintptr_t)v;
    size_t len;
    const char *data = st__data(v, &len);
    return data_key(v, kind, data, len);
}

/* ---- atoms ---- */

/* BININT1, BININT2 or BININT of i at o (room for 5 bytes); returns its size. */
static inline size_t put_binint(unsigned char *o, int32_t i)
{
    if (i >= 0 && i <= 0xff) {
        o[0] = BININT1;
        o[1] = (unsigned char)i;
        return 2;
    }
    if (i >= 0 && i <= 0xffff) {
        o[0] = BININT2;
        put_le(o + 1, (uint64_t)i, 2);
        return 3;
    }
    o[0] = BININT;
    put_le(o + 1, (uint32_t)i, 4);
    return 5;
}

/* BINFLOAT of d at o (room for 9 bytes). */
static inline void put_binfloat(unsigned char *o, double d)
{
    uint64_t bits;
    memcpy(&bits, &d, 8);
    o[0] = BINFLOAT;
    put_be64(o + 1, bits);
}

static int save_int(pickler *p, const st_value *v)
{
    int64_t i;
    if (st__int_small(v, &i) && i >= INT32_MIN && i <= INT32_MAX) {
        if (p->proto == 0) {
            char b[32];
            int n = snprintf(b, sizeof b, "%c%" PRId64 "\n", INT, i);
            return emit(p, b, (size_t)n);
        }
        unsigned char b[5];
        return emit(p, b, put_binint(b, (int32_t)i));
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
                hdr[0] = LONG1;
                hdr[1] = (unsigned char)nbytes;
                hlen = 2;
            } else if (nbytes <= 0x7fffffff) {
                hdr[0] = LONG4;
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
    int rc = st__buf_putc(&b, LONG) || st__int_repr(&b, v) || st__buf_append(&b, "L\n", 2) ||
             emit(p, b.data, b.len);
    st__buf_free(&b);
    return rc ? -1 : 0;
}

static int save_float(pickler *p, double d)
{
    if (p->proto >= 1) {
        unsigned char b[9];
        put_binfloat(b, d);
        return emit(p, b, 9);
    }
    st__buf b = ST__BUF_INIT;
    int rc = st__buf_putc(&b, FLOAT) || st__float_repr(&b, d) || st__buf_putc(&b, '\n') ||
             emit(p, b.data, b.len);
    st__buf_free(&b);
    return rc ? -1 : 0;
}

/* Protocol 0's UNICODE argument: raw-unicode-escape with backslash, NUL, CR, LF and ^Z escaped
 * too, so the line stays one line. */
static int save_str_text(pickler *p, const char *utf8, size_t len)
{
    st__buf b = ST__BUF_INIT;
    int rc = st__buf_putc(&b, UNICODE);
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

/* The usual str or bytes from protocol 4 on, of len <= 255 bytes, with room known:
 * SHORT_BINUNICODE or SHORT_BINBYTES (op), then MEMOIZE (memoized under key). */
static inline int put_short(pickler *p, unsigned char op, const void *data, size_t len,
                            uintptr_t key)
{
    unsigned char *o = p->out + p->len;
    o[0] = op;
    o[1] = (unsigned char)len;
    st__copy_short(o + 2, data, len);
    p->len += len + 2;
    return memoize(p, key);
}

/* save_unicode for a str given as its (surrogatepass) UTF-8, memoized under key. */
static int save_str_data(pickler *p, const char *utf8, size_t len, uintptr_t key)
{
    if (len <= 0xff && p->proto >= 4 && p->len + len + 3 <= p->wend)
        return put_short(p, SHORT_BINUNICODE, utf8, len, key);
    int rc;
    if (p->proto == 0) {
        rc = save_str_text(p, utf8, len);
    } else {
        const unsigned char ops[3] = {p->proto >= 4 ? SHORT_BINUNICODE : 0, BINUNICODE,
                                      BINUNICODE8};
        unsigned char hdr[9];
        size_t hlen = counted_header(p, hdr, ops, len, "a string");
        rc = !hlen || emit_payload(p, hdr, hlen, utf8, len);
    }
    return rc ? -1 : memo_put(p, key);
}

/* A tuple CPython builds on the fly (reduce arguments): MARK before the items below
 * protocol 2, TUPLE1..3 after them from protocol 2; memoized as an object never seen again. */
static int tuple_open(pickler *p, size_t n)
{
    return n > 0 && (p->proto < 2 || n > 3) ? emit1(p, MARK) : 0;
}

static int tuple_close(pickler *p, size_t n)
{
    if (n == 0)
        return p->proto ? emit1(p, EMPTY_TUPLE) : emit2(p, MARK, TUPLE);
    if (p->proto >= 2 && n <= 3)
        return emit1(p, (unsigned char)(TUPLE1 - 1 + n)) || memo_put(p, 0);
    return emit1(p, TUPLE) || memo_put(p, 0);
}

/* ---- names and globals ---- */

static uint64_t text_hash(const char *s, size_t n)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325); /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * UINT64_C(0x100000001b3);
    return h;
}

static size_t name_slot(const namemap *m, const char *key, size_t len)
{
    size_t i = (size_t)text_hash(key, len) & m->mask;
    while (m->t[i].key && (m->t[i].len != len || memcmp(m->t[i].key, key, len) != 0))
        i = (i + 1) & m->mask;
    return i;
}

/* The key of a tagged text: tag, a, and '\0' + b when b; in buf when it fits, else malloc'd. */
static char *name_key(char *buf, size_t size, char tag, const char *a, size_t alen, const char *b,
                      size_t *len)
{
    size_t blen = b ? strlen(b) + 1 : 0;
    *len = 1 + alen + blen;
    char *key = *len <= size ? buf : st__malloc(*len);
    if (!key)
        return NULL;
    key[0] = tag;
    memcpy(key + 1, a, alen);
    if (b) {
        key[1 + alen] = '\0';
        memcpy(key + 2 + alen, b, blen - 1);
    }
    return key;
}

/* The memo index recorded for a tagged text, or -1 (also when out of memory: it is then
 * written again, which is only longer). */
static int64_t names_find(const pickler *p, char tag, const char *a, size_t alen, const char *b)
{
    const namemap *m = &p->names;
    char buf[256];
    size_t len;
    char *key = m->t ? name_key(buf, sizeof buf, tag, a, alen, b, &len) : NULL;
    if (!key)
        return -1;
    const name_entry *e = &m->t[name_slot(m, key, len)];
    int64_t r = e->key ? (int64_t)e->idx : -1;
    if (key != buf)
        st_free(key);
    return r;
}

/* Records idx for a tagged text not in the map yet: 0, or -1 with MemoryError. */
static int names_put(pickler *p, char tag, const char *a, size_t alen, const char *b,
                     uint32_t idx)
{
    namemap *m = &p->names;
    if ((m->used + 1) * 2 > (m->t ? m->mask + 1 : 0)) {
        size_t n = m->t ? (m->mask + 1) * 2 : 16;
        name_entry *t = st__calloc(n, sizeof *t);
        if (!t)
            return ST_TRACE();
        namemap big = {t, n - 1, m->used};
        for (size_t i = 0; m->t && i <= m->mask; i++)
            if (m->t[i].key)
                t[name_slot(&big, m->t[i].key, m->t[i].len)] = m->t[i];
        st_free(m->t);
        *m = big;
    }
    size_t len;
    char *key = name_key(NULL, 0, tag, a, alen, b, &len);
    if (!key)
        return ST_TRACE();
    name_entry *e = &m->t[name_slot(m, key, len)];
    e->key = key;
    e->len = len;
    e->idx = idx;
    m->used++;
    return 0;
}

static void names_free(namemap *m)
{
    for (size_t i = 0; m->t && i <= m->mask; i++)
        st_free(m->t[i].key);
    st_free(m->t);
}

/* An interned name (module and qualified names, "latin1"): by identity (strv, the str it
 * came from, or NULL), else by content under tag ('n'; another tag keeps a str of its own, as
 * the module name of a static type is, see save_global()). */
static int save_name_tagged(pickler *p, const char *name, const st_value *strv, char tag)
{
    opcode_boundary(p);
    size_t len = strlen(name);
    uintptr_t key = strv ? value_key(strv) : str_key(name, len);
    int hit = memo_hit(p, key);
    if (hit)
        return hit < 0 ? -1 : 0;
    int64_t idx = names_find(p, tag, name, len, NULL);
    if (idx >= 0)
        return memo_get(p, (uint32_t)idx) || (key && ptrmap_insert(&p->memo, key, (uint32_t)idx))
                   ? -1
                   : 0;
    uint32_t at = (uint32_t)p->memo_len;
    return save_str_data(p, name, len, key) || names_put(p, tag, name, len, NULL, at) ? -1 : 0;
}

static int save_name(pickler *p, const char *name, const st_value *strv)
{
    return save_name_tagged(p, name, strv, 'n');
}

static int pickling_error(const char *fmt, const char *what, int proto)
{
    return ST_RAISE_AS(ST_EVALUE, "pickle.PicklingError", fmt, what, proto);
}

static int is_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return 0;
    return 1;
}

/* A GLOBAL opcode (protocols 0-3), with Python 2's names below protocol 3. */
static int emit_global_text(pickler *p, const char *mod, const char *name)
{
    if (p->proto < 3)
        st__pickle_fix_imports(&mod, &name, 0);
    /* a name GLOBAL's line cannot hold (CPython could not have found such a global) */
    if ((p->proto != 3 && !is_ascii(mod)) || strchr(mod, '\n'))
        return pickling_error("can't pickle module identifier '%s' using pickle protocol %d", mod,
                              p->proto);
    if ((p->proto != 3 && !is_ascii(name)) || strchr(name, '\n'))
        return pickling_error("can't pickle global identifier '%s' using pickle protocol %d",
                              name, p->proto);
    st__buf b = ST__BUF_INIT;
    int rc = st__buf_printf(&b, "%c%s\n%s\n", GLOBAL, mod, name) || emit(p, b.data, b.len);
    st__buf_free(&b);
    return rc ? -1 : 0;
}

static int save_global_as(pickler *p, int g, const char *mod, const char *qual,
                          const st_value *modv, const st_value *qualv);

/* Whether builtins.name is a builtin function (CPython 3.13's), not a type. */
static int builtin_function(const char *name)
{
    static const char *const names[] = {
        "__build_class__", "__import__", "abs", "aiter", "all", "anext", "any", "ascii", "bin",
        "breakpoint", "callable", "chr", "compile", "delattr", "dir", "divmod", "eval", "exec",
        "format", "getattr", "globals", "hasattr", "hash", "hex", "id", "input", "isinstance",
        "issubclass", "iter", "len", "locals", "max", "min", "next", "oct", "ord", "pow",
        "print", "repr", "round", "setattr", "sorted", "sum", "vars"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(names[i], name) == 0)
            return 1;
    return 0;
}

/* save_global by name, for a global that is not one of the known ones. */
static int save_global_names(pickler *p, const char *mod, const char *qual, const st_value *modv,
                             const st_value *qualv)
{
    return save_global_as(p, G_NONE, mod, qual, modv, qualv);
}

/* A dotted name below protocol 4, as CPython 3.13 writes it: getattr(getattr(module.A, 'B'),
 * 'C'), where only getattr and the names are memoized (they are real objects; the steps are
 * not). qual[0, len) is the part to write. */
static int save_nested(pickler *p, const char *mod, const char *qual, size_t len)
{
    const char *dot = NULL;
    for (size_t i = len; i-- > 0 && !dot;)
        dot = qual[i] == '.' ? qual + i : NULL;
    if (!dot) {
        char *first = st__strndup(qual, len);
        int rc = !first || emit_global_text(p, mod, first);
        st_free(first);
        return rc ? -1 : 0;
    }
    const char *last = dot + 1;
    size_t llen = len - (size_t)(last - qual);
    uintptr_t k = str_key(last, llen); /* a new str, but for CPython's cached ones */
    if (save_global_names(p, "builtins", "getattr", NULL, NULL) ||
        (p->proto < 2 && emit1(p, MARK)) || save_nested(p, mod, qual, (size_t)(dot - qual)))
        return -1;
    opcode_boundary(p);
    int hit = memo_hit(p, k);
    if (hit < 0 || (!hit && save_str_data(p, last, llen, k)))
        return -1;
    return emit1(p, p->proto < 2 ? TUPLE : TUPLE2) || emit1(p, REDUCE) ? -1 : 0;
}

/* save_global: module.qualname (g: its G_* when it is a known global, else G_NONE; modv, qualv:
 * the strs of a global value, or NULL), memoized by content as CPython memoizes the one class
 * object. Its names are memoized by content too, as CPython shares interned strs, but under
 * save_name_tagged() tags that keep apart the strs CPython does not share: a C type's or
 * function's __qualname__ (the known globals', the builtin types') is a str of its own, never
 * an equal name ('datetime' the module and the class); the builtin types share one 'builtins'
 * that a builtin function's is not; _collections' defaultdict and deque have a 'collections'
 * of their own, not OrderedDict's. */
static int save_global_as(pickler *p, int g, const char *mod, const char *qual,
                          const st_value *modv, const st_value *qualv)
{
    int builtin_type = strcmp(mod, "builtins") == 0 && !builtin_function(qual);
    char mtag = g == G_DEFAULTDICT ? 'D' : g == G_DEQUE ? 'Q' : builtin_type ? 'B' : 'n';
    char qtag = g || builtin_type ? 'K' : 'n';
    opcode_boundary(p);
    size_t mlen = strlen(mod);
    int64_t idx = names_find(p, 'g', mod, mlen, qual);
    if (idx >= 0)
        return memo_get(p, (uint32_t)idx);
    int rc;
    if (p->proto >= 4)
        rc = save_name_tagged(p, mod, modv, mtag) || save_name_tagged(p, qual, qualv, qtag) ||
             emit1(p, STACK_GLOBAL);
    else if (strchr(qual, '.'))
        rc = save_nested(p, mod, qual, strlen(qual));
    else
        rc = emit_global_text(p, mod, qual);
    if (rc || names_put(p, 'g', mod, mlen, qual, (uint32_t)p->memo_len))
        return -1;
    return memo_put(p, 0);
}

/* save_global for one of the known globals (met once per bytes or set below protocol 3
 * or 4: its memo index is kept at hand). */
static int save_global_strs(pickler *p, int g, const st_value *modv, const st_value *qualv)
{
    if (p->gmemo[g]) {
        opcode_boundary(p);
        return memo_get(p, p->gmemo[g] - 1);
    }
    const char *mod = st__pickle_global_module[g], *name = st__pickle_global_name[g];
    if (save_global_as(p, g, mod, name, modv, qualv))
        return -1;
    int64_t idx = names_find(p, 'g', mod, strlen(mod), name);
    p->gmemo[g] = idx >= 0 ? (uint32_t)idx + 1 : 0;
    return 0;
}

static int save_global(pickler *p, int g) { return save_global_strs(p, g, NULL, NULL); }

/* The G_* of module.qual when it is one of the known globals (the C types and functions
 * save_global() writes as CPython does), else G_NONE. */
static int known_global(const char *mod, const char *qual)
{
    for (int g = G_NONE + 1; g < G_CUSTOM; g++)
        if (g != G_RECON_ARGS && g != G_FACTORY_ARGS && st__pickle_global_name[g] &&
            strcmp(st__pickle_global_name[g], qual) == 0 &&
            strcmp(st__pickle_global_module[g], mod) == 0)
            return g;
    return G_NONE;
}

/* bytes data below protocol 3: codecs.encode(data.decode('latin1'), 'latin1'), or bytes()
 * when empty; memoized under key. */
static int save_bytes_reduce(pickler *p, const unsigned char *data, size_t len, uintptr_t key)
{
    if (len == 0)
        return save_global(p, G_BYTES) || tuple_close(p, 0) || emit1(p, REDUCE) ||
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
    return rc || save_name(p, "latin1", NULL) || tuple_close(p, 2) || emit1(p, REDUCE) ||
                   memo_put(p, key)
               ? -1
               : 0;
}

/* save_bytes / _save_bytes_data, memoized under key. */
static int save_bytes_data(pickler *p, const unsigned char *data, size_t len, uintptr_t key)
{
    if (p->proto < 3)
        return save_bytes_reduce(p, data, len, key);
    if (len <= 0xff && p->proto >= 4 && p->len + len + 3 <= p->wend)
        return put_short(p, SHORT_BINBYTES, data, len, key);
    static const unsigned char ops[3] = {SHORT_BINBYTES, BINBYTES, BINBYTES8};
    unsigned char hdr[9];
    size_t hlen = counted_header(p, hdr, ops, len, "a bytes object");
    return !hlen || emit_payload(p, hdr, hlen, data, len) || memo_put(p, key) ? -1 : 0;
}

/* ---- containers ---- */

static int save(pickler *p, const st_value *v);

/* save() of a dict's key or a list's item at a position with a hint (h; NULL: none): the
 * memo reference at once for the str noted there, else for a shared str found in the memo
 * (noted then). */
static ST__INLINE int save_hinted(pickler *p, const st_value *v, struct hint *h)
{
    if (h && p->len < p->limit) {
        int64_t idx = -1;
        if (h->v == v)
            idx = h->idx;
        else if (!st__imm(v) && st__kind(v) == ST_VALUE_STR && !st__unshared(v) &&
                 (idx = memo_find(p, value_key(v))) >= 0)
            *h = (struct hint){v, (uint32_t)idx};
        if (idx >= 0) {
            p->len += put_memo_get(p->out + p->len, (uint32_t)idx);
            return 0;
        }
    }
    return save(p, v);
}

/* The hint of position j, if it has one. */
static inline struct hint *hint_at(struct hint *hints, size_t j)
{
    return j < HINTS ? &hints[j] : NULL;
}

/* 1 for a list or tuple (items in an array), 0 for a set or frozenset. */
static inline int is_seq(const st_value *c)
{
    return st__kind(c) == ST_VALUE_LIST || st__kind(c) == ST_VALUE_TUPLE;
}

/* The item of a list, tuple (seq), set or frozenset at *pos, as st_value_next() without
 * checks. */
static inline int next_item(const st_value *c, int seq, size_t *pos, st_value **item)
{
    if (!seq)
        return st__set_next(c, pos, item);
    size_t n;
    st_value *const *items = st__items(c, &n);
    if (*pos >= n)
        return 0;
    *item = items[(*pos)++];
    return 1;
}

/* batch_list_exact (and batch_list for protocol 0) over any iterable container: APPEND
 * after each item in protocol 0 and for a single one, else batches of BATCHSIZE in MARK ...
 * APPENDS. */
static int save_appends(pickler *p, const st_value *c)
{
    int seq = is_seq(c), more;
    size_t pos = 0, second;
    st_value *item, *next;
    if (!next_item(c, seq, &pos, &item))
        return 0;
    second = pos;
    if (p->proto == 0 || !next_item(c, seq, &second, &next)) {
        do
            if (save_hinted(p, item, seq ? hint_at(p->item_hints, pos - 1) : NULL) ||
                emit1(p, APPEND))
                return -1;
        while (next_item(c, seq, &pos, &item));
        return 0;
    }
    do {
        if (emit1(p, MARK))
            return -1;
        more = 1;
        for (size_t k = 0; k < BATCHSIZE && more; k++) {
            if (save_hinted(p, item, seq ? hint_at(p->item_hints, pos - 1) : NULL))
                return -1;
            more = next_item(c, seq, &pos, &item);
        }
        if (emit1(p, APPENDS))
            return -1;
    } while (more);
    return 0;
}

/* A list the pickler makes from a set's items (protocol < 4 set and frozenset). */
static int save_item_list(pickler *p, const st_value *c)
{
    opcode_boundary(p);
    return (p->proto ? emit1(p, EMPTY_LIST) : emit2(p, MARK, LIST)) || memo_put(p, 0) ||
                   save_appends(p, c)
               ? -1
               : 0;
}

static int save_list(pickler *p, const st_value *v, uintptr_t key)
{
    return (p->proto ? emit1(p, EMPTY_LIST) : emit2(p, MARK, LIST)) || memo_put(p, key) ||
                   save_appends(p, v)
               ? -1
               : 0;
}

/* batch_dict_exact (and protocol 0's SETITEM after each item): SETITEM for a single item,
 * else batches of BATCHSIZE in MARK ... SETITEMS, and like CPython an empty one after a
 * batch that ends exactly at the end. */
static int save_setitems(pickler *p, const st_value *v)
{
    size_t pos = 0, second, j = 0, k;
    st_value *key, *x;
    if (!st__dict_next(v, &pos, &key, &x))
        return 0;
    second = pos;
    if (p->proto == 0 || !st__dict_next(v, &second, NULL, NULL)) {
        do
            if (save_hinted(p, key, hint_at(p->key_hints, j++)) || save(p, x) || emit1(p, SETITEM))
                return -1;
        while (st__dict_next(v, &pos, &key, &x));
        return 0;
    }
    int more = 1;
    do {
        if (emit1(p, MARK))
            return -1;
        for (k = 0; k < BATCHSIZE && more; k++) {
            if (save_hinted(p, key, hint_at(p->key_hints, j++)) || save(p, x))
                return -1;
            more = st__dict_next(v, &pos, &key, &x);
        }
        if (emit1(p, SETITEMS))
            return -1;
    } while (k == BATCHSIZE);
    return 0;
}

static int save_dict(pickler *p, const st_value *v, uintptr_t key)
{
    return (p->proto ? emit1(p, EMPTY_DICT) : emit2(p, MARK, DICT)) || memo_put(p, key) ||
                   save_setitems(p, v)
               ? -1
               : 0;
}

/* set and frozenset below protocol 4: set(list) / frozenset(list) through REDUCE. */
static int save_set_reduce(pickler *p, const st_value *v, uintptr_t key, int g)
{
    return save_global(p, g) || tuple_open(p, 1) || save_item_list(p, v) ||
                   tuple_close(p, 1) || emit1(p, REDUCE) || memo_put(p, key)
               ? -1
               : 0;
}

static int save_set(pickler *p, const st_value *v, uintptr_t key)
{
    if (p->proto < 4)
        return save_set_reduce(p, v, key, G_SET);
    if (emit1(p, EMPTY_SET) || memo_put(p, key))
        return -1;
    size_t pos = 0, i;
    st_value *item;
    if (st_value_len(v) == 0)
        return 0;
    do {
        if (emit1(p, MARK))
            return -1;
        for (i = 0; i < BATCHSIZE && st__set_next(v, &pos, &item); i++)
            if (save(p, item))
                return -1;
        if (emit1(p, ADDITEMS))
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
    if (emit1(p, MARK))
        return -1;
    while (st__set_next(v, &pos, &item))
        if (save(p, item))
            return -1;
    return emit1(p, FROZENSET) || memo_put(p, key) ? -1 : 0;
}

static int save_tuple(pickler *p, const st_value *v, uintptr_t key)
{
    size_t n = (size_t)st_value_len(v), pos = 0;
    st_value *item;
    if (n == 0)
        return p->proto ? emit1(p, EMPTY_TUPLE) : emit2(p, MARK, TUPLE);
    if (tuple_open(p, n))
        return -1;
    while (next_item(v, 1, &pos, &item)) {
        p->tuple_item = 1;
        if (save(p, item))
            return -1;
    }
    p->tuple_item = 0; /* (not taken by an item that is no container) */
    /* Recursive: an item refers back to the tuple, which is in the memo now. */
    int64_t idx = memo_find(p, key);
    if (idx >= 0) {
        if (p->proto >= 2 && n <= 3) {
            for (size_t i = 0; i < n; i++)
                if (emit1(p, POP))
                    return -1;
        } else if (p->proto) {
            if (emit1(p, POP_MARK))
                return -1;
        } else {
            for (size_t i = 0; i <= n; i++)
                if (emit1(p, POP))
                    return -1;
        }
        return memo_get(p, (uint32_t)idx);
    }
    if (p->proto >= 2 && n <= 3)
        return emit1(p, (unsigned char)(TUPLE1 - 1 + n)) || memo_put(p, key) ? -1 : 0;
    return emit1(p, TUPLE) || memo_put(p, key) ? -1 : 0;
}

static int save_bytearray(pickler *p, const st_value *v, uintptr_t key)
{
    size_t len;
    const unsigned char *data = st_value_bytes_data(v, &len);
    if (p->proto >= 5) {
        unsigned char hdr[9];
        hdr[0] = BYTEARRAY8;
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
    return tuple_close(p, len ? 1 : 0) || emit1(p, REDUCE) || memo_put(p, key) ? -1 : 0;
}

/* ---- objects (save_reduce) ---- */

/* One list item, or one (key, value) dict item. */
static int save_item(pickler *p, const st_value *x, int pairs)
{
    if (!pairs)
        return save(p, x);
    size_t two;
    st_value *const *kv = st__items(x, &two);
    if (st_value_kind(x) != ST_VALUE_TUPLE || two != 2)
        return ST_RAISE_AS(ST_EVALUE, "pickle.PicklingError",
                           "dict items iterator must return 2-tuples");
    return save(p, kv[0]) || save(p, kv[1]) ? -1 : 0;
}

/* batch_list / batch_dict (an object's list items, or its dict items as (key, value) tuples):
 * one APPEND/SETITEM each in protocol 0 and for a lone last item, else batches of BATCHSIZE. */
static int save_batched(pickler *p, const st_value *items, int pairs)
{
    size_t n, pos = 0, k = 0;
    if (st_value_kind(items) != ST_VALUE_LIST)
        return 0; /* None: no items */
    st_value *const *it = st__items(items, &n);
    const unsigned char one = pairs ? SETITEM : APPEND, many = pairs ? SETITEMS : APPENDS;
    if (p->proto == 0) {
        for (; pos < n; pos++)
            if (save_item(p, it[pos], pairs) || emit1(p, one))
                return -1;
        return 0;
    }
    do {
        if (pos == n)
            break;
        if (n - pos == 1)
            return save_item(p, it[pos], pairs) || emit1(p, one) ? -1 : 0;
        if (emit1(p, MARK))
            return -1;
        for (k = 0; k < BATCHSIZE && pos < n; k++)
            if (save_item(p, it[pos++], pairs))
                return -1;
        if (emit1(p, many))
            return -1;
    } while (k == BATCHSIZE);
    return 0;
}

/* The items of a tuple from `from` on, as a tuple CPython makes on the fly (never met again):
 * MARK/TUPLE or TUPLE1..3, memoized under no key. */
static int save_fresh_tuple(pickler *p, const st_value *first, const st_value *t, size_t from)
{
    size_t n;
    st_value *const *items = st__items(t, &n);
    size_t total = n - from + (first ? 1 : 0);
    if (total == 0)
        return tuple_close(p, 0);
    if (tuple_open(p, total) || (first && save(p, first)))
        return -1;
    for (size_t i = from; i < n; i++)
        if (save(p, items[i]))
            return -1;
    return tuple_close(p, total);
}

static const char *last_name(const st_value *g)
{
    const char *q = st_value_global_qualname(g);
    const char *dot = strrchr(q, '.');
    return dot ? dot + 1 : q;
}

/* save_reduce for an object: the callable and arguments (NEWOBJ, NEWOBJ_EX or REDUCE as the
 * protocol and the callable's name say), the memo, list items, dict items, state. */
static int save_object(pickler *p, const st_value *v)
{
    st_value_form form;
    st_value_object_form(v, &form);
    st_value *f = st_value_object_part(v, ST_VALUE_PART_CALLABLE);
    st_value *args = st_value_object_part(v, ST_VALUE_PART_ARGS);
    st_value *kwargs = st_value_object_part(v, ST_VALUE_PART_KWARGS);
    size_t nargs = (size_t)st_value_len(args);
    int rc;
    if (st_value_kind(f) != ST_VALUE_GLOBAL && st_value_kind(f) != ST_VALUE_OBJECT)
        return ST_RAISE_AS(ST_EVALUE, "pickle.PicklingError",
                           "first item of the tuple returned by __reduce__ must be callable");
    /* A REDUCE whose callable is named __newobj__ or __newobj_ex__ is one from protocol 2 on. */
    const char *fname = st_value_kind(f) == ST_VALUE_GLOBAL ? last_name(f) : "";
    int by_name = 0;
    if (form == ST_VALUE_FORM_REDUCE && p->proto >= 2 && strcmp(fname, "__newobj_ex__") == 0) {
        if (nargs != 3)
            return ST_RAISE_AS(ST_EVALUE, "pickle.PicklingError",
                               "length of the NEWOBJ_EX argument tuple must be exactly 3, not %zu",
                               nargs);
        form = ST_VALUE_FORM_NEWOBJ_EX;
        f = st_value_item(args, 0);
        kwargs = st_value_item(args, 2);
        args = st_value_item(args, 1);
        by_name = 1;
        if (st_value_kind(args) != ST_VALUE_TUPLE)
            return ST_RAISE_AS(ST_EVALUE, "pickle.PicklingError",
                               "args[1] from __newobj_ex__ args is not a tuple");
        if (st_value_kind(kwargs) != ST_VALUE_DICT)
            return ST_RAISE_AS(ST_EVALUE, "pickle.PicklingError",
                               "args[2] from __newobj_ex__ args is not a dict");
    } else if (form == ST_VALUE_FORM_REDUCE && p->proto >= 2 &&
               strcmp(fname, "__newobj__") == 0) {
        if (nargs == 0)
            return ST_RAISE_AS(ST_EVALUE, "pickle.PicklingError", "__newobj__ arglist is empty");
        form = ST_VALUE_FORM_NEWOBJ;
        f = st_value_item(args, 0);
        by_name = 1;
    }
    /* the class of NEWOBJ: a global, or an object standing for one (getattr(Outer, 'Inner')) */
    if (by_name && st_value_kind(f) != ST_VALUE_GLOBAL && st_value_kind(f) != ST_VALUE_OBJECT)
        return ST_RAISE_AS(ST_EVALUE, "pickle.PicklingError",
                           "args[0] from %s args is not a type", fname);
    if (form == ST_VALUE_FORM_NEWOBJ_EX) {
        if (p->proto < 4)
            return ST_RAISE_AS(ST_EVALUE, "pickle.PicklingError",
                               "NEWOBJ_EX below protocol 4 is not supported (CPython writes "
                               "functools.partial(cls.__new__, cls, *args, **kwargs) there)");
        rc = save(p, f) || save(p, args) || save(p, kwargs) || emit1(p, NEWOBJ_EX);
    } else if (form == ST_VALUE_FORM_NEWOBJ && p->proto >= 2) {
        rc = save(p, f) || (by_name ? save_fresh_tuple(p, NULL, args, 1) : save(p, args)) ||
             emit1(p, NEWOBJ);
    } else if (form == ST_VALUE_FORM_NEWOBJ) {
        /* copyreg.__newobj__(cls, *args), as a __reduce__ giving it is below protocol 2 */
        rc = save_global_names(p, "copyreg", "__newobj__", NULL, NULL) ||
             save_fresh_tuple(p, f, args, 0) || emit1(p, REDUCE);
    } else {
        rc = save(p, f) || save(p, args) || emit1(p, REDUCE);
    }
    if (rc)
        return -1;
    /* Met again while its arguments were saved: keep the memo's (save_reduce). */
    int64_t idx = memo_find(p, (uintptr_t)v);
    if (idx >= 0)
        return emit1(p, POP) || memo_get(p, (uint32_t)idx) ? -1 : 0;
    if (memo_put(p, (uintptr_t)v) ||
        save_batched(p, st_value_object_part(v, ST_VALUE_PART_LISTITEMS), 0) ||
        save_batched(p, st_value_object_part(v, ST_VALUE_PART_DICTITEMS), 1))
        return -1;
    st_value *state = st_value_object_part(v, ST_VALUE_PART_STATE);
    st_value *setter = st_value_object_part(v, ST_VALUE_PART_STATE_SETTER);
    if (st_value_kind(state) == ST_VALUE_NONE)
        return 0;
    if (st_value_kind(setter) == ST_VALUE_NONE)
        return save(p, state) || emit1(p, BUILD) ? -1 : 0;
    /* state_setter(obj, state), its result dropped */
    return save(p, setter) || save(p, v) || save(p, state) || emit1(p, TUPLE2) ||
                   emit1(p, REDUCE) || emit1(p, POP)
               ? -1
               : 0;
}

/* save_picklebuffer: in band as bytes or bytearray (memoized), or out of band when the
 * buffer_callback says so (not memoized, as CPython). */
static int save_picklebuffer(pickler *p, const st_value *v, uintptr_t key)
{
    if (p->proto < 5)
        return ST_RAISE_AS(ST_EVALUE, "pickle.PicklingError",
                           "PickleBuffer can only be pickled with protocol >= 5");
    int readonly;
    st_value_picklebuffer_raw(v, &readonly);
    size_t len;
    const unsigned char *data = st_value_bytes_data(v, &len);
    int in_band = 1;
    if (p->o && p->o->buffer_callback &&
        (in_band = p->o->buffer_callback(p->o->ctx, (st_value *)v)) < 0)
        return ST_TRACE();
    if (!in_band)
        return emit1(p, NEXT_BUFFER) || (readonly && emit1(p, READONLY_BUFFER)) ? -1 : 0;
    if (readonly)
        return save_bytes_data(p, data, len, key);
    unsigned char hdr[9];
    hdr[0] = BYTEARRAY8;
    put_le(hdr + 1, len, 8);
    return emit_payload(p, hdr, 9, data, len) || memo_put(p, key) ? -1 : 0;
}

/* save_pers: the persistent id instead of the value (BINPERSID, or PERSID with str(pid)). */
static int save_pers(pickler *p, st_value *pid)
{
    if (p->proto >= 1) {
        p->skip_pers = 1;
        return save(p, pid) || emit1(p, BINPERSID) ? -1 : 0;
    }
    char *text = st_value_kind(pid) == ST_VALUE_STR ? st__strdup(st_value_str_data(pid, NULL))
                                                    : st_value_repr(pid);
    if (!text)
        return ST_TRACE();
    int rc = is_ascii(text) ? 0
                            : ST_RAISE_AS(ST_EVALUE, "pickle.PicklingError",
                                          "persistent IDs in protocol 0 must be ASCII strings");
    st__buf b = ST__BUF_INIT;
    rc = rc || st__buf_printf(&b, "%c%s\n", PERSID, text) || emit(p, b.data, b.len) ? -1 : 0;
    st__buf_free(&b);
    st_free(text);
    return rc;
}

/* The persistent_id() callback: 1 when it gave an id (written), 0 when not, -1 on error. */
static int persistent(pickler *p, const st_value *v)
{
    if (p->skip_pers) {
        p->skip_pers = 0;
        return 0;
    }
    st_value *pid = NULL;
    if (p->o->persistent_id(p->o->ctx, v, &pid))
        return ST_TRACE();
    if (!pid || st_value_kind(pid) == ST_VALUE_NONE) {
        st_value_unref(pid);
        return 0;
    }
    int rc = save_pers(p, pid);
    st_value_unref(pid);
    return rc ? -1 : 1;
}

static int too_deep(void)
{
    return ST_RAISE(ST_ERECURSION, "maximum recursion depth exceeded while pickling an object");
}

/* save() from the frame boundary and the persistent id on: any value, any protocol. */
static ST__NOINLINE int save_value(pickler *p, const st_value *v)
{
    st_value_type kind = st__kind(v);
    switch (kind) {
    case ST_VALUE_NONE:
        return emit1(p, NONE);
    case ST_VALUE_BOOL: {
        int64_t i = 0;
        st__int_small(v, &i);
        if (p->proto >= 2)
            return emit1(p, i ? NEWTRUE : NEWFALSE);
        const unsigned char text[4] = {INT, '0', i ? '1' : '0', '\n'}; /* TRUE, FALSE */
        return emit(p, text, 4);
    }
    case ST_VALUE_INT:
        return save_int(p, v);
    case ST_VALUE_FLOAT:
        return save_float(p, st__float_value(v));
    case ST_VALUE_GLOBAL: {
        const char *mod = st_value_global_module(v), *qual = st_value_global_qualname(v);
        int g = known_global(mod, qual);
        const st_value *modv = st__global_str(v, 0), *qualv = st__global_str(v, 1);
        return g ? save_global_strs(p, g, modv, qualv)
                 : save_global_names(p, mod, qual, modv, qualv);
    }
    default:
        break;
    }
    /* A value referenced once (by its container) cannot be met again, unless that container
     * is a tuple (memoized only after its items, so a cycle through it revisits them): no
     * memo lookup and no entry then, only the memo opcode CPython writes. */
    uintptr_t key = value_key(v);
    /* (unshared first: else GCC 12 warns of a read through v taken equal to a small K_* key) */
    if (st__unshared(v) && key == (uintptr_t)v && !p->tuple_item && kind != ST_VALUE_OBJECT)
        key = 0; /* (an object is met again by its state setter) */
    p->tuple_item = 0;
    int hit = memo_hit(p, key);
    if (hit)
        return hit < 0 ? -1 : 0;
    if (kind == ST_VALUE_STR || kind == ST_VALUE_BYTES) {
        size_t len;
        const char *data = st__data(v, &len);
        return kind == ST_VALUE_STR
                   ? save_str_data(p, data, len, key)
                   : save_bytes_data(p, (const unsigned char *)data, len, key);
    }
    if (p->depth >= ST_VALUE_MAX_DEPTH)
        return too_deep();
    p->depth++;
    int rc;
    switch (kind) {
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
    case ST_VALUE_OBJECT:
        rc = save_object(p, v);
        break;
    case ST_VALUE_PICKLEBUFFER:
        rc = save_picklebuffer(p, v, key);
        break;
    default:
        rc = kind >= ST_VALUE_DATE ? st__pickle_save_std(p, v, key) : save_bytearray(p, v, key);
        break;
    }
    p->depth--;
    return rc;
}

/* save() past its fast path's limit: the frame boundary, then the fast path again with room
 * made (a new frame opened), or the persistent id and save_value() (slow). */
static ST__NOINLINE int save_slow(pickler *p, const st_value *v)
{
    opcode_boundary(p);
    if (!p->slow)
        return open_frame(p, SAVE_ROOM + 1) ? -1 : save(p, v);
    if (p->o && p->o->persistent_id) {
        int pers = persistent(p, v);
        if (pers)
            return pers < 0 ? -1 : 0;
    }
    return save_value(p, v);
}

/* A list or dict in save()'s fast path: memoized as save_value() says, its opening written
 * at once. */
static ST__NOINLINE int save_container(pickler *p, const st_value *v, st_value_type kind)
{
    uintptr_t key = st__unshared(v) && !p->tuple_item ? 0 : (uintptr_t)v;
    p->tuple_item = 0;
    int64_t idx = memo_find(p, key);
    if (idx >= 0) {
        p->len += put_memo_get(p->out + p->len, (uint32_t)idx);
        return 0;
    }
    if (p->depth >= ST_VALUE_MAX_DEPTH)
        return too_deep();
    p->out[p->len++] = kind == ST_VALUE_DICT ? EMPTY_DICT : EMPTY_LIST;
    if (p->proto >= 4 ? memoize(p, key) : memo_put_slow(p, key))
        return -1;
    p->depth++;
    int rc = kind == ST_VALUE_DICT ? save_setitems(p, v) : save_appends(p, v);
    p->depth--;
    return rc;
}

/* save: the values records are made of written at once from protocol 1 on (a frame open from
 * protocol 4, room for SAVE_ROOM bytes, no callbacks), anything else by save_value(). */
static int save(pickler *p, const st_value *v)
{
    if (ST__UNLIKELY(p->len >= p->limit))
        return save_slow(p, v);
    unsigned char *o = p->out + p->len;
    if (st__imm(v)) {
        int64_t i;
        if (st__kind(v) == ST_VALUE_FLOAT) {
            put_binfloat(o, st__float_value(v));
            p->len += 9;
            return 0;
        }
        if (st__int_small(v, &i) && i >= INT32_MIN && i <= INT32_MAX) {
            p->len += put_binint(o, (int32_t)i);
            return 0;
        }
        return save_int(p, v);
    }
    st_value_type kind = st__kind(v);
    if (kind == ST_VALUE_STR || kind == ST_VALUE_BYTES) {
        size_t len;
        const char *data = st__data(v, &len);
        uintptr_t key = data_key(v, kind, data, len);
        /* referenced once: met only here (see save_value()) */
        if (st__unshared(v) && key == (uintptr_t)v)
            key = 0;
        int64_t idx = memo_find(p, key);
        if (idx >= 0) {
            p->len += put_memo_get(o, (uint32_t)idx);
            return 0;
        }
        if (len > 0xff || p->proto < 4)
            return kind == ST_VALUE_STR ? save_str_data(p, data, len, key)
                                        : save_bytes_data(p, (const unsigned char *)data, len, key);
        return put_short(p, kind == ST_VALUE_STR ? SHORT_BINUNICODE : SHORT_BINBYTES, data, len,
                         key);
    }
    if (kind == ST_VALUE_DICT || kind == ST_VALUE_LIST)
        return save_container(p, v, kind);
    return save_value(p, v);
}

/* ---- for lib/pickle/stdtypes.c ---- */

int st__pickler_proto(const pickler *p) { return p->proto; }

int st__pickler_save(pickler *p, const st_value *v) { return save(p, v); }

int st__pickler_op(pickler *p, unsigned char op) { return emit1(p, op); }

int st__pickler_global(pickler *p, int g) { return save_global(p, g); }

int st__pickler_global_name(pickler *p, const char *mod, const char *name)
{
    return save_global_names(p, mod, name, NULL, NULL);
}

int st__pickler_tuple_open(pickler *p, size_t n)
{
    opcode_boundary(p); /* where CPython's save() of the tuple starts */
    return tuple_open(p, n);
}

int st__pickler_boundary(pickler *p)
{
    opcode_boundary(p);
    return 0;
}

int st__pickler_tuple_close(pickler *p, size_t n) { return tuple_close(p, n); }

int st__pickler_memo_put(pickler *p, uintptr_t key) { return memo_put(p, key); }

int st__pickler_memo_hit(pickler *p, uintptr_t key) { return memo_hit(p, key); }

int st__pickler_str(pickler *p, const char *utf8, size_t len)
{
    opcode_boundary(p);
    return save_str_data(p, utf8, len, 0);
}

int st__pickler_name(pickler *p, const char *name) { return save_name(p, name, NULL); }

int st__pickler_bytes(pickler *p, const unsigned char *data, size_t len)
{
    opcode_boundary(p);
    return save_bytes_data(p, data, len, 0);
}

int st__pickler_int(pickler *p, int64_t i)
{
    st_value *v = st_value_int(i);
    int rc = v ? save(p, v) : -1;
    st_value_unref(v);
    return rc;
}

int st__pickler_float(pickler *p, double d)
{
    opcode_boundary(p);
    return save_float(p, d);
}

int st__pickler_dict(pickler *p, const st_value *d)
{
    opcode_boundary(p);
    return save_dict(p, d, 0);
}

/* pickle.dumps with the protocol checked and opts (NULL: no callbacks). */
static int dumps(const st_value *v, int protocol, const st_pickle_dump_options *opts,
                 unsigned char **out, size_t *len)
{
    if (protocol < 0)
        protocol = ST_PICKLE_HIGHEST_PROTOCOL;
    if (protocol > ST_PICKLE_HIGHEST_PROTOCOL)
        return ST_RAISE(ST_EVALUE, "pickle protocol must be <= %d", ST_PICKLE_HIGHEST_PROTOCOL);
    pickler p = {0};
    p.proto = protocol;
    p.o = opts;
    p.slow = protocol == 0 || (opts && opts->persistent_id);
    p.frame_start = p.frame_end = SIZE_MAX;
    int rc = 0;
    if (protocol >= 2) {
        unsigned char hdr[2] = {PROTO, (unsigned char)protocol};
        rc = emit(&p, hdr, 2);
        p.framing = protocol >= 4;
        set_limits(&p);
    }
    if (rc == 0)
        rc = save(&p, v) || emit1(&p, STOP) ? -1 : 0;
    commit_frame(&p);
    st_free(p.memo.t);
    names_free(&p.names);
    if (rc) {
        st_free(p.out);
        return ST_TRACE();
    }
    *out = p.out;
    *len = p.len;
    return 0;
}

int st_pickle_dumps(const st_value *v, int protocol, unsigned char **out, size_t *len)
{
    return dumps(v, protocol, NULL, out, len);
}

int st_pickle_dump_options_init(st_pickle_dump_options *opts, unsigned int version)
{
    return st__options_init(opts, ST_OPTIONS_SIZES(sizeof *opts), version, ST_PICKLE_DUMP_OPTIONS_VERSION,
                            "st_pickle_dump_options");
}

int st_pickle_dumps_with(const st_value *v, const st_pickle_dump_options *opts,
                         unsigned char **out, size_t *len)
{
    if (ST_OPTIONS_CHECK(opts, ST_PICKLE_DUMP_OPTIONS_VERSION, "st_pickle_dump_options") < 0)
        return -1;
    int protocol = !opts || !opts->protocol              ? ST_PICKLE_DEFAULT_PROTOCOL
                   : opts->protocol == ST_PICKLE_PROTOCOL_0 ? 0
                                                            : opts->protocol;
    return dumps(v, protocol, opts, out, len);
}

/* Writes a pickle to fd (f NULL) or f. */
static int write_out(const unsigned char *data, size_t len, int fd, FILE *f)
{
    if (f) {
        size_t n = fwrite(data, 1, len, f);
        return n == len ? 0 : ST_RAISE_OS(errno ? errno : EIO, "cannot write pickle to stream");
    }
    return st__write_full(fd, data, len) < 0
               ? ST_RAISE_OS(errno, "cannot write pickle to file descriptor %d", fd)
               : 0;
}

static int dump_to(const st_value *v, int protocol, const st_pickle_dump_options *opts,
                   int with_opts, int fd, FILE *f)
{
    unsigned char *data;
    size_t len;
    if (with_opts ? st_pickle_dumps_with(v, opts, &data, &len)
                  : st_pickle_dumps(v, protocol, &data, &len))
        return ST_TRACE();
    int rc = write_out(data, len, fd, f);
    st_free(data);
    return rc;
}

int st_pickle_dump(const st_value *v, int protocol, int fd)
{
    return dump_to(v, protocol, NULL, 0, fd, NULL);
}

int st_pickle_dump_file(const st_value *v, int protocol, FILE *f)
{
    return dump_to(v, protocol, NULL, 0, -1, f);
}

int st_pickle_dump_with(const st_value *v, const st_pickle_dump_options *opts, int fd)
{
    return dump_to(v, 0, opts, 1, fd, NULL);
}

int st_pickle_dump_file_with(const st_value *v, const st_pickle_dump_options *opts, FILE *f)
{
    return dump_to(v, 0, opts, 1, -1, f);
}
