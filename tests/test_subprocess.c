/* subprocess: Popen options, exec failures, communicate (sizes, timeouts, EINTR, broken pipes),
 * run/call/check_*, getoutput, pipelines, threads, no fd or child leaks; messages checked against
 * CPython 3.13 live. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "internal/posix.h"
#include "support/proof.h"
#include "support/support.h"
#include "systools/systools.h"

/* No child of ours is left, running or zombie. */
static void assert_no_children(void)
{
    errno = 0;
    assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
    assert_int_equal(errno, ECHILD);
}

/* The state letter of /proc/<pid>/stat ('Z' for a zombie), or 0 when the process is gone. */
static char proc_state(long pid)
{
    char path[64], st[512] = "";
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(st, 1, sizeof st - 1, f);
    fclose(f);
    char *rp = strrchr(st, ')');
    return n > 0 && rp ? rp[2] : 0;
}

/* Waits up to 5 s for a process to end (gone or zombie). */
static int ended(long pid)
{
    for (int i = 0; i < 500; i++) {
        char s = proc_state(pid);
        if (s == 0 || s == 'Z')
            return 1;
        usleep(10000);
    }
    return 0;
}

/* Runs argv with stdout captured; returns the output (free()). */
static char *out_of(const char *const *argv, st_popen_options *o)
{
    st_popen_options d = ST_POPEN_OPTIONS_INIT;
    char *out = st_subprocess_check_output(argv, o ? o : &d, NULL, NULL);
    if (!out)
        fprintf(stderr, "check_output failed: %s\n", st_error_message());
    assert_non_null(out);
    return out;
}

/* readlink of one of our descriptors, as the child would show it. */
static void fd_target(int fd, char *buf, size_t size)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(path, buf, size - 1);
    assert_true(n > 0);
    buf[n] = '\0';
}

/* A caller built against version 1 of a grown struct has the smaller struct: init at version 1
 * writes nothing past it, and run() and pipeline() read nothing past it. */
static void test_options_version_1(void **state)
{
    (void)state;
    ST_OPTIONS_V1(st_subprocess_run_options, st_subprocess_run_options_init, stop_signal, r);
    const char *t[] = {"true", NULL};
    st_completed_process c;
    assert_int_equal(st_subprocess_run(t, &r.o, NULL, &c), 0); /* stop_signal 0xAAAAAAAA: unread */
    st_completed_process_free(&c);
    ST_OPTIONS_V1(st_subprocess_pipeline_options, st_subprocess_pipeline_options_init,
                  stop_signal, l);
    const char *const *one[] = {t};
    assert_int_equal(st_subprocess_pipeline(one, 1, &l.o, NULL, NULL, NULL), 0);
}

static void test_options_zero_is_python_default(void **state)
{
    (void)state;
    /* INIT is every field zero but the version, and so is _init(). */
    ST_ASSERT_OPTIONS_INIT(st_popen_options, ST_POPEN_OPTIONS_INIT, ST_POPEN_OPTIONS_VERSION,
                           st_popen_options_init);
    ST_ASSERT_OPTIONS_INIT(st_subprocess_run_options, ST_SUBPROCESS_RUN_OPTIONS_INIT,
                           ST_SUBPROCESS_RUN_OPTIONS_VERSION, st_subprocess_run_options_init);
    ST_ASSERT_OPTIONS_INIT(st_subprocess_pipeline_options, ST_SUBPROCESS_PIPELINE_OPTIONS_INIT,
                           ST_SUBPROCESS_PIPELINE_OPTIONS_VERSION, st_subprocess_pipeline_options_init);
    ST_ASSERT_OPTIONS_INIT(st_popen_stop_options, ST_POPEN_STOP_OPTIONS_INIT,
                           ST_POPEN_STOP_OPTIONS_VERSION, st_popen_stop_options_init);

    /* {0} was never initialised: every entry point refuses it with ValueError. */
    const st_popen_options zero = {0};
    const char *t[] = {"true", NULL};
    int rc;
    st_completed_process c;
    assert_null(st_popen_new(t, &zero));
    assert_int_equal(st_error_code(), ST_EVALUE);
    assert_string_equal(st_error_message(), "st_popen_options.version is 0: initialise it with its "
                                            "_INIT macro or st_popen_options_init()");
    assert_int_equal(st_subprocess_call(t, &zero, &rc), -1);
    assert_int_equal(st_error_code(), ST_EVALUE);
    assert_int_equal(st_subprocess_check_call(t, &zero, NULL), -1);
    assert_int_equal(st_error_code(), ST_EVALUE);
    assert_null(st_subprocess_check_output(t, &zero, NULL, NULL));
    assert_int_equal(st_error_code(), ST_EVALUE);
    assert_int_equal(st_subprocess_run(t, NULL, &zero, &c), -1);
    assert_int_equal(st_error_code(), ST_EVALUE);
    st_completed_process_free(&c);
    const st_subprocess_run_options rzero = {0};
    assert_int_equal(st_subprocess_run(t, &rzero, NULL, &c), -1);
    assert_string_equal(st_error_message(), "st_subprocess_run_options.version is 0: initialise it "
                                            "with its _INIT macro or st_subprocess_run_options_init()");
    st_completed_process_free(&c);
    const char *const *one[] = {t};
    st_subprocess_pipeline_options lzero = {0};
    assert_int_equal(st_subprocess_pipeline(one, 1, &lzero, NULL, NULL, NULL), -1);
    assert_int_equal(st_error_code(), ST_EVALUE);
    st_subprocess_pipeline_options lz = ST_SUBPROCESS_PIPELINE_OPTIONS_INIT;
    lz.popen = &zero;
    assert_int_equal(st_subprocess_pipeline(one, 1, &lz, NULL, NULL, NULL), -1);
    assert_int_equal(st_error_code(), ST_EVALUE);
    /* NULL options are the defaults. */
    assert_int_equal(st_subprocess_run(t, NULL, NULL, &c), 0);
    st_completed_process_free(&c);
    assert_int_equal(st_subprocess_pipeline(one, 1, NULL, NULL, NULL, NULL), 0);

    /* Zero options behave as Python's Popen defaults: stdin and stderr inherited, close_fds,
     * restore_signals, and the parent's umask, process group and session. */
    int pp[2];
    assert_int_equal(pipe(pp), 0); /* inheritable: only close_fds keeps it from the child */
    struct sigaction ign, old;
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &ign, &old);
    char cmd[256];
    snprintf(cmd, sizeof cmd,
             "umask; cut -d' ' -f5,6 /proc/self/stat; readlink /proc/self/fd/0 /proc/self/fd/2; "
             "test -e /proc/self/fd/%d && echo open || echo closed; grep SigIgn /proc/self/status", pp[1]);
    const char *sh[] = {"/bin/sh", "-c", cmd, NULL};
    const st_popen_options pz = ST_POPEN_OPTIONS_INIT;
    const st_popen_options *variants[] = {&pz, NULL};
    for (int i = 0; i < 2; i++) {
        char *s = st_subprocess_check_output(sh, variants[i], NULL, NULL);
        assert_non_null(s);
        mode_t mask = umask(0);
        umask(mask);
        char in0[256], err2[256], want[1024];
        fd_target(0, in0, sizeof in0);
        fd_target(2, err2, sizeof err2);
        snprintf(want, sizeof want, "%04o\n%ld %ld\n%s\n%s\nclosed\nSigIgn:", (unsigned)mask,
                 (long)getpgrp(), (long)getsid(0), in0, err2);
        assert_memory_equal(s, want, strlen(want));
        unsigned long long ignored = strtoull(s + strlen(want), NULL, 16);
        assert_int_equal((ignored >> (SIGPIPE - 1)) & 1, 0);
        st_free(s);
    }
    sigaction(SIGPIPE, &old, NULL);
    close(pp[0]);
    close(pp[1]);
    assert_no_children();
}

static void test_call_returncodes(void **state)
{
    (void)state;
    int rc = 99;
    const char *t[] = {"true", NULL}, *f[] = {"false", NULL};
    const char *ex[] = {"/bin/sh", "-c", "exit 7", NULL}, *sig[] = {"/bin/sh", "-c", "kill -9 $$", NULL};
    assert_int_equal(st_subprocess_call(t, NULL, &rc), 0);
    assert_int_equal(rc, 0);
    assert_int_equal(st_subprocess_call(f, NULL, &rc), 0);
    assert_int_equal(rc, 1);
    assert_int_equal(st_subprocess_call(ex, NULL, &rc), 0);
    assert_int_equal(rc, 7);
    assert_int_equal(st_subprocess_call(sig, NULL, &rc), 0);
    assert_int_equal(rc, -9);
    assert_int_equal(st_subprocess_check_call(t, NULL, NULL), 0);
    assert_no_children();
}

static void check_exec_failure(const char *prog, const st_popen_options *o, int err, const char *msg)
{
    const char *argv[] = {prog, NULL};
    assert_null(st_popen_new(argv, o));
    assert_int_equal(st_error_code(), ST_EOS);
    assert_int_equal(st_error_errno(), err);
    assert_string_equal(st_error_message(), msg);
    assert_no_children();
}

