/* path: ntpath's string functions as CPython 3.13 runs them on a non-Windows host (the
 * pure-Python splitroot() and normpath() of Lib/ntpath.py): drive letters, UNC shares,
 * "\\?\" prefixes, both separators. */
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "internal/path.h"
#include "systools/path.h"

static int is_sep(char c) { return c == '\\' || c == '/'; }

static char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c; }

/* Splits p as ntpath.splitroot() does: the lengths of the drive and the root (0 or 1). */
static void split_root(const char *p, size_t *drive, size_t *root)
{
    *drive = *root = 0;
    if (!p[0])
        return;
    if (is_sep(p[0])) {
        if (!is_sep(p[1])) {
            *root = 1; /* "\Windows": rooted, no drive */
            return;
        }
        /* UNC "\\server\share" or "\\?\UNC\server\share"; device "\\.\dev", "\\?\dev". */
        static const char unc[] = "\\\\?\\UNC\\";
        size_t start = 8;
        for (size_t i = 0; i < 8; i++)
            if (is_sep(unc[i]) ? !is_sep(p[i]) : ascii_lower(p[i]) != ascii_lower(unc[i])) {
                start = 2;
                break;
            }
        size_t len = strlen(p);
        size_t i = start < len ? start + strcspn(p + start, "\\/") : len;
        size_t j = i < len ? i + 1 + strcspn(p + i + 1, "\\/") : len;
        if (j >= len) {
            *drive = len; /* an unfinished share is all drive */
            return;
        }
        *drive = j;
        *root = 1;
        return;
    }
    /* "X:" where X is the first character, however many bytes it takes. */
    size_t c = st__path_charlen(p);
    if (p[c] == ':') {
        *drive = c + 1;
        *root = is_sep(p[c + 1]) ? 1 : 0;
    }
}

static int hand_out_root(const char *path, char **drive, char **root, char **tail)
{
    size_t d, r;
    split_root(path, &d, &r);
    st__path_piece pieces[3] = {{path, d}, {path + d, r}, {path + d + r, strlen(path + d + r)}};
    char **const outs[3] = {drive, root, tail};
    return st__path_hand_out(3, pieces, outs);
}

int st_ntpath_splitroot(const char *path, char **drive, char **root, char **tail)
{
    if (st__path_check(path) < 0 || hand_out_root(path, drive, root, tail) < 0)
        return ST_TRACE();
    return 0;
}

int st_ntpath_splitdrive(const char *path, char **drive, char **rest)
{
    if (st__path_check(path) < 0)
        return ST_TRACE();
    size_t d, r;
    split_root(path, &d, &r);
    st__path_piece pieces[2] = {{path, d}, {path + d, strlen(path + d)}};
    char **const outs[2] = {drive, rest};
    return st__path_hand_out(2, pieces, outs) < 0 ? ST_TRACE() : 0;
}

/* Whether n bytes of a and b are equal but for ASCII case (str.lower() on ASCII), and when
 * any_sep, but for "/" versus "\\" too. */
static int equal_ignoring_case(const char *a, const char *b, size_t n, int any_sep)
{
    for (size_t i = 0; i < n; i++)
        if (ascii_lower(a[i]) != ascii_lower(b[i]) && !(any_sep && is_sep(a[i]) && is_sep(b[i])))
            return 0;
    return 1;
}

char *st_ntpath_joinv(const char *const *parts, size_t n)
{
    if (n == 0 || !parts)
        return (ST_RAISE(ST_ETYPE, "join() missing 1 required positional argument: 'path'"), NULL);
    for (size_t k = 0; k < n; k++)
        if (!parts[k])
            return k == 0 ? (st__path_check(NULL), NULL)
                          : (ST_RAISE(ST_ETYPE, "join() argument must be str, bytes, or "
                                                "os.PathLike object, not 'NoneType'"), NULL);
    /* The result's drive and root are always a slice of some part; its path is built. */
    size_t d, r;
    split_root(parts[0], &d, &r);
    st__path_piece drive = {parts[0], d}, root = {parts[0] + d, r};
    st__buf path = ST__BUF_INIT;
    if (st__buf_puts(&path, parts[0] + d + r) < 0)
        goto fail;
    for (size_t k = 1; k < n; k++) {
        const char *p = parts[k];
        split_root(p, &d, &r);
        if (r || (d && (d != drive.n || !equal_ignoring_case(p, drive.p, d, 0)))) {
            /* An absolute part, or another drive, starts over (an absolute part without a
             * drive keeps the current one). */
            if (d || !r || !drive.n)
                drive = (st__path_piece){p, d};
            root = (st__path_piece){p + d, r};
            path.len = 0;
        } else {
            if (d)
                drive = (st__path_piece){p, d}; /* the same drive in another case */
            if (path.len && !is_sep(path.data[path.len - 1]) && st__buf_putc(&path, '\\') < 0)
                goto fail;
        }
        if (st__buf_puts(&path, p + d + r) < 0)
            goto fail;
    }
    st__buf out = ST__BUF_INIT;
    int rc = st__buf_append(&out, drive.p, drive.n);
    /* A UNC drive needs a separator before a relative path. */
    if (rc == 0 && path.len && !root.n && drive.n && !strchr(":\\/", drive.p[drive.n - 1]))
        rc = st__buf_putc(&out, '\\');
    if (rc == 0)
        rc = st__buf_append(&out, root.p, root.n);
    if (rc == 0)
        rc = st__buf_append(&out, path.data ? path.data : "", path.len);
    st__buf_free(&path);
    if (rc < 0) {
        st__buf_free(&out);
        return (ST_TRACE(), NULL);
    }
    return st__buf_detach(&out);
fail:
    st__buf_free(&path);
    return (ST_TRACE(), NULL);
}

