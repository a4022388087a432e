#include "policy/eval/opening.h"

#include <stdlib.h>
#include <string.h>

#include "policy/selector/selsubset.h"
#include "policy/sets/fqdn.h"

void opening_list_init(struct opening_list *l)
{
    memset(l, 0, sizeof(*l));
}

static void opening_release(struct opening *o)
{
    egress_peer_release(&o->peer);
    portset_free(o->ports);
    o->ports = NULL;
}

void opening_list_release(struct opening_list *l)
{
    size_t i;

    if (!l)
        return;
    for (i = 0; i < l->n; i++)
        opening_release(&l->items[i]);
    free(l->items);
    opening_list_init(l);
}

static struct opening *list_push(struct opening_list *l)
{
    if (l->n == l->alloc) {
        size_t na = l->alloc ? l->alloc * 2 : 8;
        struct opening *p;

        if (na > ((size_t)-1) / sizeof(*p))
            return NULL;
        p = realloc(l->items, na * sizeof(*p));
        if (!p)
            return NULL;
        l->items = p;
        l->alloc = na;
    }
    memset(&l->items[l->n], 0, sizeof(l->items[0]));
    return &l->items[l->n++];
}

/* Appends (peer, ports) with a deep copy of both; 0 or -1 on OOM. */
static int list_add(struct opening_list *l, const struct egress_peer *peer,
                    const struct portset *ports, const struct egress_model *m,
                    const struct egress_rule *r, const struct egress_peer *orig)
{
    struct opening *o = list_push(l);

    if (!o)
        return -1;
    o->model = m;
    o->rule = r;
    o->orig = orig;
    if (egress_peer_copy(&o->peer, peer) < 0)
        goto fail;
    o->ports = portset_dup(ports);
    if (!o->ports)
        goto fail;
    return 0;
fail:
    opening_release(o);
    l->n--;
    return -1;
}

bool opening_ns_selects(const struct selector *s, const char *name, const json_t *labels)
{
    json_t *known;
    bool yes;

    if (!s || selector_is_all(s))
        return true;
    if (labels)
        return selector_matches(s, labels);
    known = json_pack("{s:s}", "kubernetes.io/metadata.name", name);
    if (!known)
        return false; /* not proven */
    yes = selector_eval(s, known, false) == TRI_TRUE;
    json_decref(known);
    return yes;
}

/* a ⊆ b with NULL meaning all(). */
static bool sel_subset(const struct selector *a, const struct selector *b)
{
    if (!b || selector_is_all(b))
        return true;
    if (!a)
        return false;
    return selector_subset(a, b);
}

bool opening_cluster_subset(const struct cluster_peer *a, const struct cluster_peer *b)
{
    if (!sel_subset(a->pod_sel, b->pod_sel))
        return false;
    if (b->ns_name)
        return a->ns_name && strcmp(a->ns_name, b->ns_name) == 0;
    if (a->ns_name)
        return opening_ns_selects(b->ns_sel, a->ns_name, NULL);
    return sel_subset(a->ns_sel, b->ns_sel);
}

enum minus { MINUS_KEEP, MINUS_EMPTY, MINUS_CHANGED };

/*
 * out = a − d where that is provable. MINUS_KEEP: nothing provably removed (out untouched);
 * MINUS_EMPTY: nothing remains; MINUS_CHANGED: out (a fresh peer) holds what remains. -1 on OOM.
 */
static int peer_minus(const struct egress_peer *a, const struct egress_peer *d, bool ip,
                      struct egress_peer *out)
{
    size_t i;

