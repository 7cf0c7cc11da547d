/* The error model: codes, errno, messages, Python type names, traceback frames, and that
 * the last error is per thread. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "internal/error.h"
#include "internal/mem.h"
#include "systools/systools.h"

static void test_no_error(void **state)
{
    (void)state;
    st_error_clear();
    assert_null(st_error_last());
    assert_int_equal(st_error_code(), ST_OK);
    assert_int_equal(st_error_errno(), 0);
    assert_string_equal(st_error_message(), "");
    st_sys_exc_info_result e = st_sys_exc_info();
    assert_null(e.type);
    assert_null(e.value);
    assert_null(e.traceback);
}

static int raise_os_here(const char *path) { return ST_RAISE_OS(ENOENT, "cannot open '%s'", path); }

static void test_os_error_message(void **state)
{
    (void)state;
    errno = 1234;
    assert_int_equal(raise_os_here("/x"), -1);
    assert_int_equal(errno, 1234); /* raising does not clobber errno */
    const st_error *e = st_error_last();
    assert_non_null(e);
    assert_int_equal(e->code, ST_EOS);
    assert_int_equal(st_error_code(), ST_EOS);
    assert_int_equal(st_error_errno(), ENOENT);
    assert_string_equal(st_error_message(), "cannot open '/x': No such file or directory");
    assert_string_equal(e->type, "FileNotFoundError");
    assert_int_equal(e->frame_count, 1);
    assert_string_equal(e->frames[0].function, "raise_os_here");
    assert_string_equal(e->frames[0].file, "tests/test_error.c");
}

