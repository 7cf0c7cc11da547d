/* subprocess: spawning (posix_spawn, else vfork), communicate's poll loop, run and friends,
 * pipelines. Python's Lib/subprocess.py and Modules/_posixsubprocess.c are the specification. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal/exec.h"
#include "internal/mem.h"
#include "internal/options.h"
#include "internal/posix.h"
#include "st_config.h"
#if defined(ST_HAVE_SYS_PIDFD_OPEN) || defined(ST_HAVE_SYS_CLOSE_RANGE) || \
    defined(ST_HAVE_SYS_GETDENTS64)
#include <sys/syscall.h>
#endif
#include "systools/subprocess.h"
#include "systools/value.h"

#define SHELL "/bin/sh"

/* ---- small helpers --------------------------------------------------------------------------- */

static void close_fd(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

/* An options struct spells None as 0 (all-zero options are Python's defaults); a negative
 * value, ST_NO_TIMEOUT, means None too. */
static double options_timeout(double timeout_s)
{
    return timeout_s > 0 ? timeout_s : ST_NO_TIMEOUT;
}

/* ---- messages in Python's words -------------------------------------------------------------- */

/* How Python shows Popen.args in messages: the string itself for a shell command given as one
 * string, else the list's repr (an argument that is not UTF-8 shows as bytes, as Python shows a
 * bytes argument). Caller frees. */
static char *args_display(const char *const *args, int shell)
{
    if (shell && args[0] && !args[1])
        return st__strdup(args[0]);
    st_value *list = st_value_list();
    for (size_t i = 0; list && args[i]; i++) {
        st_value *arg = st_value_str(args[i]);
        if (!arg) {
            st_error_clear();
            arg = st_value_bytes(args[i], strlen(args[i]));
        }
        if (!arg || st_value_list_append_steal(list, arg) < 0) {
            st_value_unref(list);
            list = NULL;
        }
    }
    char *text = list ? st_value_repr(list) : NULL;
    st_value_unref(list);
    return text;
}

/* Python's repr() of a float timeout. Caller frees. */
static char *float_display(double v)
{
    st_value *f = st_value_float(v);
    char *text = f ? st_value_repr(f) : NULL;
    st_value_unref(f);
    return text;
}

/* signal.Signals' member names on this system (aliases resolve to these, as in Python). */
static const char *signal_name(int sig)
{
    static const struct {
        int sig;
        const char *name;
    } names[] = {
        {SIGHUP, "SIGHUP"},   {SIGINT, "SIGINT"},     {SIGQUIT, "SIGQUIT"}, {SIGILL, "SIGILL"},
        {SIGTRAP, "SIGTRAP"}, {SIGABRT, "SIGABRT"},   {SIGBUS, "SIGBUS"},   {SIGFPE, "SIGFPE"},
        {SIGKILL, "SIGKILL"}, {SIGUSR1, "SIGUSR1"},   {SIGSEGV, "SIGSEGV"}, {SIGUSR2, "SIGUSR2"},
        {SIGPIPE, "SIGPIPE"}, {SIGALRM, "SIGALRM"},   {SIGTERM, "SIGTERM"},
#ifdef SIGSTKFLT
        {SIGSTKFLT, "SIGSTKFLT"},
#endif
        {SIGCHLD, "SIGCHLD"}, {SIGCONT, "SIGCONT"},   {SIGSTOP, "SIGSTOP"}, {SIGTSTP, "SIGTSTP"},
        {SIGTTIN, "SIGTTIN"}, {SIGTTOU, "SIGTTOU"},   {SIGURG, "SIGURG"},   {SIGXCPU, "SIGXCPU"},
        {SIGXFSZ, "SIGXFSZ"}, {SIGVTALRM, "SIGVTALRM"}, {SIGPROF, "SIGPROF"},
#ifdef SIGWINCH
        {SIGWINCH, "SIGWINCH"},
#endif
#ifdef SIGIO
        {SIGIO, "SIGIO"},
#endif
#ifdef SIGPWR
        {SIGPWR, "SIGPWR"},
#endif
        {SIGSYS, "SIGSYS"},
#ifdef SIGEMT
        {SIGEMT, "SIGEMT"},
#endif
#ifdef SIGINFO
        {SIGINFO, "SIGINFO"},
#endif
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].sig == sig)
            return names[i].name;
#ifdef SIGRTMIN
    if (sig == SIGRTMIN)
        return "SIGRTMIN";
    if (sig == SIGRTMAX)
        return "SIGRTMAX";
#endif
    return NULL;
}

/* subprocess.CalledProcessError's str(). */
static int raise_called(const char *const *args, int shell, int returncode)
{
    char *cmd = args_display(args, shell);
    if (!cmd)
        return ST_TRACE();
    const char *name = returncode < 0 ? signal_name(-returncode) : NULL;
    if (returncode >= 0)
        ST_RAISE_AS(ST_ECALLEDPROCESS, "subprocess.CalledProcessError",
                    "Command '%s' returned non-zero exit status %d.", cmd, returncode);
    else if (name)
        ST_RAISE_AS(ST_ECALLEDPROCESS, "subprocess.CalledProcessError",
                    "Command '%s' died with <Signals.%s: %d>.", cmd, name, -returncode);
    else
        ST_RAISE_AS(ST_ECALLEDPROCESS, "subprocess.CalledProcessError",
                    "Command '%s' died with unknown signal %d.", cmd, -returncode);
    st_free(cmd);
    return -1;
}

/* subprocess.TimeoutExpired's str(). */
static int raise_timeout(const char *const *args, int shell, double timeout_s)
{
    char *cmd = args_display(args, shell);
    if (!cmd)
        return ST_TRACE();
    char *t = float_display(timeout_s);
    if (!t) {
        st_free(cmd);
        return ST_TRACE();
    }
    ST_RAISE_AS(ST_ETIMEOUT, "subprocess.TimeoutExpired", "Command '%s' timed out after %s seconds",
                cmd, t);
    st_free(t);
    st_free(cmd);
    return -1;
}

/* ---- children abandoned by st_popen_free() while running (Python's _active list) -------------- */

static pthread_mutex_t abandoned_lock = PTHREAD_MUTEX_INITIALIZER;
static pid_t *abandoned;
static size_t abandoned_len, abandoned_cap;

