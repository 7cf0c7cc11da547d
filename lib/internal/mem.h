/* Internal: allocation that raises ST_ENOMEM, a growable byte buffer and a string-vector builder. */
#ifndef ST_INTERNAL_MEM_H
#define ST_INTERNAL_MEM_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "compiler.h"
#include "error.h"

/* malloc/calloc/realloc/strdup that raise ST_ENOMEM on failure (and on size overflow). */
void *st__malloc(size_t n);
void *st__calloc(size_t n, size_t size);
void *st__realloc(void *p, size_t n);
void *st__reallocarray(void *p, size_t n, size_t size);
/* Doubles the capacity of an array of elem-sized items (to first when it has none): returns the
 * moved array with *cap updated, or NULL with ST_ENOMEM leaving both as they were. */
void *st__grow(void *items, size_t *cap, size_t elem, size_t first);
char *st__strdup(const char *s);
char *st__strndup(const char *s, size_t n);
char *st__asprintf(const char *fmt, ...) ST__PRINTF(1, 2);

/* memcpy of the few bytes of a short str, bytes or field without a call (the call costs more
 * than the copy, and a hot caller that makes none saves no registers): two moves that overlap
 * cover any length from w to 2w; longer ones go 16 bytes at a time. */
static ST__INLINE void st__copy_short(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (n > 16) {
        for (size_t i = 0; i + 16 < n; i += 16)
            memcpy(d + i, s + i, 16);
        memcpy(d + n - 16, s + n - 16, 16);
    } else if (n >= 8) {
        uint64_t a, b;
        memcpy(&a, s, 8);
        memcpy(&b, s + n - 8, 8);
        memcpy(d, &a, 8);
        memcpy(d + n - 8, &b, 8);
    } else if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        memcpy(d, &a, 4);
        memcpy(d + n - 4, &b, 4);
    } else if (n) {
        d[0] = s[0];
        d[n / 2] = s[n / 2];
        d[n - 1] = s[n - 1];
    }
}

/* A growable buffer, always NUL-terminated once non-empty. Zero-initialise with ST__BUF_INIT. */
typedef struct st__buf {
    char *data;
    size_t len;
    size_t cap;
} st__buf;
#define ST__BUF_INIT {NULL, 0, 0}

int st__buf_reserve(st__buf *b, size_t extra);
int st__buf_append(st__buf *b, const void *p, size_t n);
int st__buf_puts(st__buf *b, const char *s);
int st__buf_putc(st__buf *b, char c);
int st__buf_printf(st__buf *b, const char *fmt, ...) ST__PRINTF(2, 3);
int st__buf_vprintf(st__buf *b, const char *fmt, va_list ap);
/* Hands the NUL-terminated contents to the caller (st_free) and resets b; "" if empty. */
char *st__buf_detach(st__buf *b);
void st__buf_free(st__buf *b);

/* Builds a NULL-terminated string vector. Zero-initialise with ST__STRV_INIT. */
typedef struct st__strv {
    char **v;
    size_t len;
    size_t cap;
} st__strv;
#define ST__STRV_INIT {NULL, 0, 0}

int st__strv_push(st__strv *sv, const char *s);      /* copies s */
int st__strv_push_owned(st__strv *sv, char *s);      /* takes s; frees it on failure */
int st__strv_insert(st__strv *sv, size_t at, const char *s);
void st__strv_remove(st__strv *sv, size_t at);       /* frees the string */
/* Hands the vector to the caller (st_strv_free); an empty vector when nothing was pushed. */
const char **st__strv_detach(st__strv *sv);
void st__strv_free(st__strv *sv);
/* A deep copy of a NULL-terminated vector (st_strv_free). */
const char **st__strv_dup(const char *const *v);

#endif
