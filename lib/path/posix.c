/* path: posixpath's string functions (join, split, splitext, splitroot, normpath, commonpath,
 * expandvars...), written from CPython 3.13's Lib/posixpath.py and genericpath.py. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "internal/path.h"
#include "systools/path.h"

char *st_path_joinv(const char *const *parts, size_t n)
{
    if (n == 0 || !parts)
        return (ST_RAISE(ST_ETYPE, "join() missing 1 required positional argument: 'a'"), NULL);
    if (st__path_check(parts[0]) < 0)
        return (ST_TRACE(), NULL);
    st__buf b = ST__BUF_INIT;
    for (size_t i = 0; i < n; i++) {
        const char *s = parts[i];
        if (!s) {
            st__buf_free(&b);
            return (ST_RAISE(ST_ETYPE, "join() argument must be str, bytes, or os.PathLike "
                                       "object, not 'NoneType'"), NULL);
        }
        if (s[0] == '/')
            b.len = 0; /* an absolute component restarts the path */
        else if (b.len && b.data[b.len - 1] != '/' && st__buf_putc(&b, '/') < 0)
            goto fail;
        if (st__buf_puts(&b, s) < 0)
            goto fail;
    }
    return st__buf_detach(&b);
fail:
    st__buf_free(&b);
    return (ST_TRACE(), NULL);
}

char *st_path_join(const char *first, ...)
{
    va_list ap;
    va_start(ap, first);
    char *r = st__path_join_va(first, ap, st_path_joinv);
    va_end(ap);
    return r;
}

/* The index just past the last "/" of p, and the length of the head split() keeps there:
 * trailing slashes stripped unless the head is all slashes. */
static size_t split_at(const char *p, size_t *head_len)
{
    const char *slash = strrchr(p, '/');
    size_t i = slash ? (size_t)(slash - p) + 1 : 0, h = i;
    while (h > 0 && p[h - 1] == '/')
        h--;
    *head_len = h ? h : i;
    return i;
}

int st_path_split(const char *path, char **head, char **tail)
{
    if (st__path_check(path) < 0)
        return ST_TRACE();
    size_t h, i = split_at(path, &h);
    st__path_piece pieces[2] = {{path, h}, {path + i, strlen(path + i)}};
    char **const outs[2] = {head, tail};
    return st__path_hand_out(2, pieces, outs) < 0 ? ST_TRACE() : 0;
}

char *st_path_dirname(const char *path)
{
    char *head;
    return st_path_split(path, &head, NULL) < 0 ? (ST_TRACE(), NULL) : head;
}

char *st_path_basename(const char *path)
{
    char *tail;
    return st_path_split(path, NULL, &tail) < 0 ? (ST_TRACE(), NULL) : tail;
}

int st_path_splitext(const char *path, char **root, char **ext)
{
    return st__path_splitext(path, 0, root, ext) < 0 ? ST_TRACE() : 0;
}

int st_path_splitdrive(const char *path, char **drive, char **rest)
{
    if (st__path_check(path) < 0)
        return ST_TRACE();
    st__path_piece pieces[2] = {{path, 0}, {path, strlen(path)}};
    char **const outs[2] = {drive, rest};
    return st__path_hand_out(2, pieces, outs) < 0 ? ST_TRACE() : 0;
}

/* The length of the root: 0, 1 ("/", "///"...) or 2 (exactly "//", implementation-defined). */
static size_t root_len(const char *p)
{
    if (p[0] != '/')
        return 0;
    return p[1] == '/' && p[2] != '/' ? 2 : 1;
}

int st_path_splitroot(const char *path, char **drive, char **root, char **tail)
{
    if (st__path_check(path) < 0)
        return ST_TRACE();
    size_t r = root_len(path);
    st__path_piece pieces[3] = {{path, 0}, {path, r}, {path + r, strlen(path + r)}};
    char **const outs[3] = {drive, root, tail};
    return st__path_hand_out(3, pieces, outs) < 0 ? ST_TRACE() : 0;
}

char *st_path_normpath(const char *path)
{
    if (st__path_check(path) < 0)
        return (ST_TRACE(), NULL);
    st__buf b = ST__BUF_INIT;
    size_t r = root_len(path);
    if (st__buf_append(&b, path, r) < 0 || st__path_norm_tail(&b, path + r, r > 0, '/', 0) < 0) {
        st__buf_free(&b);
        return (ST_TRACE(), NULL);
    }
    return st__buf_detach(&b);
}

int st_path_isabs(const char *path)
{
    if (st__path_check(path) < 0)
        return ST_TRACE();
    return path[0] == '/';
}

char *st_path_normcase(const char *path)
{
    if (st__path_check(path) < 0)
        return (ST_TRACE(), NULL);
    char *r = st__strdup(path);
    return r ? r : (ST_TRACE(), NULL);
}