/* Reaps, without blocking, those that have ended since. */
static void reap_abandoned(void)
{
    pthread_mutex_lock(&abandoned_lock);
    for (size_t i = 0; i < abandoned_len;) {
        pid_t r = st__waitpid_retry(abandoned[i], NULL, WNOHANG);
        if (r == 0)
            i++;
        else
            abandoned[i] = abandoned[--abandoned_len]; /* reaped, or gone (ECHILD) */
    }
    pthread_mutex_unlock(&abandoned_lock);
}

static void abandon(pid_t pid)
{
    pthread_mutex_lock(&abandoned_lock);
    if (abandoned_len == abandoned_cap) {
        size_t cap = abandoned_cap ? abandoned_cap * 2 : 16;
        pid_t *v = realloc(abandoned, cap * sizeof *v);
        if (v) {
            abandoned = v;
            abandoned_cap = cap;
        }
    }
    /* Out of memory: the pid is forgotten and stays a zombie until the parent exits. */
    if (abandoned_len < abandoned_cap)
        abandoned[abandoned_len++] = pid;
    pthread_mutex_unlock(&abandoned_lock);
}

/* ---- the process handle ---------------------------------------------------------------------- */

struct st_popen {
    pid_t pid;
    int in, out, err;     /* parent's pipe ends, -1 when none or closed */
    int out_piped, err_piped;
    int returncode;
    int reaped;
    int shell;            /* for showing args as Python does */
    int kill_group;       /* started as its own process group: kill the group on timeout */
    const char **args;    /* the caller's argv, for messages */
    /* communicate() state kept across a timeout, as Python keeps it */
    int comm_started;
    char *pending;        /* unsent input copied at a timeout */
    const char *in_data;
    size_t in_len, in_off;
    st__buf obuf, ebuf;
};

static int returncode_of(int status)
{
    if (WIFSIGNALED(status))
        return -WTERMSIG(status);
    return WEXITSTATUS(status);
}

/* One waitpid on our own pid: 1 when it has ended (returncode set), 0 when still running. */
static int proc_reap(st_popen *p, int options)
{
    if (p->reaped)
        return 1;
    int status;
    pid_t r = st__waitpid_retry(p->pid, &status, options);
    if (r == 0)
        return 0;
    if (r < 0) {
        if (errno != ECHILD)
            return ST_RAISE_OS(errno, "cannot wait for process %ld", (long)p->pid);
        status = 0; /* reaped elsewhere (SIGCHLD ignored): Python reports 0 too */
    }
    p->returncode = returncode_of(status);
    p->reaped = 1;
    return 1;
}

/* Waits until the deadline: 1 when reaped, 0 on timeout, -1 on error. */
static int proc_wait_until(st_popen *p, double deadline)
{
    if (deadline < 0)
        return proc_reap(p, 0);
    int r = proc_reap(p, WNOHANG);
    if (r != 0)
        return r;
#if defined(ST_HAVE_SYS_PIDFD_OPEN)
    /* A pidfd becomes readable when the child ends: no polling loop, no SIGCHLD handler. */
    int pfd = (int)syscall(SYS_pidfd_open, p->pid, 0);
    if (pfd >= 0) {
        struct pollfd pf = {pfd, POLLIN, 0};
        int n;
        while ((n = poll(&pf, 1, st__deadline_ms(deadline))) < 0 && errno == EINTR)
            ;
        close(pfd);
        if (n < 0)
            return ST_RAISE_OS(errno, "cannot wait for process %ld", (long)p->pid);
        return proc_reap(p, WNOHANG);
    }
#endif
    /* Portable fallback: Python's own loop, sleeping 0.5 ms doubling up to 50 ms. */
    double delay = 0.0005;
    while ((r = proc_reap(p, WNOHANG)) == 0) {
        double left = deadline - st__monotonic();
        if (left <= 0)
            return 0;
        double d = delay < left ? delay : left;
        struct timespec ts = {(time_t)d, (long)((d - (double)(time_t)d) * 1e9)};
        nanosleep(&ts, NULL);
        delay = delay * 2 < 0.05 ? delay * 2 : 0.05;
    }
    return r;
}

/* Kills the child (its group when it leads one) and reaps it; used on timeouts and failures. */
static void proc_kill_and_reap(st_popen *p)
{
    if (!p->reaped) {
        if (!(p->kill_group && killpg(p->pid, SIGKILL) == 0))
            kill(p->pid, SIGKILL);
        (void)proc_reap(p, 0);
    }
}

/* ---- spawning -------------------------------------------------------------------------------- */

/* Everything the child needs, computed before vfork so the child only makes system calls. */
typedef struct spawn_plan {
    char *const *argv;
    char **candidates;  /* programs to try, in order (PATH search done in the parent) */
    char *const *envp;
    int src[3];         /* descriptor for the child's 0, 1, 2; -1 to inherit */
    const char *cwd;
    int umask;
    int setsid;
    pid_t pgid;
    int close_fds;
    int restore_signals;
    int *keep;          /* sorted descriptors close_fds keeps (pass_fds and the error pipe) */
    size_t nkeep;
    int errpipe;        /* write end of the CLOEXEC error pipe */
} spawn_plan;

enum stage { STAGE_DUP = 1, STAGE_CHDIR, STAGE_SETSID, STAGE_SETPGID, STAGE_CLOSE, STAGE_EXEC };

#if defined(ST_HAVE_SYS_GETDENTS64)
/* Closes every descriptor >= lo except the sorted keep list, reading /proc/self/fd with raw
 * getdents64 (no malloc, no test hook: we may be a vfork child). */
static int close_by_listing(int lo, const int *keep, size_t nkeep)
{
    int dfd = st__open_cloexec(AT_FDCWD, "/proc/self/fd", O_RDONLY | O_DIRECTORY, 0);
    if (dfd < 0)
        return -1;
    union {
        char buf[4096];
        long align;
    } u;
    long n;
    while ((n = syscall(SYS_getdents64, dfd, u.buf, sizeof u.buf)) > 0) {
        for (long off = 0; off < n;) {
            /* struct linux_dirent64: u64 ino, s64 off, u16 reclen, u8 type, char name[] */
            unsigned short reclen;
            memcpy(&reclen, u.buf + off + 16, sizeof reclen);
            const char *name = u.buf + off + 19;
            off += reclen;
            int fd = 0;
            if (*name < '0' || *name > '9')
                continue;
            for (; *name >= '0' && *name <= '9'; name++)
                fd = fd * 10 + (*name - '0');
            size_t k = 0;
            while (k < nkeep && keep[k] < fd)
                k++;
            if (fd >= lo && fd != dfd && !(k < nkeep && keep[k] == fd))
                close(fd);
        }
    }
    close(dfd);
    return n < 0 ? -1 : 0;
}
#endif

