#ifndef EGRESSGUARD_LISTER_H
#define EGRESSGUARD_LISTER_H

/*
 * A LIST of one API of the cluster model, every page: `limit` items a page, the next asked for
 * by the continue token of the last, each page parsed into model items (wire.h) and handed to a
 * sink as it arrives, so a large cluster is never one reply in memory
 * (https://kubernetes.io/docs/reference/using-api/api-concepts/#retrieving-large-results-sets-in-chunks).
 * A continue token that expired (410 Gone) starts the list over when the sink can (restart),
 * at most three times. The one pager of the server: the watches' relists (watch.c) and the
 * one-shot snapshot (kubelist.c) both list through it.
 */

#include <stdatomic.h>
#include <stdbool.h>

#include "policy/base/err.h"
#include "policy/model/kinds.h"
#include "policy/model/wire.h"
#include "server/kube/kube.h"

struct lister_sink {
    void *cls;
    /*
     * One page. The sink may take item references out of page->items (setting the entries it
     * took to NULL, or page->n to 0 when it took them all); what is left is released after it.
     * 0, or -1 to fail the list (out of memory).
     */
    int (*page)(void *cls, struct wire_page *page);
    /* The list starts over: forget what the pages gave so far. NULL: a 410 fails the list. */
    void (*restart)(void *cls);
};

/*
 * Lists api through kube into sink, in namespace ns alone when ns is not NULL. *rv (may be NULL) gets the resourceVersion the list is at
 * (malloc()ed), for a watch to start from. Stops early when *stop becomes true (may be NULL).
 * 0, or -1 with e set: the API's status and message, a reply that is not a list, the sink's
 * failure ("out of memory"), or stopped.
 */
int lister_list(struct kube *kube, const struct model_api *api, const char *ns, long limit,
                const struct lister_sink *sink, const atomic_bool *stop, char **rv,
                struct err *e);

#endif