static void test_exec_failure(void **state)
{
    (void)state;
    st_popen_options slow = ST_POPEN_OPTIONS_INIT; /* cwd: the vfork path */
    slow.cwd = "/";
    const st_popen_options *paths[] = {NULL, &slow};
    /* Where posix_spawn lets an exec failure pass as exit status 127 (valgrind and qemu-user run
     * its CLONE_VFORK as a fork), the library notices and takes the vfork path: every path
     * reports, here and under those tools (the valgrind ctest runs this case). */
    for (int i = 0; i < 2; i++) {
        check_exec_failure("nosuch-prog-st", paths[i], ENOENT,
                           "cannot execute 'nosuch-prog-st': No such file or directory");
        check_exec_failure("/no/such/prog", paths[i], ENOENT,
                           "cannot execute '/no/such/prog': No such file or directory");
        check_exec_failure("/etc/passwd", paths[i], EACCES,
                           "cannot execute '/etc/passwd': Permission denied");
        assert_string_equal(st_error_last()->type, "PermissionError");
    }
    st_popen_options o = ST_POPEN_OPTIONS_INIT;
    o.cwd = "/nonexistent-dir-st";
    check_exec_failure("true", &o, ENOENT,
                       "cannot change directory to '/nonexistent-dir-st': No such file or directory");
    /* PATH comes from the child's env, as Python searches it. */
    const char *env_nopath[] = {"PATH=/nonexistent-dir-st", NULL};
    o = (st_popen_options)ST_POPEN_OPTIONS_INIT;
    o.env = env_nopath;
    check_exec_failure("true", &o, ENOENT, "cannot execute 'true': No such file or directory");
    /* The first error that is not "not found" wins: an unreadable candidate before a good one. */
    const char *env_path[] = {"PATH=/nonexistent-dir-st:/bin:/usr/bin", NULL};
    o.env = env_path;
    const char *t[] = {"true", NULL};
    int rc = -5;
    assert_int_equal(st_subprocess_call(t, &o, &rc), 0);
    assert_int_equal(rc, 0);
    /* Bad options are refused before anything starts. */
    o = (st_popen_options)ST_POPEN_OPTIONS_INIT;
    o.version = 99;
    assert_null(st_popen_new(t, &o));
    assert_int_equal(st_error_code(), ST_EVALUE);
    o = (st_popen_options)ST_POPEN_OPTIONS_INIT;
    o.stdin_fd = ST_SUBPROCESS_STDOUT;
    assert_null(st_popen_new(t, &o));
    assert_string_equal(st_error_message(), "invalid stdin_fd -2");
    const char *empty[] = {NULL};
    assert_null(st_popen_new(empty, NULL));
    assert_int_equal(st_error_code(), ST_EVALUE);
    int bad = -3;
    o = (st_popen_options)ST_POPEN_OPTIONS_INIT;
    o.pass_fds = &bad;
    o.pass_fds_len = 1;
    assert_null(st_popen_new(t, &o));
    assert_string_equal(st_error_message(), "bad value(s) in fds_to_keep");
}

/* Python's message for `code`, evaluated by CPython 3.13 (NULL when it is absent). */
static void assert_python_message(const char *code, const char *ours)
{
    char *py = pyref_eval(code);
    if (py) {
        assert_string_equal(ours, py);
        free(py);
    }
}

static void test_check_errors_match_python(void **state)
{
    (void)state;
    const char *f[] = {"false", NULL};
    st_completed_process c;
    assert_int_equal(st_subprocess_check_call(f, NULL, &c), -1);
    assert_int_equal(st_error_code(), ST_ECALLEDPROCESS);
    assert_string_equal(st_error_last()->type, "subprocess.CalledProcessError");
    assert_string_equal(st_error_message(), "Command '['false']' returned non-zero exit status 1.");
    assert_int_equal(c.returncode, 1); /* CalledProcessError.returncode and .cmd */
    assert_string_equal(c.args[0], "false");
    assert_null(c.args[1]);
    assert_null(c.stdout_data);
    assert_null(c.stderr_data);
    st_completed_process_free(&c);
    assert_python_message("import subprocess\ntry: subprocess.check_call(['false'])\n"
                          "except Exception as e: print(e)",
                          st_error_message());

    const char *k[] = {"/bin/sh", "-c", "kill -9 $$", "it's \"q\"\t\\", NULL};
    assert_int_equal(st_subprocess_check_call(k, NULL, NULL), -1);
    assert_python_message("import subprocess\ntry: subprocess.check_call(['/bin/sh', '-c', 'kill -9 $$', "
                          "'it\\'s \"q\"\\t\\\\'])\nexcept Exception as e: print(e)",
                          st_error_message());
    assert_string_equal(st_error_message(), "Command '['/bin/sh', '-c', 'kill -9 $$', 'it\\'s \"q\"\\t\\\\']' "
                                            "died with <Signals.SIGKILL: 9>.");

    st_subprocess_run_options ro = ST_SUBPROCESS_RUN_OPTIONS_INIT;
    ro.timeout = 0.25;
    ro.capture_output = 1;
    const char *sl[] = {"sleep", "5", NULL};
    double t0 = st_test_now();
    assert_int_equal(st_subprocess_run(sl, &ro, NULL, &c), -1);
    assert_true(st_test_now() - t0 < 3.0);
    assert_int_equal(st_error_code(), ST_ETIMEOUT);
    assert_string_equal(st_error_last()->type, "subprocess.TimeoutExpired");
    assert_string_equal(st_error_message(), "Command '['sleep', '5']' timed out after 0.25 seconds");
    assert_python_message("import subprocess\ntry: subprocess.run(['sleep', '5'], timeout=0.25, capture_output=True)\n"
                          "except Exception as e: print(e)",
                          st_error_message());
    assert_int_equal(c.returncode, -9);
    st_completed_process_free(&c);
    /* In the options a 0 timeout is None; a tiny one times out at once. */
    ro.timeout = 1e-9;
    assert_int_equal(st_subprocess_run(sl, &ro, NULL, &c), -1);
    /* (Python names the time left here, which has gone negative: see the header.) */
    assert_string_equal(st_error_message(), "Command '['sleep', '5']' timed out after 1e-09 seconds");
    st_completed_process_free(&c);
    ro.timeout = 0;
    const char *quick[] = {"/bin/sh", "-c", "sleep 0.05; echo done", NULL};
    assert_int_equal(st_subprocess_run(quick, &ro, NULL, &c), 0);
    assert_string_equal(c.stdout_data, "done\n");
    st_completed_process_free(&c);
    assert_no_children();
}

/* Signals without a name in Python's enum, and SIGRTMIN, in CalledProcessError's message. */
static void test_realtime_signal_messages(void **state)
{
    (void)state;
    /* qemu-user maps the guest's real-time signals onto other host numbers (it keeps some for
     * itself), so a native /bin/sh killed by signal 40 reaches us under another number. */
    ST_TEST_SKIP_UNDER_EMULATION("real-time signal numbers are the emulator's");
    st_popen_options sh = ST_POPEN_OPTIONS_INIT;
    sh.shell = 1;
    st_completed_process c;
    const char *u[] = {"kill -40 $$", NULL};
    assert_int_equal(st_subprocess_check_call(u, &sh, &c), -1);
    assert_int_equal(c.returncode, -40);
    st_completed_process_free(&c);
    assert_string_equal(st_error_message(), "Command 'kill -40 $$' died with unknown signal 40.");
    assert_python_message("import subprocess\ntry: subprocess.check_call('kill -40 $$', shell=True)\n"
                          "except Exception as e: print(e)",
                          st_error_message());
    /* SIGRTMIN is the C library's to choose (glibc 34, musl 35): asked at run time. */
    char rtcmd[32], rtmsg[96];
    snprintf(rtcmd, sizeof rtcmd, "kill -%d $$", SIGRTMIN);
    snprintf(rtmsg, sizeof rtmsg, "Command '%s' died with <Signals.SIGRTMIN: %d>.", rtcmd,
             SIGRTMIN);
    const char *rt[] = {rtcmd, NULL};
    assert_int_equal(st_subprocess_check_call(rt, &sh, NULL), -1);
    assert_string_equal(st_error_message(), rtmsg);
    assert_no_children();
}

