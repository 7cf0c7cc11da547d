/* ipc, the queue module beyond the basics test_ipc.c covers: the four classes and maxsize,
 * call for call against CPython 3.13's queue module; heapq's exact order; blocking puts,
 * task_done/join and 3.13's shutdown from other threads; waiters with and without timeouts
 * losing no wake-up; and st_queue_fileno(): readable exactly while items wait, with racing
 * producers and consumers losing no wake-up. */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "support/proof.h"
#include "support/support.h"
#include "ipc_queue.h"
#include "systools/common.h"
#include "systools/error.h"
#include "systools/ipc.h"
#include "systools/value.h"

static st_queue *make(st_queue_kind kind, size_t maxsize)
{
    st_queue_options o = ST_QUEUE_OPTIONS_INIT;
    o.kind = kind;
    o.maxsize = maxsize;
    st_queue *q = st_queue_new_with_options(&o);
    assert_non_null(q);
    return q;
}

/* Appends to a transcript: the repr of a value taken, "None" for a put, 0/1 for a predicate,
 * or the error's Python type. */
static void note(char *log, size_t cap, int rc, st_value *taken)
{
    size_t n = strlen(log);
    if (rc < 0) {
        snprintf(log + n, cap - n, "%s ", st_error_last()->type);
    } else if (taken) {
        char *r = st_value_repr(taken);
        snprintf(log + n, cap - n, "%s ", r);
        st_free(r);
        st_value_unref(taken);
    } else {
        snprintf(log + n, cap - n, "None ");
    }
}

static void note_get(char *log, size_t cap, st_queue *q, double timeout)
{
    st_queue_item it = {NULL, NULL, NULL};
    int rc = timeout == 0 ? st_queue_get_nowait(q, &it) : st_queue_get(q, timeout, &it);
    note(log, cap, rc, rc == 0 ? it.value : NULL);
}

static void note_int(char *log, size_t cap, size_t v)
{
    size_t n = strlen(log);
    snprintf(log + n, cap - n, "%zu ", v);
}

static void test_queue_options(void **state)
{
    (void)state;
    ST_ASSERT_OPTIONS_INIT(st_queue_options, ST_QUEUE_OPTIONS_INIT, ST_QUEUE_OPTIONS_VERSION,
                           st_queue_options_init);
    st_queue_options zero = {0};
    assert_null(st_queue_new_with_options(&zero));
    assert_int_equal(st_error_code(), ST_EVALUE);
    st_queue *q = st_queue_new_with_options(NULL); /* queue.Queue() */
    assert_non_null(q);
    assert_int_equal(st_queue_maxsize(q), 0);
    assert_int_equal(st_queue_full(q), 0);
    st_queue_free(q);
    st_queue_options o = ST_QUEUE_OPTIONS_INIT;
    o.kind = (st_queue_kind)99;
    assert_null(st_queue_new_with_options(&o));
    assert_int_equal(st_error_code(), ST_EVALUE);
    o.kind = ST_QUEUE_SIMPLE;
    o.maxsize = 3;
    assert_null(st_queue_new_with_options(&o));
    assert_int_equal(st_error_code(), ST_ETYPE);
    assert_string_equal(st_error_message(), "SimpleQueue() takes no arguments");
}

/* The line of tests/vectors/queue/transcripts.txt whose first field is `name`: its fields
 * after the name (copied into ops, when not NULL, and the transcript returned, malloc'd). */
static char *vector_line(const char *name, char *ops, size_t ops_cap)
{
    st_test_vectors v;
    st_test_vectors_open(&v, "queue/transcripts.txt");
    char *found = NULL;
    while (!found && st_test_vectors_next(&v)) {
        if (strcmp(v.field[0], name) != 0)
            continue;
        if (ops) {
            assert_int_equal(v.nfields, 3);
            snprintf(ops, ops_cap, "%s", v.field[1]);
        }
        found = strdup(v.field[v.nfields - 1]);
    }
    st_test_vectors_close(&v);
    assert_non_null(found);
    return found;
}

/* Compares a transcript (its trailing space dropped) with the committed vector, then with a
 * live CPython 3.13 running the generator (which also proves the vector current). */
static void expect_transcript(const char *name, const char *ops, char *got)
{
    size_t n = strlen(got);
    if (n && got[n - 1] == ' ')
        got[n - 1] = '\0';
    char vops[2048] = "";
    char *want = vector_line(name, ops ? vops : NULL, sizeof vops);
    if (ops)
        assert_string_equal(ops, vops);
    assert_string_equal(got, want);
    free(want);
    char *live = pyref_eval("import runpy, sys\n"
                            "sys.argv = ['gen_queue.py', '--print']\n"
                            "sys.path.insert(0, '" ST_TEST_SOURCE_DIR "/gen')\n"
                            "runpy.run_path('" ST_TEST_SOURCE_DIR "/gen/gen_queue.py', "
                            "run_name='__main__')");
    if (!live)
        return;
    char prefix[64];
    snprintf(prefix, sizeof prefix, "%s\t", name);
    char *line = strstr(live, prefix);
    assert_non_null(line);
    line += strlen(prefix);
    if (ops) {
        assert_memory_equal(line, ops, strlen(ops));
        line += strlen(ops) + 1;
    }
    char *end = strchr(line, '\n');
    if (end)
        *end = '\0';
    assert_string_equal(got, line);
    free(live);
}

