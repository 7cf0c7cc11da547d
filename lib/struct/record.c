/* struct/record.c: a format bound to the members of a C struct. st_struct_record_new() checks
 * every field against its item once and compiles a plan: a short list of byte operations (copy a
 * run of bytes, swap a run of 2-, 4- or 8-byte values, zero the pad bytes, plus the few codes
 * that convert: ?, e, p). Neighbouring fields that are contiguous in the struct and in the record
 * merge into one operation (a '?' too: unpacking copies its byte with its neighbours and makes it
 * 0 or 1 afterwards), so a same-endian record is a copy or two and an array of records is the
 * plan applied to blocks of records, operation by operation. One record runs the plan compiled
 * once more into steps (record_steps.h): a jump per operation (two copies that end a plan share
 * one), and a straight line of moves for each width of copy up to 32 bytes. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/mem.h"
#include "internal/posix.h"
#include "internal/struct.h"

enum {
    OP_COPY,  /* len bytes */
    OP_SWAP2, /* len values of 2 bytes, byte-swapped */
    OP_SWAP4,
    OP_SWAP8,
    OP_ZERO,        /* len zero bytes at dst (pack's pad bytes) */
    OP_BOOL,        /* unpack '?': any non-zero byte is true */
    OP_HALF_PACK,   /* 'e' from a float (aux 4) or a double (aux 8) */
    OP_HALF_UNPACK, /* 'e' into a float or a double */
    OP_PSTR_PACK,   /* 'p' of len bytes from a NUL-terminated char[len] */
    OP_PSTR_UNPACK  /* 'p' into a NUL-padded char[len] */
};

typedef struct rec_op {
    uint8_t kind;
    uint8_t aux; /* HALF: the member's size; pack's COPY: 1 + its gather shape, or 0 */
    size_t src;  /* offset in the source (the struct when packing, the record when unpacking) */
    size_t dst;  /* offset in the destination */
    size_t len;
} rec_op;

/* The one-record path runs a plan compiled once more, into steps (record_steps.h): the kind and
 * the width of an op in one jump, with no test of the length. A copy of up to 32 bytes has a
 * step for its exact width, a straight line of moves (copy_fixed()). One list names the kinds
 * for the enum and for the jump table. Two copies per step (one jump less) measured slower: with
 * a length class per copy (two overlapping moves) the struct's side, stored by unpack or just
 * written before pack, is moved in pieces that straddle its members, and a later load stalls
 * (12 fields: unpack 1.7x hand-written became 2.4x); with moves tested against the length, the
 * tests cost more than the jump saved (31 instructions for "<IhdQ8s" unpack became 64). */
#define COPY_WIDTHS(X) \
    X(1)               \
    X(2)               \
    X(3)               \
    X(4)               \
    X(5)               \
    X(6)               \
    X(7)               \
    X(8)               \
    X(9)               \
    X(10)              \
    X(11)              \
    X(12)              \
    X(13)              \
    X(14)              \
    X(15)              \
    X(16)              \
    X(17)              \
    X(18)              \
    X(19)              \
    X(20)              \
    X(21)              \
    X(22)              \
    X(23)              \
    X(24)              \
    X(25)              \
    X(26)              \
    X(27)              \
    X(28)              \
    X(29)              \
    X(30)              \
    X(31)              \
    X(32)
#define STEP_KINDS(X, X_COPY)             \
    COPY_WIDTHS(X_COPY)                   \
    X(SWAP2)                              \
    X(SWAP4)                              \
    X(SWAP8)                              \
    X(SWAP2N) /* len values of 2 bytes */ \
    X(SWAP4N)                             \
    X(SWAP8N)                             \
    X(BOOL)                               \
    X(ZERO) /* 1 to 16 pad bytes: overlapping stores */

/* Pack's gathers: neighbouring members of different sizes copied by one step, each with a load
 * and a store of its own size (the offset and size of up to five, size 0: none). A caller packs
 * a struct it has just filled member by member: a load that spans two of those stores, or one
 * and the bytes beside it, is not forwarded from them and waits until they reach the cache
 * (about 4 ns). So no load of pack's copies spans two members (loads_fit()): where copy_fixed()'s
 * moves would, a run takes one of these shapes (common runs of C structs; a load of pad bytes
 * only is harmless, so they serve native layouts too) or is split. Each is a straight line: a
 * step that tests a length costs more than a step, as its branches join and the steps sharing
 * the join share their jump to the next step. Unpack's loads read the record, which its caller
 * wrote whole or read from a file: its copies stay wide. */
#define GATHER_SHAPES(X)                                                       \
    X(1_1, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0)                                       \
    X(2_2, 0, 2, 2, 2, 0, 0, 0, 0, 0, 0)                                       \
    X(4_4, 0, 4, 4, 4, 0, 0, 0, 0, 0, 0)                                       \
    X(1_1_2, 0, 1, 1, 1, 2, 2, 0, 0, 0, 0)                                     \
    X(2_2_4, 0, 2, 2, 2, 4, 4, 0, 0, 0, 0)                                     \
    X(1_1_2_2, 0, 1, 1, 1, 2, 2, 4, 2, 0, 0)                                   \
    X(1_1_2_4, 0, 1, 1, 1, 2, 2, 4, 4, 0, 0)                                   \
    X(4_4_8, 0, 4, 4, 4, 8, 8, 0, 0, 0, 0) /* two ints, then 8-byte members */ \
    X(4_4_8_4, 0, 4, 4, 4, 8, 8, 16, 4, 0, 0)                                  \
    X(4_4_8_8, 0, 4, 4, 4, 8, 8, 16, 8, 0, 0)                                  \
    X(4_4_8_8_4, 0, 4, 4, 4, 8, 8, 16, 8, 24, 4)                               \
    X(8_1, 0, 8, 8, 1, 0, 0, 0, 0, 0, 0)                                       \
    X(8_2, 0, 8, 8, 2, 0, 0, 0, 0, 0, 0)

/* A plan that ends with two copies, the last of 8, 16, 24 or 32 bytes (8-byte members after a
 * pad in the struct, as in "<IhdQ8s" bound to its struct) and the one before of at most 16 bytes,
 * runs them in one step (the last keeps its place, read by the step before). On bench_struct a
 * record's jumps cost more than its moves: "<IhdQ8s" pack and unpack take one jump instead of
 * two. */
