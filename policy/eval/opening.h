#ifndef EGRESSGUARD_OPENING_H
#define EGRESSGUARD_OPENING_H

/*
 * Openings: what egress models let their subjects reach, as destination × ports pairs, after
 * the models' own denies are taken away. This is the first half of evaluation (reach.h does the
 * second: is every opening inside the allow-list?).
 *
 * Semantics, for a set of models that govern the same workloads:
 *  - Unordered models (Kubernetes NetworkPolicy, Cilium): what they open is the union of every
 *    ALLOW rule's peers × ports, minus every DENY rule of every unordered model (a Cilium deny
 *    wins over any allow). A PASS in an unordered model subtracts from its own allows only.
 *  - Ordered models (Calico, AdminNetworkPolicy): sorted by layer (admin, then namespace, then
 *    baseline), then `order` (models without one last, stable), then rule by rule: an ALLOW
 *    opens what no EARLIER deny of any ordered model, nor an earlier PASS of the same model, has
 *    taken. A deny of another Calico tier (model.tier) is not earlier: the tiers' order is not
 *    known, so it takes nothing. PASS ends the policy's say for what it matches (the next tier decides), so it does
 *    not subtract from later models; in a model with pass_opens (Calico: no later tier is known
 *    and the namespace profile allows all) it opens what it matches, like an ALLOW. An
 *    AdminNetworkPolicy PASS skips every remaining ANP rule: a later ANP's DENY that such a pass
 *    may match takes nothing from the namespace and baseline layers (it still takes from later
 *    ANP allows, which passed traffic never reaches). LOG does nothing.
 *  - In a model with cidrs_match_all (Calico nets, AdminNetworkPolicy networks match every
 *    endpoint by address), a deny of every address of both families takes away everything, and
 *    a deny of some addresses turns "every destination" into the other addresses.
 *  - Models that do not govern egress (governs_egress false) open nothing.
 *  - Unordered and ordered models in one call are evaluated separately and their openings joined.
 *
 * Denies are taken away grouped by port set: the CIDRs of every deny peer with the same ports
 * are subtracted as one union (the same result as one by one, in O(n log n) rather than
 * openings × denies).
 *
 * Subtraction splits by ports: (A, Pa) minus (D, Pd) = (A − D) × (Pa ∩ Pd) ∪ A × (Pa − Pd).
 * A − D is exact for CIDRs; for names and in-cluster peers only what is provable is removed
 * (a pattern that is a subset of a deny pattern, a cluster peer inside a deny's namespaces ×
 * pods); anything else keeps the allow whole, which over-approximates what is open — the safe
 * side for an allow-list check.
 */

#include <stdbool.h>
#include <stddef.h>

#include "policy/base/budget.h"
#include "policy/base/err.h"
#include "policy/eval/egress.h"

/*
 * One opening. Until a deny or pass takes something from it, an opening borrows its peer and
 * ports from the model (a policy with 100,000 ipBlocks costs no copies): read peer and ports,
 * never free them; the list knows which are its own.
 */
struct opening {
    struct egress_peer peer;          /* what remains open (cidrs/fqdns may be reduced) */
    struct portset *ports;            /* never empty */
    const struct egress_model *model; /* borrowed: where it comes from (for messages) */
    const struct egress_rule *rule;   /* borrowed */
    const struct egress_peer *orig;   /* borrowed: the peer as the model has it (path, text) */
    bool own_peer, own_ports;         /* false: borrowed from orig / the rule */
};

/*
 * budget (budget.h): set it after opening_list_init() to count the work of building the list
 * and of reach_check() on it against a decision's budget; NULL counts nothing. Once it is
 * exceeded, those calls fail (-1, e set to "out of memory" by the callee: the caller that owns
 * the budget says what really happened).
 */
struct opening_list {
    struct opening *items;
    size_t n, alloc;
    struct budget *budget;
};

void opening_list_init(struct opening_list *l);
void opening_list_release(struct opening_list *l); /* keeps budget */

/*
 * Appends to out what the n models open together (semantics above). Borrows the models: they
 * must outlive out. Returns 0, or -1 with e set on out of memory (out then holds a partial list
 * the caller still releases).
 */
int opening_list_build(const struct egress_model *const *models, size_t n,
                       struct opening_list *out, struct err *e);

/* The same for one model. */
int opening_list_build_one(const struct egress_model *m, struct opening_list *out,
                           struct err *e);

/*
 * Removes (D, Pd) from every opening of l, splitting by ports as described above. Openings that
 * become empty are dropped (order otherwise kept). Returns 0, or -1 on out of memory.
 */
int opening_list_subtract(struct opening_list *l, const struct egress_peer *d,
                          const struct portset *pd);

/*
 * The opposite approximation, for "what surely stays open" (a lower bound): removes from every
 * opening of l everything (D, Pd) MAY match. CIDRs from CIDRs are exact, and so, when ip (D
 * matches by address, model.cidrs_match_all), is "every destination" less D's addresses; any
 * other pair loses the whole opening on the ports in Pd. Returns 0, or -1 on out of memory.
 */
int opening_list_subtract_all(struct opening_list *l, const struct egress_peer *d,
                              const struct portset *pd, bool ip);

/* Appends a deep copy of o (its model, rule and orig stay borrowed). 0, or -1 on OOM. */
int opening_list_append(struct opening_list *l, const struct opening *o);

/*
 * Is every destination of cluster peer a also one of b (sound, not complete)? A fixed namespace
 * name is compared by name, or against a selector through kubernetes.io/metadata.name; NULL
 * selectors are all().
 */
bool opening_cluster_subset(const struct cluster_peer *a, const struct cluster_peer *b);

/*
 * Does the namespace selector (NULL = all) provably select the namespace `name`, knowing only
 * its name (kubernetes.io/metadata.name) and, when labels is not NULL, its complete labels?
 */
bool opening_ns_selects(const struct selector *s, const char *name, const json_t *labels);

#endif
