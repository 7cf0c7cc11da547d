/* The GUI pattern inside a real GLib main loop: worker threads put results on an st_queue and
 * GLib wakes the loop through the queue's descriptor (g_unix_fd_add), as it wakes for a
 * socket; the loop handles what arrived and sleeps again, with no timer. GAsyncQueue cannot
 * do this (it has no descriptor). Built where GLib was found; how long results waited goes to
 * stderr, as in queue_gui. */
#include <glib-unix.h>
#include <glib.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include <systools/systools.h>

#define WORKERS 4
#define RESULTS 500

typedef struct app {
    GMainLoop *loop;
    st_queue *q;
    long long sum;
    int total, finished, wakeups;
    double waited[WORKERS * RESULTS]; /* seconds from put to handled, per result */
} app;

static void *worker(void *arg)
{
    st_queue *q = arg;
    for (int i = 1; i <= RESULTS; i++) { /* a result: (i, when it was put) */
        st_value *items[] = {st_value_int(i), st_value_float(g_get_monotonic_time() / 1e6)};
        st_queue_put_steal(q, st_value_tuple_steal(2, items));
        if (i % 100 == 0)
            g_usleep(1000); /* results trickle in, as real work makes them */
    }
    st_queue_put_steal(q, st_value_none()); /* "this worker is done" */
    return NULL;
}

static void on_value(void *ctx, st_value *v) /* on the main loop's thread */
{
    app *a = ctx;
    int64_t i;
    double put;
    if (st_value_kind(v) == ST_VALUE_NONE) {
        a->finished++;
        return;
    }
    if (st_value_as_int64(st_value_item(v, 0), &i) < 0 ||
        st_value_as_double(st_value_item(v, 1), &put) < 0)
        return;
    a->waited[a->total++] = g_get_monotonic_time() / 1e6 - put;
    a->sum += i;
}

/* GLib calls this when the queue's descriptor is readable: items wait (or it shut down). */
static gboolean on_queue(gint fd, GIOCondition condition, gpointer data)
{
    (void)fd;
    (void)condition;
    app *a = data;
    a->wakeups++;
    st_queue_drain(a->q, 5, on_value, a); /* at most 5 ms, then back to the loop */
    if (a->finished < WORKERS)
        return G_SOURCE_CONTINUE;
    g_main_loop_quit(a->loop);
    return G_SOURCE_REMOVE;
}

static int by_value(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

int main(void)
{
    static app a; /* the latencies make it large */
    a.loop = g_main_loop_new(NULL, FALSE);
    a.q = st_queue_new();
    int fd = a.q ? st_queue_fileno(a.q) : -1;
    if (fd < 0)
        return 1;
    g_unix_fd_add(fd, G_IO_IN, on_queue, &a);
    pthread_t threads[WORKERS];
    for (int i = 0; i < WORKERS; i++)
        if (pthread_create(&threads[i], NULL, worker, a.q) != 0)
            return 1;
    g_main_loop_run(a.loop); /* returns when every worker said it is done */
    for (int i = 0; i < WORKERS; i++)
        pthread_join(threads[i], NULL);
    printf("GMainLoop: %d results from %d workers, sum %lld; woken by the queue's descriptor\n",
           a.total, WORKERS, a.sum);
    qsort(a.waited, (size_t)a.total, sizeof *a.waited, by_value);
    fprintf(stderr, "median put-to-handled time: %.1f us over %d results, %d wake-ups\n",
            a.waited[a.total / 2] * 1e6, a.total, a.wakeups);
    g_main_loop_unref(a.loop);
    st_queue_free(a.q);
    return 0;
}
