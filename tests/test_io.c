/* io: st_bytesio replayed against io.BytesIO operation sequences recorded from CPython 3.13
 * (tests/gen/gen_io.py), the StringIO-style text helpers, the FILE view; and the file objects
 * (st_file) against io.TextIOWrapper and the codecs (tests/gen/gen_text.py), over memory and
 * over real files. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "support/support.h"
#include "systools/common.h"
#include "systools/error.h"
#include "systools/io.h"
#include "systools/sys.h"
#include "systools/value.h"
#include <fcntl.h>
#include <unistd.h>

/* ---- CPython vectors ----------------------------------------------------------------------- */

/* Decodes "x<hex>" (bytes as the vectors write them) into a malloc'd buffer. */
static unsigned char *unhex(const char *s, size_t *len)
{
    assert_true(s[0] == 'x');
    return st_test_unhex(s + 1, len);
}

static void expect_bytes(const char *want_hex, const unsigned char *got, size_t got_len, int lineno)
{
    size_t want_len;
    unsigned char *want = unhex(want_hex, &want_len);
    if (!got || got_len != want_len || memcmp(got, want, want_len) != 0) {
        print_error("vectors line %d: bytes differ (got %zu bytes, want %zu)\n", lineno, got_len, want_len);
        fail();
    }
    free(want);
}

static void expect_int(const char *want, ptrdiff_t got, int lineno)
{
    if (got != (ptrdiff_t)strtoll(want, NULL, 10)) {
        print_error("vectors line %d: got %td, want %s\n", lineno, got, want);
        fail();
    }
}

/* Whether a Python int is a ptrdiff_t here: on a 32-bit machine a wider one is no C argument
 * (CPython built for it raises OverflowError before BytesIO sees it). */
static bool fits_ptrdiff(long long x) { return x >= -PTRDIFF_MAX - 1 && x <= PTRDIFF_MAX; }

/* One recorded operation: runs it and compares the result or the raised error. Returns false,
 * without running it, when an argument is wider than this machine's ptrdiff_t. */
static bool replay(st_bytesio *f, char *line, int lineno)
{
    char *sep = strstr(line, " = ");
    char *err = strstr(line, " ! ");
    assert_true(sep || err);
    char *result = sep ? sep + 3 : err + 3;
    *(sep ? sep : err) = '\0';
    char op[16];
    long long a = 0, b = 0;
    char arg[8] = "";
    int nargs = sscanf(line, "%15s %lld %lld", op, &a, &b);
    if (strcmp(op, "write") != 0 && nargs >= 2 && !fits_ptrdiff(a))
        return false;
    st_error_clear();

    int failed = 0;
    if (strcmp(op, "write") == 0) {
        size_t len;
        unsigned char *data = unhex(line + 6, &len);
        ptrdiff_t r = st_bytesio_write(f, data, len);
        free(data);
        failed = r < 0;
        if (!failed)
            expect_int(result, r, lineno);
    } else if (strcmp(op, "read") == 0 || strcmp(op, "readline") == 0) {
        assert_int_equal(nargs, 2);
        size_t len = 0;
        unsigned char *got = op[4] ? st_bytesio_readline(f, (ptrdiff_t)a, &len)
                                   : st_bytesio_read(f, (ptrdiff_t)a, &len);
        failed = !got;
        if (got)
            expect_bytes(result, got, len, lineno);
        st_free(got);
    } else if (strcmp(op, "readinto") == 0) {
        unsigned char buf[64];
        ptrdiff_t r = st_bytesio_readinto(f, buf, (size_t)a);
        failed = r < 0;
        if (!failed) {
            expect_int(result, r, lineno);
            expect_bytes(strchr(result, ' ') + 1, buf, (size_t)r, lineno);
        }
    } else if (strcmp(op, "seek") == 0) {
        assert_int_equal(nargs, 3);
        ptrdiff_t r = st_bytesio_seek(f, (ptrdiff_t)a, (int)b);
        failed = r < 0;
        if (!failed)
            expect_int(result, r, lineno);
    } else if (strcmp(op, "tell") == 0) {
        ptrdiff_t r = st_bytesio_tell(f);
        failed = r < 0;
        if (!failed)
            expect_int(result, r, lineno);
    } else if (strcmp(op, "truncate") == 0) {
        assert_int_equal(sscanf(line, "%*s %7s", arg), 1);
        ptrdiff_t r = st_bytesio_truncate(f, arg[0] == 'N' ? ST_IO_NONE : (ptrdiff_t)strtoll(arg, NULL, 10));
        failed = r < 0;
        if (!failed)
            expect_int(result, r, lineno);
    } else if (strcmp(op, "getvalue") == 0) {
        size_t len = 0, blen = 0;
        unsigned char *got = st_bytesio_getvalue(f, &len);
        const unsigned char *borrowed = st_bytesio_getbuffer(f, &blen);
        failed = !got;
        assert_true(!got == !borrowed);
        if (got) {
            expect_bytes(result, got, len, lineno);
            expect_bytes(result, borrowed, blen, lineno);
            assert_int_equal(borrowed[blen], 0);
        }
        st_free(got);
    } else if (strcmp(op, "close") == 0) {
        assert_int_equal(st_bytesio_close(f), 0);
        assert_true(st_bytesio_closed(f));
        assert_string_equal(result, "N");
    } else {
        print_error("vectors line %d: unknown op %s\n", lineno, op);
        fail();
    }

    if (failed != (err != NULL)) {
        print_error("vectors line %d: %s: %s\n", lineno, failed ? "unexpected error" : "no error raised",
                    failed ? st_error_message() : result);
        fail();
    }
    if (err) {
        const st_error *e = st_error_last();
        size_t tlen = strcspn(result, " ");
        if (strlen(e->type) != tlen || strncmp(e->type, result, tlen) != 0 ||
            strcmp(e->message, result + tlen + 1) != 0) {
            print_error("vectors line %d: got %s: %s, want %s\n", lineno, e->type, e->message, result);
            fail();
        }
    }
    return true;
}

static void test_bytesio_vectors(void **state)
{
    (void)state;
    st_test_vectors v;
    st_test_vectors_open(&v, "io/bytesio.txt");
    int cases = 0, ops = 0, cut = 0;
    st_bytesio *f = NULL;
    while (st_test_vectors_next(&v)) {
        if (v.line[0] == '#')
            continue;
        if (strncmp(v.line, "new ", 4) == 0) {
            st_bytesio_free(f);
            size_t len;
            unsigned char *init = unhex(v.line + 4, &len);
            f = st_bytesio_new(init, len);
            assert_non_null(f);
            free(init);
            cases++;
            continue;
        }
        if (!f)
            continue; /* the rest of a case cut short */
        if (replay(f, v.line, v.lineno)) {
            ops++;
        } else { /* what follows depends on a position this machine cannot hold */
            st_bytesio_free(f);
            f = NULL;
            cut++;
        }
    }
    st_bytesio_free(f);
    st_test_vectors_close(&v);
    printf("replayed %d BytesIO cases, %d operations; %d cases cut short at an argument wider "
           "than ptrdiff_t\n", cases, ops, cut);
    assert_true(cases >= 1000);
    assert_true(sizeof(ptrdiff_t) < 8 || cut == 0);
}

