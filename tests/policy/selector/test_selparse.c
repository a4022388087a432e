#include <jansson.h>
#include <stdio.h>
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

#define DATA "tests/data/selector/"

/* Parses text (must succeed) and returns its canonical form in a static-free malloc()ed string. */
static char *canon(const char *text)
{
    struct err e = {0};
    struct selector *s = selector_parse(text, &e);
    struct buf b;

    if (!s)
        fail_msg("parse %s: col %d: %s", text, e.col, e.msg);
    buf_init(&b, 0);
    assert_int_equal(selector_format(s, &b), 0);
    selector_free(s);
    return buf_detach(&b, NULL);
}

static void assert_canon(const char *text, const char *want)
{
    char *got = canon(text);

    assert_string_equal(got, want);
    free(got);
}

static bool matches(const char *text, const char *labels_json)
{
    struct err e = {0};
    struct selector *s = selector_parse(text, &e);
    json_t *labels = json_loads(labels_json, 0, NULL);
    bool r;

    if (!s)
        fail_msg("parse %s: %s", text, e.msg);
    assert_non_null(labels);
    r = selector_matches(s, labels);
    selector_free(s);
    json_decref(labels);
    return r;
}

static void assert_parse_error(const char *text, int col, const char *msg)
{
    struct err e = {0};

    assert_null(selector_parse(text, &e));
    if (strcmp(e.msg, msg) != 0 || e.line != 0 || e.col != col)
        fail_msg("%s: got %d:%d: %s, want 0:%d: %s", text, e.line, e.col, e.msg, col, msg);
}

static void test_selector_parse_every_operator(void **state)
{
    (void)state;
    assert_canon("app == 'web'", "app == \"web\"");
    assert_canon("app != 'web'", "app != \"web\"");
    assert_canon("has(tier)", "has(tier)");
    assert_canon("!has(tier)", "!has(tier)");
    assert_canon("app in {'web', 'api'}", "app in {\"api\", \"web\"}");
    assert_canon("app not in {'web'}", "app not in {\"web\"}");
    assert_canon("app contains 'eb'", "app contains \"eb\"");
    assert_canon("app starts with 'w'", "app starts with \"w\"");
    assert_canon("app ends with 'b'", "app ends with \"b\"");
    assert_canon("all()", "all()");
    assert_canon("global()", "global()");
    assert_canon("!all()", "!all()");
    assert_canon("!global()", "!global()");
    assert_canon("a == 'x' && b == 'y'", "a == \"x\" && b == \"y\"");
    assert_canon("a == 'x' || b == 'y'", "a == \"x\" || b == \"y\"");
    /* Negations with an exact complement fold into it. */
    assert_canon("!(app == 'web')", "app != \"web\"");
    assert_canon("!app in {'a'}", "app not in {\"a\"}");
    assert_canon("!!has(x)", "has(x)");
    assert_canon("!(a contains 'x')", "!(a contains \"x\")");
}

static void test_selector_parse_alternative_spellings(void **state)
{
    (void)state;
    assert_canon("app notin {'a'}", "app not in {\"a\"}");
    assert_canon("app startswith 'a'", "app starts with \"a\"");
    assert_canon("app endswith 'a'", "app ends with \"a\"");
    assert_canon("app not  in {'a',}", "app not in {\"a\"}");
    assert_canon("has( tier\t)", "has(tier)");
    assert_canon("all( )", "all()");
    assert_canon("type=='database'", "type == \"database\"");
    /* Without '(' these words are plain labels. */
    assert_canon("all == 'x' && has == 'y' && global != 'z'",
                 "all == \"x\" && has == \"y\" && global != \"z\"");
    assert_canon("in == 'x'", "in == \"x\"");
}

static void test_selector_parse_empty_is_all(void **state)
{
    (void)state;
    assert_canon("", "all()");
    assert_canon(" \t ", "all()");
    assert_true(matches("", "{}"));
}

