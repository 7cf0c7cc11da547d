/* Messages per second through a Connection: st_connection against CPython 3.13's
 * multiprocessing.Pipe() doing the same work, and against a floor: hand-written C doing only
 * the unavoidable syscalls on the same kind of socketpair with the same framing (one write()
 * of a prebuilt header+payload per message; reads into one reused buffer, with read-ahead
 * where messages queue up). Shapes:
 *   - loopback: one process sends on one end and receives on the other (framing cost alone);
 *   - ping-pong: a forked echo process returns every message (two context switches each);
 *   - stream: a forked process sends all messages, the parent receives them (throughput).
 * Messages are bytes (send_bytes/recv_bytes; "into": loopback with recv_bytes_into and one
 * reused buffer on both sides), and in a last loopback run whole values
 * (send/recv: a small dict, pickled with protocol 4 on both sides; its floor moves frames of
 * the pickle's length). Every shape is timed in CPU time (user + system) of all the processes
 * involved, on all sides, so a busy machine (2 cores shared with other jobs) skews it less:
 * the work per message, not its latency (an idle wait costs nothing).
 * "x floor" is time per message over the floor's: CPython's column bounds the ratio any
 * implementation over these syscalls can reach.
 * Last, the round trip of a small message over an authenticated AF_UNIX connection
 * (Listener/Client with an authkey), C<->C against CPython<->CPython and against the raw
 * socketpair floor, and the cost of a handshake. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <time.h>

#include "bench.h"
#include "systools/error.h"
#include "systools/ipc.h"
#include "systools/pickle.h"
#include "systools/value.h"

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Reaps a child; returns the CPU time (user + system) it used. */
static double reap_cpu(pid_t pid)
{
    struct rusage ru;
    int status;
    if (wait4(pid, &status, 0, &ru) != pid)
        return 0;
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

static double loopback(size_t size, int count)
{
    st_connection *a, *b;
    if (st_ipc_pipe(&a, &b, 1) < 0)
        return -1;
    char *msg = calloc(1, size);
    double t0 = cpu_now();
    for (int i = 0; i < count; i++) {
        size_t len;
        st_connection_send_bytes(a, msg, size);
        st_free(st_connection_recv_bytes(b, ST_CONNECTION_NO_LIMIT, &len));
    }
    double t = cpu_now() - t0;
    free(msg);
    st_connection_free(a);
    st_connection_free(b);
    return t;
}

/* Loopback again, received with recv_bytes_into() into one reused buffer. */
static double loopback_into(size_t size, int count)
{
    st_connection *a, *b;
    if (st_ipc_pipe(&a, &b, 1) < 0)
        return -1;
    char *msg = calloc(1, size), *buf = malloc(size);
    double t0 = cpu_now();
    for (int i = 0; i < count; i++) {
        size_t len;
        st_connection_send_bytes(a, msg, size);
        st_connection_recv_bytes_into(b, buf, size, &len);
    }
    double t = cpu_now() - t0;
    free(msg);
    free(buf);
    st_connection_free(a);
    st_connection_free(b);
    return t;
}

#define VALUE_LITERAL "{'id': 12345, 'name': 'sensor-7', 'readings': [1.5, 2.25, 3.0], 'ok': True}"

static double loopback_values(int count)
{
    st_connection *a, *b;
    if (st_ipc_pipe(&a, &b, 1) < 0)
        return -1;
    st_value *v = st_value_parse(VALUE_LITERAL);
    double t0 = cpu_now();
    for (int i = 0; i < count; i++) {
        st_connection_send(a, v);
        st_value_unref(st_connection_recv(b, -1));
    }
    double t = cpu_now() - t0;
    st_value_unref(v);
    st_connection_free(a);
    st_connection_free(b);
    return t;
}

static double pingpong(size_t size, int count)
{
    st_connection *a, *b;
    if (st_ipc_pipe(&a, &b, 1) < 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        st_connection_free(a);
        size_t len;
        unsigned char *m;
        while ((m = st_connection_recv_bytes(b, ST_CONNECTION_NO_LIMIT, &len)) != NULL) {
            st_connection_send_bytes(b, m, len);
            st_free(m);
        }
        _exit(0);
    }
    st_connection_free(b);
    char *msg = calloc(1, size);
    double t0 = cpu_now();
    for (int i = 0; i < count; i++) {
        size_t len;
        st_connection_send_bytes(a, msg, size);
        st_free(st_connection_recv_bytes(a, ST_CONNECTION_NO_LIMIT, &len));
    }
    double t = cpu_now() - t0;
    free(msg);
    st_connection_free(a);
    t += reap_cpu(pid);
    return t;
}

static double stream(size_t size, int count)
{
    st_connection *a, *b;
    if (st_ipc_pipe(&a, &b, 1) < 0)
        return -1;
    double t0 = cpu_now();
    pid_t pid = fork();
    if (pid == 0) {
        st_connection_free(a);
        char *msg = calloc(1, size);
        for (int i = 0; i < count; i++)
            st_connection_send_bytes(b, msg, size);
        _exit(0);
    }
    st_connection_free(b);
    for (int i = 0; i < count; i++) {
        size_t len;
        st_free(st_connection_recv_bytes(a, ST_CONNECTION_NO_LIMIT, &len));
    }
    double t = cpu_now() - t0;
    st_connection_free(a);
    t += reap_cpu(pid);
    return t;
}

/* ---- the floor: the bare syscalls, same framing ------------------------------------------ */

static size_t be32(const unsigned char *h)
{
    return (size_t)h[0] << 24 | (size_t)h[1] << 16 | (size_t)h[2] << 8 | h[3];
}

/* A whole frame (header + zeroed payload), built once and sent with one write(). */
static unsigned char *raw_frame(size_t size)
{
    unsigned char *f = calloc(1, size + 4);
    for (int i = 0; i < 4; i++)
        f[i] = (unsigned char)(size >> (24 - 8 * i));
    return f;
}

static int raw_write(int fd, const unsigned char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads one frame into buf (big enough for it; only one frame is ever in flight here, so no
 * read-ahead is needed); returns the frame's whole length, or 0 at the end. */
static size_t raw_read_frame(int fd, unsigned char *buf, size_t cap)
{
    size_t have = 0;
    for (;;) {
        ssize_t r = read(fd, buf + have, cap - have);
        if (r <= 0)
            return 0;
        have += (size_t)r;
        if (have >= 4 && have >= 4 + be32(buf))
            return have;
    }
}

static double floor_loopback(size_t size, int count)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
        return -1;
    unsigned char *frame = raw_frame(size), *buf = malloc(size + 4);
    double t0 = cpu_now();
    for (int i = 0; i < count; i++) {
        raw_write(sv[0], frame, size + 4);
        raw_read_frame(sv[1], buf, size + 4);
    }
    double t = cpu_now() - t0;
    free(frame);
    free(buf);
    close(sv[0]);
    close(sv[1]);
    return t;
}

static double floor_pingpong(size_t size, int count)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
        return -1;
    unsigned char *frame = raw_frame(size), *buf = malloc(size + 4);
    pid_t pid = fork();
    if (pid == 0) {
        close(sv[0]);
        size_t n;
        while ((n = raw_read_frame(sv[1], buf, size + 4)) > 0)
            raw_write(sv[1], buf, n);
        _exit(0);
    }
    close(sv[1]);
    double t0 = cpu_now();
    for (int i = 0; i < count; i++) {
        raw_write(sv[0], frame, size + 4);
        raw_read_frame(sv[0], buf, size + 4);
    }
    double t = cpu_now() - t0;
    close(sv[0]);
    t += reap_cpu(pid);
    free(frame);
    free(buf);
    return t;
}

