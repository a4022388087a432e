#ifndef EGRESSGUARD_COMPOSE_H
#define EGRESSGUARD_COMPOSE_H

/*
 * Composition: what the network policies that apply to some workloads let them reach TOGETHER,
 * each CNI's policies by that CNI's own rules (opening.h does the arithmetic):
 *  - Kubernetes NetworkPolicy: a pod selected by some policy with Egress is isolated, and what it
 *    may reach is the union of what the applicable policies allow ("Network policies do not
 *    conflict; they are additive", kubernetes.io/docs/concepts/services-networking/
 *    network-policies/#the-two-sorts-of-pod-isolation).
 *  - Cilium: allows of every applicable policy minus the denies of every applicable policy; "Deny
 *    policies take precedence over allow policies, regardless of whether they are a Cilium Network
 *    Policy, a Clusterwide Cilium Network Policy or even a Kubernetes Network Policy"
 *    (docs.cilium.io/en/latest/security/policy/deny/); an endpoint is in default deny as soon as
 *    one applicable policy asks for it (CiliumNetworkPolicy Rule.enableDefaultDeny, api/v2).
 *  - Calico: policies by `order`, rules first-match-wins; "If a NetworkPolicy or
 *    GlobalNetworkPolicy in the Tier Allows or Denys the packet, then evaluation is done ... If
 *    the Tier applies to the endpoint, but takes no action on the packet the packet is dropped"
 *    (docs.tigera.io/calico/latest/reference/resources/tier). The Tier objects (their order) are
 *    not read: within one tier the policies' orders decide, across two tiers a deny takes
 *    nothing from an allow (opening.h).
 *  - AdminNetworkPolicy before every other policy, lowest priority first ("0" corresponds to the
 *    highest importance), a Pass skipping "any remaining ANP rules" to the NetworkPolicies; the
 *    BaselineAdminNetworkPolicy after them all (network-policy-api apis/v1alpha1/
 *    adminnetworkpolicy_types.go).
 *
 * Who is composed (the subject) is either ONE workload whose pod labels are known (exact: each
 * policy applies or not), or the pods a selector picks in a namespace, the whole namespace when
 * the selector is NULL (then a policy whose pod selector is narrower MAY apply). A policy that may
 * apply only in part (UNKNOWN) contributes its allows but not its denies or its default deny: what
 * is open is over-approximated, never under — unknowns never allow. Only a policy that provably
 * applies to every pod of the subject takes anything away.
 *
 * The input is a plain list of policies with their egress models, workloads and namespace labels:
 * `check` fills it from its input files (inventory.h), the server can fill it from the cluster
 * model. Nothing here reads files or knows where the objects came from.
 */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "policy/base/err.h"
#include "policy/base/tri.h"
#include "policy/config/nsdb.h"
#include "policy/config/policy.h"
#include "policy/doc/manifest.h"
#include "policy/eval/egress.h"
#include "policy/eval/opening.h"
#include "policy/eval/reach.h"
#include "policy/selector/selector.h"

/* One network-policy object. Everything borrowed. */
struct compose_policy {
    const char *kind;                 /* "CiliumNetworkPolicy", ... */
    const char *ns;                   /* "" for cluster-scoped kinds */
    const char *name;
    const char *file;                 /* where it was read; "" when not from a file */
    int line;                         /* 0 when unknown */
    const struct object *obj;         /* the object (positions); NULL when not from a file */
    const struct egress_list *models; /* NULL when it could not be read */
    const char *error;                /* why it could not be read, else NULL */
};

/* One workload (Pod, or a workload's pod template). Everything borrowed. */
struct compose_workload {
    const char *kind, *ns, *name; /* ns is never "": namespace-less objects are in "default" */
    const json_t *labels;         /* the pod's labels plus those the CNIs derive (object) */
    bool labels_known;            /* false: the labels could not be read, so they may be anything */
    const char *file;
    int line;
    const struct object *obj; /* NULL when not from a file */
};

struct podindex;

/* What composition knows. Everything borrowed. */
struct compose_input {
    const struct compose_policy *policies;
    size_t n_policies;
    const struct compose_workload *workloads;
    size_t n_workloads;
    /*
     * Optional index: the positions of `policies` sorted by namespace ("" first), equal
     * namespaces in input order. With it a composition looks only at the cluster-scoped
     * policies and those of the subject's namespace; NULL: every policy is looked at.
     */
    const size_t *by_ns;
    /*
     * Optional, with by_ns: the namespaced policies indexed by the pod labels they pin
     * (podindex.h), so that a composition over the pods a selector picks looks only at those
     * that may apply to them.
     */
    const struct podindex *pods_index;
    const struct nsdb *namespaces; /* labels of known namespaces; may be NULL */
    /*
     * Does `namespaces` hold every namespace there is (the cluster model), so that a cluster-wide
     * policy's namespaces can be enumerated? false for input files.
     */
    bool namespaces_complete;
};

