/* sys: argv, executable, platform facts checked against CPython 3.13, sys.path editing and
 * lookup, sys.modules, exc_info and exit. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "internal/sys.h"
#include "support/support.h"
#include "systools/systools.h"

static char *g_prog;

static void test_argv_is_a_copy(void **state)
{
    (void)state;
    char a0[] = "prog", a1[] = "-i", a2[] = "data.txt";
    char *argv[] = {a0, a1, a2, NULL};
    assert_int_equal(st_sys_init(3, argv), 0);
    a1[1] = 'X'; /* the caller's strings may change afterwards */
    argv[2] = NULL;
    const char *const *v = st_sys_argv();
    assert_int_equal(st_strv_len(v), 3);
    assert_string_equal(v[0], "prog");
    assert_string_equal(v[1], "-i");
    assert_string_equal(v[2], "data.txt");
    assert_int_equal(st_sys_init(-1, argv), -1);
    assert_int_equal(st_error_code(), ST_EVALUE);
    assert_int_equal(st_sys_init(1, NULL), -1);
    assert_int_equal(st_sys_init(0, NULL), 0);
    assert_int_equal(st_strv_len(st_sys_argv()), 0);
}

/* Runs child() in a forked process with its stdout on a pipe; returns its wait status, and
 * what it wrote in buf (NUL-terminated). */
static int run_child(void (*child)(void), char *buf, size_t size)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], 1);
        child();
        _exit(errno == ENOEXEC ? 126 : 127);
    }
    close(fds[1]);
    size_t len = 0;
    ssize_t n;
    while ((n = read(fds[0], buf + len, size - 1 - len)) > 0)
        len += (size_t)n;
    buf[len] = '\0';
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    /* qemu-user without binfmt_misc: the kernel cannot run this program (not the library). */
    if (WIFEXITED(status) && WEXITSTATUS(status) == 126 && st_test_emulator()) {
        print_message("[  SKIP    ] under %s: the kernel cannot exec the test program itself "
                      "(no binfmt_misc)\n", st_test_emulator());
        skip();
    }
    return status;
}

static void print_argv_child(void)
{
    execl(g_prog, "argv-child", "--print-argv", "two words", (char *)NULL);
}

static void test_argv_without_init(void **state)
{
    (void)state;
    /* A child that never calls st_sys_init() still sees its argv (from /proc/self/cmdline). */
    char buf[256];
    int status = run_child(print_argv_child, buf, sizeof buf);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
#if defined(__linux__)
    assert_string_equal(buf, "argv-child|--print-argv|two words|\n");
#endif
}

static void test_executable(void **state)
{
    (void)state;
    const char *exe = st_sys_executable();
    assert_true(exe[0] == '/');
    char *real = realpath(g_prog, NULL);
    assert_non_null(real);
    assert_string_equal(exe, real);
    free(real);
    assert_ptr_equal(st_sys_executable(), exe); /* computed once */
}

static void test_platform_facts(void **state)
{
    (void)state;
    /* This machine's byte order, as it stores a number (a cross target's is not the host's). */
    const uint16_t one = 1;
    assert_string_equal(st_sys_byteorder(), *(const unsigned char *)&one ? "little" : "big");
    assert_true(st_sys_maxsize() == (ssize_t)(SIZE_MAX / 2));
    assert_true(strncmp(st_sys_version(), ST_VERSION_STRING " (libsystools) [", strlen(ST_VERSION_STRING) + 15) == 0);
    char *py = pyref_eval("import sys; print(sys.platform, sys.byteorder, sys.maxsize, sys.getfilesystemencoding())");
    if (!py)
        return;
    char want[256];
    snprintf(want, sizeof want, "%s %s %zd %s", st_sys_platform(), st_sys_byteorder(), st_sys_maxsize(),
             st_sys_getfilesystemencoding());
    assert_string_equal(want, py);
    free(py);
}

static void print_fsencoding_child(void)
{
    setenv("LC_ALL", "C", 1);
    execl(g_prog, g_prog, "--print-fsencoding", (char *)NULL);
}

static void test_fsencoding_follows_locale(void **state)
{
    (void)state;
    /* A child with the C locale: Python's UTF-8 mode answers "utf-8" there, and so must we. */
    char ours[64];
    int status = run_child(print_fsencoding_child, ours, sizeof ours);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_string_equal(ours, "utf-8\n");
    const char *py = pyref_python();
    if (!py)
        return;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "LC_ALL=C '%s' -c 'import sys; print(sys.getfilesystemencoding())'", py);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    char theirs[64] = "";
    assert_non_null(fgets(theirs, sizeof theirs, f));
    pclose(f);
    assert_string_equal(ours, theirs);
}

