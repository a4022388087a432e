#ifndef EGRESSGUARD_NSCACHE_H
#define EGRESSGUARD_NSCACHE_H

/*
 * The labels of namespaces the cluster model (cluster.h) does not have yet (created a moment
 * ago, not delivered by the watch yet): name → labels (a JSON object carrying
 * kubernetes.io/metadata.name), fetched on a miss or once an entry is older than the TTL through
 * a fetch callback (the Kubernetes API, see nsapi.h), called in the asking thread with no lock
 * held. Nothing else fills it: admission requests never do. Concurrent misses of one namespace share one fetch; the
 * number of fetches under way is bounded, a miss beyond it is answered "unknown" at once. A failed
 * refresh keeps serving the old labels and is not retried before retry_ms. The table holds at
 * most max_entries names; a new one evicts first those without labels, then the oldest.
 *
 * Thread-safe: one mutex, never held across a fetch. A hit is a hash lookup and a json_incref
 * (jansson's reference counts are atomic); the cached objects are never modified once stored.
 */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/base/err.h"

/*
 * Fetches the labels of ns: 1 with *labels a new reference to a JSON object (its
 * metadata.labels, possibly empty), 0 when the namespace does not exist, -1 with e set when no
 * usable answer came. Called from request threads, concurrently for different namespaces.
 */
typedef int (*nscache_fetch_fn)(void *cls, const char *ns, json_t **labels, struct err *e);

/* Milliseconds on a monotonic clock. */
typedef int64_t (*nscache_clock_fn)(void *cls);

struct nscache_config {
    unsigned ttl_ms;        /* how long an entry is fresh (0: 60000) */
    unsigned retry_ms;      /* after a failed fetch of a name, none before this (0: 5000) */
    size_t max_entries;     /* 0: 10000 */
    unsigned max_fetches;   /* fetches under way at once (0: 4) */
    nscache_fetch_fn fetch; /* NULL: nothing is ever known */
    void *fetch_cls;
    nscache_clock_fn clock; /* NULL: CLOCK_MONOTONIC; tests inject their own */
    void *clock_cls;
};

enum nscache_source {
    NSCACHE_HIT = 0, /* a fresh entry */
    NSCACHE_FETCHED, /* fetched just now */
    NSCACHE_STALE,   /* an entry past its TTL: its refresh failed or is under way */
    NSCACHE_ABSENT,  /* the API says the namespace does not exist; no labels */
    NSCACHE_UNKNOWN, /* nothing known and nothing fetched (no fetch, failure, busy); no labels */
};

struct nscache_result {
    enum nscache_source source;
    bool fetched;      /* this call ran the fetch (whatever its outcome) */
    bool fetch_failed; /* ... and it failed: err says why */
    bool warn;         /* first UNKNOWN or failed-refresh STALE of this name in a TTL: log it */
    bool no_fetch;     /* the cache has no fetch */
    int64_t age_ms;    /* STALE: how old the labels are */
    struct err err;
};

struct nscache;

/* NULL on out of memory. The config is copied. */
struct nscache *nscache_new(const struct nscache_config *cfg);
void nscache_free(struct nscache *c); /* NULL is a no-op; no call may be under way */

/*
 * The labels of namespace ns: a new reference (json_decref it) to a JSON object that must not be
 * modified, or NULL when they are not known (r->source says why). r is always filled in.
 */
json_t *nscache_get(struct nscache *c, const char *ns, struct nscache_result *r);

/* Names in the table now (for tests and metrics). */
size_t nscache_size(struct nscache *c);

struct nscache_stats {
    size_t size;           /* names in the table */
    unsigned waiting;      /* threads waiting now for another thread's fetch of their name */
    unsigned long wakeups; /* times such a waiter woke up (any fetch finishing wakes them) */
};
void nscache_stats(struct nscache *c, struct nscache_stats *out);

#endif
