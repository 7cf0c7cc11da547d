/* ipc: multiprocessing.connection's framing over pipes and sockets (the queue is in queue.c). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "internal/error.h"
#include "internal/ipc.h"
#include "internal/mem.h"
#include "internal/posix.h"
#include "st_config.h"
#include "systools/ipc.h"
#include "systools/pickle.h"

/* ---- connections ----------------------------------------------------------------------- */

/* Read-ahead capacity. Small frames are parsed out of one read() instead of two per message;
 * a frame that starts a read has its header read aside and its payload at the buffer's start,
 * so a frame of up to this size costs one read(), and a large one is handed to the caller in
 * the buffer itself rather than copied out of it (see recv_frame()). Below malloc's mmap
 * threshold, so a handed-over buffer is replaced cheaply. */
#define IN_CAP ((size_t)65536 + 1024)
/* Payloads from this size on are handed over in the read-ahead buffer (shrunk to fit), smaller
 * ones are copied out of it (or, for st_connection_recv(), unpickled in place). */
#define HAND_OVER_MIN ((size_t)16384)
/* Payloads up to this size are copied behind their header and sent with one send()/write(),
 * which costs the kernel less than a two-part sendmsg()/writev() (no iovec array to import). */
#define SEND_COPY_MAX ((size_t)4096)
/* How much of a message's announced length is allocated before its bytes arrive. */
#define TRUST_FIRST ((size_t)1 << 20)
/* multiprocessing writes lengths above this as -1 plus an 8-byte length. */
#define SHORT_MAX 0x7fffffffu

struct st_connection {
    int fd; /* -1 once closed */
    unsigned char readable, writable, is_socket;
    size_t max_message;
    /* Bytes read ahead: in[in_off, in_len). IN_CAP + ST__FRAME_HEADER_MAX + 1 bytes, or NULL
     * until the first receive and after the buffer was handed over with a message. */
    unsigned char *in;
    size_t in_len, in_off;
    unsigned char *pending; /* a whole message st_connection_recv_bytes_into() had no room for */
    size_t pending_len;
    double deadline; /* monotonic time a blocking read must be done by (a handshake), or -1 */
};

static int check_open(const st_connection *c)
{
    if (c->fd < 0)
        return ST_RAISE_AS(ST_ESTATE, "OSError", "handle is closed");
    return 0;
}

/* Whether the descriptor itself keeps a write to a vanished reader from raising SIGPIPE (a
 * socket by MSG_NOSIGNAL on each send or by SO_NOSIGPIPE, a pipe by F_SETNOSIGPIPE); elsewhere
 * send_frame() holds the signal with the SIGPIPE guard around the write. */
#if defined(ST_HAVE_MSG_NOSIGNAL) || defined(ST_HAVE_SO_NOSIGPIPE)
#define SOCKET_NOSIGPIPE 1
#else
#define SOCKET_NOSIGPIPE 0
#endif
#if defined(ST_HAVE_F_SETNOSIGPIPE)
#define PIPE_NOSIGPIPE 1
#else
#define PIPE_NOSIGPIPE 0
#endif

static void no_sigpipe(int fd, int is_socket)
{
#if defined(ST_HAVE_SO_NOSIGPIPE)
    if (is_socket) {
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
    }
#endif
#if defined(ST_HAVE_F_SETNOSIGPIPE)
    if (!is_socket)
        fcntl(fd, F_SETNOSIGPIPE, 1);
#endif
    (void)fd;
    (void)is_socket;
}

st_connection *st_connection_new(int fd, int readable, int writable)
{
    if (fd < 0)
        return (ST_RAISE(ST_EVALUE, "invalid handle"), NULL);
    if (!readable && !writable) {
        close(fd);
        return (ST_RAISE(ST_EVALUE, "at least one of `readable` and `writable` must be True"), NULL);
    }
    st_connection *c = st__calloc(1, sizeof *c);
    if (!c) {
        close(fd);
        return (ST_TRACE(), NULL);
    }
    struct stat st;
    c->fd = fd;
    c->readable = readable != 0;
    c->writable = writable != 0;
    c->is_socket = fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
    c->max_message = ST_CONNECTION_NO_LIMIT;
    c->deadline = -1;
    no_sigpipe(fd, c->is_socket);
    return c;
}

