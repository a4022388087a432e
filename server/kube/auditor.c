#include "server/kube/auditor.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "policy/audit/audit.h"
#include "policy/audit/auditsync.h"
#include "policy/config/exemption.h"
#include "policy/model/modelctx.h"
#include "server/kube/backoff.h"
#include "server/kube/cluster.h"
#include "server/kube/kube.h"
#include "server/kube/lease.h"
#include "server/output/polreport.h"

#define DEFAULT_INTERVAL_MS 30000
#define REWRITE_ALL_MS 3600000 /* the safety net: every report written again hourly */
/* wgpolicyk8s.io/v1alpha2, the API of the PolicyReport CRDs
 * (https://github.com/kubernetes-sigs/wg-policy-prototypes/tree/master/policy-report). */
#define PR_GROUP "wgpolicyk8s.io"
#define PR_VERSION "v1alpha2"
#define LEASE_NAME "egressguard-audit"
#define SA_NAMESPACE "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

struct auditor {
    struct auditor_config cfg;
    struct kube *kube;
    struct audit *audit;
    struct policy_ref *pol; /* what the audit judges by: held while the audit borrows it */
    struct model *snap;   /* the snapshot the audit knows; NULL before the first sync */
    struct modelctx *ctx; /* its decision context: held while the audit borrows it */
    bool rewrite_all;  /* a report write failed, the CRDs just appeared, the Lease was taken
                          over, or the hourly rewrite is due: write them all */
    bool crd_missing;  /* the last check found no PolicyReport API */
    bool writer_checked; /* the CRDs and the Lease were asked for at least once */
    bool render_owed;    /* the metrics text is older than the audit's results */
    int64_t rendered_ms; /* when it was made (monotonic ms); 0: never */
    unsigned long passes, events, written; /* since start: passes after the first sync, model
                                              objects put or deleted, reports written */
    struct lease *lease; /* only its holder writes reports */
    int held;            /* the last lease_try(): 1 held, 0 another's, -1 unknown */
    struct pause pause;
    pthread_t thread;
    pthread_mutex_t mu; /* metrics only */
    char *metrics;      /* the last round's Prometheus text (under mu) */
};

/* A report of namespace ns: its URL, the collection's when name is false. */
static void report_path(const char *ns, bool name, struct buf *b)
{
    if (*ns)
        buf_printf(b, "/apis/" PR_GROUP "/" PR_VERSION "/namespaces/%s/policyreports", ns);
    else
        buf_puts(b, "/apis/" PR_GROUP "/" PR_VERSION "/clusterpolicyreports");
    if (name)
        buf_puts(b, "/" POLREPORT_NAME);
}

/* Namespace ns's report to the API: replaced when it exists (conditional on the
 * resourceVersion read), created when not. 0, or -1 with e set. */
