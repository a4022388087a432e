#include "policy/config/allowidx.h"

#include <stdlib.h>
#include <string.h>

#include "policy/selector/selsubset.h"

/* A run of the port line over which one class applies. Regions tile the whole line. */
struct region {
    unsigned long lo, hi;
    size_t cls;
};

struct allowidx {
    struct region *regions; /* ascending; regions[0].lo == 0, the last ends at the key maximum */
    size_t n_regions;
    struct allowidx_class *classes;
    size_t n_classes;
    size_t words;           /* of each entry bit set */
    uint64_t *offer[3];     /* by enum allowidx_kind */
    struct cidrset *all_cidrs;
};

static int cmp_ulong(const void *a, const void *b)
{
    unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;

    return x < y ? -1 : x > y;
}

/* An elementary interval's entry set, for sorting intervals into classes. */
struct cover {
    const uint64_t *bits;
    size_t words;
    size_t interval;
};

static int cmp_cover(const void *pa, const void *pb)
{
    const struct cover *a = pa, *b = pb;
    int c = memcmp(a->bits, b->bits, a->words * sizeof(*a->bits));

    if (c)
        return c;
    return a->interval < b->interval ? -1 : a->interval > b->interval;
}

static void class_release(struct allowidx_class *c)
{
    cidrset_free(c->cidrs);
    cidrset_free(c->reach);
    fqdn_index_free(c->fqdns);
    free(c->peers);
    free(c->entries);
}

void allowidx_free(struct allowidx *ix)
{
    if (!ix)
        return;
    for (size_t i = 0; i < ix->n_classes; i++)
        class_release(&ix->classes[i]);
    free(ix->classes);
    free(ix->regions);
    for (int k = 0; k < 3; k++)
        free(ix->offer[k]);
    cidrset_free(ix->all_cidrs);
    free(ix);
}

static bool bit(const uint64_t *bits, size_t i)
{
    return bits[i / 64] >> (i % 64) & 1;
}

static bool sel_all(const struct selector *s)
{
    return !s || selector_is_all(s);
}

/* Fills class c from the entries its bit set names (c->entries already set). */
static int class_fill(struct allowidx_class *c, const struct dest_entry *allow, size_t n,
                      const struct cidrset *deny)
{
    const char **names = NULL;
    size_t n_names = 0, n_peers = 0;
    int rc = -1;

    if (!(c->cidrs = cidrset_new()))
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (!bit(c->entries, i))
            continue;
        if (cidrset_union(c->cidrs, allow[i].cidrs) < 0)
            return -1;
        n_names += allow[i].n_fqdns;
        n_peers += allow[i].n_peers;
    }
    if (!(c->reach = cidrset_dup(c->cidrs)) || (deny && cidrset_union(c->reach, deny) < 0))
        return -1;
    c->every_addr = cidrset_is_all(c->reach, 0);
    if ((n_names && !(names = malloc(n_names * sizeof(*names)))) ||
        (n_peers && !(c->peers = malloc(n_peers * sizeof(*c->peers)))))
        goto out;
    n_names = 0;
    for (size_t i = 0; i < n; i++) {
        if (!bit(c->entries, i))
            continue;
        for (size_t j = 0; j < allow[i].n_fqdns; j++)
            names[n_names++] = allow[i].fqdns[j];
        for (size_t j = 0; j < allow[i].n_peers; j++) {
            const struct peer_spec *p = &allow[i].peers[j];

            c->peers[c->n_peers++] = p;
            c->every_pod |= !p->same_namespace && sel_all(p->namespaces) && sel_all(p->pods);
        }
    }
    if (!(c->fqdns = fqdn_index_new(names, n_names)))
        goto out;
    rc = 0;
out:
    free(names);
    return rc;
}

/* The cut points of the port line: 0 and every entry run's start and end + 1, sorted, unique. */
static unsigned long *cut_points(const struct dest_entry *allow, size_t n, size_t *n_cuts)
{
    size_t total = 1, k = 0, u = 0;
    unsigned long *cuts;

    for (size_t i = 0; i < n; i++)
        total += 2 * portset_runs(allow[i].ports);
    if (!(cuts = malloc(total * sizeof(*cuts))))
        return NULL;
    cuts[k++] = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t r = 0; r < portset_runs(allow[i].ports); r++) {
            unsigned long lo, hi;

            portset_run(allow[i].ports, r, &lo, &hi);
            cuts[k++] = lo;
            if (hi < PORTSET_KEY_MAX)
                cuts[k++] = hi + 1;
        }
    }
    qsort(cuts, k, sizeof(*cuts), cmp_ulong);
    for (size_t i = 0; i < k; i++)
        if (!u || cuts[u - 1] != cuts[i])
            cuts[u++] = cuts[i];
    *n_cuts = u;
    return cuts;
}

