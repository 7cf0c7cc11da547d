/* sys.path lookup: st_sys_path_find() against a hand-written stat() loop over the same
 * directories, and against CPython doing the same search in Python. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"
#include "systools/sys.h"

#define NDIRS 8
#define ROUNDS 200000

static char g_dirs[NDIRS][64];

static char *hand_find(const char *name)
{
    struct stat st;
    char buf[256];
    for (int i = 0; i < NDIRS; i++) {
        if (snprintf(buf, sizeof buf, "%s/%s", g_dirs[i], name) >= (int)sizeof buf)
            continue; /* cannot name an existing file */
        if (stat(buf, &st) == 0)
            return strdup(buf);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    st_sys_init(argc, argv);
    char root[] = "/tmp/st_bench_sys_XXXXXX";
    if (!mkdtemp(root))
        return 1;
    for (int i = 0; i < NDIRS; i++) {
        snprintf(g_dirs[i], sizeof g_dirs[i], "%s/d%d", root, i);
        mkdir(g_dirs[i], 0700);
        st_sys_path_append(g_dirs[i]);
    }
    const char **initial = st_sys_path();
    st_sys_path_remove(initial[0]); /* only the bench dirs, as the anchor sees them */
    st_strv_free(initial);
    char target[128];
    snprintf(target, sizeof target, "%s/target.conf", g_dirs[NDIRS - 1]);
    close(open(target, O_CREAT | O_WRONLY, 0600));

    double t0 = bench_now();
    for (int i = 0; i < ROUNDS; i++)
        st_free(st_sys_path_find("target.conf"));
    double ours = bench_now() - t0;
    t0 = bench_now();
    for (int i = 0; i < ROUNDS; i++)
        free(hand_find("target.conf"));
    double hand = bench_now() - t0;

    const char *py = "import os, sys, time\n"
                     "root = sys.argv[1]\n"
                     "dirs = [os.path.join(root, 'd%d' % i) for i in range(8)]\n"
                     "def find(name):\n"
                     "    for d in dirs:\n"
                     "        p = os.path.join(d, name)\n"
                     "        if os.path.exists(p):\n"
                     "            return p\n"
                     "t = time.perf_counter()\n"
                     "for _ in range(200000): find('target.conf')\n"
                     "print(time.perf_counter() - t)\n";
    double cpy = bench_python_seconds(py, root);

    printf("sys.path find, %d lookups over %d dirs (hit in the last):\n", ROUNDS, NDIRS);
    printf("  st_sys_path_find  %.3f s\n  hand-written stat %.3f s   ratio ours/hand = %.2fx\n", ours, hand,
           ours / hand);
    if (cpy > 0)
        printf("  CPython 3.13      %.3f s   CPython/ours = %.2fx faster\n", cpy, cpy / ours);
    else
        printf("  CPython 3.13      not found, ratio skipped\n");

    unlink(target);
    for (int i = 0; i < NDIRS; i++)
        rmdir(g_dirs[i]);
    rmdir(root);
    return 0;
}
