/* err: the innermost cause writes the message, the caller that knows where adds the position. */
#include "policy/base/err.h"

#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

static void test_err_format_with_and_without_position(void **state)
{
    struct err e = {0};
    char out[600];

    (void)state;
    assert_int_equal(err_set(&e, "bad port %d", 70000), -1);
    err_format(&e, out, sizeof(out));
    assert_string_equal(out, "bad port 70000");
    err_at(&e, "p.yaml", 4, 9);
    err_format(&e, out, sizeof(out));
    assert_string_equal(out, "p.yaml:4:9: bad port 70000");

    err_set(&e, "x");
    err_at(&e, "p.yaml", 3, 0);
    err_format(&e, out, sizeof(out));
    assert_string_equal(out, "p.yaml:3: x");
    err_set(&e, "x");
    err_at(&e, "p.yaml", 0, 0);
    err_format(&e, out, sizeof(out));
    assert_string_equal(out, "p.yaml: x");
}

/* The first (innermost) position wins: an outer caller cannot move it. */
static void test_err_at_keeps_the_innermost_position(void **state)
{
    struct err e = {0};

    (void)state;
    err_set(&e, "host bits set");
    err_at(&e, "inner.yaml", 7, 3);
    err_at(&e, "outer.yaml", 1, 1);
    assert_string_equal(e.file, "inner.yaml");
    assert_int_equal(e.line, 7);
    assert_int_equal(e.col, 3);
    /* A new message starts over. */
    err_set(&e, "other");
    assert_null(e.file);
    assert_int_equal(e.line, 0);
}

static void test_err_prefix_adds_the_path(void **state)
{
    struct err e = {0};
    char big[1000];

    (void)state;
    err_set(&e, "host bits set in \"10.0.0.1/8\"");
    err_prefix(&e, "spec.allow[%d].cidrs[%d]", 2, 0);
    assert_string_equal(e.msg, "spec.allow[2].cidrs[0]: host bits set in \"10.0.0.1/8\"");
    /* A long prefix is cut; the message stays NUL-terminated and within its buffer. */
    memset(big, 'p', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    err_prefix(&e, "%s", big);
    assert_true(strlen(e.msg) < sizeof(e.msg));
}

static void test_err_null_is_accepted(void **state)
{
    (void)state;
    assert_int_equal(err_set(NULL, "x"), -1);
    assert_int_equal(err_at(NULL, "f", 1, 1), -1);
    assert_int_equal(err_prefix(NULL, "p"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_err_format_with_and_without_position),
        cmocka_unit_test(test_err_at_keeps_the_innermost_position),
        cmocka_unit_test(test_err_prefix_adds_the_path),
        cmocka_unit_test(test_err_null_is_accepted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
