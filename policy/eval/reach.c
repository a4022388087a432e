#include "policy/eval/reach.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/config/allowidx.h"
#include "policy/selector/selsubset.h"
#include "policy/sets/fqdn.h"

#define REACH_MAX_PREFIXES 8 /* escaping prefixes named in a message before "... (N more)" */
#define REACH_MAX_NEAREST 3  /* allow entries named as "allowed here" */
/*
 * The most the texts of an escape may take; they quote the object (names, selectors, the peer's
 * text), and are cut there with "..." (buf_init_cut): a finding is shortened, never lost.
 */
#define REACH_PIECE_CAP ((size_t)4096)    /* one escaping destination: names, selectors */
#define REACH_WHAT_CAP ((size_t)8192)     /* every piece of one escape, with its ports */
#define REACH_MESSAGE_CAP ((size_t)20480) /* peer text, what escapes, the nearest entries */

void reach_result_init(struct reach_result *r)
{
    memset(r, 0, sizeof(*r));
}

void reach_result_release(struct reach_result *r)
{
    size_t i;

    if (!r)
        return;
    for (i = 0; i < r->n_escapes; i++) {
        portset_free(r->escapes[i].ports);
        cidrset_free(r->escapes[i].cidrs);
        free(r->escapes[i].what);
        free(r->escapes[i].nearest);
        free(r->escapes[i].message);
    }
    free(r->escapes);
    for (i = 0; i < r->n_notes; i++)
        free(r->notes[i].message);
    free(r->notes);
    reach_result_init(r);
}

/* Does some inCluster peer of the class contain cluster peer c, for workloads of subject_ns? */
static bool class_has_cluster(const struct allowidx_class *cls, const struct cluster_peer *c,
                              const char *subject_ns, struct budget *b)
{
    size_t i;

    for (i = 0; i < cls->n_peers; i++) {
        const struct peer_spec *ps = cls->peers[i];
        struct cluster_peer as;

        if (!budget_spend(b, 1))
            return false; /* not proven: an escape, and the decision fails anyway */
        memset(&as, 0, sizeof(as));
        as.pod_sel = ps->pods;
        if (ps->same_namespace) {
            if (!subject_ns)
                continue;
            as.ns_name = (char *)subject_ns; /* read only */
        } else {
            as.ns_sel = ps->namespaces;
        }
        if (opening_cluster_subset(c, &as))
            return true;
    }
    return false;
}

/* One escaping destination on some ports, merged by identical description. */
struct piece {
    char *desc;
    struct portset *ports;
};

/*
 * Escapes being collected for one original peer. Past the listing cap (REACH_MAX_ESCAPES) only
 * whether the peer escapes is worked out, without describing it (count_only, escaped).
 */
struct acc {
    const struct opening *op; /* first opening of the peer */
    struct piece *pieces;
    size_t n;
    struct cidrset *cidrs;
    struct portset *ports;
    struct cidrset *denied;       /* what it opens of spec.deny's ranges */
    struct portset *denied_ports; /* on which ports */
    bool count_only, escaped;
    bool cut; /* a piece's description was cut at its cap */
};

/* The description in b, for acc_add(); notes whether it was cut. */
static char *piece(struct acc *a, struct buf *b)
{
    a->cut |= b->cut;
    return buf_detach(b, NULL);
}

static void acc_release(struct acc *a)
{
    size_t i;

    for (i = 0; i < a->n; i++) {
        free(a->pieces[i].desc);
        portset_free(a->pieces[i].ports);
    }
    free(a->pieces);
    cidrset_free(a->cidrs);
    portset_free(a->ports);
    cidrset_free(a->denied);
    portset_free(a->denied_ports);
    memset(a, 0, sizeof(*a));
}

