/*
 * ivset against an oracle: on a universe of 64 consecutive keys every set is a uint64_t bit mask,
 * so each operation's answer can be computed by hand and compared, for many pseudo-random sets.
 * The universe sits once at the bottom of the key space and once at its very top, where
 * ivkey_inc() wraps: the canonical form (sorted, disjoint, non-adjacent) is checked after each step.
 */
#include "policy/sets/ivset.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#define UNIVERSE 64
#define ROUNDS 400

struct universe {
    struct ivkey base; /* key of element 0; element i is base + i */
};

static struct ivkey key_at(const struct universe *u, unsigned i)
{
    struct ivkey k = u->base;

    while (i--)
        k = ivkey_inc(k);
    return k;
}

/* Index of k in the universe, or -1 when outside it. */
static int index_of(const struct universe *u, struct ivkey k)
{
    struct ivkey x = u->base;

    for (int i = 0; i < UNIVERSE; i++, x = ivkey_inc(x))
        if (!ivkey_cmp(x, k))
            return i;
    return -1;
}

/* xorshift64: deterministic, so a failure is reproducible. */
static uint64_t next(uint64_t *st)
{
    uint64_t x = *st;

    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *st = x;
}

/* The set's mask, asserting the canonical form and that every key lies in the universe. */
static uint64_t mask_of(const struct universe *u, const struct ivset *s)
{
    uint64_t m = 0;

    for (size_t i = 0; i < s->n; i++) {
        int lo = index_of(u, s->v[i].lo), hi = index_of(u, s->v[i].hi);

        assert_true(lo >= 0 && hi >= lo);
        if (i > 0) /* sorted, disjoint and not adjacent: a gap of at least one key */
            assert_true(ivkey_cmp(ivkey_inc(s->v[i - 1].hi), s->v[i].lo) < 0);
        for (int b = lo; b <= hi; b++)
            m |= (uint64_t)1 << b;
    }
    return m;
}

/*
 * A set of up to 32 short runs (random bits): against a set of one or two intervals it makes
 * the operations seek far across the other operand (the galloping paths).
 */
static uint64_t fragmented_set(const struct universe *u, uint64_t *st, struct ivset *s)
{
    uint64_t m = next(st) & next(st) >> (next(st) % 3);

    ivset_init(s);
    for (unsigned i = 0; i < UNIVERSE; i++)
        if (m >> i & 1)
            assert_int_equal(ivset_add(s, key_at(u, i), key_at(u, i)), 0);
    assert_true(mask_of(u, s) == m);
    return m;
}

/*
 * A random set built from random intervals, added one by one or all at once; one in three is
 * fragmented instead.
 */
static uint64_t random_set(const struct universe *u, uint64_t *st, struct ivset *s)
{
    struct iv list[8];
    size_t n = next(st) % 6;
    uint64_t m = 0;
    bool many = next(st) & 1;

    if (next(st) % 3 == 0)
        return fragmented_set(u, st, s);
    ivset_init(s);
    for (size_t i = 0; i < n; i++) {
        unsigned a = next(st) % UNIVERSE, len = next(st) % 12;
        unsigned b = a + len < UNIVERSE ? a + len : UNIVERSE - 1;

        for (unsigned x = a; x <= b; x++)
            m |= (uint64_t)1 << x;
        list[i].lo = key_at(u, a);
        list[i].hi = key_at(u, b);
        if (!many)
            assert_int_equal(ivset_add(s, list[i].lo, list[i].hi), 0);
    }
    if (many)
        assert_int_equal(ivset_add_many(s, list, n), 0);
    assert_true(mask_of(u, s) == m);
    return m;
}

static void check_universe(const struct universe *u, uint64_t seed)
{
    uint64_t st = seed;

    for (int r = 0; r < ROUNDS; r++) {
        struct ivset a, b, c;
        uint64_t ma = random_set(u, &st, &a), mb = random_set(u, &st, &b);

        assert_int_equal(ivset_subset(&a, &b), (ma & ~mb) == 0);
        assert_int_equal(ivset_equal(&a, &b), ma == mb);
        assert_int_equal(ivset_overlaps(&a, &b), (ma & mb) != 0);
        for (unsigned i = 0; i < UNIVERSE; i++)
            assert_int_equal(ivset_contains(&a, key_at(u, i)), (ma >> i) & 1);

        ivset_init(&c);
        assert_int_equal(ivset_copy(&c, &a), 0);
        assert_int_equal(ivset_union(&c, &b), 0);
        assert_true(mask_of(u, &c) == (ma | mb));
        assert_int_equal(ivset_copy(&c, &a), 0);
        assert_int_equal(ivset_subtract(&c, &b), 0);
        assert_true(mask_of(u, &c) == (ma & ~mb));
        assert_int_equal(ivset_copy(&c, &a), 0);
        assert_int_equal(ivset_intersect(&c, &b), 0);
        assert_true(mask_of(u, &c) == (ma & mb));
        /* The operands are left as they were. */
        assert_true(mask_of(u, &a) == ma && mask_of(u, &b) == mb);

        ivset_release(&a);
        ivset_release(&b);
        ivset_release(&c);
    }
}

