#ifndef EGRESSGUARD_WEBHOOKS_H
#define EGRESSGUARD_WEBHOOKS_H

/*
 * The ValidatingWebhookConfiguration and MutatingWebhookConfiguration (admissionregistration.k8s.io/v1)
 * that register egressguard with the API server. The rules (which kinds and operations) and the
 * namespace selector come from one table in webhooks.c: `egressguard render webhooks` prints them,
 * and deploy/cert-manager/webhooks.yaml is generated from that output (scripts/gen-deploy.sh; a
 * test fails when the file is stale), so there is one source of truth.
 */

#include <jansson.h>
#include <stddef.h>

struct err;

struct webhooks_opts {
    const char *ca_bundle;      /* base64 PEM; NULL leaves caBundle out (cert-manager injects it) */
    const char *service_ns;     /* Service form: namespace and name of the Service (port 443) */
    const char *service_name;
    const char *url;            /* URL form, "https://host[:port][/prefix]"; wins over service */
    const char *own_namespace;  /* never intercepted (with kube-system); NULL: service_ns or
                                   "egressguard" */
    const char *const *exclude; /* further namespaces never intercepted, replacing
                                   webhooks_default_exclude (NULL: those) */
    size_t n_exclude;
    const char *failure_policy; /* "Fail" or "Ignore"; NULL means Fail */
    int timeout_seconds;        /* 1..30; 0 means 5 */
    const char *inject_ca_from; /* "NS/CERTIFICATE" for cert-manager's cainjector, or NULL */
};

/*
 * The namespaces besides kube-system and egressguard's own that the webhooks leave alone by
 * default: those of the usual CNIs and of cert-manager. While the webhook is down (failurePolicy
 * Fail), their pods could not be recreated, and egressguard's own pods need them (a network, a
 * renewed certificate) to come back: a deadlock. NULL-terminated.
 */
extern const char *const webhooks_default_exclude[];

/* Both configurations as a new JSON array [validating, mutating]; the caller json_decref()s it.
 * NULL with `e` set when an option is invalid (bad URL, timeout, failure policy, names). */
json_t *webhooks_build(const struct webhooks_opts *o, struct err *e);

#endif
