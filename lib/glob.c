/* glob: Python's glob.iglob() as an explicit-stack iterator over fd-relative directory listings.
 *
 * The pattern is split the way Python's recursion splits it (os.path.split from the right):
 * a literal directory prefix, then one level per segment. A level is LITERAL (only checked with
 * lstat, Python's _glob0), MAGIC (a directory listing filtered by a compiled pattern, _glob1) or
 * RECURSIVE (`**`, _glob2). Listings are read once (getdents64 where it exists, else readdir; the
 * entry type, no stat unless it is unknown or a symlink), sorted, and their directory fd is kept
 * while their frame is on the stack, for openat; a `**` frame lends its listing to the next
 * level, so each directory is read once. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal/error.h"
#include "internal/mem.h"
#include "internal/posix.h"
#include "st_config.h"
#include "systools/fnmatch.h"
#include "systools/glob.h"

#define ALL_FLAGS (ST_GLOB_RECURSIVE | ST_GLOB_INCLUDE_HIDDEN | ST_GLOB_NOSORT)

enum { LITERAL, MAGIC, RECURSIVE };

typedef struct level {
    int kind;
    char *name;       /* the segment ("" for a trailing slash) */
    st_fnmatch_pattern *pat;  /* MAGIC only */
    int hidden_ok;    /* the segment starts with '.' */
} level;

typedef struct entry {
    size_t off;          /* offset in listing.names while reading */
    const char *name;    /* set once the listing is complete */
    unsigned char type;  /* d_type */
    signed char isdir;   /* -1 until known */
} entry;

typedef struct listing {
    int fd;
    st__buf names;
    entry *e;
    size_t n, cap;
    int have_id;
    dev_t dev;
    ino_t ino;
} listing;

enum { F_LIST, F_RLIST };

typedef struct frame {
    int kind;
    size_t level;
    size_t pathlen;   /* length of this frame's directory path in it->path */
    listing *ls;
    int owns;         /* ls belongs to this frame (else it is borrowed from the frame below) */
    entry **sel;      /* the entries this frame's level accepts, sorted; NULL until the first step */
    size_t nsel, cur;
} frame;

struct st_glob_iterator {
    int flags;
    int basefd;
    level *levels;
    size_t nlevels;
    char *pattern;
    char *start_rel;  /* _join(root_dir, literal prefix), relative to basefd */
    size_t prefix_len;/* the literal prefix, as results spell it */
    int nomagic;
    int started, ready, done, skip_empty; /* done: closed, or stopped by an error */
    st__buf path, rel;
    st__buf dents;    /* getdents64 buffer, shared by all listings */
    frame *frames;
    size_t nframes, capframes;
};

/* --- paths ---------------------------------------------------------------------------------- */

/* posixpath.join(a, b) for a relative b, appended in place to a buffer holding a. */
static int join_into(st__buf *b, const char *name)
{
    if (b->len && b->data[b->len - 1] != '/' && st__buf_putc(b, '/') < 0)
        return -1;
    return st__buf_puts(b, name);
}

/* The length of os.path.split(p[0:len])[0]: the head with trailing slashes stripped unless it is
 * all slashes; *tail receives where the basename starts. */
static size_t split_head(const char *p, size_t len, size_t *tail)
{
    size_t i = len;
    while (i && p[i - 1] != '/')
        i--;
    *tail = i;
    size_t h = i;
    while (h && p[h - 1] == '/')
        h--;
    return h ? h : i;
}

static int has_magic_n(const char *s, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (s[k] == '*' || s[k] == '?' || s[k] == '[')
            return 1;
    return 0;
}

int st_glob_has_magic(const char *s)
{
    if (!s)
        return ST_RAISE(ST_ETYPE, "expected string or bytes-like object, got 'NoneType'");
    return has_magic_n(s, strlen(s));
}

