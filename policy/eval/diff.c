#include "policy/eval/diff.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/base/buf.h"
#include "policy/eval/podclass.h"
#include "policy/sets/portset.h"

/*
 * The most pod classes one namespace is split into (podclass.h); each costs two compositions.
 * Past it, selectors stay unsplit and what depends on them is reported with "may".
 */
#define DIFF_MAX_CLASSES 32
#define DIFF_MAX_NAMED 8 /* classes or workloads named in one message before "and N more" */
/*
 * Texts quote the objects (peers, selectors, names): a message, what changes and the pods it is
 * about are cut at these with "..."; a model's text over DIFF_MODEL_TEXT_CAP is not compared
 * (the class is then judged as changed, which is the cautious side).
 */
#define DIFF_TEXT_CAP ((size_t)8192)
#define DIFF_MESSAGE_CAP ((size_t)24576)
#define DIFF_MODEL_TEXT_CAP ((size_t)1 << 20)

_Static_assert(DIFF_MAX_CLASSES <= 64, "a change records its classes in 64 bits");

void diff_result_init(struct diff_result *r)
{
    r->items = NULL;
    r->n = 0;
}

void diff_result_release(struct diff_result *r)
{
    size_t i;

    for (i = 0; i < r->n; i++) {
        free(r->items[i].what);
        free(r->items[i].message);
    }
    free(r->items);
    diff_result_init(r);
}

/* One class of pods composed on both sides. */
struct cls {
    const struct selector *pods; /* borrowed from the podclass list; NULL: every pod */
    struct compose_eval base, head;
};

/*
 * One change being gathered over the classes: what one peer adds (or one BASE peer loses), or,
 * with no policy, what "every destination" of pods nothing isolates adds or loses.
 */
struct change {
    bool added;
    const struct compose_policy *policy; /* NULL: every destination */
    const struct egress_peer *peer;
    struct opening_list ops; /* what changes, over every class */
    uint64_t classes;        /* which classes it comes from (DIFF_MAX_CLASSES <= 64) */
    bool exact;              /* every class it comes from was composed exactly */
    bool isolated;           /* policy NULL: the other side surely isolated every such class */
};

struct ns_diff {
    const struct policy *pol;
    const char *ns;
    const struct compose_input *base, *head;
    struct podclass_list classes;
    struct cls *cls; /* one per class */
    struct change *ch;
    size_t n_ch;
};

static void ns_diff_release(struct ns_diff *d)
{
    size_t i;

    for (i = 0; i < d->n_ch; i++)
        opening_list_release(&d->ch[i].ops);
    free(d->ch);
    for (i = 0; d->cls && i < d->classes.n; i++) {
        compose_eval_release(&d->cls[i].base);
        compose_eval_release(&d->cls[i].head);
    }
    free(d->cls);
    podclass_list_release(&d->classes);
}

/* Do a and b hold the same parts: the same objects, applying alike, with the same models? */
static bool same_part(const struct compose_part *a, const struct compose_part *b)
{
    struct buf ta, tb;
    bool same;

    if (a->applies != b->applies || !compose_same_object(a->policy, b->policy))
        return false;
    buf_init(&ta, DIFF_MODEL_TEXT_CAP);
    buf_init(&tb, DIFF_MODEL_TEXT_CAP);
    egress_model_format(a->model, &ta);
    egress_model_format(b->model, &tb);
    same = !ta.failed && !tb.failed && !strcmp(buf_str(&ta), buf_str(&tb));
    buf_release(&ta);
    buf_release(&tb);
    return same;
}

/* Nothing changed for a class when both sides compose the same parts, one for one. */
static bool same_parts(const struct compose_eval *a, const struct compose_eval *b)
{
    bool *used, same = true;
    size_t i, k;

    if (a->n_parts != b->n_parts)
        return false;
    if (!(used = calloc(b->n_parts + 1, sizeof(*used))))
        return false; /* judged as changed: the cautious side */
    for (i = 0; i < a->n_parts && same; i++) {
        for (k = 0; k < b->n_parts && (used[k] || !same_part(&a->parts[i], &b->parts[k])); k++)
            ;
        same = k < b->n_parts;
        if (same)
            used[k] = true;
    }
    free(used);
    return same;
}

