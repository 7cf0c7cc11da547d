/* fnmatch: Python's shell patterns, parsed exactly as fnmatch.translate() reads them, matched by a
 * bit-parallel automaton (no backtracking), and translated to POSIX extended regexes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal/mem.h"
#include "systools/fnmatch.h"

/* One pattern position: a star, or a set of bytes matching one name byte. */
typedef struct tok {
    uint64_t set[4];
    unsigned char star;    /* '*' (runs collapsed) */
    unsigned char literal; /* a plain pattern character, not '?' or '[...]' */
} tok;

typedef struct tokv {
    tok *v;
    size_t len, cap;
} tokv;

struct st_fnmatch_pattern {
    int flags;
    tok *toks;
    size_t ntok;
    int has_star;
    size_t pre, suf;      /* tokens before the first star, after the last one */
    size_t mid;           /* tokens from the first star to the last one, both included */
    size_t words;         /* 64-bit words per automaton state (mid + 1 bits) */
    uint64_t *table;      /* [256][words]: tokens of the middle consuming each byte */
    uint64_t *starmask;   /* [words]: star tokens of the middle */
    uint64_t *dotmask;    /* [words]: literal '.' tokens (for ST_FNMATCH_PERIOD) */
};

#define ALL_FLAGS (ST_FNMATCH_CASEFOLD | ST_FNMATCH_PATHNAME | ST_FNMATCH_PERIOD)

static inline void set_add(uint64_t *set, unsigned c) { set[c >> 6] |= UINT64_C(1) << (c & 63); }
static inline void set_del(uint64_t *set, unsigned c) { set[c >> 6] &= ~(UINT64_C(1) << (c & 63)); }
static inline int set_has(const uint64_t *set, unsigned c) { return (int)(set[c >> 6] >> (c & 63)) & 1; }

static int tokv_push(tokv *tv, const tok *t)
{
    if (tv->len == tv->cap) {
        tok *v = st__grow(tv->v, &tv->cap, sizeof *v, 16);
        if (!v)
            return -1;
        tv->v = v;
    }
    tv->v[tv->len++] = *t;
    return 0;
}

/* --- bracket expressions, exactly as Python builds and parses them ----------------------------- */

/* Appends s[0:n] to b with Python's escaping of a class chunk: '\' and '-'. */
static int put_escaped(st__buf *b, const char *s, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        if ((s[k] == '\\' || s[k] == '-') && st__buf_putc(b, '\\') < 0)
            return -1;
        if (st__buf_putc(b, s[k]) < 0)
            return -1;
    }
    return 0;
}

/* fnmatch._translate's class body for pat[i:j] when it holds a '-': the "stuff" between '[' and
 * ']' of the Python regex, before the '!' -> '^' rewrite. Reversed ranges are dropped with their
 * endpoints. */
static int class_stuff(const char *pat, size_t i, size_t j, st__buf *stuff)
{
    st__buf *chunks = NULL;
    size_t n = 0, cap = 0;
    int rc = -1;
    size_t k = pat[i] == '!' ? i + 2 : i + 1;
    for (;;) {
        const char *dash = k < j ? memchr(pat + k, '-', j - k) : NULL;
        if (n + 1 >= cap) {
            st__buf *v = st__grow(chunks, &cap, sizeof *v, 8);
            if (!v)
                goto out;
            chunks = v;
        }
        size_t end = dash ? (size_t)(dash - pat) : j;
        chunks[n] = (st__buf)ST__BUF_INIT;
        if (!dash && end == i) { /* the class ends with '-': it is a literal */
            if (st__buf_putc(&chunks[n - 1], '-') < 0)
                goto out;
            break;
        }
        n++;
        if (st__buf_append(&chunks[n - 1], pat + i, end - i) < 0)
            goto out;
        if (!dash)
            break;
        i = end + 1;
        k = end + 3;
    }
    for (size_t m = n - 1; m > 0; m--) {
        st__buf *a = &chunks[m - 1], *b = &chunks[m];
        if ((unsigned char)a->data[a->len - 1] > (unsigned char)b->data[0]) {
            a->len--;
            if (st__buf_append(a, b->data + 1, b->len - 1) < 0)
                goto out;
            st__buf_free(b);
            memmove(chunks + m, chunks + m + 1, (n - m - 1) * sizeof *chunks);
            n--;
        }
    }
    for (size_t m = 0; m < n; m++) {
        if ((m && st__buf_putc(stuff, '-') < 0) || put_escaped(stuff, chunks[m].data, chunks[m].len) < 0)
            goto out;
    }
    rc = 0;
out:
    for (size_t m = 0; m < n; m++)
        st__buf_free(&chunks[m]);
    free(chunks);
    return rc;
}

