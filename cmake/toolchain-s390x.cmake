# IBM Z (s390x, big-endian, 64-bit) with Debian's gcc-s390x-linux-gnu, tests under qemu-s390x.
# Used by the "s390x" preset; .ci/install-deps installs what it needs.
set(CMAKE_SYSTEM_PROCESSOR s390x)
set(_st_deb_arch s390x)
set(_st_triplet s390x-linux-gnu)
set(_st_multiarch s390x-linux-gnu)
set(_st_qemu qemu-s390x)
include("${CMAKE_CURRENT_LIST_DIR}/CrossDebian.cmake")
