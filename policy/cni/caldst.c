#include "policy/cni/caldst.h"

#include <stdlib.h>
#include <string.h>

#include "policy/doc/member.h"
#include "policy/eval/setres.h"
#include "policy/selector/selsubset.h"
#include "policy/sets/fqdn.h"

static int read_nets(struct calrd *r, const json_t *list, const char *path, struct cidrset *out)
{
    size_t i;
    char p[CALRD_PATH_LEN];

    if (calrd_want_array(r, list, path) < 0)
        return -1;
    for (i = 0; i < calrd_len(list); i++) {
        const json_t *n = json_array_get(list, i);
        const char *text = json_string_value(n);
        bool normalized = false;
        struct cidr c;

        member_path(p, sizeof(p), "%s[%zu]", path, i);
        if (!text)
            return calrd_failf(r, n, p, "must be a CIDR string");
        if (!*text)
            return calrd_failf(r, n, p, "invalid CIDR \"\": empty");
        if (cidr_parse(text, CIDR_BARE_IP, &c, &normalized, r->e) < 0)
            return calrd_fail(r, n, p);
        if (normalized &&
            calrd_note(r, n, p, "\"%s\" has host bits set: read as its network", text) < 0)
            return -1;
        if (cidrset_add(out, &c) < 0)
            return err_set(r->e, "out of memory");
    }
    return 0;
}

/* The v1 API's single net or notNet, read as a list of one. */
static int read_one_net(struct calrd *r, const json_t *net, const char *path, struct cidrset *out)
{
    json_t *one = json_array();
    int rc;

    if (!one || json_array_append(one, (json_t *)net) < 0) {
        json_decref(one);
        return err_set(r->e, "out of memory");
    }
    rc = read_nets(r, one, path, out);
    json_decref(one);
    return rc;
}

static int add_nets_peer(struct calrd *r, const json_t *dst, const char *dp)
{
    const json_t *nets = calrd_member(dst, "nets"), *notnets = calrd_member(dst, "notNets");
    const json_t *net = calrd_member(dst, "net"), *notnet = calrd_member(dst, "notNet");
    struct cidrset *ex = cidrset_new();
    struct egress_peer *peer;
    char p[CALRD_PATH_LEN];
    int rc = -1;

    if (!ex)
        return err_set(r->e, "out of memory");
    peer = calrd_new_peer(r, PEER_CIDR, dp, dst);
    if (!peer)
        goto out;
    member_path(p, sizeof(p), "%s.nets", dp);
    if (read_nets(r, nets, p, peer->cidrs) < 0)
        goto out;
    if (net) {
        member_path(p, sizeof(p), "%s.net", dp);
        if (read_one_net(r, net, p, peer->cidrs) < 0)
            goto out;
    }
    if (!calrd_len(nets) && !net && cidrset_add_all(peer->cidrs, 0) < 0)
        goto oom;
    member_path(p, sizeof(p), "%s.notNets", dp);
    if (read_nets(r, notnets, p, ex) < 0)
        goto out;
    if (notnet) {
        member_path(p, sizeof(p), "%s.notNet", dp);
        if (read_one_net(r, notnet, p, ex) < 0)
            goto out;
    }
    if (cidrset_subtract(peer->cidrs, ex) < 0)
        goto oom;
    if (egress_peer_set_text(peer, "%s%s", calrd_len(nets) || net ? "nets" : "every address",
                             calrd_len(notnets) || notnet ? " minus notNets" : "") < 0)
        goto oom;
    rc = 0;
    goto out;
oom:
    err_set(r->e, "out of memory");
out:
    cidrset_free(ex);
    return rc;
}

int caldst_domain(const char *text, char *norm, bool *widened, struct err *e)
{
    *widened = false;
    if (fqdn_normalize(text, true, norm, e) < 0)
        return -1;
    if (strchr(norm, '*')) {
        *widened = true;
        strcpy(norm, "*");
    }
    return 0;
}

