/* os: lock files (O_CREAT|O_EXCL) and advisory fcntl/flock locks. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal/error.h"
#include "internal/mem.h"
#include "internal/os.h"
#include "st_config.h"
#include "systools/os.h"
#if defined(ST_HAVE_FLOCK)
#include <sys/file.h>
#endif

struct st_os_lockfile {
    char *path;
    char *owner; /* what we wrote; NULL once released */
    dev_t dev;   /* the file we created: release must not remove someone else's; the content */
    ino_t ino;   /* check covers a freed inode number that the filesystem handed out again */
};

/* "<pid> <hostname>\n": what the owner writes, so a waiter can tell a dead owner on this host. */
static char *owner_line(void)
{
    st__buf host = ST__BUF_INIT;
    for (size_t cap = 64;; cap *= 2) {
        st__buf_free(&host);
        if (st__buf_reserve(&host, cap) < 0)
            return NULL;
        if (gethostname(host.data, cap) == 0 && memchr(host.data, '\0', cap))
            break;
        if (cap > 65536) {
            strcpy(host.data, "?");
            break;
        }
    }
    char *line = st__asprintf("%ld %s\n", (long)getpid(), host.data);
    st__buf_free(&host);
    return line;
}

/* 1 when the lock at path was left by a dead process of this host and has been removed (or is
 * already gone), 0 when it must be respected. Never raises. */
static int break_stale(const char *path, const char *mine)
{
    int fd = st__open_cloexec(AT_FDCWD, path, O_RDONLY | O_NOFOLLOW, 0);
    if (fd < 0)
        return errno == ENOENT;
    st__buf b = ST__BUF_INIT;
    struct stat held, now;
    int stale = 0;
    if (st__read_to_buf(fd, &b) == 0 && fstat(fd, &held) == 0 && b.len &&
        strlen(b.data) == b.len) {
        char *end;
        long pid = strtol(b.data, &end, 10);
        const char *host = strchr(mine, ' ') + 1;
        /* Ours names this host after the pid; a bare pid (blanks around it allowed, as pidfiles
         * and HDB-style "%10d\n" lock files have them) is taken to be of this host too, as
         * the tools that write it assume. */
        int this_host = end != b.data && (*end == ' ' && !strcmp(end + 1, host));
        int bare = end != b.data && end[strspn(end, " \t\r\n")] == '\0';
        /* A pid that pid_t cannot hold is no process of ours: never truncated into one. */
        stale = pid > 0 && (long)(pid_t)pid == pid && (this_host || bare) &&
                kill((pid_t)pid, 0) < 0 && errno == ESRCH;
        /* Only unlink the very file judged: another waiter may have replaced it meanwhile. */
        if (stale && lstat(path, &now) == 0 && now.st_dev == held.st_dev && now.st_ino == held.st_ino)
            unlink(path);
    }
    st__buf_free(&b);
    close(fd);
    return stale;
}

st_os_lockfile *st_os_lockfile_acquire(const char *path, double timeout)
{
    char *mine = owner_line();
    if (!mine)
        return (ST_TRACE(), NULL);
    double deadline = st__monotonic() + timeout;
    long delay_ns = 1000000; /* 1 ms, doubling up to 100 ms */
    for (;;) {
        int fd = st__open_cloexec(AT_FDCWD, path, O_WRONLY | O_CREAT | O_EXCL, 0644);
        if (fd >= 0) {
            struct stat st;
            int ok = st__write_full(fd, mine, strlen(mine)) == 0 && fstat(fd, &st) == 0;
            int e = errno;
            close(fd);
            st_os_lockfile *lock = ok ? st__calloc(1, sizeof *lock) : NULL;
            if (lock && (lock->path = st__strdup(path)) != NULL) {
                lock->dev = st.st_dev;
                lock->ino = st.st_ino;
                lock->owner = mine;
                return lock;
            }
            unlink(path);
            st_free(lock);
            st_free(mine);
            if (!ok)
                return (ST_RAISE_OS(e, "cannot write lock file '%s'", path), NULL);
            return (ST_TRACE(), NULL);
        }
        if (errno != EEXIST) {
            int e = errno;
            st_free(mine);
            return (ST_RAISE_OS(e, "cannot create lock file '%s'", path), NULL);
        }
        if (break_stale(path, mine))
            continue;
        if (timeout >= 0 && st__monotonic() >= deadline) {
            st_free(mine);
            return (ST_RAISE(ST_ETIMEOUT, "timed out waiting for lock file '%s'", path), NULL);
        }
        struct timespec ts = {0, delay_ns};
        nanosleep(&ts, NULL);
        if (delay_ns < 100000000)
            delay_ns *= 2;
    }
}

