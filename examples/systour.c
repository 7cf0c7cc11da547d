/* A tour of the sys module: what Python's sys tells a script, told to a C program. */
#include <stdio.h>

#include <systools/systools.h>

int main(int argc, char **argv)
{
    if (st_sys_init(argc, argv) < 0) {
        fputs(st_sys_exc_info().traceback, stderr);
        return 1;
    }
    printf("libsystools %s (header %s)\n", st_version_string(), ST_VERSION_STRING);
    printf("sys.version    = %s\n", st_sys_version());
    printf("sys.platform   = %s\n", st_sys_platform());
    printf("sys.byteorder  = %s\n", st_sys_byteorder());
    printf("sys.maxsize    = %zd\n", st_sys_maxsize());
    printf("sys.executable = %s\n", st_sys_executable());
    printf("sys.getfilesystemencoding() = %s\n", st_sys_getfilesystemencoding());

    const char **path = st_sys_path();
    if (!path)
        return 1;
    for (size_t i = 0; path[i]; i++)
        printf("sys.path[%zu]    = '%s'\n", i, path[i]);
    st_strv_free(path);

    size_t n = 0;
    st_sys_module *mods = st_sys_modules(&n);
    if (mods) {
        printf("sys.modules: %zu shared objects loaded, among them:\n", n);
        for (size_t i = 0; i < n && i < 4; i++)
            printf("  %-24s base %#lx\n", mods[i].name, (unsigned long)mods[i].base);
        st_free(mods);
    }

    /* An error, as sys.exc_info() would show it after a failed open(). */
    if (!st_sys_path_find("no-such-file.conf")) {
        st_sys_exc_info_result e = st_sys_exc_info();
        printf("exc_info type  = %s\nexc_info value = %s\n", e.type, e.value);
    }
    st_sys_exit(0);
}
