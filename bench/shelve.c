/* shelve: set then get 20k records (small dicts) through a shelf, against CPython 3.13's
 * shelve on the same backend (dbm.sqlite3, dbm.dumb); and the dbm.sqlite3 backend's
 * st_dbm_set/st_dbm_get against raw sqlite3 prepared statements doing the same work.
 *
 * Part 1 puts its files in /dev/shm when it is there (else /tmp): on tmpfs an fsync costs
 * nothing, so the ratios measure code, not the disk. Every side commits each write on its own
 * (Python's autocommit, our "outside a transaction each write is atomic"), in WAL mode with
 * synchronous=FULL, as dbm.sqlite3 does.
 *
 * Part 2 measures the durability option where it matters, on a disk (/var/tmp, else /tmp):
 * set and get per operation for FULL (Python's), NORMAL and OFF, against CPython's shelve on
 * dbm.sqlite3 (which has FULL only) and against raw sqlite3 with the same pragmas. */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "bench.h"
#include "systools/shelve.h"
#include "systools/systools.h"

#ifndef RECORDS /* smaller under callgrind: -DRECORDS=2000 -DROUNDS=1 */
#define RECORDS 20000
#endif
#ifndef ROUNDS
#define ROUNDS 3
#endif

static char dir[64]; /* where the files of the part being run go */

static const char *path_in_dir(const char *name)
{
    static char buf[256];
    snprintf(buf, sizeof buf, "%s/%s", dir, name);
    return buf;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

/* Removes every file in dir (the directory stays). */
static void clear_dir(void)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    mkdir(dir, 0700);
}

static void die(const char *what)
{
    fprintf(stderr, "bench_shelve: %s: %s\n", what, st_error_message());
    exit(1);
}

/* The same records as the Python script builds. */
static st_value *make_record(int i)
{
    char name[32], email[48];
    snprintf(name, sizeof name, "person%d", i);
    snprintf(email, sizeof email, "p%d@example.com", i);
    st_value *d = st_value_dict(), *tags = st_value_list();
    st_value_list_append_steal(tags, st_value_str("a"));
    st_value_list_append_steal(tags, st_value_str("b"));
    st_value_dict_set_steal(d, st_value_str("name"), st_value_str(name));
    st_value_dict_set_steal(d, st_value_str("age"), st_value_int(i % 90));
    st_value_dict_set_steal(d, st_value_str("email"), st_value_str(email));
    st_value_dict_set_steal(d, st_value_str("tags"), tags);
    return d;
}

static const char *const py_script =
    "import dbm.dumb, dbm.sqlite3, os, shelve, sys, time\n"
    "mod = dbm.sqlite3 if sys.argv[1] == 'sqlite3' else dbm.dumb\n"
    "n, rounds = int(sys.argv[3]), int(sys.argv[4])\n"
    "recs = [{'name': 'person%d' % i, 'age': i % 90, 'email': 'p%d@example.com' % i,\n"
    "         'tags': ['a', 'b']} for i in range(n)]\n"
    "keys = ['k%d' % i for i in range(n)]\n"
    "best_set = best_get = 1e9\n"
    "for r in range(rounds):\n"
    "    path = os.path.join(sys.argv[2], 'py%d' % r)\n"
    "    sh = shelve.Shelf(mod.open(path, 'n'))\n"
    "    t = time.perf_counter()\n"
    "    for k, v in zip(keys, recs):\n"
    "        sh[k] = v\n"
    "    best_set = min(best_set, time.perf_counter() - t)\n"
    "    t = time.perf_counter()\n"
    "    for k in keys:\n"
    "        sh[k]\n"
    "    best_get = min(best_get, time.perf_counter() - t)\n"
    "    sh.close()\n"
    "print(best_set, best_get)\n";

/* CPython's set and get times for a backend; 0 when CPython is not available. */
static int python_times(const char *backend, int count, int rounds, double *set, double *get)
{
    char n[16], r[16];
    snprintf(n, sizeof n, "%d", count);
    snprintf(r, sizeof r, "%d", rounds);
    char *out = bench_python(py_script, backend, dir, n, r, (const char *)NULL);
    int ok = out && sscanf(out, "%lf %lf", set, get) == 2;
    st_free(out);
    return ok;
}