/* The same calls on Queue(2), LifoQueue(2), PriorityQueue(2) and SimpleQueue(), as CPython
 * 3.13 answers them (tests/vectors/queue/, from tests/gen/gen_queue.py, and live): order,
 * Full, Empty, full()/empty()/qsize(), task_done() too many times, SimpleQueue's missing
 * methods; then a PriorityQueue of mixed tuples drained in `<` order. */
static void test_queue_classes(void **state)
{
    (void)state;
    char got[2048] = "";
    const st_queue_kind kinds[] = {ST_QUEUE_FIFO, ST_QUEUE_LIFO, ST_QUEUE_PRIORITY,
                                   ST_QUEUE_SIMPLE};
    for (int k = 0; k < 4; k++) {
        st_queue *q = make(kinds[k], kinds[k] == ST_QUEUE_SIMPLE ? 0 : 2);
        note_int(got, sizeof got, (size_t)st_queue_empty(q));
        note(got, sizeof got, st_queue_put_nowait_steal(q, st_value_int(3)), NULL);
        note(got, sizeof got, st_queue_put_steal(q, st_value_int(1)), NULL);
        note(got, sizeof got, st_queue_put_nowait_steal(q, st_value_int(2)), NULL);
        note(got, sizeof got, st_queue_put_timeout_steal(q, st_value_int(4), 0.01), NULL);
        note_int(got, sizeof got, st_queue_qsize(q));
        note_int(got, sizeof got, (size_t)st_queue_full(q));
        note_get(got, sizeof got, q, 0);
        note(got, sizeof got, st_queue_put_steal(q, st_value_int(0)), NULL);
        note_get(got, sizeof got, q, ST_NO_TIMEOUT);
        note_get(got, sizeof got, q, 0.01);
        note_get(got, sizeof got, q, 0.01);
        note_get(got, sizeof got, q, 0);
        for (int i = 0; i < 5; i++)
            note(got, sizeof got, st_queue_task_done(q), NULL);
        note(got, sizeof got, st_queue_join(q), NULL);
        note_int(got, sizeof got, (size_t)st_queue_empty(q));
        st_queue_free(q);
    }
    /* A PriorityQueue orders by `<`: tuples item by item, ints with floats, strs by code point. */
    st_queue *q = make(ST_QUEUE_PRIORITY, 0);
    const char *items[] = {"(2, 'b')", "(1, 'z')", "(1, 'a')", "(1.5, '')", "(True, 'é')",
                           "(-1e300, 'x')", "(2**80, 'big')", "(2**80, 'bi')", "(float('inf'), 0)"};
    for (size_t i = 0; i < sizeof items / sizeof *items; i++) {
        st_value *v = NULL;
        if (strstr(items[i], "**"))
            v = st_value_parse(strstr(items[i], "'big'") ? "(1208925819614629174706176, 'big')"
                                                         : "(1208925819614629174706176, 'bi')");
        else if (strstr(items[i], "inf"))
            v = st_value_parse("(1e999, 0)");
        else
            v = st_value_parse(items[i]);
        note(got, sizeof got, st_queue_put_steal(q, v), NULL);
    }
    while (st_queue_qsize(q) > 0)
        note_get(got, sizeof got, q, 0);
    st_queue_free(q);

    expect_transcript("classes", NULL, got);
}

/* The storage grows while its items wrap around the ring's end (and while a bounded queue
 * nears its maxsize): every item still comes out once, in FIFO or LIFO order. */
static void test_queue_growth_order(void **state)
{
    (void)state;
    const struct {
        st_queue_kind kind;
        size_t maxsize;
    } cases[] = {{ST_QUEUE_FIFO, 0}, {ST_QUEUE_FIFO, 100}, {ST_QUEUE_FIFO, 1000},
                 {ST_QUEUE_SIMPLE, 0}, {ST_QUEUE_LIFO, 0}};
    /* Puts then gets in rounds whose counts make the head sit early, late and mid-ring when
     * the storage (64, 128, ...) fills. */
    const int rounds[][2] = {{50, 30}, {60, 0}, {10, 75}, {150, 20}, {100, 140}, {400, 100}};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        st_queue *q = make(cases[c].kind, cases[c].maxsize);
        int64_t shadow[1024], next = 0;
        size_t first = 0, n = 0; /* the shadow's items: [first, first + n) */
        for (size_t r = 0; r < sizeof rounds / sizeof *rounds; r++) {
            for (int i = 0; i < rounds[r][0]; i++) {
                int rc = st_queue_put_nowait_steal(q, st_value_int(next));
                if (cases[c].maxsize && n == cases[c].maxsize) {
                    assert_int_equal(rc, -1); /* queue.Full */
                    continue;
                }
                assert_int_equal(rc, 0);
                shadow[first + n++] = next++;
            }
            for (int i = 0; i < rounds[r][1] && n > 0; i++) {
                st_queue_item it;
                int64_t got = -1;
                assert_int_equal(st_queue_get_nowait(q, &it), 0);
                assert_int_equal(st_value_as_int64(it.value, &got), 0);
                st_value_unref(it.value);
                int64_t want = cases[c].kind == ST_QUEUE_LIFO ? shadow[first + --n]
                                                                : (n--, shadow[first++]);
                assert_int_equal(got, want);
            }
            assert_int_equal(st_queue_qsize(q), n);
        }
        st_queue_free(q);
    }
}

