/* Internal: the frame header of ipc/connection.c, which its tests check. */
#ifndef ST_INTERNAL_IPC_H
#define ST_INTERNAL_IPC_H

#include <stddef.h>

/* Longest header: -1 as a 4-byte signed int, then an 8-byte length. */
#define ST__FRAME_HEADER_MAX 12

/* Writes the header for a len-byte message into hdr, exactly as
 * Connection._send_bytes does (struct "!i", or "!i" -1 plus "!Q" beyond 0x7fffffff);
 * returns its length, 4 or 12. */
size_t st__conn_frame_header(size_t len, unsigned char hdr[ST__FRAME_HEADER_MAX]);

#endif
