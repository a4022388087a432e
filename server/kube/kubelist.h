#ifndef EGRESSGUARD_KUBELIST_H
#define EGRESSGUARD_KUBELIST_H

/*
 * A cluster model taken once, for commands that run and exit (`explain --kubeconfig`): one
 * discovery round (discovery.h), then a LIST, every page (lister.h), of each modelled kind the
 * API server serves but Pods (only the server's audit reads them), into one snapshot (model.h) in which the listed kinds are complete and the others
 * unknown. The same items the server's watches build (wire.h), so a command sees the cluster as
 * `serve` does.
 */

#include "policy/base/err.h"
#include "policy/model/model.h"

/*
 * The snapshot of the cluster that kubeconfig names (NULL: the in-cluster service account): a
 * new reference, or NULL with e set (no credentials, an answer that is not a list, a LIST that
 * fails, out of memory).
 */
struct model *kubelist_snapshot(const char *kubeconfig, struct err *e);

#endif
