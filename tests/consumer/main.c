/* Downstream program: checks that headers and library agree and that a call works. */
#define _POSIX_C_SOURCE 200809L /* mkstemp, close, unlink under -std=c11 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
    /* A shelf round trip pulls in the dbm backends, so static links prove their dependencies
     * (sqlite3, and gdbm when built with it) reach consumers. */
    char db[] = "/tmp/systools-consumer-XXXXXX";
    int fd = mkstemp(db);
    if (fd < 0)
        return 1;
    close(fd);
    st_shelf *sh = st_shelve_open(db, "n", NULL);
    st_value *v = st_value_int(42), *back = NULL;
    int ok = sh && v && st_shelf_set(sh, "answer", v) == 0 && (back = st_shelf_get(sh, "answer")) &&
             st_value_equal(v, back) == 1;
    st_value_unref(back);
    st_value_unref(v);
    if (st_shelf_close(sh) < 0)
        ok = 0;
    st_shelf_free(sh);
    unlink(db);
    if (!ok) {
        fprintf(stderr, "shelf round trip failed: %s\n", st_error_message());
        return 1;
    }
    printf("consumer ok: libsystools %s on %s\n", st_version_string(), st_sys_platform());
    return 0;
}
