#ifndef EGRESSGUARD_EGRESS_H
#define EGRESSGUARD_EGRESS_H

/*
 * The one normalized egress model. Every CNI reader (Kubernetes NetworkPolicy, Cilium CNP/CCNP,
 * Calico NP/GNP, AdminNetworkPolicy/BaselineAdminNetworkPolicy) turns a policy object into
 * egress_models; evaluation never looks at the original YAML again.
 *
 * A model says which workloads a policy governs (subject) and, in order, its egress rules: an
 * action, a union of destinations (peers) and a port set. Readers must stay on the safe side:
 * what an ALLOW opens is over-approximated (a destination that is "nets AND selector" may be
 * modelled as the selector alone), what a DENY or PASS takes away is under-approximated (when a
 * deny cannot be represented exactly, it is dropped), and every such approximation is recorded
 * as a note so the user is told. Then "the model opens nothing outside the allow-list" implies
 * the real policy does not either.
 *
 * Models own everything they point to except `node` pointers, which are borrowed from the
 * object's JSON (for positions) and valid while the object lives.
 */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "policy/base/buf.h"
#include "policy/sets/cidr.h"
#include "policy/base/err.h"
#include "policy/sets/portset.h"
#include "policy/selector/selector.h"

enum peer_kind {
    PEER_ALL,     /* every destination, in and outside the cluster (Cilium `all`, `to: []`) */
    PEER_CIDR,    /* IP addresses (ipBlock, toCIDR(Set), nets, Cilium `world` as all IPs) */
    PEER_FQDN,    /* DNS names and patterns (Cilium toFQDNs, Calico domains) */
    PEER_CLUSTER, /* in-cluster endpoints: namespaces × pods */
    PEER_ENTITY,  /* a Cilium entity other than world/all: cluster, host, remote-node,
                     kube-apiserver, ingress, health, init, unmanaged */
    PEER_UNKNOWN, /* cannot be resolved offline (cidrGroupRef, toServices, serviceAccounts):
                     treated as possibly anything */
};

/*
 * A destination that reaches address sets by reference, which a reader cannot see: Calico
 * selectors also match NetworkSets, GlobalNetworkSets and HostEndpoints carrying the labels
 * (calico.h says which, after Calico's libcalico-go updateprocessors/rules.go); a Cilium
 * toCIDRSet entry names a CiliumCIDRGroup (cidrGroupRef) or picks groups by label
 * (cidrGroupSelector). A peer carrying one is PEER_UNKNOWN ("possibly anything") until
 * setres_apply() (policy/eval/setres.h) replaces it with what the sets known to the run hold,
 * so a model that was never resolved stays on the safe side.
 */
enum setref_kind { SETREF_CALICO, SETREF_CIDRGROUP };

struct egress_setref {
    enum setref_kind kind;
    struct selector *sel;    /* over a set's labels; NULL = all(). CIDRGROUP: NULL when by name */
    char *name;              /* CIDRGROUP: the group named by cidrGroupRef, else NULL */
    /* CALICO only: */
    bool namespaced;         /* NetworkSets are reached ... */
    char *ns_name;           /* ... those of this namespace, or when NULL ... */
    struct selector *ns_sel; /* ... those of the namespaces this selects (NULL = every one) */
    bool global;             /* GlobalNetworkSets and HostEndpoints are reached */
};

/* In-cluster endpoints. The namespace part is either a fixed name or a selector. */
/* In every selector field of the model, NULL means all() (every label set). */
struct cluster_peer {
    char *ns_name;            /* a fixed namespace (a namespaced policy's own), or NULL */
    struct selector *ns_sel;  /* over namespace labels when ns_name is NULL; all() = every ns */
    struct selector *pod_sel; /* over pod labels; all() = every pod */
};

struct egress_peer {
    enum peer_kind kind;
    struct cidrset *cidrs;       /* PEER_CIDR */
    char **fqdns;                /* PEER_FQDN: normalized patterns (fqdn.h) */
    size_t n_fqdns;
    struct cluster_peer cluster; /* PEER_CLUSTER */
    char *entity;                /* PEER_ENTITY, PEER_UNKNOWN: the entity or what is unknown */
    char *path;                  /* where it is written: "spec.egress[1].to[0].ipBlock" */
    const json_t *node;          /* borrowed; may be NULL */
    char *text;                  /* as the policy wrote it: "0.0.0.0/0 except 10.0.0.0/8"; NULL
                                    when longer than EGRESS_PEER_TEXT_CAP (messages then show
                                    the peer's destinations instead), or cut there with "..."
                                    when it only names things (a set, a selector) */
    struct egress_setref *setref; /* PEER_UNKNOWN: the sets it stands for, else NULL; owned */
};

