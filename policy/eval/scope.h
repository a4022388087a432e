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
 * Does m govern (possibly) some AI workload? Namespaced models: the namespace is AI by name
 * glob, or by labels when `namespaces` knows them; otherwise the model's pod selector may
 * overlap one of the AI pod selectors. Cluster-wide models: the namespace selector may select
 * an AI namespace (overlap with an AI namespace selector, or with a name glob read as a
 * kubernetes.io/metadata.name selector) while the pod selector selects some pod, or the pod
 * selector may overlap an AI pod selector. Whatever cannot be decided counts as governing.
 * Host policies (Cilium nodeSelector) govern nodes, not pods: false.
 * When false and `why` is not NULL, a sentence saying why is appended to it.
 */
bool scope_governs_ai(const struct policy *pol, const struct egress_model *m,
                      const struct nsdb *namespaces, struct buf *why);

#endif
