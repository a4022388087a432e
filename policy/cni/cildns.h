#ifndef EGRESSGUARD_CILDNS_H
#define EGRESSGUARD_CILDNS_H

/*
 * DNS as an egress channel: a Cilium DNS rule (egress[].toPorts[].rules.dns[], matchName and
 * matchPattern; docs.cilium.io/en/latest/security/policy/language/#dns-based) decides which names
 * the selected pods may resolve through the DNS proxy, and every query for a name carries data
 * out through the resolvers. In a policy that governs AI workloads (scope.h), each pattern must
 * lie inside the allow-list's names (fqdn.h: `*` spans one label) or under one of the policy
 * file's cluster-internal suffixes (rules.dns.clusterSuffixes, "cluster.local" by default: any
 * name ending in ".cluster.local", at any depth). Rule id "dns", mode rules.dns.mode (default
 * warn); each finding names the names the rule lets through.
 */

#include "policy/base/err.h"
#include "policy/config/policy.h"
#include "policy/doc/manifest.h"
#include "policy/eval/egress.h"
#include "policy/verdict.h"

/*
 * Checks the DNS rules of a Cilium policy object whose models (cilium_read, one per rule: path ""
 * for spec, "specs[i]") are `models`. Adds findings to v. 0, or -1 with e set on out of memory.
 * Malformed entries are the reader's business (it refuses them); here they are skipped.
 */
int cildns_check(const struct policy *pol, const struct object *obj,
                 const struct request_ctx *ctx, const struct egress_list *models,
                 struct verdict *v, struct err *e);

/* Is the normalized name or pattern inside the names the policy file lets AI pods resolve? */
bool cildns_allowed(const struct policy *pol, const char *pattern);

#endif
