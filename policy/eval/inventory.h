#ifndef EGRESSGUARD_INVENTORY_H
#define EGRESSGUARD_INVENTORY_H

/*
 * The inventory: what a set of objects (the files `check` and `explain` read) tells composition
 * (compose.h): every network-policy object read into its egress models, every workload with its
 * pod labels, and the namespaces the objects name. It is the offline source of a compose_input;
 * the cluster model is the online one.
 *
 * Namespace-less objects of namespaced kinds are in "default", as the API server (and kubectl)
 * put them; cluster-scoped kinds (Namespace, CiliumClusterwideNetworkPolicy, GlobalNetworkPolicy,
 * ...) name no namespace. Workloads are the Pods and the pod templates of Deployment,
 * StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job and CronJob; their labels get
 * what Calico and Cilium derive from the pod (namespace, service account, orchestrator), so that
 * selectors on those are answered too.
 */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "policy/base/err.h"
#include "policy/config/nsdb.h"
#include "policy/config/setdb.h"
#include "policy/doc/manifest.h"
#include "policy/eval/compose.h"
#include "policy/eval/egress.h"

struct inventory {
    struct compose_input in;         /* points into the arrays below */
    struct compose_policy *policies; /* in input order */
    size_t n_policies;
    struct compose_workload *workloads; /* in input order */
    size_t n_workloads;
    char **namespaces;               /* named by the objects: sorted, unique */
    size_t n_namespaces;
    size_t *by_ns;                   /* in.by_ns: policies by namespace */
    /* private: what the arrays point to */
    struct egress_list *lists;
    char **strings;
    size_t n_strings;
    json_t *labels;                  /* array of the workloads' label objects */
    struct setdb *own_sets;          /* the input's sets, when the caller gave none */
};

/*
 * Reads the n objects (borrowed: they must outlive inv; every kind may be present, others are
 * skipped) into inv. `ns` (borrowed, may be NULL) gives namespace labels, `sets` (borrowed) the
 * address sets that policies' set references resolve through; NULL: the sets among objs, taken
 * as all there are. A policy its reader
 * refuses is kept with `error` set and no models. Returns 0, or -1 with e set on out of memory;
 * release inv either way.
 */
int inventory_build(struct inventory *inv, const struct object *const *objs, size_t n,
                    const struct nsdb *ns, const struct setdb *sets, struct err *e);
void inventory_release(struct inventory *inv);

/* Is obj a network-policy kind with an egress reader? */
bool inventory_is_policy(const struct object *obj);

/*
 * Reads a network-policy object into one compose_policy (kind as its models name it, namespace,
 * name, file, line), its set references resolved through sets and ns (both may be NULL), with
 * its models in `models` (init'ed by the caller; owned by the caller).
 * `error_buf` receives the reader's error when it refuses the object (then p->error points at
 * it and p->models is NULL). Returns 0, or -1 with e set on out of memory or for a kind that is
 * not a network policy.
 */
int inventory_read_policy(const struct object *obj, const struct setdb *sets,
                          const struct nsdb *ns, struct egress_list *models,
                          struct compose_policy *p, char *error_buf, size_t error_size,
                          struct err *e);

/* The namespace an object is in: "" for cluster-scoped kinds, "default" when it names none. */
const char *inventory_object_ns(const struct object *obj);

/* Is the object a workload (a Pod or a kind with a pod template that runs)? */
bool inventory_is_workload(const struct object *obj);

/* Has the inventory a workload in namespace ns? */
bool inventory_has_workloads(const struct inventory *inv, const char *ns);

#endif
