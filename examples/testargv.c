/* The seed's first example: print sys.argv exactly as Python's print(sys.argv) does.
 *
 *   $ testargv -i data.txt -o results.txt
 *   ['testargv', '-i', 'data.txt', '-o', 'results.txt']
 */
#include <stdio.h>

#include <systools/systools.h>

int main(int argc, char **argv)
{
    if (st_sys_init(argc, argv) < 0) {
        fputs(st_sys_exc_info().traceback, stderr);
        return 1;
    }
    /* sys.argv as a Python list of str, printed with Python's repr(). */
    st_value *list = st_value_list();
    int ok = list != NULL;
    for (const char *const *a = st_sys_argv(); ok && *a; a++)
        ok = st_value_list_append_steal(list, st_value_str(*a)) == 0;
    char *text = ok ? st_value_repr(list) : NULL;
    st_value_unref(list);
    if (!text) {
        fputs(st_sys_exc_info().traceback, stderr);
        return 1;
    }
    puts(text);
    st_free(text);
    st_sys_exit(0);
}
