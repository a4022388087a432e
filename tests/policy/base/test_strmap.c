#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "policy/base/strmap.h"

static void test_strmap_put_get_replace_del(void **state)
{
    struct strmap *m = strmap_new();
    int a = 1, b = 2;

    (void)state;
    assert_non_null(m);
    assert_null(strmap_get(m, "x"));
    assert_int_equal(strmap_put(m, "x", &a), 0);
    assert_int_equal(strmap_put(m, "", &b), 0); /* the empty key is a key */
    assert_ptr_equal(strmap_get(m, "x"), &a);
    assert_ptr_equal(strmap_get(m, ""), &b);
    assert_int_equal(strmap_put(m, "x", &b), 0);
    assert_ptr_equal(strmap_get(m, "x"), &b);
    assert_int_equal(strmap_size(m), 2);
    assert_ptr_equal(strmap_del(m, "x"), &b);
    assert_null(strmap_del(m, "x"));
    assert_null(strmap_get(m, "x"));
    assert_int_equal(strmap_size(m), 1);
    strmap_free(m);
    strmap_free(NULL);
}

static bool count_and_check(const char *key, void *value, void *ctx)
{
    size_t *seen = ctx;
    char want[32];

    snprintf(want, sizeof(want), "k%zu", (size_t)(uintptr_t)value - 1);
    assert_string_equal(key, want);
    (*seen)++;
    return true;
}

static bool stop_at_once(const char *key, void *value, void *ctx)
{
    (void)key;
    (void)value;
    (*(size_t *)ctx)++;
    return false;
}

/* Against an oracle: key i maps to i+1 while present; every third key is deleted again. */
static void test_strmap_many_keys_against_oracle(void **state)
{
    enum { N = 20000 };
    struct strmap *m = strmap_new();
    char key[32];
    size_t seen = 0;

    (void)state;
    for (size_t i = 0; i < N; i++) {
        snprintf(key, sizeof(key), "k%zu", i);
        assert_int_equal(strmap_put(m, key, (void *)(uintptr_t)(i + 1)), 0);
    }
    for (size_t i = 0; i < N; i += 3) {
        snprintf(key, sizeof(key), "k%zu", i);
        assert_ptr_equal(strmap_del(m, key), (void *)(uintptr_t)(i + 1));
    }
    for (size_t i = 0; i < N; i++) {
        snprintf(key, sizeof(key), "k%zu", i);
        if (i % 3 == 0)
            assert_null(strmap_get(m, key));
        else
            assert_ptr_equal(strmap_get(m, key), (void *)(uintptr_t)(i + 1));
    }
    assert_int_equal(strmap_size(m), N - (N + 2) / 3);
    strmap_each(m, count_and_check, &seen);
    assert_int_equal(seen, strmap_size(m));
    seen = 0;
    strmap_each(m, stop_at_once, &seen);
    assert_int_equal(seen, 1);
    strmap_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strmap_put_get_replace_del),
        cmocka_unit_test(test_strmap_many_keys_against_oracle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
