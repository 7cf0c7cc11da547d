/* The GUI pattern: worker threads do the slow work and put their results (and a "done"
 * callback) on a queue; the main loop never blocks on them: on each timer tick it drains
 * whatever arrived for at most a few milliseconds, then goes back to "drawing". */
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#include <systools/systools.h>

#define WORKERS 3
#define RESULTS 1000

typedef struct app {
    long long sum[WORKERS]; /* touched by the main thread only */
    int count[WORKERS];
    int total;
    int finished;
    st_queue *q;
} app;

typedef struct job {
    st_queue *q;
    int id;
    app *ui; /* for the "done" callback, which runs on the main thread */
} job;

static void worker_done(void *arg) /* runs on the main thread, from the queue */
{
    job *j = arg;
    j->ui->finished++;
}

static void *worker(void *arg)
{
    job *j = arg;
    for (int i = 1; i <= RESULTS; i++) /* a result: worker id and i squared, as a tuple */
        st_queue_put_steal(j->q, st_value_tuple_steal(2, (st_value *[]){st_value_int(j->id),
                                                                         st_value_int((int64_t)i * i)}));
    st_queue_put_callback(j->q, worker_done, j); /* behind its results, so they come first */
    return NULL;
}

static void on_result(void *ctx, st_value *result) /* runs on the main thread */
{
    app *ui = ctx;
    int64_t id, sq;
    if (st_value_as_int64(st_value_item(result, 0), &id) < 0 ||
        st_value_as_int64(st_value_item(result, 1), &sq) < 0)
        return;
    ui->sum[id] += sq;
    ui->count[id]++;
    if (++ui->total % 750 == 0)
        printf("main loop: %d/%d results in\n", ui->total, WORKERS * RESULTS);
}

int main(void)
{
    app ui = {{0}, {0}, 0, 0, st_queue_new()};
    if (!ui.q)
        return 1;
    pthread_t threads[WORKERS];
    job jobs[WORKERS];
    for (int i = 0; i < WORKERS; i++) {
        jobs[i] = (job){ui.q, i, &ui};
        if (pthread_create(&threads[i], NULL, worker, &jobs[i]) != 0)
            return 1;
    }
    int ticks = 0;
    while (ui.finished < WORKERS) { /* the "event loop": a 10 ms timer */
        struct timespec tick = {0, 10 * 1000 * 1000};
        nanosleep(&tick, NULL);
        st_queue_drain(ui.q, 5, on_result, &ui); /* 5 ms budget per tick */
        ticks++;
    }
    for (int i = 0; i < WORKERS; i++)
        pthread_join(threads[i], NULL);
    printf("all %d workers finished; the main loop never waited on them (%s)\n", WORKERS,
           ticks > 0 ? "drained on timer ticks" : "no ticks");
    for (int i = 0; i < WORKERS; i++)
        printf("worker %d: %d results, sum of squares %lld\n", i, ui.count[i], ui.sum[i]);
    st_queue_free(ui.q);
    return 0;
}