int st_ipc_pipe(st_connection **a, st_connection **b, int duplex)
{
    int fds[2];
    int r;
    *a = *b = NULL;
    if (duplex)
        r = st__socketpair_cloexec(AF_UNIX, SOCK_STREAM, fds);
    else
        r = st__pipe_cloexec(fds);
    if (r < 0)
        return ST_RAISE_OS(errno, "cannot create a %s", duplex ? "socket pair" : "pipe");
    int fd1 = fds[1];
    *a = st_connection_new(fds[0], 1, duplex);
    if (!*a) {
        close(fd1);
        return ST_TRACE();
    }
    *b = st_connection_new(fd1, duplex, 1);
    if (!*b) {
        st_connection_free(*a);
        *a = NULL;
        return ST_TRACE();
    }
    return 0;
}

int st_connection_close(st_connection *c)
{
    if (!c)
        return 0;
    free(c->in);
    c->in = NULL;
    c->in_len = c->in_off = 0;
    free(c->pending);
    c->pending = NULL;
    if (c->fd < 0)
        return 0;
    int fd = c->fd;
    c->fd = -1;
    /* close() may report EINTR after the descriptor is gone already: never retry it. */
    if (close(fd) < 0 && errno != EINTR)
        return ST_RAISE_OS(errno, "cannot close the connection");
    return 0;
}

void st_connection_free(st_connection *c)
{
    if (!c)
        return;
    st_connection_close(c);
    free(c);
}

int st_connection_closed(const st_connection *c) { return c->fd < 0; }

void st__conn_set_deadline(st_connection *c, double deadline) { c->deadline = deadline; }

int st__conn_has_input(const st_connection *c) { return c->in_len > c->in_off || c->pending; }

int st_connection_fileno(const st_connection *c)
{
    if (check_open(c) < 0)
        return ST_TRACE();
    return c->fd;
}

int st_connection_set_max_message_size(st_connection *c, size_t max)
{
    if (check_open(c) < 0)
        return ST_TRACE();
    c->max_message = max;
    return 0;
}

/* ---- sending ---- */

/* Writes all of iov (modified as it goes). */
static int write_iov(st_connection *c, struct iovec *iov, int n)
{
    while (n > 0) {
        ssize_t w;
        if (n == 1) {
#if defined(ST_HAVE_MSG_NOSIGNAL)
            w = c->is_socket ? send(c->fd, iov->iov_base, iov->iov_len, MSG_NOSIGNAL)
                             : write(c->fd, iov->iov_base, iov->iov_len);
#else
            w = write(c->fd, iov->iov_base, iov->iov_len);
#endif
        } else if (c->is_socket) {
            struct msghdr m;
            memset(&m, 0, sizeof m);
            m.msg_iov = iov;
            m.msg_iovlen = (size_t)n;
#if defined(ST_HAVE_MSG_NOSIGNAL)
            w = sendmsg(c->fd, &m, MSG_NOSIGNAL);
#else
            w = sendmsg(c->fd, &m, 0);
#endif
        } else {
            w = writev(c->fd, iov, n);
        }
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return ST_RAISE_OS(errno, "cannot send on the connection");
        }
        size_t done = (size_t)w;
        while (n > 0 && done >= iov->iov_len) {
            done -= iov->iov_len;
            iov++;
            n--;
        }
        if (n > 0) {
            iov->iov_base = (char *)iov->iov_base + done;
            iov->iov_len -= done;
        }
    }
    return 0;
}

/* write_iov() under the SIGPIPE guard, for a descriptor that cannot refuse the signal itself
 * (Python ignores SIGPIPE for the same reason: a vanished reader is an error, not a death). */
static int write_iov_nosigpipe(st_connection *c, struct iovec *iov, int n)
{
    st__sigpipe_guard g;
    st__sigpipe_block(&g);
    int r = write_iov(c, iov, n);
    st__sigpipe_release(&g, r < 0 && st_error_errno() == EPIPE);
    return r;
}

size_t st__conn_frame_header(size_t len, unsigned char hdr[ST__FRAME_HEADER_MAX])
{
    if (len > SHORT_MAX) {
        memset(hdr, 0xff, 4); /* -1 */
        for (int i = 0; i < 8; i++)
            hdr[4 + i] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
        return 12;
    }
    for (int i = 0; i < 4; i++)
        hdr[i] = (unsigned char)(len >> (24 - 8 * i));
    return 4;
}

