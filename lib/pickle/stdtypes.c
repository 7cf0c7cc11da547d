/* pickle: the standard library's types (datetime, Decimal, UUID, complex, the collections)
 * as CPython 3.13 reduces them — loading their known globals by default (they are data; no
 * code runs) and writing the bytes its C Pickler writes: each type's __reduce__ /
 * __reduce_ex__ result through save_reduce, with the same memo entries. */
#include <string.h>

#include "internal/error.h"
#include "internal/value.h"
#include "pickle.h"

/* ---- loading ------------------------------------------------------------------------------- */

int st__pickle_std_global(const char *mod, const char *name)
{
    /* Python 2's names, which fix_imports maps (_compat_pickle): __builtin__, long, unicode */
    if (strcmp(mod, "__builtin__") == 0) {
        mod = "builtins";
        name = strcmp(name, "long") == 0 ? "int" : strcmp(name, "unicode") == 0 ? "str" : name;
    }
    for (int g = G_DATE; g < G_FACTORY_ARGS; g++)
        if (strcmp(mod, st__pickle_global_module[g]) == 0 &&
            strcmp(name, st__pickle_global_name[g]) == 0)
            return g;
    return G_NONE;
}

/* The bytes of a date/time state: bytes, or a str of Latin-1 characters (Python 2 pickles and
 * the pure-Python datetime accept both); NULL if neither or not n long. */
static const unsigned char *state_bytes(const st_value *a, size_t n, unsigned char *buf)
{
    size_t len;
    if (st__kind(a) == ST_VALUE_BYTES) {
        const unsigned char *d = st_value_bytes_data(a, &len);
        return len == n ? d : NULL;
    }
    if (st__kind(a) != ST_VALUE_STR || (size_t)st_value_len(a) != n)
        return NULL;
    const unsigned char *s = (const unsigned char *)st_value_str_data(a, &len);
    for (size_t i = 0, k = 0; k < n; k++) {
        if (s[i] < 0x80) {
            buf[k] = s[i++];
        } else if ((s[i] & 0xFE) == 0xC2 && i + 1 < len) {
            buf[k] = (unsigned char)(((s[i] & 0x1F) << 6) | (s[i + 1] & 0x3F));
            i += 2;
        } else {
            return NULL;
        }
    }
    return buf;
}

/* date, time and datetime from their pickled state: (bytes[, tzinfo]). */
static st_value *call_dt(int g, const st_value *args, int *bad)
{
    size_t n = (size_t)st_value_len(args);
    size_t size = g == G_DATE ? 4 : g == G_TIME ? 6 : 10;
    unsigned char buf[10];
    const unsigned char *d = n >= 1 && n <= (g == G_DATE ? 1u : 2u)
                                 ? state_bytes(st_value_item(args, 0), size, buf)
                                 : NULL;
    if (!d) {
        *bad = 1;
        return NULL;
    }
    st_value *tz = n == 2 ? st_value_item(args, 1) : NULL;
    if (g == G_DATE)
        return st_value_date(d[0] << 8 | d[1], d[2], d[3]);
    const unsigned char *t = g == G_TIME ? d : d + 4;
    int fold = (g == G_TIME ? t[0] : d[2]) >> 7; /* protocol 4+ marks fold in a high bit */
    int us = t[3] << 16 | t[4] << 8 | t[5];
    if (g == G_TIME)
        return st_value_time(t[0] & 0x7f, t[1], t[2], us, tz, fold);
    return st_value_datetime(d[0] << 8 | d[1], d[2] & 0x7f, d[3], t[0], t[1], t[2], us, tz, fold);
}

static int is_kind(const st_value *v, st_value_type k) { return v && st__kind(v) == k; }

/* A number argument of complex(): an int, bool or float as a double. */
static int number_arg(const st_value *v, double *d)
{
    st_value_type k = st__kind(v);
    return (k == ST_VALUE_INT || k == ST_VALUE_BOOL || k == ST_VALUE_FLOAT) &&
                   st_value_as_double(v, d) == 0
               ? 0
               : -1;
}

/* Fills a new container (an OrderedDict, Counter or deque) with the items of a0 (pairs of a
 * dict-like or, for an OrderedDict, a list of pairs; items of a list or tuple for a deque),
 * as the type's constructor does; *bad for other arguments. */
