/* The environment belongs to the process: a variable set here is seen by every child started
 * afterwards, while a child's own changes never come back to its parent (nor do ours reach the
 * shell that started this program).
 *
 *   $ environ
 *   before:                 child sees GREETING=''
 *   after st_os_setenv:     child sees GREETING='hello from the parent'
 *   a child changed it:     parent still has GREETING='hello from the parent'
 *   after st_os_unsetenv:   child sees GREETING=''
 *   $ echo "GREETING='$GREETING'"
 *   GREETING=''
 */
#include <stdio.h>
#include <string.h>

#include <systools/systools.h>

static int fail(void)
{
    fprintf(stderr, "environ: %s\n", st_error_message());
    return 1;
}

/* What a shell started by the library sees in $GREETING. */
static int show_child(const char *label)
{
    st_os_popen_file *p = st_os_popen("printf '%s' \"$GREETING\"", "r");
    if (!p)
        return fail();
    char seen[128] = "";
    if (!fgets(seen, sizeof seen, st_os_popen_file_stream(p)))
        seen[0] = '\0';
    int status;
    int rc = st_os_popen_file_close(p, &status);
    st_os_popen_file_free(p);
    if (rc < 0)
        return fail();
    printf("%-24s child sees GREETING='%s'\n", label, seen);
    return 0;
}

int main(void)
{
    if (st_os_unsetenv("GREETING") < 0 || show_child("before:"))
        return 1;
    if (st_os_setenv("GREETING", "hello from the parent") < 0 || show_child("after st_os_setenv:"))
        return 1;

    /* A child that changes its copy; the parent's stays as it was. */
    fflush(stdout);
    pid_t pid = st_os_fork();
    if (pid < 0)
        return fail();
    if (pid == 0) {
        st_os_setenv("GREETING", "changed by the child");
        st_os__exit(0);
    }
    int status;
    if (st_os_waitpid(pid, &status, 0) < 0)
        return fail();
    char *mine = st_os_getenv("GREETING", "");
    if (!mine)
        return fail();
    printf("%-24s parent still has GREETING='%s'\n", "a child changed it:", mine);
    st_free(mine);

    if (st_os_unsetenv("GREETING") < 0 || show_child("after st_os_unsetenv:"))
        return 1;
    return 0;
}
