/* subprocess: spawn+wait of /bin/true through st_subprocess_call() against raw posix_spawn()+waitpid(),
 * the same from a parent holding 1 GiB of touched memory (with fork+exec for contrast), against
 * CPython's subprocess.run() loop, and communicate() throughput against `cat | cat`. */
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "internal/exec.h"
#include "systools/error.h"
#include "systools/subprocess.h"

extern char **environ;

static const char *const true_argv[] = {"/bin/true", NULL};

static void die(const char *what)
{
    fprintf(stderr, "%s: %s\n", what, st_error_message());
    exit(1);
}

static double raw_spawn(void)
{
    double t0 = bench_now();
    pid_t pid;
    int status;
    if (posix_spawn(&pid, "/bin/true", NULL, NULL, st__exec_argv(true_argv), environ) != 0)
        exit(1);
    waitpid(pid, &status, 0);
    return bench_now() - t0;
}

static double our_spawn(void)
{
    double t0 = bench_now();
    int rc;
    if (st_subprocess_call(true_argv, NULL, &rc) < 0 || rc != 0)
        die("st_subprocess_call");
    return bench_now() - t0;
}

static double fork_spawns(int n)
{
    double t0 = bench_now();
    for (int i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            execve("/bin/true", st__exec_argv(true_argv), environ);
            _exit(127);
        }
        waitpid(pid, NULL, 0);
    }
    return (bench_now() - t0) / n;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* One of each in turn, so load from elsewhere hits both alike; medians resist the outliers. */
static void spawn_pair(int n, double *ours, double *raw)
{
    double *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    if (!a || !b)
        exit(1);
    for (int i = 0; i < n; i++) {
        a[i] = raw_spawn();
        b[i] = our_spawn();
    }
    qsort(a, n, sizeof *a, cmp_double);
    qsort(b, n, sizeof *b, cmp_double);
    *raw = a[n / 2];
    *ours = b[n / 2];
    free(a);
    free(b);
}

static double python_run_loop(int n)
{
    const char *py = "import subprocess, sys, time\n"
                     "n = int(sys.argv[1])\n"
                     "subprocess.run(['/bin/true'])\n"
                     "t = time.perf_counter()\n"
                     "for _ in range(n): subprocess.run(['/bin/true'])\n"
                     "print((time.perf_counter() - t) / n)\n";
    char arg[32];
    snprintf(arg, sizeof arg, "%d", n);
    return bench_python_seconds(py, arg);
}

int main(void)
{
    double ours, raw;
    spawn_pair(50, &ours, &raw); /* warm up the page cache and the dynamic loader */
    spawn_pair(2000, &ours, &raw);
    printf("spawn+wait /bin/true (median of 2000, alternating):\n");
    printf("  st_subprocess_call                  %7.1f us\n", ours * 1e6);
    printf("  raw posix_spawn+waitpid  %7.1f us   ratio ours/raw = %.3fx (goal <= 1.05x)\n",
           raw * 1e6, ours / raw);

    double py = python_run_loop(1000);
    if (py > 0)
        printf("  CPython 3.13 subprocess.run %7.1f us   CPython/ours = %.2fx\n", py * 1e6, py / ours);
    else
        printf("  CPython 3.13: not available\n");

    size_t big = (size_t)1 << 30;
    char *mem = malloc(big);
    if (!mem)
        return 1;
    memset(mem, 1, big); /* touched: every page is mapped */
    double ours_big, raw_big;
    spawn_pair(1000, &ours_big, &raw_big);
    double fork_big = fork_spawns(20);
    printf("with 1 GiB of touched memory in the parent:\n");
    printf("  st_subprocess_call                  %7.1f us   ratio to small parent = %.3fx (goal <= 1.1x)\n",
           ours_big * 1e6, ours_big / ours);
    printf("  raw posix_spawn+waitpid  %7.1f us   ratio to small parent = %.3fx\n", raw_big * 1e6,
           raw_big / raw);
    printf("  fork+exec+waitpid        %7.1f us   fork/ours = %.1fx\n", fork_big * 1e6,
           fork_big / ours_big);
    free(mem);

    /* communicate: 256 MiB in and out of cat, against the same bytes through `cat | cat`. */
    size_t n = (size_t)256 << 20;
    char *data = malloc(n);
    if (!data)
        return 1;
    memset(data, 'x', n);
    st_popen_options o = ST_POPEN_OPTIONS_INIT;
    o.stdin_fd = o.stdout_fd = ST_SUBPROCESS_PIPE;
    const char *cat[] = {"cat", NULL};
    double t0 = bench_now();
    st_popen *p = st_popen_new(cat, &o);
    st_completed_process r;
    if (!p || st_popen_communicate(p, data, n, ST_NO_TIMEOUT, &r) < 0 || r.stdout_len != n)
        die("communicate");
    double comm = bench_now() - t0;
    st_completed_process_free(&r);
    st_popen_free(p);
    free(data);
    const char *shell[] = {"/bin/sh", "-c", "head -c 268435456 /dev/zero | cat | cat > /dev/null", NULL};
    int rc;
    t0 = bench_now();
    if (st_subprocess_call(shell, NULL, &rc) < 0 || rc != 0)
        die("cat | cat");
    double anchor = bench_now() - t0;
    printf("256 MiB through cat:\n");
    printf("  st_popen_communicate      %7.0f MB/s\n", n / comm / 1e6);
    printf("  head | cat | cat         %7.0f MB/s   ratio ours/anchor throughput = %.2fx\n",
           n / anchor / 1e6, anchor / comm);
    return 0;
}
