/* io: file objects (io.open) over a descriptor or an st_bytesio: one buffer for reading, one for
 * writing, and a text layer that decodes straight from the read buffer, line by line. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal/codec.h"
#include "internal/error.h"
#include "internal/mem.h"
#include "internal/options.h"
#include "internal/posix.h"
#include "internal/utf8.h"
#include "systools/io.h"
#include "systools/sys.h"
#include "systools/value.h"

enum { RAW_FD, RAW_BYTESIO };
/* newline=None, "", "\n", "\r", "\r\n" */
enum { NL_UNIVERSAL, NL_ANY, NL_LF, NL_CR, NL_CRLF };

/* Python's io.DEFAULT_BUFFER_SIZE; reads use at least READ_CHUNK whatever the buffer size, which
 * only decides when writes reach the descriptor. */
#define DEFAULT_BUFFER_SIZE 8192
#define READ_CHUNK 65536
/* TextIOWrapper._CHUNK_SIZE: what CPython decodes at once when it reads text */
#define CHUNK_SIZE 8192

struct st_file {
    int kind;
    int fd;
    st_bytesio *bio;
    int readable, writable, closefd, closed, text, line_buffering, unbuffered;
    size_t bufsize;      /* writes are flushed once this many bytes wait */
    unsigned char *rbuf; /* read buffer: rbuf[rpos..rlen) is read but not yet handed out */
    size_t rcap, rpos, rlen;
    int64_t rbuf_off; /* the stream offset of rbuf[0] (error positions, tell) */
    st__buf wbuf;     /* bytes written but not yet flushed */
    st__buf line;     /* the line st_file_next() lends */
    st__encoding enc;
    st__errors errors;
    int newline;
    /* The rest of one backslashreplace escape a size limit cut: the byte at pend_pos gave it,
     * pend_skip of its characters were handed out. */
    char pend[4];
    size_t npend;
    int64_t pend_pos;
    int pend_skip;
    /* strict decoding checks the bytes CPython's TextIOWrapper would decode at once: chunks of
     * CHUNK_SIZE from the last seek, the incomplete end of one (chk_carry bytes) starting the
     * next; bytes before chk_end are known good */
    int64_t chk_end;
    size_t chk_carry;
    /* st_file_next() lends a line inside rbuf when its bytes are the result: the byte after it
     * is replaced by a NUL until the next call puts it back */
    size_t lent_at;
    unsigned char lent_byte;
    int lent;
    /* rbuf's first \r at or after rpos (rlen: none), found once for many lines; cr_valid is
     * cleared whenever rbuf's contents move */
    size_t cr_next;
    int cr_valid;
    char *unknown_errors; /* an error handler CPython does not know (decoding as strict) */
};

/* A codec failed: under an unknown error handler, CPython fails now, looking it up. */
static int codec_failed(const st_file *f, const char *python_type)
{
    const st_error *e = st_error_last();
    if (f->unknown_errors && e && !strcmp(e->type, python_type))
        return ST_RAISE_AS(ST_EKEY, "LookupError", "unknown error handler name '%s'",
                           f->unknown_errors);
    return ST_TRACE();
}

/* Puts back the byte a lent line's NUL replaced: first thing of every call that reads rbuf. */
static void unlend(st_file *f)
{
    if (f->lent) {
        f->rbuf[f->lent_at] = f->lent_byte;
        f->lent = 0;
    }
}

/* ---- raw I/O ----------------------------------------------------------------------------- */

static ptrdiff_t raw_read(st_file *f, void *buf, size_t n)
{
    if (f->kind == RAW_BYTESIO)
        return st_bytesio_readinto(f->bio, buf, n);
    ssize_t r = st__read_retry(f->fd, buf, n);
    if (r < 0)
        return ST_RAISE_OS(errno, "cannot read from descriptor %d", f->fd);
    return r;
}

static int raw_write(st_file *f, const void *buf, size_t n)
{
    if (f->kind == RAW_BYTESIO)
        return st_bytesio_write(f->bio, buf, n) < 0 ? ST_TRACE() : 0;
    if (st__write_full(f->fd, buf, n) < 0)
        return ST_RAISE_OS(errno, "cannot write to descriptor %d", f->fd);
    return 0;
}

static int64_t raw_seek(st_file *f, int64_t pos, int whence)
{
    if (f->kind == RAW_BYTESIO) {
        if (pos > PTRDIFF_MAX || pos < -PTRDIFF_MAX)
            return ST_RAISE(ST_EOVERFLOW, "new position too large");
        ptrdiff_t r = st_bytesio_seek(f->bio, (ptrdiff_t)pos, whence);
        return r < 0 ? ST_TRACE() : r;
    }
    off_t r = lseek(f->fd, (off_t)pos, whence);
    if (r < 0)
        return ST_RAISE_OS(errno, "cannot seek descriptor %d", f->fd);
    return r;
}

/* ---- checks ------------------------------------------------------------------------------ */

static int check_open(const st_file *f)
{
    if (!f)
        return ST_RAISE(ST_ETYPE, "expected a file, not NULL");
    if (f->closed)
        return ST_RAISE(ST_EVALUE, "I/O operation on closed file.");
    return 0;
}

static int unsupported(const char *what)
{
    return ST_RAISE_AS(ST_EVALUE, "io.UnsupportedOperation", "%s", what);
}

/* ---- buffers ----------------------------------------------------------------------------- */

static int flush_write(st_file *f)
{
    if (!f->wbuf.len)
        return 0;
    size_t n = f->wbuf.len;
    f->wbuf.len = 0; /* dropped even when the write fails, as a failed flush in Python loses them */
    return raw_write(f, f->wbuf.data, n) < 0 ? ST_TRACE() : 0;
}

