/* Version, ownership helpers and the allocation/buffer primitives every module uses. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/mem.h"
#include "internal/options.h"
#include "systools/common.h"

int st_version(void) { return ST_VERSION_NUMBER; }

const char *st_version_string(void) { return ST_VERSION_STRING; }

void st_free(void *p) { free(p); }

void st_strv_free(const char **v)
{
    if (!v)
        return;
    /* The vector and its strings are the caller's to free; const only keeps them passable. */
    for (const char **p = v; *p; p++)
        free((char *)*p);
    free(v);
}

size_t st_strv_len(const char *const *v)
{
    size_t n = 0;
    if (v)
        while (v[n])
            n++;
    return n;
}

void *st__malloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        ST_RAISE_NOMEM();
    return p;
}

void *st__calloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        ST_RAISE_NOMEM();
    return p;
}

void *st__realloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        ST_RAISE_NOMEM();
    return q;
}

void *st__reallocarray(void *p, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size) {
        ST_RAISE_NOMEM();
        return NULL;
    }
    return st__realloc(p, n * size);
}

void *st__grow(void *items, size_t *cap, size_t elem, size_t first)
{
    if (*cap > SIZE_MAX / 2) {
        ST_RAISE_NOMEM();
        return NULL;
    }
    size_t n = *cap ? *cap * 2 : first;
    void *bigger = st__reallocarray(items, n, elem);
    if (bigger)
        *cap = n;
    return bigger;
}

char *st__strndup(const char *s, size_t n)
{
    char *d = st__malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

char *st__strdup(const char *s) { return st__strndup(s, strlen(s)); }

char *st__asprintf(const char *fmt, ...)
{
    st__buf b = ST__BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    int rc = st__buf_vprintf(&b, fmt, ap);
    va_end(ap);
    if (rc < 0) {
        st__buf_free(&b);
        return NULL;
    }
    return st__buf_detach(&b);
}

int st__buf_reserve(st__buf *b, size_t extra)
{
    if (extra >= SIZE_MAX - b->len)
        return ST_RAISE_NOMEM();
    size_t need = b->len + extra + 1; /* room for the NUL */
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *p = st__realloc(b->data, cap);
    if (!p)
        return -1;
    b->data = p;
    b->cap = cap;
    return 0;
}

int st__buf_append(st__buf *b, const void *p, size_t n)
{
    if (st__buf_reserve(b, n) < 0)
        return -1;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int st__buf_puts(st__buf *b, const char *s) { return st__buf_append(b, s, strlen(s)); }

int st__buf_putc(st__buf *b, char c) { return st__buf_append(b, &c, 1); }

int st__buf_vprintf(st__buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return ST_RAISE(ST_EVALUE, "bad format string '%s'", fmt);
    if ((size_t)n < sizeof small)
        return st__buf_append(b, small, (size_t)n);
    if (st__buf_reserve(b, (size_t)n) < 0)
        return -1;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int st__buf_printf(st__buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = st__buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

char *st__buf_detach(st__buf *b)
{
    if (!b->data && st__buf_reserve(b, 0) < 0)
        return NULL;
    b->data[b->len] = '\0';
    char *p = b->data;
    *b = (st__buf)ST__BUF_INIT;
    return p;
}

void st__buf_free(st__buf *b)
{
    free(b->data);
    *b = (st__buf)ST__BUF_INIT;
}

static int strv_grow(st__strv *sv)
{
    if (sv->len + 1 < sv->cap)
        return 0;
    char **v = st__grow(sv->v, &sv->cap, sizeof *v, 8);
    if (!v)
        return -1;
    sv->v = v;
    return 0;
}

int st__strv_push_owned(st__strv *sv, char *s)
{
    if (!s || strv_grow(sv) < 0) {
        free(s);
        return -1;
    }
    sv->v[sv->len++] = s;
    sv->v[sv->len] = NULL;
    return 0;
}

int st__strv_push(st__strv *sv, const char *s)
{
    return st__strv_push_owned(sv, st__strdup(s));
}

int st__strv_insert(st__strv *sv, size_t at, const char *s)
{
    if (st__strv_push(sv, s) < 0)
        return -1;
    if (at < sv->len - 1) {
        char *last = sv->v[sv->len - 1];
        memmove(sv->v + at + 1, sv->v + at, (sv->len - 1 - at) * sizeof *sv->v);
        sv->v[at] = last;
    }
    return 0;
}

void st__strv_remove(st__strv *sv, size_t at)
{
    free(sv->v[at]);
    memmove(sv->v + at, sv->v + at + 1, (sv->len - at) * sizeof *sv->v); /* moves the NULL too */
    sv->len--;
}

const char **st__strv_detach(st__strv *sv)
{
    if (!sv->v && strv_grow(sv) < 0)
        return NULL;
    sv->v[sv->len] = NULL;
    const char **v = (const char **)sv->v;
    *sv = (st__strv)ST__STRV_INIT;
    return v;
}

void st__strv_free(st__strv *sv)
{
    if (sv->v) {
        sv->v[sv->len] = NULL;
        st_strv_free((const char **)sv->v);
    }
    *sv = (st__strv)ST__STRV_INIT;
}

const char **st__strv_dup(const char *const *v)
{
    st__strv sv = ST__STRV_INIT;
    for (size_t i = 0; v && v[i]; i++) {
        if (st__strv_push(&sv, v[i]) < 0) {
            st__strv_free(&sv);
            return NULL;
        }
    }
    return st__strv_detach(&sv);
}

/* ---- versioned options ------------------------------------------------------------------ */

int st__options_check(unsigned int version, unsigned int current, const char *type)
{
    if (version >= 1 && version <= current)
        return 0;
    if (version == 0)
        return ST_RAISE(ST_EVALUE, "%s.version is 0: initialise it with its _INIT macro or "
                        "%s_init()", type, type);
    return ST_RAISE(ST_EVALUE, "%s version %u is newer than this library's %u", type, version,
                    current);
}

int st__options_init(void *opts, const size_t *sizes, unsigned int version, unsigned int current,
                     const char *type)
{
    if (!opts)
        return ST_RAISE(ST_EVALUE, "%s_init: opts is NULL", type);
    if (st__options_check(version, current, type) < 0)
        return ST_TRACE();
    memset(opts, 0, sizes[version - 1]);
    memcpy(opts, &version, sizeof version); /* every options struct starts with its version */
    return 0;
}
