/* glob: a generated 50k-entry tree in /tmp. The recursive pattern `**` then `*.c` against
 * `find -name '*.c'` (spawned, output read through a pipe) and CPython 3.13's glob.glob() (timed
 * by the interpreter itself); the three levels `*`, `*`, `*.c` against glibc's glob(3). Best of several runs, warm
 * caches; the tree is removed at the end. */
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"
#include "systools/systools.h"

#define RUNS 7

static const char PY[] =
    "import glob, sys, time\n"
    "best = 1e9\n"
    "for _ in range(3):\n"
    "    t = time.perf_counter()\n"
    "    r = glob.glob('**/*.c', root_dir=sys.argv[1], recursive=True)\n"
    "    best = min(best, time.perf_counter() - t)\n"
    "print(best)\n";

static char g_tree[] = "/tmp/st_bench_glob_XXXXXX";

static void touch(const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT, 0644);
    if (fd < 0) {
        perror(path);
        exit(1);
    }
    close(fd);
}

static void files(const char *dir, int n)
{
    static const char *const ext[] = {"c", "h", "txt", "o"};
    for (int i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof name, "f%03d.%s", i, ext[i % 4]);
        touch(dir, name);
    }
}

/* 12 x 12 x 8 directories; 40 files in each leaf, 10 in every other directory. */
static long make_tree(void)
{
    long entries = 0;
    char a[128], b[192], c[256]; /* each holds the one before and a segment */
    files(g_tree, 10);
    entries += 10;
    for (int i = 0; i < 12; i++) {
        snprintf(a, sizeof a, "%s/d%02d", g_tree, i);
        mkdir(a, 0755);
        files(a, 10);
        entries += 11;
        for (int j = 0; j < 12; j++) {
            snprintf(b, sizeof b, "%s/s%02d", a, j);
            mkdir(b, 0755);
            files(b, 10);
            entries += 11;
            for (int k = 0; k < 8; k++) {
                snprintf(c, sizeof c, "%s/l%d", b, k);
                mkdir(c, 0755);
                files(c, 40);
                entries += 41;
            }
        }
    }
    return entries;
}

static double min_d(double a, double b) { return a < b ? a : b; }

static double time_ours(const char *pattern, int flags, size_t *count)
{
    double t0 = bench_now();
    const char **v = st_glob_at(ST_GLOB_CWD, g_tree, pattern, flags);
    double t = bench_now() - t0;
    if (!v) {
        fprintf(stderr, "st_glob: %s\n", st_error_message());
        exit(1);
    }
    *count = st_strv_len(v);
    st_strv_free(v);
    return t;
}

static double time_find(size_t *count)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "find '%s' -name '*.c'", g_tree);
    double t0 = bench_now();
    FILE *p = popen(cmd, "r");
    char line[1024];
    size_t n = 0;
    while (p && fgets(line, sizeof line, p))
        n++;
    if (!p || pclose(p) != 0) {
        fprintf(stderr, "bench_glob: find failed\n");
        exit(1);
    }
    *count = n;
    return bench_now() - t0;
}

static double time_glibc(const char *pattern, size_t *count)
{
    glob_t g;
    double t0 = bench_now();
    int rc = glob(pattern, 0, NULL, &g);
    double t = bench_now() - t0;
    *count = rc == 0 ? g.gl_pathc : 0;
    if (rc == 0)
        globfree(&g);
    return t;
}

int main(void)
{
    if (!mkdtemp(g_tree)) {
        perror("mkdtemp");
        return 1;
    }
    double t0 = bench_now();
    long entries = make_tree();
    printf("tree: %ld entries in %s (built in %.1f s)\n", entries, g_tree, bench_now() - t0);

    size_t n_ours, n_nosort, n_find, n_glibc, n_ours3;
    time_find(&n_find); /* warm the caches */
    /* Interleaved, best of RUNS: the machine may be shared. */
    double ours = 1e9, nosort = 1e9, find = 1e9;
    for (int r = 0; r < RUNS; r++) {
        ours = min_d(ours, time_ours("**/*.c", ST_GLOB_RECURSIVE, &n_ours));
        nosort = min_d(nosort, time_ours("**/*.c", ST_GLOB_RECURSIVE | ST_GLOB_NOSORT, &n_nosort));
        find = min_d(find, time_find(&n_find));
    }
    double py = bench_python_seconds(PY, g_tree);
    printf("'**/*.c' recursive (%zu matches; find %zu):\n", n_ours, n_find);
    printf("  systools st_glob          %8.2f ms\n", ours * 1e3);
    printf("  systools ST_GLOB_NOSORT   %8.2f ms\n", nosort * 1e3);
    printf("  find -name '*.c'          %8.2f ms\n", find * 1e3);
    if (py > 0)
        printf("  CPython glob.glob         %8.2f ms\n", py * 1e3);
    else
        printf("  CPython glob.glob         (CPython 3.13 not available)\n");
    printf("  ratio st_glob/find: %.2fx (goal <= 1.0x); NOSORT/find: %.2fx\n", ours / find, nosort / find);
    if (py > 0)
        printf("  CPython/st_glob: %.1fx faster (goal >= 5x)\n", py / ours);

    if (chdir(g_tree) != 0)
        return 1;
    double glibc = 1e9, ours3 = 1e9;
    for (int r = 0; r < 4 * RUNS; r++) {
        glibc = min_d(glibc, time_glibc("*/*/*.c", &n_glibc));
        ours3 = min_d(ours3, time_ours("*/*/*.c", 0, &n_ours3));
    }
    printf("'*/*/*.c' (%zu matches; glibc %zu):\n", n_ours3, n_glibc);
    printf("  systools st_glob          %8.2f ms\n", ours3 * 1e3);
    printf("  glibc glob(3)             %8.2f ms\n", glibc * 1e3);
    printf("  ratio st_glob/glob(3): %.2fx (goal <= 1.0x)\n", ours3 / glibc);

    if (chdir("/") != 0)
        return 1;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tree);
    return system(cmd) == 0 ? 0 : 1;
}
