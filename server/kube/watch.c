#include "server/kube/watch.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "server/kube/backoff.h"
#include "server/kube/lister.h"

#define LIST_TIMEOUT_MS 60000 /* one page */
#define SHORT_WATCH_MS 1000   /* a watch that ends sooner than this counts as a failure */

struct watch {
    struct watch_config cfg;
    struct watch_target t;
    struct kube *kube;
    enum model_kind kind;
    pthread_t thread;
    atomic_bool stop;
    struct pause pause;
    struct backoff bo;
    char *rv; /* where to watch from; NULL: list first */
    /* One watch stream's state. */
    struct wire_stream stream;
    struct wire_event *evs;
    size_t n_evs, alloc_evs;
    bool gone, bad_event, apply_failed;
    struct err stream_err;
    size_t n_events; /* events in this stream */
};

static const char *label(const struct watch *w)
{
    return model_kind_info(w->kind)->label;
}

static void set_rv(struct watch *w, char *rv)
{
    free(w->rv);
    w->rv = rv;
}

/* What a relist has gathered so far (lister.h's sink). */
struct gathered {
    struct watch *w;
    struct model_item **items;
    size_t n, alloc;
};

static int gather_page(void *cls, struct wire_page *page)
{
    struct gathered *g = cls;

    if (page->skipped)
        log_msg(g->w->cfg.log, LOG_WARN, "watch %s: %zu objects not taken (the first: %s)",
                label(g->w), page->skipped, page->first_skip.msg);
    if (g->n + page->n > g->alloc) {
        size_t na = (g->n + page->n) * 2;
        struct model_item **grown = realloc(g->items, na * sizeof(*grown));
        if (!grown)
            return -1;
        g->items = grown;
        g->alloc = na;
    }
    if (page->n) /* an empty page has no items array at all */
        memcpy(g->items + g->n, page->items, page->n * sizeof(*g->items));
    g->n += page->n;
    page->n = 0; /* the references moved */
    return 0;
}

static void gather_restart(void *cls)
{
    struct gathered *g = cls;

    for (size_t i = 0; i < g->n; i++)
        model_item_unref(g->items[i]);
    g->n = 0;
}

/* LIST, every page (lister.h); on success the items go to the target and w->rv is set. */
static int list_all(struct watch *w, struct err *e)
{
    struct gathered g = {.w = w};
    struct lister_sink sink = {.cls = &g, .page = gather_page, .restart = gather_restart};
    char *rv = NULL;
    int rc = -1;

    kube_set_timeout(w->kube, 5000, LIST_TIMEOUT_MS);
    if (lister_list(w->kube, w->cfg.api, NULL, w->cfg.page, &sink, &w->stop, &rv, e) < 0)
        goto out;
    rc = w->t.relist(w->t.cls, w->kind, g.items, g.n);
    g.n = 0; /* taken, also on failure */
    if (rc < 0) {
        err_set(e, "out of memory");
        goto out;
    }
    log_msg(w->cfg.log, LOG_INFO, "watch %s: listed at resourceVersion %s", label(w), rv);
    set_rv(w, rv);
    rv = NULL;
out:
    gather_restart(&g);
    free(g.items);
    free(rv);
    return rc;
}

static int on_line(void *cls, const char *line, size_t len, struct err *e)
{
    struct watch *w = cls;
    struct wire_event ev;

    if (wire_event(line, len, w->kind, &ev, e) < 0) {
        w->bad_event = true;
        return -1;
    }
    if (ev.type == WIRE_ERROR) {
        /* 410 Gone: "too old resource version"; anything else is a failure to retry. */
        w->gone = ev.code == 410;
        if (!w->gone)
            w->bad_event = true;
        err_set(e, "ERROR event %ld: %s", ev.code, ev.message);
        wire_event_release(&ev);
        return -1;
    }
    if (w->n_evs == w->alloc_evs) {
        size_t na = w->alloc_evs ? w->alloc_evs * 2 : 16;
        struct wire_event *grown = realloc(w->evs, na * sizeof(*grown));
        if (!grown) {
            wire_event_release(&ev);
            return err_set(e, "out of memory");
        }
        w->evs = grown;
        w->alloc_evs = na;
    }
    w->evs[w->n_evs++] = ev;
    return 0;
}

/* Applies the events parsed so far; the resourceVersion moves to the last one. */
static int flush(struct watch *w)
{
    int rc = 0;

    if (!w->n_evs)
        return 0;
    if (w->t.apply(w->t.cls, w->kind, w->evs, w->n_evs) < 0) {
        w->apply_failed = true;
        rc = -1;
    } else {
        set_rv(w, w->evs[w->n_evs - 1].rv);
        w->evs[w->n_evs - 1].rv = NULL;
        w->n_events += w->n_evs;
    }
    for (size_t i = 0; i < w->n_evs; i++)
        wire_event_release(&w->evs[i]);
    w->n_evs = 0;
    return rc;
}

static int on_data(void *cls, const char *data, size_t len)
{
    struct watch *w = cls;
    int rc = wire_stream_feed(&w->stream, data, len, on_line, w, &w->stream_err);

    /* An event line over the cap fails the stream like one that does not parse. */
    if (rc < 0 && !w->gone)
        w->bad_event = true;
    /* Whatever parsed before a bad line is applied: it is in order and complete. */
    if (flush(w) < 0)
        return -1;
    return rc;
}

enum outcome { ENDED, GONE, FAILED, BAD_EVENT, STOPPED };

static enum outcome watch_once(struct watch *w, struct err *e)
{
    struct buf path, other;
    /* Between timeout_s and twice that, as client-go's reflector randomizes it. */
    long timeout_s =
        w->cfg.timeout_s + (long)(backoff_random(&w->bo) % (uint64_t)(w->cfg.timeout_s + 1));
    int64_t started = backoff_now_ms();
    enum outcome out;
    long st;

