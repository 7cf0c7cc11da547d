/* sys: argv, executable, platform facts, sys.path, sys.modules and exc_info. */
#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal/error.h"
#include "internal/mem.h"
#include "internal/os.h"
#include "internal/sys.h"
#include "systools/io.h"
#include "systools/os.h"
#include "st_config.h"
#include "systools/sys.h"
#if defined(ST_HAVE_DL_ITERATE_PHDR)
#include <link.h>
#endif
#if defined(ST_HAVE_DYLD_IMAGE_COUNT) || defined(ST_HAVE_NSGETEXECUTABLEPATH)
#include <mach-o/dyld.h>
#endif
/* The few tests of the system's name below give facts that are the name itself (sys.platform)
 * or that Python fixes per platform (macOS's file system encoding), not features. */
#if defined(__FreeBSD__)
#include <sys/utsname.h>
#endif

/* argv, executable and sys.path are process-wide; one lock guards them all. */
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static const char **g_argv; /* NULL until st_sys_init() or the first st_sys_argv() */
static char *g_executable;  /* computed once, never changes afterwards */
static st__strv g_path;     /* sys.path */
static int g_path_ready;

/* ---- argv ------------------------------------------------------------------------------ */

/* Without st_sys_init(): the kernel's copy of the command line, NUL-separated, where a Linux
 * style /proc has one (elsewhere the open fails and argv is empty). */
static const char **argv_from_system(void)
{
    st__strv sv = ST__STRV_INIT;
    int fd = st__open_cloexec(AT_FDCWD, "/proc/self/cmdline", O_RDONLY, 0);
    if (fd >= 0) {
        st__buf b = ST__BUF_INIT;
        char chunk[4096];
        ssize_t n;
        int ok = 1;
        while ((n = st__read_retry(fd, chunk, sizeof chunk)) != 0) {
            if (n < 0)
                break;
            if (st__buf_append(&b, chunk, (size_t)n) < 0) {
                ok = 0;
                break;
            }
        }
        close(fd);
        for (size_t i = 0; ok && i < b.len; i += strlen(b.data + i) + 1)
            ok = st__strv_push(&sv, b.data + i) == 0;
        st__buf_free(&b);
        if (!ok) {
            st__strv_free(&sv);
            return NULL;
        }
    }
    return st__strv_detach(&sv);
}

const char *const *st_sys_argv(void)
{
    static const char *empty[1] = {NULL};
    pthread_mutex_lock(&g_lock);
    if (!g_argv)
        g_argv = argv_from_system();
    const char *const *v = g_argv ? g_argv : empty;
    pthread_mutex_unlock(&g_lock);
    return v;
}

/* ---- executable ------------------------------------------------------------------------ */

static int is_executable_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* argv[0] resolved as a shell would: with a slash, against the cwd; without, along PATH. */
static char *executable_from_argv0(const char *arg0)
{
    if (!arg0 || !*arg0)
        return NULL;
    if (strchr(arg0, '/'))
        return realpath(arg0, NULL);
    const char *path = getenv("PATH");
    if (!path)
        return NULL;
    for (const char *p = path;; p++) {
        const char *end = strchr(p, ':');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char *cand = len ? st__asprintf("%.*s/%s", (int)len, p, arg0) : st__strdup(arg0);
        if (cand && is_executable_file(cand)) {
            char *real = realpath(cand, NULL);
            free(cand);
            return real;
        }
        free(cand);
        if (!end)
            return NULL;
        p = end;
    }
}

static char *find_executable(void)
{
    /* A Linux style /proc names the program itself; elsewhere the readlink fails. */
    int err;
    char *p = st__readlink("/proc/self/exe", &err);
    if (p && p[0] == '/')
        return p;
    free(p);
#if defined(ST_HAVE_NSGETEXECUTABLEPATH)
    uint32_t size = 0;
    _NSGetExecutablePath(NULL, &size);
    char *raw = malloc(size ? size : 1);
    if (raw && _NSGetExecutablePath(raw, &size) == 0) {
        char *real = realpath(raw, NULL);
        free(raw);
        if (real)
            return real;
    } else {
        free(raw);
    }
#endif
    return executable_from_argv0(g_argv ? g_argv[0] : NULL);
}

