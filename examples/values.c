/* values: builds Python data in C, prints it as Python's repr() would, reads Python literals
 * back, walks containers and shows the errors Python would raise. */
#include <stdio.h>

#include <systools/systools.h>

static void show(const char *label, const st_value *v)
{
    char *text = st_value_repr(v);
    printf("%-10s %s\n", label, text ? text : st_error_message());
    st_free(text);
}

int main(void)
{
    /* Build {'name': 'Zoë', 'sizes': [1, 2.5, 16], 'tags': {'a'}, 'raw': b'\x00\xff'} */
    st_value *d = st_value_dict();
    st_value_dict_set_steal(d, st_value_str("name"), st_value_str("Zoë"));
    st_value_dict_set_steal(d, st_value_str("sizes"), st_value_parse("[1, 2.5, 0x10]"));
    st_value *tags = st_value_set();
    st_value_set_add_steal(tags, st_value_str("a"));
    st_value_dict_set_steal(d, st_value_str("tags"), tags);
    st_value_dict_set_steal(d, st_value_str("raw"), st_value_bytes("\0\xff", 2));
    show("dict", d);

    /* Python's repr of numbers: shortest round trip, exact big ints */
    st_value *nums = st_value_parse("(0.1, 1e16, -0.0, 1e-5, 12345678901234567890123, 'it\\'s', '\\u2028')");
    show("numbers", nums);

    /* Round trip: parse(repr(v)) == v */
    char *text = st_value_repr(d);
    st_value *back = st_value_parse(text);
    printf("%-10s %s\n", "equal", st_value_equal(d, back) == 1 ? "yes" : "no");
    st_free(text);

    /* Walk the dict in insertion order */
    size_t pos = 0;
    st_value *key, *value;
    while (st_value_dict_next(d, &pos, &key, &value) > 0)
        printf("%-10s %s -> %s (len %td)\n", "item", st_value_str_data(key, NULL),
               st_value_type_name(value), st_value_len(value));

    /* 1 == 1.0 == True: one dict key */
    st_value *k = st_value_dict();
    st_value_dict_set_steal(k, st_value_int(1), st_value_str("int"));
    st_value_dict_set_steal(k, st_value_float(1.0), st_value_str("float"));
    st_value_dict_set_steal(k, st_value_bool(1), st_value_str("bool"));
    show("same key", k);

    /* A list that contains itself prints the way Python prints it */
    st_value *l = st_value_list();
    st_value_list_append(l, l);
    show("cycle", l);
    st_value_clear(l); /* break the cycle before the last reference goes */

    /* Errors name their Python type and the place */
    const char *bad[] = {"[1, 2 3]", "{'a': foo}", "{[1]: 2}", "'\\x4'"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        st_value *v = st_value_parse(bad[i]);
        printf("%-10s %s -> %s: %s\n", "error", bad[i], st_error_last()->type, st_error_message());
        st_value_unref(v);
    }

    st_value_unref(l);
    st_value_unref(k);
    st_value_unref(back);
    st_value_unref(nums);
    st_value_unref(d);
    return 0;
}
