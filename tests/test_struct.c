/* struct: calcsize, pack, unpack, pack_into/unpack_from, iter_unpack against CPython 3.13 vectors
 * (tests/gen/gen_struct.py), plus the varargs API code by code and the one-shot functions. */
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "internal/struct.h"
#include "support/support.h"
#include "systools/error.h"
#include "systools/struct.h"
#include "systools/value.h"

/* ---- The vector files of this machine ------------------------------------------------------ */

/* Native layout and '=' follow the machine, so the vectors of such cases are kept per layout
 * (struct/<layout>/), next to the cases every layout shares (struct/); abis.txt names each layout
 * by the facts below, measured here with C alone. */
typedef struct { char c; bool x; } align_bool;
typedef struct { char c; short x; } align_short;
typedef struct { char c; int x; } align_int;
typedef struct { char c; long x; } align_long;
typedef struct { char c; long long x; } align_llong;
typedef struct { char c; size_t x; } align_size;
typedef struct { char c; void *x; } align_ptr;
typedef struct { char c; float x; } align_float;
typedef struct { char c; double x; } align_double;
/* This machine's layout as abis.txt names it, or NULL (said once) when the vectors have none. */
static const char *machine_layout(void)
{
    static char name[32];
    static bool known;
    if (known)
        return name[0] ? name : NULL;
    known = true;
    static const struct {
        char letter;
        size_t size, align;
    } fact[] = {
        {'?', sizeof(bool), offsetof(align_bool, x)},       {'h', sizeof(short), offsetof(align_short, x)},
        {'i', sizeof(int), offsetof(align_int, x)},         {'l', sizeof(long), offsetof(align_long, x)},
        {'q', sizeof(long long), offsetof(align_llong, x)}, {'n', sizeof(size_t), offsetof(align_size, x)},
        {'P', sizeof(void *), offsetof(align_ptr, x)},      {'f', sizeof(float), offsetof(align_float, x)},
        {'d', sizeof(double), offsetof(align_double, x)},
    };
    const uint16_t one = 1;
    unsigned char low;
    memcpy(&low, &one, 1);
    char facts[160];
    int n = snprintf(facts, sizeof facts, "%s ssize=%zu", low ? "little" : "big", sizeof(ssize_t));
    for (size_t k = 0; k < sizeof fact / sizeof fact[0]; k++)
        n += snprintf(facts + n, sizeof facts - (size_t)n, " %c=%zu/%zu", fact[k].letter, fact[k].size,
                      fact[k].align);
    st_test_vectors v;
    st_test_vectors_open(&v, "struct/abis.txt");
    while (st_test_vectors_next(&v))
        if (v.nfields == 2 && !strcmp(v.field[1], facts) && strlen(v.field[0]) < sizeof name)
            strcpy(name, v.field[0]);
    st_test_vectors_close(&v);
    if (!name[0])
        print_message("no struct vectors for this machine's native layout (%s): its native and '=' "
                      "cases are left out\n", facts);
    return name[0] ? name : NULL;
}

/* Opens file number `file` of one kind of vectors: 0 is struct/<kind>.txt, 1 this machine's
 * struct/<layout>/<kind>.txt; false when there is no such file. */
static bool struct_vectors_open(st_test_vectors *v, const char *kind, int file)
{
    char rel[96];
    const char *layout = machine_layout();
    if (file == 0)
        snprintf(rel, sizeof rel, "struct/%s.txt", kind);
    else if (file == 1 && layout)
        snprintf(rel, sizeof rel, "struct/%s/%s.txt", layout, kind);
    else
        return false;
    st_test_vectors_open(v, rel);
    return true;
}

/* The error field of a vector, "!Type" with the message in the next field. */
static void assert_error(const char *type_field, const char *message)
{
    const st_error *e = st_error_last();
    assert_non_null(e);
    if (strcmp(e->type, type_field + 1) || strcmp(e->message, message))
        print_message("expected %s: %s\n     got %s: %s\n", type_field + 1, message, e->type, e->message);
    assert_string_equal(e->type, type_field + 1);
    assert_string_equal(e->message, message);
    if (!strcmp(type_field, "!struct.error"))
        assert_int_equal(e->code, ST_EFORMAT);
    else if (!strcmp(type_field, "!OverflowError"))
        assert_int_equal(e->code, ST_EOVERFLOW);
    else
        fail_msg("unexpected exception type %s", type_field);
    st_error_clear();
}

/* ---- Items: the values of one record, as the vectors write them ------------------------------ */

typedef struct record {
    size_t n;
    char letter[4096];
    size_t field[4096]; /* s/p length */
    st__struct_item item[4096];
    unsigned char *owned[4096];
} record;

static record g_rec, g_got;

/* The value letters of a compiled format, one per value. */
static void record_letters(const st_struct *s, record *r)
{
    r->n = 0;
    for (size_t k = 0; k < s->layout.ncodes; k++) {
        const st__struct_code *c = &s->layout.codes[k];
        for (size_t j = 0; j < c->count; j++) {
            assert_true(r->n < 4096);
            r->letter[r->n] = (char)c->letter;
            r->field[r->n] = c->size;
            r->n++;
        }
    }
}

static bool is_unsigned_letter(char c) { return strchr("BHILQNP", c) != NULL; }

static double bits_to_double(uint64_t bits)
{
    double d;
    memcpy(&d, &bits, 8);
    return d;
}

/* Parses the typed tokens of a vector into r->item (after record_letters). */
static void record_parse(record *r, const char *tokens)
{
    const char *p = tokens;
    for (size_t i = 0; i < r->n; i++) {
        while (*p == ' ')
            p++;
        assert_true(p[0] && p[1] == ':');
        char kind = p[0];
        p += 2;
        r->owned[i] = NULL;
        if (kind == 'i') {
            char *end;
            if (is_unsigned_letter(r->letter[i]))
                r->item[i].u = strtoull(p, &end, 10);
            else
                r->item[i].i = strtoll(p, &end, 10);
            p = end;
        } else if (kind == 'f') {
            char *end;
            r->item[i].d = bits_to_double(strtoull(p, &end, 16));
            p = end;
        } else {
            assert_int_equal(kind, 's');
            size_t len;
            r->owned[i] = st_test_unhex(p, &len);
            r->item[i].str.data = r->owned[i];
            r->item[i].str.len = len;
            p += 2 * len;
        }
    }
    while (*p == ' ')
        p++;
    assert_int_equal(*p, '\0');
}

static void record_free(record *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->owned[i]);
        r->owned[i] = NULL;
    }
}

static void assert_item_equal(char letter, const st__struct_item *want, const st__struct_item *got)
{
    switch (letter) {
    case 'e':
    case 'f':
    case 'd':
        if (isnan(want->d))
            assert_true(isnan(got->d));
        else
            assert_memory_equal(&want->d, &got->d, sizeof(double));
        break;
    case 's':
    case 'p':
        assert_int_equal(want->str.len, got->str.len);
        if (want->str.len)
            assert_memory_equal(want->str.data, got->str.data, want->str.len);
        break;
    default:
        if (is_unsigned_letter(letter))
            assert_true(want->u == got->u);
        else
            assert_true(want->i == got->i);
    }
}

/* ---- The varargs API for a one-value record, by letter ---------------------------------------- */

static int pack_one(const st_struct *s, void *buf, size_t len, char letter, const st__struct_item *it)
{
    switch (letter) {
    case 'c':
    case 'b':
    case 'h':
    case 'i':
    case '?':
        return st_struct_pack(s, buf, len, (int)it->i);
    case 'B':
    case 'H':
    case 'I':
        return st_struct_pack(s, buf, len, (unsigned int)it->u);
    case 'l':
        return st_struct_pack(s, buf, len, (long)it->i);
    case 'L':
        return st_struct_pack(s, buf, len, (unsigned long)it->u);
    case 'q':
        return st_struct_pack(s, buf, len, (long long)it->i);
    case 'Q':
        return st_struct_pack(s, buf, len, (unsigned long long)it->u);
    case 'n':
        return st_struct_pack(s, buf, len, (ssize_t)it->i);
    case 'N':
        return st_struct_pack(s, buf, len, (size_t)it->u);
    case 'P':
        return st_struct_pack(s, buf, len, (void *)(uintptr_t)it->u);
    case 'e':
    case 'f':
    case 'd':
        return st_struct_pack(s, buf, len, it->d);
    default:
        return st_struct_pack(s, buf, len, it->str.data, it->str.len);
    }
}

static unsigned char g_text[512];

static int unpack_one(const st_struct *s, const void *buf, size_t len, char letter, size_t field,
                      st__struct_item *it)
{
    int r;
    switch (letter) {
    case 'c': {
        char c;
        r = st_struct_unpack(s, buf, len, &c);
        it->i = (unsigned char)c;
        return r;
    }
    case 'b':
    case 'h':
    case 'i': {
        int x;
        r = st_struct_unpack(s, buf, len, &x);
        it->i = x;
        return r;
    }
    case '?': {
        bool b;
        r = st_struct_unpack(s, buf, len, &b);
        it->i = b;
        return r;
    }
    case 'B':
    case 'H':
    case 'I': {
        unsigned int x;
        r = st_struct_unpack(s, buf, len, &x);
        it->u = x;
        return r;
    }
    case 'l': {
        long x;
        r = st_struct_unpack(s, buf, len, &x);
        it->i = x;
        return r;
    }
    case 'L': {
        unsigned long x;
        r = st_struct_unpack(s, buf, len, &x);
        it->u = x;
        return r;
    }
    case 'q': {
        long long x;
        r = st_struct_unpack(s, buf, len, &x);
        it->i = x;
        return r;
    }
    case 'Q': {
        unsigned long long x;
        r = st_struct_unpack(s, buf, len, &x);
        it->u = x;
        return r;
    }
    case 'n': {
        ssize_t x;
        r = st_struct_unpack(s, buf, len, &x);
        it->i = x;
        return r;
    }
    case 'N': {
        size_t x;
        r = st_struct_unpack(s, buf, len, &x);
        it->u = x;
        return r;
    }
    case 'P': {
        void *x;
        r = st_struct_unpack(s, buf, len, &x);
        it->u = (uintptr_t)x;
        return r;
    }
    case 'e':
    case 'f':
    case 'd':
        return st_struct_unpack(s, buf, len, &it->d);
    case 's':
        assert_true(field <= sizeof g_text);
        r = st_struct_unpack(s, buf, len, g_text);
        it->str.data = g_text;
        it->str.len = field;
        return r;
    default: {
        size_t n = 999;
        memset(g_text, 0xAA, sizeof g_text);
        r = st_struct_unpack(s, buf, len, g_text, &n);
        it->str.data = g_text;
        it->str.len = n;
        assert_true(n == 0 || n < field);
        if (n < sizeof g_text)
            assert_int_equal(g_text[n], 0xAA); /* exactly n bytes were copied */
        return r;
    }
    }
}

/* ---- Vector tests ------------------------------------------------------------------------------ */

static void test_calcsize_vectors(void **state)
{
    (void)state;
    st_test_vectors v;
    int cases = 0;
    for (int file = 0; struct_vectors_open(&v, "calcsize", file); file++) {
        while (st_test_vectors_next(&v)) {
            char *fmt = (char *)st_test_unhex(v.field[0], NULL);
            ssize_t size = st_struct_calcsize(fmt);
            st_struct *s = st_struct_new(fmt);
            if (v.field[1][0] == '!') {
                assert_int_equal(size, -1);
                assert_null(s);
                assert_error(v.field[1], v.field[2]);
            } else {
                assert_int_equal(size, strtoll(v.field[1], NULL, 10));
                assert_non_null(s);
                assert_int_equal(st_struct_size(s), (size_t)size);
                assert_string_equal(st_struct_format(s), fmt);
            }
            st_struct_free(s);
            free(fmt);
            cases++;
        }
        st_test_vectors_close(&v);
    }
    assert_true(cases > (machine_layout() ? 3000 : 2000));
}

static void test_pack_vectors(void **state)
{
    (void)state;
    st_test_vectors v;
    int cases = 0, varargs = 0;
    for (int file = 0; struct_vectors_open(&v, "pack", file); file++) {
        while (st_test_vectors_next(&v)) {
            if (!strcmp(v.field[1], "-"))
                continue; /* not expressible with C argument types: value path only */
            char *fmt = (char *)st_test_unhex(v.field[0], NULL);
            st_struct *s = st_struct_new(fmt);
            assert_non_null(s);
            record_letters(s, &g_rec);
            assert_int_equal(g_rec.n, s->layout.nitems);
            record_parse(&g_rec, v.field[1]);
            size_t size = st_struct_size(s);
            unsigned char *buf = malloc(size ? size : 1);
            assert_non_null(buf);
            memset(buf, 0xAA, size); /* pack must write every byte, padding included */
            int r = st__struct_pack_items(s, buf, size, g_rec.item);
            size_t wantlen = 0;
            unsigned char *want = v.field[3][0] == '!' ? NULL : st_test_unhex(v.field[3], &wantlen);
            if (want) {
                assert_int_equal(r, 0);
                assert_int_equal(wantlen, size);
                assert_memory_equal(buf, want, size);
            } else {
                assert_int_equal(r, -1);
                assert_error(v.field[3], v.field[4]);
            }
            if (g_rec.n == 1) { /* the varargs path */
                memset(buf, 0xAA, size);
                r = pack_one(s, buf, size, g_rec.letter[0], &g_rec.item[0]);
                if (want) {
                    assert_int_equal(r, 0);
                    assert_memory_equal(buf, want, size);
                } else {
                    assert_int_equal(r, -1);
                    assert_error(v.field[3], v.field[4]);
                }
                varargs++;
            }
            free(want);
            free(buf);
            record_free(&g_rec);
            st_struct_free(s);
            free(fmt);
            cases++;
        }
        st_test_vectors_close(&v);
    }
    print_message("typed path: %d pack cases, %d of them also through the varargs API\n", cases, varargs);
    assert_true(cases > (machine_layout() ? 5000 : 2500));
    assert_true(varargs > 500);
}

static void test_unpack_vectors(void **state)
{
    (void)state;
    st_test_vectors v;
    int cases = 0;
    for (int file = 0; struct_vectors_open(&v, "unpack", file); file++) {
        while (st_test_vectors_next(&v)) {
            char *fmt = (char *)st_test_unhex(v.field[0], NULL);
            st_struct *s = st_struct_new(fmt);
            assert_non_null(s);
            size_t len;
            unsigned char *data = st_test_unhex(v.field[1], &len);
            record_letters(s, &g_rec);
            record_parse(&g_rec, v.field[2]);
            assert_int_equal(st__struct_unpack_items(s, data, len, g_got.item), 0);
            for (size_t i = 0; i < g_rec.n; i++)
                assert_item_equal(g_rec.letter[i], &g_rec.item[i], &g_got.item[i]);
            if (g_rec.n == 1) {
                st__struct_item one;
                assert_int_equal(unpack_one(s, data, len, g_rec.letter[0], g_rec.field[0], &one), 0);
                assert_item_equal(g_rec.letter[0], &g_rec.item[0], &one);
            }
            /* Wrong sizes are refused with Python's message. */
            assert_int_equal(st__struct_unpack_items(s, data, len + 1, g_got.item), -1);
            char msg[96];
            snprintf(msg, sizeof msg, "unpack requires a buffer of %zu bytes", len);
            assert_error("!struct.error", msg);
            record_free(&g_rec);
            free(data);
            st_struct_free(s);
            free(fmt);
            cases++;
        }
        st_test_vectors_close(&v);
    }
    assert_true(cases > (machine_layout() ? 5000 : 2500));
}

