# Install rules: libraries, headers, CMake package and pkg-config file.
include(CMakePackageConfigHelpers)

set(SYSTOOLS_CMAKE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/systools")

install(TARGETS ${SYSTOOLS_TARGETS}
  EXPORT systoolsTargets
  LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}"
  ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}"
  RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}"
  INCLUDES DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/systools"
  DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
install(EXPORT systoolsTargets
  NAMESPACE systools::
  FILE systoolsTargets.cmake
  DESTINATION "${SYSTOOLS_CMAKE_DIR}")

configure_package_config_file(
  "${PROJECT_SOURCE_DIR}/cmake/systoolsConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/systoolsConfig.cmake"
  INSTALL_DESTINATION "${SYSTOOLS_CMAKE_DIR}")
write_basic_package_version_file(
  "${PROJECT_BINARY_DIR}/systoolsConfigVersion.cmake"
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY SameMajorVersion)
install(FILES
  "${PROJECT_BINARY_DIR}/systoolsConfig.cmake"
  "${PROJECT_BINARY_DIR}/systoolsConfigVersion.cmake"
  DESTINATION "${SYSTOOLS_CMAKE_DIR}")

# pkg-config: the prefix is found from the .pc file's own place, so `cmake --install --prefix`
# and relocated installs work.
file(RELATIVE_PATH _st_pc_up "/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/")
string(REGEX REPLACE "/$" "" _st_pc_up "${_st_pc_up}")
set(SYSTOOLS_PC_PREFIX "\${pcfiledir}/${_st_pc_up}")
set(SYSTOOLS_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
set(SYSTOOLS_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}" OR IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(SYSTOOLS_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
  set(SYSTOOLS_PC_LIBDIR "${CMAKE_INSTALL_FULL_LIBDIR}")
  set(SYSTOOLS_PC_INCLUDEDIR "${CMAKE_INSTALL_FULL_INCLUDEDIR}")
endif()
configure_file("${PROJECT_SOURCE_DIR}/pkgconfig/systools.pc.in"
  "${PROJECT_BINARY_DIR}/systools.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/systools.pc"
  DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
