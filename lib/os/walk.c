/* os: walk and fwalk as one iterative, descriptor-relative walker.
 *
 * The algorithm is CPython 3.13's (an explicit stack, children pushed in reverse so they pop in
 * directory order, bottom-up steps pushed as markers), with these C choices:
 * - every directory is opened relative to its parent's descriptor, so the depth of the tree is not
 *   limited by PATH_MAX and the kernel never re-resolves long paths;
 * - a pending child is (parent node, name inside the parent's listing): no allocation per child;
 * - one path buffer holds the current directory's path: in a depth-first walk the next item's
 *   parent is always a prefix of the last directory entered, so truncating and appending suffices;
 * - a parent's descriptor and listing are released as soon as no pending child needs them, so
 *   memory and descriptors follow the pending work, not the size of the tree. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal/error.h"
#include "internal/mem.h"
#include "internal/options.h"
#include "internal/os.h"
#include "systools/os.h"

/* Flag byte stored before each name in a listing. */
enum { F_LINK = 1, F_INTO = 2 };

typedef struct wnode {
    struct wnode *parent;
    size_t kids;      /* live child nodes (they need this one's dev/ino for loop checks) */
    size_t pending;   /* VISIT items naming this node as parent */
    int own;          /* its step is still to be reported or continued */
    DIR *dir;         /* open while children may still be opened (fwalk: while its step is out) */
    dev_t dev;
    ino_t ino;
    size_t path_len;  /* length of its path in the walker's path buffer */
    st__buf arena;    /* [flag][name]\0 records */
    const char **dirs, **files;
    size_t ndirs, nfiles;
} wnode;

typedef struct witem {
    wnode *parent;    /* VISIT: the directory holding `name` (NULL for the root); YIELD: NULL */
    const char *name; /* VISIT: inside the parent's arena (or the walker's top) */
    wnode *yield;     /* YIELD: the bottom-up step to report */
} witem;

struct st_os_walk_iterator {
    st_os_walk_options opts;
    int fwalk;
    int done;
    char *top;
    st__buf path;
    witem *stack;
    size_t nstack, capstack;
    wnode *current;   /* node of the step handed out, NULL if none */
    st_os_walk_step step;
};

/* ---- node lifetime ----------------------------------------------------------------------------- */

static void release(st_os_walk_iterator *w, wnode *n)
{
    while (n) {
        if (n->dir && !n->pending && !(n->own && (w->fwalk || !w->opts.bottomup))) {
            closedir(n->dir);
            n->dir = NULL;
        }
        if (n->pending || n->own)
            return;
        st__buf_free(&n->arena);
        st_free(n->dirs);
        st_free(n->files);
        n->dirs = n->files = NULL;
        if (n->kids)
            return;
        wnode *parent = n->parent;
        if (n->dir)
            closedir(n->dir);
        st_free(n);
        if (!parent)
            return;
        parent->kids--;
        n = parent;
    }
}

static int push(st_os_walk_iterator *w, wnode *parent, const char *name, wnode *yield)
{
    if (w->nstack == w->capstack) {
        witem *s = st__grow(w->stack, &w->capstack, sizeof *s, 64);
        if (!s)
            return ST_TRACE();
        w->stack = s;
    }
    w->stack[w->nstack++] = (witem){parent, name, yield};
    if (parent)
        parent->pending++;
    return 0;
}

/* ---- errors ------------------------------------------------------------------------------------ */

/* Reports a directory that cannot be walked to onerror (without one, errors are ignored as in
 * Python and the thread's last error is left alone); -1 when onerror asks to stop. */
static int walk_error(st_os_walk_iterator *w, int err, const char *what)
{
    if (!w->opts.onerror)
        return 0;
    ST_RAISE_OS(err, "cannot %s directory '%s'", what, w->path.data);
    if (w->opts.onerror(w->path.data, err, w->opts.onerror_ctx)) {
        w->done = 1;
        return -1;
    }
    return 0;
}

/* ---- listing ----------------------------------------------------------------------------------- */

static int add_name(wnode *n, const char *name, int flags, int is_dir, st__strv *dirs, st__strv *files)
{
    /* Offsets now, pointers once the arena stops moving. */
    uintptr_t off = n->arena.len + 1;
    char f = (char)flags;
    if (st__buf_append(&n->arena, &f, 1) < 0 || st__buf_append(&n->arena, name, strlen(name) + 1) < 0)
        return ST_TRACE();
    st__strv *sv = is_dir ? dirs : files;
    if (sv->len + 1 >= sv->cap) {
        char **v = st__grow(sv->v, &sv->cap, sizeof *v, 16);
        if (!v)
            return ST_TRACE();
        sv->v = v;
    }
    sv->v[sv->len++] = (char *)off;
    sv->v[sv->len] = NULL;
    return 0;
}

static void fix_pointers(wnode *n, st__strv *sv, const char ***out, size_t *count)
{
    for (size_t i = 0; i < sv->len; i++)
        sv->v[i] = n->arena.data + (uintptr_t)sv->v[i];
    *out = (const char **)sv->v;
    *count = sv->len;
    *sv = (st__strv)ST__STRV_INIT;
}

