/* ipc: the thread queue (4 producers x 100k items), and Pipe connections: framing, errors,
 * limits, fork, and a live CPython 3.13 peer using multiprocessing.connection.Connection(fd);
 * listeners and clients with the authkey handshake, against live CPython 3.13 and 3.11 peers. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "internal/ipc.h"
#include "support/support.h"
#include "ipc_queue.h"
#include "systools/common.h"
#include "systools/error.h"
#include "systools/ipc.h"
#include "systools/value.h"

/* ---- queue ------------------------------------------------------------------------------- */

static void bump(void *arg) { (*(int *)arg)++; }

static void test_queue_basics(void **state)
{
    (void)state;
    st_queue *q = st_queue_new();
    assert_non_null(q);
    st_queue_item it;
    /* Empty: get_nowait and a timed get raise queue.Empty; the timed one waits its time. */
    assert_int_equal(st_queue_get_nowait(q, &it), -1);
    assert_int_equal(st_error_code(), ST_ETIMEOUT);
    assert_string_equal(st_error_last()->type, "queue.Empty");
    double t0 = st_test_now();
    assert_int_equal(st_queue_get(q, 0.05, &it), -1);
    double waited = st_test_now() - t0;
    assert_true(waited >= 0.045 && waited < 2.0);
    assert_string_equal(st_error_last()->type, "queue.Empty");

    int calls = 0;
    assert_int_equal(st_queue_put_steal(q, st_value_int(1)), 0);
    assert_int_equal(st_queue_put_callback(q, bump, &calls), 0);
    assert_int_equal(st_queue_put_steal(q, st_value_str("two")), 0);
    assert_int_equal(st_queue_qsize(q), 3);
    assert_int_equal(st_queue_put_callback(q, NULL, NULL), -1);
    assert_int_equal(st_error_code(), ST_EVALUE);
    assert_int_equal(st_queue_put_steal(q, NULL), -1); /* a failed constructor passes through */

    /* FIFO, values handed over, callbacks given back to run. */
    assert_int_equal(st_queue_get(q, -1, &it), 0);
    int64_t i64;
    assert_non_null(it.value);
    assert_null(it.fn);
    assert_int_equal(st_value_as_int64(it.value, &i64), 0);
    assert_int_equal(i64, 1);
    st_value_unref(it.value);
    assert_int_equal(st_queue_get_nowait(q, &it), 0);
    assert_null(it.value);
    assert_ptr_equal(it.fn, bump);
    it.fn(it.arg);
    assert_int_equal(calls, 1);

    /* shutdown(q, 0) is Queue.shutdown(): no more puts, what is queued still comes out, then
     * ShutDown instead of waiting. */
    st_queue_shutdown(q, 0);
    assert_int_equal(st_queue_put_steal(q, st_value_int(3)), -1);
    assert_int_equal(st_error_code(), ST_ESTATE);
    assert_string_equal(st_error_last()->type, "queue.ShutDown");
    assert_int_equal(st_queue_put_callback(q, bump, &calls), -1);
    assert_int_equal(st_queue_get(q, -1, &it), 0);
    assert_string_equal(st_value_str_data(it.value, NULL), "two");
    st_value_unref(it.value);
    assert_int_equal(st_queue_get(q, -1, &it), -1);
    assert_string_equal(st_error_last()->type, "queue.ShutDown");
    assert_int_equal(st_queue_get_nowait(q, &it), -1);
    assert_int_equal(st_error_code(), ST_ESTATE);
    st_queue_free(q);

    /* Freeing a queue releases the items left in it (ASan checks the leak). */
    q = st_queue_new();
    assert_non_null(q);
    for (int i = 0; i < 200; i++) /* more than one ring growth, wrapped */
        assert_int_equal(st_queue_put_steal(q, st_value_int(i)), 0);
    for (int i = 0; i < 150; i++) {
        assert_int_equal(st_queue_get_nowait(q, &it), 0);
        assert_int_equal(st_value_as_int64(it.value, &i64), 0);
        assert_int_equal(i64, i);
        st_value_unref(it.value);
    }
    for (int i = 0; i < 100; i++)
        assert_int_equal(st_queue_put_steal(q, st_value_int(200 + i)), 0);
    assert_int_equal(st_queue_qsize(q), 150);
    for (int i = 150; i < 220; i++) {
        assert_int_equal(st_queue_get_nowait(q, &it), 0);
        assert_int_equal(st_value_as_int64(it.value, &i64), 0);
        assert_int_equal(i64, i);
        st_value_unref(it.value);
    }
    assert_int_equal(st_queue_put_callback(q, bump, &calls), 0); /* a callback's storage too */
    st_queue_free(q);
    assert_int_equal(calls, 1);
    st_queue_free(NULL);
}

/* Appends what a queue call gave to a transcript: the value's repr, or the error's type. */
static void note(char *log, size_t cap, int rc, const st_queue_item *it)
{
    size_t n = strlen(log);
    if (rc < 0) {
        snprintf(log + n, cap - n, "%s ", st_error_last()->type);
        return;
    }
    if (!it) { /* a put: Python's None */
        snprintf(log + n, cap - n, "None ");
        return;
    }
    char *r = st_value_repr(it->value);
    snprintf(log + n, cap - n, "%s ", r);
    st_free(r);
    st_value_unref(it->value);
}

/* Queue.shutdown(immediate) both ways, call for call against CPython 3.13's queue.Queue:
 * puts fail, gets drain what is left (immediate=False) or fail at once (immediate=True), an
 * immediate shutdown after a plain one still drops the items. */
static void test_queue_shutdown(void **state)
{
    (void)state;
    char got[512] = "";
    st_queue_item it;
    for (int immediate = 0; immediate < 2; immediate++) {
        st_queue *q = st_queue_new();
        assert_non_null(q);
        assert_int_equal(st_queue_put_steal(q, st_value_int(1)), 0);
        assert_int_equal(st_queue_put_steal(q, st_value_int(2)), 0);
        st_queue_shutdown(q, immediate);
        size_t n = strlen(got);
        snprintf(got + n, sizeof got - n, "%zu ", st_queue_qsize(q));
        note(got, sizeof got, st_queue_put_steal(q, st_value_int(3)), NULL);
        note(got, sizeof got, st_queue_get(q, ST_NO_TIMEOUT, &it), &it);
        note(got, sizeof got, st_queue_get(q, 0, &it), &it);
        note(got, sizeof got, st_queue_get_nowait(q, &it), &it);
        note(got, sizeof got, st_queue_get(q, ST_NO_TIMEOUT, &it), &it);
        note(got, sizeof got, st_queue_get(q, 0.01, &it), &it);
        st_queue_free(q);
    }
    st_queue *q = st_queue_new();
    assert_non_null(q);
    assert_int_equal(st_queue_put_steal(q, st_value_int(1)), 0);
    st_queue_shutdown(q, 0);
    st_queue_shutdown(q, 1);
    size_t n = strlen(got);
    snprintf(got + n, sizeof got - n, "%zu", st_queue_qsize(q));
    st_queue_free(q);

    /* The error codes alone tell ShutDown from Empty. */
    q = st_queue_new();
    assert_non_null(q);
    assert_int_equal(st_queue_get_nowait(q, &it), -1);
    assert_int_equal(st_error_code(), ST_ETIMEOUT);
    st_queue_shutdown(q, 1);
    assert_int_equal(st_queue_get_nowait(q, &it), -1);
    assert_int_equal(st_error_code(), ST_ESTATE);
    assert_int_equal(st_queue_get(q, 0.01, &it), -1);
    assert_int_equal(st_error_code(), ST_ESTATE);
    assert_int_equal(st_queue_drain(q, 10, NULL, NULL), 0);
    st_queue_free(q);

    /* An immediate shutdown releases the values (ASan checks the leak) and drops the
     * callbacks without running them. */
    q = st_queue_new();
    assert_non_null(q);
    int calls = 0;
    for (int i = 0; i < 100; i++) /* wrapped in a grown ring */
        assert_int_equal(st_queue_put_steal(q, st_value_str("x")), 0);
    for (int i = 0; i < 70; i++) {
        assert_int_equal(st_queue_get_nowait(q, &it), 0);
        st_value_unref(it.value);
    }
    for (int i = 0; i < 40; i++)
        assert_int_equal(st_queue_put_steal(q, st_value_int(i)), 0);
    assert_int_equal(st_queue_put_callback(q, bump, &calls), 0);
    st_queue_shutdown(q, 1);
    assert_int_equal(st_queue_qsize(q), 0);
    assert_int_equal(st_queue_get(q, ST_NO_TIMEOUT, &it), -1);
    assert_string_equal(st_error_last()->type, "queue.ShutDown");
    assert_int_equal(st_queue_put_callback(q, bump, &calls), -1);
    assert_int_equal(st_error_code(), ST_ESTATE);
    assert_int_equal(calls, 0);
    st_queue_free(q);

    char *want = pyref_eval(
        "import queue\n"
        "out = []\n"
        "def note(f):\n"
        "    try:\n"
        "        out.append(repr(f()))\n"
        "    except Exception as e:\n"
        "        out.append(type(e).__module__ + '.' + type(e).__qualname__)\n"
        "for imm in (False, True):\n"
        "    q = queue.Queue()\n"
        "    q.put(1); q.put(2)\n"
        "    q.shutdown(immediate=imm)\n"
        "    out.append(str(q.qsize()))\n"
        "    note(lambda: q.put(3))\n"
        "    note(lambda: q.get())\n"
        "    note(lambda: q.get(timeout=0))\n"
        "    note(lambda: q.get_nowait())\n"
        "    note(lambda: q.get())\n"
        "    note(lambda: q.get(timeout=0.01))\n"
        "q = queue.Queue()\n"
        "q.put(1)\n"
        "q.shutdown()\n"
        "q.shutdown(immediate=True)\n"
        "out.append(str(q.qsize()))\n"
        "print(' '.join(out))");
    if (!want)
        return;
    assert_string_equal(got, want);
    free(want);
}

typedef struct shutdown_job {
    st_queue *q;
    int immediate;
} shutdown_job;

static void *shutdown_later(void *arg)
{
    const shutdown_job *job = arg;
    struct timespec d = {0, 50 * 1000 * 1000};
    nanosleep(&d, NULL);
    st_queue_shutdown(job->q, job->immediate);
    return NULL;
}

/* A taker waiting for ever, or with a timeout too long for a time_t deadline, is woken by
 * either kind of shutdown with ShutDown, not Empty, and not left hanging. */
static void test_queue_shutdown_wakes_waiter(void **state)
{
    (void)state;
    for (int immediate = 0; immediate < 2; immediate++) {
        for (int forever = 0; forever < 2; forever++) {
            st_queue *q = st_queue_new();
            assert_non_null(q);
            shutdown_job job = {q, immediate};
            pthread_t t;
            assert_int_equal(pthread_create(&t, NULL, shutdown_later, &job), 0);
            st_queue_item it;
            assert_int_equal(st_queue_get(q, forever ? ST_NO_TIMEOUT : 1e300, &it), -1);
            assert_int_equal(st_error_code(), ST_ESTATE);
            assert_string_equal(st_error_last()->type, "queue.ShutDown");
            pthread_join(t, NULL);
            st_queue_free(q);
        }
    }
}

#define PRODUCERS 4
#define PER_PRODUCER 100000

typedef struct producer {
    st_queue *q;
    int id;
    int failures;
} producer;

