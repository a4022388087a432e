#include "policy/cni/calico.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy/doc/doc.h"
#include "policy/sets/fqdn.h"
#include "policy/doc/member.h"
#include "policy/eval/judge.h"

#define PATH_LEN 256

struct rd {
    const struct object *obj;
    struct egress_model *m;
    bool global;
    struct err *e;
};

static int fail(const struct rd *r, const json_t *node, const char *path)
{
    if (path && *path)
        err_prefix(r->e, "%s", path);
    return doc_err_at(r->obj->doc, node, r->e);
}

static int failf(const struct rd *r, const json_t *node, const char *path, const char *msg)
{
    err_set(r->e, "%s", msg);
    return fail(r, node, path);
}

static int note(struct rd *r, const json_t *node, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int note(struct rd *r, const json_t *node, const char *path, const char *fmt, ...)
{
    char msg[400];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (egress_model_note(r->m, node, path, "%s", msg) < 0)
        return err_set(r->e, "out of memory");
    return 0;
}

static const json_t *member(const json_t *o, const char *key)
{
    const json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;
    return json_is_null(v) ? NULL : v;
}

static size_t arr_len(const json_t *a)
{
    return json_is_array(a) ? json_array_size(a) : 0;
}

static int want_array(struct rd *r, const json_t *a, const char *path)
{
    return !a || json_is_array(a) ? 0 : failf(r, a, path, "must be a list");
}

/*
 * A Calico selector string. A parse error points into the string: the selector's column is
 * added to the node's position.
 */
static struct selector *parse_sel(struct rd *r, const json_t *node, const char *path)
{
    const char *text = json_string_value(node);
    struct selector *s;
    int line, col, scol;

    if (!text) {
        failf(r, node, path, "must be a selector string");
        return NULL;
    }
    s = selector_parse(text, r->e);
    if (s)
        return s;
    scol = r->e->col;
    err_prefix(r->e, "%s", path);
    if (doc_pos(r->obj->doc, node, &line, &col)) {
        r->e->line = 0;
        err_at(r->e, doc_file(r->obj->doc), line, col + (scol > 0 ? scol - 1 : 0));
    } else {
        r->e->col = 0;
        doc_err_at(r->obj->doc, node, r->e);
    }
    return NULL;
}

/* ---- ports -------------------------------------------------------------------------- */

enum ports_use { USE_WIDE, USE_NARROW }; /* over-approximate (allow) / under (deny) */

/* One Calico port: 80, "80", "8000:8080" or a name. *named set for a name. */
static int parse_port(struct rd *r, const json_t *j, const char *path, unsigned *lo, unsigned *hi,
                      const char **named)
{
    const char *s;
    char *end;
    long a, b;

    *named = NULL;
    if (json_is_integer(j)) {
        a = (long)json_integer_value(j);
        if (a < 0 || a > 65535)
            return failf(r, j, path, "port must be 0-65535");
        *lo = *hi = (unsigned)a;
        return 0;
    }
    s = json_string_value(j);
    if (!s || !*s)
        return failf(r, j, path, "must be a port number, a range \"a:b\" or a port name");
    if (*s >= '0' && *s <= '9') {
        a = strtol(s, &end, 10);
        b = a;
        if (*end == ':')
            b = strtol(end + 1, &end, 10);
        if (*end || a < 0 || b > 65535 || a > b) {
            char msg[160];
            member_path(msg, sizeof(msg), "invalid port or range \"%s\"", s);
            return failf(r, j, path, msg);
        }
        *lo = (unsigned)a;
        *hi = (unsigned)b;
        return 0;
    }
    *named = s;
    return 0;
}

/* A protocol as Calico takes it, a name or a number: its text (in buf for a number), or NULL. */
static const char *proto_text(const json_t *j, char *buf, size_t size)
{
    if (!json_is_integer(j))
        return json_string_value(j);
    snprintf(buf, size, "%lld", (long long)json_integer_value(j));
    return buf;
}

/*
 * The protocols a rule applies to: protocol, minus notProtocol. *single is the protocol when
 * exactly one is named (needed for ports), else -1.
 */
static int read_protocols(struct rd *r, const json_t *rule, const char *path,
                          struct portset *protos, int *single)
{
    const json_t *pj = member(rule, "protocol"), *npj = member(rule, "notProtocol");
    char p[PATH_LEN];
    int proto;

    *single = -1;
    if (pj) {
        char buf[16];
        const char *text = proto_text(pj, buf, sizeof(buf));
        member_path(p, sizeof(p), "%s.protocol", path);
        if (!text || proto_parse(text, &proto, r->e) < 0 || proto == PROTO_ANY) {
            if (text && proto == PROTO_ANY)
                err_set(r->e, "unknown protocol \"%s\"", text);
            else if (!text)
                err_set(r->e, "must be a protocol name or number");
            return fail(r, pj, p);
        }
        *single = proto;
        if (portset_add_proto(protos, proto) < 0)
            return err_set(r->e, "out of memory");
    } else if (portset_add_proto(protos, PROTO_ANY) < 0) {
        return err_set(r->e, "out of memory");
    }
    if (npj) {
        char buf[16];
        const char *text = proto_text(npj, buf, sizeof(buf));
        struct portset *np = portset_new();
        int rc;

        member_path(p, sizeof(p), "%s.notProtocol", path);
        if (!np)
            return err_set(r->e, "out of memory");
        if (!text || proto_parse(text, &proto, r->e) < 0 || proto == PROTO_ANY) {
            portset_free(np);
            if (!text || proto == PROTO_ANY)
                err_set(r->e, "must be a protocol name or number");
            return fail(r, npj, p);
        }
        rc = portset_add_proto(np, proto) < 0 || portset_subtract(protos, np) < 0;
        portset_free(np);
        if (rc)
            return err_set(r->e, "out of memory");
    }
    return 0;
}

/* dst.ports / notPorts into the rule's port set; *drop when a deny cannot be kept. */
static int read_ports(struct rd *r, const json_t *rule, const json_t *dst, const char *path,
                      enum ports_use use, struct portset *out, bool *drop)
{
    const json_t *ports = member(dst, "ports"), *notports = member(dst, "notPorts");
    struct portset *protos = portset_new(), *sel = NULL, *ex = NULL;
    char p[PATH_LEN], dp[PATH_LEN];
    int single, rc = -1;
    size_t i;

    member_path(dp, sizeof(dp), "%s.destination", path);
    if (!protos)
        return err_set(r->e, "out of memory");
    if (read_protocols(r, rule, path, protos, &single) < 0)
        goto out;
    member_path(p, sizeof(p), "%s.ports", dp);
    if (want_array(r, ports, p) < 0)
        goto out;
    member_path(p, sizeof(p), "%s.notPorts", dp);
    if (want_array(r, notports, p) < 0)
        goto out;
    if ((arr_len(ports) || arr_len(notports)) && (single < 0 || !proto_has_ports(single))) {
        member_path(p, sizeof(p), "%s.%s", dp, arr_len(ports) ? "ports" : "notPorts");
        failf(r, arr_len(ports) ? ports : notports, p,
              "ports need protocol TCP, UDP, SCTP or UDPLite on the rule");
        goto out;
    }
    if (!(sel = portset_new()) || !(ex = portset_new()))
        goto oom;
    if (!arr_len(ports)) {
        if (portset_union(sel, protos) < 0)
            goto oom;
    }
    for (i = 0; i < arr_len(ports); i++) {
        unsigned lo, hi;
        const char *named;

        member_path(p, sizeof(p), "%s.ports[%zu]", dp, i);
        if (parse_port(r, json_array_get(ports, i), p, &lo, &hi, &named) < 0)
            goto out;
        if (named && use == USE_NARROW) {
            if (note(r, json_array_get(ports, i), p,
                     "named port \"%s\" cannot be resolved offline: not counted in this deny",
                     named) < 0)
                goto out;
            continue;
        }
        if (named) {
            if (note(r, json_array_get(ports, i), p,
                     "named port \"%s\" cannot be resolved offline: treated as every %s port",
                     named, proto_name(single)) < 0)
                goto out;
            lo = 0;
            hi = 65535;
        }
        if (portset_add_range(sel, single, lo, hi) < 0)
            goto oom;
    }
    for (i = 0; i < arr_len(notports); i++) {
        unsigned lo, hi;
        const char *named;

        member_path(p, sizeof(p), "%s.notPorts[%zu]", dp, i);
        if (parse_port(r, json_array_get(notports, i), p, &lo, &hi, &named) < 0)
            goto out;
        if (named && use == USE_WIDE) {
            if (note(r, json_array_get(notports, i), p,
                     "named port \"%s\" cannot be resolved offline: nothing excluded", named) < 0)
                goto out;
            continue;
        }
        if (named) {
            if (note(r, json_array_get(notports, i), p,
                     "named port \"%s\" cannot be resolved offline: this deny is not counted",
                     named) < 0)
                goto out;
            *drop = true;
            continue;
        }
        if (portset_add_range(ex, single, lo, hi) < 0)
            goto oom;
    }
    if (portset_subtract(sel, ex) < 0 || portset_union(out, sel) < 0)
        goto oom;
    rc = 0;
    goto out;
oom:
    err_set(r->e, "out of memory");
out:
    portset_free(protos);
    portset_free(sel);
    portset_free(ex);
    return rc;
}

/* ---- destinations ------------------------------------------------------------------- */

static struct egress_peer *new_peer(struct rd *r, enum peer_kind kind, const char *path,
                                    const json_t *node)
{
    struct egress_rule *rule = &r->m->rules[r->m->n_rules - 1];
    struct egress_peer *p = egress_rule_add_peer(rule, kind, path, node);

    if (!p)
        err_set(r->e, "out of memory");
    return p;
}

static int read_nets(struct rd *r, const json_t *list, const char *path, struct cidrset *out)
{
    size_t i;
    char p[PATH_LEN];

    if (want_array(r, list, path) < 0)
        return -1;
    for (i = 0; i < arr_len(list); i++) {
        const json_t *n = json_array_get(list, i);
        const char *text = json_string_value(n);
        bool normalized = false;
        struct cidr c;

        member_path(p, sizeof(p), "%s[%zu]", path, i);
        if (!text)
            return failf(r, n, p, "must be a CIDR string");
        if (!*text)
            return failf(r, n, p, "invalid CIDR \"\": empty");
        if (cidr_parse(text, CIDR_BARE_IP, &c, &normalized, r->e) < 0)
            return fail(r, n, p);
        if (normalized && note(r, n, p, "\"%s\" has host bits set: read as its network", text) < 0)
            return -1;
        if (cidrset_add(out, &c) < 0)
            return err_set(r->e, "out of memory");
    }
    return 0;
}

/* The v1 API's single net or notNet, read as a list of one. */
static int read_one_net(struct rd *r, const json_t *net, const char *path, struct cidrset *out)
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

static int add_nets_peer(struct rd *r, const json_t *dst, const char *dp)
{
    const json_t *nets = member(dst, "nets"), *notnets = member(dst, "notNets");
    const json_t *net = member(dst, "net"), *notnet = member(dst, "notNet");
    struct cidrset *ex = cidrset_new();
    struct egress_peer *peer;
    char p[PATH_LEN];
    int rc = -1;

    if (!ex)
        return err_set(r->e, "out of memory");
    peer = new_peer(r, PEER_CIDR, dp, dst);
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
    if (!arr_len(nets) && !net && cidrset_add_all(peer->cidrs, 0) < 0)
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
    if (egress_peer_set_text(peer, "%s%s", arr_len(nets) || net ? "nets" : "every address",
                             arr_len(notnets) || notnet ? " minus notNets" : "") < 0)
        goto oom;
    rc = 0;
    goto out;
oom:
    err_set(r->e, "out of memory");
out:
    cidrset_free(ex);
    return rc;
}

static int add_domains_peer(struct rd *r, const json_t *doms, const char *dp)
{
    struct egress_peer *peer;
    char p[PATH_LEN], norm[FQDN_MAX];
    size_t i;

    member_path(p, sizeof(p), "%s.domains", dp);
    if (want_array(r, doms, p) < 0)
        return -1;
    if (!(peer = new_peer(r, PEER_FQDN, p, doms)))
        return -1;
    for (i = 0; i < arr_len(doms); i++) {
        const json_t *d = json_array_get(doms, i);
        char pi[PATH_LEN];

        member_path(pi, sizeof(pi), "%s[%zu]", p, i);
        if (!json_is_string(d))
            return failf(r, d, pi, "must be a domain name");
        if (fqdn_normalize(json_string_value(d), true, norm, r->e) < 0)
            return fail(r, d, pi);
        /* egress_rule_add_peer may move peers: look the peer up again each time. */
        peer = &r->m->rules[r->m->n_rules - 1].peers[r->m->rules[r->m->n_rules - 1].n_peers - 1];
        if (egress_peer_add_fqdn(peer, norm) < 0)
            return err_set(r->e, "out of memory");
    }
    return 0;
}

/* selector / notSelector / namespaceSelector as one in-cluster peer. */
static int add_cluster_peer(struct rd *r, const json_t *dst, const char *dp, bool narrow)
{
    const json_t *sj = member(dst, "selector"), *nsj = member(dst, "notSelector");
    const json_t *nssj = member(dst, "namespaceSelector");
    struct selector *pod = NULL, *not = NULL, *ns = NULL, *tmp;
    struct egress_peer *peer;
    char p[PATH_LEN];
    int rc = -1;

    if (sj) {
        member_path(p, sizeof(p), "%s.selector", dp);
        if (!(pod = parse_sel(r, sj, p)))
            goto out;
    }
    if (nsj) {
        member_path(p, sizeof(p), "%s.notSelector", dp);
        if (!(not = parse_sel(r, nsj, p)))
            goto out;
        tmp = selector_not(not );
        selector_free(not );
        not = tmp;
        if (!not )
            goto oom;
        tmp = pod ? selector_and(pod, not ) : selector_dup(not );
        selector_free(pod);
        pod = tmp;
        if (!pod)
            goto oom;
    }
    if (nssj) {
        const char *text = json_string_value(nssj);
        member_path(p, sizeof(p), "%s.namespaceSelector", dp);
        if (!(ns = parse_sel(r, nssj, p)))
            goto out;
        if (text && strstr(text, "global()")) {
            /* global(): non-namespaced endpoints (host endpoints, global network sets). */
            if (narrow) {
                rc = note(r, nssj, p,
                          "global() endpoints cannot be represented: this deny is "
                          "not counted");
                goto out;
            }
            if (note(r, nssj, p,
                     "global() endpoints (host endpoints, global network sets) "
                     "cannot be resolved offline: counted as any destination") < 0)
                goto out;
            if (!(peer = new_peer(r, PEER_UNKNOWN, p, nssj)) ||
                !(peer->entity = strdup("global() endpoints")))
                goto oom;
            rc = 0;
            goto out;
        }
    }
    if (!(peer = new_peer(r, PEER_CLUSTER, dp, dst)))
        goto out;
    if (!ns && !r->global) {
        if (!(peer->cluster.ns_name = strdup(r->m->ns)))
            goto oom;
    } else {
        peer->cluster.ns_sel = ns; /* NULL = every namespace (GlobalNetworkPolicy) */
        ns = NULL;
    }
    peer->cluster.pod_sel = pod;
    pod = NULL;
    if (!narrow && sj &&
        note(r, sj, dp,
             "Calico selectors also match NetworkSets and host endpoints with "
             "these labels, whose addresses are not known offline") < 0)
        goto out;
    rc = 0;
    goto out;
oom:
    err_set(r->e, "out of memory");
out:
    selector_free(pod);
    selector_free(not );
    selector_free(ns);
    return rc;
}

static bool nonempty(const json_t *j)
{
    return j && !(json_is_object(j) && json_object_size(j) == 0) &&
           !(json_is_array(j) && json_array_size(j) == 0);
}

static int read_destination(struct rd *r, const json_t *dst, const char *dp, bool narrow,
                            bool *drop)
{
    bool has_nets = nonempty(member(dst, "nets")) || nonempty(member(dst, "notNets")) ||
                    member(dst, "net") || member(dst, "notNet");
    bool has_ep =
        member(dst, "selector") || member(dst, "notSelector") || member(dst, "namespaceSelector");
    bool has_dom = nonempty(member(dst, "domains"));
    bool has_sa = nonempty(member(dst, "serviceAccounts"));
    bool has_svc = nonempty(member(dst, "services"));
    int kinds = has_nets + has_ep + has_dom + has_sa + has_svc;
    struct egress_peer *peer;

    if (dst && !json_is_object(dst))
        return failf(r, dst, dp, "must be an object");
    if (narrow) {
        if (has_sa || has_svc) {
            *drop = true;
            return note(r, dst, dp, "%s cannot be resolved offline: this deny is not counted",
                        has_sa ? "serviceAccounts" : "services");
        }
        if (kinds > 1) {
            *drop = true;
            return note(r, dst, dp,
                        "destination fields combined (AND) cannot be represented "
                        "exactly: this deny is not counted");
        }
    } else if (kinds > 1) {
        if (note(r, dst, dp,
                 "destination fields are AND-ed; only the %s part is counted "
                 "(wider than the rule)",
                 has_ep     ? "selector"
                 : has_dom  ? "domains"
                 : has_nets ? "nets"
                            : "first") < 0)
            return -1;
    }
    if (has_ep)
        return add_cluster_peer(r, dst, dp, narrow);
    if (has_dom)
        return add_domains_peer(r, member(dst, "domains"), dp);
    if (has_nets)
        return add_nets_peer(r, dst, dp);
    if (has_sa || has_svc) {
        const char *what = has_sa ? "serviceAccounts" : "services";
        if (note(r, dst, dp, "%s cannot be resolved offline: counted as any destination", what) < 0)
            return -1;
        if (!(peer = new_peer(r, PEER_UNKNOWN, dp, dst)) || !(peer->entity = strdup(what)))
            return err_set(r->e, "out of memory");
        return 0;
    }
    return new_peer(r, PEER_ALL, dp, dst) ? 0 : -1;
}

static int parse_action(struct rd *r, const json_t *rule, const char *path, enum egress_action *a)
{
    const json_t *aj = member(rule, "action");
    const char *s = json_string_value(aj);
    char p[PATH_LEN];

    member_path(p, sizeof(p), "%s.action", path);
    if (!aj)
        return failf(r, rule, p, "is required (Allow, Deny, Log or Pass)");
    if (s && !strcasecmp(s, "Allow"))
        *a = EGRESS_ALLOW;
    else if (s && !strcasecmp(s, "Deny"))
        *a = EGRESS_DENY;
    else if (s && !strcasecmp(s, "Log"))
        *a = EGRESS_LOG;
    else if (s && (!strcasecmp(s, "Pass") || !strcasecmp(s, "next-tier")))
        *a = EGRESS_PASS;
    else {
        char msg[160];
        member_path(msg, sizeof(msg), "unknown action \"%s\" (Allow, Deny, Log or Pass)",
                    s ? s : "?");
        return failf(r, aj, p, msg);
    }
    return 0;
}

static int read_rule(struct rd *r, const json_t *rule, const char *path)
{
    enum egress_action action = EGRESS_ALLOW;
    struct egress_rule *er;
    const json_t *dst = member(rule, "destination"), *src = member(rule, "source");
    bool narrow, drop = false;
    char dp[PATH_LEN], p[PATH_LEN];
    const char *k;
    json_t *v;

    if (!json_is_object(rule))
        return failf(r, rule, path, "must be an object");
    if (parse_action(r, rule, path, &action) < 0)
        return -1;
    /* Pass takes traffic away from this policy's later rules: under-approximate it. */
    narrow = action == EGRESS_DENY || action == EGRESS_PASS;
    if (!(er = egress_model_add_rule(r->m, action, path, rule)))
        return err_set(r->e, "out of memory");
    member_path(dp, sizeof(dp), "%s.destination", path);
    if (read_ports(r, rule, dst, path, narrow ? USE_NARROW : USE_WIDE, er->ports, &drop) < 0)
        return -1;
    /* Fields that narrow the rule further than the model can say. */
    json_object_foreach((json_t *)rule, k, v) {
        if (!strcmp(k, "action") || !strcmp(k, "destination") || !strcmp(k, "protocol") ||
            !strcmp(k, "notProtocol") || !strcmp(k, "metadata") || json_is_null(v) ||
            (!strcmp(k, "source") && !nonempty(v)))
            continue;
        member_path(p, sizeof(p), "%s.%s", path, k);
        if (!strcmp(k, "ipVersion")) {
            if (!json_is_integer(v) || (json_integer_value(v) != 4 && json_integer_value(v) != 6))
                return failf(r, v, p, "must be 4 or 6");
        }
        if (narrow) {
            drop = true;
            if (note(r, v, p,
                     "%s narrows this deny in a way not modelled: the deny is not "
                     "counted",
                     k) < 0)
                return -1;
        } else if (note(r, v, p, "%s narrows the rule: ignored (counted wider)", k) < 0) {
            return -1;
        }
    }
    (void)src;
    if (!drop && read_destination(r, dst, dp, narrow, &drop) < 0)
        return -1;
    if (drop) {
        /* Under-approximating a deny: it takes nothing away. */
        er = &r->m->rules[r->m->n_rules - 1];
        while (er->n_peers)
            egress_peer_release(&er->peers[--er->n_peers]);
        portset_free(er->ports);
        if (!(er->ports = portset_new()))
            return err_set(r->e, "out of memory");
    }
    return 0;
}

/* ---- the policy --------------------------------------------------------------------- */

bool calico_is_policy(const struct object *obj)
{
    char group[128];

    object_group(obj, group, sizeof(group));
    return (!strcmp(group, "projectcalico.org") || !strcmp(group, "crd.projectcalico.org")) &&
           (!strcmp(obj->kind, "NetworkPolicy") || !strcmp(obj->kind, "GlobalNetworkPolicy"));
}

static int read_types(struct rd *r, const json_t *spec, bool *ingress, bool *egress)
{
    const json_t *types = member(spec, "types");
    size_t i;
    char p[PATH_LEN];

    if (!types) {
        /* Calico: Egress only when egress rules are present; otherwise Ingress. */
        *egress = arr_len(member(spec, "egress")) > 0;
        *ingress = arr_len(member(spec, "ingress")) > 0 || !*egress;
        return 0;
    }
    if (want_array(r, types, "spec.types") < 0)
        return -1;
    *ingress = *egress = false;
    for (i = 0; i < arr_len(types); i++) {
        const char *t = json_string_value(json_array_get(types, i));
        member_path(p, sizeof(p), "spec.types[%zu]", i);
        if (t && !strcmp(t, "Ingress"))
            *ingress = true;
        else if (t && !strcmp(t, "Egress"))
            *egress = true;
        else
            return failf(r, json_array_get(types, i), p, "must be Ingress or Egress");
    }
    return 0;
}

int calico_read(const struct object *obj, struct egress_list *out, struct err *e)
{
    struct rd r = {.obj = obj, .e = e};
    const json_t *spec = member(obj->json, "spec"), *eg, *j;
    struct egress_model *m;
    bool ingress, egress;
    char name[512], p[PATH_LEN];
    size_t i;

    r.global = !strcmp(obj->kind, "GlobalNetworkPolicy");
    if (!(m = egress_list_add(out)))
        return err_set(e, "out of memory");
    r.m = m;
    member_path(name, sizeof(name), "%s/%s", r.global ? "" : (*obj->ns ? obj->ns : "default"),
                obj->name);
    if (!(m->kind = malloc(strlen(obj->kind) + sizeof(".projectcalico.org"))))
        return err_set(e, "out of memory");
    strcpy(m->kind, obj->kind);
    strcat(m->kind, ".projectcalico.org");
    if (!(m->name = strdup(r.global ? obj->name : name)) || !(m->path = strdup("")))
        return err_set(e, "out of memory");
    if (!r.global) {
        if (!(m->ns = strdup(*obj->ns ? obj->ns : "default")))
            return err_set(e, "out of memory");
        if (!*obj->ns && note(&r, obj->json, "metadata.namespace",
                              "no namespace given: the policy is read as in \"default\"") < 0)
            return -1;
    }
    if (spec && !json_is_object(spec))
        return failf(&r, spec, "spec", "must be an object");
    if ((j = member(spec, "selector"))) {
        if (!(m->pod_sel = parse_sel(&r, j, "spec.selector")))
            return -1;
    }
    if ((j = member(spec, "namespaceSelector"))) {
        if (!r.global)
            return failf(&r, j, "spec.namespaceSelector",
                         "only a GlobalNetworkPolicy has a namespaceSelector");
        if (!(m->ns_sel = parse_sel(&r, j, "spec.namespaceSelector")))
            return -1;
    }
    if ((j = member(spec, "order"))) {
        if (!json_is_number(j))
            return failf(&r, j, "spec.order", "must be a number");
        m->has_order = true;
        m->order = json_number_value(j);
    }
    if (read_types(&r, spec, &ingress, &egress) < 0)
        return -1;
    m->ordered = true;
    m->governs_egress = egress;
    m->default_deny = egress;
    if ((j = member(spec, "tier")) && json_is_string(j) &&
        strcmp(json_string_value(j), "default") &&
        note(&r, j, "spec.tier",
             "tier \"%s\": tiers are evaluated in their own order, which is not known offline; "
             "the policy is read as if in the default tier",
             json_string_value(j)) < 0)
        return -1;
    if ((j = member(spec, "serviceAccountSelector"))) {
        /* The subject is narrower than the selector says: not every selected pod is governed. */
        struct selector *sa = parse_sel(&r, j, "spec.serviceAccountSelector");
        if (!sa)
            return -1;
        selector_free(sa);
        m->default_deny = false;
        if (note(&r, j, "spec.serviceAccountSelector",
                 "serviceAccountSelector narrows the subject, which is not modelled: the "
                 "policy's default deny is not counted") < 0)
            return -1;
    }
    for (i = 0; i < 3; i++) {
        static const char *const host_only[] = {"doNotTrack", "preDNAT", "applyOnForward"};
        if ((j = member(spec, host_only[i])) && json_is_true(j)) {
            member_path(p, sizeof(p), "spec.%s", host_only[i]);
            if (note(&r, j, p, "%s applies to host endpoints only", host_only[i]) < 0)
                return -1;
        }
    }
    eg = member(spec, "egress");
    if (want_array(&r, eg, "spec.egress") < 0)
        return -1;
    if (!egress) {
        if (arr_len(eg) && note(&r, eg, "spec.egress",
                                "types does not include Egress: these rules are not applied") < 0)
            return -1;
        return 0;
    }
    for (i = 0; i < arr_len(eg); i++) {
        member_path(p, sizeof(p), "spec.egress[%zu]", i);
        if (read_rule(&r, json_array_get(eg, i), p) < 0)
            return -1;
    }
    return 0;
}

int calico_decide(const struct policy *pol, const struct object *obj, const struct request_ctx *ctx,
                  struct verdict *v, struct err *e)
{
    return judge_read(pol, obj, ctx, calico_read, v, e);
}