/* Items that `<` cannot order: TypeError with heapq's message; here the queue is left as it
 * was (Python leaves the item in its heap). Callbacks order with nothing. */
static int calls;
static void bump(void *arg)
{
    (void)arg;
    calls++;
}

static void test_queue_priority_errors(void **state)
{
    (void)state;
    st_queue *q = make(ST_QUEUE_PRIORITY, 0);
    assert_int_equal(st_queue_put_steal(q, st_value_parse("{'a': 1}")), 0);
    assert_int_equal(st_queue_put_steal(q, st_value_parse("{'b': 1}")), -1);
    assert_int_equal(st_error_code(), ST_ETYPE);
    assert_string_equal(st_error_message(),
                        "'<' not supported between instances of 'dict' and 'dict'");
    assert_int_equal(st_queue_qsize(q), 1);
    assert_int_equal(st_queue_put_steal(q, st_value_int(1)), -1);
    assert_string_equal(st_error_message(),
                        "'<' not supported between instances of 'int' and 'dict'");
    assert_int_equal(st_queue_put_callback(q, bump, NULL), -1);
    assert_string_equal(st_error_message(),
                        "'<' not supported between instances of 'function' and 'dict'");
    st_queue_item it;
    assert_int_equal(st_queue_get_nowait(q, &it), 0);
    st_value_unref(it.value);
    assert_int_equal(st_queue_put_callback(q, bump, NULL), 0); /* alone: nothing to compare */
    assert_int_equal(st_queue_drain(q, 10, NULL, NULL), 1);
    assert_int_equal(calls, 1);

    /* Items that compare at put time but not at get time: (2, {}) and (2, {'y': 0}) are
     * each compared with (1, {'x': 0}) only (the ints decide), but heappop compares them
     * with each other. The failing get leaves every item in place (Python loses the first),
     * and a drain stops there with the error set. */
    assert_int_equal(st_queue_put_steal(q, st_value_parse("(1, {'x': 0})")), 0);
    assert_int_equal(st_queue_put_steal(q, st_value_parse("(2, {})")), 0);
    assert_int_equal(st_queue_put_steal(q, st_value_parse("(2, {'y': 0})")), 0);
    assert_int_equal(st_queue_get_nowait(q, &it), -1);
    assert_string_equal(st_error_message(),
                        "'<' not supported between instances of 'dict' and 'dict'");
    assert_int_equal(st_queue_qsize(q), 3);
    assert_int_equal(st_queue_drain(q, 10, NULL, NULL), 0);
    assert_int_equal(st_error_code(), ST_ETYPE);
    assert_int_equal(st_queue_qsize(q), 3);
    /* Sets order by inclusion; None not at all. */
    assert_int_equal(st_queue_put_steal(q, st_value_parse("(1, {1})")), -1);
    assert_string_equal(st_error_message(),
                        "'<' not supported between instances of 'set' and 'dict'");
    st_queue_free(q);

    q = make(ST_QUEUE_PRIORITY, 0);
    assert_int_equal(st_queue_put_steal(q, st_value_parse("{1, 2}")), 0);
    assert_int_equal(st_queue_put_steal(q, st_value_parse("{1}")), 0);
    assert_int_equal(st_queue_put_steal(q, st_value_none()), -1);
    assert_string_equal(st_error_message(),
                        "'<' not supported between instances of 'NoneType' and 'set'");
    assert_int_equal(st_queue_get_nowait(q, &it), 0);
    char *r = st_value_repr(it.value);
    assert_string_equal(r, "{1}");
    st_free(r);
    st_value_unref(it.value);
    st_queue_free(q);
}

/* heapq's exact order, not just some valid one: values that are equal under `<` (1, 1.0,
 * True) come out in the order heapq's sifting leaves them, over a random mix of puts and gets
 * (the mix is the vector's), as CPython's heapq does. */
static void test_queue_priority_heapq(void **state)
{
    (void)state;
    static const char *const reprs[] = {"0", "1", "1.0", "True", "2", "2.0", "False", "0.0", "3"};
    char ops[2048], got[8192] = "";
    free(vector_line("heapq", ops, sizeof ops));
    st_queue *q = make(ST_QUEUE_PRIORITY, 0);
    for (const char *c = ops; *c; c++) {
        if (*c == 'g')
            note_get(got, sizeof got, q, 0);
        else
            assert_int_equal(st_queue_put_steal(q, st_value_parse(reprs[*c - '0'])), 0);
    }
    while (st_queue_qsize(q) > 0)
        note_get(got, sizeof got, q, 0);
    st_queue_free(q);
    expect_transcript("heapq", ops, got);
}

/* Python's `<` across int and float where a double cannot hold the int (beyond 2**53, 2**63,
 * 2**80), against the floats equal or next to them, signed and infinite: the drain order of
 * a PriorityQueue, as CPython's. */
static void test_queue_priority_numbers(void **state)
{
    (void)state;
    char lits[2048], got[4096] = "";
    free(vector_line("numbers", lits, sizeof lits));
    st_queue *q = make(ST_QUEUE_PRIORITY, 0);
    char copy[2048];
    snprintf(copy, sizeof copy, "%s", lits);
    char *save = NULL;
    for (char *lit = strtok_r(copy, " ", &save); lit; lit = strtok_r(NULL, " ", &save))
        assert_int_equal(st_queue_put_steal(q, st_value_parse(lit)), 0);
    while (st_queue_qsize(q) > 0)
        note_get(got, sizeof got, q, 0);
    st_queue_free(q);
    expect_transcript("numbers", lits, got);
}

