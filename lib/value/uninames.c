/* value: Unicode character names for \N{name} escapes, found as CPython 3.13's unicodedata
 * finds them for its \N decoder: case-insensitive names and aliases from a table, uppercase
 * HANGUL SYLLABLE and CJK UNIFIED IDEOGRAPH names composed; never named sequences. The table
 * (uninames.h, written by tests/gen/gen_uninames.py) holds the names sorted and front-coded
 * in blocks: a binary search over the blocks' first names, then one pass over a block. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "internal/value.h"

#ifdef __GNUC__
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverlength-strings" /* GCC and Clang take any length */
#endif
#include "uninames.h"
#ifdef __GNUC__
#pragma GCC diagnostic pop
#endif

#define UN_NBLOCKS (sizeof un_block / sizeof un_block[0])
_Static_assert(UN_MAXLEN < ST__UNICODE_NAME_MAX, "a name fits the buffer of st__unicode_name_at");

static int digit(char c) { return un_digit[(unsigned char)c]; }

/* Reads an entry's head at p: how many characters it shares with the previous name, and its
 * code point number. Returns the start of the rest of its name. */
static const char *entry(const char *p, int *shared, uint32_t *v)
{
    *shared = digit(*p++);
    uint32_t n = 0;
    for (int d; (d = digit(*p)) >= 0; p++)
        n = n * UN_BASE + (uint32_t)d;
    *v = n;
    return p;
}

/* The code point after prev, from a zigzag-coded difference. */
static uint32_t next_cp(uint32_t prev, uint32_t v)
{
    return v & 1 ? prev - (v + 1) / 2 : prev + v / 2;
}

/* Compares q[0..n) (name characters only) with the name at p (it ends at the next digit
 * character): <0, 0 or >0, and *m = how many leading characters they share. */
static int compare(const char *q, size_t n, const char *p, size_t *m)
{
    size_t i = 0;
    while (i < n && p[i] == q[i])
        i++;
    *m = i;
    int end = digit(p[i]) >= 0;
    if (i == n)
        return end ? 0 : -1;
    return end ? 1 : (unsigned char)q[i] - (unsigned char)p[i];
}

/* The uppercase name q[0..n) in the table. */
static int table_lookup(const char *q, size_t n, uint32_t *cp)
{
    size_t lo = 0, hi = UN_NBLOCKS, m, lo_m = 0, hi_m = 0;
    int shared;
    uint32_t v;
    /* The last block whose first name is <= q. The names between two others share at least
     * what both share with q, so comparisons start there. */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2, k = lo_m < hi_m ? lo_m : hi_m;
        if (compare(q + k, n - k, entry(un_text + un_block[mid], &shared, &v) + k, &m) < 0) {
            hi = mid;
            hi_m = k + m;
        } else {
            lo = mid;
            lo_m = k + m;
        }
    }
    const char *p = entry(un_text + un_block[lo], &shared, &v);
    uint32_t at = v;
    int c = compare(q, n, p, &m);
    if (c < 0)
        return 0;
    if (c == 0) {
        *cp = at;
        return 1;
    }
    /* m = what the previous name shares with q, which it precedes: a name sharing more with
     * its predecessor precedes q too; else compare the rest. (A name sharing less would be
     * past q, but a shared count is capped, so it may not tell where two names differ.) */
    size_t count = lo + 1 < UN_NBLOCKS ? UN_BLOCK : UN_COUNT - lo * UN_BLOCK;
    for (size_t i = 1; i < count; i++) {
        while (digit(*p) < 0)
            p++;
        p = entry(p, &shared, &v);
        at = next_cp(at, v);
        if ((size_t)shared > m)
            continue;
        m = (size_t)shared;
        size_t k;
        c = compare(q + m, n - m, p, &k);
        if (c < 0)
            return 0;
        if (c == 0) {
            *cp = at;
            return 1;
        }
        m += k;
    }
    return 0;
}

/* The longest of n jamo short names that starts s[0..len) (CPython's find_syllable). */
static int jamo(const char (*tab)[4], int n, const char **s, size_t len)
{
    int best = -1;
    size_t best_len = 0;
    for (int i = 0; i < n; i++) {
        size_t k = 0;
        while (tab[i][k] && k < len && (*s)[k] == tab[i][k])
            k++;
        if (!tab[i][k] && (best < 0 || k > best_len)) {
            best = i;
            best_len = k;
        }
    }
    *s += best_len;
    return best;
}

/* "HANGUL SYLLABLE " then leading consonant, vowel and trailing consonant, each the longest
 * that matches, and nothing else. */
static int hangul(const char *s, size_t len, uint32_t *cp)
{
    const char *end = s + len;
    int l = jamo(un_lead, 19, &s, (size_t)(end - s));
    int v = jamo(un_vowel, 21, &s, (size_t)(end - s));
    int t = jamo(un_trail, 28, &s, (size_t)(end - s));
    if (l < 0 || v < 0 || t < 0 || s != end)
        return 0;
    *cp = 0xAC00 + (uint32_t)((l * 21 + v) * 28 + t);
    return 1;
}

/* "CJK UNIFIED IDEOGRAPH-" then 4 or 5 uppercase hex digits naming a unified ideograph. */
static int cjk(const char *s, size_t len, uint32_t *cp)
{
    if (len != 4 && len != 5)
        return 0;
    uint32_t v = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c >= '0' && c <= '9')
            v = v * 16 + (uint32_t)(c - '0');
        else if (c >= 'A' && c <= 'F')
            v = v * 16 + (uint32_t)(c - 'A' + 10);
        else
            return 0;
    }
    for (size_t i = 0; i < sizeof un_cjk / sizeof un_cjk[0]; i++) {
        if (v >= un_cjk[i][0] && v <= un_cjk[i][1]) {
            *cp = v;
            return 1;
        }
    }
    return 0;
}

int st__unicode_lookup(const char *name, size_t len, uint32_t *cp)
{
    static const char hangul_prefix[] = "HANGUL SYLLABLE ", cjk_prefix[] = "CJK UNIFIED IDEOGRAPH-";
    size_t hn = sizeof hangul_prefix - 1, cn = sizeof cjk_prefix - 1;
    if (len >= hn && memcmp(name, hangul_prefix, hn) == 0)
        return hangul(name + hn, len - hn, cp);
    if (len >= cn && memcmp(name, cjk_prefix, cn) == 0)
        return cjk(name + cn, len - cn, cp);
    if (len == 0 || len > UN_MAXLEN)
        return 0;
    char q[UN_MAXLEN];
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        else if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ' ' || c == '-'))
            return 0;
        q[i] = c;
    }
    return table_lookup(q, len, cp);
}

size_t st__unicode_name_at(size_t i, char *buf, uint32_t *cp)
{
    if (i >= UN_COUNT)
        return 0;
    const char *p = un_text + un_block[i / UN_BLOCK];
    size_t len = 0;
    for (size_t k = 0; k <= i % UN_BLOCK; k++) {
        int shared;
        uint32_t v;
        p = entry(p, &shared, &v);
        *cp = k ? next_cp(*cp, v) : v;
        for (len = (size_t)shared; digit(*p) < 0; p++)
            buf[len++] = *p;
    }
    buf[len] = '\0';
    return len;
}
