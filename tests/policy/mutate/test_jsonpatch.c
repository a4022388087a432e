/* JSON Patch (RFC 6902) as egressguard applies it: add, replace, remove with RFC 6901 pointers. */
#include "policy/mutate/jsonpatch.h"

#include <stdlib.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

static void assert_patch(const json_t *patch, const char *want)
{
    char *got = json_dumps(patch, JSON_COMPACT);

    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void test_jsonpatch_apply_ops(void **state)
{
    json_t *doc = json_loads("{\"a\":{\"x/y\":1,\"m~n\":2},\"l\":[1,2]}", 0, NULL);
    json_t *patch = json_loads("[{\"op\":\"replace\",\"path\":\"/a/x~1y\",\"value\":10},"
                               "{\"op\":\"remove\",\"path\":\"/a/m~0n\"},"
                               "{\"op\":\"add\",\"path\":\"/a/~01\",\"value\":true},"
                               "{\"op\":\"add\",\"path\":\"/l/-\",\"value\":3},"
                               "{\"op\":\"add\",\"path\":\"/l/0\",\"value\":0},"
                               "{\"op\":\"remove\",\"path\":\"/l/1\"}]",
                               0, NULL);
    struct err e = {0};
    json_t *out;

    (void)state;
    out = jsonpatch_apply(doc, patch, &e);
    assert_non_null(out);
    assert_patch(out, "{\"a\":{\"x/y\":10,\"~1\":true},\"l\":[0,2,3]}");
    assert_patch(doc, "{\"a\":{\"x/y\":1,\"m~n\":2},\"l\":[1,2]}"); /* untouched */
    json_decref(out);
    json_decref(patch);
    json_decref(doc);
}

static void test_jsonpatch_apply_errors(void **state)
{
    static const struct {
        const char *patch, *msg;
    } cases[] = {
        {"{}", "a JSON Patch must be an array of operations"},
        {"[{\"op\":\"move\",\"path\":\"/a\",\"from\":\"/b\"}]",
         "patch[0]: operation \"move\" is not supported (add, replace, remove)"},
        {"[{\"op\":\"add\",\"path\":\"/a/b/c\",\"value\":1}]",
         "patch[0]: path \"/a/b/c\": no member \"b\""},
        {"[{\"op\":\"replace\",\"path\":\"/z\",\"value\":1}]",
         "patch[0]: path \"/z\": no member \"z\" to replace"},
        {"[{\"op\":\"add\",\"path\":\"/a~2\",\"value\":1}]",
         "patch[0]: path \"/a~2\": bad escape or token too long"},
        {"[{\"op\":\"add\",\"path\":\"\",\"value\":1}]",
         "patch[0]: path \"\" must start with / (the whole document cannot be replaced here)"},
        {"[{\"op\":\"add\",\"path\":\"/a\"}]", "patch[0]: add needs a value"},
        {"[{\"op\":\"add\",\"path\":\"/a\",\"value\":1},{\"op\":\"remove\",\"path\":\"/l/5\"}]",
         "patch[1]: path \"/l/5\": index \"5\" out of range"},
    };
    json_t *doc = json_loads("{\"a\":{},\"l\":[1]}", 0, NULL);

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *patch = json_loads(cases[i].patch, 0, NULL);
        struct err e = {0};

        assert_non_null(patch);
        assert_null(jsonpatch_apply(doc, patch, &e));
        assert_string_equal(e.msg, cases[i].msg);
        json_decref(patch);
    }
    json_decref(doc);
}

/* RFC 6901: "~" is written "~0" and "/" is written "~1", in that order. */
static void test_jsonpatch_escape(void **state)
{
    static const char *const cases[][2] = {
        {"plain", "plain"},
        {"egressguard.io/enforced", "egressguard.io~1enforced"},
        {"a~b", "a~0b"},
        {"~1", "~01"},
        {"/~/", "~1~0~1"},
        {"", ""},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct buf b;

        buf_init(&b, 256);
        assert_int_equal(jsonpatch_escape(&b, cases[i][0]), 0);
        assert_string_equal(buf_str(&b), cases[i][1]);
        buf_release(&b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jsonpatch_apply_ops),
        cmocka_unit_test(test_jsonpatch_apply_errors),
        cmocka_unit_test(test_jsonpatch_escape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
