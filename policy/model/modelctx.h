#ifndef EGRESSGUARD_MODELCTX_H
#define EGRESSGUARD_MODELCTX_H

/*
 * The decision context of one cluster-model snapshot: what a request_ctx (verdict.h) needs so
 * that the server judges a network-policy or address-set change among the cluster's other
 * objects exactly as `check` judges one among its input files (inventory.h is the offline
 * source of the same compose_input):
 *   - `sets`: the snapshot's NetworkSets, GlobalNetworkSets, HostEndpoints and CiliumCIDRGroups
 *     (setdb.h), each kind complete when the snapshot knows all of it (model_known());
 *   - `policies`: the egress models of every policy of the snapshot as read, set references
 *     unresolved (for set kinds, judged by what selects them: netset.h);
 *   - `in`: a compose_input over the snapshot's policies and namespaces (context.h), whose
 *     models have their set references resolved against `sets` (setres.h), as `check`'s
 *     inventory resolves every policy's: what a selector reaches among a kind not listed yet
 *     stays "possibly anything" and says which kind.
 * Built once per snapshot (modelctx_cache_get), never per request, and never from a request:
 * a request is a claim.
 *
 * Immutable once built; reference counted (atomic), so request threads share one. It holds a
 * reference to its snapshot: the models and labels it points at live as long as it does.
 */

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "policy/base/err.h"
#include "policy/config/nsdb.h"
#include "policy/config/setdb.h"
#include "policy/eval/compose.h"
#include "policy/eval/egress.h"
#include "policy/model/model.h"

struct modelctx {
    atomic_uint refs;
    struct model *snap;          /* one reference */
    struct nsdb ns;              /* a view over snap; complete once namespaces are listed */
    struct setdb *sets;          /* owned */
    struct egress_list policies; /* shallow: models borrowed from snap's items; only the array
                                    is owned (never egress_list_release it) */
    struct compose_input in;     /* points into the arrays below and into snap */
    struct compose_policy *cps;  /* models: the item's when it refers to no set, else the
                                    resolved copy in `resolved` (snap's items are shared and
                                    immutable, so they are never resolved in place) */
    struct egress_list *resolved; /* owned, one per cps entry; empty when not needed */
    size_t n_cps;
    size_t *by_ns;
};

/* The context of snapshot m (a reference is taken). NULL with e set on out of memory. */
struct modelctx *modelctx_build(struct model *m, struct err *e);
struct modelctx *modelctx_ref(struct modelctx *c); /* returns c */
void modelctx_unref(struct modelctx *c);           /* NULL is a no-op */

/*
 * A one-entry cache: the context of the newest snapshot asked for. Safe to call from many
 * threads (a mutex held for a pointer compare and a reference count; the build happens outside
 * it, so two threads may build the same context once each and one wins).
 */
struct modelctx_cache;

struct modelctx_cache *modelctx_cache_new(void); /* NULL on out of memory */
void modelctx_cache_free(struct modelctx_cache *c); /* NULL is a no-op */

/*
 * The context of snapshot m: a new reference, or NULL with e set on out of memory. The cached one
 * also serves a snapshot that differs from its own only in Pods (model_same_context()): its
 * `snap` is then that older snapshot.
 */
struct modelctx *modelctx_cache_get(struct modelctx_cache *c, struct model *m, struct err *e);

#endif