/* The offsets vectors use a few fixed formats, each called with its C argument types. */
static int offsets_call(const char *fmt, bool pack, void *buf, size_t len, ssize_t off)
{
    st_struct *s = st_struct_new(fmt);
    assert_non_null(s);
    int r, i1, i2;
    long long q;
    double d;
    char c5[5];
    if (!strcmp(fmt, "i"))
        r = pack ? st_struct_pack_into(s, buf, len, off, 1) : st_struct_unpack_from(s, buf, len, off, &i1);
    else if (!strcmp(fmt, "<q"))
        r = pack ? st_struct_pack_into(s, buf, len, off, 1LL) : st_struct_unpack_from(s, buf, len, off, &q);
    else if (!strcmp(fmt, "3h"))
        r = pack ? st_struct_pack_into(s, buf, len, off, 1, 1, 1)
                 : st_struct_unpack_from(s, buf, len, off, &i1, &i2, &i1);
    else if (!strcmp(fmt, "") || !strcmp(fmt, "x"))
        r = pack ? st_struct_pack_into(s, buf, len, off) : st_struct_unpack_from(s, buf, len, off);
    else if (!strcmp(fmt, "<5s"))
        r = pack ? st_struct_pack_into(s, buf, len, off, "abcde", (size_t)5)
                 : st_struct_unpack_from(s, buf, len, off, c5);
    else if (!strcmp(fmt, "@bi"))
        r = pack ? st_struct_pack_into(s, buf, len, off, 1, 1) : st_struct_unpack_from(s, buf, len, off, &i1, &i2);
    else
        r = pack ? st_struct_pack_into(s, buf, len, off, 1.0) : st_struct_unpack_from(s, buf, len, off, &d);
    st_struct_free(s);
    return r;
}

/* The value path: args parsed from Python's repr, packed with Python's conversions. */
static void test_pack_values_vectors(void **state)
{
    (void)state;
    st_test_vectors v;
    int cases = 0, py_only = 0, unparsable = 0;
    for (int file = 0; struct_vectors_open(&v, "pack", file); file++) {
        while (st_test_vectors_next(&v)) {
            st_value *args = st_value_parse(v.field[2]);
            if (!args) { /* nan and inf have no literal form */
                st_error_clear();
                unparsable++;
                continue;
            }
            char *fmt = (char *)st_test_unhex(v.field[0], NULL);
            st_struct *s = st_struct_new(fmt);
            assert_non_null(s);
            size_t size = st_struct_size(s);
            unsigned char *buf = malloc(size ? size : 1);
            assert_non_null(buf);
            memset(buf, 0xAA, size);
            int r = st_struct_pack_values(s, args, buf, size);
            if ((r == 0) != (v.field[3][0] != '!'))
                print_message("case %s %s: %d\n", fmt, v.field[2], r);
            if (v.field[3][0] == '!') {
                assert_int_equal(r, -1);
                assert_error(v.field[3], v.field[4]);
            } else {
                size_t wantlen;
                unsigned char *want = st_test_unhex(v.field[3], &wantlen);
                assert_int_equal(r, 0);
                assert_int_equal(wantlen, size);
                assert_memory_equal(buf, want, size);
                free(want);
            }
            py_only += !strcmp(v.field[1], "-");
            free(buf);
            st_struct_free(s);
            st_value_unref(args);
            free(fmt);
            cases++;
        }
        st_test_vectors_close(&v);
    }
    print_message("value path: %d pack cases (%d only expressible as Python values), %d skipped "
                  "(nan/inf arguments have no literal)\n", cases, py_only, unparsable);
    assert_true(cases > (machine_layout() ? 5000 : 2500));
    assert_true(py_only > 500);
    assert_true(unparsable < cases / 10);
}

static void test_unpack_values_vectors(void **state)
{
    (void)state;
    st_test_vectors v;
    int cases = 0;
    for (int file = 0; struct_vectors_open(&v, "unpack", file); file++) {
        while (st_test_vectors_next(&v)) {
            char *fmt = (char *)st_test_unhex(v.field[0], NULL);
            st_struct *s = st_struct_new(fmt);
            assert_non_null(s);
            size_t len;
            unsigned char *data = st_test_unhex(v.field[1], &len);
            st_value *t = st_struct_unpack_values(s, data, len);
            assert_non_null(t);
            char *repr = st_value_repr(t);
            assert_non_null(repr);
            assert_string_equal(repr, v.field[3]);
            st_free(repr);
            st_value_unref(t);
            assert_null(st_struct_unpack_values(s, data, len + 1));
            assert_int_equal(st_error_code(), ST_EFORMAT);
            st_error_clear();
            free(data);
            st_struct_free(s);
            free(fmt);
            cases++;
        }
        st_test_vectors_close(&v);
    }
    assert_true(cases > (machine_layout() ? 5000 : 2500));
}

static void test_pack_values_types(void **state)
{
    (void)state;
    st_struct *s = st_struct_new("<hc");
    assert_non_null(s);
    unsigned char buf[3];
    st_value *notseq = st_value_int(1);
    assert_int_equal(st_struct_pack_values(s, notseq, buf, sizeof buf), -1);
    assert_int_equal(st_error_code(), ST_ETYPE);
    st_value *list = st_value_parse("[-2, b'z']");
    assert_int_equal(st_struct_pack_values(s, list, buf, sizeof buf), 0);
    assert_memory_equal(buf, "\xfe\xffz", 3);
    st_value *t = st_value_parse("(1, 2, 3)");
    assert_int_equal(st_struct_pack_values(s, t, buf, sizeof buf), -1);
    assert_string_equal(st_error_message(), "pack expected 2 items for packing (got 3)");
    /* The first bad value wins, whether out of range or of the wrong type. */
    st_value *two_bad = st_value_parse("(40000, 'x')");
    assert_int_equal(st_struct_pack_values(s, two_bad, buf, sizeof buf), -1);
    assert_string_equal(st_error_message(), "'h' format requires -32768 <= number <= 32767");
    st_value_unref(two_bad);
    two_bad = st_value_parse("(1.5, 40000)");
    assert_int_equal(st_struct_pack_values(s, two_bad, buf, sizeof buf), -1);
    assert_string_equal(st_error_message(), "required argument is not an integer");
    st_value_unref(two_bad);
    st_value_unref(t);
    st_value_unref(list);
    st_value_unref(notseq);
    st_struct_free(s);
}

static void test_offsets_vectors(void **state)
{
    (void)state;
    st_test_vectors v;
    st_test_vectors_open(&v, "struct/offsets.txt");
    int cases = 0;
    while (st_test_vectors_next(&v)) {
        char *fmt = (char *)st_test_unhex(v.field[1], NULL);
        size_t len = strtoull(v.field[2], NULL, 10);
        ssize_t off = strtoll(v.field[3], NULL, 10);
        bool pack = !strcmp(v.field[0], "pack_into");
        unsigned char *buf = calloc(1, len ? len : 1);
        int r = offsets_call(fmt, pack, buf, len, off);
        if (!strcmp(v.field[4], "ok")) {
            assert_int_equal(r, 0);
        } else {
            assert_int_equal(r, -1);
            assert_error(v.field[4], v.field[5]);
        }
        /* The one-shot functions check the same way. */
        if (!strcmp(fmt, "i")) {
            int x;
            r = pack ? st_struct_pack_into_fmt(fmt, buf, len, off, 1) : st_struct_unpack_from_fmt(fmt, buf, len, off, &x);
            if (!strcmp(v.field[4], "ok")) {
                assert_int_equal(r, 0);
            } else {
                assert_int_equal(r, -1);
                assert_error(v.field[4], v.field[5]);
            }
        }
        free(buf);
        free(fmt);
        cases++;
    }
    st_test_vectors_close(&v);
    assert_true(cases >= 600);
}

static void test_iter_vectors(void **state)
{
    (void)state;
    st_test_vectors v;
    st_test_vectors_open(&v, "struct/iter.txt");
    int cases = 0;
    while (st_test_vectors_next(&v)) {
        char *fmt = (char *)st_test_unhex(v.field[0], NULL);
        size_t len;
        unsigned char *data = st_test_unhex(v.field[1], &len);
        st_struct *s = st_struct_new(fmt);
        assert_non_null(s);
        st_struct_unpack_iterator *it = st_struct_iter_unpack(s, data, len);
        if (v.field[2][0] == '!') {
            assert_null(it);
            assert_error(v.field[2], v.field[3]);
        } else {
            assert_non_null(it);
            size_t want = strtoull(v.field[2], NULL, 10), count = 0;
            assert_int_equal(st_struct_unpack_iterator_length_hint(it), want);
            int a, b;
            char c3[3];
            char ch;
            double d;
            for (;;) {
                int r;
                if (!strcmp(fmt, "i"))
                    r = st_struct_unpack_iterator_next(it, &a);
                else if (!strcmp(fmt, "<hb"))
                    r = st_struct_unpack_iterator_next(it, &a, &b);
                else if (!strcmp(fmt, "<3s"))
                    r = st_struct_unpack_iterator_next(it, c3);
                else if (!strcmp(fmt, "@ci"))
                    r = st_struct_unpack_iterator_next(it, &ch, &a);
                else if (!strcmp(fmt, ">e"))
                    r = st_struct_unpack_iterator_next(it, &d);
                else
                    r = st_struct_unpack_iterator_next(it); /* "x" */
                if (r == 0)
                    break;
                assert_int_equal(r, 1);
                count++;
                assert_int_equal(st_struct_unpack_iterator_length_hint(it), want - count);
            }
            assert_int_equal(count, want);
            assert_int_equal(st_struct_unpack_iterator_next(it), 0); /* stays exhausted */
        }
        st_struct_unpack_iterator_free(it);
        st_struct_free(s);
        free(data);
        free(fmt);
        cases++;
    }
    st_test_vectors_close(&v);
    assert_true(cases >= 200);
    /* next(None) is a TypeError: -1, which no loop `while (next(...) > 0)` takes for the end. */
    assert_int_equal(st_struct_unpack_iterator_next(NULL), -1);
    assert_int_equal(st_error_code(), ST_ETYPE);
    st_struct_unpack_iterator_free(NULL);
}

/* ---- Hand-written cases ----------------------------------------------------------------------- */

static void test_every_code_round_trip(void **state)
{
    (void)state;
    st_struct *s = st_struct_new("@cbB?hHiIlLqQnNefdP3s4p");
    assert_non_null(s);
    unsigned char buf[256];
    size_t size = st_struct_size(s);
    assert_true(size <= sizeof buf);
    int marker;
    assert_int_equal(st_struct_pack(s, buf, sizeof buf, 'z', -5, 200u, 7, -300, 60000u, -70000, 4000000000u,
                                    -5L, 5UL, -9000000000LL, 18000000000000000000ULL, (ssize_t)-3, (size_t)3,
                                    0.5, 1.25, -2.5e300, (void *)&marker, "abcdef", (size_t)6, "xy", (size_t)2),
                     0);
    char c;
    int b, hh, ii, truthy;
    unsigned int B, H, I;
    bool q;
    long l;
    unsigned long L;
    long long qq;
    unsigned long long Q;
    ssize_t n;
    size_t N, plen;
    double e, f, d;
    void *P;
    char s3[3], p4[3];
    assert_int_equal(st_struct_unpack(s, buf, size, &c, &b, &B, &q, &hh, &H, &ii, &I, &l, &L, &qq, &Q, &n, &N, &e,
                                      &f, &d, &P, s3, p4, &plen),
                     0);
    truthy = q;
    assert_int_equal(c, 'z');
    assert_int_equal(b, -5);
    assert_int_equal(B, 200);
    assert_int_equal(truthy, 1);
    assert_int_equal(hh, -300);
    assert_int_equal(H, 60000);
    assert_int_equal(ii, -70000);
    assert_true(I == 4000000000u);
    assert_true(l == -5 && L == 5);
    assert_true(qq == -9000000000LL && Q == 18000000000000000000ULL);
    assert_true(n == -3 && N == 3);
    assert_true(e == 0.5 && f == 1.25 && d == (double)-2.5e300); /* x87: constants are long double */
    assert_ptr_equal(P, &marker);
    assert_memory_equal(s3, "abc", 3);
    assert_int_equal(plen, 2);
    assert_memory_equal(p4, "xy", 2);
    st_struct_free(s);
}

static void test_native_alignment(void **state)
{
    (void)state;
    /* Padding between members only, and the "0l" trick aligns the end. */
    assert_int_equal(st_struct_calcsize("@bi"), 8);
    assert_int_equal(st_struct_calcsize("@bi0l"), 8);
    assert_int_equal(st_struct_calcsize("@ib"), 5);
    assert_int_equal(st_struct_calcsize("@ib0l"), 8);
    assert_int_equal(st_struct_calcsize("@b0q"), offsetof(align_llong, x)); /* 4 on i386 */
    assert_int_equal(st_struct_calcsize("0q"), 0); /* no padding before the first member */
    assert_int_equal(st_struct_calcsize("<bi"), 5);
    unsigned char buf[8];
    memset(buf, 0xAA, sizeof buf);
    assert_int_equal(st_struct_pack_fmt("@bh", buf, sizeof buf, 1, 2), 0);
    short two = 2;
    assert_int_equal(buf[0], 1);
    assert_int_equal(buf[1], 0); /* padding is zeroed */
    assert_memory_equal(buf + 2, &two, 2);
}

