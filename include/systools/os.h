/**
 * @file systools/os.h
 * @brief Python's os module: environment, process facts, descriptors, files, directories,
 *        walking, locks and process primitives.
 */
#ifndef SYSTOOLS_OS_H
#define SYSTOOLS_OS_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "common.h"
#include "value.h"

/**
 * @defgroup os os: files, directories, environment and processes
 * @brief Mirrors Python's `os` module (CPython 3.13 semantics).
 *
 * Every failing call returns -1 (or NULL) with an ST_EOS error carrying the errno and a message
 * that names the path involved, e.g. "cannot stat 'a/b': No such file or directory"; the error's
 * type is the OSError subclass Python would raise (FileNotFoundError, PermissionError, ...).
 * System calls interrupted by a signal are retried (PEP 475). Descriptors the library opens are
 * close-on-exec, like Python's non-inheritable descriptors. No path length limit applies.
 *
 * @code
 * st_os_walk_iterator *w = st_os_walk("src", NULL);
 * st_os_walk_step *step;
 * int rc;
 * while ((rc = st_os_walk_iterator_next(w, &step)) > 0) {
 *     for (size_t i = 0; i < step->nfilenames; i++)
 *         printf("%s/%s\\n", step->dirpath, step->filenames[i]);
 *     step->ndirnames = 0;   // prune: do not descend (topdown only)
 * }
 * if (rc < 0)
 *     fprintf(stderr, "%s\\n", st_error_message());
 * st_os_walk_iterator_free(w);
 * @endcode
 * @{
 */

/** @brief The line terminator (`os.linesep`). */
#define ST_OS_LINESEP "\n"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- environment ------------------------------------------------------------------------- */

/**
 * @brief Reads an environment variable. Mirrors `os.environ.get(key, default)`, and
 *        `os.environ[key]` when @p default_ is NULL.
 *
 * The environment is the process's own (`environ`): a change is seen by every child the library
 * spawns afterwards and never reaches the parent process. Thread safety: the C library's
 * environment is not thread-safe (glibc's setenv() may free or move what getenv() returned in
 * another thread). The library serialises its own environment calls with one lock and returns
 * copies, so st_os_* environment functions are safe among themselves; a direct
 * setenv()/putenv() by other code running concurrently is still a data race.
 * @param key Variable name.
 * @param default_ Value returned (copied) when @p key is not set; may be NULL.
 * @return A copy of the value or of @p default_, freed with st_free(); NULL with ST_EKEY
 *         (KeyError naming the key) when absent and @p default_ is NULL, or ST_ENOMEM. To tell
 *         "absent" without an error, pass a default or ask st_os_environ_contains().
 */
ST_API char *st_os_getenv(const char *key, const char *default_);

/**
 * @brief Sets an environment variable. Mirrors `os.environ[key] = value`.
 * @note Threads (env): safe with the library's other environment calls (one lock), but races with
 *       a direct setenv()/putenv()/getenv() elsewhere in the process.
 * @param key Variable name.
 * @param value Value (copied).
 * @return 0, or -1: ST_EVALUE "illegal environment variable name" when @p key holds '=', ST_EOS
 *         EINVAL for an empty name (both as Python), ST_ENOMEM.
 */
ST_API int st_os_setenv(const char *key, const char *value);

/**
 * @brief Removes an environment variable. Mirrors `os.unsetenv(key)`: absent is not an error.
 * @note Threads (env): as st_os_setenv(), safe among the library's calls only.
 * @param key Variable name.
 * @return 0, or -1 with ST_EOS EINVAL for an empty name or one holding '=' (as Python).
 */
ST_API int st_os_unsetenv(const char *key);

/**
 * @brief Tests whether a variable is set. Mirrors `key in os.environ`.
 * @param key Variable name.
 * @return 1 when set, 0 when not; cannot fail.
 */
ST_API int st_os_environ_contains(const char *key);

/**
 * @brief A snapshot of the whole environment. Mirrors iterating `os.environ.items()`.
 * @return A new NULL-terminated vector of "KEY=VALUE" strings in the environment's order (its
 *         length is st_strv_len(); an empty environment gives a vector holding only NULL). The
 *         caller owns the vector and its strings and frees both with st_strv_free(). NULL with
 *         ST_ENOMEM.
 */
ST_API const char **st_os_environ(void);

/* ---- process facts and administration ------------------------------------------------------ */

/** @brief The process id. Mirrors os.getpid(). @return The pid. */
ST_API pid_t st_os_getpid(void);
/** @brief The parent's process id. Mirrors os.getppid(). @return The parent's pid. */
ST_API pid_t st_os_getppid(void);
/** @brief The real user id. Mirrors os.getuid(). @return The uid. */
ST_API uid_t st_os_getuid(void);
/** @brief The effective user id. Mirrors os.geteuid(). @return The effective uid. */
ST_API uid_t st_os_geteuid(void);
/** @brief The real group id. Mirrors os.getgid(). @return The gid. */
ST_API gid_t st_os_getgid(void);
/** @brief The effective group id. Mirrors os.getegid(). @return The effective gid. */
ST_API gid_t st_os_getegid(void);

/**
 * @brief The name of the user logged in on the controlling terminal. Mirrors os.getlogin().
 * @return The name (st_free()), or NULL with ST_EOS (e.g. ENXIO/ENOTTY without a terminal).
 */
ST_API char *st_os_getlogin(void);

/**
 * @brief The current working directory, whatever its length. Mirrors os.getcwd().
 * @return The path (st_free()), or NULL with ST_EOS.
 */
ST_API char *st_os_getcwd(void);

/**
 * @brief Changes the working directory. Mirrors os.chdir(path).
 * @note Threads (MT-Unsafe, cwd): the working directory is the process's: every relative path of
 *       every thread changes meaning at once; prefer absolute paths or dir_fd forms
 *       (docs/conventions.md, Threads).
 * @param path The new directory.
 * @return 0, or -1 with ST_EOS naming @p path.
 */
ST_API int st_os_chdir(const char *path);

/**
 * @brief Changes the working directory to an open directory. Mirrors os.fchdir(fd).
 * @note Threads (MT-Unsafe, cwd): as st_os_chdir(), the working directory is process-wide.
 * @param fd A descriptor open on a directory.
 * @return 0, or -1 with ST_EOS.
 */
ST_API int st_os_fchdir(int fd);

/**
 * @brief Sets the file mode creation mask. Mirrors os.umask(mask).
 * @note Threads (MT-Unsafe, umask): the mask is process-wide; files other threads create meanwhile
 *       get it.
 * @param mask The new mask.
 * @return The previous mask (never negative: umask(2) cannot fail).
 */
ST_API mode_t st_os_umask(mode_t mask);

