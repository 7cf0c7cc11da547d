/* ipc: Python's queue module for threads (Queue, LifoQueue, PriorityQueue, SimpleQueue, with
 * maxsize, task_done/join and 3.13's shutdown), callbacks as items, a time-boxed drain, and a
 * descriptor a main loop can wait on. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal/error.h"
#include "internal/mem.h"
#include "internal/options.h"
#include "internal/posix.h"
#include "internal/value.h"
#include "st_config.h"
#include "systools/ipc.h"

#if defined(ST_HAVE_EVENTFD)
#include <sys/eventfd.h>
#endif

struct st_queue {
    /* What every put and get touches comes first, together (fewer cache lines move between
     * the threads); the condition variables, touched only when someone waits, come after. */
    pthread_mutex_t lock;
    /* The items: a ring (FIFO, SimpleQueue) from head, or an array from 0 (LIFO: a stack,
     * PRIORITY: heapq's heap). */
    st_queue_item *ring;
    size_t head, count;
    size_t cap;
    size_t maxsize; /* 0: unbounded */
    size_t unfinished; /* puts not yet matched by a task_done() */
    /* Threads waiting in get, in put and in join: a signal only when someone waits (as
     * GAsyncQueue). */
    unsigned getters, putters, joiners;
    st_queue_kind kind;
    int shut_down;
    /* st_queue_fileno(): an eventfd (both ends the same) or a pipe, made on the first call.
     * Until then (has_fd 0, read under `lock`) puts and gets pay nothing for it. After,
     * `readable` is what it should say (items wait, or shut down), changed under `lock` at
     * each empty<->non-empty transition; the descriptor follows it under `fd_lock` once `lock`
     * is released, so a woken poller never finds the queue locked by the thread that woke it. */
    int has_fd;
    atomic_int readable;
    clockid_t clock; /* the clock the conditions measure timeouts with */
    pthread_cond_t not_empty; /* signalled on put and on shutdown */
    pthread_cond_t not_full;  /* signalled on get and on shutdown (bounded queues wait on it) */
    pthread_cond_t all_done;  /* broadcast when the unfinished tasks reach 0 */
    pthread_mutex_t fd_lock;
    int fd_read, fd_write; /* under fd_lock; -1 until made */
    int fd_ready;          /* under fd_lock: what the descriptor says now */
};

static void item_release(st_queue_item *it) { st_value_unref(it->value); }

int st_queue_options_init(st_queue_options *opts, unsigned int version)
{
    return st__options_init(opts, ST_OPTIONS_SIZES(sizeof *opts), version, ST_QUEUE_OPTIONS_VERSION,
                            "st_queue_options") < 0
               ? ST_TRACE()
               : 0;
}

st_queue *st_queue_new_with_options(const st_queue_options *opts)
{
    if (ST_OPTIONS_CHECK(opts, ST_QUEUE_OPTIONS_VERSION, "st_queue_options") < 0)
        return (ST_TRACE(), NULL);
    st_queue_kind kind = opts ? opts->kind : ST_QUEUE_FIFO;
    size_t maxsize = opts ? opts->maxsize : 0;
    if (kind > ST_QUEUE_SIMPLE)
        return (ST_RAISE(ST_EVALUE, "unknown queue kind %d", (int)kind), NULL);
    if (kind == ST_QUEUE_SIMPLE && maxsize)
        return (ST_RAISE(ST_ETYPE, "SimpleQueue() takes no arguments"), NULL);
    st_queue *q = st__calloc(1, sizeof *q);
    if (!q)
        return (ST_TRACE(), NULL);
    q->kind = kind;
    q->maxsize = maxsize;
    q->fd_read = q->fd_write = -1;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    q->clock = CLOCK_REALTIME;
#if defined(ST_HAVE_PTHREAD_CONDATTR_SETCLOCK)
    /* Timeouts must not jump with the wall clock. */
    if (pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0)
        q->clock = CLOCK_MONOTONIC;
#endif
    pthread_cond_t *conds[] = {&q->not_empty, &q->not_full, &q->all_done};
    int r = pthread_mutex_init(&q->lock, NULL), made = 0;
    if (r == 0 && (r = pthread_mutex_init(&q->fd_lock, NULL)) != 0)
        pthread_mutex_destroy(&q->lock);
    if (r == 0) {
        while (made < 3 && (r = pthread_cond_init(conds[made], &attr)) == 0)
            made++;
        if (r != 0) { /* undo what was made */
            while (made > 0)
                pthread_cond_destroy(conds[--made]);
            pthread_mutex_destroy(&q->fd_lock);
            pthread_mutex_destroy(&q->lock);
        }
    }
    pthread_condattr_destroy(&attr);
    if (r != 0) {
        free(q);
        return (ST_RAISE_OS(r, "cannot create a queue"), NULL);
    }
    return q;
}

