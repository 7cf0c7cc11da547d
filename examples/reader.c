/* The seed's reader.py: the consuming end of `writer | reader` (see spawn.c). Numbers the
 * lines it reads and reports how many there were.
 *
 *   $ writer 2 | reader
 *   reader got 1: message 1
 *   reader got 2: message 2
 *   reader: 2 lines
 */
#include <stdio.h>
#include <string.h>

int main(void)
{
    char line[256];
    int n = 0;
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\n")] = '\0';
        printf("reader got %d: %s\n", ++n, line);
    }
    printf("reader: %d lines\n", n);
    return 0;
}