/* One recorded io.StringIO operation, replayed with the text helpers. */
static void replay_text(st_bytesio *f, char *line, int lineno)
{
    char *sep = strstr(line, " = ");
    assert_non_null(sep);
    char *result = sep + 3;
    *sep = '\0';
    char op[16];
    long long a = 0, b = 0;
    sscanf(line, "%15s %lld %lld", op, &a, &b);
    size_t len = 0;
    char *got = NULL;
    if (strcmp(op, "write") == 0) {
        size_t n;
        char *data = (char *)unhex(line + 6, &n);
        data[n] = '\0';
        /* write_text takes NUL-terminated text: a NUL character (one code point, as in
         * Python) goes in with st_bytesio_write() between the pieces. */
        ptrdiff_t chars = 0;
        for (size_t i = 0;; i++) {
            ptrdiff_t r = st_bytesio_write_text(f, data + i);
            assert_true(r >= 0);
            chars += r;
            i += strlen(data + i);
            if (i >= n)
                break;
            assert_int_equal(st_bytesio_write(f, "", 1), 1);
            chars++;
        }
        free(data);
        expect_int(result, chars, lineno);
        return;
    }
    if (strcmp(op, "seek") == 0) {
        assert_true(st_bytesio_seek(f, 0, (int)b) >= 0);
        return;
    }
    if (strcmp(op, "read") == 0)
        got = st_bytesio_read_text(f, (ptrdiff_t)a, &len);
    else if (strcmp(op, "readline") == 0)
        got = st_bytesio_readline_text(f, (ptrdiff_t)a, &len);
    else if (strcmp(op, "getvalue") == 0)
        got = st_bytesio_getvalue_text(f, &len);
    if (!got) {
        print_error("text vectors line %d: %s failed: %s\n", lineno, op, st_error_message());
        fail();
    }
    expect_bytes(result, (unsigned char *)got, len, lineno);
    st_free(got);
}

static void test_stringio_vectors(void **state)
{
    (void)state;
    st_test_vectors v;
    st_test_vectors_open(&v, "io/stringio.txt");
    int cases = 0;
    st_bytesio *f = NULL;
    while (st_test_vectors_next(&v)) {
        if (v.line[0] == '#')
            continue;
        if (strncmp(v.line, "new ", 4) == 0) {
            st_bytesio_free(f);
            size_t len;
            unsigned char *init = unhex(v.line + 4, &len);
            f = st_bytesio_new(init, len);
            assert_non_null(f);
            free(init);
            cases++;
            continue;
        }
        replay_text(f, v.line, v.lineno);
    }
    st_bytesio_free(f);
    st_test_vectors_close(&v);
    assert_true(cases >= 500);
}

/* ---- bytes edge cases ------------------------------------------------------------------------ */

static void test_bytesio_far_positions(void **state)
{
    (void)state;
    st_bytesio *f = st_bytesio_new("abc", 3);
    assert_non_null(f);
    /* A write whose end would not fit in ptrdiff_t: CPython's OverflowError, no allocation. */
    assert_int_equal(st_bytesio_seek(f, PTRDIFF_MAX - 1, 0), PTRDIFF_MAX - 1);
    assert_int_equal(st_bytesio_write(f, "xyz", 3), -1);
    assert_int_equal(st_error_code(), ST_EOVERFLOW);
    assert_string_equal(st_error_message(), "new buffer size too large");
    assert_int_equal(st_bytesio_seek(f, 2, 1), -1);
    assert_string_equal(st_error_message(), "new position too large");
    assert_string_equal(st_error_last()->type, "OverflowError");
    /* Nothing changed: the size is still 3, and an empty write does not zero-fill. */
    assert_int_equal(st_bytesio_write(f, "", 0), 0);
    size_t len;
    assert_non_null(st_bytesio_getbuffer(f, &len));
    assert_int_equal(len, 3);
    /* Writing past the end zero-fills the gap. */
    assert_int_equal(st_bytesio_seek(f, 6, 0), 6);
    assert_int_equal(st_bytesio_write(f, "z", 1), 1);
    const unsigned char *p = st_bytesio_getbuffer(f, &len);
    assert_int_equal(len, 7);
    assert_memory_equal(p, "abc\0\0\0z", 7);
    st_bytesio_free(f);
    /* Large contents grow and are read back intact. */
    f = st_bytesio_new(NULL, 0);
    assert_non_null(f);
    for (int i = 0; i < 100000; i++)
        assert_int_equal(st_bytesio_printf(f, "%06d\n", i), 7);
    assert_int_equal(st_bytesio_seek(f, 7 * 54321, 0), 7 * 54321);
    unsigned char *line = st_bytesio_readline(f, -1, &len);
    assert_string_equal((char *)line, "054321\n");
    st_free(line);
    assert_int_equal(st_bytesio_tell(f), 7 * 54322);
    st_bytesio_free(f);
    st_bytesio_free(NULL);
}

/* ---- text ------------------------------------------------------------------------------------ */

