/* The seed's hello-in: a child that greets every name it reads on stdin (spawn.c feeds it).
 *
 *   $ printf 'Ada\nGrace\n' | hello-in
 *   Hello, Ada!
 *   Hello, Grace!
 */
#include <stdio.h>
#include <string.h>

int main(void)
{
    char line[256];
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\n")] = '\0';
        printf("Hello, %s!\n", line);
    }
    return 0;
}
