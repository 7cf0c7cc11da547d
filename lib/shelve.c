/* shelve: CPython 3.13's shelve.Shelf over st_dbm (UTF-8 keys, pickled values, writeback), and
 * optimistic transactions on the dbm.sqlite3 backend. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "internal/dbm.h"
#include "internal/mem.h"
#include "internal/options.h"
#include "internal/utf8.h"
#include "systools/shelve.h"

struct st_shelf {
    st_dbm *db;      /* NULL once closed */
    int protocol;
    int writeback;
    st_pickle_load_options load;
    st_value *(*serializer)(void *ctx, const st_value *value, int protocol); /* NULL: pickle */
    st_value *(*deserializer)(void *ctx, const void *data, size_t len);
    void *serializer_ctx;
    st_value *cache; /* writeback: dict str -> value, in Python's order */
    /* The open transaction (txn != 0). Keys are bytes; None stands for "absent". */
    int txn;
    st_value *writes;    /* key -> new value bytes or None (deleted), in write order */
    st_value *seen;      /* key -> the bytes the snapshot held at first touch, or None */
    st_value *seen_keys; /* the snapshot's key list once keys were listed, else NULL */
    ssize_t seen_len;    /* the snapshot's len() once asked, else -1 */
};

struct st_shelf_iterator {
    const char **keys;
    size_t next;
};

/* ---- open --------------------------------------------------------------------------------- */

int st_shelve_options_init(st_shelve_options *opts, unsigned int version)
{
    return st__options_init(opts,
                            ST_OPTIONS_SIZES(offsetof(st_shelve_options, durability), sizeof *opts),
                            version, ST_SHELVE_OPTIONS_VERSION, "st_shelve_options");
}

st_shelf *st_shelve_open(const char *filename, const char *flag, const st_shelve_options *opts)
{
    static const st_shelve_options defaults = ST_SHELVE_OPTIONS_INIT;
    static const st_pickle_load_options load = ST_PICKLE_LOAD_OPTIONS_INIT;
    if (ST_OPTIONS_CHECK(opts, ST_SHELVE_OPTIONS_VERSION, "st_shelve_options") < 0)
        return NULL;
    if (!opts)
        opts = &defaults;
    if (ST_OPTIONS_CHECK(opts->load, ST_PICKLE_LOAD_OPTIONS_VERSION, "st_pickle_load_options") < 0)
        return NULL;
    /* Zero is Python's protocol=None, so protocol 0 has a name of its own. */
    int protocol = opts->protocol == 0                      ? ST_PICKLE_DEFAULT_PROTOCOL
                   : opts->protocol == ST_SHELVE_PROTOCOL_0 ? 0
                   : opts->protocol < 0                     ? ST_PICKLE_HIGHEST_PROTOCOL
                                                            : opts->protocol;
    if (protocol > ST_PICKLE_HIGHEST_PROTOCOL)
        return (ST_RAISE(ST_EVALUE, "pickle protocol must be <= %d", ST_PICKLE_HIGHEST_PROTOCOL),
                NULL);
    int v2 = opts->version >= 2;
    if (v2 && !opts->serializer != !opts->deserializer)
        return (ST_RAISE_AS(ST_EVALUE, "shelve.ShelveError",
                            "serializer and deserializer must be given together"),
                NULL);
    st_shelf *sh = st__calloc(1, sizeof *sh);
    if (!sh)
        return NULL;
    st_dbm_options dopts = ST_DBM_OPTIONS_INIT;
    dopts.backend = opts->backend;
    dopts.mode = opts->mode;
    dopts.durability = v2 ? opts->durability : ST_DBM_DURABILITY_FULL;
    sh->db = st_dbm_open(filename, flag, &dopts);
    sh->cache = sh->db ? st_value_dict() : NULL;
    if (!sh->cache) {
        st_dbm_free(sh->db);
        st_free(sh);
        return (ST_TRACE(), NULL);
    }
    sh->protocol = protocol;
    sh->writeback = opts->writeback != 0;
    sh->load = opts->load ? *opts->load : load;
    if (v2) {
        sh->serializer = opts->serializer;
        sh->deserializer = opts->deserializer;
        sh->serializer_ctx = opts->serializer_ctx;
    }
    sh->seen_len = -1;
    return sh;
}

