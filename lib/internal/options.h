/* Internal: the one check every versioned options struct goes through. Never installed.
 *
 * Every public options struct starts with `unsigned int version`. A caller built against an
 * older header passes an older (smaller) struct: every version from 1 to the current one is
 * accepted, and a module reads a field only when the caller's version has it. */
#ifndef ST_INTERNAL_OPTIONS_H
#define ST_INTERNAL_OPTIONS_H

#include <stddef.h>

/* 0 when 1 <= version <= current; else -1 with ValueError naming the struct (type). */
int st__options_check(unsigned int version, unsigned int current, const char *type);

/* Sets *opts to Python's defaults: all zero but the version. sizes[v - 1] is the size of
 * version v of the struct (ST_OPTIONS_SIZES), so a caller built against an older header is
 * never written past the end of its smaller struct. 0, or -1 with ValueError for a version
 * outside 1..current (then *opts is left alone). */
int st__options_init(void *opts, const size_t *sizes, unsigned int version, unsigned int current,
                     const char *type);

/* The size of each version of an options struct, oldest first: the offset of the first field
 * each later version added, then the whole struct:
 * `ST_OPTIONS_SIZES(offsetof(st_dbm_options, durability), sizeof *opts)`. */
#define ST_OPTIONS_SIZES(...) ((const size_t[]){__VA_ARGS__})

/* `if (ST_OPTIONS_CHECK(opts, ST_POPEN_OPTIONS_VERSION, "st_popen_options") < 0) ...`;
 * NULL opts pass (they mean the defaults). */
#define ST_OPTIONS_CHECK(opts, current, type) \
    ((opts) ? st__options_check((opts)->version, (current), (type)) : 0)

#endif
