/* subprocess: spawning. posix_spawn() when the options allow it and it reports exec failures,
 * else vfork() with a close-on-exec error pipe; Modules/_posixsubprocess.c is the specification. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal/exec.h"
#include "internal/options.h"
#include "internal/posix.h"
#include "internal/subprocess.h"
#include "st_config.h"
#if defined(ST_HAVE_SYS_CLOSE_RANGE) || defined(ST_HAVE_SYS_GETDENTS64)
#include <sys/syscall.h>
#endif

#define SHELL "/bin/sh"

/* ---- the child ------------------------------------------------------------------------------- */

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

/* Does posix_spawn() report a failed exec as its own error? glibc (2.24 and later) and musl
 * do, through the CLONE_VFORK child's shared memory or a pipe; but where the clone becomes a
 * plain fork (valgrind, qemu-user) or in older C libraries the child's failure comes back as
 * exit status 127 instead, indistinguishable from a program that ran. Asked once per process
 * with a path that cannot exist (a name under /dev/null, not a directory): when the answer is
 * no, every spawn takes the vfork path, whose error pipe always tells. */
static int spawn_reports_exec;

static void probe_posix_spawn(void)
{
    static char *const argv[] = {(char *)"st-probe", NULL};
    pid_t pid;
    int rc = posix_spawn(&pid, "/dev/null/st-probe", NULL, NULL, argv, st__environ());
    if (rc == 0)
        st__waitpid_retry(pid, NULL, 0); /* the child that failed to exec, our own */
    spawn_reports_exec = rc != 0;
}

/* Can posix_spawn do everything asked? (Then it is used: it is what glibc optimises.) */
static int posix_spawn_can(const st_popen_options *o, const char *exe, int close_fds)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, probe_posix_spawn);
    if (!spawn_reports_exec)
        return 0;
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

int st__sp_check_options(const st_popen_options *o)
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
    return st__options_init(opts, ST_OPTIONS_SIZES(sizeof *opts), version, ST_POPEN_OPTIONS_VERSION,
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
        st__sp_close_fd(&s->owned[i]);
    s->nowned = 0;
    if (parent_too)
        for (int t = 0; t < 3; t++)
            st__sp_close_fd(&s->parent[t]);
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

pid_t st__sp_spawn(const char *const argv[], const st_popen_options *o, int parent[3])
{
    st__strv args = ST__STRV_INIT, cands = ST__STRV_INIT;
    std_fds fds = {{-1, -1, -1}, {-1, -1, -1}, {-1, -1, -1, -1, -1}, 0};
    int *keep = NULL;
    const char *exe = NULL;
    pid_t pid = -1;
    if (build_argv(argv, o, &args, &exe) < 0)
        goto done;
    int close_fds = !o->keep_fds || o->pass_fds_len;
    char *const *envp = o->env ? st__exec_argv(o->env) : st__environ();
    int fast = posix_spawn_can(o, exe, close_fds);
    int search = fast && !strchr(exe, '/');
    if (search ? st__strv_push(&cands, exe) < 0
               : st__exec_candidates(exe, o->env, &cands) < 0)
        goto done;
    /* The vfork path adds the error pipe to the kept list. */
    keep = st__malloc((o->pass_fds_len + 1) * sizeof *keep);
    if (!keep)
        goto done;
    if (o->pass_fds_len)
        memcpy(keep, o->pass_fds, o->pass_fds_len * sizeof *keep);
    qsort(keep, o->pass_fds_len, sizeof *keep, cmp_int);
    size_t nkeep = 0;
    for (size_t i = 0; i < o->pass_fds_len; i++) /* sorted(set(pass_fds)) */
        if (i == 0 || keep[i] != keep[nkeep - 1])
            keep[nkeep++] = keep[i];
    if (std_fds_open(&fds, o) < 0)
        goto done;

    spawn_plan pl = {args.v, cands.v, envp, {fds.child[0], fds.child[1], fds.child[2]}, o->cwd,
                     o->set_umask ? o->umask : -1, o->start_new_session,
                     o->set_process_group ? o->process_group : -1, close_fds, !o->keep_signals,
                     keep, nkeep, -1};
    int err = 0, stage = STAGE_EXEC;
    pid = fast ? spawn_posix(&pl, search, &err) : spawn_vfork(&pl, &err, &stage);
    if (pid < 0) {
        raise_spawn_error(err, stage, exe, o->cwd);
        std_fds_close(&fds, 1);
        goto done;
    }
    std_fds_close(&fds, 0);
    for (int t = 0; t < 3; t++)
        parent[t] = fds.parent[t];
done:
    st__strv_free(&args);
    st__strv_free(&cands);
    free(keep);
    return pid < 0 ? ST_TRACE() : pid;
}
