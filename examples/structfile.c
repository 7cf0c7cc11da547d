/* structfile: writes fixed-size binary records to a file with struct's format language, then
 * reads them back with iter_unpack and prints each record the way Python prints the tuple
 * struct.unpack returns. The Python equivalent:
 *
 *     rec = struct.Struct("<I10sd?")
 *     with open("records.bin", "wb") as f:
 *         for r in records: f.write(rec.pack(*r))
 *     for r in rec.iter_unpack(open("records.bin", "rb").read()): print(r)
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systools/systools.h>

/* Prints bytes as Python's repr(bytes) does. */
static void print_bytes(const unsigned char *b, size_t n)
{
    bool dq = memchr(b, '\'', n) && !memchr(b, '"', n);
    char q = dq ? '"' : '\'';
    printf("b%c", q);
    for (size_t i = 0; i < n; i++) {
        unsigned c = b[i];
        if (c == (unsigned)q || c == '\\')
            printf("\\%c", c);
        else if (c == '\t')
            printf("\\t");
        else if (c == '\n')
            printf("\\n");
        else if (c == '\r')
            printf("\\r");
        else if (c < 0x20 || c >= 0x7f)
            printf("\\x%02x", c);
        else
            putchar((int)c);
    }
    putchar(q);
}

/* Prints a float as Python's repr(float) does for ordinary magnitudes: the shortest text that
 * reads back as the same double, with ".0" when it would look like an int. */
static void print_float(double x)
{
    char text[32];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(text, sizeof text, "%.*g", prec, x);
        if (strtod(text, NULL) == x)
            break;
    }
    printf("%s%s", text, strpbrk(text, ".eni") ? "" : ".0");
}

static int fail(const char *what)
{
    fprintf(stderr, "structfile: %s: %s\n", what, st_error_message());
    return 1;
}

int main(void)
{
    struct {
        unsigned int id;
        const char *name;
        double score;
        bool active;
    } people[] = {
        {1, "ada", 92.5, true},
        {2, "grace", 78.25, false},
        {3, "linus torvalds", -0.1, true}, /* longer than 10 bytes: truncated, as Python does */
    };
    const char *path = "records.bin";

    st_struct *rec = st_struct_new("<I10sd?");
    if (!rec)
        return fail("format");
    printf("format %s: %zu bytes per record\n", st_struct_format(rec), st_struct_size(rec));

    FILE *f = fopen(path, "wb");
    if (!f)
        return 1;
    unsigned char buf[64];
    for (size_t i = 0; i < sizeof people / sizeof people[0]; i++) {
        if (st_struct_pack(rec, buf, sizeof buf, people[i].id, people[i].name, strlen(people[i].name),
                           people[i].score, (int)people[i].active) < 0)
            return fail("pack");
        fwrite(buf, 1, st_struct_size(rec), f);
    }
    fclose(f);

    /* Read the whole file back and walk its records. */
    f = fopen(path, "rb");
    if (!f)
        return 1;
    unsigned char data[1024];
    size_t len = fread(data, 1, sizeof data, f);
    fclose(f);
    remove(path);
    printf("read %zu bytes\n", len);

    st_struct_unpack_iterator *it = st_struct_iter_unpack(rec, data, len);
    if (!it)
        return fail("iter_unpack");
    unsigned int id;
    unsigned char name[10];
    double score;
    bool active;
    int rc; /* 1 a record, 0 the end, -1 an error */
    while ((rc = st_struct_unpack_iterator_next(it, &id, name, &score, &active)) > 0) {
        printf("(%u, ", id);
        print_bytes(name, sizeof name);
        printf(", ");
        print_float(score);
        printf(", %s)\n", active ? "True" : "False");
    }
    st_struct_unpack_iterator_free(it);
    if (rc < 0)
        return fail("next");

    /* Errors carry Python's exception type and message. */
    if (st_struct_pack_fmt("<h", buf, sizeof buf, 40000) < 0)
        printf("%s: %s\n", st_error_last()->type, st_error_message());
    if (!st_struct_iter_unpack(rec, data, len - 1))
        printf("%s: %s\n", st_error_last()->type, st_error_message());
    st_struct_free(rec);
    return 0;
}
