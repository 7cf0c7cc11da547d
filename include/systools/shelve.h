/**
 * @file systools/shelve.h
 * @brief Persistent dictionaries: Python's dbm files (dbm.sqlite3, dbm.dumb, optionally
 *        dbm.gnu) and shelve on top of them, plus transactions with conflict detection (the
 *        ZODB essence).
 */
#ifndef SYSTOOLS_SHELVE_H
#define SYSTOOLS_SHELVE_H

#include <stddef.h>
#include <sys/types.h>

#include "common.h"
#include "pickle.h"
#include "value.h"

/**
 * @defgroup shelve shelve: persistent dictionaries (dbm, shelve) with transactions
 * @brief Files that CPython 3.13's `dbm` and `shelve` open, and the other way round.
 *
 * Two layers: ::st_dbm maps bytes to bytes in one of Python's dbm formats (Python's
 * `dbm.open`), and ::st_shelf maps UTF-8 string keys to values pickled into such a file
 * (Python's `shelve.open`). On the dbm.sqlite3 backend a shelf also has transactions:
 * st_shelf_begin(), st_shelf_commit(), st_shelf_abort().
 *
 * Backends: **dbm.sqlite3** (CPython 3.13's table `Dict`, the same SQL statements, URI open
 * modes and WAL journal, through libsqlite3; the default for new files) and **dbm.dumb**
 * (CPython's .dat/.dir/.bak files, byte for byte; the .dir index is read by a strict parser
 * of its own, never evaluated: a line dumb.py would not write fails with dbm.dumb.error
 * naming the line). **dbm.gnu** is built when libgdbm was found at build time: Python's
 * `_gdbm` module over the same library, so the files are the ones Python's dbm.gnu writes
 * (flags "r", "w", "c", "n" as gdbm_open()'s reader, writer, create, new; Python's extra
 * "f", "s", "u" modifiers are not offered; gdbm's file lock refuses a second handle while
 * a writer has the file, with EAGAIN; the file is opened close-on-exec). Without libgdbm, and
 * for dbm.ndbm, which is never compiled in, st_dbm_whichdb() still recognises the files and
 * opening one fails with NotImplementedError (ST_ENOTSUP, type "dbm.error").
 *
 * Errors carry CPython's type names: "dbm.error" from st_dbm_open()'s own checks,
 * "dbm.sqlite3.error" with SQLite's message (str(exc) in Python), "dbm.dumb.error" for
 * dbm.dumb's own failures (Python's dbm.dumb.error is OSError), "dbm.gnu.error" with gdbm's
 * message (Python's _gdbm.error; with the errno when a system call failed), the OSError
 * subclasses for failed system calls, and KeyError for a missing key. The code tells a C caller more:
 * ST_EOS (with the errno) for I/O, ST_ESTATE for a write to a read-only database,
 * ST_ETIMEOUT when another process held the lock longer than the busy timeout (5 s, Python's
 * sqlite3.connect() default), ST_EFORMAT for a corrupt file.
 *
 * A handle is used by one thread at a time; handles on the same file, in one process or
 * many, may be used concurrently.
 *
 * @code
 * st_shelf *sh = st_shelve_open("people.db", "c", NULL);
 * st_value *v = st_value_parse("{'name': 'Ada', 'age': 36}");
 * st_shelf_set(sh, "ada", v);                // pickled; readable by shelve.open() in Python
 * st_value_unref(v);
 * st_shelf_close(sh);
 * @endcode
 * @{
 */

