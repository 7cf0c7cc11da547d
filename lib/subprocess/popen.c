/* subprocess: the Popen handle: reaping, waiting, signals, the stop ladder, waiting for many. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal/options.h"
#include "internal/posix.h"
#include "internal/subprocess.h"

void st__sp_close_fd(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

double st__sp_options_timeout(double timeout_s)
{
    return timeout_s > 0 ? timeout_s : ST_NO_TIMEOUT;
}

/* ---- children abandoned by st_popen_free() while running (Python's _active list) ------------- */

static pthread_mutex_t abandoned_lock = PTHREAD_MUTEX_INITIALIZER;
static pid_t *abandoned;
static size_t abandoned_len, abandoned_cap;

/* Reaps, without blocking, those that have ended since. */
void st__sp_reap_abandoned(void)
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

static int returncode_of(int status)
{
    if (WIFSIGNALED(status))
        return -WTERMSIG(status);
    return WEXITSTATUS(status);
}

/* One waitpid on our own pid: 1 when it has ended (returncode set), 0 when still running. */
int st__sp_reap(st_popen *p, int options)
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
    st__sp_close_fd(&p->pidfd);
    return 1;
}

/* Sleeps a step of Python's own wait loop (0.5 ms doubling up to 50 ms), never past the
 * deadline: 0, or 1 when the deadline has passed. */
static int backoff(double *delay, double deadline)
{
    double left = deadline < 0 ? *delay : deadline - st__monotonic();
    if (left <= 0)
        return 1;
    double d = *delay < left ? *delay : left;
    struct timespec ts = {(time_t)d, (long)((d - (double)(time_t)d) * 1e9)};
    nanosleep(&ts, NULL);
    *delay = *delay * 2 < 0.05 ? *delay * 2 : 0.05;
    return 0;
}

/* Reaps the first of procs that has ended, waiting until the deadline: 1 with *index set, 0 on
 * timeout, -1 on error. A pidfd becomes readable when its child ends, so with one for every
 * child this sleeps in poll() until then; without, it checks each of our pids with WNOHANG
 * between the steps of Python's back-off. Either way it only ever waits for our own pids. */
static int wait_first(st_popen *const *procs, size_t n, double deadline, size_t *index)
{
    struct pollfd few[8], *pf = n <= 8 ? few : NULL; /* no allocation for a handful */
    int rc = 0;
    double delay = 0.0005;
    for (;;) {
        size_t live = 0;
        for (size_t i = 0; i < n; i++) {
            int r = st__sp_reap(procs[i], WNOHANG);
            if (r != 0) {
                if (r > 0)
                    *index = i;
                rc = r;
                goto done;
            }
            if (procs[i]->pidfd >= 0)
                live++;
        }
        if (live < n) {
            if (backoff(&delay, deadline))
                goto done;
            continue;
        }
        if (!pf && !(pf = st__malloc(n * sizeof *pf))) {
            rc = ST_TRACE();
            goto done;
        }
        for (size_t i = 0; i < n; i++)
            pf[i] = (struct pollfd){procs[i]->pidfd, POLLIN, 0};
        int ms = st__deadline_ms(deadline);
        int ready = poll(pf, (nfds_t)n, ms);
        if (ready < 0 && errno != EINTR) {
            rc = ST_RAISE_OS(errno, "cannot wait for %zu processes", n);
            goto done;
        }
        if (ready == 0 && ms == 0)
            goto done;
    }
done:
    if (pf != few)
        free(pf);
    return rc;
}

int st__sp_wait_until(st_popen *p, double deadline)
{
    if (deadline < 0)
        return st__sp_reap(p, 0);
    size_t index;
    return wait_first(&p, 1, deadline, &index);
}

/* Sends sig to the child, or to its whole group when it leads one; ESRCH (all gone) is no
 * error. The child is not reaped yet, so its pid (and group id) cannot have been reused; the
 * pidfd makes a plain signal race-free even so. */