static void test_run_capture_and_check(void **state)
{
    (void)state;
    const char *argv[] = {"/bin/sh", "-c", "echo out; echo err >&2; exit 3", NULL};
    st_subprocess_run_options ro = ST_SUBPROCESS_RUN_OPTIONS_INIT;
    ro.capture_output = 1;
    st_completed_process c;
    assert_int_equal(st_subprocess_run(argv, &ro, NULL, &c), 0);
    assert_int_equal(c.returncode, 3);
    assert_string_equal(c.stdout_data, "out\n");
    assert_int_equal(c.stdout_len, 4);
    assert_string_equal(c.stderr_data, "err\n");
    assert_string_equal(c.args[2], "echo out; echo err >&2; exit 3");
    st_completed_process_free(&c);
    ro.check = 1;
    assert_int_equal(st_subprocess_run(argv, &ro, NULL, &c), -1);
    assert_int_equal(st_error_code(), ST_ECALLEDPROCESS);
    assert_int_equal(c.returncode, 3); /* the output travels with the error, as in Python */
    assert_string_equal(c.stdout_data, "out\n");
    st_completed_process_free(&c);

    /* Not captured: NULL, not "". Nothing printed: "" with length 0. */
    const char *t[] = {"true", NULL};
    assert_int_equal(st_subprocess_run(t, NULL, NULL, &c), 0);
    assert_null(c.stdout_data);
    assert_null(c.stderr_data);
    st_completed_process_free(&c);
    ro = (st_subprocess_run_options)ST_SUBPROCESS_RUN_OPTIONS_INIT;
    ro.capture_output = 1;
    assert_int_equal(st_subprocess_run(t, &ro, NULL, &c), 0);
    assert_string_equal(c.stdout_data, "");
    assert_int_equal(c.stdout_len, 0);
    st_completed_process_free(&c);

    /* Input; and Python's argument conflicts. */
    const char *cat[] = {"cat", NULL};
    ro.input = "abc\0def";
    ro.input_len = 7;
    assert_int_equal(st_subprocess_run(cat, &ro, NULL, &c), 0);
    assert_int_equal(c.stdout_len, 7);
    assert_memory_equal(c.stdout_data, "abc\0def", 7);
    st_completed_process_free(&c);
    st_popen_options o = ST_POPEN_OPTIONS_INIT;
    o.stdin_fd = ST_SUBPROCESS_DEVNULL;
    assert_int_equal(st_subprocess_run(cat, &ro, &o, &c), -1);
    assert_string_equal(st_error_message(), "stdin and input arguments may not both be used.");
    o = (st_popen_options)ST_POPEN_OPTIONS_INIT;
    o.stdout_fd = ST_SUBPROCESS_DEVNULL;
    ro.input = NULL;
    assert_int_equal(st_subprocess_run(cat, &ro, &o, &c), -1);
    assert_string_equal(st_error_message(),
                        "stdout and stderr arguments may not be used with capture_output.");
    assert_null(st_subprocess_check_output(cat, &o, NULL, NULL));
    assert_string_equal(st_error_message(), "stdout argument not allowed, it will be overridden.");

    const char *echo[] = {"echo", "hello", NULL};
    size_t len = 0;
    c.returncode = 99;
    char *s = st_subprocess_check_output(echo, NULL, &len, &c);
    assert_string_equal(s, "hello\n");
    assert_int_equal(len, 6);
    assert_null(c.args); /* success: nothing for the caller beyond the output */
    assert_int_equal(c.returncode, 0);
    st_completed_process_free(&c);
    st_free(s);
    /* A failure keeps what CalledProcessError carries: output, stderr, returncode, cmd. */
    const char *f[] = {"/bin/sh", "-c", "echo partial; echo oops >&2; exit 2", NULL};
    o = (st_popen_options)ST_POPEN_OPTIONS_INIT;
    o.stderr_fd = ST_SUBPROCESS_PIPE;
    assert_null(st_subprocess_check_output(f, &o, &len, &c));
    assert_int_equal(st_error_code(), ST_ECALLEDPROCESS);
    assert_string_equal(st_error_message(), "Command '['/bin/sh', '-c', 'echo partial; echo oops >&2; "
                                            "exit 2']' returned non-zero exit status 2.");
    assert_int_equal(c.returncode, 2);
    assert_string_equal(c.stdout_data, "partial\n");
    assert_int_equal(c.stdout_len, 8);
    assert_string_equal(c.stderr_data, "oops\n");
    assert_string_equal(c.args[2], "echo partial; echo oops >&2; exit 2");
    st_completed_process_free(&c);
    char *py = pyref_eval("import subprocess\n"
                          "try: subprocess.check_output(['/bin/sh', '-c', 'echo partial; echo oops >&2; exit 2'], "
                          "stderr=subprocess.PIPE)\n"
                          "except subprocess.CalledProcessError as e: print(e.returncode, repr(e.output), repr(e.stderr))");
    if (py) {
        assert_string_equal(py, "2 b'partial\\n' b'oops\\n'");
        free(py);
    }
    assert_null(st_subprocess_check_output(f, &o, NULL, NULL)); /* NULL result: just the error */
    assert_int_equal(st_error_code(), ST_ECALLEDPROCESS);
    assert_no_children();
}

static void test_getoutput(void **state)
{
    (void)state;
    int code = 99;
    char *s = st_subprocess_getstatusoutput("printf 'a\\r\\nb\\rc\\n\\n'; exit 3", &code);
    assert_int_equal(code, 3);
    assert_string_equal(s, "a\nb\nc\n");
    st_free(s);
    s = st_subprocess_getstatusoutput("echo to-err >&2; kill -9 $$", &code);
    assert_int_equal(code, -9);
    assert_string_equal(s, "to-err");
    st_free(s);
    s = st_subprocess_getoutput("echo one; echo two");
    assert_string_equal(s, "one\ntwo");
    st_free(s);
    char *py = pyref_eval("import subprocess; print(repr(subprocess.getstatusoutput("
                          "\"printf 'a\\\\r\\\\nb\\\\rc\\\\n\\\\n'; exit 3\")))");
    if (py) {
        assert_string_equal(py, "(3, 'a\\nb\\nc\\n')");
        free(py);
    }
    py = pyref_eval("import subprocess; print(repr(subprocess.getstatusoutput('kill -9 $$')))");
    if (py) {
        assert_string_equal(py, "(-9, '')");
        free(py);
    }
}

static unsigned char *pattern(size_t n)
{
    unsigned char *p = malloc(n);
    assert_non_null(p);
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (unsigned char)x;
    }
    return p;
}

/* 100 MB each way under the label "proof", 16 MB in the default suite: both well beyond
 * any pipe buffer. */
static void test_communicate_100mb(void **state)
{
    (void)state;
    size_t n = (size_t)ST_PROOF_SIZE(16, 100) << 20;
    unsigned char *data = pattern(n);
    st_popen_options o = ST_POPEN_OPTIONS_INIT;
    o.stdin_fd = o.stdout_fd = o.stderr_fd = ST_SUBPROCESS_PIPE;
    const char *cat[] = {"cat", NULL};
    st_popen *p = st_popen_new(cat, &o);
    assert_non_null(p);
    st_completed_process r;
    assert_int_equal(st_popen_communicate(p, data, n, 120, &r), 0);
    assert_int_equal(r.stdout_len, n);
    assert_memory_equal(r.stdout_data, data, n);
    assert_int_equal(r.stderr_len, 0);
    assert_string_equal(r.stderr_data, "");
    assert_int_equal(r.returncode, 0);
    assert_string_equal(r.args[0], "cat");
    assert_int_equal(st_popen_stdin(p), -1);
    assert_int_equal(st_popen_stdout(p), -1);
    int rc = -1;
    assert_int_equal(st_popen_wait(p, ST_NO_TIMEOUT, &rc), 0);
    assert_int_equal(rc, 0);
    st_completed_process_free(&r);
    st_popen_free(p);

    /* As much out of a child that reads nothing, with stderr interleaved: no deadlock. */
    char script[64];
    snprintf(script, sizeof script, "head -c %zu /dev/zero; echo done >&2", n);
    const char *gen[] = {"/bin/sh", "-c", script, NULL};
    p = st_popen_new(gen, &o);
    assert_non_null(p);
    assert_int_equal(st_popen_communicate(p, NULL, 0, 120, &r), 0);
    assert_int_equal(r.stdout_len, n);
    assert_string_equal(r.stderr_data, "done\n");
    st_completed_process_free(&r);
    st_popen_free(p);

    /* A reader that stops early: the broken pipe is not an error and no SIGPIPE kills us. */
    const char *head[] = {"head", "-c", "10", NULL};
    o.stderr_fd = ST_SUBPROCESS_INHERIT;
    p = st_popen_new(head, &o);
    assert_non_null(p);
    assert_int_equal(st_popen_communicate(p, data, n, 60, &r), 0);
    assert_int_equal(r.stdout_len, 10);
    assert_memory_equal(r.stdout_data, data, 10);
    assert_null(r.stderr_data);
    sigset_t pend;
    sigpending(&pend);
    assert_false(sigismember(&pend, SIGPIPE));
    st_completed_process_free(&r);
    st_popen_free(p);
    free(data);
    assert_no_children();
}

/* The alarms so far; the eleventh opens the gate the child waits behind (closes fd gate). */
static volatile sig_atomic_t alarms, gate = -1;
static void on_alarm(int sig)
{
    (void)sig;
    if (++alarms == 11)
        close(gate);
}

static void test_communicate_eintr(void **state)
{
    (void)state;
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm; /* no SA_RESTART: every blocked call sees EINTR */
    sigaction(SIGALRM, &sa, &old);
    /* The child starts reading its input only after ten alarms, however slow the machine. */
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    assert_int_equal(dup2(fds[0], 9), 9);
    close(fds[0]);
    gate = fds[1];
    const int nine[] = {9};
    st_popen_options o = ST_POPEN_OPTIONS_INIT;
    o.pass_fds = nine;
    o.pass_fds_len = 1;
    struct itimerval it = {{0, 500}, {0, 500}}, off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &it, NULL);
    size_t n = (size_t)8 << 20;
    unsigned char *data = pattern(n);
    st_subprocess_run_options ro = ST_SUBPROCESS_RUN_OPTIONS_INIT;
    ro.input = data;
    ro.input_len = n;
    ro.capture_output = 1;
    ro.timeout = 60;
    const char *argv[] = {"/bin/sh", "-c", "read x <&9; cat", NULL};
    st_completed_process c;
    int rc = st_subprocess_run(argv, &ro, &o, &c);
    setitimer(ITIMER_REAL, &off, NULL);
    sigaction(SIGALRM, &old, NULL);
    close(9);
    assert_int_equal(rc, 0);
    assert_true(alarms > 10);
    assert_int_equal(c.stdout_len, n);
    assert_memory_equal(c.stdout_data, data, n);
    st_completed_process_free(&c);
    free(data);
}

