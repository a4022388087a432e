#include "server/kube/enforcer.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy/render/render.h"

#define MAX_NS 4096
#define ATTEMPTS 6            /* per request */
#define BACKOFF_FIRST_MS 100  /* doubled each attempt, capped */
#define BACKOFF_MAX_MS 2000
#define NS_WAIT_ROUNDS 30     /* GETs of a namespace that does not exist yet */
#define REQUEUE_ROUNDS 5      /* a namespace whose reconcile failed is retried this often */
#define REQUEUE_PAUSE_MS 500L /* after a failed round; doubled each further failure */

struct nsent {
    char *name;
    bool confirmed, queued;
    int failures;
};

struct enforcer {
    struct kube *kube;
    struct live *live;
    const struct log *log;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    struct nsent ns[MAX_NS];
    size_t n;
};

static struct nsent *find(struct enforcer *en, const char *ns)
{
    for (size_t i = 0; i < en->n; i++)
        if (!strcmp(en->ns[i].name, ns))
            return &en->ns[i];
    return NULL;
}

/* Under mu. */
static int enqueue_locked(struct enforcer *en, const char *ns)
{
    struct nsent *x = find(en, ns);

    if (!x) {
        if (en->n >= MAX_NS)
            return -1;
        x = &en->ns[en->n];
        if (!(x->name = strdup(ns)))
            return -1;
        x->confirmed = x->queued = false;
        x->failures = 0;
        en->n++;
    }
    if (!x->confirmed && !x->queued) {
        x->queued = true;
        pthread_cond_signal(&en->cv);
    }
    return 0;
}

int enforcer_enqueue(struct enforcer *en, const char *ns)
{
    int rc;

    pthread_mutex_lock(&en->mu);
    rc = enqueue_locked(en, ns);
    pthread_mutex_unlock(&en->mu);
    return rc;
}

bool enforcer_pod_gate(struct enforcer *en, const char *ns, bool ai, char *msg, size_t size)
{
    struct nsent *x;
    bool ok;

    pthread_mutex_lock(&en->mu);
    x = find(en, ns);
    ok = x ? x->confirmed : !ai;
    if (!ok)
        enqueue_locked(en, ns);
    pthread_mutex_unlock(&en->mu);
    if (!ok)
        snprintf(msg, size,
                 "egressguard namespaced mode: the egress NetworkPolicies of namespace %s are not "
                 "confirmed yet; pods are refused until they are, so that nothing runs "
                 "unprotected (retry shortly)",
                 ns);
    return ok;
}

/* Sleeps ms unless stopping; true when stopping. */
static bool nap(struct enforcer *en, long ms)
{
    struct timespec t;
    bool stop;

    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_sec += ms / 1000;
    t.tv_nsec += (ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&en->mu);
    if (!en->stop)
        pthread_cond_timedwait(&en->cv, &en->mu, &t);
    stop = en->stop;
    pthread_mutex_unlock(&en->mu);
    return stop;
}

/* A request retried on no answer, 429 and 5xx with bounded backoff. Status or -1. */
static long call(struct enforcer *en, const char *method, const char *path, const json_t *body,
                 json_t **resp)
{
    long ms = BACKOFF_FIRST_MS, st = -1;
    struct err e = {0};

    for (int i = 0; i < ATTEMPTS; i++) {
        json_decref(*resp);
        *resp = NULL;
        st = kube_request(en->kube, method, path, body, resp, &e);
        if (st >= 0 && st != 429 && st < 500)
            return st;
        log_msg(en->log, LOG_WARN, "kube: %s %s: %s (attempt %d of %d)", method, path,
                st < 0 ? e.msg : "server error", i + 1, ATTEMPTS);
        if (nap(en, ms))
            return -1;
        ms = ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : ms * 2;
    }
    return st < 0 ? -1 : st;
}