/* Gives back the read-ahead: the descriptor's position returns to what the caller has seen. */
static int drop_read(st_file *f)
{
    size_t ahead = f->rlen - f->rpos;
    int64_t seen = f->npend ? f->pend_pos : f->rbuf_off + (int64_t)f->rpos;
    if (f->npend) { /* the escape is handed out again from its byte */
        if (raw_seek(f, f->pend_pos, SEEK_SET) < 0)
            return ST_TRACE();
    } else if (ahead && raw_seek(f, -(int64_t)ahead, SEEK_CUR) < 0) {
        return ST_TRACE();
    }
    f->rbuf_off = f->chk_end = seen;
    f->chk_carry = 0;
    f->rpos = f->rlen = 0;
    f->npend = 0;
    return 0;
}

/* Makes sure the bytes up to the stream offset upto decode under a strict handler, checking
 * CPython's chunks in turn, so that a bad byte fails where CPython's read fails. May read more
 * (moving the unread bytes within rbuf). */
static ptrdiff_t fill(st_file *f);
static int check_strict(st_file *f, int64_t upto)
{
    while (upto > f->chk_end) {
        int64_t start = f->chk_end - (int64_t)f->chk_carry, end = f->chk_end + CHUNK_SIZE;
        int eof = 0;
        while (f->rbuf_off + (int64_t)f->rlen < end && !eof) {
            ptrdiff_t n = fill(f);
            if (n < 0)
                return ST_TRACE();
            eof = n == 0;
        }
        if (end > f->rbuf_off + (int64_t)f->rlen)
            end = f->rbuf_off + (int64_t)f->rlen;
        /* as CPython: a chunk is decoded as not final; an empty one (the end) finishes the
         * incomplete bytes the last one left, counting positions from them */
        int final = end == f->chk_end;
        size_t from = (size_t)(start - f->rbuf_off), len = (size_t)(end - start), used;
        if (st__codec_decode(f->enc, ST__ERR_STRICT, f->rbuf + from, len, 0, final, 0, SIZE_MAX,
                             NULL, &used, NULL) < 0)
            return codec_failed(f, "UnicodeDecodeError");
        f->chk_carry = len - used;
        if (final)
            break;
        f->chk_end = end;
    }
    return 0;
}

/* Reads more into the read buffer, keeping what is unread: the number of new bytes, 0 at the
 * end, -1 on error. */
static ptrdiff_t fill(st_file *f)
{
    if (f->rpos) {
        memmove(f->rbuf, f->rbuf + f->rpos, f->rlen - f->rpos);
        f->rlen -= f->rpos;
        f->rbuf_off += (int64_t)f->rpos;
        f->rpos = 0;
    }
    if (f->rlen == f->rcap) { /* a line longer than the buffer: grow, once per doubling */
        size_t cap = f->rcap ? f->rcap * 2 : READ_CHUNK;
        void *p = cap > f->rcap ? st__realloc(f->rbuf, cap + 1) : NULL; /* + 1: a lent line's NUL */
        if (!p)
            return cap > f->rcap ? ST_TRACE() : ST_RAISE_NOMEM();
        f->rbuf = p;
        f->rcap = cap;
    }
    /* unbuffered (FileIO) reads a line a byte at a time, as RawIOBase.readline() does, so that
     * the descriptor is never ahead of what was handed out */
    ptrdiff_t n = raw_read(f, f->rbuf + f->rlen, f->unbuffered ? 1 : f->rcap - f->rlen);
    f->cr_valid = 0;
    if (n < 0)
        return ST_TRACE();
    f->rlen += (size_t)n;
    return n;
}

static int before_read(st_file *f)
{
    if (check_open(f) < 0)
        return ST_TRACE();
    unlend(f);
    if (!f->readable)
        return unsupported(f->text ? "not readable" : "read");
    return flush_write(f);
}

static int before_write(st_file *f)
{
    if (check_open(f) < 0)
        return ST_TRACE();
    unlend(f);
    if (!f->writable)
        return unsupported(f->text ? "not writable" : "write");
    return drop_read(f);
}

/* ---- opening ----------------------------------------------------------------------------- */

int st_io_open_options_init(st_io_open_options *opts, unsigned int version)
{
    return st__options_init(opts, ST_OPTIONS_SIZES(sizeof *opts), version,
                            ST_IO_OPEN_OPTIONS_VERSION, "st_io_open_options");
}

/* Python's io.open() checks, in its order; *flags gets open(2)'s. */
static int parse_mode(const char *mode, const st_io_open_options *o, int *flags, int *text,
                      int *readable, int *writable)
{
    if (!mode)
        mode = "r";
    int seen[128] = {0};
    size_t n = 0;
    for (const char *p = mode; *p; p++, n++) {
        unsigned char c = (unsigned char)*p;
        if (c >= 128 || !strchr("axrwb+t", c) || seen[c]++)
            return ST_RAISE(ST_EVALUE, "invalid mode: '%s'", mode);
    }
    if (seen['t'] && seen['b'])
        return ST_RAISE(ST_EVALUE, "can't have text and binary mode at once");
    int kinds = seen['x'] + seen['r'] + seen['w'] + seen['a'];
    if (kinds > 1)
        return ST_RAISE(ST_EVALUE, "must have exactly one of create/read/write/append mode");
    if (!kinds)
        return ST_RAISE(ST_EVALUE, "Must have exactly one of create/read/write/append mode and "
                                   "at most one plus");
    if (seen['b'] && o->encoding)
        return ST_RAISE(ST_EVALUE, "binary mode doesn't take an encoding argument");
    if (seen['b'] && o->errors)
        return ST_RAISE(ST_EVALUE, "binary mode doesn't take an errors argument");
    if (seen['b'] && o->newline)
        return ST_RAISE(ST_EVALUE, "binary mode doesn't take a newline argument");
    if (!seen['b'] && o->buffering == ST_IO_UNBUFFERED)
        return ST_RAISE(ST_EVALUE, "can't have unbuffered text I/O");
    *text = !seen['b'];
    *readable = seen['r'] || seen['+'];
    *writable = !seen['r'] || seen['+'];
    int acc = seen['+'] ? O_RDWR : seen['r'] ? O_RDONLY : O_WRONLY;
    *flags = acc | (seen['w'] ? O_CREAT | O_TRUNC : 0) | (seen['a'] ? O_CREAT | O_APPEND : 0) |
             (seen['x'] ? O_CREAT | O_EXCL : 0);
    return 0;
}

