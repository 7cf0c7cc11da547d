/* Bench: the thread queue against its anchors, side by side in one run.
 *   - throughput, 1 producer -> 1 consumer and 4 -> 4, items per second: st_queue unbounded
 *     against GLib's GAsyncQueue (when GLib was found at configure time), and st_queue bounded
 *     (maxsize 1024) against a hand-written mutex + two condition variables ring buffer of the
 *     same size. Every item is a reference to one shared value (a key string, as a producer
 *     of records shares its keys), so the count crosses threads; the anchors move a pointer.
 *     The bounded queue runs once more with None items (immortal: no count moves), which
 *     shows the queue's own cost apart from the shared count's cache line.
 *     Mode: a producer and a consumer that share a CPU trade places in long batches (one
 *     fills, the other drains, few wake-ups), on two CPUs they meet at the lock on every
 *     item: several times slower, and an unpinned round lands in either mode by chance. So
 *     where threads can be pinned (a configure check, ST_BENCH_HAVE_AFFINITY) and the process
 *     may use 2 CPUs, every contender runs in the same mode: all producers on one CPU, all
 *     consumers on another (1->1: the contended, cross-CPU case; 4->4 on a 2-core machine:
 *     the same split, each side's 4 threads taking turns on their CPU, which no contender
 *     can escape by landing its threads elsewhere). Otherwise the runs are unpinned and the
 *     bench says so. Each contender's figure is its median over 7 rounds, the contenders
 *     taken in turn within every round, so a change of load falls on all of them alike.
 *   - wake-up latency: a ping-pong between two threads, each sleeping in poll() on the
 *     other's st_queue_fileno() and answering with a put, against the same ping-pong over two
 *     raw eventfds (pipes where there is none): the cost of the queue on the way to a wake-up.
 *   - memory: producers put as fast as they can into a bounded queue whose consumer is slow;
 *     the peak RSS must not grow with the number of items.
 * Goals (issue 25): throughput >= 1.0x GAsyncQueue and >= 0.8x the ring; latency within 1.2x
 * of raw eventfd; bounded memory flat. */
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#if defined(ST_BENCH_HAVE_AFFINITY)
#include <sched.h>
#endif

#if defined(ST_BENCH_HAVE_GLIB)
#include <glib.h>
#endif
#if defined(ST_BENCH_HAVE_EVENTFD) /* the library's own configure check (lib/CMakeLists.txt) */
#include <sys/eventfd.h>
#define HAVE_EVENTFD 1
#endif

#include "bench.h"
#include "systools/ipc.h"
#include "systools/value.h"

#define RING_CAP 1024

/* ---- the hand-written anchor: a bounded ring under one mutex ------------------------------ */

typedef struct ring {
    pthread_mutex_t lock;
    pthread_cond_t not_empty, not_full;
    void *items[RING_CAP];
    size_t head, count;
} ring;

static void ring_init(ring *r)
{
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->not_empty, NULL);
    pthread_cond_init(&r->not_full, NULL);
    r->head = r->count = 0;
}

static void ring_put(ring *r, void *p)
{
    pthread_mutex_lock(&r->lock);
    while (r->count == RING_CAP)
        pthread_cond_wait(&r->not_full, &r->lock);
    r->items[(r->head + r->count++) % RING_CAP] = p;
    pthread_cond_signal(&r->not_empty);
    pthread_mutex_unlock(&r->lock);
}

static void *ring_get(ring *r)
{
    pthread_mutex_lock(&r->lock);
    while (r->count == 0)
        pthread_cond_wait(&r->not_empty, &r->lock);
    void *p = r->items[r->head];
    r->head = (r->head + 1) % RING_CAP;
    r->count--;
    pthread_cond_signal(&r->not_full);
    pthread_mutex_unlock(&r->lock);
    return p;
}

/* ---- throughput --------------------------------------------------------------------------- */

/* The CPUs the throughput runs pin to: producers on cpus[0], consumers on cpus[1]; -1 when
 * the runs are unpinned. */
static int cpus[2] = {-1, -1};

#if defined(ST_BENCH_HAVE_AFFINITY)
static int pin_to(int cpu)
{
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(cpu, &s);
    return pthread_setaffinity_np(pthread_self(), sizeof s, &s) == 0 ? 0 : -1;
}
#endif

