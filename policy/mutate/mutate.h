#ifndef EGRESSGUARD_MUTATE_H
#define EGRESSGUARD_MUTATE_H

/*
 * The mutating side: a new AI namespace gets egressguard's enforcement labels and annotations
 * (profile, policy hash, managed-by) so the cluster-wide enforcement policies select it from its
 * first second. The patch is a JSON Patch (RFC 6902) with keys escaped as JSON Pointers
 * (RFC 6901: "~" → "~0", "/" → "~1"), and it is idempotent: what is already there is not added
 * again, so a reinvocation yields an empty patch.
 */

#include "policy/base/err.h"
#include "policy/doc/manifest.h"
#include "policy/config/policy.h"
#include "policy/verdict.h"

#define MUTATE_ANN_PROFILE "egressguard.io/profile"
#define MUTATE_ANN_HASH "egressguard.io/policy-hash"
#define MUTATE_ANN_MANAGED "egressguard.io/managed-by"
#define MUTATE_MANAGER "egressguard" /* the value of managed-by */

/*
 * Sets v->patch (a JSON array, possibly empty) for a Namespace CREATE/UPDATE that is an AI
 * namespace and when mutation is enabled; leaves it NULL otherwise (other kinds, non-AI
 * namespaces, DELETE/CONNECT). Labels first, then annotations: the policy's mutation.labels, its
 * mutation.annotations, then profile, policy-hash and managed-by (which win over same-named
 * policy annotations). A key already holding the wanted value gets no op; one holding another
 * value gets an "add" (which replaces). A missing or null metadata.labels/annotations is created
 * whole by one op. Never denies: validation is decide_object()'s job. 0, or -1 with e set (a
 * metadata/labels/annotations that is not a mapping, positioned; out of memory).
 */
int mutate_decide(const struct policy *pol, const struct object *obj,
                  const struct request_ctx *ctx, struct verdict *v, struct err *e);

#endif
