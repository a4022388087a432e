#ifndef EGRESSGUARD_CILIUM_H
#define EGRESSGUARD_CILIUM_H

/*
 * CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy (cilium.io/v2) → egress models.
 *
 * One model per rule: `spec` gives model path "", `specs[i]` gives "specs[i]". Cilium's
 * semantics are kept (see cilium/cilium api/v2 and pkg/k8s/apis/cilium.io/utils):
 *   - endpointSelector keys may carry a source prefix (`k8s:`, `any:`); the pod's namespace is
 *     `io.kubernetes.pod.namespace`, a namespace label X is `io.cilium.k8s.namespace.labels.X`.
 *     A namespaced policy's subject is always confined to its own namespace; its toEndpoints are
 *     confined to it unless the selector names a namespace or namespace label. A clusterwide
 *     selector without a namespace key matches pods of every namespace.
 *   - nodeSelector makes a host policy (model.host_policy): it governs nodes, not pods.
 *   - egress allows, egressDeny subtracts (unordered model). Egress default deny is on when the
 *     rule has egress or egressDeny entries, unless enableDefaultDeny.egress says otherwise.
 *   - a rule without any to* peer but with toPorts/icmps opens those ports to every
 *     destination; an empty rule `{}` opens nothing (it only turns default deny on).
 *   - two different L3 peer kinds in one rule (toEndpoints + toEntities, ...) are rejected, as
 *     Cilium rejects them.
 * Approximations (named ports, L7 rules, toServices, cidrGroupRef, ...) are recorded as notes.
 */

#include "policy/eval/egress.h"
#include "policy/base/err.h"
#include "policy/doc/manifest.h"
#include "policy/config/nsdb.h"
#include "policy/config/policy.h"
#include "policy/verdict.h"

/* Is the object a Cilium policy kind this module reads? */
bool cilium_is_policy(const struct object *obj);

/*
 * Appends one model per rule of obj to out. Returns 0, or -1 with e set and positioned when the
 * object is malformed (an empty or invalid CIDR, an unknown entity, an unsupported combination
 * of peers, a bad selector, ...). On failure the models already appended stay in out.
 */
int cilium_read(const struct object *obj, struct egress_list *out, struct err *e);

/* The decider for both kinds (engine contract, see verdict.h). */
int cilium_decide(const struct policy *pol, const struct object *obj,
                  const struct request_ctx *ctx, struct verdict *v, struct err *e);

#endif
