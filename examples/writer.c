/* The seed's writer.py: the producing end of `writer | reader` (see spawn.c).
 *
 *   $ writer 3
 *   message 1
 *   message 2
 *   message 3
 */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 3;
    for (int i = 1; i <= n; i++)
        printf("message %d\n", i);
    return 0;
}
