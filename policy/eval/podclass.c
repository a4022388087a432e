#include "policy/eval/podclass.h"

#include <stdlib.h>
#include <string.h>

#include "policy/selector/selsubset.h"

/* The most a selector's text may take when telling candidates apart (longer ones are kept). */
#define PODCLASS_SELECTOR_TEXT_CAP ((size_t)4096)

void podclass_list_init(struct podclass_list *l)
{
    memset(l, 0, sizeof(*l));
}

void podclass_list_release(struct podclass_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        selector_free(l->sels[i]);
    free(l->sels);
    podclass_list_init(l);
}

/* The pod selectors to split on, each once (borrowed from the inputs' models). */
struct cands {
    const struct selector **v;
    char **text; /* selector_format, or NULL when too long to compare */
    size_t n, alloc;
};

static void cands_release(struct cands *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->text[i]);
    free(c->v);
    free(c->text);
}

static int cands_add(struct cands *c, const struct selector *s)
{
    struct buf b;
    char *text;

    buf_init(&b, PODCLASS_SELECTOR_TEXT_CAP);
    selector_format(s, &b);
    if (b.failed) {
        text = NULL;
        buf_release(&b);
    } else if (!(text = buf_detach(&b, NULL))) {
        return -1;
    }
    for (size_t i = 0; text && i < c->n; i++)
        if (c->text[i] && !strcmp(c->text[i], text)) {
            free(text);
            return 0;
        }
    if (c->n == c->alloc) {
        size_t na = c->alloc ? 2 * c->alloc : 8;
        const struct selector **v = realloc(c->v, na * sizeof(*v));
        char **t;

        if (v)
            c->v = v;
        if (!v || !(t = realloc(c->text, na * sizeof(*t)))) {
            free(text);
            return -1;
        }
        c->text = t;
        c->alloc = na;
    }
    c->v[c->n] = s;
    c->text[c->n++] = text;
    return 0;
}

/*
 * The selectors of the models that may apply to some pods of ns in `in`, where splitting helps:
 * the model applies to every pod its own selector picks (the doubt is about pods only).
 */
static int collect(const struct policy *pol, const struct compose_input *in, const char *ns,
                   struct cands *out, struct err *e)
{
    struct compose_subject any = {.ns = ns};
    struct compose_eval ev;
    int rc = -1;

    compose_eval_init(&ev);
    if (compose_eval_run(pol, in, NULL, 0, NULL, NULL, &any, &ev, e) < 0)
        goto out;
    for (size_t i = 0; i < ev.n_parts; i++) {
        const struct egress_model *m = ev.parts[i].model;
        struct compose_subject own = {.ns = ns, .pods = m->pod_sel};

        if (ev.parts[i].applies != TRI_UNKNOWN || !m->pod_sel || selector_is_all(m->pod_sel) ||
            compose_applies(in, m, &own) != TRI_TRUE)
            continue;
        if (cands_add(out, m->pod_sel) < 0) {
            err_set(e, "out of memory");
            goto out;
        }
    }
    rc = 0;
out:
    compose_eval_release(&ev);
    return rc;
}

static int push(struct selector ***v, size_t *n, struct selector *s)
{
    struct selector **grown = realloc(*v, (*n + 1) * sizeof(*grown));

    if (!grown)
        return -1;
    *v = grown;
    grown[(*n)++] = s;
    return 0;
}

/* c && s, or c && !s; c NULL is every pod. NULL on out of memory. */
static struct selector *refine(const struct selector *c, const struct selector *s, bool neg)
{
    struct selector *x = neg ? selector_not(s) : selector_dup(s), *y;

    /* c && s is s when s ⊆ c: keep the shorter text for messages */
    if (!x || !c || (!neg && selector_subset(s, c)))
        return x;
    y = selector_and(c, x);
    selector_free(x);
    return y;
}

/* Splits every class of l on s into next; *fits is false when that makes more than max. */
static int split_on(const struct podclass_list *l, const struct selector *s, size_t max,
                    struct selector ***next, size_t *n_next, bool *fits)
{
    *fits = true;
    for (size_t i = 0; i < l->n; i++) {
        const struct selector *c = l->sels[i];
        struct selector *part[2] = {NULL, NULL};

        if (c ? selector_subset(c, s) || !selector_may_overlap(c, s) : selector_is_none(s)) {
            /* the class is on one side already: it stays as it is */
            if (c && !(part[0] = selector_dup(c)))
                return -1;
            if (push(next, n_next, part[0]) < 0) {
                selector_free(part[0]);
                return -1;
            }
            continue;
        }
        for (int k = 0; k < 2; k++) {
            if (!(part[k] = refine(c, s, k == 1)))
                goto oom;
            if (selector_is_none(part[k])) {
                selector_free(part[k]);
                part[k] = NULL;
            }
        }
        for (int k = 0; k < 2; k++) {
            if (part[k] && push(next, n_next, part[k]) < 0)
                goto oom;
            part[k] = NULL;
        }
        continue;
    oom:
        selector_free(part[0]);
        selector_free(part[1]);
        return -1;
    }
    *fits = *n_next <= max; /* at most twice as many were made: memory stays bounded */
    return 0;
}

int podclass_split(const struct policy *pol, const struct compose_input *const *ins, size_t n,
                   const char *ns, size_t max, struct podclass_list *out, struct err *e)
{
    struct cands c = {0};
    size_t i, k;
    int rc = -1;

    out->complete = true;
    if (!(out->sels = calloc(1, sizeof(*out->sels))))
        return err_set(e, "out of memory");
    out->n = 1; /* every pod */
    for (i = 0; i < n; i++)
        if (collect(pol, ins[i], ns, &c, e) < 0)
            goto out;
    for (i = 0; i < c.n; i++) {
        struct selector **next = NULL;
        size_t n_next = 0;
        bool fits;

        if (split_on(out, c.v[i], max, &next, &n_next, &fits) < 0) {
            for (k = 0; k < n_next; k++)
                selector_free(next[k]);
            free(next);
            err_set(e, "out of memory");
            goto out;
        }
        if (!fits) {
            /* left unsplit: the policies on it stay "may apply" in some classes */
            for (k = 0; k < n_next; k++)
                selector_free(next[k]);
            free(next);
            out->complete = false;
            continue;
        }
        for (k = 0; k < out->n; k++)
            selector_free(out->sels[k]);
        free(out->sels);
        out->sels = next;
        out->n = n_next;
    }
    rc = 0;
out:
    cands_release(&c);
    return rc;
}

int podclass_describe(const struct selector *c, struct buf *out)
{
    if (!c)
        return buf_puts(out, "every pod");
    buf_puts(out, "pods ");
    return selector_format(c, out);
}
