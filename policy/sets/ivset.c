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

void ivset_shrink(struct ivset *s)
{
    struct iv *v;

    if (!s->n) {
        ivset_release(s);
        return;
    }
    /* a failed shrink keeps the larger array: nothing is lost */
    if (s->alloc > s->n && (v = realloc(s->v, s->n * sizeof(*v)))) {
        s->v = v;
        s->alloc = s->n;
    }
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

/*
 * In place: the intervals that meet or touch [lo, hi] collapse into one, or it is inserted.
 * Readers add ports and addresses one at a time, usually in ascending order: then this is an
 * amortised O(1) append, not a merge of the whole set per call (which made a rule of 30,000
 * ports cost 30,000² steps).
 */
int ivset_add(struct ivset *s, struct ivkey lo, struct ivkey hi)
{
    size_t i = 0, m, n = s->n;
    struct iv *v = s->v;

    /* i: the first interval that ends at or after lo - 1 (it may touch from the left). */
    {
        size_t a = 0, b = n;

        while (a < b) {
            size_t mid = a + (b - a) / 2;

            if (ivkey_cmp(v[mid].hi, lo) < 0)
                a = mid + 1;
            else
                b = mid;
        }
        i = a;
        if (i > 0 && ivkey_cmp(ivkey_inc(v[i - 1].hi), lo) == 0)
            i--;
    }
    /* m: past the last interval that starts at or before hi + 1. */
    for (m = i; m < n; m++) {
        bool touches = ivkey_cmp(v[m].lo, hi) <= 0 ||
                       (ivkey_cmp(ivkey_inc(hi), v[m].lo) == 0 && ivkey_cmp(v[m].lo, hi) > 0);
        if (!touches)
            break;
    }
    if (m == i) {
        if (n == s->alloc) {
            size_t na = s->alloc ? s->alloc * 2 : 4;
            struct iv *grown;

            if (na > SIZE_MAX / sizeof(*grown) || !(grown = realloc(v, na * sizeof(*grown))))
                return -1;
            s->v = v = grown;
            s->alloc = na;
        }
        memmove(&v[i + 1], &v[i], (n - i) * sizeof(*v));
        v[i].lo = lo;
        v[i].hi = hi;
        s->n = n + 1;
        return 0;
    }
    if (ivkey_cmp(v[i].lo, lo) < 0)
        lo = v[i].lo;
    if (ivkey_cmp(v[m - 1].hi, hi) > 0)
        hi = v[m - 1].hi;
    v[i].lo = lo;
    v[i].hi = hi;
    memmove(&v[i + 1], &v[m], (n - m) * sizeof(*v));
    s->n = n - (m - i - 1);
    return 0;
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

/*
 * The first index j >= from with v[j].hi >= k (n when none). Gallops: the answer is usually at
 * or near `from` in a merge, so the cost is O(log d) in the distance d moved, and a walk over
 * a small set that searches a large one costs O(small * log(large)) rather than O(large).
 */
static size_t seek(const struct iv *v, size_t n, size_t from, struct ivkey k)
{
    size_t lo = from, step = 1, hi;

    if (lo >= n || ivkey_cmp(v[lo].hi, k) >= 0)
        return lo;
    /* v[lo].hi < k: find hi with v[hi].hi >= k (or n) by doubling, then bisect (lo, hi]. */
    for (;;) {
        hi = lo + step;
        if (hi >= n || hi < lo) {
            hi = n;
            break;
        }
        if (ivkey_cmp(v[hi].hi, k) >= 0)
            break;
        lo = hi;
        step *= 2;
    }
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;

        if (ivkey_cmp(v[mid].hi, k) < 0)
            lo = mid;
        else
            hi = mid;
    }
    return hi;
}

/*
 * How many intervals of t meet some interval of s: what s − t and s ∩ t can add beyond s's
 * own count. O(s->n log t->n), so a small set against a large one allocates small.
 */
static size_t meeting(const struct ivset *s, const struct ivset *t)
{
    size_t i, j = 0, n = 0;

    for (i = 0; i < s->n && j < t->n; i++) {
        size_t k;

        j = seek(t->v, t->n, j, s->v[i].lo);
        for (k = j; k < t->n && ivkey_cmp(t->v[k].lo, s->v[i].hi) <= 0; k++)
            n++;
        /* t->v[k - 1] may reach into the next interval of s: start there again. */
        if (k > j)
            j = k - 1;
    }
    return n;
}

int ivset_subtract(struct ivset *s, const struct ivset *t)
{
    struct iv *out;
    size_t i, j = 0, n = 0, room;

    if (s->n == 0 || t->n == 0)
        return 0;
    if (s == t) {
        s->n = 0;
        return 0;
    }
    /* Each interval of t that meets s splits at most one interval of s in two. */
    room = t->n > s->n ? meeting(s, t) : t->n;
    if (s->n > SIZE_MAX / 2 || room > SIZE_MAX / 2 - s->n)
        return -1;
    out = result_array(s->n + room);
    if (!out)
        return -1;
    for (i = 0; i < s->n; i++) {
        struct ivkey cur = s->v[i].lo, hi = s->v[i].hi;
        bool done = false;

        j = seek(t->v, t->n, j, cur);
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
    adopt(s, out, n, s->n + room);
    return 0;
}

int ivset_intersect(struct ivset *s, const struct ivset *t)
{
    const struct ivset *small = s->n <= t->n ? s : t, *large = s->n <= t->n ? t : s;
    struct iv *out;
    size_t i, j = 0, n = 0, room;

    if (s == t)
        return 0;
    /* Every piece of the result is one interval of `large` meeting one of `small`. */
    room = meeting(small, large);
    out = result_array(room);
    if (!out)
        return -1;
    for (i = 0; i < small->n && j < large->n; i++) {
        const struct iv *a = &small->v[i];

        j = seek(large->v, large->n, j, a->lo);
        for (; j < large->n && ivkey_cmp(large->v[j].lo, a->hi) <= 0; j++) {
            const struct iv *b = &large->v[j];

            out[n].lo = ivkey_cmp(a->lo, b->lo) > 0 ? a->lo : b->lo;
            out[n].hi = ivkey_cmp(a->hi, b->hi) < 0 ? a->hi : b->hi;
            n++;
            if (ivkey_cmp(b->hi, a->hi) > 0)
                break; /* b reaches into the next interval of small: keep j */
        }
    }
    adopt(s, out, n, room ? room : 1);
    return 0;
}

bool ivset_subset(const struct ivset *a, const struct ivset *b)
{
    size_t i, j = 0;

    /* b is canonical, so an interval of a lies inside b only if it lies inside one of b's. */
    for (i = 0; i < a->n; i++) {
        j = seek(b->v, b->n, j, a->v[i].lo);
        if (j == b->n || ivkey_cmp(b->v[j].lo, a->v[i].lo) > 0 ||
            ivkey_cmp(b->v[j].hi, a->v[i].hi) < 0)
            return false;
    }
    return true;
}

bool ivset_overlaps(const struct ivset *a, const struct ivset *b)
{
    const struct ivset *small = a->n <= b->n ? a : b, *large = a->n <= b->n ? b : a;
    size_t i, j = 0;

    for (i = 0; i < small->n; i++) {
        j = seek(large->v, large->n, j, small->v[i].lo);
        if (j == large->n)
            return false;
        if (ivkey_cmp(large->v[j].lo, small->v[i].hi) <= 0)
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
