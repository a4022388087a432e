/*
 * Set relations between selectors, by refutation: a ⊆ b holds when a && !b is unsatisfiable,
 * a and b are disjoint when a && b is. The formula is put into disjunctive normal form over
 * literals (a predicate or its negation); a conjunction is unsatisfiable when the literals on one
 * label contradict each other, since labels are independent. Conjunctions are dropped as soon as
 * they are refuted, which keeps the usual cases small; past DNF_MAX_CONJ / DNF_MAX_LITS /
 * DNF_MAX_WORK we give up and report "not proven".
 *
 * Per label the check is exact whenever some literal pins the value to a finite set (==, in):
 * every candidate value is tried. Without one, only pattern literals (contains, starts with,
 * ends with) can conflict, and we recognise the plain contradictions (`starts with 'ab'` with
 * `!starts with 'a'`, two incompatible prefixes); any other such conjunction counts as
 * satisfiable, which errs on the safe side for both questions.
 */
#include <stdlib.h>
#include <string.h>

#include "policy/selector/selsubset.h"

#include "policy/selector/selnode.h"

#define DNF_MAX_CONJ 1024
#define DNF_MAX_LITS 128
/* Bound on literal comparisons per question, so a hostile selector costs milliseconds. */
#define DNF_MAX_WORK 4000000L

struct lit {
    const struct selector *atom; /* a predicate leaf */
    bool neg;
};

struct conj {
    struct lit *lits;
    size_t n;
};

struct dnf {
    struct conj *c; /* no conjunctions: false; an empty one: true */
    size_t n, alloc;
    long *work;     /* shared budget of the question being answered */
};

static void dnf_release(struct dnf *d)
{
    size_t i;

    for (i = 0; i < d->n; i++)
        free(d->c[i].lits);
    free(d->c);
    d->c = NULL;
    d->n = d->alloc = 0;
}

/* The literal as it constrains a present label: kind, and whether it must hold or fail. */
enum kind { K_IN, K_HAS, K_PAT };

static enum kind lit_kind(const struct lit *l, bool *positive)
{
    switch (l->atom->op) {
    case SEL_EQ:
    case SEL_IN:
        *positive = !l->neg;
        return K_IN;
    case SEL_NE:
    case SEL_NOTIN:
        *positive = l->neg;
        return K_IN;
    case SEL_HAS:
        *positive = !l->neg;
        return K_HAS;
    default:
        *positive = !l->neg;
        return K_PAT;
    }
}

static bool lit_holds(const struct lit *l, const char *v)
{
    return selnode_pred_holds(l->atom, v) != l->neg;
}

static bool is_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);

    return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

static bool is_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Does every value satisfying pattern p also satisfy pattern q? */
static bool pat_implies(const struct selector *p, const struct selector *q)
{
    const char *pv = p->vals[0], *qv = q->vals[0];

    switch (q->op) {
    case SEL_CONTAINS:
        return strstr(pv, qv) != NULL;
    case SEL_STARTS:
        return p->op == SEL_STARTS && is_prefix(pv, qv);
    case SEL_ENDS:
        return p->op == SEL_ENDS && is_suffix(pv, qv);
    default:
        return false;
    }
}