st_queue *st_queue_new(void) { return st_queue_new_with_options(NULL); }

/* The i-th item in storage order (i < cap; no division on the hot path). */
static st_queue_item *slot(st_queue *q, size_t i)
{
    size_t j = q->head + i;
    return &q->ring[j < q->cap ? j : j - q->cap];
}

void st_queue_free(st_queue *q)
{
    if (!q)
        return;
    for (size_t i = 0; i < q->count; i++)
        item_release(slot(q, i));
    free(q->ring);
    if (q->fd_read >= 0)
        close(q->fd_read);
    if (q->fd_write >= 0 && q->fd_write != q->fd_read)
        close(q->fd_write);
    pthread_cond_destroy(&q->all_done);
    pthread_cond_destroy(&q->not_full);
    pthread_cond_destroy(&q->not_empty);
    pthread_mutex_destroy(&q->fd_lock);
    pthread_mutex_destroy(&q->lock);
    free(q);
}

/* ---- the descriptor ---------------------------------------------------------------------- */

/* Records, with the lock held, whether the descriptor should be readable: items wait, or
 * the queue is shut down (so a main loop sees the end). Returns 1 when that changed and the
 * descriptor must follow (fd_sync() once the lock is released), 0 when there is nothing to
 * do: no descriptor was asked for (st_queue_fileno() records the state itself when it makes
 * one, under this lock, so a change that saw no descriptor is not missed), or no transition. */
static int note_state(st_queue *q)
{
    if (!q->has_fd)
        return 0;
    int want = q->count > 0 || q->shut_down;
    if (atomic_load_explicit(&q->readable, memory_order_relaxed) == want)
        return 0; /* only changed under the lock: this is the latest */
    atomic_store_explicit(&q->readable, want, memory_order_relaxed);
    return 1;
}

/* Makes the descriptor say what note_state() recorded last; called after every change of
 * it, once the lock is released. Whichever call takes fd_lock last reads the latest state
 * (each change comes before its own call), so when changes stop the descriptor is right:
 * never asleep while items wait (no lost wake-up), never readable for long with nothing to
 * take. */
static void fd_sync_locked(st_queue *q)
{
    int want = atomic_load_explicit(&q->readable, memory_order_relaxed);
    if (want == q->fd_ready)
        return;
    ssize_t r;
#if defined(ST_HAVE_EVENTFD)
    uint64_t one = 1, got;
    do
        r = want ? write(q->fd_write, &one, sizeof one) : read(q->fd_read, &got, sizeof got);
    while (r < 0 && errno == EINTR);
#else
    char byte = 0;
    do
        r = want ? write(q->fd_write, &byte, 1) : read(q->fd_read, &byte, 1);
    while (r < 0 && errno == EINTR);
#endif
    (void)r; /* neither can fail: one token at most is ever pending */
    q->fd_ready = want;
}

static void fd_sync(st_queue *q)
{
    pthread_mutex_lock(&q->fd_lock);
    fd_sync_locked(q);
    pthread_mutex_unlock(&q->fd_lock);
}