static int add_domains_peer(struct calrd *r, const json_t *doms, const char *dp)
{
    struct egress_peer *peer;
    char p[CALRD_PATH_LEN], norm[FQDN_MAX];
    bool widened;
    size_t i;

    member_path(p, sizeof(p), "%s.domains", dp);
    if (calrd_want_array(r, doms, p) < 0)
        return -1;
    if (!(peer = calrd_new_peer(r, PEER_FQDN, p, doms)))
        return -1;
    for (i = 0; i < calrd_len(doms); i++) {
        const json_t *d = json_array_get(doms, i);
        char pi[CALRD_PATH_LEN];

        member_path(pi, sizeof(pi), "%s[%zu]", p, i);
        if (!json_is_string(d))
            return calrd_failf(r, d, pi, "must be a domain name");
        if (caldst_domain(json_string_value(d), norm, &widened, r->e) < 0)
            return calrd_fail(r, d, pi);
        if (widened && calrd_note(r, d, pi,
                                  "\"%s\": in Calico '*' matches one or more labels, which no "
                                  "allow-list pattern but \"*\" covers: counted as every name",
                                  json_string_value(d)) < 0)
            return -1;
        /* egress_rule_add_peer may move peers: look the peer up again each time. */
        peer = &r->m->rules[r->m->n_rules - 1].peers[r->m->rules[r->m->n_rules - 1].n_peers - 1];
        if (egress_peer_add_fqdn(peer, norm) < 0)
            return err_set(r->e, "out of memory");
    }
    return 0;
}

/* The selector fields of one destination, parsed. */
struct epsel {
    struct selector *sel;     /* selector && !notSelector, projectcalico.org/namespace taken out;
                                 NULL = all() */
    struct selector *ns;      /* namespaceSelector (global() as written); NULL when absent */
    struct selector *ns_part; /* the projectcalico.org/namespace conjuncts, over the name */
    bool has_sel, has_not, has_ns;
    struct buf text;          /* as written: "namespaceSelector ..., selector ..." */
};

static void epsel_release(struct epsel *s)
{
    selector_free(s->sel);
    selector_free(s->ns);
    selector_free(s->ns_part);
    buf_release(&s->text);
}

static int epsel_read(struct calrd *r, const json_t *dst, const char *dp, struct epsel *s)
{
    static const char *const fields[] = {"namespaceSelector", "selector", "notSelector"};
    const json_t *j[3];
    struct selector *neg = NULL, *tmp;
    char p[CALRD_PATH_LEN];
    int i;

    for (i = 0; i < 3; i++) {
        /* An empty string is no selector: libcalico-go tests each field against "". */
        j[i] = calrd_nonempty(calrd_member(dst, fields[i])) ? calrd_member(dst, fields[i]) : NULL;
        if (j[i])
            buf_printf(&s->text, "%s%s %s", s->text.len ? ", " : "", fields[i],
                       json_is_string(j[i]) ? json_string_value(j[i]) : "?");
    }
    s->has_ns = j[0] != NULL;
    s->has_sel = j[1] != NULL;
    s->has_not = j[2] != NULL;
    member_path(p, sizeof(p), "%s.namespaceSelector", dp);
    if (j[0] && !(s->ns = calrd_parse_ns_sel(r, j[0], p)))
        return -1;
    for (i = 1; i < 3; i++) {
        struct selector *one;

        if (!j[i])
            continue;
        member_path(p, sizeof(p), "%s.%s", dp, fields[i]);
        if (!(one = calrd_parse_sel(r, j[i], p)))
            goto fail;
        if (i == 1)
            s->sel = one;
        else
            neg = one;
        /* CRD validation (projectcalico v3 EntityRule, policy_common.go). */
        if (selector_has_global(one)) {
            calrd_failf(r, j[i], p, "global() can only be used in a namespaceSelector");
            goto fail;
        }
    }
    if (neg) {
        tmp = selector_not(neg);
        selector_free(neg);
        neg = tmp;
        tmp = neg && s->sel ? selector_and(s->sel, neg) : neg ? selector_dup(neg) : NULL;
        selector_free(neg);
        neg = NULL;
        selector_free(s->sel);
        if (!(s->sel = tmp))
            return err_set(r->e, "out of memory");
    }
    return calrd_split_ns(r, &s->sel, &s->ns_part);
fail:
    selector_free(neg);
    return -1;
}

/*
 * Where the endpoints of a destination live, as libcalico-go's getEndpointSelector()
 * (syncersv1/updateprocessors/rules.go) builds the rule's selector:
 *  - a namespaceSelector selects namespaces by their labels (Calico prefixes them pcns. on the
 *    endpoints); all() becomes has(projectcalico.org/namespace), every namespace; global()
 *    becomes !has(projectcalico.org/namespace), only endpoints outside namespaces
 *    (GlobalNetworkSets and HostEndpoints), which any selector matching no labels reaches too;
 *  - without one, a namespaced policy's destination is confined to its own namespace as soon as
 *    any selector field is used, notSelector included;
 *  - without one, a GlobalNetworkPolicy's selector matches endpoints everywhere: pods and
 *    NetworkSets of every namespace, GlobalNetworkSets, HostEndpoints.
 * Endpoints are pods (a cluster peer) and address sets (a set reference: NetworkSets carry
 * projectcalico.org/namespace and inherit their namespace's labels, networksetprocessor.go).
 */
