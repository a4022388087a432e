#include "policy/eval/podindex.h"

#include <stdlib.h>
#include <string.h>

/* A policy all of whose models pin key to val. */
struct pin {
    const char *ns, *key, *val;
    size_t pos;
};

/* A policy that pins nothing. */
struct loose {
    const char *ns;
    size_t pos;
};

struct podindex {
    struct pin *pins; /* sorted by (ns, key, val, pos) */
    size_t n_pins;
    struct loose *loose; /* sorted by (ns, pos) */
    size_t n_loose;
};

static int cmp_pos(size_t a, size_t b)
{
    return a < b ? -1 : a > b;
}

static int cmp_pin(const void *a, const void *b)
{
    const struct pin *x = a, *y = b;
    int c;

    if ((c = strcmp(x->ns, y->ns)) || (c = strcmp(x->key, y->key)) || (c = strcmp(x->val, y->val)))
        return c;
    return cmp_pos(x->pos, y->pos);
}

static int cmp_loose(const void *a, const void *b)
{
    const struct loose *x = a, *y = b;
    int c = strcmp(x->ns, y->ns);

    return c ? c : cmp_pos(x->pos, y->pos);
}

/* The (key, val) every model of p pins, or false. */
static bool policy_pin(const struct podindex_policy *p, const char **key, const char **val)
{
    const struct egress_model *m;
    size_t i;

    if (!p->models || !p->models->n)
        return false;
    m = &p->models->models[0];
    if (!m->pod_sel || !(*key = selector_first_eq_key(m->pod_sel)))
        return false;
    *val = selector_eq_value(m->pod_sel, *key);
    for (i = 1; i < p->models->n; i++) {
        const char *v;

        m = &p->models->models[i];
        if (!m->pod_sel || !(v = selector_eq_value(m->pod_sel, *key)) || strcmp(v, *val))
            return false;
    }
    return true;
}

struct podindex *podindex_build(const struct podindex_policy *ps, size_t n)
{
    struct podindex *ix = calloc(1, sizeof(*ix));
    size_t i;

    if (!ix || !(ix->pins = calloc(n ? n : 1, sizeof(*ix->pins))) ||
        !(ix->loose = calloc(n ? n : 1, sizeof(*ix->loose)))) {
        podindex_free(ix);
        return NULL;
    }
    for (i = 0; i < n; i++) {
        const char *key, *val;

        if (!*ps[i].ns)
            continue;
        if (policy_pin(&ps[i], &key, &val))
            ix->pins[ix->n_pins++] = (struct pin){ps[i].ns, key, val, i};
        else
            ix->loose[ix->n_loose++] = (struct loose){ps[i].ns, i};
    }
    qsort(ix->pins, ix->n_pins, sizeof(*ix->pins), cmp_pin);
    qsort(ix->loose, ix->n_loose, sizeof(*ix->loose), cmp_loose);
    return ix;
}

void podindex_free(struct podindex *ix)
{
    if (!ix)
        return;
    free(ix->pins);
    free(ix->loose);
    free(ix);
}

/*
 * The first pin at or after lo that is not below (ns, key, val), comparing as many of the three
 * as are not NULL; `after` asks for the first one above them instead.
 */
static size_t pin_bound(const struct podindex *ix, size_t lo, const char *ns, const char *key,
                        const char *val, bool after)
{
    size_t hi = ix->n_pins;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct pin *p = &ix->pins[mid];
        int c = strcmp(p->ns, ns);

        if (!c && key)
            c = strcmp(p->key, key);
        if (!c && key && val)
            c = strcmp(p->val, val);
        if (c < 0 || (after && c == 0))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

size_t podindex_candidates(const struct podindex *ix, const char *ns, const struct selector *pods,
                           size_t *out)
{
    size_t lo = 0, hi = ix->n_loose, i, end, k = 0;

    /* the policies that pin nothing: every one of ns */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (strcmp(ix->loose[mid].ns, ns) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (i = lo; i < ix->n_loose && !strcmp(ix->loose[i].ns, ns); i++, k++)
        if (out)
            out[k] = ix->loose[i].pos;
    /* key by key: those pinning the value pods pin it to, or all when pods leave it open */
    i = pin_bound(ix, 0, ns, NULL, NULL, false);
    end = pin_bound(ix, i, ns, NULL, NULL, true);
    while (i < end) {
        const char *key = ix->pins[i].key;
        size_t key_end = pin_bound(ix, i, ns, key, NULL, true);
        const char *want = pods ? selector_eq_value(pods, key) : NULL;
        size_t from = want ? pin_bound(ix, i, ns, key, want, false) : i;
        size_t to = want ? pin_bound(ix, from, ns, key, want, true) : key_end;

        for (; out && from < to; from++)
            out[k++] = ix->pins[from].pos;
        if (!out)
            k += to - from;
        i = key_end;
    }
    return k;
}