static int parse_newline(const char *nl, int *out)
{
    if (!nl)
        *out = NL_UNIVERSAL;
    else if (!*nl)
        *out = NL_ANY;
    else if (!strcmp(nl, "\n"))
        *out = NL_LF;
    else if (!strcmp(nl, "\r"))
        *out = NL_CR;
    else if (!strcmp(nl, "\r\n"))
        *out = NL_CRLF;
    else
        return ST_RAISE(ST_EVALUE, "illegal newline value: %s", nl);
    return 0;
}

/* The common part of the three constructors, once the raw stream is known. */
static st_file *file_new(int kind, int fd, st_bytesio *bio, const char *mode,
                         const st_io_open_options *o, int *flags)
{
    static const st_io_open_options defaults = ST_IO_OPEN_OPTIONS_INIT;
    if (ST_OPTIONS_CHECK(o, ST_IO_OPEN_OPTIONS_VERSION, "st_io_open_options") < 0)
        return (ST_TRACE(), NULL);
    if (!o)
        o = &defaults;
    int text, readable, writable, nl = NL_UNIVERSAL;
    st__encoding enc = ST__ENC_UTF8;
    st__errors errors = ST__ERR_STRICT;
    if (parse_mode(mode, o, flags, &text, &readable, &writable) < 0)
        return (ST_TRACE(), NULL);
    if (text && (st__codec_lookup(o->encoding, &enc) < 0 || parse_newline(o->newline, &nl) < 0))
        return (ST_TRACE(), NULL);
    int unknown = text && st__codec_errors(o->errors, &errors) < 0; /* decodes as strict */
    if (o->buffering < ST_IO_UNBUFFERED)
        return (ST_RAISE(ST_EVALUE, "invalid buffering size"), NULL);
    st_file *f = st__calloc(1, sizeof *f);
    if (!f)
        return (ST_TRACE(), NULL);
    f->kind = kind;
    f->fd = fd;
    f->bio = bio;
    f->text = text;
    f->readable = readable;
    f->writable = writable;
    f->closefd = !o->keep_fd;
    f->enc = enc;
    f->errors = errors;
    f->newline = nl;
    if (unknown && !(f->unknown_errors = st__strdup(o->errors))) {
        free(f);
        return (ST_TRACE(), NULL);
    }
    f->unbuffered = o->buffering == ST_IO_UNBUFFERED;
    f->line_buffering = text && o->buffering == 1;
    f->bufsize = o->buffering > 1 ? (size_t)o->buffering : DEFAULT_BUFFER_SIZE;
    return f;
}

/* Frees a file that never held a stream. */
static void file_discard(st_file *f)
{
    free(f->unknown_errors);
    free(f);
}

/* The descriptor's facts: a directory is refused (Python's FileIO does the same after opening),
 * st_blksize gives the default buffer size, a terminal line-buffers text. */
static int setup_fd(st_file *f, const st_io_open_options *o, int append)
{
    struct stat st;
    if (fstat(f->fd, &st) < 0)
        return ST_RAISE_OS(errno, "cannot stat descriptor %d", f->fd);
    if (S_ISDIR(st.st_mode))
        return ST_RAISE_OS(EISDIR, "cannot open descriptor %d", f->fd);
    if ((!o || o->buffering == 0) && st.st_blksize > 1)
        f->bufsize = (size_t)st.st_blksize;
    if (f->text && (!o || o->buffering == 0) && isatty(f->fd))
        f->line_buffering = 1;
    if (append) { /* Python's FileIO seeks to the end in 'a' mode, so tell() starts there */
        off_t end = lseek(f->fd, 0, SEEK_END);
        if (end >= 0)
            f->rbuf_off = f->chk_end = end;
    } else {
        off_t cur = lseek(f->fd, 0, SEEK_CUR);
        f->rbuf_off = f->chk_end = cur >= 0 ? cur : 0;
    }
    return 0;
}

st_file *st_io_open(const char *path, const char *mode, const st_io_open_options *opts)
{
    if (!path)
        return (ST_RAISE(ST_ETYPE, "expected str, bytes or os.PathLike object, not NULL"), NULL);
    if (opts && opts->version && opts->keep_fd)
        return (ST_RAISE(ST_EVALUE, "Cannot use closefd=False with file name"), NULL);
    int flags;
    st_file *f = file_new(RAW_FD, -1, NULL, mode, opts, &flags);
    if (!f)
        return (ST_TRACE(), NULL);
    f->fd = st__open_cloexec(AT_FDCWD, path, flags, 0666);
    if (f->fd < 0) {
        ST_RAISE_OS(errno, "cannot open '%s'", path);
        file_discard(f);
        return NULL;
    }
    if (setup_fd(f, opts, flags & O_APPEND) < 0) {
        st_file_free(f);
        return (ST_TRACE(), NULL);
    }
    return f;
}

