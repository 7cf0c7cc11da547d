/* Fuzzes dbm.dumb's .dir index parser three ways, chosen by the first byte:
 *  - lines: each line (split and stripped as the loader does) through the line parser; what
 *    parses must format back to a line that parses to the same entry;
 *  - key: the bytes are a key; the line the writer makes for it must parse back to it;
 *  - file: the bytes are a whole .dir file opened read-only next to a small .dat, and every
 *    key listed must read back. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal/dbm.h"
#include "systools/systools.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* format(key, pos, siz) parses back to exactly that. */
static void round_trip(const char *key, size_t klen, long long pos, long long siz)
{
    st__buf line = ST__BUF_INIT;
    if (st__dbm_dumb_format_entry(&line, key, klen, pos, siz) < 0)
        abort();
    char *k2;
    size_t k2len;
    long long p2, s2;
    if (line.len == 0 || line.data[line.len - 1] != '\n' || memchr(line.data, '\n', line.len - 1))
        abort();
    if (st__dbm_dumb_parse_line(line.data, line.len - 1, "fuzz.dir", 1, &k2, &k2len, &p2, &s2) < 0)
        abort();
    if (k2len != klen || (klen && memcmp(k2, key, klen)) || p2 != pos || s2 != siz)
        abort();
    st_free(k2);
    st__buf_free(&line);
}

static void lines(const char *s, size_t n)
{
    size_t start = 0, lineno = 0;
    while (start < n) {
        size_t i = start;
        while (i < n && s[i] != '\n' && s[i] != '\r')
            i++;
        char *key;
        size_t klen;
        long long pos, siz;
        if (st__dbm_dumb_parse_line(s + start, i - start, "fuzz.dir", ++lineno, &key, &klen, &pos,
                                    &siz) == 0) {
            if (klen > i - start || pos < 0 || siz < 0)
                abort();
            round_trip(key, klen, pos, siz);
            st_free(key);
        } else if (st_error_code() != ST_EFORMAT && st_error_code() != ST_ENOMEM) {
            abort();
        }
        st_error_clear();
        start = i + 1;
    }
}

static char dir[] = "/tmp/fuzz_dumb_index_XXXXXX";

static char base[64], dirfile[80], datfile[80];

static void cleanup(void)
{
    unlink(dirfile);
    unlink(datfile);
    rmdir(dir);
}

static void whole_file(const uint8_t *data, size_t size)
{
    if (!base[0]) {
        if (!mkdtemp(dir))
            abort();
        atexit(cleanup);
        snprintf(base, sizeof base, "%s/db", dir);
        snprintf(dirfile, sizeof dirfile, "%s.dir", base);
        snprintf(datfile, sizeof datfile, "%s.dat", base);
        FILE *f = fopen(datfile, "wb");
        if (!f)
            abort();
        for (int i = 0; i < 2048; i++)
            fputc(i & 0xff, f);
        fclose(f);
    }
    FILE *f = fopen(dirfile, "wb");
    if (!f || fwrite(data, 1, size, f) != size)
        abort();
    fclose(f);
    st_dbm_options o = ST_DBM_OPTIONS_INIT;
    o.backend = "dbm.dumb";
    st_dbm *db = st_dbm_open(base, "r", &o);
    if (!db) {
        if (st_error_code() != ST_EFORMAT && st_error_code() != ST_ENOMEM)
            abort();
        st_error_clear();
        return;
    }
    st_value *keys = st_dbm_keys(db);
    if (!keys || st_value_len(keys) != st_dbm_len(db))
        abort();
    size_t pos = 0;
    st_value *k;
    while (st_value_next(keys, &pos, &k) > 0) {
        size_t klen, vlen;
        const unsigned char *kd = st_value_bytes_data(k, &klen);
        /* Sizes are bounded by the parser, not by memory: only read the modest ones. */
        unsigned char *v = st_dbm_get(db, kd, klen, &vlen);
        if (v)
            st_free(v);
        else if (st_error_code() != ST_ENOMEM)
            abort();
        st_error_clear();
    }
    st_value_unref(keys);
    st_dbm_free(db);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    switch (data[0] % 3) {
    case 0:
        lines((const char *)data + 1, size - 1);
        break;
    case 1:
        round_trip((const char *)data + 1, size - 1, (long long)size * 512, (long long)size);
        break;
    default:
        whole_file(data + 1, size - 1);
        break;
    }
    return 0;
}
