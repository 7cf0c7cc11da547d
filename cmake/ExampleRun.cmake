# systools_run_example(<out_var> NAME <program> DIR <dir> [ARGS_FILE <file>] [EXPECT <file>]
#                      [STDIN <file>] [EMULATOR <words joined by "|">])
# Runs one example by name through PATH (so argv[0] is <program>; with EMULATOR, DIR/<program>
# through it, argv[0] still <program> by qemu's -0) with the arguments of
# ARGS_FILE (one per line), fails when it exits non-zero or when its output differs from
# EXPECT byte for byte, and sets <out_var> to the command line shown as "$ <program> <args>"
# followed by the output. Shared by RunExample.cmake (one example) and Tour.cmake (all).
function(systools_run_example out_var)
  cmake_parse_arguments(ARG "" "NAME;DIR;ARGS_FILE;EXPECT;STDIN;EMULATOR" "" ${ARGN})
  set(_args)
  if(ARG_ARGS_FILE)
    file(STRINGS "${ARG_ARGS_FILE}" _args)
  endif()
  set(_path "$ENV{PATH}")
  set(ENV{PATH} "${ARG_DIR}:${_path}")
  set(_input "")
  if(ARG_STDIN)
    set(_input INPUT_FILE "${ARG_STDIN}")
  endif()
  set(_command ${ARG_NAME})
  if(ARG_EMULATOR)
    string(REPLACE "|" ";" _emulator "${ARG_EMULATOR}")
    set(_command ${_emulator} -0 ${ARG_NAME} "${ARG_DIR}/${ARG_NAME}")
  endif()
  execute_process(COMMAND ${_command} ${_args}
    ${_input}
    OUTPUT_VARIABLE _out
    ERROR_VARIABLE _err
    RESULT_VARIABLE _rc)
  set(ENV{PATH} "${_path}")
  list(JOIN _args " " _shown)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "$ ${ARG_NAME} ${_shown}\n${_out}${_err}${ARG_NAME} exited with ${_rc}")
  endif()
  if(ARG_EXPECT)
    file(READ "${ARG_EXPECT}" _want)
    if(NOT _out STREQUAL _want)
      message(FATAL_ERROR "${ARG_NAME}: output differs from ${ARG_EXPECT}\n"
        "--- expected\n${_want}--- got\n${_out}${_err}")
    endif()
  endif()
  set(${out_var} "$ ${ARG_NAME} ${_shown}\n${_out}${_err}" PARENT_SCOPE)
endfunction()