static void assert_path(const char *const *want, size_t n)
{
    const char **v = st_sys_path();
    assert_non_null(v);
    assert_int_equal(st_strv_len(v), n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(v[i], want[i]);
    st_strv_free(v);
}

static void test_path_initial(void **state)
{
    (void)state;
    char *dir = strdup(st_sys_executable());
    *strrchr(dir, '/') = '\0';
    setenv("SYSTOOLS_PATH", "/opt/a::relative/b:", 1);
    char *argv[] = {g_prog, NULL};
    assert_int_equal(st_sys_init(1, argv), 0);
    const char *want[] = {dir, "/opt/a", "relative/b"};
    assert_path(want, 3);
    unsetenv("SYSTOOLS_PATH");
    assert_int_equal(st_sys_init(1, argv), 0);
    assert_path(want, 1);
    free(dir);
}

static void test_path_edit_like_list(void **state)
{
    (void)state;
    char *argv[] = {g_prog, NULL};
    assert_int_equal(st_sys_init(1, argv), 0);
    const char **v = st_sys_path();
    char *d = strdup(v[0]);
    st_strv_free(v);
    /* Python: p = [d]; p.insert(-1, 'x'); p.insert(-10, 'front'); p.insert(10, 'end');
     *         p.append('last'); p.insert(2, 'mid') -> ['front', 'x', 'mid', d, 'end', 'last'] */
    assert_int_equal(st_sys_path_insert(-1, "x"), 0);
    assert_int_equal(st_sys_path_insert(-10, "front"), 0);
    assert_int_equal(st_sys_path_insert(10, "end"), 0);
    assert_int_equal(st_sys_path_append("last"), 0);
    assert_int_equal(st_sys_path_insert(2, "mid"), 0);
    const char *want[] = {"front", "x", "mid", d, "end", "last"};
    assert_path(want, 6);
    assert_int_equal(st_sys_path_remove("mid"), 0);
    assert_int_equal(st_sys_path_remove("mid"), -1);
    assert_int_equal(st_error_code(), ST_EVALUE);
    assert_string_equal(st_error_message(), "list.remove(x): x not in list");
    assert_string_equal(st_error_last()->type, "ValueError");
    assert_int_equal(st_sys_path_append(NULL), -1);
    const char *want2[] = {"front", "x", d, "end", "last"};
    assert_path(want2, 5);
    free(d);
}

static void test_path_find(void **state)
{
    (void)state;
    char tmpl[] = "/tmp/st_sys_XXXXXX";
    char *root = mkdtemp(tmpl);
    assert_non_null(root);
    char a[256], b[256], fa[300], fb[300], fsub[300];
    snprintf(a, sizeof a, "%s/a", root);
    snprintf(b, sizeof b, "%s/b/", root);
    mkdir(a, 0700);
    mkdir(b, 0700);
    snprintf(fb, sizeof fb, "%sdata.txt", b);
    snprintf(fa, sizeof fa, "%s/only-a.txt", a);
    snprintf(fsub, sizeof fsub, "%s/sub", a);
    mkdir(fsub, 0700);
    close(open(fb, O_CREAT | O_WRONLY, 0600));
    close(open(fa, O_CREAT | O_WRONLY, 0600));

    char *argv[] = {g_prog, NULL};
    assert_int_equal(st_sys_init(1, argv), 0);
    assert_int_equal(st_sys_path_append(a), 0);
    assert_int_equal(st_sys_path_append(b), 0); /* trailing slash: no doubled separator */
    char *p = st_sys_path_find("data.txt");
    assert_non_null(p);
    assert_string_equal(p, fb);
    st_free(p);
    p = st_sys_path_find("only-a.txt");
    assert_string_equal(p, fa);
    st_free(p);
    p = st_sys_path_find("sub"); /* directories count, as os.path.exists says */
    assert_string_equal(p, fsub);
    st_free(p);
    p = st_sys_path_find(fa); /* absolute names stand for themselves */
    assert_string_equal(p, fa);
    st_free(p);

    assert_null(st_sys_path_find("missing.txt"));
    assert_int_equal(st_error_code(), ST_EOS);
    assert_int_equal(st_error_errno(), ENOENT);
    assert_string_equal(st_error_last()->type, "FileNotFoundError");
    assert_string_equal(st_error_message(), "cannot find 'missing.txt' on sys.path: No such file or directory");
    assert_null(st_sys_path_find(""));
    assert_int_equal(st_error_code(), ST_EVALUE);

    /* "" is the working directory. */
    char *cwd = getcwd(NULL, 0);
    assert_int_equal(chdir(a), 0);
    assert_int_equal(st_sys_path_insert(0, ""), 0);
    p = st_sys_path_find("only-a.txt");
    assert_string_equal(p, "only-a.txt");
    st_free(p);
    assert_int_equal(chdir(cwd), 0);
    free(cwd);

    unlink(fa);
    unlink(fb);
    rmdir(fsub);
    rmdir(a);
    rmdir(b);
    rmdir(root);
}

static void test_path_parse(void **state)
{
    (void)state;
    st__strv sv = ST__STRV_INIT;
    assert_int_equal(st__sys_path_parse("::x:/y::z:", &sv), 0);
    assert_int_equal(sv.len, 3);
    assert_string_equal(sv.v[0], "x");
    assert_string_equal(sv.v[1], "/y");
    assert_string_equal(sv.v[2], "z");
    assert_int_equal(st__sys_path_parse(NULL, &sv), 0);
    assert_int_equal(sv.len, 3);
    st__strv_free(&sv);
}

static void test_modules(void **state)
{
    (void)state;
    size_t n = 0;
    st_sys_module *m = st_sys_modules(&n);
    assert_non_null(m);
    /* A static program (the musl preset) is its only module; a dynamic one has a loader
     * (AT_BASE) and its libraries too. */
    const int dynamic = getauxval(AT_BASE) != 0;
    assert_true(n >= (dynamic ? 2u : 1u));
    assert_null(m[n].name);
    assert_string_equal(m[0].path, st_sys_executable()); /* the program comes first */
    assert_string_equal(m[0].name, "test_sys");
    int saw_libc = 0, saw_cmocka = 0;
    for (size_t i = 0; i < n; i++) {
        saw_libc |= strncmp(m[i].name, "libc.so", 7) == 0;
        saw_cmocka |= strncmp(m[i].name, "libcmocka.so", 12) == 0;
    }
    assert_true(saw_cmocka == dynamic);
#if defined(__GLIBC__)
    assert_true(saw_libc == dynamic);
    if (dynamic) {
        st_sys_module *c = st_sys_modules_get("libc");
        assert_non_null(c);
        assert_string_equal(c->name, "libc.so.6");
        assert_true(c->base != 0);
        assert_null(c[1].name);
        st_sys_module *c2 = st_sys_modules_get("libc.so");
        assert_non_null(c2);
        assert_string_equal(c2->path, c->path);
        st_sys_module *c3 = st_sys_modules_get(c->path);
        assert_non_null(c3);
        assert_int_equal(c3->base, c->base);
        st_free(c);
        st_free(c2);
        st_free(c3);
    }
#endif
    assert_null(st_sys_modules_get("libc.s")); /* a partial name is not a match */
    assert_null(st_sys_modules_get("no-such-object"));
    assert_int_equal(st_error_code(), ST_EKEY);
    assert_string_equal(st_error_message(), "'no-such-object'");
    assert_string_equal(st_sys_exc_info().type, "KeyError");
    st_free(m);
}

static void exit_buffered_child(void)
{
    setvbuf(stdout, NULL, _IOFBF, 4096);
    fputs("buffered, no newline", stdout);
    st_sys_exit(3);
}

static void test_exit_flushes(void **state)
{
    (void)state;
    char buf[64];
    int status = run_child(exit_buffered_child, buf, sizeof buf);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 3);
    assert_string_equal(buf, "buffered, no newline");
}