    if (d->kind == PEER_ALL)
        return MINUS_EMPTY;
    if (ip && d->kind == PEER_CIDR && d->cidrs) {
        /*
         * The deny matches by address whatever holds it (model.cidrs_match_all): every
         * destination has an address, so a deny of every address takes everything, and
         * "everything" less some addresses is the other addresses.
         */
        if (cidrset_is_all(d->cidrs, 0))
            return MINUS_EMPTY;
        if (a->kind == PEER_ALL) {
            struct egress_peer all = *a;
            int rc;

            all.kind = PEER_CIDR;
            if (!(all.cidrs = cidrset_new()) || cidrset_add_all(all.cidrs, 0) < 0) {
                cidrset_free(all.cidrs);
                return -1;
            }
            rc = peer_minus(&all, d, false, out);
            if (rc == MINUS_KEEP)
                rc = egress_peer_copy(out, &all) < 0 ? -1 : MINUS_CHANGED;
            cidrset_free(all.cidrs);
            return rc;
        }
    }
    switch (a->kind) {
    case PEER_CIDR:
        if (d->kind != PEER_CIDR || !d->cidrs || !a->cidrs)
            return MINUS_KEEP;
        if (cidrset_subset(a->cidrs, d->cidrs))
            return MINUS_EMPTY;
        {
            struct cidrset *probe = cidrset_dup(a->cidrs);
            bool overlap;

            if (!probe || cidrset_intersect(probe, d->cidrs) < 0) {
                cidrset_free(probe);
                return -1;
            }
            overlap = !cidrset_is_empty(probe);
            cidrset_free(probe);
            if (!overlap)
                return MINUS_KEEP;
        }
        if (egress_peer_copy(out, a) < 0)
            return -1;
        if (cidrset_subtract(out->cidrs, d->cidrs) < 0) {
            egress_peer_release(out);
            return -1;
        }
        return MINUS_CHANGED;
    case PEER_FQDN: {
        size_t keep = 0;

        if (d->kind != PEER_FQDN)
            return MINUS_KEEP;
        for (i = 0; i < a->n_fqdns; i++)
            if (!fqdn_subset_of_any(a->fqdns[i], (const char *const *)d->fqdns, d->n_fqdns))
                keep++;
        if (keep == a->n_fqdns)
            return MINUS_KEEP;
        if (!keep)
            return MINUS_EMPTY;
        if (egress_peer_copy(out, a) < 0)
            return -1;
        keep = 0;
        for (i = 0; i < out->n_fqdns; i++) {
            if (fqdn_subset_of_any(out->fqdns[i], (const char *const *)d->fqdns, d->n_fqdns))
                free(out->fqdns[i]);
            else
                out->fqdns[keep++] = out->fqdns[i];
        }
        out->n_fqdns = keep;
        return MINUS_CHANGED;
    }
    case PEER_CLUSTER:
        if (d->kind == PEER_CLUSTER && opening_cluster_subset(&a->cluster, &d->cluster))
            return MINUS_EMPTY;
        /* Cilium's `cluster` entity is every in-cluster endpoint. */
        if (d->kind == PEER_ENTITY && d->entity && strcmp(d->entity, "cluster") == 0)
            return MINUS_EMPTY;
        return MINUS_KEEP;
    case PEER_ENTITY:
        if (d->kind == PEER_ENTITY && a->entity && d->entity && strcmp(a->entity, d->entity) == 0)
            return MINUS_EMPTY;
        if (a->entity && strcmp(a->entity, "world") == 0 && d->kind == PEER_CIDR && d->cidrs &&
            cidrset_is_all(d->cidrs, 0))
            return MINUS_EMPTY;
        return MINUS_KEEP;
    case PEER_ALL:
    case PEER_UNKNOWN:
        return MINUS_KEEP;
    }
    return MINUS_KEEP;
}

/*
 * peer_minus() for "what surely stays": what it cannot prove the deny leaves is taken too. Only
 * CIDRs from CIDRs (and, matching by address, the addresses "everything" keeps) are exact.
 */
static int peer_minus_all(const struct egress_peer *a, const struct egress_peer *d, bool ip,
                          struct egress_peer *out)
{
    int r = peer_minus(a, d, ip, out);

