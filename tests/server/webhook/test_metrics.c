/* The /metrics exposition (server/webhook/metrics.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "server/webhook/metrics.h"

#define REQUESTS "egressguard_admission_requests_total{"

/* The sum of every egressguard_admission_requests_total series in the text. */
static unsigned long sum_requests(const char *text)
{
    unsigned long sum = 0;

    for (const char *p = strstr(text, "\n" REQUESTS); p; p = strstr(p + 1, "\n" REQUESTS)) {
        const char *v = strchr(p + 1, '}');
        assert_non_null(v);
        sum += strtoul(v + 1, NULL, 10);
    }
    return sum;
}

static char *render(struct metrics *m)
{
    size_t len = 0;
    char *text = metrics_render(m, &len);

    assert_non_null(text);
    assert_int_equal(strlen(text), len);
    return text;
}

static void test_metrics_requests_by_series(void **state)
{
    struct metrics *m = metrics_new();
    char *text;

    (void)state;
    assert_non_null(m);
    metrics_request(m, "validate", "Pod", "CREATE", "deny", 0.002);
    metrics_request(m, "validate", "Pod", "CREATE", "deny", 0.003);
    metrics_request(m, "mutate", "Namespace", NULL, "allow", 0.0001);
    metrics_request(m, "validate", "Bad Kind!", "PATCH", "maybe", 0.1);
    text = render(m);
    assert_non_null(strstr(text, REQUESTS "endpoint=\"validate\",kind=\"Pod\",operation=\"CREATE\","
                                          "verdict=\"deny\"} 2\n"));
    assert_non_null(strstr(text, REQUESTS "endpoint=\"mutate\",kind=\"Namespace\",operation="
                                          "\"CREATE\",verdict=\"allow\"} 1\n"));
    /* request text that is not a plain identifier never becomes a label value */
    assert_non_null(strstr(text, REQUESTS "endpoint=\"validate\",kind=\"other\",operation="
                                          "\"other\",verdict=\"other\"} 1\n"));
    assert_int_equal(sum_requests(text), 4);
    assert_non_null(strstr(text, "egressguard_admission_duration_seconds_count{endpoint="
                                 "\"validate\"} 3\n"));
    free(text);
    metrics_free(m);
}

/* Once the table is full, further series are counted together and printed as one: before, the
 * overflow slot was the table's last entry, which rendering never reached. */
static void test_metrics_overflow_series_printed(void **state)
{
    struct metrics *m = metrics_new();
    char kind[32], *text;
    unsigned long n = 0;

    (void)state;
    assert_non_null(m);
    for (int i = 0; i < 200; i++) {
        snprintf(kind, sizeof(kind), "Kind%d", i);
        metrics_request(m, "validate", kind, "CREATE", "allow", 0.001);
        n++;
    }
    metrics_request(m, "validate", "Kind7", "CREATE", "allow", 0.001); /* known: its own series */
    n++;
    text = render(m);
    assert_non_null(strstr(text, "kind=\"Kind0\","));
    assert_non_null(strstr(text, "kind=\"Kind127\","));
    assert_null(strstr(text, "kind=\"Kind128\","));
    assert_non_null(strstr(text, REQUESTS "endpoint=\"validate\",kind=\"Kind7\",operation="
                                          "\"CREATE\",verdict=\"allow\"} 2\n"));
    assert_non_null(strstr(text, REQUESTS "endpoint=\"other\",kind=\"other\",operation=\"other\","
                                          "verdict=\"other\"} 72\n"));
    assert_int_equal(sum_requests(text), n); /* every request is counted somewhere */
    free(text);
    metrics_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metrics_requests_by_series),
        cmocka_unit_test(test_metrics_overflow_series_printed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
