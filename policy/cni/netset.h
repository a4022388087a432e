#ifndef EGRESSGUARD_NETSET_H
#define EGRESSGUARD_NETSET_H

/*
 * Address-set objects: what network policies reach without naming an address (setdb.h), read
 * into store entries, and judged as kinds of their own.
 *
 *   Calico NetworkSet, GlobalNetworkSet (projectcalico.org/v3, crd.projectcalico.org/v1):
 *       spec.nets (CIDRs or bare IPs, as Calico's v3 API takes them) and spec.allowedEgressDomains
 *       (Calico Enterprise; domain names, `*.` wildcards).
 *   Calico HostEndpoint: spec.expectedIPs. Without any, its addresses are its interface's, which
 *       are not known here (the entry then carries an error: what it holds is unknown).
 *   Cilium CiliumCIDRGroup (cilium.io/v2alpha1, v2): spec.externalCIDRs.
 *
 * Judging (netset_decide, for NetworkSet, GlobalNetworkSet, HostEndpoint and CiliumCIDRGroup):
 * a set opens nothing by itself; what matters is who reaches it. A HostEndpoint is judged as a
 * GlobalNetworkSet of its expectedIPs (Calico selectors stand for those addresses; without
 * them what it holds is unknown, and a policy governing AI workloads that reaches it fails
 * closed).
 *   - A NetworkSet in an AI namespace may be reached by any policy of that namespace, on any
 *     port: every address and domain it holds must lie inside some allow entry (whatever the
 *     entry's ports; the ports are judged with each policy that reaches the set).
 *   - Every policy known to the run (ctx->policies) that governs AI workloads and reaches the set
 *     in a rule that opens traffic: the set's addresses on that rule's ports must lie inside the
 *     allow-list, exactly as when the policy itself is judged (reach.h).
 *   - Otherwise a note says it was not evaluated, and why.
 */

#include <stdbool.h>
#include <stddef.h>

#include "policy/base/err.h"
#include "policy/config/policy.h"
#include "policy/config/setdb.h"
#include "policy/doc/manifest.h"
#include "policy/verdict.h"

/* Is obj of a set kind? *kind (when not NULL) is set to it. */
bool netset_kind(const struct object *obj, enum setdb_kind *kind);

/*
 * Reads a set object into *out (zeroed first; where = "file:line" when obj has a file). Returns
 * 0, or -1 with e set and positioned (out then released) when the object is malformed or memory
 * runs out.
 */
int netset_read(const struct object *obj, struct setdb_entry *out, struct err *e);

/*
 * A set object read into *out as netset_collect() adds it: one that cannot be read has `error`
 * set (its addresses unknown). 0, or -1 with e set on out of memory or when obj is no set.
 */
int netset_entry(const struct object *obj, struct setdb_entry *out, struct err *e);
/*
 * Adds every set object of objs[0..n) to db. A set that cannot be read is added with `error`
 * set (its addresses unknown), so that what reaches it counts as possibly anything. 0, or -1 with
 * e set on out of memory.
 */
int netset_collect(struct setdb *db, const struct object *const *objs, size_t n, struct err *e);

/* The decider for the set kinds above (engine contract, verdict.h). */
int netset_decide(const struct policy *pol, const struct object *obj,
                  const struct request_ctx *ctx, struct verdict *v, struct err *e);

#endif