/* Takes desc (malloc()ed) in all cases. */
static int acc_add(struct acc *a, char *desc, const struct portset *atom,
                   const struct cidrset *cidrs)
{
    size_t i;
    struct piece *p;

    if (!desc)
        return -1;
    if (!a->ports && !(a->ports = portset_new()))
        goto fail;
    if (portset_union(a->ports, atom) < 0)
        goto fail;
    if (cidrs) {
        if (!a->cidrs && !(a->cidrs = cidrset_new()))
            goto fail;
        if (cidrset_union(a->cidrs, cidrs) < 0)
            goto fail;
    }
    for (i = 0; i < a->n; i++) {
        if (strcmp(a->pieces[i].desc, desc) == 0) {
            free(desc);
            return portset_union(a->pieces[i].ports, atom);
        }
    }
    p = realloc(a->pieces, (a->n + 1) * sizeof(*p));
    if (!p)
        goto fail;
    a->pieces = p;
    p[a->n].desc = desc;
    p[a->n].ports = portset_dup(atom);
    if (!p[a->n].ports)
        goto fail;
    a->n++;
    return 0;
fail:
    free(desc);
    return -1;
}

static void describe_cluster(const struct cluster_peer *c, struct buf *b)
{
    if (!c->pod_sel || selector_is_all(c->pod_sel)) {
        buf_puts(b, "every pod");
    } else {
        buf_puts(b, "pods ");
        selector_format(c->pod_sel, b);
    }
    if (c->ns_name)
        buf_printf(b, " of namespace %s", c->ns_name);
    else if (!c->ns_sel || selector_is_all(c->ns_sel))
        buf_puts(b, " of every namespace");
    else {
        buf_puts(b, " of namespaces ");
        selector_format(c->ns_sel, b);
    }
}

/*
 * Checks one atom of an opening: the part of its ports over which the allow entries of class
 * cls apply. `cidrs` are the opening's addresses (CIDR peers) with the always-denied ones out.
 */
static int check_atom(const struct allowidx_class *cls, const char *subject_ns,
                      const struct opening *op, const struct cidrset *cidrs,
                      const struct portset *atom, struct acc *acc, struct budget *b)
{
    const struct egress_peer *p = &op->peer;
    struct cidrset *esc;
    struct buf d;
    bool inside = false;

    switch (p->kind) {
    case PEER_CIDR:
        if (cidrset_subset(cidrs, cls->reach))
            return 0;
        if (acc->count_only)
            break;
        esc = cidrset_dup(cidrs);
        if (!esc || cidrset_subtract(esc, cls->reach) < 0) {
            cidrset_free(esc);
            return -1;
        }
        buf_init_cut(&d, REACH_PIECE_CAP, "...");
        cidrset_format(esc, REACH_MAX_PREFIXES, &d);
        if (acc_add(acc, piece(acc, &d), atom, esc) < 0) {
            cidrset_free(esc);
            return -1;
        }
        cidrset_free(esc);
        break;
    case PEER_FQDN:
        if (cls->every_addr)
            return 0;
        buf_init_cut(&d, REACH_PIECE_CAP, "...");
        for (size_t j = 0; j < p->n_fqdns; j++) {
            if (!budget_spend(b, 1)) {
                buf_release(&d);
                return -1;
            }
            if (fqdn_index_covers(cls->fqdns, p->fqdns[j]))
                continue;
            acc->escaped = true;
            if (acc->count_only)
                break;
            buf_printf(&d, "%s%s", d.len ? ", " : "", p->fqdns[j]);
        }
        /* A failed buffer may hold nothing: that is not "nothing escapes". */
        if (d.failed || (d.len && acc_add(acc, piece(acc, &d), atom, NULL) < 0)) {
            buf_release(&d);
            return -1;
        }
        buf_release(&d);
        return 0;
    case PEER_CLUSTER:
        if (cls->every_addr || class_has_cluster(cls, &p->cluster, subject_ns, b))
            return 0;
        if (budget_over(b))
            return -1;
        if (acc->count_only)
            break;
        buf_init_cut(&d, REACH_PIECE_CAP, "...");
        describe_cluster(&p->cluster, &d);
        if (acc_add(acc, piece(acc, &d), atom, NULL) < 0)
            return -1;
        break;
    case PEER_ENTITY:
        /* world is every address outside the cluster; the others are in-cluster endpoints. */
        inside = cls->every_addr ||
                 (p->entity && strcmp(p->entity, "world") != 0 && cls->every_pod);
        if (inside)
            return 0;
        if (acc->count_only)
            break;
        buf_init_cut(&d, REACH_PIECE_CAP, "...");
        buf_printf(&d, "entity %s", p->entity ? p->entity : "?");
        if (acc_add(acc, piece(acc, &d), atom, NULL) < 0)
            return -1;
        break;
    case PEER_ALL:
    case PEER_UNKNOWN:
        if (cls->every_addr)
            return 0;
        if (acc->count_only)
            break;
        buf_init_cut(&d, REACH_PIECE_CAP, "...");
        if (p->kind == PEER_ALL)
            buf_puts(&d, "every destination (0.0.0.0/0, ::/0)");
        else
            buf_printf(&d, "%s (possibly anything)",
                       p->entity ? p->entity : "an unknown destination");
        if (acc_add(acc, piece(acc, &d), atom, NULL) < 0)
            return -1;
        break;
    }
    acc->escaped = true;
    return 0;
}

