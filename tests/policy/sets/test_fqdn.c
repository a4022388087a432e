/* Tests for policy/fqdn.c: normalization, matching, and pattern inclusion against brute force. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>

#include <cmocka.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/sets/fqdn.h"

static void assert_normalizes(const char *text, bool pattern, const char *want)
{
    char out[FQDN_MAX];
    struct err e = {0};

    if (fqdn_normalize(text, pattern, out, &e) != 0)
        fail_msg("fqdn_normalize(\"%s\") failed: %s", text, e.msg);
    assert_string_equal(out, want);
}

static void assert_rejects(const char *text, bool pattern, const char *msg)
{
    char out[FQDN_MAX];
    struct err e = {0};

    assert_int_equal(fqdn_normalize(text, pattern, out, &e), -1);
    assert_string_equal(e.msg, msg);
}

static void test_fqdn_normalize_valid(void **state)
{
    char label[64], name[300];

    (void)state;
    assert_normalizes("Example.COM", false, "example.com");
    assert_normalizes("example.com.", false, "example.com");
    assert_normalizes("api.openai.com", false, "api.openai.com");
    assert_normalizes("_sip._tcp.example.com", false, "_sip._tcp.example.com");
    assert_normalizes("-x-.a-b.c", false, "-x-.a-b.c");
    assert_normalizes("localhost", false, "localhost");
    assert_normalizes("*.S3.amazonaws.com.", true, "*.s3.amazonaws.com");
    assert_normalizes("*", true, "*");
    assert_normalizes("*.", true, "*");
    assert_normalizes("**", true, "**");
    assert_normalizes("a*b*.Example.com", true, "a*b*.example.com");
    /* A 63-character label and a 253-character name are the limits. */
    memset(label, 'a', 63);
    label[63] = '\0';
    assert_normalizes(label, false, label);
    memset(name, 'b', 253);
    for (size_t i = 63; i < 253; i += 64)
        name[i] = '.';
    name[253] = '\0';
    assert_normalizes(name, false, name);
    {
        char dotted[300];

        /* 254 characters with the trailing dot is still a 253-character name. */
        memcpy(dotted, name, 253);
        strcpy(dotted + 253, ".");
        assert_normalizes(dotted, false, name);
    }
}

static void test_fqdn_normalize_errors(void **state)
{
    char label[80], name[300];

    (void)state;
    assert_rejects("", false, "invalid DNS name \"\": empty");
    assert_rejects(".", false, "invalid DNS name \".\": empty");
    assert_rejects("", true, "invalid DNS name pattern \"\": empty");
    assert_rejects("a..b", false, "invalid DNS name \"a..b\": empty label");
    assert_rejects(".a", false, "invalid DNS name \".a\": empty label");
    assert_rejects("a.b..", false, "invalid DNS name \"a.b..\": empty label");
    assert_rejects("exa mple.com", false,
                   "invalid DNS name \"exa mple.com\": character ' ' is not allowed");
    assert_rejects("a/b", true, "invalid DNS name pattern \"a/b\": character '/' is not allowed");
    assert_rejects("a\tb", false, "invalid DNS name \"a\\x09b\": byte 0x09 is not allowed");
    assert_rejects("caf\xc3\xa9.fr", false,
                   "invalid DNS name \"caf\\xc3\\xa9.fr\": byte 0xc3 is not allowed");
    assert_rejects("*.example.com", false,
                   "invalid DNS name \"*.example.com\": '*' is only allowed in a pattern");
    assert_rejects("a?.com", true, "invalid DNS name pattern \"a?.com\": character '?' is not allowed");
    memset(label, 'a', 64);
    label[64] = '\0';
    strcat(label, ".com");
    assert_rejects(label, false,
                   "invalid DNS name \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                   ".com\": label longer than 63 characters");
    memset(name, 'b', 254);
    for (size_t i = 63; i < 254; i += 64)
        name[i] = '.';
    name[254] = '\0';
    {
        char out[FQDN_MAX];
        struct err e = {0};

        assert_int_equal(fqdn_normalize(name, false, out, &e), -1);
        assert_non_null(strstr(e.msg, "...\": longer than 253 characters"));
        assert_int_equal(strncmp(e.msg, "invalid DNS name \"bbbb", 22), 0);
    }
}