static void test_half_float(void **state)
{
    (void)state;
    unsigned char b[2];
    /* Round half to even at the last mantissa bit, and carries into the exponent. */
    assert_int_equal(st_struct_pack_fmt("<e", b, 2, 1.00048828125), 0); /* exactly between 1.0 and 1+2**-10 */
    assert_int_equal(b[0] | b[1] << 8, 0x3c00);
    assert_int_equal(st_struct_pack_fmt("<e", b, 2, 1.00146484375), 0); /* 1 + 1.5 * 2**-10: the tie goes to even */
    assert_int_equal(b[0] | b[1] << 8, 0x3c02);
    assert_int_equal(st_struct_pack_fmt(">e", b, 2, 65504.0), 0);
    assert_int_equal(b[0] << 8 | b[1], 0x7bff);
    assert_int_equal(st_struct_pack_fmt("<e", b, 2, 65520.0), -1);
    assert_int_equal(st_error_code(), ST_EOVERFLOW);
    assert_string_equal(st_error_message(), "float too large to pack with e format");
    assert_string_equal(st_error_last()->type, "OverflowError");
    assert_int_equal(st_struct_pack_fmt("<e", b, 2, 5.960464477539063e-08), 0); /* smallest subnormal */
    assert_int_equal(b[0] | b[1] << 8, 0x0001);
    assert_int_equal(st_struct_pack_fmt("<e", b, 2, 2.9802322387695312e-08), 0); /* half of it: ties to zero */
    assert_int_equal(b[0] | b[1] << 8, 0x0000);
    double x;
    unsigned char inf[2] = {0x00, 0x7c}, nan[2] = {0x01, 0xfe};
    assert_int_equal(st_struct_unpack_fmt("<e", inf, 2, &x), 0);
    assert_true(isinf(x) && x > 0);
    assert_int_equal(st_struct_unpack_fmt("<e", nan, 2, &x), 0);
    assert_true(isnan(x));
}

static void test_range_errors(void **state)
{
    (void)state;
    unsigned char buf[8];
    assert_int_equal(st_struct_pack_fmt("b", buf, 8, 128), -1);
    assert_string_equal(st_error_message(), "'b' format requires -128 <= number <= 127");
    assert_string_equal(st_error_last()->type, "struct.error");
    assert_int_equal(st_struct_pack_fmt("<H", buf, 8, 65536u), -1);
    assert_string_equal(st_error_message(), "'H' format requires 0 <= number <= 65535");
#if LONG_MAX > 2147483647L
    assert_int_equal(st_struct_pack_fmt("<l", buf, 8, -2147483649L), -1); /* a long wider than the standard 'l' */
    assert_string_equal(st_error_message(), "'l' format requires -2147483648 <= number <= 2147483647");
#endif
    assert_int_equal(st_struct_pack_fmt("c", buf, 8, 256), -1);
    assert_string_equal(st_error_message(), "char format requires a bytes object of length 1");
    assert_int_equal(st_struct_pack_fmt("<f", buf, 8, 1e39), -1);
    assert_string_equal(st_error_message(), "float too large to pack with f format");
    assert_int_equal(st_struct_pack_fmt("f", buf, 8, 1e39), 0); /* native f converts like C, as CPython does */
    float f;
    memcpy(&f, buf, 4);
    assert_true(isinf(f));
    /* Too small a buffer for pack is pack_into's error at offset 0. */
    assert_int_equal(st_struct_pack_fmt("<q", buf, 4, 1LL), -1);
    assert_string_equal(st_error_message(),
                        "pack_into requires a buffer of at least 8 bytes for packing 8 bytes at offset 0 "
                        "(actual buffer size is 4)");
    assert_int_equal(st_struct_unpack_fmt("<q", buf, 4, (long long *)NULL), -1);
    assert_string_equal(st_error_message(), "unpack requires a buffer of 8 bytes");
    assert_int_equal(st_struct_pack_fmt("3", buf, 8), -1);
    assert_string_equal(st_error_message(), "repeat count given without format specifier");
    assert_int_equal(st_struct_calcsize(NULL), -1);
    assert_int_equal(st_error_code(), ST_ETYPE);
}

/* Packs the values of repr with s and checks the outcome: NULL for success, else the message. */
static void pack_values_case(const st_struct *s, const char *repr, const char *message)
{
    unsigned char buf[64];
    st_value *v = st_value_parse(repr);
    assert_non_null(v);
    int r = st_struct_pack_values(s, v, buf, st_struct_size(s));
    st_value_unref(v);
    if (!message) {
        assert_int_equal(r, 0);
        return;
    }
    assert_int_equal(r, -1);
    assert_error("!struct.error", message);
}

static void test_word_codes_range(void **state)
{
    (void)state;
    /* n, N and P take what ssize_t, size_t and a pointer hold on this machine, as CPython built
     * for it does: on a 32-bit machine a wider int is an error, never cut to 4 bytes. */
    st_struct *s = st_struct_new("nNP");
    assert_non_null(s);
    bool wide = sizeof(size_t) == 8;
    pack_values_case(s, "(2147483648, 0, 0)", wide ? NULL : "'n' format requires -2147483648 <= number <= 2147483647");
    pack_values_case(s, "(-2147483649, 0, 0)", wide ? NULL : "'n' format requires -2147483648 <= number <= 2147483647");
    pack_values_case(s, "(0, 4294967296, 0)", wide ? NULL : "'N' format requires 0 <= number <= 4294967295");
    pack_values_case(s, "(0, 0, 4294967296)", wide ? NULL : "int too large to convert");
    pack_values_case(s, "(0, 0, -2147483649)", wide ? NULL : "int too large to convert");
    pack_values_case(s, "(0, 0, 18446744073709551615)", wide ? NULL : "int too large to convert");
    pack_values_case(s, "(0, 0, 18446744073709551616)", "int too large to convert");
    pack_values_case(s, "(0, -1, 0)", wide ? "'N' format requires 0 <= number <= 18446744073709551615"
                                           : "'N' format requires 0 <= number <= 4294967295");
    /* A negative pointer-sized int is the pointer with those bits (PyLong_AsVoidPtr). */
    unsigned char buf[64];
    st_value *v = st_value_parse("(0, 0, -2)");
    assert_int_equal(st_struct_pack_values(s, v, buf, st_struct_size(s)), 0);
    void *p;
    ssize_t n;
    size_t N;
    assert_int_equal(st_struct_unpack(s, buf, st_struct_size(s), &n, &N, &p), 0);
    assert_true((uintptr_t)p == UINTPTR_MAX - 1);
    st_value_unref(v);
    st_struct_free(s);
}

static void test_strings(void **state)
{
    (void)state;
    unsigned char buf[300];
    memset(buf, 0xAA, sizeof buf);
    assert_int_equal(st_struct_pack_fmt("5s", buf, 5, "ab", (size_t)2), 0);
    assert_memory_equal(buf, "ab\0\0\0", 5);
    assert_int_equal(st_struct_pack_fmt("2s", buf, 2, "abcdef", (size_t)6), 0);
    assert_memory_equal(buf, "ab", 2);
    assert_int_equal(st_struct_pack_fmt("0s", buf, 0, NULL, (size_t)0), 0);
    size_t zero = 99;
    assert_int_equal(st_struct_pack_fmt("0p", NULL, 0, "abc", (size_t)3), 0); /* a 0-byte record needs no buffer */
    assert_int_equal(st_struct_unpack_fmt("0p", NULL, 0, buf, &zero), 0);
    assert_int_equal(zero, 0);
    assert_int_equal(st_struct_pack_into_fmt("", NULL, 0, 0), 0);
    assert_int_equal(st_struct_unpack_from_fmt("x", NULL, 0, 0), -1);
    assert_string_equal(st_error_message(), "unpack_from requires a buffer of at least 1 bytes for unpacking 1 bytes "
                                            "at offset 0 (actual buffer size is 0)");
    memset(buf, 0xAA, sizeof buf);
    assert_int_equal(st_struct_pack_fmt("4p", buf, 4, "abcdef", (size_t)6), 0);
    assert_memory_equal(buf, "\3abc", 4);
    assert_int_equal(st_struct_pack_fmt("300p", buf, 300, buf + 1, (size_t)299), 0);
    assert_int_equal(buf[0], 255); /* the count byte saturates */
    char out[4];
    size_t n = 0;
    unsigned char rec[4] = {9, 'x', 'y', 'z'};
    assert_int_equal(st_struct_unpack_fmt("4p", rec, 4, out, &n), 0);
    assert_int_equal(n, 3); /* a count past the field is cut to N-1 */
    assert_memory_equal(out, "xyz", 3);
    assert_int_equal(st_struct_unpack_fmt("0p", rec, 0, out, &n), 0);
    assert_int_equal(n, 0);
}

static void test_many_codes_one_shot(void **state)
{
    (void)state;
    /* 40 codes: more than the one-shot functions compile on the stack. */
    const char *fmt = "<bBbBbBbBbBbBbBbBbBbBbBbBbBbBbBbBbBbBbBbB";
    unsigned char buf[40];
#define TEN(a) a, a, a, a, a, a, a, a, a, a
    assert_int_equal(st_struct_pack_fmt(fmt, buf, sizeof buf, TEN(-1), TEN(-1), TEN(-1), TEN(-1)), -1);
    assert_string_equal(st_error_message(), "'B' format requires 0 <= number <= 255");
    assert_int_equal(st_struct_pack_fmt(fmt, buf, sizeof buf, TEN(7), TEN(7), TEN(7), TEN(7)), 0);
    int v[40];
#define P10(i) &v[i], &v[i + 1], &v[i + 2], &v[i + 3], &v[i + 4], &v[i + 5], &v[i + 6], &v[i + 7], &v[i + 8], &v[i + 9]
    assert_int_equal(st_struct_unpack_fmt(fmt, buf, sizeof buf, P10(0), P10(10), P10(20), P10(30)), 0);
    for (int i = 0; i < 40; i++)
        assert_int_equal(v[i], 7);
#undef TEN
#undef P10
}

static void test_one_shot_cache(void **state)
{
    (void)state;
    /* The same address with another text must not reuse the compiled format. */
    char fmt[8] = "<hI";
    unsigned char buf[6];
    assert_int_equal(st_struct_pack_fmt(fmt, buf, sizeof buf, 0x102, 0x3040506u), 0);
    assert_memory_equal(buf, "\x02\x01\x06\x05\x04\x03", 6);
    memcpy(fmt, ">hI", 4);
    assert_int_equal(st_struct_pack_fmt(fmt, buf, sizeof buf, 0x102, 0x3040506u), 0);
    assert_memory_equal(buf, "\x01\x02\x03\x04\x05\x06", 6);
    memcpy(fmt, ">hh", 4);
    assert_int_equal(st_struct_unpack_fmt(fmt, buf, sizeof buf, NULL), -1);
    assert_string_equal(st_error_message(), "unpack requires a buffer of 4 bytes");
    memcpy(fmt, ">hz", 4);
    assert_int_equal(st_struct_pack_fmt(fmt, buf, sizeof buf, 1, 2), -1);
    assert_string_equal(st_error_message(), "bad char in struct format");
    /* More formats than the cache holds, in turns, and one too long for it. */
    const char *fmts[] = {"<h", ">h", "!xh", "!h", "<xh", ">xh", "<hx", ">hx"};
    const char *want[] = {"\xfb\xff", "\xff\xfb", "\0\xff\xfb", "\xff\xfb", "\0\xfb\xff", "\0\xff\xfb", "\xfb\xff\0",
                          "\xff\xfb\0"};
    const char *big = "<hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh"; /* 40 codes, too long to keep */
    for (int round = 0; round < 3; round++) {
        for (size_t k = 0; k < sizeof fmts / sizeof fmts[0]; k++) {
            unsigned char out[3];
            int v = 0;
            size_t n = fmts[k][1] == 'x' || fmts[k][2] == 'x' ? 3 : 2;
            assert_int_equal(st_struct_calcsize(fmts[k]), n);
            assert_int_equal(st_struct_pack_fmt(fmts[k], out, n, -5), 0);
            assert_memory_equal(out, want[k], n);
            assert_int_equal(st_struct_unpack_fmt(fmts[k], out, n, &v), 0);
            assert_int_equal(v, -5);
        }
        unsigned char out[80];
        int v[40];
#define TEN(a) a, a, a, a, a, a, a, a, a, a
#define P10(i) &v[i], &v[i + 1], &v[i + 2], &v[i + 3], &v[i + 4], &v[i + 5], &v[i + 6], &v[i + 7], &v[i + 8], &v[i + 9]
        assert_int_equal(st_struct_pack_fmt(big, out, sizeof out, TEN(round), TEN(round), TEN(round), TEN(-round)), 0);
        assert_int_equal(st_struct_unpack_fmt(big, out, sizeof out, P10(0), P10(10), P10(20), P10(30)), 0);
        assert_int_equal(v[0], round);
        assert_int_equal(v[39], -round);
#undef TEN
#undef P10
    }
}

static int vpack_wrapper(const st_struct *s, void *buf, size_t len, ...)
{
    va_list ap;
    va_start(ap, len);
    int r = st_struct_vpack(s, buf, len, ap);
    va_end(ap);
    return r;
}

static int vunpack_wrapper(const st_struct *s, const void *buf, size_t len, ...)
{
    va_list ap;
    va_start(ap, len);
    int r = st_struct_vunpack(s, buf, len, ap);
    va_end(ap);
    return r;
}

static void test_va_list_variants(void **state)
{
    (void)state;
    st_struct *s = st_struct_new("!hI");
    assert_non_null(s);
    unsigned char buf[6];
    assert_int_equal(vpack_wrapper(s, buf, sizeof buf, -2, 0x01020304u), 0);
    assert_memory_equal(buf, "\xff\xfe\x01\x02\x03\x04", 6);
    int h;
    unsigned int i;
    assert_int_equal(vunpack_wrapper(s, buf, sizeof buf, &h, &i), 0);
    assert_int_equal(h, -2);
    assert_int_equal(i, 0x01020304u);
    assert_int_equal(vunpack_wrapper(s, buf, 5, &h, &i), -1);
    assert_string_equal(st_error_message(), "unpack requires a buffer of 6 bytes");
    assert_int_equal(vpack_wrapper(s, buf, 5, 1, 1u), -1);
    assert_string_equal(st_struct_format(s), "!hI");
    st_struct_free(s);
    st_struct_free(NULL);
    st_struct_unpack_iterator_free(NULL);
}

/* ---- Records: a format bound to a C struct --------------------------------------------------- */

static bool machine_is_little(void)
{
    const uint16_t one = 1;
    unsigned char low;
    memcpy(&low, &one, 1);
    return low == 1;
}

struct point {
    double x, y;
    int32_t id;
};

static const st_struct_field point_fields[] = {
    ST_STRUCT_FIELD(struct point, x),
    ST_STRUCT_FIELD(struct point, y),
    ST_STRUCT_FIELD(struct point, id),
};