static void *produce(void *arg)
{
    producer *p = arg;
    for (int64_t i = 0; i < PER_PRODUCER; i++)
        if (st_queue_put_steal(p->q, st_value_int((int64_t)p->id * PER_PRODUCER + i)) < 0)
            p->failures++;
    return NULL;
}

static void test_queue_producers(void **state)
{
    (void)state;
    st_queue *q = st_queue_new();
    assert_non_null(q);
    pthread_t threads[PRODUCERS];
    producer prods[PRODUCERS];
    for (int i = 0; i < PRODUCERS; i++) {
        prods[i] = (producer){q, i, 0};
        assert_int_equal(pthread_create(&threads[i], NULL, produce, &prods[i]), 0);
    }
    /* Every item exactly once, each producer's items in the order it put them. */
    int64_t next[PRODUCERS] = {0};
    for (long n = 0; n < (long)PRODUCERS * PER_PRODUCER; n++) {
        st_queue_item it;
        assert_int_equal(st_queue_get(q, 30.0, &it), 0);
        int64_t v;
        assert_int_equal(st_value_as_int64(it.value, &v), 0);
        st_value_unref(it.value);
        int who = (int)(v / PER_PRODUCER);
        assert_true(who >= 0 && who < PRODUCERS);
        assert_int_equal(v % PER_PRODUCER, next[who]);
        next[who]++;
    }
    for (int i = 0; i < PRODUCERS; i++) {
        pthread_join(threads[i], NULL);
        assert_int_equal(prods[i].failures, 0);
        assert_int_equal(next[i], PER_PRODUCER);
    }
    assert_int_equal(st_queue_qsize(q), 0);
    st_queue_free(q);
}

typedef struct drained {
    int64_t sum;
    int count;
} drained;

static void on_value(void *ctx, st_value *v)
{
    drained *d = ctx;
    int64_t i;
    if (st_value_as_int64(v, &i) == 0)
        d->sum += i;
    d->count++;
}

static void slow_callback(void *arg)
{
    struct timespec d = {0, 20 * 1000 * 1000};
    nanosleep(&d, NULL);
    (*(int *)arg)++;
}

static void test_queue_drain(void **state)
{
    (void)state;
    st_queue *q = st_queue_new();
    assert_non_null(q);
    drained d = {0, 0};
    assert_int_equal(st_queue_drain(q, 10, on_value, &d), 0); /* empty: returns at once */
    int calls = 0;
    for (int i = 1; i <= 10; i++)
        assert_int_equal(st_queue_put_steal(q, st_value_int(i)), 0);
    assert_int_equal(st_queue_put_callback(q, bump, &calls), 0);
    assert_int_equal(st_queue_drain(q, 1000, on_value, &d), 11);
    assert_int_equal(d.count, 10);
    assert_int_equal(d.sum, 55);
    assert_int_equal(calls, 1);
    /* The budget is honoured: 20 ms callbacks, a 50 ms budget: about three run. */
    for (int i = 0; i < 10; i++)
        assert_int_equal(st_queue_put_callback(q, slow_callback, &calls), 0);
    size_t n = st_queue_drain(q, 50, NULL, NULL);
    assert_true(n >= 1 && n <= 4);
    assert_int_equal(st_queue_qsize(q), 10 - n);
    /* NULL handler: values are just released. */
    assert_int_equal(st_queue_put_steal(q, st_value_int(7)), 0);
    assert_int_equal(st_queue_drain(q, 5000, NULL, NULL), 10 - n + 1);
    assert_int_equal(calls, 11);
    st_queue_free(q);
}

/* ---- connections ------------------------------------------------------------------------- */

static void recv_expect(st_connection *c, const void *want, size_t want_len)
{
    size_t len = 12345;
    unsigned char *got = st_connection_recv_bytes(c, ST_CONNECTION_NO_LIMIT, &len);
    assert_non_null(got);
    assert_int_equal(len, want_len);
    if (want_len)
        assert_memory_equal(got, want, want_len);
    assert_int_equal(got[len], 0);
    st_free(got);
}

static void test_conn_duplex(void **state)
{
    (void)state;
    st_connection *a, *b;
    assert_int_equal(st_ipc_pipe(&a, &b, 1), 0);
    assert_true(st_connection_fileno(a) >= 0);
    assert_true(fcntl(st_connection_fileno(a), F_GETFD) & FD_CLOEXEC);
    assert_int_equal(st_connection_poll(a, 0), 0);
    double t0 = st_test_now();
    assert_int_equal(st_connection_poll(a, 0.05), 0);
    assert_true(st_test_now() - t0 >= 0.045);
    /* Both directions; empty messages; several messages in flight at once. */
    assert_int_equal(st_connection_send_bytes(a, "hello", 5), 0);
    assert_int_equal(st_connection_send_bytes(a, NULL, 0), 0);
    assert_int_equal(st_connection_send_bytes(a, "x", 1), 0);
    assert_int_equal(st_connection_poll(b, -1), 1);
    recv_expect(b, "hello", 5);
    recv_expect(b, "", 0);
    assert_int_equal(st_connection_poll(b, 0), 1); /* already read ahead: still reported */
    recv_expect(b, "x", 1);
    assert_int_equal(st_connection_poll(b, 0), 0);
    assert_int_equal(st_connection_send_bytes(b, "back", 4), 0);
    recv_expect(a, "back", 4);

    /* The exact bytes on the wire: 4-byte big-endian length. */
    assert_int_equal(st_connection_send_bytes(a, "abc", 3), 0);
    unsigned char raw[16];
    assert_int_equal(read(st_connection_fileno(b), raw, sizeof raw), 7);
    assert_memory_equal(raw, "\0\0\0\3abc", 7);
    /* The long form (-1, then an 8-byte length), as Python writes beyond 0x7fffffff bytes,
     * is read whatever the length. */
    assert_int_equal(write(st_connection_fileno(a), "\xff\xff\xff\xff\0\0\0\0\0\0\0\2hi", 14), 14);
    recv_expect(b, "hi", 2);

    /* maxlength: a longer message is "bad message length", and a duplex end then stops
     * receiving (as Python), while it can still send. */
    assert_int_equal(st_connection_send_bytes(a, "0123456789", 10), 0);
    assert_null(st_connection_recv_bytes(b, 9, NULL));
    assert_string_equal(st_error_message(), "bad message length");
    assert_string_equal(st_error_last()->type, "OSError");
    assert_null(st_connection_recv_bytes(b, ST_CONNECTION_NO_LIMIT, NULL));
    assert_string_equal(st_error_message(), "connection is write-only");
    assert_int_equal(st_connection_send_bytes(b, "ok", 2), 0);
    recv_expect(a, "ok", 2);

    /* Peer closes: a clean EOFError, never a hang; poll reports it as readable. */
    st_connection_free(b);
    assert_int_equal(st_connection_poll(a, 5.0), 1);
    assert_null(st_connection_recv_bytes(a, ST_CONNECTION_NO_LIMIT, NULL));
    assert_int_equal(st_error_code(), ST_EEOF);
    assert_string_equal(st_error_last()->type, "EOFError");
    /* Sending to it: BrokenPipeError, not SIGPIPE. */
    assert_int_equal(st_connection_send_bytes(a, "late", 4), -1);
    assert_int_equal(st_error_errno(), EPIPE);
    assert_string_equal(st_error_last()->type, "BrokenPipeError");

    assert_int_equal(st_connection_close(a), 0);
    assert_true(st_connection_closed(a));
    assert_int_equal(st_connection_close(a), 0);
    assert_int_equal(st_connection_fileno(a), -1);
    assert_string_equal(st_error_message(), "handle is closed");
    assert_int_equal(st_connection_send_bytes(a, "x", 1), -1);
    assert_null(st_connection_recv_bytes(a, ST_CONNECTION_NO_LIMIT, NULL));
    assert_int_equal(st_connection_poll(a, 0), -1);
    assert_string_equal(st_error_message(), "handle is closed");
    st_connection_free(a);
    st_connection_free(NULL);
}

static void expect_closed_error(void)
{
    assert_int_equal(st_error_code(), ST_ESTATE);
    assert_string_equal(st_error_last()->type, "OSError");
    assert_string_equal(st_error_message(), "handle is closed");
}

/* After close() the object stays: closed() says 1 and every other call fails with Python's
 * OSError "handle is closed", each one raising it afresh (never a stale error). */
static void test_conn_closed(void **state)
{
    (void)state;
    st_connection *a, *b;
    assert_int_equal(st_ipc_pipe(&a, &b, 1), 0);
    assert_int_equal(st_connection_closed(a), 0);
    /* Leave a message waiting in the read-ahead and one too long for recv_bytes_into():
     * close() releases both (ASan checks). */
    assert_int_equal(st_connection_send_bytes(b, "0123456789", 10), 0);
    assert_int_equal(st_connection_send_bytes(b, "x", 1), 0);
    unsigned char buf[16];
    size_t len;
    assert_int_equal(st_connection_poll(a, ST_NO_TIMEOUT), 1);
    assert_int_equal(st_connection_recv_bytes_into(a, buf, 4, &len), -1);
    assert_int_equal(st_connection_close(a), 0);
    assert_int_equal(st_connection_closed(a), 1);
    assert_int_equal(st_connection_close(a), 0);
    assert_int_equal(st_connection_closed(a), 1);

    st_value *v = st_value_int(1);
    st_error_clear();
    assert_int_equal(st_connection_fileno(a), -1);
    expect_closed_error();
    st_error_clear();
    assert_int_equal(st_connection_set_max_message_size(a, 10), -1);
    expect_closed_error();
    st_error_clear();
    assert_int_equal(st_connection_send_bytes(a, "x", 1), -1);
    expect_closed_error();
    st_error_clear();
    assert_int_equal(st_connection_send(a, v), -1);
    expect_closed_error();
    st_error_clear();
    assert_null(st_connection_recv_bytes(a, ST_CONNECTION_NO_LIMIT, &len));
    expect_closed_error();
    st_error_clear();
    assert_int_equal(st_connection_recv_bytes_into(a, buf, sizeof buf, &len), -1);
    expect_closed_error();
    st_error_clear();
    assert_null(st_connection_recv(a, 0));
    expect_closed_error();
    st_error_clear();
    assert_null(st_connection_recv(a, ST_NO_TIMEOUT));
    expect_closed_error();
    st_error_clear();
    assert_int_equal(st_connection_poll(a, 0), -1);
    expect_closed_error();
    st_error_clear();
    assert_int_equal(st_connection_poll(a, ST_NO_TIMEOUT), -1);
    expect_closed_error();
    st_value_unref(v);
    st_connection_free(a);
    st_connection_free(b);
    assert_int_equal(st_connection_close(NULL), 0);
    st_connection_free(NULL);
}

/* Leaves an EOFError behind, as an earlier unrelated failure would. */
static void leave_stale_error(void)
{
    st_connection *r, *w;
    assert_int_equal(st_ipc_pipe(&r, &w, 0), 0);
    st_connection_free(w);
    assert_null(st_connection_recv_bytes(r, ST_CONNECTION_NO_LIMIT, NULL));
    assert_int_equal(st_error_code(), ST_EEOF);
    st_connection_free(r);
}

/* st_connection_recv() with a timeout: its code alone tells a timeout (ST_ETIMEOUT) from the
 * peer's end (ST_EEOF) from a failure (here ST_ESTATE), on a socket pair and on a pipe, with
 * an unrelated error left over from before each call. poll() answers 1/0/-1 the same way. */
