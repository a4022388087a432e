#include "policy/sets/ivset.h"

#include <stdlib.h>
#include <string.h>

void ivset_init(struct ivset *s)
{
    s->v = NULL;
    s->n = s->alloc = 0;
}

void ivset_release(struct ivset *s)
{
    free(s->v);
    ivset_init(s);
}

/* Replaces s's intervals with the n of v (malloc()ed, now owned by s). */
static void adopt(struct ivset *s, struct iv *v, size_t n, size_t alloc)
{
    free(s->v);
    s->v = v;
    s->n = n;
    s->alloc = alloc;
}

/* A result array for up to n intervals; a non-NULL pointer even when n is 0. */
static struct iv *result_array(size_t n)
{
    if (n > SIZE_MAX / sizeof(struct iv))
        return NULL;
    return malloc((n ? n : 1) * sizeof(struct iv));
}

int ivset_copy(struct ivset *dst, const struct ivset *src)
{
    struct iv *v;

    if (dst == src)
        return 0;
    v = result_array(src->n);
    if (!v)
        return -1;
    if (src->n)
        memcpy(v, src->v, src->n * sizeof(*v));
    adopt(dst, v, src->n, src->n);
    return 0;
}

/*
 * Appends [lo, hi] to the canonical list out[0..*n), whose last interval starts at or before lo,
 * merging when it overlaps or touches the last one.
 */
static void push(struct iv *out, size_t *n, struct ivkey lo, struct ivkey hi)
{
    struct iv *last = *n ? &out[*n - 1] : NULL;

    /* last->hi + 1 wraps only when last->hi is the maximum, and then lo <= last->hi anyway. */
    if (last && (ivkey_cmp(lo, last->hi) <= 0 || ivkey_cmp(lo, ivkey_inc(last->hi)) == 0)) {
        if (ivkey_cmp(hi, last->hi) > 0)
            last->hi = hi;
        return;
    }
    out[*n].lo = lo;
    out[*n].hi = hi;
    (*n)++;
}

/* Merges two canonical (or merely sorted) lists into out, which has room for na + nb. */
static size_t merge_union(const struct iv *a, size_t na, const struct iv *b, size_t nb,
                          struct iv *out)
{
    size_t i = 0, j = 0, n = 0;

    while (i < na || j < nb) {
        const struct iv *next;

        if (j == nb || (i < na && ivkey_cmp(a[i].lo, b[j].lo) <= 0))
            next = &a[i++];
        else
            next = &b[j++];
        push(out, &n, next->lo, next->hi);
    }
    return n;
}

int ivset_union(struct ivset *s, const struct ivset *t)
{
    struct iv *out;
    size_t n;

    if (t->n == 0 || s == t)
        return 0;
    if (s->n > SIZE_MAX / 2 || t->n > SIZE_MAX / 2 - s->n)
        return -1;
    out = result_array(s->n + t->n);
    if (!out)
        return -1;
    n = merge_union(s->v, s->n, t->v, t->n, out);
    adopt(s, out, n, s->n + t->n);
    return 0;
}

int ivset_add(struct ivset *s, struct ivkey lo, struct ivkey hi)
{
    struct ivset one;
    struct iv iv;

    iv.lo = lo;
    iv.hi = hi;
    one.v = &iv;
    one.n = one.alloc = 1;
    return ivset_union(s, &one);
}

static int cmp_iv(const void *pa, const void *pb)
{
    const struct iv *a = pa, *b = pb;
    int c = ivkey_cmp(a->lo, b->lo);

    return c ? c : ivkey_cmp(a->hi, b->hi);
}

int ivset_add_many(struct ivset *s, const struct iv *list, size_t m)
{
    struct ivset t;
    struct iv *sorted;
    size_t i, n = 0;
    int rc;

    if (m == 0)
        return 0;
    sorted = result_array(m);
    if (!sorted)
        return -1;
    memcpy(sorted, list, m * sizeof(*sorted));
    qsort(sorted, m, sizeof(*sorted), cmp_iv);
    /* Coalescing in place is safe: the write index never passes the read index. */
    for (i = 0; i < m; i++)
        push(sorted, &n, sorted[i].lo, sorted[i].hi);
    t.v = sorted;
    t.n = n;
    t.alloc = m;
    if (s->n == 0) {
        adopt(s, sorted, n, m);
        return 0;
    }
    rc = ivset_union(s, &t);
    free(sorted);
    return rc;
}

