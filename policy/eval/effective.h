#ifndef EGRESSGUARD_EFFECTIVE_H
#define EGRESSGUARD_EFFECTIVE_H

/*
 * Effective egress: what the AI workloads of a namespace can reach once EVERY network policy of
 * the input that selects them is taken together (`egressguard check --effective`), as opposed
 * to decide_object(), which judges each policy object on its own.
 *
 * For each AI namespace N (policy_ns_is_ai with the labels `namespaces` knows) among those the
 * input names (objects' metadata.namespace, Namespace objects):
 *   1. The models that may govern N's pods: egress governed, not a host policy, the subject's
 *      namespace is N or its namespace selector may select N, the pod selector selects
 *      something. A model "covers" N when it provably selects every pod of N.
 *   2. Unless some covering model has default deny, some AI pods of N are not isolated for
 *      egress and may reach everything: one violation, path "".
 *   3. What the models open together (opening_list_build: Kubernetes/Cilium allows minus denies,
 *      Calico by order across policies, then rules). Denies, passes and logs of models that do
 *      not cover N are left out, since they apply only to some pods: what is open is
 *      over-approximated, never under.
 *   4. reach_check against the allow-list: one violation per escaping peer, naming the policy.
 * Findings use rule "egress.effective" and the policy's egress mode, and carry no position of
 * their own: a finding about one policy names it with its file and line in the message
 * ("CiliumNetworkPolicy ml-a/web (np.yaml:12): ..."). A namespace without
 * violations gets one note saying what was combined. Objects that cannot be read are not
 * counted (decide_object reports them) and get a note.
 *
 * Not covered: AI pods picked by aiWorkloads.pods selectors in namespaces that are not AI
 * namespaces (their pod labels are not in the input).
 */

#include <stddef.h>

#include "policy/base/err.h"
#include "policy/doc/manifest.h"
#include "policy/config/nsdb.h"
#include "policy/config/policy.h"
#include "policy/verdict.h"

struct effective_ns {
    char *ns;         /* the namespace (owned) */
    struct verdict v; /* its findings (owned); v.allowed false on an enforce-mode violation */
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
 * may be NULL. Returns 0, or -1 with e set on out of memory only. Findings point into the
 * objects (positions, paths) and are valid on their own once the objects are gone.
 */
int effective_evaluate(const struct policy *pol, const struct object *const *objs, size_t n,
                       const struct nsdb *ns, struct effective_result *out, struct err *e);

#endif
