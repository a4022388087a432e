#ifndef EGRESSGUARD_SCOPE_H
#define EGRESSGUARD_SCOPE_H

/*
 * Scope: which workloads a network policy can affect. A policy that governs no AI workload is
 * not judged against the allow-list (judge.h says so in a note); one that may govern some is.
 */

#include <stdbool.h>

#include "policy/base/buf.h"
#include "policy/config/nsdb.h"
#include "policy/config/policy.h"
#include "policy/eval/egress.h"

/*
 * Do AI workloads live only in AI namespaces? True while the pod rule aiWorkloadsOutsideAI
 * (rules.pods) is on and enforced; in warn or audit mode it admits AI pods anywhere.
 */
bool scope_ai_confined(const struct policy *pol);

/*
 * Does m govern (possibly) some AI workload? Whatever cannot be decided counts as governing.
 *  - Host policies (Cilium nodeSelector) govern nodes, not pods: false. A pod selector that
 *    matches nothing: false.
 *  - The namespaces the subject reaches: a namespaced model's own; for a cluster-wide one, the
 *    names its namespace selector pins (kubernetes.io/metadata.name, also Cilium's
 *    io.kubernetes.pod.namespace as cilsel.h reads it, and Calico's projectcalico.org/name for
 *    Calico models), each decided by its name and the labels `namespaces` knows; without pinned
 *    names, whether the selector may overlap an AI namespace selector or name glob. A
 *    namespace whose labels are unknown may be an AI namespace by aiWorkloads.namespaces.
 *    selectors (unless those decide on the name alone): that governs.
 *  - When no reached namespace may be AI: false while scope_ai_confined() (AI workloads cannot
 *    be there) unless an exemption may let pods into those namespaces; otherwise, as before the
 *    rule existed, true when the pod selector may overlap an AI pod selector.
 * When `why` is not NULL a sentence saying why is appended to it (either answer).
 */
bool scope_governs_ai(const struct policy *pol, const struct egress_model *m,
                      const struct nsdb *namespaces, struct buf *why);

/*
 * The same, with namespace not_ai (may be NULL) taken to be no AI namespace although its labels
 * are unknown: nsunknown.h's reading "not an AI namespace" (request_ctx.ns_assumed_not_ai).
 */
bool scope_governs_ai_assuming(const struct policy *pol, const struct egress_model *m,
                               const struct nsdb *namespaces, const char *not_ai,
                               struct buf *why);

#endif