/* Caller holds g_lock. */
static const char *executable_locked(void)
{
    if (!g_executable) {
        if (!g_argv)
            g_argv = argv_from_system();
        g_executable = find_executable();
    }
    return g_executable ? g_executable : "";
}

const char *st_sys_executable(void)
{
    pthread_mutex_lock(&g_lock);
    const char *e = executable_locked();
    pthread_mutex_unlock(&g_lock);
    return e;
}

/* ---- sys.path -------------------------------------------------------------------------- */

int st__sys_path_parse(const char *list, st__strv *out)
{
    for (const char *p = list; p && *p;) {
        const char *end = strchr(p, ':');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len && st__strv_push_owned(out, st__strndup(p, len)) < 0)
            return ST_TRACE();
        if (!end)
            break;
        p = end + 1;
    }
    return 0;
}

/* Caller holds g_lock. Builds [program dir or ""] + SYSTOOLS_PATH into g_path. */
static int path_reset_locked(void)
{
    st__strv fresh = ST__STRV_INIT;
    const char *exe = executable_locked();
    const char *slash = strrchr(exe, '/');
    char *dir = slash ? st__strndup(exe, slash == exe ? 1 : (size_t)(slash - exe)) : st__strdup("");
    if (st__strv_push_owned(&fresh, dir) < 0 || st__sys_path_parse(getenv("SYSTOOLS_PATH"), &fresh) < 0) {
        st__strv_free(&fresh);
        return ST_TRACE();
    }
    st__strv_free(&g_path);
    g_path = fresh;
    g_path_ready = 1;
    return 0;
}

static int path_lock(void)
{
    pthread_mutex_lock(&g_lock);
    if (!g_path_ready && path_reset_locked() < 0) {
        pthread_mutex_unlock(&g_lock);
        return ST_TRACE();
    }
    return 0;
}

const char **st_sys_path(void)
{
    if (path_lock() < 0)
        return NULL;
    const char **copy = st__strv_dup((const char *const *)g_path.v);
    pthread_mutex_unlock(&g_lock);
    return copy ? copy : (ST_TRACE(), NULL);
}

int st_sys_path_insert(ssize_t index, const char *dir)
{
    if (!dir)
        return ST_RAISE(ST_EVALUE, "sys.path entries must be strings, not NULL");
    if (path_lock() < 0)
        return -1;
    ssize_t n = (ssize_t)g_path.len;
    if (index < 0)
        index = index + n < 0 ? 0 : index + n;
    if (index > n)
        index = n;
    int rc = st__strv_insert(&g_path, (size_t)index, dir);
    pthread_mutex_unlock(&g_lock);
    return rc < 0 ? ST_TRACE() : 0;
}

int st_sys_path_append(const char *dir) { return st_sys_path_insert(st_sys_maxsize(), dir); }

int st_sys_path_remove(const char *dir)
{
    if (path_lock() < 0)
        return -1;
    for (size_t i = 0; dir && i < g_path.len; i++) {
        if (strcmp(g_path.v[i], dir) == 0) {
            st__strv_remove(&g_path, i);
            pthread_mutex_unlock(&g_lock);
            return 0;
        }
    }
    pthread_mutex_unlock(&g_lock);
    return ST_RAISE(ST_EVALUE, "list.remove(x): x not in list");
}

char *st_sys_path_find(const char *name)
{
    if (!name || !*name)
        return (ST_RAISE(ST_EVALUE, "st_sys_path_find: empty file name"), NULL);
    struct stat st;
    if (name[0] == '/') {
        if (stat(name, &st) == 0)
            return st__strdup(name);
        return (ST_RAISE_OS(ENOENT, "cannot find '%s'", name), NULL);
    }
    const char **dirs = st_sys_path(); /* a snapshot: no lock held while touching the filesystem */
    if (!dirs)
        return (ST_TRACE(), NULL);
    st__buf cand = ST__BUF_INIT; /* one buffer reused for every candidate */
    for (const char **d = dirs; *d; d++) {
        size_t len = strlen(*d);
        cand.len = 0;
        if (st__buf_append(&cand, *d, len) < 0 || (len && (*d)[len - 1] != '/' && st__buf_putc(&cand, '/') < 0) ||
            st__buf_puts(&cand, name) < 0) {
            st__buf_free(&cand);
            st_strv_free(dirs);
            return (ST_TRACE(), NULL);
        }
        if (stat(cand.data, &st) == 0) {
            st_strv_free(dirs);
            return st__buf_detach(&cand);
        }
    }
    st__buf_free(&cand);
    st_strv_free(dirs);
    return (ST_RAISE_OS(ENOENT, "cannot find '%s' on sys.path", name), NULL);
}