/* Reads one element of a Python class body: an escaped or plain character. */
static unsigned char class_char(const char *s, size_t *pos, int *escaped)
{
    *escaped = s[*pos] == '\\';
    if (*escaped)
        ++*pos; /* fnmatch only escapes \ - & ~ | ^ [, all literal in a class */
    return (unsigned char)s[(*pos)++];
}

/* Parses a Python regex class body the way re's parser does, into a byte set. s is the body
 * followed by ']'; negate tells whether the class began with '^' (already skipped). */
static int class_parse(const char *s, int negate, uint64_t *set)
{
    size_t pos = 0;
    int items = 0, esc;
    memset(set, 0, 4 * sizeof *set);
    for (;;) {
        if (s[pos] == ']' && items)
            break;
        unsigned lo = class_char(s, &pos, &esc);
        items++;
        if (s[pos] != '-') {
            set_add(set, lo);
            continue;
        }
        pos++;
        if (s[pos] == ']') {
            set_add(set, lo);
            set_add(set, '-');
            break;
        }
        unsigned hi = class_char(s, &pos, &esc);
        if (hi < lo)
            return ST_RAISE_AS(ST_EVALUE, "re.error", "bad character range %c-%c", lo, hi);
        for (unsigned c = lo; c <= hi; c++)
            set_add(set, c);
    }
    if (negate)
        for (int w = 0; w < 4; w++)
            set[w] = ~set[w];
    return 0;
}

/* The byte set of the class pat[i:j] (between '[' and ']'). */
static int class_set(const char *pat, size_t i, size_t j, uint64_t *set)
{
    if (!memchr(pat + i, '-', j - i)) {
        /* No ranges: every character stands for itself (Python escapes \ & ~ | and a leading ^
         * or [); "!" alone is any character, a leading '!' negates the rest. */
        int negate = pat[i] == '!';
        memset(set, 0, 4 * sizeof *set);
        for (size_t k = i + (size_t)negate; k < j; k++)
            set_add(set, (unsigned char)pat[k]);
        if (negate)
            for (int w = 0; w < 4; w++)
                set[w] = ~set[w];
        return 0;
    }
    st__buf stuff = ST__BUF_INIT, re = ST__BUF_INIT;
    int rc = -1;
    if (class_stuff(pat, i, j, &stuff) < 0)
        goto out;
    /* Python escapes set operations (&&, ~~, ||) after building the body. */
    for (size_t k = 0; k < stuff.len; k++) {
        char c = stuff.data[k];
        if (((c == '&' || c == '~' || c == '|') && st__buf_putc(&re, '\\') < 0) || st__buf_putc(&re, c) < 0)
            goto out;
    }
    if (re.len == 0 || (re.len == 1 && re.data[0] == '!')) {
        /* Empty range: never matches; negated empty range: any character. */
        memset(set, re.len ? 0xff : 0, 4 * sizeof *set);
        rc = 0;
        goto out;
    }
    if (st__buf_putc(&re, ']') < 0)
        goto out;
    /* A leading '!' negates; Python escapes a leading '^' or '[', so they are plain members. */
    rc = class_parse(re.data + (re.data[0] == '!'), re.data[0] == '!', set);
out:
    st__buf_free(&stuff);
    st__buf_free(&re);
    return rc;
}

/* --- parsing ------------------------------------------------------------------------------------ */

