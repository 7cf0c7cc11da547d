/* Internal: what the files of lib/subprocess/ share: the Popen handle, reaping and waiting,
 * spawning, communicate's poll loop and Python's messages. Never installed. */
#ifndef ST_INTERNAL_SUBPROCESS_H
#define ST_INTERNAL_SUBPROCESS_H

#include <sys/types.h>

#include "error.h"
#include "mem.h"
#include "systools/subprocess.h"

struct st_popen {
    pid_t pid;
    int pidfd;            /* pidfd of the child (race-free signals, poll on exit), or -1 */
    int in, out, err;     /* parent's pipe ends, -1 when none or closed */
    int out_piped, err_piped;
    int returncode;
    int reaped;
    int shell;            /* for showing args as Python does */
    int kill_group;       /* started as its own process group: signal the group on stop */
    int stopping;         /* st__sp_stop()'s mark: not reaped when the stop began */
    const char **args;    /* the caller's argv, for messages */
    /* communicate() state kept across a timeout, as Python keeps it */
    int comm_started;
    char *pending;        /* unsent input copied at a timeout */
    const char *in_data;
    size_t in_len, in_off;
    st__buf obuf, ebuf;
};

/* Closes *fd when open and sets it to -1. */
void st__sp_close_fd(int *fd);
/* An options struct spells None as 0 (all-zero options are Python's defaults); a negative
 * value, ST_NO_TIMEOUT, means None too. */
double st__sp_options_timeout(double timeout_s);

/* ---- messages (messages.c) ------------------------------------------------------------------ */

/* subprocess.CalledProcessError's and TimeoutExpired's str(); both return -1. */
int st__sp_raise_called(const char *const *args, int shell, int returncode);
int st__sp_raise_timeout(const char *const *args, int shell, double timeout_s);

/* ---- spawning (spawn.c) --------------------------------------------------------------------- */

/* The option checks of Popen (ST_EVALUE). */
int st__sp_check_options(const st_popen_options *o);
/* Opens the pipes, starts the child and reports an exec failure (the failed child is reaped):
 * the pid, with our pipe ends in parent[0..2] (-1 for none), or -1 with the error set. */
pid_t st__sp_spawn(const char *const argv[], const st_popen_options *o, int parent[3]);

/* ---- the handle (popen.c) ------------------------------------------------------------------- */

/* Reaps, without blocking, the children st_popen_free() left running. */
void st__sp_reap_abandoned(void);
/* One waitpid on our own pid (options 0 or WNOHANG): 1 when it has ended (returncode set), 0
 * while it runs, -1 on error. */
int st__sp_reap(st_popen *p, int options);
/* Waits until the monotonic deadline (-1: none): 1 when reaped, 0 on timeout, -1 on error. */
int st__sp_wait_until(st_popen *p, double deadline);
/* The stop ladder over n children at once, without messages: sig (0: SIGKILL at once) to
 * each child, or its group when it leads one, one grace period (negative: none) for them all to
 * end, then SIGKILL to those left and to every group; reaps them. Returns the step that ended
 * the last of them (an st_popen_stop_step), or -1 when one could not be signalled or waited
 * for (the others are stopped all the same). */
int st__sp_stop(st_popen *const *procs, size_t n, int sig, double grace);

/* ---- communicate (communicate.c) ------------------------------------------------------------ */

/* The poll loop over up to three pipes: 0 when every pipe is done, 1 on timeout, -1 on error.
 * Closes each descriptor when its stream is done; ob/eb NULL discard what is read. */
int st__sp_pump(int *in, const char *data, size_t len, size_t *off, int *out, st__buf *ob,
                int *err, st__buf *eb, double deadline);
/* Python's _communicate: 0 done (reaped), 1 on timeout (state kept for a later call), -1. */
int st__sp_communicate(st_popen *p, const void *input, size_t input_len, double deadline,
                       int keep_out, int keep_err);
/* Hands a captured stream to the caller: NULL when it was not a pipe. Cannot fail after
 * st__sp_communicate() (it reserved the buffer). */
void st__sp_take(st__buf *b, int piped, char **data, size_t *len);

#endif
