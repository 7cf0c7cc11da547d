/* The ADDRESS argument of conn_listener and conn_client: a path when it contains '/', else
 * host:port ([host]:port for IPv6), the form conn_listener prints. */
#ifndef CONN_ADDRESS_H
#define CONN_ADDRESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systools/ipc.h>

/* Fills *a from text, which it may modify and must outlive *a: 0, or -1 after a message. */
static int conn_address_parse(char *text, st_ipc_address *a)
{
    memset(a, 0, sizeof *a);
    if (strchr(text, '/')) {
        a->family = ST_IPC_AF_UNIX;
        a->path = text;
        return 0;
    }
    char *colon = strrchr(text, ':');
    char *end;
    long port = colon ? strtol(colon + 1, &end, 10) : -1;
    if (!colon || colon[1] == '\0' || *end || port < 0 || port > 65535) {
        fprintf(stderr, "ADDRESS must be a path (with a '/') or host:port, not '%s'\n", text);
        return -1;
    }
    *colon = '\0';
    a->family = ST_IPC_AF_INET;
    if (text[0] == '[' && colon[-1] == ']') { /* [::1]:port */
        colon[-1] = '\0';
        text++;
        a->family = ST_IPC_AF_INET6;
    }
    a->host = text;
    a->port = (int)port;
    return 0;
}

#endif
