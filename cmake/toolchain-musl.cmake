# x86-64 Linux with musl instead of glibc: Debian's musl-gcc (musl-tools), static programs that
# run natively, so no emulator and the host's CPython can still be compared with. Used by the
# "musl" preset; .ci/install-deps installs what it needs.
#
# Debian has no musl builds of cmocka, sqlite3 or gdbm: .ci/cross-sysroot builds cmocka from
# Debian's source package into build/sysroot/musl at the first configure, and the library is
# built without sqlite3 and gdbm (SYSTOOLS_WITH_SQLITE3/GDBM are AUTO and find neither here).
# Another sysroot: the SYSTOOLS_CROSS_SYSROOT environment variable (a folder holding lib/).
set(CMAKE_C_COMPILER musl-gcc)
set(CMAKE_EXE_LINKER_FLAGS_INIT -static)
# musl-gcc is C only; the host's g++ would compile the headers against glibc.
set(SYSTOOLS_HEADER_TEST_CXX OFF)

# find_path/find_library look in the sysroot only (musl-gcc itself knows musl's folders):
# never in glibc's /usr/lib/x86_64-linux-gnu, whose libsqlite3 would not link into a musl program.
include("${CMAKE_CURRENT_LIST_DIR}/CrossSysroot.cmake")
systools_cross_sysroot(musl)
set(ENV{PKG_CONFIG_LIBDIR} "${_st_sysroot}/lib/pkgconfig")
unset(ENV{PKG_CONFIG_SYSROOT_DIR})