struct reach {
    bool namespaced;          /* pods and NetworkSets of namespaces ... */
    const char *ns_name;      /* ... this one (borrowed), or when NULL ... */
    struct selector *ns_sel;  /* ... those this selects (NULL = every namespace) */
    bool global;              /* GlobalNetworkSets and HostEndpoints */
};

static int where(struct calrd *r, struct epsel *s, struct reach *w)
{
    json_t *none = NULL;

    memset(w, 0, sizeof(*w));
    if (s->has_ns) {
        bool has_global = selector_has_global(s->ns);

        /*
         * The namespace selector is matched against the endpoint's namespace labels, and
         * endpoints outside namespaces (GlobalNetworkSets, HostEndpoints) have none: whatever
         * matches no labels reaches them too (`team != 'ml'`, global()), except all(), which
         * Calico rewrites to has(projectcalico.org/namespace).
         */
        if (!(none = json_object()))
            return err_set(r->e, "out of memory");
        w->global = selector_matches(s->ns, none) && (has_global || !selector_is_all(s->ns));
        if (!(w->ns_sel = has_global ? selector_set_global(s->ns, false) : selector_dup(s->ns)))
            goto oom;
        w->namespaced = !selector_is_none(w->ns_sel);
    } else if (!r->global) {
        w->namespaced = true;
        w->ns_name = r->m->ns;
    } else {
        w->namespaced = w->global = true;
    }
    if (s->ns_part) {
        /* The endpoint's own namespace: absent outside namespaces, the name inside. */
        if (w->global) {
            if (!none && !(none = json_object()))
                goto oom;
            w->global = selector_matches(s->ns_part, none);
        }
        if (w->ns_name) {
            w->namespaced = calrd_ns_test(s->ns_part, w->ns_name) != TRI_FALSE;
        } else if (w->namespaced) {
            struct selector *both =
                w->ns_sel ? selector_and(w->ns_sel, s->ns_part) : selector_dup(s->ns_part);

            if (!both)
                goto oom;
            selector_free(w->ns_sel);
            w->ns_sel = both;
        }
    }
    json_decref(none);
    return 0;
oom:
    json_decref(none);
    return err_set(r->e, "out of memory");
}

/* The set reference of a destination (a PEER_UNKNOWN until setres resolves it). */
static int add_setref(struct calrd *r, const json_t *dst, const char *dp, struct epsel *s,
                      struct reach *w)
{
    struct egress_peer *peer;
    struct egress_setref *ref;
    struct buf b;

    if (!(peer = calrd_new_peer(r, PEER_UNKNOWN, dp, dst)))
        return -1;
    if (!(ref = peer->setref = calloc(1, sizeof(*ref))))
        return err_set(r->e, "out of memory");
    ref->kind = SETREF_CALICO;
    ref->namespaced = w->namespaced;
    ref->global = w->global;
    if ((s->sel && !(ref->sel = selector_dup(s->sel))) ||
        (w->ns_name && !(ref->ns_name = strdup(w->ns_name))) ||
        (w->ns_sel && !(ref->ns_sel = selector_dup(w->ns_sel))) ||
        (s->text.len && !(peer->text = strdup(buf_str(&s->text)))))
        return err_set(r->e, "out of memory");
    buf_init_cut(&b, SETRES_TEXT_CAP, "...");
    setres_describe(ref, &b);
    if (!(peer->entity = buf_detach(&b, NULL)))
        return err_set(r->e, "out of memory");
    return 0;
}