static int signal_child(st_popen *p, int sig, int group)
{
    int to_group = group && p->kill_group;
    int r = to_group ? killpg(p->pid, sig) : 0;
    /* The child alone; also when its group is not there yet, as where the spawn returns before
     * the child has run (vfork is a fork under qemu-user). Never once reaped: pid reuse. */
    if ((!to_group || (r < 0 && errno == ESRCH)) && !p->reaped) {
        if (p->pidfd >= 0 && st__pidfd_send_signal(p->pidfd, sig) == 0)
            return 0;
        r = kill(p->pid, sig);
    }
    if (r < 0 && errno != ESRCH)
        return ST_RAISE_OS(errno, "cannot send signal %d to process %ld", sig, (long)p->pid);
    return 0;
}

int st__sp_stop(st_popen *const *procs, size_t n, int sig, double grace)
{
    int rc = 0, step = ST_POPEN_STOP_EXITED, sent = 0;
    /* Only children not reaped before are stopped: a group whose leader was reaped earlier may
     * have a new owner for its id by now. */
    for (size_t i = 0; i < n; i++)
        if ((procs[i]->stopping = !procs[i]->reaped) && st__sp_reap(procs[i], WNOHANG) < 0)
            rc = -1;
    for (size_t i = 0; i < n && sig != 0 && sig != SIGKILL; i++) {
        st_popen *p = procs[i];
        if (p->stopping && !p->reaped && signal_child(p, sig, 1) < 0)
            p->stopping = 0, rc = -1; /* not signalled: neither waited for nor killed */
        else if (p->stopping && !p->reaped)
            sent = 1;
    }
    if (sent) {
        step = ST_POPEN_STOP_SIGNAL;
        double deadline = st__deadline(grace); /* one grace period for all */
        for (size_t i = 0; i < n; i++)
            if (procs[i]->stopping && st__sp_wait_until(procs[i], deadline) < 0)
                rc = -1;
    }
    /* A group is killed whatever ended its leader: no member outlives the stop (one holding
     * our pipes would keep a reader waiting for end of file). Pids are handed out in turn, so
     * the group's id cannot have been reused since the leader was reaped a moment ago. */
    for (size_t i = 0; i < n; i++) {
        st_popen *p = procs[i];
        if (!p->stopping)
            continue;
        p->stopping = 0;
        if (!p->reaped)
            step = ST_POPEN_STOP_KILL;
        if ((!p->reaped || p->kill_group) && signal_child(p, SIGKILL, 1) < 0)
            rc = -1; /* a child we could not kill is not waited for */
        else if (!p->reaped && st__sp_reap(p, 0) < 0)
            rc = -1;
    }
    return rc < 0 ? ST_TRACE() : step;
}

/* ---- the public handle ----------------------------------------------------------------------- */

st_popen *st_popen_new(const char *const argv[], const st_popen_options *opts)
{
    static const st_popen_options defaults = ST_POPEN_OPTIONS_INIT;
    const st_popen_options *o = opts ? opts : &defaults;
    if (st__sp_check_options(o) < 0)
        return (ST_TRACE(), NULL);
    if (!argv || !argv[0])
        return (ST_RAISE(ST_EVALUE, "argv must hold at least the program"), NULL);
    st__sp_reap_abandoned();
    st_popen *p = st__calloc(1, sizeof *p);
    if (!p || !(p->args = st__strv_dup(argv))) {
        free(p);
        return (ST_TRACE(), NULL);
    }
    int parent[3];
    p->pid = st__sp_spawn(argv, o, parent);
    if (p->pid < 0) {
        st_strv_free(p->args);
        free(p);
        return (ST_TRACE(), NULL);
    }
    p->pidfd = st__pidfd_open(p->pid); /* -1: the plain pid path */
    p->in = parent[0];
    p->out = parent[1];
    p->err = parent[2];
    p->out_piped = p->out >= 0;
    p->err_piped = p->err >= 0;
    p->shell = o->shell;
    p->kill_group = o->start_new_session || (o->set_process_group && o->process_group == 0);
    return p;
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
    int r = st__sp_reap(p, WNOHANG);
    if (r < 0)
        return ST_TRACE();
    if (r && returncode)
        *returncode = p->returncode;
    return r;
}

int st_popen_wait(st_popen *p, double timeout_s, int *returncode)
{
    int r = st__sp_wait_until(p, st__deadline(timeout_s));
    if (r < 0)
        return ST_TRACE();
    if (r == 0)
        return st__sp_raise_timeout(p->args, p->shell, timeout_s);
    if (returncode)
        *returncode = p->returncode;
    return 0;
}