/* Does the live object differ from the wanted one in what we manage (labels, spec)? */
static bool drifted(const json_t *have, const json_t *want)
{
    const json_t *hl = json_object_get(json_object_get(have, "metadata"), "labels");
    const json_t *wl = json_object_get(json_object_get(want, "metadata"), "labels");
    const char *k;
    const json_t *v;

    json_object_foreach((json_t *)wl, k, v)
        if (!json_equal(json_object_get(hl, k), v))
            return true;
    return !json_equal(json_object_get(have, "spec"), json_object_get(want, "spec"));
}

/* One NetworkPolicy: GET, then POST when absent, PUT when drifted. 0 or -1. */
static int ensure(struct enforcer *en, const char *ns, json_t *want)
{
    const char *name = json_string_value(json_object_get(json_object_get(want, "metadata"), "name"));
    char path[600];
    json_t *resp = NULL;
    long st;
    int rc = -1;

    snprintf(path, sizeof(path), "/apis/networking.k8s.io/v1/namespaces/%s/networkpolicies/%s", ns,
             name);
    st = call(en, "GET", path, NULL, &resp);
    if (st == 404) {
        snprintf(path, sizeof(path), "/apis/networking.k8s.io/v1/namespaces/%s/networkpolicies",
                 ns);
        json_decref(resp);
        resp = NULL;
        st = call(en, "POST", path, want, &resp);
        rc = st == 201 || st == 200 || st == 409 ? 0 : -1; /* 409: created meanwhile; next pass checks */
    } else if (st == 200) {
        if (!drifted(resp, want)) {
            rc = 0;
        } else {
            const json_t *rv = json_object_get(json_object_get(resp, "metadata"), "resourceVersion");
            json_t *put = json_deep_copy(want);
            if (put && rv)
                json_object_set(json_object_get(put, "metadata"), "resourceVersion", (json_t *)rv);
            json_decref(resp);
            resp = NULL;
            st = put ? call(en, "PUT", path, put, &resp) : -1;
            json_decref(put);
            rc = st == 200 || st == 201 ? 0 : -1;
        }
    }
    if (rc < 0)
        log_msg(en->log, LOG_WARN, "namespaced mode: %s/%s: API answered %ld", ns, name, st);
    json_decref(resp);
    return rc;
}

static int reconcile(struct enforcer *en, const char *ns)
{
    struct policy_ref *ref = live_policy_get(en->live);
    const char *names[1] = {ns};
    struct render_opts ro = {.namespaces = names, .n_namespaces = 1};
    char path[300];
    struct err e = {0};
    json_t *docs = NULL, *resp = NULL, *d;
    size_t i;
    long st = 404;
    int rc = -1;

    /* The webhook is called before the Namespace exists: wait until the API has it. */
    snprintf(path, sizeof(path), "/api/v1/namespaces/%s", ns);
    for (int r = 0; r < NS_WAIT_ROUNDS && (st = call(en, "GET", path, NULL, &resp)) == 404; r++)
        if (nap(en, 200))
            goto out;
    if (st != 200) {
        log_msg(en->log, LOG_WARN, "namespaced mode: namespace %s: GET answered %ld", ns, st);
        goto out;
    }
    if (!(docs = render_build(policy_ref_policy(ref), RENDER_NETWORKPOLICY, &ro, NULL, &e))) {
        log_msg(en->log, LOG_ERROR, "namespaced mode: %s: %s", ns, e.msg);
        goto out;
    }
    rc = 0;
    json_array_foreach(docs, i, d)
        if (ensure(en, ns, d) < 0)
            rc = -1;
out:
    json_decref(resp);
    json_decref(docs);
    live_policy_put(ref);
    return rc;
}

