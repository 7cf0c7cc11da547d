# Shared by cmake/toolchain-i686.cmake and cmake/toolchain-s390x.cmake: a Debian cross
# toolchain (gcc-<triplet>, libc6-dev-<arch>-cross in /usr/<triplet>) with the target's
# cmocka, sqlite3 and gdbm from Debian's .debs of that architecture, unpacked by
# .ci/cross-sysroot into build/sysroot/<arch> at the first configure. Tests run under qemu-user
# through CMAKE_CROSSCOMPILING_EMULATOR (no binfmt_misc needed).
#
# The including file sets _st_deb_arch (Debian's name: i386, s390x), _st_triplet (the cross
# compiler's prefix: i686-linux-gnu), _st_multiarch (Debian's library folder: i386-linux-gnu),
# _st_qemu (qemu-i386) and CMAKE_SYSTEM_PROCESSOR.
# Another sysroot: the SYSTOOLS_CROSS_SYSROOT environment variable (a folder holding usr/).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_C_COMPILER ${_st_triplet}-gcc)
# The header test compiles as C++17 with the target's compiler when there is one.
find_program(_st_cross_cxx ${_st_triplet}-g++)
if(_st_cross_cxx)
  set(CMAKE_CXX_COMPILER ${_st_cross_cxx})
else()
  set(SYSTOOLS_HEADER_TEST_CXX OFF)
endif()
set(CMAKE_LIBRARY_ARCHITECTURE ${_st_multiarch})

# Headers and libraries from the target only: the unpacked .debs, then the cross libc.
include("${CMAKE_CURRENT_LIST_DIR}/CrossSysroot.cmake")
systools_cross_sysroot(${_st_deb_arch} "/usr/${_st_triplet}")
# pkg-config (cmocka) reads the target's .pc files and prefixes their paths with the sysroot.
set(ENV{PKG_CONFIG_LIBDIR} "${_st_sysroot}/usr/lib/${_st_multiarch}/pkgconfig:${_st_sysroot}/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${_st_sysroot}")

# ctest runs target programs as `qemu-<arch> -L /usr/<triplet> prog`: -L finds the dynamic
# loader and libc; the build tree's RPATH (CMake's default) finds cmocka, sqlite3 and gdbm.
# The including file may add qemu options in _st_qemu_options.
set(CMAKE_CROSSCOMPILING_EMULATOR ${_st_qemu} -L /usr/${_st_triplet} ${_st_qemu_options})