static void test_text_helpers(void **state)
{
    (void)state;
    st_bytesio *f = st_bytesio_new(NULL, 0);
    assert_non_null(f);
    /* StringIO.write returns len(s), in code points: "Zoë → ☃\n" is 8. */
    assert_int_equal(st_bytesio_write_text(f, "Zo\xc3\xab \xe2\x86\x92 \xe2\x98\x83\n"), 8);
    assert_int_equal(st_bytesio_write_text(f, "line two\nend"), 12);
    assert_int_equal(st_bytesio_tell(f), 13 + 12); /* tell counts bytes (documented difference) */
    /* Invalid UTF-8 is refused before anything is written. */
    assert_int_equal(st_bytesio_write_text(f, "bad \xff"), -1);
    assert_int_equal(st_error_code(), ST_EVALUE);
    assert_string_equal(st_error_last()->type, "UnicodeDecodeError");
    assert_string_equal(st_error_message(), "'utf-8' codec can't decode byte 0xff in position 4: invalid start byte");
    assert_int_equal(st_bytesio_tell(f), 25);

    assert_int_equal(st_bytesio_seek(f, 0, 0), 0);
    size_t len;
    char *s = st_bytesio_read_text(f, 3, &len); /* read(3) counts characters */
    assert_string_equal(s, "Zo\xc3\xab");
    assert_int_equal(len, 4);
    st_free(s);
    s = st_bytesio_readline_text(f, 2, NULL); /* readline(2): limit in characters */
    assert_string_equal(s, " \xe2\x86\x92");
    st_free(s);
    s = st_bytesio_readline_text(f, -1, NULL);
    assert_string_equal(s, " \xe2\x98\x83\n");
    st_free(s);
    s = st_bytesio_readline_text(f, -1, NULL);
    assert_string_equal(s, "line two\n");
    st_free(s);
    s = st_bytesio_read_text(f, -1, NULL);
    assert_string_equal(s, "end");
    st_free(s);
    s = st_bytesio_read_text(f, -1, &len); /* at the end: "" */
    assert_string_equal(s, "");
    assert_int_equal(len, 0);
    st_free(s);

    /* A byte seek into the middle of a character is reported, and the position stays. */
    assert_int_equal(st_bytesio_seek(f, 3, 0), 3);
    assert_null(st_bytesio_read_text(f, 1, NULL));
    assert_string_equal(st_error_last()->type, "UnicodeDecodeError");
    assert_int_equal(st_bytesio_tell(f), 3);
    s = st_bytesio_getvalue_text(f, &len);
    assert_int_equal(len, 25);
    assert_memory_equal(s, "Zo\xc3\xab \xe2\x86\x92 \xe2\x98\x83\nline two\nend", 26);
    st_free(s);

    /* NUL characters travel (StringIO holds '\0' too). */
    assert_int_equal(st_bytesio_truncate(f, 0), 0);
    assert_int_equal(st_bytesio_seek(f, 0, 0), 0);
    assert_int_equal(st_bytesio_write(f, "a\0b\n", 4), 4);
    assert_int_equal(st_bytesio_seek(f, 0, 0), 0);
    s = st_bytesio_readline_text(f, -1, &len);
    assert_int_equal(len, 4);
    assert_memory_equal(s, "a\0b\n", 5);
    st_free(s);
    assert_int_equal(st_bytesio_write(f, "\xe2\x98", 2), 2); /* a cut-off character */
    assert_null(st_bytesio_getvalue_text(f, NULL));
    assert_string_equal(st_error_last()->type, "UnicodeDecodeError");

    assert_int_equal(st_bytesio_close(f), 0);
    assert_int_equal(st_bytesio_write_text(f, "x"), -1);
    assert_string_equal(st_error_message(), "I/O operation on closed file.");
    assert_int_equal(st_bytesio_printf(f, "%d", 1), -1);
    assert_null(st_bytesio_read_text(f, -1, NULL));
    assert_null(st_bytesio_getvalue_text(f, NULL));
    assert_null(st_bytesio_file(f));
    assert_string_equal(st_error_last()->type, "ValueError");
    assert_int_equal(st_bytesio_close(f), 0); /* closing twice is fine */
    st_bytesio_free(f);
}

/* ---- close / closed / free ---------------------------------------------------------------------- */

/* Asserts that the last call failed with BytesIO's closed-file ValueError. */
static void assert_closed_error(void)
{
    assert_int_equal(st_error_code(), ST_EVALUE);
    assert_string_equal(st_error_last()->type, "ValueError");
    assert_string_equal(st_error_message(), "I/O operation on closed file.");
    st_error_clear();
}

/* close() keeps the object: closed() answers 1 and every other method fails as in Python. */
static void test_closed(void **state)
{
    (void)state;
    st_bytesio *f = st_bytesio_new("abc\n", 4);
    assert_non_null(f);
    assert_int_equal(st_bytesio_closed(f), 0);
    assert_int_equal(st_bytesio_close(f), 0);
    assert_int_equal(st_bytesio_closed(f), 1);
    char buf[4];
    size_t len = 99;
    assert_int_equal(st_bytesio_write(f, "x", 1), -1);
    assert_closed_error();
    assert_int_equal(st_bytesio_write(f, "", 0), -1); /* even an empty write, as Python */
    assert_closed_error();
    assert_null(st_bytesio_read(f, -1, &len));
    assert_closed_error();
    assert_int_equal(len, 99); /* untouched on failure */
    assert_int_equal(st_bytesio_readinto(f, buf, sizeof buf), -1);
    assert_closed_error();
    assert_null(st_bytesio_readline(f, -1, NULL));
    assert_closed_error();
    assert_int_equal(st_bytesio_seek(f, 0, 0), -1);
    assert_closed_error();
    assert_int_equal(st_bytesio_tell(f), -1);
    assert_closed_error();
    assert_int_equal(st_bytesio_truncate(f, ST_IO_NONE), -1);
    assert_closed_error();
    assert_null(st_bytesio_getvalue(f, NULL));
    assert_closed_error();
    assert_null(st_bytesio_getbuffer(f, NULL));
    assert_closed_error();
    assert_int_equal(st_bytesio_write_text(f, "x"), -1);
    assert_closed_error();
    assert_int_equal(st_bytesio_printf(f, "%d", 1), -1);
    assert_closed_error();
    assert_null(st_bytesio_read_text(f, -1, NULL));
    assert_closed_error();
    assert_null(st_bytesio_readline_text(f, -1, NULL));
    assert_closed_error();
    assert_null(st_bytesio_getvalue_text(f, NULL));
    assert_closed_error();
    assert_null(st_bytesio_file(f));
    assert_closed_error();
    assert_int_equal(st_bytesio_close(f), 0); /* twice is fine */
    assert_int_equal(st_bytesio_closed(f), 1);
    st_bytesio_free(f);
    /* free() closes an open stream itself (ASan checks nothing leaks); NULL is accepted by
     * close() and free(); closed(NULL) is an error, not an answer. */
    f = st_bytesio_new("abc", 3);
    assert_non_null(f);
    st_bytesio_free(f);
    assert_int_equal(st_bytesio_close(NULL), 0);
    st_bytesio_free(NULL);
    assert_int_equal(st_bytesio_closed(NULL), -1);
    assert_int_equal(st_error_code(), ST_ETYPE);
}

/* ---- FILE view --------------------------------------------------------------------------------- */

