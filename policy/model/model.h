#ifndef EGRESSGUARD_MODEL_H
#define EGRESSGUARD_MODEL_H

/*
 * The cluster model: what egressguard knows about a cluster's namespaces, network policies and
 * address sets (kinds.h), as normalized items (item.h). One type for both sources: `check` builds
 * it from its input files, `serve` from a LIST+WATCH of the API server, so a verdict cannot
 * depend on which one built it. Admission requests never write to it: a request is a claim.
 *
 * A `struct model` is an immutable snapshot, reference counted: readers take one and keep using
 * it, whatever the writer publishes meanwhile. A `struct model_writer` builds the next snapshot
 * copy-on-write (only the tables of kinds that changed are copied; items are shared) and
 * publishes it; one thread writes at a time (the caller serializes writers), any number read.
 * Taking the newest snapshot is the caller's pointer swap (see server/kube/cluster.h).
 *
 * Each kind's table is sorted by (namespace, name), so an object and the objects of one
 * namespace are binary searches. Each kind also has a state (enum model_state): unknown (not
 * listed yet, or its watch failed: nothing known, not even that there is nothing), complete (a
 * full list is in: absence is known), or not served (the API server does not serve the kind,
 * e.g. its CRD is not installed: there are none of them, which is complete knowledge too).
 */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/base/err.h"
#include "policy/config/nsdb.h"
#include "policy/doc/manifest.h"
#include "policy/model/item.h"
#include "policy/model/kinds.h"

struct model;

/* An empty snapshot with every kind unknown. NULL on out of memory. */
struct model *model_new_empty(void);
struct model *model_ref(struct model *m); /* returns m */
void model_unref(struct model *m);        /* NULL is a no-op */

/* One object, or NULL. ns is "" for cluster-scoped kinds. Borrowed: valid while m lives. */
const struct model_item *model_find(const struct model *m, enum model_kind k, const char *ns,
                                    const char *name);

/*
 * The objects of kind k in namespace ns ("" for cluster-scoped kinds), or all of them when ns is
 * NULL, sorted by (namespace, name): *items points into the snapshot (borrowed). Returns the count.
 */
size_t model_list(const struct model *m, enum model_kind k, const char *ns,
                  struct model_item *const **items);

size_t model_count(const struct model *m, enum model_kind k);

/* Has a full list of kind k been taken (so that an object missing from it does not exist)? */
bool model_complete(const struct model *m, enum model_kind k);

enum model_state {
    MODEL_STATE_UNKNOWN = 0, /* not listed yet (or no longer): may hold anything */
    MODEL_STATE_COMPLETE,    /* listed: what is not in it does not exist */
    MODEL_STATE_NOT_SERVED,  /* the API server does not serve the kind: none exist */
};

enum model_state model_state(const struct model *m, enum model_kind k);

/* Is everything of kind k known: complete, or not served (then there are none)? */
bool model_known(const struct model *m, enum model_kind k);

/*
 * The labels of namespace ns (borrowed JSON object, with kubernetes.io/metadata.name), or NULL
 * when the model does not have it.
 */
const json_t *model_ns_labels(const struct model *m, const char *ns);

/* A namespace-label view (nsdb.h) over m, for decisions (m borrowed; must outlive the view). */
void model_nsdb_view(struct nsdb *db, const struct model *m);

/* Increases with every published snapshot that changed something (0 for an empty one). */
uint64_t model_generation(const struct model *m);

struct model_writer;

/* A writer starting from an empty snapshot. NULL on out of memory. */
struct model_writer *model_writer_new(void);
void model_writer_free(struct model_writer *w); /* NULL is a no-op; published snapshots live on */

/* Adds or replaces (same kind, namespace and name) an item; takes the caller's reference, also
 * on failure. 0, or -1 on out of memory. */
int model_writer_put(struct model_writer *w, struct model_item *it);

/* Removes an object if present. 0, or -1 on out of memory. */
int model_writer_delete(struct model_writer *w, enum model_kind k, const char *ns,
                        const char *name);

/*
 * Replaces everything of kind k by items[0..n) (a relist), taking the references of the items
 * (also on failure; items may hold duplicates: the last one wins) and marks the kind complete.
 * 0, or -1 on out of memory.
 */
int model_writer_replace(struct model_writer *w, enum model_kind k, struct model_item **items,
                         size_t n);

/* Forgets every object of kind k and marks it unknown (a kind no longer served). 0 or -1. */
int model_writer_forget(struct model_writer *w, enum model_kind k);

/*
 * Forgets every object of kind k and marks it not served: discovery found that the API server
 * does not serve it, so none exist (until a later discovery round finds it served). 0 or -1.
 */
int model_writer_set_not_served(struct model_writer *w, enum model_kind k);

/* Marks kind k complete (a full list was applied through put). */
int model_writer_set_complete(struct model_writer *w, enum model_kind k);

/*
 * Adds every object of the input that is of a modelled kind (Namespaces with their labels,
 * policies, sets). An object the model cannot take (no name, a namespaced kind without
 * namespace) is skipped: the decision path reports it. Every kind is then complete, since the
 * input is all there is to know. 0, or -1 with e set on out of memory.
 */
int model_writer_put_objects(struct model_writer *w, const struct object *const *objs, size_t n,
                             struct err *e);

/*
 * The snapshot with every change so far: a new reference. When nothing changed since the last
 * publish, the same snapshot again. NULL on out of memory (the changes stay pending).
 */
struct model *model_writer_publish(struct model_writer *w);

#endif
