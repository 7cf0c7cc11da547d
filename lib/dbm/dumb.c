/* dbm.dumb: CPython 3.13's dbm/dumb.py file format — values in 512-byte-aligned slots of
 * base.dat, the index as `'key', (pos, siz)` lines in base.dir (the previous one kept as
 * base.bak) — with the index parsed by a strict parser of its own, never evaluated. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "internal/dbm.h"
#include "internal/mem.h"
#include "internal/os.h"
#include "internal/utf8.h"

#define ERROR_TYPE "dbm.dumb.error" /* Python's dbm.dumb.error is OSError itself */
#define BLOCKSIZE 512
/* Positions and sizes beyond this are refused as corrupt (no file is that large). */
#define MAX_OFFSET (((long long)1) << 60)

typedef struct dumb_db {
    st_dbm base;
    char *datfile, *dirfile, *bakfile;
    int mode;     /* permission bits, the umask already applied as dumb.open() does */
    int readonly; /* flag "r" */
    int modified; /* the index differs from base.dir */
    int datfd;    /* kept open: dumb.py reopens the file for each access */
    int datrw;    /* datfd is open for writing */
    off_t datsize; /* base.dat's size as last seen: saves an fstat per access */
    int dirfd;    /* base.dir opened for appending, -1 until the first new key */
    st_value *index; /* dict: key bytes -> bytes holding (int64 pos, int64 siz) */
} dumb_db;

/* ---- the .dir line format ----------------------------------------------------------------- */

/* Appends repr(key.decode("latin-1")) encoded back as Latin-1, as dumb.py writes the index. */
static int put_key_repr(st__buf *out, const unsigned char *k, size_t n)
{
    int has_sq = memchr(k, '\'', n) != NULL, has_dq = memchr(k, '"', n) != NULL;
    char quote = has_sq && !has_dq ? '"' : '\'';
    if (st__buf_putc(out, quote) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = k[i];
        int rc;
        if (c == (unsigned char)quote || c == '\\')
            rc = st__buf_printf(out, "\\%c", c);
        else if (c == '\t')
            rc = st__buf_puts(out, "\\t");
        else if (c == '\n')
            rc = st__buf_puts(out, "\\n");
        else if (c == '\r')
            rc = st__buf_puts(out, "\\r");
        else if (c >= 0x20 && c < 0x7f)
            rc = st__buf_putc(out, (char)c);
        else if (c >= 0x80 && st__unicode_isprintable(c))
            rc = st__buf_putc(out, (char)c);
        else
            rc = st__buf_printf(out, "\\x%02x", c);
        if (rc < 0)
            return -1;
    }
    return st__buf_putc(out, quote);
}

int st__dbm_dumb_format_entry(st__buf *out, const void *key, size_t klen, long long pos,
                              long long siz)
{
    if (put_key_repr(out, key, klen) < 0)
        return -1;
    return st__buf_printf(out, ", (%lld, %lld)\n", pos, siz);
}

static int put_entry(st__buf *out, const st_value *key, const st_value *pair)
{
    size_t klen;
    const unsigned char *k = st_value_bytes_data(key, &klen);
    int64_t ps[2];
    memcpy(ps, st_value_bytes_data(pair, NULL), sizeof ps);
    return st__dbm_dumb_format_entry(out, k, klen, (long long)ps[0], (long long)ps[1]);
}

