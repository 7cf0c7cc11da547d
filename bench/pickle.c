/* pickle: dumps and loads of 100k small records (dicts of str/int/float/list/bytes) with
 * protocol 4, against CPython 3.13's C pickler and unpickler and msgpack-c on the same records.
 *
 * A program loads a pickle once, so the first figures are fresh-process loads: this program
 * runs itself as a child per load (`bench_pickle --fresh pickle|msgpack FILE`), the child reads
 * the file, then times one load and reports the growth of its peak resident memory; CPython is
 * timed the same way in a child of its own. Then steady figures: the best of ROUNDS in one
 * process, where later loads reuse freed memory, each side in children of its own
 * (`bench_pickle --steady pickle|msgpack`, CPython's script with `steady`), so that neither
 * starts with a heap the other grew or left cold: our loads give their chunks back to our own
 * cache, not to glibc, and msgpack-c run after them met a cold malloc heap.
 *
 * Every figure is the median over several children (FRESH loads, STEADY best-of-ROUNDS
 * processes per side), the sides' children taking turns, because this kind of machine (a VM on
 * 2 vCPUs sharing host cores) runs the same process at two speeds: a whole child, or a stretch of
 * seconds, at ~1.8x the time of another (16 vs 30 ms for the same dumps, 14 vs 27 ms for the
 * same loads). It is not the library: a throughput-bound loop of multiplies timed beside the
 * rounds slows 1.35x in exactly the same stretches; huge pages, page faults (none in steady
 * rounds) and addresses do not change. Taking turns puts both sides in the same stretches:
 * a time ratio is the median of the ratios of the two sides' children of each turn, so one
 * slow child or stretch does not decide a line; each side's median and range are printed too.
 * Memory ratios are of the medians (peak growth hardly varies).
 *
 * Alone, msgpack-c pays another cost: freeing an unpacked tree (~30 MB of 8 KiB zone chunks)
 * lets glibc trim its heap, so every round faults its pages in again (31-38 ms where 16-19 ms
 * with the heap kept). Our cache keeps a load's chunks, so the steady ratio compares against
 * msgpack-c with glibc keeping its heap too (GLIBC_TUNABLES trim_threshold, ignored by other
 * libcs); its figure with glibc's defaults is printed beside it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bench.h"
#include "systools/systools.h"

#ifdef ST_BENCH_HAVE_MSGPACK
#include <msgpack.h>
#endif

#define RECORDS 100000
#define ROUNDS 5 /* timed rounds in a steady child: its best counts */
#define FRESH 7  /* fresh-process children per side: their median counts */
#define STEADY 5 /* steady children per side: the median of their bests counts */

/* The same records as the Python script below builds: like there, the keys and the constant
 * strings are one object each, shared by every record. */
static st_value *make_records(void)
{
    static const char *const names[] = {"id", "name", "score", "tags", "blob", "a", "tag"};
    st_value *k[7];
    for (int i = 0; i < 7; i++)
        k[i] = st_value_str(names[i]);
    st_value *list = st_value_list();
    for (int i = 0; i < RECORDS; i++) {
        char name[32], blob[8];
        snprintf(name, sizeof name, "user%d", i);
        for (int k = 0; k < 8; k++)
            blob[k] = (char)((i + k) & 0xff);
        st_value *d = st_value_dict(), *tags = st_value_list();
        st_value_list_append(tags, k[5]);
        st_value_list_append(tags, k[6]);
        st_value_list_append_steal(tags, st_value_int(i % 7));
        st_value_dict_set_steal(d, st_value_ref(k[0]), st_value_int(i));
        st_value_dict_set_steal(d, st_value_ref(k[1]), st_value_str(name));
        st_value_dict_set_steal(d, st_value_ref(k[2]), st_value_float(i * 0.5));
        st_value_dict_set_steal(d, st_value_ref(k[3]), tags);
        st_value_dict_set_steal(d, st_value_ref(k[4]), st_value_bytes(blob, 8));
        st_value_list_append_steal(list, d);
    }
    for (int i = 0; i < 7; i++)
        st_value_unref(k[i]);
    return list;
}

/* Steady figures: the same records built in Python, best of 5 dumps and of 5 loads (steady);
 * or the size of the pickle (size); or one load of the file argv[2] in this fresh process
 * (fresh). */
