#include "policy/render/rbuild.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/base/buf.h"
#include "policy/render/render.h"
#include "policy/selector/selemit.h"
#include "policy/selector/selsubset.h"
#include "policy/sets/fqdn.h"
#include "policy/sets/portset.h"

static json_t *cilium_ports(struct rbuild *b, const struct dest_entry *d)
{
    bool all;
    json_t *k = rbuild_k8s_ports(b, d, false, &all), *out;
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
        if (!out || rbuild_push(out, c) < 0) {
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

/*
 * The names AI pods may resolve, as Cilium DNS rule entries: every allow-listed name (matchName)
 * and pattern (matchPattern), and under each cluster suffix the depths that Service and Pod names
 * take (name.ns.svc.cluster.local, host.name.ns.svc.cluster.local: up to four labels), since
 * Cilium's '*' matches within one label (pkg/fqdn/matchpattern). Anything else the DNS proxy
 * refuses: the query never leaves the cluster.
 */
static json_t *dns_patterns(const struct policy *pol)
{
    json_t *out = json_array(), *seen = json_object();
    char pat[FQDN_MAX + 16];

    if (!out || !seen)
        goto fail;
    for (size_t i = 0; i < pol->n_allow; i++)
        for (size_t k = 0; k < pol->allow[i].n_fqdns; k++) {
            const char *f = pol->allow[i].fqdns[k];

            if (json_object_get(seen, f))
                continue;
            if (json_object_set_new(seen, f, json_true()) < 0 ||
                rbuild_push(out, json_pack("{s:s}", strchr(f, '*') ? "matchPattern" : "matchName",
                                           f)) < 0)
                goto fail;
        }
    for (size_t i = 0; i < pol->n_dns_suffixes; i++) {
        const char *stars = "*.*.*.*.";

        for (int depth = 1; depth <= 4; depth++) {
            snprintf(pat, sizeof(pat), "%.*s%s", depth * 2, stars, pol->dns_suffixes[i]);
            if (rbuild_push(out, json_pack("{s:s}", "matchPattern", pat)) < 0)
                goto fail;
        }
    }
    json_decref(seen);
    return out;
fail:
    json_decref(seen);
    json_decref(out);
    return NULL;
}

/* Does the entry open only DNS (UDP/53, TCP/53) to in-cluster peers? Its rules get the names. */
static bool dns_only(const struct dest_entry *d)
{
    struct portset *dns = portset_new();
    bool yes;

    if (!dns || portset_add_range(dns, PROTO_UDP, 53, 53) < 0 ||
        portset_add_range(dns, PROTO_TCP, 53, 53) < 0) {
        portset_free(dns);
        return false;
    }
    yes = d->n_peers && !d->n_fqdns && cidrset_is_empty(d->cidrs) &&
          !portset_is_empty(d->ports) && portset_subset(d->ports, dns);
    portset_free(dns);
    return yes;
}

/* rule + toPorts with the DNS rule of dns_patterns(); steals rule. */
static json_t *with_dns(json_t *rule, const json_t *ports, const json_t *names)
{
    if (rule && json_object_set_new(rule, "toPorts",
                                    json_pack("[{s:O, s:{s:O}}]", "ports", ports, "rules", "dns",
                                              names)) < 0) {
        json_decref(rule);
        return NULL;
    }
    return rule;
}

/* A Cilium endpoint selector for an in-cluster peer of a clusterwide policy. */
static json_t *cilium_peer(struct rbuild *b, const struct peer_spec *p)
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
    rbuild_oom(b);
    return NULL;
}

static int cilium_entry(struct rbuild *b, const struct dest_entry *d, json_t *egress, json_t *same,
                        const json_t *names)
{
    json_t *ports = cilium_ports(b, d), *eps = NULL;
    bool dns = dns_only(d) && json_array_size(ports);
    struct rbuild_carved *c = NULL;
    size_t n = 0;
    int rc = -1;

    if (!ports || rbuild_carve(b, d->cidrs, &c, &n) < 0)
        goto out;
    if (n) {
        json_t *set = json_array();
        for (size_t i = 0; set && i < n; i++)
            if (rbuild_push(set, json_array_size(c[i].except)
                              ? json_pack("{s:s, s:O}", "cidr", c[i].cidr, "except", c[i].except)
                              : json_pack("{s:s}", "cidr", c[i].cidr)) < 0)
                goto out_set;
        if (rbuild_push(egress, with_ports(json_pack("{s:O}", "toCIDRSet", set), ports)) < 0) {
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
                rbuild_push(same, dns ? with_dns(json_pack("{s:[o]}", "toEndpoints", sel), ports,
                                                 names)
                                      : with_ports(json_pack("{s:[o]}", "toEndpoints", sel),
                                                   ports)) < 0)
                goto out;
            continue;
        }
        if (!(sel = cilium_peer(b, p)) || rbuild_push(eps, sel) < 0)
            goto out;
    }
    if (json_array_size(eps) &&
        rbuild_push(egress, dns ? with_dns(json_pack("{s:O}", "toEndpoints", eps), ports, names)
                                : with_ports(json_pack("{s:O}", "toEndpoints", eps), ports)) < 0)
        goto out;
    if (d->n_fqdns) {
        json_t *fq = json_array();
        for (size_t i = 0; fq && i < d->n_fqdns; i++) {
            const char *f = d->fqdns[i];
            if (rbuild_push(fq, strchr(f, '*') ? json_pack("{s:s}", "matchPattern", f)
                                        : json_pack("{s:s}", "matchName", f)) < 0) {
                json_decref(fq);
                goto out;
            }
        }
        if (rbuild_push(egress, with_ports(json_pack("{s:o}", "toFQDNs", fq), ports)) < 0)
            goto out;
    }
    rc = 0;
out:
    if (rc < 0 && !b->e->msg[0])
        rbuild_oom(b);
    json_decref(eps);
    json_decref(ports);
    rbuild_carved_free(c, n);
    return rc;
}

