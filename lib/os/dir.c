/* os: listdir and scandir, with entry types taken from the directory when the kernel gives them. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "internal/error.h"
#include "internal/mem.h"
#include "internal/os.h"
#include "systools/os.h"

static int is_dot_or_dotdot(const char *n) { return n[0] == '.' && (!n[1] || (n[1] == '.' && !n[2])); }

mode_t st__dirent_type(int dirfd, const char *name, unsigned char d_type, int follow, struct stat *st)
{
    if (st)
        st->st_mode = 0;
    if (d_type != DT_UNKNOWN && !(follow && d_type == DT_LNK)) {
        switch (d_type) {
        case DT_DIR: return S_IFDIR;
        case DT_REG: return S_IFREG;
        case DT_LNK: return S_IFLNK;
        case DT_FIFO: return S_IFIFO;
        case DT_SOCK: return S_IFSOCK;
        case DT_CHR: return S_IFCHR;
        case DT_BLK: return S_IFBLK;
        default: break;
        }
    }
    struct stat local;
    if (!st)
        st = &local;
    if (fstatat(dirfd, name, st, follow ? 0 : AT_SYMLINK_NOFOLLOW) < 0)
        return 0;
    return st->st_mode & S_IFMT;
}

const char **st_os_listdir(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return (ST_RAISE_OS(errno, "cannot list directory '%s'", path), NULL);
    st__strv sv = ST__STRV_INIT;
    struct dirent *e;
    while ((e = st__readdir(d)))
        if (!is_dot_or_dotdot(e->d_name) && st__strv_push(&sv, e->d_name) < 0)
            goto fail;
    if (errno) { /* a failed read is never the end of the directory */
        ST_RAISE_OS(errno, "cannot list directory '%s'", path);
        goto fail;
    }
    closedir(d);
    const char **v = st__strv_detach(&sv);
    return v ? v : (ST_TRACE(), NULL);
fail:
    closedir(d);
    st__strv_free(&sv);
    return (ST_TRACE(), NULL);
}

/* ---- scandir -------------------------------------------------------------------------------- */

struct st_os_direntry {
    st_os_scandir_iterator *it;
    const char *name;   /* the tail of path: outlives the dirent and a close of the iterator */
    char *path;
    uint64_t ino;
    unsigned char d_type;
    int have_stat, have_lstat;
    struct stat st, lst;
};

struct st_os_scandir_iterator {
    DIR *dir;           /* NULL once closed */
    char *top;
    st_os_direntry entry;
};

st_os_scandir_iterator *st_os_scandir(const char *path)
{
    st_os_scandir_iterator *it = st__calloc(1, sizeof *it);
    if (!it)
        return (ST_TRACE(), NULL);
    it->top = st__strdup(path);
    if (!it->top) {
        st_free(it);
        return (ST_TRACE(), NULL);
    }
    it->dir = opendir(path);
    if (!it->dir) {
        ST_RAISE_OS(errno, "cannot scan directory '%s'", path);
        st_os_scandir_iterator_free(it);
        return NULL;
    }
    it->entry.it = it;
    return it;
}

int st_os_scandir_iterator_next(st_os_scandir_iterator *it, st_os_direntry **entry)
{
    st_os_direntry *e = &it->entry;
    st_free(e->path);
    e->path = NULL;
    if (!it->dir)
        return 0; /* closed: Python's StopIteration */
    for (;;) {
        struct dirent *d = st__readdir(it->dir);
        if (!d) {
            if (errno)
                return ST_RAISE_OS(errno, "cannot scan directory '%s'", it->top);
            return 0;
        }
        if (is_dot_or_dotdot(d->d_name))
            continue;
        e->path = st__path_join(it->top, d->d_name);
        if (!e->path)
            return ST_TRACE();
        e->name = e->path + strlen(e->path) - strlen(d->d_name);
        e->ino = (uint64_t)d->d_ino;
        e->d_type = (unsigned char)ST__DIRENT_TYPE(d);
        e->have_stat = e->have_lstat = 0;
        *entry = e;
        return 1;
    }
}

void st_os_scandir_iterator_close(st_os_scandir_iterator *it)
{
    if (!it || !it->dir)
        return;
    closedir(it->dir);
    it->dir = NULL;
}

void st_os_scandir_iterator_free(st_os_scandir_iterator *it)
{
    if (!it)
        return;
    st_os_scandir_iterator_close(it);
    st_free(it->entry.path);
    st_free(it->top);
    st_free(it);
}

const char *st_os_direntry_name(const st_os_direntry *e) { return e->name; }

const char *st_os_direntry_path(const st_os_direntry *e) { return e->path; }

uint64_t st_os_direntry_inode(const st_os_direntry *e) { return e->ino; }

/* Where to stat the entry from: its directory while open, else its path (as Python's DirEntry
 * always does). */
static int entry_at(const st_os_direntry *e, const char **name)
{
    *name = e->it->dir ? e->name : e->path;
    return e->it->dir ? dirfd(e->it->dir) : AT_FDCWD;
}

/* The entry's type, using and filling the cached stat; -1 with ST_EOS, 0 when it vanished. */
static int entry_type(st_os_direntry *e, int follow, mode_t *type)
{
    int *have = follow ? &e->have_stat : &e->have_lstat;
    struct stat *st = follow ? &e->st : &e->lst;
    if (*have) {
        *type = st->st_mode & S_IFMT;
        return 1;
    }
    errno = 0;
    const char *name;
    int at = entry_at(e, &name);
    *type = st__dirent_type(at, name, e->d_type, follow, st);
    *have = st->st_mode != 0;
    if (*type)
        return 1;
    if (errno == ENOENT)
        return 0;
    return ST_RAISE_OS(errno, "cannot stat '%s'", e->path);
}

static int entry_is(st_os_direntry *e, int follow, mode_t want)
{
    mode_t type;
    int rc = entry_type(e, follow, &type);
    return rc <= 0 ? (rc < 0 ? ST_TRACE() : 0) : type == want;
}

int st_os_direntry_is_dir(st_os_direntry *e, int follow_symlinks)
{
    return entry_is(e, follow_symlinks, S_IFDIR);
}

int st_os_direntry_is_file(st_os_direntry *e, int follow_symlinks)
{
    return entry_is(e, follow_symlinks, S_IFREG);
}

int st_os_direntry_is_symlink(st_os_direntry *e) { return entry_is(e, 0, S_IFLNK); }

int st_os_direntry_stat(st_os_direntry *e, int follow_symlinks, st_os_stat_result *out)
{
    /* A non-symlink's stat is its lstat: one system call serves both, as in Python. */
    int follow = 0;
    if (follow_symlinks) {
        int link = st_os_direntry_is_symlink(e);
        if (link < 0)
            return ST_TRACE();
        follow = link;
    }
    int *have = follow ? &e->have_stat : &e->have_lstat;
    struct stat *st = follow ? &e->st : &e->lst;
    if (!*have) {
        const char *name;
        int at = entry_at(e, &name);
        if (fstatat(at, name, st, follow ? 0 : AT_SYMLINK_NOFOLLOW) < 0)
            return ST_RAISE_OS(errno, "cannot stat '%s'", e->path);
        *have = 1;
    }
    st__stat_convert(st, out);
    return 0;
}
