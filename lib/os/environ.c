/* os: the environment (os.environ) and facts about the process and the system. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "internal/error.h"
#include "internal/mem.h"
#include "internal/os.h"
#include "st_config.h"
#include "systools/os.h"
#if defined(ST_HAVE_GETRANDOM)
#include <sys/random.h>
#endif

/* ---- environment -------------------------------------------------------------------------- */

/* glibc's getenv/setenv are not safe against each other across threads; the library's own calls
 * are serialised here (see st_os_getenv() for what this does not cover). */
static pthread_mutex_t g_env_lock = PTHREAD_MUTEX_INITIALIZER;

/* Python's checks: '=' in a name is a ValueError before the C library is asked; an empty name
 * is the C library's EINVAL (OSError). unsetenv() leaves both to the C library. */
static int check_name(const char *key, int setting)
{
    if (setting && strchr(key, '='))
        return ST_RAISE(ST_EVALUE, "illegal environment variable name");
    if (!*key || strchr(key, '='))
        return ST_RAISE_OS(EINVAL, "illegal environment variable name '%s'", key);
    return 0;
}

char *st_os_getenv(const char *key, const char *default_)
{
    pthread_mutex_lock(&g_env_lock);
    const char *v = getenv(key);
    char *copy = v ? st__strdup(v) : NULL;
    pthread_mutex_unlock(&g_env_lock);
    if (v)
        return copy ? copy : (ST_TRACE(), NULL);
    if (default_)
        return st__strdup(default_);
    return (ST_RAISE(ST_EKEY, "'%s'", key), NULL);
}

int st_os_setenv(const char *key, const char *value)
{
    if (check_name(key, 1) < 0)
        return ST_TRACE();
    pthread_mutex_lock(&g_env_lock);
    int rc = setenv(key, value, 1);
    int e = errno;
    pthread_mutex_unlock(&g_env_lock);
    if (rc < 0)
        return e == ENOMEM ? ST_RAISE_NOMEM() : ST_RAISE_OS(e, "cannot set environment variable '%s'", key);
    return 0;
}

int st_os_unsetenv(const char *key)
{
    if (check_name(key, 0) < 0)
        return ST_TRACE();
    pthread_mutex_lock(&g_env_lock);
    int rc = unsetenv(key);
    int e = errno;
    pthread_mutex_unlock(&g_env_lock);
    if (rc < 0)
        return ST_RAISE_OS(e, "cannot unset environment variable '%s'", key);
    return 0;
}

int st_os_environ_contains(const char *key)
{
    pthread_mutex_lock(&g_env_lock);
    int found = getenv(key) != NULL;
    pthread_mutex_unlock(&g_env_lock);
    return found;
}

const char **st__environ_snapshot(void)
{
    pthread_mutex_lock(&g_env_lock);
    const char **v = st__strv_dup((const char *const *)st__environ());
    pthread_mutex_unlock(&g_env_lock);
    return v;
}

const char **st_os_environ(void)
{
    const char **v = st__environ_snapshot();
    return v ? v : (ST_TRACE(), NULL);
}

/* ---- process facts ---------------------------------------------------------------------------- */

pid_t st_os_getpid(void) { return getpid(); }
pid_t st_os_getppid(void) { return getppid(); }
uid_t st_os_getuid(void) { return getuid(); }
uid_t st_os_geteuid(void) { return geteuid(); }
gid_t st_os_getgid(void) { return getgid(); }
gid_t st_os_getegid(void) { return getegid(); }

char *st_os_getlogin(void)
{
    for (size_t cap = 64;; cap *= 2) {
        char *buf = st__malloc(cap);
        if (!buf)
            return (ST_TRACE(), NULL);
        int rc = getlogin_r(buf, cap);
        if (rc == 0)
            return buf;
        st_free(buf);
        if (rc != ERANGE)
            return (ST_RAISE_OS(rc, "cannot get the login name"), NULL);
    }
}

char *st_os_getcwd(void)
{
    char *cwd = st__getcwd();
    if (!cwd)
        return errno == ENOMEM ? (ST_RAISE_NOMEM(), NULL)
                               : (ST_RAISE_OS(errno, "cannot get the working directory"), NULL);
    return cwd;
}

