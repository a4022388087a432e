#ifndef EGRESSGUARD_ANP_H
#define EGRESSGUARD_ANP_H

/*
 * AdminNetworkPolicy and BaselineAdminNetworkPolicy (policy.networking.k8s.io/v1alpha1) → one
 * egress model each, as the API defines them (kubernetes-sigs/network-policy-api,
 * apis/v1alpha1/{adminnetworkpolicy,baselineadminnetworkpolicy,shared}_types.go):
 *
 *  - Subject: exactly one of `namespaces` (a LabelSelector over namespaces: every pod there) and
 *    `pods` (namespaceSelector AND podSelector). Cluster-scoped.
 *  - Egress rules are first-match-wins in the order written; AdminNetworkPolicies are checked by
 *    `priority` (0-1000, lower first) and all of them before any NetworkPolicy; the
 *    BaselineAdminNetworkPolicy after every NetworkPolicy (model.layer, model.order). An object
 *    without egress rules does not affect egress (governs_egress false).
 *  - Neither isolates: traffic no rule matches goes on to the NetworkPolicies (then the
 *    baseline, then Kubernetes' default allow), so there is no default deny.
 *  - Allow opens what it matches ("allowed regardless of NetworkPolicy and
 *    BaselineAdminNetworkPolicy rules"). Deny takes it away from later rules and lower
 *    priorities. Pass (ANP only) skips the remaining ANP rules and hands the traffic to the
 *    NetworkPolicies, which egressguard judges on their own: it opens nothing by itself.
 *  - Peers, exactly one field each: namespaces, pods (in-cluster peers); nodes (the nodes'
 *    addresses: entity "nodes"); networks (CIDRs, which "cluster-internal traffic will be checked
 *    against ... as well", so model.cidrs_match_all); domainNames (Allow rules only; "*."
 *    matches one or more labels, which no allow-list pattern but `*` covers: read as every name,
 *    with a note). A peer with no field this reader knows (a newer API) fails closed as the API
 *    asks implementations to: it matches nothing in an Allow, and is not counted in a Deny.
 *  - ports: portNumber {protocol (default TCP), port}, portRange {protocol, start, end},
 *    namedPort (every port in an Allow, with a note; not counted in a Deny). No ports: every
 *    port of every protocol.
 * Errors (a subject with both or neither field, a peer with two fields, a bad selector, CIDR,
 * port or action, a priority out of range) are positioned.
 */

#include <stdbool.h>

#include "policy/base/err.h"
#include "policy/config/policy.h"
#include "policy/doc/manifest.h"
#include "policy/eval/egress.h"
#include "policy/verdict.h"

/* Is obj an AdminNetworkPolicy or BaselineAdminNetworkPolicy? */
bool anp_is_policy(const struct object *obj);

/* Appends the object's model to out. 0, or -1 with e set and positioned. */
int anp_read(const struct object *obj, struct egress_list *out, struct err *e);

/* The decider for both kinds (engine contract, see verdict.h). */
int anp_decide(const struct policy *pol, const struct object *obj,
               const struct request_ctx *ctx, struct verdict *v, struct err *e);

#endif
