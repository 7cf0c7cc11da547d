/* Internal: sys helpers shared with tests and fuzz targets. */
#ifndef ST_INTERNAL_SYS_H
#define ST_INTERNAL_SYS_H

#include "mem.h"

/* Appends the non-empty entries of a colon-separated list (SYSTOOLS_PATH) to out. */
int st__sys_path_parse(const char *list, st__strv *out);

#endif