static void test_file_view(void **state)
{
    (void)state;
    st_bytesio *f = st_bytesio_new("head\n", 5);
    assert_non_null(f);
    assert_int_equal(st_bytesio_seek(f, 0, 2), 5);
    FILE *out = st_bytesio_file(f);
    assert_non_null(out);
    /* print(3, 'apples', file=f): lands in the stream at once (the view is unbuffered). */
    assert_int_equal(fprintf(out, "%d %s\n", 3, "apples"), 9);
    size_t len;
    const unsigned char *p = st_bytesio_getbuffer(f, &len);
    assert_int_equal(len, 14);
    assert_memory_equal(p, "head\n3 apples\n", 14);
    assert_int_equal(st_bytesio_tell(f), 14);
    /* Positions are shared both ways. */
    assert_int_equal(ftell(out), 14);
    assert_int_equal(st_bytesio_seek(f, 0, 0), 0);
    assert_int_equal(ftell(out), 0);
    char line[32];
    assert_non_null(fgets(line, sizeof line, out));
    assert_string_equal(line, "head\n");
    assert_int_equal(st_bytesio_tell(f), 5);
    assert_int_equal(fseek(out, 0, SEEK_END), 0);
    assert_int_equal(st_bytesio_tell(f), 14);
    /* fseek past the end then a write: zero-filled, as BytesIO does. */
    assert_int_equal(fseek(out, 2, SEEK_CUR), 0);
    assert_true(fputs("z", out) >= 0); /* a non-negative number: glibc's 1, musl's other */
    p = st_bytesio_getbuffer(f, &len);
    assert_int_equal(len, 17);
    assert_memory_equal(p + 14, "\0\0z", 3);
    /* A negative absolute seek fails as fseek does, with EINVAL. */
    errno = 0;
    assert_int_equal(fseek(out, -1, SEEK_SET), -1);
    assert_int_equal(errno, EINVAL);
    /* A big formatted write. */
    assert_int_equal(fseek(out, 0, SEEK_SET), 0);
    for (int i = 0; i < 1000; i++)
        fprintf(out, "row %04d\n", i);
    assert_int_equal(st_bytesio_tell(f), 9000);
    assert_int_equal(fclose(out), 0);
    /* The stream outlives its view. */
    assert_false(st_bytesio_closed(f));
    assert_int_equal(st_bytesio_seek(f, 9 * 999, 0), 8991);
    char *s = st_bytesio_read_text(f, -1, NULL);
    assert_string_equal(s, "row 0999\n");
    st_free(s);

    /* Closing the stream under an open view makes the view's calls fail cleanly. */
    out = st_bytesio_file(f);
    assert_non_null(out);
    st_bytesio_close(f);
    errno = 0;
    assert_true(fputs("late", out) == EOF);
    assert_int_equal(errno, EBADF);
    fclose(out);
    st_bytesio_free(f);
}

/* ---- file objects: CPython vectors ------------------------------------------------------- */

/* The vectors' error form "!Type: message" against the last error. */
static void expect_error(const char *want, int lineno)
{
    const st_error *e = st_error_last();
    char got[1024];
    snprintf(got, sizeof got, "!%s: %s", e ? e->type : "?", e ? e->message : "?");
    if (strcmp(got, want) != 0) {
        print_error("vectors line %d: error\n  got  %s\n  want %s\n", lineno, got, want);
        fail();
    }
}

static void expect_hex(const char *want_hex, const char *got, size_t got_len, int lineno)
{
    size_t want_len;
    unsigned char *want = st_test_unhex(want_hex, &want_len);
    if (!got || got_len != want_len || memcmp(got, want, want_len) != 0) {
        print_error("vectors line %d: got %zu bytes, want %s\n", lineno, got ? got_len : 0, want_hex);
        fail();
    }
    free(want);
}

/* A text file over a new BytesIO holding hex, opened as the vector line says. */
static st_file *open_text(st_bytesio **b, const char *hex, const char *enc, const char *errors,
                          const char *newline, const char *mode, char **nlbuf)
{
    size_t n;
    unsigned char *data = st_test_unhex(hex, &n);
    *b = st_bytesio_new(data, n);
    free(data);
    assert_non_null(*b);
    st_io_open_options o = ST_IO_OPEN_OPTIONS_INIT;
    o.encoding = enc;
    o.errors = errors;
    *nlbuf = strcmp(newline, "N") ? (char *)st_test_unhex(newline + 1, NULL) : NULL;
    o.newline = *nlbuf;
    o.keep_fd = 1;
    st_file *f = st_io_open_bytesio(*b, mode, &o);
    assert_non_null(f);
    return f;
}

static void replay_codec(st_test_vectors *v)
{
    const char *op = v->field[0], *enc = v->field[1], *errors = v->field[2];
    const char *in = v->field[3], *want = v->field[4];
    st_bytesio *b;
    char *nl;
    if (!strcmp(op, "decode")) {
        st_file *f = open_text(&b, in, enc, errors, "x", "r", &nl); /* newline="" */
        size_t len;
        char *got = st_file_read(f, -1, &len);
        if (want[0] == '!') {
            assert_null(got);
            expect_error(want, v->lineno);
        } else {
            expect_hex(want, got, len, v->lineno);
        }
        st_free(got);
        st_file_free(f);
    } else {
        st_file *f = open_text(&b, "", enc, errors, "x", "w", &nl);
        size_t n;
        unsigned char *text = st_test_unhex(in, &n);
        ptrdiff_t w = st_file_write(f, text, n);
        if (want[0] == '!') {
            assert_int_equal(w, -1);
            expect_error(want, v->lineno);
        } else {
            assert_true(w >= 0);
            assert_int_equal(st_file_flush(f), 0);
            size_t len;
            const unsigned char *got = st_bytesio_getbuffer(b, &len);
            expect_hex(want, (const char *)got, len, v->lineno);
        }
        free(text);
        st_file_free(f);
    }
    free(nl);
    st_bytesio_free(b);
}

static void test_codec_vectors(void **state)
{
    (void)state;
    st_test_vectors v;
    st_test_vectors_open(&v, "io/codec.txt");
    int n = 0;
    while (st_test_vectors_next(&v)) {
        assert_int_equal(v.nfields, 5);
        replay_codec(&v);
        n++;
    }
    st_test_vectors_close(&v);
    assert_true(n > 1000);
}

/* `for line in f` over the "lines" vectors of readline(-1): st_file_next() over memory, and over
 * a real file for one case in ten. */
static void replay_next(st_test_vectors *v, int real)
{
    st_bytesio *b;
    char *nl;
    st_file *f = open_text(&b, v->field[5], v->field[1], v->field[2], v->field[3], "r", &nl);
    char path[] = "/tmp/st_test_io_XXXXXX";
    if (real) {
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        size_t n;
        unsigned char *data = st_test_unhex(v->field[5], &n);
        assert_int_equal(write(fd, data, n), (ssize_t)n);
        free(data);
        close(fd);
        st_file_free(f);
        st_io_open_options o = ST_IO_OPEN_OPTIONS_INIT;
        o.encoding = v->field[1];
        o.errors = v->field[2];
        o.newline = nl;
        f = st_io_open(path, "r", &o);
        assert_non_null(f);
    }
    char *want = strdup(v->field[6]);
    for (char *tok = want, *next; tok; tok = next) {
        next = tok[0] == '!' ? NULL : strchr(tok, ',');
        if (next)
            *next++ = '\0';
        const char *line;
        size_t len;
        int rc = st_file_next(f, &line, &len);
        if (tok[0] == '!') {
            assert_int_equal(rc, -1);
            expect_error(tok, v->lineno);
            break;
        }
        char *at = strchr(tok, '@');
        if (at)
            *at = '\0';
        if (!next) {
            assert_int_equal(rc, 0);
            break;
        }
        assert_int_equal(rc, 1);
        expect_hex(tok, line, len, v->lineno);
        assert_int_equal(line[len], '\0');
    }
    free(want);
    free(nl);
    st_file_free(f);
    st_bytesio_free(b);
    if (real)
        unlink(path);
}

/* "lines" and "read": readline(size) / read(n) until the end, with tell() after each line and
 * seek() back to every cookie giving the same rest. */
