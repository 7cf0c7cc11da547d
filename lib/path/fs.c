/* path: the os.path functions that consult the filesystem — abspath, realpath, relpath,
 * expanduser, the existence and type tests, ismount, sizes and times, samefile. Written from
 * CPython 3.13's Lib/posixpath.py and genericpath.py. */
#include <errno.h>
#include <pwd.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal/os.h"
#include "internal/path.h"
#include "systools/path.h"

char *st_path_abspath(const char *path)
{
    if (st__path_check(path) < 0)
        return (ST_TRACE(), NULL);
    if (path[0] == '/')
        return st_path_normpath(path);
    char *cwd = st_os_getcwd();
    if (!cwd)
        return (ST_TRACE(), NULL);
    char *joined = st_path_join(cwd, path, (char *)NULL);
    st_free(cwd);
    char *r = joined ? st_path_normpath(joined) : NULL;
    st_free(joined);
    return r ? r : (ST_TRACE(), NULL);
}

/* ---------------------------------------------------------------- realpath */

/* realpath()'s `seen` mapping: symlink path -> fully resolved target, or NULL while that
 * link is being resolved (meeting it again then means a loop). Open addressing. */
typedef struct link_entry {
    char *link;
    char *target;
} link_entry;

typedef struct link_map {
    link_entry *slots;
    size_t cap, used;
} link_map;

static size_t hash_str(const char *s)
{
    size_t h = (size_t)14695981039346656037ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * (size_t)1099511628211ULL;
    return h;
}

static link_entry *map_find(const link_map *m, const char *link)
{
    if (!m->cap)
        return NULL;
    for (size_t i = hash_str(link) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (!m->slots[i].link)
            return NULL;
        if (strcmp(m->slots[i].link, link) == 0)
            return &m->slots[i];
    }
}

/* Inserts link (taking it) with no target yet. */
static int map_add(link_map *m, char *link)
{
    if ((m->used + 1) * 2 > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 16;
        link_entry *slots = st__calloc(cap, sizeof *slots);
        if (!slots) {
            st_free(link);
            return ST_TRACE();
        }
        for (size_t k = 0; k < m->cap; k++) {
            if (!m->slots[k].link)
                continue;
            size_t i = hash_str(m->slots[k].link) & (cap - 1);
            while (slots[i].link)
                i = (i + 1) & (cap - 1);
            slots[i] = m->slots[k];
        }
        st_free(m->slots);
        m->slots = slots;
        m->cap = cap;
    }
    size_t i = hash_str(link) & (m->cap - 1);
    while (m->slots[i].link)
        i = (i + 1) & (m->cap - 1);
    m->slots[i] = (link_entry){link, NULL};
    m->used++;
    return 0;
}

static void map_free(link_map *m)
{
    for (size_t k = 0; k < m->cap; k++) {
        st_free(m->slots[k].link);
        st_free(m->slots[k].target);
    }
    st_free(m->slots);
}

/* The stack of unresolved parts. An entry with `done` set marks the end of a symlink's target:
 * popping it records the path resolved so far as the link's target. */
typedef struct part {
    char *name;
    int done;
} part;

typedef struct part_stack {
    part *v;
    size_t len, cap;
} part_stack;

static int push_part(part_stack *s, const char *name, size_t n, int done)
{
    if (s->len == s->cap) {
        part *v = st__grow(s->v, &s->cap, sizeof *v, 16);
        if (!v)
            return ST_TRACE();
        s->v = v;
    }
    char *copy = st__strndup(name, n);
    if (!copy)
        return ST_TRACE();
    s->v[s->len++] = (part){copy, done};
    return 0;
}

/* Pushes the "/"-separated parts of p so that the first is popped first. */
static int push_parts(part_stack *s, const char *p)
{
    const char *end = p + strlen(p);
    for (;;) {
        const char *start = end;
        while (start > p && start[-1] != '/')
            start--;
        if (push_part(s, start, (size_t)(end - start), 0) < 0)
            return ST_TRACE();
        if (start == p)
            return 0;
        end = start - 1;
    }
}

static int set_path(st__buf *path, const char *s)
{
    path->len = 0;
    return st__buf_puts(path, s);
}