static void test_conn_recv_outcomes(void **state)
{
    (void)state;
    for (int duplex = 0; duplex < 2; duplex++) {
        st_connection *r, *w;
        assert_int_equal(st_ipc_pipe(&r, &w, duplex), 0);
        st_value *v = st_value_str("hi");
        assert_int_equal(st_connection_send(w, v), 0);
        assert_int_equal(st_connection_poll(r, 0), 1);
        st_value *back = st_connection_recv(r, 0);
        assert_non_null(back);
        assert_int_equal(st_value_equal(v, back), 1);
        st_value_unref(back);
        st_value_unref(v);

        leave_stale_error();
        assert_int_equal(st_connection_poll(r, 0), 0); /* sets no error: the return says it */
        assert_int_equal(st_error_code(), ST_EEOF);
        double t0 = st_test_now();
        assert_null(st_connection_recv(r, 0)); /* 0 just checks */
        assert_true(st_test_now() - t0 < 1.0);
        assert_int_equal(st_error_code(), ST_ETIMEOUT);
        assert_string_equal(st_error_last()->type, "TimeoutError");

        st_connection_free(w);
        leave_stale_error();
        assert_int_equal(st_connection_poll(r, ST_NO_TIMEOUT), 1); /* the end is "readable" */
        st_error_clear();
        assert_null(st_connection_recv(r, 0));
        assert_int_equal(st_error_code(), ST_EEOF);
        assert_string_equal(st_error_last()->type, "EOFError");
        assert_null(st_connection_recv(r, ST_NO_TIMEOUT));
        assert_int_equal(st_error_code(), ST_EEOF);

        /* The -1 path of poll(): a write-only end, then a closed one. */
        if (!duplex) {
            st_connection *r2, *w2;
            assert_int_equal(st_ipc_pipe(&r2, &w2, 0), 0);
            st_error_clear();
            assert_int_equal(st_connection_poll(w2, 0), -1);
            assert_int_equal(st_error_code(), ST_ESTATE);
            assert_string_equal(st_error_last()->type, "OSError");
            assert_string_equal(st_error_message(), "connection is write-only");
            assert_null(st_connection_recv(w2, 0));
            assert_int_equal(st_error_code(), ST_ESTATE);
            st_connection_free(r2);
            st_connection_free(w2);
        }
        assert_int_equal(st_connection_close(r), 0);
        leave_stale_error();
        assert_int_equal(st_connection_poll(r, 0), -1);
        expect_closed_error();
        st_connection_free(r);
    }
}

/* The header bytes for lengths on both sides of 0x7fffffff, checked against CPython's own
 * struct packing in Connection._send_bytes (sending 2 GiB for real is too big for a test). */
static void test_frame_header(void **state)
{
    (void)state;
    static const size_t lens[] = {0, 5, 16384, 0x7fffffffu, (size_t)0x80000000u, (size_t)0x123456789abull};
    unsigned char hdr[ST__FRAME_HEADER_MAX];
    assert_int_equal(st__conn_frame_header(0x7fffffffu, hdr), 4);
    assert_memory_equal(hdr, "\x7f\xff\xff\xff", 4);
    assert_int_equal(st__conn_frame_header((size_t)0x80000000u, hdr), 12);
    assert_memory_equal(hdr, "\xff\xff\xff\xff\0\0\0\0\x80\0\0\0", 12);
    char code[512];
    size_t n = sizeof lens / sizeof lens[0];
    int w = snprintf(code, sizeof code, "import struct\nfor n in [");
    for (size_t i = 0; i < n; i++)
        w += snprintf(code + w, sizeof code - (size_t)w, "%zu,", lens[i]);
    snprintf(code + w, sizeof code - (size_t)w,
             "]:\n print((struct.pack('!i', -1) + struct.pack('!Q', n) if n > 0x7fffffff"
             " else struct.pack('!i', n)).hex(), end=' ')");
    char *want = pyref_eval(code);
    if (!want)
        return;
    char got[512] = "";
    size_t g = 0;
    for (size_t i = 0; i < n; i++) {
        size_t hl = st__conn_frame_header(lens[i], hdr);
        for (size_t k = 0; k < hl; k++)
            g += (size_t)snprintf(got + g, sizeof got - g, "%02x", hdr[k]);
        g += (size_t)snprintf(got + g, sizeof got - g, " ");
    }
    got[g - 1] = '\0'; /* pyref_eval strips nothing but a newline: drop our trailing space too */
    size_t wl = strlen(want);
    if (wl && want[wl - 1] == ' ')
        want[wl - 1] = '\0';
    assert_string_equal(got, want);
    free(want);
}

static void test_conn_simplex(void **state)
{
    (void)state;
    st_connection *r, *w;
    assert_int_equal(st_ipc_pipe(&r, &w, 0), 0);
    assert_int_equal(st_connection_send_bytes(r, "x", 1), -1);
    assert_string_equal(st_error_message(), "connection is read-only");
    assert_null(st_connection_recv_bytes(w, ST_CONNECTION_NO_LIMIT, NULL));
    assert_string_equal(st_error_message(), "connection is write-only");
    assert_int_equal(st_connection_poll(w, 0), -1);
    assert_int_equal(st_connection_send_bytes(w, "one way", 7), 0);
    recv_expect(r, "one way", 7);

    /* A read-only end that gets an oversized frame is closed (it can do nothing else). */
    assert_int_equal(st_connection_send_bytes(w, "0123456789", 10), 0);
    st_connection_set_max_message_size(r, 4);
    assert_null(st_connection_recv_bytes(r, ST_CONNECTION_NO_LIMIT, NULL));
    assert_string_equal(st_error_message(), "bad message length");
    assert_true(st_connection_closed(r));
    st_connection_free(r);

    /* Reader gone on a pipe: BrokenPipeError, SIGPIPE swallowed. */
    assert_int_equal(st_connection_send_bytes(w, "late", 4), -1);
    assert_int_equal(st_error_errno(), EPIPE);
    sigset_t pending;
    sigpending(&pending);
    assert_false(sigismember(&pending, SIGPIPE));
    st_connection_free(w);

    /* Connection(handle) argument checks. */
    assert_null(st_connection_new(-1, 1, 1));
    assert_string_equal(st_error_message(), "invalid handle");
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    close(fds[1]);
    assert_null(st_connection_new(fds[0], 0, 0));
    assert_string_equal(st_error_message(), "at least one of `readable` and `writable` must be True");
    assert_int_equal(fcntl(fds[0], F_GETFD), -1); /* owned, so closed */
}

static void test_conn_malformed(void **state)
{
    (void)state;
    st_connection *a, *b;
    /* A header claiming 2 GiB, 10 bytes, then the writer goes: the reader fails with
     * "got end of file during message" having allocated next to nothing (ASan would object
     * to a 2 GiB allocation attempt by default). */
    assert_int_equal(st_ipc_pipe(&a, &b, 0), 0);
    assert_int_equal(write(st_connection_fileno(b), "\x7f\xff\xff\xf0" "0123456789", 14), 14);
    st_connection_free(b);
    assert_null(st_connection_recv_bytes(a, ST_CONNECTION_NO_LIMIT, NULL));
    assert_string_equal(st_error_message(), "got end of file during message");
    assert_string_equal(st_error_last()->type, "OSError");
    st_connection_free(a);
    /* The same with the 8-byte form claiming 2**62: a length a 32-bit machine cannot hold is
     * os.read()'s OverflowError there, as 2**63 is everywhere; the next receive then takes
     * what follows for a header, as Python does. */
    for (int shift = 62; shift <= 63; shift++) {
        assert_int_equal(st_ipc_pipe(&a, &b, 0), 0);
        unsigned char frame[15] = {0xff, 0xff, 0xff, 0xff, (unsigned char)(1u << (shift - 56)), 0, 0, 0,
                                   0, 0, 0, 0, 'x', 'y', 'z'};
        assert_int_equal(write(st_connection_fileno(b), frame, sizeof frame), sizeof frame);
        st_connection_free(b);
        assert_null(st_connection_recv_bytes(a, ST_CONNECTION_NO_LIMIT, NULL));
        if (shift == 62 && sizeof(ssize_t) == 8) {
            assert_string_equal(st_error_message(), "got end of file during message");
        } else {
            assert_int_equal(st_error_code(), ST_EOVERFLOW);
            assert_string_equal(st_error_message(), "Python int too large to convert to C ssize_t");
            assert_null(st_connection_recv_bytes(a, ST_CONNECTION_NO_LIMIT, NULL));
            assert_string_equal(st_error_message(), "got end of file during message");
        }
        st_connection_free(a);
    }
    /* A cut header. */
    assert_int_equal(st_ipc_pipe(&a, &b, 0), 0);
    assert_int_equal(write(st_connection_fileno(b), "\0\0", 2), 2);
    st_connection_free(b);
    assert_null(st_connection_recv_bytes(a, ST_CONNECTION_NO_LIMIT, NULL));
    assert_string_equal(st_error_message(), "got end of file during message");
    /* The cut bytes are gone then: the next receive sees the clean end, as in Python. */
    assert_null(st_connection_recv_bytes(a, ST_CONNECTION_NO_LIMIT, NULL));
    assert_int_equal(st_error_code(), ST_EEOF);
    st_connection_free(a);
    /* A negative length other than -1. */
    assert_int_equal(st_ipc_pipe(&a, &b, 1), 0);
    assert_int_equal(write(st_connection_fileno(b), "\xff\xff\xff\xfe", 4), 4);
    assert_null(st_connection_recv_bytes(a, ST_CONNECTION_NO_LIMIT, NULL));
    assert_string_equal(st_error_message(), "bad message length");
    /* With a limit set, an oversized claim fails at once, before any payload arrives. */
    st_connection_set_max_message_size(b, 1 << 20);
    assert_int_equal(write(st_connection_fileno(a), "\x10\0\0\0", 4), 4);
    assert_null(st_connection_recv_bytes(b, ST_CONNECTION_NO_LIMIT, NULL));
    assert_string_equal(st_error_message(), "bad message length");
    st_connection_free(a);
    st_connection_free(b);
}

/* Sizes for the mixed-size runs: mostly small, some medium, a few of 16 MiB. */
static size_t mixed_size(unsigned i)
{
    if (i % 2500 == 1249)
        return 16u << 20;
    if (i % 97 == 0)
        return 65536 + i * 13 % 300000;
    return i * 7919 % 2000;
}

static void fill_pattern(unsigned char *p, size_t n, unsigned seed)
{
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        p[i] = (unsigned char)(x >> 16);
    }
}

/* Frames of sizes around the read-ahead's thresholds (16 KiB: handed over instead of
 * copied; 65 KiB: the buffer's capacity), several in flight at once, written by hand in one
 * go or byte-dribbled, on a socket pair and on a pipe; and recv() timeouts both ways. */
