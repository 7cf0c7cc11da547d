/* Fuzzes glob patterns on a small fixed tree (hidden names, symlinks, a loop, a broken link):
 * input = flags byte, pattern. No crash; sorted, unsorted and streamed results agree as lists or
 * sets; every result globbed back through st_glob_escape() finds exactly itself. */
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "systools/systools.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int g_tree = -1;
static char g_base[] = "/tmp/st_fuzz_glob_XXXXXX";

static int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    return remove(path);
}

/* libFuzzer ends with exit(): the tree goes with it. */
static void remove_tree(void) { nftw(g_base, remove_one, 16, FTW_DEPTH | FTW_PHYS); }

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (!mkdtemp(g_base))
        abort();
    atexit(remove_tree);
    static const char *const dirs[] = {"a", "a/b", "a/.h", "c", "c/d", "c/d/e", ".hid"};
    static const char *const files[] = {"x.c", "a/y.c", "a/b/z.h", "a/.h/w.c", "c/d/e/v", ".hid/u", "[*]"};
    static const char *const links[][2] = {{"a/up", ".."}, {"c/tob", "../a/b"}, {"bad", "none"}};
    g_tree = open(g_base, O_RDONLY | O_DIRECTORY);
    if (g_tree < 0)
        abort();
    for (size_t k = 0; k < sizeof dirs / sizeof *dirs; k++)
        mkdirat(g_tree, dirs[k], 0755);
    for (size_t k = 0; k < sizeof files / sizeof *files; k++)
        close(openat(g_tree, files[k], O_WRONLY | O_CREAT, 0644));
    for (size_t k = 0; k < sizeof links / sizeof *links; k++)
        symlinkat(links[k][1], g_tree, links[k][0]);
    return 0;
}

static int cmp(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 512)
        return 0;
    int flags = data[0] & (ST_GLOB_RECURSIVE | ST_GLOB_INCLUDE_HIDDEN);
    char *pat = malloc(size);
    if (!pat)
        return 0;
    memcpy(pat, data + 1, size - 1);
    pat[size - 1] = '\0';
    /* Stay inside the tree (no absolute paths, no climbing out) and keep the output small:
     * each `**` multiplies it, for Python as for us. */
    size_t stars = 0;
    for (const char *c = pat; (c = strstr(c, "**")); c += 2)
        stars++;
    if (strlen(pat) != size - 1 || pat[0] == '/' || strstr(pat, "..") || stars > 3) {
        free(pat);
        return 0;
    }
    const char **sorted = st_glob_at(g_tree, NULL, pat, flags);
    const char **raw = st_glob_at(g_tree, NULL, pat, flags | ST_GLOB_NOSORT);
    if (!sorted || !raw)
        abort();
    size_t n = st_strv_len(sorted);
    if (st_strv_len(raw) != n)
        abort();
    st_glob_iterator *it = st_glob_iglob_at(g_tree, NULL, pat, flags);
    if (!it)
        abort();
    size_t k = 0;
    const char *s;
    int rc;
    for (; (rc = st_glob_iterator_next(it, &s)) > 0; k++)
        if (k >= n || strcmp(s, sorted[k]) != 0)
            abort();
    if (k != n || rc != 0)
        abort();
    st_glob_iterator_close(it); /* closed: stays at the end */
    if (st_glob_iterator_next(it, &s) != 0)
        abort();
    st_glob_iterator_free(it);
    qsort(sorted, n, sizeof *sorted, cmp);
    qsort(raw, n, sizeof *raw, cmp);
    for (k = 0; k < n; k++) {
        if (strcmp(sorted[k], raw[k]) != 0)
            abort();
        if (!sorted[k][0] || strlen(sorted[k]) > 200)
            continue;
        char *esc = st_glob_escape(sorted[k]);
        const char **back = esc ? st_glob_at(g_tree, NULL, esc, 0) : NULL;
        if (!back || st_strv_len(back) != 1 || strcmp(back[0], sorted[k]) != 0)
            abort();
        st_strv_free(back);
        st_free(esc);
    }
    st_strv_free(sorted);
    st_strv_free(raw);
    free(pat);
    return 0;
}
