/* ipc: Python's queue module for threads (Queue, LifoQueue, PriorityQueue, SimpleQueue, with
 * maxsize, task_done/join and 3.13's shutdown), callbacks as items, a time-boxed drain, and a
 * descriptor a main loop can wait on. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
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

/* An item as the storage holds it: one word, so a cache line moving between a producer and a
 * consumer under the lock carries 8 items (with 16-byte items a hand-written ring ran as slow
 * as this queue did with them, 0.8x its speed with pointers, producer and consumer on two
 * CPUs). A value is its pointer (an immediate int or float included); a callback is a box of
 * its function and argument, made before the lock is taken, its address tagged with the bits
 * no value pointer has. */
typedef uintptr_t held;

typedef struct callback_box {
    st_queue_fn fn;
    void *arg;
} callback_box;

static int held_is_value(held h) { return (h & ST__NOT_VALUE_MASK) != ST__NOT_VALUE_TAG; }

static st_value *held_value(held h) { return (st_value *)h; }

static callback_box *held_box(held h) { return (callback_box *)(h - ST__NOT_VALUE_TAG); }

static void held_release(held h)
{
    if (held_is_value(h))
        st_value_unref(held_value(h));
    else
        free(held_box(h));
}

/* The item to store for a value, or for fn(arg) (then boxed): 0 with MemoryError. */
static held held_make(st_value *value, st_queue_fn fn, void *arg)
{
    if (!fn)
        return (held)value;
    callback_box *b = malloc(sizeof *b);
    if (!b)
        return (ST_RAISE_NOMEM(), 0);
    b->fn = fn;
    b->arg = arg;
    return (held)b + ST__NOT_VALUE_TAG;
}

/* Hands a taken item to the caller (outside the lock: a callback's box is freed here). */
static void held_out(held h, st_queue_item *out)
{
    if (held_is_value(h)) {
        out->value = held_value(h);
        out->fn = NULL;
        out->arg = NULL;
    } else {
        out->value = NULL;
        out->fn = held_box(h)->fn;
        out->arg = held_box(h)->arg;
        free(held_box(h));
    }
}

/* ---- waiting: a put for room, a get for an item ------------------------------------------- */

/* Where the puts (or the gets) wait, with the queue's lock held but for the sleep itself. A
 * change that may let a waiter on (room, an item, shutdown) is made under the lock, which
 * calls waitq_signal(); the wake-up it asks for follows once the lock is released
 * (waitq_wake()), so the woken thread does not find the lock still held. A waiter that goes on
 * hands the wake-up to the next (waitq_signal() again) while what it waited for still holds:
 * room left after its put, items after its get. */
#if defined(ST_HAVE_FUTEX)
/* An event count. A waiter reads `seq` under the lock, unlocks and sleeps while seq keeps that
 * value; a waker changes seq under the lock, then wakes one sleeper. No wake-up can be lost:
 * one that comes before the sleep finds seq changed (glibc's condition variables can lose a
 * signal: its bug 25847). So one wake-up on its way at a time is enough (`woken`): it makes a
 * waiter return (the sleeper it wakes, one the change stops from sleeping, or one timing out),
 * which clears `woken` and looks at the queue under the lock, and passes the wake-up on if what
 * it waited for still holds once it is done. Puts and gets that a waiter's wake-up already
 * covers write nothing here and make no syscall; and waking one waiter at a time, not one per
 * put or get, keeps the others asleep while the queue is at its limit (each woken thread would
 * otherwise find it full or empty again, and sleep again: 4 producers and 4 consumers on two
 * CPUs, bounded, ran slower than with a mutex and condition variables). */
typedef struct waitq {
    _Atomic unsigned seq;
    unsigned waiters; /* threads from their count to their return, under the lock */
    unsigned woken;   /* 1: a wake-up is on its way, no waiter has come back since */
} waitq;
#else
/* A condition variable, signalled on every put (or get) while a thread waits, as CPython's
 * notify() and GLib's GAsyncQueue do: a signal the condition loses is made good by the next.
 * Counting the waiters no signal had woken yet, to signal fewer, left a waiter asleep for ever
 * once one was lost (glibc's bug 25847). */
typedef struct waitq {
    unsigned waiters;
    pthread_cond_t *cond; /* the queue's own, in its cold part */
} waitq;
#endif

