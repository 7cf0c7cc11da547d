/* The thread-safety contract of docs/conventions.md ("Threads"), as a stress test: every module
 * at once from 8 threads, each on its own objects (glob, os.walk, subprocess with communicate,
 * pickle, struct, os.path, one compiled fnmatch pattern shared by all, one shelf per thread),
 * while 4 producers and 4 consumers pass records through a bounded and an unbounded queue.
 * Every record shares one key string with all the others (the natural C code), so references
 * to it are taken and dropped on 8 threads at once: every item must arrive exactly once, and
 * under the tsan preset ThreadSanitizer must report nothing. Short in the default suite,
 * bigger under the label "proof". */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "internal/value.h"
#include "support/proof.h"
#include "support/support.h"
#include "systools/systools.h"

enum { WORKERS = 8, PRODUCERS = 4, CONSUMERS = 4 };

static char base[] = "/tmp/st_threads_XXXXXX";

/* ---- every module on its own objects, 8 threads at once ---------------------------------- */

typedef struct worker {
    int id;
    int rounds;
    const st_fnmatch_pattern *shared_pattern; /* the one compiled pattern every thread uses */
    char failure[256];                         /* the first failed check, or empty */
} worker;

#define CHECK(w, cond)                                                                    \
    do {                                                                                  \
        if (!(cond) && !(w)->failure[0])                                                  \
            snprintf((w)->failure, sizeof (w)->failure, "thread %d, line %d: %s (%s)",    \
                     (w)->id, __LINE__, #cond, st_error_message() ? st_error_message() : ""); \
    } while (0)

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void one_round(worker *w, const char *dir, int round)
{
    /* glob: its own tree */
    char *pat = st_path_join(dir, "*", "*.txt", (const char *)NULL);
    const char **found = st_glob(pat, 0);
    CHECK(w, found && st_strv_len(found) == 1);
    st_strv_free(found);
    st_free(pat);

    /* os.walk: three files in two directories */
    st_os_walk_iterator *it = st_os_walk(dir, NULL);
    CHECK(w, it != NULL);
    size_t files = 0, dirs = 0;
    st_os_walk_step *step;
    while (it && st_os_walk_iterator_next(it, &step) > 0) {
        dirs++;
        for (size_t i = 0; i < step->nfilenames; i++)
            files += strstr(step->filenames[i], "shelf") == NULL;
    }
    st_os_walk_iterator_free(it);
    CHECK(w, dirs == 2 && files == 3);

    /* subprocess: cat echoes what communicate() sends */
    const char *argv[] = {"cat", NULL};
    st_popen_options o = ST_POPEN_OPTIONS_INIT;
    o.stdin_fd = ST_SUBPROCESS_PIPE;
    o.stdout_fd = ST_SUBPROCESS_PIPE;
    st_popen *p = st_popen_new(argv, &o);
    CHECK(w, p != NULL);
    if (p) {
        char msg[64];
        int n = snprintf(msg, sizeof msg, "thread %d round %d\n", w->id, round);
        st_completed_process r;
        CHECK(w, st_popen_communicate(p, msg, (size_t)n, 30, &r) == 0);
        CHECK(w, r.returncode == 0 && r.stdout_len == (size_t)n &&
                     memcmp(r.stdout_data, msg, (size_t)n) == 0);
        st_completed_process_free(&r);
        st_popen_free(p);
    }

    /* pickle: a record round trip */
    st_value *rec = st_value_parse("{'id': 7, 'name': 'x', 'tags': ['a', 'b'], 'pos': (1.5, -2)}");
    unsigned char *pk = NULL;
    size_t len = 0;
    CHECK(w, rec && st_pickle_dumps(rec, 4, &pk, &len) == 0);
    st_value *back = pk ? st_pickle_loads(pk, len, NULL) : NULL;
    CHECK(w, back && st_value_equal(rec, back) == 1);
    st_value_unref(back);
    st_value_unref(rec);
    st_free(pk);

    /* struct: a compiled format of its own */
    st_struct *s = st_struct_new("<iqd");
    unsigned char buf[20];
    int32_t i32 = 0;
    int64_t i64 = 0;
    double d = 0;
    CHECK(w, s && st_struct_pack(s, buf, sizeof buf, (int32_t)w->id, (int64_t)round, 0.5) == 0);
    CHECK(w, s && st_struct_unpack(s, buf, sizeof buf, &i32, &i64, &d) == 0);
    CHECK(w, i32 == w->id && i64 == round && d == 0.5);
    st_struct_free(s);

    /* os.path */
    char *rel = st_path_relpath("/a/b/c/../d", "/a");
    CHECK(w, rel && strcmp(rel, "b/d") == 0);
    st_free(rel);

    /* fnmatch: one compiled pattern, read by every thread */
    char name[32];
    snprintf(name, sizeof name, "file_%d.txt", w->id);
    CHECK(w, st_fnmatch_pattern_match(w->shared_pattern, name) == 1);
    CHECK(w, st_fnmatch_pattern_match(w->shared_pattern, "file_1.log") == 0);

    /* shelve: one shelf per thread */
    char *file = st_path_join(dir, "shelf", (const char *)NULL);
    st_shelf *sh = st_shelve_open(file, "c", NULL);
    CHECK(w, sh != NULL);
    if (sh) {
        char key[16];
        snprintf(key, sizeof key, "r%d", round);
        CHECK(w, st_shelf_set(sh, key, st_value_int(round)) == 0);
        st_value *v = st_shelf_get(sh, key);
        int64_t got = -1;
        CHECK(w, v && st_value_as_int64(v, &got) == 0 && got == round);
        st_value_unref(v);
        CHECK(w, st_shelf_close(sh) == 0);
        st_shelf_free(sh);
    }
    st_free(file);
}

static void *module_worker(void *arg)
{
    worker *w = arg;
    char dir[64], path[96];
    snprintf(dir, sizeof dir, "%s/t%d", base, w->id);
    snprintf(path, sizeof path, "%s/sub", dir);
    CHECK(w, st_os_makedirs(path, 0777, 1) == 0);
    snprintf(path, sizeof path, "%s/a.txt", dir);
    write_file(path, "a");
    snprintf(path, sizeof path, "%s/b.log", dir);
    write_file(path, "b");
    snprintf(path, sizeof path, "%s/sub/c.txt", dir);
    write_file(path, "c");
    for (int r = 0; r < w->rounds && !w->failure[0]; r++)
        one_round(w, dir, r);
    return NULL;
}

/* ---- the queue: 4 producers, 4 consumers, records sharing one key ------------------------ */

typedef struct flow {
    st_queue *q;
    st_value *key; /* the shared key string: every record holds a reference to it */
    int per_producer;
    int id;
    atomic_uchar *seen;
    atomic_int errors;
} flow;

static void *producer(void *arg)
{
    flow *f = arg;
    for (int i = 0; i < f->per_producer; i++) {
        st_value *rec = st_value_dict();
        int64_t n = (int64_t)f->id * f->per_producer + i;
        if (!rec || st_value_dict_set_steal(rec, st_value_ref(f->key), st_value_int(n)) < 0 ||
            st_queue_put_steal(f->q, rec) < 0)
            atomic_fetch_add(&f->errors, 1);
    }
    return NULL;
}

static void *consumer(void *arg)
{
    flow *f = arg;
    st_queue_item it;
    while (st_queue_get(f->q, ST_NO_TIMEOUT, &it) == 0) { /* until queue.ShutDown */
        int64_t n = -1;
        st_value *v = st_value_dict_get(it.value, f->key);
        if (!v || st_value_as_int64(v, &n) < 0 || n < 0 ||
            n >= (int64_t)f->per_producer * PRODUCERS)
            atomic_fetch_add(&f->errors, 1);
        else
            atomic_fetch_add(&f->seen[n], 1);
        st_value_unref(it.value); /* drops a reference to the shared key, racing the producers */
        if (st_queue_task_done(f->q) < 0)
            atomic_fetch_add(&f->errors, 1);
    }
    return NULL;
}

typedef struct queue_run {
    size_t maxsize;
    int per_producer;
    flow flows[PRODUCERS + CONSUMERS];
    pthread_t threads[PRODUCERS + CONSUMERS];
    st_queue *q;
    st_value *key;
    atomic_uchar *seen;
} queue_run;

static void queue_start(queue_run *r)
{
    st_queue_options o = ST_QUEUE_OPTIONS_INIT;
    o.maxsize = r->maxsize;
    r->q = st_queue_new_with_options(&o);
    assert_non_null(r->q);
    r->key = st_value_str("value");
    assert_non_null(r->key);
    int64_t hash; /* value.h: a key many threads will hash is hashed before it is shared */
    assert_int_equal(st_value_hash(r->key, &hash), 0);
    size_t total = (size_t)r->per_producer * PRODUCERS;
    r->seen = calloc(total, sizeof *r->seen);
    assert_non_null(r->seen);
    for (int i = 0; i < PRODUCERS + CONSUMERS; i++) {
        flow *f = &r->flows[i];
        f->q = r->q;
        f->key = r->key;
        f->per_producer = r->per_producer;
        f->id = i;
        f->seen = r->seen;
        atomic_init(&f->errors, 0);
        assert_int_equal(
            pthread_create(&r->threads[i], NULL, i < PRODUCERS ? producer : consumer, f), 0);
    }
}

static void queue_finish(queue_run *r)
{
    for (int i = 0; i < PRODUCERS; i++)
        pthread_join(r->threads[i], NULL);
    assert_int_equal(st_queue_join(r->q), 0); /* every record taken and marked done */
    st_queue_shutdown(r->q, 0);             /* consumers now get queue.ShutDown */
    for (int i = PRODUCERS; i < PRODUCERS + CONSUMERS; i++)
        pthread_join(r->threads[i], NULL);
    for (int i = 0; i < PRODUCERS + CONSUMERS; i++)
        assert_int_equal(atomic_load(&r->flows[i].errors), 0);
    size_t total = (size_t)r->per_producer * PRODUCERS;
    for (size_t i = 0; i < total; i++)
        assert_int_equal(atomic_load(&r->seen[i]), 1); /* exactly once */
    assert_int_equal(st_queue_qsize(r->q), 0);
    st_value_unref(r->key); /* the last reference: every record has released its own */
    free(r->seen);
    st_queue_free(r->q);
}

/* ---- shared-key dicts: one shape, its dicts on several threads ---------------------------- */

typedef struct shape_job {
    st_value **recs; /* references to this thread's records */
    size_t n;
    atomic_int *errors;
} shape_job;

/* Changes each of its records in one of the ways a shared-key dict allows (a value replaced in
 * place, a key added, a key deleted), checks it against a copy (which shares the shape) and a
 * pickle round trip, and drops both, while the other threads do the same with theirs. */
static void *shape_worker(void *arg)
{
    shape_job *j = arg;
    st_value *id = st_value_str("id"), *extra = st_value_str("extra");
    int64_t hash;
    if (!id || !extra || st_value_hash(id, &hash) < 0 || st_value_hash(extra, &hash) < 0)
        atomic_fetch_add(j->errors, 1);
    for (size_t i = 0; i < j->n; i++) {
        st_value *r = j->recs[i], *cp = st_value_copy(r), *back = NULL;
        int ok = cp && st__dict_shape(cp) == st__dict_shape(r) && st_value_equal(cp, r) == 1;
        if (i % 3 == 0)
            ok &= st_value_dict_set_steal(r, st_value_ref(id), st_value_int(-1)) == 0 &&
                  st__dict_shape(r) == st__dict_shape(cp);
        else if (i % 3 == 1)
            ok &= st_value_dict_set(r, extra, st_value_none()) == 0 && !st__dict_shape(r);
        else
            ok &= st_value_dict_delete(r, id) == 0 && !st__dict_shape(r);
        ok &= st_value_equal(cp, r) == 0;
        unsigned char *pk = NULL;
        size_t len = 0;
        ok &= st_pickle_dumps(r, 4, &pk, &len) == 0 && (back = st_pickle_loads(pk, len, NULL)) &&
              st_value_equal(back, r) == 1;
        st_free(pk);
        st_value_unref(back);
        st_value_unref(cp);
        st_value_unref(r);
        if (!ok)
            atomic_fetch_add(j->errors, 1);
    }
    st_value_unref(id);
    st_value_unref(extra);
    return NULL;
}

/* Records loaded from one pickle share one shape and their key strings. The threads take
 * and drop references to both at once, and the main thread drops the list meanwhile: every
 * change must stay in its own record, and under the tsan preset ThreadSanitizer must report
 * nothing. */
static void test_threads_shared_shapes(void **state)
{
    (void)state;
    enum { THREADS = 4 };
    const size_t n = (size_t)ST_PROOF_SIZE(4000, 100000);
    st_value *recs = st_value_list(), *k[3] = {st_value_str("id"), st_value_str("name"),
                                               st_value_str("tags")};
    for (size_t i = 0; i < n; i++) {
        st_value *d = st_value_dict(), *tags = st_value_list();
        assert_int_equal(st_value_list_append(tags, k[2]), 0);
        st_value *num = st_value_int((int64_t)i);
        assert_int_equal(st_value_dict_set_steal(d, st_value_ref(k[0]), num), 0);
        assert_int_equal(st_value_dict_set_steal(d, st_value_ref(k[1]), st_value_str("x")), 0);
        assert_int_equal(st_value_dict_set_steal(d, st_value_ref(k[2]), tags), 0);
        assert_int_equal(st_value_list_append_steal(recs, d), 0);
    }
    unsigned char *pk;
    size_t len;
    assert_int_equal(st_pickle_dumps(recs, 4, &pk, &len), 0);
    st_value *loaded = st_pickle_loads(pk, len, NULL);
    st_free(pk);
    assert_non_null(loaded);
    const void *shape = st__dict_shape(st_value_item(loaded, 1));
    assert_non_null(shape);
    shape_job jobs[THREADS];
    pthread_t threads[THREADS];
    atomic_int errors;
    atomic_init(&errors, 0);
    for (int t = 0; t < THREADS; t++) {
        jobs[t] = (shape_job){calloc(n / THREADS + 1, sizeof(st_value *)), 0, &errors};
        assert_non_null(jobs[t].recs);
    }
    for (size_t i = 0; i < n; i++) {
        st_value *r = st_value_item(loaded, (ptrdiff_t)i);
        assert_true(i == 0 || st__dict_shape(r) == shape);
        shape_job *j = &jobs[i % THREADS];
        j->recs[j->n++] = st_value_ref(r);
    }
    for (int t = 0; t < THREADS; t++)
        assert_int_equal(pthread_create(&threads[t], NULL, shape_worker, &jobs[t]), 0);
    st_value_unref(loaded); /* the list and its references go while the threads work */
    for (int t = 0; t < THREADS; t++) {
        pthread_join(threads[t], NULL);
        free(jobs[t].recs);
    }
    assert_int_equal(atomic_load(&errors), 0);
    st_value_unref(recs);
    for (int i = 0; i < 3; i++)
        st_value_unref(k[i]);
}

static void test_threads_everything_at_once(void **state)
{
    (void)state;
    assert_non_null(mkdtemp(base));
    st_fnmatch_pattern *pattern = st_fnmatch_pattern_compile("file_[0-9].txt", 0);
    assert_non_null(pattern);
    const int rounds = ST_PROOF_SIZE(4, 100), items = ST_PROOF_SIZE(5000, 250000);

    queue_run runs[2] = {{.maxsize = 0, .per_producer = items},
                         {.maxsize = 64, .per_producer = items}};
    for (int i = 0; i < 2; i++)
        queue_start(&runs[i]);
    worker workers[WORKERS];
    pthread_t threads[WORKERS];
    for (int i = 0; i < WORKERS; i++) {
        workers[i] = (worker){.id = i, .rounds = rounds, .shared_pattern = pattern};
        assert_int_equal(pthread_create(&threads[i], NULL, module_worker, &workers[i]), 0);
    }
    for (int i = 0; i < WORKERS; i++) {
        pthread_join(threads[i], NULL);
        if (workers[i].failure[0])
            fail_msg("%s", workers[i].failure);
    }
    for (int i = 0; i < 2; i++)
        queue_finish(&runs[i]);
    st_fnmatch_pattern_free(pattern);
    const char *rm[] = {"rm", "-rf", base, NULL};
    assert_int_equal(st_subprocess_check_call(rm, NULL, NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_threads_everything_at_once),
        cmocka_unit_test(test_threads_shared_shapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
