/* Test and fuzz support: drops a value that may contain reference cycles (as unpickled data
 * can), by emptying every list, dict, set and object reachable from it. Public API only. */
#ifndef ST_TEST_VALUE_RELEASE_H
#define ST_TEST_VALUE_RELEASE_H

#include <stdint.h>

#include "systools/value.h"

/* Empties every list, dict, set and object reachable from v, so that cycles are freed too. */
static inline void release(st_value *v)
{
    st_value *todo = st_value_list(), *seen = st_value_set();
    st_value_list_append(todo, v);
    while (st_value_len(todo) > 0) {
        st_value *c = st_value_ref(st_value_item(todo, -1)), *item, *key;
        st_value_list_delete(todo, -1);
        int k = st_value_kind(c);
        /* OrderedDict, defaultdict and Counter are dicts, a deque a list, to these calls */
        if (k == ST_VALUE_ORDEREDDICT || k == ST_VALUE_DEFAULTDICT || k == ST_VALUE_COUNTER)
            k = ST_VALUE_DICT;
        if (k == ST_VALUE_DEQUE)
            k = ST_VALUE_LIST;
        size_t pos = 0;
        st_value *id = st_value_int((int64_t)(intptr_t)c);
        if ((k == ST_VALUE_DICT || k == ST_VALUE_LIST || k == ST_VALUE_TUPLE ||
             k == ST_VALUE_SET || k == ST_VALUE_FROZENSET || k == ST_VALUE_OBJECT) &&
            st_value_contains(seen, id) == 0) {
            st_value_set_add(seen, id);
            if (k == ST_VALUE_OBJECT) {
                for (int i = ST_VALUE_PART_CALLABLE; i <= ST_VALUE_PART_STATE_SETTER; i++)
                    st_value_list_append(todo, st_value_object_part(c, (st_value_part)i));
            } else if (k == ST_VALUE_DICT) {
                while (st_value_dict_next(c, &pos, &key, &item) > 0) {
                    st_value_list_append(todo, key);
                    st_value_list_append(todo, item);
                }
            } else {
                while (st_value_next(c, &pos, &item) > 0)
                    st_value_list_append(todo, item);
            }
            if (k != ST_VALUE_TUPLE)
                st_value_clear(c);
        }
        st_value_unref(id);
        st_value_unref(c);
    }
    st_value_unref(todo);
    st_value_unref(seen);
    st_value_unref(v);
}

#endif
