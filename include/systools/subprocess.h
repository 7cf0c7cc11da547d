/**
 * @file systools/subprocess.h
 * @brief Python's subprocess module: Popen, run, call, check_output, getoutput, pipelines.
 */
#ifndef SYSTOOLS_SUBPROCESS_H
#define SYSTOOLS_SUBPROCESS_H

#include <sys/types.h>

#include "common.h"

/**
 * @defgroup subprocess subprocess: starting programs and talking to them
 * @brief Mirrors Python's `subprocess` module (CPython 3.13 semantics), bytes only.
 *
 * Children are started with posix_spawn() when the options allow it and with vfork() otherwise,
 * so spawning costs the same whatever the size of the parent. An exec failure (missing program,
 * no permission, bad cwd) is reported by st_popen_new() itself, with the child's errno, and leaves no
 * zombie. Every descriptor the library creates is close-on-exec from birth, so concurrent spawns
 * from several threads never leak each other's pipes. The library never installs a SIGCHLD
 * handler and only ever waits for the pids it started.
 *
 * A returncode is Python's: the exit status, or -N when the child was killed by signal N.
 * Timeouts are in seconds; ST_NO_TIMEOUT (any negative value) means none, as Python's None.
 * A TimeoutExpired message always names the timeout the caller gave; Python sometimes names
 * the time that was left when its final wait() began.
 *
 * @code
 * const char *argv[] = {"ls", "-l", NULL};
 * size_t len;
 * char *out = st_subprocess_check_output(argv, NULL, &len);        // like subprocess.check_output()
 * if (!out) { fprintf(stderr, "%s\n", st_error_message()); return 1; }
 * fwrite(out, 1, len, stdout);
 * st_free(out);
 *
 * st_popen_options o = ST_POPEN_OPTIONS_INIT;
 * o.stdin_fd = ST_SUBPROCESS_PIPE;
 * o.stdout_fd = ST_SUBPROCESS_PIPE;
 * const char *cat[] = {"cat", NULL};
 * st_popen *p = st_popen_new(cat, &o);
 * char *got; size_t got_len;
 * st_popen_communicate(p, "hi\n", 3, &got, &got_len, NULL, NULL, 5.0);
 * st_free(got);
 * st_popen_free(p);
 * @endcode
 * @{
 */

