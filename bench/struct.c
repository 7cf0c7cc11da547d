/* struct bench: "<IhdQ8s" pack and unpack through the typed API, against CPython 3.13's
 * struct.Struct (timed by the interpreter itself, via popen) and against hand-written
 * memcpy/bswap functions; then iter_unpack over 10 MB. Prints ns per record and the ratios.
 * A hand-written variadic function for this one format shows what any printf-style API costs
 * at least (va_arg and the register save area of a variadic call) on top of the anchor.
 * Then records (a format bound to a C struct): per record against hand-written, non-inlined
 * functions that pack the struct's fields with memcpy and byte swaps, on "<IhdQ8s" and a
 * 12-field record, and against CPython; arrays of 1M records against memcpy (same byte order)
 * and a hand-written swap loop (the other order), cold (fresh pages) and warm. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "systools/error.h"
#include "systools/struct.h"

#define FORMAT "<IhdQ8s"
#define RECORD 30
#define N 3000000L
#define ROUNDS 7
#define PY_ROUNDS 60 /* of 50,000 calls */
#define ITER_BYTES (10L * 1024 * 1024 / RECORD * RECORD)

/* The anchors are functions of their own that take their arguments: noipa also keeps GCC from
 * cloning one for the static buffers the loops pass it (a clone that addresses them directly and
 * takes no argument at all); the loops pass pointers read from volatiles, so that no compiler
 * propagates them into a static function either. */
#if defined(__has_attribute)
#if __has_attribute(noipa)
#define NOINLINE __attribute__((noipa))
#endif
#endif
#if !defined(NOINLINE) && (defined(__GNUC__) || defined(__clang__))
#define NOINLINE __attribute__((noinline))
#elif !defined(NOINLINE)
#define NOINLINE
#endif

static bool little_endian(void)
{
    const uint16_t one = 1;
    return *(const unsigned char *)&one == 1;
}

/* What a C programmer writes by hand for this record: stores in little-endian order. */
static void put_le(unsigned char *p, uint64_t v, int n)
{
    if (!little_endian()) {
        for (int i = 0; i < n; i++)
            p[i] = (unsigned char)(v >> (8 * i));
        return;
    }
    memcpy(p, &v, (size_t)n);
}

static uint64_t get_le(const unsigned char *p, int n)
{
    uint64_t v = 0;
    if (!little_endian()) {
        for (int i = n; i-- > 0;)
            v = v << 8 | p[i];
        return v;
    }
    memcpy(&v, p, (size_t)n);
    return v;
}

static NOINLINE void hand_pack(unsigned char *out, unsigned int a, int b, double c, unsigned long long d,
                               const char *s, size_t slen)
{
    uint64_t bits;
    memcpy(&bits, &c, 8);
    put_le(out, a, 4);
    put_le(out + 4, (uint16_t)b, 2);
    put_le(out + 6, bits, 8);
    put_le(out + 14, d, 8);
    size_t n = slen < 8 ? slen : 8;
    memcpy(out + 22, s, n);
    memset(out + 22 + n, 0, 8 - n);
}

static NOINLINE void hand_unpack(const unsigned char *in, unsigned int *a, int *b, double *c,
                                 unsigned long long *d, char *s)
{
    *a = (unsigned int)get_le(in, 4);
    *b = (int16_t)get_le(in + 4, 2);
    uint64_t bits = get_le(in + 6, 8);
    memcpy(c, &bits, 8);
    *d = get_le(in + 14, 8);
    memcpy(s, in + 22, 8);
}

/* The anchors behind a variadic signature like st_struct_pack()'s, specialised to this format. */
static NOINLINE int hand_vpack(void *buf, size_t buflen, ...)
{
    va_list ap;
    va_start(ap, buflen);
    unsigned int a = va_arg(ap, unsigned int);
    int b = va_arg(ap, int);
    double c = va_arg(ap, double);
    unsigned long long d = va_arg(ap, unsigned long long);
    const char *s = va_arg(ap, const char *);
    size_t slen = va_arg(ap, size_t);
    va_end(ap);
    if (buflen < RECORD || b < INT16_MIN || b > INT16_MAX)
        return -1;
    hand_pack(buf, a, b, c, d, s, slen);
    return 0;
}

