# GLib for the queue's main-loop example (examples/queue_glib.c) and the queue bench's
# GAsyncQueue anchor; the library itself never uses it. Found like gdbm and sqlite3: AUTO uses
# it when pkg-config finds glib-2.0, ON requires it, OFF leaves those parts out (they say so).
# Sets SYSTOOLS_HAVE_GLIB (in the including directory) and the global target PkgConfig::GLIB.
set(SYSTOOLS_WITH_GLIB AUTO CACHE STRING "Use GLib in an example and a bench anchor: AUTO, ON or OFF")
set_property(CACHE SYSTOOLS_WITH_GLIB PROPERTY STRINGS AUTO ON OFF)
set(SYSTOOLS_HAVE_GLIB OFF)
if(SYSTOOLS_WITH_GLIB STREQUAL "AUTO" OR SYSTOOLS_WITH_GLIB)
  find_package(PkgConfig QUIET)
  if(PKG_CONFIG_FOUND AND NOT TARGET PkgConfig::GLIB)
    pkg_check_modules(GLIB QUIET IMPORTED_TARGET GLOBAL glib-2.0)
  endif()
  if(TARGET PkgConfig::GLIB)
    set(SYSTOOLS_HAVE_GLIB ON)
  elseif(NOT SYSTOOLS_WITH_GLIB STREQUAL "AUTO")
    message(FATAL_ERROR "SYSTOOLS_WITH_GLIB=${SYSTOOLS_WITH_GLIB} but pkg-config does not find glib-2.0")
  else()
    message(STATUS "systools: glib-2.0 not found: the GLib main-loop example and the GAsyncQueue bench anchor are skipped")
  endif()
endif()
