/* dbm.gnu: CPython's Modules/_gdbmmodule.c over libgdbm — the same gdbm_open() flags and
 * calls, so a file written here is the file Python's dbm.gnu writes. Built only when CMake
 * found libgdbm (ST_HAVE_GDBM). */
#include <errno.h>
#include <gdbm.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "internal/dbm.h"
#include "internal/mem.h"

/* gdbm_close() and gdbm_sync() report errors and gdbm_errno is per thread from 1.17 on. */
#if GDBM_VERSION_MAJOR < 1 || (GDBM_VERSION_MAJOR == 1 && GDBM_VERSION_MINOR < 17)
#error "dbm.gnu needs libgdbm 1.17 or newer"
#endif

#define ERROR_TYPE "dbm.gnu.error" /* Python's _gdbm.error, an OSError subclass */

typedef struct gnu_db {
    st_dbm base;
    GDBM_FILE dbf;
    ssize_t size; /* len() cached as Python's di_size; -1 when unknown */
} gnu_db;

/* _gdbmmodule.c's set_gdbm_error(): gdbm's own message, else the generic one; the code tells
 * a C caller more than Python's single exception type. */
static int raise_gdbm(const char *generic)
{
    gdbm_error e = gdbm_errno;
    const char *msg = e != GDBM_NO_ERROR ? gdbm_strerror(e) : generic;
    switch (e) {
    case GDBM_MALLOC_ERROR:
        return ST_RAISE_NOMEM();
    case GDBM_READER_CANT_STORE:
    case GDBM_READER_CANT_DELETE:
        return ST_RAISE_AS(ST_ESTATE, ERROR_TYPE, "%s", msg);
    default:
        return ST_RAISE_AS(ST_EFORMAT, ERROR_TYPE, "%s", msg);
    }
}

/* gdbm rejects a NULL dptr even for an empty key or value. */
static datum make_datum(const void *p, size_t n)
{
    datum d = {(char *)(n ? p : ""), (int)n};
    return d;
}

static int check_size(size_t n)
{
    return n <= (size_t)INT_MAX ? 0 : ST_RAISE(ST_EOVERFLOW, "size does not fit in an int");
}

/* A datum gdbm malloc()ed, copied to our allocator with the trailing NUL st_dbm_get promises. */
static unsigned char *take_datum(datum d, size_t *len)
{
    size_t n = (size_t)d.dsize;
    unsigned char *out = st__malloc(n + 1);
    if (out) {
        if (n)
            memcpy(out, d.dptr, n);
        out[n] = 0;
        *len = n;
    }
    free(d.dptr);
    return out;
}

static unsigned char *gnu_get(st_dbm *db, const void *key, size_t klen, size_t *vlen)
{
    gnu_db *g = (gnu_db *)db;
    if (check_size(klen) < 0)
        return NULL;
    gdbm_errno = GDBM_NO_ERROR;
    datum v = gdbm_fetch(g->dbf, make_datum(key, klen));
    /* Python says KeyError for any failure; a read error is reported as such here. A NULL
     * dptr without an error is an empty value gdbm did not allocate. */
    if (!v.dptr && gdbm_errno != GDBM_NO_ERROR) {
        if (gdbm_errno == GDBM_ITEM_NOT_FOUND)
            st__dbm_raise_key(key, klen);
        else
            raise_gdbm("gdbm_fetch() error");
        return NULL;
    }
    return take_datum(v, vlen);
}

static int gnu_set(st_dbm *db, const void *key, size_t klen, const void *value, size_t vlen)
{
    gnu_db *g = (gnu_db *)db;
    if (check_size(klen) < 0 || check_size(vlen) < 0)
        return -1;
    g->size = -1;
    errno = 0;
    if (gdbm_store(g->dbf, make_datum(key, klen), make_datum(value, vlen), GDBM_REPLACE) < 0) {
        if (errno != 0 && gdbm_errno != GDBM_READER_CANT_STORE)
            return ST__DBM_RAISE_OS(errno, ERROR_TYPE, "gdbm_store() error");
        return raise_gdbm("gdbm_store() error");
    }
    return 0;
}

static int gnu_del(st_dbm *db, const void *key, size_t klen)
{
    gnu_db *g = (gnu_db *)db;
    if (check_size(klen) < 0)
        return -1;
    g->size = -1;
    if (gdbm_delete(g->dbf, make_datum(key, klen)) < 0) {
        if (gdbm_errno == GDBM_ITEM_NOT_FOUND)
            return st__dbm_raise_key(key, klen);
        return raise_gdbm("gdbm_delete() error");
    }
    return 0;
}

