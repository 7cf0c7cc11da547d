/**
 * @file systools/glob.h
 * @brief Python's glob module: pathname pattern expansion with fd-relative directory scanning.
 */
#ifndef SYSTOOLS_GLOB_H
#define SYSTOOLS_GLOB_H

#include "common.h"
#include "value.h"

/**
 * @defgroup glob glob: pathname pattern expansion
 * @brief Mirrors Python's `glob` module (glob, iglob, escape, has_magic).
 *
 * Each path segment is an fnmatch pattern (see @ref fnmatch): `*`, `?` and `[...]` never cross
 * '/'. Names starting with '.' are matched only by segments starting with '.' unless
 * ST_GLOB_INCLUDE_HIDDEN is given. Segments without wildcards are not listed, only checked for
 * existence; a pattern ending in '/' matches only directories; with ST_GLOB_RECURSIVE a whole
 * segment `**` matches every file and zero or more directories. Directories that cannot be
 * opened (unreadable, vanished) are skipped silently, as Python does. Names are bytes (see
 * @ref fnmatch).
 *
 * Deliberate differences from Python:
 * - Results come sorted in byte order, directory by directory (so st_glob_iterator_next() still
 *   streams), unless ST_GLOB_NOSORT is given (then in directory order, as Python).
 * - Two errors stop globbing: running out of memory (ST_ENOMEM, where Python would raise
 *   MemoryError), and a directory whose reading fails once it is open (ST_EOS with errno, e.g.
 *   EIO), where Python would keep the names read so far: a silently shortened result would
 *   look like a smaller directory.
 * - `**` follows symbolic links to directories as Python does, but never descends into a
 *   directory it is already inside: a symlink loop is listed once instead of until ELOOP.
 *
 * @code
 * const char **paths = st_glob_at(ST_GLOB_CWD, "src", "**", ST_GLOB_RECURSIVE); // all below src
 * if (!paths) return -1;
 * for (size_t i = 0; paths[i]; i++)
 *     puts(paths[i]);
 * st_strv_free(paths);
 * @endcode
 * @{
 */

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Flag: `**` as a whole segment matches any files and zero or more directories. */
#define ST_GLOB_RECURSIVE 0x1
/** @brief Flag: `*`, `?`, `[...]` and `**` also match names starting with '.'. */
#define ST_GLOB_INCLUDE_HIDDEN 0x2
/** @brief Flag: leave each directory's names in the order the system lists them. */
#define ST_GLOB_NOSORT 0x4

/** @brief Pass as @p dir_fd when paths are relative to the working directory (Python's None). */
#define ST_GLOB_CWD (-100)

/**
 * @brief A streaming glob (opaque); see st_glob_iglob().
 *
 * Mirrors the generator glob.iglob() returns. Loop with st_glob_iterator_next():
 * @code
 * st_glob_iterator *it = st_glob_iglob("*.c", 0);
 * if (!it) return -1;
 * const char *path;
 * int rc;
 * while ((rc = st_glob_iterator_next(it, &path)) > 0)
 *     puts(path);                  // lent: valid until the next call on it
 * st_glob_iterator_free(it);
 * if (rc < 0) return -1;           // the error is set (ST_ENOMEM, ST_EOS)
 * @endcode
 */
typedef struct st_glob_iterator st_glob_iterator;

/**
 * @brief The paths matching a pattern.
 *
 * Mirrors glob.glob(pathname, recursive=..., include_hidden=...). Results are relative when the
 * pattern is; a pattern without wildcards yields itself when the path exists.
 * @param pattern The pathname pattern.
 * @param flags 0 or an OR of ST_GLOB_RECURSIVE, ST_GLOB_INCLUDE_HIDDEN, ST_GLOB_NOSORT.
 * @return A NULL-terminated vector (free with st_strv_free(); empty when nothing matches), or
 *         NULL on error (ST_ENOMEM, ST_EOS for a directory that fails part way, ST_ETYPE for a
 *         NULL pattern, ST_EVALUE for unknown flags).
 */
ST_API const char **st_glob(const char *pattern, int flags);

/**
 * @brief The paths matching a pattern, relative to a directory.
 *
 * Mirrors glob.glob(pathname, root_dir=root_dir, dir_fd=dir_fd, ...): the pattern is matched
 * inside @p root_dir (itself relative to @p dir_fd) and results are relative to @p root_dir.
 * @param dir_fd A directory file descriptor, or ST_GLOB_CWD (Python's None). Not closed.
 * @param root_dir The directory to search in, or NULL (Python's None: @p dir_fd itself).
 * @param pattern The pathname pattern.
 * @param flags As for st_glob().
 * @return As for st_glob().
 */
