/* The seed's subprocess tour: run hello-out (inherited and captured), feed hello-in through
 * its stdin, run `writer 3 | reader` as a pipeline, show how failures read, and stop a process
 * tree on a timeout, a child with the stop ladder, and wait for whichever child ends first.
 *
 *   $ spawn
 *   $ hello-out
 *   Hello from hello-out!
 *   ...
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <systools/systools.h>

static int fail(const char *what)
{
    fprintf(stderr, "%s: %s: %s\n", what, st_error_last()->type, st_error_message());
    return 1;
}

/* What Python would print for the exception. */
static void show_error(void)
{
    printf("  -> %s: %s\n", st_error_last()->type, st_error_message());
}

int main(void)
{
    /* subprocess.call(): the child writes straight to our stdout, so flush ours first. */
    const char *hello_out[] = {"hello-out", NULL};
    int rc;
    puts("$ hello-out");
    fflush(stdout);
    if (st_subprocess_call(hello_out, NULL, &rc) < 0)
        return fail("call");
    printf("returncode: %d\n", rc);

    /* subprocess.check_output(). */
    size_t len;
    char *out = st_subprocess_check_output(hello_out, NULL, &len, NULL);
    if (!out)
        return fail("check_output");
    printf("captured %zu bytes: %s", len, out);
    st_free(out);

    /* subprocess.run(input=..., capture_output=True). */
    const char *hello_in[] = {"hello-in", NULL};
    st_subprocess_run_options ro = ST_SUBPROCESS_RUN_OPTIONS_INIT;
    ro.input = "Ada\nGrace\n";
    ro.input_len = strlen(ro.input);
    ro.capture_output = 1;
    st_completed_process done;
    if (st_subprocess_run(hello_in, &ro, NULL, &done) < 0)
        return fail("run");
    printf("hello-in answered (returncode %d):\n%s", done.returncode, done.stdout_data);
    st_completed_process_free(&done);

    /* Popen + communicate(), the long way. */
    st_popen_options o = ST_POPEN_OPTIONS_INIT;
    o.stdin_fd = ST_SUBPROCESS_PIPE;
    o.stdout_fd = ST_SUBPROCESS_PIPE;
    st_popen *p = st_popen_new(hello_in, &o);
    if (!p)
        return fail("popen");
    if (st_popen_communicate(p, "Linus\n", 6, 10.0, &done) < 0)
        return fail("communicate");
    printf("communicate: %s", done.stdout_data);
    st_completed_process_free(&done);
    st_popen_free(p);

    /* writer 3 | reader */
    const char *writer[] = {"writer", "3", NULL};
    const char *reader[] = {"reader", NULL};
    const char *const *pipeline[] = {writer, reader};
    int rcs[2];
    puts("$ writer 3 | reader");
    if (st_subprocess_pipeline(pipeline, 2, NULL, rcs, &out, &len) < 0)
        return fail("pipeline");
    printf("%sreturncodes: %d %d\n", out, rcs[0], rcs[1]);
    st_free(out);

    /* Failures, as Python names them. */
    puts("$ no-such-program");
    const char *missing[] = {"no-such-program", NULL};
    if (st_subprocess_call(missing, NULL, &rc) < 0)
        show_error();
    puts("$ check_output: sh -c 'echo partial; exit 3'");
    const char *three[] = {"/bin/sh", "-c", "echo partial; exit 3", NULL};
    if (!st_subprocess_check_output(three, NULL, NULL, &done)) {
        show_error(); /* CalledProcessError keeps what the child wrote, and its returncode */
        printf("output kept: %sreturncode: %d\n", done.stdout_data, done.returncode);
    }
    st_completed_process_free(&done);
    puts("$ run sleep 10, timeout 0.1");
    const char *sleeper[] = {"sleep", "10", NULL};
    st_subprocess_run_options quick = ST_SUBPROCESS_RUN_OPTIONS_INIT;
    quick.timeout = 0.1;
    quick.capture_output = 1;
    if (st_subprocess_run(sleeper, &quick, NULL, &done) < 0)
        show_error();
    printf("returncode after the kill: %d\n", done.returncode);
    st_completed_process_free(&done);

    /* A whole tree on a timeout: in its own session, the backgrounded sleep that holds the pipes
     * goes with sh, so run() returns on time; SIGTERM first, SIGKILL after 2 s. */
    puts("$ run sh -c 'sleep 100 & sleep 100' in a new session, timeout 0.2, SIGTERM first");
    const char *tree[] = {"/bin/sh", "-c", "sleep 100 & sleep 100", NULL};
    quick.timeout = 0.2;
    quick.stop_signal = SIGTERM;
    quick.stop_grace = 2;
    st_popen_options session = ST_POPEN_OPTIONS_INIT;
    session.start_new_session = 1;
    if (st_subprocess_run(tree, &quick, &session, &done) < 0)
        show_error();
    printf("returncode after the stop: %d\n", done.returncode);
    st_completed_process_free(&done);

    /* The stop ladder by hand: this child ignores SIGTERM (it says so once the trap is set). */
    puts("$ sh -c 'trap \"\" TERM; echo ready; ...', stopped with a 0.2 s grace");
    const char *stubborn[] = {"/bin/sh", "-c", "trap '' TERM; echo ready; while :; do sleep 1; done",
                              NULL};
    o = (st_popen_options)ST_POPEN_OPTIONS_INIT;
    o.stdout_fd = ST_SUBPROCESS_PIPE;
    if (!(p = st_popen_new(stubborn, &o)))
        return fail("popen");
    char ready[6];
    FILE *from = fdopen(dup(st_popen_stdout(p)), "r");
    if (!from || !fgets(ready, sizeof ready, from))
        return fail("ready");
    fclose(from);
    st_popen_stop_options so = ST_POPEN_STOP_OPTIONS_INIT;
    so.grace = 0.2;
    st_popen_stop_step step;
    if (st_popen_stop(p, &so, &rc, &step) < 0)
        return fail("stop");
    printf("ended by %s, returncode %d\n", step == ST_POPEN_STOP_KILL ? "SIGKILL" : "SIGTERM", rc);
    st_popen_free(p);

    /* Whichever of several children ends first. */
    puts("$ sleep 10 and hello-out: which ends first?");
    o = (st_popen_options)ST_POPEN_OPTIONS_INIT;
    o.stdout_fd = ST_SUBPROCESS_DEVNULL;
    st_popen *both[2] = {st_popen_new(sleeper, NULL), st_popen_new(hello_out, &o)};
    size_t first;
    if (!both[0] || !both[1] || st_popen_wait_any(both, 2, 30, &first) < 0)
        return fail("wait_any");
    printf("%s\n", first == 1 ? "hello-out" : "sleep 10");
    st_popen_stop(both[0], NULL, NULL, NULL);
    st_popen_free(both[0]);
    st_popen_free(both[1]);
    return 0;
}
