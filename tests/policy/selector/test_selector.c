#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "policy/selector/selsubset.h"
#include "policy/base/buf.h"
#include "policy/base/err.h"
#include "policy/selector/selector.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

static struct selector *parse(const char *text)
{
    struct err e = {0};
    struct selector *s = selector_parse(text, &e);

    if (!s)
        fail_msg("parse %s: col %d: %s", text, e.col, e.msg);
    return s;
}

/* Checks the canonical form of s, then frees s. */
static void assert_format(struct selector *s, const char *want)
{
    struct buf b;

    assert_non_null(s);
    buf_init(&b, 0);
    assert_int_equal(selector_format(s, &b), 0);
    assert_string_equal(buf_str(&b), want);
    buf_release(&b);
    selector_free(s);
}

static enum tri eval(const char *sel, const char *labels_json, bool complete)
{
    struct selector *s = parse(sel);
    json_t *labels = labels_json ? json_loads(labels_json, 0, NULL) : NULL;
    enum tri t;

    if (labels_json)
        assert_non_null(labels);
    t = selector_eval(s, labels, complete);
    selector_free(s);
    json_decref(labels);
    return t;
}

static void test_selector_all_none(void **state)
{
    struct selector *all = selector_all(), *none = selector_none();
    json_t *labels = json_pack("{s:s}", "a", "b");

    (void)state;
    assert_true(selector_matches(all, NULL));
    assert_true(selector_matches(all, labels));
    assert_false(selector_matches(none, NULL));
    assert_false(selector_matches(none, labels));
    assert_true(selector_is_all(all));
    assert_true(selector_is_none(none));
    assert_false(selector_is_all(none));
    assert_format(all, "all()");
    assert_format(none, "!all()");
    selector_free(NULL);
    json_decref(labels);
}

static void test_selector_and_or_not(void **state)
{
    struct selector *a = parse("app == 'web'"), *b = parse("has(tier) || env in {'x'}");
    struct selector *all = selector_all(), *none = selector_none();

    (void)state;
    assert_format(selector_and(a, b), "app == \"web\" && (has(tier) || env in {\"x\"})");
    assert_format(selector_or(a, b), "app == \"web\" || has(tier) || env in {\"x\"}");
    assert_format(selector_not(a), "app != \"web\"");
    assert_format(selector_not(b), "!(has(tier) || env in {\"x\"})");
    assert_format(selector_and(a, all), "app == \"web\"");
    assert_format(selector_and(a, none), "!all()");
    assert_format(selector_or(a, all), "all()");
    assert_format(selector_or(none, b), "has(tier) || env in {\"x\"}");
    assert_format(selector_not(none), "all()");
    /* Operands are not consumed: still usable and unchanged. */
    assert_format(selector_dup(a), "app == \"web\"");
    assert_format(selector_dup(b), "has(tier) || env in {\"x\"}");
    selector_free(a);
    selector_free(b);
    selector_free(all);
    selector_free(none);
}

static void test_selector_not_matches_complement(void **state)
{
    static const char *const sels[] = {
        "a == 'x'", "a != 'x'", "a in {'x', 'y'}", "a not in {'x'}", "has(a)",
        "a contains 'x'", "a starts with 'x'", "a ends with 'x'", "a == 'x' && has(b)",
        "a == 'x' || b != 'y'", "global()",
    };
    static const char *const label_sets[] = {
        "{}", "{\"a\": \"x\"}", "{\"a\": \"y\"}", "{\"a\": \"zx\"}", "{\"b\": \"y\"}",
        "{\"a\": \"x\", \"b\": \"y\"}",
    };
    struct selector *s, *n;
    json_t *labels;
    size_t i, j;

    (void)state;
    for (i = 0; i < sizeof(sels) / sizeof(sels[0]); i++) {
        s = parse(sels[i]);
        n = selector_not(s);
        assert_non_null(n);
        for (j = 0; j < sizeof(label_sets) / sizeof(label_sets[0]); j++) {
            labels = json_loads(label_sets[j], 0, NULL);
            if (selector_matches(s, labels) == selector_matches(n, labels))
                fail_msg("!(%s) on %s", sels[i], label_sets[j]);
            json_decref(labels);
        }
        selector_free(s);
        selector_free(n);
    }
}

