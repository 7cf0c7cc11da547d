/* path: helpers shared by posixpath and ntpath — argument checks, handing out split results,
 * character boundaries, the generic splitext() and the component normalizer of normpath(). */
#include <string.h>

#include "internal/path.h"

int st__path_check(const char *path)
{
    if (!path)
        return ST_RAISE(ST_ETYPE, "expected str, bytes or os.PathLike object, not NoneType");
    return 0;
}

int st__path_hand_out(size_t count, const st__path_piece *pieces, char **const *outs)
{
    char *made[4] = {NULL, NULL, NULL, NULL}; /* the split functions return at most 3 parts */
    for (size_t i = 0; i < count; i++) {
        if (!outs[i])
            continue;
        made[i] = st__strndup(pieces[i].p, pieces[i].n);
        if (!made[i]) {
            for (size_t j = 0; j < i; j++)
                st_free(made[j]);
            return ST_TRACE();
        }
    }
    for (size_t i = 0; i < count; i++)
        if (outs[i])
            *outs[i] = made[i];
    return 0;
}

static int is_cont(unsigned char c) { return (c & 0xC0) == 0x80; }

size_t st__path_charlen(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    /* Well-formed UTF-8 only (RFC 3629): no overlongs, no surrogates, nothing past U+10FFFF;
     * anything else decodes byte by byte under surrogateescape. */
    if (u[0] >= 0xC2 && u[0] <= 0xDF)
        return is_cont(u[1]) ? 2 : 1;
    if (u[0] >= 0xE0 && u[0] <= 0xEF) {
        unsigned char lo = u[0] == 0xE0 ? 0xA0 : 0x80, hi = u[0] == 0xED ? 0x9F : 0xBF;
        return u[1] >= lo && u[1] <= hi && is_cont(u[2]) ? 3 : 1;
    }
    if (u[0] >= 0xF0 && u[0] <= 0xF4) {
        unsigned char lo = u[0] == 0xF0 ? 0x90 : 0x80, hi = u[0] == 0xF4 ? 0x8F : 0xBF;
        return u[1] >= lo && u[1] <= hi && is_cont(u[2]) && is_cont(u[3]) ? 4 : 1;
    }
    return 1;
}

char *st__path_join_va(const char *first, va_list ap, char *(*joinv)(const char *const *, size_t))
{
    if (st__path_check(first) < 0)
        return (ST_TRACE(), NULL);
    size_t len = 0, cap = 0;
    const char **parts = NULL;
    for (const char *s = first; s; s = va_arg(ap, const char *)) {
        if (len == cap) {
            const char **bigger = st__grow(parts, &cap, sizeof *parts, 8);
            if (!bigger) {
                st_free(parts);
                return (ST_TRACE(), NULL);
            }
            parts = bigger;
        }
        parts[len++] = s;
    }
    char *r = joinv(parts, len);
    st_free(parts);
    return r ? r : (ST_TRACE(), NULL);
}

static int is_sep(char c, int nt) { return c == '/' || (nt && c == '\\'); }

/* Where genericpath._splitext() cuts p: the extension's dot, or strlen(p) when none. */
static size_t ext_index(const char *p, int nt)
{
    size_t len = strlen(p), sep = 0, dot = 0; /* 1-based positions, 0 = none */
    for (size_t i = 0; i < len; i++) {
        if (is_sep(p[i], nt))
            sep = i + 1;
        else if (p[i] == '.')
            dot = i + 1;
    }
    if (dot > sep)
        for (size_t i = sep; i + 1 < dot; i++) /* leading dots of the name start no extension */
            if (p[i] != '.')
                return dot - 1;
    return len;
}

int st__path_splitext(const char *path, int nt, char **root, char **ext)
{
    if (st__path_check(path) < 0)
        return ST_TRACE();
    size_t dot = ext_index(path, nt);
    st__path_piece pieces[2] = {{path, dot}, {path + dot, strlen(path + dot)}};
    char **const outs[2] = {root, ext};
    return st__path_hand_out(2, pieces, outs) < 0 ? ST_TRACE() : 0;
}

/* Whether the last of the components written to d[start..len) is "..". */
static int last_is_pardir(const char *d, size_t start, size_t len, char sep)
{
    return len - start >= 2 && d[len - 1] == '.' && d[len - 2] == '.' &&
           (len - start == 2 || d[len - 3] == sep);
}

int st__path_norm_tail(st__buf *out, const char *tail, int rooted, char sep, int nt)
{
    /* The result is never longer than prefix + tail + "." (reserved once, written in place). */
    if (st__buf_reserve(out, strlen(tail) + 1) < 0)
        return ST_TRACE();
    char *d = out->data;
    const size_t prefix = out->len;
    size_t len = prefix, comps = 0;
    for (const char *c = tail;; c++) {
        size_t n = 0;
        while (c[n] && !is_sep(c[n], nt))
            n++;
        int dots = n == 2 && c[0] == '.' && c[1] == '.';
        if (n == 0 || (n == 1 && c[0] == '.')) {
            /* empty or current directory: dropped */
        } else if (dots && comps && !last_is_pardir(d, prefix, len, sep)) {
            while (len > prefix && d[len - 1] != sep) /* drop the previous component */
                len--;
            if (len > prefix)
                len--;
            comps--;
        } else if (!(dots && !comps && rooted)) { /* ".." above the root is dropped */
            if (comps)
                d[len++] = sep;
            memcpy(d + len, c, n);
            len += n;
            comps++;
        }
        c += n;
        if (!*c)
            break;
    }
    if (len == 0)
        d[len++] = '.';
    d[len] = '\0';
    out->len = len;
    return 0;
}
