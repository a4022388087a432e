/* "Did you mean" (policy/base/suggest.c): distances, thresholds, ties. */
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "policy/base/suggest.h"

static const char *nearest(const char *word, const char *const *cands)
{
    struct suggest s;

    suggest_init(&s, word, 2);
    for (; *cands; cands++)
        suggest_add(&s, *cands);
    return suggest_best(&s);
}

static void test_suggest_distance(void **state)
{
    (void)state;
    assert_int_equal(suggest_distance("", ""), 0);
    assert_int_equal(suggest_distance("abc", ""), 3);
    assert_int_equal(suggest_distance("alow", "allow"), 1);
    assert_int_equal(suggest_distance("chekc", "check"), 2);
    assert_int_equal(suggest_distance("kitten", "sitting"), 3);
    /* Words too long to be typed as typos are far from everything. */
    char big[80];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(suggest_distance(big, big), 99);
}

static void test_suggest_typos(void **state)
{
    static const char *const commands[] = {"check",  "serve", "review",  "mutate",
                                           "render", "certs", "version", NULL};
    static const char *const targets[] = {"webhooks", "networkpolicy",      "cilium",
                                          "calico",   "adminnetworkpolicy", NULL};

    (void)state;
    assert_string_equal(nearest("chekc", commands), "check");
    assert_string_equal(nearest("serv", commands), "serve");
    assert_string_equal(nearest("cillium", targets), "cilium");
    assert_string_equal(nearest("calcio", targets), "calico");
}

static void test_suggest_nothing_near(void **state)
{
    static const char *const formats[] = {"text", "json", "yaml", "sarif", "junit", NULL};
    static const char *const letters[] = {"p", "o", "v", NULL};

    (void)state;
    assert_null(nearest("frobnicate", formats));
    assert_null(nearest("xml", formats)); /* two edits of three letters: not a typo */
    assert_null(nearest("x", letters));
    assert_string_equal(nearest("jsno", formats), "json");
}

static void test_suggest_first_of_ties_wins(void **state)
{
    static const char *const cands[] = {"bat", "cat", NULL};

    (void)state;
    assert_string_equal(nearest("hat", cands), "bat");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_suggest_distance),
        cmocka_unit_test(test_suggest_typos),
        cmocka_unit_test(test_suggest_nothing_near),
        cmocka_unit_test(test_suggest_first_of_ties_wins),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