/* The literals of c on the label of c->lits[first]: can they hold together? false = proven not. */
static bool key_sat(const struct conj *c, size_t first)
{
    const char *key = c->lits[first].atom->key;
    const struct lit *pin = NULL, *a, *b;
    bool pos, pos2, any_pos = false, ok;
    size_t i, j, v;

    for (i = first; i < c->n; i++) {
        a = &c->lits[i];
        if (strcmp(a->atom->key, key) != 0)
            continue;
        if (lit_kind(a, &pos) == K_IN && pos && !pin)
            pin = a;
        any_pos |= pos;
    }
    if (!any_pos)
        return true; /* every negative literal holds for an absent label */
    if (pin) {
        for (v = 0; v < pin->atom->nvals; v++) {
            ok = true;
            for (i = first; i < c->n && ok; i++)
                if (strcmp(c->lits[i].atom->key, key) == 0)
                    ok = lit_holds(&c->lits[i], pin->atom->vals[v]);
            if (ok)
                return true;
        }
        return false;
    }
    /* Present, with a value outside finitely many excluded ones: only patterns can clash. */
    for (i = first; i < c->n; i++) {
        a = &c->lits[i];
        if (strcmp(a->atom->key, key) != 0)
            continue;
        if (lit_kind(a, &pos) == K_HAS && !pos)
            return false;
        if (lit_kind(a, &pos) != K_PAT)
            continue;
        if (!pos && a->atom->vals[0][0] == '\0')
            return false; /* every present value contains, starts and ends with "" */
        for (j = first; j < c->n; j++) {
            b = &c->lits[j];
            if (j == i || strcmp(b->atom->key, key) != 0 || lit_kind(b, &pos2) != K_PAT)
                continue;
            if (pos && !pos2 && pat_implies(a->atom, b->atom))
                return false;
            if (pos && pos2 && a->atom->op == b->atom->op && a->atom->op == SEL_STARTS &&
                !is_prefix(a->atom->vals[0], b->atom->vals[0]) &&
                !is_prefix(b->atom->vals[0], a->atom->vals[0]))
                return false;
            if (pos && pos2 && a->atom->op == b->atom->op && a->atom->op == SEL_ENDS &&
                !is_suffix(a->atom->vals[0], b->atom->vals[0]) &&
                !is_suffix(b->atom->vals[0], a->atom->vals[0]))
                return false;
        }
    }
    return true;
}

static bool conj_sat(const struct conj *c)
{
    size_t i, j;

    for (i = 0; i < c->n; i++) {
        for (j = 0; j < i && strcmp(c->lits[j].atom->key, c->lits[i].atom->key) != 0; j++)
            ;
        if (j == i && !key_sat(c, i))
            return false;
    }
    return true;
}

/*
 * Adds the conjunction of x and y (either may be NULL) to d unless it is refuted.
 * Returns 0, or -1 when a limit is hit or memory runs out.
 */
static int add_conj(struct dnf *d, const struct conj *x, const struct conj *y)
{
    size_t nx = x ? x->n : 0, ny = y ? y->n : 0;
    struct conj c = {0};
    struct conj *grown;

    *d->work -= (long)((nx + ny) * (nx + ny) + 1);
    if (nx + ny > DNF_MAX_LITS || *d->work < 0)
        return -1;
    if (nx + ny && !(c.lits = malloc((nx + ny) * sizeof(*c.lits))))
        return -1;
    if (nx)
        memcpy(c.lits, x->lits, nx * sizeof(*c.lits));
    if (ny)
        memcpy(c.lits + nx, y->lits, ny * sizeof(*c.lits));
    c.n = nx + ny;
    if (!conj_sat(&c)) {
        free(c.lits);
        return 0;
    }
    if (d->n == d->alloc) {
        if (d->n >= DNF_MAX_CONJ)
            goto fail;
        d->alloc = d->alloc ? d->alloc * 2 : 4;
        if (!(grown = realloc(d->c, d->alloc * sizeof(*d->c))))
            goto fail;
        d->c = grown;
    }
    d->c[d->n++] = c;
    return 0;
fail:
    free(c.lits);
    return -1;
}

/* d := d ∧ e, distributing; consumes nothing. */
static int dnf_product(struct dnf *d, const struct dnf *e)
{
    struct dnf r = {.work = d->work};
    size_t i, j;

    for (i = 0; i < d->n; i++)
        for (j = 0; j < e->n; j++)
            if (add_conj(&r, &d->c[i], &e->c[j]) < 0) {
                dnf_release(&r);
                return -1;
            }
    dnf_release(d);
    *d = r;
    return 0;
}

