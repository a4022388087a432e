#ifndef EGRESSGUARD_CILSEL_H
#define EGRESSGUARD_CILSEL_H

/*
 * Cilium endpoint selectors (and nodeSelectors) read as Kubernetes label selectors. Cilium label
 * keys carry a source prefix (`k8s:`, `any:`, `reserved:`, ...); the pod's namespace is the label
 * io.kubernetes.pod.namespace and a namespace label X is io.cilium.k8s.namespace.labels.X. A
 * selector is split into the part that selects namespaces (keys renamed to
 * kubernetes.io/metadata.name and X) and the part that selects pods, so that both compile with
 * selector_from_json(). Part of the Cilium reader (see cilium.h, cilrd.h).
 */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "policy/cni/cilrd.h"
#include "policy/selector/selector.h"

/* A Cilium endpoint selector split into the namespace part and the pod part. */
struct cilsel {
    json_t *ns_part, *pod_part; /* LabelSelector objects (new references) */
    bool has_ns_name;           /* a constraint on the namespace's name */
    bool has_ns_label;          /* a constraint on namespace labels */
    const char *fixed_ns;       /* matchLabels namespace name when that is the only ns part */
    const char *reserved;       /* `reserved:X` in matchLabels: the identity X */
    const char *other_src;      /* a key with another source prefix (cannot be modelled) */
    bool cluster_narrowed;      /* io.cilium.k8s.policy.cluster other than Exists (dropped) */
    size_t n_ns_exprs, n_ns_labels;
};

/*
 * Splits sel (the node at field path `path`) into s. The strings in s are borrowed from sel and
 * the parts share sel's nodes, so that a later selector error still points into the file.
 * Returns 0, or -1 with r->e set (positioned when sel is malformed). Either way s must be
 * released with cilsel_release().
 */
int cilsel_split(struct cilrd *r, const json_t *sel, const char *path, struct cilsel *s);

void cilsel_release(struct cilsel *s);

/*
 * Compiles one part of a split selector (selector_from_json). A new selector freed with
 * selector_free(); NULL with r->e set and positioned at the offending node inside the file when
 * known, else at orig (the selector as written).
 */
struct selector *cilsel_compile(struct cilrd *r, const json_t *part, const json_t *orig,
                                const char *path);

#endif
