/* What os.path says about the paths given on the command line: split, join, dirname and
 * basename, splitext, abspath, relpath, the file tests and the size; then a few ntpath answers.
 *
 * Absolute paths are shown relative to a top directory, two levels above the path being
 * described ("<top>/examples/pathtools.c"), so that the output does not depend on where the tree
 * is checked out. */
#include <stdio.h>
#include <string.h>

#include <systools/systools.h>

/* Where absolute paths are shown from: two levels above the path being described. */
static char *g_top;

static int set_top(const char *path)
{
    st_free(g_top);
    char *abs = st_path_abspath(path);
    g_top = abs ? st_path_join(abs, "..", "..", NULL) : NULL;
    char *norm = g_top ? st_path_normpath(g_top) : NULL;
    st_free(abs);
    st_free(g_top);
    g_top = norm;
    return g_top ? 0 : -1;
}

/* A path for display: as it is, with a leading <top> spelled "<top>". */
static void show(const char *label, const char *path)
{
    size_t n = strlen(g_top);
    if (strncmp(path, g_top, n) == 0 && path[n] == '/')
        printf("  %-28s '<top>%s'\n", label, path + n);
    else
        printf("  %-28s '%s'\n", label, path);
}

static const char *yes(int v) { return v > 0 ? "yes" : "no"; }

/* Counts a file's bytes by reading it, to check st_path_getsize() against. */
static long count_bytes(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    long n = 0;
    while (fgetc(f) != EOF)
        n++;
    fclose(f);
    return n;
}

static int describe(const char *path)
{
    if (set_top(path) < 0)
        return -1;
    printf("%s:\n", st_path_isabs(path) ? "an absolute path" : "a relative path");
    show("path", path);

    char *head, *tail, *root, *ext;
    if (st_path_split(path, &head, &tail) < 0 || st_path_splitext(path, &root, &ext) < 0)
        return -1;
    show("split() head", head);
    show("split() tail", tail);
    show("splitext() root", root);
    show("splitext() ext", ext);
    st_free(root);
    st_free(ext);

    char *dir = st_path_dirname(path), *base = st_path_basename(path);
    char *joined = st_path_join(dir, "expected", base, NULL);
    char *back = st_path_join(head, tail, NULL);
    if (!dir || !base || !joined || !back)
        return -1;
    show("dirname()", dir);
    show("basename()", base);
    show("join(dir, 'expected', base)", joined);
    printf("  join(head, tail) == path? %s\n", yes(strcmp(back, path) == 0));
    st_free(head);
    st_free(tail);
    st_free(dir);
    st_free(base);
    st_free(joined);
    st_free(back);

    char *abs = st_path_abspath(path);
    char *rel = abs ? st_path_relpath(path, g_top) : NULL;
    if (!rel)
        return -1;
    show("abspath()", abs);
    printf("  %-28s '%s'\n", "relpath(path, <top>)", rel);
    st_free(abs);
    st_free(rel);

    printf("  exists %s, isfile %s, isdir %s, islink %s\n", yes(st_path_exists(path)),
           yes(st_path_isfile(path)), yes(st_path_isdir(path)), yes(st_path_islink(path)));
    int64_t size;
    if (st_path_getsize(path, &size) < 0)
        printf("  getsize() raised %s\n", st_error_last()->type);
    else if (st_path_isfile(path)) /* a directory's size depends on its filesystem */
        printf("  getsize() matches the bytes read: %s\n",
               yes(size == (int64_t)count_bytes(path)));
    return 0;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (describe(argv[i]) < 0) {
            fprintf(stderr, "pathtools: %s\n", st_error_message());
            return 1;
        }

    char *rel = st_path_abspath("notes.txt");
    if (!rel || set_top("notes.txt") < 0)
        return 1;
    printf("the current directory:\n");
    show("abspath('notes.txt')", rel);
    st_free(rel);
    st_free(g_top);

    printf("ntpath, on any host:\n");
    char *j = st_ntpath_join("C:\\Users", "me", "D:data.txt", NULL);
    char *n = st_ntpath_normpath("//server/share/a/../b/./c.txt");
    char *drive, *rest;
    if (!j || !n || st_ntpath_splitdrive(n, &drive, &rest) < 0)
        return 1;
    printf("  join('C:\\Users', 'me', 'D:data.txt') = '%s'\n", j);
    printf("  normpath('//server/share/a/../b/./c.txt') = '%s'\n", n);
    printf("  splitdrive() = ('%s', '%s'); isabs() = %s\n", drive, rest, yes(st_ntpath_isabs(n)));
    st_free(j);
    st_free(n);
    st_free(drive);
    st_free(rest);
    return 0;
}
