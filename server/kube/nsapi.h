#ifndef EGRESSGUARD_NSAPI_H
#define EGRESSGUARD_NSAPI_H

/*
 * Namespace labels from the Kubernetes API (GET /api/v1/namespaces/NAME): the fetch behind the
 * namespace-label cache (nscache.h). A few kube clients (kube.h, one per concurrent request, so
 * that connections are reused and no lock is held across a request) with short timeouts, because
 * the asking thread is answering an admission.
 */

#include <jansson.h>

#include "policy/base/err.h"

#define NSAPI_SLOTS 4 /* concurrent requests; nscache's max_fetches should not exceed it */

struct nsapi;

/*
 * Clients for the API of a kubeconfig (path) or, when NULL, the in-cluster service account, each
 * request bounded by timeout_ms in all. NULL with e set (no credentials, unreadable files).
 */
struct nsapi *nsapi_new(const char *kubeconfig, long timeout_ms, struct err *e);
void nsapi_free(struct nsapi *a); /* NULL is a no-op; no fetch may be under way */

/* The API server's URL, for messages. */
const char *nsapi_server(const struct nsapi *a);

/*
 * An nscache_fetch_fn (cls is the struct nsapi): 1 with *labels (new reference, an object) when
 * the namespace exists, 0 on 404, -1 with e set otherwise: an invalid name (not a DNS label), no
 * free client, no answer, another status ("HTTP 403"), or a reply that is not that Namespace.
 */
int nsapi_fetch(void *cls, const char *ns, json_t **labels, struct err *e);

#endif