static int bad_line(const char *path, size_t lineno, const char *what)
{
    return ST_RAISE_AS(ST_EFORMAT, ERROR_TYPE, "malformed index '%s', line %zu: %s", path,
                       lineno, what);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Parses `digits` hex digits at s into *cp; 0 or -1. */
static int parse_hex(const char *s, const char *end, int digits, uint32_t *cp)
{
    if (end - s < digits)
        return -1;
    uint32_t v = 0;
    for (int i = 0; i < digits; i++) {
        int h = hexval(s[i]);
        if (h < 0)
            return -1;
        v = v * 16 + (uint32_t)h;
    }
    *cp = v;
    return 0;
}

/* The one-character escapes of Python string literals. */
static int simple_escape(char c)
{
    static const char from[] = "\\'\"abfnrtv", to[] = "\\'\"\a\b\f\n\r\t\v";
    const char *p = c ? strchr(from, c) : NULL;
    return p ? to[p - from] : -1;
}

/* A non-negative decimal int as Python's grammar writes it (no sign, no leading zeros, no
 * underscores: dumb.py never writes them). */
static const char *parse_int(const char *s, const char *end, long long *out)
{
    if (s == end || *s < '0' || *s > '9' || (*s == '0' && s + 1 < end && s[1] >= '0' && s[1] <= '9'))
        return NULL;
    long long v = 0;
    for (; s < end && *s >= '0' && *s <= '9'; s++) {
        if (v > (MAX_OFFSET - (*s - '0')) / 10)
            return NULL;
        v = v * 10 + (*s - '0');
    }
    *out = v;
    return s;
}

static const char *skip_blanks(const char *s, const char *end)
{
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    return s;
}

int st__dbm_dumb_parse_line(const char *line, size_t len, const char *path, size_t lineno,
                            char **key, size_t *klen, long long *pos, long long *siz)
{
    const char *s = skip_blanks(line, line + len), *end = line + len;
    if (s == end || (*s != '\'' && *s != '"'))
        return bad_line(path, lineno, "expected a quoted key");
    char quote = *s++;
    st__buf k = ST__BUF_INIT;
    const char *err = NULL;
    while (!err) {
        if (s == end) {
            err = "unterminated string";
            break;
        }
        char c = *s++;
        if (c == quote)
            break;
        uint32_t cp = (unsigned char)c;
        if (c == '\0') {
            err = "NUL in key";
        } else if (c == '\\') {
            char e = s < end ? *s++ : 0;
            int simple = simple_escape(e);
            if (simple >= 0) {
                cp = (uint32_t)simple;
            } else if (e >= '0' && e <= '7') {
                cp = (uint32_t)(e - '0');
                for (int i = 0; i < 2 && s < end && *s >= '0' && *s <= '7'; i++)
                    cp = cp * 8 + (uint32_t)(*s++ - '0');
            } else if (e == 'x' || e == 'u' || e == 'U') {
                int digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
                if (parse_hex(s, end, digits, &cp) < 0)
                    err = "truncated escape";
                s += digits;
            } else if (e == 'N' || !e) {
                err = e ? "\\N{...} escape not supported" : "unterminated string";
            } else {
                /* Python keeps an unknown escape as it is (with a SyntaxWarning). */
                if (st__buf_putc(&k, '\\') < 0) {
                    st__buf_free(&k);
                    return -1;
                }
                cp = (unsigned char)e;
            }
            if (!err && cp > 0xff)
                err = "key is not Latin-1";
        }
        if (!err && st__buf_putc(&k, (char)cp) < 0) {
            st__buf_free(&k);
            return -1;
        }
    }
    if (!err) {
        s = skip_blanks(s, end);
        if (s == end || *s != ',')
            err = "expected ',' after the key";
        else if ((s = skip_blanks(s + 1, end)) == end || *s != '(')
            err = "expected '(pos, siz)'";
        else if (!(s = parse_int(skip_blanks(s + 1, end), end, pos)))
            err = "bad position";
        else if ((s = skip_blanks(s, end)) == end || *s != ',')
            err = "expected ',' after the position";
        else if (!(s = parse_int(skip_blanks(s + 1, end), end, siz)))
            err = "bad size";
        else if ((s = skip_blanks(s, end)) == end || *s != ')')
            err = "expected ')'";
        else if (skip_blanks(s + 1, end) != end)
            err = "text after the entry";
    }
    if (err) {
        st__buf_free(&k);
        return bad_line(path, lineno, err);
    }
    *klen = k.len;
    if (!k.data && st__buf_reserve(&k, 1) < 0)
        return -1;
    *key = k.data;
    return 0;
}

/* ---- the index ---------------------------------------------------------------------------- */

static st_value *make_pair(long long pos, long long siz)
{
    int64_t ps[2] = {pos, siz};
    return st_value_bytes(ps, sizeof ps);
}

static void get_pair(const st_value *pair, long long *pos, long long *siz)
{
    int64_t ps[2];
    memcpy(ps, st_value_bytes_data(pair, NULL), sizeof ps);
    *pos = ps[0];
    *siz = ps[1];
}

/* Python's str.isspace() for a Latin-1 character: what line.rstrip() removes. */
static int latin1_space(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f) || c == 0x85 ||
           c == 0xa0;
}