/* The child writes its first lines, then blocks on fd 9 until the gate closes: the state at a
 * timeout does not depend on the machine's speed. A machine too slow to write those lines
 * within the first 0.5 s only takes more timed-out calls, each returning all read so far. */
#define GATED_SCRIPT \
    "echo first; read x; echo \"got $x\"; echo e1 >&2; read y <&9; echo last; echo e2 >&2"

static void test_communicate_timeout_resumes(void **state)
{
    (void)state;
    int gate[2];
    assert_int_equal(pipe(gate), 0);
    assert_int_equal(dup2(gate[0], 9), 9);
    close(gate[0]);
    const int nine[] = {9};
    st_popen_options o = ST_POPEN_OPTIONS_INIT;
    o.stdin_fd = o.stdout_fd = o.stderr_fd = ST_SUBPROCESS_PIPE;
    o.pass_fds = nine;
    o.pass_fds_len = 1;
    const char *argv[] = {"/bin/sh", "-c", GATED_SCRIPT, NULL};
    st_popen *p = st_popen_new(argv, &o);
    assert_non_null(p);
    close(9);
    int rc = 7;
    assert_int_equal(st_popen_returncode(p, &rc), 0); /* None: not reaped yet */
    assert_int_equal(rc, 7);
    char in[] = "hello\n";
    st_completed_process r;
    assert_int_equal(st_popen_communicate(p, in, 6, 0.5, &r), -1);
    assert_int_equal(st_error_code(), ST_ETIMEOUT);
    assert_string_equal(st_error_message(),
                        "Command '['/bin/sh', '-c', 'echo first; read x; echo \"got $x\"; echo e1 >&2; "
                        "read y <&9; echo last; echo e2 >&2']' timed out after 0.5 seconds");
    for (int i = 0; i < 100 && (r.stdout_len < 16 || !r.stderr_data || !*r.stderr_data); i++) {
        st_completed_process_free(&r);
        assert_int_equal(st_popen_communicate(p, NULL, 0, 0.5, &r), -1);
        assert_int_equal(st_error_code(), ST_ETIMEOUT);
    }
    /* TimeoutExpired.stdout and .stderr: what was read so far. */
    char ours[256];
    snprintf(ours, sizeof ours, "%s|%s|%d", r.stdout_data, r.stderr_data, st_popen_returncode(p, NULL));
    assert_string_equal(ours, "first\ngot hello\n|e1\n|0");
    assert_int_equal(r.stdout_len, 16);
    assert_string_equal(r.args[2], GATED_SCRIPT);
    st_completed_process_free(&r);
    memset(in, 'X', sizeof in - 1); /* the input was kept: the caller's buffer may change */
    assert_int_equal(st_popen_communicate(p, "more", 4, 5, &r), -1);
    assert_string_equal(st_error_message(), "Cannot send input after starting communication");
    st_completed_process_free(&r);
    /* Going on: the whole output from the start, as Python's second communicate() gives. */
    close(gate[1]);
    assert_int_equal(st_popen_communicate(p, NULL, 0, 5, &r), 0);
    assert_string_equal(r.stdout_data, "first\ngot hello\nlast\n");
    assert_int_equal(r.stdout_len, 21);
    assert_string_equal(r.stderr_data, "e1\ne2\n");
    assert_int_equal(r.returncode, 0);
    rc = 7;
    assert_int_equal(st_popen_returncode(p, &rc), 1);
    assert_int_equal(rc, 0);
    st_completed_process_free(&r);
    st_popen_free(p);
    char *py = pyref_eval("import os, subprocess as s\n"
                          "r, w = os.pipe()\n"
                          "os.dup2(r, 9)\n"
                          "os.close(r)\n"
                          "p = s.Popen(['/bin/sh', '-c', 'echo first; read x; echo \"got $x\"; echo e1 >&2; "
                          "read y <&9; echo last; echo e2 >&2'], stdin=s.PIPE, stdout=s.PIPE, "
                          "stderr=s.PIPE, pass_fds=(9,))\n"
                          "os.close(9)\n"
                          "inp = b'hello\\n'\n"
                          "while True:\n"
                          "    try: p.communicate(inp, timeout=0.5)\n"
                          "    except s.TimeoutExpired as e:\n"
                          "        got = (e.stdout or b'').decode() + '|' + "
                          "(e.stderr or b'').decode()\n"
                          "        if got == 'first\\ngot hello\\n|e1\\n': break\n"
                          "    inp = None\n"
                          "print(got + '|' + str(int(p.returncode is not None)), end='')\n"
                          "os.close(w)\n"
                          "o, e = p.communicate(timeout=5)\n"
                          "assert (o, e, p.returncode) == (b'first\\ngot hello\\nlast\\n', b'e1\\ne2\\n', 0)\n");
    if (py) {
        assert_string_equal(py, ours);
        free(py);
    }

    /* Nothing read before the timeout: None, as Python's TimeoutExpired.stdout. */
    const char *sl[] = {"sleep", "5", NULL};
    p = st_popen_new(sl, &o);
    assert_non_null(p);
    assert_int_equal(st_popen_communicate(p, NULL, 0, 0.05, &r), -1);
    assert_null(r.stdout_data);
    assert_null(r.stderr_data);
    st_completed_process_free(&r);
    assert_int_equal(st_popen_kill(p), 0);
    assert_int_equal(st_popen_communicate(p, NULL, 0, 5, NULL), 0); /* NULL result: discarded */
    assert_int_equal(st_popen_returncode(p, &rc), 1);
    assert_int_equal(rc, -SIGKILL);
    st_popen_free(p);

    /* Not piped: NULL. */
    const char *t[] = {"true", NULL};
    p = st_popen_new(t, NULL);
    assert_int_equal(st_popen_communicate(p, NULL, 0, ST_NO_TIMEOUT, &r), 0);
    assert_null(r.stdout_data);
    assert_int_equal(r.stdout_len, 0);
    assert_null(r.stderr_data);
    assert_int_equal(r.returncode, 0);
    st_completed_process_free(&r);
    assert_int_equal(st_popen_communicate(p, "x", 1, 1, &r), -1);
    assert_int_equal(st_error_code(), ST_EVALUE);
    st_completed_process_free(&r);
    st_popen_free(p);
    assert_int_equal(st_popen_returncode(NULL, &rc), -1);
    assert_int_equal(st_error_code(), ST_EVALUE);
    assert_no_children();
}

static void test_env_cwd_shell_executable(void **state)
{
    (void)state;
    const char *env[] = {"FOO=bar baz", "ONLY=this", NULL};
    st_popen_options o = ST_POPEN_OPTIONS_INIT;
    o.env = env;
    const char *penv[] = {"/usr/bin/env", NULL};
    char *s = out_of(penv, &o);
    assert_string_equal(s, "FOO=bar baz\nONLY=this\n");
    st_free(s);

    o = (st_popen_options)ST_POPEN_OPTIONS_INIT;
    char tmpl[] = "/tmp/st-sp-XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    o.cwd = tmpl;
    const char *pwd[] = {"pwd", "-P", NULL};
    s = out_of(pwd, &o);
    char *real = realpath(tmpl, NULL);
    assert_non_null(real);
    assert_int_equal(strlen(s), strlen(real) + 1);
    assert_memory_equal(s, real, strlen(real));
    free(real);
    st_free(s);
    rmdir(tmpl);

    o = (st_popen_options)ST_POPEN_OPTIONS_INIT;
    o.shell = 1;
    const char *sh[] = {"echo \"$0|$1\" | tr a-z A-Z", "zero", "one", NULL};
    s = out_of(sh, &o);
    assert_string_equal(s, "ZERO|ONE\n");
    st_free(s);

    o = (st_popen_options)ST_POPEN_OPTIONS_INIT;
    o.executable = "/bin/sh";
    const char *ex[] = {"my-name", "-c", "echo $0", NULL};
    s = out_of(ex, &o);
    assert_string_equal(s, "my-name\n");
    st_free(s);

    o = (st_popen_options)ST_POPEN_OPTIONS_INIT;
    o.set_umask = 1;
    o.umask = 027;
    const char *um[] = {"/bin/sh", "-c", "umask", NULL};
    s = out_of(um, &o);
    assert_string_equal(s, "0027\n");
    st_free(s);
    o.umask = 0; /* a zero mask is a mask: set_umask says whether there is one */
    s = out_of(um, &o);
    assert_string_equal(s, "0000\n");
    st_free(s);
    o.umask = 01000;
    assert_null(st_subprocess_check_output(um, &o, NULL, NULL));
    assert_string_equal(st_error_message(), "invalid umask 01000");
}

