#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "policy/base/buf.h"

static void test_buf_printf_respects_cap(void **state)
{
    struct buf b;

    (void)state;
    buf_init(&b, 10);
    assert_int_equal(buf_printf(&b, "%s", "12345"), 0);
    assert_int_equal(buf_printf(&b, "%d", 6789), 0);
    assert_string_equal(buf_str(&b), "123456789");
    /* memory to spare is no licence to pass the cap; the buffer then stays failed */
    assert_int_equal(buf_printf(&b, "%s", "ab"), -1);
    assert_true(b.failed);
    assert_int_equal(buf_puts(&b, ""), -1);
    assert_null(buf_detach(&b, NULL));
}

static void test_buf_printf_grows(void **state)
{
    struct buf b;
    char big[500];
    size_t len;
    char *s;

    (void)state;
    buf_init(&b, 0);
    for (int i = 0; i < 1000; i++)
        buf_printf(&b, "%05d,", i);
    assert_int_equal(b.len, 6000);
    assert_memory_equal(b.data + 5994, "00999,", 6);
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    buf_printf(&b, "[%s]", big);
    assert_int_equal(b.len, 6501);
    assert_int_equal(b.data[6500], ']');
    s = buf_detach(&b, &len);
    assert_int_equal(len, 6501);
    assert_int_equal(strlen(s), 6501);
    free(s);
    assert_string_equal(buf_str(&b), "");
}

static void test_buf_detach_empty(void **state)
{
    struct buf b;
    size_t len = 7;
    char *s;

    (void)state;
    buf_init(&b, 0);
    s = buf_detach(&b, &len);
    assert_non_null(s);
    assert_string_equal(s, "");
    assert_int_equal(len, 0);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_printf_respects_cap),
        cmocka_unit_test(test_buf_printf_grows),
        cmocka_unit_test(test_buf_detach_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
