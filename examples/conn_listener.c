/* conn_listener: a C service that CPython's multiprocessing.connection.Client talks to. Usage:
 * `conn_listener ADDRESS AUTHKEY`, ADDRESS a path (with a '/') or host:port (port 0 picks one),
 * AUTHKEY `-` for none. It prints the address it listens on (the port it got), then serves one
 * client after another: each value received goes back as {'echo': value}. After a client that
 * sent 'shutdown' has gone, it exits 0. A client that fails the handshake is reported on stderr
 * and the next one is served. From Python:
 *
 *     from multiprocessing.connection import Client
 *     with Client('/tmp/demo.sock', authkey=b'secret') as c:
 *         c.send([1, 2]); print(c.recv())      # {'echo': [1, 2]}
 */
#include <stdio.h>
#include <string.h>

#include <systools/systools.h>

#include "conn_address.h"

static int fail(void)
{
    fprintf(stderr, "%s: %s\n", st_error_last()->type, st_error_message());
    return 1;
}

/* Echoes values until the client closes; 1 when one of them was the str 'shutdown'. */
static int serve(st_connection *c)
{
    int shutdown = 0;
    st_value *v;
    while ((v = st_connection_recv(c, ST_NO_TIMEOUT))) {
        size_t len;
        const char *s = st_value_kind(v) == ST_VALUE_STR ? st_value_str_data(v, &len) : NULL;
        if (s && len == 8 && !memcmp(s, "shutdown", 8))
            shutdown = 1;
        st_value *reply = st_value_dict();
        st_value_dict_set_steal(reply, st_value_str("echo"), v); /* the dict takes v */
        int r = st_connection_send(c, reply);
        st_value_unref(reply);
        if (r < 0)
            break;
    }
    if (st_error_code() != ST_EEOF) /* the client's close is the normal end */
        fail();
    return shutdown;
}

int main(int argc, char **argv)
{
    st_ipc_address where;
    if (argc != 3) {
        fprintf(stderr, "usage: conn_listener ADDRESS AUTHKEY   (AUTHKEY - for none)\n");
        return 2;
    }
    if (conn_address_parse(argv[1], &where) < 0)
        return 2;
    st_listener_options opts = ST_LISTENER_OPTIONS_INIT;
    if (strcmp(argv[2], "-") != 0) {
        opts.authkey = argv[2];
        opts.authkey_len = strlen(argv[2]);
    }
    st_listener *l = st_listener_new(&where, &opts);
    if (!l)
        return fail();
    const st_ipc_address *a = st_listener_address(l);
    if (a->family == ST_IPC_AF_UNIX)
        printf("%s\n", a->path);
    else
        printf(a->family == ST_IPC_AF_INET6 ? "[%s]:%d\n" : "%s:%d\n", a->host, a->port);
    fflush(stdout); /* whoever started us reads the address before connecting */
    int done = 0;
    while (!done) {
        st_connection *c = st_listener_accept(l);
        if (!c) {
            if (st_error_code() == ST_ESTATE || st_error_code() == ST_ENOTSUP)
                break;
            fail(); /* that client only: serve the next one */
            continue;
        }
        done = serve(c);
        st_connection_free(c);
    }
    st_listener_free(l);
    return done ? 0 : 1;
}