/* ---- blocking from other threads ---------------------------------------------------------- */

typedef struct job {
    st_queue *q;
    int rc;
    st_errcode code;
} job;

static void *put_blocking(void *arg)
{
    job *j = arg;
    j->rc = st_queue_put_steal(j->q, st_value_int(99));
    j->code = j->rc < 0 ? st_error_code() : ST_OK;
    return NULL;
}

static void *join_blocking(void *arg)
{
    job *j = arg;
    j->rc = st_queue_join(j->q);
    return NULL;
}

static void test_queue_bounded_blocking(void **state)
{
    (void)state;
    /* A put on a full queue waits until a get makes room. */
    st_queue *q = make(ST_QUEUE_FIFO, 1);
    assert_int_equal(st_queue_put_steal(q, st_value_int(1)), 0);
    job j = {q, -2, ST_OK};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, put_blocking, &j), 0);
    st_queue_item it;
    assert_int_equal(st_queue_get(q, ST_NO_TIMEOUT, &it), 0); /* 1, then room for 99 */
    st_value_unref(it.value);
    assert_int_equal(st_queue_get(q, 10, &it), 0);
    int64_t v;
    assert_int_equal(st_value_as_int64(it.value, &v), 0);
    assert_int_equal(v, 99);
    st_value_unref(it.value);
    pthread_join(t, NULL);
    assert_int_equal(j.rc, 0);

    /* A timed put gives queue.Full after its time; a waiting put fails with ShutDown on
     * either kind of shutdown. */
    assert_int_equal(st_queue_put_steal(q, st_value_int(1)), 0);
    double t0 = st_test_now();
    assert_int_equal(st_queue_put_timeout_steal(q, st_value_int(2), 0.05), -1);
    assert_true(st_test_now() - t0 >= 0.04);
    assert_int_equal(st_error_code(), ST_ETIMEOUT);
    assert_string_equal(st_error_last()->type, "queue.Full");
    assert_int_equal(st_queue_put_callback_timeout(q, bump, NULL, 0), -1);
    assert_string_equal(st_error_last()->type, "queue.Full");
    assert_int_equal(st_queue_full(q), 1);
    j.rc = -2;
    assert_int_equal(pthread_create(&t, NULL, put_blocking, &j), 0);
    /* The put is waiting (or about to): shut down, it must fail, not hang. */
    st_queue_shutdown(q, 0);
    pthread_join(t, NULL);
    assert_int_equal(j.rc, -1);
    assert_int_equal(j.code, ST_ESTATE);
    st_queue_free(q);

    /* Memory stays at maxsize: the storage never grows past it. */
    q = make(ST_QUEUE_FIFO, 3);
    for (int round = 0; round < 100; round++) {
        while (st_queue_put_nowait_steal(q, st_value_int(round)) == 0)
            ;
        assert_int_equal(st_queue_qsize(q), 3);
        assert_int_equal(st_queue_get_nowait(q, &it), 0);
        st_value_unref(it.value);
    }
    st_queue_free(q);
}

static void test_queue_task_done_join(void **state)
{
    (void)state;
    st_queue *q = make(ST_QUEUE_FIFO, 0);
    assert_int_equal(st_queue_join(q), 0); /* nothing unfinished: at once */
    assert_int_equal(st_queue_task_done(q), -1);
    assert_int_equal(st_error_code(), ST_EVALUE);
    assert_string_equal(st_error_message(), "task_done() called too many times");
    for (int i = 0; i < 3; i++)
        assert_int_equal(st_queue_put_steal(q, st_value_int(i)), 0);
    job j = {q, -2, ST_OK};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, join_blocking, &j), 0);
    st_queue_item it;
    for (int i = 0; i < 3; i++) { /* join returns only after the third task_done */
        assert_int_equal(st_queue_get_nowait(q, &it), 0);
        st_value_unref(it.value);
        assert_int_equal(st_queue_task_done(q), 0);
    }
    pthread_join(t, NULL);
    assert_int_equal(j.rc, 0);

    /* 3.13: an immediate shutdown counts the dropped items as done and wakes join(); one
     * taken but not marked done keeps it waiting until task_done(). */
    for (int i = 0; i < 4; i++)
        assert_int_equal(st_queue_put_steal(q, st_value_int(i)), 0);
    assert_int_equal(st_queue_get_nowait(q, &it), 0);
    st_value_unref(it.value);
    j.rc = -2;
    assert_int_equal(pthread_create(&t, NULL, join_blocking, &j), 0);
    st_queue_shutdown(q, 1);
    assert_int_equal(st_queue_task_done(q), 0);
    pthread_join(t, NULL);
    assert_int_equal(j.rc, 0);
    assert_int_equal(st_queue_task_done(q), -1);
    st_queue_free(q);

    q = make(ST_QUEUE_SIMPLE, 0);
    assert_int_equal(st_queue_join(q), -1);
    assert_string_equal(st_error_last()->type, "AttributeError");
    assert_string_equal(st_error_message(), "'_queue.SimpleQueue' object has no attribute 'join'");
    st_queue_free(q);
}

