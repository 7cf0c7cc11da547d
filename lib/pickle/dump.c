/* pickle: the dumper. It follows Modules/_pickle.c's Pickler (opcode choices, memo, batching,
 * framing) so its output is byte-identical to CPython's. */
#include "systools/pickle.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "internal/error.h"
#include "internal/mem.h"
#include "internal/posix.h"
#include "internal/utf8.h"
#include "internal/value.h"
#include "pickle.h"

#define FRAME_SIZE_TARGET (64 * 1024)
#define FRAME_HEADER_SIZE 9
#define FRAME_SIZE_MIN 4

/* Memo keys: a value's address, or one of these small numbers for objects CPython shares
 * (its type objects, interned names, and the cached empty and one-character str/bytes);
 * 0x38..0x3f are lib/pickle/stdtypes.c's (K_STD_NAMES, pickle.h). */
enum {
    K_BUILTINS = 0x30,      /* "builtins" (protocol 4+) */
    K_LATIN1 = 0x31,        /* "latin1", the encoding in protocol 0-2 bytes */
    K_STR_EMPTY = 0x40,     /* '' */
    K_BYTES_EMPTY = 0x41,   /* b'' */
    K_STR_CHAR = 0x100,     /* + code point < 256 */
    K_BYTES_CHAR = 0x200,   /* + byte */
    K_GLOBAL = 0x300,       /* + G_*: the global's object */
    K_NAME = 0x400,         /* + G_*: its name as an interned str (protocol 4+) */
    K_MODULE = 0x500,       /* + the first G_* of a module: its name (protocol 4+) */
    K_FIRST_ADDRESS = 0x600 /* real addresses are above */
};

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

static inline int memo_put(pickler *p, uintptr_t key)
{
    if (p->proto < 4 || p->memo_len > 0xffffffffu)
        return memo_put_slow(p, key);
    size_t idx = p->memo_len++;
    if (key && ptrmap_insert(&p->memo, key, (uint32_t)idx))
        return -1;
    return emit1(p, MEMOIZE);
}

static int memo_get(pickler *p, uint32_t idx)
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

static inline uintptr_t value_key(const st_value *v)
{
    st_value_type kind = st__kind(v);
    if (kind != ST_VALUE_STR && kind != ST_VALUE_BYTES)
        return (uintptr_t)v;
    size_t len;
    const char *data = st__data(v, &len);
    uintptr_t k = kind == ST_VALUE_STR ? str_key(data, len)
                                       : bytes_key((const unsigned char *)data, len);
    return k ? k : (uintptr_t)v;
}

/* ---- atoms ---- */

