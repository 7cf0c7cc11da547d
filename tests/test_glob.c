/* glob: CPython 3.13's glob.glob() results on generated trees (tests/gen/gen_glob.py), compared
 * as sorted lists for each flag combination, through every entry point (cwd, root_dir, dir_fd,
 * absolute patterns, iglob, NOSORT); then escape, has_magic, streaming and errors. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "internal/mem.h"
#include "internal/posix.h"
#include "support/support.h"
#include "systools/systools.h"

/* Replaces each '@' of s with the tree's absolute path (st_free). */
static char *expand_at(const char *s, const char *tree)
{
    st__buf b = ST__BUF_INIT;
    for (; *s; s++)
        assert_int_equal(*s == '@' ? st__buf_puts(&b, tree) : st__buf_putc(&b, *s), 0);
    return st__buf_detach(&b);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

static void sort_strv(const char **v) { qsort(v, st_strv_len(v), sizeof *v, cmp_str); }

/* Asserts that got (sorted here) equals want (sorted), printing both on a difference. */
static void assert_same(const char **got, const char *const *want, const char *what, const char *pattern, int flags)
{
    sort_strv(got);
    size_t n = st_strv_len(got), m = st_strv_len(want);
    int same = n == m;
    for (size_t k = 0; same && k < n; k++)
        same = strcmp(got[k], want[k]) == 0;
    if (!same) {
        printf("%s: pattern '%s' flags %d\n  got:", what, pattern, flags);
        for (size_t k = 0; k < n; k++)
            printf(" '%s'", got[k]);
        printf("\n  want:");
        for (size_t k = 0; k < m; k++)
            printf(" '%s'", want[k]);
        printf("\n");
    }
    assert_true(same);
}

typedef struct tree {
    char *base;     /* mkdtemp directory */
    char *path;     /* base/<name> */
    st__strv chmods;/* paths to make writable again before removal */
    int locked_readable;
} tree;

static void tree_remove(tree *t)
{
    if (!t->path)
        return;
    for (size_t k = 0; k < t->chmods.len; k++)
        chmod(t->chmods.v[k], 0755);
    char *cmd = st__asprintf("rm -rf '%s'", t->base);
    assert_non_null(cmd);
    assert_int_equal(system(cmd), 0);
    st_free(cmd);
    st_free(t->base);
    st_free(t->path);
    st__strv_free(&t->chmods);
    memset(t, 0, sizeof *t);
}

static void tree_item(tree *t, char *line)
{
    char *kind = strtok(line, " "), *rel = strtok(NULL, " "), *arg = strtok(NULL, " ");
    char *p = st__asprintf("%s/%s", t->path, rel);
    assert_non_null(p);
    if (strcmp(kind, "dir") == 0) {
        assert_int_equal(mkdir(p, 0755), 0);
    } else if (strcmp(kind, "file") == 0) {
        int fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0644);
        assert_true(fd >= 0);
        close(fd);
    } else if (strcmp(kind, "link") == 0) {
        assert_int_equal(symlink(arg, p), 0);
    } else {
        assert_string_equal(kind, "chmod");
        assert_int_equal(chmod(p, (mode_t)strtol(arg, NULL, 8)), 0);
        assert_int_equal(st__strv_push(&t->chmods, p), 0);
        /* Whether this user can list it anyway (root can): picks the expectation. */
        int fd = open(p, O_RDONLY | O_DIRECTORY);
        if (fd >= 0)
            close(fd);
        t->locked_readable = t->locked_readable && fd >= 0;
    }
    st_free(p);
}

