/**
 * @file systools/struct.h
 * @brief Python's struct module: pack C values into bytes and back, with the struct format language.
 */
#ifndef SYSTOOLS_STRUCT_H
#define SYSTOOLS_STRUCT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
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
 * **Records, the recommended C path.** The variadic functions cannot check their arguments
 * against the format, as printf() cannot: `st_struct_pack_fmt("<d", buf, 8, 1)` reads a double
 * where an int was passed and packs garbage (0.0 on x86-64) without a word; a `long long` for
 * `i` or a missing length after the data of `s` go wrong the same way. A record binds the format
 * to a C struct once, through a field table that the compiler fills (offsetof, sizeof and the
 * member's type class), and st_struct_record_new() refuses any field whose size, signedness or
 * kind does not match its item. Packing then takes the struct, and arrays of structs move
 * between memory, buffers and descriptors at memory speed:
 * @code
 * struct sample { uint32_t id; int16_t delta; double x; uint64_t n; char tag[8]; };
 * static const st_struct_field sample_fields[] = {
 *     ST_STRUCT_FIELD(struct sample, id), ST_STRUCT_FIELD(struct sample, delta),
 *     ST_STRUCT_FIELD(struct sample, x), ST_STRUCT_FIELD(struct sample, n),
 *     ST_STRUCT_ARRAY(struct sample, tag),
 * };
 * st_struct_record *rec = ST_STRUCT_RECORD_NEW("<IhdQ8s", struct sample, sample_fields);
 * struct sample s = {7, -2, 1.5, 42, "name"};
 * unsigned char buf[30];
 * st_struct_record_pack(rec, &s, buf, sizeof buf);           // 30 bytes, little-endian
 * st_struct_record_write(rec, fd, samples, nsamples);         // a whole array
 * st_struct_record_free(rec);
 * @endcode
 *
 * **Codecs, the fastest C path.** ST_STRUCT_CODEC() generates a record's pack and unpack for
 * one struct at compile time, from an X-macro list of its members: straight code with the offsets
 * as constants, no plan to interpret, byte for byte what the record writes, and checked at setup
 * through the same record. Where a record takes about 1.5 times a hand-written function, a codec
 * takes about as long as one (bench_struct), for standard byte orders and the plain codes:
 * @code
 * #define SAMPLE(X) X(id, "I") X(delta, "h") X(x, "d") X(n, "Q") X(tag, "8s")
 * ST_STRUCT_CODEC(sample, struct sample, "<", SAMPLE);
 * st_struct_record *rec = sample_record_new();               // checks every member, once
 * sample_pack(rec, &s, buf, sizeof buf);                       // 30 bytes, as above
 * @endcode
 *
 * The same record through the variadic API, the interface of Python's `Struct.pack`:
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

/* ---- Records: a format bound to a C struct ----------------------------------------------- */

/**
 * @brief What kind of C type a member has, as ST_STRUCT_KIND() classifies it.
 *
 * Recorded in each ::st_struct_field so that st_struct_record_new() can refuse a member whose
 * type does not suit its code (a signed member for `I`, a double for `i`, an int for `?`).
 */
typedef enum st_struct_kind {
    ST_STRUCT_KIND_OTHER = 0, /**< A type struct cannot check (a struct, a typed pointer, an
                                   array given to ST_STRUCT_FIELD()): refused for every code. */
    ST_STRUCT_KIND_SIGNED,    /**< signed char, short, int, long, long long (and typedefs). */
    ST_STRUCT_KIND_UNSIGNED,  /**< unsigned char ... unsigned long long, size_t, uint8_t... */
    ST_STRUCT_KIND_FLOAT,     /**< float, double, long double. */
    ST_STRUCT_KIND_BOOL,      /**< _Bool (bool). */
    ST_STRUCT_KIND_CHAR,      /**< Plain char, whose signedness varies by platform. */
    ST_STRUCT_KIND_POINTER,   /**< void * (or const void *), for `P`. */
    ST_STRUCT_KIND_NOT_ARRAY  /**< ST_STRUCT_ARRAY() of a char pointer: no bytes to copy. */
} st_struct_kind;

/**
 * @brief The ::st_struct_kind of an expression's type, found at compile time with `_Generic`.
 *
 * C11 (this macro, ST_STRUCT_FIELD() and ST_STRUCT_ARRAY() need `_Generic`); a C++ caller fills
 * ::st_struct_field itself.
 * @param x An expression (not evaluated), e.g. `((struct point *)0)->x`.
 */
#define ST_STRUCT_KIND(x)                                                                        \
    _Generic((x), char: ST_STRUCT_KIND_CHAR, signed char: ST_STRUCT_KIND_SIGNED,                 \
             short: ST_STRUCT_KIND_SIGNED, int: ST_STRUCT_KIND_SIGNED,                           \
             long: ST_STRUCT_KIND_SIGNED, long long: ST_STRUCT_KIND_SIGNED,                      \
             unsigned char: ST_STRUCT_KIND_UNSIGNED, unsigned short: ST_STRUCT_KIND_UNSIGNED,    \
             unsigned int: ST_STRUCT_KIND_UNSIGNED, unsigned long: ST_STRUCT_KIND_UNSIGNED,      \
             unsigned long long: ST_STRUCT_KIND_UNSIGNED, _Bool: ST_STRUCT_KIND_BOOL,            \
             float: ST_STRUCT_KIND_FLOAT, double: ST_STRUCT_KIND_FLOAT,                          \
             long double: ST_STRUCT_KIND_FLOAT, void *: ST_STRUCT_KIND_POINTER,                  \
             const void *: ST_STRUCT_KIND_POINTER, default: ST_STRUCT_KIND_OTHER)

/**
 * @brief One member of a C struct, as a record's field table lists it.
 *
 * Build it with ST_STRUCT_FIELD() or ST_STRUCT_ARRAY(), which take every number from the
 * compiler (`offsetof`, `sizeof`, `_Generic`), never by hand.
 */
typedef struct st_struct_field {
    const char *name; /**< The member's name, for error messages. */
    size_t offset;    /**< offsetof(type, member). */
    size_t size;      /**< sizeof the member (the whole array for an array). */
    size_t count;     /**< Elements of an array member; 0 for a scalar member. */
    int kind;         /**< ::st_struct_kind of the member (of its elements for an array). */
} st_struct_field;

/**
 * @brief A field for a scalar member: an integer, `bool`, `float`/`double`, `char` or `void *`.
 *
 * `static const st_struct_field point_fields[] = {ST_STRUCT_FIELD(struct point, x), ...};`
 * @param type The struct type.
 * @param member The member's name.
 */
#define ST_STRUCT_FIELD(type, member)                                                            \
    {#member, offsetof(type, member), sizeof(((type *)0)->member), 0,                            \
     ST_STRUCT_KIND(((type *)0)->member)}

/**
 * @brief A field for an array member: bytes for `Ns` or `Np` (`char name[N]`), or N values for
 *        a repeated code (`int v[3]` for `3i`).
 *
 * A char pointer given here is marked ::ST_STRUCT_KIND_NOT_ARRAY and refused at setup (GCC and
 * Clang already warn at compile time: -Wsizeof-pointer-div).
 * @param type The struct type.
 * @param member The member's name.
 */
#define ST_STRUCT_ARRAY(type, member)                                                            \
    {#member, offsetof(type, member), sizeof(((type *)0)->member),                               \
     sizeof(((type *)0)->member) / sizeof(((type *)0)->member[0]),                               \
     _Generic(&((type *)0)->member, char **: ST_STRUCT_KIND_NOT_ARRAY,                           \
              const char **: ST_STRUCT_KIND_NOT_ARRAY,                                           \
              signed char **: ST_STRUCT_KIND_NOT_ARRAY,                                          \
              unsigned char **: ST_STRUCT_KIND_NOT_ARRAY,                                        \
              const unsigned char **: ST_STRUCT_KIND_NOT_ARRAY,                                  \
              default: ST_STRUCT_KIND(((type *)0)->member[0]))}

/**
 * @brief A format bound to the members of a C struct: packs and unpacks whole structs, and
 *        arrays of them, with every type checked once, at st_struct_record_new().
 *
 * Immutable once built, so it may be shared by threads.
 */
typedef struct st_struct_record st_struct_record;

/** @brief An iterator that unpacks consecutive records of a buffer into structs. */
typedef struct st_struct_record_unpack_iterator st_struct_record_unpack_iterator;

/**
 * @brief Binds a format to a C struct. Mirrors `struct.Struct(format)` plus what C needs: the
 *        member that receives each item.
 *
 * The items of @p format go to the fields in order (`x` pad bytes take no field). Each field
 * takes one item, an array field as many items as it has elements (`3i` or `iii` for
 * `int v[3]`; a run that starts on an array must have its length), and a byte array one `Ns`
 * or `Np` item of exactly its size. Everything is checked here, so that packing and unpacking
 * cannot fail on types later:
 * - the member's size equals the code's size in this format (`<l` is 4 bytes, `@l` sizeof(long));
 * - integer codes take integer members of their signedness (`b h i l q n` signed,
 *   `B H I L Q N` unsigned; `c` any one-byte char, `b`/`B` not a plain char), `e f d` take
 *   floating-point members (`f` a float, `d` a double, `e` a float or a double), `?` a _Bool,
 *   `P` a `void *`;
 * - as many fields as items, every field inside the struct and no two overlapping.
 *
 * `Ns` copies the array's N bytes as they are. `Np` takes a NUL-terminated string in its
 * `char[N]` (at most N-1 bytes are packed, as Python does) and unpacks into one, NUL-padded.
 * Because each member has exactly its field's size, integers always fit; the one value that
 * can fail to pack is a float too large for `e` (OverflowError, as in Python).
 * @code
 * struct point { double x, y; int32_t id; };
 * static const st_struct_field point_fields[] = {
 *     ST_STRUCT_FIELD(struct point, x),
 *     ST_STRUCT_FIELD(struct point, y),
 *     ST_STRUCT_FIELD(struct point, id),
 * };
 * st_struct_record *r = ST_STRUCT_RECORD_NEW("<ddi", struct point, point_fields);
 * @endcode
 * @param format The format string (copied).
 * @param struct_size sizeof the struct: the stride of arrays, and the bound of every field.
 * @param fields The field table (read during the call only).
 * @param nfields Its length.
 * @return A record the caller frees with st_struct_record_free(), or NULL: ST_EFORMAT
 *         (struct.error) for a bad format or a field that does not match its item, naming the
 *         field and what differs ("field 'x' is a double (8 bytes) but 'i' packs a signed
 *         integer of 4 bytes"), ST_EVALUE for a table that is wrong by itself (a field outside
 *         the struct, two fields overlapping, a member of a type it cannot check), ST_ETYPE
 *         for a NULL argument, ST_ENOMEM.
 */
ST_API st_struct_record *st_struct_record_new(const char *format, size_t struct_size,
                                              const st_struct_field *fields, size_t nfields);

/**
 * @brief st_struct_record_new() for a static table: the size and the length from the compiler.
 * @param format The format string.
 * @param type The struct type.
 * @param fields An array of ::st_struct_field (not a pointer).
 */
#define ST_STRUCT_RECORD_NEW(format, type, fields)                                               \
    st_struct_record_new((format), sizeof(type), (fields), sizeof(fields) / sizeof((fields)[0]))

/**
 * @brief Frees a record.
 * @param r The record, or NULL (then nothing happens).
 */
ST_API void st_struct_record_free(st_struct_record *r);

/**
 * @brief The compiled format of a record, for the variadic and value APIs and st_struct_size().
 * @param r A record.
 * @return The format, owned by @p r.
 */
ST_API const st_struct *st_struct_record_struct(const st_struct_record *r);

/**
 * @brief Packs one struct. Mirrors `Struct.pack(*fields)`, the fields taken from @p obj.
 *
 * Writes exactly st_struct_size() bytes, as st_struct_pack() does with the same values.
 * @param r A record.
 * @param obj The struct to pack.
 * @param buf Where to write.
 * @param buflen Bytes available at @p buf; less than the record size is struct.error.
 * @return 0, or -1: ST_EFORMAT (buffer too small), ST_EOVERFLOW (a float too large for `e`).
 */
ST_API int st_struct_record_pack(const st_struct_record *r, const void *obj, void *buf,
                                 size_t buflen);

/**
 * @brief Unpacks one record into a struct. Mirrors `Struct.unpack(buffer)`, stored in @p obj.
 *
 * Only the members in the table are written.
 * @param r A record.
 * @param buf The record.
 * @param buflen Its size, which must equal the record size, as in Python.
 * @param obj The struct to fill.
 * @return 0, or -1 with ST_EFORMAT "unpack requires a buffer of N bytes".
 */
ST_API int st_struct_record_unpack(const st_struct_record *r, const void *buf, size_t buflen,
                                   void *obj);

/**
 * @brief Packs an array of structs into consecutive records.
 *        Mirrors `b"".join(s.pack(*o) for o in objs)`, with the byte swapping done in bulk.
 * @param r A record.
 * @param objs The first of @p n structs (a C array).
 * @param n How many.
 * @param buf Where to write n * st_struct_size() bytes.
 * @param buflen Bytes available at @p buf; fewer is struct.error.
 * @return 0, or -1: ST_EFORMAT, ST_EOVERFLOW (a float too large for `e`); the buffer's
 *         contents are then unspecified.
 */
ST_API int st_struct_record_pack_array(const st_struct_record *r, const void *objs, size_t n,
                                       void *buf, size_t buflen);

/**
 * @brief Unpacks consecutive records into an array of structs.
 *        Mirrors `list(s.iter_unpack(buffer))`, stored in a C array.
 * @param r A record.
 * @param buf The records, back to back.
 * @param buflen Their size: n * st_struct_size() exactly.
 * @param objs Room for @p n structs.
 * @param n How many records to unpack.
 * @return 0, or -1 with ST_EFORMAT "unpack requires a buffer of N bytes".
 */
ST_API int st_struct_record_unpack_array(const st_struct_record *r, const void *buf, size_t buflen,
                                         void *objs, size_t n);

/**
 * @brief Packs an array of structs and writes them to a file descriptor.
 *        Mirrors `os.write` of st_struct_record_pack_array()'s bytes, until all are written.
 *
 * Packs in blocks of a few dozen kilobytes (no allocation in proportion to @p n); short writes
 * and EINTR are retried.
 * @param r A record.
 * @param fd A descriptor open for writing.
 * @param objs The first of @p n structs.
 * @param n How many.
 * @return 0, or -1: ST_EOS (OSError from write(2)), ST_EOVERFLOW (a float too large for `e`),
 *         ST_ENOMEM; the blocks before the failing one have been written.
 */
ST_API int st_struct_record_write(const st_struct_record *r, int fd, const void *objs, size_t n);

/**
 * @brief Reads up to @p n records from a file descriptor into an array of structs.
 *        Mirrors `s.iter_unpack(os.read(...))` until @p n records or the end of the file.
 *
 * Short reads and EINTR are retried; the call returns at the end of the file or after @p n
 * records, whichever comes first.
 * @param r A record (of a non-zero size).
 * @param fd A descriptor open for reading.
 * @param objs Room for @p n structs.
 * @param n The most records to read.
 * @param nread Receives the number of whole records stored in @p objs, on failure too (or
 *        NULL).
 * @return 0, or -1: ST_EOS (OSError from read(2)), ST_EFORMAT ("iterative unpacking requires a
 *         buffer of a multiple of N bytes" when the file ends inside a record: those bytes are
 *         consumed, and the struct after the last whole record is unspecified), ST_ENOMEM.
 */
ST_API int st_struct_record_read(const st_struct_record *r, int fd, void *objs, size_t n,
                                 size_t *nread);

/**
 * @brief Starts unpacking the records of a buffer into structs, one by one.
 *        Mirrors `Struct.iter_unpack(buffer)`.
 *
 * The iterator borrows @p r and @p buf: both must outlive it.
 * @param r A record.
 * @param buf The records, back to back.
 * @param buflen Their total size: a multiple of the record size.
 * @return An iterator the caller frees with st_struct_record_unpack_iterator_free(), or NULL
 *         with the errors of st_struct_iter_unpack().
 */
ST_API st_struct_record_unpack_iterator *
st_struct_record_iter_unpack(const st_struct_record *r, const void *buf, size_t buflen);

/**
 * @brief Unpacks the next record into a struct. Mirrors `next()` on iter_unpack's iterator.
 * @param it The iterator.
 * @param obj The struct to fill.
 * @return 1 when a record was unpacked, 0 at the end (@p obj is left alone), -1 with ST_ETYPE
 *         when @p it is NULL.
 */
ST_API int st_struct_record_unpack_iterator_next(st_struct_record_unpack_iterator *it, void *obj);

/**
 * @brief How many records are left. Mirrors the iterator's `__length_hint__()`.
 * @param it The iterator.
 * @return The number of records st_struct_record_unpack_iterator_next() will still return.
 */
ST_API size_t
st_struct_record_unpack_iterator_length_hint(const st_struct_record_unpack_iterator *it);

/**
 * @brief Frees an iterator.
 * @param it The iterator, or NULL (then nothing happens).
 */
ST_API void st_struct_record_unpack_iterator_free(st_struct_record_unpack_iterator *it);

/* ---- Codecs: a record's pack and unpack generated per struct, at compile time ------------ */

/**
 * @brief The setup of a codec: st_struct_record_new() on a format given as a list of items,
 *        refusing what ST_STRUCT_CODEC()'s generated code cannot do. Mirrors
 *        `struct.Struct(format)`.
 *
 * Called by the `NAME_record_new()` that ST_STRUCT_CODEC() generates, rarely by hand. The codec's
 * code is correct for this record only if each entry is one item whose bytes it knows: a
 * standard byte order (`<`, `>`, `!`, `=`), then entries of one code among
 * `x c b B ? h H i I l L q Q f d` or `Ns`, a count only before `s` and `x`. Native mode (`@` or
 * no prefix, with its alignment, `n N P`), `e` and `p` are refused: use a record for those.
 * Every field is then checked as st_struct_record_new() checks it.
 * @param items The byte order and the entries, each ended by a NUL, the list by an empty one:
 *        `"<\0I\0h\0" "8s\0"` (ST_STRUCT_CODEC() assembles it by string-literal concatenation).
 * @param struct_size sizeof the struct.
 * @param fields The field table (read during the call only).
 * @param nfields Its length.
 * @return A record, freed with st_struct_record_free(), or NULL: ST_EFORMAT (struct.error) for
 *         an entry or an order the codec does not do ("ST_STRUCT_CODEC does not do 'e'...") and
 *         every error of st_struct_record_new(), ST_ETYPE for a NULL @p items.
 * @since 1.2.0
 */
ST_API st_struct_record *st_struct_codec_record_new(const char *items, size_t struct_size,
                                                    const st_struct_field *fields, size_t nfields);

#ifdef __cplusplus
}
#endif

