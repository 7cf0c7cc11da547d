/**
 * @file systools/ipc.h
 * @brief Talking between threads and processes: multiprocessing.Pipe-style connections that
 *        speak multiprocessing.connection's wire format, and a thread-safe queue.
 */
#ifndef SYSTOOLS_IPC_H
#define SYSTOOLS_IPC_H

#include <stddef.h>

#include "common.h"
#include "value.h"

/**
 * @defgroup ipc ipc: Pipe connections (multiprocessing.connection) and a thread queue (queue)
 * @brief Connections that frame messages exactly as multiprocessing.connection.Connection does,
 *        so a CPython process holding the other end with `Connection(fd)` can talk to a C
 *        program, and a FIFO through which worker threads hand values or callbacks to a main
 *        loop (the GUI pattern: producers never block the consumer; a timer drains the queue).
 *        Listeners and clients (st_listener_new(), st_ipc_client()) find peers by address and
 *        authenticate them with CPython's authkey handshake, so C and Python processes that
 *        did not fork from each other talk the same way (README: "Talking to Python").
 *
 * @code
 * st_connection *parent, *child;
 * st_ipc_pipe(&parent, &child, 1);
 * if (fork() == 0) {                         // the child talks through its end
 *     st_connection_free(parent);
 *     st_connection_send_bytes(child, "ping", 4);
 *     st_value *answer = st_value_parse("{'answer': 42}");
 *     st_connection_send(child, answer);            // pickled, as Connection.send() does
 *     _exit(0);
 * }
 * st_connection_free(child);
 * size_t len;
 * unsigned char *msg = st_connection_recv_bytes(parent, ST_CONNECTION_NO_LIMIT, &len);  // "ping"
 * st_free(msg);
 * st_value *v = st_connection_recv(parent, 5.0);   // a value the child sent with st_connection_send()
 * st_value_unref(v);
 * st_connection_free(parent);
 *
 * st_queue *q = st_queue_new();                // worker threads: st_queue_put_steal(q, v)
 * struct pollfd p = {st_queue_fileno(q), POLLIN, 0};   // readable while items wait
 * poll(&p, 1, -1);                             // the main loop sleeps until something arrived
 * st_queue_drain(q, 20, on_value, ui);         // then handles up to 20 ms' worth
 * @endcode
 * @{
 */

