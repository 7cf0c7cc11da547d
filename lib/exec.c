/* What crosses exec: the PATH search and argv checks of exec*. Shared by os and subprocess
 * (internal/exec.h says why it lives here). */
#include <string.h>

#include "internal/error.h"
#include "internal/exec.h"
#include "internal/mem.h"
#include "systools/os.h"
#include "systools/path.h"

/* ---- exec's argument checks and PATH search ------------------------------------------------- */

int st__exec_check_argv(const char *func, const char *const argv[])
{
    int ve = !strcmp(func, "execve");
    if (!argv || !argv[0])
        return ST_RAISE(ST_EVALUE, ve ? "execve: argv must not be empty" : "%s() arg 2 must not be empty", func);
    if (!argv[0][0])
        return ST_RAISE(ST_EVALUE, ve ? "execve: argv first element cannot be empty"
                                      : "%s() arg 2 first element cannot be empty", func);
    return 0;
}

static const char *env_lookup(const char *const envp[], const char *key)
{
    size_t n = strlen(key);
    for (size_t i = 0; envp && envp[i]; i++)
        if (!strncmp(envp[i], key, n) && envp[i][n] == '=')
            return envp[i] + n + 1;
    return NULL;
}

int st__exec_candidates(const char *file, const char *const envp[], st__strv *out)
{
    if (strchr(file, '/'))
        return st__strv_push(out, file) < 0 ? ST_TRACE() : 0;
    char *owned = NULL;
    const char *path;
    if (envp) {
        path = env_lookup(envp, "PATH");
    } else {
        owned = st_os_getenv("PATH", "\x01"); /* a name cannot hold \x01: it marks "unset" */
        if (!owned)
            return ST_TRACE();
        path = strcmp(owned, "\x01") ? owned : NULL;
    }
    if (!path)
        path = "/bin:/usr/bin"; /* Python's os.defpath */
    int rc = 0;
    for (const char *p = path;; p++) {
        const char *end = strchr(p, ':');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char *dir = st__strndup(p, len);
        const char *parts[] = {dir, file}; /* Python's _execvpe: path.join(dir, file) */
        char *full = dir ? st_path_joinv(parts, 2) : NULL;
        st_free(dir);
        if (st__strv_push_owned(out, full) < 0) {
            rc = ST_TRACE();
            break;
        }
        if (!end)
            break;
        p = end;
    }
    st_free(owned);
    return rc;
}
