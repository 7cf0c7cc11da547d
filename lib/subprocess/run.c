/* subprocess: run, call, check_call, check_output, getoutput and pipelines, on Popen. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "internal/options.h"
#include "internal/posix.h"
#include "internal/subprocess.h"

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
    return st__options_init(
        opts, ST_OPTIONS_SIZES(offsetof(st_subprocess_run_options, stop_signal), sizeof *opts),
        version, ST_SUBPROCESS_RUN_OPTIONS_VERSION, "st_subprocess_run_options");
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
    double timeout = st__sp_options_timeout(r->timeout);
    if (r->version >= 2 && (r->stop_signal < 0 || r->stop_signal >= NSIG))
        return ST_RAISE(ST_EVALUE, "invalid stop_signal %d", r->stop_signal);
    if (r->version >= 2 && r->stop_grace != r->stop_grace)
        return ST_RAISE(ST_EVALUE, "stop_grace must not be NaN");
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
        rc = st__sp_communicate(p, r->input, r->input_len, st__deadline(timeout), 1, 1);
        /* Python: process.kill(); process.wait(); raise. The ladder when asked for. */
        if (rc != 0 && r->version >= 2)
            (void)st__sp_stop(&p, 1, r->stop_signal,
                              r->stop_grace == 0 ? ST_POPEN_STOP_GRACE : r->stop_grace);
        else if (rc != 0)
            (void)st__sp_stop(&p, 1, 0, 0);
        result->returncode = p->returncode;
        /* After a timeout a stream with nothing read is None, as TimeoutExpired.stdout. */
        st__sp_take(&p->obuf, p->out_piped && (rc != 1 || p->obuf.len), &result->stdout_data,
             &result->stdout_len);
        st__sp_take(&p->ebuf, p->err_piped && (rc != 1 || p->ebuf.len), &result->stderr_data,
             &result->stderr_len);
        if (rc == 1)
            st__sp_raise_timeout(p->args, p->shell, timeout);
        else if (rc == 0 && r->check && result->returncode != 0)
            rc = st__sp_raise_called(p->args, p->shell, result->returncode);
    }
    st_popen_free(p);
    return rc == 0 ? 0 : ST_TRACE();
}

int st_subprocess_call(const char *const argv[], const st_popen_options *opts, int *returncode)
{
    st_popen *p = st_popen_new(argv, opts);
    if (!p)
        return ST_TRACE();
    int r = st__sp_reap(p, 0);
    if (r < 0)
        (void)st__sp_stop(&p, 1, 0, 0);
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
    return st__sp_raise_called(argv, opts && opts->shell, rc);
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

/* Stops the commands started (a prefix of procs) all at once, through one ladder. */
static void pipeline_stop(st_popen **procs, size_t n, int sig, double grace)
{
    size_t started = 0;
    while (started < n && procs[started])
        started++;
    (void)st__sp_stop(procs, started, sig, grace == 0 ? ST_POPEN_STOP_GRACE : grace);
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
                st__sp_close_fd(&prev);
                return ST_RAISE_OS(errno, "cannot create a pipe");
            }
            /* Between two commands the data never passes through us: a wide pipe is all we can
             * give it (a pipeline is for bulk; the shell's are 64 KiB). */
            (void)st__pipe_widen(pp[1], (size_t)1 << 20);
            o.stdout_fd = ST_SUBPROCESS_FD(pp[1]);
        } else if (capture) {
            o.stdout_fd = ST_SUBPROCESS_PIPE;
        }
        procs[i] = st_popen_new(argvs[i], &o);
        /* The parent keeps no inner pipe end: each command alone sees EOF and SIGPIPE. */
        st__sp_close_fd(&prev);
        st__sp_close_fd(&pp[1]);
        prev = pp[0];
        if (!procs[i]) {
            st__sp_close_fd(&prev);
            return ST_TRACE();
        }
    }
    return 0;
}

int st_subprocess_pipeline_options_init(st_subprocess_pipeline_options *opts,
                                        unsigned int version)
{
    return st__options_init(
        opts, ST_OPTIONS_SIZES(offsetof(st_subprocess_pipeline_options, stop_signal), sizeof *opts),
        version, ST_SUBPROCESS_PIPELINE_OPTIONS_VERSION, "st_subprocess_pipeline_options");
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
    if (po->popen && (st__sp_check_options(po->popen) < 0))
        return ST_TRACE();
    if (po->popen && (po->popen->stdin_fd == ST_SUBPROCESS_PIPE || po->popen->stdout_fd == ST_SUBPROCESS_PIPE ||
                      po->popen->stderr_fd == ST_SUBPROCESS_PIPE))
        return ST_RAISE(ST_EVALUE, "pipeline options cannot use ST_SUBPROCESS_PIPE (use input and out)");
    if (po->input && po->popen && po->popen->stdin_fd != ST_SUBPROCESS_INHERIT)
        return ST_RAISE(ST_EVALUE, "stdin and input arguments may not both be used.");
    if (po->version >= 2 && (po->stop_signal < 0 || po->stop_signal >= NSIG))
        return ST_RAISE(ST_EVALUE, "invalid stop_signal %d", po->stop_signal);
    if (po->version >= 2 && po->stop_grace != po->stop_grace)
        return ST_RAISE(ST_EVALUE, "stop_grace must not be NaN");

    st_popen **procs = st__calloc(n, sizeof *procs);
    if (!procs)
        return ST_TRACE();
    int rc = pipeline_start(argvs, n, po, procs, out != NULL);
    st__buf ob = ST__BUF_INIT;
    size_t off = 0;
    double timeout = st__sp_options_timeout(po->timeout);
    double deadline = st__deadline(timeout);
    st_popen *timed_out = NULL, *failed = NULL;
    if (rc == 0) {
        int none = -1;
        if (out && st__buf_reserve(&ob, 0) < 0)
            rc = -1;
        if (rc == 0)
            rc = st__sp_pump(&procs[0]->in, po->input, po->input ? po->input_len : 0, &off,
                      out ? &procs[n - 1]->out : &none, &ob, &none, NULL, deadline);
        if (rc == 1)
            timed_out = procs[n - 1];
        for (size_t i = 0; i < n && rc == 0; i++) {
            int w = st__sp_wait_until(procs[i], deadline);
            rc = w < 0 ? -1 : w == 0;
            if (w == 0)
                timed_out = procs[i];
        }
    }
    /* A timeout stops them through the ladder asked for; a failure kills them at once. */
    if (rc != 0)
        pipeline_stop(procs, n, timed_out && po->version >= 2 ? po->stop_signal : 0,
                      po->version >= 2 ? po->stop_grace : 0);
    if (timed_out)
        st__sp_raise_timeout(timed_out->args, timed_out->shell, timeout);
    for (size_t i = 0; i < n && procs[i]; i++) {
        if (returncodes)
            returncodes[i] = procs[i]->returncode;
        if (procs[i]->returncode != 0)
            failed = procs[i];
    }
    if (rc == 0 && po->check && failed)
        rc = st__sp_raise_called(failed->args, failed->shell, failed->returncode);
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