/** @brief What st_os_uname() returns; the strings live in the same allocation. */
typedef struct st_os_uname_result {
    const char *sysname;  /**< Operating system name, e.g. "Linux". */
    const char *nodename; /**< Network node name. */
    const char *release;  /**< Kernel release. */
    const char *version;  /**< Kernel version. */
    const char *machine;  /**< Hardware name, e.g. "x86_64". */
} st_os_uname_result;

/**
 * @brief Identifies the system. Mirrors os.uname().
 * @return One allocation freed with st_free(), or NULL with ST_EOS or ST_ENOMEM.
 */
ST_API st_os_uname_result *st_os_uname(void);

/**
 * @brief The number of logical CPUs in the system. Mirrors os.cpu_count().
 *
 * Cannot fail: where Python returns None (the count cannot be determined) this returns 0, a
 * count no system has, so no error is set and none needs to be looked at.
 * @return The count (>= 1), or 0 for Python's None.
 */
ST_API int st_os_cpu_count(void);

/**
 * @brief The number of CPUs the calling thread may run on. Mirrors os.process_cpu_count().
 *
 * Counts the scheduler affinity mask where the system has one (Linux), else st_os_cpu_count().
 * Unlike CPython, the PYTHON_CPU_COUNT override is not consulted. Cannot fail, as
 * st_os_cpu_count().
 * @return The count (>= 1), or 0 for Python's None.
 */
ST_API int st_os_process_cpu_count(void);

/**
 * @brief Fills a buffer with random bytes suitable for cryptographic use. Mirrors os.urandom(n).
 * @param buf Destination.
 * @param n Number of bytes.
 * @return 0, or -1 with ST_EOS.
 */
ST_API int st_os_urandom(void *buf, size_t n);

/**
 * @brief The message of an error number. Mirrors os.strerror(code).
 * @param code An errno value.
 * @return The message (st_free()), e.g. "No such file or directory", or "Unknown error N";
 *         NULL with ST_ENOMEM.
 */
ST_API char *st_os_strerror(int code);

/**
 * @brief The size of the terminal on a descriptor. Mirrors os.get_terminal_size(fd).
 * @param fd A descriptor on a terminal (Python's default is 1, stdout).
 * @param columns Receives the width in characters (Python's terminal_size.columns).
 * @param lines Receives the height in lines (Python's terminal_size.lines).
 * @return 0, or -1 with ST_EOS (ENOTTY when @p fd is not a terminal); on failure neither output
 *         is written.
 */
ST_API int st_os_get_terminal_size(int fd, int *columns, int *lines);

/**
 * @brief Changes the process's niceness. Mirrors os.nice(increment).
 * @param increment Added to the niceness.
 * @param result Receives the new niceness, which may be negative (may be NULL).
 * @return 0, or -1 with ST_EOS (EPERM when lowering it without privilege).
 */
ST_API int st_os_nice(int increment, int *result);

/* ---- descriptors ---------------------------------------------------------------------------- */

/**
 * @brief Opens a file. Mirrors os.open(path, flags, mode).
 *
 * O_CLOEXEC is always added, as Python makes new descriptors non-inheritable.
 * @param path The file.
 * @param flags O_RDONLY, O_WRONLY, O_RDWR with O_CREAT, O_TRUNC, ... .
 * @param mode Permissions for a created file (Python's default is 0777).
 * @return The descriptor, or -1 with ST_EOS naming @p path.
 */
ST_API int st_os_open(const char *path, int flags, mode_t mode);

/**
 * @brief Reads at most @p n bytes, one read(2). Mirrors os.read(fd, n).
 * @param fd Descriptor.
 * @param buf Destination.
 * @param n Capacity of @p buf.
 * @return The number of bytes read, never negative (0 at end of file), or -1 with ST_EOS: a
 *         count cannot be confused with the failure, so it needs no out-parameter.
 */
ST_API ssize_t st_os_read(int fd, void *buf, size_t n);

/**
 * @brief Reads until end of file.
 *
 * The loop Python code writes around os.read(); partial reads and EINTR are handled.
 * @param fd Descriptor.
 * @param len Receives the number of bytes read (may be NULL).
 * @return The bytes, NUL-terminated (the NUL is not counted), freed with st_free(); NULL with
 *         ST_EOS or ST_ENOMEM.
 */
ST_API char *st_os_read_all(int fd, size_t *len);

/**
 * @brief Writes a whole buffer. Like os.write(fd, data) repeated until all is written.
 * @param fd Descriptor.
 * @param buf Data.
 * @param n Number of bytes.
 * @return 0 once every byte is written, or -1 with ST_EOS (what was written before the failure
 *         stays written).
 */
ST_API int st_os_write(int fd, const void *buf, size_t n);

/**
 * @brief Moves a descriptor's file position. Mirrors os.lseek(fd, pos, how).
 *
 * The position comes back through @p result because some files (Linux's /proc/PID/mem, some
 * devices) have offsets that read as negative, which a return value could not tell from a
 * failure.
 * @param fd Descriptor.
 * @param pos Offset.
 * @param how SEEK_SET, SEEK_CUR or SEEK_END.
 * @param result Receives the new position, measured from the start of the file (may be NULL).
 * @return 0, or -1 with ST_EOS (then @p result is not written).
 */
ST_API int st_os_lseek(int fd, int64_t pos, int how, int64_t *result);

/**
 * @brief Closes a descriptor. Mirrors os.close(fd).
 *
 * EINTR is treated as success: on Linux the descriptor is released anyway and retrying could
 * close a descriptor another thread just received.
 * @param fd Descriptor.
 * @return 0, or -1 with ST_EOS (EBADF).
 */
ST_API int st_os_close(int fd);

/**
 * @brief Duplicates a descriptor, non-inheritable. Mirrors os.dup(fd).
 * @param fd Descriptor.
 * @return The new descriptor, or -1 with ST_EOS.
 */
ST_API int st_os_dup(int fd);

/**
 * @brief Duplicates @p fd onto @p fd2. Mirrors os.dup2(fd, fd2, inheritable).
 * @param fd Source descriptor.
 * @param fd2 Target number; closed first if open.
 * @param inheritable Non-zero (Python's default) to leave @p fd2 inheritable.
 * @return @p fd2, or -1 with ST_EOS.
 */
ST_API int st_os_dup2(int fd, int fd2, int inheritable);

/**
 * @brief Creates a pipe whose ends are both close-on-exec. Mirrors os.pipe().
 * @param fds Receives the read end in fds[0] and the write end in fds[1].
 * @return 0, or -1 with ST_EOS.
 */
ST_API int st_os_pipe(int fds[2]);

/**
 * @brief Wraps a descriptor in a stdio stream. Mirrors os.fdopen(fd, mode).
 *
 * The mode is checked as Python's open() checks it: exactly one of 'r', 'w', 'a', 'x', optional
 * '+', and at most one of 'b' and 't' ('b' and 't' make no difference in C). On success the
 * stream owns @p fd (fclose() closes it); on failure @p fd stays open.
 * @param fd Descriptor.
 * @param mode Python mode string, e.g. "r", "wb", "a+".
 * @return The stream, or NULL with ST_EVALUE (Python's message, e.g. "invalid mode: 'rw'") or
 *         ST_EOS.
 */
