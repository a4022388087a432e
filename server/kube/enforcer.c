#include "server/kube/enforcer.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/model/plan.h"
#include "policy/render/render.h"
#include "server/kube/backoff.h"

#define RESYNC_MS 30000L          /* a round at least this often */
#define FULL_MS (10 * 60 * 1000L) /* every namespace looked at again, in step or not */
#define ATTEMPTS 3                /* per request, on no answer, 429 and 5xx */
#define NP_PATH "/apis/networking.k8s.io/v1/namespaces/%s/networkpolicies"

struct enforcer {
    struct kube *kube;
    struct live *live;
    struct cluster *cluster;
    const struct log *log;
    pthread_t thread;
    struct pause pause;
    struct backoff bo;
    /* The gate's cache: what is wanted under the policy with this hash (names matter only). */
    pthread_mutex_t mu;
    char gate_hash[17];
    json_t *gate_want;
    /* The thread's own: namespace → signature of its inputs when it was last in step. */
    json_t *memo;
    char memo_hash[17];
    int64_t memo_since;
};

static json_t *wanted(const struct policy *pol, const char *ns, struct err *e)
{
    const char *names[1] = {ns};
    struct render_opts ro = {.namespaces = names, .n_namespaces = 1};

    return render_build(pol, RENDER_NETWORKPOLICY, &ro, NULL, e);
}

bool enforcer_pod_gate(struct enforcer *en, const struct policy *pol, const struct model *m,
                       const char *ns, const json_t *labels, char *msg, size_t size)
{
    struct buf missing;
    struct err e = {0};
    bool ok;

    if (!labels && pol->n_ns_selectors && !policy_ns_is_ai(pol, ns, NULL)) {
        /* Unknown labels may make it an AI namespace: held like one (fail closed). */
    } else if (!policy_ns_is_ai(pol, ns, labels)) {
        return true;
    }
    buf_init(&missing, 1024);
    pthread_mutex_lock(&en->mu);
    if (!en->gate_want || strcmp(en->gate_hash, pol->hash)) {
        json_decref(en->gate_want);
        en->gate_want = wanted(pol, ns, &e);
        snprintf(en->gate_hash, sizeof(en->gate_hash), "%s", pol->hash);
    }
    ok = en->gate_want && plan_in_place(m, ns, en->gate_want, &missing);
    pthread_mutex_unlock(&en->mu);
    if (!ok)
        snprintf(msg, size,
                 "egressguard namespaced mode: the egress NetworkPolicies of namespace %s are not "
                 "in place yet (missing: %s)%s; pods are refused until they are, so that nothing "
                 "runs unprotected (retry shortly)",
                 ns, e.msg[0] ? e.msg : buf_str(&missing),
                 labels ? "" : "; its labels are unknown, so it may be an AI namespace");
    buf_release(&missing);
    return ok;
}

void enforcer_wake(struct enforcer *en)
{
    if (en)
        pause_wake(&en->pause);
}

/* A request retried on no answer, 429 and 5xx, briefly. Status or -1. */
static long call(struct enforcer *en, const char *method, const char *path, const json_t *body,
                 json_t **resp, struct err *e)
{
    struct backoff bo;
    long st = -1;

    backoff_init(&bo, 100, 1000, 0);
    for (int i = 0; i < ATTEMPTS; i++) {
        json_decref(*resp);
        *resp = NULL;
        st = kube_request(en->kube, method, path, body, resp, e);
        if (st >= 0 && st != 429 && st < 500)
            return st;
        if (st >= 0)
            err_set(e, "%s %s: HTTP %ld", method, path, st);
        if (pause_for(&en->pause, backoff_next(&bo)))
            return -1;
    }
    return st;
}

static const char *op_name(enum plan_op op)
{
    return op == PLAN_CREATE ? "create" : op == PLAN_UPDATE ? "update" : "delete";
}

