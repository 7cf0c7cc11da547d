/* os: popen, built on subprocess's public API as Python's os.popen is built on subprocess.Popen. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "internal/error.h"
#include "internal/mem.h"
#include "internal/posix.h"
#include "systools/os.h"
#include "systools/subprocess.h"

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