static const char *const py_script =
    "import pickle, resource, sys, time\n"
    "def peak():  # as peak_kib() below\n"
    "    try:\n"
    "        return int(open('/proc/self/status').read().split('VmHWM:')[1].split()[0])\n"
    "    except (OSError, IndexError):\n"
    "        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
    "if sys.argv[1] == 'fresh':\n"
    "    data = open(sys.argv[2], 'rb').read()\n"
    "    before = peak()\n"
    "    t = time.perf_counter(); recs = pickle.loads(data); t = time.perf_counter() - t\n"
    "    print(t, peak() - before); sys.exit()\n"
    "recs = [{'id': i, 'name': 'user%d' % i, 'score': i * 0.5, 'tags': ['a', 'tag', i % 7],\n"
    "         'blob': bytes((i + k) & 0xff for k in range(8))} for i in range(100000)]\n"
    "data = pickle.dumps(recs, 4)\n"
    "if sys.argv[1] == 'size':\n"
    "    print(len(data)); sys.exit()\n"
    "def best(f):\n"
    "    b = 1e9\n"
    "    for _ in range(5):\n"
    "        t = time.perf_counter(); f(); b = min(b, time.perf_counter() - t)\n"
    "    return b\n"
    "print(best(lambda: pickle.dumps(recs, 4)), best(lambda: pickle.loads(data)))\n";

/* Peak resident memory of this process in KiB: Linux's VmHWM, which starts afresh at exec,
 * else ru_maxrss (which Linux carries over exec from the parent's high-water mark, and which
 * then makes every growth read 0). */
static long peak_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (f && kib < 0 && fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %ld", &kib) != 1)
            kib = -1;
    if (f)
        fclose(f);
    if (kib >= 0)
        return kib;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss; /* KiB on Linux and the BSDs */
}

static int write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    int rc = f && fwrite(data, 1, len, f) == len ? 0 : -1;
    if (f && fclose(f))
        rc = -1;
    return rc;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *buf = n > 0 ? malloc((size_t)n) : NULL;
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = buf ? (size_t)n : 0;
    return buf;
}

#ifdef ST_BENCH_HAVE_MSGPACK
/* Packs the records directly (what a msgpack-c program writes), for the file and the tree. */
static void msgpack_records(msgpack_sbuffer *sb)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, RECORDS);
    for (int i = 0; i < RECORDS; i++) {
        char name[32], blob[8];
        int n = snprintf(name, sizeof name, "user%d", i);
        for (int k = 0; k < 8; k++)
            blob[k] = (char)((i + k) & 0xff);
        msgpack_pack_map(&pk, 5);
        msgpack_pack_str_with_body(&pk, "id", 2);
        msgpack_pack_int(&pk, i);
        msgpack_pack_str_with_body(&pk, "name", 4);
        msgpack_pack_str_with_body(&pk, name, (size_t)n);
        msgpack_pack_str_with_body(&pk, "score", 5);
        msgpack_pack_double(&pk, i * 0.5);
        msgpack_pack_str_with_body(&pk, "tags", 4);
        msgpack_pack_array(&pk, 3);
        msgpack_pack_str_with_body(&pk, "a", 1);
        msgpack_pack_str_with_body(&pk, "tag", 3);
        msgpack_pack_int(&pk, i % 7);
        msgpack_pack_str_with_body(&pk, "blob", 4);
        msgpack_pack_bin_with_body(&pk, blob, 8);
    }
}

static int msgpack_load(const char *data, size_t len, msgpack_unpacked *out)
{
    msgpack_unpacked_init(out);
    size_t off = 0;
    return msgpack_unpack_next(out, data, len, &off) == MSGPACK_UNPACK_SUCCESS ? 0 : -1;
}
#endif

/* The child of a fresh measurement: one load of the file, "seconds peak-growth-KiB". */
static int fresh_child(const char *kind, const char *path)
{
    size_t len;
    char *data = read_file(path, &len);
    if (!data)
        return 1;
    long before = peak_kib();
    double t0 = bench_now();
    int ok;
    if (strcmp(kind, "pickle") == 0) {
        ok = st_pickle_loads(data, len, NULL) != NULL;
    } else {
#ifdef ST_BENCH_HAVE_MSGPACK
        msgpack_unpacked u;
        ok = msgpack_load(data, len, &u) == 0;
#else
        ok = 0;
#endif
    }
    double t = bench_now() - t0;
    if (!ok)
        return 1;
    printf("%.6f %ld\n", t, peak_kib() - before);
    return 0; /* the result is never freed: the process ends, as a one-shot program's does */
}