ST_API FILE *st_os_fdopen(int fd, const char *mode);

/**
 * @brief Flushes a file's data and metadata to disk. Mirrors os.fsync(fd).
 * @param fd Descriptor.
 * @return 0, or -1 with ST_EOS.
 */
ST_API int st_os_fsync(int fd);

/**
 * @brief Truncates or extends an open file. Mirrors os.ftruncate(fd, length).
 * @param fd Descriptor open for writing.
 * @param length New size.
 * @return 0, or -1 with ST_EOS.
 */
ST_API int st_os_ftruncate(int fd, int64_t length);

/**
 * @brief Whether a descriptor is in blocking mode. Mirrors os.get_blocking(fd).
 * @param fd Descriptor.
 * @return 1 blocking, 0 non-blocking, -1 with ST_EOS.
 */
ST_API int st_os_get_blocking(int fd);

/**
 * @brief Sets or clears O_NONBLOCK. Mirrors os.set_blocking(fd, blocking).
 * @param fd Descriptor.
 * @param blocking Non-zero for blocking mode.
 * @return 0, or -1 with ST_EOS.
 */
ST_API int st_os_set_blocking(int fd, int blocking);

/**
 * @brief Whether a descriptor survives exec. Mirrors os.get_inheritable(fd).
 * @param fd Descriptor.
 * @return 1 inheritable, 0 close-on-exec, -1 with ST_EOS.
 */
ST_API int st_os_get_inheritable(int fd);

/**
 * @brief Sets or clears close-on-exec. Mirrors os.set_inheritable(fd, inheritable).
 * @param fd Descriptor.
 * @param inheritable Non-zero to let children inherit it.
 * @return 0, or -1 with ST_EOS.
 */
ST_API int st_os_set_inheritable(int fd, int inheritable);

/**
 * @brief Creates a named pipe. Mirrors os.mkfifo(path, mode).
 * @param path The FIFO to create.
 * @param mode Permissions (Python's default is 0666), masked by the umask.
 * @return 0, or -1 with ST_EOS naming @p path.
 */
ST_API int st_os_mkfifo(const char *path, mode_t mode);

/* ---- stat ----------------------------------------------------------------------------------- */

/**
 * @brief Python's os.stat_result.
 *
 * Field names are Python's; the float times st_atime/st_mtime/st_ctime cannot be fields because
 * the C library defines those names as macros, so the exact nanosecond forms are given.
 */
typedef struct st_os_stat_result {
    uint32_t st_mode;     /**< File type and permission bits (test with S_ISDIR() etc.). */
    uint64_t st_ino;      /**< Inode number. */
    uint64_t st_dev;      /**< Device. */
    uint64_t st_nlink;    /**< Number of hard links. */
    uint32_t st_uid;      /**< Owner. */
    uint32_t st_gid;      /**< Group. */
    int64_t st_size;      /**< Size in bytes. */
    int64_t st_atime_ns;  /**< Last access, nanoseconds since the epoch. */
    int64_t st_mtime_ns;  /**< Last modification, nanoseconds since the epoch. */
    int64_t st_ctime_ns;  /**< Last metadata change, nanoseconds since the epoch. */
    int64_t st_blocks;    /**< 512-byte blocks allocated. */
    int64_t st_blksize;   /**< Preferred I/O block size. */
    uint64_t st_rdev;     /**< Device number of a device file. */
} st_os_stat_result;

/**
 * @brief Status of a file, following symlinks. Mirrors os.stat(path).
 * @param path The file.
 * @param out Receives the result.
 * @return 0, or -1 with ST_EOS naming @p path.
 */
ST_API int st_os_stat(const char *path, st_os_stat_result *out);

/**
 * @brief Status of a file without following a final symlink. Mirrors os.lstat(path).
 * @param path The file.
 * @param out Receives the result.
 * @return 0, or -1 with ST_EOS naming @p path.
 */
ST_API int st_os_lstat(const char *path, st_os_stat_result *out);

/**
 * @brief Status of an open file. Mirrors os.fstat(fd).
 * @param fd Descriptor.
 * @param out Receives the result.
 * @return 0, or -1 with ST_EOS.
 */
ST_API int st_os_fstat(int fd, st_os_stat_result *out);

/* ---- file processing ------------------------------------------------------------------------ */

/**
 * @brief Deletes a file (not a directory). Mirrors os.remove(path).
 * @param path The file.
 * @return 0, or -1 with ST_EOS naming @p path (IsADirectoryError for a directory on Linux).
 */
ST_API int st_os_remove(const char *path);

/**
 * @brief Deletes a file. Mirrors os.unlink(path), the same as st_os_remove().
 * @param path The file.
 * @return 0, or -1 with ST_EOS naming @p path.
 */
ST_API int st_os_unlink(const char *path);

/**
 * @brief Renames a file or directory. Mirrors os.rename(src, dst).
 * @param src Existing path.
 * @param dst New path; an existing file is replaced atomically (POSIX rename).
 * @return 0, or -1 with ST_EOS naming both paths.
 */
ST_API int st_os_rename(const char *src, const char *dst);

/**
 * @brief Renames, atomically replacing @p dst. Mirrors os.replace(src, dst).
 * @param src Existing path.
 * @param dst New path.
 * @return 0, or -1 with ST_EOS naming both paths.
 */
ST_API int st_os_replace(const char *src, const char *dst);

/**
 * @brief Creates a hard link. Mirrors os.link(src, dst).
 * @param src Existing file.
 * @param dst New name.
 * @return 0, or -1 with ST_EOS naming both paths.
 */
ST_API int st_os_link(const char *src, const char *dst);

/**
 * @brief Creates a symbolic link @p dst pointing to @p src. Mirrors os.symlink(src, dst).
 * @param src Link target (stored as given, need not exist).
 * @param dst The link to create.
 * @return 0, or -1 with ST_EOS naming both paths.
 */
ST_API int st_os_symlink(const char *src, const char *dst);

/**
 * @brief The target of a symbolic link, whatever its length. Mirrors os.readlink(path).
 * @param path The link.
 * @return The target (st_free()), or NULL with ST_EOS naming @p path (EINVAL: not a link).
 */
ST_API char *st_os_readlink(const char *path);

/**
 * @brief Changes permissions. Mirrors os.chmod(path, mode).
 * @param path The file (symlinks followed).
 * @param mode New mode bits.
 * @return 0, or -1 with ST_EOS naming @p path.
 */
ST_API int st_os_chmod(const char *path, mode_t mode);

