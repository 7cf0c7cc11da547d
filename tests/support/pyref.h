/* The reference CPython 3.13 that tests and benches compare with. It is found one way, the same
 * in cmake/TestSupport.cmake, here and in tests/gen/cpython.py: the first that runs and says it
 * is 3.13 of $ST_PYTHON3, the newest versions/3.13.N/bin/python3.13 under `pyenv root`, and
 * python3.13 on PATH. An empty (but set) $ST_PYTHON3 means none: ctest sets it so when the
 * live comparisons are off. Needs no cmocka: the benches use it too. */
#ifndef ST_TEST_PYREF_H
#define ST_TEST_PYREF_H

/* The interpreter's path, found on the first call, which says on stderr which CPython it is or
 * why there is none; NULL (after a SKIP line on stdout) when there is none. */
const char *pyref_python(void);

/* Runs `python -c code` and returns its stdout with the final newline stripped (free()), or
 * NULL (after saying so) when no CPython is available; aborts the program when CPython fails:
 * a reference that exists but fails is a broken test, not a skip. */
char *pyref_eval(const char *code);

#endif