/* sys.argv as Python has it: an argument b'\xff' is '\udcff', and pickling the list gives
 * CPython's bytes (a CPython child run with the same raw arguments). */
static void test_argv_value(void **state)
{
    (void)state;
    char a0[] = "prog", a1[] = "\xff", a2[] = "caf\xc3\xa9", a3[] = "two words", a4[] = "\xe2\x82";
    char *argv[] = {a0, a1, a2, a3, a4, NULL};
    assert_int_equal(st_sys_init(5, argv), 0);
    st_value *v = st_sys_argv_value();
    assert_non_null(v);
    char *r = st_value_repr(v);
    assert_string_equal(r, "['prog', '\\udcff', 'caf\xc3\xa9', 'two words', '\\udce2\\udc82']");
    st_free(r);
    assert_int_equal(st_value_list_delete(v, 0), 0); /* argv[0] differs from Python's -c */
    const char *const args[] = {a1, a2, a3, a4, NULL};
    for (int protocol = 0; protocol <= 5; protocol += 5) {
        char code[128];
        snprintf(code, sizeof code, "import pickle, sys; print(pickle.dumps(sys.argv[1:], %d).hex())",
                 protocol);
        char *want = st_test_python_args(code, args);
        if (want) {
            char *got = st_test_pickle_hex(v, protocol);
            assert_string_equal(got, want);
            free(got);
            free(want);
        }
    }
    st_value_unref(v);
    assert_int_equal(st_sys_init(0, NULL), 0);
}

int main(int argc, char **argv)
{
    g_prog = argv[0];
    /* Child modes used by the tests above. */
    if (argc > 1 && !strcmp(argv[1], "--print-argv")) {
        for (const char *const *v = st_sys_argv(); *v; v++)
            printf("%s|", *v);
        printf("\n");
        return 0;
    }
    if (argc > 1 && !strcmp(argv[1], "--print-fsencoding")) {
        printf("%s\n", st_sys_getfilesystemencoding());
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_argv_is_a_copy),
        cmocka_unit_test(test_argv_without_init),
        cmocka_unit_test(test_executable),
        cmocka_unit_test(test_platform_facts),
        cmocka_unit_test(test_fsencoding_follows_locale),
        cmocka_unit_test(test_path_initial),
        cmocka_unit_test(test_path_edit_like_list),
        cmocka_unit_test(test_path_find),
        cmocka_unit_test(test_path_parse),
        cmocka_unit_test(test_modules),
        cmocka_unit_test(test_exit_flushes),
        cmocka_unit_test(test_argv_value),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
