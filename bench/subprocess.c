/* subprocess: spawn+wait of /bin/true through st_subprocess_call() against raw posix_spawn()+waitpid(),
 * the same from a parent holding 1 GiB of touched memory (with fork+exec for contrast), against
 * CPython's subprocess.run() loop; then 256 MiB in and out of cat with communicate() against
 * a hand-written poll loop and CPython's communicate(), and a 3-stage pipeline against the
 * shell's (`bench_subprocess throughput` runs that part alone). */
#include <fcntl.h>
#include <poll.h>
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
    qsort(a, n, sizeof *a, bench_cmp_double);
    qsort(b, n, sizeof *b, bench_cmp_double);
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

/* ---- throughput: 256 MiB in and out of cat, and a 3-stage pipeline --------------------------- */

#define BIG ((size_t)256 << 20)

static double our_communicate(const char *data)
{
    st_popen_options o = ST_POPEN_OPTIONS_INIT;
    o.stdin_fd = o.stdout_fd = ST_SUBPROCESS_PIPE;
    const char *cat[] = {"cat", NULL};
    double t0 = bench_now();
    st_popen *p = st_popen_new(cat, &o);
    st_completed_process r;
    if (!p || st_popen_communicate(p, data, BIG, ST_NO_TIMEOUT, &r) < 0 || r.stdout_len != BIG)
        die("communicate");
    double t = bench_now() - t0;
    st_completed_process_free(&r);
    st_popen_free(p);
    return t;
}

/* The fastest plain loop we could write: the same cat through posix_spawn, both pipes widened
 * to the size communicate uses, non-blocking writes of a pipe's worth, reads straight into a
 * buffer of the final size (it knows the size; communicate does not). */
static double hand_loop(const char *data, size_t pipe_size)
{
    double t0 = bench_now();
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
        exit(1);
    fcntl(in[1], F_SETPIPE_SZ, (int)pipe_size);
    fcntl(out[0], F_SETPIPE_SZ, (int)pipe_size);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    static const char *const cat[] = {"/bin/cat", NULL};
    pid_t pid;
    if (posix_spawn(&pid, "/bin/cat", &fa, NULL, st__exec_argv(cat), environ) != 0)
        exit(1);
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    close(out[1]);
    fcntl(in[1], F_SETFL, O_NONBLOCK);
    char *buf = malloc(BIG + 1);
    if (!buf)
        exit(1);
    size_t off = 0, got = 0;
    int wfd = in[1], rfd = out[0];
    while (rfd >= 0) {
        struct pollfd pf[2] = {{rfd, POLLIN, 0}, {wfd, POLLOUT, 0}};
        if (poll(pf, wfd >= 0 ? 2 : 1, -1) < 0)
            continue;
        if (wfd >= 0 && pf[1].revents) {
            size_t chunk = BIG - off < pipe_size ? BIG - off : pipe_size;
            ssize_t w = write(wfd, data + off, chunk);
            if (w > 0 && (off += (size_t)w) == BIG) {
                close(wfd);
                wfd = -1;
            }
        }
        if (pf[0].revents) {
            ssize_t r = read(rfd, buf + got, BIG + 1 - got);
            if (r == 0) {
                close(rfd);
                rfd = -1;
            } else if (r > 0) {
                got += (size_t)r;
            }
        }
    }
    waitpid(pid, NULL, 0);
    double t = bench_now() - t0;
    if (got != BIG)
        exit(1);
    free(buf);
    return t;
}

static double python_communicate(void)
{
    const char *py = "import subprocess, sys, time\n"
                     "from subprocess import Popen, PIPE\n"
                     "n = int(sys.argv[1]); data = b'x' * n; best = 1e9\n"
                     "for _ in range(3):\n"
                     "    t = time.perf_counter()\n"
                     "    p = Popen(['cat'], stdin=PIPE, stdout=PIPE)\n"
                     "    out, _ = p.communicate(data)\n"
                     "    best = min(best, time.perf_counter() - t)\n"
                     "    assert len(out) == n\n"
                     "print(best)\n";
    char arg[32];
    snprintf(arg, sizeof arg, "%zu", BIG);
    return bench_python_seconds(py, arg);
}

static double our_pipeline(int devnull)
{
    static const char *const head[] = {"head", "-c", "268435456", "/dev/zero", NULL};
    static const char *const cat[] = {"cat", NULL};
    const char *const *const cmds[] = {head, cat, cat};
    st_popen_options o = ST_POPEN_OPTIONS_INIT;
    o.stdout_fd = ST_SUBPROCESS_FD(devnull);
    st_subprocess_pipeline_options po = ST_SUBPROCESS_PIPELINE_OPTIONS_INIT;
    po.popen = &o;
    po.check = 1;
    double t0 = bench_now();
    if (st_subprocess_pipeline(cmds, 3, &po, NULL, NULL, NULL) < 0)
        die("pipeline");
    return bench_now() - t0;
}

static double shell_pipeline(void)
{
    const char *shell[] = {"/bin/sh", "-c", "head -c 268435456 /dev/zero | cat | cat > /dev/null",
                           NULL};
    int rc;
    double t0 = bench_now();
    if (st_subprocess_call(shell, NULL, &rc) < 0 || rc != 0)
        die("head | cat | cat");
    return bench_now() - t0;
}

static double min2(double a, double b) { return a < b ? a : b; }

/* Best of 5, taken in turn, so that load from elsewhere hits every contender alike. */
static void throughput(void)
{
    char *data = malloc(BIG);
    if (!data)
        exit(1);
    memset(data, 'x', BIG);
    int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (devnull < 0)
        exit(1);
    /* The size communicate widens its pipes to (what the kernel grants this user). */
    int probe[2];
    if (pipe2(probe, O_CLOEXEC) < 0)
        exit(1);
    int granted = fcntl(probe[0], F_SETPIPE_SZ, 1 << 20);
    size_t pipe_size = granted > 0 ? (size_t)granted : 65536;
    close(probe[0]);
    close(probe[1]);
    double comm = 1e9, hand = 1e9, pipe_ours = 1e9, pipe_sh = 1e9;
    for (int i = 0; i < 5; i++) {
        comm = min2(comm, our_communicate(data));
        hand = min2(hand, hand_loop(data, pipe_size));
        pipe_ours = min2(pipe_ours, our_pipeline(devnull));
        pipe_sh = min2(pipe_sh, shell_pipeline());
    }
    double py = python_communicate();
    double mb = (double)BIG / 1e6;
    printf("256 MiB in and out of cat (best of 5; pipes of %zu KiB):\n", pipe_size / 1024);
    printf("  st_popen_communicate      %7.0f MB/s\n", mb / comm);
    printf("  hand-written poll loop    %7.0f MB/s   ours/hand = %.2fx (goal >= 0.9x)\n",
           mb / hand, hand / comm);
    if (py > 0)
        printf("  CPython 3.13 (best of 3)  %7.0f MB/s   ours/CPython = %.2fx (goal >= 3x)\n",
               mb / py, py / comm);
    else
        printf("  CPython 3.13: not available\n");
    printf("head -c 256M /dev/zero | cat | cat > /dev/null (best of 5):\n");
    printf("  st_subprocess_pipeline    %7.0f MB/s\n", mb / pipe_ours);
    printf("  /bin/sh                   %7.0f MB/s   ours/shell = %.2fx (goal >= 0.9x)\n",
           mb / pipe_sh, pipe_sh / pipe_ours);
    close(devnull);
    free(data);
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "throughput") == 0) { /* that part alone */
        throughput();
        return 0;
    }
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

    throughput();
    return 0;
}