/* The receiver reads 64 KiB chunks (larger ones measured no faster) and only walks the frame
 * headers: the bytes leave the kernel once and are never copied again. */
static double floor_stream(size_t size, int count)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
        return -1;
    double t0 = cpu_now();
    pid_t pid = fork();
    if (pid == 0) {
        close(sv[0]);
        unsigned char *frame = raw_frame(size);
        for (int i = 0; i < count; i++)
            raw_write(sv[1], frame, size + 4);
        _exit(0);
    }
    close(sv[1]);
    enum { CHUNK = 1 << 16 };
    unsigned char *buf = malloc(CHUNK), hdr[4];
    size_t need = 0, hdr_have = 0;
    int got = 0;
    while (got < count) {
        ssize_t r = read(sv[0], buf, CHUNK);
        if (r <= 0)
            break;
        for (const unsigned char *p = buf, *end = buf + r; p < end;) {
            if (need) {
                size_t take = need < (size_t)(end - p) ? need : (size_t)(end - p);
                need -= take;
                p += take;
                got += need == 0;
            } else {
                hdr[hdr_have++] = *p++;
                if (hdr_have == 4) {
                    hdr_have = 0;
                    need = be32(hdr);
                    got += need == 0;
                }
            }
        }
    }
    double t = cpu_now() - t0;
    close(sv[0]);
    t += reap_cpu(pid);
    free(buf);
    return t;
}