/* Reads the directory into n's listing with Python's classification. 1 listed, 0 skipped after
 * onerror, -1 to stop. */
static int list_dir(st_os_walk_iterator *w, wnode *n)
{
    st__strv dirs = ST__STRV_INIT, files = ST__STRV_INIT;
    int fd = dirfd(n->dir);
    int follow = w->opts.followlinks;
    for (;;) {
        struct dirent *e = st__readdir(n->dir);
        if (!e) {
            if (errno) {
                int rc = walk_error(w, errno, "read");
                st_free(dirs.v); /* offsets, not strings: only the arrays are freed */
                st_free(files.v);
                return rc < 0 ? -1 : 0;
            }
            break;
        }
        const char *name = e->d_name;
        if (name[0] == '.' && (!name[1] || (name[1] == '.' && !name[2])))
            continue;
        /* Whether it is a symlink (from d_type, or one lstat when the kernel did not say), then
         * is_dir() as Python asks it: following the link. */
        errno = 0;
        mode_t type = st__dirent_type(fd, name, ST__DIRENT_TYPE(e), 0, NULL);
        int link = type == S_IFLNK;
        int stat_errno = type ? 0 : errno;
        if (link) {
            errno = 0;
            type = st__dirent_type(fd, name, DT_LNK, 1, NULL);
            stat_errno = type ? 0 : errno;
        }
        int is_dir = type == S_IFDIR;
        int flags = link ? F_LINK : 0;
        if (w->fwalk && stat_errno && stat_errno != ENOENT && !link)
            continue; /* Python's fwalk drops entries it cannot classify and that are no symlink */
        /* Bottom-up, walk enters a symlink only when following; fwalk opens it (see visit). */
        if (w->opts.bottomup && is_dir && (follow || !link || w->fwalk))
            flags |= F_INTO;
        if (add_name(n, name, flags, is_dir, &dirs, &files) < 0) {
            st_free(dirs.v);
            st_free(files.v);
            return -1;
        }
    }
    fix_pointers(n, &dirs, &n->dirs, &n->ndirs);
    fix_pointers(n, &files, &n->files, &n->nfiles);
    return 1;
}

/* ---- visiting ---------------------------------------------------------------------------------- */

static int is_ancestor(const wnode *parent, dev_t dev, ino_t ino)
{
    for (const wnode *a = parent; a; a = a->parent)
        if (a->dev == dev && a->ino == ino)
            return 1;
    return 0;
}

/* Opens the directory of a VISIT item and lists it, pushing what comes next. Returns 1 when a
 * topdown step is ready in w->current, 0 to go on, -1 to stop. */
static int visit(st_os_walk_iterator *w, witem it)
{
    wnode *parent = it.parent;
    w->path.len = parent ? parent->path_len : 0;
    if (parent) {
        if (w->path.len && w->path.data[w->path.len - 1] != '/' && st__buf_putc(&w->path, '/') < 0)
            return -1;
        if (st__buf_puts(&w->path, it.name) < 0)
            return -1;
    } else if (st__buf_puts(&w->path, it.name) < 0) {
        return -1;
    }
    int pfd = parent ? dirfd(parent->dir) : AT_FDCWD;
    int follow = w->opts.followlinks;
    struct stat orig, now;
    int check_same = w->fwalk && !follow;
    int root = parent == NULL;
    if (check_same) {
        /* fwalk's lstat/open/fstat: a symlink is never entered, but opened all the same as
         * Python does, so one that cannot be opened (dangling, a loop, an unreadable target)
         * raises for the root and goes to onerror below it. */
        if (fstatat(pfd, it.name, &orig, AT_SYMLINK_NOFOLLOW) < 0)
            goto open_failed;
        if (!S_ISDIR(orig.st_mode) && (root || S_ISLNK(orig.st_mode))) {
            int fd = st__open_cloexec(pfd, it.name, O_RDONLY | O_NONBLOCK, 0);
            if (fd < 0)
                goto open_failed;
            close(fd);
            return 0;
        }
    }
    int fd = st__open_cloexec(pfd, it.name, O_RDONLY | O_DIRECTORY | O_NONBLOCK, 0);
    if (fd < 0)
        goto open_failed;
    if ((check_same || follow) && fstat(fd, &now) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        goto open_failed;
    }
    if (check_same && (orig.st_dev != now.st_dev || orig.st_ino != now.st_ino)) {
        close(fd);
        return 0;
    }
    if (follow && is_ancestor(parent, now.st_dev, now.st_ino)) {
        close(fd); /* a symlink loop: listed by the parent, not entered */
        return 0;
    }
    DIR *d = fdopendir(fd);
    if (!d) {
        int e = errno;
        close(fd);
        errno = e;
        goto open_failed;
    }
    wnode *n = st__calloc(1, sizeof *n);
    if (!n) {
        closedir(d);
        return -1;
    }
    n->dir = d;
    n->own = 1;
    n->parent = parent;
    n->path_len = w->path.len;
    if (follow) {
        n->dev = now.st_dev;
        n->ino = now.st_ino;
    }
    if (parent)
        parent->kids++;
    int rc = list_dir(w, n);
    if (rc <= 0) {
        n->own = 0;
        release(w, n);
        return rc;
    }
    if (!w->opts.bottomup) {
        w->current = n;
        return 1;
    }
    if (push(w, NULL, NULL, n) < 0)
        return -1;
    for (size_t i = n->ndirs; i-- > 0;)
        if ((n->dirs[i][-1] & F_INTO) && push(w, n, n->dirs[i], NULL) < 0)
            return -1;
    return 0;

open_failed:
    if (w->fwalk && root) {
        w->done = 1;
        return ST_RAISE_OS(errno, "cannot open directory '%s'", w->path.data);
    }
    return walk_error(w, errno, "open");
}

