/*
 * metrics: the exposition text counts exactly what was recorded, from several threads at once, and
 * a request cannot put an arbitrary label value into it.
 */
#include "server/webhook/metrics.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#define THREADS 4
#define PER_THREAD 2500

/* The value of the sample line starting with `prefix` (name and labels); -1 if absent. */
static long sample(const char *text, const char *prefix)
{
    size_t n = strlen(prefix);

    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (!strncmp(p, prefix, n) && p[n] == ' ')
            return strtol(p + n + 1, NULL, 10);
    return -1;
}

static char *render(struct metrics *m)
{
    size_t len;
    char *t = metrics_render(m, &len);

    assert_non_null(t);
    assert_int_equal(strlen(t), len);
    return t;
}

static void test_metrics_counts_requests_by_labels(void **state)
{
    struct metrics *m = metrics_new();
    char *t;

    (void)state;
    assert_non_null(m);
    metrics_request(m, "validate", "Pod", "CREATE", "deny", 0.002);
    metrics_request(m, "validate", "Pod", "CREATE", "deny", 0.004);
    metrics_request(m, "validate", "Pod", "CREATE", "allow", 0.001);
    metrics_request(m, "mutate", "Namespace", "CREATE", "allow", 0.001);
    metrics_http_error(m, 413);
    metrics_reload(m, "policy", true);
    metrics_reload(m, "certificate", false);
    t = render(m);
    assert_int_equal(sample(t, "egressguard_admission_requests_total{endpoint=\"validate\","
                               "kind=\"Pod\",operation=\"CREATE\",verdict=\"deny\"}"),
                     2);
    assert_int_equal(sample(t, "egressguard_admission_requests_total{endpoint=\"validate\","
                               "kind=\"Pod\",operation=\"CREATE\",verdict=\"allow\"}"),
                     1);
    assert_int_equal(sample(t, "egressguard_admission_duration_seconds_count{endpoint=\"validate\"}"),
                     3);
    assert_int_equal(
        sample(t, "egressguard_admission_duration_seconds_bucket{endpoint=\"validate\",le=\"+Inf\"}"),
        3);
    assert_int_equal(sample(t, "egressguard_http_errors_total{code=\"413\"}"), 1);
    assert_int_equal(sample(t, "egressguard_reloads_total{what=\"policy\"}"), 1);
    assert_int_equal(sample(t, "egressguard_reload_failures_total{what=\"certificate\"}"), 1);
    free(t);
    metrics_free(m);
}

/* A kind that is not a plain identifier never reaches the text: it could break the format. */
static void test_metrics_label_values_from_requests_are_bounded(void **state)
{
    struct metrics *m = metrics_new();
    char *t;

    (void)state;
    metrics_request(m, "validate", "Evil\"} 1\negressguard_fake 9", "CREATE", "allow", 0.001);
    t = render(m);
    assert_null(strstr(t, "egressguard_fake"));
    assert_null(strstr(t, "Evil"));
    free(t);
    metrics_free(m);
}

struct worker {
    struct metrics *m;
    int id;
};

static void *work(void *arg)
{
    struct worker *w = arg;

    for (int i = 0; i < PER_THREAD; i++) {
        metrics_request(w->m, "validate", w->id % 2 ? "Pod" : "NetworkPolicy", "CREATE", "allow",
                        0.0005);
        metrics_gauges(w->m, i, (size_t)i, (size_t)PER_THREAD);
    }
    return NULL;
}

static void test_metrics_exact_under_concurrent_updates(void **state)
{
    struct metrics *m = metrics_new();
    pthread_t th[THREADS];
    struct worker w[THREADS];
    long pods, nps;
    char *t;

    (void)state;
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){m, i};
        assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    t = render(m);
    pods = sample(t, "egressguard_admission_requests_total{endpoint=\"validate\",kind=\"Pod\","
                     "operation=\"CREATE\",verdict=\"allow\"}");
    nps = sample(t, "egressguard_admission_requests_total{endpoint=\"validate\","
                    "kind=\"NetworkPolicy\",operation=\"CREATE\",verdict=\"allow\"}");
    assert_int_equal(pods, (long)THREADS / 2 * PER_THREAD);
    assert_int_equal(nps, (long)THREADS / 2 * PER_THREAD);
    assert_int_equal(sample(t, "egressguard_admission_duration_seconds_count{endpoint=\"validate\"}"),
                     (long)THREADS * PER_THREAD);
    free(t);
    metrics_gauges(m, 0, 0, 64);
    t = render(m);
    assert_int_equal(sample(t, "egressguard_in_flight_requests"), 0);
    assert_int_equal(sample(t, "egressguard_request_body_bytes"), 0);
    assert_int_equal(sample(t, "egressguard_request_body_bytes_limit"), 64);
    free(t);
    metrics_free(m);
}