/* The start-up LIST: every namespace with the enforcement labels. */
static void list_labeled(struct enforcer *en)
{
    struct policy_ref *ref = live_policy_get(en->live);
    const struct policy *pol = policy_ref_policy(ref);
    char path[1024];
    size_t off, i;
    json_t *resp = NULL, *it;

    off = (size_t)snprintf(path, sizeof(path), "/api/v1/namespaces?labelSelector=");
    for (size_t k = 0; k < pol->n_mut_labels && off < sizeof(path); k++)
        off += (size_t)snprintf(path + off, sizeof(path) - off, "%s%s%%3D%s", k ? "%2C" : "",
                                pol->mut_label_keys[k], pol->mut_label_values[k]);
    live_policy_put(ref);
    if (call(en, "GET", path, NULL, &resp) != 200) {
        log_msg(en->log, LOG_WARN, "namespaced mode: cannot list labeled namespaces");
    } else {
        json_array_foreach(json_object_get(resp, "items"), i, it) {
            const char *n = json_string_value(json_object_get(json_object_get(it, "metadata"), "name"));
            if (n)
                enforcer_enqueue(en, n);
        }
    }
    json_decref(resp);
}

static void *run(void *cls)
{
    struct enforcer *en = cls;

    list_labeled(en);
    for (;;) {
        char *ns = NULL;
        struct nsent *x = NULL;
        int rc;

        pthread_mutex_lock(&en->mu);
        while (!en->stop) {
            for (size_t i = 0; i < en->n && !x; i++)
                if (en->ns[i].queued)
                    x = &en->ns[i];
            if (x)
                break;
            pthread_cond_wait(&en->cv, &en->mu);
        }
        if (en->stop) {
            pthread_mutex_unlock(&en->mu);
            return NULL;
        }
        ns = strdup(x->name);
        pthread_mutex_unlock(&en->mu);
        if (!ns)
            return NULL;
        rc = reconcile(en, ns);
        int failures = 0;
        pthread_mutex_lock(&en->mu);
        x = find(en, ns);
        x->queued = false;
        if (rc == 0) {
            x->confirmed = true;
            x->failures = 0;
        } else if ((failures = ++x->failures) < REQUEUE_ROUNDS) {
            x->queued = true;
        }
        pthread_mutex_unlock(&en->mu);
        log_msg(en->log, rc == 0 ? LOG_INFO : LOG_WARN, "namespaced mode: namespace %s: %s", ns,
                rc == 0 ? "NetworkPolicies confirmed" : "not confirmed");
        free(ns);
        /*
         * A refusal that is not transient (403 while RBAC is missing, 422) fails at once: pause
         * before the next round instead of spinning, longer each time (0.5 s, 1 s, ... 8 s).
         */
        if (failures > 0 && nap(en, REQUEUE_PAUSE_MS << (failures > 5 ? 4 : failures - 1)))
            return NULL;
    }
}

struct enforcer *enforcer_start(struct kube *kube, struct live *live, const struct log *lg,
                                struct err *e)
{
    struct enforcer *en = calloc(1, sizeof(*en));

    if (!en) {
        kube_free(kube);
        err_set(e, "out of memory");
        return NULL;
    }
    en->kube = kube;
    en->live = live;
    en->log = lg;
    pthread_mutex_init(&en->mu, NULL);
    pthread_cond_init(&en->cv, NULL);
    if (pthread_create(&en->thread, NULL, run, en) != 0) {
        kube_free(kube);
        free(en);
        err_set(e, "cannot start the namespaced-mode thread");
        return NULL;
    }
    return en;
}

void enforcer_stop(struct enforcer *en)
{
    if (!en)
        return;
    pthread_mutex_lock(&en->mu);
    en->stop = true;
    pthread_cond_broadcast(&en->cv);
    pthread_mutex_unlock(&en->mu);
    pthread_join(en->thread, NULL);
    for (size_t i = 0; i < en->n; i++)
        free(en->ns[i].name);
    pthread_mutex_destroy(&en->mu);
    pthread_cond_destroy(&en->cv);
    kube_free(en->kube);
    free(en);
}