int st_queue_fileno(st_queue *q)
{
    pthread_mutex_lock(&q->fd_lock);
    if (q->fd_read < 0) {
#if defined(ST_HAVE_EVENTFD)
        int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (fd < 0) {
            int err = errno;
            pthread_mutex_unlock(&q->fd_lock);
            return ST_RAISE_OS(err, "cannot make the queue's eventfd");
        }
        q->fd_read = q->fd_write = fd;
#else
        int fds[2];
        if (st__pipe_cloexec(fds) < 0)
            fds[0] = fds[1] = -1;
        if (fds[0] < 0 || fcntl(fds[0], F_SETFL, O_NONBLOCK) < 0 ||
            fcntl(fds[1], F_SETFL, O_NONBLOCK) < 0) {
            int err = errno;
            if (fds[0] >= 0) {
                close(fds[0]);
                close(fds[1]);
            }
            pthread_mutex_unlock(&q->fd_lock);
            return ST_RAISE_OS(err, "cannot make the queue's pipe");
        }
        q->fd_read = fds[0];
        q->fd_write = fds[1];
#endif
        /* From here on every transition syncs the descriptor. A change that did not see
         * has_fd yet unlocked the queue before this lock: its state is read here. */
        pthread_mutex_lock(&q->lock);
        q->has_fd = 1;
        note_state(q);
        pthread_mutex_unlock(&q->lock);
        fd_sync_locked(q);
    }
    int fd = q->fd_read;
    pthread_mutex_unlock(&q->fd_lock);
    return fd;
}

/* ---- storage: ring, stack, heap ---------------------------------------------------------- */

static const char *item_type(const st_queue_item *it)
{
    return it->fn ? "function" : st_value_type_name(it->value);
}

/* heapq's `a < b` on items: 1, 0, or -1 with TypeError (a callback orders with nothing). */
static int item_lt(const st_queue_item *a, const st_queue_item *b)
{
    if (a->fn || b->fn)
        return ST_RAISE(ST_ETYPE, "'<' not supported between instances of '%s' and '%s'",
                        item_type(a), item_type(b));
    return st__value_lt(a->value, b->value);
}

/* Room for one more item: 0, or -1 with MemoryError. A bounded queue never holds more than
 * maxsize, so its storage stops growing there. The storage grows in place (realloc: large
 * blocks are remapped, not copied, while the lock is held); then a full ring's wrapped part
 * moves into the new room, the shorter way that fits. */
static int reserve(st_queue *q)
{
    if (q->count < q->cap)
        return 0;
    size_t cap = q->cap ? q->cap * 2 : 64;
    if (q->maxsize && cap > q->maxsize)
        cap = q->maxsize;
    st_queue_item *ring = st__reallocarray(q->ring, cap, sizeof *ring);
    if (!ring)
        return ST_TRACE();
    /* Full: the items are [head, old cap) then [0, head); a stack or heap has head 0. */
    size_t old = q->cap, tail = old - q->head;
    if (q->head > 0 && q->head <= tail && q->head <= cap - old) {
        memcpy(ring + old, ring, q->head * sizeof *ring); /* [0, head) after [head, old) */
    } else if (q->head > 0) { /* [head, old) to the new end */
        memmove(ring + cap - tail, ring + q->head, tail * sizeof *ring);
        q->head = cap - tail;
    }
    q->ring = ring;
    q->cap = cap;
    return 0;
}

/* heappush, made all-or-nothing: the comparisons heapq makes (the new item against each
 * parent up the path until it is not less) are done first, then the items move. */
static int heap_push(st_queue *q, st_queue_item it)
{
    st_queue_item *a = q->ring;
    size_t pos = q->count;
    while (pos > 0) {
        size_t parent = (pos - 1) / 2;
        int lt = item_lt(&it, &a[parent]);
        if (lt < 0)
            return ST_TRACE();
        if (!lt)
            break;
        pos = parent;
    }
    for (size_t j = q->count; j > pos; j = (j - 1) / 2)
        a[j] = a[(j - 1) / 2];
    a[pos] = it;
    return 0;
}

