/* Internal: the POSIX primitives every module uses, written once (lib/posix.c): reads and writes
 * retried on EINTR, descriptors born close-on-exec, the monotonic clock and deadlines, futexes,
 * the SIGPIPE guard, getcwd of any length and a readdir that tells an error from the end. They
 * raise nothing: they return -1 (or NULL) with errno set, and the caller words the error. What
 * lib/config.h.in finds decides how each is done; every one works without the optional calls. */
#ifndef ST_INTERNAL_POSIX_H
#define ST_INTERNAL_POSIX_H

#include <dirent.h>
#include <signal.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

/* ---- descriptors: async-signal-safe (usable in a vfork child) ------------------------------- */

/* One read(2), retried on EINTR. */
ssize_t st__read_retry(int fd, void *buf, size_t n);
/* Writes all n bytes (short writes and EINTR handled): 0, or -1 with errno. */
int st__write_full(int fd, const void *buf, size_t n);
/* Sets (on != 0) or clears FD_CLOEXEC: 0 or -1. */
int st__set_cloexec(int fd, int on);
/* openat(2) (dirfd AT_FDCWD: open) with O_CLOEXEC added, retried on EINTR: the descriptor or -1.
 * Where the flag is missing, FD_CLOEXEC is set after the call, and each fallback below has the
 * same window: a fork+exec in another thread at that moment inherits the descriptor. */
int st__open_cloexec(int dirfd, const char *path, int flags, mode_t mode);
/* A pipe with both ends close-on-exec (pipe2 where available): 0 or -1. */
int st__pipe_cloexec(int fds[2]);
/* socketpair(2) with both ends close-on-exec: 0 or -1. */
int st__socketpair_cloexec(int domain, int type, int fds[2]);
/* The lowest free descriptor duplicating fd, close-on-exec: the descriptor or -1. */
int st__dup_cloexec(int fd);
/* dup2(fd, fd2), then fd2 is close-on-exec unless inheritable; fd == fd2 is allowed (as dup2 and
 * Python's os.dup2 allow it, dup3 does not). Retried on EINTR: fd2 or -1. */
int st__dup2_cloexec(int fd, int fd2, int inheritable);
/* waitpid(2) retried on EINTR. */
pid_t st__waitpid_retry(pid_t pid, int *status, int options);

/* A pipe widened towards `want` bytes (F_SETPIPE_SZ) for a bulk transfer, best effort: past
 * /proc/sys/fs/pipe-max-size (EPERM for an unprivileged process) it asks for that maximum
 * instead, and past the user's pipe quota the pipe quietly stays as it is. Returns the size the
 * pipe has afterwards (the system's default, 64 KiB, where the size cannot be read). */
size_t st__pipe_widen(int fd, size_t want);

/* ---- children: pidfds where the system has them ------------------------------------------- */

/* A pidfd for our child pid (close-on-exec), or -1 with errno (ENOSYS where there are none,
 * also when the kernel or a tool such as valgrind refuses the call). */
int st__pidfd_open(pid_t pid);
/* Test hook: off non-zero makes st__pidfd_open() fail with ENOSYS, as on a system without
 * pidfds (0 tries again). */
void st__pidfd_disable(int off);
/* Sends sig through a pidfd: 0, or -1 with errno (ESRCH once the child has ended). */
int st__pidfd_send_signal(int pidfd, int sig);

/* The process's environment array: environ, or _NSGetEnviron() where a shared library cannot
 * link environ (macOS). Async-signal-safe. */
char **st__environ(void);

/* ---- time ---------------------------------------------------------------------------------- */

/* Seconds on CLOCK_MONOTONIC: deadlines that do not jump with the wall clock. */
double st__monotonic(void);
/* The monotonic deadline `timeout` seconds from now; -1 (none) for a negative timeout. */
double st__deadline(double timeout);
/* poll()'s timeout until the deadline: -1 for none, 0 once it has passed, else milliseconds
 * rounded up (so a poll never returns early and spins) and capped at a day. */
int st__deadline_ms(double deadline);

/* ---- futexes: sleeping on a word (only where ST_HAVE_FUTEX; elsewhere not defined) ------- */

/* Sleeps while *word still holds `expected` (compared by the kernel as it queues the thread, so
 * a change made before that, with a wake-up or without, is never missed), until a wake-up or
 * the absolute CLOCK_MONOTONIC `deadline` (NULL: none). Returns ETIMEDOUT at the deadline, else
 * 0: woken, changed already, or interrupted; the caller looks again either way. Private to the
 * process. */
int st__futex_wait(_Atomic unsigned *word, unsigned expected, const struct timespec *deadline);
/* Wakes up to n threads asleep on word (INT_MAX: all). */
void st__futex_wake(_Atomic unsigned *word, int n);

/* ---- SIGPIPE ------------------------------------------------------------------------------- */

/* A write to a pipe whose reader is gone raises SIGPIPE, which kills a process that did not ask
 * for it: the guard blocks it in the calling thread around such writes, and discards only the
 * one those writes caused. The process's handlers, other threads and the rest of the caller's
 * mask are never touched; a SIGPIPE the caller had blocked, or that was already pending, stays
 * pending as it was. */
typedef struct st__sigpipe_guard {
    int was_blocked, was_pending;
} st__sigpipe_guard;

void st__sigpipe_block(st__sigpipe_guard *g);
/* Ends the guard; `epipe` says a write under it failed with EPIPE (so this thread raised one). */
void st__sigpipe_release(const st__sigpipe_guard *g, int epipe);

/* ---- directories --------------------------------------------------------------------------- */

/* getcwd(3) of any length, in a buffer the caller frees with st_free(): NULL with errno on
 * failure (ENOMEM included). Grows the buffer on ERANGE, and on ENAMETOOLONG too, which some C
 * libraries say for a short buffer. */
char *st__getcwd(void);

/* readdir(3) that clears errno first: NULL with errno 0 is the end, NULL with errno set an
 * error (EOVERFLOW, EIO, ...), which callers must report and never take for the end. */
struct dirent *st__readdir(DIR *d);

/* The raw getdents64 system call where it exists (ST_HAVE_SYS_GETDENTS64): bytes read, 0 at the
 * end, -1 with errno. Not async-signal-safe: it honours the test hook below. */
long st__getdents64(int fd, void *buf, size_t n);

/* Test hook: after `calls` more successful st__readdir()/st__getdents64() calls, the next one
 * fails with `err` (0 turns the hook off). Not thread-safe: for single-threaded tests only. */
void st__dir_inject_error(int calls, int err);

#endif