static void replay_reads(st_test_vectors *v)
{
    int lines = !strcmp(v->field[0], "lines");
    st_bytesio *b;
    char *nl;
    st_file *f = open_text(&b, v->field[5], v->field[1], v->field[2], v->field[3], "r", &nl);
    ptrdiff_t size = strtol(v->field[4], NULL, 10);
    char *want = strdup(v->field[6]);
    int64_t cookies[128];
    char *texts[128];
    size_t ncookies = 0;
    for (char *tok = want, *next; tok; tok = next) {
        /* the last result is "" (the end) or "!error", which may hold commas */
        next = tok[0] == '!' ? NULL : strchr(tok, ',');
        if (next)
            *next++ = '\0';
        size_t len;
        char *got = lines ? st_file_readline(f, size, &len) : st_file_read(f, size, &len);
        if (tok[0] == '!') {
            if (got)
                print_error("vectors line %d: no error, want %s\n", v->lineno, tok);
            assert_null(got);
            expect_error(tok, v->lineno);
            break;
        }
        if (!got)
            print_error("vectors line %d: %s\n", v->lineno, st_error_message());
        assert_non_null(got);
        char *at = strchr(tok, '@');
        if (at)
            *at = '\0';
        expect_hex(tok, got, len, v->lineno);
        if (!next) {
            st_free(got);
            break;
        }
        if (at) {
            int64_t pos = st_file_tell(f);
            long long cp = strtoll(at + 1, NULL, 10);
            /* CPython's cookie is the byte offset where the decoder is clean; then ours must
             * be the same number (but for bytes 'ignore' drops: CPython may count them in) */
            if (cp < (1LL << 32) && pos != cp && strcmp(v->field[2], "ignore")) {
                print_error("vectors line %d: tell %lld, want %lld\n", v->lineno, (long long)pos, cp);
                fail();
            }
            if (ncookies < 128) {
                cookies[ncookies] = pos;
                texts[ncookies++] = got;
                got = NULL;
            }
        }
        st_free(got);
        if (size == 0)
            break;
    }
    /* seek(cookie) then readline gives what followed it the first time */
    for (size_t i = 0; i + 1 < ncookies; i++) {
        assert_int_equal(st_file_seek(f, cookies[i], 0), cookies[i]);
        size_t len;
        char *again = st_file_readline(f, size, &len);
        if (!again || strcmp(again, texts[i + 1]))
            print_error("vectors line %d: after seek(%lld)\n", v->lineno, (long long)cookies[i]);
        assert_non_null(again);
        assert_string_equal(again, texts[i + 1]);
        st_free(again);
    }
    for (size_t i = 0; i < ncookies; i++)
        st_free(texts[i]);
    free(want);
    free(nl);
    st_file_free(f);
    st_bytesio_free(b);
}

static void replay_write(st_test_vectors *v)
{
    st_bytesio *b;
    char *nl;
    st_file *f = open_text(&b, "", v->field[1], v->field[2], v->field[3], "w", &nl);
    size_t n;
    unsigned char *text = st_test_unhex(v->field[4], &n);
    ptrdiff_t w = st_file_write(f, text, n);
    if (v->field[5][0] == '!') {
        assert_int_equal(w, -1);
        expect_error(v->field[5], v->lineno);
    } else {
        assert_true(w >= 0);
        assert_int_equal(st_file_flush(f), 0);
        size_t len;
        const unsigned char *got = st_bytesio_getbuffer(b, &len);
        expect_hex(v->field[5], (const char *)got, len, v->lineno);
    }
    free(text);
    free(nl);
    st_file_free(f);
    st_bytesio_free(b);
}

static void test_text_vectors(void **state)
{
    (void)state;
    st_test_vectors v;
    st_test_vectors_open(&v, "io/text.txt");
    int n = 0;
    while (st_test_vectors_next(&v)) {
        if (!strcmp(v.field[0], "write"))
            replay_write(&v);
        else
            replay_reads(&v);
        if (!strcmp(v.field[0], "lines") && !strcmp(v.field[4], "-1"))
            replay_next(&v, n % 10 == 0);
        n++;
    }
    st_test_vectors_close(&v);
    assert_true(n > 2000);
}
/* ---- file objects: behaviour ------------------------------------------------------------ */

static void expect_err(const char *type, const char *message)
{
    const st_error *e = st_error_last();
    assert_non_null(e);
    assert_string_equal(e->type, type);
    assert_string_equal(e->message, message);
}

static char g_dir[] = "/tmp/st_test_io_files_XXXXXX";

/* Removes what the file tests made in g_dir. */
static int remove_dir(void **state)
{
    (void)state;
    static const char *const names[] = {"round.txt", "made", "edge.txt", NULL};
    char path[256];
    for (size_t i = 0; names[i]; i++) {
        snprintf(path, sizeof path, "%s/%s", g_dir, names[i]);
        unlink(path);
    }
    rmdir(g_dir);
    return 0;
}

static const char *tmp_path(const char *name)
{
    static char buf[256];
    static bool made; /* not g_dir's last letter: mkdtemp may draw an 'X' there (1 run in 62) */
    if (!made) {
        assert_non_null(mkdtemp(g_dir));
        made = true;
    }
    snprintf(buf, sizeof buf, "%s/%s", g_dir, name);
    return buf;
}

static void test_file_options(void **state)
{
    (void)state;
    ST_ASSERT_OPTIONS_INIT(st_io_open_options, ST_IO_OPEN_OPTIONS_INIT, ST_IO_OPEN_OPTIONS_VERSION,
                           st_io_open_options_init);
    st_io_open_options zero = {0};
    assert_null(st_io_open("/dev/null", "r", &zero));
    assert_int_equal(st_error_code(), ST_EVALUE);
    st_file *f = st_io_open("/dev/null", NULL, NULL); /* NULL options and mode: "r", defaults */
    assert_non_null(f);
    assert_string_equal(st_file_encoding(f), "utf-8"); /* the locale's, under C/C.UTF-8 here */
    assert_string_equal(st_file_errors(f), "strict");
    st_file_free(f);
}

