/* The helpers support.h declares. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include <cmocka.h>

#include "support.h"
#include "systools/pickle.h"
#include "systools/subprocess.h"

int st_test_count_fds(void)
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

const char *st_test_emulator(void)
{
    const char *e = getenv("ST_TEST_EMULATOR");
    return e && *e ? e : NULL;
}

double st_test_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0'
           : (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? (c | 0x20) - 'a' + 10
                                                    : -1;
}

unsigned char *st_test_unhex(const char *hex, size_t *len)
{
    size_t digits = 0;
    while (hexval(hex[digits]) >= 0)
        digits++;
    assert_true(digits % 2 == 0);
    size_t n = digits / 2;
    unsigned char *out = malloc(n + 1);
    assert_non_null(out);
    for (size_t i = 0; i < n; i++)
        out[i] = (unsigned char)(hexval(hex[2 * i]) << 4 | hexval(hex[2 * i + 1]));
    out[n] = '\0';
    if (len)
        *len = n;
    return out;
}

void st_test_write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

char *st_test_read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t cap = 4096, len = 0, got;
    char *b = malloc(cap);
    assert_non_null(b);
    while ((got = fread(b + len, 1, cap - len - 1, f)) > 0) {
        len += got;
        if (cap - len == 1) {
            b = realloc(b, cap *= 2);
            assert_non_null(b);
        }
    }
    assert_int_equal(ferror(f), 0);
    fclose(f);
    b[len] = '\0';
    if (n)
        *n = len;
    return b;
}

void st_test_vectors_open(st_test_vectors *v, const char *rel)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/vectors/%s", ST_TEST_SOURCE_DIR, rel);
    memset(v, 0, sizeof *v);
    v->f = fopen(path, "rb");
    if (!v->f)
        fail_msg("cannot open %s", path);
}

bool st_test_vectors_next(st_test_vectors *v)
{
    ssize_t n = getline(&v->line, &v->cap_, v->f);
    if (n <= 0)
        return false;
    v->lineno++;
    v->len = (size_t)n;
    if (v->line[v->len - 1] == '\n')
        v->line[--v->len] = '\0';
    if (v->fields_cap_ < v->len + 1) {
        free(v->fields_);
        v->fields_cap_ = v->len + 1;
        v->fields_ = malloc(v->fields_cap_);
        assert_non_null(v->fields_);
    }
    memcpy(v->fields_, v->line, v->len + 1);
    v->nfields = 0;
    for (char *p = v->fields_;;) {
        v->field[v->nfields++] = p;
        if (v->nfields == sizeof v->field / sizeof *v->field || !(p = strchr(p, '\t')))
            break;
        *p++ = '\0';
    }
    return true;
}

void st_test_vectors_close(st_test_vectors *v)
{
    fclose(v->f);
    free(v->line);
    free(v->fields_);
}

char *st_test_pickle_hex(const st_value *v, int protocol)
{
    unsigned char *data;
    size_t len;
    assert_int_equal(st_pickle_dumps(v, protocol, &data, &len), 0);
    char *hex = malloc(2 * len + 1);
    assert_non_null(hex);
    for (size_t i = 0; i < len; i++)
        snprintf(hex + 2 * i, 3, "%02x", data[i]);
    hex[2 * len] = '\0';
    st_free(data);
    return hex;
}

char *st_test_python_args(const char *code, const char *const *args)
{
    const char *py = pyref_python();
    if (!py)
        return NULL;
    const char *argv[32] = {py, "-c", code};
    size_t n = 3;
    for (size_t i = 0; args && args[i] && n < 31; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    size_t len;
    char *out = st_subprocess_check_output(argv, NULL, &len, NULL);
    if (!out)
        print_error("CPython failed: %s\n", st_error_message());
    assert_non_null(out);
    while (len && (out[len - 1] == '\n' || out[len - 1] == '\r'))
        out[--len] = '\0';
    char *copy = strdup(out);
    st_free(out);
    return copy;
}