/* selector / notSelector / namespaceSelector: pods, and the address sets with those labels. */
static int add_endpoints(struct calrd *r, const json_t *dst, const char *dp, bool narrow)
{
    struct epsel s;
    struct reach w;
    struct egress_peer *peer;
    int rc = -1;

    memset(&s, 0, sizeof(s));
    memset(&w, 0, sizeof(w));
    buf_init_cut(&s.text, EGRESS_PEER_TEXT_CAP, "...");
    if (epsel_read(r, dst, dp, &s) < 0 || where(r, &s, &w) < 0)
        goto out;
    if (r->global && !s.has_ns && !s.has_sel) {
        /*
         * notSelector alone in a GlobalNetworkPolicy: the rule's destination selector is empty
         * and only the negated one is set, so every destination that is not a selected
         * endpoint matches, addresses outside the cluster included (v3 EntityRule: NotSelector
         * "will accept packets from non-Calico sources").
         */
        if (narrow) {
            rc = calrd_note(r, dst, dp,
                            "notSelector alone matches everything but the selected endpoints, "
                            "which cannot be represented: this deny is not counted");
            goto out;
        }
        if (!(peer = calrd_new_peer(r, PEER_ALL, dp, dst)) ||
            egress_peer_set_text(peer, "%s (every destination but the selected endpoints)",
                                 buf_str(&s.text)) < 0) {
            err_set(r->e, "out of memory");
            goto out;
        }
        rc = 0;
        goto out;
    }
    if (w.namespaced) {
        if (!(peer = calrd_new_peer(r, PEER_CLUSTER, dp, dst)))
            goto out;
        if ((w.ns_name && !(peer->cluster.ns_name = strdup(w.ns_name))) ||
            (w.ns_sel && !(peer->cluster.ns_sel = selector_dup(w.ns_sel))) ||
            (s.sel && !(peer->cluster.pod_sel = selector_dup(s.sel))) ||
            (s.text.len && !(peer->text = strdup(buf_str(&s.text))))) {
            err_set(r->e, "out of memory");
            goto out;
        }
    }
    if (narrow) {
        /* A deny takes away the pods it names; what it takes from sets is not counted. */
        if (w.global && !w.namespaced &&
            calrd_note(r, dst, dp,
                       "global() endpoints (GlobalNetworkSets, HostEndpoints) are not counted in "
                       "this deny") < 0)
            goto out;
        rc = 0;
        goto out;
    }
    rc = w.namespaced || w.global ? add_setref(r, dst, dp, &s, &w) : 0;
out:
    selector_free(w.ns_sel);
    epsel_release(&s);
    return rc;
}

int caldst_read(struct calrd *r, const json_t *dst, const char *dp, bool narrow, bool *drop)
{
    bool has_nets = calrd_nonempty(calrd_member(dst, "nets")) ||
                    calrd_nonempty(calrd_member(dst, "notNets")) || calrd_member(dst, "net") ||
                    calrd_member(dst, "notNet");
    bool has_ep = calrd_nonempty(calrd_member(dst, "selector")) ||
                  calrd_nonempty(calrd_member(dst, "notSelector")) ||
                  calrd_nonempty(calrd_member(dst, "namespaceSelector"));
    bool has_dom = calrd_nonempty(calrd_member(dst, "domains"));
    bool has_sa = calrd_nonempty(calrd_member(dst, "serviceAccounts"));
    bool has_svc = calrd_nonempty(calrd_member(dst, "services"));
    int kinds = has_nets + has_ep + has_dom + has_sa + has_svc;
    struct egress_peer *peer;

    if (dst && !json_is_object(dst))
        return calrd_failf(r, dst, dp, "must be an object");
    if (narrow) {
        if (has_sa || has_svc) {
            *drop = true;
            return calrd_note(r, dst, dp, "%s cannot be resolved offline: this deny is not counted",
                        has_sa ? "serviceAccounts" : "services");
        }
        if (kinds > 1) {
            *drop = true;
            return calrd_note(r, dst, dp,
                        "destination fields combined (AND) cannot be represented "
                        "exactly: this deny is not counted");
        }
    } else if (kinds > 1) {
        if (calrd_note(r, dst, dp,
                 "destination fields are AND-ed; only the %s part is counted "
                 "(wider than the rule)",
                 has_ep     ? "selector"
                 : has_dom  ? "domains"
                 : has_nets ? "nets"
                            : "first") < 0)
            return -1;
    }
    if (has_ep)
        return add_endpoints(r, dst, dp, narrow);
    if (has_dom)
        return add_domains_peer(r, calrd_member(dst, "domains"), dp);
    if (has_nets)
        return add_nets_peer(r, dst, dp);
    if (has_sa || has_svc) {
        const char *what = has_sa ? "serviceAccounts" : "services";
        if (calrd_note(r, dst, dp, "%s cannot be resolved offline: counted as any destination",
                       what) < 0)
            return -1;
        if (!(peer = calrd_new_peer(r, PEER_UNKNOWN, dp, dst)) || !(peer->entity = strdup(what)))
            return err_set(r->e, "out of memory");
        return 0;
    }
    if (!(peer = calrd_new_peer(r, PEER_ALL, dp, dst)))
        return -1;
    return egress_peer_set_text(peer, "every destination") < 0 ? err_set(r->e, "out of memory")
                                                                : 0;
}