int st_connection_send_bytes(st_connection *c, const void *data, size_t len)
{
    if (check_open(c) < 0)
        return ST_TRACE();
    if (!c->writable)
        return ST_RAISE_AS(ST_ESTATE, "OSError", "connection is read-only");
    unsigned char frame[ST__FRAME_HEADER_MAX + SEND_COPY_MAX];
    size_t hlen = st__conn_frame_header(len, frame);
    struct iovec iov[2] = {{frame, hlen}, {(void *)(uintptr_t)data, len}};
    int n = 2;
    if (len <= SEND_COPY_MAX) {
        if (len)
            memcpy(frame + hlen, data, len);
        iov[0].iov_len += len;
        n = 1;
    }
    int r = (c->is_socket ? SOCKET_NOSIGPIPE : PIPE_NOSIGPIPE) ? write_iov(c, iov, n)
                                                              : write_iov_nosigpipe(c, iov, n);
    return r < 0 ? ST_TRACE() : 0;
}

/* ---- receiving ---- */

static size_t buffered(const st_connection *c) { return c->in_len - c->in_off; }

static int in_alloc(st_connection *c)
{
    if (!c->in && !(c->in = st__malloc(IN_CAP + ST__FRAME_HEADER_MAX + 1)))
        return ST_TRACE();
    return 0;
}

/* One read into p; with head, a readv() that fills head[0, hlen) first. Returns the count,
 * 0 at end of stream, -1 with the error set, or -2 (no error set) when `dontwait` is set and
 * nothing is there (sockets only: MSG_DONTWAIT). */
static ssize_t read_some(st_connection *c, void *head, size_t hlen, void *p, size_t n, int dontwait)
{
    struct iovec iov[2] = {{head, hlen}, {p, n}};
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_iov = head ? iov : iov + 1;
    m.msg_iovlen = head ? 2 : 1;
    for (;;) {
        if (!dontwait && c->deadline >= 0) {
            struct pollfd pf = {c->fd, POLLIN, 0};
            int ready = poll(&pf, 1, st__deadline_ms(c->deadline));
            if (ready < 0 && errno == EINTR)
                continue;
            if (ready < 0)
                return ST_RAISE_OS(errno, "cannot poll the connection");
            if (ready == 0 && st__deadline_ms(c->deadline) == 0)
                return ST_RAISE_AS(ST_ETIMEOUT, "TimeoutError", "timed out");
            if (ready == 0)
                continue; /* a wait capped at a day */
        }
        ssize_t r = dontwait ? recvmsg(c->fd, &m, MSG_DONTWAIT)
                    : head   ? readv(c->fd, iov, 2)
                             : read(c->fd, p, n);
        if (r >= 0)
            return r;
        if (dontwait && (errno == EAGAIN || errno == EWOULDBLOCK))
            return -2;
        if (errno != EINTR)
            return ST_RAISE_OS(errno, "cannot receive on the connection");
    }
}

/* The error for an end of stream: clean between messages, an OSError inside one, whose bytes
 * are dropped so that the next receive reports the clean end (as Python's, which consumed
 * them). */
static int eof_error(st_connection *c, int inside)
{
    if (inside) {
        c->in_len = c->in_off = 0;
        return ST_RAISE_AS(ST_EFORMAT, "OSError", "got end of file during message");
    }
    return ST_RAISE(ST_EEOF, "%s", "");
}

/* Makes at least `need` (<= IN_CAP) bytes available in the read-ahead buffer. */
static int fill(st_connection *c, size_t need, int inside)
{
    if (buffered(c) >= need)
        return 0;
    if (in_alloc(c) < 0)
        return ST_TRACE();
    if (c->in_off) {
        memmove(c->in, c->in + c->in_off, buffered(c));
        c->in_len -= c->in_off;
        c->in_off = 0;
    }
    while (c->in_len < need) {
        ssize_t r = read_some(c, NULL, 0, c->in + c->in_len, IN_CAP - c->in_len, 0);
        if (r < 0)
            return ST_TRACE();
        if (r == 0)
            return eof_error(c, inside || c->in_len > 0);
        c->in_len += (size_t)r;
    }
    return 0;
}

/* Python stops receiving on a connection that got an oversized frame (and closes it when it
 * cannot send either), since the stream is no longer in step. */
static int bad_length(st_connection *c)
{
    if (c->writable)
        c->readable = 0;
    else
        st_connection_close(c);
    return ST_RAISE_AS(ST_EFORMAT, "OSError", "bad message length");
}

