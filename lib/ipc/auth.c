/* ipc: multiprocessing.connection's authentication handshake (deliver_challenge and
 * answer_challenge of CPython 3.13, which also understand the HMAC-MD5 form of 3.11 and older),
 * over the connections of connection.c. HMAC comes from OpenSSL's libcrypto when the build
 * found it (ST_HAVE_OPENSSL); without it every call fails with NotImplementedError. */
#include <stdint.h>
#include <string.h>

#include "internal/error.h"
#include "internal/ipc.h"
#include "systools/ipc.h"
#include "systools/os.h"
#include "systools/value.h"

#if defined(ST_HAVE_OPENSSL)
#include <openssl/evp.h>
#include <openssl/hmac.h>
#endif

#define CHALLENGE "#CHALLENGE#"
#define WELCOME "#WELCOME#"
#define FAILURE "#FAILURE#"
#define MESSAGE_LENGTH 40       /* random bytes in a challenge (MUST be > 20) */
#define MD5ONLY_MESSAGE_LENGTH 20 /* the challenge of CPython 3.11 and older */
#define MD5_DIGEST_LEN 16         /* the bare reply of CPython 3.11 and older */
#define MAX_DIGEST_LEN 8          /* the longest name below, "sha3_256" */
#define HANDSHAKE_MAX 256         /* recv_bytes(256): "reject large message" */
#define HMAC_MAX 64

static const char *const ALLOWED_DIGESTS[] = {"md5", "sha256", "sha384", "sha3_256", "sha3_384"};

int st__ipc_auth_available(void)
{
#if defined(ST_HAVE_OPENSSL)
    return 0;
#else
    return ST_RAISE(ST_ENOTSUP, "authentication needs HMAC from OpenSSL's libcrypto, which this "
                                "build of libsystools does not have");
#endif
}

/* hmac.new(key, msg, name).digest() into out (HMAC_MAX bytes): its length, or -1 with the
 * ValueError Python's hmac raises for a digest it cannot make (FIPS mode may refuse MD5). */
static int hmac_digest(const char *name, const void *key, size_t klen, const unsigned char *msg,
                       size_t mlen, unsigned char out[HMAC_MAX])
{
#if defined(ST_HAVE_OPENSSL)
    const EVP_MD *md = !strcmp(name, "md5")        ? EVP_md5()
                       : !strcmp(name, "sha256")   ? EVP_sha256()
                       : !strcmp(name, "sha384")   ? EVP_sha384()
                       : !strcmp(name, "sha3_256") ? EVP_sha3_256()
                                                   : EVP_sha3_384();
    unsigned int n = 0;
    /* A non-NULL key even when empty: HMAC() reads a NULL key as "reuse the last one". */
    if (klen > INT32_MAX || !HMAC(md, klen ? key : "", (int)klen, msg, mlen, out, &n))
        return ST_RAISE(ST_EVALUE, "unsupported hash type %s", name);
    return (int)n;
#else
    (void)name, (void)key, (void)klen, (void)msg, (void)mlen;
    memset(out, 0, HMAC_MAX); /* never read: the callers stop at the error */
    return st__ipc_auth_available();
#endif
}

/* hmac.compare_digest(): the time depends on the length only, never on where bytes differ. */
static int same_digest(const unsigned char *a, const unsigned char *b, size_t n)
{
    volatile unsigned char diff = 0;
    for (size_t i = 0; i < n; i++)
        diff |= a[i] ^ b[i];
    return diff == 0;
}

/* An AuthenticationError whose message ends with Python's f'{message=}': "message=b'...'". */
static int auth_error_with(const char *text, const unsigned char *msg, size_t len)
{
    st_value *b = st_value_bytes(msg, len);
    char *repr = b ? st_value_repr(b) : NULL;
    st_value_unref(b);
    if (!repr)
        return ST_TRACE();
    int r = ST_RAISE_AS(ST_EAUTH, "multiprocessing.AuthenticationError", "%smessage=%s", text, repr);
    st_free(repr);
    return r;
}

/* _get_digest_name_and_payload(): the digest a challenge or a reply names ("" for the legacy
 * lengths, which mean bare MD5) and where its payload starts. */
static int digest_name_and_payload(const unsigned char *msg, size_t len, const char **name,
                                   size_t *payload)
{
    if (len == MD5ONLY_MESSAGE_LENGTH || len == MD5_DIGEST_LEN) {
        *name = "";
        *payload = 0;
        return 0;
    }
    if (len > 0 && msg[0] == '{') {
        size_t end = len < MAX_DIGEST_LEN + 2 ? len : MAX_DIGEST_LEN + 2;
        const unsigned char *curly = memchr(msg + 1, '}', end - 1);
        if (curly) {
            size_t n = (size_t)(curly - msg) - 1;
            for (size_t i = 0; i < sizeof ALLOWED_DIGESTS / sizeof *ALLOWED_DIGESTS; i++) {
                if (strlen(ALLOWED_DIGESTS[i]) == n && !memcmp(msg + 1, ALLOWED_DIGESTS[i], n)) {
                    *name = ALLOWED_DIGESTS[i];
                    *payload = n + 2;
                    return 0;
                }
            }
        }
    }
    return auth_error_with("unsupported message length, missing digest prefix, or unsupported "
                           "digest: ", msg, len);
}

