#ifndef EGRESSGUARD_REACH_H
#define EGRESSGUARD_REACH_H

/*
 * Evaluation: do egress models open anything outside the policy file's allow-list?
 *
 * API summary (what each CNI decider and `check --effective` use):
 *
 *   judge_models(pol, obj, ctx, &models, v, e)
 *       The whole evaluation of the models read from ONE object, each model on its own: model
 *       notes become note findings; a model that does not govern egress, or governs no AI
 *       workload (scope_governs_ai), gets a note saying why it was not evaluated; otherwise
 *       its openings (opening.h) are checked (reach_check) and reported (judge_report).
 *       A decider is `X_read(obj, &models, e)`, then setres_apply() (set references against
 *       the sets known to the run), then this: judge_read().
 *
 *   For `check --effective` (several policies selecting one namespace's AI workloads):
 *       opening_list_build(models, n, &ops, e)  union of what they open, minus denies
 *                                               (Kubernetes/Cilium) or by order (Calico)
 *       reach_check(pol, "ml-a", &ops, &res, e)  what escapes the allow-list
 *       judge_report(pol, obj, &res, true, v)    one violation per escaping peer, messages
 *                                               prefixed with the model's kind and name
 *
 * Containment rules (reach_check). The policy file's always-denied CIDRs (pol->deny_cidrs) may
 * never be opened: an opening that reaches them (a CIDR peer meeting them; every destination,
 * an unresolvable peer and Cilium's world reach them all) is an escape of its own that names
 * the exact ranges, since nothing in one object shows another layer blocks them. They are then
 * taken out of the opening, and count as covered for "every address" questions. An opening's ports are split into atoms at the
 * boundaries of every allow entry's port set; on each atom the entries whose ports cover it are
 * the "covering" entries and:
 *  - CIDR: escape = opening − union of covering entries' CIDRs (exact).
 *  - FQDN: each pattern must be a subset of some covering entry's pattern, or the covering
 *    CIDRs must be every address of both families.
 *  - In-cluster: some covering entry's inCluster peer must contain it (sameNamespace matches a
 *    peer whose namespace is the subject namespace), or covering CIDRs are every address.
 *  - Every destination (PEER_ALL), unresolvable peers (PEER_UNKNOWN) and the `world` entity:
 *    inside only when the covering CIDRs are every address. Other entities (cluster, host,
 *    kube-apiserver, ...) are in-cluster: inside when a covering entry allows every pod of
 *    every namespace, or every address.
 * What is not proven inside is an escape: the check is conservative.
 *
 * Texts are capped (reach.c names the caps): a long one is cut with "...", and an escape or a
 * note is never dropped because of its length.
 */

#include <stdbool.h>
#include <stddef.h>

#include "policy/base/buf.h"
#include "policy/eval/egress.h"
#include "policy/base/err.h"
#include "policy/doc/manifest.h"
#include "policy/config/nsdb.h"
#include "policy/eval/opening.h"
#include "policy/config/policy.h"
#include "policy/verdict.h"

/* One escaping peer: everything it opens outside the allow-list, over all its openings. */
struct reach_escape {
    const struct egress_model *model; /* borrowed, from the openings */
    const struct egress_rule *rule;   /* borrowed */
    const struct egress_peer *peer;   /* borrowed: the model's peer (path, node, text) */
    struct portset *ports;            /* owned: every port on which something escapes */
    struct cidrset *cidrs;            /* owned: escaping addresses (CIDR peers), else NULL */
    bool denied;                      /* an escape into spec.deny (a peer may have both kinds) */
    char *what;    /* owned: "11.0.0.0/8, 12.0.0.0/6 on TCP/443; 11.0.0.0/8 on UDP/53" */
    char *nearest; /* owned: "model-registry (10.20.0.0/16, fd00:20::/64 on TCP/443)", or
                      "nothing" when no allow entry is near; for an escape into spec.deny, the
                      deny entries it meets: "cloud-metadata" */
    char *message; /* owned: "<peer text> opens <what>; allowed here: <nearest>", or
                      "<peer text> opens <what>, which the policy file always denies (spec.deny:
                      <nearest>): no network policy may open it" */
    bool cut;      /* `what` was cut at its cap (reach.c): it may not tell this escape from
                      another one, so it must not be compared */
};

/* Something worth telling that is not a violation (none is produced at present). */
struct reach_note {
    const struct egress_model *model;
    const struct egress_peer *peer;
    char *message; /* owned */
};

/*
 * Peers are described until REACH_MAX_ESCAPES escapes (and as many notes) are (a peer may add
 * two: one into spec.deny, one outside the allow-list); the peers beyond are only counted
 * (n_unlisted escape, n_notes_unlisted would have had a note), so that an object with 100,000
 * escaping ipBlocks costs memory for a hundred messages. n_unlisted > 0 implies n_escapes >=
 * REACH_MAX_ESCAPES: a result that escapes always lists something.
 */
#define REACH_MAX_ESCAPES 100

struct reach_result {
    struct reach_escape *escapes;
    size_t n_escapes;
    struct reach_note *notes;
    size_t n_notes;
    size_t n_unlisted, n_notes_unlisted;
};

void reach_result_init(struct reach_result *r);
void reach_result_release(struct reach_result *r);

/*
 * Checks every opening of ops against pol's allow-list for workloads of namespace subject_ns
 * (NULL for a cluster-wide subject: sameNamespace then matches nothing). Appends to out one
 * escape per escaping peer (openings sharing a `orig` peer are merged) and the notes, peers in
 * the order they first appear in ops. ops is not modified. The work counts against
 * ops->budget. Returns 0, or -1 with e set on out of memory (or an exceeded budget). Costs
 * O(n log n) in the openings, and nothing that grows with the allow-list (allowidx.h).
 */
int reach_check(const struct policy *pol, const char *subject_ns, const struct opening_list *ops,
                struct reach_result *out, struct err *e);

#endif
