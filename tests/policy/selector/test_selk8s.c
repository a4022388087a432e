#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "policy/base/buf.h"
#include "policy/base/err.h"
#include "policy/selector/selector.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

static json_t *load(const char *text)
{
    json_t *j = json_loads(text, 0, NULL);

    if (!j)
        fail_msg("bad test JSON: %s", text);
    return j;
}

/* Reads a LabelSelector (must succeed) and checks its canonical Calico form. */
static void assert_reads_as(const char *json, const char *want)
{
    json_t *j = load(json);
    struct err e = {0};
    struct selector *s = selector_from_json(j, NULL, &e);
    struct buf b;

    if (!s)
        fail_msg("%s: %s", json, e.msg);
    buf_init(&b, 0);
    assert_int_equal(selector_format(s, &b), 0);
    assert_string_equal(buf_str(&b), want);
    buf_release(&b);
    selector_free(s);
    json_decref(j);
}

/*
 * Reads a LabelSelector that must fail with msg; then a NULL-terminated list of members
 * ("matchExpressions", "1", "operator") naming the node *where must point at (none: the root).
 */
static void assert_rejects(const char *json, const char *msg, ...)
{
    json_t *j = load(json);
    const json_t *where = NULL, *want = j;
    struct err e = {0};
    const char *member;
    va_list ap;

    va_start(ap, msg);
    while ((member = va_arg(ap, const char *)))
        want = json_is_array(want) ? json_array_get(want, (size_t)atoi(member))
                                   : json_object_get(want, member);
    va_end(ap);
    assert_non_null(want);
    assert_null(selector_from_json(j, &where, &e));
    assert_string_equal(e.msg, msg);
    assert_ptr_equal(where, want);
    json_decref(j);
}

static bool matches(const char *sel_json, const char *labels_json)
{
    json_t *j = load(sel_json), *labels = load(labels_json);
    struct err e = {0};
    struct selector *s = selector_from_json(j, NULL, &e);
    bool r;

    assert_non_null(s);
    r = selector_matches(s, labels);
    selector_free(s);
    json_decref(j);
    json_decref(labels);
    return r;
}

static void test_selector_from_json_empty_selects_everything(void **state)
{
    (void)state;
    assert_reads_as("{}", "all()");
    assert_reads_as("{\"matchLabels\": {}, \"matchExpressions\": []}", "all()");
    assert_reads_as("{\"matchLabels\": null, \"matchExpressions\": null}", "all()");
    assert_true(matches("{}", "{}"));
    assert_true(matches("{}", "{\"a\": \"b\"}"));
}

static void test_selector_from_json_operators(void **state)
{
    (void)state;
    assert_reads_as("{\"matchLabels\": {\"app\": \"web\", \"tier\": \"fe\"}}",
                    "app == \"web\" && tier == \"fe\"");
    assert_reads_as("{\"matchExpressions\": [{\"key\": \"app\", \"operator\": \"In\", "
                    "\"values\": [\"web\", \"api\", \"web\"]}]}",
                    "app in {\"api\", \"web\"}");
    assert_reads_as("{\"matchExpressions\": [{\"key\": \"app\", \"operator\": \"NotIn\", "
                    "\"values\": [\"web\"]}]}",
                    "app not in {\"web\"}");
    assert_reads_as("{\"matchExpressions\": [{\"key\": \"app\", \"operator\": \"Exists\"}]}",
                    "has(app)");
    assert_reads_as("{\"matchExpressions\": [{\"key\": \"app\", \"operator\": \"DoesNotExist\", "
                    "\"values\": []}]}",
                    "!has(app)");
    assert_reads_as("{\"matchLabels\": {\"a\": \"\"}, \"matchExpressions\": [{\"key\": "
                    "\"example.com/b\", \"operator\": \"Exists\", \"values\": null}]}",
                    "a == \"\" && has(example.com/b)");
}

