/* Fuzzes the authkey handshake (st_ipc_answer_challenge and st_ipc_deliver_challenge) against
 * a peer that sends arbitrary bytes and then stops: challenges with any digest prefix, replies
 * of any length, frame headers announcing anything up to 2**64 bytes, cut frames. The first
 * input byte picks the side and the key. Nothing may crash, hang, leak or allocate what a
 * header claims; each run ends in success or in one of the handshake's errors. */
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include "systools/error.h"
#include "systools/ipc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 60000) /* the whole input must fit in the socket at once */
        return 0;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
        return 0;
    ssize_t put = write(sv[0], data + 1, size - 1);
    shutdown(sv[0], SHUT_WR); /* then the peer stops: the reads must end */
    st_connection *c = st_connection_new(sv[1], 1, 1);
    if (put != (ssize_t)(size - 1) || !c) {
        st_connection_free(c);
        close(sv[0]);
        return 0;
    }
    const char *key = data[0] & 2 ? "secret key" : "";
    size_t klen = data[0] & 2 ? 10 : 0;
    int r = data[0] & 1 ? st_ipc_deliver_challenge(c, key, klen)
                        : st_ipc_answer_challenge(c, key, klen);
    int code = st_error_code();
    /* Authentication refused, the peer gone or malformed, a length past ssize_t; without
     * libcrypto, the clear refusal. */
    if (r < 0 && code != ST_EAUTH && code != ST_EEOF && code != ST_EFORMAT &&
        code != ST_EOVERFLOW && code != ST_ENOTSUP)
        __builtin_trap();
    st_connection_free(c);
    close(sv[0]);
    return 0;
}
