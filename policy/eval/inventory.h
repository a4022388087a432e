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
    struct podindex *pods_index;     /* in.pods_index */
    size_t a_strings;
    /* inventory_begin: built object by object */
    bool streamed, whole;
    const char *focus;               /* inventory_focus: the one namespace composed, or NULL */
    const char *recent[8];           /* strings copied last (kinds, files, namespaces) */
    size_t next_recent;
    size_t a_policies, a_lists, a_workloads, a_namespaces;
    size_t *policy_seq, *workload_seq, *namespace_seq; /* the objects' numbers */
    size_t a_policy_seq, a_workload_seq, a_namespace_seq;
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

/*
 * The inventory built object by object, as `check` streams its input (mstream.h): begin, add
 * each object, end. The objects need not outlive the inventory: what it keeps is copied, and a
 * policy's models keep no JSON node of their object (composition needs none; findings about
 * another policy then name its first line) nor its notes (reported with the object itself).
 * `whole`: workloads and the namespaces objects name are kept too (effective.h needs them;
 * judging a policy in context needs only the policies).
 *
 * inventory_add: what obj, number seq of the input, tells. `kept`: the caller keeps obj's
 * document as long as inv, and a policy keeps it (positions, as inventory_build). 0, or -1 with
 * e set on out of memory.
 * inventory_drop_from: forgets what the objects numbered seq and above added (taken back).
 * inventory_end: resolves the policies' set references through sets and ns (borrowed; they
 * must outlive inv) and fills inv->in. 0, or -1 with e set on out of memory.
 * Release inv with inventory_release() in every case.
 */
int inventory_begin(struct inventory *inv, bool whole, struct err *e);
int inventory_add(struct inventory *inv, size_t seq, const struct object *obj, bool kept,
                  struct err *e);
void inventory_drop_from(struct inventory *inv, size_t seq);
int inventory_end(struct inventory *inv, const struct nsdb *ns, const struct setdb *sets,
                  struct err *e);

/*
 * After inventory_begin: only what can take part in a composition of pods of namespace ns
 * (borrowed; it must outlive inv) is kept, as `explain` of one namespace needs: policies and
 * workloads of other namespaces are skipped as they are added (a namespaced policy selects pods
 * of its own namespace only: every CNI's reader gives its models that namespace), and at
 * inventory_end the cluster-scoped policies none of whose models may apply to any pod of ns
 * (compose_applies() is TRI_FALSE for the whole namespace, hence for every subject in it) are
 * dropped before their set references are resolved. Compositions of subjects in ns are the same
 * as without the focus; of other namespaces, not.
 */
void inventory_focus(struct inventory *inv, const char *ns);

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
