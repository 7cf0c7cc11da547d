/* Internal: UTF-8 and code point helpers (lib/value/utf8.c). Never installed. */
#ifndef ST_INTERNAL_UTF8_H
#define ST_INTERNAL_UTF8_H

#include <stddef.h>
#include <stdint.h>

#include "mem.h"

/* The number of leading bytes below 0x80 among the first n: a word at a time (four for long
 * runs); an all-ASCII str of up to 16 bytes costs two overlapping loads. */
static ST__INLINE size_t st__ascii_prefix(const unsigned char *s, size_t n)
{
    const uint64_t high = UINT64_C(0x8080808080808080);
    size_t i = 0;
    if (n < 8) {
        uint32_t x, y;
        if (n >= 4) {
            memcpy(&x, s, 4);
            memcpy(&y, s + n - 4, 4);
            if (!((x | y) & (uint32_t)high))
                return n;
        } else if (!n || !((s[0] | s[n / 2] | s[n - 1]) & 0x80)) {
            return n;
        }
    } else if (n <= 16) {
        uint64_t a, b;
        memcpy(&a, s, 8);
        memcpy(&b, s + n - 8, 8);
        if (!((a | b) & high))
            return n;
    } else {
        for (; i + 32 <= n; i += 32) { /* the common case of a long text is all ASCII */
            uint64_t w[4];
            memcpy(w, s + i, 32);
            if ((w[0] | w[1] | w[2] | w[3]) & high)
                break;
        }
        uint64_t w = 0;
        for (; i + 8 <= n; i += 8) {
            memcpy(&w, s + i, 8);
            if (w & high)
                break;
        }
        if (i + 8 > n) { /* the last word, overlapping the one before */
            memcpy(&w, s + n - 8, 8);
            if (!(w & high))
                return n;
        }
    }
    while (i < n && s[i] < 0x80)
        i++;
    return i;
}

/* Decodes one UTF-8 sequence at s (len > 0 bytes left). Allows encoded surrogates when
 * surrogates != 0. Returns its length and stores the code point, or 0 if invalid. */
size_t st__utf8_decode(const unsigned char *s, size_t len, int surrogates, uint32_t *cp);
/* The length (>= 1) of the maximal invalid subpart at s[i], as CPython's decoder counts it (one
 * U+FFFD each under 'replace'), and *reason its message; "unexpected end of data" means the
 * bytes could still become a character. */
size_t st__utf8_invalid(const unsigned char *s, size_t len, size_t i, int surrogates,
                        const char **reason);
/* Raises CPython's UnicodeDecodeError for the bytes at [start, end) of an encoding, the first
 * of them being first; returns -1. */
int st__unicode_decode_error(const char *encoding, unsigned char first, size_t start, size_t end,
                             const char *reason);
/* Raises CPython's UnicodeDecodeError for the undecodable sequence at s[i]; returns -1. */
int st__utf8_error(const unsigned char *s, size_t len, size_t i, int surrogates);
/* Appends the UTF-8 encoding of cp (surrogates encoded like 'surrogatepass'). */
int st__utf8_put(st__buf *b, uint32_t cp);
/* Python's str.isprintable() for one code point. */
int st__unicode_isprintable(uint32_t cp);

#endif
