/* shelve and dbm: every function on every backend, the file formats byte for byte against
 * CPython 3.13's (committed vectors and live), whichdb, the strict .dir parser, writeback,
 * and transactions between two handles; dbm.gnu (when built) against Debian's python3-gdbm. The heavy proofs run after these, from
 * test_shelve_proof.c. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "internal/dbm.h"
#include "support/support.h"
#include "shelve_proof.h"
#include "systools/systools.h"

#define VECTORS ST_TEST_SOURCE_DIR "/vectors/shelve"

static char tmpdir[] = "/tmp/st_shelve_XXXXXX";

/* A path in the test's temporary directory, in a ring of static buffers large enough that
 * a test's paths stay valid while it runs. */
static const char *tp(const char *name)
{
    static char buf[256][512];
    static unsigned slot;
    char *b = buf[slot++ % 256];
    snprintf(b, 512, "%s/%s", tmpdir, name);
    return b;
}

static void copy_file(const char *from, const char *to)
{
    size_t n;
    char *b = st_test_read_file(from, &n);
    st_test_write_file(to, b, n);
    free(b);
}

static void rm(const char *base)
{
    static const char *const ext[] = {"", ".dat", ".dir", ".bak", ".pag", "-wal", "-shm"};
    char p[600];
    for (size_t i = 0; i < sizeof ext / sizeof *ext; i++) {
        snprintf(p, sizeof p, "%s%s", base, ext[i]);
        unlink(p);
    }
}

/* Options naming a backend and a mode, the rest Python's defaults. */
#define DBM_OPTS(backend_, mode_) \
    ((st_dbm_options){.version = ST_DBM_OPTIONS_VERSION, .backend = (backend_), .mode = (mode_)})

static void expect_error(int code, const char *type, const char *msg_part)
{
    assert_int_equal(st_error_code(), code);
    if (type)
        assert_string_equal(st_error_last()->type, type);
    if (msg_part && !strstr(st_error_message(), msg_part))
        fail_msg("message '%s' lacks '%s'", st_error_message(), msg_part);
    st_error_clear();
}

static st_dbm *open_db(const char *path, const char *flag, const char *backend)
{
    st_dbm_options o = ST_DBM_OPTIONS_INIT;
    o.backend = backend;
    st_dbm *db = st_dbm_open(path, flag, &o);
    if (!db)
        fail_msg("st_dbm_open(%s, %s): %s", path, flag, st_error_message());
    return db;
}

static st_shelf *open_shelf(const char *path, const char *flag, const char *backend,
                            int writeback)
{
    st_shelve_options o = ST_SHELVE_OPTIONS_INIT;
    o.backend = backend;
    o.writeback = writeback;
    st_shelf *sh = st_shelve_open(path, flag, &o);
    if (!sh)
        fail_msg("st_shelve_open(%s, %s): %s", path, flag, st_error_message());
    return sh;
}

static void set_str(st_dbm *db, const char *k, const char *v)
{
    assert_int_equal(st_dbm_set(db, k, strlen(k), v, strlen(v)), 0);
}

static void expect_get(st_dbm *db, const char *k, const char *v)
{
    size_t n = 0;
    unsigned char *got = st_dbm_get(db, k, strlen(k), &n);
    if (!got)
        fail_msg("get %s: %s", k, st_error_message());
    assert_int_equal(n, strlen(v));
    assert_memory_equal(got, v, n);
    assert_int_equal(got[n], 0);
    st_free(got);
}

/* The repr of a list of bytes keys, for order checks. */
static void expect_keys(st_dbm *db, const char *repr)
{
    st_value *keys = st_dbm_keys(db);
    assert_non_null(keys);
    char *r = st_value_repr(keys);
    assert_string_equal(r, repr);
    st_free(r);
    st_value_unref(keys);
}

static void set_val(st_shelf *sh, const char *k, const char *literal)
{
    st_value *v = st_value_parse(literal);
    assert_non_null(v);
    assert_int_equal(st_shelf_set(sh, k, v), 0);
    st_value_unref(v);
}

static void expect_val(st_shelf *sh, const char *k, const char *repr)
{
    st_value *v = st_shelf_get(sh, k);
    if (!v)
        fail_msg("get %s: %s", k, st_error_message());
    char *r = st_value_repr(v);
    assert_string_equal(r, repr);
    st_free(r);
    st_value_unref(v);
}

static void expect_shelf_keys(st_shelf *sh, const char *joined)
{
    const char **keys = st_shelf_keys(sh);
    assert_non_null(keys);
    char buf[1024] = "";
    for (const char **k = keys; *k; k++) {
        if (k != keys)
            strcat(buf, ",");
        strcat(buf, *k);
    }
    assert_string_equal(buf, joined);
    st_strv_free(keys);
}

/* 1 when the library was built with dbm.gnu (libgdbm found), else 0 after saying so. */
static int have_gnu(void)
{
    const char *path = tp("gnu_probe");
    st_dbm *db = st_dbm_open(path, "n", &DBM_OPTS("dbm.gnu", 0666));
    if (!db) {
        expect_error(ST_ENOTSUP, "dbm.error", "not available");
        printf("[  SKIP    ] dbm.gnu: libsystools is built without libgdbm\n");
        return 0;
    }
    assert_int_equal(st_dbm_close(db), 0);
    st_dbm_free(db);
    unlink(path);
    return 1;
}

/* ---- whichdb ------------------------------------------------------------------------------ */

static const char *const KINDS[] = {"sq", "dumb", "dumbempty", "gnu", "ndbm", "empty", "short",
                                    "junk", "adir"};

static void make_kinds(void)
{
    st_dbm_free(open_db(tp("sq"), "c", NULL));
    st_dbm *d = open_db(tp("dumb"), "c", "dbm.dumb");
    set_str(d, "k", "v");
    st_dbm_free(d);
    st_dbm_free(open_db(tp("dumbempty"), "c", "dbm.dumb"));
    /* gdbm writes its magic in this machine's byte order, and whichdb reads it so. */
    unsigned char gnu[16] = {0};
    const uint32_t magic = 0x13579ace;
    memcpy(gnu, &magic, sizeof magic);
    st_test_write_file(tp("gnu"), gnu, sizeof gnu);
    st_test_write_file(tp("ndbm.pag"), "", 0);
    st_test_write_file(tp("ndbm.dir"), "", 0);
    st_test_write_file(tp("empty"), "", 0);
    st_test_write_file(tp("short"), "abc", 3);
    st_test_write_file(tp("junk"), "SQLite format 3!", 16);
    mkdir(tp("adir"), 0755);
}

static void test_whichdb(void **state)
{
    (void)state;
    make_kinds();
    static const char *const want[] = {"dbm.sqlite3", "dbm.dumb", "dbm.dumb", "dbm.gnu",
                                       "dbm.ndbm",    "",         "",         "",
                                       NULL};
    for (size_t i = 0; i < sizeof KINDS / sizeof *KINDS; i++) {
        const char *got = st_dbm_whichdb(tp(KINDS[i]));
        if (!want[i]) {
            assert_null(got);
            expect_error(ST_EOS, "IsADirectoryError", NULL);
        } else {
            assert_non_null(got);
            assert_string_equal(got, want[i]);
        }
    }
    assert_null(st_dbm_whichdb(tp("missing")));
    expect_error(ST_EOS, "FileNotFoundError", "missing");

    /* The same answers from CPython's dbm.whichdb on the same files. */
    char code[2048];
    int n = snprintf(code, sizeof code, "import dbm\nfor k in [");
    for (size_t i = 0; i < sizeof KINDS / sizeof *KINDS; i++)
        n += snprintf(code + n, sizeof code - (size_t)n, "'%s',", KINDS[i]);
    snprintf(code + n, sizeof code - (size_t)n,
             "'missing']: print(repr(dbm.whichdb('%s/' + k)), end=' ')", tmpdir);
    char *py = pyref_eval(code);
    if (py) {
        assert_string_equal(py, "'dbm.sqlite3' 'dbm.dumb' 'dbm.dumb' 'dbm.gnu' 'dbm.ndbm' '' '' '' "
                                "None None ");
        free(py);
    }
}

static void test_open_dispatch(void **state)
{
    (void)state;
    make_kinds();
    int gnu = have_gnu();
    st_dbm *db = open_db(tp("sq"), "r", NULL);
    assert_string_equal(st_dbm_backend(db), "dbm.sqlite3");
    st_dbm_free(db);
    db = open_db(tp("dumb"), "w", NULL);
    assert_string_equal(st_dbm_backend(db), "dbm.dumb");
    expect_get(db, "k", "v");
    st_dbm_free(db);

    assert_null(st_dbm_open(tp("nothing"), "r", NULL));
    expect_error(ST_EOS, "dbm.error", "db file doesn't exist; use 'c' or 'n' flag");
    assert_int_equal(access(tp("nothing"), F_OK), -1);
    assert_null(st_dbm_open(tp("junk"), "r", NULL));
    expect_error(ST_EFORMAT, "dbm.error", "db type could not be determined");
    assert_null(st_dbm_open(tp("gnu"), "r", NULL));
    if (gnu) /* a magic number and nothing else: gdbm's own complaint */
        expect_error(ST_EFORMAT, "dbm.gnu.error", NULL);
    else
        expect_error(ST_ENOTSUP, "dbm.error",
                     "db type is dbm.gnu, but the module is not available");
    assert_null(st_dbm_open(tp("x"), "rw", NULL));
    expect_error(ST_EVALUE, "ValueError", "Flag must be one of 'r', 'w', 'c', or 'n', not 'rw'");
    st_dbm_options o = ST_DBM_OPTIONS_INIT;
    o.backend = "dbm.bogus";
    assert_null(st_dbm_open(tp("x"), "c", &o));
    expect_error(ST_EVALUE, NULL, "dbm.bogus");
    o.backend = "dbm.gnu";
    if (gnu) {
        db = st_dbm_open(tp("x"), "c", &o);
        assert_non_null(db);
        assert_string_equal(st_dbm_backend(db), "dbm.gnu");
        assert_int_equal(st_dbm_close(db), 0);
        st_dbm_free(db);
        unlink(tp("x"));
    } else {
        assert_null(st_dbm_open(tp("x"), "c", &o));
        expect_error(ST_ENOTSUP, "dbm.error", "not available");
    }
    o.backend = NULL;
    o.version = 99;
    assert_null(st_dbm_open(tp("x"), "c", &o));
    expect_error(ST_EVALUE, NULL, "version");

    /* "n" ignores what is there; a new file is dbm.sqlite3, Python's first choice. */
    db = open_db(tp("junk"), "n", NULL);
    assert_string_equal(st_dbm_backend(db), "dbm.sqlite3");
    assert_int_equal(st_dbm_len(db), 0);
    st_dbm_free(db);
    assert_string_equal(st_dbm_whichdb(tp("junk")), "dbm.sqlite3");
    db = open_db(tp("fresh"), "c", NULL);
    assert_string_equal(st_dbm_backend(db), "dbm.sqlite3");
    st_dbm_free(db);
    assert_int_equal(st_dbm_close(NULL), 0);
    st_dbm_free(NULL);
}

/* ---- the raw API on every backend --------------------------------------------------------- */