/* Sets out (empty on entry) to the DNF of s, or of !s when neg. Returns 0 or -1 (give up). */
static int to_dnf(const struct selector *s, bool neg, struct dnf *out, int depth)
{
    struct dnf k = {.work = out->work};
    struct lit l;
    struct conj c;
    size_t i, j;
    bool conjunctive;

    if (depth > 4 * SELNODE_MAX_DEPTH)
        return -1;
    switch (s->op) {
    case SEL_ALL:
    case SEL_GLOBAL: /* global() matches every label set: see selector.h */
        return neg ? 0 : add_conj(out, NULL, NULL);
    case SEL_NONE:
        return neg ? add_conj(out, NULL, NULL) : 0;
    case SEL_NOT:
        return to_dnf(s->kids[0], !neg, out, depth + 1);
    case SEL_AND:
    case SEL_OR:
        conjunctive = (s->op == SEL_AND) != neg;
        if (conjunctive && add_conj(out, NULL, NULL) < 0)
            return -1;
        for (i = 0; i < s->nkids; i++) {
            if (to_dnf(s->kids[i], neg, &k, depth + 1) < 0)
                goto fail;
            if (conjunctive) {
                if (dnf_product(out, &k) < 0)
                    goto fail;
            } else {
                for (j = 0; j < k.n; j++)
                    if (add_conj(out, &k.c[j], NULL) < 0)
                        goto fail;
            }
            dnf_release(&k);
            if (conjunctive && out->n == 0)
                return 0; /* refuted: the rest cannot revive it */
        }
        return 0;
    default:
        l.atom = s;
        l.neg = neg;
        c.lits = &l;
        c.n = 1;
        return add_conj(out, &c, NULL);
    }
fail:
    dnf_release(&k);
    return -1;
}

/*
 * Is (a, or !a when na) && (b, or !b when nb) proven unsatisfiable? b may be NULL (then only a).
 */
static bool refuted(const struct selector *a, bool na, const struct selector *b, bool nb)
{
    long work = DNF_MAX_WORK;
    struct dnf d = {.work = &work}, e = {.work = &work};
    bool r = false;

    if (to_dnf(a, na, &d, 0) < 0)
        goto out;
    if (b && d.n > 0) {
        if (to_dnf(b, nb, &e, 0) < 0 || dnf_product(&d, &e) < 0)
            goto out;
    }
    r = d.n == 0;
out:
    dnf_release(&d);
    dnf_release(&e);
    return r;
}

bool selector_subset(const struct selector *a, const struct selector *b)
{
    return refuted(a, false, b, true);
}

bool selector_may_overlap(const struct selector *a, const struct selector *b)
{
    return !refuted(a, false, b, false);
}

bool selector_is_all(const struct selector *s)
{
    return s->op == SEL_ALL || refuted(s, true, NULL, false);
}

bool selector_is_none(const struct selector *s)
{
    return s->op == SEL_NONE || refuted(s, false, NULL, false);
}

/* s with every predicate on a known or known-absent label replaced by its truth value. */
static struct selector *residual_open(const struct selector *s, const json_t *labels,
                                      bool (*open)(const char *key, void *arg), void *arg)
{
    struct selector **kids, *r;
    const json_t *v;
    size_t i;

    if (s->op == SEL_NOT)
        return selnode_not(residual_open(s->kids[0], labels, open, arg));
    if (s->op == SEL_AND || s->op == SEL_OR) {
        if (!(kids = calloc(s->nkids, sizeof(*kids))))
            return NULL;
        for (i = 0; i < s->nkids; i++)
            kids[i] = residual_open(s->kids[i], labels, open, arg);
        r = selnode_nary(s->op, kids, s->nkids);
        free(kids);
        return r;
    }
    if (!selnode_is_pred(s->op))
        return selector_dup(s);
    v = json_is_object(labels) ? json_object_get(labels, s->key) : NULL;
    if (!v && open && open(s->key, arg))
        return selector_dup(s);
    /* a null label value is "", as the API server stores it (selector.c) */
    return selnode_leaf(selnode_pred_holds(s, json_is_null(v)     ? ""
                                 : json_is_string(v) ? json_string_value(v)
                                                     : NULL)
                            ? SEL_ALL
                            : SEL_NONE,
                        NULL, NULL, 0);
}

