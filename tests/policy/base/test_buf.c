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

static void test_buf_cut_utf8_keeps_whole_characters(void **state)
{
    struct buf b;

    (void)state;
    buf_init(&b, 0);
    buf_puts(&b, "ab\xe2\x82\xac\xe2\x82\xac"); /* ab€€: 8 bytes */
    buf_cut_utf8(&b, 8, "...");
    assert_string_equal(buf_str(&b), "ab\xe2\x82\xac\xe2\x82\xac"); /* fits: untouched */
    buf_cut_utf8(&b, 7, "...");
    assert_string_equal(buf_str(&b), "ab..."); /* the first € would be split: it goes too */
    assert_int_equal(b.len, 5);
    buf_reset(&b);
    buf_puts(&b, "abcdefgh");
    buf_cut_utf8(&b, 6, "...");
    assert_string_equal(buf_str(&b), "abc...");
    buf_cut_utf8(&b, 3, "..."); /* no room for anything but the mark: left alone */
    assert_string_equal(buf_str(&b), "abc...");
    buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_printf_respects_cap),
        cmocka_unit_test(test_buf_printf_grows),
        cmocka_unit_test(test_buf_detach_empty),
        cmocka_unit_test(test_buf_cut_utf8_keeps_whole_characters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
