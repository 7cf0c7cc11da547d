/* struct/codec.c: the setup of ST_STRUCT_CODEC()'s generated code. That code moves each entry of
 * its list as one item of a known size, with the byte order as a constant: this checks that the
 * list is such (standard sizes, one plain code per entry), joins it into a format and hands the
 * rest, every field against its item, to st_struct_record_new(). */
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "internal/mem.h"
#include "internal/struct.h"

/* One entry: a code the generated code moves (a number, a char, a bool, bytes), a count only
 * before 's' and 'x' (where it is a length, not a repeat). */
static int check_entry(const char *e)
{
    size_t digits = strspn(e, "0123456789");
    char code = e[digits];
    if (code == '\0' || e[digits + 1] != '\0' || strchr("xcbB?hHiIlLqQfds", code) == NULL)
        return ST__STRUCT_ERROR("ST_STRUCT_CODEC does not do '%s': an entry is one of the codes "
                                "x c b B ? h H i I l L q Q f d or Ns (use a record for the others)",
                                e);
    if (digits > 0 && code != 's' && code != 'x')
        return ST__STRUCT_ERROR("ST_STRUCT_CODEC does not do '%s': a count goes only before 's' "
                                "and 'x' (give each item its own entry)",
                                e);
    return 0;
}

st_struct_record *st_struct_codec_record_new(const char *items, size_t struct_size,
                                             const st_struct_field *fields, size_t nfields)
{
    if (!items)
        return (ST_RAISE(ST_ETYPE, "st_struct_codec_record_new() needs a list of items"), NULL);
    if (strlen(items) != 1 || strchr("<>!=", items[0]) == NULL)
        return (ST__STRUCT_ERROR("ST_STRUCT_CODEC does not do the byte order '%s': it needs a "
                                 "standard one, '<', '>', '!' or '=' (use a record for native "
                                 "sizes and alignment)",
                                 items),
                NULL);
    size_t len = 1;
    for (const char *e = items + 2; *e; e += strlen(e) + 1) {
        if (check_entry(e) < 0)
            return (ST_TRACE(), NULL);
        len += strlen(e);
    }
    /* A member the generated code cannot move is named here, in the codec's terms (a record's
     * message would point at ST_STRUCT_ARRAY, which a codec does not take). */
    for (size_t i = 0; fields && i < nfields; i++)
        if (fields[i].kind == ST_STRUCT_KIND_OTHER)
            return (ST_RAISE(ST_EVALUE,
                             "field '%s' has a type ST_STRUCT_CODEC cannot move (a member is an "
                             "integer, _Bool, float, double, char or a byte array)",
                             fields[i].name ? fields[i].name : "?"),
                    NULL);
    char *format = st__malloc(len + 1);
    if (!format)
        return (ST_TRACE(), NULL);
    char *end = format;
    *end++ = items[0];
    for (const char *e = items + 2; *e; e += strlen(e) + 1) {
        size_t n = strlen(e);
        memcpy(end, e, n);
        end += n;
    }
    *end = '\0';
    st_struct_record *r = st_struct_record_new(format, struct_size, fields, nfields);
    free(format);
    return r ? r : (ST_TRACE(), NULL);
}
