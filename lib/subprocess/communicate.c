/* subprocess: communicate's poll loop over the child's pipes, at the pipes' limit. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal/posix.h"
#include "internal/subprocess.h"

/* ---- the poll loop --------------------------------------------------------------------------- */

#define PIPE_DEFAULT (64 * 1024)
#define PIPE_WIDE (1024 * 1024)

/* A bulk transfer through a wider pipe takes 16 times fewer system calls and context switches.
 * Only once a transfer shows it is big: every widened pipe counts against the user's pipe quota
 * (pipe-user-pages-soft), past which the kernel gives new pipes a page or two. *size becomes
 * what the pipe holds, which then sizes each read and write. */
static void widen_pipe(int fd, size_t *size)
{
    if (!*size)
        *size = st__pipe_widen(fd, PIPE_WIDE);
}

/* Asks for huge pages under a large capture buffer after it grew: the kernel then faults it in
 * 2 MiB at a time instead of 4 KiB, which is most of the cost of capturing gigabytes. Blocks this
 * large are mappings of their own (malloc mmaps everything past 32 MiB): the hint covers the
 * whole mapping so it is not split, and realloc keeps growing it in place with mremap. */
static void hint_huge(st__buf *b, size_t old_cap)
{
#if defined(MADV_HUGEPAGE)
    if (b->cap == old_cap || b->cap <= ((size_t)32 << 20))
        return;
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t lo = (uintptr_t)b->data & ~(page - 1);
    uintptr_t hi = ((uintptr_t)b->data + b->cap + page - 1) & ~(page - 1);
    (void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
#else
    (void)b;
    (void)old_cap;
#endif
}

/* Reads what is there into b (or discards it when b is NULL); closes *fd at end of file. */
static int drain_some(int *fd, st__buf *b, size_t *size)
{
    char scratch[16384];
    char *dst = scratch;
    size_t room = sizeof scratch;
    if (b) {
        /* Geometric growth of the buffer: no quadratic copying for huge outputs. */
        size_t old_cap = b->cap;
        if (st__buf_reserve(b, *size ? *size : PIPE_DEFAULT) < 0)
            return ST_TRACE();
        hint_huge(b, old_cap);
        dst = b->data + b->len;
        room = b->cap - b->len - 1;
    }
    ssize_t n = read(*fd, dst, room);
    if (n < 0) {
        if (errno == EINTR || errno == EAGAIN)
            return 0;
        return ST_RAISE_OS(errno, "cannot read from the child's pipe");
    }
    if (n == 0) {
        st__sp_close_fd(fd);
        return 0;
    }
    if (b) {
        b->len += (size_t)n;
        b->data[b->len] = '\0';
    }
    if (n >= PIPE_DEFAULT) /* the pipe was full: a big output is coming */
        widen_pipe(*fd, size);
    return 0;
}

/* Writes what the pipe takes; closes *fd when all is sent or the reader has gone. vmsplice()
 * would save the copy into the pipe (up to 1.3x through cat here, in noisy runs), but the pipe
 * would then hold the caller's own pages after we return (on a timeout, or while a grandchild
 * keeps the read end), so changing the buffer later would change what the child reads. Output
 * cannot be spliced into memory at all, and a stdout that is a file or a descriptor never
 * passes through here. */
static int feed_some(int *fd, const char *data, size_t len, size_t *off, size_t size, int *broken)
{
    size_t room = size ? size : PIPE_DEFAULT; /* a pipe's worth: what poll said fits, at most */
    size_t chunk = len - *off < room ? len - *off : room;
    ssize_t n = chunk ? write(*fd, data + *off, chunk) : 0;
    if (n < 0) {
        if (errno == EINTR || errno == EAGAIN)
            return 0;
        if (errno != EPIPE)
            return ST_RAISE_OS(errno, "cannot write to the child's pipe");
        *broken = 1;
        st__sp_close_fd(fd);
        return 0;
    }
    *off += (size_t)n;
    if (*off == len)
        st__sp_close_fd(fd);
    return 0;
}

/* The poll loop over up to three pipes: 0 when every pipe is done, 1 on timeout, -1 on error. */
int st__sp_pump(int *in, const char *data, size_t len, size_t *off, int *out, st__buf *ob,
                int *err, st__buf *eb, double deadline)
{
    st__sigpipe_guard guard;
    int broken = 0, rc = 0;
    size_t size[3] = {0, 0, 0}; /* each pipe's size once widened */
    int had_in = *in >= 0;
    if (had_in) {
        if (len - *off > PIPE_DEFAULT)
            widen_pipe(*in, &size[0]);
        /* Writing to a closed pipe raises SIGPIPE: the guard holds it instead of touching the
         * process's handlers. */
        st__sigpipe_block(&guard);
        int fl = fcntl(*in, F_GETFL);
        if (fl >= 0)
            (void)fcntl(*in, F_SETFL, fl | O_NONBLOCK);
    }
    while (*in >= 0 || *out >= 0 || *err >= 0) {
        struct pollfd pf[3];
        int *which[3];
        int n = 0;
        if (*in >= 0) {
            pf[n] = (struct pollfd){*in, POLLOUT, 0};
            which[n++] = in;
        }
        if (*out >= 0) {
            pf[n] = (struct pollfd){*out, POLLIN, 0};
            which[n++] = out;
        }
        if (*err >= 0) {
            pf[n] = (struct pollfd){*err, POLLIN, 0};
            which[n++] = err;
        }
        int ms = st__deadline_ms(deadline);
        int ready = ms == 0 ? 0 : poll(pf, (nfds_t)n, ms);
        if (ready < 0) {
            if (errno == EINTR)
                continue;
            rc = ST_RAISE_OS(errno, "cannot poll the child's pipes");
            break;
        }
        if (ready == 0) {
            if (st__deadline_ms(deadline) == 0) {
                rc = 1;
                break;
            }
            continue;
        }
        for (int i = 0; i < n && rc == 0; i++) {
            if (!pf[i].revents)
                continue;
            if (which[i] == in)
                rc = feed_some(in, data, len, off, size[0], &broken);
            else if (which[i] == out)
                rc = drain_some(out, ob, &size[1]);
            else
                rc = drain_some(err, eb, &size[2]);
        }
        if (rc < 0)
            break;
    }
    if (had_in)
        st__sigpipe_release(&guard, broken);
    return rc;
}

/* Python's _communicate: state survives a timeout (1), so a later call goes on. */
int st__sp_communicate(st_popen *p, const void *input, size_t input_len, double deadline,
                            int keep_out, int keep_err)
{
    /* Reserved now, so handing the buffers over afterwards cannot fail. */
    if ((p->out_piped && keep_out && st__buf_reserve(&p->obuf, 0) < 0) ||
        (p->err_piped && keep_err && st__buf_reserve(&p->ebuf, 0) < 0))
        return ST_TRACE();
    if (!p->comm_started) {
        p->comm_started = 1;
        p->in_data = input;
        p->in_len = input ? input_len : 0;
        if (p->in >= 0 && p->in_len == 0)
            st__sp_close_fd(&p->in);
    } else if (input && input_len) {
        return ST_RAISE(ST_EVALUE, "Cannot send input after starting communication");
    }
    int r = st__sp_pump(&p->in, p->in_data, p->in_len, &p->in_off, &p->out, keep_out ? &p->obuf : NULL,
                 &p->err, keep_err ? &p->ebuf : NULL, deadline);
    if (r == 0)
        r = st__sp_wait_until(p, deadline) < 0 ? -1 : !p->reaped;
    if (r < 0)
        return ST_TRACE();
    if (r == 1 && p->in >= 0 && p->in_data != p->pending) {
        /* Keep the unsent input: the caller's buffer need not outlive this call. */
        char *copy = st__malloc(p->in_len - p->in_off + 1);
        if (!copy)
            return ST_TRACE();
        memcpy(copy, p->in_data + p->in_off, p->in_len - p->in_off);
        p->pending = copy;
        p->in_data = copy;
        p->in_len -= p->in_off;
        p->in_off = 0;
    }
    return r;
}

/* Hands a captured stream to the caller: NULL when it was not a pipe. Detaching cannot fail
 * here: st__sp_communicate() reserved the buffer. */
void st__sp_take(st__buf *b, int piped, char **data, size_t *len)
{
    *len = piped ? b->len : 0;
    *data = piped ? st__buf_detach(b) : NULL;
    st__buf_free(b);
}

/* Copies what a stream captured so far (TimeoutExpired.stdout): the buffer stays for the next
 * communicate. */
static int copy_so_far(const st__buf *b, int piped, char **data, size_t *len)
{
    if (!piped || b->len == 0) /* Python: None when nothing was read yet */
        return 0;
    *data = st__malloc(b->len + 1);
    if (!*data)
        return ST_TRACE();
    if (b->len)
        memcpy(*data, b->data, b->len);
    (*data)[b->len] = '\0';
    *len = b->len;
    return 0;
}

int st_popen_communicate(st_popen *p, const void *input, size_t input_len, double timeout_s,
                         st_completed_process *result)
{
    if (result)
        memset(result, 0, sizeof *result);
    if (input && input_len && p->in < 0 && !p->comm_started)
        return ST_RAISE(ST_EVALUE, "input given but the child's stdin is not ST_SUBPROCESS_PIPE");
    if (result && !(result->args = st__strv_dup(p->args)))
        return ST_TRACE();
    int r = st__sp_communicate(p, input, input_len, st__deadline(timeout_s), result != NULL,
                             result != NULL);
    if (r < 0)
        return ST_TRACE();
    if (r == 1) {
        if (result && (copy_so_far(&p->obuf, p->out_piped, &result->stdout_data,
                                   &result->stdout_len) < 0 ||
                       copy_so_far(&p->ebuf, p->err_piped, &result->stderr_data,
                                   &result->stderr_len) < 0))
            return ST_TRACE();
        return st__sp_raise_timeout(p->args, p->shell, timeout_s);
    }
    if (result) {
        result->returncode = p->returncode;
        st__sp_take(&p->obuf, p->out_piped, &result->stdout_data, &result->stdout_len);
        st__sp_take(&p->ebuf, p->err_piped, &result->stderr_data, &result->stderr_len);
    }
    return 0;
}