/* The change of (added, policy, peer), made on first use; NULL on out of memory. */
static struct change *change_for(struct ns_diff *d, bool added, const struct compose_policy *p,
                                 const struct egress_peer *peer)
{
    struct change *grown;
    size_t i;

    for (i = 0; i < d->n_ch; i++)
        if (d->ch[i].added == added && d->ch[i].policy == p && d->ch[i].peer == peer)
            return &d->ch[i];
    if (!(grown = realloc(d->ch, (d->n_ch + 1) * sizeof(*grown))))
        return NULL;
    d->ch = grown;
    grown = &grown[d->n_ch++];
    memset(grown, 0, sizeof(*grown));
    grown->added = added;
    grown->policy = p;
    grown->peer = peer;
    grown->exact = grown->isolated = true;
    opening_list_init(&grown->ops);
    return grown;
}

/*
 * What of `o` (from one side's bound) the other side's bound does not open, added to its change.
 * Openings of one change share the first one's model, rule and peer, so that reach_check()
 * reports them as one escape; every class's composition lives until the namespace is done.
 */
static int compare_one(struct ns_diff *d, size_t ci, const struct compose_eval *mine,
                       const struct opening *o, const struct opening_list *other, bool added,
                       bool exact, bool other_isolated)
{
    const struct compose_part *part = compose_part_of(mine, o->model);
    struct opening_list rest;
    struct change *c;
    size_t i;
    int rc = -1;

    opening_list_init(&rest);
    if (opening_list_append(&rest, o) < 0)
        goto out;
    for (i = 0; i < other->n && rest.n; i++)
        if (opening_list_subtract(&rest, &other->items[i].peer, other->items[i].ports) < 0)
            goto out;
    if (!rest.n) {
        rc = 0;
        goto out;
    }
    if (!(c = change_for(d, added, part ? part->policy : NULL, part ? o->orig : NULL)))
        goto out;
    c->classes |= (uint64_t)1 << ci;
    c->exact &= exact;
    c->isolated &= other_isolated;
    for (i = 0; i < rest.n; i++) {
        struct opening *r = &rest.items[i];

        if (c->ops.n) {
            r->model = c->ops.items[0].model;
            r->rule = c->ops.items[0].rule;
            r->orig = c->ops.items[0].orig;
        }
        if (opening_list_append(&c->ops, r) < 0)
            goto out;
    }
    rc = 0;
out:
    opening_list_release(&rest);
    return rc;
}

/* Do two models govern the same pods, alike (namespace, selectors, default deny)? */
static bool same_subject(const struct egress_model *a, const struct egress_model *b)
{
    const struct selector *sa[2] = {a->pod_sel, a->ns_sel}, *sb[2] = {b->pod_sel, b->ns_sel};
    bool same = !a->ns == !b->ns && (!a->ns || !strcmp(a->ns, b->ns)) &&
                a->default_deny == b->default_deny && a->some_pods == b->some_pods &&
                a->host_policy == b->host_policy;

    for (int i = 0; i < 2 && same; i++) {
        struct buf ta, tb;

        if (!sa[i] || !sb[i]) {
            same = !sa[i] && !sb[i];
            continue;
        }
        buf_init(&ta, DIFF_MODEL_TEXT_CAP);
        buf_init(&tb, DIFF_MODEL_TEXT_CAP);
        selector_format(sa[i], &ta);
        selector_format(sb[i], &tb);
        same = !ta.failed && !tb.failed && !strcmp(buf_str(&ta), buf_str(&tb));
        buf_release(&ta);
        buf_release(&tb);
    }
    return same;
}

/*
 * Is every pod of the class that nothing isolates in HEAD one that nothing isolated in BASE?
 * So when each BASE policy that may isolate some of its pods is in HEAD too, governing the same
 * pods alike.
 */
