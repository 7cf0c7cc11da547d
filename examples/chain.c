/* The library's outputs are its inputs: every vector one function returns goes straight into
 * the next call, and string-literal arrays go in as they are, with no cast. Built, like every
 * example, with -Wall -Wextra -Wwrite-strings -Wcast-qual -Werror (docs/conventions.md, rule 6).
 *
 *   $ chain DIR COMMAND [ARG...]
 *   sys.argv[2:] -> subprocess.run: one|two words|
 *   ...
 */
#include <stdio.h>

#include <systools/systools.h>

static int fail(const char *what)
{
    fprintf(stderr, "chain: %s: %s: %s\n", what, st_error_last()->type, st_error_message());
    return 1;
}

/* subprocess.run(argv, capture_output=True, check=True, env=...).stdout, printed after label. */
static int show_run(const char *label, const char *const argv[], const st_popen_options *po)
{
    st_subprocess_run_options ro = ST_SUBPROCESS_RUN_OPTIONS_INIT;
    ro.capture_output = 1;
    ro.check = 1;
    st_completed_process r;
    int rc = st_subprocess_run(argv, &ro, po, &r);
    if (rc == 0)
        printf("%-34s %s\n", label, r.stdout_data);
    st_completed_process_free(&r);
    return rc < 0 ? fail(label) : 0;
}

int main(int argc, char **argv)
{
    if (st_sys_init(argc, argv) < 0)
        return fail("sys.argv");
    const char *const *args = st_sys_argv(); /* const char *const *: passes on as it is */
    if (st_strv_len(args) < 3) {
        fprintf(stderr, "usage: chain DIR COMMAND [ARG...]\n");
        return 2;
    }

    /* sys.argv into a child: subprocess.run(sys.argv[2:]). */
    if (show_run("sys.argv[2:] -> subprocess.run:", args + 2, NULL) != 0)
        return 1;

    /* os.environ into a child's environment: Popen(env=...) takes what os.environ gives. */
    if (st_os_setenv("CHAIN_GREETING", "hello from the parent") < 0)
        return fail("os.environ");
    const char **env = st_os_environ();
    if (!env)
        return fail("os.environ");
    st_popen_options po = ST_POPEN_OPTIONS_INIT;
    po.env = env;
    const char *const greet[] = {"sh", "-c", "printf '%s' \"$CHAIN_GREETING\"", NULL};
    int rc = show_run("os.environ -> Popen(env=...):", greet, &po);
    st_strv_free(env);
    if (rc != 0)
        return 1;

    /* glob's list into fnmatch.filter and os.path.commonprefix, then into a child's argv. */
    const char **found = st_glob_at(ST_GLOB_CWD, args[1], "hello-*.txt", 0);
    if (!found)
        return fail("glob");
    const char **outs = st_fnmatch_filter(found, "*-out.*");
    char *prefix = st_path_commonprefix(found, st_strv_len(found));
    if (!outs || !prefix) {
        rc = fail(outs ? "os.path.commonprefix" : "fnmatch.filter");
    } else {
        printf("%-34s %zu, common prefix '%s', %zu matching *-out.*\n", "glob -> fnmatch, commonprefix:",
               st_strv_len(found), prefix, st_strv_len(outs));
        const char *cmd[8] = {"printf", "[%s]"};
        size_t n = 2;
        for (size_t i = 0; found[i] && n < 7; i++)
            cmd[n++] = found[i]; /* the glob's strings, as they are */
        cmd[n] = NULL;
        rc = show_run("glob -> subprocess argv:", cmd, NULL);
    }
    st_free(prefix);
    st_strv_free(outs);
    st_strv_free(found);
    return rc;
}