/**
 * @brief Changes owner and group. Mirrors os.chown(path, uid, gid).
 * @param path The file (symlinks followed).
 * @param uid New owner, or (uid_t)-1 to keep it.
 * @param gid New group, or (gid_t)-1 to keep it.
 * @return 0, or -1 with ST_EOS naming @p path.
 */
ST_API int st_os_chown(const char *path, uid_t uid, gid_t gid);

/**
 * @brief Tests access with the real uid/gid. Mirrors os.access(path, mode).
 * @param path The file.
 * @param mode F_OK, or an OR of R_OK, W_OK, X_OK.
 * @return 1 when allowed, 0 otherwise (as Python, failures are just False; no error is set).
 */
ST_API int st_os_access(const char *path, int mode);

/**
 * @brief Truncates or extends a file to @p length bytes. Mirrors os.truncate(path, length).
 * @param path The file.
 * @param length New size.
 * @return 0, or -1 with ST_EOS naming @p path.
 */
ST_API int st_os_truncate(const char *path, int64_t length);

/**
 * @brief Sets access and modification times. Mirrors os.utime(path, ns=(atime_ns, mtime_ns)).
 * @param path The file (symlinks followed).
 * @param ns {atime, mtime} in nanoseconds since the epoch, or NULL for "now" (Python's
 *        os.utime(path)).
 * @return 0, or -1 with ST_EOS naming @p path.
 */
ST_API int st_os_utime(const char *path, const int64_t ns[2]);

/**
 * @brief Creates a directory. Mirrors os.mkdir(path, mode).
 * @param path The directory.
 * @param mode Permissions (Python's default is 0777), masked by the umask.
 * @return 0, or -1 with ST_EOS naming @p path (FileExistsError when it exists).
 */
ST_API int st_os_mkdir(const char *path, mode_t mode);

/**
 * @brief Creates a directory and any missing parents. Mirrors os.makedirs(path, mode, exist_ok).
 *
 * Parents are created with mode 0777 (masked by the umask) and only the leaf gets @p mode, as
 * in Python 3.7+. Works without recursion. On failure the message names the component that
 * could not be created; parents created before it stay, as in Python.
 * @param path The directory.
 * @param mode Permissions of the leaf.
 * @param exist_ok Non-zero: an existing directory at @p path is not an error.
 * @return 0, or -1 with ST_EOS naming the failing component.
 */
ST_API int st_os_makedirs(const char *path, mode_t mode, int exist_ok);

/**
 * @brief Removes an empty directory. Mirrors os.rmdir(path).
 * @param path The directory.
 * @return 0, or -1 with ST_EOS naming @p path.
 */
ST_API int st_os_rmdir(const char *path);

/**
 * @brief Removes a directory, then each parent that became empty. Mirrors os.removedirs(path).
 *
 * Only the removal of the leaf can fail; removing parents stops quietly at the first that
 * cannot be removed.
 * @param path The directory.
 * @return 0, or -1 with ST_EOS naming @p path.
 */
ST_API int st_os_removedirs(const char *path);

/* ---- directories ---------------------------------------------------------------------------- */

/**
 * @brief The names in a directory, without "." and "..", in the directory's order.
 *        Mirrors os.listdir(path).
 * @param path The directory (Python's default is ".").
 * @return A new NULL-terminated vector of names (its length is st_strv_len(); an empty directory
 *         gives a vector holding only NULL). The caller owns the vector and its strings and frees
 *         both with st_strv_free(). NULL with ST_EOS naming @p path, or ST_ENOMEM.
 */
ST_API const char **st_os_listdir(const char *path);

/** @brief A directory iterator (Python's os.scandir() object, a ScandirIterator). */
typedef struct st_os_scandir_iterator st_os_scandir_iterator;
/** @brief One entry of a directory (Python's os.DirEntry), owned by its iterator. */
typedef struct st_os_direntry st_os_direntry;

/**
 * @brief Opens a directory for iteration. Mirrors os.scandir(path).
 * @param path The directory.
 * @return The iterator, which holds the directory open until st_os_scandir_iterator_close() or
 *         st_os_scandir_iterator_free() (free it with the latter), or NULL with ST_EOS naming
 *         @p path, or ST_ENOMEM.
 */
ST_API st_os_scandir_iterator *st_os_scandir(const char *path);

/**
 * @brief The next entry ("." and ".." are skipped). Mirrors next() on a ScandirIterator.
 * @param it The iterator.
 * @param entry Receives the entry, owned by the iterator and valid until the next call of this
 *        function or st_os_scandir_iterator_free(); st_os_scandir_iterator_close() does not
 *        invalidate it (its methods then stat through its path, as Python's DirEntry does).
 *        Not written when 0 or -1 is returned.
 * @return 1 with an entry, 0 at the end or once the iterator is closed (Python's
 *         StopIteration), -1 with ST_EOS or ST_ENOMEM.
 */
ST_API int st_os_scandir_iterator_next(st_os_scandir_iterator *it, st_os_direntry **entry);

/**
 * @brief Closes the directory and keeps the iterator. Mirrors ScandirIterator.close().
 *
 * Releases the directory stream (its descriptor) at once; st_os_scandir_iterator_next() then
 * returns 0, as Python's closed iterator raises StopIteration. Closing twice is allowed.
 * @param it The iterator, or NULL.
 */
ST_API void st_os_scandir_iterator_close(st_os_scandir_iterator *it);

/**
 * @brief Closes the directory if still open and frees the iterator and its entry.
 * @param it The iterator, or NULL.
 */
ST_API void st_os_scandir_iterator_free(st_os_scandir_iterator *it);

/**
 * @brief The entry's file name. Mirrors DirEntry.name.
 * @param e The entry.
 * @return The name, owned by the entry.
 */
ST_API const char *st_os_direntry_name(const st_os_direntry *e);

/**
 * @brief The entry's path: the scandir path joined with the name. Mirrors DirEntry.path.
 * @param e The entry.
 * @return The path, owned by the entry.
 */
ST_API const char *st_os_direntry_path(const st_os_direntry *e);

/**
 * @brief The entry's inode number, from the directory itself. Mirrors DirEntry.inode().
 * @param e The entry.
 * @return The inode number.
 */
ST_API uint64_t st_os_direntry_inode(const st_os_direntry *e);

/**
 * @brief Whether the entry is a directory. Mirrors DirEntry.is_dir(follow_symlinks).
 *
 * Answered from the type the kernel returned with the name when it did (no system call); a
 * stat is made only for unknown types or a symlink to be followed, and then cached.
 * @param e The entry.
 * @param follow_symlinks Non-zero (Python's default) to answer for a symlink's target.
 * @return 1 or 0 (0 also when the file vanished, as Python's False), -1 with ST_EOS on other
 *         stat errors.
 */
ST_API int st_os_direntry_is_dir(st_os_direntry *e, int follow_symlinks);