#ifdef __cplusplus
extern "C" {
#endif

/* ---- connections ------------------------------------------------------------------------ */

/** @brief One end of a connection (opaque). Mirrors multiprocessing.connection.Connection. */
typedef struct st_connection st_connection;

/**
 * @brief "No limit" for a message length. As the @p maxlength of st_connection_recv_bytes() it
 *        is Python's `maxlength=None` (then the limit set with
 *        st_connection_set_max_message_size() applies, none by default); given to
 *        st_connection_set_max_message_size() it removes that limit. Equal to SIZE_MAX.
 */
#define ST_CONNECTION_NO_LIMIT ((size_t)-1)

/**
 * @brief A pair of connected ends. Mirrors multiprocessing.Pipe(duplex): a socketpair when
 *        @p duplex is non-zero (both ends send and receive), else a pipe where @p a only
 *        receives and @p b only sends. The descriptors are close-on-exec; to hand an end to
 *        a program started with exec, pass st_connection_fileno() in its pass_fds (which clears
 *        the flag in the child). A receiving end reads ahead into a buffer of about 65 KiB
 *        (several small messages, or a whole message of up to 64 KiB, per read()), so only the
 *        connection may read its descriptor, and only one process may receive on a given end.
 * @param a Receives the first end (caller frees with st_connection_free()).
 * @param b Receives the second end (caller frees with st_connection_free()).
 * @param duplex Non-zero for a two-way connection (Python's default is True).
 * @return 0, or -1 with OSError (EMFILE, ...) or MemoryError; then nothing is allocated and
 *         both are set to NULL.
 */
ST_API int st_ipc_pipe(st_connection **a, st_connection **b, int duplex);

/**
 * @brief Wraps a descriptor that carries multiprocessing frames: a pipe or socket end
 *        inherited across exec, or one made elsewhere. Mirrors
 *        multiprocessing.connection.Connection(handle, readable, writable).
 * @param fd The descriptor; the connection owns it from now on (closed by st_connection_close()),
 *        even when this fails.
 * @param readable Non-zero if the connection may receive.
 * @param writable Non-zero if the connection may send.
 * @return A connection the caller frees with st_connection_free(); NULL with ValueError ("invalid
 *         handle", "at least one of `readable` and `writable` must be True") or MemoryError.
 */
ST_API st_connection *st_connection_new(int fd, int readable, int writable);

/**
 * @brief Closes the descriptor; the object stays valid for st_connection_closed() and
 *        st_connection_free(). Mirrors Connection.close(): closing twice is fine, and every
 *        other call then fails with OSError "handle is closed" (code ST_ESTATE, type
 *        "OSError").
 * @param c The connection, or NULL (then nothing happens).
 * @return 0, or -1 with OSError when close() itself failed (the descriptor is released all
 *         the same, as in Python).
 */
ST_API int st_connection_close(st_connection *c);

/**
 * @brief Closes (if needed) and releases a connection, with a message
 *        st_connection_recv_bytes_into() left waiting. Python's garbage collection of a
 *        Connection.
 * @param c The connection, or NULL (then nothing happens).
 */
ST_API void st_connection_free(st_connection *c);

/**
 * @brief Whether the connection is closed. Mirrors the Connection.closed property: true after
 *        st_connection_close(), and after a receive on a read-only end met a bad message
 *        length (Python closes it then too).
 * @param c The connection.
 * @return 1 or 0 (it cannot fail).
 */
ST_API int st_connection_closed(const st_connection *c);

/**
 * @brief The descriptor. Mirrors Connection.fileno().
 * @param c The connection.
 * @return The descriptor, or -1 with OSError "handle is closed" (ST_ESTATE).
 */
ST_API int st_connection_fileno(const st_connection *c);

/**
 * @brief Sets the largest message this end accepts when a receive passes ::ST_CONNECTION_NO_LIMIT
 *        (default: no limit, as in Python). Not in Python: a guard for a C program that
 *        receives from a peer it does not trust. A frame announcing more fails with "bad
 *        message length" before anything is allocated. Even without a limit the buffer grows
 *        beyond its first MiB only as bytes actually arrive, so a lying header cannot make the
 *        receiver allocate its claim.
 * @param c The connection.
 * @param max The limit in bytes, or ::ST_CONNECTION_NO_LIMIT.
 * @return 0, or -1 with OSError "handle is closed" (ST_ESTATE).
 */
ST_API int st_connection_set_max_message_size(st_connection *c, size_t max);

/**
 * @brief Sends one message: a 4-byte big-endian signed length, or for more than 0x7fffffff
 *        bytes the length -1 followed by an 8-byte big-endian length, then the bytes. Mirrors
 *        Connection.send_bytes(buf). A peer that has gone gives BrokenPipeError (EPIPE), never
 *        SIGPIPE.
 * @param c The connection.
 * @param data The bytes (may be NULL when @p len is 0).
 * @param len Their number.
 * @return 0, or -1 with OSError: "handle is closed" and "connection is read-only" (code
 *         ST_ESTATE, type "OSError"), or a failed write (ST_EOS: BrokenPipeError, ...).
 */
ST_API int st_connection_send_bytes(st_connection *c, const void *data, size_t len);

/**
 * @brief Receives one message, waiting for it. Mirrors Connection.recv_bytes(maxlength).
 * @param c The connection.
 * @param maxlength The longest message accepted, or ::ST_CONNECTION_NO_LIMIT to use the
 *        connection's limit (st_connection_set_max_message_size()). A longer one fails with OSError
 *        "bad message length", and, as in Python, the connection can no longer receive (it is
 *        closed if it cannot send either).
 * @param len Receives the message length.
 * @return The bytes (NUL-terminated for convenience, the NUL not counted) the caller frees
 *         with st_free(); NULL with EOFError (ST_EEOF: the peer closed before a message began),
 *         OSError ("got end of file during message" and "bad message length": ST_EFORMAT,
 *         after the first of which the next receive gives EOFError as in Python; "handle is
 *         closed" and "connection is write-only": ST_ESTATE; a failed read: ST_EOS) or
 *         MemoryError. Each OSError has type "OSError" (or the errno's subclass).
 *         Difference: Python reads a negative length other than -1 as an empty message; here
 *         it is "bad message length".
 */
ST_API unsigned char *st_connection_recv_bytes(st_connection *c, size_t maxlength, size_t *len);

/**
 * @brief Receives one message into the caller's buffer, waiting for it. Mirrors
 *        Connection.recv_bytes_into(buf, offset): no allocation per message when it fits, so a
 *        loop can reuse one buffer (pass `buf + offset` for Python's offset).
 * @param c The connection.
 * @param buf Where the message goes. Difference: all @p cap bytes may be written (a large
 *        buffer is read into directly, and may briefly hold the start of the next message),
 *        so the bytes past the message, and all of them after BufferTooShort, are unspecified.
 * @param cap The room at @p buf.
 * @param len Receives the message length (also when it did not fit).
 * @return 0, or -1 with the errors of st_connection_recv_bytes(), or multiprocessing.BufferTooShort
 *         (ST_EVALUE) when the message is longer than @p cap. Difference: Python hands the
 *         message over in the exception; here it stays whole for the next receive (of any
 *         kind), so call again with @p len bytes of room, or use st_connection_recv_bytes().
 */
ST_API int st_connection_recv_bytes_into(st_connection *c, void *buf, size_t cap, size_t *len);

/**
 * @brief Whether a message (or the end of the stream) is waiting. Mirrors
 *        Connection.poll(timeout).
 * @param c The connection.
 * @param timeout Seconds to wait; 0 just checks (Python's default); negative
 *        (::ST_NO_TIMEOUT) waits for ever (Python's None).
 * @return 1 when st_connection_recv_bytes() would not block for the start of a message (data or
 *         the peer's end is there: the receive then gives the message or EOFError), 0 when the
 *         time ran out (no error is set), -1 with OSError ("handle is closed" or "connection
 *         is write-only": ST_ESTATE; a failed poll(): ST_EOS).
 */
ST_API int st_connection_poll(st_connection *c, double timeout);

/**
 * @brief Sends a whole value, pickled. Mirrors Connection.send(obj): the message is
 *        pickle.dumps(obj) with CPython 3.13's default protocol (4), so a Python peer's
 *        Connection.recv() returns an equal object.
 * @param c The connection.
 * @param value The value (borrowed).
 * @return 0, or -1 with the errors of st_pickle_dumps() and st_connection_send_bytes().
 */
ST_API int st_connection_send(st_connection *c, const st_value *value);

/**
 * @brief Receives a whole value. Mirrors Connection.recv(), with a time limit Python's
 *        recv() does not have. The message is unpickled with st_pickle_loads(): plain data
 *        only, never code (Python would unpickle anything).
 * @param c The connection.
 * @param timeout Seconds to wait for the message to begin: 0 just checks, negative
 *        (::ST_NO_TIMEOUT) waits for ever (Python's recv()). Once its first bytes are there
 *        the rest is waited for. On a socket pair end a waiting message costs no poll(): the
 *        read is tried first.
 * @return A new reference, or NULL with an error whose code tells the cases apart:
 *         ST_ETIMEOUT (TimeoutError) when no message began in time, ST_EEOF (EOFError) when
 *         the peer closed its end, ST_EFORMAT for pickle.UnpicklingError (a message that is not
 *         a plain-data pickle) and the OSErrors "got end of file during message" and "bad
 *         message length", ST_ESTATE for "handle is closed" and "connection is write-only",
 *         ST_EOS for a failed read, ST_ENOMEM.
 */
ST_API st_value *st_connection_recv(st_connection *c, double timeout);

/* ---- listeners, clients and authentication (multiprocessing.connection) ------------------ */

/** @brief An address family. Mirrors the `family` strings of multiprocessing.connection
 *         ('AF_UNIX', 'AF_INET'; 'AF_INET6' is a socket family Python's Listener also takes). */
typedef enum st_ipc_family {
    ST_IPC_AF_DEFAULT = 0, /**< From the address: AF_UNIX when it has a path, else AF_INET. */
    ST_IPC_AF_UNIX,        /**< A socket file path, or a Linux abstract name (first byte NUL). */
    ST_IPC_AF_INET,        /**< IPv4 host and port. */
    ST_IPC_AF_INET6        /**< IPv6 host and port. */
} st_ipc_family;

/**
 * @brief Where a listener listens. Mirrors multiprocessing.connection's addresses: a str path
 *        for AF_UNIX, a `(host, port)` tuple for AF_INET/AF_INET6.
 *
 * As an argument: give @p path for AF_UNIX (with @p path_len for an abstract name, whose first
 * byte is NUL), or @p host and @p port for AF_INET/AF_INET6. As a result
 * (st_listener_address(), st_listener_last_accepted()) the library fills it: @p path is then
 * always NUL-terminated as well, and @p host is the numeric address ("127.0.0.1", "::1").
 */
typedef struct st_ipc_address {
    st_ipc_family family; /**< The family, or ::ST_IPC_AF_DEFAULT to infer it. */
    const char *path;     /**< AF_UNIX: the path or abstract name; NULL otherwise. */
    size_t path_len;      /**< Its length; 0 means strlen(path) (an abstract name needs it). */
    const char *host;     /**< AF_INET/AF_INET6: a name or numeric address; "" is every
                               interface (Python's ''); NULL is "localhost". */
    int port;             /**< AF_INET/AF_INET6: the port; 0 picks a free one. */
} st_ipc_address;

/** @brief A listening socket (opaque). Mirrors multiprocessing.connection.Listener. */
typedef struct st_listener st_listener;

/** @brief The version of ::st_listener_options this header knows. */
#define ST_LISTENER_OPTIONS_VERSION 1
/** @brief ::st_listener_options with Python's defaults. */
#define ST_LISTENER_OPTIONS_INIT {.version = ST_LISTENER_OPTIONS_VERSION}

/** @brief Options of st_listener_new(); all zero are Python's defaults. */
typedef struct st_listener_options {
    unsigned int version;     /**< ::ST_LISTENER_OPTIONS_VERSION. */
    int backlog;              /**< listen()'s backlog; 0 is Python's default, 1. */
    const void *authkey;      /**< The shared key (Python's bytes authkey), or NULL for none:
                                   then accept() does no handshake. A key of length 0 is a key. */
    size_t authkey_len;       /**< Its length in bytes. */
    double handshake_timeout; /**< Seconds each accepted connection's handshake may take in
                                   all; 0 is none (as in Python, which has no such limit). */
} st_listener_options;

/**
 * @brief Fills @p opts with the defaults of @p version (for callers that cannot use
 *        ::ST_LISTENER_OPTIONS_INIT).
 * @param opts The struct to fill.
 * @param version ::ST_LISTENER_OPTIONS_VERSION.
 * @return 0, or -1 with ValueError (NULL @p opts, or a version this library does not know).
 */
ST_API int st_listener_options_init(st_listener_options *opts, unsigned int version);

/**
 * @brief Binds a socket to an address and listens. Mirrors
 *        multiprocessing.connection.Listener(address, family, backlog, authkey): SO_REUSEADDR
 *        is set, the socket is close-on-exec, a path is unlinked again by st_listener_close().
 * @param address Where to listen (copied). NULL, or no path for AF_UNIX, picks a fresh path
 *        in a new private directory under $TMPDIR, else /tmp (Python's
 *        arbitrary_address(), with the directory removed by close as Python removes its
 *        pymp- directory at exit); AF_INET with a NULL host is Python's ('localhost', 0).
 * @param opts Options, or NULL for the defaults.
 * @return A listener the caller frees with st_listener_free(); NULL with OSError (the failed
 *         socket(), bind() or listen(), e.g. AddressInUse; "AF_UNIX path too long", whose code is
 *         ST_EVALUE as it has no errno; an
 *         abstract name on a system without them: "abstract socket names are not supported
 *         here"), socket.gaierror (code ST_EVALUE) for a host that does not resolve,
 *         ValueError for the options, or NotImplementedError (ST_ENOTSUP) for an authkey when
 *         the library was built without OpenSSL's libcrypto.
 */
ST_API st_listener *st_listener_new(const st_ipc_address *address, const st_listener_options *opts);

/**
 * @brief Waits for a client and returns its connection. Mirrors Listener.accept(): with an
 *        authkey, deliver_challenge() then answer_challenge() run on the connection first.
 *        A client that fails them (wrong key, garbage, too long a message, gone halfway, or too
 *        slow with a handshake_timeout) costs that connection only: it is closed, the error is
 *        returned, and the next call accepts the next client.
 * @param l The listener.
 * @return A connection the caller frees with st_connection_free(); NULL with OSError
 *         "listener is closed" (ST_ESTATE), a failed accept() (ST_EOS), or the handshake's
 *         errors (see st_ipc_deliver_challenge()).
 */
ST_API st_connection *st_listener_accept(st_listener *l);

/**
 * @brief Closes the socket and unlinks its path (not an abstract name). Mirrors
 *        Listener.close(); closing twice is fine. A connection it accepted stays open.
 * @param l The listener, or NULL (then nothing happens).
 * @return 0, or -1 with OSError when close() failed (the socket is released all the same).
 */
ST_API int st_listener_close(st_listener *l);

/**
 * @brief Closes (if needed) and releases a listener. Python's garbage collection of a Listener.
 * @param l The listener, or NULL (then nothing happens).
 */
ST_API void st_listener_free(st_listener *l);

/**
 * @brief Whether st_listener_close() was called. Not in Python (there, `_listener is None`).
 * @param l The listener.
 * @return 1 or 0 (it cannot fail).
 */
ST_API int st_listener_closed(const st_listener *l);

/**
 * @brief The listening socket's descriptor, for st_ipc_wait() or an event loop. Mirrors
 *        Listener._listener._socket.fileno() (Python's Listener has no public fileno()).
 * @param l The listener.
 * @return The descriptor, or -1 with OSError "listener is closed" (ST_ESTATE).
 */
ST_API int st_listener_fileno(const st_listener *l);

/**
 * @brief The address the socket is bound to. Mirrors the Listener.address property: for port 0
 *        the port the system picked, for AF_INET6 the host without flowinfo and scope.
 * @param l The listener (also after close, as in Python).
 * @return The address, lent until st_listener_free().
 */
ST_API const st_ipc_address *st_listener_address(const st_listener *l);

/**
 * @brief The peer address of the last connection accepted. Mirrors the Listener.last_accepted
 *        property: for AF_UNIX an unnamed client's address is an empty path, as Python's ''.
 * @param l The listener.
 * @return The address, lent until the next st_listener_accept() or st_listener_free(); NULL
 *         (no error set) before the first accept, as Python's None.
 */
ST_API const st_ipc_address *st_listener_last_accepted(const st_listener *l);

/** @brief The version of ::st_ipc_client_options this header knows. */
#define ST_IPC_CLIENT_OPTIONS_VERSION 1
/** @brief ::st_ipc_client_options with Python's defaults. */
#define ST_IPC_CLIENT_OPTIONS_INIT {.version = ST_IPC_CLIENT_OPTIONS_VERSION}

/** @brief Options of st_ipc_client(); all zero are Python's defaults. */
typedef struct st_ipc_client_options {
    unsigned int version;     /**< ::ST_IPC_CLIENT_OPTIONS_VERSION. */
    const void *authkey;      /**< The shared key, or NULL for none (no handshake). */
    size_t authkey_len;       /**< Its length in bytes. */
    double handshake_timeout; /**< Seconds the handshake may take in all; 0 is none (Python's
                                   behaviour: it has no limit). */
} st_ipc_client_options;

/**
 * @brief Fills @p opts with the defaults of @p version (for callers that cannot use
 *        ::ST_IPC_CLIENT_OPTIONS_INIT).
 * @param opts The struct to fill.
 * @param version ::ST_IPC_CLIENT_OPTIONS_VERSION.
 * @return 0, or -1 with ValueError.
 */
ST_API int st_ipc_client_options_init(st_ipc_client_options *opts, unsigned int version);

/**
 * @brief Connects to a listener. Mirrors multiprocessing.connection.Client(address, family,
 *        authkey): with an authkey, answer_challenge() then deliver_challenge() run first. It
 *        talks to a CPython Listener as to st_listener_new()'s, CPython 3.11 and older
 *        included (their HMAC-MD5 form is recognised and answered).
 * @param address Where to connect (AF_UNIX path or abstract name, or host and port).
 * @param opts Options, or NULL for the defaults.
 * @return A connection the caller frees with st_connection_free(); NULL with OSError (a failed
 *         connect(): ConnectionRefusedError, FileNotFoundError, ...), socket.gaierror
 *         (ST_EVALUE), NotImplementedError (ST_ENOTSUP) for an authkey without libcrypto, or
 *         the handshake's errors (st_ipc_answer_challenge()); the socket is then closed.
 */
ST_API st_connection *st_ipc_client(const st_ipc_address *address, const st_ipc_client_options *opts);

/**
 * @brief The serving side of the handshake. Mirrors
 *        multiprocessing.connection.deliver_challenge(connection, authkey) of CPython 3.13:
 *        sends `#CHALLENGE#{sha256}` and 40 bytes from os.urandom's source, receives the
 *        peer's reply (at most 256 bytes) and checks it in constant time: an HMAC named by a
 *        `{md5}`, `{sha256}`, `{sha384}`, `{sha3_256}` or `{sha3_384}` prefix, or a bare
 *        16-byte HMAC-MD5 (what CPython 3.11 and older send). Then sends `#WELCOME#`, or
 *        `#FAILURE#` and fails.
 * @param c The connection (st_listener_accept() calls this itself when it has a key).
 * @param authkey The key.
 * @param authkey_len Its length.
 * @return 0, or -1 with multiprocessing.AuthenticationError (code ::ST_EAUTH) and CPython's
 *         message ("digest received was wrong", "expected 'sha256' of length 32 got 5",
 *         "unsupported message length, missing digest prefix, or unsupported digest:
 *         message=b'...'"), or the connection's errors: OSError "bad message length" for a
 *         reply over 256 bytes (whatever its header claims, nothing more is allocated or
 *         read), EOFError or "got end of file during message" for a peer gone, and so on.
 *         NotImplementedError (ST_ENOTSUP) without libcrypto.
 */
ST_API int st_ipc_deliver_challenge(st_connection *c, const void *authkey, size_t authkey_len);

/**
 * @brief The answering side of the handshake. Mirrors
 *        multiprocessing.connection.answer_challenge(connection, authkey) of CPython 3.13:
 *        receives the challenge (at most 256 bytes), replies with `{digest}` and the HMAC the
 *        challenge asks for (a bare HMAC-MD5 to the 20-byte challenge of CPython 3.11 and
 *        older), and expects `#WELCOME#`.
 * @param c The connection.
 * @param authkey The key.
 * @param authkey_len Its length.
 * @return 0, or -1 with multiprocessing.AuthenticationError (::ST_EAUTH: "digest sent was
 *         rejected", "Protocol error, expected challenge: message=b'...'", "challenge too
 *         short: {len(message)} bytes" — CPython's text, braces included), the connection's
 *         errors, or NotImplementedError (ST_ENOTSUP) without libcrypto.
 */
ST_API int st_ipc_answer_challenge(st_connection *c, const void *authkey, size_t authkey_len);

/** @brief One object for st_ipc_wait(): a connection, a listener or a plain descriptor. */
typedef struct st_ipc_waitable {
    st_connection *connection; /**< A connection (ready: a receive would not block), or NULL. */
    st_listener *listener;     /**< Or a listener (ready: accept() would not block), or NULL. */
    int fd;                    /**< Or, when both are NULL, a descriptor (ready: readable). */
    int ready;                 /**< Set by st_ipc_wait(): 1 when ready, else 0. */
} st_ipc_waitable;

/**
 * @brief Waits until at least one object is ready. Mirrors
 *        multiprocessing.connection.wait(object_list, timeout): poll()-based; a connection
 *        holding a message it read ahead is ready at once. Python returns the ready objects;
 *        here each one's @p ready flag is set and their number returned.
 * @param objects The objects.
 * @param n Their number.
 * @param timeout Seconds: 0 just checks, negative (::ST_NO_TIMEOUT) waits for ever (Python's
 *        None).
 * @param nready Receives how many are ready (0 when the time ran out; no error then).
 * @return 0, or -1 with OSError ("handle is closed", "listener is closed", a failed poll()) or
 *         ValueError (a negative descriptor).
 */
ST_API int st_ipc_wait(st_ipc_waitable *objects, size_t n, double timeout, size_t *nready);

/* ---- queue ------------------------------------------------------------------------------ */

/** @brief A thread-safe queue (opaque): queue.Queue, LifoQueue, PriorityQueue or SimpleQueue,
 *         bounded or not (st_queue_new_with_options()). It is locked, so any number of
 *         threads may use one queue at once (the exceptions: st_queue_free() and a queue's
 *         descriptor, see st_queue_fileno()). */
typedef struct st_queue st_queue;

/** @brief Which of the queue module's classes a queue behaves as (st_queue_options::kind). */
typedef enum st_queue_kind {
    ST_QUEUE_FIFO = 0, /**< queue.Queue: first in, first out (the default). */
    ST_QUEUE_LIFO,     /**< queue.LifoQueue: the most recently added item first. */
    ST_QUEUE_PRIORITY, /**< queue.PriorityQueue: the smallest item first, by Python's `<`
                            (heapq's order), so `(priority, count, item)` tuples work. */
    ST_QUEUE_SIMPLE    /**< queue.SimpleQueue: an unbounded FIFO without task_done(), join()
                            and full(); the lightest (no task count is kept). */
} st_queue_kind;

/** @brief The version of ::st_queue_options this header knows. */
#define ST_QUEUE_OPTIONS_VERSION 1

/**
 * @brief How to make a queue: Python's class and its `maxsize` argument.
 *
 * One type for the four classes, chosen by `kind`, because they share every method (Python's
 * subclasses only change `_put` and `_get`): `queue.LifoQueue(10)` is
 * `st_queue_options o = ST_QUEUE_OPTIONS_INIT; o.kind = ST_QUEUE_LIFO; o.maxsize = 10;
 * st_queue_new_with_options(&o)`, and st_queue_get() of it is LifoQueue.get(). Four types
 * would repeat a dozen functions four times; and st_queue_new() (1.0) cannot take arguments.
 */
typedef struct st_queue_options {
    unsigned int version; /**< ::ST_QUEUE_OPTIONS_VERSION. */
    size_t maxsize;       /**< Python's maxsize: at most this many items wait; a put on a full
                               queue waits or fails with queue.Full. 0: unbounded (Python's
                               default, and what maxsize <= 0 means there). */
    st_queue_kind kind;   /**< The class (::ST_QUEUE_FIFO, Python's queue.Queue, when zero). */
} st_queue_options;

/** @brief ::st_queue_options with Python's defaults: an unbounded queue.Queue. */
#define ST_QUEUE_OPTIONS_INIT {.version = ST_QUEUE_OPTIONS_VERSION}

/**
 * @brief Sets @p opts to Python's defaults (for callers that cannot use
 *        ::ST_QUEUE_OPTIONS_INIT).
 * @param opts The struct.
 * @param version ::ST_QUEUE_OPTIONS_VERSION.
 * @return 0, or -1 with ValueError for an unknown version.
 */
ST_API int st_queue_options_init(st_queue_options *opts, unsigned int version);

/** @brief A callback carried by the queue, run by whoever takes it (Python would put the
 *         callable itself on the queue). */
typedef void (*st_queue_fn)(void *arg);

/** @brief One item taken from a queue: a value or a callback. */
typedef struct st_queue_item {
    st_value *value; /**< A value (a reference the taker now owns), or NULL for a callback. */
    st_queue_fn fn;  /**< The callback, or NULL for a value. */
    void *arg;       /**< The callback's argument. */
} st_queue_item;

/**
 * @brief Handles one value during st_queue_drain().
 * @param ctx The drain's context pointer.
 * @param value The value; borrowed (the drain releases it afterwards, so take a reference to
 *        keep it).
 */
typedef void (*st_queue_value_fn)(void *ctx, st_value *value);

/**
 * @brief An empty, unbounded queue. Mirrors queue.Queue().
 * @return A queue the caller frees with st_queue_free(); NULL with MemoryError.
 */
ST_API st_queue *st_queue_new(void);

/**
 * @brief An empty queue of the given class and size. Mirrors queue.Queue(maxsize),
 *        queue.LifoQueue(maxsize), queue.PriorityQueue(maxsize) and queue.SimpleQueue().
 *        A bounded queue allocates at most room for @p maxsize items, however fast producers
 *        run.
 * @param opts The class and size, or NULL for an unbounded queue.Queue (st_queue_new()).
 * @return A queue the caller frees with st_queue_free(); NULL with ValueError (options never
 *         initialised, an unknown kind), TypeError "SimpleQueue() takes no arguments" (a
 *         SimpleQueue with a maxsize), or MemoryError.
 */
ST_API st_queue *st_queue_new_with_options(const st_queue_options *opts);

/**
 * @brief Frees a queue, releasing the values still in it (callbacks still in it are dropped
 *        without running). No thread may be using it any more. Python's garbage collection of
 *        a Queue.
 * @param q The queue, or NULL (then nothing happens).
 */
ST_API void st_queue_free(st_queue *q);

/**
 * @brief Adds a value, waking one waiting taker. Mirrors Queue.put(item): on an unbounded
 *        queue it never blocks beyond a short lock; on a full bounded one it waits for room
 *        (st_queue_put_timeout_steal() with ::ST_NO_TIMEOUT).
 *
 * The queue takes over the caller's reference, also on failure. The value may share parts
 * with values the putting thread keeps using (one key string in every record): reference
 * counts are atomic (see value.h), so the taker may release its item on another thread.
 * What must not happen is changing a value (or a part of it) while another thread may read
 * it, as with any shared value. NULL is accepted and fails with the error already set, so
 * `st_queue_put_steal(q, st_value_int(i))` needs no temporary.
 * @param q The queue.
 * @param value The value to hand over.
 * @return 0, or -1 with queue.ShutDown (code ST_ESTATE, type "queue.ShutDown") after
 *         st_queue_shutdown() (also when it happens while waiting for room), TypeError (a
 *         PriorityQueue's item that does not compare with the others, as heapq raises it:
 *         "'<' not supported between instances of 'dict' and 'dict'"), or MemoryError.
 *         Difference: after that TypeError Python's heappush has already appended the item;
 *         here the queue is left as it was (and the value released).
 */
ST_API int st_queue_put_steal(st_queue *q, st_value *value);

/**
 * @brief Adds a value, waiting at most @p timeout seconds for room in a bounded queue.
 *        Mirrors Queue.put(item, timeout=timeout); with 0 it is Queue.put_nowait(item)
 *        (Python's `block=False`).
 * @param q The queue.
 * @param value The value to hand over (the queue takes the reference, also on failure; NULL
 *        fails with the error already set).
 * @param timeout Seconds; 0 does not wait; negative (::ST_NO_TIMEOUT) waits for ever (Python's
 *        None; Python raises ValueError for a negative timeout).
 * @return 0, or -1 with queue.Full (code ST_ETIMEOUT, type "queue.Full", empty message, as
 *         queue.Empty) when no room came in time, or the errors of st_queue_put_steal().
 */
ST_API int st_queue_put_timeout_steal(st_queue *q, st_value *value, double timeout);

/**
 * @brief Adds a value only if there is room now. Mirrors Queue.put_nowait(item), which is
 *        st_queue_put_timeout_steal() with a timeout of 0.
 * @param q The queue.
 * @param value The value to hand over (taken also on failure).
 * @return 0, or -1 with queue.Full (ST_ETIMEOUT) or the errors of st_queue_put_steal().
 */
ST_API int st_queue_put_nowait_steal(st_queue *q, st_value *value);

/**
 * @brief Appends a callback for the taker to run (the GUI pattern's "call this on the main
 *        thread"). Mirrors Queue.put(callable) where the taker calls what it gets; the queue
 *        hands the callback back as an ::st_queue_item (st_queue_get()) or runs it
 *        (st_queue_drain()). On a full bounded queue it waits for room, as put() does.
 * @param q The queue.
 * @param fn The function (not NULL).
 * @param arg Its argument, passed through untouched.
 * @return 0, or -1 with queue.ShutDown (ST_ESTATE) after st_queue_shutdown(), TypeError in a
 *         PriorityQueue (st_queue_put_callback_timeout()), ValueError (@p fn NULL) or
 *         MemoryError.
 */
ST_API int st_queue_put_callback(st_queue *q, st_queue_fn fn, void *arg);

/**
 * @brief Adds a callback, waiting at most @p timeout seconds for room in a bounded queue.
 *        Mirrors Queue.put(callable, timeout=timeout) (st_queue_put_callback() waits for ever,
 *        as put(callable) does). In a PriorityQueue a callback compares with nothing, as a
 *        Python function does: TypeError "'<' not supported between instances of 'function'
 *        and ...", unless the queue is empty.
 * @param q The queue.
 * @param fn The function (not NULL).
 * @param arg Its argument.
 * @param timeout Seconds; 0 does not wait; negative (::ST_NO_TIMEOUT) waits for ever.
 * @return 0, or -1 with queue.Full (ST_ETIMEOUT), queue.ShutDown (ST_ESTATE), TypeError,
 *         ValueError (@p fn NULL) or MemoryError.
 */
ST_API int st_queue_put_callback_timeout(st_queue *q, st_queue_fn fn, void *arg, double timeout);

/**
 * @brief Takes the next item (the oldest; in a LifoQueue the newest; in a PriorityQueue the
 *        smallest), waiting for one. Mirrors Queue.get(timeout=...).
 * @param q The queue.
 * @param timeout Seconds to wait at most; 0 just checks; negative (::ST_NO_TIMEOUT) waits for
 *        ever (Python's None; Python raises ValueError for a negative timeout).
 * @param out Receives the item; a value in it is the caller's reference.
 * @return 0, or -1 with queue.Empty (code ST_ETIMEOUT, type "queue.Empty", empty message) when
 *         the time ran out, or queue.ShutDown (code ST_ESTATE, type "queue.ShutDown") when the
 *         queue is shut down and empty (at once after st_queue_shutdown(q, 1)), also when that
 *         happens while waiting. The code alone tells the two apart. A PriorityQueue can
 *         also fail with TypeError when its items no longer compare (heappop's comparisons);
 *         the item then stays queued (Python loses it).
 */
ST_API int st_queue_get(st_queue *q, double timeout, st_queue_item *out);

/**
 * @brief Takes the next item if there is one. Mirrors Queue.get_nowait(), which is
 *        st_queue_get() with a timeout of 0.
 * @param q The queue.
 * @param out Receives the item; a value in it is the caller's reference.
 * @return 0, or -1 with queue.Empty (ST_ETIMEOUT) when there is none, or queue.ShutDown
 *         (ST_ESTATE) when the queue is shut down and empty.
 */
ST_API int st_queue_get_nowait(st_queue *q, st_queue_item *out);

/**
 * @brief The number of items waiting. Mirrors Queue.qsize() (a snapshot: other threads may
 *        change it at once).
 * @param q The queue.
 * @return The count.
 */
ST_API size_t st_queue_qsize(st_queue *q);

/**
 * @brief Whether no item waits. Mirrors Queue.empty() (a snapshot, as qsize).
 * @param q The queue.
 * @return 1 or 0 (it cannot fail).
 */
ST_API int st_queue_empty(st_queue *q);

/**
 * @brief Whether a bounded queue holds maxsize items. Mirrors Queue.full() (a snapshot).
 * @param q The queue.
 * @return 1 or 0; always 0 for an unbounded queue (it cannot fail).
 */
ST_API int st_queue_full(st_queue *q);

/**
 * @brief The size limit. Mirrors the Queue.maxsize attribute.
 * @param q The queue.
 * @return maxsize, 0 for an unbounded queue.
 */
ST_API size_t st_queue_maxsize(const st_queue *q);

/**
 * @brief Tells the queue that the work on an item taken earlier is done. Mirrors
 *        Queue.task_done(): every put counts one unfinished task, every task_done() one less;
 *        st_queue_join() returns when none is left.
 * @param q The queue.
 * @return 0, or -1 with ValueError "task_done() called too many times" (more calls than puts),
 *         or AttributeError (code ST_ETYPE) "'_queue.SimpleQueue' object has no attribute
 *         'task_done'" for an ::ST_QUEUE_SIMPLE queue.
 */
ST_API int st_queue_task_done(st_queue *q);

/**
 * @brief Waits until every item put has been taken and marked done with st_queue_task_done().
 *        Mirrors Queue.join(). As in Python 3.13, an immediate st_queue_shutdown() counts the
 *        items it drops as done, so join() returns once the items already taken are marked
 *        done (it does not fail with queue.ShutDown).
 * @param q The queue.
 * @return 0, or -1 with AttributeError (ST_ETYPE) "'_queue.SimpleQueue' object has no attribute
 *         'join'" for an ::ST_QUEUE_SIMPLE queue.
 */
ST_API int st_queue_join(st_queue *q);

/**
 * @brief A descriptor that is readable exactly while items wait, and from shutdown on: what a
 *        main loop (poll, epoll, select, GLib's g_unix_fd_add(), libuv's uv_poll) waits on
 *        instead of waking on a timer. Not in Python (nor in GLib's GAsyncQueue).
 *
 * An eventfd where the system has one, else a pipe; made on the first call (queues that never
 * ask pay nothing), close-on-exec, closed by st_queue_free(). Every put, get and shutdown
 * brings it up to date before returning (just after releasing the queue's lock, so the woken
 * loop does not find the queue still locked), so it never misses an item put while the loop
 * was deciding to sleep, and says "readable" with nothing to take only for the moment another
 * thread's take needs to update it: take with st_queue_get_nowait() or st_queue_drain(),
 * never block. Only wait on it: reading, writing or closing it is the queue's; its flags are
 * the caller's (a main loop may set O_NONBLOCK on it: that changes nothing).
 * @param q The queue.
 * @return The descriptor (the same one on every call), or -1 with OSError (EMFILE, ...).
 */
ST_API int st_queue_fileno(st_queue *q);

/**
 * @brief Shuts the queue down. Mirrors Queue.shutdown(immediate) of Python 3.13: puts fail
 *        with queue.ShutDown from now on and waiting takers are woken. With @p immediate 0,
 *        takers still get what is queued, then fail with queue.ShutDown instead of waiting;
 *        with @p immediate non-zero, what is queued is dropped at once (values released,
 *        callbacks not run) and every take fails with queue.ShutDown. Shutting down again is
 *        fine (an immediate shutdown then still drops what is queued). An immediate
 *        shutdown counts each dropped item as done (st_queue_task_done()), which may release
 *        st_queue_join(). Waiting puts (a full bounded queue) fail with queue.ShutDown. The
 *        descriptor of st_queue_fileno() stays readable from now on, so a main loop sees the
 *        end. Python's SimpleQueue has no shutdown(); an ::ST_QUEUE_SIMPLE queue shuts down
 *        all the same (this function cannot fail).
 * @param q The queue.
 * @param immediate Non-zero to drop the queued items (Python's default is False).
 */
ST_API void st_queue_shutdown(st_queue *q, int immediate);

/**
 * @brief Handles what is already queued, for at most @p budget_ms milliseconds, without
 *        waiting for more: what a main loop does when st_queue_fileno() turns readable (or on
 *        a timer). Not in Python (there, a loop of get_nowait() until queue.Empty or the time
 *        is up). Items come in the queue's order; callbacks are run; values are passed to
 *        @p on_value and then released. Each item taken counts as a get (room for a waiting
 *        put), not as task_done(). Items left when the budget runs out stay queued for the
 *        next drain; so does a PriorityQueue's item that no longer compares (the drain stops
 *        there and the error is set).
 * @param q The queue.
 * @param budget_ms Time budget in milliseconds (at least one item is handled if any waits).
 * @param on_value Called for each value, or NULL to just release values.
 * @param ctx Passed to @p on_value.
 * @return The number of items handled (0 when the queue was empty, also when shut down; it
 *         cannot fail).
 */
ST_API size_t st_queue_drain(st_queue *q, unsigned budget_ms, st_queue_value_fn on_value, void *ctx);

#ifdef __cplusplus
}
#endif

/** @} */

#endif