static NOINLINE int hand_vunpack(const void *buf, size_t buflen, ...)
{
    va_list ap;
    va_start(ap, buflen);
    unsigned int *a = va_arg(ap, unsigned int *);
    int *b = va_arg(ap, int *);
    double *c = va_arg(ap, double *);
    unsigned long long *d = va_arg(ap, unsigned long long *);
    char *s = va_arg(ap, char *);
    va_end(ap);
    if (buflen != RECORD)
        return -1;
    hand_unpack(buf, a, b, c, d, s);
    return 0;
}

/* Runs CPython's timing; fills ns per pack, unpack, iter_unpack record. Pack and unpack keep the
 * best of many short rounds (as our records do), iter_unpack the best of ROUNDS passes. */
static int cpython(double *pack_ns, double *unpack_ns, double *iter_ns)
{
    char code[2048];
    snprintf(code, sizeof code,
             "import struct, time\n"
             "s = struct.Struct(\"" FORMAT "\"); n = 50000\n"
             "pack, unpack = s.pack, s.unpack  # bound methods: CPython at its fastest\n"
             "b = pack(7, -5, 1.5, 9, b\"abcdefgh\")\n"
             "data = b * (%ld // %d)\n"
             "p = u = it = 1e9\n"
             "for r in range(%d):\n"
             "    t = time.perf_counter()\n"
             "    for i in range(n): pack(i, -5, 1.5, i, b\"abcdefgh\")\n"
             "    p = min(p, (time.perf_counter() - t) / n * 1e9)\n"
             "    t = time.perf_counter()\n"
             "    for i in range(n): unpack(b)\n"
             "    u = min(u, (time.perf_counter() - t) / n * 1e9)\n"
             "    if r >= %d: continue\n"
             "    t = time.perf_counter()\n"
             "    for x in s.iter_unpack(data): pass\n"
             "    it = min(it, (time.perf_counter() - t) / (len(data) // %d) * 1e9)\n"
             "print(p, u, it)",
             ITER_BYTES, RECORD, PY_ROUNDS, ROUNDS, RECORD);
    char *out = bench_python(code, (const char *)NULL);
    int n = out ? sscanf(out, "%lf %lf %lf", pack_ns, unpack_ns, iter_ns) : 0;
    st_free(out);
    return n == 3 ? 0 : -1;
}

enum { OURS_PACK, HAND_PACK, VA_PACK, OURS_UNPACK, HAND_UNPACK, VA_UNPACK, NLOOPS };

/* One timed loop of N calls; returns ns per call. Arguments come from volatiles so that
 * neither side can fold them into its code. Unpack input varies by a store of the whole first
 * field: a one-byte store read back by a 4-byte load would stall store forwarding and add the
 * same ~9 ns to both sides. */
static double run(int which, const st_struct *s, unsigned long long *sum)
{
    static unsigned char buf_[RECORD];
    unsigned char *volatile v_buf = buf_;
    unsigned char *const buf = v_buf;
    volatile int v_short = -5;
    volatile double v_double = 1.5;
    const char *volatile v_text = "abcdefgh";
    volatile size_t v_len = 8;
    unsigned int a;
    int b;
    double c;
    unsigned long long d;
    char str[8];
    double t = bench_now();
    for (long i = 0; i < N; i++) {
        switch (which) {
        case OURS_PACK:
            if (st_struct_pack(s, buf, RECORD, (unsigned int)i, v_short, v_double, (unsigned long long)i, v_text,
                               v_len) < 0)
                abort();
            *sum += buf[(size_t)i % RECORD];
            break;
        case HAND_PACK:
            hand_pack(buf, (unsigned int)i, v_short, v_double, (unsigned long long)i, v_text, v_len);
            *sum += buf[(size_t)i % RECORD];
            break;
        case VA_PACK:
            if (hand_vpack(buf, RECORD, (unsigned int)i, v_short, v_double, (unsigned long long)i, v_text,
                           v_len) < 0)
                abort();
            *sum += buf[(size_t)i % RECORD];
            break;
        case OURS_UNPACK:
            put_le(buf, (uint32_t)i, 4);
            if (st_struct_unpack(s, buf, RECORD, &a, &b, &c, &d, str) < 0)
                abort();
            *sum += a + (unsigned)b + d + (unsigned char)str[3];
            break;
        case HAND_UNPACK:
            put_le(buf, (uint32_t)i, 4);
            hand_unpack(buf, &a, &b, &c, &d, str);
            *sum += a + (unsigned)b + d + (unsigned char)str[3];
            break;
        default:
            put_le(buf, (uint32_t)i, 4);
            if (hand_vunpack(buf, RECORD, &a, &b, &c, &d, str) < 0)
                abort();
            *sum += a + (unsigned)b + d + (unsigned char)str[3];
            break;
        }
    }
    return (bench_now() - t) / N * 1e9;
}

