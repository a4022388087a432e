#ifndef EGRESSGUARD_PODCLASS_H
#define EGRESSGUARD_PODCLASS_H

/*
 * Pod classes: the pods of one namespace split by the pod selectors of the network policies that
 * may apply to some of its pods and not to others, so that each of those policies applies to a
 * class as a whole or to none of it. Composing a class (compose_subject.pods = the class) then
 * knows, for every policy split on, whether it applies: a question about "any pod of the
 * namespace", where a narrower policy only MAY apply, becomes one exact question per class.
 *
 * A class is a selector: a conjunction of the split selectors and their negations (NULL: every
 * pod, when nothing splits). Classes that provably select nothing are dropped; the others may
 * still be empty in practice, which only makes a question more cautious. What stays UNKNOWN in
 * a class comes from what the run does not know (namespace labels, a selector the reasoning of
 * selsubset.h cannot decide, a policy that governs only some of its pods) or from a selector
 * left unsplit because the classes would pass the cap; `complete` says whether that happened.
 */

#include <stdbool.h>
#include <stddef.h>

#include "policy/base/buf.h"
#include "policy/base/err.h"
#include "policy/config/policy.h"
#include "policy/eval/compose.h"
#include "policy/selector/selector.h"

struct podclass_list {
    struct selector **sels; /* owned; one NULL entry means every pod */
    size_t n;
    bool complete;          /* every selector that splits was split on */
};

void podclass_list_init(struct podclass_list *l);
void podclass_list_release(struct podclass_list *l);

/*
 * The classes of namespace ns over the policies of the n inputs (e.g. BASE and HEAD of a diff),
 * at most max of them (max >= 1), into out (init'ed). Returns 0, or -1 with e set on out of
 * memory.
 */
int podclass_split(const struct policy *pol, const struct compose_input *const *ins, size_t n,
                   const char *ns, size_t max, struct podclass_list *out, struct err *e);

/* Appends "every pod" or "pods <selector>" (selector_format). 0, or -1 when out failed. */
int podclass_describe(const struct selector *c, struct buf *out);

#endif
