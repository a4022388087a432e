#ifndef EGRESSGUARD_POLREPORT_H
#define EGRESSGUARD_POLREPORT_H

/*
 * Verdicts as PolicyReports (wgpolicyk8s.io/v1alpha2, the format Kyverno writes and Policy
 * Reporter reads): one PolicyReport per namespace, one ClusterPolicyReport for cluster-scoped
 * objects, each named "egressguard" and labelled app.kubernetes.io/managed-by: egressguard.
 * `check -o policyreport` writes them offline; the server's audit writes the same objects.
 *
 * A report holds one result per object and rule that needs attention:
 *   fail  — violations in enforce or audit mode (audit admits, but the object still violates);
 *   warn  — violations in warn mode, an exemption that ends soon (exemption.expiring) or has
 *           ended (exemption.expired);
 *   error — an object that cannot be evaluated (rule "input");
 *   skip  — an object an exemption lets through unevaluated (rule "exemption").
 * Objects that pass have no result; summary.pass counts them. The message joins the findings'
 * field paths and sentences; properties carry the mode, the paths and, for egress, what escapes
 * the allow-list. A report keeps at most max_results results (fail first, then warn, error,
 * skip); its summary still counts every result, and the annotation
 * egressguard.io/results-omitted says how many were left out, so a report stays far below the
 * API server's object size limit however bad a namespace is.
 */

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/base/err.h"
#include "policy/verdict.h"

#define POLREPORT_MAX_RESULTS 500
#define POLREPORT_NAME "egressguard"

/* One judged object. Everything borrowed. */
struct polreport_entry {
    const char *api_version, *kind, *ns, *name; /* ns "" for cluster-scoped objects */
    const char *uid;                            /* metadata.uid, or NULL */
    const char *file;                           /* where it was read (offline), or NULL */
    int line;                                   /* ... and its line; 0 when unknown */
    const struct verdict *v; /* NULL when the object could not be evaluated: see error */
    const struct err *error;
};

struct polreport_opts {
    const char *policy; /* results' `policy`: the EgressPolicy's metadata.name */
    int64_t now;        /* results' timestamp (Unix seconds) */
    size_t max_results; /* 0: POLREPORT_MAX_RESULTS */
};

/*
 * The report of namespace ns ("" → the ClusterPolicyReport) over entries[0..n), in order.
 * Entries of other namespaces are not its business: the caller groups. A new reference, or NULL
 * on out of memory.
 */
json_t *polreport_build(const char *ns, const struct polreport_entry *entries, size_t n,
                        const struct polreport_opts *o);

#endif