/* The child of a steady measurement: best of ROUNDS dumps and loads (ours) or packs from the
 * object tree and unpacks (msgpack-c) of the records, "dumps-seconds loads-seconds". */
static int steady_child(const char *kind)
{
    double dumps = 1e9, loads = 1e9;
    if (strcmp(kind, "pickle") == 0) {
        st_value *recs = make_records();
        unsigned char *data = NULL;
        size_t len = 0;
        for (int r = 0; r < ROUNDS; r++) {
            st_free(data);
            double t0 = bench_now();
            if (st_pickle_dumps(recs, 4, &data, &len))
                return 1;
            double t = bench_now() - t0;
            dumps = t < dumps ? t : dumps;
        }
        for (int r = 0; r < ROUNDS; r++) {
            double t0 = bench_now();
            st_value *v = st_pickle_loads(data, len, NULL);
            double t = bench_now() - t0;
            if (!v)
                return 1;
            st_value_unref(v);
            loads = t < loads ? t : loads;
        }
        st_free(data);
        st_value_unref(recs);
    } else {
#ifdef ST_BENCH_HAVE_MSGPACK
        msgpack_sbuffer sb;
        msgpack_sbuffer_init(&sb);
        msgpack_records(&sb);
        for (int r = 0; r < ROUNDS; r++) {
            msgpack_unpacked u;
            double t0 = bench_now();
            if (msgpack_load(sb.data, sb.size, &u))
                return 1;
            double t = bench_now() - t0;
            loads = t < loads ? t : loads;
            /* packing from its object tree, as our dumps packs from the value tree */
            msgpack_sbuffer out;
            msgpack_sbuffer_init(&out);
            msgpack_packer pk;
            msgpack_packer_init(&pk, &out, msgpack_sbuffer_write);
            t0 = bench_now();
            msgpack_pack_object(&pk, u.data);
            t = bench_now() - t0;
            dumps = t < dumps ? t : dumps;
            msgpack_sbuffer_destroy(&out);
            msgpack_unpacked_destroy(&u);
        }
        msgpack_sbuffer_destroy(&sb);
#else
        return 1;
#endif
    }
    printf("%.6f %.6f\n", dumps, loads);
    return 0;
}

/* Runs a child that prints two numbers: 1 with them in *a and *b, 0 when it fails. With
 * keep_heap, glibc's malloc keeps what the child frees (as our chunk cache keeps our loads'
 * chunks). */
static int child(const char *const *argv, int keep_heap, double *a, double *b)
{
    const char *old = getenv("GLIBC_TUNABLES");
    char *saved = old ? strdup(old) : NULL, tun[4096];
    if (keep_heap) {
        snprintf(tun, sizeof tun, "%s%sglibc.malloc.trim_threshold=4294967295", old ? old : "",
                 old ? ":" : "");
        setenv("GLIBC_TUNABLES", tun, 1);
    }
    char *out = st_subprocess_check_output(argv, NULL, NULL, NULL);
    int ok = out && sscanf(out, "%lf %lf", a, b) == 2;
    st_free(out);
    if (keep_heap && saved)
        setenv("GLIBC_TUNABLES", saved, 1);
    else if (keep_heap)
        unsetenv("GLIBC_TUNABLES");
    free(saved);
    return ok;
}

#define MOST (FRESH > STEADY ? FRESH : STEADY)

/* One side: its command and the two numbers each of its children printed. */
typedef struct side {
    const char *const *argv; /* NULL: the side is missing (or a child of it failed) */
    int keep_heap;
    size_t n;
    double a[MOST], b[MOST];
} side;

/* Runs `rounds` children of each side, one of each in turn, so that every side meets the same
 * stretches of a machine whose speed changes. */