/* ---- helpers -------------------------------------------------------------------------------- */

/* Python's _ClosedDict: every use of a closed shelf is a ValueError. */
#define CHECK_OPEN(sh, fail)                                                           \
    do {                                                                               \
        if (!(sh)->db)                                                                 \
            return (ST_RAISE(ST_EVALUE, "invalid operation on closed shelf"), (fail)); \
    } while (0)

static int check_utf8(const char *key, size_t len)
{
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = st__utf8_decode((const unsigned char *)key + i, len - i, 0, &cp);
        if (!n)
            return st__utf8_error((const unsigned char *)key, len, i, 0);
        i += n;
    }
    return 0;
}

static st_value *load_value(st_shelf *sh, const void *data, size_t len)
{
    if (!sh->deserializer)
        return st_pickle_loads(data, len, &sh->load);
    st_value *v = sh->deserializer(sh->serializer_ctx, data, len);
    return v ? v : (ST_TRACE(), NULL);
}

/* The value under k in the transaction's snapshot (borrowed: bytes, or None when absent),
 * recorded at the first touch for validation at commit. */
static st_value *touch(st_shelf *sh, st_value *k)
{
    if (st_value_contains(sh->seen, k) == 1)
        return st_value_dict_get(sh->seen, k);
    size_t klen, vlen;
    const unsigned char *kd = st_value_bytes_data(k, &klen);
    unsigned char *v = st_dbm_get(sh->db, kd, klen, &vlen);
    st_value *bv;
    if (v) {
        bv = st_value_bytes(v, vlen);
        st_free(v);
    } else if (st_error_code() == ST_EKEY) {
        st_error_clear();
        bv = st_value_none();
    } else {
        return NULL;
    }
    if (st_value_dict_set_steal(sh->seen, st_value_ref(k), bv) < 0)
        return NULL;
    return bv;
}

/* What the transaction sees under k: its own write, else the snapshot (borrowed). */
static st_value *txn_view(st_shelf *sh, st_value *k)
{
    if (st_value_contains(sh->writes, k) == 1)
        return st_value_dict_get(sh->writes, k);
    return touch(sh, k);
}

/* Buffers a write (v: bytes, or None to delete), after recording what the snapshot holds
 * under k: a blind write is checked at commit like a read. */
static int txn_write(st_shelf *sh, st_value *k, st_value *v)
{
    return touch(sh, k) ? st_value_dict_set(sh->writes, k, v) : -1;
}

/* Stores pickled value bytes under key: directly, or into the open transaction. */
static int store(st_shelf *sh, const char *key, size_t klen, const unsigned char *data,
                 size_t len)
{
    if (!sh->txn)
        return st_dbm_set(sh->db, key, klen, data, len);
    st_value *k = st_value_bytes(key, klen);
    st_value *v = k ? st_value_bytes(data, len) : NULL;
    int rc = v ? txn_write(sh, k, v) : -1;
    st_value_unref(k);
    st_value_unref(v);
    return rc;
}

static int store_value(st_shelf *sh, const char *key, size_t klen, const st_value *value)
{
    if (sh->serializer) {
        st_value *b = sh->serializer(sh->serializer_ctx, value, sh->protocol);
        if (!b)
            return ST_TRACE();
        st_value_type kind = st_value_kind(b);
        int rc;
        if (kind != ST_VALUE_BYTES && kind != ST_VALUE_BYTEARRAY) {
            /* Python's dbm refuses it when storing; the message says which side is wrong. */
            rc = ST_RAISE(ST_ETYPE, "serializer must return bytes or bytearray, not '%s'",
                          st_value_type_name(b));
        } else {
            size_t len;
            const unsigned char *data = st_value_bytes_data(b, &len);
            rc = store(sh, key, klen, data, len);
        }
        st_value_unref(b);
        return rc;
    }
    unsigned char *data;
    size_t len;
    if (st_pickle_dumps(value, sh->protocol, &data, &len) < 0)
        return ST_TRACE();
    int rc = store(sh, key, klen, data, len);
    st_free(data);
    return rc;
}