static void test_stdio_wiring(void **state)
{
    (void)state;
    st_popen_options o = ST_POPEN_OPTIONS_INIT;
    o.stderr_fd = ST_SUBPROCESS_STDOUT;
    const char *both[] = {"/bin/sh", "-c", "echo a; echo b >&2; echo c", NULL};
    char *s = out_of(both, &o);
    assert_string_equal(s, "a\nb\nc\n");
    st_free(s);

    o = (st_popen_options)ST_POPEN_OPTIONS_INIT;
    o.stdin_fd = ST_SUBPROCESS_DEVNULL;
    const char *cat[] = {"cat", NULL};
    s = out_of(cat, &o);
    assert_string_equal(s, "");
    st_free(s);

    /* A given descriptor, and one that sits on a low number (fd 0 as the child's stdout). */
    int pp[2];
    assert_int_equal(pipe(pp), 0);
    o = (st_popen_options)ST_POPEN_OPTIONS_INIT;
    o.stdout_fd = pp[1]; /* a bare descriptor is refused, not guessed at */
    const char *echo[] = {"echo", "via-fd", NULL};
    int rc = -1;
    assert_int_equal(st_subprocess_call(echo, &o, &rc), -1);
    assert_int_equal(st_error_code(), ST_EVALUE);
    char msg[128];
    snprintf(msg, sizeof msg, "stdout_fd %d: give a descriptor as ST_SUBPROCESS_FD(%d)", pp[1], pp[1]);
    assert_string_equal(st_error_message(), msg);
    o.stdout_fd = -4; /* between the constants and the descriptors */
    assert_int_equal(st_subprocess_call(echo, &o, &rc), -1);
    assert_string_equal(st_error_message(), "invalid stdout_fd -4");
    o.stdout_fd = ST_SUBPROCESS_FD(pp[1]);
    assert_int_equal(st_subprocess_call(echo, &o, &rc), 0);
    close(pp[1]);
    char buf[64] = "";
    assert_int_equal(read(pp[0], buf, sizeof buf - 1), 7);
    assert_string_equal(buf, "via-fd\n");
    close(pp[0]);

    int saved0 = dup(0);
    assert_int_equal(pipe(pp), 0);
    assert_int_equal(dup2(pp[1], 0), 0);
    close(pp[1]);
    o = (st_popen_options)ST_POPEN_OPTIONS_INIT;
    o.stdin_fd = ST_SUBPROCESS_DEVNULL;
    o.stdout_fd = ST_SUBPROCESS_FD(0);
    o.stderr_fd = ST_SUBPROCESS_STDOUT;
    const char *both2[] = {"/bin/sh", "-c", "echo x; echo y >&2", NULL};
    assert_int_equal(st_subprocess_call(both2, &o, &rc), 0);
    dup2(saved0, 0);
    close(saved0);
    memset(buf, 0, sizeof buf);
    assert_int_equal(read(pp[0], buf, sizeof buf - 1), 4);
    assert_string_equal(buf, "x\ny\n");
    close(pp[0]);

    /* fd 0 given as the child's stdin (Python's stdin=0), against the default, which inherits:
     * both read the same descriptor here, so the data tells ST_SUBPROCESS_FD(0) works. */
    saved0 = dup(0);
    for (int v = 0; v < 3; v++) { /* inherited; fd 0 by posix_spawn; fd 0 by vfork */
        assert_int_equal(pipe(pp), 0);
        assert_int_equal(dup2(pp[0], 0), 0);
        close(pp[0]);
        assert_int_equal(write(pp[1], "from fd 0\n", 10), 10);
        close(pp[1]);
        o = (st_popen_options)ST_POPEN_OPTIONS_INIT;
        o.stdin_fd = v ? ST_SUBPROCESS_FD(0) : ST_SUBPROCESS_INHERIT;
        o.cwd = v == 2 ? "/" : NULL;
        s = out_of(cat, &o);
        assert_string_equal(s, "from fd 0\n");
        st_free(s);
    }
    /* And a different descriptor on the child's stdin, over the parent's fd 0. */
    assert_int_equal(pipe(pp), 0);
    assert_int_equal(write(pp[1], "from a pipe\n", 12), 12);
    close(pp[1]);
    o = (st_popen_options)ST_POPEN_OPTIONS_INIT;
    o.stdin_fd = ST_SUBPROCESS_FD(pp[0]);
    s = out_of(cat, &o);
    assert_string_equal(s, "from a pipe\n");
    st_free(s);
    close(pp[0]);
    dup2(saved0, 0);
    close(saved0);
}

static void test_close_fds_and_pass_fds(void **state)
{
    (void)state;
    int pp[2];
    assert_int_equal(pipe(pp), 0); /* inheritable: only close_fds keeps it from the child */
    char cmd[64];
    snprintf(cmd, sizeof cmd, "echo hi >&%d", pp[1]);
    const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
    st_popen_options o = ST_POPEN_OPTIONS_INIT;
    o.stderr_fd = ST_SUBPROCESS_DEVNULL;
    int rc = -1;
    assert_int_equal(st_subprocess_call(argv, &o, &rc), 0);
    assert_int_not_equal(rc, 0); /* closed in the child */
    o.cwd = "/"; /* the vfork path closes too */
    assert_int_equal(st_subprocess_call(argv, &o, &rc), 0);
    assert_int_not_equal(rc, 0);
    o.keep_fds = 1; /* close_fds=False */
    o.cwd = NULL;
    assert_int_equal(st_subprocess_call(argv, &o, &rc), 0);
    assert_int_equal(rc, 0);

    /* pass_fds keeps a close-on-exec descriptor open and inheritable, and implies close_fds. */
    int cp[2];
    assert_int_equal(pipe2(cp, O_CLOEXEC), 0);
    snprintf(cmd, sizeof cmd, "echo kept >&%d; echo no >&%d", cp[1], pp[1]);
    int pass[] = {cp[1], cp[1]};
    o = (st_popen_options)ST_POPEN_OPTIONS_INIT;
    o.keep_fds = 1;
    o.pass_fds = pass;
    o.pass_fds_len = 2;
    o.stderr_fd = ST_SUBPROCESS_DEVNULL;
    assert_int_equal(st_subprocess_call(argv, &o, &rc), 0);
    assert_int_not_equal(rc, 0);
    close(cp[1]);
    char buf[64] = "";
    assert_int_equal(read(cp[0], buf, sizeof buf - 1), 5);
    assert_string_equal(buf, "kept\n");
    close(cp[0]);
    close(pp[0]);
    close(pp[1]);

    /* With a huge RLIMIT_NOFILE closing stays fast (no loop over every possible descriptor). */
    struct rlimit old, big;
    getrlimit(RLIMIT_NOFILE, &old);
    big = old;
    big.rlim_cur = old.rlim_max > 1048576 ? 1048576 : old.rlim_max;
    setrlimit(RLIMIT_NOFILE, &big);
    int hi = fcntl(2, F_DUPFD, big.rlim_cur > 70000 ? 65000 : 200);
    assert_true(hi > 2);
    o = (st_popen_options)ST_POPEN_OPTIONS_INIT;
    o.cwd = "/";
    snprintf(cmd, sizeof cmd, "test -e /proc/self/fd/%d", hi);
    double t0 = st_test_now();
    for (int i = 0; i < 20; i++) {
        assert_int_equal(st_subprocess_call(argv, &o, &rc), 0);
        assert_int_not_equal(rc, 0);
    }
    assert_true(st_test_now() - t0 < 5.0);
    close(hi);
    setrlimit(RLIMIT_NOFILE, &old);
}

/* query(pid) once it answers pid, or after 5 s: under qemu-user posix_spawn returns before the
 * child has run (it is a plain fork there), so the child's setsid or setpgid may be ahead still.
 * Natively the first answer is final. */
static pid_t settled(pid_t (*query)(pid_t), pid_t pid)
{
    pid_t r = query(pid);
    for (int i = 0; st_test_emulator() && r != pid && i < 500; i++) {
        usleep(10000);
        r = query(pid);
    }
    return r;
}