static int write_report(struct auditor *a, const char *ns, int64_t now, struct err *e)
{
    const struct audit_object *const *objs;
    size_t n = audit_objects(a->audit, ns, &objs);
    struct polreport_entry *ents = n ? calloc(n, sizeof(*ents)) : NULL;
    const struct policy *pol = policy_ref_policy(a->pol);
    struct polreport_opts po = {.policy = pol->name ? pol->name : "egressguard", .now = now};
    json_t *rep = NULL, *cur = NULL;
    struct buf path;
    long st;
    int rc = -1;

    buf_init(&path, 0);
    if (n && !ents) {
        err_set(e, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const struct audit_object *o = objs[i];
        ents[i] = (struct polreport_entry){.api_version = o->api_version, .kind = o->kind,
                                           .ns = o->ns, .name = o->name,
                                           .uid = *o->uid ? o->uid : NULL,
                                           .v = o->failed ? NULL : &o->v, .error = &o->e};
    }
    if (!(rep = polreport_build(ns, ents, n, &po))) {
        err_set(e, "out of memory");
        goto out;
    }
    report_path(ns, true, &path);
    if (path.failed) {
        err_set(e, "out of memory");
        goto out;
    }
    st = kube_request(a->kube, "GET", buf_str(&path), NULL, &cur, e);
    if (st == 200) {
        const char *rv = json_string_value(
            json_object_get(json_object_get(cur, "metadata"), "resourceVersion"));
        json_t *md = json_object_get(rep, "metadata");
        if (rv && json_object_set_new(md, "resourceVersion", json_string(rv)) < 0) {
            err_set(e, "out of memory");
            goto out;
        }
        json_decref(cur);
        cur = NULL;
        st = kube_request(a->kube, "PUT", buf_str(&path), rep, &cur, e);
    } else if (st == 404) {
        json_decref(cur);
        cur = NULL;
        buf_release(&path);
        buf_init(&path, 0);
        report_path(ns, false, &path);
        st = path.failed ? err_set(e, "out of memory")
                         : kube_request(a->kube, "POST", buf_str(&path), rep, &cur, e);
    }
    if (st == 200 || st == 201)
        rc = 0;
    else if (st >= 0) {
        const char *msg = json_string_value(json_object_get(cur, "message"));
        err_set(e, "HTTP %ld%s%.200s", st, msg ? ": " : "", msg ? msg : "");
    }
out:
    buf_release(&path);
    json_decref(cur);
    json_decref(rep);
    free(ents);
    return rc;
}

/* Namespace ns's report removed; one that is not there is fine. 0, or -1 with e set. */
static int delete_report(struct auditor *a, const char *ns, struct err *e)
{
    struct buf path;
    json_t *resp = NULL;
    long st;

    buf_init(&path, 0);
    report_path(ns, true, &path);
    st = path.failed ? err_set(e, "out of memory")
                     : kube_request(a->kube, "DELETE", buf_str(&path), NULL, &resp, e);
    buf_release(&path);
    json_decref(resp);
    if (st == 200 || st == 202 || st == 404)
        return 0;
    if (st >= 0)
        err_set(e, "DELETE: HTTP %ld", st);
    return -1;
}

struct ns_rule_count {
    const char *ns, *rule;
    unsigned long n;
};

/* The Prometheus text of the audit as it stands after a round. malloc()ed, or NULL. */
static char *render(struct auditor *a, double started, double duration)
{
    char **nss = NULL;
    size_t nn = 0;
    struct buf b;

    buf_init(&b, 0);
    buf_puts(&b, "# HELP egressguard_audit_violations Violations the audit found, by namespace "
                 "(\"\" for cluster-scoped objects) and rule.\n"
                 "# TYPE egressguard_audit_violations gauge\n");
    if (audit_namespaces(a->audit, &nss, &nn) == 0) {
        for (size_t i = 0; i < nn; i++) {
            const struct audit_object *const *objs;
            size_t n = audit_objects(a->audit, nss[i], &objs);
            struct ns_rule_count *c = NULL;
            size_t nc = 0;

            /* Rules per namespace are few: a linear table keeps the order of appearance. */
            for (size_t j = 0; j < n; j++) {
                if (objs[j]->failed)
                    continue;
                for (size_t f = 0; f < objs[j]->v.n_findings; f++) {
                    const struct finding *fi = &objs[j]->v.findings[f];
                    size_t x;
                    if (!fi->violation)
                        continue;
                    for (x = 0; x < nc && strcmp(c[x].rule, fi->rule) != 0; x++)
                        ;
                    if (x == nc) {
                        struct ns_rule_count *g = realloc(c, (nc + 1) * sizeof(*c));
                        if (!g)
                            break;
                        c = g;
                        c[nc++] = (struct ns_rule_count){nss[i], fi->rule, 0};
                    }
                    c[x].n++;
                }
            }
            for (size_t x = 0; x < nc; x++)
                buf_printf(&b, "egressguard_audit_violations{namespace=\"%s\",rule=\"%s\"} %lu\n",
                           c[x].ns, c[x].rule, c[x].n);
            free(c);
        }
        for (size_t i = 0; i < nn; i++)
            free(nss[i]);
        free(nss);
    }
    buf_printf(&b,
               "# HELP egressguard_audit_objects Objects the audit knows.\n"
               "# TYPE egressguard_audit_objects gauge\n"
               "egressguard_audit_objects %zu\n"
               "# HELP egressguard_audit_passes_total Audit passes since the start, counted from "
               "the first one after the cluster model's first sync (which judges every object "
               "and writes every report).\n"
               "# TYPE egressguard_audit_passes_total counter\n"
               "egressguard_audit_passes_total %lu\n"
               "# HELP egressguard_audit_model_changes_total Objects of the cluster model put "
               "into or deleted from the audit since the start.\n"
               "# TYPE egressguard_audit_model_changes_total counter\n"
               "egressguard_audit_model_changes_total %lu\n"
               "# HELP egressguard_audit_reports_written_total PolicyReports written (or "
               "deleted) since the start.\n"
               "# TYPE egressguard_audit_reports_written_total counter\n"
               "egressguard_audit_reports_written_total %lu\n"
               "# HELP egressguard_audit_last_run_timestamp_seconds When the last audit round "
               "started.\n"
               "# TYPE egressguard_audit_last_run_timestamp_seconds gauge\n"
               "egressguard_audit_last_run_timestamp_seconds %.3f\n"
               "# HELP egressguard_audit_last_duration_seconds How long the last audit round "
               "took.\n"
               "# TYPE egressguard_audit_last_duration_seconds gauge\n"
               "egressguard_audit_last_duration_seconds %.6f\n"
               "# HELP egressguard_audit_crd_missing 1 when the PolicyReport CRDs are not "
               "served, so the audit's results are not written.\n"
               "# TYPE egressguard_audit_crd_missing gauge\n"
               "egressguard_audit_crd_missing %d\n"
               "# HELP egressguard_audit_lease_held 1 when this replica holds the audit's Lease "
               "and so writes the PolicyReports.\n"
               "# TYPE egressguard_audit_lease_held gauge\n"
               "egressguard_audit_lease_held %d\n",
               audit_size(a->audit), a->passes, a->events, a->written, started, duration, a->crd_missing ? 1 : 0,
               a->held == 1 ? 1 : 0);
    if (b.failed) {
        buf_release(&b);
        return NULL;
    }
    return b.data ? b.data : strdup("");
}

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Does the API server serve the PolicyReport CRDs? -1 when it did not answer. */
static int crds_served(struct auditor *a)
{
    json_t *resp = NULL;
    struct err e = {0};
    long st = kube_request(a->kube, "GET", "/apis/" PR_GROUP "/" PR_VERSION, NULL, &resp, &e);
    json_decref(resp);
    return st == 200 ? 1 : st == 404 ? 0 : -1;
}

/* The policy in force, into the audit when it is another file than the audit judges by. */
static void take_policy(struct auditor *a)
{
    struct policy_ref *ref = live_policy_get(a->cfg.live);

    if (!a->pol || policy_ref_policy(ref) != policy_ref_policy(a->pol)) {
        audit_set_policy(a->audit, policy_ref_policy(ref));
        live_policy_put(a->pol);
        a->pol = ref;
    } else {
        live_policy_put(ref);
    }
}

/*
 * The audit brought to the newest snapshot of the cluster model: what changed since the one it
 * knows is put into it, and decisions see that snapshot's context (the one admission uses; a
 * snapshot that changed only Pods shares it). Out of memory: a new audit, synced from scratch
 * at the next pass.
 */
static void take_model(struct auditor *a)
{
    struct err e = {0};
    struct model *snap = cluster_model(a->cfg.cluster);
    struct modelctx *ctx;
    struct auditsync_stats st;
    struct audit_context ac;

    if (snap == a->snap) {
        model_unref(snap);
        return;
    }
    if (!(ctx = cluster_context_of(a->cfg.cluster, snap, &e))) {
        log_msg(a->cfg.log, LOG_ERROR, "audit: %s", e.msg);
        model_unref(snap);
        return;
    }
    if (auditsync_apply(a->audit, a->snap, snap, &st, &e) < 0) {
        struct audit *fresh = audit_new();
        log_msg(a->cfg.log, LOG_ERROR, "audit: %s; starting over", e.msg);
        modelctx_unref(ctx);
        model_unref(snap);
        if (fresh) {
            audit_free(a->audit);
            a->audit = fresh;
            modelctx_unref(a->ctx);
            a->ctx = NULL;
            model_unref(a->snap);
            a->snap = NULL;
            live_policy_put(a->pol);
            a->pol = NULL;
            a->rewrite_all = true;
        }
        return;
    }
    if (st.skipped)
        log_msg(a->cfg.log, LOG_WARN, "audit: %zu objects not audited (the first: %s)", st.skipped,
                st.first.msg);
    ac = (struct audit_context){.context = &ctx->in, .policies = &ctx->policies, .sets = ctx->sets};
    audit_set_context(a->audit, &ac);
    /* After the audit stopped pointing into the old ones (it holds items of the new snapshot). */
    modelctx_unref(a->ctx);
    a->ctx = ctx;
    model_unref(a->snap);
    a->snap = snap;
    a->events += st.put + st.deleted;
}

/* Is the PolicyReport API served, and do we hold the Lease? Asked every interval. */
static void check_writer(struct auditor *a)
{
    struct err e = {0};
    int served = crds_served(a);

    if (served == 0 && !a->crd_missing)
        log_msg(a->cfg.log, LOG_WARN,
                "audit: the PolicyReport CRDs (" PR_GROUP "/" PR_VERSION ") are not served: "
                "results are not written (install deploy/policyreport/); asked again every "
                "%ld s",
                a->cfg.interval_ms / 1000);
    if (served == 1 && a->crd_missing)
        a->rewrite_all = true;
    if (served >= 0)
        a->crd_missing = served == 0;
    if (served == 1) {
        int was = a->held;
        a->held = lease_try(a->lease, a->kube, backoff_now_ms(), &e);
        if (a->held < 0)
            log_msg(a->cfg.log, LOG_WARN, "audit: %s: not writing reports", e.msg);
        else if (a->held != was)
            log_msg(a->cfg.log, LOG_INFO, "audit: %s the Lease " LEASE_NAME ": %s reports",
                    a->held ? "holding" : "another replica holds",
                    a->held ? "writing" : "not writing");
        /* Just taken over: the reports are as the previous holder left them. */
        if (a->held == 1 && was != 1)
            a->rewrite_all = true;
    }
    a->writer_checked = true;
    a->render_owed = true; /* the metrics say whether the CRDs are served and the Lease held */
}

/* The reports of the namespaces in ch (every one after rewrite_all) to the API. */
static void write_reports(struct auditor *a, const struct audit_changes *ch, int64_t now)
{
    char **nss = ch->namespaces;
    size_t nn = ch->n;
    bool all = a->rewrite_all;
    struct err e = {0};

    if (all && audit_namespaces(a->audit, &nss, &nn) < 0) {
        nss = ch->namespaces;
        nn = ch->n;
        all = false;
    }
    a->rewrite_all = false;
    for (size_t i = 0; i < nn; i++) {
        /* A namespace without audited objects left has no report: its last one is deleted
         * (gone already when the Namespace went). The cluster report stays, empty. */
        const struct audit_object *const *objs;
        bool empty = *nss[i] && audit_objects(a->audit, nss[i], &objs) == 0;
        if ((empty ? delete_report(a, nss[i], &e) : write_report(a, nss[i], now, &e)) < 0) {
            log_msg(a->cfg.log, LOG_WARN, "audit: PolicyReport %s: %s",
                    *nss[i] ? nss[i] : "(cluster)", e.msg);
            a->rewrite_all = true;
        } else {
            a->written++;
        }
    }
    if (all) {
        for (size_t i = 0; i < nn; i++)
            free(nss[i]);
        free(nss);
    }
}

/*
 * One pass: the policy and the model taken in, what changed decided, the reports that changed
 * written. `tick`: the interval is up, so the Lease is renewed and the CRDs asked for.
 */
static void pass(struct auditor *a, bool tick)
{
    double started = wall_now();
    int64_t t0 = backoff_now_ms();
    struct audit_changes ch = {0};
    struct err e = {0};
    char *text;

    /* Objects that predate the installation are judged at the first sync: not before, when
     * some kinds are still unlisted and their objects would read as absent. */
    if (!cluster_ready(a->cfg.cluster, NULL))
        return;
    take_policy(a);
    take_model(a);
    if (audit_run(a->audit, (int64_t)started, &ch, &e) < 0) {
        log_msg(a->cfg.log, LOG_ERROR, "audit: %s", e.msg);
        return;
    }
    if (tick || !a->writer_checked)
        check_writer(a);
    if (!a->crd_missing && a->held == 1 && (ch.n || a->rewrite_all))
        write_reports(a, &ch, (int64_t)started);
    a->passes++;
    /* The metrics walk every object: after a pass that changed something, at most once a
     * second (run() comes back within a second when one is owed). */
    a->render_owed = a->render_owed || ch.n || !a->rendered_ms || ch.decided;
    if (a->render_owed && (tick || backoff_now_ms() - a->rendered_ms >= 1000)) {
        text = render(a, started, (double)(backoff_now_ms() - t0) / 1000.0);
        if (text) {
            pthread_mutex_lock(&a->mu);
            free(a->metrics);
            a->metrics = text;
            pthread_mutex_unlock(&a->mu);
            a->rendered_ms = backoff_now_ms();
            a->render_owed = false;
        }
    }
    audit_changes_release(&ch);
}

/* Where the Lease lives: the Pod's namespace (POD_NAMESPACE from the downward API, or the
 * service account's), else "egressguard"; and who we are: POD_NAME, else the host name, with
 * the process id so that two servers on one host differ. */
static struct lease *make_lease(long duration_s)
{
    char ns[254] = "egressguard", holder[300], host[256] = "egressguard";
    const char *env = getenv("POD_NAMESPACE"), *pod = getenv("POD_NAME");
    FILE *f;

    if (env && *env && strlen(env) < sizeof(ns)) {
        snprintf(ns, sizeof(ns), "%s", env);
    } else if ((f = fopen(SA_NAMESPACE, "r"))) {
        if (fgets(ns, sizeof(ns), f))
            ns[strcspn(ns, "\n")] = '\0';
        fclose(f);
        if (!*ns)
            snprintf(ns, sizeof(ns), "egressguard");
    }
    if (pod && *pod)
        snprintf(host, sizeof(host), "%s", pod);
    else if (gethostname(host, sizeof(host) - 1) != 0)
        snprintf(host, sizeof(host), "egressguard");
    host[sizeof(host) - 1] = '\0';
    snprintf(holder, sizeof(holder), "%s_%ld", host, (long)getpid());
    return lease_new(ns, LEASE_NAME, holder, duration_s);
}

/*
 * Passes on every new snapshot of the model (cluster_subscribe), on auditor_wake(), when an
 * exemption changes state (audit_next_run(): a delay on the wall clock, re-measured at every
 * wake and capped by the interval, so a clock that jumps delays it by at most one interval) and
 * every interval (the Lease, the CRDs, a metrics render owed).
 */
static void *run(void *arg)
{
    struct auditor *a = arg;
    int64_t last_tick = 0, last_rewrite = 0;

    for (;;) {
        int64_t now = backoff_now_ms(), next, wait;
        bool tick = !last_tick || now - last_tick >= a->cfg.interval_ms;

        if (tick)
            last_tick = now;
        if (!last_rewrite)
            last_rewrite = now;
        if (now - last_rewrite >= REWRITE_ALL_MS) {
            a->rewrite_all = true;
            last_rewrite = now;
        }
        pass(a, tick);
        wait = a->cfg.interval_ms - (backoff_now_ms() - last_tick);
        next = audit_next_run(a->audit);
        if (next != EXEMPTION_NEVER) {
            int64_t until = (next - (int64_t)wall_now()) * 1000 + 1000;
            if (until < wait)
                wait = until < 0 ? 0 : until;
        }
        if (a->render_owed && wait > 1000)
            wait = 1000;
        if (!a->snap && wait > 1000)
            wait = 1000; /* not synced yet: readiness is polled, not signalled */
        if (pause_for(&a->pause, (long)(wait < 0 ? 0 : wait)))
            break;
    }
    return NULL;
}

struct auditor *auditor_start(const struct auditor_config *cfg, struct err *e)
{
    struct auditor *a = calloc(1, sizeof(*a));

    if (!a) {
        err_set(e, "out of memory");
        return NULL;
    }
    a->cfg = *cfg;
    if (!a->cfg.interval_ms)
        a->cfg.interval_ms = DEFAULT_INTERVAL_MS;
    a->held = -1;
    if (!(a->kube = kube_new(cfg->kubeconfig, e)))
        goto fail_kube;
    if (!(a->audit = audit_new())) {
        err_set(e, "out of memory");
        goto fail_audit;
    }
    /* Renewed every round: it lasts three rounds (at least 15 s), so a slow round does not
     * lose it, and a replica that stopped is replaced after that long. */
    if (!(a->lease = make_lease(a->cfg.interval_ms * 3 / 1000 > 15 ? a->cfg.interval_ms * 3 / 1000
                                                                    : 15))) {
        err_set(e, "out of memory");
        goto fail_lease;
    }
    if (pause_init(&a->pause) < 0) {
        err_set(e, "cannot make a condition variable");
        goto fail_pause;
    }
    if (pthread_mutex_init(&a->mu, NULL) != 0) {
        err_set(e, "cannot make a mutex");
        goto fail_mu;
    }
    if (cluster_subscribe(a->cfg.cluster, &a->pause) < 0) {
        err_set(e, "cannot follow the cluster model (too many subscribers)");
        goto fail_subscribe;
    }
    if (pthread_create(&a->thread, NULL, run, a) != 0) {
        err_set(e, "cannot start the audit thread");
        goto fail_thread;
    }
    return a;
fail_thread:
    cluster_unsubscribe(a->cfg.cluster, &a->pause);
fail_subscribe:
    pthread_mutex_destroy(&a->mu);
fail_mu:
    pause_destroy(&a->pause);
fail_pause:
    lease_free(a->lease);
fail_lease:
    audit_free(a->audit);
fail_audit:
    kube_free(a->kube);
fail_kube:
    free(a);
    return NULL;
}

void auditor_stop(struct auditor *a)
{
    if (!a)
        return;
    cluster_unsubscribe(a->cfg.cluster, &a->pause);
    pause_stop(&a->pause);
    pthread_join(a->thread, NULL);
    audit_free(a->audit);
    modelctx_unref(a->ctx);
    model_unref(a->snap);
    lease_free(a->lease);
    live_policy_put(a->pol);
    kube_free(a->kube);
    pause_destroy(&a->pause);
    pthread_mutex_destroy(&a->mu);
    free(a->metrics);
    free(a);
}

void auditor_wake(struct auditor *a)
{
    if (a)
        pause_wake(&a->pause);
}

int auditor_metrics(struct auditor *a, struct buf *out)
{
    pthread_mutex_lock(&a->mu);
    if (a->metrics)
        buf_puts(out, a->metrics);
    pthread_mutex_unlock(&a->mu);
    return out->failed ? -1 : 0;
}
