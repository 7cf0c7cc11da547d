/* Internal: helpers shared by the posixpath (lib/path/posix.c), ntpath (lib/path/nt.c) and
 * filesystem (lib/path/fs.c) parts of the path module. Never installed. */
#ifndef ST_INTERNAL_PATH_H
#define ST_INTERNAL_PATH_H

#include <stdarg.h>
#include <stddef.h>

#include "mem.h"

/* A slice of a caller's string. */
typedef struct st__path_piece {
    const char *p;
    size_t n;
} st__path_piece;

/* Raises Python's TypeError for a NULL path (as passing None does) and returns -1; 0 otherwise. */
int st__path_check(const char *path);

/* Copies each piece into a new string stored through the matching non-NULL outs[i]: all or
 * nothing, so on failure (-1, ST_ENOMEM) no output is set. */
int st__path_hand_out(size_t count, const st__path_piece *pieces, char **const *outs);

/* The length in bytes of the character at s, as Python's UTF-8 + surrogateescape decoding
 * sees it: 2-4 for a well-formed multi-byte sequence, else 1 (ASCII, NUL, or a stray byte). */
size_t st__path_charlen(const char *s);

/* os.path.join(first, ...) for both flavours: checks first, collects the NULL-terminated list
 * that follows it and hands the parts to joinv (st_path_joinv or st_ntpath_joinv). */
char *st__path_join_va(const char *first, va_list ap, char *(*joinv)(const char *const *, size_t));

/* genericpath._splitext(): cuts path before the extension's dot (root gets all of it when
 * there is none), as st__path_hand_out() hands pieces out. nt: "\\" is a separator too. */
int st__path_splitext(const char *path, int nt, char **root, char **ext);

/* Appends the components of `tail` (split at "/", and "\\" too when nt) to out, normalized as
 * normpath() does: "" and "." dropped, ".." removing the previous component; a leading ".." is
 * dropped when `rooted` and kept otherwise. Components are joined with `sep`; out->len on entry is
 * the length of the drive/root prefix that is left alone. Adds "." when the result is empty. */
int st__path_norm_tail(st__buf *out, const char *tail, int rooted, char sep, int nt);

#endif
