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

static struct selector *parse(const char *text)
{
    struct err e = {0};
    struct selector *s = selector_parse(text, &e);

    if (!s)
        fail_msg("parse %s: col %d: %s", text, e.col, e.msg);
    return s;
}

static bool subset(const char *a, const char *b)
{
    struct selector *sa = parse(a), *sb = parse(b);
    bool r = selector_subset(sa, sb);

    selector_free(sa);
    selector_free(sb);
    return r;
}

static bool overlap(const char *a, const char *b)
{
    struct selector *sa = parse(a), *sb = parse(b);
    bool r = selector_may_overlap(sa, sb);

    selector_free(sa);
    selector_free(sb);
    return r;
}

static void test_selector_subset_table(void **state)
{
    static const struct {
        const char *a, *b;
        bool want;
    } cases[] = {
        {"all()", "app == 'web'", false},
        {"app == 'web'", "all()", true},
        {"app == 'web'", "app in {'web', 'api'}", true},
        {"app in {'web', 'api'}", "app == 'web'", false},
        {"app == 'web' && tier == 'fe'", "app == 'web'", true},
        {"app == 'web'", "app == 'web' && tier == 'fe'", false},
        {"app == 'web'", "has(app)", true},
        {"has(app)", "app == 'web'", false},
        {"!has(app)", "app != 'web'", true},
        {"!has(app)", "app not in {'a', 'b'}", true},
        {"app not in {'web', 'api'}", "app != 'web'", true},
        {"app != 'web'", "app not in {'web', 'api'}", false},
        {"app in {'a', 'b'}", "app not in {'c'}", true},
        {"app in {}", "app == 'nothing'", true},
        {"!all()", "app == 'x'", true},
        {"app == 'x' || app == 'y'", "app in {'x', 'y'}", true},
        {"app in {'x', 'y'}", "app == 'x' || app == 'y'", true},
        {"app in {'x', 'y'}", "app == 'x' || app == 'z'", false},
        {"(a == 'x' && b == 'y') || a == 'z'", "has(a)", true},
        {"a == 'x' && (b == 'y' || b == 'z')", "b in {'y', 'z'}", true},
        {"has(a)", "a == 'x' || a != 'x'", true},
        {"a == 'x' && !has(b)", "b != 'y'", true},
        {"global()", "all()", true},
        {"all()", "global()", true},
        {"a starts with 'ab'", "a starts with 'a'", true},
        {"a starts with 'ab'", "a contains 'b'", true},
        {"a ends with 'xyz'", "a ends with 'yz'", true},
        {"a == 'abc'", "a ends with 'bc'", true},
        {"a == 'abc'", "a starts with 'b'", false},
        {"a contains 'x'", "has(a)", true},
        {"a contains ''", "has(a)", true},
        {"has(a)", "a contains ''", true},
        {"a starts with 'a'", "a starts with 'ab'", false},
        {"a ends with 'x'", "a contains 'y'", false},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (subset(cases[i].a, cases[i].b) != cases[i].want)
            fail_msg("subset(%s, %s) should be %d", cases[i].a, cases[i].b, cases[i].want);
}

static void test_selector_may_overlap_table(void **state)
{
    static const struct {
        const char *a, *b;
        bool want;
    } cases[] = {
        {"app == 'web'", "app == 'api'", false},
        {"app == 'web'", "tier == 'fe'", true},
        {"has(a)", "!has(a)", false},
        {"a in {'x', 'y'}", "a in {'y', 'z'}", true},
        {"a in {'x', 'y'}", "a in {'z'}", false},
        {"a in {'x'}", "a not in {'x'}", false},
        {"a != 'x'", "a != 'y'", true},
        {"a != 'x'", "!has(a)", true},
        {"a == 'x' || b == 'y'", "a == 'z' && b == 'w'", false},
        {"a == 'x' || b == 'y'", "a == 'z' && b == 'y'", true},
        {"all()", "!all()", false},
        {"all()", "all()", true},
        {"a starts with 'a'", "a starts with 'b'", false},
        {"a ends with 'a'", "a ends with 'b'", false},
        {"a starts with 'ab'", "!(a starts with 'a')", false},
        {"a contains 'bc'", "!(a contains 'b')", false},
        {"a contains 'x'", "a contains 'y'", true},
        {"has(a)", "!(a contains '')", false},
        {"a == 'x'", "a contains 'y'", false},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (overlap(cases[i].a, cases[i].b) != cases[i].want)
            fail_msg("overlap(%s, %s) should be %d", cases[i].a, cases[i].b, cases[i].want);
        if (overlap(cases[i].b, cases[i].a) != cases[i].want)
            fail_msg("overlap(%s, %s) should be %d", cases[i].b, cases[i].a, cases[i].want);
    }
}

static void test_selector_subset_kubernetes_vs_calico(void **state)
{
    json_t *j = json_loads("{\"matchLabels\": {\"app\": \"web\"}, \"matchExpressions\": "
                           "[{\"key\": \"env\", \"operator\": \"NotIn\", \"values\": [\"prod\"]}]}",
                           0, NULL);
    struct err e = {0};
    struct selector *k = selector_from_json(j, NULL, &e);
    struct selector *c1 = parse("app in {'web', 'api'} && env != 'prod'");
    struct selector *c2 = parse("app in {'web', 'api'}");
    struct selector *c3 = parse("env == 'prod'");

    (void)state;
    assert_non_null(k);
    assert_true(selector_subset(k, c1));
    assert_true(selector_subset(k, c2));
    assert_false(selector_subset(c2, k));
    assert_false(selector_may_overlap(k, c3));
    selector_free(k);
    selector_free(c1);
    selector_free(c2);
    selector_free(c3);
    json_decref(j);
}

static void test_selector_subset_gives_up_beyond_limit(void **state)
{
    struct buf b;
    struct selector *s;
    int i;

    (void)state;
    /* A conjunction of 12 disjunctions has 4096 conjuncts in DNF: past the limit. */
    buf_init(&b, 0);
    for (i = 0; i < 12; i++)
        buf_printf(&b, "%s(k%d == 'x' || m%d == 'x')", i ? " && " : "", i, i);
    s = parse(buf_str(&b));
    assert_false(selector_subset(s, s)); /* true, but not proven: the safe answer */
    assert_true(selector_may_overlap(s, s));
    assert_false(selector_is_none(s));
    selector_free(s);
    buf_release(&b);
}

static void test_selector_is_all_none(void **state)
{
    struct selector *s;

    (void)state;
    s = parse("has(a) || !has(a)");
    assert_true(selector_is_all(s));
    assert_false(selector_is_none(s));
    selector_free(s);
    s = parse("a == 'x' && a == 'y'");
    assert_true(selector_is_none(s));
    assert_false(selector_is_all(s));
    selector_free(s);
    s = parse("a == 'x'");
    assert_false(selector_is_none(s));
    assert_false(selector_is_all(s));
    selector_free(s);
}

/* Deterministic generator for the oracle (no global state). */
static unsigned next_rand(unsigned *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    return (*seed >> 16) & 0x7fff;
}

static const char *const values[] = {"x", "y", "z"};

/* Appends a random selector over labels a, b and values x, y, z (patterns when `patterns`). */
static void random_selector(struct buf *out, unsigned *seed, int depth, bool patterns)
{
    const char *key = next_rand(seed) % 2 ? "a" : "b";
    unsigned kind = next_rand(seed) % (depth > 0 ? 10 : 7), n, i, mask;

    switch (kind) {
    case 0:
        buf_printf(out, "%s == '%s'", key, values[next_rand(seed) % 3]);
        return;
    case 1:
        buf_printf(out, "%s != '%s'", key, values[next_rand(seed) % 3]);
        return;
    case 2:
    case 3:
        buf_printf(out, "%s %s {", key, kind == 2 ? "in" : "not in");
        mask = next_rand(seed) % 8;
        for (i = n = 0; i < 3; i++)
            if (mask & (1u << i))
                buf_printf(out, "%s'%s'", n++ ? ", " : "", values[i]);
        buf_puts(out, "}");
        return;
    case 4:
        buf_printf(out, "%shas(%s)", next_rand(seed) % 2 ? "!" : "", key);
        return;
    case 5:
    case 6:
        if (patterns) {
            static const char *const pats[] = {"x", "xy", "y", ""};
            static const char *const ops[] = {"contains", "starts with", "ends with"};

            buf_printf(out, "%s%s %s '%s'", next_rand(seed) % 2 ? "!" : "", key,
                       ops[next_rand(seed) % 3], pats[next_rand(seed) % 4]);
        } else {
            buf_printf(out, "%s == '%s'", key, values[next_rand(seed) % 3]);
        }
        return;
    case 7:
        buf_puts(out, "!(");
        random_selector(out, seed, depth - 1, patterns);
        buf_puts(out, ")");
        return;
    default:
        buf_puts(out, "(");
        random_selector(out, seed, depth - 1, patterns);
        buf_puts(out, kind == 8 ? " && " : " || ");
        random_selector(out, seed, depth - 1, patterns);
        buf_puts(out, ")");
        return;
    }
}

/*
 * Truth table of s over every label set on a and b. Each label is absent or one of the values
 * below; "w" stands for every value the selectors never mention, so without patterns the table
 * covers every equivalence class of label sets and the subset/overlap answers must be exact.
 */
static const char *const domain[] = {NULL, "x", "y", "z", "w", "xy", "yx"};

static unsigned long truth(const struct selector *s, size_t ndomain)
{
    unsigned long bits = 0;
    size_t i, j;
    json_t *labels;

    for (i = 0; i < ndomain; i++) {
        for (j = 0; j < ndomain; j++) {
            labels = json_object();
            assert_non_null(labels);
            if (domain[i])
                json_object_set_new(labels, "a", json_string(domain[i]));
            if (domain[j])
                json_object_set_new(labels, "b", json_string(domain[j]));
            if (selector_matches(s, labels))
                bits |= 1ul << (i * ndomain + j);
            json_decref(labels);
        }
    }
    return bits;
}

static void oracle(bool patterns, unsigned seed, int rounds)
{
    size_t ndomain = patterns ? 7 : 5;
    struct buf ta, tb;
    struct selector *a, *b;
    unsigned long va, vb;
    int i, exact_subset = 0, exact_disjoint = 0;
    bool sub, ovl;

    buf_init(&ta, 0);
    buf_init(&tb, 0);
    for (i = 0; i < rounds; i++) {
        buf_reset(&ta);
        buf_reset(&tb);
        random_selector(&ta, &seed, 3, patterns);
        random_selector(&tb, &seed, 3, patterns);
        a = parse(buf_str(&ta));
        b = parse(buf_str(&tb));
        va = truth(a, ndomain);
        vb = truth(b, ndomain);
        sub = selector_subset(a, b);
        ovl = selector_may_overlap(a, b);
        /* Soundness, always. */
        if (sub && (va & ~vb))
            fail_msg("subset(%s, %s) is wrong", buf_str(&ta), buf_str(&tb));
        if (!ovl && (va & vb))
            fail_msg("may_overlap(%s, %s) is wrong", buf_str(&ta), buf_str(&tb));
        /* Without patterns every case is small enough to be decided exactly. */
        if (!patterns && sub != !(va & ~vb))
            fail_msg("subset(%s, %s) not decided", buf_str(&ta), buf_str(&tb));
        if (!patterns && ovl != !!(va & vb))
            fail_msg("may_overlap(%s, %s) not decided", buf_str(&ta), buf_str(&tb));
        exact_subset += sub;
        exact_disjoint += !ovl;
        selector_free(a);
        selector_free(b);
    }
    /* The generator must produce both answers often enough for the test to mean something. */
    assert_true(exact_subset > rounds / 50);
    assert_true(exact_disjoint > rounds / 50);
    buf_release(&ta);
    buf_release(&tb);
}

static void test_selector_subset_oracle_exact(void **state)
{
    (void)state;
    oracle(false, 1, 3000);
}

static void test_selector_subset_oracle_sound_with_patterns(void **state)
{
    (void)state;
    oracle(true, 7, 3000);
}

/* Simple conjunctions (what Kubernetes selectors are) must be decided exactly, also one way. */
static void test_selector_subset_conjunctions_exact(void **state)
{
    unsigned seed = 99;
    struct buf ta, tb;
    struct selector *a, *b;
    unsigned long va, vb;
    int i, j, n;

    (void)state;
    buf_init(&ta, 0);
    buf_init(&tb, 0);
    for (i = 0; i < 2000; i++) {
        buf_reset(&ta);
        buf_reset(&tb);
        n = 1 + (int)(next_rand(&seed) % 3);
        for (j = 0; j < n; j++) {
            buf_puts(&ta, j ? " && " : "");
            random_selector(&ta, &seed, 0, false);
        }
        n = 1 + (int)(next_rand(&seed) % 3);
        for (j = 0; j < n; j++) {
            buf_puts(&tb, j ? " && " : "");
            random_selector(&tb, &seed, 0, false);
        }
        a = parse(buf_str(&ta));
        b = parse(buf_str(&tb));
        va = truth(a, 5);
        vb = truth(b, 5);
        if (selector_subset(a, b) != !(va & ~vb))
            fail_msg("subset(%s, %s)", buf_str(&ta), buf_str(&tb));
        if (selector_may_overlap(a, b) != !!(va & vb))
            fail_msg("may_overlap(%s, %s)", buf_str(&ta), buf_str(&tb));
        if (selector_is_none(a) != (va == 0))
            fail_msg("is_none(%s)", buf_str(&ta));
        selector_free(a);
        selector_free(b);
    }
    buf_release(&ta);
    buf_release(&tb);
}

/* "a,b" when s pins key to {a, b}; "-" when not pinned. */
static void expect_pinned(const char *text, const char *key, const char *want)
{
    struct selector *s = parse(text);
    const char **vals;
    size_t n;
    char got[256] = "";

    if (!selector_pinned(s, key, &vals, &n)) {
        snprintf(got, sizeof(got), "-");
    } else {
        for (size_t i = 0; i < n; i++)
            snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", i ? "," : "", vals[i]);
        free(vals);
    }
    selector_free(s);
    if (strcmp(got, want))
        fail_msg("%s pins %s to \"%s\", want \"%s\"", text, key, got, want);
}

static void test_selector_pinned(void **state)
{
    (void)state;
    expect_pinned("k == 'a'", "k", "a");
    expect_pinned("k in {'b', 'a'}", "k", "a,b");
    expect_pinned("k == 'a' && app == 'x'", "k", "a");
    expect_pinned("k in {'a', 'b'} && k in {'b', 'c'}", "k", "b");
    expect_pinned("k == 'a' && k == 'b'", "k", "");
    expect_pinned("k == 'a' || k == 'c'", "k", "a,c");
    expect_pinned("(k == 'a' && x == '1') || (k in {'a', 'b'} && y == '2')", "k", "a,b");
    expect_pinned("!all()", "k", "");
    /* any label set with another value, or without k, would match: not pinned */
    expect_pinned("k == 'a' || app == 'x'", "k", "-");
    expect_pinned("k != 'a'", "k", "-");
    expect_pinned("k not in {'a'}", "k", "-");
    expect_pinned("has(k)", "k", "-");
    expect_pinned("k starts with 'a'", "k", "-");
    expect_pinned("!(k != 'a')", "k", "a");
    expect_pinned("all()", "k", "-");
    expect_pinned("other == 'a'", "k", "-");
}

static bool calico_key_open(const char *key, void *arg)
{
    (void)arg;
    return !strncmp(key, "projectcalico.org/", 18);
}

/* A pod's own labels are all known; the keys a CNI derives (here Calico's) may be anything. */
static void test_selector_eval_open(void **state)
{
    static const struct {
        const char *sel;
        enum tri want;
    } cases[] = {
        {"app == 'web'", TRI_TRUE},
        {"app == 'web' && !has(tier)", TRI_TRUE},     /* tier is known to be absent */
        {"has(tier)", TRI_FALSE},
        {"app == 'web' && has(projectcalico.org/foo)", TRI_UNKNOWN},
        {"app == 'db' && has(projectcalico.org/foo)", TRI_FALSE},
        {"has(projectcalico.org/foo) || !has(projectcalico.org/foo)", TRI_TRUE},
        {"projectcalico.org/foo in {}", TRI_FALSE},
    };
    json_t *labels = json_pack("{s:s}", "app", "web");

    (void)state;
    assert_non_null(labels);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct selector *s = parse(cases[i].sel);
        enum tri got = selector_eval_open(s, labels, calico_key_open, NULL);

        if (got != cases[i].want)
            fail_msg("%s: got %d, want %d", cases[i].sel, got, cases[i].want);
        /* every key known: selector_eval(complete) agrees where no open key is asked */
        if (cases[i].want != TRI_UNKNOWN && !strstr(cases[i].sel, "projectcalico"))
            assert_int_equal(selector_eval(s, labels, true), got);
        selector_free(s);
    }
    json_decref(labels);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_selector_subset_table),
        cmocka_unit_test(test_selector_may_overlap_table),
        cmocka_unit_test(test_selector_subset_kubernetes_vs_calico),
        cmocka_unit_test(test_selector_subset_gives_up_beyond_limit),
        cmocka_unit_test(test_selector_is_all_none),
        cmocka_unit_test(test_selector_subset_oracle_exact),
        cmocka_unit_test(test_selector_subset_oracle_sound_with_patterns),
        cmocka_unit_test(test_selector_subset_conjunctions_exact),
        cmocka_unit_test(test_selector_pinned),
        cmocka_unit_test(test_selector_eval_open),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
