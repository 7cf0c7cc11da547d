/* os: environment, process facts, descriptors, files, stat, listdir/scandir, walk/fwalk (compared
 * with CPython's os.walk live, and with committed listings), locks and process primitives. Every
 * test works inside a fresh temporary directory, which is also the working directory. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "internal/exec.h"
#include "internal/mem.h"
#include "internal/os.h"
#include "internal/posix.h"
#include "support/support.h"
#include "systools/systools.h"

static char *g_tmp;  /* the current test's directory */
static char *g_home; /* the working directory before the tests */

/* ---- helpers ------------------------------------------------------------------------------- */

/* Writes text (a string) to path. */
static void write_file(const char *path, const char *text)
{
    st_test_write_file(path, text, strlen(text));
}

static void assert_os_error(int err, const char *type, const char *needle)
{
    assert_int_equal(st_error_code(), ST_EOS);
    assert_int_equal(st_error_errno(), err);
    assert_string_equal(st_error_last()->type, type);
    if (needle && !strstr(st_error_message(), needle))
        fail_msg("message '%s' does not mention '%s'", st_error_message(), needle);
}

/* Removes a tree bottom-up with fwalk: the descriptor-relative unlinkat() is the race-free way. */
static void rmtree(const char *top)
{
    st_os_walk_options o = ST_OS_WALK_OPTIONS_INIT;
    o.bottomup = 1;
    st_os_walk_iterator *w = st_os_fwalk(top, &o);
    assert_non_null(w);
    st_os_walk_step *s;
    int rc;
    while ((rc = st_os_walk_iterator_next(w, &s)) > 0) {
        for (size_t i = 0; i < s->nfilenames; i++)
            assert_int_equal(unlinkat(s->dirfd, s->filenames[i], 0), 0);
        for (size_t i = 0; i < s->ndirnames; i++) {
            struct stat st;
            assert_int_equal(fstatat(s->dirfd, s->dirnames[i], &st, AT_SYMLINK_NOFOLLOW), 0);
            assert_int_equal(unlinkat(s->dirfd, s->dirnames[i], S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0), 0);
        }
    }
    assert_int_equal(rc, 0);
    st_os_walk_iterator_free(w);
    assert_int_equal(rmdir(top), 0);
}

static int setup(void **state)
{
    (void)state;
    char tmpl[] = "/tmp/st_os_XXXXXX";
    if (!mkdtemp(tmpl))
        return -1;
    g_tmp = strdup(tmpl);
    return chdir(g_tmp);
}

static int teardown(void **state)
{
    (void)state;
    if (chdir(g_home) < 0)
        return -1;
    rmtree(g_tmp);
    free(g_tmp);
    g_tmp = NULL;
    return 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int is_root(const char *what)
{
    if (geteuid() != 0)
        return 0;
    printf("[  SKIP    ] %s: running as root, which bypasses permissions\n", what);
    return 1;
}

/* ---- environment ---------------------------------------------------------------------------- */

static void test_environ(void **state)
{
    (void)state;
    assert_int_equal(st_os_setenv("ST_OS_TEST", "one two"), 0);
    char *v = st_os_getenv("ST_OS_TEST", NULL);
    assert_string_equal(v, "one two");
    st_free(v);
    assert_true(st_os_environ_contains("ST_OS_TEST"));
    const char **env = st_os_environ();
    int found = 0;
    for (size_t i = 0; env[i]; i++)
        found += !strcmp(env[i], "ST_OS_TEST=one two");
    assert_int_equal(found, 1);
    st_strv_free(env);

    /* Visible to a child the library starts. */
    st_os_popen_file *p = st_os_popen("printf %s \"$ST_OS_TEST\"", "r");
    assert_non_null(p);
    char buf[64] = "";
    assert_non_null(fgets(buf, sizeof buf, st_os_popen_file_stream(p)));
    assert_string_equal(buf, "one two");
    int status = -1;
    assert_int_equal(st_os_popen_file_close(p, &status), 0);
    assert_int_equal(status, 0);
    st_os_popen_file_free(p);

    assert_int_equal(st_os_unsetenv("ST_OS_TEST"), 0);
    assert_int_equal(st_os_unsetenv("ST_OS_TEST"), 0); /* absent is fine, as os.unsetenv */
    assert_false(st_os_environ_contains("ST_OS_TEST"));
    assert_null(st_os_getenv("ST_OS_TEST", NULL));
    assert_int_equal(st_error_code(), ST_EKEY);
    assert_string_equal(st_error_message(), "'ST_OS_TEST'");
    v = st_os_getenv("ST_OS_TEST", "dflt");
    assert_string_equal(v, "dflt");
    st_free(v);

    /* Python: '=' is a ValueError, an empty name the C library's EINVAL. */
    assert_int_equal(st_os_setenv("A=B", "x"), -1);
    assert_int_equal(st_error_code(), ST_EVALUE);
    assert_string_equal(st_error_message(), "illegal environment variable name");
    assert_int_equal(st_os_setenv("", "x"), -1);
    assert_os_error(EINVAL, "OSError", NULL);
    assert_int_equal(st_os_unsetenv("A=B"), -1);
    assert_os_error(EINVAL, "OSError", NULL);
}

/* ---- process facts --------------------------------------------------------------------------- */

static void test_process_facts(void **state)
{
    (void)state;
    assert_int_equal(st_os_getpid(), getpid());
    assert_int_equal(st_os_getppid(), getppid());
    assert_int_equal(st_os_getuid(), getuid());
    assert_int_equal(st_os_geteuid(), geteuid());
    assert_int_equal(st_os_getgid(), getgid());
    assert_int_equal(st_os_getegid(), getegid());
    mode_t old = st_os_umask(027);
    assert_int_equal(st_os_umask(old), 027);

    char *login = st_os_getlogin();
    if (!login)
        assert_int_equal(st_error_code(), ST_EOS); /* no controlling terminal under ctest */
    st_free(login);

    st_os_uname_result *u = st_os_uname();
    assert_non_null(u);
    assert_true(st_os_cpu_count() >= 1);
    assert_true(st_os_process_cpu_count() >= 1 && st_os_process_cpu_count() <= st_os_cpu_count());
    struct utsname un;
    assert_int_equal(uname(&un), 0); /* this machine's, as an emulator reports it */
    assert_string_equal(u->sysname, un.sysname);
    assert_string_equal(u->machine, un.machine);
    /* The text is the C library's (glibc "Unknown error 12345", musl "No error information"),
     * which the host's CPython need not share: compared with this program's own strerror. */
    char *e2 = st_os_strerror(ENOENT), *eu = st_os_strerror(12345);
    assert_string_equal(e2, strerror(ENOENT));
    assert_string_equal(eu, strerror(12345));
    char *py = pyref_eval("import os; u = os.uname(); print(u.sysname, u.nodename, u.release, u.machine, "
                          "os.cpu_count(), os.process_cpu_count(), sep='|')");
    if (py) {
        char want[1024];
        snprintf(want, sizeof want, "%s|%s|%s|%s|%d|%d", u->sysname, u->nodename, u->release, u->machine,
                 st_os_cpu_count(), st_os_process_cpu_count());
        assert_string_equal(want, py);
        free(py);
    }
    st_free(u);
    st_free(e2);
    st_free(eu);

    unsigned char r1[32] = {0}, r2[32] = {0};
    assert_int_equal(st_os_urandom(r1, sizeof r1), 0);
    assert_int_equal(st_os_urandom(r2, sizeof r2), 0);
    assert_memory_not_equal(r1, r2, sizeof r1);

    int fds[2], cols = -7, lines = -7;
    assert_int_equal(st_os_pipe(fds), 0);
    assert_int_equal(st_os_get_terminal_size(fds[0], &cols, &lines), -1);
    assert_os_error(ENOTTY, "OSError", NULL);
    assert_true(cols == -7 && lines == -7); /* not written on failure */
    st_os_close(fds[0]);
    st_os_close(fds[1]);

    /* A pseudo-terminal with a known size. */
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master >= 0 && grantpt(master) == 0 && unlockpt(master) == 0) {
        struct winsize ws = {.ws_row = 42, .ws_col = 123};
        assert_int_equal(ioctl(master, TIOCSWINSZ, &ws), 0);
        int slave = open(ptsname(master), O_RDWR | O_NOCTTY);
        assert_true(slave >= 0);
        assert_int_equal(st_os_get_terminal_size(slave, &cols, &lines), 0);
        assert_int_equal(cols, 123);
        assert_int_equal(lines, 42);
        close(slave);
    } else {
        printf("[  SKIP    ] get_terminal_size on a pty: no pseudo-terminals here\n");
    }
    if (master >= 0)
        close(master);

    int before, after;
    assert_int_equal(st_os_nice(0, &before), 0);
    assert_int_equal(st_os_nice(0, &after), 0);
    assert_int_equal(before, after);
}

static void test_cwd_any_length(void **state)
{
    (void)state;
    /* Build a working directory deeper than PATH_MAX one component at a time, asking at each
     * depth. os.getcwd is the C library's getcwd with a growing buffer, so the answer is this
     * machine's C library's: beyond PATH_MAX glibc walks up the tree, musl has only the
     * kernel's getcwd (ENAMETOOLONG past a page), and under qemu-user the walk up to "/" (which
     * -L maps to the sysroot) fails with ENOENT. */
    const char *comp = "a-fairly-long-directory-name-for-the-getcwd-test-0123456789";
    size_t depth = PATH_MAX / strlen(comp) + 8;
    int top = open(".", O_RDONLY | O_DIRECTORY);
    size_t longest = 0;
    for (size_t i = 0; i < depth; i++) {
        assert_int_equal(st_os_mkdir(comp, 0755), 0);
        assert_int_equal(st_os_chdir(comp), 0);
        errno = 0;
        char *libc = getcwd(NULL, 0);
        int libc_errno = errno;
        char *cwd = st_os_getcwd();
        if (libc) {
            assert_non_null(cwd);
            assert_string_equal(cwd, libc);
            longest = strlen(cwd);
        } else {
            assert_null(cwd);
            assert_int_equal(st_error_code(), ST_EOS);
            assert_int_equal(st_error_errno(), libc_errno);
        }
        free(libc);
        st_free(cwd);
    }
    assert_true(longest > 256); /* beyond the first buffer */
#if defined(__GLIBC__)
    if (!st_test_emulator())
        assert_true(longest > PATH_MAX); /* glibc walks up: any length */
#endif
    assert_int_equal(st_os_fchdir(top), 0);
    close(top);
    assert_int_equal(st_os_chdir("no-such-dir"), -1);
    assert_os_error(ENOENT, "FileNotFoundError", "'no-such-dir'");
    /* teardown's fwalk removes the deep chain (paths far beyond PATH_MAX). */
}

/* ---- descriptors ---------------------------------------------------------------------------- */