/* ---- the descriptor ----------------------------------------------------------------------- */

static int readable(int fd)
{
    struct pollfd p = {fd, POLLIN, 0};
    int r = poll(&p, 1, 0);
    assert_true(r >= 0);
    return r > 0 && (p.revents & POLLIN);
}

static void test_queue_fileno(void **state)
{
    (void)state;
    int before = st_test_count_fds();
    const st_queue_kind kinds[] = {ST_QUEUE_FIFO, ST_QUEUE_LIFO, ST_QUEUE_PRIORITY,
                                   ST_QUEUE_SIMPLE};
    for (int k = 0; k < 4; k++) {
        st_queue *q = make(kinds[k], 0);
        assert_int_equal(st_queue_put_steal(q, st_value_int(7)), 0); /* before the fd exists */
        int fd = st_queue_fileno(q);
        assert_true(fd >= 0);
        assert_int_equal(st_queue_fileno(q), fd);
        assert_true(readable(fd));
        st_queue_item it;
        assert_int_equal(st_queue_get_nowait(q, &it), 0);
        st_value_unref(it.value);
        assert_false(readable(fd));
        assert_int_equal(st_queue_put_steal(q, st_value_int(1)), 0);
        assert_int_equal(st_queue_put_steal(q, st_value_int(2)), 0);
        assert_true(readable(fd));
        assert_int_equal(st_queue_drain(q, 100, NULL, NULL), 2);
        assert_false(readable(fd));
        assert_int_equal(st_queue_put_callback(q, bump, NULL), 0);
        assert_true(readable(fd));
        assert_int_equal(st_queue_get_nowait(q, &it), 0);
        assert_false(readable(fd));
        /* Shut down: readable from then on, empty or not, so a loop sees the end. */
        assert_int_equal(st_queue_put_steal(q, st_value_int(3)), 0);
        st_queue_shutdown(q, 0);
        assert_true(readable(fd));
        assert_int_equal(st_queue_get_nowait(q, &it), 0);
        st_value_unref(it.value);
        assert_true(readable(fd));
        assert_int_equal(st_queue_get_nowait(q, &it), -1);
        assert_int_equal(st_error_code(), ST_ESTATE);
        assert_true(readable(fd));
        st_queue_free(q);
    }
    /* Immediate shutdown of a queue whose fd was made empty; freeing closes it. */
    st_queue *q = make(ST_QUEUE_FIFO, 0);
    int fd = st_queue_fileno(q);
    assert_false(readable(fd));
    st_queue_shutdown(q, 1);
    assert_true(readable(fd));
    st_queue_free(q);
    if (before >= 0)
        assert_int_equal(st_test_count_fds(), before);
}

/* Producers put while a poll() loop drains: every state change of the descriptor races with
 * a put on another thread. With the loop the only consumer, a lost wake-up would leave poll()
 * asleep while items wait (the 10 s deadline catches it). Then a second consumer takes with
 * blocking gets at the same time, so gets race too; then the descriptor is made while the
 * producers already put; last, bounded again with the descriptor made non-blocking by the
 * loop, as GLib's and libuv's loops may do. Every item arrives exactly once, and once all is
 * taken the descriptor says so. */
enum { RACE_PRODUCERS = 4 };

typedef struct race {
    st_queue *q;
    int per_producer;
    int id;
    unsigned char *seen; /* per item: how often it was taken (under seen_lock) */
    int nseen;
    pthread_mutex_t *seen_lock;
} race;

static void *race_producer(void *arg)
{
    race *r = arg;
    for (int i = 0; i < r->per_producer; i++)
        if (st_queue_put_steal(r->q, st_value_int((int64_t)r->id * r->per_producer + i)) < 0)
            return NULL;
    return NULL;
}

static void mark(race *r, st_value *v)
{
    int64_t i;
    if (st_value_as_int64(v, &i) == 0) {
        pthread_mutex_lock(r->seen_lock);
        r->seen[i]++;
        r->nseen++;
        pthread_mutex_unlock(r->seen_lock);
    }
}

static void on_race_value(void *ctx, st_value *v) { mark(ctx, v); }

static void *race_taker(void *arg)
{
    race *r = arg;
    st_queue_item it;
    while (st_queue_get(r->q, ST_NO_TIMEOUT, &it) == 0) { /* until ShutDown */
        mark(r, it.value);
        st_value_unref(it.value);
    }
    return NULL;
}