/* One step of realpath(): resolves `name` against `path` (absolute, symlink-free). */
static int resolve_part(st__buf *path, const char *name, part_stack *rest, link_map *seen,
                        int strict)
{
    if (!name[0] || strcmp(name, ".") == 0)
        return 0;
    if (strcmp(name, "..") == 0) {
        char *slash = strrchr(path->data, '/');
        path->len = slash == path->data ? 1 : (size_t)(slash - path->data);
        path->data[path->len] = '\0';
        return 0;
    }
    size_t old = path->len;
    if ((old > 1 && st__buf_putc(path, '/') < 0) || st__buf_puts(path, name) < 0)
        return ST_TRACE();
    /* From here path is the candidate path/name: every outcome but a new link keeps it. */
    struct stat st;
    if (lstat(path->data, &st) < 0) {
        int err = errno;
        return strict ? ST_RAISE_OS(err, "cannot stat '%s'", path->data) : 0;
    }
    if (!S_ISLNK(st.st_mode))
        return 0;
    link_entry *e = map_find(seen, path->data);
    if (e && e->target)
        return set_path(path, e->target) < 0 ? ST_TRACE() : 0; /* resolved before */
    if (e) {
        /* A link met again while resolving it: a loop. Strict raises stat()'s ELOOP. */
        if (strict && stat(path->data, &st) < 0) {
            int err = errno;
            return ST_RAISE_OS(err, "cannot stat '%s'", path->data);
        }
        return 0;
    }
    int err;
    char *target = st__readlink(path->data, &err);
    if (!target && !err)
        return ST_TRACE();
    if (!target) /* non-strict keeps an unreadable link as it is, as Python does */
        return strict ? ST_RAISE_OS(err, "cannot read the link '%s'", path->data) : 0;
    char *link = st__strdup(path->data);
    int rc = link ? map_add(seen, link) : -1;
    if (rc == 0)
        rc = push_part(rest, path->data, path->len, 1);
    if (rc == 0)
        rc = push_parts(rest, target);
    if (rc == 0) {
        path->len = target[0] == '/' ? 1 : old; /* an absolute target restarts from "/" */
        path->data[path->len] = '\0';
        if (target[0] == '/')
            path->data[0] = '/';
    }
    st_free(target);
    return rc < 0 ? ST_TRACE() : 0;
}

char *st_path_realpath(const char *filename, int strict)
{
    if (st__path_check(filename) < 0)
        return (ST_TRACE(), NULL);
    st__buf path = ST__BUF_INIT;
    part_stack rest = {NULL, 0, 0};
    link_map seen = {NULL, 0, 0};
    int rc;
    if (filename[0] == '/') {
        rc = st__buf_putc(&path, '/');
    } else {
        char *cwd = st_os_getcwd();
        rc = cwd ? st__buf_puts(&path, cwd) : -1;
        st_free(cwd);
    }
    if (rc == 0)
        rc = push_parts(&rest, filename);
    while (rc == 0 && rest.len) {
        part p = rest.v[--rest.len];
        if (p.done) {
            link_entry *e = map_find(&seen, p.name);
            st_free(e->target);
            e->target = st__strdup(path.data);
            rc = e->target ? 0 : -1;
        } else {
            rc = resolve_part(&path, p.name, &rest, &seen, strict);
        }
        st_free(p.name);
    }
    while (rest.len)
        st_free(rest.v[--rest.len].name);
    st_free(rest.v);
    map_free(&seen);
    if (rc < 0) {
        st__buf_free(&path);
        return (ST_TRACE(), NULL);
    }
    return st__buf_detach(&path);
}

/* ---------------------------------------------------------------- relpath, expanduser */

/* Appends the components of an absolute normalized path (skipping its leading slashes). */
static const char *skip_slashes(const char *p)
{
    while (*p == '/')
        p++;
    return p;
}