static void test_selector_format_canonical(void **state)
{
    (void)state;
    assert_format(parse("a in {'z', 'x', 'z', 'y'}"), "a in {\"x\", \"y\", \"z\"}");
    assert_format(parse("a in {}"), "a in {}");
    assert_format(parse("all() && a == 'x'"), "a == \"x\"");
    assert_format(parse("(a == 'x' || b == 'y') && (c == 'z' || !has(d))"),
                  "(a == \"x\" || b == \"y\") && (c == \"z\" || !has(d))");
    assert_format(parse("!(a == 'x' && b == 'y') || c == 'z'"),
                  "!(a == \"x\" && b == \"y\") || c == \"z\"");
    assert_format(parse("a == 'x' && !global()"), "a == \"x\" && !global()");
}

static void test_selector_matches_non_string_labels(void **state)
{
    struct selector *s = parse("has(a)"), *t = parse("a != 'x'");
    json_t *labels = json_pack("{s:i}", "a", 1);

    (void)state;
    /* Label values are strings; anything else counts as absent. */
    assert_false(selector_matches(s, labels));
    assert_true(selector_matches(t, labels));
    assert_false(selector_matches(s, NULL));
    selector_free(s);
    selector_free(t);
    json_decref(labels);
}

static void test_selector_keys(void **state)
{
    struct selector *a = parse("a == 'x' && (has(b) || !(c starts with 'y'))"), *b = parse("b in {'1'} || d != 'z'");
    const char **keys = NULL;
    size_t n = 0;

    (void)state;
    assert_int_equal(selector_keys(a, &keys, &n), 0);
    assert_int_equal(selector_keys(b, &keys, &n), 0);
    assert_int_equal(n, 4);
    assert_string_equal(keys[0], "a");
    assert_string_equal(keys[1], "b");
    assert_string_equal(keys[2], "c");
    assert_string_equal(keys[3], "d");
    free(keys);
    keys = NULL;
    n = 0;
    selector_free(a);
    a = parse("all()");
    assert_int_equal(selector_keys(a, &keys, &n), 0);
    assert_int_equal(n, 0);
    free(keys);
    selector_free(a);
    selector_free(b);
}

static void test_selector_eval_three_valued(void **state)
{
    (void)state;
    assert_int_equal(eval("a == 'x'", "{\"a\": \"x\"}", false), TRI_TRUE);
    assert_int_equal(eval("a == 'x'", "{\"a\": \"y\"}", false), TRI_FALSE);
    assert_int_equal(eval("a == 'x'", "{}", false), TRI_UNKNOWN);
    assert_int_equal(eval("a == 'x'", "{}", true), TRI_FALSE);
    assert_int_equal(eval("a != 'x'", "{}", false), TRI_UNKNOWN);
    assert_int_equal(eval("a != 'x'", "{}", true), TRI_TRUE);
    assert_int_equal(eval("a == 'x' && b == 'y'", "{\"a\": \"z\"}", false), TRI_FALSE);
    assert_int_equal(eval("a == 'x' && b == 'y'", "{\"a\": \"x\"}", false), TRI_UNKNOWN);
    assert_int_equal(eval("a == 'x' || b == 'y'", "{\"a\": \"x\"}", false), TRI_TRUE);
    assert_int_equal(eval("a == 'x' || b == 'y'", "{\"a\": \"z\"}", false), TRI_UNKNOWN);
    assert_int_equal(eval("!(a == 'x' && b == 'y')", "{\"a\": \"z\"}", false), TRI_TRUE);
    /* Decided whatever the unknown label is. */
    assert_int_equal(eval("has(b) || !has(b)", "{}", false), TRI_TRUE);
    assert_int_equal(eval("a == 'x' && (b == 'y' && b != 'y')", "{\"a\": \"x\"}", false),
                     TRI_FALSE);
    assert_int_equal(eval("b in {}", NULL, false), TRI_FALSE);
    assert_int_equal(eval("b not in {}", NULL, false), TRI_TRUE);
    assert_int_equal(eval("has(b)", NULL, false), TRI_UNKNOWN);
    assert_int_equal(eval("has(b)", NULL, true), TRI_FALSE);
    assert_int_equal(eval("all()", NULL, false), TRI_TRUE);
}

