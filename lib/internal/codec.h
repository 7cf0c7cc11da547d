/* Internal: the text codecs of the io module (lib/io/codec.c): utf-8, ascii and latin-1 with
 * CPython's error handlers, between bytes and the library's str text (UTF-8 in which lone
 * surrogates are encoded the way 'surrogatepass' does, as st_value_str_surrogatepass()). */
#ifndef ST_INTERNAL_CODEC_H
#define ST_INTERNAL_CODEC_H

#include <stddef.h>

#include "mem.h"

typedef enum st__encoding { ST__ENC_UTF8, ST__ENC_ASCII, ST__ENC_LATIN1 } st__encoding;

typedef enum st__errors {
    ST__ERR_STRICT,
    ST__ERR_REPLACE,
    ST__ERR_IGNORE,
    ST__ERR_SURROGATEESCAPE,
    ST__ERR_BACKSLASHREPLACE
} st__errors;

/* Finds an encoding by any of CPython's names for it (case, '-', '_' and ' ' do not matter:
 * "UTF8", "utf_8", "latin1", "ISO-8859-1", "US-ASCII", ...); NULL or "locale" is the locale's
 * encoding (st_sys_getfilesystemencoding()). LookupError "unknown encoding: x" otherwise. */
int st__codec_lookup(const char *name, st__encoding *enc);
/* The error handler called name; NULL is "strict". -1 for a name CPython does not know, without
 * raising: CPython looks a handler up only when a bad byte or character needs it, and then
 * fails with LookupError "unknown error handler name 'x'". */
int st__codec_errors(const char *name, st__errors *errors);
/* CPython's canonical name of an encoding ("utf-8", "ascii", "latin-1"; codecs.lookup(x).name
 * says "iso8859-1" for the last, TextIOWrapper.encoding the name given). */
const char *st__codec_name(st__encoding enc);

/* Decodes in[0..len) and appends the text to out. With final 0, an incomplete sequence at the
 * end is left undecoded (an incremental decoder's state): *used says how many bytes were
 * decoded. ahead: how many bytes after in[len] may be looked at (they decide whether an invalid
 * sequence is an "unexpected end of data" or an "invalid continuation byte"). max_chars
 * (SIZE_MAX for no limit) stops after that many code points; an error handler's replacement
 * for one byte is never cut, so *nchars (the code points appended) may pass max_chars by up to
 * 3 under backslashreplace. An error names the position base + i of the bad byte in[i] (base:
 * the stream offset of in, or 0 to count from in). out NULL only checks. */
int st__codec_decode(st__encoding enc, st__errors errors, const unsigned char *in, size_t len,
                     size_t ahead, int final, size_t base, size_t max_chars, st__buf *out,
                     size_t *used, size_t *nchars);
/* Whether in[0..len) decodes to itself, whatever the handler: valid UTF-8 for utf-8, ASCII
 * for the others. */
int st__codec_identity(st__encoding enc, const unsigned char *in, size_t len);
/* Encodes text (len bytes of surrogatepass UTF-8; anything else is a UnicodeDecodeError) and
 * appends the bytes to out. UnicodeEncodeError as CPython's, positions in code points. */
int st__codec_encode(st__encoding enc, st__errors errors, const char *text, size_t len,
                     st__buf *out);

#endif