/* Best-of-rounds set and get times of count records through our shelf. */
static void shelf_times(const char *backend, st_dbm_durability durability, int count, int rounds,
                        st_value **recs, double *set, double *get)
{
    *set = *get = 1e9;
    st_shelve_options o = ST_SHELVE_OPTIONS_INIT;
    o.backend = backend;
    o.durability = durability;
    for (int r = 0; r < rounds; r++) {
        char name[32];
        snprintf(name, sizeof name, "ours%d", r);
        st_shelf *sh = st_shelve_open(path_in_dir(name), "n", &o);
        if (!sh)
            die("st_shelve_open");
        double t0 = bench_now();
        for (int i = 0; i < count; i++) {
            char key[16];
            snprintf(key, sizeof key, "k%d", i);
            if (st_shelf_set(sh, key, recs[i]))
                die("st_shelf_set");
        }
        double t1 = bench_now();
        for (int i = 0; i < count; i++) {
            char key[16];
            snprintf(key, sizeof key, "k%d", i);
            st_value *v = st_shelf_get(sh, key);
            if (!v)
                die("st_shelf_get");
            st_value_unref(v);
        }
        double t2 = bench_now();
        if (st_shelf_close(sh))
            die("st_shelf_close");
        st_shelf_free(sh);
        *set = t1 - t0 < *set ? t1 - t0 : *set;
        *get = t2 - t1 < *get ? t2 - t1 : *get;
    }
}

/* The same sets as one transaction (no CPython counterpart: dbm.sqlite3 commits each write). */
static double shelf_txn_set_time(st_value **recs)
{
    st_shelve_options o = ST_SHELVE_OPTIONS_INIT;
    o.backend = "dbm.sqlite3";
    st_shelf *sh = st_shelve_open(path_in_dir("txn"), "n", &o);
    if (!sh || st_shelf_begin(sh))
        die("st_shelf_begin");
    double t0 = bench_now();
    for (int i = 0; i < RECORDS; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", i);
        if (st_shelf_set(sh, key, recs[i]))
            die("st_shelf_set");
    }
    if (st_shelf_commit(sh))
        die("st_shelf_commit");
    double t = bench_now() - t0;
    st_shelf_free(sh);
    return t;
}

/* ---- the dbm layer against raw sqlite3 ---------------------------------------------------- */

typedef struct blob {
    unsigned char *data;
    size_t len;
} blob;

static void dbm_times(st_dbm_durability durability, int count, int rounds, const blob *keys,
                      const blob *vals, double *set, double *get)
{
    *set = *get = 1e9;
    st_dbm_options o = ST_DBM_OPTIONS_INIT;
    o.backend = "dbm.sqlite3";
    o.durability = durability;
    for (int r = 0; r < rounds; r++) {
        char name[32];
        snprintf(name, sizeof name, "dbm%d", r);
        st_dbm *db = st_dbm_open(path_in_dir(name), "n", &o);
        if (!db)
            die("st_dbm_open");
        double t0 = bench_now();
        for (int i = 0; i < count; i++)
            if (st_dbm_set(db, keys[i].data, keys[i].len, vals[i].data, vals[i].len))
                die("st_dbm_set");
        double t1 = bench_now();
        for (int i = 0; i < count; i++) {
            size_t n;
            unsigned char *v = st_dbm_get(db, keys[i].data, keys[i].len, &n);
            if (!v)
                die("st_dbm_get");
            st_free(v);
        }
        double t2 = bench_now();
        st_dbm_free(db);
        *set = t1 - t0 < *set ? t1 - t0 : *set;
        *get = t2 - t1 < *get ? t2 - t1 : *get;
    }
}

static void sq_check(int rc, sqlite3 *cx, const char *what)
{
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
        fprintf(stderr, "bench_shelve: %s: %s\n", what, sqlite3_errmsg(cx));
        exit(1);
    }
}

/* The anchor: dbm.sqlite3's schema and statements, prepared once, autocommit per write, WAL,
 * the durability's synchronous pragma; each value read is copied out (st_dbm_get returns a
 * copy too). */
