/* os: names that are not UTF-8 (os.fsencode/os.fsdecode with surrogateescape), the value forms
 * of environ, listdir, walk and glob, and the conversions between values and C string vectors. */
#include <stdlib.h>
#include <string.h>

#include "internal/codec.h"
#include "internal/error.h"
#include "internal/mem.h"
#include "systools/glob.h"
#include "systools/os.h"
#include "systools/value.h"

/* ---- os.fsencode / os.fsdecode ----------------------------------------------------------- */

static int fs_codec(st__encoding *enc)
{
    return st__codec_lookup(NULL, enc); /* the file system encoding is the locale's */
}

char *st_os_fsdecode(const void *name, size_t len, size_t *outlen)
{
    st__encoding enc;
    st__buf out = ST__BUF_INIT;
    size_t used;
    if (!name && len)
        return (ST_RAISE(ST_ETYPE, "expected bytes, not NULL"), NULL);
    if (fs_codec(&enc) < 0 || st__buf_reserve(&out, len) < 0 ||
        st__codec_decode(enc, ST__ERR_SURROGATEESCAPE, name, len, 0, 1, 0, SIZE_MAX, &out, &used,
                         NULL) < 0) {
        st__buf_free(&out);
        return (ST_TRACE(), NULL);
    }
    if (outlen)
        *outlen = out.len;
    return st__buf_detach(&out);
}

char *st_os_fsencode(const char *text, size_t len, size_t *outlen)
{
    st__encoding enc;
    st__buf out = ST__BUF_INIT;
    if (!text && len)
        return (ST_RAISE(ST_ETYPE, "expected str, not NULL"), NULL);
    if (fs_codec(&enc) < 0 || st__buf_reserve(&out, len) < 0 ||
        st__codec_encode(enc, ST__ERR_SURROGATEESCAPE, text ? text : "", len, &out) < 0) {
        st__buf_free(&out);
        return (ST_TRACE(), NULL);
    }
    if (outlen)
        *outlen = out.len;
    return st__buf_detach(&out);
}

/* A str value of the name's bytes, decoded as os.fsdecode() does. */
static st_value *decoded(const char *name, size_t len)
{
    size_t n;
    char *text = st_os_fsdecode(name, len, &n);
    if (!text)
        return (ST_TRACE(), NULL);
    st_value *v = st_value_str_surrogatepass(text, n);
    st_free(text);
    return v ? v : (ST_TRACE(), NULL);
}

static int type_error(const st_value *v, const char *what)
{
    return ST_RAISE(ST_ETYPE, "expected %s, not %s", what, st_value_type_name(v));
}

st_value *st_os_fsdecode_value(const st_value *name)
{
    size_t len;
    if (st_value_kind(name) == ST_VALUE_STR)
        return st_value_ref((st_value *)name);
    const unsigned char *b =
        st_value_kind(name) == ST_VALUE_BYTES ? st_value_bytes_data(name, &len) : NULL;
    if (!b)
        return (type_error(name, "str, bytes or os.PathLike object"), NULL);
    return decoded((const char *)b, len);
}

st_value *st_os_fsencode_value(const st_value *name)
{
    size_t len;
    if (st_value_kind(name) == ST_VALUE_BYTES)
        return st_value_ref((st_value *)name);
    const char *s = st_value_kind(name) == ST_VALUE_STR ? st_value_str_data(name, &len) : NULL;
    if (!s)
        return (type_error(name, "str, bytes or os.PathLike object"), NULL);
    size_t n;
    char *b = st_os_fsencode(s, len, &n);
    if (!b)
        return (ST_TRACE(), NULL);
    st_value *v = st_value_bytes(b, n);
    st_free(b);
    return v ? v : (ST_TRACE(), NULL);
}

/* ---- values <-> C string vectors --------------------------------------------------------- */

st_value *st_value_list_from_strv(const char *const *v)
{
    st_value *list = st_value_list();
    if (!list)
        return (ST_TRACE(), NULL);
    for (size_t i = 0; v && v[i]; i++)
        if (st_value_list_append_steal(list, decoded(v[i], strlen(v[i]))) < 0) {
            st_value_unref(list);
            return (ST_TRACE(), NULL);
        }
    return list;
}

/* The bytes of a str (fsencoded) or bytes value, refusing NUL as exec() and environ must;
 * st_free(). */
static char *c_string(const st_value *v, size_t *lenp)
{
    st_value *b = st_os_fsencode_value(v);
    if (!b)
        return (ST_TRACE(), NULL);
    size_t len;
    const unsigned char *data = st_value_bytes_data(b, &len);
    char *s = NULL;
    if (memchr(data, '\0', len))
        ST_RAISE(ST_EVALUE, "embedded null byte");
    else
        s = st__strndup((const char *)data, len);
    st_value_unref(b);
    if (s && lenp)
        *lenp = len;
    return s ? s : (ST_TRACE(), NULL);
}