static void test_ivset_oracle_bottom_of_key_space(void **state)
{
    struct universe u = {ivkey_make(0, 0)};

    (void)state;
    check_universe(&u, 0x9e3779b97f4a7c15u);
}

static void test_ivset_oracle_top_of_key_space(void **state)
{
    /* The last 64 keys before 2^128: ivkey_inc(hi) wraps to 0 at the end. */
    struct universe u = {ivkey_make(UINT64_MAX, UINT64_MAX - (UNIVERSE - 1))};

    (void)state;
    check_universe(&u, 0x2545f4914f6cdd1du);
}

static void test_ivset_oracle_across_the_64_bit_carry(void **state)
{
    /* Keys 2^64 - 32 .. 2^64 + 31: the low half carries into the high half inside the universe. */
    struct universe u = {ivkey_make(0, UINT64_MAX - 31)};

    (void)state;
    check_universe(&u, 0x853c49e6748fea9bu);
}

static void test_ivset_is_full(void **state)
{
    struct ivkey max = ivkey_make(0, 65535);
    struct ivset s;

    (void)state;
    ivset_init(&s);
    assert_false(ivset_is_full(&s, max));
    assert_int_equal(ivset_add(&s, ivkey_make(0, 0), ivkey_make(0, 100)), 0);
    assert_false(ivset_is_full(&s, max));
    assert_int_equal(ivset_add(&s, ivkey_make(0, 102), max), 0);
    assert_false(ivset_is_full(&s, max)); /* 101 is missing */
    assert_int_equal(ivset_add(&s, ivkey_make(0, 101), ivkey_make(0, 101)), 0);
    assert_int_equal(s.n, 1);
    assert_true(ivset_is_full(&s, max));
    ivset_release(&s);

    /* The whole 128-bit key space is one interval. */
    ivset_init(&s);
    assert_int_equal(ivset_add(&s, ivkey_make(0, 0), ivkey_make(UINT64_MAX, UINT64_MAX)), 0);
    assert_true(ivset_is_full(&s, ivkey_make(UINT64_MAX, UINT64_MAX)));
    ivset_release(&s);
}

static void test_ivset_zero_initialised_is_empty(void **state)
{
    struct ivset z, s;

    (void)state;
    memset(&z, 0, sizeof(z));
    ivset_init(&s);
    assert_int_equal(ivset_add(&s, ivkey_make(0, 5), ivkey_make(0, 9)), 0);
    assert_true(ivset_subset(&z, &s));
    assert_false(ivset_overlaps(&z, &s));
    assert_int_equal(ivset_union(&z, &s), 0);
    assert_true(ivset_equal(&z, &s));
    ivset_release(&z);
    ivset_release(&s);
}

/* A shrunk set holds the same keys in no more room than it needs, and still grows. */
static void test_ivset_shrink_keeps_the_set(void **state)
{
    struct ivset s, before, e;

    (void)state;
    ivset_init(&s);
    ivset_init(&before);
    assert_int_equal(ivset_add(&s, ivkey_make(0, 5), ivkey_make(0, 9)), 0);
    assert_int_equal(ivset_add(&s, ivkey_make(0, 20), ivkey_make(0, 29)), 0);
    assert_int_equal(ivset_add(&s, ivkey_make(0, 40), ivkey_make(0, 41)), 0);
    assert_true(s.alloc > s.n); /* the growth left room */
    assert_int_equal(ivset_copy(&before, &s), 0);
    ivset_shrink(&s);
    assert_int_equal(s.alloc, 3);
    assert_true(ivset_equal(&s, &before));
    assert_int_equal(ivset_add(&s, ivkey_make(0, 60), ivkey_make(0, 61)), 0);
    assert_int_equal(s.n, 4);
    assert_false(ivset_equal(&s, &before));
    assert_true(ivset_subset(&before, &s));
    /* an empty set gives everything back and is still a set */
    ivset_init(&e);
    assert_int_equal(ivset_add(&e, ivkey_make(0, 6), ivkey_make(0, 7)), 0);
    assert_int_equal(ivset_subtract(&e, &before), 0);
    ivset_shrink(&e);
    assert_null(e.v);
    assert_int_equal(e.n, 0);
    assert_true(ivset_subset(&e, &s));
    ivset_release(&s);
    ivset_release(&before);
    ivset_release(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ivset_oracle_bottom_of_key_space),
        cmocka_unit_test(test_ivset_oracle_top_of_key_space),
        cmocka_unit_test(test_ivset_oracle_across_the_64_bit_carry),
        cmocka_unit_test(test_ivset_is_full),
        cmocka_unit_test(test_ivset_zero_initialised_is_empty),
        cmocka_unit_test(test_ivset_shrink_keeps_the_set),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
