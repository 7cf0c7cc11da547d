/* The shelve proofs: files we write open in CPython 3.13 and back (shelve, dbm.sqlite3, a bare
 * sqlite3 reader, dbm.dumb, dbm.whichdb), a writer SIGKILLed 200 times loses no committed
 * transaction and leaves no corruption, two writers' conflicting increments all land, and a
 * reader inside a transaction sees one snapshot. The CPython side is tests/gen/shelve_peer.py.
 * The default suite runs each proof smaller (tests/support/proof.h). */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "shelve_proof.h"
#include "support/proof.h"
#include "support/support.h"
#include "systools/shelve.h"
#include "systools/systools.h"

#define PEER ST_TEST_SOURCE_DIR "/gen/shelve_peer.py"
/* The proofs' sizes: random values each way, SIGKILLs of a writer, increments per writer. */
static int values, kills, increments;

/* ---- scaffolding ------------------------------------------------------------------------- */

static char tmpdir[64];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static int group_setup(void **state)
{
    (void)state;
    values = ST_PROOF_SIZE(250, 1000);
    kills = ST_PROOF_SIZE(20, 200);
    increments = ST_PROOF_SIZE(200, 1000);
    strcpy(tmpdir, "/tmp/st_shelve_proof_XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    return nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* tmpdir/name in a static buffer (one of four, so a few may be alive at once). */
static const char *tmp_path(const char *name)
{
    static char bufs[4][256];
    static int next;
    char *b = bufs[next++ % 4];
    snprintf(b, sizeof bufs[0], "%s/%s", tmpdir, name);
    return b;
}

static void fail_with_error(const char *what)
{
    const st_error *e = st_error_last();
    fail_msg("%s: %s: %s", what, e && e->type ? e->type : "?", st_error_message());
}

#define CHECK(call)                   \
    do {                              \
        if ((call) != 0)              \
            fail_with_error(#call);   \
    } while (0)

static st_shelf *open_shelf(const char *path, const char *flag, const char *backend, int protocol)
{
    st_shelve_options o = ST_SHELVE_OPTIONS_INIT;
    o.backend = backend;
    o.protocol = protocol == 0 ? ST_SHELVE_PROTOCOL_0 : protocol; /* a zero field is None */
    st_shelf *sh = st_shelve_open(path, flag, &o);
    if (!sh)
        fail_with_error(path);
    return sh;
}

/* Runs the peer script with printf-style arguments (already quoted as needed); its exit status. */
static int peer_run(const char *py, const char *fmt, ...)
{
    char args[1024], cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "'%s' '%s' %s", py, PEER, args);
    fflush(stdout);
    int status = system(cmd);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The peer's name for a backend. */
static const char *peer_backend(const char *backend)
{
    return strcmp(backend, "dbm.dumb") ? "sqlite3" : "dumb";
}

/* ---- random values ----------------------------------------------------------------------- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
    /* splitmix64: small, and the same sequence everywhere. */
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

static unsigned rnd_below(unsigned n)
{
    return (unsigned)(rnd() % n);
}

static st_value *rand_str(void)
{
    static const char *const pieces[] = {"a", "b", "x", "z", " ", "\t", "\n", "'", "\"", "\\",
                                         "é", "€", "😀", "\x01", "\x7f", "\xe2\x80\xa8", "ü"};
    char buf[128];
    size_t len = 0;
    for (unsigned n = rnd_below(12); n; n--) {
        const char *p = pieces[rnd_below(sizeof pieces / sizeof *pieces)];
        memcpy(buf + len, p, strlen(p));
        len += strlen(p);
    }
    return st_value_str_n(buf, len);
}

static st_value *rand_bytes(unsigned maxlen)
{
    unsigned char buf[64];
    unsigned n = rnd_below(maxlen);
    for (unsigned i = 0; i < n; i++)
        buf[i] = (unsigned char)rnd();
    return st_value_bytes(buf, n);
}

/* Hashable: str, int or (int, str). */
static st_value *rand_key(void)
{
    switch (rnd_below(3)) {
    case 0:
        return rand_str();
    case 1:
        return st_value_int((int64_t)rnd_below(2000) - 1000);
    default: {
        st_value *items[2] = {st_value_int(rnd_below(9)), rand_str()};
        return st_value_tuple_steal(2, items);
    }
    }
}

static st_value *rand_value(int depth)
{
    unsigned kind = rnd_below(depth < 3 ? 14 : 8);
    switch (kind) {
    case 0: {
        unsigned c = rnd_below(3);
        return c == 0 ? st_value_none() : st_value_bool(c == 1);
    }
    case 1:
        return st_value_int((int64_t)(int32_t)rnd());
    case 2: {
        char digits[100];
        int n = 20 + (int)rnd_below(70);
        digits[0] = rnd_below(2) ? '-' : '1';
        for (int i = 1; i < n; i++)
            digits[i] = (char)('0' + rnd_below(10));
        digits[n] = '\0';
        return st_value_int_from_string(digits, 10);
    }
    case 3: {
        static const double specials[] = {1.0 / 0.0, -1.0 / 0.0, -0.0, 1e300, 5e-324, 0.1};
        if (rnd_below(2))
            return st_value_float(specials[rnd_below(6)]);
        return st_value_float(((double)(int64_t)rnd()) / (double)(1u << rnd_below(32)));
    }
    case 4:
        return rand_str();
    case 5:
        return rand_bytes(40);
    case 6: {
        st_value *b = rand_bytes(8);
        size_t n;
        const unsigned char *d = st_value_bytes_data(b, &n);
        st_value *ba = st_value_bytearray(d, n);
        st_value_unref(b);
        return ba;
    }
    case 7:
        return st_value_int(rnd_below(256));
    default:
        break;
    }
    unsigned n = rnd_below(5);
    if (kind <= 9) {
        st_value *l = st_value_list();
        while (n--)
            st_value_list_append_steal(l, rand_value(depth + 1));
        return l;
    }
    if (kind == 10) {
        st_value *items[5];
        for (unsigned i = 0; i < n; i++)
            items[i] = rand_value(depth + 1);
        return st_value_tuple_steal(n, items);
    }
    if (kind <= 12) {
        st_value *d = st_value_dict();
        while (n--)
            st_value_dict_set_steal(d, rand_key(), rand_value(depth + 1));
        return d;
    }
    st_value *s = rnd_below(2) ? st_value_set() : st_value_frozenset();
    while (n--)
        st_value_set_add_steal(s, rand_key());
    return s;
}

/* repr(pickle.loads(pickle.dumps(v, protocol))): a set's order depends on its insertion
 * history, so what a reader must print is the repr of the value as unpickled. */
static char *repr_as_loaded(const st_value *v, int protocol)
{
    unsigned char *data;
    size_t len;
    CHECK(st_pickle_dumps(v, protocol, &data, &len));
    st_value *back = st_pickle_loads(data, len, NULL);
    st_free(data);
    if (!back)
        fail_with_error("st_pickle_loads");
    char *text = st_value_repr(back);
    st_value_unref(back);
    return text;
}

static char *repr_str(const char *s)
{
    st_value *v = st_value_str(s);
    char *text = st_value_repr(v);
    st_value_unref(v);
    return text;
}

/* ---- CPython reads what we write ----------------------------------------------------------- */

/* Writes `values` random values into a new shelf, and the repr file the peer checks against;
 * reads every value back through our own shelf first. */
static void write_ours(const char *db, const char *reprs, const char *backend, int protocol,
                       uint64_t seed)
{
    rng_state = seed;
    st_shelf *sh = open_shelf(db, "n", backend, protocol);
    FILE *f = fopen(reprs, "w");
    assert_non_null(f);
    char **want = calloc(values, sizeof *want);
    assert_non_null(want);
    for (int i = 0; i < values; i++) {
        char key[64];
        snprintf(key, sizeof key, i % 4 ? "k%d" : "ключ-%d-é", i);
        st_value *v = rand_value(0);
        assert_non_null(v);
        CHECK(st_shelf_set(sh, key, v));
        want[i] = repr_as_loaded(v, protocol);
        char *krepr = repr_str(key);
        fprintf(f, "%s\t%s\n", krepr, want[i]);
        st_free(krepr);
        st_value_unref(v);
    }
    assert_int_equal(fclose(f), 0);
    assert_int_equal(st_shelf_len(sh), values);
    for (int i = 0; i < values; i++) {
        char key[64];
        snprintf(key, sizeof key, i % 4 ? "k%d" : "ключ-%d-é", i);
        st_value *v = st_shelf_get(sh, key);
        if (!v)
            fail_with_error(key);
        char *text = st_value_repr(v);
        assert_string_equal(text, want[i]);
        st_free(text);
        st_free(want[i]);
        st_value_unref(v);
    }
    free(want);
    CHECK(st_shelf_close(sh));
    st_shelf_free(sh);
}

static void test_python_reads_our_dumb(void **state)
{
    (void)state;
    const char *db = tmp_path("ours_dumb"), *reprs = tmp_path("ours_dumb.reprs");
    write_ours(db, reprs, "dbm.dumb", ST_PICKLE_DEFAULT_PROTOCOL, 1);
    assert_string_equal(st_dbm_whichdb(db), "dbm.dumb");
    const char *py = pyref_python();
    if (!py)
        return;
    assert_int_equal(peer_run(py, "check dumb '%s' '%s'", db, reprs), 0);
}

static void test_python_reads_our_sqlite3(void **state)
{
    (void)state;
    const char *db = tmp_path("ours.sqlite3"), *reprs = tmp_path("ours_sqlite3.reprs");
    write_ours(db, reprs, "dbm.sqlite3", ST_PICKLE_HIGHEST_PROTOCOL, 2);
    assert_string_equal(st_dbm_whichdb(db), "dbm.sqlite3");
    const char *py = pyref_python();
    if (!py)
        return;
    /* The bare reader first (it also compares the schema with one dbm.sqlite3 made), then
     * dbm.sqlite3 under shelve. */
    assert_int_equal(peer_run(py, "check rawsqlite '%s' '%s'", db, reprs), 0);
    assert_int_equal(peer_run(py, "check sqlite3 '%s' '%s'", db, reprs), 0);
}

/* ---- we read what CPython writes ------------------------------------------------------------ */

static void read_theirs(const char *backend_arg, const char *expect_backend, const char *name)
{
    const char *py = pyref_python();
    if (!py)
        return;
    const char *db = tmp_path(name);
    char reprs[256];
    snprintf(reprs, sizeof reprs, "%s.reprs", db);
    assert_int_equal(peer_run(py, "write %s '%s' '%s' 7 %d", backend_arg, db, reprs, values), 0);
    assert_string_equal(st_dbm_whichdb(db), expect_backend);

    st_shelf *sh = open_shelf(db, "r", NULL, ST_PICKLE_DEFAULT_PROTOCOL); /* backend by whichdb */
    FILE *f = fopen(reprs, "r");
    assert_non_null(f);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int count = 0, bad = 0;
    while ((n = getline(&line, &cap, f)) > 0) {
        if (line[n - 1] == '\n')
            line[--n] = '\0';
        char *tab = strchr(line, '\t');
        assert_non_null(tab);
        *tab = '\0';
        st_value *k = st_value_parse(line);
        assert_non_null(k);
        const char *key = st_value_str_data(k, NULL);
        st_value *v = st_shelf_get(sh, key);
        if (!v)
            fail_with_error(key);
        char *text = st_value_repr(v);
        if (strcmp(text, tab + 1) != 0 && bad++ < 5)
            printf("value of %s differs:\n  python %s\n  ours   %s\n", line, tab + 1, text);
        st_free(text);
        st_value_unref(v);
        st_value_unref(k);
        count++;
    }
    free(line);
    fclose(f);
    assert_int_equal(bad, 0);
    assert_int_equal(count, values);
    assert_int_equal(st_shelf_len(sh), values);
    const char **keys = st_shelf_keys(sh);
    assert_non_null(keys);
    int nkeys = 0;
    while (keys[nkeys])
        nkeys++;
    assert_int_equal(nkeys, values);
    st_strv_free(keys);
    CHECK(st_shelf_close(sh));
    st_shelf_free(sh);
}

static void test_we_read_python_dumb(void **state)
{
    (void)state;
    read_theirs("dumb", "dbm.dumb", "theirs_dumb");
}

static void test_we_read_python_sqlite3(void **state)
{
    (void)state;
    read_theirs("sqlite3", "dbm.sqlite3", "theirs.sqlite3");
}

/* Writes every key and value as we read them to a repr file, and has CPython compare. */
static void check_our_view(const char *backend, const char *db, const char *reprs, const char *py)
{
    st_shelf *sh = open_shelf(db, "r", NULL, ST_PICKLE_DEFAULT_PROTOCOL);
    FILE *f = fopen(reprs, "w");
    assert_non_null(f);
    const char **keys = st_shelf_keys(sh);
    assert_non_null(keys);
    for (const char **k = keys; *k; k++) {
        st_value *v = st_shelf_get(sh, *k);
        if (!v)
            fail_with_error(*k);
        char *krepr = repr_str(*k), *vrepr = st_value_repr(v);
        fprintf(f, "%s\t%s\n", krepr, vrepr);
        st_free(krepr);
        st_free(vrepr);
        st_value_unref(v);
    }
    st_strv_free(keys);
    assert_int_equal(fclose(f), 0);
    CHECK(st_shelf_close(sh));
    st_shelf_free(sh);
    assert_int_equal(peer_run(py, "check %s '%s' '%s'", peer_backend(backend), db, reprs), 0);
}

/* CPython changes a shelf we wrote (deletes, replaces, adds: dbm.dumb rewrites its index and
 * reuses or appends .dat blocks); we read the result. */
static void python_mutates_ours(const char *backend, const char *name, uint64_t seed)
{
    const char *py = pyref_python();
    if (!py)
        return;
    char db[256], reprs[256 + 8];
    snprintf(db, sizeof db, "%s", tmp_path(name));
    snprintf(reprs, sizeof reprs, "%s.reprs", db);
    write_ours(db, reprs, backend, ST_PICKLE_DEFAULT_PROTOCOL, seed);
    assert_int_equal(peer_run(py, "mutate %s '%s'", peer_backend(backend), db), 0);

    st_shelf *sh = open_shelf(db, "r", NULL, ST_PICKLE_DEFAULT_PROTOCOL);
    FILE *f = fopen(reprs, "r");
    assert_non_null(f);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int i = 0, present = 0;
    while ((n = getline(&line, &cap, f)) > 0) {
        line[strcspn(line, "\n")] = '\0';
        char *tab = strchr(line, '\t');
        assert_non_null(tab);
        *tab = '\0';
        st_value *k = st_value_parse(line);
        assert_non_null(k);
        const char *key = st_value_str_data(k, NULL);
        st_value *v = st_shelf_get(sh, key);
        if (i % 5 == 0) {
            assert_null(v);
            assert_int_equal(st_error_code(), ST_EKEY);
            assert_int_equal(st_shelf_contains(sh, key), 0);
        } else {
            if (!v)
                fail_with_error(key);
            char *text = st_value_repr(v), want[256];
            if (i % 5 == 1)
                snprintf(want, sizeof want, "('py', %s)", line);
            assert_string_equal(text, i % 5 == 1 ? want : tab + 1);
            st_free(text);
            present++;
        }
        st_value_unref(v);
        st_value_unref(k);
        i++;
    }
    free(line);
    fclose(f);
    assert_int_equal(i, values);
    st_value *added = st_shelf_get(sh, "added-by-python");
    if (!added)
        fail_with_error("added-by-python");
    char *text = st_value_repr(added);
    assert_string_equal(text, "{'x': [1, 2]}");
    st_free(text);
    st_value_unref(added);
    assert_int_equal(st_shelf_len(sh), present + 1);
    CHECK(st_shelf_close(sh));
    st_shelf_free(sh);

    /* Our turn again on the file CPython rewrote; then CPython checks our view of it. */
    sh = open_shelf(db, "w", NULL, ST_PICKLE_DEFAULT_PROTOCOL);
    CHECK(st_shelf_del(sh, "added-by-python"));
    rng_state = seed * 1000;
    for (int j = 2; j < values; j += 50) {
        char key[64];
        snprintf(key, sizeof key, j % 4 ? "k%d" : "ключ-%d-é", j);
        st_value *v = rand_value(0);
        CHECK(st_shelf_set(sh, key, v));
        st_value_unref(v);
    }
    static unsigned char blob[5000]; /* larger than any block it could reuse */
    st_value *big = st_value_bytes(blob, sizeof blob);
    CHECK(st_shelf_set(sh, "added-by-c", big));
    st_value_unref(big);
    CHECK(st_shelf_close(sh));
    st_shelf_free(sh);
    check_our_view(backend, db, reprs, py);
}

static void test_python_mutates_our_dumb(void **state)
{
    (void)state;
    python_mutates_ours("dbm.dumb", "mutated_dumb", 3);
}

static void test_python_mutates_our_sqlite3(void **state)
{
    (void)state;
    python_mutates_ours("dbm.sqlite3", "mutated.sqlite3", 4);
}

/* ---- whichdb --------------------------------------------------------------------------------- */

static void test_whichdb_agrees(void **state)
{
    (void)state;
    /* Each case: the name handed to whichdb, CPython 3.13's answer ("None" for None). */
    static const struct {
        const char *name, *want;
    } cases[] = {
        {"w_ours.sqlite3", "'dbm.sqlite3'"}, /* shelves we write, below */
        {"w_ours_dumb", "'dbm.dumb'"},
        {"w_ours_dumb_empty", "'dbm.dumb'"},  /* no keys: an empty .dir */
        {"w_missing", "None"},
        {"w_empty", "''"},
        {"w_three", "''"},
        {"w_garbage", "''"},
        {"w_sqlite_header", "'dbm.sqlite3'"},  /* the 16-byte header is all it looks at */
        {"w_sqlite_short", "''"},              /* 15 bytes of it */
        {"w_gnu_ce", "'dbm.gnu'"},
        {"w_gnu_cd", "'dbm.gnu'"},
        {"w_gnu_cf", "'dbm.gnu'"},
        {"w_gnu_swapped", "''"},               /* the magic in the other byte order */
        {"w_ndbm", "'dbm.ndbm'"},              /* .pag and .dir */
        {"w_pag_only", "None"},
        {"w_dumb_empty", "'dbm.dumb'"},        /* .dat and an empty .dir */
        {"w_dumb_dq", "'dbm.dumb'"},           /* .dir starting with a double quote */
        {"w_dumb_bad", "None"},                /* .dir starting with something else, no file */
        {"w_dir_only", "None"},                /* .dir without .dat */
        {"w_ndbm_db", "None"},                 /* a .db file that ndbm cannot open */
        {"w_directory", "None"},               /* a directory: open() fails */
    };
    /* gdbm's magics in this machine's byte order, as gdbm writes them and whichdb reads them
     * (struct.unpack("=l")), then one in the other order. */
    unsigned char gnu_ce[8] = {0}, gnu_cd[8] = {0, 0, 0, 0, 1, 2, 3, 4}, gnu_cf[4],
                  gnu_swapped[8] = {0};
    const uint32_t ce = 0x13579ace, cd = 0x13579acd, cf = 0x13579acf;
    const uint32_t swapped = ((ce & 0xff) << 24) | ((ce & 0xff00) << 8) | ((ce >> 8) & 0xff00) |
                             (ce >> 24);
    memcpy(gnu_ce, &ce, 4);
    memcpy(gnu_cd, &cd, 4);
    memcpy(gnu_cf, &cf, 4);
    memcpy(gnu_swapped, &swapped, 4);

    static const char *const ours[][2] = {{"w_ours.sqlite3", "dbm.sqlite3"},
                                          {"w_ours_dumb", "dbm.dumb"},
                                          {"w_ours_dumb_empty", "dbm.dumb"}};
    for (int i = 0; i < 3; i++) {
        st_shelf *sh = open_shelf(tmp_path(ours[i][0]), "n", ours[i][1], 2);
        st_value *v = st_value_int(i);
        if (i < 2)
            CHECK(st_shelf_set(sh, "key", v));
        st_value_unref(v);
        CHECK(st_shelf_close(sh));
        st_shelf_free(sh);
    }
    st_test_write_file(tmp_path("w_empty"), "", 0);
    st_test_write_file(tmp_path("w_three"), "abc", 3);
    st_test_write_file(tmp_path("w_garbage"), "this is not a database at all\n", 30);
    st_test_write_file(tmp_path("w_sqlite_header"), "SQLite format 3", 16);
    st_test_write_file(tmp_path("w_sqlite_short"), "SQLite format 3", 15);
    st_test_write_file(tmp_path("w_gnu_ce"), gnu_ce, sizeof gnu_ce);
    st_test_write_file(tmp_path("w_gnu_cd"), gnu_cd, sizeof gnu_cd);
    st_test_write_file(tmp_path("w_gnu_cf"), gnu_cf, sizeof gnu_cf);
    st_test_write_file(tmp_path("w_gnu_swapped"), gnu_swapped, sizeof gnu_swapped);
    st_test_write_file(tmp_path("w_ndbm.pag"), "", 0);
    st_test_write_file(tmp_path("w_ndbm.dir"), "", 0);
    st_test_write_file(tmp_path("w_pag_only.pag"), "x", 1);
    st_test_write_file(tmp_path("w_dumb_empty.dat"), "", 0);
    st_test_write_file(tmp_path("w_dumb_empty.dir"), "", 0);
    st_test_write_file(tmp_path("w_dumb_dq.dat"), "", 0);
    st_test_write_file(tmp_path("w_dumb_dq.dir"), "\"k\", (0, 1)\n", 12);
    st_test_write_file(tmp_path("w_dumb_bad.dat"), "", 0);
    st_test_write_file(tmp_path("w_dumb_bad.dir"), "k, (0, 1)\n", 10);
    st_test_write_file(tmp_path("w_dir_only.dir"), "'k', (0, 1)\n", 12);
    st_test_write_file(tmp_path("w_ndbm_db.db"), "not a Berkeley DB file", 22);
    assert_int_equal(mkdir(tmp_path("w_directory"), 0755), 0);

    const size_t ncases = sizeof cases / sizeof *cases;
    char *answers[sizeof cases / sizeof *cases];
    char cmdargs[4096] = "whichdb";
    for (size_t i = 0; i < ncases; i++) {
        const char *path = tmp_path(cases[i].name);
        const char *r = st_dbm_whichdb(path);
        char buf[64];
        snprintf(buf, sizeof buf, r ? "'%s'" : "None", r);
        answers[i] = strdup(buf);
        if (!r)
            assert_int_equal(st_error_code(), ST_EOS);
        snprintf(cmdargs + strlen(cmdargs), sizeof cmdargs - strlen(cmdargs), " '%s'", path);
    }
    int bad = 0;
    for (size_t i = 0; i < ncases; i++) {
        if (strcmp(answers[i], cases[i].want) != 0) {
            printf("whichdb(%s): ours %s, CPython 3.13 %s\n", cases[i].name, answers[i],
                   cases[i].want);
            bad++;
        }
    }
    const char *py = pyref_python();
    if (py) {
        char cmd[8192];
        snprintf(cmd, sizeof cmd, "'%s' '%s' %s", py, PEER, cmdargs);
        FILE *p = popen(cmd, "r");
        assert_non_null(p);
        char line[128];
        for (size_t i = 0; i < ncases; i++) {
            assert_non_null(fgets(line, sizeof line, p));
            line[strcspn(line, "\n")] = '\0';
            if (strcmp(line, answers[i]) != 0) {
                printf("whichdb(%s): ours %s, live CPython %s\n", cases[i].name, answers[i], line);
                bad++;
            }
        }
        assert_int_equal(pclose(p), 0);
    }
    for (size_t i = 0; i < ncases; i++)
        free(answers[i]);
    assert_int_equal(bad, 0);
}

/* ---- crash test: SIGKILL at random moments ----------------------------------------------- */

/* One transaction per number n: key str(n) = (n, <n % 3000 bytes>) and 'last' = n. After each
 * commit returns, n goes to the parent. Runs until killed. */
_Noreturn static void crash_child(const char *db, int fd)
{
    st_shelve_options o = ST_SHELVE_OPTIONS_INIT;
    o.backend = "dbm.sqlite3";
    st_shelf *sh = st_shelve_open(db, "c", &o);
    if (!sh)
        _exit(2);
    static unsigned char pad[3000];
    for (;;) {
        if (st_shelf_begin(sh))
            _exit(3);
        int64_t n = 0;
        st_value *last = st_shelf_get(sh, "last");
        if (last) {
            if (st_value_as_int64(last, &n))
                _exit(4);
            st_value_unref(last);
        } else if (st_error_code() != ST_EKEY) {
            _exit(4);
        }
        n++;
        char key[32];
        snprintf(key, sizeof key, "%lld", (long long)n);
        st_value *items[2] = {st_value_int(n), st_value_bytes(pad, (size_t)(n % 3000))};
        st_value *rec = st_value_tuple_steal(2, items), *counter = st_value_int(n);
        if (st_shelf_set(sh, key, rec) || st_shelf_set(sh, "last", counter))
            _exit(5);
        st_value_unref(rec);
        st_value_unref(counter);
        if (st_shelf_commit(sh)) {
            fprintf(stderr, "crash child: commit: %s\n", st_error_message());
            _exit(6);
        }
        if (write(fd, &n, sizeof n) != (ssize_t)sizeof n)
            _exit(7);
    }
}

static void sqlite_integrity(const char *db, int64_t *rows)
{
    *rows = 0;
    if (access(db, F_OK) != 0) { /* killed before it created the file */
        assert_int_equal(errno, ENOENT);
        return;
    }
    sqlite3 *cx;
    assert_int_equal(sqlite3_open_v2(db, &cx, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(cx, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
    /* A child killed between creating the file and creating the table (dbm.sqlite3's order
     * too) leaves a database without the table: no rows. */
    if (sqlite3_prepare_v2(cx, "SELECT COUNT(key) FROM Dict", -1, &st, NULL) == SQLITE_OK) {
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        *rows = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    } else {
        assert_non_null(strstr(sqlite3_errmsg(cx), "no such table"));
    }
    assert_int_equal(sqlite3_close(cx), SQLITE_OK);
}

/* The first item of the record stored under str(n), or -1 when there is none. */
static int64_t record_number(st_shelf *sh, int64_t n)
{
    char key[32];
    snprintf(key, sizeof key, "%lld", (long long)n);
    st_value *rec = st_shelf_get(sh, key);
    if (!rec) {
        assert_int_equal(st_error_code(), ST_EKEY);
        return -1;
    }
    st_value *first = st_value_item(rec, 0);
    int64_t got = -2;
    size_t padlen = 0;
    st_value *pad = st_value_item(rec, 1);
    assert_non_null(pad);
    st_value_bytes_data(pad, &padlen);
    assert_int_equal(padlen, n % 3000);
    assert_int_equal(st_value_as_int64(first, &got), 0);
    st_value_unref(rec); /* the items were borrowed */
    return got;
}

/* The seed of the kill points: ST_TEST_SEED when set (to replay a run), else the time. */
static unsigned kill_seed(void)
{
    const char *v = getenv("ST_TEST_SEED");
    return v ? (unsigned)strtoul(v, NULL, 10) : (unsigned)time(NULL) ^ (unsigned)getpid();
}

/* The parent kills after a chosen number of the child's commit reports, so every kill lands
 * mid-stream whatever the machine's speed. One kill in ten comes before any report, while the
 * child starts, opens or makes its first commit (where it lands does not matter there). */
static void test_sigkill_loses_nothing(void **state)
{
    (void)state;
    const char *db = tmp_path("crash.sqlite3");
    unsigned seed = kill_seed();
    printf("[ INFO     ] kill points from ST_TEST_SEED=%u\n", seed);
    int64_t last = 0, reported_total = 0, in_flight = 0, progressed = 0, midstream = 0;
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (int kill_no = 0; kill_no < kills; kill_no++) {
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        fflush(stdout);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            crash_child(db, fds[1]);
        }
        close(fds[1]);
        int64_t after = kill_no % 10 == 0 ? 0 : 1 + rand_r(&seed) % 16, n, maxn = 0, reported = 0;
        int64_t *got = NULL;
        size_t ngot = 0;
        if (after == 0)
            usleep((useconds_t)(rand_r(&seed) % 2000));
        /* The reports before the kill, then those written before it landed. */
        for (int killed = 0;;) {
            if (!killed && reported == after) {
                assert_int_equal(kill(pid, SIGKILL), 0);
                killed = 1;
            }
            if (read(fds[0], &n, sizeof n) != (ssize_t)sizeof n) {
                if (!killed)
                    fail_msg("the crash child ended after %lld of %lld commits",
                             (long long)reported, (long long)after);
                break;
            }
            got = realloc(got, (ngot + 1) * sizeof *got);
            got[ngot++] = n;
            maxn = n > maxn ? n : maxn;
            reported++;
        }
        close(fds[0]);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (!WIFSIGNALED(status))
            fail_msg("the crash child exited by itself with %d", WEXITSTATUS(status));
        reported_total += reported;
        midstream += after > 0;

        int64_t rows;
        sqlite_integrity(db, &rows);
        if (rows == 0) { /* killed before the first commit ever */
            assert_int_equal(last, 0);
            assert_int_equal(after, 0);
            free(got);
            continue;
        }
        st_shelf *sh = open_shelf(db, "r", NULL, ST_PICKLE_DEFAULT_PROTOCOL);
        st_value *lv = st_shelf_get(sh, "last");
        if (!lv)
            fail_with_error("last");
        int64_t now;
        assert_int_equal(st_value_as_int64(lv, &now), 0);
        st_value_unref(lv);
        /* Every committed number is there, nothing after the last, nothing half-written. */
        assert_true(now >= maxn);
        assert_true(now >= last + after); /* the reported commits, at least */
        in_flight += now - (maxn ? maxn : last); /* committed, killed before reporting */
        assert_int_equal(rows, now + 1);
        assert_int_equal(st_shelf_len(sh), now + 1);
        for (size_t i = 0; i < ngot; i++)
            assert_int_equal(record_number(sh, got[i]), got[i]);
        assert_int_equal(record_number(sh, now), now);
        assert_int_equal(record_number(sh, now + 1), -1);
        CHECK(st_shelf_close(sh));
        st_shelf_free(sh);
        free(got);
        progressed += now > last;
        last = now;
    }
    /* Every number from 1 to the last, once more at the end. */
    st_shelf *sh = open_shelf(db, "r", NULL, ST_PICKLE_DEFAULT_PROTOCOL);
    for (int64_t i = 1; i <= last; i++)
        assert_int_equal(record_number(sh, i), i);
    CHECK(st_shelf_close(sh));
    st_shelf_free(sh);
    clock_gettime(CLOCK_MONOTONIC, &end);
    printf("[ INFO     ] %d SIGKILLs (%lld mid-stream, %lld after a commit): %lld transactions "
           "committed (%lld reported, %lld committed but killed before reporting), %.1f s\n",
           kills, (long long)midstream, (long long)progressed, (long long)last,
           (long long)reported_total, (long long)in_flight,
           (double)(end.tv_sec - start.tv_sec) + (end.tv_nsec - start.tv_nsec) * 1e-9);
    assert_true(progressed >= midstream); /* every mid-stream kill landed between commits */
    assert_true(progressed >= kills / 10);
}

/* ---- concurrency ---------------------------------------------------------------------------- */

/* `increments` increments of 'counter', each retried on ST_ECONFLICT; reports the conflicts.
 * A little think time inside each transaction lets the two writers' transactions overlap
 * (without it, whoever holds SQLite's write lock tends to keep winning it back). */
_Noreturn static void increment_child(const char *db, int fd, unsigned seed)
{
    st_shelve_options o = ST_SHELVE_OPTIONS_INIT;
    o.backend = "dbm.sqlite3";
    st_shelf *sh = st_shelve_open(db, "w", &o);
    if (!sh)
        _exit(2);
    int64_t conflicts = 0;
    for (int i = 0; i < increments; i++) {
        for (;;) {
            int64_t n;
            if (st_shelf_begin(sh))
                goto fail;
            st_value *v = st_shelf_get(sh, "counter");
            if (!v || st_value_as_int64(v, &n))
                goto fail;
            st_value_unref(v);
            v = st_value_int(n + 1);
            int rc = st_shelf_set(sh, "counter", v);
            st_value_unref(v);
            if (rc)
                goto fail;
            usleep((useconds_t)(rand_r(&seed) % 300));
            if (st_shelf_commit(sh) == 0)
                break;
            if (st_error_code() != ST_ECONFLICT)
                goto fail;
            if (!strstr(st_error_message(), "counter")) {
                fprintf(stderr, "increment child: the conflict does not name the key: %s\n",
                        st_error_message());
                _exit(8);
            }
            conflicts++;
        }
    }
    int closed = st_shelf_close(sh);
    st_shelf_free(sh);
    if (closed || write(fd, &conflicts, sizeof conflicts) != (ssize_t)sizeof conflicts)
        _exit(9);
    _exit(0);
fail:
    fprintf(stderr, "increment child: %s: %s\n", st_error_last()->type, st_error_message());
    _exit(10);
}

static void test_two_writers_conflict_and_retry(void **state)
{
    (void)state;
    const char *db = tmp_path("counter.sqlite3");
    st_shelf *sh = open_shelf(db, "n", "dbm.sqlite3", ST_PICKLE_DEFAULT_PROTOCOL);
    st_value *zero = st_value_int(0);
    CHECK(st_shelf_set(sh, "counter", zero));
    st_value_unref(zero);
    CHECK(st_shelf_close(sh));
    st_shelf_free(sh);

    int fds[2];
    pid_t pids[2];
    assert_int_equal(pipe(fds), 0);
    fflush(stdout);
    for (int i = 0; i < 2; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            close(fds[0]);
            increment_child(db, fds[1], 17u + (unsigned)i);
        }
    }
    close(fds[1]);
    int64_t conflicts[2] = {-1, -1};
    for (int i = 0; i < 2; i++) {
        int status;
        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            fail_msg("writer %d ended with status %d", i, status);
        assert_int_equal(read(fds[0], &conflicts[i], sizeof conflicts[i]), sizeof conflicts[i]);
    }
    close(fds[0]);

    sh = open_shelf(db, "r", NULL, ST_PICKLE_DEFAULT_PROTOCOL);
    st_value *v = st_shelf_get(sh, "counter");
    if (!v)
        fail_with_error("counter");
    int64_t total;
    assert_int_equal(st_value_as_int64(v, &total), 0);
    st_value_unref(v);
    CHECK(st_shelf_close(sh));
    st_shelf_free(sh);
    printf("[ INFO     ] 2 writers x %d increments: counter = %lld, conflicts retried: %lld + "
           "%lld\n",
           increments, (long long)total, (long long)conflicts[0], (long long)conflicts[1]);
    assert_int_equal(total, 2 * increments);
    int64_t integrity_rows;
    sqlite_integrity(db, &integrity_rows);
    assert_int_equal(integrity_rows, 1);
}

/* ---- snapshots ------------------------------------------------------------------------------ */

#define SNAP_WRITES 600

/* Writes 'a' and 'b' together, SNAP_WRITES times: both (i, <i * 7 % 2000 bytes>). After the
 * commits of SNAP_WRITES / 3 and 2 * SNAP_WRITES / 3 it tells the reader and waits for its go,
 * then tells it again after the next commit (see test_reader_sees_snapshots()). */
_Noreturn static void pair_writer(const char *db, int tell, int go)
{
    st_shelve_options o = ST_SHELVE_OPTIONS_INIT;
    o.backend = "dbm.sqlite3";
    st_shelf *sh = st_shelve_open(db, "w", &o);
    if (!sh)
        _exit(2);
    static unsigned char pad[2000];
    for (int i = 1; i <= SNAP_WRITES; i++) {
        st_value *items[2] = {st_value_int(i), st_value_bytes(pad, (size_t)(i * 7 % 2000))};
        st_value *rec = st_value_tuple_steal(2, items);
        if (st_shelf_begin(sh) || st_shelf_set(sh, "a", rec) || st_shelf_set(sh, "b", rec) ||
            st_shelf_commit(sh)) {
            fprintf(stderr, "pair writer: %s\n", st_error_message());
            _exit(3);
        }
        st_value_unref(rec);
        char c = 'c';
        int checkpoint = i == SNAP_WRITES / 3 || i == 2 * SNAP_WRITES / 3;
        if ((checkpoint || i - 1 == SNAP_WRITES / 3 || i - 1 == 2 * SNAP_WRITES / 3) &&
            write(tell, &c, 1) != 1)
            _exit(5);
        if (checkpoint && read(go, &c, 1) != 1)
            _exit(6);
    }
    int closed = st_shelf_close(sh);
    st_shelf_free(sh);
    _exit(closed ? 4 : 0);
}

/* A reader's transactions against a writer's. At the writer's two checkpoints the reader reads
 * 'a', lets the writer commit once more, then reads 'b': a commit lands between the two reads
 * whatever the machine's speed, and the reads see three states at least. */
static void test_reader_sees_snapshots(void **state)
{
    (void)state;
    const char *db = tmp_path("pair.sqlite3");
    st_shelf *sh = open_shelf(db, "n", "dbm.sqlite3", ST_PICKLE_DEFAULT_PROTOCOL);
    st_value *items[2] = {st_value_int(0), st_value_bytes("", 0)};
    st_value *rec = st_value_tuple_steal(2, items);
    CHECK(st_shelf_set(sh, "a", rec));
    CHECK(st_shelf_set(sh, "b", rec));
    st_value_unref(rec);
    CHECK(st_shelf_close(sh));
    st_shelf_free(sh);

    int tell[2], go[2];
    assert_int_equal(pipe(tell), 0);
    assert_int_equal(pipe(go), 0);
    fflush(stdout);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(tell[0]);
        close(go[1]);
        pair_writer(db, tell[1], go[0]);
    }
    close(tell[1]);
    close(go[0]);

    sh = open_shelf(db, "r", NULL, ST_PICKLE_DEFAULT_PROTOCOL);
    int64_t reads = 0, distinct = 0, prev = -1, torn = 0, gated = 0;
    int status = 0;
    for (;;) {
        int done = waitpid(pid, &status, WNOHANG) == pid;
        struct pollfd pf = {tell[0], POLLIN, 0};
        char c;
        int checkpoint = !done && poll(&pf, 1, 0) == 1 && read(tell[0], &c, 1) == 1;
        CHECK(st_shelf_begin(sh));
        st_value *a = st_shelf_get(sh, "a");
        if (checkpoint) { /* the writer's next commit, between our two reads */
            assert_int_equal(write(go[1], "g", 1), 1);
            assert_int_equal(read(tell[0], &c, 1), 1);
            gated++;
        }
        st_value *b = st_shelf_get(sh, "b");
        if (!a || !b)
            fail_with_error("a, b");
        if (!st_value_equal(a, b))
            torn++;
        int64_t ai;
        st_value *first = st_value_item(a, 0);
        assert_int_equal(st_value_as_int64(first, &ai), 0); /* borrowed from a */
        if (checkpoint)
            assert_true(ai == SNAP_WRITES / 3 || ai == 2 * SNAP_WRITES / 3);
        distinct += ai != prev;
        prev = ai;
        st_value_unref(a);
        st_value_unref(b);
        CHECK(st_shelf_abort(sh));
        reads++;
        if (done)
            break;
    }
    CHECK(st_shelf_close(sh));
    st_shelf_free(sh);
    close(tell[0]);
    close(go[1]);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    printf("[ INFO     ] reader: %lld snapshots of (a, b), %lld distinct, %lld torn\n",
           (long long)reads, (long long)distinct, (long long)torn);
    assert_int_equal(torn, 0);
    assert_int_equal(gated, 2);
    assert_int_equal(prev, SNAP_WRITES); /* the last read came after the writer's end */
    assert_true(distinct >= 3);          /* the reads did interleave with the writes */
}

/* ---- the group -------------------------------------------------------------------------- */

int run_shelve_proof_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_python_reads_our_dumb),
        cmocka_unit_test(test_python_reads_our_sqlite3),
        cmocka_unit_test(test_we_read_python_dumb),
        cmocka_unit_test(test_we_read_python_sqlite3),
        cmocka_unit_test(test_python_mutates_our_dumb),
        cmocka_unit_test(test_python_mutates_our_sqlite3),
        cmocka_unit_test(test_whichdb_agrees),
        cmocka_unit_test(test_sigkill_loses_nothing),
        cmocka_unit_test(test_two_writers_conflict_and_retry),
        cmocka_unit_test(test_reader_sees_snapshots),
    };
    return cmocka_run_group_tests_name("shelve proofs", tests, group_setup, group_teardown);
}