#ifndef __cplusplus /* the codec is C11: _Generic, _Static_assert, compound literals */

/**
 * @brief Marks a run of pad bytes in the field list of ST_STRUCT_CODEC(): `X(ST_STRUCT_PAD, 3)`
 *        is the format's `3x` (zero bytes when packing, skipped when unpacking).
 *
 * The count must be an integer literal (it is also stringified into the format). Expands to
 * itself: a name the codec recognises in place of a member.
 * @since 1.2.0
 */
#define ST_STRUCT_PAD ST_STRUCT_PAD

/**
 * @brief Generates, at compile time, the pack and unpack functions of one C struct for one
 *        format: the record API's work as straight code, with the struct's offsets as constants.
 *
 * The fastest C path of the struct module: no plan to interpret, no call when inlined. The
 * format is an X-macro list of the struct's members, in the format's order, each with its code:
 * @code
 * struct sample { uint32_t id; int16_t delta; double value; uint64_t count; char tag[8]; };
 * #define SAMPLE(X) X(id, "I") X(delta, "h") X(value, "d") X(count, "Q") X(tag, "8s")
 * ST_STRUCT_CODEC(sample, struct sample, "<", SAMPLE);  // at file scope
 *
 * st_struct_record *rec = sample_record_new();           // once: checks every member
 * unsigned char buf[30];
 * if (!rec || sample_pack(rec, &s, buf, sizeof buf) < 0) ...
 * if (sample_unpack(rec, buf, n, &s) < 0) ...
 * @endcode
 * This emits three `static inline` functions, named from @p name:
 * - `st_struct_record *NAME_record_new(void)`: the setup. It builds the same layout through
 *   st_struct_codec_record_new(), hence st_struct_record_new(), from the same list (the format
 *   and the ::st_struct_field table are assembled at compile time), so that a member whose size,
 *   signedness or kind does not match its code is refused here exactly as a record refuses it,
 *   with the same struct.error. Its record is what the other two take, and a record for the
 *   array, file and value functions too. Cost: st_struct_record_new()'s, once.
 * - `int NAME_pack(const st_struct_record *r, const TYPE *obj, void *buf, size_t buflen)`:
 *   mirrors `Struct.pack_into(buf, 0, *fields)`. Writes st_struct_size() bytes, byte for byte
 *   what st_struct_record_pack() writes; returns 0, or -1 when @p buflen is short, with
 *   pack_into's struct.error ("pack_into requires a buffer of at least 30 bytes for packing 30
 *   bytes at offset 0 (actual buffer size is 8)"). Cost: one compare, then a move per member
 *   (a load, a byte swap where the order is not the machine's, a store; memcpy for `Ns`).
 * - `int NAME_unpack(const st_struct_record *r, const void *buf, size_t buflen, TYPE *obj)`:
 *   mirrors `Struct.unpack_from(buf)`: reads the first st_struct_size() bytes of a buffer at
 *   least that long (more bytes are left alone, as in Python), byte for byte as
 *   st_struct_record_unpack() stores them (`?` any non-zero byte as true); -1 with
 *   unpack_from's struct.error when @p buflen is short. Cost: as pack's.
 *
 * @p r must be the record of `NAME_record_new()`, not NULL: pack and unpack read it only to
 * raise their error. Entries: `X(member, "code")` with one code among
 * `c b B ? h H i I l L q Q f d` (one item, no count) or `"Ns"` for a `char[N]` (or signed or
 * unsigned char) member, and `X(ST_STRUCT_PAD, n)` for `nx`. Members are integers, `_Bool`,
 * `float`, `double`, plain `char` or byte arrays; any other (a struct, a pointer, an array of
 * numbers) is refused by the setup, as a record refuses it (ST_EVALUE). The byte
 * order is a string literal among `"<"`, `">"`, `"!"` and `"="` (standard sizes; `=` the
 * machine's order), checked by a static assertion for its length and by the setup for its
 * character. Not done, refused by the setup: native mode (`@`, alignment), `e`, `p`, `n`, `N`,
 * `P`, repeat counts on other codes (use a record). Byte swaps are written with shifts that
 * GCC and Clang compile to one instruction; the machine's byte order comes from
 * `__BYTE_ORDER__`, or else a test the compiler folds. C11 (`_Generic`, `_Static_assert`); a C++
 * caller uses a record.
 * @param name The prefix of the generated functions.
 * @param type The struct type.
 * @param order The byte order, a one-character string literal: `"<"`, `">"`, `"!"` or `"="`.
 * @param LIST The X-macro field list: a macro taking one argument, X, and expanding to
 *        `X(member, "code")` and `X(ST_STRUCT_PAD, n)` entries in the format's order.
 * @since 1.2.0
 */
