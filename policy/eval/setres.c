#include "policy/eval/setres.h"

#include <stdlib.h>
#include <string.h>

#include "policy/selector/selsubset.h"

static enum tri ns_reached(const struct egress_setref *ref, const char *set_ns,
                           const struct nsdb *ns)
{
    const json_t *labels;
    json_t *name_only;
    enum tri t;

    if (ref->ns_name)
        return strcmp(ref->ns_name, set_ns) ? TRI_FALSE : TRI_TRUE;
    if (!ref->ns_sel || selector_is_all(ref->ns_sel))
        return TRI_TRUE;
    labels = nsdb_labels(ns, set_ns);
    if (labels)
        return selector_matches(ref->ns_sel, labels) ? TRI_TRUE : TRI_FALSE;
    /* Only the name is known: the API server's kubernetes.io/metadata.name label. */
    name_only = json_pack("{s:s}", "kubernetes.io/metadata.name", set_ns);
    if (!name_only)
        return TRI_UNKNOWN;
    t = selector_eval(ref->ns_sel, name_only, false);
    json_decref(name_only);
    return t;
}

/* Does sel (NULL = all) match the set's labels (for a NetworkSet, with its namespace's)? */
static bool labels_match(const struct selector *sel, const struct setdb_entry *set)
{
    return !sel || selector_matches(sel, set->labels);
}

enum tri setres_reaches(const struct egress_setref *ref, const struct setdb_entry *set,
                        const struct nsdb *ns)
{
    if (ref->kind == SETREF_CIDRGROUP) {
        if (set->kind != SETDB_CIDRGROUP)
            return TRI_FALSE;
        if (ref->name)
            return strcmp(ref->name, set->name) ? TRI_FALSE : TRI_TRUE;
        return labels_match(ref->sel, set) ? TRI_TRUE : TRI_FALSE;
    }
    switch (set->kind) {
    case SETDB_NETWORKSET:
        /* The set's own labels first: cheaper than its namespace's, and usually decisive. */
        if (!ref->namespaced || !labels_match(ref->sel, set))
            return TRI_FALSE;
        return ns_reached(ref, set->ns, ns);
    case SETDB_GLOBALNETWORKSET:
    case SETDB_HOSTENDPOINT:
        return ref->global && labels_match(ref->sel, set) ? TRI_TRUE : TRI_FALSE;
    default:
        return TRI_FALSE;
    }
}

int setres_describe(const struct egress_setref *ref, struct buf *out)
{
    if (ref->kind == SETREF_CIDRGROUP) {
        if (ref->name) {
            buf_printf(out, "CiliumCIDRGroup \"%s\"", ref->name);
        } else {
            buf_puts(out, "CiliumCIDRGroups matching ");
            if (ref->sel)
                selector_format(ref->sel, out);
            else
                buf_puts(out, "all()");
        }
        return out->failed ? -1 : 0;
    }
    if (ref->namespaced) {
        if (ref->ns_name)
            buf_printf(out, "NetworkSets of namespace %s", ref->ns_name);
        else if (!ref->ns_sel || selector_is_all(ref->ns_sel))
            buf_puts(out, "NetworkSets of every namespace");
        else {
            buf_puts(out, "NetworkSets of namespaces ");
            selector_format(ref->ns_sel, out);
        }
    }
    if (ref->global)
        buf_printf(out, "%sGlobalNetworkSets and HostEndpoints", ref->namespaced ? ", " : "");
    buf_puts(out, " matching ");
    if (ref->sel)
        selector_format(ref->sel, out);
    else
        buf_puts(out, "all()");
    return out->failed ? -1 : 0;
}

/* A growable array of peers: the rule's new peer list. */
struct peers {
    struct egress_peer *v;
    size_t n, alloc;
};

static struct egress_peer *push(struct peers *l)
{
    if (l->n == l->alloc) {
        size_t na = l->alloc ? l->alloc * 2 : 4;
        struct egress_peer *g = realloc(l->v, na * sizeof(*g));

        if (!g)
            return NULL;
        l->v = g;
        l->alloc = na;
    }
    memset(&l->v[l->n], 0, sizeof(l->v[0]));
    return &l->v[l->n++];
}