/* io.open()'s argument checks, with CPython 3.13's messages. */
static void test_file_modes(void **state)
{
    (void)state;
    static const struct {
        const char *mode, *message;
    } bad[] = {
        {"rw", "must have exactly one of create/read/write/append mode"},
        {"rr", "invalid mode: 'rr'"},
        {"rbt", "can't have text and binary mode at once"},
        {"", "Must have exactly one of create/read/write/append mode and at most one plus"},
        {"b", "Must have exactly one of create/read/write/append mode and at most one plus"},
        {"+", "Must have exactly one of create/read/write/append mode and at most one plus"},
        {"z", "invalid mode: 'z'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_null(st_io_open("/dev/null", bad[i].mode, NULL));
        expect_err("ValueError", bad[i].message);
    }
    st_io_open_options o = ST_IO_OPEN_OPTIONS_INIT;
    o.encoding = "utf-8";
    assert_null(st_io_open("/dev/null", "rb", &o));
    expect_err("ValueError", "binary mode doesn't take an encoding argument");
    o = (st_io_open_options)ST_IO_OPEN_OPTIONS_INIT;
    o.errors = "x";
    assert_null(st_io_open("/dev/null", "rb", &o));
    expect_err("ValueError", "binary mode doesn't take an errors argument");
    o = (st_io_open_options)ST_IO_OPEN_OPTIONS_INIT;
    o.newline = "";
    assert_null(st_io_open("/dev/null", "rb", &o));
    expect_err("ValueError", "binary mode doesn't take a newline argument");
    o = (st_io_open_options)ST_IO_OPEN_OPTIONS_INIT;
    o.buffering = ST_IO_UNBUFFERED;
    assert_null(st_io_open("/dev/null", "r", &o));
    expect_err("ValueError", "can't have unbuffered text I/O");
    o = (st_io_open_options)ST_IO_OPEN_OPTIONS_INIT;
    o.newline = "x";
    assert_null(st_io_open("/dev/null", "r", &o));
    expect_err("ValueError", "illegal newline value: x");
    o = (st_io_open_options)ST_IO_OPEN_OPTIONS_INIT;
    o.encoding = "foo";
    assert_null(st_io_open("/dev/null", "r", &o));
    expect_err("LookupError", "unknown encoding: foo");
    o.encoding = "Latin_1"; /* CPython's names, any case and separator */
    st_file *f = st_io_open("/dev/null", "r", &o);
    assert_non_null(f);
    assert_string_equal(st_file_encoding(f), "latin-1");
    st_file_free(f);
    /* an unknown error handler fails only where CPython looks it up: at the first bad byte */
    o.encoding = "US-ASCII";
    o.errors = "bogus";
    o.keep_fd = 1;
    st_bytesio *b = st_bytesio_new("ok\n\xff\n", 5);
    f = st_io_open_bytesio(b, "r", &o);
    assert_non_null(f);
    assert_string_equal(st_file_errors(f), "bogus");
    assert_null(st_file_readline(f, -1, NULL)); /* CPython decodes the chunk: fails at once */
    expect_err("LookupError", "unknown error handler name 'bogus'");
    st_file_free(f);
    f = st_io_open_bytesio(b, "w", &o);
    assert_int_equal(st_file_write(f, "fine", 4), 4);
    assert_int_equal(st_file_write(f, "\xc3\xa9", 2), -1);
    expect_err("LookupError", "unknown error handler name 'bogus'");
    st_file_free(f);
    st_bytesio_free(b);

    /* the file system's answers */
    assert_null(st_io_open(tmp_path("missing/file"), "r", NULL));
    assert_string_equal(st_error_last()->type, "FileNotFoundError");
    assert_null(st_io_open(g_dir, "r", NULL));
    assert_string_equal(st_error_last()->type, "IsADirectoryError");
    st_file_free(st_io_open(tmp_path("made"), "x", NULL));
    assert_null(st_io_open(tmp_path("made"), "x", NULL));
    assert_string_equal(st_error_last()->type, "FileExistsError");
    assert_null(st_io_open_fd(-1, "r", NULL));
    assert_int_equal(st_error_code(), ST_EVALUE);
    st_io_open_options keep = ST_IO_OPEN_OPTIONS_INIT;
    keep.keep_fd = 1;
    assert_null(st_io_open(tmp_path("made"), "r", &keep));
    expect_err("ValueError", "Cannot use closefd=False with file name");
}

static void test_file_roundtrip(void **state)
{
    (void)state;
    const char *p = tmp_path("round.txt");
    st_file *f = st_io_open(p, "w", NULL);
    assert_non_null(f);
    assert_int_equal(st_file_readable(f), 0);
    assert_int_equal(st_file_writable(f), 1);
    assert_int_equal(st_file_seekable(f), 1);
    assert_int_equal(st_file_isatty(f), 0);
    assert_true(st_file_fileno(f) > 2);
    assert_int_equal(st_file_write(f, "caf\xc3\xa9\n", 6), 5); /* len(s): code points */
    assert_int_equal(st_file_printf(f, "%d apples%s", 3, "\n"), 9);
    const char *argv[] = {"a", "b c", NULL};
    assert_int_equal(st_file_print(f, argv, NULL, NULL), 0);
    assert_int_equal(st_file_print(f, argv, "-", "!\n"), 0);
    assert_int_equal(st_file_tell(f), 6 + 9 + 6 + 7);
    assert_null(st_file_read(f, -1, NULL));
    expect_err("io.UnsupportedOperation", "not readable");
    assert_int_equal(st_file_close(f), 0);
    assert_int_equal(st_file_closed(f), 1);
    assert_int_equal(st_file_close(f), 0); /* twice is fine */
    assert_int_equal(st_file_write(f, "x", 1), -1);
    expect_err("ValueError", "I/O operation on closed file.");
    assert_null(st_file_readline(f, -1, NULL));
    expect_err("ValueError", "I/O operation on closed file.");
    assert_int_equal(st_file_tell(f), -1);
    assert_int_equal(st_file_fileno(f), -1);
    expect_err("ValueError", "I/O operation on closed file");
    st_file_free(f);
    st_file_free(NULL);
    assert_int_equal(st_file_close(NULL), 0);

    size_t n;
    char *all = st_test_read_file(p, &n);
    assert_string_equal(all, "caf\xc3\xa9\n3 apples\na b c\na-b c!\n");
    free(all);

    f = st_io_open(p, "r", NULL);
    assert_non_null(f);
    assert_int_equal(st_file_write(f, "x", 1), -1);
    expect_err("io.UnsupportedOperation", "not writable");
    char *s = st_file_read(f, 4, &n); /* code points */
    assert_string_equal(s, "caf\xc3\xa9");
    st_free(s);
    int64_t cookie = st_file_tell(f);
    assert_int_equal(cookie, 5);
    s = st_file_readline(f, -1, &n);
    assert_string_equal(s, "\n");
    st_free(s);
    st_value *rest = st_file_readlines(f, 0);
    assert_non_null(rest);
    assert_int_equal(st_value_len(rest), 3);
    char *r = st_value_repr(rest);
    assert_string_equal(r, "['3 apples\\n', 'a b c\\n', 'a-b c!\\n']");
    st_free(r);
    st_value_unref(rest);
    assert_int_equal(st_file_seek(f, cookie, 0), cookie);
    s = st_file_read(f, -1, &n);
    assert_int_equal(n, 1 + 9 + 6 + 7);
    st_free(s);
    assert_int_equal(st_file_seek(f, 0, 1), 28); /* seek(0, 1) is tell() */
    assert_int_equal(st_file_seek(f, 1, 1), -1);
    expect_err("io.UnsupportedOperation", "can't do nonzero cur-relative seeks");
    assert_int_equal(st_file_seek(f, 1, 2), -1);
    expect_err("io.UnsupportedOperation", "can't do nonzero end-relative seeks");
    assert_int_equal(st_file_seek(f, -1, 0), -1);
    expect_err("ValueError", "negative seek position -1");
    assert_int_equal(st_file_seek(f, 0, 3), -1);
    expect_err("ValueError", "invalid whence (3, should be 0, 1 or 2)");
    st_file_free(f);

    /* append, then binary r+ with truncate */
    f = st_io_open(p, "a", NULL);
    assert_int_equal(st_file_tell(f), 28);
    assert_int_equal(st_file_write(f, "end", 3), 3);
    st_file_free(f);
    f = st_io_open(p, "r+b", NULL);
    assert_non_null(f);
    assert_null(st_file_encoding(f));
    assert_string_equal(st_error_last()->type, "AttributeError");
    s = st_file_readline(f, 3, &n);
    assert_string_equal(s, "caf");
    st_free(s);
    assert_int_equal(st_file_write(f, "E", 1), 1); /* over the first byte of é */
    assert_int_equal(st_file_tell(f), 4);
    assert_int_equal(st_file_truncate(f, ST_IO_NONE), 4);
    assert_int_equal(st_file_tell(f), 4);
    assert_int_equal(st_file_seek(f, 0, 0), 0);
    s = st_file_read(f, -1, &n);
    assert_int_equal(n, 4);
    assert_memory_equal(s, "cafE", 4);
    st_free(s);
    assert_int_equal(st_file_seek(f, 0, 7), -1);
    expect_err("ValueError", "whence value 7 unsupported");
    assert_int_equal(st_file_truncate(f, 100), 100);
    assert_int_equal(st_file_seek(f, 0, 2), 100);
    st_file_free(f);

    /* unbuffered binary: every write reaches the file at once */
    st_io_open_options o = ST_IO_OPEN_OPTIONS_INIT;
    o.buffering = ST_IO_UNBUFFERED;
    f = st_io_open(p, "wb", &o);
    assert_int_equal(st_file_write(f, "raw\n", 4), 4);
    all = st_test_read_file(p, &n);
    assert_int_equal(n, 4);
    free(all);
    st_file_free(f);
}

/* When writes reach the file: line buffering flushes at \n or \r (TextIOWrapper's rule), a
 * buffer size flushes once that many bytes wait, close flushes the rest. */
static void test_file_buffering(void **state)
{
    (void)state;
    const char *p = tmp_path("round.txt");
    size_t n;
    st_io_open_options o = ST_IO_OPEN_OPTIONS_INIT;
    o.buffering = 1;
    st_file *f = st_io_open(p, "w", &o);
    assert_int_equal(st_file_line_buffering(f), 1);
    assert_int_equal(st_file_write(f, "abc", 3), 3);
    free(st_test_read_file(p, &n));
    assert_int_equal(n, 0);
    assert_int_equal(st_file_write(f, "d\re", 3), 3);
    free(st_test_read_file(p, &n));
    assert_int_equal(n, 6);
    st_file_free(f);
    o.buffering = 4;
    f = st_io_open(p, "wb", &o);
    assert_int_equal(st_file_write(f, "abc", 3), 3);
    free(st_test_read_file(p, &n));
    assert_int_equal(n, 0);
    assert_int_equal(st_file_write(f, "de", 2), 2);
    free(st_test_read_file(p, &n));
    assert_int_equal(n, 5);
    assert_int_equal(st_file_write(f, "f", 1), 1);
    assert_int_equal(st_file_close(f), 0); /* close flushes */
    free(st_test_read_file(p, &n));
    assert_int_equal(n, 6);
    st_file_free(f);
    /* a text write that cannot be encoded writes nothing, and the file stays usable */
    o = (st_io_open_options)ST_IO_OPEN_OPTIONS_INIT;
    o.encoding = "ascii";
    f = st_io_open(p, "w", &o);
    assert_int_equal(st_file_write(f, "ok \xc3\xa9", 5), -1);
    expect_err("UnicodeEncodeError",
               "'ascii' codec can't encode character '\\xe9' in position 3: ordinal not in range(128)");
    assert_int_equal(st_file_write(f, "\xff", 1), -1); /* not UTF-8: not the library's str */
    assert_string_equal(st_error_last()->type, "UnicodeDecodeError");
    assert_int_equal(st_file_write(f, "ok\n", 3), 3);
    st_file_free(f);
    char *all = st_test_read_file(p, &n);
    assert_string_equal(all, "ok\n");
    free(all);
}

/* Strict decoding fails where CPython's `for line in f` fails: after the same number of lines,
 * with the same message (positions inside CPython's 8 KiB chunks), on files past one chunk. */
static void test_strict_chunks_as_python(void **state)
{
    (void)state;
    static const struct {
        size_t pad;      /* 'a' bytes (with a newline every 100) before the tail */
        const char *tail;
    } cases[] = {
        {9000, "\xff\n"},         /* in the second chunk */
        {8191, "\xe2\x82x\n"},    /* a sequence cut by the chunk edge, then broken */
        {8190, "\xe2\x82\xac\n"}, /* cut by the edge and whole: no error */
        {8192, "ok\n\xc3"},       /* incomplete at the end of the file */
        {100, "\xed\xa0\x80\n"},  /* a surrogate */
    };
    const char *p = tmp_path("round.txt");
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        size_t tl = strlen(cases[c].tail), n = cases[c].pad + tl;
        char *data = malloc(n);
        for (size_t i = 0; i < cases[c].pad; i++)
            data[i] = i % 100 == 99 ? '\n' : 'a';
        memcpy(data + cases[c].pad, cases[c].tail, tl);
        st_test_write_file(p, data, n);
        free(data);
        const char *const args[] = {p, NULL};
        char *want = st_test_python_args(
            "import sys\nn = 0\ntry:\n    for line in open(sys.argv[1], encoding='utf-8'):\n"
            "        n += 1\n    print(n, 'ok')\nexcept UnicodeDecodeError as e:\n    print(n, e)",
            args);
        if (!want)
            return;
        st_file *f = st_io_open(p, "r", NULL);
        const char *line;
        int rc, lines = 0;
        while ((rc = st_file_next(f, &line, NULL)) > 0)
            lines++;
        char got[512];
        snprintf(got, sizeof got, "%d %s", lines, rc == 0 ? "ok" : st_error_message());
        assert_string_equal(got, want);
        free(want);
        st_file_free(f);
    }
}

