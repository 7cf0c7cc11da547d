/* pickle: dumps and loads of 100k small records (dicts of str/int/float/list/bytes) with
 * protocol 4, against CPython 3.13's C pickler and unpickler and msgpack-c on the same records.
 *
 * A program loads a pickle once, so the first figures are fresh-process loads: this program
 * runs itself as a child per load (`bench_pickle --fresh pickle|msgpack FILE`), the child reads
 * the file, then times one load and reports the growth of its peak resident memory; CPython is
 * timed the same way in a child of its own. The median of FRESH children is printed. Then
 * steady figures: best of ROUNDS in one process, where later loads reuse freed memory. Each side
 * runs its steady rounds in a child of its own (`bench_pickle --steady pickle|msgpack`), so that
 * neither starts with a heap the other grew or left cold: our loads give their chunks back to our
 * own cache, not to glibc, and msgpack-c run after them met a cold malloc heap. Alone, msgpack-c
 * pays another cost: freeing an unpacked tree (~30 MB of 8 KiB zone chunks) lets glibc trim
 * its heap, so every round faults its pages in again (31-38 ms where 16-19 ms with the heap
 * kept). Our cache keeps a load's chunks, so the steady ratio compares against msgpack-c with
 * glibc keeping its heap too (GLIBC_TUNABLES trim_threshold, ignored by other libcs); its figure
 * with glibc's defaults is printed beside it. */
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
#define ROUNDS 5
#define FRESH 5

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

/* Steady figures: the same records built in Python, best of 5 (argv[1] dumps or loads); or the
 * size of the pickle (size); or one load of the file argv[2] in this fresh process (fresh). */
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
    "best = 1e9\n"
    "for _ in range(5):\n"
    "    t = time.perf_counter()\n"
    "    if sys.argv[1] == 'dumps':\n"
    "        pickle.dumps(recs, 4)\n"
    "    else:\n"
    "        pickle.loads(data)\n"
    "    best = min(best, time.perf_counter() - t)\n"
    "print(best)\n";

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

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
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

/* Runs `self --steady kind`: its dumps and loads seconds; 0 when it fails. With keep_heap,
 * glibc's malloc keeps what the child frees (as our chunk cache keeps our loads' chunks). */
static int steady(const char *self, const char *kind, int keep_heap, double *dumps,
                  double *loads)
{
    const char *argv[] = {self, "--steady", kind, NULL};
    const char *old = getenv("GLIBC_TUNABLES");
    char *saved = old ? strdup(old) : NULL, tun[4096];
    if (keep_heap) {
        snprintf(tun, sizeof tun, "%s%sglibc.malloc.trim_threshold=4294967295", old ? old : "",
                 old ? ":" : "");
        setenv("GLIBC_TUNABLES", tun, 1);
    }
    char *out = st_subprocess_check_output(argv, NULL, NULL, NULL);
    int ok = out && sscanf(out, "%lf %lf", dumps, loads) == 2;
    st_free(out);
    if (keep_heap && saved)
        setenv("GLIBC_TUNABLES", saved, 1);
    else if (keep_heap)
        unsetenv("GLIBC_TUNABLES");
    free(saved);
    return ok;
}