/* Splits a pattern into tokens as fnmatch._translate does (stars collapsed). */
static int parse(const char *pat, tokv *tv)
{
    size_t n = strlen(pat);
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)pat[i++];
        tok t;
        memset(&t, 0, sizeof t);
        if (c == '*') {
            if (tv->len && tv->v[tv->len - 1].star)
                continue;
            t.star = 1;
        } else if (c == '?') {
            memset(t.set, 0xff, sizeof t.set);
        } else if (c == '[') {
            size_t j = i;
            if (j < n && pat[j] == '!')
                j++;
            if (j < n && pat[j] == ']')
                j++;
            while (j < n && pat[j] != ']')
                j++;
            if (j >= n) { /* unclosed: a literal '[' */
                set_add(t.set, '[');
                t.literal = 1;
            } else {
                if (class_set(pat, i, j, t.set) < 0)
                    return ST_TRACE();
                i = j + 1;
            }
        } else {
            set_add(t.set, c);
            t.literal = 1;
        }
        if (tokv_push(tv, &t) < 0)
            return -1;
    }
    return 0;
}

/* --- compiling and matching --------------------------------------------------------------------- */

/* Applies the glibc-style flags to one token's set. */
static void apply_flags(tok *t, int flags)
{
    if (t->star)
        return;
    if (flags & ST_FNMATCH_CASEFOLD) { /* the pattern was lowercased: a name byte matches as its lowercase */
        for (unsigned c = 'A'; c <= 'Z'; c++) {
            if (set_has(t->set, c + 32))
                set_add(t->set, c);
            else
                set_del(t->set, c);
        }
    }
    if ((flags & ST_FNMATCH_PATHNAME) && !t->literal)
        set_del(t->set, '/');
}

/* The index of the lowest set bit of x (x != 0). */
static unsigned lowest_bit(uint64_t x)
{
#if defined(__GNUC__) || defined(__clang__)
    return (unsigned)__builtin_ctzll(x);
#else
    unsigned n = 0;
    for (; !(x & 1); x >>= 1)
        n++;
    return n;
#endif
}

static int build_automaton(st_fnmatch_pattern *p)
{
    const tok *m = p->toks + p->pre;
    p->words = p->mid / 64 + 1;
    p->table = st__calloc(258 * p->words, sizeof *p->table);
    if (!p->table)
        return -1;
    p->starmask = p->table + 256 * p->words;
    p->dotmask = p->starmask + p->words;
    for (size_t b = 0; b < p->mid; b++) {
        uint64_t bit = UINT64_C(1) << (b & 63);
        size_t w = b >> 6;
        if (m[b].star) {
            p->starmask[w] |= bit;
            continue;
        }
        for (unsigned sw = 0; sw < 4; sw++)
            for (uint64_t x = m[b].set[sw]; x; x &= x - 1)
                p->table[(sw * 64 + lowest_bit(x)) * p->words + w] |= bit;
        if (m[b].literal && set_has(m[b].set, '.'))
            p->dotmask[w] |= bit;
    }
    return 0;
}

st_fnmatch_pattern *st_fnmatch_pattern_compile(const char *pat, int flags)
{
    if (!pat)
        return (ST_RAISE(ST_ETYPE, "expected str, bytes or os.PathLike object, not NoneType"), NULL);
    if (flags & ~ALL_FLAGS)
        return (ST_RAISE(ST_EVALUE, "unknown fnmatch flags 0x%x", (unsigned)flags), NULL);
    st_fnmatch_pattern *p = st__calloc(1, sizeof *p);
    if (!p)
        return NULL;
    tokv tv = {NULL, 0, 0};
    char *folded = NULL;
    if (flags & ST_FNMATCH_CASEFOLD) { /* like os.path.normcase() on Windows: lowercase both sides */
        if (!(folded = st__strdup(pat))) {
            free(p);
            return NULL;
        }
        for (char *c = folded; *c; c++)
            if (*c >= 'A' && *c <= 'Z')
                *c = (char)(*c + 32);
    }
    int rc = parse(folded ? folded : pat, &tv);
    free(folded);
    if (rc < 0) {
        free(tv.v);
        free(p);
        return (ST_TRACE(), NULL);
    }
    p->flags = flags;
    p->toks = tv.v;
    p->ntok = tv.len;
    size_t first = p->ntok, last = 0;
    for (size_t k = 0; k < p->ntok; k++) {
        apply_flags(&p->toks[k], flags);
        if (p->toks[k].star) {
            if (first == p->ntok)
                first = k;
            last = k;
            p->has_star = 1;
        }
    }
    if (p->has_star) {
        p->pre = first;
        p->suf = p->ntok - last - 1;
        p->mid = last - first + 1;
        if (p->mid > 1 && build_automaton(p) < 0) {
            st_fnmatch_pattern_free(p);
            return NULL;
        }
    } else {
        p->pre = p->ntok;
    }
    return p;
}