int st_os_chdir(const char *path)
{
    if (chdir(path) < 0)
        return ST_RAISE_OS(errno, "cannot change directory to '%s'", path);
    return 0;
}

int st_os_fchdir(int fd)
{
    if (fchdir(fd) < 0)
        return ST_RAISE_OS(errno, "cannot change directory to descriptor %d", fd);
    return 0;
}

mode_t st_os_umask(mode_t mask) { return umask(mask); }

st_os_uname_result *st_os_uname(void)
{
    struct utsname u;
    if (uname(&u) < 0)
        return (ST_RAISE_OS(errno, "uname failed"), NULL);
    const char *parts[5] = {u.sysname, u.nodename, u.release, u.version, u.machine};
    size_t size = sizeof(st_os_uname_result);
    for (int i = 0; i < 5; i++)
        size += strlen(parts[i]) + 1;
    st_os_uname_result *r = st__malloc(size);
    if (!r)
        return (ST_TRACE(), NULL);
    char *w = (char *)(r + 1);
    const char **fields[5] = {&r->sysname, &r->nodename, &r->release, &r->version, &r->machine};
    for (int i = 0; i < 5; i++) {
        size_t n = strlen(parts[i]) + 1;
        memcpy(w, parts[i], n);
        *fields[i] = w;
        w += n;
    }
    return r;
}

int st_os_cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 0;
}

int st_os_process_cpu_count(void)
{
#if defined(ST_HAVE_SCHED_GETAFFINITY)
    /* The mask may be larger than cpu_set_t on big machines: grow until the kernel accepts it. */
    for (int ncpus = 1024; ncpus <= (1 << 20); ncpus *= 2) {
        size_t size = CPU_ALLOC_SIZE(ncpus);
        cpu_set_t *set = CPU_ALLOC(ncpus);
        if (!set)
            break;
        if (sched_getaffinity(0, size, set) == 0) {
            int n = CPU_COUNT_S(size, set);
            CPU_FREE(set);
            return n;
        }
        CPU_FREE(set);
        if (errno != EINVAL)
            break;
    }
#endif
    return st_os_cpu_count();
}

int st_os_urandom(void *buf, size_t n)
{
    unsigned char *p = buf;
#if defined(ST_HAVE_GETRANDOM)
    while (n) {
        ssize_t r = getrandom(p, n, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (errno == ENOSYS)
                break; /* old kernel: fall back to the device */
            return ST_RAISE_OS(errno, "getrandom failed");
        }
        p += r;
        n -= (size_t)r;
    }
    if (!n)
        return 0;
#endif
    int fd = st_os_open("/dev/urandom", O_RDONLY, 0);
    if (fd < 0)
        return ST_TRACE();
    while (n) {
        ssize_t r = st__read_retry(fd, p, n);
        if (r <= 0) {
            int e = r < 0 ? errno : EIO;
            close(fd);
            return ST_RAISE_OS(e, "cannot read '/dev/urandom'");
        }
        p += r;
        n -= (size_t)r;
    }
    close(fd);
    return 0;
}

char *st_os_strerror(int code)
{
    char buf[256];
#if defined(ST_HAVE_STRERROR_R_CHAR_P)
    const char *msg = strerror_r(code, buf, sizeof buf);
#else
    const char *msg = strerror_r(code, buf, sizeof buf) == 0 ? buf : "Unknown error";
#endif
    return st__strdup(msg);
}

int st_os_get_terminal_size(int fd, int *columns, int *lines)
{
    struct winsize ws;
    if (ioctl(fd, TIOCGWINSZ, &ws) < 0)
        return ST_RAISE_OS(errno, "cannot get the terminal size of descriptor %d", fd);
    *columns = ws.ws_col;
    *lines = ws.ws_row;
    return 0;
}

int st_os_nice(int increment, int *result)
{
    /* nice() may legitimately return -1, so errno tells failures apart. */
    errno = 0;
    int r = nice(increment);
    if (r == -1 && errno)
        return ST_RAISE_OS(errno, "cannot change the niceness by %d", increment);
    if (result)
        *result = r;
    return 0;
}