/**
 * @brief Whether the entry is a regular file. Mirrors DirEntry.is_file(follow_symlinks).
 * @param e The entry.
 * @param follow_symlinks Non-zero (Python's default) to answer for a symlink's target.
 * @return 1, 0, or -1 with ST_EOS, as st_os_direntry_is_dir().
 */
ST_API int st_os_direntry_is_file(st_os_direntry *e, int follow_symlinks);

/**
 * @brief Whether the entry is a symbolic link. Mirrors DirEntry.is_symlink().
 * @param e The entry.
 * @return 1, 0, or -1 with ST_EOS, as st_os_direntry_is_dir().
 */
ST_API int st_os_direntry_is_symlink(st_os_direntry *e);

/**
 * @brief The entry's status, cached after the first call. Mirrors DirEntry.stat(follow_symlinks).
 * @param e The entry.
 * @param follow_symlinks Non-zero (Python's default) to stat a symlink's target.
 * @param out Receives the result.
 * @return 0, or -1 with ST_EOS naming the entry's path.
 */
ST_API int st_os_direntry_stat(st_os_direntry *e, int follow_symlinks, st_os_stat_result *out);

/* ---- walk ------------------------------------------------------------------------------------ */

/**
 * @brief Called for each directory that cannot be listed (Python's onerror).
 *
 * The error is also the thread's last error while the callback runs.
 * @param path The directory.
 * @param err Its errno.
 * @param ctx The options' onerror_ctx.
 * @return 0 to go on (the directory is skipped), non-zero to stop: st_os_walk_iterator_next() then returns
 *         -1 with this error (Python's onerror raising).
 */
typedef int (*st_os_walk_onerror)(const char *path, int err, void *ctx);

/**
 * @brief Options of st_os_walk() and st_os_fwalk().
 *
 * All fields zero (but the version) are Python's defaults: topdown=True, followlinks=False,
 * onerror=None.
 */
typedef struct st_os_walk_options {
    unsigned int version;        /**< ST_OS_WALK_OPTIONS_VERSION (or older; 0 is refused). */
    int bottomup;                /**< Non-zero: a directory after its subdirectories (Python's
                                      topdown=False); 0 (default): before them. */
    int followlinks;             /**< Non-zero: descend into symlinks to directories (default 0). */
    st_os_walk_onerror onerror;  /**< Error callback; NULL ignores errors (Python's default). */
    void *onerror_ctx;           /**< Passed to @p onerror. */
} st_os_walk_options;

/** @brief The current version of ::st_os_walk_options. */
#define ST_OS_WALK_OPTIONS_VERSION 1
/**
 * @brief Initialiser of ::st_os_walk_options with Python's defaults: the version, every other
 *        field zero.
 *
 * Designated, so that `-Wextra` (-Wmissing-field-initializers) stays quiet; C++ before C++20
 * calls st_os_walk_options_init() instead.
 */
#define ST_OS_WALK_OPTIONS_INIT {.version = ST_OS_WALK_OPTIONS_VERSION}

/**
 * @brief Sets walk options to Python's defaults, as ST_OS_WALK_OPTIONS_INIT does, for callers
 *        that cannot use the macro (bindings, structs allocated at run time).
 * @param opts The options to initialise.
 * @param version ST_OS_WALK_OPTIONS_VERSION, or an older version the caller was built against.
 * @return 0, or -1 with ST_EVALUE when @p opts is NULL or @p version is 0 or newer than this
 *         library's (then @p opts is left alone).
 */
ST_API int st_os_walk_options_init(st_os_walk_options *opts, unsigned int version);

/**
 * @brief One step of a walk: Python's (dirpath, dirnames, filenames[, dirfd]) tuple.
 *
 * Owned by the walker and valid until the next st_os_walk_iterator_next(),
 * st_os_walk_iterator_close() or st_os_walk_iterator_free(). In a topdown walk the caller may
 * prune or reorder the subdirectories visited next by permuting the pointers in
 * dirnames[0 .. ndirnames) and lowering @p ndirnames (Python's in-place edit of dirnames); it must
 * not free, add or write the strings themselves.
 */
typedef struct st_os_walk_step {
    const char *dirpath;     /**< The directory: the top joined with the names leading here. */
    const char **dirnames;   /**< Subdirectories (including symlinks to directories): @p ndirnames
                                  names, then NULL until the caller edits the vector; never NULL
                                  itself (an empty list is a vector holding only NULL). Owned by
                                  the walker: do not free. */
    size_t ndirnames;        /**< Number of @p dirnames (the length that counts once edited). */
    const char **filenames;  /**< Every other entry: @p nfilenames names, then NULL; never NULL
                                  itself. Owned by the walker: do not free or edit. */
    size_t nfilenames;       /**< Number of @p filenames. */
    int dirfd;               /**< fwalk: a descriptor on @p dirpath, owned by the walker and open
                                  as long as the step is valid; walk: -1. */
} st_os_walk_step;

/** @brief A directory-tree walker. */
typedef struct st_os_walk_iterator st_os_walk_iterator;

/**
 * @brief Starts walking a tree. Mirrors os.walk(top, topdown, onerror, followlinks).
 *
 * Iterative (no recursion, any depth), one directory listed at a time; memory grows with the
 * depth and the pending siblings, not with the tree. Each directory is opened relative to its
 * parent's descriptor, so paths longer than PATH_MAX work. Entry types come from the directory
 * itself when the kernel supplies them, and whether a subdirectory is a symlink is remembered
 * from its listing (Python asks os.path.islink() again just before descending; the answers
 * differ only if the tree changes in between). Difference from Python: with followlinks, a
 * symlink that leads back to one of the directories being walked (same device and inode as an
 * ancestor) is listed but not descended, so loops terminate; Python would recurse until the
 * path is too long.
 * @param top The root; an unreadable root goes to onerror and the walk is empty, as in Python.
 * @param opts Options, or NULL for the defaults.
 * @return The walker (st_os_walk_iterator_free()), or NULL (ST_EVALUE for an options version of 0
 *         or one newer than the library's, ST_ENOMEM).
 */
ST_API st_os_walk_iterator *st_os_walk(const char *top, const st_os_walk_options *opts);

/**
 * @brief Starts a descriptor-relative walk. Mirrors os.fwalk(top, topdown, onerror, follow_symlinks).
 *
 * Each directory is opened relative to its parent's descriptor (openat, O_NOFOLLOW unless
 * followlinks) and checked against the entry that named it, so renaming or swapping in symlinks
 * during the walk cannot lead it outside the tree. Each step gives a descriptor on its directory
 * in `dirfd`. A root that cannot be opened makes the first st_os_walk_iterator_next() fail, as Python's
 * fwalk raises for it; later errors go to onerror. Without followlinks a symlink is never entered
 * but, as in Python, it is opened: a root that is a dangling or looping symlink fails (a symlink
 * to a directory or a file walks nothing), and a symlink in dirnames whose target cannot be
 * opened (an unreadable directory) goes to onerror, top-down and bottom-up. A directory's
 * descriptor is kept while its step is out and while subdirectories are still to be opened
 * from it, so a topdown fwalk holds few descriptors while a bottom-up one holds one per level
 * of the current path (as Python's).
 * @param top The root.
 * @param opts Options (followlinks stands for Python's follow_symlinks), or NULL for defaults.
 * @return The walker (st_os_walk_iterator_free()), or NULL (ST_EVALUE, ST_ENOMEM).
 */
