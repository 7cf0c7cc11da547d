/* os: fork, exec*, spawn*, waitpid, kill, system, popen, _exit. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal/error.h"
#include "internal/mem.h"
#include "internal/os.h"
#include "systools/os.h"
#include "systools/subprocess.h"

extern char **environ;

pid_t st__waitpid_retry(pid_t pid, int *status, int options)
{
    pid_t r;
    do
        r = waitpid(pid, status, options);
    while (r < 0 && errno == EINTR);
    return r;
}

pid_t st_os_fork(void)
{
    pid_t pid = fork();
    if (pid < 0)
        return ST_RAISE_OS(errno, "cannot fork");
    return pid;
}

/* ---- exec ------------------------------------------------------------------------------------- */

int st__exec_check_argv(const char *func, const char *const argv[])
{
    int ve = !strcmp(func, "execve");
    if (!argv || !argv[0])
        return ST_RAISE(ST_EVALUE, ve ? "execve: argv must not be empty" : "%s() arg 2 must not be empty", func);
    if (!argv[0][0])
        return ST_RAISE(ST_EVALUE, ve ? "execve: argv first element cannot be empty"
                                      : "%s() arg 2 first element cannot be empty", func);
    return 0;
}

static const char *env_lookup(const char *const envp[], const char *key)
{
    size_t n = strlen(key);
    for (size_t i = 0; envp && envp[i]; i++)
        if (!strncmp(envp[i], key, n) && envp[i][n] == '=')
            return envp[i] + n + 1;
    return NULL;
}

int st__exec_candidates(const char *file, const char *const envp[], st__strv *out)
{
    if (strchr(file, '/'))
        return st__strv_push(out, file) < 0 ? ST_TRACE() : 0;
    char *owned = NULL;
    const char *path;
    if (envp) {
        path = env_lookup(envp, "PATH");
    } else {
        owned = st_os_getenv("PATH", "\x01"); /* a name cannot hold \x01: it marks "unset" */
        if (!owned)
            return ST_TRACE();
        path = strcmp(owned, "\x01") ? owned : NULL;
    }
    if (!path)
        path = "/bin:/usr/bin"; /* Python's os.defpath */
    int rc = 0;
    for (const char *p = path;; p++) {
        const char *end = strchr(p, ':');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char *dir = st__strndup(p, len);
        char *full = dir ? st__path_join(dir, file) : NULL;
        st_free(dir);
        if (st__strv_push_owned(out, full) < 0) {
            rc = ST_TRACE();
            break;
        }
        if (!end)
            break;
        p = end;
    }
    st_free(owned);
    return rc;
}

int st_os_execv(const char *path, const char *const argv[])
{
    if (st__exec_check_argv("execv", argv) < 0)
        return ST_TRACE();
    execv(path, st__exec_argv(argv));
    return ST_RAISE_OS(errno, "cannot execute '%s'", path);
}

int st_os_execve(const char *path, const char *const argv[], const char *const envp[])
{
    if (st__exec_check_argv("execve", argv) < 0)
        return ST_TRACE();
    execve(path, st__exec_argv(argv), st__exec_argv(envp));
    return ST_RAISE_OS(errno, "cannot execute '%s'", path);
}

/* Python's _execvpe: try each candidate; report the first error that is not "no such file",
 * else the last one. */
static int exec_search(const char *func, const char *file, const char *const argv[], const char *const envp[])
{
    if (st__exec_check_argv(func, argv) < 0)
        return ST_TRACE();
    st__strv cands = ST__STRV_INIT;
    if (st__exec_candidates(file, envp, &cands) < 0)
        return ST_TRACE();
    int saved = 0, last = ENOENT;
    const char *saved_path = file, *last_path = file;
    for (size_t i = 0; i < cands.len; i++) {
        execve(cands.v[i], st__exec_argv(argv), envp ? st__exec_argv(envp) : environ);
        last = errno;
        last_path = cands.v[i];
        if (last != ENOENT && last != ENOTDIR && !saved) {
            saved = last;
            saved_path = cands.v[i];
        }
    }
    int rc = saved ? ST_RAISE_OS(saved, "cannot execute '%s'", saved_path)
                   : ST_RAISE_OS(last, "cannot execute '%s'", last_path);
    st__strv_free(&cands);
    return rc;
}

