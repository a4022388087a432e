#include "policy/eval/context.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/base/buf.h"
#include "policy/sets/cidr.h"
#include "policy/sets/portset.h"

/* The most the lists in a note may take (policy names, what escapes): cut with "..." there. */
#define CONTEXT_TEXT_CAP ((size_t)8192)

bool context_applies(const struct policy *pol, const struct compose_input *in,
                     const struct egress_model *m)
{
    const json_t *labels;

    if (!in || !m->governs_egress || m->host_policy || !m->ns)
        return false;
    labels = in->namespaces ? nsdb_labels(in->namespaces, m->ns) : NULL;
    /* Every pod of an AI namespace is an AI workload: the composition is about all of them. */
    return policy_ns_is_ai(pol, m->ns, labels);
}

static bool same_object(const struct compose_policy *p, void *arg)
{
    return compose_same_object(p, arg);
}

int context_compose(const struct policy *pol, const struct compose_input *in,
                    const struct compose_policy *self, const struct egress_model *m,
                    struct compose_eval *out, struct err *e)
{
    struct compose_subject s = {.ns = m->ns, .pods = m->pod_sel, .self = m};

    return compose_eval_run(pol, in, self, 1, same_object, (void *)self, &s, out, e);
}

/* Is x (an escape of the composition) one of m's own? */
static bool is_mine(const struct compose_eval *ev, const struct reach_escape *x,
                    const struct egress_model *m)
{
    const struct compose_part *p = compose_part_of(ev, x->model);

    return p && p->model == m;
}

/*
 * Is escape a no larger than escape b? Addresses compare as sets; other destinations by what
 * reach.c says of them, which a text cut at its cap cannot tell: then they are not the same.
 */
static bool escape_within(const struct reach_escape *a, const struct reach_escape *b)
{
    if (!portset_subset(a->ports, b->ports))
        return false;
    if (a->cidrs)
        return b->cidrs && cidrset_subset(a->cidrs, b->cidrs);
    return !a->cut && !b->cut && !strcmp(a->what, b->what);
}

/* The other policies of the composition that take something away (deny, pass, or an order). */
static void takers(const struct compose_eval *ev, const struct compose_policy *self,
                   struct buf *out)
{
    size_t i, k, n = 0;

    for (i = 0; i < ev->n_parts; i++) {
        const struct compose_part *p = &ev->parts[i];
        bool takes = p->model->ordered;
        char name[800];

        if (p->policy == self || p->applies != TRI_TRUE)
            continue;
        for (k = 0; k < p->model->n_rules && !takes; k++)
            takes = p->model->rules[k].action == EGRESS_DENY;
        if (!takes)
            continue;
        compose_policy_name(p->policy, name, sizeof(name));
        buf_printf(out, "%s%s", n++ ? ", " : "", name);
    }
    if (!n)
        buf_puts(out, "the other policies that apply to these pods");
}

int context_judge_model(const struct policy *pol, const struct object *obj,
                        const struct compose_input *in, const struct compose_policy *self,
                        const struct egress_model *m, const struct reach_result *alone,
                        const char *why, struct verdict *v, struct err *e)
{
    struct compose_eval ev;
    struct buf taken;
    size_t i, n_taken = 0;
    int rc = -1;

    compose_eval_init(&ev);
    buf_init_cut(&taken, CONTEXT_TEXT_CAP, "...");
    if (context_compose(pol, in, self, m, &ev, e) < 0)
        goto out;
    for (i = 0; i < ev.res.n_escapes; i++) {
        const struct reach_escape *x = &ev.res.escapes[i];

        if (!is_mine(&ev, x, m))
            continue;
        if (verdict_add(v, obj, x->peer->node, "egress", pol->egress_mode, true,
                        x->peer->path ? x->peer->path : "", "%s%s%s%s", x->message,
                        *why ? " (AI workloads: " : "", why, *why ? ")" : "") < 0)
            goto oom;
        /* what escapes, as judge_report() records it (PolicyReports carry it) */
        if (x->what && !(v->findings[v->n_findings - 1].escapes = strdup(x->what)))
            goto oom;
    }
    for (i = 0; i < ev.res.n_notes; i++) {
        const struct reach_note *x = &ev.res.notes[i];
        const struct compose_part *p = compose_part_of(&ev, x->model);

        if (p && p->model == m &&
            verdict_add(v, obj, x->peer->node, "egress", pol->egress_mode, false,
                        x->peer->path ? x->peer->path : "", "%s", x->message) < 0)
            goto oom;
    }
    /* What the others take away from what the model opens outside the allow-list alone. */
    for (i = 0; alone && i < alone->n_escapes; i++) {
        const struct reach_escape *y = &alone->escapes[i], *x = NULL;
        size_t k;

        for (k = 0; k < ev.res.n_escapes && !x; k++)
            if (is_mine(&ev, &ev.res.escapes[k], m) && ev.res.escapes[k].peer == y->peer &&
                ev.res.escapes[k].rule == y->rule && ev.res.escapes[k].denied == y->denied)
                x = &ev.res.escapes[k];
        if (x && escape_within(y, x))
            continue;
        buf_printf(&taken, "%s%s", n_taken++ ? "; " : "", y->what);
    }
    if (n_taken) {
        struct buf who;
        int r;

        buf_init_cut(&who, CONTEXT_TEXT_CAP, "...");
        takers(&ev, self, &who);
        r = verdict_add(v, obj, NULL, "egress", pol->egress_mode, false, m->path ? m->path : "",
                        "judged with the other policies of %s that apply to these pods: %s take%s "
                        "away what it opens outside the allow-list alone (%s)",
                        m->ns, buf_str(&who), strchr(buf_str(&who), ',') ? "" : "s",
                        buf_str(&taken));
        buf_release(&who);
        if (r < 0)
            goto oom;
    }
    rc = 0;
    goto out;
oom:
    err_set(e, "out of memory");
out:
    buf_release(&taken);
    compose_eval_release(&ev);
    return rc;
}

