/* The namespace-label cache (server/nscache.c): TTL, stale serving, back-off, warnings, size bound
 * and shared fetches, with an injected clock and fetch. */
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "server/kube/nscache.h"

/* The fake API: answers from `labels` (NULL: 404) or fails; counts calls; can block. */
struct fake {
    int64_t now;
    int calls;
    int fail;          /* fail with "HTTP 503" */
    const char *value; /* the "tier" label it answers */
    bool missing;      /* answer 404 */
    bool block;        /* wait until released */
    const char *only;  /* with block: block only fetches of this name */
    bool released;
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

static int64_t fake_clock(void *cls)
{
    return ((struct fake *)cls)->now;
}

static int fake_fetch(void *cls, const char *ns, json_t **labels, struct err *e)
{
    struct fake *f = cls;
    int rc;

    pthread_mutex_lock(&f->mu);
    f->calls++;
    pthread_cond_broadcast(&f->cv);
    while (f->block && !f->released && (!f->only || !strcmp(f->only, ns))) {
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        t.tv_sec += 5; /* bounded: a broken test ends */
        if (pthread_cond_timedwait(&f->cv, &f->mu, &t) != 0)
            break;
    }
    if (f->fail) {
        rc = err_set(e, "GET /api/v1/namespaces/%s: HTTP 503", ns);
    } else if (f->missing) {
        rc = 0;
    } else {
        *labels = json_pack("{s:s}", "tier", f->value ? f->value : "gold");
        rc = 1;
    }
    pthread_mutex_unlock(&f->mu);
    return rc;
}

static struct fake *fake_new(void)
{
    struct fake *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    f->now = 1000000;
    return f;
}

static void fake_free(struct fake *f)
{
    pthread_cond_destroy(&f->cv);
    pthread_mutex_destroy(&f->mu);
    free(f);
}

static struct nscache *cache(struct fake *f, bool with_fetch, size_t max)
{
    struct nscache_config cfg = {.ttl_ms = 60000,
                                 .retry_ms = 5000,
                                 .max_entries = max,
                                 .max_fetches = 1,
                                 .fetch = with_fetch ? fake_fetch : NULL,
                                 .fetch_cls = f,
                                 .clock = fake_clock,
                                 .clock_cls = f};
    struct nscache *c = nscache_new(&cfg);

