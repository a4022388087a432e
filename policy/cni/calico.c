#include "policy/cni/calico.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy/cni/caldst.h"
#include "policy/cni/calrd.h"
#include "policy/doc/member.h"
#include "policy/eval/judge.h"
#include "policy/selector/selsubset.h"

/* ---- ports -------------------------------------------------------------------------- */

enum ports_use { USE_WIDE, USE_NARROW }; /* over-approximate (allow) / under (deny) */

/* One Calico port: 80, "80", "8000:8080" or a name. *named set for a name. */
static int parse_port(struct calrd *r, const json_t *j, const char *path, unsigned *lo,
                      unsigned *hi, const char **named)
{
    const char *s;
    char *end;
    long a, b;

    *named = NULL;
    if (json_is_integer(j)) {
        a = (long)json_integer_value(j);
        if (a < 0 || a > 65535)
            return calrd_failf(r, j, path, "port must be 0-65535");
        *lo = *hi = (unsigned)a;
        return 0;
    }
    s = json_string_value(j);
    if (!s || !*s)
        return calrd_failf(r, j, path, "must be a port number, a range \"a:b\" or a port name");
    if (*s >= '0' && *s <= '9') {
        a = strtol(s, &end, 10);
        b = a;
        if (*end == ':')
            b = strtol(end + 1, &end, 10);
        if (*end || a < 0 || b > 65535 || a > b) {
            char msg[160];
            member_path(msg, sizeof(msg), "invalid port or range \"%s\"", s);
            return calrd_failf(r, j, path, msg);
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
static int read_protocols(struct calrd *r, const json_t *rule, const char *path,
                          struct portset *protos, int *single)
{
    const json_t *pj = calrd_member(rule, "protocol"), *npj = calrd_member(rule, "notProtocol");
    char p[CALRD_PATH_LEN];
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
            return calrd_fail(r, pj, p);
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
            return calrd_fail(r, npj, p);
        }
        rc = portset_add_proto(np, proto) < 0 || portset_subtract(protos, np) < 0;
        portset_free(np);
        if (rc)
            return err_set(r->e, "out of memory");
    }
    return 0;
}

/* dst.ports / notPorts into the rule's port set; *drop when a deny cannot be kept. */
static int read_ports(struct calrd *r, const json_t *rule, const json_t *dst, const char *path,
                      enum ports_use use, struct portset *out, bool *drop)
{
    const json_t *ports = calrd_member(dst, "ports"), *notports = calrd_member(dst, "notPorts");
    struct portset *protos = portset_new(), *sel = NULL, *ex = NULL;
    char p[CALRD_PATH_LEN], dp[CALRD_PATH_LEN];
    int single, rc = -1;
    size_t i;

    member_path(dp, sizeof(dp), "%s.destination", path);
    if (!protos)
        return err_set(r->e, "out of memory");
    if (read_protocols(r, rule, path, protos, &single) < 0)
        goto out;
    member_path(p, sizeof(p), "%s.ports", dp);
    if (calrd_want_array(r, ports, p) < 0)
        goto out;
    member_path(p, sizeof(p), "%s.notPorts", dp);
    if (calrd_want_array(r, notports, p) < 0)
        goto out;
    if ((calrd_len(ports) || calrd_len(notports)) && (single < 0 || !proto_has_ports(single))) {
        member_path(p, sizeof(p), "%s.%s", dp, calrd_len(ports) ? "ports" : "notPorts");
        calrd_failf(r, calrd_len(ports) ? ports : notports, p,
              "ports need protocol TCP, UDP, SCTP or UDPLite on the rule");
        goto out;
    }
    if (!(sel = portset_new()) || !(ex = portset_new()))
        goto oom;
    if (!calrd_len(ports)) {
        if (portset_union(sel, protos) < 0)
            goto oom;
    }
    for (i = 0; i < calrd_len(ports); i++) {
        unsigned lo, hi;
        const char *named;

        member_path(p, sizeof(p), "%s.ports[%zu]", dp, i);
        if (parse_port(r, json_array_get(ports, i), p, &lo, &hi, &named) < 0)
            goto out;
        if (named && use == USE_NARROW) {
            if (calrd_note(r, json_array_get(ports, i), p,
                     "named port \"%s\" cannot be resolved offline: not counted in this deny",
                     named) < 0)
                goto out;
            continue;
        }
        if (named) {
            if (calrd_note(r, json_array_get(ports, i), p,
                     "named port \"%s\" cannot be resolved offline: treated as every %s port",
                     named, proto_name(single)) < 0)
                goto out;
            lo = 0;
            hi = 65535;
        }
        if (portset_add_range(sel, single, lo, hi) < 0)
            goto oom;
    }
    for (i = 0; i < calrd_len(notports); i++) {
        unsigned lo, hi;
        const char *named;

        member_path(p, sizeof(p), "%s.notPorts[%zu]", dp, i);
        if (parse_port(r, json_array_get(notports, i), p, &lo, &hi, &named) < 0)
            goto out;
        if (named && use == USE_WIDE) {
            if (calrd_note(r, json_array_get(notports, i), p,
                     "named port \"%s\" cannot be resolved offline: nothing excluded", named) < 0)
                goto out;
            continue;
        }
        if (named) {
            if (calrd_note(r, json_array_get(notports, i), p,
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


static int parse_action(struct calrd *r, const json_t *rule, const char *path,
                        enum egress_action *a)
{
    const json_t *aj = calrd_member(rule, "action");
    const char *s = json_string_value(aj);
    char p[CALRD_PATH_LEN];

    member_path(p, sizeof(p), "%s.action", path);
    if (!aj)
        return calrd_failf(r, rule, p, "is required (Allow, Deny, Log or Pass)");
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
        return calrd_failf(r, aj, p, msg);
    }
    return 0;
}

static int read_rule(struct calrd *r, const json_t *rule, const char *path)
{
    enum egress_action action = EGRESS_ALLOW;
    struct egress_rule *er;
    const json_t *dst = calrd_member(rule, "destination"), *src = calrd_member(rule, "source");
    bool narrow, drop = false;
    char dp[CALRD_PATH_LEN], p[CALRD_PATH_LEN];
    const char *k;
    json_t *v;

    if (!json_is_object(rule))
        return calrd_failf(r, rule, path, "must be an object");
    if (parse_action(r, rule, path, &action) < 0)
        return -1;
    /*
     * Pass hands what it matches to the next tier (Calico tier docs: "If a NetworkPolicy or
     * GlobalNetworkPolicy in the Tier Passes the packet, the next Tier containing a Policy that
     * applies to the endpoint processes the packet"), and after the last tier the endpoint's
     * profiles decide; a namespace's profile allows all egress (libcalico-go
     * NamespaceToProfile: Egress: [{Action: Allow}]). No later tier is known here, so what a
     * Pass matches is read as opened (model.pass_opens), over-approximated like an Allow.
     */
    narrow = action == EGRESS_DENY;
    if (!(er = egress_model_add_rule(r->m, action, path, rule)))
        return err_set(r->e, "out of memory");
    if (action == EGRESS_PASS &&
        calrd_note(r, rule, path,
                   "Pass hands this traffic to the next tier; none is known here, so the "
                   "namespace's profile decides, which allows all egress: counted as opened") < 0)
        return -1;
    member_path(dp, sizeof(dp), "%s.destination", path);
    if (read_ports(r, rule, dst, path, narrow ? USE_NARROW : USE_WIDE, er->ports, &drop) < 0)
        return -1;
    /* Fields that narrow the rule further than the model can say. */
    json_object_foreach((json_t *)rule, k, v) {
        if (!strcmp(k, "action") || !strcmp(k, "destination") || !strcmp(k, "protocol") ||
            !strcmp(k, "notProtocol") || !strcmp(k, "metadata") || json_is_null(v) ||
            (!strcmp(k, "source") && !calrd_nonempty(v)))
            continue;
        member_path(p, sizeof(p), "%s.%s", path, k);
        if (!strcmp(k, "ipVersion")) {
            if (!json_is_integer(v) || (json_integer_value(v) != 4 && json_integer_value(v) != 6))
                return calrd_failf(r, v, p, "must be 4 or 6");
        }
        if (narrow) {
            drop = true;
            if (calrd_note(r, v, p,
                     "%s narrows this deny in a way not modelled: the deny is not "
                     "counted",
                     k) < 0)
                return -1;
        } else if (calrd_note(r, v, p, "%s narrows the rule: ignored (counted wider)", k) < 0) {
            return -1;
        }
    }
    (void)src;
    if (!drop && caldst_read(r, dst, dp, narrow, &drop) < 0)
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

static int read_types(struct calrd *r, const json_t *spec, bool *ingress, bool *egress)
{
    const json_t *types = calrd_member(spec, "types");
    size_t i;
    char p[CALRD_PATH_LEN];

    if (!types) {
        /* Calico: Egress only when egress rules are present; otherwise Ingress. */
        *egress = calrd_len(calrd_member(spec, "egress")) > 0;
        *ingress = calrd_len(calrd_member(spec, "ingress")) > 0 || !*egress;
        return 0;
    }
    if (calrd_want_array(r, types, "spec.types") < 0)
        return -1;
    *ingress = *egress = false;
    for (i = 0; i < calrd_len(types); i++) {
        const char *t = json_string_value(json_array_get(types, i));
        member_path(p, sizeof(p), "spec.types[%zu]", i);
        if (t && !strcmp(t, "Ingress"))
            *ingress = true;
        else if (t && !strcmp(t, "Egress"))
            *egress = true;
        else
            return calrd_failf(r, json_array_get(types, i), p, "must be Ingress or Egress");
    }
    return 0;
}

/*
 * The subject: spec.selector over the endpoints' labels, and for a GlobalNetworkPolicy
 * spec.namespaceSelector over the namespaces' (projectcalico.org/name there is the name). A test
 * of projectcalico.org/namespace in spec.selector is the endpoint's namespace (Calico sets it on
 * every workload endpoint), so it becomes part of the namespace selection.
 */
static int read_subject(struct calrd *r, const json_t *spec)
{
    static const char *const fields[] = {"selector", "namespaceSelector"};
    struct egress_model *m = r->m;
    struct selector *ns_part = NULL, *both;
    const json_t *j;
    char p[CALRD_PATH_LEN];
    int i;

    for (i = 0; i < 2; i++) {
        struct selector *s;

        if (!(j = calrd_member(spec, fields[i])))
            continue;
        member_path(p, sizeof(p), "spec.%s", fields[i]);
        if (i == 1 && !r->global)
            return calrd_failf(r, j, p, "only a GlobalNetworkPolicy has a namespaceSelector");
        if (!(s = i ? calrd_parse_ns_sel(r, j, p) : calrd_parse_sel(r, j, p)))
            return -1;
        if (i)
            m->ns_sel = s;
        else
            m->pod_sel = s;
        /* CRD validation: global() belongs to rule namespaceSelectors only (networkpolicy.go). */
        if (selector_has_global(s))
            return calrd_failf(r, j, p, "global() can only be used in a rule's namespaceSelector");
    }
    if (calrd_split_ns(r, &m->pod_sel, &ns_part) < 0)
        return -1;
    if (!ns_part)
        return 0;
    if (m->ns) {
        /* A namespaced policy's endpoints are in its namespace: the test holds or nothing is. */
        if (calrd_ns_test(ns_part, m->ns) == TRI_FALSE) {
            selector_free(m->pod_sel);
            if (!(m->pod_sel = selector_none()))
                goto oom;
        }
        selector_free(ns_part);
        return 0;
    }
    both = m->ns_sel ? selector_and(m->ns_sel, ns_part) : selector_dup(ns_part);
    selector_free(ns_part);
    if (!both)
        return err_set(r->e, "out of memory");
    selector_free(m->ns_sel);
    m->ns_sel = both;
    return 0;
oom:
    selector_free(ns_part);
    return err_set(r->e, "out of memory");
}

int calico_read(const struct object *obj, struct egress_list *out, struct err *e)
{
    struct calrd r = {.obj = obj, .e = e};
    const json_t *spec = calrd_member(obj->json, "spec"), *eg, *j;
    struct egress_model *m;
    bool ingress, egress;
    char name[512], p[CALRD_PATH_LEN];
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
        if (!*obj->ns && calrd_note(&r, obj->json, "metadata.namespace",
                              "no namespace given: the policy is read as in \"default\"") < 0)
            return -1;
    }
    if (spec && !json_is_object(spec))
        return calrd_failf(&r, spec, "spec", "must be an object");
    if (read_subject(&r, spec) < 0)
        return -1;
    if ((j = calrd_member(spec, "order"))) {
        if (!json_is_number(j))
            return calrd_failf(&r, j, "spec.order", "must be a number");
        m->has_order = true;
        m->order = json_number_value(j);
    }
    if (read_types(&r, spec, &ingress, &egress) < 0)
        return -1;
    m->ordered = true;
    m->governs_egress = egress;
    m->default_deny = egress;
    m->pass_opens = true;
    /* Calico matches nets on the packet's address, whatever endpoint has it (pods included). */
    m->cidrs_match_all = true;
    /*
     * "order: Indicates priority of this Tier, with lower order taking precedence. No value
     * indicates highest order (lowest precedence)" (docs.tigera.io/calico/latest/reference/
     * resources/tier): the Tier objects say which tier comes first, and they are not read here.
     * Within a tier policies go by order; across tiers a Deny may come before or after another
     * tier's Allow, so it is never counted against it (opening.h).
     */
    if ((j = calrd_member(spec, "tier")) && json_is_string(j) &&
        strcmp(json_string_value(j), "default")) {
        if (!(m->tier = strdup(json_string_value(j))))
            return err_set(e, "out of memory");
        if (calrd_note(
                &r, j, "spec.tier",
                "tier \"%s\": tiers are evaluated in the order of their Tier objects, which is "
                "not known offline; the policy's Deny rules take nothing from other tiers' "
                "policies",
                json_string_value(j)) < 0)
            return -1;
    }
    if ((j = calrd_member(spec, "serviceAccountSelector"))) {
        /*
         * "serviceAccountSelector: Selects the service account(s) to which this policy applies"
         * (docs.tigera.io/calico/latest/reference/resources/networkpolicy): the subject is
         * narrower than the selector says, by labels of service accounts that are not known
         * here. The policy governs some of the selected pods only: its allows count, its
         * denies and its default deny take nothing from anyone (compose.h).
         */
        struct selector *sa = calrd_parse_sel(&r, j, "spec.serviceAccountSelector");
        bool narrows;

        if (!sa)
            return -1;
        narrows = !selector_is_all(sa);
        selector_free(sa);
        if (narrows) {
            m->default_deny = false;
            m->some_pods = true;
            if (calrd_note(&r, j, "spec.serviceAccountSelector",
                           "serviceAccountSelector narrows the subject, which is not modelled: the "
                           "policy governs only some of the selected pods, so its denies and its "
                           "default deny are not counted") < 0)
                return -1;
        }
    }
    for (i = 0; i < 3; i++) {
        static const char *const host_only[] = {"doNotTrack", "preDNAT", "applyOnForward"};
        if ((j = calrd_member(spec, host_only[i])) && json_is_true(j)) {
            member_path(p, sizeof(p), "spec.%s", host_only[i]);
            if (calrd_note(&r, j, p, "%s applies to host endpoints only", host_only[i]) < 0)
                return -1;
        }
    }
    eg = calrd_member(spec, "egress");
    if (calrd_want_array(&r, eg, "spec.egress") < 0)
        return -1;
    if (!egress) {
        if (calrd_len(eg) && calrd_note(&r, eg, "spec.egress",
                                "types does not include Egress: these rules are not applied") < 0)
            return -1;
        return 0;
    }
    for (i = 0; i < calrd_len(eg); i++) {
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
