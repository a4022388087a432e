#include "policy/eval/reach.h"

#include <stdlib.h>
#include <string.h>

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

/* A growable array of port sets (the atoms of one opening). */
struct atoms {
    struct portset **v;
    size_t n, alloc;
};

static void atoms_release(struct atoms *a)
{
    size_t i;

    for (i = 0; i < a->n; i++)
        portset_free(a->v[i]);
    free(a->v);
    memset(a, 0, sizeof(*a));
}

static int atoms_push(struct atoms *a, struct portset *p)
{
    if (a->n == a->alloc) {
        size_t na = a->alloc ? a->alloc * 2 : 8;
        struct portset **v = realloc(a->v, na * sizeof(*v));

        if (!v)
            return -1;
        a->v = v;
        a->alloc = na;
    }
    a->v[a->n++] = p;
    return 0;
}

/*
 * Splits ports at every allow entry's boundaries: afterwards each atom is either inside or
 * disjoint from each entry's port set.
 */
static int split_atoms(const struct policy *pol, const struct portset *ports, struct atoms *out)
{
    struct portset *first = portset_dup(ports);
    size_t i, k, n;

    if (!first || atoms_push(out, first) < 0) {
        portset_free(first);
        return -1;
    }
    for (i = 0; i < pol->n_allow; i++) {
        const struct portset *ep = pol->allow[i].ports;

        n = out->n;
        for (k = 0; k < n; k++) {
            /* Inside or disjoint already: nothing to split (and nothing to allocate). */
            if (!portset_overlaps(out->v[k], ep) || portset_subset(out->v[k], ep))
                continue;
            struct portset *in = portset_dup(out->v[k]);

            if (!in || portset_intersect(in, ep) < 0) {
                portset_free(in);
                return -1;
            }
            if (portset_is_empty(in) || portset_equal(in, out->v[k])) {
                portset_free(in);
                continue;
            }
            if (portset_subtract(out->v[k], ep) < 0 || atoms_push(out, in) < 0) {
                portset_free(in);
                return -1;
            }
        }
    }
    return 0;
}

static bool covers(const struct dest_entry *d, const struct portset *atom)
{
    return portset_subset(atom, d->ports);
}

