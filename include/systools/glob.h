/**
 * @file systools/glob.h
 * @brief Python's glob module: pathname pattern expansion with fd-relative directory scanning.
 */
#ifndef SYSTOOLS_GLOB_H
#define SYSTOOLS_GLOB_H

#include <stdbool.h>

#include "common.h"

/**
 * @defgroup glob glob: pathname pattern expansion
 * @brief Mirrors Python's `glob` module (glob, iglob, escape, has_magic).
 *
 * Each path segment is an fnmatch pattern (see @ref fnmatch): `*`, `?` and `[...]` never cross
 * '/'. Names starting with '.' are matched only by segments starting with '.' unless
 * ST_GLOB_INCLUDE_HIDDEN is given. Segments without wildcards are not listed, only checked for
 * existence; a pattern ending in '/' matches only directories; with ST_GLOB_RECURSIVE a whole
 * segment `**` matches every file and zero or more directories. Unreadable or vanished
 * directories are skipped silently, as Python does. Names are bytes (see @ref fnmatch).
 *
 * Deliberate differences from Python:
 * - Results come sorted in byte order, directory by directory (so st_glob_iterator_next() still
 *   streams), unless ST_GLOB_NOSORT is given (then in directory order, as Python).
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

/** @brief A streaming glob (opaque); see st_glob_iglob_at(). */
typedef struct st_glob_iterator st_glob_iterator;

/**
 * @brief The paths matching a pattern.
 *
 * Mirrors glob.glob(pathname, recursive=..., include_hidden=...). Results are relative when the
 * pattern is; a pattern without wildcards yields itself when the path exists.
 * @param pattern The pathname pattern.
 * @param flags 0 or an OR of ST_GLOB_RECURSIVE, ST_GLOB_INCLUDE_HIDDEN, ST_GLOB_NOSORT.
 * @return A NULL-terminated vector (free with st_strv_free(); empty when nothing matches), or
 *         NULL on error (ST_ENOMEM, ST_ETYPE for a NULL pattern, ST_EVALUE for unknown flags).
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
 * Mirrors glob.iglob(): memory and open descriptors stay proportional to the depth of the
 * directories being searched and the size of one directory, however large the tree.
 * @param dir_fd A directory file descriptor or ST_GLOB_CWD, as for st_glob_at(); it must stay
 *        open until st_glob_iterator_close().
 * @param root_dir The directory to search in, or NULL.
 * @param pattern The pathname pattern; copied.
 * @param flags As for st_glob().
 * @return The iterator (finish with st_glob_iterator_close()), or NULL on error (as for st_glob()).
 */
ST_API st_glob_iterator *st_glob_iglob_at(int dir_fd, const char *root_dir, const char *pattern, int flags);

/**
 * @brief The next matching path.
 * @param it The iterator.
 * @return The path, owned by the iterator and valid until the next call; NULL at the end or
 *         when an error (ST_ENOMEM) stopped the iteration: st_glob_iterator_close() tells which.
 */
ST_API const char *st_glob_iterator_next(st_glob_iterator *it);

/**
 * @brief Ends a streaming glob and frees it.
 * @param it The iterator, or NULL.
 * @return 0, or -1 when the iteration was stopped by an error (the error is still set).
 */
ST_API int st_glob_iterator_close(st_glob_iterator *it);

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
 * Mirrors glob.has_magic().
 * @param s The string (NULL counts as no wildcard).
 * @return true when @p s contains `*`, `?` or `[`.
 */
ST_API bool st_glob_has_magic(const char *s);

#ifdef __cplusplus
}
#endif

/** @} */

#endif