static int save_int(pickler *p, const st_value *v)
{
    int64_t i;
    if (st__int_small(v, &i) && i >= INT32_MIN && i <= INT32_MAX) {
        if (p->proto == 0) {
            char b[32];
            int n = snprintf(b, sizeof b, "%c%" PRId64 "\n", INT, i);
            return emit(p, b, (size_t)n);
        }
        if (i >= 0 && i <= 0xff)
            return emit_op_le(p, BININT1, (uint64_t)i, 1);
        if (i >= 0 && i <= 0xffff)
            return emit_op_le(p, BININT2, (uint64_t)i, 2);
        return emit_op_le(p, BININT, (uint64_t)(uint32_t)(int32_t)i, 4);
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
        uint64_t bits;
        memcpy(&bits, &d, 8);
        b[0] = BINFLOAT;
        put_be64(b + 1, bits);
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

/* save_unicode for a str given as its (surrogatepass) UTF-8, memoized under key. */
static int save_str_data(pickler *p, const char *utf8, size_t len, uintptr_t key)
{
    /* The usual case, a short str into an open frame with room: SHORT_BINUNICODE and MEMOIZE
     * written at once. */
    if (len <= 0xff && p->proto >= 4 && p->frame_start != SIZE_MAX && p->cap - p->len >= len + 3 &&
        p->memo_len <= 0xffffffffu) {
        unsigned char *o = p->out + p->len;
        o[0] = SHORT_BINUNICODE;
        o[1] = (unsigned char)len;
        memcpy(o + 2, utf8, len);
        o[len + 2] = MEMOIZE;
        p->len += len + 3;
        size_t idx = p->memo_len++;
        return key && ptrmap_insert(&p->memo, key, (uint32_t)idx) ? -1 : 0;
    }
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

/* An interned name (protocol 4 STACK_GLOBAL), memoized under key. */
static int save_name(pickler *p, const char *name, uintptr_t key)
{
    opcode_boundary(p);
    int hit = memo_hit(p, key);
    return hit ? (hit < 0 ? -1 : 0) : save_str_data(p, name, strlen(name), key);
}

/* The memo key of a module's name (the str object cls.__module__ is): one per module, but
 * _collections' defaultdict and deque each have their own. */
static uintptr_t module_key(const char *mod, int g)
{
    if (strcmp(mod, "builtins") == 0)
        return K_BUILTINS;
    if (g == G_DEFAULTDICT || g == G_DEQUE)
        return (uintptr_t)K_MODULE + (uintptr_t)g;
    for (int i = 1; i < G_CUSTOM; i++)
        if (strcmp(st__pickle_global_module[i], mod) == 0)
            return (uintptr_t)K_MODULE + (uintptr_t)i;
    return 0;
}

/* save_global's opcodes for mod.name (protocol 4+: the names memoized under their keys; g
 * the G_* or G_NONE), then the global's memo entry under key. */
static int save_global_as(pickler *p, const char *mod, const char *name, int g, uintptr_t key)
{
    int rc;
    if (p->proto >= 4) {
        rc = save_name(p, mod, module_key(mod, g)) || save_name(p, name, g ? K_NAME + g : 0) ||
             emit1(p, STACK_GLOBAL);
    } else {
        /* fix_imports: Python 2's names below protocol 3 (_compat_pickle's reverse maps). */
        if (p->proto < 3 && strcmp(mod, "builtins") == 0) {
            mod = "__builtin__";
            name = strcmp(name, "int") == 0 ? "long" : strcmp(name, "str") == 0 ? "unicode" : name;
        } else if (p->proto < 3 && strcmp(mod, "copyreg") == 0) {
            mod = "copy_reg";
        }
        st__buf b = ST__BUF_INIT;
        rc = st__buf_printf(&b, "%c%s\n%s\n", GLOBAL, mod, name) || emit(p, b.data, b.len);
        st__buf_free(&b);
    }
    return rc ? -1 : memo_put(p, key);
}

/* save_global for one of the known globals. */
static int save_global(pickler *p, int g)
{
    opcode_boundary(p);
    int hit = memo_hit(p, K_GLOBAL + g);
    if (hit)
        return hit < 0 ? -1 : 0;
    return save_global_as(p, st__pickle_global_module[g], st__pickle_global_name[g], g,
                          K_GLOBAL + g);
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
    return rc || save_name(p, "latin1", K_LATIN1) || tuple_close(p, 2) || emit1(p, REDUCE) ||
                   memo_put(p, key)
               ? -1
               : 0;
}

/* save_bytes / _save_bytes_data, memoized under key. */
static int save_bytes_data(pickler *p, const unsigned char *data, size_t len, uintptr_t key)
{
    if (p->proto < 3)
        return save_bytes_reduce(p, data, len, key);
    static const unsigned char ops[3] = {SHORT_BINBYTES, BINBYTES, BINBYTES8};
    unsigned char hdr[9];
    size_t hlen = counted_header(p, hdr, ops, len, "a bytes object");
    return !hlen || emit_payload(p, hdr, hlen, data, len) || memo_put(p, key) ? -1 : 0;
}

/* ---- containers ---- */

static int save(pickler *p, const st_value *v);

/* The item of a list, tuple, set or frozenset at *pos, as st_value_next() without checks. */
static inline int next_item(const st_value *c, size_t *pos, st_value **item)
{
    if (st__kind(c) != ST_VALUE_LIST && st__kind(c) != ST_VALUE_TUPLE)
        return st__set_next(c, pos, item);
    size_t n;
    st_value *const *items = st__items(c, &n);
    if (*pos >= n)
        return 0;
    *item = items[(*pos)++];
    return 1;
}

/* batch_list_exact (and batch_list for protocol 0) over any iterable container. */
static int save_appends(pickler *p, const st_value *c)
{
    size_t n = (size_t)st_value_len(c), pos = 0, total = 0;
    st_value *item = NULL;
    if (n == 0)
        return 0;
    if (p->proto == 0) {
        while (next_item(c, &pos, &item))
            if (save(p, item) || emit1(p, APPEND))
                return -1;
        return 0;
    }
    if (n == 1) {
        next_item(c, &pos, &item);
        return save(p, item) || emit1(p, APPEND) ? -1 : 0;
    }
    while (total < n) {
        if (emit1(p, MARK))
            return -1;
        for (size_t k = 0; k < BATCHSIZE && next_item(c, &pos, &item); k++, total++)
            if (save(p, item))
                return -1;
        if (emit1(p, APPENDS))
            return -1;
    }
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

static int save_dict(pickler *p, const st_value *v, uintptr_t key)
{
    if ((p->proto ? emit1(p, EMPTY_DICT) : emit2(p, MARK, DICT)) || memo_put(p, key))
        return -1;
    size_t n = (size_t)st_value_len(v), pos = 0;
    st_value *k, *x;
    if (p->proto == 0 || n == 1) {
        while (st__dict_next(v, &pos, &k, &x))
            if (save(p, k) || save(p, x) || emit1(p, SETITEM))
                return -1;
        return 0;
    }
    if (n == 0)
        return 0;
    /* Like CPython, a batch that ends exactly at the end is followed by an empty one. */
    size_t i;
    do {
        if (emit1(p, MARK))
            return -1;
        for (i = 0; i < BATCHSIZE && st__dict_next(v, &pos, &k, &x); i++)
            if (save(p, k) || save(p, x))
                return -1;
        if (emit1(p, SETITEMS))
            return -1;
    } while (i == BATCHSIZE);
    return 0;
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

static int save(pickler *p, const st_value *v)
{
    opcode_boundary(p);
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
    default:
        break;
    }
    /* A value referenced once (by its container) cannot be met again, unless that container
     * is a tuple (memoized only after its items, so a cycle through it revisits them): no
     * memo lookup and no entry then, only the memo opcode CPython writes. */
    uintptr_t key = value_key(v);
    if (key == (uintptr_t)v && st__unshared(v) && !p->tuple_item)
        key = 0;
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
        return ST_RAISE(ST_ERECURSION, "maximum recursion depth exceeded while pickling an object");
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
    default:
        rc = kind >= ST_VALUE_DATE ? st__pickle_save_std(p, v, key) : save_bytearray(p, v, key);
        break;
    }
    p->depth--;
    return rc;
}

/* ---- for lib/pickle/stdtypes.c ---- */

int st__pickler_proto(const pickler *p) { return p->proto; }

int st__pickler_save(pickler *p, const st_value *v) { return save(p, v); }

int st__pickler_op(pickler *p, unsigned char op) { return emit1(p, op); }

int st__pickler_global(pickler *p, int g) { return save_global(p, g); }

int st__pickler_global_name(pickler *p, const char *mod, const char *name)
{
    opcode_boundary(p);
    return save_global_as(p, mod, name, G_NONE, 0);
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

int st__pickler_str(pickler *p, const char *utf8, size_t len, uintptr_t key)
{
    opcode_boundary(p);
    int hit = memo_hit(p, key);
    return hit ? (hit < 0 ? -1 : 0) : save_str_data(p, utf8, len, key);
}

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
        unsigned char hdr[2] = {PROTO, (unsigned char)protocol};
        rc = emit(&p, hdr, 2);
        p.framing = protocol >= 4;
    }
    if (rc == 0)
        rc = save(&p, v) || emit1(&p, STOP) ? -1 : 0;
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
    int rc = st__write_full(fd, data, len);
    int e = errno;
    st_free(data);
    return rc < 0 ? ST_RAISE_OS(e, "cannot write pickle to file descriptor %d", fd) : 0;
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