st_file *st_io_open_fd(int fd, const char *mode, const st_io_open_options *opts)
{
    if (fd < 0)
        return (ST_RAISE(ST_EVALUE, "negative file descriptor"), NULL);
    int flags;
    st_file *f = file_new(RAW_FD, fd, NULL, mode, opts, &flags);
    if (!f)
        return (ST_TRACE(), NULL);
    if (setup_fd(f, opts, flags & O_APPEND) < 0) {
        f->closefd = 0; /* the caller's descriptor stays the caller's on failure */
        st_file_free(f);
        return (ST_TRACE(), NULL);
    }
    return f;
}

st_file *st_io_open_bytesio(st_bytesio *b, const char *mode, const st_io_open_options *opts)
{
    if (!b)
        return (ST_RAISE(ST_ETYPE, "expected a stream, not NULL"), NULL);
    if (mode && strchr(mode, 'x'))
        return (ST_RAISE(ST_EVALUE, "invalid mode: '%s'", mode), NULL);
    int flags;
    st_file *f = file_new(RAW_BYTESIO, -1, b, mode, opts, &flags);
    if (!f)
        return (ST_TRACE(), NULL);
    ptrdiff_t pos = (flags & O_TRUNC) ? st_bytesio_truncate(b, 0) : 0;
    /* 'w' starts at 0 (truncate() alone keeps the position), 'a' at the end */
    if (pos >= 0)
        pos = st_bytesio_seek(b, 0,
                              (flags & O_APPEND)  ? SEEK_END
                              : (flags & O_TRUNC) ? SEEK_SET
                                                  : SEEK_CUR);
    if (pos < 0) {
        file_discard(f);
        return (ST_TRACE(), NULL);
    }
    f->rbuf_off = f->chk_end = pos;
    return f;
}

/* ---- life cycle -------------------------------------------------------------------------- */

int st_file_close(st_file *f)
{
    if (!f || f->closed)
        return 0;
    int rc = f->writable ? flush_write(f) : 0; /* close flushes; the descriptor goes anyway */
    f->closed = 1;
    if (f->closefd) {
        if (f->kind == RAW_FD && close(f->fd) < 0 && rc == 0)
            rc = ST_RAISE_OS(errno, "cannot close descriptor %d", f->fd);
        if (f->kind == RAW_BYTESIO)
            st_bytesio_close(f->bio);
    }
    free(f->rbuf);
    f->rbuf = NULL;
    f->rcap = f->rpos = f->rlen = 0;
    st__buf_free(&f->wbuf);
    st__buf_free(&f->line);
    return rc < 0 ? ST_TRACE() : 0;
}

void st_file_free(st_file *f)
{
    st_file_close(f);
    if (f)
        free(f->unknown_errors);
    free(f);
}

int st_file_closed(const st_file *f)
{
    if (!f)
        return ST_RAISE(ST_ETYPE, "expected a file, not NULL");
    return f->closed;
}

/* ---- reading ----------------------------------------------------------------------------- */

/* Hands out what a cut backslashreplace escape left (at most limit characters). */
static size_t take_pending(st_file *f, size_t limit, st__buf *out)
{
    size_t n = f->npend < limit ? f->npend : limit;
    if (!n || st__buf_append(out, f->pend, n) < 0)
        return 0;
    memmove(f->pend, f->pend + n, f->npend - n);
    f->npend -= n;
    f->pend_skip += (int)n;
    return n;
}

/* Decodes rbuf[rpos..rpos+len) into out, at most limit - *chars more characters, and moves
 * rpos past what it used. A cut escape goes to pend. */
static int decode_span(st_file *f, size_t len, int final, size_t limit, size_t *chars, st__buf *out)
{
    size_t used, got;
    int64_t base = f->rbuf_off + (int64_t)f->rpos;
    if (st__codec_decode(f->enc, f->errors, f->rbuf + f->rpos, len, f->rlen - f->rpos - len, final,
                         (size_t)base, limit - *chars, out, &used, &got) < 0)
        return codec_failed(f, "UnicodeDecodeError");
    f->rpos += used;
    *chars += got;
    if (*chars > limit) { /* only a backslashreplace escape passes the limit */
        size_t extra = *chars - limit;
        out->len -= extra;
        memcpy(f->pend, out->data + out->len, extra);
        out->data[out->len] = '\0';
        f->npend = extra;
        f->pend_pos = f->rbuf_off + (int64_t)f->rpos - 1;
        f->pend_skip = (int)(4 - extra);
        *chars = limit;
    }
    return 0;
}

/* Where the line ends in p[0..n): *seg bytes before the terminator, *term its length (0 when
 * none is in sight). *more: a '\r' ends the data and the next byte decides (\r\n or \r). */
static void find_end(int nl, const unsigned char *p, size_t n, int eof, size_t *seg, size_t *term,
                     int *more)
{
    *more = 0;
    *term = 0;
    const unsigned char *lf, *cr;
    switch (nl) {
    case NL_LF:
        lf = memchr(p, '\n', n);
        *seg = lf ? (size_t)(lf - p) : n;
        *term = lf != NULL;
        return;
    case NL_CR:
        cr = memchr(p, '\r', n);
        *seg = cr ? (size_t)(cr - p) : n;
        *term = cr != NULL;
        return;
    case NL_CRLF:
        for (size_t at = 0;;) {
            cr = memchr(p + at, '\r', n - at);
            if (!cr) {
                *seg = n;
                return;
            }
            size_t i = (size_t)(cr - p);
            if (i + 1 < n && p[i + 1] == '\n') {
                *seg = i;
                *term = 2;
                return;
            }
            if (i + 1 == n && !eof) {
                *seg = i;
                *more = 1;
                return;
            }
            at = i + 1;
        }
    default: /* universal: \n, \r\n or \r */
        lf = memchr(p, '\n', n);
        cr = memchr(p, '\r', lf ? (size_t)(lf - p) : n);
        if (!cr) {
            *seg = lf ? (size_t)(lf - p) : n;
            *term = lf != NULL;
            return;
        }
        *seg = (size_t)(cr - p);
        if (*seg + 1 < n)
            *term = p[*seg + 1] == '\n' ? 2 : 1;
        else if (eof)
            *term = 1;
        else
            *more = 1;
        return;
    }
}

