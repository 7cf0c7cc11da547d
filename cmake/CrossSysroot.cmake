# systools_cross_sysroot(<name> [<more root folders>...]), for the cross toolchain files: sets
# _st_sysroot to the target libraries' folder, $SYSTOOLS_CROSS_SYSROOT when set, else
# build/sysroot/<name>, which .ci/cross-sysroot <name> fills at the first configure; then
# find_path/find_library/find_package look only there and in the folders given after <name>
# (never in the host's), and programs (pkg-config, python3, doxygen) come from the host.
macro(systools_cross_sysroot name)
  get_filename_component(_st_source_dir "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
  if(DEFINED ENV{SYSTOOLS_CROSS_SYSROOT} AND NOT "$ENV{SYSTOOLS_CROSS_SYSROOT}" STREQUAL "")
    set(_st_sysroot "$ENV{SYSTOOLS_CROSS_SYSROOT}")
  else()
    set(_st_sysroot "${_st_source_dir}/build/sysroot/${name}")
    if(NOT EXISTS "${_st_sysroot}/.complete")
      execute_process(COMMAND sh "${_st_source_dir}/.ci/cross-sysroot" ${name} "${_st_sysroot}"
        RESULT_VARIABLE _st_rc)
      if(NOT _st_rc EQUAL 0)
        message(FATAL_ERROR "systools: .ci/cross-sysroot ${name} failed (${_st_rc})")
      endif()
    endif()
  endif()
  set(CMAKE_FIND_ROOT_PATH "${_st_sysroot}" ${ARGN})
  set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
  set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
  set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
  set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
  unset(ENV{PKG_CONFIG_PATH})
endmacro()
