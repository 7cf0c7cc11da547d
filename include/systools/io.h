/**
 * @file systools/io.h
 * @brief File objects (io.open: buffered binary and text files over a path, a descriptor or a
 *        BytesIO, with encodings, error handlers and universal newlines), in-memory streams
 *        (io.BytesIO, StringIO-style UTF-8 text on top of it) and a `FILE *` view of a BytesIO.
 */
#ifndef SYSTOOLS_IO_H
#define SYSTOOLS_IO_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common.h"
#include "value.h"

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

/** @} */

/* ---- file objects (io.open) ----------------------------------------------------------- */

/**
 * @defgroup file io.open: file objects with encodings and universal newlines
 * @brief What Python's io.open() returns, as one C type: a buffered binary file
 *        (io.BufferedReader / BufferedWriter / BufferedRandom, or io.FileIO when unbuffered) or
 *        a text file (io.TextIOWrapper over one of those), told apart by the mode.
 *
 * One type rather than Python's four layers: a C caller holds one handle, calls
 * st_file_readline() or st_file_write() on it whatever the mode, and the mode says what the
 * bytes mean, as `open()` does for a Python caller who never sees the layers. Text is the
 * library's str: UTF-8 in which a lone surrogate (what surrogateescape makes of an undecodable
 * byte, U+DC80..U+DCFF) is encoded as 'surrogatepass' does, so st_value_str_surrogatepass()
 * turns it into the exact Python str and writing it back with errors="surrogateescape" gives
 * the original bytes. Binary files hand out bytes in the same `char *` slots.
 *
 * Encodings: utf-8, ascii and latin-1 under any of CPython's names for them, and the locale's
 * (the default, or "locale"), which is Python's: utf-8 under the C/POSIX locale (UTF-8 mode,
 * PEP 538/540), else nl_langinfo(CODESET) — a locale whose encoding is none of the three fails
 * with LookupError (difference: CPython has the other codecs). Error handlers: strict, replace,
 * ignore, surrogateescape, backslashreplace, with CPython's results and messages.
 *
 * Newlines as io.TextIOWrapper: newline NULL (None) reads \\n, \\r\\n and \\r as \\n and writes
 * \\n (os.linesep); "" splits lines at all three and translates nothing; "\\n", "\\r", "\\r\\n"
 * split at that one and write \\n as it.
 *
 * Reading a file a line at a time costs no allocation per line: st_file_next() lends the line
 * from a buffer that the next call reuses, and the read buffer has a fixed size (it grows only
 * for a line longer than itself), so memory stays flat whatever the file's size.
 *
 * Differences from CPython, all of them invisible to a program that does not look for them:
 * - a text file's tell() cookie is the byte offset of the next character (CPython's is the same
 *   number at such places), with a count of characters in bits 56 and up when a size limit cut
 *   a backslashreplace escape (files up to 2^56 bytes);
 * - strict decoding fails when the line holding the bad bytes is read, and names the byte's
 *   offset from the start of the file; CPython decodes 8 KiB at a time, so it may fail a few
 *   lines earlier and names the offset inside that chunk (the same number for the first 8 KiB);
 * - reads are made 64 KiB at a time whatever the buffer size (which decides when writes are
 *   flushed, as in Python);
 * - a file object is not thread-safe (Python's buffered objects take a lock): one thread at a
 *   time.
 *
 * @code
 * st_io_open_options o = ST_IO_OPEN_OPTIONS_INIT;
 * o.errors = "surrogateescape";
 * st_file *f = st_io_open(path, "r", &o);          // open(path, errors="surrogateescape")
 * const char *line;
 * size_t len;
 * int rc;
 * while ((rc = st_file_next(f, &line, &len)) > 0)  // for line in f:
 *     st_file_write(st_sys_stdout(), line, len);   //     sys.stdout.write(line)
 * if (rc < 0) ... st_error_last() ...
 * st_file_free(f);
 * @endcode
 * @{
 */

/** @brief A file object (opaque). Mirrors what io.open() returns. */
typedef struct st_file st_file;

/** @brief The current version of ::st_io_open_options. */
#define ST_IO_OPEN_OPTIONS_VERSION 1
/** @brief st_io_open_options::buffering for Python's `buffering=0` (zero means the default). */
#define ST_IO_UNBUFFERED (-1)

/** @brief Options of st_io_open(): the keyword arguments of io.open(). Zero is Python's
 *         defaults. */