    assert_non_null(c);
    return c;
}

static const char *tier(const json_t *labels)
{
    return json_string_value(json_object_get(labels, "tier"));
}

static void test_nscache_get_fetches_once_then_hits(void **state)
{
    struct fake *f = fake_new();
    struct nscache *c = cache(f, true, 0);
    struct nscache_result r;
    json_t *a, *b;

    (void)state;
    a = nscache_get(c, "research", &r);
    assert_int_equal(r.source, NSCACHE_FETCHED);
    assert_true(r.fetched);
    assert_string_equal(tier(a), "gold");
    /* Stored as the API server stores them: with the name label. */
    assert_string_equal(json_string_value(json_object_get(a, "kubernetes.io/metadata.name")),
                        "research");
    f->now += 59999;
    b = nscache_get(c, "research", &r);
    assert_int_equal(r.source, NSCACHE_HIT);
    assert_false(r.fetched);
    assert_ptr_equal(a, b); /* borrowed from the cache, not copied */
    assert_int_equal(f->calls, 1);
    json_decref(a);
    json_decref(b);
    nscache_free(c);
    fake_free(f);
}

static void test_nscache_get_refetches_after_ttl(void **state)
{
    struct fake *f = fake_new();
    struct nscache *c = cache(f, true, 0);
    struct nscache_result r;
    json_t *a;

    (void)state;
    json_decref(nscache_get(c, "research", &r));
    f->now += 60000;
    f->value = "silver";
    a = nscache_get(c, "research", &r);
    assert_int_equal(r.source, NSCACHE_FETCHED);
    assert_string_equal(tier(a), "silver");
    assert_int_equal(f->calls, 2);
    json_decref(a);
    nscache_free(c);
    fake_free(f);
}

static void test_nscache_get_serves_stale_when_refresh_fails(void **state)
{
    struct fake *f = fake_new();
    struct nscache *c = cache(f, true, 0);
    struct nscache_result r;
    json_t *a;

    (void)state;
    json_decref(nscache_get(c, "research", &r));
    f->now += 61000;
    f->fail = 1;
    a = nscache_get(c, "research", &r);
    assert_int_equal(r.source, NSCACHE_STALE);
    assert_true(r.fetch_failed);
    assert_true(r.warn);
    assert_int_equal(r.age_ms, 61000);
    assert_string_equal(r.err.msg, "GET /api/v1/namespaces/research: HTTP 503");
    assert_string_equal(tier(a), "gold");
    json_decref(a);
    /* Within retry_ms: no new request, still stale, no second warning. */
    f->now += 4999;
    a = nscache_get(c, "research", &r);
    assert_int_equal(r.source, NSCACHE_STALE);
    assert_false(r.fetched);
    assert_false(r.warn);
    assert_int_equal(f->calls, 2);
    json_decref(a);
    /* After it, asked again; the API is back. */
    f->now += 1;
    f->fail = 0;
    f->value = "silver";
    a = nscache_get(c, "research", &r);
    assert_int_equal(r.source, NSCACHE_FETCHED);
    assert_string_equal(tier(a), "silver");
    assert_int_equal(f->calls, 3);
    json_decref(a);
    nscache_free(c);
    fake_free(f);
}

static void test_nscache_get_unknown_warns_once_per_ttl(void **state)
{
    struct fake *f = fake_new();
    struct nscache *c = cache(f, false, 0);
    struct nscache_result r;

    (void)state;
    assert_null(nscache_get(c, "default", &r));
    assert_int_equal(r.source, NSCACHE_UNKNOWN);
    assert_true(r.no_fetch);
    assert_true(r.warn);
    f->now += 59999;
    assert_null(nscache_get(c, "default", &r));
    assert_false(r.warn);
    f->now += 1;
    assert_null(nscache_get(c, "default", &r));
    assert_true(r.warn);
    assert_int_equal(f->calls, 0);
    nscache_free(c);
    fake_free(f);
}

static void test_nscache_get_failed_fetch_unknown_then_backoff(void **state)
{
    struct fake *f = fake_new();
    struct nscache *c = cache(f, true, 0);
    struct nscache_result r;

    (void)state;
    f->fail = 1;
    assert_null(nscache_get(c, "research", &r));
    assert_int_equal(r.source, NSCACHE_UNKNOWN);
    assert_true(r.fetch_failed);
    assert_true(r.warn);
    assert_null(nscache_get(c, "research", &r));
    assert_false(r.fetched);
    assert_false(r.warn);
    assert_int_equal(f->calls, 1);
    nscache_free(c);
    fake_free(f);
}

static void test_nscache_get_absent_is_remembered_for_ttl(void **state)
{
    struct fake *f = fake_new();
    struct nscache *c = cache(f, true, 0);
    struct nscache_result r;

    (void)state;
    f->missing = true;
    assert_null(nscache_get(c, "gone", &r));
    assert_int_equal(r.source, NSCACHE_ABSENT);
    assert_null(nscache_get(c, "gone", &r));
    assert_int_equal(r.source, NSCACHE_ABSENT);
    assert_false(r.fetched);
    f->now += 60000;
    assert_null(nscache_get(c, "gone", &r));
    assert_true(r.fetched);
    assert_int_equal(f->calls, 2);
    nscache_free(c);
    fake_free(f);
}

static void test_nscache_get_evicts_unlabelled_then_oldest(void **state)
{
    struct fake *f = fake_new();
    struct nscache *c = cache(f, true, 3);
    struct nscache_result r;

    (void)state;
    json_decref(nscache_get(c, "a", &r));
    f->now++;
    json_decref(nscache_get(c, "b", &r));
    f->now++;
    f->fail = 1;
    assert_null(nscache_get(c, "bad", &r)); /* remembered, without labels, for its back-off */
    f->fail = 0;
    assert_int_equal(nscache_size(c), 3);
    json_decref(nscache_get(c, "d", &r));
    assert_int_equal(nscache_size(c), 3);
    /* The entry without labels went first: bad is asked again at once, no back-off. */
    json_decref(nscache_get(c, "bad", &r));
    assert_int_equal(r.source, NSCACHE_FETCHED);
    assert_int_equal(f->calls, 5);
    /* ... which evicted the oldest labelled entry, a: fetched again; b and d still hit. */
    json_decref(nscache_get(c, "b", &r));
    assert_int_equal(r.source, NSCACHE_HIT);
    json_decref(nscache_get(c, "a", &r));
    assert_int_equal(r.source, NSCACHE_FETCHED);
    assert_int_equal(f->calls, 6);
    assert_int_equal(nscache_size(c), 3);
    nscache_free(c);
    fake_free(f);
}

struct asker {
    struct nscache *c;
    const char *ns;
    json_t *labels;
    struct nscache_result r;
    atomic_bool done;
};

static void *ask(void *p)
{
    struct asker *a = p;

    a->labels = nscache_get(a->c, a->ns, &a->r);
    atomic_store(&a->done, true);
    return NULL;
}

/* Polls (bounded: about 10 s) until cond(c, arg) holds; no timing is asserted. */
static bool poll_until(bool (*cond)(struct nscache *c, void *arg), struct nscache *c, void *arg)
{
    struct timespec tick = {0, 2 * 1000 * 1000};

    for (int i = 0; i < 5000; i++) {
        if (cond(c, arg))
            return true;
        nanosleep(&tick, NULL);
    }
    return cond(c, arg);
}

static bool n_waiting(struct nscache *c, void *arg)
{
    struct nscache_stats st;

    nscache_stats(c, &st);
    return st.waiting == *(unsigned *)arg;
}

static bool woke_and_settled(struct nscache *c, void *arg)
{
    struct asker *waiter = arg;
    struct nscache_stats st;

    nscache_stats(c, &st);
    /* Woken by the other fetch, then either gone (the defect) or waiting again. */
    return st.wakeups >= 1 && (atomic_load(&waiter->done) || st.waiting == 1);
}

/* Waits (bounded) until the fake has been called n times. */
static void wait_calls(struct fake *f, int n)
{
    pthread_mutex_lock(&f->mu);
    for (int i = 0; i < 500 && f->calls < n; i++) {
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        t.tv_nsec += 10000000;
        if (t.tv_nsec >= 1000000000) {
            t.tv_sec++;
            t.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&f->cv, &f->mu, &t);
    }
    pthread_mutex_unlock(&f->mu);
}

static void test_nscache_get_shares_one_fetch(void **state)
{
    struct fake *f = fake_new();
    struct nscache *c = cache(f, true, 0);
    struct asker first = {c, "research", NULL, {0}, false}, second = {c, "research", NULL, {0}, false};
    struct nscache_result r;
    pthread_t t1, t2;
    unsigned one = 1;

    (void)state;
    f->block = true;
    assert_int_equal(pthread_create(&t1, NULL, ask, &first), 0);
    wait_calls(f, 1);
    assert_int_equal(pthread_create(&t2, NULL, ask, &second), 0);
    /* The only fetch slot is taken: another name is unknown at once, not queued. */
    assert_null(nscache_get(c, "other", &r));
    assert_int_equal(r.source, NSCACHE_UNKNOWN);
    assert_false(r.fetched);
    assert_true(poll_until(n_waiting, c, &one)); /* the second asker waits for the fetch */
    pthread_mutex_lock(&f->mu);
    f->released = true;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    assert_int_equal(f->calls, 1);
    assert_int_equal(first.r.source, NSCACHE_FETCHED);
    assert_int_equal(second.r.source, NSCACHE_HIT);
    assert_ptr_equal(first.labels, second.labels);
    json_decref(first.labels);
    json_decref(second.labels);
    nscache_free(c);
    fake_free(f);
}

/*
 * A thread waiting for another thread's fetch of its namespace is woken when ANY fetch ends.
 * Woken by the fetch of another namespace, it must wait on for its own, not answer "unknown".
 */
static void test_nscache_get_waiter_ignores_other_namespaces_fetch(void **state)
{
    struct fake *f = fake_new();
    struct nscache_config cfg = {.ttl_ms = 60000, .retry_ms = 5000, .max_fetches = 4,
                                 .fetch = fake_fetch, .fetch_cls = f};
    struct nscache *c = nscache_new(&cfg);
    struct asker fetcher = {c, "research", NULL, {0}, false},
                 waiter = {c, "research", NULL, {0}, false};
    struct nscache_result r;
    pthread_t t1, t2;
    unsigned one = 1;
    json_t *other;

    (void)state;
    assert_non_null(c);
    f->block = true;
    f->only = "research";
    assert_int_equal(pthread_create(&t1, NULL, ask, &fetcher), 0);
    wait_calls(f, 1);
    assert_int_equal(pthread_create(&t2, NULL, ask, &waiter), 0);
    assert_true(poll_until(n_waiting, c, &one));
    /* Another namespace's fetch starts and ends while research's is still under way. */
    other = nscache_get(c, "web", &r);
    assert_int_equal(r.source, NSCACHE_FETCHED);
    json_decref(other);
    assert_true(poll_until(woke_and_settled, c, &waiter));
    assert_false(atomic_load(&waiter.done));
    pthread_mutex_lock(&f->mu);
    f->released = true;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    assert_int_equal(waiter.r.source, NSCACHE_HIT);
    assert_non_null(waiter.labels);
    assert_ptr_equal(waiter.labels, fetcher.labels);
    json_decref(fetcher.labels);
    json_decref(waiter.labels);
    nscache_free(c);
    fake_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nscache_get_fetches_once_then_hits),
        cmocka_unit_test(test_nscache_get_refetches_after_ttl),
        cmocka_unit_test(test_nscache_get_serves_stale_when_refresh_fails),
        cmocka_unit_test(test_nscache_get_unknown_warns_once_per_ttl),
        cmocka_unit_test(test_nscache_get_failed_fetch_unknown_then_backoff),
        cmocka_unit_test(test_nscache_get_absent_is_remembered_for_ttl),
        cmocka_unit_test(test_nscache_get_evicts_unlabelled_then_oldest),
        cmocka_unit_test(test_nscache_get_shares_one_fetch),
        cmocka_unit_test(test_nscache_get_waiter_ignores_other_namespaces_fetch),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
