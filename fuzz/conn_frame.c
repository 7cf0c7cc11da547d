/* Fuzzes the receiving side of a connection: arbitrary bytes arrive on a pipe (headers with any
 * length, the 8-byte long form, cut frames) and are read as messages until the stream ends.
 * The first input byte picks a max message size, so both the limited and the unlimited paths
 * run; nothing may crash, leak, or allocate what a header merely claims. */
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
    st_conn *r, *w;
    if (st_pipe_connection(&r, &w, 0) < 0)
        return 0;
    size_t limits[4] = {ST_CONN_NO_LIMIT, 0, 16, 4096};
    st_conn_set_max_message_size(r, limits[data[0] & 3]);
    ssize_t put = write(st_conn_fileno(w), data + 1, size - 1);
    st_conn_free(w);
    if (put != (ssize_t)(size - 1)) {
        st_conn_free(r);
        return 0;
    }
    size_t total = 0;
    for (;;) {
        size_t len;
        unsigned char *m = st_conn_recv_bytes(r, ST_CONN_NO_LIMIT, &len);
        if (!m)
            break;
        total += len + 4;
        st_free(m);
        if (total > size) /* more message bytes than went in: a framing bug */
            __builtin_trap();
    }
    int code = st_error_code();
    if (code != ST_EEOF && code != ST_EFORMAT && code != ST_ESTATE)
        __builtin_trap();
    st_conn_free(r);
    return 0;
}
