/* Shared by the benchmarks: a monotonic clock and a tiny way to time CPython doing the same. */
#ifndef ST_BENCH_H
#define ST_BENCH_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The reference CPython 3.13: $ST_PYTHON3, else pyenv's 3.13.0, else python3.13 on PATH. */
static inline const char *bench_python(void)
{
    const char *py = getenv("ST_PYTHON3");
    if (py && *py)
        return py;
    static char buf[512];
    const char *home = getenv("HOME");
    snprintf(buf, sizeof buf, "%s/.pyenv/versions/3.13.0/bin/python3", home ? home : "/root");
    FILE *f = fopen(buf, "r");
    if (f) {
        fclose(f);
        return buf;
    }
    return "python3.13";
}

/* Runs a Python script (given as a file path) that prints one number, its own timing in
 * seconds; returns it, or -1 when CPython is not available. */
static inline double bench_python_seconds(const char *script_path, const char *arg)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "'%s' '%s' '%s' 2>/dev/null", bench_python(), script_path, arg ? arg : "");
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    double secs = -1;
    if (fscanf(p, "%lf", &secs) != 1)
        secs = -1;
    if (pclose(p) != 0)
        return -1;
    return secs;
}

#endif