int st_sys_init(int argc, char **argv)
{
    if (argc < 0 || (argc > 0 && !argv))
        return ST_RAISE(ST_EVALUE, "st_sys_init: bad argc/argv (%d, %p)", argc, (void *)argv);
    st__strv sv = ST__STRV_INIT;
    for (int i = 0; i < argc; i++) {
        if (st__strv_push(&sv, argv[i] ? argv[i] : "") < 0) {
            st__strv_free(&sv);
            return ST_TRACE();
        }
    }
    const char **copy = st__strv_detach(&sv);
    if (!copy)
        return ST_TRACE();
    pthread_mutex_lock(&g_lock);
    st_strv_free(g_argv);
    g_argv = copy;
    int rc = path_reset_locked();
    pthread_mutex_unlock(&g_lock);
    return rc < 0 ? ST_TRACE() : 0;
}

/* ---- platform facts -------------------------------------------------------------------- */

#if defined(__FreeBSD__)
/* Python names FreeBSD with its major release, e.g. "freebsd14". */
static char g_freebsd[32];
static pthread_once_t g_freebsd_once = PTHREAD_ONCE_INIT;

static void freebsd_name(void)
{
    struct utsname u;
    int major = uname(&u) == 0 ? atoi(u.release) : 0;
    snprintf(g_freebsd, sizeof g_freebsd, "freebsd%d", major);
}
#endif

const char *st_sys_platform(void)
{
#if defined(__linux__)
    return "linux";
#elif defined(__APPLE__)
    return "darwin";
#elif defined(__FreeBSD__)
    pthread_once(&g_freebsd_once, freebsd_name);
    return g_freebsd;
#elif defined(__OpenBSD__)
    return "openbsd";
#elif defined(__NetBSD__)
    return "netbsd";
#elif defined(__sun)
    return "sunos5";
#elif defined(_AIX)
    return "aix";
#elif defined(__CYGWIN__)
    return "cygwin";
#elif defined(_WIN32)
    return "win32";
#else
    return "unknown";
#endif
}

const char *st_sys_byteorder(void)
{
    const uint16_t probe = 1;
    return *(const unsigned char *)&probe ? "little" : "big";
}

ssize_t st_sys_maxsize(void) { return (ssize_t)(SIZE_MAX >> 1); }

const char *st_sys_version(void)
{
#if defined(__clang__)
    return ST_VERSION_STRING " (libsystools) [Clang " __clang_version__ "]";
#elif defined(__GNUC__)
    return ST_VERSION_STRING " (libsystools) [GCC " __VERSION__ "]";
#else
    return ST_VERSION_STRING " (libsystools)";
#endif
}

/* The codec name CPython reports for a locale's CODESET (codecs.lookup(x).name). */
static void python_codec_name(const char *codeset, char *out, size_t outlen)
{
    char low[64];
    size_t n = 0;
    for (; codeset[n] && n + 1 < sizeof low; n++)
        low[n] = (char)(codeset[n] >= 'A' && codeset[n] <= 'Z' ? codeset[n] + 32 : codeset[n]);
    low[n] = '\0';
    /* The C/POSIX locale's ASCII turns on Python's UTF-8 mode (PEP 538/540). */
    if (!n || !strcmp(low, "utf-8") || !strcmp(low, "utf8") || !strcmp(low, "ansi_x3.4-1968") ||
        !strcmp(low, "ascii") || !strcmp(low, "us-ascii")) {
        snprintf(out, outlen, "utf-8");
    } else if (!strncmp(low, "iso-8859-", 9) || !strncmp(low, "iso8859-", 8)) {
        snprintf(out, outlen, "iso8859-%s", low + (low[3] == '-' ? 9 : 8));
    } else if (!strncmp(low, "koi8-", 5)) {
        snprintf(out, outlen, "%s", low);
    } else {
        for (char *p = low; *p; p++)
            if (*p == '-')
                *p = '_';
        snprintf(out, outlen, "%s", low);
    }
}

static char g_fsencoding[64];
static pthread_once_t g_fsencoding_once = PTHREAD_ONCE_INIT;

