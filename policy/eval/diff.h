#ifndef EGRESSGUARD_DIFF_H
#define EGRESSGUARD_DIFF_H

/*
 * The egress a change of policies adds and removes (`check --diff BASE HEAD`, the pull-request
 * view): for every AI namespace named in either input, what its pods can reach in BASE and in
 * HEAD, composed as compose.h composes them, and the difference, destination by destination
 * (address ranges exactly, names and in-cluster peers as far as provable) and port by port.
 *
 * Whose egress: every pod the namespace may run, not only the workloads of the input. The pods
 * are split into classes by the pod selectors of the policies of either side (podclass.h), so
 * that a policy applies to a class as a whole or not at all, and each class is composed on both
 * sides. Added is what some pod of a class MAY reach in HEAD that not every pod of it SURELY
 * reached in BASE (compose_eval_bounds()); removed, what every pod surely reached in BASE and
 * none may reach in HEAD. A class whose two sides compose the same policies changes nothing,
 * and what an unchanged policy that may apply opens (or what pods nothing isolates on either
 * side reach) counts as reached before for the pods it concerns.
 * So a change never passes because another policy "may" restrict the same pods: only one that
 * provably applies to all of them counts. Where a class stays uncertain (namespace labels the
 * run does not know, a selector left unsplit) the change is still reported, as "may add".
 *
 * Each change names what causes it: an addition the HEAD policy peer that opens it (its object,
 * field path and position), a removal the BASE one, and the pods it is about when that is not
 * every pod ("for pods app == "trainer" (Deployment/trainer)"). With no policy, the change is
 * the "every destination" of pods no policy with egress default deny selects (a change of
 * isolation, or of a deny that applies to them). An addition that lies outside the allow-list
 * (reach_check) is flagged, with the message reach.h writes ("... opens X; allowed here: ...").
 */

#include <stdbool.h>
#include <stddef.h>

#include "policy/base/err.h"
#include "policy/config/policy.h"
#include "policy/eval/compose.h"

struct diff_change {
    const char *ns;                       /* borrowed from the inputs */
    bool added;                           /* else removed */
    const struct compose_policy *policy;  /* what opens it (HEAD for added, BASE for removed);
                                             NULL: the egress of pods nothing isolates */
    const struct egress_peer *peer;       /* the policy's peer (path, node); NULL with policy */
    char *what;                           /* "cidr 8.8.8.0/24 on TCP/443" (owned) */
    bool outside;                         /* added, and outside the allow-list */
    char *message;                        /* a sentence (owned) */
};

struct diff_result {
    struct diff_change *items;
    size_t n;
};

void diff_result_init(struct diff_result *r);
void diff_result_release(struct diff_result *r);

/*
 * Compares the egress of every AI namespace of `names` (n_names namespace names, borrowed)
 * between base and head into out (init'ed). AI-ness is judged with each side's namespace labels
 * (an AI namespace on either side counts). Everything is borrowed: the inputs must outlive out.
 * 0, or -1 with e set on out of memory.
 */
int diff_evaluate(const struct policy *pol, const struct compose_input *base,
                  const struct compose_input *head, const char *const *names, size_t n_names,
                  struct diff_result *out, struct err *e);

#endif