static bool isolation_kept(const struct compose_eval *b, const struct compose_eval *h)
{
    for (size_t i = 0; i < b->n_parts; i++) {
        const struct compose_part *bp = &b->parts[i];
        bool kept = !bp->model->default_deny;

        for (size_t k = 0; k < h->n_parts && !kept; k++)
            kept = h->parts[k].applies == bp->applies &&
                   compose_same_object(h->parts[k].policy, bp->policy) &&
                   same_subject(h->parts[k].model, bp->model);
        if (!kept)
            return false;
    }
    return true;
}

/*
 * What the pods of a class surely reached in BASE, for HEAD openings that only some of them may
 * have: lb, and
 *  - for the openings of part hp, a policy that may apply to some of them, when the same policy
 *    is in BASE unchanged: its own openings there less whatever a deny of a BASE policy that may
 *    apply may take (the pods hp does not apply to reached nothing through it, so this counts
 *    only for hp's openings);
 *  - for "every destination" (hp NULL) of the pods nothing isolates in HEAD, when those were
 *    not isolated in BASE either: what such pods surely reached there.
 * Into out (init'ed). 0, or -1 on out of memory.
 */
static int surely_before(struct compose_eval *b, const struct compose_eval *h,
                         const struct opening_list *ub, const struct opening_list *lb,
                         const struct compose_part *hp, struct opening_list *out)
{
    const struct compose_part *bp = NULL;
    struct opening_list mine;
    struct err e;
    size_t i, k, j;
    int rc = -1;

    opening_list_init(&mine);
    for (i = 0; i < lb->n; i++)
        if (opening_list_append(out, &lb->items[i]) < 0)
            return -1;
    if (!hp)
        return isolation_kept(b, h) ? compose_eval_unisolated(b, out, &e) : 0;
    for (i = 0; i < b->n_parts && !bp; i++)
        if (same_part(&b->parts[i], hp))
            bp = &b->parts[i];
    if (!bp)
        return 0;
    for (i = 0; i < ub->n; i++)
        if (compose_part_of(b, ub->items[i].model) == bp &&
            opening_list_append(&mine, &ub->items[i]) < 0)
            goto out;
    for (i = 0; i < b->n_parts; i++) {
        const struct egress_model *m = b->parts[i].model;

        if (b->parts[i].applies == TRI_TRUE)
            continue; /* its denies are in ub already */
        for (k = 0; k < m->n_rules; k++)
            for (j = 0; m->rules[k].action == EGRESS_DENY && j < m->rules[k].n_peers; j++)
                if (opening_list_subtract_all(&mine, &m->rules[k].peers[j], m->rules[k].ports,
                                              m->cidrs_match_all) < 0)
                    goto out;
    }
    for (i = 0; i < mine.n; i++)
        if (opening_list_append(out, &mine.items[i]) < 0)
            goto out;
    rc = 0;
out:
    opening_list_release(&mine);
    return rc;
}

