#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <jansson.h>
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

/* A buffer that cuts: what passes the cap is cut with the mark, and the buffer stays good. */
static void test_buf_init_cut_cuts_and_succeeds(void **state)
{
    struct buf b;
    char *s;

    (void)state;
    buf_init_cut(&b, 10, "...");
    assert_int_equal(buf_printf(&b, "%s", "12345"), 0);
    assert_int_equal(buf_printf(&b, "%s", "678901234"), 0);
    assert_string_equal(buf_str(&b), "1234567...");
    assert_int_equal(b.len, 10);
    assert_true(b.cut);
    assert_false(b.failed);
    /* later appends are no-ops that succeed */
    assert_int_equal(buf_puts(&b, "more"), 0);
    assert_int_equal(buf_printf(&b, "%d", 42), 0);
    assert_string_equal(buf_str(&b), "1234567...");
    s = buf_detach(&b, NULL);
    assert_string_equal(s, "1234567...");
    free(s);
    /* the mode survives the detach; a text that fits exactly is not cut */
    assert_int_equal(buf_puts(&b, "0123456789"), 0);
    assert_false(b.cut);
    assert_string_equal(buf_str(&b), "0123456789");
    assert_int_equal(buf_puts(&b, "x"), 0);
    assert_string_equal(buf_str(&b), "0123456...");
    buf_reset(&b);
    assert_false(b.cut);
    /* buf_add and one long printf, and a cut on a character boundary: "é" is not split */
    assert_int_equal(buf_add(&b, "abcdef\xc3\xa9xyz", 12), 0);
    assert_string_equal(buf_str(&b), "abcdef...");
    buf_reset(&b);
    assert_int_equal(buf_printf(&b, "%s-%s", "abcdef", "ghijkl"), 0);
    assert_string_equal(buf_str(&b), "abcdef-...");
    buf_release(&b);
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

/* The JSON text of s as buf_json_string() writes it (malloc()ed). */
static char *json_of(const char *s)
{
    struct buf b;

    buf_init(&b, 0);
    assert_int_equal(buf_json_string(&b, s), 0);
    return buf_detach(&b, NULL);
}

static void test_buf_json_string_escapes_like_jansson(void **state)
{
    static const char *const samples[] = {
        "", "plain", "quote \" and backslash \\", "tab\tnew\nline\rcr\bbs\fff",
        "\x01\x1f\x7f", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "</script>",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
        json_t *j = json_string(samples[i]);
        char *want = json_dumps(j, JSON_ENCODE_ANY), *got = json_of(samples[i]);

        assert_non_null(want);
        assert_string_equal(got, want);
        free(want);
        free(got);
        json_decref(j);
    }
}

static void test_buf_json_string_replaces_invalid_utf8(void **state)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"a\xff" "b", "\"a\\ufffdb\""},                    /* never a UTF-8 byte */
        {"cut \xc3", "\"cut \\ufffd\""},                  /* a sequence cut at the end */
        {"\xe2\x82x", "\"\\ufffd\\ufffdx\""},               /* cut in the middle */
        {"\xc0\xaf", "\"\\ufffd\\ufffd\""},                 /* overlong '/' */
        {"\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\""},        /* a UTF-16 surrogate */
        {"\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""}, /* past U+10FFFF */
        {"\x80", "\"\\ufffd\""},                           /* a lone continuation */
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *got = json_of(cases[i].in);
        json_t *back = json_loads(got, JSON_DECODE_ANY, NULL);

        assert_string_equal(got, cases[i].out);
        assert_non_null(back); /* whatever went in, what comes out is JSON */
        json_decref(back);
        free(got);
    }
}

static void test_buf_json_string_null_and_failed(void **state)
{
    struct buf b;

    (void)state;
    buf_init(&b, 4);
    assert_int_equal(buf_json_string(&b, NULL), 0);
    assert_string_equal(buf_str(&b), "\"\"");
    assert_int_equal(buf_json_string(&b, "long"), -1); /* over the cap */
    assert_true(b.failed);
    buf_release(&b);
}

