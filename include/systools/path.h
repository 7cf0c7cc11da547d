/**
 * @file systools/path.h
 * @brief Python's os.path for POSIX (posixpath), plus the pure string functions of ntpath.
 */
#ifndef SYSTOOLS_PATH_H
#define SYSTOOLS_PATH_H

#include <stdint.h>

#include "common.h"
#include "os.h"

/**
 * @defgroup path path: pathname manipulation (os.path, posixpath, ntpath)
 * @brief Mirrors Python's `os.path` on POSIX, and the string functions of `ntpath` on any host.
 *
 * Paths are NUL-terminated byte strings, handled like Python's `str` paths decoded from UTF-8
 * (with `surrogateescape`): the results are those of CPython 3.13 for every input, with any
 * length (there is no PATH_MAX limit). Strings returned are new; the caller frees them with
 * st_free(). The split functions hand their parts out through pointer arguments, each a new
 * string the caller frees; a NULL output pointer means "not wanted". On failure (-1 or NULL) no
 * output is set. A NULL path argument raises ST_ETYPE, as passing `None` does in Python.
 *
 * Where Python raises, the function fails with the same exception type and message:
 * st_path_commonpath() of no paths or of absolute mixed with relative paths and
 * st_path_relpath() of "" raise ST_EVALUE; the filesystem functions raise ST_EOS.
 *
 * @code
 * char *p = st_path_join("/usr", "lib", "libsystools.so", NULL); // "/usr/lib/libsystools.so"
 * char *root, *ext;
 * if (st_path_splitext(p, &root, &ext) == 0) {                 // ext is ".so"
 *     printf("%s | %s | %s\n", root, ext, st_path_isfile(p) ? "file" : "no file");
 *     st_free(root);
 *     st_free(ext);
 * }
 * st_free(p);
 * @endcode
 * @{
 */

/** @brief Path component separator (`os.sep`). */
#define ST_PATH_SEP "/"
/** @brief Alternative separator (`os.altsep`): none on POSIX. */
#define ST_PATH_ALTSEP NULL
/** @brief Extension separator (`os.extsep`). */
#define ST_PATH_EXTSEP "."
/** @brief Separator of search-path lists such as PATH (`os.pathsep`). */
#define ST_PATH_PATHSEP ":"
/** @brief The current directory (`os.curdir`). */
#define ST_PATH_CURDIR "."
/** @brief The parent directory (`os.pardir`). */
#define ST_PATH_PARDIR ".."
/** @brief The null device (`os.path.devnull`, `os.devnull`). */
#define ST_PATH_DEVNULL "/dev/null"
/** @brief The default search path (`os.defpath`). */
#define ST_PATH_DEFPATH "/bin:/usr/bin"

/** @brief Windows path separator (`ntpath.sep`). */
#define ST_NTPATH_SEP "\\"
/** @brief Windows alternative separator (`ntpath.altsep`). */
#define ST_NTPATH_ALTSEP "/"
/** @brief Windows extension separator (`ntpath.extsep`). */
#define ST_NTPATH_EXTSEP "."
/** @brief Windows search-path separator (`ntpath.pathsep`). */
#define ST_NTPATH_PATHSEP ";"
/** @brief Windows current directory (`ntpath.curdir`). */
#define ST_NTPATH_CURDIR "."
/** @brief Windows parent directory (`ntpath.pardir`). */
#define ST_NTPATH_PARDIR ".."
/** @brief Windows null device (`ntpath.devnull`). */
#define ST_NTPATH_DEVNULL "nul"
/** @brief Windows default search path (`ntpath.defpath`). */
#define ST_NTPATH_DEFPATH ".;C:\\bin"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- posixpath: strings only */

/**
 * @brief Joins path components, inserting "/" as needed. Mirrors os.path.join(a, *p).
 *
 * A component starting with "/" discards everything before it; an empty last component makes
 * the result end with "/".
 * @param first The first component.
 * @param ... More components (`const char *`), then a null pointer that ends the list: NULL in C,
 *        `nullptr` or `(char *)NULL` in C++, where a plain NULL may be an int. The sentinel is
 *        required (GCC and Clang warn when it is missing).
 * @return The joined path (caller frees with st_free()), or NULL (ST_ETYPE when @p first is
 *         NULL, ST_ENOMEM).
 */
ST_API char *st_path_join(const char *first, ...) ST_ATTR_SENTINEL;

/**
 * @brief Joins @p n path components. Mirrors os.path.join(*parts).
 * @param parts The components; none may be NULL.
 * @param n How many; at least 1 (Python's join needs one argument).
 * @return The joined path (caller frees), or NULL (ST_ETYPE when @p n is 0 or a component is
 *         NULL, ST_ENOMEM).
 */
