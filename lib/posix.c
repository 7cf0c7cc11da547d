/* The POSIX primitives every module uses (internal/posix.h says what each promises). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal/posix.h"
#include "st_config.h"
#if defined(ST_HAVE_SYS_GETDENTS64) || defined(ST_HAVE_SYS_PIDFD_OPEN) || \
    defined(ST_HAVE_SYS_PIDFD_SEND_SIGNAL) || defined(ST_HAVE_FUTEX)
#include <sys/syscall.h>
#endif
#if defined(ST_HAVE_FUTEX)
#include <linux/futex.h>
#endif
#if defined(ST_HAVE_NSGETENVIRON)
#include <crt_externs.h>
#else
extern char **environ;
#endif

/* lib/CMakeLists.txt builds with _FILE_OFFSET_BITS=64: offsets and sizes from the int64_t API
 * then fit without a range check, and readdir() copes with 64-bit inode numbers. */
_Static_assert(sizeof(off_t) == 8, "the library is built with large-file support");

/* ---- descriptors ----------------------------------------------------------------------------- */

ssize_t st__read_retry(int fd, void *buf, size_t n)
{
    ssize_t r;
    do
        r = read(fd, buf, n);
    while (r < 0 && errno == EINTR);
    return r;
}

int st__write_full(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int st__set_cloexec(int fd, int on)
{
    int flags = fcntl(fd, F_GETFD);
    if (flags < 0)
        return -1;
    int want = on ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC;
    return want == flags ? 0 : fcntl(fd, F_SETFD, want);
}

#if !defined(ST_HAVE_PIPE2) || !defined(ST_HAVE_SOCK_CLOEXEC)
#define NEED_PAIR_CLOEXEC 1
#endif
#if defined(NEED_PAIR_CLOEXEC) || !defined(ST_HAVE_O_CLOEXEC) || !defined(ST_HAVE_F_DUPFD_CLOEXEC)
/* The fallbacks' second step: fd (or -1 from the first) made close-on-exec, closed on failure. */
static int cloexec_or_close(int fd)
{
    if (fd >= 0 && st__set_cloexec(fd, 1) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}
#endif

int st__open_cloexec(int dirfd, const char *path, int flags, mode_t mode)
{
    int fd;
#if defined(ST_HAVE_O_CLOEXEC)
    do
        fd = openat(dirfd, path, flags | O_CLOEXEC, mode);
    while (fd < 0 && errno == EINTR);
    return fd;
#else
    do
        fd = openat(dirfd, path, flags, mode);
    while (fd < 0 && errno == EINTR);
    return cloexec_or_close(fd);
#endif
}

#if defined(NEED_PAIR_CLOEXEC)
/* Both ends of a fresh pair made close-on-exec; the pair is closed on failure. */
static int pair_cloexec(int r, int fds[2])
{
    if (r < 0)
        return -1;
    if (cloexec_or_close(fds[0]) < 0) {
        int e = errno;
        close(fds[1]);
        errno = e;
        return -1;
    }
    if (cloexec_or_close(fds[1]) < 0) {
        int e = errno;
        close(fds[0]);
        errno = e;
        return -1;
    }
    return 0;
}
#endif

int st__pipe_cloexec(int fds[2])
{
#if defined(ST_HAVE_PIPE2)
    return pipe2(fds, O_CLOEXEC);
#else
    return pair_cloexec(pipe(fds), fds);
#endif
}

int st__socketpair_cloexec(int domain, int type, int fds[2])
{
#if defined(ST_HAVE_SOCK_CLOEXEC)
    return socketpair(domain, type | SOCK_CLOEXEC, 0, fds);
#else
    return pair_cloexec(socketpair(domain, type, 0, fds), fds);
#endif
}

int st__dup_cloexec(int fd)
{
#if defined(ST_HAVE_F_DUPFD_CLOEXEC)
    return fcntl(fd, F_DUPFD_CLOEXEC, 0);
#else
    return cloexec_or_close(fcntl(fd, F_DUPFD, 0));
#endif
}

int st__dup2_cloexec(int fd, int fd2, int inheritable)
{
    int r;
#if defined(ST_HAVE_DUP3)
    if (!inheritable && fd != fd2) {
        do
            r = dup3(fd, fd2, O_CLOEXEC);
        while (r < 0 && errno == EINTR);
        return r;
    }
#endif
    do
        r = dup2(fd, fd2);
    while (r < 0 && errno == EINTR);
    /* Not closed on failure: fd2 is the caller's number, which dup2 just (re)used. */
    return r < 0 || inheritable || st__set_cloexec(r, 1) == 0 ? r : -1;
}

pid_t st__waitpid_retry(pid_t pid, int *status, int options)
{
    pid_t r;
    do
        r = waitpid(pid, status, options);
    while (r < 0 && errno == EINTR);
    return r;
}

#define PIPE_DEFAULT_SIZE ((size_t)64 * 1024)

#if defined(ST_HAVE_F_SETPIPE_SZ)
/* /proc/sys/fs/pipe-max-size, read once: 0 when unknown. */
static size_t pipe_max_size(void)
{
    static _Atomic size_t cached; /* 0: not read yet; 1: unreadable */
    size_t v = cached;
    if (v == 0) {
        v = 1;
        int fd = st__open_cloexec(AT_FDCWD, "/proc/sys/fs/pipe-max-size", O_RDONLY, 0);
        char buf[32];
        ssize_t n = fd >= 0 ? st__read_retry(fd, buf, sizeof buf - 1) : -1;
        if (fd >= 0)
            close(fd);
        if (n > 0) {
            buf[n] = '\0';
            unsigned long long m = strtoull(buf, NULL, 10);
            if (m > 1 && m <= INT_MAX)
                v = (size_t)m;
        }
        cached = v;
    }
    return v == 1 ? 0 : v;
}
#endif

size_t st__pipe_widen(int fd, size_t want)
{
#if defined(ST_HAVE_F_SETPIPE_SZ)
    if (want > INT_MAX)
        want = INT_MAX;
    int r = fcntl(fd, F_SETPIPE_SZ, (int)want);
    if (r < 0 && errno == EPERM) {
        size_t max = pipe_max_size();
        if (max && max < want)
            r = fcntl(fd, F_SETPIPE_SZ, (int)max);
    }
    if (r < 0)
        r = fcntl(fd, F_GETPIPE_SZ);
    return r > 0 ? (size_t)r : PIPE_DEFAULT_SIZE;
#else
    (void)fd;
    (void)want;
    return PIPE_DEFAULT_SIZE;
#endif
}

/* Set once the kernel (or valgrind) said ENOSYS, and by the test hook: no more attempts. */
static _Atomic int pidfd_missing;

void st__pidfd_disable(int off) { pidfd_missing = off; }

int st__pidfd_open(pid_t pid)
{
#if defined(ST_HAVE_SYS_PIDFD_OPEN)
    if (!pidfd_missing) {
        int fd = (int)syscall(SYS_pidfd_open, pid, 0); /* pidfds are born close-on-exec */
        if (fd >= 0 || errno != ENOSYS)
            return fd;
        pidfd_missing = 1;
    }
    errno = ENOSYS;
    return -1;
#else
    (void)pid;
    errno = ENOSYS;
    return -1;
#endif
}

int st__pidfd_send_signal(int pidfd, int sig)
{
#if defined(ST_HAVE_SYS_PIDFD_SEND_SIGNAL)
    return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
#else
    (void)pidfd;
    (void)sig;
    errno = ENOSYS;
    return -1;
#endif
}

char **st__environ(void)
{
#if defined(ST_HAVE_NSGETENVIRON)
    return *_NSGetEnviron();
#else
    return environ;
#endif
}

/* ---- time ------------------------------------------------------------------------------------ */

double st__monotonic(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double st__deadline(double timeout) { return timeout < 0 ? -1.0 : st__monotonic() + timeout; }

int st__deadline_ms(double deadline)
{
    if (deadline < 0)
        return -1;
    double left = (deadline - st__monotonic()) * 1000.0;
    if (left <= 0)
        return 0;
    return left > 86400000.0 ? 86400000 : (int)ceil(left);
}

/* ---- futexes --------------------------------------------------------------------------------- */

#if defined(ST_HAVE_FUTEX)
/* SYS_futex takes the kernel's own timespec: two longs on every ABI the configure check lets
 * through, whereas a struct timespec built with _TIME_BITS=64 on a 32-bit system is wider.
 * Monotonic seconds fit a long for decades of uptime (the queue caps its timeouts). */
struct futex_time {
    long tv_sec, tv_nsec;
};

int st__futex_wait(_Atomic unsigned *word, unsigned expected, const struct timespec *deadline)
{
    struct futex_time t, *tp = NULL;
    if (deadline) {
        t.tv_sec = (long)deadline->tv_sec;
        t.tv_nsec = deadline->tv_nsec;
        tp = &t;
    }
    /* WAIT_BITSET: the timeout is absolute, on CLOCK_MONOTONIC, so waiting again after an
     * interruption needs no arithmetic. */
    if (syscall(SYS_futex, word, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, expected, tp, NULL,
                FUTEX_BITSET_MATCH_ANY) == 0)
        return 0;
    return errno == ETIMEDOUT ? ETIMEDOUT : 0; /* EAGAIN (changed), EINTR: look again */
}

void st__futex_wake(_Atomic unsigned *word, int n)
{
    syscall(SYS_futex, word, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, n, NULL, NULL, 0);
}
#endif

/* ---- SIGPIPE --------------------------------------------------------------------------------- */

static void sigpipe_set(sigset_t *s)
{
    sigemptyset(s);
    sigaddset(s, SIGPIPE);
}

void st__sigpipe_block(st__sigpipe_guard *g)
{
    sigset_t pipe_set, old, pending;
    sigpipe_set(&pipe_set);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    g->was_blocked = sigismember(&old, SIGPIPE) == 1;
    g->was_pending = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
}

void st__sigpipe_release(const st__sigpipe_guard *g, int epipe)
{
    if (g->was_blocked)
        return; /* the caller's to handle, pending or not */
    sigset_t pipe_set;
    sigpipe_set(&pipe_set);
    if (epipe && !g->was_pending) {
        /* Take the one we raised, which is pending on this thread since it is blocked here. */
#if defined(ST_HAVE_SIGTIMEDWAIT)
        static const struct timespec zero = {0, 0};
        while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
            ;
#else
        /* sigwait() takes a pending signal without waiting; sigpending() first, so it never
         * waits for one that is not there. */
        sigset_t pending;
        int sig;
        if (sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1)
            sigwait(&pipe_set, &sig);
#endif
    }
    pthread_sigmask(SIG_UNBLOCK, &pipe_set, NULL);
}

/* ---- directories ----------------------------------------------------------------------------- */

char *st__getcwd(void)
{
    for (size_t cap = 256;; cap *= 2) {
        char *buf = malloc(cap);
        if (!buf)
            return NULL; /* errno is ENOMEM */
        if (getcwd(buf, cap))
            return buf;
        int e = errno;
        free(buf);
        /* ENAMETOOLONG may also mean the path is too long for the kernel at any size: a bound
         * stops the growth there, with that error. */
        int short_buffer = e == ERANGE || (e == ENAMETOOLONG && cap < ((size_t)1 << 20));
        if (!short_buffer || cap > SIZE_MAX / 2) {
            errno = e;
            return NULL;
        }
    }
}

static int g_dir_fault_calls, g_dir_fault_err;

/* The test hook: 1 with errno set when this call is the one to fail. */
static int dir_fault(void)
{
    if (!g_dir_fault_err)
        return 0;
    if (g_dir_fault_calls-- > 0)
        return 0;
    errno = g_dir_fault_err;
    g_dir_fault_err = 0;
    return 1;
}

void st__dir_inject_error(int calls, int err)
{
    g_dir_fault_calls = calls;
    g_dir_fault_err = err;
}

struct dirent *st__readdir(DIR *d)
{
    if (dir_fault())
        return NULL;
    errno = 0;
    return readdir(d);
}

#if defined(ST_HAVE_SYS_GETDENTS64)
long st__getdents64(int fd, void *buf, size_t n)
{
    if (dir_fault())
        return -1;
    return syscall(SYS_getdents64, fd, buf, n);
}
#endif
