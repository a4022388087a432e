#include "server/kube/auditor.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "policy/audit/audit.h"
#include "policy/base/strmap.h"
#include "policy/config/exemption.h"
#include "policy/model/kinds.h"
#include "server/kube/backoff.h"
#include "server/kube/discovery.h"
#include "server/kube/kube.h"
#include "server/kube/lease.h"
#include "server/output/polreport.h"

#define DEFAULT_INTERVAL_MS 30000
#define LIST_PAGE 500
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
    int chosen[MODEL_N_KINDS];
    bool rewrite_all;  /* a report write failed, or the CRDs just appeared: write them all */
    bool crd_missing;  /* the last round found no PolicyReport API */
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

static void api_path(const struct model_api *api, struct buf *b)
{
    if (*api->group)
        buf_printf(b, "/apis/%s/%s/%s", api->group, api->version, api->resource);
    else
        buf_printf(b, "/api/%s/%s", api->version, api->resource);
}

static void object_key(const char *api_version, const char *kind, const char *ns,
                       const char *name, struct buf *b)
{
    buf_printf(b, "%s\x1f%s\x1f%s\x1f%s", api_version, kind, ns, name);
}

/*
 * Every object of one API into the audit (list items lack apiVersion and kind: they are added,
 * as the audit reports objects by them), each key into seen. 0, or -1 with e set (what was put
 * stays put; the caller forgets nothing of this kind this round).
 */
static int list_kind(struct auditor *a, enum model_kind k, const struct model_api *api,
                     struct strmap *seen, struct err *e)
{
    const char *kind = model_kind_info(k)->kind;
    char apiv[128];
    char *cont = NULL;
    int rc = -1;

    snprintf(apiv, sizeof(apiv), "%s%s%s", api->group, *api->group ? "/" : "", api->version);
    for (;;) {
        struct buf path;
        json_t *resp = NULL, *items, *it;
        const char *next;
        size_t i;
        long st;

        buf_init(&path, 0);
        api_path(api, &path);
        /* resourceVersion=0: served from the API server's watch cache, not from etcd, so a
         * round costs the API server little; a slightly old view is caught up by the next
         * round (https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions).
         * Later pages name only the continue token: the API refuses a resourceVersion with it. */
        buf_printf(&path, "?limit=%d", LIST_PAGE);
        if (cont) {
            buf_puts(&path, "&continue=");
            kube_query_escape(cont, &path);
        } else {
            buf_puts(&path, "&resourceVersion=0");
        }
        st = path.failed ? err_set(e, "out of memory")
                         : kube_request(a->kube, "GET", buf_str(&path), NULL, &resp, e);
        buf_release(&path);
        if (st != 200) {
            if (st >= 0)
                err_set(e, "LIST %s: HTTP %ld", api->resource, st);
            json_decref(resp);
            goto out;
        }
        items = json_object_get(resp, "items");
        json_array_foreach(items, i, it) {
            json_t *obj = json_copy(it); /* shallow: only the top level gains two keys */
            const json_t *md = json_object_get(it, "metadata");
            const char *ns = json_string_value(json_object_get(md, "namespace"));
            const char *name = json_string_value(json_object_get(md, "name"));
            struct buf key;
            struct err pe = {0};

            if (!obj || json_object_set_new(obj, "apiVersion", json_string(apiv)) < 0 ||
                json_object_set_new(obj, "kind", json_string(kind)) < 0) {
                json_decref(obj);
                json_decref(resp);
                err_set(e, "out of memory");
                goto out;
            }
            if (audit_put(a->audit, obj, &pe) < 0)
                log_msg(a->cfg.log, LOG_WARN, "audit: %s %s/%s: %s", kind, ns ? ns : "",
                        name ? name : "", pe.msg);
            json_decref(obj);
            if (!name)
                continue;
            buf_init(&key, 0);
            object_key(apiv, kind, ns ? ns : "", name, &key);
            if (key.failed || strmap_put(seen, buf_str(&key), seen) < 0) {
                buf_release(&key);
                json_decref(resp);
                err_set(e, "out of memory");
                goto out;
            }
            buf_release(&key);
        }
        next = json_string_value(json_object_get(json_object_get(resp, "metadata"), "continue"));
        free(cont);
        cont = next && *next ? strdup(next) : NULL;
        json_decref(resp);
        if (next && *next && !cont) {
            err_set(e, "out of memory");
            goto out;
        }
        if (!cont)
            break;
    }
    rc = 0;
out:
    free(cont);
    return rc;
}