void st_fnmatch_pattern_free(st_fnmatch_pattern *p)
{
    if (!p)
        return;
    free(p->toks);
    free(p->table);
    free(p);
}

/* Whether name[pos] is a '.' that ST_FNMATCH_PERIOD reserves for a literal '.'. */
static inline int leading_dot(const st_fnmatch_pattern *p, const unsigned char *s, size_t pos)
{
    return (p->flags & ST_FNMATCH_PERIOD) && s[pos] == '.' &&
           (pos == 0 || ((p->flags & ST_FNMATCH_PATHNAME) && s[pos - 1] == '/'));
}

/* Matches tokens t[0..n) (no stars) against name bytes s[pos..pos+n). */
static int match_fixed(const st_fnmatch_pattern *p, const tok *t, size_t n, const unsigned char *s, size_t pos)
{
    for (size_t k = 0; k < n; k++, pos++) {
        if (!set_has(t[k].set, s[pos]))
            return 0;
        if (leading_dot(p, s, pos) && !t[k].literal)
            return 0;
    }
    return 1;
}

/* ST_FNMATCH_PERIOD, as glibc and the shells read it: a star may not begin at a leading '.', even to
 * match nothing ("*.c" does not match ".c"). A star that touches such a position necessarily
 * begins there: with ST_FNMATCH_PATHNAME the byte before it is a '/', which no star takes. */

/* The part between the first and last star, when it is that one star. */
static int match_star(const st_fnmatch_pattern *p, const unsigned char *s, size_t from, size_t to)
{
    if ((p->flags & ST_FNMATCH_PATHNAME) && memchr(s + from, '/', to - from))
        return 0;
    return !leading_dot(p, s, from);
}

/* Runs the middle tokens' automaton over s[from..to): bit b of the state means "the first b
 * middle tokens have matched"; stars loop on themselves and may be skipped. raw is the state
 * before stars are skipped: at a leading '.', only its non-star states survive. 1 or 0, or -1
 * when a long pattern's state cannot be allocated. */