#define FUSED_HEADS(X, b)                                                                          \
    X(1, b) X(2, b) X(3, b) X(4, b) X(5, b) X(6, b) X(7, b) X(8, b) X(9, b) X(10, b) X(11, b)      \
        X(12, b) X(13, b) X(14, b) X(15, b) X(16, b)
#define FUSED_COPIES(X) FUSED_HEADS(X, 8) FUSED_HEADS(X, 16) FUSED_HEADS(X, 24) FUSED_HEADS(X, 32)
#define FUSED_KIND(a, b) (STEP_FUSED + ((b) / 8 - 1) * 16 + (a) - 1)

enum {
    STEP_END,   /* the plan of a record of 0 bytes */
    STEP_OTHER, /* any op: run() does the rest of the plan */
#define STEP_ENUM(k) STEP_##k,
#define STEP_ENUM_COPY(n) STEP_COPY##n,
    STEP_KINDS(STEP_ENUM, STEP_ENUM_COPY) /* STEP_COPY1 to STEP_ZERO */
#define STEP_ENUM_GATHER(name, ...) STEP_GATHER_##name,
    GATHER_SHAPES(STEP_ENUM_GATHER)
#undef STEP_ENUM
#undef STEP_ENUM_COPY
#undef STEP_ENUM_GATHER
        STEP_LAST, /* added to the kind of a plan's last step, which returns instead of jumping on */
    /* Then, from 2 * STEP_LAST: the last step of an unpack plan whose one '?' lies in its last
     * copy, of n bytes (STEP_COPY_BOOL + n - 1), which makes byte len of the copy 0 or 1 too. */
    STEP_COPY_BOOL = 2 * STEP_LAST,
    STEP_FUSED = STEP_COPY_BOOL + 32, /* then the fused copies, FUSED_KIND() */
    STEP_KINDS_END = STEP_FUSED + 4 * 16
};

typedef struct step {
    uint32_t src, dst, len; /* an op's, when they fit (else the op is a STEP_OTHER) */
    uint32_t kind;
} step;

#define STEP_STRIDE 2 /* a plan's next step: the two plans' steps are interleaved */

struct st_struct_record {
    const rec_op *pack, *unpack; /* after the steps */
    st_struct *s;
    size_t struct_size;
    size_t npack, nunpack;
    bool flat;   /* the struct is the record, byte for byte: arrays are one memcpy */
    bool little; /* the record's byte order, for 'e' */
    /* What one record reads comes last: its size, then its steps, the two plans interleaved
     * (unpack's step i at steps[2 * i], pack's at steps[2 * i + 1]): each plan's first step lies
     * at a fixed place, so the moves of a record wait for no load of where its steps are. */
    size_t size; /* the record's, s->layout.size */
    step steps[];
};

struct st_struct_record_unpack_iterator {
    const st_struct_record *r;
    const unsigned char *buf;
    size_t len;
    size_t index;
};

#define VALUE_ERROR(...) ST_RAISE(ST_EVALUE, __VA_ARGS__)

/* ---- Checking a field table ------------------------------------------------------------------ */

static const char *kind_name(int kind, size_t size)
{
    switch (kind) {
    case ST_STRUCT_KIND_SIGNED:
        return "a signed integer";
    case ST_STRUCT_KIND_UNSIGNED:
        return "an unsigned integer";
    case ST_STRUCT_KIND_FLOAT:
        return size == sizeof(float)    ? "a float"
               : size == sizeof(double) ? "a double"
                                        : "a long double";
    case ST_STRUCT_KIND_BOOL:
        return "a _Bool";
    case ST_STRUCT_KIND_CHAR:
        return "a char";
    case ST_STRUCT_KIND_POINTER:
        return "a void pointer";
    default:
        return "of another type";
    }
}

/* The kind of member a code takes. */
static int code_kind(uint8_t op)
{
    switch ((st__struct_op)op) {
    case ST__OP_CHAR:
        return ST_STRUCT_KIND_CHAR;
    case ST__OP_BOOL:
        return ST_STRUCT_KIND_BOOL;
    case ST__OP_PTR:
        return ST_STRUCT_KIND_POINTER;
    case ST__OP_HALF:
    case ST__OP_FLOAT:
    case ST__OP_NFLOAT:
    case ST__OP_DOUBLE:
        return ST_STRUCT_KIND_FLOAT;
    default:
        return st__struct_op_unsigned(op) ? ST_STRUCT_KIND_UNSIGNED : ST_STRUCT_KIND_SIGNED;
    }
}

static const char *code_name(int kind)
{
    switch (kind) {
    case ST_STRUCT_KIND_CHAR:
        return "a byte";
    case ST_STRUCT_KIND_BOOL:
        return "a bool";
    case ST_STRUCT_KIND_UNSIGNED:
        return "an unsigned integer";
    case ST_STRUCT_KIND_POINTER:
        return "a pointer";
    case ST_STRUCT_KIND_FLOAT:
        return "a float";
    default:
        return "a signed integer";
    }
}

typedef struct span {
    size_t offset, size, index;
} span;