static void test_queue_fileno_race(void **state)
{
    (void)state;
    const int per = ST_PROOF_SIZE(20000, 200000), total = RACE_PRODUCERS * per;
    /* unbounded, bounded (16), with a second taker, the descriptor made while producers run,
     * bounded (16) with O_NONBLOCK set on the descriptor */
    for (int mode = 0; mode < 5; mode++) {
        st_queue *q = make(ST_QUEUE_FIFO, mode == 1 || mode == 4 ? 16 : 0);
        pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;
        race shared = {q, per, 0, calloc((size_t)total, 1), 0, &seen_lock};
        assert_non_null(shared.seen);
        int fd = mode == 3 ? -1 : st_queue_fileno(q);
        if (mode == 4)
            assert_int_equal(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK), 0);
        race rs[RACE_PRODUCERS];
        pthread_t t[RACE_PRODUCERS], taker;
        for (int i = 0; i < RACE_PRODUCERS; i++) {
            rs[i] = shared;
            rs[i].id = i;
            assert_int_equal(pthread_create(&t[i], NULL, race_producer, &rs[i]), 0);
        }
        if (mode == 2)
            assert_int_equal(pthread_create(&taker, NULL, race_taker, &shared), 0);
        if (mode == 3)
            fd = st_queue_fileno(q);
        assert_true(fd >= 0);
        /* The main loop: sleep in poll() until readable, then drain without blocking. */
        for (;;) {
            pthread_mutex_lock(&seen_lock);
            int n = shared.nseen;
            pthread_mutex_unlock(&seen_lock);
            if (n >= total)
                break;
            struct pollfd p = {fd, POLLIN, 0};
            int r = poll(&p, 1, mode == 2 ? 50 : 10000);
            if (mode != 2)
                assert_true(r > 0); /* items wait or will: no wake-up in 10 s is a lost one */
            st_queue_drain(q, 5, on_race_value, &shared);
        }
        for (int i = 0; i < RACE_PRODUCERS; i++)
            pthread_join(t[i], NULL);
        assert_false(readable(fd)); /* every put and get returned: their changes are applied */
        st_queue_shutdown(q, 0);
        if (mode == 2)
            pthread_join(taker, NULL);
        assert_true(readable(fd));
        assert_int_equal(shared.nseen, total);
        for (int i = 0; i < total; i++)
            assert_int_equal(shared.seen[i], 1);
        free(shared.seen);
        st_queue_free(q);
    }
}

/* ---- waiters with and without timeouts on a tiny queue ----------------------------------- */

/* A put or get signals only a waiter that no signal woke yet, counting the woken off as they
 * come back; a timed waiter coming back by its timeout takes one off too. Mixed on a queue
 * of 2, timed waiters (10 us, so they time out often) first, then the timed consumers stop:
 * a wake-up counted for a waiter that never took it off leaves the consumers without a
 * timeout asleep for ever once they are alone (join() below never returns). */
typedef struct waiter_job {
    st_queue *q;
    int timed; /* retries on queue.Full / queue.Empty after a 10 us timeout */
    int items; /* a producer's puts, a timed consumer's gets (an untimed one: until shut down) */
    atomic_long *sum;
    int rc;
} waiter_job;

static void *waiter_producer(void *arg)
{
    waiter_job *j = arg;
    for (int i = 1; i <= j->items && j->rc == 0; i++) {
        while ((j->rc = j->timed ? st_queue_put_timeout_steal(j->q, st_value_int(i), 1e-5)
                                 : st_queue_put_steal(j->q, st_value_int(i))) < 0 &&
               st_error_code() == ST_ETIMEOUT)
            ;
    }
    return NULL;
}

static void *waiter_consumer(void *arg)
{
    waiter_job *j = arg;
    st_queue_item it;
    for (int taken = 0; !j->timed || taken < j->items; taken++) {
        if (st_queue_get(j->q, j->timed ? 1e-5 : ST_NO_TIMEOUT, &it) < 0) {
            if (st_error_code() == ST_ETIMEOUT) {
                taken--;
                continue;
            }
            break; /* queue.ShutDown: the end */
        }
        int64_t v = 0;
        st_value_as_int64(it.value, &v);
        st_value_unref(it.value);
        atomic_fetch_add(j->sum, (long)v);
        if (st_queue_task_done(j->q) < 0)
            j->rc = -1;
    }
    return NULL;
}

static void test_queue_waiters_race(void **state)
{
    (void)state;
    const int per = ST_PROOF_SIZE(2000, 20000), n = 4;
    st_queue *q = make(ST_QUEUE_FIFO, 2);
    atomic_long sum = 0;
    waiter_job jobs[2 * n];
    pthread_t t[2 * n];
    for (int i = 0; i < 2 * n; i++) {
        jobs[i] = (waiter_job){q, i % 2, i < n ? per : per / 2, &sum, 0};
        assert_int_equal(pthread_create(&t[i], NULL, i < n ? waiter_producer : waiter_consumer,
                                        &jobs[i]),
                         0);
    }
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(st_queue_join(q), 0); /* every item taken: no consumer slept through it */
    st_queue_shutdown(q, 0);
    for (int i = n; i < 2 * n; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < 2 * n; i++)
        assert_int_equal(jobs[i].rc, 0);
    assert_int_equal(atomic_load(&sum), (long)n * per * (per + 1) / 2);
    assert_int_equal(st_queue_qsize(q), 0);
    st_queue_free(q);
}

/* ---- wake-ups at their busiest ------------------------------------------------------------ */

/* A queue of one: every put but the first waits for a get and every get for a put, so each
 * item is one signal each way and the descriptor changes state twice. Producers put, a taker
 * gets without a timeout, another with a short one (its timeouts race with signals), and the
 * main loop polls the descriptor (made non-blocking, as a main loop may) and drains. A wake-up
 * lost anywhere leaves a thread asleep with its condition true: progress stops, which the
 * loop notices in 10 s rather than at the suite's timeout. Once all is taken the descriptor
 * must say so (a token read that failed with EAGAIN would leave it readable). */
typedef struct busiest {
    st_queue *q;
    int items;         /* a producer's */
    atomic_int *taken; /* by every consumer */
} busiest;