int ivset_subtract(struct ivset *s, const struct ivset *t)
{
    struct iv *out;
    size_t i, j = 0, n = 0;

    if (s->n == 0 || t->n == 0)
        return 0;
    if (s == t) {
        s->n = 0;
        return 0;
    }
    /* Each interval of t splits at most one interval of s in two. */
    if (s->n > SIZE_MAX / 2 || t->n > SIZE_MAX / 2 - s->n)
        return -1;
    out = result_array(s->n + t->n);
    if (!out)
        return -1;
    for (i = 0; i < s->n; i++) {
        struct ivkey cur = s->v[i].lo, hi = s->v[i].hi;
        bool done = false;

        while (j < t->n && ivkey_cmp(t->v[j].hi, cur) < 0)
            j++;
        while (j < t->n && ivkey_cmp(t->v[j].lo, hi) <= 0) {
            if (ivkey_cmp(t->v[j].lo, cur) > 0) {
                out[n].lo = cur;
                out[n].hi = ivkey_dec(t->v[j].lo);
                n++;
            }
            if (ivkey_cmp(t->v[j].hi, hi) >= 0) {
                /* t->v[j] may also cover the next interval of s: keep j. */
                done = true;
                break;
            }
            cur = ivkey_inc(t->v[j].hi);
            j++;
        }
        if (!done) {
            out[n].lo = cur;
            out[n].hi = hi;
            n++;
        }
    }
    adopt(s, out, n, s->n + t->n);
    return 0;
}

int ivset_intersect(struct ivset *s, const struct ivset *t)
{
    struct iv *out;
    size_t i = 0, j = 0, n = 0;

    if (s == t)
        return 0;
    if (s->n > SIZE_MAX / 2 || t->n > SIZE_MAX / 2 - s->n)
        return -1;
    out = result_array(s->n + t->n);
    if (!out)
        return -1;
    while (i < s->n && j < t->n) {
        const struct iv *a = &s->v[i], *b = &t->v[j];
        struct ivkey lo = ivkey_cmp(a->lo, b->lo) > 0 ? a->lo : b->lo;
        struct ivkey hi = ivkey_cmp(a->hi, b->hi) < 0 ? a->hi : b->hi;

        if (ivkey_cmp(lo, hi) <= 0) {
            out[n].lo = lo;
            out[n].hi = hi;
            n++;
        }
        if (ivkey_cmp(a->hi, b->hi) < 0)
            i++;
        else
            j++;
    }
    adopt(s, out, n, s->n + t->n);
    return 0;
}

bool ivset_subset(const struct ivset *a, const struct ivset *b)
{
    size_t i, j = 0;

    /* b is canonical, so an interval of a lies inside b only if it lies inside one of b's. */
    for (i = 0; i < a->n; i++) {
        while (j < b->n && ivkey_cmp(b->v[j].hi, a->v[i].lo) < 0)
            j++;
        if (j == b->n || ivkey_cmp(b->v[j].lo, a->v[i].lo) > 0 ||
            ivkey_cmp(b->v[j].hi, a->v[i].hi) < 0)
            return false;
    }
    return true;
}

bool ivset_overlaps(const struct ivset *a, const struct ivset *b)
{
    size_t i = 0, j = 0;

    while (i < a->n && j < b->n) {
        if (ivkey_cmp(a->v[i].hi, b->v[j].lo) < 0)
            i++;
        else if (ivkey_cmp(b->v[j].hi, a->v[i].lo) < 0)
            j++;
        else
            return true;
    }
    return false;
}

bool ivset_equal(const struct ivset *a, const struct ivset *b)
{
    size_t i;

    if (a->n != b->n)
        return false;
    for (i = 0; i < a->n; i++)
        if (ivkey_cmp(a->v[i].lo, b->v[i].lo) || ivkey_cmp(a->v[i].hi, b->v[i].hi))
            return false;
    return true;
}

bool ivset_contains(const struct ivset *s, struct ivkey k)
{
    size_t lo = 0, hi = s->n;

    /* The first interval whose hi >= k is the only one that can hold k. */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (ivkey_cmp(s->v[mid].hi, k) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < s->n && ivkey_cmp(s->v[lo].lo, k) <= 0;
}

bool ivset_is_full(const struct ivset *s, struct ivkey max)
{
    return s->n == 1 && ivkey_cmp(s->v[0].lo, ivkey_make(0, 0)) == 0 &&
           ivkey_cmp(s->v[0].hi, max) == 0;
}