/* Shelf.sync()'s first half: every cached value written back, then the cache emptied. */
static int flush_cache(st_shelf *sh)
{
    size_t pos = 0;
    st_value *k, *v;
    while (st_value_dict_next(sh->cache, &pos, &k, &v) > 0) {
        size_t klen;
        const char *key = st_value_str_data(k, &klen);
        if (store_value(sh, key, klen, v) < 0)
            return -1;
    }
    return st_value_clear(sh->cache);
}

/* ---- the mapping ---------------------------------------------------------------------------- */

st_value *st_shelf_get(st_shelf *sh, const char *key)
{
    CHECK_OPEN(sh, NULL);
    size_t klen = strlen(key);
    st_value *skey = NULL;
    if (sh->writeback) {
        skey = st_value_str_n(key, klen);
        if (!skey)
            return NULL;
        if (st_value_contains(sh->cache, skey) == 1) {
            st_value *v = st_value_ref(st_value_dict_get(sh->cache, skey));
            st_value_unref(skey);
            return v;
        }
    }
    st_value *v = NULL;
    if (sh->txn) {
        st_value *k = st_value_bytes(key, klen);
        st_value *b = k ? txn_view(sh, k) : NULL;
        if (b && st_value_kind(b) == ST_VALUE_NONE)
            st__dbm_raise_key(key, klen);
        else if (b) {
            size_t len;
            const unsigned char *d = st_value_bytes_data(b, &len);
            v = load_value(sh, d, len);
        }
        st_value_unref(k);
    } else {
        size_t len;
        unsigned char *d = st_dbm_get(sh->db, key, klen, &len);
        if (d) {
            v = load_value(sh, d, len);
            st_free(d);
        }
    }
    if (v && skey && st_value_dict_set(sh->cache, skey, v) < 0) {
        st_value_unref(v);
        v = NULL;
    }
    st_value_unref(skey);
    return v ? v : (ST_TRACE(), NULL);
}

int st_shelf_set(st_shelf *sh, const char *key, const st_value *value)
{
    CHECK_OPEN(sh, -1);
    size_t klen = strlen(key);
    if (check_utf8(key, klen) < 0)
        return -1;
    if (sh->writeback) {
        /* The cache holds the caller's value itself, as Python's dict does. */
        st_value *skey = st_value_str_n(key, klen);
        if (st_value_dict_set_steal(sh->cache, skey, st_value_ref((st_value *)value)) < 0)
            return -1;
    }
    return store_value(sh, key, klen, value);
}

int st_shelf_del(st_shelf *sh, const char *key)
{
    CHECK_OPEN(sh, -1);
    size_t klen = strlen(key);
    int rc;
    if (sh->txn) {
        st_value *k = st_value_bytes(key, klen);
        st_value *b = k ? txn_view(sh, k) : NULL;
        if (!b)
            rc = -1;
        else if (st_value_kind(b) == ST_VALUE_NONE)
            rc = st__dbm_raise_key(key, klen);
        else
            rc = txn_write(sh, k, st_value_none());
        st_value_unref(k);
    } else {
        rc = st_dbm_del(sh->db, key, klen);
    }
    if (rc < 0 || !sh->writeback)
        return rc;
    st_value *skey = st_value_str_n(key, klen);
    if (!skey)
        return -1;
    if (st_value_contains(sh->cache, skey) == 1)
        rc = st_value_dict_delete(sh->cache, skey);
    st_value_unref(skey);
    return rc;
}

