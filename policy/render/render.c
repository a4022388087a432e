#include "policy/render/render.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/selector/selsubset.h"
#include "policy/base/buf.h"
#include "policy/sets/cidr.h"
#include "policy/sets/portset.h"
#include "policy/selector/selemit.h"

#define NAME_DENY "egressguard-default-deny-egress"
#define NAME_ALLOW "egressguard-allow-egress"
#define NAME_CLUSTER "egressguard-ai-egress"
#define NAME_SAME_NS "egressguard-same-namespace"
#define CILIUM_NS_PREFIX "io.cilium.k8s.namespace.labels."

/* State of one build: the policy, the notes, the first error. */
struct rb {
    const struct policy *pol;
    json_t *notes;
    struct err *e;
};

static int oom(struct rb *b)
{
    return err_set(b->e, "out of memory");
}

static int notef(struct rb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int notef(struct rb *b, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (!b->notes)
        return 0;
    return json_array_append_new(b->notes, json_string(msg)) < 0 ? oom(b) : 0;
}

static int push(json_t *arr, json_t *v)
{
    return v ? json_array_append_new(arr, v) : -1;
}

/* metadata with the managed-by label and the policy-hash annotation; ns may be NULL. */
static json_t *meta(const struct rb *b, const char *name, const char *ns)
{
    json_t *m = json_pack("{s:s, s:{s:s}, s:{s:s}}", "name", name, "labels",
                          RENDER_MANAGED_BY_KEY, RENDER_MANAGED_BY, "annotations",
                          "egressguard.io/policy-hash", b->pol->hash);

    if (m && ns && json_object_set_new(m, "namespace", json_string(ns)) < 0) {
        json_decref(m);
        return NULL;
    }
    return m;
}

static json_t *object(const struct rb *b, const char *api, const char *kind, const char *name,
                      const char *ns, json_t *spec)
{
    if (!spec)
        return NULL;
    return json_pack("{s:s, s:s, s:o, s:o}", "apiVersion", api, "kind", kind, "metadata",
                     meta(b, name, ns), "spec", spec);
}

/* The enforcement labels (policy mutation labels) as a JSON object, keys prefixed. */
static json_t *enforced_labels(const struct policy *pol, const char *prefix)
{
    json_t *o = json_object();
    char key[512];

    for (size_t i = 0; o && i < pol->n_mut_labels; i++) {
        snprintf(key, sizeof(key), "%s%s", prefix, pol->mut_label_keys[i]);
        if (json_object_set_new(o, key, json_string(pol->mut_label_values[i])) < 0) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

/* Does prefix a contain prefix d (d inside a, or equal)? */
static bool cidr_within(const struct cidr *d, const struct cidr *a)
{
    return d->family == a->family && d->bits >= a->bits &&
           cidr_contains_addr(a, a->family, d->addr);
}

/*
 * The entry's prefixes with the always-denied ranges carved out: calls fn(cidr, except[]) for
 * each allowed prefix not wholly denied. except is a JSON array of the denied prefixes inside it.
 */
struct carved {
    char cidr[CIDR_STRLEN];
    json_t *except; /* new reference */
};

static int carve(struct rb *b, const struct cidrset *s, struct carved **out, size_t *n)
{
    struct cidr *al = NULL, *dl = NULL;
    size_t na = 0, nd = 0;
    int rc = -1;

    *out = NULL;
    *n = 0;
    if (cidrset_prefixes(s, &al, &na) < 0 || cidrset_prefixes(b->pol->deny_cidrs, &dl, &nd) < 0)
        goto out;
    if (na && !(*out = calloc(na, sizeof(**out))))
        goto out;
    for (size_t i = 0; i < na; i++) {
        bool gone = false;
        json_t *exc = json_array();
        char text[CIDR_STRLEN];

        if (!exc)
            goto out;
        for (size_t j = 0; j < nd && !gone; j++) {
            if (cidr_within(&al[i], &dl[j])) {
                gone = true;
            } else if (cidr_within(&dl[j], &al[i])) {
                cidr_format(&dl[j], text, sizeof(text));
                if (json_array_append_new(exc, json_string(text)) < 0)
                    gone = true;
            }
        }
        if (gone) {
            cidr_format(&al[i], text, sizeof(text));
            json_decref(exc);
            continue;
        }
        cidr_format(&al[i], (*out)[*n].cidr, sizeof((*out)[*n].cidr));
        (*out)[(*n)++].except = exc;
    }
    rc = 0;
out:
    free(al);
    free(dl);
    return rc < 0 ? oom(b) : 0;
}

static void carved_free(struct carved *c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        json_decref(c[i].except);
    free(c);
}

/* Kubernetes/ANP-style port list. *all set when the entry opens every port (list empty). */
static json_t *k8s_ports(struct rb *b, const struct dest_entry *d, bool anp, bool *all)
{
    struct portrange *r = NULL;
    size_t n = 0;
    json_t *arr = json_array();

    *all = portset_is_all(d->ports);
    if (!arr || *all)
        return arr;
    if (portset_ranges(d->ports, &r, &n) < 0) {
        json_decref(arr);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        const char *proto = proto_name(r[i].proto);
        bool whole = r[i].lo <= 1 && r[i].hi == 65535;
        json_t *p;

        if (!proto_has_ports(r[i].proto)) {
            notef(b, "allow entry \"%s\": protocol %s cannot be expressed in this target's "
                     "ports; not rendered", d->name, proto);
            continue;
        }
        if (anp)
            p = whole || r[i].lo != r[i].hi
                    ? json_pack("{s:{s:s, s:i, s:i}}", "portRange", "protocol", proto, "start",
                                (int)(r[i].lo ? r[i].lo : 1), "end", (int)r[i].hi)
                    : json_pack("{s:{s:s, s:i}}", "portNumber", "protocol", proto, "port",
                                (int)r[i].lo);
        else if (whole)
            p = json_pack("{s:s}", "protocol", proto);
        else if (r[i].lo == r[i].hi)
            p = json_pack("{s:s, s:i}", "protocol", proto, "port", (int)r[i].lo);
        else
            p = json_pack("{s:s, s:i, s:i}", "protocol", proto, "port", (int)r[i].lo, "endPort",
                          (int)r[i].hi);
        if (push(arr, p) < 0) {
            free(r);
            json_decref(arr);
            return NULL;
        }
    }
    free(r);
    return arr;
}

/* ---- Kubernetes NetworkPolicy ---------------------------------------------------------- */

static int np_peer(struct rb *b, const struct peer_spec *p, json_t *to)
{
    json_t *peer = json_object(), *sel;

    if (!peer)
        return oom(b);
    if (!p->same_namespace) {
        if (!(sel = selemit_k8s(p->namespaces, NULL, b->e)) ||
            json_object_set_new(peer, "namespaceSelector", sel) < 0)
            goto fail;
    }
    if (p->same_namespace || !selector_is_all(p->pods)) {
        if (!(sel = selemit_k8s(p->pods, NULL, b->e)) ||
            json_object_set_new(peer, "podSelector", sel) < 0)
            goto fail;
    }
    return json_array_append_new(to, peer) < 0 ? oom(b) : 0;
fail:
    json_decref(peer);
    return -1;
}

static json_t *np_rule(struct rb *b, const struct dest_entry *d)
{
    json_t *to = json_array(), *ports, *rule;
    struct carved *c = NULL;
    size_t n = 0;
    bool all;

    if (!to || carve(b, d->cidrs, &c, &n) < 0) {
        json_decref(to);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *ib = json_array_size(c[i].except)
                         ? json_pack("{s:{s:s, s:O}}", "ipBlock", "cidr", c[i].cidr, "except",
                                     c[i].except)
                         : json_pack("{s:{s:s}}", "ipBlock", "cidr", c[i].cidr);
        if (push(to, ib) < 0)
            goto fail;
    }
    for (size_t i = 0; i < d->n_peers; i++)
        if (np_peer(b, &d->peers[i], to) < 0)
            goto fail;
    if (d->n_fqdns)
        notef(b, "allow entry \"%s\": FQDNs (%s%s) cannot be expressed in a Kubernetes "
                 "NetworkPolicy; not rendered (use the cilium target, or an egress proxy)",
              d->name, d->fqdns[0], d->n_fqdns > 1 ? ", ..." : "");
    carved_free(c, n);
    c = NULL;
    if (!json_array_size(to)) { /* nothing expressible: no rule (an empty `to` would open all) */
        json_decref(to);
        return json_object();
    }
    if (!(ports = k8s_ports(b, d, false, &all)))
        goto fail;
    rule = all || !json_array_size(ports)
               ? json_pack("{s:o}", "to", to)
               : json_pack("{s:o, s:o}", "to", to, "ports", ports);
    if (all || !json_array_size(ports))
        json_decref(ports);
    return rule;
fail:
    carved_free(c, n);
    json_decref(to);
    return NULL;
}

static int np_namespace(struct rb *b, const char *ns, json_t *out);

static int build_networkpolicy(struct rb *b, const struct render_opts *o, json_t *out)
{
    json_t *notes = b->notes;
    int rc = 0;

    for (size_t k = 0; k < o->n_namespaces && rc == 0; k++) {
        b->notes = k ? NULL : notes; /* the same notes hold for every namespace: say them once */
        rc = np_namespace(b, o->namespaces[k], out);
    }
    b->notes = notes;
    return rc;
}

static int np_namespace(struct rb *b, const char *ns, json_t *out)
{
    {
        json_t *egress = json_array();

        if (push(out, object(b, "networking.k8s.io/v1", "NetworkPolicy", NAME_DENY, ns,
                             json_pack("{s:{}, s:[s]}", "podSelector", "policyTypes",
                                       "Egress"))) < 0 ||
            !egress) {
            json_decref(egress);
            return b->e->msg[0] ? -1 : oom(b);
        }
        for (size_t i = 0; i < b->pol->n_allow; i++) {
            json_t *r = np_rule(b, &b->pol->allow[i]);
            if (!r || (json_object_size(r) && json_array_append(egress, r) < 0)) {
                json_decref(r);
                json_decref(egress);
                return b->e->msg[0] ? -1 : oom(b);
            }
            json_decref(r);
        }
        if (push(out, object(b, "networking.k8s.io/v1", "NetworkPolicy", NAME_ALLOW, ns,
                             json_pack("{s:{}, s:[s], s:o}", "podSelector", "policyTypes",
                                       "Egress", "egress", egress))) < 0)
            return b->e->msg[0] ? -1 : oom(b);
    }
    return 0;
}

/* ---- Cilium ------------------------------------------------------------------------------ */

static json_t *cilium_ports(struct rb *b, const struct dest_entry *d)
{
    bool all;
    json_t *k = k8s_ports(b, d, false, &all), *out;
    size_t i;
    json_t *p;

    if (!k || all || !json_array_size(k))
        return k; /* NULL on OOM; empty: every port */
    out = json_array();
    json_array_foreach(k, i, p) {
        char port[16];
        json_t *c;
        json_int_t lo = json_integer_value(json_object_get(p, "port"));
        json_int_t hi = json_integer_value(json_object_get(p, "endPort"));
        snprintf(port, sizeof(port), "%lld", (long long)lo); /* 0: every port (Cilium) */
        c = hi ? json_pack("{s:s, s:s, s:I}", "port", port, "protocol",
                           json_string_value(json_object_get(p, "protocol")), "endPort", hi)
               : json_pack("{s:s, s:s}", "port", port, "protocol",
                           json_string_value(json_object_get(p, "protocol")));
        if (!out || push(out, c) < 0) {
            json_decref(out);
            json_decref(k);
            return NULL;
        }
    }
    json_decref(k);
    return out;
}

/* rule + toPorts (when the entry limits ports); steals rule. */
static json_t *with_ports(json_t *rule, const json_t *ports)
{
    if (rule && json_array_size(ports) &&
        json_object_set_new(rule, "toPorts", json_pack("[{s:O}]", "ports", ports)) < 0) {
        json_decref(rule);
        return NULL;
    }
    return rule;
}

/* A Cilium endpoint selector for an in-cluster peer of a clusterwide policy. */
static json_t *cilium_peer(struct rb *b, const struct peer_spec *p)
{
    json_t *ns = selemit_k8s(p->namespaces, CILIUM_NS_PREFIX, b->e);
    json_t *pods = ns ? selemit_k8s(p->pods, NULL, b->e) : NULL;
    const char *k;
    json_t *v;

    if (!pods) {
        json_decref(ns);
        return NULL;
    }
    /* Merge the two LabelSelectors into one endpoint selector. */
    json_object_foreach(json_object_get(pods, "matchLabels"), k, v) {
        json_t *ml = json_object_get(ns, "matchLabels");
        if (!ml && json_object_set_new(ns, "matchLabels", ml = json_object()) < 0)
            goto fail;
        if (json_object_set(ml, k, v) < 0)
            goto fail;
    }
    if (json_array_size(json_object_get(pods, "matchExpressions"))) {
        json_t *me = json_object_get(ns, "matchExpressions");
        if (!me && json_object_set_new(ns, "matchExpressions", me = json_array()) < 0)
            goto fail;
        if (json_array_extend(me, json_object_get(pods, "matchExpressions")) < 0)
            goto fail;
    }
    json_decref(pods);
    return ns;
fail:
    json_decref(pods);
    json_decref(ns);
    oom(b);
    return NULL;
}

static int cilium_entry(struct rb *b, const struct dest_entry *d, json_t *egress, json_t *same)
{
    json_t *ports = cilium_ports(b, d), *eps = NULL;
    struct carved *c = NULL;
    size_t n = 0;
    int rc = -1;

    if (!ports || carve(b, d->cidrs, &c, &n) < 0)
        goto out;
    if (n) {
        json_t *set = json_array();
        for (size_t i = 0; set && i < n; i++)
            if (push(set, json_array_size(c[i].except)
                              ? json_pack("{s:s, s:O}", "cidr", c[i].cidr, "except", c[i].except)
                              : json_pack("{s:s}", "cidr", c[i].cidr)) < 0)
                goto out_set;
        if (push(egress, with_ports(json_pack("{s:O}", "toCIDRSet", set), ports)) < 0) {
out_set:
            json_decref(set);
            goto out;
        }
        json_decref(set);
    }
    if (!(eps = json_array()))
        goto out;
    for (size_t i = 0; i < d->n_peers; i++) {
        const struct peer_spec *p = &d->peers[i];
        json_t *sel;
        if (p->same_namespace) {
            /* A clusterwide policy has no "own namespace": a namespaced CNP says it. */
            if (!(sel = selemit_k8s(p->pods, NULL, b->e)) ||
                push(same, with_ports(json_pack("{s:[o]}", "toEndpoints", sel), ports)) < 0)
                goto out;
            continue;
        }
        if (!(sel = cilium_peer(b, p)) || push(eps, sel) < 0)
            goto out;
    }
    if (json_array_size(eps) &&
        push(egress, with_ports(json_pack("{s:O}", "toEndpoints", eps), ports)) < 0)
        goto out;
    if (d->n_fqdns) {
        json_t *fq = json_array();
        for (size_t i = 0; fq && i < d->n_fqdns; i++) {
            const char *f = d->fqdns[i];
            if (push(fq, strchr(f, '*') ? json_pack("{s:s}", "matchPattern", f)
                                        : json_pack("{s:s}", "matchName", f)) < 0) {
                json_decref(fq);
                goto out;
            }
        }
        if (push(egress, with_ports(json_pack("{s:o}", "toFQDNs", fq), ports)) < 0)
            goto out;
    }
    rc = 0;
out:
    if (rc < 0 && !b->e->msg[0])
        oom(b);
    json_decref(eps);
    json_decref(ports);
    carved_free(c, n);
    return rc;
}

/* The kube-dns rule toFQDNs needs: DNS answers through Cilium's proxy teach it the names' IPs. */
static json_t *cilium_dns_rule(void)
{
    return json_pack("{s:[{s:{s:s, s:s}}], s:[{s:[{s:s, s:s}, {s:s, s:s}], s:{s:[{s:s}]}}]}",
                     "toEndpoints", "matchLabels", "k8s:io.kubernetes.pod.namespace",
                     "kube-system", "k8s:k8s-app", "kube-dns", "toPorts", "ports", "port", "53",
                     "protocol", "UDP", "port", "53", "protocol", "TCP", "rules", "dns",
                     "matchPattern", "*");
}

static int build_cilium(struct rb *b, const struct render_opts *o, json_t *out)
{
    json_t *egress = json_array(), *same = json_array(), *deny = json_array(), *spec = NULL;
    json_t *sel = enforced_labels(b->pol, CILIUM_NS_PREFIX);
    bool fqdns = false;
    int rc = -1;

    if (!egress || !same || !deny || !sel)
        goto out;
    for (size_t i = 0; i < b->pol->n_allow; i++) {
        if (cilium_entry(b, &b->pol->allow[i], egress, same) < 0)
            goto out;
        fqdns |= b->pol->allow[i].n_fqdns > 0;
    }
    if (fqdns && push(egress, cilium_dns_rule()) < 0)
        goto out;
    {
        struct cidr *dl = NULL;
        size_t nd = 0;
        char text[CIDR_STRLEN];
        if (cidrset_prefixes(b->pol->deny_cidrs, &dl, &nd) < 0)
            goto out;
        for (size_t i = 0; i < nd; i++) {
            cidr_format(&dl[i], text, sizeof(text));
            if (push(deny, json_pack("{s:s}", "cidr", text)) < 0) {
                free(dl);
                goto out;
            }
        }
        free(dl);
    }
    spec = json_pack("{s:{s:O}, s:O}", "endpointSelector", "matchLabels", sel, "egress", egress);
    if (spec && json_array_size(deny) &&
        json_object_set_new(spec, "egressDeny", json_pack("[{s:O}]", "toCIDRSet", deny)) < 0)
        goto out;
    if (push(out, object(b, "cilium.io/v2", "CiliumClusterwideNetworkPolicy", NAME_CLUSTER, NULL,
                         spec)) < 0) {
        spec = NULL;
        goto out;
    }
    spec = NULL;
    if (json_array_size(same)) {
        if (!o->n_namespaces)
            notef(b, "sameNamespace peers need a namespaced CiliumNetworkPolicy per AI "
                     "namespace: give --namespace NS to render them");
        for (size_t k = 0; k < o->n_namespaces; k++)
            if (push(out, object(b, "cilium.io/v2", "CiliumNetworkPolicy", NAME_SAME_NS,
                                 o->namespaces[k],
                                 json_pack("{s:{}, s:O}", "endpointSelector", "egress",
                                           same))) < 0)
                goto out;
    }
    rc = 0;
out:
    if (rc < 0 && !b->e->msg[0])
        oom(b);
    json_decref(spec);
    json_decref(egress);
    json_decref(same);
    json_decref(deny);
    json_decref(sel);
    return rc;
}

/* ---- Calico -------------------------------------------------------------------------------- */

/* A Calico selector expression (all() for everything). NULL with e on OOM. */
static json_t *calico_sel(struct rb *b, const struct selector *s)
{
    struct buf t;
    json_t *j;

    buf_init(&t, 0);
    if (selector_format(s, &t) < 0) {
        buf_release(&t);
        oom(b);
        return NULL;
    }
    j = json_string(buf_str(&t));
    buf_release(&t);
    if (!j)
        oom(b);
    return j;
}

/* The enforcement labels as a Calico selector: k == "v" && ... */
static json_t *calico_enforced(const struct policy *pol)
{
    struct buf t;
    json_t *j;

    buf_init(&t, 0);
    for (size_t i = 0; i < pol->n_mut_labels; i++)
        buf_printf(&t, "%s%s == \"%s\"", i ? " && " : "", pol->mut_label_keys[i],
                   pol->mut_label_values[i]);
    j = t.failed ? NULL : json_string(pol->n_mut_labels ? buf_str(&t) : "all()");
    buf_release(&t);
    return j;
}

/*
 * Appends one Allow rule per protocol of the entry's ports (Calico rules name one protocol),
 * each with destination `dst` plus its ports; one rule without protocol for every port.
 */
static int calico_allow(struct rb *b, const struct dest_entry *d, const json_t *dst, json_t *rules)
{
    struct portrange *r = NULL;
    size_t n = 0;
    int rc = -1;

    if (portset_is_all(d->ports))
        return push(rules, json_pack("{s:s, s:O}", "action", "Allow", "destination", dst)) < 0
                   ? oom(b)
                   : 0;
    if (portset_ranges(d->ports, &r, &n) < 0)
        return oom(b);
    for (size_t i = 0; i < n;) {
        int proto = r[i].proto;
        json_t *dcopy = json_deep_copy(dst), *ports = json_array();
        bool whole = false;

        for (; i < n && r[i].proto == proto; i++) {
            char text[16];
            if (!proto_has_ports(proto) || (r[i].lo <= 1 && r[i].hi == 65535)) {
                whole = true;
                continue;
            }
            if (r[i].lo == r[i].hi) {
                if (push(ports, json_integer(r[i].lo)) < 0)
                    goto fail;
            } else {
                snprintf(text, sizeof(text), "%u:%u", r[i].lo, r[i].hi);
                if (push(ports, json_string(text)) < 0)
                    goto fail;
            }
        }
        if (!dcopy || !ports)
            goto fail;
        if (!whole && json_array_size(ports) && json_object_set(dcopy, "ports", ports) < 0)
            goto fail;
        json_decref(ports);
        ports = NULL;
        if (push(rules, json_pack("{s:s, s:s, s:o}", "action", "Allow", "protocol",
                                  proto_name(proto), "destination", dcopy)) < 0)
            goto out;
        continue;
fail:
        json_decref(dcopy);
        json_decref(ports);
        goto out;
    }
    rc = 0;
out:
    free(r);
    return rc < 0 ? oom(b) : 0;
}

static int calico_entry(struct rb *b, const struct dest_entry *d, json_t *rules, json_t *same)
{
    struct carved *c = NULL;
    size_t n = 0;
    int rc = -1;

    if (carve(b, d->cidrs, &c, &n) < 0)
        return -1;
    if (n) {
        json_t *nets = json_array(), *not = json_array(), *dst;
        for (size_t i = 0; nets && not && i < n; i++)
            if (push(nets, json_string(c[i].cidr)) < 0 || json_array_extend(not, c[i].except) < 0)
                break;
        dst = json_array_size(not) ? json_pack("{s:O, s:O}", "nets", nets, "notNets", not)
                                   : json_pack("{s:O}", "nets", nets);
        json_decref(nets);
        json_decref(not);
        if (!dst)
            goto out;
        rc = calico_allow(b, d, dst, rules);
        json_decref(dst);
        if (rc < 0)
            goto out;
        rc = -1;
    }
    for (size_t i = 0; i < d->n_peers; i++) {
        const struct peer_spec *p = &d->peers[i];
        json_t *dst;
        int r2;
        if (p->same_namespace)
            dst = json_pack("{s:o}", "selector", calico_sel(b, p->pods));
        else
            dst = json_pack("{s:o, s:o}", "namespaceSelector", calico_sel(b, p->namespaces),
                            "selector", calico_sel(b, p->pods));
        if (!dst)
            goto out;
        r2 = calico_allow(b, d, dst, p->same_namespace ? same : rules);
        json_decref(dst);
        if (r2 < 0)
            goto out;
    }
    if (d->n_fqdns)
        notef(b, "allow entry \"%s\": FQDNs (%s%s) cannot be expressed in Calico open-source "
                 "policy (destination.domains is Calico Enterprise); not rendered",
              d->name, d->fqdns[0], d->n_fqdns > 1 ? ", ..." : "");
    rc = 0;
out:
    carved_free(c, n);
    if (rc < 0 && !b->e->msg[0])
        oom(b);
    return rc;
}

static int build_calico(struct rb *b, const struct render_opts *o, json_t *out)
{
    json_t *rules = json_array(), *same = json_array(), *spec = NULL, *nets = json_array();
    struct cidr *dl = NULL;
    size_t nd = 0;
    char text[CIDR_STRLEN];
    int rc = -1;

    if (!rules || !same || !nets || cidrset_prefixes(b->pol->deny_cidrs, &dl, &nd) < 0)
        goto out;
    for (size_t i = 0; i < nd; i++) {
        cidr_format(&dl[i], text, sizeof(text));
        if (push(nets, json_string(text)) < 0)
            goto out;
    }
    if (nd && push(rules, json_pack("{s:s, s:{s:O}}", "action", "Deny", "destination", "nets",
                                    nets)) < 0)
        goto out;
    for (size_t i = 0; i < b->pol->n_allow; i++)
        if (calico_entry(b, &b->pol->allow[i], rules, same) < 0)
            goto out;
    if (push(rules, json_pack("{s:s}", "action", "Deny")) < 0)
        goto out;
    spec = json_pack("{s:i, s:o, s:s, s:[s], s:O}", "order", RENDER_CALICO_ORDER,
                     "namespaceSelector", calico_enforced(b->pol), "selector", "all()", "types",
                     "Egress", "egress", rules);
    if (push(out, object(b, "projectcalico.org/v3", "GlobalNetworkPolicy", NAME_CLUSTER, NULL,
                         spec)) < 0)
        goto out;
    if (json_array_size(same)) {
        if (!o->n_namespaces)
            notef(b, "sameNamespace peers need a namespaced Calico NetworkPolicy per AI "
                     "namespace: give --namespace NS to render them");
        for (size_t k = 0; k < o->n_namespaces; k++)
            if (push(out, object(b, "projectcalico.org/v3", "NetworkPolicy", NAME_SAME_NS,
                                 o->namespaces[k],
                                 json_pack("{s:i, s:s, s:[s], s:O}", "order",
                                           RENDER_CALICO_ORDER - 10, "selector", "all()", "types",
                                           "Egress", "egress", same))) < 0)
                goto out;
    }
    rc = 0;
out:
    free(dl);
    if (rc < 0 && !b->e->msg[0])
        oom(b);
    json_decref(rules);
    json_decref(same);
    json_decref(nets);
    return rc;
}

/* ---- AdminNetworkPolicy ---------------------------------------------------------------- */

static int anp_entry(struct rb *b, const struct dest_entry *d, json_t *egress)
{
    json_t *to = json_array(), *ports = NULL, *nets = json_array(), *rule;
    struct cidr *al = NULL;
    size_t na = 0;
    char name[128], text[CIDR_STRLEN];
    bool all;
    int rc = -1;

    if (!to || !nets || cidrset_prefixes(d->cidrs, &al, &na) < 0)
        goto out;
    /* Deny rules come first in the ANP, so allowed networks need no carving. */
    for (size_t i = 0; i < na; i++) {
        cidr_format(&al[i], text, sizeof(text));
        if (push(nets, json_string(text)) < 0)
            goto out;
    }
    if (na && push(to, json_pack("{s:O}", "networks", nets)) < 0)
        goto out;
    for (size_t i = 0; i < d->n_peers; i++) {
        const struct peer_spec *p = &d->peers[i];
        json_t *ns, *pods;
        if (p->same_namespace) {
            notef(b, "allow entry \"%s\": sameNamespace has no AdminNetworkPolicy form; not "
                     "rendered (the BaselineAdminNetworkPolicy denies it unless a namespaced "
                     "NetworkPolicy allows it)", d->name);
            continue;
        }
        if (!(ns = selemit_k8s(p->namespaces, NULL, b->e)))
            goto out;
        if (selector_is_all(p->pods)) {
            if (push(to, json_pack("{s:o}", "namespaces", ns)) < 0)
                goto out;
        } else if (!(pods = selemit_k8s(p->pods, NULL, b->e)) ||
                   push(to, json_pack("{s:{s:o, s:o}}", "pods", "namespaceSelector", ns,
                                      "podSelector", pods)) < 0) {
            goto out;
        }
    }
    if (d->n_fqdns) {
        json_t *names = json_array();
        for (size_t i = 0; names && i < d->n_fqdns; i++)
            if (push(names, json_string(d->fqdns[i])) < 0)
                break;
        if (push(to, json_pack("{s:o}", "domainNames", names)) < 0)
            goto out;
        notef(b, "allow entry \"%s\": FQDNs rendered as domainNames peers, which need an "
                 "AdminNetworkPolicy implementation supporting them", d->name);
    }
    if (!json_array_size(to)) {
        rc = 0;
        goto out;
    }
    if (!(ports = k8s_ports(b, d, true, &all)))
        goto out;
    snprintf(name, sizeof(name), "allow-%s", d->name);
    rule = json_pack("{s:s, s:s, s:O}", "name", name, "action", "Allow", "to", to);
    if (rule && !all && json_array_size(ports) && json_object_set(rule, "ports", ports) < 0) {
        json_decref(rule);
        goto out;
    }
    rc = push(egress, rule);
out:
    free(al);
    json_decref(to);
    json_decref(nets);
    json_decref(ports);
    if (rc < 0 && !b->e->msg[0])
        oom(b);
    return rc;
}

static int build_anp(struct rb *b, json_t *out)
{
    json_t *egress = json_array(), *subject = enforced_labels(b->pol, "");
    char name[128], text[CIDR_STRLEN];
    int rc = -1;

    if (!egress || !subject)
        goto out;
    for (size_t i = 0; i < b->pol->n_deny; i++) {
        const struct dest_entry *d = &b->pol->deny[i];
        struct cidr *dl = NULL;
        size_t nd = 0;
        json_t *nets = json_array();
        if (!nets || cidrset_prefixes(d->cidrs, &dl, &nd) < 0) {
            json_decref(nets);
            goto out;
        }
        for (size_t j = 0; j < nd; j++) {
            cidr_format(&dl[j], text, sizeof(text));
            push(nets, json_string(text));
        }
        free(dl);
        snprintf(name, sizeof(name), "deny-%s", d->name);
        if (!nd) {
            json_decref(nets);
            continue;
        }
        if (push(egress, json_pack("{s:s, s:s, s:[{s:o}]}", "name", name, "action", "Deny", "to",
                                   "networks", nets)) < 0)
            goto out;
    }
    for (size_t i = 0; i < b->pol->n_allow; i++)
        if (anp_entry(b, &b->pol->allow[i], egress) < 0)
            goto out;
    if (json_array_size(egress) > 100) {
        err_set(b->e, "the allow-list needs %zu AdminNetworkPolicy rules; at most 100 fit",
                json_array_size(egress));
        goto out;
    }
    if (push(out, object(b, "policy.networking.k8s.io/v1alpha1", "AdminNetworkPolicy",
                         NAME_CLUSTER, NULL,
                         json_pack("{s:i, s:{s:{s:O}}, s:O}", "priority", 10, "subject",
                                   "namespaces", "matchLabels", subject, "egress", egress))) < 0)
        goto out;
    /* The baseline is a singleton named "default". */
    if (push(out, object(b, "policy.networking.k8s.io/v1alpha1", "BaselineAdminNetworkPolicy",
                         "default", NULL,
                         json_pack("{s:{s:{s:O}}, s:[{s:s, s:s, s:[{s:[s, s]}, {s:{}}]}]}",
                                   "subject", "namespaces", "matchLabels", subject, "egress",
                                   "name", "default-deny-egress", "action", "Deny", "to",
                                   "networks", "0.0.0.0/0", "::/0", "namespaces"))) < 0)
        goto out;
    rc = 0;
out:
    if (rc < 0 && !b->e->msg[0])
        oom(b);
    json_decref(egress);
    json_decref(subject);
    return rc;
}

/* ---- entry points ------------------------------------------------------------------------ */

int render_target_parse(const char *name, enum render_target *out)
{
    static const char *const names[] = {"networkpolicy", "cilium", "calico",
                                        "adminnetworkpolicy"};

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (!strcmp(name, names[i])) {
            *out = (enum render_target)i;
            return 0;
        }
    return -1;
}

json_t *render_build(const struct policy *pol, enum render_target t, const struct render_opts *o,
                     json_t **notes, struct err *e)
{
    static const struct render_opts none = {0};
    struct rb b = {.pol = pol, .e = e};
    json_t *out = json_array();
    int rc = -1;

    if (!o)
        o = &none;
    if (notes)
        *notes = NULL;
    if (!out || (notes && !(b.notes = json_array()))) {
        oom(&b);
        goto out;
    }
    switch (t) {
    case RENDER_NETWORKPOLICY:
        if (!o->n_namespaces) {
            err_set(e, "NetworkPolicies are namespaced: name the AI namespaces to render for");
            goto out;
        }
        rc = build_networkpolicy(&b, o, out);
        break;
    case RENDER_CILIUM:
        rc = build_cilium(&b, o, out);
        break;
    case RENDER_CALICO:
        rc = build_calico(&b, o, out);
        break;
    case RENDER_ANP:
        rc = build_anp(&b, out);
        break;
    }
out:
    if (rc < 0) {
        json_decref(out);
        json_decref(b.notes);
        return NULL;
    }
    if (notes)
        *notes = b.notes;
    return out;
}
