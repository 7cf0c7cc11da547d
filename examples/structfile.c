/* structfile: writes an array of C structs to a file as fixed-size binary records, with a
 * struct format bound to the struct once, then reads them back into structs and prints each
 * record the way Python prints the tuple struct.unpack returns. The Python equivalent:
 *
 *     rec = struct.Struct("<I10sd?")
 *     with open("records.bin", "wb") as f:
 *         for p in people: f.write(rec.pack(p.id, p.name, p.score, p.active))
 *     for r in rec.iter_unpack(open("records.bin", "rb").read()): print(r)
 *     rec.pack_into(one, 0, 1, b"ada", 92.5, True)     # the codec, for one struct at a time
 *
 * The field table is filled by the compiler (offsetof, sizeof, the member's type), and
 * st_struct_record_new() checks it against the format: a member of the wrong size, signedness
 * or kind is an error at setup, not garbage in the file.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systools/systools.h>

struct person {
    uint32_t id;
    char name[10]; /* "<10s": exactly 10 bytes, NUL-padded, as Python pads them */
    double score;
    bool active;
};

static const st_struct_field person_fields[] = {
    ST_STRUCT_FIELD(struct person, id),
    ST_STRUCT_ARRAY(struct person, name),
    ST_STRUCT_FIELD(struct person, score),
    ST_STRUCT_FIELD(struct person, active),
};

/* The same layout as a codec: its pack and unpack generated here at compile time from the list
 * of members (the fastest C path), checked at setup through the same record. */
#define PERSON(X) X(id, "I") X(name, "10s") X(score, "d") X(active, "?")
ST_STRUCT_CODEC(person, struct person, "<", PERSON);

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
    struct person people[3] = {
        {1, "ada", 92.5, true},
        {2, "grace", 78.25, false},
        {3, "", -0.1, true},
    };
    memcpy(people[2].name, "linus torvalds",
           10); /* all 10 bytes, no NUL: "10s" takes them as they are */
    const char *path = "records.bin";

    st_struct_record *rec = ST_STRUCT_RECORD_NEW("<I10sd?", struct person, person_fields);
    if (!rec)
        return fail("record");
    printf("format %s: %zu bytes per record\n", st_struct_format(st_struct_record_struct(rec)),
           st_struct_size(st_struct_record_struct(rec)));

    /* The whole array in one call: packed in blocks, written with short writes retried. */
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || st_struct_record_write(rec, fd, people, 3) < 0)
        return fail("write");
    close(fd);

    /* And back into an array of structs, up to its size or the end of the file. */
    struct person back[8];
    size_t n;
    fd = open(path, O_RDONLY);
    if (fd < 0 || st_struct_record_read(rec, fd, back, 8, &n) < 0)
        return fail("read");
    close(fd);
    remove(path);
    printf("read %zu records\n", n);
    for (size_t i = 0; i < n; i++) {
        printf("(%u, ", (unsigned)back[i].id);
        print_bytes((const unsigned char *)back[i].name, sizeof back[i].name);
        printf(", ");
        print_float(back[i].score);
        printf(", %s)\n", back[i].active ? "True" : "False");
    }

    /* One struct at a time through the codec: struct.pack("<I10sd?", 1, b"ada", 92.5, True). */
    st_struct_record *codec = person_record_new();
    unsigned char one[23];
    if (!codec || person_pack(codec, &people[0], one, sizeof one) < 0)
        return fail("codec");
    printf("codec pack: ");
    print_bytes(one, sizeof one);
    struct person first;
    if (person_unpack(codec, one, sizeof one, &first) < 0)
        return fail("codec unpack");
    printf("\ncodec unpack: id %u, score ", (unsigned)first.id);
    print_float(first.score);
    printf("\n");
    if (person_pack(codec, &people[0], one, 20) < 0) /* a buffer too short: pack_into's error */
        printf("%s: %s\n", st_error_last()->type, st_error_message());
    st_struct_record_free(codec);

    /* A table that does not match its format is refused before any byte is written. */
    st_struct_record *wrong = ST_STRUCT_RECORD_NEW("<i10sd?", struct person, person_fields);
    if (!wrong)
        printf("%s: %s\n", st_error_last()->type, st_error_message());
    wrong = ST_STRUCT_RECORD_NEW("<I8sd?", struct person, person_fields);
    if (!wrong)
        printf("%s: %s\n", st_error_last()->type, st_error_message());
    st_struct_record_free(rec);
    return 0;
}
