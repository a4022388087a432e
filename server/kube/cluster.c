#include "server/kube/cluster.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "server/kube/discovery.h"
#include "server/kube/kube.h"
#include "server/kube/watch.h"

static const char *const reasons[] = {"ended", "gone", "error", "bad_event"};
#define N_REASONS 4

/* What a watch's callbacks know: which cluster, which kind, and which generation of that
 * kind's watch, so that a watch being replaced cannot write into the model any more. */
struct feed {
    struct cluster *c;
    enum model_kind kind;
    unsigned gen;
};

struct kind_state {
    int api; /* index into model_apis(), -1: not served (or not discovered yet) */
    struct watch *watch;
    struct feed *feed;
    unsigned gen;
    bool synced;        /* the first LIST since this API was chosen is in */
    bool not_served;    /* a discovery round found no API serving it (the model says so) */
    int64_t last_event; /* CLOCK_MONOTONIC ms of the last list or event; 0: none */
    unsigned long restarts[N_REASONS];
};

struct cluster {
    struct cluster_options o;
    char *kubeconfig;
    char *server;
    pthread_mutex_t wmu; /* the writer and the kind states */
    struct model_writer *w;
    struct kind_state k[MODEL_N_KINDS];
    bool discovered, ready;
    unsigned long discovery_failures;
    struct pause *subscriber;
    pthread_mutex_t rmu; /* the snapshot pointer only */
    struct model *cur;
    struct modelctx_cache *ctxs; /* the decision context of the newest snapshot asked for */
    struct kube *disc_kube;
    struct pause disc_pause;
    pthread_t disc_thread;
};

/* Under wmu: publishes the writer's changes and swaps the snapshot in. */
static void publish_locked(struct cluster *c)
{
    struct model *m = model_writer_publish(c->w), *old;

    if (!m) {
        log_msg(c->o.log, LOG_ERROR, "cluster model: out of memory publishing a snapshot");
        return;
    }
    pthread_mutex_lock(&c->rmu);
    old = c->cur;
    c->cur = m;
    pthread_mutex_unlock(&c->rmu);
    if (old != m && c->subscriber)
        pause_wake(c->subscriber);
    model_unref(old);
}

static bool current(struct feed *f)
{
    return f->c->k[f->kind].feed == f && f->c->k[f->kind].gen == f->gen;
}

static int on_relist(void *cls, enum model_kind k, struct model_item **items, size_t n)
{
    struct feed *f = cls;
    struct cluster *c = f->c;
    int rc = 0;

    pthread_mutex_lock(&c->wmu);
    if (!current(f)) {
        for (size_t i = 0; i < n; i++)
            model_item_unref(items[i]);
    } else if ((rc = model_writer_replace(c->w, k, items, n)) == 0) {
        c->k[k].synced = true;
        c->k[k].last_event = backoff_now_ms();
        publish_locked(c);
    }
    pthread_mutex_unlock(&c->wmu);
    return rc;
}

static int on_apply(void *cls, enum model_kind k, struct wire_event *evs, size_t n)
{
    struct feed *f = cls;
    struct cluster *c = f->c;
    int rc = 0;

    pthread_mutex_lock(&c->wmu);
    if (!current(f)) {
        pthread_mutex_unlock(&c->wmu);
        return 0;
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct model_item *it = evs[i].item;
        if (evs[i].type == WIRE_ADDED || evs[i].type == WIRE_MODIFIED) {
            evs[i].item = NULL; /* taken */
            rc = model_writer_put(c->w, it);
        } else if (evs[i].type == WIRE_DELETED) {
            rc = model_writer_delete(c->w, k, it->ns, it->name);
        }
    }
    c->k[k].last_event = backoff_now_ms();
    publish_locked(c);
    pthread_mutex_unlock(&c->wmu);
    return rc;
}

static void on_restarted(void *cls, enum model_kind k, const char *reason)
{
    struct feed *f = cls;
    struct cluster *c = f->c;

    pthread_mutex_lock(&c->wmu);
    for (int r = 0; r < N_REASONS; r++)
        if (!strcmp(reasons[r], reason))
            c->k[k].restarts[r]++;
    pthread_mutex_unlock(&c->wmu);
}

