#ifndef EGRESSGUARD_HTTP_H
#define EGRESSGUARD_HTTP_H

/*
 * The HTTPS front: a libmicrohttpd daemon (GnuTLS, epoll, a thread pool) with the routes
 * POST /validate, POST /mutate, GET /healthz, GET /readyz and GET /metrics. Query strings
 * (kube-apiserver's `?timeout=10s`) are ignored. Bodies are capped, each (--max-body: 413) and
 * all together (--max-inflight-bytes: 429); errors are answered only after the body was read or
 * drained, so that the status reaches the client instead of a reset.
 * All state hangs off struct http (passed to libmicrohttpd as cls); nothing is global.
 * A decision that may depend on the labels of the request's namespace gets them from the cluster
 * model (cluster.h) and, when the model does not have them, from a GET of the Namespace
 * (nscache.h); requests never teach either of them anything (an AdmissionReview is a claim,
 * anyone who reaches the port can send one). Labels that stay unknown fail the decision closed
 * (nsunknown.h) unless ns_unknown_allow. /readyz answers 503 until the cluster model is ready.
 */

#include <stdbool.h>
#include <stddef.h>

#include "policy/base/err.h"
#include "server/kube/auditor.h"
#include "server/kube/cluster.h"
#include "server/kube/enforcer.h"
#include "server/webhook/live.h"
#include "server/webhook/log.h"
#include "server/webhook/metrics.h"
#include "server/kube/nscache.h"

#define HTTP_DEFAULT_MAX_BODY ((size_t)8 * 1024 * 1024)
#define HTTP_DEFAULT_MAX_INFLIGHT ((size_t)64 * 1024 * 1024)

struct http_options {
    int listen_fd;           /* from listener_open(); http_start() owns it from then on */
    unsigned threads;        /* worker threads (0: one per core) */
    size_t max_body;         /* 0: HTTP_DEFAULT_MAX_BODY */
    size_t max_inflight;     /* bodies held by all requests together (0: the default) */
    bool verify_clients;     /* /validate and /mutate need a client certificate that verifies
                                against live's client CAs (live_trust_get) with clientAuth */
    unsigned timeout;        /* seconds of silence before a connection is closed (0: 10) */
    unsigned max_connections; /* 0: 512 */
    struct enforcer *enforcer; /* namespaced mode (borrowed), or NULL */
    struct nscache *nscache;   /* GET of a Namespace on a model miss (borrowed), or NULL */
    struct cluster *cluster;   /* the watched cluster model (borrowed), or NULL */
    struct auditor *auditor;   /* the continuous audit, for /metrics (borrowed), or NULL */
    bool ns_unknown_allow;     /* --namespace-labels-unknown=allow */
};

struct http;

/* Starts serving. NULL with e set. live, metrics and log are borrowed and must outlive it. */
struct http *http_start(const struct http_options *o, struct live *live, struct metrics *m,
                        const struct log *lg, struct err *e);

/* The port actually bound (useful with port 0). */
unsigned http_port(const struct http *h);

/*
 * Shutting down, step 1: /readyz answers 503 from now on and every answer carries
 * "Connection: close", so that clients move to replicas that stay; new connections are still
 * accepted and answered.
 */
void http_drain(struct http *h);

/* Step 2: stops accepting new connections; those open go on. */
void http_quiesce(struct http *h);

/*
 * What stopping now would cut off: requests being received or answered, plus connections that
 * have not completed a request yet (a client that just connected is about to send one). Idle
 * keep-alive connections that were answered before are not counted.
 */
long http_pending(struct http *h);

/* Step 3: stops the daemon (closing every connection, idle keep-alive ones included), frees it. */
void http_stop(struct http *h);

#endif