#define ST_STRUCT_CODEC(name, type, order, LIST)                                                 \
    _Static_assert(sizeof(order) == 2, "ST_STRUCT_CODEC: the byte order is one of \"<\", "       \
                                       "\">\", \"!\", \"=\"");                                   \
    ST_STRUCT__UNUSED static inline st_struct_record *name##_record_new(void)                    \
    {                                                                                            \
        typedef type st_struct__type;                                                            \
        LIST(ST_STRUCT__ASSERT)                                                                  \
        static const st_struct_field st_struct__fields[] = {LIST(ST_STRUCT__FIELD){0}};          \
        return st_struct_codec_record_new(order "\0" LIST(ST_STRUCT__ITEM),                      \
                                          sizeof(st_struct__type),                               \
                                          st_struct__fields,                                     \
                                          sizeof st_struct__fields / sizeof *st_struct__fields - \
                                              1);                                                \
    }                                                                                            \
    ST_STRUCT__UNUSED static inline int name##_pack(const st_struct_record *st_struct__r,        \
                                                    const type *st_struct__obj,                  \
                                                    void *st_struct__buf,                        \
                                                    size_t st_struct__buflen)                    \
    {                                                                                            \
        if (ST_STRUCT__UNLIKELY(st_struct__buflen < (size_t)(0 LIST(ST_STRUCT__SIZE))))          \
            return st_struct_record_pack(st_struct__r, st_struct__obj, st_struct__buf,           \
                                         st_struct__buflen);                                     \
        unsigned char *st_struct__p = (unsigned char *)st_struct__buf;                           \
        const int st_struct__swap = ST_STRUCT__SWAP(order);                                      \
        (void)st_struct__swap;                                                                   \
        LIST(ST_STRUCT__PUT)                                                                     \
        (void)st_struct__p; /* a list of pads only */                                            \
        return 0;                                                                                \
    }                                                                                            \
    ST_STRUCT__UNUSED static inline int name##_unpack(const st_struct_record *st_struct__r,      \
                                                      const void *st_struct__buf,                \
                                                      size_t st_struct__buflen,                  \
                                                      type *st_struct__obj)                      \
    {                                                                                            \
        if (ST_STRUCT__UNLIKELY(st_struct__buflen < (size_t)(0 LIST(ST_STRUCT__SIZE))))          \
            return st_struct__unpack_short(st_struct__r, st_struct__buf, st_struct__buflen);     \
        const unsigned char *st_struct__p = (const unsigned char *)st_struct__buf;               \
        const int st_struct__swap = ST_STRUCT__SWAP(order);                                      \
        (void)st_struct__swap;                                                                   \
        LIST(ST_STRUCT__GET)                                                                     \
        (void)st_struct__p, (void)st_struct__obj; /* a list of pads only */                      \
        return 0;                                                                                \
    }                                                                                            \
    _Static_assert(1, "ST_STRUCT_CODEC ends with a declaration: its use takes a semicolon")

