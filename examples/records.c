/* records: a record as a Python program keeps it — a datetime with its time zone, a Decimal
 * amount, a UUID, an OrderedDict of fields and a Counter — built in C, printed as Python's
 * repr(), pickled the way CPython pickles it, loaded back and read field by field. */
#include <stdio.h>

#include <systools/systools.h>

static void show(const char *label, const st_value *v)
{
    char *text = st_value_repr(v);
    printf("%-9s %s\n", label, text ? text : st_error_message());
    st_free(text);
}

int main(void)
{
    st_value *offset = st_value_timedelta(0, -5 * 3600, 0);
    st_value *est = st_value_timezone(offset, "EST");
    st_value *record = st_value_ordereddict();
    st_value_dict_set_steal(record, st_value_str("id"),
                            st_value_uuid_from_string("12345678-1234-5678-1234-567812345678"));
    st_value_dict_set_steal(record, st_value_str("when"),
                            st_value_datetime(2024, 3, 10, 9, 30, 0, 0, est, 0));
    st_value_dict_set_steal(record, st_value_str("amount"), st_value_decimal("19.90"));
    st_value *words = st_value_counter();
    st_value_dict_set_steal(words, st_value_str("spam"), st_value_int(1));
    st_value_dict_set_steal(words, st_value_str("eggs"), st_value_int(3));
    st_value_dict_set_steal(record, st_value_str("words"), words);
    show("record", record);

    /* The bytes pickle.dumps(record, 4) gives in CPython 3.13, loaded back to an equal value */
    unsigned char *data;
    size_t len;
    if (st_pickle_dumps(record, 4, &data, &len) != 0)
        return 1;
    st_value *back = st_pickle_loads(data, len, NULL);
    printf("pickle    %zu bytes, loads back equal: %d\n", len,
           back && st_value_equal(back, record));
    st_free(data);

    /* Fields for C */
    st_value_datetime_parts when;
    st_value_datetime_parts_get(st_value_dict_get_str(back, "when"), &when);
    st_value *zone = st_value_tzname(st_value_dict_get_str(back, "when"));
    printf("when      %04d-%02d-%02d %02d:%02d %s\n", when.year, when.month, when.day, when.hour,
           when.minute, st_value_str_data(zone, NULL));
    printf("amount    %s\n", st_value_decimal_str(st_value_dict_get_str(back, "amount")));
    char id[37];
    st_value_uuid_str(st_value_dict_get_str(back, "id"), id);
    printf("id        %s\n", id);

    /* Python's comparisons: the same instant in another zone, an exact Decimal */
    st_value *utc = st_value_datetime(2024, 3, 10, 14, 30, 0, 0, NULL, 0);
    st_value *zero = st_value_timedelta(0, 0, 0), *tz0 = st_value_timezone(zero, NULL);
    st_value *utc_aware = st_value_datetime(2024, 3, 10, 14, 30, 0, 0, tz0, 0);
    printf("same instant as 14:30 UTC: %d; as naive 14:30: %d\n",
           st_value_equal(st_value_dict_get_str(back, "when"), utc_aware),
           st_value_equal(st_value_dict_get_str(back, "when"), utc));
    st_value *f = st_value_float(19.9);
    printf("Decimal('19.90') == 19.9 (the float): %d\n",
           st_value_equal(st_value_dict_get_str(back, "amount"), f));

    st_value_unref(f);
    st_value_unref(utc_aware);
    st_value_unref(tz0);
    st_value_unref(zero);
    st_value_unref(utc);
    st_value_unref(zone);
    st_value_unref(back);
    st_value_unref(record);
    st_value_unref(est);
    st_value_unref(offset);
    return 0;
}
