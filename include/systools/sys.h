/**
 * @file systools/sys.h
 * @brief Python's sys module: argv, executable, platform facts, sys.path, sys.modules, exc_info.
 */
#ifndef SYSTOOLS_SYS_H
#define SYSTOOLS_SYS_H

#include <stdint.h>
#include <sys/types.h>

#include "common.h"
#include "io.h"
#include "value.h"

/**
 * @defgroup sys sys: the running program and its interpreter facts
 * @brief Mirrors Python's `sys` module.
 *
 * Call st_sys_init() once at the start of main(), before other threads start; the other
 * functions are then safe from any thread. Without st_sys_init(), argv is read from
 * `/proc/self/cmdline` where the system has it (empty elsewhere).
 *
 * @code
 * int main(int argc, char **argv) {
 *     st_sys_init(argc, argv);
 *     char *conf = st_sys_path_find("app.conf");   // first dir of sys.path holding it
 *     if (!conf) { st_sys_exc_info_result e = st_sys_exc_info(); fputs(e.traceback, stderr); return 1; }
 *     st_free(conf);
 *     st_sys_exit(0);
 * }
 * @endcode
 * @{
 */

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Records the program's arguments and sets up sys.path.
 *
 * Copies @p argv, so the caller's array may change afterwards. Resets sys.path to its initial
 * value: the program's directory (the directory of st_sys_executable(), else ""), then each
 * non-empty entry of the `SYSTOOLS_PATH` environment variable (colon-separated, like PYTHONPATH).
 * Call it once, before starting threads.
 * @note Threads (MT-Unsafe, init): replaces the vector st_sys_argv() lent out; call it once in
 *       main() before starting threads.
 * @param argc Argument count, as main() received it.
 * @param argv Argument vector, as main() received it (argv[argc] may be anything).
 * @return 0, or -1 (ST_ENOMEM, ST_EVALUE when argc < 0 or argv is NULL with argc > 0).
 */
ST_API int st_sys_init(int argc, char **argv);

/**
 * @brief The program's arguments. Mirrors `sys.argv`.
 * @return A NULL-terminated vector whose length (st_strv_len()) is Python's len(sys.argv);
 *         argv[0] is the program path as given. The vector and its strings are owned by the
 *         library (do not free or write them) and valid until the next st_sys_init(). Never NULL:
 *         a vector holding only NULL when the arguments cannot be known.
 */
ST_API const char *const *st_sys_argv(void);

/**
 * @brief The absolute path of the running binary. Mirrors `sys.executable`.
 *
 * Read from the kernel (`/proc/self/exe`) where it can be; otherwise argv[0] resolved through
 * the working directory or PATH, as a shell would find it.
 * @return The path, or "" when it cannot be known (as Python returns ''). Owned by the library.
 */
ST_API const char *st_sys_executable(void);

/**
 * @brief The platform name. Mirrors `sys.platform`.
 * @return "linux", "darwin", "freebsd14" (FreeBSD with its major version, as Python),
 *         "openbsd", "netbsd", "sunos5", "aix", "cygwin", "win32", or the lowercase uname
 *         system name elsewhere. Static storage.
 */
ST_API const char *st_sys_platform(void);

/**
 * @brief The native byte order. Mirrors `sys.byteorder`.
 * @return "little" or "big". Static storage.
 */
ST_API const char *st_sys_byteorder(void);

/**
 * @brief The largest value a ssize_t holds. Mirrors `sys.maxsize`.
 * @return 2**63 - 1 on 64-bit systems, 2**31 - 1 on 32-bit ones; a constant, so the call cannot
 *         fail.
 */
ST_API ssize_t st_sys_maxsize(void);

/**
 * @brief The library's version and compiler, in the shape of `sys.version`.
 *
 * Differs from Python on purpose: it describes libsystools, e.g. "0.1.0 (libsystools) [GCC 12.2.0]".
 * @return Static storage.
 */
ST_API const char *st_sys_version(void);

