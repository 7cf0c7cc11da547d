/* io: io.BytesIO over an st__buf, StringIO-style UTF-8 helpers, and a stdio view. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "internal/error.h"
#include "internal/mem.h"
#include "internal/utf8.h"
#include "internal/value.h"
#include "systools/io.h"

struct st_bytesio {
    st__buf buf; /* the contents (buf.len is the stream's size), always allocated while open */
    size_t pos;  /* may lie beyond buf.len, up to PTRDIFF_MAX */
    int closed;
};

static int check_closed(const st_bytesio *f)
{
    if (f->closed)
        return ST_RAISE(ST_EVALUE, "I/O operation on closed file.");
    return 0;
}

/* Bytes from the position to the end; 0 when the position lies beyond the end. */
static size_t remaining(const st_bytesio *f)
{
    return f->pos < f->buf.len ? f->buf.len - f->pos : 0;
}

/* A NUL-terminated copy of n bytes (st_free). */
static unsigned char *copy_out(const char *p, size_t n, size_t *len)
{
    unsigned char *out = st__malloc(n + 1);
    if (!out)
        return (ST_TRACE(), NULL);
    if (n)
        memcpy(out, p, n);
    out[n] = '\0';
    if (len)
        *len = n;
    return out;
}

/* ---- life cycle ------------------------------------------------------------------------ */

st_bytesio *st_bytesio_new(const void *initial, size_t len)
{
    if (len > PTRDIFF_MAX)
        return (ST_RAISE(ST_EOVERFLOW, "new buffer size too large"), NULL);
    st_bytesio *f = st__calloc(1, sizeof *f);
    if (!f)
        return (ST_TRACE(), NULL);
    /* Allocated even when empty, so getbuffer() always lends a NUL-terminated pointer. */
    if (st__buf_reserve(&f->buf, len) < 0 || st__buf_append(&f->buf, initial, len) < 0) {
        st_bytesio_free(f);
        return (ST_TRACE(), NULL);
    }
    f->buf.data[len] = '\0';
    return f;
}

void st_bytesio_free(st_bytesio *f)
{
    st_bytesio_close(f);
    free(f);
}

int st_bytesio_close(st_bytesio *f)
{
    if (!f)
        return 0;
    st__buf_free(&f->buf);
    f->pos = 0;
    f->closed = 1;
    return 0;
}

int st_bytesio_closed(const st_bytesio *f)
{
    if (!f)
        return ST_RAISE(ST_ETYPE, "expected a stream, not NULL");
    return f->closed;
}

/* ---- bytes ----------------------------------------------------------------------------- */

ptrdiff_t st_bytesio_write(st_bytesio *f, const void *data, size_t len)
{
    if (check_closed(f) < 0)
        return ST_TRACE();
    if (len == 0)
        return 0;
    if (len > (size_t)PTRDIFF_MAX || f->pos > (size_t)PTRDIFF_MAX - len)
        return ST_RAISE(ST_EOVERFLOW, "new buffer size too large");
    size_t end = f->pos + len;
    if (end > f->buf.len) {
        if (st__buf_reserve(&f->buf, end - f->buf.len) < 0)
            return ST_TRACE();
        if (f->pos > f->buf.len) /* Python zero-fills the gap a seek past the end left */
            memset(f->buf.data + f->buf.len, 0, f->pos - f->buf.len);
        f->buf.len = end;
        f->buf.data[end] = '\0';
    }
    memcpy(f->buf.data + f->pos, data, len);
    f->pos = end;
    return (ptrdiff_t)len;
}

ptrdiff_t st_bytesio_readinto(st_bytesio *f, void *buf, size_t size)
{
    if (check_closed(f) < 0)
        return ST_TRACE();
    size_t n = remaining(f);
    if (n > size)
        n = size;
    if (n) {
        memcpy(buf, f->buf.data + f->pos, n);
        f->pos += n;
    }
    return (ptrdiff_t)n;
}

unsigned char *st_bytesio_read(st_bytesio *f, ptrdiff_t size, size_t *len)
{
    if (check_closed(f) < 0)
        return (ST_TRACE(), NULL);
    size_t n = remaining(f);
    if (size >= 0 && (size_t)size < n)
        n = (size_t)size;
    unsigned char *out = copy_out(f->buf.data + f->pos, n, len);
    if (!out)
        return (ST_TRACE(), NULL);
    f->pos += n;
    return out;
}

/* Length of the line at the position: through the first '\n' within limit bytes (limit < 0:
 * no limit), else everything up to the limit or the end. */
static size_t line_length(const st_bytesio *f, ptrdiff_t limit)
{
    size_t n = remaining(f);
    if (limit >= 0 && (size_t)limit < n)
        n = (size_t)limit;
    const char *nl = n ? memchr(f->buf.data + f->pos, '\n', n) : NULL;
    return nl ? (size_t)(nl - (f->buf.data + f->pos)) + 1 : n;
}

unsigned char *st_bytesio_readline(st_bytesio *f, ptrdiff_t size, size_t *len)
{
    if (check_closed(f) < 0)
        return (ST_TRACE(), NULL);
    size_t n = line_length(f, size);
    unsigned char *out = copy_out(f->buf.data + f->pos, n, len);
    if (!out)
        return (ST_TRACE(), NULL);
    f->pos += n;
    return out;
}