static void take_turns(side *sides, size_t nsides, size_t rounds)
{
    for (size_t r = 0; r < rounds; r++)
        for (side *s = sides; s < sides + nsides; s++)
            if (s->argv && child(s->argv, s->keep_heap, &s->a[s->n], &s->b[s->n]))
                s->n++;
            else
                s->argv = NULL;
}

/* The median of n numbers (sorted in place), their range in *lo and *hi. */
static double median(double *x, size_t n, double *lo, double *hi)
{
    qsort(x, n, sizeof *x, bench_cmp_double);
    *lo = x[0];
    *hi = x[n - 1];
    return n % 2 ? x[n / 2] : (x[n / 2 - 1] + x[n / 2]) / 2;
}

/* The median ratio x[i] / y[i] over the turns of two sides (the children of one turn meet the
 * same stretch of the machine's speed, so their ratio is the fairer one). */
static double paired(const side *x, const side *y, int second)
{
    double r[MOST], lo, hi;
    size_t n = x->n < y->n ? x->n : y->n;
    for (size_t i = 0; i < n; i++)
        r[i] = second ? x->b[i] / y->b[i] : x->a[i] / y->a[i];
    return median(r, n, &lo, &hi);
}

/* Prints the line "label  median ms (range)  note" of n timings in seconds. */
static void print_ms(const char *label, double *x, size_t n, const char *note)
{
    double lo, hi, med = median(x, n, &lo, &hi);
    char range[64];
    snprintf(range, sizeof range, "(%.1f-%.1f)", lo * 1e3, hi * 1e3);
    printf("  %-28s %6.1f ms %-14s %s\n", label, med * 1e3, range, note);
}

/* Prints one side's fresh line (median time and peak growth); the median peak growth (KiB). */
static double print_fresh(const char *label, side *s)
{
    double lo, hi, kib = median(s->b, s->n, &lo, &hi);
    char note[32];
    snprintf(note, sizeof note, "%6.1f MiB", kib / 1024);
    print_ms(label, s->a, s->n, note);
    return kib;
}

