/* Growable arrays: room for one more, doubling, contents kept. */
#include "policy/base/room.h"

#include <stdlib.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

static void test_room_grows_by_doubling_and_keeps_contents(void **state)
{
    int *a = NULL;
    size_t n, alloc = 0, grown = 0, last = 0;

    (void)state;
    for (n = 0; n < 1000; n++) {
        assert_int_equal(room_for_one((void **)&a, n, &alloc, sizeof(*a)), 0);
        assert_true(alloc > n);
        if (alloc != last) {
            assert_true(last == 0 ? alloc == 8 : alloc == 2 * last);
            grown++;
            last = alloc;
        }
        a[n] = (int)n;
    }
    assert_int_equal(grown, 8); /* 8, 16, ..., 1024 */
    for (n = 0; n < 1000; n++)
        assert_int_equal(a[n], (int)n);
    free(a);
}

static void test_room_refuses_what_cannot_be_sized(void **state)
{
    char *a = NULL;
    size_t alloc = 0;

    (void)state;
    assert_int_equal(room_for_one((void **)&a, 0, &alloc, (size_t)-1), -1);
    assert_null(a);
    assert_int_equal(alloc, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_room_grows_by_doubling_and_keeps_contents),
        cmocka_unit_test(test_room_refuses_what_cannot_be_sized),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
