#ifndef EGRESSGUARD_NSUNKNOWN_H
#define EGRESSGUARD_NSUNKNOWN_H

/*
 * Deciding when the labels of an object's namespace are unknown. A namespace is an AI namespace
 * by its name (aiWorkloads.namespaces.names) or by its labels (.selectors); when the run does
 * not know the labels (no Namespace in `check`'s input, no answer from the API server), they may
 * be anything. So the object is judged both ways, under a label set that makes the namespace an
 * AI namespace and under one that does not (selwitness.h), and
 *   - if both readings admit it, it is admitted (with the non-AI reading's findings and a note);
 *   - if one reading denies it, it is denied, with one violation (rule namespace.labelsUnknown)
 *     that says the labels are unknown, why, and what that reading found — fail closed;
 *   - if both deny it, it is denied with the non-AI reading's findings (labels do not matter).
 * With ctx->ns_unknown_allow the caller opted out: the non-AI reading decides, with a note.
 * Nothing of this happens when the labels cannot matter (no namespace selectors in the policy,
 * a namespace that is AI by name, a cluster-scoped object, ctx->namespaces NULL).
 */

#include "policy/base/err.h"
#include "policy/config/policy.h"
#include "policy/doc/manifest.h"
#include "policy/verdict.h"

typedef int (*nsunknown_decider)(const struct policy *pol, const struct object *obj,
                                 const struct request_ctx *ctx, struct verdict *v, struct err *e);

/* Runs decide (a kind's decider) on obj as summarized above, adding to v. decide's contract. */
int nsunknown_decide(const struct policy *pol, const struct object *obj,
                     const struct request_ctx *ctx, nsunknown_decider decide, struct verdict *v,
                     struct err *e);

#endif