/* A watch for kind k through API index api, with a fresh feed generation. */
static int start_watch(struct cluster *c, enum model_kind k, int api, struct err *e)
{
    size_t n;
    const struct model_api *apis = model_apis(&n);
    struct watch_config cfg = {.api = &apis[api],
                               .timeout_s = c->o.watch_timeout_s,
                               .backoff_first_ms = c->o.backoff_first_ms,
                               .backoff_max_ms = c->o.backoff_max_ms,
                               .log = c->o.log};
    struct watch_target t = {.relist = on_relist, .apply = on_apply, .restarted = on_restarted};
    struct feed *f = calloc(1, sizeof(*f));
    struct kube *kube;
    struct watch *w;

    if (!f)
        return err_set(e, "out of memory");
    if (!(kube = kube_new(c->kubeconfig, e))) {
        free(f);
        return -1;
    }
    pthread_mutex_lock(&c->wmu);
    f->c = c;
    f->kind = k;
    f->gen = ++c->k[k].gen;
    c->k[k].feed = f;
    c->k[k].api = api;
    c->k[k].synced = false;
    pthread_mutex_unlock(&c->wmu);
    t.cls = f;
    if (!(w = watch_start(&cfg, kube, &t, e)))
        return -1; /* the kind stays unsynced: not ready, decisions see it unknown */
    pthread_mutex_lock(&c->wmu);
    c->k[k].watch = w;
    pthread_mutex_unlock(&c->wmu);
    log_msg(c->o.log, LOG_INFO, "watching %s (%s%s%s)", model_kind_info(k)->label, apis[api].group,
            *apis[api].group ? "/" : "", apis[api].version);
    return 0;
}

/* Applies one discovery round: watches for kinds newly served, none for kinds gone. */
static void apply_round(struct cluster *c, const int chosen[MODEL_N_KINDS])
{
    for (int k = 0; k < MODEL_N_KINDS; k++) {
        struct watch *old = NULL;
        struct feed *old_feed = NULL;
        struct err e = {0};

        pthread_mutex_lock(&c->wmu);
        if (c->k[k].api == chosen[k] && (chosen[k] < 0 ? c->k[k].not_served : !!c->k[k].watch)) {
            pthread_mutex_unlock(&c->wmu);
            continue;
        }
        old = c->k[k].watch;
        old_feed = c->k[k].feed;
        c->k[k].watch = NULL;
        c->k[k].feed = NULL;
        c->k[k].gen++;
        c->k[k].api = chosen[k];
        c->k[k].synced = false;
        if (chosen[k] < 0) {
            /*
             * Not served (discovery answered, and no API of the kind is listed: its CRD is not
             * installed): there are none, which is knowledge, as a full list is. Its objects,
             * if it was served before, went with its API.
             */
            if (model_writer_set_not_served(c->w, (enum model_kind)k) == 0) {
                c->k[k].not_served = true;
                publish_locked(c);
            }
        } else if (old || c->k[k].not_served) {
            /* Served through another API, or again: unknown until its first LIST is in. */
            if (model_writer_forget(c->w, (enum model_kind)k) == 0) {
                c->k[k].not_served = false;
                publish_locked(c);
            }
        }
        pthread_mutex_unlock(&c->wmu);
        if (old) {
            log_msg(c->o.log, LOG_INFO, "%s: no longer served as before; watch stopped",
                    model_kind_info((enum model_kind)k)->label);
            watch_stop(old); /* outside the lock: its thread may be waiting for it */
        }
        free(old_feed);
        if (chosen[k] >= 0 && start_watch(c, (enum model_kind)k, chosen[k], &e) < 0)
            log_msg(c->o.log, LOG_ERROR, "watch %s: %s", model_kind_info((enum model_kind)k)->label,
                    e.msg);
    }
}