/* Does some inCluster peer of d contain cluster peer c, for workloads of subject_ns? */
static bool entry_has_cluster(const struct dest_entry *d, const struct cluster_peer *c,
                              const char *subject_ns)
{
    size_t i;

    for (i = 0; i < d->n_peers; i++) {
        const struct peer_spec *ps = &d->peers[i];
        struct cluster_peer as;

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

/* Does d allow every pod of every namespace (what in-cluster entities need)? */
static bool entry_has_every_pod(const struct dest_entry *d)
{
    size_t i;

    for (i = 0; i < d->n_peers; i++) {
        const struct peer_spec *ps = &d->peers[i];

        if (!ps->same_namespace && (!ps->namespaces || selector_is_all(ps->namespaces)) &&
            (!ps->pods || selector_is_all(ps->pods)))
            return true;
    }
    return false;
}

/* One escaping destination on some ports, merged by identical description. */
struct piece {
    char *desc;
    struct portset *ports;
};

/* Escapes being collected for one original peer. */
struct acc {
    const struct opening *op; /* first opening of the peer */
    struct piece *pieces;
    size_t n;
    struct cidrset *cidrs;
    struct portset *ports;
    struct cidrset *denied;       /* what it opens of spec.deny's ranges */
    struct portset *denied_ports; /* on which ports */
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

/* Checks one opening (with always-denied CIDRs already removed from `cidrs`) atom by atom. */
static int check_opening(const struct policy *pol, const char *subject_ns, const struct opening *op,
                         const struct cidrset *cidrs, struct acc *acc)
{
    struct atoms atoms = {0};
    struct cidrset *allowed = NULL, *esc = NULL;
    size_t i, k;
    int rc = -1;

    if (split_atoms(pol, op->ports, &atoms) < 0)
        goto out;
    for (k = 0; k < atoms.n; k++) {
        const struct portset *atom = atoms.v[k];
        const struct egress_peer *p = &op->peer;
        bool every_addr, inside = false;
        struct buf b;

        cidrset_free(allowed);
        allowed = cidrset_dup(pol->deny_cidrs);
        if (!allowed)
            goto out;
        for (i = 0; i < pol->n_allow; i++)
            if (covers(&pol->allow[i], atom) && cidrset_union(allowed, pol->allow[i].cidrs) < 0)
                goto out;
        every_addr = cidrset_is_all(allowed, 0);

        switch (p->kind) {
        case PEER_CIDR:
            cidrset_free(esc);
            esc = cidrset_dup(cidrs);
            if (!esc || cidrset_subtract(esc, allowed) < 0)
                goto out;
            if (cidrset_is_empty(esc))
                break;
            buf_init_cut(&b, REACH_PIECE_CAP, "...");
            cidrset_format(esc, REACH_MAX_PREFIXES, &b);
            if (acc_add(acc, piece(acc, &b), atom, esc) < 0)
                goto out;
            break;
        case PEER_FQDN: {
            size_t n_list = 0, j;
            const char **list = NULL;

            if (every_addr)
                break;
            for (i = 0; i < pol->n_allow; i++)
                if (covers(&pol->allow[i], atom))
                    n_list += pol->allow[i].n_fqdns;
            if (n_list && !(list = malloc(n_list * sizeof(*list))))
                goto out;
            n_list = 0;
            for (i = 0; i < pol->n_allow; i++)
                if (covers(&pol->allow[i], atom))
                    for (j = 0; j < pol->allow[i].n_fqdns; j++)
                        list[n_list++] = pol->allow[i].fqdns[j];
            buf_init_cut(&b, REACH_PIECE_CAP, "...");
            for (j = 0; j < p->n_fqdns; j++)
                if (!fqdn_subset_of_any(p->fqdns[j], list, n_list))
                    buf_printf(&b, "%s%s", b.len ? ", " : "", p->fqdns[j]);
            free(list);
            if (b.len && acc_add(acc, piece(acc, &b), atom, NULL) < 0) {
                buf_release(&b);
                goto out;
            }
            buf_release(&b);
            break;
        }
        case PEER_CLUSTER:
            inside = every_addr;
            for (i = 0; !inside && i < pol->n_allow; i++)
                inside = covers(&pol->allow[i], atom) &&
                         entry_has_cluster(&pol->allow[i], &p->cluster, subject_ns);
            if (inside)
                break;
            buf_init_cut(&b, REACH_PIECE_CAP, "...");
            describe_cluster(&p->cluster, &b);
            if (acc_add(acc, piece(acc, &b), atom, NULL) < 0)
                goto out;
            break;
        case PEER_ENTITY:
            inside = every_addr;
            if (p->entity && strcmp(p->entity, "world") != 0)
                for (i = 0; !inside && i < pol->n_allow; i++)
                    inside = covers(&pol->allow[i], atom) && entry_has_every_pod(&pol->allow[i]);
            if (inside)
                break;
            buf_init_cut(&b, REACH_PIECE_CAP, "...");
            buf_printf(&b, "entity %s", p->entity ? p->entity : "?");
            if (acc_add(acc, piece(acc, &b), atom, NULL) < 0)
                goto out;
            break;
        case PEER_ALL:
        case PEER_UNKNOWN:
            if (every_addr)
                break;
            buf_init_cut(&b, REACH_PIECE_CAP, "...");
            if (p->kind == PEER_ALL)
                buf_puts(&b, "every destination (0.0.0.0/0, ::/0)");
            else
                buf_printf(&b, "%s (possibly anything)",
                           p->entity ? p->entity : "an unknown destination");
            if (acc_add(acc, piece(acc, &b), atom, NULL) < 0)
                goto out;
            break;
        }
    }
    rc = 0;
out:
    cidrset_free(allowed);
    cidrset_free(esc);
    atoms_release(&atoms);
    return rc;
}

/* Does allow entry d offer the kind of destination peer p is? */
static bool same_kind(const struct dest_entry *d, const struct egress_peer *p)
{
    switch (p->kind) {
    case PEER_ALL:
    case PEER_UNKNOWN:
        return true; /* every entry offers part of "anything" */
    case PEER_CIDR:
        return !cidrset_is_empty(d->cidrs);
    case PEER_FQDN:
        return d->n_fqdns > 0;
    case PEER_CLUSTER:
        return d->n_peers > 0;
    case PEER_ENTITY:
        if (p->entity && strcmp(p->entity, "world") == 0)
            return !cidrset_is_empty(d->cidrs);
        return d->n_peers > 0;
    }
    return false;
}

/*
 * The allow entries nearest to an escape: those of the same destination kind whose ports
 * overlap; failing that, the same kind; failing that, overlapping ports.
 */
static char *nearest_entries(const struct policy *pol, const struct egress_peer *p,
                             const struct portset *ports)
{
    struct buf b;
    size_t i, shown = 0, more = 0;
    int pass;

    buf_init_cut(&b, REACH_PIECE_CAP, "...");
    for (pass = 0; pass < 3 && !shown; pass++) {
        for (i = 0; i < pol->n_allow; i++) {
            const struct dest_entry *d = &pol->allow[i];
            struct portset *x = portset_dup(ports);
            bool overlap, kind = same_kind(d, p);

            if (!x || portset_intersect(x, d->ports) < 0) {
                portset_free(x);
                buf_release(&b);
                return NULL;
            }
            overlap = !portset_is_empty(x);
            portset_free(x);
            if (!(pass == 0 ? overlap && kind : pass == 1 ? kind : overlap))
                continue;
            if (shown == REACH_MAX_NEAREST) {
                more++;
                continue;
            }
            if (shown++)
                buf_puts(&b, ", ");
            buf_puts(&b, d->summary);
        }
    }
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

    for (i = 0; i < pol->n_deny; i++) {
        struct cidrset *x = cidrset_dup(pol->deny[i].cidrs);

        if (x && cidrset_intersect(x, c) == 0 && !cidrset_is_empty(x))
            buf_printf(b, "%s%s", n++ ? ", " : "", pol->deny[i].name);
        cidrset_free(x);
    }
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
    struct cidrset *x;
    int rc = -1;

    if (p->kind == PEER_CIDR)
        x = cidrset_dup(p->cidrs);
    else if (p->kind == PEER_ALL || p->kind == PEER_UNKNOWN ||
             (p->kind == PEER_ENTITY && p->entity && !strcmp(p->entity, "world")))
        x = cidrset_dup(pol->deny_cidrs);
    else
        return 0;
    if (!x || cidrset_intersect(x, pol->deny_cidrs) < 0)
        goto out;
    if (cidrset_is_empty(x)) {
        rc = 0;
        goto out;
    }
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
static long port_key(const struct portset *p)
{
    struct portrange *r = NULL;
    size_t n = 0;
    long key = 1L << 30;

    if (portset_ranges(p, &r, &n) == 0 && n)
        key = (long)r[0].proto << 16 | (long)r[0].lo;
    free(r);
    return key;
}

static void sort_pieces(struct acc *a)
{
    size_t i, j;

    for (i = 1; i < a->n; i++) {
        struct piece x = a->pieces[i];
        long k = port_key(x.ports);

        for (j = i; j > 0 && port_key(a->pieces[j - 1].ports) > k; j--)
            a->pieces[j] = a->pieces[j - 1];
        a->pieces[j] = x;
    }
}

static int finish_escape(const struct policy *pol, struct acc *a, struct reach_result *out)
{
    struct reach_escape *x = add_escape(out, a);
    struct buf what, msg, text;
    size_t i;

    if (!x)
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

int reach_check(const struct policy *pol, const char *subject_ns, const struct opening_list *ops,
                struct reach_result *out, struct err *e)
{
    bool *done = NULL;
    struct cidrset *eff = NULL;
    size_t i, j;
    int rc = -1;

    if (ops->n && !(done = calloc(ops->n, sizeof(*done))))
        goto out;
    for (i = 0; i < ops->n; i++) {
        struct acc acc;

        if (done[i])
            continue;
        memset(&acc, 0, sizeof(acc));
        acc.op = &ops->items[i];
        /* every opening of the same peer, so that one peer gives one finding */
        for (j = i; j < ops->n; j++) {
            const struct opening *op = &ops->items[j];

            if (done[j] || op->orig != acc.op->orig || op->rule != acc.op->rule)
                continue;
            done[j] = true;
            if (add_denied(pol, op, &acc) < 0)
                goto fail_acc;
            cidrset_free(eff);
            eff = NULL;
            if (op->peer.kind == PEER_CIDR) {
                /* the deny ranges are reported apart (add_denied); the rest is judged here */
                eff = cidrset_dup(op->peer.cidrs);
                if (!eff || cidrset_subtract(eff, pol->deny_cidrs) < 0)
                    goto fail_acc;
                if (cidrset_is_empty(eff))
                    continue;
            }
            if (check_opening(pol, subject_ns, op, eff, &acc) < 0)
                goto fail_acc;
        }
        if (acc.denied && finish_denied(pol, &acc, out) < 0)
            goto fail_acc;
        if (acc.n && finish_escape(pol, &acc, out) < 0)
            goto fail_acc;
        acc_release(&acc);
        continue;
    fail_acc:
        acc_release(&acc);
        goto out;
    }
    rc = 0;
out:
    cidrset_free(eff);
    free(done);
    if (rc < 0)
        err_set(e, "out of memory");
    return rc;
}