/*
 * The kube-dns rule toFQDNs needs: DNS answers through Cilium's proxy teach it the names' IPs.
 * Only the names of dns_patterns() resolve, not `*`: DNS itself is an egress channel.
 */
static json_t *cilium_dns_rule(const json_t *names)
{
    return json_pack("{s:[{s:{s:s, s:s}}], s:[{s:[{s:s, s:s}, {s:s, s:s}], s:{s:O}}]}",
                     "toEndpoints", "matchLabels", "k8s:io.kubernetes.pod.namespace",
                     "kube-system", "k8s:k8s-app", "kube-dns", "toPorts", "ports", "port", "53",
                     "protocol", "UDP", "port", "53", "protocol", "TCP", "rules", "dns", names);
}

int render_cilium(struct rbuild *b, const struct render_opts *o, json_t *out)
{
    json_t *egress = json_array(), *same = json_array(), *deny = json_array(), *spec = NULL;
    json_t *sel = rbuild_enforced_labels(b->pol, CILIUM_NS_PREFIX);
    json_t *names = dns_patterns(b->pol);
    bool fqdns = false;
    int rc = -1;

    if (!egress || !same || !deny || !sel || !names)
        goto out;
    for (size_t i = 0; i < b->pol->n_allow; i++) {
        if (cilium_entry(b, &b->pol->allow[i], egress, same, names) < 0)
            goto out;
        fqdns |= b->pol->allow[i].n_fqdns > 0;
    }
    if (fqdns && rbuild_push(egress, cilium_dns_rule(names)) < 0)
        goto out;
    {
        struct cidr *dl = NULL;
        size_t nd = 0;
        char text[CIDR_STRLEN];
        if (cidrset_prefixes(b->pol->deny_cidrs, &dl, &nd) < 0)
            goto out;
        for (size_t i = 0; i < nd; i++) {
            cidr_format(&dl[i], text, sizeof(text));
            if (rbuild_push(deny, json_pack("{s:s}", "cidr", text)) < 0) {
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
    if (rbuild_push(out, rbuild_object(b, "cilium.io/v2", "CiliumClusterwideNetworkPolicy", NAME_CLUSTER, NULL,
                         spec)) < 0) {
        spec = NULL;
        goto out;
    }
    spec = NULL;
    if (json_array_size(same)) {
        if (!o->n_namespaces)
            rbuild_note(b, "sameNamespace peers need a namespaced CiliumNetworkPolicy per AI "
                     "namespace: give --namespace NS to render them");
        for (size_t k = 0; k < o->n_namespaces; k++)
            if (rbuild_push(out, rbuild_object(b, "cilium.io/v2", "CiliumNetworkPolicy", NAME_SAME_NS,
                                 o->namespaces[k],
                                 json_pack("{s:{}, s:O}", "endpointSelector", "egress",
                                           same))) < 0)
                goto out;
    }
    rc = 0;
out:
    if (rc < 0 && !b->e->msg[0])
        rbuild_oom(b);
    json_decref(spec);
    json_decref(egress);
    json_decref(same);
    json_decref(deny);
    json_decref(sel);
    json_decref(names);
    return rc;
}
