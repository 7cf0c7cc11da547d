/* Fuzzes the struct module with a format and a buffer: compiling never crashes and agrees with
 * calcsize; unpacking any record and packing the values back reproduces every byte that has a
 * single meaning (all but padding, non-0/1 bools, NaNs and the slack of Pascal strings); and
 * the value path (tuple of Python values) packs back to the same bytes; unpack_from /
 * iter_unpack stay inside the buffer; and the one-shot functions' cache of compiled formats
 * never confuses two formats.
 * Input: first byte = format length, then the format, then the data. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal/struct.h"
#include "systools/error.h"
#include "systools/value.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Marks the bytes of a record whose value survives unpack + pack. */
static void defined_bytes(const st_struct *s, const unsigned char *rec, const st__struct_item *items,
                          unsigned char *mask)
{
    memset(mask, 0, s->layout.size);
    size_t k = 0;
    for (size_t i = 0; i < s->layout.ncodes; i++) {
        const st__struct_code *c = &s->layout.codes[i];
        const unsigned char *p = rec + c->offset;
        unsigned char *m = mask + c->offset;
        for (size_t n = 0; n < c->count; n++, p += c->size, m += c->size, k++) {
            size_t keep = c->size;
            switch (c->op) {
            case ST__OP_BOOL:
                keep = p[0] <= 1;
                break;
            case ST__OP_HALF:
            case ST__OP_FLOAT:
            case ST__OP_NFLOAT:
            case ST__OP_DOUBLE:
                keep = isnan(items[k].d) ? 0 : c->size;
                break;
            case ST__OP_PSTR:
                keep = c->size && p[0] < c->size ? 1 + (size_t)p[0] : 0;
                break;
            default:
                break;
            }
            memset(m, 1, keep);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t flen = data[0];
    if (flen > size - 1)
        flen = size - 1;
    char *fmt = malloc(flen + 1);
    if (!fmt)
        return 0;
    memcpy(fmt, data + 1, flen);
    fmt[flen] = '\0';
    const unsigned char *buf = data + 1 + flen;
    size_t len = size - 1 - flen;

    ssize_t calc = st_struct_calcsize(fmt);
    st_struct *s = st_struct_new(fmt);
    if ((calc < 0) != (s == NULL))
        abort();
    if (!s) {
        if (st_error_code() != ST_EFORMAT && st_error_code() != ST_ENOMEM)
            abort();
        free(fmt);
        return 0;
    }
    if ((size_t)calc != st_struct_size(s))
        abort();

    size_t rec = st_struct_size(s);
    if (rec <= len) {
        st__struct_item *items = calloc(s->layout.nitems + 1, sizeof *items);
        unsigned char *out = malloc(rec + 1), *mask = malloc(rec + 1);
        if (items && out && mask) {
            if (st__struct_unpack_items(s, buf, rec, items) != 0)
                abort();
            memset(out, 0xAA, rec);
            if (st__struct_pack_items(s, out, rec, items) != 0)
                abort(); /* unpacked values are always in range */
            defined_bytes(s, buf, items, mask);
            for (size_t i = 0; i < rec; i++)
                if (mask[i] && out[i] != buf[i])
                    abort();
            /* The value path agrees with the item path. */
            st_value *t = st_struct_unpack_values(s, buf, rec);
            if (t) {
                memset(mask, 0x55, rec);
                if (st_struct_pack_values(s, t, mask, rec) != 0 || memcmp(mask, out, rec) != 0)
                    abort();
                st_value_unref(t);
            } else if (st_error_code() != ST_ENOMEM) {
                abort();
            }
        }
        free(items);
        free(out);
        free(mask);
    }

    /* unpack_from at an offset taken from the data: either fits or is refused, never reads out. */
    if (len > 0 && s->layout.nitems == 0) {
        ssize_t off = (ssize_t)(int8_t)buf[0];
        (void)st_struct_unpack_from(s, buf, len, off);
    }
    /* The one-shot functions keep compiled formats by address, and fmt's address comes back
     * with other text in later inputs: that must never find this format. */
    if (s->layout.nitems == 0 && (st_struct_unpack_fmt(fmt, buf, len) == 0) != (len == rec))
        abort();
    if (rec > 0 && s->layout.nitems == 0) {
        st_struct_unpack_iterator *it = st_struct_iter_unpack(s, buf, len);
        if (it) {
            size_t n = 0;
            int r;
            while ((r = st_struct_unpack_iterator_next(it)) > 0)
                n++;
            if (r != 0 || n != len / rec)
                abort();
            st_struct_unpack_iterator_free(it);
        } else if (len % rec == 0) {
            abort();
        }
    }
    st_struct_free(s);
    free(fmt);
    return 0;
}