    buf_init(&path, 0);
    buf_init(&other, 0);
    if (*w->cfg.api->group)
        buf_printf(&path, "/apis/%s/%s/%s", w->cfg.api->group, w->cfg.api->version,
                   w->cfg.api->resource);
    else
        buf_printf(&path, "/api/%s/%s", w->cfg.api->version, w->cfg.api->resource);
    buf_puts(&path, "?watch=1&allowWatchBookmarks=true&resourceVersion=");
    kube_query_escape(w->rv, &path);
    buf_printf(&path, "&timeoutSeconds=%ld", timeout_s);
    wire_stream_init(&w->stream);
    w->gone = w->bad_event = w->apply_failed = false;
    w->n_events = 0;
    memset(&w->stream_err, 0, sizeof(w->stream_err));
    kube_set_timeout(w->kube, 5000, 0);
    st = path.failed ? err_set(e, "out of memory")
                     : kube_stream(w->kube, buf_str(&path), (timeout_s + 30) * 1000, 0, on_data, w,
                                   &w->stop, &other, e);
    if (atomic_load(&w->stop)) {
        out = STOPPED;
    } else if (w->gone || st == 410) {
        if (w->gone)
            *e = w->stream_err;
        else
            err_set(e, "WATCH %s: HTTP 410: resourceVersion %s is too old", w->cfg.api->resource,
                    w->rv);
        out = GONE;
    } else if (w->bad_event || w->apply_failed) {
        *e = w->stream_err;
        if (w->apply_failed)
            err_set(e, "out of memory applying events");
        err_prefix(e, "WATCH %s", w->cfg.api->resource);
        out = BAD_EVENT;
    } else if (st == 200) {
        out = backoff_now_ms() - started < SHORT_WATCH_MS && !w->n_events ? FAILED : ENDED;
        if (out == FAILED)
            err_set(e, "WATCH %s: the stream ended at once", w->cfg.api->resource);
    } else {
        if (st >= 0) {
            json_t *status = json_loadb(other.data ? other.data : "", other.len, 0, NULL);
            const char *msg = json_string_value(json_object_get(status, "message"));
            err_set(e, "WATCH %s: HTTP %ld%s%.200s", w->cfg.api->resource, st, msg ? ": " : "",
                    msg ? msg : "");
            json_decref(status);
        }
        out = FAILED;
    }
    for (size_t i = 0; i < w->n_evs; i++)
        wire_event_release(&w->evs[i]);
    w->n_evs = 0;
    wire_stream_release(&w->stream);
    buf_release(&path);
    buf_release(&other);
    return out;
}

static void *run(void *cls)
{
    struct watch *w = cls;

    while (!atomic_load(&w->stop)) {
        struct err e = {0};
        enum outcome o;

        if (!w->rv) {
            if (list_all(w, &e) < 0) {
                if (atomic_load(&w->stop))
                    break;
                log_msg(w->cfg.log, LOG_WARN, "watch %s: %s", label(w), e.msg);
                w->t.restarted(w->t.cls, w->kind, "error");
                if (pause_for(&w->pause, backoff_next(&w->bo)))
                    break;
                continue;
            }
            backoff_reset(&w->bo); /* the API answers: later failures start small again */
        }
        o = watch_once(w, &e);
        if (o == STOPPED)
            break;
        if (o == ENDED) {
            backoff_reset(&w->bo);
            w->t.restarted(w->t.cls, w->kind, "ended");
            continue;
        }
        log_msg(w->cfg.log, o == GONE ? LOG_INFO : LOG_WARN, "watch %s: %s%s", label(w), e.msg,
                o == GONE || o == BAD_EVENT ? "; listing again" : "");
        w->t.restarted(w->t.cls, w->kind,
                       o == GONE        ? "gone"
                       : o == BAD_EVENT ? "bad_event"
                                        : "error");
        if (o == GONE || o == BAD_EVENT)
            set_rv(w, NULL);
        if (o != GONE && pause_for(&w->pause, backoff_next(&w->bo)))
            break;
    }
    return NULL;
}

struct watch *watch_start(const struct watch_config *cfg, struct kube *kube,
                          const struct watch_target *target, struct err *e)
{
    struct watch *w = calloc(1, sizeof(*w));

    if (!w || pause_init(&w->pause) < 0) {
        free(w);
        kube_free(kube);
        err_set(e, "out of memory");
        return NULL;
    }
    w->cfg = *cfg;
    if (w->cfg.page <= 0)
        w->cfg.page = 500;
    if (w->cfg.timeout_s <= 0)
        w->cfg.timeout_s = 240;
    w->t = *target;
    w->kube = kube;
    w->kind = cfg->api->kind;
    atomic_init(&w->stop, false);
    backoff_init(&w->bo, cfg->backoff_first_ms > 0 ? cfg->backoff_first_ms : 500,
                 cfg->backoff_max_ms > 0 ? cfg->backoff_max_ms : 30000, 0);
    if (pthread_create(&w->thread, NULL, run, w) != 0) {
        pause_destroy(&w->pause);
        kube_free(kube);
        free(w);
        err_set(e, "cannot start a watch thread");
        return NULL;
    }
    return w;
}

void watch_stop(struct watch *w)
{
    if (!w)
        return;
    atomic_store(&w->stop, true);
    pause_stop(&w->pause);
    pthread_join(w->thread, NULL);
    pause_destroy(&w->pause);
    kube_free(w->kube);
    free(w->evs);
    free(w->rv);
    free(w);
}
