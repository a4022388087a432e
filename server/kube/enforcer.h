#ifndef EGRESSGUARD_ENFORCER_H
#define EGRESSGUARD_ENFORCER_H

/*
 * Namespaced mode: a worker thread that creates the rendered NetworkPolicies (render.h,
 * networkpolicy target) in every AI namespace through the Kubernetes API, idempotently (GET,
 * then POST when absent or PUT when it drifted), with bounded retries. It learns namespaces from
 * Namespace admissions (enforcer_enqueue) and, at start, from a LIST of namespaces carrying the
 * enforcement label. Until a namespace's policies are confirmed, enforcer_pod_gate() says no, so
 * the validating webhook denies pods there and nothing runs unprotected.
 */

#include <stdbool.h>
#include <stddef.h>

#include "policy/base/err.h"
#include "server/kube/kube.h"
#include "server/webhook/live.h"
#include "server/webhook/log.h"

struct enforcer;

/* Starts the worker; takes ownership of kube. live and log are borrowed. NULL with e set. */
struct enforcer *enforcer_start(struct kube *kube, struct live *live, const struct log *lg,
                                struct err *e);

/* Stops the worker (bounded: at most one request timeout) and frees everything. */
void enforcer_stop(struct enforcer *en);

/* Queues a namespace for reconciling (no-op when already queued or confirmed). 0 or -1 OOM. */
int enforcer_enqueue(struct enforcer *en, const char *ns);

/*
 * May pods run in namespace ns? true when it is neither an AI namespace (`ai`, by the caller's
 * knowledge) nor one the enforcer tracks, or once its policies are confirmed; false otherwise,
 * queueing it and writing the reason into msg.
 */
bool enforcer_pod_gate(struct enforcer *en, const char *ns, bool ai, char *msg, size_t size);

#endif
