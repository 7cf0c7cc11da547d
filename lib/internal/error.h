/* Internal: raising and propagating errors. Never installed. */
#ifndef ST_INTERNAL_ERROR_H
#define ST_INTERNAL_ERROR_H

#include "systools/error.h"

#if defined(__GNUC__) || defined(__clang__)
#define ST__PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define ST__PRINTF(f, a)
#endif

/* Sets the thread's last error and returns -1 so callers can `return ST_RAISE(...)`.
 * type NULL means the default Python name for (code, err). For ST_EOS the message gets
 * ": <strerror(err)>" appended. The message is formatted like printf. */
int st__raise(st_errcode code, int err, const char *type, const char *func,
              const char *file, int line, const char *fmt, ...) ST__PRINTF(7, 8);

/* Adds the caller's frame to the current error's traceback; returns -1. */
int st__trace(const char *func, const char *file, int line);

/* A ValueError/TypeError/... raised here. */
#define ST_RAISE(code, ...) st__raise((code), 0, NULL, __func__, __FILE__, __LINE__, __VA_ARGS__)
/* An error whose Python type is module-specific, e.g. "struct.error". */
#define ST_RAISE_AS(code, type, ...) \
    st__raise((code), 0, (type), __func__, __FILE__, __LINE__, __VA_ARGS__)
/* A failed system call: errno value `err`, message naming what failed. */
#define ST_RAISE_OS(err, ...) st__raise(ST_EOS, (err), NULL, __func__, __FILE__, __LINE__, __VA_ARGS__)
/* Allocation failure. */
#define ST_RAISE_NOMEM() ST_RAISE(ST_ENOMEM, "out of memory")
/* Propagation: `return ST_TRACE();` in int functions, `return (ST_TRACE(), NULL);` otherwise. */
#define ST_TRACE() st__trace(__func__, __FILE__, __LINE__)

/* The last error as Python prints it (traceback, then "Type: message"); thread-local, library-owned;
 * NULL when no error is set. */
const char *st__error_traceback(void);

#endif
