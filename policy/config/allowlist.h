#ifndef EGRESSGUARD_ALLOWLIST_H
#define EGRESSGUARD_ALLOWLIST_H

/*
 * Point questions against the policy file's allow-list, for rules that meet a single destination
 * rather than a whole network policy: a pod's DNS nameserver, its HTTP proxy, a mesh bypass range.
 * A destination is allowed when some allow entry names it (by CIDR or FQDN pattern) with a port
 * set that holds the port, and no deny entry's CIDRs contain it. In-cluster allow entries cannot
 * vouch for an address or a name (their pods' addresses are not known offline), so they never do.
 */

#include <stdbool.h>
#include <stdint.h>

#include "policy/sets/cidr.h"
#include "policy/config/policy.h"

/* Is the address (family 4 or 6, network byte order) allowed on proto/port? */
bool allowlist_addr(const struct policy *p, int family, const uint8_t *addr, int proto,
                    unsigned port);

/* Is the normalized DNS name (fqdn.h) allowed on proto/port? */
bool allowlist_name(const struct policy *p, const char *name, int proto, unsigned port);

/*
 * Does the union of the allow entries' CIDRs (on any port), minus the deny CIDRs, hold every
 * address of the prefix? 1 yes, 0 no, -1 on out of memory.
 */
int allowlist_covers_cidr(const struct policy *p, const struct cidr *c);

/*
 * The same for a whole set of addresses. 1 yes, 0 no, -1 on out of memory.
 */
int allowlist_covers_set(const struct policy *p, const struct cidrset *s);

#endif
