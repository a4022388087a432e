#include "policy/config/allowlist.h"

#include <stddef.h>

#include "policy/sets/fqdn.h"
#include "policy/sets/portset.h"

static bool denied(const struct policy *p, int family, const uint8_t *addr)
{
    return p->deny_cidrs && cidrset_contains_addr(p->deny_cidrs, family, addr);
}

bool allowlist_addr(const struct policy *p, int family, const uint8_t *addr, int proto,
                    unsigned port)
{
    size_t i;

    if (denied(p, family, addr))
        return false;
    for (i = 0; i < p->n_allow; i++) {
        const struct dest_entry *d = &p->allow[i];

        if (d->cidrs && cidrset_contains_addr(d->cidrs, family, addr) && d->ports &&
            portset_contains(d->ports, proto, port))
            return true;
    }
    return false;
}

bool allowlist_name(const struct policy *p, const char *name, int proto, unsigned port)
{
    size_t i, j;

    for (i = 0; i < p->n_allow; i++) {
        const struct dest_entry *d = &p->allow[i];

        if (!d->ports || !portset_contains(d->ports, proto, port))
            continue;
        for (j = 0; j < d->n_fqdns; j++)
            if (fqdn_matches(d->fqdns[j], name))
                return true;
    }
    return false;
}

int allowlist_covers_set(const struct policy *p, const struct cidrset *s)
{
    struct cidrset *allowed;
    size_t i;
    int ret = -1;

    allowed = cidrset_new();
    if (!allowed)
        return -1;
    for (i = 0; i < p->n_allow; i++)
        if (p->allow[i].cidrs && cidrset_union(allowed, p->allow[i].cidrs) < 0)
            goto out;
    if (p->deny_cidrs && cidrset_subtract(allowed, p->deny_cidrs) < 0)
        goto out;
    ret = cidrset_subset(s, allowed) ? 1 : 0;
out:
    cidrset_free(allowed);
    return ret;
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
