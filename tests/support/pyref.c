/* Finds the reference CPython 3.13 (see pyref.h) and runs code with it. */
#include "pyref.h"

#include <glob.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* s single-quoted for /bin/sh, appended to the NUL-terminated string at w; returns its end. */
static char *put_quoted(char *w, const char *s)
{
    *w++ = '\'';
    for (; *s; s++) {
        if (*s == '\'') {
            memcpy(w, "'\\''", 4);
            w += 4;
        } else {
            *w++ = *s;
        }
    }
    *w++ = '\'';
    *w = '\0';
    return w;
}

/* Runs `'prog' args...` (each quoted; NULL-terminated) through /bin/sh, stderr discarded unless
 * keep_stderr; returns its stdout (malloc'd, final newline stripped) and its status, or NULL
 * when it cannot be started or memory runs out. */
static char *run(int keep_stderr, int *status, const char *prog, ...)
{
    size_t cmdlen = strlen(prog) * 4 + 32;
    va_list ap;
    va_start(ap, prog);
    for (const char *a; (a = va_arg(ap, const char *));)
        cmdlen += strlen(a) * 4 + 3;
    va_end(ap);
    char *cmd = malloc(cmdlen);
    if (!cmd)
        return NULL;
    cmd[0] = '\0';
    char *w = put_quoted(cmd, prog);
    va_start(ap, prog);
    for (const char *a; (a = va_arg(ap, const char *));) {
        *w++ = ' ';
        w = put_quoted(w, a);
    }
    va_end(ap);
    if (!keep_stderr)
        strcpy(w, " 2>/dev/null");
    FILE *f = popen(cmd, "r");
    free(cmd);
    if (!f)
        return NULL;
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
    *status = pclose(f);
    if (!out)
        return NULL;
    out[len] = '\0';
    if (len && out[len - 1] == '\n')
        out[len - 1] = '\0';
    return out;
}

/* Whether py runs and is CPython 3.13; its version goes to version (64 bytes). */
static int is_313(const char *py, char version[64])
{
    int status;
    char *v = run(0, &status, py, "-c", "import sys; print(sys.version.split()[0])", NULL);
    int ok = v && status == 0 && strncmp(v, "3.13.", 5) == 0;
    snprintf(version, 64, "%s", v && status == 0 ? v : "no version: it does not run");
    free(v);
    return ok;
}

/* The newest `pyenv root`/versions/3.13.N/bin/python3.13 into buf, or "" without one. */
static void from_pyenv(char *buf, size_t size)
{
    int status;
    char *root = run(0, &status, "pyenv", "root", NULL);
    buf[0] = '\0';
    if (root && status == 0 && *root) {
        char *pattern = malloc(strlen(root) + 64);
        glob_t g;
        if (pattern) {
            sprintf(pattern, "%s/versions/3.13.*/bin/python3.13", root);
            if (glob(pattern, 0, NULL, &g) == 0) {
                const char *best = g.gl_pathv[0];
                for (size_t i = 1; i < g.gl_pathc; i++)
                    if (strverscmp(g.gl_pathv[i], best) > 0)
                        best = g.gl_pathv[i];
                snprintf(buf, size, "%s", best);
                globfree(&g);
            }
            free(pattern);
        }
    }
    free(root);
}

/* The first executable python3.13 on PATH into buf, or "" without one. */
static void from_path(char *buf, size_t size)
{
    const char *p = getenv("PATH");
    buf[0] = '\0';
    while (p && *p) {
        size_t n = strcspn(p, ":");
        snprintf(buf, size, "%.*s/python3.13", (int)n, n ? p : ".");
        if (access(buf, X_OK) == 0)
            return;
        p += n + (p[n] == ':');
    }
    buf[0] = '\0';
}

const char *pyref_python(void)
{
    static char found[4096];
    static int searched;
    static const char *none = "no CPython 3.13 ($ST_PYTHON3, `pyenv root`/versions/3.13.N, "
                              "python3.13 on PATH)";
    if (!searched) {
        searched = 1;
        const char *given = getenv("ST_PYTHON3");
        static const char *const why[] = {"$ST_PYTHON3", "pyenv root", "PATH"};
        char cand[4096], version[64];
        /* ctest hands an empty ST_PYTHON3 when the live comparisons are off (an emulated target:
         * the host's CPython answers for the host) or when configuring found none: no search. */
        if (given && !given[0])
            none = "ST_PYTHON3 is empty (SYSTOOLS_TEST_CPYTHON is OFF, or configuring found none)";
        for (int i = 0; i < 3 && !found[0] && !(given && !given[0]); i++) {
            if (i == 0)
                snprintf(cand, sizeof cand, "%s", given ? given : "");
            else if (i == 1)
                from_pyenv(cand, sizeof cand);
            else
                from_path(cand, sizeof cand);
            if (!cand[0])
                continue;
            if (is_313(cand, version)) {
                snprintf(found, sizeof found, "%s", cand);
                fprintf(stderr, "pyref: using CPython %s at %s (from %s)\n", version, cand, why[i]);
            } else {
                fprintf(stderr, "pyref: passing over %s (from %s): %s\n", cand, why[i], version);
            }
        }
        if (!found[0])
            fprintf(stderr, "pyref: %s: the live comparisons skip\n", none);
    }
    if (!found[0]) {
        printf("[  SKIP    ] live CPython 3.13 comparison: %s\n", none);
        return NULL;
    }
    return found;
}

char *pyref_eval(const char *code)
{
    const char *py = pyref_python();
    if (!py)
        return NULL;
    int status;
    char *out = run(1, &status, py, "-c", code, NULL);
    if (!out) {
        perror("pyref: cannot run CPython");
        abort();
    }
    if (status != 0) {
        fprintf(stderr, "pyref: CPython (%s) failed with status %d running:\n%s\n", py, status,
                code);
        abort();
    }
    return out;
}