static st_value *filled(st_value *c, const st_value *a0, int *bad)
{
    size_t pos = 0;
    st_value *k, *x;
    if (!c || !a0)
        return c;
    if (st__base_kind(a0) == ST_VALUE_DICT && st__base_kind(c) == ST_VALUE_DICT) {
        while (st_value_dict_next(a0, &pos, &k, &x) > 0)
            if (st_value_dict_set(c, k, x))
                return (st_value_unref(c), NULL);
        return c;
    }
    /* pairs: Python 2's OrderedDict.__reduce__ gives ([[key, value], ...],) */
    if ((is_kind(a0, ST_VALUE_LIST) || is_kind(a0, ST_VALUE_TUPLE)) &&
        st__kind(c) == ST_VALUE_ORDEREDDICT) {
        int ok = 1;
        while (ok && st_value_next(a0, &pos, &x) > 0) {
            if ((!is_kind(x, ST_VALUE_LIST) && !is_kind(x, ST_VALUE_TUPLE)) || st_value_len(x) != 2)
                ok = 0;
            else if (st_value_dict_set(c, st_value_item(x, 0), st_value_item(x, 1)))
                return (st_value_unref(c), NULL);
        }
        if (ok)
            return c;
    }
    if ((is_kind(a0, ST_VALUE_LIST) || is_kind(a0, ST_VALUE_TUPLE)) &&
        st__base_kind(c) == ST_VALUE_LIST) {
        /* only the last maxlen items stay: skip the others (no append drops one then) */
        size_t n = (size_t)st_value_len(a0);
        ptrdiff_t maxlen = st__deque_maxlen(c);
        pos = maxlen >= 0 && n > (size_t)maxlen ? n - (size_t)maxlen : 0;
        while (st_value_next(a0, &pos, &x) > 0)
            if (st_value_list_append(c, x))
                return (st_value_unref(c), NULL);
        return c;
    }
    *bad = 1;
    st_value_unref(c);
    return NULL;
}

st_value *st__pickle_std_call(int g, const st_value *args, int *bad)
{
    size_t n = (size_t)st_value_len(args);
    st_value *a0 = n ? st_value_item(args, 0) : NULL, *a1 = n > 1 ? st_value_item(args, 1) : NULL;
    *bad = 0;
    switch (g) {
    case G_DATE:
    case G_TIME:
    case G_DATETIME:
        return call_dt(g, args, bad);
    case G_TIMEDELTA: {
        int64_t f[3] = {0, 0, 0};
        for (size_t i = 0; i < n && n <= 3; i++)
            if (!is_kind(st_value_item(args, (ptrdiff_t)i), ST_VALUE_INT) ||
                st_value_as_int64(st_value_item(args, (ptrdiff_t)i), &f[i]))
                n = 4;
        if (n > 3)
            break;
        return st_value_timedelta(f[0], f[1], f[2]);
    }
    case G_TIMEZONE:
        if (n < 1 || n > 2 || !is_kind(a0, ST_VALUE_TIMEDELTA) ||
            (a1 && !is_kind(a1, ST_VALUE_STR)))
            break;
        return st__timezone_new(a0, a1);
    case G_DECIMAL: {
        size_t len;
        const char *text = is_kind(a0, ST_VALUE_STR) ? st_value_str_data(a0, &len) : NULL;
        if (n != 1 || !text)
            break;
        if (strlen(text) != len) /* a NUL inside: no Decimal */
            return (ST_RAISE_AS(ST_EVALUE, "decimal.InvalidOperation",
                                "[<class 'decimal.ConversionSyntax'>]"),
                    NULL);
        return st_value_decimal(text);
    }
    case G_COMPLEX: {
        double re = 0, im = 0;
        if (n > 2 || (a0 && number_arg(a0, &re)) || (a1 && number_arg(a1, &im)))
            break;
        return st_value_complex(re, im);
    }
    case G_ORDEREDDICT:
    case G_COUNTER:
        if (n > 1)
            break;
        return filled(g == G_COUNTER ? st_value_counter() : st_value_ordereddict(), a0, bad);
    case G_DEFAULTDICT: /* a factory is a global: load.c passes those as G_FACTORY_ARGS */
        if (n > 1 || (a0 && !is_kind(a0, ST_VALUE_NONE)))
            break;
        return st_value_defaultdict(NULL, NULL);
    case G_DEQUE: {
        /* deque(iterable, maxlen): what deque.__reduce__ gives, ((), maxlen) or () */
        int64_t maxlen = -1;
        if (n > 2 || (a1 && !is_kind(a1, ST_VALUE_NONE) &&
                      (!is_kind(a1, ST_VALUE_INT) || st_value_as_int64(a1, &maxlen))))
            break;
        if (is_kind(a1, ST_VALUE_INT) && maxlen < 0)
            return (ST_RAISE(ST_EVALUE, "maxlen must be non-negative"), NULL);
        if (maxlen > PTRDIFF_MAX) /* 32-bit hosts */
            return (ST_RAISE(ST_EOVERFLOW, "Python int too large to convert to C ssize_t"), NULL);
        return filled(st_value_deque((ptrdiff_t)maxlen), a0, bad);
    }
    case G_UUID: /* copyreg._reconstructor(UUID, object, None): the state comes with BUILD */
        return st_value_uuid((const unsigned char[16]){0});
    default:
        break;
    }
    *bad = 1;
    return NULL;
}

