/* dbm.sqlite3: CPython 3.13's dbm/sqlite3.py through libsqlite3 — the same table, the same SQL,
 * the same URI open modes — with every statement prepared once per handle. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal/dbm.h"
#include "internal/mem.h"

#define ERROR_TYPE "dbm.sqlite3.error"
/* Python's sqlite3.connect() default timeout (5.0 s): concurrent writers wait, then fail. */
#define BUSY_TIMEOUT_MS 5000

enum {
    Q_SIZE,
    Q_LOOKUP,
    Q_STORE,
    Q_DELETE,
    Q_ITER,
    Q_BEGIN,
    Q_BEGIN_IMMEDIATE,
    Q_COMMIT,
    Q_ROLLBACK,
    Q_PROBE,
    Q_COUNT
};

/* dbm/sqlite3.py's statements, verbatim, then the transaction control shelve uses. */
static const char *const SQL[Q_COUNT] = {
    "SELECT COUNT (key) FROM Dict",
    "SELECT value FROM Dict WHERE key = CAST(? AS BLOB)",
    "REPLACE INTO Dict (key, value) VALUES (CAST(? AS BLOB), CAST(? AS BLOB))",
    "DELETE FROM Dict WHERE key = CAST(? AS BLOB)",
    "SELECT key FROM Dict",
    "BEGIN DEFERRED",
    "BEGIN IMMEDIATE",
    "COMMIT",
    "ROLLBACK",
    /* The first read of a deferred transaction fixes its WAL snapshot. */
    "SELECT 1 FROM Dict LIMIT 1",
};

static const char BUILD_TABLE[] = "\n  CREATE TABLE IF NOT EXISTS Dict (\n"
                                  "    key BLOB UNIQUE NOT NULL,\n"
                                  "    value BLOB NOT NULL\n"
                                  "  )\n";

typedef struct sq_db {
    st_dbm base;
    sqlite3 *cx;
    sqlite3_stmt *stmt[Q_COUNT]; /* prepared on first use */
} sq_db;

/* sqlite3.Error -> dbm.sqlite3.error with str(exc), the code telling the C caller more. */
static int raise_sq(sqlite3 *cx, int rc)
{
    const char *msg = cx ? sqlite3_errmsg(cx) : sqlite3_errstr(rc);
    int sys = cx ? sqlite3_system_errno(cx) : 0;
    switch (rc & 0xff) {
    case SQLITE_NOMEM:
        return ST_RAISE_NOMEM();
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return ST_RAISE_AS(ST_ETIMEOUT, ERROR_TYPE, "%s", msg);
    case SQLITE_READONLY:
        return ST_RAISE_AS(ST_ESTATE, ERROR_TYPE, "%s", msg);
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_PERM:
        if (sys)
            return ST__DBM_RAISE_OS(sys, ERROR_TYPE, "%s", msg);
        return ST_RAISE_AS(ST_EFORMAT, ERROR_TYPE, "%s", msg);
    default:
        return ST_RAISE_AS(ST_EFORMAT, ERROR_TYPE, "%s", msg);
    }
}

static sqlite3_stmt *stmt(sq_db *q, int which)
{
    if (q->stmt[which])
        return q->stmt[which];
    int rc = sqlite3_prepare_v3(q->cx, SQL[which], -1, SQLITE_PREPARE_PERSISTENT,
                                &q->stmt[which], NULL);
    if (rc != SQLITE_OK) {
        raise_sq(q->cx, rc);
        q->stmt[which] = NULL;
    }
    return q->stmt[which];
}

/* Steps a statement that returns no rows and resets it. */
static int run(sq_db *q, int which)
{
    sqlite3_stmt *s = stmt(q, which);
    if (!s)
        return -1;
    int rc = sqlite3_step(s);
    while (rc == SQLITE_ROW)
        rc = sqlite3_step(s);
    int ret = rc == SQLITE_DONE ? 0 : raise_sq(q->cx, rc);
    sqlite3_reset(s);
    return ret;
}

/* A blob binding: a NULL pointer would bind SQL NULL, not b''. */
static int bind_blob(sq_db *q, sqlite3_stmt *s, int i, const void *p, size_t n)
{
    int rc = sqlite3_bind_blob64(s, i, n ? p : "", n, SQLITE_STATIC);
    return rc == SQLITE_OK ? 0 : raise_sq(q->cx, rc);
}

/* Runs LOOKUP for key: 1 with the statement on its row (the caller resets it), 0 absent
 * (reset), -1 error (reset). */
static int lookup(sq_db *q, const void *key, size_t klen, sqlite3_stmt **out)
{
    sqlite3_stmt *s = stmt(q, Q_LOOKUP);
    if (!s || bind_blob(q, s, 1, key, klen) < 0)
        return -1;
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *out = s;
        return 1;
    }
    int ret = rc == SQLITE_DONE ? 0 : raise_sq(q->cx, rc);
    sqlite3_reset(s);
    return ret;
}

