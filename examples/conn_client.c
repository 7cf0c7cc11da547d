/* conn_client: a C worker that connects to CPython's multiprocessing.connection.Listener (or
 * to conn_listener). Usage: `conn_client ADDRESS AUTHKEY`, ADDRESS a path (with a '/') or
 * host:port, AUTHKEY `-` for none. Each line of stdin goes out as a str; the repr of each reply
 * is printed on its own line. A failed handshake prints the Python exception on stderr and
 * exits 1. The Python side:
 *
 *     from multiprocessing.connection import Listener
 *     with Listener('/tmp/demo.sock', authkey=b'secret') as l, l.accept() as c:
 *         while True:
 *             try: c.send(c.recv().upper())
 *             except EOFError: break
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <systools/systools.h>

#include "conn_address.h"

static int fail(void)
{
    fprintf(stderr, "%s: %s\n", st_error_last()->type, st_error_message());
    return 1;
}

int main(int argc, char **argv)
{
    st_ipc_address where;
    if (argc != 3) {
        fprintf(stderr, "usage: conn_client ADDRESS AUTHKEY   (AUTHKEY - for none)\n");
        return 2;
    }
    if (conn_address_parse(argv[1], &where) < 0)
        return 2;
    st_ipc_client_options opts = ST_IPC_CLIENT_OPTIONS_INIT;
    if (strcmp(argv[2], "-") != 0) {
        opts.authkey = argv[2];
        opts.authkey_len = strlen(argv[2]);
    }
    st_connection *c = st_ipc_client(&where, &opts);
    if (!c)
        return fail();
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = 0;
    while ((n = getline(&line, &cap, stdin)) >= 0) {
        if (n > 0 && line[n - 1] == '\n')
            n--;
        st_value *v = st_value_str_n(line, (size_t)n); /* NUL bytes included, as in Python */
        int r = v ? st_connection_send(c, v) : -1;
        st_value_unref(v);
        st_value *reply = r == 0 ? st_connection_recv(c, ST_NO_TIMEOUT) : NULL;
        char *text = reply ? st_value_repr(reply) : NULL;
        st_value_unref(reply);
        if (!text) {
            rc = fail();
            break;
        }
        printf("%s\n", text);
        fflush(stdout);
        st_free(text);
    }
    free(line);
    st_connection_free(c);
    return rc;
}
