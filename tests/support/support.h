/* Helpers that several test programs need alike: the checks of docs/conventions.md that every
 * module's tests make, and facts about the test process. Include after <cmocka.h>. */
#ifndef ST_TEST_SUPPORT_H
#define ST_TEST_SUPPORT_H

#include <dirent.h>
#include <string.h>

#include <systools/error.h>

/* UNDER_ASAN: defined when AddressSanitizer instruments this build (gcc says so with a macro,
 * clang with __has_feature); tests that need the whole address space skip there. */
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

/* Rule 5 for one options struct: its INIT macro and its _init() function both give every field
 * zero but the version; _init() refuses version 0, a newer version and NULL with ValueError and
 * then leaves the struct alone. The INIT copy is static so that its padding is zero too. */
#define ST_ASSERT_OPTIONS_INIT(type, INIT, VERSION, init_fn)                        \
    do {                                                                           \
        static const type by_macro_ = INIT;                                        \
        type zeroed_, by_fn_, untouched_;                                          \
        memset(&zeroed_, 0, sizeof zeroed_);                                       \
        zeroed_.version = (VERSION);                                               \
        assert_memory_equal(&by_macro_, &zeroed_, sizeof zeroed_);                 \
        memset(&by_fn_, 0xa5, sizeof by_fn_);                                      \
        assert_int_equal(init_fn(&by_fn_, (VERSION)), 0);                          \
        assert_memory_equal(&by_fn_, &zeroed_, sizeof zeroed_);                    \
        memset(&by_fn_, 0xa5, sizeof by_fn_);                                      \
        memset(&untouched_, 0xa5, sizeof untouched_);                              \
        assert_int_equal(init_fn(&by_fn_, 0), -1);                                 \
        assert_int_equal(st_error_code(), ST_EVALUE);                              \
        assert_non_null(strstr(st_error_message(), #type));                        \
        assert_int_equal(init_fn(&by_fn_, (VERSION) + 1), -1);                     \
        assert_int_equal(st_error_code(), ST_EVALUE);                              \
        assert_memory_equal(&by_fn_, &untouched_, sizeof untouched_);              \
        assert_int_equal(init_fn(NULL, (VERSION)), -1);                            \
        assert_int_equal(st_error_code(), ST_EVALUE);                              \
    } while (0)

/* The number of open descriptors of this process, or -1 where /proc/self/fd does not list them
 * (then a test skips its descriptor checks). */
static inline int st_test_count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    int n = 0;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

#endif