int st_os_execvp(const char *file, const char *const argv[])
{
    return exec_search("execv", file, argv, NULL) < 0 ? ST_TRACE() : 0;
}

int st_os_execvpe(const char *file, const char *const argv[], const char *const envp[])
{
    return exec_search("execve", file, argv, envp) < 0 ? ST_TRACE() : 0;
}

/* ---- spawn and wait --------------------------------------------------------------------------- */

int st_os_waitstatus_to_exitcode(int status, int *exitcode)
{
    if (WIFEXITED(status)) {
        *exitcode = WEXITSTATUS(status);
        return 0;
    }
    if (WIFSIGNALED(status) && WTERMSIG(status) > 0) {
        *exitcode = -WTERMSIG(status);
        return 0;
    }
    if (WIFSTOPPED(status))
        return ST_RAISE(ST_EVALUE, "process stopped by delivery of signal %d", WSTOPSIG(status));
    return ST_RAISE(ST_EVALUE, "invalid wait status: %d", status);
}

pid_t st_os_waitpid(pid_t pid, int *status, int options)
{
    int st = 0;
    pid_t r = st__waitpid_retry(pid, &st, options);
    if (r < 0)
        return ST_RAISE_OS(errno, "cannot wait for process %ld", (long)pid);
    if (status)
        *status = st;
    return r;
}

/* Python's _spawnvef: the candidates are computed before fork, so the child only calls execve()
 * and _exit(), which are async-signal-safe even when the parent has threads. */
static int spawn(int mode, const char *file, const char *const argv[], int search, int *result)
{
    if (!argv || !argv[0] || !argv[0][0])
        return ST_RAISE(ST_EVALUE, "argv first element cannot be empty");
    st__strv cands = ST__STRV_INIT;
    if (search ? st__exec_candidates(file, NULL, &cands) < 0 : st__strv_push(&cands, file) < 0)
        return ST_TRACE();
    char **env = environ;
    pid_t pid = fork();
    if (pid == 0) {
        for (size_t i = 0; i < cands.len; i++)
            execve(cands.v[i], st__exec_argv(argv), env);
        _exit(127);
    }
    int e = errno;
    st__strv_free(&cands);
    if (pid < 0)
        return ST_RAISE_OS(e, "cannot fork to run '%s'", file);
    if (mode == ST_OS_P_NOWAIT) {
        *result = (int)pid;
        return 0;
    }
    for (;;) {
        int status;
        if (st__waitpid_retry(pid, &status, 0) < 0)
            return ST_RAISE_OS(errno, "cannot wait for process %ld", (long)pid);
        if (WIFSTOPPED(status))
            continue;
        return st_os_waitstatus_to_exitcode(status, result) < 0 ? ST_TRACE() : 0;
    }
}

int st_os_spawnv(int mode, const char *path, const char *const argv[], int *result)
{
    return spawn(mode, path, argv, 0, result) < 0 ? ST_TRACE() : 0;
}

int st_os_spawnvp(int mode, const char *file, const char *const argv[], int *result)
{
    return spawn(mode, file, argv, 1, result) < 0 ? ST_TRACE() : 0;
}

int st_os_kill(pid_t pid, int sig)
{
    if (kill(pid, sig) < 0)
        return ST_RAISE_OS(errno, "cannot signal process %ld", (long)pid);
    return 0;
}

int st_os_killpg(pid_t pgid, int sig)
{
    if (killpg(pgid, sig) < 0)
        return ST_RAISE_OS(errno, "cannot signal process group %ld", (long)pgid);
    return 0;
}