static void compute_fsencoding(void)
{
#if defined(__APPLE__) /* Python's macOS encoding is UTF-8 whatever the locale */
    snprintf(g_fsencoding, sizeof g_fsencoding, "utf-8");
#else
    /* newlocale() reads LC_ALL/LC_CTYPE/LANG without touching the process's own locale. */
    locale_t loc = newlocale(LC_CTYPE_MASK, "", (locale_t)0);
    const char *cs = loc ? nl_langinfo_l(CODESET, loc) : "";
    python_codec_name(cs ? cs : "", g_fsencoding, sizeof g_fsencoding);
    if (loc)
        freelocale(loc);
#endif
}

const char *st_sys_getfilesystemencoding(void)
{
    pthread_once(&g_fsencoding_once, compute_fsencoding);
    return g_fsencoding;
}

/* ---- sys.modules ----------------------------------------------------------------------- */

typedef struct module_list {
    st__strv paths;
    uintptr_t *bases;
    size_t cap;
    int failed;
} module_list;

static int add_module(module_list *ml, const char *path, uintptr_t base)
{
    if (ml->paths.len == ml->cap) {
        uintptr_t *b = st__grow(ml->bases, &ml->cap, sizeof *b, 32);
        if (!b)
            return -1;
        ml->bases = b;
    }
    if (st__strv_push(&ml->paths, path) < 0)
        return -1;
    ml->bases[ml->paths.len - 1] = base;
    return 0;
}

#if defined(ST_HAVE_DL_ITERATE_PHDR)
static int phdr_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    module_list *ml = arg;
    (void)size;
    /* The first object is the main program, which loaders name differently (glibc "", musl the
     * path it was started by): sys.executable names it everywhere. */
    const char *path = ml->paths.len == 0 || !info->dlpi_name || !*info->dlpi_name
                           ? st_sys_executable()
                           : info->dlpi_name;
    if (add_module(ml, path, (uintptr_t)info->dlpi_addr) < 0) {
        ml->failed = 1;
        return 1;
    }
    return 0;
}
#endif

