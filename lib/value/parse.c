/* value: ast.literal_eval() — a tokenizer and recursive-descent parser for Python literals
 * that builds the values directly (no syntax tree). Recursion is bounded by the bracket
 * nesting limit, 200 as in CPython's tokenizer. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/utf8.h"
#include "internal/value.h"

#define MAX_NESTING 200 /* CPython's MAXLEVEL: "too many nested parentheses" */
#define MAX_STR_DIGITS 4300

/* What the syntax tree node of a parsed piece would be: literal_eval accepts unary +/- only
 * on a numeric Constant, so the parser remembers what each value came from. */
typedef enum node { N_CONSTANT, N_UNARY, N_CONTAINER } node;

typedef struct parser {
    const char *p;          /* cursor */
    const char *line_start; /* start of the cursor's line */
    int line;
    int depth; /* open brackets */
} parser;

typedef struct mark {
    const char *at;
    const char *line_start;
    int line;
} mark;

static mark here(const parser *P) { return (mark){P->p, P->line_start, P->line}; }

static int column(mark m)
{
    int col = 1;
    for (const char *c = m.line_start; c < m.at; c++)
        col += ((unsigned char)*c & 0xc0) != 0x80;
    return col;
}

static int syntax_error_as(mark m, const char *type, const char *msg)
{
    return ST_RAISE_AS(ST_ESYNTAX, type, "%s (line %d, column %d)", msg, m.line, column(m));
}

static int syntax_error(mark m, const char *msg) { return syntax_error_as(m, "SyntaxError", msg); }

static int malformed(mark m, const char *what)
{
    return ST_RAISE(ST_EVALUE, "malformed node or string on line %d, column %d: %s", m.line,
                    column(m), what);
}

