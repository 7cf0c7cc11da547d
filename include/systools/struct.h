/**
 * @file systools/struct.h
 * @brief Python's struct module: pack C values into bytes and back, with the struct format language.
 */
#ifndef SYSTOOLS_STRUCT_H
#define SYSTOOLS_STRUCT_H

#include <stdarg.h>
#include <sys/types.h>

#include "common.h"
#include "value.h"

/**
 * @defgroup struct struct: binary records with Python's format strings
 * @brief Mirrors Python's `struct` module, with CPython 3.13's rules and error messages.
 *
 * A format is compiled once with st_struct_new() (like `struct.Struct`); packing and unpacking
 * then take C values through `...`, the way printf() and scanf() do, and never allocate.
 * Every format of Python is accepted: the prefixes `@ = < > !` (native size and alignment under
 * `@` or no prefix only), the codes `x c b B ? h H i I l L q Q n N e f d s p P` with repeat
 * counts (a count before `s` or `p` is a length), whitespace between items.
 *
 * Arguments per code (a count repeats the argument, except for `s` and `p`):
 *
 * | code  | pack takes                         | unpack takes                         |
 * |-------|------------------------------------|--------------------------------------|
 * | x     | nothing                            | nothing                              |
 * | c     | int (the byte, -128..255)          | char *                               |
 * | b h i | int                                | int *                                |
 * | B H I | unsigned int                       | unsigned int *                       |
 * | ?     | int (truth value)                  | bool *                               |
 * | l L   | long / unsigned long               | long * / unsigned long *             |
 * | q Q   | long long / unsigned long long     | long long * / unsigned long long *   |
 * | n N   | ssize_t / size_t                   | ssize_t * / size_t *                 |
 * | P     | void *                             | void **                              |
 * | e f d | double                             | double *                             |
 * | Ns    | const void *data, size_t len       | void *dst (receives exactly N bytes) |
 * | Np    | const void *data, size_t len       | void *dst, size_t *len               |
 *
 * `Ns` copies at most N bytes of data and pads with NUL bytes; `Np` writes a Pascal string:
 * a length byte (at most 255) and at most N-1 bytes of data, NUL-padded; its unpack copies the
 * string (at most N-1 bytes, so @p dst needs room for N-1) and stores its length.
 *
 * The value path, st_struct_unpack_values() and st_struct_pack_values(), trades speed for
 * Python's exact types: a tuple of ::st_value in, or out, as `struct.unpack` returns it.
 *
 * A value outside the range of its code is an error, as in Python: struct.error
 * ("'h' format requires -32768 <= number <= 32767"), or OverflowError for a float too large
 * for `e` (or `f` with a standard size). Errors of the struct module have the code ST_EFORMAT
 * and the type name "struct.error". On error the output buffer's contents are unspecified.
 *
 * @code
 * st_struct *rec = st_struct_new("<IhdQ8s");
 * unsigned char buf[30];
 * st_struct_pack(rec, buf, sizeof buf, 7u, -2, 1.5, 42ull, "name", (size_t)4);
 * unsigned int id; int delta; double x; unsigned long long n; char name[8];
 * st_struct_unpack(rec, buf, st_struct_size(rec), &id, &delta, &x, &n, name);
 * st_struct_free(rec);
 * @endcode
 * @{
 */