int st__pickle_std_uuid_setstate(st_value *uuid, const st_value *state, int *bad)
{
    *bad = 1;
    if (st__base_kind(state) != ST_VALUE_DICT || st_value_len(state) > 2)
        return -1;
    st_value *i = NULL, *safe = NULL, *k, *x;
    size_t pos = 0;
    while (st_value_dict_next(state, &pos, &k, &x) > 0) {
        const char *name = is_kind(k, ST_VALUE_STR) ? st_value_str_data(k, NULL) : "";
        if (strcmp(name, "int") == 0)
            i = x;
        else if (strcmp(name, "is_safe") == 0)
            safe = x;
        else
            return -1;
    }
    int64_t s = 1;
    if (!is_kind(i, ST_VALUE_INT) ||
        (safe && !is_kind(safe, ST_VALUE_NONE) &&
         (!is_kind(safe, ST_VALUE_INT) || st_value_as_int64(safe, &s) || (s != 0 && s != -1))))
        return -1;
    *bad = 0;
    unsigned char le[16];
    if (st_value_int_to_bytes(i, le, 16, 0))
        return ST_RAISE(ST_EVALUE, "int is out of range (need a 128-bit value)");
    unsigned char *b = st__std_mut(uuid)->uuid;
    for (int j = 0; j < 16; j++)
        b[j] = le[15 - j];
    st__uuid_set_flags(uuid, s == 0 ? ST__V_UUID_SAFE : s == -1 ? ST__V_UUID_UNSAFE : 0);
    return 0;
}

/* ---- dumping ------------------------------------------------------------------------------- */

/* batch_list / batch_dict over a reduce's listitems or dictitems iterator: APPEND/SETITEM one
 * by one at protocol 0, else batches of BATCHSIZE, a last lone item without MARK. */
static int batch(pickler *p, const st_value *c)
{
    int dict = st__base_kind(c) == ST_VALUE_DICT;
    size_t n = (size_t)st_value_len(c), done = 0, pos = 0;
    st_value *k = NULL, *x = NULL;
    unsigned char one = dict ? SETITEM : APPEND, many = dict ? SETITEMS : APPENDS;
    while (done < n) {
        size_t m = st__pickler_proto(p) == 0 || n - done == 1 ? 1
                   : n - done < BATCHSIZE                     ? n - done
                                                              : BATCHSIZE;
        if (m > 1 && st__pickler_op(p, MARK))
            return -1;
        for (size_t i = 0; i < m; i++, done++) {
            if (dict)
                st__dict_next(c, &pos, &k, &x);
            else
                st_value_next(c, &pos, &x);
            if ((dict && st__pickler_save(p, k)) || st__pickler_save(p, x))
                return -1;
        }
        if (st__pickler_op(p, m > 1 ? many : one))
            return -1;
    }
    return 0;
}

/* The pickled state of a date, time or datetime: its bytes (fold in a high bit from
 * protocol 4, as datetime's __reduce_ex__ writes it). */