ST_API const char **st_glob_at(int dir_fd, const char *root_dir, const char *pattern, int flags);

/**
 * @brief Starts a streaming glob.
 *
 * Mirrors glob.iglob(pathname, recursive=..., include_hidden=...): memory and open descriptors
 * stay proportional to the depth of the directories being searched and the size of one
 * directory, however large the tree. Nothing is read before the first st_glob_iterator_next().
 * @param pattern The pathname pattern; copied.
 * @param flags As for st_glob().
 * @return The iterator (free with st_glob_iterator_free()), or NULL on error (as for st_glob()).
 */
ST_API st_glob_iterator *st_glob_iglob(const char *pattern, int flags);

/**
 * @brief Starts a streaming glob relative to a directory.
 *
 * Mirrors glob.iglob(pathname, root_dir=root_dir, dir_fd=dir_fd, ...), as st_glob_at() mirrors
 * glob.glob().
 * @param dir_fd A directory file descriptor or ST_GLOB_CWD, as for st_glob_at(); not closed, and
 *        it must stay open until the iterator is closed or freed.
 * @param root_dir The directory to search in, or NULL; copied.
 * @param pattern The pathname pattern; copied.
 * @param flags As for st_glob().
 * @return The iterator (free with st_glob_iterator_free()), or NULL on error (as for st_glob()).
 */
ST_API st_glob_iterator *st_glob_iglob_at(int dir_fd, const char *root_dir, const char *pattern, int flags);

/**
 * @brief The next matching path.
 *
 * Mirrors next() on the generator of glob.iglob(). After an error the iteration is over, as
 * for a Python generator that raised: later calls return 0, as they do once the iterator is
 * closed.
 * @param it The iterator.
 * @param path Receives the path, lent by the iterator: valid until the next call of
 *        st_glob_iterator_next(), st_glob_iterator_close() or st_glob_iterator_free() on @p it
 *        (copy it with strdup() to keep it). Set to NULL when the call does not return 1.
 * @return 1 with a path, 0 at the end, -1 on error (ST_ENOMEM, ST_EOS as for st_glob();
 *         ST_ETYPE for a NULL @p it or @p path).
 */
ST_API int st_glob_iterator_next(st_glob_iterator *it, const char **path);

/**
 * @brief Ends a streaming glob early and keeps the object.
 *
 * Mirrors generator.close(): releases the open directory descriptors and listings now;
 * st_glob_iterator_next() then returns 0. Closing twice is fine.
 * @param it The iterator, or NULL (then nothing happens).
 */
ST_API void st_glob_iterator_close(st_glob_iterator *it);

/**
 * @brief Frees a streaming glob, closing it first.
 * @param it The iterator, or NULL (then nothing happens).
 */
ST_API void st_glob_iterator_free(st_glob_iterator *it);

/**
 * @brief Escapes the wildcards of a path so that it matches only itself.
 *
 * Mirrors glob.escape(): each `*`, `?` and `[` becomes `[*]`, `[?]`, `[[]`.
 * @param pathname The path.
 * @return The escaped path (free with st_free()), or NULL on error (ST_ENOMEM, ST_ETYPE).
 */
ST_API char *st_glob_escape(const char *pathname);

/**
 * @brief Whether a string holds a wildcard (`*`, `?` or `[`).
 *
 * Mirrors glob.has_magic(s).
 * @param s The string.
 * @return 1 when @p s contains `*`, `?` or `[`, 0 when not, -1 with ST_ETYPE when @p s is NULL
 *         (Python's TypeError for None).
 */
ST_API int st_glob_has_magic(const char *s);

/**
 * @brief The matches as a list of str. Mirrors glob.glob(pathname) with a str pattern (names
 *        decoded by st_os_fsdecode(): b'\\xff' is '\\udcff'), in st_glob()'s order (sorted by
 *        their bytes unless @p flags has ST_GLOB_NOSORT).
 * @param pattern As st_glob().
 * @param flags As st_glob().
 * @return A new list the caller releases with st_value_unref(); NULL with the errors of
 *         st_glob() or st_os_fsdecode().
 */
ST_API st_value *st_glob_value(const char *pattern, int flags);

#ifdef __cplusplus
}
#endif

/** @} */

#endif