    if (r < 0 || r == MINUS_EMPTY)
        return r;
    if (a->kind == PEER_CIDR && d->kind == PEER_CIDR && a->cidrs && d->cidrs)
        return r; /* exact either way: the remainder, or no address in common */
    if (r == MINUS_CHANGED && out->kind == PEER_CIDR && a->kind == PEER_ALL)
        return r; /* every address outside the deny's, by address (model.cidrs_match_all) */
    if (r == MINUS_CHANGED)
        egress_peer_release(out);
    return MINUS_EMPTY;
}

static int subtract_peer(struct opening_list *l, const struct egress_peer *d,
                         const struct portset *pd, bool ip, bool all);

int opening_list_subtract(struct opening_list *l, const struct egress_peer *d,
                          const struct portset *pd)
{
    return subtract_peer(l, d, pd, false, false);
}

int opening_list_subtract_all(struct opening_list *l, const struct egress_peer *d,
                              const struct portset *pd, bool ip)
{
    return subtract_peer(l, d, pd, ip, true);
}

int opening_list_append(struct opening_list *l, const struct opening *o)
{
    return list_add(l, &o->peer, o->ports, o->model, o->rule, o->orig);
}

static int subtract_peer(struct opening_list *l, const struct egress_peer *d,
                         const struct portset *pd, bool ip, bool all)
{
    size_t i, n0 = l->n, w;
    int rc = 0;

    for (i = 0; i < n0; i++) {
        struct opening *o = &l->items[i];
        struct portset *inter = NULL, *rest = NULL;
        struct egress_peer remain;
        int r;

        if (!o->ports)
            continue; /* dropped earlier in this pass */
        inter = portset_dup(o->ports);
        if (!inter || portset_intersect(inter, pd) < 0)
            goto oom;
        if (portset_is_empty(inter)) {
            portset_free(inter);
            continue;
        }
        memset(&remain, 0, sizeof(remain));
        r = all ? peer_minus_all(&o->peer, d, ip, &remain) : peer_minus(&o->peer, d, ip, &remain);
        if (r < 0)
            goto oom;
        if (r == MINUS_KEEP) {
            portset_free(inter);
            continue;
        }
        rest = portset_dup(o->ports);
        if (!rest || portset_subtract(rest, pd) < 0) {
            egress_peer_release(&remain);
            goto oom;
        }
        if (!portset_is_empty(rest)) {
            /*
             * A × (Pa − Pd) keeps the whole peer; appended after n0, so this deny skips it. The
             * peer is passed as a shallow copy: list_add may move the array o points into before
             * it copies the peer (what the peer points to does not move).
             */
            struct egress_peer whole = o->peer;

            if (list_add(l, &whole, rest, o->model, o->rule, o->orig) < 0) {
                egress_peer_release(&remain);
                goto oom;
            }
            o = &l->items[i]; /* list_add may have moved the array */
        }
        portset_free(rest);
        rest = NULL;
        if (r == MINUS_EMPTY || (remain.kind == PEER_CIDR && cidrset_is_empty(remain.cidrs))) {
            egress_peer_release(&remain);
            opening_release(o);
            portset_free(inter);
            continue;
        }
        egress_peer_release(&o->peer);
        o->peer = remain;
        portset_free(o->ports);
        o->ports = inter;
        continue;
    oom:
        portset_free(inter);
        portset_free(rest);
        rc = -1;
        break;
    }
    /* Compact: released openings have ports == NULL. */
    for (i = w = 0; i < l->n; i++) {
        if (!l->items[i].ports) {
            egress_peer_release(&l->items[i].peer);
            continue;
        }
        if (w != i)
            l->items[w] = l->items[i];
        w++;
    }
    l->n = w;
    return rc;
}