/* ---- authenticated connections: Listener/Client with an authkey --------------------------- */

#define AUTHKEY "bench key"
#define AUTH_MSG 16

/* A listener on a fresh path (Python's arbitrary address) and a forked client process that
 * runs `child` on the connections it makes. */
static st_listener *auth_listener(void)
{
    st_listener_options o = ST_LISTENER_OPTIONS_INIT;
    o.authkey = AUTHKEY;
    o.authkey_len = sizeof AUTHKEY - 1;
    o.backlog = 64;
    return st_listener_new(NULL, &o);
}

static st_connection *auth_client(const st_listener *l)
{
    st_ipc_client_options o = ST_IPC_CLIENT_OPTIONS_INIT;
    o.authkey = AUTHKEY;
    o.authkey_len = sizeof AUTHKEY - 1;
    return st_ipc_client(st_listener_address(l), &o);
}

/* Round trips of a small message over an authenticated AF_UNIX connection, C to C: a forked
 * client echoes; CPU time of both processes, as ping-pong above. */
static double auth_pingpong(int count)
{
    st_listener *l = auth_listener();
    if (!l)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        st_connection *c = auth_client(l);
        size_t len;
        unsigned char *m;
        while (c && (m = st_connection_recv_bytes(c, ST_CONNECTION_NO_LIMIT, &len)) != NULL) {
            st_connection_send_bytes(c, m, len);
            st_free(m);
        }
        _exit(0);
    }
    st_connection *c = st_listener_accept(l);
    if (!c)
        return -1;
    char msg[AUTH_MSG] = {0};
    double t0 = cpu_now();
    for (int i = 0; i < count; i++) {
        size_t len;
        st_connection_send_bytes(c, msg, sizeof msg);
        st_free(st_connection_recv_bytes(c, ST_CONNECTION_NO_LIMIT, &len));
    }
    double t = cpu_now() - t0;
    st_connection_free(c);
    t += reap_cpu(pid);
    st_listener_free(l);
    return t;
}

/* Handshakes: a forked client connects `count` times with the key; wall time per connection
 * as a user meets it (both sides' HMACs, the random challenges, four messages each way). */
static double auth_handshakes(int count)
{
    st_listener *l = auth_listener();
    if (!l)
        return -1;
    double t0 = bench_now();
    pid_t pid = fork();
    if (pid == 0) {
        for (int i = 0; i < count; i++)
            st_connection_free(auth_client(l));
        _exit(0);
    }
    for (int i = 0; i < count; i++)
        st_connection_free(st_listener_accept(l));
    reap_cpu(pid);
    double t = bench_now() - t0;
    st_listener_free(l);
    return t;
}

