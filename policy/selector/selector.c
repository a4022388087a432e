#include "policy/selector/selector.h"

#include <stdlib.h>
#include <string.h>

#include "policy/selector/selnode.h"

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);

    if (p)
        memcpy(p, s, n);
    return p;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void selector_free(struct selector *s)
{
    size_t i;

    if (!s)
        return;
    for (i = 0; i < s->nkids; i++)
        selector_free(s->kids[i]);
    free(s->kids);
    for (i = 0; i < s->nvals; i++)
        free(s->vals[i]);
    free(s->vals);
    free(s->key);
    free(s);
}

struct selector *selnode_leaf(enum selnode_op op, const char *key, const char *const *vals,
                              size_t n)
{
    struct selector *s = calloc(1, sizeof(*s));
    size_t i, j;

    if (!s)
        return NULL;
    s->op = op;
    if (key && !(s->key = xstrdup(key)))
        goto fail;
    if (n) {
        if (!(s->vals = calloc(n, sizeof(*s->vals))))
            goto fail;
        for (i = 0; i < n; i++) {
            if (!(s->vals[i] = xstrdup(vals[i])))
                goto fail;
            s->nvals++;
        }
    }
    if ((op == SEL_IN || op == SEL_NOTIN) && s->nvals > 1) {
        /* Sorted and unique, so formatting is canonical and lookups can bsearch. */
        qsort(s->vals, s->nvals, sizeof(*s->vals), cmp_str);
        for (i = j = 0; i < s->nvals; i++) {
            if (j && strcmp(s->vals[j - 1], s->vals[i]) == 0)
                free(s->vals[i]);
            else
                s->vals[j++] = s->vals[i];
        }
        s->nvals = j;
    }
    return s;
fail:
    selector_free(s);
    return NULL;
}

static void free_kids(struct selector **kids, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        selector_free(kids[i]);
}

struct selector *selnode_nary(enum selnode_op op, struct selector **kids, size_t n)
{
    enum selnode_op unit = op == SEL_AND ? SEL_ALL : SEL_NONE;
    enum selnode_op zero = op == SEL_AND ? SEL_NONE : SEL_ALL;
    struct selector *s = NULL, **out = NULL;
    size_t i, j, total = 0;

    for (i = 0; i < n; i++) {
        if (!kids[i])
            goto fail;
        if (kids[i]->op == zero) {
            free_kids(kids, n);
            return selnode_leaf(zero, NULL, NULL, 0);
        }
        total += kids[i]->op == op ? kids[i]->nkids : kids[i]->op == unit ? 0 : 1;
    }
    if (total == 0) {
        free_kids(kids, n);
        return selnode_leaf(unit, NULL, NULL, 0);
    }
    if (!(out = calloc(total, sizeof(*out))))
        goto fail;
    j = 0;
    for (i = 0; i < n; i++) {
        if (kids[i]->op == op) {
            /* Adopt the grandchildren; the emptied node is freed below. */
            memcpy(out + j, kids[i]->kids, kids[i]->nkids * sizeof(*out));
            j += kids[i]->nkids;
            kids[i]->nkids = 0;
        } else if (kids[i]->op != unit) {
            out[j++] = kids[i];
            kids[i] = NULL;
        }
    }
    free_kids(kids, n);
    if (total == 1) {
        s = out[0];
        free(out);
        return s;
    }
    if (!(s = calloc(1, sizeof(*s)))) {
        free_kids(out, total);
        free(out);
        return NULL;
    }
    s->op = op;
    s->kids = out;
    s->nkids = total;
    return s;
fail:
    free_kids(kids, n);
    return NULL;
}

struct selector *selnode_and2(struct selector *a, struct selector *b)
{
    struct selector *kids[2] = {a, b};

    return selnode_nary(SEL_AND, kids, 2);
}

struct selector *selnode_or2(struct selector *a, struct selector *b)
{
    struct selector *kids[2] = {a, b};

    return selnode_nary(SEL_OR, kids, 2);
}

struct selector *selnode_not(struct selector *a)
{
    struct selector *s, *kid;

