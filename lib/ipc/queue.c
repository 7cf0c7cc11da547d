/* ipc: queue.Queue for threads, with callbacks as items and a time-boxed drain. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "internal/error.h"
#include "internal/mem.h"
#include "internal/posix.h"
#include "st_config.h"
#include "systools/ipc.h"

struct st_queue {
    pthread_mutex_t lock;
    pthread_cond_t ready; /* signalled on put and on shutdown */
    st_queue_item *ring;
    size_t cap, head, count;
    int shut_down;
    clockid_t clock; /* the clock `ready` measures timeouts with */
};

static void item_release(st_queue_item *it) { st_value_unref(it->value); }

st_queue *st_queue_new(void)
{
    st_queue *q = st__calloc(1, sizeof *q);
    if (!q)
        return (ST_TRACE(), NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    q->clock = CLOCK_REALTIME;
#if defined(ST_HAVE_PTHREAD_CONDATTR_SETCLOCK)
    /* Timeouts must not jump with the wall clock. */
    if (pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0)
        q->clock = CLOCK_MONOTONIC;
#endif
    int r = pthread_mutex_init(&q->lock, NULL);
    if (r == 0 && (r = pthread_cond_init(&q->ready, &attr)) != 0)
        pthread_mutex_destroy(&q->lock);
    pthread_condattr_destroy(&attr);
    if (r != 0) {
        free(q);
        return (ST_RAISE_OS(r, "cannot create a queue"), NULL);
    }
    return q;
}

void st_queue_free(st_queue *q)
{
    if (!q)
        return;
    for (size_t i = 0; i < q->count; i++)
        item_release(&q->ring[(q->head + i) % q->cap]);
    free(q->ring);
    pthread_cond_destroy(&q->ready);
    pthread_mutex_destroy(&q->lock);
    free(q);
}

/* Appends under the lock; the item's value is released on failure. */
static int put_item(st_queue *q, st_queue_item it)
{
    pthread_mutex_lock(&q->lock);
    if (q->shut_down) {
        pthread_mutex_unlock(&q->lock);
        item_release(&it);
        return ST_RAISE_AS(ST_ESTATE, "queue.ShutDown", "the queue is shut down");
    }
    if (q->count == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 64;
        st_queue_item *ring = st__reallocarray(NULL, cap, sizeof *ring);
        if (!ring) {
            pthread_mutex_unlock(&q->lock);
            item_release(&it);
            return ST_TRACE();
        }
        for (size_t i = 0; i < q->count; i++) /* unwrap into the new ring */
            ring[i] = q->ring[(q->head + i) % q->cap];
        free(q->ring);
        q->ring = ring;
        q->cap = cap;
        q->head = 0;
    }
    q->ring[(q->head + q->count) % q->cap] = it;
    q->count++;
    pthread_mutex_unlock(&q->lock);
    pthread_cond_signal(&q->ready);
    return 0;
}

int st_queue_put_steal(st_queue *q, st_value *value)
{
    if (!value)
        return ST_TRACE();
    st_queue_item it = {value, NULL, NULL};
    return put_item(q, it) < 0 ? ST_TRACE() : 0;
}

int st_queue_put_callback(st_queue *q, st_queue_fn fn, void *arg)
{
    if (!fn)
        return ST_RAISE(ST_EVALUE, "the callback must not be NULL");
    st_queue_item it = {NULL, fn, arg};
    return put_item(q, it) < 0 ? ST_TRACE() : 0;
}

/* Takes the head item, if any, with the lock held. */
static int pop_locked(st_queue *q, st_queue_item *out)
{
    if (q->count == 0)
        return 0;
    *out = q->ring[q->head];
    q->head = (q->head + 1) % q->cap;
    q->count--;
    return 1;
}

/* Takes the head item; timeout < 0 waits for ever, 0 does not wait. */
static int get_item(st_queue *q, double timeout, st_queue_item *out)
{
    struct timespec deadline = {0, 0};
    if (timeout > 0) {
        clock_gettime(q->clock, &deadline);
        /* Capped at about 31 years, so the seconds fit a time_t whatever the timeout. */
        double t = timeout < 1e9 ? timeout : 1e9, whole = floor(t);
        deadline.tv_sec += (time_t)whole;
        deadline.tv_nsec += (long)((t - whole) * 1e9);
        if (deadline.tv_nsec >= 1000000000L) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000L;
        }
    }
    pthread_mutex_lock(&q->lock);
    while (q->count == 0 && !q->shut_down && timeout != 0) {
        if (timeout < 0) {
            pthread_cond_wait(&q->ready, &q->lock);
        } else if (pthread_cond_timedwait(&q->ready, &q->lock, &deadline) == ETIMEDOUT) {
            break;
        }
    }
    int got = pop_locked(q, out), shut_down = q->shut_down;
    pthread_mutex_unlock(&q->lock);
    if (got)
        return 0;
    if (shut_down)
        return ST_RAISE_AS(ST_ESTATE, "queue.ShutDown", "the queue is shut down");
    return ST_RAISE_AS(ST_ETIMEOUT, "queue.Empty", "%s", "");
}

int st_queue_get(st_queue *q, double timeout, st_queue_item *out)
{
    return get_item(q, timeout, out) < 0 ? ST_TRACE() : 0;
}

int st_queue_get_nowait(st_queue *q, st_queue_item *out)
{
    return get_item(q, 0, out) < 0 ? ST_TRACE() : 0;
}

size_t st_queue_qsize(st_queue *q)
{
    pthread_mutex_lock(&q->lock);
    size_t n = q->count;
    pthread_mutex_unlock(&q->lock);
    return n;
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
    }
    pthread_mutex_unlock(&q->lock);
    pthread_cond_broadcast(&q->ready);
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
        int got = pop_locked(q, &it);
        pthread_mutex_unlock(&q->lock);
        if (!got)
            break;
        if (it.fn)
            it.fn(it.arg);
        else if (on_value)
            on_value(ctx, it.value);
        item_release(&it);
        handled++;
    } while (st__monotonic() < end);
    return handled;
}
