/* value: what pickles hold beyond plain data: globals (a module and a qualified name), objects
 * kept as the data that builds them, and PickleBuffers. value.c releases, compares, hashes and
 * copies them; this file makes them, reads them and prints them. */
#include <string.h>

#include "internal/error.h"
#include "internal/value.h"

static const char *const form_names[] = {"REDUCE", "NEWOBJ", "NEWOBJ_EX"};
static const char *const part_names[] = {NULL, NULL, NULL, "state", "listitems", "dictitems",
                                         "state_setter"};

static int wrong(const st_value *v, const char *expected)
{
    return ST_RAISE(ST_ETYPE, "expected %s, got '%s'", expected, st_value_type_name(v));
}

st_value *st__global_new_steal(st_value *module, st_value *qualname)
{
    st_value *v = module && qualname ? st__value_new(ST_VALUE_GLOBAL, 0) : NULL;
    if (!v) {
        st_value_unref(module);
        st_value_unref(qualname);
        return (ST_TRACE(), NULL);
    }
    v->u.global.module = module;
    v->u.global.qualname = qualname;
    return v;
}

st_value *st_value_global(const char *module, const char *qualname)
{
    st_value *m = st_value_str(module);
    return st__global_new_steal(m, m ? st_value_str(qualname) : NULL);
}

const char *st_value_global_module(const st_value *v)
{
    if (st__kind(v) != ST_VALUE_GLOBAL)
        return (wrong(v, "global"), NULL);
    return st_value_str_data(v->u.global.module, NULL);
}

const char *st_value_global_qualname(const st_value *v)
{
    if (st__kind(v) != ST_VALUE_GLOBAL)
        return (wrong(v, "global"), NULL);
    return st_value_str_data(v->u.global.qualname, NULL);
}

const st_value *st__global_str(const st_value *g, int qualname)
{
    return qualname ? g->u.global.qualname : g->u.global.module;
}

st_value *st_value_object(st_value_form form, st_value *callable, st_value *args,
                          st_value *kwargs)
{
    const char *op = (unsigned)form <= ST_VALUE_FORM_NEWOBJ_EX ? form_names[form] : NULL;
    if (!op)
        return (ST_RAISE(ST_EVALUE, "unknown object form %d", (int)form), NULL);
    int ck = st__kind(callable);
    if (form == ST_VALUE_FORM_REDUCE && ck != ST_VALUE_GLOBAL && ck != ST_VALUE_OBJECT)
        return (ST_RAISE(ST_ETYPE, "'%s' object is not callable", st_value_type_name(callable)),
                NULL);
    if (ck != ST_VALUE_GLOBAL && ck != ST_VALUE_OBJECT)
        return (ST_RAISE(ST_ETYPE, "%s class argument must be a type, not %s", op,
                         st_value_type_name(callable)),
                NULL);
    if (st__kind(args) != ST_VALUE_TUPLE)
        return (ST_RAISE(ST_ETYPE, "%s args argument must be a tuple, not %s", op,
                         st_value_type_name(args)),
                NULL);
    if (kwargs && st__kind(kwargs) == ST_VALUE_NONE)
        kwargs = NULL;
    if (form == ST_VALUE_FORM_NEWOBJ_EX ? !kwargs || st__kind(kwargs) != ST_VALUE_DICT
                                          : kwargs != NULL)
        return (ST_RAISE(ST_ETYPE, "%s kwargs argument must be %s, not %s", op,
                         form == ST_VALUE_FORM_NEWOBJ_EX ? "a dict" : "None",
                         kwargs ? st_value_type_name(kwargs) : "None"),
                NULL);
    st_value *v = st__value_new(ST_VALUE_OBJECT, sizeof(st__object));
    if (!v)
        return (ST_TRACE(), NULL);
    st__object *o = (st__object *)(void *)(v + 1);
    memset(o, 0, sizeof *o);
    o->form = (unsigned char)form;
    o->part[ST_VALUE_PART_CALLABLE] = st_value_ref(callable);
    o->part[ST_VALUE_PART_ARGS] = st_value_ref(args);
    o->part[ST_VALUE_PART_KWARGS] = st_value_ref(kwargs);
    v->u.obj = o;
    return v;
}