static int gnu_contains(st_dbm *db, const void *key, size_t klen)
{
    gnu_db *g = (gnu_db *)db;
    if (check_size(klen) < 0)
        return -1;
    gdbm_errno = GDBM_NO_ERROR;
    if (gdbm_exists(g->dbf, make_datum(key, klen)))
        return 1;
    /* gdbm_exists() returns 0 for an error too (Python ignores it); only a miss is 0 here. */
    if (gdbm_errno != GDBM_NO_ERROR && gdbm_errno != GDBM_ITEM_NOT_FOUND)
        return raise_gdbm("gdbm_exists() error");
    return 0;
}

static ssize_t gnu_len(st_dbm *db)
{
    gnu_db *g = (gnu_db *)db;
    if (g->size < 0) {
        gdbm_count_t count;
        if (gdbm_count(g->dbf, &count) < 0)
            return raise_gdbm("gdbm_count() error");
        if (count > (gdbm_count_t)SSIZE_MAX)
            return ST_RAISE(ST_EOVERFLOW, "count exceeds PY_SSIZE_T_MAX");
        g->size = (ssize_t)count;
    }
    return g->size;
}

/* keys(): the firstkey/nextkey walk of _gdbm's keys(), in gdbm's hash order. */
static st_value *gnu_keys(st_dbm *db)
{
    gnu_db *g = (gnu_db *)db;
    st_value *list = st_value_list();
    if (!list)
        return NULL;
    gdbm_errno = GDBM_NO_ERROR;
    datum k = gdbm_firstkey(g->dbf);
    while (k.dptr) {
        st_value *item = st_value_bytes(k.dptr, (size_t)k.dsize);
        if (!item || st_value_list_append_steal(list, item) < 0) {
            free(k.dptr);
            goto fail;
        }
        datum next = gdbm_nextkey(g->dbf, k);
        free(k.dptr);
        k = next;
    }
    /* The walk ends with GDBM_ITEM_NOT_FOUND; anything else is a read error Python ignores. */
    if (gdbm_errno != GDBM_NO_ERROR && gdbm_errno != GDBM_ITEM_NOT_FOUND) {
        raise_gdbm("gdbm_nextkey() error");
        goto fail;
    }
    return list;
fail:
    st_value_unref(list);
    return NULL;
}

static int gnu_sync(st_dbm *db)
{
    gnu_db *g = (gnu_db *)db;
    return gdbm_sync(g->dbf) == 0 ? 0 : raise_gdbm("gdbm_sync() error");
}

static int gnu_close(st_dbm *db)
{
    gnu_db *g = (gnu_db *)db;
    int ret = gdbm_close(g->dbf) == 0 ? 0 : raise_gdbm("gdbm_close() error");
    g->dbf = NULL;
    return ret;
}

static const st__dbm_ops GNU_OPS = {
    "dbm.gnu", ERROR_TYPE, "GDBM object has already been closed",
    gnu_get, gnu_set, gnu_del, gnu_contains, gnu_len, gnu_keys, gnu_sync, gnu_close,
    NULL, /* gdbm has no transactions */
};

st_dbm *st__dbm_gnu_open(const char *filename, const char *flag, int mode)
{
    int flags = GDBM_READER;
    switch (*flag) {
    case 'w':
        flags = GDBM_WRITER;
        break;
    case 'c':
        flags = GDBM_WRCREAT;
        break;
    case 'n':
        flags = GDBM_NEWDB;
        break;
    }
    gnu_db *g = st__calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->base.ops = &GNU_OPS;
    g->size = -1;
    /* As _gdbm's open(): default block size, gdbm's locking; close-on-exec as everywhere here. */
    errno = 0;
    gdbm_errno = GDBM_NO_ERROR;
    g->dbf = gdbm_open(filename, 0, flags | GDBM_CLOEXEC, mode, NULL);
    if (!g->dbf) {
        if (errno != 0 && gdbm_errno != GDBM_MALLOC_ERROR)
            ST__DBM_RAISE_OS(errno, ERROR_TYPE, "cannot open '%s'", filename);
        else
            raise_gdbm("gdbm_open() error");
        st_free(g);
        return NULL;
    }
    return &g->base;
}