static int match_middle(const st_fnmatch_pattern *p, const unsigned char *s, size_t from, size_t to)
{
    const size_t W = p->words, accept = p->mid;
    const int flagged = p->flags & (ST_FNMATCH_PATHNAME | ST_FNMATCH_PERIOD);
    if (flagged && leading_dot(p, s, to))
        return 0; /* the last star would begin there */
    if (W == 1) {
        const uint64_t stars = p->starmask[0], lastbit = UINT64_C(1) << (accept - 1);
        uint64_t raw = 1, d = 1 | (1 & stars) << 1;
        for (size_t pos = from; pos < to; pos++) {
            uint64_t cons, loop;
            if (flagged && leading_dot(p, s, pos)) {
                d = raw & ~stars;
                cons = p->dotmask[0];
                loop = 0;
            } else {
                cons = p->table[s[pos]];
                loop = (p->flags & ST_FNMATCH_PATHNAME) && s[pos] == '/' ? 0 : stars;
            }
            raw = ((d & cons) << 1) | (d & loop);
            d = raw | (raw & stars) << 1;
            if (!d)
                return 0;
            if (!flagged && (d & lastbit)) /* the last star takes the rest */
                return 1;
        }
        return (int)(d >> accept) & 1;
    }
    uint64_t small[24];
    uint64_t *d = W <= 8 ? small : st__malloc(3 * W * sizeof *d);
    if (!d)
        return ST_TRACE();
    uint64_t *raw = d + W, *tmp = raw + W;
    memset(d, 0, 2 * W * sizeof *d);
    raw[0] = 1;
    d[0] = 1 | (1 & p->starmask[0]) << 1;
    int alive = 1;
    for (size_t pos = from; pos < to && alive; pos++) {
        const uint64_t *cons;
        int loop;
        if (flagged && leading_dot(p, s, pos)) {
            for (size_t w = 0; w < W; w++)
                d[w] = raw[w] & ~p->starmask[w];
            cons = p->dotmask;
            loop = 0;
        } else {
            cons = p->table + s[pos] * W;
            loop = !((p->flags & ST_FNMATCH_PATHNAME) && s[pos] == '/');
        }
        uint64_t carry = 0, any = 0;
        for (size_t w = 0; w < W; w++) {
            uint64_t x = d[w] & cons[w];
            tmp[w] = (x << 1) | carry | (loop ? d[w] & p->starmask[w] : 0);
            carry = x >> 63;
        }
        carry = 0;
        for (size_t w = 0; w < W; w++) {
            uint64_t x = tmp[w] & p->starmask[w];
            raw[w] = tmp[w];
            d[w] = tmp[w] | (x << 1) | carry;
            carry = x >> 63;
            any |= d[w];
        }
        alive = any != 0;
    }
    int ok = alive && (int)(d[accept >> 6] >> (accept & 63)) & 1;
    if (d != small)
        free(d);
    return ok;
}

int st_fnmatch_pattern_match(const st_fnmatch_pattern *p, const char *name)
{
    if (!p || !name)
        return ST_RAISE(ST_ETYPE, "expected string or bytes-like object, got 'NoneType'");
    const unsigned char *s = (const unsigned char *)name;
    size_t n = strlen(name);
    if (!p->has_star)
        return n == p->ntok && match_fixed(p, p->toks, n, s, 0);
    if (n < p->pre + p->suf)
        return 0;
    if (!match_fixed(p, p->toks + p->ntok - p->suf, p->suf, s, n - p->suf) ||
        !match_fixed(p, p->toks, p->pre, s, 0))
        return 0;
    if (p->mid == 1)
        return match_star(p, s, p->pre, n - p->suf);
    return match_middle(p, s, p->pre, n - p->suf);
}

/* --- one-shot functions ------------------------------------------------------------------------- */

int st_fnmatchcase(const char *name, const char *pat)
{
    if (!name)
        return ST_RAISE(ST_ETYPE, "expected str, bytes or os.PathLike object, not NoneType");
    st_fnmatch_pattern *p = st_fnmatch_pattern_compile(pat, 0);
    if (!p)
        return ST_TRACE();
    int m = st_fnmatch_pattern_match(p, name);
    st_fnmatch_pattern_free(p);
    return m < 0 ? ST_TRACE() : m;
}

int st_fnmatch(const char *name, const char *pat)
{
    int m = st_fnmatchcase(name, pat); /* os.path.normcase() is the identity on POSIX */
    return m < 0 ? ST_TRACE() : m;
}

const char **st_fnmatch_filter(const char *const *names, const char *pat)
{
    if (!names)
        return (ST_RAISE(ST_ETYPE, "'NoneType' object is not iterable"), NULL);
    st_fnmatch_pattern *p = st_fnmatch_pattern_compile(pat, 0);
    if (!p)
        return (ST_TRACE(), NULL);
    st__strv out = ST__STRV_INIT;
    for (size_t k = 0; names[k]; k++) {
        int m = st_fnmatch_pattern_match(p, names[k]);
        if (m < 0 || (m && st__strv_push(&out, names[k]) < 0)) {
            st__strv_free(&out);
            st_fnmatch_pattern_free(p);
            return (ST_TRACE(), NULL);
        }
    }
    st_fnmatch_pattern_free(p);
    return st__strv_detach(&out);
}