/* Newlines at the read buffer's edge (64 KiB) and at CPython's 8 KiB chunk: \r at the end of
 * one read and \n at the start of the next is one \r\n; a UTF-8 sequence split there is one
 * character. Over a file, over a BytesIO. */
static void test_file_boundaries(void **state)
{
    (void)state;
    static const size_t edges[] = {8191, 65535, 65536 * 2 - 1};
    for (size_t e = 0; e < sizeof edges / sizeof edges[0]; e++) {
        size_t at = edges[e], n = at + 2 + 3 + 2;
        char *data = malloc(n);
        memset(data, 'x', at);
        memcpy(data + at, "\r\n\xe2\x82\xac\r\r", 7);
        memcpy(data + at - 2, "\xc3\xa9", 2); /* é ending right before the \r */
        const char *p = tmp_path("edge.txt");
        st_test_write_file(p, data, n);
        st_bytesio *b = st_bytesio_new(data, n);
        st_io_open_options keep = ST_IO_OPEN_OPTIONS_INIT;
        keep.keep_fd = 1;
        for (int mem = 0; mem < 2; mem++) {
            st_file *f = mem ? st_io_open_bytesio(b, "r", &keep) : st_io_open(p, "r", NULL);
            assert_non_null(f);
            const char *line;
            size_t len;
            assert_int_equal(st_file_next(f, &line, &len), 1);
            assert_int_equal(len, at + 1 - 2 + 2);
            assert_memory_equal(line + at - 2, "\xc3\xa9\n", 3);
            assert_int_equal(st_file_next(f, &line, &len), 1);
            assert_string_equal(line, "\xe2\x82\xac\n");
            assert_int_equal(st_file_next(f, &line, &len), 1);
            assert_string_equal(line, "\n");
            assert_int_equal(st_file_next(f, &line, &len), 0);
            st_file_free(f);
            assert_int_equal(st_bytesio_seek(b, 0, 0), 0);
        }
        st_bytesio_free(b);
        free(data);
    }
}