/* heappop, all-or-nothing: the comparisons of heapq's siftup (the smaller child down to a
 * leaf) and siftdown (the last item back up that path) are made on the untouched heap, then
 * the items move. */
static int heap_pop(st_queue *q, st_queue_item *out)
{
    st_queue_item *a = q->ring;
    size_t m = q->count - 1; /* the heap once the last item is taken off */
    size_t path[sizeof(size_t) * 8 + 1], k = 0;
    path[0] = 0;
    for (size_t pos = 0; pos < m / 2;) {
        size_t child = 2 * pos + 1;
        if (child + 1 < m) {
            int lt = item_lt(&a[child], &a[child + 1]);
            if (lt < 0)
                return ST_TRACE();
            child += (size_t)!lt;
        }
        path[++k] = pos = child;
    }
    /* Siftdown of the last item from the leaf: the parent at path[i-1] would hold a[path[i]]. */
    size_t j = 0;
    for (size_t i = k; i > 0; i--) {
        int lt = item_lt(&a[m], &a[path[i]]);
        if (lt < 0)
            return ST_TRACE();
        if (!lt) {
            j = i;
            break;
        }
    }
    *out = a[0];
    st_queue_item last = a[m];
    for (size_t i = 0; i < j; i++)
        a[path[i]] = a[path[i + 1]];
    a[path[j]] = last;
    return 0;
}

/* Stores an item with the lock held and room reserved: 0, or -1 (PriorityQueue's TypeError). */
static int store(st_queue *q, st_queue_item it)
{
    if (q->kind == ST_QUEUE_PRIORITY && heap_push(q, it) < 0)
        return ST_TRACE();
    if (q->kind != ST_QUEUE_PRIORITY)
        *slot(q, q->count) = it;
    q->count++;
    return 0;
}

/* Takes the next item, if any, with the lock held: 1, 0 when empty, -1 (PriorityQueue). */
static int take(st_queue *q, st_queue_item *out)
{
    if (q->count == 0)
        return 0;
    switch (q->kind) {
    case ST_QUEUE_LIFO:
        *out = q->ring[q->count - 1];
        break;
    case ST_QUEUE_PRIORITY:
        if (heap_pop(q, out) < 0)
            return ST_TRACE();
        break;
    default:
        *out = q->ring[q->head];
        if (++q->head == q->cap)
            q->head = 0;
    }
    q->count--;
    return 1;
}

/* ---- put and get ------------------------------------------------------------------------- */

/* The deadline of a timeout > 0 on the queue's clock. */
static struct timespec deadline_after(const st_queue *q, double timeout)
{
    struct timespec d = {0, 0};
    clock_gettime(q->clock, &d);
    /* Capped at about 31 years, so the seconds fit a time_t whatever the timeout. */
    double t = timeout < 1e9 ? timeout : 1e9, whole = floor(t);
    d.tv_sec += (time_t)whole;
    d.tv_nsec += (long)((t - whole) * 1e9);
    if (d.tv_nsec >= 1000000000L) {
        d.tv_sec++;
        d.tv_nsec -= 1000000000L;
    }
    return d;
}

/* One wait on c, with the lock held (timeout < 0: for ever): 0, or ETIMEDOUT. */
static int wait_on(st_queue *q, pthread_cond_t *c, double timeout, const struct timespec *end)
{
    if (timeout < 0)
        return pthread_cond_wait(c, &q->lock);
    return pthread_cond_timedwait(c, &q->lock, end) == ETIMEDOUT ? ETIMEDOUT : 0;
}

static int raise_shutdown(void)
{
    return ST_RAISE_AS(ST_ESTATE, "queue.ShutDown", "%s", "");
}

/* Queue.put() of a value or a callback: the value is released on failure. The item's parts
 * come as arguments, not as a struct copied through the stack (a stall on every put). */