/* Chooses the first two CPUs this process may use, after proving the main thread can be
 * pinned to each (its mask is then restored); returns why the runs are unpinned, or NULL. */
static const char *choose_cpus(void)
{
#if defined(ST_BENCH_HAVE_AFFINITY)
    cpu_set_t all;
    CPU_ZERO(&all);
    if (sched_getaffinity(0, sizeof all, &all) != 0)
        return "this process's CPU set cannot be read";
    int found = 0;
    for (int c = 0; c < CPU_SETSIZE && found < 2; c++)
        if (CPU_ISSET(c, &all))
            cpus[found++] = c;
    int ok = found == 2 && pin_to(cpus[0]) == 0 && pin_to(cpus[1]) == 0;
    pthread_setaffinity_np(pthread_self(), sizeof all, &all);
    if (ok)
        return NULL;
    cpus[0] = cpus[1] = -1;
    return found < 2 ? "fewer than 2 CPUs" : "threads cannot be pinned here";
#else
    return "no thread affinity calls on this system";
#endif
}

/* Pins the calling thread to `cpu` (choose_cpus() proved it can be); nothing when unpinned. */
static void pin(int cpu)
{
#if defined(ST_BENCH_HAVE_AFFINITY)
    if (cpu >= 0 && pin_to(cpu) < 0)
        abort();
#else
    (void)cpu;
#endif
}

enum kind { OURS, OURS_BOUNDED, RING, GASYNC };

typedef struct side {
    enum kind kind;
    void *q;
    st_value *shared;
    long n;  /* items this thread puts or takes */
    int cpu; /* where it runs, -1 anywhere */
} side;

static void *producer(void *arg)
{
    side *s = arg;
    pin(s->cpu);
    for (long i = 0; i < s->n; i++) {
        switch (s->kind) {
        case OURS:
        case OURS_BOUNDED:
            st_queue_put_steal(s->q, st_value_ref(s->shared));
            break;
        case RING:
            ring_put(s->q, s->shared);
            break;
        case GASYNC:
#if defined(ST_BENCH_HAVE_GLIB)
            g_async_queue_push(s->q, s->shared);
#endif
            break;
        }
    }
    return NULL;
}

static void *consumer(void *arg)
{
    side *s = arg;
    pin(s->cpu);
    st_queue_item it;
    for (long i = 0; i < s->n; i++) {
        switch (s->kind) {
        case OURS:
        case OURS_BOUNDED:
            if (st_queue_get(s->q, ST_NO_TIMEOUT, &it) == 0)
                st_value_unref(it.value);
            break;
        case RING:
            ring_get(s->q);
            break;
        case GASYNC:
#if defined(ST_BENCH_HAVE_GLIB)
            g_async_queue_pop(s->q);
#endif
            break;
        }
    }
    return NULL;
}

/* Items per second through one queue with `threads` producers and as many consumers; each
 * item a reference to `shared` (for st_queue, None: immortal, so no count moves). */
static double throughput(enum kind kind, int threads, long items, st_value *shared)
{
    void *q = NULL;
    ring r;
    st_queue_options o = ST_QUEUE_OPTIONS_INIT;
    switch (kind) {
    case OURS:
        q = st_queue_new();
        break;
    case OURS_BOUNDED:
        o.maxsize = RING_CAP;
        q = st_queue_new_with_options(&o);
        break;
    case RING:
        ring_init(&r);
        q = &r;
        break;
    case GASYNC:
#if defined(ST_BENCH_HAVE_GLIB)
        q = g_async_queue_new();
#endif
        break;
    }
    side sides[16];
    pthread_t t[16];
    double t0 = bench_now();
    for (int i = 0; i < 2 * threads; i++) {
        sides[i] = (side){kind, q, shared, items / threads, cpus[i < threads ? 0 : 1]};
        pthread_create(&t[i], NULL, i < threads ? producer : consumer, &sides[i]);
    }
    for (int i = 0; i < 2 * threads; i++)
        pthread_join(t[i], NULL);
    double secs = bench_now() - t0;
    if (kind == OURS || kind == OURS_BOUNDED)
        st_queue_free(q);
#if defined(ST_BENCH_HAVE_GLIB)
    if (kind == GASYNC)
        g_async_queue_unref(q);
#endif
    return (double)items / secs;
}

#define ROUNDS 7

