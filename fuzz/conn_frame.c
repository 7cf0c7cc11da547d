/* Fuzzes the receiving side of a connection: arbitrary bytes arrive on a pipe or a socket pair
 * (headers with any length, the 8-byte long form, cut frames) and are read as messages until
 * the stream ends. The first input byte picks a max message size, so both the limited and the
 * unlimited paths run, the kind of descriptor, and whether messages are received into a
 * buffer (large, or small enough to be too short); nothing may crash, leak, or allocate what a
 * header merely claims. (Values are left to the unpickle target.) */
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include "systools/error.h"
#include "systools/ipc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 60000) /* the whole input must fit in the pipe at once */
        return 0;
    st_connection *r, *w;
    if (st_ipc_pipe(&r, &w, data[0] >> 2 & 1) < 0)
        return 0;
    size_t limits[4] = {ST_CONNECTION_NO_LIMIT, 0, 16, 4096};
    st_connection_set_max_message_size(r, limits[data[0] & 3]);
    ssize_t put = write(st_connection_fileno(w), data + 1, size - 1);
    st_connection_free(w);
    if (put != (ssize_t)(size - 1)) {
        st_connection_free(r);
        return 0;
    }
    size_t total = 0;
    static unsigned char into[20000]; /* large enough to be read into directly */
    size_t cap = data[0] & 8 ? sizeof into : data[0] & 16 ? 5 : 0;
    for (;;) {
        size_t len;
        if (cap) {
            if (st_connection_recv_bytes_into(r, into, cap, &len) < 0) {
                if (st_error_code() != ST_EVALUE)
                    break;
                cap = 0; /* BufferTooShort: the message waits for st_connection_recv_bytes() */
                continue;
            }
        } else {
            unsigned char *m = st_connection_recv_bytes(r, ST_CONNECTION_NO_LIMIT, &len);
            if (!m)
                break;
            st_free(m);
        }
        total += len + 4;
        if (total > size) /* more message bytes than went in: a framing bug */
            __builtin_trap();
    }
    int code = st_error_code();
    /* The end, a malformed frame, a length past ssize_t (OverflowError, as os.read()), a closed
     * end: nothing else may stop the reader. */
    if (code != ST_EEOF && code != ST_EFORMAT && code != ST_EOVERFLOW && code != ST_ESTATE)
        __builtin_trap();
    st_connection_free(r);
    return 0;
}