ST_API char *st_path_joinv(const char *const *parts, size_t n);

/**
 * @brief Splits a path into head (up to the last "/") and tail. Mirrors os.path.split().
 *
 * Trailing slashes are stripped from the head unless it is the root: ("a/b/", "") for "a/b/",
 * ("//", "x") for "//x".
 * @param path The path.
 * @param head Receives the head (caller frees), or NULL when not wanted.
 * @param tail Receives the tail (caller frees), or NULL when not wanted.
 * @return 0, or -1 (ST_ETYPE for a NULL path, ST_ENOMEM).
 */
ST_API int st_path_split(const char *path, char **head, char **tail);

/**
 * @brief Splits off the extension: the last "." of the last component and what follows.
 *        Mirrors os.path.splitext().
 *
 * Leading dots of the last component do not start an extension: ".bashrc" has none. root + ext
 * always equals @p path.
 * @param path The path.
 * @param root Receives the path without the extension (caller frees), or NULL.
 * @param ext Receives the extension, "" when there is none (caller frees), or NULL.
 * @return 0, or -1 (ST_ETYPE, ST_ENOMEM).
 */
ST_API int st_path_splitext(const char *path, char **root, char **ext);

/**
 * @brief Splits a path into drive and rest. Mirrors os.path.splitdrive(): on POSIX the drive
 *        is always "".
 * @param path The path.
 * @param drive Receives "" (caller frees), or NULL.
 * @param rest Receives a copy of @p path (caller frees), or NULL.
 * @return 0, or -1 (ST_ETYPE, ST_ENOMEM).
 */
ST_API int st_path_splitdrive(const char *path, char **drive, char **rest);

/**
 * @brief Splits a path into drive, root and tail. Mirrors os.path.splitroot() (Python 3.12+).
 *
 * The drive is always ""; the root is "" (relative), "/" (one or three and more slashes) or
 * "//" (exactly two, which POSIX leaves implementation-defined).
 * @param path The path.
 * @param drive Receives the drive (caller frees), or NULL.
 * @param root Receives the root (caller frees), or NULL.
 * @param tail Receives the rest after the root (caller frees), or NULL.
 * @return 0, or -1 (ST_ETYPE, ST_ENOMEM).
 */
ST_API int st_path_splitroot(const char *path, char **drive, char **root, char **tail);

/**
 * @brief The directory part of a path, as st_path_split() gives it. Mirrors os.path.dirname().
 * @param path The path.
 * @return The head (caller frees), or NULL (ST_ETYPE, ST_ENOMEM).
 */
ST_API char *st_path_dirname(const char *path);

/**
 * @brief The final component: everything after the last "/". Mirrors os.path.basename().
 *
 * "" when the path ends with "/" (basename("a/") is "").
 * @param path The path.
 * @return The tail (caller frees), or NULL (ST_ETYPE, ST_ENOMEM).
 */
ST_API char *st_path_basename(const char *path);

/**
 * @brief Normalizes a path lexically: collapses "//", "." and "x/..". Mirrors os.path.normpath().
 *
 * Keeps exactly two leading slashes, folds three or more into one, returns "." for an empty
 * result. This may change the meaning of a path that crosses symbolic links.
 * @param path The path.
 * @return The normalized path (caller frees), or NULL (ST_ETYPE, ST_ENOMEM).
 */
ST_API char *st_path_normpath(const char *path);

/**
 * @brief Whether a path is absolute (starts with "/"). Mirrors os.path.isabs().
 * @param path The path.
 * @return 1 or 0; -1 (ST_ETYPE) when @p path is NULL.
 */
ST_API int st_path_isabs(const char *path);

/**
 * @brief Normalizes the case of a path: nothing to do on POSIX. Mirrors os.path.normcase().
 * @param path The path.
 * @return A copy of @p path (caller frees), or NULL (ST_ETYPE, ST_ENOMEM).
 */
ST_API char *st_path_normcase(const char *path);

/**
 * @brief The longest common leading string of all paths, character by character.
 *        Mirrors os.path.commonprefix().
 *
 * Not component-wise: commonprefix of "/usr/lib" and "/usr/local" is "/usr/l" (see
 * st_path_commonpath()). Never cuts a UTF-8 character in two, as Python's strings cannot; bytes
 * that are not UTF-8 count one character each.
 * @param paths The paths; none may be NULL.
 * @param n How many; 0 gives "".
 * @return The prefix (caller frees), or NULL (ST_ETYPE for a NULL entry, ST_ENOMEM).
 */
