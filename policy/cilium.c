#include "policy/cilium.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy/doc.h"
#include "policy/fqdn.h"
#include "policy/reach.h"

#define PATH_MAX_LEN 256

/* snprintf that may truncate: paths and messages are cut rather than overflow. */
static void strf(char *dst, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void strf(char *dst, size_t size, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(dst, size, fmt, ap);
    va_end(ap);
}

struct rd {
    const struct object *obj;
    struct egress_model *m;
    const char *ns; /* namespaced policy: its namespace; NULL for a clusterwide one */
    bool deny;      /* reading egressDeny: under-approximate */
    struct err *e;
};

/* Positions e at node with the field path in front of the message. */
static int fail(const struct rd *r, const json_t *node, const char *path, struct err *e)
{
    if (path && *path)
        err_prefix(e, "%s", path);
    return doc_err_at(r->obj->doc, node, e);
}

static int failf(const struct rd *r, const json_t *node, const char *path, const char *msg)
{
    err_set(r->e, "%s", msg);
    return fail(r, node, path, r->e);
}

static int note(struct rd *r, const json_t *node, const char *path, const char *msg)
{
    if (egress_model_note(r->m, node, path, "%s", msg) < 0)
        return err_set(r->e, "out of memory");
    return 0;
}

static const json_t *member(const json_t *o, const char *key)
{
    return json_is_object(o) ? json_object_get(o, key) : NULL;
}

/* A member that must be an array when present; *out = NULL when absent or null. */
static int get_array(struct rd *r, const json_t *o, const char *key, const char *path,
                     const json_t **out)
{
    const json_t *a = member(o, key);
    char p[PATH_MAX_LEN];

    *out = NULL;
    if (!a || json_is_null(a))
        return 0;
    if (!json_is_array(a)) {
        strf(p, sizeof(p), "%s.%s", path, key);
        return failf(r, a, p, "must be a list");
    }
    *out = a;
    return 0;
}

static size_t arr_len(const json_t *a)
{
    return a ? json_array_size(a) : 0;
}

/* ---- label selectors ---------------------------------------------------------------- */

enum keyclass { KEY_POD, KEY_NS_NAME, KEY_NS_LABEL, KEY_CLUSTER, KEY_RESERVED, KEY_OTHER_SRC };

#define NS_NAME_KEY "io.kubernetes.pod.namespace"
#define NS_LABEL_PREFIX "io.cilium.k8s.namespace.labels."
#define CLUSTER_KEY "io.cilium.k8s.policy.cluster"

/* Cilium label keys are "source:key"; k8s: and any: name pod labels as Kubernetes sees them. */
static enum keyclass classify(const char *key, const char **rest)
{
    const char *colon = strchr(key, ':');

    if (colon) {
        size_t n = (size_t)(colon - key);
        if (n == 8 && !strncmp(key, "reserved", 8)) {
            *rest = colon + 1;
            return KEY_RESERVED;
        }
        if ((n == 3 && !strncmp(key, "k8s", 3)) || (n == 3 && !strncmp(key, "any", 3)))
            key = colon + 1;
        else {
            *rest = key;
            return KEY_OTHER_SRC;
        }
    }
    *rest = key;
    if (!strcmp(key, NS_NAME_KEY)) {
        *rest = "kubernetes.io/metadata.name";
        return KEY_NS_NAME;
    }
    if (!strncmp(key, NS_LABEL_PREFIX, strlen(NS_LABEL_PREFIX))) {
        *rest = key + strlen(NS_LABEL_PREFIX);
        return KEY_NS_LABEL;
    }
    if (!strcmp(key, CLUSTER_KEY))
        return KEY_CLUSTER;
    return KEY_POD;
}

/* A Cilium endpoint selector split into the namespace part and the pod part. */
struct split {
    json_t *ns_part, *pod_part; /* LabelSelector objects (new references) */
    bool has_ns_name;           /* a constraint on the namespace's name */
    bool has_ns_label;          /* a constraint on namespace labels */
    const char *fixed_ns;       /* matchLabels namespace name when that is the only ns part */
    const char *reserved;       /* `reserved:X` in matchLabels: the identity X */
    const char *other_src;      /* a key with another source prefix (cannot be modelled) */
    bool cluster_narrowed;      /* io.cilium.k8s.policy.cluster other than Exists (dropped) */
    size_t n_ns_exprs, n_ns_labels;
};

static void split_release(struct split *s)
{
    json_decref(s->ns_part);
    json_decref(s->pod_part);
}

static int add_expr(json_t *part, const json_t *expr, const char *key)
{
    json_t *arr = json_object_get(part, "matchExpressions");
    json_t *copy = json_object();
    const char *k;
    json_t *v;

    if (!copy)
        return -1;
    /* Share the original nodes so that a selector error still points into the file. */
    json_object_foreach((json_t *)expr, k, v) {
        if (!strcmp(k, "key"))
            continue;
        if (json_object_set(copy, k, v) < 0)
            goto oom;
    }
    if (json_object_set_new(copy, "key", json_string(key)) < 0)
        goto oom;
    if (!arr) {
        if (json_object_set_new(part, "matchExpressions", json_array()) < 0)
            goto oom;
        arr = json_object_get(part, "matchExpressions");
    }
    return json_array_append_new(arr, copy);
oom:
    json_decref(copy);
    return -1;
}

static int add_label(json_t *part, const char *key, json_t *value)
{
    json_t *ml = json_object_get(part, "matchLabels");

    if (!ml) {
        if (json_object_set_new(part, "matchLabels", json_object()) < 0)
            return -1;
        ml = json_object_get(part, "matchLabels");
    }
    return json_object_set(ml, key, value);
}

static int split_selector(struct rd *r, const json_t *sel, const char *path, struct split *s)
{
    const json_t *ml = member(sel, "matchLabels"), *me = member(sel, "matchExpressions");
    const char *k, *rest;
    json_t *v;
    size_t i;
    char p[PATH_MAX_LEN];

    memset(s, 0, sizeof(*s));
    if (!json_is_object(sel))
        return failf(r, sel, path, "must be a label selector (an object)");
    s->ns_part = json_object();
    s->pod_part = json_object();
    if (!s->ns_part || !s->pod_part)
        goto oom;
    json_object_foreach((json_t *)sel, k, v) {
        if (strcmp(k, "matchLabels") && strcmp(k, "matchExpressions") &&
            json_object_set(s->pod_part, k, v) < 0) /* selector_from_json reports it */
            goto oom;
    }
    if (ml && !json_is_object(ml)) {
        strf(p, sizeof(p), "%s.matchLabels", path);
        return failf(r, ml, p, "must be an object of strings");
    }
    if (me && !json_is_array(me)) {
        strf(p, sizeof(p), "%s.matchExpressions", path);
        return failf(r, me, p, "must be a list");
    }
    json_object_foreach((json_t *)ml, k, v) {
        switch (classify(k, &rest)) {
        case KEY_RESERVED:
            s->reserved = rest;
            break;
        case KEY_OTHER_SRC:
            s->other_src = k;
            break;
        case KEY_CLUSTER:
            s->cluster_narrowed = true;
            break;
        case KEY_NS_NAME:
            s->has_ns_name = true;
            s->fixed_ns = json_string_value(v);
            s->n_ns_labels++;
            if (add_label(s->ns_part, rest, v) < 0)
                goto oom;
            break;
        case KEY_NS_LABEL:
            s->has_ns_label = true;
            s->n_ns_labels++;
            if (add_label(s->ns_part, rest, v) < 0)
                goto oom;
            break;
        case KEY_POD:
            if (add_label(s->pod_part, rest, v) < 0)
                goto oom;
            break;
        }
    }
    for (i = 0; i < arr_len(me); i++) {
        const json_t *x = json_array_get(me, i);
        const char *key = json_string_value(member(x, "key"));
        const char *op = json_string_value(member(x, "operator"));

        if (!key) {
            strf(p, sizeof(p), "%s.matchExpressions[%zu].key", path, i);
            return failf(r, x, p, "must be a string");
        }
        switch (classify(key, &rest)) {
        case KEY_RESERVED:
        case KEY_OTHER_SRC:
            s->other_src = key;
            break;
        case KEY_CLUSTER:
            if (!op || strcmp(op, "Exists"))
                s->cluster_narrowed = true;
            break;
        case KEY_NS_NAME:
        case KEY_NS_LABEL:
            if (classify(key, &rest) == KEY_NS_NAME)
                s->has_ns_name = true;
            else
                s->has_ns_label = true;
            s->n_ns_exprs++;
            if (add_expr(s->ns_part, x, rest) < 0)
                goto oom;
            break;
        case KEY_POD:
            if (add_expr(s->pod_part, x, rest) < 0)
                goto oom;
            break;
        }
    }
    if (s->n_ns_exprs || s->n_ns_labels != 1 || !s->has_ns_name)
        s->fixed_ns = NULL;
    return 0;
oom:
    return err_set(r->e, "out of memory");
}

/* selector_from_json with the error positioned inside the file when possible. */
static struct selector *compile(struct rd *r, const json_t *part, const json_t *orig,
                                const char *path)
{
    const json_t *where = NULL;
    struct selector *s = selector_from_json(part, &where, r->e);
    int line, col;

    if (s)
        return s;
    if (!where || !doc_pos(r->obj->doc, where, &line, &col))
        where = orig;
    fail(r, where, path, r->e);
    return NULL;
}

/* ---- ports -------------------------------------------------------------------------- */

static int l4_any(struct portset *ps)
{
    if (portset_add_proto(ps, PROTO_TCP) < 0 || portset_add_proto(ps, PROTO_UDP) < 0 ||
        portset_add_proto(ps, PROTO_SCTP) < 0)
        return -1;
    return 0;
}

static bool port_name_ok(const char *s)
{
    size_t n = strlen(s), i;
    bool letter = false;

    if (n == 0 || n > 15 || s[0] == '-' || s[n - 1] == '-')
        return false;
    for (i = 0; i < n; i++) {
        if ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z'))
            letter = true;
        else if (!(s[i] >= '0' && s[i] <= '9') && s[i] != '-')
            return false;
    }
    return letter;
}

/* A port number given as a YAML integer or a decimal string; -1 when it is neither. */
static long port_number(const json_t *j)
{
    const char *s;
    char *end;
    long v;

    if (json_is_integer(j))
        return (long)json_integer_value(j);
    s = json_string_value(j);
    if (!s || !*s || !(*s >= '0' && *s <= '9'))
        return -1;
    v = strtol(s, &end, 10);
    return *end ? -1 : v;
}

static int add_port(struct rd *r, const json_t *pp, const char *path, struct portset *ps)
{
    const json_t *port = member(pp, "port"), *endp = member(pp, "endPort");
    const json_t *proto_j = member(pp, "protocol");
    const char *proto_s = proto_j ? json_string_value(proto_j) : "ANY";
    int protos[3], np = 0, i;
    long lo, hi;
    char p[PATH_MAX_LEN], msg[160];

    if (!json_is_object(pp))
        return failf(r, pp, path, "must be an object with port and protocol");
    if (!proto_s || (strcasecmp(proto_s, "TCP") && strcasecmp(proto_s, "UDP") &&
                     strcasecmp(proto_s, "SCTP") && strcasecmp(proto_s, "ANY"))) {
        strf(p, sizeof(p), "%s.protocol", path);
        strf(msg, sizeof(msg), "unknown protocol \"%s\" (Cilium accepts TCP, UDP, SCTP, ANY)",
                 proto_s ? proto_s : "?");
        return failf(r, proto_j, p, msg);
    }
    if (!strcasecmp(proto_s, "ANY")) {
        protos[np++] = PROTO_TCP;
        protos[np++] = PROTO_UDP;
        protos[np++] = PROTO_SCTP;
    } else {
        if (proto_parse(proto_s, &protos[np], r->e) < 0)
            return fail(r, proto_j, path, r->e);
        np++;
    }
    strf(p, sizeof(p), "%s.port", path);
    if (!port || json_is_null(port)) {
        lo = 0;
    } else {
        lo = port_number(port);
        if (lo < 0) {
            const char *name = json_string_value(port);
            if (!name || !port_name_ok(name))
                return failf(r, port, p, "must be a port number 0-65535 or a port name");
            if (r->deny) {
                strf(msg, sizeof(msg),
                         "named port \"%s\" cannot be resolved offline: this deny is not counted",
                         name);
                return note(r, port, p, msg);
            }
            strf(msg, sizeof(msg),
                     "named port \"%s\" cannot be resolved offline: treated as every port", name);
            if (note(r, port, p, msg) < 0)
                return -1;
            for (i = 0; i < np; i++)
                if (portset_add_proto(ps, protos[i]) < 0)
                    return err_set(r->e, "out of memory");
            return 0;
        }
        if (lo > 65535)
            return failf(r, port, p, "port must be 0-65535");
    }
    hi = lo;
    if (lo == 0) {
        hi = 65535; /* Cilium: port 0 means every port */
    } else if (endp && !json_is_null(endp)) {
        hi = port_number(endp);
        strf(p, sizeof(p), "%s.endPort", path);
        if (hi < 0 || hi > 65535)
            return failf(r, endp, p, "must be a port number 0-65535");
        if (hi < lo)
            return failf(r, endp, p, "endPort must not be less than port");
    }
    for (i = 0; i < np; i++)
        if (portset_add_range(ps, protos[i], (unsigned)lo, (unsigned)hi) < 0)
            return err_set(r->e, "out of memory");
    return 0;
}

static int read_l7(struct rd *r, const json_t *rules, const char *path)
{
    const json_t *dns = member(rules, "dns");
    char p[PATH_MAX_LEN];
    const char *k;
    json_t *v;

    if (!rules || json_is_null(rules))
        return 0;
    if (!json_is_object(rules))
        return failf(r, rules, path, "must be an object");
    if (r->deny)
        return failf(r, rules, path, "egressDeny rules cannot have L7 rules");
    json_object_foreach((json_t *)rules, k, v) {
        strf(p, sizeof(p), "%s.%s", path, k);
        if (!strcmp(k, "dns")) {
            struct buf b;
            size_t i;
            int rc;

            buf_init(&b, 1024);
            buf_puts(&b, "DNS rules limit which names may be resolved through this rule:");
            for (i = 0; i < arr_len(dns); i++) {
                const json_t *d = json_array_get(dns, i);
                const char *n = json_string_value(member(d, "matchName"));
                const char *pat = json_string_value(member(d, "matchPattern"));
                buf_printf(&b, "%s %s", i ? "," : "", n ? n : pat ? pat : "?");
            }
            rc = note(r, v, p, b.failed ? "DNS rules present" : buf_str(&b));
            buf_release(&b);
            if (rc < 0)
                return -1;
        } else if (note(r, v, p,
                        "L7 rules filter requests but open the same destinations and ports at "
                        "L3/L4") < 0) {
            return -1;
        }
    }
    return 0;
}

static int read_icmps(struct rd *r, const json_t *icmps, const char *path, struct portset *ps)
{
    size_t i, j;
    char p[PATH_MAX_LEN];

    if (r->deny)
        return note(r, icmps, path,
                    "ICMP types cannot be modelled: this deny is not counted");
    if (note(r, icmps, path, "ICMP types are not modelled: every ICMP type is counted") < 0)
        return -1;
    for (i = 0; i < json_array_size(icmps); i++) {
        const json_t *fields = member(json_array_get(icmps, i), "fields");
        for (j = 0; j < json_array_size(fields); j++) {
            const char *fam = json_string_value(member(json_array_get(fields, j), "family"));
            int proto = PROTO_ICMP;
            if (fam && !strcmp(fam, "IPv6"))
                proto = PROTO_ICMPV6;
            else if (fam && strcmp(fam, "IPv4")) {
                strf(p, sizeof(p), "%s[%zu].fields[%zu].family", path, i, j);
                return failf(r, member(json_array_get(fields, j), "family"), p,
                             "family must be IPv4 or IPv6");
            }
            if (portset_add_proto(ps, proto) < 0)
                return err_set(r->e, "out of memory");
        }
    }
    return 0;
}

/* Fills ps from toPorts and icmps; every protocol and port when neither is given. */
static int read_ports(struct rd *r, const json_t *rule, const char *path, struct portset *ps)
{
    const json_t *tp, *icmps;
    size_t i, j;
    char p[PATH_MAX_LEN];

    if (get_array(r, rule, "toPorts", path, &tp) < 0 ||
        get_array(r, rule, "icmps", path, &icmps) < 0)
        return -1;
    if (arr_len(tp) && arr_len(icmps)) {
        strf(p, sizeof(p), "%s.icmps", path);
        return failf(r, icmps, p,
                     "icmps may only be present without toPorts (Cilium rejects the rule)");
    }
    if (!arr_len(tp) && !arr_len(icmps))
        return portset_add_proto(ps, PROTO_ANY) < 0 ? err_set(r->e, "out of memory") : 0;
    if (arr_len(icmps)) {
        strf(p, sizeof(p), "%s.icmps", path);
        return read_icmps(r, icmps, p, ps);
    }
    for (i = 0; i < json_array_size(tp); i++) {
        const json_t *pr = json_array_get(tp, i), *ports;
        char pp[PATH_MAX_LEN];

        strf(pp, sizeof(pp), "%s.toPorts[%zu]", path, i);
        if (!json_is_object(pr))
            return failf(r, pr, pp, "must be an object");
        if (get_array(r, pr, "ports", pp, &ports) < 0)
            return -1;
        if (!arr_len(ports)) {
            /* No port numbers: the L7 part applies to every L4 port. */
            if (l4_any(ps) < 0)
                return err_set(r->e, "out of memory");
        }
        for (j = 0; j < arr_len(ports); j++) {
            strf(p, sizeof(p), "%s.ports[%zu]", pp, j);
            if (add_port(r, json_array_get(ports, j), p, ps) < 0)
                return -1;
        }
        strf(p, sizeof(p), "%s.rules", pp);
        if (read_l7(r, member(pr, "rules"), p) < 0)
            return -1;
        if (member(pr, "serverNames") && note(r, member(pr, "serverNames"), pp,
                                             "serverNames (TLS SNI) narrow nothing at L3") < 0)
            return -1;
    }
    return 0;
}

/* ---- peers -------------------------------------------------------------------------- */

static struct egress_peer *add_peer(struct rd *r, struct egress_rule **rule, size_t ridx,
                                    enum peer_kind kind, const char *path, const json_t *node,
                                    const char *text)
{
    struct egress_peer *p;

    *rule = &r->m->rules[ridx];
    p = egress_rule_add_peer(*rule, kind, path, node);
    if (!p || (text && !(p->text = strdup(text)))) {
        err_set(r->e, "out of memory");
        return NULL;
    }
    return p;
}

static const char *const entities[] = {"cluster", "host", "remote-node", "kube-apiserver",
                                       "ingress", "health", "init", "unmanaged", NULL};

/* An entity (or a reserved identity) as a peer. */
static int add_entity(struct rd *r, size_t ridx, const char *name, const char *path,
                      const json_t *node)
{
    struct egress_rule *rule;
    struct egress_peer *p;
    char msg[160];
    int fam = -1, i;

    if (!strcmp(name, "all")) {
        return add_peer(r, &rule, ridx, PEER_ALL, path, node, "entity all") ? 0 : -1;
    }
    if (!strcmp(name, "world"))
        fam = 0;
    else if (!strcmp(name, "world-ipv4"))
        fam = 4;
    else if (!strcmp(name, "world-ipv6"))
        fam = 6;
    if (fam >= 0) {
        strf(msg, sizeof(msg), "entity %s", name);
        p = add_peer(r, &rule, ridx, PEER_CIDR, path, node, msg);
        if (!p)
            return -1;
        if (cidrset_add_all(p->cidrs, fam) < 0)
            return err_set(r->e, "out of memory");
        return 0;
    }
    for (i = 0; entities[i]; i++)
        if (!strcmp(name, entities[i]))
            break;
    if (!entities[i]) {
        strf(msg, sizeof(msg), "unknown entity \"%s\"", name);
        return failf(r, node, path, msg);
    }
    strf(msg, sizeof(msg), "entity %s", name);
    p = add_peer(r, &rule, ridx, PEER_ENTITY, path, node, msg);
    if (!p || !(p->entity = strdup(name)))
        return err_set(r->e, "out of memory");
    return 0;
}

static int add_unknown(struct rd *r, size_t ridx, const char *what, const char *path,
                       const json_t *node)
{
    struct egress_rule *rule;
    struct egress_peer *p;
    char msg[200];

    if (r->deny) {
        strf(msg, sizeof(msg), "%s cannot be resolved offline: this deny is not counted",
                 what);
        return note(r, node, path, msg);
    }
    strf(msg, sizeof(msg), "%s cannot be resolved offline: counted as any destination", what);
    if (note(r, node, path, msg) < 0)
        return -1;
    p = add_peer(r, &rule, ridx, PEER_UNKNOWN, path, node, what);
    if (!p || !(p->entity = strdup(what)))
        return err_set(r->e, "out of memory");
    return 0;
}

static int add_endpoints(struct rd *r, size_t ridx, const json_t *sel, const char *path)
{
    struct split s;
    struct egress_rule *rule;
    struct egress_peer *p;
    struct selector *ns_sel = NULL, *pod_sel = NULL;
    char buf[200];
    int rc = -1;

    if (split_selector(r, sel, path, &s) < 0)
        goto out;
    if (s.reserved && !s.other_src) {
        rc = add_entity(r, ridx, s.reserved, path, sel);
        goto out;
    }
    if (s.other_src) {
        strf(buf, sizeof(buf), "label \"%s\"", s.other_src);
        rc = add_unknown(r, ridx, buf, path, sel);
        goto out;
    }
    if (s.cluster_narrowed) {
        if (r->deny) {
            rc = note(r, sel, path, "selects by cluster name: this deny is not counted");
            goto out;
        }
        if (note(r, sel, path, "the cluster name constraint is ignored (every cluster counted)") <
            0)
            goto out;
    }
    if (!(pod_sel = compile(r, s.pod_part, sel, path)))
        goto out;
    if (!s.fixed_ns && (s.has_ns_name || s.has_ns_label || !r->ns)) {
        if (!(ns_sel = compile(r, s.ns_part, sel, path)))
            goto out;
    }
    p = add_peer(r, &rule, ridx, PEER_CLUSTER, path, sel, NULL);
    if (!p)
        goto out;
    if (s.fixed_ns || (!s.has_ns_name && !s.has_ns_label && r->ns)) {
        /* A namespaced policy confines a selector without namespace keys to its namespace. */
        p->cluster.ns_name = strdup(s.fixed_ns ? s.fixed_ns : r->ns);
        if (!p->cluster.ns_name) {
            err_set(r->e, "out of memory");
            goto out;
        }
    } else {
        p->cluster.ns_sel = ns_sel;
        ns_sel = NULL;
    }
    p->cluster.pod_sel = pod_sel;
    pod_sel = NULL;
    rc = 0;
out:
    selector_free(ns_sel);
    selector_free(pod_sel);
    split_release(&s);
    return rc;
}

static int parse_cidr_into(struct rd *r, const json_t *node, const char *path, struct cidr *c)
{
    const char *text = json_string_value(node);
    bool normalized = false;
    char msg[160];

    if (!text)
        return failf(r, node, path, "must be a CIDR string");
    if (!*text)
        return failf(r, node, path, "invalid CIDR \"\": empty (Cilium rejects the policy)");
    if (cidr_parse(text, CIDR_BARE_IP, c, &normalized, r->e) < 0)
        return fail(r, node, path, r->e);
    if (normalized) {
        char out[CIDR_STRLEN];
        cidr_format(c, out, sizeof(out));
        strf(msg, sizeof(msg), "\"%s\" has host bits set: read as %s", text, out);
        return note(r, node, path, msg);
    }
    return 0;
}

static int add_cidr(struct rd *r, size_t ridx, const json_t *node, const char *path)
{
    struct egress_rule *rule;
    struct egress_peer *p;
    struct cidr c;

    if (parse_cidr_into(r, node, path, &c) < 0)
        return -1;
    p = add_peer(r, &rule, ridx, PEER_CIDR, path, node, json_string_value(node));
    if (!p)
        return -1;
    return cidrset_add(p->cidrs, &c) < 0 ? err_set(r->e, "out of memory") : 0;
}

static int add_cidrset(struct rd *r, size_t ridx, const json_t *ent, const char *path)
{
    const json_t *cidr = member(ent, "cidr"), *exc = member(ent, "except");
    const json_t *ref = member(ent, "cidrGroupRef"), *gsel = member(ent, "cidrGroupSelector");
    struct egress_rule *rule;
    struct egress_peer *p;
    struct cidrset *ex = NULL;
    struct buf text;
    struct cidr c;
    char pp[PATH_MAX_LEN], what[200];
    size_t i;
    int rc = -1;

    if (!json_is_object(ent))
        return failf(r, ent, path, "must be an object with cidr and except");
    if ((cidr != NULL) + (ref != NULL) + (gsel != NULL) != 1)
        return failf(r, ent, path,
                     "exactly one of cidr, cidrGroupRef or cidrGroupSelector must be given");
    if (ref || gsel) {
        strf(what, sizeof(what), "%s %s", ref ? "cidrGroupRef" : "cidrGroupSelector",
                 ref && json_is_string(ref) ? json_string_value(ref) : "");
        return add_unknown(r, ridx, what, path, ent);
    }
    strf(pp, sizeof(pp), "%s.cidr", path);
    if (parse_cidr_into(r, cidr, pp, &c) < 0)
        return -1;
    buf_init(&text, 4096);
    buf_puts(&text, json_string_value(cidr));
    if (!(ex = cidrset_new()))
        goto oom;
    if (exc && !json_is_array(exc)) {
        strf(pp, sizeof(pp), "%s.except", path);
        failf(r, exc, pp, "must be a list");
        goto out;
    }
    for (i = 0; i < arr_len(exc); i++) {
        struct cidr x;
        strf(pp, sizeof(pp), "%s.except[%zu]", path, i);
        if (parse_cidr_into(r, json_array_get(exc, i), pp, &x) < 0)
            goto out;
        if (cidrset_add(ex, &x) < 0)
            goto oom;
        buf_printf(&text, "%s%s", i ? ", " : " except ", json_string_value(json_array_get(exc, i)));
    }
    p = add_peer(r, &rule, ridx, PEER_CIDR, path, ent, text.failed ? NULL : buf_str(&text));
    if (!p)
        goto out;
    if (cidrset_add(p->cidrs, &c) < 0 || cidrset_subtract(p->cidrs, ex) < 0)
        goto oom;
    rc = 0;
    goto out;
oom:
    err_set(r->e, "out of memory");
out:
    buf_release(&text);
    cidrset_free(ex);
    return rc;
}

static int add_fqdn(struct rd *r, size_t ridx, const json_t *ent, const char *path)
{
    const json_t *name = member(ent, "matchName"), *pat = member(ent, "matchPattern");
    const json_t *which = name ? name : pat;
    struct egress_rule *rule;
    struct egress_peer *p;
    char norm[FQDN_MAX], pp[PATH_MAX_LEN];
    const char *text;

    if (!json_is_object(ent) || (name != NULL) == (pat != NULL))
        return failf(r, ent, path, "exactly one of matchName or matchPattern must be given");
    strf(pp, sizeof(pp), "%s.%s", path, name ? "matchName" : "matchPattern");
    text = json_string_value(which);
    if (!text)
        return failf(r, which, pp, "must be a string");
    if (pat && !strncmp(text, "**.", 3)) {
        /* Multi-label wildcard (Cilium 1.17+): no pattern of ours is wider but `*`. */
        if (note(r, which, pp, "\"**.\" matches any number of labels: counted as every name") < 0)
            return -1;
        text = "*";
    }
    if (fqdn_normalize(text, pat != NULL, norm, r->e) < 0)
        return fail(r, which, pp, r->e);
    p = add_peer(r, &rule, ridx, PEER_FQDN, pp, which, json_string_value(which));
    if (!p)
        return -1;
    if (!(p->fqdns = calloc(1, sizeof(char *))) || !(p->fqdns[0] = strdup(norm)))
        return err_set(r->e, "out of memory");
    p->n_fqdns = 1;
    return 0;
}

static const char *const l3_members[] = {"toEndpoints", "toCIDR",   "toCIDRSet", "toEntities",
                                         "toServices",  "toFQDNs",  "toGroups",  "toNodes",
                                         NULL};

static int read_rule(struct rd *r, const json_t *rule, const char *path)
{
    const json_t *arr[8];
    const char *first = NULL;
    struct egress_rule *er;
    size_t ridx, i;
    int k, n_l3 = 0;
    char p[PATH_MAX_LEN], msg[200];

    if (!json_is_object(rule))
        return failf(r, rule, path, "must be an object");
    for (k = 0; l3_members[k]; k++) {
        if (get_array(r, rule, l3_members[k], path, &arr[k]) < 0)
            return -1;
        if (!arr_len(arr[k]))
            continue;
        if (first) {
            strf(p, sizeof(p), "%s.%s", path, l3_members[k]);
            strf(msg, sizeof(msg), "combining %s and %s is not supported by Cilium", first,
                     l3_members[k]);
            return failf(r, arr[k], p, msg);
        }
        first = l3_members[k];
        n_l3++;
    }
    if (r->deny && arr_len(arr[5])) {
        strf(p, sizeof(p), "%s.toFQDNs", path);
        return failf(r, arr[5], p, "egressDeny does not support toFQDNs");
    }
    if (member(rule, "toRequires")) {
        strf(p, sizeof(p), "%s.toRequires", path);
        if (note(r, member(rule, "toRequires"), p,
                 r->deny ? "toRequires narrows this deny: it is not counted"
                         : "toRequires narrows the peers: ignored (counted wider)") < 0)
            return -1;
        if (r->deny)
            return 0;
    }
    if (!n_l3 && !arr_len(member(rule, "toPorts")) && !arr_len(member(rule, "icmps")))
        return 0; /* `{}`: turns default deny on, opens nothing */

    er = egress_model_add_rule(r->m, r->deny ? EGRESS_DENY : EGRESS_ALLOW, path, rule);
    if (!er)
        return err_set(r->e, "out of memory");
    ridx = r->m->n_rules - 1;
    if (read_ports(r, rule, path, er->ports) < 0)
        return -1;
    if (!n_l3) {
        /* L4-only rule: Cilium applies it to every L3 destination. */
        struct egress_rule *tmp;
        return add_peer(r, &tmp, ridx, PEER_ALL, path, rule, "any destination (L4-only rule)")
                   ? 0 : -1;
    }
    for (k = 0; l3_members[k]; k++) {
        for (i = 0; i < arr_len(arr[k]); i++) {
            const json_t *x = json_array_get(arr[k], i);
            int rc = 0;

            strf(p, sizeof(p), "%s.%s[%zu]", path, l3_members[k], i);
            switch (k) {
            case 0:
                rc = add_endpoints(r, ridx, x, p);
                break;
            case 1:
                rc = add_cidr(r, ridx, x, p);
                break;
            case 2:
                rc = add_cidrset(r, ridx, x, p);
                break;
            case 3:
                if (!json_is_string(x))
                    return failf(r, x, p, "must be an entity name");
                rc = add_entity(r, ridx, json_string_value(x), p, x);
                break;
            case 4:
                rc = add_unknown(r, ridx, "toServices", p, x);
                break;
            case 5:
                rc = add_fqdn(r, ridx, x, p);
                break;
            case 6:
                rc = add_unknown(r, ridx, "toGroups (cloud provider groups)", p, x);
                break;
            case 7:
                if (r->deny) {
                    rc = note(r, x, p, "toNodes selects nodes by labels: this deny is not "
                                       "counted");
                } else {
                    rc = note(r, x, p, "toNodes: every node counted (host and remote-node)");
                    if (!rc)
                        rc = add_entity(r, ridx, "host", p, x);
                    if (!rc)
                        rc = add_entity(r, ridx, "remote-node", p, x);
                }
                break;
            }
            if (rc < 0)
                return -1;
        }
    }
    return 0;
}

static bool has_dns_rules(const json_t *rules)
{
    size_t i, j;

    for (i = 0; i < json_array_size(rules); i++) {
        const json_t *tp = member(json_array_get(rules, i), "toPorts");
        for (j = 0; j < json_array_size(tp); j++)
            if (member(member(json_array_get(tp, j), "rules"), "dns"))
                return true;
    }
    return false;
}

static int read_subject(struct rd *r, const json_t *spec, const char *path)
{
    const json_t *es = member(spec, "endpointSelector"), *nsel = member(spec, "nodeSelector");
    struct split s;
    char p[PATH_MAX_LEN];
    int rc = -1;

    if ((es != NULL) == (nsel != NULL))
        return failf(r, spec, path,
                     "exactly one of endpointSelector or nodeSelector must be given");
    if (nsel) {
        /* A host policy: it governs nodes; pods stay as they are. */
        r->m->host_policy = true;
        strf(p, sizeof(p), "%s%snodeSelector", path, *path ? "." : "");
        if (split_selector(r, nsel, p, &s) < 0)
            goto out;
        if (!(r->m->pod_sel = compile(r, s.pod_part, nsel, p)))
            goto out;
        r->m->ns_sel = selector_all();
        rc = r->m->ns_sel ? 0 : err_set(r->e, "out of memory");
        goto out;
    }
    strf(p, sizeof(p), "%s%sendpointSelector", path, *path ? "." : "");
    if (split_selector(r, es, p, &s) < 0)
        goto out;
    if (s.reserved || s.other_src) {
        if (note(r, es, p, "selects reserved or non-Kubernetes identities, not pods") < 0)
            goto out;
        r->m->pod_sel = selector_none();
        r->m->ns_sel = selector_all();
        rc = r->m->pod_sel && r->m->ns_sel ? 0 : err_set(r->e, "out of memory");
        goto out;
    }
    if (!(r->m->pod_sel = compile(r, s.pod_part, es, p)))
        goto out;
    /* A namespaced policy always adds its own namespace; namespace keys narrow further. */
    if (!(r->m->ns_sel = compile(r, s.ns_part, es, p)))
        goto out;
    rc = 0;
out:
    split_release(&s);
    return rc;
}

static int read_enable_default_deny(struct rd *r, const json_t *spec, const char *path,
                                    bool *set, bool *val)
{
    const json_t *edd = member(spec, "enableDefaultDeny"), *eg;
    char p[PATH_MAX_LEN];

    *set = false;
    if (!edd || json_is_null(edd))
        return 0;
    strf(p, sizeof(p), "%s%senableDefaultDeny", path, *path ? "." : "");
    if (!json_is_object(edd))
        return failf(r, edd, p, "must be an object with ingress and egress booleans");
    eg = json_object_get(edd, "egress");
    if (!eg || json_is_null(eg))
        return 0;
    if (!json_is_boolean(eg)) {
        strncat(p, ".egress", sizeof(p) - strlen(p) - 1);
        return failf(r, edd, p, "must be true or false");
    }
    *set = true;
    *val = json_is_true(eg);
    return 0;
}

static int read_spec(struct rd *r, const json_t *spec, const char *mpath, const char *fpath)
{
    const json_t *eg, *egd;
    char p[PATH_MAX_LEN];
    bool dd_set, dd;
    size_t i;

    if (!json_is_object(spec))
        return failf(r, spec, fpath, "must be an object");
    if (!(r->m->path = strdup(mpath)))
        return err_set(r->e, "out of memory");
    if (read_subject(r, spec, fpath) < 0)
        return -1;
    strf(p, sizeof(p), "%s%s", fpath, *fpath ? "." : "");
    if (get_array(r, spec, "egress", fpath, &eg) < 0 ||
        get_array(r, spec, "egressDeny", fpath, &egd) < 0 ||
        read_enable_default_deny(r, spec, fpath, &dd_set, &dd) < 0)
        return -1;
    r->m->governs_egress = arr_len(eg) || arr_len(egd) || (dd_set && dd);
    r->m->default_deny = dd_set ? dd : (arr_len(eg) || arr_len(egd));
    r->m->ordered = false;
    if (arr_len(egd) && !arr_len(eg) && r->m->default_deny &&
        note(r, egd, fpath,
             "egressDeny without egress rules also turns default deny on: all other egress of "
             "the selected pods is dropped") < 0)
        return -1;
    r->deny = false;
    for (i = 0; i < arr_len(eg); i++) {
        strf(p, sizeof(p), "%s%segress[%zu]", fpath, *fpath ? "." : "", i);
        if (read_rule(r, json_array_get(eg, i), p) < 0)
            return -1;
    }
    r->deny = true;
    for (i = 0; i < arr_len(egd); i++) {
        strf(p, sizeof(p), "%s%segressDeny[%zu]", fpath, *fpath ? "." : "", i);
        if (read_rule(r, json_array_get(egd, i), p) < 0)
            return -1;
    }
    r->deny = false;
    for (i = 0; i < arr_len(eg); i++) {
        const json_t *fq = member(json_array_get(eg, i), "toFQDNs");
        if (arr_len(fq) && !has_dns_rules(eg)) {
            strf(p, sizeof(p), "%s%segress[%zu].toFQDNs", fpath, *fpath ? "." : "", i);
            if (note(r, fq, p,
                     "no DNS rule gives the proxy visibility of these names, so Cilium learns "
                     "no addresses for them; counted as opened anyway") < 0)
                return -1;
        }
    }
    return 0;
}

bool cilium_is_policy(const struct object *obj)
{
    char group[128];

    object_group(obj, group, sizeof(group));
    return !strcmp(group, "cilium.io") && (!strcmp(obj->kind, "CiliumNetworkPolicy") ||
                                           !strcmp(obj->kind, "CiliumClusterwideNetworkPolicy"));
}

static int read_one(struct rd *r, struct egress_list *out, const json_t *spec, const char *mpath,
                    const char *fpath, bool clusterwide, bool ns_assumed)
{
    const struct object *obj = r->obj;
    struct egress_model *m = egress_list_add(out);
    char name[512];

    if (!m)
        return err_set(r->e, "out of memory");
    r->m = m;
    if (clusterwide)
        strf(name, sizeof(name), "%s", obj->name);
    else
        strf(name, sizeof(name), "%s/%s", r->ns, obj->name);
    if (!(m->kind = strdup(obj->kind)) || !(m->name = strdup(name)) ||
        (!clusterwide && !(m->ns = strdup(r->ns))))
        return err_set(r->e, "out of memory");
    if (ns_assumed && note(r, obj->json, "metadata.namespace",
                           "no namespace given: the policy is read as in \"default\"") < 0)
        return -1;
    return read_spec(r, spec, mpath, fpath);
}

int cilium_read(const struct object *obj, struct egress_list *out, struct err *e)
{
    struct rd r = {.obj = obj, .e = e};
    const json_t *spec = member(obj->json, "spec"), *specs = member(obj->json, "specs");
    bool clusterwide = !strcmp(obj->kind, "CiliumClusterwideNetworkPolicy");
    bool ns_assumed = false;
    char mp[64];
    size_t i;

    if (!clusterwide) {
        r.ns = obj->ns && *obj->ns ? obj->ns : "default";
        ns_assumed = !(obj->ns && *obj->ns);
    }
    if (spec && json_is_null(spec))
        spec = NULL;
    if (specs && json_is_null(specs))
        specs = NULL;
    if (!spec && !specs)
        return failf(&r, obj->json, "spec", "a Cilium policy needs spec or specs");
    if (specs && !json_is_array(specs))
        return failf(&r, specs, "specs", "must be a list of rules");
    if (spec && read_one(&r, out, spec, "", "spec", clusterwide, ns_assumed) < 0)
        return -1;
    for (i = 0; i < arr_len(specs); i++) {
        strf(mp, sizeof(mp), "specs[%zu]", i);
        if (read_one(&r, out, json_array_get(specs, i), mp, mp, clusterwide,
                     ns_assumed && !spec && i == 0) < 0)
            return -1;
    }
    return 0;
}

int cilium_decide(const struct policy *pol, const struct object *obj,
                  const struct request_ctx *ctx, struct verdict *v, struct err *e)
{
    struct egress_list models;
    int rc;

    egress_list_init(&models);
    rc = cilium_read(obj, &models, e);
    if (rc == 0)
        rc = reach_decide(pol, obj, ctx, &models, v, e);
    egress_list_release(&models);
    return rc;
}