static void test_descriptors(void **state)
{
    (void)state;
    int fd = st_os_open("f.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(st_os_get_inheritable(fd), 0); /* O_CLOEXEC by default */
    assert_int_equal(st_os_write(fd, "hello world", 11), 0);
    assert_int_equal(st_os_fsync(fd), 0);
    assert_int_equal(st_os_ftruncate(fd, 5), 0);
    st_os_stat_result st;
    assert_int_equal(st_os_fstat(fd, &st), 0);
    assert_int_equal(st.st_size, 5);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st_os_close(fd), 0);
    assert_int_equal(st_os_close(fd), -1);
    assert_os_error(EBADF, "OSError", NULL);

    fd = st_os_open("f.txt", O_RDONLY, 0);
    char buf[16];
    assert_int_equal(st_os_read(fd, buf, 3), 3);
    assert_memory_equal(buf, "hel", 3);
    int64_t pos = -5;
    assert_int_equal(st_os_lseek(fd, 0, SEEK_CUR, &pos), 0);
    assert_int_equal(pos, 3);
    assert_int_equal(st_os_lseek(fd, 1, SEEK_SET, &pos), 0);
    assert_int_equal(pos, 1);
    assert_int_equal(st_os_read(fd, buf, sizeof buf), 4);
    assert_int_equal(st_os_read(fd, buf, sizeof buf), 0);
    assert_int_equal(st_os_lseek(fd, -2, SEEK_END, NULL), 0); /* the position is optional */
    assert_int_equal(st_os_read(fd, buf, sizeof buf), 2);
    pos = 77;
    assert_int_equal(st_os_lseek(fd, -1, SEEK_SET, &pos), -1);
    assert_os_error(EINVAL, "OSError", NULL);
    assert_int_equal(pos, 77); /* not written on failure */

    int d = st_os_dup(fd);
    assert_true(d >= 0 && d != fd);
    assert_int_equal(st_os_get_inheritable(d), 0);
    assert_int_equal(st_os_dup2(fd, d, 1), d);
    assert_int_equal(st_os_get_inheritable(d), 1);
    assert_int_equal(st_os_dup2(fd, d, 0), d);
    assert_int_equal(st_os_get_inheritable(d), 0);
    assert_int_equal(st_os_dup2(d, d, 1), d); /* Python allows fd == fd2 */
    assert_int_equal(st_os_set_inheritable(d, 1), 0);
    assert_int_equal(st_os_get_inheritable(d), 1);
    assert_int_equal(st_os_get_blocking(d), 1);
    st_os_close(d);
    assert_int_equal(st_os_dup(d), -1);
    assert_os_error(EBADF, "OSError", NULL);

    /* fdopen: Python's mode rules, and the stream owns the descriptor. */
    const char *bad[][2] = {{"rw", "must have exactly one of create/read/write/append mode"},
                            {"rr", "invalid mode: 'rr'"},
                            {"rbt", "can't have text and binary mode at once"},
                            {"", "Must have exactly one of create/read/write/append mode and at most one plus"},
                            {"b+", "Must have exactly one of create/read/write/append mode and at most one plus"},
                            {"rq", "invalid mode: 'rq'"}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_null(st_os_fdopen(fd, bad[i][0]));
        assert_int_equal(st_error_code(), ST_EVALUE);
        assert_string_equal(st_error_message(), bad[i][1]);
    }
    assert_int_equal(st_os_lseek(fd, 0, SEEK_SET, NULL), 0);
    FILE *f = st_os_fdopen(fd, "rb");
    assert_non_null(f);
    assert_non_null(fgets(buf, sizeof buf, f));
    assert_string_equal(buf, "hello");
    fclose(f);
    f = st_os_fdopen(st_os_open("f.txt", O_WRONLY, 0), "x");
    assert_non_null(f);
    fclose(f);

    assert_int_equal(st_os_open("missing/f.txt", O_RDONLY, 0), -1);
    assert_os_error(ENOENT, "FileNotFoundError", "'missing/f.txt'");
    assert_int_equal(st_os_open("f.txt", O_WRONLY | O_CREAT | O_EXCL, 0644), -1);
    assert_os_error(EEXIST, "FileExistsError", "'f.txt'");
}

static void test_pipe_and_read_all(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(st_os_pipe(fds), 0);
    assert_int_equal(st_os_get_inheritable(fds[0]), 0);
    assert_int_equal(st_os_get_inheritable(fds[1]), 0);
    /* More than a pipe holds, written by a child in odd-sized chunks. */
    size_t total = 300000;
    pid_t pid = st_os_fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        char chunk[777];
        for (size_t i = 0; i < sizeof chunk; i++)
            chunk[i] = (char)('a' + i % 26);
        for (size_t sent = 0; sent < total; sent += sizeof chunk) {
            size_t n = total - sent < sizeof chunk ? total - sent : sizeof chunk;
            if (st_os_write(fds[1], chunk, n) < 0)
                st_os__exit(1);
        }
        st_os__exit(0);
    }
    st_os_close(fds[1]);
    size_t len = 0;
    char *all = st_os_read_all(fds[0], &len);
    assert_non_null(all);
    assert_int_equal(len, total);
    assert_int_equal(all[776], (char)('a' + 776 % 26));
    assert_int_equal(all[len], '\0');
    st_free(all);
    st_os_close(fds[0]);
    int status, code;
    assert_int_equal(st_os_waitpid(pid, &status, 0), pid);
    assert_int_equal(st_os_waitstatus_to_exitcode(status, &code), 0);
    assert_int_equal(code, 0);

    assert_int_equal(st_os_pipe(fds), 0);
    assert_int_equal(st_os_set_blocking(fds[0], 0), 0);
    assert_int_equal(st_os_get_blocking(fds[0]), 0);
    char c;
    assert_int_equal(st_os_read(fds[0], &c, 1), -1);
    assert_os_error(EAGAIN, "BlockingIOError", NULL);
    assert_int_equal(st_os_set_blocking(fds[0], 1), 0);
    assert_int_equal(st_os_get_blocking(fds[0]), 1);
    st_os_close(fds[0]);
    st_os_close(fds[1]);

    assert_int_equal(st_os_mkfifo("fifo", 0600), 0);
    st_os_stat_result st;
    assert_int_equal(st_os_stat("fifo", &st), 0);
    assert_true(S_ISFIFO(st.st_mode));
    assert_int_equal(st_os_mkfifo("fifo", 0600), -1);
    assert_os_error(EEXIST, "FileExistsError", "'fifo'");
}

/* ---- files ---------------------------------------------------------------------------------- */

static void test_stat_against_python(void **state)
{
    (void)state;
    write_file("s.txt", "12345678");
    int64_t ns[2] = {1000000000LL * 1234567 + 891, -1500000000LL}; /* negative: floor division */
    assert_int_equal(st_os_utime("s.txt", ns), 0);
    st_os_stat_result st, lst;
    assert_int_equal(st_os_stat("s.txt", &st), 0);
    assert_int_equal(st.st_size, 8);
    assert_int_equal(st.st_mtime_ns, -1500000000LL);
    assert_int_equal(st_os_symlink("s.txt", "ln"), 0);
    assert_int_equal(st_os_lstat("ln", &lst), 0);
    assert_true(S_ISLNK(lst.st_mode));
    assert_int_equal(st_os_stat("ln", &lst), 0);
    assert_int_equal(lst.st_ino, st.st_ino);
    char *py = pyref_eval("import os; s = os.stat(\"s.txt\"); print(s.st_mode, s.st_ino, s.st_dev, s.st_nlink, "
                          "s.st_uid, s.st_gid, s.st_size, s.st_atime_ns, s.st_mtime_ns, s.st_ctime_ns, "
                          "s.st_blocks, s.st_blksize, s.st_rdev)");
    if (py) {
        char want[512];
        snprintf(want, sizeof want, "%u %llu %llu %llu %u %u %lld %lld %lld %lld %lld %lld %llu", st.st_mode,
                 (unsigned long long)st.st_ino, (unsigned long long)st.st_dev, (unsigned long long)st.st_nlink,
                 st.st_uid, st.st_gid, (long long)st.st_size, (long long)st.st_atime_ns,
                 (long long)st.st_mtime_ns, (long long)st.st_ctime_ns, (long long)st.st_blocks,
                 (long long)st.st_blksize, (unsigned long long)st.st_rdev);
        assert_string_equal(want, py);
        free(py);
    }
    assert_int_equal(st_os_utime("s.txt", NULL), 0);
    assert_int_equal(st_os_stat("s.txt", &st), 0);
    assert_true(st.st_mtime_ns > 1000000000LL * 1600000000);
    assert_int_equal(st_os_stat("nope", &st), -1);
    assert_os_error(ENOENT, "FileNotFoundError", "cannot stat 'nope'");
    assert_int_equal(st_os_fstat(-1, &st), -1);
    assert_os_error(EBADF, "OSError", NULL);
}

static void test_file_processing(void **state)
{
    (void)state;
    write_file("a", "A");
    write_file("b", "B");
    assert_int_equal(st_os_rename("a", "c"), 0);
    assert_false(st_os_access("a", F_OK));
    assert_int_equal(st_os_replace("b", "c"), 0); /* atomic overwrite */
    char *s = st_test_read_file("c", NULL);
    assert_string_equal(s, "B");
    free(s);
    assert_int_equal(st_os_rename("a", "d"), -1);
    assert_os_error(ENOENT, "FileNotFoundError", "'a'");

    assert_int_equal(st_os_link("c", "hard"), 0);
    st_os_stat_result st;
    assert_int_equal(st_os_stat("c", &st), 0);
    assert_int_equal(st.st_nlink, 2);
    assert_int_equal(st_os_link("c", "hard"), -1);
    assert_os_error(EEXIST, "FileExistsError", "'hard'");

    /* readlink grows its buffer as needed (the kernel caps targets at PATH_MAX). */
    st__buf target = ST__BUF_INIT;
    for (int i = 0; i < 300; i++)
        st__buf_puts(&target, "0123456789/");
    assert_int_equal(st_os_symlink(target.data, "long"), 0);
    char *back = st_os_readlink("long");
    assert_string_equal(back, target.data);
    st_free(back);
    st__buf_free(&target);
    assert_null(st_os_readlink("c"));
    assert_os_error(EINVAL, "OSError", "'c'");

    assert_int_equal(st_os_chmod("c", 0640), 0);
    assert_int_equal(st_os_stat("c", &st), 0);
    assert_int_equal(st.st_mode & 07777, 0640);
    assert_int_equal(st_os_chown("c", (uid_t)-1, (gid_t)-1), 0);
    assert_int_equal(st_os_chown("nope", (uid_t)-1, (gid_t)-1), -1);
    assert_os_error(ENOENT, "FileNotFoundError", "'nope'");
    assert_true(st_os_access("c", R_OK | W_OK));
    assert_false(st_os_access("nope", F_OK));
    assert_int_equal(st_os_truncate("c", 100), 0);
    assert_int_equal(st_os_stat("c", &st), 0);
    assert_int_equal(st.st_size, 100);

    assert_int_equal(st_os_mkdir("dir", 0700), 0);
    assert_int_equal(st_os_remove("dir"), -1);
    assert_int_equal(st_error_errno() == EISDIR || st_error_errno() == EPERM, 1);
    assert_int_equal(st_os_mkdir("dir", 0700), -1);
    assert_os_error(EEXIST, "FileExistsError", "cannot create directory 'dir'");
    write_file("dir/x", "x");
    assert_int_equal(st_os_rmdir("dir"), -1);
    assert_os_error(ENOTEMPTY, "OSError", "'dir'");
    assert_int_equal(st_os_unlink("dir/x"), 0);
    assert_int_equal(st_os_rmdir("dir"), 0);
    assert_int_equal(st_os_remove("c"), 0);
    assert_int_equal(st_os_remove("c"), -1);
    assert_os_error(ENOENT, "FileNotFoundError", "cannot remove 'c'");

    if (!is_root("chmod 000 file then open it")) {
        write_file("locked", "x");
        assert_int_equal(st_os_chmod("locked", 0), 0);
        assert_int_equal(st_os_open("locked", O_RDONLY, 0), -1);
        assert_os_error(EACCES, "PermissionError", "'locked'");
    }
}