#ifdef __cplusplus
extern "C" {
#endif

/* ---- dbm: bytes to bytes ------------------------------------------------------------------ */

/** @brief An open dbm file (opaque). Mirrors the object Python's dbm.open() returns. */
typedef struct st_dbm st_dbm;

/** @brief The version of ::st_dbm_options this header describes. */
#define ST_DBM_OPTIONS_VERSION 1

/** @brief How to open a dbm file. Initialise with ST_DBM_OPTIONS_INIT. */
typedef struct st_dbm_options {
    /** Must be ST_DBM_OPTIONS_VERSION. */
    unsigned int version;
    /**
     * NULL or "" to choose as Python's dbm.open does (st_dbm_whichdb() for an existing file,
     * dbm.sqlite3 for a new one), else "dbm.sqlite3", "dbm.dumb" or "dbm.gnu".
     */
    const char *backend;
    /** Permission bits for files created (Python's mode, default 0666, before the umask). */
    int mode;
} st_dbm_options;

/** @brief Default options: backend chosen as Python does, mode 0666. */
#define ST_DBM_OPTIONS_INIT {ST_DBM_OPTIONS_VERSION, NULL, 0666}

/**
 * @brief Guesses which dbm format a file is in. Mirrors dbm.whichdb(filename).
 *
 * Python's tests in Python's order: filename.pag and filename.dir both readable give
 * "dbm.ndbm"; filename.dat present with filename.dir empty or starting with a quote give
 * "dbm.dumb"; then the file's first 16 bytes: SQLite's header gives "dbm.sqlite3", a GNU dbm
 * magic number (in the machine's byte order) "dbm.gnu", anything else (or fewer than 4
 * bytes) "". As a CPython built without dbm.ndbm, filename.db is not probed.
 * @param filename The name as it would be given to st_dbm_open().
 * @return A static string: "dbm.sqlite3", "dbm.gnu", "dbm.ndbm", "dbm.dumb", or "" when the
 *         file exists but its format is unknown; NULL when it cannot be opened or read
 *         (Python's None), with OSError set.
 */
ST_API const char *st_dbm_whichdb(const char *filename);

/**
 * @brief Opens or creates a dbm file. Mirrors dbm.open(filename, flag, mode).
 * @param filename The file (for dbm.dumb, the base name of the .dat/.dir/.bak files).
 * @param flag "r" read-only, "w" read-write, "c" read-write created if missing, "n" always a new
 *        empty database; as Python's.
 * @param opts NULL for ST_DBM_OPTIONS_INIT.
 * For "c" and "n" the files are created with @p mode less the umask. dbm.sqlite3 opens the
 * file through an SQLite URI (mode=ro for "r", rw for "w", rwc otherwise), switches to WAL,
 * and for "c"/"n" creates the table; dbm.dumb follows dumb.py (flag "r" refuses writes).
 * @return A handle the caller closes with st_dbm_close(); NULL with ValueError (bad flag or
 *         backend), dbm.error (ST_EOS, ENOENT) when the file does not exist and the flag is
 *         "r" or "w", dbm.error (ST_EFORMAT) for a file of unknown type, NotImplementedError
 *         for dbm.ndbm (and dbm.gnu when built without libgdbm), the backend's error for a
 *         file it cannot open, or
 *         MemoryError.
 */
ST_API st_dbm *st_dbm_open(const char *filename, const char *flag, const st_dbm_options *opts);

/**
 * @brief The backend a handle uses.
 * @param db The handle.
 * @return A static string: "dbm.sqlite3", "dbm.dumb" or "dbm.gnu".
 */
ST_API const char *st_dbm_backend(const st_dbm *db);

/**
 * @brief Looks a key up. Mirrors db[key].
 * @param db The handle.
 * @param key The key bytes.
 * @param klen Their length.
 * @param vlen Receives the value's length.
 * @return The value (caller frees with st_free(); one extra NUL byte follows it), or NULL with
 *         KeyError (ST_EKEY) when the key is absent, or dbm.error / MemoryError. (Python's
 *         dbm.gnu says KeyError for a failed read too; here a read error is dbm.gnu.error.)
 */
ST_API unsigned char *st_dbm_get(st_dbm *db, const void *key, size_t klen, size_t *vlen);

/**
 * @brief Stores a value under a key, replacing any previous one. Mirrors db[key] = value.
 * @param db The handle (not opened with "r").
 * @param key The key bytes.
 * @param klen Their length.
 * @param value The value bytes.
 * @param vlen Their length.
 * @return 0, or -1 with dbm.error (read-only database, I/O error) or MemoryError.
 */
ST_API int st_dbm_set(st_dbm *db, const void *key, size_t klen, const void *value, size_t vlen);

/**
 * @brief Removes a key. Mirrors del db[key].
 * @param db The handle (not opened with "r").
 * @param key The key bytes.
 * @param klen Their length.
 * @return 0, or -1 with KeyError when the key is absent, or dbm.error.
 */
ST_API int st_dbm_del(st_dbm *db, const void *key, size_t klen);

/**
 * @brief Tells whether a key is present. Mirrors key in db.
 * @param db The handle.
 * @param key The key bytes.
 * @param klen Their length.
 * @return 1 or 0, or -1 with dbm.error.
 */
ST_API int st_dbm_contains(st_dbm *db, const void *key, size_t klen);

/**
 * @brief Counts the keys. Mirrors len(db).
 * @param db The handle.
 * @return The number of keys, or -1 with dbm.error.
 */
ST_API ssize_t st_dbm_len(st_dbm *db);

/**
 * @brief Lists the keys. Mirrors db.keys().
 * @param db The handle.
 * @return A new list of bytes values (caller releases with st_value_unref()), in the
 *         backend's order, which is Python's: dbm.sqlite3 sorted bytewise (its query scans the
 *         key's unique index), dbm.dumb in insertion order, dbm.gnu in gdbm's hash order
 *         (gdbm_firstkey()/gdbm_nextkey()); NULL with dbm.error or MemoryError.
 */
ST_API st_value *st_dbm_keys(st_dbm *db);

/**
 * @brief Flushes what was written to the file. Mirrors db.sync() where the backend has it
 *        (dbm.dumb writes its index; dbm.gnu calls gdbm_sync(); dbm.sqlite3 commits each
 *        write already).
 * @param db The handle.
 * @return 0, or -1 with dbm.error.
 */
ST_API int st_dbm_sync(st_dbm *db);

/**
 * @brief Flushes and closes. Mirrors db.close(). The handle is freed even when this fails.
 * @param db The handle, or NULL (nothing happens).
 * @return 0, or -1 with dbm.error when the last flush failed.
 */
ST_API int st_dbm_close(st_dbm *db);

/* ---- shelve: string keys to pickled values ---------------------------------------------- */

/** @brief An open shelf (opaque). Mirrors shelve.Shelf / shelve.DbfilenameShelf. */
typedef struct st_shelf st_shelf;

/** @brief The version of ::st_shelve_options this header describes. */
#define ST_SHELVE_OPTIONS_VERSION 1

/** @brief How to open a shelf. Initialise with ST_SHELVE_OPTIONS_INIT. */
typedef struct st_shelve_options {
    /** Must be ST_SHELVE_OPTIONS_VERSION. */
    unsigned int version;
    /** Pickle protocol for values written: 0-5, or -1 for the highest (Python's protocol=None
     *  is ST_PICKLE_DEFAULT_PROTOCOL, the default here). */
    int protocol;
    /**
     * Python's writeback: non-zero to cache every value read or written and write the cache
     * back at st_shelf_sync() and st_shelf_close(), so a value changed in place (a list
     * appended to) is saved.
     */
    int writeback;
    /** As ::st_dbm_options.backend. */
    const char *backend;
    /** As ::st_dbm_options.mode. */
    int mode;
    /** Limits for loading stored values (NULL: ST_PICKLE_LOAD_OPTIONS_INIT). */
    const st_pickle_load_options *load;
} st_shelve_options;

/** @brief Default options: protocol ST_PICKLE_DEFAULT_PROTOCOL, no writeback, backend chosen as
 *         Python does, mode 0666, default load limits. */
#define ST_SHELVE_OPTIONS_INIT \
    {ST_SHELVE_OPTIONS_VERSION, ST_PICKLE_DEFAULT_PROTOCOL, 0, NULL, 0666, NULL}

/**
 * @brief Opens a shelf. Mirrors shelve.open(filename, flag, protocol, writeback). Keys are
 *        encoded as UTF-8 (Python's keyencoding="utf-8").
 * @param filename The file.
 * @param flag "r", "w", "c" or "n", as st_dbm_open().
 * @param opts NULL for ST_SHELVE_OPTIONS_INIT.
 * @return A handle the caller closes with st_shelf_close(); NULL with the errors of
 *         st_dbm_open(), or ValueError for a protocol above ST_PICKLE_HIGHEST_PROTOCOL
 *         (checked here; Python fails at the first write).
 */
ST_API st_shelf *st_shelve_open(const char *filename, const char *flag,
                               const st_shelve_options *opts);

/**
 * @brief Reads a value. Mirrors shelf[key].
 * @param sh The shelf.
 * @param key NUL-terminated UTF-8 key.
 * @return A new reference (caller releases with st_value_unref()), or NULL with KeyError
 *         (ST_EKEY) when absent, pickle.UnpicklingError for a value that does not load, or
 *         dbm.error.
 */
ST_API st_value *st_shelf_get(st_shelf *sh, const char *key);

/**
 * @brief Stores a value (pickled with the shelf's protocol). Mirrors shelf[key] = value.
 * @param sh The shelf.
 * @param key NUL-terminated UTF-8 key.
 * @param value The value (borrowed; with writeback the shelf keeps a reference).
 * @return 0, or -1 with UnicodeDecodeError (ST_EVALUE) for a key that is not UTF-8, the
 *         errors of st_pickle_dumps(), or dbm.error.
 */
ST_API int st_shelf_set(st_shelf *sh, const char *key, const st_value *value);

/**
 * @brief Removes a key. Mirrors del shelf[key].
 * @param sh The shelf.
 * @param key NUL-terminated UTF-8 key.
 * @return 0, or -1 with KeyError when absent, or dbm.error.
 */
ST_API int st_shelf_del(st_shelf *sh, const char *key);

/**
 * @brief Tells whether a key is present. Mirrors key in shelf.
 * @param sh The shelf.
 * @param key NUL-terminated UTF-8 key.
 * @return 1 or 0, or -1 with dbm.error.
 */
ST_API int st_shelf_contains(st_shelf *sh, const char *key);

/**
 * @brief Counts the keys. Mirrors len(shelf).
 * @param sh The shelf.
 * @return The number of keys, or -1 with dbm.error.
 */
ST_API ssize_t st_shelf_len(st_shelf *sh);

/**
 * @brief Lists the keys. Mirrors list(shelf.keys()).
 * @param sh The shelf.
 * @return A NULL-terminated vector of UTF-8 keys (caller frees with st_strv_free()) in
 *         st_dbm_keys()'s order, or NULL with dbm.error, UnicodeDecodeError (ST_EVALUE) for a
 *         key that is not UTF-8, ValueError for a key holding a NUL byte, or MemoryError.
 */
ST_API const char **st_shelf_keys(st_shelf *sh);

/** @brief A key iterator over a shelf (opaque). Mirrors iter(shelf). */
typedef struct st_shelf_iterator st_shelf_iterator;

/**
 * @brief Starts iterating over the keys. Differs from Python: the iterator walks the keys
 *        as st_shelf_keys() lists them now, so changing the shelf while iterating is safe
 *        (Python's iterator fails or follows the change).
 * @param sh The shelf; it must outlive the iterator.
 * @return An iterator the caller frees with st_shelf_iterator_free(), or NULL with dbm.error or
 *         MemoryError.
 */
ST_API st_shelf_iterator *st_shelf_iter(st_shelf *sh);

/**
 * @brief Steps to the next key. Mirrors next(it).
 * @param it The iterator.
 * @param key Receives the key, valid until the next call or st_shelf_iterator_free().
 * @return 1 with a key, 0 at the end, -1 with an error.
 */
ST_API int st_shelf_iterator_next(st_shelf_iterator *it, const char **key);

/**
 * @brief Frees an iterator.
 * @param it The iterator, or NULL.
 */
ST_API void st_shelf_iterator_free(st_shelf_iterator *it);

/**
 * @brief Writes the writeback cache and flushes the file. Mirrors shelf.sync().
 * @param sh The shelf.
 * @return 0, or -1 with the errors of st_shelf_set() or dbm.error.
 */
ST_API int st_shelf_sync(st_shelf *sh);

/**
 * @brief Syncs and closes. Mirrors shelf.close(). An open transaction is aborted. The handle
 *        is freed even when this fails.
 * @param sh The shelf, or NULL (nothing happens).
 * @return 0, or -1 with the error of the last sync.
 */
ST_API int st_shelf_close(st_shelf *sh);

/**
 * @brief Starts a transaction (no Python counterpart; ZODB's transaction.begin()). Until
 *        st_shelf_commit() or st_shelf_abort(), writes are seen by this shelf only.
 *
 * **Isolation: serializable, optimistic.** st_shelf_begin() starts an SQLite read
 * transaction whose WAL snapshot is fixed at once: every read in the transaction sees the
 * database as it was at st_shelf_begin(), with the transaction's own writes applied on top
 * (st_shelf_get(), st_shelf_contains(), st_shelf_len(), st_shelf_keys() and iteration merge
 * them). Writes are buffered in memory. Each key the transaction reads or writes records the
 * bytes the snapshot held for it at its first touch (absence included); st_shelf_len()
 * records the count and st_shelf_keys() the key list. st_shelf_commit() takes SQLite's write
 * lock (BEGIN IMMEDIATE, waiting up to the busy timeout), checks that every recorded key
 * still holds the recorded bytes (and the count and key list, when recorded, are unchanged),
 * applies the writes and commits, synced to disk (synchronous=FULL). If a check fails nothing
 * is written and ST_ECONFLICT names the key. Bytes are compared, not versions: a key another
 * writer rewrote with the same bytes (or changed and changed back) does not conflict, which
 * keeps the guarantee below and spares a retry. As the checks and the writes happen under one
 * lock, committed transactions have the effect of running one at a time in commit order: no
 * dirty or non-repeatable reads, no phantoms, no lost updates, no write skew. A blind write
 * (a key written but never read) conflicts with any commit that changed that key after
 * st_shelf_begin(), as ZODB's write-write conflicts do. A transaction that wrote nothing
 * commits without checks and never conflicts: its reads were one committed state. Outside a
 * transaction each st_shelf_set() or st_shelf_del() is a transaction of its own (SQLite's
 * autocommit), atomic and durable.
 *
 * With writeback, the values cached before st_shelf_begin() are written first (outside the
 * transaction); values cached inside it are written by st_shelf_commit() and dropped by
 * st_shelf_abort().
 * @param sh The shelf (dbm.sqlite3 backend).
 * @return 0, or -1 with ValueError ("transactions are not supported by dbm.dumb", or by
 *         dbm.gnu), or
 *         RuntimeError (ST_ESTATE) when a transaction is already open.
 */
ST_API int st_shelf_begin(st_shelf *sh);

/**
 * @brief Commits the open transaction atomically and durably (ZODB's transaction.commit()).
 * @param sh The shelf.
 * @return 0, or -1 with ST_ECONFLICT (ConflictError, naming the key) when another writer
 *         committed other bytes for a key this transaction read or wrote since it read it (or
 *         to the number or list of keys it asked for); the transaction is then aborted and
 *         may be retried. Other errors: dbm.sqlite3.error (ST_ETIMEOUT when the write lock
 *         stayed busy), also ending the transaction, or RuntimeError when none is open.
 */
ST_API int st_shelf_commit(st_shelf *sh);

/**
 * @brief Drops the open transaction's writes (ZODB's transaction.abort()).
 * @param sh The shelf.
 * @return 0, or -1 with RuntimeError when no transaction is open.
 */
ST_API int st_shelf_abort(st_shelf *sh);

#ifdef __cplusplus
}
#endif

/** @} */

#endif /* SYSTOOLS_SHELVE_H */