static unsigned char *sq_get(st_dbm *db, const void *key, size_t klen, size_t *vlen)
{
    sq_db *q = (sq_db *)db;
    sqlite3_stmt *s;
    int found = lookup(q, key, klen, &s);
    if (found <= 0) {
        if (found == 0)
            st__dbm_raise_key(key, klen);
        return NULL;
    }
    const void *p = sqlite3_column_blob(s, 0);
    size_t n = (size_t)sqlite3_column_bytes(s, 0);
    unsigned char *out = st__malloc(n + 1);
    if (out) {
        if (n)
            memcpy(out, p, n);
        out[n] = 0;
        *vlen = n;
    }
    sqlite3_reset(s);
    return out;
}

static int sq_set(st_dbm *db, const void *key, size_t klen, const void *value, size_t vlen)
{
    sq_db *q = (sq_db *)db;
    sqlite3_stmt *s = stmt(q, Q_STORE);
    if (!s || bind_blob(q, s, 1, key, klen) < 0 || bind_blob(q, s, 2, value, vlen) < 0)
        return -1;
    return run(q, Q_STORE);
}

static int sq_del(st_dbm *db, const void *key, size_t klen)
{
    sq_db *q = (sq_db *)db;
    sqlite3_stmt *s = stmt(q, Q_DELETE);
    if (!s || bind_blob(q, s, 1, key, klen) < 0 || run(q, Q_DELETE) < 0)
        return -1;
    return sqlite3_changes(q->cx) ? 0 : st__dbm_raise_key(key, klen);
}

static int sq_contains(st_dbm *db, const void *key, size_t klen)
{
    sq_db *q = (sq_db *)db;
    sqlite3_stmt *s;
    int found = lookup(q, key, klen, &s);
    if (found == 1)
        sqlite3_reset(s);
    return found;
}

static ssize_t sq_len(st_dbm *db)
{
    sq_db *q = (sq_db *)db;
    sqlite3_stmt *s = stmt(q, Q_SIZE);
    if (!s)
        return -1;
    int rc = sqlite3_step(s);
    sqlite3_int64 count = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    ssize_t n = rc != SQLITE_ROW ? raise_sq(q->cx, rc)
                : count > SSIZE_MAX /* len() of a 32-bit CPython */
                    ? ST_RAISE(ST_EOVERFLOW, "cannot fit 'int' into an index-sized integer")
                    : (ssize_t)count;
    sqlite3_reset(s);
    return n;
}

static st_value *sq_keys(st_dbm *db)
{
    sq_db *q = (sq_db *)db;
    sqlite3_stmt *s = stmt(q, Q_ITER);
    st_value *list = s ? st_value_list() : NULL;
    if (!list)
        return NULL;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        st_value *k = st_value_bytes(sqlite3_column_blob(s, 0),
                                     (size_t)sqlite3_column_bytes(s, 0));
        if (!k || st_value_list_append_steal(list, k) < 0)
            goto fail;
    }
    if (rc != SQLITE_DONE) {
        raise_sq(q->cx, rc);
        goto fail;
    }
    sqlite3_reset(s);
    return list;
fail:
    sqlite3_reset(s);
    st_value_unref(list);
    return NULL;
}

/* Python's dbm.sqlite3 has no sync(): every write is committed already. */
static int sq_sync(st_dbm *db) { return 0; }

static int sq_close(st_dbm *db)
{
    sq_db *q = (sq_db *)db;
    for (int i = 0; i < Q_COUNT; i++)
        sqlite3_finalize(q->stmt[i]);
    int rc = sqlite3_close(q->cx);
    int ret = rc == SQLITE_OK ? 0 : raise_sq(NULL, rc);
    if (rc != SQLITE_OK)
        sqlite3_close_v2(q->cx); /* frees the connection once nothing uses it */
    q->cx = NULL;
    memset(q->stmt, 0, sizeof q->stmt);
    return ret;
}

static int sq_txn(st_dbm *db, st__dbm_txn_op op)
{
    sq_db *q = (sq_db *)db;
    switch (op) {
    case ST__TXN_BEGIN_READ:
        if (run(q, Q_BEGIN) < 0)
            return -1;
        if (run(q, Q_PROBE) < 0) {
            run(q, Q_ROLLBACK);
            return -1;
        }
        return 0;
    case ST__TXN_BEGIN_WRITE:
        return run(q, Q_BEGIN_IMMEDIATE);
    case ST__TXN_COMMIT:
        return run(q, Q_COMMIT);
    case ST__TXN_ROLLBACK:
        return sqlite3_get_autocommit(q->cx) ? 0 : run(q, Q_ROLLBACK);
    }
    return ST_RAISE(ST_EVALUE, "bad transaction operation");
}