ST_API char *st_path_commonprefix(const char *const *paths, size_t n);

/**
 * @brief The longest common sub-path of all paths, component by component.
 *        Mirrors os.path.commonpath().
 *
 * Empty and "." components are ignored; the paths are not normalized otherwise.
 * @param paths The paths; none may be NULL.
 * @param n How many.
 * @return The common path (caller frees), or NULL: ST_EVALUE "commonpath() arg is an empty
 *         sequence" when @p n is 0, "Can't mix absolute and relative paths"; ST_ETYPE, ST_ENOMEM.
 */
ST_API char *st_path_commonpath(const char *const *paths, size_t n);

/**
 * @brief Expands `$name` and `${name}` from the environment. Mirrors os.path.expandvars().
 *
 * Names are ASCII letters, digits and "_" (`${...}` takes anything up to "}"); unknown
 * variables are left as they are. Reads the live environment (Python reads the copy taken at
 * start-up in os.environ).
 * @param path The path.
 * @return The expanded path (caller frees), or NULL (ST_ETYPE, ST_ENOMEM).
 */
ST_API char *st_path_expandvars(const char *path);

/* ---------------------------------------------------------------- posixpath: filesystem */

/**
 * @brief The absolute, normalized form of a path. Mirrors os.path.abspath().
 *
 * Joins a relative path to the current directory, then applies st_path_normpath(); does not
 * resolve symbolic links.
 * @param path The path.
 * @return The absolute path (caller frees), or NULL (ST_EOS when the current directory cannot
 *         be read, ST_ETYPE, ST_ENOMEM).
 */
ST_API char *st_path_abspath(const char *path);

/**
 * @brief The canonical path, with every symbolic link resolved. Mirrors
 *        os.path.realpath(path, strict=...).
 *
 * Non-strict (as Python's default): a component that does not exist, or a symbolic link loop,
 * ends resolution of that component and the rest is appended as is. Strict: such cases fail
 * with the OSError Python raises (FileNotFoundError, ELOOP for a loop, ENOTDIR...).
 * @param path The path; a relative one is resolved from the current directory.
 * @param strict Non-zero for `strict=True`.
 * @return The resolved path (caller frees), or NULL (ST_EOS, ST_ETYPE, ST_ENOMEM).
 */
ST_API char *st_path_realpath(const char *path, int strict);

/**
 * @brief A relative path from @p start to @p path, computed lexically from their absolute
 *        forms. Mirrors os.path.relpath(path, start).
 * @param path The destination; must not be "".
 * @param start The starting directory, or NULL for the current directory (Python's default).
 * @return The relative path (caller frees), or NULL: ST_EVALUE "no path specified" for "";
 *         ST_EOS, ST_ETYPE, ST_ENOMEM.
 */
ST_API char *st_path_relpath(const char *path, const char *start);

/**
 * @brief Replaces a leading "~" or "~user" by that user's home directory. Mirrors
 *        os.path.expanduser().
 *
 * "~" uses $HOME, else the password database entry of the real user id; "~user" uses the
 * password database. When the user is unknown the path comes back unchanged.
 * @param path The path.
 * @return The expanded path (caller frees), or NULL (ST_ETYPE, ST_ENOMEM).
 */
ST_API char *st_path_expanduser(const char *path);

/**
 * @brief Whether a path names an existing file, following symbolic links. Mirrors
 *        os.path.exists(): false for a dangling link and on any error.
 * @param path The path.
 * @return 1 or 0; -1 (ST_ETYPE) when @p path is NULL.
 */
ST_API int st_path_exists(const char *path);

/**
 * @brief Whether a path exists, not following a final symbolic link (true for a dangling link).
 *        Mirrors os.path.lexists().
 * @param path The path.
 * @return 1 or 0; -1 (ST_ETYPE) when @p path is NULL.
 */
ST_API int st_path_lexists(const char *path);

/**
 * @brief Whether a path is an existing directory, following symbolic links. Mirrors
 *        os.path.isdir().
 * @param path The path.
 * @return 1 or 0; -1 (ST_ETYPE) when @p path is NULL.
 */
ST_API int st_path_isdir(const char *path);

/**
 * @brief Whether a path is an existing regular file, following symbolic links. Mirrors
 *        os.path.isfile().
 * @param path The path.
 * @return 1 or 0; -1 (ST_ETYPE) when @p path is NULL.
 */
ST_API int st_path_isfile(const char *path);