#ifdef __cplusplus
extern "C" {
#endif

/** @brief A compiled format. Mirrors `struct.Struct`; immutable, so it may be shared by threads. */
typedef struct st_struct st_struct;

/** @brief An iterator over consecutive records of a buffer. Mirrors `Struct.iter_unpack()`'s iterator. */
typedef struct st_struct_unpack_iterator st_struct_unpack_iterator;

/**
 * @brief The size of the record a format describes. Mirrors `struct.calcsize(format)`.
 * @param format The format string.
 * @return The size in bytes, or -1: ST_EFORMAT (struct.error: "bad char in struct format",
 *         "repeat count given without format specifier", "total struct size too long"),
 *         ST_ETYPE when @p format is NULL.
 */
ST_API ssize_t st_struct_calcsize(const char *format);

/**
 * @brief Compiles a format. Mirrors `struct.Struct(format)`.
 * @param format The format string (copied).
 * @return A handle the caller frees with st_struct_free(), or NULL with the errors of
 *         st_struct_calcsize() or ST_ENOMEM.
 */
ST_API st_struct *st_struct_new(const char *format);

/**
 * @brief The record size. Mirrors `Struct.size`.
 * @param s A compiled format.
 * @return The size in bytes.
 */
ST_API size_t st_struct_size(const st_struct *s);

/**
 * @brief The format string. Mirrors `Struct.format`.
 * @param s A compiled format.
 * @return The string given to st_struct_new(), owned by @p s.
 */
ST_API const char *st_struct_format(const st_struct *s);

/**
 * @brief Frees a compiled format.
 * @param s The handle, or NULL (then nothing happens).
 */
ST_API void st_struct_free(st_struct *s);

/**
 * @brief Packs values into a buffer. Mirrors `Struct.pack(v1, v2, ...)`.
 *
 * Writes exactly st_struct_size() bytes at the start of @p buf: alignment padding, `x` bytes
 * and the rest of `s`/`p` fields are zero, as Python writes them. Never allocates.
 * @param s A compiled format.
 * @param buf Where to write.
 * @param buflen Bytes available at @p buf; less than the record size is struct.error
 *        ("pack_into requires a buffer of at least N bytes ...", as pack_into at offset 0).
 * @param ... One argument per value, of the types in the table of the module.
 * @return 0, or -1: ST_EFORMAT for a value out of range, ST_EOVERFLOW (OverflowError
 *         "float too large to pack with e format") for a float too large.
 */
ST_API int st_struct_pack(const st_struct *s, void *buf, size_t buflen, ...);

/**
 * @brief st_struct_pack() with a `va_list`, for wrappers.
 * @param s A compiled format.
 * @param buf Where to write.
 * @param buflen Bytes available at @p buf.
 * @param ap The values, as st_struct_pack() takes them.
 * @return 0, or -1 as st_struct_pack().
 */
ST_API int st_struct_vpack(const st_struct *s, void *buf, size_t buflen, va_list ap);

/**
 * @brief Packs values at an offset of a buffer. Mirrors `Struct.pack_into(buffer, offset, ...)`.
 * @param s A compiled format.
 * @param buf The buffer.
 * @param buflen Its size in bytes.
 * @param offset Where the record starts; negative counts from the end of the buffer.
 * @param ... The values, as st_struct_pack() takes them.
 * @return 0, or -1: ST_EFORMAT with Python's messages when the record does not fit
 *         ("no space to pack 4 bytes at offset -1", "offset -20 out of range for 10-byte buffer",
 *         "pack_into requires a buffer of at least 12 bytes for packing 4 bytes at offset 8
 *         (actual buffer size is 10)"), or the errors of st_struct_pack().
 */
ST_API int st_struct_pack_into(const st_struct *s, void *buf, size_t buflen, ssize_t offset, ...);

/**
 * @brief Unpacks a record into C variables. Mirrors `Struct.unpack(buffer)`.
 * @param s A compiled format.
 * @param buf The record.
 * @param buflen Its size, which must equal the record size, as in Python.
 * @param ... One pointer per value (two for `p`), of the types in the table of the module.
 * @return 0, or -1 with ST_EFORMAT "unpack requires a buffer of N bytes".
 */
ST_API int st_struct_unpack(const st_struct *s, const void *buf, size_t buflen, ...);

/**
 * @brief st_struct_unpack() with a `va_list`, for wrappers.
 * @param s A compiled format.
 * @param buf The record.
 * @param buflen Its size.
 * @param ap The destinations, as st_struct_unpack() takes them.
 * @return 0, or -1 as st_struct_unpack().
 */
ST_API int st_struct_vunpack(const st_struct *s, const void *buf, size_t buflen, va_list ap);

/**
 * @brief Unpacks a record at an offset of a buffer. Mirrors `Struct.unpack_from(buffer, offset)`.
 * @param s A compiled format.
 * @param buf The buffer.
 * @param buflen Its size; the record must fit between @p offset and the end.
 * @param offset Where the record starts; negative counts from the end of the buffer.
 * @param ... The destinations, as st_struct_unpack() takes them.
 * @return 0, or -1: ST_EFORMAT with Python's messages ("not enough data to unpack 4 bytes at
 *         offset -1", "offset -20 out of range for 10-byte buffer", "unpack_from requires a
 *         buffer of at least 12 bytes for unpacking 4 bytes at offset 8 (actual buffer size is 10)").
 */
ST_API int st_struct_unpack_from(const st_struct *s, const void *buf, size_t buflen, ssize_t offset, ...);

/**
 * @brief Unpacks a record into a tuple of Python values. Mirrors `Struct.unpack(buffer)`.
 *
 * Integers become int (c: bytes of length 1, ?: bool), e f d float, s and p bytes: the tuple
 * prints with st_value_repr() exactly as Python prints the result of `struct.unpack`.
 * @param s A compiled format.
 * @param buf The record.
 * @param buflen Its size, which must equal the record size.
 * @return A new tuple the caller releases with st_value_unref(), or NULL: ST_EFORMAT
 *         "unpack requires a buffer of N bytes", ST_ENOMEM.
 */
ST_API st_value *st_struct_unpack_values(const st_struct *s, const void *buf, size_t buflen);

/**
 * @brief Packs a tuple of Python values. Mirrors `Struct.pack(*values)`.
 *
 * Accepts what Python's struct.pack accepts: int or bool for integer codes, float, int or
 * bool for e f d, bytes or bytearray for s and p, bytes of length 1 for c, any value for `?`
 * (its truth). Values are converted and checked in order, so the first bad value is the
 * error, with Python's message ("required argument is not an integer", "'B' format requires
 * 0 <= number <= 255", "argument for 's' must be a bytes object", ...).
 * @param s A compiled format.
 * @param values A tuple (or list) with one value per item of the format.
 * @param buf Where to write st_struct_size() bytes.
 * @param buflen Bytes available at @p buf.
 * @return 0, or -1: ST_EFORMAT (struct.error, including "pack expected N items for packing
 *         (got M)"), ST_EOVERFLOW (a float too large for e, or f with a standard size),
 *         ST_ETYPE when @p values is not a tuple or list, ST_ENOMEM.
 */
ST_API int st_struct_pack_values(const st_struct *s, const st_value *values, void *buf, size_t buflen);

/**
 * @brief Starts iterating over the records of a buffer. Mirrors `Struct.iter_unpack(buffer)`.
 *
 * The iterator borrows @p s and @p buf: both must outlive it.
 * @param s A compiled format.
 * @param buf The records, back to back.
 * @param buflen Their total size: a multiple of the record size.
 * @return An iterator the caller frees with st_struct_unpack_iterator_free(), or NULL: ST_EFORMAT
 *         ("cannot iteratively unpack with a struct of length 0", "iterative unpacking requires
 *         a buffer of a multiple of N bytes"), ST_ENOMEM.
 */
ST_API st_struct_unpack_iterator *st_struct_iter_unpack(const st_struct *s, const void *buf, size_t buflen);

/**
 * @brief Unpacks the next record. Mirrors `next()` on the iterator of `iter_unpack`.
 *
 * The item is the record itself, stored through the destination pointers, which the caller
 * owns (bytes of `s` and `p` are copied into the caller's buffers).
 * @code
 * int rc;
 * while ((rc = st_struct_unpack_iterator_next(it, &id, &x)) > 0)
 *     use(id, x);
 * if (rc < 0) ...;                  // the error is set
 * @endcode
 * @param it The iterator.
 * @param ... The destinations, as st_struct_unpack() takes them.
 * @return 1 when a record was unpacked, 0 when there are no more (StopIteration; the
 *         destinations are left alone), -1 with ST_ETYPE when @p it is NULL (a record already
 *         checked at st_struct_iter_unpack() cannot fail to unpack).
 */
ST_API int st_struct_unpack_iterator_next(st_struct_unpack_iterator *it, ...);

/**
 * @brief How many records are left. Mirrors the iterator's `__length_hint__()`.
 * @param it The iterator.
 * @return The number of records st_struct_unpack_iterator_next() will still return.
 */
ST_API size_t st_struct_unpack_iterator_length_hint(const st_struct_unpack_iterator *it);

/**
 * @brief Frees an iterator.
 * @param it The iterator, or NULL (then nothing happens).
 */
ST_API void st_struct_unpack_iterator_free(st_struct_unpack_iterator *it);

/**
 * @brief Packs values with a format string. Mirrors `struct.pack(format, v1, v2, ...)`.
 *
 * Behaves as st_struct_pack() with a format compiled for the call. Like Python's own cache of
 * compiled formats, each thread keeps its last few short formats (under 32 characters, up to 16
 * runs of codes) compiled, found again by the format's address and text, so calling this in a
 * loop with a literal format costs little more than st_struct_pack(). Other formats compile on
 * the stack (no allocation unless they have more than a few dozen runs). The same holds for
 * st_struct_pack_into_fmt(), st_struct_unpack_fmt() and st_struct_unpack_from_fmt().
 * @param format The format string.
 * @param buf Where to write.
 * @param buflen Bytes available at @p buf.
 * @param ... The values.
 * @return 0, or -1 with the errors of st_struct_calcsize() and st_struct_pack().
 */
ST_API int st_struct_pack_fmt(const char *format, void *buf, size_t buflen, ...);

/**
 * @brief Packs values at an offset with a format string.
 *        Mirrors `struct.pack_into(format, buffer, offset, v1, v2, ...)`.
 * @param format The format string.
 * @param buf The buffer.
 * @param buflen Its size.
 * @param offset Where the record starts; negative counts from the end.
 * @param ... The values.
 * @return 0, or -1 with the errors of st_struct_calcsize() and st_struct_pack_into().
 */
ST_API int st_struct_pack_into_fmt(const char *format, void *buf, size_t buflen, ssize_t offset, ...);

/**
 * @brief Unpacks a record with a format string. Mirrors `struct.unpack(format, buffer)`.
 * @param format The format string.
 * @param buf The record.
 * @param buflen Its size, which must equal calcsize(format).
 * @param ... The destinations.
 * @return 0, or -1 with the errors of st_struct_calcsize() and st_struct_unpack().
 */
ST_API int st_struct_unpack_fmt(const char *format, const void *buf, size_t buflen, ...);

/**
 * @brief Unpacks a record at an offset with a format string.
 *        Mirrors `struct.unpack_from(format, buffer, offset)`.
 * @param format The format string.
 * @param buf The buffer.
 * @param buflen Its size.
 * @param offset Where the record starts; negative counts from the end.
 * @param ... The destinations.
 * @return 0, or -1 with the errors of st_struct_calcsize() and st_struct_unpack_from().
 */
ST_API int st_struct_unpack_from_fmt(const char *format, const void *buf, size_t buflen, ssize_t offset, ...);

#ifdef __cplusplus
}
#endif

/** @} */

#endif