/* Appends one line of text (at most limit characters) to out and adds their number to
 * *chars_out. *progress: whether anything was read (0 only at the end). */
static int text_line(st_file *f, size_t limit, st__buf *out, size_t *chars_out, int *progress)
{
    size_t chars = take_pending(f, limit, out);
    int eof = 0, need = 0;
    *progress = chars > 0;
    /* CPython's readline() decodes a chunk before it looks at the limit, even readline(0) */
    while (!limit && !f->npend && f->errors == ST__ERR_STRICT && f->enc != ST__ENC_LATIN1 &&
           f->rbuf_off + (int64_t)f->rpos >= f->chk_end - (int64_t)f->chk_carry) {
        int64_t before = f->chk_end;
        if (check_strict(f, f->chk_end + 1) < 0)
            return ST_TRACE();
        if (f->chk_end == before)
            break; /* the end */
    }
    while (chars < limit) {
        if (need || f->rpos == f->rlen) {
            if (!eof) {
                ptrdiff_t n = fill(f);
                if (n < 0)
                    return ST_TRACE();
                eof = n == 0;
            }
            need = 0;
            if (f->rpos == f->rlen)
                break;
        }
        size_t seg, term, start = f->rpos;
        int more;
        find_end(f->newline, f->rbuf + start, f->rlen - start, eof, &seg, &term, &more);
        if (f->errors == ST__ERR_STRICT && f->enc != ST__ENC_LATIN1) {
            /* what CPython has decoded to see this far: the terminator, and after a \r the
             * byte that tells \r\n from \r */
            size_t seen = seg + term +
                          (more || (f->newline <= NL_ANY && term == 1 &&
                                    f->rbuf[start + seg] == '\r' && !eof));
            int64_t upto =
                f->rbuf_off + (int64_t)(start + (seen < f->rlen - start ? seen : f->rlen - start));
            if (upto > f->chk_end || (eof && f->chk_carry && upto == f->chk_end)) {
                if (check_strict(f, upto > f->chk_end ? upto : upto + 1) < 0)
                    return ST_TRACE();
                continue; /* the buffer may have moved */
            }
        }
        int universal = f->newline == NL_UNIVERSAL;
        if (!universal) { /* untranslated: the terminator is decoded with the line */
            seg += term;
        }
        /* An ASCII byte (a newline) follows seg when there is one, so decoding up to it is
         * final; without one, an incomplete sequence at the end waits for more bytes. */
        if (decode_span(f, seg, term || more || eof, limit, &chars, out) < 0)
            return ST_TRACE();
        if (f->rpos != start)
            *progress = 1;
        if (f->rpos < start + seg) {
            if (chars >= limit || f->npend)
                break;
            need = 1; /* an incomplete sequence ends the buffer */
            continue;
        }
        if (term) {
            if (universal) { /* \r\n and \r become \n */
                if (chars >= limit)
                    break;
                if (st__buf_putc(out, '\n') < 0)
                    return ST_TRACE();
                f->rpos += term;
                chars++;
                *progress = 1;
            }
            break;
        }
        if (more)
            need = 1; /* a \r ends the buffer: the next byte says whether \n follows */
        else if (eof)
            break;
    }
    *chars_out += chars;
    return 0;
}

/* One binary line (up to limit bytes) appended to out. */
static int binary_line(st_file *f, size_t limit, st__buf *out, int *progress)
{
    *progress = 0;
    size_t got = 0;
    while (got < limit) {
        if (f->rpos == f->rlen) {
            ptrdiff_t n = fill(f);
            if (n < 0)
                return ST_TRACE();
            if (n == 0)
                break;
        }
        size_t avail = f->rlen - f->rpos;
        if (avail > limit - got)
            avail = limit - got;
        const unsigned char *p = f->rbuf + f->rpos;
        const unsigned char *lf = memchr(p, '\n', avail);
        size_t take = lf ? (size_t)(lf - p) + 1 : avail;
        if (st__buf_append(out, p, take) < 0)
            return ST_TRACE();
        f->rpos += take;
        got += take;
        *progress = 1;
        if (lf)
            break;
    }
    return 0;
}

static int read_line(st_file *f, ptrdiff_t size, st__buf *out)
{
    size_t limit = size < 0 ? SIZE_MAX : (size_t)size, chars = 0;
    int progress;
    if (f->text)
        return text_line(f, limit, out, &chars, &progress);
    return binary_line(f, limit, out, &progress);
}

char *st_file_readline(st_file *f, ptrdiff_t size, size_t *len)
{
    if (before_read(f) < 0)
        return (ST_TRACE(), NULL);
    st__buf out = ST__BUF_INIT;
    if (read_line(f, size, &out) < 0) {
        st__buf_free(&out);
        return (ST_TRACE(), NULL);
    }
    if (len)
        *len = out.len;
    return st__buf_detach(&out);
}

/* The next line when it lies whole in the read buffer and its bytes are already the result
 * (binary; text that needs no decoding or newline translation): lent in place, or NULL. */