/* Composes class ci on both sides and gathers what changes. */
static int compare_class(struct ns_diff *d, size_t ci, struct err *e)
{
    struct cls *c = &d->cls[ci];
    struct compose_subject s = {.ns = d->ns, .pods = c->pods};
    struct opening_list ub, lb, uh, lh;
    bool exb, exh;
    size_t i;
    int rc = -1;

    opening_list_init(&ub);
    opening_list_init(&lb);
    opening_list_init(&uh);
    opening_list_init(&lh);
    if (compose_eval_run(d->pol, d->base, NULL, 0, NULL, NULL, &s, &c->base, e) < 0 ||
        compose_eval_run(d->pol, d->head, NULL, 0, NULL, NULL, &s, &c->head, e) < 0)
        goto out;
    if (same_parts(&c->base, &c->head)) {
        rc = 0;
        goto out;
    }
    /*
     * Added: what some pod of the class may reach in HEAD that not every one surely reached in
     * BASE; removed: what every pod surely reached in BASE that none may reach in HEAD.
     */
    if (compose_eval_bounds(&c->base, &ub, &lb, &exb, e) < 0 ||
        compose_eval_bounds(&c->head, &uh, &lh, &exh, e) < 0)
        goto out;
    for (i = 0; i < uh.n; i++) {
        const struct compose_part *hp = compose_part_of(&c->head, uh.items[i].model);
        struct opening_list before;
        int r;

        if (hp && hp->applies == TRI_TRUE) {
            if (compare_one(d, ci, &c->head, &uh.items[i], &lb, true, exb && exh,
                            c->base.isolating != NULL) < 0)
                goto oom;
            continue;
        }
        opening_list_init(&before);
        r = surely_before(&c->base, &c->head, &ub, &lb, hp, &before);
        if (r == 0)
            r = compare_one(d, ci, &c->head, &uh.items[i], &before, true, exb && exh,
                            c->base.isolating != NULL);
        opening_list_release(&before);
        if (r < 0)
            goto oom;
    }
    for (i = 0; i < lb.n; i++)
        if (compare_one(d, ci, &c->base, &lb.items[i], &uh, false, exb && exh,
                        c->head.isolating != NULL) < 0)
            goto oom;
    rc = 0;
    goto out;
oom:
    err_set(e, "out of memory");
out:
    opening_list_release(&ub);
    opening_list_release(&lb);
    opening_list_release(&uh);
    opening_list_release(&lh);
    return rc;
}

/* Names the workloads of either side that are pods of the classes in mask, as " (A, B)". */
static void name_workloads(const struct ns_diff *d, uint64_t mask, struct buf *out)
{
    const struct compose_input *sides[2] = {d->base, d->head};
    size_t named = 0, more = 0;

    for (size_t s = 0; s < 2; s++)
        for (size_t i = 0; i < sides[s]->n_workloads; i++) {
            const struct compose_workload *w = &sides[s]->workloads[i];
            bool in = false, seen = false;

            if (strcmp(w->ns, d->ns))
                continue;
            for (size_t c = 0; c < d->classes.n && !in; c++)
                in = (mask >> c & 1) &&
                     (!d->classes.sels[c] || selector_matches(d->classes.sels[c], w->labels));
            /* the same workload in BASE and HEAD once */
            for (size_t k = 0; s == 1 && in && k < d->base->n_workloads && !seen; k++)
                seen = !strcmp(d->base->workloads[k].ns, w->ns) &&
                       !strcmp(d->base->workloads[k].kind, w->kind) &&
                       !strcmp(d->base->workloads[k].name, w->name);
            if (!in || seen)
                continue;
            if (named == DIFF_MAX_NAMED) {
                more++;
                continue;
            }
            buf_printf(out, "%s%s/%s", named++ ? ", " : " (", w->kind, w->name);
        }
    if (more)
        buf_printf(out, " and %zu more", more);
    if (named)
        buf_puts(out, ")");
}

/*
 * The part through which change c's policy applies in class k on c's side (HEAD for added),
 * or NULL when it does not apply there.
 */
static const struct compose_part *part_in(const struct ns_diff *d, const struct change *c, size_t k)
{
    const struct compose_eval *ev = c->added ? &d->cls[k].head : &d->cls[k].base;

    for (size_t i = 0; i < ev->n_parts; i++)
        if (ev->parts[i].policy == c->policy)
            for (size_t r = 0; r < ev->parts[i].model->n_rules; r++) {
                const struct egress_rule *rule = &ev->parts[i].model->rules[r];

                if (c->peer >= rule->peers && c->peer < rule->peers + rule->n_peers)
                    return &ev->parts[i];
            }
    return NULL;
}

/*
 * The pods a change is about, then the workloads of the input among them: "the pods of the
 * namespace"; the pods its policy selects, when the change is about all of those; else the
 * classes one by one.
 */
