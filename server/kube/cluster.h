#ifndef EGRESSGUARD_CLUSTER_H
#define EGRESSGUARD_CLUSTER_H

/*
 * The server's cluster model, kept in step with the API server: discovery (discovery.h) says
 * which kinds are served, one watch per served kind (watch.h) feeds the model (model.h). A
 * discovery round repeats every interval, so a CRD installed later is watched from then on, and
 * a kind not served (or no longer) is marked so in the model: none of it exists, which decisions
 * may rely on as on a full list (model.h, enum model_state). A served kind whose LIST fails (a
 * role without the permission) stays unknown.
 *
 * Readers (request threads) take the newest snapshot with cluster_model(): a mutex held for a
 * pointer copy and a reference count, never across a network call or a model update. Watches
 * build the next snapshot under a separate writer lock and swap it in.
 *
 * Ready once a discovery round succeeded and every kind it found served has its first LIST in
 * the model; from then on it stays ready (a relist keeps the old objects until the new list is
 * in; a kind found later is unknown until listed, which decisions treat as "may be anything").
 */

#include <stdbool.h>

#include "policy/base/buf.h"
#include "policy/base/err.h"
#include "policy/model/model.h"
#include "policy/model/modelctx.h"
#include "server/kube/backoff.h"
#include "server/webhook/log.h"

struct cluster_options {
    const char *kubeconfig;                /* NULL: the in-cluster service account */
    long discovery_interval_ms;            /* 0: 60000 */
    long watch_timeout_s;                  /* 0: 240 (see watch.h) */
    long backoff_first_ms, backoff_max_ms; /* 0: 500 and 30000 */
    const struct log *log;                 /* borrowed */
};

struct cluster;

/* Reads the credentials and starts discovery and the watches. NULL with e set. */
struct cluster *cluster_start(const struct cluster_options *o, struct err *e);
void cluster_stop(struct cluster *c); /* stops every thread, frees everything; NULL no-op */

/* The newest snapshot: a new reference (model_unref it). Never NULL. */
struct model *cluster_model(struct cluster *c);

/*
 * The decision context (modelctx.h) of the newest snapshot: a new reference (modelctx_unref
 * it), built once per snapshot and shared. NULL with e set on out of memory.
 */
struct modelctx *cluster_context(struct cluster *c, struct err *e);

/* Ready (see above)? When not, why is appended to `why` (may be NULL). */
bool cluster_ready(struct cluster *c, struct buf *why);

/* Wakes p after every new snapshot (one subscriber: namespaced mode). NULL unsubscribes. */
void cluster_subscribe(struct cluster *c, struct pause *p);

/* The API server's URL, for messages. */
const char *cluster_server(const struct cluster *c);

/*
 * Appends the Prometheus text of the model and the watches: egressguard_model_objects{kind},
 * egressguard_model_synced, egressguard_watch_synced{kind}, egressguard_watch_restarts_total
 * {kind,reason}, egressguard_watch_last_event_age_seconds{kind},
 * egressguard_discovery_failures_total. Returns out's status.
 */
int cluster_metrics(struct cluster *c, struct buf *out);

#endif