    if (!a)
        return NULL;
    switch (a->op) {
    case SEL_ALL:
        a->op = SEL_NONE;
        return a;
    case SEL_NONE:
        a->op = SEL_ALL;
        return a;
    /* With Calico's meaning of a missing label these pairs are exact complements. */
    case SEL_EQ:
        a->op = SEL_NE;
        return a;
    case SEL_NE:
        a->op = SEL_EQ;
        return a;
    case SEL_IN:
        a->op = SEL_NOTIN;
        return a;
    case SEL_NOTIN:
        a->op = SEL_IN;
        return a;
    case SEL_NOT:
        kid = a->kids[0];
        a->nkids = 0;
        selector_free(a);
        return kid;
    default:
        break;
    }
    if (!(s = calloc(1, sizeof(*s))) || !(s->kids = malloc(sizeof(*s->kids)))) {
        free(s);
        selector_free(a);
        return NULL;
    }
    s->op = SEL_NOT;
    s->kids[0] = a;
    s->nkids = 1;
    return s;
}

struct selector *selector_dup(const struct selector *s)
{
    struct selector *d, **kids;
    size_t i;

    if (!s)
        return NULL;
    if (s->nkids == 0)
        return selnode_leaf(s->op, s->key, (const char *const *)s->vals, s->nvals);
    if (!(kids = calloc(s->nkids, sizeof(*kids))))
        return NULL;
    for (i = 0; i < s->nkids; i++) {
        if (!(kids[i] = selector_dup(s->kids[i]))) {
            free_kids(kids, i);
            free(kids);
            return NULL;
        }
    }
    if (!(d = calloc(1, sizeof(*d)))) {
        free_kids(kids, s->nkids);
        free(kids);
        return NULL;
    }
    /* A copy of a normal-form tree is in normal form: no need to go through the constructors. */
    d->op = s->op;
    d->kids = kids;
    d->nkids = s->nkids;
    return d;
}

struct selector *selector_all(void)
{
    return selnode_leaf(SEL_ALL, NULL, NULL, 0);
}

struct selector *selector_none(void)
{
    return selnode_leaf(SEL_NONE, NULL, NULL, 0);
}

struct selector *selector_and(const struct selector *a, const struct selector *b)
{
    struct selector *da = selector_dup(a), *db = selector_dup(b);

    if (!da || !db) {
        selector_free(da);
        selector_free(db);
        return NULL;
    }
    return selnode_and2(da, db);
}

struct selector *selector_or(const struct selector *a, const struct selector *b)
{
    struct selector *da = selector_dup(a), *db = selector_dup(b);

    if (!da || !db) {
        selector_free(da);
        selector_free(db);
        return NULL;
    }
    return selnode_or2(da, db);
}

struct selector *selector_not(const struct selector *a)
{
    return selnode_not(selector_dup(a));
}

bool selector_has_global(const struct selector *s)
{
    size_t i;

    if (s->op == SEL_GLOBAL)
        return true;
    for (i = 0; i < s->nkids; i++)
        if (selector_has_global(s->kids[i]))
            return true;
    return false;
}

/* Appends the keys of s not yet in *keys; 0, or -1 on OOM. */
static int add_keys(const struct selector *s, const char ***keys, size_t *n, int depth)
{
    size_t i;

    if (depth > SELNODE_MAX_DEPTH + 8)
        return 0;
    for (i = 0; i < s->nkids; i++)
        if (add_keys(s->kids[i], keys, n, depth + 1) < 0)
            return -1;
    if (!s->key)
        return 0;
    for (i = 0; i < *n; i++)
        if (!strcmp((*keys)[i], s->key))
            return 0;
    const char **grown = realloc(*keys, (*n + 1) * sizeof(*grown));
    if (!grown)
        return -1;
    *keys = grown;
    grown[(*n)++] = s->key;
    return 0;
}

int selector_keys(const struct selector *s, const char ***keys, size_t *n)
{
    return add_keys(s, keys, n, 0);
}

/*
 * A copy of s rebuilt through the constructors (so it stays in normal form), with predicates on
 * `from` made predicates on `to` (when from is not NULL) and global() made all() or none() (when
 * global_to is SEL_ALL or SEL_NONE; SEL_GLOBAL keeps it).
 */
static struct selector *remap(const struct selector *s, const char *from, const char *to,
                              enum selnode_op global_to, int depth)
{
    struct selector **kids, *out;
    size_t i;

    if (depth > SELNODE_MAX_DEPTH + 4)
        return NULL;
    if (s->op == SEL_GLOBAL)
        return selnode_leaf(global_to, NULL, NULL, 0);
    if (s->nkids == 0)
        return selnode_leaf(s->op, s->key && from && !strcmp(s->key, from) ? to : s->key,
                            (const char *const *)s->vals, s->nvals);
    if (s->op == SEL_NOT)
        return selnode_not(remap(s->kids[0], from, to, global_to, depth + 1));
    if (!(kids = calloc(s->nkids, sizeof(*kids))))
        return NULL;
    for (i = 0; i < s->nkids; i++)
        kids[i] = remap(s->kids[i], from, to, global_to, depth + 1);
    out = selnode_nary(s->op, kids, s->nkids); /* consumes kids, NULL if any failed */
    free(kids);
    return out;
}