/* Reads the frame header from the read-ahead buffer; stores the announced length. */
static int read_header(st_connection *c, size_t maxlength, size_t *size)
{
    if (fill(c, 4, 0) < 0)
        return ST_TRACE();
    const unsigned char *h = c->in + c->in_off;
    uint32_t u = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
    uint64_t n = u;
    size_t hlen = 4;
    if (u == 0xffffffffu) { /* -1: an 8-byte length follows */
        if (fill(c, 12, 1) < 0)
            return ST_TRACE();
        h = c->in + c->in_off;
        n = 0;
        for (int i = 4; i < 12; i++)
            n = n << 8 | h[i];
        hlen = 12;
    } else if (u > SHORT_MAX) {
        return bad_length(c); /* another negative length */
    }
    c->in_off += hlen;
    size_t limit = maxlength != ST_CONNECTION_NO_LIMIT ? maxlength : c->max_message;
    if (limit != ST_CONNECTION_NO_LIMIT && n > limit) /* no limit, not SIZE_MAX (a 64-bit n) */
        return bad_length(c);
    /* Python reads the payload with os.read(), whose length is a Py_ssize_t: a longer claim (from
     * 2**31 on on a 32-bit machine) is its OverflowError, before any payload is read. */
    if (n > (uint64_t)SSIZE_MAX)
        return ST_RAISE(ST_EOVERFLOW, "Python int too large to convert to C ssize_t");
    *size = (size_t)n;
    return 0;
}

/* Reads the rest of a size-byte message into *out, of which `have` bytes are there in a
 * cap + 1 byte allocation. The buffer grows as bytes arrive (doubling from 1 MiB), never to a
 * size only the header claims. Frees *out on failure. */
static int read_rest(st_connection *c, unsigned char **out, size_t have, size_t cap, size_t size)
{
    while (have < size) {
        if (have == cap) {
            cap = size - cap > cap ? cap * 2 : size;
            unsigned char *bigger = st__realloc(*out, cap + 1);
            if (!bigger)
                goto fail;
            *out = bigger;
        }
        ssize_t r = read_some(c, NULL, 0, *out + have, cap - have, 0);
        if (r < 0)
            goto fail;
        if (r == 0) {
            eof_error(c, 1);
            goto fail;
        }
        have += (size_t)r;
    }
    (*out)[size] = '\0';
    return 0;
fail:
    free(*out);
    *out = NULL;
    return ST_TRACE();
}

/* Waits until the descriptor is readable (or at its end): 1, 0 when the time ran out, -1. */
static int wait_readable(st_connection *c, double timeout)
{
    double deadline = st__deadline(timeout);
    for (;;) {
        int ms = st__deadline_ms(deadline);
        struct pollfd p = {c->fd, POLLIN, 0};
        int r = poll(&p, 1, ms);
        if (r > 0)
            return 1; /* data, end of stream or an error the next read reports */
        if (r == 0 && (ms == 0 || st__deadline_ms(deadline) == 0))
            return 0; /* else a wait capped at a day: poll again */
        if (errno != EINTR)
            return ST_RAISE_OS(errno, "cannot poll the connection");
    }
}

/* A frame that starts a read: the first read puts the header (when it is the usual 4 bytes)
 * into hdr and the payload at c->in[0], waiting at most `timeout` seconds (negative: for
 * ever) for it to begin. A socket is read at once without blocking, and polled only when
 * nothing is there: one syscall instead of two when the message is waiting already. Returns
 * the byte count read (>= 1), or -1. */
static ssize_t read_frame_start(st_connection *c, unsigned char hdr[4], double timeout)
{
    if (in_alloc(c) < 0)
        return ST_TRACE();
    c->in_len = c->in_off = 0;
    ssize_t r = -2;
    if (timeout >= 0 && c->is_socket)
        r = read_some(c, hdr, 4, c->in, IN_CAP, 1);
    if (r == -2 && timeout >= 0) {
        int ready = wait_readable(c, timeout);
        if (ready < 0)
            return ST_TRACE();
        if (!ready)
            return ST_RAISE_AS(ST_ETIMEOUT, "TimeoutError", "no message within %g seconds", timeout);
    }
    if (r == -2)
        r = read_some(c, hdr, 4, c->in, IN_CAP, 0);
    if (r < 0)
        return ST_TRACE();
    if (r == 0)
        return eof_error(c, 0);
    return r;
}

/* Receives the next frame's payload, either borrowed from the read-ahead buffer (*owned = 0:
 * valid until the next receive, not NUL-terminated) or in an allocation of its own
 * (*owned = 1, NUL-terminated). `timeout` bounds the wait for the frame to begin. */