static int is_ident_start(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

static int is_ident(unsigned char c) { return is_ident_start(c) || (c >= '0' && c <= '9'); }

static int is_digit_of(char c, int base)
{
    if (base == 16)
        return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
    return c >= '0' && c < '0' + base;
}

static void newline(parser *P)
{
    P->line++;
    P->line_start = P->p;
}

/* Skips blanks, comments, line continuations, and newlines inside brackets. */
static int skip(parser *P)
{
    for (;;) {
        char c = *P->p;
        if (c == ' ' || c == '\t' || c == '\f') {
            P->p++;
        } else if (c == '#') {
            while (*P->p && *P->p != '\n')
                P->p++;
        } else if (c == '\\') {
            if (P->p[1] != '\n') {
                mark m = here(P);
                m.at++;
                return syntax_error(m, "unexpected character after line continuation character");
            }
            P->p += 2;
            newline(P);
        } else if (c == '\n' && P->depth > 0) {
            P->p++;
            newline(P);
        } else {
            return 0;
        }
    }
}

static st_value *parse_expr(parser *P, node *kind);

/* ---- numbers ----------------------------------------------------------------------------- */

/* digitpart: digit (['_'] digit)*; returns 0, or -1 when an '_' is not followed by a digit. */
static int digitpart(parser *P, int base)
{
    while (is_digit_of(*P->p, base) || *P->p == '_') {
        if (*P->p == '_' && !is_digit_of(P->p[1], base))
            return -1;
        P->p++;
    }
    return 0;
}

static int keyword_follows(const char *s)
{
    static const char *const kw[] = {"and", "else", "for", "if", "in", "is", "not", "or"};
    for (size_t i = 0; i < sizeof kw / sizeof kw[0]; i++) {
        size_t n = strlen(kw[i]);
        if (strncmp(s, kw[i], n) == 0 && !is_ident((unsigned char)s[n]))
            return 1;
    }
    return 0;
}

static st_value *parse_prefixed_int(parser *P, mark m)
{
    char k = (char)(P->p[1] | 0x20);
    int base = k == 'x' ? 16 : k == 'o' ? 8 : 2;
    const char *name = base == 16 ? "hexadecimal" : base == 8 ? "octal" : "binary";
    char msg[64];
    P->p += 2;
    if (*P->p == '_')
        P->p++;
    const char *digits = P->p;
    if (!is_digit_of(*P->p, base) || digitpart(P, base) < 0) {
        if (base != 16 && *P->p >= '0' && *P->p <= '9') {
            snprintf(msg, sizeof msg, "invalid digit '%c' in %s literal", *P->p, name);
            return (syntax_error(here(P), msg), NULL);
        }
        snprintf(msg, sizeof msg, "invalid %s literal", name);
        return (syntax_error(m, msg), NULL);
    }
    if (base != 16 && *P->p >= '0' && *P->p <= '9') {
        snprintf(msg, sizeof msg, "invalid digit '%c' in %s literal", *P->p, name);
        return (syntax_error(here(P), msg), NULL);
    }
    if (is_ident((unsigned char)*P->p) && !keyword_follows(P->p)) {
        snprintf(msg, sizeof msg, "invalid %s literal", name);
        return (syntax_error(m, msg), NULL);
    }
    return st__int_from_digits(digits, (size_t)(P->p - digits), base, 0);
}

static st_value *parse_number(parser *P)
{
    mark m = here(P);
    const char *start = P->p;
    if (start[0] == '0' && strchr("xXoObB", start[1]) && start[1])
        return parse_prefixed_int(P, m);
    int is_float = 0;
    if (digitpart(P, 10) < 0)
        goto invalid;
    if (*P->p == '.') {
        is_float = 1;
        P->p++;
        if (*P->p == '_' || digitpart(P, 10) < 0)
            goto invalid;
    }
    if ((*P->p | 0x20) == 'e') {
        const char *e = P->p++;
        if (*P->p == '+' || *P->p == '-')
            P->p++;
        if (!(*P->p >= '0' && *P->p <= '9')) {
            if (keyword_follows(e)) { /* "1else": the number ends before the keyword */
                P->p = e;
                goto done;
            }
            goto invalid;
        }
        if (digitpart(P, 10) < 0)
            goto invalid;
        is_float = 1;
    }
    if ((*P->p | 0x20) == 'j')
        return (ST_RAISE(ST_EVALUE,
                         "complex numbers are not supported (line %d, column %d)", m.line,
                         column(m)),
                NULL);
done:
    if (is_ident((unsigned char)*P->p) && !keyword_follows(P->p))
        goto invalid;
    size_t len = (size_t)(P->p - start);
    if (is_float) {
        char *copy = st__malloc(len + 1), *w = copy;
        if (!copy)
            return NULL;
        for (const char *c = start; c < P->p; c++)
            if (*c != '_')
                *w++ = *c;
        *w = '\0';
        /* correctly rounded by the C library (glibc and musl), x87 or not */
        double d = strtod(copy, NULL);
        free(copy);
        return st_value_float(d);
    }
    size_t ndigits = 0, nonzero = 0;
    for (const char *c = start; c < P->p; c++) {
        ndigits += *c != '_';
        nonzero += *c >= '1' && *c <= '9';
    }
    if (start[0] == '0' && nonzero)
        return (syntax_error(m, "leading zeros in decimal integer literals are not permitted; "
                                "use an 0o prefix for octal integers"),
                NULL);
    if (ndigits > MAX_STR_DIGITS) {
        char msg[320];
        snprintf(msg, sizeof msg,
                 "Exceeds the limit (%d digits) for integer string conversion: value has %zu "
                 "digits; use sys.set_int_max_str_digits() to increase the limit - Consider "
                 "hexadecimal for huge integer literals to avoid decimal conversion limits.",
                 MAX_STR_DIGITS, ndigits);
        return (syntax_error(m, msg), NULL);
    }
    return st__int_from_digits(start, len, 10, 0);
invalid:
    return (syntax_error(m, "invalid decimal literal"), NULL);
}

/* ---- strings ----------------------------------------------------------------------------- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)(c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

typedef struct strbuf {
    st__buf b;
    size_t nchars;
} strbuf;

static int put_cp(strbuf *s, uint32_t cp)
{
    s->nchars++;
    return st__utf8_put(&s->b, cp);
}

/* Where p is in the text CPython's escape decoder sees: the parser first rewrites each
 * non-ASCII character of the literal as \UXXXXXXXX, after a backslash as \u005c\UXXXXXXXX. */
static size_t decoder_pos(const char *body, const char *p)
{
    size_t pos = 0;
    for (const unsigned char *c = (const unsigned char *)body; c < (const unsigned char *)p;) {
        if (*c == '\\') {
            pos += *++c >= 0x80 ? 6 : 1;
            if (c == (const unsigned char *)p)
                break;
        }
        pos += *c >= 0x80 ? 10 : 1;
        c += *c < 0x80 ? 1 : *c < 0xe0 ? 2 : *c < 0xf0 ? 3 : 4;
    }
    return pos;
}

/* The escape decoder's error for the escape at from, whose decoding stopped before end. */
static int unicode_error(mark m, const char *body, const char *from, const char *end,
                         const char *what)
{
    char msg[160];
    snprintf(msg, sizeof msg,
             "(unicode error) 'unicodeescape' codec can't decode bytes in position %zu-%zu: %s",
             decoder_pos(body, from), decoder_pos(body, end) - 1, what);
    return syntax_error(m, msg);
}

/* \N{name} at bs: the name runs to the first '}' before the end of the literal (which
 * starts at body, triple-quoted or not). An unterminated literal is left to the caller. */
static int named_escape(parser *P, strbuf *s, const char **pp, const char *body, int triple,
                        mark m)
{
    const char *bs = *pp, *c = bs + 2, *name = c + 1;
    char q = body[-1];
    uint32_t cp;
    if (*c == '{') {
        for (c = name; *c != '}'; c++) {
            if (*c == '\\' && c[1] != '}' && c[1] != '\0')
                c++; /* an escaped character cannot end the literal */
            else if (*c == '\0' || (*c == '\n' && !triple) ||
                     (*c == q && (!triple || (c[1] == q && c[2] == q))))
                break;
            if (*c == '\n') {
                P->line++;
                P->line_start = c + 1;
            }
        }
    }
    if (*c == '\0' || (*c == '\n' && !triple)) {
        *pp = c;
        return 0;
    }
    if (*c == '}' && c > name) {
        if (!st__unicode_lookup(name, (size_t)(c - name), &cp))
            return unicode_error(m, body, bs, c + 1, "unknown Unicode character name");
        *pp = c + 1;
        return put_cp(s, cp);
    }
    return unicode_error(m, body, bs, c, "malformed \\N character escape");
}

/* Decodes one escape after the backslash at *pp (body: start of the literal's text). */
static int escape(parser *P, strbuf *s, const char **pp, const char *body, int triple,
                  int is_bytes, mark m)
{
    const char *bs = *pp, *c = bs + 1;
    uint32_t v;
    int n;
    switch (*c) {
    case '\n':
        *pp = c + 1;
        P->line++;
        P->line_start = *pp;
        return 0;
    case '\\': case '\'': case '"':
        v = (unsigned char)*c;
        break;
    case 'a': v = 7; break;
    case 'b': v = 8; break;
    case 'f': v = 12; break;
    case 'n': v = 10; break;
    case 'r': v = 13; break;
    case 't': v = 9; break;
    case 'v': v = 11; break;
    case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7':
        v = 0;
        for (n = 0; n < 3 && *c >= '0' && *c <= '7'; n++, c++)
            v = v * 8 + (uint32_t)(*c - '0');
        *pp = c;
        if (is_bytes) {
            char byte = (char)(v & 0xff);
            s->nchars++;
            return st__buf_append(&s->b, &byte, 1);
        }
        return put_cp(s, v);
    case 'x':
    case 'u':
    case 'U':
        if (is_bytes && *c != 'x')
            goto unknown;
        n = *c == 'x' ? 2 : *c == 'u' ? 4 : 8;
        v = 0;
        for (int i = 0; i < n; i++) {
            int h = hexval(c[1 + i]);
            if (h < 0) {
                if (is_bytes) {
                    char msg[64];
                    snprintf(msg, sizeof msg, "(value error) invalid \\x escape at position %zu",
                             (size_t)(bs - body));
                    return syntax_error(m, msg);
                }
                return unicode_error(m, body, bs, c + 1 + i,
                                     n == 2 ? "truncated \\xXX escape"
                                     : n == 4 ? "truncated \\uXXXX escape"
                                              : "truncated \\UXXXXXXXX escape");
            }
            v = v * 16 + (uint32_t)h;
        }
        if (v > 0x10ffff)
            return unicode_error(m, body, bs, c + 9, "illegal Unicode character");
        *pp = c + 1 + n;
        if (is_bytes) {
            char byte = (char)v;
            s->nchars++;
            return st__buf_append(&s->b, &byte, 1);
        }
        return put_cp(s, v);
    case 'N':
        if (!is_bytes)
            return named_escape(P, s, pp, body, triple, m);
        goto unknown;
    default:
    unknown: /* an unknown escape keeps its backslash (CPython warns) */
        s->nchars++;
        if (st__buf_putc(&s->b, '\\') < 0)
            return -1;
        *pp = c;
        return 0;
    }
    *pp = c + 1;
    return put_cp(s, v);
}

/* Reads one literal's body, after its prefix: bytes or str, raw or not. */
static int string_body(parser *P, strbuf *s, int is_bytes, int raw, mark m)
{
    char q = *P->p;
    int triple = P->p[1] == q && P->p[2] == q;
    P->p += triple ? 3 : 1;
    const char *body = P->p, *c = P->p;
    const char *run = c;
#define FLUSH()                                                              \
    do {                                                                     \
        if (c > run && st__buf_append(&s->b, run, (size_t)(c - run)) < 0)     \
            return -1;                                                       \
    } while (0)
    for (;;) {
        unsigned char ch = (unsigned char)*c;
        if (ch == '\0' || (ch == '\n' && !triple)) {
            char msg[96];
            snprintf(msg, sizeof msg, "unterminated %sstring literal (detected at line %d)",
                     triple ? "triple-quoted " : "", P->line);
            return syntax_error(m, msg);
        }
        if (ch == (unsigned char)q && (!triple || (c[1] == q && c[2] == q))) {
            FLUSH();
            P->p = c + (triple ? 3 : 1);
            return 0;
        }
        if (ch >= 0x80 && is_bytes)
            return syntax_error(m, "bytes can only contain ASCII literal characters");
        if (ch == '\\') {
            if (raw) {
                /* the backslash stays, and the next character cannot end the literal */
                if (c[1] == '\0') {
                    c++; /* reported as unterminated on the next round */
                    continue;
                }
                c++;
                s->nchars++;
                if (*c == '\n') {
                    P->line++;
                    P->line_start = c + 1;
                }
                ch = (unsigned char)*c;
            } else {
                FLUSH();
                if (escape(P, s, &c, body, triple, is_bytes, m) < 0)
                    return -1;
                run = c;
                continue;
            }
        }
        if (ch == '\n') {
            P->line++;
            P->line_start = c + 1;
        }
        s->nchars += (ch & 0xc0) != 0x80;
        c++;
    }
#undef FLUSH
}

/* The prefix letters of a string literal starting at s, or -1 if s starts no literal.
 * Sets *is_bytes, *raw, *fstr. */
static int string_prefix(const char *s, int *is_bytes, int *raw, int *fstr)
{
    int n = 0, b = 0, r = 0, u = 0, f = 0;
    while (n < 3 && is_ident((unsigned char)s[n])) {
        char c = (char)(s[n] | 0x20);
        if (c == 'b' && !b)
            b = 1;
        else if (c == 'r' && !r)
            r = 1;
        else if (c == 'u' && !u)
            u = 1;
        else if (c == 'f' && !f)
            f = 1;
        else
            return -1;
        n++;
    }
    if ((s[n] != '\'' && s[n] != '"') || (u && n > 1) || (b && f))
        return -1;
    *is_bytes = b;
    *raw = r;
    *fstr = f;
    return n;
}

static int at_string(const char *s)
{
    int b, r, f;
    return string_prefix(s, &b, &r, &f) >= 0;
}

/* One or more adjacent string literals, concatenated. */
static st_value *parse_strings(parser *P)
{
    strbuf s = {ST__BUF_INIT, 0};
    int first_bytes = -1;
    mark first = here(P);
    while (at_string(P->p)) {
        mark m = here(P);
        int is_bytes, raw, fstr;
        P->p += string_prefix(P->p, &is_bytes, &raw, &fstr);
        if (fstr) {
            st__buf_free(&s.b);
            return (malformed(m, "f-string (JoinedStr)"), NULL);
        }
        if (first_bytes >= 0 && first_bytes != is_bytes) {
            st__buf_free(&s.b);
            return (syntax_error(first, "cannot mix bytes and nonbytes literals"), NULL);
        }
        first_bytes = is_bytes;
        if (string_body(P, &s, is_bytes, raw, m) < 0 || skip(P) < 0) {
            st__buf_free(&s.b);
            return NULL;
        }
    }
    if (first_bytes) {
        st_value *v = st_value_bytes(s.b.data, s.b.len);
        st__buf_free(&s.b);
        return v;
    }
    st_value *v = st__str_from_utf8(s.b.data ? s.b.data : "", s.b.len, s.nchars);
    st__buf_free(&s.b);
    return v;
}

/* ---- containers -------------------------------------------------------------------------- */

static int can_start_expr(const char *p)
{
    unsigned char c = (unsigned char)*p;
    return (c >= '0' && c <= '9') || (c == '.' && p[1] >= '0' && p[1] <= '9') || c == '\'' ||
           c == '"' || is_ident_start(c) || c == '(' || c == '[' || c == '{' || c == '-' ||
           c == '+' || c == '~' || c == '*';
}

/* After an item inside brackets: the closer (consumed, returns 1), a comma (consumed, 0), or
 * an error naming what is wrong. */
static int expect_sep(parser *P, char closer, mark open)
{
    if (skip(P) < 0)
        return -1;
    char c = *P->p;
    if (c == closer) {
        P->p++;
        P->depth--;
        return 1;
    }
    if (c == ',') {
        P->p++;
        return skip(P) < 0 ? -1 : 0;
    }
    char msg[96];
    if (c == '\0') {
        snprintf(msg, sizeof msg, "'%c' was never closed", *open.at);
        return syntax_error(open, msg);
    }
    if (c == ')' || c == ']' || c == '}') {
        snprintf(msg, sizeof msg, "closing parenthesis '%c' does not match opening parenthesis '%c'",
                 c, *open.at);
        return syntax_error(here(P), msg);
    }
    if (c == ':' || c == '=')
        return syntax_error(here(P), "invalid syntax");
    if (c == '.' || c == '(' || c == '[')
        return malformed(here(P), c == '.' ? "attribute access" : c == '(' ? "call" : "subscript");
    if (can_start_expr(P->p) && !keyword_follows(P->p))
        return syntax_error(here(P), "invalid syntax. Perhaps you forgot a comma?");
    return malformed(here(P), "an operator or keyword expression");
}

static int open_bracket(parser *P, mark *open)
{
    *open = here(P);
    if (P->depth >= MAX_NESTING)
        return syntax_error(*open, "too many nested parentheses");
    P->depth++;
    P->p++;
    return skip(P);
}

/* [items] or (items): a list, or a tuple unless it is one parenthesized item. */
static st_value *parse_sequence(parser *P, node *kind)
{
    char closer = *P->p == '[' ? ']' : ')';
    mark open;
    if (open_bracket(P, &open) < 0)
        return NULL;
    st_value *list = st_value_list();
    if (!list)
        return NULL;
    int commas = 0, r = 0;
    node first_kind = N_CONTAINER;
    *kind = N_CONTAINER;
    if (*P->p == closer) {
        P->p++;
        P->depth--;
    } else {
        for (;;) {
            node k;
            if (*P->p == '\0') {
                char msg[32];
                snprintf(msg, sizeof msg, "'%c' was never closed", *open.at);
                r = syntax_error(open, msg);
                break;
            }
            if (*P->p == ',' || *P->p == closer) {
                r = syntax_error(here(P), "invalid syntax");
                break;
            }
            r = st_value_list_append_steal(list, parse_expr(P, &k));
            if (!commas)
                first_kind = k;
            if (r < 0 || (r = expect_sep(P, closer, open)) != 0)
                break;
            commas++;
            if (*P->p == closer) {
                P->p++;
                P->depth--;
                break;
            }
        }
        if (r < 0)
            return (st_value_unref(list), NULL);
        if (closer == ')' && !commas) { /* (x) is x itself, node kind included */
            size_t n;
            st_value *inner = st_value_ref(st__items(list, &n)[0]);
            st_value_unref(list);
            *kind = first_kind;
            return inner;
        }
    }
    if (closer == ')')
        st__list_to_tuple(list);
    return list;
}

/* {} dict or {a, b} set. */
static st_value *parse_braces(parser *P)
{
    mark open;
    if (open_bracket(P, &open) < 0)
        return NULL;
    if (*P->p == '}') {
        P->p++;
        P->depth--;
        return st_value_dict();
    }
    node k;
    if (*P->p == '*')
        return (malformed(here(P), "dict unpacking"), NULL);
    st_value *first = parse_expr(P, &k);
    if (!first || skip(P) < 0)
        return (st_value_unref(first), NULL);
    int is_dict = *P->p == ':';
    st_value *c = is_dict ? st_value_dict() : st_value_set();
    if (!c)
        return (st_value_unref(first), NULL);
    int r;
    for (;;) {
        if (is_dict) {
            if (*P->p != ':') {
                st_value_unref(first);
                r = *P->p == ',' || *P->p == '}' ? syntax_error(here(P), "':' expected after dictionary key")
                                                : expect_sep(P, '}', open);
                if (r >= 0)
                    r = syntax_error(here(P), "invalid syntax");
                break;
            }
            P->p++;
            if (skip(P) < 0) {
                st_value_unref(first);
                r = -1;
                break;
            }
            r = st_value_dict_set_steal(c, first, parse_expr(P, &k));
        } else {
            r = st_value_set_add_steal(c, first);
        }
        if (r < 0 || (r = expect_sep(P, '}', open)) != 0)
            break;
        if (*P->p == '}') {
            P->p++;
            P->depth--;
            r = 1;
            break;
        }
        if (*P->p == '*') {
            r = malformed(here(P), "dict unpacking");
            break;
        }
        if (!can_start_expr(P->p)) {
            r = syntax_error(here(P), "invalid syntax");
            break;
        }
        first = parse_expr(P, &k);
        if (!first || skip(P) < 0) {
            st_value_unref(first);
            r = -1;
            break;
        }
    }
    if (r < 0)
        return (st_value_unref(c), NULL);
    return c;
}

/* ---- expressions ------------------------------------------------------------------------- */

static int word_is(const char *p, const char *w)
{
    size_t n = strlen(w);
    return strncmp(p, w, n) == 0 && !is_ident((unsigned char)p[n]);
}

static st_value *parse_name(parser *P)
{
    mark m = here(P);
    if (word_is(P->p, "True") || word_is(P->p, "None") || word_is(P->p, "False")) {
        char c = *P->p;
        P->p += c == 'F' ? 5 : 4;
        return c == 'T' ? st_value_bool(1) : c == 'F' ? st_value_bool(0) : st_value_none();
    }
    if (word_is(P->p, "set")) {
        parser save = *P;
        P->p += 3;
        if (skip(P) == 0 && *P->p == '(') {
            mark open;
            if (open_bracket(P, &open) < 0)
                return NULL;
            if (*P->p == ')') {
                P->p++;
                P->depth--;
                return st_value_set();
            }
        }
        *P = save;
        return (malformed(m, "call or name 'set'"), NULL);
    }
    const char *e = P->p;
    while (is_ident((unsigned char)*e))
        e++;
    if (*e == '\'' || *e == '"') /* a prefix Python does not know, like ur'' */
        return (syntax_error(m, "invalid syntax"), NULL);
    char what[80];
    snprintf(what, sizeof what, "name '%.*s'", (int)(e - P->p) > 40 ? 40 : (int)(e - P->p), P->p);
    return (malformed(m, what), NULL);
}

static st_value *parse_atom(parser *P, node *kind)
{
    unsigned char c = (unsigned char)*P->p;
    *kind = N_CONSTANT;
    if ((c >= '0' && c <= '9') || (c == '.' && P->p[1] >= '0' && P->p[1] <= '9'))
        return parse_number(P);
    if (at_string(P->p))
        return parse_strings(P);
    if (is_ident_start(c))
        return parse_name(P);
    if (c == '(' || c == '[')
        return parse_sequence(P, kind);
    if (c == '{') {
        *kind = N_CONTAINER;
        return parse_braces(P);
    }
    mark m = here(P);
    if (c == '~' || c == '*' || c == '-' || c == '+')
        return (malformed(m, c == '~' ? "unary operator '~'" : c == '*' ? "starred expression"
                                                                       : "nested unary operator"),
                NULL);
    if (c == '\0' || c == '\n')
        return (syntax_error(m, "invalid syntax"), NULL);
    if (c == ')' || c == ']' || c == '}') {
        char msg[32];
        snprintf(msg, sizeof msg, "unmatched '%c'", c);
        return (syntax_error(m, msg), NULL);
    }
    return (syntax_error(m, "invalid syntax"), NULL);
}

/* [+|-] atom, then nothing that would make it a larger expression. */
static st_value *parse_expr(parser *P, node *kind)
{
    mark m = here(P);
    st_value *v;
    if (*P->p == '-' || *P->p == '+') {
        int minus = *P->p == '-';
        P->p++;
        if (skip(P) < 0)
            return NULL;
        node inner;
        mark om = here(P);
        v = parse_atom(P, &inner);
        if (!v)
            return NULL;
        st_value_type vk = st__kind(v);
        if (inner != N_CONSTANT || (vk != ST_VALUE_INT && vk != ST_VALUE_FLOAT)) {
            st_value_unref(v);
            return (malformed(om, "operand of unary +/- that is not a number"), NULL);
        }
        if (minus) {
            st_value *n = vk == ST_VALUE_FLOAT ? st_value_float(-st__float_value(v))
                                               : st__int_negate(v);
            st_value_unref(v);
            v = n;
        }
        *kind = N_UNARY;
    } else {
        v = parse_atom(P, kind);
    }
    if (!v || skip(P) < 0)
        return (st_value_unref(v), NULL);
    char c = *P->p;
    if (c == '.' || c == '(' || c == '[' ||
        (c && strchr("+-*/%@&|^<>=!", c) && !(c == '=' && P->p[1] != '=')) ||
        keyword_follows(P->p)) {
        st_value_unref(v);
        return (malformed(m, c == '.' ? "attribute access" : c == '(' ? "call"
                             : c == '['                             ? "subscript"
                                                                    : "operator expression"),
                NULL);
    }
    return v;
}

/* expr (',' expr)* [','] at the top level: a tuple when there is a comma. */
static st_value *parse_top(parser *P)
{
    node k;
    st_value *first = parse_expr(P, &k);
    if (!first || skip(P) < 0)
        return (st_value_unref(first), NULL);
    if (*P->p != ',')
        return first;
    st_value *t = st_value_list();
    if (!t || st_value_list_append_steal(t, first) < 0)
        return (st_value_unref(t), NULL);
    while (*P->p == ',') {
        P->p++;
        if (skip(P) < 0)
            return (st_value_unref(t), NULL);
        if (!can_start_expr(P->p))
            break;
        if (st_value_list_append_steal(t, parse_expr(P, &k)) < 0 || skip(P) < 0)
            return (st_value_unref(t), NULL);
    }
    st__list_to_tuple(t);
    return t;
}

/* CPython parses a copy whose line ends are all "\n". */
static char *normalize(const char *text)
{
    size_t n = strlen(text);
    char *s = st__malloc(n + 1), *w = s;
    if (!s)
        return NULL;
    for (const char *c = text; *c; c++) {
        if (*c == '\r') {
            *w++ = '\n';
            if (c[1] == '\n')
                c++;
        } else {
            *w++ = *c;
        }
    }
    *w = '\0';
    /* The text is a Python str: it must be valid UTF-8. */
    size_t len = (size_t)(w - s);
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t k = st__utf8_decode((const unsigned char *)s + i, len - i, 0, &cp);
        if (!k) {
            st__utf8_error((const unsigned char *)s, len, i, 0);
            free(s);
            return NULL;
        }
        i += k;
    }
    return s;
}