int st_os_system(const char *command)
{
    int r = system(command);
    if (r == -1)
        return ST_RAISE_OS(errno, "cannot run '%s'", command);
    return r;
}

void st_os__exit(int status) { _exit(status); }

/* ---- popen ------------------------------------------------------------------------------------ */

struct st_os_popen_file {
    FILE *f;        /* NULL once closed */
    st_popen *proc;
    int status;     /* close()'s result, kept for a second close as Python recomputes it */
    int waited;
};

/* Python's os.popen is subprocess.Popen(cmd, shell=True) with one end piped: the same spawn
 * path here, so close_fds and everything else behave as in Python. */
st_os_popen_file *st_os_popen(const char *command, const char *mode)
{
    if (strcmp(mode, "r") && strcmp(mode, "w"))
        return (ST_RAISE(ST_EVALUE, "invalid mode '%s'", mode), NULL);
    int reading = mode[0] == 'r';
    st_os_popen_file *p = st__calloc(1, sizeof *p);
    if (!p)
        return (ST_TRACE(), NULL);
    int fds[2];
    if (st__pipe_cloexec(fds) < 0) {
        st_free(p);
        return (ST_RAISE_OS(errno, "cannot create a pipe for '%s'", command), NULL);
    }
    /* The child's end becomes its stdout ("r") or stdin ("w"); ours is wrapped in the stream. */
    int child_end = reading ? fds[1] : fds[0], our_end = reading ? fds[0] : fds[1];
    st_popen_options o = ST_POPEN_OPTIONS_INIT;
    o.shell = 1;
    if (reading)
        o.stdout_fd = ST_SUBPROCESS_FD(child_end);
    else
        o.stdin_fd = ST_SUBPROCESS_FD(child_end);
    const char *const argv[] = {command, NULL};
    p->proc = st_popen_new(argv, &o);
    close(child_end);
    if (!p->proc) {
        close(our_end);
        st_free(p);
        return (ST_TRACE(), NULL);
    }
    p->f = fdopen(our_end, mode);
    if (!p->f) {
        int e = errno;
        close(our_end);
        st_popen_wait(p->proc, ST_NO_TIMEOUT, NULL);
        st_popen_free(p->proc);
        st_free(p);
        return (ST_RAISE_OS(e, "cannot open a stream for '%s'", command), NULL);
    }
    return p;
}

FILE *st_os_popen_file_stream(st_os_popen_file *p)
{
    if (!p || !p->f)
        return (ST_RAISE(ST_EVALUE, "I/O operation on closed file."), NULL);
    return p->f;
}

int st_os_popen_file_close(st_os_popen_file *p, int *status)
{
    if (!p) {
        if (status)
            *status = 0;
        return 0;
    }
    int rc = 0;
    if (p->f) {
        FILE *f = p->f;
        p->f = NULL; /* fclose() releases the stream even when it fails */
        if (fclose(f) != 0)
            rc = ST_RAISE_OS(errno, "cannot close the pipe of process %ld",
                             (long)st_popen_pid(p->proc));
    }
    if (!p->waited) {
        int code = 0;
        if (st_popen_wait(p->proc, ST_NO_TIMEOUT, &code) < 0)
            return ST_TRACE();
        p->status = code * 256; /* Python: None for 0, else returncode << 8 */
        p->waited = 1;
    }
    if (status)
        *status = p->status;
    return rc;
}

int st_os_popen_file_closed(const st_os_popen_file *p)
{
    if (!p)
        return ST_RAISE(ST_EVALUE, "st_os_popen_file_closed: p is NULL");
    return p->f == NULL;
}

void st_os_popen_file_free(st_os_popen_file *p)
{
    if (!p)
        return;
    (void)st_os_popen_file_close(p, NULL);
    st_popen_free(p->proc);
    st_free(p);
}
