#ifndef EGRESSGUARD_ALLOWIDX_H
#define EGRESSGUARD_ALLOWIDX_H

/*
 * The allow-list compiled once, when the policy file is loaded, so that what a decision costs
 * does not grow with the number of allow entries.
 *
 * The port line (every protocol × port, portset.h's keys) is cut at each allow entry's port
 * boundaries into regions; over a region the same entries apply. Each distinct set of entries
 * is a class, which holds what those entries allow together: the union of their CIDRs (and the
 * same with the always-denied CIDRs added, since no opening can reach those), their FQDN
 * patterns (indexed), their in-cluster peers, and the entries themselves as a bit set (for
 * messages naming the nearest entries). A decision asks "which classes do these ports meet"
 * (allowidx_split) and then asks each class once, instead of walking every entry per question.
 *
 * Built by policy_load() (pol->allowidx) and immutable afterwards: safe to share between
 * threads. It borrows the entries' strings and selectors, so it lives no longer than they do.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/base/err.h"
#include "policy/config/dest.h"
#include "policy/sets/cidr.h"
#include "policy/sets/fqdn.h"
#include "policy/sets/portset.h"

/* What the allow entries covering some ports allow together. */
struct allowidx_class {
    struct cidrset *cidrs;    /* union of the entries' CIDRs */
    struct cidrset *reach;    /* cidrs ∪ the always-denied CIDRs: what nothing escapes to */
    bool every_addr;          /* reach is every address of both families */
    struct fqdn_index *fqdns; /* the entries' patterns */
    const struct peer_spec **peers; /* the entries' inCluster peers (borrowed) */
    size_t n_peers;
    bool every_pod;           /* some peer is every pod of every namespace */
    uint64_t *entries;        /* bit i: allow entry i is one of them */
};

struct allowidx;

/*
 * Compiles the n allow entries (and the always-denied CIDRs, which may be NULL). NULL with e set
 * on out of memory. Free with allowidx_free() (NULL is a no-op).
 */
struct allowidx *allowidx_new(const struct dest_entry *allow, size_t n,
                              const struct cidrset *deny, struct err *e);
void allowidx_free(struct allowidx *ix);

/* The class applying to one (protocol, port). Never NULL. */
const struct allowidx_class *allowidx_at(const struct allowidx *ix, int proto, unsigned port);

/*
 * The classes a port set meets, each with the part of the set it applies to. In the common
 * case of a single class, `ports` is NULL and means the whole set (nothing is allocated).
 */
struct allowidx_atom {
    const struct allowidx_class *cls;
    struct portset *ports; /* owned; NULL: the whole set that was split */
};

struct allowidx_atoms {
    struct allowidx_atom *v;
    size_t n, alloc;
    struct allowidx_atom first; /* storage for the single-class case */
};

/*
 * Splits ports (not empty) into out (zeroed or released before). Returns the number of pieces
 * the walk visited (at least 1: what the caller may count as work), or -1 on out of memory
 * (out is then released). Release out with allowidx_atoms_release().
 */
long allowidx_split(const struct allowidx *ix, const struct portset *ports,
                    struct allowidx_atoms *out);
void allowidx_atoms_release(struct allowidx_atoms *a);

/*
 * The allow entries whose ports meet `ports`, as a bit set of allowidx_words() words OR-ed
 * into mask; and the entries offering each kind of destination. For messages.
 */
size_t allowidx_words(const struct allowidx *ix);
void allowidx_touching(const struct allowidx *ix, const struct portset *ports, uint64_t *mask);
enum allowidx_kind { ALLOWIDX_CIDRS, ALLOWIDX_FQDNS, ALLOWIDX_PEERS };
const uint64_t *allowidx_offering(const struct allowidx *ix, enum allowidx_kind k);

/* Every allow entry's CIDRs on any port, minus the always-denied ones. */
const struct cidrset *allowidx_all_cidrs(const struct allowidx *ix);

#endif