/* Removes the lock file if it is still the one we wrote (same inode and content) and marks the
 * handle released either way. Raises nothing, so st_os_lockfile_free() leaves the thread's error
 * alone: 0 removed, 1 no longer ours, -1 with errno when it cannot be read or removed. */
static int drop(st_os_lockfile *lock)
{
    int rc = -1, e = 0;
    int fd = st__open_cloexec(AT_FDCWD, lock->path, O_RDONLY | O_NOFOLLOW, 0);
    if (fd < 0) {
        e = errno;
    } else {
        /* Ours holds exactly the owner line; compared chunk by chunk, without allocating. */
        size_t want = strlen(lock->owner), got = 0;
        int same = 1;
        char buf[256];
        ssize_t n = 0;
        while (same && (n = st__read_retry(fd, buf, sizeof buf)) > 0) {
            same = got + (size_t)n <= want && !memcmp(buf, lock->owner + got, (size_t)n);
            got += (size_t)n;
        }
        struct stat st;
        if (n < 0 || fstat(fd, &st) < 0) {
            e = errno;
        } else {
            int ours = same && got == want && st.st_dev == lock->dev && st.st_ino == lock->ino;
            rc = !ours ? 1 : unlink(lock->path) < 0 ? -1 : 0;
            e = errno;
        }
        close(fd);
    }
    st_free(lock->owner);
    lock->owner = NULL;
    errno = e;
    return rc;
}

int st_os_lockfile_release(st_os_lockfile *lock)
{
    if (!lock || !lock->owner)
        return 0;
    int rc = drop(lock);
    if (rc > 0)
        return ST_RAISE(ST_ESTATE, "lock file '%s' is no longer ours (it was removed or replaced)", lock->path);
    if (rc < 0)
        return ST_RAISE_OS(errno, "cannot remove lock file '%s'", lock->path);
    return 0;
}

int st_os_lockfile_held(const st_os_lockfile *lock)
{
    if (!lock)
        return ST_RAISE(ST_EVALUE, "lock is NULL");
    return lock->owner != NULL;
}

void st_os_lockfile_free(st_os_lockfile *lock)
{
    if (!lock)
        return;
    if (lock->owner)
        (void)drop(lock); /* documented: release first to learn of a failure */
    st_free(lock->path);
    st_free(lock);
}

int st_os_lockf(int fd, int cmd, int64_t len, int64_t start, int whence)
{
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    int kind = cmd & ~ST_OS_LOCK_NB;
    if (kind == ST_OS_LOCK_UN)
        fl.l_type = F_UNLCK;
    else if (kind == ST_OS_LOCK_SH)
        fl.l_type = F_RDLCK;
    else if (kind == ST_OS_LOCK_EX)
        fl.l_type = F_WRLCK;
    else
        return ST_RAISE(ST_EVALUE, "unrecognized lockf argument");
    fl.l_start = (off_t)start; /* off_t is 64 bits (posix.c) */
    fl.l_len = (off_t)len;
    fl.l_whence = (short)whence;
    int op = (cmd & ST_OS_LOCK_NB) ? F_SETLK : F_SETLKW;
    int r;
    do
        r = fcntl(fd, op, &fl);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return ST_RAISE_OS(errno, "cannot lock descriptor %d", fd);
    return 0;
}

int st_os_flock(int fd, int op)
{
#if defined(ST_HAVE_FLOCK)
    int kind = op & ~ST_OS_LOCK_NB, how;
    if (kind == ST_OS_LOCK_UN)
        how = LOCK_UN;
    else if (kind == ST_OS_LOCK_SH)
        how = LOCK_SH;
    else if (kind == ST_OS_LOCK_EX)
        how = LOCK_EX;
    else
        return ST_RAISE(ST_EVALUE, "unrecognized flock argument");
    if (op & ST_OS_LOCK_NB)
        how |= LOCK_NB;
    int r;
    do
        r = flock(fd, how);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return ST_RAISE_OS(errno, "cannot lock descriptor %d", fd);
    return 0;
#else
    (void)fd;
    (void)op;
    return ST_RAISE(ST_ENOTSUP, "flock() is not available on this system");
#endif
}