/**
 * @brief The encoding of file names. Mirrors `sys.getfilesystemencoding()`.
 *
 * Like CPython on POSIX: the locale's codec named as Python names it ("utf-8", "iso8859-1"),
 * and "utf-8" in the C/POSIX locale (Python's UTF-8 mode) and on macOS. Reads the locale from
 * the environment without changing the process's locale.
 * @return Library-owned string, valid for the life of the process.
 */
ST_API const char *st_sys_getfilesystemencoding(void);

/**
 * @brief A snapshot of sys.path. Mirrors reading `sys.path`.
 * @return A new NULL-terminated vector of the entries in order (its length is st_strv_len(),
 *         Python's len(sys.path); an empty sys.path gives a vector holding only NULL). The caller
 *         owns the vector and its strings and frees both with st_strv_free(); later changes to
 *         sys.path do not show in it. NULL with ST_ENOMEM.
 */
ST_API const char **st_sys_path(void);

/**
 * @brief Inserts a directory into sys.path. Mirrors `sys.path.insert(index, dir)`.
 * @param index Position as Python's list.insert reads it: negative counts from the end and
 *        out-of-range values clamp to the ends.
 * @param dir Directory to insert (copied).
 * @return 0, or -1 (ST_ENOMEM; ST_EVALUE when dir is NULL).
 */
ST_API int st_sys_path_insert(ssize_t index, const char *dir);

/**
 * @brief Appends a directory to sys.path. Mirrors `sys.path.append(dir)`.
 * @param dir Directory to append (copied).
 * @return 0, or -1 (ST_ENOMEM; ST_EVALUE when dir is NULL).
 */
ST_API int st_sys_path_append(const char *dir);

/**
 * @brief Removes the first entry equal to @p dir. Mirrors `sys.path.remove(dir)`.
 * @param dir The entry to remove.
 * @return 0, or -1 with ST_EVALUE "list.remove(x): x not in list" when absent.
 */
ST_API int st_sys_path_remove(const char *dir);

/**
 * @brief Finds a file along sys.path: the first `dir/name` that exists.
 *
 * This is the lookup Python's import system does over sys.path, for any file. An entry of ""
 * stands for the working directory, as in Python. An absolute @p name is returned as is if it
 * exists.
 * @param name File name (may contain subdirectories).
 * @return The path found, which the caller frees with st_free(); NULL with ST_EOS (ENOENT,
 *         "FileNotFoundError") when no entry holds it, or ST_ENOMEM.
 */
ST_API char *st_sys_path_find(const char *name);

/** @brief A shared object loaded into the process (one entry of st_sys_modules()). */
typedef struct st_sys_module {
    const char *name;  /**< Base name, e.g. "libc.so.6"; the main program's base name for it. */
    const char *path;  /**< Path as the dynamic loader knows it (the executable's for the main program). */
    uintptr_t base;    /**< Load address (the bias the loader applied). */
} st_sys_module;

/**
 * @brief The shared objects loaded into the process, in load order. Mirrors `sys.modules`.
 *
 * Python's sys.modules lists imported modules; a C program's equivalent is the set of objects
 * the dynamic loader has mapped (the program first, then its libraries and anything dlopen()ed).
 * Uses dl_iterate_phdr() where available.
 * @param count Receives the number of entries (may be NULL).
 * @return An array terminated by an entry whose name is NULL, in one allocation the caller frees
 *         with st_free(); NULL with ST_ENOMEM, or ST_ENOTSUP where the loader cannot be asked.
 */
ST_API st_sys_module *st_sys_modules(size_t *count);

/**
 * @brief Looks a loaded shared object up by name. Mirrors `sys.modules[name]`.
 *
 * Matches the base name exactly ("libc.so.6"), the full path, or a base name followed by a dot
 * ("libc" and "libc.so" both find "libc.so.6").
 * @param name The name to look up.
 * @return A copy of the entry in one allocation the caller frees with st_free(); NULL with ST_EKEY
 *         (KeyError, naming @p name) when nothing loaded matches.
 */
ST_API st_sys_module *st_sys_modules_get(const char *name);