/* Runs one case every way and checks each against want. */
static void check_case(const tree *t, int treefd, int flags, const char *root, const char *pattern,
                       const char *const *want)
{
    char *pat = expand_at(pattern, t->path);
    char *absroot = st__asprintf("%s/%s", t->path, root);
    assert_non_null(absroot);

    const char **got = st_glob_at(ST_GLOB_CWD, absroot, pat, flags);
    assert_non_null(got);
    if (!strchr(pattern, '/') && !(flags & ST_GLOB_RECURSIVE)) {
        /* One directory: sorted bytewise. */
        for (size_t k = 0; got[0] && got[k + 1]; k++)
            assert_true(strcmp(got[k], got[k + 1]) < 0);
    }
    /* iglob streams the same results in the same order. */
    st_glob_iterator *it = st_glob_iglob_at(ST_GLOB_CWD, absroot, pat, flags);
    assert_non_null(it);
    size_t k = 0;
    const char *p;
    int rc;
    for (; (rc = st_glob_iterator_next(it, &p)) > 0; k++) {
        assert_non_null(got[k]);
        assert_string_equal(p, got[k]);
    }
    assert_int_equal(rc, 0);
    assert_null(p);
    assert_null(got[k]);
    st_glob_iterator_free(it);
    assert_same(got, want, "root_dir", pattern, flags);
    st_strv_free(got);

    got = st_glob_at(treefd, root, pat, flags);
    assert_non_null(got);
    assert_same(got, want, "dir_fd", pattern, flags);
    st_strv_free(got);

    got = st_glob_at(ST_GLOB_CWD, absroot, pat, flags | ST_GLOB_NOSORT);
    assert_non_null(got);
    assert_same(got, want, "nosort", pattern, flags);
    st_strv_free(got);

    if (strcmp(root, ".") == 0) {
        char *cwd = getcwd(NULL, 0);
        assert_non_null(cwd);
        assert_int_equal(chdir(t->path), 0);
        got = st_glob(pat, flags);
        assert_int_equal(chdir(cwd), 0);
        free(cwd);
        assert_non_null(got);
        assert_same(got, want, "cwd", pattern, flags);
        st_strv_free(got);
    }
    st_free(pat);
    st_free(absroot);
}

static void test_vectors(void **state)
{
    (void)state;
    FILE *f = fopen(ST_TEST_SOURCE_DIR "/vectors/glob/cases.txt", "r");
    assert_non_null(f);
    tree t;
    memset(&t, 0, sizeof t);
    int treefd = -1, flags = 0, in_alt = 0, have_alt = 0, ncases = 0;
    char root[256] = "", *pattern = NULL, line[4096];
    st__strv want = ST__STRV_INIT, alt = ST__STRV_INIT;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, "tree ", 5) == 0) {
            if (treefd >= 0)
                close(treefd);
            tree_remove(&t);
            t.base = st__strdup("/tmp/st_test_glob_XXXXXX");
            assert_non_null(mkdtemp(t.base));
            t.path = st__asprintf("%s/%s", t.base, line + 5);
            assert_int_equal(mkdir(t.path, 0755), 0);
            t.locked_readable = 1;
            treefd = -1;
        } else if (strncmp(line, "case ", 5) == 0) {
            if (treefd < 0)
                treefd = open(t.path, O_RDONLY | O_DIRECTORY);
            assert_true(treefd >= 0);
            char *sp = strchr(line + 5, ' ');
            flags = atoi(sp + 1);
            sp = strchr(sp + 1, ' ');
            char *sp2 = strchr(sp + 1, ' ');
            snprintf(root, sizeof root, "%.*s", (int)(sp2 - sp - 1), sp + 1);
            pattern = st__strdup(sp2 + 1);
            in_alt = have_alt = 0;
        } else if (strncmp(line, "r ", 2) == 0) {
            char *r = expand_at(line + 2, t.path);
            assert_int_equal(st__strv_push_owned(&want, r), 0);
        } else if (strcmp(line, "alt") == 0) {
            in_alt = have_alt = 1;
        } else if (strncmp(line, "a ", 2) == 0 && in_alt) {
            assert_int_equal(st__strv_push_owned(&alt, expand_at(line + 2, t.path)), 0);
        } else if (strcmp(line, "end") == 0) {
            st__strv *w = have_alt && !t.locked_readable ? &alt : &want;
            const char **wv = st__strv_detach(w);
            sort_strv(wv);
            check_case(&t, treefd, flags, root, pattern, wv);
            st_strv_free(wv);
            st__strv_free(&want);
            st__strv_free(&alt);
            st_free(pattern);
            pattern = NULL;
            ncases++;
        } else {
            tree_item(&t, line);
        }
    }
    fclose(f);
    if (treefd >= 0)
        close(treefd);
    tree_remove(&t);
    printf("[          ] %d CPython glob cases, each checked 4 or 5 ways\n", ncases);
    assert_true(ncases >= 400);
}