/*
 * The last port set split, and its atoms: the openings of one rule share their rule's port set
 * until a deny changes it, so a rule with 100,000 peers (or one naming thousands of ports) is
 * split once.
 */
struct split_cache {
    const struct portset *ports;
    struct allowidx_atoms atoms;
};

static void split_cache_release(struct split_cache *c)
{
    if (c->ports)
        allowidx_atoms_release(&c->atoms);
    c->ports = NULL;
}

/* Checks one opening, atom by atom of the compiled allow-list (allowidx.h). */
static int check_opening(const struct policy *pol, const char *subject_ns, const struct opening *op,
                         const struct cidrset *cidrs, struct acc *acc, struct budget *b,
                         struct split_cache *cache)
{
    if (cache->ports != op->ports) {
        long pieces;

        split_cache_release(cache);
        pieces = allowidx_split(pol->allowidx, op->ports, &cache->atoms);
        if (pieces < 0 || !budget_spend(b, (unsigned long long)pieces)) {
            if (pieces >= 0)
                allowidx_atoms_release(&cache->atoms);
            return -1;
        }
        cache->ports = op->ports;
    }
    if (!budget_spend(b, cache->atoms.n))
        return -1;
    for (size_t k = 0; k < cache->atoms.n; k++) {
        const struct allowidx_atom *a = &cache->atoms.v[k];

        if (check_atom(a->cls, subject_ns, op, cidrs, a->ports ? a->ports : op->ports, acc, b) < 0)
            return -1;
    }
    return 0;
}

/* The allow entries offering the kind of destination peer p is (NULL: every entry). */
static const uint64_t *same_kind(const struct allowidx *ix, const struct egress_peer *p)
{
    switch (p->kind) {
    case PEER_ALL:
    case PEER_UNKNOWN:
        return NULL; /* every entry offers part of "anything" */
    case PEER_CIDR:
        return allowidx_offering(ix, ALLOWIDX_CIDRS);
    case PEER_FQDN:
        return allowidx_offering(ix, ALLOWIDX_FQDNS);
    case PEER_CLUSTER:
        return allowidx_offering(ix, ALLOWIDX_PEERS);
    case PEER_ENTITY:
        if (p->entity && strcmp(p->entity, "world") == 0)
            return allowidx_offering(ix, ALLOWIDX_CIDRS);
        return allowidx_offering(ix, ALLOWIDX_PEERS);
    }
    return NULL;
}

/*
 * The allow entries nearest to an escape: those of the same destination kind whose ports
 * overlap; failing that, the same kind; failing that, overlapping ports. Entries are named in
 * policy order, at most REACH_MAX_NEAREST, then "and N more".
 */
