# Runs one example (NAME, DIR, ARGS_FILE, EXPECT, STDIN, EMULATOR: see ExampleRun.cmake), shows
# its whole output and compares it with EXPECT.
include("${CMAKE_CURRENT_LIST_DIR}/ExampleRun.cmake")
systools_run_example(_shown NAME "${NAME}" DIR "${DIR}" ARGS_FILE "${ARGS_FILE}"
  EXPECT "${EXPECT}" STDIN "${STDIN}" EMULATOR "${EMULATOR}")
message("${_shown}")
