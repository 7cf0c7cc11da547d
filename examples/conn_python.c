/* Talking to a Python process over a Pipe: the child is CPython running
 * multiprocessing.connection.Connection on the descriptor we pass it (pass_fds), and both
 * sides speak multiprocessing's framing: raw bytes first (send_bytes/recv_bytes), then whole
 * values as pickles (send/recv). The Python peer is $ST_PYTHON3, else python3. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systools/systools.h>

static const char PEER[] =
    "import sys\n"
    "from multiprocessing.connection import Connection\n"
    "conn = Connection(int(sys.argv[1]))\n"
    "conn.send_bytes(b'hello from Python')\n"
    "while True:\n"
    "    msg = conn.recv_bytes()\n"
    "    if msg == b'now values':\n"
    "        break\n"
    "    conn.send_bytes(msg.upper() + b' (%d bytes)' % len(msg))\n"
    "obj = conn.recv()\n"
    "conn.send({'got': obj, 'keys': sorted(obj), 'total': sum(obj['numbers'])})\n"
    "conn.close()\n";

static int fail(void)
{
    fprintf(stderr, "%s: %s\n", st_error_last()->type, st_error_message());
    return 1;
}

static int show_reply(st_connection *c)
{
    size_t len;
    unsigned char *reply = st_connection_recv_bytes(c, 1 << 20, &len); /* a sane upper bound */
    if (!reply)
        return fail();
    printf("python says: %s\n", (char *)reply);
    st_free(reply);
    return 0;
}

int main(void)
{
    st_connection *mine, *theirs;
    if (st_ipc_pipe(&mine, &theirs, 1) < 0)
        return fail();
    int fd = st_connection_fileno(theirs);
    char fdtext[16];
    snprintf(fdtext, sizeof fdtext, "%d", fd);
    const char *py = getenv("ST_PYTHON3");
    const char *argv[] = {py && *py ? py : "python3", "-c", PEER, fdtext, NULL};
    st_popen_options o = ST_POPEN_OPTIONS_INIT;
    o.pass_fds = &fd;
    o.pass_fds_len = 1;
    st_popen *child = st_popen_new(argv, &o);
    if (!child)
        return fail();
    st_connection_free(theirs); /* the child has its copy */

    if (show_reply(mine) != 0)
        return 1;
    const char *words[] = {"spam", "eggs and ham", ""};
    for (size_t i = 0; i < 3; i++) {
        if (st_connection_send_bytes(mine, words[i], strlen(words[i])) < 0)
            return fail();
        if (show_reply(mine) != 0)
            return 1;
    }
    st_connection_send_bytes(mine, "now values", 10);
    st_value *mine_v = st_value_parse("{'numbers': [1, 2, 3.5], 'name': 'C'}");
    if (!mine_v || st_connection_send(mine, mine_v) < 0)
        return fail();
    st_value_unref(mine_v);
    st_value *reply = st_connection_recv(mine, 30.0);
    if (!reply)
        return fail();
    char *text = st_value_repr(reply);
    printf("python sent back: %s\n", text);
    st_free(text);
    st_value_unref(reply);
    /* The peer closes its end: we see a clean EOFError, not a hang. */
    if (!st_connection_recv(mine, 30.0))
        printf("then: %s\n", st_error_last()->type);
    st_connection_free(mine);
    int rc = -1;
    st_popen_wait(child, ST_NO_TIMEOUT, &rc);
    st_popen_free(child);
    printf("python exited with %d\n", rc);
    return 0;
}
