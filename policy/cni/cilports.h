#ifndef EGRESSGUARD_CILPORTS_H
#define EGRESSGUARD_CILPORTS_H

/*
 * The L4 part of a Cilium egress rule: toPorts (ports with protocol TCP, UDP, SCTP or ANY, port 0
 * meaning every port, endPort ranges, named ports) and icmps, with L7 rules (dns, http, ...) and
 * serverNames recorded as notes. Part of the Cilium reader (see cilium.h, cilrd.h).
 */

#include <jansson.h>
#include <stdbool.h>

#include "policy/cni/cilrd.h"
#include "policy/sets/portset.h"

/*
 * Adds to ps what rule (at field path `path`) opens at L4: every protocol and port when it has
 * neither toPorts nor icmps. Named ports and ICMP types are not resolved: an allow counts them
 * wider, a deny (r->deny) does not count them; a note says so. 0, or -1 with r->e set and
 * positioned.
 */
int cilports_read(struct cilrd *r, const json_t *rule, const char *path, struct portset *ps);

/* Does some rule of the list `rules` have a DNS L7 rule (toPorts[].rules.dns)? */
bool cilports_has_dns(const json_t *rules);

#endif
