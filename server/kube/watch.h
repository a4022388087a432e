#ifndef EGRESSGUARD_WATCH_H
#define EGRESSGUARD_WATCH_H

/*
 * One kind kept in step with the API server, in a thread of its own, the way client-go's
 * reflector does it (https://kubernetes.io/docs/reference/using-api/api-concepts/, "Efficient
 * detection of changes"):
 *   1. LIST in pages (limit, continue) for the whole set and the resourceVersion it is at;
 *   2. WATCH from that resourceVersion with allowWatchBookmarks=true and a server-side
 *      timeoutSeconds (randomized between 4 and 8 minutes, so replicas do not reconnect in step);
 *      events are applied in order, bookmarks move the resourceVersion on;
 *   3. when the stream ends, watch again from the last resourceVersion; when the API answers 410
 *      Gone (that resourceVersion is too old) or an ERROR event says so, LIST again;
 *   4. on any failure (no answer, 5xx, 403, an event that does not parse) wait a jittered,
 *      doubling delay (backoff.h) and start again; an event that does not parse also forces a
 *      relist, since what was applied before it can no longer be trusted to be complete.
 * The thread owns its client (kube.h; libcurl handles are not shared between threads).
 */

#include <stddef.h>

#include "policy/base/err.h"
#include "policy/model/kinds.h"
#include "policy/model/wire.h"
#include "server/kube/kube.h"
#include "server/webhook/log.h"

/* Where a watch delivers; cluster.c implements it. Called from the watch's thread. */
struct watch_target {
    void *cls;
    /* A complete list of kind k: takes the item references. 0, or -1 on out of memory. */
    int (*relist)(void *cls, enum model_kind k, struct model_item **items, size_t n);
    /* Events in order (ADDED, MODIFIED, DELETED; bookmarks too, for the last-event time);
     * takes their items. 0, or -1 on out of memory. */
    int (*apply)(void *cls, enum model_kind k, struct wire_event *evs, size_t n);
    /* The watch starts over: reason "ended" (timeout or closed), "gone" (410: relist), "error"
     * or "bad_event". */
    void (*restarted)(void *cls, enum model_kind k, const char *reason);
};

struct watch_config {
    const struct model_api *api; /* what to watch */
    long page;                   /* LIST page size (0: 500) */
    long timeout_s;              /* lower bound of timeoutSeconds (0: 240; the upper is twice it) */
    long backoff_first_ms, backoff_max_ms; /* 0: 500 and 30000 */
    const struct log *log;
};

struct watch;

/* Starts the thread; takes kube (also on failure). NULL with e set. */
struct watch *watch_start(const struct watch_config *cfg, struct kube *kube,
                          const struct watch_target *target, struct err *e);

/* Stops the thread (within about a second: a blocked transfer notices once a second) and frees
 * everything. NULL is a no-op. */
void watch_stop(struct watch *w);

#endif