ST_API st_os_walk_iterator *st_os_fwalk(const char *top, const st_os_walk_options *opts);

/**
 * @brief The next step of the walk. Mirrors next() on the generator os.walk()/os.fwalk() return.
 * @param w The walker.
 * @param step Receives the step, owned by the walker and valid until the next call,
 *        st_os_walk_iterator_close() or st_os_walk_iterator_free() (see ::st_os_walk_step). Not
 *        written when 0 or -1 is returned.
 * @return 1 with a step, 0 when the walk is over or the walker is closed, -1 on error
 *         (ST_ENOMEM, fwalk's unopenable root, or the error an onerror callback chose to stop
 *         on; later calls then return 0).
 */
ST_API int st_os_walk_iterator_next(st_os_walk_iterator *w, st_os_walk_step **step);

/**
 * @brief Ends a walk early and keeps the walker. Mirrors close() on the walk generator.
 *
 * Releases every directory descriptor and listing the walk holds (the step handed out last
 * included); st_os_walk_iterator_next() then returns 0. Closing twice is allowed.
 * @param w The walker, or NULL.
 */
ST_API void st_os_walk_iterator_close(st_os_walk_iterator *w);

/**
 * @brief Closes the walker if needed and frees it.
 * @param w The walker, or NULL.
 */
ST_API void st_os_walk_iterator_free(st_os_walk_iterator *w);

/* ---- locks ----------------------------------------------------------------------------------- */

/** @brief A lock file: held from st_os_lockfile_acquire() until st_os_lockfile_release(). */
typedef struct st_os_lockfile st_os_lockfile;

/**
 * @brief Takes a lock file: creates @p path with O_CREAT|O_EXCL, the portable atomic test-and-set.
 *
 * The file we write holds one line, the owner's pid and the host name, `"<pid> <hostname>\n"`
 * (decimal pid, one space, gethostname(), a newline), mode 0644. Stale locks: a lock file that
 * names a pid that no longer exists on this host (kill(pid, 0) gives ESRCH) is broken (unlinked,
 * after checking it is still the same file) and taken again; the pid is read from our format
 * when the host name is ours, and from a bare pid, the format most tools and Python programs
 * write (`"1234\n"`, HDB-style `"      1234\n"`, blanks and a newline optional), which is taken
 * to be of this host as those tools assume. A lock of ours written by another host, or one whose
 * content is neither form (empty, text, a pid followed by other words), is never broken.
 * Breaking has a small window in which two waiters could each judge the same stale file; the
 * inode check narrows it but a shared filesystem without working O_EXCL (old NFS) cannot be
 * made safe this way.
 * @note Threads (object): a lock handle serves one thread at a time (it is a lock between
 *       processes, not between threads).
 * @param path The lock file.
 * @param timeout Seconds to keep trying: 0 tries once, negative waits forever.
 * @return The held lock (st_os_lockfile_release() to release it, st_os_lockfile_free() to free
 *         it), or NULL with ST_ETIMEOUT (TimeoutError) when still held by another process at the
 *         deadline, ST_EOS, or ST_ENOMEM.
 */
ST_API st_os_lockfile *st_os_lockfile_acquire(const char *path, double timeout);

/**
 * @brief Releases a lock file: removes the file and keeps the handle (the lock's close).
 *
 * Only the very file st_os_lockfile_acquire() created is removed (same device and inode and
 * content): if it was deleted or replaced meanwhile, the replacement belongs to someone else and
 * is left alone. Either way the handle no longer holds the lock afterwards
 * (st_os_lockfile_held() gives 0). Releasing a released lock does nothing and succeeds.
 * @param lock The lock, or NULL.
 * @return 0, or -1: ST_EOS when the file is gone or cannot be removed, ST_ESTATE (RuntimeError)
 *         when another file has taken its place.
 */
ST_API int st_os_lockfile_release(st_os_lockfile *lock);

/**
 * @brief Whether the handle still holds its lock (it was not released).
 *
 * Answers for this handle only: it does not look at the file, which someone may have removed.
 * @param lock The lock.
 * @return 1 while held, 0 after st_os_lockfile_release(); -1 with ST_EVALUE when @p lock is NULL.
 */
ST_API int st_os_lockfile_held(const st_os_lockfile *lock);

/**
 * @brief Releases the lock if still held, then frees the handle.
 *
 * A failure to remove the file here is not reported (the handle is freed all the same); call
 * st_os_lockfile_release() first to learn it.
 * @param lock The lock, or NULL.
 */
ST_API void st_os_lockfile_free(st_os_lockfile *lock);

/** @brief Shared (read) lock, Python's fcntl.LOCK_SH. */
#define ST_OS_LOCK_SH 1
/** @brief Exclusive (write) lock, Python's fcntl.LOCK_EX. */
#define ST_OS_LOCK_EX 2
/** @brief Do not wait: OR with SH or EX, Python's fcntl.LOCK_NB. */
#define ST_OS_LOCK_NB 4
/** @brief Release, Python's fcntl.LOCK_UN. */
#define ST_OS_LOCK_UN 8

/**
 * @brief Advisory byte-range lock (POSIX record lock). Mirrors fcntl.lockf(fd, cmd, len, start, whence).
 *
 * Held by the process, released when it closes any descriptor of the file.
 * @param fd Descriptor (open for reading for SH, for writing for EX).
 * @param cmd ST_OS_LOCK_SH or ST_OS_LOCK_EX, optionally | ST_OS_LOCK_NB, or ST_OS_LOCK_UN.
 * @param len Bytes to lock; 0 means to the end of the file and beyond.
 * @param start Start offset, relative to @p whence.
 * @param whence SEEK_SET, SEEK_CUR or SEEK_END.
 * @return 0, or -1 with ST_EOS (EAGAIN or EACCES when NB and held elsewhere), ST_EVALUE for a bad cmd.
 */
ST_API int st_os_lockf(int fd, int cmd, int64_t len, int64_t start, int whence);

/**
 * @brief Advisory whole-file lock held by the open file description. Mirrors fcntl.flock(fd, op).
 * @param fd Descriptor.
 * @param op ST_OS_LOCK_SH or ST_OS_LOCK_EX, optionally | ST_OS_LOCK_NB, or ST_OS_LOCK_UN.
 * @return 0, or -1 with ST_EOS (EWOULDBLOCK when NB and held elsewhere), ST_EVALUE for a bad op.
 */