static const char *lend_line(st_file *f, size_t *len)
{
    size_t avail = f->rlen - f->rpos;
    if (f->npend || !avail || f->newline == NL_CR || f->newline == NL_CRLF)
        return NULL;
    const unsigned char *p = f->rbuf + f->rpos;
    const unsigned char *lf = memchr(p, '\n', avail);
    if (!lf)
        return NULL;
    size_t n = (size_t)(lf - p) + 1;
    if (f->text) {
        if (f->newline == NL_UNIVERSAL || f->newline == NL_ANY) {
            if (!f->cr_valid || f->cr_next < f->rpos) {
                const unsigned char *cr = memchr(p, '\r', avail);
                f->cr_next = cr ? (size_t)(cr - f->rbuf) : f->rlen;
                f->cr_valid = 1;
            }
            if (f->cr_next < f->rpos + n)
                return NULL;
        }
        if (f->errors == ST__ERR_STRICT && f->enc != ST__ENC_LATIN1) {
            if (f->rbuf_off + (int64_t)(f->rpos + n) > f->chk_end)
                return NULL; /* not checked yet: the slow path checks CPython's chunk */
        } else if (!st__codec_identity(f->enc, p, n)) {
            return NULL;
        }
    }
    f->lent_at = f->rpos + n;
    f->lent_byte = f->rbuf[f->lent_at];
    f->rbuf[f->lent_at] = '\0';
    f->lent = 1;
    f->rpos += n;
    *len = n;
    return (const char *)p;
}

int st_file_next(st_file *f, const char **line, size_t *len)
{
    if (!line)
        return ST_RAISE(ST_ETYPE, "expected a place for the line, not NULL");
    if (before_read(f) < 0)
        return ST_TRACE();
    size_t n;
    const char *lent = f->unbuffered ? NULL : lend_line(f, &n);
    if (lent) {
        *line = lent;
        if (len)
            *len = n;
        return 1;
    }
    f->line.len = 0;
    if (read_line(f, -1, &f->line) < 0)
        return ST_TRACE();
    if (!f->line.len)
        return 0;
    *line = f->line.data;
    if (len)
        *len = f->line.len;
    return 1;
}

st_value *st_file_readlines(st_file *f, ptrdiff_t hint)
{
    if (before_read(f) < 0)
        return (ST_TRACE(), NULL);
    st_value *list = st_value_list();
    if (!list)
        return (ST_TRACE(), NULL);
    size_t total = 0;
    for (;;) {
        const char *line;
        size_t n;
        int rc = st_file_next(f, &line, &n);
        if (rc < 0)
            goto fail;
        if (rc == 0)
            break;
        st_value *v = f->text ? st_value_str_surrogatepass(line, n) : st_value_bytes(line, n);
        if (!v || st_value_list_append_steal(list, v) < 0)
            goto fail;
        /* Python counts the hint in characters (text) or bytes, and stops once it is reached */
        total += f->text ? (size_t)st_value_len(v) : n;
        if (hint > 0 && total >= (size_t)hint)
            break;
    }
    return list;
fail:
    st_value_unref(list);
    return (ST_TRACE(), NULL);
}

char *st_file_read(st_file *f, ptrdiff_t size, size_t *len)
{
    if (before_read(f) < 0)
        return (ST_TRACE(), NULL);
    st__buf out = ST__BUF_INIT;
    if (st__buf_reserve(&out, 0) < 0)
        return (ST_TRACE(), NULL);
    size_t limit = size < 0 ? SIZE_MAX : (size_t)size;
    if (f->text && size < 0 && f->errors == ST__ERR_STRICT && f->enc != ST__ENC_LATIN1) {
        /* CPython's read() decodes all the rest at once: one check, positions counted from
         * the bytes its decoder held back */
        ptrdiff_t n;
        while ((n = fill(f)) > 0)
            ;
        int64_t start = f->chk_end - (int64_t)f->chk_carry, end = f->rbuf_off + (int64_t)f->rlen;
        size_t used;
        if (n < 0 ||
            (start < end &&
             st__codec_decode(f->enc, ST__ERR_STRICT, f->rbuf + (start - f->rbuf_off),
                              (size_t)(end - start), 0, 1, 0, SIZE_MAX, NULL, &used, NULL) < 0)) {
            if (n >= 0)
                codec_failed(f, "UnicodeDecodeError");
            goto fail;
        }
        if (end > f->chk_end) {
            f->chk_end = end;
            f->chk_carry = 0;
        }
    }
    if (f->text) {
        size_t chars = 0;
        int progress = 1;
        while (chars < limit && progress)
            if (text_line(f, limit - chars, &out, &chars, &progress) < 0)
                goto fail;
    } else if (f->unbuffered && size >= 0) { /* FileIO.read(n): one system call */
        if (st__buf_reserve(&out, limit) < 0)
            goto fail;
        ptrdiff_t n = raw_read(f, out.data, limit);
        if (n < 0)
            goto fail;
        out.len = (size_t)n;
        out.data[n] = '\0';
    } else {
        size_t got = 0;
        while (got < limit) {
            size_t avail = f->rlen - f->rpos;
            if (avail) {
                size_t take = avail < limit - got ? avail : limit - got;
                if (st__buf_append(&out, f->rbuf + f->rpos, take) < 0)
                    goto fail;
                f->rpos += take;
                got += take;
                continue;
            }
            f->rbuf_off += (int64_t)f->rlen;
            f->rpos = f->rlen = 0;
            if (st__buf_reserve(&out, READ_CHUNK) < 0)
                goto fail;
            /* straight into the result, past the read buffer */
            size_t want = limit - got < out.cap - out.len - 1 ? limit - got : out.cap - out.len - 1;
            ptrdiff_t n = raw_read(f, out.data + out.len, want);
            if (n < 0)
                goto fail;
            if (n == 0)
                break;
            f->rbuf_off += n;
            out.len += (size_t)n;
            out.data[out.len] = '\0';
            got += (size_t)n;
        }
    }
    if (len)
        *len = out.len;
    return st__buf_detach(&out);
fail:
    st__buf_free(&out);
    return (ST_TRACE(), NULL);
}