/** @cond ST_STRUCT_CODEC_INTERNALS */
/* What ST_STRUCT_CODEC() expands to; not an interface. */
#if defined(__GNUC__) || defined(__clang__)
#define ST_STRUCT__UNLIKELY(x) __builtin_expect(!!(x), 0)
#define ST_STRUCT__INLINE static inline __attribute__((always_inline))
#define ST_STRUCT__UNUSED __attribute__((unused)) /* a program may use one of the three */
#define ST_STRUCT__COLD static __attribute__((cold, noinline, unused))
#else
#define ST_STRUCT__UNLIKELY(x) (x)
#define ST_STRUCT__INLINE static inline
#define ST_STRUCT__UNUSED
#define ST_STRUCT__COLD static inline
#endif
/* The machine's byte order from a test the compiler folds, where __BYTE_ORDER__ is missing. */
#define ST_STRUCT__HOST_BIG_TEST (((const union { uint16_t u; unsigned char b[2]; }){1}).b[0] == 0)
#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__)
#define ST_STRUCT__HOST_BIG (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__)
#else
#define ST_STRUCT__HOST_BIG ST_STRUCT__HOST_BIG_TEST
#endif
/* '=' is the machine's order; '<' little-endian; '>' and '!' big-endian. */
#define ST_STRUCT__SWAP(order)                                                                   \
    ((order)[0] != '=' && (((order)[0] == '>' || (order)[0] == '!') != ST_STRUCT__HOST_BIG))