static void test_type_names(void **state)
{
    (void)state;
    static const struct {
        int code, err;
        const char *name;
    } cases[] = {
        {ST_EOS, EEXIST, "FileExistsError"},       {ST_EOS, EACCES, "PermissionError"},
        {ST_EOS, EPERM, "PermissionError"},        {ST_EOS, ENOTDIR, "NotADirectoryError"},
        {ST_EOS, EISDIR, "IsADirectoryError"},     {ST_EOS, EINTR, "InterruptedError"},
        {ST_EOS, EAGAIN, "BlockingIOError"},       {ST_EOS, ECHILD, "ChildProcessError"},
        {ST_EOS, EPIPE, "BrokenPipeError"},        {ST_EOS, ESRCH, "ProcessLookupError"},
        {ST_EOS, ETIMEDOUT, "TimeoutError"},       {ST_EOS, ECONNREFUSED, "ConnectionRefusedError"},
        {ST_EOS, ECONNRESET, "ConnectionResetError"}, {ST_EOS, EIO, "OSError"},
        {ST_EVALUE, 0, "ValueError"},              {ST_ETYPE, 0, "TypeError"},
        {ST_EKEY, 0, "KeyError"},                  {ST_EINDEX, 0, "IndexError"},
        {ST_EOVERFLOW, 0, "OverflowError"},        {ST_ESYNTAX, 0, "SyntaxError"},
        {ST_ETIMEOUT, 0, "TimeoutError"},          {ST_ENOMEM, 0, "MemoryError"},
        {ST_ECALLEDPROCESS, 0, "subprocess.CalledProcessError"},
        {ST_EEOF, 0, "EOFError"},                  {ST_ERECURSION, 0, "RecursionError"},
        {ST_ESTATE, 0, "RuntimeError"},            {ST_ENOTSUP, 0, "NotImplementedError"},
        {ST_ECONFLICT, 0, "ConflictError"},        {ST_EAUTH, 0, "multiprocessing.AuthenticationError"},
        {999, 0, "Exception"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_string_equal(st_error_type_name(cases[i].code, cases[i].err), cases[i].name);
}

static void test_module_specific_type(void **state)
{
    (void)state;
    ST_RAISE_AS(ST_EFORMAT, "struct.error", "bad char in struct format");
    assert_string_equal(st_error_last()->type, "struct.error");
    assert_int_equal(st_error_code(), ST_EFORMAT);
    assert_int_equal(st_error_errno(), 0);
}

static int inner(void) { return ST_RAISE(ST_EVALUE, "bad value %d", 42); }
static int middle(void) { return inner() < 0 ? ST_TRACE() : 0; }
static int outer(void) { return middle() < 0 ? ST_TRACE() : 0; }

static void test_traceback_frames(void **state)
{
    (void)state;
    assert_int_equal(outer(), -1);
    const st_error *e = st_error_last();
    assert_int_equal(e->frame_count, 3);
    assert_string_equal(e->frames[0].function, "inner");
    assert_string_equal(e->frames[1].function, "middle");
    assert_string_equal(e->frames[2].function, "outer");
    assert_true(e->frames[0].line > 0);
    st_sys_exc_info_result x = st_sys_exc_info();
    assert_string_equal(x.type, "ValueError");
    assert_string_equal(x.value, "bad value 42");
    /* Python's order: most recent call last. */
    const char *tb = x.traceback;
    assert_non_null(tb);
    assert_true(strncmp(tb, "Traceback (most recent call last):\n", 35) == 0);
    const char *po = strstr(tb, "in outer\n"), *pm = strstr(tb, "in middle\n"), *pi = strstr(tb, "in inner\n");
    assert_non_null(po);
    assert_non_null(pm);
    assert_non_null(pi);
    assert_true(po < pm && pm < pi);
    assert_non_null(strstr(tb, "  File \"tests/test_error.c\", line "));
    assert_non_null(strstr(tb, "\nValueError: bad value 42\n"));
}

static int recurse(int n) { return n == 0 ? ST_RAISE(ST_ERECURSION, "deep") : (recurse(n - 1), ST_TRACE()); }

static void test_deep_traceback_bounded(void **state)
{
    (void)state;
    recurse(100);
    const st_error *e = st_error_last();
    assert_int_equal(e->frame_count, 32);
    assert_string_equal(e->frames[0].function, "recurse");
    assert_non_null(strstr(st_sys_exc_info().traceback, "[69 outer frames not recorded]"));
}

static void test_new_error_replaces_old(void **state)
{
    (void)state;
    outer();
    ST_RAISE(ST_EKEY, "'k'");
    assert_int_equal(st_error_last()->frame_count, 1);
    assert_string_equal(st_error_message(), "'k'");
    assert_non_null(strstr(st_sys_exc_info().traceback, "\nKeyError: 'k'\n"));
    st_error_clear();
    assert_null(st_error_last());
    /* ST_TRACE without an error is harmless. */
    assert_int_equal(ST_TRACE(), -1);
    assert_null(st_error_last());
}

static void test_long_message(void **state)
{
    (void)state;
    char *path = st__malloc(10000);
    assert_non_null(path);
    memset(path, 'p', 9999);
    path[9999] = '\0';
    ST_RAISE_OS(EACCES, "cannot open '%s'", path);
    assert_int_equal(strlen(st_error_message()), 9999 + strlen("cannot open '': Permission denied"));
    st_free(path);
}

typedef struct {
    pthread_barrier_t *barrier;
    int code;
    int err;
    char message[64];
    int ok;
} thread_arg;

static void *thread_main(void *p)
{
    thread_arg *a = p;
    if (a->code == ST_EOS)
        ST_RAISE_OS(a->err, "thread %d", a->err);
    else
        ST_RAISE(a->code, "thread value");
    pthread_barrier_wait(a->barrier); /* both threads have raised before either checks */
    const st_error *e = st_error_last();
    a->ok = e && (int)e->code == a->code && st_error_errno() == (a->code == ST_EOS ? a->err : 0);
    snprintf(a->message, sizeof a->message, "%s", st_error_message());
    return NULL;
}

static void test_thread_local(void **state)
{
    (void)state;
    st_error_clear();
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, 2);
    thread_arg a = {&barrier, ST_EOS, ENOENT, "", 0}, b = {&barrier, ST_EVALUE, 0, "", 0};
    pthread_t ta, tb;
    assert_int_equal(pthread_create(&ta, NULL, thread_main, &a), 0);
    assert_int_equal(pthread_create(&tb, NULL, thread_main, &b), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    pthread_barrier_destroy(&barrier);
    assert_true(a.ok);
    assert_true(b.ok);
    assert_string_equal(a.message, "thread 2: No such file or directory");
    assert_string_equal(b.message, "thread value");
    assert_null(st_error_last()); /* the main thread saw neither */
}

static void test_memory_helpers(void **state)
{
    (void)state;
    st__strv sv = ST__STRV_INIT;
    assert_int_equal(st__strv_push(&sv, "b"), 0);
    assert_int_equal(st__strv_insert(&sv, 0, "a"), 0);
    assert_int_equal(st__strv_insert(&sv, 2, "c"), 0);
    const char **v = st__strv_detach(&sv);
    assert_int_equal(st_strv_len(v), 3);
    assert_string_equal(v[0], "a");
    assert_string_equal(v[1], "b");
    assert_string_equal(v[2], "c");
    const char **copy = st__strv_dup(v);
    st_strv_free(v);
    assert_string_equal(copy[2], "c");
    assert_null(copy[3]);
    st_strv_free(copy);
    assert_int_equal(st_strv_len(NULL), 0);
    st_strv_free(NULL);
    st_free(NULL);

    st__buf b = ST__BUF_INIT;
    for (int i = 0; i < 1000; i++)
        assert_int_equal(st__buf_printf(&b, "%d,", i), 0);
    char *s = st__buf_detach(&b);
    assert_int_equal(strncmp(s, "0,1,2,", 6), 0);
    assert_int_equal(strlen(s), 3890);
    st_free(s);
    assert_null(st__reallocarray(NULL, SIZE_MAX / 2, 4));
    assert_int_equal(st_error_code(), ST_ENOMEM);
    assert_int_equal(st_version(), ST_VERSION_NUMBER);
    assert_string_equal(st_version_string(), ST_VERSION_STRING);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_error),
        cmocka_unit_test(test_os_error_message),
        cmocka_unit_test(test_type_names),
        cmocka_unit_test(test_module_specific_type),
        cmocka_unit_test(test_traceback_frames),
        cmocka_unit_test(test_deep_traceback_bounded),
        cmocka_unit_test(test_new_error_replaces_old),
        cmocka_unit_test(test_long_message),
        cmocka_unit_test(test_thread_local),
        cmocka_unit_test(test_memory_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