/* Closes the descriptors in [lo, hi] (hi -1: no upper bound). */
static int close_range_fds(int lo, int hi, const int *keep, size_t nkeep)
{
    if (hi >= 0 && hi < lo)
        return 0;
#if defined(ST_HAVE_CLOSE_RANGE)
    if (close_range((unsigned)lo, hi < 0 ? ~0U : (unsigned)hi, 0) == 0)
        return 0;
#elif defined(ST_HAVE_SYS_CLOSE_RANGE)
    if (syscall(SYS_close_range, (unsigned)lo, hi < 0 ? ~0U : (unsigned)hi, 0) == 0)
        return 0;
#endif
    if (hi >= 0) {
        for (int fd = lo; fd <= hi; fd++) /* bounded by a pass_fds value */
            close(fd);
        return 0;
    }
#if defined(ST_HAVE_SYS_GETDENTS64)
    return close_by_listing(lo, keep, nkeep);
#elif defined(ST_HAVE_CLOSEFROM)
    closefrom(lo);
    return 0;
#else
    long max = sysconf(_SC_OPEN_MAX);
    for (long fd = lo; fd < (max > 0 && max < 65536 ? max : 65536); fd++)
        close((int)fd);
    return 0;
#endif
}

/* Python's close_fds: everything from 3 up except the kept descriptors. */
static int close_fds_except(const int *keep, size_t nkeep)
{
    int lo = 3;
    for (size_t i = 0; i < nkeep; i++) {
        if (keep[i] < lo)
            continue;
        if (close_range_fds(lo, keep[i] - 1, keep, nkeep) < 0)
            return -1;
        lo = keep[i] + 1;
    }
    return close_range_fds(lo, -1, keep, nkeep);
}

/* The vfork child: never returns. On failure it reports errno and stage through the pipe. */
static void child_exec(const spawn_plan *pl, const sigset_t *parent_mask)
{
    int stage = STAGE_DUP;
    /* Handlers of the parent must not run in the child (they share its memory): reset them while
     * every signal is still blocked, then unblock. */
    for (int sig = 1; sig < NSIG; sig++) {
        struct sigaction sa;
        if (sigaction(sig, NULL, &sa) == 0 && sa.sa_handler != SIG_DFL &&
            sa.sa_handler != SIG_IGN) {
            sa.sa_handler = SIG_DFL;
            sa.sa_flags = 0;
            sigaction(sig, &sa, NULL);
        }
    }
    if (pl->restore_signals) {
        signal(SIGPIPE, SIG_DFL);
        signal(SIGXFSZ, SIG_DFL);
    }
    sigprocmask(SIG_SETMASK, parent_mask, NULL);

    for (int t = 0; t < 3; t++) {
        int s = pl->src[t];
        if (s < 0)
            continue;
        /* dup2() onto itself would keep CLOEXEC: clear it by hand (Python issue #10806). */
        if (s == t ? fcntl(t, F_SETFD, 0) < 0 : dup2(s, t) < 0)
            goto fail;
    }
    stage = STAGE_CHDIR;
    if (pl->cwd && chdir(pl->cwd) < 0)
        goto fail;
    if (pl->umask >= 0)
        umask((mode_t)pl->umask);
    stage = STAGE_SETSID;
    if (pl->setsid && setsid() < 0)
        goto fail;
    stage = STAGE_SETPGID;
    if (pl->pgid >= 0 && setpgid(0, pl->pgid) < 0)
        goto fail;
    stage = STAGE_CLOSE;
    for (size_t i = 0; i < pl->nkeep; i++)
        if (pl->keep[i] != pl->errpipe && fcntl(pl->keep[i], F_SETFD, 0) < 0)
            goto fail;
    if (pl->close_fds && close_fds_except(pl->keep, pl->nkeep) < 0)
        goto fail;
    stage = STAGE_EXEC;
    /* As _posixsubprocess: report the first error that is not "not found here". */
    int saved = 0;
    for (size_t i = 0; pl->candidates[i]; i++) {
        execve(pl->candidates[i], pl->argv, pl->envp);
        if (errno != ENOENT && errno != ENOTDIR && saved == 0)
            saved = errno;
    }
    if (saved)
        errno = saved;
fail:;
    int report[2] = {errno, stage};
    (void)st__write_full(pl->errpipe, report, sizeof report);
    _exit(255);
}