static void test_escape_and_magic(void **state)
{
    (void)state;
    /* Values of glob.escape() and glob.has_magic() in CPython 3.13. */
    static const char *const cases[][2] = {
        {"", ""}, {"abc", "abc"}, {"a*b?c[d]e", "a[*]b[?]c[[]d]e"}, {"[[]", "[[][[]]"},
        {"/x/**/y", "/x/[*][*]/y"}, {"]!-", "]!-"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        char *e = st_glob_escape(cases[k][0]);
        assert_string_equal(e, cases[k][1]);
        /* An escaped name matches itself only. */
        assert_int_equal(st_fnmatchcase(cases[k][0], e), 1);
        st_free(e);
    }
    assert_int_equal(st_glob_has_magic("a*"), 1);
    assert_int_equal(st_glob_has_magic("[x"), 1);
    assert_int_equal(st_glob_has_magic("?"), 1);
    assert_int_equal(st_glob_has_magic("a]b!c-d/e"), 0);
    assert_int_equal(st_glob_has_magic(""), 0);
    /* glob.has_magic(None) raises TypeError. */
    assert_int_equal(st_glob_has_magic(NULL), -1);
    assert_int_equal(st_error_code(), ST_ETYPE);
}

static void test_errors(void **state)
{
    (void)state;
    assert_null(st_glob(NULL, 0));
    assert_int_equal(st_error_code(), ST_ETYPE);
    assert_null(st_glob("*", 0x100));
    assert_int_equal(st_error_code(), ST_EVALUE);
    assert_null(st_glob_iglob_at(ST_GLOB_CWD, NULL, "*", -1));
    assert_int_equal(st_error_code(), ST_EVALUE);
    assert_null(st_glob_iglob(NULL, 0));
    assert_int_equal(st_error_code(), ST_ETYPE);
    assert_null(st_glob_escape(NULL));
    st_glob_iterator_close(NULL);
    st_glob_iterator_free(NULL);
    /* next(None) is a TypeError, told apart from the end by -1. */
    const char *p = "stale";
    assert_int_equal(st_glob_iterator_next(NULL, &p), -1);
    assert_int_equal(st_error_code(), ST_ETYPE);
    assert_null(p);
    st_glob_iterator *it = st_glob_iglob("/nonexistent-dir-for-st-glob/*", 0);
    assert_non_null(it);
    assert_int_equal(st_glob_iterator_next(it, NULL), -1);
    assert_int_equal(st_error_code(), ST_ETYPE);
    assert_int_equal(st_glob_iterator_next(it, &p), 0);
    assert_null(p);
    assert_int_equal(st_glob_iterator_next(it, &p), 0); /* an exhausted generator stays so */
    st_glob_iterator_free(it);
    /* A bad dir_fd is an unreadable directory: nothing matches, as in Python. */
    const char **v = st_glob_at(987654, NULL, "*", 0);
    assert_non_null(v);
    assert_null(v[0]);
    st_strv_free(v);
    v = st_glob("/nonexistent-dir-for-st-glob/*", 0);
    assert_non_null(v);
    assert_int_equal(st_strv_len(v), 0);
    st_strv_free(v);
}

/* A wide, deep tree: iglob streams it all, can stop early, and `**` counts every entry. */
static void test_streaming(void **state)
{
    (void)state;
    char base[] = "/tmp/st_test_iglob_XXXXXX";
    assert_non_null(mkdtemp(base));
    st__buf p = ST__BUF_INIT;
    assert_int_equal(st__buf_puts(&p, base), 0);
    const int depth = 60, width = 50;
    for (int d = 0; d < depth; d++) {
        assert_int_equal(st__buf_puts(&p, "/d"), 0);
        assert_int_equal(mkdir(p.data, 0755), 0);
        for (int w = 0; w < width; w++) {
            char *fpath = st__asprintf("%s/f%03d.c", p.data, w);
            int fd = open(fpath, O_WRONLY | O_CREAT, 0644);
            assert_true(fd >= 0);
            close(fd);
            st_free(fpath);
        }
    }
    st__buf_free(&p);
    int dfd = open(base, O_RDONLY | O_DIRECTORY);
    assert_true(dfd >= 0);
    st_glob_iterator *it = st_glob_iglob_at(dfd, NULL, "**/*.c", ST_GLOB_RECURSIVE);
    assert_non_null(it);
    size_t n = 0;
    char *last = NULL;
    const char *s;
    int rc;
    for (; (rc = st_glob_iterator_next(it, &s)) > 0; n++) {
        st_free(last);
        last = st__strdup(s);
    }
    assert_int_equal(rc, 0);
    assert_int_equal(n, (size_t)(depth * width));
    assert_non_null(strstr(last, "/f049.c"));
    st_free(last);
    st_glob_iterator_free(it);
    /* Stopping early frees everything (checked under ASan). */
    it = st_glob_iglob_at(dfd, NULL, "**", ST_GLOB_RECURSIVE);
    assert_non_null(it);
    assert_int_equal(st_glob_iterator_next(it, &s), 1);
    assert_int_equal(st_glob_iterator_next(it, &s), 1);
    assert_string_equal(s, "d/d");
    st_glob_iterator_free(it);
    /* close() releases the directory descriptors at once and keeps the object: next() then
     * ends, as for a closed generator, and closing again is fine. */
    int fds0 = st_test_count_fds();
    it = st_glob_iglob_at(dfd, NULL, "**/f000.c", ST_GLOB_RECURSIVE);
    assert_non_null(it);
    for (int k = 0; k < 30; k++)
        assert_int_equal(st_glob_iterator_next(it, &s), 1);
    if (fds0 >= 0)
        assert_true(st_test_count_fds() >= fds0 + 30); /* one per directory on the way down */
    st_glob_iterator_close(it);
    if (fds0 >= 0)
        assert_int_equal(st_test_count_fds(), fds0);
    assert_int_equal(st_glob_iterator_next(it, &s), 0);
    assert_null(s);
    st_glob_iterator_close(it);
    assert_int_equal(st_glob_iterator_next(it, &s), 0);
    st_glob_iterator_free(it);
    /* Closed before the first next(): nothing is ever read. */
    it = st_glob_iglob_at(dfd, NULL, "**", ST_GLOB_RECURSIVE);
    assert_non_null(it);
    st_glob_iterator_close(it);
    assert_int_equal(st_glob_iterator_next(it, &s), 0);
    st_glob_iterator_free(it);
    const char **all = st_glob_at(dfd, NULL, "**", ST_GLOB_RECURSIVE);
    assert_int_equal(st_strv_len(all), (size_t)(depth * width + depth));
    st_strv_free(all);
    close(dfd);
    char *cmd = st__asprintf("rm -rf '%s'", base);
    assert_int_equal(system(cmd), 0);
    st_free(cmd);
}

/* Running out of memory in the middle of a listing: next() returns -1 with MemoryError, not 0
 * as at the end, and the iterator is finished afterwards. A child process lowers its address
 * space limit just above what it uses, then lists a directory whose names need a megabyte.
 * (Not under ASan or TSan, whose allocators need the address space.) */
static void test_error_is_not_the_end(void **state)
{
    (void)state;
#if defined(UNDER_ASAN) || defined(UNDER_TSAN) || !defined(__linux__)
    /* A sanitizer's allocator runs out of the limited address space before the library does. */
    skip();
#else
    /* qemu-user keeps RLIMIT_AS for itself (the guest's setrlimit does not reach the host). */
    ST_TEST_SKIP_UNDER_EMULATION("an address space limit is not enforced on the guest");
    char base[] = "/tmp/st_test_iglob_nomem_XXXXXX";
    assert_non_null(mkdtemp(base));
    char name[241];
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    for (int k = 0; k < 4000; k++) {
        char *fpath = st__asprintf("%s/%04d%s", base, k, name + 4);
        int fd = open(fpath, O_WRONLY | O_CREAT, 0644);
        assert_true(fd >= 0);
        close(fd);
        st_free(fpath);
    }
    int dfd = open(base, O_RDONLY | O_DIRECTORY);
    assert_true(dfd >= 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        st_glob_iterator *it = st_glob_iglob_at(dfd, NULL, "*", 0);
        if (!it)
            _exit(2);
        FILE *statm = fopen("/proc/self/statm", "r");
        unsigned long pages = 0;
        if (!statm || fscanf(statm, "%lu", &pages) != 1)
            _exit(3);
        fclose(statm);
        struct rlimit lim;
        lim.rlim_cur = lim.rlim_max = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + 64 * 1024;
        if (setrlimit(RLIMIT_AS, &lim) < 0)
            _exit(4);
        const char *p = "stale";
        int rc = st_glob_iterator_next(it, &p);
        if (rc != -1 || p != NULL)
            _exit(5);
        if (st_error_code() != ST_ENOMEM)
            _exit(6);
        if (st_glob_iterator_next(it, &p) != 0) /* a generator that raised is finished */
            _exit(7);
        st_glob_iterator_free(it);
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    close(dfd);
    char *cmd = st__asprintf("rm -rf '%s'", base);
    assert_int_equal(system(cmd), 0);
    st_free(cmd);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
#endif
}

/* A directory whose reading fails once it is open (EIO, or EOVERFLOW from a 32-bit readdir
 * without large-file support) stops globbing with the error: never a shorter listing. */
static void test_read_error_is_reported(void **state)
{
    (void)state;
    char base[] = "/tmp/st_test_glob_readerr_XXXXXX";
    assert_non_null(mkdtemp(base));
    char *file = st__asprintf("%s/a", base);
    st_test_write_file(file, "", 0);
    char *pat = st__asprintf("%s/*", base);
    const char **v = st_glob(pat, 0);
    assert_non_null(v);
    assert_int_equal(st_strv_len(v), 1);
    st_strv_free(v);
    st__dir_inject_error(0, EOVERFLOW);
    assert_null(st_glob(pat, 0));
    assert_int_equal(st_error_code(), ST_EOS);
    assert_int_equal(st_error_errno(), EOVERFLOW);
    st__dir_inject_error(1, EIO); /* part way: the first read worked */
    st_glob_iterator *it = st_glob_iglob(pat, ST_GLOB_RECURSIVE);
    assert_non_null(it);
    const char *p;
    assert_int_equal(st_glob_iterator_next(it, &p), -1);
    assert_int_equal(st_error_errno(), EIO);
    assert_int_equal(st_glob_iterator_next(it, &p), 0); /* a generator that raised is over */
    st_glob_iterator_free(it);
    st__dir_inject_error(0, 0);
    unlink(file);
    rmdir(base);
    st_free(file);
    st_free(pat);
}

/* glob.glob with names that are not UTF-8: a list of str as CPython 3.13 gives it (pickled). */
static void test_glob_value(void **state)
{
    (void)state;
    char dir[] = "/tmp/st_test_globv_XXXXXX";
    assert_non_null(mkdtemp(dir));
    static const char *const names[] = {"a.txt", "\xff.txt", "caf\xc3\xa9.txt", "skip.dat", NULL};
    char path[256], pattern[256];
    for (size_t i = 0; names[i]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        st_test_write_file(path, "", 0);
    }
    snprintf(pattern, sizeof pattern, "%s/*.txt", dir);
    st_value *got = st_glob_value(pattern, 0);
    assert_non_null(got);
    assert_int_equal(st_value_len(got), 3);
    const char *const args[] = {pattern, NULL};
    char *want = st_test_python_args("import glob, pickle, sys; print(pickle.dumps(sorted(glob.glob(sys.argv[1])), 5).hex())", args);
    if (want) {
        char *hex = st_test_pickle_hex(got, 5);
        assert_string_equal(hex, want);
        free(hex);
        free(want);
    }
    st_value_unref(got);
    for (size_t i = 0; names[i]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_escape_and_magic),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_streaming),
        cmocka_unit_test(test_error_is_not_the_end),
        cmocka_unit_test(test_read_error_is_reported),
        cmocka_unit_test(test_glob_value),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
