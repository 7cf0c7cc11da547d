/* ipc: multiprocessing.connection's Listener, Client and wait() over sockets; the connections
 * they make are connection.c's, the handshake is auth.c's. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "internal/error.h"
#include "internal/ipc.h"
#include "internal/mem.h"
#include "internal/options.h"
#include "internal/posix.h"
#include "st_config.h"
#include "systools/ipc.h"

/* An address the library filled: the strings live in `text`. */
typedef struct owned_address {
    st_ipc_address pub;
    char *text;
} owned_address;

struct st_listener {
    int fd; /* -1 once closed */
    owned_address address;
    owned_address last;
    int has_last;
    char *unlink_path; /* the socket file to remove on close, or NULL */
    char *temp_dir;    /* the private directory of an arbitrary address, or NULL */
    unsigned char *authkey;
    size_t authkey_len;
    int has_authkey;
    double handshake_timeout;
};

static int family_of(const st_ipc_address *a)
{
    if (a->family != ST_IPC_AF_DEFAULT)
        return a->family;
    return a->path ? ST_IPC_AF_UNIX : ST_IPC_AF_INET;
}

static size_t path_len_of(const st_ipc_address *a)
{
    return a->path_len ? a->path_len : strlen(a->path);
}

static int is_abstract(const st_ipc_address *a) { return path_len_of(a) > 0 && a->path[0] == '\0'; }

/* The sockaddr of an AF_UNIX address. */
static int unix_sockaddr(const st_ipc_address *a, struct sockaddr_un *sun, socklen_t *len)
{
    size_t n = path_len_of(a);
    memset(sun, 0, sizeof *sun);
    sun->sun_family = AF_UNIX;
    /* A path needs its NUL inside sun_path; an abstract name is counted by the length alone. */
    if (n + !is_abstract(a) > sizeof sun->sun_path)
        return ST_RAISE_AS(ST_EVALUE, "OSError", "AF_UNIX path too long"); /* no errno */
    memcpy(sun->sun_path, a->path, n);
    *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + !is_abstract(a));
    return 0;
}

/* Resolves host and port as Python's socket module does for a (host, port) tuple: "" is every
 * interface, a name goes through getaddrinfo() for the family. Caller frees *res. */
static int inet_resolve(const st_ipc_address *a, int passive, struct addrinfo **res)
{
    if (a->port < 0 || a->port > 65535)
        return ST_RAISE(ST_EOVERFLOW, "bind(): port must be 0-65535.");
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = family_of(a) == ST_IPC_AF_INET6 ? AF_INET6 : AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
    const char *host = a->host ? a->host : "localhost";
    char port[8];
    snprintf(port, sizeof port, "%d", a->port);
    int e = getaddrinfo(*host ? host : NULL, port, &hints, res);
    if (e == EAI_SYSTEM)
        return ST_RAISE_OS(errno, "cannot resolve '%s'", host);
    if (e != 0)
        return ST_RAISE_AS(ST_EVALUE, "socket.gaierror", "[Errno %d] %s", e, gai_strerror(e));
    return 0;
}

/* A close-on-exec stream socket of the family. */
static int new_socket(int domain)
{
#if defined(ST_HAVE_SOCK_CLOEXEC)
    int fd = socket(domain, SOCK_STREAM | SOCK_CLOEXEC, 0);
#else
    int fd = socket(domain, SOCK_STREAM, 0);
    if (fd >= 0 && st__set_cloexec(fd, 1) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        fd = -1;
    }
#endif
    if (fd < 0)
        return ST_RAISE_OS(errno, "cannot create a socket");
    return fd;
}

