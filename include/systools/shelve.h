/**
 * @file systools/shelve.h
 * @brief Python's shelve: persistent dictionaries of pickled values over dbm files, plus
 *        transactions with conflict detection (the ZODB essence).
 */
#ifndef SYSTOOLS_SHELVE_H
#define SYSTOOLS_SHELVE_H

#include <stddef.h>
#include <sys/types.h>

#include "common.h"
#include "dbm.h"
#include "pickle.h"
#include "value.h"

/**
 * @defgroup shelve shelve: persistent dictionaries of pickled values, with transactions
 * @brief Shelves that CPython 3.13's `shelve` opens, and the other way round.
 *
 * An ::st_shelf maps UTF-8 string keys to values pickled into a dbm file (Python's
 * `shelve.open`; the file is an ::st_dbm of dbm.h, with its backends and their errors). On the
 * dbm.sqlite3 backend a shelf also has transactions: st_shelf_begin(), st_shelf_commit(),
 * st_shelf_abort().
 *
 * A shelf is used by one thread at a time; shelves on the same file, in one process or
 * many, may be used concurrently.
 *
 * @code
 * st_shelf *sh = st_shelve_open("people.db", "c", NULL);
 * st_value *v = st_value_parse("{'name': 'Ada', 'age': 36}");
 * st_shelf_set(sh, "ada", v);                // pickled; readable by shelve.open() in Python
 * st_value_unref(v);
 * st_shelf_free(sh);                         // closes (syncs) and frees
 * @endcode
 * @{
 */