static const char PY_AUTH[] =
    "import os, sys, time, tempfile\n"
    "from multiprocessing.connection import Listener, Client\n"
    "shape, count = sys.argv[1].split(',')\n"
    "count = int(count)\n"
    "key = b'" AUTHKEY "'\n"
    "with tempfile.TemporaryDirectory() as d:\n"
    "    l = Listener(os.path.join(d, 's'), authkey=key, backlog=64)\n"
    "    if shape == 'pong':\n"
    "        pid = os.fork()\n"
    "        if pid == 0:\n"
    "            c = Client(l.address, authkey=key)\n"
    "            try:\n"
    "                while True: c.send_bytes(c.recv_bytes())\n"
    "            except EOFError: os._exit(0)\n"
    "        c = l.accept()\n"
    "        msg = bytes(16)\n"
    "        t = time.process_time()\n"
    "        for _ in range(count):\n"
    "            c.send_bytes(msg); c.recv_bytes()\n"
    "        t = time.process_time() - t\n"
    "        c.close()\n"
    "        ru = os.wait4(pid, 0)[2]; t += ru.ru_utime + ru.ru_stime\n"
    "    else:\n"
    "        t = time.monotonic()\n"
    "        pid = os.fork()\n"
    "        if pid == 0:\n"
    "            for _ in range(count): Client(l.address, authkey=key).close()\n"
    "            os._exit(0)\n"
    "        for _ in range(count): l.accept().close()\n"
    "        os.waitpid(pid, 0)\n"
    "        t = time.monotonic() - t\n"
    "    l.close()\n"
    "print(t)\n";