char *st_glob_escape(const char *pathname)
{
    if (!pathname)
        return (ST_RAISE(ST_ETYPE, "expected str, bytes or os.PathLike object, not NoneType"), NULL);
    st__buf b = ST__BUF_INIT;
    for (const char *c = pathname; *c; c++) {
        int magic = *c == '*' || *c == '?' || *c == '[';
        if ((magic && st__buf_putc(&b, '[') < 0) || st__buf_putc(&b, *c) < 0 ||
            (magic && st__buf_putc(&b, ']') < 0)) {
            st__buf_free(&b);
            return NULL;
        }
    }
    return st__buf_detach(&b);
}

/* --- file system ---------------------------------------------------------------------------- */

static int at_lexists(int fd, const char *rel)
{
    struct stat st;
    return *rel && fstatat(fd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static int at_isdir(int fd, const char *rel)
{
    struct stat st;
    return *rel && fstatat(fd, rel, &st, 0) == 0 && S_ISDIR(st.st_mode);
}

static void listing_free(listing *ls)
{
    if (!ls)
        return;
    if (ls->fd >= 0)
        close(ls->fd);
    st__buf_free(&ls->names);
    free(ls->e);
    free(ls);
}

static int cmp_entry(const void *a, const void *b)
{
    return strcmp((*(entry *const *)a)->name, (*(entry *const *)b)->name);
}

/* Adds one name (not "." or ".."); -1 when out of memory. */
static int listing_add(listing *ls, const char *nm, unsigned char type)
{
    if (nm[0] == '.' && (!nm[1] || (nm[1] == '.' && !nm[2])))
        return 0;
    if (ls->n == ls->cap) {
        entry *e = st__grow(ls->e, &ls->cap, sizeof *e, 32);
        if (!e)
            return -1;
        ls->e = e;
    }
    entry *e = &ls->e[ls->n++];
    e->off = ls->names.len;
    e->isdir = -1;
    e->type = type;
    return st__buf_append(&ls->names, nm, strlen(nm) + 1);
}

/* A listing that fails part way is an error, not a shorter directory (Python would keep what it
 * read, but a silent partial answer is worse: on a 32-bit system without large-file support,
 * readdir fails at once with EOVERFLOW on 64-bit inode numbers). */
static int read_failed(const char *rel)
{
    return ST_RAISE_OS(errno, "cannot read directory '%s'", *rel ? rel : ".");
}

#if defined(ST_HAVE_SYS_GETDENTS64)
/* getdents64 straight into the iterator's buffer; no DIR, no per-directory allocation. */
static int listing_read(listing *ls, const char *rel, st__buf *scratch)
{
    if (!scratch->data && st__buf_reserve(scratch, 32768) < 0)
        return -1;
    long n;
    while ((n = st__getdents64(ls->fd, scratch->data, scratch->cap - 1)) > 0) {
        for (long off = 0; off < n;) {
            const char *d = scratch->data + off;
            unsigned short reclen;
            memcpy(&reclen, d + 16, sizeof reclen); /* struct linux_dirent64: ino, off, reclen, type, name */
            if (listing_add(ls, d + 19, (unsigned char)d[18]) < 0)
                return -1;
            off += reclen;
        }
    }
    return n < 0 ? read_failed(rel) : 0;
}
#else
/* readdir on a duplicate, so the directory's own fd stays for openat. */
static int listing_read(listing *ls, const char *rel, st__buf *scratch)
{
    (void)scratch;
    int dup_fd = st__dup_cloexec(ls->fd);
    DIR *dir = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
    if (!dir) {
        if (dup_fd >= 0)
            close(dup_fd);
        return 0;
    }
    int rc = 0;
    struct dirent *d;
    while (rc == 0 && (d = st__readdir(dir))) {
#ifdef DT_UNKNOWN
        rc = listing_add(ls, d->d_name, d->d_type);
#else
        rc = listing_add(ls, d->d_name, 0);
#endif
    }
    if (rc == 0 && errno)
        rc = read_failed(rel);
    closedir(dir);
    return rc;
}
#endif

/* Opens and reads the directory rel (relative to fd; "" is fd itself, or "." for the working
 * directory). NULL with no error raised when the system refuses to open it (Python skips such
 * directories); NULL with *failed set and the error raised when memory runs out (ST_ENOMEM) or
 * reading it fails (ST_EOS). */
static listing *listing_open(int fd, const char *rel, st__buf *scratch, int *failed)
{
    int dfd = st__open_cloexec(fd, *rel ? rel : ".", O_RDONLY | O_DIRECTORY, 0);
    if (dfd < 0)
        return NULL;
    listing *ls = st__calloc(1, sizeof *ls);
    if (!ls) {
        close(dfd);
        *failed = 1;
        return NULL;
    }
    ls->fd = dfd;
    if (listing_read(ls, rel, scratch) < 0) {
        listing_free(ls);
        *failed = 1;
        return NULL;
    }
    for (size_t k = 0; k < ls->n; k++)
        ls->e[k].name = ls->names.data + ls->e[k].off;
    return ls;
}

/* DirEntry.is_dir(): d_type when it is definite, else stat (following symlinks). */
static int entry_isdir(const listing *ls, entry *e)
{
    if (e->isdir < 0) {
#ifdef DT_UNKNOWN
        if (e->type == DT_DIR)
            e->isdir = 1;
        else if (e->type != DT_LNK && e->type != DT_UNKNOWN)
            e->isdir = 0;
        else
#endif
            e->isdir = (signed char)at_isdir(ls->fd, e->name);
    }
    return e->isdir;
}

/* Whether descending into e could succeed: a directory or something that may lead to one. */
static int entry_maybe_dir(const entry *e)
{
#ifdef DT_UNKNOWN
    return e->isdir != 0 && (e->type == DT_DIR || e->type == DT_LNK || e->type == DT_UNKNOWN);
#else
    return e->isdir != 0;
#endif
}

/* Whether e may be a symlink. Only a symlink can lead back into a directory we are inside:
 * real directories form a tree. */
static int via_link(const entry *e)
{
#ifdef DT_UNKNOWN
    return e->type == DT_LNK || e->type == DT_UNKNOWN;
#else
    (void)e;
    return 1;
#endif
}

static int listing_id(listing *ls)
{
    if (!ls->have_id) {
        struct stat st;
        if (fstat(ls->fd, &st) < 0)
            return -1;
        ls->dev = st.st_dev;
        ls->ino = st.st_ino;
        ls->have_id = 1;
    }
    return 0;
}

/* --- the iterator --------------------------------------------------------------------------- */

static int push_frame(st_glob_iterator *it, int kind, size_t lvl, listing *ls, int owns)
{
    if (it->nframes == it->capframes) {
        size_t cap = it->capframes ? it->capframes * 2 : 16;
        frame *f = st__reallocarray(it->frames, cap, sizeof *f);
        if (!f) {
            if (owns)
                listing_free(ls);
            return -1;
        }
        it->frames = f;
        it->capframes = cap;
    }
    it->frames[it->nframes++] = (frame){kind, lvl, it->path.len, ls, owns, NULL, 0, 0};
    return 0;
}

/* Whether the directory of child is one a `**` of the same level is already inside. */
static int is_loop(st_glob_iterator *it, size_t lvl, listing *child)
{
    if (listing_id(child) < 0)
        return 1;
    for (size_t k = it->nframes; k-- > 0;) {
        frame *f = &it->frames[k];
        if (f->kind == F_RLIST && f->level == lvl && listing_id(f->ls) == 0 &&
            f->ls->dev == child->dev && f->ls->ino == child->ino)
            return 1;
    }
    return 0;
}

/* Expands level lvl and the ones after it in the directory whose path (as results spell it) is
 * in it->path and which is rel relative to fd. hint, when given, is that directory's listing,
 * owned by a frame below. Pushes frames for listings and sets it->ready when it->path is a
 * result. Returns -1 only when out of memory. */
static int descend(st_glob_iterator *it, size_t lvl, int fd, const char *rel, listing *hint)
{
    for (;;) {
        const level *L = &it->levels[lvl];
        int last = lvl + 1 == it->nlevels;
        if (L->kind == LITERAL) {
            if (!*L->name) { /* trailing slash: only directories */
                if (at_isdir(fd, rel)) {
                    if (join_into(&it->path, "") < 0)
                        return -1;
                    it->ready = 1;
                }
                return 0;
            }
            if (rel != it->rel.data) {
                it->rel.len = 0;
                if (st__buf_puts(&it->rel, rel) < 0)
                    return -1;
            }
            if (join_into(&it->rel, L->name) < 0)
                return -1;
            rel = it->rel.data;
            hint = NULL;
            if (!at_lexists(fd, rel))
                return 0;
            if (join_into(&it->path, L->name) < 0)
                return -1;
            if (last) {
                it->ready = 1;
                return 0;
            }
            lvl++;
            continue;
        }
        int failed = 0;
        listing *ls = hint ? hint : listing_open(fd, rel, &it->dents, &failed);
        if (failed)
            return -1;
        if (L->kind == MAGIC)
            return ls ? push_frame(it, F_LIST, lvl, ls, !hint) : 0;
        /* `**`: Python's _glob2 first yields '' when the directory exists (or is the unnamed
         * starting directory), then every path below it. */
        int empty_ok = !*rel || at_isdir(fd, rel);
        if (ls && push_frame(it, F_RLIST, lvl, ls, !hint) < 0)
            return -1;
        if (!empty_ok)
            return 0;
        if (join_into(&it->path, "") < 0)
            return -1;
        if (last) {
            it->ready = 1;
            return 0;
        }
        hint = ls;
        lvl++;
    }
}

/* Selects the entries the frame's level accepts and sorts them (only those: a leaf directory's
 * files are never sorted for the `**` frame that skips them). */
static int frame_select(st_glob_iterator *it, frame *f)
{
    const level *L = &it->levels[f->level];
    int dironly = f->level + 1 < it->nlevels;
    int hidden_ok = (it->flags & ST_GLOB_INCLUDE_HIDDEN) || (f->kind == F_LIST && L->hidden_ok);
    f->sel = st__reallocarray(NULL, f->ls->n, sizeof *f->sel);
    if (!f->sel)
        return -1;
    for (size_t k = 0; k < f->ls->n; k++) {
        entry *e = &f->ls->e[k];
        if (e->name[0] == '.' && !hidden_ok)
            continue;
        if (f->kind == F_LIST) {
            int m = st_fnmatch_pattern_match(L->pat, e->name);
            if (m < 0)
                return ST_TRACE();
            if (!m)
                continue;
        }
        if (dironly && !entry_isdir(f->ls, e))
            continue;
        f->sel[f->nsel++] = e;
    }
    if (!(it->flags & ST_GLOB_NOSORT) && f->nsel > 1)
        qsort(f->sel, f->nsel, sizeof *f->sel, cmp_entry);
    return 0;
}

static void frame_pop(st_glob_iterator *it)
{
    frame *f = &it->frames[--it->nframes];
    if (f->owns)
        listing_free(f->ls);
    free(f->sel);
}

/* Takes one step: the top frame's next accepted entry becomes a result or is expanded further. */
static int step(st_glob_iterator *it)
{
    frame *f = &it->frames[it->nframes - 1];
    if (!f->sel && frame_select(it, f) < 0)
        return -1;
    if (f->cur == f->nsel) {
        frame_pop(it);
        return 0;
    }
    entry *e = f->sel[f->cur++];
    size_t lvl = f->level;
    listing *parent = f->ls;
    it->path.len = f->pathlen;
    if (it->path.data)
        it->path.data[it->path.len] = '\0';
    if (join_into(&it->path, e->name) < 0)
        return -1;
    listing *child = NULL;
    if (f->kind == F_RLIST && entry_maybe_dir(e)) {
        int failed = 0;
        child = listing_open(parent->fd, e->name, &it->dents, &failed);
        if (failed)
            return -1;
        if (child && via_link(e) && is_loop(it, lvl, child)) {
            listing_free(child);
            child = NULL;
        }
        if (child && push_frame(it, F_RLIST, lvl, child, 1) < 0) /* f may move */
            return -1;
    }
    if (lvl + 1 == it->nlevels) {
        it->ready = 1;
        return 0;
    }
    return descend(it, lvl + 1, parent->fd, e->name, child);
}

/* Splits the pattern into its literal prefix and levels, as Python's _iglob recursion does. */
static int parse_levels(st_glob_iterator *it, const char *pat)
{
    size_t len = strlen(pat), n = 0;
    for (size_t cur = len;;) {
        size_t tail, head = split_head(pat, cur, &tail);
        n++;
        if (head == 0 || !has_magic_n(pat, head)) {
            it->prefix_len = head;
            break;
        }
        cur = head;
    }
    it->levels = st__calloc(n, sizeof *it->levels);
    if (!it->levels)
        return -1;
    it->nlevels = n;
    for (size_t cur = len, k = n; k-- > 0;) {
        size_t tail, head = split_head(pat, cur, &tail);
        level *L = &it->levels[k];
        L->name = st__strndup(pat + tail, cur - tail);
        if (!L->name)
            return -1;
        L->hidden_ok = L->name[0] == '.';
        if ((it->flags & ST_GLOB_RECURSIVE) && strcmp(L->name, "**") == 0) {
            L->kind = RECURSIVE;
        } else if (has_magic_n(L->name, cur - tail)) {
            L->kind = MAGIC;
            L->pat = st_fnmatch_pattern_compile(L->name, 0);
            if (!L->pat)
                return ST_TRACE();
        } else {
            L->kind = LITERAL;
        }
        cur = head;
    }
    return 0;
}

/* Python's _join(root_dir, p): either alone when the other is empty, else os.path.join. */
static char *join_root(const char *root, const char *p, size_t plen)
{
    if (!*root || !plen || p[0] == '/')
        return plen || !*root ? st__strndup(p, plen) : st__strdup(root);
    st__buf b = ST__BUF_INIT;
    if (st__buf_puts(&b, root) < 0 || join_into(&b, "") < 0 || st__buf_append(&b, p, plen) < 0) {
        st__buf_free(&b);
        return NULL;
    }
    return st__buf_detach(&b);
}

st_glob_iterator *st_glob_iglob_at(int dir_fd, const char *root_dir, const char *pattern, int flags)
{
    if (!pattern)
        return (ST_RAISE(ST_ETYPE, "expected str, bytes or os.PathLike object, not NoneType"), NULL);
    if (flags & ~ALL_FLAGS)
        return (ST_RAISE(ST_EVALUE, "unknown glob flags 0x%x", (unsigned)flags), NULL);
    st_glob_iterator *it = st__calloc(1, sizeof *it);
    if (!it)
        return NULL;
    it->flags = flags;
    it->basefd = dir_fd == ST_GLOB_CWD ? AT_FDCWD : dir_fd;
    const char *root = root_dir ? root_dir : "";
    it->pattern = st__strdup(pattern);
    it->nomagic = !has_magic_n(pattern, strlen(pattern));
    /* iglob drops a first result '' for '' and for recursive patterns starting with '**'. */
    it->skip_empty = !*pattern || ((flags & ST_GLOB_RECURSIVE) && strncmp(pattern, "**", 2) == 0);
    if (!it->pattern)
        goto fail;
    if (it->nomagic) {
        size_t tail, head = split_head(pattern, strlen(pattern), &tail);
        /* A literal path: itself if it exists; with a trailing slash, if it is a directory. */
        it->start_rel = pattern[tail] ? join_root(root, pattern, strlen(pattern)) : join_root(root, pattern, head);
    } else {
        if (parse_levels(it, pattern) < 0)
            goto fail;
        it->start_rel = join_root(root, pattern, it->prefix_len);
    }
    if (!it->start_rel)
        goto fail;
    return it;
fail:
    st_glob_iterator_free(it);
    return (ST_TRACE(), NULL);
}

st_glob_iterator *st_glob_iglob(const char *pattern, int flags)
{
    st_glob_iterator *it = st_glob_iglob_at(ST_GLOB_CWD, NULL, pattern, flags);
    return it ? it : (ST_TRACE(), NULL);
}

/* Starts the walk: the literal prefix, then the first level. */
static int start(st_glob_iterator *it)
{
    if (it->nomagic) {
        size_t tail;
        split_head(it->pattern, strlen(it->pattern), &tail);
        int hit = it->pattern[tail] ? at_lexists(it->basefd, it->start_rel) : at_isdir(it->basefd, it->start_rel);
        if (hit && st__buf_puts(&it->path, it->pattern) < 0)
            return -1;
        it->ready = hit;
        return 0;
    }
    if (st__buf_append(&it->path, it->pattern, it->prefix_len) < 0)
        return -1;
    return descend(it, 0, it->basefd, it->start_rel, NULL);
}

int st_glob_iterator_next(st_glob_iterator *it, const char **path)
{
    if (path)
        *path = NULL;
    if (!it || !path)
        return ST_RAISE(ST_ETYPE, "'NoneType' object is not an iterator");
    while (!it->done) {
        if (it->ready) {
            it->ready = 0;
            int skip = it->skip_empty && it->path.len == 0;
            it->skip_empty = 0;
            if (!skip) {
                *path = it->path.data;
                return 1;
            }
        }
        int rc;
        if (!it->started) {
            it->started = 1;
            rc = start(it);
        } else if (it->nframes) {
            rc = step(it);
        } else {
            break;
        }
        if (rc < 0) {
            st_glob_iterator_close(it); /* a generator that raised is finished */
            return ST_TRACE();
        }
    }
    return 0;
}

void st_glob_iterator_close(st_glob_iterator *it)
{
    if (!it)
        return;
    it->done = 1;
    it->ready = 0;
    while (it->nframes)
        frame_pop(it);
    free(it->frames);
    it->frames = NULL;
    it->capframes = 0;
    st__buf_free(&it->dents);
}

void st_glob_iterator_free(st_glob_iterator *it)
{
    if (!it)
        return;
    st_glob_iterator_close(it);
    for (size_t k = 0; k < it->nlevels; k++) {
        free(it->levels[k].name);
        st_fnmatch_pattern_free(it->levels[k].pat);
    }
    free(it->levels);
    free(it->pattern);
    free(it->start_rel);
    st__buf_free(&it->path);
    st__buf_free(&it->rel);
    free(it);
}

const char **st_glob_at(int dir_fd, const char *root_dir, const char *pattern, int flags)
{
    st_glob_iterator *it = st_glob_iglob_at(dir_fd, root_dir, pattern, flags);
    if (!it)
        return (ST_TRACE(), NULL);
    st__strv out = ST__STRV_INIT;
    const char *p;
    int rc;
    while ((rc = st_glob_iterator_next(it, &p)) > 0)
        if (st__strv_push(&out, p) < 0) {
            rc = -1;
            break;
        }
    st_glob_iterator_free(it);
    if (rc < 0) {
        st__strv_free(&out);
        return (ST_TRACE(), NULL);
    }
    return st__strv_detach(&out);
}

const char **st_glob(const char *pattern, int flags) { return st_glob_at(ST_GLOB_CWD, NULL, pattern, flags); }
