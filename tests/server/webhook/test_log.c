/* The server's JSON log lines (server/webhook/log.c). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "server/webhook/log.h"

/* A log writing into memory; *text and *len follow what is written (open_memstream). */
struct capture {
    struct log lg;
    char *text;
    size_t len;
};

static void capture_open(struct capture *c)
{
    c->text = NULL;
    c->len = 0;
    c->lg.level = LOG_DEBUG;
    c->lg.out = open_memstream(&c->text, &c->len);
    assert_non_null(c->lg.out);
}

/* The one line written, parsed (new reference); fails the test unless it is one JSON object. */
static json_t *capture_line(struct capture *c)
{
    json_error_t jerr;
    json_t *j;

    assert_int_equal(fflush(c->lg.out), 0);
    assert_true(c->len > 0);
    assert_int_equal(c->text[c->len - 1], '\n');
    assert_null(memchr(c->text, '\n', c->len - 1));
    j = json_loadb(c->text, c->len, 0, &jerr);
    if (!j)
        fail_msg("not JSON (%s): %s", jerr.text, c->text);
    return j;
}

static void capture_close(struct capture *c)
{
    fclose(c->lg.out);
    free(c->text);
}

static const char *member(const json_t *j, const char *key)
{
    return json_string_value(json_object_get(j, key));
}

static void test_log_msg_fields(void **state)
{
    struct capture c;
    json_t *j;

    (void)state;
    capture_open(&c);
    log_msg(&c.lg, LOG_WARN, "namespace %s: %d", "ml-a", 7);
    j = capture_line(&c);
    assert_string_equal(member(j, "level"), "warn");
    assert_string_equal(member(j, "msg"), "namespace ml-a: 7");
    assert_non_null(member(j, "ts"));
    json_decref(j);
    capture_close(&c);
}

static void test_log_msg_level_filters(void **state)
{
    struct capture c;

    (void)state;
    capture_open(&c);
    c.lg.level = LOG_ERROR;
    log_msg(&c.lg, LOG_WARN, "dropped");
    fflush(c.lg.out);
    assert_int_equal(c.len, 0);
    capture_close(&c);
}

/* A long message is cut on a character boundary: the é straddling byte 1021 goes whole. */
static void test_log_msg_cut_on_a_character_boundary(void **state)
{
    struct capture c;
    char text[1100];
    const char *msg;
    json_t *j;

    (void)state;
    memset(text, 'a', sizeof(text));
    memcpy(text + 1020, "\xc3\xa9", 2); /* é at bytes 1020-1021 */
    text[sizeof(text) - 1] = '\0';
    capture_open(&c);
    log_msg(&c.lg, LOG_INFO, "%s", text);
    j = capture_line(&c); /* before: the line ended in half a character, which is not JSON */
    msg = member(j, "msg");
    assert_non_null(msg);
    assert_int_equal(strlen(msg), 1020 + 3);
    assert_string_equal(msg + 1020, "...");
    json_decref(j);
    capture_close(&c);

    memset(text, 'a', sizeof(text) - 1);
    memcpy(text + 1022, "\xc3\xa9", 2); /* é at bytes 1022-1023, across a 1024-byte buffer's end */
    capture_open(&c);
    log_msg(&c.lg, LOG_INFO, "%s", text);
    j = capture_line(&c);
    msg = member(j, "msg");
    assert_non_null(msg);
    assert_int_equal(strlen(msg), 1021 + 3);
    json_decref(j);
    capture_close(&c);
}

static void test_log_msg_invalid_utf8_replaced(void **state)
{
    struct capture c;
    json_t *j;

    (void)state;
    capture_open(&c);
    log_msg(&c.lg, LOG_ERROR, "cannot open %s", "/etc/\xff\xfe.yaml");
    j = capture_line(&c);
    assert_string_equal(member(j, "msg"), "cannot open /etc/\xef\xbf\xbd\xef\xbf\xbd.yaml");
    json_decref(j);
    capture_close(&c);
}

static void test_log_decision_fields_cut(void **state)
{
    struct capture c;
    char *user = malloc(5000);
    struct log_decision d = {.endpoint = "validate", .uid = "u-1", .kind = "Pod", .ns = "ml-a",
                             .name = NULL, .operation = "CREATE", .verdict = "deny",
                             .reason = "pod.hostNetwork: \"on\"", .latency_us = 12};
    json_t *j;

    (void)state;
    assert_non_null(user);
    memset(user, 'u', 4999);
    user[4999] = '\0';
    memcpy(user + 1019, "\xe2\x82\xac", 3); /* € at 1019-1021: cut before it */
    d.user = user;
    capture_open(&c);
    log_decision(&c.lg, &d);
    j = capture_line(&c);
    assert_string_equal(member(j, "msg"), "decision");
    assert_string_equal(member(j, "name"), "");
    assert_string_equal(member(j, "reason"), "pod.hostNetwork: \"on\"");
    assert_int_equal(strlen(member(j, "user")), 1019 + 3);
    assert_string_equal(member(j, "user") + 1019, "...");
    assert_int_equal(json_integer_value(json_object_get(j, "latency_us")), 12);
    json_decref(j);
    capture_close(&c);
    free(user);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_log_msg_fields),
        cmocka_unit_test(test_log_msg_level_filters),
        cmocka_unit_test(test_log_msg_cut_on_a_character_boundary),
        cmocka_unit_test(test_log_msg_invalid_utf8_replaced),
        cmocka_unit_test(test_log_decision_fields_cut),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