const char **st_value_list_to_strv(const st_value *seq)
{
    ptrdiff_t n = st_value_len(seq);
    st_value_type k = st_value_kind(seq);
    if (n < 0 || (k != ST_VALUE_LIST && k != ST_VALUE_TUPLE))
        return (type_error(seq, "list or tuple"), NULL);
    st__strv sv = ST__STRV_INIT;
    for (ptrdiff_t i = 0; i < n; i++) {
        const st_value *item = st_value_item(seq, i); /* borrowed */
        char *s = item ? c_string(item, NULL) : NULL;
        if (!s || st__strv_push_owned(&sv, s) < 0) {
            st__strv_free(&sv);
            return (ST_TRACE(), NULL);
        }
    }
    const char **v = st__strv_detach(&sv);
    return v ? v : (ST_TRACE(), NULL);
}

st_value *st_value_dict_from_environ(const char *const *env)
{
    st_value *d = st_value_dict();
    if (!d)
        return (ST_TRACE(), NULL);
    for (size_t i = 0; env && env[i]; i++) {
        const char *eq = strchr(env[i], '=');
        if (!eq) /* as CPython's convertenviron() */
            continue;
        st_value *k = decoded(env[i], (size_t)(eq - env[i]));
        st_value *val = k ? decoded(eq + 1, strlen(eq + 1)) : NULL;
        int have = val ? st_value_contains(d, k) : -1;
        /* PyDict_SetDefault: the first of two equal names wins */
        if (have < 0 || (!have && st_value_dict_set(d, k, val) < 0)) {
            st_value_unref(k);
            st_value_unref(val);
            st_value_unref(d);
            return (ST_TRACE(), NULL);
        }
        st_value_unref(k);
        st_value_unref(val);
    }
    return d;
}

const char **st_value_dict_to_environ(const st_value *d)
{
    if (st_value_kind(d) != ST_VALUE_DICT)
        return (type_error(d, "dict"), NULL);
    st__strv sv = ST__STRV_INIT;
    size_t pos = 0;
    st_value *k, *v;
    int rc;
    while ((rc = st_value_dict_next(d, &pos, &k, &v)) > 0) {
        size_t kl;
        char *ks = c_string(k, &kl), *vs = ks ? c_string(v, NULL) : NULL;
        char *kv = NULL;
        if (vs && (!kl || strchr(ks, '=')))
            ST_RAISE(ST_EVALUE, "illegal environment variable name");
        else if (vs)
            kv = st__asprintf("%s=%s", ks, vs);
        st_free(ks);
        st_free(vs);
        if (!kv || st__strv_push_owned(&sv, kv) < 0) {
            rc = -1;
            break;
        }
    }
    if (rc < 0) {
        st__strv_free(&sv);
        return (ST_TRACE(), NULL);
    }
    const char **out = st__strv_detach(&sv);
    return out ? out : (ST_TRACE(), NULL);
}

/* ---- value forms of os.environ, os.listdir, os.walk and glob.glob ----------------------- */

st_value *st_os_environ_value(void)
{
    const char **env = st_os_environ();
    st_value *d = env ? st_value_dict_from_environ(env) : NULL;
    st_strv_free(env);
    return d ? d : (ST_TRACE(), NULL);
}

st_value *st_os_listdir_value(const char *path)
{
    const char **names = st_os_listdir(path);
    st_value *list = names ? st_value_list_from_strv(names) : NULL;
    st_strv_free(names);
    return list ? list : (ST_TRACE(), NULL);
}

st_value *st_glob_value(const char *pattern, int flags)
{
    const char **names = st_glob(pattern, flags);
    st_value *list = names ? st_value_list_from_strv(names) : NULL;
    st_strv_free(names);
    return list ? list : (ST_TRACE(), NULL);
}

/* A list of str from n names. */
static st_value *name_list(const char *const *names, size_t n)
{
    st_value *list = st_value_list();
    for (size_t i = 0; list && i < n; i++)
        if (st_value_list_append_steal(list, decoded(names[i], strlen(names[i]))) < 0) {
            st_value_unref(list);
            list = NULL;
        }
    return list ? list : (ST_TRACE(), NULL);
}

st_value *st_os_walk_value(const char *top, const st_os_walk_options *opts)
{
    st_os_walk_iterator *w = st_os_walk(top, opts);
    st_value *list = w ? st_value_list() : NULL;
    st_os_walk_step *step;
    int rc = list ? 0 : -1;
    while (list && (rc = st_os_walk_iterator_next(w, &step)) > 0) {
        st_value *t[3] = {decoded(step->dirpath, strlen(step->dirpath)),
                          name_list(step->dirnames, step->ndirnames),
                          name_list(step->filenames, step->nfilenames)};
        st_value *tuple = t[0] && t[1] && t[2] ? st_value_tuple(3, t) : NULL;
        for (int i = 0; i < 3; i++)
            st_value_unref(t[i]);
        if (st_value_list_append_steal(list, tuple) < 0) {
            rc = -1;
            break;
        }
    }
    st_os_walk_iterator_free(w);
    if (rc < 0) {
        st_value_unref(list);
        return (ST_TRACE(), NULL);
    }
    return list;
}
