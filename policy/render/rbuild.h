#ifndef EGRESSGUARD_RBUILD_H
#define EGRESSGUARD_RBUILD_H

/*
 * Internal to render: the state of one build and the pieces every target shares. Each target
 * (render_netpol.c, render_cilium.c, render_calico.c, render_anp.c) turns the policy file into its
 * CNI's objects with these; render.c picks the target. A new target is one more file here.
 */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "policy/base/err.h"
#include "policy/config/policy.h"
#include "policy/sets/cidr.h"

struct render_opts; /* render.h */

#define NAME_DENY "egressguard-default-deny-egress"
#define NAME_ALLOW "egressguard-allow-egress"
#define NAME_CLUSTER "egressguard-ai-egress"
#define NAME_SAME_NS "egressguard-same-namespace"
#define CILIUM_NS_PREFIX "io.cilium.k8s.namespace.labels."

/* State of one build: the policy, the notes, the first error. */
struct rbuild {
    const struct policy *pol;
    json_t *notes;
    struct err *e;
};

/*
 * The entry's prefixes with the always-denied ranges carved out: calls fn(cidr, except[]) for
 * each allowed prefix not wholly denied. except is a JSON array of the denied prefixes inside it.
 */
struct rbuild_carved {
    char cidr[CIDR_STRLEN];
    json_t *except; /* new reference */
};

/* Sets b->e to "out of memory"; -1. */
int rbuild_oom(struct rbuild *b);
/* Appends a note (what was not rendered and why) when notes are wanted; 0, or -1 on OOM. */
int rbuild_note(struct rbuild *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends v (stolen, even on failure) to arr; 0, or -1 on OOM or a NULL v. */
int rbuild_push(json_t *arr, json_t *v);
/* metadata with egressguard's managed-by label; rbuild_object wraps a spec (stolen). New refs. */
json_t *rbuild_meta(const struct rbuild *b, const char *name, const char *ns);
json_t *rbuild_object(const struct rbuild *b, const char *api, const char *kind, const char *name,
                      const char *ns, json_t *spec);
/* The mutation's enforcement labels as a matchLabels object, keys prefixed; new ref. */
json_t *rbuild_enforced_labels(const struct policy *pol, const char *prefix);
int rbuild_carve(struct rbuild *b, const struct cidrset *s, struct rbuild_carved **out, size_t *n);
/* Frees what rbuild_carve() returned. */
void rbuild_carved_free(struct rbuild_carved *c, size_t n);
/* Kubernetes-style ports (NetworkPolicy, ANP when anp) of an entry; *all when every port. */
json_t *rbuild_k8s_ports(struct rbuild *b, const struct dest_entry *d, bool anp, bool *all);

/* The targets: each appends its objects to `out`; 0, or -1 with b->e set. */
int render_networkpolicy(struct rbuild *b, const struct render_opts *o, json_t *out);
int render_cilium(struct rbuild *b, const struct render_opts *o, json_t *out);
int render_calico(struct rbuild *b, const struct render_opts *o, json_t *out);
int render_anp(struct rbuild *b, json_t *out);

#endif
