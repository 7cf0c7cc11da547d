/* Long proofs at two sizes. ctest runs a program that has them twice: in the default suite
 * with ST_TEST_PROOF unset, where each proof runs at a size that asserts the same property in
 * a few seconds, and under the label "proof" with ST_TEST_PROOF=1, at full size. */
#ifndef ST_TEST_PROOF_H
#define ST_TEST_PROOF_H

#include <stdlib.h>
#include <string.h>

/* 1 when the full proofs were asked for. */
static inline int st_test_proof(void)
{
    const char *v = getenv("ST_TEST_PROOF");
    return v && strcmp(v, "1") == 0;
}

/* quick in the default suite, full under the label "proof". */
#define ST_PROOF_SIZE(quick, full) (st_test_proof() ? (full) : (quick))

#endif