static void test_record_point(void **state)
{
    (void)state;
    st_struct_record *r = ST_STRUCT_RECORD_NEW(">ddi", struct point, point_fields);
    assert_non_null(r);
    assert_int_equal(st_struct_size(st_struct_record_struct(r)), 20);
    assert_string_equal(st_struct_format(st_struct_record_struct(r)), ">ddi");
    struct point p = {1.5, -2.0, -3}, q;
    unsigned char buf[24], want[20];
    assert_int_equal(st_struct_record_pack(r, &p, buf, sizeof buf), 0);
    /* The bytes are big-endian whatever this machine is. */
    assert_memory_equal(buf, "\x3f\xf8\0\0\0\0\0\0\xc0\0\0\0\0\0\0\0\xff\xff\xff\xfd", 20);
    assert_int_equal(
        st_struct_pack(st_struct_record_struct(r), want, sizeof want, p.x, p.y, (int)p.id), 0);
    assert_memory_equal(buf, want, 20);
    memset(&q, 0, sizeof q);
    assert_int_equal(st_struct_record_unpack(r, buf, 20, &q), 0);
    assert_true(q.x == 1.5 && q.y == -2.0 && q.id == -3);
    /* Python's buffer errors. */
    assert_int_equal(st_struct_record_pack(r, &p, buf, 19), -1);
    assert_string_equal(st_error_message(),
                        "pack_into requires a buffer of at least 20 bytes for packing 20 bytes "
                        "at offset 0 (actual buffer size is 19)");
    assert_int_equal(st_struct_record_unpack(r, buf, 21, &q), -1);
    assert_string_equal(st_error_message(), "unpack requires a buffer of 20 bytes");
    st_struct_record_free(r);
    st_struct_record_free(NULL);
    /* The same record little-endian: the machine's own order, or swapped. */
    r = ST_STRUCT_RECORD_NEW("<ddi", struct point, point_fields);
    assert_non_null(r);
    assert_int_equal(st_struct_record_pack(r, &p, buf, sizeof buf), 0);
    assert_memory_equal(buf, "\0\0\0\0\0\0\xf8\x3f\0\0\0\0\0\0\0\xc0\xfd\xff\xff\xff", 20);
    printf("[ INFO     ] this machine is %s-endian\n", machine_is_little() ? "little" : "big");
    st_struct_record_free(r);
}

/* Every kind of mismatch is refused at setup, naming the field and what differs. */
#define REFUSED(code, fragment, format, type, ...)                                         \
    do {                                                                                   \
        static const st_struct_field f_[] = {__VA_ARGS__};                                 \
        assert_null(ST_STRUCT_RECORD_NEW(format, type, f_));                               \
        if (st_error_code() != (code) || !strstr(st_error_message(), fragment))            \
            fail_msg("%s: got \"%s\", want \"%s\"", format, st_error_message(), fragment); \
    } while (0)

struct mixed {
    int32_t i32;
    uint16_t u16;
    double d;
    float f;
    bool flag;
    char name[8];
    int32_t v[3];
    const char *text;
    long lg;
    char c;
    void *ptr;
};

static void test_record_mismatch(void **state)
{
    (void)state;
    /* Sizes: the member against the code, standard or native. */
    REFUSED(ST_EFORMAT,
            "field 'd' is a double of 8 bytes but 'f' packs a float of 4 bytes (standard size)",
            "<f", struct mixed, ST_STRUCT_FIELD(struct mixed, d));
    REFUSED(ST_EFORMAT,
            "field 'u16' is an unsigned integer of 2 bytes but 'I' packs an unsigned integer of 4 "
            "bytes",
            "<I", struct mixed, ST_STRUCT_FIELD(struct mixed, u16));
    {
        static const st_struct_field lg[] = {ST_STRUCT_FIELD(struct mixed, lg)};
        st_struct_record *r = ST_STRUCT_RECORD_NEW("<l", struct mixed, lg);
        if (sizeof(long) == 4) { /* this machine's long is the standard 4 bytes */
            assert_non_null(r);
        } else {
            assert_null(r);
            assert_string_equal(st_error_message(),
                                "field 'lg' is a signed integer of 8 bytes but 'l' packs a "
                                "signed integer of 4 bytes (standard size)");
        }
        st_struct_record_free(r);
        r = ST_STRUCT_RECORD_NEW("@l", struct mixed, lg); /* native: always sizeof(long) */
        assert_non_null(r);
        st_struct_record_free(r);
    }
    /* Signedness, both ways. */
    REFUSED(ST_EFORMAT,
            "field 'i32' is a signed integer (4 bytes) but 'I' packs an unsigned integer", "<I",
            struct mixed, ST_STRUCT_FIELD(struct mixed, i32));
    REFUSED(ST_EFORMAT,
            "field 'u16' is an unsigned integer (2 bytes) but 'h' packs a signed integer", "<h",
            struct mixed, ST_STRUCT_FIELD(struct mixed, u16));
    REFUSED(ST_EFORMAT, "field 'c' is a plain char, whose signedness varies", "b", struct mixed,
            ST_STRUCT_FIELD(struct mixed, c));
    /* Floats against integers, both ways. */
    REFUSED(ST_EFORMAT, "field 'd' is a double (8 bytes) but 'q' packs a signed integer of 8 bytes",
            "<q", struct mixed, ST_STRUCT_FIELD(struct mixed, d));
    REFUSED(ST_EFORMAT, "field 'i32' is a signed integer (4 bytes) but 'f' packs a float", "<f",
            struct mixed, ST_STRUCT_FIELD(struct mixed, i32));
    /* '?' takes a _Bool, and a _Bool only '?'. */
    REFUSED(ST_EFORMAT,
            "field 'i32' is a signed integer (4 bytes) but '?' packs a bool: make it a _Bool", "<?",
            struct mixed, ST_STRUCT_FIELD(struct mixed, i32));
    REFUSED(ST_EFORMAT, "field 'flag' is a _Bool (1 bytes) but 'B' packs an unsigned integer", "<B",
            struct mixed, ST_STRUCT_FIELD(struct mixed, flag));
    /* Counts: items against fields. */
    REFUSED(ST_EFORMAT, "item 2 ('d') has no field", "<id", struct mixed,
            ST_STRUCT_FIELD(struct mixed, i32));
    REFUSED(ST_EFORMAT, "field 'd' has no item in format '<i'", "<i", struct mixed,
            ST_STRUCT_FIELD(struct mixed, i32), ST_STRUCT_FIELD(struct mixed, d));
    /* A huge repeat count is refused at the first item past the table, allocating nothing. */
    REFUSED(ST_EFORMAT, "item 2 ('i') has no field", "<100000000i", struct mixed,
            ST_STRUCT_FIELD(struct mixed, i32));
    /* s and p lengths against the array. */
    REFUSED(ST_EFORMAT, "field 'name' has 8 bytes but '10s' has 10", "<10s", struct mixed,
            ST_STRUCT_ARRAY(struct mixed, name));
    REFUSED(ST_EFORMAT, "field 'i32' is not a char array, as '4s' needs", "<4s", struct mixed,
            ST_STRUCT_FIELD(struct mixed, i32));
    /* Repeat counts against arrays. */
    REFUSED(ST_EFORMAT, "'4i' has 4 items but field 'v' has 3 elements", "<4i", struct mixed,
            ST_STRUCT_ARRAY(struct mixed, v));
    REFUSED(ST_EFORMAT, "field 'v' has 3 elements but format '<i i' gives it 2", "<i i",
            struct mixed, ST_STRUCT_ARRAY(struct mixed, v));
    REFUSED(ST_EFORMAT, "field 'v[2]' is a signed integer of 4 bytes but 'h' packs", "<i i h",
            struct mixed, ST_STRUCT_ARRAY(struct mixed, v));
    /* Pad bytes take no field. */
    REFUSED(ST_EFORMAT, "field 'name' has no item: pad bytes ('x') take no field", "<8xi",
            struct mixed, ST_STRUCT_ARRAY(struct mixed, name), ST_STRUCT_FIELD(struct mixed, i32));
    /* A pointer is not an array, an array is not a scalar, P takes a void pointer. */
#if defined(__GNUC__) || defined(__clang__) /* which warn first: -Wsizeof-pointer-div */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wsizeof-pointer-div"
#endif
    REFUSED(ST_EVALUE, "field 'text' is a pointer, not an array", "<8s", struct mixed,
            ST_STRUCT_ARRAY(struct mixed, text));
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC diagnostic pop
#endif
    REFUSED(ST_EVALUE, "field 'name' has a type struct cannot check", "<8s", struct mixed,
            ST_STRUCT_FIELD(struct mixed, name));
    REFUSED(ST_EFORMAT, "field 'lg' is a signed integer", "P", struct mixed,
            ST_STRUCT_FIELD(struct mixed, lg));
    /* The table by itself: fields outside the struct, or overlapping. */
    REFUSED(ST_EVALUE, "field 'ptr' lies outside the struct", "P", struct point,
            ST_STRUCT_FIELD(struct mixed, ptr));
    REFUSED(ST_EVALUE, "fields 'd' and 'again' overlap", "<dd", struct mixed,
            ST_STRUCT_FIELD(struct mixed, d),
            {"again", offsetof(struct mixed, d) + 4, 8, 0, ST_STRUCT_KIND_FLOAT});
    /* A bad format is the format's own error; NULL arguments are TypeError. */
    REFUSED(ST_EFORMAT, "bad char in struct format", "<iy", struct mixed,
            ST_STRUCT_FIELD(struct mixed, i32));
    assert_null(st_struct_record_new(NULL, 8, point_fields, 1));
    assert_int_equal(st_error_code(), ST_ETYPE);
    assert_null(st_struct_record_new("<d", 8, NULL, 1));
    assert_int_equal(st_error_code(), ST_ETYPE);
    /* What matches is accepted: every kind once. */
    static const st_struct_field all[] = {
        ST_STRUCT_FIELD(struct mixed, i32),  ST_STRUCT_FIELD(struct mixed, u16),
        ST_STRUCT_FIELD(struct mixed, d),    ST_STRUCT_FIELD(struct mixed, f),
        ST_STRUCT_FIELD(struct mixed, flag), ST_STRUCT_ARRAY(struct mixed, name),
        ST_STRUCT_ARRAY(struct mixed, v),    ST_STRUCT_FIELD(struct mixed, c),
        ST_STRUCT_FIELD(struct mixed, ptr),
    };
    st_struct_record *r = ST_STRUCT_RECORD_NEW("@iHdf?8p3icP", struct mixed, all);
    assert_non_null(r);
    struct mixed m = {-7, 65535, 0.25, 1.5f, true, "ab", {1, -2, 3}, NULL, 0, 'z', &m}, back;
    unsigned char buf[128], want[128];
    size_t size = st_struct_size(st_struct_record_struct(r));
    assert_int_equal(st_struct_record_pack(r, &m, buf, sizeof buf), 0);
    assert_int_equal(st_struct_pack(st_struct_record_struct(r), want, sizeof want, m.i32,
                                    (unsigned)m.u16, m.d, (double)m.f, (int)m.flag, m.name,
                                    strlen(m.name), m.v[0], m.v[1], m.v[2], (int)m.c, m.ptr),
                     0);
    assert_memory_equal(buf, want, size);
    memset(&back, 0x5a, sizeof back);
    assert_int_equal(st_struct_record_unpack(r, buf, size, &back), 0);
    assert_true(back.i32 == -7 && back.u16 == 65535 && back.d == 0.25 && back.f == 1.5f &&
                back.flag);
    assert_string_equal(back.name, "ab");
    assert_true(back.v[0] == 1 && back.v[1] == -2 && back.v[2] == 3 && back.c == 'z' &&
                back.ptr == &m);
    st_struct_record_free(r);
}

/* A '?' between other fields: any non-zero byte unpacks as true, stored as 1, by the one-record
 * path, the array path and the iterator alike; the neighbours' bytes are copied as they are. */
static void test_record_bool_bytes(void **state)
{
    (void)state;
    struct flags {
        uint8_t a;
        bool b;
        uint16_t c;
        bool d;
    };
    static const st_struct_field fields[] = {
        ST_STRUCT_FIELD(struct flags, a), ST_STRUCT_FIELD(struct flags, b),
        ST_STRUCT_FIELD(struct flags, c), ST_STRUCT_FIELD(struct flags, d)};
    st_struct_record *r = ST_STRUCT_RECORD_NEW("=B?H?", struct flags, fields);
    assert_non_null(r);
    uint16_t c = 0x1234;
    unsigned char buf[10] = {5, 0x80, 0, 0, 2, 9, 0, 0, 0, 0};
    memcpy(buf + 2, &c, 2);
    memcpy(buf + 5, buf, 5);
    buf[6] = 0;
    struct flags back[2];
    memset(back, 0x5a, sizeof back);
    assert_int_equal(st_struct_record_unpack(r, buf, 5, &back[0]), 0);
    unsigned char one = 1, zero = 0;
    assert_int_equal(back[0].a, 5);
    assert_memory_equal(&back[0].b, &one, 1);
    assert_int_equal(back[0].c, 0x1234);
    assert_memory_equal(&back[0].d, &one, 1);
    memset(back, 0x5a, sizeof back);
    assert_int_equal(st_struct_record_unpack_array(r, buf, 10, back, 2), 0);
    assert_memory_equal(&back[0].b, &one, 1);
    assert_memory_equal(&back[0].d, &one, 1);
    assert_memory_equal(&back[1].b, &zero, 1);
    assert_memory_equal(&back[1].d, &one, 1);
    assert_int_equal(back[1].c, 0x1234);
    st_struct_record_unpack_iterator *it = st_struct_record_iter_unpack(r, buf, 10);
    assert_non_null(it);
    memset(back, 0x5a, sizeof back);
    assert_int_equal(st_struct_record_unpack_iterator_next(it, &back[0]), 1);
    assert_memory_equal(&back[0].b, &one, 1);
    assert_memory_equal(&back[0].d, &one, 1);
    st_struct_record_unpack_iterator_free(it);
    st_struct_record_free(r);
}

/* One '?': its fix rides on the last copy when that copy holds its byte (the copy's step makes
 * it 0 or 1), and stays a step of its own when an earlier copy does; both unpack alike. */
static void test_record_bool_last(void **state)
{
    (void)state;
    struct tail {
        uint8_t a;
        bool b;
        uint16_t c;
    };
    struct head {
        bool b;
        uint32_t i;
    };
    static const st_struct_field tail_fields[] = {ST_STRUCT_FIELD(struct tail, a),
                                                  ST_STRUCT_FIELD(struct tail, b),
                                                  ST_STRUCT_FIELD(struct tail, c)};
    static const st_struct_field head_fields[] = {ST_STRUCT_FIELD(struct head, b),
                                                  ST_STRUCT_FIELD(struct head, i)};
    st_struct_record *tail = ST_STRUCT_RECORD_NEW("=B?H", struct tail, tail_fields);
    st_struct_record *head = ST_STRUCT_RECORD_NEW("<?I", struct head, head_fields);
    assert_non_null(tail);
    assert_non_null(head);
    unsigned char one = 1, zero = 0;
    const unsigned char flags[] = {0, 1, 2, 0x80, 0xff};
    for (size_t i = 0; i < sizeof flags; i++) {
        const unsigned char *want = flags[i] ? &one : &zero;
        uint16_t c = 0x1234;
        unsigned char buf[5] = {7, flags[i], 0, 0, 0};
        memcpy(buf + 2, &c, 2);
        struct tail t;
        memset(&t, 0x5a, sizeof t);
        assert_int_equal(st_struct_record_unpack(tail, buf, 4, &t), 0);
        assert_int_equal(t.a, 7);
        assert_memory_equal(&t.b, want, 1);
        assert_int_equal(t.c, 0x1234);
        unsigned char rec[5] = {flags[i], 0x78, 0x56, 0x34, 0x12};
        struct head h;
        memset(&h, 0x5a, sizeof h);
        assert_int_equal(st_struct_record_unpack(head, rec, 5, &h), 0);
        assert_memory_equal(&h.b, want, 1);
        assert_int_equal(h.i, 0x12345678);
    }
    st_struct_record_free(tail);
    st_struct_record_free(head);
}