typedef struct st_io_open_options {
    unsigned int version;  /**< ::ST_IO_OPEN_OPTIONS_VERSION. */
    /** 0: Python's default (-1: the descriptor's st_blksize, line buffering for text on a
     *  terminal); ::ST_IO_UNBUFFERED: Python's 0 (binary only); 1: line buffering (text;
     *  binary files take the default, where Python also warns); more: the buffer size. */
    ptrdiff_t buffering;
    const char *encoding;  /**< NULL: the locale's (Python's None). Text only. */
    const char *errors;    /**< NULL: "strict". Text only. */
    const char *newline;   /**< NULL: None (universal); "", "\\n", "\\r", "\\r\\n". Text only. */
    int keep_fd;           /**< closefd=False: closing leaves the descriptor (or BytesIO) open. */
} st_io_open_options;

/** @brief An ::st_io_open_options with every field zero but the version. */
#define ST_IO_OPEN_OPTIONS_INIT {.version = ST_IO_OPEN_OPTIONS_VERSION}

/**
 * @brief Sets @p opts to Python's defaults (ST_IO_OPEN_OPTIONS_INIT), for callers that cannot
 *        use the macro.
 * @param opts The options to fill.
 * @param version ::ST_IO_OPEN_OPTIONS_VERSION.
 * @return 0, or -1 with ValueError for NULL or a version this library does not know.
 */
ST_API int st_io_open_options_init(st_io_open_options *opts, unsigned int version);

/**
 * @brief Opens a file. Mirrors io.open(file, mode, buffering, encoding, errors, newline).
 *
 * Modes as Python's: one of r w a x, optionally +, optionally b or t (text is the default), each
 * letter once; ValueError with Python's messages otherwise ("invalid mode: 'rw'", "can't have
 * text and binary mode at once", "must have exactly one of create/read/write/append mode",
 * "binary mode doesn't take an encoding argument", "can't have unbuffered text I/O", "illegal
 * newline value: x"), and LookupError for an unknown encoding. An unknown error handler is
 * looked up, as in CPython, only when a bad byte or character needs it: that read or write
 * fails with LookupError "unknown error handler name 'x'". The file is
 * created with mode 0666 (less the umask) and is not inherited by children (O_CLOEXEC), as in
 * Python; keep_fd is refused ("Cannot use closefd=False with file name"). Difference: the
 * arguments are checked before the file is opened, so a bad encoding never creates or
 * truncates the file (Python opens it first).
 * @param path The file's path.
 * @param mode The mode; NULL is "r".
 * @param opts Options, or NULL for the defaults.
 * @return A file the caller frees with st_file_free(); NULL with ValueError, LookupError or
 *         OSError (FileNotFoundError, FileExistsError, IsADirectoryError...).
 */
ST_API st_file *st_io_open(const char *path, const char *mode, const st_io_open_options *opts);

/**
 * @brief A file object over an open descriptor. Mirrors io.open(fd, mode, ..., closefd).
 * @param fd The descriptor; closed by st_file_close() unless @p opts says keep_fd (closefd=False).
 *        On failure it stays open.
 * @param mode As st_io_open() ('w' does not truncate what the descriptor refers to, as in Python).
 * @param opts Options, or NULL for the defaults.
 * @return A file the caller frees with st_file_free(); NULL with ValueError, LookupError or
 *         OSError.
 */
ST_API st_file *st_io_open_fd(int fd, const char *mode, const st_io_open_options *opts);

/**
 * @brief A file object over an in-memory stream: with mode "r+" (text) mirrors
 *        io.TextIOWrapper(bytesio, encoding, errors, newline), with "r+b" io.BufferedRandom.
 *
 * The same object as st_io_open() gives, so code can be tested against memory and run against
 * files. The mode says text or binary and which of reading and writing is allowed; "w" empties
 * the stream first, "a" writes at its end, "x" is refused (ValueError). Like TextIOWrapper,
 * closing the file closes @p b unless keep_fd is set (Python's BytesIO cannot outlive the
 * wrapper's close(); set keep_fd to read it with st_bytesio_getvalue() afterwards, or call
 * st_file_flush() first). The file borrows @p b: free it after st_file_free().
 * @param b The stream; written and read from its current position.
 * @param mode As st_io_open(); NULL is "r".
 * @param opts Options, or NULL for the defaults.
 * @return A file the caller frees with st_file_free(); NULL with ValueError or LookupError.
 */
ST_API st_file *st_io_open_bytesio(st_bytesio *b, const char *mode, const st_io_open_options *opts);

/**
 * @brief Flushes and closes the file. Mirrors IOBase.close(): closing twice is fine; every
 *        other call then fails with ValueError "I/O operation on closed file.". The handle
 *        stays valid for st_file_closed() until st_file_free().
 * @param f The file, or NULL (then nothing happens).
 * @return 0, or -1 when the flush or close(2) failed (the file is closed all the same).
 */