/* An entry is X(ST_STRUCT_PAD, n) or X(member, "code"): the first is told from the second by
 * pasting its name onto a probe, which only ST_STRUCT_PAD turns into two arguments. */
#define ST_STRUCT__SECOND(a, b, ...) b
#define ST_STRUCT__SECOND_(...) ST_STRUCT__SECOND(__VA_ARGS__)
#define ST_STRUCT__PROBE_ST_STRUCT_PAD ~, 1
#define ST_STRUCT__IS_PAD(m) ST_STRUCT__SECOND_(ST_STRUCT__PROBE_##m, 0, ~)
#define ST_STRUCT__IF(c) ST_STRUCT__IF_(c)
#define ST_STRUCT__IF_(c) ST_STRUCT__IF_##c
#define ST_STRUCT__IF_1(pad, member) pad
#define ST_STRUCT__IF_0(pad, member) member
#define ST_STRUCT__ENTRY(pad, member, m, c) ST_STRUCT__IF(ST_STRUCT__IS_PAD(m))(pad, member)(m, c)
#define ST_STRUCT__STR(n) ST_STRUCT__STR_(n)
#define ST_STRUCT__STR_(n) #n
#define ST_STRUCT__NOTHING(m, c)
/* The code's letter: the last character of its literal. */
#define ST_STRUCT__CODE(c) (("" c)[sizeof(c) - 2])

