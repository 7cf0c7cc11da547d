/* io: reading a big file line by line (issue 19's goal: at least as fast as getline(3), with
 * flat memory): st_file_next() on a text file (utf-8, universal newlines) and on a binary file,
 * against getline(3), and against CPython 3.13's `for line in f` timed inside Python.
 *
 * The file (ST_BENCH_IO_MB megabytes, default 256; the 1 GB is ST_BENCH_IO_MB=1024)
 * is written to a temporary directory: lines of 20 to 120 bytes, one in sixteen with UTF-8
 * text. The readers take turns for three rounds and each one's best run counts (the first
 * round warms the page cache). Peak RSS is read before and after our readers: flat memory means a growth of
 * a few hundred KiB whatever the size. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bench.h"
#include "systools/io.h"
#include "systools/sys.h"

static long peak_kib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss; /* KiB on Linux */
}

static int make_file(const char *path, long long bytes)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    static char buf[1 << 20];
    size_t n = 0;
    unsigned seed = 12345;
    for (long long written = 0; written < bytes;) {
        seed = seed * 1103515245u + 12345u;
        int len = 20 + (int)((seed >> 8) % 100);
        int utf8 = (seed >> 20) % 16 == 0;
        for (int i = 0; i < len; i++)
            buf[n++] = (char)('a' + (i * 7 + (int)(seed >> 3)) % 26);
        if (utf8) {
            memcpy(buf + n, " caf\xc3\xa9 \xe2\x82\xac", 10);
            n += 10;
        }
        buf[n++] = '\n';
        if (n > sizeof buf - 256) {
            fwrite(buf, 1, n, f);
            written += (long long)n;
            n = 0;
        }
    }
    fwrite(buf, 1, n, f);
    return fclose(f);
}

/* Reads every line with st_file_next(); the bytes seen, or -1. */
static long long ours(const char *path, const char *mode)
{
    st_io_open_options o = ST_IO_OPEN_OPTIONS_INIT;
    if (!strchr(mode, 'b'))
        o.encoding = "utf-8";
    st_file *f = st_io_open(path, mode, &o);
    if (!f)
        return -1;
    long long total = 0;
    const char *line;
    size_t len;
    int rc;
    while ((rc = st_file_next(f, &line, &len)) > 0)
        total += (long long)len;
    st_file_free(f);
    return rc < 0 ? -1 : total;
}

static long long with_getline(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long long total = 0;
    while ((n = getline(&line, &cap, f)) > 0)
        total += n;
    free(line);
    fclose(f);
    return total;
}

typedef long long (*reader)(const char *path);
static long long ours_text(const char *path) { return ours(path, "r"); }
static long long ours_binary(const char *path) { return ours(path, "rb"); }

/* Runs the reader once; updates *best with its time, *bytes with what it saw. */
static void timed(reader r, const char *path, double *best, long long *bytes)
{
    double t0 = bench_now();
    *bytes = r(path);
    double t = bench_now() - t0;
    if (t < *best)
        *best = t;
}

int main(int argc, char **argv)
{
    st_sys_init(argc, argv);
    const char *mb_env = getenv("ST_BENCH_IO_MB");
    long long mb = mb_env ? atoll(mb_env) : 256;
    if (mb <= 0)
        mb = 256;
    char dir[] = "/tmp/st_bench_io_XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    char path[128];
    snprintf(path, sizeof path, "%s/lines.txt", dir);
    if (make_file(path, mb << 20) < 0) {
        fprintf(stderr, "cannot write %s\n", path);
        return 1;
    }
    printf("io: reading %lld MiB line by line (%s)\n", mb, path);

    /* three rounds, the readers taking turns (a busy machine slows them alike), the best of
     * each counts; peak RSS around our readers' first round */
    long long b_get, b_text, b_bin;
    double t_get = 1e9, t_text = 1e9, t_bin = 1e9;
    long rss0 = 0, rss1 = 0, rss2 = 0;
    for (int round = 0; round < 3; round++) {
        timed(with_getline, path, &t_get, &b_get);
        if (!round)
            rss0 = peak_kib();
        timed(ours_text, path, &t_text, &b_text);
        if (!round)
            rss1 = peak_kib();
        timed(ours_binary, path, &t_bin, &b_bin);
        if (!round)
            rss2 = peak_kib();
    }
    if (b_text != b_get || b_bin != b_get) {
        fprintf(stderr, "byte counts differ: getline %lld, text %lld, binary %lld\n", b_get, b_text,
                b_bin);
        return 1;
    }
    const char *py = "import sys, time\n"
                     "t = time.perf_counter()\n"
                     "n = 0\n"
                     "with open(sys.argv[1], encoding='utf-8') as f:\n"
                     "    for line in f:\n"
                     "        n += 1\n"
                     "print(time.perf_counter() - t)\n";
    double t_py = bench_python_seconds(py, path);
    double t_py2 = bench_python_seconds(py, path);
    if (t_py2 >= 0 && t_py2 < t_py)
        t_py = t_py2;

    double mibs = (double)mb;
    printf("  %-34s %7.3f s %6.0f MiB/s\n", "getline(3)", t_get, mibs / t_get);
    printf("  %-34s %7.3f s %6.0f MiB/s  %.2fx getline (goal >= 1.0x)\n",
           "ours, text (utf-8, universal nl)", t_text, mibs / t_text, t_get / t_text);
    printf("  %-34s %7.3f s %6.0f MiB/s  %.2fx getline (goal >= 1.0x)\n", "ours, binary", t_bin,
           mibs / t_bin, t_get / t_bin);
    if (t_py > 0)
        printf("  %-34s %7.3f s %6.0f MiB/s  ours (text) %.1fx faster\n",
               "CPython 3.13 `for line in f`", t_py, mibs / t_py, t_py / t_text);
    else
        printf("  CPython 3.13: skipped (none found)\n");
    printf(
        "  peak RSS growth: text %ld KiB, binary %ld KiB (flat: independent of the file's size)\n",
        rss1 - rss0, rss2 - rss1);
    unlink(path);
    rmdir(dir);
    return 0;
}
