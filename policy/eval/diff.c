#include "policy/eval/diff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/base/buf.h"
#include "policy/sets/portset.h"

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

/* One side (BASE or HEAD) of one namespace: its subjects composed. */
struct side {
    const struct compose_input *in;
    struct compose_subject *subj;
    struct compose_eval *evs;
    size_t n;
    bool unrestricted; /* some subject is not isolated: every destination is open */
};

static void side_release(struct side *s)
{
    size_t i;

    for (i = 0; s->evs && i < s->n; i++)
        compose_eval_release(&s->evs[i]);
    free(s->evs);
    free(s->subj);
    memset(s, 0, sizeof(*s));
}

static int side_build(const struct policy *pol, const struct compose_input *in, const char *ns,
                      struct side *s, struct err *e)
{
    size_t i, k = 0, n = 0;

    memset(s, 0, sizeof(*s));
    s->in = in;
    for (i = 0; i < in->n_workloads; i++)
        n += !strcmp(in->workloads[i].ns, ns);
    s->n = n ? n : 1;
    if (!(s->subj = calloc(s->n, sizeof(*s->subj))) || !(s->evs = calloc(s->n, sizeof(*s->evs))))
        return err_set(e, "out of memory");
    for (i = 0; i < s->n; i++) {
        s->subj[i].ns = ns;
        if (n) {
            while (strcmp(in->workloads[k].ns, ns))
                k++;
            s->subj[i].workload = &in->workloads[k++];
        }
        compose_eval_init(&s->evs[i]);
        if (compose_eval_run(pol, in, NULL, 0, NULL, NULL, &s->subj[i], &s->evs[i], e) < 0)
            return -1;
        s->unrestricted |= !s->evs[i].isolating;
    }
    return 0;
}

/* A deep copy of o as the only opening of l. */
static int copy_one(struct opening_list *l, const struct opening *o)
{
    struct opening *c;

    if (!(l->items = calloc(1, sizeof(*l->items))))
        return -1;
    l->alloc = 1;
    c = &l->items[0];
    *c = *o;
    memset(&c->peer, 0, sizeof(c->peer));
    c->ports = NULL;
    l->n = 1;
    if (egress_peer_copy(&c->peer, &o->peer) < 0 || !(c->ports = portset_dup(o->ports))) {
        opening_list_release(l);
        return -1;
    }
    return 0;
}

static bool seen_before(const struct diff_result *out, bool added,
                        const struct compose_policy *p, const struct egress_peer *peer,
                        const char *what)
{
    size_t i;

    for (i = 0; i < out->n; i++)
        if (out->items[i].added == added && out->items[i].policy == p &&
            out->items[i].peer == peer && !strcmp(out->items[i].what, what))
            return true;
    return false;
}

static int push(struct diff_result *out, const char *ns, bool added,
                const struct compose_policy *p, const struct egress_peer *peer, char *what,
                bool outside, char *message)
{
    struct diff_change *grown;

    if (!what || !message) {
        free(what);
        free(message);
        return -1;
    }
    if (seen_before(out, added, p, peer, what)) {
        free(what);
        free(message);
        return 0;
    }
    if (!(grown = realloc(out->items, (out->n + 1) * sizeof(*grown)))) {
        free(what);
        free(message);
        return -1;
    }
    out->items = grown;
    grown[out->n++] = (struct diff_change){ns, added, p, peer, what, outside, message};
    return 0;
}

/* What of `mine` the other side does not open, change by change, into out. */
static int compare(const struct policy *pol, const char *ns, const struct side *mine,
                   const struct side *other, bool added, struct diff_result *out,
                   struct err *e)
{
    size_t i, k, j, q;