/* One write. 0 done, 1 someone else moved first (next round), -1 failed (e set). */
static int execute(struct enforcer *en, const char *ns, const struct plan_action *a, struct err *e)
{
    char path[700];
    json_t *resp = NULL, *body = NULL;
    const char *method;
    long st;
    int rc;

    snprintf(path, sizeof(path), NP_PATH "%s%s", ns, a->op == PLAN_CREATE ? "" : "/",
             a->op == PLAN_CREATE ? "" : a->name);
    method = a->op == PLAN_CREATE ? "POST" : a->op == PLAN_UPDATE ? "PUT" : "DELETE";
    if (a->op == PLAN_DELETE &&
        !(body = json_pack("{s:s, s:s, s:{s:s}}", "apiVersion", "v1", "kind", "DeleteOptions",
                           "preconditions", "resourceVersion", a->rv ? a->rv : ""))) {
        return err_set(e, "out of memory");
    }
    st = call(en, method, path, a->doc ? a->doc : body, &resp, e);
    if (st >= 200 && st < 300)
        rc = 0;
    else if (st == 409 || (st == 404 && a->op != PLAN_CREATE))
        rc = 1; /* created, changed or deleted meanwhile (another replica, a person): look again */
    else {
        const char *msg = json_string_value(json_object_get(resp, "message"));
        if (st >= 0)
            err_set(e, "%s %s: HTTP %ld%s%.200s", method, path, st, msg ? ": " : "",
                    msg ? msg : "");
        rc = -1;
    }
    json_decref(resp);
    json_decref(body);
    return rc;
}

/* What a namespace's reconciliation depends on, as one number (FNV-1a over the parts). */
static uint64_t signature(const struct model *m, const struct model_item *ns,
                          const struct policy *pol)
{
    struct model_item *const *nps;
    size_t n = model_list(m, MODEL_NETWORKPOLICY, ns->name, &nps);
    uint64_t h = 1469598103934665603ull;
    const char *parts[3];

    for (size_t i = 0; i <= n; i++) {
        parts[0] = i < n ? nps[i]->name : ns->rv;
        parts[1] = i < n ? nps[i]->rv : pol->hash;
        parts[2] = "\n";
        for (int p = 0; p < 3; p++)
            for (const char *c = parts[p]; *c; c++)
                h = (h ^ (unsigned char)*c) * 1099511628211ull;
    }
    return h;
}

static bool has_managed(const struct model *m, const char *ns)
{
    struct model_item *const *nps;
    size_t n = model_list(m, MODEL_NETWORKPOLICY, ns, &nps);

    for (size_t i = 0; i < n; i++)
        if (nps[i]->managed)
            return true;
    return false;
}

/* One namespace. Returns the number of failed writes. */
static int reconcile(struct enforcer *en, const struct model *m, const struct model_item *ns,
                     const struct policy *pol)
{
    bool ai = policy_ns_is_ai(pol, ns->name, ns->labels);
    uint64_t sig = signature(m, ns, pol);
    char sig_text[20];
    json_t *want = NULL;
    struct plan p;
    struct err e = {0};
    int failures = 0;

    snprintf(sig_text, sizeof(sig_text), "%016llx", (unsigned long long)sig);
    {
        const char *was = json_string_value(json_object_get(en->memo, ns->name));
        if (was && !strcmp(was, sig_text))
            return 0;
    }
    plan_init(&p);
    if (!(want = ai ? wanted(pol, ns->name, &e) : json_array()) ||
        plan_namespace(m, ns->name, want, &p, &e) < 0) {
        log_msg(en->log, LOG_ERROR, "namespaced mode: %s: %s", ns->name,
                e.msg[0] ? e.msg : "out of memory");
        failures = 1;
        goto out;
    }
    for (size_t i = 0; i < p.n; i++) {
        struct err we = {0};
        int rc = execute(en, ns->name, &p.actions[i], &we);
        if (rc == 0)
            log_msg(en->log, LOG_INFO, "namespaced mode: namespace %s: %sd NetworkPolicy %s",
                    ns->name, op_name(p.actions[i].op), p.actions[i].name);
        else if (rc < 0) {
            failures++;
            log_msg(en->log, LOG_WARN,
                    "namespaced mode: namespace %s: cannot %s NetworkPolicy %s: %s", ns->name,
                    op_name(p.actions[i].op), p.actions[i].name, we.msg);
        }
    }
    /* In step only when nothing had to be written; otherwise the writes' events bring the next
     * round, which confirms it from the model. */
    if (!p.n && json_object_set_new(en->memo, ns->name, json_string(sig_text)) < 0)
        failures++;
out:
    plan_release(&p);
    json_decref(want);
    return failures;
}