static char *nearest_entries(const struct policy *pol, const struct egress_peer *p,
                             const struct portset *ports)
{
    const struct allowidx *ix = pol->allowidx;
    size_t words = allowidx_words(ix), shown = 0, more = 0;
    const uint64_t *kind = same_kind(ix, p);
    uint64_t *touch = calloc(words, sizeof(*touch));
    struct buf b;

    if (!touch)
        return NULL;
    allowidx_touching(ix, ports, touch);
    buf_init_cut(&b, REACH_PIECE_CAP, "...");
    for (int pass = 0; pass < 3 && !shown; pass++) {
        for (size_t i = 0; i < pol->n_allow; i++) {
            uint64_t bit = (uint64_t)1 << (i % 64);
            bool overlap = touch[i / 64] & bit, same = !kind || (kind[i / 64] & bit);

            if (!(pass == 0 ? overlap && same : pass == 1 ? same : overlap))
                continue;
            if (shown == REACH_MAX_NEAREST) {
                more++;
                continue;
            }
            if (shown++)
                buf_puts(&b, ", ");
            buf_puts(&b, pol->allow[i].summary);
        }
    }
    free(touch);
    if (!shown)
        buf_puts(&b, "nothing");
    if (more)
        buf_printf(&b, " and %zu more", more);
    return buf_detach(&b, NULL);
}

static void peer_text(const struct egress_peer *p, struct buf *b)
{
    if (p->text)
        buf_puts(b, p->text);
    else
        egress_peer_format(p, b);
}

/* Names the always-denied entries that meet c: "cloud-metadata". */
static void denied_names(const struct policy *pol, const struct cidrset *c, struct buf *b)
{
    size_t i, n = 0;

    for (i = 0; i < pol->n_deny; i++)
        if (cidrset_overlaps(pol->deny[i].cidrs, c))
            buf_printf(b, "%s%s", n++ ? ", " : "", pol->deny[i].name);
}

/*
 * A new escape of a's peer at the end of out, zeroed but for model, rule and peer (the caller
 * fills the rest; reach_result_release() frees whatever it set). NULL on out of memory.
 */
static struct reach_escape *add_escape(struct reach_result *out, const struct acc *a)
{
    struct reach_escape *x = realloc(out->escapes, (out->n_escapes + 1) * sizeof(*x));

    if (!x)
        return NULL;
    out->escapes = x;
    x = &x[out->n_escapes++];
    memset(x, 0, sizeof(*x));
    x->model = a->op->model;
    x->rule = a->op->rule;
    x->peer = a->op->orig;
    return x;
}

/*
 * Does opening op reach into spec.deny? A CIDR peer where its addresses meet the deny ranges;
 * every destination, a peer that may be anything, and Cilium's world (every address outside the
 * cluster) reach all of them. Names are judged by name and in-cluster peers are pods: neither
 * is an address the policy file can deny. Adds what it reaches to a->denied on op's ports.
 */
static int add_denied(const struct policy *pol, const struct opening *op, struct acc *a)
{
    const struct egress_peer *p = &op->peer;
    bool reaches;
    struct cidrset *x;
    int rc = -1;

    if (p->kind == PEER_CIDR)
        reaches = p->cidrs && cidrset_overlaps(p->cidrs, pol->deny_cidrs);
    else if (p->kind == PEER_ALL || p->kind == PEER_UNKNOWN ||
             (p->kind == PEER_ENTITY && p->entity && !strcmp(p->entity, "world")))
        reaches = !cidrset_is_empty(pol->deny_cidrs);
    else
        return 0;
    if (!reaches)
        return 0;
    a->escaped = true;
    if (a->count_only)
        return 0; /* counted, not described (REACH_MAX_ESCAPES) */
    x = cidrset_dup(p->kind == PEER_CIDR ? p->cidrs : pol->deny_cidrs);
    if (!x || cidrset_intersect(x, pol->deny_cidrs) < 0)
        goto out;
    if ((!a->denied && !(a->denied = cidrset_new())) ||
        (!a->denied_ports && !(a->denied_ports = portset_new())) ||
        cidrset_union(a->denied, x) < 0 || portset_union(a->denied_ports, op->ports) < 0)
        goto out;
    rc = 0;
out:
    cidrset_free(x);
    return rc;
}

/*
 * spec.deny is never opened (README, "The policy file"): whatever else would block the address,
 * network policies add up and this one object cannot show it. One escape per peer, naming the
 * exact ranges it opens of the deny entries.
 */