/* Fills *out from a socket address (getsockname(), accept()). */
static int address_from(const struct sockaddr *sa, socklen_t len, owned_address *out)
{
    char buf[INET6_ADDRSTRLEN + sizeof(struct sockaddr_un)];
    free(out->text);
    memset(out, 0, sizeof *out);
    size_t n = 0;
    if (sa->sa_family == AF_UNIX) {
        const struct sockaddr_un *sun = (const struct sockaddr_un *)(const void *)sa;
        size_t off = offsetof(struct sockaddr_un, sun_path);
        n = len > off ? (size_t)len - off : 0;
        if (n > sizeof sun->sun_path)
            n = sizeof sun->sun_path;
        /* A path's length may count its NUL (Linux) or not: up to the NUL, as Python does. */
        if (n && sun->sun_path[0] != '\0') {
            const char *nul = memchr(sun->sun_path, '\0', n);
            if (nul)
                n = (size_t)(nul - sun->sun_path);
        }
        memcpy(buf, sun->sun_path, n);
        out->pub.family = ST_IPC_AF_UNIX;
    } else {
        const void *addr;
        if (sa->sa_family == AF_INET6) {
            const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)sa;
            addr = &s6->sin6_addr;
            out->pub.port = ntohs(s6->sin6_port);
            out->pub.family = ST_IPC_AF_INET6;
        } else {
            const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)sa;
            addr = &s4->sin_addr;
            out->pub.port = ntohs(s4->sin_port);
            out->pub.family = ST_IPC_AF_INET;
        }
        if (!inet_ntop(sa->sa_family, addr, buf, sizeof buf))
            return ST_RAISE_OS(errno, "cannot format an address");
        n = strlen(buf);
    }
    if (!(out->text = st__malloc(n + 1)))
        return ST_TRACE();
    memcpy(out->text, buf, n);
    out->text[n] = '\0';
    if (out->pub.family == ST_IPC_AF_UNIX) {
        out->pub.path = out->text;
        out->pub.path_len = n;
    } else {
        out->pub.host = out->text;
    }
    return 0;
}

/* arbitrary_address('AF_UNIX'): a socket path in a new private directory. */
static int arbitrary_path(st_listener *l, char **path)
{
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp)
        tmp = "/tmp";
    size_t n = strlen(tmp);
    if (!(l->temp_dir = st__malloc(n + sizeof "/pymp-XXXXXX")))
        return ST_TRACE();
    memcpy(l->temp_dir, tmp, n);
    memcpy(l->temp_dir + n, "/pymp-XXXXXX", sizeof "/pymp-XXXXXX");
    if (!mkdtemp(l->temp_dir)) {
        int e = errno;
        free(l->temp_dir);
        l->temp_dir = NULL;
        return ST_RAISE_OS(e, "cannot create a directory in '%s'", tmp);
    }
    if (!(*path = st__malloc(n + sizeof "/pymp-XXXXXX/listener")))
        return ST_TRACE();
    memcpy(*path, l->temp_dir, n + sizeof "/pymp-XXXXXX" - 1);
    memcpy(*path + n + sizeof "/pymp-XXXXXX" - 1, "/listener", sizeof "/listener");
    return 0;
}

