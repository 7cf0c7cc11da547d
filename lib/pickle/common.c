/* pickle: the globals table and the memo map, shared by the dumper and the loader. */
#include "pickle.h"

#include <string.h>

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

#include "compat.inc"

void st__pickle_fix_imports(const char **module, const char **name, int to3)
{
    const char *const(*names)[4] = to3 ? name_2to3 : name_3to2;
    size_t nn = to3 ? sizeof name_2to3 / sizeof *name_2to3 : sizeof name_3to2 / sizeof *name_3to2;
    for (size_t i = 0; i < nn; i++)
        if (strcmp(names[i][0], *module) == 0 && strcmp(names[i][1], *name) == 0) {
            *module = names[i][2];
            *name = names[i][3];
            return;
        }
    const char *const(*mods)[2] = to3 ? import_2to3 : import_3to2;
    size_t nm = to3 ? sizeof import_2to3 / sizeof *import_2to3
                    : sizeof import_3to2 / sizeof *import_3to2;
    for (size_t i = 0; i < nm; i++)
        if (strcmp(mods[i][0], *module) == 0) {
            *module = mods[i][1];
            return;
        }
}
