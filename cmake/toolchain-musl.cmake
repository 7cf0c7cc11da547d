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

get_filename_component(_st_source_dir "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
if(DEFINED ENV{SYSTOOLS_CROSS_SYSROOT} AND NOT "$ENV{SYSTOOLS_CROSS_SYSROOT}" STREQUAL "")
  set(_st_sysroot "$ENV{SYSTOOLS_CROSS_SYSROOT}")
else()
  set(_st_sysroot "${_st_source_dir}/build/sysroot/musl")
  if(NOT EXISTS "${_st_sysroot}/.complete")
    execute_process(COMMAND sh "${_st_source_dir}/.ci/cross-sysroot" musl "${_st_sysroot}"
      RESULT_VARIABLE _st_rc)
    if(NOT _st_rc EQUAL 0)
      message(FATAL_ERROR "systools: .ci/cross-sysroot musl failed (${_st_rc})")
    endif()
  endif()
endif()

# find_path/find_library look in the sysroot only (musl-gcc itself knows musl's folders):
# never in glibc's /usr/lib/x86_64-linux-gnu, whose libsqlite3 would not link into a musl program.
set(CMAKE_FIND_ROOT_PATH "${_st_sysroot}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(ENV{PKG_CONFIG_LIBDIR} "${_st_sysroot}/lib/pkgconfig")
unset(ENV{PKG_CONFIG_SYSROOT_DIR})
unset(ENV{PKG_CONFIG_PATH})