/**
 * @brief What st_sys_exc_info() returns: Python's `sys.exc_info()` triple (type, value,
 *        traceback) for the calling thread's last error, as three strings.
 *
 * The strings are owned by the library (do not free them) and valid until this thread's next
 * error or st_error_clear().
 */
typedef struct st_sys_exc_info_result {
    const char *type;      /**< Exception type name, e.g. "FileNotFoundError"; NULL when no error. */
    const char *value;     /**< The message, str(value) in Python; NULL when no error. */
    const char *traceback; /**< The full text Python would print, "Traceback (most recent call
                                last):" and the frames, then "type: message" (just the message
                                when memory ran out formatting it); NULL when no error. */
} st_sys_exc_info_result;

/**
 * @brief The calling thread's last error as Python's (type, value, traceback). Mirrors `sys.exc_info()`.
 *
 * Like st_error_last(), meaningful right after a call that reported failure: a successful call
 * leaves an earlier error in place (Python clears it when the handler ends).
 * @return The triple by value; all NULL when no error is set (Python's (None, None, None)).
 */
ST_API st_sys_exc_info_result st_sys_exc_info(void);

/**
 * @brief Flushes every stdio stream and ends the process. Mirrors `sys.exit(status)`.
 * @note Threads (MT-Unsafe, exit): as exit(3), atexit handlers and stdio flushing run while other
 *       threads go on.
 * @param status Exit status (Python's sys.exit(int)).
 */
ST_API void st_sys_exit(int status);

/* ---- sys.stdin, sys.stdout, sys.stderr and sys.argv as values ----------------------------- */

/**
 * @brief sys.stdin as a text file object (see st_io_open()). Mirrors `sys.stdin`.
 *
 * The three standard streams are made on first use over descriptors 0, 1 and 2 (which they
 * never close) with CPython 3.13's choices, without touching the process's locale:
 * - encoding: the locale's (st_sys_getfilesystemencoding(): utf-8 under the C/POSIX locale,
 *   Python's UTF-8 mode), or the encoding part of `PYTHONIOENCODING` ("enc[:errors]");
 * - errors: stdin and stdout "surrogateescape" when LC_CTYPE is C, POSIX, C.UTF-8, C.utf8 or
 *   UTF-8 (or a locale the system does not have, which leaves C), else "strict", or the errors
 *   part of `PYTHONIOENCODING`; stderr always "backslashreplace";
 * - buffering: stdout line-buffered on a terminal, else block-buffered; stderr line-buffered.
 * Python flushes them at exit: the library registers an atexit() handler that flushes stdout
 * and stderr (st_sys_exit() does too). Differences: `PYTHONUTF8` and `-X` options are not
 * read; the objects are process-wide and, like every file object, not thread-safe: share them
 * between threads under a lock of your own.
 * @return The library's object (do not free or close it); NULL with OSError when the
 *         descriptor is not open (Python's sys.stdin is then None) or LookupError for an
 *         encoding the library lacks.
 */
ST_API st_file *st_sys_stdin(void);

/**
 * @brief sys.stdout as a text file object. Mirrors `sys.stdout`; see st_sys_stdin().
 * @return The library's object; NULL as st_sys_stdin().
 */
ST_API st_file *st_sys_stdout(void);

/**
 * @brief sys.stderr as a text file object. Mirrors `sys.stderr`; see st_sys_stdin().
 * @return The library's object; NULL as st_sys_stdin().
 */
ST_API st_file *st_sys_stderr(void);

/**
 * @brief sys.argv as Python has it: a list of str, each argument decoded with
 *        st_os_fsdecode() (an argument b'\\xff' is '\\udcff'), so that pickling it gives
 *        CPython's bytes. Mirrors `sys.argv`.
 * @return A new list the caller releases with st_value_unref(); NULL with MemoryError or
 *         LookupError (a locale encoding the library lacks).
 */
ST_API st_value *st_sys_argv_value(void);

#ifdef __cplusplus
}
#endif

/** @} */

#endif
