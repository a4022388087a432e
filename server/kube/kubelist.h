#ifndef EGRESSGUARD_KUBELIST_H
#define EGRESSGUARD_KUBELIST_H

/*
 * A cluster model taken once, for commands that run and exit (`explain --kubeconfig`): one
 * discovery round (discovery.h), then a LIST, every page, of each modelled kind the API server
 * serves, into one snapshot (model.h) in which the listed kinds are complete and the others
 * unknown. The same items the server's watches build (wire.h), so a command sees the cluster as
 * `serve` does.
 */

#include "policy/base/err.h"
#include "policy/model/model.h"

/*
 * The snapshot of the cluster that kubeconfig names (NULL: the in-cluster service account): a
 * new reference, or NULL with e set (no credentials, an answer that is not a list, a LIST that
 * fails, out of memory).
 *
 * only_ns (may be NULL): the namespaced policy kinds (NetworkPolicy, CiliumNetworkPolicy, Calico
 * NetworkPolicy) are LISTed in that namespace alone, for a command about its pods (`explain`): a
 * namespaced policy selects pods of its own namespace only, so the others' cannot take part; the
 * snapshot then holds none of theirs and answers only for only_ns. Namespaces, cluster-scoped
 * policies and every address set (a GlobalNetworkPolicy reaches NetworkSets of any namespace)
 * are LISTed whole either way.
 */
struct model *kubelist_snapshot(const char *kubeconfig, const char *only_ns, struct err *e);

#endif
