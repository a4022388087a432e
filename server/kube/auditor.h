#ifndef EGRESSGUARD_AUDITOR_H
#define EGRESSGUARD_AUDITOR_H

/*
 * The continuous audit of serve: a thread of its own that keeps the audit (policy/audit/audit.h)
 * in step with the cluster and writes its results as PolicyReports (server/output/polreport.h)
 * through the API: one PolicyReport "egressguard" per namespace with audited objects, one
 * ClusterPolicyReport for cluster-scoped ones; only the reports whose results changed are
 * written (PUT conditional on the resourceVersion read, POST when absent, DELETE when a namespace
 * has no audited object left). Every replica audits (and counts in its metrics); only the one
 * holding the coordination.k8s.io/v1 Lease "egressguard-audit" (lease.h; in POD_NAMESPACE, else
 * the service account's namespace, else "egressguard") writes, and one that takes it over
 * rewrites every report once.
 *
 * Each round LISTs every kind the cluster model knows (kinds.h: Namespaces and the network
 * policy and address-set kinds, through the first API the server serves), puts every object
 * into the audit (an unchanged object costs a comparison, not a decision), forgets the objects
 * of a listed kind that are gone, and runs the audit. Rounds come every interval, at once after
 * auditor_wake() (a policy reload: the audit then judges by the new file) and when an exemption
 * changes state (audit_next_run()). Pods and workload controllers are not audited: listing
 * every Pod of a cluster each round is not cheap. A kind whose LIST fails keeps what was known
 * of it (nothing is forgotten on an error).
 *
 * When the PolicyReport CRDs (wgpolicyk8s.io/v1alpha2) are not served, the audit still runs and
 * counts; one log line says so, egressguard_audit_crd_missing is 1, and every round asks
 * discovery again, so reports appear once the CRDs are installed.
 *
 * The thread owns its API client and the audit; auditor_metrics() reads a copy made after each
 * round under a mutex, from any thread.
 */

#include <stdbool.h>

#include "policy/base/buf.h"
#include "policy/base/err.h"
#include "server/webhook/live.h"
#include "server/webhook/log.h"

struct auditor_config {
    const char *kubeconfig; /* NULL: the in-cluster service account */
    long interval_ms;       /* between rounds without events; 0: 30000 */
    struct live *live;      /* the policy in force (borrowed; outlives the auditor) */
    const struct log *log;  /* borrowed */
};

struct auditor;

/* Starts the thread (the first round at once). NULL with e set. */
struct auditor *auditor_start(const struct auditor_config *cfg, struct err *e);

/* Stops the thread (within a second or a request's timeout) and frees everything; NULL no-op. */
void auditor_stop(struct auditor *a);

/* A round as soon as possible (the policy file was reloaded). NULL is a no-op. */
void auditor_wake(struct auditor *a);

/*
 * Appends the Prometheus text: egressguard_audit_violations{namespace,rule},
 * egressguard_audit_last_run_timestamp_seconds, egressguard_audit_last_duration_seconds,
 * egressguard_audit_objects, egressguard_audit_crd_missing, egressguard_audit_lease_held.
 * Returns out's status.
 */
int auditor_metrics(struct auditor *a, struct buf *out);

#endif