/* Whose egress is composed. */
struct compose_subject {
    const char *ns;
    const struct compose_workload *workload; /* one workload: exact; or NULL and: */
    const struct selector *pods;             /* the pods this picks in ns; NULL = any pod of ns */
    /*
     * The model whose pods these are (a policy judged in context), or NULL: it applies to them
     * by definition, also when it governs only some of the pods its selector picks (some_pods).
     */
    const struct egress_model *self;
};

/* One model taking part. */
struct compose_part {
    const struct compose_policy *policy;
    const struct egress_model *model;
    enum tri applies; /* TRI_TRUE: to every pod of the subject; TRI_UNKNOWN: maybe to some */
};

struct compose_eval {
    struct compose_part *parts; /* the models that apply or may apply, in input order */
    size_t n_parts;
    const struct compose_part *isolating; /* applies for sure with egress default deny; NULL:
                                             the subject's egress is not restricted */
    struct opening_list ops;              /* what the parts open together */
    struct reach_result res;              /* ops against the allow-list */
    /* private */
    struct egress_model *views;           /* allow-only views of the UNKNOWN parts */
    const struct egress_model **ptrs;
    struct egress_model *unrestricted;    /* compose_eval_bounds(): every destination */
};

void compose_eval_init(struct compose_eval *ev);
void compose_eval_release(struct compose_eval *ev);

/*
 * Does model m apply to the subject? TRI_FALSE: to none of its pods; TRI_TRUE: to all of them;
 * TRI_UNKNOWN: maybe to some (unknown namespace labels, a pod selector narrower than the
 * subject's, a model that governs only some of the pods it selects). Models that do not govern
 * egress and host policies never apply.
 */
enum tri compose_applies(const struct compose_input *in, const struct egress_model *m,
                         const struct compose_subject *s);

/*
 * Composes every model of in->policies (plus `extra`, n_extra more policies, e.g. an object
 * under review that is not in the input; may be NULL) for subject s into out (init'ed), and
 * checks the result against pol's allow-list. Policies for which skip(policy, arg) is true are
 * left out (a policy being deleted or replaced); skip may be NULL. Borrows everything: in, the
 * policies and their models must outlive out. Returns 0, or -1 with e set on out of memory.
 */
int compose_eval_run(const struct policy *pol, const struct compose_input *in,
                     const struct compose_policy *extra, size_t n_extra,
                     bool (*skip)(const struct compose_policy *p, void *arg), void *arg,
                     const struct compose_subject *s, struct compose_eval *out, struct err *e);

/*
 * Bounds on what the subject's pods reach, for "was this open before?" questions (check --diff):
 *  - upper: what SOME pod may reach: ev->ops, plus every destination (less the denies of the
 *    parts that surely apply) when no part surely isolates them;
 *  - lower: what EVERY pod surely reaches: the openings of the parts that surely apply, plus
 *    every destination when no part may isolate them, less everything a deny of a part that
 *    may apply may take (opening_list_subtract_all).
 * Appended to upper and lower (init'ed by the caller). *exact: every part applies for sure, and
 * the two are the same. "Every destination" is an opening of a model of ev's own, for which
 * compose_part_of() is NULL. Openings borrow ev and its models. 0, or -1 with e set on OOM.
 */
int compose_eval_bounds(struct compose_eval *ev, struct opening_list *upper,
                        struct opening_list *lower, bool *exact, struct err *e);

/*
 * What a pod of the subject that no policy isolates surely reaches: every destination less the
 * denies of the parts that apply for sure and whatever a deny of a part that may apply may take
 * (the lower bound's "every destination", whether or not some part may isolate the pods).
 * Appended to out (init'ed); borrows ev. 0, or -1 with e set on out of memory.
 */
int compose_eval_unisolated(struct compose_eval *ev, struct opening_list *out, struct err *e);

/* The part an opening's or escape's model belongs to (views resolve to their part); or NULL. */
const struct compose_part *compose_part_of(const struct compose_eval *ev,
                                           const struct egress_model *m);

/*
 * Adds to a pod's labels (a JSON object) those Calico and Cilium derive from the pod: Calico's
 * projectcalico.org/namespace, /orchestrator (k8s), /serviceaccount; Cilium's
 * io.kubernetes.pod.namespace and io.cilium.k8s.policy.serviceaccount. 0, or -1 on OOM.
 */
int compose_derive_labels(json_t *labels, const char *ns, const char *service_account);

/*
 * compose_input's index (by_ns) of policies[0..n): the positions sorted by namespace, equal
 * namespaces in input order, into out (n entries). 0, or -1 on out of memory.
 */
int compose_index(const struct compose_policy *policies, size_t n, size_t *out);

/* "Kind name" of a policy, with " (file:line)" when it came from a file; into buf. */
void compose_policy_name(const struct compose_policy *p, char *buf, size_t size);

/* Are a and b the same object (kind, namespace, name)? */
bool compose_same_object(const struct compose_policy *a, const struct compose_policy *b);

#endif