/* Binds and listens (SocketListener.__init__), recording the address. */
static int bind_listen(st_listener *l, const st_ipc_address *a, int backlog)
{
    int family = family_of(a);
    if (family == ST_IPC_AF_UNIX) {
        st_ipc_address temp = *a;
        char *path = NULL;
        if (!a->path) {
            if (arbitrary_path(l, &path) < 0)
                return ST_TRACE();
            temp.path = path;
            temp.path_len = 0;
        }
        struct sockaddr_un sun;
        socklen_t len;
        int r = unix_sockaddr(&temp, &sun, &len);
        if (r == 0)
            r = l->fd = new_socket(AF_UNIX);
        if (r >= 0 && bind(l->fd, (struct sockaddr *)&sun, len) < 0) {
            if (is_abstract(&temp) && (errno == EINVAL || errno == ENOENT))
                r = ST_RAISE_OS(errno, "abstract socket names are not supported here");
            else
                r = ST_RAISE_OS(errno, "cannot bind to '%.*s'", (int)path_len_of(&temp), temp.path);
        }
        if (r >= 0 && !is_abstract(&temp)) {
            /* Only a file this listener made is removed by close, as Python's Finalize. */
            size_t n = path_len_of(&temp);
            if (!(l->unlink_path = st__malloc(n + 1)))
                r = ST_TRACE();
            else {
                memcpy(l->unlink_path, temp.path, n);
                l->unlink_path[n] = '\0';
            }
        }
        free(path);
        if (r < 0)
            return ST_TRACE();
    } else {
        struct addrinfo *res;
        if (inet_resolve(a, 1, &res) < 0)
            return ST_TRACE();
        l->fd = new_socket(res->ai_family);
        int one = 1;
        int r = l->fd;
        if (r >= 0 && setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
            r = ST_RAISE_OS(errno, "cannot set SO_REUSEADDR");
        if (r >= 0 && bind(l->fd, res->ai_addr, res->ai_addrlen) < 0)
            r = ST_RAISE_OS(errno, "cannot bind to ('%s', %d)", a->host ? a->host : "localhost",
                            a->port);
        freeaddrinfo(res);
        if (r < 0)
            return ST_TRACE();
    }
    if (listen(l->fd, backlog) < 0)
        return ST_RAISE_OS(errno, "cannot listen");
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(l->fd, (struct sockaddr *)&ss, &sl) < 0)
        return ST_RAISE_OS(errno, "cannot get the socket's address");
    return address_from((struct sockaddr *)&ss, sl, &l->address) < 0 ? ST_TRACE() : 0;
}

int st_listener_options_init(st_listener_options *opts, unsigned int version)
{
    return st__options_init(opts, ST_OPTIONS_SIZES(sizeof *opts), version,
                            ST_LISTENER_OPTIONS_VERSION, "st_listener_options");
}

st_listener *st_listener_new(const st_ipc_address *address, const st_listener_options *opts)
{
    static const st_listener_options defaults = ST_LISTENER_OPTIONS_INIT;
    static const st_ipc_address none = {ST_IPC_AF_UNIX, NULL, 0, NULL, 0};
    if (ST_OPTIONS_CHECK(opts, ST_LISTENER_OPTIONS_VERSION, "st_listener_options") < 0)
        return (ST_TRACE(), NULL);
    if (!opts)
        opts = &defaults;
    if (!address)
        address = &none;
    if (opts->authkey && st__ipc_auth_available() < 0)
        return (ST_TRACE(), NULL);
    if (opts->handshake_timeout < 0)
        return (ST_RAISE(ST_EVALUE, "handshake_timeout must be positive, or 0 for none"), NULL);
    st_listener *l = st__calloc(1, sizeof *l);
    if (!l)
        return (ST_TRACE(), NULL);
    l->fd = -1;
    l->handshake_timeout = opts->handshake_timeout;
    if (opts->authkey) {
        l->has_authkey = 1;
        l->authkey_len = opts->authkey_len;
        if (!(l->authkey = st__malloc(opts->authkey_len + 1))) {
            st_listener_free(l);
            return (ST_TRACE(), NULL);
        }
        memcpy(l->authkey, opts->authkey, opts->authkey_len);
    }
    if (bind_listen(l, address, opts->backlog > 0 ? opts->backlog : 1) < 0) {
        st_listener_free(l);
        return (ST_TRACE(), NULL);
    }
    return l;
}

static int check_listener(const st_listener *l)
{
    if (l->fd < 0)
        return ST_RAISE_AS(ST_ESTATE, "OSError", "listener is closed");
    return 0;
}

/* Runs a handshake step under the connection's deadline. */
static int handshake(st_connection *c, double timeout, const unsigned char *key, size_t klen,
                     int serving)
{
    if (timeout > 0)
        st__conn_set_deadline(c, st__deadline(timeout));
    int r = serving ? st_ipc_deliver_challenge(c, key, klen) : st_ipc_answer_challenge(c, key, klen);
    if (r == 0)
        r = serving ? st_ipc_answer_challenge(c, key, klen) : st_ipc_deliver_challenge(c, key, klen);
    st__conn_set_deadline(c, -1);
    return r < 0 ? ST_TRACE() : 0;
}