static int finish_denied(const struct policy *pol, struct acc *a, struct reach_result *out)
{
    struct reach_escape *x = add_escape(out, a);
    struct buf what, msg, text;

    if (!x)
        return -1;
    buf_init_cut(&what, REACH_WHAT_CAP, "...");
    cidrset_format(a->denied, REACH_MAX_PREFIXES, &what);
    buf_puts(&what, " on ");
    portset_format(a->denied_ports, &what);
    x->cut = what.cut;
    x->what = buf_detach(&what, NULL);
    buf_init_cut(&msg, REACH_PIECE_CAP, "...");
    denied_names(pol, a->denied, &msg);
    x->nearest = buf_detach(&msg, NULL);
    /* each part cut on its own, as finish_escape() does */
    buf_init_cut(&text, REACH_PIECE_CAP, "...");
    peer_text(a->op->orig, &text);
    buf_init_cut(&msg, REACH_MESSAGE_CAP, "...");
    buf_printf(&msg, "%s opens %s, which the policy file always denies (spec.deny: %s): no "
                     "network policy may open it",
               buf_str(&text), x->what ? x->what : "", x->nearest ? x->nearest : "");
    buf_release(&text);
    x->message = buf_detach(&msg, NULL);
    x->denied = true;
    x->ports = a->denied_ports;
    x->cidrs = a->denied;
    a->denied_ports = NULL;
    a->denied = NULL;
    return x->what && x->nearest && x->message ? 0 : -1;
}

/* Where a port set starts on the protocol << 16 | port line (for a stable message order). */
static unsigned long port_key(const struct portset *p)
{
    unsigned long lo = PORTSET_KEY_MAX + 1, hi;

    if (portset_runs(p))
        portset_run(p, 0, &lo, &hi);
    return lo;
}

static void sort_pieces(struct acc *a)
{
    size_t i, j;

    for (i = 1; i < a->n; i++) {
        struct piece x = a->pieces[i];
        unsigned long k = port_key(x.ports);

        for (j = i; j > 0 && port_key(a->pieces[j - 1].ports) > k; j--)
            a->pieces[j] = a->pieces[j - 1];
        a->pieces[j] = x;
    }
}

static int finish_escape(const struct policy *pol, struct acc *a, struct reach_result *out,
                         struct budget *b)
{
    struct reach_escape *x;
    struct buf what, msg, text;
    unsigned long long words = portset_runs(a->ports);
    size_t i;

    /* Describing costs what it writes: every piece's ports, and the nearest entries' walk. */
    for (i = 0; i < a->n; i++)
        words += 1 + a->n + portset_runs(a->pieces[i].ports);
    if (!budget_spend(b, words) || !(x = add_escape(out, a)))
        return -1;
    sort_pieces(a);
    buf_init_cut(&what, REACH_WHAT_CAP, "...");
    for (i = 0; i < a->n; i++) {
        buf_printf(&what, "%s%s on ", i ? "; " : "", a->pieces[i].desc);
        portset_format(a->pieces[i].ports, &what);
    }
    x->cut = a->cut || what.cut;
    x->what = buf_detach(&what, NULL);
    x->nearest = nearest_entries(pol, &a->op->peer, a->ports);
    /* each part cut on its own, so that a long peer still leaves room for what escapes */
    buf_init_cut(&text, REACH_PIECE_CAP, "...");
    peer_text(a->op->orig, &text);
    buf_init_cut(&msg, REACH_MESSAGE_CAP, "...");
    buf_printf(&msg, "%s opens %s; allowed here: %s", buf_str(&text), x->what ? x->what : "",
               x->nearest ? x->nearest : "");
    buf_release(&text);
    x->message = buf_detach(&msg, NULL);
    x->ports = a->ports;
    x->cidrs = a->cidrs;
    a->ports = NULL;
    a->cidrs = NULL;
    if (!x->what || !x->nearest || !x->message)
        return -1;
    return 0;
}

/* An opening's place in the grouping by peer: openings of one (rule, peer) give one escape. */
struct slot {
    const void *rule, *orig;
    size_t i;
};

static int cmp_slot(const void *pa, const void *pb)
{
    const struct slot *a = pa, *b = pb;

    if (a->rule != b->rule)
        return (uintptr_t)a->rule < (uintptr_t)b->rule ? -1 : 1;
    if (a->orig != b->orig)
        return (uintptr_t)a->orig < (uintptr_t)b->orig ? -1 : 1;
    return a->i < b->i ? -1 : a->i > b->i;
}