/* Text over a BytesIO: written through the text layer, read back through it; closing closes
 * the BytesIO unless keep_fd. */
static void test_file_bytesio(void **state)
{
    (void)state;
    st_bytesio *b = st_bytesio_new(NULL, 0);
    st_io_open_options o = ST_IO_OPEN_OPTIONS_INIT;
    o.newline = "\r\n";
    o.errors = "surrogateescape";
    st_file *f = st_io_open_bytesio(b, "w+", &o);
    assert_non_null(f);
    assert_int_equal(st_file_fileno(f), -1);
    expect_err("io.UnsupportedOperation", "fileno");
    assert_int_equal(st_file_write(f, "a\n\xed\xb3\xbf\n", 6), 4); /* 'a\n\udcff\n' */
    assert_int_equal(st_file_flush(f), 0);
    size_t n;
    const unsigned char *raw = st_bytesio_getbuffer(b, &n);
    assert_int_equal(n, 6);
    assert_memory_equal(raw, "a\r\n\xff\r\n", 6);
    assert_int_equal(st_file_seek(f, 0, 0), 0);
    const char *line;
    assert_int_equal(st_file_next(f, &line, &n), 1);
    assert_string_equal(line, "a\r\n");
    assert_int_equal(st_file_next(f, &line, &n), 1);
    assert_string_equal(line, "\xed\xb3\xbf\r\n");
    assert_int_equal(st_file_close(f), 0);
    assert_int_equal(st_bytesio_closed(b), 1); /* TextIOWrapper.close() closes its buffer */
    st_file_free(f);
    st_bytesio_free(b);
    assert_null(st_io_open_bytesio(NULL, "r", NULL));
    b = st_bytesio_new("abc", 3);
    assert_null(st_io_open_bytesio(b, "x", NULL));
    expect_err("ValueError", "invalid mode: 'x'");
    assert_int_equal(st_bytesio_seek(b, 2, 0), 2);
    st_io_open_options keep = ST_IO_OPEN_OPTIONS_INIT;
    keep.keep_fd = 1;
    f = st_io_open_bytesio(b, "wb", &keep); /* empties the stream and starts at 0 */
    assert_int_equal(st_file_write(f, "xy", 2), 2);
    assert_int_equal(st_file_flush(f), 0);
    raw = st_bytesio_getbuffer(b, &n);
    assert_int_equal(n, 2);
    assert_memory_equal(raw, "xy", 2);
    st_file_free(f);
    f = st_io_open_bytesio(b, "a", &keep); /* writes at the end */
    assert_int_equal(st_file_tell(f), 2);
    assert_int_equal(st_file_write(f, "z", 1), 1);
    st_file_free(f);
    assert_int_equal(st_bytesio_closed(b), 0);
    raw = st_bytesio_getbuffer(b, &n);
    assert_int_equal(n, 3);
    st_bytesio_free(b);
}

/* input() and sys.stdin/stdout over pipes put on descriptors 0 and 1 before their first use. */
static void test_std_streams(void **state)
{
    (void)state;
    int in[2], out[2];
    assert_int_equal(pipe(in), 0);
    assert_int_equal(pipe(out), 0);
    int saved0 = dup(0), saved1 = dup(1);
    assert_true(saved0 >= 0 && saved1 >= 0);
    assert_int_equal(write(in[1], "Ada\r\nGrace", 10), 10);
    close(in[1]);
    dup2(in[0], 0);
    dup2(out[1], 1);
    close(in[0]);
    close(out[1]);
    size_t n;
    char *name = st_io_input("name? ", &n);
    assert_non_null(name);
    assert_string_equal(name, "Ada"); /* universal newlines, the newline stripped */
    st_free(name);
    name = st_io_input(NULL, &n);
    assert_string_equal(name, "Grace"); /* no newline at the end */
    st_free(name);
    assert_null(st_io_input(NULL, NULL));
    expect_err("EOFError", "EOF when reading a line");
    st_file *so = st_sys_stdout();
    assert_non_null(so);
    assert_int_equal(st_file_line_buffering(so), 0); /* a pipe: block-buffered */
    assert_int_equal(st_file_line_buffering(st_sys_stderr()), 1);
    assert_string_equal(st_file_errors(st_sys_stderr()), "backslashreplace");
    assert_ptr_equal(st_sys_stdout(), so); /* one object */
    assert_int_equal(st_file_write(so, "bye\n", 4), 4);
    assert_int_equal(st_file_flush(so), 0);
    dup2(saved0, 0);
    dup2(saved1, 1);
    close(saved0);
    close(saved1);
    char buf[32] = "";
    assert_int_equal(read(out[0], buf, sizeof buf), 10);
    assert_memory_equal(buf, "name? bye\n", 10);
    close(out[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bytesio_vectors),
        cmocka_unit_test(test_stringio_vectors),
        cmocka_unit_test(test_bytesio_far_positions),
        cmocka_unit_test(test_text_helpers),
        cmocka_unit_test(test_closed),
        cmocka_unit_test(test_file_view),
        cmocka_unit_test(test_codec_vectors),
        cmocka_unit_test(test_text_vectors),
        cmocka_unit_test(test_file_options),
        cmocka_unit_test(test_file_modes),
        cmocka_unit_test(test_file_roundtrip),
        cmocka_unit_test(test_file_buffering),
        cmocka_unit_test(test_strict_chunks_as_python),
        cmocka_unit_test(test_file_boundaries),
        cmocka_unit_test(test_file_bytesio),
        cmocka_unit_test(test_std_streams),
    };
    return cmocka_run_group_tests(tests, NULL, remove_dir);
}