static void goal(const char *what, double ratio, const char *unit, int met, const char *target)
{
    printf("  %-44s %6.2f%s  (goal %s: %s)\n", what, ratio, unit, target, met ? "met" : "NOT met");
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--fresh") == 0)
        return fresh_child(argv[2], argv[3]);

    if (argc == 3 && strcmp(argv[1], "--steady") == 0)
        return steady_child(argv[2]);

    st_value *recs = make_records();
    unsigned char *data = NULL;
    size_t len = 0;
    if (st_pickle_dumps(recs, 4, &data, &len))
        return 1;
    st_value_unref(recs);

    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char dir[4096], ppath[4200], mpath[4200];
    snprintf(dir, sizeof dir, "%s/bench_pickle.XXXXXX", tmp);
    if (!mkdtemp(dir))
        return 1;
    snprintf(ppath, sizeof ppath, "%s/records.pickle", dir);
    snprintf(mpath, sizeof mpath, "%s/records.msgpack", dir);
    int written = write_file(ppath, data, len);
    st_free(data);
    const char *self = st_sys_executable();
    if (written || !self)
        return 1;
    const char *py = pyref_python();
    size_t mp_size = 0;
#ifdef ST_BENCH_HAVE_MSGPACK
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_records(&sb);
    mp_size = write_file(mpath, sb.data, sb.size) == 0 ? sb.size : 0;
    msgpack_sbuffer_destroy(&sb);
#endif

    const char *ours_fresh[] = {self, "--fresh", "pickle", ppath, NULL};
    const char *py_fresh[] = {py, "-c", py_script, "fresh", ppath, NULL};
    const char *mp_fresh[] = {self, "--fresh", "msgpack", mpath, NULL};
    side fresh[3] = {{ours_fresh, 0, 0, {0}, {0}},
                     {py ? py_fresh : NULL, 0, 0, {0}, {0}},
                     {mp_size ? mp_fresh : NULL, 0, 0, {0}, {0}}};
    take_turns(fresh, 3, FRESH);
    remove(ppath);
    remove(mpath);
    rmdir(dir);
    if (!fresh[0].argv)
        return 1;
    int have_py = fresh[1].argv != NULL, have_mp = fresh[2].argv != NULL;
    double fresh_mp = have_mp ? paired(&fresh[0], &fresh[2], 0) : 0;
    double fresh_py = have_py ? paired(&fresh[1], &fresh[0], 0) : 0;

    printf("pickle protocol 4, %d records (%zu bytes; CPython's: %.0f)\n", RECORDS, len,
           bench_python_seconds(py_script, "size"));
    printf("one load in a fresh process, median (range) of %d children per side taking turns,\n"
           "and the median peak memory growth:\n",
           FRESH);
    double mours = print_fresh("st_pickle_loads", &fresh[0]), mpy = 0, mmp = 0;
    if (have_py)
        mpy = print_fresh("CPython 3.13 pickle.loads", &fresh[1]);
    else
        printf("  CPython 3.13                 not found, its column skipped\n");
    if (have_mp) {
        char label[64];
        snprintf(label, sizeof label, "msgpack-c unpack (%zu B)", mp_size);
        mmp = print_fresh(label, &fresh[2]);
    } else {
        printf("  msgpack-c                    not found, its column skipped\n");
    }

    const char *ours_steady[] = {self, "--steady", "pickle", NULL};
    const char *mp_steady[] = {self, "--steady", "msgpack", NULL};
    const char *py_steady[] = {py, "-c", py_script, "steady", NULL};
    side steady[4] = {{ours_steady, 0, 0, {0}, {0}},
                      {have_mp ? mp_steady : NULL, 1, 0, {0}, {0}},
                      {have_mp ? mp_steady : NULL, 0, 0, {0}, {0}},
                      {have_py ? py_steady : NULL, 0, 0, {0}, {0}}};
    take_turns(steady, 4, STEADY);
    if (!steady[0].argv)
        return 1;
    have_mp = steady[1].argv && steady[2].argv;
    int have_cpy = steady[3].argv != NULL;
    double load_mp = have_mp ? paired(&steady[0], &steady[1], 1) : 0;
    double dumps_mp = have_mp ? paired(&steady[0], &steady[1], 0) : 0;
    double dumps_py = have_cpy ? paired(&steady[3], &steady[0], 0) : 0;
    double load_py = have_cpy ? paired(&steady[3], &steady[0], 1) : 0;
    printf("steady: best of %d in a process, median (range) of %d processes per side taking "
           "turns:\n",
           ROUNDS, STEADY);
    print_ms("st_pickle_dumps", steady[0].a, steady[0].n, "");
    print_ms("st_pickle_loads", steady[0].b, steady[0].n, "");
    if (have_cpy) {
        print_ms("CPython dumps", steady[3].a, steady[3].n, "");
        print_ms("CPython loads", steady[3].b, steady[3].n, "");
    }
    if (have_mp) {
        print_ms("msgpack-c pack", steady[1].a, steady[1].n, "from its object tree");
        print_ms("msgpack-c unpack", steady[1].b, steady[1].n, "glibc keeping freed memory");
        print_ms("msgpack-c pack", steady[2].a, steady[2].n, "glibc's defaults");
        print_ms("msgpack-c unpack", steady[2].b, steady[2].n, "glibc's defaults");
    }

    printf("ratios: times, the median of the ratios of the children run in the same turn; "
           "memory, of the medians:\n");
    if (have_mp) {
        goal("fresh load, ours / msgpack-c", fresh_mp, "x", fresh_mp <= 1.0, "<= 1.0x");
        goal("fresh peak growth, ours / msgpack-c", mours / mmp, "x", mours <= mmp, "<= 1.0x");
        goal("steady load, ours / msgpack-c", load_mp, "x", load_mp <= 1.0, "<= 1.0x");
        goal("dumps, ours / msgpack-c pack", dumps_mp, "x", dumps_mp <= 0.7, "<= 0.7x");
    }
    if (have_py) {
        goal("fresh load, CPython / ours (faster)", fresh_py, "x", fresh_py >= 5, ">= 5x");
        goal("fresh peak growth, ours / CPython", mours / mpy, "x", mours <= 0.5 * mpy,
             "<= 0.5x");
    }
    if (have_cpy) {
        goal("dumps, CPython / ours (faster)", dumps_py, "x", dumps_py >= 10, ">= 10x");
        printf("  %-44s %6.2fx\n", "steady load, CPython / ours (faster)", load_py);
    }
    return 0;
}