static size_t dt_state(const st_value *v, int proto, unsigned char out[10])
{
    const st__std *s = st__std_of(v);
    size_t n = 0;
    int fold = proto > 3 && s->dt.fold;
    if (st__kind(v) != ST_VALUE_TIME) {
        out[n++] = (unsigned char)(s->dt.year >> 8);
        out[n++] = (unsigned char)s->dt.year;
        out[n++] = (unsigned char)(s->dt.month | (fold && st__kind(v) == ST_VALUE_DATETIME) << 7);
        out[n++] = s->dt.day;
    }
    if (st__kind(v) != ST_VALUE_DATE) {
        out[n++] = (unsigned char)(s->dt.hour | (fold && st__kind(v) == ST_VALUE_TIME) << 7);
        out[n++] = s->dt.minute;
        out[n++] = s->dt.second;
        out[n++] = (unsigned char)(s->dt.us >> 16);
        out[n++] = (unsigned char)(s->dt.us >> 8);
        out[n++] = (unsigned char)s->dt.us;
    }
    return n;
}

/* save_reduce's end: REDUCE, the object's memo entry. */
static int reduce_end(pickler *p, uintptr_t key)
{
    return st__pickler_op(p, REDUCE) || st__pickler_memo_put(p, key) ? -1 : 0;
}

/* UUID: copyreg.__reduce_ex__ — NEWOBJ from protocol 2, copyreg._reconstructor below — then
 * BUILD with __getstate__'s {'int': n} (and 'is_safe' unless SafeUUID.unknown). */
static int save_uuid(pickler *p, const st_value *v, uintptr_t key)
{
    int proto = st__pickler_proto(p), safe;
    st_value_uuid_is_safe(v, &safe);
    unsigned char le[16];
    const unsigned char *b = st_value_uuid_bytes(v);
    for (int j = 0; j < 16; j++)
        le[j] = b[15 - j];
    if (proto >= 2) {
        if (st__pickler_global(p, G_UUID) || st__pickler_tuple_open(p, 0) ||
            st__pickler_tuple_close(p, 0) || st__pickler_op(p, NEWOBJ) ||
            st__pickler_memo_put(p, key))
            return -1;
    } else if (st__pickler_global(p, G_RECONSTRUCTOR) || st__pickler_tuple_open(p, 3) ||
               st__pickler_global(p, G_UUID) || st__pickler_global(p, G_OBJECT) ||
               st__pickler_save(p, st_value_none()) || st__pickler_tuple_close(p, 3) ||
               reduce_end(p, key)) {
        return -1;
    }
    st_value *state = st_value_dict(), *n = st_value_int_from_bytes(le, 16, 0);
    st_value *ki = st_value_str("int"), *ks = st_value_str("is_safe");
    int rc = !state || !n || !ki || !ks || st_value_dict_set(state, ki, n) ||
             (safe != 1 && st_value_dict_set_steal(state, st_value_ref(ks), st_value_int(safe)));
    st_value_unref(n);
    if (rc == 0) {
        /* save_dict of a fresh dict, the keys being interned constants */
        size_t pos = 0;
        st_value *k, *x;
        int many = proto > 0 && safe != 1;
        rc = st__pickler_boundary(p) ||
             (proto ? st__pickler_op(p, EMPTY_DICT)
                    : st__pickler_op(p, MARK) || st__pickler_op(p, DICT)) ||
             st__pickler_memo_put(p, 0) || (many && st__pickler_op(p, MARK));
        while (rc == 0 && st__dict_next(state, &pos, &k, &x)) {
            size_t len;
            const char *name = st__data(k, &len);
            rc = st__pickler_name(p, name) ||
                 st__pickler_save(p, x) || (!many && st__pickler_op(p, SETITEM));
        }
        rc = rc || (many && st__pickler_op(p, SETITEMS)) || st__pickler_op(p, BUILD);
    }
    st_value_unref(state);
    st_value_unref(ki);
    st_value_unref(ks);
    return rc ? -1 : 0;
}

