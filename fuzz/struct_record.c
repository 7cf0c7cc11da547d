/* Fuzzes records (a struct format bound to a C struct's field table) with a format, a table and
 * a buffer, all taken from the input: checking the table never crashes and refuses with
 * struct.error or ValueError only; an accepted record unpacks the buffer's whole records into an
 * array of structs (unpack_array, iter_unpack and record by record agree), packs them back
 * (pack_array and record by record agree), and a second round changes nothing (a first round
 * normalises bools, NaNs of 'e' and the bytes after a Pascal string's NUL).
 * The same input, its spaces read as the ends of items, goes to a codec's setup too.
 * Input: format length, format, field count, 4 bytes per field (offset, size, count, kind),
 * struct size, then the records. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "systools/error.h"
#include "systools/struct.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { MAX_FIELDS = 24, MAX_RECORDS = 64 };

/* Unpacks n records three ways into objs (and scratch); aborts when they disagree. */
static void unpack_all(const st_struct_record *r, const unsigned char *buf, size_t n, size_t rec,
                       size_t ssize, unsigned char *objs, unsigned char *scratch)
{
    memset(objs, 0, n * ssize);
    if (st_struct_record_unpack_array(r, buf, n * rec, objs, n) != 0)
        abort();
    memset(scratch, 0, n * ssize);
    for (size_t i = 0; i < n; i++)
        if (st_struct_record_unpack(r, buf + i * rec, rec, scratch + i * ssize) != 0)
            abort();
    if (memcmp(objs, scratch, n * ssize) != 0)
        abort();
    if (rec > 0) {
        memset(scratch, 0, n * ssize);
        st_struct_record_unpack_iterator *it = st_struct_record_iter_unpack(r, buf, n * rec);
        if (it) {
            size_t k = 0;
            int rc;
            while ((rc = st_struct_record_unpack_iterator_next(it, scratch + k * ssize)) > 0)
                k++;
            if (rc != 0 || k != n || memcmp(objs, scratch, n * ssize) != 0)
                abort();
            st_struct_record_unpack_iterator_free(it);
        } else if (st_error_code() != ST_ENOMEM) {
            abort();
        }
    }
}

/* Packs n structs two ways into out (and scratch); 0, or -1 when a value does not fit ('e'). */
static int pack_all(const st_struct_record *r, const unsigned char *objs, size_t n, size_t rec,
                    size_t ssize, unsigned char *out, unsigned char *scratch)
{
    if (st_struct_record_pack_array(r, objs, n, out, n * rec) != 0) {
        if (st_error_code() != ST_EOVERFLOW)
            abort();
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (st_struct_record_pack(r, objs + i * ssize, scratch + i * rec, rec) != 0)
            abort();
    if (memcmp(out, scratch, n * rec) != 0)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    size_t flen = data[0] < size - 1 ? data[0] : size - 1;
    char fmt[256];
    memcpy(fmt, data + 1, flen);
    fmt[flen] = '\0';
    const uint8_t *p = data + 1 + flen, *end = data + size;
    if (p >= end)
        return 0;
    size_t nfields = *p++ % MAX_FIELDS;
    st_struct_field fields[MAX_FIELDS];
    for (size_t i = 0; i < nfields; i++) {
        if (end - p < 4)
            return 0;
        fields[i] = (st_struct_field){"f", p[0], p[1], p[2], p[3] % 9};
        p += 4;
    }
    if (p >= end)
        return 0;
    size_t ssize = *p++;
    /* The same bytes as a codec's list of items, a space ending each: its setup refuses with
     * struct.error or ValueError only, and what it accepts has a standard order and plain codes. */
    char items[258];
    memcpy(items, fmt, flen + 1);
    items[flen + 1] = '\0';
    for (size_t i = 0; i < flen; i++)
        items[i] = items[i] == ' ' ? '\0' : items[i];
    st_struct_record *c = st_struct_codec_record_new(items, ssize, fields, nfields);
    if (!c) {
        int code = st_error_code();
        if (code != ST_EFORMAT && code != ST_EVALUE && code != ST_ENOMEM)
            abort();
    } else {
        const char *joined = st_struct_format(st_struct_record_struct(c));
        if (joined[0] == '\0' || !strchr("<>!=", joined[0]) ||
            joined[strcspn(joined, "@epnNP ")] != '\0')
            abort(); /* a standard order, and no code the generated code cannot move */
    }
    st_struct_record_free(c);
    st_struct_record *r = st_struct_record_new(fmt, ssize, fields, nfields);
    if (!r) {
        int code = st_error_code();
        if (code != ST_EFORMAT && code != ST_EVALUE && code != ST_ENOMEM)
            abort();
        return 0;
    }
    size_t rec = st_struct_size(st_struct_record_struct(r));
    size_t len = (size_t)(end - p), n = rec ? len / rec : 0;
    if (n > MAX_RECORDS)
        n = MAX_RECORDS;
    if (ssize == 0 || rec > 4096) {
        st_struct_record_free(r);
        return 0;
    }
    unsigned char *objs = calloc(n + 1, ssize), *scratch = calloc(n + 1, ssize > rec ? ssize : rec);
    unsigned char *out = calloc(n + 1, rec), *again = calloc(n + 1, rec);
    if (objs && scratch && out && again) {
        unpack_all(r, p, n, rec, ssize, objs, scratch);
        if (pack_all(r, objs, n, rec, ssize, out, scratch) == 0) {
            unpack_all(r, out, n, rec, ssize, objs, scratch);
            if (pack_all(r, objs, n, rec, ssize, again, scratch) != 0 ||
                memcmp(out, again, n * rec) != 0)
                abort();
        }
    }
    /* A buffer that is not whole records is refused, never read past. */
    if (objs && rec > 0 && len % rec != 0 &&
        st_struct_record_unpack_array(r, p, len, objs, len / rec + 1) == 0)
        abort();
    free(objs);
    free(scratch);
    free(out);
    free(again);
    st_struct_record_free(r);
    return 0;
}