/* vfork + exec with the error pipe; returns the pid, or -1 with *err and *stage set. */
static pid_t spawn_vfork(spawn_plan *pl, int *err, int *stage)
{
    int ep[2];
    if (st__pipe_cloexec(ep) < 0) {
        *err = errno;
        *stage = 0;
        return -1;
    }
    pl->errpipe = ep[1];
    /* The kept list must hold the error pipe so close_fds leaves it until exec closes it. */
    size_t k = pl->nkeep;
    while (k > 0 && pl->keep[k - 1] > ep[1]) {
        pl->keep[k] = pl->keep[k - 1];
        k--;
    }
    pl->keep[k] = ep[1];
    pl->nkeep++;

    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pid_t pid = vfork();
    if (pid == 0)
        child_exec(pl, &old);
    int vfork_errno = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    close(ep[1]);
    if (pid < 0) {
        close(ep[0]);
        *err = vfork_errno;
        *stage = 0;
        return -1;
    }
    int report[2];
    size_t got = 0;
    while (got < sizeof report) {
        ssize_t n = st__read_retry(ep[0], (char *)report + got, sizeof report - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(ep[0]);
    if (got == 0)
        return pid; /* exec succeeded: the pipe closed with it */
    st__waitpid_retry(pid, NULL, 0); /* the child has _exit()ed: leave no zombie */
    *err = got == sizeof report ? report[0] : EIO;
    *stage = got == sizeof report ? report[1] : 0;
    return -1;
}

/* posix_spawn for the common case; returns the pid or -1 with *err set. */
static pid_t spawn_posix(const spawn_plan *pl, int search_path, int *err)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    int rc;
    if ((rc = posix_spawn_file_actions_init(&fa)) != 0) {
        *err = rc;
        return -1;
    }
    if ((rc = posix_spawnattr_init(&at)) != 0) {
        posix_spawn_file_actions_destroy(&fa);
        *err = rc;
        return -1;
    }
    short flags = 0;
    for (int t = 0; t < 3 && rc == 0; t++)
        if (pl->src[t] >= 0) /* onto itself: glibc clears CLOEXEC (Austin Group issue 411) */
            rc = posix_spawn_file_actions_adddup2(&fa, pl->src[t], t);
#ifdef ST_HAVE_POSIX_SPAWN_FILE_ACTIONS_ADDCLOSEFROM_NP
    if (rc == 0 && pl->close_fds)
        rc = posix_spawn_file_actions_addclosefrom_np(&fa, 3);
#endif
    if (rc == 0 && pl->restore_signals) {
        sigset_t def;
        sigemptyset(&def);
        sigaddset(&def, SIGPIPE);
        sigaddset(&def, SIGXFSZ);
        rc = posix_spawnattr_setsigdefault(&at, &def);
        flags |= POSIX_SPAWN_SETSIGDEF;
    }
#ifdef POSIX_SPAWN_SETSID
    if (pl->setsid)
        flags |= POSIX_SPAWN_SETSID;
#endif
    if (rc == 0 && pl->pgid >= 0) {
        rc = posix_spawnattr_setpgroup(&at, pl->pgid);
        flags |= POSIX_SPAWN_SETPGROUP;
    }
    if (rc == 0)
        rc = posix_spawnattr_setflags(&at, flags);
    pid_t pid = -1;
    if (rc == 0)
        rc = (search_path ? posix_spawnp : posix_spawn)(&pid, pl->candidates[0], &fa, &at,
                                                       pl->argv, pl->envp);
    posix_spawnattr_destroy(&at);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        *err = rc;
        return -1;
    }
    return pid;
}

/* Can posix_spawn do everything asked? (Then it is used: it is what glibc optimises.) */
static int posix_spawn_can(const st_popen_options *o, const char *exe, int close_fds)
{
#ifndef ST_HAVE_POSIX_SPAWN_FILE_ACTIONS_ADDCLOSEFROM_NP
    if (close_fds)
        return 0;
#endif
#ifndef POSIX_SPAWN_SETSID
    if (o->start_new_session)
        return 0;
#endif
    /* posix_spawnp searches the parent's PATH; Python searches the child's env. */
    return !o->cwd && !o->set_umask && o->pass_fds_len == 0 && (!o->env || strchr(exe, '/'));
}

static int raise_spawn_error(int err, int stage, const char *exe, const char *cwd)
{
    switch (stage) {
    case STAGE_EXEC:
        return ST_RAISE_OS(err, "cannot execute '%s'", exe);
    case STAGE_CHDIR:
        return ST_RAISE_OS(err, "cannot change directory to '%s'", cwd);
    case STAGE_DUP:
        return ST_RAISE_OS(err, "cannot set up the standard streams of '%s'", exe);
    case STAGE_SETSID:
        return ST_RAISE_OS(err, "cannot start a new session for '%s'", exe);
    case STAGE_SETPGID:
        return ST_RAISE_OS(err, "cannot set the process group of '%s'", exe);
    case STAGE_CLOSE:
        return ST_RAISE_OS(err, "cannot close descriptors for '%s'", exe);
    default:
        return ST_RAISE_OS(err, "cannot start '%s'", exe);
    }
}

/* The descriptor an ST_SUBPROCESS_FD(fd) value stands for. */
#define FD_BASE ST_SUBPROCESS_FD(0)
static int fd_of(int v) { return FD_BASE - v; }

static int check_std(int v, const char *name, int allow_stdout)
{
    if (v <= FD_BASE || v == ST_SUBPROCESS_INHERIT || v == ST_SUBPROCESS_PIPE ||
        v == ST_SUBPROCESS_DEVNULL || (allow_stdout && v == ST_SUBPROCESS_STDOUT))
        return 0;
    if (v > 0) /* a bare descriptor: 0 would have meant "inherit", so none is guessed at */
        return ST_RAISE(ST_EVALUE, "%s %d: give a descriptor as ST_SUBPROCESS_FD(%d)", name, v, v);
    return ST_RAISE(ST_EVALUE, "invalid %s %d", name, v);
}

static int check_options(const st_popen_options *o)
{
    if (ST_OPTIONS_CHECK(o, ST_POPEN_OPTIONS_VERSION, "st_popen_options") < 0)
        return ST_TRACE();
    if (check_std(o->stdin_fd, "stdin_fd", 0) < 0 || check_std(o->stdout_fd, "stdout_fd", 0) < 0 ||
        check_std(o->stderr_fd, "stderr_fd", 1) < 0)
        return ST_TRACE();
    if (o->pass_fds_len && !o->pass_fds)
        return ST_RAISE(ST_EVALUE, "pass_fds is NULL but pass_fds_len is %zu", o->pass_fds_len);
    for (size_t i = 0; i < o->pass_fds_len; i++)
        if (o->pass_fds[i] < 0)
            return ST_RAISE(ST_EVALUE, "bad value(s) in fds_to_keep");
    if (o->set_umask && (o->umask < 0 || o->umask > 0777))
        return ST_RAISE(ST_EVALUE, "invalid umask %#o", (unsigned)o->umask);
    if (o->set_process_group && o->process_group < 0)
        return ST_RAISE(ST_EVALUE, "invalid process_group %ld", (long)o->process_group);
    return 0;
}