/* ---- Records ----------------------------------------------------------------------------------- */

struct sample {
    uint32_t id;
    int16_t delta;
    double x;
    uint64_t n;
    char tag[8];
};

static const st_struct_field sample_fields[] = {
    ST_STRUCT_FIELD(struct sample, id),  ST_STRUCT_FIELD(struct sample, delta),
    ST_STRUCT_FIELD(struct sample, x),   ST_STRUCT_FIELD(struct sample, n),
    ST_STRUCT_ARRAY(struct sample, tag),
};

struct mixed12 {
    uint8_t a;
    int8_t b;
    uint16_t c;
    int16_t d;
    uint32_t e;
    int32_t f;
    uint64_t g;
    int64_t h;
    float i;
    double j;
    bool k;
    char l[6];
};

#define MIXED_FORMAT "<BbHhIiQqfd?6s"
#define MIXED_RECORD 49

static const st_struct_field mixed_fields[] = {
    ST_STRUCT_FIELD(struct mixed12, a), ST_STRUCT_FIELD(struct mixed12, b),
    ST_STRUCT_FIELD(struct mixed12, c), ST_STRUCT_FIELD(struct mixed12, d),
    ST_STRUCT_FIELD(struct mixed12, e), ST_STRUCT_FIELD(struct mixed12, f),
    ST_STRUCT_FIELD(struct mixed12, g), ST_STRUCT_FIELD(struct mixed12, h),
    ST_STRUCT_FIELD(struct mixed12, i), ST_STRUCT_FIELD(struct mixed12, j),
    ST_STRUCT_FIELD(struct mixed12, k), ST_STRUCT_ARRAY(struct mixed12, l),
};

/* The same two layouts as codecs (ST_STRUCT_CODEC: code generated per struct at compile time),
 * called here through non-inlined functions, as the anchors and the record API are called. */
#define SAMPLE_LIST(X) X(id, "I") X(delta, "h") X(x, "d") X(n, "Q") X(tag, "8s")
ST_STRUCT_CODEC(sample_codec, struct sample, "<", SAMPLE_LIST);
#define MIXED_LIST(X)                                                                            \
    X(a, "B") X(b, "b") X(c, "H") X(d, "h") X(e, "I") X(f, "i") X(g, "Q") X(h, "q") X(i, "f")   \
    X(j, "d") X(k, "?") X(l, "6s")
ST_STRUCT_CODEC(mixed_codec, struct mixed12, "<", MIXED_LIST);

static NOINLINE int codec_pack_sample(const st_struct_record *r, const struct sample *s, void *buf,
                                      size_t buflen)
{
    return sample_codec_pack(r, s, buf, buflen);
}

static NOINLINE int codec_unpack_sample(const st_struct_record *r, const void *buf, size_t buflen,
                                        struct sample *s)
{
    return sample_codec_unpack(r, buf, buflen, s);
}

static NOINLINE int codec_pack_mixed(const st_struct_record *r, const struct mixed12 *m,
                                     void *buf, size_t buflen)
{
    return mixed_codec_pack(r, m, buf, buflen);
}

static NOINLINE int codec_unpack_mixed(const st_struct_record *r, const void *buf, size_t buflen,
                                       struct mixed12 *m)
{
    return mixed_codec_unpack(r, buf, buflen, m);
}

/* The hand-written anchors: what a C programmer writes once per format, not inlined. */
static NOINLINE void hand_pack_sample(unsigned char *out, const struct sample *s)
{
    uint64_t bits;
    memcpy(&bits, &s->x, 8);
    put_le(out, s->id, 4);
    put_le(out + 4, (uint16_t)s->delta, 2);
    put_le(out + 6, bits, 8);
    put_le(out + 14, s->n, 8);
    memcpy(out + 22, s->tag, 8);
}