static void raw_api(const char *backend)
{
    const char *path = tp("raw");
    rm(path);
    int dumb = strcmp(backend, "dbm.dumb") == 0, gnu = strcmp(backend, "dbm.gnu") == 0;
    const char *ro_type = dumb ? "dbm.dumb.error" : gnu ? "dbm.gnu.error" : "dbm.sqlite3.error";
    assert_null(st_dbm_open(path, "w", &DBM_OPTS(backend, 0666)));
    expect_error(ST_EOS, dumb ? "FileNotFoundError" : ro_type, NULL);

    st_dbm *db = open_db(path, "c", backend);
    assert_int_equal(st_dbm_len(db), 0);
    set_str(db, "b", "1");
    set_str(db, "a", "2");
    set_str(db, "c", "3");
    set_str(db, "b", "longer value");
    assert_int_equal(st_dbm_set(db, "", 0, "", 0), 0);
    assert_int_equal(st_dbm_set(db, "n\0ul", 4, "x\0y", 3), 0);
    expect_get(db, "b", "longer value");
    expect_get(db, "", "");
    size_t n;
    unsigned char *v = st_dbm_get(db, "n\0ul", 4, &n);
    assert_non_null(v);
    assert_int_equal(n, 3);
    assert_memory_equal(v, "x\0y", 3);
    st_free(v);
    assert_int_equal(st_dbm_len(db), 5);
    assert_int_equal(st_dbm_contains(db, "a", 1), 1);
    assert_int_equal(st_dbm_contains(db, "zz", 2), 0);
    assert_null(st_dbm_get(db, "zz", 2, &n));
    expect_error(ST_EKEY, "KeyError", "b'zz'");
    assert_int_equal(st_dbm_del(db, "a", 1), 0);
    assert_int_equal(st_dbm_del(db, "a", 1), -1);
    expect_error(ST_EKEY, "KeyError", "b'a'");
    /* "SELECT key FROM Dict" scans the key's unique index: sorted; dumb: insertion order;
     * gnu: its hash order, so only the members are checked. */
    if (gnu) {
        st_value *keys = st_dbm_keys(db);
        assert_non_null(keys);
        assert_int_equal(st_value_len(keys), 4);
        char *r = st_value_repr(keys);
        assert_non_null(strstr(r, "b''"));
        assert_non_null(strstr(r, "b'b'"));
        assert_non_null(strstr(r, "b'c'"));
        assert_non_null(strstr(r, "b'n\\x00ul'"));
        st_free(r);
        st_value_unref(keys);
    } else if (dumb) {
        expect_keys(db, "[b'b', b'c', b'', b'n\\x00ul']");
    } else {
        expect_keys(db, "[b'', b'b', b'c', b'n\\x00ul']");
    }
    assert_int_equal(st_dbm_sync(db), 0);
    assert_int_equal(st_dbm_close(db), 0);
    st_dbm_free(db);

    db = open_db(path, "r", backend);
    expect_get(db, "c", "3");
    assert_int_equal(st_dbm_len(db), 4);
    assert_int_equal(st_dbm_set(db, "q", 1, "1", 1), -1);
    assert_int_equal(st_error_code(), ST_ESTATE);
    assert_string_equal(st_error_last()->type, ro_type);
    st_error_clear();
    assert_int_equal(st_dbm_del(db, "c", 1), -1);
    expect_error(ST_ESTATE, ro_type, NULL);
    st_dbm_free(db);

    db = open_db(path, "w", backend);
    set_str(db, "w", "ok");
    st_dbm_free(db);
    db = open_db(path, "c", backend);
    expect_get(db, "w", "ok");
    st_dbm_free(db);
    db = open_db(path, "n", backend);
    assert_int_equal(st_dbm_len(db), 0);
    st_dbm_free(db);
}

static void test_raw_sqlite3(void **state)
{
    (void)state;
    raw_api("dbm.sqlite3");
}
static void test_raw_dumb(void **state)
{
    (void)state;
    raw_api("dbm.dumb");
}

static void test_sqlite3_schema(void **state)
{
    (void)state;
    const char *path = tp("schema.db");
    rm(path);
    umask(022);
    st_dbm *db = open_db(path, "c", "dbm.sqlite3");
    set_str(db, "k", "v");
    st_dbm_free(db);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    sqlite3 *cx;
    assert_int_equal(sqlite3_open_v2(path, &cx, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_prepare_v2(cx, "SELECT sql FROM sqlite_master", -1, &s, NULL), 0);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(s, 0),
                        "CREATE TABLE Dict (\n    key BLOB UNIQUE NOT NULL,\n"
                        "    value BLOB NOT NULL\n  )");
    sqlite3_finalize(s);
    assert_int_equal(sqlite3_prepare_v2(cx, "PRAGMA journal_mode", -1, &s, NULL), 0);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(s, 0), "wal");
    sqlite3_finalize(s);
    assert_int_equal(sqlite3_prepare_v2(cx, "SELECT typeof(key), typeof(value) FROM Dict", -1, &s,
                                        NULL), 0);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(s, 0), "blob");
    assert_string_equal((const char *)sqlite3_column_text(s, 1), "blob");
    sqlite3_finalize(s);
    sqlite3_close(cx);

    /* A file whose name needs percent-encoding in the URI, relative to the cwd. */
    char cwd[512];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(tmpdir), 0);
    db = open_db("we?ird #name%.db", "c", "dbm.sqlite3");
    set_str(db, "k", "v");
    st_dbm_free(db);
    assert_int_equal(access("we?ird #name%.db", F_OK), 0);
    unlink("we?ird #name%.db");
    assert_int_equal(chdir(cwd), 0);

    /* "r" on a file without the Dict table fails at first use, as Python's does. */
    st_test_write_file(tp("notdict.db"), "", 0);
    db = open_db(tp("notdict.db"), "r", "dbm.sqlite3");
    assert_int_equal(st_dbm_len(db), -1);
    expect_error(ST_EFORMAT, "dbm.sqlite3.error", "no such table: Dict");
    st_dbm_free(db);
}

/* ---- dbm.dumb's files ---------------------------------------------------------------------- */

/* The same operations as tests/gen/gen_shelve.py's raw file give the same bytes. */
static void test_dumb_bytes_like_cpython(void **state)
{
    (void)state;
    const char *base = tp("cpython_raw");
    rm(base);
    st_dbm *db = open_db(base, "c", "dbm.dumb");
    static const struct {
        const char *k;
        size_t n;
        const char *v;
    } raw[] = {
        {"it's", 4, "1"},
        {"say \"hi\"", 8, "2"},
        {"both '\"", 7, "3"},
        {"\xe9t\xe9", 3, "4"},
        {"\x00\x01\n\t\r\\", 6, "5"},
        {"\xa0\xad\x85\x7f", 4, "6"},
        {"", 0, "7"},
    };
    for (size_t i = 0; i < sizeof raw / sizeof *raw; i++)
        assert_int_equal(st_dbm_set(db, raw[i].k, raw[i].n, raw[i].v, 1), 0);
    char big[29 * 30 + 1] = "";
    for (int i = 0; i < 30; i++)
        strcat(big, "rewritten, longer than before");
    set_str(db, "it's", big);
    assert_int_equal(st_dbm_del(db, "both '\"", 7), 0);
    assert_int_equal(st_dbm_set(db, "both '\"", 7, "3", 1), 0);
    assert_int_equal(st_dbm_close(db), 0);
    st_dbm_free(db);
    static const char *const ext[] = {".dat", ".dir"};
    for (int i = 0; i < 2; i++) {
        char want[600], got[600];
        snprintf(want, sizeof want, "%s/cpython_raw%s", VECTORS, ext[i]);
        snprintf(got, sizeof got, "%s%s", base, ext[i]);
        size_t wn, gn;
        char *w = st_test_read_file(want, &wn), *g = st_test_read_file(got, &gn);
        assert_int_equal(gn, wn);
        assert_memory_equal(g, w, wn);
        free(w);
        free(g);
    }
    /* And CPython's own file reads back. */
    char vec[600];
    snprintf(vec, sizeof vec, "%s/cpython_raw.dat", VECTORS);
    copy_file(vec, tp("vraw.dat"));
    snprintf(vec, sizeof vec, "%s/cpython_raw.dir", VECTORS);
    copy_file(vec, tp("vraw.dir"));
    db = open_db(tp("vraw"), "r", NULL);
    assert_string_equal(st_dbm_backend(db), "dbm.dumb");
    expect_keys(db, "[b\"it's\", b'say \"hi\"', b'\\xe9t\\xe9', b'\\x00\\x01\\n\\t\\r\\\\', "
                    "b'\\xa0\\xad\\x85\\x7f', b'', b'both \\'\"']");
    expect_get(db, "it's", big);
    size_t n;
    unsigned char *v = st_dbm_get(db, "\x00\x01\n\t\r\\", 6, &n);
    assert_non_null(v);
    assert_memory_equal(v, "5", 1);
    st_free(v);
    st_dbm_free(db);
}

