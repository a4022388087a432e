#ifndef EGRESSGUARD_HTTP_H
#define EGRESSGUARD_HTTP_H

/*
 * The HTTPS front: a libmicrohttpd daemon (GnuTLS, epoll, a thread pool) with the routes
 * POST /validate, POST /mutate, GET /healthz, GET /readyz and GET /metrics. Query strings
 * (kube-apiserver's `?timeout=10s`) are ignored. Bodies are capped; errors are answered only
 * after the body was read or drained, so that the status reaches the client instead of a reset.
 * All state hangs off struct http (passed to libmicrohttpd as cls); nothing is global.
 * A decision that may depend on the labels of the request's namespace gets them from the cluster
 * model (cluster.h) and, when the model does not have them, from a GET of the Namespace
 * (nscache.h); requests never teach either of them anything (an AdmissionReview is a claim,
 * anyone who reaches the port can send one). Labels that stay unknown fail the decision closed
 * (nsunknown.h) unless ns_unknown_allow. /readyz answers 503 until the cluster model is ready.
 */

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "policy/base/err.h"
#include "server/kube/cluster.h"
#include "server/kube/enforcer.h"
#include "server/webhook/live.h"
#include "server/webhook/log.h"
#include "server/webhook/metrics.h"
#include "server/kube/nscache.h"

#define HTTP_DEFAULT_MAX_BODY ((size_t)8 * 1024 * 1024)

struct http_options {
    struct sockaddr_storage addr; /* where to listen (port 0: any free port) */
    socklen_t addr_len;
    unsigned threads;        /* worker threads (0: one per core) */
    size_t max_body;         /* 0: HTTP_DEFAULT_MAX_BODY */
    const char *client_ca;   /* PEM text of CAs that client certificates must chain to, or NULL */
    unsigned timeout;        /* seconds of silence before a connection is closed (0: 10) */
    unsigned max_connections; /* 0: 512 */
    struct enforcer *enforcer; /* namespaced mode (borrowed), or NULL */
    struct nscache *nscache;   /* GET of a Namespace on a model miss (borrowed), or NULL */
    struct cluster *cluster;   /* the watched cluster model (borrowed), or NULL */
    bool ns_unknown_allow;     /* --namespace-labels-unknown=allow */
};

struct http;

/* Starts serving. NULL with e set. live, metrics and log are borrowed and must outlive it. */
struct http *http_start(const struct http_options *o, struct live *live, struct metrics *m,
                        const struct log *lg, struct err *e);

/* The port actually bound (useful with port 0). */
unsigned http_port(const struct http *h);

/* Stops accepting new connections and turns /readyz to 503; requests in flight go on. */
void http_quiesce(struct http *h);

/* Stops the daemon (closing every connection, idle keep-alive ones included) and frees it. */
void http_stop(struct http *h);

/*
 * Parses "ADDR:PORT", "[V6]:PORT" or ":PORT" (all interfaces). 0 or -1 with e set.
 * *loopback tells whether the address is 127.0.0.0/8 or ::1.
 */
int http_parse_listen(const char *text, struct sockaddr_storage *out, socklen_t *len,
                      bool *loopback, struct err *e);

#endif