/* A new peer of `kind` at the reference's place, its text `text` (taken, may be NULL). */
static struct egress_peer *add(struct peers *l, const struct egress_peer *ref_peer,
                               enum peer_kind kind, char *text)
{
    struct egress_peer *p = push(l);

    if (!p) {
        free(text);
        return NULL;
    }
    p->kind = kind;
    p->node = ref_peer->node;
    p->text = text;
    if (!(p->path = strdup(ref_peer->path ? ref_peer->path : "")) ||
        (kind == PEER_CIDR && !(p->cidrs = cidrset_new()))) {
        egress_peer_release(p);
        l->n--;
        return NULL;
    }
    return p;
}

/* "NetworkSet ml-a/ext (nets.yaml:3), matched by <ref peer text>" */
static char *set_text(const struct setdb_entry *set, const struct egress_peer *ref_peer,
                      const char *extra)
{
    struct buf b;

    buf_init_cut(&b, SETRES_TEXT_CAP, "...");
    buf_printf(&b, "%s %s%s%s", setdb_kind_name(set->kind), set->ns && *set->ns ? set->ns : "",
               set->ns && *set->ns ? "/" : "", set->name);
    if (set->where)
        buf_printf(&b, " (%s)", set->where);
    if (extra)
        buf_printf(&b, " %s", extra);
    if (ref_peer->text)
        buf_printf(&b, ", reached by %s", ref_peer->text);
    return buf_detach(&b, NULL);
}

static int add_set(struct peers *l, const struct egress_peer *ref_peer,
                   const struct setdb_entry *set, bool opening)
{
    struct egress_peer *p;
    size_t i;

    if (!set->nets) {
        struct buf b;

        if (!opening)
            return 0;
        buf_init_cut(&b, SETRES_TEXT_CAP, "...");
        buf_printf(&b, "%s %s%s%s, whose addresses cannot be read (%s)",
                   setdb_kind_name(set->kind), *set->ns ? set->ns : "", *set->ns ? "/" : "",
                   set->name, set->error ? set->error : "unreadable");
        if (!(p = add(l, ref_peer, PEER_UNKNOWN, set_text(set, ref_peer, NULL))) ||
            !(p->entity = buf_detach(&b, NULL)))
            return -1;
        return 0;
    }
    if (!cidrset_is_empty(set->nets)) {
        if (!(p = add(l, ref_peer, PEER_CIDR, set_text(set, ref_peer, NULL))) ||
            cidrset_union(p->cidrs, set->nets) < 0)
            return -1;
    }
    if (set->n_domains) {
        if (!(p = add(l, ref_peer, PEER_FQDN, set_text(set, ref_peer, "(domains)"))))
            return -1;
        for (i = 0; i < set->n_domains; i++)
            if (egress_peer_add_fqdn(p, set->domains[i]) < 0)
                return -1;
    }
    return 0;
}

/*
 * The set kinds a reference may reach, in *kinds (up to 3). Calico: a namespaced reference the
 * NetworkSets, a global one the GlobalNetworkSets and HostEndpoints (setres_reaches()).
 */
static size_t reachable_kinds(const struct egress_setref *ref, enum setdb_kind kinds[3])
{
    size_t n = 0;

    if (ref->kind == SETREF_CIDRGROUP) {
        kinds[n++] = SETDB_CIDRGROUP;
        return n;
    }
    if (ref->namespaced)
        kinds[n++] = SETDB_NETWORKSET;
    if (ref->global) {
        kinds[n++] = SETDB_GLOBALNETWORKSET;
        kinds[n++] = SETDB_HOSTENDPOINT;
    }
    return n;
}

/* Does the run know every set the reference may reach (each kind it reaches complete)? */
static bool reach_complete(const struct egress_setref *ref, const struct setdb *sets)
{
    enum setdb_kind kinds[3];
    size_t n = reachable_kinds(ref, kinds);

    for (size_t i = 0; i < n; i++)
        if (!setdb_kind_complete(sets, kinds[i]))
            return false;
    return true;
}