static void test_session_group_and_signals(void **state)
{
    (void)state;
    const char *sl[] = {"sleep", "10", NULL};
    st_popen_options o = ST_POPEN_OPTIONS_INIT;
    o.start_new_session = 1;
    st_popen *p = st_popen_new(sl, &o);
    assert_non_null(p);
    pid_t pid = st_popen_pid(p);
    assert_int_equal(settled(getsid, pid), pid);
    int rc = 5;
    assert_int_equal(st_popen_poll(p, &rc), 0);
    assert_int_equal(rc, 5);
    assert_int_equal(st_popen_wait(p, 0.05, &rc), -1);
    assert_int_equal(st_error_code(), ST_ETIMEOUT);
    assert_int_equal(st_popen_terminate(p), 0);
    assert_int_equal(st_popen_wait(p, 5, &rc), 0);
    assert_int_equal(rc, -15);
    assert_int_equal(st_popen_poll(p, &rc), 1);
    assert_int_equal(st_popen_kill(p), 0); /* already reaped: nothing sent */
    st_popen_free(p);

    o = (st_popen_options)ST_POPEN_OPTIONS_INIT;
    o.set_process_group = 1;
    o.process_group = 0;
    p = st_popen_new(sl, &o);
    assert_non_null(p);
    assert_int_equal(settled(getpgid, st_popen_pid(p)), st_popen_pid(p));
    assert_int_equal(st_popen_send_signal(p, SIGUSR1), 0);
    assert_int_equal(st_popen_wait(p, ST_NO_TIMEOUT, &rc), 0);
    assert_int_equal(rc, -SIGUSR1);
    st_popen_free(p);

    /* A timeout with a new session kills the grandchildren too. A machine too slow to start
     * the grandchild within the timeout runs the tree again with twice the timeout. */
    const char *tree[] = {"/bin/sh", "-c", "sleep 30 & echo $!; wait", NULL};
    st_subprocess_run_options ro = ST_SUBPROCESS_RUN_OPTIONS_INIT;
    ro.capture_output = 1;
    o = (st_popen_options)ST_POPEN_OPTIONS_INIT;
    o.start_new_session = 1;
    st_completed_process c;
    long grandchild = 0;
    for (ro.timeout = 0.5; !grandchild && ro.timeout < 100; ro.timeout *= 2) {
        assert_int_equal(st_subprocess_run(tree, &ro, &o, &c), -1);
        assert_int_equal(st_error_code(), ST_ETIMEOUT);
        if (c.stdout_data)
            grandchild = strtol(c.stdout_data, NULL, 10);
        st_completed_process_free(&c);
    }
    assert_true(grandchild > 1);
    assert_true(ended(grandchild)); /* killed (maybe a zombie until init reaps it) */

    /* restore_signals: an ignored SIGPIPE goes back to default in the child (both spawn paths). */
    struct sigaction ign, old;
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &ign, &old);
    const char *status[] = {"/bin/sh", "-c", "grep SigIgn /proc/self/status", NULL};
    for (int path = 0; path < 2; path++) {
        for (int restore = 0; restore < 2; restore++) {
            o = (st_popen_options)ST_POPEN_OPTIONS_INIT;
            o.keep_signals = !restore;
            o.cwd = path ? "/" : NULL;
            char *s = out_of(status, &o);
            unsigned long long mask = strtoull(s + strlen("SigIgn:"), NULL, 16);
            assert_int_equal((mask >> (SIGPIPE - 1)) & 1, !restore);
            st_free(s);
        }
    }
    sigaction(SIGPIPE, &old, NULL);
    assert_no_children();
}

static void test_free_running_child_is_reaped_later(void **state)
{
    (void)state;
    const char *sl[] = {"sleep", "0.1", NULL};
    st_popen *p = st_popen_new(sl, NULL);
    assert_non_null(p);
    pid_t pid = st_popen_pid(p);
    st_popen_free(p);
    assert_true(ended(pid));
    assert_int_equal(proc_state(pid), 'Z'); /* nobody reaped it yet */
    const char *t[] = {"true", NULL};
    int rc;
    assert_int_equal(st_subprocess_call(t, NULL, &rc), 0); /* reaps the abandoned child on the way */
    errno = 0;
    assert_int_equal(waitpid(pid, NULL, WNOHANG), -1);
    assert_int_equal(errno, ECHILD);
}

static void test_many_spawns_leak_nothing(void **state)
{
    (void)state;
#ifdef UNDER_ASAN
    const int n = ST_PROOF_SIZE(300, 3000); /* instrumented parent: well under a minute */
#else
    const int n = ST_PROOF_SIZE(1000, 10000);
#endif
    const char *t[] = {"/bin/true", NULL};
    int fds = st_test_count_fds();
    st_popen_options piped = ST_POPEN_OPTIONS_INIT;
    piped.stdin_fd = piped.stdout_fd = piped.stderr_fd = ST_SUBPROCESS_PIPE;
    double t0 = st_test_now();
    for (int i = 0; i < n; i++) {
        int rc = -1;
        if (i % 10 == 0) {
            st_popen *p = st_popen_new(t, &piped);
            assert_non_null(p);
            assert_int_equal(st_popen_communicate(p, NULL, 0, 10, NULL), 0);
            st_popen_free(p);
        } else {
            assert_int_equal(st_subprocess_call(t, NULL, &rc), 0);
            assert_int_equal(rc, 0);
        }
    }
    printf("[  INFO    ] %d spawns of /bin/true in %.2f s\n", n, st_test_now() - t0);
    assert_int_equal(st_test_count_fds(), fds);
    assert_no_children();
}

static void *spawner(void *arg)
{
    long id = (long)arg;
    for (int i = 0; i < 100; i++) {
        char word[32];
        snprintf(word, sizeof word, "t%ld-%d", id, i);
        const char *argv[] = {"echo", word, NULL};
        st_popen_options o = ST_POPEN_OPTIONS_INIT;
        o.cwd = i % 2 ? "/" : NULL; /* both spawn paths */
        size_t len;
        char *s = st_subprocess_check_output(argv, &o, &len, NULL);
        if (!s || len != strlen(word) + 1 || memcmp(s, word, len - 1) != 0) {
            st_free(s);
            return (void *)1;
        }
        st_free(s);
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    int fds = st_test_count_fds();
    pthread_t th[4];
    for (long i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&th[i], NULL, spawner, (void *)i), 0);
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(th[i], &r);
        assert_null(r);
    }
    assert_int_equal(st_test_count_fds(), fds);
    assert_no_children();
}

static void test_pipeline(void **state)
{
    (void)state;
    const char *a[] = {"printf", "b\\na\\nc\\n", NULL};
    const char *b[] = {"sort", NULL};
    const char *c[] = {"tr", "a-z", "A-Z", NULL};
    const char *const *cmds[] = {a, b, c};
    int rcs[3] = {9, 9, 9};
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(st_subprocess_pipeline(cmds, 3, NULL, rcs, &out, &len), 0);
    assert_string_equal(out, "A\nB\nC\n");
    assert_int_equal(len, 6);
    assert_int_equal(rcs[0] | rcs[1] | rcs[2], 0);
    st_free(out);

    /* Input to the first, a failing middle command, check. */
    const char *cat[] = {"cat", NULL};
    const char *fail[] = {"/bin/sh", "-c", "cat; exit 4", NULL};
    const char *const *cmds2[] = {cat, fail, cat};
    st_subprocess_pipeline_options po = ST_SUBPROCESS_PIPELINE_OPTIONS_INIT;
    po.input = "x\ny\n";
    po.input_len = 4;
    assert_int_equal(st_subprocess_pipeline(cmds2, 3, &po, rcs, &out, &len), 0);
    assert_string_equal(out, "x\ny\n");
    assert_int_equal(rcs[1], 4);
    st_free(out);
    po.check = 1;
    assert_int_equal(st_subprocess_pipeline(cmds2, 3, &po, rcs, &out, &len), -1);
    assert_int_equal(st_error_code(), ST_ECALLEDPROCESS);
    assert_string_equal(st_error_message(),
                        "Command '['/bin/sh', '-c', 'cat; exit 4']' returned non-zero exit status 4.");
    assert_string_equal(out, "x\ny\n");
    st_free(out);

    /* An early exit downstream gives upstream SIGPIPE, as in a shell. */
    const char *yes[] = {"yes", NULL};
    const char *head[] = {"head", "-n", "2", NULL};
    const char *const *cmds3[] = {yes, head};
    assert_int_equal(st_subprocess_pipeline(cmds3, 2, NULL, rcs, &out, NULL), 0);
    assert_string_equal(out, "y\ny\n");
    assert_int_equal(rcs[0], -SIGPIPE);
    assert_int_equal(rcs[1], 0);
    st_free(out);

    /* Timeout: everything killed and reaped. */
    const char *sl[] = {"sleep", "5", NULL};
    const char *const *cmds4[] = {sl, cat};
    po = (st_subprocess_pipeline_options)ST_SUBPROCESS_PIPELINE_OPTIONS_INIT;
    po.timeout = 0.2;
    rcs[0] = 9;
    double t0 = st_test_now();
    assert_int_equal(st_subprocess_pipeline(cmds4, 2, &po, rcs, &out, NULL), -1);
    assert_true(st_test_now() - t0 < 3);
    assert_int_equal(st_error_code(), ST_ETIMEOUT);
    assert_int_equal(rcs[0], -9);
    st_free(out);

    /* A command that cannot start: the others are killed and reaped (under qemu-user too,
     * where the vfork path reports: see test_exec_failure). */
    const char *bad[] = {"nosuch-prog-st", NULL};
    const char *const *cmds5[] = {sl, bad};
    assert_int_equal(st_subprocess_pipeline(cmds5, 2, NULL, rcs, NULL, NULL), -1);
    assert_int_equal(st_error_errno(), ENOENT);

    /* A timeout through the ladder: SIGTERM to every command at once, one grace for all. */
    po = (st_subprocess_pipeline_options)ST_SUBPROCESS_PIPELINE_OPTIONS_INIT;
    const char *const *sleepers[] = {sl, sl};
    po.timeout = 0.2;
    po.stop_signal = SIGTERM;
    po.stop_grace = 30;
    t0 = st_test_now();
    assert_int_equal(st_subprocess_pipeline(sleepers, 2, &po, rcs, NULL, NULL), -1);
    assert_int_equal(st_error_code(), ST_ETIMEOUT);
    assert_true(st_test_now() - t0 < 15.0); /* not the grace period: they end on SIGTERM */
    assert_int_equal(rcs[0], -SIGTERM);
    assert_int_equal(rcs[1], -SIGTERM);
    po.stop_signal = -1;
    assert_int_equal(st_subprocess_pipeline(sleepers, 2, &po, rcs, NULL, NULL), -1);
    assert_string_equal(st_error_message(), "invalid stop_signal -1");

    /* A 0 timeout is none; the commands' own descriptors still come from popen. */
    po = (st_subprocess_pipeline_options)ST_SUBPROCESS_PIPELINE_OPTIONS_INIT;
    const char *const *cmds6[] = {a, b};
    assert_int_equal(st_subprocess_pipeline(cmds6, 2, &po, rcs, &out, NULL), 0);
    assert_string_equal(out, "a\nb\nc\n");
    st_free(out);
    assert_no_children();
}

