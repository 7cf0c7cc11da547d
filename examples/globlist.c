/* Lists what shell patterns match: the seed's "collect the names of all entries whose names
 * match", with Python's glob semantics.
 *
 *   $ globlist [-r] [-a] [-C DIR] PATTERN...
 *     -r  recursive: '**' matches any files and zero or more directories
 *     -a  all: wildcards also match names starting with '.'
 *     -C  search in DIR (results relative to it), like glob.glob(..., root_dir=DIR)
 *
 * Results are streamed (st_glob_iterator_next), sorted directory by directory.
 */
#include <stdio.h>
#include <string.h>

#include <systools/systools.h>

int main(int argc, char **argv)
{
    int flags = 0, i = 1;
    const char *root = NULL;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "-r") == 0)
            flags |= ST_GLOB_RECURSIVE;
        else if (strcmp(argv[i], "-a") == 0)
            flags |= ST_GLOB_INCLUDE_HIDDEN;
        else if (strcmp(argv[i], "-C") == 0 && i + 1 < argc)
            root = argv[++i];
        else
            break;
    }
    if (i >= argc) {
        fprintf(stderr, "usage: globlist [-r] [-a] [-C DIR] PATTERN...\n");
        return 2;
    }
    for (; i < argc; i++) {
        st_glob_iterator *it = st_glob_iglob_at(ST_GLOB_CWD, root, argv[i], flags);
        if (!it) {
            fprintf(stderr, "globlist: %s\n", st_error_message());
            return 1;
        }
        printf("%s:\n", argv[i]);
        size_t n = 0;
        const char *path;
        int rc;
        for (; (rc = st_glob_iterator_next(it, &path)) > 0; n++)
            printf("  %s\n", path);
        st_glob_iterator_free(it);
        if (rc < 0) { /* the end is 0: -1 is an error, never a short listing */
            fprintf(stderr, "globlist: %s\n", st_error_message());
            return 1;
        }
        char *quoted = st_glob_escape(argv[i]);
        printf("  (%zu match%s; glob.escape gives %s)\n", n, n == 1 ? "" : "es", quoted ? quoted : "?");
        st_free(quoted);
    }
    return 0;
}
