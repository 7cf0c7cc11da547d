# Runs one example by name through PATH, shows its output, and compares it with EXPECT.
# EMULATOR (words joined by "|"): run DIR/NAME through it instead, argv[0] still NAME (qemu -0).
# The program's arguments, one per line.
set(ARGS)
if(ARGS_FILE)
  file(STRINGS "${ARGS_FILE}" ARGS)
endif()
set(ENV{PATH} "${DIR}:$ENV{PATH}")
set(_input "")
if(STDIN)
  set(_input INPUT_FILE "${STDIN}")
endif()
set(_command ${NAME})
if(EMULATOR)
  string(REPLACE "|" ";" _emulator "${EMULATOR}")
  set(_command ${_emulator} -0 ${NAME} "${DIR}/${NAME}")
endif()
execute_process(COMMAND ${_command} ${ARGS}
  ${_input}
  OUTPUT_VARIABLE _out
  ERROR_VARIABLE _err
  RESULT_VARIABLE _rc)
list(JOIN ARGS " " _shown)
message("$ ${NAME} ${_shown}\n${_out}${_err}")
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "${NAME} exited with ${_rc}")
endif()
if(EXPECT)
  file(READ "${EXPECT}" _want)
  if(NOT _out STREQUAL _want)
    message(FATAL_ERROR "${NAME}: output differs from ${EXPECT}\n--- expected\n${_want}--- got\n${_out}")
  endif()
endif()