/* The most a peer's text may take: it quotes the object (an except list can be as long as the
 * request), and it is only for messages, which would not show more. */
#define EGRESS_PEER_TEXT_CAP ((size_t)4096)
/* The most a note's message may take (it quotes the object); cut there with "...". */
#define EGRESS_NOTE_CAP ((size_t)4096)

enum egress_action { EGRESS_ALLOW, EGRESS_DENY, EGRESS_PASS, EGRESS_LOG };

/*
 * The precedence of a policy among ordered ones: AdminNetworkPolicies before everything,
 * BaselineAdminNetworkPolicies after everything (network-policy-api v1alpha1, which Calico also
 * implements as tiers before and after its own); Calico policies in between.
 */
enum egress_layer {
    LAYER_NAMESPACE = 0,
    LAYER_ADMIN = -1,
    LAYER_BASELINE = 1,
    LAYER_DEFAULT = 2, /* after every policy: the default allow of pods nothing isolates (no
                          reader sets it; compose.c's "every destination" sits here) */
};

struct egress_rule {
    enum egress_action action;
    struct egress_peer *peers; /* union of destinations; a rule to everything has one PEER_ALL */
    size_t n_peers;
    struct portset *ports;     /* never NULL; every port when the rule names none */
    char *path;                /* "spec.egress[1]" */
    const json_t *node;        /* borrowed; may be NULL */
};

/* A conservative assumption the reader made, reported to the user. */
struct egress_note {
    char *path;
    const json_t *node;
    char *message; /* "named port \"http\" cannot be resolved offline: treated as every TCP port" */
};

struct egress_model {
    char *kind;              /* "NetworkPolicy", "CiliumNetworkPolicy", ... */
    char *name;              /* "namespace/name" or "name" for cluster-wide policies */
    char *path;              /* "" or "specs[2]" for one of a Cilium policy's several rules */

    /* Subject: the workloads the policy governs. */
    char *ns;                /* namespaced policy: its namespace; NULL when cluster-wide */
    struct selector *ns_sel; /* cluster-wide: namespaces by labels (all() = every namespace) */
    struct selector *pod_sel; /* pods by labels; all() = every pod */
    bool host_policy;        /* Cilium nodeSelector: governs nodes, not pods */
    bool some_pods;          /* governs only some of the pods the selectors pick, which ones
                                is not known offline (Calico serviceAccountSelector): it never
                                applies to a pod for sure, so it takes nothing away */

    bool governs_egress;     /* the policy has a say on the subjects' egress */
    bool default_deny;       /* subjects' egress not allowed by some policy is denied */
    bool ordered;            /* rules are first-match-wins (Calico); else allows minus denies */
    bool has_order;
    double order;            /* Calico `order`, AdminNetworkPolicy priority (lower first) */
    enum egress_layer layer; /* where the policy sits among the others (ordered models) */
    char *tier;              /* Calico: the policy's tier, NULL for the default tier. Tiers are
                                evaluated in the order of their Tier objects, not known here, so
                                ordered models of different tiers take nothing from each other */
    bool cidrs_match_all;    /* a CIDR peer matches every endpoint with those addresses, pods
                                included (Calico nets, AdminNetworkPolicy networks): a deny of
                                every address takes everything */
    bool pass_opens;         /* a PASS rule opens what it matches: the traffic goes on to
                                policies that are not known here (Calico's next tier) */

    struct egress_rule *rules;
    size_t n_rules;
    struct egress_note *notes;
    size_t n_notes;
};

/* A growable list of models (a Cilium object with `specs` yields several). */
struct egress_list {
    struct egress_model *models;
    size_t n, alloc;
};

void egress_model_init(struct egress_model *m);
void egress_model_release(struct egress_model *m);
/*
 * What a model keeps once its object is gone: no JSON node (they would point into freed memory;
 * findings then fall back to the object's line) and no notes (reported with the object itself);
 * with texts, no path or text of its rules and peers either (NULL: messages then describe the
 * peers' destinations), for a model that only takes part in the judging of others. Its port and
 * address sets are shrunk to fit (they may still grow).
 */