static void test_conn_read_ahead(void **state)
{
    (void)state;
    static const size_t sizes[] = {16383, 16384, 5, 20000, 66559, 66560, 66561, 0, 3, 70000, 16385, 1};
    size_t nsizes = sizeof sizes / sizeof sizes[0], total = 0;
    for (size_t i = 0; i < nsizes; i++)
        total += 4 + sizes[i];
    unsigned char *wire = malloc(total), *p = wire;
    assert_non_null(wire);
    for (size_t i = 0; i < nsizes; i++) {
        unsigned char hdr[ST__FRAME_HEADER_MAX];
        assert_int_equal(st__conn_frame_header(sizes[i], hdr), 4);
        memcpy(p, hdr, 4);
        fill_pattern(p + 4, sizes[i], (unsigned)i);
        p += 4 + sizes[i];
    }
    for (int duplex = 0; duplex < 2; duplex++) {
        for (int dribble = 0; dribble < 2; dribble++) {
            st_connection *a, *b;
            assert_int_equal(st_ipc_pipe(&a, &b, duplex), 0);
            pid_t pid = fork();
            assert_true(pid >= 0);
            if (pid == 0) { /* all at once, or in pieces of 3 bytes then 4 KiB + 1 */
                st_connection_free(a);
                int fd = st_connection_fileno(b);
                for (size_t off = 0, k = 0; off < total; k++) {
                    size_t n = !dribble ? total - off : k % 2 ? 4097 : 3;
                    if (n > total - off)
                        n = total - off;
                    ssize_t w = write(fd, wire + off, n);
                    if (w <= 0)
                        _exit(1);
                    off += (size_t)w;
                    if (dribble)
                        usleep(100);
                }
                _exit(0);
            }
            st_connection_free(b);
            p = wire;
            for (size_t i = 0; i < nsizes; i++) {
                recv_expect(a, p + 4, sizes[i]);
                p += 4 + sizes[i];
            }
            assert_null(st_connection_recv_bytes(a, ST_CONNECTION_NO_LIMIT, NULL));
            assert_int_equal(st_error_code(), ST_EEOF);
            int status;
            assert_int_equal(waitpid(pid, &status, 0), pid);
            assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
            st_connection_free(a);
        }
    }
    free(wire);

    /* recv() with a timeout: a waiting value is taken at once (a socket without a poll()),
     * also one bigger than the hand-over threshold; a missing one times out; one that comes
     * later is waited for. On a socket pair and on a pipe. */
    static unsigned char blob[40000];
    fill_pattern(blob, sizeof blob, 7);
    for (int duplex = 0; duplex < 2; duplex++) {
        st_connection *r, *w;
        assert_int_equal(st_ipc_pipe(&r, &w, duplex), 0);
        for (int i = 0; i < 2; i++) {
            st_value *v = i ? st_value_parse("[1, 'two', 3.0]") : st_value_bytes(blob, sizeof blob);
            assert_int_equal(st_connection_send(w, v), 0);
            st_value *back = st_connection_recv(r, 0);
            assert_non_null(back);
            assert_int_equal(st_value_equal(v, back), 1);
            st_value_unref(back);
            st_value_unref(v);
        }
        double t0 = st_test_now();
        assert_null(st_connection_recv(r, 0.02));
        assert_true(st_test_now() - t0 >= 0.015);
        assert_int_equal(st_error_code(), ST_ETIMEOUT);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            usleep(20000);
            st_value *v = st_value_int(42);
            _exit(st_connection_send(w, v) == 0 ? 0 : 1);
        }
        st_value *late = st_connection_recv(r, 10.0);
        int64_t got = 0;
        assert_non_null(late);
        assert_int_equal(st_value_as_int64(late, &got), 0);
        assert_int_equal(got, 42);
        st_value_unref(late);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        st_connection_free(r);
        st_connection_free(w);
    }
}

/* recv_bytes_into: fits (small, from the read-ahead; large, handed over), exact fit, too
 * short (BufferTooShort; the message waits whole for the next receive of any kind). */
static void test_conn_recv_into(void **state)
{
    (void)state;
    st_connection *a, *b;
    assert_int_equal(st_ipc_pipe(&a, &b, 1), 0);
    static unsigned char big[40000], got[40000];
    fill_pattern(big, sizeof big, 3);
    size_t len = 0;
    assert_int_equal(st_connection_send_bytes(a, "hello", 5), 0);
    assert_int_equal(st_connection_send_bytes(a, big, sizeof big), 0);
    assert_int_equal(st_connection_send_bytes(a, NULL, 0), 0);
    assert_int_equal(st_connection_recv_bytes_into(b, got, sizeof got, &len), 0);
    assert_int_equal(len, 5);
    assert_memory_equal(got, "hello", 5);
    assert_int_equal(st_connection_recv_bytes_into(b, got, sizeof got, &len), 0);
    assert_int_equal(len, sizeof big);
    assert_memory_equal(got, big, sizeof big);
    assert_int_equal(st_connection_recv_bytes_into(b, NULL, 0, &len), 0);
    assert_int_equal(len, 0);

    assert_int_equal(st_connection_send_bytes(a, "0123456789", 10), 0);
    assert_int_equal(st_connection_send_bytes(a, "after", 5), 0);
    assert_int_equal(st_connection_recv_bytes_into(b, got, 9, &len), -1);
    assert_int_equal(st_error_code(), ST_EVALUE);
    assert_string_equal(st_error_last()->type, "multiprocessing.BufferTooShort");
    assert_int_equal(len, 10);
    assert_int_equal(st_connection_poll(b, 0), 1);
    assert_int_equal(st_connection_recv_bytes_into(b, got, 10, &len), 0);
    assert_int_equal(len, 10);
    assert_memory_equal(got, "0123456789", 10);
    recv_expect(b, "after", 5);
    /* A large one that does not fit waits for st_connection_recv_bytes(); and a pending message
     * is freed with the connection. */
    assert_int_equal(st_connection_send_bytes(a, big, sizeof big), 0);
    assert_int_equal(st_connection_send_bytes(a, big, 20000), 0);
    assert_int_equal(st_connection_recv_bytes_into(b, got, 100, &len), -1);
    assert_int_equal(len, sizeof big);
    recv_expect(b, big, sizeof big);
    assert_int_equal(st_connection_recv_bytes_into(b, got, 100, &len), -1);
    assert_int_equal(len, 20000);
    st_connection_free(a);
    st_connection_free(b);

    /* Straight into a large buffer: a frame arriving in pieces (a cut header first), one whose
     * payload comes in two reads, one with the next frame behind it, one too long for the
     * buffer (the pauses let the reader catch up, so each starts a read). */
    assert_int_equal(st_ipc_pipe(&a, &b, 1), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        st_connection_free(b);
        static unsigned char wire[4 + sizeof big];
        int fd = st_connection_fileno(a);
        memcpy(wire, "\0\0\x9c\x40", 4); /* 40000 */
        memcpy(wire + 4, big, sizeof big);
        for (size_t off = 0, k = 0; off < sizeof wire; k++) {
            size_t n = k == 0 ? 3 : sizeof wire - off < 7000 ? sizeof wire - off : 7000;
            if (write(fd, wire + off, n) != (ssize_t)n)
                _exit(1);
            off += n;
            usleep(200);
        }
        usleep(20000);
        memcpy(wire, "\0\0\x75\x30", 4); /* 30000 */
        if (write(fd, wire, 5004) != 5004)
            _exit(1);
        usleep(20000);
        if (write(fd, wire + 5004, 25000) != 25000)
            _exit(1);
        usleep(20000);
        int bad = st_connection_send_bytes(a, big, 30000) < 0 || st_connection_send_bytes(a, "tail", 4) < 0;
        usleep(20000);
        _exit(bad || st_connection_send_bytes(a, big, sizeof big) < 0);
    }
    st_connection_free(a);
    memset(got, 0, sizeof got);
    assert_int_equal(st_connection_recv_bytes_into(b, got, sizeof got, &len), 0);
    assert_int_equal(len, sizeof big);
    assert_memory_equal(got, big, sizeof big);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(st_connection_recv_bytes_into(b, got, sizeof got, &len), 0);
        assert_int_equal(len, 30000);
        assert_memory_equal(got, big, 30000);
    }
    assert_int_equal(st_connection_recv_bytes_into(b, got, sizeof got, &len), 0);
    assert_int_equal(len, 4);
    assert_memory_equal(got, "tail", 4);
    assert_int_equal(st_connection_recv_bytes_into(b, got, 30000, &len), -1);
    assert_int_equal(len, sizeof big);
    recv_expect(b, big, sizeof big);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    st_connection_free(b);
}

static void test_conn_fork(void **state)
{
    (void)state;
    st_connection *parent, *child;
    assert_int_equal(st_ipc_pipe(&parent, &child, 1), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) { /* echo every message back until EOF */
        st_connection_free(parent);
        for (;;) {
            size_t len;
            unsigned char *m = st_connection_recv_bytes(child, ST_CONNECTION_NO_LIMIT, &len);
            if (!m)
                _exit(st_error_code() == ST_EEOF ? 0 : 1);
            if (st_connection_send_bytes(child, m, len) < 0)
                _exit(2);
            st_free(m);
        }
    }
    st_connection_free(child);
    size_t cap = 16u << 20;
    unsigned char *buf = malloc(cap);
    assert_non_null(buf);
    for (unsigned i = 0; i < 3000; i++) {
        size_t n = mixed_size(i);
        fill_pattern(buf, n, i);
        assert_int_equal(st_connection_send_bytes(parent, buf, n), 0);
        recv_expect(parent, buf, n);
    }
    free(buf);
    st_connection_free(parent);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* A CPython 3.13 child holding the other end as multiprocessing.connection.Connection(fd):
 * it echoes each message reversed, then sends its own count and a message it makes. */
static const char *const PY_PEER =
    "import sys\n"
    "from multiprocessing.connection import Connection\n"
    "c = Connection(int(sys.argv[1]))\n"
    "n = 0\n"
    "while True:\n"
    "    m = c.recv_bytes()\n"
    "    if m == b'end':\n"
    "        break\n"
    "    c.send_bytes(m[::-1])\n"
    "    n += 1\n"
    "c.send_bytes(str(n).encode())\n"
    "c.send_bytes(bytes(range(256)) * 4096)\n"
    "c.close()\n";

static void reverse(unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n / 2; i++) {
        unsigned char t = p[i];
        p[i] = p[n - 1 - i];
        p[n - 1 - i] = t;
    }
}

static void test_conn_cpython(void **state)
{
    (void)state;
    const char *py = pyref_python();
    if (!py)
        return;
    st_connection *mine, *theirs;
    assert_int_equal(st_ipc_pipe(&mine, &theirs, 1), 0);
    int fd = st_connection_fileno(theirs);
    char fdtext[16];
    snprintf(fdtext, sizeof fdtext, "%d", fd);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) { /* the fd crosses exec: clear close-on-exec, as pass_fds does */
        fcntl(fd, F_SETFD, 0);
        execl(py, py, "-c", PY_PEER, fdtext, (char *)NULL);
        _exit(127);
    }
    st_connection_free(theirs);
    size_t cap = 16u << 20;
    unsigned char *buf = malloc(cap);
    assert_non_null(buf);
    unsigned count = 10000;
    for (unsigned i = 0; i < count; i++) {
        size_t n = mixed_size(i);
        if (n == 3)
            n = 4; /* never "end" by accident */
        fill_pattern(buf, n, i);
        assert_int_equal(st_connection_send_bytes(mine, buf, n), 0);
        reverse(buf, n);
        recv_expect(mine, buf, n);
    }
    assert_int_equal(st_connection_send_bytes(mine, "end", 3), 0);
    recv_expect(mine, "10000", 5);
    size_t len;
    unsigned char *big = st_connection_recv_bytes(mine, ST_CONNECTION_NO_LIMIT, &len);
    assert_non_null(big);
    assert_int_equal(len, 256 * 4096);
    for (size_t i = 0; i < len; i++)
        if (big[i] != (unsigned char)i)
            fail_msg("byte %zu differs", i);
    st_free(big);
    assert_null(st_connection_recv_bytes(mine, ST_CONNECTION_NO_LIMIT, NULL)); /* Python closed: EOF */
    assert_int_equal(st_error_code(), ST_EEOF);
    free(buf);
    st_connection_free(mine);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* ---- whole values (pickles) ------------------------------------------------------------ */

