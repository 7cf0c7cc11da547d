/* Downstream program: checks that headers and library agree and that a call works. */
#include <stdio.h>
#include <string.h>

#include <systools/systools.h>

int main(int argc, char **argv)
{
    if (st_version() != ST_VERSION_NUMBER) {
        fprintf(stderr, "header %s but library %s\n", ST_VERSION_STRING, st_version_string());
        return 1;
    }
    if (st_sys_init(argc, argv) < 0 || strcmp(st_sys_argv()[0], argv[0]) != 0)
        return 1;
    if (st_sys_path_find("surely-not-here") || st_error_code() != ST_EOS)
        return 1;
    printf("consumer ok: libsystools %s on %s\n", st_version_string(), st_sys_platform());
    return 0;
}