int st_popen_options_init(st_popen_options *opts, unsigned int version)
{
    return st__options_init(opts, sizeof *opts, version, ST_POPEN_OPTIONS_VERSION,
                            "st_popen_options");
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* Descriptors made for one spawn: the child's ends (closed in the parent afterwards) and ours. */
typedef struct std_fds {
    int child[3];   /* what becomes the child's 0, 1, 2 (-1: inherit) */
    int parent[3];  /* our pipe ends */
    int owned[5];   /* descriptors we opened for the child, closed after the spawn */
    size_t nowned;
} std_fds;

static void std_fds_close(std_fds *s, int parent_too)
{
    for (size_t i = 0; i < s->nowned; i++)
        close_fd(&s->owned[i]);
    s->nowned = 0;
    if (parent_too)
        for (int t = 0; t < 3; t++)
            close_fd(&s->parent[t]);
}

/* Opens the pipes and /dev/null, as Popen._get_handles() does. */
static int std_fds_open(std_fds *s, const st_popen_options *o)
{
    const int want[3] = {o->stdin_fd, o->stdout_fd, o->stderr_fd};
    int devnull = -1;
    for (int t = 0; t < 3; t++) {
        s->child[t] = s->parent[t] = -1;
        if (want[t] == ST_SUBPROCESS_PIPE) {
            int pp[2];
            if (st__pipe_cloexec(pp) < 0)
                return ST_RAISE_OS(errno, "cannot create a pipe");
            s->child[t] = t == 0 ? pp[0] : pp[1];
            s->parent[t] = t == 0 ? pp[1] : pp[0];
            s->owned[s->nowned++] = s->child[t];
        } else if (want[t] == ST_SUBPROCESS_DEVNULL) {
            if (devnull < 0) {
                devnull = st__open_cloexec(AT_FDCWD, "/dev/null", O_RDWR, 0);
                if (devnull < 0)
                    return ST_RAISE_OS(errno, "cannot open '/dev/null'");
                s->owned[s->nowned++] = devnull;
            }
            s->child[t] = devnull;
        } else if (want[t] == ST_SUBPROCESS_STDOUT) {
            s->child[t] = s->child[1] >= 0 ? s->child[1] : 1;
        } else if (want[t] <= FD_BASE) {
            s->child[t] = fd_of(want[t]);
        }
    }
    /* A source sitting on a lower target would be overwritten by the earlier dup2 (#12607):
     * move it out of the way first. */
    for (int t = 1; t < 3; t++) {
        int s_fd = s->child[t];
        if (s_fd >= 0 && s_fd < t) {
            int d = fcntl(s_fd, F_DUPFD_CLOEXEC, 3);
            if (d < 0)
                return ST_RAISE_OS(errno, "cannot duplicate descriptor %d", s_fd);
            s->owned[s->nowned++] = d;
            for (int u = t; u < 3; u++)
                if (s->child[u] == s_fd)
                    s->child[u] = d;
        }
    }
    return 0;
}

/* Python's args/executable rules: shell prepends "/bin/sh -c"; executable replaces the program. */
static int build_argv(const char *const argv[], const st_popen_options *o, st__strv *args,
                      const char **exe)
{
    if (o->shell && (st__strv_push(args, SHELL) < 0 || st__strv_push(args, "-c") < 0))
        return ST_TRACE();
    for (size_t i = 0; argv[i]; i++)
        if (st__strv_push(args, argv[i]) < 0)
            return ST_TRACE();
    if (o->shell && o->executable) {
        char *e = st__strdup(o->executable);
        if (!e)
            return ST_TRACE();
        free(args->v[0]);
        args->v[0] = e;
    }
    *exe = o->shell ? args->v[0] : o->executable ? o->executable : args->v[0];
    return 0;
}

st_popen *st_popen_new(const char *const argv[], const st_popen_options *opts)
{
    static const st_popen_options defaults = ST_POPEN_OPTIONS_INIT;
    const st_popen_options *o = opts ? opts : &defaults;
    if (check_options(o) < 0)
        return (ST_TRACE(), NULL);
    if (!argv || !argv[0])
        return (ST_RAISE(ST_EVALUE, "argv must hold at least the program"), NULL);
    reap_abandoned();

    st_popen *p = st__calloc(1, sizeof *p);
    st__strv args = ST__STRV_INIT, cands = ST__STRV_INIT;
    std_fds fds = {{-1, -1, -1}, {-1, -1, -1}, {-1, -1, -1, -1, -1}, 0};
    int *keep = NULL;
    const char *exe = NULL;
    if (!p || !(p->args = st__strv_dup(argv)) ||
        build_argv(argv, o, &args, &exe) < 0)
        goto fail;
    int close_fds = !o->keep_fds || o->pass_fds_len;
    char *const *envp = o->env ? st__exec_argv(o->env) : st__environ();
    int fast = posix_spawn_can(o, exe, close_fds);
    int search = fast && !strchr(exe, '/');
    if (search ? st__strv_push(&cands, exe) < 0
               : st__exec_candidates(exe, o->env, &cands) < 0)
        goto fail;
    if (!fast) {
        keep = st__malloc((o->pass_fds_len + 1) * sizeof *keep);
        if (!keep)
            goto fail;
        if (o->pass_fds_len)
            memcpy(keep, o->pass_fds, o->pass_fds_len * sizeof *keep);
        qsort(keep, o->pass_fds_len, sizeof *keep, cmp_int);
    }
    size_t nkeep = 0;
    for (size_t i = 0; i < o->pass_fds_len; i++) /* sorted(set(pass_fds)) */
        if (i == 0 || keep[i] != keep[nkeep - 1])
            keep[nkeep++] = keep[i];
    if (std_fds_open(&fds, o) < 0)
        goto fail;

    spawn_plan pl = {args.v, cands.v, envp, {fds.child[0], fds.child[1], fds.child[2]}, o->cwd,
                     o->set_umask ? o->umask : -1, o->start_new_session,
                     o->set_process_group ? o->process_group : -1, close_fds, !o->keep_signals,
                     keep, nkeep, -1};
    int err = 0, stage = STAGE_EXEC;
    p->pid = fast ? spawn_posix(&pl, search, &err) : spawn_vfork(&pl, &err, &stage);
    if (p->pid < 0) {
        raise_spawn_error(err, stage, exe, o->cwd);
        goto fail;
    }
    std_fds_close(&fds, 0);
    p->in = fds.parent[0];
    p->out = fds.parent[1];
    p->err = fds.parent[2];
    p->out_piped = p->out >= 0;
    p->err_piped = p->err >= 0;
    p->shell = o->shell;
    p->kill_group = o->start_new_session || (o->set_process_group && o->process_group == 0);
    st__strv_free(&args);
    st__strv_free(&cands);
    free(keep);
    return p;

fail:
    ST_TRACE();
    std_fds_close(&fds, 1);
    st__strv_free(&args);
    st__strv_free(&cands);
    free(keep);
    if (p)
        st_strv_free(p->args);
    free(p);
    return NULL;
}

pid_t st_popen_pid(const st_popen *p) { return p->pid; }
int st_popen_stdin(const st_popen *p) { return p->in; }
int st_popen_stdout(const st_popen *p) { return p->out; }
int st_popen_stderr(const st_popen *p) { return p->err; }

int st_popen_returncode(const st_popen *p, int *returncode)
{
    if (!p)
        return ST_RAISE(ST_EVALUE, "st_popen_returncode: p is NULL");
    if (p->reaped && returncode)
        *returncode = p->returncode;
    return p->reaped;
}

int st_popen_poll(st_popen *p, int *returncode)
{
    int r = proc_reap(p, WNOHANG);
    if (r < 0)
        return ST_TRACE();
    if (r && returncode)
        *returncode = p->returncode;
    return r;
}

int st_popen_wait(st_popen *p, double timeout_s, int *returncode)
{
    int r = proc_wait_until(p, st__deadline(timeout_s));
    if (r < 0)
        return ST_TRACE();
    if (r == 0)
        return raise_timeout(p->args, p->shell, timeout_s);
    if (returncode)
        *returncode = p->returncode;
    return 0;
}

int st_popen_send_signal(st_popen *p, int sig)
{
    /* Python polls first so a reaped pid, maybe reused, is never signalled. */
    int r = proc_reap(p, WNOHANG);
    if (r < 0)
        return ST_TRACE();
    if (r == 0 && kill(p->pid, sig) < 0 && errno != ESRCH)
        return ST_RAISE_OS(errno, "cannot send signal %d to process %ld", sig, (long)p->pid);
    return 0;
}

int st_popen_terminate(st_popen *p) { return st_popen_send_signal(p, SIGTERM); }
int st_popen_kill(st_popen *p) { return st_popen_send_signal(p, SIGKILL); }

void st_popen_free(st_popen *p)
{
    if (!p)
        return;
    close_fd(&p->in);
    close_fd(&p->out);
    close_fd(&p->err);
    if (!p->reaped && proc_reap(p, WNOHANG) == 0)
        abandon(p->pid);
    st_strv_free(p->args);
    free(p->pending);
    st__buf_free(&p->obuf);
    st__buf_free(&p->ebuf);
    free(p);
}

/* ---- communicate ----------------------------------------------------------------------------- */

#define PIPE_DEFAULT (64 * 1024)
#define PIPE_WIDE (1024 * 1024)

/* A bulk transfer through a wider pipe takes 16 times fewer system calls. Best effort: past the
 * user's pipe quota (pipe-user-pages-soft) the kernel refuses and the pipe stays as it was. */
static void widen_pipe(int fd, int *wide)
{
#ifdef F_SETPIPE_SZ
    if (!*wide)
        (void)fcntl(fd, F_SETPIPE_SZ, PIPE_WIDE);
#endif
    *wide = 1;
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
static int drain_some(int *fd, st__buf *b, int *wide)
{
    char scratch[16384];
    char *dst = scratch;
    size_t room = sizeof scratch;
    if (b) {
        /* Geometric growth of the buffer: no quadratic copying for huge outputs. */
        size_t old_cap = b->cap;
        if (st__buf_reserve(b, *wide ? PIPE_WIDE : PIPE_DEFAULT) < 0)
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
        close_fd(fd);
        return 0;
    }
    if (b) {
        b->len += (size_t)n;
        b->data[b->len] = '\0';
    }
    if (n >= PIPE_DEFAULT) /* the pipe was full: a big output is coming */
        widen_pipe(*fd, wide);
    return 0;
}

/* Writes what the pipe takes; closes *fd when all is sent or the reader has gone. */
static int feed_some(int *fd, const char *data, size_t len, size_t *off, int *broken)
{
    size_t chunk = len - *off < PIPE_WIDE ? len - *off : PIPE_WIDE;
    ssize_t n = chunk ? write(*fd, data + *off, chunk) : 0;
    if (n < 0) {
        if (errno == EINTR || errno == EAGAIN)
            return 0;
        if (errno != EPIPE)
            return ST_RAISE_OS(errno, "cannot write to the child's pipe");
        *broken = 1;
        close_fd(fd);
        return 0;
    }
    *off += (size_t)n;
    if (*off == len)
        close_fd(fd);
    return 0;
}

/* The poll loop over up to three pipes: 0 when every pipe is done, 1 on timeout, -1 on error. */
static int pump(int *in, const char *data, size_t len, size_t *off, int *out, st__buf *ob,
                int *err, st__buf *eb, double deadline)
{
    st__sigpipe_guard guard;
    int broken = 0, rc = 0, wide[3] = {0, 0, 0};
    int had_in = *in >= 0;
    if (had_in) {
        if (len - *off > PIPE_DEFAULT)
            widen_pipe(*in, &wide[0]);
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
                rc = feed_some(in, data, len, off, &broken);
            else if (which[i] == out)
                rc = drain_some(out, ob, &wide[1]);
            else
                rc = drain_some(err, eb, &wide[2]);
        }
        if (rc < 0)
            break;
    }
    if (had_in)
        st__sigpipe_release(&guard, broken);
    return rc;
}

/* Python's _communicate: state survives a timeout (1), so a later call goes on. */
static int proc_communicate(st_popen *p, const void *input, size_t input_len, double deadline,
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
            close_fd(&p->in);
    } else if (input && input_len) {
        return ST_RAISE(ST_EVALUE, "Cannot send input after starting communication");
    }
    int r = pump(&p->in, p->in_data, p->in_len, &p->in_off, &p->out, keep_out ? &p->obuf : NULL,
                 &p->err, keep_err ? &p->ebuf : NULL, deadline);
    if (r == 0)
        r = proc_wait_until(p, deadline) < 0 ? -1 : !p->reaped;
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
 * here: proc_communicate() reserved the buffer. */
static void take(st__buf *b, int piped, char **data, size_t *len)
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
    int r = proc_communicate(p, input, input_len, st__deadline(timeout_s), result != NULL,
                             result != NULL);
    if (r < 0)
        return ST_TRACE();
    if (r == 1) {
        if (result && (copy_so_far(&p->obuf, p->out_piped, &result->stdout_data,
                                   &result->stdout_len) < 0 ||
                       copy_so_far(&p->ebuf, p->err_piped, &result->stderr_data,
                                   &result->stderr_len) < 0))
            return ST_TRACE();
        return raise_timeout(p->args, p->shell, timeout_s);
    }
    if (result) {
        result->returncode = p->returncode;
        take(&p->obuf, p->out_piped, &result->stdout_data, &result->stdout_len);
        take(&p->ebuf, p->err_piped, &result->stderr_data, &result->stderr_len);
    }
    return 0;
}

