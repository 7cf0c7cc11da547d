/* pickle: the globals table and the memo map, shared by the dumper and the loader. */
#include "pickle.h"

#include "internal/mem.h"

const char *const st__pickle_global_module[G_CUSTOM] = {
    [G_SET] = "builtins",
    [G_FROZENSET] = "builtins",
    [G_BYTEARRAY] = "builtins",
    [G_BYTES] = "builtins",
    [G_ENCODE] = "_codecs",
    [G_RECONSTRUCTOR] = "copyreg",
    [G_RECON_ARGS] = "copyreg",
    [G_DATE] = "datetime",
    [G_TIME] = "datetime",
    [G_DATETIME] = "datetime",
    [G_TIMEDELTA] = "datetime",
    [G_TIMEZONE] = "datetime",
    [G_DECIMAL] = "decimal",
    [G_UUID] = "uuid",
    [G_COMPLEX] = "builtins",
    [G_ORDEREDDICT] = "collections",
    [G_DEFAULTDICT] = "collections",
    [G_DEQUE] = "collections",
    [G_COUNTER] = "collections",
    [G_OBJECT] = "builtins",
    [G_INT] = "builtins",
    [G_STR] = "builtins",
    [G_FLOAT] = "builtins",
    [G_LIST] = "builtins",
    [G_DICT] = "builtins",
    [G_TUPLE] = "builtins",
    [G_BOOL] = "builtins",
    [G_FACTORY_ARGS] = "collections",
};
const char *const st__pickle_global_name[G_CUSTOM] = {
    [G_SET] = "set",
    [G_FROZENSET] = "frozenset",
    [G_BYTEARRAY] = "bytearray",
    [G_BYTES] = "bytes",
    [G_ENCODE] = "encode",
    [G_RECONSTRUCTOR] = "_reconstructor",
    [G_RECON_ARGS] = "_reconstructor arguments",
    [G_DATE] = "date",
    [G_TIME] = "time",
    [G_DATETIME] = "datetime",
    [G_TIMEDELTA] = "timedelta",
    [G_TIMEZONE] = "timezone",
    [G_DECIMAL] = "Decimal",
    [G_UUID] = "UUID",
    [G_COMPLEX] = "complex",
    [G_ORDEREDDICT] = "OrderedDict",
    [G_DEFAULTDICT] = "defaultdict",
    [G_DEQUE] = "deque",
    [G_COUNTER] = "Counter",
    [G_OBJECT] = "object",
    [G_INT] = "int",
    [G_STR] = "str",
    [G_FLOAT] = "float",
    [G_LIST] = "list",
    [G_DICT] = "dict",
    [G_TUPLE] = "tuple",
    [G_BOOL] = "bool",
    [G_FACTORY_ARGS] = "defaultdict arguments",
};

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
