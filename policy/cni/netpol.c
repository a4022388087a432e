#include "policy/cni/netpol.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/doc/doc.h"
#include "policy/doc/member.h"
#include "policy/eval/judge.h"

#define PATH_MAX_LEN 160 /* "spec.egress[123].to[45].ipBlock.except[67]" and then some */

/*
 * Sets e to "path: message", positioned at node inside container `in` (which locates true,
 * false and null: see doc_err_in), or at the object. Returns -1.
 */
static int fail(const struct object *obj, const json_t *in, const json_t *node, struct err *e,
                const char *path, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static int fail(const struct object *obj, const json_t *in, const json_t *node, struct err *e,
                const char *path, const char *fmt, ...)
{
    char msg[sizeof(e->msg)];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    err_set(e, "%s: %s", path, msg);
    if (!node)
        return doc_err_at(obj->doc, obj->json, e);
    return in ? doc_err_in(obj->doc, in, node, e) : doc_err_at(obj->doc, node, e);
}

static int oom(struct err *e)
{
    return err_set(e, "out of memory");
}

/* A member that is present and not null, else NULL. */
static const json_t *member(const json_t *o, const char *key)
{
    const json_t *j = json_object_get(o, key);

    return json_is_null(j) ? NULL : j;
}

/* A LabelSelector member; the error names path and points at the innermost bad node. */
static struct selector *read_selector(const struct object *obj, const json_t *in, const json_t *j,
                                      const char *path, struct err *e)
{
    const json_t *where = NULL;
    struct selector *s;

    if (!json_is_object(j)) {
        fail(obj, in, j, e, path, "must be a label selector (an object)");
        return NULL;
    }
    s = selector_from_json(j, &where, e);
    if (!s) {
        err_prefix(e, "%s", path);
        doc_err_at(obj->doc, where ? where : j, e);
    }
    return s;
}

/* Kubernetes' IANA_SVC_NAME: 1-15 of [a-z0-9-], a letter somewhere, no edge or double '-'. */
static bool valid_port_name(const char *s)
{
    size_t n = strlen(s), i;
    bool letter = false;

    if (n < 1 || n > 15 || s[0] == '-' || s[n - 1] == '-' || strstr(s, "--"))
        return false;
    for (i = 0; i < n; i++) {
        if (s[i] >= 'a' && s[i] <= 'z')
            letter = true;
        else if (!(s[i] >= '0' && s[i] <= '9') && s[i] != '-')
            return false;
    }
    return letter;
}

static int read_port(const struct object *obj, struct egress_model *m, struct egress_rule *r,
                     const json_t *in, const json_t *j, const char *path, struct err *e)
{
    char sub[PATH_MAX_LEN];
    const json_t *proto_j, *port_j, *end_j;
    const char *pname = "TCP";
    int proto = PROTO_TCP;
    json_int_t port = 0, end;

    if (!json_is_object(j))
        return fail(obj, in, j, e, path, "must be an object with protocol, port and endPort");
    proto_j = member(j, "protocol");
    port_j = member(j, "port");
    end_j = member(j, "endPort");
    if (proto_j) {
        member_path(sub, sizeof(sub), "%s.protocol", path);
        pname = json_string_value(proto_j);
        if (!pname)
            return fail(obj, j, proto_j, e, sub, "must be a string (TCP, UDP or SCTP)");
        if (!strcmp(pname, "TCP"))
            proto = PROTO_TCP;
        else if (!strcmp(pname, "UDP"))
            proto = PROTO_UDP;
        else if (!strcmp(pname, "SCTP"))
            proto = PROTO_SCTP;
        else
            return fail(obj, j, proto_j, e, sub, "unsupported protocol \"%s\" (TCP, UDP or SCTP)",
                        pname);
    }
    member_path(sub, sizeof(sub), "%s.port", path);
    if (json_is_string(port_j)) {
        const char *name = json_string_value(port_j);

        if (!valid_port_name(name))
            return fail(obj, j, port_j, e, sub,
                        "invalid named port \"%s\": a port name has 1-15 lower-case letters, "
                        "digits and '-', with at least one letter (numbers are written "
                        "without quotes)",
                        name);
        if (end_j) {
            member_path(sub, sizeof(sub), "%s.endPort", path);
            return fail(obj, j, end_j, e, sub, "may not be used with a named port (\"%s\")", name);
        }
        if (portset_add_proto(r->ports, proto) < 0 ||
            egress_model_note(m, port_j, sub,
                              "named port \"%s\" cannot be resolved offline: treated as every "
                              "%s port",
                              name, pname) < 0)
            return oom(e);
        return 0;
    }
    if (port_j) {
        if (!json_is_integer(port_j))
            return fail(obj, j, port_j, e, sub, "must be a port number or a port name");
        port = json_integer_value(port_j);
        if (port < 1 || port > 65535)
            return fail(obj, j, port_j, e, sub, "must be between 1 and 65535, not %lld",
                        (long long)port);
    }
    end = port;
    if (end_j) {
        member_path(sub, sizeof(sub), "%s.endPort", path);
        if (!port_j)
            return fail(obj, j, end_j, e, sub, "requires a numeric port");
        if (!json_is_integer(end_j))
            return fail(obj, j, end_j, e, sub, "must be a port number");
        end = json_integer_value(end_j);
        if (end < 1 || end > 65535)
            return fail(obj, j, end_j, e, sub, "must be between 1 and 65535, not %lld",
                        (long long)end);
        if (end < port)
            return fail(obj, j, end_j, e, sub, "must be greater than or equal to port (%lld)",
                        (long long)port);
    }
    if (!port_j)
        return portset_add_proto(r->ports, proto) < 0 ? oom(e) : 0;
    return portset_add_range(r->ports, proto, (unsigned)port, (unsigned)end) < 0 ? oom(e) : 0;
}

/* Parses one CIDR string member; notes a normalized prefix. */
static int read_cidr(const struct object *obj, struct egress_model *m, const json_t *in,
                     const json_t *j, const char *path, struct cidr *out, struct err *e)
{
    bool normalized = false;
    char buf[CIDR_STRLEN];

    if (!json_is_string(j))
        return fail(obj, in, j, e, path, "must be a CIDR string such as \"10.0.0.0/8\"");
    if (cidr_parse(json_string_value(j), CIDR_STRICT, out, &normalized, e) < 0) {
        err_prefix(e, "%s", path);
        return doc_err_at(obj->doc, j, e);
    }
    if (normalized) {
        cidr_format(out, buf, sizeof(buf));
        if (egress_model_note(m, j, path, "\"%s\" has host bits set: read as %s",
                              json_string_value(j), buf) < 0)
            return oom(e);
    }
    return 0;
}

static int read_ipblock(const struct object *obj, struct egress_model *m, struct egress_rule *r,
                        const json_t *in, const json_t *ipb, const char *path, struct err *e)
{
    char sub[PATH_MAX_LEN];
    const json_t *cidr_j, *except_j, *x;
    struct egress_peer *p;
    struct cidrset *ex = NULL;
    struct cidr c, xc;
    struct buf text;
    size_t i;
    int rc = -1;

    if (!json_is_object(ipb))
        return fail(obj, in, ipb, e, path, "must be an object with cidr and except");
    cidr_j = member(ipb, "cidr");
    member_path(sub, sizeof(sub), "%s.cidr", path);
    if (!cidr_j && json_object_get(ipb, "cidr")) /* cidr: null */
        return fail(obj, ipb, json_object_get(ipb, "cidr"), e, sub, "required, not null");
    if (!cidr_j)
        return fail(obj, in, ipb, e, sub, "required");
    if (read_cidr(obj, m, ipb, cidr_j, sub, &c, e) < 0)
        return -1;
    buf_init(&text, EGRESS_PEER_TEXT_CAP);
    buf_puts(&text, json_string_value(cidr_j));
    if (!(ex = cidrset_new()))
        goto nomem;
    except_j = member(ipb, "except");
    if (except_j && !json_is_array(except_j)) {
        member_path(sub, sizeof(sub), "%s.except", path);
        fail(obj, ipb, except_j, e, sub, "must be a list of CIDRs");
        goto out;
    }
    json_array_foreach(except_j, i, x) {
        char a[CIDR_STRLEN], b[CIDR_STRLEN];

        member_path(sub, sizeof(sub), "%s.except[%zu]", path, i);
        if (read_cidr(obj, m, except_j, x, sub, &xc, e) < 0)
            goto out;
        if (xc.family != c.family || xc.bits < c.bits ||
            !cidr_contains_addr(&c, xc.family, xc.addr)) {
            cidr_format(&xc, a, sizeof(a));
            cidr_format(&c, b, sizeof(b));
            fail(obj, except_j, x, e, sub, "%s is not inside cidr %s", a, b);
            goto out;
        }
        if (cidrset_add(ex, &xc) < 0)
            goto nomem;
        buf_printf(&text, "%s%s", i ? ", " : " except ", json_string_value(x));
    }
    if (!(p = egress_rule_add_peer(r, PEER_CIDR, path, ipb)))
        goto nomem;
    /* A text over its cap is left out (as in cilium.c): the model is exact without it. */
    if (cidrset_add(p->cidrs, &c) < 0 || cidrset_subtract(p->cidrs, ex) < 0 ||
        (!text.failed && egress_peer_set_text(p, "%s", buf_str(&text)) < 0))
        goto nomem;
    rc = 0;
    goto out;
nomem:
    oom(e);
out:
    cidrset_free(ex);
    buf_release(&text);
    return rc;
}

/* Appends `key: <compact JSON>` to b, as the policy wrote the selector. */
static void selector_text(struct buf *b, const char *key, const json_t *j)
{
    buf_printf(b, "%s%s: ", b->len ? " " : "", key);
    member_json_text(j, b);
}

static int read_peer(const struct object *obj, struct egress_model *m, struct egress_rule *r,
                     const json_t *in, const json_t *j, const char *path, struct err *e)
{
    char sub[PATH_MAX_LEN];
    const json_t *ipb, *nss, *pods;
    struct selector *ns_sel = NULL, *pod_sel = NULL;
    struct egress_peer *p;
    struct buf text;

    if (!json_is_object(j))
        return fail(obj, in, j, e, path, "must be an object (ipBlock, namespaceSelector, podSelector)");
    ipb = member(j, "ipBlock");
    nss = member(j, "namespaceSelector");
    pods = member(j, "podSelector");
    if (!ipb && !nss && !pods)
        return fail(obj, in, j, e, path, "must specify ipBlock, namespaceSelector or podSelector");
    if (ipb && (nss || pods))
        return fail(obj, j, ipb, e, path,
                    "ipBlock may not be combined with namespaceSelector or podSelector");
    if (ipb) {
        member_path(sub, sizeof(sub), "%s.ipBlock", path);
        return read_ipblock(obj, m, r, j, ipb, sub, e);
    }
    if (nss) {
        member_path(sub, sizeof(sub), "%s.namespaceSelector", path);
        if (!(ns_sel = read_selector(obj, j, nss, sub, e)))
            return -1;
    }
    if (pods) {
        member_path(sub, sizeof(sub), "%s.podSelector", path);
        if (!(pod_sel = read_selector(obj, j, pods, sub, e)))
            goto fail;
    } else if (!(pod_sel = selector_all())) {
        goto nomem;
    }
    if (!(p = egress_rule_add_peer(r, PEER_CLUSTER, path, j)))
        goto nomem;
    p->cluster.ns_sel = ns_sel;
    p->cluster.pod_sel = pod_sel;
    ns_sel = pod_sel = NULL;
    /* podSelector alone selects pods of the policy's own namespace */
    if (!nss && !(p->cluster.ns_name = strdup(m->ns)))
        goto nomem;
    buf_init(&text, EGRESS_PEER_TEXT_CAP);
    if (nss)
        selector_text(&text, "namespaceSelector", nss);
    if (pods)
        selector_text(&text, "podSelector", pods);
    if (!text.failed && egress_peer_set_text(p, "%s", buf_str(&text)) < 0) {
        buf_release(&text);
        goto nomem;
    }
    buf_release(&text);
    return 0;
nomem:
    oom(e);
fail:
    selector_free(ns_sel);
    selector_free(pod_sel);
    return -1;
}

static int read_rule(const struct object *obj, struct egress_model *m, const json_t *in,
                     const json_t *j, const char *path, struct err *e)
{
    char sub[PATH_MAX_LEN];
    const json_t *ports, *to, *x;
    struct egress_rule *r;
    struct egress_peer *p;
    size_t i;

    if (!json_is_object(j))
        return fail(obj, in, j, e, path, "must be an object with to and ports");
    if (!(r = egress_model_add_rule(m, EGRESS_ALLOW, path, j)))
        return oom(e);
    ports = member(j, "ports");
    to = member(j, "to");
    if (ports && !json_is_array(ports)) {
        member_path(sub, sizeof(sub), "%s.ports", path);
        return fail(obj, j, ports, e, sub, "must be a list");
    }
    if (to && !json_is_array(to)) {
        member_path(sub, sizeof(sub), "%s.to", path);
        return fail(obj, j, to, e, sub, "must be a list");
    }
    if (!json_array_size(ports) && portset_add_proto(r->ports, PROTO_ANY) < 0)
        return oom(e);
    json_array_foreach(ports, i, x) {
        member_path(sub, sizeof(sub), "%s.ports[%zu]", path, i);
        if (read_port(obj, m, r, ports, x, sub, e) < 0)
            return -1;
    }
    if (!json_array_size(to)) {
        if (!(p = egress_rule_add_peer(r, PEER_ALL, path, to ? to : j)) ||
            egress_peer_set_text(p, to ? "egress rule with `to: []`" : "egress rule without `to`") <
                0)
            return oom(e);
        return 0;
    }
    json_array_foreach(to, i, x) {
        member_path(sub, sizeof(sub), "%s.to[%zu]", path, i);
        if (read_peer(obj, m, r, to, x, sub, e) < 0)
            return -1;
    }
    return 0;
}

/* Reads spec.policyTypes: *egress tells whether Egress is listed; *given whether any is. */
static int read_policy_types(const struct object *obj, const json_t *spec, const json_t *types,
                             bool *given, bool *egress, struct err *e)
{
    char sub[PATH_MAX_LEN];
    const json_t *x;
    size_t i;

    *given = *egress = false;
    if (!types)
        return 0;
    if (!json_is_array(types))
        return fail(obj, spec, types, e, "spec.policyTypes", "must be a list of Ingress and Egress");
    json_array_foreach(types, i, x) {
        const char *t = json_string_value(x);

        member_path(sub, sizeof(sub), "spec.policyTypes[%zu]", i);
        if (!t || (strcmp(t, "Ingress") && strcmp(t, "Egress")))
            return fail(obj, types, x, e, sub, "unknown policy type %s%s%s (Ingress or Egress)",
                        t ? "\"" : "", t ? t : "(not a string)", t ? "\"" : "");
        if (!strcmp(t, "Egress"))
            *egress = true;
        *given = true;
    }
    return 0;
}

/*
 * Ingress opens nothing egressguard judges, but the API server refuses a policy whose ingress
 * ports are malformed, and so does check: a manifest that cannot be applied is an input error.
 */
static int check_ingress_ports(const struct object *obj, const json_t *spec, const json_t *ingress,
                               struct err *e)
{
    struct egress_model scratch;
    struct egress_rule *r;
    const json_t *rule, *ports, *port;
    char sub[PATH_MAX_LEN];
    size_t i, j;
    int rc = 0;

    if (!ingress)
        return 0;
    if (!json_is_array(ingress))
        return fail(obj, spec, ingress, e, "spec.ingress", "must be a list of ingress rules");
    egress_model_init(&scratch);
    if (!(r = egress_model_add_rule(&scratch, EGRESS_ALLOW, "", NULL))) {
        egress_model_release(&scratch);
        return oom(e);
    }
    json_array_foreach(ingress, i, rule) {
        ports = json_is_object(rule) ? member(rule, "ports") : NULL;
        if (ports && !json_is_array(ports)) {
            member_path(sub, sizeof(sub), "spec.ingress[%zu].ports", i);
            rc = fail(obj, rule, ports, e, sub, "must be a list of ports");
            break;
        }
        json_array_foreach(ports, j, port) {
            member_path(sub, sizeof(sub), "spec.ingress[%zu].ports[%zu]", i, j);
            if ((rc = read_port(obj, &scratch, r, ports, port, sub, e)) < 0)
                break;
        }
        if (rc < 0)
            break;
    }
    egress_model_release(&scratch);
    return rc;
}

int netpol_read(const struct object *obj, struct egress_list *out, struct err *e)
{
    char sub[PATH_MAX_LEN];
    const json_t *spec, *pod_j, *egress_j, *x;
    struct egress_model *m;
    const char *ns = *obj->ns ? obj->ns : "default";
    bool types_given, egress_listed;
    size_t i;

    spec = json_object_get(obj->json, "spec");
    if (spec && !json_is_object(spec))
        return fail(obj, obj->json, spec, e, "spec", "must be an object");
    if (!(m = egress_list_add(out)))
        return oom(e);
    m->kind = strdup("NetworkPolicy");
    m->path = strdup("");
    m->ns = strdup(ns);
    if (!m->kind || !m->path || !m->ns)
        return oom(e);
    {
        size_t n = strlen(ns) + strlen(obj->name) + 2;

        if (!(m->name = malloc(n)))
            return oom(e);
        snprintf(m->name, n, "%s/%s", ns, obj->name);
    }
    if (!*obj->ns &&
        egress_model_note(m, NULL, "metadata.namespace",
                          "metadata.namespace is missing: evaluated as namespace \"default\"; "
                          "kubectl applies it to the current namespace") < 0)
        return oom(e);

    /*
     * k8s.io/api networking/v1 (and extensions/v1beta1) types.go: `PodSelector
     * metav1.LabelSelector json:"podSelector"` is a struct, not a pointer, so the API server
     * decodes a missing or null podSelector as the empty selector, which "matches all pods in
     * this namespace". Read it as the API server will store it, and say so.
     */
    pod_j = spec ? member(spec, "podSelector") : NULL;
    if (pod_j) {
        if (!(m->pod_sel = read_selector(obj, spec, pod_j, "spec.podSelector", e)))
            return -1;
    } else if (!(m->pod_sel = selector_all())) {
        return oom(e);
    } else if (egress_model_note(m, spec, "spec.podSelector",
                                 "spec.podSelector is %s: Kubernetes stores it as {}, which "
                                 "selects every pod of namespace %s",
                                 spec && json_object_get(spec, "podSelector") ? "null" : "missing",
                                 ns) < 0) {
        return oom(e);
    }

    if (read_policy_types(obj, spec, spec ? member(spec, "policyTypes") : NULL, &types_given,
                          &egress_listed, e) < 0)
        return -1;
    egress_j = spec ? member(spec, "egress") : NULL;
    if (egress_j && !json_is_array(egress_j))
        return fail(obj, spec, egress_j, e, "spec.egress", "must be a list of egress rules");
    /* the API server's defaulting: Ingress, plus Egress when there are egress rules */
    m->governs_egress = types_given ? egress_listed : json_array_size(egress_j) > 0;
    m->default_deny = m->governs_egress;
    if (!m->governs_egress && json_array_size(egress_j) &&
        egress_model_note(m, egress_j, "spec.egress",
                          "spec.egress is ignored: spec.policyTypes does not list Egress") < 0)
        return oom(e);
    json_array_foreach(egress_j, i, x) {
        member_path(sub, sizeof(sub), "spec.egress[%zu]", i);
        if (read_rule(obj, m, egress_j, x, sub, e) < 0)
            return -1;
    }
    return spec ? check_ingress_ports(obj, spec, member(spec, "ingress"), e) : 0;
}

int netpol_decide(const struct policy *pol, const struct object *obj, const struct request_ctx *ctx,
                  struct verdict *v, struct err *e)
{
    return judge_read(pol, obj, ctx, netpol_read, v, e);
}
