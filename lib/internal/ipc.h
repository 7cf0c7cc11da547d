/* Internal: what ipc/connection.c shares with the listener and the handshake (ipc/listener.c,
 * ipc/auth.c), and the frame header, which its tests check. */
#ifndef ST_INTERNAL_IPC_H
#define ST_INTERNAL_IPC_H

#include <stddef.h>

/* Longest header: -1 as a 4-byte signed int, then an 8-byte length. */
#define ST__FRAME_HEADER_MAX 12

/* Writes the header for a len-byte message into hdr, exactly as
 * Connection._send_bytes does (struct "!i", or "!i" -1 plus "!Q" beyond 0x7fffffff);
 * returns its length, 4 or 12. */
size_t st__conn_frame_header(size_t len, unsigned char hdr[ST__FRAME_HEADER_MAX]);

typedef struct st_connection st_connection;

/* Bounds every blocking read of c by a monotonic deadline (st__deadline()), after which the
 * read fails with TimeoutError "timed out"; -1 removes it. For the handshake, whose peer may
 * stop halfway through a message: a timeout that only covered the wait for a message to begin
 * would not do. */
void st__conn_set_deadline(st_connection *c, double deadline);

/* Whether c holds input it read ahead (so it is ready without a poll()): 1 or 0. */
int st__conn_has_input(const st_connection *c);

/* 0 when this build can authenticate (HMAC from libcrypto), else -1 with NotImplementedError:
 * the listener and the client check it before they touch the network. */
int st__ipc_auth_available(void);

#endif
