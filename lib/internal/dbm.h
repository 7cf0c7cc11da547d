/* Internal: the dbm backend interface behind st_dbm, and the hooks shelve's transactions use.
 * Never installed. */
#ifndef ST_INTERNAL_DBM_H
#define ST_INTERNAL_DBM_H

#include "error.h"
#include "mem.h"
#include "systools/dbm.h"

/* An OSError of a dbm module's own type ("dbm.error", "dbm.sqlite3.error") with its errno. */
#define ST__DBM_RAISE_OS(err, type, ...) \
    st__raise(ST_EOS, (err), (type), __func__, __FILE__, __LINE__, __VA_ARGS__)

/* What a transaction asks of the backend (dbm.sqlite3 only). */
typedef enum st__dbm_txn_op {
    ST__TXN_BEGIN_READ,  /* start a read transaction and fix its snapshot now */
    ST__TXN_BEGIN_WRITE, /* take the write lock (waits up to the busy timeout) */
    ST__TXN_COMMIT,      /* commit (or end a read transaction) */
    ST__TXN_ROLLBACK     /* roll back; never fails for want of an open transaction */
} st__dbm_txn_op;

/* One backend. Each function sets the error on failure; get raises KeyError for a missing
 * key, del too. The handle's memory is st_dbm's first member of the backend's own struct.
 * st_dbm calls no function but close on a closed handle. */
typedef struct st__dbm_ops {
    const char *name;
    const char *error_type; /* Python's exception type, e.g. "dbm.sqlite3.error" */
    const char *closed_msg; /* what Python says for any use once closed */
    unsigned char *(*get)(st_dbm *db, const void *key, size_t klen, size_t *vlen);
    int (*set)(st_dbm *db, const void *key, size_t klen, const void *value, size_t vlen);
    int (*del)(st_dbm *db, const void *key, size_t klen);
    int (*contains)(st_dbm *db, const void *key, size_t klen);
    ssize_t (*len)(st_dbm *db);
    st_value *(*keys)(st_dbm *db);
    int (*sync)(st_dbm *db);
    /* Flushes and releases the files and all the backend's memory but the handle itself
     * (st_free()d by st_dbm_free()), even on failure. */
    int (*close)(st_dbm *db);
    int (*txn)(st_dbm *db, st__dbm_txn_op op); /* NULL: no transactions */
} st__dbm_ops;

struct st_dbm {
    const st__dbm_ops *ops;
    int closed;
};

/* Backend openers; flag is one of "r", "w", "c", "n" (checked by the caller). */
#ifdef ST_HAVE_SQLITE3
st_dbm *st__dbm_sqlite3_open(const char *filename, const char *flag, int mode,
                             st_dbm_durability durability);
#endif
st_dbm *st__dbm_dumb_open(const char *filename, const char *flag, int mode);
#ifdef ST_HAVE_GDBM
st_dbm *st__dbm_gnu_open(const char *filename, const char *flag, int mode);
#endif

/* The dumb .dir index parser, exposed for the fuzz target: parses one line (without its end
 * of line, already stripped as dumb.py strips it) into the key bytes (st_free) and the
 * position and size. Raises dbm.dumb.error naming line `lineno` of `path`. */
int st__dbm_dumb_parse_line(const char *line, size_t len, const char *path, size_t lineno,
                            char **key, size_t *klen, long long *pos, long long *siz);

/* KeyError(key) for the key bytes, with Python's message (the repr of the bytes); -1. */
int st__dbm_raise_key(const void *key, size_t klen);

/* Appends the index line dumb.py writes for an entry: `'key', (pos, siz)` and a newline. */
int st__dbm_dumb_format_entry(st__buf *out, const void *key, size_t klen, long long pos,
                              long long siz);

/* Transaction control for shelve; ValueError ("transactions are not supported by dbm.dumb")
 * on a backend without it. */
int st__dbm_txn(st_dbm *db, st__dbm_txn_op op);

#endif
