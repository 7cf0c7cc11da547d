/* Test helper: asks the reference CPython (3.13, found at configure time and passed in the
 * ST_PYTHON3 environment variable) for a value. Tests skip the live part, saying so, when it is
 * missing. */
#ifndef ST_TEST_PYREF_H
#define ST_TEST_PYREF_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The interpreter's path, or NULL (after printing why) when there is none. */
static inline const char *pyref_python(void)
{
    const char *py = getenv("ST_PYTHON3");
    if (!py || !*py) {
        printf("[  SKIP    ] live CPython 3.13 comparison: no CPython 3.13 found at configure time\n");
        return NULL;
    }
    return py;
}

/* Runs `python -c code` and returns its stdout with the final newline stripped (free()), or
 * NULL (after saying so) when no CPython is available; aborts the test program when it fails. */
static inline char *pyref_eval(const char *code)
{
    const char *py = pyref_python();
    if (!py)
        return NULL;
    size_t cmdlen = strlen(py) + strlen(code) * 4 + 16;
    char *cmd = malloc(cmdlen);
    if (!cmd)
        return NULL;
    /* Single-quote the code for /bin/sh. */
    char *w = cmd + sprintf(cmd, "'%s' -c '", py);
    for (const char *c = code; *c; c++) {
        if (*c == '\'') {
            memcpy(w, "'\\''", 4);
            w += 4;
        } else {
            *w++ = *c;
        }
    }
    strcpy(w, "'");
    FILE *f = popen(cmd, "r");
    free(cmd);
    if (!f) {
        perror("pyref: popen");
        abort();
    }
    size_t cap = 256, len = 0;
    char *out = malloc(cap);
    int ch;
    while (out && (ch = fgetc(f)) != EOF) {
        if (len + 1 >= cap) {
            char *bigger = realloc(out, cap *= 2);
            if (!bigger) {
                free(out);
                out = NULL;
                break;
            }
            out = bigger;
        }
        out[len++] = (char)ch;
    }
    int status = pclose(f);
    if (!out)
        return NULL;
    out[len] = '\0';
    if (status != 0) {
        /* A reference that exists but fails is a broken test, not a skip: stop loudly. */
        fprintf(stderr, "pyref: CPython (%s) failed with status %d running:\n%s\n", py, status, code);
        abort();
    }
    if (len && out[len - 1] == '\n')
        out[len - 1] = '\0';
    return out;
}

#endif
