# add_cmocka_test(<name> SOURCES <files...> [LIBS <libs...>] [LABELS <labels...>] [TIMEOUT <s>]
#                 [PROOF] [NO_EMULATION <reason>])
# One cmocka program, linked with the static library (so tests may reach internal helpers)
# and tests/support/, registered with ctest under <name>.
#
# PROOF: the program has long proofs (tests/support/proof.h); <name> runs them short, and
# <name>_proof, labelled "proof", runs the program again with ST_TEST_PROOF=1 at full size.
#
# NO_EMULATION marks a program that cannot hold under qemu-user (the i386 and s390x presets),
# with the reason: it gets the ctest label "no-emulation", which those test presets exclude, and
# configuring with an emulator prints the reason. Under an emulator every test also sees
# ST_TEST_EMULATOR (the emulator's name), so a test can skip one case, saying why, instead.
# ST_PYTHON3 is the CPython for live comparisons, empty when SYSTOOLS_TEST_CPYTHON is OFF.
# systools_emulation_labels(<out_var> <test> <reason> <labels>...): <labels>, plus
# "no-emulation" when <reason> is given, which configuring with an emulator prints.
function(systools_emulation_labels out_var test reason)
  set(_labels ${ARGN})
  if(reason)
    list(APPEND _labels no-emulation)
    if(CMAKE_CROSSCOMPILING_EMULATOR)
      message(STATUS "systools: ${test} is not run under emulation: ${reason}")
    endif()
  endif()
  set(${out_var} "${_labels}" PARENT_SCOPE)
endfunction()

function(add_cmocka_test name)
  cmake_parse_arguments(ARG "PROOF" "TIMEOUT;NO_EMULATION" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE systools_test_support ${ARG_LIBS})
  target_include_directories(${name} PRIVATE "${PROJECT_SOURCE_DIR}/lib" "${CMAKE_CURRENT_SOURCE_DIR}")
  target_compile_definitions(${name} PRIVATE _GNU_SOURCE
    ST_TEST_SOURCE_DIR="${CMAKE_CURRENT_SOURCE_DIR}"
    ST_TEST_BINARY_DIR="${CMAKE_CURRENT_BINARY_DIR}")
  set_target_properties(${name} PROPERTIES C_STANDARD 11 C_EXTENSIONS OFF)
  target_compile_options(${name} PRIVATE ${SYSTOOLS_CONSUMER_WARNINGS})
  add_test(NAME ${name} COMMAND ${name})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  systools_emulation_labels(_labels ${name} "${ARG_NO_EMULATION}" unit ${ARG_LABELS})
  set(_env "CMOCKA_MESSAGE_OUTPUT=STDOUT" "ST_PYTHON3=${SYSTOOLS_TEST_PYTHON3}")
  if(CMAKE_CROSSCOMPILING_EMULATOR)
    list(GET CMAKE_CROSSCOMPILING_EMULATOR 0 _emu)
    get_filename_component(_emu "${_emu}" NAME)
    list(APPEND _env "ST_TEST_EMULATOR=${_emu}")
  endif()
  set_tests_properties(${name} PROPERTIES
    LABELS "${_labels}"
    TIMEOUT ${ARG_TIMEOUT}
    ENVIRONMENT "${_env}")
  if(ARG_PROOF)
    add_test(NAME ${name}_proof COMMAND ${name})
    list(REMOVE_ITEM _labels unit)
    set_tests_properties(${name}_proof PROPERTIES
      LABELS "proof;${_labels}" TIMEOUT 900 ENVIRONMENT "${_env};ST_TEST_PROOF=1")
  endif()
endfunction()
