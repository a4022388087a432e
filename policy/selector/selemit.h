#ifndef EGRESSGUARD_SELEMIT_H
#define EGRESSGUARD_SELEMIT_H

/*
 * Selectors written back out as a Kubernetes LabelSelector ({matchLabels, matchExpressions}), for
 * the policies `render` builds. The policy file's selectors came from LabelSelectors, so they
 * always convert; a selector using Calico-only predicates (contains, starts with, ||) does not.
 */

#include <jansson.h>

#include "policy/base/err.h"
#include "policy/selector/selector.h"

/*
 * A new LabelSelector object ({} for all()); every key gets `prefix` in front (NULL: none), e.g.
 * "io.cilium.k8s.namespace.labels." for a namespace selector inside a Cilium endpoint selector.
 * NULL with e set when the selector has no LabelSelector form, or on out of memory.
 */
json_t *selemit_k8s(const struct selector *s, const char *prefix, struct err *e);

#endif
