/* os: descriptor files (open, read, write, pipe, fdopen, ...). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal/error.h"
#include "internal/mem.h"
#include "internal/os.h"
#include "systools/os.h"

/* ---- raising helpers ----------------------------------------------------------------------- */

int st__read_to_buf(int fd, st__buf *out)
{
    for (;;) {
        if (st__buf_reserve(out, 8192) < 0)
            return ST_TRACE();
        ssize_t n = st__read_retry(fd, out->data + out->len, out->cap - out->len - 1);
        if (n < 0)
            return ST_RAISE_OS(errno, "cannot read from descriptor %d", fd);
        if (n == 0)
            return 0;
        out->len += (size_t)n;
        out->data[out->len] = '\0';
    }
}

/* ---- public descriptor functions ------------------------------------------------------------ */

int st_os_open(const char *path, int flags, mode_t mode)
{
    int fd = st__open_cloexec(AT_FDCWD, path, flags, mode);
    if (fd < 0)
        return ST_RAISE_OS(errno, "cannot open '%s'", path);
    return fd;
}

ssize_t st_os_read(int fd, void *buf, size_t n)
{
    ssize_t r = st__read_retry(fd, buf, n);
    if (r < 0)
        return ST_RAISE_OS(errno, "cannot read from descriptor %d", fd);
    return r;
}

char *st_os_read_all(int fd, size_t *len)
{
    st__buf b = ST__BUF_INIT;
    if (st__read_to_buf(fd, &b) < 0) {
        st__buf_free(&b);
        return (ST_TRACE(), NULL);
    }
    if (len)
        *len = b.len;
    return st__buf_detach(&b);
}

int st_os_write(int fd, const void *buf, size_t n)
{
    if (st__write_full(fd, buf, n) < 0)
        return ST_RAISE_OS(errno, "cannot write to descriptor %d", fd);
    return 0;
}

int st_os_lseek(int fd, int64_t pos, int how, int64_t *result)
{
    /* Some files have offsets that read as negative: only errno tells a failure. */
    errno = 0;
    off_t r = lseek(fd, (off_t)pos, how); /* off_t is 64 bits (posix.c) */
    if (r == (off_t)-1 && errno)
        return ST_RAISE_OS(errno, "cannot seek descriptor %d", fd);
    if (result)
        *result = (int64_t)r;
    return 0;
}

int st_os_close(int fd)
{
    if (close(fd) < 0 && errno != EINTR)
        return ST_RAISE_OS(errno, "cannot close descriptor %d", fd);
    return 0;
}

int st_os_dup(int fd)
{
    int r = st__dup_cloexec(fd);
    if (r < 0)
        return ST_RAISE_OS(errno, "cannot duplicate descriptor %d", fd);
    return r;
}

int st_os_dup2(int fd, int fd2, int inheritable)
{
    int r = st__dup2_cloexec(fd, fd2, inheritable);
    if (r < 0)
        return ST_RAISE_OS(errno, "cannot duplicate descriptor %d onto %d", fd, fd2);
    return r;
}

int st_os_pipe(int fds[2])
{
    if (st__pipe_cloexec(fds) < 0)
        return ST_RAISE_OS(errno, "cannot create a pipe");
    return 0;
}

/* Python's open() mode rules; builds the stdio mode ("r", "w", "a", each maybe with "+"). */
static int fdopen_mode(const char *mode, char out[3])
{
    int create = 0, read = 0, write = 0, append = 0, plus = 0, text = 0, binary = 0;
    for (const char *m = mode; *m; m++) {
        const char *seen = strchr(m + 1, *m);
        if (!strchr("xrwa+tb", *m) || seen)
            return ST_RAISE(ST_EVALUE, "invalid mode: '%s'", mode);
        create += *m == 'x';
        read += *m == 'r';
        write += *m == 'w';
        append += *m == 'a';
        plus += *m == '+';
        text += *m == 't';
        binary += *m == 'b';
    }
    if (text && binary)
        return ST_RAISE(ST_EVALUE, "can't have text and binary mode at once");
    if (create + read + write + append > 1)
        return ST_RAISE(ST_EVALUE, "must have exactly one of create/read/write/append mode");
    if (create + read + write + append == 0)
        return ST_RAISE(ST_EVALUE,
                        "Must have exactly one of create/read/write/append mode and at most one plus");
    out[0] = read ? 'r' : append ? 'a' : 'w'; /* 'x': the file exists already, write to it */
    out[1] = plus ? '+' : '\0';
    out[2] = '\0';
    return 0;
}

FILE *st_os_fdopen(int fd, const char *mode)
{
    char m[3];
    if (fdopen_mode(mode, m) < 0)
        return (ST_TRACE(), NULL);
    FILE *f = fdopen(fd, m);
    if (!f)
        return (ST_RAISE_OS(errno, "cannot open descriptor %d with mode '%s'", fd, mode), NULL);
    return f;
}

int st_os_fsync(int fd)
{
    if (fsync(fd) < 0)
        return ST_RAISE_OS(errno, "cannot sync descriptor %d", fd);
    return 0;
}

int st_os_ftruncate(int fd, int64_t length)
{
    int r;
    do
        r = ftruncate(fd, (off_t)length);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return ST_RAISE_OS(errno, "cannot truncate descriptor %d", fd);
    return 0;
}

/* One bit of a descriptor's flag word (F_GETFL's O_NONBLOCK, F_GETFD's FD_CLOEXEC): 1 or 0. */
static int flag_bit(int fd, int get, int bit)
{
    int flags = fcntl(fd, get);
    if (flags < 0)
        return ST_RAISE_OS(errno, "cannot read the flags of descriptor %d", fd);
    return (flags & bit) != 0;
}

/* Sets (on) or clears that bit, writing the word back only when it changes. */
static int set_flag_bit(int fd, int get, int set, int bit, int on)
{
    int flags = fcntl(fd, get);
    if (flags < 0)
        return ST_RAISE_OS(errno, "cannot read the flags of descriptor %d", fd);
    int want = on ? flags | bit : flags & ~bit;
    if (want != flags && fcntl(fd, set, want) < 0)
        return ST_RAISE_OS(errno, "cannot set the flags of descriptor %d", fd);
    return 0;
}

int st_os_get_blocking(int fd)
{
    int r = flag_bit(fd, F_GETFL, O_NONBLOCK);
    return r < 0 ? ST_TRACE() : !r;
}

int st_os_set_blocking(int fd, int blocking)
{
    return set_flag_bit(fd, F_GETFL, F_SETFL, O_NONBLOCK, !blocking) < 0 ? ST_TRACE() : 0;
}

int st_os_get_inheritable(int fd)
{
    int r = flag_bit(fd, F_GETFD, FD_CLOEXEC);
    return r < 0 ? ST_TRACE() : !r;
}

int st_os_set_inheritable(int fd, int inheritable)
{
    return set_flag_bit(fd, F_GETFD, F_SETFD, FD_CLOEXEC, !inheritable) < 0 ? ST_TRACE() : 0;
}

int st_os_mkfifo(const char *path, mode_t mode)
{
    if (mkfifo(path, mode) < 0)
        return ST_RAISE_OS(errno, "cannot create FIFO '%s'", path);
    return 0;
}