static void name_pods(const struct ns_diff *d, const struct change *c, struct buf *out)
{
    const struct compose_part *part = NULL;
    size_t named = 0, more = 0, all = 0;
    bool whole = c->policy != NULL;

    for (size_t k = 0; k < d->classes.n; k++) {
        const struct compose_part *p = c->policy ? part_in(d, c, k) : NULL;
        bool in = c->classes >> k & 1;

        all += in;
        whole &= in == (p != NULL);
        if (p && !part)
            part = p;
    }
    if (all == d->classes.n) {
        buf_puts(out, "the pods of the namespace");
    } else if (whole && part && part->model->pod_sel) {
        podclass_describe(part->model->pod_sel, out);
    } else {
        for (size_t k = 0; k < d->classes.n; k++) {
            if (!(c->classes >> k & 1))
                continue;
            if (named == DIFF_MAX_NAMED) {
                more++;
                continue;
            }
            if (named++)
                buf_puts(out, "; ");
            podclass_describe(d->classes.sels[k], out);
        }
        if (more)
            buf_printf(out, " and %zu more classes", more);
    }
    name_workloads(d, c->classes, out);
}

/* "peer on ports" of one opening; malloc()ed, NULL on out of memory. */
static char *format_one(const struct opening *o)
{
    struct buf b;

    buf_init_cut(&b, DIFF_TEXT_CAP, "...");
    egress_peer_format(&o->peer, &b);
    buf_puts(&b, " on ");
    portset_format(o->ports, &b);
    return buf_detach(&b, NULL);
}

/*
 * "peer on ports; ..." of the change, each piece once (classes often lose or gain the same);
 * "every destination" when that is what it is.
 */
static void format_ops(const struct opening_list *ops, struct buf *out)
{
    for (size_t i = 0; i < ops->n; i++) {
        char *one = format_one(&ops->items[i]);
        bool dup = false;

        for (size_t k = 0; one && k < i && !dup; k++) {
            char *prev = format_one(&ops->items[k]);

            dup = !prev || !strcmp(prev, one);
            free(prev);
        }
        if (!one)
            out->failed = true; /* out of memory: the caller sees a failed buffer */
        else if (!dup)
            buf_printf(out, "%s%s", out->len ? "; " : "",
                       strcmp(one, "all on any protocol/port") ? one : "every destination");
        free(one);
    }
}

/* The sentence of change c; outside: the reach message of what escapes (NULL when inside). */
static void sentence(const struct ns_diff *d, const struct change *c, const char *what,
                     const char *escape, struct buf *msg)
{
    struct buf who;
    bool all = true;

    buf_init_cut(&who, DIFF_TEXT_CAP, "...");
    name_pods(d, c, &who);
    for (size_t k = 0; k < d->classes.n; k++)
        all &= (c->classes >> k & 1) != 0;
    if (c->added && c->policy) {
        if (escape)
            buf_printf(msg, "%s: %s egress outside the allow-list: %s", d->ns,
                       c->exact ? "adds" : "may add", escape);
        else
            buf_printf(msg, "%s: %s egress to %s (inside the allow-list)", d->ns,
                       c->exact ? "adds" : "may add", what);
        if (!all || !c->exact)
            buf_printf(msg, " (for %s)", buf_str(&who));
    } else if (c->added && c->isolated) {
        if (c->exact)
            buf_printf(msg, "%s: adds %s%s: no policy with egress default deny selects %s any more",
                       d->ns, strcmp(what, "every destination") ? "egress to " : "", what,
                       buf_str(&who));
        else
            buf_printf(msg,
                       "%s: may add %s%s: %s may no longer be selected by a policy with egress "
                       "default deny",
                       d->ns, strcmp(what, "every destination") ? "egress to " : "", what,
                       buf_str(&who));
    } else if (c->added) {
        if (c->exact)
            buf_printf(msg,
                       "%s: adds egress to %s (%s the allow-list): no policy with egress default "
                       "deny selects %s, and no deny takes it away any more",
                       d->ns, what, escape ? "outside" : "inside", buf_str(&who));
        else
            buf_printf(msg,
                       "%s: may add egress to %s (%s the allow-list): %s may not be selected by "
                       "any policy with egress default deny, and no deny may take it away any "
                       "more",
                       d->ns, what, escape ? "outside" : "inside", buf_str(&who));
    } else if (c->policy) {
        buf_printf(msg, "%s: removes egress to %s", d->ns, what);
        if (!all)
            buf_printf(msg, " (for %s)", buf_str(&who));
    } else if (c->isolated) {
        buf_printf(msg,
                   "%s: removes unrestricted egress: %s now selected by a policy with egress "
                   "default deny",
                   d->ns, buf_str(&who));
    } else {
        buf_printf(msg,
                   "%s: removes egress to %s from %s, which no policy with egress default deny "
                   "selects",
                   d->ns, what, buf_str(&who));
    }
    buf_release(&who);
}