ST_API int st_os_flock(int fd, int op);

/* ---- processes ------------------------------------------------------------------------------- */

/** @brief spawn mode: wait for the child and give its exit code (Python's os.P_WAIT). */
#define ST_OS_P_WAIT 0
/** @brief spawn mode: give the child's pid at once (Python's os.P_NOWAIT). */
#define ST_OS_P_NOWAIT 1

/**
 * @brief Forks the process. Mirrors os.fork().
 * @note Threads: in a program with threads the child may call only st_os__exit() and a successful
 *       st_os_execv()/st_os_execve() before exec (locks other threads held stay held); to start
 *       programs use st_popen_new() or st_os_spawnv(), which are safe.
 * @return 0 in the child, the child's pid in the parent, -1 with ST_EOS.
 */
ST_API pid_t st_os_fork(void);

/**
 * @brief Replaces the process image. Mirrors os.execv(path, args).
 * @note Threads: safe between fork and exec in a threaded program when it succeeds; a failure sets
 *       the thread-local error, which allocates.
 * @param path The program.
 * @param argv NULL-terminated arguments; must hold at least argv[0], which must not be empty.
 * @return Only on failure: -1 with ST_EVALUE ("execv() arg 2 must not be empty",
 *         "execv() arg 2 first element cannot be empty") or ST_EOS naming @p path.
 */
ST_API int st_os_execv(const char *path, const char *const argv[]);

/**
 * @brief Replaces the process image with a new environment. Mirrors os.execve(path, args, env).
 * @note Threads: safe between fork and exec in a threaded program when it succeeds; a failure sets
 *       the thread-local error, which allocates.
 * @param path The program.
 * @param argv NULL-terminated arguments, as st_os_execv().
 * @param envp NULL-terminated "KEY=VALUE" strings.
 * @return Only on failure: -1 with ST_EVALUE or ST_EOS naming @p path.
 */
ST_API int st_os_execve(const char *path, const char *const argv[], const char *const envp[]);

/**
 * @brief Executes a program found along PATH. Mirrors os.execvp(file, args).
 *
 * As Python: a @p file containing '/' is run as is; otherwise each directory of PATH (Python's
 * defpath "/bin:/usr/bin" when unset) is tried in order; the error reported is the first that
 * was not ENOENT/ENOTDIR, else the last.
 * @param file The program name.
 * @param argv NULL-terminated arguments, as st_os_execv().
 * @return Only on failure: -1 with ST_EVALUE or ST_EOS naming @p file.
 */
ST_API int st_os_execvp(const char *file, const char *const argv[]);

/**
 * @brief st_os_execvp() with a new environment, whose PATH is searched. Mirrors os.execvpe().
 * @param file The program name.
 * @param argv NULL-terminated arguments, as st_os_execv().
 * @param envp NULL-terminated "KEY=VALUE" strings (also the PATH searched).
 * @return Only on failure: -1 with ST_EVALUE or ST_EOS naming @p file.
 */
ST_API int st_os_execvpe(const char *file, const char *const argv[], const char *const envp[]);

/**
 * @brief Runs a program in a new process. Mirrors os.spawnv(mode, path, args).
 *
 * The child inherits the current environment. As in Python, a program that cannot be executed
 * makes the child exit with 127. What Python returns comes back through @p result, so a child
 * killed by SIGHUP (-1) cannot be mistaken for a failure.
 * @param mode ST_OS_P_NOWAIT; any other value waits, as Python's P_WAIT.
 * @param path The program.
 * @param argv NULL-terminated arguments with a non-empty argv[0].
 * @param result Receives, with P_WAIT, the exit code, or -signal when the child was killed; with
 *        P_NOWAIT, the pid (reap it with st_os_waitpid()).
 * @return 0, or -1 with ST_EVALUE ("argv first element cannot be empty") or ST_EOS.
 */
ST_API int st_os_spawnv(int mode, const char *path, const char *const argv[], int *result);

/**
 * @brief st_os_spawnv() with a PATH search as st_os_execvp(). Mirrors os.spawnvp(mode, file, args).
 * @param mode ST_OS_P_NOWAIT; any other value waits.
 * @param file The program name.
 * @param argv NULL-terminated arguments, as st_os_execv().
 * @param result As st_os_spawnv().
 * @return As st_os_spawnv().
 */
ST_API int st_os_spawnvp(int mode, const char *file, const char *const argv[], int *result);

/**
 * @brief Waits for a child. Mirrors os.waitpid(pid, options) (EINTR retried).
 * @param pid As waitpid(2): a pid, -1 for any child, 0 or -pgid for a group.
 * @param status Receives the raw wait status (may be NULL).
 * @param options 0 or WNOHANG, WUNTRACED, ... .
 * @return The pid reaped (0 with WNOHANG when none is ready), or -1 with ST_EOS (ECHILD).
 */
ST_API pid_t st_os_waitpid(pid_t pid, int *status, int options);

/**
 * @brief Converts a wait status to an exit code. Mirrors os.waitstatus_to_exitcode(status).
 * @param status A wait status from st_os_waitpid() or st_os_system().
 * @param exitcode Receives the exit code, or -signal for a child killed by a signal.
 * @return 0, or -1 with ST_EVALUE: "process stopped by delivery of signal N" for a stopped
 *         child, "invalid wait status: N" otherwise.
 */
ST_API int st_os_waitstatus_to_exitcode(int status, int *exitcode);

/**
 * @brief Sends a signal. Mirrors os.kill(pid, sig).
 * @param pid Target.
 * @param sig Signal number (0 tests for existence).
 * @return 0, or -1 with ST_EOS (ProcessLookupError for ESRCH).
 */
ST_API int st_os_kill(pid_t pid, int sig);

/**
 * @brief Sends a signal to a process group. Mirrors os.killpg(pgid, sig).
 * @param pgid Target group.
 * @param sig Signal number.
 * @return 0, or -1 with ST_EOS.
 */
ST_API int st_os_killpg(pid_t pgid, int sig);

/**
 * @brief Runs a shell command and waits. Mirrors os.system(command).
 * @note Threads (sig): as system(3), SIGINT and SIGQUIT are ignored by the whole process while the
 *       command runs.
 * @param command Passed to /bin/sh -c.
 * @return The wait status, as Python's os.system returns it on POSIX (exit code 3 gives 768;
 *         decode with st_os_waitstatus_to_exitcode()), never negative; -1 with ST_EOS when no
 *         process could be started (Python returns -1 without raising).
 */
ST_API int st_os_system(const char *command);

/**
 * @brief A pipe to or from a shell command (the object os.popen() returns, Python's _wrap_close).
 *
 * st_os_popen_file_close() closes the stream and waits for the command, keeping the object;
 * st_os_popen_file_free() releases it, closing first.
 */
