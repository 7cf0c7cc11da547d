/* dbm: whichdb, the open dispatch of Python's dbm package, and the raw bytes API over the
 * backends (sqlite3.c, dumb.c, gnu.c beside this file when built with libgdbm). */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal/dbm.h"
#include "internal/mem.h"
#include "internal/options.h"
#include "internal/os.h"

/* ---- whichdb --------------------------------------------------------------------------------- */

/* Opens a file as Python's io.open(name, "rb") does: a directory is an error (EISDIR). */
static int open_rb(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat st;
    int err = fstat(fd, &st) < 0 ? errno : S_ISDIR(st.st_mode) ? EISDIR : 0;
    if (err) {
        close(fd);
        errno = err;
        return -1;
    }
    return fd;
}

static int can_open(const char *path)
{
    int fd = open_rb(path);
    if (fd < 0)
        return 0;
    close(fd);
    return 1;
}

/* Reads up to n bytes (fewer only at end of file); -1 with errno. */
static ssize_t read_upto(int fd, unsigned char *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = st__read_retry(fd, buf + got, n - got);
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

/* 1 when base.dat exists and base.dir is empty or starts with a quote, as dumb.py writes it. */
static int looks_dumb(const char *dat, const char *dir)
{
    struct stat st;
    if (stat(dat, &st) < 0 || stat(dir, &st) < 0)
        return 0;
    if (st.st_size == 0)
        return 1;
    int fd = open_rb(dir);
    if (fd < 0)
        return 0;
    unsigned char c = 0;
    ssize_t n = read_upto(fd, &c, 1);
    close(fd);
    return n == 1 && (c == '\'' || c == '"');
}

const char *st_dbm_whichdb(const char *filename)
{
    if (!filename)
        return (ST_RAISE(ST_ETYPE, "filename must not be NULL"), NULL);
    char *pag = st__asprintf("%s.pag", filename);
    char *dir = st__asprintf("%s.dir", filename);
    char *dat = st__asprintf("%s.dat", filename);
    const char *result = NULL;
    if (!pag || !dir || !dat)
        goto done;
    /* This build has no dbm.ndbm, like a CPython built without _dbm: filename.db is not
     * probed, but the .pag/.dir pair is recognised by name as Python's first test does. */
    if (can_open(pag) && can_open(dir)) {
        result = "dbm.ndbm";
        goto done;
    }
    if (looks_dumb(dat, dir)) {
        result = "dbm.dumb";
        goto done;
    }
    int fd = open_rb(filename);
    if (fd < 0) {
        ST_RAISE_OS(errno, "cannot open '%s'", filename);
        goto done;
    }
    unsigned char s16[16];
    ssize_t n = read_upto(fd, s16, sizeof s16);
    int err = errno;
    close(fd);
    if (n < 0) {
        ST_RAISE_OS(err, "cannot read '%s'", filename);
        goto done;
    }
    result = "";
    if (n < 4)
        goto done;
    if (n == 16 && memcmp(s16, "SQLite format 3", 16) == 0) {
        result = "dbm.sqlite3";
        goto done;
    }
    /* struct.unpack("=l"): a 4-byte int in the machine's byte order. */
    int32_t magic;
    memcpy(&magic, s16, sizeof magic);
    if (magic == 0x13579ace || magic == 0x13579acd || magic == 0x13579acf)
        result = "dbm.gnu";
done:
    st_free(pag);
    st_free(dir);
    st_free(dat);
    return result;
}

/* ---- open --------------------------------------------------------------------------------- */

static int check_flag(const char *flag)
{
    if (flag && (strcmp(flag, "r") == 0 || strcmp(flag, "w") == 0 || strcmp(flag, "c") == 0 ||
                 strcmp(flag, "n") == 0))
        return 0;
    return ST_RAISE(ST_EVALUE, "Flag must be one of 'r', 'w', 'c', or 'n', not '%s'",
                    flag ? flag : "None");
}

static st_dbm *open_backend(const char *name, const char *filename, const char *flag, int mode,
                            st_dbm_durability durability)
{
#ifdef ST_HAVE_SQLITE3
    if (strcmp(name, "dbm.sqlite3") == 0)
        return st__dbm_sqlite3_open(filename, flag, mode, durability);
#endif
    if (durability != ST_DBM_DURABILITY_FULL && strcmp(name, "dbm.sqlite3") != 0)
        return (ST_RAISE(ST_EVALUE, "durability is an option of dbm.sqlite3, not of %s", name),
                NULL);
    if (strcmp(name, "dbm.dumb") == 0)
        return st__dbm_dumb_open(filename, flag, mode);
#ifdef ST_HAVE_GDBM
    if (strcmp(name, "dbm.gnu") == 0)
        return st__dbm_gnu_open(filename, flag, mode);
#endif
    if (strcmp(name, "dbm.sqlite3") == 0 || strcmp(name, "dbm.gnu") == 0 ||
        strcmp(name, "dbm.ndbm") == 0)
        return (ST_RAISE_AS(ST_ENOTSUP, "dbm.error",
                            "db type is %s, but the module is not available "
                            "(libsystools is built without it)",
                            name),
                NULL);
    return (ST_RAISE(ST_EVALUE, "unknown dbm backend '%s'", name), NULL);
}

/* dbm._defaultmod: the first of dbm._names (sqlite3, gnu, ndbm, dumb) that this build has. */
static const char *default_backend(void)
{
#if defined(ST_HAVE_SQLITE3)
    return "dbm.sqlite3";
#elif defined(ST_HAVE_GDBM)
    return "dbm.gnu";
#else
    return "dbm.dumb";
#endif
}

int st_dbm_options_init(st_dbm_options *opts, unsigned int version)
{
    return st__options_init(opts,
                            ST_OPTIONS_SIZES(offsetof(st_dbm_options, durability), sizeof *opts),
                            version, ST_DBM_OPTIONS_VERSION, "st_dbm_options");
}

st_dbm *st_dbm_open(const char *filename, const char *flag, const st_dbm_options *opts)
{
    static const st_dbm_options defaults = ST_DBM_OPTIONS_INIT;
    if (ST_OPTIONS_CHECK(opts, ST_DBM_OPTIONS_VERSION, "st_dbm_options") < 0)
        return NULL;
    if (!opts)
        opts = &defaults;
    /* Python's mode=0o666, which a zeroed struct spells 0. */
    int mode = opts->mode ? opts->mode : 0666;
    st_dbm_durability durability = opts->version >= 2 ? opts->durability : ST_DBM_DURABILITY_FULL;
    if ((unsigned)durability > ST_DBM_DURABILITY_OFF)
        return (ST_RAISE(ST_EVALUE, "unknown durability %d", (int)durability), NULL);
    if (!filename)
        return (ST_RAISE(ST_ETYPE, "filename must not be NULL"), NULL);
    if (check_flag(flag) < 0)
        return NULL;
    if (opts->backend && *opts->backend)
        return open_backend(opts->backend, filename, flag, mode, durability);

    const char *kind = NULL;
    if (*flag != 'n') {
        kind = st_dbm_whichdb(filename);
        if (!kind)
            st_error_clear();
    }
    if (!kind) {
        if (*flag != 'c' && *flag != 'n')
            return (ST__DBM_RAISE_OS(ENOENT, "dbm.error", "db file doesn't exist; "
                                     "use 'c' or 'n' flag to create a new db"),
                    NULL);
        kind = default_backend();
    } else if (!*kind) {
        return (ST_RAISE_AS(ST_EFORMAT, "dbm.error", "db type could not be determined"), NULL);
    }
    return open_backend(kind, filename, flag, mode, durability);
}

/* ---- the raw API ------------------------------------------------------------------------- */

const char *st_dbm_backend(const st_dbm *db) { return db->ops->name; }

/* The backend's error for any use of a closed handle, as Python words it; -1. */
static int raise_closed(const st_dbm *db)
{
    return ST_RAISE_AS(ST_EVALUE, db->ops->error_type, "%s", db->ops->closed_msg);
}

#define CHECK_OPEN(db, fail)                   \
    do {                                       \
        if ((db)->closed)                      \
            return (raise_closed(db), (fail)); \
    } while (0)

unsigned char *st_dbm_get(st_dbm *db, const void *key, size_t klen, size_t *vlen)
{
    CHECK_OPEN(db, NULL);
    return db->ops->get(db, key, klen, vlen);
}

int st_dbm_set(st_dbm *db, const void *key, size_t klen, const void *value, size_t vlen)
{
    CHECK_OPEN(db, -1);
    return db->ops->set(db, key, klen, value, vlen);
}

int st_dbm_del(st_dbm *db, const void *key, size_t klen)
{
    CHECK_OPEN(db, -1);
    return db->ops->del(db, key, klen);
}

int st_dbm_contains(st_dbm *db, const void *key, size_t klen)
{
    CHECK_OPEN(db, -1);
    return db->ops->contains(db, key, klen);
}

ssize_t st_dbm_len(st_dbm *db)
{
    CHECK_OPEN(db, -1);
    return db->ops->len(db);
}

st_value *st_dbm_keys(st_dbm *db)
{
    CHECK_OPEN(db, NULL);
    return db->ops->keys(db);
}

int st_dbm_sync(st_dbm *db)
{
    CHECK_OPEN(db, -1);
    return db->ops->sync(db);
}

int st_dbm_close(st_dbm *db)
{
    if (!db || db->closed)
        return 0;
    db->closed = 1;
    return db->ops->close(db);
}

int st_dbm_closed(const st_dbm *db)
{
    if (!db)
        return ST_RAISE(ST_EVALUE, "db must not be NULL");
    return db->closed;
}

void st_dbm_free(st_dbm *db)
{
    if (!db)
        return;
    (void)st_dbm_close(db);
    st_free(db);
}

int st__dbm_raise_key(const void *key, size_t klen)
{
    st_value *k = st_value_bytes(key, klen);
    char *repr = k ? st_value_repr(k) : NULL;
    st_value_unref(k);
    if (!repr)
        return -1;
    ST_RAISE(ST_EKEY, "%s", repr);
    st_free(repr);
    return -1;
}

int st__dbm_txn(st_dbm *db, st__dbm_txn_op op)
{
    if (!db->ops->txn)
        return ST_RAISE(ST_EVALUE, "transactions are not supported by %s", db->ops->name);
    return db->ops->txn(db, op);
}
