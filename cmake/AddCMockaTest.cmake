# add_cmocka_test(<name> SOURCES <files...> [LIBS <libs...>] [LABELS <labels...>] [TIMEOUT <s>]
#                 [PROOF])
# One cmocka program, linked with the static library (so tests may reach internal helpers)
# and tests/support/, registered with ctest under <name>. PROOF: the program has long proofs
# (tests/support/proof.h); <name> runs them short, and <name>_proof, labelled "proof", runs the
# program again with ST_TEST_PROOF=1 at full size.
function(add_cmocka_test name)
  cmake_parse_arguments(ARG "PROOF" "TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
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
  set(_env "CMOCKA_MESSAGE_OUTPUT=STDOUT;ST_PYTHON3=${SYSTOOLS_PYTHON3}")
  set_tests_properties(${name} PROPERTIES
    LABELS "unit;${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT} ENVIRONMENT "${_env}")
  if(ARG_PROOF)
    add_test(NAME ${name}_proof COMMAND ${name})
    set_tests_properties(${name}_proof PROPERTIES
      LABELS "proof;${ARG_LABELS}" TIMEOUT 900 ENVIRONMENT "${_env};ST_TEST_PROOF=1")
  endif()
endfunction()
