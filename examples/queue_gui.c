/* The GUI pattern: worker threads do the slow work and put their results (and a "done"
 * callback) on a queue; the main loop never blocks on them: it sleeps in poll() on the queue's
 * descriptor (beside its display's, in a real program), wakes when something arrived, handles
 * it for at most a few milliseconds, then goes back to "drawing". No timer, no idle wake-ups.
 * How long results waited (put to handled) goes to stderr: it depends on the machine. */
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <systools/systools.h>

#define WORKERS 3
#define RESULTS 1000

typedef struct app {
    long long sum[WORKERS]; /* touched by the main thread only */
    int count[WORKERS];
    int total;
    int finished;
    double waited[WORKERS * RESULTS]; /* seconds from put to handled, per result */
    st_queue *q;
} app;

typedef struct job {
    st_queue *q;
    int id;
    app *ui; /* for the "done" callback, which runs on the main thread */
} job;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void worker_done(void *arg) /* runs on the main thread, from the queue */
{
    job *j = arg;
    j->ui->finished++;
}

static void *worker(void *arg)
{
    job *j = arg;
    for (int i = 1; i <= RESULTS; i++) { /* a result: (worker id, i squared, when it was put) */
        st_value *items[] = {st_value_int(j->id), st_value_int((int64_t)i * i),
                             st_value_float(now())};
        st_queue_put_steal(j->q, st_value_tuple_steal(3, items));
        if (i % 100 == 0) { /* results trickle in, as real work makes them */
            struct timespec pause = {0, 1000 * 1000};
            nanosleep(&pause, NULL);
        }
    }
    st_queue_put_callback(j->q, worker_done, j); /* behind its results, so they come first */
    return NULL;
}

static void on_result(void *ctx, st_value *result) /* runs on the main thread */
{
    app *ui = ctx;
    int64_t id, sq;
    double put;
    if (st_value_as_int64(st_value_item(result, 0), &id) < 0 ||
        st_value_as_int64(st_value_item(result, 1), &sq) < 0 ||
        st_value_as_double(st_value_item(result, 2), &put) < 0)
        return;
    ui->waited[ui->total] = now() - put;
    ui->sum[id] += sq;
    ui->count[id]++;
    if (++ui->total % 750 == 0)
        printf("main loop: %d/%d results in\n", ui->total, WORKERS * RESULTS);
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(void)
{
    static app ui; /* the latencies make it large */
    ui.q = st_queue_new();
    int fd = ui.q ? st_queue_fileno(ui.q) : -1; /* readable exactly while items wait */
    if (fd < 0)
        return 1;
    pthread_t threads[WORKERS];
    job jobs[WORKERS];
    for (int i = 0; i < WORKERS; i++) {
        jobs[i] = (job){ui.q, i, &ui};
        if (pthread_create(&threads[i], NULL, worker, &jobs[i]) != 0)
            return 1;
    }
    int wakeups = 0;
    while (ui.finished < WORKERS) { /* the event loop: asleep until the queue has something */
        struct pollfd watch[] = {{fd, POLLIN, 0}}; /* a GUI adds its display's descriptor */
        if (poll(watch, 1, -1) < 0)
            continue; /* EINTR */
        wakeups++;
        st_queue_drain(ui.q, 5, on_result, &ui); /* at most 5 ms, then back to drawing */
    }
    for (int i = 0; i < WORKERS; i++)
        pthread_join(threads[i], NULL);
    printf("all %d workers finished; the main loop never waited on them (%s)\n", WORKERS,
           wakeups > 0 ? "it woke on the queue's descriptor" : "no wake-ups");
    for (int i = 0; i < WORKERS; i++)
        printf("worker %d: %d results, sum of squares %lld\n", i, ui.count[i], ui.sum[i]);
    qsort(ui.waited, (size_t)ui.total, sizeof *ui.waited, by_value);
    fprintf(stderr, "median put-to-handled time: %.1f us over %d results, %d wake-ups\n",
            ui.waited[ui.total / 2] * 1e6, ui.total, wakeups);
    st_queue_free(ui.q);
    return 0;
}
