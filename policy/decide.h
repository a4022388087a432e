#ifndef EGRESSGUARD_DECIDE_H
#define EGRESSGUARD_DECIDE_H

/*
 * The one decision path. `check`, `review`, `mutate` and `serve` all call decide_object() with
 * an object view and differ only in where the object came from and how the verdict is printed,
 * so a manifest on disk and the same object inside an AdmissionReview get the same verdict.
 * Which rule module decides which kind is the table in decide.c: a new kind is one line there.
 */

#include <stdbool.h>

#include "policy/base/err.h"
#include "policy/config/policy.h"
#include "policy/doc/manifest.h"
#include "policy/verdict.h"

/*
 * Evaluates obj against pol. Returns 0 with v filled in, or -1 with e set when the object cannot
 * be evaluated (a malformed field of a kind egressguard knows); callers turn that into a denial
 * (server) or an input error (check) — never into an allow.
 */
int decide_object(const struct policy *pol, const struct object *obj,
                   const struct request_ctx *ctx, struct verdict *v, struct err *e);

/*
 * May decide_object() ask ctx->namespaces for the labels of obj->ns? false for kinds it does
 * not evaluate, Namespaces (their labels are in the object), cluster-scoped objects, DELETEs and
 * policies without aiWorkloads.namespaces.selectors (labels then change nothing but wording).
 * Lets the server skip looking labels up when they cannot matter.
 */
bool decide_uses_namespace_labels(const struct policy *pol, const struct object *obj,
                                   const struct request_ctx *ctx);

#endif