/* One measurement of the throughput table: a queue, its item and its thread count. */
typedef struct run {
    enum kind kind;
    st_value *shared;
    double median; /* items per second, the median of the rounds */
} run;

/* The median of ROUNDS of each run, the runs taken in turn in every round (as
 * best_latencies()), so that a change of load on a shared machine falls on all of them alike;
 * the median, not the best, so one lucky round does not decide a ratio. */
static void median_throughputs(run *runs, int n, int threads, long items)
{
    double rates[8][ROUNDS];
    for (int round = 0; round < ROUNDS; round++)
        for (int i = 0; i < n; i++)
            rates[i][round] = throughput(runs[i].kind, threads, items, runs[i].shared);
    for (int i = 0; i < n; i++) {
        qsort(rates[i], ROUNDS, sizeof rates[i][0], bench_cmp_double);
        runs[i].median = rates[i][ROUNDS / 2];
    }
}

/* ---- wake-up latency ---------------------------------------------------------------------- */

typedef struct pong {
    int raw; /* raw descriptors instead of queues */
    st_queue *in, *out;
    int in_fd, out_fd; /* raw: read in_fd, write out_fd (eventfd: one of each pair) */
    int rounds;
    int first; /* this side serves first */
} pong;

static void wait_readable(int fd)
{
    struct pollfd p = {fd, POLLIN, 0};
    while (poll(&p, 1, -1) < 0)
        ;
}

static void raw_signal(int fd)
{
#if defined(HAVE_EVENTFD)
    uint64_t one = 1;
    if (write(fd, &one, sizeof one) < 0)
        abort();
#else
    if (write(fd, "", 1) < 0)
        abort();
#endif
}

static void raw_consume(int fd)
{
#if defined(HAVE_EVENTFD)
    uint64_t got;
    if (read(fd, &got, sizeof got) < 0)
        abort();
#else
    char byte;
    if (read(fd, &byte, 1) < 0)
        abort();
#endif
}

static void *pong_side(void *arg)
{
    pong *p = arg;
    int in_fd = p->raw ? p->in_fd : st_queue_fileno(p->in);
    st_queue_item it;
    for (int i = 0; i < p->rounds; i++) {
        if (!p->first || i > 0) { /* wait for the ball */
            wait_readable(in_fd);
            if (p->raw)
                raw_consume(in_fd);
            else /* as a main loop does: readable with nothing yet (an update on its way) */
                while (st_queue_get_nowait(p->in, &it) < 0)
                    wait_readable(in_fd);
        }
        if (p->raw) /* throw it back */
            raw_signal(p->out_fd);
        else
            st_queue_put_steal(p->out, st_value_none());
    }
    return NULL;
}

/* Seconds per one-way wake-up: half a round trip. */
static double latency(int raw, int rounds)
{
    st_queue *a = st_queue_new(), *b = st_queue_new();
    int fa[2], fb[2];
#if defined(HAVE_EVENTFD)
    fa[0] = fa[1] = eventfd(0, 0);
    fb[0] = fb[1] = eventfd(0, 0);
#else
    if (pipe(fa) < 0 || pipe(fb) < 0)
        abort();
#endif
    /* a -> b: `left` puts on b and waits on a */
    pong left = {raw, a, b, fa[0], fb[1], rounds, 1};
    pong right = {raw, b, a, fb[0], fa[1], rounds, 0};
    if (!raw) { /* made before the clock starts, as a main loop has it */
        st_queue_fileno(a);
        st_queue_fileno(b);
    }
    pthread_t tl, tr;
    double t0 = bench_now();
    pthread_create(&tr, NULL, pong_side, &right);
    pthread_create(&tl, NULL, pong_side, &left);
    pthread_join(tl, NULL);
    pthread_join(tr, NULL);
    double secs = bench_now() - t0;
    st_queue_free(a);
    st_queue_free(b);
    close(fa[0]);
    close(fb[0]);
#if !defined(HAVE_EVENTFD)
    close(fa[1]);
    close(fb[1]);
#endif
    return secs / (2.0 * rounds);
}

/* The best of 7 of each, the two taken in turn, so that a change of load on a shared machine
 * falls on both alike. */
