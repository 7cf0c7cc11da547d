/* The seed's first example: print sys.argv exactly as Python's print(sys.argv) does.
 *
 *   $ testargv -i data.txt -o results.txt
 *   ['testargv', '-i', 'data.txt', '-o', 'results.txt']
 */
#include <stdio.h>
#include <string.h>

#include <systools/systools.h>

/* Python's repr() of a str holding printable ASCII: quotes chosen as Python chooses them. */
static void print_repr(const char *s)
{
    char q = strchr(s, '\'') && !strchr(s, '"') ? '"' : '\'';
    putchar(q);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == (unsigned char)q || c == '\\')
            printf("\\%c", c);
        else if (c == '\n')
            fputs("\\n", stdout);
        else if (c == '\t')
            fputs("\\t", stdout);
        else if (c == '\r')
            fputs("\\r", stdout);
        else if (c < 0x20 || c == 0x7f)
            printf("\\x%02x", c);
        else
            putchar(c);
    }
    putchar(q);
}

int main(int argc, char **argv)
{
    if (st_sys_init(argc, argv) < 0) {
        fprintf(stderr, "%s\n", st_sys_exc_info().traceback);
        return 1;
    }
    char *const *args = st_sys_argv();
    putchar('[');
    for (size_t i = 0; args[i]; i++) {
        if (i)
            fputs(", ", stdout);
        print_repr(args[i]);
    }
    puts("]");
    st_sys_exit(0);
}
