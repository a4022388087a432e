#ifndef EGRESSGUARD_ITEM_H
#define EGRESSGUARD_ITEM_H

/*
 * One object of the cluster model, normalized once when it arrives (from the watch or from an
 * input file) into what decisions use: its identity, its labels, and by form (kinds.h)
 *   - Namespace: labels (with kubernetes.io/metadata.name, as the API server sets it from 1.21)
 *     and whether it is being deleted;
 *   - network policies: the egress models of the kind's reader (egress.h), or why it could not
 *     be read; a policy managed by egressguard also keeps its spec and annotations, for drift
 *     checks;
 *   - address sets (Calico NetworkSet/GlobalNetworkSet, CiliumCIDRGroup): their CIDRs (and
 *     domains), or why they could not be read;
 *   - kinds without a reader yet (AdminNetworkPolicy, BaselineAdminNetworkPolicy): the object.
 * The source JSON is not kept (except for the raw form): node pointers in the egress models are
 * cleared, so an item stands alone.
 *
 * Immutable once built and shared between model snapshots (model.h) and the threads reading
 * them; the reference count is atomic.
 */

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "policy/base/err.h"
#include "policy/eval/egress.h"
#include "policy/model/kinds.h"
#include "policy/sets/cidr.h"

struct model_item {
    atomic_uint refs;
    enum model_kind kind;
    char *ns; /* "" for cluster-scoped kinds */
    char *name;
    char *rv;            /* metadata.resourceVersion, "" when absent */
    json_t *labels;      /* an object, never modified; NULL for an object without labels (not for a
                            Namespace: it always has kubernetes.io/metadata.name) */
    bool terminating;    /* metadata.deletionTimestamp is set (Namespace: or phase Terminating) */
    bool managed;        /* labelled app.kubernetes.io/managed-by: egressguard */
    json_t *spec;        /* managed policies only: spec as stored; else NULL */
    json_t *annotations; /* managed policies only: metadata.annotations; else NULL */
    struct egress_list egress; /* MODEL_FORM_POLICY, when read */
    struct cidrset *nets;      /* MODEL_FORM_NETSET, when read */
    char **domains;            /* MODEL_FORM_NETSET: allowedEgressDomains */
    size_t n_domains;
    json_t *raw; /* MODEL_FORM_RAW: the object */
    char *error; /* policy or set that could not be read: why ("spec.nets[0]: ..."); the
                    model then cannot say what it opens or holds */
    char *text;  /* items from the API (model_item_wire): the object as decisions read it, see
                    there; NULL for items from input files and labels */
};

/*
 * Normalizes obj (borrowed; copied from, never modified) as an object of kind. obj must carry
 * metadata.name, and metadata.namespace exactly when the kind is namespaced; apiVersion and
 * kind are not checked here (list items omit them). A policy or set that its reader refuses
 * still makes an item, with `error` set. Returns a new item (one reference), or NULL with e set.
 */
struct model_item *model_item_new(enum model_kind kind, const json_t *obj, struct err *e);

/*
 * A Namespace known only by its labels (`check --namespace-labels`); labels may be NULL.
 * NULL on out of memory.
 */
struct model_item *model_item_namespace(const char *name, const json_t *labels);

/*
 * model_item_new() for an object the API server sent (wire.h), which also keeps `text`: the
 * object as decide_object() reads it, for the continuous audit (audit.h) to judge the model's
 * objects by the same code as admission. Compact JSON with sorted keys, with apiVersion (from
 * api_version when the object has none: list items omit it) and kind, without what no decision
 * reads and what makes a cluster's objects large: status, metadata.managedFields and the
 * kubectl last-applied-configuration annotation. A Pod keeps only what the pod rules read
 * (policy/rules/pod.c, podview.c, proxyenv.c, mesh.c): metadata, and of its spec hostNetwork,
 * dnsPolicy, dnsConfig and, per container, name, env, envFrom, resources and securityContext.
 * NULL with e set.
 */
struct model_item *model_item_wire(enum model_kind kind, const json_t *obj, const char *api_version,
                                   struct err *e);

struct model_item *model_item_ref(struct model_item *it); /* returns it */
void model_item_unref(struct model_item *it);             /* NULL is a no-op */

#endif