/* The queue starts a cache line (64 bytes on most CPUs), so the lines below are lines. */
#define QUEUE_ALIGN 64

struct st_queue {
    /* What every put and get writes shares the lock's cache line (glibc x86-64: 40 + 24
     * bytes), which the lock brings anyway; what they only read is in the next (with the
     * waits' counts, written only while a thread waits); the rest, for the rare paths, after. */
    _Alignas(QUEUE_ALIGN) pthread_mutex_t lock;
    size_t head, count; /* the items in storage order from head */
    size_t unfinished;  /* puts not yet matched by a task_done() (SimpleQueue: kept, unread) */
    /* The items: a ring (FIFO, SimpleQueue) from head, or an array from 0 (LIFO: a stack,
     * PRIORITY: heapq's heap). */
    held *ring;
    /* A put may take the short way (store at the end, no wait, no growth, no shutdown check)
     * while count < room: room is cap, or 0 for a heap (its comparisons can fail) and once
     * shut down. A bounded queue's cap never passes maxsize, so count < room is never full. */
    size_t room;
    size_t cap;
    /* st_queue_fileno(): an eventfd (both ends the same) or a pipe, made on the first call.
     * Until then (has_fd 0, read under `lock`) puts and gets pay nothing for it. After,
     * `readable` (under `lock`) is what it should say (items wait, or shut down), changed at
     * each empty<->non-empty transition; the descriptor follows with a token (fd_follow())
     * once `lock` is released, so a woken poller never finds the queue locked by the thread
     * that woke it. */
    int has_fd;
    st_queue_kind kind;
    size_t maxsize;  /* 0: unbounded */
    waitq not_empty; /* gets wait here; woken by a put, and by shutdown */
    waitq not_full;  /* puts wait here (bounded queues); woken by a get, and by shutdown */
    unsigned joiners;
    int shut_down;
    int readable;
    clockid_t clock; /* the clock the waits measure timeouts with */
#if !defined(ST_HAVE_FUTEX)
    pthread_cond_t not_empty_cond, not_full_cond;
#endif
    pthread_cond_t all_done; /* broadcast when the unfinished tasks reach 0 */
    pthread_mutex_t fd_lock; /* st_queue_fileno()'s, while it makes the descriptor */
    int fd_read, fd_write;   /* -1 until made; set once, before has_fd */
};

/* Keeps `room` right after a change of cap, kind or shut_down (with the lock held). */
static void set_room(st_queue *q)
{
    q->room = q->shut_down || q->kind == ST_QUEUE_PRIORITY ? 0 : q->cap;
}

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
    st_queue *q = aligned_alloc(QUEUE_ALIGN, sizeof *q); /* sizeof: a multiple of the line */
    if (!q)
        return (ST_RAISE_NOMEM(), NULL);
    memset(q, 0, sizeof *q);
    q->kind = kind;
    q->maxsize = maxsize;
    q->fd_read = q->fd_write = -1;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
#if defined(ST_HAVE_FUTEX)
    q->clock = CLOCK_MONOTONIC; /* the futex waits' clock */
    pthread_cond_t *conds[] = {&q->all_done};
#else
    q->clock = CLOCK_REALTIME;
#if defined(ST_HAVE_PTHREAD_CONDATTR_SETCLOCK)
    /* Timeouts must not jump with the wall clock. */
    if (pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0)
        q->clock = CLOCK_MONOTONIC;
#endif
    q->not_empty.cond = &q->not_empty_cond;
    q->not_full.cond = &q->not_full_cond;
    pthread_cond_t *conds[] = {&q->not_empty_cond, &q->not_full_cond, &q->all_done};
