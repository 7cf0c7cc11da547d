/* Internal: what crosses exec, shared by os (exec*, spawn*, pipe), subprocess and ipc's pipes.
 * It sits beside the core (memory.c, error.c) rather than in os or subprocess so that neither
 * reaches into the other's internals: os/process.c and subprocess.c both build on it, and
 * os/popen.c builds on subprocess's public API. */
#ifndef ST_INTERNAL_EXEC_H
#define ST_INTERNAL_EXEC_H

#include <sys/types.h>

#include "mem.h"

/* ---- errno-style helpers: no error raised, errno set; async-signal-safe (usable after fork) -- */

/* Sets (on != 0) or clears FD_CLOEXEC; 0 or -1 with errno. */
int st__set_cloexec(int fd, int on);
/* A pipe with both ends close-on-exec (pipe2 where available); 0 or -1 with errno. */
int st__pipe_cloexec(int fds[2]);
/* waitpid(2) retried on EINTR. */
pid_t st__waitpid_retry(pid_t pid, int *status, int options);

/* ---- raising helpers ---------------------------------------------------------------------- */

/* The programs execvp would try for `file`, in order, with PATH taken from envp (NULL: the
 * process environment) or Python's defpath "/bin:/usr/bin"; a file containing '/' gives just
 * itself. Computed before fork so the child only calls execve(). Raises ST_ENOMEM. */
int st__exec_candidates(const char *file, const char *const envp[], st__strv *out);

/* Python's argument checks for exec*() ("execv() arg 2 must not be empty", ...); func names the
 * Python function in the message. */
int st__exec_check_argv(const char *func, const char *const argv[]);

/* exec*() take char *const[] for historical reasons only (POSIX says they never write to it). */
static inline char *const *st__exec_argv(const char *const *v)
{
    union { const char *const *in; char *const *out; } u; /* no qualifier-dropping cast */
    u.in = v;
    return u.out;
}

#endif
