/* Fuzzes the text layer of io (lib/io/file.c, lib/io/codec.c): arbitrary bytes read through a
 * text file over a BytesIO with every encoding, error handler and newline mode, chosen by the
 * first byte; the second picks readline() sizes. Invariants:
 *  - st_file_next() lines, readline(size) pieces and read() give the same text (or all fail,
 *    under 'strict');
 *  - the text is the library's str (valid surrogatepass UTF-8); universal newlines leave no \r;
 *  - a tell() cookie taken after a line, given back to seek(), reads the same next line;
 *  - with newline="" and surrogateescape (any encoding) or latin-1, writing the text back
 *    through the same kind of file gives the input bytes exactly. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "systools/systools.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const g_enc[] = {"utf-8", "ascii", "latin-1"};
static const char *const g_err[] = {"strict", "replace", "ignore", "surrogateescape",
                                    "backslashreplace"};
static const char *const g_nl[] = {NULL, "", "\n", "\r", "\r\n"};

static st_file *open_over(st_bytesio *b, const char *mode, st_io_open_options *o)
{
    st_file *f = st_io_open_bytesio(b, mode, o);
    if (!f)
        abort();
    return f;
}

/* Appends the rest of f line by line (next or readline(size)); 0, or -1 on a decoding error. */
static int read_lines(st_file *f, int sized, size_t step, char **text, size_t *len)
{
    size_t cap = 64, n = 0;
    char *out = malloc(cap);
    for (size_t k = 0;; k++) {
        const char *line;
        char *owned = NULL;
        size_t ll;
        if (sized) {
            owned = st_file_readline(f, (ptrdiff_t)(1 + (step + k) % 5), &ll);
            if (!owned)
                goto fail;
            line = owned;
            if (!ll) {
                st_free(owned);
                break;
            }
        } else {
            int rc = st_file_next(f, &line, &ll);
            if (rc < 0)
                goto fail;
            if (rc == 0)
                break;
        }
        if (n + ll + 1 > cap) {
            cap = 2 * (n + ll + 1);
            out = realloc(out, cap);
        }
        memcpy(out + n, line, ll);
        n += ll;
        st_free(owned);
    }
    *text = out;
    *len = n;
    return 0;
fail:
    if (st_error_code() != ST_EVALUE) /* only UnicodeDecodeError may stop a read */
        abort();
    free(out);
    return -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    unsigned sel = data[0], step = data[1];
    data += 2;
    size -= 2;
    st_io_open_options o = ST_IO_OPEN_OPTIONS_INIT;
    o.encoding = g_enc[sel % 3];
    o.errors = g_err[(sel / 3) % 5];
    o.newline = g_nl[(sel / 15) % 5];
    o.keep_fd = 1;
    int universal = o.newline == NULL;

    st_bytesio *b = st_bytesio_new(data, size);
    st_file *f = open_over(b, "r", &o);
    size_t all_len;
    char *all = st_file_read(f, -1, &all_len);
    st_file_free(f);

    char *lines = NULL, *pieces = NULL;
    size_t lines_len = 0, pieces_len = 0;
    st_bytesio_seek(b, 0, 0);
    f = open_over(b, "r", &o);
    int rc1 = read_lines(f, 0, step, &lines, &lines_len);
    st_file_free(f);
    st_bytesio_seek(b, 0, 0);
    f = open_over(b, "r", &o);
    int rc2 = read_lines(f, 1, step, &pieces, &pieces_len);
    st_file_free(f);
    if ((all == NULL) != (rc1 < 0) || (rc1 < 0) != (rc2 < 0))
        abort();
    if (all) {
        if (lines_len != all_len || memcmp(lines, all, all_len) != 0)
            abort();
        if (pieces_len != all_len || memcmp(pieces, all, all_len) != 0)
            abort();
        st_value *s = st_value_str_surrogatepass(all, all_len);
        if (!s)
            abort();
        st_value_unref(s);
        if (universal && memchr(all, '\r', all_len))
            abort();
        int exact = o.newline && !*o.newline &&
                    (!strcmp(o.errors, "surrogateescape") || !strcmp(o.encoding, "latin-1"));
        if (exact) { /* the bytes back, exactly */
            st_bytesio *w = st_bytesio_new(NULL, 0);
            st_file *g = open_over(w, "w", &o);
            if (st_file_write(g, all, all_len) < 0 || st_file_flush(g) < 0)
                abort();
            size_t wl;
            const unsigned char *back = st_bytesio_getbuffer(w, &wl);
            if (wl != size || (size && memcmp(back, data, size) != 0))
                abort();
            st_file_free(g);
            st_bytesio_free(w);
        }

        /* cookies: seek back to the one taken after line k, read line k + 1 again */
        st_bytesio_seek(b, 0, 0);
        f = open_over(b, "r", &o);
        int64_t cookie = -1;
        char *after = NULL;
        size_t after_len = 0;
        for (unsigned k = 0;; k++) {
            const char *line;
            size_t ll;
            int rc = st_file_next(f, &line, &ll);
            if (rc < 0)
                abort();
            if (rc == 0)
                break;
            if (cookie >= 0 && !after) {
                after = malloc(ll + 1);
                memcpy(after, line, ll);
                after_len = ll;
            }
            if (k == step % 4) {
                cookie = st_file_tell(f);
                if (cookie < 0)
                    abort();
            }
        }
        if (after) {
            if (st_file_seek(f, cookie, 0) != cookie)
                abort();
            const char *line;
            size_t ll;
            if (st_file_next(f, &line, &ll) != 1 || ll != after_len || memcmp(line, after, ll))
                abort();
        }
        free(after);
        st_file_free(f);
    }
    free(lines);
    free(pieces);
    st_free(all);
    st_bytesio_free(b);
    return 0;
}
