/**
 * @file systools/dbm.h
 * @brief Python's dbm files (dbm.sqlite3, dbm.dumb, optionally dbm.gnu): persistent
 *        dictionaries of bytes.
 */
#ifndef SYSTOOLS_DBM_H
#define SYSTOOLS_DBM_H

#include <stddef.h>
#include <sys/types.h>

#include "common.h"
#include "value.h"

/**
 * @defgroup dbm dbm: persistent dictionaries of bytes (dbm, dbm.sqlite3, dbm.dumb, dbm.gnu)
 * @brief Files that CPython 3.13's `dbm` opens, and the other way round.
 *
 * An ::st_dbm maps bytes to bytes in one of Python's dbm formats (Python's `dbm.open`);
 * shelve.h builds Python's `shelve` on top of it.
 *
 * Backends: **dbm.sqlite3** (CPython 3.13's table `Dict`, the same SQL statements, URI open
 * modes and WAL journal, through libsqlite3; built when libsqlite3 was found at build time, as
 * it is by default, and then the default for new files) and **dbm.dumb**
 * (CPython's .dat/.dir/.bak files, byte for byte; the .dir index is read by a strict parser
 * of its own, never evaluated: a line dumb.py would not write fails with dbm.dumb.error
 * naming the file, the line and what is wrong). That is a deliberate difference: Python runs
 * ast.literal_eval() on each line, so a malformed line raises whatever that or the unpacking
 * of its result raises (SyntaxError, ValueError, AttributeError, UnicodeEncodeError), and a
 * line that evaluates to some other literal (a comment, a 3-tuple, a list, a negative
 * position) opens and fails at a later read or reads the wrong bytes; one error type, raised
 * at open, is what a C caller can handle. Unknown escapes in a key stay as written, as in
 * Python. **dbm.gnu** is built when libgdbm was found at build time: Python's
 * `_gdbm` module over the same library, so the files are the ones Python's dbm.gnu writes
 * (flags "r", "w", "c", "n" as gdbm_open()'s reader, writer, create, new; Python's extra
 * "f", "s", "u" modifiers are not offered; gdbm's file lock refuses a second handle while
 * a writer has the file, with EAGAIN; the file is opened close-on-exec). Without libgdbm, and
 * for dbm.ndbm, which is never compiled in, st_dbm_whichdb() still recognises the files and
 * opening one fails with NotImplementedError (ST_ENOTSUP, type "dbm.error").
 *
 * Errors carry CPython's type names: "dbm.error" from st_dbm_open()'s own checks,
 * "dbm.sqlite3.error" with SQLite's message (str(exc) in Python; when SQLite reports a failed
 * system call, code ST_EOS, the message goes on with ": " and the errno's text, as every
 * OSError of this library: st_dbm_open("", "c") is "unable to open database file: Is a
 * directory", as Python's dbm.open("", "c") fails on Path("") being "."), "dbm.dumb.error" for
 * dbm.dumb's own failures (Python's dbm.dumb.error is OSError), "dbm.gnu.error" with gdbm's
 * message (Python's _gdbm.error; with the errno when a system call failed), the OSError
 * subclasses for failed system calls, and KeyError for a missing key. The code tells a C caller more:
 * ST_EOS (with the errno) for I/O, ST_ESTATE for a write to a read-only database,
 * ST_ETIMEOUT when another process held the lock longer than the busy timeout (5 s, Python's
 * sqlite3.connect() default), ST_EFORMAT for a corrupt file, ST_EVALUE for a closed handle.
 *
 * A handle is used by one thread at a time; handles on the same file, in one process or
 * many, may be used concurrently.
 *
 * @code
 * st_dbm *db = st_dbm_open("cache", "c", NULL);
 * st_dbm_set(db, "key", 3, "value", 5);
 * st_dbm_close(db);                      // the file is closed; db still answers st_dbm_closed()
 * st_dbm_free(db);
 * @endcode
 * @{
 */