/* Median seconds and peak growth (KiB) of FRESH children; 0 when the command fails. */
static int fresh(const char *const *argv, double *secs, double *kib)
{
    double t[FRESH], m[FRESH];
    for (int i = 0; i < FRESH; i++) {
        char *out = st_subprocess_check_output(argv, NULL, NULL, NULL);
        int ok = out && sscanf(out, "%lf %lf", &t[i], &m[i]) == 2;
        st_free(out);
        if (!ok)
            return 0;
    }
    qsort(t, FRESH, sizeof *t, cmp_double);
    qsort(m, FRESH, sizeof *m, cmp_double);
    *secs = t[FRESH / 2];
    *kib = m[FRESH / 2];
    return 1;
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
    if (write_file(ppath, data, len))
        return 1;
    const char *self = st_sys_executable();
    const char *ours_argv[] = {self, "--fresh", "pickle", ppath, NULL};
    double fours = 0, mours = 0;
    if (!self || !fresh(ours_argv, &fours, &mours))
        return 1;

    printf("pickle protocol 4, %d records (%zu bytes; CPython's: %.0f)\n", RECORDS, len,
           bench_python_seconds(py_script, "size"));
    printf("one load in a fresh process (median of %d):  time      peak memory growth\n", FRESH);
    printf("  st_pickle_loads                          %7.1f ms  %6.1f MiB\n", fours * 1e3,
           mours / 1024);

    double fpy = 0, mpy = 0;
    const char *py = pyref_python();
    const char *py_argv[] = {py, "-c", py_script, "fresh", ppath, NULL};
    int have_py = py && fresh(py_argv, &fpy, &mpy);
    if (have_py)
        printf("  CPython 3.13 pickle.loads                %7.1f ms  %6.1f MiB\n", fpy * 1e3,
               mpy / 1024);
    else
        printf("  CPython 3.13                             not found, its column skipped\n");

    double fmp = 0, mmp = 0, mp_loads = 0, mp_dumps = 0;
    int have_mp = 0;
#ifdef ST_BENCH_HAVE_MSGPACK
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_records(&sb);
    const char *mp_argv[] = {self, "--fresh", "msgpack", mpath, NULL};
    have_mp = write_file(mpath, sb.data, sb.size) == 0 && fresh(mp_argv, &fmp, &mmp);
    if (have_mp)
        printf("  msgpack-c unpack (%zu bytes)          %7.1f ms  %6.1f MiB\n", sb.size,
               fmp * 1e3, mmp / 1024);
    msgpack_sbuffer_destroy(&sb);
#endif
    if (!have_mp)
        printf("  msgpack-c                                not found, its column skipped\n");
    remove(ppath);
    remove(mpath);
    rmdir(dir);

    double dumps = 0, loads = 0;
    if (!steady(self, "pickle", 0, &dumps, &loads))
        return 1;
    double mp_dumps_default = 0, mp_loads_default = 0;
    have_mp = have_mp && steady(self, "msgpack", 1, &mp_dumps, &mp_loads) &&
              steady(self, "msgpack", 0, &mp_dumps_default, &mp_loads_default);
    double cdumps = bench_python_seconds(py_script, "dumps");
    double cloads = bench_python_seconds(py_script, "loads");
    printf("steady, best of %d in one process per side:\n", ROUNDS);
    printf("  st_pickle_dumps %.1f ms   st_pickle_loads %.1f ms\n", dumps * 1e3, loads * 1e3);
    if (cdumps > 0 && cloads > 0)
        printf("  CPython dumps   %.1f ms   CPython loads   %.1f ms\n", cdumps * 1e3,
               cloads * 1e3);
    if (have_mp)
        printf("  msgpack-c pack  %.1f ms   msgpack-c unpack %.1f ms (pack from its object "
               "tree; glibc keeping freed memory; with its defaults %.1f and %.1f ms)\n",
               mp_dumps * 1e3, mp_loads * 1e3, mp_dumps_default * 1e3, mp_loads_default * 1e3);

    printf("ratios:\n");
    if (have_mp) {
        goal("fresh load, ours / msgpack-c", fours / fmp, "x", fours <= fmp, "<= 1.0x");
        goal("fresh peak growth, ours / msgpack-c", mours / mmp, "x", mours <= mmp, "<= 1.0x");
        goal("steady load, ours / msgpack-c", loads / mp_loads, "x", loads <= mp_loads,
             "<= 1.0x");
        goal("dumps, ours / msgpack-c pack", dumps / mp_dumps, "x", dumps <= 0.7 * mp_dumps,
             "<= 0.7x");
    }
    if (have_py) {
        goal("fresh load, CPython / ours (faster)", fpy / fours, "x", fpy >= 5 * fours,
             ">= 5x");
        goal("fresh peak growth, ours / CPython", mours / mpy, "x", mours <= 0.5 * mpy,
             "<= 0.5x");
    }
    if (cdumps > 0 && cloads > 0) {
        goal("dumps, CPython / ours (faster)", cdumps / dumps, "x", cdumps >= 10 * dumps,
             ">= 10x");
        printf("  %-44s %6.2fx\n", "steady load, CPython / ours (faster)", cloads / loads);
    }
    st_free(data);
    return 0;
}