static void test_fqdn_matches_examples(void **state)
{
    (void)state;
    assert_true(fqdn_matches("*.s3.amazonaws.com", "a.s3.amazonaws.com"));
    assert_false(fqdn_matches("*.s3.amazonaws.com", "s3.amazonaws.com"));
    assert_false(fqdn_matches("*.s3.amazonaws.com", "a.b.s3.amazonaws.com"));
    assert_true(fqdn_matches("*", "a.b.s3.amazonaws.com"));
    assert_true(fqdn_matches("*", "localhost"));
    assert_true(fqdn_matches("api.openai.com", "api.openai.com"));
    assert_false(fqdn_matches("api.openai.com", "api.openai.com.evil.net"));
    assert_false(fqdn_matches("openai.com", "api.openai.com"));
    assert_true(fqdn_matches("*-prod.example.com", "db-prod.example.com"));
    assert_true(fqdn_matches("*-prod.example.com", "-prod.example.com"));
    assert_false(fqdn_matches("*-prod.example.com", "db-dev.example.com"));
    assert_true(fqdn_matches("a*b*c.x", "abc.x"));
    assert_true(fqdn_matches("a*b*c.x", "axxbyybc.x"));
    assert_false(fqdn_matches("a*b*c.x", "axxbyyb.x"));
    assert_true(fqdn_matches("**", "ab"));
    assert_false(fqdn_matches("**", "a.b"));
    assert_false(fqdn_matches("*.*", "a"));
    assert_true(fqdn_matches("*.*", "a.b"));
}

static void test_fqdn_subset_examples(void **state)
{
    static const char *const list[] = {"api.openai.com", "*.s3.amazonaws.com", "x*.a.com"};

    (void)state;
    assert_true(fqdn_subset("a.s3.amazonaws.com", "*.s3.amazonaws.com"));
    assert_false(fqdn_subset("*.s3.amazonaws.com", "s3.amazonaws.com"));
    assert_false(fqdn_subset("*.s3.amazonaws.com", "a.s3.amazonaws.com"));
    assert_true(fqdn_subset("*", "*"));
    assert_false(fqdn_subset("*", "*.*"));
    assert_false(fqdn_subset("*", "**"));
    assert_true(fqdn_subset("**", "*"));
    assert_true(fqdn_subset("anything.at.all", "*"));
    assert_true(fqdn_subset("x*.a.com", "*.a.com"));
    assert_false(fqdn_subset("*.a.com", "x*.a.com"));
    assert_false(fqdn_subset("*.*.a.com", "*.a.com"));
    assert_false(fqdn_subset("*.a.com", "*.*.a.com"));
    assert_true(fqdn_subset("a.b.a.com", "*.*.a.com"));
    assert_true(fqdn_subset("a*b.c", "*b.c"));
    assert_false(fqdn_subset("*b.c", "a*b.c"));
    assert_true(fqdn_subset("ab*.c", "a*b*.c"));
    assert_false(fqdn_subset("a*b*.c", "ab*.c")); /* "acb.c" */
    assert_false(fqdn_subset("a*bbababb.c", "*abba*.c")); /* only "acbbababb.c", 9 letters */
    assert_true(fqdn_subset("ab*b.c", "a*b.c"));
    assert_true(fqdn_subset("a*a*a.c", "a*a.c"));
    assert_false(fqdn_subset("a*a.c", "a*a*a.c")); /* "aa.c" */
    assert_true(fqdn_subset("*a*.c", "**a**.c"));
    assert_true(fqdn_subset("api.openai.com", "api.openai.com"));
    assert_false(fqdn_subset("api.openai.com", "api.openai.co"));
    assert_true(fqdn_subset_of_any("b.s3.amazonaws.com", list, 3));
    assert_true(fqdn_subset_of_any("xy*.a.com", list, 3));
    assert_false(fqdn_subset_of_any("y.a.com", list, 3));
    assert_false(fqdn_subset_of_any("api.openai.com", list, 0));
}

/* ---- brute force: label globs over {a, b, *}, words over {a, b, c} ('c': any other letter) ---- */

#define MAX_WORD 8
#define MAX_PAT 4

struct words {
    char (*w)[MAX_WORD + 1];
    size_t n;
};

