/* The thread-local last error and its traceback. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/error.h"
#include "internal/mem.h"

/* Deeper propagation chains keep the innermost frames and count the rest. */
#define MAX_FRAMES 32

typedef struct err_state {
    st_error pub;
    st_error_frame frames[MAX_FRAMES];
    size_t dropped_frames;
    char *message;   /* heap; NULL when pub.message points at a static fallback */
    char *traceback; /* formatted on demand by st__error_traceback() */
    int set;
} err_state;

static _Thread_local err_state tls;
static pthread_key_t cleanup_key;
static pthread_once_t cleanup_once = PTHREAD_ONCE_INIT;

static void release_strings(err_state *s)
{
    free(s->message);
    free(s->traceback);
    s->message = NULL;
    s->traceback = NULL;
}

/* Frees a finished thread's heap strings (the key's value is that thread's state). */
static void cleanup_thread(void *p) { release_strings(p); }

static void make_key(void) { (void)pthread_key_create(&cleanup_key, cleanup_thread); }

static void register_cleanup(void)
{
    pthread_once(&cleanup_once, make_key);
    if (!pthread_getspecific(cleanup_key))
        (void)pthread_setspecific(cleanup_key, &tls);
}

const char *st_error_type_name(int code, int os_errno)
{
    switch (code) {
    case ST_OK:
        return "None";
    case ST_EOS:
        switch (os_errno) {
        case EAGAIN:
#if EWOULDBLOCK != EAGAIN
        case EWOULDBLOCK:
#endif
        case EALREADY:
        case EINPROGRESS:
            return "BlockingIOError";
        case ECHILD:
            return "ChildProcessError";
        case EPIPE:
        case ESHUTDOWN:
            return "BrokenPipeError";
        case ECONNABORTED:
            return "ConnectionAbortedError";
        case ECONNREFUSED:
            return "ConnectionRefusedError";
        case ECONNRESET:
            return "ConnectionResetError";
        case EEXIST:
            return "FileExistsError";
        case ENOENT:
            return "FileNotFoundError";
        case EISDIR:
            return "IsADirectoryError";
        case ENOTDIR:
            return "NotADirectoryError";
        case EINTR:
            return "InterruptedError";
        case EACCES:
        case EPERM:
            return "PermissionError";
        case ESRCH:
            return "ProcessLookupError";
        case ETIMEDOUT:
            return "TimeoutError";
        default:
            return "OSError";
        }
    case ST_EVALUE:
    case ST_EFORMAT:
        return "ValueError";
    case ST_ETYPE:
        return "TypeError";
    case ST_EKEY:
        return "KeyError";
    case ST_EINDEX:
        return "IndexError";
    case ST_EOVERFLOW:
        return "OverflowError";
    case ST_ESYNTAX:
        return "SyntaxError";
    case ST_ETIMEOUT:
        return "TimeoutError";
    case ST_ECALLEDPROCESS:
        return "subprocess.CalledProcessError";
    case ST_ENOMEM:
        return "MemoryError";
    case ST_ECONFLICT:
        return "ConflictError";
    case ST_EEOF:
        return "EOFError";
    case ST_ERECURSION:
        return "RecursionError";
    case ST_ESTATE:
        return "RuntimeError";
    case ST_ENOTSUP:
        return "NotImplementedError";
    case ST_EAUTH:
        return "multiprocessing.AuthenticationError";
    default:
        return "Exception";
    }
}

static void push_frame(err_state *s, const char *func, const char *file, int line)
{
    if (s->pub.frame_count == MAX_FRAMES) {
        s->dropped_frames++;
        return;
    }
    st_error_frame *f = &s->frames[s->pub.frame_count++];
    f->function = func;
    f->file = file;
    f->line = line;
}

int st__raise(st_errcode code, int err, const char *type, const char *func, const char *file,
              int line, const char *fmt, ...)
{
    int saved_errno = errno;
    err_state *s = &tls;
    register_cleanup();
    release_strings(s);

    /* Formatted by hand, not with st__buf: an allocation failure here must not recurse. */
    va_list ap;
    va_start(ap, fmt);
    char small[1];
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(small, sizeof small, fmt, ap2);
    va_end(ap2);
    const char *suffix = code == ST_EOS ? strerror(err) : NULL;
    size_t extra = suffix ? strlen(suffix) + 2 : 0;
    char *msg = n >= 0 ? malloc((size_t)n + extra + 1) : NULL;
    if (msg) {
        vsnprintf(msg, (size_t)n + 1, fmt, ap);
        if (suffix) {
            memcpy(msg + n, ": ", 2);
            memcpy(msg + n + 2, suffix, extra - 2);
            msg[(size_t)n + extra] = '\0';
        }
    }
    va_end(ap);

    s->message = msg;
    s->pub.code = code;
    s->pub.os_errno = code == ST_EOS ? err : 0;
    s->pub.type = type ? type : st_error_type_name(code, err);
    s->pub.message = msg ? msg : (suffix ? suffix : fmt);
    s->pub.frame_count = 0;
    s->pub.frames = s->frames;
    s->dropped_frames = 0;
    s->set = 1;
    push_frame(s, func, file, line);
    errno = saved_errno;
    return -1;
}

int st__trace(const char *func, const char *file, int line)
{
    if (tls.set) {
        free(tls.traceback);
        tls.traceback = NULL;
        push_frame(&tls, func, file, line);
    }
    return -1;
}

const st_error *st_error_last(void) { return tls.set ? &tls.pub : NULL; }

int st_error_code(void) { return tls.set ? (int)tls.pub.code : ST_OK; }

int st_error_errno(void) { return tls.set ? tls.pub.os_errno : 0; }

const char *st_error_message(void) { return tls.set ? tls.pub.message : ""; }

void st_error_clear(void)
{
    release_strings(&tls);
    memset(&tls.pub, 0, sizeof tls.pub);
    tls.set = 0;
}

/* Python's layout: "Traceback (most recent call last):", outermost frame first, then
 * "Type: message". NULL when no error is set or memory ran out. */
const char *st__error_traceback(void)
{
    if (!tls.set)
        return NULL;
    if (tls.traceback)
        return tls.traceback;
    st__buf b = ST__BUF_INIT;
    /* st__buf raises on failure, which would overwrite the error being formatted: check first. */
    size_t need = 128 + strlen(tls.pub.type) + strlen(tls.pub.message);
    for (size_t i = 0; i < tls.pub.frame_count; i++)
        need += 40 + strlen(tls.frames[i].file) + strlen(tls.frames[i].function);
    b.data = malloc(need);
    if (!b.data)
        return NULL;
    b.cap = need;
    st__buf_puts(&b, "Traceback (most recent call last):\n");
    if (tls.dropped_frames)
        st__buf_printf(&b, "  [%zu outer frames not recorded]\n", tls.dropped_frames);
    for (size_t i = tls.pub.frame_count; i-- > 0;) {
        const st_error_frame *f = &tls.frames[i];
        st__buf_printf(&b, "  File \"%s\", line %d, in %s\n", f->file, f->line, f->function);
    }
    st__buf_printf(&b, "%s: %s\n", tls.pub.type, tls.pub.message);
    tls.traceback = b.data;
    return tls.traceback;
}