int st_value_object_form(const st_value *v, st_value_form *form)
{
    if (st__kind(v) != ST_VALUE_OBJECT)
        return wrong(v, "object");
    *form = (st_value_form)v->u.obj->form;
    return 0;
}

st_value *st_value_object_part(const st_value *v, st_value_part part)
{
    if (st__kind(v) != ST_VALUE_OBJECT)
        return (wrong(v, "object"), NULL);
    if ((unsigned)part > ST_VALUE_PART_STATE_SETTER)
        return (ST_RAISE(ST_EVALUE, "unknown object part %d", (int)part), NULL);
    st_value *p = v->u.obj->part[part];
    return p ? p : st_value_none();
}

static void set_part(st_value *v, int i, st_value *steal)
{
    st_value *old = v->u.obj->part[i];
    v->u.obj->part[i] = steal;
    st_value_unref(old);
}

int st_value_object_set_state(st_value *v, st_value *state, st_value *state_setter)
{
    if (st__kind(v) != ST_VALUE_OBJECT)
        return wrong(v, "object");
    int none = st__kind(state) == ST_VALUE_NONE;
    if (state_setter && st__kind(state_setter) == ST_VALUE_NONE)
        state_setter = NULL;
    if (state_setter && st__kind(state_setter) != ST_VALUE_GLOBAL &&
        st__kind(state_setter) != ST_VALUE_OBJECT)
        return ST_RAISE(ST_ETYPE, "'%s' object is not callable", st_value_type_name(state_setter));
    set_part(v, ST_VALUE_PART_STATE, none ? NULL : st_value_ref(state));
    set_part(v, ST_VALUE_PART_STATE_SETTER, none ? NULL : st_value_ref(state_setter));
    return 0;
}

/* The list of part i, made when first needed. */
static st_value *items_of(st_value *v, int i)
{
    if (st__kind(v) != ST_VALUE_OBJECT)
        return (wrong(v, "object"), NULL);
    if (!v->u.obj->part[i] && !(v->u.obj->part[i] = st_value_list()))
        return (ST_TRACE(), NULL);
    return v->u.obj->part[i];
}

int st_value_object_append(st_value *v, st_value *item)
{
    st_value *l = items_of(v, ST_VALUE_PART_LISTITEMS);
    return l && st_value_list_append(l, item) == 0 ? 0 : ST_TRACE();
}

int st_value_object_setitem(st_value *v, st_value *key, st_value *value)
{
    st_value *l = items_of(v, ST_VALUE_PART_DICTITEMS);
    st_value *kv[2] = {key, value};
    return l && st_value_list_append_steal(l, st_value_tuple(2, kv)) == 0 ? 0 : ST_TRACE();
}

st_value *st_value_picklebuffer(st_value *base)
{
    int k = st__kind(base);
    if (k != ST_VALUE_BYTES && k != ST_VALUE_BYTEARRAY)
        return (ST_RAISE(ST_ETYPE, "a bytes-like object is required, not '%s'",
                         st_value_type_name(base)),
                NULL);
    st_value *v = st__value_new(ST_VALUE_PICKLEBUFFER, 0);
    if (!v)
        return (ST_TRACE(), NULL);
    v->u.pbuf.base = st_value_ref(base);
    v->u.pbuf.readonly = k == ST_VALUE_BYTES;
    return v;
}

st_value *st__picklebuffer_readonly(st_value *base)
{
    st_value *v = st_value_picklebuffer(base);
    if (v)
        v->u.pbuf.readonly = 1;
    return v;
}

st_value *st_value_picklebuffer_raw(const st_value *v, int *readonly)
{
    if (st__kind(v) != ST_VALUE_PICKLEBUFFER)
        return (wrong(v, "PickleBuffer"), NULL);
    if (readonly)
        *readonly = v->u.pbuf.readonly;
    return v->u.pbuf.base;
}

/* The last component of a dotted name. */
static const char *last_name(const st_value *qualname)
{
    const char *q = st_value_str_data(qualname, NULL);
    const char *dot = strrchr(q, '.');
    return dot ? dot + 1 : q;
}

static int global_is(const st_value *g, const char *module, const char *qualname)
{
    return g && st__kind(g) == ST_VALUE_GLOBAL &&
           strcmp(st_value_str_data(g->u.global.module, NULL), module) == 0 &&
           strcmp(st_value_str_data(g->u.global.qualname, NULL), qualname) == 0;
}