/* ---- writing ----------------------------------------------------------------------------- */

static ptrdiff_t write_bytes(st_file *f, const void *data, size_t len)
{
    if (f->unbuffered)
        return raw_write(f, data, len) < 0 ? ST_TRACE() : (ptrdiff_t)len;
    if (st__buf_append(&f->wbuf, data, len) < 0)
        return ST_TRACE();
    if (f->wbuf.len >= f->bufsize && flush_write(f) < 0)
        return ST_TRACE();
    return (ptrdiff_t)len;
}

static ptrdiff_t write_text(st_file *f, const char *text, size_t len)
{
    st__buf tr = ST__BUF_INIT;
    const char *src = text;
    size_t srclen = len;
    if ((f->newline == NL_CR || f->newline == NL_CRLF) && memchr(text, '\n', len)) {
        const char *nl = f->newline == NL_CR ? "\r" : "\r\n";
        for (size_t i = 0; i < len; i++)
            if (text[i] == '\n' ? st__buf_puts(&tr, nl) < 0 : st__buf_putc(&tr, text[i]) < 0) {
                st__buf_free(&tr);
                return ST_TRACE();
            }
        src = tr.data;
        srclen = tr.len;
    }
    size_t before = f->wbuf.len;
    int rc = st__codec_encode(f->enc, f->errors, src, srclen, &f->wbuf);
    st__buf_free(&tr);
    if (rc < 0) {
        f->wbuf.len = before; /* nothing of a failed write is kept */
        return codec_failed(f, "UnicodeEncodeError");
    }
    ptrdiff_t chars = 0;
    for (size_t i = 0; i < len; i++)
        chars += ((unsigned char)text[i] & 0xc0) != 0x80;
    int lines = f->line_buffering && (memchr(text, '\n', len) || memchr(text, '\r', len));
    if ((lines || f->wbuf.len >= f->bufsize) && flush_write(f) < 0)
        return ST_TRACE();
    return chars;
}

ptrdiff_t st_file_write(st_file *f, const void *data, size_t len)
{
    if (before_write(f) < 0)
        return ST_TRACE();
    if (!data && len)
        return ST_RAISE(ST_ETYPE, "expected data, not NULL");
    if (len > PTRDIFF_MAX)
        return ST_RAISE(ST_EOVERFLOW, "write too large");
    if (!len)
        return 0;
    return f->text ? write_text(f, data, len) : write_bytes(f, data, len);
}

ptrdiff_t st_file_vprintf(st_file *f, const char *fmt, va_list ap)
{
    st__buf b = ST__BUF_INIT;
    if (st__buf_vprintf(&b, fmt, ap) < 0)
        return ST_TRACE();
    ptrdiff_t n = st_file_write(f, b.data ? b.data : "", b.len);
    st__buf_free(&b);
    return n < 0 ? ST_TRACE() : n;
}

ptrdiff_t st_file_printf(st_file *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ptrdiff_t n = st_file_vprintf(f, fmt, ap);
    va_end(ap);
    return n;
}

int st_file_print(st_file *f, const char *const *args, const char *sep, const char *end)
{
    if (!sep)
        sep = " ";
    if (!end)
        end = "\n";
    /* Python's print() writes each argument, separator and end on its own */
    for (size_t i = 0; args && args[i]; i++)
        if ((i && st_file_write(f, sep, strlen(sep)) < 0) ||
            st_file_write(f, args[i], strlen(args[i])) < 0)
            return ST_TRACE();
    return st_file_write(f, end, strlen(end)) < 0 ? ST_TRACE() : 0;
}

int st_file_flush(st_file *f)
{
    if (check_open(f) < 0)
        return ST_TRACE();
    return flush_write(f);
}

/* ---- positions --------------------------------------------------------------------------- */

int64_t st_file_tell(st_file *f)
{
    if (check_open(f) < 0 || flush_write(f) < 0)
        return ST_TRACE();
    if (f->npend) /* the escaped byte's offset, with how much of its escape went out */
        return f->pend_pos | ((int64_t)f->pend_skip << 56);
    int64_t pos = raw_seek(f, 0, SEEK_CUR);
    if (pos < 0)
        return ST_TRACE();
    return pos - (int64_t)(f->rlen - f->rpos);
}