static NOINLINE void hand_unpack_sample(const unsigned char *in, struct sample *s)
{
    s->id = (uint32_t)get_le(in, 4);
    s->delta = (int16_t)get_le(in + 4, 2);
    uint64_t bits = get_le(in + 6, 8);
    memcpy(&s->x, &bits, 8);
    s->n = get_le(in + 14, 8);
    memcpy(s->tag, in + 22, 8);
}

static NOINLINE void hand_pack_mixed(unsigned char *out, const struct mixed12 *m)
{
    uint32_t fb;
    uint64_t db;
    memcpy(&fb, &m->i, 4);
    memcpy(&db, &m->j, 8);
    out[0] = m->a;
    out[1] = (uint8_t)m->b;
    put_le(out + 2, m->c, 2);
    put_le(out + 4, (uint16_t)m->d, 2);
    put_le(out + 6, m->e, 4);
    put_le(out + 10, (uint32_t)m->f, 4);
    put_le(out + 14, m->g, 8);
    put_le(out + 22, (uint64_t)m->h, 8);
    put_le(out + 30, fb, 4);
    put_le(out + 34, db, 8);
    out[42] = m->k;
    memcpy(out + 43, m->l, 6);
}

static NOINLINE void hand_unpack_mixed(const unsigned char *in, struct mixed12 *m)
{
    m->a = in[0];
    m->b = (int8_t)in[1];
    m->c = (uint16_t)get_le(in + 2, 2);
    m->d = (int16_t)get_le(in + 4, 2);
    m->e = (uint32_t)get_le(in + 6, 4);
    m->f = (int32_t)get_le(in + 10, 4);
    m->g = get_le(in + 14, 8);
    m->h = (int64_t)get_le(in + 22, 8);
    uint32_t fb = (uint32_t)get_le(in + 30, 4);
    uint64_t db = get_le(in + 34, 8);
    memcpy(&m->i, &fb, 4);
    memcpy(&m->j, &db, 8);
    m->k = in[42] != 0;
    memcpy(m->l, in + 43, 6);
}

/* The hand-written array loops in the byte order that is not this machine's. */
static uint64_t swapped(uint64_t v, int n)
{
    return n == 2   ? __builtin_bswap16((uint16_t)v)
           : n == 4 ? __builtin_bswap32((uint32_t)v)
                    : __builtin_bswap64(v);
}

static NOINLINE void hand_swap_pack(unsigned char *out, const struct sample *in, size_t n)
{
    for (size_t i = 0; i < n; i++, out += RECORD) {
        uint32_t id = (uint32_t)swapped(in[i].id, 4);
        uint16_t delta = (uint16_t)swapped((uint16_t)in[i].delta, 2);
        uint64_t bits, nn = swapped(in[i].n, 8);
        memcpy(&bits, &in[i].x, 8);
        bits = swapped(bits, 8);
        memcpy(out, &id, 4);
        memcpy(out + 4, &delta, 2);
        memcpy(out + 6, &bits, 8);
        memcpy(out + 14, &nn, 8);
        memcpy(out + 22, in[i].tag, 8);
    }
}

static NOINLINE void hand_swap_unpack(const unsigned char *in, struct sample *out, size_t n)
{
    for (size_t i = 0; i < n; i++, in += RECORD) {
        uint32_t id;
        uint16_t delta;
        uint64_t bits, nn;
        memcpy(&id, in, 4);
        memcpy(&delta, in + 4, 2);
        memcpy(&bits, in + 6, 8);
        memcpy(&nn, in + 14, 8);
        out[i].id = (uint32_t)swapped(id, 4);
        out[i].delta = (int16_t)(uint16_t)swapped(delta, 2);
        bits = swapped(bits, 8);
        memcpy(&out[i].x, &bits, 8);
        out[i].n = swapped(nn, 8);
        memcpy(out[i].tag, in + 22, 8);
    }
}

enum {
    R_PACK,
    R_HAND_PACK,
    R_UNPACK,
    R_HAND_UNPACK,
    M_PACK,
    M_HAND_PACK,
    M_UNPACK,
    M_HAND_UNPACK,
    C_PACK, /* the codecs, each again beside its anchor */
    C_HAND_PACK,
    C_UNPACK,
    C_HAND_UNPACK,
    CM_PACK,
    CM_HAND_PACK,
    CM_UNPACK,
    CM_HAND_UNPACK,
    NRLOOPS
};