static const st__dbm_ops SQLITE3_OPS = {
    "dbm.sqlite3", ERROR_TYPE, "DBM object has already been closed",
    sq_get, sq_set, sq_del, sq_contains, sq_len, sq_keys, sq_sync, sq_close, sq_txn,
};

/* Path(path).touch(mode, exist_ok=True): the mtime refreshed if the path exists (a directory
 * too: then SQLite fails to open it, as in Python), else the file created. */
static int touch(const char *path, int mode)
{
    if (utimensat(AT_FDCWD, path, NULL, 0) == 0)
        return 0;
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, (mode_t)mode);
    if (fd < 0)
        return ST_RAISE_OS(errno, "cannot create '%s'", path);
    close(fd);
    return 0;
}

/* dbm/sqlite3.py's _normalize_uri(): "file:" + the absolute path percent-encoded as
 * Path.as_uri() does, "//" collapsed, then "?mode=...". */
static char *make_uri(const char *path, const char *mode)
{
    st__buf abs = ST__BUF_INIT, uri = ST__BUF_INIT;
    if (path[0] != '/') {
        char *cwd = getcwd(NULL, 0);
        if (!cwd)
            return (ST_RAISE_OS(errno, "cannot get the current directory"), NULL);
        int rc = st__buf_printf(&abs, "%s/", cwd);
        free(cwd);
        if (rc < 0)
            return NULL;
    }
    if (st__buf_puts(&abs, path) < 0 || st__buf_puts(&uri, "file://") < 0)
        goto fail;
    for (size_t i = 0; i < abs.len; i++) {
        unsigned char c = (unsigned char)abs.data[i];
        int plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    strchr("_.-~/", c);
        if (c && plain ? st__buf_putc(&uri, (char)c) < 0
                       : st__buf_printf(&uri, "%%%02X", c) < 0)
            goto fail;
    }
    /* Collapsing runs of '/' in one pass gives what Python's repeated replace gives. */
    size_t w = 0;
    for (size_t r = 0; r < uri.len; r++)
        if (!(uri.data[r] == '/' && w > 0 && uri.data[w - 1] == '/'))
            uri.data[w++] = uri.data[r];
    uri.len = w;
    uri.data[w] = 0;
    if (st__buf_printf(&uri, "?mode=%s", mode) < 0)
        goto fail;
    st__buf_free(&abs);
    return st__buf_detach(&uri);
fail:
    st__buf_free(&abs);
    st__buf_free(&uri);
    return NULL;
}

st_dbm *st__dbm_sqlite3_open(const char *filename, const char *flag, int mode,
                             st_dbm_durability durability)
{
    static const char *const SYNC[] = {"PRAGMA synchronous = FULL", "PRAGMA synchronous = NORMAL",
                                       "PRAGMA synchronous = OFF"};
    const char *umode = "rwc", *path = *filename ? filename : "."; /* Path("") is "." */
    switch (*flag) {
    case 'r':
        umode = "ro";
        break;
    case 'w':
        umode = "rw";
        break;
    case 'n':
        if (unlink(path) < 0 && errno != ENOENT)
            return (ST_RAISE_OS(errno, "cannot remove '%s'", path), NULL);
        /* fall through */
    case 'c':
        if (touch(path, mode) < 0)
            return NULL;
        break;
    }
    char *uri = make_uri(filename, umode);
    sq_db *q = uri ? st__calloc(1, sizeof *q) : NULL;
    if (!q) {
        st_free(uri);
        return NULL;
    }
    q->base.ops = &SQLITE3_OPS;
    /* One handle is used by one thread at a time, so SQLite's own mutexes are not needed. */
    int rc = sqlite3_open_v2(uri, &q->cx,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI |
                                 SQLITE_OPEN_NOMUTEX,
                             NULL);
    st_free(uri);
    if (rc != SQLITE_OK) {
        raise_sq(q->cx, rc);
        sq_close(&q->base);
        st_free(q);
        return NULL;
    }
    sqlite3_extended_result_codes(q->cx, 1);
    sqlite3_busy_timeout(q->cx, BUSY_TIMEOUT_MS);
    /* As Python: WAL is an optimisation only, so a failure to switch is ignored. FULL (what
     * Python gets from SQLite's default) syncs every commit; see st_dbm_durability. */
    (void)sqlite3_exec(q->cx, SYNC[durability], NULL, NULL, NULL); /* first: it governs all */
    (void)sqlite3_exec(q->cx, "PRAGMA journal_mode = wal", NULL, NULL, NULL);
    if (strcmp(umode, "rwc") == 0) {
        rc = sqlite3_exec(q->cx, BUILD_TABLE, NULL, NULL, NULL);
        if (rc != SQLITE_OK) {
            raise_sq(q->cx, rc);
            sq_close(&q->base);
            st_free(q);
            return NULL;
        }
    }
    return &q->base;
}