char *st_ntpath_join(const char *first, ...)
{
    va_list ap;
    va_start(ap, first);
    char *r = st__path_join_va(first, ap, st_ntpath_joinv);
    va_end(ap);
    return r;
}

int st_ntpath_split(const char *path, char **head, char **tail)
{
    if (st__path_check(path) < 0)
        return ST_TRACE();
    size_t d, r;
    split_root(path, &d, &r);
    size_t start = d + r, i = strlen(path);
    while (i > start && !is_sep(path[i - 1]))
        i--;
    size_t h = i;
    while (h > start && is_sep(path[h - 1]))
        h--;
    /* drive + root + head is a prefix of path. */
    st__path_piece pieces[2] = {{path, h}, {path + i, strlen(path + i)}};
    char **const outs[2] = {head, tail};
    return st__path_hand_out(2, pieces, outs) < 0 ? ST_TRACE() : 0;
}

char *st_ntpath_dirname(const char *path)
{
    char *head;
    return st_ntpath_split(path, &head, NULL) < 0 ? (ST_TRACE(), NULL) : head;
}

char *st_ntpath_basename(const char *path)
{
    char *tail;
    return st_ntpath_split(path, NULL, &tail) < 0 ? (ST_TRACE(), NULL) : tail;
}

int st_ntpath_splitext(const char *path, char **root, char **ext)
{
    return st__path_splitext(path, 1, root, ext) < 0 ? ST_TRACE() : 0;
}

char *st_ntpath_normpath(const char *path)
{
    if (st__path_check(path) < 0)
        return (ST_TRACE(), NULL);
    size_t d, r;
    split_root(path, &d, &r);
    st__buf b = ST__BUF_INIT;
    if (st__buf_append(&b, path, d + r) < 0)
        goto fail;
    for (size_t i = 0; i < b.len; i++)
        if (b.data[i] == '/')
            b.data[i] = '\\';
    if (st__path_norm_tail(&b, path + d + r, r > 0, '\\', 1) < 0)
        goto fail;
    return st__buf_detach(&b);
fail:
    st__buf_free(&b);
    return (ST_TRACE(), NULL);
}

int st_ntpath_isabs(const char *path)
{
    if (st__path_check(path) < 0)
        return ST_TRACE();
    if (!path[0])
        return 0;
    if (is_sep(path[0]) && is_sep(path[1]))
        return 1; /* UNC or device path */
    size_t c = st__path_charlen(path);
    return path[c] == ':' && is_sep(path[c + 1]);
}

char *st_ntpath_normcase(const char *path)
{
    if (st__path_check(path) < 0)
        return (ST_TRACE(), NULL);
    char *r = st__strdup(path);
    if (!r)
        return (ST_TRACE(), NULL);
    for (char *c = r; *c; c++)
        *c = *c == '/' ? '\\' : ascii_lower(*c);
    return r;
}

/* The next component of a commonpath() walk: skips separators, "" and "." and returns the
 * component's length (0 at the end), leaving *p at its start. */
static size_t next_comp(const char **p)
{
    for (;;) {
        while (is_sep(**p))
            (*p)++;
        size_t n = strcspn(*p, "\\/");
        if (n != 1 || **p != '.')
            return n;
        *p += 1;
    }
}

char *st_ntpath_commonpath(const char *const *paths, size_t n)
{
    if (n == 0)
        return (ST_RAISE(ST_EVALUE, "commonpath() arg is an empty iterable"), NULL);
    for (size_t k = 0; k < n; k++)
        if (st__path_check(paths[k]) < 0)
            return (ST_TRACE(), NULL);
    /* Drives compare without case and separator spelling; all roots must agree. */
    size_t d0, r0;
    split_root(paths[0], &d0, &r0);
    int same_root = 1;
    for (size_t k = 1; k < n; k++) {
        size_t d, r;
        split_root(paths[k], &d, &r);
        if (d != d0 || !equal_ignoring_case(paths[k], paths[0], d, 1))
            return (ST_RAISE(ST_EVALUE, "Paths don't have the same drive"), NULL);
        same_root &= r == r0;
    }
    if (!same_root)
        return (ST_RAISE(ST_EVALUE, d0 ? "Can't mix absolute and relative paths"
                                       : "Can't mix rooted and not-rooted paths"), NULL);
    /* How many components of paths[0] every other path shares, compared without case. */
    const char *rest0 = paths[0] + d0 + r0;
    size_t common = SIZE_MAX, len;
    for (size_t k = 1; k < n; k++) {
        const char *a = rest0, *b = paths[k] + d0 + r0;
        size_t i = 0, nb;
        while (i < common && (len = next_comp(&a)) && (nb = next_comp(&b)) == len &&
               equal_ignoring_case(a, b, len, 0)) {
            a += len;
            b += len;
            i++;
        }
        common = i;
    }
    /* drive + root (with "\\" separators) + the common components of paths[0]. */
    st__buf out = ST__BUF_INIT;
    if (st__buf_append(&out, paths[0], d0 + r0) < 0)
        goto fail;
    for (size_t i = 0; i < out.len; i++)
        if (out.data[i] == '/')
            out.data[i] = '\\';
    const char *c = rest0;
    for (size_t i = 0; i < common && (len = next_comp(&c)) != 0; i++, c += len)
        if ((i && st__buf_putc(&out, '\\') < 0) || st__buf_append(&out, c, len) < 0)
            goto fail;
    return st__buf_detach(&out);
fail:
    st__buf_free(&out);
    return (ST_TRACE(), NULL);
}

char *st_ntpath_commonprefix(const char *const *paths, size_t n)
{
    char *r = st_path_commonprefix(paths, n);
    return r ? r : (ST_TRACE(), NULL);
}