/* Adds every peer × ports of allow rule r of m. */
static int add_rule(struct opening_list *l, const struct egress_model *m,
                    const struct egress_rule *r)
{
    size_t j;

    if (!r->ports || portset_is_empty(r->ports))
        return 0;
    for (j = 0; j < r->n_peers; j++) {
        const struct egress_peer *p = &r->peers[j];

        if (p->kind == PEER_CIDR && (!p->cidrs || cidrset_is_empty(p->cidrs)))
            continue;
        if (p->kind == PEER_FQDN && !p->n_fqdns)
            continue;
        if (list_add(l, p, r->ports, m, r, p) < 0)
            return -1;
    }
    return 0;
}

/* ip: the rule's model matches CIDRs on every endpoint's address (cidrs_match_all). */
static int subtract_rule(struct opening_list *l, const struct egress_rule *r, bool ip)
{
    size_t j;

    if (!r->ports)
        return 0;
    for (j = 0; j < r->n_peers; j++)
        if (subtract_peer(l, &r->peers[j], r->ports, ip, false) < 0)
            return -1;
    return 0;
}

/* Does rule r of m open what it matches (an allow, or a pass that hands traffic on)? */
static bool opens(const struct egress_model *m, const struct egress_rule *r)
{
    return r->action == EGRESS_ALLOW || (r->action == EGRESS_PASS && m->pass_opens);
}

/* Unordered: allows of every model, minus denies of every model, minus each model's passes. */
static int build_unordered(const struct egress_model *const *models, size_t n,
                           struct opening_list *out)
{
    size_t i, k;

    for (i = 0; i < n; i++) {
        struct opening_list mine;
        const struct egress_model *m = models[i];
        struct opening *grown;

        opening_list_init(&mine);
        for (k = 0; k < m->n_rules; k++)
            if (opens(m, &m->rules[k]) && add_rule(&mine, m, &m->rules[k]) < 0)
                goto fail;
        for (k = 0; k < m->n_rules; k++)
            if (m->rules[k].action == EGRESS_PASS && !m->pass_opens &&
                subtract_rule(&mine, &m->rules[k], m->cidrs_match_all) < 0)
                goto fail;
        for (k = 0; k < n; k++) {
            size_t r;

            for (r = 0; r < models[k]->n_rules; r++)
                if (models[k]->rules[r].action == EGRESS_DENY &&
                    subtract_rule(&mine, &models[k]->rules[r], models[k]->cidrs_match_all) < 0)
                    goto fail;
        }
        if (out->n + mine.n > out->alloc) {
            grown = realloc(out->items, (out->n + mine.n) * sizeof(*grown));
            if (!grown)
                goto fail;
            out->items = grown;
            out->alloc = out->n + mine.n;
        }
        if (mine.n)
            memcpy(&out->items[out->n], mine.items, mine.n * sizeof(*grown));
        out->n += mine.n;
        free(mine.items);
        continue;
    fail:
        opening_list_release(&mine);
        return -1;
    }
    return 0;
}

struct ranked {
    const struct egress_model *m;
    size_t idx; /* position in the caller's array, to keep the sort stable */
};

