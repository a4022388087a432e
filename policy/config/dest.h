#ifndef EGRESSGUARD_DEST_H
#define EGRESSGUARD_DEST_H

/*
 * The entries of the policy file's allow and deny lists (README.md, "The policy file"), owned by
 * the policy that loaded them (policy.h) and read-only afterwards. On their own header so that
 * what is compiled from them (allowidx.h) need not depend on the whole policy.
 */

#include <stdbool.h>
#include <stddef.h>

#include "policy/selector/selector.h"
#include "policy/sets/cidr.h"
#include "policy/sets/portset.h"

/* An in-cluster peer of an allow entry: namespaces × pods. */
struct peer_spec {
    bool same_namespace;         /* sameNamespace: true — the AI workload's own namespace */
    struct selector *namespaces; /* NULL with same_namespace; all() when omitted otherwise */
    struct selector *pods;       /* all() when omitted */
};

/* One allow or deny entry. */
struct dest_entry {
    char *name;
    char *reason;             /* "" when not given */
    struct cidrset *cidrs;    /* never NULL; may be empty */
    char **fqdns;             /* normalized patterns (fqdn.h) */
    size_t n_fqdns;
    struct peer_spec *peers;  /* inCluster */
    size_t n_peers;
    struct portset *ports;    /* never NULL; every port when the entry names none */
    int line;                 /* where the entry starts in the policy file */
    char *summary;            /* allow entries: "name (10.20.0.0/16 on TCP/443)", for messages */
};

#endif
