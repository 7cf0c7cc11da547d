/* Fuzzes the path module's string functions (posixpath and ntpath): no crash, no leak, and the
 * invariants CPython guarantees — splitext/splitroot/splitdrive pieces concatenate back to the
 * path, split() agrees with dirname()/basename(), posix normpath() is idempotent and
 * normpath(join(split(p))) == normpath(p), commonprefix() is a prefix of both inputs.
 * (ntpath.normpath() is not idempotent in CPython — normpath('.\\.:.') is '.:.' whose normpath is
 * ':.' — so only the concatenation invariants are checked for ntpath.)
 * Input: two paths separated by the first NUL byte. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "systools/path.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
    if (!ok)
        abort();
}

/* a + b (+ c) == whole, then frees the parts. */
static void concat_is(const char *whole, char *a, char *b, char *c)
{
    size_t na = strlen(a), nb = strlen(b);
    check(strncmp(whole, a, na) == 0 && strncmp(whole + na, b, nb) == 0 &&
          strcmp(whole + na + nb, c ? c : "") == 0);
    st_free(a);
    st_free(b);
    st_free(c);
}

static int streq_free(char *a, const char *b)
{
    int eq = a && strcmp(a, b) == 0;
    st_free(a);
    return eq;
}

static void posix_checks(const char *p, const char *q)
{
    char *a, *b, *c;
    check(st_path_splitext(p, &a, &b) == 0);
    concat_is(p, a, b, NULL);
    check(st_path_splitroot(p, &a, &b, &c) == 0);
    concat_is(p, a, b, c);
    check(st_path_splitdrive(p, &a, &b) == 0);
    concat_is(p, a, b, NULL);

    char *n = st_path_normpath(p);
    check(n != NULL && streq_free(st_path_normpath(n), n));
    char *head, *tail;
    check(st_path_split(p, &head, &tail) == 0);
    check(streq_free(st_path_dirname(p), head) && streq_free(st_path_basename(p), tail));
    char *joined = st_path_join(head, tail, (char *)NULL);
    check(joined && streq_free(st_path_normpath(joined), n));
    st_free(joined);
    st_free(head);
    st_free(tail);
    st_free(n);

    const char *both[] = {p, q};
    char *pre = st_path_commonprefix(both, 2);
    check(pre && strncmp(p, pre, strlen(pre)) == 0 && strncmp(q, pre, strlen(pre)) == 0);
    st_free(pre);
    char *common = st_path_commonpath(both, 2);
    check(common || (p[0] == '/') != (q[0] == '/')); /* fails only on mixed abs/rel */
    st_free(common);
    st_free(st_path_join(p, q, (char *)NULL));
    st_free(st_path_expandvars(p));
    (void)st_path_isabs(p);
}

static void nt_checks(const char *p, const char *q)
{
    char *a, *b, *c;
    check(st_ntpath_splitext(p, &a, &b) == 0);
    concat_is(p, a, b, NULL);
    check(st_ntpath_splitroot(p, &a, &b, &c) == 0);
    concat_is(p, a, b, c);
    check(st_ntpath_splitdrive(p, &a, &b) == 0);
    concat_is(p, a, b, NULL);
    char *head, *tail;
    check(st_ntpath_split(p, &head, &tail) == 0);
    /* head is a prefix of p and tail its suffix */
    size_t nh = strlen(head), nt = strlen(tail), np = strlen(p);
    check(strncmp(p, head, nh) == 0 && nt <= np && strcmp(p + np - nt, tail) == 0);
    check(streq_free(st_ntpath_dirname(p), head) && streq_free(st_ntpath_basename(p), tail));
    st_free(head);
    st_free(tail);
    char *n = st_ntpath_normpath(p);
    check(n && n[0]);
    st_free(n);
    st_free(st_ntpath_join(p, q, p, (char *)NULL));
    const char *both[] = {p, q};
    st_free(st_ntpath_commonpath(both, 2));
    st_free(st_ntpath_normcase(p));
    (void)st_ntpath_isabs(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 2);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = text[size + 1] = '\0';
    const char *p = text, *q = text + strlen(text) + 1;
    if (q > text + size)
        q = text + size; /* no NUL in the input: q is "" */
    posix_checks(p, q);
    nt_checks(p, q);
    free(text);
    return 0;
}