int st_shelf_contains(st_shelf *sh, const char *key)
{
    CHECK_OPEN(sh, -1);
    size_t klen = strlen(key);
    if (!sh->txn)
        return st_dbm_contains(sh->db, key, klen);
    st_value *k = st_value_bytes(key, klen);
    st_value *b = k ? txn_view(sh, k) : NULL;
    st_value_unref(k);
    return b ? st_value_kind(b) != ST_VALUE_NONE : -1;
}

ssize_t st_shelf_len(st_shelf *sh)
{
    CHECK_OPEN(sh, -1);
    if (!sh->txn)
        return st_dbm_len(sh->db);
    if (sh->seen_len < 0 && (sh->seen_len = st_dbm_len(sh->db)) < 0)
        return -1;
    ssize_t n = sh->seen_len;
    size_t pos = 0;
    st_value *k, *v;
    while (st_value_dict_next(sh->writes, &pos, &k, &v) > 0) {
        /* Every written key was touched, so the snapshot's answer is in seen. */
        int was = st_value_kind(st_value_dict_get(sh->seen, k)) != ST_VALUE_NONE;
        int is = st_value_kind(v) != ST_VALUE_NONE;
        n += is - was;
    }
    return n;
}

/* SQLite's order of BLOBs, which "SELECT key FROM Dict" returns through the key's index. */
static int blob_cmp(const void *a, const void *b)
{
    size_t an, bn;
    const unsigned char *ad = st_value_bytes_data(*(st_value *const *)a, &an);
    const unsigned char *bd = st_value_bytes_data(*(st_value *const *)b, &bn);
    int c = memcmp(ad, bd, an < bn ? an : bn);
    return c ? c : (an > bn) - (an < bn);
}

/* The keys as bytes values: the file's, or in a transaction the snapshot's with this
 * transaction's writes applied, in the order the file will list them after the commit. */
static st_value *key_list(st_shelf *sh)
{
    if (!sh->txn)
        return st_dbm_keys(sh->db);
    if (!sh->seen_keys && !(sh->seen_keys = st_dbm_keys(sh->db)))
        return NULL;
    size_t cap = (size_t)st_value_len(sh->seen_keys) + (size_t)st_value_len(sh->writes), n = 0;
    st_value **keys = st__reallocarray(NULL, cap ? cap : 1, sizeof *keys);
    if (!keys)
        return NULL;
    size_t pos = 0;
    st_value *k, *v;
    while (st_value_next(sh->seen_keys, &pos, &k) > 0)
        if (st_value_contains(sh->writes, k) != 1)
            keys[n++] = k;
    pos = 0;
    while (st_value_dict_next(sh->writes, &pos, &k, &v) > 0)
        if (st_value_kind(v) != ST_VALUE_NONE)
            keys[n++] = k;
    qsort(keys, n, sizeof *keys, blob_cmp);
    st_value *out = st_value_list();
    for (size_t i = 0; out && i < n; i++)
        if (st_value_list_append(out, keys[i]) < 0) {
            st_value_unref(out);
            out = NULL;
        }
    st_free(keys);
    return out;
}

const char **st_shelf_keys(st_shelf *sh)
{
    CHECK_OPEN(sh, NULL);
    st_value *list = key_list(sh);
    if (!list)
        return (ST_TRACE(), NULL);
    st__strv out = ST__STRV_INIT;
    size_t pos = 0;
    st_value *k;
    int rc = 0;
    while (rc == 0 && st_value_next(list, &pos, &k) > 0) {
        size_t len;
        const char *d = (const char *)st_value_bytes_data(k, &len);
        /* Python decodes with k.decode("utf-8"): strict, and a key holding NUL would be cut
         * short in a C string, so it is refused too. */
        rc = check_utf8(d, len);
        if (rc == 0 && memchr(d, 0, len))
            rc = ST_RAISE(ST_EVALUE, "key contains a NUL byte");
        if (rc == 0)
            rc = st__strv_push(&out, d);
    }
    st_value_unref(list);
    if (rc < 0) {
        st__strv_free(&out);
        return NULL;
    }
    return st__strv_detach(&out);
}