st_connection *st_listener_accept(st_listener *l)
{
    if (check_listener(l) < 0)
        return (ST_TRACE(), NULL);
    struct sockaddr_storage ss;
    socklen_t sl;
    int fd;
    do {
        sl = sizeof ss;
#if defined(ST_HAVE_ACCEPT4)
        fd = accept4(l->fd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
#else
        fd = accept(l->fd, (struct sockaddr *)&ss, &sl);
#endif
    } while (fd < 0 && (errno == EINTR || errno == ECONNABORTED));
    if (fd < 0)
        return (ST_RAISE_OS(errno, "cannot accept a connection"), NULL);
#if !defined(ST_HAVE_ACCEPT4)
    st__set_cloexec(fd, 1);
#endif
    if (address_from((struct sockaddr *)&ss, sl, &l->last) < 0) {
        close(fd);
        return (ST_TRACE(), NULL);
    }
    l->has_last = 1;
    st_connection *c = st_connection_new(fd, 1, 1);
    if (!c)
        return (ST_TRACE(), NULL);
    if (l->has_authkey && handshake(c, l->handshake_timeout, l->authkey, l->authkey_len, 1) < 0) {
        st_connection_free(c);
        return (ST_TRACE(), NULL);
    }
    return c;
}

int st_listener_close(st_listener *l)
{
    if (!l)
        return 0;
    int r = 0;
    if (l->fd >= 0) {
        int fd = l->fd;
        l->fd = -1;
        if (close(fd) < 0 && errno != EINTR) /* EINTR: the descriptor is gone all the same */
            r = ST_RAISE_OS(errno, "cannot close the listener");
    }
    /* Also what a listener that failed half-way through st_listener_new() had made. */
    if (l->unlink_path) {
        unlink(l->unlink_path);
        free(l->unlink_path);
        l->unlink_path = NULL;
    }
    if (l->temp_dir) {
        rmdir(l->temp_dir);
        free(l->temp_dir);
        l->temp_dir = NULL;
    }
    return r;
}

void st_listener_free(st_listener *l)
{
    if (!l)
        return;
    st_listener_close(l);
    free(l->address.text);
    free(l->last.text);
    free(l->authkey);
    free(l);
}

int st_listener_closed(const st_listener *l) { return l->fd < 0; }

int st_listener_fileno(const st_listener *l)
{
    if (check_listener(l) < 0)
        return ST_TRACE();
    return l->fd;
}

const st_ipc_address *st_listener_address(const st_listener *l) { return &l->address.pub; }

const st_ipc_address *st_listener_last_accepted(const st_listener *l)
{
    return l->has_last ? &l->last.pub : NULL;
}

/* ---- Client ---- */

int st_ipc_client_options_init(st_ipc_client_options *opts, unsigned int version)
{
    return st__options_init(opts, ST_OPTIONS_SIZES(sizeof *opts), version,
                            ST_IPC_CLIENT_OPTIONS_VERSION, "st_ipc_client_options");
}

/* connect() retried on EINTR: a connect that was interrupted goes on in the background, so the
 * retry waits for it to finish instead of starting another. */
static int connect_retry(int fd, const struct sockaddr *sa, socklen_t len)
{
    if (connect(fd, sa, len) == 0)
        return 0;
    if (errno != EINTR)
        return -1;
    struct pollfd p = {fd, POLLOUT, 0};
    while (poll(&p, 1, -1) < 0)
        if (errno != EINTR)
            return -1;
    int err = 0;
    socklen_t el = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
        return -1;
    errno = err;
    return err ? -1 : 0;
}

st_connection *st_ipc_client(const st_ipc_address *address, const st_ipc_client_options *opts)
{
    static const st_ipc_client_options defaults = ST_IPC_CLIENT_OPTIONS_INIT;
    if (ST_OPTIONS_CHECK(opts, ST_IPC_CLIENT_OPTIONS_VERSION, "st_ipc_client_options") < 0)
        return (ST_TRACE(), NULL);
    if (!opts)
        opts = &defaults;
    if (!address)
        return (ST_RAISE(ST_EVALUE, "address type of None unrecognized"), NULL);
    if (opts->authkey && st__ipc_auth_available() < 0)
        return (ST_TRACE(), NULL);
    if (opts->handshake_timeout < 0)
        return (ST_RAISE(ST_EVALUE, "handshake_timeout must be positive, or 0 for none"), NULL);
    int fd;
    if (family_of(address) == ST_IPC_AF_UNIX) {
        if (!address->path)
            return (ST_RAISE(ST_EVALUE, "an AF_UNIX address needs a path"), NULL);
        struct sockaddr_un sun;
        socklen_t len;
        if (unix_sockaddr(address, &sun, &len) < 0 || (fd = new_socket(AF_UNIX)) < 0)
            return (ST_TRACE(), NULL);
        if (connect_retry(fd, (struct sockaddr *)&sun, len) < 0) {
            int e = errno;
            close(fd);
            return (ST_RAISE_OS(e, "cannot connect to '%.*s'", (int)path_len_of(address),
                                address->path), NULL);
        }
    } else {
        struct addrinfo *res;
        if (inet_resolve(address, 0, &res) < 0)
            return (ST_TRACE(), NULL);
        int e = 0;
        fd = -1;
        /* socket.connect() of a (host, port) tuple tries the first address only. */
        if ((fd = new_socket(res->ai_family)) >= 0 && connect_retry(fd, res->ai_addr, res->ai_addrlen) < 0) {
            e = errno;
            close(fd);
        }
        freeaddrinfo(res);
        if (fd < 0)
            return (ST_TRACE(), NULL);
        if (e)
            return (ST_RAISE_OS(e, "cannot connect to ('%s', %d)",
                                address->host ? address->host : "localhost", address->port), NULL);
    }
    st_connection *c = st_connection_new(fd, 1, 1);
    if (!c)
        return (ST_TRACE(), NULL);
    if (opts->authkey && handshake(c, opts->handshake_timeout, opts->authkey, opts->authkey_len, 0) < 0) {
        st_connection_free(c);
        return (ST_TRACE(), NULL);
    }
    return c;
}

/* ---- wait ---- */

int st_ipc_wait(st_ipc_waitable *objects, size_t n, double timeout, size_t *nready)
{
    struct pollfd small[16];
    struct pollfd *p = small;
    *nready = 0;
    if (n > sizeof small / sizeof *small && !(p = st__calloc(n, sizeof *p)))
        return ST_TRACE();
    size_t ready = 0;
    int r = 0;
    for (size_t i = 0; i < n && r == 0; i++) {
        st_ipc_waitable *o = &objects[i];
        o->ready = 0;
        if (o->connection) {
            r = p[i].fd = st_connection_fileno(o->connection);
            if (r >= 0 && st__conn_has_input(o->connection)) {
                o->ready = 1;
                ready++;
            }
        } else if (o->listener) {
            r = p[i].fd = st_listener_fileno(o->listener);
        } else if ((p[i].fd = o->fd) < 0) {
            r = ST_RAISE(ST_EVALUE, "file descriptor cannot be a negative integer (%d)", o->fd);
        }
        r = r < 0 ? -1 : 0;
        p[i].events = POLLIN;
        p[i].revents = 0;
    }
    double deadline = st__deadline(ready ? 0 : timeout);
    while (r == 0) {
        int ms = st__deadline_ms(deadline);
        int k = poll(p, (nfds_t)n, ms);
        if (k < 0 && errno != EINTR) {
            r = ST_RAISE_OS(errno, "cannot poll");
        } else if (k > 0 || ready || ms == 0 || (k == 0 && st__deadline_ms(deadline) == 0)) {
            break;
        }
    }
    if (r == 0) {
        for (size_t i = 0; i < n; i++) {
            if (!objects[i].ready && p[i].revents) {
                objects[i].ready = 1;
                ready++;
            }
        }
        *nready = ready;
    }
    if (p != small)
        free(p);
    return r < 0 ? ST_TRACE() : 0;
}
