# 32-bit x86 (Debian's i386: i686, ILP32, x87 floating point) with Debian's gcc-i686-linux-gnu,
# tests under qemu-i386 (CI's kernel may lack IA32 emulation). Used by the "i386" preset;
# .ci/install-deps installs what it needs.
set(CMAKE_SYSTEM_PROCESSOR i686)
set(_st_deb_arch i386)
set(_st_triplet i686-linux-gnu)
set(_st_multiarch i386-linux-gnu)
set(_st_qemu qemu-i386)
# The host's /etc/ld.so.cache lists /lib32/libc.so.6 (libc6-i386, which libclang-rt-dev pulls
# in): the cross loader would take that libc over its own, and then fork and pthread_create
# hang. The loader's search path names the cross libc first.
set(_st_qemu_options -E LD_LIBRARY_PATH=/usr/${_st_triplet}/lib)
include("${CMAKE_CURRENT_LIST_DIR}/CrossDebian.cmake")