static const char *const SAMPLE_VALUES[] = {
    "None", "True", "0", "-1", "2**0", "12345678901234567890123", "-2.5", "float('inf')", "''",
    "'Zo\u00eb \u2192 \u2603'", "b'\\x00\\xff'", "bytearray(b'ab')", "()", "(1,)", "[1, [2, [3]]]",
    "{'a': 1, 'b': [None, True], 3: (4.5, 'x')}", "{1, 2, 3}", "frozenset({'q'})", "set()",
};

/* A few values as literals (st_value_parse does not read calls: built by hand instead). */
static st_value *sample_value(size_t i)
{
    const char *lit = SAMPLE_VALUES[i];
    if (strcmp(lit, "2**0") == 0)
        return st_value_int(1);
    if (strcmp(lit, "float('inf')") == 0)
        return st_value_float(1.0 / 0.0);
    if (strcmp(lit, "bytearray(b'ab')") == 0)
        return st_value_bytearray("ab", 2);
    if (strcmp(lit, "frozenset({'q'})") == 0) {
        st_value *f = st_value_frozenset();
        st_value_set_add_steal(f, st_value_str("q"));
        return f;
    }
    if (strcmp(lit, "set()") == 0)
        return st_value_set();
    return st_value_parse(lit);
}

static void test_conn_values(void **state)
{
    (void)state;
    st_connection *a, *b;
    assert_int_equal(st_ipc_pipe(&a, &b, 1), 0);
    size_t n = sizeof SAMPLE_VALUES / sizeof SAMPLE_VALUES[0];
    for (size_t i = 0; i < n; i++) {
        st_value *v = sample_value(i);
        assert_non_null(v);
        assert_int_equal(st_connection_send(a, v), 0);
        st_value *back = st_connection_recv(b, 5.0);
        assert_non_null(back);
        assert_int_equal(st_value_equal(v, back), 1);
        assert_string_equal(st_value_type_name(v), st_value_type_name(back));
        st_value_unref(v);
        st_value_unref(back);
    }
    /* A list holding itself survives the trip, cycle and all. */
    st_value *l = st_value_list();
    assert_int_equal(st_value_list_append(l, l), 0);
    assert_int_equal(st_connection_send(a, l), 0);
    st_value *back = st_connection_recv(b, -1);
    assert_non_null(back);
    assert_ptr_equal(st_value_item(back, 0), back);
    st_value_clear(back);
    st_value_unref(back);
    st_value_clear(l);
    st_value_unref(l);
    /* Nothing there: TimeoutError after the wait. */
    double t0 = st_test_now();
    assert_null(st_connection_recv(b, 0.05));
    assert_true(st_test_now() - t0 >= 0.045);
    assert_int_equal(st_error_code(), ST_ETIMEOUT);
    assert_string_equal(st_error_last()->type, "TimeoutError");
    /* A message that is not a pickle. */
    assert_int_equal(st_connection_send_bytes(a, "garbage", 7), 0);
    assert_null(st_connection_recv(b, 5.0));
    assert_int_equal(st_error_code(), ST_EFORMAT);
    /* The peer goes: EOFError. */
    st_connection_free(a);
    assert_null(st_connection_recv(b, 5.0));
    assert_int_equal(st_error_code(), ST_EEOF);
    st_connection_free(b);
}

/* Python's Connection.recv()/send() against ours: it echoes every object it gets, then sends
 * one of its own. */
static const char *const PY_VALUE_PEER =
    "import sys\n"
    "from multiprocessing.connection import Connection\n"
    "c = Connection(int(sys.argv[1]))\n"
    "n = 0\n"
    "while True:\n"
    "    obj = c.recv()\n"
    "    if obj == 'end':\n"
    "        break\n"
    "    c.send(obj)\n"
    "    n += 1\n"
    "c.send({'from': 'python', 'n': n, 'big': 2**100, 'items': [1, 2.5, None, True, b'\\x01', ('t',)],"
    " 'blob': bytes(range(256)) * 8192})\n"
    "c.close()\n";

static void test_conn_values_cpython(void **state)
{
    (void)state;
    const char *py = pyref_python();
    if (!py)
        return;
    st_connection *mine, *theirs;
    assert_int_equal(st_ipc_pipe(&mine, &theirs, 1), 0);
    int fd = st_connection_fileno(theirs);
    char fdtext[16];
    snprintf(fdtext, sizeof fdtext, "%d", fd);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        fcntl(fd, F_SETFD, 0);
        execl(py, py, "-c", PY_VALUE_PEER, fdtext, (char *)NULL);
        _exit(127);
    }
    st_connection_free(theirs);
    size_t n = sizeof SAMPLE_VALUES / sizeof SAMPLE_VALUES[0];
    unsigned sent = 0;
    for (unsigned round = 0; round < 100; round++) {
        for (size_t i = 0; i < n; i++, sent++) {
            st_value *v = sample_value(i);
            assert_int_equal(st_connection_send(mine, v), 0);
            st_value *back = st_connection_recv(mine, 30.0);
            if (!back)
                fail_msg("%s: %s", st_error_last()->type, st_error_message());
            assert_int_equal(st_value_equal(v, back), 1);
            assert_string_equal(st_value_type_name(v), st_value_type_name(back));
            st_value_unref(v);
            st_value_unref(back);
        }
    }
    /* A 16 MiB bytes value both ways. */
    unsigned char *blob = malloc(16u << 20);
    assert_non_null(blob);
    fill_pattern(blob, 16u << 20, 7);
    st_value *big = st_value_bytes(blob, 16u << 20);
    free(blob);
    assert_int_equal(st_connection_send(mine, big), 0);
    st_value *back = st_connection_recv(mine, 60.0);
    assert_non_null(back);
    assert_int_equal(st_value_equal(big, back), 1);
    st_value_unref(back);
    st_value_unref(big);
    sent++;

    st_value *end = st_value_str("end");
    assert_int_equal(st_connection_send(mine, end), 0);
    st_value_unref(end);
    st_value *theirs_v = st_connection_recv(mine, 30.0);
    assert_non_null(theirs_v);
    int64_t count;
    assert_int_equal(st_value_as_int64(st_value_dict_get_str(theirs_v, "n"), &count), 0);
    assert_int_equal(count, sent);
    char *r = st_value_repr(st_value_dict_get_str(theirs_v, "items"));
    assert_string_equal(r, "[1, 2.5, None, True, b'\\x01', ('t',)]");
    st_free(r);
    r = st_value_repr(st_value_dict_get_str(theirs_v, "big"));
    assert_string_equal(r, "1267650600228229401496703205376");
    st_free(r);
    assert_int_equal(st_value_len(st_value_dict_get_str(theirs_v, "blob")), 256 * 8192);
    st_value_unref(theirs_v);
    assert_null(st_connection_recv(mine, 30.0));
    assert_int_equal(st_error_code(), ST_EEOF);
    st_connection_free(mine);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* ---- listeners, clients, authentication (multiprocessing.connection) ------------------ */

/* Whether this build authenticates (libcrypto); where it does not, the authkey cases check the
 * clear error instead and say that they skip the rest. */
#if defined(ST_TEST_HAVE_HMAC)
#define HAVE_HMAC 1
#else
#define HAVE_HMAC 0
#endif
#define SKIP_WITHOUT_HMAC()                                                                  \
    do {                                                                                     \
        if (!HAVE_HMAC) {                                                                    \
            print_message("[  SKIP    ] built without libcrypto (SYSTOOLS_WITH_OPENSSL): "   \
                          "no authenticated connections to test\n");                         \
            skip();                                                                          \
        }                                                                                    \
    } while (0)

static const char KEY[] = "secret key";

static st_listener_options listener_opts(const char *key)
{
    st_listener_options o = ST_LISTENER_OPTIONS_INIT;
    o.authkey = key;
    o.authkey_len = key ? strlen(key) : 0;
    return o;
}

static st_ipc_client_options client_opts(const char *key)
{
    st_ipc_client_options o = ST_IPC_CLIENT_OPTIONS_INIT;
    o.authkey = key;
    o.authkey_len = key ? strlen(key) : 0;
    return o;
}

/* A fresh directory for socket files; the caller removes it (rmdir) when its sockets are gone. */
static char *sock_dir(void)
{
    char *d = strdup("/tmp/st-conn-XXXXXX");
    assert_non_null(mkdtemp(d));
    return d;
}

static st_ipc_address unix_address(const char *path)
{
    st_ipc_address a = {ST_IPC_AF_UNIX, path, 0, NULL, 0};
    return a;
}

static st_ipc_address inet_address(int family, const char *host, int port)
{
    st_ipc_address a = {(st_ipc_family)family, NULL, 0, host, port};
    return a;
}

/* A client run in a thread: connects with its key, sends `send` as bytes, expects it back. */
typedef struct client_job {
    st_ipc_address address;
    const char *key;
    const char *send;
    int rc;          /* 0: talked; -1: failed with `code`, `message` */
    int code;
    char message[256];
    pthread_t thread;
} client_job;

static void *client_main(void *arg)
{
    client_job *j = arg;
    st_ipc_client_options o = client_opts(j->key);
    st_connection *c = st_ipc_client(&j->address, j->key ? &o : NULL);
    j->rc = -1;
    if (c && st_connection_send_bytes(c, j->send, strlen(j->send)) == 0) {
        size_t len;
        unsigned char *back = st_connection_recv_bytes(c, 1024, &len);
        if (back && len == strlen(j->send) && !memcmp(back, j->send, len))
            j->rc = 0;
        else if (back)
            snprintf(j->message, sizeof j->message, "echo differs: %s", (char *)back);
        st_free(back);
    }
    if (j->rc < 0 && !j->message[0]) {
        j->code = st_error_code();
        snprintf(j->message, sizeof j->message, "%s: %s", st_error_last()->type, st_error_message());
    }
    st_connection_free(c);
    return NULL;
}

static void client_start(client_job *j, st_ipc_address a, const char *key, const char *send)
{
    memset(j, 0, sizeof *j);
    j->address = a;
    j->key = key;
    j->send = send;
    assert_int_equal(pthread_create(&j->thread, NULL, client_main, j), 0);
}

/* Accepts one connection and echoes one message. */
static void serve_one(st_listener *l)
{
    st_connection *c = st_listener_accept(l);
    if (!c)
        fail_msg("accept: %s: %s", st_error_last()->type, st_error_message());
    size_t len;
    unsigned char *m = st_connection_recv_bytes(c, 1024, &len);
    assert_non_null(m);
    assert_int_equal(st_connection_send_bytes(c, m, len), 0);
    st_free(m);
    st_connection_free(c);
}

