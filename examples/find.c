/* A tiny find(1): `find [-C WORKDIR] DIR -name PATTERN`, built on st_os_walk_iterator and st_fnmatch.
 *
 * Prints every file or directory under DIR whose name matches the shell PATTERN, one path per
 * line, sorted (so the output does not depend on the filesystem's directory order). -C changes
 * to WORKDIR first, as make -C and tar -C do.
 *
 *   $ find -C /src/systools tests/vectors/os -name 'walk*'
 *   tests/vectors/os/walk.txt
 *   tests/vectors/os/walk_follow.txt
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systools/systools.h>

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void keep(char ***found, size_t *n, const char *dir, const char *name)
{
    size_t len = strlen(dir) + strlen(name) + 2;
    char *path = malloc(len);
    char **more = realloc(*found, (*n + 1) * sizeof **found);
    if (!path || !more) {
        fputs("find: out of memory\n", stderr);
        exit(1);
    }
    snprintf(path, len, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", name);
    *found = more;
    (*found)[(*n)++] = path;
}

int main(int argc, char **argv)
{
    int a = 1;
    if (argc == 6 && !strcmp(argv[1], "-C")) {
        if (st_os_chdir(argv[2]) < 0) {
            fprintf(stderr, "find: %s\n", st_error_message());
            return 1;
        }
        a = 3;
    }
    if (argc - a != 3 || strcmp(argv[a + 1], "-name")) {
        fputs("usage: find [-C WORKDIR] DIR -name PATTERN\n", stderr);
        return 2;
    }
    const char *top = argv[a], *pattern = argv[a + 2];
    st_os_walk_iterator *w = st_os_walk(top, NULL);
    if (!w) {
        fprintf(stderr, "find: %s\n", st_error_message());
        return 1;
    }
    char **found = NULL;
    size_t n = 0;
    st_os_walk_step *step;
    int rc;
    while ((rc = st_os_walk_iterator_next(w, &step)) > 0) {
        for (size_t i = 0; i < step->ndirnames; i++)
            if (st_fnmatch(step->dirnames[i], pattern) > 0)
                keep(&found, &n, step->dirpath, step->dirnames[i]);
        for (size_t i = 0; i < step->nfilenames; i++)
            if (st_fnmatch(step->filenames[i], pattern) > 0)
                keep(&found, &n, step->dirpath, step->filenames[i]);
    }
    st_os_walk_iterator_free(w);
    if (rc < 0) {
        fprintf(stderr, "find: %s\n", st_error_message());
        return 1;
    }
    if (n)
        qsort(found, n, sizeof *found, cmp);
    for (size_t i = 0; i < n; i++) {
        puts(found[i]);
        free(found[i]);
    }
    free(found);
    return 0;
}