static unsigned char *recv_frame(st_connection *c, size_t maxlength, double timeout, size_t *size, int *owned)
{
    if (check_open(c) < 0)
        return (ST_TRACE(), NULL);
    if (!c->readable)
        return (ST_RAISE_AS(ST_ESTATE, "OSError", "connection is write-only"), NULL);
    size_t n = 0;
    unsigned char *out;
    if (c->pending) {
        out = c->pending;
        n = c->pending_len;
        c->pending = NULL;
        if (n > (maxlength != ST_CONNECTION_NO_LIMIT ? maxlength : c->max_message)) {
            free(out);
            return (bad_length(c), NULL);
        }
        *size = n;
        *owned = 1;
        return out;
    }
    if (!buffered(c)) {
        unsigned char hdr[4];
        ssize_t r = read_frame_start(c, hdr, timeout);
        if (r < 0)
            return (ST_TRACE(), NULL);
        uint32_t u = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
        size_t limit = maxlength != ST_CONNECTION_NO_LIMIT ? maxlength : c->max_message;
        if (r < 4 || u > SHORT_MAX || u > limit) {
            /* A short, long or bad header: put it back in front and take the general way. */
            size_t h = r < 4 ? (size_t)r : 4;
            memmove(c->in + h, c->in, (size_t)r - h);
            memcpy(c->in, hdr, h);
            c->in_len = (size_t)r;
        } else {
            n = u;
            size_t have = (size_t)r - 4;
            c->in_len = have;
            if (n > IN_CAP) { /* the buffer becomes the message's beginning */
                out = c->in;
                c->in = NULL;
                c->in_len = 0;
                size_t cap = n < TRUST_FIRST ? n : TRUST_FIRST;
                unsigned char *bigger = st__realloc(out, cap + 1);
                if (!bigger) {
                    free(out);
                    return (ST_TRACE(), NULL);
                }
                out = bigger;
                if (read_rest(c, &out, have, cap, n) < 0)
                    return (ST_TRACE(), NULL);
                *size = n;
                *owned = 1;
                return out;
            }
            if (fill(c, n, 1) < 0)
                return (ST_TRACE(), NULL);
            if (n >= HAND_OVER_MIN) {
                unsigned char *rest = NULL;
                size_t tail = c->in_len - n;
                if (tail && !(rest = st__malloc(IN_CAP + ST__FRAME_HEADER_MAX + 1)))
                    return (ST_TRACE(), NULL);
                out = c->in;
                if (tail)
                    memcpy(rest, out + n, tail);
                c->in = rest;
                c->in_len = tail;
                unsigned char *fit = realloc(out, n + 1); /* shrinking: fails only oddly */
                out = fit ? fit : out;
                out[n] = '\0';
                *size = n;
                *owned = 1;
                return out;
            }
            c->in_off = n;
            *size = n;
            *owned = 0;
            return c->in;
        }
    }
    if (read_header(c, maxlength, &n) < 0)
        return (ST_TRACE(), NULL);
    if (n < HAND_OVER_MIN) {
        if (fill(c, n, 1) < 0)
            return (ST_TRACE(), NULL);
        out = c->in + c->in_off;
        c->in_off += n;
        *size = n;
        *owned = 0;
        return out;
    }
    size_t have = buffered(c) < n ? buffered(c) : n;
    size_t cap = n < TRUST_FIRST ? n : TRUST_FIRST;
    if (!(out = st__malloc(cap + 1)))
        return (ST_TRACE(), NULL);
    memcpy(out, c->in + c->in_off, have);
    c->in_off += have;
    if (read_rest(c, &out, have, cap, n) < 0)
        return (ST_TRACE(), NULL);
    *size = n;
    *owned = 1;
    return out;
}

unsigned char *st_connection_recv_bytes(st_connection *c, size_t maxlength, size_t *len)
{
    size_t size;
    int owned;
    unsigned char *p = recv_frame(c, maxlength, -1, &size, &owned);
    if (!p)
        return (ST_TRACE(), NULL);
    if (!owned) {
        unsigned char *copy = st__malloc(size + 1);
        if (!copy)
            return (ST_TRACE(), NULL);
        memcpy(copy, p, size);
        copy[size] = '\0';
        p = copy;
    }
    if (len)
        *len = size;
    return p;
}

/* A message too long for the caller's buffer: kept whole for the next receive. */
static int too_short(st_connection *c, unsigned char *msg, size_t size, size_t cap)
{
    c->pending = msg;
    c->pending_len = size;
    return ST_RAISE_AS(ST_EVALUE, "multiprocessing.BufferTooShort",
                       "a message of %zu bytes does not fit in %zu", size, cap);
}

