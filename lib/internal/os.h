/* Internal: descriptor and process helpers shared by the os module and later ones (subprocess). */
#ifndef ST_INTERNAL_OS_H
#define ST_INTERNAL_OS_H

#include <dirent.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "mem.h"
#include "systools/os.h"

/* readdir()'s d_type, where the system has it (not POSIX); elsewhere every entry reads as
 * DT_UNKNOWN and is stat()ed. */
#ifdef DT_UNKNOWN
#define ST__DIRENT_TYPE(d) ((d)->d_type)
#else
#define DT_UNKNOWN 0
#define DT_FIFO 1
#define DT_CHR 2
#define DT_DIR 4
#define DT_BLK 6
#define DT_REG 8
#define DT_LNK 10
#define DT_SOCK 12
#define ST__DIRENT_TYPE(d) DT_UNKNOWN
#endif

/* ---- errno-style helpers: no error raised, errno set; async-signal-safe (usable after fork) -- */

/* One read(2), retried on EINTR. */
ssize_t st__read_retry(int fd, void *buf, size_t n);
/* Writes all n bytes (partial writes and EINTR handled); 0, or -1 with errno. */
int st__write_full(int fd, const void *buf, size_t n);
/* A pipe with both ends close-on-exec (pipe2 where available); 0 or -1 with errno. */
int st__pipe_cloexec(int fds[2]);
/* Sets (on != 0) or clears FD_CLOEXEC; 0 or -1 with errno. */
int st__set_cloexec(int fd, int on);
/* waitpid(2) retried on EINTR. */
pid_t st__waitpid_retry(pid_t pid, int *status, int options);

/* ---- raising helpers ---------------------------------------------------------------------- */

/* readlink(2) of any length, NUL-terminated (caller frees). A failing readlink() sets *err to
 * its errno and raises nothing (callers word the error, or ignore it); running out of memory
 * raises ST_ENOMEM and sets *err to 0. */
char *st__readlink(const char *path, int *err);

/* Appends everything readable from fd until EOF to out; raises ST_EOS / ST_ENOMEM. */
int st__read_to_buf(int fd, st__buf *out);

/* struct stat -> Python's stat_result. */
void st__stat_convert(const struct stat *in, st_os_stat_result *out);

/* Python's os.path.join(dir, name) for one component (name is relative): caller frees. */
char *st__path_join(const char *dir, const char *name);

/* The programs execvp would try for `file`, in order, with PATH taken from envp (NULL: the
 * process environment) or Python's defpath "/bin:/usr/bin"; a file containing '/' gives just
 * itself. Computed before fork so the child only calls execve(). Raises ST_ENOMEM. */
int st__exec_candidates(const char *file, const char *const envp[], st__strv *out);

/* Python's argument checks for exec*()/spawn*() ("execv() arg 2 must not be empty", ...);
 * func names the Python function in the message. */
/* exec*() take char *const[] for historical reasons only (POSIX says they never write to it). */
static inline char *const *st__exec_argv(const char *const *v)
{
    union { const char *const *in; char *const *out; } u; /* no qualifier-dropping cast */
    u.in = v;
    return u.out;
}
int st__exec_check_argv(const char *func, const char *const argv[]);

/* The S_IFMT type of directory entry `name` in the open directory dirfd: from the kernel's d_type
 * (a DT_* value) when it is known and is not a symlink to follow, else from fstatat(). st may be
 * NULL; otherwise st->st_mode is 0 when no stat was made and the stat's result when one was.
 * Returns 0 with errno set when the stat fails. */
mode_t st__dirent_type(int dirfd, const char *name, unsigned char d_type, int follow, struct stat *st);

/* The process environment, read under the library's environment lock (see st_os_getenv()). */
const char **st__environ_snapshot(void);

#endif
