/*
 * member_path's own formatting of %s and %zu gives what snprintf gives, cut the same way when the
 * buffer is short; other conversions go to vsnprintf.
 */
#include "policy/doc/member.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/base/buf.h"

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

static uint64_t next(uint64_t *st)
{
    *st ^= *st << 13;
    *st ^= *st >> 7;
    *st ^= *st << 17;
    return *st;
}

/* A string of letters, quotes, backslashes, control characters and UTF-8. */
static json_t *random_string(uint64_t *st)
{
    static const char *const parts[] = {"a", "Zq", "\"", "\\", "\n", "\t", "\x01", "\x1f",
                                        "é", "日本", "/", " ", "\x7f", "\b\f\r"};
    char text[64] = "";

    for (size_t i = 0, n = next(st) % 6; i < n; i++)
        strcat(text, parts[next(st) % 14]);
    return json_string(text);
}

static json_t *random_json(uint64_t *st, int depth)
{
    switch (next(st) % (depth > 3 ? 4 : 7)) {
    case 0:
        return random_string(st);
    case 1:
        return json_integer((json_int_t)(next(st) % 2000) - 1000);
    case 2:
        return next(st) % 3 ? json_true() : next(st) % 2 ? json_false() : json_null();
    case 3:
        return json_real((double)(next(st) % 10000) / 8.0 - 300);
    case 4:
    case 5: {
        json_t *o = json_object();

        for (size_t i = 0, n = next(st) % 22; i < n; i++) {
            json_t *k = random_string(st);

            json_object_set_new(o, json_string_value(k), random_json(st, depth + 1));
            json_decref(k);
        }
        return o;
    }
    default: {
        json_t *a = json_array();

        for (size_t i = 0, n = next(st) % 5; i < n; i++)
            json_array_append_new(a, random_json(st, depth + 1));
        return a;
    }
    }
}

/* What readers quote comes out as json_dumps writes it, sorted keys and escapes included. */
static void test_member_json_text_as_json_dumps(void **state)
{
    uint64_t st = 0x2545f4914f6cdd1dULL;
    size_t objects = 0;

    (void)state;
    for (int i = 0; i < 3000; i++) {
        json_t *j = random_json(&st, 0);
        char *want = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        struct buf b;

        assert_non_null(j);
        assert_non_null(want);
        buf_init(&b, 0);
        assert_int_equal(member_json_text(j, &b), 0);
        if (strcmp(buf_str(&b), want)) {
            const char *g = buf_str(&b);
            size_t at = 0;

            while (g[at] && g[at] == want[at])
                at++;
            fail_msg("differs at %zu: got \"%.40s\", want \"%.40s\"", at, g + (at > 20 ? at - 20 : 0),
                     want + (at > 20 ? at - 20 : 0));
        }
        objects += json_is_object(j);
        buf_release(&b);
        free(want);
        json_decref(j);
    }
    assert_true(objects > 500);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_member_path_as_snprintf),
        cmocka_unit_test(test_member_json_text_as_json_dumps),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