static void test_listener_options(void **state)
{
    (void)state;
    ST_ASSERT_OPTIONS_INIT(st_listener_options, ST_LISTENER_OPTIONS_INIT,
                           ST_LISTENER_OPTIONS_VERSION, st_listener_options_init);
    ST_ASSERT_OPTIONS_INIT(st_ipc_client_options, ST_IPC_CLIENT_OPTIONS_INIT,
                           ST_IPC_CLIENT_OPTIONS_VERSION, st_ipc_client_options_init);
    char *dir = sock_dir();
    char path[256];
    snprintf(path, sizeof path, "%s/s", dir);
    st_ipc_address a = unix_address(path);
    st_listener_options zero;
    memset(&zero, 0, sizeof zero);
    assert_null(st_listener_new(&a, &zero)); /* {0}: never initialised */
    assert_int_equal(st_error_code(), ST_EVALUE);
    st_ipc_client_options czero;
    memset(&czero, 0, sizeof czero);
    assert_null(st_ipc_client(&a, &czero));
    assert_int_equal(st_error_code(), ST_EVALUE);
    st_listener_options neg = listener_opts(NULL);
    neg.handshake_timeout = -1;
    assert_null(st_listener_new(&a, &neg));
    assert_int_equal(st_error_code(), ST_EVALUE);
    st_listener_options keyed = listener_opts(KEY);
    st_ipc_client_options ckeyed = client_opts(KEY);
    if (!HAVE_HMAC) { /* the clear error, before anything touches the network */
        assert_null(st_listener_new(&a, &keyed));
        assert_int_equal(st_error_code(), ST_ENOTSUP);
        assert_non_null(strstr(st_error_message(), "libcrypto"));
        assert_null(st_ipc_client(&a, &ckeyed));
        assert_int_equal(st_error_code(), ST_ENOTSUP);
        print_message("[  SKIP    ] built without libcrypto: authkey cases check the error only\n");
    }
    st_listener *l = st_listener_new(&a, NULL); /* NULL options: Python's defaults */
    assert_non_null(l);
    client_job j;
    client_start(&j, a, NULL, "x");
    serve_one(l);
    pthread_join(j.thread, NULL);
    assert_int_equal(j.rc, 0);
    st_listener_free(l);
    assert_int_equal(rmdir(dir), 0); /* the socket file went with the listener */
    free(dir);
}

static void test_listener_unix(void **state)
{
    (void)state;
    char *dir = sock_dir();
    char path[256];
    snprintf(path, sizeof path, "%s/listener.sock", dir);
    st_ipc_address a = unix_address(path);
    st_listener *l = st_listener_new(&a, NULL);
    assert_non_null(l);
    const st_ipc_address *got = st_listener_address(l);
    assert_int_equal(got->family, ST_IPC_AF_UNIX);
    assert_string_equal(got->path, path);
    assert_int_equal(got->path_len, strlen(path));
    assert_null(st_listener_last_accepted(l));
    /* The path is taken: Python's OSError [Errno 98] Address already in use. */
    assert_null(st_listener_new(&a, NULL));
    assert_int_equal(st_error_code(), ST_EOS);
    assert_int_equal(st_error_errno(), EADDRINUSE);
    /* No authkey: the client is served at once, its connection is a plain one. */
    st_connection *c = st_ipc_client(&a, NULL);
    assert_non_null(c);
    st_connection *s = st_listener_accept(l);
    assert_non_null(s);
    const st_ipc_address *peer = st_listener_last_accepted(l);
    assert_non_null(peer);
    assert_int_equal(peer->family, ST_IPC_AF_UNIX);
    assert_int_equal(peer->path_len, 0); /* an unnamed client: Python's '' */
    assert_string_equal(peer->path, "");
    assert_int_equal(st_connection_send_bytes(c, "ping", 4), 0);
    recv_expect(s, "ping", 4);
    st_connection_free(s);
    st_connection_free(c);
    /* Too long a path. */
    char longpath[300];
    memset(longpath, 'x', sizeof longpath - 1);
    longpath[sizeof longpath - 1] = '\0';
    st_ipc_address too_long = unix_address(longpath);
    assert_null(st_listener_new(&too_long, NULL));
    assert_string_equal(st_error_message(), "AF_UNIX path too long");
    assert_null(st_ipc_client(&too_long, NULL));
    assert_string_equal(st_error_message(), "AF_UNIX path too long");
    /* close: the file is gone, every call but the address says so, closing again is fine. */
    assert_int_equal(st_listener_closed(l), 0);
    assert_int_equal(st_listener_close(l), 0);
    assert_int_equal(st_listener_closed(l), 1);
    assert_int_equal(access(path, F_OK), -1);
    assert_null(st_listener_accept(l));
    assert_int_equal(st_error_code(), ST_ESTATE);
    assert_string_equal(st_error_message(), "listener is closed");
    assert_int_equal(st_listener_fileno(l), -1);
    assert_string_equal(st_listener_address(l)->path, path);
    assert_int_equal(st_listener_close(l), 0);
    st_listener_free(l);
    st_listener_free(NULL);
    assert_int_equal(st_listener_close(NULL), 0);
    /* Nobody there: FileNotFoundError. */
    assert_null(st_ipc_client(&a, NULL));
    assert_int_equal(st_error_errno(), ENOENT);
    assert_string_equal(st_error_last()->type, "FileNotFoundError");
    assert_int_equal(rmdir(dir), 0);
    free(dir);
}

static void test_listener_arbitrary_and_abstract(void **state)
{
    (void)state;
    /* No path: Python's arbitrary_address(), a fresh file in a private directory. */
    st_listener *l = st_listener_new(NULL, NULL);
    assert_non_null(l);
    char *path = strdup(st_listener_address(l)->path);
    assert_non_null(strstr(path, "/pymp-"));
    st_ipc_address a = unix_address(path);
    client_job j;
    client_start(&j, a, NULL, "arbitrary");
    serve_one(l);
    pthread_join(j.thread, NULL);
    assert_int_equal(j.rc, 0);
    st_listener_free(l);
    *strrchr(path, '/') = '\0';
    assert_int_equal(access(path, F_OK), -1); /* the directory went too */
    free(path);

    /* A Linux abstract name: no file, found by name, reported with its NUL. */
    char name[64];
    int n = snprintf(name, sizeof name, "%cst-conn-%ld", 0, (long)getpid());
    st_ipc_address abs = {ST_IPC_AF_UNIX, name, (size_t)n, NULL, 0};
    l = st_listener_new(&abs, NULL);
    if (!l) {
        assert_non_null(strstr(st_error_message(), "abstract socket names are not supported"));
        print_message("[  SKIP    ] no abstract socket names here: %s\n", st_error_message());
        return;
    }
    const st_ipc_address *got = st_listener_address(l);
    assert_int_equal(got->path_len, (size_t)n);
    assert_memory_equal(got->path, name, (size_t)n);
    client_start(&j, abs, NULL, "abstract");
    serve_one(l);
    pthread_join(j.thread, NULL);
    if (j.rc != 0)
        fail_msg("%s", j.message);
    st_listener_free(l);
}

/* Opens a TCP listener on the loopback of the family, or NULL when this machine has none. */
static st_listener *loopback_listener(int family, const st_listener_options *o)
{
    st_ipc_address a = inet_address(family, family == ST_IPC_AF_INET6 ? "::1" : "127.0.0.1", 0);
    st_listener *l = st_listener_new(&a, o);
    if (!l && family == ST_IPC_AF_INET6 &&
        (st_error_errno() == EADDRNOTAVAIL || st_error_errno() == EAFNOSUPPORT)) {
        print_message("[  SKIP    ] no IPv6 loopback here: %s\n", st_error_message());
        return NULL;
    }
    if (!l)
        fail_msg("%s: %s", st_error_last()->type, st_error_message());
    return l;
}

static void test_listener_tcp(void **state)
{
    (void)state;
    int families[] = {ST_IPC_AF_INET, ST_IPC_AF_INET6};
    for (int f = 0; f < 2; f++) {
        st_listener *l = loopback_listener(families[f], NULL);
        if (!l)
            continue;
        const st_ipc_address *got = st_listener_address(l);
        assert_int_equal(got->family, families[f]);
        assert_string_equal(got->host, f ? "::1" : "127.0.0.1");
        assert_true(got->port > 0); /* port 0: the real one is reported */
        client_job j;
        client_start(&j, *got, NULL, "tcp");
        serve_one(l);
        pthread_join(j.thread, NULL);
        assert_int_equal(j.rc, 0);
        const st_ipc_address *peer = st_listener_last_accepted(l);
        assert_string_equal(peer->host, f ? "::1" : "127.0.0.1");
        assert_true(peer->port > 0 && peer->port != got->port);
        /* The same port again while it listens: AddressInUse. */
        st_ipc_address again = inet_address(families[f], got->host, got->port);
        assert_null(st_listener_new(&again, NULL));
        assert_int_equal(st_error_errno(), EADDRINUSE);
        int port = got->port;
        st_listener_free(l);
        /* Nobody listens there now: ConnectionRefusedError. */
        st_ipc_address gone = inet_address(families[f], f ? "::1" : "127.0.0.1", port);
        assert_null(st_ipc_client(&gone, NULL));
        assert_string_equal(st_error_last()->type, "ConnectionRefusedError");
    }
    /* A host that does not resolve: socket.gaierror. */
    st_ipc_address bad = inet_address(ST_IPC_AF_INET, "no such host.invalid", 1);
    assert_null(st_ipc_client(&bad, NULL));
    assert_string_equal(st_error_last()->type, "socket.gaierror");
    st_ipc_address port_bad = inet_address(ST_IPC_AF_INET, "127.0.0.1", 70000);
    assert_null(st_listener_new(&port_bad, NULL));
    assert_int_equal(st_error_code(), ST_EOVERFLOW);
}

/* Right, wrong and empty keys between C ends, on a path and on TCP; several clients at once;
 * a wrong key costs its connection only. */
static void test_listener_auth(void **state)
{
    (void)state;
    SKIP_WITHOUT_HMAC();
    char *dir = sock_dir();
    char path[256];
    snprintf(path, sizeof path, "%s/auth.sock", dir);
    for (int tcp = 0; tcp < 2; tcp++) {
        st_listener_options o = listener_opts(KEY);
        o.backlog = 8;
        st_ipc_address ua = unix_address(path);
        st_listener *l = tcp ? loopback_listener(ST_IPC_AF_INET, &o) : st_listener_new(&ua, &o);
        assert_non_null(l);
        st_ipc_address a = *st_listener_address(l);
        /* A wrong key: the client hears "digest sent was rejected", the listener "digest
         * received was wrong", and the listener goes on. */
        client_job bad;
        client_start(&bad, a, "wrong key", "never");
        assert_null(st_listener_accept(l));
        assert_int_equal(st_error_code(), ST_EAUTH);
        assert_string_equal(st_error_last()->type, "multiprocessing.AuthenticationError");
        assert_string_equal(st_error_message(), "digest received was wrong");
        pthread_join(bad.thread, NULL);
        assert_int_equal(bad.rc, -1);
        assert_int_equal(bad.code, ST_EAUTH);
        assert_string_equal(bad.message,
                            "multiprocessing.AuthenticationError: digest sent was rejected");
        /* Eight clients at once with the key, served one after another. */
        client_job jobs[8];
        char texts[8][16];
        for (int i = 0; i < 8; i++) {
            snprintf(texts[i], sizeof texts[i], "client %d", i);
            client_start(&jobs[i], a, KEY, texts[i]);
        }
        for (int i = 0; i < 8; i++)
            serve_one(l);
        for (int i = 0; i < 8; i++) {
            pthread_join(jobs[i].thread, NULL);
            if (jobs[i].rc != 0)
                fail_msg("client %d: %s", i, jobs[i].message);
        }
        st_listener_free(l);
    }
    /* An empty key is a key (Python's b''): it must match too. */
    st_listener_options o = listener_opts("");
    st_ipc_address ua = unix_address(path);
    st_listener *l = st_listener_new(&ua, &o);
    assert_non_null(l);
    client_job j;
    client_start(&j, ua, "", "empty");
    serve_one(l);
    pthread_join(j.thread, NULL);
    assert_int_equal(j.rc, 0);
    client_start(&j, ua, "x", "x");
    assert_null(st_listener_accept(l));
    assert_int_equal(st_error_code(), ST_EAUTH);
    pthread_join(j.thread, NULL);
    assert_int_equal(j.code, ST_EAUTH);
    st_listener_free(l);
    assert_int_equal(rmdir(dir), 0);
    free(dir);
}