int st_popen_send_signal(st_popen *p, int sig)
{
    /* Python polls first so a reaped pid, maybe reused, is never signalled. */
    int r = st__sp_reap(p, WNOHANG);
    if (r < 0)
        return ST_TRACE();
    return r == 0 && signal_child(p, sig, 0) < 0 ? ST_TRACE() : 0;
}

int st_popen_terminate(st_popen *p) { return st_popen_send_signal(p, SIGTERM); }
int st_popen_kill(st_popen *p) { return st_popen_send_signal(p, SIGKILL); }

int st_popen_stop_options_init(st_popen_stop_options *opts, unsigned int version)
{
    return st__options_init(opts, ST_OPTIONS_SIZES(sizeof *opts), version,
                            ST_POPEN_STOP_OPTIONS_VERSION, "st_popen_stop_options");
}

int st_popen_stop(st_popen *p, const st_popen_stop_options *opts, int *returncode,
                  st_popen_stop_step *step)
{
    static const st_popen_stop_options defaults = ST_POPEN_STOP_OPTIONS_INIT;
    if (!p)
        return ST_RAISE(ST_EVALUE, "st_popen_stop: p is NULL");
    if (ST_OPTIONS_CHECK(opts, ST_POPEN_STOP_OPTIONS_VERSION, "st_popen_stop_options") < 0)
        return ST_TRACE();
    const st_popen_stop_options *o = opts ? opts : &defaults;
    if (o->signal < 0 || o->signal >= NSIG)
        return ST_RAISE(ST_EVALUE, "invalid signal number %d", o->signal);
    if (o->grace != o->grace)
        return ST_RAISE(ST_EVALUE, "grace must not be NaN");
    int r = st__sp_stop(&p, 1, o->signal ? o->signal : SIGTERM,
                        o->grace == 0 ? ST_POPEN_STOP_GRACE : o->grace);
    if (r < 0)
        return ST_TRACE();
    if (returncode)
        *returncode = p->returncode;
    if (step)
        *step = (st_popen_stop_step)r;
    return 0;
}

static int check_many(st_popen *const procs[], size_t n, const char *func)
{
    if (!procs || n == 0)
        return ST_RAISE(ST_EVALUE, "%s: no processes to wait for", func);
    for (size_t i = 0; i < n; i++)
        if (!procs[i])
            return ST_RAISE(ST_EVALUE, "%s: process %zu is NULL", func, i);
    return 0;
}

static int raise_many_timeout(size_t n, double timeout_s, const char *what)
{
    return ST_RAISE_AS(ST_ETIMEOUT, "subprocess.TimeoutExpired",
                       "%s of %zu processes ended within %g seconds", what, n, timeout_s);
}

int st_popen_wait_any(st_popen *const procs[], size_t n, double timeout_s, size_t *index)
{
    if (check_many(procs, n, "st_popen_wait_any") < 0)
        return ST_TRACE();
    size_t first = 0;
    int r = wait_first(procs, n, st__deadline(timeout_s), &first);
    if (r < 0)
        return ST_TRACE();
    if (r == 0)
        return raise_many_timeout(n, timeout_s, "none");
    if (index)
        *index = first;
    return 0;
}

int st_popen_wait_all(st_popen *const procs[], size_t n, double timeout_s)
{
    if (check_many(procs, n, "st_popen_wait_all") < 0)
        return ST_TRACE();
    double deadline = st__deadline(timeout_s);
    for (size_t i = 0; i < n; i++) {
        int r = st__sp_wait_until(procs[i], deadline);
        if (r < 0)
            return ST_TRACE();
        if (r == 0)
            return raise_many_timeout(n, timeout_s, "not all");
    }
    return 0;
}

void st_popen_free(st_popen *p)
{
    if (!p)
        return;
    st__sp_close_fd(&p->in);
    st__sp_close_fd(&p->out);
    st__sp_close_fd(&p->err);
    if (!p->reaped && st__sp_reap(p, WNOHANG) == 0)
        abandon(p->pid);
    st__sp_close_fd(&p->pidfd);
    st_strv_free(p->args);
    free(p->pending);
    st__buf_free(&p->obuf);
    st__buf_free(&p->ebuf);
    free(p);
}
