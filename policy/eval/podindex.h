#ifndef EGRESSGUARD_PODINDEX_H
#define EGRESSGUARD_PODINDEX_H

/*
 * An index of network policies by the pod label their selectors pin (selector_eq_value): which of
 * a namespace's policies may apply to the pods a selector picks, found without asking each one.
 *
 * A policy whose models' pod selectors all pin label k to the same value v (`app == "a"`,
 * matchLabels {app: a}) selects no pod that a selector pinning k to another value selects, so it
 * cannot apply to those pods: composition (compose.h) leaves it out without evaluating it, and
 * judging n policies of one namespace in context costs about n log n instead of n². Policies
 * that pin nothing (or pin differently in different models: a Cilium policy's several specs)
 * are always candidates. Only namespaced policies are indexed; cluster-scoped ones are looked at
 * by every composition anyway.
 *
 * Immutable once built; it borrows the policies' strings and selectors (they must outlive it).
 */

#include <stddef.h>

#include "policy/eval/egress.h"
#include "policy/selector/selector.h"

struct podindex;

/* What the index needs of one policy: its namespace ("" when cluster-scoped) and models. */
struct podindex_policy {
    const char *ns;
    const struct egress_list *models; /* NULL when it could not be read */
};

/* The index of policies ps[0..n) (what they point to is borrowed). NULL on out of memory. */
struct podindex *podindex_build(const struct podindex_policy *ps, size_t n);
void podindex_free(struct podindex *ix); /* NULL is a no-op */

/*
 * Appends to out the positions (in ps) of the namespaced policies of ns that may apply to the
 * pods `pods` picks (NULL: every pod of ns), in no particular order. Returns how many they are;
 * with out NULL, only counts them.
 */
size_t podindex_candidates(const struct podindex *ix, const char *ns, const struct selector *pods,
                           size_t *out);

#endif
