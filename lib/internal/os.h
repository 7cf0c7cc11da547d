/* Internal: descriptor and file helpers shared by the os module and the modules that read files
 * (path, sys, dbm), over the primitives of posix.h. What crosses exec is in exec.h. */
#ifndef ST_INTERNAL_OS_H
#define ST_INTERNAL_OS_H

#include <dirent.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "mem.h"
#include "posix.h"
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

/* ---- raising helpers ---------------------------------------------------------------------- */

/* readlink(2) of any length, NUL-terminated (caller frees). A failing readlink() sets *err to
 * its errno and raises nothing (callers word the error, or ignore it); running out of memory
 * raises ST_ENOMEM and sets *err to 0. */
char *st__readlink(const char *path, int *err);

/* Appends everything readable from fd until EOF to out; raises ST_EOS / ST_ENOMEM. */
int st__read_to_buf(int fd, st__buf *out);

/* struct stat -> Python's stat_result. */
void st__stat_convert(const struct stat *in, st_os_stat_result *out);
/* A stat_result time as Python's float st_mtime (and friends) computes it: sec + nsec * 1e-9. */
double st__stat_float_time(int64_t ns);

/* Python's os.path.join(dir, name) for one component (name is relative): caller frees. */
char *st__path_join(const char *dir, const char *name);

/* The S_IFMT type of directory entry `name` in the open directory dirfd: from the kernel's d_type
 * (a DT_* value) when it is known and is not a symlink to follow, else from fstatat(). st may be
 * NULL; otherwise st->st_mode is 0 when no stat was made and the stat's result when one was.
 * Returns 0 with errno set when the stat fails. */
mode_t st__dirent_type(int dirfd, const char *name, unsigned char d_type, int follow, struct stat *st);

/* The process environment, read under the library's environment lock (see st_os_getenv()). */
const char **st__environ_snapshot(void);

#endif
