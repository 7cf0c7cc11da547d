/* os: stat and file processing (remove, rename, link, chmod, mkdir, makedirs, ...). */
#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal/error.h"
#include "internal/mem.h"
#include "internal/os.h"
#include "st_config.h"
#include "systools/os.h"

/* ---- stat ------------------------------------------------------------------------------------ */

/* A time in nanoseconds, saturated past the int64_t range (before 1678 or after 2262, which a
 * file system may store): Python's integer is exact there, ours stays ordered and defined. */
static int64_t ts_ns(struct timespec t)
{
    const int64_t lim = INT64_MAX / 1000000000 - 1;
    if ((int64_t)t.tv_sec > lim || (int64_t)t.tv_sec < -lim)
        return t.tv_sec > 0 ? INT64_MAX : INT64_MIN;
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* A stat time x (a, m or c) in nanoseconds: from POSIX 2008's st_xtim, macOS's st_xtimespec, or
 * else the whole seconds of st_xtime. */
#if defined(ST_HAVE_STRUCT_STAT_ST_MTIM)
#define ST__STAT_NS(s, x) ts_ns((s)->st_##x##tim)
#elif defined(ST_HAVE_STRUCT_STAT_ST_MTIMESPEC)
#define ST__STAT_NS(s, x) ts_ns((s)->st_##x##timespec)
#else
#define ST__STAT_NS(s, x) ts_ns((struct timespec){(s)->st_##x##time, 0})
#endif

void st__stat_convert(const struct stat *in, st_os_stat_result *out)
{
    out->st_mode = (uint32_t)in->st_mode;
    out->st_ino = (uint64_t)in->st_ino;
    out->st_dev = (uint64_t)in->st_dev;
    out->st_nlink = (uint64_t)in->st_nlink;
    out->st_uid = (uint32_t)in->st_uid;
    out->st_gid = (uint32_t)in->st_gid;
    out->st_size = (int64_t)in->st_size;
    out->st_atime_ns = ST__STAT_NS(in, a);
    out->st_mtime_ns = ST__STAT_NS(in, m);
    out->st_ctime_ns = ST__STAT_NS(in, c);
    out->st_blocks = (int64_t)in->st_blocks;
    out->st_blksize = (int64_t)in->st_blksize;
    out->st_rdev = (uint64_t)in->st_rdev;
}

double st__stat_float_time(int64_t ns)
{
    int64_t sec = ns / 1000000000, rem = ns % 1000000000;
    if (rem < 0) { /* floor division, as the kernel's (sec, nsec) pair has it */
        rem += 1000000000;
        sec--;
    }
    return (double)sec + (double)rem * 1e-9;
}

int st_os_stat(const char *path, st_os_stat_result *out)
{
    struct stat s;
    if (stat(path, &s) < 0)
        return ST_RAISE_OS(errno, "cannot stat '%s'", path);
    st__stat_convert(&s, out);
    return 0;
}

int st_os_lstat(const char *path, st_os_stat_result *out)
{
    struct stat s;
    if (lstat(path, &s) < 0)
        return ST_RAISE_OS(errno, "cannot lstat '%s'", path);
    st__stat_convert(&s, out);
    return 0;
}

int st_os_fstat(int fd, st_os_stat_result *out)
{
    struct stat s;
    if (fstat(fd, &s) < 0)
        return ST_RAISE_OS(errno, "cannot stat descriptor %d", fd);
    st__stat_convert(&s, out);
    return 0;
}

/* ---- paths ----------------------------------------------------------------------------------- */

char *st__path_join(const char *dir, const char *name)
{
    size_t n = strlen(dir);
    if (n == 0 || dir[n - 1] == '/')
        return st__asprintf("%s%s", dir, name);
    return st__asprintf("%s/%s", dir, name);
}

/* Python's os.path.split(): the length of the head (trailing slashes dropped unless the head is
 * all slashes) and where the tail starts. */
static void path_split(const char *p, size_t len, size_t *head_len, size_t *tail_start)
{
    size_t i = len;
    while (i > 0 && p[i - 1] != '/')
        i--;
    *tail_start = i;
    size_t h = i;
    while (h > 0 && p[h - 1] == '/')
        h--;
    *head_len = h ? h : i; /* "/x" -> head "/" */
}

/* ---- file processing --------------------------------------------------------------------------- */

int st_os_remove(const char *path)
{
    if (unlink(path) < 0)
        return ST_RAISE_OS(errno, "cannot remove '%s'", path);
    return 0;
}

int st_os_unlink(const char *path) { return st_os_remove(path) < 0 ? ST_TRACE() : 0; }

int st_os_rename(const char *src, const char *dst)
{
    if (rename(src, dst) < 0)
        return ST_RAISE_OS(errno, "cannot rename '%s' to '%s'", src, dst);
    return 0;
}

int st_os_replace(const char *src, const char *dst)
{
    /* POSIX rename() already replaces atomically; Python's replace differs only on Windows. */
    return st_os_rename(src, dst) < 0 ? ST_TRACE() : 0;
}

int st_os_link(const char *src, const char *dst)
{
    if (link(src, dst) < 0)
        return ST_RAISE_OS(errno, "cannot link '%s' to '%s'", dst, src);
    return 0;
}

int st_os_symlink(const char *src, const char *dst)
{
    if (symlink(src, dst) < 0)
        return ST_RAISE_OS(errno, "cannot create symlink '%s' -> '%s'", dst, src);
    return 0;
}

char *st__readlink(const char *path, int *err)
{
    *err = 0;
    for (size_t cap = 128;; cap *= 2) {
        char *buf = st__malloc(cap);
        if (!buf)
            return NULL;
        ssize_t n = readlink(path, buf, cap);
        if (n < 0) {
            *err = errno;
            st_free(buf);
            return NULL;
        }
        if ((size_t)n < cap) {
            buf[n] = '\0';
            return buf;
        }
        st_free(buf);
        if (cap > SIZE_MAX / 2)
            return (ST_RAISE_NOMEM(), NULL);
    }
}

char *st_os_readlink(const char *path)
{
    int err;
    char *target = st__readlink(path, &err);
    if (!target && err)
        return (ST_RAISE_OS(err, "cannot read link '%s'", path), NULL);
    return target ? target : (ST_TRACE(), NULL);
}

int st_os_chmod(const char *path, mode_t mode)
{
    if (chmod(path, mode) < 0)
        return ST_RAISE_OS(errno, "cannot chmod '%s'", path);
    return 0;
}

int st_os_chown(const char *path, uid_t uid, gid_t gid)
{
    if (chown(path, uid, gid) < 0)
        return ST_RAISE_OS(errno, "cannot chown '%s'", path);
    return 0;
}

int st_os_access(const char *path, int mode) { return access(path, mode) == 0; }

int st_os_truncate(const char *path, int64_t length)
{
    int r;
    do
        r = truncate(path, (off_t)length); /* off_t is 64 bits (posix.c) */
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return ST_RAISE_OS(errno, "cannot truncate '%s'", path);
    return 0;
}

int st_os_utime(const char *path, const int64_t ns[2])
{
    struct timespec ts[2];
    for (int i = 0; ns && i < 2; i++) {
        /* Floor division, as Python splits negative nanoseconds. */
        int64_t sec = ns[i] / 1000000000, rem = ns[i] % 1000000000;
        if (rem < 0) {
            rem += 1000000000;
            sec--;
        }
        ts[i].tv_sec = (time_t)sec;
        ts[i].tv_nsec = (long)rem;
        if ((int64_t)ts[i].tv_sec != sec) /* a 32-bit time_t (no _TIME_BITS=64 in this libc) */
            return ST_RAISE(ST_EOVERFLOW, "timestamp out of range for platform time_t");
    }
    if (utimensat(AT_FDCWD, path, ns ? ts : NULL, 0) < 0)
        return ST_RAISE_OS(errno, "cannot set the times of '%s'", path);
    return 0;
}

int st_os_mkdir(const char *path, mode_t mode)
{
    if (mkdir(path, mode) < 0)
        return ST_RAISE_OS(errno, "cannot create directory '%s'", path);
    return 0;
}

int st_os_rmdir(const char *path)
{
    if (rmdir(path) < 0)
        return ST_RAISE_OS(errno, "cannot remove directory '%s'", path);
    return 0;
}

static int is_dir(const char *path)
{
    struct stat s;
    return stat(path, &s) == 0 && S_ISDIR(s.st_mode);
}

/* Python's os.path.split() on p[0:*len], keeping Python's retry for an empty tail ("a/b/"):
 * afterwards the head is p[0:*head], the tail p[*tail:*len] (empty when *tail == *len). */
static void split_dir(const char *p, size_t *len, size_t *head, size_t *tail)
{
    path_split(p, *len, head, tail);
    if (*tail == *len) {
        *len = *head;
        path_split(p, *len, head, tail);
    }
}

/* Python's makedirs recursion unrolled: collect the missing prefixes by splitting until a head
 * exists, then create them outermost first. */
int st_os_makedirs(const char *path, mode_t mode, int exist_ok)
{
    char *p = st__strdup(path);
    if (!p)
        return ST_TRACE();
    size_t *ends = NULL, n = 0, cap = 0; /* lengths of the prefixes to create, leaf first */
    int rc = 0;
    size_t cur = strlen(p);
    for (;;) {
        if (n == cap) {
            size_t *bigger = st__grow(ends, &cap, sizeof *ends, 8);
            if (!bigger) {
                rc = ST_TRACE();
                goto out;
            }
            ends = bigger;
        }
        ends[n++] = cur;
        size_t end = cur, head, tail;
        split_dir(p, &end, &head, &tail);
        if (!head || tail == end)
            break;
        char saved = p[head];
        p[head] = '\0';
        int exists = access(p, F_OK) == 0;
        p[head] = saved;
        if (exists)
            break;
        cur = head;
    }
    for (size_t i = n; i-- > 0;) {
        char saved = p[ends[i]];
        p[ends[i]] = '\0';
        const char *base = strrchr(p, '/');
        base = base ? base + 1 : p;
        /* Python returns without mkdir when the tail is "." and its head was just created. */
        if (!(i + 1 < n && !strcmp(base, ".")) && mkdir(p, i == 0 ? mode : 0777) < 0) {
            int e = errno;
            /* An existing parent is fine (Python ignores FileExistsError from its recursion);
             * an existing leaf only with exist_ok when it is a directory. */
            if (!(e == EEXIST && (i > 0 || (exist_ok && is_dir(p))))) {
                rc = ST_RAISE_OS(e, "cannot create directory '%s'", p);
                goto out;
            }
        }
        p[ends[i]] = saved;
    }
out:
    st_free(ends);
    st_free(p);
    return rc;
}

int st_os_removedirs(const char *path)
{
    if (st_os_rmdir(path) < 0)
        return ST_TRACE();
    char *p = st__strdup(path);
    if (!p)
        return ST_TRACE();
    size_t len = strlen(p), head, tail;
    split_dir(p, &len, &head, &tail);
    while (head && tail < len) {
        p[head] = '\0';
        if (rmdir(p) < 0)
            break;
        len = head;
        split_dir(p, &len, &head, &tail);
    }
    st_free(p);
    return 0;
}