static int add_line(dumb_db *d, const char *line, size_t len, size_t lineno)
{
    while (len && latin1_space((unsigned char)line[len - 1]))
        len--;
    char *key;
    size_t klen;
    long long pos, siz;
    if (st__dbm_dumb_parse_line(line, len, d->dirfile, lineno, &key, &klen, &pos, &siz) < 0)
        return -1;
    st_value *k = st_value_bytes(key, klen);
    st_free(key);
    return st_value_dict_set_steal(d->index, k, make_pair(pos, siz));
}

/* Reads base.dir as dumb.py's _update() does: text lines split at \n, \r\n or \r. */
static int load_index(dumb_db *d, int fd)
{
    st__buf text = ST__BUF_INIT;
    if (st__read_to_buf(fd, &text) < 0)
        return -1;
    int rc = 0;
    size_t lineno = 0, start = 0;
    while (rc == 0 && start < text.len) {
        size_t i = start;
        while (i < text.len && text.data[i] != '\n' && text.data[i] != '\r')
            i++;
        rc = add_line(d, text.data + start, i - start, ++lineno);
        if (i < text.len && text.data[i] == '\r' && i + 1 < text.len && text.data[i + 1] == '\n')
            i++;
        start = i + 1;
    }
    st__buf_free(&text);
    return rc;
}

/* ---- files -------------------------------------------------------------------------------- */

/* The process umask, read without changing it where Linux tells it (dumb.open() sets and
 * restores it, which races with other threads creating files). */
static mode_t current_umask(void)
{
    FILE *f = fopen("/proc/self/status", "re");
    if (f) {
        char line[128];
        unsigned int um;
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "Umask: %o", &um) == 1) {
                fclose(f);
                return (mode_t)um;
            }
        fclose(f);
    }
    mode_t um = umask(0);
    umask(um);
    return um;
}

/* Creates (or truncates) a file as Python's open(name, "w") then os.chmod(name, mode). */
static int create_file(const char *path, int mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0 || fchmod(fd, (mode_t)mode) < 0) {
        int err = errno;
        if (fd >= 0)
            close(fd);
        return ST_RAISE_OS(err, "cannot create '%s'", path);
    }
    return fd;
}

static int refresh_size(dumb_db *d)
{
    struct stat st;
    if (fstat(d->datfd, &st) < 0)
        return ST_RAISE_OS(errno, "cannot stat '%s'", d->datfile);
    d->datsize = st.st_size;
    return 0;
}

/* Writes the padding (pad zero bytes) then the value at pos, in one system call when it can. */
static int write_at(dumb_db *d, size_t pad, const void *p, size_t n, off_t pos)
{
    static const char zeros[BLOCKSIZE];
    struct iovec iov[2] = {{(void *)zeros, pad}, {(void *)p, n}};
    struct iovec *v = pad ? iov : iov + 1;
    int cnt = pad ? 2 : 1;
    off_t end = pos + (off_t)(pad + n);
    while (cnt && pos < end) {
        ssize_t w = pwritev(d->datfd, v, cnt, pos);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return ST_RAISE_OS(errno, "cannot write '%s'", d->datfile);
        pos += w;
        for (; cnt && (size_t)w >= v->iov_len; v++, cnt--)
            w -= (ssize_t)v->iov_len;
        if (cnt) {
            v->iov_base = (char *)v->iov_base + w;
            v->iov_len -= (size_t)w;
        }
    }
    if (end > d->datsize)
        d->datsize = end;
    return 0;
}

