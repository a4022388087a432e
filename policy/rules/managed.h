#ifndef EGRESSGUARD_MANAGED_H
#define EGRESSGUARD_MANAGED_H

/*
 * egressguard's own policies: network policy objects (any kind) labelled
 * app.kubernetes.io/managed-by: egressguard hold the enforcement that `render` produced. An UPDATE
 * or DELETE of one — judged by the object and by the old object, so removing the label does not
 * hide it — is a violation (rule managed.policy, in spec.mode) unless the user is one of
 * spec.identities.serviceAccounts, egressguard's own service account, or a DELETE by the
 * namespace controller or the garbage collector (so that deleting a namespace completes).
 * CREATE is not judged here.
 *
 * verdict.c runs this before the egress evaluation of every network policy kind.
 */

#include "policy/base/err.h"
#include "policy/doc/manifest.h"
#include "policy/config/policy.h"
#include "policy/verdict.h"

#define MANAGED_BY_LABEL "app.kubernetes.io/managed-by"
#define MANAGED_BY_VALUE "egressguard"

/* Same contract as every decider; never fails on the object's content (0, or -1 on OOM). */
int managed_decide(const struct policy *pol, const struct object *obj,
                   const struct request_ctx *ctx, struct verdict *v, struct err *e);

#endif