void egress_model_detach(struct egress_model *m, bool texts);
void egress_list_init(struct egress_list *l);
void egress_list_release(struct egress_list *l);
/* A new zeroed, egress_model_init()ed model at the end of the list; NULL on OOM. */
struct egress_model *egress_list_add(struct egress_list *l);

/*
 * A new rule at the end of m (ports = empty portset the caller fills); NULL on OOM. The pointer
 * is valid until the next egress_model_add_rule() on m.
 */
struct egress_rule *egress_model_add_rule(struct egress_model *m, enum egress_action action,
                                          const char *path, const json_t *node);
/* A new peer of the given kind in rule r (cidrs allocated for PEER_CIDR; selectors NULL). */
struct egress_peer *egress_rule_add_peer(struct egress_rule *r, enum peer_kind kind,
                                         const char *path, const json_t *node);
int egress_model_note(struct egress_model *m, const json_t *node, const char *path,
                      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * A stable, line-oriented text form of the model, for golden tests and `check --explain`.
 * Appends to out; returns 0, or -1 when out failed (out of memory / cap). Every line ends in \n:
 *
 *   model NetworkPolicy ml-a/web-egress            (+ " <path>" when m->path is not empty)
 *   subject ns=ml-a pods=app == "web" egress=governed default-deny
 *   allow spec.egress[0] ports TCP/443
 *     to cidr 172.24.0.0/13 [spec.egress[0].to[0].ipBlock] "172.16.0.0/12 except 172.16.0.0/13"
 *     to cluster namespaces=all() pods=all() [spec.egress[0].to[1]]
 *   allow spec.egress[1] ports any protocol/port
 *     to all [spec.egress[1]]
 *   note spec.egress[0].ports[0]: named port "http" ...
 *
 * The subject is `ns=<name>` (namespaced) or `namespaces=<selector>` (cluster-wide), then
 * `pods=<selector>`, then in this order when they hold: `host`, `some-pods`, `egress=governed` or
 * `egress=ungoverned`, `default-deny`, `ordered`, `order=<%g>`, `layer=admin|baseline`,
 * `tier=<name>`. A rule
 * line is `<allow|deny|pass|log> <path or -> ports <portset_format>`; each peer is one indented
 * line `to <egress_peer_format>` followed by ` [<path>]` when it has a path and ` "<text>"` when
 * it has a text. Selectors print with selector_format(); CIDR sets with every prefix
 * (cidrset_format, no cap). Notes come last: `note <path or ->: <message>`.
 */
int egress_model_format(const struct egress_model *m, struct buf *out);

/*
 * One peer's destination without path or text: `all`, `cidr <prefixes>`, `fqdn a, b`,
 * `cluster ns=<name> pods=<sel>`, `cluster namespaces=<sel> pods=<sel>`, `entity <name>`,
 * `unknown <what>`. Appends to out; 0 or -1 when out failed.
 */
int egress_peer_format(const struct egress_peer *p, struct buf *out);

/* "allow", "deny", "pass", "log"; "all", "cidr", "fqdn", "cluster", "entity", "unknown". Static. */
const char *egress_action_name(enum egress_action a);
const char *egress_peer_kind_name(enum peer_kind k);

/* Helpers for readers. Each returns 0, or -1 on out of memory (p unchanged but valid). */
/* Replaces p->text with the formatted string. */
int egress_peer_set_text(struct egress_peer *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends a copy of an already normalized (fqdn_normalize) pattern to p->fqdns. */
int egress_peer_add_fqdn(struct egress_peer *p, const char *pattern);

/*
 * A deep copy of src into dst (dst is overwritten, not released first; node is shared as it is
 * borrowed). On failure dst is left released (zeroed). Release a peer that is not owned by a
 * rule with egress_peer_release() (NULL is a no-op; the struct itself is not freed).
 */
int egress_peer_copy(struct egress_peer *dst, const struct egress_peer *src);
void egress_peer_release(struct egress_peer *p);

/*
 * A deep copy of src into dst, notes included (dst is overwritten, not released first; nodes are
 * shared as they are borrowed, so the copy is valid while src's object lives). 0, or -1 on out
 * of memory with dst left released. For a caller that must change a model it does not own
 * (setres_apply over a shared snapshot's models: policy/model/modelctx.c).
 */
int egress_model_copy(struct egress_model *dst, const struct egress_model *src);

/* A deep copy of a set reference (NULL on out of memory); free with egress_setref_free(). */
struct egress_setref *egress_setref_dup(const struct egress_setref *src);
void egress_setref_free(struct egress_setref *r); /* NULL is a no-op */

#endif