/* A run of slots of one peer, and where the peer first appears in the openings. */
struct group {
    size_t start, end, first;
};

static int cmp_group(const void *pa, const void *pb)
{
    const struct group *a = pa, *b = pb;

    return a->first < b->first ? -1 : a->first > b->first;
}

/*
 * Checks the openings of one peer (slots[g->start, g->end), in list order) and adds its escape
 * or note to out.
 */
static int check_peer(const struct policy *pol, const char *subject_ns,
                      const struct opening_list *ops, const struct slot *slots,
                      const struct group *g, struct split_cache *cache, struct reach_result *out)
{
    struct budget *b = ops->budget;
    struct acc acc;
    struct cidrset *eff = NULL;
    int rc = -1;

    memset(&acc, 0, sizeof(acc));
    acc.op = &ops->items[slots[g->start].i];
    acc.count_only = out->n_escapes >= REACH_MAX_ESCAPES;
    for (size_t k = g->start; k < g->end; k++) {
        const struct opening *op = &ops->items[slots[k].i];
        const struct cidrset *cidrs = NULL;

        if (!budget_spend(b, 1 + (op->peer.kind == PEER_CIDR ? cidrset_runs(op->peer.cidrs) : 0)))
            goto out;
        if (add_denied(pol, op, &acc) < 0)
            goto out;
        if (acc.count_only && acc.escaped)
            break;
        if (op->peer.kind == PEER_CIDR) {
            cidrs = op->peer.cidrs;
            /* The deny ranges are reported apart (add_denied); the rest is judged here. */
            if (cidrset_overlaps(cidrs, pol->deny_cidrs)) {
                cidrset_free(eff);
                if (!(eff = cidrset_dup(cidrs)) || cidrset_subtract(eff, pol->deny_cidrs) < 0)
                    goto out;
                if (cidrset_is_empty(eff))
                    continue;
                cidrs = eff;
            }
        }
        if (check_opening(pol, subject_ns, op, cidrs, &acc, b, cache) < 0)
            goto out;
        if (acc.count_only && acc.escaped)
            break;
    }
    if (acc.count_only)
        out->n_unlisted += acc.escaped;
    else if ((acc.denied && finish_denied(pol, &acc, out) < 0) ||
             (acc.n && finish_escape(pol, &acc, out, b) < 0))
        goto out;
    rc = 0;
out:
    cidrset_free(eff);
    acc_release(&acc);
    return rc;
}

int reach_check(const struct policy *pol, const char *subject_ns, const struct opening_list *ops,
                struct reach_result *out, struct err *e)
{
    struct slot *slots = NULL;
    struct group *groups = NULL;
    struct split_cache cache = {0};
    size_t n_groups = 0, i;
    int rc = -1;

    /* Group openings by peer with one sort: O(n log n), however many peers a policy has. */
    if (ops->n && (!(slots = malloc(ops->n * sizeof(*slots))) ||
                   !(groups = malloc(ops->n * sizeof(*groups)))))
        goto out;
    for (i = 0; i < ops->n; i++)
        slots[i] = (struct slot){ops->items[i].rule, ops->items[i].orig, i};
    if (!budget_spend(ops->budget, ops->n))
        goto out;
    if (ops->n > 1)
        qsort(slots, ops->n, sizeof(*slots), cmp_slot);
    for (i = 0; i < ops->n; i++) {
        if (i && slots[i].rule == slots[i - 1].rule && slots[i].orig == slots[i - 1].orig) {
            groups[n_groups - 1].end = i + 1;
            continue;
        }
        groups[n_groups++] = (struct group){i, i + 1, slots[i].i};
    }
    /* Peers are reported in the order they first appear. */
    if (n_groups > 1)
        qsort(groups, n_groups, sizeof(*groups), cmp_group);
    for (i = 0; i < n_groups; i++)
        if (check_peer(pol, subject_ns, ops, slots, &groups[i], &cache, out) < 0)
            goto out;
    rc = 0;
out:
    split_cache_release(&cache);
    free(slots);
    free(groups);
    if (rc < 0)
        err_set(e, "out of memory");
    return rc;
}