static void *discover(void *cls)
{
    struct cluster *c = cls;
    struct backoff bo;

    backoff_init(&bo, c->o.backoff_first_ms > 0 ? c->o.backoff_first_ms : 500,
                 c->o.discovery_interval_ms, 0);
    for (;;) {
        int chosen[MODEL_N_KINDS];
        struct err e = {0};
        long wait_ms = c->o.discovery_interval_ms;

        if (discovery_round(c->disc_kube, chosen, &e) == 0) {
            apply_round(c, chosen);
            pthread_mutex_lock(&c->wmu);
            c->discovered = true;
            pthread_mutex_unlock(&c->wmu);
            backoff_reset(&bo);
        } else {
            bool first;
            pthread_mutex_lock(&c->wmu);
            first = !c->discovery_failures++;
            if (!c->discovered)
                wait_ms = backoff_next(&bo); /* not ready yet: try again soon */
            pthread_mutex_unlock(&c->wmu);
            log_msg(c->o.log, first ? LOG_WARN : LOG_DEBUG, "API discovery: %s", e.msg);
        }
        if (pause_for(&c->disc_pause, wait_ms))
            return NULL;
    }
}

/* What cluster_start() allocates before any thread or lock, and the struct itself. */
static void free_parts(struct cluster *c)
{
    kube_free(c->disc_kube);
    model_unref(c->cur);
    modelctx_cache_free(c->ctxs);
    model_writer_free(c->w);
    free(c->kubeconfig);
    free(c->server);
    free(c);
}

struct cluster *cluster_start(const struct cluster_options *o, struct err *e)
{
    struct cluster *c = calloc(1, sizeof(*c));

    if (!c) {
        err_set(e, "out of memory");
        return NULL;
    }
    c->o = *o;
    if (c->o.discovery_interval_ms <= 0)
        c->o.discovery_interval_ms = 60000;
    for (int k = 0; k < MODEL_N_KINDS; k++)
        c->k[k].api = -1;
    if ((o->kubeconfig && !(c->kubeconfig = strdup(o->kubeconfig))) ||
        !(c->w = model_writer_new()) || !(c->cur = model_writer_publish(c->w)) ||
        !(c->ctxs = modelctx_cache_new())) {
        err_set(e, "out of memory");
        goto fail_alloc;
    }
    if (!(c->disc_kube = kube_new(c->kubeconfig, e)))
        goto fail_alloc;
    kube_set_timeout(c->disc_kube, 5000, 15000);
    if (!(c->server = strdup(kube_server(c->disc_kube)))) {
        err_set(e, "out of memory");
        goto fail_alloc;
    }
    if (pthread_mutex_init(&c->wmu, NULL) != 0)
        goto fail_alloc;
    if (pthread_mutex_init(&c->rmu, NULL) != 0)
        goto fail_wmu;
    if (pause_init(&c->disc_pause) < 0)
        goto fail_rmu;
    if (pthread_create(&c->disc_thread, NULL, discover, c) != 0)
        goto fail_pause;
    return c;
fail_pause:
    pause_destroy(&c->disc_pause);
fail_rmu:
    pthread_mutex_destroy(&c->rmu);
fail_wmu:
    pthread_mutex_destroy(&c->wmu);
    if (!e->msg[0])
        err_set(e, "cannot start the cluster watch");
fail_alloc:
    free_parts(c);
    return NULL;
}

void cluster_stop(struct cluster *c)
{
    if (!c)
        return;
    pause_stop(&c->disc_pause);
    pthread_join(c->disc_thread, NULL);
    for (int k = 0; k < MODEL_N_KINDS; k++) {
        watch_stop(c->k[k].watch); /* no lock: discovery is over, nobody else starts one */
        free(c->k[k].feed);
    }
    pause_destroy(&c->disc_pause);
    pthread_mutex_destroy(&c->rmu);
    pthread_mutex_destroy(&c->wmu);
    free_parts(c);
}

struct model *cluster_model(struct cluster *c)
{
    struct model *m;

    pthread_mutex_lock(&c->rmu);
    m = model_ref(c->cur);
    pthread_mutex_unlock(&c->rmu);
    return m;
}

struct modelctx *cluster_context(struct cluster *c, struct err *e)
{
    struct model *m = cluster_model(c);
    struct modelctx *ctx = modelctx_cache_get(c->ctxs, m, e);

    model_unref(m);
    return ctx;
}