ptrdiff_t st_bytesio_seek(st_bytesio *f, ptrdiff_t pos, int whence)
{
    if (check_closed(f) < 0)
        return ST_TRACE();
    if (pos < 0 && whence == 0)
        return ST_RAISE(ST_EVALUE, "negative seek value %td", pos);
    if (whence == 1 || whence == 2) {
        ptrdiff_t base = whence == 1 ? (ptrdiff_t)f->pos : (ptrdiff_t)f->buf.len;
        if (pos > PTRDIFF_MAX - base)
            return ST_RAISE(ST_EOVERFLOW, "new position too large");
        pos += base;
    } else if (whence != 0) {
        return ST_RAISE(ST_EVALUE, "invalid whence (%d, should be 0, 1 or 2)", whence);
    }
    f->pos = pos < 0 ? 0 : (size_t)pos;
    return (ptrdiff_t)f->pos;
}

ptrdiff_t st_bytesio_tell(const st_bytesio *f)
{
    if (check_closed(f) < 0)
        return ST_TRACE();
    return (ptrdiff_t)f->pos;
}

ptrdiff_t st_bytesio_truncate(st_bytesio *f, ptrdiff_t size)
{
    if (check_closed(f) < 0)
        return ST_TRACE();
    if (size == ST_IO_NONE)
        size = (ptrdiff_t)f->pos;
    if (size < 0)
        return ST_RAISE(ST_EVALUE, "negative size value %td", size);
    if ((size_t)size < f->buf.len) {
        f->buf.len = (size_t)size;
        f->buf.data[size] = '\0';
    }
    return size;
}

unsigned char *st_bytesio_getvalue(const st_bytesio *f, size_t *len)
{
    if (check_closed(f) < 0)
        return (ST_TRACE(), NULL);
    unsigned char *out = copy_out(f->buf.data, f->buf.len, len);
    return out ? out : (ST_TRACE(), NULL);
}

const unsigned char *st_bytesio_getbuffer(const st_bytesio *f, size_t *len)
{
    if (check_closed(f) < 0)
        return (ST_TRACE(), NULL);
    if (len)
        *len = f->buf.len;
    return (const unsigned char *)f->buf.data;
}

/* ---- text ------------------------------------------------------------------------------ */

/* Raises the UnicodeDecodeError of the invalid sequence at s[bad] (s[0..bad) is valid UTF-8),
 * letting the value module, which owns str validation, word it exactly as Python does. */
static int utf8_error(const char *s, size_t bad, size_t len)
{
    size_t end = len - bad > 4 ? bad + 4 : len;
    st_value *v = st_value_str_n(s, end);
    if (v) { /* cannot happen: the decoder refused these bytes */
        st_value_unref(v);
        return ST_RAISE_AS(ST_EVALUE, "UnicodeDecodeError", "invalid UTF-8 at position %zu", bad);
    }
    return ST_TRACE();
}

ptrdiff_t st_bytesio_write_text(st_bytesio *f, const char *utf8)
{
    if (check_closed(f) < 0)
        return ST_TRACE();
    st_value *s = st_value_str(utf8); /* validates and counts the code points */
    if (!s)
        return ST_TRACE();
    ptrdiff_t nchars = st_value_len(s);
    st_value_unref(s);
    if (st_bytesio_write(f, utf8, strlen(utf8)) < 0)
        return ST_TRACE();
    return nchars;
}

ptrdiff_t st_bytesio_vprintf(st_bytesio *f, const char *fmt, va_list ap)
{
    if (check_closed(f) < 0)
        return ST_TRACE();
    st__buf b = ST__BUF_INIT;
    if (st__buf_vprintf(&b, fmt, ap) < 0)
        return ST_TRACE();
    ptrdiff_t n = st_bytesio_write(f, b.data, b.len);
    st__buf_free(&b);
    return n < 0 ? ST_TRACE() : n;
}

ptrdiff_t st_bytesio_printf(st_bytesio *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ptrdiff_t n = st_bytesio_vprintf(f, fmt, ap);
    va_end(ap);
    return n < 0 ? ST_TRACE() : n;
}

/* Reads up to nchars code points (negative: no limit), stopping after a '\n' when line is set. */
static char *read_text(st_bytesio *f, ptrdiff_t nchars, int line, size_t *len)
{
    if (check_closed(f) < 0)
        return (ST_TRACE(), NULL);
    const unsigned char *s = (const unsigned char *)f->buf.data + f->pos;
    size_t avail = remaining(f), n = 0;
    for (ptrdiff_t count = 0; n < avail && (nchars < 0 || count < nchars); count++) {
        uint32_t cp;
        size_t step = st__utf8_decode(s + n, avail - n, 0, &cp);
        if (!step)
            return (utf8_error((const char *)s, n, avail), NULL);
        n += step;
        if (line && cp == '\n')
            break;
    }
    char *out = (char *)copy_out((const char *)s, n, len);
    if (!out)
        return (ST_TRACE(), NULL);
    f->pos += n;
    return out;
}