/* ---- run and the conveniences ---------------------------------------------------------------- */

void st_completed_process_free(st_completed_process *c)
{
    if (!c)
        return;
    st_strv_free(c->args);
    free(c->stdout_data);
    free(c->stderr_data);
    memset(c, 0, sizeof *c);
}

int st_subprocess_run_options_init(st_subprocess_run_options *opts, unsigned int version)
{
    return st__options_init(opts, sizeof *opts, version, ST_SUBPROCESS_RUN_OPTIONS_VERSION,
                            "st_subprocess_run_options");
}

int st_subprocess_run(const char *const argv[], const st_subprocess_run_options *run,
                      const st_popen_options *opts, st_completed_process *result)
{
    static const st_subprocess_run_options run_defaults = ST_SUBPROCESS_RUN_OPTIONS_INIT;
    static const st_popen_options popen_defaults = ST_POPEN_OPTIONS_INIT;
    memset(result, 0, sizeof *result);
    if (ST_OPTIONS_CHECK(run, ST_SUBPROCESS_RUN_OPTIONS_VERSION, "st_subprocess_run_options") < 0 ||
        ST_OPTIONS_CHECK(opts, ST_POPEN_OPTIONS_VERSION, "st_popen_options") < 0)
        return ST_TRACE();
    const st_subprocess_run_options *r = run ? run : &run_defaults;
    st_popen_options o = opts ? *opts : popen_defaults;
    double timeout = options_timeout(r->timeout);
    if (r->input) {
        if (o.stdin_fd != ST_SUBPROCESS_INHERIT)
            return ST_RAISE(ST_EVALUE, "stdin and input arguments may not both be used.");
        o.stdin_fd = ST_SUBPROCESS_PIPE;
    }
    if (r->capture_output) {
        if (o.stdout_fd != ST_SUBPROCESS_INHERIT || o.stderr_fd != ST_SUBPROCESS_INHERIT)
            return ST_RAISE(ST_EVALUE,
                            "stdout and stderr arguments may not be used with capture_output.");
        o.stdout_fd = o.stderr_fd = ST_SUBPROCESS_PIPE;
    }
    st_popen *p = st_popen_new(argv, &o);
    if (!p)
        return ST_TRACE();
    int rc = -1;
    result->args = st__strv_dup(argv);
    if (result->args) {
        rc = proc_communicate(p, r->input, r->input_len, st__deadline(timeout), 1, 1);
        if (rc != 0)
            proc_kill_and_reap(p); /* Python: process.kill(); process.wait(); raise */
        result->returncode = p->returncode;
        /* After a timeout a stream with nothing read is None, as TimeoutExpired.stdout. */
        take(&p->obuf, p->out_piped && (rc != 1 || p->obuf.len), &result->stdout_data,
             &result->stdout_len);
        take(&p->ebuf, p->err_piped && (rc != 1 || p->ebuf.len), &result->stderr_data,
             &result->stderr_len);
        if (rc == 1)
            raise_timeout(p->args, p->shell, timeout);
        else if (rc == 0 && r->check && result->returncode != 0)
            rc = raise_called(p->args, p->shell, result->returncode);
    }
    st_popen_free(p);
    return rc == 0 ? 0 : ST_TRACE();
}