/* A peer that sends half a message and then nothing: with a handshake_timeout the accept fails
 * with TimeoutError in time and the next client is served; a peer that sends garbage, or a
 * frame header announcing 2**40 bytes, gets its error at once. */
typedef struct raw_peer {
    st_ipc_address address;
    const unsigned char *bytes;
    size_t len;
    int hold_fd; /* a pipe end: the peer keeps its socket open until this reads EOF */
    pthread_t thread;
} raw_peer;

static void *raw_peer_main(void *arg)
{
    raw_peer *p = arg;
    st_connection *c = st_ipc_client(&p->address, NULL); /* no key: just the socket */
    if (!c)
        return NULL;
    int fd = st_connection_fileno(c);
    if (write(fd, p->bytes, p->len) != (ssize_t)p->len)
        abort();
    char ch;
    while (read(p->hold_fd, &ch, 1) > 0)
        ;
    st_connection_free(c);
    return NULL;
}

static void test_listener_bad_peers(void **state)
{
    (void)state;
    SKIP_WITHOUT_HMAC();
    st_listener_options o = listener_opts(KEY);
    o.handshake_timeout = 0.3;
    o.backlog = 4;
    st_listener *l = st_listener_new(NULL, &o);
    assert_non_null(l);
    st_ipc_address a = *st_listener_address(l);
    static const unsigned char half[] = {0, 0, 0, 40, '{', 's', 'h', 'a'};
    static const unsigned char huge[] = {0xff, 0xff, 0xff, 0xff, 0, 0, 1, 0, 0, 0, 0, 0};
    static const unsigned char garbage[] = {0, 0, 0, 5, 'h', 'e', 'l', 'l', 'o'};
    struct {
        const unsigned char *bytes;
        size_t len;
        int code;
        const char *message;
    } cases[] = {
        {half, sizeof half, ST_ETIMEOUT, "timed out"},
        {huge, sizeof huge, ST_EFORMAT, "bad message length"},
        {garbage, sizeof garbage, ST_EAUTH,
         "unsupported message length, missing digest prefix, or unsupported digest: "
         "message=b'hello'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int hold[2];
        assert_int_equal(pipe(hold), 0);
        raw_peer p = {a, cases[i].bytes, cases[i].len, hold[0], 0};
        assert_int_equal(pthread_create(&p.thread, NULL, raw_peer_main, &p), 0);
        double t0 = st_test_now();
        assert_null(st_listener_accept(l));
        double took = st_test_now() - t0;
        assert_int_equal(st_error_code(), cases[i].code);
        assert_string_equal(st_error_message(), cases[i].message);
        if (cases[i].code == ST_ETIMEOUT)
            assert_true(took >= 0.28 && took < 10);
        close(hold[1]);
        pthread_join(p.thread, NULL);
        close(hold[0]);
        /* The listener goes on: a good client next. */
        client_job j;
        client_start(&j, a, KEY, "after a bad peer");
        serve_one(l);
        pthread_join(j.thread, NULL);
        if (j.rc != 0)
            fail_msg("%s", j.message);
    }
    /* A client whose listener stalls in the handshake times out itself. */
    st_ipc_client_options co = client_opts(KEY);
    co.handshake_timeout = 0.2;
    st_listener *mute = st_listener_new(NULL, NULL); /* accepts nothing, says nothing */
    assert_non_null(mute);
    double t0 = st_test_now();
    assert_null(st_ipc_client(st_listener_address(mute), &co));
    assert_int_equal(st_error_code(), ST_ETIMEOUT);
    assert_true(st_test_now() - t0 >= 0.18);
    st_listener_free(mute);
    st_listener_free(l);
}

/* The handshake as CPython 3.13's answer_challenge/deliver_challenge do it, replayed from
 * tests/vectors/ipc/handshake.txt (tests/gen/gen_ipc.py): each case is what the peer sends
 * before it shuts its sending side; our outcome (the exception's name without its module, and
 * its message) and the bytes we sent (for deliver_challenge, after the random challenge) must be
 * CPython's. Right digests of every kind, CPython 3.11's 20-byte challenge and 16-byte reply,
 * and each way of failing. */
static void handshake_case(char mode, const char *hex, char *out, size_t cap)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    size_t len;
    unsigned char *data = st_test_unhex(hex, &len);
    assert_int_equal(write(sv[0], data, len), (ssize_t)len);
    free(data);
    assert_int_equal(shutdown(sv[0], SHUT_WR), 0);
    st_connection *c = st_connection_new(sv[1], 1, 1);
    assert_non_null(c);
    int r = mode == 'a' ? st_ipc_answer_challenge(c, KEY, strlen(KEY))
                        : st_ipc_deliver_challenge(c, KEY, strlen(KEY));
    size_t n;
    if (r == 0) {
        n = (size_t)snprintf(out, cap, "OK\tx");
    } else {
        const char *type = strrchr(st_error_last()->type, '.');
        type = type ? type + 1 : st_error_last()->type;
        n = (size_t)snprintf(out, cap, "%s: %s\tx", type, st_error_message());
    }
    st_connection_free(c);
    unsigned char sent[4096];
    size_t got = 0;
    ssize_t k;
    while ((k = read(sv[0], sent + got, sizeof sent - got)) > 0)
        got += (size_t)k;
    close(sv[0]);
    size_t skip_first = 0;
    if (mode == 'd' && got >= 4)
        skip_first = 4 + ((size_t)sent[0] << 24 | (size_t)sent[1] << 16 | (size_t)sent[2] << 8 | sent[3]);
    for (size_t i = skip_first; i < got && n + 3 < cap; i++)
        n += (size_t)snprintf(out + n, cap - n, "%02x", sent[i]);
}

static void test_handshake_vectors(void **state)
{
    (void)state;
    SKIP_WITHOUT_HMAC();
    st_test_vectors v;
    st_test_vectors_open(&v, "ipc/handshake.txt");
    int cases = 0;
    while (st_test_vectors_next(&v)) {
        if (v.line[0] == '#')
            continue;
        assert_int_equal(v.nfields, 4);
        char got[8192], want[8192];
        handshake_case(v.field[0][0], v.field[1] + 1, got, sizeof got);
        snprintf(want, sizeof want, "%s\t%s", v.field[2], v.field[3]);
        if (strcmp(got, want) != 0)
            fail_msg("line %d (%s):\n  CPython: %s\n  ours:    %s", v.lineno, v.field[0], want, got);
        cases++;
    }
    st_test_vectors_close(&v);
    assert_true(cases >= 30);
    /* The vectors are still what a live CPython 3.13 says: the generator, run again. */
    char code[2048];
    snprintf(code, sizeof code,
             "import sys, tempfile\n"
             "sys.path.insert(0, '%s/gen')\n"
             "import gen_ipc\n"
             "with tempfile.TemporaryDirectory() as d:\n"
             "    sys.argv = ['gen_ipc.py', d]\n"
             "    gen_ipc.main()\n"
             "    now = [l for l in open(d + '/handshake.txt') if l[0] != '#']\n"
             "then = [l for l in open('%s/vectors/ipc/handshake.txt') if l[0] != '#']\n"
             "print('same' if now == then else 'differ')\n",
             ST_TEST_SOURCE_DIR, ST_TEST_SOURCE_DIR);
    char *live = pyref_eval(code);
    if (live)
        assert_string_equal(live, "same");
    free(live);
}

/* A CPython <= 3.11 (the legacy HMAC-MD5 handshake): python3 on PATH when it is one (the
 * machine image's default), else none. None under emulation either (ST_PYTHON3 set empty). */
static const char *legacy_python(void)
{
    static char found[1024];
    static int searched;
    if (!searched) {
        searched = 1;
        const char *given = getenv("ST_PYTHON3");
        FILE *f = given && !given[0] ? NULL
                  : popen("python3 -c 'import sys; print(sys.executable if sys.version_info < "
                          "(3, 12) else \"\")' 2>/dev/null", "r");
        if (f) {
            if (!fgets(found, sizeof found, f))
                found[0] = '\0';
            found[strcspn(found, "\n")] = '\0';
            pclose(f);
        }
    }
    if (!found[0])
        print_message("[  SKIP    ] no CPython 3.11 or older (python3 on PATH) for the legacy "
                      "HMAC-MD5 handshake\n");
    return found[0] ? found : NULL;
}

/* Starts `py -c code args...` with its stdout on a pipe. */
static pid_t spawn_python(const char *py, const char *code, const char *const *args, FILE **out)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    const char *argv[16] = {py, "-c", code};
    size_t n = 3;
    for (; args[n - 3]; n++)
        argv[n] = args[n - 3];
    argv[n] = NULL;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(p[1], 1);
        close(p[0]);
        close(p[1]);
        execv(py, (char *const *)(uintptr_t)argv);
        _exit(127);
    }
    close(p[1]);
    *out = fdopen(p[0], "r");
    assert_non_null(*out);
    return pid;
}