char *st_bytesio_read_text(st_bytesio *f, ptrdiff_t nchars, size_t *len)
{
    char *out = read_text(f, nchars, 0, len);
    return out ? out : (ST_TRACE(), NULL);
}

char *st_bytesio_readline_text(st_bytesio *f, ptrdiff_t nchars, size_t *len)
{
    char *out = read_text(f, nchars, 1, len);
    return out ? out : (ST_TRACE(), NULL);
}

char *st_bytesio_getvalue_text(const st_bytesio *f, size_t *len)
{
    if (check_closed(f) < 0)
        return (ST_TRACE(), NULL);
    st_value *s = st_value_str_n(f->buf.data, f->buf.len);
    if (!s)
        return (ST_TRACE(), NULL);
    st_value_unref(s);
    char *out = (char *)copy_out(f->buf.data, f->buf.len, len);
    return out ? out : (ST_TRACE(), NULL);
}

/* ---- stdio view ------------------------------------------------------------------------ */

#if defined(__linux__)
#define ST_IO_VIEW_COOKIE 1 /* glibc and musl: fopencookie() */
#elif defined(__APPLE__) || defined(__FreeBSD__) || defined(__OpenBSD__) || defined(__NetBSD__) || \
    defined(__DragonFly__)
#define ST_IO_VIEW_FUNOPEN 1 /* BSD and macOS: funopen() */
#endif

#if defined(ST_IO_VIEW_COOKIE) || defined(ST_IO_VIEW_FUNOPEN)
/* The stdio callbacks report failure through errno; the library error stays set as well. */
static int view_errno(void) { return st_error_code() == ST_ENOMEM ? ENOMEM : EBADF; }

static ptrdiff_t view_read(void *cookie, char *buf, size_t n)
{
    ptrdiff_t got = st_bytesio_readinto(cookie, buf, n);
    if (got < 0)
        errno = view_errno();
    return got;
}

static ptrdiff_t view_write(void *cookie, const char *buf, size_t n)
{
    ptrdiff_t put = st_bytesio_write(cookie, buf, n);
    if (put < 0)
        errno = view_errno();
    return put;
}

static int view_seek(void *cookie, int64_t *offset, int whence)
{
    int w = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? 1 : whence == SEEK_END ? 2 : -1;
    if (*offset < PTRDIFF_MIN || *offset > PTRDIFF_MAX) {
        errno = EOVERFLOW;
        return -1;
    }
    ptrdiff_t pos = st_bytesio_seek(cookie, (ptrdiff_t)*offset, w);
    if (pos < 0) {
        errno = st_error_code() == ST_EVALUE && !((st_bytesio *)cookie)->closed ? EINVAL : view_errno();
        return -1;
    }
    *offset = pos;
    return 0;
}

#endif

#if defined(ST_IO_VIEW_COOKIE)
static ssize_t cookie_read(void *c, char *buf, size_t n) { return view_read(c, buf, n); }

static ssize_t cookie_write(void *c, const char *buf, size_t n)
{
    ptrdiff_t put = view_write(c, buf, n);
    return put < 0 ? 0 : put; /* fopencookie's write reports failure as 0 */
}

#if defined(__GLIBC__)
typedef off64_t cookie_off;
#else
typedef off_t cookie_off;
#endif

static int cookie_seek(void *c, cookie_off *offset, int whence)
{
    int64_t off = (int64_t)*offset;
    if (view_seek(c, &off, whence) < 0)
        return -1;
    *offset = (cookie_off)off;
    return 0;
}

static FILE *open_view(st_bytesio *f)
{
    cookie_io_functions_t io = {cookie_read, cookie_write, cookie_seek, NULL};
    return fopencookie(f, "r+", io);
}
#elif defined(ST_IO_VIEW_FUNOPEN)
static int fun_read(void *c, char *buf, int n) { return (int)view_read(c, buf, (size_t)n); }

static int fun_write(void *c, const char *buf, int n) { return (int)view_write(c, buf, (size_t)n); }

static fpos_t fun_seek(void *c, fpos_t offset, int whence)
{
    int64_t off = (int64_t)offset;
    return view_seek(c, &off, whence) < 0 ? (fpos_t)-1 : (fpos_t)off;
}

static FILE *open_view(st_bytesio *f) { return funopen(f, fun_read, fun_write, fun_seek, NULL); }
#endif

FILE *st_bytesio_file(st_bytesio *f)
{
    if (check_closed(f) < 0)
        return (ST_TRACE(), NULL);
#if !defined(ST_IO_VIEW_COOKIE) && !defined(ST_IO_VIEW_FUNOPEN)
    return (ST_RAISE(ST_ENOTSUP, "no fopencookie() or funopen() on this platform"), NULL);
#else
    FILE *fp = open_view(f);
    if (!fp)
        return (ST_RAISE_OS(errno, "cannot open a FILE view of the stream"), NULL);
    /* Unbuffered: the stream and the view never disagree. */
    setvbuf(fp, NULL, _IONBF, 0);
    return fp;
#endif
}