ST_API int st_file_close(st_file *f);

/**
 * @brief Closes the file if it is open (errors are lost: call st_file_close() first to see
 *        them), then frees it.
 * @param f The file, or NULL.
 */
ST_API void st_file_free(st_file *f);

/**
 * @brief Whether the file is closed. Mirrors the `closed` attribute.
 * @param f The file.
 * @return 1 or 0, -1 with TypeError for NULL.
 */
ST_API int st_file_closed(const st_file *f);

/**
 * @brief Reads up to @p size characters (text) or bytes (binary). Mirrors read(size):
 *        negative reads to the end; a binary file asks the system until it has @p size bytes
 *        or meets the end, an unbuffered one (ST_IO_UNBUFFERED) makes one read(2) of @p size.
 * @param f The file.
 * @param size The most to read; negative for everything.
 * @param len Receives the length in bytes (text may hold NUL characters), or NULL.
 * @return NUL-terminated text or bytes (empty at the end) the caller frees with st_free();
 *         NULL with ValueError (closed), io.UnsupportedOperation (not readable),
 *         UnicodeDecodeError (strict) or OSError.
 */
ST_API char *st_file_read(st_file *f, ptrdiff_t size, size_t *len);

/**
 * @brief Reads one line, its ending included. Mirrors readline(size): at most @p size
 *        characters (text) or bytes (binary) when not negative; lines end as the newline
 *        option says (binary: at b'\\n').
 * @param f The file.
 * @param size The most to read; negative for no limit.
 * @param len Receives the length in bytes, or NULL.
 * @return The line (empty at the end), NUL-terminated, which the caller frees with st_free();
 *         NULL with the errors of st_file_read().
 */
ST_API char *st_file_readline(st_file *f, ptrdiff_t size, size_t *len);

/**
 * @brief The next line. Mirrors next(f) (`for line in f`), without an allocation per line.
 * @param f The file.
 * @param line Receives the line, NUL-terminated and lent: valid until the next call on @p f
 *        (any call) or its close.
 * @param len Receives its length in bytes (a line may hold NUL), or NULL.
 * @return 1 with a line, 0 at the end, -1 with the errors of st_file_read().
 */
ST_API int st_file_next(st_file *f, const char **line, size_t *len);

/**
 * @brief The remaining lines. Mirrors readlines(hint): stops once the lines read hold @p hint
 *        characters (text) or bytes (binary), when @p hint is positive.
 * @param f The file.
 * @param hint 0 or negative for all the lines.
 * @return A list of str (text, surrogates as Python has them) or bytes (binary) the caller
 *         releases with st_value_unref(); NULL with the errors of st_file_read().
 */
ST_API st_value *st_file_readlines(st_file *f, ptrdiff_t hint);

/**
 * @brief Writes text or bytes. Mirrors write(s): a text file encodes @p data (the library's
 *        str: UTF-8, lone surrogates as surrogatepass) with its encoding and error handler and
 *        writes \\n as its newline option says, then flushes when line buffering sees \\n or \\r.
 * @param f The file.
 * @param data The text or bytes (may hold NUL; may be NULL when @p len is 0).
 * @param len Their length in bytes.
 * @return The number of characters (text: Python's len(s)) or bytes written; -1 with ValueError
 *         (closed), io.UnsupportedOperation (not writable), UnicodeEncodeError (nothing of
 *         @p data is then written), UnicodeDecodeError (@p data is not UTF-8) or OSError.
 */
ST_API ptrdiff_t st_file_write(st_file *f, const void *data, size_t len);

/**
 * @brief Formats like printf() and writes the result. Mirrors `print(fmt % args, end='',
 *        file=f)` with C's formatting.
 * @param f The file.
 * @param fmt A printf format.
 * @return As st_file_write().
 */
ST_API ptrdiff_t st_file_printf(st_file *f, const char *fmt, ...) ST_ATTR_PRINTF(2, 3);

/**
 * @brief st_file_printf() with a va_list.
 * @param f The file.
 * @param fmt A printf format.
 * @param ap The arguments.
 * @return As st_file_write().
 */
ST_API ptrdiff_t st_file_vprintf(st_file *f, const char *fmt, va_list ap) ST_ATTR_PRINTF(2, 0);

/**
 * @brief Writes strings separated by @p sep and followed by @p end. Mirrors
 *        print(*args, sep=sep, end=end, file=f): each piece is one write, as in Python.
 * @param f The file.
 * @param args A NULL-terminated vector of text (a literal array or st_sys_argv() pass as they
 *        are); NULL prints nothing but @p end.
 * @param sep Between the strings; NULL is " ".
 * @param end After them; NULL is "\\n".
 * @return 0, or -1 with the errors of st_file_write().
 */