static int put_item(st_queue *q, st_value *value, st_queue_fn fn, void *arg, double timeout)
{
    st_queue_item it = {value, fn, arg};
    struct timespec end = timeout > 0 ? deadline_after(q, timeout) : (struct timespec){0, 0};
    int rc = 0, sync = 0;
    pthread_mutex_lock(&q->lock);
    if (q->shut_down) {
        rc = raise_shutdown();
        goto out;
    }
    while (q->maxsize && q->count >= q->maxsize) {
        if (timeout == 0) {
            rc = ST_RAISE_AS(ST_ETIMEOUT, "queue.Full", "%s", "");
            goto out;
        }
        q->putters++;
        int timed_out = wait_on(q, &q->not_full, timeout, &end) == ETIMEDOUT;
        q->putters--;
        if (q->shut_down) { /* Python looks after every wait */
            rc = raise_shutdown();
            goto out;
        }
        if (timed_out && q->count >= q->maxsize) {
            rc = ST_RAISE_AS(ST_ETIMEOUT, "queue.Full", "%s", "");
            goto out;
        }
    }
    if ((rc = reserve(q)) == 0 && (rc = store(q, it)) == 0) {
        if (q->kind != ST_QUEUE_SIMPLE)
            q->unfinished++;
        sync = q->count == 1 && note_state(q); /* only the first item changes it */
        if (q->getters > 0)
            pthread_cond_signal(&q->not_empty);
    }
out:
    pthread_mutex_unlock(&q->lock);
    if (rc < 0) {
        item_release(&it);
        return rc;
    }
    if (sync)
        fd_sync(q); /* after the unlock: the woken loop does not find the lock still held */
    return 0;
}

int st_queue_put_timeout_steal(st_queue *q, st_value *value, double timeout)
{
    if (!value)
        return ST_TRACE();
    return put_item(q, value, NULL, NULL, timeout) < 0 ? ST_TRACE() : 0;
}

int st_queue_put_steal(st_queue *q, st_value *value)
{
    return st_queue_put_timeout_steal(q, value, ST_NO_TIMEOUT) < 0 ? ST_TRACE() : 0;
}

int st_queue_put_nowait_steal(st_queue *q, st_value *value)
{
    return st_queue_put_timeout_steal(q, value, 0) < 0 ? ST_TRACE() : 0;
}

int st_queue_put_callback_timeout(st_queue *q, st_queue_fn fn, void *arg, double timeout)
{
    if (!fn)
        return ST_RAISE(ST_EVALUE, "the callback must not be NULL");
    return put_item(q, NULL, fn, arg, timeout) < 0 ? ST_TRACE() : 0;
}

int st_queue_put_callback(st_queue *q, st_queue_fn fn, void *arg)
{
    return st_queue_put_callback_timeout(q, fn, arg, ST_NO_TIMEOUT) < 0 ? ST_TRACE() : 0;
}

/* After an item left, with the lock held: room for a waiting put, the descriptor's state
 * (1: its syscall is due with fd_sync() once the lock is released; only the last item
 * changes it). */
static int taken(st_queue *q)
{
    if (q->putters > 0)
        pthread_cond_signal(&q->not_full);
    return q->count == 0 && note_state(q);
}

/* Queue.get(): timeout < 0 waits for ever, 0 does not wait. */
static int get_item(st_queue *q, double timeout, st_queue_item *out)
{
    struct timespec end = timeout > 0 ? deadline_after(q, timeout) : (struct timespec){0, 0};
    int rc = 0;
    pthread_mutex_lock(&q->lock);
    while (q->count == 0) {
        if (q->shut_down) {
            rc = raise_shutdown();
            goto out;
        }
        int timed_out = timeout == 0;
        if (!timed_out) {
            q->getters++;
            timed_out = wait_on(q, &q->not_empty, timeout, &end) == ETIMEDOUT;
            q->getters--;
        }
        if (timed_out) {
            if (q->count == 0 && !q->shut_down) {
                rc = ST_RAISE_AS(ST_ETIMEOUT, "queue.Empty", "%s", "");
                goto out;
            }
            timeout = 0; /* one more look, then no more waiting */
        }
    }
    int sync = 0;
    if ((rc = take(q, out)) > 0) {
        rc = 0;
        sync = taken(q);
    }
    pthread_mutex_unlock(&q->lock);
    if (sync)
        fd_sync(q);
    return rc;
out:
    pthread_mutex_unlock(&q->lock);
    return rc;
}

