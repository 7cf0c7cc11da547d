/* value: Python's `<` on values, what heapq (and so queue.PriorityQueue) orders by. */
#include <string.h>

#include "internal/error.h"
#include "internal/value.h"

static int is_number(st_value_type k)
{
    return k == ST_VALUE_BOOL || k == ST_VALUE_INT || k == ST_VALUE_FLOAT;
}

static int unorderable(const st_value *a, const st_value *b)
{
    return ST_RAISE(ST_ETYPE, "'<' not supported between instances of '%s' and '%s'",
                    st_value_type_name(a), st_value_type_name(b));
}

static int number_lt(const st_value *a, const st_value *b)
{
    int fa = st__kind(a) == ST_VALUE_FLOAT, fb = st__kind(b) == ST_VALUE_FLOAT;
    if (fa && fb)
        return st__float_value(a) < st__float_value(b);
    if (fb) /* NaN compares unordered (2): never less */
        return st__int_compare_double(a, st__float_value(b)) == -1;
    if (fa)
        return st__int_compare_double(b, st__float_value(a)) == 1;
    return st__int_compare(a, b) < 0;
}

/* str by code point (UTF-8's byte order is code point order, encoded surrogates included),
 * bytes and bytearray by byte: the common prefix, then the shorter first. */
static int data_lt(const st_value *a, const st_value *b)
{
    size_t na, nb;
    const char *da = st__data(a, &na), *db = st__data(b, &nb);
    int c = memcmp(da, db, na < nb ? na : nb);
    return c ? c < 0 : na < nb;
}

static int lt_depth(const st_value *a, const st_value *b, int depth);

/* list_richcompare / tuplerichcompare: the first items that differ (==, identity first)
 * decide by `<`; when one sequence is a prefix of the other, the shorter is less. */
static int seq_lt(const st_value *a, const st_value *b, int depth)
{
    size_t na, nb;
    st_value *const *ia = st__items(a, &na), *const *ib = st__items(b, &nb);
    for (size_t i = 0; i < na && i < nb; i++) {
        int eq = ia[i] == ib[i] ? 1 : st_value_equal(ia[i], ib[i]);
        if (eq < 0)
            return ST_TRACE();
        if (!eq)
            return lt_depth(ia[i], ib[i], depth + 1);
    }
    return na < nb;
}

/* A proper subset. */
static int set_lt(const st_value *a, const st_value *b)
{
    if (st_value_len(a) >= st_value_len(b))
        return 0;
    size_t pos = 0;
    st_value *item;
    while (st__set_next(a, &pos, &item)) {
        int in = st_value_contains(b, item);
        if (in <= 0)
            return in < 0 ? ST_TRACE() : 0;
    }
    return 1;
}

static int lt_depth(const st_value *a, const st_value *b, int depth)
{
    if (depth > ST_VALUE_MAX_DEPTH)
        return ST_RAISE(ST_ERECURSION, "maximum recursion depth exceeded in comparison");
    st_value_type ka = st__kind(a), kb = st__kind(b);
    if (is_number(ka) && is_number(kb))
        return number_lt(a, b);
    int bytes_a = ka == ST_VALUE_BYTES || ka == ST_VALUE_BYTEARRAY;
    int bytes_b = kb == ST_VALUE_BYTES || kb == ST_VALUE_BYTEARRAY;
    int set_a = ka == ST_VALUE_SET || ka == ST_VALUE_FROZENSET;
    int set_b = kb == ST_VALUE_SET || kb == ST_VALUE_FROZENSET;
    if ((ka == ST_VALUE_STR && kb == ST_VALUE_STR) || (bytes_a && bytes_b))
        return data_lt(a, b);
    if (ka == kb && (ka == ST_VALUE_TUPLE || ka == ST_VALUE_LIST))
        return seq_lt(a, b, depth);
    if (set_a && set_b)
        return set_lt(a, b);
    return unorderable(a, b);
}

int st__value_lt(const st_value *a, const st_value *b)
{
    int lt = lt_depth(a, b, 0);
    return lt < 0 ? ST_TRACE() : lt;
}