    if (other->unrestricted)
        return 0; /* everything was (or stays) open there */
    for (i = 0; i < mine->n; i++) {
        const struct compose_eval *ev = &mine->evs[i];

        for (k = 0; k < ev->ops.n; k++) {
            const struct opening *o = &ev->ops.items[k];
            const struct compose_part *part = compose_part_of(ev, o->model);
            struct opening_list rest;
            struct reach_result res;

            opening_list_init(&rest);
            reach_result_init(&res);
            if (copy_one(&rest, o) < 0)
                return err_set(e, "out of memory");
            for (j = 0; j < other->n && rest.n; j++)
                for (q = 0; q < other->evs[j].ops.n && rest.n; q++)
                    if (opening_list_subtract(&rest, &other->evs[j].ops.items[q].peer,
                                              other->evs[j].ops.items[q].ports) < 0)
                        goto oom;
            if (added && rest.n && reach_check(pol, ns, &rest, &res, e) < 0)
                goto fail;
            for (j = 0; j < rest.n; j++) {
                struct buf what, msg;
                bool outside = added && res.n_escapes;

                buf_init(&what, 0);
                buf_init(&msg, 0);
                egress_peer_format(&rest.items[j].peer, &what);
                buf_puts(&what, " on ");
                portset_format(rest.items[j].ports, &what);
                if (added && outside)
                    buf_printf(&msg, "%s: adds egress outside the allow-list: %s", ns,
                               res.escapes[0].message);
                else if (added)
                    buf_printf(&msg, "%s: adds egress to %s (inside the allow-list)", ns,
                               buf_str(&what));
                else
                    buf_printf(&msg, "%s: removes egress to %s", ns, buf_str(&what));
                if (push(out, ns, added, part ? part->policy : NULL, o->orig,
                         buf_detach(&what, NULL), outside, buf_detach(&msg, NULL)) < 0)
                    goto oom;
            }
            reach_result_release(&res);
            opening_list_release(&rest);
            continue;
        oom:
            err_set(e, "out of memory");
        fail:
            reach_result_release(&res);
            opening_list_release(&rest);
            return -1;
        }
    }
    return 0;
}

/* Workloads whose isolation differs: they gain (or lose) every destination. */
static int isolation(const struct policy *pol, const char *ns, const struct side *base,
                     const struct side *head, struct diff_result *out, struct err *e)
{
    const struct side *s = head->unrestricted ? head : base;
    bool added = head->unrestricted;
    struct buf who, msg;
    size_t i, n = 0;
    bool outside = false;

    if (head->unrestricted == base->unrestricted)
        return 0;
    buf_init(&who, 0);
    for (i = 0; i < s->n; i++) {
        if (s->evs[i].isolating)
            continue;
        if (n++)
            buf_puts(&who, ", ");
        if (s->subj[i].workload)
            buf_printf(&who, "%s/%s", s->subj[i].workload->kind, s->subj[i].workload->name);
        else
            buf_puts(&who, "the pods of the namespace");
    }
    if (added) {
        /* Every destination is inside only when the allow-list holds every address. */
        struct cidrset *all = cidrset_dup(pol->deny_cidrs);

        for (i = 0; all && i < pol->n_allow; i++)
            if (portset_is_all(pol->allow[i].ports) &&
                cidrset_union(all, pol->allow[i].cidrs) < 0) {
                cidrset_free(all);
                all = NULL;
            }
        if (!all) {
            buf_release(&who);
            return err_set(e, "out of memory");
        }
        outside = !cidrset_is_all(all, 0);
        cidrset_free(all);
    }
    buf_init(&msg, 0);
    if (added)
        buf_printf(&msg,
                   "%s: adds every destination: no policy with egress default deny selects %s "
                   "any more",
                   ns, buf_str(&who));
    else
        buf_printf(&msg,
                   "%s: removes unrestricted egress: %s now selected by a policy with egress "
                   "default deny",
                   ns, buf_str(&who));
    buf_release(&who);
    return push(out, ns, added, NULL, NULL, strdup("every destination"), outside,
                buf_detach(&msg, NULL)) < 0
               ? err_set(e, "out of memory")
               : 0;
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
        struct side b, h;
        int rc;

        memset(&b, 0, sizeof(b));
        memset(&h, 0, sizeof(h));
        if (!policy_ns_is_ai(pol, ns, bl) && !policy_ns_is_ai(pol, ns, hl))
            continue;
        rc = side_build(pol, base, ns, &b, e) < 0 || side_build(pol, head, ns, &h, e) < 0 ||
                     isolation(pol, ns, &b, &h, out, e) < 0 ||
                     compare(pol, ns, &h, &b, true, out, e) < 0 ||
                     compare(pol, ns, &b, &h, false, out, e) < 0
                 ? -1
                 : 0;
        side_release(&b);
        side_release(&h);
        if (rc < 0)
            return -1;
    }
    return 0;
}
