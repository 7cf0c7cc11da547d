/* fnmatch: 12,000 (pattern, name) pairs decided by CPython 3.13's fnmatch.fnmatchcase()
 * (tests/gen/gen_fnmatch.py) through every entry point and through translate() + regcomp();
 * the glibc-style flags against glibc's fnmatch(3); linear time; filter; errors. */
#include <fnmatch.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "internal/mem.h"
#include "support/support.h"
#include "systools/systools.h"

/* regexec() of translate(pat) on name. */
static int regex_match(const char *pat, const char *name)
{
    char *re = st_fnmatch_translate(pat);
    assert_non_null(re);
    regex_t r;
    int rc = regcomp(&r, re, REG_EXTENDED | REG_NOSUB);
    if (rc != 0)
        printf("regcomp rejected '%s' (from '%s')\n", re, pat);
    assert_int_equal(rc, 0);
    int ok = regexec(&r, name, 0, NULL, 0) == 0;
    regfree(&r);
    st_free(re);
    return ok;
}

static void test_cpython_vectors(void **state)
{
    (void)state;
    st_test_vectors v;
    st_test_vectors_open(&v, "fnmatch/cases.txt");
    int n = 0, matches = 0;
    while (st_test_vectors_next(&v)) {
        /* <pattern hex> <name hex> <0|1> */
        size_t plen, nlen;
        char *pat = (char *)st_test_unhex(v.line, &plen);
        const char *p = v.line + 2 * plen + 1;
        char *name = (char *)st_test_unhex(p, &nlen);
        p += 2 * nlen + 1;
        int want = *p == '1';
        int got = st_fnmatchcase(name, pat);
        if (got != want)
            printf("fnmatchcase('%s', '%s') = %d, CPython says %d\n", name, pat, got, want);
        assert_int_equal(got, want);
        assert_int_equal(st_fnmatch(name, pat), want);
        st_fnmatch_pattern *cp = st_fnmatch_pattern_compile(pat, 0);
        assert_non_null(cp);
        assert_int_equal(st_fnmatch_pattern_match(cp, name), want);
        st_fnmatch_pattern_free(cp);
        assert_int_equal(regex_match(pat, name), want);
        free(pat);
        free(name);
        n++;
        matches += want;
    }
    st_test_vectors_close(&v);
    printf("[          ] %d CPython cases (%d matching), 4 ways each\n", n, matches);
    assert_true(n >= 10000);
}

/* Hand-picked Python semantics (values from CPython 3.13). */
static void test_python_edge_cases(void **state)
{
    (void)state;
    static const struct { const char *name, *pat; int want; } cases[] = {
        {"a/b", "a*b", 1}, {".x", "*x", 1}, {".x", "?x", 1}, {"/", "?", 1}, {"a\nb", "a?b", 1},
        {"a\nb", "a*", 1}, {"*", "[*]", 1}, {"a", "[*]", 0}, {"\\", "\\", 1}, {"\\a", "\\?", 1},
        {"]", "[]]", 1}, {"a", "[!]]", 1}, {"]", "[!]]", 0}, {"[", "[", 1}, {"[a", "[a", 1},
        {"a", "[z-a]", 0}, {"-", "[z-a]", 0}, {"b", "[!z-a]", 1}, {"z", "[a-]", 0},
        {"-", "[a-]", 1}, {"z", "[a--z]", 1}, {"a", "[a--z]", 0}, {"x", "[z-a!b]", 1},
        {"b", "[z-a!b]", 0}, {"^", "[^]", 1}, {"!", "[!!]", 0}, {"&", "[&&]", 1}, {"|", "[a||]", 1},
        {"", "*", 1}, {"", "", 1}, {"a", "", 0}, {"", "?", 0}, {"abc", "a**c", 1}, {"-", "[!-]", 0},
        {"a", "[!-]", 1}, {"\xe9", "[\xe0-\xef]", 1}, {"\xe9", "?", 1}, {"ab", "[a-b-c]*", 1},
        {"-", "[a-b-c]", 1}, {"c", "[a-b-c]", 1},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        int got = st_fnmatchcase(cases[k].name, cases[k].pat);
        if (got != cases[k].want)
            printf("fnmatchcase('%s', '%s') = %d\n", cases[k].name, cases[k].pat, got);
        assert_int_equal(got, cases[k].want);
        assert_int_equal(regex_match(cases[k].pat, cases[k].name), cases[k].want);
    }
}

