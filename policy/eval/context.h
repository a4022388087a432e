#ifndef EGRESSGUARD_CONTEXT_H
#define EGRESSGUARD_CONTEXT_H

/*
 * Judging a network-policy change in the context of the other policies known to the decision
 * (the files `check` reads, or the cluster model): policies compose (compose.h), so a correct
 * layered design — an allow to the world on TCP/443 in one policy, a deny of everything outside
 * the allow-list in another — must be admitted in either order, and deleting the deny refused.
 *
 * CREATE and UPDATE (context_judge_model): what one model of the new object opens is composed
 * with every other policy that applies to the same pods (the model's own namespace and pod
 * selector; a policy applying to only some of them adds nothing that takes away). The model is
 * admitted when what IT still opens outside the allow-list in that composition is nothing; a
 * deny elsewhere or a lower Calico order can only take away from what the object opens alone,
 * so this never refuses what the object alone would pass. Judged this way: namespaced models in
 * an AI namespace. Cluster-wide models are judged alone (the namespaces they reach cannot be
 * enumerated offline).
 *
 * DELETE and UPDATE (context_judge_removal): the old object's pods before and after the change;
 * refused when the change widens their egress beyond the allow-list: pods that lose their egress
 * default deny, or an escape of another policy that was not there (or was smaller) before. The
 * message names the policy whose loss opens what.
 */

#include <stdbool.h>

#include "policy/base/err.h"
#include "policy/config/policy.h"
#include "policy/doc/manifest.h"
#include "policy/eval/compose.h"
#include "policy/eval/egress.h"
#include "policy/eval/reach.h"
#include "policy/verdict.h"

/* Can model m (of a policy being created or updated) be judged in context by in? */
bool context_applies(const struct policy *pol, const struct compose_input *in,
                     const struct egress_model *m);

/*
 * The composition for model m of `self` (the object under review, with its models; it replaces
 * any policy of `in` with the same identity): into out (init'ed by the caller), subject m's own
 * pods. 0, or -1 with e set on out of memory.
 */
int context_compose(const struct policy *pol, const struct compose_input *in,
                    const struct compose_policy *self, const struct egress_model *m,
                    struct compose_eval *out, struct err *e);

/*
 * Adds to v, for model m of self judged in context: the escapes that remain m's own (rule
 * "egress", violations, positioned in obj), and a note naming the other policies when they take
 * away something that m opens outside the allow-list alone (`alone`: m's own escapes, may be
 * NULL). why (may be "") is appended to violations as " (AI workloads: why)". 0, or -1 on OOM.
 */
int context_judge_model(const struct policy *pol, const struct object *obj,
                        const struct compose_input *in, const struct compose_policy *self,
                        const struct egress_model *m, const struct reach_result *alone,
                        const char *why, struct verdict *v, struct err *e);

/*
 * A DELETE (repl NULL) or UPDATE (repl: the new object) of `old`: adds a violation to v (rule
 * "egress", positioned at obj, the object of the request) for every widening of the egress of
 * old's pods in AI namespaces, naming old. 0, or -1 with e set on out of memory.
 */
int context_judge_removal(const struct policy *pol, const struct object *obj,
                          const struct compose_input *in, const struct compose_policy *old,
                          const struct compose_policy *repl, struct verdict *v, struct err *e);

#endif
