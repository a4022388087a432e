/* Witnesses of selectors (policy/selector/selwitness.c): a label set the selector matches, found
 * or proven absent; checked against selector_matches() on every shape of both languages. */
#include <jansson.h>
#include <string.h>

#include "policy/base/err.h"
#include "policy/selector/selector.h"
#include "policy/selector/selwitness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

static struct selector *parse(const char *text)
{
    struct err e = {0};
    struct selector *s = selector_parse(text, &e);

    if (!s)
        fail_msg("parse %s: %s", text, e.msg);
    return s;
}

static void test_selector_witness_finds_a_match(void **state)
{
    static const char *const sat[] = {
        "all()",
        "a == 'x'",
        "a != 'x'",
        "has(a) && !has(b)",
        "a in {'p', 'q'} && a not in {'p'}",
        "a starts with 'pre' && a ends with 'post' && a contains 'mid'",
        "(a == '1' || b == '2') && !(a == '1')",
        "a == 'x' && b == 'y' && c == 'z' && d not in {'u'}",
        "kubernetes.io/metadata.name == 'ml'",
    };
    json_t *fixed = json_pack("{s:s}", "kubernetes.io/metadata.name", "ml");

    (void)state;
    for (size_t i = 0; i < sizeof(sat) / sizeof(sat[0]); i++) {
        struct selector *s = parse(sat[i]);
        bool gave_up = true;
        json_t *w = selector_witness(s, fixed, &gave_up);
        if (!w)
            fail_msg("no witness for %s", sat[i]);
        assert_false(gave_up);
        assert_true(selector_matches(s, w));
        /* The fixed label stays as it is. */
        assert_string_equal(json_string_value(json_object_get(w, "kubernetes.io/metadata.name")),
                            "ml");
        json_decref(w);
        selector_free(s);
    }
    json_decref(fixed);
}

static void test_selector_witness_proves_none(void **state)
{
    static const char *const unsat[] = {
        "a == 'x' && a == 'y'",
        "has(a) && !has(a)",
        "a in {} ",
        "!all()",
        "kubernetes.io/metadata.name == 'other'", /* the name is fixed */
    };
    json_t *fixed = json_pack("{s:s}", "kubernetes.io/metadata.name", "ml");

    (void)state;
    for (size_t i = 0; i < sizeof(unsat) / sizeof(unsat[0]); i++) {
        struct selector *s = parse(unsat[i]);
        bool gave_up = true;
        json_t *w = selector_witness(s, fixed, &gave_up);
        if (w)
            fail_msg("a witness for %s", unsat[i]);
        assert_false(gave_up);
        selector_free(s);
    }
    json_decref(fixed);
}

/* Kubernetes LabelSelectors, as aiWorkloads.namespaces.selectors are written, and their negation. */
static void test_selector_witness_of_k8s_selectors_and_complements(void **state)
{
    json_error_t je;
    json_t *j = json_loads("{\"matchLabels\": {\"egressguard.io/ai-workload\": \"true\"}, "
                           "\"matchExpressions\": [{\"key\": \"env\", \"operator\": \"NotIn\", "
                           "\"values\": [\"prod\"]}]}",
                           0, &je);
    struct err e = {0};
    struct selector *s = selector_from_json(j, NULL, &e), *n = selector_not(s);
    json_t *w = selector_witness(s, NULL, NULL), *wn = selector_witness(n, NULL, NULL);

    (void)state;
    assert_non_null(w);
    assert_true(selector_matches(s, w));
    assert_non_null(wn);
    assert_false(selector_matches(s, wn));
    json_decref(w);
    json_decref(wn);
    selector_free(s);
    selector_free(n);
    json_decref(j);
}

/* Too many free keys: it says it gave up instead of claiming there is none. */
static void test_selector_witness_gives_up_honestly(void **state)
{
    struct selector *s = parse("a=='1' && b=='1' && c=='1' && d=='1' && e=='1' && f=='1' && "
                               "g=='1' && h=='1' && i=='1'");
    bool gave_up = false;

    (void)state;
    assert_null(selector_witness(s, NULL, &gave_up));
    assert_true(gave_up);
    selector_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_selector_witness_finds_a_match),
        cmocka_unit_test(test_selector_witness_proves_none),
        cmocka_unit_test(test_selector_witness_of_k8s_selectors_and_complements),
        cmocka_unit_test(test_selector_witness_gives_up_honestly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