/* st_connection_recv_bytes_into() for a frame that starts a read, into a large buffer: the payload
 * is read straight into buf (no copy), and what the first read brings beyond the frame moves
 * to the read-ahead buffer. Returns 0, -1, or 1 to take the general way (an unusual header,
 * put back in the read-ahead buffer). */
static int recv_into_direct(st_connection *c, unsigned char *buf, size_t cap, size_t *len)
{
    unsigned char hdr[4];
    if (in_alloc(c) < 0)
        return ST_TRACE();
    ssize_t r = read_some(c, hdr, 4, buf, cap < IN_CAP ? cap : IN_CAP, 0);
    if (r < 0)
        return ST_TRACE();
    if (r == 0)
        return eof_error(c, 0);
    uint32_t u = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
    if (r < 4 || u > SHORT_MAX || u > c->max_message) {
        size_t h = r < 4 ? (size_t)r : 4;
        memcpy(c->in, hdr, h);
        memcpy(c->in + h, buf, (size_t)r - h);
        c->in_len = (size_t)r;
        c->in_off = 0;
        return 1;
    }
    size_t n = u, have = (size_t)r - 4;
    *len = n;
    if (n > cap) {
        size_t first = n < TRUST_FIRST ? n : TRUST_FIRST;
        unsigned char *out = st__malloc(first + 1);
        if (!out)
            return ST_TRACE();
        memcpy(out, buf, have);
        if (read_rest(c, &out, have, first, n) < 0)
            return ST_TRACE();
        return too_short(c, out, n, cap);
    }
    if (have > n) {
        c->in_len = have - n;
        c->in_off = 0;
        memcpy(c->in, buf + n, c->in_len);
    }
    while (have < n) {
        r = read_some(c, NULL, 0, buf + have, n - have, 0);
        if (r < 0)
            return ST_TRACE();
        if (r == 0)
            return eof_error(c, 1);
        have += (size_t)r;
    }
    return 0;
}

int st_connection_recv_bytes_into(st_connection *c, void *buf, size_t cap, size_t *len)
{
    size_t size;
    if (!len)
        len = &size;
    if (check_open(c) < 0)
        return ST_TRACE();
    if (!c->readable)
        return ST_RAISE_AS(ST_ESTATE, "OSError", "connection is write-only");
    if (!c->pending && !buffered(c) && cap >= HAND_OVER_MIN) {
        int r = recv_into_direct(c, buf, cap, len);
        if (r <= 0)
            return r < 0 ? ST_TRACE() : 0;
    }
    int owned;
    unsigned char *p = recv_frame(c, ST_CONNECTION_NO_LIMIT, -1, &size, &owned);
    if (!p)
        return ST_TRACE();
    *len = size;
    if (size > cap) {
        if (!owned) {
            unsigned char *copy = st__malloc(size + 1);
            if (!copy)
                return ST_TRACE();
            memcpy(copy, p, size);
            copy[size] = '\0';
            p = copy;
        }
        return too_short(c, p, size, cap);
    }
    if (size)
        memcpy(buf, p, size);
    if (owned)
        free(p);
    return 0;
}

int st_connection_poll(st_connection *c, double timeout)
{
    if (check_open(c) < 0)
        return ST_TRACE();
    if (!c->readable)
        return ST_RAISE_AS(ST_ESTATE, "OSError", "connection is write-only");
    if (buffered(c) || c->pending)
        return 1;
    int r = wait_readable(c, timeout);
    return r < 0 ? ST_TRACE() : r;
}

/* ---- whole values (pickles) ---- */

int st_connection_send(st_connection *c, const st_value *value)
{
    unsigned char *data;
    size_t len;
    if (check_open(c) < 0)
        return ST_TRACE();
    if (st_pickle_dumps(value, ST_PICKLE_DEFAULT_PROTOCOL, &data, &len) < 0)
        return ST_TRACE();
    int r = st_connection_send_bytes(c, data, len);
    st_free(data);
    return r < 0 ? ST_TRACE() : 0;
}

st_value *st_connection_recv(st_connection *c, double timeout)
{
    size_t len;
    int owned;
    unsigned char *data = recv_frame(c, ST_CONNECTION_NO_LIMIT, timeout, &len, &owned);
    if (!data)
        return (ST_TRACE(), NULL);
    st_value *v = st_pickle_loads(data, len, NULL); /* a small pickle straight from the read-ahead */
    if (owned)
        st_free(data);
    return v ? v : (ST_TRACE(), NULL);
}