#ifdef __cplusplus
extern "C" {
#endif

/** @brief An open dbm file (opaque). Mirrors the object Python's dbm.open() returns. */
typedef struct st_dbm st_dbm;

/** @brief The version of ::st_dbm_options this header describes (2 added durability). */
#define ST_DBM_OPTIONS_VERSION 2

/**
 * @brief How hard dbm.sqlite3 works to keep each committed write (::st_dbm_options.durability,
 *        ::st_shelve_options.durability). Python has no such option: its dbm.sqlite3 always
 *        behaves as ST_DBM_DURABILITY_FULL. All three keep SQLite's WAL journal, so readers and
 *        one writer work concurrently, in one process or many, and shelve's transactions stay
 *        atomic and isolated in every mode.
 */
typedef enum st_dbm_durability {
    /**
     * Python's behaviour, the default: WAL with synchronous=FULL (what CPython's dbm.sqlite3
     * gets from SQLite's default; it sets no pragma). Each write (each st_dbm_set() or
     * st_dbm_del(), each shelve commit) is committed and the WAL is fsync()ed before the call
     * returns: a committed write survives a crash of the program, of the OS and a power loss.
     */
    ST_DBM_DURABILITY_FULL = 0,
    /**
     * WAL with synchronous=NORMAL: each write is committed at once, but the WAL is fsync()ed
     * only at checkpoints. A committed write survives a crash of the program (it is in the
     * OS's cache). A crash of the OS or a power loss may lose the last commits (those since
     * the last checkpoint): the file comes back as it was at an earlier commit, never
     * corrupt, never with half a transaction.
     */
    ST_DBM_DURABILITY_NORMAL = 1,
    /**
     * WAL with synchronous=OFF, for scratch data that can be rebuilt: nothing is ever
     * fsync()ed. A committed write survives a crash of the program; a crash of the OS or a
     * power loss may lose any number of commits and may leave the file corrupt.
     */
    ST_DBM_DURABILITY_OFF = 2
} st_dbm_durability;

/**
 * @brief How to open a dbm file. All fields zero (but the version) mean Python's defaults;
 *        initialise with ST_DBM_OPTIONS_INIT or st_dbm_options_init().
 */
typedef struct st_dbm_options {
    /** ST_DBM_OPTIONS_VERSION (any version from 1 to it is accepted). */
    unsigned int version;
    /**
     * NULL or "" to choose as Python's dbm.open does (st_dbm_whichdb() for an existing file;
     * for a new one the first this build has of dbm.sqlite3, dbm.gnu and dbm.dumb, as
     * dbm._defaultmod), else "dbm.sqlite3", "dbm.dumb" or "dbm.gnu". A backend the build lacks
     * fails with NotImplementedError (ST_ENOTSUP, "dbm.error"), as a CPython without the module.
     */
    const char *backend;
    /** Permission bits for files created, before the umask: Python's mode; 0 means Python's
     *  default 0o666. */
    int mode;
    /**
     * (Version 2.) How durable dbm.sqlite3's commits are: ST_DBM_DURABILITY_FULL (0,
     * Python's), ST_DBM_DURABILITY_NORMAL or ST_DBM_DURABILITY_OFF. Another value, or a value
     * other than FULL for a file of another backend, fails with ValueError: dbm.dumb and
     * dbm.gnu have no such setting here.
     */
    st_dbm_durability durability;
} st_dbm_options;

/** @brief Default options: backend chosen as Python does, mode 0o666, durability as Python's. */
#define ST_DBM_OPTIONS_INIT {.version = ST_DBM_OPTIONS_VERSION}

/**
 * @brief Sets options to the defaults, for callers that cannot use ST_DBM_OPTIONS_INIT.
 * @param opts The options to initialise.
 * @param version ST_DBM_OPTIONS_VERSION.
 * @return 0, or -1 with ValueError for a version this library does not know (then @p opts is
 *         left alone).
 */
ST_API int st_dbm_options_init(st_dbm_options *opts, unsigned int version);

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
 *
 * For "c" and "n" the files are created with the options' mode less the umask. dbm.sqlite3
 * opens the file through an SQLite URI (mode=ro for "r", rw for "w", rwc otherwise), switches
 * to WAL, and for "c"/"n" creates the table; dbm.dumb follows dumb.py (flag "r" refuses
 * writes).
 * @note Threads (object): a handle serves one thread at a time; open one per thread. (umask) Where
 *       /proc does not tell the mask, dbm.dumb reads it by setting and restoring it, as Python
 *       does, which races with other threads creating files.
 * @param filename The file (for dbm.dumb, the base name of the .dat/.dir/.bak files).
 * @param flag "r" read-only, "w" read-write, "c" read-write created if missing, "n" always a new
 *        empty database; as Python's.
 * @param opts NULL for the defaults.
 * @return A handle the caller frees with st_dbm_free(); NULL with ValueError (bad flag,
 *         backend or options version), dbm.error (ST_EOS, ENOENT) when the file does not exist
 *         and the flag is "r" or "w", dbm.error (ST_EFORMAT) for a file of unknown type,
 *         NotImplementedError for dbm.ndbm (and dbm.gnu when built without libgdbm), the
 *         backend's error for a file it cannot open, or MemoryError.
 */
ST_API st_dbm *st_dbm_open(const char *filename, const char *flag, const st_dbm_options *opts);

/**
 * @brief The backend a handle uses (also once closed).
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
 *         KeyError (ST_EKEY) when the key is absent, the backend's error (ST_EVALUE) when the
 *         handle is closed, or dbm.error / MemoryError. (Python's dbm.gnu says KeyError for a
 *         failed read too; here a read error is dbm.gnu.error.)
 */
ST_API unsigned char *st_dbm_get(st_dbm *db, const void *key, size_t klen, size_t *vlen);

/**
 * @brief Stores a value under a key, replacing any previous one. Mirrors db[key] = value.
 * @param db The handle (not opened with "r").
 * @param key The key bytes.
 * @param klen Their length.
 * @param value The value bytes.
 * @param vlen Their length.
 * @return 0, or -1 with dbm.error (read-only database, I/O error, closed handle) or
 *         MemoryError.
 */
ST_API int st_dbm_set(st_dbm *db, const void *key, size_t klen, const void *value, size_t vlen);

/**
 * @brief Removes a key. Mirrors del db[key].
 * @param db The handle (not opened with "r").
 * @param key The key bytes.
 * @param klen Their length.
 * @return 0, or -1 with KeyError when the key is absent, or dbm.error (also for a closed
 *         handle).
 */
ST_API int st_dbm_del(st_dbm *db, const void *key, size_t klen);

/**
 * @brief Tells whether a key is present. Mirrors key in db.
 * @param db The handle.
 * @param key The key bytes.
 * @param klen Their length.
 * @return 1 or 0, or -1 with dbm.error (also for a closed handle).
 */
ST_API int st_dbm_contains(st_dbm *db, const void *key, size_t klen);

/**
 * @brief Counts the keys. Mirrors len(db).
 * @param db The handle.
 * @return The number of keys, or -1 with dbm.error (also for a closed handle).
 */
ST_API ssize_t st_dbm_len(st_dbm *db);

/**
 * @brief Lists the keys. Mirrors db.keys().
 * @param db The handle.
 * @return A new list of bytes values (caller releases with st_value_unref()), in the
 *         backend's order, which is Python's: dbm.sqlite3 sorted bytewise (its query scans the
 *         key's unique index), dbm.dumb in insertion order, dbm.gnu in gdbm's hash order
 *         (gdbm_firstkey()/gdbm_nextkey()); NULL with dbm.error (also for a closed handle) or
 *         MemoryError.
 */
ST_API st_value *st_dbm_keys(st_dbm *db);

/**
 * @brief Flushes what was written to the file. Mirrors db.sync() where the backend has it
 *        (dbm.dumb writes its index; dbm.gnu calls gdbm_sync(); dbm.sqlite3 commits each
 *        write already).
 * @param db The handle.
 * @return 0, or -1 with dbm.error, or the backend's error (ST_EVALUE) for a closed handle
 *         (Python's dbm.gnu says so too; dumb.py's sync() does nothing once closed).
 */
ST_API int st_dbm_sync(st_dbm *db);

/**
 * @brief Flushes and closes the file, keeping the handle. Mirrors db.close().
 *
 * Afterwards st_dbm_closed() answers 1, st_dbm_backend() still answers, and every other
 * function fails with the backend's error type and Python's message: "DBM object has already
 * been closed" (dbm.sqlite3.error, dbm.dumb.error), "GDBM object has already been closed"
 * (dbm.gnu.error), code ST_EVALUE. Closing again does nothing. The file is closed even when
 * the flush fails.
 * @param db The handle, or NULL (nothing happens).
 * @return 0, or -1 with dbm.error when the last flush failed.
 */
ST_API int st_dbm_close(st_dbm *db);

/**
 * @brief Tells whether st_dbm_close() was called (Python has no such attribute).
 * @param db The handle.
 * @return 1 when closed, 0 when open, -1 with ValueError for a NULL handle.
 */
ST_API int st_dbm_closed(const st_dbm *db);

/**
 * @brief Closes the handle when it is open, then frees it. A flush that fails here is not
 *        reported (as Python's destructor); call st_dbm_close() first to see it.
 * @param db The handle, or NULL (nothing happens).
 */
ST_API void st_dbm_free(st_dbm *db);

#ifdef __cplusplus
}
#endif

/** @} */

#endif /* SYSTOOLS_DBM_H */