char *st_path_relpath(const char *path, const char *start)
{
    if (st__path_check(path) < 0)
        return (ST_TRACE(), NULL);
    if (!path[0])
        return (ST_RAISE(ST_EVALUE, "no path specified"), NULL);
    char *abs_start = st_path_abspath(start ? start : ".");
    char *abs_path = abs_start ? st_path_abspath(path) : NULL;
    st__buf out = ST__BUF_INIT;
    if (!abs_path)
        goto fail;
    /* Both are normalized: components are separated by single slashes, with no "." or "". */
    const char *s = skip_slashes(abs_start), *p = skip_slashes(abs_path);
    for (;;) {
        size_t ns = strcspn(s, "/"), np = strcspn(p, "/");
        if (!ns || ns != np || memcmp(s, p, ns) != 0)
            break;
        s += ns + (s[ns] == '/');
        p += np + (p[np] == '/');
    }
    /* One ".." for each remaining component of start, then the rest of path. */
    while (*s) {
        if ((out.len && st__buf_putc(&out, '/') < 0) || st__buf_puts(&out, "..") < 0)
            goto fail;
        s += strcspn(s, "/");
        s += *s == '/';
    }
    if (*p && ((out.len && st__buf_putc(&out, '/') < 0) || st__buf_puts(&out, p) < 0))
        goto fail;
    if (!out.len && st__buf_putc(&out, '.') < 0)
        goto fail;
    st_free(abs_start);
    st_free(abs_path);
    return st__buf_detach(&out);
fail:
    st_free(abs_start);
    st_free(abs_path);
    st__buf_free(&out);
    return (ST_TRACE(), NULL);
}

/* The home directory of a user from the password database (by name, or the real uid when
 * name is NULL); NULL without raising when there is no such entry. *err is set on failure. */
static char *passwd_home(const char *name, int *err)
{
    long hint = sysconf(_SC_GETPW_R_SIZE_MAX);
    size_t cap = hint > 0 ? (size_t)hint : 1024;
    *err = 0;
    for (;;) {
        char *buf = st__malloc(cap);
        if (!buf) {
            *err = -1;
            return (ST_TRACE(), NULL);
        }
        struct passwd pw, *found = NULL;
        int rc = name ? getpwnam_r(name, &pw, buf, cap, &found)
                      : getpwuid_r(getuid(), &pw, buf, cap, &found);
        if (rc == ERANGE && cap < SIZE_MAX / 2) {
            st_free(buf);
            cap *= 2;
            continue;
        }
        char *home = found && pw.pw_dir ? st__strdup(pw.pw_dir) : NULL;
        if (found && pw.pw_dir && !home)
            *err = -1;
        st_free(buf);
        return home; /* Python's KeyError (no entry, or a lookup error) leaves the path alone */
    }
}

char *st_path_expanduser(const char *path)
{
    if (st__path_check(path) < 0)
        return (ST_TRACE(), NULL);
    if (path[0] != '~')
        return st__strdup(path);
    size_t i = 1 + strcspn(path + 1, "/");
    char *home = NULL;
    int err = 0;
    if (i == 1) {
        const char *env = getenv("HOME");
        home = env ? st__strdup(env) : passwd_home(NULL, &err);
        if (env && !home)
            err = -1;
    } else {
        char *name = st__strndup(path + 1, i - 1);
        if (!name)
            return (ST_TRACE(), NULL);
        home = passwd_home(name, &err);
        st_free(name);
    }
    if (err < 0)
        return (ST_TRACE(), NULL);
    if (!home)
        return st__strdup(path);
    size_t h = strlen(home);
    while (h && home[h - 1] == '/')
        h--;
    st__buf out = ST__BUF_INIT;
    int rc = st__buf_append(&out, home, h);
    st_free(home);
    if (rc == 0)
        rc = st__buf_puts(&out, path + i);
    if (rc == 0 && !out.len)
        rc = st__buf_putc(&out, '/'); /* a home of "/" gives "/", not "" */
    if (rc < 0) {
        st__buf_free(&out);
        return (ST_TRACE(), NULL);
    }
    return st__buf_detach(&out);
}

/* ---------------------------------------------------------------- tests on the file */

/* stat() or lstat(), true when it worked: Python's predicates answer False on any error. */
static int stat_ok(const char *path, struct stat *st, int follow)
{
    return (follow ? stat(path, st) : lstat(path, st)) == 0;
}

int st_path_exists(const char *path)
{
    struct stat st;
    return st__path_check(path) < 0 ? ST_TRACE() : stat_ok(path, &st, 1);
}

int st_path_lexists(const char *path)
{
    struct stat st;
    return st__path_check(path) < 0 ? ST_TRACE() : stat_ok(path, &st, 0);
}

int st_path_isdir(const char *path)
{
    struct stat st;
    if (st__path_check(path) < 0)
        return ST_TRACE();
    return stat_ok(path, &st, 1) && S_ISDIR(st.st_mode);
}