typedef struct st_os_popen_file st_os_popen_file;

/**
 * @brief Runs a command with its stdout (mode "r") or stdin (mode "w") connected to a stream.
 *        Mirrors os.popen(cmd, mode).
 *
 * As in Python, which runs subprocess.Popen(cmd, shell=True), the command runs under
 * "/bin/sh -c" with every descriptor but 0, 1 and 2 closed (close_fds).
 * @note Threads (object): the handle and its stream serve one thread at a time.
 * @param command Passed to /bin/sh -c.
 * @param mode "r" or "w", the only modes Python accepts.
 * @return The handle (free with st_os_popen_file_free()), or NULL with ST_EVALUE (Python's
 *         "invalid mode 'rb'") or ST_EOS.
 */
ST_API st_os_popen_file *st_os_popen(const char *command, const char *mode);

/**
 * @brief The stream of a popen handle: read the command's output or write its input.
 * @param p The handle.
 * @return The stream, owned by the handle (do not fclose it), or NULL with ST_EVALUE
 *         ("I/O operation on closed file.") once the handle is closed or when @p p is NULL.
 */
ST_API FILE *st_os_popen_file_stream(st_os_popen_file *p);

/**
 * @brief Closes the stream and waits for the command; the handle stays until
 *        st_os_popen_file_free(). Mirrors os.popen(...).close().
 *
 * Closing again is allowed and gives the same status, as Python's close() does.
 * @param p The handle, or NULL (nothing to do: 0 with status 0).
 * @param status Receives Python's result: 0 where Python returns None (exit code 0), otherwise
 *        returncode << 8 (exit code 2 gives 512; killed by SIGTERM gives -15 << 8 = -3840).
 *        May be NULL.
 * @return 0, or -1 with ST_EOS (the stream is closed all the same; when the wait failed, a later
 *         close tries it again).
 */
ST_API int st_os_popen_file_close(st_os_popen_file *p, int *status);

/**
 * @brief Whether the handle's stream was closed. Mirrors the stream's `closed` attribute.
 * @param p The handle.
 * @return 1 after st_os_popen_file_close(), 0 before, -1 with ST_EVALUE when @p p is NULL.
 */
ST_API int st_os_popen_file_closed(const st_os_popen_file *p);

/**
 * @brief Closes the handle when needed (so waits for the command, as close does) and frees it.
 * @param p The handle, or NULL.
 */
ST_API void st_os_popen_file_free(st_os_popen_file *p);

/**
 * @brief Ends the process at once, without flushing stdio or running atexit handlers.
 *        Mirrors os._exit(status).
 * @note Async-signal-safe (_exit(2)): the one function usable in a signal handler or a threaded
 *       program's forked child.
 * @param status Exit status.
 */
ST_API void st_os__exit(int status);

/* ---- names that are not UTF-8: os.fsencode, os.fsdecode and value forms ------------------- */

/**
 * @brief Decodes a file name, an argument or an environment string as Python does. Mirrors
 *        os.fsdecode(bytes): the file system encoding (st_sys_getfilesystemencoding(): utf-8,
 *        or the locale's ascii or latin-1) with errors="surrogateescape", so a byte that does
 *        not decode (0x80-0xFF) becomes the lone surrogate U+DC80..U+DCFF.
 * @param name The bytes (may be NULL when @p len is 0).
 * @param len Their number.
 * @param outlen Receives the length of the result in bytes, or NULL.
 * @return The library's str text (UTF-8, lone surrogates encoded as 'surrogatepass' does: pass
 *         it to st_value_str_surrogatepass() for the Python str), NUL-terminated, which the
 *         caller frees with st_free(); NULL with MemoryError or LookupError (a locale encoding
 *         the library lacks).
 */
ST_API char *st_os_fsdecode(const void *name, size_t len, size_t *outlen);

/**
 * @brief Encodes str text back into a name's bytes. Mirrors os.fsencode(str): the file system
 *        encoding with errors="surrogateescape", so st_os_fsdecode()'s result gives the
 *        original bytes back exactly.
 * @param text The library's str text (UTF-8 with surrogatepass surrogates).
 * @param len Its length in bytes.
 * @param outlen Receives the number of bytes, or NULL.
 * @return The bytes, NUL-terminated (they may hold NUL), which the caller frees with st_free();
 *         NULL with UnicodeEncodeError (a character the encoding cannot hold, or a surrogate
 *         outside U+DC80..U+DCFF), UnicodeDecodeError (@p text is not UTF-8) or LookupError.
 */
ST_API char *st_os_fsencode(const char *text, size_t len, size_t *outlen);

/**
 * @brief os.fsdecode() of a value. Mirrors os.fsdecode(filename): bytes are decoded, a str is
 *        returned as it is.
 * @param name A bytes or str value.
 * @return A new reference to a str; NULL with TypeError ("expected str, bytes or os.PathLike
 *         object, not int") or the errors of st_os_fsdecode().
 */
ST_API st_value *st_os_fsdecode_value(const st_value *name);

/**
 * @brief os.fsencode() of a value. Mirrors os.fsencode(filename): a str is encoded, bytes are
 *        returned as they are.
 * @param name A str or bytes value.
 * @return A new reference to bytes; NULL with TypeError or the errors of st_os_fsencode().
 */
ST_API st_value *st_os_fsencode_value(const st_value *name);

/**
 * @brief The environment as Python's os.environ shows it: a dict of str to str, each name and
 *        value decoded by st_os_fsdecode(), in the environment's order; an entry without '='
 *        is left out and the first of two equal names wins, as CPython reads it at startup.
 *        Mirrors dict(os.environ).
 * @return A new dict the caller releases with st_value_unref(); NULL with MemoryError or
 *         LookupError.
 */
ST_API st_value *st_os_environ_value(void);

/**
 * @brief The names in a directory as a list of str. Mirrors os.listdir(path) with a str path
 *        (names decoded by st_os_fsdecode(): b'\\xff' is '\\udcff').
 * @param path The directory; NULL is ".".
 * @return A new list the caller releases with st_value_unref(); NULL with the errors of
 *         st_os_listdir() or st_os_fsdecode().
 */
ST_API st_value *st_os_listdir_value(const char *path);

/**
 * @brief A whole walk as a list of (dirpath, dirnames, filenames) tuples of str. Mirrors
 *        list(os.walk(top, ...)) with a str top.
 * @param top The tree's root.
 * @param opts Options as for st_os_walk(), or NULL.
 * @return A new list the caller releases with st_value_unref(); NULL with the errors of
 *         st_os_walk() (an onerror option that stops the walk) or st_os_fsdecode().
 */
ST_API st_value *st_os_walk_value(const char *top, const st_os_walk_options *opts);

#ifdef __cplusplus
}
#endif

/** @} */

#endif
