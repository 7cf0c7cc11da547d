/* Internal: what crosses exec, shared by os (exec*, spawn*) and subprocess (the descriptor and
 * waitpid primitives they use are in posix.h). It sits beside the core (memory.c, error.c)
 * rather than in os or subprocess so that neither reaches into the other's internals:
 * os/process.c and subprocess.c both build on it, and os/popen.c builds on subprocess's public
 * API. */
#ifndef ST_INTERNAL_EXEC_H
#define ST_INTERNAL_EXEC_H

#include "mem.h"

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