char *st_path_commonprefix(const char *const *paths, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (st__path_check(paths[k]) < 0)
            return (ST_TRACE(), NULL);
    if (n == 0)
        return st__strdup("");
    /* Character by character, as Python compares str: a character is common when every path
     * has the same bytes there and decodes them as one character of the same length. */
    const char *p0 = paths[0];
    size_t i = 0;
    while (p0[i]) {
        size_t len = st__path_charlen(p0 + i);
        for (size_t k = 1; k < n; k++)
            if (st__path_charlen(paths[k] + i) != len || memcmp(paths[k] + i, p0 + i, len) != 0)
                goto done;
        i += len;
    }
done:;
    char *r = st__strndup(p0, i);
    return r ? r : (ST_TRACE(), NULL);
}

/* The next component of a commonpath() walk: skips "" and "." and returns its length (0 at
 * the end), leaving *p at its start. */
static size_t next_comp(const char **p)
{
    for (;;) {
        while (**p == '/')
            (*p)++;
        size_t n = strcspn(*p, "/");
        if (n != 1 || **p != '.')
            return n;
        *p += 1;
    }
}

char *st_path_commonpath(const char *const *paths, size_t n)
{
    if (n == 0)
        return (ST_RAISE(ST_EVALUE, "commonpath() arg is an empty sequence"), NULL);
    for (size_t k = 0; k < n; k++)
        if (st__path_check(paths[k]) < 0)
            return (ST_TRACE(), NULL);
    int abs = paths[0][0] == '/';
    for (size_t k = 1; k < n; k++)
        if ((paths[k][0] == '/') != abs)
            return (ST_RAISE(ST_EVALUE, "Can't mix absolute and relative paths"), NULL);
    st__path_piece *comps = NULL;
    size_t ncomps = 0, len;
    st__buf out = ST__BUF_INIT;
    for (const char *c = paths[0]; (len = next_comp(&c)) != 0; c += len) {
        st__path_piece *more = st__reallocarray(comps, ncomps + 1, sizeof *comps);
        if (!more)
            goto fail;
        comps = more;
        comps[ncomps++] = (st__path_piece){c, len};
    }
    size_t common = ncomps;
    for (size_t k = 1; k < n; k++) {
        const char *c = paths[k];
        size_t i = 0;
        while (i < common && (len = next_comp(&c)) == comps[i].n && len &&
               memcmp(c, comps[i].p, len) == 0) {
            c += len;
            i++;
        }
        common = i;
    }
    if (abs && st__buf_putc(&out, '/') < 0)
        goto fail;
    for (size_t i = 0; i < common; i++)
        if ((i && st__buf_putc(&out, '/') < 0) || st__buf_append(&out, comps[i].p, comps[i].n) < 0)
            goto fail;
    st_free(comps);
    return st__buf_detach(&out);
fail:
    st_free(comps);
    st__buf_free(&out);
    return (ST_TRACE(), NULL);
}

static int is_word(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

char *st_path_expandvars(const char *path)
{
    if (st__path_check(path) < 0)
        return (ST_TRACE(), NULL);
    st__buf out = ST__BUF_INIT;
    const char *p = path;
    for (;;) {
        /* Python's r'\$(\w+|\{[^}]*\})' with re.ASCII: the name, and where the match ends. */
        const char *dollar = strchr(p, '$');
        if (!dollar)
            break;
        const char *name = dollar + 1, *end = name;
        while (is_word(*end))
            end++;
        size_t nlen = (size_t)(end - name);
        if (nlen == 0 && *name == '{' && (end = strchr(name, '}')) != NULL) {
            name++;
            nlen = (size_t)(end - name);
            end++;
        } else if (nlen == 0) {
            if (st__buf_append(&out, p, (size_t)(name - p)) < 0)
                goto fail;
            p = name;
            continue;
        }
        char *key = st__strndup(name, nlen);
        if (!key)
            goto fail;
        /* getenv("a=b") would match the entry "a=b=c", which os.environ keys as "a"; and
         * "${}" names no variable. */
        const char *value = nlen && !strchr(key, '=') ? getenv(key) : NULL;
        st_free(key);
        int rc = st__buf_append(&out, p, (size_t)(dollar - p));
        if (rc == 0)
            rc = value ? st__buf_puts(&out, value) : st__buf_append(&out, dollar, (size_t)(end - dollar));
        if (rc < 0)
            goto fail;
        p = end;
    }
    if (st__buf_puts(&out, p) < 0)
        goto fail;
    return st__buf_detach(&out);
fail:
    st__buf_free(&out);
    return (ST_TRACE(), NULL);
}
