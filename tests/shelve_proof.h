/* The heavy shelve proofs (CPython interop, SIGKILL crash test, concurrent writers) live in
 * test_shelve_proof.c and run as a second cmocka group of the test_shelve program. */
#ifndef ST_TESTS_SHELVE_PROOF_H
#define ST_TESTS_SHELVE_PROOF_H

/** Runs the proof group; returns the number of failed tests (cmocka_run_group_tests()). */
int run_shelve_proof_tests(void);

#endif