/* ---- process trees, the stop ladder, waiting for many, descriptors -------------------------- */

/* How many processes of group pgid are alive (not zombies), from /proc/<pid>/stat. */
static int group_alive(long pgid)
{
    DIR *d = opendir("/proc");
    assert_non_null(d);
    int alive = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        char path[300], st[512] = "";
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue; /* gone since the listing */
        size_t n = fread(st, 1, sizeof st - 1, f);
        fclose(f);
        char *rp = n > 0 ? strrchr(st, ')') : NULL;
        char state;
        long ppid, pgrp;
        if (rp && sscanf(rp + 2, "%c %ld %ld", &state, &ppid, &pgrp) == 3 && pgrp == pgid &&
            state != 'Z')
            alive++;
    }
    closedir(d);
    return alive;
}

/* Waits up to 5 s for group pgid to have no live process; its count then. */
static int group_settled(long pgid)
{
    int alive = group_alive(pgid);
    for (double t0 = st_test_now(); alive && st_test_now() - t0 < 5.0; alive = group_alive(pgid))
        usleep(10000);
    return alive;
}

static void test_spawn_tree_timeout(void **state)
{
    (void)state;
    /* The classic hang: the backgrounded sleep holds the pipes, so waiting for end of file
     * after killing sh alone would never end. The group goes, so run() returns on time. */
    const char *tree[] = {"sh", "-c", "echo $$; sleep 1000 & sleep 1000", NULL};
    st_popen_options o = ST_POPEN_OPTIONS_INIT;
    o.start_new_session = 1;
    for (int polite = 0; polite < 2; polite++) {
        st_subprocess_run_options ro = ST_SUBPROCESS_RUN_OPTIONS_INIT;
        ro.capture_output = 1;
        ro.timeout = 1.0;
        ro.stop_signal = polite ? SIGTERM : 0;
        st_completed_process c;
        double t0 = st_test_now();
        assert_int_equal(st_subprocess_run(tree, &ro, &o, &c), -1);
        double took = st_test_now() - t0;
        assert_int_equal(st_error_code(), ST_ETIMEOUT);
        assert_string_equal(st_error_message(),
                            "Command '['sh', '-c', 'echo $$; sleep 1000 & sleep 1000']' timed out "
                            "after 1.0 seconds");
        assert_true(took >= 1.0);
        assert_true(took < 6.0); /* about 1 s; generous for a loaded machine */
        assert_int_equal(c.returncode, polite ? -SIGTERM : -SIGKILL);
        assert_non_null(c.stdout_data);
        long pgid = strtol(c.stdout_data, NULL, 10);
        assert_true(pgid > 1);
        assert_int_equal(group_settled(pgid), 0);
        st_completed_process_free(&c);
    }
    assert_no_children();
}

/* Starts argv with stdout piped and waits for its first line ("ready"): a handler it sets up
 * first is then in place. */
static st_popen *start_ready(const char *const *argv, const st_popen_options *base)
{
    st_popen_options o = base ? *base : (st_popen_options)ST_POPEN_OPTIONS_INIT;
    o.stdout_fd = ST_SUBPROCESS_PIPE;
    st_popen *p = st_popen_new(argv, &o);
    assert_non_null(p);
    char buf[16] = "";
    size_t got = 0;
    while (got < 6) {
        ssize_t n = read(st_popen_stdout(p), buf + got, 6 - got);
        assert_true(n > 0);
        got += (size_t)n;
    }
    assert_memory_equal(buf, "ready\n", 6);
    return p;
}

static void test_spawn_stop_ladder(void **state)
{
    (void)state;
    /* Ignores SIGTERM: the grace period runs out, SIGKILL ends it. */
    const char *stubborn[] = {"sh", "-c", "trap '' TERM; echo ready; while :; do sleep 1; done",
                              NULL};
    st_popen *p = start_ready(stubborn, NULL);
    st_popen_stop_options so = ST_POPEN_STOP_OPTIONS_INIT;
    so.grace = 0.2;
    int rc = 0;
    st_popen_stop_step step = ST_POPEN_STOP_EXITED;
    double t0 = st_test_now();
    assert_int_equal(st_popen_stop(p, &so, &rc, &step), 0);
    assert_true(st_test_now() - t0 >= 0.2);
    assert_int_equal(step, ST_POPEN_STOP_KILL);
    assert_int_equal(rc, -SIGKILL);
    assert_int_equal(st_popen_returncode(p, &rc), 1);
    st_popen_free(p);

    /* Ends on SIGTERM: the first step. Defaults (NULL options: SIGTERM, 3 s). */
    const char *sl[] = {"sleep", "100", NULL};
    p = st_popen_new(sl, NULL);
    assert_non_null(p);
    t0 = st_test_now();
    assert_int_equal(st_popen_stop(p, NULL, &rc, &step), 0);
    assert_true(st_test_now() - t0 < ST_POPEN_STOP_GRACE);
    assert_int_equal(step, ST_POPEN_STOP_SIGNAL);
    assert_int_equal(rc, -SIGTERM);
    /* Reaped already: nothing is sent, the step says so. */
    assert_int_equal(st_popen_stop(p, NULL, &rc, &step), 0);
    assert_int_equal(step, ST_POPEN_STOP_EXITED);
    assert_int_equal(rc, -SIGTERM);
    st_popen_free(p);

    /* A chosen signal; a handler that exits with a code of its own is the SIGNAL step too. */
    const char *polite[] = {"sh", "-c", "trap 'exit 7' USR1; echo ready; while :; do sleep 1; done",
                            NULL};
    p = start_ready(polite, NULL);
    so = (st_popen_stop_options)ST_POPEN_STOP_OPTIONS_INIT;
    so.signal = SIGUSR1;
    so.grace = 30; /* sh runs the trap once the current sleep 1 ends */
    assert_int_equal(st_popen_stop(p, &so, &rc, &step), 0);
    assert_int_equal(step, ST_POPEN_STOP_SIGNAL);
    assert_int_equal(rc, 7);
    st_popen_free(p);

    /* SIGKILL as the signal skips to the last step. */
    p = st_popen_new(sl, NULL);
    assert_non_null(p);
    so.signal = SIGKILL;
    assert_int_equal(st_popen_stop(p, &so, &rc, &step), 0);
    assert_int_equal(step, ST_POPEN_STOP_KILL);
    assert_int_equal(rc, -SIGKILL);
    st_popen_free(p);

    /* A group leader that ends on SIGTERM while a member ignores it: the member is killed too. */
    const char *grp[] = {"sh", "-c", "(trap '' TERM; exec sleep 1000) & echo ready; wait", NULL};
    st_popen_options o = ST_POPEN_OPTIONS_INIT;
    o.set_process_group = 1;
    p = start_ready(grp, &o);
    long pgid = st_popen_pid(p);
    assert_int_equal(st_popen_stop(p, NULL, &rc, &step), 0);
    assert_int_equal(step, ST_POPEN_STOP_SIGNAL);
    assert_int_equal(group_settled(pgid), 0);
    st_popen_free(p);

    /* Bad arguments. */
    so = (st_popen_stop_options)ST_POPEN_STOP_OPTIONS_INIT;
    so.signal = -1;
    p = st_popen_new(sl, NULL);
    assert_non_null(p);
    assert_int_equal(st_popen_stop(p, &so, &rc, &step), -1);
    assert_int_equal(st_error_code(), ST_EVALUE);
    const st_popen_stop_options zero = {0};
    assert_int_equal(st_popen_stop(p, &zero, &rc, &step), -1);
    assert_int_equal(st_error_code(), ST_EVALUE);
    so.signal = 0;
    so.grace = NAN;
    assert_int_equal(st_popen_stop(p, &so, &rc, &step), -1);
    assert_int_equal(st_error_code(), ST_EVALUE);
    st_subprocess_run_options ro = ST_SUBPROCESS_RUN_OPTIONS_INIT;
    ro.stop_signal = NSIG;
    st_completed_process c;
    assert_int_equal(st_subprocess_run(sl, &ro, NULL, &c), -1);
    char want[64];
    snprintf(want, sizeof want, "invalid stop_signal %d", NSIG);
    assert_string_equal(st_error_message(), want);
    st_completed_process_free(&c);
    assert_int_equal(st_popen_stop(NULL, NULL, &rc, &step), -1);
    assert_int_equal(st_popen_stop(p, NULL, NULL, NULL), 0);
    st_popen_free(p);
    assert_no_children();
}

