/* Helpers that several test programs need alike: the checks of docs/conventions.md that every
 * module's tests make, files and vectors, the clock, facts about the test process, and the
 * reference CPython (pyref.h). Built once (support.c, pyref.c) into every test program.
 * Include after <cmocka.h>. */
#ifndef ST_TEST_SUPPORT_H
#define ST_TEST_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <systools/error.h>
#include <systools/value.h>

#include "pyref.h"

/* UNDER_ASAN: defined when AddressSanitizer instruments this build (gcc says so with a macro,
 * clang with __has_feature); tests that need the whole address space skip there. */
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
/* The hex of st_pickle_dumps(v, protocol) (free()); fails the test when dumping fails. */
char *st_test_pickle_hex(const st_value *v, int protocol);

/* Runs the reference CPython with `-c code` and the raw arguments args (NULL-terminated, any
 * bytes) and returns its stdout without the final newline (free()); NULL, after saying so, when
 * there is no CPython. Fails the test when CPython fails. For comparing what CPython makes of
 * bytes that are not UTF-8 (pickle.dumps(sys.argv[1:]).hex()). */
char *st_test_python_args(const char *code, const char *const *args);

#endif
/* The hex of st_pickle_dumps(v, protocol) (free()); fails the test when dumping fails. */
char *st_test_pickle_hex(const st_value *v, int protocol);

/* Runs the reference CPython with `-c code` and the raw arguments args (NULL-terminated, any
 * bytes) and returns its stdout without the final newline (free()); NULL, after saying so, when
 * there is no CPython. Fails the test when CPython fails. For comparing what CPython makes of
 * bytes that are not UTF-8 (pickle.dumps(sys.argv[1:]).hex()). */
char *st_test_python_args(const char *code, const char *const *args);

#endif

/* UNDER_TSAN: the same for ThreadSanitizer, whose allocator also needs room that an address
 * space limit takes away. */
#if defined(__SANITIZE_THREAD__)
#define UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UNDER_TSAN 1
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

/* Declares `var`, an options struct of version 1 as a program built against the older header
 * has it (of which only the bytes before first_new, the first field version 2 added, are
 * its own): init_fn at version 1 must write nothing from first_new on (the rest stays 0xAA,
 * and a function given var.o must read none of it). */
#define ST_OPTIONS_V1(type, init_fn, first_new, var)                                \
    union {                                                                        \
        type o;                                                                    \
        unsigned char bytes[sizeof(type)];                                         \
    } var;                                                                         \
    memset(&var, 0xAA, sizeof var);                                                \
    assert_int_equal(init_fn(&var.o, 1), 0);                                       \
    assert_int_equal(var.o.version, 1);                                            \
    for (size_t var##_i = offsetof(type, first_new); var##_i < sizeof var; var##_i++) \
        assert_int_equal(var.bytes[var##_i], 0xAA)

/* The emulator this test program runs under (ST_TEST_EMULATOR, e.g. "qemu-s390x"), or NULL when
 * it runs natively. */
const char *st_test_emulator(void);

/* Skips the running test under an emulator, saying why: for a case that would test qemu-user,
 * not the library. A macro: cmocka's skip() names the line it is called from. */
#define ST_TEST_SKIP_UNDER_EMULATION(why)                                          \
    do {                                                                           \
        if (st_test_emulator()) {                                                  \
            print_message("[  SKIP    ] under %s: %s\n", st_test_emulator(), why); \
            skip();                                                                \
        }                                                                          \
    } while (0)

/* The number of open descriptors of this process, or -1 where /proc/self/fd does not list them
 * (then a test skips its descriptor checks). */
int st_test_count_fds(void);

/* The monotonic clock, in seconds. */
double st_test_now(void);

/* Decodes the pairs of hex digits at the start of hex (up to the first other character) into a
 * malloc'd buffer, NUL-terminated so that text reads as a string; *len (when not NULL) gets the
 * number of bytes. */
unsigned char *st_test_unhex(const char *hex, size_t *len);

/* Writes n bytes to path (created or truncated). */
void st_test_write_file(const char *path, const void *data, size_t n);

/* The whole of path, malloc'd and NUL-terminated; *n (when not NULL) gets its size. */
char *st_test_read_file(const char *path, size_t *n);

/* A file of tests/vectors/ read a line at a time: after st_test_vectors_next(), line is the
 * line without its newline (len bytes, number lineno) and field[] the same line split at its
 * tabs, nfields of them (the last keeps the tabs of a line with more). */
typedef struct st_test_vectors {
    FILE *f;
    char *line;
    size_t len;
    int lineno;
    const char *field[16];
    size_t nfields;
    size_t cap_, fields_cap_;
    char *fields_; /* the copy of line that field[] points into */
} st_test_vectors;

/* Opens tests/vectors/<rel>, e.g. "struct/pack.txt". */
void st_test_vectors_open(st_test_vectors *v, const char *rel);
/* Reads the next line; false at the end. */
bool st_test_vectors_next(st_test_vectors *v);
void st_test_vectors_close(st_test_vectors *v);

/* The hex of st_pickle_dumps(v, protocol) (free()); fails the test when dumping fails. */
char *st_test_pickle_hex(const st_value *v, int protocol);

/* Runs the reference CPython with `-c code` and the raw arguments args (NULL-terminated, any
 * bytes) and returns its stdout without the final newline (free()); NULL, after saying so, when
 * there is no CPython. Fails the test when CPython fails. For comparing what CPython makes of
 * bytes that are not UTF-8 (pickle.dumps(sys.argv[1:]).hex()). */
char *st_test_python_args(const char *code, const char *const *args);

#endif