#ifdef __cplusplus
extern "C" {
#endif

/** @brief An open shelf (opaque). Mirrors shelve.Shelf / shelve.DbfilenameShelf. */
typedef struct st_shelf st_shelf;

/** @brief The version of ::st_shelve_options this header describes (2 added durability and
 *         the serializer pair). */
#define ST_SHELVE_OPTIONS_VERSION 2

/** @brief ::st_shelve_options.protocol for pickle protocol 0 (a zero field means Python's
 *         protocol=None). */
#define ST_SHELVE_PROTOCOL_0 0x100

/**
 * @brief How to open a shelf. All fields zero (but the version) mean Python's defaults;
 *        initialise with ST_SHELVE_OPTIONS_INIT or st_shelve_options_init().
 */
typedef struct st_shelve_options {
    /** ST_SHELVE_OPTIONS_VERSION (any version from 1 to it is accepted). */
    unsigned int version;
    /** Pickle protocol for values written: 0 for Python's protocol=None (pickle's default,
     *  ST_PICKLE_DEFAULT_PROTOCOL), 1 to 5 for that protocol, ST_SHELVE_PROTOCOL_0 for
     *  protocol 0, a negative number for ST_PICKLE_HIGHEST_PROTOCOL. */
    int protocol;
    /**
     * Python's writeback (default False): non-zero to cache every value read or written and write the cache
     * back at st_shelf_sync() and st_shelf_close(), so a value changed in place (a list
     * appended to) is saved.
     */
    int writeback;
    /** As ::st_dbm_options.backend. */
    const char *backend;
    /** As ::st_dbm_options.mode: 0 means 0o666. */
    int mode;
    /** Limits for loading stored values (NULL: the defaults). */
    const st_pickle_load_options *load;
    /** (Version 2.) As ::st_dbm_options.durability: 0 is Python's, every commit synced. */
    st_dbm_durability durability;
    /**
     * (Version 2.) Mirrors the serializer argument of Python 3.15's shelve.open() (CPython
     * 3.13 has none): turns a value into the bytes stored, given the shelf's protocol (which
     * it may ignore). Returns a new bytes or bytearray value (the shelf releases it), or NULL
     * with an error set (via the value module's failures, or any error the caller raised)
     * to fail the write. NULL with deserializer NULL: pickle at the protocol, as Python's
     * default pickle.dumps. With writeback, the values cached are serialized at
     * st_shelf_sync() and st_shelf_close().
     */
    st_value *(*serializer)(void *ctx, const st_value *value, int protocol);
    /**
     * (Version 2.) Mirrors Python 3.15's deserializer: turns stored bytes back into a value.
     * Returns a new reference, or NULL with an error set. NULL with serializer NULL: the
     * pickle loader with the load options. Giving one of the pair without the other fails at
     * st_shelve_open() with ValueError (type "shelve.ShelveError"), as in Python.
     */
    st_value *(*deserializer)(void *ctx, const void *data, size_t len);
    /** (Version 2.) Passed to serializer and deserializer as their first argument. */
    void *serializer_ctx;
} st_shelve_options;

/** @brief Default options: protocol ST_PICKLE_DEFAULT_PROTOCOL, no writeback, backend chosen as
 *         Python does, mode 0o666, default load limits, durability as Python's, pickle as the
 *         serializer. */
#define ST_SHELVE_OPTIONS_INIT {.version = ST_SHELVE_OPTIONS_VERSION}

/**
 * @brief Sets options to the defaults, for callers that cannot use ST_SHELVE_OPTIONS_INIT.
 * @param opts The options to initialise.
 * @param version ST_SHELVE_OPTIONS_VERSION.
 * @return 0, or -1 with ValueError for a version this library does not know (then @p opts is
 *         left alone).
 */
ST_API int st_shelve_options_init(st_shelve_options *opts, unsigned int version);

/**
 * @brief Opens a shelf. Mirrors shelve.open(filename, flag, protocol, writeback). Keys are
 *        encoded as UTF-8 (Python's keyencoding="utf-8").
 * @note Threads (object): a shelf (its cache, its transaction) serves one thread at a time; open
 *       one per thread (tests/test_threads.c does).
 * @param filename The file.
 * @param flag "r", "w", "c" or "n", as st_dbm_open().
 * @param opts NULL for the defaults.
 * @return A handle the caller frees with st_shelf_free(); NULL with the errors of
 *         st_dbm_open(), or ValueError for a protocol above ST_PICKLE_HIGHEST_PROTOCOL
 *         (checked here; Python fails at the first write) or an options version (of
 *         ::st_shelve_options or of its load options) this library does not know, or
 *         shelve.ShelveError (ST_EVALUE) for a serializer without a deserializer or the
 *         other way round.
 */
ST_API st_shelf *st_shelve_open(const char *filename, const char *flag,
                               const st_shelve_options *opts);

/**
 * @brief Reads a value. Mirrors shelf[key].
 * @param sh The shelf.
 * @param key NUL-terminated UTF-8 key.
 * @return A new reference (caller releases with st_value_unref()), or NULL with KeyError
 *         (ST_EKEY) when absent, pickle.UnpicklingError for a value that does not load (or
 *         the deserializer's error),
 *         dbm.error, or ValueError ("invalid operation on closed shelf") when closed.
 */
ST_API st_value *st_shelf_get(st_shelf *sh, const char *key);

/**
 * @brief Stores a value (pickled with the shelf's protocol, or given to its serializer).
 *        Mirrors shelf[key] = value.
 * @param sh The shelf.
 * @param key NUL-terminated UTF-8 key.
 * @param value The value (borrowed; with writeback the shelf keeps a reference).
 * @return 0, or -1 with UnicodeDecodeError (ST_EVALUE) for a key that is not UTF-8, the
 *         errors of st_pickle_dumps() (or the serializer's, or TypeError when it returns
 *         something that is not bytes or bytearray), dbm.error, or ValueError ("invalid
 *         operation on closed shelf") when closed.
 */
ST_API int st_shelf_set(st_shelf *sh, const char *key, const st_value *value);

/**
 * @brief Removes a key. Mirrors del shelf[key].
 * @param sh The shelf.
 * @param key NUL-terminated UTF-8 key.
 * @return 0, or -1 with KeyError when absent, dbm.error, or ValueError ("invalid operation on closed shelf") when closed.
 */
ST_API int st_shelf_del(st_shelf *sh, const char *key);

/**
 * @brief Tells whether a key is present. Mirrors key in shelf.
 * @param sh The shelf.
 * @param key NUL-terminated UTF-8 key.
 * @return 1 or 0, or -1 with dbm.error or ValueError ("invalid operation on closed shelf") when closed.
 */
ST_API int st_shelf_contains(st_shelf *sh, const char *key);

/**
 * @brief Counts the keys. Mirrors len(shelf).
 * @param sh The shelf.
 * @return The number of keys, or -1 with dbm.error or ValueError ("invalid operation on closed shelf") when closed.
 */
ST_API ssize_t st_shelf_len(st_shelf *sh);

/**
 * @brief Lists the keys. Mirrors list(shelf.keys()).
 * @param sh The shelf.
 * @return A NULL-terminated vector of UTF-8 keys (caller frees with st_strv_free()) in
 *         st_dbm_keys()'s order, or NULL with dbm.error, UnicodeDecodeError (ST_EVALUE) for a
 *         key that is not UTF-8, ValueError for a key holding a NUL byte or when the shelf
 *         is closed, or MemoryError.
 */
ST_API const char **st_shelf_keys(st_shelf *sh);

/** @brief A key iterator over a shelf (opaque). Mirrors iter(shelf). */
typedef struct st_shelf_iterator st_shelf_iterator;

/**
 * @brief Starts iterating over the keys. Differs from Python: the iterator walks the keys
 *        as st_shelf_keys() lists them now, so changing the shelf while iterating is safe
 *        (Python's iterator fails or follows the change), and closing the shelf does not
 *        stop it.
 * @param sh The shelf.
 * @return An iterator the caller frees with st_shelf_iterator_free(), or NULL with dbm.error,
 *         MemoryError or ValueError ("invalid operation on closed shelf") when closed.
 */
ST_API st_shelf_iterator *st_shelf_iter(st_shelf *sh);

/**
 * @brief Steps to the next key. Mirrors next(it).
 * @param it The iterator.
 * @param key Receives the key, valid until the next call or st_shelf_iterator_free().
 * @return 1 with a key, 0 at the end (the iterator holds the keys already, so it does not
 *         fail).
 */
ST_API int st_shelf_iterator_next(st_shelf_iterator *it, const char **key);

/**
 * @brief Frees an iterator.
 * @param it The iterator, or NULL.
 */
ST_API void st_shelf_iterator_free(st_shelf_iterator *it);

/**
 * @brief Writes the writeback cache and flushes the file. Mirrors shelf.sync(). Differs from
 *        Python on a closed shelf: Python's sync() then does nothing, this fails as every
 *        other method does.
 * @param sh The shelf.
 * @return 0, or -1 with the errors of st_shelf_set(), dbm.error, or ValueError ("invalid operation on closed shelf") when closed.
 */
ST_API int st_shelf_sync(st_shelf *sh);

/**
 * @brief Syncs (writing the writeback cache) and closes the file, keeping the shelf. Mirrors
 *        shelf.close(). An open transaction is aborted first.
 *
 * Afterwards st_shelf_closed() answers 1 and every other function fails with ValueError
 * ("invalid operation on closed shelf"), as Python's closed shelf. Closing again does
 * nothing. The file is closed even when the sync fails.
 * @param sh The shelf, or NULL (nothing happens).
 * @return 0, or -1 with the error of the sync or of closing the file.
 */
ST_API int st_shelf_close(st_shelf *sh);

/**
 * @brief Tells whether st_shelf_close() was called (Python has no such attribute).
 * @param sh The shelf.
 * @return 1 when closed, 0 when open, -1 with ValueError for a NULL shelf.
 */
ST_API int st_shelf_closed(const st_shelf *sh);

/**
 * @brief Closes the shelf when it is open (syncing it, as st_shelf_close()), then frees it.
 *        A failure while closing is not reported (as Python's destructor); call
 *        st_shelf_close() first to see it.
 * @param sh The shelf, or NULL (nothing happens).
 */
ST_API void st_shelf_free(st_shelf *sh);

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
 * applies the writes and commits, synced to disk as the durability option says
 * (by default every commit, synchronous=FULL). If a check fails nothing
 * is written and ST_ECONFLICT names the key. Bytes are compared, not versions: a key another
 * writer rewrote with the same bytes (or changed and changed back) does not conflict, which
 * keeps the guarantee below and spares a retry. As the checks and the writes happen under one
 * lock, committed transactions have the effect of running one at a time in commit order: no
 * dirty or non-repeatable reads, no phantoms, no lost updates, no write skew. A blind write
 * (a key written but never read) conflicts with any commit that changed that key after
 * st_shelf_begin(), as ZODB's write-write conflicts do. A transaction that wrote nothing
 * commits without checks and never conflicts: its reads were one committed state. Outside a
 * transaction each st_shelf_set() or st_shelf_del() is a transaction of its own (SQLite's
 * autocommit), atomic and as durable as ::st_dbm_durability says.
 *
 * With writeback, the values cached before st_shelf_begin() are written first (outside the
 * transaction); values cached inside it are written by st_shelf_commit() and dropped by
 * st_shelf_abort().
 * @param sh The shelf (dbm.sqlite3 backend).
 * @return 0, or -1 with ValueError ("transactions are not supported by dbm.dumb", or by
 *         dbm.gnu, or when the shelf is closed: "invalid operation on closed shelf"), or
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
 *         stayed busy), also ending the transaction, RuntimeError when none is open, or
 *         ValueError ("invalid operation on closed shelf") when closed.
 */
ST_API int st_shelf_commit(st_shelf *sh);

/**
 * @brief Drops the open transaction's writes (ZODB's transaction.abort()).
 * @param sh The shelf.
 * @return 0, or -1 with RuntimeError when no transaction is open, or ValueError ("invalid operation on closed shelf") when closed.
 */
ST_API int st_shelf_abort(st_shelf *sh);

#ifdef __cplusplus
}
#endif

/** @} */

#endif /* SYSTOOLS_SHELVE_H */