ST_API int st_file_print(st_file *f, const char *const *args, const char *sep, const char *end);

/**
 * @brief Writes what is buffered. Mirrors flush().
 * @param f The file.
 * @return 0, or -1 with ValueError (closed) or OSError.
 */
ST_API int st_file_flush(st_file *f);

/**
 * @brief The current position. Mirrors tell(): a byte offset for binary files, an opaque
 *        cookie for text files that st_file_seek() takes back (see the group's notes).
 * @param f The file.
 * @return The position, or -1 with ValueError (closed) or OSError (ESPIPE on a pipe).
 */
ST_API int64_t st_file_tell(st_file *f);

/**
 * @brief Moves the position. Mirrors seek(offset, whence). Binary: as lseek(2) (whence may also
 *        be SEEK_DATA or SEEK_HOLE where the system has them). Text, as
 *        TextIOWrapper: whence 0 takes a tell() cookie, whence 1 and 2 only offset 0
 *        (io.UnsupportedOperation "can't do nonzero cur-relative seeks" otherwise).
 * @param f The file.
 * @param offset The offset or cookie.
 * @param whence 0, 1 or 2.
 * @return The new position (a cookie for text), or -1 with ValueError ("invalid whence (3,
 *         should be 0, 1 or 2)" for text, "whence value 5 unsupported" for binary, "negative
 *         seek position -1", closed),
 *         io.UnsupportedOperation or OSError.
 */
ST_API int64_t st_file_seek(st_file *f, int64_t offset, int whence);

/**
 * @brief Cuts or extends the file to @p size bytes; the position does not move. Mirrors
 *        truncate(size).
 * @param f The file.
 * @param size The new size, or ::ST_IO_NONE for the current position (Python's None).
 * @return The size, or -1 with ValueError (closed), io.UnsupportedOperation (not writable) or
 *         OSError.
 */
ST_API int64_t st_file_truncate(st_file *f, int64_t size);

/**
 * @brief The descriptor. Mirrors fileno().
 * @param f The file.
 * @return The descriptor, or -1 with ValueError "I/O operation on closed file" (FileIO's
 *         message, without a full stop) or io.UnsupportedOperation "fileno"
 *         (over a BytesIO).
 */
ST_API int st_file_fileno(const st_file *f);

/**
 * @brief Whether the file is a terminal. Mirrors isatty().
 * @param f The file.
 * @return 1 or 0 (always 0 over a BytesIO), -1 with ValueError (closed).
 */
ST_API int st_file_isatty(const st_file *f);

/**
 * @brief Whether the file was opened for reading. Mirrors readable().
 * @param f The file.
 * @return 1 or 0, -1 with ValueError (closed).
 */
ST_API int st_file_readable(const st_file *f);

/**
 * @brief Whether the file was opened for writing. Mirrors writable().
 * @param f The file.
 * @return 1 or 0, -1 with ValueError (closed).
 */
ST_API int st_file_writable(const st_file *f);

/**
 * @brief Whether the file can seek. Mirrors seekable().
 * @param f The file.
 * @return 1 or 0 (a pipe, a terminal), -1 with ValueError (closed).
 */
ST_API int st_file_seekable(const st_file *f);

/**
 * @brief The text file's encoding. Mirrors the `encoding` attribute, with CPython's canonical
 *        name ("utf-8", "ascii", "latin-1") rather than the name given.
 * @param f The file.
 * @return A static string; NULL with AttributeError for a binary file.
 */
ST_API const char *st_file_encoding(const st_file *f);

/**
 * @brief The text file's error handler. Mirrors the `errors` attribute.
 * @param f The file.
 * @return A static string; NULL with AttributeError for a binary file.
 */
ST_API const char *st_file_errors(const st_file *f);

/**
 * @brief Whether writes of \\n or \\r flush. Mirrors TextIOWrapper.line_buffering.
 * @param f The file.
 * @return 1 or 0, -1 with ValueError (closed).
 */
ST_API int st_file_line_buffering(const st_file *f);

/**
 * @brief Reads a line from sys.stdin after writing @p prompt to sys.stdout. Mirrors the
 *        builtin input(prompt): stdout is flushed first, the newline is stripped.
 * @param prompt Written first, or NULL.
 * @param len Receives the length in bytes, or NULL.
 * @return The line the caller frees with st_free(); NULL with EOFError "EOF when reading a
 *         line" at the end of input, or the errors of st_file_readline().
 */
ST_API char *st_io_input(const char *prompt, size_t *len);

#ifdef __cplusplus
}
#endif

/** @} */

#endif