static void test_selector_parse_semantics(void **state)
{
    (void)state;
    assert_true(matches("app == 'web'", "{\"app\": \"web\"}"));
    assert_false(matches("app == 'web'", "{\"app\": \"api\"}"));
    assert_false(matches("app == 'web'", "{}"));
    /* Calico: != and not in match a missing label. */
    assert_true(matches("app != 'web'", "{}"));
    assert_true(matches("app != 'web'", "{\"app\": \"api\"}"));
    assert_false(matches("app != 'web'", "{\"app\": \"web\"}"));
    assert_true(matches("app not in {'a', 'b'}", "{}"));
    assert_false(matches("app not in {'a', 'b'}", "{\"app\": \"b\"}"));
    assert_true(matches("app in {'a', 'b'}", "{\"app\": \"b\"}"));
    assert_false(matches("app in {'a', 'b'}", "{}"));
    assert_false(matches("app in {}", "{\"app\": \"\"}"));
    assert_true(matches("app not in {}", "{}"));
    assert_true(matches("has(app)", "{\"app\": \"\"}"));
    assert_false(matches("has(app)", "{\"apps\": \"x\"}"));
    assert_true(matches("!has(app)", "{}"));
    assert_true(matches("app contains 'eb'", "{\"app\": \"web\"}"));
    assert_false(matches("app contains 'eb'", "{}"));
    assert_false(matches("!(app contains 'x')", "{\"app\": \"x\"}"));
    assert_true(matches("!(app contains 'x')", "{}"));
    assert_true(matches("app starts with 'we'", "{\"app\": \"web\"}"));
    assert_false(matches("app starts with 'eb'", "{\"app\": \"web\"}"));
    assert_true(matches("app ends with 'eb'", "{\"app\": \"web\"}"));
    assert_false(matches("app ends with 'we'", "{\"app\": \"web\"}"));
    assert_true(matches("global()", "{}"));
    assert_false(matches("!all()", "{}"));
    assert_true(matches("app == ''", "{\"app\": \"\"}"));
}

static void test_selector_parse_precedence(void **state)
{
    (void)state;
    /* ! binds tighter than &&, which binds tighter than ||. */
    assert_canon("a == 'x' || b == 'y' && c == 'z'", "a == \"x\" || b == \"y\" && c == \"z\"");
    assert_true(matches("a == 'x' || b == 'y' && c == 'z'", "{\"a\": \"x\"}"));
    assert_false(matches("a == 'x' || b == 'y' && c == 'z'", "{\"b\": \"y\"}"));
    assert_canon("(a == 'x' || b == 'y') && c == 'z'", "(a == \"x\" || b == \"y\") && c == \"z\"");
    assert_false(matches("(a == 'x' || b == 'y') && c == 'z'", "{\"a\": \"x\"}"));
    assert_true(matches("!a == 'x' && b == 'y'", "{\"b\": \"y\"}"));
    assert_false(matches("!(a == 'x' && b == 'y')", "{\"a\": \"x\", \"b\": \"y\"}"));
    assert_canon("!(has(a) || has(b))", "!(has(a) || has(b))");
    assert_canon("((a == 'x'))", "a == \"x\"");
    assert_canon("a == 'x' && (b == 'y' && c == 'z')", "a == \"x\" && b == \"y\" && c == \"z\"");
}

static void test_selector_parse_quoting(void **state)
{
    (void)state;
    assert_canon("a == \"x y\"", "a == \"x y\"");
    assert_canon("a == 'say \"hi\"'", "a == 'say \"hi\"'");
    assert_canon("a == \"it's\"", "a == \"it's\"");
    assert_canon("a in {\"it's\", 'q\"'}", "a in {\"it's\", 'q\"'}");
    assert_true(matches("a == 'say \"hi\"'", "{\"a\": \"say \\\"hi\\\"\"}"));
    assert_canon("a == '&& || ()'", "a == \"&& || ()\"");
}

static void test_selector_parse_label_keys(void **state)
{
    (void)state;
    assert_canon("projectcalico.org/namespace == 'x'", "projectcalico.org/namespace == \"x\"");
    assert_canon("has(app.kubernetes.io/part-of_x)", "has(app.kubernetes.io/part-of_x)");
    assert_true(matches("k8s-app == 'dns'", "{\"k8s-app\": \"dns\"}"));
}

static void test_selector_parse_errors_positioned(void **state)
{
    FILE *f = fopen(DATA "invalid-selectors.txt", "r");
    char line[1024], *msg, *text, *nl;
    int n = 0;

    (void)state;
    assert_non_null(f);
    while (fgets(line, sizeof(line), f)) {
        if (line[0] == '#')
            continue;
        if ((nl = strchr(line, '\n')))
            *nl = '\0';
        msg = strchr(line, '\t');
        assert_non_null(msg);
        *msg++ = '\0';
        text = strchr(msg, '\t');
        assert_non_null(text);
        *text++ = '\0';
        assert_parse_error(text, atoi(line), msg);
        n++;
    }
    fclose(f);
    assert_true(n >= 10);
}