const char *st__object_type_name(const st_value *v)
{
    if (st__kind(v) == ST_VALUE_GLOBAL)
        return "type";
    if (st__kind(v) == ST_VALUE_PICKLEBUFFER)
        return "PickleBuffer";
    const st__object *o = v->u.obj;
    const st_value *cls = o->part[ST_VALUE_PART_CALLABLE];
    const st_value *args = o->part[ST_VALUE_PART_ARGS];
    if (o->form == ST_VALUE_FORM_REDUCE) {
        size_t n;
        st_value *const *items = st__items(args, &n);
        int named = global_is(cls, "copyreg", "_reconstructor") ||
                    global_is(cls, "copyreg", "__newobj__");
        cls = named && n ? items[0] : NULL;
    }
    return cls && st__kind(cls) == ST_VALUE_GLOBAL ? last_name(cls->u.global.qualname)
                                                    : "object";
}

int st__global_repr(st__buf *b, const st_value *v)
{
    size_t ml, ql;
    const char *m = st__data(v->u.global.module, &ml), *q = st__data(v->u.global.qualname, &ql);
    return st__buf_append(b, m, ml) || st__buf_putc(b, '.') || st__buf_append(b, q, ql) ? -1 : 0;
}

int st__object_repr(st__buf *b, const st_value *v, int again,
                    int (*item)(st__buf *, const st_value *, void *), void *ctx)
{
    if (st__kind(v) == ST_VALUE_GLOBAL)
        return st__buf_puts(b, "<global ") || st__global_repr(b, v) || st__buf_putc(b, '>')
                   ? -1
                   : 0;
    if (st__kind(v) == ST_VALUE_PICKLEBUFFER)
        return st__buf_printf(b, "<pickle.PickleBuffer %s, %zu bytes>",
                              v->u.pbuf.readonly ? "readonly" : "writable",
                              (size_t)st_value_len(v->u.pbuf.base));
    st_value *const *p = v->u.obj->part;
    const st_value *c = p[ST_VALUE_PART_CALLABLE];
    int rc = st__buf_puts(b, "<pickled ");
    if (rc == 0)
        rc = c && st__kind(c) == ST_VALUE_GLOBAL ? st__global_repr(b, c)
             : c                                 ? item(b, c, ctx)
                                                 : st__buf_puts(b, "None");
    if (rc == 0 && again)
        return st__buf_puts(b, " ...>");
    if (rc == 0)
        rc = st__buf_printf(b, " %s(", form_names[v->u.obj->form]);
    size_t n;
    st_value *const *args = st__items(p[ST_VALUE_PART_ARGS], &n);
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = (i && st__buf_puts(b, ", ")) || item(b, args[i], ctx) ? -1 : 0;
    if (rc == 0 && p[ST_VALUE_PART_KWARGS])
        rc = st__buf_puts(b, n ? ", **" : "**") || item(b, p[ST_VALUE_PART_KWARGS], ctx)
                 ? -1
                 : 0;
    if (rc == 0)
        rc = st__buf_putc(b, ')');
    for (int i = ST_VALUE_PART_STATE; i <= ST_VALUE_PART_STATE_SETTER && rc == 0; i++)
        if (p[i])
            rc = st__buf_printf(b, " %s=", part_names[i]) || item(b, p[i], ctx) ? -1 : 0;
    return rc || st__buf_putc(b, '>') ? -1 : 0;
}

int st__object_clear(st_value *v)
{
    st_value *old[7];
    st__object *o = v->u.obj;
    st_value *args = st_value_tuple(0, NULL);
    if (!args)
        return ST_TRACE();
    memcpy(old, o->part, sizeof old);
    memset(o->part, 0, sizeof o->part);
    o->part[ST_VALUE_PART_ARGS] = args;
    o->form = ST_VALUE_FORM_REDUCE;
    if (old[0] && st__kind(old[0]) == ST_VALUE_GLOBAL) {
        o->part[0] = old[0];
        old[0] = NULL;
    } else {
        o->part[0] = st_value_none();
    }
    /* Released only now: a part's release may reach v again. */
    for (int i = 0; i < 7; i++)
        st_value_unref(old[i]);
    return 0;
}