/*
 * selector_eval_open(): a label set that is complete except for the keys `open` names. Kleene
 * evaluation first; when it cannot decide, what is left once the known labels and the keys known
 * to be absent are substituted is asked selector_is_all/none(). selector_eval() is the case where
 * every key is known or every key is open.
 */
enum tri selector_eval_open(const struct selector *s, const json_t *labels,
                            bool (*open)(const char *key, void *arg), void *arg)
{
    struct selector *r;
    enum tri t = selnode_eval_open(s, labels, open, arg);

    /*
     * Kleene logic says "unknown" for `has(a) || !has(a)` too. Whether what is left after the
     * known labels always or never holds is the question selector_is_all/none() answers.
     */
    if (t != TRI_UNKNOWN)
        return t;
    r = residual_open(s, labels, open, arg);
    if (r) {
        if (selector_is_all(r))
            t = TRI_TRUE;
        else if (selector_is_none(r))
            t = TRI_FALSE;
        selector_free(r);
    }
    return t;
}

/* A set of values borrowed from a selector. */
struct strset {
    const char **v;
    size_t n;
};

static bool strset_has(const struct strset *a, const char *x)
{
    for (size_t i = 0; i < a->n; i++)
        if (!strcmp(a->v[i], x))
            return true;
    return false;
}

/* 1 pinned (out filled, owned), 0 not pinned, -1 OOM. */
static int pinned(const struct selector *s, const char *key, struct strset *out, int depth)
{
    struct strset acc = {0}, kid;
    size_t i, j;
    int r, have = 0;

    memset(out, 0, sizeof(*out));
    if (depth > SELNODE_MAX_DEPTH + 8)
        return 0;
    switch (s->op) {
    case SEL_NONE:
        return 1;
    case SEL_EQ:
    case SEL_IN:
        if (strcmp(s->key, key))
            return 0;
        if (s->nvals && !(out->v = malloc(s->nvals * sizeof(*out->v))))
            return -1;
        for (i = 0; i < s->nvals; i++)
            out->v[out->n++] = s->vals[i];
        return 1;
    case SEL_AND:
    case SEL_OR:
        for (i = 0; i < s->nkids; i++) {
            if ((r = pinned(s->kids[i], key, &kid, depth + 1)) < 0)
                goto fail;
            if (r == 0) {
                if (s->op == SEL_OR)
                    goto unpinned;
                continue;
            }
            if (!have) {
                acc = kid;
                have = 1;
                continue;
            }
            if (s->op == SEL_AND) { /* keep what both allow */
                for (j = 0; j < acc.n;)
                    if (strset_has(&kid, acc.v[j]))
                        j++;
                    else
                        acc.v[j] = acc.v[--acc.n];
            } else { /* either */
                const char **g = realloc(acc.v, (acc.n + kid.n + 1) * sizeof(*g));

                if (!g) {
                    free(kid.v);
                    goto fail;
                }
                acc.v = g;
                for (j = 0; j < kid.n; j++)
                    if (!strset_has(&acc, kid.v[j]))
                        acc.v[acc.n++] = kid.v[j];
            }
            free(kid.v);
        }
        *out = acc;
        return have;
    default:
        return 0;
    }
unpinned:
    free(acc.v);
    return 0;
fail:
    free(acc.v);
    return -1;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

bool selector_pinned(const struct selector *s, const char *key, const char ***vals, size_t *n)
{
    struct strset set;

    *vals = NULL;
    *n = 0;
    if (!s || pinned(s, key, &set, 0) <= 0)
        return false;
    if (set.n > 1)
        qsort(set.v, set.n, sizeof(*set.v), cmp_str);
    *vals = set.v;
    *n = set.n;
    return true;
}

enum tri selector_eval(const struct selector *s, const json_t *labels, bool complete)
{
    return selector_eval_open(s, labels, complete ? NULL : selnode_every_key_open, NULL);
}