/* _verify_challenge(): whether response is the right HMAC of message. */
static int verify(const void *key, size_t klen, const unsigned char *message, size_t mlen,
                  const unsigned char *response, size_t rlen)
{
    const char *name;
    size_t off;
    if (digest_name_and_payload(response, rlen, &name, &off) < 0)
        return ST_TRACE();
    if (!*name)
        name = "md5";
    unsigned char expected[HMAC_MAX];
    int n = hmac_digest(name, key, klen, message, mlen, expected);
    if (n < 0) {
        if (st_error_code() == ST_ENOTSUP)
            return ST_TRACE();
        return ST_RAISE_AS(ST_EAUTH, "multiprocessing.AuthenticationError",
                           "response_digest='%s' unsupported", name);
    }
    if ((size_t)n != rlen - off)
        return ST_RAISE_AS(ST_EAUTH, "multiprocessing.AuthenticationError",
                           "expected '%s' of length %d got %zu", name, n, rlen - off);
    if (!same_digest(expected, response + off, (size_t)n))
        return ST_RAISE_AS(ST_EAUTH, "multiprocessing.AuthenticationError",
                           "digest received was wrong");
    return 0;
}

int st_ipc_deliver_challenge(st_connection *c, const void *authkey, size_t authkey_len)
{
    if (st__ipc_auth_available() < 0)
        return ST_TRACE();
    /* b'#CHALLENGE#' + b'{sha256}' + os.urandom(40); the HMAC covers the braces and the name. */
    unsigned char msg[sizeof CHALLENGE - 1 + sizeof "{sha256}" - 1 + MESSAGE_LENGTH];
    size_t pre = sizeof CHALLENGE - 1;
    memcpy(msg, CHALLENGE "{sha256}", sizeof CHALLENGE "{sha256}" - 1);
    if (st_os_urandom(msg + sizeof msg - MESSAGE_LENGTH, MESSAGE_LENGTH) < 0)
        return ST_TRACE();
    if (st_connection_send_bytes(c, msg, sizeof msg) < 0)
        return ST_TRACE();
    size_t rlen;
    unsigned char *response = st_connection_recv_bytes(c, HANDSHAKE_MAX, &rlen);
    if (!response)
        return ST_TRACE();
    int ok = verify(authkey, authkey_len, msg + pre, sizeof msg - pre, response, rlen);
    st_free(response);
    if (ok < 0) {
        /* As in Python, a failure to send the verdict is what the caller hears about. */
        if (st_connection_send_bytes(c, FAILURE, sizeof FAILURE - 1) < 0)
            return ST_TRACE();
        return ST_TRACE();
    }
    return st_connection_send_bytes(c, WELCOME, sizeof WELCOME - 1) < 0 ? ST_TRACE() : 0;
}

/* _create_response(): the reply to a challenge (without its '#CHALLENGE#'), into out. */
static int create_response(const void *key, size_t klen, const unsigned char *message, size_t mlen,
                           unsigned char out[2 + MAX_DIGEST_LEN + HMAC_MAX], size_t *outlen)
{
    const char *name;
    size_t off;
    if (digest_name_and_payload(message, mlen, &name, &off) < 0)
        return ST_TRACE();
    if (!*name) { /* a legacy server: a bare HMAC-MD5 */
        int n = hmac_digest("md5", key, klen, message, mlen, out);
        if (n >= 0) {
            *outlen = (size_t)n;
            return 0;
        }
        if (st_error_code() == ST_ENOTSUP)
            return ST_TRACE();
        name = "sha256"; /* no MD5 here (FIPS): the modern form, which it will refuse */
    }
    size_t nl = strlen(name);
    out[0] = '{';
    memcpy(out + 1, name, nl);
    out[nl + 1] = '}';
    int n = hmac_digest(name, key, klen, message, mlen, out + nl + 2);
    if (n < 0)
        return ST_TRACE();
    *outlen = nl + 2 + (size_t)n;
    return 0;
}

int st_ipc_answer_challenge(st_connection *c, const void *authkey, size_t authkey_len)
{
    if (st__ipc_auth_available() < 0)
        return ST_TRACE();
    size_t len;
    unsigned char *message = st_connection_recv_bytes(c, HANDSHAKE_MAX, &len);
    if (!message)
        return ST_TRACE();
    size_t pre = sizeof CHALLENGE - 1;
    int r = 0;
    unsigned char reply[2 + MAX_DIGEST_LEN + HMAC_MAX];
    size_t rlen = 0;
    if (len < pre || memcmp(message, CHALLENGE, pre) != 0)
        r = auth_error_with("Protocol error, expected challenge: ", message, len);
    else if (len - pre < MD5ONLY_MESSAGE_LENGTH)
        /* CPython's own text: its f-string prefix is missing, so the braces stay as written. */
        r = ST_RAISE_AS(ST_EAUTH, "multiprocessing.AuthenticationError",
                        "challenge too short: {len(message)} bytes");
    else
        r = create_response(authkey, authkey_len, message + pre, len - pre, reply, &rlen);
    st_free(message);
    if (r < 0 || st_connection_send_bytes(c, reply, rlen) < 0)
        return ST_TRACE();
    unsigned char *verdict = st_connection_recv_bytes(c, HANDSHAKE_MAX, &len);
    if (!verdict)
        return ST_TRACE();
    int welcome = len == sizeof WELCOME - 1 && !memcmp(verdict, WELCOME, len);
    st_free(verdict);
    if (!welcome)
        return ST_RAISE_AS(ST_EAUTH, "multiprocessing.AuthenticationError",
                           "digest sent was rejected");
    return 0;
}