int st_path_isfile(const char *path)
{
    struct stat st;
    if (st__path_check(path) < 0)
        return ST_TRACE();
    return stat_ok(path, &st, 1) && S_ISREG(st.st_mode);
}

int st_path_islink(const char *path)
{
    struct stat st;
    if (st__path_check(path) < 0)
        return ST_TRACE();
    return stat_ok(path, &st, 0) && S_ISLNK(st.st_mode);
}

int st_path_ismount(const char *path)
{
    struct stat s1, s2;
    if (st__path_check(path) < 0)
        return ST_TRACE();
    if (!stat_ok(path, &s1, 0) || S_ISLNK(s1.st_mode))
        return 0; /* missing, or a symbolic link: never a mount point */
    char *parent = st_path_join(path, "..", (char *)NULL);
    if (!parent)
        return ST_TRACE();
    int ok = stat_ok(parent, &s2, 0);
    if (!ok) {
        /* e.g. "dir/.." through a directory we may not search: try its resolved form. */
        char *real = st_path_realpath(parent, 0);
        if (!real) {
            st_free(parent);
            return ST_TRACE();
        }
        ok = stat_ok(real, &s2, 0);
        st_free(real);
    }
    st_free(parent);
    return ok && (s1.st_dev != s2.st_dev || s1.st_ino == s2.st_ino);
}

/* stat() that raises Python's OSError. */
static int stat_or_raise(const char *path, struct stat *st)
{
    if (st__path_check(path) < 0)
        return ST_TRACE();
    if (stat(path, st) < 0) {
        int err = errno;
        return ST_RAISE_OS(err, "cannot stat '%s'", path);
    }
    return 0;
}

int st_path_getsize(const char *path, int64_t *size)
{
    struct stat st;
    if (stat_or_raise(path, &st) < 0)
        return ST_TRACE();
    *size = (int64_t)st.st_size;
    return 0;
}

/* stat() converted to Python's stat_result, raising Python's OSError. */
static int stat_result_or_raise(const char *path, st_os_stat_result *res)
{
    struct stat st;
    if (stat_or_raise(path, &st) < 0)
        return ST_TRACE();
    st__stat_convert(&st, res);
    return 0;
}

int st_path_getmtime(const char *path, double *t)
{
    st_os_stat_result res;
    if (stat_result_or_raise(path, &res) < 0)
        return ST_TRACE();
    *t = st__stat_float_time(res.st_mtime_ns);
    return 0;
}

int st_path_getatime(const char *path, double *t)
{
    st_os_stat_result res;
    if (stat_result_or_raise(path, &res) < 0)
        return ST_TRACE();
    *t = st__stat_float_time(res.st_atime_ns);
    return 0;
}

int st_path_getctime(const char *path, double *t)
{
    st_os_stat_result res;
    if (stat_result_or_raise(path, &res) < 0)
        return ST_TRACE();
    *t = st__stat_float_time(res.st_ctime_ns);
    return 0;
}

int st_path_samestat(const st_os_stat_result *s1, const st_os_stat_result *s2)
{
    if (!s1 || !s2)
        return ST_RAISE(ST_ETYPE, "samestat() needs two stat results, not NULL");
    return s1->st_ino == s2->st_ino && s1->st_dev == s2->st_dev;
}

int st_path_samefile(const char *path1, const char *path2)
{
    st_os_stat_result s1, s2;
    if (stat_result_or_raise(path1, &s1) < 0 || stat_result_or_raise(path2, &s2) < 0)
        return ST_TRACE();
    return st_path_samestat(&s1, &s2);
}

/* fstat() that raises Python's OSError. */
static int fstat_or_raise(int fd, struct stat *st)
{
    if (fstat(fd, st) < 0) {
        int err = errno;
        return ST_RAISE_OS(err, "cannot fstat file descriptor %d", fd);
    }
    return 0;
}

int st_path_sameopenfile(int fd1, int fd2)
{
    struct stat s1, s2;
    if (fstat_or_raise(fd1, &s1) < 0 || fstat_or_raise(fd2, &s2) < 0)
        return ST_TRACE();
    return s1.st_ino == s2.st_ino && s1.st_dev == s2.st_dev;
}