#endif
    const int n_conds = (int)(sizeof conds / sizeof conds[0]);
    int r = pthread_mutex_init(&q->lock, NULL), made = 0;
    if (r == 0 && (r = pthread_mutex_init(&q->fd_lock, NULL)) != 0)
        pthread_mutex_destroy(&q->lock);
    if (r == 0) {
        while (made < n_conds && (r = pthread_cond_init(conds[made], &attr)) == 0)
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
static held *slot(st_queue *q, size_t i)
{
    size_t j = q->head + i;
    return &q->ring[j < q->cap ? j : j - q->cap];
}

void st_queue_free(st_queue *q)
{
    if (!q)
        return;
    for (size_t i = 0; i < q->count; i++)
        held_release(*slot(q, i));
    free(q->ring);
    if (q->fd_read >= 0)
        close(q->fd_read);
    if (q->fd_write >= 0 && q->fd_write != q->fd_read)
        close(q->fd_write);
    pthread_cond_destroy(&q->all_done);
#if !defined(ST_HAVE_FUTEX)
    pthread_cond_destroy(&q->not_full_cond);
    pthread_cond_destroy(&q->not_empty_cond);
#endif
    pthread_mutex_destroy(&q->fd_lock);
    pthread_mutex_destroy(&q->lock);
    free(q);
}

/* ---- the descriptor ---------------------------------------------------------------------- */

/* Records, with the lock held, whether the descriptor should be readable: items wait, or
 * the queue is shut down (so a main loop sees the end). Returns the token the descriptor must
 * follow with (fd_follow() once the lock is released): +1 one written, on a change to
 * readable; -1 one read, on a change back; 0 none: no change, or no descriptor asked for
 * (st_queue_fileno() notes the state itself when it makes one, under this lock, so a change
 * that saw no descriptor is not missed). */
static inline int note_state(st_queue *q)
{
    if (!q->has_fd)
        return 0;
    int want = q->count > 0 || q->shut_down;
    if (q->readable == want)
        return 0;
    q->readable = want;
    return want ? 1 : -1;
}

/* Writes (+1) or reads (-1) the token of a change note_state() returned. The syscalls run
 * outside every lock, so a poller woken by a put's write never blocks on a lock its waker
 * still holds (under load: a context switch each way); they pair up all the same: a read waits
 * (a semaphore eventfd, or a pipe) until the token of the change to readable before it is
 * written, so once a thread's put, get or shutdown returns, the tokens count its change: the
 * descriptor is readable while items wait (no lost wake-up), and readable with nothing to take
 * only while another thread's take is on its way to read the token. The descriptor is made
 * blocking, but its flags are the caller's too (a main loop may set O_NONBLOCK on it): a read
 * that finds no token yet then fails with EAGAIN, and waits for it in poll() instead, or the
 * tokens would drift (a token never read: readable for ever with nothing to take). */
static void fd_follow(st_queue *q, int change)
{
#if defined(ST_HAVE_EVENTFD)
    uint64_t token = 1;
#else
    char token = 0;
#endif
    int fd = change > 0 ? q->fd_write : q->fd_read;
    for (;;) {
        ssize_t r = change > 0 ? write(fd, &token, sizeof token) : read(fd, &token, sizeof token);
        if (r >= 0 || (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK))
            return; /* no other error can happen to the queue's own descriptor */
        if (errno != EINTR) { /* non-blocking: wait as a blocking call would */
            struct pollfd p = {fd, change > 0 ? POLLOUT : POLLIN, 0};
            (void)poll(&p, 1, -1);
        }
    }
}

int st_queue_fileno(st_queue *q)
{
    int change = 0;
    pthread_mutex_lock(&q->fd_lock);
    if (q->fd_read < 0) {
#if defined(ST_HAVE_EVENTFD)
        int fd = eventfd(0, EFD_CLOEXEC | EFD_SEMAPHORE);
        if (fd < 0) {
            int err = errno;
            pthread_mutex_unlock(&q->fd_lock);
            return ST_RAISE_OS(err, "cannot make the queue's eventfd");
        }
        q->fd_read = q->fd_write = fd;
#else
        int fds[2];
        if (st__pipe_cloexec(fds) < 0) {
            int err = errno;
            pthread_mutex_unlock(&q->fd_lock);
            return ST_RAISE_OS(err, "cannot make the queue's pipe");
        }
        q->fd_read = fds[0];
        q->fd_write = fds[1];
#endif
        /* From here on every transition moves a token. A change that did not see has_fd yet
         * unlocked the queue before this lock: the state is noted here. */
        pthread_mutex_lock(&q->lock);
        q->has_fd = 1;
        change = note_state(q);
        pthread_mutex_unlock(&q->lock);
    }
    int fd = q->fd_read;
    pthread_mutex_unlock(&q->fd_lock);
    if (change)
        fd_follow(q, change);
    return fd;
}

/* ---- storage: ring, stack, heap ---------------------------------------------------------- */

static const char *item_type(const held *h)
{
    return held_is_value(*h) ? st_value_type_name(held_value(*h)) : "function";
}

/* heapq's `a < b` on items: 1, 0, or -1 with TypeError (a callback orders with nothing). */
static int item_lt(const held *a, const held *b)
{
    if (!held_is_value(*a) || !held_is_value(*b))
        return ST_RAISE(ST_ETYPE, "'<' not supported between instances of '%s' and '%s'",
                        item_type(a), item_type(b));
    return st__value_lt(held_value(*a), held_value(*b));
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
    held *ring = st__reallocarray(q->ring, cap, sizeof *ring);
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
    set_room(q);
    return 0;
}

/* heappush, made all-or-nothing: the comparisons heapq makes (the new item against each
 * parent up the path until it is not less) are done first, then the items move. */
static int heap_push(st_queue *q, const held *it)
{
    held *a = q->ring;
    size_t pos = q->count;
    while (pos > 0) {
        size_t parent = (pos - 1) / 2;
        int lt = item_lt(it, &a[parent]);
        if (lt < 0)
            return ST_TRACE();
        if (!lt)
            break;
        pos = parent;
    }
    for (size_t j = q->count; j > pos; j = (j - 1) / 2)
        a[j] = a[(j - 1) / 2];
    a[pos] = *it;
    return 0;
}

/* heappop, all-or-nothing: the comparisons of heapq's siftup (the smaller child down to a
 * leaf) and siftdown (the last item back up that path) are made on the untouched heap, then
 * the items move. */
static int heap_pop(st_queue *q, held *out)
{
    held *a = q->ring;
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
    held last = a[m];
    for (size_t i = 0; i < j; i++)
        a[path[i]] = a[path[i + 1]];
    a[path[j]] = last;
    return 0;
}

/* Takes the next item, if any, with the lock held: 1, 0 when empty, -1 (PriorityQueue). */
static int take(st_queue *q, held *out)
{
    if (q->count == 0)
        return 0;
    if (q->kind == ST_QUEUE_FIFO || q->kind == ST_QUEUE_SIMPLE) {
        *out = q->ring[q->head];
        if (++q->head == q->cap)
            q->head = 0;
    } else if (q->kind == ST_QUEUE_LIFO) {
        *out = q->ring[q->count - 1];
    } else if (heap_pop(q, out) < 0) {
        return ST_TRACE();
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

/* One wait on w, with the lock held (timeout < 0: for ever; > 0: until *end, {0, 0} until the
 * first wait reads the clock, as Python's endtime, so a put or get that finds what it needs
 * never reads it): 0, or ETIMEDOUT. Either way the caller looks at the queue again. */
static int waitq_wait(st_queue *q, waitq *w, double timeout, struct timespec *end)
{
    int r;
    if (timeout >= 0 && end->tv_sec == 0 && end->tv_nsec == 0)
        *end = deadline_after(q, timeout);
    w->waiters++;
#if defined(ST_HAVE_FUTEX)
    unsigned seen = atomic_load_explicit(&w->seq, memory_order_relaxed);
    pthread_mutex_unlock(&q->lock);
    r = st__futex_wait(&w->seq, seen, timeout < 0 ? NULL : end);
    pthread_mutex_lock(&q->lock);
    w->woken = 0; /* back: the caller looks, and passes the wake-up on if it can */
#else
    if (timeout < 0)
        r = pthread_cond_wait(w->cond, &q->lock);
    else
        r = pthread_cond_timedwait(w->cond, &q->lock, end) == ETIMEDOUT ? ETIMEDOUT : 0;
#endif
    w->waiters--;
    return r;
}

/* After a change one waiter of w may want (all: that every waiter must see, shutdown), with
 * the lock held: 1 when waitq_wake(w, all ? INT_MAX : 1) must follow once the lock is released.
 * A wake-up already on its way covers one waiter's change, not a shutdown. */
static inline int waitq_signal(waitq *w, int all)
{
#if defined(ST_HAVE_FUTEX)
    if (w->waiters == 0 || (w->woken && !all))
        return 0;
    w->woken = 1;
    atomic_store_explicit(&w->seq, atomic_load_explicit(&w->seq, memory_order_relaxed) + 1,
                          memory_order_relaxed);
    return 1;
#else
    if (w->waiters && all)
        pthread_cond_broadcast(w->cond);
    else if (w->waiters)
        pthread_cond_signal(w->cond);
    return 0;
#endif
}

/* The wake-up waitq_signal() asked for, once the lock is released (the condition variables
 * were signalled under it). */
static void waitq_wake(waitq *w, int n)
{
#if defined(ST_HAVE_FUTEX)
    st__futex_wake(&w->seq, n);
#else
    (void)w;
    (void)n;
#endif
}

static int raise_shutdown(void)
{
    return ST_RAISE_AS(ST_ESTATE, "queue.ShutDown", "%s", "");
}

/* What a put or get leaves to do once the lock is released: wake-ups (waitq_signal() asked for
 * them) and the descriptor's token. */
typedef struct after {
    waitq *wake; /* the other kind's waiters: a put wakes a get, a get a put */
    waitq *pass; /* a waiter's own kind, when it passes its wake-up on */
    int sync;    /* note_state()'s token */
} after;

/* Releases the lock, then does what `a` says. A wake-up passes only the futex word's address
 * to the kernel, as glibc's mutex unlock does: were the queue freed by then (by a thread that
 * took the item, before this put returned: not allowed, but possible), it reads nothing freed,
 * and a wake-up on reused memory is a spurious one, which every futex user looks past. */
static inline void unlock_then(st_queue *q, after a)
{
    pthread_mutex_unlock(&q->lock);
    if (a.wake)
        waitq_wake(a.wake, 1);
    if (a.pass)
        waitq_wake(a.pass, 1);
    if (a.sync)
        fd_follow(q, a.sync);
}

/* For a put or get that waited on w, when it returns (with the lock held): w if what its kind
 * waits for still `holds` and the next waiter must be woken, else NULL. After shutdown every
 * waiter was woken already. */
static waitq *pass_on(st_queue *q, waitq *w, int waited, int holds)
{
    return waited && holds && !q->shut_down && waitq_signal(w, 0) ? w : NULL;
}

/* After an item arrived, with the lock held: the count, a waiting get, the descriptor's state
 * (its token; only the first item changes it). */
static inline after added(st_queue *q)
{
    q->count++;
    q->unfinished++;
    return (after){waitq_signal(&q->not_empty, 0) ? &q->not_empty : NULL, NULL,
                   q->count == 1 ? note_state(q) : 0};
}

/* Queue.put() the long way, with the lock held (released here): shut down, full (wait, or
 * queue.Full), no room yet (grow), or a heap. The item is released on failure. */
static int put_slow(st_queue *q, held it, double timeout)
{
    struct timespec end = {0, 0};
    int rc = 0, waited = 0;
    after a = {NULL, NULL, 0};
    if (q->shut_down) {
        rc = raise_shutdown();
        goto out;
    }
    while (q->maxsize && q->count >= q->maxsize) {
        if (timeout == 0) {
            rc = ST_RAISE_AS(ST_ETIMEOUT, "queue.Full", "%s", "");
            goto out;
        }
        waited = 1;
        int timed_out = waitq_wait(q, &q->not_full, timeout, &end) == ETIMEDOUT;
        if (q->shut_down) { /* Python looks after every wait */
            rc = raise_shutdown();
            goto out;
        }
        if (timed_out && q->count >= q->maxsize) {
            rc = ST_RAISE_AS(ST_ETIMEOUT, "queue.Full", "%s", "");
            goto out;
        }
    }
    if ((rc = reserve(q)) == 0) {
        if (q->kind != ST_QUEUE_PRIORITY)
            *slot(q, q->count) = it;
        else
            rc = heap_push(q, &it);
        if (rc == 0)
            a = added(q);
    }
out:
    a.pass = pass_on(q, &q->not_full, waited, q->count < q->maxsize);
    unlock_then(q, a);
    if (rc < 0)
        held_release(it);
    return rc;
}

/* Queue.put() of a value or a callback: the value is released on failure. The short way (room
 * at the end) is the lock, a store and the counts, no more. */
static int put_item(st_queue *q, st_value *value, st_queue_fn fn, void *arg, double timeout)
{
    held it = held_make(value, fn, arg);
    if (!it)
        return ST_TRACE();
    pthread_mutex_lock(&q->lock);
    if (q->count >= q->room)
        return put_slow(q, it, timeout);
    *slot(q, q->count) = it;
    unlock_then(q, added(q));
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
    if (!value)
        return ST_TRACE();
    return put_item(q, value, NULL, NULL, ST_NO_TIMEOUT) < 0 ? ST_TRACE() : 0;
}

int st_queue_put_nowait_steal(st_queue *q, st_value *value)
{
    if (!value)
        return ST_TRACE();
    return put_item(q, value, NULL, NULL, 0) < 0 ? ST_TRACE() : 0;
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
 * (its token; only the last item changes it). */
static inline after taken(st_queue *q)
{
    return (after){waitq_signal(&q->not_full, 0) ? &q->not_full : NULL, NULL,
                   q->count == 0 ? note_state(q) : 0};
}

/* Queue.get() the long way, with the lock held (released here): empty (wait, or queue.Empty,
 * or queue.ShutDown), or a stack or heap. */
static int get_slow(st_queue *q, double timeout, st_queue_item *out)
{
    struct timespec end = {0, 0};
    held h;
    int rc = 0, waited = 0;
    after a = {NULL, NULL, 0};
    while (q->count == 0) {
        if (q->shut_down) {
            rc = raise_shutdown();
            goto out;
        }
        int timed_out = timeout == 0;
        if (!timed_out) {
            waited = 1;
            timed_out = waitq_wait(q, &q->not_empty, timeout, &end) == ETIMEDOUT;
        }
        if (timed_out) {
            if (q->count == 0 && !q->shut_down) {
                rc = ST_RAISE_AS(ST_ETIMEOUT, "queue.Empty", "%s", "");
                goto out;
            }
            timeout = 0; /* one more look, then no more waiting */
        }
    }
    if ((rc = take(q, &h)) > 0) {
        rc = 0;
        a = taken(q);
    }
out:
    a.pass = pass_on(q, &q->not_empty, waited, q->count > 0);
    unlock_then(q, a);
    if (rc < 0)
        return rc;
    held_out(h, out);
    return 0;
}

/* Queue.get(): timeout < 0 waits for ever, 0 does not wait. The short way (a FIFO with items)
 * is the lock, a load and the counts. */
static int get_item(st_queue *q, double timeout, st_queue_item *out)
{
    pthread_mutex_lock(&q->lock);
    if (q->count == 0 || q->kind == ST_QUEUE_LIFO || q->kind == ST_QUEUE_PRIORITY)
        return get_slow(q, timeout, out);
    held h = q->ring[q->head];
    if (++q->head == q->cap)
        q->head = 0;
    q->count--;
    unlock_then(q, taken(q));
    held_out(h, out);
    return 0;
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
    held *ring = NULL;
    size_t cap = 0, head = 0, count = 0;
    pthread_mutex_lock(&q->lock);
    q->shut_down = 1;
    set_room(q);
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
    int wake_gets = waitq_signal(&q->not_empty, 1), wake_puts = waitq_signal(&q->not_full, 1);
    pthread_mutex_unlock(&q->lock);
    if (wake_gets)
        waitq_wake(&q->not_empty, INT_MAX);
    if (wake_puts)
        waitq_wake(&q->not_full, INT_MAX);
    if (sync)
        fd_follow(q, sync);
    for (size_t i = 0; i < count; i++)
        held_release(ring[(head + i) % cap]);
    free(ring);
}

size_t st_queue_drain(st_queue *q, unsigned budget_ms, st_queue_value_fn on_value, void *ctx)
{
    double end = st__monotonic() + budget_ms / 1000.0;
    size_t handled = 0;
    held it;
    do {
        pthread_mutex_lock(&q->lock);
        int got = take(q, &it);
        unlock_then(q, got > 0 ? taken(q) : (after){NULL, NULL, 0});
        if (got <= 0)
            break;
        if (!held_is_value(it))
            held_box(it)->fn(held_box(it)->arg);
        else if (on_value)
            on_value(ctx, held_value(it));
        held_release(it);
        handled++;
    } while (st__monotonic() < end);
    return handled;
}