static void test_dumb_files(void **state)
{
    (void)state;
    const char *base = tp("files");
    rm(base);
    mode_t old = umask(027);
    st_dbm_options o = DBM_OPTS("dbm.dumb", 0666);
    st_dbm *db = st_dbm_open(base, "c", &o);
    assert_non_null(db);
    set_str(db, "a", "1");
    set_str(db, "a", "2"); /* in place: only the index in memory changes */
    struct stat st;
    assert_int_equal(stat(tp("files.dat"), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0640);
    assert_int_equal(st.st_size, 1);
    size_t n;
    char *dir = st_test_read_file(tp("files.dir"), &n);
    assert_string_equal(dir, "'a', (0, 1)\n");
    free(dir);
    assert_int_equal(access(tp("files.bak"), F_OK), -1);
    set_str(db, "b", "22");
    assert_int_equal(stat(tp("files.dat"), &st), 0);
    assert_int_equal(st.st_size, 514); /* b in the second block */
    assert_int_equal(st_dbm_sync(db), 0);
    dir = st_test_read_file(tp("files.bak"), &n);
    assert_string_equal(dir, "'a', (0, 1)\n'b', (512, 2)\n");
    free(dir);
    assert_int_equal(st_dbm_del(db, "a", 1), 0); /* commits at once */
    dir = st_test_read_file(tp("files.dir"), &n);
    assert_string_equal(dir, "'b', (512, 2)\n");
    free(dir);
    assert_int_equal(stat(tp("files.dir"), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0640);
    st_dbm_free(db);
    umask(old);

    /* "r" and "w" need both files. */
    unlink(tp("files.dir"));
    assert_null(st_dbm_open(base, "r", &o));
    expect_error(ST_EOS, "FileNotFoundError", "files.dir");
    assert_null(st_dbm_open(tp("nofiles"), "w", &o));
    expect_error(ST_EOS, "FileNotFoundError", "nofiles.dat");
    db = st_dbm_open(base, "n", &o);
    assert_non_null(db);
    assert_int_equal(st_dbm_len(db), 0);
    st_dbm_free(db);
    assert_int_equal(stat(tp("files.dat"), &st), 0);
    assert_int_equal(st.st_size, 0);
    assert_int_equal(access(tp("files.bak"), F_OK), -1);
}

/* One .dir text -> the open fails (line number in the message) or the keys' repr. */
static void dir_case(const char *text, const char *keys_or_null, const char *err_part)
{
    const char *base = tp("parse");
    rm(base);
    st_test_write_file(tp("parse.dat"), "0123456789", 10);
    st_test_write_file(tp("parse.dir"), text, strlen(text));
    st_dbm_options o = DBM_OPTS("dbm.dumb", 0666);
    st_dbm *db = st_dbm_open(base, "r", &o);
    if (!keys_or_null) {
        if (db)
            fail_msg("parsed: %s", text);
        expect_error(ST_EFORMAT, "dbm.dumb.error", err_part);
        return;
    }
    if (!db)
        fail_msg("%s: %s", text, st_error_message());
    expect_keys(db, keys_or_null);
    st_dbm_free(db);
}

/* ---- durability ------------------------------------------------------------------------- */

/* A VFS over the default one that counts xSync calls: the library links the same libsqlite3,
 * so registering it as the default makes every connection the library opens count too. That
 * tells the durability modes apart by what they do, not by how long they take. */
typedef struct sync_file {
    sqlite3_file base;
    sqlite3_file *real; /* the default VFS's file, allocated right after this struct */
} sync_file;

static sqlite3_vfs *g_real_vfs;
static int g_syncs;

#define REAL(f) (((sync_file *)(f))->real)
static int sf_close(sqlite3_file *f) { return REAL(f)->pMethods->xClose(REAL(f)); }
static int sf_read(sqlite3_file *f, void *b, int n, sqlite3_int64 o)
{
    return REAL(f)->pMethods->xRead(REAL(f), b, n, o);
}
static int sf_write(sqlite3_file *f, const void *b, int n, sqlite3_int64 o)
{
    return REAL(f)->pMethods->xWrite(REAL(f), b, n, o);
}
static int sf_truncate(sqlite3_file *f, sqlite3_int64 n)
{
    return REAL(f)->pMethods->xTruncate(REAL(f), n);
}
static int sf_sync(sqlite3_file *f, int flags)
{
    g_syncs++;
    return REAL(f)->pMethods->xSync(REAL(f), flags);
}
static int sf_size(sqlite3_file *f, sqlite3_int64 *n)
{
    return REAL(f)->pMethods->xFileSize(REAL(f), n);
}
static int sf_lock(sqlite3_file *f, int l) { return REAL(f)->pMethods->xLock(REAL(f), l); }
static int sf_unlock(sqlite3_file *f, int l) { return REAL(f)->pMethods->xUnlock(REAL(f), l); }
static int sf_reserved(sqlite3_file *f, int *r)
{
    return REAL(f)->pMethods->xCheckReservedLock(REAL(f), r);
}
static int sf_control(sqlite3_file *f, int op, void *a)
{
    return REAL(f)->pMethods->xFileControl(REAL(f), op, a);
}
static int sf_sector(sqlite3_file *f) { return REAL(f)->pMethods->xSectorSize(REAL(f)); }
static int sf_device(sqlite3_file *f) { return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f)); }
static int sf_shm_map(sqlite3_file *f, int i, int sz, int ext, void volatile **p)
{
    return REAL(f)->pMethods->xShmMap(REAL(f), i, sz, ext, p);
}
static int sf_shm_lock(sqlite3_file *f, int off, int n, int flags)
{
    return REAL(f)->pMethods->xShmLock(REAL(f), off, n, flags);
}
static void sf_shm_barrier(sqlite3_file *f) { REAL(f)->pMethods->xShmBarrier(REAL(f)); }
static int sf_shm_unmap(sqlite3_file *f, int del)
{
    return REAL(f)->pMethods->xShmUnmap(REAL(f), del);
}

static const sqlite3_io_methods SYNC_COUNTING_IO = {
    2, sf_close, sf_read, sf_write, sf_truncate, sf_sync, sf_size, sf_lock, sf_unlock,
    sf_reserved, sf_control, sf_sector, sf_device, sf_shm_map, sf_shm_lock, sf_shm_barrier,
    sf_shm_unmap, NULL, NULL,
};

static int sv_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out)
{
    (void)vfs;
    sync_file *sf = (sync_file *)f;
    sf->real = (sqlite3_file *)(sf + 1);
    int rc = g_real_vfs->xOpen(g_real_vfs, name, sf->real, flags, out);
    /* On failure SQLite calls no method (pMethods NULL); on success every call forwards. */
    sf->base.pMethods = rc == SQLITE_OK && sf->real->pMethods ? &SYNC_COUNTING_IO : NULL;
    return rc;
}
static int sv_delete(sqlite3_vfs *v, const char *n, int d)
{
    (void)v;
    return g_real_vfs->xDelete(g_real_vfs, n, d);
}
static int sv_access(sqlite3_vfs *v, const char *n, int f, int *r)
{
    (void)v;
    return g_real_vfs->xAccess(g_real_vfs, n, f, r);
}
static int sv_full(sqlite3_vfs *v, const char *n, int sz, char *out)
{
    (void)v;
    return g_real_vfs->xFullPathname(g_real_vfs, n, sz, out);
}
static int sv_random(sqlite3_vfs *v, int n, char *out)
{
    (void)v;
    return g_real_vfs->xRandomness(g_real_vfs, n, out);
}
static int sv_sleep(sqlite3_vfs *v, int us)
{
    (void)v;
    return g_real_vfs->xSleep(g_real_vfs, us);
}
static int sv_time(sqlite3_vfs *v, double *t)
{
    (void)v;
    return g_real_vfs->xCurrentTime(g_real_vfs, t);
}
static int sv_error(sqlite3_vfs *v, int n, char *out)
{
    (void)v;
    return g_real_vfs->xGetLastError(g_real_vfs, n, out);
}

static sqlite3_vfs g_counting_vfs;

/* Makes the counting VFS the default (once), and zeroes the count. */
static void count_syncs(void)
{
    if (!g_real_vfs) {
        g_real_vfs = sqlite3_vfs_find(NULL);
        assert_non_null(g_real_vfs);
        g_counting_vfs = (sqlite3_vfs){
            .iVersion = 1,
            .szOsFile = (int)sizeof(sync_file) + g_real_vfs->szOsFile,
            .mxPathname = g_real_vfs->mxPathname,
            .zName = "st-sync-counting",
            .xOpen = sv_open,
            .xDelete = sv_delete,
            .xAccess = sv_access,
            .xFullPathname = sv_full,
            .xDlOpen = NULL,
            .xRandomness = sv_random,
            .xSleep = sv_sleep,
            .xCurrentTime = sv_time,
            .xGetLastError = sv_error,
        };
        assert_int_equal(sqlite3_vfs_register(&g_counting_vfs, 1), SQLITE_OK);
    }
    g_syncs = 0;
}

/* Each durability does what its documentation says, counted at the VFS: FULL (the default,
 * Python's) syncs every commit, NORMAL syncs only at checkpoints (none for a few small
 * writes), OFF never; every mode reads back what it wrote, and CPython reads the file. */