struct selector *selector_rename_key(const struct selector *s, const char *from, const char *to)
{
    return remap(s, from, to, SEL_GLOBAL, 0);
}

struct selector *selector_set_global(const struct selector *s, bool value)
{
    return remap(s, NULL, NULL, value ? SEL_ALL : SEL_NONE, 0);
}

int selector_split_key(const struct selector *s, const char *key, struct selector **on,
                       struct selector **rest)
{
    struct selector *const *conj = s->op == SEL_AND ? s->kids : (struct selector *const *)&s;
    size_t n = s->op == SEL_AND ? s->nkids : 1, i;
    struct selector *a = selector_all(), *b = selector_all();

    for (i = 0; i < n && a && b; i++) {
        const struct selector *c = conj[i];

        if (selnode_is_pred(c->op) && !strcmp(c->key, key))
            a = selnode_and2(a, selector_dup(c));
        else
            b = selnode_and2(b, selector_dup(c));
    }
    if (!a || !b) {
        selector_free(a);
        selector_free(b);
        *on = *rest = NULL;
        return -1;
    }
    *on = a;
    *rest = b;
    return 0;
}

/* The value a top-level conjunct c pins its key to, or NULL. */
static const char *pin_of(const struct selector *c)
{
    if (c->op == SEL_EQ || (c->op == SEL_IN && c->nvals == 1))
        return c->vals[0];
    return NULL;
}

const char *selector_eq_value(const struct selector *s, const char *key)
{
    struct selector *const *conj = s->op == SEL_AND ? s->kids : (struct selector *const *)&s;
    size_t n = s->op == SEL_AND ? s->nkids : 1, i;

    for (i = 0; i < n; i++)
        if (pin_of(conj[i]) && !strcmp(conj[i]->key, key))
            return pin_of(conj[i]);
    return NULL;
}

const char *selector_first_eq_key(const struct selector *s)
{
    struct selector *const *conj = s->op == SEL_AND ? s->kids : (struct selector *const *)&s;
    size_t n = s->op == SEL_AND ? s->nkids : 1, i;

    for (i = 0; i < n; i++)
        if (pin_of(conj[i]))
            return conj[i]->key;
    return NULL;
}

static bool in_set(const struct selector *s, const char *v)
{
    return s->nvals && bsearch(&v, s->vals, s->nvals, sizeof(*s->vals), cmp_str) != NULL;
}

static bool ends_with(const char *v, const char *suffix)
{
    size_t n = strlen(v), m = strlen(suffix);

    return n >= m && memcmp(v + n - m, suffix, m) == 0;
}

bool selnode_pred_holds(const struct selector *s, const char *v)
{
    switch (s->op) {
    case SEL_EQ:
        return v && strcmp(v, s->vals[0]) == 0;
    case SEL_NE:
        return !v || strcmp(v, s->vals[0]) != 0;
    case SEL_HAS:
        return v != NULL;
    case SEL_IN:
        return v && in_set(s, v);
    case SEL_NOTIN:
        return !v || !in_set(s, v);
    case SEL_CONTAINS:
        return v && strstr(v, s->vals[0]) != NULL;
    case SEL_STARTS:
        return v && strncmp(v, s->vals[0], strlen(s->vals[0])) == 0;
    case SEL_ENDS:
        return v && ends_with(v, s->vals[0]);
    default:
        return false;
    }
}

static enum tri tri_not(enum tri t)
{
    return t == TRI_UNKNOWN ? TRI_UNKNOWN : t == TRI_TRUE ? TRI_FALSE : TRI_TRUE;
}