static void raw_times(st_dbm_durability durability, int count, int rounds, const blob *keys,
                      const blob *vals, double *set, double *get)
{
    static const char *const sync[] = {"PRAGMA synchronous = FULL",
                                       "PRAGMA synchronous = NORMAL", "PRAGMA synchronous = OFF"};
    *set = *get = 1e9;
    for (int r = 0; r < rounds; r++) {
        char name[32];
        snprintf(name, sizeof name, "raw%d", r);
        sqlite3 *cx;
        sq_check(sqlite3_open_v2(path_in_dir(name), &cx, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                                 NULL), cx, "open");
        sqlite3_busy_timeout(cx, 5000);
        sq_check(sqlite3_exec(cx, sync[durability], NULL, NULL, NULL), cx, "sync");
        sq_check(sqlite3_exec(cx, "PRAGMA journal_mode = wal", NULL, NULL, NULL), cx, "wal");
        sq_check(sqlite3_exec(cx, "CREATE TABLE IF NOT EXISTS Dict (key BLOB UNIQUE NOT NULL, "
                                  "value BLOB NOT NULL)", NULL, NULL, NULL), cx, "create");
        sqlite3_stmt *put, *look;
        sq_check(sqlite3_prepare_v3(cx,
                                    "REPLACE INTO Dict (key, value) VALUES (CAST(? AS BLOB), "
                                    "CAST(? AS BLOB))",
                                    -1, SQLITE_PREPARE_PERSISTENT, &put, NULL),
                 cx, "prepare");
        sq_check(sqlite3_prepare_v3(cx, "SELECT value FROM Dict WHERE key = CAST(? AS BLOB)", -1,
                                    SQLITE_PREPARE_PERSISTENT, &look, NULL), cx, "prepare");
        double t0 = bench_now();
        for (int i = 0; i < count; i++) {
            sqlite3_bind_blob(put, 1, keys[i].data, (int)keys[i].len, SQLITE_STATIC);
            sqlite3_bind_blob(put, 2, vals[i].data, (int)vals[i].len, SQLITE_STATIC);
            sq_check(sqlite3_step(put), cx, "insert");
            sqlite3_reset(put);
        }
        double t1 = bench_now();
        for (int i = 0; i < count; i++) {
            sqlite3_bind_blob(look, 1, keys[i].data, (int)keys[i].len, SQLITE_STATIC);
            if (sqlite3_step(look) != SQLITE_ROW)
                sq_check(SQLITE_ERROR, cx, "select");
            const void *v = sqlite3_column_blob(look, 0);
            size_t n = (size_t)sqlite3_column_bytes(look, 0);
            unsigned char *copy = malloc(n + 1);
            memcpy(copy, v, n);
            copy[n] = 0;
            free(copy);
            sqlite3_reset(look);
        }
        double t2 = bench_now();
        sqlite3_finalize(put);
        sqlite3_finalize(look);
        sqlite3_close(cx);
        *set = t1 - t0 < *set ? t1 - t0 : *set;
        *get = t2 - t1 < *get ? t2 - t1 : *get;
    }
}

static void ratio_line(const char *what, double ours, double theirs, const char *anchor)
{
    printf("  %-26s ours %.3f s   %-16s %.3f s   %s/ours = %.2fx\n", what, ours, anchor, theirs,
           anchor, theirs / ours);
}

/* ---- part 2: durability on a disk --------------------------------------------------------- */

#ifndef DISK_RECORDS /* a synced commit costs a disk flush: fewer records than on tmpfs */
#define DISK_RECORDS 2000
#endif
#define DISK_ROUNDS 2
#if DISK_RECORDS > RECORDS
#error "DISK_RECORDS must not exceed RECORDS: the records are shared"
#endif

static double us_per_op(double seconds) { return seconds * 1e6 / DISK_RECORDS; }

static void durability_part(st_value **recs, const blob *keys, const blob *vals)
{
    snprintf(dir, sizeof dir, "%s/st_bench_shelve_XXXXXX",
             access("/var/tmp", W_OK) == 0 ? "/var/tmp" : "/tmp");
    if (!mkdtemp(dir))
        die("mkdtemp");
    printf("\ndurability on a disk: %d records, set then get per operation, best of %d, files in "
           "%s\n", DISK_RECORDS, DISK_ROUNDS, dir);
    double pyset, pyget;
    int have_py = python_times("sqlite3", DISK_RECORDS, DISK_ROUNDS, &pyset, &pyget);
    clear_dir();
    if (have_py)
        printf("CPython 3.13 shelve on dbm.sqlite3 (FULL, its only mode): set %.1f us/op, get "
               "%.1f us/op\n", us_per_op(pyset), us_per_op(pyget));
    else
        printf("CPython 3.13 not found: the CPython ratios are skipped\n");
    static const char *const names[] = {"FULL (Python's)", "NORMAL", "OFF"};
    for (int d = ST_DBM_DURABILITY_FULL; d <= ST_DBM_DURABILITY_OFF; d++) {
        double set, get, dset, dget, rset, rget;
        shelf_times("dbm.sqlite3", (st_dbm_durability)d, DISK_RECORDS, DISK_ROUNDS, recs, &set,
                    &get);
        clear_dir();
        dbm_times((st_dbm_durability)d, DISK_RECORDS, DISK_ROUNDS, keys, vals, &dset, &dget);
        clear_dir();
        raw_times((st_dbm_durability)d, DISK_RECORDS, DISK_ROUNDS, keys, vals, &rset, &rget);
        clear_dir();
        printf("durability %s:\n", names[d]);
        if (have_py) {
            printf("  st_shelf_set  ours %8.1f us/op   CPython %8.1f us/op   CPython/ours = "
                   "%.2fx\n", us_per_op(set), us_per_op(pyset), pyset / set);
            printf("  st_shelf_get  ours %8.1f us/op   CPython %8.1f us/op   CPython/ours = "
                   "%.2fx\n", us_per_op(get), us_per_op(pyget), pyget / get);
        } else {
            printf("  st_shelf_set  ours %8.1f us/op\n  st_shelf_get  ours %8.1f us/op\n",
                   us_per_op(set), us_per_op(get));
        }
        printf("  st_dbm_set    ours %8.1f us/op   raw     %8.1f us/op   ours/raw = %.2fx "
               "(goal <= 1.3x)\n", us_per_op(dset), us_per_op(rset), dset / rset);
        printf("  st_dbm_get    ours %8.1f us/op   raw     %8.1f us/op   ours/raw = %.2fx "
               "(goal <= 1.3x)\n", us_per_op(dget), us_per_op(rget), dget / rget);
    }
    rmdir(dir);
}