static void *busiest_producer(void *arg)
{
    busiest *b = arg;
    for (int i = 0; i < b->items; i++)
        if (st_queue_put_steal(b->q, st_value_none()) < 0)
            return NULL;
    return NULL;
}

static void busiest_value(void *ctx, st_value *v)
{
    (void)v;
    atomic_fetch_add(((busiest *)ctx)->taken, 1);
}

static void *busiest_taker(busiest *b, double timeout)
{
    st_queue_item it;
    for (;;) {
        if (st_queue_get(b->q, timeout, &it) == 0) {
            st_value_unref(it.value);
            atomic_fetch_add(b->taken, 1);
        } else if (st_error_code() != ST_ETIMEOUT) {
            return NULL; /* queue.ShutDown: the end */
        }
    }
}

static void *busiest_untimed(void *arg) { return busiest_taker(arg, ST_NO_TIMEOUT); }

static void *busiest_timed(void *arg) { return busiest_taker(arg, 1e-4); }

static void test_queue_wakeup_stress(void **state)
{
    (void)state;
    enum { PRODUCERS = 4 };
    atomic_int taken = 0;
    busiest b = {make(ST_QUEUE_FIFO, 1), ST_PROOF_SIZE(3000, 100000), &taken};
    const int total = PRODUCERS * b.items;
    int fd = st_queue_fileno(b.q);
    assert_true(fd >= 0);
    assert_int_equal(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK), 0);
    pthread_t t[PRODUCERS + 2];
    for (int i = 0; i < PRODUCERS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, busiest_producer, &b), 0);
    assert_int_equal(pthread_create(&t[PRODUCERS], NULL, busiest_untimed, &b), 0);
    assert_int_equal(pthread_create(&t[PRODUCERS + 1], NULL, busiest_timed, &b), 0);
    /* The takers may take every item while the loop sleeps: it looks at the count every 50 ms
     * and fails when it has not moved for 10 s. */
    int last = -1;
    double moved = st_test_now();
    for (int now; (now = atomic_load(&taken)) < total;) {
        if (now != last) {
            last = now;
            moved = st_test_now();
        }
        assert_true(st_test_now() - moved < 10.0);
        struct pollfd p = {fd, POLLIN, 0};
        assert_true(poll(&p, 1, 50) >= 0);
        st_queue_drain(b.q, 5, busiest_value, &b);
    }
    for (int i = 0; i < PRODUCERS; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(st_queue_qsize(b.q), 0);
    assert_false(readable(fd));
    st_queue_shutdown(b.q, 0); /* ends the takers */
    pthread_join(t[PRODUCERS], NULL);
    pthread_join(t[PRODUCERS + 1], NULL);
    assert_int_equal(atomic_load(&taken), total);
    assert_true(readable(fd));
    st_queue_free(b.q);
}

/* ---- wake-ups handed on -------------------------------------------------------------------- */

/* One put or get per thread, timed or not: it counts itself in `started` before, `done` after
 * (rc 0, or minus the error's code). */
typedef struct handoff {
    st_queue *q;
    double timeout;
    atomic_int *started, *done;
    int rc;
} handoff;

static void *handoff_get(void *arg)
{
    handoff *h = arg;
    st_queue_item it;
    atomic_fetch_add(h->started, 1);
    if ((h->rc = st_queue_get(h->q, h->timeout, &it)) == 0)
        st_value_unref(it.value);
    else
        h->rc = -st_error_code();
    atomic_fetch_add(h->done, 1);
    return NULL;
}

static void *handoff_put(void *arg)
{
    handoff *h = arg;
    atomic_fetch_add(h->started, 1);
    if ((h->rc = st_queue_put_timeout_steal(h->q, st_value_none(), h->timeout)) < 0)
        h->rc = -st_error_code();
    atomic_fetch_add(h->done, 1);
    return NULL;
}

/* Waits until *count reaches `want`, failing once it has not moved for 10 s. */
static void await_count(atomic_int *count, int want)
{
    int last = -1;
    double moved = st_test_now();
    for (int now; (now = atomic_load(count)) < want;) {
        if (now != last) {
            last = now;
            moved = st_test_now();
        }
        assert_true(st_test_now() - moved < 10.0);
        assert_int_equal(poll(NULL, 0, 1), 0);
    }
}

/* A waiter that a change woke hands the wake-up on while what it waited for still holds (room
 * after its put, items after its get): where the waits are futexes one wake-up is on its way at
 * a time, and the other puts or gets of a burst wake no one. So a burst that lets every waiter
 * on at once must let them all on, each waiter doing one put or get and nothing following the
 * burst: 4 gets asleep on an empty queue and 4 items put at once; 4 puts asleep on a full queue
 * of 4 and 4 items taken at once. Half the waits are timed (30 s, far past
 * the test). The threads are counted in before the burst, most of them asleep by then; the
 * rounds make the rest likely. A waiter left asleep stops the count, noticed in 10 s. */
