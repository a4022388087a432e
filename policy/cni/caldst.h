#ifndef EGRESSGUARD_CALDST_H
#define EGRESSGUARD_CALDST_H

/*
 * One Calico rule's destination (a v3 EntityRule) as peers of the rule being read (the model's
 * last rule). Part of the Calico reader (calico.h); not an API for other modules.
 *
 * Destination fields are AND-ed. For an opening rule (narrow false) one part is kept when the
 * intersection cannot be represented (selectors before domains before nets: each alone
 * over-approximates); for a deny (narrow true) the rule is kept only when exact, else *drop is
 * set (under-approximation). Selector fields give a cluster peer for the pods and a set reference
 * for the NetworkSets, GlobalNetworkSets and HostEndpoints with the labels (resolved later by
 * setres.h). nets minus notNets (every address when nets is absent) give a CIDR peer.
 */

#include <jansson.h>
#include <stdbool.h>

#include "policy/cni/calrd.h"

/* Adds the peers of dst (may be NULL: every destination). 0, or -1 with r->e set. */
int caldst_read(struct calrd *r, const json_t *dst, const char *dp, bool narrow, bool *drop);

/*
 * A Calico domain name (a rule's destination.domains, a network set's allowedEgressDomains) as a
 * normalized pattern (fqdn.h) into norm (FQDN_MAX bytes). In Calico an asterisk "matches 1 or
 * more path components at that position" (Calico Enterprise DNS policy docs), which no pattern
 * here but `*` covers: a name with one is widened to `*` and *widened set. 0, or -1 with e set.
 */
int caldst_domain(const char *text, char *norm, bool *widened, struct err *e);

#endif
