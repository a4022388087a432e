#ifndef EGRESSGUARD_CIDR_H
#define EGRESSGUARD_CIDR_H

/*
 * IP prefixes and sets of addresses (IPv4 and IPv6 in one set, kept apart by family).
 *
 * A cidrset is a sorted list of disjoint, non-adjacent address intervals per family, so every
 * operation is a linear merge and building one from n prefixes is O(n log n). Sets are plain
 * values owned by whoever made them; once built, a const set is safe to read from many threads.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/base/buf.h"
#include "policy/base/err.h"

/* A prefix such as 10.0.0.0/8. Plain value: copy it, nothing to free. */
struct cidr {
    int family;       /* 4 or 6 */
    uint8_t addr[16]; /* network byte order; IPv4 uses the first 4 bytes */
    unsigned bits;    /* 0..32 or 0..128 */
};

#define CIDR_STRLEN 64 /* enough for any formatted prefix */

enum cidr_flags {
    CIDR_STRICT = 0,
    CIDR_BARE_IP = 1 << 0, /* accept "10.1.2.3" as 10.1.2.3/32 (Calico nets, Cilium toCIDR) */
};

/*
 * Parses "10.0.0.0/8" or "fd00::/8". Host bits set ("10.0.0.1/8", which Kubernetes and the CNIs
 * accept) are cleared, and *normalized (if not NULL) is set true so the caller can warn.
 * Surrounding spaces are an error, as are an empty string, a bad address, a prefix length out of
 * range, and IPv4-mapped IPv6 forms that hide an IPv4 range. Returns 0, or -1 with `e` set to a
 * message that quotes the text (e.g. `invalid CIDR "10.0.0.0/33": prefix length must be 0-32`).
 */
int cidr_parse(const char *text, unsigned flags, struct cidr *out, bool *normalized,
               struct err *e);

/* Writes "10.0.0.0/8" (IPv6 in RFC 5952 form) into buf. */
void cidr_format(const struct cidr *c, char *buf, size_t size);

/* Does the prefix contain the address (family 4 or 6, address in network byte order)? */
bool cidr_contains_addr(const struct cidr *c, int family, const uint8_t *addr);

struct cidrset;

/* New empty set; NULL on out of memory. Free with cidrset_free() (NULL is a no-op). */
struct cidrset *cidrset_new(void);
void cidrset_free(struct cidrset *s);
void cidrset_shrink(struct cidrset *s); /* no room to spare: a set kept, no longer built */
struct cidrset *cidrset_dup(const struct cidrset *s);

/* s ∪= prefix. Returns 0, or -1 on out of memory (s unchanged). */
int cidrset_add(struct cidrset *s, const struct cidr *c);
/* s ∪= every prefix of list: one sort, O(n log n). */
int cidrset_add_many(struct cidrset *s, const struct cidr *list, size_t n);
/* s ∪= every address of family (4 or 6), or of both families when family is 0. */
int cidrset_add_all(struct cidrset *s, int family);

/* In place: s ∪= t, s −= t, s ∩= t. Return 0, or -1 on out of memory (s unchanged). */
int cidrset_union(struct cidrset *s, const struct cidrset *t);
int cidrset_subtract(struct cidrset *s, const struct cidrset *t);
int cidrset_intersect(struct cidrset *s, const struct cidrset *t);

bool cidrset_is_empty(const struct cidrset *s);
bool cidrset_is_all(const struct cidrset *s, int family); /* family 0: both */
bool cidrset_subset(const struct cidrset *a, const struct cidrset *b); /* a ⊆ b */
bool cidrset_equal(const struct cidrset *a, const struct cidrset *b);
bool cidrset_contains_addr(const struct cidrset *s, int family, const uint8_t *addr);
/* a ∩ b ≠ ∅, without allocating. */
bool cidrset_overlaps(const struct cidrset *a, const struct cidrset *b);
/*
 * The number of intervals the set is kept as (both families): the size that operations on it
 * cost in proportion to, for work accounting.
 */
size_t cidrset_runs(const struct cidrset *s);

/*
 * The minimal list of prefixes whose union is exactly s, IPv4 first, ascending. *out is
 * malloc()ed (caller frees; NULL when empty). Returns 0, or -1 on out of memory.
 */
int cidrset_prefixes(const struct cidrset *s, struct cidr **out, size_t *n);

/*
 * Appends the minimal prefix list as "11.0.0.0/8, 12.0.0.0/6": at most `max` prefixes (0: all),
 * then ", ... (N more)". An empty set appends "nothing". Returns buf's status.
 */
int cidrset_format(const struct cidrset *s, size_t max, struct buf *out);

#endif