/* Reference glob match, written independently of the code under test. */
static bool ref_match(const char *p, const char *s)
{
    if (*p == '\0')
        return *s == '\0';
    if (*p == '*')
        return ref_match(p + 1, s) || (*s && ref_match(p, s + 1));
    return *s == *p && ref_match(p + 1, s + 1);
}

static void all_strings(const char *alphabet, size_t maxlen, size_t minlen,
                        char (*out)[MAX_WORD + 1], size_t *n)
{
    size_t k = strlen(alphabet), len;

    *n = 0;
    for (len = minlen; len <= maxlen; len++) {
        size_t count = 1, i, j;

        for (i = 0; i < len; i++)
            count *= k;
        for (i = 0; i < count; i++) {
            size_t v = i;

            for (j = 0; j < len; j++) {
                out[*n][j] = alphabet[v % k];
                v /= k;
            }
            out[*n][len] = '\0';
            (*n)++;
        }
    }
}

static void test_fqdn_subset_against_brute_force(void **state)
{
    static char words[10000][MAX_WORD + 1], pats[200][MAX_WORD + 1];
    size_t nw, np, nwords64, i, j, k;
    uint64_t *match;
    size_t checked = 0, subsets = 0;

    (void)state;
    all_strings("abc", MAX_WORD, 1, words, &nw);
    all_strings("ab*", MAX_PAT, 1, pats, &np);
    assert_int_equal(nw, 9840);
    assert_int_equal(np, 120);
    nwords64 = (nw + 63) / 64;
    match = calloc(np * nwords64, sizeof(*match));
    assert_non_null(match);
    for (i = 0; i < np; i++) {
        for (j = 0; j < nw; j++) {
            char pn[32], wn[32];
            bool want = ref_match(pats[i], words[j]);

            if (want)
                match[i * nwords64 + j / 64] |= (uint64_t)1 << (j % 64);
            /* Under a second label so that a lone "*" is a label glob, not match-all. */
            snprintf(pn, sizeof(pn), "%.8s.x", pats[i]);
            snprintf(wn, sizeof(wn), "%.8s.x", words[j]);
            if (fqdn_matches(pn, wn) != want)
                fail_msg("fqdn_matches(\"%s\", \"%s\") should be %d", pn, wn, want);
        }
    }
    for (i = 0; i < np; i++) {
        for (j = 0; j < np; j++) {
            char a[32], b[32];
            bool want = true;

            for (k = 0; k < nwords64; k++)
                want &= (match[i * nwords64 + k] & ~match[j * nwords64 + k]) == 0;
            snprintf(a, sizeof(a), "%.8s.x", pats[i]);
            snprintf(b, sizeof(b), "%.8s.x", pats[j]);
            if (fqdn_subset(a, b) != want)
                fail_msg("fqdn_subset(\"%s\", \"%s\") should be %d", a, b, want);
            checked++;
            subsets += want;
        }
    }
    /* Two labels: inclusion holds label by label. */
    for (i = 0; i < np; i += 7) {
        for (j = 0; j < np; j += 5) {
            char a[32], b[32];
            bool want = true;

            for (k = 0; k < nwords64; k++) {
                want &= (match[i * nwords64 + k] & ~match[j * nwords64 + k]) == 0;
                want &= (match[j * nwords64 + k] & ~match[i * nwords64 + k]) == 0;
            }
            snprintf(a, sizeof(a), "%.8s.%.8s", pats[i], pats[j]);
            snprintf(b, sizeof(b), "%.8s.%.8s", pats[j], pats[i]);
            assert_int_equal(fqdn_subset(a, b), want);
        }
    }
    /* The oracle must have seen both answers plenty of times, or it proves little. */
    assert_true(subsets > 500);
    assert_true(checked - subsets > 5000);
    free(match);
}

static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545f4914f6cdd1dull;
}

/*
 * Longer globs for b (up to 12 characters): when fqdn_subset says yes, no sampled word of a may
 * escape b; when it says no, a witness must exist among the words of up to 9 letters (enough for
 * an a of up to 5 characters here).
 */
