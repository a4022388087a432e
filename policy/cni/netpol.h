#ifndef EGRESSGUARD_NETPOL_H
#define EGRESSGUARD_NETPOL_H

/*
 * Kubernetes NetworkPolicy (networking.k8s.io/v1 and the legacy extensions/v1beta1) as an
 * egress model, with the API server's defaulting and validation:
 *
 *  - policyTypes: when missing or empty, Ingress, plus Egress when spec.egress has at least one
 *    rule (the API server's defaulting looks at len(spec.egress), so `egress: []` alone does not
 *    make an egress policy). Without Egress the model does not govern egress: it opens and
 *    restricts nothing. With Egress the subjects' egress is default-deny except what the rules
 *    allow; no rules (or `egress: []`) opens nothing.
 *  - A rule's missing or empty `to` is every destination (PEER_ALL); missing or empty `ports`
 *    is every port of every protocol.
 *  - ipBlock: cidr minus every except (each except must lie inside cidr, as the API server
 *    checks); a cidr with host bits set is normalized with a note. ipBlock may not be combined
 *    with a selector in one peer; a peer must name something.
 *  - namespaceSelector and podSelector in ONE peer: pods matching podSelector in namespaces
 *    matching namespaceSelector (AND). podSelector alone: pods of the policy's own namespace.
 *    namespaceSelector alone: every pod of the selected namespaces (`{}` = every namespace).
 *  - ports: protocol TCP (default), UDP or SCTP (case as the API spells it); port a number
 *    1..65535 or a named port (IANA service name), missing = every port of the protocol;
 *    endPort needs a numeric port and endPort >= port. A named port cannot be resolved
 *    offline: it becomes every port of its protocol, with a note.
 *  - Subject: the policy's namespace (metadata.namespace; "default" with a note when missing)
 *    × spec.podSelector (`{}` = every pod; missing is an error in v1 and every pod in
 *    extensions/v1beta1).
 * Unknown fields are ignored, as the API server's non-strict decoding does.
 */

#include "policy/eval/egress.h"
#include "policy/base/err.h"
#include "policy/doc/manifest.h"
#include "policy/config/policy.h"
#include "policy/verdict.h"

/*
 * Appends obj's model to out. Returns 0, or -1 with e set and positioned (doc_err_at) when a
 * field is malformed; the message starts with the field path
 * (`spec.egress[0].ports[1].endPort: must be greater than or equal to port (8080)`). On error
 * out may hold a partial model, which the caller releases with the list.
 */
int netpol_read(const struct object *obj, struct egress_list *out, struct err *e);

/* The decider for NetworkPolicy: netpol_read() then judge_models(). See verdict.h. */
int netpol_decide(const struct policy *pol, const struct object *obj,
                  const struct request_ctx *ctx, struct verdict *v, struct err *e);

#endif