static void test_selector_from_json_semantics(void **state)
{
    const char *notin = "{\"matchExpressions\": [{\"key\": \"env\", \"operator\": \"NotIn\", "
                        "\"values\": [\"prod\"]}]}";
    const char *in = "{\"matchExpressions\": [{\"key\": \"env\", \"operator\": \"In\", "
                     "\"values\": [\"prod\", \"dev\"]}]}";

    (void)state;
    /* NotIn matches a missing key, In does not. */
    assert_true(matches(notin, "{}"));
    assert_true(matches(notin, "{\"env\": \"dev\"}"));
    assert_false(matches(notin, "{\"env\": \"prod\"}"));
    assert_false(matches(in, "{}"));
    assert_true(matches(in, "{\"env\": \"dev\"}"));
    assert_true(matches("{\"matchLabels\": {\"a\": \"1\"}}", "{\"a\": \"1\", \"b\": \"2\"}"));
    assert_false(matches("{\"matchLabels\": {\"a\": \"1\", \"b\": \"3\"}}",
                         "{\"a\": \"1\", \"b\": \"2\"}"));
    assert_false(matches("{\"matchExpressions\": [{\"key\": \"a\", \"operator\": \"Exists\"}]}",
                         "{}"));
    assert_true(matches("{\"matchExpressions\": [{\"key\": \"a\", \"operator\": "
                        "\"DoesNotExist\"}]}",
                        "{}"));
}

static void test_selector_from_json_operator_errors(void **state)
{
    (void)state;
    assert_rejects("{\"matchExpressions\": [{\"key\": \"a\", \"operator\": \"Exists\"}, "
                   "{\"key\": \"a\", \"operator\": \"Inn\", \"values\": [\"x\"]}]}",
                   "matchExpressions[1].operator: unknown operator \"Inn\"", "matchExpressions",
                   "1", "operator", NULL);
    assert_rejects("{\"matchExpressions\": [{\"key\": \"a\", \"operator\": \"In\"}]}",
                   "matchExpressions[0].values: must be specified when operator is \"In\"",
                   "matchExpressions", "0", NULL);
    assert_rejects("{\"matchExpressions\": [{\"key\": \"a\", \"operator\": \"NotIn\", "
                   "\"values\": []}]}",
                   "matchExpressions[0].values: must be specified when operator is \"NotIn\"",
                   "matchExpressions", "0", "values", NULL);
    assert_rejects("{\"matchExpressions\": [{\"key\": \"a\", \"operator\": \"Exists\", "
                   "\"values\": [\"x\"]}]}",
                   "matchExpressions[0].values: may not be specified when operator is "
                   "\"Exists\"",
                   "matchExpressions", "0", "values", NULL);
    assert_rejects("{\"matchExpressions\": [{\"key\": \"a\", \"operator\": \"DoesNotExist\", "
                   "\"values\": [\"x\"]}]}",
                   "matchExpressions[0].values: may not be specified when operator is "
                   "\"DoesNotExist\"",
                   "matchExpressions", "0", "values", NULL);
    assert_rejects("{\"matchExpressions\": [{\"key\": \"a\"}]}",
                   "matchExpressions[0].operator: required", "matchExpressions", "0", NULL);
    assert_rejects("{\"matchExpressions\": [{\"operator\": \"Exists\"}]}",
                   "matchExpressions[0].key: required", "matchExpressions", "0", NULL);
    assert_rejects("{\"matchExpressions\": [{\"key\": 1, \"operator\": \"Exists\"}]}",
                   "matchExpressions[0].key: expected a string", "matchExpressions", "0", "key", NULL);
    /* true has no position of its own: *where is the expression holding it */
    assert_rejects("{\"matchExpressions\": [{\"key\": \"a\", \"operator\": true}]}",
                   "matchExpressions[0].operator: expected a string", "matchExpressions", "0",
                   NULL);
    assert_rejects("{\"matchExpressions\": [{\"key\": \"a\", \"operator\": \"In\", "
                   "\"values\": \"x\"}]}",
                   "matchExpressions[0].values: expected an array", "matchExpressions", "0",
                   "values", NULL);
    assert_rejects("{\"matchExpressions\": [{\"key\": \"a\", \"operator\": \"Exists\", "
                   "\"value\": 1}]}",
                   "matchExpressions[0]: unknown member \"value\"", "matchExpressions", "0",
                   "value", NULL);
    assert_rejects("{\"matchExpressions\": [\"a\"]}", "matchExpressions[0]: expected an object",
                   "matchExpressions", "0", NULL);
    assert_rejects("{\"matchExpressions\": {}}", "matchExpressions: expected an array",
                   "matchExpressions", NULL);
}

