#ifndef EGRESSGUARD_KUBE_H
#define EGRESSGUARD_KUBE_H

/*
 * A small Kubernetes API client on libcurl, HTTPS only: JSON requests and streamed GETs (the
 * watch) with a bearer token or a client certificate, the server verified against the cluster
 * CA. Configured from a kubeconfig or the in-cluster service account (kubeconfig.h).
 *
 * Credentials: a token read from a file (in-cluster, or a kubeconfig tokenFile) is re-read when
 * the file changes and after a 401, because bound service-account tokens rotate. Tokens, keys
 * and the Authorization header are wiped before their memory is freed (secret.h). Every TLS and
 * protocol option is checked: when libcurl refuses one, no request is made. A proxy from the
 * environment (https_proxy, HTTPS_PROXY, all_proxy, ALL_PROXY) that libcurl cannot parse is an
 * error that names the variable, never its value, and user:password@ is removed from every
 * message libcurl writes, since proxy URLs carry credentials.
 *
 * One struct kube is used by one thread at a time.
 */

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "policy/base/buf.h"
#include "policy/base/err.h"
#include "server/kube/kubeconfig.h"

struct kube;

/* From a kubeconfig (path) or, when path is NULL, the in-cluster service account. NULL with e. */
struct kube *kube_new(const char *kubeconfig, struct err *e);

/* From a loaded configuration, whose contents it takes (c is left released). NULL with e. */
struct kube *kube_from_config(struct kube_config *c, struct err *e);

void kube_free(struct kube *k); /* NULL is a no-op */

/* Does this process run in a cluster with a service account? (kubeconfig_have_in_cluster) */
bool kube_in_cluster(void);

/* Timeouts of later requests: to connect and in all, in milliseconds (defaults 3000 and 10000). */
void kube_set_timeout(struct kube *k, long connect_ms, long total_ms);

/*
 * One request: method "GET", "POST", "PUT" or "DELETE", path such as "/api/v1/namespaces/x"
 * (query included, already escaped), body (may be NULL) sent as JSON. Returns the HTTP status
 * (200, 404, 500, ...) with *resp the parsed JSON reply (new reference, or NULL when the body is
 * not JSON), or -1 with e set when no answer came (connection, TLS, timeout, a refused option).
 */
long kube_request(struct kube *k, const char *method, const char *path, const json_t *body,
                  json_t **resp, struct err *e);

/* Called with each chunk of a 200 stream; -1 stops the transfer. */
typedef int (*kube_data_fn)(void *cls, const char *data, size_t len);

/*
 * A streamed GET (a watch): chunks of a 200 answer go to on_data as they arrive; the body of any
 * other status is collected into *other (up to 64 KiB; may be NULL). The transfer ends after
 * total_ms (0: never; a watch bounds itself with timeoutSeconds), when on_data returns -1, when
 * *stop becomes true (checked about once a second) or when no byte arrived for idle_ms (0: no
 * limit). Returns the status, or -1 with e set when no answer came or the transfer broke off
 * (an aborted one says "stopped").
 */
long kube_stream(struct kube *k, const char *path, long total_ms, long idle_ms,
                 kube_data_fn on_data, void *cls, const atomic_bool *stop, struct buf *other,
                 struct err *e);

/* The API server's URL ("https://10.0.0.1:443"), for messages. */
const char *kube_server(const struct kube *k);

/* Appends s percent-encoded for a URL query value (all but A-Z a-z 0-9 - . _ ~). buf's status. */
int kube_query_escape(const char *s, struct buf *out);

/*
 * Removes user:password@ (and user@) from URLs in a message, in place: the user part of
 * "http: //u:p@proxy:3128" (without the space) becomes three stars.
 */
void kube_redact(char *msg);

#endif