static int push(struct diff_result *out, const struct ns_diff *d, const struct change *c,
                struct err *e)
{
    struct diff_change *grown;
    struct reach_result res;
    struct buf what, msg;
    const char *escape = NULL;
    bool outside = false;
    int rc = -1;

    reach_result_init(&res);
    buf_init_cut(&what, DIFF_TEXT_CAP, "...");
    buf_init_cut(&msg, DIFF_MESSAGE_CAP, "...");
    format_ops(&c->ops, &what);
    if (c->added && reach_check(d->pol, d->ns, &c->ops, &res, e) < 0)
        goto out;
    outside = c->added && res.n_escapes > 0;
    /* the allow-list escape says most; one into spec.deny only when it is the only one */
    for (size_t k = 0; outside && k < res.n_escapes && !escape; k++)
        if (!res.escapes[k].denied)
            escape = res.escapes[k].message;
    if (outside && !escape)
        escape = res.escapes[0].message;
    sentence(d, c, buf_str(&what), escape, &msg);
    if (!(grown = realloc(out->items, (out->n + 1) * sizeof(*grown))))
        goto oom;
    out->items = grown;
    grown = &grown[out->n];
    *grown = (struct diff_change){d->ns, c->added, c->policy, c->policy ? c->peer : NULL,
                                  buf_detach(&what, NULL), outside, buf_detach(&msg, NULL)};
    if (!grown->what || !grown->message) {
        free(grown->what);
        free(grown->message);
        goto oom;
    }
    out->n++;
    rc = 0;
    goto out;
oom:
    err_set(e, "out of memory");
out:
    buf_release(&what);
    buf_release(&msg);
    reach_result_release(&res);
    return rc;
}

static int diff_namespace(struct ns_diff *d, struct diff_result *out, struct err *e)
{
    const struct compose_input *ins[2] = {d->base, d->head};
    size_t i;

    if (podclass_split(d->pol, ins, 2, d->ns, DIFF_MAX_CLASSES, &d->classes, e) < 0)
        return -1;
    if (!(d->cls = calloc(d->classes.n, sizeof(*d->cls))))
        return err_set(e, "out of memory");
    for (i = 0; i < d->classes.n; i++) {
        d->cls[i].pods = d->classes.sels[i];
        compose_eval_init(&d->cls[i].base);
        compose_eval_init(&d->cls[i].head);
    }
    for (i = 0; i < d->classes.n; i++)
        if (compare_class(d, i, e) < 0)
            return -1;
    for (i = 0; i < d->n_ch; i++)
        if (push(out, d, &d->ch[i], e) < 0)
            return -1;
    return 0;
}

int diff_evaluate(const struct policy *pol, const struct compose_input *base,
                  const struct compose_input *head, const char *const *names, size_t n_names,
                  struct diff_result *out, struct err *e)
{
    size_t i;

    for (i = 0; i < n_names; i++) {
        const char *ns = names[i];
        const json_t *bl = base->namespaces ? nsdb_labels(base->namespaces, ns) : NULL;
        const json_t *hl = head->namespaces ? nsdb_labels(head->namespaces, ns) : NULL;
        struct ns_diff d = {.pol = pol, .ns = ns, .base = base, .head = head};
        int rc;

        if (!policy_ns_is_ai(pol, ns, bl) && !policy_ns_is_ai(pol, ns, hl))
            continue;
        podclass_list_init(&d.classes);
        rc = diff_namespace(&d, out, e);
        ns_diff_release(&d);
        if (rc < 0)
            return -1;
    }
    return 0;
}