static void test_spawn_wait_any(void **state)
{
    (void)state;
    /* A child the library did not start, already ended: waiting for ours must not reap it. */
    pid_t foreign = fork();
    assert_true(foreign >= 0);
    if (foreign == 0)
        _exit(7);
    const char *sl[] = {"sleep", "100", NULL};
    const char *rd[] = {"sh", "-c", "read x", NULL};
    int in[2];
    assert_int_equal(pipe2(in, O_CLOEXEC), 0);
    st_popen_options o = ST_POPEN_OPTIONS_INIT;
    o.stdin_fd = ST_SUBPROCESS_FD(in[0]);
    st_popen *procs[3] = {st_popen_new(sl, NULL), st_popen_new(rd, &o), st_popen_new(sl, NULL)};
    close(in[0]);
    for (int i = 0; i < 3; i++)
        assert_non_null(procs[i]);
    size_t index = 99;
    double t0 = st_test_now();
    assert_int_equal(st_popen_wait_any(procs, 3, 0.2, &index), -1);
    assert_true(st_test_now() - t0 >= 0.2);
    assert_int_equal(st_error_code(), ST_ETIMEOUT);
    assert_string_equal(st_error_message(), "none of 3 processes ended within 0.2 seconds");
    assert_int_equal(index, 99);
    assert_int_equal(st_popen_wait_all(procs, 3, 0.05), -1);
    assert_string_equal(st_error_message(), "not all of 3 processes ended within 0.05 seconds");

    /* End of input ends the middle one: it is the one returned, reaped. */
    close(in[1]);
    assert_int_equal(st_popen_wait_any(procs, 3, ST_NO_TIMEOUT, &index), 0);
    assert_int_equal(index, 1);
    int rc = -1;
    assert_int_equal(st_popen_returncode(procs[1], &rc), 1);
    assert_int_equal(rc, 1); /* read fails at end of file */
    /* One reaped before counts at once. */
    assert_int_equal(st_popen_wait_any(procs, 3, 0, &index), 0);
    assert_int_equal(index, 1);

    assert_int_equal(st_popen_kill(procs[0]), 0);
    assert_int_equal(st_popen_kill(procs[2]), 0);
    assert_int_equal(st_popen_wait_all(procs, 3, 10), 0);
    assert_int_equal(st_popen_returncode(procs[2], &rc), 1);
    assert_int_equal(rc, -SIGKILL);

    /* More than a handful (the poll set is allocated then). */
    st_popen *many[10];
    for (int i = 0; i < 10; i++)
        assert_non_null(many[i] = st_popen_new(sl, NULL));
    assert_int_equal(st_popen_kill(many[7]), 0);
    assert_int_equal(st_popen_wait_any(many, 10, ST_NO_TIMEOUT, &index), 0);
    assert_int_equal(index, 7);
    for (int i = 0; i < 10; i++)
        assert_int_equal(st_popen_kill(many[i]), 0);
    assert_int_equal(st_popen_wait_all(many, 10, 30), 0);
    for (int i = 0; i < 10; i++)
        st_popen_free(many[i]);

    /* The foreign child is still there for its owner. */
    int status = 0;
    assert_int_equal(waitpid(foreign, &status, 0), foreign);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 7);

    assert_int_equal(st_popen_wait_any(NULL, 0, 1, &index), -1);
    assert_int_equal(st_error_code(), ST_EVALUE);
    st_popen *holes[] = {procs[0], NULL};
    assert_int_equal(st_popen_wait_all(holes, 2, 1), -1);
    assert_int_equal(st_error_code(), ST_EVALUE);
    for (int i = 0; i < 3; i++)
        st_popen_free(procs[i]);
    assert_no_children();
}

static void test_pipe_widen(void **state)
{
    (void)state;
    int pp[2];
    assert_int_equal(pipe2(pp, O_CLOEXEC), 0);
    size_t got = st__pipe_widen(pp[1], (size_t)1 << 20);
    assert_true(got >= 65536);
#ifdef F_GETPIPE_SZ
    assert_int_equal(fcntl(pp[0], F_GETPIPE_SZ), (int)got); /* what it says is what the pipe has */
    FILE *f = fopen("/proc/sys/fs/pipe-max-size", "r");
    long max = 0;
    if (f) {
        assert_int_equal(fscanf(f, "%ld", &max), 1);
        fclose(f);
    }
    if (max > 0 && max < (1L << 24)) {
        /* Past the maximum: EPERM without CAP_SYS_RESOURCE, then the maximum itself is asked
         * for; with the capability the kernel grants the rounded size. Never less than
         * before (past the user's pipe quota the pipe stays as it is). */
        size_t before = got;
        got = st__pipe_widen(pp[1], (size_t)max + 4096);
        assert_true(got >= before && got <= 2 * (size_t)max);
    }
#endif
    close(pp[0]);
    close(pp[1]);
}

/* The helper child of test_spawn_no_fd_leaks: prints every open descriptor above 2. */
static int list_fds(void)
{
    struct rlimit rl;
    long max = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 1048576 ? (long)rl.rlim_cur
                                                                            : 1048576;
    for (long fd = 3; fd < max; fd++)
        if (fcntl((int)fd, F_GETFD) >= 0)
            printf("%ld ", fd);
    return 0;
}

/* The stop ladder and waiting for many once more without pidfds: plain pids and Python's
 * back-off, the path of systems without them. */
static void test_spawn_without_pidfds(void **state)
{
    st__pidfd_disable(1);
    test_spawn_stop_ladder(state);
    test_spawn_wait_any(state);
    st__pidfd_disable(0);
}

static void test_spawn_no_fd_leaks(void **state)
{
    (void)state;
    ST_TEST_SKIP_UNDER_EMULATION("the helper child is this program, which the kernel cannot exec "
                                 "without binfmt_misc, and qemu-user's own descriptors would "
                                 "count in it");
    /* Inheritable descriptors of every kind, low and high: none may reach the child. */
    int pp[2];
    assert_int_equal(pipe(pp), 0);
    int null = open("/dev/null", O_RDONLY);
    assert_true(null >= 0);
    int high = fcntl(null, F_DUPFD, 1000);
    assert_true(high >= 1000);
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    const char *argv[] = {"/proc/self/exe", "--list-fds", NULL};
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    assert_true(n > 0);
    self[n] = '\0';
    argv[0] = self;
    for (int path = 0; path < 3; path++) {
        st_popen_options o = ST_POPEN_OPTIONS_INIT;
        o.stdin_fd = o.stderr_fd = ST_SUBPROCESS_DEVNULL;
        o.cwd = path == 1 ? "/" : NULL;       /* 0: posix_spawn (where it reports), 1: vfork */
        int pass[] = {sv[1]};
        if (path == 2) {                       /* pass_fds keeps exactly what it names */
            o.pass_fds = pass;
            o.pass_fds_len = 1;
        }
        char *out = out_of(argv, &o);
        char want[32] = "";
        if (path == 2)
            snprintf(want, sizeof want, "%d ", sv[1]);
        assert_string_equal(out, want);
        st_free(out);
    }
    close(pp[0]);
    close(pp[1]);
    close(null);
    close(high);
    close(sv[0]);
    close(sv[1]);
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--list-fds") == 0)
        return list_fds();
    /* The spawn paths alone, for the valgrind run (ctest test_subprocess_valgrind). */
    const struct CMUnitTest spawn_tests[] = {
        cmocka_unit_test(test_exec_failure),
        cmocka_unit_test(test_options_version_1),
        cmocka_unit_test(test_spawn_tree_timeout),
        cmocka_unit_test(test_spawn_stop_ladder),
        cmocka_unit_test(test_spawn_wait_any),
        cmocka_unit_test(test_spawn_without_pidfds),
        cmocka_unit_test(test_spawn_no_fd_leaks),
        cmocka_unit_test(test_close_fds_and_pass_fds),
        cmocka_unit_test(test_stdio_wiring),
    };
    if (getenv("ST_TEST_SPAWN_ONLY"))
        return cmocka_run_group_tests(spawn_tests, NULL, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_options_zero_is_python_default),
        cmocka_unit_test(test_call_returncodes),
        cmocka_unit_test(test_exec_failure),
        cmocka_unit_test(test_check_errors_match_python),
        cmocka_unit_test(test_realtime_signal_messages),
        cmocka_unit_test(test_run_capture_and_check),
        cmocka_unit_test(test_getoutput),
        cmocka_unit_test(test_communicate_100mb),
        cmocka_unit_test(test_communicate_eintr),
        cmocka_unit_test(test_communicate_timeout_resumes),
        cmocka_unit_test(test_env_cwd_shell_executable),
        cmocka_unit_test(test_stdio_wiring),
        cmocka_unit_test(test_close_fds_and_pass_fds),
        cmocka_unit_test(test_session_group_and_signals),
        cmocka_unit_test(test_free_running_child_is_reaped_later),
        cmocka_unit_test(test_many_spawns_leak_nothing),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_pipeline),
        cmocka_unit_test(test_spawn_tree_timeout),
        cmocka_unit_test(test_spawn_stop_ladder),
        cmocka_unit_test(test_spawn_wait_any),
        cmocka_unit_test(test_spawn_without_pidfds),
        cmocka_unit_test(test_spawn_no_fd_leaks),
        cmocka_unit_test(test_pipe_widen),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
