/* path: normpath(), join() and relpath() over a fixed set of paths, against CPython 3.13 doing
 * the same calls (its normpath is C code, _path_normpath; join and relpath are Python). */
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "systools/path.h"

#define ROUNDS 200000

static const char *const PATHS[] = {
    "/usr/local/lib/../lib64/./libsystools.so", "a//b/c/../../d/", "//net/share/x/./y",
    "../../x/y/z/../w",                         "/",                "relative/path/to/file.txt",
    "////a/b/../../../c",                       "",
};
#define NPATHS (sizeof PATHS / sizeof *PATHS)

static const char PY[] =
    "import posixpath as P, sys, time\n"
    "paths = ['/usr/local/lib/../lib64/./libsystools.so', 'a//b/c/../../d/', '//net/share/x/./y',\n"
    "         '../../x/y/z/../w', '/', 'relative/path/to/file.txt', '////a/b/../../../c', '']\n"
    "what = sys.argv[1]\n"
    "n = P.normpath; j = P.join; r = P.relpath\n"
    "t = time.perf_counter()\n"
    "if what == 'normpath':\n"
    "    for _ in range(200000):\n"
    "        for p in paths: n(p)\n"
    "elif what == 'join':\n"
    "    for _ in range(200000):\n"
    "        for p in paths: j('/srv/data', p, 'tail.txt')\n"
    "else:\n"
    "    for _ in range(20000):\n"
    "        for p in paths[:-1]: r(p, '/usr/share/doc')\n"
    "print(time.perf_counter() - t)\n";

static double run(const char *what)
{
    double t0 = bench_now();
    if (!strcmp(what, "normpath")) {
        for (int i = 0; i < ROUNDS; i++)
            for (size_t k = 0; k < NPATHS; k++)
                st_free(st_path_normpath(PATHS[k]));
    } else if (!strcmp(what, "join")) {
        for (int i = 0; i < ROUNDS; i++)
            for (size_t k = 0; k < NPATHS; k++)
                st_free(st_path_join("/srv/data", PATHS[k], "tail.txt", (char *)NULL));
    } else {
        for (int i = 0; i < ROUNDS / 10; i++)
            for (size_t k = 0; k + 1 < NPATHS; k++)
                st_free(st_path_relpath(PATHS[k], "/usr/share/doc"));
    }
    return bench_now() - t0;
}

int main(void)
{
    static const char *const what[] = {"normpath", "join", "relpath"};
    printf("path: %d rounds over %zu paths (relpath: %d rounds)\n", ROUNDS, NPATHS, ROUNDS / 10);
    for (size_t i = 0; i < 3; i++) {
        double ours = run(what[i]);
        double cpy = bench_python_seconds(PY, what[i]);
        printf("  %-9s ours %.3f s", what[i], ours);
        if (cpy > 0)
            printf("   CPython 3.13 %.3f s   CPython/ours = %.2fx\n", cpy, cpy / ours);
        else
            printf("   (CPython 3.13 not found: no ratio)\n");
    }
    return 0;
}
