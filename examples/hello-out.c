/* The seed's hello-out: a child that only writes to its stdout (spawn.c runs and captures it).
 *
 *   $ hello-out
 *   Hello from hello-out!
 */
#include <stdio.h>

int main(void)
{
    puts("Hello from hello-out!");
    return 0;
}