/* The sum of every egressguard_admission_requests_total series in the text. */
static long sum_requests(const char *text)
{
    static const char name[] = "\negressguard_admission_requests_total{";
    long sum = 0;

    for (const char *p = strstr(text, name); p; p = strstr(p + 1, name)) {
        const char *v = strchr(p + 1, '}');
        assert_non_null(v);
        sum += strtol(v + 1, NULL, 10);
    }
    return sum;
}

/* Once the table is full, further series are counted together and printed as one: before, the
 * overflow slot was the table's last entry, which rendering never reached. */
static void test_metrics_overflow_series_printed(void **state)
{
    struct metrics *m = metrics_new();
    char kind[32], *t;

    (void)state;
    assert_non_null(m);
    for (int i = 0; i < 200; i++) {
        snprintf(kind, sizeof(kind), "Kind%d", i);
        metrics_request(m, "validate", kind, "CREATE", "allow", 0.001);
    }
    metrics_request(m, "validate", "Kind7", "CREATE", "allow", 0.001); /* known: its own series */
    t = render(m);
    assert_int_equal(sample(t, "egressguard_admission_requests_total{endpoint=\"validate\","
                               "kind=\"Kind127\",operation=\"CREATE\",verdict=\"allow\"}"),
                     1);
    assert_int_equal(sample(t, "egressguard_admission_requests_total{endpoint=\"validate\","
                               "kind=\"Kind128\",operation=\"CREATE\",verdict=\"allow\"}"),
                     -1);
    assert_int_equal(sample(t, "egressguard_admission_requests_total{endpoint=\"validate\","
                               "kind=\"Kind7\",operation=\"CREATE\",verdict=\"allow\"}"),
                     2);
    assert_int_equal(sample(t, "egressguard_admission_requests_total{endpoint=\"other\","
                               "kind=\"other\",operation=\"other\",verdict=\"other\"}"),
                     72);
    assert_int_equal(sum_requests(t), 201); /* every request is counted somewhere */
    free(t);
    metrics_free(m);
}

static void test_metrics_certificates(void **state)
{
    struct metrics *m = metrics_new();
    char *t;

    (void)state;
    assert_non_null(m);
    metrics_cert_expiry(m, (time_t)1893456000);
    metrics_cert_refused(m, METRICS_CERT_EXPIRED);
    metrics_cert_refused(m, METRICS_CERT_EXPIRED);
    metrics_cert_refused(m, METRICS_CERT_NOT_YET_VALID);
    metrics_reload(m, "client_ca", true);
    t = render(m);
    assert_int_equal(sample(t, "egressguard_certificate_expiry_timestamp_seconds"), 1893456000);
    assert_int_equal(sample(t, "egressguard_certificate_refused_total{reason=\"expired\"}"), 2);
    assert_int_equal(sample(t, "egressguard_certificate_refused_total{reason=\"not_yet_valid\"}"),
                     1);
    assert_int_equal(sample(t, "egressguard_certificate_refused_total{reason=\"invalid\"}"), 0);
    assert_int_equal(sample(t, "egressguard_reloads_total{what=\"client_ca\"}"), 1);
    assert_int_equal(sample(t, "egressguard_reloads_total{what=\"certificate\"}"), 0);
    free(t);
    metrics_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metrics_counts_requests_by_labels),
        cmocka_unit_test(test_metrics_label_values_from_requests_are_bounded),
        cmocka_unit_test(test_metrics_exact_under_concurrent_updates),
        cmocka_unit_test(test_metrics_overflow_series_printed),
        cmocka_unit_test(test_metrics_certificates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
