#ifndef EGRESSGUARD_PORTSET_H
#define EGRESSGUARD_PORTSET_H

/*
 * Sets of (protocol, port) pairs. Every IP protocol number 0..255 is treated as having ports
 * 0..65535, so a port-less protocol such as ICMP is simply "all its ports" and a portset is a set
 * of intervals on one 24-bit line (protocol << 16 | port). Same algebra and the same complexity
 * as cidrset. Named ports (`http`) cannot be resolved offline: readers turn them into every port
 * of the protocol and say so in a note, which is the conservative reading.
 */

#include <stdbool.h>
#include <stddef.h>

#include "policy/base/buf.h"
#include "policy/base/err.h"

enum {
    PROTO_ICMP = 1,
    PROTO_TCP = 6,
    PROTO_UDP = 17,
    PROTO_ICMPV6 = 58,
    PROTO_SCTP = 132,
    PROTO_UDPLITE = 136,
    PROTO_ANY = -1, /* every protocol, for portset_add_range and portset_add_proto */
};

/* One contiguous run, as returned by portset_ranges(). */
struct portrange {
    int proto;       /* 0..255 */
    unsigned lo, hi; /* 0..65535, lo <= hi */
};

/*
 * "TCP", "udp", "SCTP", "ICMP", "ICMPv6", "UDPLite" (any case) or a number 0..255 → *proto;
 * "ANY" (any case) → PROTO_ANY. Returns 0, or -1 with e set (`unknown protocol "TPC"`).
 */
int proto_parse(const char *text, int *proto, struct err *e);
/* "TCP", "UDP", ..., or the number as text for others; static storage (thread-safe). */
const char *proto_name(int proto);
/* Does the protocol carry ports (TCP, UDP, SCTP, UDPLite)? */
bool proto_has_ports(int proto);

struct portset;

struct portset *portset_new(void); /* empty; NULL on out of memory */
void portset_free(struct portset *s);
void portset_shrink(struct portset *s); /* no room to spare: a set kept, no longer built */
struct portset *portset_dup(const struct portset *s);

/* s ∪= ports lo..hi of proto (or of every protocol with PROTO_ANY). lo <= hi <= 65535. */
int portset_add_range(struct portset *s, int proto, unsigned lo, unsigned hi);
/* s ∪= every port of proto (PROTO_ANY: everything). */
int portset_add_proto(struct portset *s, int proto);

int portset_union(struct portset *s, const struct portset *t);
int portset_subtract(struct portset *s, const struct portset *t);
int portset_intersect(struct portset *s, const struct portset *t);

bool portset_is_empty(const struct portset *s);
bool portset_is_all(const struct portset *s);
bool portset_subset(const struct portset *a, const struct portset *b);
bool portset_equal(const struct portset *a, const struct portset *b);
bool portset_overlaps(const struct portset *a, const struct portset *b); /* a ∩ b ≠ ∅ */
bool portset_contains(const struct portset *s, int proto, unsigned port);

/*
 * The line form, for code that walks a set without allocating: every (protocol, port) is one
 * key, protocol << 16 | port (0 .. PORTSET_KEY_MAX). portset_runs() is the number of maximal
 * runs, portset_run() the i-th (ascending), portset_add_keys() adds keys lo..hi.
 */
#define PORTSET_KEY_MAX 0xffffffu
size_t portset_runs(const struct portset *s);
void portset_run(const struct portset *s, size_t i, unsigned long *lo, unsigned long *hi);
int portset_add_keys(struct portset *s, unsigned long lo, unsigned long hi);
/* s ∪= keys lo[i]..hi[i] for every i < n (any order): one sort, O(n log n). */
int portset_add_keys_many(struct portset *s, const unsigned long *lo, const unsigned long *hi,
                          size_t n);

/* The maximal runs, ordered by protocol then port. *out malloc()ed (caller frees). */
int portset_ranges(const struct portset *s, struct portrange **out, size_t *n);

/*
 * Appends e.g. "TCP/443, TCP/8000-8080, UDP/53": a whole port-carrying protocol is "TCP/" followed
 * by a star, a whole port-less one "ICMP", everything "any protocol/port", nothing "no port".
 * Unnamed protocols read "protocol 47" (whole) or "protocol 47/0-9"; two or more consecutive whole
 * protocols read "protocols 7-16". When the complement takes fewer items, the set is written as
 * "any protocol/port except TCP/25" (what Calico notPorts produces). Returns buf's status.
 */
int portset_format(const struct portset *s, struct buf *out);

#endif