/* _addval(): the value at the end of base.dat, in a slot starting on a block boundary. */
static int add_value(dumb_db *d, const void *val, size_t n, long long *pos)
{
    off_t end = d->datsize;
    off_t npos = (end + BLOCKSIZE - 1) / BLOCKSIZE * BLOCKSIZE;
    *pos = npos;
    return write_at(d, (size_t)(npos - end), val, n, end);
}

/* _addkey()'s append of one index line. */
static int append_entry(dumb_db *d, const st_value *key, const st_value *pair)
{
    if (d->dirfd < 0) {
        d->dirfd = open(d->dirfile, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
        if (d->dirfd < 0 || fchmod(d->dirfd, (mode_t)d->mode) < 0)
            return ST_RAISE_OS(errno, "cannot open '%s'", d->dirfile);
    }
    st__buf line = ST__BUF_INIT;
    int rc = put_entry(&line, key, pair);
    if (rc == 0 && st__write_full(d->dirfd, line.data, line.len) < 0)
        rc = ST_RAISE_OS(errno, "cannot write '%s'", d->dirfile);
    st__buf_free(&line);
    return rc;
}

/* _commit(): base.dir moved to base.bak and rewritten from the index. */
static int commit(dumb_db *d)
{
    if (!d->modified)
        return 0;
    if (d->dirfd >= 0) {
        close(d->dirfd);
        d->dirfd = -1;
    }
    (void)unlink(d->bakfile);
    (void)rename(d->dirfile, d->bakfile);
    st__buf text = ST__BUF_INIT;
    size_t i = 0;
    st_value *k, *pair;
    while (st_value_dict_next(d->index, &i, &k, &pair) > 0)
        if (put_entry(&text, k, pair) < 0) {
            st__buf_free(&text);
            return -1;
        }
    int fd = create_file(d->dirfile, d->mode);
    int rc = fd < 0 ? -1 : 0;
    if (fd >= 0 && st__write_full(fd, text.data ? text.data : "", text.len) < 0)
        rc = ST_RAISE_OS(errno, "cannot write '%s'", d->dirfile);
    if (fd >= 0 && close(fd) < 0 && rc == 0)
        rc = ST_RAISE_OS(errno, "cannot write '%s'", d->dirfile);
    st__buf_free(&text);
    if (rc == 0)
        d->modified = 0;
    return rc;
}

/* ---- the operations ------------------------------------------------------------------------ */

static int check_writable(dumb_db *d)
{
    if (d->readonly)
        return ST_RAISE_AS(ST_ESTATE, ERROR_TYPE, "The database is opened for reading only");
    if (!d->datrw)
        return ST_RAISE_OS(EACCES, "cannot open '%s' for writing", d->datfile);
    return 0;
}

/* The index entry for key (borrowed), or NULL without an error when absent. */
static st_value *find(dumb_db *d, const void *key, size_t klen, st_value **keyval)
{
    st_value *k = st_value_bytes(key, klen);
    if (!k)
        return NULL;
    st_value *pair = st_value_contains(d->index, k) == 1 ? st_value_dict_get(d->index, k) : NULL;
    if (keyval)
        *keyval = k;
    else
        st_value_unref(k);
    return pair;
}

static unsigned char *dumb_get(st_dbm *db, const void *key, size_t klen, size_t *vlen)
{
    dumb_db *d = (dumb_db *)db;
    st_error_clear();
    st_value *pair = find(d, key, klen, NULL);
    if (!pair)
        return st_error_code() == ST_OK ? (st__dbm_raise_key(key, klen), NULL) : NULL;
    long long pos, siz;
    get_pair(pair, &pos, &siz);
    /* f.read(siz) takes a Py_ssize_t: a 32-bit machine refuses a size from 2**31 on, however
     * short the file. */
    if ((unsigned long long)siz > (unsigned long long)SSIZE_MAX)
        return (ST_RAISE(ST_EOVERFLOW, "Python int too large to convert to C ssize_t"), NULL);
    /* As f.seek(pos); f.read(siz): short at the end of the file (so a corrupt size in the
     * index never asks for more memory than the file holds). */
    if (pos + siz > d->datsize && refresh_size(d) < 0)
        return NULL;
    long long avail = d->datsize > pos ? d->datsize - pos : 0;
    if (siz > avail)
        siz = avail;
    unsigned char *out = st__malloc((size_t)siz + 1);
    if (!out)
        return NULL;
    size_t got = 0;
    while (got < (size_t)siz) {
        ssize_t r = pread(d->datfd, out + got, (size_t)siz - got, (off_t)(pos + (long long)got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            st_free(out);
            return (ST_RAISE_OS(errno, "cannot read '%s'", d->datfile), NULL);
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    out[got] = 0;
    *vlen = got;
    return out;
}

static int dumb_set(st_dbm *db, const void *key, size_t klen, const void *value, size_t vlen)
{
    dumb_db *d = (dumb_db *)db;
    if (check_writable(d) < 0)
        return -1;
    d->modified = 1;
    st_value *k = NULL;
    st_error_clear();
    st_value *pair = find(d, key, klen, &k);
    if (!k)
        return -1;
    long long pos, siz;
    int rc;
    if (!pair) {
        if (st_error_code() != ST_OK || add_value(d, value, vlen, &pos) < 0) {
            st_value_unref(k);
            return -1;
        }
        st_value *np = make_pair(pos, (long long)vlen);
        rc = st_value_dict_set(d->index, k, np);
        if (rc == 0)
            rc = append_entry(d, k, np);
        st_value_unref(np);
    } else {
        get_pair(pair, &pos, &siz);
        long long oldblocks = (siz + BLOCKSIZE - 1) / BLOCKSIZE;
        long long newblocks = ((long long)vlen + BLOCKSIZE - 1) / BLOCKSIZE;
        if (newblocks <= oldblocks)
            rc = write_at(d, 0, value, vlen, (off_t)pos);
        else
            rc = add_value(d, value, vlen, &pos);
        if (rc == 0)
            rc = st_value_dict_set_steal(d->index, st_value_ref(k), make_pair(pos, (long long)vlen));
    }
    st_value_unref(k);
    return rc;
}

static int dumb_del(st_dbm *db, const void *key, size_t klen)
{
    dumb_db *d = (dumb_db *)db;
    if (d->readonly)
        return check_writable(d);
    d->modified = 1;
    st_value *k = st_value_bytes(key, klen);
    if (!k)
        return -1;
    int found = st_value_contains(d->index, k);
    int rc = found == 1 ? st_value_dict_delete(d->index, k) : -1;
    st_value_unref(k);
    if (found == 0)
        return st__dbm_raise_key(key, klen);
    return rc < 0 ? -1 : commit(d);
}

static int dumb_contains(st_dbm *db, const void *key, size_t klen)
{
    dumb_db *d = (dumb_db *)db;
    st_value *k = st_value_bytes(key, klen);
    if (!k)
        return -1;
    int found = st_value_contains(d->index, k);
    st_value_unref(k);
    return found;
}

static ssize_t dumb_len(st_dbm *db) { return (ssize_t)st_value_len(((dumb_db *)db)->index); }

static st_value *dumb_keys(st_dbm *db)
{
    dumb_db *d = (dumb_db *)db;
    st_value *list = st_value_list();
    size_t i = 0;
    st_value *k;
    while (list && st_value_dict_next(d->index, &i, &k, NULL) > 0)
        if (st_value_list_append(list, k) < 0) {
            st_value_unref(list);
            return NULL;
        }
    return list;
}

static int dumb_sync(st_dbm *db) { return commit((dumb_db *)db); }

/* Closes the files and frees all but the handle. */
static void dumb_release(dumb_db *d)
{
    if (d->datfd >= 0)
        close(d->datfd);
    if (d->dirfd >= 0)
        close(d->dirfd);
    st_value_unref(d->index);
    st_free(d->datfile);
    st_free(d->dirfile);
    st_free(d->bakfile);
    d->datfd = d->dirfd = -1;
    d->index = NULL;
    d->datfile = d->dirfile = d->bakfile = NULL;
}

static int dumb_close(st_dbm *db)
{
    dumb_db *d = (dumb_db *)db;
    int rc = commit(d);
    dumb_release(d);
    return rc;
}

static const st__dbm_ops DUMB_OPS = {
    "dbm.dumb", ERROR_TYPE, "DBM object has already been closed",
    dumb_get, dumb_set, dumb_del, dumb_contains, dumb_len, dumb_keys, dumb_sync, dumb_close, NULL,
};

/* _create(): base.dat opened, or created for "c" and "n". */
static int open_dat(dumb_db *d, const char *flag)
{
    if (!d->readonly) {
        d->datfd = open(d->datfile, O_RDWR | O_CLOEXEC);
        d->datrw = d->datfd >= 0;
    }
    if (d->datfd < 0)
        d->datfd = open(d->datfile, O_RDONLY | O_CLOEXEC);
    if (d->datfd >= 0)
        return 0;
    if (errno != ENOENT || (*flag != 'c' && *flag != 'n'))
        return ST_RAISE_OS(errno, "cannot open '%s'", d->datfile);
    int fd = create_file(d->datfile, d->mode);
    if (fd < 0)
        return -1;
    close(fd);
    d->datfd = open(d->datfile, O_RDWR | O_CLOEXEC);
    d->datrw = 1;
    return d->datfd >= 0 ? 0 : ST_RAISE_OS(errno, "cannot open '%s'", d->datfile);
}

/* _update(): the index read from base.dir, or base.dir created for "c" and "n". */
static int open_dir(dumb_db *d, const char *flag)
{
    int fd = open(d->dirfile, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (*flag != 'c' && *flag != 'n')
            return ST_RAISE_OS(errno, "cannot open '%s'", d->dirfile);
        fd = create_file(d->dirfile, d->mode);
        if (fd < 0)
            return -1;
        close(fd);
        return 0;
    }
    int rc = load_index(d, fd);
    close(fd);
    return rc;
}

st_dbm *st__dbm_dumb_open(const char *filename, const char *flag, int mode)
{
    dumb_db *d = st__calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->base.ops = &DUMB_OPS;
    d->datfd = d->dirfd = -1;
    d->mode = mode & ~(int)current_umask();
    d->readonly = *flag == 'r';
    d->datfile = st__asprintf("%s.dat", filename);
    d->dirfile = st__asprintf("%s.dir", filename);
    d->bakfile = st__asprintf("%s.bak", filename);
    d->index = st_value_dict();
    if (!d->datfile || !d->dirfile || !d->bakfile || !d->index)
        goto fail;
    if (*flag == 'n') {
        (void)unlink(d->datfile);
        (void)unlink(d->bakfile);
        (void)unlink(d->dirfile);
    }
    if (open_dat(d, flag) < 0 || refresh_size(d) < 0 || open_dir(d, flag) < 0)
        goto fail;
    return &d->base;
fail:
    dumb_release(d);
    st_free(d);
    return NULL;
}