static void bench_authenticated(void)
{
    printf("\nAuthenticated AF_UNIX connections (Listener/Client with an authkey, %d-byte messages):\n",
           AUTH_MSG);
    int count = 50000;
    double ours = auth_pingpong(count);
    if (ours < 0) {
        printf("  (no authenticated connections: %s)\n", st_error_message());
        return;
    }
    double floor_t = floor_pingpong(AUTH_MSG, count);
    char arg[64];
    snprintf(arg, sizeof arg, "pong,%d", count);
    double cpy = bench_python_seconds(PY_AUTH, arg);
    printf("  round trip x %d: C<->C %.2f us  raw socketpair, same framing %.2f us  "
           "-> %.2fx the raw socketpair (goal: within 1.2x)\n",
           count, ours / count * 1e6, floor_t / count * 1e6, ours / floor_t);
    if (cpy > 0)
        printf("  round trip x %d: CPython<->CPython %.2f us -> C<->C is %.2fx faster (goal: >= 2x;\n"
               "    CPython is %.2fx the raw socketpair, the most any implementation can gain here)\n",
               count, cpy / count * 1e6, cpy / ours, cpy / floor_t);
    else
        printf("  (CPython 3.13 not found: no CPython<->CPython round trip)\n");
    int hs = 2000;
    double hours = auth_handshakes(hs);
    snprintf(arg, sizeof arg, "handshake,%d", hs);
    double hcpy = bench_python_seconds(PY_AUTH, arg);
    printf("  handshake (connect + both challenges) x %d: C<->C %.1f us", hs, hours / hs * 1e6);
    if (hcpy > 0)
        printf("  CPython<->CPython %.1f us  -> %.2fx faster\n", hcpy / hs * 1e6, hcpy / hours);
    else
        printf("\n");
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
    "elif shape == 'into':\n"
    "    buf = bytearray(size)\n"
    "    t = time.process_time()\n"
    "    for _ in range(count):\n"
    "        a.send_bytes(msg); b.recv_bytes_into(buf)\n"
    "    t = time.process_time() - t\n"
    "elif shape == 'loop':\n"
    "    t = time.process_time()\n"
    "    for _ in range(count):\n"
    "        a.send_bytes(msg); b.recv_bytes()\n"
    "    t = time.process_time() - t\n"
    "elif shape == 'stream':\n"
    "    t = time.process_time()\n"
    "    pid = os.fork()\n"
    "    if pid == 0:\n"
    "        a.close()\n"
    "        for _ in range(count): b.send_bytes(msg)\n"
    "        os._exit(0)\n"
    "    b.close()\n"
    "    for _ in range(count): a.recv_bytes()\n"
    "    t = time.process_time() - t\n"
    "    ru = os.wait4(pid, 0)[2]; t += ru.ru_utime + ru.ru_stime\n"
    "else:\n"
    "    pid = os.fork()\n"
    "    if pid == 0:\n"
    "        a.close()\n"
    "        try:\n"
    "            while True: b.send_bytes(b.recv_bytes())\n"
    "        except EOFError: os._exit(0)\n"
    "    b.close()\n"
    "    t = time.process_time()\n"
    "    for _ in range(count):\n"
    "        a.send_bytes(msg); a.recv_bytes()\n"
    "    t = time.process_time() - t\n"
    "    a.close()\n"
    "    ru = os.wait4(pid, 0)[2]; t += ru.ru_utime + ru.ru_stime\n"
    "print(t)\n";

int main(void)
{
    struct {
        const char *shape;
        size_t size;
        int count;
    } runs[] = {{"loop", 16, 200000}, {"loop", 1024, 200000}, {"loop", 65536, 20000},
                {"pong", 16, 50000},  {"pong", 1024, 50000},  {"pong", 65536, 10000},
                {"stream", 16, 500000}, {"stream", 1024, 200000}, {"stream", 65536, 20000},
                {"into", 16, 200000}, {"into", 65536, 20000}, {"values", 0, 200000}};
    st_value *v = st_value_parse(VALUE_LITERAL);
    unsigned char *pickled;
    size_t pickled_len = 0;
    if (v && st_pickle_dumps(v, ST_PICKLE_DEFAULT_PROTOCOL, &pickled, &pickled_len) == 0)
        st_free(pickled);
    st_value_unref(v);
    printf("Connection messages per second: st_connection, CPython 3.13 multiprocessing.Pipe(), and the\n"
           "floor (bare write/read syscalls, same framing); \"x floor\" = time over the floor's\n");
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        const char *shape = runs[i].shape;
        size_t size = runs[i].size;
        int count = runs[i].count;
        double ours, floor_t;
        if (strcmp(shape, "loop") == 0) {
            ours = loopback(size, count);
            floor_t = floor_loopback(size, count);
        } else if (strcmp(shape, "into") == 0) {
            ours = loopback_into(size, count);
            floor_t = floor_loopback(size, count);
        } else if (strcmp(shape, "pong") == 0) {
            ours = pingpong(size, count);
            floor_t = floor_pingpong(size, count);
        } else if (strcmp(shape, "stream") == 0) {
            ours = stream(size, count);
            floor_t = floor_stream(size, count);
        } else {
            ours = loopback_values(count);
            floor_t = floor_loopback(size = pickled_len, count);
        }
        char arg[64];
        snprintf(arg, sizeof arg, "%s,%zu,%d", shape, runs[i].size, count);
        double cpy = bench_python_seconds(PY, arg);
        static const char *const names[][2] = {
            {"loop", "loopback"}, {"pong", "ping-pong"}, {"stream", "stream"}, {"into", "into"},
            {"values", "values"}};
        const char *name = shape;
        for (size_t k = 0; k < 5; k++)
            if (strcmp(shape, names[k][0]) == 0)
                name = names[k][1];
        printf("  %-9s %5zu B x %6d: ours %7.0f/s  floor %7.0f/s", name, size, count, count / ours,
               count / floor_t);
        if (cpy > 0)
            printf("  CPython %7.0f/s  ratio %.2fx  x floor: ours %.2f CPython %.2f\n", count / cpy,
                   cpy / ours, ours / floor_t, cpy / floor_t);
        else
            printf("  (CPython 3.13 not found)  x floor: ours %.2f\n", ours / floor_t);
    }
    printf("(The floor is the least work these syscalls allow: beyond noise, \"ratio\" cannot exceed\n"
           " CPython's \"x floor\" for a shape.)\n");
    bench_authenticated();
    return 0;
}