/* Kleene logic: an AND is false if any child is, an OR true if any child is. */
enum tri selnode_eval_open(const struct selector *s, const json_t *labels,
                          bool (*open)(const char *key, void *arg), void *arg)
{
    const json_t *v;
    enum tri r, t;
    size_t i;

    switch (s->op) {
    case SEL_ALL:
    case SEL_GLOBAL:
        return TRI_TRUE;
    case SEL_NONE:
        return TRI_FALSE;
    case SEL_NOT:
        return tri_not(selnode_eval_open(s->kids[0], labels, open, arg));
    case SEL_AND:
    case SEL_OR:
        r = s->op == SEL_AND ? TRI_TRUE : TRI_FALSE;
        for (i = 0; i < s->nkids; i++) {
            t = selnode_eval_open(s->kids[i], labels, open, arg);
            if (t == TRI_UNKNOWN)
                r = TRI_UNKNOWN;
            else if (t != (s->op == SEL_AND ? TRI_TRUE : TRI_FALSE))
                return t;
        }
        return r;
    default:
        break;
    }
    v = json_is_object(labels) ? json_object_get(labels, s->key) : NULL;
    if (v && json_is_string(v))
        return selnode_pred_holds(s, json_string_value(v)) ? TRI_TRUE : TRI_FALSE;
    /* Label maps are Go map[string]string: the API server stores a null value as "". */
    if (v && json_is_null(v))
        return selnode_pred_holds(s, "") ? TRI_TRUE : TRI_FALSE;
    /* Label values are strings; anything else counts as a known-absent label. */
    if (v || !open || !open(s->key, arg))
        return selnode_pred_holds(s, NULL) ? TRI_TRUE : TRI_FALSE;
    /* Unknown label: a few predicates hold or fail whatever it is. */
    if (s->op == SEL_IN && s->nvals == 0)
        return TRI_FALSE;
    if (s->op == SEL_NOTIN && s->nvals == 0)
        return TRI_TRUE;
    return TRI_UNKNOWN;
}

bool selnode_every_key_open(const char *key, void *arg)
{
    (void)key;
    (void)arg;
    return true;
}

enum tri selnode_eval(const struct selector *s, const json_t *labels, bool complete)
{
    return selnode_eval_open(s, labels, complete ? NULL : selnode_every_key_open, NULL);
}

bool selector_matches(const struct selector *s, const json_t *labels)
{
    return selnode_eval(s, labels, true) == TRI_TRUE;
}

static void put_quoted(struct buf *out, const char *v)
{
    /* Calico strings have no escapes: pick the quote the value does not contain. */
    const char *q = strchr(v, '"') ? "'" : "\"";

    buf_printf(out, "%s%s%s", q, v, q);
}

enum { PREC_OR = 1, PREC_AND = 2, PREC_UNARY = 3 };

static void format_node(const struct selector *s, struct buf *out, int prec)
{
    static const char *const ops[] = {
        [SEL_EQ] = " == ",        [SEL_NE] = " != ",           [SEL_IN] = " in {",
        [SEL_NOTIN] = " not in {", [SEL_CONTAINS] = " contains ", [SEL_STARTS] = " starts with ",
        [SEL_ENDS] = " ends with ",
    };
    int mine = s->op == SEL_OR ? PREC_OR : PREC_AND;
    const struct selector *kid;
    size_t i;

    switch (s->op) {
    case SEL_ALL:
        buf_puts(out, "all()");
        return;
    case SEL_NONE:
        buf_puts(out, "!all()");
        return;
    case SEL_GLOBAL:
        buf_puts(out, "global()");
        return;
    case SEL_HAS:
        buf_printf(out, "has(%s)", s->key);
        return;
    case SEL_EQ:
    case SEL_NE:
    case SEL_CONTAINS:
    case SEL_STARTS:
    case SEL_ENDS:
        buf_printf(out, "%s%s", s->key, ops[s->op]);
        put_quoted(out, s->vals[0]);
        return;
    case SEL_IN:
    case SEL_NOTIN:
        buf_printf(out, "%s%s", s->key, ops[s->op]);
        for (i = 0; i < s->nvals; i++) {
            if (i)
                buf_puts(out, ", ");
            put_quoted(out, s->vals[i]);
        }
        buf_puts(out, "}");
        return;
    case SEL_NOT:
        kid = s->kids[0];
        /* `!a contains "x"` parses the same, but reads as if ! bound to the label. */
        if (kid->op == SEL_HAS || kid->op == SEL_GLOBAL) {
            buf_puts(out, "!");
            format_node(kid, out, PREC_UNARY);
        } else {
            buf_puts(out, "!(");
            format_node(kid, out, PREC_OR);
            buf_puts(out, ")");
        }
        return;
    case SEL_AND:
    case SEL_OR:
        if (prec > mine)
            buf_puts(out, "(");
        for (i = 0; i < s->nkids; i++) {
            if (i)
                buf_puts(out, s->op == SEL_AND ? " && " : " || ");
            format_node(s->kids[i], out, mine + 1);
        }
        if (prec > mine)
            buf_puts(out, ")");
        return;
    }
}

int selector_format(const struct selector *s, struct buf *out)
{
    format_node(s, out, PREC_OR);
    return out->failed ? -1 : 0;
}