/* Floats for 'e', and the values that do not fit: OverflowError, as the variadic API says. */
static void test_record_half_and_text(void **state)
{
    (void)state;
    struct h {
        float f;
        double d;
        char p[4];
    };
    static const st_struct_field fields[] = {
        ST_STRUCT_FIELD(struct h, f), ST_STRUCT_FIELD(struct h, d), ST_STRUCT_ARRAY(struct h, p)};
    st_struct_record *r = ST_STRUCT_RECORD_NEW(">ee4p", struct h, fields);
    assert_non_null(r);
    struct h v = {1.5f, -65504.0, "abc"}, back;
    unsigned char buf[8];
    assert_int_equal(st_struct_record_pack(r, &v, buf, sizeof buf), 0);
    assert_memory_equal(buf,
                        "\x3e\x00\xfb\xff\x03"
                        "abc",
                        8);
    assert_int_equal(st_struct_record_unpack(r, buf, 8, &back), 0);
    assert_true(back.f == 1.5f && back.d == -65504.0);
    assert_memory_equal(back.p, "abc", 4);
    /* A Pascal string keeps at most N-1 bytes and unpacks NUL-padded. */
    memcpy(v.p, "wxyz", 4); /* no NUL: 3 bytes are packed */
    assert_int_equal(st_struct_record_pack(r, &v, buf, sizeof buf), 0);
    assert_memory_equal(buf + 4, "\x03wxy", 4);
    buf[4] = 200; /* a count past the field is cut to it, as Python does */
    assert_int_equal(st_struct_record_unpack(r, buf, 8, &back), 0);
    assert_memory_equal(back.p, "wxy", 4);
    v.d = 65520.0;
    assert_int_equal(st_struct_record_pack(r, &v, buf, sizeof buf), -1);
    assert_int_equal(st_error_code(), ST_EOVERFLOW);
    assert_string_equal(st_error_message(), "float too large to pack with e format");
    st_struct_record_free(r);
}

struct sample {
    uint32_t id;
    int16_t delta;
    double x;
    uint64_t n;
    char tag[8];
};

static const st_struct_field sample_fields[] = {
    ST_STRUCT_FIELD(struct sample, id),  ST_STRUCT_FIELD(struct sample, delta),
    ST_STRUCT_FIELD(struct sample, x),   ST_STRUCT_FIELD(struct sample, n),
    ST_STRUCT_ARRAY(struct sample, tag),
};

static void fill_samples(struct sample *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        memset(&s[i], 0, sizeof s[i]);
        s[i].id = (uint32_t)(i * 2654435761u);
        s[i].delta = (int16_t)(i % 65536 - 32768);
        s[i].x = (double)i / 7.0 - 100.0;
        s[i].n = (uint64_t)i * 0x9e3779b97f4a7c15ull;
        snprintf(s[i].tag, sizeof s[i].tag, "t%zu", i % 1000000);
    }
}

/* One record of a 64-byte struct against its expected bytes: pack writes them and nothing past
 * the record, unpack gives the fields back and writes no other byte of the struct. */
static void check_steps(const char *format, const st_struct_field *fields, size_t nfields,
                        const unsigned char obj[64], const unsigned char *want, size_t size)
{
    st_struct_record *r = st_struct_record_new(format, 64, fields, nfields);
    if (!r)
        fail_msg("%s refused: %s", format, st_error_message());
    assert_int_equal(st_struct_size(st_struct_record_struct(r)), size);
    unsigned char buf[96], back[64];
    memset(buf, 0xee, sizeof buf);
    assert_int_equal(st_struct_record_pack(r, obj, buf, sizeof buf), 0);
    if (memcmp(buf, want, size) != 0)
        fail_msg("%s: the record differs", format);
    for (size_t i = size; i < sizeof buf; i++)
        assert_int_equal(buf[i], 0xee);
    memset(back, 0x5a, sizeof back);
    assert_int_equal(st_struct_record_unpack(r, want, size, back), 0);
    bool field[64] = {false};
    for (size_t f = 0; f < nfields; f++)
        for (size_t k = 0; k < fields[f].size; k++)
            field[fields[f].offset + k] = true;
    for (size_t i = 0; i < 64; i++)
        if (back[i] != (field[i] ? obj[i] : 0x5a))
            fail_msg("%s: unpack wrote byte %zu of the struct wrong (%#x)", format, i, back[i]);
    st_struct_record_free(r);
}

/* Each way the one-record path moves bytes: a copy of every width from 1 to 40 bytes (past 32
 * the array path takes over), alone and after another copy; two copies that end a plan, each of
 * 1 to 33 bytes; byte-swapped values, one and several at a time; pad runs of 1 to 20 bytes; a
 * half float first, between and last. */
static void test_record_steps(void **state)
{
    (void)state;
    unsigned char obj[64], want[96];
    for (size_t i = 0; i < sizeof obj; i++)
        obj[i] = (unsigned char)(i * 37 + 11);
    char format[32];
    for (size_t n = 1; n <= 40; n++) {
        st_struct_field text[] = {{"id", 0, 4, 0, ST_STRUCT_KIND_UNSIGNED},
                                  {"text", 8, n, n, ST_STRUCT_KIND_CHAR}};
        snprintf(format, sizeof format, "<%zus", n);
        check_steps(format, text + 1, 1, obj, obj + 8, n);
        uint32_t id;
        memcpy(&id, obj, 4);
        snprintf(format, sizeof format, "<I%zus", n);
        assert_int_equal(st_struct_pack_fmt(format, want, sizeof want, id, obj + 8, n), 0);
        check_steps(format, text, 2, obj, want, 4 + n);
    }
    const char *other = machine_is_little() ? ">" : "<";
    static const char codes[] = "hiq";
    for (const char *c = codes; *c; c++) {
        size_t w = *c == 'h' ? 2 : *c == 'i' ? 4 : 8;
        for (size_t k = 1; k <= 5; k++) {
            st_struct_field values = {"v", 8, k * w, k, ST_STRUCT_KIND_SIGNED};
            snprintf(format, sizeof format, "%s%zu%c", other, k, *c);
            for (size_t v = 0; v < k; v++)
                for (size_t b = 0; b < w; b++)
                    want[v * w + b] = obj[8 + v * w + (w - 1 - b)];
            check_steps(format, &values, 1, obj, want, k * w);
        }
    }
    /* Two copies that end the plan, with a gap between them in the struct: one step when the
     * first has at most 16 bytes and the last 8, 16, 24 or 32. */
    for (size_t a = 1; a <= 17; a++)
        for (size_t b = 1; b <= 33; b++) {
            st_struct_field two[] = {{"head", 0, a, a, ST_STRUCT_KIND_CHAR},
                                     {"tail", 24, b, b, ST_STRUCT_KIND_CHAR}};
            snprintf(format, sizeof format, "<%zus%zus", a, b);
            memcpy(want, obj, a);
            memcpy(want + a, obj + 24, b);
            check_steps(format, two, 2, obj, want, a + b);
        }
    static const st_struct_field bytes[] = {{"a", 0, 1, 0, ST_STRUCT_KIND_UNSIGNED},
                                            {"b", 1, 1, 0, ST_STRUCT_KIND_UNSIGNED}};
    for (size_t k = 1; k <= 20; k++) {
        snprintf(format, sizeof format, "<B%zuxB", k);
        memset(want, 0, sizeof want);
        want[0] = obj[0];
        want[k + 1] = obj[1];
        check_steps(format, bytes, 2, obj, want, k + 2);
    }
    /* 'e' converts: a float member, then the neighbours' copies around it. */
    unsigned char fobj[64];
    memcpy(fobj, obj, sizeof fobj);
    const float half = 1.5f;
    memcpy(fobj + 8, &half, sizeof half);
    uint16_t h0, h1;
    memcpy(&h0, fobj, 2);
    memcpy(&h1, fobj + 2, 2);
    st_struct_field h[] = {{"h0", 0, 2, 0, ST_STRUCT_KIND_UNSIGNED},
                           {"h1", 2, 2, 0, ST_STRUCT_KIND_UNSIGNED},
                           {"half", 8, 4, 0, ST_STRUCT_KIND_FLOAT}};
    st_struct_field first[] = {h[2], h[0], h[1]}, middle[] = {h[0], h[2], h[1]};
    assert_int_equal(st_struct_pack_fmt("<HHe", want, sizeof want, h0, h1, 1.5), 0);
    check_steps("<HHe", h, 3, fobj, want, 6);
    assert_int_equal(st_struct_pack_fmt("<eHH", want, sizeof want, 1.5, h0, h1), 0);
    check_steps("<eHH", first, 3, fobj, want, 6);
    assert_int_equal(st_struct_pack_fmt("<HeH", want, sizeof want, h0, 1.5, h1), 0);
    check_steps("<HeH", middle, 3, fobj, want, 6);
}

/* Pack copies neighbouring members of different sizes in steps whose loads stay inside one
 * member: every sequence of up to five members of 1, 2, 4 and 8 bytes, contiguous or (up to four)
 * with pad bytes between them in the struct and in the record (up to the member's alignment, as
 * in a native layout), packs each member's bytes where the format puts them and zeroes the
 * pads. */
static void test_record_mixed_neighbours(void **state)
{
    (void)state;
    unsigned char obj[64], want[96];
    for (size_t i = 0; i < sizeof obj; i++)
        obj[i] = (unsigned char)(i * 53 + 7);
    static const size_t sizes[] = {1, 2, 4, 8};
    static const char codes[] = "BHIQ";
    size_t checked = 0;
    for (size_t n = 1; n <= 5; n++) {
        size_t combos = (size_t)1 << (2 * n), gaps = n <= 4 ? (size_t)1 << (n - 1) : 1;
        for (size_t c = 0; c < combos; c++)
            for (size_t g = 0; g < gaps; g++) { /* bit m: pad bytes before member m + 1 */
                st_struct_field fields[5];
                char format[64] = "=";
                size_t off = 0, len = 1;
                memset(want, 0, sizeof want);
                for (size_t m = 0; m < n; m++) {
                    size_t w = sizes[(c >> (2 * m)) & 3];
                    if (m > 0 && (g >> (m - 1)) & 1) { /* to the member's alignment, or w */
                        size_t pad = off % w ? w - off % w : w;
                        len += (size_t)snprintf(format + len, sizeof format - len, "%zux", pad);
                        off += pad;
                    }
                    fields[m] = (st_struct_field){"m", off, w, 0, ST_STRUCT_KIND_UNSIGNED};
                    format[len++] = codes[(c >> (2 * m)) & 3];
                    format[len] = '\0';
                    memcpy(want + off, obj + off, w);
                    off += w;
                }
                check_steps(format, fields, n, obj, want, off);
                checked++;
            }
    }
    assert_int_equal(checked, 4 * 1 + 16 * 2 + 64 * 4 + 256 * 8 + 1024);
}

/* Arrays agree with record-by-record packing, in both byte orders, and come back the same. */
static void test_record_arrays(void **state)
{
    (void)state;
    enum { N = 1000 };
    struct sample *in = calloc(N, sizeof *in), *out = calloc(N, sizeof *out);
    unsigned char *a = malloc(N * 30), *b = malloc(N * 30);
    assert_true(in && out && a && b);
    fill_samples(in, N);
    const char *formats[] = {"<IhdQ8s", ">IhdQ8s", "!IhdQ8s", "=IhdQ8s"};
    for (size_t k = 0; k < 4; k++) {
        st_struct_record *r = ST_STRUCT_RECORD_NEW(formats[k], struct sample, sample_fields);
        assert_non_null(r);
        assert_int_equal(st_struct_record_pack_array(r, in, N, a, N * 30), 0);
        for (size_t i = 0; i < N; i++)
            assert_int_equal(st_struct_pack(st_struct_record_struct(r), b + i * 30, 30,
                                            (unsigned)in[i].id, (int)in[i].delta, in[i].x,
                                            (unsigned long long)in[i].n, in[i].tag,
                                            sizeof in[i].tag),
                             0);
        assert_memory_equal(a, b, N * 30);
        memset(out, 0, N * sizeof *out);
        assert_int_equal(st_struct_record_unpack_array(r, a, N * 30, out, N), 0);
        assert_memory_equal(in, out, N * sizeof *in); /* zeroed padding on both sides */
        assert_int_equal(st_struct_record_pack_array(r, in, N, a, N * 30 - 1), -1);
        assert_int_equal(st_struct_record_unpack_array(r, a, N * 30 - 1, out, N), -1);
        assert_string_equal(st_error_message(), "unpack requires a buffer of 30000 bytes");
        assert_int_equal(st_struct_record_pack_array(r, in, 0, NULL, 0), 0);
        st_struct_record_free(r);
    }
    /* A struct that is its record byte for byte (native order and alignment, no padding). */
    struct pair {
        uint32_t a;
        int32_t b;
    } pairs[3] = {{1, -1}, {2, -2}, {0xdeadbeef, 7}}, pback[3];
    static const st_struct_field pf[] = {ST_STRUCT_FIELD(struct pair, a),
                                         ST_STRUCT_FIELD(struct pair, b)};
    st_struct_record *r = ST_STRUCT_RECORD_NEW("Ii", struct pair, pf);
    assert_non_null(r);
    assert_int_equal(st_struct_record_pack_array(r, pairs, 3, a, 24), 0);
    assert_memory_equal(a, pairs, 24);
    assert_int_equal(st_struct_record_unpack_array(r, a, 24, pback, 3), 0);
    assert_memory_equal(pback, pairs, 24);
    st_struct_record_free(r);
    free(in);
    free(out);
    free(a);
    free(b);
}