st_value *st_value_parse(const char *text)
{
    char *src = normalize(text);
    if (!src)
        return (ST_TRACE(), NULL);
    parser P = {src, src, 1, 0};
    while (*P.p == ' ' || *P.p == '\t') /* literal_eval strips these first */
        P.p++;
    /* Blank lines before the expression are skipped; an indented first line is an error. */
    for (;;) {
        const char *line = P.p;
        while (*P.p == ' ' || *P.p == '\t' || *P.p == '\f')
            P.p++;
        if (*P.p == '#')
            while (*P.p && *P.p != '\n')
                P.p++;
        if (*P.p != '\n') {
            if (P.p != line && P.line > 1 && *P.p) {
                syntax_error_as(here(&P), "IndentationError", "unexpected indent");
                free(src);
                return (ST_TRACE(), NULL);
            }
            break;
        }
        P.p++;
        newline(&P);
    }
    st_value *v = skip(&P) < 0 ? NULL : parse_top(&P);
    if (v) {
        /* only blank lines and comments may follow */
        while (*P.p == '\n') {
            P.p++;
            newline(&P);
            if (skip(&P) < 0) {
                st_value_unref(v);
                v = NULL;
                break;
            }
        }
        if (v && *P.p) {
            char c = *P.p;
            char msg[32];
            snprintf(msg, sizeof msg, "unmatched '%c'", c);
            syntax_error(here(&P), c == ')' || c == ']' || c == '}' ? msg : "invalid syntax");
            st_value_unref(v);
            v = NULL;
        }
    }
    free(src);
    return v ? v : (ST_TRACE(), NULL);
}
