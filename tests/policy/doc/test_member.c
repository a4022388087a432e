/*
 * member_path's own formatting of %s and %zu gives what snprintf gives, cut the same way when the
 * buffer is short; other conversions go to vsnprintf.
 */
#include "policy/doc/member.h"

#include <stdio.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

static void test_member_path_as_snprintf(void **state)
{
    static const size_t sizes[] = {1, 2, 5, 12, 13, 20, 64, 256};
    char got[256], want[256];

    (void)state;
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        size_t n = sizes[i];

        member_path(got, n, "%s.%s[%zu].resources", "spec", "containers", (size_t)12);
        snprintf(want, n, "%s.%s[%zu].resources", "spec", "containers", (size_t)12);
        assert_string_equal(got, want);
        member_path(got, n, "AI workload: namespace \"%s\" is an AI namespace", "ml-a");
        snprintf(want, n, "AI workload: namespace \"%s\" is an AI namespace", "ml-a");
        assert_string_equal(got, want);
        member_path(got, n, "%zu%%%s", (size_t)0, "");
        snprintf(want, n, "%zu%%%s", (size_t)0, "");
        assert_string_equal(got, want);
        member_path(got, n, "x[%zu]", (size_t)18446744073709551615u);
        snprintf(want, n, "x[%zu]", (size_t)18446744073709551615u);
        assert_string_equal(got, want);
    }
    /* Anything else is vsnprintf's. */
    member_path(got, sizeof(got), "%s:%d:%05.1f", "a", -3, 2.5);
    assert_string_equal(got, "a:-3:002.5");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_member_path_as_snprintf),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
