/* pickle: the globals table and the memo map, shared by the dumper and the loader. */
#include "pickle.h"

#include <string.h>

#include "internal/mem.h"

const char *const st__pickle_global_module[G_CUSTOM] = {
    NULL, "builtins", "builtins", "builtins", "builtins", "_codecs", "copyreg", "copyreg"};
const char *const st__pickle_global_name[G_CUSTOM] = {
    NULL, "set", "frozenset", "bytearray", "bytes", "encode", "_reconstructor",
    "_reconstructor arguments"};

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
