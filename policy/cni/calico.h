#ifndef EGRESSGUARD_CALICO_H
#define EGRESSGUARD_CALICO_H

/*
 * Calico NetworkPolicy and GlobalNetworkPolicy (projectcalico.org/v3 and the
 * crd.projectcalico.org/v1 storage form) → one egress model each.
 *
 * Calico's semantics are kept:
 *   - the subject is spec.selector (Calico selector language, selector_parse(); empty or missing
 *     = all()); a NetworkPolicy governs endpoints of its own namespace, a GlobalNetworkPolicy
 *     those of the namespaces spec.namespaceSelector picks (every namespace when missing);
 *   - `types` defaults as Calico documents it: Egress is included iff egress rules are present
 *     (no rules at all → Ingress only). A policy whose types include Egress governs the
 *     subjects' egress with end-of-tier default deny;
 *   - egress rules are first-match-wins (model.ordered) with actions Allow, Deny, Log, Pass;
 *     `order` goes to has_order/order (missing order = applied last);
 *   - Pass hands what it matches to the next tier, and after the last one the endpoint's
 *     profile decides, which for a namespace allows all egress (Calico tier docs; libcalico-go
 *     NamespaceToProfile). No later tier is known here, so a Pass opens what it matches
 *     (model.pass_opens), read wide like an Allow, with a note;
 *   - nets match packets by address, whatever endpoint holds it (model.cidrs_match_all): a Deny
 *     of every address leaves nothing for the rules after it;
 *   - destination fields are AND-ed. For Allow/Log/Pass rules the reader keeps one part when the
 *     intersection cannot be represented (selector before domains before nets: each alone
 *     over-approximates); for Deny rules it keeps the rule only when it is exact, else drops it
 *     (under-approximation). Every such choice is a note (caldst.h);
 *   - selector fields name endpoints as libcalico-go's getEndpointSelector() does: pods (a
 *     cluster peer) and the NetworkSets, GlobalNetworkSets and HostEndpoints with those labels
 *     (a set reference, resolved against the sets the run knows by setres.h).
 *     projectcalico.org/name in a namespaceSelector is the namespace's name;
 *     projectcalico.org/namespace in an endpoint selector is the endpoint's namespace; global()
 *     in a namespaceSelector selects only endpoints outside namespaces.
 * Errors (bad selector, bad CIDR, ports without a port protocol, unknown action, ...) are
 * positioned; a selector error points at the column inside the selector string (counted from
 * where the YAML scalar starts, so one column early for a quoted selector: doc.h does not say
 * whether a scalar was quoted).
 */

#include "policy/eval/egress.h"
#include "policy/base/err.h"
#include "policy/doc/manifest.h"
#include "policy/config/policy.h"
#include "policy/verdict.h"

/* Is the object a Calico NetworkPolicy or GlobalNetworkPolicy? */
bool calico_is_policy(const struct object *obj);

/* Appends the object's model to out. 0, or -1 with e set and positioned. */
int calico_read(const struct object *obj, struct egress_list *out, struct err *e);

/* The decider for both kinds (engine contract, see verdict.h). */
int calico_decide(const struct policy *pol, const struct object *obj,
                  const struct request_ctx *ctx, struct verdict *v, struct err *e);

#endif
