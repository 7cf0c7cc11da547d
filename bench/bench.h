/* Shared by the benchmarks: a monotonic clock and a way to time CPython doing the same. */
#ifndef ST_BENCH_H
#define ST_BENCH_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "support/pyref.h"
#include "systools/common.h"
#include "systools/subprocess.h"

static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* qsort()'s comparison of doubles, ascending: the benches sort their rounds for a median. */
static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Runs `python -c code args...` (up to 4, NULL-terminated) with the reference CPython 3.13
 * (tests/support/pyref.h) and returns its stdout (st_free()), or NULL when there is no CPython
 * or the code fails. */
static inline char *bench_python(const char *code, ...)
{
    const char *argv[8] = {pyref_python(), "-c", code};
    if (!argv[0])
        return NULL;
    va_list ap;
    va_start(ap, code);
    for (size_t i = 3; i < 7 && (argv[i] = va_arg(ap, const char *)) != NULL; i++)
        ;
    va_end(ap);
    return st_subprocess_check_output(argv, NULL, NULL, NULL);
}

/* bench_python() for code that prints one number, its own timing in seconds; -1 without. */
static inline double bench_python_seconds(const char *code, const char *arg)
{
    char *out = bench_python(code, arg, (const char *)NULL);
    double secs = -1;
    if (out && sscanf(out, "%lf", &secs) != 1)
        secs = -1;
    st_free(out);
    return secs;
}

#endif
