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
    if (o->own_peer)
        egress_peer_release(&o->peer);
    if (o->own_ports)
        portset_free(o->ports);
    memset(&o->peer, 0, sizeof(o->peer));
    o->ports = NULL;
    o->own_peer = o->own_ports = false;
}

void opening_list_release(struct opening_list *l)
{
    struct budget *b;
    size_t i;

    if (!l)
        return;
    b = l->budget;
    for (i = 0; i < l->n; i++)
        opening_release(&l->items[i]);
    free(l->items);
    opening_list_init(l);
    l->budget = b;
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

/*
 * Appends an opening of `peer` (borrowed when own_peer is false, else deep-copied) on `ports`
 * (taken: freed here on failure). 0 or -1 on OOM.
 */
static int list_add(struct opening_list *l, const struct egress_peer *peer, bool own_peer,
                    struct portset *ports, const struct egress_model *m,
                    const struct egress_rule *r, const struct egress_peer *orig)
{
    struct opening *o = list_push(l);

    if (!o) {
        portset_free(ports);
        return -1;
    }
    o->model = m;
    o->rule = r;
    o->orig = orig;
    o->ports = ports;
    o->own_ports = true;
    if (!own_peer) {
        o->peer = *peer;
    } else {
        if (egress_peer_copy(&o->peer, peer) < 0) {
            opening_release(o);
            l->n--;
            return -1;
        }
        o->own_peer = true;
    }
    return 0;
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
        if (!cidrset_overlaps(a->cidrs, d->cidrs))
            return MINUS_KEEP;
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

/* What visiting an opening costs: one, plus the intervals of its addresses and ports. */
static unsigned long long weight(const struct opening *o)
{
    const struct egress_peer *p = &o->peer;

    return 1 + (p->kind == PEER_CIDR && p->cidrs ? cidrset_runs(p->cidrs) : 0) + p->n_fqdns +
           portset_runs(o->ports);
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
    struct portset *ports = portset_dup(o->ports);

    return ports ? list_add(l, &o->peer, true, ports, o->model, o->rule, o->orig) : -1;
}

/*
 * ip: d's model matches CIDRs on every endpoint's address (cidrs_match_all); all: take what d
 * may match (peer_minus_all) rather than what it surely matches.
 */
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
        if (!budget_spend(l->budget, weight(o)))
            goto oom;
        if (!portset_overlaps(o->ports, pd))
            continue;
        memset(&remain, 0, sizeof(remain));
        r = all ? peer_minus_all(&o->peer, d, ip, &remain) : peer_minus(&o->peer, d, ip, &remain);
        if (r < 0)
            goto oom;
        if (r == MINUS_KEEP)
            continue;
        inter = portset_dup(o->ports);
        rest = portset_dup(o->ports);
        if (!inter || !rest || portset_intersect(inter, pd) < 0 || portset_subtract(rest, pd) < 0) {
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

            if (list_add(l, &whole, o->own_peer, rest, o->model, o->rule, o->orig) < 0) {
                rest = NULL;
                egress_peer_release(&remain);
                goto oom;
            }
            rest = NULL;
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
        if (o->own_peer)
            egress_peer_release(&o->peer);
        o->peer = remain;
        o->own_peer = true;
        if (o->own_ports)
            portset_free(o->ports);
        o->ports = inter;
        o->own_ports = true;
        continue;
    oom:
        portset_free(inter);
        portset_free(rest);
        rc = -1;
        break;
    }
    /* Compact: released openings have ports == NULL. */
    for (i = w = 0; i < l->n; i++) {
        if (!l->items[i].ports)
            continue;
        if (w != i)
            l->items[w] = l->items[i];
        w++;
    }
    l->n = w;
    return rc;
}

/* Adds every peer × ports of allow rule r of m, borrowing both. */
static int add_rule(struct opening_list *l, const struct egress_model *m,
                    const struct egress_rule *r)
{
    size_t j;

    if (!r->ports || portset_is_empty(r->ports))
        return 0;
    for (j = 0; j < r->n_peers; j++) {
        const struct egress_peer *p = &r->peers[j];
        struct opening *o;

        if (p->kind == PEER_CIDR && (!p->cidrs || cidrset_is_empty(p->cidrs)))
            continue;
        if (p->kind == PEER_FQDN && !p->n_fqdns)
            continue;
        if (!budget_spend(l->budget, 1) || !(o = list_push(l)))
            return -1;
        o->peer = *p;
        o->ports = r->ports;
        o->model = m;
        o->rule = r;
        o->orig = p;
    }
    return 0;
}

/*
 * Deny (or pass) rules to take away, grouped by port set: within a group the CIDR peers are
 * taken away as one union, which is what taking them one by one gives (set difference does not
 * care about order) without visiting every opening once per peer. Other peers are taken one by
 * one, in their group, in the order they came.
 */
struct dgroup {
    const struct portset *ports;       /* borrowed: the rules' */
    bool ip;                           /* their models match CIDRs by address (subtract_peer) */
    const struct egress_model *m;      /* the first rule's model: its layer and tier are all
                                          the group's (same_place) */
    struct cidrset *cidrs;             /* owned union of the merged CIDR peers, or NULL */
    const struct cidrset **pending;    /* CIDR peers not merged into cidrs yet */
    size_t n_pending, a_pending;
    const struct egress_peer **others; /* every other peer */
    size_t n_others, a_others;
};

struct denyset {
    struct dgroup *g;
    size_t n, alloc;
};

static void denyset_release(struct denyset *ds)
{
    for (size_t i = 0; i < ds->n; i++) {
        cidrset_free(ds->g[i].cidrs);
        free(ds->g[i].pending);
        free(ds->g[i].others);
    }
    free(ds->g);
    memset(ds, 0, sizeof(*ds));
}

static int grow_ptrs(const void ***v, size_t *n, size_t *alloc)
{
    if (*n == *alloc) {
        size_t na = *alloc ? *alloc * 2 : 4;
        const void **p = realloc((void *)*v, na * sizeof(*p));

        if (!p)
            return -1;
        *v = p;
        *alloc = na;
    }
    return 0;
}

/* Do models a and b sit at the same place among ordered policies (layer, Calico tier)? */
static bool same_place(const struct egress_model *a, const struct egress_model *b)
{
    if (a->layer != b->layer)
        return false;
    if (!a->tier || !b->tier)
        return !a->tier && !b->tier;
    return strcmp(a->tier, b->tier) == 0;
}

/*
 * Does a rule of model d, earlier in the sorted order, come before the rules of model a for
 * every packet? Layers are in a known order (admin, namespace, baseline), and so are the
 * policies of one Calico tier; two tiers are in the order of their Tier objects, which is not
 * known here (egress.h), so one takes nothing from the other.
 */
static bool comes_before(const struct egress_model *d, const struct egress_model *a)
{
    return d->layer != a->layer || same_place(d, a);
}

/* Adds rule r of model m (ip: m->cidrs_match_all) to the group of its ports and place. */
static int denyset_add(struct denyset *ds, const struct egress_model *m,
                       const struct egress_rule *r, bool ip, struct budget *b)
{
    struct dgroup *g = NULL;

    if (!r->ports || portset_is_empty(r->ports))
        return 0;
    for (size_t i = 0; i < ds->n && !g; i++)
        if (ds->g[i].ip == ip && same_place(ds->g[i].m, m) &&
            portset_equal(ds->g[i].ports, r->ports))
            g = &ds->g[i];
    if (!budget_spend(b, 1 + ds->n + r->n_peers))
        return -1;
    if (!g) {
        if (ds->n == ds->alloc) {
            size_t na = ds->alloc ? ds->alloc * 2 : 4;
            struct dgroup *p = realloc(ds->g, na * sizeof(*p));

            if (!p)
                return -1;
            ds->g = p;
            ds->alloc = na;
        }
        g = &ds->g[ds->n++];
        memset(g, 0, sizeof(*g));
        g->ports = r->ports;
        g->ip = ip;
        g->m = m;
    }
    for (size_t j = 0; j < r->n_peers; j++) {
        const struct egress_peer *p = &r->peers[j];

        if (p->kind == PEER_CIDR && p->cidrs) {
            if (grow_ptrs((const void ***)&g->pending, &g->n_pending, &g->a_pending) < 0)
                return -1;
            g->pending[g->n_pending++] = p->cidrs;
        } else {
            if (grow_ptrs((const void ***)&g->others, &g->n_others, &g->a_others) < 0)
                return -1;
            g->others[g->n_others++] = p;
        }
    }
    return 0;
}

/* Merges a group's pending CIDR peers into its union, pairwise: O(total log peers). */
static int dgroup_flush(struct dgroup *g, struct budget *b)
{
    size_t n = g->n_pending + (g->cidrs != NULL), k = 0, total = 0;
    struct cidrset **sets;
    bool *own;
    int rc = -1;

    if (!g->n_pending)
        return 0;
    sets = malloc(n * sizeof(*sets));
    own = calloc(n, sizeof(*own));
    if (!sets || !own)
        goto out;
    if (g->cidrs) {
        sets[k] = g->cidrs;
        own[k++] = true;
        g->cidrs = NULL;
    }
    for (size_t i = 0; i < g->n_pending; i++) {
        sets[k++] = (struct cidrset *)g->pending[i]; /* read only until owned */
        total += cidrset_runs(g->pending[i]);
    }
    while (n > 1) {
        size_t half = 0;

        if (!budget_spend(b, total + n))
            goto out;
        for (size_t i = 0; i < n; i += 2) {
            struct cidrset *a = sets[i];
            bool oa = own[i];

            if (i + 1 < n) {
                if (!oa && !(a = cidrset_dup(a)))
                    goto out;
                if (cidrset_union(a, sets[i + 1]) < 0) {
                    if (!own[i])
                        cidrset_free(a);
                    goto out;
                }
                oa = true;
                if (own[i + 1])
                    cidrset_free(sets[i + 1]);
                own[i + 1] = false;
            }
            own[i] = false; /* moved to sets[half] (half <= i) */
            sets[half] = a;
            own[half++] = oa;
        }
        n = half;
    }
    if (!own[0] && !(sets[0] = cidrset_dup(sets[0])))
        goto out;
    own[0] = false;
    g->cidrs = sets[0];
    g->n_pending = 0;
    rc = 0;
out:
    for (size_t i = 0; rc < 0 && sets && own && i < n; i++)
        if (own[i])
            cidrset_free(sets[i]);
    free(sets);
    free(own);
    return rc;
}

/* Takes every group of ds away from l (for: only those that come before model `for`). */
static int denyset_subtract(struct denyset *ds, struct opening_list *l,
                            const struct egress_model *for_m)
{
    for (size_t i = 0; i < ds->n && l->n; i++) {
        struct dgroup *g = &ds->g[i];

        if (for_m && !comes_before(g->m, for_m))
            continue;
        if (dgroup_flush(g, l->budget) < 0)
            return -1;
        if (g->cidrs) {
            struct egress_peer union_peer;

            memset(&union_peer, 0, sizeof(union_peer));
            union_peer.kind = PEER_CIDR;
            union_peer.cidrs = g->cidrs;
            if (subtract_peer(l, &union_peer, g->ports, g->ip, false) < 0)
                return -1;
        }
        for (size_t j = 0; j < g->n_others; j++)
            if (subtract_peer(l, g->others[j], g->ports, g->ip, false) < 0)
                return -1;
    }
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
    struct denyset denies = {0};
    size_t i, k;
    int rc = -1;

    for (k = 0; k < n; k++)
        for (size_t r = 0; r < models[k]->n_rules; r++)
            if (models[k]->rules[r].action == EGRESS_DENY &&
                denyset_add(&denies, models[k], &models[k]->rules[r], models[k]->cidrs_match_all,
                            out->budget) < 0)
                goto out;
    for (i = 0; i < n; i++) {
        struct opening_list mine;
        struct denyset passes = {0};
        const struct egress_model *m = models[i];
        struct opening *grown;

        opening_list_init(&mine);
        mine.budget = out->budget;
        for (k = 0; k < m->n_rules; k++)
            if (opens(m, &m->rules[k]) && add_rule(&mine, m, &m->rules[k]) < 0)
                goto fail;
        for (k = 0; k < m->n_rules; k++)
            if (m->rules[k].action == EGRESS_PASS && !m->pass_opens &&
                denyset_add(&passes, m, &m->rules[k], m->cidrs_match_all, out->budget) < 0)
                goto fail;
        if (denyset_subtract(&passes, &mine, NULL) < 0 ||
            denyset_subtract(&denies, &mine, NULL) < 0)
            goto fail;
        denyset_release(&passes);
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
        denyset_release(&passes);
        opening_list_release(&mine);
        goto out;
    }
    rc = 0;
out:
    denyset_release(&denies);
    return rc;
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

/* May the rules a and b match a common packet (sound: true unless provably not)? */
static bool may_overlap(const struct egress_rule *a, const struct egress_rule *b)
{
    if (!portset_overlaps(a->ports, b->ports))
        return false;
    for (size_t i = 0; i < a->n_peers; i++)
        for (size_t j = 0; j < b->n_peers; j++)
            if (a->peers[i].kind != PEER_CIDR || b->peers[j].kind != PEER_CIDR ||
                cidrset_overlaps(a->peers[i].cidrs, b->peers[j].cidrs))
                return true;
    return false;
}

/*
 * Is deny r of an AdminNetworkPolicy shadowed by an earlier admin Pass (passes[0..n))? "Pass:
 * instructs the selected traffic to skip any remaining ANP rules, and then pass execution to any
 * NetworkPolicies that select the pod" (network-policy-api apis/v1alpha1/
 * adminnetworkpolicy_types.go, AdminNetworkPolicyEgressRule.Action): the passed traffic never
 * meets a later ANP deny, so such a deny may take from the NetworkPolicies' and the baseline's
 * allows only what no earlier Pass may have matched.
 */
static bool shadowed(const struct egress_rule *r, const struct egress_rule *const *passes,
                     size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (may_overlap(r, passes[i]))
            return true;
    return false;
}

/*
 * Ordered: every opening rule (allow, or a pass that hands traffic on) minus every earlier deny
 * (any model that comes before it: comes_before) and earlier pass that does not open (same
 * model). The denies seen so far are one
 * growing denyset; a model's passes are another, dropped when the model ends (a pass only ends
 * its own policy's say). An AdminNetworkPolicy deny that an earlier admin Pass may shadow
 * (shadowed()) goes to a third set, `late`, which takes from admin rules only: over the later
 * layers it takes nothing, which over-approximates what they open (never under).
 */
static int build_ordered(const struct ranked *sorted, size_t n, struct opening_list *out)
{
    struct denyset denies = {0}, passes = {0}, late = {0};
    const struct egress_rule **admin_passes = NULL;
    size_t i, k, d, n_admin_passes = 0, a_admin_passes = 0;
    int rc = -1;

    for (i = 0; i < n; i++) {
        const struct egress_model *m = sorted[i].m;

        denyset_release(&passes);
        for (k = 0; k < m->n_rules; k++) {
            const struct egress_rule *r = &m->rules[k];
            struct opening_list mine;

            if (opens(m, r)) {
                opening_list_init(&mine);
                mine.budget = out->budget;
                if (add_rule(&mine, m, r) < 0 || denyset_subtract(&denies, &mine, m) < 0 ||
                    (m->layer == LAYER_ADMIN && denyset_subtract(&late, &mine, m) < 0) ||
                    denyset_subtract(&passes, &mine, NULL) < 0)
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
            if (r->action == EGRESS_DENY &&
                denyset_add(m->layer == LAYER_ADMIN &&
                                    shadowed(r, admin_passes, n_admin_passes)
                                ? &late
                                : &denies,
                            m, r, m->cidrs_match_all, out->budget) < 0)
                goto out;
            if (r->action == EGRESS_PASS &&
                denyset_add(&passes, m, r, m->cidrs_match_all, out->budget) < 0)
                goto out;
            if (r->action == EGRESS_PASS && m->layer == LAYER_ADMIN) {
                if (grow_ptrs((const void ***)&admin_passes, &n_admin_passes,
                              &a_admin_passes) < 0)
                    goto out;
                admin_passes[n_admin_passes++] = r;
            }
        }
    }
    rc = 0;
out:
    denyset_release(&denies);
    denyset_release(&passes);
    denyset_release(&late);
    free((void *)admin_passes);
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