/* --- translate ---------------------------------------------------------------------------------- */

/* A byte that may stand in a bracket expression as itself, or as a range endpoint. */
static int in_safe_run(unsigned c, unsigned d)
{
    return (c >= '0' && d <= '9') || (c >= 'A' && d <= 'Z') || (c >= 'a' && d <= 'z');
}

/* Writes the members of set in bracket syntax: ']' first, '^' and '-' last, runs of digits or
 * letters as ranges, everything else one by one (no '[.' '[=' '[:' can arise: '.', '=' and ':'
 * sort before '['). The caller keeps a lone '^' from coming first. */
static int put_members(st__buf *b, const uint64_t *set)
{
    if (set_has(set, ']') && st__buf_putc(b, ']') < 0)
        return -1;
    for (unsigned c = 1; c < 256; c++) {
        if (!set_has(set, c) || c == ']' || c == '-' || c == '^')
            continue;
        unsigned e = c;
        while (e + 1 < 256 && set_has(set, e + 1) && in_safe_run(c, e + 1))
            e++;
        if (e >= c + 2) {
            if (st__buf_printf(b, "%c-%c", c, e) < 0)
                return -1;
            c = e;
        } else if (st__buf_putc(b, (char)c) < 0) {
            return -1;
        }
    }
    if (set_has(set, '^') && st__buf_putc(b, '^') < 0)
        return -1;
    if (set_has(set, '-') && st__buf_putc(b, '-') < 0)
        return -1;
    return 0;
}

static unsigned popcount64(uint64_t x)
{
    unsigned n = 0;
    for (; x; x &= x - 1)
        n++;
    return n;
}

/* One token as an ERE atom; *never is set when it can match nothing. NUL is left out of every
 * set: it never occurs in a name. */
static int put_token(st__buf *b, const tok *t, int *never)
{
    if (t->star)
        return st__buf_puts(b, ".*");
    uint64_t pos[4], neg[4];
    unsigned npos = 0;
    for (int w = 0; w < 4; w++) {
        uint64_t valid = w ? ~UINT64_C(0) : ~UINT64_C(1);
        pos[w] = t->set[w] & valid;
        neg[w] = ~t->set[w] & valid;
        npos += popcount64(pos[w]);
    }
    if (npos == 0) {
        *never = 1;
        return 0;
    }
    if (npos == 255)
        return st__buf_putc(b, '.');
    if (npos == 1) {
        unsigned c = 1;
        while (!set_has(pos, c))
            c++;
        if (strchr(".[]()*+?{}|^$\\", (int)c) && st__buf_putc(b, '\\') < 0)
            return -1;
        return st__buf_putc(b, (char)c);
    }
    /* The complement when it is shorter. '^' goes last, so it is first only in {'^','-'}. */
    int negate = npos > 128;
    if (!negate && npos == 2 && set_has(pos, '^') && set_has(pos, '-'))
        return st__buf_puts(b, "[-^]");
    if (st__buf_puts(b, negate ? "[^" : "[") < 0 || put_members(b, negate ? neg : pos) < 0)
        return -1;
    return st__buf_putc(b, ']');
}

char *st_fnmatch_translate(const char *pat)
{
    if (!pat)
        return (ST_RAISE(ST_ETYPE, "expected str, bytes or os.PathLike object, not NoneType"), NULL);
    tokv tv = {NULL, 0, 0};
    st__buf b = ST__BUF_INIT;
    int never = 0;
    if (parse(pat, &tv) < 0 || st__buf_putc(&b, '^') < 0)
        goto fail;
    for (size_t k = 0; k < tv.len && !never; k++)
        if (put_token(&b, &tv.v[k], &never) < 0)
            goto fail;
    free(tv.v);
    if (never) {
        st__buf_free(&b);
        return st__strdup("^a^");
    }
    if (st__buf_putc(&b, '$') < 0)
        goto fail;
    return st__buf_detach(&b);
fail:
    free(tv.v);
    st__buf_free(&b);
    return (ST_TRACE(), NULL);
}