int st__pickle_save_std(pickler *p, const st_value *v, uintptr_t key)
{
    const st__std *s = st__is_std(v) ? st__std_of(v) : NULL;
    unsigned char state[10];
    size_t n;
    switch (st__kind(v)) {
    case ST_VALUE_DATE:
    case ST_VALUE_TIME:
    case ST_VALUE_DATETIME:
        /* (cls, (state,)) or (cls, (state, tzinfo)) */
        n = dt_state(v, st__pickler_proto(p), state);
        return st__pickler_global(p, st__kind(v) == ST_VALUE_DATE   ? G_DATE
                                     : st__kind(v) == ST_VALUE_TIME ? G_TIME
                                                                    : G_DATETIME) ||
                       st__pickler_tuple_open(p, s->ref ? 2 : 1) ||
                       st__pickler_bytes(p, state, n) || (s->ref && st__pickler_save(p, s->ref)) ||
                       st__pickler_tuple_close(p, s->ref ? 2 : 1) || reduce_end(p, key)
                   ? -1
                   : 0;
    case ST_VALUE_TIMEDELTA:
        return st__pickler_global(p, G_TIMEDELTA) || st__pickler_tuple_open(p, 3) ||
                       st__pickler_int(p, s->td.days) || st__pickler_int(p, s->td.seconds) ||
                       st__pickler_int(p, s->td.us) || st__pickler_tuple_close(p, 3) ||
                       reduce_end(p, key)
                   ? -1
                   : 0;
    case ST_VALUE_TIMEZONE: {
        /* (timezone, (offset,)) or (timezone, (offset, name)) */
        st_value *off = st_value_timedelta(s->td.days, s->td.seconds, s->td.us);
        n = s->ref ? 2 : 1;
        int rc = !off || st__pickler_global(p, G_TIMEZONE) || st__pickler_tuple_open(p, n) ||
                 st__pickler_save(p, off) || (s->ref && st__pickler_save(p, s->ref)) ||
                 st__pickler_tuple_close(p, n) || reduce_end(p, key);
        st_value_unref(off);
        return rc ? -1 : 0;
    }
    case ST_VALUE_DECIMAL: {
        /* (Decimal, (str(self),)), the str a new object */
        size_t len;
        const char *text = st__data(s->ref, &len);
        return st__pickler_global(p, G_DECIMAL) || st__pickler_tuple_open(p, 1) ||
                       st__pickler_str(p, text, len) || st__pickler_tuple_close(p, 1) ||
                       reduce_end(p, key)
                   ? -1
                   : 0;
    }
    case ST_VALUE_UUID:
        return save_uuid(p, v, key);
    case ST_VALUE_COMPLEX:
        return st__pickler_global(p, G_COMPLEX) || st__pickler_tuple_open(p, 2) ||
                       st__pickler_float(p, s->c[0]) || st__pickler_float(p, s->c[1]) ||
                       st__pickler_tuple_close(p, 2) || reduce_end(p, key)
                   ? -1
                   : 0;
    case ST_VALUE_ORDEREDDICT:
        /* (OrderedDict, (), None, None, iter(items)) */
        return st__pickler_global(p, G_ORDEREDDICT) || st__pickler_tuple_open(p, 0) ||
                       st__pickler_tuple_close(p, 0) || reduce_end(p, key) || batch(p, v)
                   ? -1
                   : 0;
    case ST_VALUE_DEFAULTDICT: {
        /* (defaultdict, (factory,) or (), None, None, iter(items)) */
        const char *mod, *name;
        st_value_defaultdict_factory(v, &mod, &name);
        int g = mod ? st__pickle_std_global(mod, name) : G_NONE;
        for (int i = G_SET; mod && !g && i <= G_BYTES; i++)
            if (!strcmp(mod, st__pickle_global_module[i]) &&
                !strcmp(name, st__pickle_global_name[i]))
                g = i;
        n = mod ? 1 : 0;
        return st__pickler_global(p, G_DEFAULTDICT) || st__pickler_tuple_open(p, n) ||
                       (mod &&
                        (g ? st__pickler_global(p, g) : st__pickler_global_name(p, mod, name))) ||
                       st__pickler_tuple_close(p, n) || reduce_end(p, key) || batch(p, v)
                   ? -1
                   : 0;
    }
    case ST_VALUE_DEQUE: {
        /* (deque, () or ((), maxlen), None, iter(self)) */
        ptrdiff_t maxlen = st__deque_maxlen(v);
        n = maxlen >= 0 ? 2 : 0;
        return st__pickler_global(p, G_DEQUE) || st__pickler_tuple_open(p, n) ||
                       (n && (st__pickler_tuple_open(p, 0) || st__pickler_tuple_close(p, 0) ||
                              st__pickler_int(p, maxlen))) ||
                       st__pickler_tuple_close(p, n) || reduce_end(p, key) || batch(p, v)
                   ? -1
                   : 0;
    }
    default: /* Counter: (Counter, (dict(self),)) */
        return st__pickler_global(p, G_COUNTER) || st__pickler_tuple_open(p, 1) ||
                       st__pickler_dict(p, v) || st__pickler_tuple_close(p, 1) || reduce_end(p, key)
                   ? -1
                   : 0;
    }
}
