/* Fuzzes the walker on trees the input describes (directories, files and symlinks with
 * looping, dangling and escaping targets), built on tmpfs when there is one. For each of
 * topdown/bottom-up and followlinks off/on: the walk terminates (symlink loops included), every
 * step names a directory that exists, fwalk's dirfd is that directory, and walk and fwalk give
 * the very same steps in the same order. ASan checks the walker's reference counting.
 *
 * Input: records of 3 bytes (kind, parent, name) plus 1 byte of target for symlinks. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal/mem.h"
#include "systools/os.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_DIRS 16
#define MAX_STEPS 2000

static const char *const g_names[] = {"a", "b", "c", ".d"};
/* Relative targets only; the root sits 4 levels below the scratch directory so "../../.." can
 * leave the tree without reaching anything else. */
static const char *const g_targets[] = {".", "..", "../..", "../../..", "a", "b/a", "nowhere", "../a", "a/.."};

static char g_base[64];

/* The scratch chain goes when the fuzzer exits. */
static void remove_base(void)
{
    char p[128];
    for (int depth = 4; depth >= 0; depth--) {
        size_t len = (size_t)snprintf(p, sizeof p, "%s", g_base);
        for (int i = 1; i <= depth; i++)
            len += (size_t)snprintf(p + len, sizeof p - len, "/r%d", i);
        rmdir(p);
    }
}

/* One walk rendered as text: the comparison between walk and fwalk. NULL when it hit MAX_STEPS
 * (the number of simple paths through symlinks can grow fast; that is not an error). */
static char *listing(const char *root, int fwalk, int topdown, int follow)
{
    st_os_walk_options o = ST_OS_WALK_OPTIONS_INIT;
    o.bottomup = !topdown;
    o.followlinks = follow;
    st_os_walk_iterator *w = fwalk ? st_os_fwalk(root, &o) : st_os_walk(root, &o);
    if (!w)
        abort();
    st__buf b = ST__BUF_INIT;
    st_os_walk_step *s;
    int rc, steps = 0;
    while ((rc = st_os_walk_iterator_next(w, &s)) > 0 && ++steps < MAX_STEPS) {
        struct stat a, p;
        if (stat(s->dirpath, &p) < 0 || !S_ISDIR(p.st_mode))
            abort();
        if (fwalk && (fstat(s->dirfd, &a) < 0 || a.st_ino != p.st_ino || a.st_dev != p.st_dev))
            abort();
        if (!fwalk && s->dirfd != -1)
            abort();
        st__buf_printf(&b, "%s|", s->dirpath);
        for (size_t i = 0; i < s->ndirnames; i++)
            st__buf_printf(&b, "%s,", s->dirnames[i]);
        st__buf_putc(&b, '|');
        for (size_t i = 0; i < s->nfilenames; i++)
            st__buf_printf(&b, "%s,", s->filenames[i]);
        st__buf_putc(&b, '\n');
    }
    st_os_walk_iterator_free(w);
    if (rc < 0)
        abort(); /* no onerror: nothing may stop the walk */
    if (steps >= MAX_STEPS) {
        st__buf_free(&b);
        return NULL;
    }
    return st__buf_detach(&b);
}

static void remove_tree(const char *root)
{
    st_os_walk_options o = ST_OS_WALK_OPTIONS_INIT;
    o.bottomup = 1;
    st_os_walk_iterator *w = st_os_fwalk(root, &o);
    st_os_walk_step *s;
    while (st_os_walk_iterator_next(w, &s) > 0) {
        for (size_t i = 0; i < s->nfilenames; i++)
            unlinkat(s->dirfd, s->filenames[i], 0);
        for (size_t i = 0; i < s->ndirnames; i++)
            if (unlinkat(s->dirfd, s->dirnames[i], 0) < 0) /* a symlink, else a directory */
                unlinkat(s->dirfd, s->dirnames[i], AT_REMOVEDIR);
    }
    st_os_walk_iterator_free(w);
    if (rmdir(root) < 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!g_base[0]) {
        snprintf(g_base, sizeof g_base, "%s/st_fuzz_walk_XXXXXX", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
        if (!mkdtemp(g_base))
            abort();
        atexit(remove_base);
        char p[128];
        size_t len = (size_t)snprintf(p, sizeof p, "%s", g_base);
        for (int i = 1; i <= 4; i++) {
            len += (size_t)snprintf(p + len, sizeof p - len, "/r%d", i);
            if (mkdir(p, 0755) < 0)
                abort();
        }
    }
    char root[128];
    snprintf(root, sizeof root, "%s/r1/r2/r3/r4/root", g_base);
    if (mkdir(root, 0755) < 0)
        abort();
    char *dirs[MAX_DIRS] = {st__strdup(root)};
    size_t ndirs = 1;
    for (size_t i = 0; i + 3 <= size; i += 3) {
        int kind = data[i] % 3;
        const char *parent = dirs[data[i + 1] % ndirs];
        char *path = st__asprintf("%s/%s", parent, g_names[data[i + 2] % 4]);
        if (kind == 0 && ndirs < MAX_DIRS && mkdir(path, 0755) == 0) {
            dirs[ndirs++] = path;
            continue;
        }
        if (kind == 1) {
            int fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0644);
            if (fd >= 0)
                close(fd);
        } else if (kind == 2 && i + 3 < size) {
            if (symlink(g_targets[data[i + 3] % (sizeof g_targets / sizeof *g_targets)], path) < 0) {
                /* the name is taken: fine */
            }
            i++;
        }
        st_free(path);
    }
    for (int topdown = 0; topdown < 2; topdown++)
        for (int follow = 0; follow < 2; follow++) {
            char *w = listing(root, 0, topdown, follow), *f = listing(root, 1, topdown, follow);
            if (w && f && strcmp(w, f))
                abort();
            st_free(w);
            st_free(f);
        }
    for (size_t i = 0; i < ndirs; i++)
        st_free(dirs[i]);
    remove_tree(root);
    return 0;
}
