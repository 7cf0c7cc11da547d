/* Looking inside a pickle of a Python program's own objects: with objects on, the classes
 * (dataclass instances and an enum here) are kept as data, never imported or run, so a C
 * program can read their fields; dumped again, the pickle comes out byte for byte.
 *
 * The pickle is what CPython 3.13 writes for
 * `[Order(1, ['tea', 'cake'], Status.PAID), Order(2, [], Status.OPEN)]` with
 * `@dataclass class Order: number: int; items: list; status: Status` and an Enum Status,
 * both in a module named shop, at protocol 4. */
#include <stdio.h>
#include <string.h>

#include <systools/systools.h>

static const char PICKLE[] =
    "\x80\x04\x95\x84\x00\x00\x00\x00\x00\x00\x00]\x94(\x8c\x04shop\x94\x8c\x05Order"
    "\x94\x93\x94)\x81\x94}\x94(\x8c\x06number\x94K\x01\x8c\x05items\x94]\x94(\x8c"
    "\x03tea\x94\x8c\x04" "cake\x94" "e\x8c\x06status\x94h\x01\x8c\x06Status\x94\x93"
    "\x94\x8c\x04paid\x94\x85\x94R\x94ubh\x03)\x81\x94}\x94(h\x06K\x02h\x07]\x94h\x0b"
    "h\x0d\x8c\x04open\x94\x85\x94R\x94ube.";

static int fail(void)
{
    fprintf(stderr, "%s: %s\n", st_error_last()->type, st_error_message());
    return 1;
}

/* "module.qualname" of a global. */
static void print_global(const st_value *g)
{
    printf("%s.%s", st_value_global_module(g), st_value_global_qualname(g));
}

int main(void)
{
    st_pickle_load_options o = ST_PICKLE_LOAD_OPTIONS_INIT;
    o.objects = 1;
    size_t len = sizeof PICKLE - 1;
    st_value *orders = st_pickle_loads(PICKLE, len, &o);
    if (!orders)
        return fail();
    char *r = st_value_repr(orders);
    printf("repr: %s\n", r);
    st_free(r);

    size_t pos = 0;
    st_value *order;
    while (st_value_next(orders, &pos, &order) > 0) {
        /* a dataclass instance: NEWOBJ of its class, its fields in the BUILD state */
        printf("%s (class ", st_value_type_name(order));
        print_global(st_value_object_part(order, ST_VALUE_PART_CALLABLE));
        printf("):\n");
        st_value *fields = st_value_object_part(order, ST_VALUE_PART_STATE), *k, *v;
        size_t fpos = 0;
        while (st_value_dict_next(fields, &fpos, &k, &v) > 0) {
            printf("  %s = ", st_value_str_data(k, NULL));
            if (st_value_kind(v) == ST_VALUE_OBJECT) {
                /* an enum member: its class called with its value */
                print_global(st_value_object_part(v, ST_VALUE_PART_CALLABLE));
                st_value *args = st_value_object_part(v, ST_VALUE_PART_ARGS);
                char *arg = st_value_repr(st_value_item(args, 0));
                printf("(%s)\n", arg);
                st_free(arg);
            } else {
                char *text = st_value_repr(v);
                printf("%s\n", text);
                st_free(text);
            }
        }
    }

    unsigned char *again;
    size_t alen;
    if (st_pickle_dumps(orders, 4, &again, &alen))
        return fail();
    printf("dumped again: %zu bytes, %s\n", alen,
           alen == len && memcmp(again, PICKLE, len) == 0 ? "identical" : "DIFFERENT");
    st_free(again);
    st_value_unref(orders);
    /* without objects (the default), the same pickle is refused */
    if (!st_pickle_loads(PICKLE, len, NULL))
        printf("default options: %s\n", st_error_message());
    return 0;
}