#ifdef __cplusplus
extern "C" {
#endif

/** @brief stdio option: the child shares the parent's descriptor (Python's None). */
#define ST_SUBPROCESS_INHERIT (-4)
/** @brief stdio option: a new pipe to the parent (Python's subprocess.PIPE). */
#define ST_SUBPROCESS_PIPE (-1)
/** @brief stderr option: the child's stderr goes where its stdout goes (subprocess.STDOUT). */
#define ST_SUBPROCESS_STDOUT (-2)
/** @brief stdio option: the child's descriptor is opened on /dev/null (subprocess.DEVNULL). */
#define ST_SUBPROCESS_DEVNULL (-3)
/** @brief Version of ::st_popen_options this header describes. */
#define ST_POPEN_OPTIONS_VERSION 1

/**
 * @brief How to start a child: the keyword arguments of Python's Popen.
 *
 * Initialise with ST_POPEN_OPTIONS_INIT, then set the fields that differ from Python's defaults.
 * Pointers are borrowed for the duration of the call only.
 */
typedef struct st_popen_options {
    unsigned int version;   /**< ST_POPEN_OPTIONS_VERSION. */
    int stdin_fd;           /**< ST_SUBPROCESS_INHERIT (default), ST_SUBPROCESS_PIPE, ST_SUBPROCESS_DEVNULL or a descriptor. */
    int stdout_fd;          /**< ST_SUBPROCESS_INHERIT (default), ST_SUBPROCESS_PIPE, ST_SUBPROCESS_DEVNULL or a descriptor. */
    int stderr_fd;          /**< ST_SUBPROCESS_INHERIT (default), ST_SUBPROCESS_PIPE, ST_SUBPROCESS_DEVNULL, ST_SUBPROCESS_STDOUT or a
                                 descriptor. */
    const char *cwd;        /**< Directory to run in, or NULL for the parent's. */
    const char *const *env; /**< The child's whole environment (NULL-terminated "KEY=VALUE"
                                 vector), or NULL to inherit. Its PATH is the one searched. */
    int shell;              /**< Non-zero: run `/bin/sh -c argv[0] argv[1]...`. Default 0. */
    const char *executable; /**< Program to execute instead of argv[0] (argv[0] still becomes the
                                 child's argv[0]); with shell, the shell to use. Default NULL. */
    int close_fds;          /**< Non-zero (default): close descriptors >= 3 in the child. */
    const int *pass_fds;    /**< Descriptors to keep open (inheritable) in the child; implies
                                 close_fds. */
    size_t pass_fds_len;    /**< Number of entries of @ref pass_fds. */
    int start_new_session;  /**< Non-zero: setsid() in the child. Default 0. */
    pid_t process_group;    /**< >= 0: setpgid(0, process_group) in the child. Default -1 (none). */
    int umask;              /**< >= 0: umask(umask) in the child. Default -1 (none). */
    int restore_signals;    /**< Non-zero (default): SIGPIPE and SIGXFSZ go back to SIG_DFL in
                                 the child. */
} st_popen_options;

/** @brief Python's Popen defaults. */
#define ST_POPEN_OPTIONS_INIT                                                                      \
    {ST_POPEN_OPTIONS_VERSION, ST_SUBPROCESS_INHERIT, ST_SUBPROCESS_INHERIT, ST_SUBPROCESS_INHERIT, NULL, NULL, 0, NULL, 1, NULL,  \
     0, 0, -1, -1, 1}

/** @brief A started child process (Python's Popen object). Opaque; free with st_popen_free(). */
typedef struct st_popen st_popen;

/**
 * @brief Starts a child process. Mirrors `subprocess.Popen(argv, **opts)`.
 *
 * The program is argv[0] (or opts->executable), searched in the PATH of opts->env (or of the
 * parent's environment) when it holds no slash, as Python does. Failures of the child before it
 * runs the program are raised here, as ST_EOS with the child's errno: "cannot execute 'nosuch':
 * No such file or directory" (Python: "[Errno 2] No such file or directory: 'nosuch'"), "cannot
 * change directory to '/x': ..." for a bad cwd; the failed child is already reaped.
 * Like Python, pass_fds forces close_fds on.
 * @param argv NULL-terminated argument vector, at least one element (copied).
 * @param opts Options, or NULL for Python's defaults.
 * @return A handle to free with st_popen_free(), or NULL (ST_EOS, ST_EVALUE for bad options or an
 *         empty argv, ST_ENOMEM).
 */
ST_API st_popen *st_popen_new(const char *const argv[], const st_popen_options *opts);

/**
 * @brief The child's process id. Mirrors `Popen.pid`.
 * @param p The process.
 * @return The pid.
 */
ST_API pid_t st_popen_pid(const st_popen *p);

/**
 * @brief The parent's end of the child's stdin pipe. Mirrors `Popen.stdin`.
 * @param p The process.
 * @return The descriptor (owned by @p p: closed by st_popen_communicate() or st_popen_free()), or
 *         -1 when stdin is not ST_SUBPROCESS_PIPE or the pipe was already closed.
 */
ST_API int st_popen_stdin(const st_popen *p);

/**
 * @brief The parent's end of the child's stdout pipe. Mirrors `Popen.stdout`.
 * @param p The process.
 * @return The descriptor (owned by @p p), or -1 when stdout is not ST_SUBPROCESS_PIPE or it was closed.
 */
ST_API int st_popen_stdout(const st_popen *p);

/**
 * @brief The parent's end of the child's stderr pipe. Mirrors `Popen.stderr`.
 * @param p The process.
 * @return The descriptor (owned by @p p), or -1 when stderr is not ST_SUBPROCESS_PIPE or it was closed.
 */
ST_API int st_popen_stderr(const st_popen *p);

/**
 * @brief Checks whether the child has ended, without blocking. Mirrors `Popen.poll()`.
 * @param p The process.
 * @param returncode Receives the returncode when the child has ended (may be NULL).
 * @return 1 when it has ended, 0 while it runs, -1 on error.
 */
ST_API int st_popen_poll(st_popen *p, int *returncode);

/**
 * @brief Waits for the child to end. Mirrors `Popen.wait(timeout)`.
 *
 * Does not read the pipes: a child filling a pipe nobody reads blocks, so use
 * st_popen_communicate() when stdout or stderr is ST_SUBPROCESS_PIPE. On timeout the child keeps running.
 * @param p The process.
 * @param timeout_s Seconds to wait, or ST_NO_TIMEOUT.
 * @param returncode Receives the returncode (may be NULL).
 * @return 0, or -1 (ST_ETIMEOUT as subprocess.TimeoutExpired "Command '[...]' timed out after
 *         0.5 seconds", ST_EOS).
 */
ST_API int st_popen_wait(st_popen *p, double timeout_s, int *returncode);

/**
 * @brief Sends input, reads all output until end of file, then waits. Mirrors
 *        `Popen.communicate(input, timeout)`.
 *
 * Writes, reads stdout and reads stderr at once (one poll() loop), so it never deadlocks whatever
 * the sizes; a child that stops reading its input (broken pipe) is not an error. On timeout
 * (ST_ETIMEOUT) nothing is lost: call it again, with @p input NULL, to go on where it stopped.
 * Afterwards the pipes are closed. Unlike Python, the calling thread never sees SIGPIPE.
 * @param p The process.
 * @param input Bytes for the child's stdin (needs stdin ST_SUBPROCESS_PIPE), or NULL; stdin is closed after.
 * @param input_len Number of bytes of @p input.
 * @param out Receives the child's stdout (NUL-terminated, caller frees with st_free()), or NULL
 *        when stdout is not ST_SUBPROCESS_PIPE; may be NULL to discard it.
 * @param out_len Receives its length (may be NULL).
 * @param err Like @p out, for stderr.
 * @param err_len Receives its length (may be NULL).
 * @param timeout_s Seconds for the whole exchange, or ST_NO_TIMEOUT.
 * @return 0, or -1 (ST_ETIMEOUT, ST_EVALUE "Cannot send input after starting communication"
 *         or, where Python silently drops the input, when stdin is not a pipe; ST_EOS, ST_ENOMEM).
 */
ST_API int st_popen_communicate(st_popen *p, const void *input, size_t input_len, char **out,
                               size_t *out_len, char **err, size_t *err_len, double timeout_s);

/**
 * @brief Sends a signal to the child if it is still running. Mirrors `Popen.send_signal(sig)`.
 * @param p The process.
 * @param sig The signal number.
 * @return 0 (also when the child has already ended), or -1 (ST_EOS).
 */
ST_API int st_popen_send_signal(st_popen *p, int sig);

/**
 * @brief Sends SIGTERM. Mirrors `Popen.terminate()`.
 * @param p The process.
 * @return As st_popen_send_signal().
 */
ST_API int st_popen_terminate(st_popen *p);

/**
 * @brief Sends SIGKILL. Mirrors `Popen.kill()`.
 * @param p The process.
 * @return As st_popen_send_signal().
 */
ST_API int st_popen_kill(st_popen *p);

/**
 * @brief Closes the pipes and releases the handle.
 *
 * A child that has ended is reaped. One still running is left running, as when a Python Popen
 * object is garbage-collected: the library remembers its pid and reaps it, without blocking,
 * at later calls of st_popen_new(), so it never stays a zombie for long.
 * @param p The process, or NULL.
 */
ST_API void st_popen_free(st_popen *p);

/**
 * @brief Starts a program and waits for it. Mirrors `subprocess.call(argv, **opts)`.
 * @param argv NULL-terminated argument vector.
 * @param opts Options, or NULL.
 * @param returncode Receives the child's returncode.
 * @return 0 when the child ran (whatever its returncode), or -1 when it could not be started.
 */
ST_API int st_subprocess_call(const char *const argv[], const st_popen_options *opts, int *returncode);

/**
 * @brief Runs a program and requires success. Mirrors `subprocess.check_call(argv, **opts)`.
 * @param argv NULL-terminated argument vector.
 * @param opts Options, or NULL.
 * @return 0, or -1 (ST_ECALLEDPROCESS "Command '['false']' returned non-zero exit status 1." or
 *         "Command '[...]' died with <Signals.SIGKILL: 9>.", or any error of st_popen_new()).
 */
ST_API int st_subprocess_check_call(const char *const argv[], const st_popen_options *opts);

/**
 * @brief Runs a program and returns its stdout, requiring success. Mirrors
 *        `subprocess.check_output(argv, **opts)` (bytes).
 *
 * For check_output's input= and timeout=, use st_subprocess_run() with capture and check.
 * @param argv NULL-terminated argument vector.
 * @param opts Options, or NULL; stdout_fd must be left ST_SUBPROCESS_INHERIT (it is replaced by a pipe).
 * @param len Receives the output's length (may be NULL).
 * @return The output, NUL-terminated, which the caller frees with st_free(); NULL on error
 *         (ST_ECALLEDPROCESS, ST_EVALUE "stdout argument not allowed, it will be overridden.",
 *         errors of st_popen_new()).
 */
ST_API char *st_subprocess_check_output(const char *const argv[], const st_popen_options *opts, size_t *len);

/** @brief Version of ::st_subprocess_run_options this header describes. */
#define ST_SUBPROCESS_RUN_OPTIONS_VERSION 1

/** @brief The keyword arguments of subprocess.run() that are not Popen's. */
typedef struct st_subprocess_run_options {
    unsigned int version;  /**< ST_SUBPROCESS_RUN_OPTIONS_VERSION. */
    const void *input;     /**< Bytes for the child's stdin (stdin becomes a pipe), or NULL. */
    size_t input_len;      /**< Length of @ref input. */
    int capture_output;    /**< Non-zero: stdout and stderr become pipes and are captured. */
    double timeout;        /**< Seconds, or ST_NO_TIMEOUT (default). */
    int check;             /**< Non-zero: a non-zero returncode is an error (ST_ECALLEDPROCESS). */
} st_subprocess_run_options;

/** @brief Python's run() defaults. */
#define ST_SUBPROCESS_RUN_OPTIONS_INIT {ST_SUBPROCESS_RUN_OPTIONS_VERSION, NULL, 0, 0, ST_NO_TIMEOUT, 0}

/** @brief What st_subprocess_run() returns (Python's CompletedProcess). Release with st_completed_process_free(). */
typedef struct st_completed_process {
    const char **args;        /**< The argument vector as given (owned). */
    int returncode;     /**< Exit status, or -signal. */
    char *stdout_data;  /**< Captured stdout (NUL-terminated, owned), or NULL when not a pipe. */
    size_t stdout_len;  /**< Its length. */
    char *stderr_data;  /**< Captured stderr (NUL-terminated, owned), or NULL when not a pipe. */
    size_t stderr_len;  /**< Its length. */
} st_completed_process;

/**
 * @brief Runs a program to completion. Mirrors `subprocess.run(argv, input=..., capture_output=...,
 *        timeout=..., check=..., **opts)`.
 *
 * On timeout the child is killed (with start_new_session, or process_group 0, its whole process
 * group, so grandchildren go too: a deliberate improvement on Python), reaped, and ST_ETIMEOUT is
 * raised. With check, a non-zero returncode raises ST_ECALLEDPROCESS. In both cases, as Python's
 * exceptions carry them, @p result still holds the returncode and what was captured.
 * @param argv NULL-terminated argument vector.
 * @param run Options of run(), or NULL for the defaults.
 * @param opts Options of Popen, or NULL. With input, stdin_fd must be ST_SUBPROCESS_INHERIT; with
 *        capture_output, stdout_fd and stderr_fd must be ST_SUBPROCESS_INHERIT (ST_EVALUE, Python's messages).
 * @param result Receives the outcome; release it with st_completed_process_free() whatever the return.
 * @return 0, or -1 (ST_ETIMEOUT, ST_ECALLEDPROCESS, errors of st_popen_new()).
 */
ST_API int st_subprocess_run(const char *const argv[], const st_subprocess_run_options *run,
                  const st_popen_options *opts, st_completed_process *result);

/**
 * @brief Frees what an st_completed_process holds and zeroes it.
 * @param c The result, or NULL.
 */
ST_API void st_completed_process_free(st_completed_process *c);

/**
 * @brief Runs a shell command and returns its exit code and output. Mirrors
 *        `subprocess.getstatusoutput(cmd)` (Python 3.13: the exit code, -N for signal N).
 *
 * stdout and stderr are captured together; "\r\n" and "\r" become "\n" (Python's text mode) and
 * one trailing newline is removed. Bytes are not decoded.
 * @param cmd The command for `/bin/sh -c`.
 * @param exitcode Receives the exit code.
 * @return The output (caller frees with st_free()), or NULL when the shell could not be started.
 */
ST_API char *st_subprocess_getstatusoutput(const char *cmd, int *exitcode);

/**
 * @brief Runs a shell command and returns its output. Mirrors `subprocess.getoutput(cmd)`.
 * @param cmd The command for `/bin/sh -c`.
 * @return As st_subprocess_getstatusoutput().
 */
ST_API char *st_subprocess_getoutput(const char *cmd);

/** @brief Version of ::st_subprocess_pipeline_options this header describes. */
#define ST_SUBPROCESS_PIPELINE_OPTIONS_VERSION 1

/** @brief How to run a pipeline. */
typedef struct st_subprocess_pipeline_options {
    unsigned int version;        /**< ST_SUBPROCESS_PIPELINE_OPTIONS_VERSION. */
    const st_popen_options *popen; /**< Options for every command, or NULL. Its stdin_fd applies
                                       to the first command, stdout_fd to the last (unless
                                       captured), stderr_fd to all. */
    const void *input;           /**< Bytes for the first command's stdin, or NULL. */
    size_t input_len;            /**< Length of @ref input. */
    double timeout;              /**< Seconds for the whole pipeline, or ST_NO_TIMEOUT. */
    int check;                   /**< Non-zero: fail (ST_ECALLEDPROCESS) when a command's returncode
                                      is non-zero; the last such command is reported, like
                                      bash's pipefail. */
} st_subprocess_pipeline_options;

/** @brief Defaults for st_subprocess_pipeline(). */
#define ST_SUBPROCESS_PIPELINE_OPTIONS_INIT {ST_SUBPROCESS_PIPELINE_OPTIONS_VERSION, NULL, NULL, 0, ST_NO_TIMEOUT, 0}

/**
 * @brief Runs `cmd0 | cmd1 | ... ` : each command's stdout feeds the next one's stdin.
 *
 * Python leaves this to the user (Popen with stdout=PIPE chained into the next stdin); this does
 * it with the parent keeping no pipe end between commands, so every command sees end of file
 * and SIGPIPE as in a shell. On timeout all commands are killed and reaped. After ST_ETIMEOUT
 * or ST_ECALLEDPROCESS, @p returncodes and @p out are still filled (out with what was read);
 * when a command cannot start, those already started are killed and reaped.
 * @param argvs @p n argument vectors.
 * @param n Number of commands, at least 1.
 * @param opts Options, or NULL.
 * @param returncodes Receives the @p n returncodes (may be NULL).
 * @param out Receives the last command's stdout (caller frees with st_free()), or NULL to let it
 *        go to opts->popen->stdout_fd.
 * @param out_len Receives its length (may be NULL).
 * @return 0, or -1 (ST_ETIMEOUT, ST_ECALLEDPROCESS, errors of st_popen_new()).
 */
ST_API int st_subprocess_pipeline(const char *const *const argvs[], size_t n,
                       const st_subprocess_pipeline_options *opts, int *returncodes, char **out,
                       size_t *out_len);

#ifdef __cplusplus
}
#endif

/** @} */

#endif