/* The first interval (by its start in cuts) whose start is >= key. */
static size_t first_at_or_after(const unsigned long *cuts, size_t n, unsigned long key)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (cuts[mid] < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/*
 * Regions and classes: every elementary interval between cut points gets the bit set of the
 * entries whose ports hold it; equal bit sets share a class; neighbours of one class merge.
 */
static int build_regions(struct allowidx *ix, const struct dest_entry *allow, size_t n,
                         const struct cidrset *deny)
{
    size_t n_cuts = 0, w = ix->words;
    unsigned long *cuts = cut_points(allow, n, &n_cuts);
    uint64_t *bits = NULL;
    struct cover *order = NULL;
    size_t *cls_of = NULL;
    int rc = -1;

    if (!cuts || !(bits = calloc(n_cuts * w, sizeof(*bits))) ||
        !(order = malloc(n_cuts * sizeof(*order))) || !(cls_of = malloc(n_cuts * sizeof(*cls_of))))
        goto out;
    for (size_t i = 0; i < n; i++) {
        for (size_t r = 0; r < portset_runs(allow[i].ports); r++) {
            unsigned long lo, hi;

            portset_run(allow[i].ports, r, &lo, &hi);
            for (size_t k = first_at_or_after(cuts, n_cuts, lo); k < n_cuts && cuts[k] <= hi; k++)
                bits[k * w + i / 64] |= (uint64_t)1 << (i % 64);
        }
    }
    for (size_t k = 0; k < n_cuts; k++)
        order[k] = (struct cover){.bits = &bits[k * w], .words = w, .interval = k};
    qsort(order, n_cuts, sizeof(*order), cmp_cover);
    if (!(ix->classes = calloc(n_cuts, sizeof(*ix->classes))))
        goto out;
    for (size_t k = 0; k < n_cuts; k++) {
        struct allowidx_class *c;

        if (k && !memcmp(order[k].bits, order[k - 1].bits, w * sizeof(*bits))) {
            cls_of[order[k].interval] = ix->n_classes - 1;
            continue;
        }
        c = &ix->classes[ix->n_classes++];
        if (!(c->entries = malloc(w * sizeof(*c->entries))))
            goto out;
        memcpy(c->entries, order[k].bits, w * sizeof(*bits));
        if (class_fill(c, allow, n, deny) < 0)
            goto out;
        cls_of[order[k].interval] = ix->n_classes - 1;
    }
    if (!(ix->regions = malloc(n_cuts * sizeof(*ix->regions))))
        goto out;
    for (size_t k = 0; k < n_cuts; k++) {
        unsigned long hi = k + 1 < n_cuts ? cuts[k + 1] - 1 : PORTSET_KEY_MAX;

        if (ix->n_regions && ix->regions[ix->n_regions - 1].cls == cls_of[k]) {
            ix->regions[ix->n_regions - 1].hi = hi;
            continue;
        }
        ix->regions[ix->n_regions++] = (struct region){cuts[k], hi, cls_of[k]};
    }
    rc = 0;
out:
    free(cuts);
    free(bits);
    free(order);
    free(cls_of);
    return rc;
}

struct allowidx *allowidx_new(const struct dest_entry *allow, size_t n,
                              const struct cidrset *deny, struct err *e)
{
    struct allowidx *ix = calloc(1, sizeof(*ix));

    if (!ix)
        goto oom;
    ix->words = n / 64 + 1;
    for (int k = 0; k < 3; k++)
        if (!(ix->offer[k] = calloc(ix->words, sizeof(uint64_t))))
            goto oom;
    if (!(ix->all_cidrs = cidrset_new()))
        goto oom;
    for (size_t i = 0; i < n; i++) {
        uint64_t b = (uint64_t)1 << (i % 64);

        if (!cidrset_is_empty(allow[i].cidrs))
            ix->offer[ALLOWIDX_CIDRS][i / 64] |= b;
        if (allow[i].n_fqdns)
            ix->offer[ALLOWIDX_FQDNS][i / 64] |= b;
        if (allow[i].n_peers)
            ix->offer[ALLOWIDX_PEERS][i / 64] |= b;
        if (cidrset_union(ix->all_cidrs, allow[i].cidrs) < 0)
            goto oom;
    }
    if ((deny && cidrset_subtract(ix->all_cidrs, deny) < 0) ||
        build_regions(ix, allow, n, deny) < 0)
        goto oom;
    return ix;
oom:
    allowidx_free(ix);
    err_set(e, "out of memory");
    return NULL;
}

/* The region holding key. */
static size_t region_at(const struct allowidx *ix, unsigned long key)
{
    size_t lo = 0, hi = ix->n_regions;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (ix->regions[mid].hi < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

const struct allowidx_class *allowidx_at(const struct allowidx *ix, int proto, unsigned port)
{
    unsigned long key = (unsigned long)(proto & 0xff) << 16 | (port & 0xffff);

    return &ix->classes[ix->regions[region_at(ix, key)].cls];
}

void allowidx_atoms_release(struct allowidx_atoms *a)
{
    for (size_t i = 0; i < a->n; i++)
        portset_free(a->v[i].ports);
    if (a->v != &a->first)
        free(a->v);
    memset(a, 0, sizeof(*a));
}

/* The pieces of the split set that fall in one class, before they become its atom's ports. */
struct pieces {
    const struct allowidx_class *cls;
    unsigned long *lo, *hi;
    size_t n, alloc;
};

static int pieces_add(struct pieces *p, unsigned long lo, unsigned long hi)
{
    if (p->n == p->alloc) {
        size_t na = p->alloc ? p->alloc * 2 : 8;
        unsigned long *l = realloc(p->lo, na * sizeof(*l)), *h;

        if (!l)
            return -1;
        p->lo = l;
        if (!(h = realloc(p->hi, na * sizeof(*h))))
            return -1;
        p->hi = h;
        p->alloc = na;
    }
    p->lo[p->n] = lo;
    p->hi[p->n++] = hi;
    return 0;
}

/*
 * The general case of allowidx_split: the pieces of each class are gathered first and each
 * atom's port set is built in one go (adding pieces one by one would cost the square of their
 * number: a rule can name thousands of ports).
 */
static long split_classes(const struct allowidx *ix, const struct portset *ports,
                          struct allowidx_atoms *out)
{
    struct pieces *by = NULL;
    size_t n_by = 0, a_by = 0;
    long total = 0, rc = -1;

    memset(out, 0, sizeof(*out));
    for (size_t r = 0; r < portset_runs(ports); r++) {
        unsigned long lo, hi;

        portset_run(ports, r, &lo, &hi);
        for (size_t g = region_at(ix, lo); g < ix->n_regions && ix->regions[g].lo <= hi; g++) {
            const struct region *rg = &ix->regions[g];
            const struct allowidx_class *c = &ix->classes[rg->cls];
            size_t k;

            for (k = 0; k < n_by && by[k].cls != c; k++)
                ;
            if (k == n_by) {
                if (n_by == a_by) {
                    size_t na = a_by ? a_by * 2 : 4;
                    struct pieces *p = realloc(by, na * sizeof(*p));

                    if (!p)
                        goto out;
                    by = p;
                    a_by = na;
                }
                memset(&by[n_by], 0, sizeof(by[0]));
                by[n_by++].cls = c;
            }
            total++;
            if (pieces_add(&by[k], rg->lo > lo ? rg->lo : lo, rg->hi < hi ? rg->hi : hi) < 0)
                goto out;
        }
    }
    if (!(out->v = calloc(n_by ? n_by : 1, sizeof(*out->v))))
        goto out;
    out->alloc = n_by ? n_by : 1;
    for (size_t k = 0; k < n_by; k++) {
        struct allowidx_atom *a = &out->v[out->n++];

        a->cls = by[k].cls;
        if (!(a->ports = portset_new()) ||
            portset_add_keys_many(a->ports, by[k].lo, by[k].hi, by[k].n) < 0)
            goto out;
    }
    rc = total;
out:
    for (size_t k = 0; k < n_by; k++) {
        free(by[k].lo);
        free(by[k].hi);
    }
    free(by);
    if (rc < 0)
        allowidx_atoms_release(out);
    return rc;
}

long allowidx_split(const struct allowidx *ix, const struct portset *ports,
                    struct allowidx_atoms *out)
{
    size_t runs = portset_runs(ports);
    const struct allowidx_class *only = NULL;
    long pieces = 0;
    bool one = true;

    memset(out, 0, sizeof(*out));
    out->v = &out->first;
    out->alloc = 1;
    /* First pass: one class only (the usual case: TCP/443 meets a single region)? */
    for (size_t r = 0; r < runs && one; r++) {
        unsigned long lo, hi;

        portset_run(ports, r, &lo, &hi);
        for (size_t g = region_at(ix, lo); g < ix->n_regions && ix->regions[g].lo <= hi; g++) {
            const struct allowidx_class *c = &ix->classes[ix->regions[g].cls];

            pieces++;
            if (!only)
                only = c;
            if (c != only) {
                one = false;
                break;
            }
        }
    }
    if (one) {
        out->first.cls = only ? only : &ix->classes[ix->regions[0].cls];
        out->first.ports = NULL;
        out->n = 1;
        return pieces ? pieces : 1;
    }
    return split_classes(ix, ports, out);
}

size_t allowidx_words(const struct allowidx *ix)
{
    return ix->words;
}

void allowidx_touching(const struct allowidx *ix, const struct portset *ports, uint64_t *mask)
{
    for (size_t r = 0; r < portset_runs(ports); r++) {
        unsigned long lo, hi;

        portset_run(ports, r, &lo, &hi);
        for (size_t g = region_at(ix, lo); g < ix->n_regions && ix->regions[g].lo <= hi; g++)
            for (size_t w = 0; w < ix->words; w++)
                mask[w] |= ix->classes[ix->regions[g].cls].entries[w];
    }
}

const uint64_t *allowidx_offering(const struct allowidx *ix, enum allowidx_kind k)
{
    return ix->offer[k];
}

const struct cidrset *allowidx_all_cidrs(const struct allowidx *ix)
{
    return ix->all_cidrs;
}
