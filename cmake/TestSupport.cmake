# What the tests and the benchmarks share: the reference CPython 3.13 and the C that finds it.
#
# SYSTOOLS_PYTHON3 (cache): the interpreter ctest hands the tests as ST_PYTHON3, found as
# tests/support/pyref.c finds it when run by hand and tests/gen/cpython.py finds it for the
# generators: the first that runs and says it is 3.13 of $ST_PYTHON3, the newest
# versions/3.13.N/bin/python3.13 under `pyenv root`, and python3.13 on PATH. Empty when there
# is none: the live comparisons then skip, saying so.
#
# systools_pyref: tests/support/pyref.c (pyref_python(), pyref_eval()), built once for both.
include_guard(GLOBAL)

# Sets <out> to the version when <python> runs and is 3.13, else to "".
function(_st_python_313 python out)
  execute_process(COMMAND "${python}" -c "import sys; print(sys.version.split()[0])"
    OUTPUT_VARIABLE _version OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE _rc)
  if(_rc EQUAL 0 AND _version MATCHES "^3\\.13\\.")
    set(${out} "${_version}" PARENT_SCOPE)
  else()
    set(${out} "" PARENT_SCOPE)
  endif()
endfunction()

if(NOT SYSTOOLS_PYTHON3)
  set(_st_candidates "$ENV{ST_PYTHON3}")
  find_program(SYSTOOLS_PYENV pyenv)
  mark_as_advanced(SYSTOOLS_PYENV)
  if(SYSTOOLS_PYENV)
    execute_process(COMMAND "${SYSTOOLS_PYENV}" root OUTPUT_VARIABLE _st_pyroot
      OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
    file(GLOB _st_pyenv_pythons "${_st_pyroot}/versions/3.13.*/bin/python3.13")
    list(SORT _st_pyenv_pythons COMPARE NATURAL ORDER DESCENDING)
    list(POP_FRONT _st_pyenv_pythons _st_newest)
    list(APPEND _st_candidates "${_st_newest}")
  endif()
  find_program(SYSTOOLS_PATH_PYTHON313 python3.13)
  mark_as_advanced(SYSTOOLS_PATH_PYTHON313)
  if(SYSTOOLS_PATH_PYTHON313)
    list(APPEND _st_candidates "${SYSTOOLS_PATH_PYTHON313}")
  endif()
  set(SYSTOOLS_PYTHON3 "" CACHE FILEPATH "CPython 3.13 for live interop tests" FORCE)
  foreach(_st_candidate IN LISTS _st_candidates)
    if(_st_candidate)
      _st_python_313("${_st_candidate}" _st_version)
      if(_st_version)
        set(SYSTOOLS_PYTHON3 "${_st_candidate}" CACHE FILEPATH "CPython 3.13 for live interop tests"
            FORCE)
        message(STATUS "CPython ${_st_version} for live interop tests: ${_st_candidate}")
        break()
      endif()
    endif()
  endforeach()
  if(NOT SYSTOOLS_PYTHON3)
    message(STATUS "No CPython 3.13 ($ST_PYTHON3, `pyenv root`/versions/3.13.N, python3.13 on "
                   "PATH): live interop checks skip")
  endif()
endif()

add_library(systools_pyref STATIC "${PROJECT_SOURCE_DIR}/tests/support/pyref.c")
target_include_directories(systools_pyref PUBLIC "${PROJECT_SOURCE_DIR}/tests")
target_compile_definitions(systools_pyref PRIVATE _GNU_SOURCE)
set_target_properties(systools_pyref PROPERTIES C_STANDARD 11 C_EXTENSIONS OFF)
target_compile_options(systools_pyref PRIVATE ${SYSTOOLS_CONSUMER_WARNINGS})