/* A key renamed everywhere it is tested, and nowhere else; the result stays in normal form. */
static void test_selector_rename_key(void **state)
{
    struct selector *s = parse("(a == 'x' || !has(a)) && b in {'1'} && a != 'y'");

    (void)state;
    assert_format(selector_rename_key(s, "a", "c"),
                  "(c == \"x\" || !has(c)) && b in {\"1\"} && c != \"y\"");
    assert_format(selector_rename_key(s, "z", "c"),
                  "(a == \"x\" || !has(a)) && b in {\"1\"} && a != \"y\"");
    selector_free(s);
}

/* global() made all() or nothing, and the expression simplified around it. */
static void test_selector_set_global(void **state)
{
    struct selector *s = parse("global() || team == 'ml'");

    (void)state;
    assert_true(selector_has_global(s));
    assert_format(selector_set_global(s, false), "team == \"ml\"");
    assert_format(selector_set_global(s, true), "all()");
    selector_free(s);
    s = parse("global()");
    assert_format(selector_set_global(s, false), "!all()");
    selector_free(s);
}

/* on && rest == s, exactly: checked on every label set over two keys and three values. */
static void test_selector_split_key(void **state)
{
    static const char *const vals[] = {NULL, "x", "y"};
    struct selector *s = parse("ns == 'x' && app == 'y' && (ns != 'y' || has(app))"), *on, *rest;

    (void)state;
    assert_int_equal(selector_split_key(s, "ns", &on, &rest), 0);
    assert_format(selector_dup(on), "ns == \"x\"");
    assert_format(selector_dup(rest), "app == \"y\" && (ns != \"y\" || has(app))");
    for (size_t i = 0; i < 3; i++)
        for (size_t j = 0; j < 3; j++) {
            json_t *labels = json_object();

            if (vals[i])
                json_object_set_new(labels, "ns", json_string(vals[i]));
            if (vals[j])
                json_object_set_new(labels, "app", json_string(vals[j]));
            assert_int_equal(selector_matches(s, labels),
                             selector_matches(on, labels) && selector_matches(rest, labels));
            json_decref(labels);
        }
    selector_free(on);
    selector_free(rest);
    selector_free(s);
    /* not a conjunction: the whole selector is one conjunct */
    s = parse("ns == 'x' || app == 'y'");
    assert_int_equal(selector_split_key(s, "ns", &on, &rest), 0);
    assert_format(on, "all()");
    assert_format(rest, "ns == \"x\" || app == \"y\"");
    selector_free(s);
}

/* What a selector pins: a top-level ==, or `in` with one value; nothing under ||. */
static void test_selector_eq_value(void **state)
{
    static const struct {
        const char *text, *key, *want; /* want NULL: not pinned */
    } cases[] = {
        {"app == 'web'", "app", "web"},
        {"tier == 'x' && app == 'web'", "app", "web"},
        {"app in {'web'}", "app", "web"},
        {"app in {'web', 'db'}", "app", NULL},
        {"app == 'web' || app == 'db'", "app", NULL},
        {"!(app != 'web')", "app", "web"}, /* the same as app == 'web' once built */
        {"!(app == 'web')", "app", NULL},
        {"app != 'web'", "app", NULL},
        {"has(app)", "app", NULL},
        {"tier == 'x'", "app", NULL},
        {"all()", "app", NULL},
    };
    struct err e = {0};

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct selector *s = selector_parse(cases[i].text, &e);
        const char *got;

        assert_non_null(s);
        got = selector_eq_value(s, cases[i].key);
        if (cases[i].want)
            assert_string_equal(got, cases[i].want);
        else
            assert_null(got);
        if (cases[i].want)
            assert_non_null(selector_first_eq_key(s));
        selector_free(s);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_selector_all_none),
        cmocka_unit_test(test_selector_and_or_not),
        cmocka_unit_test(test_selector_not_matches_complement),
        cmocka_unit_test(test_selector_format_canonical),
        cmocka_unit_test(test_selector_matches_non_string_labels),
        cmocka_unit_test(test_selector_eval_three_valued),
        cmocka_unit_test(test_selector_keys),
        cmocka_unit_test(test_selector_rename_key),
        cmocka_unit_test(test_selector_set_global),
        cmocka_unit_test(test_selector_split_key),
        cmocka_unit_test(test_selector_eq_value),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
