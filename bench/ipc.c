/* Messages per second through a Connection: st_conn against CPython 3.13's
 * multiprocessing.Pipe() doing the same work, in two shapes:
 *   - loopback: one process sends on one end and receives on the other (framing cost alone);
 *   - ping-pong: a forked echo process returns every message (two context switches each);
 *   - stream: a forked process sends all messages, the parent receives them (throughput).
 * Messages are bytes (send_bytes/recv_bytes), and in a last loopback run whole values
 * (send/recv: a small dict, pickled with protocol 4 on both sides). Loopback is timed in process CPU time (user +
 * system) on both sides, so a busy machine skews it less; ping-pong in wall-clock time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <time.h>

#include "bench.h"
#include "systools/ipc.h"
#include "systools/value.h"

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double loopback(size_t size, int count)
{
    st_conn *a, *b;
    if (st_pipe_connection(&a, &b, 1) < 0)
        return -1;
    char *msg = calloc(1, size);
    double t0 = cpu_now();
    for (int i = 0; i < count; i++) {
        size_t len;
        st_conn_send_bytes(a, msg, size);
        st_free(st_conn_recv_bytes(b, ST_CONN_NO_LIMIT, &len));
    }
    double t = cpu_now() - t0;
    free(msg);
    st_conn_free(a);
    st_conn_free(b);
    return t;
}

#define VALUE_LITERAL "{'id': 12345, 'name': 'sensor-7', 'readings': [1.5, 2.25, 3.0], 'ok': True}"

static double loopback_values(int count)
{
    st_conn *a, *b;
    if (st_pipe_connection(&a, &b, 1) < 0)
        return -1;
    st_value *v = st_value_parse(VALUE_LITERAL);
    double t0 = cpu_now();
    for (int i = 0; i < count; i++) {
        st_conn_send(a, v);
        st_value_unref(st_conn_recv(b, -1));
    }
    double t = cpu_now() - t0;
    st_value_unref(v);
    st_conn_free(a);
    st_conn_free(b);
    return t;
}

static double pingpong(size_t size, int count)
{
    st_conn *a, *b;
    if (st_pipe_connection(&a, &b, 1) < 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        st_conn_free(a);
        size_t len;
        unsigned char *m;
        while ((m = st_conn_recv_bytes(b, ST_CONN_NO_LIMIT, &len)) != NULL) {
            st_conn_send_bytes(b, m, len);
            st_free(m);
        }
        _exit(0);
    }
    st_conn_free(b);
    char *msg = calloc(1, size);
    double t0 = bench_now();
    for (int i = 0; i < count; i++) {
        size_t len;
        st_conn_send_bytes(a, msg, size);
        st_free(st_conn_recv_bytes(a, ST_CONN_NO_LIMIT, &len));
    }
    double t = bench_now() - t0;
    free(msg);
    st_conn_free(a);
    waitpid(pid, NULL, 0);
    return t;
}

static double stream(size_t size, int count)
{
    st_conn *a, *b;
    if (st_pipe_connection(&a, &b, 1) < 0)
        return -1;
    double t0 = bench_now();
    pid_t pid = fork();
    if (pid == 0) {
        st_conn_free(a);
        char *msg = calloc(1, size);
        for (int i = 0; i < count; i++)
            st_conn_send_bytes(b, msg, size);
        _exit(0);
    }
    st_conn_free(b);
    for (int i = 0; i < count; i++) {
        size_t len;
        st_free(st_conn_recv_bytes(a, ST_CONN_NO_LIMIT, &len));
    }
    double t = bench_now() - t0;
    st_conn_free(a);
    waitpid(pid, NULL, 0);
    return t;
}

static const char PY[] =
    "import os, sys, time\n"
    "from multiprocessing import Pipe\n"
    "shape, size, count = sys.argv[1].split(',')\n"
    "size, count = int(size), int(count)\n"
    "a, b = Pipe()\n"
    "msg = bytes(size)\n"
    "if shape == 'values':\n"
    "    v = " VALUE_LITERAL "\n"
    "    t = time.process_time()\n"
    "    for _ in range(count):\n"
    "        a.send(v); b.recv()\n"
    "    t = time.process_time() - t\n"
    "elif shape == 'loop':\n"
    "    t = time.process_time()\n"
    "    for _ in range(count):\n"
    "        a.send_bytes(msg); b.recv_bytes()\n"
    "    t = time.process_time() - t\n"
    "elif shape == 'stream':\n"
    "    t = time.perf_counter()\n"
    "    pid = os.fork()\n"
    "    if pid == 0:\n"
    "        a.close()\n"
    "        for _ in range(count): b.send_bytes(msg)\n"
    "        os._exit(0)\n"
    "    b.close()\n"
    "    for _ in range(count): a.recv_bytes()\n"
    "    t = time.perf_counter() - t\n"
    "    os.waitpid(pid, 0)\n"
    "else:\n"
    "    pid = os.fork()\n"
    "    if pid == 0:\n"
    "        a.close()\n"
    "        try:\n"
    "            while True: b.send_bytes(b.recv_bytes())\n"
    "        except EOFError: os._exit(0)\n"
    "    b.close()\n"
    "    t = time.perf_counter()\n"
    "    for _ in range(count):\n"
    "        a.send_bytes(msg); a.recv_bytes()\n"
    "    t = time.perf_counter() - t\n"
    "    a.close(); os.waitpid(pid, 0)\n"
    "print(t)\n";

int main(void)
{
    char script[] = "/tmp/st_bench_ipc_py_XXXXXX";
    int fd = mkstemp(script);
    if (fd < 0 || write(fd, PY, sizeof PY - 1) != (ssize_t)(sizeof PY - 1))
        return 1;
    close(fd);
    struct {
        const char *shape;
        size_t size;
        int count;
    } runs[] = {{"loop", 16, 200000}, {"loop", 1024, 200000}, {"loop", 65536, 20000},
                {"pong", 16, 50000},  {"pong", 1024, 50000},  {"pong", 65536, 10000},
                {"stream", 16, 500000}, {"stream", 1024, 200000}, {"stream", 65536, 20000},
                {"values", 0, 200000}};
    printf("Connection messages per second, st_conn vs CPython 3.13 multiprocessing.Pipe():\n");
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        const char *shape = runs[i].shape;
        double ours = strcmp(shape, "loop") == 0     ? loopback(runs[i].size, runs[i].count)
                      : strcmp(shape, "pong") == 0   ? pingpong(runs[i].size, runs[i].count)
                      : strcmp(shape, "stream") == 0 ? stream(runs[i].size, runs[i].count)
                                                     : loopback_values(runs[i].count);
        char arg[64];
        snprintf(arg, sizeof arg, "%s,%zu,%d", runs[i].shape, runs[i].size, runs[i].count);
        double cpy = bench_python_seconds(script, arg);
        static const char *const names[][2] = {
            {"loop", "loopback"}, {"pong", "ping-pong"}, {"stream", "stream"}, {"values", "values"}};
        const char *name = shape;
        for (size_t k = 0; k < 4; k++)
            if (strcmp(shape, names[k][0]) == 0)
                name = names[k][1];
        printf("  %-9s %6zu B x %6d: ours %9.0f msg/s", name, runs[i].size,
               runs[i].count, runs[i].count / ours);
        if (cpy > 0)
            printf("   CPython %9.0f msg/s   ratio %.2fx\n", runs[i].count / cpy, cpy / ours);
        else
            printf("   (CPython 3.13 not found)\n");
    }
    unlink(script);
    return 0;
}
