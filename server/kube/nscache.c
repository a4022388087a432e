#include "server/kube/nscache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_TTL_MS 60000u
#define DEFAULT_RETRY_MS 5000u
#define DEFAULT_MAX_ENTRIES 10000u
#define DEFAULT_MAX_FETCHES 4u
#define WAIT_MS 3000 /* longest wait for another thread's fetch of the same name */

struct entry {
    struct entry *next; /* bucket chain */
    json_t *labels;     /* owned, never modified once stored; NULL: none known */
    bool absent;        /* the fetch said the namespace does not exist */
    bool fetching;      /* a thread is fetching it: not evicted, not freed */
    int64_t stored;     /* when labels (or absent) were recorded */
    int64_t retry_at;   /* after a failed fetch: no new one before */
    int64_t warn_until; /* no new warning before */
    uint64_t hash;
    char name[];
};

struct nscache {
    struct nscache_config cfg;
    pthread_mutex_t mu;
    pthread_cond_t done; /* a fetch finished */
    struct entry **buckets;
    size_t n_buckets; /* a power of two */
    size_t n;
    unsigned n_fetching;
    unsigned waiting;       /* threads waiting for another one's fetch */
    unsigned long wakeups;  /* times such a thread woke up */
};

static int64_t monotonic_ms(void *cls)
{
    struct timespec t;

    (void)cls;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static uint64_t hash_name(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

struct nscache *nscache_new(const struct nscache_config *cfg)
{
    struct nscache *c = calloc(1, sizeof(*c));
    pthread_condattr_t ca;

    if (!c)
        return NULL;
    c->cfg = *cfg;
    if (!c->cfg.ttl_ms)
        c->cfg.ttl_ms = DEFAULT_TTL_MS;
    if (!c->cfg.retry_ms)
        c->cfg.retry_ms = DEFAULT_RETRY_MS;
    if (!c->cfg.max_entries)
        c->cfg.max_entries = DEFAULT_MAX_ENTRIES;
    if (!c->cfg.max_fetches)
        c->cfg.max_fetches = DEFAULT_MAX_FETCHES;
    if (!c->cfg.clock)
        c->cfg.clock = monotonic_ms;
    for (c->n_buckets = 64; c->n_buckets < c->cfg.max_entries; c->n_buckets *= 2)
        ;
    if (!(c->buckets = calloc(c->n_buckets, sizeof(*c->buckets))))
        goto fail;
    if (pthread_mutex_init(&c->mu, NULL) != 0)
        goto fail;
    /* The wait for another thread's fetch is timed on the monotonic clock. */
    if (pthread_condattr_init(&ca) != 0) {
        pthread_mutex_destroy(&c->mu);
        goto fail;
    }
    if (pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
        pthread_cond_init(&c->done, &ca) != 0) {
        pthread_condattr_destroy(&ca);
        pthread_mutex_destroy(&c->mu);
        goto fail;
    }
    pthread_condattr_destroy(&ca);
    return c;
fail:
    free(c->buckets);
    free(c);
    return NULL;
}

void nscache_free(struct nscache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_buckets; i++) {
        struct entry *e = c->buckets[i], *next;
        for (; e; e = next) {
            next = e->next;
            json_decref(e->labels);
            free(e);
        }
    }
    free(c->buckets);
    pthread_cond_destroy(&c->done);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

/* Under mu. */
static struct entry *find(struct nscache *c, const char *ns, uint64_t h)
{
    for (struct entry *e = c->buckets[h & (c->n_buckets - 1)]; e; e = e->next)
        if (e->hash == h && !strcmp(e->name, ns))
            return e;
    return NULL;
}

/* Under mu: unlinks and frees e. */
static void remove_entry(struct nscache *c, struct entry *e)
{
    struct entry **p = &c->buckets[e->hash & (c->n_buckets - 1)];

    while (*p && *p != e)
        p = &(*p)->next;
    if (*p)
        *p = e->next;
    json_decref(e->labels);
    free(e);
    c->n--;
}

/*
 * Under mu: makes room for one more name. Entries without labels go first (they only remember a
 * warning or a failure), then the least recently stored; an entry being fetched stays. Linear,
 * but only when the table is full.
 */
static bool make_room(struct nscache *c)
{
    struct entry *victim = NULL;

    if (c->n < c->cfg.max_entries)
        return true;
    for (size_t i = 0; i < c->n_buckets; i++) {
        for (struct entry *e = c->buckets[i]; e; e = e->next) {
            if (e->fetching)
                continue;
            if (!victim || (!e->labels && victim->labels) ||
                (!e->labels == !victim->labels && e->stored < victim->stored))
                victim = e;
        }
    }
    if (!victim)
        return false;
    remove_entry(c, victim);
    return true;
}

/* Under mu: a new empty entry for ns, or NULL (out of memory, or the table is all fetches). */
static struct entry *insert(struct nscache *c, const char *ns, uint64_t h)
{
    size_t len = strlen(ns);
    struct entry *e;

    if (!make_room(c) || !(e = calloc(1, sizeof(*e) + len + 1)))
        return NULL;
    memcpy(e->name, ns, len + 1);
    e->hash = h;
    e->next = c->buckets[h & (c->n_buckets - 1)];
    c->buckets[h & (c->n_buckets - 1)] = e;
    c->n++;
    return e;
}

/* The labels as the API server stores them: a private copy with kubernetes.io/metadata.name. */
static json_t *stored_labels(const json_t *labels, const char *ns)
{
    json_t *l = json_is_object(labels) ? json_deep_copy(labels) : json_object();

    if (l && json_object_set_new(l, "kubernetes.io/metadata.name", json_string(ns)) < 0) {
        json_decref(l);
        return NULL;
    }
    return l;
}

/* Under mu: should this name's trouble be logged now? At most once per TTL. */
static bool warn_once(struct nscache *c, struct entry *e, int64_t now)
{
    if (!e)
        return true;
    if (now < e->warn_until)
        return false;
    e->warn_until = now + c->cfg.ttl_ms;
    return true;
}

static bool fresh(const struct nscache *c, const struct entry *e, int64_t now)
{
    return now - e->stored < (int64_t)c->cfg.ttl_ms;
}

/* Under mu: the answer an entry (may be NULL) gives without fetching. */
static json_t *from_entry(struct nscache *c, const char *ns, uint64_t h, struct entry *e,
                          int64_t now, struct nscache_result *r)
{
    if (e && e->labels) {
        if (fresh(c, e, now) || !c->cfg.fetch) {
            r->source = NSCACHE_HIT;
        } else {
            r->source = NSCACHE_STALE;
            r->age_ms = now - e->stored;
            /* Another thread refreshing it is no trouble; a failed or refused refresh is. */
            r->warn = !e->fetching && warn_once(c, e, now);
        }
        return json_incref(e->labels);
    }
    if (e && e->absent && fresh(c, e, now)) {
        r->source = NSCACHE_ABSENT;
        return NULL;
    }
    r->source = NSCACHE_UNKNOWN;
    /* Remember the name, so that its warning comes once per TTL. */
    if (!e)
        e = insert(c, ns, h);
    r->warn = warn_once(c, e, now);
    return NULL;
}

/*
 * Under mu: waits for a fetch to finish, until `until` (CLOCK_MONOTONIC). Any fetch finishing
 * wakes every waiter, so the caller looks at its own entry again and may wait again. false once
 * the deadline passed.
 */
static bool wait_for_fetch(struct nscache *c, const struct timespec *until)
{
    int rc;

    c->waiting++;
    rc = pthread_cond_timedwait(&c->done, &c->mu, until);
    c->waiting--;
    c->wakeups++;
    return rc == 0;
}

json_t *nscache_get(struct nscache *c, const char *ns, struct nscache_result *r)
{
    uint64_t h = hash_name(ns);
    struct entry *e;
    json_t *got = NULL, *out = NULL;
    bool waiting = false, waited_out = false;
    struct timespec until;
    int64_t now;
    int rc;

    memset(r, 0, sizeof(*r));
    r->no_fetch = !c->cfg.fetch;
    pthread_mutex_lock(&c->mu);
again:
    now = c->cfg.clock(c->cfg.clock_cls);
    e = find(c, ns, h);
    if (e && (e->labels || e->absent) && (fresh(c, e, now) || !c->cfg.fetch)) {
        out = from_entry(c, ns, h, e, now, r);
        goto out;
    }
    if (e && e->fetching) {
        if (!e->labels && !waited_out) {
            /*
             * Someone is fetching this name: share the answer rather than ask again. Another
             * name's fetch may wake us first: look again (e may be gone), and keep waiting for
             * this one until the deadline.
             */
            if (!waiting) {
                waiting = true;
                clock_gettime(CLOCK_MONOTONIC, &until);
                until.tv_sec += WAIT_MS / 1000;
                until.tv_nsec += (long)(WAIT_MS % 1000) * 1000000;
                if (until.tv_nsec >= 1000000000) {
                    until.tv_sec++;
                    until.tv_nsec -= 1000000000;
                }
            }
            waited_out = !wait_for_fetch(c, &until);
            goto again;
        }
        out = from_entry(c, ns, h, e, now, r);
        goto out;
    }
    if (!c->cfg.fetch || (e && now < e->retry_at) || c->n_fetching >= c->cfg.max_fetches ||
        (!e && !(e = insert(c, ns, h)))) {
        out = from_entry(c, ns, h, e, now, r);
        goto out;
    }

    e->fetching = true;
    c->n_fetching++;
    pthread_mutex_unlock(&c->mu);
    rc = c->cfg.fetch(c->cfg.fetch_cls, ns, &got, &r->err);
    if (rc == 1) {
        json_t *l = stored_labels(got, ns);
        json_decref(got);
        if (!(got = l)) {
            err_set(&r->err, "out of memory");
            rc = -1;
        }
    }
    pthread_mutex_lock(&c->mu);
    now = c->cfg.clock(c->cfg.clock_cls);
    c->n_fetching--;
    e->fetching = false;
    pthread_cond_broadcast(&c->done);
    r->fetched = true;
    r->fetch_failed = rc < 0;
    if (rc < 0) {
        e->retry_at = now + c->cfg.retry_ms;
        out = from_entry(c, ns, h, e, now, r);
        goto out;
    }
    json_decref(e->labels);
    e->labels = got; /* NULL when absent */
    got = NULL;
    e->absent = rc == 0;
    e->stored = now;
    e->retry_at = 0;
    e->warn_until = 0;
    r->source = rc == 1 ? NSCACHE_FETCHED : NSCACHE_ABSENT;
    out = json_incref(e->labels);
out:
    pthread_mutex_unlock(&c->mu);
    json_decref(got);
    return out;
}

void nscache_stats(struct nscache *c, struct nscache_stats *out)
{
    pthread_mutex_lock(&c->mu);
    out->size = c->n;
    out->waiting = c->waiting;
    out->wakeups = c->wakeups;
    pthread_mutex_unlock(&c->mu);
}

size_t nscache_size(struct nscache *c)
{
    size_t n;

    pthread_mutex_lock(&c->mu);
    n = c->n;
    pthread_mutex_unlock(&c->mu);
    return n;
}
