#ifndef EGRESSGUARD_KUBE_H
#define EGRESSGUARD_KUBE_H

/*
 * A tiny Kubernetes API client (libcurl, HTTPS only): JSON requests with a bearer token or a
 * client certificate, the server verified against the cluster CA. Configured from the in-cluster
 * service account (/var/run/secrets/kubernetes.io/serviceaccount/{token,ca.crt} and
 * KUBERNETES_SERVICE_HOST/PORT) or from a kubeconfig file (current-context; server,
 * certificate-authority or -data, token, client-certificate/-key or -data). One struct kube may
 * be used by one thread at a time.
 */

#include <jansson.h>
#include <stdbool.h>

#include "policy/base/err.h"

struct kube;

/* From a kubeconfig (path) or, when path is NULL, the in-cluster service account. NULL with e. */
struct kube *kube_new(const char *kubeconfig, struct err *e);
void kube_free(struct kube *k); /* NULL is a no-op */

/* Does this process run in a cluster with a service account (KUBERNETES_SERVICE_HOST set and the
 * token file readable)? Decides whether kube_new(NULL, ...) can work, without reading it. */
bool kube_in_cluster(void);

/* Timeouts of later requests: to connect and in all, in milliseconds (defaults 3000 and 10000). */
void kube_set_timeout(struct kube *k, long connect_ms, long total_ms);

/*
 * One request: method "GET", "POST", "PUT" or "DELETE", path such as "/api/v1/namespaces/x"
 * (query included), body (may be NULL) sent as JSON. Returns the HTTP status (200, 404, 500,
 * ...) with *resp the parsed JSON reply (new reference, or NULL when the body is not JSON), or
 * -1 with e set when no answer came (connection, TLS, timeout).
 */
long kube_request(struct kube *k, const char *method, const char *path, const json_t *body,
                  json_t **resp, struct err *e);

/* The API server's URL ("https://10.0.0.1:443"), for messages. */
const char *kube_server(const struct kube *k);

#endif