/* Records are timed in many short rounds, each running ours and its anchor back to back (the
 * first of the two alternating): a change of machine state lands on both sides, and each side
 * keeps its best round. */
#define RECORD_ROUNDS 150
#define RECORD_N 150000L

/* One timed loop of n single-record calls; ns per call. The struct changes every call (a store
 * of its first field), so neither side can hoist the work. */
#define LOOP(...)                  \
    for (long i = 0; i < n; i++) { \
        __VA_ARGS__;               \
    }                              \
    break
static double run_record(int which, const st_struct_record *rs, const st_struct_record *rm,
                         const st_struct_record *cs, const st_struct_record *cm, long n,
                         unsigned long long *sum)
{
    static unsigned char buf_[64];
    static struct sample s_ = {7, -5, 1.5, 9, "abcdefgh"};
    static struct mixed12 m_ = {1, -2, 3, -4, 5, -6, 7, -8, 9.5f, 10.25, true, "abcdef"};
    unsigned char *volatile v_buf = buf_;
    struct sample *volatile v_s = &s_;
    struct mixed12 *volatile v_m = &m_;
    unsigned char *const buf = v_buf;
    struct sample *const s = v_s;
    struct mixed12 *const m = v_m;
    unsigned long long acc = 0; /* in a register: no store to the stack per call */
    hand_pack_sample(buf, s);
    double t = bench_now();
    switch (which) { /* each side its own loop: no dispatch per call in what is timed */
    case R_PACK:
        LOOP(s->id = (uint32_t)i; if (st_struct_record_pack(rs, s, buf, sizeof buf_) < 0) abort();
             acc += buf[(size_t)i % RECORD]);
    case R_HAND_PACK:
    case C_HAND_PACK:
        LOOP(s->id = (uint32_t)i; hand_pack_sample(buf, s); acc += buf[(size_t)i % RECORD]);
    case R_UNPACK:
        LOOP(put_le(buf, (uint32_t)i, 4);
             if (st_struct_record_unpack(rs, buf, RECORD, s) < 0) abort(); acc += s->id + s->n);
    case R_HAND_UNPACK:
    case C_HAND_UNPACK:
        LOOP(put_le(buf, (uint32_t)i, 4); hand_unpack_sample(buf, s); acc += s->id + s->n);
    case M_PACK:
        LOOP(m->e = (uint32_t)i; if (st_struct_record_pack(rm, m, buf, sizeof buf_) < 0) abort();
             acc += buf[(size_t)i % MIXED_RECORD]);
    case M_HAND_PACK:
    case CM_HAND_PACK:
        LOOP(m->e = (uint32_t)i; hand_pack_mixed(buf, m); acc += buf[(size_t)i % MIXED_RECORD]);
    case M_UNPACK:
        LOOP(put_le(buf, (uint32_t)i, 4);
             if (st_struct_record_unpack(rm, buf, MIXED_RECORD, m) < 0) abort();
             acc += m->c + m->g);
    case M_HAND_UNPACK:
    case CM_HAND_UNPACK:
        LOOP(put_le(buf, (uint32_t)i, 4); hand_unpack_mixed(buf, m); acc += m->c + m->g);
    case C_PACK:
        LOOP(s->id = (uint32_t)i; if (codec_pack_sample(cs, s, buf, sizeof buf_) < 0) abort();
             acc += buf[(size_t)i % RECORD]);
    case C_UNPACK:
        LOOP(put_le(buf, (uint32_t)i, 4);
             if (codec_unpack_sample(cs, buf, RECORD, s) < 0) abort(); acc += s->id + s->n);
    case CM_PACK:
        LOOP(m->e = (uint32_t)i; if (codec_pack_mixed(cm, m, buf, sizeof buf_) < 0) abort();
             acc += buf[(size_t)i % MIXED_RECORD]);
    default: /* CM_UNPACK */
        LOOP(put_le(buf, (uint32_t)i, 4);
             if (codec_unpack_mixed(cm, buf, MIXED_RECORD, m) < 0) abort();
             acc += m->c + m->g);
    }
    t = bench_now() - t;
    *sum += acc;
    return t / (double)n * 1e9;
}
#undef LOOP