static void test_selector_parse_error_details(void **state)
{
    (void)state;
    assert_parse_error("a == 'x' |", 10, "expected '||' but found '|'");
    assert_parse_error("a ! 'x'", 3,
                       "expected an operator (==, !=, in, not in, contains, starts with, ends "
                       "with) after label \"a\" but found '!'");
    assert_parse_error("a not 'x'", 7, "expected 'in' after 'not' but found string \"x\"");
    assert_parse_error("a in {'x', }x", 13, "expected '&&', '||' or end of input but found label "
                                            "\"x\"");
    assert_parse_error("a in {,}", 7, "expected a quoted string or '}' but found ','");
    assert_parse_error("a == 'x')", 9, "expected '&&', '||' or end of input but found ')'");
    assert_parse_error("all(x)", 5, "expected ')' but found label \"x\"");
    assert_parse_error("has(a", 6, "expected ')' but found end of input");
    assert_parse_error("a == 'x'\n", 9, "unexpected character '\\x0a'");
    assert_parse_error("a ends 'x'", 8, "expected 'with' after 'ends' but found string \"x\"");
}

static void test_selector_parse_depth_limit(void **state)
{
    char text[400];
    struct err e = {0};
    struct selector *s;
    int i, n;

    (void)state;
    for (n = 64; n <= 65; n++) {
        char *p = text;

        for (i = 0; i < n; i++)
            *p++ = '(';
        p += sprintf(p, "has(a)");
        for (i = 0; i < n; i++)
            *p++ = ')';
        *p = '\0';
        s = selector_parse(text, &e);
        if (n == 64) {
            assert_non_null(s);
            selector_free(s);
        } else {
            assert_null(s);
            assert_string_equal(e.msg, "selector nested too deeply");
            assert_int_equal(e.col, 65);
        }
    }
    /* Leading ! do not recurse: no limit needed, and they cancel out. */
    memset(text, '!', 300);
    strcpy(text + 300, "has(a)");
    assert_canon(text, "has(a)");
}

static void test_selector_parse_calico_corpus(void **state)
{
    FILE *f = fopen(DATA "calico-selectors.txt", "r");
    char line[1024], *nl, *once, *twice;
    struct err e = {0};
    struct selector *s;
    int n = 0;

    (void)state;
    assert_non_null(f);
    while (fgets(line, sizeof(line), f)) {
        if (line[0] == '#')
            continue;
        if ((nl = strchr(line, '\n')))
            *nl = '\0';
        s = selector_parse(line, &e);
        if (!s)
            fail_msg("%s: col %d: %s", line, e.col, e.msg);
        selector_free(s);
        /* The canonical form is a fixed point. */
        once = canon(line);
        twice = canon(once);
        assert_string_equal(once, twice);
        free(once);
        free(twice);
        n++;
    }
    fclose(f);
    assert_true(n >= 40);
    assert_canon("role == 'frontend' && thing not in {'three', 'four'}",
                 "role == \"frontend\" && thing not in {\"four\", \"three\"}");
}

static void test_selector_parse_global(void **state)
{
    struct err e = {0};
    struct selector *s = selector_parse("has(a) || global()", &e);
    struct selector *t = selector_parse("has(a)", &e);

    (void)state;
    assert_non_null(s);
    assert_non_null(t);
    assert_true(selector_has_global(s));
    assert_false(selector_has_global(t));
    assert_true(selector_is_all(s));
    selector_free(s);
    selector_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_selector_parse_every_operator),
        cmocka_unit_test(test_selector_parse_alternative_spellings),
        cmocka_unit_test(test_selector_parse_empty_is_all),
        cmocka_unit_test(test_selector_parse_semantics),
        cmocka_unit_test(test_selector_parse_precedence),
        cmocka_unit_test(test_selector_parse_quoting),
        cmocka_unit_test(test_selector_parse_label_keys),
        cmocka_unit_test(test_selector_parse_errors_positioned),
        cmocka_unit_test(test_selector_parse_error_details),
        cmocka_unit_test(test_selector_parse_depth_limit),
        cmocka_unit_test(test_selector_parse_calico_corpus),
        cmocka_unit_test(test_selector_parse_global),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