static int by_offset(const void *a, const void *b)
{
    const span *x = a, *y = b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* What a table says by itself: every field a type it can check, inside the struct, alone. */
static int check_table(size_t struct_size, const st_struct_field *fields, size_t nfields)
{
    span *spans = st__calloc(nfields ? nfields : 1, sizeof *spans);
    if (!spans)
        return ST_TRACE();
    int r = -1;
    size_t n = 0;
    for (size_t i = 0; i < nfields; i++) {
        const st_struct_field *f = &fields[i];
        const char *name = f->name ? f->name : "?";
        if (f->kind == ST_STRUCT_KIND_NOT_ARRAY) {
            VALUE_ERROR("field '%s' is a pointer, not an array: it has no bytes of its own to pack",
                        name);
            goto out;
        }
        if (f->kind <= ST_STRUCT_KIND_OTHER || f->kind > ST_STRUCT_KIND_NOT_ARRAY ||
            (f->count > 0 && f->size % f->count != 0)) {
            VALUE_ERROR(
                "field '%s' has a type struct cannot check (an array needs ST_STRUCT_ARRAY)", name);
            goto out;
        }
        if (f->size == 0)
            continue;
        if (f->offset > struct_size || f->size > struct_size - f->offset) {
            VALUE_ERROR("field '%s' lies outside the struct (offset %zu + %zu bytes > %zu)", name,
                        f->offset, f->size, struct_size);
            goto out;
        }
        spans[n++] = (span){f->offset, f->size, i};
    }
    qsort(spans, n, sizeof *spans, by_offset);
    for (size_t i = 1; i < n; i++) {
        if (spans[i].offset < spans[i - 1].offset + spans[i - 1].size) {
            size_t a = spans[i - 1].index < spans[i].index ? spans[i - 1].index : spans[i].index;
            size_t b = spans[i - 1].index < spans[i].index ? spans[i].index : spans[i - 1].index;
            VALUE_ERROR("fields '%s' and '%s' overlap", fields[a].name ? fields[a].name : "?",
                        fields[b].name ? fields[b].name : "?");
            goto out;
        }
    }
    r = 0;
out:
    free(spans);
    return r;
}

/* "field 'v'" or, for an element of an array, "field 'v[2]'". */
static const char *field_label(const st_struct_field *f, size_t elem, char *buf, size_t cap)
{
    const char *name = f->name ? f->name : "?";
    if (f->count > 1)
        snprintf(buf, cap, "field '%s[%zu]'", name, elem);
    else
        snprintf(buf, cap, "field '%s'", name);
    return buf;
}

/* Checks one non-text item against the member (element) it is bound to. */
static int check_item(const st__struct_code *c, const st_struct_field *f, size_t elem, size_t esize,
                      bool std)
{
    char label[160];
    int want = code_kind(c->op), have = f->kind;
    const char *sizes = std ? " (standard size)" : "";
    field_label(f, elem, label, sizeof label);
    if (c->op == ST__OP_CHAR) {
        if (esize != 1 || (have != ST_STRUCT_KIND_CHAR && have != ST_STRUCT_KIND_SIGNED &&
                           have != ST_STRUCT_KIND_UNSIGNED))
            return ST__STRUCT_ERROR("%s is %s (%zu bytes) but 'c' packs one byte: make it a char",
                                    label, kind_name(have, esize), esize);
        return 0;
    }
    if (have == ST_STRUCT_KIND_CHAR &&
        (want == ST_STRUCT_KIND_SIGNED || want == ST_STRUCT_KIND_UNSIGNED))
        return ST__STRUCT_ERROR(
            "%s is a plain char, whose signedness varies: make it a signed char for 'b' "
            "or an unsigned char for 'B' (it is '%c')",
            label, c->letter);
    if (have != want) {
        if (want == ST_STRUCT_KIND_BOOL)
            return ST__STRUCT_ERROR("%s is %s (%zu bytes) but '?' packs a bool: make it a _Bool",
                                    label, kind_name(have, esize), esize);
        return ST__STRUCT_ERROR("%s is %s (%zu bytes) but '%c' packs %s of %zu bytes%s", label,
                                kind_name(have, esize), esize, c->letter, code_name(want), c->size,
                                sizes);
    }
    bool fits =
        c->op == ST__OP_HALF ? esize == sizeof(float) || esize == sizeof(double) : esize == c->size;
    if (!fits)
        return ST__STRUCT_ERROR("%s is %s of %zu bytes but '%c' packs %s of %zu bytes%s", label,
                                kind_name(have, esize), esize, c->letter, code_name(want), c->size,
                                sizes);
    return 0;
}

/* ---- Compiling the plan ---------------------------------------------------------------------- */

typedef struct builder {
    rec_op *pack, *zero, *unpack, *fix; /* zero: pack's pad runs, fix: unpack's bools, each */
    size_t npack, nzero, nunpack, nfix; /* run after the rest of its plan */
} builder;

/* Appends an op, merged into the previous one when both move the same kind of values and
 * continue each other in the source and in the destination. */
static void emit(rec_op *ops, size_t *n, rec_op op)
{
    if (*n > 0) {
        rec_op *last = &ops[*n - 1];
        size_t unit = op.kind == OP_SWAP2   ? 2
                      : op.kind == OP_SWAP4 ? 4
                      : op.kind == OP_SWAP8 ? 8
                                            : 1;
        bool mergeable = op.kind == OP_COPY || op.kind == OP_ZERO || unit > 1;
        if (mergeable && last->kind == op.kind && last->dst + last->len * unit == op.dst &&
            (op.kind == OP_ZERO || last->src + last->len * unit == op.src)) {
            last->len += op.len;
            return;
        }
    }
    ops[(*n)++] = op;
}

/* The ops for one item: its bytes at boff in the record, its member at moff (the first element
 * of its field when first). Pack's copy of a member starts an op of its own: group_copies()
 * merges them afterwards where no load spans two. */
static void emit_item(builder *b, const st__struct_code *c, size_t moff, size_t boff, size_t esize,
                      bool swap, bool first)
{
    rec_op op = {OP_COPY, 0, moff, boff, c->size};
    switch ((st__struct_op)c->op) {
    case ST__OP_BOOL: /* unpack copies the byte with its neighbours, then makes it 0 or 1 */
        b->pack[b->npack++] = op;
        emit(b->unpack, &b->nunpack, (rec_op){OP_COPY, 0, boff, moff, 1});
        emit(b->fix, &b->nfix, (rec_op){OP_BOOL, 0, boff, moff, 1});
        return;
    case ST__OP_HALF:
        emit(b->pack, &b->npack, (rec_op){OP_HALF_PACK, (uint8_t)esize, moff, boff, 1});
        emit(b->unpack, &b->nunpack, (rec_op){OP_HALF_UNPACK, (uint8_t)esize, boff, moff, 1});
        return;
    case ST__OP_PSTR:
        emit(b->pack, &b->npack, (rec_op){OP_PSTR_PACK, 0, moff, boff, c->size});
        emit(b->unpack, &b->nunpack, (rec_op){OP_PSTR_UNPACK, 0, boff, moff, c->size});
        return;
    case ST__OP_STR:
        break;
    default:
        if (swap && c->size > 1) {
            op.kind = c->size == 2 ? OP_SWAP2 : c->size == 4 ? OP_SWAP4 : OP_SWAP8;
            op.len = 1;
        }
        break;
    }
    if (op.len == 0)
        return;
    if (op.kind == OP_COPY && first)
        b->pack[b->npack++] = op;
    else
        emit(b->pack, &b->npack, op);
    emit(b->unpack, &b->nunpack, (rec_op){op.kind, 0, boff, moff, op.len});
}

/* Binds the items of s to the fields in order and compiles both plans into b (room for two
 * ops per item, plus the pad runs). */
static int bind(const st_struct *s, const st_struct_field *fields, size_t nfields, builder *b)
{
    const st__struct_layout *L = &s->layout;
    const char *fmt = s->format;
    bool std = strchr("<>!=", fmt[0]) != NULL && fmt[0] != '\0';
    size_t fi = 0, ei = 0, item = 0, covered = 0; /* covered: the record's bytes up to here */
    for (const st__struct_code *c = L->codes; c < L->codes + L->ncodes; c++) {
        bool text = c->op == ST__OP_STR || c->op == ST__OP_PSTR;
        for (size_t k = 0; k < c->count; k++, item++) {
            size_t boff = c->offset + k * c->size;
            bool gap = boff > covered;
            if (gap) /* pad bytes: x or alignment */
                emit(b->zero, &b->nzero, (rec_op){OP_ZERO, 0, 0, covered, boff - covered});
            covered = boff + c->size;
            if (fi == nfields) {
                if (text)
                    return ST__STRUCT_ERROR(
                        "format '%s' has more items than the table has fields: item %zu "
                        "('%zu%c') has no field",
                        fmt, item + 1, c->size, c->letter);
                return ST__STRUCT_ERROR(
                    "format '%s' has more items than the table has fields: item %zu ('%c') "
                    "has no field",
                    fmt, item + 1, c->letter);
            }
            const st_struct_field *f = &fields[fi];
            const char *name = f->name ? f->name : "?";
            if (text) {
                if (ei > 0)
                    return ST__STRUCT_ERROR(
                        "field '%s' has %zu elements but the format gives it %zu", name, f->count,
                        ei);
                bool bytes = f->count > 0 && f->size == f->count &&
                             (f->kind == ST_STRUCT_KIND_CHAR || f->kind == ST_STRUCT_KIND_SIGNED ||
                              f->kind == ST_STRUCT_KIND_UNSIGNED);
                if (!bytes)
                    return ST__STRUCT_ERROR("field '%s' is not a char array, as '%zu%c' needs",
                                            name, c->size, c->letter);
                if (f->count != c->size)
                    return ST__STRUCT_ERROR("field '%s' has %zu bytes but '%zu%c' has %zu", name,
                                            f->size, c->size, c->letter, c->size);
                emit_item(b, c, f->offset, boff, f->size, L->swap, true);
                fi++;
                continue;
            }
            if (ei == 0 && f->count > 0 && k == 0 && c->count > 1 && c->count != f->count)
                return ST__STRUCT_ERROR("'%zu%c' has %zu items but field '%s' has %zu elements",
                                        c->count, c->letter, c->count, name, f->count);
            size_t esize = f->count > 0 ? f->size / f->count : f->size;
            if (check_item(c, f, ei, esize, std) < 0) {
                if (gap && ei == 0 && f->count > 0 &&
                    f->size == f->count) /* a table written for the pads */
                    return ST__STRUCT_ERROR("field '%s' has no item: pad bytes ('x') take no field",
                                            name);
                return -1;
            }
            emit_item(b, c, f->offset + ei * esize, boff, esize, L->swap, ei == 0);
            if (f->count == 0 || ++ei == f->count) {
                fi++;
                ei = 0;
            }
        }
    }
    if (L->size > covered)
        emit(b->zero, &b->nzero, (rec_op){OP_ZERO, 0, 0, covered, L->size - covered});
    if (ei > 0)
        return ST__STRUCT_ERROR("field '%s' has %zu elements but format '%s' gives it %zu",
                                fields[fi].name ? fields[fi].name : "?", fields[fi].count, fmt, ei);
    if (fi < nfields)
        return ST__STRUCT_ERROR("field '%s' has no item in format '%s' (%zu items for %zu fields)",
                                fields[fi].name ? fields[fi].name : "?", fmt, item, nfields);
    return 0;
}

/* The loads of copy_fixed(n), as (offset, size) pairs; their number. */
static size_t copy_loads(size_t n, uint8_t loads[][2])
{
    size_t k = 0;
    if (n < 8) {
        if (n & 4)
            loads[k][0] = 0, loads[k++][1] = 4;
        if (n & 2)
            loads[k][0] = (uint8_t)(n & 4), loads[k++][1] = 2;
        if (n & 1)
            loads[k][0] = (uint8_t)(n - 1), loads[k++][1] = 1;
        return k;
    }
    for (size_t o = 0; o + 8 <= n && o < 32; o += 8)
        loads[k][0] = (uint8_t)o, loads[k++][1] = 8;
    if (n % 8 == 4)
        loads[k][0] = (uint8_t)(n - 4), loads[k++][1] = 4;
    else if (n % 8 != 0)
        loads[k][0] = (uint8_t)(n - 8), loads[k++][1] = 8;
    return k;
}

#define SHAPE_ROW(name, ...) {__VA_ARGS__},
static const uint8_t gather_shapes[][10] = {GATHER_SHAPES(SHAPE_ROW)};
#undef SHAPE_ROW
#define NSHAPES (sizeof gather_shapes / sizeof gather_shapes[0])

/* Whether loads (offset, size) of a run of bytes copy each member in it (members: one bit per
 * byte of the run, each mask a member's) with no load spanning two members or a member and the
 * pad bytes around it. */
static bool loads_fit(uint8_t loads[][2], size_t nloads, const uint32_t *members, size_t n)
{
    uint32_t all = 0, loaded = 0;
    for (size_t m = 0; m < n; m++)
        all |= members[m];
    for (size_t k = 0; k < nloads; k++) {
        uint32_t bits = (uint32_t)(((uint64_t)1 << loads[k][1]) - 1) << loads[k][0];
        bool inside = (bits & all) == 0; /* pad bytes only */
        for (size_t m = 0; m < n && !inside; m++)
            inside = (bits & ~members[m]) == 0;
        if (!inside)
            return false;
        loaded |= bits;
    }
    return (all & ~loaded) == 0;
}

/* Packing: merges runs of members' copies into one op where one step can copy them all, with
 * copy_fixed()'s moves or a gather shape (aux: 1 + the shape), and no load spanning two members
 * (GATHER_SHAPES says why). A run may cross a gap that is a gap in the struct too (pad bytes, or
 * members the table leaves out), since the pad runs are zeroed after it: between two
 * neighbouring copies of the plan the record holds no item, only pad bytes. Each start takes the
 * longest run that fits, of at most 32 bytes; a member alone is one op, whatever its size. */
static size_t group_copies(rec_op *ops, size_t n)
{
    size_t m = 0;
    for (size_t i = 0; i < n;) {
        rec_op op = ops[i];
        size_t next = i + 1;
        uint32_t members[32];
        for (size_t j = i; op.kind == OP_COPY && j < n && ops[j].kind == OP_COPY; j++) {
            size_t off = ops[j].dst - op.dst, end = off + ops[j].len;
            if (ops[j].src < op.src || ops[j].src - op.src != off || end > 32 ||
                (j > i && off > ops[j - 1].dst - op.dst + ops[j - 1].len + 16))
                break;
            members[j - i] = (uint32_t)((((uint64_t)1 << ops[j].len) - 1) << off);
            if (j == i)
                continue;
            uint8_t loads[10][2];
            int aux = -1;
            if (loads_fit(loads, copy_loads(end, loads), members, j - i + 1))
                aux = 0;
            for (size_t s = 0; s < NSHAPES && aux < 0; s++) {
                const uint8_t *g = gather_shapes[s];
                size_t k = 0, width = 0;
                for (; k < 5 && g[2 * k + 1] > 0; k++) {
                    loads[k][0] = g[2 * k];
                    loads[k][1] = g[2 * k + 1];
                    width = (size_t)g[2 * k] + g[2 * k + 1];
                }
                if (width == end && loads_fit(loads, k, members, j - i + 1))
                    aux = (int)s + 1;
            }
            if (aux >= 0) {
                op.len = end;
                op.aux = (uint8_t)aux;
                next = j + 1;
            }
        }
        ops[m++] = op;
        i = next;
    }
    return m;
}

/* The step of one op: a kind of its own when the op is one of the inline ones and its offsets
 * fit, else STEP_OTHER. */
static step to_step(const rec_op *op)
{
    size_t len = op->len;
    uint32_t kind = STEP_OTHER;
    if (op->kind == OP_COPY && op->aux > 0)
        kind = (uint32_t)(STEP_GATHER_1_1 + op->aux - 1);
    else if (op->kind == OP_COPY && len - 1 < 32) /* 1 to 32 */
        kind = (uint32_t)(STEP_COPY1 + len - 1);
    else if (op->kind >= OP_SWAP2 && op->kind <= OP_SWAP8)
        kind = (uint32_t)((len == 1 ? STEP_SWAP2 : STEP_SWAP2N) + (op->kind - OP_SWAP2));
    else if (op->kind == OP_BOOL)
        kind = STEP_BOOL;
    else if (op->kind == OP_ZERO && len <= 16)
        kind = STEP_ZERO;
    if (kind == STEP_OTHER || op->src > UINT32_MAX || op->dst > UINT32_MAX || len > UINT32_MAX)
        return (step){0, 0, 0, STEP_OTHER};
    return (step){(uint32_t)op->src, (uint32_t)op->dst, (uint32_t)len, kind};
}

/* A plan's last step returns. One jump less for a '?' fix that follows the copy of its byte:
 * the copy does it (the steps before keep their places, which run_rest() counts on); and for
 * two copies that end a plan (FUSED_COPIES). */
static void compile_steps(const rec_op *ops, size_t n, step *steps)
{
    for (size_t i = 0; i < n; i++)
        steps[i * STEP_STRIDE] = to_step(&ops[i]);
    step *end = &steps[n * STEP_STRIDE];
    *end = (step){0, 0, 0, STEP_END}; /* read only by a plan of no op */
    step *last = n > 0 ? &steps[(n - 1) * STEP_STRIDE] : NULL;
    step *copy = n > 1 ? &steps[(n - 2) * STEP_STRIDE] : NULL;
    if (copy && last->kind == STEP_BOOL && copy->kind >= STEP_COPY1 &&
        copy->kind < STEP_COPY1 + 32 && last->dst >= copy->dst &&
        last->dst - copy->dst <= copy->kind - STEP_COPY1 && last->src >= copy->src &&
        last->src - copy->src == last->dst - copy->dst) {
        copy->len = last->dst - copy->dst;
        copy->kind += STEP_COPY_BOOL - STEP_COPY1;
        *last = *end;
    } else if (last && last->kind != STEP_OTHER) {
        last->kind += STEP_LAST;
    }
    if (copy && copy->kind >= STEP_COPY1 && copy->kind < STEP_COPY1 + 16 &&
        last->kind >= STEP_COPY1 + STEP_LAST && last->kind < STEP_COPY1 + 32 + STEP_LAST) {
        uint32_t a = copy->kind - STEP_COPY1 + 1, b = last->kind - STEP_LAST - STEP_COPY1 + 1;
        if (b % 8 == 0)
            copy->kind = (uint32_t)FUSED_KIND(a, b);
    }
}

st_struct_record *st_struct_record_new(const char *format, size_t struct_size,
                                       const st_struct_field *fields, size_t nfields)
{
    if (!format || (!fields && nfields > 0))
        return (ST_RAISE(ST_ETYPE, "st_struct_record_new() needs a format and a field table"),
                NULL);
    if (check_table(struct_size, fields, nfields) < 0)
        return (ST_TRACE(), NULL);
    st_struct *s = st_struct_new(format);
    if (!s)
        return (ST_TRACE(), NULL);
    /* Each item bound to a field makes at most one op per plan, each pad run (before an item, or
     * at the end) one; binding stops at the first item past the table's elements, so a huge
     * repeat count costs nothing before it is refused. */
    size_t nitems = s->layout.nitems, elements = 0; /* counted up to nitems + 1 */
    for (size_t i = 0; i < nfields && elements <= nitems; i++) {
        size_t count = fields[i].count > 0 ? fields[i].count : 1;
        elements += count < nitems + 1 - elements ? count : nitems + 1 - elements;
    }
    size_t cap = (nitems < elements ? nitems : elements) + 1;
    rec_op *scratch = NULL;
    if (cap > SIZE_MAX / (6 * sizeof(rec_op)))
        ST_RAISE_NOMEM();
    else
        scratch = st__malloc(6 * cap * sizeof(rec_op));
    if (!scratch) {
        st_struct_free(s);
        return (ST_TRACE(), NULL);
    }
    /* scratch: pack and then its zeros (2 cap), unpack and then its bools (2 cap), the zeros
     * and the bools while binding (cap each). */
    builder b = {scratch, scratch + 4 * cap, scratch + 2 * cap, scratch + 5 * cap, 0, 0, 0, 0};
    st_struct_record *r = NULL;
    if (bind(s, fields, nfields, &b) == 0) {
        size_t npack = group_copies(b.pack, b.npack);
        memcpy(b.pack + npack, b.zero, b.nzero * sizeof *b.zero);
        npack += b.nzero;
        memcpy(b.unpack + b.nunpack, b.fix, b.nfix * sizeof *b.fix);
        b.nunpack += b.nfix;
        size_t nops = npack + b.nunpack;
        size_t nsteps = 2 * ((npack > b.nunpack ? npack : b.nunpack) + 1);
        r = st__malloc(sizeof *r + nsteps * sizeof(step) + nops * sizeof(rec_op));
        if (r) {
            size_t size = s->layout.size;
            r->s = s;
            r->size = size;
            r->struct_size = struct_size;
            r->little = st__host_is_little() != s->layout.swap;
            r->flat = size == struct_size && size > 0 && b.nunpack == 1 &&
                      b.unpack[0].kind == OP_COPY && b.unpack[0].len == size;
            r->npack = npack;
            r->nunpack = b.nunpack;
            rec_op *ops = (rec_op *)(void *)(r->steps + nsteps);
            memcpy(ops, b.pack, npack * sizeof *b.pack);
            memcpy(ops + npack, b.unpack, b.nunpack * sizeof *b.unpack);
            r->pack = ops;
            r->unpack = ops + npack;
            compile_steps(r->unpack, b.nunpack, r->steps);
            compile_steps(r->pack, npack, r->steps + 1);
        }
    }
    free(scratch);
    if (!r) {
        st_struct_free(s);
        return (ST_TRACE(), NULL);
    }
    return r;
}

void st_struct_record_free(st_struct_record *r)
{
    if (!r)
        return;
    st_struct_free(r->s);
    free(r);
}

const st_struct *st_struct_record_struct(const st_struct_record *r) { return r->s; }

/* ---- Running a plan -------------------------------------------------------------------------- */

/* Records per block of an array: the ops run one after another over a block that stays in L1. */
#define BLOCK 64

/* An 8-byte move that the compiler may not merge with a neighbouring one into a 16-byte move,
 * whose load would span two members of the struct that pack reads (GATHER_SHAPES). */
static ST__INLINE void copy8(unsigned char *d, const unsigned char *s)
{
    uint64_t x;
    memcpy(&x, s, 8);
#if defined(__GNUC__) || defined(__clang__)
    __asm__("" : "+r"(x)); /* x in a register of its own */
#endif
    memcpy(d, &x, 8);
}

static ST__INLINE void copy16(unsigned char *d, const unsigned char *s)
{
    uint64_t a, b;
    memcpy(&a, s, 8);
    memcpy(&b, s + 8, 8);
    memcpy(d, &a, 8);
    memcpy(d + 8, &b, 8);
}

/* A copy of n bytes, n a constant from 1 to 32 (each use is a straight line): below 8 bytes,
 * moves of 4, 2 and 1 (an int and a short just written by the caller are each loaded as they
 * were stored); from 8 on, 8-byte moves, then a 4-byte one for a remainder of 4 (an int), or an
 * 8-byte one that overlaps the one before. */
static ST__INLINE void copy_fixed(unsigned char *d, const unsigned char *s, size_t n)
{
    if (n < 8) {
        size_t i = n & 4;
        if (n & 4)
            memcpy(d, s, 4);
        if (n & 2)
            memcpy(d + i, s + i, 2);
        if (n & 1)
            d[n - 1] = s[n - 1];
        return;
    }
    copy8(d, s);
    if (n >= 16)
        copy8(d + 8, s + 8);
    if (n >= 24)
        copy8(d + 16, s + 16);
    if (n >= 32)
        copy8(d + 24, s + 24);
    if (n % 8 == 4)
        memcpy(d + n - 4, s + n - 4, 4);
    else if (n % 8 != 0)
        copy8(d + n - 8, s + n - 8);
}

/* A gather (GATHER_SHAPES): up to five members, each moved with a load and a store of its size
 * (all constants). */
static ST__INLINE void gather(unsigned char *d, const unsigned char *s, size_t o1, size_t n1,
                              size_t o2, size_t n2, size_t o3, size_t n3, size_t o4, size_t n4,
                              size_t o5, size_t n5)
{
    memcpy(d + o1, s + o1, n1);
    memcpy(d + o2, s + o2, n2);
    if (n3)
        memcpy(d + o3, s + o3, n3);
    if (n4)
        memcpy(d + o4, s + o4, n4);
    if (n5)
        memcpy(d + o5, s + o5, n5);
}

/* A copy of at most 32 bytes, in pieces of 16, 8, 4, 2 and 1 bytes, without a call. */
static ST__INLINE void copy_pieces(unsigned char *d, const unsigned char *s, size_t n)
{
    uint64_t a;
    uint32_t c;
    uint16_t e;
    if (n & 32) { /* exactly 32: the first of two 16-byte pieces */
        copy16(d, s);
        d += 16;
        s += 16;
    }
    if (n & 48) {
        copy16(d, s);
        d += 16;
        s += 16;
    }
    if (n & 8) {
        memcpy(&a, s, 8);
        memcpy(d, &a, 8);
        d += 8;
        s += 8;
    }
    if (n & 4) {
        memcpy(&c, s, 4);
        memcpy(d, &c, 4);
        d += 4;
        s += 4;
    }
    if (n & 2) {
        memcpy(&e, s, 2);
        memcpy(d, &e, 2);
        d += 2;
        s += 2;
    }
    if (n & 1)
        *d = *s;
}

#define ROWS(body)                                     \
    for (size_t i = 0; i < m; i++, s += ss, d += ds) { \
        body;                                          \
    }

static ST__INLINE void swap_values(unsigned char *d, const unsigned char *s, size_t n,
                                   unsigned width)
{
    /* a loop on the pointers, with no count to keep: no register to save in record_steps.h */
    for (const unsigned char *end = s + n * width; s < end; s += width, d += width) {
        if (width == 2) {
            uint16_t x;
            memcpy(&x, s, 2);
            x = ST__BSWAP16(x);
            memcpy(d, &x, 2);
        } else if (width == 4) {
            uint32_t x;
            memcpy(&x, s, 4);
            x = ST__BSWAP32(x);
            memcpy(d, &x, 4);
        } else {
            uint64_t x;
            memcpy(&x, s, 8);
            x = ST__BSWAP64(x);
            memcpy(d, &x, 8);
        }
    }
}

/* 1 to 16 pad bytes: overlapping stores. */
static ST__INLINE void zero_short(unsigned char *d, size_t n)
{
    const uint64_t z = 0;
    if (n >= 8) {
        memcpy(d, &z, 8);
        memcpy(d + n - 8, &z, 8);
    } else if (n >= 4) {
        memcpy(d, &z, 4);
        memcpy(d + n - 4, &z, 4);
    } else { /* 1 to 3 */
        d[0] = 0;
        d[n / 2] = 0;
        d[n - 1] = 0;
    }
}

/* One op over m records: the source and destination strides are ss and ds. */
static int run_op(const st_struct_record *r, const rec_op *op, const unsigned char *s, size_t ss,
                  unsigned char *d, size_t ds, size_t m)
{
    s += op->src;
    d += op->dst;
    size_t len = op->len;
    switch (op->kind) {
    case OP_COPY:
        switch (len) { /* the widths of single fields, each a load and a store */
        case 1:
            ROWS(*d = *s);
            break;
        case 2:
            ROWS(memcpy(d, s, 2));
            break;
        case 4:
            ROWS(memcpy(d, s, 4));
            break;
        case 8:
            ROWS(memcpy(d, s, 8));
            break;
        default:
            if (len <= 32)
                ROWS(copy_pieces(d, s, len))
            else
                ROWS(memcpy(d, s, len))
        }
        break;
    case OP_SWAP2: /* one value per record is the common case: its own loop, unrolled */
        if (len == 1)
            ROWS(swap_values(d, s, 1, 2))
        else
            ROWS(swap_values(d, s, len, 2))
        break;
    case OP_SWAP4:
        if (len == 1)
            ROWS(swap_values(d, s, 1, 4))
        else
            ROWS(swap_values(d, s, len, 4))
        break;
    case OP_SWAP8:
        if (len == 1)
            ROWS(swap_values(d, s, 1, 8))
        else if (len == 2)
            ROWS(swap_values(d, s, 2, 8))
        else
            ROWS(swap_values(d, s, len, 8))
        break;
    case OP_ZERO:
        ROWS(memset(d, 0, len));
        break;
    case OP_BOOL:
        ROWS(*(_Bool *)(void *)d = *s != 0);
        break;
    case OP_HALF_PACK:
        for (size_t i = 0; i < m; i++, s += ss, d += ds) {
            double x;
            if (op->aux == sizeof(float)) {
                float f;
                memcpy(&f, s, sizeof f);
                x = f;
            } else {
                memcpy(&x, s, sizeof x);
            }
            if (st__float_pack2(x, d, r->little) < 0)
                return -1;
        }
        break;
    case OP_HALF_UNPACK:
        for (size_t i = 0; i < m; i++, s += ss, d += ds) {
            double x = st__float_unpack2(s, r->little);
            if (op->aux == sizeof(float)) {
                float f = (float)x;
                memcpy(d, &f, sizeof f);
            } else {
                memcpy(d, &x, sizeof x);
            }
        }
        break;
    case OP_PSTR_PACK: /* as put_text() in pack.c: at most len - 1 bytes, count cut at 255 */
        for (size_t i = 0; i < m; i++, s += ss, d += ds) {
            const unsigned char *nul = memchr(s, 0, len - 1);
            size_t n = nul ? (size_t)(nul - s) : len - 1;
            d[0] = (unsigned char)(n > 255 ? 255 : n);
            memcpy(d + 1, s, n);
            memset(d + 1 + n, 0, len - 1 - n);
        }
        break;
    case OP_PSTR_UNPACK:
        for (size_t i = 0; i < m; i++, s += ss, d += ds) {
            size_t n = s[0] < len ? s[0] : len - 1;
            memcpy(d, s + 1, n);
            memset(d + n, 0, len - n);
        }
        break;
    default:
        ST__UNREACHABLE();
    }
    return 0;
}

/* Applies a plan to n records, a block at a time. */
static int run(const st_struct_record *r, const rec_op *ops, size_t nops, const unsigned char *src,
               size_t ss, unsigned char *dst, size_t ds, size_t n)
{
    for (size_t base = 0; base < n; base += BLOCK) {
        size_t m = n - base < BLOCK ? n - base : BLOCK;
        for (const rec_op *op = ops; op < ops + nops; op++)
            if (run_op(r, op, src + base * ss, ss, dst + base * ds, ds, m) < 0)
                return -1;
    }
    return 0;
}

/* The rest of a plan from a STEP_OTHER on, by run(): the steps are the plan's ops one for one,
 * pack's at the odd places. */
static ST__COLD int run_rest(const st_struct_record *r, const step *p, const unsigned char *src,
                             unsigned char *dst)
{
    size_t k = (size_t)(p - r->steps);
    bool packing = k % 2 == 1;
    size_t i = k / 2, n = packing ? r->npack : r->nunpack;
    return run(r, (packing ? r->pack : r->unpack) + i, n - i, src, 0, dst, 0, 1) < 0 ? ST_TRACE()
                                                                                     : 0;
}

/* ---- Records and arrays ---------------------------------------------------------------------- */

/* st_struct_record_pack() for a buffer too short: pack_into's error. */
static ST__COLD int pack_short(const st_struct_record *r, size_t buflen)
{
    size_t start;
    (void)st__struct_locate(&r->s->layout, buflen, 0, true, &start); /* fails */
    return ST_TRACE();
}

int st_struct_record_pack(const st_struct_record *r, const void *obj, void *buf, size_t buflen)
{
    if (ST__UNLIKELY(buflen < r->size))
        return pack_short(r, buflen);
    const unsigned char *src = obj;
    unsigned char *dst = buf;
    const step *p = r->steps + 1;
#define UNPACK_ONLY(x)
#define PACK_ONLY(x) x
#include "record_steps.h"
#undef UNPACK_ONLY
#undef PACK_ONLY
}

/* st_struct_record_unpack() for a buffer of another size: unpack's error. */
static ST__COLD int unpack_wrong_size(const st_struct_record *r, size_t buflen)
{
    (void)st__struct_check_exact(&r->s->layout, buflen); /* fails */
    return ST_TRACE();
}

int st_struct_record_unpack(const st_struct_record *r, const void *buf, size_t buflen, void *obj)
{
    if (ST__UNLIKELY(buflen != r->size))
        return unpack_wrong_size(r, buflen);
    const unsigned char *src = buf;
    unsigned char *dst = obj;
    const step *p = r->steps;
#define UNPACK_ONLY(x) x
#define PACK_ONLY(x)
#include "record_steps.h"
#undef UNPACK_ONLY
#undef PACK_ONLY
}

/* n records of size bytes, or struct.error when that overflows. */
static int array_bytes(size_t n, size_t size, size_t *total)
{
    if (size > 0 && n > SIZE_MAX / size)
        return ST__STRUCT_ERROR("%zu records of %zu bytes do not fit in memory", n, size);
    *total = n * size;
    return 0;
}

int st_struct_record_pack_array(const st_struct_record *r, const void *objs, size_t n, void *buf,
                                size_t buflen)
{
    size_t size = r->s->layout.size, total = 0;
    if (array_bytes(n, size, &total) < 0)
        return ST_TRACE();
    if (buflen < total)
        return ST__STRUCT_ERROR(
            "pack_array requires a buffer of at least %zu bytes for packing %zu records "
            "(actual buffer size is %zu)",
            total, n, buflen);
    if (total == 0)
        return 0;
    if (r->flat) {
        memcpy(buf, objs, total);
        return 0;
    }
    return run(r, r->pack, r->npack, objs, r->struct_size, buf, size, n) < 0 ? ST_TRACE() : 0;
}

int st_struct_record_unpack_array(const st_struct_record *r, const void *buf, size_t buflen,
                                  void *objs, size_t n)
{
    size_t size = r->s->layout.size, total = 0;
    if (array_bytes(n, size, &total) < 0)
        return ST_TRACE();
    if (buflen != total)
        return ST__STRUCT_ERROR("unpack requires a buffer of %zu bytes", total);
    if (total == 0)
        return 0;
    if (r->flat)
        memcpy(objs, buf, total);
    else
        run(r, r->unpack, r->nunpack, buf, size, objs, r->struct_size, n);
    return 0;
}

/* Bytes per block of the descriptor functions: a few records at least, about 64 KiB. */
static size_t io_records(size_t size) { return size >= 65536 ? 1 : 65536 / size; }

int st_struct_record_write(const st_struct_record *r, int fd, const void *objs, size_t n)
{
    size_t size = r->s->layout.size, total = 0;
    if (array_bytes(n, size, &total) < 0)
        return ST_TRACE();
    if (total == 0)
        return 0;
    if (r->flat) { /* the structs are the records: written as they are */
        if (st__write_full(fd, objs, total) < 0)
            return ST_RAISE_OS(errno, "cannot write records to descriptor %d", fd);
        return 0;
    }
    size_t per = io_records(size);
    unsigned char *block = st__malloc((n < per ? n : per) * size);
    if (!block)
        return ST_TRACE();
    int rc = 0;
    const unsigned char *obj = objs;
    for (size_t done = 0; done < n && rc == 0;) {
        size_t m = n - done < per ? n - done : per;
        if (run(r, r->pack, r->npack, obj + done * r->struct_size, r->struct_size, block, size,
                m) < 0)
            rc = ST_TRACE();
        else if (st__write_full(fd, block, m * size) < 0)
            rc = ST_RAISE_OS(errno, "cannot write records to descriptor %d", fd);
        done += m;
    }
    free(block);
    return rc;
}

int st_struct_record_read(const st_struct_record *r, int fd, void *objs, size_t n, size_t *nread)
{
    size_t size = r->s->layout.size, total = 0, count = 0;
    if (nread)
        *nread = 0;
    if (size == 0)
        return ST__STRUCT_ERROR("cannot iteratively unpack with a struct of length 0");
    if (array_bytes(n, size, &total) < 0)
        return ST_TRACE();
    if (n == 0)
        return 0;
    /* A flat record reads straight into the structs (a partial record waits in place for the
     * rest of its bytes); others read a block at a time and unpack it. */
    size_t per = io_records(size);
    size_t cap = r->flat ? total : (n < per ? n : per) * size;
    unsigned char *obj = objs, *block = r->flat ? NULL : st__malloc(cap);
    if (!r->flat && !block)
        return ST_TRACE();
    size_t have = 0; /* bytes read and not yet unpacked */
    int rc = 0;
    while (count < n) {
        unsigned char *base = r->flat ? obj + count * size : block;
        size_t want = (n - count) * size; /* never read past the n-th record */
        if (want > cap)
            want = cap;
        ssize_t got = st__read_retry(fd, base + have, want - have);
        if (got < 0) {
            rc = ST_RAISE_OS(errno, "cannot read records from descriptor %d", fd);
            break;
        }
        have += (size_t)got;
        size_t m = have / size;
        if (got == 0 && m == 0) {
            if (have > 0)
                rc = ST__STRUCT_ERROR(
                    "iterative unpacking requires a buffer of a multiple of %zu bytes", size);
            break;
        }
        if (have < want && got > 0)
            continue; /* a short read: fill the block first */
        if (!r->flat) {
            run(r, r->unpack, r->nunpack, block, size, obj + count * r->struct_size,
                r->struct_size, m);
            memmove(block, block + m * size, have - m * size);
        }
        count += m;
        have -= m * size;
        if (nread)
            *nread = count;
    }
    free(block);
    return rc;
}

/* ---- iter_unpack ----------------------------------------------------------------------------- */

st_struct_record_unpack_iterator *st_struct_record_iter_unpack(const st_struct_record *r,
                                                               const void *buf, size_t buflen)
{
    /* The checks and messages of st_struct_iter_unpack(), which borrows the same way. */
    st_struct_unpack_iterator *check = st_struct_iter_unpack(r->s, buf, buflen);
    if (!check)
        return (ST_TRACE(), NULL);
    st_struct_unpack_iterator_free(check);
    st_struct_record_unpack_iterator *it = st__malloc(sizeof *it);
    if (!it)
        return (ST_TRACE(), NULL);
    *it = (st_struct_record_unpack_iterator){r, buf, buflen, 0};
    return it;
}

int st_struct_record_unpack_iterator_next(st_struct_record_unpack_iterator *it, void *obj)
{
    if (!it)
        return ST_RAISE(ST_ETYPE, "'NoneType' object is not an iterator");
    if (it->index >= it->len)
        return 0;
    const st_struct_record *r = it->r;
    st_struct_record_unpack(r, it->buf + it->index, r->size, obj); /* cannot fail */
    it->index += r->size;
    return 1;
}

size_t st_struct_record_unpack_iterator_length_hint(const st_struct_record_unpack_iterator *it)
{
    return (it->len - it->index) / it->r->s->layout.size;
}

void st_struct_record_unpack_iterator_free(st_struct_record_unpack_iterator *it) { free(it); }