static void test_queue_wakeup_handoff(void **state)
{
    (void)state;
    enum { N = 4 };
    const int rounds = ST_PROOF_SIZE(100, 3000);
    atomic_int started, done;
    handoff h[N];
    pthread_t t[N];
    for (int round = 0; round < rounds; round++) {
        int put = round % 2;
        st_queue *q = make(ST_QUEUE_FIFO, N);
        for (int i = 0; put && i < N; i++)
            assert_int_equal(st_queue_put_steal(q, st_value_none()), 0);
        atomic_store(&started, 0);
        atomic_store(&done, 0);
        for (int i = 0; i < N; i++) {
            h[i] = (handoff){q, i % 2 ? 30.0 : ST_NO_TIMEOUT, &started, &done, -2};
            assert_int_equal(pthread_create(&t[i], NULL, put ? handoff_put : handoff_get, &h[i]),
                             0);
        }
        await_count(&started, N);
        st_queue_item it;
        for (int i = 0; i < N; i++) {
            if (!put) {
                assert_int_equal(st_queue_put_nowait_steal(q, st_value_none()), 0);
            } else {
                assert_int_equal(st_queue_get_nowait(q, &it), 0);
                st_value_unref(it.value);
            }
        }
        await_count(&done, N);
        for (int i = 0; i < N; i++) {
            pthread_join(t[i], NULL);
            assert_int_equal(h[i].rc, 0);
        }
        assert_int_equal(st_queue_qsize(q), put ? N : 0);
        st_queue_free(q);
    }
}

/* A timed wait ends with the wake-up, not at its timeout; it ends at its timeout when nothing
 * comes; and shutdown wakes every sleeper, timed or not, puts and gets, both kinds. */
static void test_queue_timed_wakeups(void **state)
{
    (void)state;
    atomic_int started = 0, done = 0;
    st_queue_item it;
    for (int put = 0; put < 2; put++) {
        /* Woken long before a 30 s timeout: by a put for a get, by a get for a put. */
        st_queue *q = make(ST_QUEUE_FIFO, 1);
        if (put)
            assert_int_equal(st_queue_put_steal(q, st_value_none()), 0);
        handoff h = {q, 30.0, &started, &done, -2};
        pthread_t t;
        atomic_store(&started, 0);
        double t0 = st_test_now();
        assert_int_equal(pthread_create(&t, NULL, put ? handoff_put : handoff_get, &h), 0);
        await_count(&started, 1);
        if (put) {
            assert_int_equal(st_queue_get(q, ST_NO_TIMEOUT, &it), 0);
            st_value_unref(it.value);
        } else {
            assert_int_equal(st_queue_put_steal(q, st_value_none()), 0);
        }
        pthread_join(t, NULL);
        assert_int_equal(h.rc, 0);
        assert_true(st_test_now() - t0 < 20.0);
        assert_int_equal(st_queue_qsize(q), put ? 1 : 0);

        /* Nothing comes: queue.Empty or queue.Full at the timeout, not before. */
        h.timeout = 0.05;
        if (!put)
            handoff_put(&h); /* fills it again (the get took its item): the next put waits */
        t0 = st_test_now();
        handoff_put(&h);
        assert_int_equal(h.rc, -ST_ETIMEOUT);
        assert_true(st_test_now() - t0 >= 0.04);
        assert_string_equal(st_error_last()->type, "queue.Full");
        assert_int_equal(st_queue_get(q, ST_NO_TIMEOUT, &it), 0);
        st_value_unref(it.value);
        t0 = st_test_now();
        handoff_get(&h);
        assert_int_equal(h.rc, -ST_ETIMEOUT);
        assert_true(st_test_now() - t0 >= 0.04);
        assert_string_equal(st_error_last()->type, "queue.Empty");
        st_queue_free(q);
    }

    /* Shutdown wakes every sleeper: 4 gets on an empty queue, 4 puts on a full one. */
    enum { N = 4 };
    for (int immediate = 0; immediate < 2; immediate++) {
        for (int put = 0; put < 2; put++) {
            st_queue *q = make(ST_QUEUE_FIFO, 1);
            if (put)
                assert_int_equal(st_queue_put_steal(q, st_value_none()), 0);
            handoff h[N];
            pthread_t t[N];
            atomic_store(&started, 0);
            for (int i = 0; i < N; i++) {
                h[i] = (handoff){q, i % 2 ? 30.0 : ST_NO_TIMEOUT, &started, &done, -2};
                assert_int_equal(
                    pthread_create(&t[i], NULL, put ? handoff_put : handoff_get, &h[i]), 0);
            }
            await_count(&started, N);
            st_queue_shutdown(q, immediate);
            for (int i = 0; i < N; i++) {
                pthread_join(t[i], NULL);
                assert_int_equal(h[i].rc, -ST_ESTATE);
            }
            st_queue_free(q);
        }
    }
}

int run_queue_module_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_queue_options),
        cmocka_unit_test(test_queue_classes),
        cmocka_unit_test(test_queue_growth_order),
        cmocka_unit_test(test_queue_priority_errors),
        cmocka_unit_test(test_queue_priority_heapq),
        cmocka_unit_test(test_queue_priority_numbers),
        cmocka_unit_test(test_queue_bounded_blocking),
        cmocka_unit_test(test_queue_task_done_join),
        cmocka_unit_test(test_queue_fileno),
        cmocka_unit_test(test_queue_fileno_race),
        cmocka_unit_test(test_queue_waiters_race),
        cmocka_unit_test(test_queue_wakeup_stress),
        cmocka_unit_test(test_queue_wakeup_handoff),
        cmocka_unit_test(test_queue_timed_wakeups),
    };
    return cmocka_run_group_tests_name("queue module", tests, NULL, NULL);
}