static int collect_modules(module_list *ml)
{
#if defined(ST_HAVE_DL_ITERATE_PHDR)
    dl_iterate_phdr(phdr_cb, ml);
    return ml->failed ? ST_TRACE() : 0;
#elif defined(ST_HAVE_DYLD_IMAGE_COUNT)
    for (uint32_t i = 0, n = _dyld_image_count(); i < n; i++)
        if (add_module(ml, _dyld_get_image_name(i), (uintptr_t)_dyld_get_image_vmaddr_slide(i)) < 0)
            return ST_TRACE();
    return 0;
#else
    return ST_RAISE(ST_ENOTSUP, "sys.modules: this system's loader cannot list its objects");
#endif
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* Packs entries [from, to) of ml into one st_free()-able block, strings after the array. */
static st_sys_module *pack_modules(const module_list *ml, size_t from, size_t to)
{
    size_t n = to - from, strings = 0;
    for (size_t i = from; i < to; i++)
        strings += strlen(ml->paths.v[i]) + 1;
    st_sys_module *out = st__malloc((n + 1) * sizeof *out + strings);
    if (!out)
        return NULL;
    char *s = (char *)(out + n + 1);
    for (size_t i = from; i < to; i++) {
        size_t len = strlen(ml->paths.v[i]) + 1;
        memcpy(s, ml->paths.v[i], len);
        out[i - from].path = s;
        out[i - from].name = base_name(s);
        out[i - from].base = ml->bases[i];
        s += len;
    }
    out[n] = (st_sys_module){NULL, NULL, 0};
    return out;
}

static void free_modules(module_list *ml)
{
    st__strv_free(&ml->paths);
    free(ml->bases);
}

st_sys_module *st_sys_modules(size_t *count)
{
    module_list ml = {ST__STRV_INIT, NULL, 0, 0};
    st_sys_module *out = collect_modules(&ml) < 0 ? NULL : pack_modules(&ml, 0, ml.paths.len);
    if (out && count)
        *count = ml.paths.len;
    free_modules(&ml);
    return out ? out : (ST_TRACE(), NULL);
}

static int module_matches(const char *path, const char *name)
{
    const char *base = base_name(path);
    size_t n = strlen(name);
    return !strcmp(path, name) || !strcmp(base, name) || (!strncmp(base, name, n) && base[n] == '.');
}

st_sys_module *st_sys_modules_get(const char *name)
{
    if (!name || !*name)
        return (ST_RAISE(ST_EKEY, "''"), NULL);
    module_list ml = {ST__STRV_INIT, NULL, 0, 0};
    st_sys_module *out = NULL;
    if (collect_modules(&ml) == 0) {
        size_t i = 0;
        while (i < ml.paths.len && !module_matches(ml.paths.v[i], name))
            i++;
        out = i < ml.paths.len ? pack_modules(&ml, i, i + 1)
                               : (ST_RAISE(ST_EKEY, "'%s'", name), NULL);
    }
    free_modules(&ml);
    return out;
}

/* ---- exit and exc_info ----------------------------------------------------------------- */

st_sys_exc_info_result st_sys_exc_info(void)
{
    const st_error *e = st_error_last();
    st_sys_exc_info_result info = {NULL, NULL, NULL};
    if (e) {
        info.type = e->type;
        info.value = e->message;
        const char *tb = st__error_traceback();
        info.traceback = tb ? tb : e->message; /* out of memory: never NULL beside a type */
    }
    return info;
}

void st_sys_exit(int status)
{
    fflush(NULL); /* sys.stdout and sys.stderr flush in the atexit() handler */
    exit(status);
}

/* ---- sys.stdin, sys.stdout, sys.stderr and sys.argv as values ----------------------------- */

static pthread_mutex_t g_std_lock = PTHREAD_MUTEX_INITIALIZER;
static st_file *g_std[3];

static void flush_std(void)
{
    for (int i = 1; i < 3; i++)
        if (g_std[i] && !st_file_closed(g_std[i]))
            st_file_flush(g_std[i]);
}

/* Python's stdio errors: surrogateescape under the C locale and its UTF-8 coercion targets
 * (config_get_stdio_errors()), judged from the environment as setlocale(LC_CTYPE, "") would. */
static int c_like_locale(void)
{
    static const char *const vars[] = {"LC_ALL", "LC_CTYPE", "LANG"};
    const char *name = NULL;
    for (size_t i = 0; i < 3 && !name; i++) {
        const char *v = getenv(vars[i]);
        if (v && *v)
            name = v;
    }
    if (!name)
        return 1;
    locale_t loc = newlocale(LC_CTYPE_MASK, name, (locale_t)0);
    if (!loc)
        return 1; /* setlocale() would fail and leave "C" */
    freelocale(loc);
    return !strcmp(name, "C") || !strcmp(name, "POSIX") || !strcmp(name, "C.UTF-8") ||
           !strcmp(name, "C.utf8") || !strcmp(name, "UTF-8");
}

static st_file *std_stream(int fd)
{
    pthread_mutex_lock(&g_std_lock);
    st_file *f = g_std[fd];
    if (!f) {
        static int registered;
        char enc[64] = "", errs[64] = "";
        const char *io = getenv("PYTHONIOENCODING");
        if (io && *io) {
            const char *colon = strchr(io, ':');
            size_t n = colon ? (size_t)(colon - io) : strlen(io);
            snprintf(enc, sizeof enc, "%.*s", (int)n, io);
            if (colon)
                snprintf(errs, sizeof errs, "%s", colon + 1);
        }
        st_io_open_options o = ST_IO_OPEN_OPTIONS_INIT;
        o.keep_fd = 1;
        o.encoding = *enc ? enc : NULL;
        o.errors = fd == 2 ? "backslashreplace"
                   : *errs ? errs
                   : c_like_locale() ? "surrogateescape"
                                     : NULL;
        if (fd == 2)
            o.buffering = 1;
        f = g_std[fd] = st_io_open_fd(fd, fd == 0 ? "r" : "w", &o);
        if (f && fd && !registered)
            registered = atexit(flush_std) == 0;
    }
    pthread_mutex_unlock(&g_std_lock);
    return f ? f : (ST_TRACE(), NULL);
}

st_file *st_sys_stdin(void) { return std_stream(0); }
st_file *st_sys_stdout(void) { return std_stream(1); }
st_file *st_sys_stderr(void) { return std_stream(2); }

st_value *st_sys_argv_value(void)
{
    st_value *v = st_value_list_from_strv(st_sys_argv());
    return v ? v : (ST_TRACE(), NULL);
}