static void test_buf_cut_utf8_on_a_character_boundary(void **state)
{
    struct buf b;

    (void)state;
    buf_init(&b, 0);
    buf_puts(&b, "ab\xc3\xa9\xe2\x82\xac"); /* a b é € : 7 bytes */
    buf_cut_utf8(&b, 7, "...");
    assert_string_equal(buf_str(&b), "ab\xc3\xa9\xe2\x82\xac"); /* fits: untouched */
    buf_cut_utf8(&b, 6, "..."); /* keep 3 bytes: the é would be split, so only "ab" */
    assert_string_equal(buf_str(&b), "ab...");
    assert_int_equal(b.len, 5);
    buf_reset(&b);
    buf_puts(&b, "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac");
    buf_cut_utf8(&b, 7, "~"); /* 6 bytes left for text: exactly two euros */
    assert_string_equal(buf_str(&b), "\xe2\x82\xac\xe2\x82\xac~");
    buf_reset(&b);
    buf_puts(&b, "\xf0\x9f\x98\x80x");
    buf_cut_utf8(&b, 4, "."); /* three bytes of a four-byte emoji: nothing of it is kept */
    assert_string_equal(buf_str(&b), ".");
    buf_reset(&b);
    buf_puts(&b, "abcdefgh");
    buf_cut_utf8(&b, 6, "...");
    assert_string_equal(buf_str(&b), "abc...");
    buf_cut_utf8(&b, 3, "..."); /* no room for anything but the mark: left alone */
    assert_string_equal(buf_str(&b), "abc...");
    buf_release(&b);
}

static void test_buf_reserve_exact(void **state)
{
    struct buf b;

    (void)state;
    buf_init(&b, 1000);
    assert_int_equal(buf_reserve(&b, 700), 0);
    assert_int_equal(b.alloc, 701); /* exactly: no doubling */
    assert_string_equal(buf_str(&b), "");
    for (int i = 0; i < 7; i++)
        assert_int_equal(buf_add(&b, "0123456789012345678901234567890123456789012345678901234567"
                                     "890123456789012345678901234567890123456789",
                                 100),
                         0);
    assert_int_equal(b.alloc, 701); /* nothing reallocated */
    assert_int_equal(b.len, 700);
    assert_int_equal(buf_reserve(&b, 301), -1); /* 1001 > the cap */
    assert_true(b.failed);
    buf_release(&b);
}

static void test_buf_utf8_len(void **state)
{
    static const char s[] = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"; /* a é € 😀: 1+2+3+4 */
    static const size_t want[] = {0, 1, 1, 3, 3, 3, 6, 6, 6, 6, 10};

    (void)state;
    for (size_t n = 0; n < sizeof(want) / sizeof(want[0]); n++)
        assert_int_equal(buf_utf8_len(s, n), want[n]);
}

static void test_buf_strfmt(void **state)
{
    char big[3000], *s;

    (void)state;
    s = buf_strfmt("%s-%d", "x", 42);
    assert_string_equal(s, "x-42");
    free(s);
    memset(big, 'y', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    s = buf_strfmt("[%s]", big); /* longer than the first attempt */
    assert_int_equal(strlen(s), sizeof(big) + 1);
    assert_int_equal(s[0], '[');
    assert_int_equal(s[sizeof(big)], ']');
    free(s);
    s = buf_strfmt("%s", "");
    assert_string_equal(s, "");
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_printf_respects_cap),
        cmocka_unit_test(test_buf_printf_grows),
        cmocka_unit_test(test_buf_detach_empty),
        cmocka_unit_test(test_buf_json_string_escapes_like_jansson),
        cmocka_unit_test(test_buf_json_string_replaces_invalid_utf8),
        cmocka_unit_test(test_buf_json_string_null_and_failed),
        cmocka_unit_test(test_buf_cut_utf8_on_a_character_boundary),
        cmocka_unit_test(test_buf_init_cut_cuts_and_succeeds),
        cmocka_unit_test(test_buf_reserve_exact),
        cmocka_unit_test(test_buf_utf8_len),
        cmocka_unit_test(test_buf_strfmt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
