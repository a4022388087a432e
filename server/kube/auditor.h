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
 * It lists nothing itself: it follows the server's cluster model (cluster.h), which the watches
 * keep in step. Every new snapshot wakes it; what differs from the snapshot it knows goes into
 * the audit (auditsync.h: only the objects that changed, and those judged in their context),
 * which decides again only those, with the snapshot's decision context (modelctx.h) exactly as
 * admission decides, and only the reports whose results changed are written. The first pass
 * waits for the model's first sync (cluster_ready()), then judges every object, so what
 * predates the installation is reported at once. A policy reload (auditor_wake()) judges
 * everything again by the new file. An exemption that starts warning or ends needs no event:
 * the next pass is scheduled for that instant (audit_next_run()). Every interval the Lease is
 * renewed and the CRDs asked for; every hour every report is written again, a safety net for
 * reports edited or deleted by hand.
 *
 * When the PolicyReport CRDs (wgpolicyk8s.io/v1alpha2) are not served, the audit still runs and
 * counts; one log line says so, egressguard_audit_crd_missing is 1, and every interval asks
 * again, so reports appear once the CRDs are installed.
 *
 * The thread owns its API client and the audit; auditor_metrics() reads a copy made after each
 * pass (at most once a second) under a mutex, from any thread.
 */

#include <stdbool.h>

#include "policy/base/buf.h"
#include "policy/base/err.h"
#include "server/webhook/live.h"
#include "server/webhook/log.h"

struct cluster;

struct auditor_config {
    struct cluster *cluster; /* what is audited (borrowed; outlives the auditor) */
    const char *kubeconfig;  /* for the reports and the Lease; NULL: the service account */
    long interval_ms;        /* how often the Lease is renewed, the CRDs asked for; 0: 30000 */
    struct live *live;      /* the policy in force (borrowed; outlives the auditor) */
    const struct log *log;  /* borrowed */
};

struct auditor;

/* Starts the thread (the first pass once the model is synced). NULL with e set. */
struct auditor *auditor_start(const struct auditor_config *cfg, struct err *e);

/* Stops the thread (within a second or a request's timeout) and frees everything; NULL no-op. */
void auditor_stop(struct auditor *a);

/* A pass as soon as possible (the policy file was reloaded). NULL is a no-op. */
void auditor_wake(struct auditor *a);

/*
 * Appends the Prometheus text: egressguard_audit_violations{namespace,rule},
 * egressguard_audit_last_run_timestamp_seconds, egressguard_audit_last_duration_seconds,
 * egressguard_audit_objects, egressguard_audit_passes_total,
 * egressguard_audit_model_changes_total, egressguard_audit_reports_written_total,
 * egressguard_audit_crd_missing, egressguard_audit_lease_held (none before the first pass).
 * Returns out's status.
 */
int auditor_metrics(struct auditor *a, struct buf *out);

#endif
