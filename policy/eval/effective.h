#ifndef EGRESSGUARD_EFFECTIVE_H
#define EGRESSGUARD_EFFECTIVE_H

/*
 * Effective egress: what the AI workloads of a namespace can reach once EVERY network policy of
 * the input that applies to them is taken together (`egressguard check --effective`), as opposed
 * to decide_object(), which judges each policy object in the context of the others.
 *
 * For each AI namespace N (policy_ns_is_ai with the labels `namespaces` knows) among those the
 * input names (objects' metadata.namespace, "default" for namespace-less objects of namespaced
 * kinds, Namespace objects), composition (compose.h) runs:
 *   - per workload when the input holds pods or workload templates of N: each workload's labels
 *     decide which policies select it (label and namespace selectors evaluated against the
 *     objects known), whether it is isolated for egress, and what it reaches; N's result is the
 *     union over its workloads and each finding names the workloads that reach the escaping
 *     range;
 *   - otherwise for "any pod of N": a policy with a narrower pod selector MAY apply, so it adds
 *     its allows but neither its denies nor its default deny, and the messages say "may".
 * Findings (rule "egress.effective", the policy's egress mode, no position of their own: a
 * finding about a policy names its file and line in the message, "CiliumNetworkPolicy ml-a/web
 * (np.yaml:12): ..."):
 *   - workloads no policy with egress default deny selects: their egress is not restricted;
 *   - one violation per escaping peer (and message), naming the workloads that reach it;
 *   - a note per peer that opens only always-denied addresses, and one when all stays inside.
 * Objects that cannot be read are not counted (decide_object reports them) and get a note.
 *
 * Not covered: AI pods picked by aiWorkloads.pods selectors in namespaces that are not AI
 * namespaces (the pod rules refuse accelerator pods there).
 */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "policy/base/err.h"
#include "policy/config/nsdb.h"
#include "policy/config/setdb.h"
#include "policy/config/policy.h"
#include "policy/doc/manifest.h"
#include "policy/eval/compose.h"
#include "policy/verdict.h"

struct effective_ns {
    char *ns;         /* the namespace (owned) */
    struct verdict v; /* its findings (owned); v.allowed false on an enforce-mode violation */
    /*
     * The computation behind them (owned): {"namespace": N, "basis": "workloads" | "namespace",
     * "subjects": [explain_subject() of each workload, or of the namespace]}.
     */
    json_t *detail;
};

struct effective_result {
    struct effective_ns *items; /* sorted by namespace name */
    size_t n;
};

void effective_result_init(struct effective_result *r);
void effective_result_release(struct effective_result *r);

/*
 * Evaluates the effective egress of every AI namespace named by the n objects (borrowed; every
 * kind may be present, non-policy kinds are skipped) into out (init'ed by the caller). `ns`
 * and `sets` (the address sets known to the run, setres.h) may be NULL. Returns 0, or -1 with
 * e set on out of memory only. Findings point into the objects (positions, paths) and are valid
 * on their own once the objects are gone.
 */
int effective_evaluate(const struct policy *pol, const struct object *const *objs, size_t n,
                       const struct nsdb *ns, const struct setdb *sets,
                       struct effective_result *out, struct err *e);

/*
 * One namespace over any compose_input (files or the cluster model): adds the findings to out->v
 * (init'ed by the caller) and sets out->detail. per_workload: use the input's workloads of ns
 * when it has some. 0, or -1 with e set on out of memory.
 */
int effective_namespace(const struct policy *pol, const struct compose_input *in, const char *ns,
                        bool per_workload, struct effective_ns *out, struct err *e);

#endif