#define ARRAY_N 1000000L

enum {
    A_PACK,
    A_UNPACK,
    A_MEMCPY,
    A_SWAP_PACK,
    A_SWAP_UNPACK,
    A_HAND_PACK,
    A_HAND_UNPACK,
    NALOOPS
};

/* One pass over 1M records; seconds. Cold: every buffer freshly allocated (page faults
 * included, for ours as for the anchor); warm: the same buffers again. */
static double run_array(int which, const st_struct_record *same, const st_struct_record *other,
                        const struct sample *in, struct sample *out, unsigned char *buf)
{
    double t = bench_now();
    switch (which) {
    case A_PACK:
        if (st_struct_record_pack_array(same, in, ARRAY_N, buf, ARRAY_N * RECORD) < 0)
            abort();
        break;
    case A_UNPACK:
        if (st_struct_record_unpack_array(same, buf, ARRAY_N * RECORD, out, ARRAY_N) < 0)
            abort();
        break;
    case A_MEMCPY:
        memcpy(buf, in, ARRAY_N * RECORD);
        break;
    case A_SWAP_PACK:
        if (st_struct_record_pack_array(other, in, ARRAY_N, buf, ARRAY_N * RECORD) < 0)
            abort();
        break;
    case A_SWAP_UNPACK:
        if (st_struct_record_unpack_array(other, buf, ARRAY_N * RECORD, out, ARRAY_N) < 0)
            abort();
        break;
    case A_HAND_PACK:
        hand_swap_pack(buf, in, ARRAY_N);
        break;
    default:
        hand_swap_unpack(buf, out, ARRAY_N);
        break;
    }
    return bench_now() - t;
}

/* The four lines of one way of packing (record or codec): b is its block of the loops above,
 * each loop followed by its hand-written anchor's. */
static void per_record(const char *way, const double *b)
{
    static const char *const what[] = {
        "\"" FORMAT "\" pack:  ", "\"" FORMAT "\" unpack:",
        "12 fields \"" MIXED_FORMAT "\" pack:  ", "12 fields \"" MIXED_FORMAT "\" unpack:"};
    for (int i = 0; i < 4; i++)
        printf("  %s %s %6.2f ns   hand-written %6.2f ns   %s/hand %.2fx (goal <= 1.5x)\n", what[i],
               way, b[2 * i], b[2 * i + 1], way, b[2 * i] / b[2 * i + 1]);
}

