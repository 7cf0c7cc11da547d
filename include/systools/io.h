/**
 * @file systools/io.h
 * @brief In-memory streams: io.BytesIO, StringIO-style UTF-8 text on top of it, and a `FILE *`
 *        view so that fprintf() (Python's `print(..., file=f)`) writes into the buffer.
 */
#ifndef SYSTOOLS_IO_H
#define SYSTOOLS_IO_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common.h"

/**
 * @defgroup io io: in-memory byte and text streams (io.BytesIO, io.StringIO)
 * @brief A growable byte stream with CPython 3.13's io.BytesIO semantics, text helpers that read
 *        and write UTF-8 the way io.StringIO reads and writes str, and a stdio view.
 *
 * Every operation on a closed stream fails with ValueError "I/O operation on closed file.", as
 * in Python. A stream is not thread-safe: one thread at a time (Python's BytesIO relies on the
 * GIL for the same).
 *
 * @code
 * st_bytesio *f = st_bytesio_new(NULL, 0);
 * FILE *out = st_bytesio_file(f);
 * fprintf(out, "%d apples\n", 3);                 // print(3, "apples", file=f)
 * fclose(out);                                     // the stream stays; only the view goes
 * st_bytesio_seek(f, 0, 0);
 * char *line = st_bytesio_readline_text(f, -1, NULL);  // "3 apples\n"
 * size_t len;
 * const unsigned char *all = st_bytesio_getbuffer(f, &len);  // borrowed, no copy
 * st_free(line);
 * st_bytesio_free(f);
 * @endcode
 * @{
 */