st_shelf_iterator *st_shelf_iter(st_shelf *sh)
{
    CHECK_OPEN(sh, NULL);
    st_shelf_iterator *it = st__calloc(1, sizeof *it);
    if (it && !(it->keys = st_shelf_keys(sh))) {
        st_free(it);
        return NULL;
    }
    return it;
}

int st_shelf_iterator_next(st_shelf_iterator *it, const char **key)
{
    if (!it->keys[it->next])
        return 0;
    *key = it->keys[it->next++];
    return 1;
}

void st_shelf_iterator_free(st_shelf_iterator *it)
{
    if (!it)
        return;
    st_strv_free(it->keys);
    st_free(it);
}

int st_shelf_sync(st_shelf *sh)
{
    CHECK_OPEN(sh, -1);
    if (sh->writeback && flush_cache(sh) < 0)
        return -1;
    return st_dbm_sync(sh->db);
}

/* ---- transactions ------------------------------------------------------------------------- */

static void txn_drop(st_shelf *sh)
{
    st_value_unref(sh->writes);
    st_value_unref(sh->seen);
    st_value_unref(sh->seen_keys);
    sh->writes = sh->seen = sh->seen_keys = NULL;
    sh->seen_len = -1;
    sh->txn = 0;
}

/* Ends the transaction with a rollback; the error that led here stays set (a rollback that
 * fails too replaces it with its own). */
static int txn_fail(st_shelf *sh)
{
    (void)st__dbm_txn(sh->db, ST__TXN_ROLLBACK);
    txn_drop(sh);
    return -1;
}

int st_shelf_begin(st_shelf *sh)
{
    CHECK_OPEN(sh, -1);
    if (sh->txn)
        return ST_RAISE(ST_ESTATE, "a transaction is already open");
    if (!strcmp(st_dbm_backend(sh->db), "dbm.dumb"))
        return ST_RAISE(ST_EVALUE, "transactions are not supported by dbm.dumb");
    /* Values cached before the transaction are written outside it. */
    if (sh->writeback && flush_cache(sh) < 0)
        return -1;
    sh->writes = st_value_dict();
    sh->seen = st_value_dict();
    if (!sh->writes || !sh->seen || st__dbm_txn(sh->db, ST__TXN_BEGIN_READ) < 0) {
        txn_drop(sh);
        return ST_TRACE();
    }
    sh->txn = 1;
    return 0;
}

static char *key_text(const st_value *k)
{
    size_t len;
    const unsigned char *d = st_value_bytes_data(k, &len);
    st_value *s = st_value_str_n((const char *)d, len);
    if (!s)
        st_error_clear();
    char *r = st_value_repr(s ? s : k);
    st_value_unref(s);
    return r;
}

/* Under the write lock: 0 when everything the transaction read is still as it read it. */
static int validate(st_shelf *sh)
{
    size_t pos = 0;
    st_value *k, *was;
    while (st_value_dict_next(sh->seen, &pos, &k, &was) > 0) {
        size_t klen, vlen, wlen;
        const unsigned char *kd = st_value_bytes_data(k, &klen);
        unsigned char *now = st_dbm_get(sh->db, kd, klen, &vlen);
        if (!now && st_error_code() != ST_EKEY)
            return -1;
        if (!now)
            st_error_clear();
        int same;
        if (st_value_kind(was) == ST_VALUE_NONE) {
            same = !now;
        } else {
            const unsigned char *wd = st_value_bytes_data(was, &wlen);
            same = now && vlen == wlen && memcmp(now, wd, wlen) == 0;
        }
        st_free(now);
        if (!same) {
            char *text = key_text(k);
            ST_RAISE_AS(ST_ECONFLICT, "ConflictError",
                        "conflict on key %s: another writer changed it after this "
                        "transaction read it",
                        text ? text : "?");
            st_free(text);
            return -1;
        }
    }
    if (sh->seen_len >= 0) {
        ssize_t n = st_dbm_len(sh->db);
        if (n < 0)
            return -1;
        if (n != sh->seen_len)
            return ST_RAISE_AS(ST_ECONFLICT, "ConflictError",
                               "conflict: another writer changed the number of keys after "
                               "this transaction counted them");
    }
    if (sh->seen_keys) {
        st_value *now = st_dbm_keys(sh->db);
        if (!now)
            return -1;
        int same = st_value_equal(now, sh->seen_keys);
        st_value_unref(now);
        if (same != 1)
            return same < 0 ? -1
                            : ST_RAISE_AS(ST_ECONFLICT, "ConflictError",
                                          "conflict: another writer changed the keys after "
                                          "this transaction listed them");
    }
    return 0;
}

