#ifndef EGRESSGUARD_KINDS_H
#define EGRESSGUARD_KINDS_H

/*
 * The kinds of the cluster model: what egressguard needs to know about a cluster to judge an
 * object in its context (namespace labels, the other network policies, the address sets they
 * refer to), and how the Kubernetes API serves each of them. Static data, shared by the offline
 * model (`check`, built from input files) and the online one (the watch): an object belongs to a
 * kind by its API group and kind, whichever of them fed it.
 */

#include <stdbool.h>
#include <stddef.h>

#include "policy/doc/manifest.h"

enum model_kind {
    MODEL_NAMESPACE = 0,
    MODEL_NETWORKPOLICY,           /* networking.k8s.io NetworkPolicy */
    MODEL_CILIUM_NP,               /* cilium.io CiliumNetworkPolicy */
    MODEL_CILIUM_CCNP,             /* cilium.io CiliumClusterwideNetworkPolicy */
    MODEL_CILIUM_CIDRGROUP,        /* cilium.io CiliumCIDRGroup */
    MODEL_CALICO_NP,               /* projectcalico.org / crd.projectcalico.org NetworkPolicy */
    MODEL_CALICO_GNP,              /* ... GlobalNetworkPolicy */
    MODEL_CALICO_NETWORKSET,       /* ... NetworkSet */
    MODEL_CALICO_GLOBALNETWORKSET, /* ... GlobalNetworkSet */
    MODEL_CALICO_HOSTENDPOINT,     /* ... HostEndpoint (an address set: its expectedIPs) */
    MODEL_ANP,                     /* policy.networking.k8s.io AdminNetworkPolicy */
    MODEL_BANP,                    /* ... BaselineAdminNetworkPolicy */
    MODEL_N_KINDS
};

/* How an object of a kind is normalized (see item.h). */
enum model_form {
    MODEL_FORM_NAMESPACE, /* labels, terminating */
    MODEL_FORM_POLICY,    /* egress models through the kind's reader */
    MODEL_FORM_NETSET,    /* an address set: CIDRs (and domains) with labels */
    MODEL_FORM_RAW,       /* no reader in the engine yet: the object is kept as it is */
};

struct model_kind_info {
    const char *kind;  /* "NetworkPolicy" */
    const char *label; /* stable name for metrics and messages: "calico_networkpolicies" */
    bool namespaced;
    enum model_form form;
};

/* One API through which the API server may serve a kind. */
struct model_api {
    enum model_kind kind;
    const char *group;    /* "" for the core API */
    const char *version;  /* "v1", "v2", "v1alpha1" */
    const char *resource; /* the plural in URLs: "networkpolicies" */
};

/* NULL for a kind out of range. */
const struct model_kind_info *model_kind_info(enum model_kind k);

/*
 * Every API egressguard may watch, each kind's in order of preference: for Calico the
 * projectcalico.org/v3 API (served by Calico's API server) before the crd.projectcalico.org/v1
 * storage CRDs it serves from; a watcher uses the first one the API server serves, never two
 * for one kind (they show the same objects). *n is set to the count.
 */
const struct model_api *model_apis(size_t *n);

/* The kind of an object by its apiVersion's group and its kind; -1 when not modelled. */
int model_kind_of(const struct object *obj);

/* The kind of (group, kind); -1 when not modelled. */
int model_kind_lookup(const char *group, const char *kind);

#endif