static int cmp_order(const void *a, const void *b)
{
    const struct ranked *x = a, *y = b;

    if (x->m->layer != y->m->layer)
        return x->m->layer < y->m->layer ? -1 : 1;

    if (x->m->has_order != y->m->has_order)
        return x->m->has_order ? -1 : 1;
    if (x->m->has_order && x->m->order != y->m->order)
        return x->m->order < y->m->order ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* A rule that takes traffic away from later ones, with how its CIDRs match. */
struct taker {
    const struct egress_rule *r;
    const struct egress_model *m;
    bool ip;
};

/*
 * Does a rule of model d, earlier in the sorted order, come before the rules of model a for
 * every packet? Layers are in a known order (admin, namespace, baseline), and so are the
 * policies of one Calico tier; two tiers are in the order of their Tier objects, which is not
 * known here (egress.h), so one takes nothing from the other.
 */
static bool comes_before(const struct egress_model *d, const struct egress_model *a)
{
    if (d->layer != a->layer)
        return true;
    if (!d->tier || !a->tier)
        return !d->tier && !a->tier;
    return strcmp(d->tier, a->tier) == 0;
}

/*
 * Ordered: every opening rule (allow, or a pass that hands traffic on) minus every earlier deny
 * (any model) and earlier pass that does not open (same model). Denies are kept as a list of
 * rules so each allow is reduced by exactly what precedes it.
 */
static int build_ordered(const struct ranked *sorted, size_t n, struct opening_list *out)
{
    struct taker *denies = NULL;
    size_t n_denies = 0, total = 0, i, k, d;
    int rc = -1;

    for (i = 0; i < n; i++)
        total += sorted[i].m->n_rules;
    if (total) {
        denies = malloc(total * sizeof(*denies));
        if (!denies)
            return -1;
    }
    for (i = 0; i < n; i++) {
        const struct egress_model *m = sorted[i].m;
        /*
         * One array holds the denies seen so far followed by this model's passes; the passes
         * are forgotten when the model ends (a pass only ends its own policy's say).
         */
        struct taker *passes = denies ? denies + n_denies : NULL;
        size_t n_passes = 0;

        for (k = 0; k < m->n_rules; k++) {
            const struct egress_rule *r = &m->rules[k];
            struct opening_list mine;

            if (opens(m, r)) {
                opening_list_init(&mine);
                if (add_rule(&mine, m, r) < 0)
                    goto fail_mine;
                for (d = 0; d < n_denies; d++)
                    if (comes_before(denies[d].m, m) &&
                        subtract_rule(&mine, denies[d].r, denies[d].ip) < 0)
                        goto fail_mine;
                for (d = 0; d < n_passes; d++)
                    if (subtract_rule(&mine, passes[d].r, passes[d].ip) < 0)
                        goto fail_mine;
                for (d = 0; d < mine.n; d++) {
                    struct opening *o = list_push(out);

                    if (!o)
                        goto fail_mine;
                    *o = mine.items[d];
                    memset(&mine.items[d], 0, sizeof(mine.items[d]));
                }
                opening_list_release(&mine);
                continue;
            fail_mine:
                opening_list_release(&mine);
                goto out;
            }
            if (r->action == EGRESS_DENY) {
                /* keep passes after denies: shift them up by one */
                memmove(passes + 1, passes, n_passes * sizeof(*passes));
                denies[n_denies].r = r;
                denies[n_denies].m = m;
                denies[n_denies++].ip = m->cidrs_match_all;
                passes++;
            } else if (r->action == EGRESS_PASS) {
                passes[n_passes].r = r;
                passes[n_passes].m = m;
                passes[n_passes++].ip = m->cidrs_match_all;
            }
        }
    }
    rc = 0;
out:
    free(denies);
    return rc;
}

int opening_list_build(const struct egress_model *const *models, size_t n,
                       struct opening_list *out, struct err *e)
{
    const struct egress_model **unordered = NULL;
    struct ranked *ordered = NULL;
    size_t nu = 0, no = 0, i;
    int rc = -1;

    if (n) {
        unordered = malloc(n * sizeof(*unordered));
        ordered = malloc(n * sizeof(*ordered));
        if (!unordered || !ordered)
            goto out;
    }
    for (i = 0; i < n; i++) {
        if (!models[i]->governs_egress)
            continue;
        if (models[i]->ordered) {
            ordered[no].m = models[i];
            ordered[no++].idx = i;
        } else
            unordered[nu++] = models[i];
    }
    if (build_unordered(unordered, nu, out) < 0)
        goto out;
    if (no > 1)
        qsort(ordered, no, sizeof(*ordered), cmp_order);
    if (build_ordered(ordered, no, out) < 0)
        goto out;
    rc = 0;
out:
    free(unordered);
    free(ordered);
    if (rc < 0)
        err_set(e, "out of memory");
    return rc;
}

int opening_list_build_one(const struct egress_model *m, struct opening_list *out,
                           struct err *e)
{
    const struct egress_model *one[1];

    one[0] = m;
    return opening_list_build(one, 1, out, e);
}
