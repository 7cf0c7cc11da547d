/* struct bench: "<IhdQ8s" pack and unpack through the typed API, against CPython 3.13's
 * struct.Struct (timed by the interpreter itself, via popen) and against hand-written
 * memcpy/bswap functions; then iter_unpack over 10 MB. Prints ns per record and the ratios.
 * A hand-written variadic function for this one format shows what any printf-style API costs
 * at least (va_arg and the register save area of a variadic call) on top of the anchor. */
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
#define ITER_BYTES (10L * 1024 * 1024 / RECORD * RECORD)

#if defined(__GNUC__) || defined(__clang__)
#define NOINLINE __attribute__((noinline))
#else
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

/* Runs CPython's timing (best of several rounds); fills ns per pack, unpack, iter_unpack record. */
static int cpython(double *pack_ns, double *unpack_ns, double *iter_ns)
{
    char code[2048];
    snprintf(code, sizeof code,
             "import struct, time\n"
             "s = struct.Struct(\"" FORMAT "\"); n = 200000\n"
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
             "    t = time.perf_counter()\n"
             "    for r in s.iter_unpack(data): pass\n"
             "    it = min(it, (time.perf_counter() - t) / (len(data) // %d) * 1e9)\n"
             "print(p, u, it)",
             ITER_BYTES, RECORD, ROUNDS, RECORD);
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
    static unsigned char buf[RECORD];
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
            if (st_struct_pack(s, buf, sizeof buf, (unsigned int)i, v_short, v_double, (unsigned long long)i, v_text,
                               v_len) < 0)
                abort();
            *sum += buf[(size_t)i % RECORD];
            break;
        case HAND_PACK:
            hand_pack(buf, (unsigned int)i, v_short, v_double, (unsigned long long)i, v_text, v_len);
            *sum += buf[(size_t)i % RECORD];
            break;
        case VA_PACK:
            if (hand_vpack(buf, sizeof buf, (unsigned int)i, v_short, v_double, (unsigned long long)i, v_text,
                           v_len) < 0)
                abort();
            *sum += buf[(size_t)i % RECORD];
            break;
        case OURS_UNPACK:
            put_le(buf, (uint32_t)i, 4);
            if (st_struct_unpack(s, buf, sizeof buf, &a, &b, &c, &d, str) < 0)
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
            if (hand_vunpack(buf, sizeof buf, &a, &b, &c, &d, str) < 0)
                abort();
            *sum += a + (unsigned)b + d + (unsigned char)str[3];
            break;
        }
    }
    return (bench_now() - t) / N * 1e9;
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
    }
    st_struct_free(s);
    return 0;
}