static int removal_model(const struct policy *pol, const struct object *obj,
                         const struct compose_input *in, const struct compose_policy *old,
                         const struct compose_policy *repl, const struct egress_model *mo,
                         struct verdict *v, struct err *e)
{
    struct compose_subject s = {.ns = mo->ns, .pods = mo->pod_sel};
    struct compose_eval before, after;
    const char *verb = repl ? "changing" : "deleting";
    char name[800], other[800];
    size_t i;
    int rc = -1;

    compose_eval_init(&before);
    compose_eval_init(&after);
    compose_policy_name(old, name, sizeof(name));
    if (compose_eval_run(pol, in, old, 1, same_object, (void *)old, &s, &before, e) < 0 ||
        compose_eval_run(pol, in, repl, repl ? 1 : 0, same_object, (void *)old, &s, &after, e) <
            0)
        goto out;
    if (before.isolating && !after.isolating) {
        compose_policy_name(before.isolating->policy, other, sizeof(other));
        if (verdict_add(v, obj, NULL, "egress", pol->egress_mode, true, "",
                        "%s %s leaves its pods in %s without egress default deny (%s isolated "
                        "them): their egress would no longer be restricted",
                        verb, name, mo->ns, other) < 0)
            goto oom;
    }
    for (i = 0; i < after.res.n_escapes; i++) {
        const struct reach_escape *x = &after.res.escapes[i], *y;
        const struct compose_part *p = compose_part_of(&after, x->model);
        size_t k;

        if (!p || (repl && p->policy == repl))
            continue; /* the new object's own escapes: judged as a CREATE */
        y = NULL;
        for (k = 0; k < before.res.n_escapes && !y; k++) {
            const struct compose_part *q = compose_part_of(&before, before.res.escapes[k].model);

            if (q && q->model == p->model && before.res.escapes[k].peer == x->peer)
                y = &before.res.escapes[k];
        }
        if (y && escape_within(x, y))
            continue;
        compose_policy_name(p->policy, other, sizeof(other));
        if (verdict_add(v, obj, NULL, "egress", pol->egress_mode, true, "",
                        "%s %s widens the egress of its pods in %s beyond the allow-list: with it "
                        "gone, %s: %s",
                        verb, name, mo->ns, other, x->message) < 0)
            goto oom;
    }
    rc = 0;
    goto out;
oom:
    err_set(e, "out of memory");
out:
    compose_eval_release(&before);
    compose_eval_release(&after);
    return rc;
}

int context_judge_removal(const struct policy *pol, const struct object *obj,
                          const struct compose_input *in, const struct compose_policy *old,
                          const struct compose_policy *repl, struct verdict *v, struct err *e)
{
    size_t i;
    bool unjudged = false;

    if (!old->models)
        return 0; /* unreadable: it opened and restricted nothing */
    for (i = 0; i < old->models->n; i++) {
        const struct egress_model *mo = &old->models->models[i];

        if (!mo->governs_egress || mo->host_policy)
            continue;
        if (!context_applies(pol, in, mo)) {
            unjudged |= !mo->ns;
            continue;
        }
        if (removal_model(pol, obj, in, old, repl, mo, v, e) < 0)
            return -1;
    }
    if (unjudged &&
        verdict_add(v, obj, NULL, "egress", pol->egress_mode, false, "",
                    "the change of a cluster-wide policy is not judged in context: the "
                    "namespaces it reaches are not all known") < 0)
        return err_set(e, "out of memory");
    return 0;
}
