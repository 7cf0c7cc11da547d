/* fnmatch: a 20,000-name corpus matched against six patterns by our compiled patterns and
 * one-shot st_fnmatchcase(), glibc's fnmatch(3), and CPython 3.13's fnmatch.filter() (timed by
 * the interpreter itself); then the pathological (a*)^n b against 100 'a's for n = 1..20. */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "systools/systools.h"

#define NNAMES 20000
#define REPS 20

static const char *const PATTERNS[] = {"*.c", "file_1*.h", "src/mod?/*_2?.py", "*[0-9][0-9].txt",
                                       "*mod*file*c", "[!s]*"};
#define NPAT (sizeof PATTERNS / sizeof *PATTERNS)

static const char PY_CORPUS[] =
    "import fnmatch, sys, time\n"
    "names = open(sys.argv[1]).read().split('\\n')[:-1]\n"
    "pats = ['*.c', 'file_1*.h', 'src/mod?/*_2?.py', '*[0-9][0-9].txt', '*mod*file*c', '[!s]*']\n"
    "t = time.perf_counter()\n"
    "for _ in range(20):\n"
    "    for p in pats: fnmatch.filter(names, p)\n"
    "print(time.perf_counter() - t)\n";

static const char PY_PATHO[] =
    "import fnmatch, sys, time\n"
    "n = int(sys.argv[1]); pat = 'a*' * n + 'b'; name = 'a' * 100\n"
    "fnmatch.fnmatchcase(name, pat)\n"
    "t = time.perf_counter()\n"
    "for _ in range(2000): fnmatch.fnmatchcase(name, pat)\n"
    "print(time.perf_counter() - t)\n";

static char *write_temp(const char *tmpl, const char *text, size_t len)
{
    char *path = strdup(tmpl);
    int fd = path ? mkstemp(path) : -1;
    if (fd < 0 || write(fd, text, len) != (ssize_t)len) {
        perror("bench_fnmatch: temp file");
        exit(1);
    }
    close(fd);
    return path;
}

int main(void)
{
    static char *names[NNAMES];
    static const char *const exts[] = {"c", "h", "py", "txt", "md"};
    size_t total = 0;
    for (int i = 0; i < NNAMES; i++) {
        char buf[96];
        if (i % 10 == 0)
            snprintf(buf, sizeof buf, ".hidden_%d", i);
        else if (i % 3 == 0)
            snprintf(buf, sizeof buf, "file_%d.%s", i, exts[i % 5]);
        else
            snprintf(buf, sizeof buf, "src/mod%d/file_%d.%s", i % 17, i, exts[i % 5]);
        names[i] = strdup(buf);
        total += strlen(buf) + 1;
    }
    char *corpus = malloc(total + 1), *w = corpus;
    for (int i = 0; i < NNAMES; i++)
        w += sprintf(w, "%s\n", names[i]);
    char *names_file = write_temp("/tmp/st_bench_fnmatch_names_XXXXXX", corpus, (size_t)(w - corpus));

    double ours = 0, oneshot = 0, glibc = 0;
    long hits_ours = 0, hits_glibc = 0, hits_oneshot = 0;
    for (size_t p = 0; p < NPAT; p++) {
        st_fnmatch_pattern *cp = st_fnmatch_pattern_compile(PATTERNS[p], 0);
        double t0 = bench_now();
        for (int r = 0; r < REPS; r++)
            for (int i = 0; i < NNAMES; i++)
                hits_ours += st_fnmatch_pattern_match(cp, names[i]);
        ours += bench_now() - t0;
        st_fnmatch_pattern_free(cp);
        t0 = bench_now();
        for (int r = 0; r < REPS; r++)
            for (int i = 0; i < NNAMES; i++)
                hits_glibc += fnmatch(PATTERNS[p], names[i], 0) == 0;
        glibc += bench_now() - t0;
        t0 = bench_now();
        for (int i = 0; i < NNAMES; i++)
            hits_oneshot += st_fnmatchcase(names[i], PATTERNS[p]);
        oneshot += (bench_now() - t0) * REPS;
    }
    double calls = (double)REPS * NNAMES * NPAT;
    double py = bench_python_seconds(PY_CORPUS, names_file);
    printf("fnmatch corpus: %d names x %zu patterns x %d rounds (%ld matches; glibc %ld; one-shot %ld)\n",
           NNAMES, NPAT, REPS, hits_ours, hits_glibc, hits_oneshot * REPS);
    printf("  systools compiled   %7.1f ns/match\n", ours / calls * 1e9);
    printf("  systools one-shot   %7.1f ns/match (compiles each call)\n", oneshot / calls * 1e9);
    printf("  glibc fnmatch(3)    %7.1f ns/match\n", glibc / calls * 1e9);
    if (py > 0)
        printf("  CPython filter()    %7.1f ns/match\n", py / calls * 1e9);
    printf("  ratio compiled/glibc: %.2fx (goal <= 0.8x)\n", ours / glibc);
    if (py > 0)
        printf("  CPython/compiled: %.1fx faster (goal >= 15x)\n", py / ours);

    printf("\npathological (a*)^n b, and (*a)^n*b* (no literal prefix or suffix to reject early),\n"
           "against 100 'a's (ns per call; glibc stops once a call takes over 20 ms):\n");
    printf("   n   systools      glibc    CPython | systools      glibc\n");
    char name[101];
    memset(name, 'a', 100);
    name[100] = '\0';
    int glibc_alive[2] = {1, 1};
    for (int n = 1; n <= 20; n++) {
        char pats[2][96] = {"", ""};
        for (int k = 0; k < n; k++) {
            strcat(pats[0], "a*");
            strcat(pats[1], "*a");
        }
        strcat(pats[0], "b");
        strcat(pats[1], "*b*");
        double t_ours[2], t_glibc[2] = {-1, -1};
        for (int v = 0; v < 2; v++) {
            st_fnmatch_pattern *cp = st_fnmatch_pattern_compile(pats[v], 0);
            double t0 = bench_now();
            for (int r = 0; r < 20000; r++)
                if (st_fnmatch_pattern_match(cp, name))
                    return 1;
            t_ours[v] = (bench_now() - t0) / 20000;
            st_fnmatch_pattern_free(cp);
            if (glibc_alive[v]) { /* glibc backtracks */
                t0 = bench_now();
                int r = 0;
                do {
                    if (fnmatch(pats[v], name, 0) == 0)
                        return 1;
                    r++;
                } while (bench_now() - t0 < 0.01);
                t_glibc[v] = (bench_now() - t0) / r;
                glibc_alive[v] = t_glibc[v] < 0.02;
            }
        }
        char arg[8];
        snprintf(arg, sizeof arg, "%d", n);
        double t_py = n % 5 == 0 || n == 1 ? bench_python_seconds(PY_PATHO, arg) / 2000 : -1;
        printf("  %2d %10.0f ", n, t_ours[0] * 1e9);
        if (t_glibc[0] >= 0)
            printf("%10.0f ", t_glibc[0] * 1e9);
        else
            printf("%10s ", "(stopped)");
        if (t_py > 0)
            printf("%10.0f | ", t_py * 1e9);
        else
            printf("%10s | ", "-");
        printf("%8.0f ", t_ours[1] * 1e9);
        if (t_glibc[1] >= 0)
            printf("%10.0f\n", t_glibc[1] * 1e9);
        else
            printf("%10s\n", "(stopped)");
    }
    unlink(names_file);
    return 0;
}