static int apply_writes(st_shelf *sh)
{
    size_t pos = 0;
    st_value *k, *v;
    while (st_value_dict_next(sh->writes, &pos, &k, &v) > 0) {
        size_t klen, vlen;
        const unsigned char *kd = st_value_bytes_data(k, &klen);
        if (st_value_kind(v) == ST_VALUE_NONE) {
            /* A key set then deleted in the transaction may be absent from the file. */
            if (st_dbm_del(sh->db, kd, klen) < 0) {
                if (st_error_code() != ST_EKEY)
                    return -1;
                st_error_clear();
            }
        } else {
            const unsigned char *vd = st_value_bytes_data(v, &vlen);
            if (st_dbm_set(sh->db, kd, klen, vd, vlen) < 0)
                return -1;
        }
    }
    return 0;
}

int st_shelf_commit(st_shelf *sh)
{
    CHECK_OPEN(sh, -1);
    if (!sh->txn)
        return ST_RAISE(ST_ESTATE, "no transaction is open");
    if (sh->writeback && flush_cache(sh) < 0)
        return txn_fail(sh);
    /* A read-only transaction saw one committed state: nothing to check or write. */
    if (st_value_len(sh->writes) == 0) {
        int rc = st__dbm_txn(sh->db, ST__TXN_COMMIT);
        if (rc < 0)
            return txn_fail(sh);
        txn_drop(sh);
        return 0;
    }
    if (st__dbm_txn(sh->db, ST__TXN_COMMIT) < 0 || st__dbm_txn(sh->db, ST__TXN_BEGIN_WRITE) < 0 ||
        validate(sh) < 0 || apply_writes(sh) < 0 || st__dbm_txn(sh->db, ST__TXN_COMMIT) < 0)
        return txn_fail(sh);
    txn_drop(sh);
    return 0;
}

int st_shelf_abort(st_shelf *sh)
{
    CHECK_OPEN(sh, -1);
    if (!sh->txn)
        return ST_RAISE(ST_ESTATE, "no transaction is open");
    int rc = st__dbm_txn(sh->db, ST__TXN_ROLLBACK);
    txn_drop(sh);
    /* Cached values may have been changed in place inside the transaction: reload them. */
    if (st_value_clear(sh->cache) < 0)
        rc = -1;
    return rc;
}

int st_shelf_close(st_shelf *sh)
{
    if (!sh || !sh->db)
        return 0;
    if (sh->txn)
        (void)st_shelf_abort(sh);
    /* As Python's close(): sync (the writeback cache included), then close the file, which
     * happens even when the sync failed. */
    int rc = st_shelf_sync(sh);
    if (st_dbm_close(sh->db) < 0)
        rc = -1;
    st_dbm_free(sh->db);
    sh->db = NULL;
    st_value_unref(sh->cache);
    sh->cache = NULL;
    return rc;
}

int st_shelf_closed(const st_shelf *sh)
{
    if (!sh)
        return ST_RAISE(ST_EVALUE, "shelf must not be NULL");
    return !sh->db;
}

void st_shelf_free(st_shelf *sh)
{
    if (!sh)
        return;
    (void)st_shelf_close(sh);
    st_free(sh);
}
