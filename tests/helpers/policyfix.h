#ifndef EGRESSGUARD_TESTS_POLICYFIX_H
#define EGRESSGUARD_TESTS_POLICYFIX_H

/* Shared by the policy-file tests: policy text in, a policy or a positioned error out. */

#include <stdbool.h>

#include "policy/config/policy.h"

/* Loads policy text as the file "p.yaml". NULL with e set (e is cleared first). */
struct policy *policyfix_load(const char *text, struct err *e);

/*
 * Is text refused with exactly this message at p.yaml:line:col? When not, prints what happened
 * (for a test that lists every mismatch before failing) and returns false.
 */
bool policyfix_refuses(const char *text, int line, int col, const char *msg);

#endif