int64_t st_file_seek(st_file *f, int64_t offset, int whence)
{
    if (check_open(f) < 0)
        return ST_TRACE();
    unlend(f);
    if (f->text && (whence < 0 || whence > 2))
        return ST_RAISE(ST_EVALUE, "invalid whence (%d, should be 0, 1 or 2)", whence);
#if defined(SEEK_DATA) && defined(SEEK_HOLE)
    int extra = f->kind == RAW_FD && (whence == SEEK_DATA || whence == SEEK_HOLE);
#else
    int extra = 0;
#endif
    if (!f->text && (whence < 0 || whence > 2) && !extra) /* Buffered*.seek() also takes those */
        return ST_RAISE(ST_EVALUE, "whence value %d unsupported", whence);
    if (f->text) {
        if (whence == SEEK_CUR && offset != 0)
            return unsupported("can't do nonzero cur-relative seeks");
        if (whence == SEEK_END && offset != 0)
            return unsupported("can't do nonzero end-relative seeks");
        if (whence == SEEK_SET && offset < 0)
            return ST_RAISE(ST_EVALUE, "negative seek position %lld", (long long)offset);
        if (whence == SEEK_CUR) { /* Python: seek(0, 1) is tell() */
            int64_t cookie = st_file_tell(f);
            if (cookie < 0)
                return ST_TRACE();
            offset = cookie;
            whence = SEEK_SET;
        }
    }
    if (flush_write(f) < 0)
        return ST_TRACE();
    int skip = 0;
    if (f->text && whence == SEEK_SET) { /* a cookie: the byte offset, and characters to skip */
        skip = (int)(offset >> 56);
        offset &= (INT64_C(1) << 56) - 1;
    }
    if (whence == SEEK_CUR)
        offset -= (int64_t)(f->rlen - f->rpos);
    f->rpos = f->rlen = 0;
    f->npend = 0;
    int64_t pos = raw_seek(f, offset, whence);
    if (pos < 0)
        return ST_TRACE();
    f->rbuf_off = f->chk_end = pos;
    f->chk_carry = 0;
    if (skip) { /* back inside a cut escape: decode its byte and hand out the rest later */
        st__buf tmp = ST__BUF_INIT;
        size_t chars = 0;
        int progress;
        int rc = text_line(f, (size_t)skip, &tmp, &chars, &progress);
        st__buf_free(&tmp);
        if (rc < 0)
            return ST_TRACE();
        return pos | ((int64_t)skip << 56);
    }
    return pos;
}

int64_t st_file_truncate(st_file *f, int64_t size)
{
    if (check_open(f) < 0)
        return ST_TRACE();
    if (!f->writable)
        return unsupported(f->text ? "not writable" : "truncate");
    unlend(f);
    if (size == (int64_t)ST_IO_NONE) {
        size = st_file_tell(f);
        if (size < 0)
            return ST_TRACE();
        size &= (INT64_C(1) << 56) - 1;
    }
    if (flush_write(f) < 0 || drop_read(f) < 0)
        return ST_TRACE();
    if (f->kind == RAW_BYTESIO) {
        if (size > PTRDIFF_MAX)
            return ST_RAISE(ST_EOVERFLOW, "size too large");
        return st_bytesio_truncate(f->bio, (ptrdiff_t)size) < 0 ? ST_TRACE() : size;
    }
    if (ftruncate(f->fd, (off_t)size) < 0)
        return ST_RAISE_OS(errno, "cannot truncate descriptor %d", f->fd);
    return size;
}

/* ---- facts ------------------------------------------------------------------------------- */

/* FileIO's own message, without the full stop of the buffered layer's */
static int check_open_raw(const st_file *f)
{
    if (f && f->closed)
        return ST_RAISE(ST_EVALUE, "I/O operation on closed file");
    return check_open(f);
}

int st_file_fileno(const st_file *f)
{
    if (check_open_raw(f) < 0)
        return ST_TRACE();
    if (f->kind == RAW_BYTESIO)
        return unsupported("fileno");
    return f->fd;
}

int st_file_isatty(const st_file *f)
{
    if (check_open_raw(f) < 0)
        return ST_TRACE();
    return f->kind == RAW_FD && isatty(f->fd);
}

int st_file_readable(const st_file *f) { return check_open(f) < 0 ? ST_TRACE() : f->readable; }

int st_file_writable(const st_file *f) { return check_open(f) < 0 ? ST_TRACE() : f->writable; }

int st_file_seekable(const st_file *f)
{
    if (check_open(f) < 0)
        return ST_TRACE();
    return f->kind == RAW_BYTESIO || lseek(f->fd, 0, SEEK_CUR) >= 0;
}

const char *st_file_encoding(const st_file *f)
{
    if (!f)
        return (ST_RAISE(ST_ETYPE, "expected a file, not NULL"), NULL);
    if (!f->text)
        return (ST_RAISE_AS(ST_EVALUE, "AttributeError", "binary file has no attribute 'encoding'"),
                NULL);
    return st__codec_name(f->enc);
}

const char *st_file_errors(const st_file *f)
{
    static const char *const names[] = {"strict", "replace", "ignore", "surrogateescape",
                                        "backslashreplace"};
    if (!f)
        return (ST_RAISE(ST_ETYPE, "expected a file, not NULL"), NULL);
    if (!f->text)
        return (ST_RAISE_AS(ST_EVALUE, "AttributeError", "binary file has no attribute 'errors'"),
                NULL);
    return f->unknown_errors ? f->unknown_errors : names[f->errors];
}

int st_file_line_buffering(const st_file *f)
{
    return check_open(f) < 0 ? ST_TRACE() : f->line_buffering;
}

/* ---- input() ----------------------------------------------------------------------------- */

char *st_io_input(const char *prompt, size_t *len)
{
    st_file *in = st_sys_stdin(), *out = st_sys_stdout();
    if (!in)
        return (ST_RAISE_AS(ST_ESTATE, "RuntimeError", "input(): lost sys.stdin"), NULL);
    /* Python flushes stdout before it writes the prompt, and writes the prompt unbuffered */
    if (out &&
        (st_file_flush(out) < 0 ||
         (prompt && (st_file_write(out, prompt, strlen(prompt)) < 0 || st_file_flush(out) < 0))))
        return (ST_TRACE(), NULL);
    size_t n;
    char *line = st_file_readline(in, -1, &n);
    if (!line)
        return (ST_TRACE(), NULL);
    if (!n) {
        st_free(line);
        return (ST_RAISE(ST_EEOF, "EOF when reading a line"), NULL);
    }
    if (line[n - 1] == '\n')
        line[--n] = '\0';
    if (len)
        *len = n;
    return line;
}
