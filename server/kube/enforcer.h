#ifndef EGRESSGUARD_ENFORCER_H
#define EGRESSGUARD_ENFORCER_H

/*
 * Namespaced mode, reconciled from the cluster model (cluster.h): a thread that makes every AI
 * namespace hold the NetworkPolicies render.h's networkpolicy target builds for it, and every
 * other namespace none of egressguard's, through the Kubernetes API. Each round compares the
 * model with what is wanted (plan.h) and writes only the difference: it creates them in a new
 * namespace, creates them again in a namespace deleted and created again under the same name,
 * repairs drift, re-applies after a policy reload, and deletes what the policy no longer asks
 * for. Writes are conditional (create-if-absent, update and delete with the resourceVersion the
 * model saw), so several replicas can run it at once; a conflict just waits for the next round.
 * Rounds run when the model changes, after a reload (enforcer_wake), after failures with a
 * jittered backoff, and every 30 s; a namespace whose inputs (its resourceVersion, its
 * NetworkPolicies' and the policy's hash) did not change since it was last in step is skipped,
 * and every 10 minutes all are looked at again. Terminating namespaces are left to the
 * namespace controller.
 *
 * Admission never feeds it: pods are gated by enforcer_pod_gate() against the model snapshot
 * the decision used.
 */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "policy/base/err.h"
#include "policy/config/policy.h"
#include "policy/model/model.h"
#include "server/kube/cluster.h"
#include "server/kube/kube.h"
#include "server/webhook/live.h"
#include "server/webhook/log.h"

struct enforcer;

/* Starts the thread; takes ownership of kube; live, cluster and log are borrowed. NULL with e. */
struct enforcer *enforcer_start(struct kube *kube, struct live *live, struct cluster *cluster,
                                const struct log *lg, struct err *e);

/* Stops the thread (bounded: at most one request timeout) and frees everything. NULL no-op. */
void enforcer_stop(struct enforcer *en);

/* Starts a round now (after a policy reload). */
void enforcer_wake(struct enforcer *en);

/*
 * May a pod be created in namespace ns, judged on snapshot m? Yes when the namespace is not an
 * AI namespace (by name, or by `labels`: NULL means unknown, and then it may be one when the
 * policy has namespace selectors), or when every NetworkPolicy wanted there is in m. Otherwise
 * false, with the reason in msg. Called from request threads; no network, a short lock.
 */
bool enforcer_pod_gate(struct enforcer *en, const struct policy *pol, const struct model *m,
                       const char *ns, const json_t *labels, char *msg, size_t size);

#endif