/* Finishes the step handed out last: a topdown step pushes the (possibly pruned) dirnames. */
static int finish_step(st_os_walk_iterator *w)
{
    wnode *n = w->current;
    if (!n)
        return 0;
    w->current = NULL;
    int rc = 0;
    if (!w->opts.bottomup && !w->done) {
        size_t count = w->step.ndirnames <= n->ndirs ? w->step.ndirnames : n->ndirs;
        for (size_t i = count; i-- > 0 && rc == 0;) {
            const char *name = w->step.dirnames[i];
            /* walk follows a symlink only with followlinks; fwalk checks at open time. */
            if (w->fwalk || w->opts.followlinks || !(name[-1] & F_LINK))
                rc = push(w, n, name, NULL);
        }
    }
    n->own = 0;
    release(w, n);
    return rc;
}

/* Python's empty lists: never NULL in a step. */
static const char *g_empty[1] = {NULL};

static void make_step(st_os_walk_iterator *w, wnode *n, st_os_walk_step **out)
{
    w->path.len = n->path_len;
    w->path.data[n->path_len] = '\0';
    w->current = n;
    w->step.dirpath = w->path.data;
    w->step.dirnames = n->dirs ? n->dirs : g_empty;
    w->step.ndirnames = n->ndirs;
    w->step.filenames = n->files ? n->files : g_empty;
    w->step.nfilenames = n->nfiles;
    w->step.dirfd = w->fwalk ? dirfd(n->dir) : -1;
    *out = &w->step;
}

int st_os_walk_iterator_next(st_os_walk_iterator *w, st_os_walk_step **out)
{
    if (finish_step(w) < 0)
        return ST_TRACE();
    while (!w->done && w->nstack) {
        witem it = w->stack[--w->nstack];
        if (it.yield) {
            make_step(w, it.yield, out);
            return 1;
        }
        int rc = visit(w, it);
        if (it.parent) {
            it.parent->pending--;
            release(w, it.parent);
        }
        if (rc < 0)
            return ST_TRACE();
        if (rc > 0) {
            make_step(w, w->current, out);
            return 1;
        }
    }
    w->step = (st_os_walk_step){NULL, g_empty, 0, g_empty, 0, -1};
    return 0;
}

int st_os_walk_options_init(st_os_walk_options *opts, unsigned int version)
{
    return st__options_init(opts, ST_OPTIONS_SIZES(sizeof *opts), version,
                            ST_OS_WALK_OPTIONS_VERSION, "st_os_walk_options");
}

static st_os_walk_iterator *walk_open(const char *top, const st_os_walk_options *opts, int fwalk)
{
    if (ST_OPTIONS_CHECK(opts, ST_OS_WALK_OPTIONS_VERSION, "st_os_walk_options") < 0)
        return (ST_TRACE(), NULL);
    st_os_walk_iterator *w = st__calloc(1, sizeof *w);
    if (!w)
        return (ST_TRACE(), NULL);
    w->opts = opts ? *opts : (st_os_walk_options)ST_OS_WALK_OPTIONS_INIT;
    w->fwalk = fwalk;
    w->top = st__strdup(top);
    if (!w->top || push(w, NULL, w->top, NULL) < 0) {
        st_os_walk_iterator_free(w);
        return (ST_TRACE(), NULL);
    }
    return w;
}

st_os_walk_iterator *st_os_walk(const char *top, const st_os_walk_options *opts)
{
    return walk_open(top, opts, 0);
}

st_os_walk_iterator *st_os_fwalk(const char *top, const st_os_walk_options *opts)
{
    return walk_open(top, opts, 1);
}

void st_os_walk_iterator_close(st_os_walk_iterator *w)
{
    if (!w)
        return;
    w->done = 1;
    finish_step(w);
    while (w->nstack) {
        witem it = w->stack[--w->nstack];
        wnode *n = it.yield ? it.yield : it.parent;
        if (!n)
            continue;
        if (it.yield)
            n->own = 0;
        else
            n->pending--;
        release(w, n);
    }
    w->step = (st_os_walk_step){NULL, g_empty, 0, g_empty, 0, -1};
}

void st_os_walk_iterator_free(st_os_walk_iterator *w)
{
    if (!w)
        return;
    st_os_walk_iterator_close(w);
    st_free(w->stack);
    st__buf_free(&w->path);
    st_free(w->top);
    st_free(w);
}