/* The objects of kinds listed this round (listed[k]) that the lists did not show: gone. */
static int forget_gone(struct auditor *a, const bool listed[MODEL_N_KINDS],
                       const struct strmap *seen)
{
    char **nss = NULL;
    size_t nn = 0;
    int rc = 0;

    if (audit_namespaces(a->audit, &nss, &nn) < 0)
        return -1;
    for (size_t i = 0; i < nn && rc == 0; i++) {
        const struct audit_object *const *objs;
        size_t n = audit_objects(a->audit, nss[i], &objs), gone_n = 0;
        struct audit_object *gone = n ? calloc(n, sizeof(*gone)) : NULL;

        if (n && !gone) {
            rc = -1;
            break;
        }
        for (size_t j = 0; j < n; j++) {
            const struct audit_object *o = objs[j];
            const char *slash = strchr(o->api_version, '/');
            char group[128];
            int k;
            struct buf key;
            bool known;

            snprintf(group, sizeof(group), "%.*s", slash ? (int)(slash - o->api_version) : 0,
                     o->api_version);
            k = model_kind_lookup(group, o->kind);
            if (k < 0 || !listed[k])
                continue;
            buf_init(&key, 0);
            object_key(o->api_version, o->kind, o->ns, o->name, &key);
            known = !key.failed && strmap_get(seen, buf_str(&key));
            if (key.failed)
                rc = -1;
            buf_release(&key);
            if (!known && rc == 0)
                gone[gone_n++] = *o;
        }
        /* Deleted after the walk, by copies: audit_delete frees what audit_objects lent.
         * Every entry is copied (NULL when out of memory), so the frees below free only
         * copies. */
        for (size_t j = 0; j < gone_n; j++) {
            char *av = strdup(gone[j].api_version), *kd = strdup(gone[j].kind),
                 *ns = strdup(gone[j].ns), *nm = strdup(gone[j].name);
            gone[j].api_version = av;
            gone[j].kind = kd;
            gone[j].ns = ns;
            gone[j].name = nm;
            if (!av || !kd || !ns || !nm)
                rc = -1;
        }
        for (size_t j = 0; j < gone_n; j++) {
            if (rc == 0 &&
                audit_delete(a->audit, gone[j].api_version, gone[j].kind, gone[j].ns,
                             gone[j].name) < 0)
                rc = -1;
            free((char *)gone[j].api_version);
            free((char *)gone[j].kind);
            free((char *)gone[j].ns);
            free((char *)gone[j].name);
        }
        free(gone);
    }
    for (size_t i = 0; i < nn; i++)
        free(nss[i]);
    free(nss);
    return rc;
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
               audit_size(a->audit), started, duration, a->crd_missing ? 1 : 0,
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

static void round_once(struct auditor *a)
{
    struct policy_ref *ref = live_policy_get(a->cfg.live);
    double started = wall_now();
    int64_t t0 = backoff_now_ms(), now = (int64_t)started;
    bool listed[MODEL_N_KINDS] = {false};
    struct strmap *seen = strmap_new();
    struct audit_changes ch = {0};
    struct err e = {0};
    size_t napis;
    const struct model_api *apis = model_apis(&napis);
    char *text;
    int served;

    if (!a->pol || policy_ref_policy(ref) != policy_ref_policy(a->pol)) {
        audit_set_policy(a->audit, policy_ref_policy(ref));
        live_policy_put(a->pol);
        a->pol = ref;
    } else {
        live_policy_put(ref);
    }
    if (!seen)
        goto out;
    if (discovery_round(a->kube, a->chosen, &e) < 0) {
        log_msg(a->cfg.log, LOG_WARN, "audit: discovery: %s", e.msg);
        goto out; /* nothing is listed: nothing is forgotten, the next round tries again */
    }
    for (int k = 0; k < MODEL_N_KINDS; k++) {
        if (a->chosen[k] < 0 || (size_t)a->chosen[k] >= napis) {
            listed[k] = true; /* not served: none of its objects exist */
            continue;
        }
        if (list_kind(a, (enum model_kind)k, &apis[a->chosen[k]], seen, &e) == 0)
            listed[k] = true;
        else
            log_msg(a->cfg.log, LOG_WARN, "audit: %s", e.msg);
    }
    if (forget_gone(a, listed, seen) < 0)
        log_msg(a->cfg.log, LOG_ERROR, "audit: out of memory forgetting deleted objects");
    if (audit_run(a->audit, now, &ch, &e) < 0) {
        log_msg(a->cfg.log, LOG_ERROR, "audit: %s", e.msg);
        goto out;
    }
    served = crds_served(a);
    if (served == 0 && !a->crd_missing)
        log_msg(a->cfg.log, LOG_WARN,
                "audit: the PolicyReport CRDs (" PR_GROUP "/" PR_VERSION ") are not served: "
                "results are not written (install deploy/policyreport/); asked again each round");
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
    if (served == 1 && a->held == 1) {
        char **nss = ch.namespaces;
        size_t nn = ch.n;
        bool all = a->rewrite_all;

        if (all && audit_namespaces(a->audit, &nss, &nn) < 0) {
            nss = ch.namespaces;
            nn = ch.n;
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
            }
        }
        if (all) {
            for (size_t i = 0; i < nn; i++)
                free(nss[i]);
            free(nss);
        }
    }
    audit_changes_release(&ch);
out:
    strmap_free(seen);
    text = render(a, started, (double)(backoff_now_ms() - t0) / 1000.0);
    if (text) {
        pthread_mutex_lock(&a->mu);
        free(a->metrics);
        a->metrics = text;
        pthread_mutex_unlock(&a->mu);
    }
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

static void *run(void *arg)
{
    struct auditor *a = arg;

    for (;;) {
        int64_t next, wait = a->cfg.interval_ms;

        round_once(a);
        next = audit_next_run(a->audit);
        if (next != EXEMPTION_NEVER) {
            int64_t until = (next - (int64_t)wall_now()) * 1000 + 1000;
            if (until < wait)
                wait = until < 0 ? 0 : until;
        }
        if (pause_for(&a->pause, (long)wait))
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
    for (int k = 0; k < MODEL_N_KINDS; k++)
        a->chosen[k] = -1;
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
    if (pthread_create(&a->thread, NULL, run, a) != 0) {
        err_set(e, "cannot start the audit thread");
        goto fail_thread;
    }
    return a;
fail_thread:
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
    pause_stop(&a->pause);
    pthread_join(a->thread, NULL);
    audit_free(a->audit);
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
