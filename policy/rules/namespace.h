#ifndef EGRESSGUARD_NAMESPACE_H
#define EGRESSGUARD_NAMESPACE_H

/*
 * Namespace rules (rules.namespaces, in its mode):
 *   namespace.requiredLabels     an AI namespace must carry rules.namespaces.requiredLabels
 *   namespace.enforcementLabel   an UPDATE that removes or changes one of egressguard's
 *                                enforcement labels (mutation.labels) on an AI namespace (AI
 *                                before or after the change) is denied unless the user is one of
 *                                spec.identities; when it is, a note says who was let through
 *   namespace.aiLabel            the same for the labels aiWorkloads.namespaces.selectors read
 *                                (what makes a namespace an AI namespace by its labels): an
 *                                UPDATE of an AI namespace that removes or changes one, or adds
 *                                one that makes it no AI namespace any more, is denied unless
 *                                the user is one of spec.identities; the message names the label
 *                                and the identities
 * An AI namespace is judged by its own labels plus kubernetes.io/metadata.name, which the API
 * server sets on every namespace.
 */

#include "policy/base/err.h"
#include "policy/doc/manifest.h"
#include "policy/config/policy.h"
#include "policy/verdict.h"

/* The decider for kind Namespace (verdict.c's table). 0, or -1 with e set (malformed). */
int namespace_decide(const struct policy *pol, const struct object *obj,
                     const struct request_ctx *ctx, struct verdict *v, struct err *e);

#endif
