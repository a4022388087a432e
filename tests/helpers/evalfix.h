#ifndef EGRESSGUARD_TESTS_EVALFIX_H
#define EGRESSGUARD_TESTS_EVALFIX_H

/*
 * Test fixture for rule modules: load a policy file, read a manifest through the manifest reader
 * and run decide_object() on its objects, exactly as `check` does. Failures to load or read end
 * the test with the formatted error.
 */

#include <stdbool.h>
#include <stddef.h>

#include "policy/doc/manifest.h"
#include "policy/config/policy.h"
#include "policy/verdict.h"

/* Loads a policy file; fails the test when it does not load. */
struct policy *evalfix_policy(const char *path);

/* The same from the text of a policy file (named "t.yaml" in positions). */
struct policy *evalfix_policy_text(const char *text);

struct evalfix {
    struct manifest *m;
    const struct object *obj; /* the object evaluated */
    struct verdict v;
    struct err e;
    int rc; /* decide_object's result */
};

/*
 * Reads the manifest file (must read without errors and hold more than `index` objects) and
 * evaluates object `index` with ctx (may be NULL). Release with evalfix_release().
 */
void evalfix_file(struct evalfix *f, const struct policy *p, const char *path, size_t index,
                  const struct request_ctx *ctx);

/* The same for manifest text. */
void evalfix_text(struct evalfix *f, const struct policy *p, const char *text, size_t index,
                  const struct request_ctx *ctx);

void evalfix_release(struct evalfix *f);

/* The n-th finding (0-based) with this rule id, violations only when `violation`; NULL if none. */
const struct finding *evalfix_find(const struct evalfix *f, const char *rule, bool violation,
                                   size_t n);

/* How many findings have this rule id (and this violation flag). */
size_t evalfix_count(const struct evalfix *f, const char *rule, bool violation);

/* Fails the test, printing every finding, unless there is no violation at all. */
void evalfix_expect_clean(const struct evalfix *f);

/*
 * Fails the test unless a violation of `rule` exists with exactly this path and line, whose
 * message contains `needle`. Returns it.
 */
const struct finding *evalfix_expect(const struct evalfix *f, const char *rule, const char *path,
                                     int line, const char *needle);

#endif