static unsigned rnd(unsigned *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* ST_FNM_* agree with glibc's fnmatch(3) (FNM_NOESCAPE: Python has no escapes) on patterns
 * whose meaning glibc and Python share. */
static void test_flags_vs_glibc(void **state)
{
    (void)state;
    static const char *const atoms[] = {"a", "b", "A", "/", ".", "*", "?", "[ab]", "[!a]", "[.b]"};
    static const char name_chars[] = "abAB/..";
    static const int flagsets[][2] = {
        {0, 0}, {ST_FNMATCH_CASEFOLD, FNM_CASEFOLD}, {ST_FNMATCH_PATHNAME, FNM_PATHNAME},
        {ST_FNMATCH_PERIOD, FNM_PERIOD}, {ST_FNMATCH_PATHNAME | ST_FNMATCH_PERIOD, FNM_PATHNAME | FNM_PERIOD},
        {ST_FNMATCH_CASEFOLD | ST_FNMATCH_PATHNAME | ST_FNMATCH_PERIOD, FNM_CASEFOLD | FNM_PATHNAME | FNM_PERIOD},
    };
    unsigned seed = 7;
    int checked = 0;
    for (int round = 0; round < 3000; round++) {
        char pat[64] = "", name[16] = "";
        for (unsigned k = 0, n = rnd(&seed) % 7 + 1; k < n; k++)
            strcat(pat, atoms[rnd(&seed) % (sizeof atoms / sizeof *atoms)]);
        unsigned nlen = rnd(&seed) % 8;
        for (unsigned k = 0; k < nlen; k++)
            name[k] = name_chars[rnd(&seed) % (sizeof name_chars - 1)];
        name[nlen] = '\0';
        for (size_t fs = 0; fs < sizeof flagsets / sizeof *flagsets; fs++) {
            st_fnmatch_pattern *p = st_fnmatch_pattern_compile(pat, flagsets[fs][0]);
            assert_non_null(p);
            int want = fnmatch(pat, name, FNM_NOESCAPE | flagsets[fs][1]) == 0;
            int got = st_fnmatch_pattern_match(p, name);
            if (got != want)
                printf("flags %d: '%s' vs '%s': %d, glibc %d\n", flagsets[fs][0], name, pat, got, want);
            assert_int_equal(got, want);
            st_fnmatch_pattern_free(p);
            checked++;
        }
    }
    /* A star may not begin at a leading '.', even to match nothing (as glibc and the shells). */
    static const struct { const char *pat, *name; int flags, want; } fixed[] = {
        {"*.a", ".a", ST_FNMATCH_PERIOD, 0}, {"*.a", ".a", 0, 1}, {".*", ".a", ST_FNMATCH_PERIOD, 1},
        {"x/*.a", "x/.a", ST_FNMATCH_PERIOD, 1}, {"x/*.a", "x/.a", ST_FNMATCH_PERIOD | ST_FNMATCH_PATHNAME, 0},
        {"x*/.a", "x/.a", ST_FNMATCH_PERIOD | ST_FNMATCH_PATHNAME, 1}, {"*", "a/b", ST_FNMATCH_PATHNAME, 0},
        {"*/?", "a/b", ST_FNMATCH_PATHNAME, 1}, {"[!a]", "/", ST_FNMATCH_PATHNAME, 0}, {"A*", "abc", ST_FNMATCH_CASEFOLD, 1},
        {"[!a]", "A", ST_FNMATCH_CASEFOLD, 0}, {"[A-C]", "b", ST_FNMATCH_CASEFOLD, 1},
    };
    for (size_t k = 0; k < sizeof fixed / sizeof *fixed; k++) {
        st_fnmatch_pattern *p = st_fnmatch_pattern_compile(fixed[k].pat, fixed[k].flags);
        assert_int_equal(st_fnmatch_pattern_match(p, fixed[k].name), fixed[k].want);
        st_fnmatch_pattern_free(p);
    }
    printf("[          ] %d flagged cases agree with glibc fnmatch(3)\n", checked);
}

/* Long patterns use the multi-word automaton: checked against translate() + regexec(). */
static void test_long_patterns(void **state)
{
    (void)state;
    unsigned seed = 99;
    static const char atoms[] = "ab*?";
    for (int round = 0; round < 300; round++) {
        char pat[400], name[300];
        unsigned plen = 70 + rnd(&seed) % 300, nlen = rnd(&seed) % 290;
        for (unsigned k = 0; k < plen; k++)
            pat[k] = atoms[rnd(&seed) % 4];
        pat[plen] = '\0';
        for (unsigned k = 0; k < nlen; k++)
            name[k] = "ab"[rnd(&seed) % 2];
        name[nlen] = '\0';
        if (round % 3 == 0) { /* a name that matches: the pattern with wildcards filled in */
            unsigned w = 0;
            for (unsigned k = 0; k < plen && w < sizeof name - 1; k++)
                if (pat[k] != '*')
                    name[w++] = pat[k] == '?' ? 'b' : pat[k];
            name[w] = '\0';
        }
        st_fnmatch_pattern *p = st_fnmatch_pattern_compile(pat, 0);
        assert_non_null(p);
        assert_int_equal(st_fnmatch_pattern_match(p, name), regex_match(pat, name));
        if (round % 3 == 0)
            assert_int_equal(st_fnmatch_pattern_match(p, name), 1);
        st_fnmatch_pattern_free(p);
    }
}

/* (a*)^n b against a run of 'a's costs about as much for n = 20 as for n = 1. */
static void test_linear_time(void **state)
{
    (void)state;
    char name[4001];
    memset(name, 'a', 4000);
    name[4000] = '\0';
    double t[2];
    for (int i = 0; i < 2; i++) {
        int n = i ? 20 : 1;
        char pat[64] = "";
        for (int k = 0; k < n; k++)
            strcat(pat, "a*");
        strcat(pat, "b");
        st_fnmatch_pattern *p = st_fnmatch_pattern_compile(pat, 0);
        assert_non_null(p);
        double t0 = st_test_now();
        for (int r = 0; r < 200; r++)
            assert_int_equal(st_fnmatch_pattern_match(p, name), 0);
        t[i] = st_test_now() - t0;
        st_fnmatch_pattern_free(p);
    }
    /* Backtracking would take ~4000^19 steps; allow wide noise (sanitizers, shared cores). */
    assert_true(t[1] < t[0] * 20 + 0.05);
    /* 2,000 stars: still linear, multi-word. */
    st__buf big = ST__BUF_INIT;
    for (int k = 0; k < 2000; k++)
        assert_int_equal(st__buf_puts(&big, "a*"), 0);
    assert_int_equal(st__buf_putc(&big, 'b'), 0);
    st_fnmatch_pattern *p = st_fnmatch_pattern_compile(big.data, 0);
    assert_non_null(p);
    assert_int_equal(st_fnmatch_pattern_match(p, name), 0);
    name[3999] = 'b';
    assert_int_equal(st_fnmatch_pattern_match(p, name), 1); /* 2000 a's are needed before the b: 3999 */
    name[1999] = 'b';
    name[2000] = '\0';
    assert_int_equal(st_fnmatch_pattern_match(p, name), 0); /* only 1999 */
    st_fnmatch_pattern_free(p);
    st__buf_free(&big);
    p = st_fnmatch_pattern_compile("*a*a*a*a*a*b", 0);
    assert_int_equal(st_fnmatch_pattern_match(p, name), 1);
    st_fnmatch_pattern_free(p);
}

static void test_filter_and_errors(void **state)
{
    (void)state;
    const char *names[] = {"a.c", "b.h", ".c", "dir/x.c", NULL};
    const char **v = st_fnmatch_filter(names, "*.c");
    assert_int_equal(st_strv_len(v), 3);
    assert_string_equal(v[0], "a.c");
    assert_string_equal(v[1], ".c");
    assert_string_equal(v[2], "dir/x.c");
    st_strv_free(v);
    v = st_fnmatch_filter(names, "zz");
    assert_non_null(v);
    assert_null(v[0]);
    st_strv_free(v);
    assert_null(st_fnmatch_filter(NULL, "*"));
    assert_int_equal(st_error_code(), ST_ETYPE);
    assert_null(st_fnmatch_filter(names, NULL));
    assert_null(st_fnmatch_pattern_compile("*", 0x40));
    assert_int_equal(st_error_code(), ST_EVALUE);
    assert_null(st_fnmatch_translate(NULL));
    /* None for a name or a pattern is a TypeError: -1, never a plain "no match". */
    st_error_clear();
    assert_int_equal(st_fnmatchcase(NULL, "*"), -1);
    assert_int_equal(st_error_code(), ST_ETYPE);
    st_error_clear();
    assert_int_equal(st_fnmatchcase("a", NULL), -1);
    assert_int_equal(st_error_code(), ST_ETYPE);
    st_error_clear();
    assert_int_equal(st_fnmatch(NULL, "*"), -1);
    assert_int_equal(st_error_code(), ST_ETYPE);
    st_error_clear();
    assert_int_equal(st_fnmatch("a", NULL), -1);
    assert_int_equal(st_error_code(), ST_ETYPE);
    st_fnmatch_pattern *p = st_fnmatch_pattern_compile("a*", 0);
    assert_non_null(p);
    st_error_clear();
    assert_int_equal(st_fnmatch_pattern_match(NULL, "a"), -1);
    assert_int_equal(st_error_code(), ST_ETYPE);
    st_error_clear();
    assert_int_equal(st_fnmatch_pattern_match(p, NULL), -1);
    assert_int_equal(st_error_code(), ST_ETYPE);
    /* A success leaves an earlier error alone and is judged by its value only. */
    assert_int_equal(st_fnmatch_pattern_match(p, "ab"), 1);
    assert_int_equal(st_fnmatch_pattern_match(p, "ba"), 0);
    assert_int_equal(st_fnmatch("ab", "a*"), 1);
    assert_int_equal(st_fnmatchcase("ba", "a*"), 0);
    st_fnmatch_pattern_free(p);
    st_fnmatch_pattern_free(NULL);
    /* translate() of a pattern that can match nothing, and of simple ones. */
    char *re = st_fnmatch_translate("x[z-a]*");
    assert_string_equal(re, "^a^");
    st_free(re);
    re = st_fnmatch_translate("*.[ch]");
    assert_string_equal(re, "^.*\\.[ch]$");
    st_free(re);
    re = st_fnmatch_translate("[!^-]?");
    assert_string_equal(re, "^[^^-].$");
    st_free(re);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cpython_vectors),
        cmocka_unit_test(test_python_edge_cases),
        cmocka_unit_test(test_flags_vs_glibc),
        cmocka_unit_test(test_long_patterns),
        cmocka_unit_test(test_linear_time),
        cmocka_unit_test(test_filter_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