static void expect_exit_0(pid_t pid)
{
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* A CPython Listener serving C clients: prints its path or port, then serves argv[3]
 * connections (echoing bytes until EOF), counting the ones refused. argv[1] is 'tcp', a path,
 * or '@name' for the abstract name NUL + name. */
static const char *const PY_LISTENER =
    "import sys\n"
    "from multiprocessing.connection import Listener, AuthenticationError\n"
    "a = sys.argv[1]\n"
    "addr = ('127.0.0.1', 0) if a == 'tcp' else '\\0' + a[1:] if a[0] == '@' else a\n"
    "n = int(sys.argv[3])\n"
    "with Listener(addr, authkey=sys.argv[2].encode(), backlog=16) as l:\n"
    "    a = l.address\n"
    "    print(a[1] if isinstance(a, tuple) else a if isinstance(a, str) else a[1:].decode(), flush=True)\n"
    "    served = refused = 0\n"
    "    while served + refused < n:\n"
    "        try:\n"
    "            c = l.accept()\n"
    "        except AuthenticationError as e:\n"
    "            refused += 1\n"
    "            print('refused:', e, flush=True)\n"
    "            continue\n"
    "        with c:\n"
    "            while True:\n"
    "                try:\n"
    "                    m = c.recv_bytes()\n"
    "                except EOFError:\n"
    "                    break\n"
    "                c.send_bytes(m)\n"
    "        served += 1\n"
    "    print('served', served, 'refused', refused)\n";

/* Where the CPython peers listen or connect: a path, TCP, or an abstract name. */
enum { ON_PATH, ON_TCP, ON_ABSTRACT };

/* The C address for `where` and the argument that tells the Python scripts the same place
 * (a path, "tcp" / "tcp:PORT", "@name" for the abstract name NUL + name). */
static st_ipc_address peer_address(int where, const char *dir, const char *file, char *path,
                                   char *arg, size_t cap)
{
    st_ipc_address a = unix_address(path);
    if (where == ON_ABSTRACT) {
        a.path_len = (size_t)snprintf(path, cap, "%c%s-%ld", 0, file, (long)getpid());
        snprintf(arg, cap, "@%s", path + 1);
    } else {
        snprintf(path, cap, "%s/%s", dir, file);
        snprintf(arg, cap, "%s", where == ON_TCP ? "tcp" : path);
    }
    return a;
}

static void python_listener_c_clients(const char *py, int where, const char *dir)
{
    char path[256], arg[256], line[512];
    st_ipc_address a = peer_address(where, dir, "py-listener", path, arg, sizeof path);
    const char *args[] = {arg, KEY, "9", NULL};
    FILE *out;
    pid_t pid = spawn_python(py, PY_LISTENER, args, &out);
    assert_non_null(fgets(line, sizeof line, out)); /* it listens once it has printed */
    line[strcspn(line, "\n")] = '\0';
    if (where == ON_TCP)
        a = inet_address(ST_IPC_AF_INET, "127.0.0.1", atoi(line));
    else
        assert_string_equal(line, where == ON_ABSTRACT ? path + 1 : path);
    /* A wrong key first: refused on both sides. */
    st_ipc_client_options wrong = client_opts("not the key");
    assert_null(st_ipc_client(&a, &wrong));
    assert_int_equal(st_error_code(), ST_EAUTH);
    assert_string_equal(st_error_message(), "digest sent was rejected");
    assert_non_null(fgets(line, sizeof line, out));
    assert_string_equal(line, "refused: digest received was wrong\n");
    /* Eight clients at once with the key. */
    client_job jobs[8];
    char texts[8][32];
    for (int i = 0; i < 8; i++) {
        snprintf(texts[i], sizeof texts[i], "from C client %d", i);
        client_start(&jobs[i], a, KEY, texts[i]);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(jobs[i].thread, NULL);
        if (jobs[i].rc != 0)
            fail_msg("client %d: %s", i, jobs[i].message);
    }
    assert_non_null(fgets(line, sizeof line, out));
    assert_string_equal(line, "served 8 refused 1\n");
    fclose(out);
    expect_exit_0(pid);
}

/* CPython clients of a C listener: a wrong key, then argv[3] clients at once in threads, each
 * sending a value and checking that it comes back. */
static const char *const PY_CLIENTS =
    "import sys, threading\n"
    "from multiprocessing.connection import Client, AuthenticationError\n"
    "a = sys.argv[1]\n"
    "addr = ('127.0.0.1', int(a[4:])) if a[:4] == 'tcp:' else '\\0' + a[1:] if a[0] == '@' else a\n"
    "try:\n"
    "    Client(addr, authkey=b'not the key')\n"
    "except AuthenticationError as e:\n"
    "    print('wrong key:', e, flush=True)\n"
    "ok = []\n"
    "def talk(i):\n"
    "    with Client(addr, authkey=sys.argv[2].encode()) as c:\n"
    "        v = {'i': i, 'data': list(range(i)), 'text': 'h\\u00e9llo', 'raw': bytes([i]) * i}\n"
    "        c.send(v)\n"
    "        if c.recv() == v:\n"
    "            ok.append(i)\n"
    "ts = [threading.Thread(target=talk, args=(i,)) for i in range(int(sys.argv[3]))]\n"
    "for t in ts: t.start()\n"
    "for t in ts: t.join()\n"
    "print('ok', len(ok))\n";

static void *echo_values(void *arg)
{
    st_connection *c = arg;
    st_value *v;
    while ((v = st_connection_recv(c, ST_NO_TIMEOUT))) {
        int r = st_connection_send(c, v);
        st_value_unref(v);
        if (r < 0)
            break;
    }
    st_connection_free(c);
    return NULL;
}

static void c_listener_python_clients(const char *py, int where, const char *dir)
{
    char path[256], arg[256], line[512];
    st_listener_options o = listener_opts(KEY);
    o.backlog = 16;
    st_ipc_address ua = peer_address(where, dir, "c-listener", path, arg, sizeof path);
    st_listener *l = where == ON_TCP ? loopback_listener(ST_IPC_AF_INET, &o) : st_listener_new(&ua, &o);
    assert_non_null(l);
    if (where == ON_TCP)
        snprintf(arg, sizeof arg, "tcp:%d", st_listener_address(l)->port);
    const char *args[] = {arg, KEY, "8", NULL};
    FILE *out;
    pid_t pid = spawn_python(py, PY_CLIENTS, args, &out);
    assert_null(st_listener_accept(l));
    assert_int_equal(st_error_code(), ST_EAUTH);
    assert_string_equal(st_error_message(), "digest received was wrong");
    pthread_t threads[8];
    for (int i = 0; i < 8; i++) {
        st_connection *c = st_listener_accept(l);
        if (!c)
            fail_msg("accept %d: %s: %s", i, st_error_last()->type, st_error_message());
        assert_int_equal(pthread_create(&threads[i], NULL, echo_values, c), 0);
    }
    for (int i = 0; i < 8; i++)
        pthread_join(threads[i], NULL);
    assert_non_null(fgets(line, sizeof line, out));
    assert_string_equal(line, "wrong key: digest sent was rejected\n");
    assert_non_null(fgets(line, sizeof line, out));
    assert_string_equal(line, "ok 8\n");
    fclose(out);
    expect_exit_0(pid);
    st_listener_free(l);
}

static void test_listener_cpython(void **state)
{
    (void)state;
    SKIP_WITHOUT_HMAC();
    const char *pys[] = {pyref_python(), legacy_python()};
    char *dir = sock_dir();
    /* Abstract names where this system has them (Linux). */
    char name[64];
    int n = snprintf(name, sizeof name, "%cst-conn-probe-%ld", 0, (long)getpid());
    st_ipc_address probe = {ST_IPC_AF_UNIX, name, (size_t)n, NULL, 0};
    st_listener *pl = st_listener_new(&probe, NULL);
    int places = pl ? 3 : 2;
    if (!pl)
        print_message("[  SKIP    ] abstract names with CPython: %s\n", st_error_message());
    st_listener_free(pl);
    for (int v = 0; v < 2; v++) {
        if (!pys[v])
            continue;
        for (int where = ON_PATH; where < places; where++) {
            python_listener_c_clients(pys[v], where, dir);
            c_listener_python_clients(pys[v], where, dir);
        }
    }
    assert_int_equal(rmdir(dir), 0);
    free(dir);
}

/* wait(): connections, a listener and a plain descriptor; read-ahead counts as ready. */
static void test_ipc_wait(void **state)
{
    (void)state;
    st_connection *a, *b;
    assert_int_equal(st_ipc_pipe(&a, &b, 1), 0);
    st_listener *l = st_listener_new(NULL, NULL);
    assert_non_null(l);
    int p[2];
    assert_int_equal(pipe(p), 0);
    st_ipc_waitable w[3] = {{b, NULL, -1, 7}, {NULL, l, -1, 7}, {NULL, NULL, p[0], 7}};
    size_t n = 99;
    assert_int_equal(st_ipc_wait(w, 3, 0, &n), 0); /* nothing yet: 0 at once */
    assert_int_equal(n, 0);
    assert_int_equal(w[0].ready + w[1].ready + w[2].ready, 0);
    double t0 = st_test_now();
    assert_int_equal(st_ipc_wait(w, 3, 0.05, &n), 0); /* the time runs out */
    assert_true(st_test_now() - t0 >= 0.045);
    assert_int_equal(n, 0);
    /* Two messages: one receive reads both ahead; the connection stays ready though its
     * descriptor is drained. */
    assert_int_equal(st_connection_send_bytes(a, "one", 3), 0);
    assert_int_equal(st_connection_send_bytes(a, "two", 3), 0);
    assert_int_equal(st_ipc_wait(w, 3, ST_NO_TIMEOUT, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(w[0].ready, 1);
    recv_expect(b, "one", 3);
    assert_int_equal(st_ipc_wait(w, 3, ST_NO_TIMEOUT, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(w[0].ready, 1);
    recv_expect(b, "two", 3);
    /* A client at the listener, bytes in the pipe. */
    st_connection *c = st_ipc_client(st_listener_address(l), NULL);
    assert_non_null(c);
    assert_int_equal(write(p[1], "x", 1), 1);
    assert_int_equal(st_ipc_wait(w, 3, 5.0, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(w[0].ready, 0);
    assert_int_equal(w[1].ready, 1);
    assert_int_equal(w[2].ready, 1);
    /* Many objects at once (past the stack array). */
    st_ipc_waitable many[40];
    for (int i = 0; i < 40; i++)
        many[i] = (st_ipc_waitable){NULL, NULL, i == 39 ? p[0] : p[1], 0};
    assert_int_equal(st_ipc_wait(many, 40, 0, &n), 0);
    assert_int_equal(many[39].ready, 1);
    /* Errors: a closed connection or listener, a negative descriptor. */
    st_connection_close(b);
    assert_int_equal(st_ipc_wait(w, 1, 0, &n), -1);
    assert_string_equal(st_error_message(), "handle is closed");
    st_listener_close(l);
    assert_int_equal(st_ipc_wait(w + 1, 1, 0, &n), -1);
    assert_string_equal(st_error_message(), "listener is closed");
    st_ipc_waitable neg = {NULL, NULL, -1, 0};
    assert_int_equal(st_ipc_wait(&neg, 1, 0, &n), -1);
    assert_int_equal(st_error_code(), ST_EVALUE);
    st_connection_free(c);
    st_connection_free(a);
    st_connection_free(b);
    st_listener_free(l);
    close(p[0]);
    close(p[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_queue_basics),
        cmocka_unit_test(test_queue_shutdown),
        cmocka_unit_test(test_queue_shutdown_wakes_waiter),
        cmocka_unit_test(test_queue_producers),
        cmocka_unit_test(test_queue_drain),
        cmocka_unit_test(test_conn_duplex),
        cmocka_unit_test(test_conn_closed),
        cmocka_unit_test(test_conn_recv_outcomes),
        cmocka_unit_test(test_frame_header),
        cmocka_unit_test(test_conn_simplex),
        cmocka_unit_test(test_conn_malformed),
        cmocka_unit_test(test_conn_read_ahead),
        cmocka_unit_test(test_conn_recv_into),
        cmocka_unit_test(test_conn_fork),
        cmocka_unit_test(test_conn_cpython),
        cmocka_unit_test(test_conn_values),
        cmocka_unit_test(test_conn_values_cpython),
        cmocka_unit_test(test_listener_options),
        cmocka_unit_test(test_listener_unix),
        cmocka_unit_test(test_listener_arbitrary_and_abstract),
        cmocka_unit_test(test_listener_tcp),
        cmocka_unit_test(test_listener_auth),
        cmocka_unit_test(test_listener_bad_peers),
        cmocka_unit_test(test_handshake_vectors),
        cmocka_unit_test(test_listener_cpython),
        cmocka_unit_test(test_ipc_wait),
    };
    return cmocka_run_group_tests(tests, NULL, NULL) + run_queue_module_tests();
}
