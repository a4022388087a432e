#ifndef EGRESSGUARD_METRICS_H
#define EGRESSGUARD_METRICS_H

/*
 * Counters for GET /metrics, in the Prometheus text format. Thread-safe (one mutex; every update
 * is a few additions). Label values that come from requests are bounded: kinds that are not plain
 * identifiers, and any kind beyond the first METRICS_MAX_SERIES series, count as "other", so a
 * client cannot grow the table without limit.
 */

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct metrics;

struct metrics *metrics_new(void); /* NULL on out of memory */
void metrics_free(struct metrics *m);

/* One answered admission: endpoint "validate"/"mutate", verdict "allow"/"warn"/"deny"/"error". */
void metrics_request(struct metrics *m, const char *endpoint, const char *kind,
                     const char *operation, const char *verdict, double seconds);

/* A request refused before any decision (status 400, 404, 405, 413, 415...). */
void metrics_http_error(struct metrics *m, int status);

/* A reload attempt of "policy", "certificate" or "client_ca". */
void metrics_reload(struct metrics *m, const char *what, bool ok);

/* A serving certificate refused on load or reload, and why. */
enum metrics_cert_refusal {
    METRICS_CERT_EXPIRED = 0,
    METRICS_CERT_NOT_YET_VALID,
    METRICS_CERT_INVALID, /* unreadable, or the key does not match */
};
void metrics_cert_refused(struct metrics *m, enum metrics_cert_refusal why);

/* The serving certificate now in use expires at this time (Unix seconds). */
void metrics_cert_expiry(struct metrics *m, time_t not_after);

/* The HTTP front's gauges, set just before rendering: requests being received or answered,
 * bytes of request bodies held, and the most that may be held (--max-inflight-bytes). */
void metrics_gauges(struct metrics *m, long in_flight, size_t body_bytes, size_t body_limit);

/* What a namespace-label lookup came to, when not a plain cache hit (hits are not counted). */
enum metrics_ns {
    METRICS_NS_API_OK = 0,    /* a GET of the Namespace answered */
    METRICS_NS_API_NOT_FOUND, /* ... with 404 */
    METRICS_NS_API_ERROR,     /* ... failed (no answer, 401/403/5xx, busy) */
    METRICS_NS_STALE,         /* labels older than the TTL served (refresh failed or under way) */
    METRICS_NS_UNKNOWN,       /* labels unknown: decided by the namespace's name only */
};
void metrics_ns_lookup(struct metrics *m, enum metrics_ns what);

/*
 * The exemptions of the serving policy by state (indexed by enum exemption_state: active,
 * expiring, expired), as of the caller's clock: set just before rendering.
 */
void metrics_exemptions(struct metrics *m, const size_t counts[3]);

/* The exposition text; malloc()ed, caller frees. NULL on out of memory. */
char *metrics_render(struct metrics *m, size_t *len);

#endif
