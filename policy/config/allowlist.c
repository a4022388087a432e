#include "policy/config/allowlist.h"

#include <stddef.h>

#include "policy/config/allowidx.h"
#include "policy/sets/fqdn.h"
#include "policy/sets/portset.h"

static bool denied(const struct policy *p, int family, const uint8_t *addr)
{
    return p->deny_cidrs && cidrset_contains_addr(p->deny_cidrs, family, addr);
}

/*
 * Each answer asks the compiled allow-list (allowidx.h) once instead of walking the entries:
 * the class of (proto, port) holds the union of the entries whose ports hold it.
 */
bool allowlist_addr(const struct policy *p, int family, const uint8_t *addr, int proto,
                    unsigned port)
{
    if (denied(p, family, addr))
        return false;
    return cidrset_contains_addr(allowidx_at(p->allowidx, proto, port)->cidrs, family, addr);
}

bool allowlist_name(const struct policy *p, const char *name, int proto, unsigned port)
{
    return fqdn_index_matches(allowidx_at(p->allowidx, proto, port)->fqdns, name);
}

int allowlist_covers_set(const struct policy *p, const struct cidrset *s)
{
    return cidrset_subset(s, allowidx_all_cidrs(p->allowidx)) ? 1 : 0;
}

int allowlist_covers_cidr(const struct policy *p, const struct cidr *c)
{
    struct cidrset *one;
    int ret;

    one = cidrset_new();
    if (!one)
        return -1;
    ret = cidrset_add(one, c) < 0 ? -1 : allowlist_covers_set(p, one);
    cidrset_free(one);
    return ret;
}