/*
 * matchLabels is a Go map[string]string: the API server's decoder stores `app: null` as
 * app: "" (encoding/json leaves the zero value), so it selects app == "", and a label set whose
 * value is null is read the same way.
 */
static void test_selector_from_json_null_label_value(void **state)
{
    (void)state;
    assert_reads_as("{\"matchLabels\": {\"app\": null}}", "app == \"\"");
    assert_true(matches("{\"matchLabels\": {\"app\": null}}", "{\"app\": \"\"}"));
    assert_true(matches("{\"matchLabels\": {\"app\": null}}", "{\"app\": null}"));
    assert_false(matches("{\"matchLabels\": {\"app\": null}}", "{}"));
    assert_false(matches("{\"matchLabels\": {\"app\": null}}", "{\"app\": \"web\"}"));
    assert_true(matches("{\"matchExpressions\": [{\"key\": \"app\", \"operator\": "
                        "\"Exists\"}]}",
                        "{\"app\": null}"));
}

static void test_selector_from_json_label_errors(void **state)
{
    json_t *j = load("{\"matchExpressions\": [{\"key\": \"a\", \"operator\": \"In\", "
                     "\"values\": [\"ok\", 7]}]}");
    const json_t *where = NULL;
    struct err e = {0};

    (void)state;
    assert_null(selector_from_json(j, &where, &e));
    assert_string_equal(e.msg, "matchExpressions[0].values[1]: expected a string");
    assert_ptr_equal(where, json_array_get(json_object_get(json_array_get(
                                json_object_get(j, "matchExpressions"), 0), "values"), 1));
    json_decref(j);

    assert_rejects("{\"matchExpressions\": [{\"key\": \"a\", \"operator\": \"In\", "
                   "\"values\": [\"-x\"]}]}",
                   "matchExpressions[0].values[0]: invalid label value \"-x\": a valid label "
                   "must be an empty string or consist of alphanumeric characters, '-', "
                   "'_' or '.', and must start and end with an alphanumeric character",
                   "matchExpressions", "0", "values", "0", NULL);
    assert_rejects("{\"matchExpressions\": [{\"key\": \"a b\", \"operator\": \"Exists\"}]}",
                   "matchExpressions[0].key: invalid label key \"a b\": name part must consist "
                   "of alphanumeric characters, '-', '_' or '.', and must start and end with an "
                   "alphanumeric character",
                   "matchExpressions", "0", "key", NULL);
    assert_rejects("{\"matchLabels\": {\"Example.com/a\": \"x\"}}",
                   "matchLabels: invalid label key \"Example.com/a\": prefix part a lowercase "
                   "RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
                   "or '.', and must start and end with an alphanumeric character",
                   "matchLabels", "Example.com/a", NULL);
    assert_rejects("{\"matchLabels\": {\"app\": \"a b\"}}",
                   "matchLabels[app]: invalid label value \"a b\": a valid label must be an "
                   "empty string or consist of alphanumeric characters, '-', '_' or '.', "
                   "and must start and end with an alphanumeric character",
                   "matchLabels", "app", NULL);
    assert_rejects("{\"matchLabels\": {\"app\": 1}}", "matchLabels[app]: expected a string",
                   "matchLabels", "app", NULL);
    assert_rejects("{\"matchLabels\": []}", "matchLabels: expected an object", "matchLabels", NULL);
    /* true, false and null have no position of their own: *where is what holds them */
    assert_rejects("{\"matchLabels\": {\"app\": true}}", "matchLabels[app]: expected a string",
                   "matchLabels", NULL);
    assert_rejects("{\"matchExpressions\": [{\"key\": \"a\", \"operator\": \"In\", "
                   "\"values\": [\"x\", null]}]}",
                   "matchExpressions[0].values[1]: expected a string", "matchExpressions", "0",
                   "values", NULL);
    assert_rejects("{\"matchLabels\": true}", "matchLabels: expected an object", NULL);
    assert_rejects("{\"matchLabel\": {}}", "unknown member \"matchLabel\"", "matchLabel", NULL);
    assert_rejects("[]", "expected an object", NULL);
}