static void test_record_iter_unpack(void **state)
{
    (void)state;
    struct sample in[5], one;
    unsigned char buf[150];
    fill_samples(in, 5);
    st_struct_record *r = ST_STRUCT_RECORD_NEW(">IhdQ8s", struct sample, sample_fields);
    assert_non_null(r);
    assert_int_equal(st_struct_record_pack_array(r, in, 5, buf, sizeof buf), 0);
    st_struct_record_unpack_iterator *it = st_struct_record_iter_unpack(r, buf, sizeof buf);
    assert_non_null(it);
    assert_int_equal(st_struct_record_unpack_iterator_length_hint(it), 5);
    size_t n = 0;
    int rc;
    while ((rc = st_struct_record_unpack_iterator_next(it, &one)) > 0) {
        assert_true(one.id == in[n].id && one.x == in[n].x && one.n == in[n].n);
        assert_memory_equal(one.tag, in[n].tag, 8);
        n++;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(n, 5);
    assert_int_equal(st_struct_record_unpack_iterator_length_hint(it), 0);
    st_struct_record_unpack_iterator_free(it);
    st_struct_record_unpack_iterator_free(NULL);
    assert_null(st_struct_record_iter_unpack(r, buf, 31));
    assert_string_equal(st_error_message(),
                        "iterative unpacking requires a buffer of a multiple of 30 bytes");
    assert_int_equal(st_struct_record_unpack_iterator_next(NULL, &one), -1);
    st_struct_record_free(r);
}

/* Arrays through a descriptor: a file in blocks, and a pipe fed in odd pieces (short reads). */
static void test_record_fd(void **state)
{
    (void)state;
    enum { N = 5000 }; /* 150 kB: several blocks */
    struct sample *in = calloc(N, sizeof *in), *out = calloc(N, sizeof *out);
    unsigned char *want = malloc(N * 30);
    assert_true(in && out && want);
    fill_samples(in, N);
    st_struct_record *r = ST_STRUCT_RECORD_NEW("!IhdQ8s", struct sample, sample_fields);
    assert_non_null(r);
    assert_int_equal(st_struct_record_pack_array(r, in, N, want, N * 30), 0);
    FILE *f = tmpfile();
    assert_non_null(f);
    int fd = fileno(f);
    assert_int_equal(st_struct_record_write(r, fd, in, N), 0);
    assert_int_equal(lseek(fd, 0, SEEK_END), N * 30);
    unsigned char *got = malloc(N * 30);
    assert_non_null(got);
    assert_int_equal(pread(fd, got, N * 30, 0), N * 30);
    assert_memory_equal(got, want, N * 30);
    lseek(fd, 0, SEEK_SET);
    size_t nread = 0;
    assert_int_equal(st_struct_record_read(r, fd, out, 7, &nread), 0); /* stops after 7 records */
    assert_int_equal(nread, 7);
    assert_int_equal(lseek(fd, 0, SEEK_CUR), 7 * 30);
    assert_int_equal(st_struct_record_read(r, fd, out + 7, N, &nread), 0); /* stops at the end */
    assert_int_equal(nread, N - 7);
    assert_memory_equal(out, in, N * sizeof *in);
    /* A file that ends inside a record. */
    assert_int_equal(write(fd, "abc", 3), 3);
    lseek(fd, (off_t)(N - 2) * 30, SEEK_SET);
    assert_int_equal(st_struct_record_read(r, fd, out, N, &nread), -1);
    assert_int_equal(nread, 2);
    assert_string_equal(st_error_message(),
                        "iterative unpacking requires a buffer of a multiple of 30 bytes");
    fclose(f);
    /* A pipe written by a child in pieces of 1 to 13 bytes. */
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        for (size_t off = 0, k = 1; off < 300 * 30; off += k, k = k % 13 + 1)
            if (write(fds[1], want + off, off + k > 300 * 30 ? 300 * 30 - off : k) < 0)
                _exit(1);
        _exit(0);
    }
    close(fds[1]);
    memset(out, 0, 300 * sizeof *out);
    assert_int_equal(st_struct_record_read(r, fds[0], out, N, &nread), 0);
    assert_int_equal(nread, 300);
    assert_memory_equal(out, in, 300 * sizeof *in);
    close(fds[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* A record that is its struct byte for byte goes straight between the structs and the
     * descriptor, through the same short reads. */
    struct pair {
        uint32_t a;
        int32_t b;
    } pairs[300], pback[301];
    for (int i = 0; i < 300; i++)
        pairs[i] = (struct pair){(uint32_t)i * 7919u, -i};
    static const st_struct_field pf[] = {ST_STRUCT_FIELD(struct pair, a),
                                         ST_STRUCT_FIELD(struct pair, b)};
    st_struct_record *flat = ST_STRUCT_RECORD_NEW("Ii", struct pair, pf);
    assert_non_null(flat);
    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        const unsigned char *bytes = (const unsigned char *)pairs;
        for (size_t off = 0, k = 1; off < sizeof pairs; off += k, k = k % 5 + 1)
            if (write(fds[1], bytes + off, off + k > sizeof pairs ? sizeof pairs - off : k) < 0)
                _exit(1);
        if (write(fds[1], "xyz", 3) != 3) /* and a partial record at the end */
            _exit(1);
        _exit(0);
    }
    close(fds[1]);
    assert_int_equal(st_struct_record_read(flat, fds[0], pback, 301, &nread), -1);
    assert_int_equal(nread, 300);
    assert_string_equal(st_error_message(),
                        "iterative unpacking requires a buffer of a multiple of 8 bytes");
    assert_memory_equal(pback, pairs, sizeof pairs);
    close(fds[0]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    f = tmpfile();
    assert_non_null(f);
    assert_int_equal(st_struct_record_write(flat, fileno(f), pairs, 300), 0);
    assert_int_equal(pread(fileno(f), pback, sizeof pairs, 0), (ssize_t)sizeof pairs);
    assert_memory_equal(pback, pairs, sizeof pairs);
    fclose(f);
    st_struct_record_free(flat);
    /* Errors of the descriptor, and a record of no bytes. */
    assert_int_equal(st_struct_record_write(r, -1, in, 1), -1);
    assert_int_equal(st_error_code(), ST_EOS);
    assert_int_equal(st_struct_record_read(r, -1, out, 1, &nread), -1);
    assert_int_equal(st_error_code(), ST_EOS);
    st_struct_record_free(r);
    static const st_struct_field none[1] = {{"unused", 0, 0, 0, 0}};
    r = st_struct_record_new("", 1, none, 0);
    assert_non_null(r);
    assert_int_equal(st_struct_record_read(r, 0, out, 1, &nread), -1);
    assert_string_equal(st_error_message(), "cannot iteratively unpack with a struct of length 0");
    st_struct_record_free(r);
    free(in);
    free(out);
    free(want);
    free(got);
}

/* ---- Random formats: the record API against the variadic and value APIs ---------------------- */

static uint64_t rng_state;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13; /* xorshift64 */
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* One item of a random format, and the member (element) it is bound to. */
typedef struct rnd_item {
    char code;
    size_t len;   /* s, p: the field length */
    size_t msize; /* the member's size */
    size_t moff;  /* its offset in the struct */
} rnd_item;

enum { MAX_ITEMS = 40 };

typedef struct rnd_record {
    char format[256];
    char prefix[2];
    size_t nitems, nfields, struct_size;
    rnd_item items[MAX_ITEMS];
    st_struct_field fields[MAX_ITEMS];
} rnd_record;

/* The member size of a code in this format (standard or native). */
static size_t code_size(char code, bool native)
{
    switch (code) {
    case 'c':
    case 'b':
    case 'B':
    case '?':
        return 1;
    case 'h':
    case 'H':
    case 'e':
        return 2;
    case 'i':
    case 'I':
    case 'f':
        return 4;
    case 'l':
    case 'L':
        return native ? sizeof(long) : 4;
    case 'n':
    case 'N':
        return sizeof(size_t);
    case 'P':
        return sizeof(void *);
    default:
        return 8; /* q Q d */
    }
}

static int code_member_kind(char code)
{
    switch (code) {
    case 'c':
        return ST_STRUCT_KIND_CHAR;
    case '?':
        return ST_STRUCT_KIND_BOOL;
    case 'e':
    case 'f':
    case 'd':
        return ST_STRUCT_KIND_FLOAT;
    case 'P':
        return ST_STRUCT_KIND_POINTER;
    default:
        return strchr("BHILQN", code) ? ST_STRUCT_KIND_UNSIGNED : ST_STRUCT_KIND_SIGNED;
    }
}

/* A random format and the table of a struct laid out for it (members at natural alignment, in a
 * random order, with gaps): what a C programmer would declare by hand. */
static void random_record(rnd_record *R)
{
    static const char *prefixes[] = {"<", ">", "!", "=", "@", ""};
    const char *prefix = prefixes[rng() % 6];
    bool native = prefix[0] == '@' || prefix[0] == '\0';
    const char *codes = native ? "cbB?hHiIlLqQnNPefdsp" : "cbB?hHiIlLqQefdsp";
    size_t ncodes = strlen(codes);
    int n = snprintf(R->format, sizeof R->format, "%s", prefix);
    R->nitems = R->nfields = 0;
    size_t off = 0, runs = 1 + rng() % 10;
    for (size_t k = 0; k < runs && R->nitems < MAX_ITEMS - 4; k++) {
        if (rng() % 5 == 0)
            n += snprintf(R->format + n, sizeof R->format - (size_t)n, "%dx", (int)(1 + rng() % 3));
        char code = codes[rng() % ncodes];
        size_t count = rng() % 3 == 0 ? 2 + rng() % 3 : 1;
        bool array = count > 1 && rng() % 2;
        if (code == 's' || code == 'p') {
            count = 1 + rng() % 12;
            n += snprintf(R->format + n, sizeof R->format - (size_t)n, "%zu%c", count, code);
            off += rng() % 3;
            R->items[R->nitems++] = (rnd_item){code, count, 1, off};
            R->fields[R->nfields++] =
                (st_struct_field){"text", off, count, count, ST_STRUCT_KIND_CHAR};
            off += count;
            continue;
        }
        if (count > 1)
            n += snprintf(R->format + n, sizeof R->format - (size_t)n, "%zu", count);
        n += snprintf(R->format + n, sizeof R->format - (size_t)n, "%c", code);
        size_t msize =
            code == 'e' ? (rng() % 2 ? sizeof(float) : sizeof(double)) : code_size(code, native);
        off = (off + rng() % 2 * msize + msize - 1) / msize * msize; /* aligned, sometimes a gap */
        for (size_t j = 0; j < count; j++)
            R->items[R->nitems++] = (rnd_item){code, 0, msize, off + j * msize};
        if (array) {
            R->fields[R->nfields++] =
                (st_struct_field){"array", off, count * msize, count, code_member_kind(code)};
        } else {
            for (size_t j = 0; j < count; j++)
                R->fields[R->nfields++] =
                    (st_struct_field){"scalar", off + j * msize, msize, 0, code_member_kind(code)};
        }
        off += count * msize;
    }
    R->struct_size = (off + 8) / 8 * 8;
    memcpy(R->prefix, prefix, strlen(prefix) + 1);
}

/* Random member values: any bits for integers, 0 or 1 for _Bool, finite floats (in range for 'e'),
 * strings with or without a NUL. */
static void random_values(const rnd_record *R, unsigned char *obj)
{
    for (size_t i = 0; i < R->struct_size; i++)
        obj[i] = (unsigned char)rng();
    for (size_t i = 0; i < R->nitems; i++) {
        const rnd_item *it = &R->items[i];
        unsigned char *m = obj + it->moff;
        double d = (double)(int64_t)rng() / 9.2e18 * (it->code == 'e' ? 60000.0 : 1e300);
        if (rng() % 4 == 0)
            d = (double)(int)(rng() % 2000) - 1000; /* exact small numbers too */
        if (it->code == '?') {
            m[0] = (unsigned char)(rng() % 2);
        } else if (it->msize == sizeof(float) && strchr("ef", it->code)) {
            float f = (float)(it->code == 'f' ? d / 1e270 : d);
            memcpy(m, &f, sizeof f);
        } else if (strchr("ed", it->code)) {
            memcpy(m, &d, sizeof d);
        } else if (it->code == 'p' && rng() % 2) {
            m[rng() % it->len] = 0;
        }
    }
}

static int64_t member_int(const unsigned char *m, size_t size, bool is_signed)
{
    switch (size) {
    case 1: {
        int8_t s;
        uint8_t u;
        memcpy(&s, m, 1);
        memcpy(&u, m, 1);
        return is_signed ? s : u;
    }
    case 2: {
        int16_t s;
        uint16_t u;
        memcpy(&s, m, 2);
        memcpy(&u, m, 2);
        return is_signed ? s : u;
    }
    case 4: {
        int32_t s;
        uint32_t u;
        memcpy(&s, m, 4);
        memcpy(&u, m, 4);
        return is_signed ? s : (int64_t)u;
    }
    default: {
        int64_t s;
        memcpy(&s, m, 8);
        return s;
    }
    }
}

static double member_double(const unsigned char *m, size_t size)
{
    if (size == sizeof(float)) {
        float f;
        memcpy(&f, m, sizeof f);
        return f;
    }
    double d;
    memcpy(&d, m, sizeof d);
    return d;
}

/* Packs one item through the variadic API, with the C type its code takes. */
static int pack_item_va(const char *prefix, const rnd_item *it, const unsigned char *obj,
                        unsigned char *out)
{
    char fmt[16];
    const unsigned char *m = obj + it->moff;
    bool sgn = code_member_kind(it->code) == ST_STRUCT_KIND_SIGNED;
    if (it->code == 's' || it->code == 'p') {
        snprintf(fmt, sizeof fmt, "%s%zu%c", prefix, it->len, it->code);
        size_t len = it->code == 's' ? it->len : strnlen((const char *)m, it->len);
        return st_struct_pack_fmt(fmt, out, it->len, m, len);
    }
    snprintf(fmt, sizeof fmt, "%s%c", prefix, it->code);
    int64_t v = it->code == 'c' || strchr("efd", it->code) ? 0 : member_int(m, it->msize, sgn);
    switch (it->code) {
    case 'c':
        return st_struct_pack_fmt(fmt, out, 1, (int)m[0]);
    case 'b':
    case 'h':
    case 'i':
    case '?':
        return st_struct_pack_fmt(fmt, out, 8, (int)v);
    case 'B':
    case 'H':
    case 'I':
        return st_struct_pack_fmt(fmt, out, 8, (unsigned)v);
    case 'l':
        return st_struct_pack_fmt(fmt, out, 8, (long)v);
    case 'L':
        return st_struct_pack_fmt(fmt, out, 8, (unsigned long)(uint64_t)v);
    case 'q':
        return st_struct_pack_fmt(fmt, out, 8, (long long)v);
    case 'Q':
        return st_struct_pack_fmt(fmt, out, 8, (unsigned long long)(uint64_t)v);
    case 'n':
        return st_struct_pack_fmt(fmt, out, 8, (ssize_t)v);
    case 'N':
        return st_struct_pack_fmt(fmt, out, 8, (size_t)(uint64_t)v);
    case 'P': {
        void *p;
        memcpy(&p, m, sizeof p);
        return st_struct_pack_fmt(fmt, out, 8, p);
    }
    default:
        return st_struct_pack_fmt(fmt, out, 8, member_double(m, it->msize));
    }
}

/* The Python value of one item, for the value API. */
static st_value *item_value(const rnd_item *it, const unsigned char *obj)
{
    const unsigned char *m = obj + it->moff;
    switch (it->code) {
    case 's':
        return st_value_bytes(m, it->len);
    case 'p':
        return st_value_bytes(m, strnlen((const char *)m, it->len));
    case 'c':
        return st_value_bytes(m, 1);
    case '?':
        return st_value_bool(m[0]);
    case 'e':
    case 'f':
    case 'd':
        return st_value_float(member_double(m, it->msize));
    default: {
        bool sgn = code_member_kind(it->code) == ST_STRUCT_KIND_SIGNED;
        int64_t v = member_int(m, it->msize, sgn);
        return sgn ? st_value_int(v)
                   : st_value_int_from_u64(it->msize == 8 ? (uint64_t)v : (uint64_t)v);
    }
    }
}

/* Fails unless every byte of obj outside the members still holds fill. */
static void assert_members_only(const rnd_record *R, const unsigned char *obj, unsigned char fill)
{
    for (size_t i = 0; i < R->struct_size; i++) {
        bool member = false;
        for (size_t f = 0; f < R->nfields && !member; f++)
            member = i >= R->fields[f].offset && i < R->fields[f].offset + R->fields[f].size;
        if (!member && obj[i] != fill)
            fail_msg("%s: byte %zu of the struct, outside the members, was written", R->format, i);
    }
}

static unsigned test_seed(void)
{
    const char *v = getenv("ST_TEST_SEED");
    unsigned seed = v && *v ? (unsigned)strtoul(v, NULL, 10) : 22u;
    printf("[ INFO     ] random formats from ST_TEST_SEED=%u\n", seed);
    return seed;
}

static void test_record_random_formats(void **state)
{
    (void)state;
    unsigned seed = test_seed();
    rng_state = 0x9e3779b97f4a7c15ull ^ seed;
    rnd_record R;
    unsigned char obj[3][512], back[3][512], rec[3 * 512], va[512], vals[512], one[512];
    for (int round = 0; round < 400; round++) {
        random_record(&R);
        st_struct_record *r = st_struct_record_new(R.format, R.struct_size, R.fields, R.nfields);
        if (!r)
            fail_msg("seed %u round %d: %s refused: %s", seed, round, R.format, st_error_message());
        const st_struct *s = st_struct_record_struct(r);
        size_t size = st_struct_size(s);
        for (int k = 0; k < 3; k++)
            random_values(&R, obj[k]);
        assert_int_equal(st_struct_record_pack(r, obj[0], rec, sizeof rec), 0);
        /* The variadic API, item by item at the offsets of the compiled format; pad bytes zero. */
        memset(va, 0, size);
        size_t i = 0;
        for (const st__struct_code *c = s->layout.codes; c < s->layout.codes + s->layout.ncodes;
             c++)
            for (size_t j = 0; j < c->count; j++, i++)
                if (pack_item_va(R.prefix, &R.items[i], obj[0], va + c->offset + j * c->size) < 0)
                    fail_msg("%s item %zu: %s", R.format, i, st_error_message());
        if (memcmp(rec, va, size) != 0)
            fail_msg("seed %u round %d: %s: the record API and the variadic API differ", seed,
                     round, R.format);
        /* The value API, with the tuple of the members' Python values. */
        st_value **items = calloc(R.nitems + 1, sizeof *items);
        for (i = 0; i < R.nitems; i++)
            items[i] = item_value(&R.items[i], obj[0]);
        st_value *tuple = st_value_tuple_steal(R.nitems, items);
        free(items);
        assert_non_null(tuple);
        assert_int_equal(st_struct_pack_values(s, tuple, vals, sizeof vals), 0);
        st_value_unref(tuple);
        if (memcmp(rec, vals, size) != 0)
            fail_msg("seed %u round %d: %s: the record API and the value API differ", seed, round,
                     R.format);
        /* Unpacking: the members get what the variadic API unpacks, and pack back to the record;
         * no byte outside the members is written. */
        memset(back[0], 0xa5, R.struct_size);
        assert_int_equal(st_struct_record_unpack(r, rec, size, back[0]), 0);
        assert_members_only(&R, back[0], 0xa5);
        assert_int_equal(st_struct_record_pack(r, back[0], one, sizeof one), 0);
        assert_memory_equal(one, rec, size);
        st_value *again = st_struct_unpack_values(s, rec, size);
        assert_non_null(again);
        items = calloc(R.nitems + 1, sizeof *items);
        for (i = 0; i < R.nitems; i++)
            items[i] = item_value(&R.items[i], back[0]);
        tuple = st_value_tuple_steal(R.nitems, items);
        free(items);
        char *x = st_value_repr(again), *y = st_value_repr(tuple);
        if (strcmp(x, y) != 0)
            fail_msg("seed %u round %d: %s: unpacked %s, the value API says %s", seed, round,
                     R.format, y, x);
        st_free(x);
        st_free(y);
        st_value_unref(again);
        st_value_unref(tuple);
        /* Arrays: three records in one call, equal to three single records. */
        unsigned char objs[3 * 512];
        for (int k = 0; k < 3; k++)
            memcpy(objs + (size_t)k * R.struct_size, obj[k], R.struct_size);
        assert_int_equal(st_struct_record_pack_array(r, objs, 3, rec, 3 * size), 0);
        for (int k = 0; k < 3; k++) {
            assert_int_equal(st_struct_record_pack(r, obj[k], one, size), 0);
            assert_memory_equal(rec + (size_t)k * size, one, size);
        }
        memset(objs, 0xa5, sizeof objs);
        assert_int_equal(st_struct_record_unpack_array(r, rec, 3 * size, objs, 3), 0);
        for (int k = 0; k < 3; k++) {
            assert_members_only(&R, objs + (size_t)k * R.struct_size, 0xa5);
            memset(back[k], 0, R.struct_size);
            assert_int_equal(st_struct_record_unpack(r, rec + (size_t)k * size, size, back[k]), 0);
            for (i = 0; i < R.nfields; i++)
                assert_memory_equal(objs + (size_t)k * R.struct_size + R.fields[i].offset,
                                    back[k] + R.fields[i].offset, R.fields[i].size);
        }
        st_struct_record_free(r);
    }
}

/* ---- Codecs: ST_STRUCT_CODEC()'s generated code against the record API ---------------------- */

struct cs_sample {
    uint32_t id;
    int16_t delta;
    double value;
    uint64_t count;
    char tag[8];
};
#define CS_SAMPLE(X) X(id, "I") X(delta, "h") X(value, "d") X(count, "Q") X(tag, "8s")
ST_STRUCT_CODEC(cs_sample_le, struct cs_sample, "<", CS_SAMPLE);
ST_STRUCT_CODEC(cs_sample_be, struct cs_sample, ">", CS_SAMPLE);
ST_STRUCT_CODEC(cs_sample_net, struct cs_sample, "!", CS_SAMPLE);
ST_STRUCT_CODEC(cs_sample_host, struct cs_sample, "=", CS_SAMPLE);

struct cs_mixed12 {
    uint8_t a;
    int8_t b;
    uint16_t c;
    int16_t d;
    uint32_t e;
    int32_t f;
    uint64_t g;
    int64_t h;
    float i;
    double j;
    bool k;
    char l[6];
};
#define CS_MIXED(X)                                                                              \
    X(a, "B") X(b, "b") X(c, "H") X(d, "h") X(e, "I") X(f, "i") X(g, "Q") X(h, "q") X(i, "f")   \
    X(j, "d") X(k, "?") X(l, "6s")
ST_STRUCT_CODEC(cs_mixed_le, struct cs_mixed12, "<", CS_MIXED);
ST_STRUCT_CODEC(cs_mixed_be, struct cs_mixed12, ">", CS_MIXED);

/* Every code the codec does, pads between and at both ends, members not in the record's order. */
struct cs_all {
    double d;
    char s[5];
    unsigned short H;
    long long q;
    char c;
    signed char b;
    unsigned char B;
    bool t;
    short h;
    int32_t i;
    uint32_t I;
    int32_t l;
    uint32_t L;
    unsigned long long Q;
    float f;
    unsigned char u[3];
    signed char sb[1];
};
#define CS_ALL(X)                                                                                \
    X(ST_STRUCT_PAD, 2) X(c, "c") X(b, "b") X(B, "B") X(t, "?") X(h, "h") X(H, "H")              \
    X(ST_STRUCT_PAD, 1) X(i, "i") X(I, "I") X(l, "l") X(L, "L") X(q, "q") X(Q, "Q") X(f, "f")    \
    X(d, "d") X(s, "5s") X(u, "3s") X(sb, "1s") X(ST_STRUCT_PAD, 3)
ST_STRUCT_CODEC(cs_all_le, struct cs_all, "<", CS_ALL);
ST_STRUCT_CODEC(cs_all_be, struct cs_all, ">", CS_ALL);
ST_STRUCT_CODEC(cs_all_net, struct cs_all, "!", CS_ALL);
ST_STRUCT_CODEC(cs_all_host, struct cs_all, "=", CS_ALL);
#define CS_ALL_FORMAT "2xcbB?hH1xiIlLqQfd5s3s1s3x"

/* Each member's bytes random (a bool 0 or 1, as a _Bool holds), the rest of the struct fill. */
#define CS_RANDOM(p, m) cs_random(&(p)->m, sizeof((p)->m))
static void cs_random(void *m, size_t n)
{
    for (size_t k = 0; k < n; k++)
        ((unsigned char *)m)[k] = (unsigned char)rng();
}

/* The codec against the record of its own setup and against a record built by hand from the
 * same format: pack byte for byte (pad bytes zero in both), unpack member for member (from
 * random bytes, a '?' byte anything), each over a struct filled alike beforehand. */
#define CS_DIFF(codec, type, fmt, fields, randomize)                                            \
    do {                                                                                         \
        st_struct_record *cr = codec##_record_new();                                             \
        st_struct_record *hr = ST_STRUCT_RECORD_NEW(fmt, type, fields);                          \
        if (!cr || !hr)                                                                          \
            fail_msg("%s: %s", fmt, st_error_message());                                         \
        size_t size = st_struct_size(st_struct_record_struct(cr));                               \
        assert_int_equal(size, st_struct_size(st_struct_record_struct(hr)));                     \
        assert_string_equal(st_struct_format(st_struct_record_struct(cr)), fmt);                 \
        for (int round = 0; round < 200; round++) {                                              \
            type in, out1, out2;                                                                 \
            memset(&in, 0x5a, sizeof in);                                                        \
            randomize(&in);                                                                      \
            unsigned char b1[128], b2[128];                                                      \
            memset(b1, 0xee, sizeof b1);                                                         \
            memset(b2, 0x11, sizeof b2);                                                         \
            assert_int_equal(codec##_pack(cr, &in, b1, size), 0);                                \
            assert_int_equal(st_struct_record_pack(hr, &in, b2, size), 0);                       \
            assert_memory_equal(b1, b2, size);                                                   \
            assert_int_equal(b1[size], 0xee); /* nothing written past the record */              \
            cs_random(b1, size);                                                                 \
            memset(&out1, 0xa5, sizeof out1);                                                    \
            memset(&out2, 0xa5, sizeof out2);                                                    \
            assert_int_equal(codec##_unpack(cr, b1, size + (size_t)round % 3, &out1), 0);       \
            assert_int_equal(st_struct_record_unpack(hr, b1, size, &out2), 0);                   \
            assert_memory_equal(&out1, &out2, sizeof out1);                                      \
        }                                                                                        \
        st_struct_record_free(cr);                                                               \
        st_struct_record_free(hr);                                                               \
    } while (0)

static void cs_sample_random(struct cs_sample *p)
{
    CS_RANDOM(p, id);
    CS_RANDOM(p, delta);
    CS_RANDOM(p, value);
    CS_RANDOM(p, count);
    CS_RANDOM(p, tag);
}

static void cs_mixed_random(struct cs_mixed12 *p)
{
    CS_RANDOM(p, a), CS_RANDOM(p, b), CS_RANDOM(p, c), CS_RANDOM(p, d), CS_RANDOM(p, e);
    CS_RANDOM(p, f), CS_RANDOM(p, g), CS_RANDOM(p, h), CS_RANDOM(p, i), CS_RANDOM(p, j);
    CS_RANDOM(p, l);
    p->k = rng() & 1;
}

static void cs_all_random(struct cs_all *p)
{
    CS_RANDOM(p, d), CS_RANDOM(p, s), CS_RANDOM(p, H), CS_RANDOM(p, q), CS_RANDOM(p, c);
    CS_RANDOM(p, b), CS_RANDOM(p, B), CS_RANDOM(p, h), CS_RANDOM(p, i), CS_RANDOM(p, I);
    CS_RANDOM(p, l), CS_RANDOM(p, L), CS_RANDOM(p, Q), CS_RANDOM(p, f), CS_RANDOM(p, u);
    CS_RANDOM(p, sb);
    p->t = rng() & 1;
}

static const st_struct_field cs_sample_fields[] = {
    ST_STRUCT_FIELD(struct cs_sample, id), ST_STRUCT_FIELD(struct cs_sample, delta),
    ST_STRUCT_FIELD(struct cs_sample, value), ST_STRUCT_FIELD(struct cs_sample, count),
    ST_STRUCT_ARRAY(struct cs_sample, tag),
};
static const st_struct_field cs_mixed_fields[] = {
    ST_STRUCT_FIELD(struct cs_mixed12, a), ST_STRUCT_FIELD(struct cs_mixed12, b),
    ST_STRUCT_FIELD(struct cs_mixed12, c), ST_STRUCT_FIELD(struct cs_mixed12, d),
    ST_STRUCT_FIELD(struct cs_mixed12, e), ST_STRUCT_FIELD(struct cs_mixed12, f),
    ST_STRUCT_FIELD(struct cs_mixed12, g), ST_STRUCT_FIELD(struct cs_mixed12, h),
    ST_STRUCT_FIELD(struct cs_mixed12, i), ST_STRUCT_FIELD(struct cs_mixed12, j),
    ST_STRUCT_FIELD(struct cs_mixed12, k), ST_STRUCT_ARRAY(struct cs_mixed12, l),
};
static const st_struct_field cs_all_fields[] = {
    ST_STRUCT_FIELD(struct cs_all, c), ST_STRUCT_FIELD(struct cs_all, b),
    ST_STRUCT_FIELD(struct cs_all, B), ST_STRUCT_FIELD(struct cs_all, t),
    ST_STRUCT_FIELD(struct cs_all, h), ST_STRUCT_FIELD(struct cs_all, H),
    ST_STRUCT_FIELD(struct cs_all, i), ST_STRUCT_FIELD(struct cs_all, I),
    ST_STRUCT_FIELD(struct cs_all, l), ST_STRUCT_FIELD(struct cs_all, L),
    ST_STRUCT_FIELD(struct cs_all, q), ST_STRUCT_FIELD(struct cs_all, Q),
    ST_STRUCT_FIELD(struct cs_all, f), ST_STRUCT_FIELD(struct cs_all, d),
    ST_STRUCT_ARRAY(struct cs_all, s), ST_STRUCT_ARRAY(struct cs_all, u),
    ST_STRUCT_ARRAY(struct cs_all, sb),
};

static void test_codec_against_record(void **state)
{
    (void)state;
    unsigned seed = test_seed();
    rng_state = 0x9e3779b97f4a7c15ull ^ seed;
    CS_DIFF(cs_sample_le, struct cs_sample, "<IhdQ8s", cs_sample_fields, cs_sample_random);
    CS_DIFF(cs_sample_be, struct cs_sample, ">IhdQ8s", cs_sample_fields, cs_sample_random);
    CS_DIFF(cs_sample_net, struct cs_sample, "!IhdQ8s", cs_sample_fields, cs_sample_random);
    CS_DIFF(cs_sample_host, struct cs_sample, "=IhdQ8s", cs_sample_fields, cs_sample_random);
    CS_DIFF(cs_mixed_le, struct cs_mixed12, "<BbHhIiQqfd?6s", cs_mixed_fields, cs_mixed_random);
    CS_DIFF(cs_mixed_be, struct cs_mixed12, ">BbHhIiQqfd?6s", cs_mixed_fields, cs_mixed_random);
    CS_DIFF(cs_all_le, struct cs_all, "<" CS_ALL_FORMAT, cs_all_fields, cs_all_random);
    CS_DIFF(cs_all_be, struct cs_all, ">" CS_ALL_FORMAT, cs_all_fields, cs_all_random);
    CS_DIFF(cs_all_net, struct cs_all, "!" CS_ALL_FORMAT, cs_all_fields, cs_all_random);
    CS_DIFF(cs_all_host, struct cs_all, "=" CS_ALL_FORMAT, cs_all_fields, cs_all_random);
}

/* The bytes themselves, written out (CPython: struct.pack('>IhdQ8s', 1, -2, 1.5, 3, b'abcdefgh')
 * and the same with '<'), the variadic API's too, and back. */
static void test_codec_bytes(void **state)
{
    (void)state;
    static const unsigned char be[30] = {0,    0,    0,    1,    0xff, 0xfe, 0x3f, 0xf8,
                                         0,    0,    0,    0,    0,    0,    0,    0,
                                         0,    0,    0,    0,    0,    3,    'a',  'b',
                                         'c',  'd',  'e',  'f',  'g',  'h'};
    static const unsigned char le[30] = {1, 0, 0,   0,   0xfe, 0xff, 0,   0,   0,   0,
                                         0, 0, 0xf8, 0x3f, 3,  0,    0,   0,   0,   0,
                                         0, 0, 'a', 'b', 'c',  'd',  'e', 'f', 'g', 'h'};
    /* The machine's order as the header takes it agrees with the fallback's test of it. */
    assert_int_equal(ST_STRUCT__HOST_BIG, ST_STRUCT__HOST_BIG_TEST);
    struct cs_sample s = {1, -2, 1.5, 3, {'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'}}, back;
    unsigned char buf[30], va[30];
    static const struct {
        st_struct_record *(*record_new)(void);
        int (*pack)(const st_struct_record *, const struct cs_sample *, void *, size_t);
        int (*unpack)(const st_struct_record *, const void *, size_t, struct cs_sample *);
        const unsigned char *want;
    } orders[] = {{cs_sample_be_record_new, cs_sample_be_pack, cs_sample_be_unpack, be},
                  {cs_sample_le_record_new, cs_sample_le_pack, cs_sample_le_unpack, le}};
    for (size_t i = 0; i < sizeof orders / sizeof orders[0]; i++) {
        st_struct_record *r = orders[i].record_new();
        assert_non_null(r);
        assert_int_equal(orders[i].pack(r, &s, buf, sizeof buf), 0);
        assert_memory_equal(buf, orders[i].want, 30);
        assert_int_equal(st_struct_pack(st_struct_record_struct(r), va, sizeof va, 1u, -2, 1.5,
                                        3ull, "abcdefgh", (size_t)8),
                         0);
        assert_memory_equal(va, orders[i].want, 30);
        memset(&back, 0, sizeof back);
        assert_int_equal(orders[i].unpack(r, orders[i].want, 30, &back), 0);
        assert_true(back.id == 1 && back.delta == -2 && back.value == 1.5 && back.count == 3);
        assert_memory_equal(back.tag, "abcdefgh", 8);
        st_struct_record_free(r);
    }
    /* '?' unpacks any non-zero byte as true, as CPython's unpack does. */
    struct cs_mixed12 m;
    unsigned char mb[49] = {0};
    mb[42] = 0x80;
    st_struct_record *rm = cs_mixed_le_record_new();
    assert_non_null(rm);
    assert_int_equal(cs_mixed_le_unpack(rm, mb, sizeof mb, &m), 0);
    assert_true(m.k);
    st_struct_record_free(rm);
}

/* A short buffer: pack_into's and unpack_from's struct.error, nothing written. */
static void test_codec_short_buffer(void **state)
{
    (void)state;
    struct cs_sample s = {1, -2, 1.5, 3, "abcdefg"};
    unsigned char buf[40];
    st_struct_record *r = cs_sample_le_record_new();
    assert_non_null(r);
    memset(buf, 0xee, sizeof buf);
    assert_int_equal(cs_sample_le_pack(r, &s, buf, 29), -1);
    assert_error("!struct.error", "pack_into requires a buffer of at least 30 bytes for packing 30 "
                                  "bytes at offset 0 (actual buffer size is 29)");
    assert_int_equal(buf[0], 0xee);
    assert_int_equal(cs_sample_le_pack(r, &s, buf, 0), -1);
    assert_error("!struct.error", "pack_into requires a buffer of at least 30 bytes for packing 30 "
                                  "bytes at offset 0 (actual buffer size is 0)");
    assert_int_equal(cs_sample_le_pack(r, &s, buf, sizeof buf), 0);
    struct cs_sample back = {0};
    assert_int_equal(cs_sample_le_unpack(r, buf, 29, &back), -1);
    assert_error("!struct.error", "unpack_from requires a buffer of at least 30 bytes for "
                                  "unpacking 30 bytes at offset 0 (actual buffer size is 29)");
    assert_int_equal(back.id, 0);
    /* A longer buffer is read as unpack_from reads it: its first 30 bytes. */
    assert_int_equal(cs_sample_le_unpack(r, buf, sizeof buf, &back), 0);
    assert_int_equal(back.id, 1);
    assert_int_equal(back.count, 3);
    st_struct_record_free(r);
}

/* A member that does not match its code is refused at setup with the record's own error; what
 * the generated code cannot do is refused there too. */
struct cs_bad {
    int16_t delta;
    float half;
    char name[8];
    char *ptr;
    short pair[2];
    long long big;
    struct {
        int x;
    } inner;
};
#define CS_BAD_SIGN(X) X(delta, "H")
#define CS_BAD_SIZE(X) X(delta, "i")
#define CS_BAD_TEXT(X) X(name, "6s")
#define CS_BAD_PTR(X) X(ptr, "8s")
#define CS_BAD_HALF(X) X(half, "e")
#define CS_BAD_PSTR(X) X(name, "8p")
#define CS_BAD_COUNT(X) X(pair, "2h")
#define CS_BAD_TWO(X) X(delta, "hx")
#define CS_BAD_SPACE(X) X(delta, " h")
#define CS_BAD_INNER(X) X(inner, "i")
#define CS_BAD_NUMBERS(X) X(pair, "4s")
ST_STRUCT_CODEC(cs_bad_sign, struct cs_bad, "<", CS_BAD_SIGN);
ST_STRUCT_CODEC(cs_bad_size, struct cs_bad, "<", CS_BAD_SIZE);
ST_STRUCT_CODEC(cs_bad_text, struct cs_bad, "<", CS_BAD_TEXT);
ST_STRUCT_CODEC(cs_bad_ptr, struct cs_bad, "<", CS_BAD_PTR);
ST_STRUCT_CODEC(cs_bad_half, struct cs_bad, "<", CS_BAD_HALF);
ST_STRUCT_CODEC(cs_bad_pstr, struct cs_bad, "<", CS_BAD_PSTR);
ST_STRUCT_CODEC(cs_bad_count, struct cs_bad, "<", CS_BAD_COUNT);
ST_STRUCT_CODEC(cs_bad_two, struct cs_bad, "<", CS_BAD_TWO);
ST_STRUCT_CODEC(cs_bad_space, struct cs_bad, "<", CS_BAD_SPACE);
ST_STRUCT_CODEC(cs_bad_inner, struct cs_bad, "<", CS_BAD_INNER);
ST_STRUCT_CODEC(cs_bad_numbers, struct cs_bad, "<", CS_BAD_NUMBERS);
ST_STRUCT_CODEC(cs_bad_native, struct cs_bad, "@", CS_BAD_SIGN);
#define CS_GOOD_BIG(X) X(big, "q")
ST_STRUCT_CODEC(cs_bad_default, struct cs_bad, " ", CS_GOOD_BIG);

/* The setup refuses with the message of the record built by hand from the same field. */
#define CS_AS_RECORD(make, fmt, field)                                                           \
    do {                                                                                         \
        static const st_struct_field one[] = {field};                                            \
        assert_null(ST_STRUCT_RECORD_NEW(fmt, struct cs_bad, one));                              \
        char want[256];                                                                          \
        snprintf(want, sizeof want, "%s", st_error_message());                                   \
        st_error_clear();                                                                        \
        assert_null(make());                                                                     \
        assert_int_equal(st_error_code(), ST_EFORMAT);                                           \
        assert_string_equal(st_error_message(), want);                                           \
        st_error_clear();                                                                        \
    } while (0)

#define CS_REFUSED(make, message)                                                                \
    do {                                                                                         \
        assert_null(make());                                                                     \
        assert_error("!struct.error", message);                                                  \
    } while (0)

static void test_codec_refused(void **state)
{
    (void)state;
    CS_AS_RECORD(cs_bad_sign_record_new, "<H", ST_STRUCT_FIELD(struct cs_bad, delta));
    CS_AS_RECORD(cs_bad_size_record_new, "<i", ST_STRUCT_FIELD(struct cs_bad, delta));
    CS_AS_RECORD(cs_bad_text_record_new, "<6s", ST_STRUCT_ARRAY(struct cs_bad, name));
    /* A char pointer holds no bytes to copy; a struct and an array of numbers are no item the
     * generated code moves, whatever the code. */
    assert_null(cs_bad_ptr_record_new());
    assert_int_equal(st_error_code(), ST_EVALUE);
    assert_string_equal(st_error_message(), "field 'ptr' has a type ST_STRUCT_CODEC cannot "
                                            "move (a member is an integer, _Bool, float, "
                                            "double, char or a byte array)");
    assert_null(cs_bad_inner_record_new());
    assert_int_equal(st_error_code(), ST_EVALUE);
    assert_string_equal(st_error_message(), "field 'inner' has a type ST_STRUCT_CODEC cannot "
                                            "move (a member is an integer, _Bool, float, "
                                            "double, char or a byte array)");
    assert_null(cs_bad_numbers_record_new());
    assert_int_equal(st_error_code(), ST_EVALUE);
    assert_string_equal(st_error_message(), "field 'pair' has a type ST_STRUCT_CODEC cannot "
                                            "move (a member is an integer, _Bool, float, "
                                            "double, char or a byte array)");
    st_error_clear();
    CS_REFUSED(cs_bad_half_record_new,
               "ST_STRUCT_CODEC does not do 'e': an entry is one of the codes x c b B ? h H i I "
               "l L q Q f d or Ns (use a record for the others)");
    CS_REFUSED(cs_bad_pstr_record_new,
               "ST_STRUCT_CODEC does not do '8p': an entry is one of the codes x c b B ? h H i I "
               "l L q Q f d or Ns (use a record for the others)");
    CS_REFUSED(cs_bad_count_record_new,
               "ST_STRUCT_CODEC does not do '2h': a count goes only before 's' and 'x' (give each "
               "item its own entry)");
    CS_REFUSED(cs_bad_two_record_new,
               "ST_STRUCT_CODEC does not do 'hx': an entry is one of the codes x c b B ? h H i I "
               "l L q Q f d or Ns (use a record for the others)");
    CS_REFUSED(cs_bad_space_record_new,
               "ST_STRUCT_CODEC does not do ' h': an entry is one of the codes x c b B ? h H i I "
               "l L q Q f d or Ns (use a record for the others)");
    CS_REFUSED(cs_bad_native_record_new,
               "ST_STRUCT_CODEC does not do the byte order '@': it needs a standard one, '<', "
               "'>', '!' or '=' (use a record for native sizes and alignment)");
    CS_REFUSED(cs_bad_default_record_new,
               "ST_STRUCT_CODEC does not do the byte order ' ': it needs a standard one, '<', "
               "'>', '!' or '=' (use a record for native sizes and alignment)");
    assert_null(st_struct_codec_record_new(NULL, 0, NULL, 0));
    assert_int_equal(st_error_code(), ST_ETYPE);
    st_error_clear();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_calcsize_vectors),
        cmocka_unit_test(test_pack_vectors),
        cmocka_unit_test(test_unpack_vectors),
        cmocka_unit_test(test_pack_values_vectors),
        cmocka_unit_test(test_unpack_values_vectors),
        cmocka_unit_test(test_pack_values_types),
        cmocka_unit_test(test_offsets_vectors),
        cmocka_unit_test(test_iter_vectors),
        cmocka_unit_test(test_every_code_round_trip),
        cmocka_unit_test(test_native_alignment),
        cmocka_unit_test(test_half_float),
        cmocka_unit_test(test_range_errors),
        cmocka_unit_test(test_word_codes_range),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_many_codes_one_shot),
        cmocka_unit_test(test_one_shot_cache),
        cmocka_unit_test(test_va_list_variants),
        cmocka_unit_test(test_record_point),
        cmocka_unit_test(test_record_mismatch),
        cmocka_unit_test(test_record_half_and_text),
        cmocka_unit_test(test_record_bool_bytes),
        cmocka_unit_test(test_record_bool_last),
        cmocka_unit_test(test_record_steps),
        cmocka_unit_test(test_record_mixed_neighbours),
        cmocka_unit_test(test_record_arrays),
        cmocka_unit_test(test_record_iter_unpack),
        cmocka_unit_test(test_record_fd),
        cmocka_unit_test(test_record_random_formats),
        cmocka_unit_test(test_codec_against_record),
        cmocka_unit_test(test_codec_bytes),
        cmocka_unit_test(test_codec_short_buffer),
        cmocka_unit_test(test_codec_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
