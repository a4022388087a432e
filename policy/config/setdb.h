#ifndef EGRESSGUARD_SETDB_H
#define EGRESSGUARD_SETDB_H

/*
 * What a run knows about address sets that network policies reach without naming an address:
 * Calico NetworkSets and GlobalNetworkSets (matched by Calico selectors), Calico HostEndpoints
 * (matched the same way, by their expected IPs) and Cilium CiliumCIDRGroups (named by
 * toCIDRSet[].cidrGroupRef, or picked by cidrGroupSelector).
 *
 * Filled by `check` from the objects of its input (policy/cni/calset.h, cilgroup.h read them)
 * and, online, from the cluster model. `complete` says whether the run knows every set there
 * is: only then may a selector that matches none of the known sets be read as matching no set.
 * When it is false, what a selector may reach beyond the known sets is "possibly anything"
 * (policy/eval/setres.h). A set named by a reference (cidrGroupRef) that the run does not know
 * is unknown whatever the flag says: it may be created at any time.
 *
 * A store is filled once and then only read; a const store is safe to share between threads.
 */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "policy/sets/cidr.h"

enum setdb_kind {
    SETDB_NETWORKSET,       /* Calico NetworkSet (namespaced) */
    SETDB_GLOBALNETWORKSET, /* Calico GlobalNetworkSet */
    SETDB_HOSTENDPOINT,     /* Calico HostEndpoint: its expectedIPs */
    SETDB_CIDRGROUP,        /* Cilium CiliumCIDRGroup: its externalCIDRs */
};

#define SETDB_N_KINDS 4

/* One known set. Everything is owned by the store once added. */
struct setdb_entry {
    enum setdb_kind kind;
    char *ns;             /* NetworkSet: its namespace; "" for the cluster-scoped kinds */
    char *name;
    json_t *labels;       /* the labels selectors match: metadata.labels, and for a Calico
                             NetworkSet projectcalico.org/namespace, which Calico adds; always
                             an object (possibly empty) */
    struct cidrset *nets; /* the addresses it holds; NULL when they are not known (error set) */
    char **domains;       /* Calico allowedEgressDomains: normalized patterns (fqdn.h) */
    size_t n_domains;
    char *error;          /* why its addresses are not known ("spec.nets[0]: ..."), else NULL */
    char *where;          /* "file.yaml:12" when it came from a file, else NULL */
};

struct setdb;

/* An empty store that knows nothing and is not complete. NULL on out of memory. */
struct setdb *setdb_new(void);
void setdb_free(struct setdb *db); /* NULL is a no-op */

/*
 * Adds a set, taking every member of *entry (on failure too; *entry is zeroed either way). A set
 * of the same kind, namespace and name replaces the earlier one. 0, or -1 on out of memory.
 */
int setdb_add(struct setdb *db, struct setdb_entry *entry);

/* Records whether the run knows every set of every kind (see above). */
void setdb_set_complete(struct setdb *db, bool complete);

/*
 * Records whether the run knows every set of one kind; why (static or outliving db, may be NULL)
 * says why it does not, for messages ("HostEndpoints are not listed yet"). Online, kinds become
 * known one by one (each kind's first LIST, or the API server not serving it at all), and a
 * selector is decided by the kinds it can reach.
 */
void setdb_set_kind_complete(struct setdb *db, enum setdb_kind kind, bool complete,
                             const char *why);

/* Does the run know every set? false for NULL (a run that knows no sets knows not all of them). */
bool setdb_complete(const struct setdb *db);

/* Does the run know every set of this kind? false for NULL. */
bool setdb_kind_complete(const struct setdb *db, enum setdb_kind kind);

/* Why the sets of an incomplete kind are not all known, or NULL when nothing was said. */
const char *setdb_kind_why(const struct setdb *db, enum setdb_kind kind);

/* The known sets, in the order added (NULL db: none). Borrowed: valid while db lives. */
size_t setdb_count(const struct setdb *db);
const struct setdb_entry *setdb_get(const struct setdb *db, size_t i);

/* The set of this kind, namespace ("" or NULL for cluster-scoped kinds) and name, or NULL. */
const struct setdb_entry *setdb_find(const struct setdb *db, enum setdb_kind kind, const char *ns,
                                     const char *name);

/* "NetworkSet", "GlobalNetworkSet", "HostEndpoint", "CiliumCIDRGroup". Static. */
const char *setdb_kind_name(enum setdb_kind kind);

/* Frees the members of an entry that was not added (zeroes it). */
void setdb_entry_release(struct setdb_entry *entry);

#endif
