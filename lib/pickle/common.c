/* pickle: the globals table and the memo map, shared by the dumper and the loader. */
#include "pickle.h"

#include "internal/mem.h"

const char *const st__pickle_global_module[G_CUSTOM] = {
    NULL,          "builtins",    "builtins",    "builtins",    "builtins",    "_codecs",
    "copyreg",     "copyreg",     "datetime",    "datetime",    "datetime",    "datetime",
    "datetime",    "decimal",     "uuid",        "builtins",    "collections", "collections",
    "collections", "collections", "builtins",    "builtins",    "builtins",    "builtins",
    "builtins",    "builtins",    "builtins",    "builtins",    "collections"};
const char *const st__pickle_global_name[G_CUSTOM] = {
    NULL,        "set",         "frozenset",   "bytearray", "bytes",     "encode",
    "_reconstructor", "_reconstructor arguments", "date", "time", "datetime", "timedelta",
    "timezone",  "Decimal",     "UUID",        "complex",   "OrderedDict", "defaultdict",
    "deque",     "Counter",     "object",      "int",       "str",       "float",
    "list",      "dict",        "tuple",       "bool",      "defaultdict arguments"};

int st__ptrmap_grow(ptrmap *m)
{
    unsigned shift = m->t ? m->shift - 1 : 64 - 6;
    size_t n = (size_t)1 << (64 - shift);
    struct memo_entry *t = st__calloc(n, sizeof *t);
    if (!t)
        return ST_TRACE();
    for (size_t i = 0; m->t && i <= m->mask; i++)
        if (m->t[i].key)
            t[key_slot(t, shift, n - 1, m->t[i].key)] = m->t[i];
    st_free(m->t);
    m->t = t;
    m->shift = shift;
    m->mask = n - 1;
    return 0;
}