bool cluster_ready(struct cluster *c, struct buf *why)
{
    bool ready;

    pthread_mutex_lock(&c->wmu);
    if (!c->ready && c->discovered) {
        c->ready = true;
        for (int k = 0; k < MODEL_N_KINDS; k++)
            if (c->k[k].api >= 0 && !c->k[k].synced)
                c->ready = false;
    }
    ready = c->ready;
    if (!ready && why) {
        if (!c->discovered) {
            buf_puts(why, "the API server's kinds are not discovered yet");
        } else {
            buf_puts(why, "the first LIST is not in yet for:");
            for (int k = 0; k < MODEL_N_KINDS; k++)
                if (c->k[k].api >= 0 && !c->k[k].synced)
                    buf_printf(why, " %s", model_kind_info((enum model_kind)k)->label);
        }
    }
    pthread_mutex_unlock(&c->wmu);
    return ready;
}

void cluster_subscribe(struct cluster *c, struct pause *p)
{
    pthread_mutex_lock(&c->wmu);
    c->subscriber = p;
    pthread_mutex_unlock(&c->wmu);
}

const char *cluster_server(const struct cluster *c)
{
    return c->server;
}

int cluster_metrics(struct cluster *c, struct buf *out)
{
    struct model *m = cluster_model(c);
    int64_t now = backoff_now_ms();
    bool all = true;

    pthread_mutex_lock(&c->wmu);
    buf_puts(out, "# HELP egressguard_model_objects Objects in the cluster model, by kind.\n"
                  "# TYPE egressguard_model_objects gauge\n");
    for (int k = 0; k < MODEL_N_KINDS; k++)
        buf_printf(out, "egressguard_model_objects{kind=\"%s\"} %zu\n",
                   model_kind_info((enum model_kind)k)->label, model_count(m, (enum model_kind)k));
    buf_puts(out, "# HELP egressguard_watch_synced 1 once the first LIST of a kind the API "
                  "server serves is in the model (kinds not served are not listed).\n"
                  "# TYPE egressguard_watch_synced gauge\n");
    for (int k = 0; k < MODEL_N_KINDS; k++) {
        if (c->k[k].api < 0)
            continue;
        all = all && c->k[k].synced;
        buf_printf(out, "egressguard_watch_synced{kind=\"%s\"} %d\n",
                   model_kind_info((enum model_kind)k)->label, c->k[k].synced ? 1 : 0);
    }
    buf_printf(out,
               "# HELP egressguard_model_synced 1 when discovery succeeded and every served "
               "kind is synced.\n"
               "# TYPE egressguard_model_synced gauge\n"
               "egressguard_model_synced %d\n",
               c->discovered && all ? 1 : 0);
    buf_puts(out, "# HELP egressguard_watch_restarts_total Watches started over, by kind and "
                  "reason (ended: timeout or closed; gone: 410, listed again; error; bad_event: "
                  "a reply that does not parse, listed again).\n"
                  "# TYPE egressguard_watch_restarts_total counter\n");
    for (int k = 0; k < MODEL_N_KINDS; k++)
        for (int r = 0; r < N_REASONS; r++)
            if (c->k[k].restarts[r])
                buf_printf(out, "egressguard_watch_restarts_total{kind=\"%s\",reason=\"%s\"} %lu\n",
                           model_kind_info((enum model_kind)k)->label, reasons[r],
                           c->k[k].restarts[r]);
    buf_puts(out, "# HELP egressguard_watch_last_event_age_seconds Seconds since the last event "
                  "or list of a kind.\n"
                  "# TYPE egressguard_watch_last_event_age_seconds gauge\n");
    for (int k = 0; k < MODEL_N_KINDS; k++)
        if (c->k[k].last_event)
            buf_printf(out, "egressguard_watch_last_event_age_seconds{kind=\"%s\"} %.3f\n",
                       model_kind_info((enum model_kind)k)->label,
                       (double)(now - c->k[k].last_event) / 1000.0);
    buf_printf(out,
               "# HELP egressguard_discovery_failures_total API discovery rounds that failed.\n"
               "# TYPE egressguard_discovery_failures_total counter\n"
               "egressguard_discovery_failures_total %lu\n",
               c->discovery_failures);
    pthread_mutex_unlock(&c->wmu);
    model_unref(m);
    return out->failed ? -1 : 0;
}
