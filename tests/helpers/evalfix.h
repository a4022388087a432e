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
#include "policy/config/nsdb.h"
#include "policy/config/setdb.h"
#include "policy/eval/egress.h"
#include "policy/verdict.h"

/* Loads a policy file; fails the test when it does not load. */
struct policy *evalfix_policy(const char *path);

/* The same from the text of a policy file (named "t.yaml" in positions). */
struct policy *evalfix_policy_text(const char *text);

/*
 * cmocka group setup and teardown: *state is examples/policy.yaml, loaded once for the group
 * (each test of the group starts with it in *state), freed at the end.
 */
int evalfix_setup_example(void **state);
int evalfix_teardown_policy(void **state);

struct evalfix {
    struct manifest *m;
    struct setdb *sets;          /* evalfix_cluster: what the run knows */
    struct egress_list policies;
    struct nsdb *ns;
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

/*
 * The same for manifest text taken as a whole cluster, as `check` takes its input: the address
 * sets and the network policies of the text are what the run knows (ctx.sets, ctx.policies),
 * the sets complete or not as `complete` says, and its Namespaces give namespace labels. The
 * operation is CREATE.
 */
void evalfix_cluster(struct evalfix *f, const struct policy *p, const char *text, size_t index,
                     bool complete);

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
