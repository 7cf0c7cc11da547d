/* Fuzzes the value module two ways, chosen by the first byte:
 *  - text: st_value_parse() on arbitrary text must not crash, leak or hang; whatever parses
 *    must print with st_value_repr() and read back equal;
 *  - builder: the bytes drive a small stack machine that builds nested values through the
 *    public API; parse(repr(v)) must equal v, and st_value_copy(v) must equal v and hash alike. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "systools/systools.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* parse(repr(v)) == v; repr fails only for ints beyond CPython's 4300-digit limit and for
 * nesting beyond ST_VALUE_MAX_DEPTH. */
static void check_round_trip(const st_value *v)
{
    char *text = st_value_repr(v);
    if (!text) {
        if (st_error_code() != ST_EVALUE && st_error_code() != ST_ERECURSION)
            abort();
        return;
    }
    st_value *back = st_value_parse(text);
    if (!back) {
        /* inf has no literal, and CPython too refuses more than 200 nested brackets */
        if (!strstr(text, "inf") && !strstr(st_error_message(), "too many nested parentheses"))
            abort();
    } else if (st_value_equal(v, back) != 1) {
        abort();
    }
    st_value *copy = st_value_copy(v);
    if (!copy || st_value_equal(v, copy) != 1)
        abort();
    int64_t h1, h2;
    if (st_value_hash(v, &h1) == 0 && (st_value_hash(copy, &h2) != 0 || h1 != h2))
        abort();
    st_value_unref(copy);
    st_value_unref(back);
    st_free(text);
}

#define STACK 64

static void build(const uint8_t *p, size_t n)
{
    st_value *stack[STACK];
    size_t top = 0, i = 0;
    while (i < n) {
        uint8_t op = p[i++];
        size_t len = i < n ? p[i] % 16 : 0;
        st_value *v = NULL;
        switch (op % 11) {
        case 0:
            v = st_value_none();
            break;
        case 1:
            v = st_value_bool(op & 0x80);
            break;
        case 2: {
            uint64_t x = 0;
            for (size_t k = 0; k < 8 && i < n; k++)
                x = (x << 8) | p[i++];
            v = st_value_int((int64_t)x);
            break;
        }
        case 3:
            i++;
            len = len * 4 > n - (i < n ? i : n) ? n - (i < n ? i : n) : len * 4;
            v = st_value_int_from_bytes(p + i, len, op & 0x80);
            i += len;
            break;
        case 4: {
            uint64_t u = 0;
            for (size_t k = 0; k < 8 && i < n; k++)
                u = (u << 8) | p[i++];
            double d;
            memcpy(&d, &u, sizeof d);
            v = st_value_float(isnan(d) ? 0.5 : d); /* NaN != NaN: no round trip to check */
            break;
        }
        case 5:
        case 6:
            i++;
            if (len > n - (i < n ? i : n))
                len = n - (i < n ? i : n);
            v = op % 11 == 5 ? st_value_str_surrogatepass((const char *)p + i, len)
                             : st_value_bytes(p + i, len);
            i += len;
            if (!v)
                st_error_clear(); /* invalid UTF-8 is refused, fine */
            break;
        case 7:
            v = st_value_list();
            break;
        case 8: /* tuple of the top k */
        case 9: /* dict of the top 2k */
        case 10: { /* set of the top k */
            size_t k = (op >> 4) % 4;
            if (op % 11 == 9)
                k *= 2;
            if (k > top)
                k = op % 11 == 9 ? top & ~(size_t)1 : top;
            top -= k;
            if (op % 11 == 8) {
                v = st_value_tuple_steal(k, stack + top);
                break;
            }
            v = op % 11 == 9 ? st_value_dict() : st_value_set();
            for (size_t j = 0; j < k; j += op % 11 == 9 ? 2 : 1) {
                int rc = op % 11 == 9 ? st_value_dict_set(v, stack[top + j], stack[top + j + 1])
                                      : st_value_set_add(v, stack[top + j]);
                if (rc < 0 && st_error_code() != ST_ETYPE) /* unhashable keys are refused */
                    abort();
            }
            for (size_t j = 0; j < k; j++)
                st_value_unref(stack[top + j]);
            break;
        }
        }
        if (!v)
            continue;
        if (top == STACK) { /* fold the full stack into a list */
            st_value *l = st_value_list();
            for (size_t j = 0; j < top; j++)
                st_value_list_append_steal(l, stack[j]);
            top = 0;
            stack[top++] = l;
        }
        stack[top++] = v;
        if (top >= 2 && st_value_kind(stack[top - 2]) == ST_VALUE_LIST && (op & 0x40)) {
            st_value_list_append_steal(stack[top - 2], stack[top - 1]);
            top--;
        }
    }
    st_value *all = st_value_tuple_steal(top, stack);
    if (all)
        check_round_trip(all);
    st_value_unref(all);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    if (data[0] & 1) {
        build(data + 1, size - 1);
        return 0;
    }
    char *text = malloc(size);
    if (!text)
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    st_value *v = st_value_parse(text);
    if (v)
        check_round_trip(v);
    else if (st_error_code() == ST_OK)
        abort(); /* a failure always says why */
    st_value_unref(v);
    free(text);
    return 0;
}