static void test_durability(void **state)
{
    (void)state;
    count_syncs();
    static const st_dbm_durability modes[] = {ST_DBM_DURABILITY_FULL, ST_DBM_DURABILITY_NORMAL,
                                              ST_DBM_DURABILITY_OFF};
    int syncs[3];
    for (int m = 0; m < 3; m++) {
        const char *path = tp("durable.db");
        rm(path);
        st_dbm_options o = ST_DBM_OPTIONS_INIT;
        o.backend = "dbm.sqlite3";
        o.durability = modes[m];
        st_dbm *db = st_dbm_open(path, "c", &o);
        assert_non_null(db);
        g_syncs = 0;
        char key[16];
        for (int i = 0; i < 20; i++) {
            snprintf(key, sizeof key, "k%d", i);
            set_str(db, key, "v");
        }
        syncs[m] = g_syncs;
        expect_get(db, "k7", "v");
        assert_int_equal(st_dbm_close(db), 0);
        st_dbm_free(db);
        /* WAL mode in every case, so readers never block the writer. */
        sqlite3 *cx;
        assert_int_equal(sqlite3_open_v2(path, &cx, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
        sqlite3_stmt *st;
        assert_int_equal(sqlite3_prepare_v2(cx, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
        sqlite3_finalize(st);
        sqlite3_close(cx);
        char code[512];
        snprintf(code, sizeof code,
                 "import dbm\nwith dbm.open('%s', 'r') as db:\n    print(len(db), db[b'k19'])",
                 path);
        char *py = pyref_eval(code);
        if (py)
            assert_string_equal(py, "20 b'v'");
        free(py);
    }
    /* FULL: at least one sync per commit; NORMAL and OFF: none for 20 small commits (the WAL
     * checkpoints after 1000 pages). */
    assert_true(syncs[0] >= 20);
    assert_int_equal(syncs[1], 0);
    assert_int_equal(syncs[2], 0);
    /* A checkpoint syncs under NORMAL and never under OFF. */
    for (int m = 1; m < 3; m++) {
        const char *path = tp("durable.db");
        rm(path);
        st_dbm_options o = ST_DBM_OPTIONS_INIT;
        o.durability = modes[m];
        st_dbm *db = st_dbm_open(path, "c", &o);
        assert_non_null(db);
        g_syncs = 0;
        static char big[64 * 1024];
        for (int i = 0; i < 80; i++) { /* 5 MiB: past the 1000-page autocheckpoint */
            char key[16];
            snprintf(key, sizeof key, "big%d", i);
            assert_int_equal(st_dbm_set(db, key, strlen(key), big, sizeof big), 0);
        }
        if (m == 1)
            assert_true(g_syncs > 0);
        else
            assert_int_equal(g_syncs, 0);
        st_dbm_free(db);
    }
    /* The shelf passes its durability down. */
    g_syncs = 0;
    rm(tp("durable.db"));
    st_shelve_options so = ST_SHELVE_OPTIONS_INIT;
    so.durability = ST_DBM_DURABILITY_OFF;
    st_shelf *sh = st_shelve_open(tp("durable.db"), "c", &so);
    assert_non_null(sh);
    st_value *v = st_value_parse("[1, 'two']");
    assert_int_equal(st_shelf_set(sh, "a", v), 0);
    st_value_unref(v);
    assert_int_equal(st_shelf_begin(sh), 0);
    v = st_value_int(3);
    assert_int_equal(st_shelf_set(sh, "b", v), 0);
    st_value_unref(v);
    assert_int_equal(st_shelf_commit(sh), 0);
    st_shelf_free(sh);
    assert_int_equal(g_syncs, 0);
    so.durability = ST_DBM_DURABILITY_FULL;
    sh = st_shelve_open(tp("durable.db"), "w", &so);
    expect_val(sh, "a", "[1, 'two']");
    expect_val(sh, "b", "3");
    v = st_value_int(4);
    assert_int_equal(st_shelf_set(sh, "b", v), 0);
    st_value_unref(v);
    assert_true(g_syncs > 0);
    st_shelf_free(sh);

    /* Refused: a durability the library does not know, and one for another backend. */
    st_dbm_options bad = ST_DBM_OPTIONS_INIT;
    bad.durability = (st_dbm_durability)7;
    assert_null(st_dbm_open(tp("durable.db"), "c", &bad));
    expect_error(ST_EVALUE, "ValueError", "unknown durability 7");
    bad = DBM_OPTS("dbm.dumb", 0);
    bad.durability = ST_DBM_DURABILITY_NORMAL;
    assert_null(st_dbm_open(tp("durable_dumb"), "c", &bad));
    expect_error(ST_EVALUE, "ValueError",
                 "durability is an option of dbm.sqlite3, not of dbm.dumb");
    bad.durability = ST_DBM_DURABILITY_FULL;
    st_dbm *dumb = st_dbm_open(tp("durable_dumb"), "c", &bad);
    assert_non_null(dumb);
    st_dbm_free(dumb);
    rm(tp("durable_dumb"));
    rm(tp("durable.db"));
}

/* ---- serializer ------------------------------------------------------------------------- */

typedef struct ser_ctx {
    int serialized, deserialized, protocol;
} ser_ctx;

/* The raw-bytes pair: bytes are stored as they are, anything else is refused. */
static st_value *raw_serialize(void *ctx, const st_value *value, int protocol)
{
    ser_ctx *c = ctx;
    c->serialized++;
    c->protocol = protocol;
    if (st_value_kind(value) == ST_VALUE_INT) /* a broken serializer: not bytes */
        return st_value_int(5);
    size_t len;
    const unsigned char *data = st_value_bytes_data(value, &len); /* else TypeError */
    return data ? st_value_bytes(data, len) : NULL;
}

static st_value *raw_deserialize(void *ctx, const void *data, size_t len)
{
    ((ser_ctx *)ctx)->deserialized++;
    return st_value_bytes(data, len);
}

/* Python 3.15's serializer/deserializer pair (CPython 3.13 has none): with a raw-bytes pair
 * the file holds the bytes themselves, which is what CPython 3.15's
 * shelve.open(p, serializer=lambda v, p: v, deserializer=lambda b: b) stores and reads: that
 * Shelf reads self.dict[key.encode()] and passes it to the deserializer, so CPython 3.13's
 * dbm, reading the same key, sees the bytes such a shelf would return. */
static void test_serializer(void **state)
{
    (void)state;
    const char *path = tp("raw.db");
    rm(path);
    ser_ctx c = {0, 0, -1};
    st_shelve_options o = ST_SHELVE_OPTIONS_INIT;
    o.serializer = raw_serialize;
    o.deserializer = raw_deserialize;
    o.serializer_ctx = &c;
    st_shelf *sh = st_shelve_open(path, "c", &o);
    assert_non_null(sh);
    st_value *v = st_value_bytes("\x00raw\xff", 5);
    assert_int_equal(st_shelf_set(sh, "k", v), 0);
    st_value_unref(v);
    assert_int_equal(c.serialized, 1);
    assert_int_equal(c.protocol, ST_PICKLE_DEFAULT_PROTOCOL);
    expect_val(sh, "k", "b'\\x00raw\\xff'");
    assert_int_equal(c.deserialized, 1);
    /* A serializer that returns no bytes, or fails: its error, nothing stored. */
    v = st_value_int(5);
    assert_int_equal(st_shelf_set(sh, "bad", v), -1);
    expect_error(ST_ETYPE, "TypeError", "serializer must return bytes or bytearray, not 'int'");
    st_value_unref(v);
    v = st_value_str("text");
    assert_int_equal(st_shelf_set(sh, "bad", v), -1);
    expect_error(ST_ETYPE, "TypeError", NULL);
    st_value_unref(v);
    assert_int_equal(st_shelf_contains(sh, "bad"), 0);
    /* Inside a transaction and with the protocol given. */
    assert_int_equal(st_shelf_begin(sh), 0);
    v = st_value_bytes("txn", 3);
    assert_int_equal(st_shelf_set(sh, "t", v), 0);
    st_value_unref(v);
    expect_val(sh, "t", "b'txn'");
    assert_int_equal(st_shelf_commit(sh), 0);
    st_shelf_free(sh);

    /* The file holds the raw bytes: our dbm and CPython's read them as such. */
    st_dbm *db = open_db(path, "r", "dbm.sqlite3");
    expect_get(db, "t", "txn");
    size_t n;
    unsigned char *raw = st_dbm_get(db, "k", 1, &n);
    assert_non_null(raw);
    assert_int_equal(n, 5);
    assert_memory_equal(raw, "\x00raw\xff", 5);
    st_free(raw);
    st_dbm_free(db);
    char code[512];
    snprintf(code, sizeof code,
             "import dbm\n"
             "deserializer = lambda b: b  # what a Python 3.15 raw-bytes shelf is given\n"
             "with dbm.open('%s', 'r') as d:\n"
             "    print(deserializer(d['k'.encode('utf-8')]), deserializer(d[b't']))",
             path);
    char *py = pyref_eval(code);
    if (py)
        assert_string_equal(py, "b'\\x00raw\\xff' b'txn'");
    free(py);

    /* With writeback the cached values go through the serializer at sync. */
    c = (ser_ctx){0, 0, -1};
    o.writeback = 1;
    o.protocol = 2;
    sh = st_shelve_open(path, "w", &o);
    assert_non_null(sh);
    v = st_value_bytes("wb", 2);
    assert_int_equal(st_shelf_set(sh, "w", v), 0);
    st_value_unref(v);
    assert_int_equal(c.protocol, 2);
    assert_int_equal(st_shelf_sync(sh), 0);
    assert_int_equal(c.serialized, 2); /* at set and at sync, as Python */
    st_shelf_free(sh);

    /* One of the pair alone is refused, as Python's ShelveError. */
    o.deserializer = NULL;
    assert_null(st_shelve_open(path, "r", &o));
    expect_error(ST_EVALUE, "shelve.ShelveError", "serializer and deserializer");
    o.deserializer = raw_deserialize;
    o.serializer = NULL;
    assert_null(st_shelve_open(path, "r", &o));
    expect_error(ST_EVALUE, "shelve.ShelveError", "serializer and deserializer");
    /* The default stays pickle: a value our default writes is what CPython 3.13 reads. */
    rm(path);
    sh = open_shelf(path, "c", "dbm.sqlite3", 0);
    v = st_value_bytes("raw", 3);
    assert_int_equal(st_shelf_set(sh, "k", v), 0);
    st_value_unref(v);
    st_shelf_free(sh);
    snprintf(code, sizeof code,
             "import shelve\nwith shelve.open('%s', 'r') as s:\n    print(s['k'])", path);
    py = pyref_eval(code);
    if (py)
        assert_string_equal(py, "b'raw'");
    free(py);
    rm(path);
}

/* A caller built against version 1 has the smaller struct: init at version 1 writes nothing
 * past it, and open reads nothing past it (the durability is Python's). */
static void test_options_version_1(void **state)
{
    (void)state;
    ST_OPTIONS_V1(st_dbm_options, st_dbm_options_init, durability, d);
    d.o.backend = "dbm.sqlite3";
    st_dbm *db = st_dbm_open(tp("v1.db"), "c", &d.o); /* durability holds 0xAAAAAAAA: unread */
    assert_non_null(db);
    st_dbm_free(db);
    ST_OPTIONS_V1(st_shelve_options, st_shelve_options_init, durability, s);
    st_shelf *sh = st_shelve_open(tp("v1.db"), "c", &s.o); /* serializer bytes: unread */
    assert_non_null(sh);
    st_value *v = st_value_int(1);
    assert_int_equal(st_shelf_set(sh, "one", v), 0);
    st_value_unref(v);
    expect_val(sh, "one", "1");
    st_shelf_free(sh);
    rm(tp("v1.db"));
}

/* dbm.open("", "c"): Path("") is ".", which touch() finds, and SQLite cannot open a directory:
 * dbm.sqlite3.error "unable to open database file", as CPython says live. Nothing is created. */
static void test_sqlite3_empty_name(void **state)
{
    (void)state;
    for (int explicit = 0; explicit < 2; explicit++) {
        st_dbm_options o = ST_DBM_OPTIONS_INIT;
        o.backend = explicit ? "dbm.sqlite3" : NULL;
        assert_null(st_dbm_open("", "c", &o));
        /* SQLite's message, then (as every OSError of this library) the errno's text. */
        assert_int_equal(st_error_code(), ST_EOS);
        char ours[256], with_errno[300];
        snprintf(ours, sizeof ours, "%s: unable to open database file", st_error_last()->type);
        snprintf(with_errno, sizeof with_errno, "%s: %s", ours,
                 strerror(st_error_last()->os_errno));
        assert_string_equal(ours, "dbm.sqlite3.error: unable to open database file");
        assert_string_equal(st_error_message(), strchr(with_errno, ' ') + 1);
        char *theirs = pyref_eval("import dbm, dbm.sqlite3\n"
                                  "for f in (dbm.open, dbm.sqlite3.open):\n"
                                  "    try:\n"
                                  "        f('', 'c')\n"
                                  "    except Exception as e:\n"
                                  "        print(type(e).__module__ + '.' + type(e).__name__ + ':',"
                                  " e)\n");
        if (theirs) {
            const char *line = theirs;
            if (explicit)
                line = strchr(line, '\n') + 1;
            assert_int_equal(strcspn(line, "\n"), strlen(ours));
            assert_memory_equal(line, ours, strlen(ours));
        }
        free(theirs);
    }
    assert_int_equal(access("-wal", F_OK), -1);
}

static void test_dumb_dir_parser(void **state)
{
    (void)state;
    /* A size the index claims is f.read()'s Py_ssize_t: past the end of the file the read is
     * short, but a 32-bit machine refuses 2**31 before it reads. */
    dir_case("'a', (0, 2147483648)\n", "[b'a']", NULL);
    st_dbm_options dumb = DBM_OPTS("dbm.dumb", 0666);
    st_dbm *big = st_dbm_open(tp("parse"), "r", &dumb);
    assert_non_null(big);
    size_t n;
    unsigned char *v = st_dbm_get(big, "a", 1, &n);
    if (sizeof(ssize_t) == 8) {
        assert_non_null(v);
        assert_int_equal(n, 10);
    } else {
        assert_null(v);
        expect_error(ST_EOVERFLOW, "OverflowError", "Python int too large to convert to C ssize_t");
    }
    st_free(v);
    st_dbm_free(big);
    dir_case("'a', (0, 1)\r\n  \"b\",(2,3)   \r'c\\'', ( 4 , 5 )\n", "[b'a', b'b', b\"c'\"]", NULL);
    dir_case("'\\x41\\101\\u0041\\U00000041\\t\\a\\0', (0, 0)\n", "[b'AAAA\\t\\x07\\x00']", NULL);
    dir_case("'a', (0, 1)\n'a', (3, 1)\n'b', (0, 1)\n", "[b'a', b'b']", NULL);
    dir_case("'\xe9\xff', (0, 1) \x85\xa0\n", "[b'\\xe9\\xff']", NULL);
    dir_case("", "[]", NULL);
    dir_case("'\\q', (0, 1)\n", "[b'\\\\q']", NULL); /* unknown escapes stay, as in Python */
    /* Lines dumb.py never writes: one error, dbm.dumb.error naming the line (a deliberate
     * difference, see dbm.h). The third column is what CPython 3.13's dbm.dumb.open() does
     * with the same file, checked live: whatever ast.literal_eval() or the unpacking raises,
     * or it opens and fails (or reads garbage) at a later read. */
    static const char *const bad[][3] = {
        {"'a', (0, 1)\n\n'b', (0, 1)\n", "line 2", "SyntaxError"},
        {"'a', (0, 1)\n'b', (0, 1) # hi\n", "line 2: text after the entry", "opens"},
        {"'a', (0, 1)\nb'a', (0, 1)\n", "line 2: expected a quoted key", "AttributeError"},
        {"'a, (0, 1)\n", "line 1: unterminated string", "SyntaxError"},
        {"'a', (0, 1, 2)\n", "line 1: expected ')'", "opens"},
        {"'a', (0 1)\n", "line 1", "SyntaxError"},
        {"'a', (-1, 1)\n", "line 1: bad position", "opens"},
        {"'a', (01, 1)\n", "line 1: bad position", "SyntaxError"},
        {"'a', (0, 1_0)\n", "line 1", "opens"},
        {"'a', (0, 99999999999999999999999)\n", "line 1: bad size", "opens"},
        {"'\\u0100', (0, 1)\n", "line 1: key is not Latin-1", "UnicodeEncodeError"},
        {"'\\x4', (0, 1)\n", "line 1: truncated escape", "SyntaxError"},
        {"'\\N{DIGIT ONE}', (0, 1)\n", "line 1: \\N{...} escape not supported", "opens"},
        {"'a' (0, 1)\n", "line 1: expected ','", "ValueError"},
        {"'a', [0, 1]\n", "line 1: expected '(pos, siz)'", "opens"},
        {"__import__('os'), (0, 1)\n", "line 1", "ValueError"},
        {"'a\0', (0, 1)\n", "line 1", "SyntaxError"},
    };
    size_t nbad = sizeof bad / sizeof *bad;
    st__buf code = ST__BUF_INIT;
    assert_int_equal(st__buf_puts(&code, "import dbm.dumb, os, sys, tempfile, warnings\n"
                                         "warnings.simplefilter('ignore')\n"
                                         "p = os.path.join(tempfile.mkdtemp(), 'x')\n"
                                         "for h in ["), 0);
    for (size_t i = 0; i < nbad; i++) {
        size_t len = i == nbad - 1 ? 13 : strlen(bad[i][0]);
        assert_int_equal(st__buf_putc(&code, '\''), 0);
        for (size_t j = 0; j < len; j++)
            assert_int_equal(st__buf_printf(&code, "%02x", (unsigned char)bad[i][0][j]), 0);
        assert_int_equal(st__buf_puts(&code, "', "), 0);
    }
    assert_int_equal(st__buf_puts(&code, "]:\n"
                                         "    open(p + '.dat', 'wb').close()\n"
                                         "    open(p + '.dir', 'wb').write(bytes.fromhex(h))\n"
                                         "    try:\n"
                                         "        dbm.dumb.open(p, 'r').close()\n"
                                         "        print('opens')\n"
                                         "    except Exception as e:\n"
                                         "        print(type(e).__name__)\n"), 0);
    char *theirs = pyref_eval(code.data);
    st__buf_free(&code);
    const char *line = theirs;
    for (size_t i = 0; i < nbad; i++) {
        if (line) {
            size_t n = strcspn(line, "\n");
            if (strlen(bad[i][2]) != n || memcmp(line, bad[i][2], n) != 0)
                fail_msg("case %zu: CPython: %.*s", i, (int)n, line);
            line += n + (line[n] == '\n');
        }
        /* Embedded NUL: the last case is written with its real length. */
        if (i == nbad - 1) {
            rm(tp("parse"));
            st_test_write_file(tp("parse.dat"), "", 0);
            st_test_write_file(tp("parse.dir"), "'a\0', (0, 1)\n", 13);
            st_dbm_options o = DBM_OPTS("dbm.dumb", 0666);
            assert_null(st_dbm_open(tp("parse"), "r", &o));
            expect_error(ST_EFORMAT, "dbm.dumb.error", "NUL in key");
            continue;
        }
        dir_case(bad[i][0], NULL, bad[i][1]);
    }
    free(theirs);
    /* Short reads at the end of .dat return what is there, as f.read(siz) does. */
    dir_case("'a', (8, 5)\n", "[b'a']", NULL);
    st_dbm_options o = DBM_OPTS("dbm.dumb", 0666);
    st_dbm *db = st_dbm_open(tp("parse"), "r", &o);
    assert_non_null(db);
    expect_get(db, "a", "89");
    st_dbm_free(db);
}

/* The fuzz target's entry point must accept what the writer writes. */
static void test_dumb_parse_line_direct(void **state)
{
    (void)state;
    char *key;
    size_t klen;
    long long pos, siz;
    const char line[] = "'x\\'y', (1024, 7)";
    assert_int_equal(st__dbm_dumb_parse_line(line, sizeof line - 1, "f.dir", 3, &key, &klen, &pos,
                                             &siz), 0);
    assert_int_equal(klen, 3);
    assert_memory_equal(key, "x'y", 3);
    assert_int_equal(pos, 1024);
    assert_int_equal(siz, 7);
    st_free(key);
    assert_int_equal(st__dbm_dumb_parse_line("'", 1, "f.dir", 3, &key, &klen, &pos, &siz), -1);
    expect_error(ST_EFORMAT, "dbm.dumb.error", "'f.dir', line 3");
}

/* ---- shelves ---------------------------------------------------------------------------- */

static void read_vector_shelf(const char *path)
{
    st_shelf *sh = open_shelf(path, "r", NULL, 0);
    expect_shelf_keys(sh, strstr(path, "dumb") ? "ada,grace,café,empty,big"
                                               : "ada,big,café,empty,grace");
    expect_val(sh, "ada", "{'name': 'Ada', 'age': 36, 'langs': ['en', 'fr']}");
    expect_val(sh, "grace", "(1906, 1992, None, True)");
    expect_val(sh, "café", "'ünïcödé'");
    expect_val(sh, "empty", "b''");
    expect_val(sh, "big", "1267650600228229401496703205376");
    assert_int_equal(st_shelf_len(sh), 5);
    st_shelf_free(sh);
}

static void test_shelf_cpython_vectors(void **state)
{
    (void)state;
    copy_file(VECTORS "/cpython.sqlite3", tp("vshelf.sqlite3"));
    assert_string_equal(st_dbm_whichdb(tp("vshelf.sqlite3")), "dbm.sqlite3");
    read_vector_shelf(tp("vshelf.sqlite3"));
    copy_file(VECTORS "/cpython_dumb.dat", tp("vshelf_dumb.dat"));
    copy_file(VECTORS "/cpython_dumb.dir", tp("vshelf_dumb.dir"));
    read_vector_shelf(tp("vshelf_dumb"));

    /* Live: CPython writes both kinds now, we read them; we write, CPython reads. */
    const char *py = pyref_python();
    if (!py)
        return;
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "'%s' '%s/gen/gen_shelve.py' '%s'", py, ST_TEST_SOURCE_DIR, tmpdir);
    assert_int_equal(system(cmd), 0);
    read_vector_shelf(tp("cpython.sqlite3"));
    read_vector_shelf(tp("cpython_dumb"));
    for (int i = 0; i < 2; i++) {
        const char *path = tp(i ? "ours_dumb" : "ours.db");
        rm(path);
        st_shelf *sh = open_shelf(path, "c", i ? "dbm.dumb" : NULL, 0);
        set_val(sh, "k", "[1, 'two', (3.5, None)]");
        set_val(sh, "ü", "{b'x': (1, 2)}");
        st_shelf_free(sh);
        char code[1024];
        snprintf(code, sizeof code,
                 "import shelve, dbm\nwith shelve.open('%s', 'r') as s: "
                 "print(dbm.whichdb('%s'), sorted(s.items()))",
                 path, path);
        char *out = pyref_eval(code);
        assert_non_null(out);
        char want[256];
        snprintf(want, sizeof want,
                 "%s [('k', [1, 'two', (3.5, None)]), ('ü', {b'x': (1, 2)})]",
                 i ? "dbm.dumb" : "dbm.sqlite3");
        assert_string_equal(out, want);
        free(out);
    }
}

static void shelf_api(const char *backend)
{
    const char *path = tp("shelf");
    rm(path);
    st_shelf *sh = open_shelf(path, "c", backend, 0);
    set_val(sh, "one", "1");
    set_val(sh, "two", "[2, 2]");
    set_val(sh, "three", "{'x': (3,)}");
    set_val(sh, "one", "'uno'");
    expect_val(sh, "one", "'uno'");
    assert_int_equal(st_shelf_len(sh), 3);
    assert_int_equal(st_shelf_contains(sh, "two"), 1);
    assert_int_equal(st_shelf_contains(sh, "four"), 0);
    assert_null(st_shelf_get(sh, "four"));
    expect_error(ST_EKEY, "KeyError", "b'four'");
    assert_int_equal(st_shelf_del(sh, "two"), 0);
    assert_int_equal(st_shelf_del(sh, "two"), -1);
    expect_error(ST_EKEY, "KeyError", NULL);
    expect_shelf_keys(sh, "one,three");
    st_shelf_iterator *it = st_shelf_iter(sh);
    assert_non_null(it);
    const char *k;
    int count = 0;
    while (st_shelf_iterator_next(it, &k) == 1)
        count++;
    assert_int_equal(count, 2);
    assert_int_equal(st_shelf_iterator_next(it, &k), 0);
    st_shelf_iterator_free(it);
    st_shelf_iterator_free(NULL);
    assert_int_equal(st_shelf_set(sh, "bad\xff", st_value_none()), -1);
    expect_error(ST_EVALUE, "UnicodeDecodeError", NULL);
    assert_int_equal(st_shelf_sync(sh), 0);
    assert_int_equal(st_shelf_close(sh), 0);
    st_shelf_free(sh);
    assert_int_equal(st_shelf_close(NULL), 0);
    st_shelf_free(NULL);

    /* Protocols: the default is 4 (Python's shelve), -1 the highest. */
    st_dbm *db = open_db(path, "r", backend);
    size_t n;
    unsigned char *raw = st_dbm_get(db, "one", 3, &n);
    assert_non_null(raw);
    assert_int_equal(raw[0], 0x80);
    assert_int_equal(raw[1], 4);
    st_free(raw);
    st_dbm_free(db);
    st_shelve_options o = ST_SHELVE_OPTIONS_INIT;
    o.backend = backend;
    for (int proto = -1; proto <= 5; proto++) {
        o.protocol = proto == 0 ? ST_SHELVE_PROTOCOL_0 : proto; /* a zero field is None */
        sh = st_shelve_open(path, "w", &o);
        assert_non_null(sh);
        set_val(sh, "p", "[1]");
        st_shelf_free(sh);
        db = open_db(path, "r", backend);
        raw = st_dbm_get(db, "p", 1, &n);
        assert_non_null(raw);
        if (proto >= 2 || proto < 0) {
            assert_int_equal(raw[0], 0x80);
            assert_int_equal(raw[1], proto < 0 ? 5 : proto);
        } else {
            assert_int_not_equal(raw[0], 0x80);
        }
        st_free(raw);
        st_dbm_free(db);
    }
    o.protocol = 6;
    assert_null(st_shelve_open(path, "w", &o));
    expect_error(ST_EVALUE, NULL, "protocol");
    o.protocol = 4;
    o.version = 0;
    assert_null(st_shelve_open(path, "w", &o));
    expect_error(ST_EVALUE, NULL, "version");

    /* Read-only shelves refuse writes with the backend's error. */
    sh = open_shelf(path, "r", backend, 0);
    assert_int_equal(st_shelf_set(sh, "x", st_value_none()), -1);
    assert_int_equal(st_error_code(), ST_ESTATE);
    st_error_clear();
    st_shelf_free(sh);

    /* Load limits reach the unpickler; a key that is not UTF-8 cannot be listed. */
    st_pickle_load_options lo = ST_PICKLE_LOAD_OPTIONS_INIT;
    lo.max_size = 3;
    o = (st_shelve_options)ST_SHELVE_OPTIONS_INIT;
    o.backend = backend;
    o.load = &lo;
    sh = st_shelve_open(path, "w", &o);
    assert_non_null(sh);
    set_val(sh, "long", "'a long enough string'");
    assert_null(st_shelf_get(sh, "long"));
    assert_int_equal(st_error_code(), ST_EFORMAT);
    st_error_clear();
    st_shelf_free(sh);
    db = open_db(path, "w", backend);
    assert_int_equal(st_dbm_set(db, "\xff", 1, "x", 1), 0);
    assert_int_equal(st_dbm_set(db, "bad", 3, "not a pickle", 12), 0);
    st_dbm_free(db);
    sh = open_shelf(path, "r", backend, 0);
    assert_null(st_shelf_keys(sh));
    expect_error(ST_EVALUE, "UnicodeDecodeError", NULL);
    assert_null(st_shelf_iter(sh));
    st_error_clear();
    assert_null(st_shelf_get(sh, "bad"));
    assert_int_equal(st_error_code(), ST_EFORMAT);
    st_error_clear();
    st_shelf_free(sh);
}

static void test_shelf_sqlite3(void **state)
{
    (void)state;
    shelf_api("dbm.sqlite3");
}
static void test_shelf_dumb(void **state)
{
    (void)state;
    shelf_api("dbm.dumb");
}

static void writeback(const char *backend)
{
    const char *path = tp("wb");
    rm(path);
    st_shelf *sh = open_shelf(path, "c", backend, 0);
    set_val(sh, "l", "[1]");
    /* Without writeback a change in place is lost. */
    st_value *l = st_shelf_get(sh, "l");
    assert_int_equal(st_value_list_append_steal(l, st_value_int(2)), 0);
    st_value_unref(l);
    expect_val(sh, "l", "[1]");
    st_shelf_free(sh);

    sh = open_shelf(path, "w", backend, 1);
    l = st_shelf_get(sh, "l");
    st_value *again = st_shelf_get(sh, "l");
    assert_ptr_equal(l, again); /* the cached object itself */
    st_value_unref(again);
    assert_int_equal(st_value_list_append_steal(l, st_value_int(2)), 0);
    st_value *fresh = st_value_parse("['new']");
    assert_int_equal(st_shelf_set(sh, "n", fresh), 0);
    assert_int_equal(st_value_list_append_steal(fresh, st_value_int(3)), 0);
    st_value *got = st_shelf_get(sh, "n");
    assert_ptr_equal(got, fresh);
    st_value_unref(got);
    st_value_unref(fresh);
    /* The file still has the old value until sync. */
    st_dbm *db = open_db(path, "r", backend);
    size_t vn;
    unsigned char *raw = st_dbm_get(db, "l", 1, &vn);
    st_value *on_disk = st_pickle_loads(raw, vn, NULL);
    char *r = st_value_repr(on_disk);
    assert_string_equal(r, "[1]");
    st_free(r);
    st_value_unref(on_disk);
    st_free(raw);
    st_dbm_free(db);
    assert_int_equal(st_shelf_sync(sh), 0);
    /* After sync the cache is empty: a new get loads a new object. */
    st_value *l2 = st_shelf_get(sh, "l");
    assert_ptr_not_equal(l2, l);
    st_value_unref(l2);
    st_value_unref(l);
    l = st_shelf_get(sh, "l");
    assert_int_equal(st_value_list_append_steal(l, st_value_int(9)), 0);
    st_value_unref(l);
    assert_int_equal(st_shelf_del(sh, "n"), 0);
    assert_int_equal(st_shelf_close(sh), 0); /* close writes the cache */
    st_shelf_free(sh);
    sh = open_shelf(path, "r", backend, 0);
    expect_val(sh, "l", "[1, 2, 9]");
    assert_int_equal(st_shelf_contains(sh, "n"), 0);
    st_shelf_free(sh);
}

static void test_writeback_sqlite3(void **state)
{
    (void)state;
    writeback("dbm.sqlite3");
}
static void test_writeback_dumb(void **state)
{
    (void)state;
    writeback("dbm.dumb");
}

/* ---- transactions ---------------------------------------------------------------------- */

static void test_txn_states(void **state)
{
    (void)state;
    const char *path = tp("txd");
    rm(path);
    st_shelf *sh = open_shelf(path, "c", "dbm.dumb", 0);
    assert_int_equal(st_shelf_begin(sh), -1);
    expect_error(ST_EVALUE, "ValueError", "transactions are not supported by dbm.dumb");
    st_shelf_free(sh);
    sh = open_shelf(tp("txs.db"), "n", NULL, 0);
    assert_int_equal(st_shelf_commit(sh), -1);
    expect_error(ST_ESTATE, "RuntimeError", "no transaction");
    assert_int_equal(st_shelf_abort(sh), -1);
    expect_error(ST_ESTATE, "RuntimeError", "no transaction");
    assert_int_equal(st_shelf_begin(sh), 0);
    assert_int_equal(st_shelf_begin(sh), -1);
    expect_error(ST_ESTATE, "RuntimeError", "already");
    set_val(sh, "pending", "1");
    assert_int_equal(st_shelf_close(sh), 0); /* aborts */
    st_shelf_free(sh);
    sh = open_shelf(tp("txs.db"), "r", NULL, 0);
    assert_int_equal(st_shelf_len(sh), 0);
    st_shelf_free(sh);
}

static void test_txn_own_view(void **state)
{
    (void)state;
    const char *path = tp("tx.db");
    rm(path);
    st_shelf *a = open_shelf(path, "c", NULL, 0);
    st_shelf *b = open_shelf(path, "w", NULL, 0);
    set_val(a, "x", "1");
    set_val(a, "y", "2");
    set_val(a, "z", "3");
    assert_int_equal(st_shelf_begin(a), 0);
    set_val(a, "x", "10");
    set_val(a, "new", "4");
    assert_int_equal(st_shelf_del(a, "y"), 0);
    assert_int_equal(st_shelf_del(a, "y"), -1);
    expect_error(ST_EKEY, "KeyError", NULL);
    expect_val(a, "x", "10");
    assert_null(st_shelf_get(a, "y"));
    expect_error(ST_EKEY, NULL, NULL);
    assert_int_equal(st_shelf_contains(a, "y"), 0);
    assert_int_equal(st_shelf_contains(a, "new"), 1);
    assert_int_equal(st_shelf_len(a), 3);
    expect_shelf_keys(a, "new,x,z");
    /* Iteration merges the same way and survives changes made while it runs. */
    st_shelf_iterator *it = st_shelf_iter(a);
    assert_non_null(it);
    const char *key;
    char seen[64] = "";
    while (st_shelf_iterator_next(it, &key) == 1) {
        strcat(seen, key);
        set_val(a, "zz", "5");
    }
    st_shelf_iterator_free(it);
    assert_string_equal(seen, "newxz");
    assert_int_equal(st_shelf_len(a), 4);
    assert_int_equal(st_shelf_del(a, "zz"), 0);
    /* Nobody else sees it yet. */
    expect_val(b, "x", "1");
    assert_int_equal(st_shelf_contains(b, "new"), 0);
    assert_int_equal(st_shelf_abort(a), 0);
    expect_val(a, "x", "1");
    expect_shelf_keys(a, "x,y,z");

    assert_int_equal(st_shelf_begin(a), 0);
    set_val(a, "x", "10");
    set_val(a, "tmp", "0");
    assert_int_equal(st_shelf_del(a, "tmp"), 0); /* set then deleted: never reaches the file */
    assert_int_equal(st_shelf_commit(a), 0);
    expect_val(b, "x", "10");
    assert_int_equal(st_shelf_contains(b, "tmp"), 0);
    expect_shelf_keys(b, "x,y,z");

    /* Reads see one snapshot: a commit elsewhere after begin is invisible, even for keys
     * first read after it. A read-only transaction then commits without a conflict. */
    assert_int_equal(st_shelf_begin(a), 0);
    expect_val(a, "x", "10");
    set_val(b, "x", "11");
    set_val(b, "z", "33");
    expect_val(a, "x", "10");
    expect_val(a, "z", "3");
    assert_int_equal(st_shelf_len(a), 3);
    assert_int_equal(st_shelf_commit(a), 0);
    expect_val(a, "z", "33");
    st_shelf_free(a);
    st_shelf_free(b);
}

static void test_txn_conflicts(void **state)
{
    (void)state;
    const char *path = tp("txc.db");
    rm(path);
    st_shelf *a = open_shelf(path, "c", NULL, 0);
    st_shelf *b = open_shelf(path, "w", NULL, 0);
    set_val(a, "n", "0");

    /* Read-modify-write lost to another writer. */
    assert_int_equal(st_shelf_begin(a), 0);
    expect_val(a, "n", "0");
    set_val(b, "n", "5");
    set_val(a, "n", "1");
    assert_int_equal(st_shelf_commit(a), -1);
    expect_error(ST_ECONFLICT, "ConflictError", "'n'");
    assert_int_equal(st_shelf_commit(a), -1); /* the transaction is gone */
    expect_error(ST_ESTATE, NULL, NULL);
    expect_val(a, "n", "5");
    /* The retry wins. */
    assert_int_equal(st_shelf_begin(a), 0);
    expect_val(a, "n", "5");
    set_val(a, "n", "6");
    assert_int_equal(st_shelf_commit(a), 0);
    expect_val(b, "n", "6");

    /* A blind write conflicts too (write-write), also for a key another writer created. */
    assert_int_equal(st_shelf_begin(a), 0);
    set_val(a, "fresh", "'a'");
    set_val(b, "fresh", "'b'");
    assert_int_equal(st_shelf_commit(a), -1);
    expect_error(ST_ECONFLICT, "ConflictError", "'fresh'");
    expect_val(a, "fresh", "'b'");

    /* A key that was only read, changed elsewhere, conflicts with a write elsewhere. */
    assert_int_equal(st_shelf_begin(a), 0);
    expect_val(a, "n", "6");
    set_val(a, "other", "1");
    assert_int_equal(st_shelf_del(b, "n"), 0);
    assert_int_equal(st_shelf_commit(a), -1);
    expect_error(ST_ECONFLICT, "ConflictError", "'n'");
    assert_int_equal(st_shelf_contains(a, "other"), 0);

    /* Disjoint keys do not conflict. */
    assert_int_equal(st_shelf_begin(a), 0);
    set_val(a, "p", "1");
    set_val(b, "q", "2");
    assert_int_equal(st_shelf_commit(a), 0);
    expect_val(b, "p", "1");

    /* len() and keys() are reads of the whole key set. */
    assert_int_equal(st_shelf_begin(a), 0);
    assert_int_equal(st_shelf_len(a), 3);
    set_val(a, "r", "1");
    set_val(b, "s", "1");
    assert_int_equal(st_shelf_commit(a), -1);
    expect_error(ST_ECONFLICT, "ConflictError", "number of keys");
    assert_int_equal(st_shelf_begin(a), 0);
    const char **keys = st_shelf_keys(a);
    assert_non_null(keys);
    st_strv_free(keys);
    set_val(a, "r", "1");
    assert_int_equal(st_shelf_del(b, "s"), 0);
    assert_int_equal(st_shelf_commit(a), -1);
    expect_error(ST_ECONFLICT, "ConflictError", "keys");

    /* Writeback values read in a transaction are written by its commit, dropped by abort. */
    st_shelf_free(a);
    a = open_shelf(path, "w", NULL, 1);
    set_val(a, "list", "[]");
    assert_int_equal(st_shelf_begin(a), 0);
    st_value *l = st_shelf_get(a, "list");
    assert_int_equal(st_value_list_append_steal(l, st_value_int(1)), 0);
    st_value_unref(l);
    assert_int_equal(st_shelf_abort(a), 0);
    expect_val(a, "list", "[]");
    assert_int_equal(st_shelf_begin(a), 0);
    l = st_shelf_get(a, "list");
    assert_int_equal(st_value_list_append_steal(l, st_value_int(2)), 0);
    st_value_unref(l);
    assert_int_equal(st_shelf_commit(a), 0);
    expect_val(b, "list", "[2]");
    st_shelf_free(a);
    st_shelf_free(b);
}

/* ---- dbm.gnu (built only with libgdbm) --------------------------------------------------- */

static void test_raw_gnu(void **state)
{
    (void)state;
    if (have_gnu())
        raw_api("dbm.gnu");
}

static void test_shelf_gnu(void **state)
{
    (void)state;
    /* writeback() keeps a reader open beside a writer, which gdbm's lock forbids. */
    if (have_gnu())
        shelf_api("dbm.gnu");
}

static void test_gnu_files(void **state)
{
    (void)state;
    if (!have_gnu())
        return;
    const char *path = tp("g.gdbm");
    unlink(path);
    mode_t old = umask(022);
    st_dbm *db = st_dbm_open(path, "c", &DBM_OPTS("dbm.gnu", 0640));
    umask(old);
    assert_non_null(db);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0640);
    set_str(db, "k", "v");
    /* A big value, past gdbm's block size, and len() after each kind of change. */
    size_t big = 100000;
    char *buf = malloc(big);
    assert_non_null(buf);
    for (size_t i = 0; i < big; i++)
        buf[i] = (char)(i * 7);
    assert_int_equal(st_dbm_set(db, "big", 3, buf, big), 0);
    assert_int_equal(st_dbm_len(db), 2);
    size_t n;
    unsigned char *got = st_dbm_get(db, "big", 3, &n);
    assert_non_null(got);
    assert_int_equal(n, big);
    assert_memory_equal(got, buf, big);
    st_free(got);
    free(buf);
    /* gdbm locks the file: a second writer is refused with EAGAIN, as in Python. */
    assert_null(st_dbm_open(path, "w", &DBM_OPTS("dbm.gnu", 0666)));
    assert_int_equal(st_error_errno(), EAGAIN);
    expect_error(ST_EOS, "dbm.gnu.error", NULL);
    assert_int_equal(st_dbm_del(db, "big", 3), 0);
    assert_int_equal(st_dbm_len(db), 1);
    assert_int_equal(st_dbm_close(db), 0);
    st_dbm_free(db);

    /* Our file is recognised by whichdb and opened by the automatic choice. */
    assert_string_equal(st_dbm_whichdb(path), "dbm.gnu");
    db = open_db(path, "r", NULL);
    assert_string_equal(st_dbm_backend(db), "dbm.gnu");
    expect_get(db, "k", "v");
    st_dbm_free(db);
    st_shelf *sh = open_shelf(path, "w", NULL, 0);
    set_val(sh, "s", "('shelf', 1)");
    expect_val(sh, "s", "('shelf', 1)");
    /* No transactions on dbm.gnu, as on dbm.dumb. */
    assert_int_equal(st_shelf_begin(sh), -1);
    expect_error(ST_EVALUE, "ValueError", "transactions are not supported by dbm.gnu");
    assert_int_equal(st_shelf_close(sh), 0);
    st_shelf_free(sh);

    /* Files gdbm cannot read: its own messages as dbm.gnu.error. */
    st_test_write_file(tp("g.junk"), "not a gdbm file at all", 22);
    assert_null(st_dbm_open(tp("g.junk"), "r",
                            &DBM_OPTS("dbm.gnu", 0666)));
    expect_error(ST_EFORMAT, "dbm.gnu.error", NULL);
    st_test_write_file(tp("g.empty"), "", 0);
    assert_null(st_dbm_open(tp("g.empty"), "r",
                            &DBM_OPTS("dbm.gnu", 0666)));
    expect_error(ST_EFORMAT, "dbm.gnu.error", NULL);
}

/* Values both sides can write as literals, with the same repr on both. */
static const char *const GNU_VALUES[] = {
    "0", "1", "-1", "255", "256", "65536", "-2147483649", "1267650600228229401496703205376",
    "-99999999999999999999999999", "0.0", "-0.0", "1.5", "1e+100", "3.141592653589793",
    "2.5e-310", "''", "'abc'", "'ünïcödé €'", "'\\x00\\n\\t\\''", "b''", "b'\\x00\\xff'",
    "None", "True", "False", "()", "(1,)", "(1, 2, 3)", "[]", "[1, [2, [3, []]]]", "{}",
    "{'a': 1, 'b': [2.5, None]}", "{1: 'x', (2, 3): b'y'}", "[True, False, None, 'mixed', 7]",
    "(('nested',),)", NULL /* a long string, filled in below */
};
#define GNU_NVALUES (sizeof GNU_VALUES / sizeof *GNU_VALUES)

static const char *gnu_value(size_t i)
{
    static char longstr[400];
    if (GNU_VALUES[i])
        return GNU_VALUES[i];
    memset(longstr, 'x', sizeof longstr - 1);
    longstr[0] = longstr[sizeof longstr - 2] = '\'';
    longstr[sizeof longstr - 1] = 0;
    return longstr;
}

/* Runs a shell command and returns its stdout (free()); fails the test on a non-zero exit. */
static char *capture(const char *cmd)
{
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    size_t cap = 1 << 16, len = 0;
    char *out = malloc(cap);
    assert_non_null(out);
    size_t r;
    while ((r = fread(out + len, 1, cap - 1 - len, f)) > 0)
        len += r;
    out[len] = 0;
    assert_int_equal(pclose(f), 0);
    return out;
}

#define SYSTEM_PYTHON "/usr/bin/python3"

static void test_gnu_cpython_interop(void **state)
{
    (void)state;
    if (!have_gnu())
        return;
    /* gdbm files are in the writer's byte order and word size: the host's Python is another
     * machine. */
    ST_TEST_SKIP_UNDER_EMULATION("the host's python3 cannot stand for this machine's");
    if (system(SYSTEM_PYTHON " -c 'import dbm.gnu' 2>/dev/null") != 0) {
        printf("[  SKIP    ] dbm.gnu interop: " SYSTEM_PYTHON " has no dbm.gnu\n");
        return;
    }
    /* We write, Python reads: every value's repr, key by key. */
    const char *ours = tp("ours.gdbm");
    st_shelf *sh = open_shelf(ours, "n", "dbm.gnu", 0);
    char want[1 << 14] = "dbm.gnu\n";
    for (size_t i = 0; i < GNU_NVALUES; i++) {
        char key[8];
        snprintf(key, sizeof key, "k%02zu", i);
        set_val(sh, key, gnu_value(i));
        st_value *v = st_value_parse(gnu_value(i));
        char *r = st_value_repr(v);
        size_t w = strlen(want);
        snprintf(want + w, sizeof want - w, "%s %s\n", key, r);
        st_free(r);
        st_value_unref(v);
    }
    assert_int_equal(st_shelf_close(sh), 0);
    st_shelf_free(sh);
    const char *reader = tp("gnu_read.py");
    const char *rsrc = "import dbm, shelve, sys\n"
                       "print(dbm.whichdb(sys.argv[1]))\n"
                       "with shelve.open(sys.argv[1], 'r') as s:\n"
                       "    for k in sorted(s): print(k, repr(s[k]))\n";
    st_test_write_file(reader, rsrc, strlen(rsrc));
    char cmd[2048];
    snprintf(cmd, sizeof cmd, SYSTEM_PYTHON " '%s' '%s'", reader, ours);
    char *out = capture(cmd);
    assert_string_equal(out, want);
    free(out);

    /* Python writes (protocol 4, through dbm.gnu itself), we read. */
    const char *lits = tp("gnu_values.txt");
    FILE *f = fopen(lits, "w");
    assert_non_null(f);
    for (size_t i = 0; i < GNU_NVALUES; i++)
        fprintf(f, "%s\n", gnu_value(i));
    fclose(f);
    const char *writer = tp("gnu_write.py");
    const char *wsrc = "import ast, dbm.gnu, shelve, sys\n"
                       "lines = open(sys.argv[2], encoding='utf-8').read().splitlines()\n"
                       "with shelve.Shelf(dbm.gnu.open(sys.argv[1], 'n'), protocol=4) as s:\n"
                       "    for i, line in enumerate(lines): s['k%02d' % i] = ast.literal_eval(line)\n";
    st_test_write_file(writer, wsrc, strlen(wsrc));
    const char *theirs = tp("theirs.gdbm");
    snprintf(cmd, sizeof cmd, SYSTEM_PYTHON " '%s' '%s' '%s'", writer, theirs, lits);
    free(capture(cmd));
    assert_string_equal(st_dbm_whichdb(theirs), "dbm.gnu");
    sh = open_shelf(theirs, "r", NULL, 0);
    assert_int_equal(st_shelf_len(sh), (ssize_t)GNU_NVALUES);
    for (size_t i = 0; i < GNU_NVALUES; i++) {
        char key[8];
        snprintf(key, sizeof key, "k%02zu", i);
        st_value *v = st_value_parse(gnu_value(i));
        char *r = st_value_repr(v);
        expect_val(sh, key, r);
        st_free(r);
        st_value_unref(v);
    }
    st_shelf_free(sh);
}

/* ---- close, closed, free; options ------------------------------------------------------- */

/* Python's own words for a closed object, asked of the reference interpreter when there is
 * one (else the 3.13 text); caller frees. */
static char *python_closed_message(const char *code, const char *fallback)
{
    char *msg = pyref_eval(code);
    if (!msg) {
        msg = strdup(fallback);
        assert_non_null(msg);
    }
    return msg;
}

/* Every method of a closed handle fails with the backend's error; the handle itself stays. */
static void dbm_closed(const char *backend, const char *type, const char *msg)
{
    const char *path = tp("closed");
    rm(path);
    st_dbm *db = open_db(path, "c", backend);
    set_str(db, "k", "v");
    assert_int_equal(st_dbm_closed(db), 0);
    assert_int_equal(st_dbm_close(db), 0);
    assert_int_equal(st_dbm_closed(db), 1);
    assert_string_equal(st_dbm_backend(db), backend);
    size_t n;
    assert_null(st_dbm_get(db, "k", 1, &n));
    expect_error(ST_EVALUE, type, msg);
    assert_int_equal(st_dbm_set(db, "k", 1, "w", 1), -1);
    expect_error(ST_EVALUE, type, msg);
    assert_int_equal(st_dbm_del(db, "k", 1), -1);
    expect_error(ST_EVALUE, type, msg);
    assert_int_equal(st_dbm_contains(db, "k", 1), -1);
    expect_error(ST_EVALUE, type, msg);
    assert_int_equal(st_dbm_len(db), -1);
    expect_error(ST_EVALUE, type, msg);
    assert_null(st_dbm_keys(db));
    expect_error(ST_EVALUE, type, msg);
    assert_int_equal(st_dbm_sync(db), -1);
    expect_error(ST_EVALUE, type, msg);
    assert_int_equal(st_dbm_close(db), 0); /* twice is allowed */
    assert_int_equal(st_dbm_closed(db), 1);
    st_dbm_free(db);

    /* The close flushed; free closes an open handle (flushing too). */
    db = open_db(path, "w", backend);
    expect_get(db, "k", "v");
    set_str(db, "k2", "v2");
    st_dbm_free(db);
    db = open_db(path, "r", NULL);
    expect_get(db, "k2", "v2");
    st_dbm_free(db);
    rm(path);
}

static void test_dbm_close_keeps_handle(void **state)
{
    (void)state;
    char *sq = python_closed_message(
        "import dbm.sqlite3, tempfile, os\n"
        "d = dbm.sqlite3.open(os.path.join(tempfile.mkdtemp(), 'x'), 'c'); d.close()\n"
        "try: d[b'k']\n"
        "except dbm.sqlite3.error as e: print(e)",
        "DBM object has already been closed");
    char *dumb = python_closed_message(
        "import dbm.dumb, tempfile, os\n"
        "d = dbm.dumb.open(os.path.join(tempfile.mkdtemp(), 'x'), 'c'); d.close()\n"
        "try: d[b'k']\n"
        "except dbm.dumb.error as e: print(e)",
        "DBM object has already been closed");
    dbm_closed("dbm.sqlite3", "dbm.sqlite3.error", sq);
    dbm_closed("dbm.dumb", "dbm.dumb.error", dumb);
    /* _gdbmmodule.c's check_gdbmobject_open(); this CPython may lack _gdbm. */
    if (have_gnu())
        dbm_closed("dbm.gnu", "dbm.gnu.error", "GDBM object has already been closed");
    free(sq);
    free(dumb);
    assert_int_equal(st_dbm_close(NULL), 0);
    st_dbm_free(NULL);
    assert_int_equal(st_dbm_closed(NULL), -1);
    expect_error(ST_EVALUE, NULL, NULL);
}

static void shelf_closed(const char *backend, const char *msg)
{
    const char *path = tp("sclosed");
    rm(path);
    st_shelf *sh = open_shelf(path, "c", backend, 1);
    set_val(sh, "l", "[1]");
    /* Changed in place: only the writeback cache knows; close writes it, as Python's. */
    st_value *l = st_shelf_get(sh, "l");
    assert_non_null(l);
    assert_int_equal(st_value_list_append_steal(l, st_value_int(2)), 0);
    st_value_unref(l);
    assert_int_equal(st_shelf_closed(sh), 0);
    assert_int_equal(st_shelf_close(sh), 0);
    assert_int_equal(st_shelf_closed(sh), 1);
    assert_null(st_shelf_get(sh, "l"));
    expect_error(ST_EVALUE, "ValueError", msg);
    assert_int_equal(st_shelf_set(sh, "l", st_value_none()), -1);
    expect_error(ST_EVALUE, "ValueError", msg);
    assert_int_equal(st_shelf_del(sh, "l"), -1);
    expect_error(ST_EVALUE, "ValueError", msg);
    assert_int_equal(st_shelf_contains(sh, "l"), -1);
    expect_error(ST_EVALUE, "ValueError", msg);
    assert_int_equal(st_shelf_len(sh), -1);
    expect_error(ST_EVALUE, "ValueError", msg);
    assert_null(st_shelf_keys(sh));
    expect_error(ST_EVALUE, "ValueError", msg);
    assert_null(st_shelf_iter(sh));
    expect_error(ST_EVALUE, "ValueError", msg);
    assert_int_equal(st_shelf_sync(sh), -1);
    expect_error(ST_EVALUE, "ValueError", msg);
    assert_int_equal(st_shelf_begin(sh), -1);
    expect_error(ST_EVALUE, "ValueError", msg);
    assert_int_equal(st_shelf_commit(sh), -1);
    expect_error(ST_EVALUE, "ValueError", msg);
    assert_int_equal(st_shelf_abort(sh), -1);
    expect_error(ST_EVALUE, "ValueError", msg);
    assert_int_equal(st_shelf_close(sh), 0); /* twice is allowed */
    st_shelf_free(sh);

    /* Free without close syncs the writeback cache too. */
    sh = open_shelf(path, "w", backend, 1);
    expect_val(sh, "l", "[1, 2]");
    l = st_shelf_get(sh, "l");
    assert_int_equal(st_value_list_append_steal(l, st_value_int(3)), 0);
    st_value_unref(l);
    st_shelf_free(sh);
    sh = open_shelf(path, "r", backend, 0);
    expect_val(sh, "l", "[1, 2, 3]");
    st_shelf_free(sh);

    /* An iterator made before the close holds its keys. */
    sh = open_shelf(path, "r", backend, 0);
    st_shelf_iterator *it = st_shelf_iter(sh);
    assert_non_null(it);
    assert_int_equal(st_shelf_close(sh), 0);
    const char *k;
    assert_int_equal(st_shelf_iterator_next(it, &k), 1);
    assert_string_equal(k, "l");
    assert_int_equal(st_shelf_iterator_next(it, &k), 0);
    st_shelf_iterator_free(it);
    st_shelf_free(sh);
    rm(path);
}

static void test_shelf_close_keeps_handle(void **state)
{
    (void)state;
    char *msg = python_closed_message(
        "import shelve, tempfile, os\n"
        "s = shelve.open(os.path.join(tempfile.mkdtemp(), 'x'), 'c'); s.close()\n"
        "try: s['k']\n"
        "except ValueError as e: print(e)",
        "invalid operation on closed shelf");
    assert_string_equal(msg, "invalid operation on closed shelf");
    shelf_closed("dbm.sqlite3", msg);
    shelf_closed("dbm.dumb", msg);
    free(msg);

    /* An open transaction is aborted by the close. */
    const char *path = tp("txnclose");
    rm(path);
    st_shelf *sh = open_shelf(path, "c", "dbm.sqlite3", 0);
    set_val(sh, "a", "1");
    assert_int_equal(st_shelf_begin(sh), 0);
    set_val(sh, "a", "2");
    assert_int_equal(st_shelf_close(sh), 0);
    st_shelf_free(sh);
    sh = open_shelf(path, "r", NULL, 0);
    expect_val(sh, "a", "1");
    st_shelf_free(sh);
    assert_int_equal(st_shelf_close(NULL), 0);
    st_shelf_free(NULL);
    assert_int_equal(st_shelf_closed(NULL), -1);
    expect_error(ST_EVALUE, NULL, NULL);
}

/* Rule 5: INIT is the zeroed struct with its version, _init() gives the same, version 0 is
 * refused, NULL and zero fields mean Python's defaults. */
static void test_options_defaults(void **state)
{
    (void)state;
    ST_ASSERT_OPTIONS_INIT(st_dbm_options, ST_DBM_OPTIONS_INIT, ST_DBM_OPTIONS_VERSION,
                           st_dbm_options_init);
    ST_ASSERT_OPTIONS_INIT(st_shelve_options, ST_SHELVE_OPTIONS_INIT, ST_SHELVE_OPTIONS_VERSION,
                           st_shelve_options_init);
    st_dbm_options d = ST_DBM_OPTIONS_INIT;
    st_shelve_options s = ST_SHELVE_OPTIONS_INIT;

    /* Version 0 (never initialised) fails with ValueError saying so. */
    const char *path = tp("opts");
    rm(path);
    st_dbm_options d0 = {0};
    assert_null(st_dbm_open(path, "c", &d0));
    expect_error(ST_EVALUE, "ValueError", "st_dbm_options");
    st_shelve_options s0 = {0};
    assert_null(st_shelve_open(path, "c", &s0));
    expect_error(ST_EVALUE, "ValueError", "st_shelve_options");
    st_pickle_load_options l0 = {0};
    s.load = &l0;
    assert_null(st_shelve_open(path, "c", &s));
    expect_error(ST_EVALUE, "ValueError", "st_pickle_load_options");
    s.load = NULL;

    /* Zero mode is Python's 0o666 (less the umask); NULL options are the defaults too. */
    mode_t old = umask(022);
    const char *backends[] = {"dbm.sqlite3", "dbm.dumb"};
    const char *files[] = {"", ".dat"};
    for (size_t i = 0; i < 2; i++) {
        for (int m = 0; m < 3; m++) {
            rm(path);
            d.backend = backends[i];
            d.mode = m == 2 ? 0600 : 0;
            st_dbm *db = m == 1 && i == 0 ? st_dbm_open(path, "c", NULL)
                                          : st_dbm_open(path, "c", &d);
            assert_non_null(db);
            assert_string_equal(st_dbm_backend(db), backends[i]);
            st_dbm_free(db);
            char file[600];
            snprintf(file, sizeof file, "%s%s", path, files[i]);
            struct stat st;
            assert_int_equal(stat(file, &st), 0);
            assert_int_equal(st.st_mode & 0777, m == 2 ? 0600 : 0644);
        }
    }
    umask(old);

    /* A zeroed shelve struct: pickle protocol 4 (Python's None), no writeback. */
    rm(path);
    st_shelf *sh = st_shelve_open(path, "c", &s);
    assert_non_null(sh);
    set_val(sh, "p", "[1]");
    st_value *l = st_shelf_get(sh, "p");
    assert_int_equal(st_value_list_append_steal(l, st_value_int(2)), 0);
    st_value_unref(l);
    st_shelf_free(sh);
    st_dbm *db = open_db(path, "r", NULL);
    size_t n;
    unsigned char *raw = st_dbm_get(db, "p", 1, &n);
    assert_non_null(raw);
    assert_int_equal(raw[0], 0x80);
    assert_int_equal(raw[1], ST_PICKLE_DEFAULT_PROTOCOL);
    st_free(raw);
    st_dbm_free(db);
    sh = st_shelve_open(path, "r", NULL);
    assert_non_null(sh);
    expect_val(sh, "p", "[1]"); /* no writeback: the change in place was not saved */
    st_shelf_free(sh);
    rm(path);
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_whichdb),
        cmocka_unit_test(test_open_dispatch),
        cmocka_unit_test(test_raw_sqlite3),
        cmocka_unit_test(test_sqlite3_empty_name),
        cmocka_unit_test(test_durability),
        cmocka_unit_test(test_options_version_1),
        cmocka_unit_test(test_serializer),
        cmocka_unit_test(test_raw_dumb),
        cmocka_unit_test(test_sqlite3_schema),
        cmocka_unit_test(test_dumb_bytes_like_cpython),
        cmocka_unit_test(test_dumb_files),
        cmocka_unit_test(test_dumb_dir_parser),
        cmocka_unit_test(test_dumb_parse_line_direct),
        cmocka_unit_test(test_shelf_cpython_vectors),
        cmocka_unit_test(test_shelf_sqlite3),
        cmocka_unit_test(test_shelf_dumb),
        cmocka_unit_test(test_writeback_sqlite3),
        cmocka_unit_test(test_writeback_dumb),
        cmocka_unit_test(test_txn_states),
        cmocka_unit_test(test_txn_own_view),
        cmocka_unit_test(test_txn_conflicts),
        cmocka_unit_test(test_dbm_close_keeps_handle),
        cmocka_unit_test(test_shelf_close_keeps_handle),
        cmocka_unit_test(test_options_defaults),
        cmocka_unit_test(test_raw_gnu),
        cmocka_unit_test(test_shelf_gnu),
        cmocka_unit_test(test_gnu_files),
        cmocka_unit_test(test_gnu_cpython_interop),
    };
    int failed = cmocka_run_group_tests_name("shelve", tests, setup, teardown);
    return failed + run_shelve_proof_tests();
}
