/* lines: Python's line loop over a file and print(*sys.argv) in C, byte for byte as CPython.
 *
 * The port of `for line in open(p, errors="surrogateescape"): sys.stdout.write(line)` and
 * `print(*sys.argv[2:])`. The file is read a line at a time with universal newlines (\r\n
 * and \r become \n); a byte that is not UTF-8 becomes a lone surrogate on the way in and the
 * same byte on the way out, because sys.stdout uses surrogateescape under the C and C.UTF-8
 * locales, as CPython's does.
 * The arguments after the file are decoded as sys.argv is (b'\xff' is '\udcff') and printed
 * separated by spaces. (argv[0] and argv[1], the program and the file, differ from Python's
 * `python3 lines.py FILE`, so both print from the third.)
 *
 *   $ printf 'one\r\ntwo\rthree' > f.txt && lines f.txt a b | od -c
 *   one\ntwo\nthree a b\n      (the last line has no newline: print() follows it)
 *
 * ctest compares it with CPython 3.13 on files with CRLF, CR, mixed newlines, invalid UTF-8
 * and no final newline, and with an argument b'\xff' (examples/lines_compare.py).
 */
#include <stdio.h>
#include <string.h>
#include <systools/systools.h>

static int fail(void)
{
    st_sys_exc_info_result e = st_sys_exc_info(); /* Python would print the traceback */
    fputs(e.traceback ? e.traceback : "error\n", stderr);
    return 1;
}

int main(int argc, char **argv)
{
    if (st_sys_init(argc, argv) < 0)
        return fail();
    if (argc < 2) {
        fputs("usage: lines FILE [ARG...]\n", stderr);
        return 2;
    }
    st_file *out = st_sys_stdout();
    if (!out)
        return fail();

    /* for line in open(p, errors="surrogateescape"): sys.stdout.write(line) */
    st_io_open_options o = ST_IO_OPEN_OPTIONS_INIT;
    o.errors = "surrogateescape";
    st_file *f = st_io_open(argv[1], "r", &o);
    if (!f)
        return fail();
    const char *line;
    size_t len;
    int rc;
    while ((rc = st_file_next(f, &line, &len)) > 0) /* the line is lent: no free */
        if (st_file_write(out, line, len) < 0)
            return fail();
    if (rc < 0)
        return fail();
    st_file_free(f);

    /* print(*sys.argv[2:]) */
    st_value *args = st_sys_argv_value(); /* a list of str, as Python's sys.argv */
    if (!args)
        return fail();
    for (ptrdiff_t i = 2; i < st_value_len(args); i++) {
        const st_value *arg = st_value_item(args, i); /* borrowed from the list */
        size_t n;
        const char *text = st_value_str_data(arg, &n);
        if ((i > 2 && st_file_write(out, " ", 1) < 0) || st_file_write(out, text, n) < 0)
            return fail();
    }
    st_value_unref(args);
    if (st_file_write(out, "\n", 1) < 0 || st_file_flush(out) < 0)
        return fail();
    return 0;
}