int st_queue_get(st_queue *q, double timeout, st_queue_item *out)
{
    return get_item(q, timeout, out) < 0 ? ST_TRACE() : 0;
}

int st_queue_get_nowait(st_queue *q, st_queue_item *out)
{
    return get_item(q, 0, out) < 0 ? ST_TRACE() : 0;
}

/* ---- size, tasks, shutdown --------------------------------------------------------------- */

size_t st_queue_qsize(st_queue *q)
{
    pthread_mutex_lock(&q->lock);
    size_t n = q->count;
    pthread_mutex_unlock(&q->lock);
    return n;
}

int st_queue_empty(st_queue *q) { return st_queue_qsize(q) == 0; }

int st_queue_full(st_queue *q) { return q->maxsize && st_queue_qsize(q) >= q->maxsize; }

size_t st_queue_maxsize(const st_queue *q) { return q->maxsize; }

static int no_tasks(const st_queue *q, const char *name)
{
    if (q->kind != ST_QUEUE_SIMPLE)
        return 0;
    return ST_RAISE_AS(ST_ETYPE, "AttributeError",
                       "'_queue.SimpleQueue' object has no attribute '%s'", name);
}

int st_queue_task_done(st_queue *q)
{
    if (no_tasks(q, "task_done") < 0)
        return ST_TRACE();
    int rc = 0;
    pthread_mutex_lock(&q->lock);
    if (q->unfinished == 0)
        rc = ST_RAISE(ST_EVALUE, "task_done() called too many times");
    else if (--q->unfinished == 0 && q->joiners > 0)
        pthread_cond_broadcast(&q->all_done);
    pthread_mutex_unlock(&q->lock);
    return rc;
}

int st_queue_join(st_queue *q)
{
    if (no_tasks(q, "join") < 0)
        return ST_TRACE();
    pthread_mutex_lock(&q->lock);
    q->joiners++;
    while (q->unfinished)
        pthread_cond_wait(&q->all_done, &q->lock);
    q->joiners--;
    pthread_mutex_unlock(&q->lock);
    return 0;
}

void st_queue_shutdown(st_queue *q, int immediate)
{
    st_queue_item *ring = NULL;
    size_t cap = 0, head = 0, count = 0;
    pthread_mutex_lock(&q->lock);
    q->shut_down = 1;
    if (immediate) { /* detach the items; they are released outside the lock */
        ring = q->ring;
        cap = q->cap;
        head = q->head;
        count = q->count;
        q->ring = NULL;
        q->cap = q->head = q->count = 0;
        /* each dropped item counts as done, as 3.13's shutdown calls task_done() for it */
        q->unfinished -= count < q->unfinished ? count : q->unfinished;
        pthread_cond_broadcast(&q->all_done);
    }
    int sync = note_state(q);
    pthread_cond_broadcast(&q->not_empty);
    pthread_cond_broadcast(&q->not_full);
    pthread_mutex_unlock(&q->lock);
    if (sync)
        fd_sync(q);
    for (size_t i = 0; i < count; i++)
        item_release(&ring[(head + i) % cap]);
    free(ring);
}

size_t st_queue_drain(st_queue *q, unsigned budget_ms, st_queue_value_fn on_value, void *ctx)
{
    double end = st__monotonic() + budget_ms / 1000.0;
    size_t handled = 0;
    st_queue_item it;
    do {
        pthread_mutex_lock(&q->lock);
        int got = take(q, &it), sync = got > 0 && taken(q);
        pthread_mutex_unlock(&q->lock);
        if (got <= 0)
            break;
        if (sync)
            fd_sync(q);
        if (it.fn)
            it.fn(it.arg);
        else if (on_value)
            on_value(ctx, it.value);
        item_release(&it);
        handled++;
    } while (st__monotonic() < end);
    return handled;
}