static void bench_records(double py_pack, unsigned long long *sum)
{
    double t = bench_now();
    st_struct_record *rs = ST_STRUCT_RECORD_NEW(FORMAT, struct sample, sample_fields);
    double setup = (bench_now() - t) * 1e9;
    st_struct_record *rm = ST_STRUCT_RECORD_NEW(MIXED_FORMAT, struct mixed12, mixed_fields);
    /* Arrays in this machine's byte order and in the other. */
    st_struct_record *same =
        ST_STRUCT_RECORD_NEW(little_endian() ? "<IhdQ8s" : ">IhdQ8s", struct sample, sample_fields);
    st_struct_record *other =
        ST_STRUCT_RECORD_NEW(little_endian() ? ">IhdQ8s" : "<IhdQ8s", struct sample, sample_fields);
    st_struct_record *cs = sample_codec_record_new(), *cm = mixed_codec_record_new();
    if (!rs || !rm || !same || !other || !cs || !cm) {
        fprintf(stderr, "bench_struct: %s\n", st_error_message());
        exit(1);
    }
    double best[NRLOOPS];
    for (int w = 0; w < NRLOOPS; w++)
        best[w] = 1e9;
    for (int r = 0; r < RECORD_ROUNDS; r++)
        for (int pair = 0; pair < NRLOOPS; pair += 2) /* ours, then its anchor (or the reverse) */
            for (int k = 0; k < 2; k++) {
                int w = pair + (k ^ (r & 1));
                double ns = run_record(w, rs, rm, cs, cm, RECORD_N, sum);
                best[w] = ns < best[w] ? ns : best[w];
            }
    printf("records (a format bound to a C struct; setup st_struct_record_new %.0f ns, cold, once "
           "per layout)\n",
           setup);
    per_record("record", best + R_PACK);
    printf("codecs (ST_STRUCT_CODEC: pack and unpack generated per struct at compile time; called "
           "through a non-inlined function, as the anchor)\n");
    per_record("codec", best + C_PACK);
    if (py_pack > 0)
        printf("  vs CPython 3.13 Struct.pack (%.1f ns): record pack %.1fx, codec pack %.1fx (goal "
               ">= 40x)\n",
               py_pack, py_pack / best[R_PACK], py_pack / best[C_PACK]);
    else
        printf("  CPython 3.13 not available: no CPython ratio\n");

    /* Arrays: cold on fresh buffers first, then warm rounds on the same ones. */
    double cold[NALOOPS], warm[NALOOPS];
    struct sample *keep_in = NULL, *keep_out = NULL;
    unsigned char *keep_buf = NULL;
    for (int w = 0; w < NALOOPS; w++) {
        struct sample *in = malloc(ARRAY_N * sizeof *in), *out = malloc(ARRAY_N * sizeof *out);
        unsigned char *buf = malloc(ARRAY_N * RECORD);
        if (!in || !out || !buf)
            exit(1);
        for (long i = 0; i < ARRAY_N; i++) /* the source is written, as a program's data is */
            in[i] =
                (struct sample){(uint32_t)i, (int16_t)i, (double)i, (uint64_t)i * 3, "abcdefgh"};
        if (w == A_UNPACK || w == A_SWAP_UNPACK || w == A_HAND_UNPACK)
            hand_swap_pack(buf, in, ARRAY_N); /* unpack reads a written buffer */
        cold[w] = run_array(w, same, other, in, out, buf);
        *sum += out[ARRAY_N / 2].id + buf[ARRAY_N];
        if (w == NALOOPS - 1) {
            keep_in = in;
            keep_out = out;
            keep_buf = buf;
        } else {
            free(in);
            free(out);
            free(buf);
        }
    }
    for (int w = 0; w < NALOOPS; w++)
        warm[w] = 1e9;
    for (int r = 0; r < ROUNDS; r++)
        for (int w = 0; w < NALOOPS; w++) {
            double s = run_array(w, same, other, keep_in, keep_out, keep_buf);
            warm[w] = s < warm[w] ? s : warm[w];
        }
    double mb = ARRAY_N * RECORD / 1e6;
    printf("arrays of 1M records (%.0f MB packed), MB/s of records, cold (fresh pages) / warm:\n",
           mb);
    printf("  memcpy of the packed size:        %6.0f / %6.0f\n", mb / cold[A_MEMCPY],
           mb / warm[A_MEMCPY]);
    printf("  same byte order pack_array:       %6.0f / %6.0f   vs memcpy %.2fx / %.2fx (goal >= "
           "0.5x)\n",
           mb / cold[A_PACK], mb / warm[A_PACK], cold[A_MEMCPY] / cold[A_PACK],
           warm[A_MEMCPY] / warm[A_PACK]);
    printf("  same byte order unpack_array:     %6.0f / %6.0f   vs memcpy %.2fx / %.2fx (goal >= "
           "0.5x)\n",
           mb / cold[A_UNPACK], mb / warm[A_UNPACK], cold[A_MEMCPY] / cold[A_UNPACK],
           warm[A_MEMCPY] / warm[A_UNPACK]);
    printf("  other byte order pack_array:      %6.0f / %6.0f   hand swap loop %6.0f / %6.0f   "
           "ours/hand %.2fx / %.2fx (goal <= 1.5x)\n",
           mb / cold[A_SWAP_PACK], mb / warm[A_SWAP_PACK], mb / cold[A_HAND_PACK],
           mb / warm[A_HAND_PACK], cold[A_SWAP_PACK] / cold[A_HAND_PACK],
           warm[A_SWAP_PACK] / warm[A_HAND_PACK]);
    printf("  other byte order unpack_array:    %6.0f / %6.0f   hand swap loop %6.0f / %6.0f   "
           "ours/hand %.2fx / %.2fx (goal <= 1.5x)\n",
           mb / cold[A_SWAP_UNPACK], mb / warm[A_SWAP_UNPACK], mb / cold[A_HAND_UNPACK],
           mb / warm[A_HAND_UNPACK], cold[A_SWAP_UNPACK] / cold[A_HAND_UNPACK],
           warm[A_SWAP_UNPACK] / warm[A_HAND_UNPACK]);
    free(keep_in);
    free(keep_out);
    free(keep_buf);
    st_struct_record_free(rs);
    st_struct_record_free(rm);
    st_struct_record_free(same);
    st_struct_record_free(other);
    st_struct_record_free(cs);
    st_struct_record_free(cm);
}