/* What the run does not know, as one PEER_UNKNOWN peer. */
static int add_unknown(struct peers *l, const struct egress_peer *ref_peer,
                       const struct setdb *sets, bool by_name)
{
    enum setdb_kind kinds[3];
    size_t n = reachable_kinds(ref_peer->setref, kinds), said = 0;
    struct egress_peer *p;
    struct buf b;

    buf_init_cut(&b, SETRES_TEXT_CAP, "...");
    setres_describe(ref_peer->setref, &b);
    buf_puts(&b, by_name ? ", which this run does not know" : " that this run does not know");
    /* Which kinds are not all known, when the run said why (online: a kind not listed yet). */
    for (size_t i = 0; !by_name && i < n; i++) {
        const char *why = setdb_kind_complete(sets, kinds[i]) ? NULL
                                                              : setdb_kind_why(sets, kinds[i]);
        if (why)
            buf_printf(&b, "%s%s", said++ ? "; " : " (", why);
    }
    if (said)
        buf_puts(&b, ")");
    if (!(p = add(l, ref_peer, PEER_UNKNOWN,
                  ref_peer->text ? strdup(ref_peer->text) : NULL)) ||
        !(p->entity = buf_detach(&b, NULL)))
        return -1;
    return 0;
}

static int resolve_peer(struct peers *l, const struct egress_peer *ref_peer,
                        const struct setdb *sets, const struct nsdb *ns, bool opening)
{
    const struct egress_setref *ref = ref_peer->setref;
    bool by_name = ref->kind == SETREF_CIDRGROUP && ref->name;
    bool found = false;
    size_t i;

    for (i = 0; i < setdb_count(sets); i++) {
        const struct setdb_entry *set = setdb_get(sets, i);
        enum tri t = setres_reaches(ref, set, ns);

        /* A deny takes away only what it provably reaches. */
        if (t == TRI_FALSE || (t == TRI_UNKNOWN && !opening))
            continue;
        found = true;
        if (add_set(l, ref_peer, set, opening) < 0)
            return -1;
    }
    if (!opening)
        return 0;
    if (by_name ? !found : !reach_complete(ref, sets))
        return add_unknown(l, ref_peer, sets, by_name);
    return 0;
}

static bool rule_refers(const struct egress_rule *r)
{
    for (size_t i = 0; i < r->n_peers; i++)
        if (r->peers[i].setref)
            return true;
    return false;
}

bool setres_refers(const struct egress_list *models)
{
    for (size_t i = 0; i < models->n; i++)
        for (size_t k = 0; k < models->models[i].n_rules; k++)
            if (rule_refers(&models->models[i].rules[k]))
                return true;
    return false;
}

static int resolve_rule(const struct egress_model *m, struct egress_rule *r,
                        const struct setdb *sets, const struct nsdb *ns)
{
    bool opening = r->action == EGRESS_ALLOW || (r->action == EGRESS_PASS && m->pass_opens);
    struct peers l = {0};
    size_t i;

    if (!rule_refers(r))
        return 0;
    for (i = 0; i < r->n_peers; i++) {
        struct egress_peer *p;

        if (r->peers[i].setref) {
            if (resolve_peer(&l, &r->peers[i], sets, ns, opening) < 0)
                goto fail;
            continue;
        }
        if (!(p = push(&l)))
            goto fail;
        *p = r->peers[i]; /* moved */
        memset(&r->peers[i], 0, sizeof(r->peers[i]));
    }
    for (i = 0; i < r->n_peers; i++)
        egress_peer_release(&r->peers[i]);
    free(r->peers);
    r->peers = l.v;
    r->n_peers = l.n;
    return 0;
fail:
    /* The rule keeps zeroed peers where moved ones were: still safe for its owner to release. */
    for (i = 0; i < l.n; i++)
        egress_peer_release(&l.v[i]);
    free(l.v);
    return -1;
}

int setres_apply(struct egress_list *models, const struct setdb *sets, const struct nsdb *ns,
                 struct err *e)
{
    size_t i, k;

    for (i = 0; i < models->n; i++) {
        struct egress_model *m = &models->models[i];

        for (k = 0; k < m->n_rules; k++)
            if (resolve_rule(m, &m->rules[k], sets, ns) < 0)
                return err_set(e, "out of memory");
    }
    return 0;
}