/**
 * @brief Whether a path is a symbolic link. Mirrors os.path.islink().
 * @param path The path.
 * @return 1 or 0; -1 (ST_ETYPE) when @p path is NULL.
 */
ST_API int st_path_islink(const char *path);

/**
 * @brief Whether a path is a mount point: its parent is on another device, or is itself.
 *        Mirrors os.path.ismount(); a symbolic link never is one.
 *
 * When `path/..` cannot be stat'ed, its st_path_realpath() is tried, as Python does.
 * @param path The path.
 * @return 1 or 0; -1 when @p path is NULL (ST_ETYPE), or when that realpath() fails as Python's
 *         would raise (ST_EOS for an unreadable current directory, ST_ENOMEM).
 */
ST_API int st_path_ismount(const char *path);

/**
 * @brief The size of a file, following symbolic links. Mirrors os.path.getsize().
 * @param path The path.
 * @param size Receives the size in bytes.
 * @return 0, or -1 (ST_EOS naming the path, ST_ETYPE).
 */
ST_API int st_path_getsize(const char *path, int64_t *size);

/**
 * @brief The last modification time, in seconds since the epoch, as Python's float.
 *        Mirrors os.path.getmtime().
 * @param path The path.
 * @param t Receives the time (seconds + nanoseconds * 1e-9, exactly as CPython computes it).
 * @return 0, or -1 (ST_EOS, ST_ETYPE).
 */
ST_API int st_path_getmtime(const char *path, double *t);

/**
 * @brief The last access time. Mirrors os.path.getatime().
 * @param path The path.
 * @param t Receives the time, as st_path_getmtime() does.
 * @return 0, or -1 (ST_EOS, ST_ETYPE).
 */
ST_API int st_path_getatime(const char *path, double *t);

/**
 * @brief The last metadata change time (st_ctime). Mirrors os.path.getctime().
 * @param path The path.
 * @param t Receives the time, as st_path_getmtime() does.
 * @return 0, or -1 (ST_EOS, ST_ETYPE).
 */
ST_API int st_path_getctime(const char *path, double *t);

/**
 * @brief Whether two paths name the same file (same device and inode, links followed).
 *        Mirrors os.path.samefile().
 * @param path1 The first path.
 * @param path2 The second path.
 * @return 1 or 0, or -1 when either cannot be stat'ed (ST_EOS naming it) or is NULL (ST_ETYPE).
 */
ST_API int st_path_samefile(const char *path1, const char *path2);

/**
 * @brief Whether two open file descriptors refer to the same file. Mirrors
 *        os.path.sameopenfile().
 * @param fd1 The first descriptor.
 * @param fd2 The second descriptor.
 * @return 1 or 0, or -1 when either cannot be fstat'ed (ST_EOS).
 */
ST_API int st_path_sameopenfile(int fd1, int fd2);

/**
 * @brief Whether two stat results describe the same file (same device and inode). Mirrors
 *        os.path.samestat().
 * @param s1 The first result, from st_os_stat() and friends.
 * @param s2 The second result.
 * @return 1 or 0; -1 (ST_ETYPE) when either is NULL.
 */
ST_API int st_path_samestat(const st_os_stat_result *s1, const st_os_stat_result *s2);

/* ---------------------------------------------------------------- ntpath: strings only */

/**
 * @brief Joins Windows path components. Mirrors ntpath.join(path, *paths).
 *
 * Handles drive letters (`C:`), UNC shares (`\\server\share`), `\\?\` prefixes and both
 * separators: an absolute component restarts the path (keeping the drive when it has none), a
 * different drive restarts it, the same drive in another case keeps the later spelling.
 * @param first The first component.
 * @param ... More components (`const char *`), then a NULL pointer that ends the list.
 * @return The joined path (caller frees), or NULL (ST_ETYPE, ST_ENOMEM).
 */
ST_API char *st_ntpath_join(const char *first, ...) ST_ATTR_SENTINEL;

/**
 * @brief Joins @p n Windows path components. Mirrors ntpath.join(*parts).
 * @param parts The components; none may be NULL.
 * @param n How many; at least 1.
 * @return The joined path (caller frees), or NULL (ST_ETYPE, ST_ENOMEM).
 */
ST_API char *st_ntpath_joinv(const char *const *parts, size_t n);

/**
 * @brief Splits a Windows path into head and tail. Mirrors ntpath.split().
 * @param path The path.
 * @param head Receives drive + root + directories, trailing separators stripped (caller
 *        frees), or NULL.
 * @param tail Receives the last component (caller frees), or NULL.
 * @return 0, or -1 (ST_ETYPE, ST_ENOMEM).
 */