int main(void)
{
    st_struct *s = st_struct_new(FORMAT);
    if (!s || st_struct_size(s) != RECORD) {
        fprintf(stderr, "bench_struct: %s\n", st_error_message());
        return 1;
    }
    unsigned long long sum = 0;
    /* Rounds interleave the loops and keep the best time of each: fair on a busy machine. */
    double best[NLOOPS];
    for (int w = 0; w < NLOOPS; w++)
        best[w] = 1e9;
    for (int r = 0; r < ROUNDS; r++) {
        for (int w = 0; w < NLOOPS; w++) {
            double ns = run(w, s, &sum);
            best[w] = ns < best[w] ? ns : best[w];
        }
    }
    double ours_pack = best[OURS_PACK], hand_pack_ns = best[HAND_PACK];
    double ours_unpack = best[OURS_UNPACK], hand_unpack_ns = best[HAND_UNPACK];
    unsigned int a;
    int b;
    double c;
    unsigned long long d;
    char str[8];

    /* iter_unpack over 10 MB of records. */
    unsigned char *big = malloc(ITER_BYTES);
    if (!big)
        return 1;
    for (long off = 0; off < ITER_BYTES; off += RECORD)
        st_struct_pack(s, big + off, RECORD, (unsigned int)off, -5, 1.5, 9ULL, "abcdefgh", (size_t)8);
    double iter_s = 1e9;
    long records = 0;
    for (int r = 0; r < ROUNDS; r++) {
        double t = bench_now();
        st_struct_unpack_iterator *it = st_struct_iter_unpack(s, big, ITER_BYTES);
        if (!it)
            return 1;
        records = 0;
        while (st_struct_unpack_iterator_next(it, &a, &b, &c, &d, str) > 0) {
            sum += a;
            records++;
        }
        st_struct_unpack_iterator_free(it);
        t = bench_now() - t;
        iter_s = t < iter_s ? t : iter_s;
    }
    double ours_iter = iter_s / (double)records * 1e9;
    free(big);

    printf("struct bench, format \"%s\" (%d bytes), best of %d rounds of %ld calls (checksum %llu)\n", FORMAT,
           RECORD, ROUNDS, N, sum % 1000);
    printf("  pack:   ours %6.2f ns   hand-written %6.2f ns   ours/hand %.2fx  (hand variadic %.2f ns = %.2fx)\n",
           ours_pack, hand_pack_ns, ours_pack / hand_pack_ns, best[VA_PACK], best[VA_PACK] / hand_pack_ns);
    printf("  unpack: ours %6.2f ns   hand-written %6.2f ns   ours/hand %.2fx  (hand variadic %.2f ns = %.2fx)\n",
           ours_unpack, hand_unpack_ns, ours_unpack / hand_unpack_ns, best[VA_UNPACK],
           best[VA_UNPACK] / hand_unpack_ns);
    printf("  iter_unpack 10 MB: %ld records in %.1f ms (%.0f MB/s, %.2f ns/record)\n", records, iter_s * 1e3,
           ITER_BYTES / iter_s / 1e6, ours_iter);
    double py_pack, py_unpack, py_iter;
    if (cpython(&py_pack, &py_unpack, &py_iter) == 0) {
        printf("  CPython 3.13 Struct: pack %.1f ns, unpack %.1f ns, iter_unpack %.1f ns/record\n", py_pack,
               py_unpack, py_iter);
        printf("  speedup vs CPython: pack %.1fx, unpack %.1fx, iter_unpack %.1fx\n", py_pack / ours_pack,
               py_unpack / ours_unpack, py_iter / ours_iter);
    } else {
        printf("  CPython 3.13 not available: no CPython ratio\n");
        py_pack = -1;
    }
    bench_records(py_pack, &sum);
    st_struct_free(s);
    return 0;
}