static int round_(struct enforcer *en, const struct model *m, const struct policy *pol)
{
    struct model_item *const *nss;
    size_t n = model_list(m, MODEL_NAMESPACE, "", &nss);
    int64_t now = backoff_now_ms();
    int failures = 0;

    if (strcmp(en->memo_hash, pol->hash) || now - en->memo_since > FULL_MS) {
        json_object_clear(en->memo);
        snprintf(en->memo_hash, sizeof(en->memo_hash), "%s", pol->hash);
        en->memo_since = now;
    }
    for (size_t i = 0; i < n && !pause_stopping(&en->pause); i++) {
        if (nss[i]->terminating)
            continue; /* the namespace controller empties it; creating there is refused */
        if (!policy_ns_is_ai(pol, nss[i]->name, nss[i]->labels) && !has_managed(m, nss[i]->name))
            continue;
        failures += reconcile(en, m, nss[i], pol);
    }
    /* Namespaces gone from the model need no memory. */
    {
        const char *k;
        json_t *v, *tmp;
        json_object_foreach_safe(en->memo, tmp, k, v)
            if (!model_find(m, MODEL_NAMESPACE, "", k))
                json_object_del(en->memo, k);
    }
    return failures;
}

static void *run(void *cls)
{
    struct enforcer *en = cls;
    bool waiting_logged = false;

    for (;;) {
        struct model *m = cluster_model(en->cluster);
        struct policy_ref *ref = live_policy_get(en->live);
        long wait_ms = RESYNC_MS;

        if (!model_complete(m, MODEL_NAMESPACE) || !model_complete(m, MODEL_NETWORKPOLICY)) {
            if (!waiting_logged)
                log_msg(en->log, LOG_INFO, "namespaced mode: waiting for the cluster model");
            waiting_logged = true;
            wait_ms = 1000;
        } else if (round_(en, m, policy_ref_policy(ref)) > 0) {
            wait_ms = backoff_next(&en->bo);
        } else {
            backoff_reset(&en->bo);
        }
        live_policy_put(ref);
        model_unref(m);
        if (pause_for(&en->pause, wait_ms))
            return NULL;
    }
}

struct enforcer *enforcer_start(struct kube *kube, struct live *live, struct cluster *cluster,
                                const struct log *lg, struct err *e)
{
    struct enforcer *en = calloc(1, sizeof(*en));

    if (!en || !(en->memo = json_object()) || pause_init(&en->pause) < 0) {
        if (en)
            json_decref(en->memo);
        free(en);
        kube_free(kube);
        err_set(e, "out of memory");
        return NULL;
    }
    en->kube = kube;
    en->live = live;
    en->cluster = cluster;
    en->log = lg;
    backoff_init(&en->bo, 500, 30000, 0);
    kube_set_timeout(en->kube, 3000, 10000);
    if (pthread_mutex_init(&en->mu, NULL) != 0)
        goto fail;
    if (cluster_subscribe(cluster, &en->pause) < 0) {
        pthread_mutex_destroy(&en->mu);
        goto fail;
    }
    if (pthread_create(&en->thread, NULL, run, en) != 0) {
        cluster_unsubscribe(cluster, &en->pause);
        pthread_mutex_destroy(&en->mu);
        goto fail;
    }
    return en;
fail:
    pause_destroy(&en->pause);
    json_decref(en->memo);
    kube_free(kube);
    free(en);
    err_set(e, "cannot start the namespaced-mode thread");
    return NULL;
}

void enforcer_stop(struct enforcer *en)
{
    if (!en)
        return;
    cluster_unsubscribe(en->cluster, &en->pause);
    pause_stop(&en->pause);
    pthread_join(en->thread, NULL);
    pause_destroy(&en->pause);
    pthread_mutex_destroy(&en->mu);
    json_decref(en->gate_want);
    json_decref(en->memo);
    kube_free(en->kube);
    free(en);
}