int main(void)
{
    struct stat st;
    snprintf(dir, sizeof dir, "%s/st_bench_shelve_XXXXXX",
             stat("/dev/shm", &st) == 0 && access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
    if (!mkdtemp(dir))
        return 1;

    st_value **recs = malloc(RECORDS * sizeof *recs);
    blob *keys = malloc(RECORDS * sizeof *keys), *vals = malloc(RECORDS * sizeof *vals);
    if (!recs || !keys || !vals)
        return 1;
    for (int i = 0; i < RECORDS; i++) {
        recs[i] = make_record(i);
        char key[16];
        keys[i].len = (size_t)snprintf(key, sizeof key, "k%d", i);
        keys[i].data = (unsigned char *)strdup(key);
        if (st_pickle_dumps(recs[i], ST_PICKLE_DEFAULT_PROTOCOL, &vals[i].data, &vals[i].len))
            die("st_pickle_dumps");
    }

    printf("shelve: %d records (small dicts, keys 'k<i>'), set then get, best of %d, files in "
           "%s%s\n", RECORDS, ROUNDS, dir,
           strncmp(dir, "/dev/shm", 8) == 0 ? " (tmpfs: fsync is free, code is measured)" : "");
    printf("dbm.sqlite3: every write commits on its own (autocommit), WAL, synchronous=FULL, on "
           "every side\n");
    static const char *const backends[][2] = {{"dbm.sqlite3", "sqlite3"}, {"dbm.dumb", "dumb"}};
    double py_sqlite_set = -1, py_sqlite_get = -1;
    for (int b = 0; b < 2; b++) {
        double set, get, pyset, pyget;
        shelf_times(backends[b][0], ST_DBM_DURABILITY_FULL, RECORDS, ROUNDS, recs, &set, &get);
        clear_dir();
        int have_py = python_times(backends[b][1], RECORDS, ROUNDS, &pyset, &pyget);
        clear_dir();
        printf("%s shelf vs CPython 3.13 shelve on %s (goal >= 5x):\n", backends[b][0],
               backends[b][0]);
        if (have_py && b == 0) {
            py_sqlite_set = pyset;
            py_sqlite_get = pyget;
        }
        if (have_py) {
            ratio_line("st_shelf_set", set, pyset, "CPython");
            ratio_line("st_shelf_get", get, pyget, "CPython");
        } else {
            printf("  ours: set %.3f s, get %.3f s; CPython 3.13 not found, ratios skipped\n", set,
                   get);
        }
        if (b == 0) {
            printf("  (not a ratio, for scale: our %d sets as one transaction take %.3f s)\n",
                   RECORDS, shelf_txn_set_time(recs));
            clear_dir();
        }
    }

    double dset, dget, rset, rget;
    dbm_times(ST_DBM_DURABILITY_FULL, RECORDS, ROUNDS, keys, vals, &dset, &dget);
    clear_dir();
    raw_times(ST_DBM_DURABILITY_FULL, RECORDS, ROUNDS, keys, vals, &rset, &rget);
    printf("dbm.sqlite3 backend vs raw sqlite3 prepared statements, same pragmas and statements "
           "(goal ours/raw <= 1.3x):\n");
    printf("  st_dbm_set  ours %.3f s   raw %.3f s   ours/raw = %.2fx\n", dset, rset, dset / rset);
    printf("  st_dbm_get  ours %.3f s   raw %.3f s   ours/raw = %.2fx\n", dget, rget, dget / rget);
    if (py_sqlite_set > 0)
        printf("the floor for any dbm.sqlite3 shelf (a commit per write): CPython set / raw set = "
               "%.2fx, CPython get / raw get = %.2fx\n",
               py_sqlite_set / rset, py_sqlite_get / rget);

    clear_dir();
    rmdir(dir);
    durability_part(recs, keys, vals);

    for (int i = 0; i < RECORDS; i++) {
        st_value_unref(recs[i]);
        free(keys[i].data);
        st_free(vals[i].data);
    }
    free(recs);
    free(keys);
    free(vals);
    return 0;
}
