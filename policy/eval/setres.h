#ifndef EGRESSGUARD_SETRES_H
#define EGRESSGUARD_SETRES_H

/*
 * Set references (egress.h: struct egress_setref) resolved against the sets a run knows
 * (setdb.h). Readers leave a reference as a PEER_UNKNOWN peer; setres_apply() replaces each one
 * in an opening rule by
 *   - one PEER_CIDR peer per known set it reaches, holding the set's addresses, and one
 *     PEER_FQDN peer for a set's allowedEgressDomains (texts name the set, paths stay the
 *     reference's, so findings point at the selector and say which set escapes);
 *   - a PEER_UNKNOWN peer for a reached set whose addresses could not be read;
 *   - a PEER_UNKNOWN peer for what the run does not know: a named CIDR group it has not seen
 *     (it may be created at any time, with any address), and, unless the store knows every
 *     set of each kind the selector may reach (setdb_kind_complete(): NetworkSets for a
 *     namespaced selector, GlobalNetworkSets and HostEndpoints for global ones, CIDR groups),
 *     the sets beyond the known ones that a selector may reach, naming the kinds not known
 *     when the store says why;
 * and drops it when nothing remains (a complete store whose sets the selector does not reach).
 * In a rule that takes traffic away (a deny, or a pass that does not open), only known sets are
 * kept: what is not known takes nothing away.
 */

#include "policy/base/err.h"
#include "policy/base/tri.h"
#include "policy/config/nsdb.h"
#include "policy/config/setdb.h"
#include "policy/eval/egress.h"

/* Does any rule of the models refer to address sets (what setres_apply would rewrite)? */
bool setres_refers(const struct egress_list *models);

/*
 * Resolves every reference of every model in place. sets and ns may be NULL (nothing known).
 * Returns 0, or -1 with e set on out of memory (the models are then still valid to release).
 */
int setres_apply(struct egress_list *models, const struct setdb *sets, const struct nsdb *ns,
                 struct err *e);

/*
 * Does the reference reach the set? TRI_UNKNOWN when it depends on labels of the set's
 * namespace that ns does not know (a Calico namespaceSelector), which callers count as reached.
 */
enum tri setres_reaches(const struct egress_setref *ref, const struct setdb_entry *set,
                        const struct nsdb *ns);

/*
 * Appends a description of what a reference stands for: `NetworkSets of namespace ml-a matching
 * app == "db"`, `CiliumCIDRGroup "partners"`. 0, or -1 when out failed.
 */
int setres_describe(const struct egress_setref *ref, struct buf *out);

/*
 * The most a text about sets may take (descriptions, peer texts naming a set and the selector
 * that reaches it): they quote objects, and are cut there with "..." (buf_init_cut).
 */
#define SETRES_TEXT_CAP ((size_t)4096)

#endif
