/* os.walk: st_os_walk_iterator over a generated tree in /tmp vs nftw(3) and vs CPython 3.13's os.walk
 * (timed inside the interpreter, read back through popen). Prints the best of several runs, the
 * ratios, and the peak-RSS growth of a walk for two tree sizes (it should stay flat: the walker
 * holds the pending work, not the tree). The tree is removed afterwards.
 *
 *   build/default/bench/bench_os_walk
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "systools/systools.h"

#define RUNS 5

static void die(const char *what)
{
    fprintf(stderr, "bench_os_walk: %s: %s\n", what, st_error_message()[0] ? st_error_message() : strerror(errno));
    exit(1);
}

/* dirs top-level directories, each with 9 subdirectories; files spread over the 10 levels-1/2
 * directories. Returns the number of entries (files + directories, the root excluded). */
static long make_tree(const char *root, int dirs, int files_per_dir)
{
    long entries = 0;
    if (st_os_mkdir(root, 0755) < 0)
        die("mkdir");
    for (int d = 0; d < dirs; d++) {
        for (int s = -1; s < 9; s++) {
            char path[256];
            if (s < 0)
                snprintf(path, sizeof path, "%s/dir%03d", root, d);
            else
                snprintf(path, sizeof path, "%s/dir%03d/sub%d", root, d, s);
            if (st_os_mkdir(path, 0755) < 0)
                die("mkdir");
            entries++;
            size_t len = strlen(path);
            for (int f = 0; f < files_per_dir; f++) {
                snprintf(path + len, sizeof path - len, "/file%04d.dat", f);
                int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
                if (fd < 0)
                    die("create");
                close(fd);
                entries++;
            }
            path[len] = '\0';
        }
    }
    return entries;
}

static void remove_tree(const char *root)
{
    st_os_walk_options o = ST_OS_WALK_OPTIONS_INIT;
    o.bottomup = 1;
    st_os_walk_iterator *w = st_os_fwalk(root, &o);
    st_os_walk_step *s;
    int rc;
    while ((rc = st_os_walk_iterator_next(w, &s)) > 0) {
        for (size_t i = 0; i < s->nfilenames; i++)
            unlinkat(s->dirfd, s->filenames[i], 0);
        for (size_t i = 0; i < s->ndirnames; i++)
            unlinkat(s->dirfd, s->dirnames[i], AT_REMOVEDIR);
    }
    st_os_walk_iterator_free(w);
    if (rc < 0 || rmdir(root) < 0)
        die("remove tree");
}

static long walk_ours(const char *root)
{
    st_os_walk_iterator *w = st_os_walk(root, NULL);
    st_os_walk_step *s;
    long n = 0;
    int rc;
    while ((rc = st_os_walk_iterator_next(w, &s)) > 0)
        n += (long)(s->ndirnames + s->nfilenames);
    st_os_walk_iterator_free(w);
    if (rc < 0)
        die("walk");
    return n;
}

static long g_nftw_count;
static int count_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)path, (void)sb, (void)flag;
    g_nftw_count += ftw->level > 0;
    return 0;
}

static long walk_nftw(const char *root)
{
    g_nftw_count = 0;
    if (nftw(root, count_entry, 64, FTW_PHYS) < 0)
        die("nftw");
    return g_nftw_count;
}

static double best_of(long (*fn)(const char *), const char *root, long want)
{
    double best = 1e9;
    for (int i = 0; i < RUNS; i++) {
        double t = bench_now();
        long n = fn(root);
        t = bench_now() - t;
        if (n != want) {
            fprintf(stderr, "bench_os_walk: counted %ld entries, expected %ld\n", n, want);
            exit(1);
        }
        best = t < best ? t : best;
    }
    return best;
}

/* CPython's best time, or a negative value when it is not available. */
static double best_python(const char *root, long want)
{
    char code[512];
    snprintf(code, sizeof code,
             "import os, sys, time\n"
             "best = 1e9\n"
             "for _ in range(%d):\n"
             "    t = time.perf_counter(); n = 0\n"
             "    for d, dn, fn in os.walk(sys.argv[1]): n += len(dn) + len(fn)\n"
             "    best = min(best, time.perf_counter() - t)\n"
             "print(best, n)",
             RUNS);
    char *out = bench_python(code, root, (const char *)NULL);
    double best = -1;
    long n = -1;
    if (!out || sscanf(out, "%lf %ld", &best, &n) != 2 || n != want)
        best = -1;
    st_free(out);
    return best;
}

/* Peak-RSS growth (KiB) of one walk, measured in a fresh child. */
static long walk_rss_growth(long (*fn)(const char *), const char *root)
{
    int fds[2];
    if (st_os_pipe(fds) < 0)
        die("pipe");
    pid_t pid = st_os_fork();
    if (pid == 0) {
        struct rusage a, b;
        getrusage(RUSAGE_SELF, &a);
        fn(root);
        getrusage(RUSAGE_SELF, &b);
        long grow = b.ru_maxrss - a.ru_maxrss;
        st_os_write(fds[1], &grow, sizeof grow);
        st_os__exit(0);
    }
    st_os_close(fds[1]);
    long grow = -1;
    if (st_os_read(fds[0], &grow, sizeof grow) != sizeof grow)
        grow = -1;
    st_os_close(fds[0]);
    st_os_waitpid(pid, NULL, 0);
    return grow;
}

int main(void)
{
    char root[] = "/tmp/st_bench_walk_XXXXXX";
    if (!mkdtemp(root))
        die("mkdtemp");
    char big[64], small[64];
    snprintf(big, sizeof big, "%s/big", root);
    snprintf(small, sizeof small, "%s/small", root);
    printf("generating trees in %s ...\n", root);
    long nbig = make_tree(big, 50, 99);     /* 500 directories + 49,500 files */
    long nsmall = make_tree(small, 10, 99); /* 100 directories + 9,900 files */
    walk_ours(big); /* warm the dentry cache for everyone */
    walk_nftw(big);

    double ours = best_of(walk_ours, big, nbig);
    double ref = best_of(walk_nftw, big, nbig);
    double pyt = best_python(big, nbig);
    printf("walk of %ld entries, best of %d runs:\n", nbig, RUNS);
    printf("  st_os_walk        %8.2f ms\n", ours * 1e3);
    printf("  nftw(FTW_PHYS)    %8.2f ms   st_os_walk / nftw    = %.2fx (goal <= 0.5x)\n", ref * 1e3, ours / ref);
    if (pyt >= 0)
        printf("  CPython os.walk   %8.2f ms   st_os_walk / CPython = %.2fx\n", pyt * 1e3, ours / pyt);
    else
        printf("  CPython os.walk   (CPython 3.13 not found)\n");

    printf("peak RSS growth of one walk (KiB), %ld vs %ld entries:\n", nsmall, nbig);
    printf("  st_os_walk        %6ld   %6ld\n", walk_rss_growth(walk_ours, small), walk_rss_growth(walk_ours, big));
    printf("  nftw              %6ld   %6ld\n", walk_rss_growth(walk_nftw, small), walk_rss_growth(walk_nftw, big));

    remove_tree(big);
    remove_tree(small);
    if (rmdir(root) < 0)
        die("rmdir");
    return 0;
}