static void best_latencies(int rounds, double *ours, double *raw)
{
    *ours = *raw = 1e9;
    for (int round = 0; round < 7; round++) {
        double l = latency(0, rounds), r = latency(1, rounds);
        *ours = l < *ours ? l : *ours;
        *raw = r < *raw ? r : *raw;
    }
}

/* ---- bounded memory ------------------------------------------------------------------------ */

typedef struct flood {
    st_queue *q;
    long items;
} flood;

static void *flooder(void *arg)
{
    flood *f = arg;
    for (long i = 0; i < f->items; i++)
        st_queue_put_steal(f->q, st_value_str("a record of some size, put by a fast producer"));
    return NULL;
}

static long max_rss_kib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* The growth of the peak RSS while 4 producers put `items` into a queue of maxsize 1000 that
 * one slow consumer empties (it sleeps a little every 1000 items). */
static long flood_growth(long items)
{
    st_queue_options o = ST_QUEUE_OPTIONS_INIT;
    o.maxsize = 1000;
    st_queue *q = st_queue_new_with_options(&o);
    long before = max_rss_kib();
    flood f = {q, items / 4};
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, flooder, &f);
    st_queue_item it;
    for (long i = 0; i < f.items * 4; i++) {
        st_queue_get(q, ST_NO_TIMEOUT, &it);
        st_value_unref(it.value);
        if (i % 1000 == 0) {
            struct timespec nap = {0, 100 * 1000};
            nanosleep(&nap, NULL);
        }
    }
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    st_queue_free(q);
    return max_rss_kib() - before;
}

int main(int argc, char **argv)
{
    long items = argc > 1 ? atol(argv[1]) : 400000;
    const char *unpinned = choose_cpus();
    printf("queue: %ld items per run, median of %d rounds taken in turn; every item a shared "
           "value's reference\n",
           items, ROUNDS);
    if (unpinned)
        printf("  throughput mode: unpinned (%s): each round lands where the scheduler puts "
               "the threads\n",
               unpinned);
    else
        printf("  throughput mode: pinned, every producer on CPU %d, every consumer on CPU %d\n",
               cpus[0], cpus[1]);
    st_value *key = st_value_str("name"), *none = st_value_none();
    for (int threads = 1; threads <= 4; threads *= 4) {
        run runs[] = {{OURS, key, 0}, {OURS_BOUNDED, key, 0}, {OURS_BOUNDED, none, 0},
                      {RING, key, 0},
#if defined(ST_BENCH_HAVE_GLIB)
                      {GASYNC, key, 0}
#endif
        };
        median_throughputs(runs, (int)(sizeof runs / sizeof runs[0]), threads, items);
        double ours = runs[0].median, bounded = runs[1].median, bounded_none = runs[2].median;
        double ringr = runs[3].median;
        printf("  %d->%d: st_queue %.2f M/s; bounded(1024) %.2f M/s, with None items %.2f M/s; "
               "mutex+condvar ring(1024) %.2f M/s\n",
               threads, threads, ours / 1e6, bounded / 1e6, bounded_none / 1e6, ringr / 1e6);
        printf("        bounded/ring = %.2fx, with None items (no count moves) %.2fx "
               "(goal >= 0.8x)\n",
               bounded / ringr, bounded_none / ringr);
#if defined(ST_BENCH_HAVE_GLIB)
        double gq = runs[4].median;
        printf("        GAsyncQueue %.2f M/s: st_queue/GAsyncQueue = %.2fx (goal >= 1.0x)\n",
               gq / 1e6, ours / gq);
#else
        printf("        GAsyncQueue: skipped, GLib was not found when this was configured\n");
#endif
    }
    st_value_unref(key);
    int rounds = 20000;
    double lq, lr;
    best_latencies(rounds, &lq, &lr);
    printf("  wake-up latency (poll() ping-pong, one way): st_queue_fileno %.2f us, raw %s "
           "%.2f us: %.2fx (goal <= 1.2x)\n",
           lq * 1e6,
#if defined(HAVE_EVENTFD)
           "eventfd",
#else
           "pipe",
#endif
           lr * 1e6, lq / lr);
    long small = flood_growth(100000), large = flood_growth(2000000);
    printf("  bounded memory (maxsize 1000, 4 fast producers, a slow consumer): peak RSS grew "
           "%ld KiB for 100k items, %ld KiB more for 2M items (goal: flat)\n",
           small, large);
    return 0;
}
