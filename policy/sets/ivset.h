#ifndef EGRESSGUARD_IVSET_H
#define EGRESSGUARD_IVSET_H

/*
 * Internal to the set modules (cidrset, portset): sets of unsigned 128-bit keys kept as a sorted
 * list of disjoint, non-adjacent closed intervals. Because the form is canonical, two sets are
 * equal exactly when their lists are. Every binary operation is one linear merge into a fresh
 * array that replaces the old one only on success, so a failed operation leaves the set as it was.
 * 128-bit keys are two uint64_t halves: C11 has no portable 128-bit integer.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ivkey {
    uint64_t hi, lo;
};

struct iv {
    struct ivkey lo, hi; /* closed: lo <= hi */
};

/* Embed and ivset_init(); ivset_release() frees. Zero-initialised is also a valid empty set. */
struct ivset {
    struct iv *v;
    size_t n, alloc;
};

static inline int ivkey_cmp(struct ivkey a, struct ivkey b)
{
    if (a.hi != b.hi)
        return a.hi < b.hi ? -1 : 1;
    if (a.lo != b.lo)
        return a.lo < b.lo ? -1 : 1;
    return 0;
}

static inline struct ivkey ivkey_make(uint64_t hi, uint64_t lo)
{
    struct ivkey k = {hi, lo};
    return k;
}

/* k + 1 and k - 1, wrapping modulo 2^128. */
static inline struct ivkey ivkey_inc(struct ivkey k)
{
    if (++k.lo == 0)
        k.hi++;
    return k;
}

static inline struct ivkey ivkey_dec(struct ivkey k)
{
    if (k.lo-- == 0)
        k.hi--;
    return k;
}

void ivset_init(struct ivset *s);
void ivset_release(struct ivset *s);
/* Gives back the room past the last interval (a set that is kept, no longer built). */
void ivset_shrink(struct ivset *s);
/* dst := src (dst must be initialised; its old contents are freed). 0, or -1 on out of memory. */
int ivset_copy(struct ivset *dst, const struct ivset *src);

/* s ∪= [lo, hi]. O(n). 0, or -1 on out of memory (s unchanged). */
int ivset_add(struct ivset *s, struct ivkey lo, struct ivkey hi);
/* s ∪= every interval of list (any order, may overlap): one sort, O((n + m) log m). */
int ivset_add_many(struct ivset *s, const struct iv *list, size_t m);

int ivset_union(struct ivset *s, const struct ivset *t);
int ivset_subtract(struct ivset *s, const struct ivset *t);
int ivset_intersect(struct ivset *s, const struct ivset *t);

bool ivset_subset(const struct ivset *a, const struct ivset *b);
bool ivset_equal(const struct ivset *a, const struct ivset *b);
bool ivset_overlaps(const struct ivset *a, const struct ivset *b); /* a ∩ b ≠ ∅, no allocation */
bool ivset_contains(const struct ivset *s, struct ivkey k); /* O(log n) */
/* Is s the single interval [0, max]? */
bool ivset_is_full(const struct ivset *s, struct ivkey max);

#endif
