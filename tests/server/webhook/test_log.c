/*
 * log: lines are JSON objects whatever the strings hold, and the timestamp is what gmtime_r and
 * strftime would write.
 */
#include "server/webhook/log.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

static void test_log_utc_as_gmtime(void **state)
{
    /* Epoch, leap days, century rules (2100 is no leap year, 2000 is), far ahead. */
    static const time_t fixed[] = {0, 59, 86399, 86400, 951782399, 951782400, 951868799,
                                   1709164800, 4107542399, 4107542400, 13574563199};
    uint64_t x = 88172645463325252ULL;
    char got[25], want[40];
    struct tm tm;

    (void)state;
    for (size_t i = 0; i < 20000; i++) {
        time_t t;

        if (i < sizeof(fixed) / sizeof(fixed[0])) {
            t = fixed[i];
        } else {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            t = (time_t)(x % 13574563200ULL); /* 1970 .. 2400 */
        }
        log_utc(t, 123456789, got);
        gmtime_r(&t, &tm);
        strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%S.123Z", &tm);
        if (strcmp(got, want))
            fail_msg("%lld: %s, want %s", (long long)t, got, want);
    }
}

/* The text one call writes. */
static char *capture(void (*write)(const struct log *lg))
{
    FILE *f = tmpfile();
    struct log lg = {LOG_INFO, f, NULL};
    char *text;
    long n;

    assert_non_null(f);
    write(&lg);
    n = ftell(f);
    assert_true(n > 0);
    text = calloc(1, (size_t)n + 1);
    assert_non_null(text);
    rewind(f);
    assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    return text;
}

static void write_decision(const struct log *lg)
{
    struct log_decision d = {.endpoint = "validate", .uid = "u-1", .kind = "Pod",
                             .ns = "ml-a", .name = "we\"ird\\name", .operation = "CREATE",
                             .user = NULL, .verdict = "deny",
                             .reason = "pod.hostNetwork: a\tb\nc\x01 é", .latency_us = 42};

    log_decision(lg, &d);
}

static void test_log_decision_is_one_json_line(void **state)
{
    char *text = capture(write_decision);
    json_error_t jerr;
    json_t *j;

    (void)state;
    assert_non_null(strchr(text, '\n'));
    assert_null(strchr(strchr(text, '\n') + 1, '\n'));
    j = json_loads(text, 0, &jerr);
    if (!j)
        fail_msg("not JSON (%s): %s", jerr.text, text);
    assert_string_equal(json_string_value(json_object_get(j, "level")), "info");
    assert_string_equal(json_string_value(json_object_get(j, "msg")), "decision");
    assert_string_equal(json_string_value(json_object_get(j, "name")), "we\"ird\\name");
    assert_string_equal(json_string_value(json_object_get(j, "user")), "");
    assert_string_equal(json_string_value(json_object_get(j, "reason")),
                        "pod.hostNetwork: a\tb\nc\x01 é");
    assert_int_equal(json_integer_value(json_object_get(j, "latency_us")), 42);
    assert_int_equal(strlen(json_string_value(json_object_get(j, "ts"))), 24);
    json_decref(j);
    free(text);
}

/* The bytes written to f so far. */
static long written(FILE *f)
{
    fflush(f);
    return ftell(f);
}

/*
 * Gathered decision lines wait for log_flush() or for another line, which writes them first:
 * the order of lines is the order they were logged.
 */
static void test_log_buffer_keeps_order(void **state)
{
    FILE *f = tmpfile();
    struct log lg = {LOG_INFO, f, NULL};
    char text[4096], *second;
    size_t n;

    (void)state;
    assert_non_null(f);
    assert_int_equal(log_buffer_start(&lg), 0);
    write_decision(&lg);
    write_decision(&lg);
    assert_int_equal(written(f), 0);
    log_msg(&lg, LOG_WARN, "after %d decisions", 2);
    write_decision(&lg);
    log_flush(&lg);
    log_buffer_stop(&lg);
    rewind(f);
    n = fread(text, 1, sizeof(text) - 1, f);
    text[n] = '\0';
    /* decision, decision, warning, decision */
    second = strstr(strstr(text, "\"msg\":\"decision\"") + 1, "\"msg\":\"decision\"");
    assert_non_null(second);
    assert_true(strstr(text, "after 2 decisions") > second);
    assert_non_null(strstr(strstr(text, "after 2 decisions"), "\"msg\":\"decision\""));
    fclose(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_log_utc_as_gmtime),
        cmocka_unit_test(test_log_decision_is_one_json_line),
        cmocka_unit_test(test_log_buffer_keeps_order),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