#define ST_STRUCT__ASSERT(m, c) ST_STRUCT__ENTRY(ST_STRUCT__NOTHING, ST_STRUCT__ASSERT_M, m, c)
#define ST_STRUCT__ASSERT_M(m, c)                                                                \
    _Static_assert(sizeof("" c) >= 2, "ST_STRUCT_CODEC: member " #m " has an empty code");
#define ST_STRUCT__ITEM(m, c) ST_STRUCT__ENTRY(ST_STRUCT__ITEM_P, ST_STRUCT__ITEM_M, m, c)
#define ST_STRUCT__ITEM_P(m, n) ST_STRUCT__STR(n) "x\0"
#define ST_STRUCT__ITEM_M(m, c) c "\0"
#define ST_STRUCT__SIZE(m, c) ST_STRUCT__ENTRY(ST_STRUCT__SIZE_P, ST_STRUCT__SIZE_M, m, c)
#define ST_STRUCT__SIZE_P(m, n) +(n)
#define ST_STRUCT__SIZE_M(m, c) +sizeof(st_struct__obj->m)
#define ST_STRUCT__PUT(m, c) ST_STRUCT__ENTRY(ST_STRUCT__PUT_P, ST_STRUCT__PUT_M, m, c)
#define ST_STRUCT__PUT_P(m, n)                                                                   \
    memset(st_struct__p, 0, (n));                                                                \
    st_struct__p += (n);
#define ST_STRUCT__PUT_M(m, c)                                                                   \
    st_struct__put(st_struct__p, &st_struct__obj->m, sizeof(st_struct__obj->m),                  \
                   ST_STRUCT__CODE(c), st_struct__swap);                                         \
    st_struct__p += sizeof(st_struct__obj->m);
#define ST_STRUCT__GET(m, c) ST_STRUCT__ENTRY(ST_STRUCT__GET_P, ST_STRUCT__GET_M, m, c)
#define ST_STRUCT__GET_P(m, n) st_struct__p += (n);
#define ST_STRUCT__GET_M(m, c)                                                                   \
    st_struct__get(&st_struct__obj->m, st_struct__p, sizeof(st_struct__obj->m),                  \
                   ST_STRUCT__CODE(c), st_struct__swap);                                         \
    st_struct__p += sizeof(st_struct__obj->m);
/* A field as ST_STRUCT_FIELD() or, for a byte array, ST_STRUCT_ARRAY() makes it. */
#define ST_STRUCT__FIELD(m, c) ST_STRUCT__ENTRY(ST_STRUCT__NOTHING, ST_STRUCT__FIELD_M, m, c)
#define ST_STRUCT__FIELD_M(m, c)                                                                 \
    {#m, offsetof(st_struct__type, m), sizeof(((st_struct__type *)0)->m),                        \
     ST_STRUCT__COUNT(((st_struct__type *)0)->m), ST_STRUCT__KIND(((st_struct__type *)0)->m)},
/* A byte array's length and the kind of its bytes; 0 and the member's kind for anything else
 * (a char pointer too, which the setup then refuses). */
#define ST_STRUCT__COUNT(x)                                                                      \
    _Generic(&(x), char(*)[sizeof(x)]: sizeof(x), signed char(*)[sizeof(x)]: sizeof(x),          \
             unsigned char(*)[sizeof(x)]: sizeof(x), default: (size_t)0)
#define ST_STRUCT__KIND(x)                                                                       \
    _Generic(&(x), char(*)[sizeof(x)]: ST_STRUCT_KIND_CHAR,                                      \
             signed char(*)[sizeof(x)]: ST_STRUCT_KIND_SIGNED,                                   \
             unsigned char(*)[sizeof(x)]: ST_STRUCT_KIND_UNSIGNED, default: ST_STRUCT_KIND(x))

ST_STRUCT__INLINE uint16_t st_struct__swap16(uint16_t v)
{
    return (uint16_t)(v << 8 | v >> 8);
}

ST_STRUCT__INLINE uint32_t st_struct__swap32(uint32_t v)
{
    return v << 24 | (v & 0xff00u) << 8 | (v >> 8 & 0xff00u) | v >> 24;
}

ST_STRUCT__INLINE uint64_t st_struct__swap64(uint64_t v)
{
    return (uint64_t)st_struct__swap32((uint32_t)v) << 32 | st_struct__swap32((uint32_t)(v >> 32));
}

/* unpack_from's error for a short buffer (it is raised before any argument is read). Out of the
 * generated function, so that its call does not make the fast path save registers. */
ST_STRUCT__COLD int st_struct__unpack_short(const st_struct_record *r, const void *buf,
                                            size_t buflen)
{
    return st_struct_unpack_from(st_struct_record_struct(r), buf, buflen, 0);
}

/* size bytes from src to dst, their order reversed when swap says so (a number of 2, 4 or 8
 * bytes in the other byte order). */
ST_STRUCT__INLINE void st_struct__move(void *dst, const void *src, size_t size, int swap)
{
    if (swap && size == 2) {
        uint16_t v;
        memcpy(&v, src, 2);
        v = st_struct__swap16(v);
        memcpy(dst, &v, 2);
    } else if (swap && size == 4) {
        uint32_t v;
        memcpy(&v, src, 4);
        v = st_struct__swap32(v);
        memcpy(dst, &v, 4);
    } else if (swap && size == 8) {
        uint64_t v;
        memcpy(&v, src, 8);
        v = st_struct__swap64(v);
        memcpy(dst, &v, 8);
    } else {
        memcpy(dst, src, size);
    }
}

/* One member into the record: its bytes, swapped when swap says so and the code is a number
 * (not a byte string, a char or a bool). The setup guarantees size is the code's size. */
ST_STRUCT__INLINE void st_struct__put(unsigned char *p, const void *m, size_t size, int code,
                                      int swap)
{
    st_struct__move(p, m, size, swap && code != 's' && code != 'c' && code != '?');
}

/* One member from the record: st_struct__put()'s inverse, and '?' is any non-zero byte. */
ST_STRUCT__INLINE void st_struct__get(void *m, const unsigned char *p, size_t size, int code,
                                      int swap)
{
    if (code == '?')
        *(_Bool *)m = p[0] != 0;
    else
        st_struct__move(m, p, size, swap && code != 's' && code != 'c');
}
/** @endcond */

#endif /* __cplusplus */

/** @} */

#endif