static void assert_key_error(const char *key, const char *why)
{
    struct err e = {0};
    char want[600];

    assert_int_equal(selector_check_label_key(key, &e), -1);
    snprintf(want, sizeof(want), "invalid label key \"%s\": %s", key, why);
    assert_string_equal(e.msg, want);
}

static void test_selector_check_label_key(void **state)
{
    char long_name[80], long_prefix[300];

    (void)state;
    assert_int_equal(selector_check_label_key("app", NULL), 0);
    assert_int_equal(selector_check_label_key("app.kubernetes.io/name", NULL), 0);
    assert_int_equal(selector_check_label_key("A_b-c.D", NULL), 0);
    assert_int_equal(selector_check_label_key("x/y", NULL), 0);
    assert_key_error("", "name part must be non-empty");
    assert_key_error("example.com/", "name part must be non-empty");
    assert_key_error("/a", "prefix part must be non-empty");
    assert_key_error("a/b/c", "a qualified name must consist of alphanumeric characters, '-', "
                              "'_' or '.', and must start and end with an alphanumeric "
                              "character with an optional DNS subdomain prefix and '/'");
    assert_key_error("_a", "name part must consist of alphanumeric characters, '-', '_' or '.', "
                           "and must start and end with an alphanumeric character");
    assert_key_error("a..b/c", "prefix part a lowercase RFC 1123 subdomain must consist of "
                               "lower case alphanumeric characters, '-' or '.', and must start "
                               "and end with an alphanumeric character");
    memset(long_name, 'a', 64);
    long_name[64] = '\0';
    assert_key_error(long_name, "name part must be no more than 63 characters");
    long_name[63] = '\0';
    assert_int_equal(selector_check_label_key(long_name, NULL), 0);
    memset(long_prefix, 'a', 254);
    strcpy(long_prefix + 254, "/x");
    assert_int_equal(selector_check_label_key(long_prefix, NULL), -1);
}

static void test_selector_check_label_value(void **state)
{
    char v[80];
    struct err e = {0};

    (void)state;
    assert_int_equal(selector_check_label_value("", NULL), 0);
    assert_int_equal(selector_check_label_value("a", NULL), 0);
    assert_int_equal(selector_check_label_value("v1.2_3-x", NULL), 0);
    assert_int_equal(selector_check_label_value("a/b", &e), -1);
    assert_int_equal(selector_check_label_value("x-", &e), -1);
    memset(v, 'a', 64);
    v[64] = '\0';
    assert_int_equal(selector_check_label_value(v, &e), -1);
    assert_string_equal(e.msg, "invalid label value \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                               "aaaaaaaaaaaaaaaaa\": must be no more than 63 characters");
    v[63] = '\0';
    assert_int_equal(selector_check_label_value(v, NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_selector_from_json_empty_selects_everything),
        cmocka_unit_test(test_selector_from_json_operators),
        cmocka_unit_test(test_selector_from_json_semantics),
        cmocka_unit_test(test_selector_from_json_operator_errors),
        cmocka_unit_test(test_selector_from_json_null_label_value),
        cmocka_unit_test(test_selector_from_json_label_errors),
        cmocka_unit_test(test_selector_check_label_key),
        cmocka_unit_test(test_selector_check_label_value),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