static void test_fqdn_subset_random_long_globs(void **state)
{
    static char words[30000][MAX_WORD + 2];
    size_t nw = 0, len, iter, yes = 0;
    uint64_t rng = 7;

    (void)state;
    for (len = 1; len <= 9; len++) {
        size_t count = 1, i, j;

        for (i = 0; i < len; i++)
            count *= 3;
        for (i = 0; i < count; i++, nw++) {
            size_t v = i;

            for (j = 0; j < len; j++, v /= 3)
                words[nw][j] = "abc"[v % 3];
            words[nw][len] = '\0';
        }
    }
    for (iter = 0; iter < 400; iter++) {
        char a[24], b[24];
        size_t la = 1 + next_rand(&rng) % 5, lb = 1 + next_rand(&rng) % 12, i;
        bool sub, escaped = false;

        for (i = 0; i < la; i++)
            a[i] = "ab**"[next_rand(&rng) % 4];
        for (i = 0; i < lb; i++)
            b[i] = "a*b**"[next_rand(&rng) % 5];
        strcpy(a + la, ".x");
        strcpy(b + lb, ".x");
        sub = fqdn_subset(a, b);
        a[la] = b[lb] = '\0';
        for (i = 0; i < nw && !escaped; i++)
            escaped = ref_match(a, words[i]) && !ref_match(b, words[i]);
        if (sub == escaped)
            fail_msg("fqdn_subset(\"%s.x\", \"%s.x\") is %d, but a word escapes: %d", a, b, sub,
                     escaped);
        yes += sub;
    }
    print_message("%zu of 400 included\n", yes);
    assert_true(yes > 20 && yes < 380);
}

/* A random pattern or name of 1 to 3 labels over a small alphabet, so that answers vary. */
static void random_fqdn(uint64_t *rng, bool pattern, char *out)
{
    static const char *const pat_labels[] = {"a", "b", "ab", "*", "a*", "*b", "s3", "com", "c*m"};
    static const char *const name_labels[] = {"a", "b", "ab", "bb", "s3", "com", "cam"};
    size_t labels = 1 + next_rand(rng) % 3, i;

    out[0] = '\0';
    if (pattern && next_rand(rng) % 40 == 0) {
        strcpy(out, "*");
        return;
    }
    for (i = 0; i < labels; i++) {
        if (i)
            strcat(out, ".");
        strcat(out, pattern ? pat_labels[next_rand(rng) % 9] : name_labels[next_rand(rng) % 7]);
    }
}

/* The index answers what a scan of the whole list answers, for lists of every size. */
static void test_fqdn_index_against_scan(void **state)
{
    static char list[64][32], probe[32];
    const char *ptrs[64];
    uint64_t rng = 11;
    size_t yes_cover = 0, yes_match = 0, asked = 0;

    (void)state;
    for (size_t round = 0; round < 300; round++) {
        size_t n = next_rand(&rng) % 40;
        struct fqdn_index *ix;

        for (size_t i = 0; i < n; i++) {
            random_fqdn(&rng, true, list[i]);
            ptrs[i] = list[i];
        }
        ix = fqdn_index_new(ptrs, n);
        assert_non_null(ix);
        assert_int_equal(fqdn_index_size(ix), n);
        for (size_t q = 0; q < 30; q++, asked++) {
            bool want = false;

            random_fqdn(&rng, true, probe);
            want = fqdn_subset_of_any(probe, ptrs, n);
            if (fqdn_index_covers(ix, probe) != want)
                fail_msg("covers(\"%s\") should be %d (list of %zu)", probe, want, n);
            yes_cover += want;
            random_fqdn(&rng, false, probe);
            want = false;
            for (size_t i = 0; i < n && !want; i++)
                want = fqdn_matches(ptrs[i], probe);
            if (fqdn_index_matches(ix, probe) != want)
                fail_msg("matches(\"%s\") should be %d (list of %zu)", probe, want, n);
            yes_match += want;
        }
        fqdn_index_free(ix);
    }
    /* Both answers, many times each. */
    assert_true(yes_cover > asked / 20 && yes_cover < asked - asked / 20);
    assert_true(yes_match > asked / 20 && yes_match < asked - asked / 20);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fqdn_normalize_valid),
        cmocka_unit_test(test_fqdn_normalize_errors),
        cmocka_unit_test(test_fqdn_matches_examples),
        cmocka_unit_test(test_fqdn_subset_examples),
        cmocka_unit_test(test_fqdn_subset_against_brute_force),
        cmocka_unit_test(test_fqdn_subset_random_long_globs),
        cmocka_unit_test(test_fqdn_index_against_scan),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
