#include "policy/cni/anp.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/doc/doc.h"
#include "policy/doc/member.h"
#include "policy/eval/judge.h"
#include "policy/sets/fqdn.h"

#define PATH_LEN 200

struct anprd {
    const struct object *obj;
    struct egress_model *m;
    bool baseline;
    const char *rule_name; /* the rule being read: its `name`, or NULL */
    struct err *e;
};

/* A peer's text for messages: what it is, and in which named rule. */
static char *peer_text(const struct anprd *r, const char *what)
{
    char buf[256];

    if (r->rule_name)
        snprintf(buf, sizeof(buf), "%s of rule \"%s\"", what, r->rule_name);
    else
        snprintf(buf, sizeof(buf), "%s", what);
    return strdup(buf);
}

/* Sets e to "path: message", positioned at node (or the object). Returns -1. */
static int fail(const struct anprd *r, const json_t *node, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(const struct anprd *r, const json_t *node, const char *path, const char *fmt, ...)
{
    char msg[sizeof(r->e->msg)];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    err_set(r->e, "%s: %s", path, msg);
    return doc_err_at(r->obj->doc, node ? node : r->obj->json, r->e);
}

static int note(struct anprd *r, const json_t *node, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int note(struct anprd *r, const json_t *node, const char *path, const char *fmt, ...)
{
    char msg[400];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return egress_model_note(r->m, node, path, "%s", msg) < 0 ? err_set(r->e, "out of memory")
                                                                : 0;
}

/* A member that is present and not null, else NULL. */
static const json_t *member(const json_t *o, const char *key)
{
    const json_t *j = json_is_object(o) ? json_object_get(o, key) : NULL;

    return json_is_null(j) ? NULL : j;
}

bool anp_is_policy(const struct object *obj)
{
    char group[128];

    object_group(obj, group, sizeof(group));
    return !strcmp(group, "policy.networking.k8s.io") &&
           (!strcmp(obj->kind, "AdminNetworkPolicy") ||
            !strcmp(obj->kind, "BaselineAdminNetworkPolicy"));
}

static struct selector *read_sel(struct anprd *r, const json_t *j, const char *path)
{
    const json_t *where = NULL;
    struct selector *s;

    if (!json_is_object(j)) {
        fail(r, j, path, "must be a label selector (an object)");
        return NULL;
    }
    if (!(s = selector_from_json(j, &where, r->e))) {
        err_prefix(r->e, "%s", path);
        doc_err_at(r->obj->doc, where ? where : j, r->e);
    }
    return s;
}

/* NamespacedPod: namespaceSelector AND podSelector, both required (shared_types.go). */
static int read_namespaced_pod(struct anprd *r, const json_t *j, const char *path,
                               struct selector **ns, struct selector **pods)
{
    char p[PATH_LEN];

    *ns = *pods = NULL;
    if (!json_is_object(j))
        return fail(r, j, path, "must be an object with namespaceSelector and podSelector");
    member_path(p, sizeof(p), "%s.namespaceSelector", path);
    if (!member(j, "namespaceSelector"))
        return fail(r, j, p, "required");
    if (!(*ns = read_sel(r, member(j, "namespaceSelector"), p)))
        return -1;
    member_path(p, sizeof(p), "%s.podSelector", path);
    if (!member(j, "podSelector")) {
        selector_free(*ns);
        *ns = NULL;
        return fail(r, j, p, "required");
    }
    if (!(*pods = read_sel(r, member(j, "podSelector"), p))) {
        selector_free(*ns);
        *ns = NULL;
        return -1;
    }
    return 0;
}

/* spec.subject: exactly one of namespaces and pods. */
static int read_subject(struct anprd *r, const json_t *spec)
{
    const json_t *subj = member(spec, "subject"), *nsj, *pj;

    if (!subj)
        return fail(r, spec, "spec.subject", "required");
    if (!json_is_object(subj))
        return fail(r, subj, "spec.subject", "must be an object with namespaces or pods");
    nsj = member(subj, "namespaces");
    pj = member(subj, "pods");
    if ((nsj != NULL) == (pj != NULL))
        return fail(r, subj, "spec.subject", "exactly one of namespaces or pods must be given");
    if (nsj)
        return (r->m->ns_sel = read_sel(r, nsj, "spec.subject.namespaces")) ? 0 : -1;
    return read_namespaced_pod(r, pj, "spec.subject.pods", &r->m->ns_sel, &r->m->pod_sel);
}

/* A protocol as v1.Protocol spells it; TCP when absent (the API defaults it). */
static int read_proto(struct anprd *r, const json_t *o, const char *path, int *proto)
{
    const json_t *pj = member(o, "protocol");
    const char *s = json_string_value(pj);
    char p[PATH_LEN];

    *proto = PROTO_TCP;
    if (!pj)
        return 0;
    member_path(p, sizeof(p), "%s.protocol", path);
    if (s && !strcmp(s, "TCP"))
        *proto = PROTO_TCP;
    else if (s && !strcmp(s, "UDP"))
        *proto = PROTO_UDP;
    else if (s && !strcmp(s, "SCTP"))
        *proto = PROTO_SCTP;
    else
        return fail(r, pj, p, "must be TCP, UDP or SCTP");
    return 0;
}

static int read_number(struct anprd *r, const json_t *o, const char *key, const char *path,
                       long long *out)
{
    const json_t *j = member(o, key);
    char p[PATH_LEN];

    member_path(p, sizeof(p), "%s.%s", path, key);
    if (!j)
        return fail(r, o, p, "required");
    if (!json_is_integer(j) || json_integer_value(j) < 1 || json_integer_value(j) > 65535)
        return fail(r, j, p, "must be a port number (1-65535)");
    *out = json_integer_value(j);
    return 0;
}

/* One AdminNetworkPolicyPort: exactly one of portNumber, portRange, namedPort. */
static int read_port(struct anprd *r, const json_t *j, const char *path, bool narrow,
                     struct portset *out)
{
    const json_t *num = member(j, "portNumber"), *range = member(j, "portRange");
    const json_t *named = member(j, "namedPort");
    long long lo, hi;
    char p[PATH_LEN];
    int proto;

    if (!json_is_object(j) || (num != NULL) + (range != NULL) + (named != NULL) != 1)
        return fail(r, j, path, "exactly one of portNumber, portRange or namedPort must be given");
    if (named) {
        member_path(p, sizeof(p), "%s.namedPort", path);
        if (!json_is_string(named))
            return fail(r, named, p, "must be a port name");
        /* The name is resolved on each destination pod, which is not known here. */
        if (narrow)
            return note(r, named, p, "named port \"%s\" cannot be resolved offline: not counted "
                                     "in this deny", json_string_value(named));
        if (note(r, named, p, "named port \"%s\" cannot be resolved offline: treated as every "
                              "port", json_string_value(named)) < 0)
            return -1;
        return portset_add_proto(out, PROTO_ANY) < 0 ? err_set(r->e, "out of memory") : 0;
    }
    member_path(p, sizeof(p), "%s.%s", path, num ? "portNumber" : "portRange");
    if (!json_is_object(num ? num : range))
        return fail(r, num ? num : range, p, "must be an object");
    if (read_proto(r, num ? num : range, p, &proto) < 0)
        return -1;
    if (num) {
        if (read_number(r, num, "port", p, &lo) < 0)
            return -1;
        hi = lo;
    } else {
        if (read_number(r, range, "start", p, &lo) < 0 || read_number(r, range, "end", p, &hi) < 0)
            return -1;
        /* "the Start value must be less than End" (PortRange). */
        if (hi <= lo) {
            member_path(p, sizeof(p), "%s.portRange.end", path);
            return fail(r, member(range, "end"), p, "must be greater than start (%lld)", lo);
        }
    }
    return portset_add_range(out, proto, (unsigned)lo, (unsigned)hi) < 0
               ? err_set(r->e, "out of memory")
               : 0;
}

static int read_ports(struct anprd *r, const json_t *rule, const char *path, bool narrow,
                      struct portset *out)
{
    const json_t *ports = member(rule, "ports");
    char p[PATH_LEN];
    size_t i;

    /* "If Ports is not set then the rule does not filter traffic via port." */
    if (!ports)
        return portset_add_proto(out, PROTO_ANY) < 0 ? err_set(r->e, "out of memory") : 0;
    member_path(p, sizeof(p), "%s.ports", path);
    if (!json_is_array(ports) || !json_array_size(ports))
        return fail(r, ports, p, "must be a non-empty list");
    for (i = 0; i < json_array_size(ports); i++) {
        member_path(p, sizeof(p), "%s.ports[%zu]", path, i);
        if (read_port(r, json_array_get(ports, i), p, narrow, out) < 0)
            return -1;
    }
    return 0;
}

static struct egress_peer *new_peer(struct anprd *r, enum peer_kind kind, const char *path,
                                    const json_t *node, const char *text)
{
    struct egress_rule *rule = &r->m->rules[r->m->n_rules - 1];
    struct egress_peer *p = egress_rule_add_peer(rule, kind, path, node);

    if (!p || (text && !(p->text = peer_text(r, text)))) {
        err_set(r->e, "out of memory");
        return NULL;
    }
    return p;
}

static int read_networks(struct anprd *r, const json_t *nets, const char *path)
{
    struct egress_peer *peer;
    char p[PATH_LEN];
    size_t i;

    if (!json_is_array(nets) || !json_array_size(nets))
        return fail(r, nets, path, "must be a non-empty list of CIDRs");
    if (!(peer = new_peer(r, PEER_CIDR, path, nets, NULL)))
        return -1;
    for (i = 0; i < json_array_size(nets); i++) {
        const json_t *n = json_array_get(nets, i);
        bool normalized = false;
        struct cidr c;

        member_path(p, sizeof(p), "%s[%zu]", path, i);
        if (!json_is_string(n))
            return fail(r, n, p, "must be a CIDR string such as \"10.0.0.0/8\"");
        if (cidr_parse(json_string_value(n), CIDR_STRICT, &c, &normalized, r->e) < 0) {
            err_prefix(r->e, "%s", p);
            return doc_err_at(r->obj->doc, n, r->e);
        }
        if (normalized && note(r, n, p, "\"%s\" has host bits set: read as its network",
                               json_string_value(n)) < 0)
            return -1;
        peer = &r->m->rules[r->m->n_rules - 1].peers[r->m->rules[r->m->n_rules - 1].n_peers - 1];
        if (cidrset_add(peer->cidrs, &c) < 0)
            return err_set(r->e, "out of memory");
    }
    return (peer->text = peer_text(r, "networks")) ? 0 : err_set(r->e, "out of memory");
}

static int read_domains(struct anprd *r, const json_t *doms, const char *path)
{
    struct egress_peer *peer;
    char p[PATH_LEN], norm[FQDN_MAX];
    size_t i;

    if (!json_is_array(doms) || !json_array_size(doms))
        return fail(r, doms, path, "must be a non-empty list of domain names");
    if (!(peer = new_peer(r, PEER_FQDN, path, doms, "domainNames")))
        return -1;
    for (i = 0; i < json_array_size(doms); i++) {
        const json_t *d = json_array_get(doms, i);
        const char *text = json_string_value(d);

        member_path(p, sizeof(p), "%s[%zu]", path, i);
        if (!text)
            return fail(r, d, p, "must be a domain name");
        if (fqdn_normalize(text, !strncmp(text, "*.", 2), norm, r->e) < 0) {
            err_prefix(r->e, "%s", p);
            return doc_err_at(r->obj->doc, d, r->e);
        }
        /* DomainName: "'*' ... matches one or more entire labels", unlike the allow-list's one. */
        if (norm[0] == '*') {
            if (note(r, d, p, "\"%s\": '*' matches any number of labels here, which no "
                              "allow-list pattern but \"*\" covers: counted as every name",
                     text) < 0)
                return -1;
            strcpy(norm, "*");
        }
        peer = &r->m->rules[r->m->n_rules - 1].peers[r->m->rules[r->m->n_rules - 1].n_peers - 1];
        if (egress_peer_add_fqdn(peer, norm) < 0)
            return err_set(r->e, "out of memory");
    }
    return 0;
}

/* One egress peer: exactly one of namespaces, pods, nodes, networks, domainNames. */
static int read_peer(struct anprd *r, const json_t *j, const char *path, bool narrow)
{
    static const char *const fields[] = {"namespaces", "pods", "nodes", "networks",
                                         "domainNames"};
    const json_t *given = NULL;
    struct egress_peer *peer;
    struct selector *ns = NULL, *pods = NULL;
    char p[PATH_LEN];
    size_t i, n = 0, k = 0;

    if (!json_is_object(j))
        return fail(r, j, path, "must be an object");
    for (i = 0; i < 5; i++)
        if (member(j, fields[i])) {
            given = member(j, fields[i]);
            k = i;
            n++;
        }
    if (n > 1)
        return fail(r, j, path, "exactly one of namespaces, pods, nodes, networks or "
                                "domainNames must be given");
    if (!n) {
        /*
         * A field this reader does not know: "it should fail closed. For Allow rules ... treat
         * the rule as matching no traffic. For Deny and Pass rules ... as a 'Deny all' rule".
         * A deny that takes everything is not counted here (under-approximated).
         */
        return note(r, j, path, "a peer of no known kind: fails closed, %s",
                    narrow ? "not counted in this deny" : "matching no traffic");
    }
    member_path(p, sizeof(p), "%s.%s", path, fields[k]);
    switch (k) {
    case 0: /* every pod of the selected namespaces */
        if (!(ns = read_sel(r, given, p)))
            return -1;
        break;
    case 1:
        if (read_namespaced_pod(r, given, p, &ns, &pods) < 0)
            return -1;
        break;
    case 2: /* the nodes' addresses (node.Status.Addresses) */
        if (!(ns = read_sel(r, given, p)))
            return -1;
        selector_free(ns);
        if (!(peer = new_peer(r, PEER_ENTITY, p, given, "nodes")) ||
            !(peer->entity = strdup("nodes")))
            return err_set(r->e, "out of memory");
        return 0;
    case 3:
        return read_networks(r, given, p);
    default:
        /* "DomainNames is only supported for ALLOW rules." */
        if (narrow)
            return note(r, given, p, "domainNames apply to Allow rules only: not counted");
        return read_domains(r, given, p);
    }
    if (!(peer = new_peer(r, PEER_CLUSTER, p, given, fields[k]))) {
        selector_free(ns);
        selector_free(pods);
        return -1;
    }
    peer->cluster.ns_sel = ns;
    peer->cluster.pod_sel = pods;
    return 0;
}

static int read_rule(struct anprd *r, const json_t *j, const char *path)
{
    const json_t *aj = member(j, "action"), *to = member(j, "to");
    const char *a = json_string_value(aj);
    enum egress_action action;
    struct egress_rule *rule;
    char p[PATH_LEN];
    size_t i;

    if (!json_is_object(j))
        return fail(r, j, path, "must be an object with action and to");
    r->rule_name = json_string_value(member(j, "name"));
    member_path(p, sizeof(p), "%s.action", path);
    if (!aj)
        return fail(r, j, p, "required (%s)",
                    r->baseline ? "Allow or Deny" : "Allow, Deny or Pass");
    if (a && !strcmp(a, "Allow"))
        action = EGRESS_ALLOW;
    else if (a && !strcmp(a, "Deny"))
        action = EGRESS_DENY;
    else if (a && !strcmp(a, "Pass") && !r->baseline)
        action = EGRESS_PASS;
    else
        return fail(r, aj, p, "must be %s", r->baseline ? "Allow or Deny" : "Allow, Deny or Pass");
    if (!(rule = egress_model_add_rule(r->m, action, path, j)))
        return err_set(r->e, "out of memory");
    if (read_ports(r, j, path, action != EGRESS_ALLOW, rule->ports) < 0)
        return -1;
    member_path(p, sizeof(p), "%s.to", path);
    if (!to)
        return fail(r, j, p, "required");
    if (!json_is_array(to) || !json_array_size(to))
        return fail(r, to, p, "must be a non-empty list of peers");
    for (i = 0; i < json_array_size(to); i++) {
        member_path(p, sizeof(p), "%s.to[%zu]", path, i);
        if (read_peer(r, json_array_get(to, i), p, action != EGRESS_ALLOW) < 0)
            return -1;
    }
    return 0;
}

int anp_read(const struct object *obj, struct egress_list *out, struct err *e)
{
    struct anprd r = {.obj = obj, .e = e};
    const json_t *spec = member(obj->json, "spec"), *prio, *eg;
    struct egress_model *m;
    char p[PATH_LEN];
    size_t i;

    r.baseline = !strcmp(obj->kind, "BaselineAdminNetworkPolicy");
    if (!(m = egress_list_add(out)))
        return err_set(e, "out of memory");
    r.m = m;
    if (!(m->kind = strdup(obj->kind)) || !(m->name = strdup(obj->name)) ||
        !(m->path = strdup("")))
        return err_set(e, "out of memory");
    if (!json_is_object(spec))
        return fail(&r, spec, "spec", "required: an object with subject and rules");
    if (read_subject(&r, spec) < 0)
        return -1;
    m->ordered = true;
    m->cidrs_match_all = true;
    m->layer = r.baseline ? LAYER_BASELINE : LAYER_ADMIN;
    if (!r.baseline) {
        prio = member(spec, "priority");
        if (!prio)
            return fail(&r, spec, "spec.priority", "required (0-1000)");
        if (!json_is_integer(prio) || json_integer_value(prio) < 0 ||
            json_integer_value(prio) > 1000)
            return fail(&r, prio, "spec.priority", "must be an integer from 0 to 1000");
        m->has_order = true;
        m->order = (double)json_integer_value(prio);
    }
    eg = member(spec, "egress");
    if (eg && !json_is_array(eg))
        return fail(&r, eg, "spec.egress", "must be a list");
    /* "ANPs with no egress rules do not affect egress traffic." */
    m->governs_egress = eg && json_array_size(eg) > 0;
    for (i = 0; eg && i < json_array_size(eg); i++) {
        member_path(p, sizeof(p), "spec.egress[%zu]", i);
        if (read_rule(&r, json_array_get(eg, i), p) < 0)
            return -1;
    }
    return 0;
}

int anp_decide(const struct policy *pol, const struct object *obj, const struct request_ctx *ctx,
               struct verdict *v, struct err *e)
{
    return judge_read(pol, obj, ctx, anp_read, v, e);
}