int st_subprocess_call(const char *const argv[], const st_popen_options *opts, int *returncode)
{
    st_popen *p = st_popen_new(argv, opts);
    if (!p)
        return ST_TRACE();
    int r = proc_reap(p, 0);
    if (r < 0)
        proc_kill_and_reap(p);
    else
        *returncode = p->returncode;
    st_popen_free(p);
    return r < 0 ? ST_TRACE() : 0;
}

int st_subprocess_check_call(const char *const argv[], const st_popen_options *opts,
                             st_completed_process *result)
{
    if (result)
        memset(result, 0, sizeof *result);
    int rc;
    if (st_subprocess_call(argv, opts, &rc) < 0)
        return ST_TRACE();
    if (rc == 0)
        return 0;
    if (result) { /* CalledProcessError's cmd and returncode; check_call captures nothing */
        if (!(result->args = st__strv_dup(argv)))
            return ST_TRACE();
        result->returncode = rc;
    }
    return raise_called(argv, opts && opts->shell, rc);
}

/* check_output() on top of run(); with returncode non-NULL, no check: the caller gets the
 * returncode (getstatusoutput). On failure, what run() filled goes to result. */
static char *output_of(const char *const argv[], const st_popen_options *opts, size_t *len,
                       int *returncode, st_completed_process *result)
{
    static const st_popen_options popen_defaults = ST_POPEN_OPTIONS_INIT;
    if (result)
        memset(result, 0, sizeof *result);
    if (ST_OPTIONS_CHECK(opts, ST_POPEN_OPTIONS_VERSION, "st_popen_options") < 0)
        return (ST_TRACE(), NULL);
    st_popen_options o = opts ? *opts : popen_defaults;
    if (o.stdout_fd != ST_SUBPROCESS_INHERIT)
        return (ST_RAISE(ST_EVALUE, "stdout argument not allowed, it will be overridden."), NULL);
    o.stdout_fd = ST_SUBPROCESS_PIPE;
    st_subprocess_run_options ro = ST_SUBPROCESS_RUN_OPTIONS_INIT;
    ro.check = returncode == NULL;
    st_completed_process c;
    if (st_subprocess_run(argv, &ro, &o, &c) < 0) {
        if (result) {
            *result = c; /* CalledProcessError's output, stderr and returncode */
            memset(&c, 0, sizeof c);
        }
        st_completed_process_free(&c);
        return (ST_TRACE(), NULL);
    }
    char *out = c.stdout_data;
    c.stdout_data = NULL;
    if (len)
        *len = c.stdout_len;
    if (returncode)
        *returncode = c.returncode;
    st_completed_process_free(&c);
    return out;
}

char *st_subprocess_check_output(const char *const argv[], const st_popen_options *opts,
                                 size_t *len, st_completed_process *result)
{
    return output_of(argv, opts, len, NULL, result);
}