#ifdef __cplusplus
extern "C" {
#endif

/** @brief An in-memory byte stream (opaque). Mirrors io.BytesIO. */
typedef struct st_bytesio st_bytesio;

/** @brief Python's `None` where a size argument may be None (st_bytesio_truncate()). */
#define ST_IO_NONE PTRDIFF_MIN

/* ---- life cycle ------------------------------------------------------------------------ */

/**
 * @brief A new stream holding a copy of @p initial, positioned at 0. Mirrors
 *        io.BytesIO(initial_bytes).
 * @note Threads (object): a BytesIO (its position) serves one thread at a time.
 * @param initial The initial contents (may be NULL when @p len is 0).
 * @param len Their number of bytes.
 * @return A stream the caller releases with st_bytesio_free(); NULL with MemoryError.
 */
ST_API st_bytesio *st_bytesio_new(const void *initial, size_t len);

/**
 * @brief Closes the stream if it is open, then frees it. Any `FILE *` view of it must be
 *        fclose()d before.
 * @param f The stream, or NULL (then nothing happens).
 */
ST_API void st_bytesio_free(st_bytesio *f);

/**
 * @brief Closes the stream and drops its contents. Mirrors BytesIO.close(): closing twice is
 *        fine; every other operation then fails with ValueError "I/O operation on closed
 *        file." (a `FILE *` view's calls fail with EBADF). The handle itself stays valid, for
 *        st_bytesio_closed(), until st_bytesio_free().
 * @param f The stream, or NULL (then nothing happens).
 * @return 0 (closing cannot fail).
 */
ST_API int st_bytesio_close(st_bytesio *f);

/**
 * @brief Whether the stream is closed. Mirrors the BytesIO.closed attribute.
 * @param f The stream.
 * @return 1 when closed, 0 when open, -1 with ST_ETYPE when @p f is NULL.
 */
ST_API int st_bytesio_closed(const st_bytesio *f);

/* ---- bytes ----------------------------------------------------------------------------- */

/**
 * @brief Writes bytes at the current position and moves past them. Mirrors BytesIO.write():
 *        a position beyond the end first fills the gap with zero bytes; writing nothing changes
 *        nothing (no zero-fill).
 * @param f The stream.
 * @param data The bytes (may be NULL when @p len is 0).
 * @param len Their number.
 * @return @p len, or -1 with ValueError (closed), OverflowError ("new buffer size too large")
 *         or MemoryError.
 */
ST_API ptrdiff_t st_bytesio_write(st_bytesio *f, const void *data, size_t len);

/**
 * @brief Reads up to @p size bytes from the current position. Mirrors BytesIO.read(size).
 * @param f The stream.
 * @param size The most to read; negative reads to the end.
 * @param len Receives the number of bytes read (0 at or beyond the end), or NULL.
 * @return The bytes, NUL-terminated for convenience (the NUL is not counted), which the caller
 *         frees with st_free(); NULL with ValueError (closed) or MemoryError.
 */
ST_API unsigned char *st_bytesio_read(st_bytesio *f, ptrdiff_t size, size_t *len);

/**
 * @brief Reads into the caller's buffer. Mirrors BytesIO.readinto(buf).
 * @param f The stream.
 * @param buf Receives up to @p size bytes.
 * @param size The room in @p buf.
 * @return The number of bytes copied (0 at the end), or -1 with ValueError (closed).
 */
ST_API ptrdiff_t st_bytesio_readinto(st_bytesio *f, void *buf, size_t size);

/**
 * @brief Reads one line, newline included. Mirrors BytesIO.readline(size): stops after b'\\n',
 *        at the end, or after @p size bytes when @p size is not negative.
 * @param f The stream.
 * @param size The most to read; negative for no limit.
 * @param len Receives the line's length in bytes, or NULL.
 * @return The line (empty at the end), NUL-terminated for convenience, which the caller frees
 *         with st_free(); NULL with ValueError (closed) or MemoryError.
 */
ST_API unsigned char *st_bytesio_readline(st_bytesio *f, ptrdiff_t size, size_t *len);

/**
 * @brief Moves the position. Mirrors BytesIO.seek(pos, whence): whence 0 from the start
 *        (@p pos must not be negative), 1 from the current position, 2 from the end; a result
 *        below 0 becomes 0; positions beyond the end are allowed.
 * @param f The stream.
 * @param pos The offset.
 * @param whence 0, 1 or 2 (SEEK_SET, SEEK_CUR, SEEK_END).
 * @return The new position, or -1 with ValueError ("I/O operation on closed file.",
 *         "negative seek value -1", "invalid whence (3, should be 0, 1 or 2)") or
 *         OverflowError ("new position too large").
 */
ST_API ptrdiff_t st_bytesio_seek(st_bytesio *f, ptrdiff_t pos, int whence);

/**
 * @brief The current position. Mirrors BytesIO.tell().
 * @param f The stream.
 * @return The position, or -1 with ValueError (closed).
 */
ST_API ptrdiff_t st_bytesio_tell(const st_bytesio *f);

/**
 * @brief Cuts the stream to @p size bytes; the position does not move. Mirrors
 *        BytesIO.truncate(size): a size beyond the end changes nothing.
 * @param f The stream.
 * @param size The new size, or ::ST_IO_NONE for the current position (Python's None).
 * @return The size, or -1 with ValueError (closed, "negative size value -1").
 */
ST_API ptrdiff_t st_bytesio_truncate(st_bytesio *f, ptrdiff_t size);

/**
 * @brief A copy of the whole contents, whatever the position. Mirrors BytesIO.getvalue().
 * @param f The stream.
 * @param len Receives the number of bytes, or NULL.
 * @return The bytes, NUL-terminated for convenience, which the caller frees with st_free();
 *         NULL with ValueError (closed) or MemoryError.
 */
ST_API unsigned char *st_bytesio_getvalue(const st_bytesio *f, size_t *len);

/**
 * @brief The whole contents without copying. Mirrors BytesIO.getbuffer() for reading (the
 *        memory must not be written through, and the stream cannot refuse resizing the way
 *        Python's export count does: the pointer simply goes stale).
 * @param f The stream.
 * @param len Receives the number of bytes, or NULL.
 * @return Borrowed bytes, always followed by a NUL, valid until the next write, truncate,
 *         close or free of @p f; NULL with ValueError (closed).
 */
ST_API const unsigned char *st_bytesio_getbuffer(const st_bytesio *f, size_t *len);

/* ---- text (StringIO-style, UTF-8) -------------------------------------------------------- */

/**
 * @brief Writes UTF-8 text. Mirrors io.StringIO.write(s), which returns len(s).
 *
 * Differences from io.StringIO, here and in every text helper: the stream holds UTF-8 bytes,
 * so seek(), tell() and truncate() count bytes, not code points (Python's StringIO counts code
 * points and refuses non-zero relative seeks; here they are allowed, and a position may land
 * inside a character, which the reading helpers then report); and writing inside the text
 * replaces as many bytes as the new text has, where StringIO replaces as many code points.
 * There is no newline translation: StringIO's default newline='\\n' translates nothing either.
 * @param f The stream.
 * @param utf8 NUL-terminated text; validated as strict UTF-8 before anything is written.
 * @return The number of code points written, or -1 with UnicodeDecodeError (code ST_EVALUE),
 *         ValueError (closed) or MemoryError.
 */
ST_API ptrdiff_t st_bytesio_write_text(st_bytesio *f, const char *utf8);

/**
 * @brief Formats like printf() and writes the result at the current position. Mirrors
 *        `print(..., file=f, end='')` with the formatting done by C.
 * @param f The stream.
 * @param fmt A printf format.
 * @return The number of bytes written, or -1 with ValueError (closed) or MemoryError.
 */
ST_API ptrdiff_t st_bytesio_printf(st_bytesio *f, const char *fmt, ...) ST_ATTR_PRINTF(2, 3);

/**
 * @brief st_bytesio_printf() with a va_list.
 * @param f The stream.
 * @param fmt A printf format.
 * @param ap The arguments.
 * @return The number of bytes written, or -1 with ValueError (closed) or MemoryError.
 */
ST_API ptrdiff_t st_bytesio_vprintf(st_bytesio *f, const char *fmt, va_list ap) ST_ATTR_PRINTF(2, 0);

/**
 * @brief Reads up to @p nchars code points. Mirrors io.StringIO.read(size), which counts
 *        characters.
 * @param f The stream.
 * @param nchars The most code points to read; negative reads to the end.
 * @param len Receives the length in bytes (the text may hold NUL characters), or NULL.
 * @return NUL-terminated UTF-8 the caller frees with st_free(); NULL with ValueError (closed),
 *         MemoryError, or UnicodeDecodeError (code ST_EVALUE) when the bytes read are not
 *         UTF-8 (then the position does not move).
 */
ST_API char *st_bytesio_read_text(st_bytesio *f, ptrdiff_t nchars, size_t *len);

/**
 * @brief Reads one line of text, "\\n" included. Mirrors io.StringIO.readline(size): at most
 *        @p nchars code points when it is not negative.
 * @param f The stream.
 * @param nchars The most code points to read; negative for no limit.
 * @param len Receives the length in bytes, or NULL.
 * @return NUL-terminated UTF-8 (empty at the end) the caller frees with st_free(); NULL with
 *         the errors of st_bytesio_read_text().
 */
ST_API char *st_bytesio_readline_text(st_bytesio *f, ptrdiff_t nchars, size_t *len);

/**
 * @brief The whole contents as text. Mirrors io.StringIO.getvalue().
 * @param f The stream.
 * @param len Receives the length in bytes, or NULL.
 * @return NUL-terminated UTF-8 the caller frees with st_free(); NULL with ValueError (closed),
 *         MemoryError or UnicodeDecodeError (code ST_EVALUE).
 */
ST_API char *st_bytesio_getvalue_text(const st_bytesio *f, size_t *len);

/* ---- stdio view ------------------------------------------------------------------------- */

/**
 * @brief A `FILE *` that reads, writes and seeks the stream, so fprintf(), fputs(), fgets()
 *        and fseek() work on it (`print(..., file=f)`).
 *
 * The view is unbuffered: every stdio call reaches the stream at once, so the stream and the
 * view always agree on contents and position (call setvbuf() for speed, then fflush() before
 * touching the stream directly). The view borrows the stream and does not own it: fclose()
 * ends the view only, the stream stays open and must outlive the view (fclose() it before
 * st_bytesio_free()). Once the stream is closed with st_bytesio_close(), the view's reads,
 * writes and seeks fail with errno EBADF. Uses fopencookie() (glibc, musl) or funopen() (BSD,
 * macOS).
 * Difference: where neither exists, this fails with NotImplementedError; there, fill an
 * open_memstream() FILE and st_bytesio_write() its buffer into the stream afterwards.
 * @param f The stream.
 * @return A FILE the caller closes with fclose(); NULL with ValueError (closed), OSError or
 *         NotImplementedError.
 */
ST_API FILE *st_bytesio_file(st_bytesio *f);

#ifdef __cplusplus
}
#endif

/** @} */

#endif
