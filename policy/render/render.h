#ifndef EGRESSGUARD_RENDER_H
#define EGRESSGUARD_RENDER_H

/*
 * Enforcement policies built from the policy file, so that the CNI itself keeps AI namespaces
 * inside the allow-list (egressguard's webhook only decides what is admitted). Pure: builds
 * json_t objects from struct policy; printing them is the CLI's business.
 *
 * Every object carries the label app.kubernetes.io/managed-by: egressguard and the annotation
 * egressguard.io/policy-hash. Allow entries become allow rules; the deny entries' CIDRs are carved
 * out (ipBlock/toCIDRSet except, Calico notNets) or denied first (Cilium egressDeny, Calico and
 * ANP Deny rules). What a target cannot express is not rendered, and a note says so.
 */

#include <jansson.h>
#include <stddef.h>

#include "policy/base/err.h"
#include "policy/config/policy.h"

enum render_target {
    RENDER_NETWORKPOLICY = 0, /* per namespace: default deny + allow-list (networking.k8s.io/v1) */
    RENDER_CILIUM,            /* CiliumClusterwideNetworkPolicy over labeled namespaces */
    RENDER_CALICO,            /* Calico GlobalNetworkPolicy over labeled namespaces */
    RENDER_ANP,               /* AdminNetworkPolicy + BaselineAdminNetworkPolicy */
};

#define RENDER_CALICO_ORDER 100 /* before Calico's order of Kubernetes NetworkPolicies, 1000 */

/* "networkpolicy", "cilium", "calico", "adminnetworkpolicy" → target. 0, or -1 if unknown. */
int render_target_parse(const char *name, enum render_target *out);

struct render_opts {
    const char *const *namespaces; /* networkpolicy: required, one set per namespace. cilium,
                                      calico: optional, for what only a namespaced policy can
                                      say (sameNamespace peers) */
    size_t n_namespaces;
};

/*
 * Builds the objects (a new JSON array, in a stable order). `notes` (may be NULL) receives a new
 * array of strings: what was not rendered and why (FQDN entries in plain NetworkPolicy, ...).
 * NULL with e set when there is nothing to render for (networkpolicy without a namespace) or on
 * out of memory.
 */
json_t *render_build(const struct policy *pol, enum render_target t, const struct render_opts *o,
                     json_t **notes, struct err *e);

#endif