char *st_subprocess_getstatusoutput(const char *cmd, int *exitcode)
{
    st_popen_options o = ST_POPEN_OPTIONS_INIT;
    o.shell = 1;
    o.stderr_fd = ST_SUBPROCESS_STDOUT;
    const char *argv[] = {cmd, NULL};
    size_t len = 0;
    int rc = 0;
    char *out = output_of(argv, &o, &len, &rc, NULL);
    if (!out)
        return (ST_TRACE(), NULL);
    /* Python's text mode: universal newlines, then one trailing "\n" stripped. */
    size_t w = 0;
    for (size_t i = 0; i < len; i++) {
        if (out[i] == '\r') {
            out[w++] = '\n';
            if (i + 1 < len && out[i + 1] == '\n')
                i++;
        } else {
            out[w++] = out[i];
        }
    }
    if (w && out[w - 1] == '\n')
        w--;
    out[w] = '\0';
    *exitcode = rc;
    return out;
}

char *st_subprocess_getoutput(const char *cmd)
{
    int rc;
    char *out = st_subprocess_getstatusoutput(cmd, &rc);
    return out ? out : (ST_TRACE(), NULL);
}

/* ---- pipelines ------------------------------------------------------------------------------- */

static void pipeline_kill_all(st_popen **procs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (procs[i])
            proc_kill_and_reap(procs[i]);
}

static int pipeline_start(const char *const *const argvs[], size_t n,
                          const st_subprocess_pipeline_options *po, st_popen **procs, int capture)
{
    static const st_popen_options popen_defaults = ST_POPEN_OPTIONS_INIT;
    const st_popen_options *base = po->popen ? po->popen : &popen_defaults;
    int prev = -1;
    for (size_t i = 0; i < n; i++) {
        st_popen_options o = *base;
        int pp[2] = {-1, -1};
        if (i > 0)
            o.stdin_fd = ST_SUBPROCESS_FD(prev);
        else if (po->input)
            o.stdin_fd = ST_SUBPROCESS_PIPE;
        if (i + 1 < n) {
            if (st__pipe_cloexec(pp) < 0) {
                close_fd(&prev);
                return ST_RAISE_OS(errno, "cannot create a pipe");
            }
            o.stdout_fd = ST_SUBPROCESS_FD(pp[1]);
        } else if (capture) {
            o.stdout_fd = ST_SUBPROCESS_PIPE;
        }
        procs[i] = st_popen_new(argvs[i], &o);
        /* The parent keeps no inner pipe end: each command alone sees EOF and SIGPIPE. */
        close_fd(&prev);
        close_fd(&pp[1]);
        prev = pp[0];
        if (!procs[i]) {
            close_fd(&prev);
            return ST_TRACE();
        }
    }
    return 0;
}

int st_subprocess_pipeline_options_init(st_subprocess_pipeline_options *opts,
                                        unsigned int version)
{
    return st__options_init(opts, sizeof *opts, version, ST_SUBPROCESS_PIPELINE_OPTIONS_VERSION,
                            "st_subprocess_pipeline_options");
}

int st_subprocess_pipeline(const char *const *const argvs[], size_t n,
                           const st_subprocess_pipeline_options *opts, int *returncodes,
                           char **out, size_t *out_len)
{
    static const st_subprocess_pipeline_options defaults = ST_SUBPROCESS_PIPELINE_OPTIONS_INIT;
    const st_subprocess_pipeline_options *po = opts ? opts : &defaults;
    if (out)
        *out = NULL;
    if (out_len)
        *out_len = 0;
    if (ST_OPTIONS_CHECK(opts, ST_SUBPROCESS_PIPELINE_OPTIONS_VERSION,
                         "st_subprocess_pipeline_options") < 0)
        return ST_TRACE();
    if (n == 0 || !argvs)
        return ST_RAISE(ST_EVALUE, "a pipeline needs at least one command");
    if (po->popen && (check_options(po->popen) < 0))
        return ST_TRACE();
    if (po->popen && (po->popen->stdin_fd == ST_SUBPROCESS_PIPE || po->popen->stdout_fd == ST_SUBPROCESS_PIPE ||
                      po->popen->stderr_fd == ST_SUBPROCESS_PIPE))
        return ST_RAISE(ST_EVALUE, "pipeline options cannot use ST_SUBPROCESS_PIPE (use input and out)");
    if (po->input && po->popen && po->popen->stdin_fd != ST_SUBPROCESS_INHERIT)
        return ST_RAISE(ST_EVALUE, "stdin and input arguments may not both be used.");

    st_popen **procs = st__calloc(n, sizeof *procs);
    if (!procs)
        return ST_TRACE();
    int rc = pipeline_start(argvs, n, po, procs, out != NULL);
    st__buf ob = ST__BUF_INIT;
    size_t off = 0;
    double timeout = options_timeout(po->timeout);
    double deadline = st__deadline(timeout);
    st_popen *timed_out = NULL, *failed = NULL;
    if (rc == 0) {
        int none = -1;
        if (out && st__buf_reserve(&ob, 0) < 0)
            rc = -1;
        if (rc == 0)
            rc = pump(&procs[0]->in, po->input, po->input ? po->input_len : 0, &off,
                      out ? &procs[n - 1]->out : &none, &ob, &none, NULL, deadline);
        if (rc == 1)
            timed_out = procs[n - 1];
        for (size_t i = 0; i < n && rc == 0; i++) {
            int w = proc_wait_until(procs[i], deadline);
            rc = w < 0 ? -1 : w == 0;
            if (w == 0)
                timed_out = procs[i];
        }
    }
    if (rc != 0)
        pipeline_kill_all(procs, n);
    if (timed_out)
        raise_timeout(timed_out->args, timed_out->shell, timeout);
    for (size_t i = 0; i < n && procs[i]; i++) {
        if (returncodes)
            returncodes[i] = procs[i]->returncode;
        if (procs[i]->returncode != 0)
            failed = procs[i];
    }
    if (rc == 0 && po->check && failed)
        rc = raise_called(failed->args, failed->shell, failed->returncode);
    if (out && (rc == 0 || timed_out || (po->check && failed))) {
        if (out_len)
            *out_len = ob.len;
        *out = st__buf_detach(&ob);
    }
    st__buf_free(&ob);
    for (size_t i = 0; i < n; i++)
        st_popen_free(procs[i]);
    free(procs);
    return rc == 0 ? 0 : ST_TRACE();
}
