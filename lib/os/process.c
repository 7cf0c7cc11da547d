/* os: fork, exec*, spawn*, waitpid, kill, system, _exit (popen is in popen.c). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal/error.h"
#include "internal/exec.h"
#include "internal/mem.h"
#include "internal/posix.h"
#include "systools/os.h"

pid_t st_os_fork(void)
{
    pid_t pid = fork();
    if (pid < 0)
        return ST_RAISE_OS(errno, "cannot fork");
    return pid;
}

/* ---- exec ------------------------------------------------------------------------------------- */

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
        execve(cands.v[i], st__exec_argv(argv), envp ? st__exec_argv(envp) : st__environ());
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
    char **env = st__environ();
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