static void test_makedirs(void **state)
{
    (void)state;
    assert_int_equal(st_os_makedirs("m/a/b/c", 0750, 0), 0);
    st_os_stat_result st;
    assert_int_equal(st_os_stat("m/a/b/c", &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    mode_t mask = umask(0);
    umask(mask);
    assert_int_equal(st.st_mode & 0777, 0750 & ~mask);
    assert_int_equal(st_os_stat("m/a", &st), 0);
    assert_int_equal(st.st_mode & 0777, 0777 & ~mask); /* parents get the default mode */

    assert_int_equal(st_os_makedirs("m/a/b/c", 0777, 0), -1);
    assert_os_error(EEXIST, "FileExistsError", "'m/a/b/c'");
    assert_int_equal(st_os_makedirs("m/a/b/c", 0777, 1), 0);
    assert_int_equal(st_os_makedirs("m/a/b/c/", 0777, 1), 0);
    assert_int_equal(st_os_makedirs("m//x///y//", 0777, 0), 0);
    assert_int_equal(st_os_stat("m/x/y", &st), 0);
    assert_int_equal(st_os_makedirs("m/dot/.", 0777, 0), 0); /* "." tail after a created head */
    assert_int_equal(st_os_stat("m/dot", &st), 0);

    /* A file in the way: exist_ok does not hide it, and the message names the component. */
    write_file("m/file", "");
    assert_int_equal(st_os_makedirs("m/file", 0777, 1), -1);
    assert_os_error(EEXIST, "FileExistsError", "'m/file'");
    assert_int_equal(st_os_makedirs("m/file/sub/leaf", 0777, 1), -1);
    assert_os_error(ENOTDIR, "NotADirectoryError", "cannot create directory 'm/file/sub'");

    assert_int_equal(st_os_removedirs("m/a/b/c"), 0);
    assert_int_equal(st_os_stat("m/a", &st), -1); /* emptied parents went too */
    assert_int_equal(st_os_stat("m", &st), 0);    /* not empty: stays, quietly */
    assert_int_equal(st_os_removedirs("m/a"), -1);
    assert_os_error(ENOENT, "FileNotFoundError", "'m/a'");

    /* The same sequence in CPython leaves the same tree. */
    char *py = pyref_eval("import os\n"
                          "os.makedirs(\"p/a/b/c\"); os.makedirs(\"p//x///y//\"); os.makedirs(\"p/dot/.\")\n"
                          "os.removedirs(\"p/a/b/c\")\n"
                          "print(sorted(os.listdir(\"p\")))");
    if (py) {
        const char **names = st_os_listdir("m");
        size_t n = st_strv_len(names);
        qsort(names, n, sizeof *names, cmp_str);
        st__buf got = ST__BUF_INIT;
        st__buf_puts(&got, "[");
        for (size_t i = 0, shown = 0; i < n; i++)
            if (strcmp(names[i], "file")) /* made only on our side */
                st__buf_printf(&got, "%s'%s'", shown++ ? ", " : "", names[i]);
        st__buf_puts(&got, "]");
        assert_string_equal(got.data, py);
        st__buf_free(&got);
        st_strv_free(names);
        free(py);
    }
}

/* ---- listdir and scandir --------------------------------------------------------------------- */

static void test_listdir_scandir(void **state)
{
    (void)state;
    assert_int_equal(st_os_mkdir("d", 0755), 0);
    assert_int_equal(st_os_mkdir("d/sub", 0755), 0);
    write_file("d/file", "abc");
    assert_int_equal(st_os_symlink("file", "d/lnk"), 0);
    assert_int_equal(st_os_symlink("sub", "d/dirlnk"), 0);
    assert_int_equal(st_os_symlink("nowhere", "d/dangling"), 0);
    const char **names = st_os_listdir("d");
    assert_non_null(names);
    size_t n = st_strv_len(names);
    assert_int_equal(n, 5);
    qsort(names, n, sizeof *names, cmp_str);
    const char *want[] = {"dangling", "dirlnk", "file", "lnk", "sub"};
    for (size_t i = 0; i < n; i++)
        assert_string_equal(names[i], want[i]);
    st_strv_free(names);
    assert_null(st_os_listdir("d/file"));
    assert_os_error(ENOTDIR, "NotADirectoryError", "'d/file'");

    st_os_scandir_iterator *it = st_os_scandir("d");
    assert_non_null(it);
    st_os_direntry *e;
    int rc, seen = 0;
    while ((rc = st_os_scandir_iterator_next(it, &e)) > 0) {
        const char *name = st_os_direntry_name(e);
        char path[64];
        snprintf(path, sizeof path, "d/%s", name);
        assert_string_equal(st_os_direntry_path(e), path);
        struct stat ls;
        assert_int_equal(lstat(path, &ls), 0);
        assert_int_equal(st_os_direntry_inode(e), ls.st_ino);
        int dir = !strcmp(name, "sub") || !strcmp(name, "dirlnk");
        int file = !strcmp(name, "file") || !strcmp(name, "lnk");
        int link = !strcmp(name, "lnk") || !strcmp(name, "dirlnk") || !strcmp(name, "dangling");
        assert_int_equal(st_os_direntry_is_dir(e, 1), dir);
        assert_int_equal(st_os_direntry_is_dir(e, 0), !strcmp(name, "sub"));
        assert_int_equal(st_os_direntry_is_file(e, 1), file);
        assert_int_equal(st_os_direntry_is_file(e, 0), !strcmp(name, "file"));
        assert_int_equal(st_os_direntry_is_symlink(e), link);
        st_os_stat_result st;
        assert_int_equal(st_os_direntry_stat(e, 0, &st), 0);
        assert_int_equal(st.st_ino, ls.st_ino);
        if (!strcmp(name, "dangling")) {
            assert_int_equal(st_os_direntry_stat(e, 1, &st), -1);
            assert_os_error(ENOENT, "FileNotFoundError", "'d/dangling'");
        } else {
            assert_int_equal(st_os_direntry_stat(e, 1, &st), 0);
            assert_int_equal(S_ISDIR(st.st_mode), dir);
        }
        seen++;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(seen, 5);
    st_os_scandir_iterator_free(it);
    assert_null(st_os_scandir("nope"));
    assert_os_error(ENOENT, "FileNotFoundError", "'nope'");

    /* close() releases the directory at once; the entry lent last stays usable (through its
     * path, as Python's DirEntry) until the next call; next() then ends, as StopIteration. */
    int before = open("/dev/null", O_RDONLY);
    close(before);
    it = st_os_scandir("d");
    assert_non_null(it);
    assert_int_equal(st_os_scandir_iterator_next(it, &e), 1);
    char name[64], path[sizeof name + 2];
    snprintf(name, sizeof name, "%s", st_os_direntry_name(e));
    snprintf(path, sizeof path, "d/%s", name);
    st_os_scandir_iterator_close(it);
    int probe = open("/dev/null", O_RDONLY);
    assert_int_equal(probe, before); /* the directory's descriptor was released */
    close(probe);
    assert_string_equal(st_os_direntry_name(e), name);
    assert_string_equal(st_os_direntry_path(e), path);
    struct stat ls;
    assert_int_equal(lstat(path, &ls), 0);
    st_os_stat_result got;
    assert_int_equal(st_os_direntry_stat(e, 0, &got), 0);
    assert_int_equal(got.st_ino, ls.st_ino);
    assert_int_equal(st_os_direntry_is_symlink(e), S_ISLNK(ls.st_mode));
    assert_int_equal(st_os_direntry_is_dir(e, 0), S_ISDIR(ls.st_mode));
    assert_int_equal(st_os_scandir_iterator_next(it, &e), 0);
    assert_int_equal(st_os_scandir_iterator_next(it, &e), 0);
    st_os_scandir_iterator_close(it); /* twice is allowed */
    st_os_scandir_iterator_free(it);
    st_os_scandir_iterator_close(NULL);
    st_os_scandir_iterator_free(NULL);
    /* Freed without a close, and before the end: nothing leaks (ASan run). */
    it = st_os_scandir("d");
    assert_int_equal(st_os_scandir_iterator_next(it, &e), 1);
    st_os_scandir_iterator_free(it);
}

/* ---- walk ------------------------------------------------------------------------------------ */

/* Builds tests/vectors/os/tree.txt under `root`. */
static void build_tree(const char *root)
{
    assert_int_equal(st_os_mkdir(root, 0755), 0);
    FILE *f = fopen(ST_TEST_SOURCE_DIR "/vectors/os/tree.txt", "r");
    assert_non_null(f);
    char line[256], kind[4], rel[128], target[128];
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        int n = sscanf(line, "%3s %127s %127s", kind, rel, target);
        assert_true(n >= 2);
        char *path = st__path_join(root, rel);
        if (kind[0] == 'd')
            assert_int_equal(st_os_mkdir(path, 0755), 0);
        else if (kind[0] == 'f')
            write_file(path, rel);
        else
            assert_int_equal(st_os_symlink(target, path), 0);
        st_free(path);
    }
    fclose(f);
}

static void put_names(st__buf *b, const char *const *names, size_t n, int sorted)
{
    const char **v = malloc((n + 1) * sizeof *v);
    memcpy(v, names, n * sizeof *v);
    if (sorted)
        qsort(v, n, sizeof *v, cmp_str);
    for (size_t i = 0; i < n; i++)
        st__buf_printf(b, "%s%s", i ? "/" : "", v[i]);
    free(v);
}

/* One line per step, "dirpath<TAB>dirnames<TAB>filenames", in walk order with directory order
 * (exact) or sorted names and lines (canonical, as the committed listings). `prune` names a
 * directory removed from dirnames in topdown mode. */
static char *walk_listing(const char *top, int fwalk, int topdown, int follow, int canonical, const char *prune)
{
    st_os_walk_options o = ST_OS_WALK_OPTIONS_INIT;
    o.bottomup = !topdown;
    o.followlinks = follow;
    st_os_walk_iterator *w = fwalk ? st_os_fwalk(top, &o) : st_os_walk(top, &o);
    assert_non_null(w);
    st__strv lines = ST__STRV_INIT;
    st_os_walk_step *s;
    int rc;
    while ((rc = st_os_walk_iterator_next(w, &s)) > 0) {
        if (fwalk) {
            struct stat a, b;
            assert_int_equal(fstat(s->dirfd, &a), 0);
            assert_int_equal(stat(s->dirpath, &b), 0);
            assert_true(a.st_ino == b.st_ino && a.st_dev == b.st_dev);
        } else {
            assert_int_equal(s->dirfd, -1);
        }
        st__buf b = ST__BUF_INIT;
        st__buf_printf(&b, "%s\t", s->dirpath);
        put_names(&b, s->dirnames, s->ndirnames, canonical);
        st__buf_putc(&b, '\t');
        put_names(&b, s->filenames, s->nfilenames, canonical);
        st__buf_putc(&b, '\n');
        st__strv_push_owned(&lines, st__buf_detach(&b));
        for (size_t i = 0; prune && i < s->ndirnames; i++)
            if (!strcmp(s->dirnames[i], prune)) {
                s->dirnames[i] = s->dirnames[--s->ndirnames];
                break;
            }
    }
    assert_int_equal(rc, 0);
    st_os_walk_iterator_free(w);
    if (canonical)
        qsort(lines.v, lines.len, sizeof *lines.v, cmp_str);
    st__buf out = ST__BUF_INIT;
    for (size_t i = 0; i < lines.len; i++)
        st__buf_puts(&out, lines.v[i]);
    st__strv_free(&lines);
    return st__buf_detach(&out);
}

/* CPython's listing in the same form; NULL when no CPython (after saying so). */
static char *python_listing(int fwalk, int topdown, int follow, const char *prune)
{
    char code[1024];
    snprintf(code, sizeof code,
             "import os, sys\n"
             "for step in os.%s(\"tree\", topdown=%s, %s=%s):\n"
             "    d, dn, fn = step[:3]\n"
             "    sys.stdout.write(\"%%s\\t%%s\\t%%s\\n\" %% (d, \"/\".join(dn), \"/\".join(fn)))\n"
             "    if \"%s\" in dn: dn[dn.index(\"%s\")] = dn[-1]; dn.pop()\n"
             "print(\"END\")\n",
             fwalk ? "fwalk" : "walk", topdown ? "True" : "False", fwalk ? "follow_symlinks" : "followlinks",
             follow ? "True" : "False", prune ? prune : "\x01", prune ? prune : "\x01");
    char *out = pyref_eval(code);
    if (!out)
        return NULL;
    size_t n = strlen(out);
    assert_true(n >= 3 && !strcmp(out + n - 3, "END"));
    out[n - 3] = '\0';
    return out;
}

static void test_walk_matches_cpython(void **state)
{
    (void)state;
    build_tree("tree");
    for (int fwalk = 0; fwalk < 2; fwalk++)
        for (int topdown = 0; topdown < 2; topdown++)
            for (int follow = 0; follow < 2; follow++) {
                /* Always: the committed listing, made by CPython 3.13 (tests/gen/gen_os.py). */
                char *canon = walk_listing("tree", fwalk, topdown, follow, 1, NULL);
                const char *vec = follow ? ST_TEST_SOURCE_DIR "/vectors/os/walk_follow.txt"
                                         : ST_TEST_SOURCE_DIR "/vectors/os/walk.txt";
                char *want = st_test_read_file(vec, NULL);
                assert_string_equal(canon, want);
                st_free(canon);
                free(want);
                /* Live: the same steps in the same order as CPython's, pruning included. */
                for (int prune = 0; prune < 2; prune++) {
                    const char *p = prune && topdown ? "skip" : NULL;
                    char *py = python_listing(fwalk, topdown, follow, p);
                    if (!py)
                        return;
                    char *ours = walk_listing("tree", fwalk, topdown, follow, 0, p);
                    assert_string_equal(ours, py);
                    st_free(ours);
                    free(py);
                }
            }
    /* A pruned walk never lists below the pruned directory. */
    char *pruned = walk_listing("tree", 0, 1, 0, 1, "alpha");
    assert_null(strstr(pruned, "tree/alpha/"));
    assert_non_null(strstr(pruned, "tree/beta"));
    st_free(pruned);
}

static int on_error(const char *path, int err, void *ctx)
{
    int *calls = ctx;
    calls[0]++;
    calls[1] = err;
    assert_non_null(strstr(st_error_message(), path));
    return calls[2]; /* non-zero: stop */
}

static void test_walk_errors(void **state)
{
    (void)state;
    int calls[3] = {0, 0, 0};
    st_os_walk_options o = ST_OS_WALK_OPTIONS_INIT;
    o.onerror = on_error;
    o.onerror_ctx = calls;
    st_os_walk_step *s;
    /* walk: an unreadable root goes to onerror and the walk is empty. */
    st_os_walk_iterator *w = st_os_walk("missing", &o);
    assert_int_equal(st_os_walk_iterator_next(w, &s), 0);
    assert_int_equal(calls[0], 1);
    assert_int_equal(calls[1], ENOENT);
    st_os_walk_iterator_free(w);
    /* onerror asking to stop: the error comes back from next(). */
    calls[2] = 1;
    w = st_os_walk("missing", &o);
    assert_int_equal(st_os_walk_iterator_next(w, &s), -1);
    assert_os_error(ENOENT, "FileNotFoundError", "'missing'");
    assert_int_equal(st_os_walk_iterator_next(w, &s), 0);
    st_os_walk_iterator_free(w);
    /* fwalk raises for its root, as Python's. */
    w = st_os_fwalk("missing", NULL);
    assert_int_equal(st_os_walk_iterator_next(w, &s), -1);
    assert_os_error(ENOENT, "FileNotFoundError", "'missing'");
    st_os_walk_iterator_free(w);
    /* A non-directory root: walk reports ENOTDIR, fwalk (no follow) is just empty. */
    write_file("plain", "");
    calls[0] = calls[2] = 0;
    w = st_os_walk("plain", &o);
    assert_int_equal(st_os_walk_iterator_next(w, &s), 0);
    assert_int_equal(calls[1], ENOTDIR);
    st_os_walk_iterator_free(w);
    w = st_os_fwalk("plain", &o);
    assert_int_equal(st_os_walk_iterator_next(w, &s), 0);
    st_os_walk_iterator_free(w);
    o.version = 99;
    assert_null(st_os_walk(".", &o));
    assert_int_equal(st_error_code(), ST_EVALUE);

    if (!is_root("walk onerror on an unreadable subdirectory")) {
        build_tree("tree");
        assert_int_equal(chmod("tree/beta", 0), 0);
        o.version = ST_OS_WALK_OPTIONS_VERSION;
        calls[0] = 0;
        w = st_os_walk("tree", &o);
        int rc, steps = 0;
        while ((rc = st_os_walk_iterator_next(w, &s)) > 0)
            steps++;
        assert_int_equal(rc, 0);
        assert_int_equal(calls[0], 1);
        assert_int_equal(calls[1], EACCES);
        st_os_walk_iterator_free(w);
        assert_int_equal(chmod("tree/beta", 0755), 0);
    }
}

/* What fwalk (follow_symlinks off) does with a root: "empty", "steps" or "raise <type>", as
 * the CPython script below prints it. */
static void fwalk_outcome(const char *top, int bottomup, char *out, size_t size)
{
    st_os_walk_options o = ST_OS_WALK_OPTIONS_INIT;
    o.bottomup = bottomup;
    st_os_walk_iterator *w = st_os_fwalk(top, &o);
    assert_non_null(w);
    st_os_walk_step *s;
    int rc = st_os_walk_iterator_next(w, &s);
    if (rc < 0)
        snprintf(out, size, "raise %s", st_error_last()->type);
    else
        snprintf(out, size, "%s", rc ? "steps" : "empty");
    st_os_walk_iterator_free(w);
}

/* Counts onerror calls of fwalk("t") (follow_symlinks off, topdown or not); the last errno in
 * calls[1]. */
static void fwalk_errors(int bottomup, int calls[3])
{
    st_os_walk_options o = ST_OS_WALK_OPTIONS_INIT;
    o.bottomup = bottomup;
    o.onerror = on_error;
    o.onerror_ctx = calls;
    calls[0] = calls[1] = calls[2] = 0;
    st_os_walk_iterator *w = st_os_fwalk("t", &o);
    st_os_walk_step *s;
    int rc;
    while ((rc = st_os_walk_iterator_next(w, &s)) > 0)
        ;
    assert_int_equal(rc, 0);
    st_os_walk_iterator_free(w);
}

/* fwalk with follow_symlinks off opens every symlink it meets, as CPython 3.13's _fwalk does
 * (lstat, then open following, then samestat): a root that is a dangling or looping symlink
 * raises, a root that is a symlink to a directory (or a file) walks nothing, and a symlink in
 * dirnames whose directory cannot be opened goes to onerror, top-down and bottom-up. */
static void test_fwalk_symlinks_as_cpython(void **state)
{
    (void)state;
    assert_int_equal(st_os_mkdir("d", 0755), 0);
    write_file("file", "");
    assert_int_equal(st_os_symlink("nowhere", "dangling"), 0);
    assert_int_equal(st_os_symlink("self", "self"), 0);
    assert_int_equal(st_os_symlink("d", "dirlink"), 0);
    assert_int_equal(st_os_symlink("file", "filelink"), 0);
    static const char *const tops[] = {"dangling", "self", "dirlink", "filelink", "file", "d",
                                       "missing"};
    static const char *const expect[] = {"raise FileNotFoundError", "raise OSError", "empty",
                                         "empty", "empty", "steps", "raise FileNotFoundError"};
    char *theirs = pyref_eval("import os\n"
                              "for top in ('dangling', 'self', 'dirlink', 'filelink', 'file', "
                              "'d', 'missing'):\n"
                              "    for topdown in (True, False):\n"
                              "        try:\n"
                              "            print('steps' if list(os.fwalk(top, topdown)) "
                              "else 'empty')\n"
                              "        except OSError as e:\n"
                              "            print('raise', type(e).__name__)\n");
    const char *line = theirs;
    for (size_t i = 0; i < sizeof tops / sizeof *tops; i++) {
        for (int bottomup = 0; bottomup < 2; bottomup++) {
            char ours[64];
            fwalk_outcome(tops[i], bottomup, ours, sizeof ours);
            if (strcmp(ours, expect[i]) != 0)
                fail_msg("fwalk('%s', topdown=%d): %s", tops[i], !bottomup, ours);
            if (line) {
                size_t n = strcspn(line, "\n");
                if (strlen(ours) != n || memcmp(ours, line, n) != 0)
                    fail_msg("fwalk('%s'): ours %s, CPython %.*s", tops[i], ours, (int)n, line);
                line += n + (line[n] == '\n');
            }
        }
    }
    free(theirs);

    /* t/ln -> ../locked, a directory that cannot be opened: one onerror call (EACCES). Root
     * bypasses permissions, so as root our walk runs in a child as nobody (the CPython
     * comparison needs an unprivileged user of its own and is skipped then). */
    assert_int_equal(st_os_mkdir("t", 0755), 0);
    assert_int_equal(st_os_mkdir("t/ok", 0755), 0);
    assert_int_equal(st_os_mkdir("locked", 0755), 0);
    assert_int_equal(st_os_symlink("../locked", "t/ln"), 0);
    assert_int_equal(chmod("locked", 0), 0);
    if (geteuid() != 0) {
        for (int bottomup = 0; bottomup < 2; bottomup++) {
            int calls[3];
            fwalk_errors(bottomup, calls);
            assert_int_equal(calls[0], 1);
            assert_int_equal(calls[1], EACCES);
        }
        char *py = pyref_eval("import os\n"
                              "for topdown in (True, False):\n"
                              "    errs = []\n"
                              "    list(os.fwalk('t', topdown, errs.append))\n"
                              "    print(len(errs), type(errs[0]).__name__)\n");
        if (py)
            assert_string_equal(py, "1 PermissionError\n1 PermissionError");
        free(py);
    } else {
        printf("[  SKIP    ] fwalk onerror for a symlink to an unreadable directory: CPython's "
               "side needs an unprivileged user; ours runs as nobody\n");
        assert_int_equal(chmod(".", 0755), 0); /* mkdtemp's 0700 would stop nobody here */
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            if (setgid(65534) < 0 || setuid(65534) < 0)
                _exit(77);
            for (int bottomup = 0; bottomup < 2; bottomup++) {
                int calls[3];
                fwalk_errors(bottomup, calls);
                if (calls[0] != 1 || calls[1] != EACCES)
                    _exit(10 + calls[0]);
            }
            _exit(0);
        }
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        if (WEXITSTATUS(status) == 77)
            printf("[  SKIP    ] cannot become nobody here\n");
        else
            assert_int_equal(WEXITSTATUS(status), 0);
    }
    assert_int_equal(chmod("locked", 0755), 0);
}

/* The lowest free descriptor: equal before and after, nothing was left open in between. */
static int lowest_free_fd(void)
{
    int fd = open("/dev/null", O_RDONLY);
    assert_true(fd >= 0);
    close(fd);
    return fd;
}

static void test_walk_options_and_close(void **state)
{
    (void)state;
    /* Zero is Python's defaults: the macro and _init() give the version and zeros. */
    st_os_walk_options zeroed;
    memset(&zeroed, 0, sizeof zeroed);
    zeroed.version = ST_OS_WALK_OPTIONS_VERSION;
    ST_ASSERT_OPTIONS_INIT(st_os_walk_options, ST_OS_WALK_OPTIONS_INIT, ST_OS_WALK_OPTIONS_VERSION,
                           st_os_walk_options_init);
    st_os_walk_options init = ST_OS_WALK_OPTIONS_INIT, byfn;
    /* {0} was never initialised: version 0 is refused by both walkers. */
    st_os_walk_options never = {0};
    assert_null(st_os_walk(".", &never));
    assert_int_equal(st_error_code(), ST_EVALUE);
    assert_non_null(strstr(st_error_message(), "version is 0"));
    assert_null(st_os_fwalk(".", &never));
    assert_int_equal(st_error_code(), ST_EVALUE);

    /* NULL, the macro, _init() and a zeroed struct all walk topdown (Python's default);
     * bottomup reverses it. */
    build_tree("tree");
    const st_os_walk_options *variants[] = {NULL, &init, &zeroed, &byfn};
    assert_int_equal(st_os_walk_options_init(&byfn, ST_OS_WALK_OPTIONS_VERSION), 0);
    st_os_walk_step *s;
    for (size_t i = 0; i < sizeof variants / sizeof *variants; i++) {
        st_os_walk_iterator *w = st_os_walk("tree", variants[i]);
        assert_non_null(w);
        assert_int_equal(st_os_walk_iterator_next(w, &s), 1);
        assert_string_equal(s->dirpath, "tree");
        st_os_walk_iterator_free(w);
    }
    st_os_walk_options up = ST_OS_WALK_OPTIONS_INIT;
    up.bottomup = 1;
    st_os_walk_iterator *w = st_os_walk("tree", &up);
    const char *last = NULL;
    char *lastcopy = NULL;
    int rc;
    while ((rc = st_os_walk_iterator_next(w, &s)) > 0) {
        assert_null(s->dirnames[s->ndirnames]); /* NULL-terminated as handed out */
        assert_null(s->filenames[s->nfilenames]);
        last = s->dirpath;
        free(lastcopy);
        lastcopy = strdup(last);
    }
    assert_int_equal(rc, 0);
    assert_string_equal(lastcopy, "tree");
    free(lastcopy);
    st_os_walk_iterator_free(w);

    /* close(): mid-walk, every descriptor is released at once; next() then ends; twice is fine;
     * free after close. Both walkers, both orders (bottom-up fwalk holds one per level). */
    for (int fwalk = 0; fwalk < 2; fwalk++)
        for (int bottomup = 0; bottomup < 2; bottomup++) {
            int low = lowest_free_fd();
            up.bottomup = bottomup;
            w = fwalk ? st_os_fwalk("tree", &up) : st_os_walk("tree", &up);
            assert_non_null(w);
            assert_int_equal(st_os_walk_iterator_next(w, &s), 1);
            assert_int_equal(st_os_walk_iterator_next(w, &s), 1);
            if (fwalk)
                assert_true(s->dirfd >= 0);
            assert_true(lowest_free_fd() != low); /* the walk holds descriptors */
            st_os_walk_iterator_close(w);
            assert_int_equal(lowest_free_fd(), low);
            assert_int_equal(st_os_walk_iterator_next(w, &s), 0);
            st_os_walk_iterator_close(w);
            assert_int_equal(st_os_walk_iterator_next(w, &s), 0);
            st_os_walk_iterator_free(w);
        }
    /* Closed before the first step, and closed after the end. */
    w = st_os_walk("tree", NULL);
    st_os_walk_iterator_close(w);
    assert_int_equal(st_os_walk_iterator_next(w, &s), 0);
    st_os_walk_iterator_free(w);
    w = st_os_walk("tree", NULL);
    while ((rc = st_os_walk_iterator_next(w, &s)) > 0)
        ;
    assert_int_equal(rc, 0);
    st_os_walk_iterator_close(w);
    assert_int_equal(st_os_walk_iterator_next(w, &s), 0);
    st_os_walk_iterator_free(w);
    st_os_walk_iterator_close(NULL);
    st_os_walk_iterator_free(NULL);
}

static void test_walk_symlink_loop(void **state)
{
    (void)state;
    assert_int_equal(st_os_makedirs("loop/a/b", 0755, 0), 0);
    assert_int_equal(st_os_symlink("../..", "loop/a/b/up"), 0);  /* -> loop */
    assert_int_equal(st_os_symlink(".", "loop/self"), 0);       /* -> loop */
    assert_int_equal(st_os_symlink("a", "loop/to_a"), 0);       /* not a loop: entered once */
    for (int fwalk = 0; fwalk < 2; fwalk++)
        for (int topdown = 0; topdown < 2; topdown++) {
            char *l = walk_listing("loop", fwalk, topdown, 1, 1, NULL);
            assert_string_equal(l, "loop\ta/self/to_a\t\n"
                                   "loop/a\tb\t\n"
                                   "loop/a/b\tup\t\n"
                                   "loop/to_a\tb\t\n"
                                   "loop/to_a/b\tup\t\n");
            st_free(l);
        }
}

static void test_walk_deep(void **state)
{
    (void)state;
    /* 10,000 levels: far past PATH_MAX and any recursion budget. Built on tmpfs when there is
     * one: on a disk filesystem creating and removing such a chain takes tens of seconds. */
    char shm[] = "/dev/shm/st_os_deep_XXXXXX";
    const char *base = access("/dev/shm", W_OK) == 0 && mkdtemp(shm) ? shm : g_tmp;
    char *top = st__path_join(base, "deep");
    const int depth = 10000;
    assert_int_equal(st_os_mkdir(top, 0755), 0);
    int fd = open(top, O_RDONLY | O_DIRECTORY);
    for (int i = 0; i < depth; i++) {
        assert_int_equal(mkdirat(fd, "d", 0755), 0);
        int next = openat(fd, "d", O_RDONLY | O_DIRECTORY);
        assert_true(next >= 0);
        if (i == depth - 1)
            assert_int_equal(close(openat(next, "leaf", O_CREAT | O_WRONLY, 0644)), 0);
        close(fd);
        fd = next;
    }
    close(fd);
    for (int topdown = 0; topdown < 2; topdown++) {
        st_os_walk_options o = ST_OS_WALK_OPTIONS_INIT;
        o.bottomup = !topdown;
        st_os_walk_iterator *w = st_os_walk(top, &o);
        st_os_walk_step *s;
        int rc, steps = 0, files = 0;
        size_t longest = 0;
        while ((rc = st_os_walk_iterator_next(w, &s)) > 0) {
            steps++;
            files += (int)s->nfilenames;
            size_t n = strlen(s->dirpath);
            longest = n > longest ? n : longest;
        }
        assert_int_equal(rc, 0);
        assert_int_equal(steps, depth + 1);
        assert_int_equal(files, 1);
        assert_int_equal(longest, strlen(top) + 2 * (size_t)depth);
        st_os_walk_iterator_free(w);
    }
    /* fwalk bottom-up removes it (descriptor-relative, so path length never matters). */
    rmtree(top);
    st_free(top);
    if (base == shm)
        assert_int_equal(rmdir(shm), 0);
}

/* ---- locks ----------------------------------------------------------------------------------- */

static void test_lockfile(void **state)
{
    (void)state;
    st_os_lockfile *l = st_os_lockfile_acquire("x.lock", 0);
    assert_non_null(l);
    assert_null(st_os_lockfile_acquire("x.lock", 0));
    assert_int_equal(st_error_code(), ST_ETIMEOUT);
    assert_string_equal(st_error_last()->type, "TimeoutError");
    assert_null(st_os_lockfile_acquire("x.lock", 0.05));
    assert_int_equal(st_os_lockfile_held(l), 1);
    assert_int_equal(st_os_lockfile_release(l), 0);
    /* Released, the handle stays: held() says so, releasing again does nothing. */
    assert_int_equal(st_os_lockfile_held(l), 0);
    assert_false(st_os_access("x.lock", F_OK));
    assert_int_equal(st_os_lockfile_release(l), 0);
    st_os_lockfile *other = st_os_lockfile_acquire("x.lock", 0);
    assert_non_null(other);
    assert_int_equal(st_os_lockfile_release(l), 0); /* never touches the new owner's file */
    assert_true(st_os_access("x.lock", F_OK));
    st_os_lockfile_free(l);
    /* free() releases a held lock. */
    assert_int_equal(st_os_lockfile_held(other), 1);
    st_os_lockfile_free(other);
    assert_false(st_os_access("x.lock", F_OK));
    st_os_lockfile_free(NULL);
    assert_int_equal(st_os_lockfile_release(NULL), 0);
    assert_int_equal(st_os_lockfile_held(NULL), -1);
    assert_int_equal(st_error_code(), ST_EVALUE);
    /* free() of a lock whose file vanished reports nothing: the thread's error is left alone. */
    l = st_os_lockfile_acquire("x.lock", 0);
    assert_int_equal(st_os_remove("x.lock"), 0);
    assert_int_equal(st_os_chdir("no-such-dir"), -1);
    st_os_lockfile_free(l);
    assert_os_error(ENOENT, "FileNotFoundError", "'no-such-dir'");

    /* Contended by two processes: the child holds it until we have seen it held, then a
     * little longer, while we wait for it (a slow machine only shortens our wait). */
    int fds[2], back[2];
    assert_int_equal(st_os_pipe(fds), 0);
    assert_int_equal(st_os_pipe(back), 0);
    pid_t pid = st_os_fork();
    if (pid == 0) {
        st_os_lockfile *mine = st_os_lockfile_acquire("x.lock", 5);
        char go;
        if (!mine || st_os_write(fds[1], "L", 1) < 0 || st_os_read(back[0], &go, 1) != 1)
            st_os__exit(1);
        struct timespec ts = {0, 200000000};
        nanosleep(&ts, NULL);
        int rc = st_os_lockfile_release(mine);
        st_os_lockfile_free(mine);
        st_os__exit(rc < 0 ? 2 : 0);
    }
    char c;
    assert_int_equal(st_os_read(fds[0], &c, 1), 1);
    assert_null(st_os_lockfile_acquire("x.lock", 0));
    assert_int_equal(st_os_write(back[1], "G", 1), 0);
    l = st_os_lockfile_acquire("x.lock", 10);
    assert_non_null(l);
    int status, code;
    assert_int_equal(st_os_waitpid(pid, &status, 0), pid);
    assert_int_equal(st_os_waitstatus_to_exitcode(status, &code), 0);
    assert_int_equal(code, 0);
    assert_int_equal(st_os_lockfile_release(l), 0);
    st_os_lockfile_free(l);
    st_os_close(fds[0]);
    st_os_close(fds[1]);
    st_os_close(back[0]);
    st_os_close(back[1]);

    /* Stale: the owner recorded in the file is dead (on this host). */
    pid = st_os_fork();
    if (pid == 0) {
        st_os_lockfile_acquire("x.lock", 0); /* never released: _exit keeps the file */
        st_os__exit(0);
    }
    assert_int_equal(st_os_waitpid(pid, &status, 0), pid);
    assert_true(st_os_access("x.lock", F_OK));
    l = st_os_lockfile_acquire("x.lock", 0);
    assert_non_null(l);
    assert_int_equal(st_os_lockfile_release(l), 0);
    st_os_lockfile_free(l);
    /* A bare pid (what pidfiles, most tools and Python's own idiom write), with or without
     * blanks around it, is broken when the pid is gone, and respected while it lives. */
    static const char *const bare[] = {"%ld\n", "%ld", "%10ld\n", " %ld \r\n"};
    for (size_t i = 0; i < sizeof bare / sizeof *bare; i++) {
        char text[64];
        snprintf(text, sizeof text, bare[i], (long)pid);
        write_file("x.lock", text);
        l = st_os_lockfile_acquire("x.lock", 0);
        if (!l)
            fail_msg("stale bare pid lock '%s' not broken", text);
        st_os_lockfile_free(l);
        snprintf(text, sizeof text, bare[i], (long)getpid());
        write_file("x.lock", text);
        assert_null(st_os_lockfile_acquire("x.lock", 0));
        assert_int_equal(st_error_code(), ST_ETIMEOUT);
        assert_int_equal(st_os_remove("x.lock"), 0);
    }
    /* The lock file a CPython program writes, open(p, 'x').write(f'{os.getpid()}\n'), left
     * behind when it exits: ours breaks it. */
    char *py = pyref_eval("import os\n"
                          "with open('x.lock', 'x') as f:\n"
                          "    f.write(f'{os.getpid()}\\n')\n"
                          "print(os.getpid())");
    if (py) {
        assert_true(st_os_access("x.lock", F_OK));
        l = st_os_lockfile_acquire("x.lock", 0);
        if (!l)
            fail_msg("CPython's stale lock (pid %s) not broken: %s", py, st_error_message());
        st_os_lockfile_free(l);
    }
    free(py);
    /* The format we write, as documented. */
    l = st_os_lockfile_acquire("x.lock", 0);
    assert_non_null(l);
    char host[256] = "", expect[300], *got = NULL;
    assert_int_equal(gethostname(host, sizeof host - 1), 0);
    snprintf(expect, sizeof expect, "%ld %s\n", (long)getpid(), host);
    FILE *lf = fopen("x.lock", "r");
    assert_non_null(lf);
    size_t cap = 0;
    assert_true(getline(&got, &cap, lf) > 0);
    fclose(lf);
    assert_string_equal(got, expect);
    free(got);
    st_os_lockfile_free(l);
    /* A lock of another host, a pid followed by other words, or content that is not a pid
     * is respected. */
    char line[64];
    snprintf(line, sizeof line, "%ld some-other-host.invalid\n", (long)pid);
    write_file("x.lock", line);
    assert_null(st_os_lockfile_acquire("x.lock", 0));
    write_file("x.lock", "");
    assert_null(st_os_lockfile_acquire("x.lock", 0));
    snprintf(line, sizeof line, "%ld and more\n", (long)pid);
    write_file("x.lock", line);
    assert_null(st_os_lockfile_acquire("x.lock", 0));
    write_file("x.lock", "\n");
    assert_null(st_os_lockfile_acquire("x.lock", 0));
    assert_int_equal(st_os_remove("x.lock"), 0);
    /* Release removes only its own file. */
    l = st_os_lockfile_acquire("x.lock", 0);
    assert_int_equal(st_os_remove("x.lock"), 0);
    write_file("x.lock", "someone else's\n");
    assert_int_equal(st_os_lockfile_release(l), -1);
    assert_int_equal(st_error_code(), ST_ESTATE);
    assert_int_equal(st_os_lockfile_held(l), 0); /* a failed release still gives the lock up */
    st_os_lockfile_free(l);
    assert_true(st_os_access("x.lock", F_OK));
    assert_int_equal(st_os_remove("x.lock"), 0);
    assert_null(st_os_lockfile_acquire("nodir/x.lock", 0));
    assert_os_error(ENOENT, "FileNotFoundError", "'nodir/x.lock'");
}

/* Runs fn in a child; returns its exit code. */
static int in_child(int (*fn)(void *), void *arg)
{
    pid_t pid = st_os_fork();
    if (pid == 0)
        st_os__exit(fn(arg));
    int status, code;
    assert_int_equal(st_os_waitpid(pid, &status, 0), pid);
    assert_int_equal(st_os_waitstatus_to_exitcode(status, &code), 0);
    return code;
}

static int try_flock(void *arg)
{
    int fd = st_os_open("locked.dat", O_RDWR, 0);
    if (st_os_flock(fd, *(int *)arg | ST_OS_LOCK_NB) == 0)
        return 0;
    return st_error_errno() == EWOULDBLOCK ? 1 : 2;
}

static int try_lockf(void *arg)
{
    int fd = st_os_open("locked.dat", O_RDWR, 0);
    int *a = arg; /* cmd, start */
    if (st_os_lockf(fd, a[0] | ST_OS_LOCK_NB, 10, a[1], SEEK_SET) == 0)
        return 0;
    return st_error_errno() == EAGAIN || st_error_errno() == EACCES ? 1 : 2;
}

static void test_advisory_locks(void **state)
{
    (void)state;
    write_file("locked.dat", "0123456789012345678901234567890123456789");
    int fd = st_os_open("locked.dat", O_RDWR, 0);
    int sh = ST_OS_LOCK_SH, ex = ST_OS_LOCK_EX;
    assert_int_equal(st_os_flock(fd, ST_OS_LOCK_SH), 0);
    assert_int_equal(in_child(try_flock, &sh), 0); /* shared with shared */
    assert_int_equal(in_child(try_flock, &ex), 1); /* exclusive refused */
    assert_int_equal(st_os_flock(fd, ST_OS_LOCK_EX), 0);
    assert_int_equal(in_child(try_flock, &sh), 1);
    assert_int_equal(st_os_flock(fd, ST_OS_LOCK_UN), 0);
    assert_int_equal(in_child(try_flock, &ex), 0);
    assert_int_equal(st_os_flock(fd, 0), -1);
    assert_int_equal(st_error_code(), ST_EVALUE);

    /* Byte ranges: [0,10) locked exclusively; [20,30) stays free. */
    assert_int_equal(st_os_lockf(fd, ST_OS_LOCK_EX, 10, 0, SEEK_SET), 0);
    int a1[2] = {ST_OS_LOCK_SH, 0}, a2[2] = {ST_OS_LOCK_EX, 20};
    assert_int_equal(in_child(try_lockf, a1), 1);
    assert_int_equal(in_child(try_lockf, a2), 0);
    assert_int_equal(st_os_lockf(fd, ST_OS_LOCK_UN, 10, 0, SEEK_SET), 0);
    assert_int_equal(in_child(try_lockf, a1), 0);
    assert_int_equal(st_os_lockf(fd, 77, 0, 0, SEEK_SET), -1);
    assert_string_equal(st_error_message(), "unrecognized lockf argument");
    st_os_close(fd);
}

/* ---- processes ------------------------------------------------------------------------------- */

static void test_fork_wait_kill(void **state)
{
    (void)state;
    pid_t pid = st_os_fork();
    if (pid == 0)
        st_os__exit(3);
    int status, code;
    assert_int_equal(st_os_waitpid(pid, &status, 0), pid);
    assert_int_equal(st_os_waitstatus_to_exitcode(status, &code), 0);
    assert_int_equal(code, 3);
    assert_int_equal(st_os_waitpid(pid, &status, 0), -1);
    assert_os_error(ECHILD, "ChildProcessError", NULL);

    pid = st_os_fork();
    if (pid == 0) {
        pause();
        st_os__exit(0);
    }
    assert_int_equal(st_os_waitpid(pid, &status, WNOHANG), 0);
    assert_int_equal(st_os_kill(pid, SIGTERM), 0);
    assert_int_equal(st_os_waitpid(pid, &status, 0), pid);
    assert_int_equal(st_os_waitstatus_to_exitcode(status, &code), 0);
    assert_int_equal(code, -SIGTERM);
    assert_int_equal(st_os_kill(pid, 0), -1);
    assert_os_error(ESRCH, "ProcessLookupError", NULL);

    /* A child in its own group, signalled through the group. */
    pid = st_os_fork();
    if (pid == 0) {
        setpgid(0, 0);
        pause();
        st_os__exit(0);
    }
    setpgid(pid, pid);
    assert_int_equal(st_os_killpg(pid, SIGKILL), 0);
    assert_int_equal(st_os_waitpid(pid, &status, 0), pid);
    assert_int_equal(st_os_waitstatus_to_exitcode(status, &code), 0);
    assert_int_equal(code, -SIGKILL);

    /* waitstatus_to_exitcode: Python's answers and messages. */
    int statuses[] = {0, 0x0100, 0xff00, 0x0009, 0x000f, 0x137f, 0xffff};
    char ours[1024] = "";
    for (size_t i = 0; i < sizeof statuses / sizeof *statuses; i++) {
        size_t n = strlen(ours);
        if (st_os_waitstatus_to_exitcode(statuses[i], &code) == 0)
            snprintf(ours + n, sizeof ours - n, "%d;", code);
        else
            snprintf(ours + n, sizeof ours - n, "%s;", st_error_message());
    }
    assert_string_equal(ours, "0;1;255;-9;-15;process stopped by delivery of signal 19;invalid wait status: 65535;");
    char *py = pyref_eval("import os\n"
                          "for s in (0, 0x0100, 0xff00, 0x0009, 0x000f, 0x137f, 0xffff):\n"
                          "    try: print(os.waitstatus_to_exitcode(s), end=\";\")\n"
                          "    except ValueError as e: print(e, end=\";\")\n");
    if (py) {
        assert_string_equal(ours, py);
        free(py);
    }
}

static void test_exec(void **state)
{
    (void)state;
    const char *empty[] = {NULL}, *blank[] = {"", NULL};
    assert_int_equal(st_os_execv("/bin/true", empty), -1);
    assert_string_equal(st_error_message(), "execv() arg 2 must not be empty");
    assert_int_equal(st_os_execv("/bin/true", blank), -1);
    assert_string_equal(st_error_message(), "execv() arg 2 first element cannot be empty");
    assert_int_equal(st_os_execve("/bin/true", empty, empty), -1);
    assert_string_equal(st_error_message(), "execve: argv must not be empty");
    assert_int_equal(st_os_execvpe("true", blank, empty), -1);
    assert_string_equal(st_error_message(), "execve: argv first element cannot be empty");
    const char *args[] = {"x", NULL};
    assert_int_equal(st_os_execv("/no/such/program", args), -1);
    assert_os_error(ENOENT, "FileNotFoundError", "'/no/such/program'");
    const char *env1[] = {"PATH=/no/such:/also/missing", NULL};
    assert_int_equal(st_os_execvpe("st-os-none", args, env1), -1);
    assert_os_error(ENOENT, "FileNotFoundError", "'/also/missing/st-os-none'");
    /* A candidate that exists but cannot run is the error reported (Python's saved_exc). */
    write_file("notexec", "#!/bin/sh\n");
    const char *env2[] = {"PATH=/no/such:.:/also/missing", NULL};
    assert_int_equal(st_os_execvpe("notexec", args, env2), -1);
    assert_os_error(EACCES, "PermissionError", "'./notexec'");

    st__strv c = ST__STRV_INIT;
    const char *noenv[] = {"HOME=/", NULL};
    assert_int_equal(st__exec_candidates("ls", noenv, &c), 0); /* no PATH: defpath */
    assert_int_equal(c.len, 2);
    assert_string_equal(c.v[0], "/bin/ls");
    assert_string_equal(c.v[1], "/usr/bin/ls");
    st__strv_free(&c);
    const char *odd[] = {"PATH=:/x/", NULL};
    assert_int_equal(st__exec_candidates("ls", odd, &c), 0);
    assert_string_equal(c.v[0], "ls");
    assert_string_equal(c.v[1], "/x/ls");
    st__strv_free(&c);

    /* Success replaces the child: its output proves exec ran with the given environment. */
    int fds[2];
    assert_int_equal(st_os_pipe(fds), 0);
    pid_t pid = st_os_fork();
    if (pid == 0) {
        dup2(fds[1], 1);
        const char *argv[] = {"sh", "-c", "printf '%s' \"$ST_X\"", NULL};
        const char *envp[] = {"ST_X=from-execvpe", "PATH=/usr/bin:/bin", NULL};
        st_os_execvpe("sh", argv, envp);
        st_os__exit(99);
    }
    st_os_close(fds[1]);
    char *out = st_os_read_all(fds[0], NULL);
    assert_string_equal(out, "from-execvpe");
    st_free(out);
    st_os_close(fds[0]);
    int status;
    assert_int_equal(st_os_waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_spawn(void **state)
{
    (void)state;
    const char *sh5[] = {"sh", "-c", "exit 5", NULL};
    int five = 99, res = 99;
    assert_int_equal(st_os_spawnv(ST_OS_P_WAIT, "/bin/sh", sh5, &five), 0);
    assert_int_equal(five, 5);
    assert_int_equal(st_os_spawnvp(ST_OS_P_WAIT, "sh", sh5, &res), 0);
    assert_int_equal(res, 5);
    const char *x[] = {"x", NULL};
    int nf_v, nf_vp;
    assert_int_equal(st_os_spawnv(ST_OS_P_WAIT, "/no/such/program", x, &nf_v), 0);
    assert_int_equal(nf_v, 127);
    assert_int_equal(st_os_spawnvp(ST_OS_P_WAIT, "st-os-no-such-program", x, &nf_vp), 0);
    assert_int_equal(nf_vp, 127);
    const char *kill_self[] = {"sh", "-c", "kill -TERM $$", NULL};
    int term;
    assert_int_equal(st_os_spawnvp(ST_OS_P_WAIT, "sh", kill_self, &term), 0);
    assert_int_equal(term, -SIGTERM);
    /* Killed by SIGHUP: Python's -1 is a result, not a failure. */
    const char *hup_self[] = {"sh", "-c", "kill -HUP $$", NULL};
    int hup = 0;
    assert_int_equal(st_os_spawnv(ST_OS_P_WAIT, "/bin/sh", hup_self, &hup), 0);
    assert_int_equal(hup, -1);
    const char *empty[] = {NULL};
    res = 99;
    assert_int_equal(st_os_spawnv(ST_OS_P_WAIT, "/bin/sh", empty, &res), -1);
    assert_string_equal(st_error_message(), "argv first element cannot be empty");
    assert_int_equal(st_error_code(), ST_EVALUE);
    assert_int_equal(res, 99);
    int pid = 0;
    assert_int_equal(st_os_spawnvp(ST_OS_P_NOWAIT, "sh", sh5, &pid), 0);
    assert_true(pid > 0);
    int status, code;
    assert_int_equal(st_os_waitpid(pid, &status, 0), pid);
    assert_int_equal(st_os_waitstatus_to_exitcode(status, &code), 0);
    assert_int_equal(code, 5);
    char ours[64];
    snprintf(ours, sizeof ours, "%d %d %d %d %d", five, nf_v, term, hup, nf_vp);
    char *py = pyref_eval("import os; print(os.spawnv(os.P_WAIT, \"/bin/sh\", [\"sh\", \"-c\", \"exit 5\"]), "
                          "os.spawnv(os.P_WAIT, \"/no/such/program\", [\"x\"]), "
                          "os.spawnvp(os.P_WAIT, \"sh\", [\"sh\", \"-c\", \"kill -TERM $$\"]), "
                          "os.spawnv(os.P_WAIT, \"/bin/sh\", [\"sh\", \"-c\", \"kill -HUP $$\"]), "
                          "os.spawnvp(os.P_WAIT, \"st-os-no-such-program\", [\"x\"]))");
    if (py) {
        assert_string_equal(py, ours);
        free(py);
    }
}

static void test_system_popen(void **state)
{
    (void)state;
    int sys_values[3] = {st_os_system("exit 0"), st_os_system("exit 3"), st_os_system("kill -TERM $$")};
    int closes[3];
    const char *cmds[3] = {"echo hi", "exit 3", "kill -TERM $$"};
    for (int i = 0; i < 3; i++) {
        st_os_popen_file *p = st_os_popen(cmds[i], "r");
        assert_non_null(p);
        char buf[16] = "";
        if (i == 0) {
            assert_non_null(fgets(buf, sizeof buf, st_os_popen_file_stream(p)));
            assert_string_equal(buf, "hi\n");
        }
        assert_int_equal(st_os_popen_file_close(p, &closes[i]), 0);
        st_os_popen_file_free(p);
    }
    char ours[128];
    snprintf(ours, sizeof ours, "%d %d %d|%s %d %d", sys_values[0], sys_values[1], sys_values[2],
             closes[0] ? "?" : "None", closes[1], closes[2]);
    assert_string_equal(ours, "0 768 15|None 768 -3840");
    char *py = pyref_eval("import os\n"
                          "print(os.system(\"exit 0\"), os.system(\"exit 3\"), os.system(\"kill -TERM $$\"), end=\"|\")\n"
                          "p = os.popen(\"echo hi\"); p.read()\n"
                          "print(p.close(), os.popen(\"exit 3\").close(), os.popen(\"kill -TERM $$\").close())");
    if (py) {
        assert_string_equal(ours, py);
        free(py);
    }

    st_os_popen_file *p = st_os_popen("cat > piped.txt", "w");
    assert_non_null(p);
    assert_int_equal(st_os_popen_file_closed(p), 0);
    fputs("through the pipe\n", st_os_popen_file_stream(p));
    int status = -1;
    assert_int_equal(st_os_popen_file_close(p, &status), 0);
    assert_int_equal(status, 0);
    char *s = st_test_read_file("piped.txt", NULL);
    assert_string_equal(s, "through the pipe\n");
    free(s);
    /* Closed, the object stays: closed() says so, the stream is refused, close again is fine
     * and gives the same status (Python's close() returns the same value twice). */
    assert_int_equal(st_os_popen_file_closed(p), 1);
    assert_null(st_os_popen_file_stream(p));
    assert_int_equal(st_error_code(), ST_EVALUE);
    assert_string_equal(st_error_message(), "I/O operation on closed file.");
    st_os_popen_file_free(p);
    p = st_os_popen("exit 3", "r");
    assert_non_null(p);
    assert_int_equal(st_os_popen_file_close(p, &status), 0);
    status = 0;
    assert_int_equal(st_os_popen_file_close(p, &status), 0);
    assert_int_equal(status, 768);
    py = pyref_eval("import os\np = os.popen('exit 3')\nprint(p.close(), p.close(), p.closed)");
    if (py) {
        assert_string_equal(py, "768 768 True");
        free(py);
    }
    st_os_popen_file_free(p);
    /* free closes (and waits) when the caller did not; NULL is accepted by all three. */
    p = st_os_popen("cat > piped2.txt", "w");
    assert_non_null(p);
    fputs("flushed by free\n", st_os_popen_file_stream(p));
    st_os_popen_file_free(p);
    s = st_test_read_file("piped2.txt", NULL);
    assert_string_equal(s, "flushed by free\n");
    free(s);
    st_os_popen_file_free(NULL);
    assert_int_equal(st_os_popen_file_close(NULL, &status), 0);
    assert_int_equal(st_os_popen_file_closed(NULL), -1);
    assert_null(st_os_popen("true", "rb"));
    assert_string_equal(st_error_message(), "invalid mode 'rb'");

    /* close_fds, as Python's os.popen: a descriptor the caller left inheritable is closed in
     * the child. */
    int keep = dup(0);
    assert_true(keep > 2);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "test -e /proc/self/fd/%d || test -e /dev/fd/%d && echo open", keep, keep);
    p = st_os_popen(cmd, "r");
    assert_non_null(p);
    char line[16] = "";
    assert_null(fgets(line, sizeof line, st_os_popen_file_stream(p)));
    assert_int_equal(st_os_popen_file_close(p, &status), 0);
    st_os_popen_file_free(p);
    close(keep);
}

/* ---- the portability fixes: large files, read errors, the SIGPIPE guard ---------------------- */

static void test_large_file_offsets(void **state)
{
    (void)state;
    /* Offsets past 4 GiB cross the int64_t API whole: a library built without large-file
     * support on a 32-bit system fails here (EINVAL/EFBIG) or truncates the offset. */
    const int64_t big = ((int64_t)5 << 30) + 7;
    int fd = st_os_open("sparse", O_RDWR | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(st_os_ftruncate(fd, big), 0);
    int64_t pos = 0;
    assert_int_equal(st_os_lseek(fd, 0, SEEK_END, &pos), 0);
    assert_true(pos == big);
    assert_int_equal(st_os_lseek(fd, big - 3, SEEK_SET, &pos), 0);
    assert_int_equal(st_os_write(fd, "end", 3), 0);
    st_os_stat_result st;
    assert_int_equal(st_os_fstat(fd, &st), 0);
    assert_true(st.st_size == big);
    assert_int_equal(st_os_lockf(fd, ST_OS_LOCK_EX | ST_OS_LOCK_NB, 1, big + 10, SEEK_SET), 0);
    assert_int_equal(st_os_lockf(fd, ST_OS_LOCK_UN, 1, big + 10, SEEK_SET), 0);
    st_os_close(fd);
    assert_int_equal(st_os_truncate("sparse", big + 1), 0);
    assert_int_equal(st_os_stat("sparse", &st), 0);
    assert_true(st.st_size == big + 1);
}

static void test_read_errors_are_reported(void **state)
{
    (void)state;
    /* A readdir() that fails part way (EOVERFLOW: what a 32-bit readdir without large-file
     * support says for a 64-bit inode number) is an error, never a shorter directory. */
    assert_int_equal(st_os_mkdir("d", 0755), 0);
    write_file("d/a", "");
    write_file("d/b", "");
    st__dir_inject_error(1, EOVERFLOW);
    assert_null(st_os_listdir("d"));
    assert_os_error(EOVERFLOW, "OSError", "'d'");
    st__dir_inject_error(0, EOVERFLOW);
    assert_null(st_os_listdir("d"));
    assert_os_error(EOVERFLOW, "OSError", "'d'");

    st_os_scandir_iterator *it = st_os_scandir("d");
    assert_non_null(it);
    st_os_direntry *e;
    st__dir_inject_error(1, EOVERFLOW);
    assert_int_equal(st_os_scandir_iterator_next(it, &e), 1);
    assert_int_equal(st_os_scandir_iterator_next(it, &e), -1);
    assert_os_error(EOVERFLOW, "OSError", "'d'");
    st_os_scandir_iterator_free(it);

    /* walk: onerror hears of it, and the directory is not yielded (Python's os.walk). */
    int calls[3] = {0, 0, 0};
    st_os_walk_options o = ST_OS_WALK_OPTIONS_INIT;
    o.onerror = on_error;
    o.onerror_ctx = calls;
    st_os_walk_iterator *w = st_os_walk("d", &o);
    st_os_walk_step *s;
    st__dir_inject_error(0, EOVERFLOW);
    assert_int_equal(st_os_walk_iterator_next(w, &s), 0);
    assert_int_equal(calls[0], 1);
    assert_int_equal(calls[1], EOVERFLOW);
    st_os_walk_iterator_free(w);
    st__dir_inject_error(0, 0);
}

/* Whether sig is pending for this thread or the process. */
static int is_pending(int sig)
{
    sigset_t p;
    assert_int_equal(sigpending(&p), 0);
    return sigismember(&p, sig) == 1;
}

static void test_sigpipe_guard(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(st__pipe_cloexec(fds), 0);
    close(fds[0]);
    sigset_t usr1, before, after;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    assert_int_equal(pthread_sigmask(SIG_BLOCK, &usr1, &before), 0);
    assert_int_equal(pthread_sigmask(SIG_BLOCK, NULL, &before), 0);

    /* The signal our write raised is taken, and the caller's mask is as it was. */
    st__sigpipe_guard g;
    st__sigpipe_block(&g);
    assert_int_equal(st__write_full(fds[1], "x", 1), -1);
    assert_int_equal(errno, EPIPE);
    st__sigpipe_release(&g, 1);
    assert_int_equal(pthread_sigmask(SIG_BLOCK, NULL, &after), 0);
    assert_int_equal(sigismember(&after, SIGUSR1), 1);
    assert_int_equal(sigismember(&after, SIGPIPE), 0);
    assert_false(is_pending(SIGPIPE));

    /* A caller that blocks SIGPIPE itself keeps it blocked, and pending: it is theirs. */
    sigset_t pipe_set;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    assert_int_equal(pthread_sigmask(SIG_BLOCK, &pipe_set, NULL), 0);
    st__sigpipe_block(&g);
    assert_int_equal(st__write_full(fds[1], "x", 1), -1);
    st__sigpipe_release(&g, 1);
    assert_int_equal(pthread_sigmask(SIG_BLOCK, NULL, &after), 0);
    assert_int_equal(sigismember(&after, SIGPIPE), 1);
    assert_true(is_pending(SIGPIPE));
    int sig;
    assert_int_equal(sigwait(&pipe_set, &sig), 0);

    assert_int_equal(pthread_sigmask(SIG_SETMASK, &before, NULL), 0);
    close(fds[1]);
}

/* ---- names that are not UTF-8 ------------------------------------------------------------ */

/* os.fsdecode / os.fsencode: surrogateescape both ways, every byte back exactly. */
static void test_fsdecode_fsencode(void **state)
{
    (void)state;
    size_t n;
    char *t = st_os_fsdecode("a\xff\xc3\xa9\xe2\x82", 6, &n);
    assert_non_null(t);
    /* 'a\udcff\xe9\udce2\udc82' as the library's str text */
    assert_int_equal(n, 1 + 3 + 2 + 3 + 3);
    assert_memory_equal(t, "a\xed\xb3\xbf\xc3\xa9\xed\xb3\xa2\xed\xb2\x82", n);
    char *b = st_os_fsencode(t, n, &n);
    assert_int_equal(n, 6);
    assert_memory_equal(b, "a\xff\xc3\xa9\xe2\x82", 6);
    st_free(t);
    st_free(b);
    for (int c = 0; c < 256; c++) { /* every byte alone, and after a lead byte */
        unsigned char in[3] = {(unsigned char)c, 0xc3, (unsigned char)c};
        for (size_t len = 1; len <= 2; len++) {
            const unsigned char *p = len == 1 ? in : in + 1;
            size_t tl, bl;
            t = st_os_fsdecode(p, len, &tl);
            assert_non_null(t);
            b = st_os_fsencode(t, tl, &bl);
            assert_non_null(b);
            assert_int_equal(bl, len);
            assert_memory_equal(b, p, bl);
            st_free(t);
            st_free(b);
        }
    }
    assert_null(st_os_fsencode("\xed\xa0\x80", 3, NULL)); /* '\ud800': not an escaped byte */
    assert_string_equal(st_error_last()->type, "UnicodeEncodeError");
    assert_string_equal(st_error_message(),
                        "'utf-8' codec can't encode character '\\ud800' in position 0: surrogates not allowed");
    st_value *bytes = st_value_bytes("\xff", 1);
    st_value *str = st_os_fsdecode_value(bytes);
    char *r = st_value_repr(str);
    assert_string_equal(r, "'\\udcff'");
    st_free(r);
    st_value *back = st_os_fsencode_value(str);
    assert_int_equal(st_value_equal(back, bytes), 1);
    st_value *same = st_os_fsdecode_value(str); /* a str is returned as it is */
    assert_ptr_equal(same, str);
    st_value_unref(same);
    st_value *i = st_value_int(1);
    assert_null(st_os_fsencode_value(i));
    assert_string_equal(st_error_message(), "expected str, bytes or os.PathLike object, not int");
    st_value_unref(i);
    st_value_unref(back);
    st_value_unref(str);
    st_value_unref(bytes);
}

/* Values <-> C vectors: lists of str/bytes to argv, dicts to environment blocks and back. */
static void test_value_strv(void **state)
{
    (void)state;
    st_value *list = st_value_parse("['a', '\\udcff', b'\\xfe', 'caf\\xe9']");
    assert_non_null(list);
    const char **v = st_value_list_to_strv(list);
    assert_non_null(v);
    assert_int_equal(st_strv_len(v), 4);
    assert_string_equal(v[1], "\xff");
    assert_string_equal(v[2], "\xfe");
    assert_string_equal(v[3], "caf\xc3\xa9");
    st_value *again = st_value_list_from_strv(v);
    st_value *want = st_value_parse("['a', '\\udcff', '\\udcfe', 'caf\\xe9']");
    assert_int_equal(st_value_equal(again, want), 1);
    st_value_unref(again);
    st_value_unref(want);
    st_strv_free(v);
    st_value_unref(list);
    list = st_value_parse("['a\\x00b']");
    assert_null(st_value_list_to_strv(list));
    assert_string_equal(st_error_message(), "embedded null byte");
    st_value_unref(list);
    list = st_value_parse("[1]");
    assert_null(st_value_list_to_strv(list));
    assert_int_equal(st_error_code(), ST_ETYPE);
    st_value_unref(list);

    const char *env[] = {"A=1", "B=x=y", "noequals", "A=2", "C=\xff", "=empty", NULL};
    st_value *d = st_value_dict_from_environ(env);
    char *r = st_value_repr(d);
    assert_string_equal(r, "{'A': '1', 'B': 'x=y', 'C': '\\udcff', '': 'empty'}");
    st_free(r);
    v = st_value_dict_to_environ(d);
    assert_null(v); /* the empty name */
    assert_string_equal(st_error_message(), "illegal environment variable name");
    st_value *empty = st_value_str("");
    assert_int_equal(st_value_dict_delete(d, empty), 0);
    st_value_unref(empty);
    v = st_value_dict_to_environ(d);
    assert_non_null(v);
    assert_int_equal(st_strv_len(v), 3);
    assert_string_equal(v[0], "A=1");
    assert_string_equal(v[1], "B=x=y");
    assert_string_equal(v[2], "C=\xff");
    st_strv_free(v);
    st_value_unref(d);
    d = st_value_parse("{'A=B': 'x'}");
    assert_null(st_value_dict_to_environ(d));
    assert_string_equal(st_error_message(), "illegal environment variable name");
    st_value_unref(d);
}

/* Pickles of our value and of CPython's expression over the same raw arguments are equal. */
static void expect_python_pickle(const st_value *got, const char *expr, const char *const *args)
{
    char code[256];
    snprintf(code, sizeof code, "import glob, os, pickle, sys; print(pickle.dumps(%s, 5).hex())", expr);
    char *want = st_test_python_args(code, args);
    if (!want)
        return;
    char *hex = st_test_pickle_hex(got, 5);
    assert_string_equal(hex, want);
    free(hex);
    free(want);
}

/* environ, listdir and walk as CPython 3.13 gives them, compared through pickle. */
static void test_names_as_python(void **state)
{
    (void)state;
    char dir[] = "/tmp/st_test_names_XXXXXX";
    assert_non_null(mkdtemp(dir));
    static const char *const names[] = {"plain", "\xff", "caf\xc3\xa9", "\xe2\x82", NULL};
    char path[256];
    for (size_t i = 0; names[i]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        assert_int_equal(mkdir(path, 0700), 0);
        snprintf(path, sizeof path, "%s/%s/f\xfe", dir, names[i]);
        st_test_write_file(path, "", 0);
    }
    const char *const args[] = {dir, NULL};

    st_value *got = st_os_listdir_value(dir);
    assert_non_null(got);
    assert_int_equal(st_value_len(got), 4);
    expect_python_pickle(got, "os.listdir(sys.argv[1])", args);
    st_value_unref(got);

    got = st_os_walk_value(dir, NULL);
    assert_non_null(got);
    assert_int_equal(st_value_len(got), 5);
    expect_python_pickle(got, "list(os.walk(sys.argv[1]))", args);
    st_value_unref(got);

    assert_int_equal(setenv("ST_TEST_NAMES", "v\xff\xc3\xa9", 1), 0);
    got = st_os_environ_value();
    assert_non_null(got);
    st_value *one = st_value_dict();
    st_value *key = st_value_str("ST_TEST_NAMES");
    st_value *val = st_value_dict_get(got, key);
    assert_non_null(val);
    assert_int_equal(st_value_dict_set(one, key, val), 0);
    expect_python_pickle(one, "{'ST_TEST_NAMES': os.environ['ST_TEST_NAMES']}", NULL);
    unsetenv("ST_TEST_NAMES");
    st_value_unref(key);
    st_value_unref(one);
    st_value_unref(got);

    for (size_t i = 0; names[i]; i++) {
        snprintf(path, sizeof path, "%s/%s/f\xfe", dir, names[i]);
        unlink(path);
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        rmdir(path);
    }
    rmdir(dir);
}

int main(void)
{
    g_home = getcwd(NULL, 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_environ, setup, teardown),
        cmocka_unit_test_setup_teardown(test_process_facts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cwd_any_length, setup, teardown),
        cmocka_unit_test_setup_teardown(test_descriptors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pipe_and_read_all, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stat_against_python, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_processing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_makedirs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_listdir_scandir, setup, teardown),
        cmocka_unit_test_setup_teardown(test_walk_matches_cpython, setup, teardown),
        cmocka_unit_test_setup_teardown(test_walk_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_walk_options_and_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_walk_symlink_loop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fwalk_symlinks_as_cpython, setup, teardown),
        cmocka_unit_test_setup_teardown(test_walk_deep, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lockfile, setup, teardown),
        cmocka_unit_test_setup_teardown(test_advisory_locks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fork_wait_kill, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exec, setup, teardown),
        cmocka_unit_test_setup_teardown(test_spawn, setup, teardown),
        cmocka_unit_test_setup_teardown(test_system_popen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_large_file_offsets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_errors_are_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sigpipe_guard, setup, teardown),
        cmocka_unit_test(test_fsdecode_fsencode),
        cmocka_unit_test(test_value_strv),
        cmocka_unit_test(test_names_as_python),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    free(g_home);
    return rc;
}