ST_API int st_ntpath_split(const char *path, char **head, char **tail);

/**
 * @brief Splits off the extension of a Windows path (both separators count). Mirrors
 *        ntpath.splitext().
 * @param path The path.
 * @param root Receives the rest (caller frees), or NULL.
 * @param ext Receives the extension, possibly "" (caller frees), or NULL.
 * @return 0, or -1 (ST_ETYPE, ST_ENOMEM).
 */
ST_API int st_ntpath_splitext(const char *path, char **root, char **ext);

/**
 * @brief Splits a Windows path into drive (or UNC share) and rest. Mirrors ntpath.splitdrive().
 * @param path The path.
 * @param drive Receives `C:`, `\\server\share`, `\\?\UNC\server\share`... or ""
 *        (caller frees), or NULL.
 * @param rest Receives the rest (caller frees), or NULL.
 * @return 0, or -1 (ST_ETYPE, ST_ENOMEM).
 */
ST_API int st_ntpath_splitdrive(const char *path, char **drive, char **rest);

/**
 * @brief Splits a Windows path into drive, root and tail. Mirrors ntpath.splitroot() (the
 *        pure-Python version every non-Windows CPython runs).
 * @param path The path.
 * @param drive Receives the drive (caller frees), or NULL.
 * @param root Receives the root: "", `\` or `/` (caller frees), or NULL.
 * @param tail Receives the rest (caller frees), or NULL.
 * @return 0, or -1 (ST_ETYPE, ST_ENOMEM).
 */
ST_API int st_ntpath_splitroot(const char *path, char **drive, char **root, char **tail);

/**
 * @brief The directory part of a Windows path. Mirrors ntpath.dirname().
 * @param path The path.
 * @return The head (caller frees), or NULL (ST_ETYPE, ST_ENOMEM).
 */
ST_API char *st_ntpath_dirname(const char *path);

/**
 * @brief The final component of a Windows path. Mirrors ntpath.basename().
 * @param path The path.
 * @return The tail (caller frees), or NULL (ST_ETYPE, ST_ENOMEM).
 */
ST_API char *st_ntpath_basename(const char *path);

/**
 * @brief Normalizes a Windows path lexically, with `\` separators. Mirrors ntpath.normpath()
 *        (the pure-Python version every non-Windows CPython runs).
 * @param path The path.
 * @return The normalized path (caller frees), or NULL (ST_ETYPE, ST_ENOMEM).
 */
ST_API char *st_ntpath_normpath(const char *path);

/**
 * @brief Whether a Windows path is absolute: a UNC or device path, or a drive with a root.
 *        Mirrors ntpath.isabs() of Python 3.13 (`\x` and `/x` are not absolute).
 * @param path The path.
 * @return 1 or 0; -1 (ST_ETYPE) when @p path is NULL.
 */
ST_API int st_ntpath_isabs(const char *path);

/**
 * @brief Lower-cases a Windows path and turns `/` into `\`. Mirrors ntpath.normcase() on a
 *        non-Windows host.
 *
 * Difference: only ASCII letters are lowered (Python lowers every Unicode letter).
 * @param path The path.
 * @return The normalized path (caller frees), or NULL (ST_ETYPE, ST_ENOMEM).
 */
ST_API char *st_ntpath_normcase(const char *path);

/**
 * @brief The longest common sub-path of Windows paths, components compared without case.
 *        Mirrors ntpath.commonpath().
 *
 * The result keeps the spelling of the first path, with `\` separators; "" and "." components
 * are ignored. Difference: case is folded for ASCII letters only.
 * @param paths The paths; none may be NULL.
 * @param n How many.
 * @return The common path (caller frees), or NULL: ST_EVALUE "commonpath() arg is an empty
 *         iterable" when @p n is 0, "Paths don't have the same drive", "Can't mix absolute and
 *         relative paths", "Can't mix rooted and not-rooted paths"; ST_ETYPE, ST_ENOMEM.
 */
ST_API char *st_ntpath_commonpath(const char *const *paths, size_t n);

/**
 * @brief The longest common leading string of all paths. Mirrors ntpath.commonprefix(), which
 *        is the same function as st_path_commonprefix().
 * @param paths The paths; none may be NULL.
 * @param n How many; 0 gives "".
 * @return The prefix (caller frees), or NULL (ST_ETYPE, ST_ENOMEM).
 */
ST_API char *st_ntpath_commonprefix(const char *const *paths, size_t n);

#ifdef __cplusplus
}
#endif

/** @} */

#endif
