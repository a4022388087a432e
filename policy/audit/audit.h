#ifndef EGRESSGUARD_AUDIT_H
#define EGRESSGUARD_AUDIT_H

/*
 * The audit: every object of a cluster that egressguard judges, known at once, each with its
 * verdict from the one decision path (decide_object(), as admission would answer a CREATE of the
 * object as it stands), grouped by namespace for the PolicyReports. Admission proves only what
 * went through it; the audit also judges what predates the installation, namespaces that become
 * AI by a later label, and the objects a narrower policy file or an ended exemption condemns.
 *
 * Events change what is known — audit_put(), audit_put_item(), audit_delete(),
 * audit_set_policy(), audit_touch() — and audit_run() then decides again only what they can
 * have changed:
 *   - an object put: that object (a put identical to what is known changes nothing);
 *   - a change of the decision context (audit_set_context()): what the caller touches;
 *   - a Namespace whose labels changed, or that appeared or went away: the Namespace, every
 *     object in it (it may have become an AI namespace, or stopped being one) and every
 *     cluster-scoped object (its namespace selectors may reach it);
 *   - another policy file: everything;
 *   - the clock passing an exemption's warning start or end (audit_next_run()): the objects
 *     that an exemption lets through now.
 * Conservative on purpose: deciding an object that did not change costs time, not correctness.
 * audit_run() says which namespaces' results changed, so a writer rewrites only their reports.
 *
 * Memory: the audit keeps what decisions read of each object — apiVersion, kind, metadata
 * without managedFields and the last-applied-configuration annotation, spec and the workload
 * fields, never status — and its verdict. Items of the cluster model are shared with it, not
 * copied (audit_put_item()).
 *
 * Pure and single-threaded: one owner calls everything (the server's watch thread, a test).
 */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/base/err.h"
#include "policy/config/policy.h"
#include "policy/config/setdb.h"
#include "policy/eval/compose.h"
#include "policy/eval/egress.h"
#include "policy/model/item.h"
#include "policy/verdict.h"

/* One judged object, as reports need it. Read-only for callers. */
struct audit_object {
    const char *api_version, *kind, *ns, *name; /* ns "" for cluster-scoped objects */
    const char *uid;                            /* "" when unknown */
    struct verdict v;                           /* the last verdict (when !failed) */
    bool failed;                                /* could not be evaluated: see e */
    struct err e;
};

struct audit;

struct audit *audit_new(void); /* NULL on out of memory */
void audit_free(struct audit *a);

/*
 * Judges by pol from now on (borrowed: it must live until it is replaced or the audit freed).
 * Everything is decided again at the next run.
 */
void audit_set_policy(struct audit *a, const struct policy *pol);

/*
 * What decisions see besides the object and the namespace labels: the cluster's other policies
 * and address sets (request_ctx's context, policies and sets; the server passes the cluster
 * model's decision context, modelctx.h, as admission does). Everything borrowed; all NULL: each
 * object alone.
 */
struct audit_context {
    const struct compose_input *context;
    const struct egress_list *policies;
    const struct setdb *sets;
};

/*
 * Decisions from the next run on see ctx (copied; what it points to must live until it is
 * replaced or the audit freed; NULL: none). Nothing is marked by this alone: the caller says
 * with audit_touch() whose verdicts the change can reach.
 */
void audit_set_context(struct audit *a, const struct audit_context *ctx);

/*
 * Marks for the next run the objects whose verdicts a change to the context can reach: the
 * objects judged among the others (network policies and address sets; not Pods, not Namespaces)
 * of namespace ns, of the cluster-scoped ones those `reach` names, and with
 * AUDIT_REACH_OTHER_NAMESPACES the namespaced policies that may reach the sets of another
 * namespace (a Calico namespaceSelector); ns NULL: every such object of the cluster. A
 * Namespace's label change (audit_put) marks those too when the namespace holds sets.
 * 0, or -1 on out of memory (the caller resynchronizes).
 */
#define AUDIT_REACH_CLUSTER_SETS 1u     /* GlobalNetworkSets, HostEndpoints, CiliumCIDRGroups */
#define AUDIT_REACH_CLUSTER_POLICIES 2u /* CCNPs, GlobalNetworkPolicies, (B)ANPs */
#define AUDIT_REACH_OTHER_NAMESPACES 4u /* namespaced policies reaching other namespaces' sets */
int audit_touch(struct audit *a, const char *ns, unsigned reach);

/*
 * Knows obj (copied from, not kept), replacing what was known of the same object (API group,
 * kind, namespace and name). 0, or -1 with e set: an object without kind or name (nothing to
 * report it by; nothing changes), or out of memory (the object may then be forgotten: the
 * caller resynchronizes).
 */
int audit_put(struct audit *a, const json_t *obj, struct err *e);

/*
 * audit_put() for an item of the cluster model from the API (model_item_wire(): its text is what
 * is judged, shared, not copied; a reference is taken). -1 with e set also for an item without
 * text.
 */
int audit_put_item(struct audit *a, struct model_item *it, struct err *e);

/* audit_delete() of the object an item of the model from the API is. 0, or -1 on OOM. */
int audit_delete_item(struct audit *a, const struct model_item *it);

/* Forgets an object (apiVersion, kind, namespace "" when cluster-scoped, name). 0, or -1 on OOM. */
int audit_delete(struct audit *a, const char *api_version, const char *kind, const char *ns,
                 const char *name);

/* What a run changed. */
struct audit_changes {
    char **namespaces; /* whose results changed ("" = cluster-scoped), sorted; owned */
    size_t n;
    size_t decided; /* objects decided in the run */
};

void audit_changes_release(struct audit_changes *c);

/*
 * Decides what the events since the last run can have changed, judging exemption lifetimes at
 * `now` (Unix seconds). Without a policy nothing is decided. 0 with *out filled (release it),
 * or -1 with e set (out of memory: what is known stays, marked for the next run).
 */
int audit_run(struct audit *a, int64_t now, struct audit_changes *out, struct err *e);

/*
 * The objects of namespace ns ("" for cluster-scoped ones), in no particular order: *out points
 * into the audit (borrowed until the next put, delete or run). Returns the count.
 */
size_t audit_objects(const struct audit *a, const char *ns, const struct audit_object *const **out);

/* Every namespace with objects ("" first when there are cluster-scoped ones), sorted; owned. */
int audit_namespaces(const struct audit *a, char ***out, size_t *n);

/* How many objects the audit knows. */
size_t audit_size(const struct audit *a);

/*
 * When an exemption next changes state after the last run (so a run is due then even without
 * events); EXEMPTION_NEVER when none will.
 */
int64_t audit_next_run(const struct audit *a);

#endif
