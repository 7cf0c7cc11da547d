/* Internal: UTF-8 and code point helpers (lib/value/utf8.c). Never installed. */
#ifndef ST_INTERNAL_UTF8_H
#define ST_INTERNAL_UTF8_H

#include <stddef.h>
#include <stdint.h>

#include "mem.h"

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
