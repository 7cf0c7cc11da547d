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
 * zombie, on every path: where posix_spawn() would let a failed exec pass as exit status 127
 * (valgrind and qemu-user run its vfork-like clone as a fork, as do old C libraries), which the
 * library checks once per process, every spawn takes the vfork path and its error pipe. With
 * close_fds (the default) the child closes its descriptors with close_range() or closefrom()
 * where the system has them. Where it has pidfds (Linux 5.3 and later) each st_popen holds one
 * (close-on-exec), for signals without a pid-reuse race and waits that sleep in poll(). Every descriptor the library creates is close-on-exec from birth, so concurrent spawns
 * from several threads never leak each other's pipes. The library never installs a SIGCHLD
 * handler and only ever waits for the pids it started.
 *
 * A returncode is Python's: the exit status, or -N when the child was killed by signal N.
 * Timeout arguments are in seconds; ST_NO_TIMEOUT (any negative value) means none, as Python's
 * None. In an options struct a timeout of 0 means None (all-zero options are Python's defaults).
 * A TimeoutExpired message always names the timeout the caller gave; Python sometimes names
 * the time that was left when its final wait() began.
 *
 * What Python returns as a tuple or carries in an exception (`CompletedProcess`,
 * `CalledProcessError.output`, `TimeoutExpired.stdout`) comes back in one struct,
 * ::st_completed_process, that the caller passes and frees with st_completed_process_free()
 * whatever the call returned.
 *
 * @code
 * const char *argv[] = {"ls", "-l", NULL};
 * size_t len;
 * char *out = st_subprocess_check_output(argv, NULL, &len, NULL); // like subprocess.check_output()
 * if (!out) { fprintf(stderr, "%s\n", st_error_message()); return 1; }
 * fwrite(out, 1, len, stdout);
 * st_free(out);
 *
 * st_popen_options o = ST_POPEN_OPTIONS_INIT;       // all Python's defaults
 * o.stdin_fd = ST_SUBPROCESS_PIPE;
 * o.stdout_fd = ST_SUBPROCESS_PIPE;
 * const char *cat[] = {"cat", NULL};
 * st_popen *p = st_popen_new(cat, &o);
 * st_completed_process r;
 * if (st_popen_communicate(p, "hi\n", 3, 5.0, &r) == 0)
 *     fwrite(r.stdout_data, 1, r.stdout_len, stdout);
 * st_completed_process_free(&r);
 * st_popen_free(p);
 * @endcode
 * @{
 */

#ifdef __cplusplus
extern "C" {
#endif

/** @brief stdio option: the child shares the parent's descriptor (Python's None, the default). */
#define ST_SUBPROCESS_INHERIT 0
/** @brief stdio option: a new pipe to the parent (Python's subprocess.PIPE). */
#define ST_SUBPROCESS_PIPE (-1)
/** @brief stderr option: the child's stderr goes where its stdout goes (subprocess.STDOUT). */
#define ST_SUBPROCESS_STDOUT (-2)
/** @brief stdio option: the child's descriptor is opened on /dev/null (subprocess.DEVNULL). */
#define ST_SUBPROCESS_DEVNULL (-3)
/**
 * @brief stdio option: the parent's descriptor @p fd (>= 0), as Python's `stdin=fd`.
 *
 * A descriptor must be given through this macro: 0 in a stdio field means
 * ST_SUBPROCESS_INHERIT, so a bare descriptor number would make fd 0 mean something else, and
 * a bare positive number is refused with ST_EVALUE instead of being guessed at. The value is an
 * encoding (a negative number below the other constants); only this macro makes it.
 */
#define ST_SUBPROCESS_FD(fd) (-8 - (fd))
/** @brief Version of ::st_popen_options this header describes. */
#define ST_POPEN_OPTIONS_VERSION 1

/**
 * @brief How to start a child: the keyword arguments of Python's Popen.
 *
 * All fields zero but the version are Python's defaults: initialise with ST_POPEN_OPTIONS_INIT
 * or st_popen_options_init(), then set the fields that differ. Pointers are borrowed for the
 * duration of the call only.
 */
typedef struct st_popen_options {
    unsigned int version;   /**< ST_POPEN_OPTIONS_VERSION. */
    int stdin_fd;           /**< ST_SUBPROCESS_INHERIT (0, default), ST_SUBPROCESS_PIPE,
                                 ST_SUBPROCESS_DEVNULL or ST_SUBPROCESS_FD(fd). */
    int stdout_fd;          /**< ST_SUBPROCESS_INHERIT (0, default), ST_SUBPROCESS_PIPE,
                                 ST_SUBPROCESS_DEVNULL or ST_SUBPROCESS_FD(fd). */
    int stderr_fd;          /**< ST_SUBPROCESS_INHERIT (0, default), ST_SUBPROCESS_PIPE,
                                 ST_SUBPROCESS_DEVNULL, ST_SUBPROCESS_STDOUT or
                                 ST_SUBPROCESS_FD(fd). */
    const char *cwd;        /**< Directory to run in, or NULL for the parent's. */
    const char *const *env; /**< The child's whole environment (NULL-terminated "KEY=VALUE"
                                 vector), or NULL to inherit. Its PATH is the one searched. */
    int shell;              /**< Non-zero: run `/bin/sh -c argv[0] argv[1]...`. Default 0. */
    const char *executable; /**< Program to execute instead of argv[0] (argv[0] still becomes the
                                 child's argv[0]); with shell, the shell to use. Default NULL. */
    int keep_fds;           /**< Non-zero: Python's close_fds=False, descriptors >= 3 that are
                                 inheritable stay open in the child. 0 (default): close_fds=True. */
    const int *pass_fds;    /**< Descriptors to keep open (inheritable) in the child; implies
                                 close_fds, whatever @ref keep_fds says. */
    size_t pass_fds_len;    /**< Number of entries of @ref pass_fds. */
    int start_new_session;  /**< Non-zero: setsid() in the child. Default 0. */
    int set_process_group;  /**< Non-zero: setpgid(0, @ref process_group) in the child (Python's
                                 process_group=N). 0 (default): Python's None. */
    pid_t process_group;    /**< The group, read only with @ref set_process_group; 0 makes the
                                 child lead a new group of its own. */
    int set_umask;          /**< Non-zero: umask(@ref umask) in the child (Python's umask=N).
                                 0 (default): Python's -1, the umask is inherited. */
    int umask;              /**< The mask (0 to 0777), read only with @ref set_umask. */
    int keep_signals;       /**< Non-zero: Python's restore_signals=False, SIGPIPE and SIGXFSZ
                                 keep the parent's dispositions. 0 (default): they go back to
                                 SIG_DFL in the child. */
} st_popen_options;

/** @brief Python's Popen defaults: every field zero but the version (designated, so that
 *         -Wmissing-field-initializers stays quiet). */
#define ST_POPEN_OPTIONS_INIT {.version = ST_POPEN_OPTIONS_VERSION}

/**
 * @brief Sets @p opts to Python's Popen defaults, for callers that cannot use
 *        ST_POPEN_OPTIONS_INIT (libgit2's git_clone_options_init pattern).
 * @param opts The struct to initialise.
 * @param version ST_POPEN_OPTIONS_VERSION (any version from 1 to it).
 * @return 0, or -1 with ST_EVALUE for a NULL @p opts or an unknown version (@p opts untouched).
 */
ST_API int st_popen_options_init(st_popen_options *opts, unsigned int version);

/** @brief A started child process (Python's Popen object). Opaque; free with st_popen_free(). */
typedef struct st_popen st_popen;

/**
 * @brief The outcome of a child: Python's CompletedProcess, and the data that
 *        CalledProcessError and TimeoutExpired carry.
 *
 * Filled by st_popen_communicate(), st_subprocess_run(), and on failure by
 * st_subprocess_check_output() and st_subprocess_check_call(). Every function that takes one
 * zeroes it first, so st_completed_process_free() is always safe after the call, whatever it
 * returned.
 */
typedef struct st_completed_process {
    const char **args;  /**< The argument vector as given (owned; Python's args / cmd). */
    int returncode;     /**< Exit status, or -signal; 0 while the child has not been reaped (a
                             communicate that timed out): see st_popen_returncode(). */
    char *stdout_data;  /**< Captured stdout (NUL-terminated, owned), or NULL (Python's None)
                             when stdout was not a pipe, or after a timeout when nothing was
                             read yet. */
    size_t stdout_len;  /**< Its length. */
    char *stderr_data;  /**< Captured stderr (NUL-terminated, owned), or NULL as @ref stdout_data. */
    size_t stderr_len;  /**< Its length. */
} st_completed_process;

/**
 * @brief Frees what an st_completed_process holds and zeroes it.
 * @param c The result, or NULL.
 */
ST_API void st_completed_process_free(st_completed_process *c);

/**
 * @brief Starts a child process. Mirrors `subprocess.Popen(argv, **opts)`.
 *
 * The program is argv[0] (or opts->executable), searched in the PATH of opts->env (or of the
 * parent's environment) when it holds no slash, as Python does. Failures of the child before it
 * runs the program are raised here, as ST_EOS with the child's errno: "cannot execute 'nosuch':
 * No such file or directory" (Python: "[Errno 2] No such file or directory: 'nosuch'"), "cannot
 * change directory to '/x': ..." for a bad cwd; the failed child is already reaped.
 * Like Python, pass_fds forces close_fds on.
 * @note Threads: safe to call from many threads at once (the child makes only system calls before
 *       exec); each st_popen serves one thread at a time.
 * @param argv NULL-terminated argument vector, at least one element (copied).
 * @param opts Options, or NULL for Python's defaults.
 * @return A handle to free with st_popen_free(), or NULL (ST_EOS, ST_EVALUE for bad options, a
 *         version 0 struct or an empty argv, ST_ENOMEM).
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
 * @return 1 when it has ended, 0 while it runs (Python's None), -1 on error (ST_EOS).
 */
ST_API int st_popen_poll(st_popen *p, int *returncode);

/**
 * @brief The returncode once the child has been reaped. Mirrors the `Popen.returncode`
 *        attribute.
 *
 * Like the attribute, it only reports: it neither waits nor polls. The child is reaped by
 * st_popen_poll(), st_popen_wait(), st_popen_communicate() (when it finishes), and by
 * st_popen_send_signal() and friends, which poll first.
 * @param p The process.
 * @param returncode Receives the exit status, or -N for signal N, when the child has been reaped
 *        (may be NULL); untouched otherwise.
 * @return 1 when it has been reaped, 0 when not yet (Python's None), -1 with ST_EVALUE when @p p
 *         is NULL.
 */
ST_API int st_popen_returncode(const st_popen *p, int *returncode);

/**
 * @brief Waits for the child to end. Mirrors `Popen.wait(timeout)`.
 *
 * Does not read the pipes: a child filling a pipe nobody reads blocks, so use
 * st_popen_communicate() when stdout or stderr is ST_SUBPROCESS_PIPE. On timeout the child keeps running.
 * @param p The process.
 * @param timeout_s Seconds to wait (0 only checks), or ST_NO_TIMEOUT.
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
 * the sizes; a child that stops reading its input (broken pipe) is not an error. Afterwards the
 * pipes are closed and the child is reaped (st_popen_returncode() answers 1). Unlike Python, the
 * calling thread never sees SIGPIPE.
 *
 * On timeout (ST_ETIMEOUT) the child keeps running, as in Python (st_popen_stop() ends it,
 * with its process group when it leads one), and @p result holds what was read so far
 * (Python's TimeoutExpired.stdout and .stderr, NULL for a stream that gave nothing yet, as
 * Python's None); nothing is lost: call it again, with @p input
 * NULL, to go on where it stopped, and that call's result holds the whole output from the start,
 * as in Python.
 * @param p The process.
 * @param input Bytes for the child's stdin (needs stdin ST_SUBPROCESS_PIPE), or NULL; stdin is
 *        closed after.
 * @param input_len Number of bytes of @p input.
 * @param timeout_s Seconds for the whole exchange, or ST_NO_TIMEOUT.
 * @param result Zeroed, then receives args, the child's stdout and stderr (NULL for a stream that
 *        is not ST_SUBPROCESS_PIPE) and, on success, its returncode; free it with
 *        st_completed_process_free() whatever the return. May be NULL to discard the output.
 * @return 0, or -1 (ST_ETIMEOUT, ST_EVALUE "Cannot send input after starting communication"
 *         or, where Python silently drops the input, when stdin is not a pipe; ST_EOS, ST_ENOMEM).
 */
ST_API int st_popen_communicate(st_popen *p, const void *input, size_t input_len, double timeout_s,
                                st_completed_process *result);

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

/** @brief Seconds st_popen_stop() waits after the first signal before SIGKILL, by default. */
#define ST_POPEN_STOP_GRACE 3.0

/** @brief Which step of st_popen_stop()'s ladder ended the child. */
typedef enum st_popen_stop_step {
    ST_POPEN_STOP_EXITED = 0, /**< It had already ended: no signal was needed. */
    ST_POPEN_STOP_SIGNAL = 1, /**< It ended within the grace period after the first signal. */
    ST_POPEN_STOP_KILL = 2    /**< It had to be killed with SIGKILL. */
} st_popen_stop_step;

/** @brief Version of ::st_popen_stop_options this header describes. */
#define ST_POPEN_STOP_OPTIONS_VERSION 1

/**
 * @brief How st_popen_stop() stops a child. All fields zero but the version are the defaults:
 *        initialise with ST_POPEN_STOP_OPTIONS_INIT or st_popen_stop_options_init().
 */
typedef struct st_popen_stop_options {
    unsigned int version; /**< ST_POPEN_STOP_OPTIONS_VERSION. */
    int signal;           /**< The polite signal sent first; 0 (default): SIGTERM. SIGKILL skips
                               straight to the last step. */
    double grace;         /**< Seconds to wait after it before SIGKILL; 0 (default):
                               ST_POPEN_STOP_GRACE; negative: wait for ever (no SIGKILL). */
} st_popen_stop_options;

/** @brief The defaults of st_popen_stop(): SIGTERM, then SIGKILL after ST_POPEN_STOP_GRACE. */
#define ST_POPEN_STOP_OPTIONS_INIT {.version = ST_POPEN_STOP_OPTIONS_VERSION}

/**
 * @brief Sets @p opts to the defaults of st_popen_stop(), for callers that cannot use
 *        ST_POPEN_STOP_OPTIONS_INIT.
 * @param opts The struct to initialise.
 * @param version ST_POPEN_STOP_OPTIONS_VERSION (any version from 1 to it).
 * @return 0, or -1 with ST_EVALUE for a NULL @p opts or an unknown version (@p opts untouched).
 */
ST_API int st_popen_stop_options_init(st_popen_stop_options *opts, unsigned int version);

/**
 * @brief Stops the child politely, then firmly, in one call: sends the signal (SIGTERM by
 *        default), waits up to the grace period for it to end, then sends SIGKILL; always
 *        reaps it. Python has no such call (it is `terminate(); wait(grace)`, then `kill();
 *        wait()` on TimeoutExpired); reproc's stop actions are the model.
 *
 * When the child leads a process group (start_new_session, or a process_group of 0) each
 * signal goes to the whole group, and once the leader has ended, whichever step ended it, the
 * group gets SIGKILL: no grandchild outlives the stop. Signals to a lone child go through its
 * pidfd where the system has them (no pid-reuse race), else through kill(). The wait sleeps in
 * poll() on the pidfd, or without pidfds in Python's back-off loop (0.5 ms doubling to 50 ms).
 * A child that was reaped before the call is left alone, its group too (its id may have been
 * reused), and ST_POPEN_STOP_EXITED is reported.
 * @param p The process.
 * @param opts The signal and grace period, or NULL for the defaults.
 * @param returncode Receives the returncode (-9 after SIGKILL) (may be NULL).
 * @param step Receives the step that ended the child (may be NULL).
 * @return 0, or -1 (ST_EVALUE for a bad signal or options, ST_EOS when the child cannot be
 *         signalled, e.g. EPERM: it is then left running, not waited for).
 */
ST_API int st_popen_stop(st_popen *p, const st_popen_stop_options *opts, int *returncode,
                         st_popen_stop_step *step);

/**
 * @brief Waits for the first of several children to end. Python has no such call (its nearest
 *        is concurrent.futures.wait(return_when=FIRST_COMPLETED) over futures).
 *
 * The child found ended is reaped (st_popen_returncode() then answers); one reaped before
 * counts at once. Only our own pids are ever waited for: children the library did not start
 * are never reaped. With a pidfd for every child (Linux 5.3 and later) it sleeps in one poll()
 * until one ends; otherwise it checks each child with waitpid(WNOHANG) between the sleeps of
 * Python's back-off (0.5 ms doubling up to 50 ms), as Popen.wait(timeout) does, so a child's end
 * is seen at most 50 ms late and nothing spins.
 * @param procs @p n processes (none NULL).
 * @param n Their number, at least 1.
 * @param timeout_s Seconds to wait (0 only checks), or ST_NO_TIMEOUT.
 * @param index Receives the index in @p procs of the child that ended (may be NULL).
 * @return 0, or -1 (ST_ETIMEOUT "none of 3 processes ended within 0.5 seconds", ST_EVALUE for
 *         no or NULL processes, ST_EOS).
 */
ST_API int st_popen_wait_any(st_popen *const procs[], size_t n, double timeout_s, size_t *index);

/**
 * @brief Waits for all of several children to end within one timeout, reaping each. Python's
 *        nearest is concurrent.futures.wait(return_when=ALL_COMPLETED).
 *
 * Waits as st_popen_wait_any() does; on timeout those that ended are reaped and the others
 * keep running.
 * @param procs @p n processes (none NULL).
 * @param n Their number, at least 1.
 * @param timeout_s Seconds for them all, or ST_NO_TIMEOUT.
 * @return 0, or -1 (ST_ETIMEOUT "not all of 3 processes ended within 0.5 seconds", ST_EVALUE,
 *         ST_EOS).
 */
ST_API int st_popen_wait_all(st_popen *const procs[], size_t n, double timeout_s);

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
 * @param result May be NULL. Zeroed; after ST_ECALLEDPROCESS it holds what CalledProcessError
 *        carries: args and returncode (stdout and stderr NULL: check_call reads nothing, as
 *        Python's). Free it with st_completed_process_free() whatever the return.
 * @return 0, or -1 (ST_ECALLEDPROCESS "Command '['false']' returned non-zero exit status 1." or
 *         "Command '[...]' died with <Signals.SIGKILL: 9>.", or any error of st_popen_new()).
 */
ST_API int st_subprocess_check_call(const char *const argv[], const st_popen_options *opts,
                                    st_completed_process *result);

/**
 * @brief Runs a program and returns its stdout, requiring success. Mirrors
 *        `subprocess.check_output(argv, **opts)` (bytes).
 *
 * For check_output's input= and timeout=, use st_subprocess_run() with capture and check.
 * @param argv NULL-terminated argument vector.
 * @param opts Options, or NULL; stdout_fd must be left ST_SUBPROCESS_INHERIT (it is replaced by a
 *        pipe). With stderr_fd ST_SUBPROCESS_PIPE, stderr is captured for @p result.
 * @param len Receives the output's length (may be NULL).
 * @param result May be NULL. Zeroed; after ST_ECALLEDPROCESS it holds what CalledProcessError
 *        carries: args, returncode, the output (Python's .output / .stdout) and stderr when it
 *        was piped. Free it with st_completed_process_free() whatever the return.
 * @return The output, NUL-terminated, which the caller frees with st_free(); NULL on error
 *         (ST_ECALLEDPROCESS, ST_EVALUE "stdout argument not allowed, it will be overridden.",
 *         errors of st_popen_new()).
 */
ST_API char *st_subprocess_check_output(const char *const argv[], const st_popen_options *opts,
                                        size_t *len, st_completed_process *result);

/** @brief Version of ::st_subprocess_run_options this header describes. */
#define ST_SUBPROCESS_RUN_OPTIONS_VERSION 2

/**
 * @brief The keyword arguments of subprocess.run() that are not Popen's.
 *
 * All fields zero but the version are Python's defaults: initialise with
 * ST_SUBPROCESS_RUN_OPTIONS_INIT or st_subprocess_run_options_init().
 */
typedef struct st_subprocess_run_options {
    unsigned int version;  /**< ST_SUBPROCESS_RUN_OPTIONS_VERSION. */
    const void *input;     /**< Bytes for the child's stdin (stdin becomes a pipe; non-NULL with
                                length 0 is Python's b""), or NULL (None, the default). */
    size_t input_len;      /**< Length of @ref input. */
    int capture_output;    /**< Non-zero: stdout and stderr become pipes and are captured. */
    double timeout;        /**< Seconds; 0 (default) or negative: Python's None, no limit. To
                                time out at once, give a tiny positive value. */
    int check;             /**< Non-zero: a non-zero returncode is an error (ST_ECALLEDPROCESS). */
    /* Version 2: */
    int stop_signal;       /**< How a timeout stops the child, through st_popen_stop()'s ladder:
                                the first signal (e.g. SIGTERM). 0 (default): SIGKILL at once,
                                Python's process.kill(). */
    double stop_grace;     /**< Seconds the child gets after @ref stop_signal before SIGKILL;
                                0 (default): ST_POPEN_STOP_GRACE; negative: no SIGKILL. */
} st_subprocess_run_options;

/** @brief Python's run() defaults: every field zero but the version (designated, as
 *         ST_POPEN_OPTIONS_INIT). */
#define ST_SUBPROCESS_RUN_OPTIONS_INIT {.version = ST_SUBPROCESS_RUN_OPTIONS_VERSION}

/**
 * @brief Sets @p opts to Python's run() defaults, for callers that cannot use
 *        ST_SUBPROCESS_RUN_OPTIONS_INIT.
 * @param opts The struct to initialise.
 * @param version ST_SUBPROCESS_RUN_OPTIONS_VERSION (any version from 1 to it).
 * @return 0, or -1 with ST_EVALUE for a NULL @p opts or an unknown version (@p opts untouched).
 */
ST_API int st_subprocess_run_options_init(st_subprocess_run_options *opts, unsigned int version);

/**
 * @brief Runs a program to completion. Mirrors `subprocess.run(argv, input=..., capture_output=...,
 *        timeout=..., check=..., **opts)`.
 *
 * On timeout the child is stopped with st_popen_stop()'s ladder and reaped, and ST_ETIMEOUT is
 * raised. By default (stop_signal 0) that is Python's process.kill(): SIGKILL at once; with
 * stop_signal set, the child first gets that signal and stop_grace seconds to end (where
 * Python always kills at once). When the child leads a process group (start_new_session, or a
 * process_group of 0) the whole group is signalled and then killed, so no grandchild survives
 * holding the pipes open (a deliberate improvement on Python, where `sh -c 'sleep 100 & ...'`
 * keeps run() waiting for end of file). With check, a non-zero returncode raises ST_ECALLEDPROCESS. In both
 * cases, as Python's exceptions carry them, @p result still holds the returncode and what was
 * captured.
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
#define ST_SUBPROCESS_PIPELINE_OPTIONS_VERSION 2

/**
 * @brief How to run a pipeline.
 *
 * All fields zero but the version are the defaults (Python's, where Python has the option):
 * initialise with ST_SUBPROCESS_PIPELINE_OPTIONS_INIT or st_subprocess_pipeline_options_init().
 */
typedef struct st_subprocess_pipeline_options {
    unsigned int version;        /**< ST_SUBPROCESS_PIPELINE_OPTIONS_VERSION. */
    const st_popen_options *popen; /**< Options for every command, or NULL. Its stdin_fd applies
                                       to the first command, stdout_fd to the last (unless
                                       captured), stderr_fd to all. */
    const void *input;           /**< Bytes for the first command's stdin, or NULL. */
    size_t input_len;            /**< Length of @ref input. */
    double timeout;              /**< Seconds for the whole pipeline; 0 (default) or negative:
                                      no limit. */
    int check;                   /**< Non-zero: fail (ST_ECALLEDPROCESS) when a command's returncode
                                      is non-zero; the last such command is reported, like
                                      bash's pipefail. */
    /* Version 2: */
    int stop_signal;             /**< How a timeout stops the commands, all at once through
                                      st_popen_stop()'s ladder: the first signal. 0 (default):
                                      SIGKILL at once. */
    double stop_grace;           /**< Seconds they all get after @ref stop_signal before
                                      SIGKILL; 0 (default): ST_POPEN_STOP_GRACE; negative: no
                                      SIGKILL. */
} st_subprocess_pipeline_options;

/** @brief Defaults for st_subprocess_pipeline(): every field zero but the version (designated,
 *         as ST_POPEN_OPTIONS_INIT). */
#define ST_SUBPROCESS_PIPELINE_OPTIONS_INIT {.version = ST_SUBPROCESS_PIPELINE_OPTIONS_VERSION}

/**
 * @brief Sets @p opts to the defaults of st_subprocess_pipeline(), for callers that cannot use
 *        ST_SUBPROCESS_PIPELINE_OPTIONS_INIT.
 * @param opts The struct to initialise.
 * @param version ST_SUBPROCESS_PIPELINE_OPTIONS_VERSION (any version from 1 to it).
 * @return 0, or -1 with ST_EVALUE for a NULL @p opts or an unknown version (@p opts untouched).
 */
ST_API int st_subprocess_pipeline_options_init(st_subprocess_pipeline_options *opts,
                                               unsigned int version);

/**
 * @brief Runs `cmd0 | cmd1 | ... ` : each command's stdout feeds the next one's stdin.
 *
 * Python leaves this to the user (Popen with stdout=PIPE chained into the next stdin); this does
 * it with the parent keeping no pipe end between commands, so every command sees end of file
 * and SIGPIPE as in a shell. On timeout all commands are stopped at once (opts->stop_signal,
 * one stop_grace for all, then SIGKILL; by default SIGKILL at once) and reaped; a command that
 * leads a process group is stopped with its group, as in st_popen_stop(). After ST_ETIMEOUT
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
