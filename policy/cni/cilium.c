#include "policy/cni/cilium.h"

#include <stdlib.h>
#include <string.h>

#include "policy/base/buf.h"
#include "policy/cni/cilports.h"
#include "policy/cni/cilrd.h"
#include "policy/cni/cildns.h"
#include "policy/cni/cilsel.h"
#include "policy/sets/fqdn.h"
#include "policy/doc/member.h"
#include "policy/eval/judge.h"
#include "policy/eval/setres.h"

static struct egress_peer *add_peer(struct cilrd *r, struct egress_rule **rule, size_t ridx,
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

static const char *const entities[] = {"cluster",        "host",      "remote-node",
                                       "kube-apiserver", "ingress",   "health",
                                       "init",           "unmanaged", NULL};

/* An entity (or a reserved identity) as a peer. */
static int add_entity(struct cilrd *r, size_t ridx, const char *name, const char *path,
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
        member_path(msg, sizeof(msg), "entity %s", name);
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
        member_path(msg, sizeof(msg), "unknown entity \"%s\"", name);
        return cilrd_failf(r, node, path, msg);
    }
    member_path(msg, sizeof(msg), "entity %s", name);
    p = add_peer(r, &rule, ridx, PEER_ENTITY, path, node, msg);
    if (!p || !(p->entity = strdup(name)))
        return err_set(r->e, "out of memory");
    return 0;
}

static int add_unknown(struct cilrd *r, size_t ridx, const char *what, const char *path,
                       const json_t *node)
{
    struct egress_rule *rule;
    struct egress_peer *p;
    char msg[200];

    if (r->deny) {
        member_path(msg, sizeof(msg), "%s cannot be resolved offline: this deny is not counted",
                    what);
        return cilrd_note(r, node, path, msg);
    }
    member_path(msg, sizeof(msg), "%s cannot be resolved offline: counted as any destination",
                what);
    if (cilrd_note(r, node, path, msg) < 0)
        return -1;
    p = add_peer(r, &rule, ridx, PEER_UNKNOWN, path, node, what);
    if (!p || !(p->entity = strdup(what)))
        return err_set(r->e, "out of memory");
    return 0;
}

static int add_endpoints(struct cilrd *r, size_t ridx, const json_t *sel, const char *path)
{
    struct cilsel s;
    struct egress_rule *rule;
    struct egress_peer *p;
    struct selector *ns_sel = NULL, *pod_sel = NULL;
    char buf[200];
    int rc = -1;

    if (cilsel_split(r, sel, path, &s) < 0)
        goto out;
    if (s.reserved && !s.other_src) {
        rc = add_entity(r, ridx, s.reserved, path, sel);
        goto out;
    }
    if (s.other_src) {
        member_path(buf, sizeof(buf), "label \"%s\"", s.other_src);
        rc = add_unknown(r, ridx, buf, path, sel);
        goto out;
    }
    if (s.cluster_narrowed) {
        if (r->deny) {
            rc = cilrd_note(r, sel, path, "selects by cluster name: this deny is not counted");
            goto out;
        }
        if (cilrd_note(r, sel, path,
                       "the cluster name constraint is ignored (every cluster counted)") < 0)
            goto out;
    }
    if (!(pod_sel = cilsel_compile(r, s.pod_part, sel, path)))
        goto out;
    if (!s.fixed_ns && (s.has_ns_name || s.has_ns_label || !r->ns)) {
        if (!(ns_sel = cilsel_compile(r, s.ns_part, sel, path)))
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
    cilsel_release(&s);
    return rc;
}

static int parse_cidr_into(struct cilrd *r, const json_t *node, const char *path, struct cidr *c)
{
    const char *text = json_string_value(node);
    bool normalized = false;
    char msg[160];

    if (!text)
        return cilrd_failf(r, node, path, "must be a CIDR string");
    if (!*text)
        return cilrd_failf(r, node, path, "invalid CIDR \"\": empty (Cilium rejects the policy)");
    if (cidr_parse(text, CIDR_BARE_IP, c, &normalized, r->e) < 0)
        return cilrd_fail(r, node, path);
    if (normalized) {
        char out[CIDR_STRLEN];
        cidr_format(c, out, sizeof(out));
        member_path(msg, sizeof(msg), "\"%s\" has host bits set: read as %s", text, out);
        return cilrd_note(r, node, path, msg);
    }
    return 0;
}

static int add_cidr(struct cilrd *r, size_t ridx, const json_t *node, const char *path)
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

/*
 * toCIDRSet[].cidrGroupRef / cidrGroupSelector: the CIDRs of CiliumCIDRGroup objects
 * (cilium.io/v2alpha1 spec.externalCIDRs; api/v2 CIDRRule: "CIDRGroupRef is a reference to a
 * CiliumCIDRGroup object", "CIDRGroupSelector selects CiliumCIDRGroups by their labels"). The
 * reader cannot see them: the peer is a set reference that setres.h resolves against the groups
 * the run knows (an unknown group may hold any address). A deny through a group is not counted.
 */
static int add_group(struct cilrd *r, size_t ridx, const json_t *ent, const json_t *ref,
                     const json_t *gsel, const json_t *exc, const char *path)
{
    struct egress_rule *rule;
    struct egress_peer *p;
    struct egress_setref *sr;
    struct selector *sel = NULL;
    const json_t *where = NULL;
    char pp[CILRD_PATH_LEN], what[200];
    struct buf b;

    member_path(pp, sizeof(pp), "%s.%s", path, ref ? "cidrGroupRef" : "cidrGroupSelector");
    if (ref && (!json_is_string(ref) || !*json_string_value(ref)))
        return cilrd_failf(r, ref, pp, "must be the name of a CiliumCIDRGroup");
    if (gsel && !(sel = selector_from_json(gsel, &where, r->e))) {
        err_prefix(r->e, "%s", pp);
        return cilrd_fail(r, where ? where : gsel, "");
    }
    if (r->deny) {
        selector_free(sel);
        member_path(what, sizeof(what), "%s: what a CIDR group holds is not counted in a deny",
                    ref ? "cidrGroupRef" : "cidrGroupSelector");
        return cilrd_note(r, ent, pp, what);
    }
    /* CIDRRule.ExceptCIDRs: "using ExceptCIDRs together with CIDRGroupRef is not supported yet". */
    if (cilrd_len(exc) && cilrd_note(r, exc, path, "except is not applied to a CIDR group: "
                                                   "the whole group is counted") < 0) {
        selector_free(sel);
        return -1;
    }
    if (!(p = add_peer(r, &rule, ridx, PEER_UNKNOWN, path, ent, NULL)) ||
        !(sr = p->setref = calloc(1, sizeof(*sr)))) {
        selector_free(sel);
        return err_set(r->e, "out of memory");
    }
    sr->kind = SETREF_CIDRGROUP;
    sr->sel = sel;
    buf_init_cut(&b, EGRESS_PEER_TEXT_CAP, "...");
    if (gsel) {
        buf_puts(&b, "cidrGroupSelector ");
        selector_format(sel, &b);
    } else {
        buf_printf(&b, "cidrGroupRef %s", json_string_value(ref));
    }
    p->text = buf_detach(&b, NULL);
    buf_init_cut(&b, SETRES_TEXT_CAP, "...");
    if (ref && !(sr->name = strdup(json_string_value(ref))))
        return err_set(r->e, "out of memory");
    setres_describe(sr, &b);
    if (!(p->entity = buf_detach(&b, NULL)) || !p->text)
        return err_set(r->e, "out of memory");
    return 0;
}

static int add_cidrset(struct cilrd *r, size_t ridx, const json_t *ent, const char *path)
{
    const json_t *cidr = cilrd_member(ent, "cidr"), *exc = cilrd_member(ent, "except");
    const json_t *ref = cilrd_member(ent, "cidrGroupRef"),
                 *gsel = cilrd_member(ent, "cidrGroupSelector");
    struct egress_rule *rule;
    struct egress_peer *p;
    struct cidrset *ex = NULL;
    struct buf text;
    struct cidr c;
    char pp[CILRD_PATH_LEN];
    size_t i;
    int rc = -1;

    if (!json_is_object(ent))
        return cilrd_failf(r, ent, path, "must be an object with cidr and except");
    if ((cidr != NULL) + (ref != NULL) + (gsel != NULL) != 1)
        return cilrd_failf(r, ent, path,
                           "exactly one of cidr, cidrGroupRef or cidrGroupSelector must be given");
    if (ref || gsel)
        return add_group(r, ridx, ent, ref, gsel, exc, path);
    member_path(pp, sizeof(pp), "%s.cidr", path);
    if (parse_cidr_into(r, cidr, pp, &c) < 0)
        return -1;
    buf_init(&text, EGRESS_PEER_TEXT_CAP);
    buf_puts(&text, json_string_value(cidr));
    if (!(ex = cidrset_new()))
        goto oom;
    if (exc && !json_is_array(exc)) {
        member_path(pp, sizeof(pp), "%s.except", path);
        cilrd_failf(r, exc, pp, "must be a list");
        goto out;
    }
    for (i = 0; i < cilrd_len(exc); i++) {
        struct cidr x;
        member_path(pp, sizeof(pp), "%s.except[%zu]", path, i);
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

static int add_fqdn(struct cilrd *r, size_t ridx, const json_t *ent, const char *path)
{
    const json_t *name = cilrd_member(ent, "matchName"), *pat = cilrd_member(ent, "matchPattern");
    const json_t *which = name ? name : pat;
    struct egress_rule *rule;
    struct egress_peer *p;
    char norm[FQDN_MAX], pp[CILRD_PATH_LEN];
    const char *text;

    if (!json_is_object(ent) || (name != NULL) == (pat != NULL))
        return cilrd_failf(r, ent, path, "exactly one of matchName or matchPattern must be given");
    member_path(pp, sizeof(pp), "%s.%s", path, name ? "matchName" : "matchPattern");
    text = json_string_value(which);
    if (!text)
        return cilrd_failf(r, which, pp, "must be a string");
    if (pat && !strncmp(text, "**.", 3)) {
        /* Multi-label wildcard (Cilium 1.17+): no pattern of ours is wider but `*`. */
        if (cilrd_note(r, which, pp,
                       "\"**.\" matches any number of labels: counted as every name") < 0)
            return -1;
        text = "*";
    }
    if (fqdn_normalize(text, pat != NULL, norm, r->e) < 0)
        return cilrd_fail(r, which, pp);
    p = add_peer(r, &rule, ridx, PEER_FQDN, pp, which, json_string_value(which));
    if (!p)
        return -1;
    if (!(p->fqdns = calloc(1, sizeof(char *))) || !(p->fqdns[0] = strdup(norm)))
        return err_set(r->e, "out of memory");
    p->n_fqdns = 1;
    return 0;
}

static const char *const l3_members[] = {"toEndpoints", "toCIDR",     "toCIDRSet",
                                         "toEntities",  "toServices", "toFQDNs",
                                         "toGroups",    "toNodes",    NULL};

static int read_rule(struct cilrd *r, const json_t *rule, const char *path)
{
    const json_t *arr[8];
    const char *first = NULL;
    struct egress_rule *er;
    size_t ridx, i;
    int k, n_l3 = 0;
    char p[CILRD_PATH_LEN], msg[200];

    if (!json_is_object(rule))
        return cilrd_failf(r, rule, path, "must be an object");
    for (k = 0; l3_members[k]; k++) {
        if (cilrd_array(r, rule, l3_members[k], path, &arr[k]) < 0)
            return -1;
        if (!cilrd_len(arr[k]))
            continue;
        if (first) {
            member_path(p, sizeof(p), "%s.%s", path, l3_members[k]);
            member_path(msg, sizeof(msg), "combining %s and %s is not supported by Cilium", first,
                        l3_members[k]);
            return cilrd_failf(r, arr[k], p, msg);
        }
        first = l3_members[k];
        n_l3++;
    }
    if (r->deny && cilrd_len(arr[5])) {
        member_path(p, sizeof(p), "%s.toFQDNs", path);
        return cilrd_failf(r, arr[5], p, "egressDeny does not support toFQDNs");
    }
    if (cilrd_member(rule, "toRequires")) {
        member_path(p, sizeof(p), "%s.toRequires", path);
        if (cilrd_note(r, cilrd_member(rule, "toRequires"), p,
                       r->deny ? "toRequires narrows this deny: it is not counted"
                               : "toRequires narrows the peers: ignored (counted wider)") < 0)
            return -1;
        if (r->deny)
            return 0;
    }
    if (!n_l3 && !cilrd_len(cilrd_member(rule, "toPorts")) &&
        !cilrd_len(cilrd_member(rule, "icmps")))
        return 0; /* `{}`: turns default deny on, opens nothing */

    er = egress_model_add_rule(r->m, r->deny ? EGRESS_DENY : EGRESS_ALLOW, path, rule);
    if (!er)
        return err_set(r->e, "out of memory");
    ridx = r->m->n_rules - 1;
    if (cilports_read(r, rule, path, er->ports) < 0)
        return -1;
    if (!n_l3) {
        /* L4-only rule: Cilium applies it to every L3 destination. */
        struct egress_rule *tmp;
        return add_peer(r, &tmp, ridx, PEER_ALL, path, rule, "any destination (L4-only rule)") ? 0
                                                                                               : -1;
    }
    for (k = 0; l3_members[k]; k++) {
        for (i = 0; i < cilrd_len(arr[k]); i++) {
            const json_t *x = json_array_get(arr[k], i);
            int rc = 0;

            member_path(p, sizeof(p), "%s.%s[%zu]", path, l3_members[k], i);
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
                    return cilrd_failf(r, x, p, "must be an entity name");
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
                    rc = cilrd_note(r, x, p,
                                    "toNodes selects nodes by labels: this deny is not "
                                    "counted");
                } else {
                    rc = cilrd_note(r, x, p, "toNodes: every node counted (host and remote-node)");
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

static int read_subject(struct cilrd *r, const json_t *spec, const char *path)
{
    const json_t *es = cilrd_member(spec, "endpointSelector"),
                 *nsel = cilrd_member(spec, "nodeSelector");
    struct cilsel s;
    char p[CILRD_PATH_LEN];
    int rc = -1;

    if ((es != NULL) == (nsel != NULL))
        return cilrd_failf(r, spec, path,
                           "exactly one of endpointSelector or nodeSelector must be given");
    if (nsel) {
        /* A host policy: it governs nodes; pods stay as they are. */
        r->m->host_policy = true;
        member_path(p, sizeof(p), "%s%snodeSelector", path, *path ? "." : "");
        if (cilsel_split(r, nsel, p, &s) < 0)
            goto out;
        if (!(r->m->pod_sel = cilsel_compile(r, s.pod_part, nsel, p)))
            goto out;
        r->m->ns_sel = selector_all();
        rc = r->m->ns_sel ? 0 : err_set(r->e, "out of memory");
        goto out;
    }
    member_path(p, sizeof(p), "%s%sendpointSelector", path, *path ? "." : "");
    if (cilsel_split(r, es, p, &s) < 0)
        goto out;
    if (s.reserved || s.other_src) {
        if (cilrd_note(r, es, p, "selects reserved or non-Kubernetes identities, not pods") < 0)
            goto out;
        r->m->pod_sel = selector_none();
        r->m->ns_sel = selector_all();
        rc = r->m->pod_sel && r->m->ns_sel ? 0 : err_set(r->e, "out of memory");
        goto out;
    }
    if (!(r->m->pod_sel = cilsel_compile(r, s.pod_part, es, p)))
        goto out;
    /* A namespaced policy always adds its own namespace; namespace keys narrow further. */
    if (!(r->m->ns_sel = cilsel_compile(r, s.ns_part, es, p)))
        goto out;
    rc = 0;
out:
    cilsel_release(&s);
    return rc;
}

static int read_enable_default_deny(struct cilrd *r, const json_t *spec, const char *path,
                                    bool *set, bool *val)
{
    const json_t *edd = cilrd_member(spec, "enableDefaultDeny"), *eg;
    char p[CILRD_PATH_LEN];

    *set = false;
    if (!edd || json_is_null(edd))
        return 0;
    member_path(p, sizeof(p), "%s%senableDefaultDeny", path, *path ? "." : "");
    if (!json_is_object(edd))
        return cilrd_failf(r, edd, p, "must be an object with ingress and egress booleans");
    eg = json_object_get(edd, "egress");
    if (!eg || json_is_null(eg))
        return 0;
    if (!json_is_boolean(eg)) {
        strncat(p, ".egress", sizeof(p) - strlen(p) - 1);
        return cilrd_failf(r, edd, p, "must be true or false");
    }
    *set = true;
    *val = json_is_true(eg);
    return 0;
}

static int read_spec(struct cilrd *r, const json_t *spec, const char *mpath, const char *fpath)
{
    const json_t *eg, *egd;
    char p[CILRD_PATH_LEN];
    bool dd_set, dd;
    size_t i;

    if (!json_is_object(spec))
        return cilrd_failf(r, spec, fpath, "must be an object");
    if (!(r->m->path = strdup(mpath)))
        return err_set(r->e, "out of memory");
    if (read_subject(r, spec, fpath) < 0)
        return -1;
    member_path(p, sizeof(p), "%s%s", fpath, *fpath ? "." : "");
    if (cilrd_array(r, spec, "egress", fpath, &eg) < 0 ||
        cilrd_array(r, spec, "egressDeny", fpath, &egd) < 0 ||
        read_enable_default_deny(r, spec, fpath, &dd_set, &dd) < 0)
        return -1;
    r->m->governs_egress = cilrd_len(eg) || cilrd_len(egd) || (dd_set && dd);
    r->m->default_deny = dd_set ? dd : (cilrd_len(eg) || cilrd_len(egd));
    r->m->ordered = false;
    if (cilrd_len(egd) && !cilrd_len(eg) && r->m->default_deny &&
        cilrd_note(
            r, egd, fpath,
            "egressDeny without egress rules also turns default deny on: all other egress of "
            "the selected pods is dropped") < 0)
        return -1;
    r->deny = false;
    for (i = 0; i < cilrd_len(eg); i++) {
        member_path(p, sizeof(p), "%s%segress[%zu]", fpath, *fpath ? "." : "", i);
        if (read_rule(r, json_array_get(eg, i), p) < 0)
            return -1;
    }
    r->deny = true;
    for (i = 0; i < cilrd_len(egd); i++) {
        member_path(p, sizeof(p), "%s%segressDeny[%zu]", fpath, *fpath ? "." : "", i);
        if (read_rule(r, json_array_get(egd, i), p) < 0)
            return -1;
    }
    r->deny = false;
    for (i = 0; i < cilrd_len(eg); i++) {
        const json_t *fq = cilrd_member(json_array_get(eg, i), "toFQDNs");
        if (cilrd_len(fq) && !cilports_has_dns(eg)) {
            member_path(p, sizeof(p), "%s%segress[%zu].toFQDNs", fpath, *fpath ? "." : "", i);
            if (cilrd_note(
                    r, fq, p,
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

static int read_one(struct cilrd *r, struct egress_list *out, const json_t *spec, const char *mpath,
                    const char *fpath, bool clusterwide, bool ns_assumed)
{
    const struct object *obj = r->obj;
    struct egress_model *m = egress_list_add(out);
    char name[512];

    if (!m)
        return err_set(r->e, "out of memory");
    r->m = m;
    if (clusterwide)
        member_path(name, sizeof(name), "%s", obj->name);
    else
        member_path(name, sizeof(name), "%s/%s", r->ns, obj->name);
    if (!(m->kind = strdup(obj->kind)) || !(m->name = strdup(name)) ||
        (!clusterwide && !(m->ns = strdup(r->ns))))
        return err_set(r->e, "out of memory");
    if (ns_assumed && cilrd_note(r, obj->json, "metadata.namespace",
                                 "no namespace given: the policy is read as in \"default\"") < 0)
        return -1;
    return read_spec(r, spec, mpath, fpath);
}

int cilium_read(const struct object *obj, struct egress_list *out, struct err *e)
{
    struct cilrd r = {.obj = obj, .e = e};
    const json_t *spec = cilrd_member(obj->json, "spec"), *specs = cilrd_member(obj->json, "specs");
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
        return cilrd_failf(&r, obj->json, "spec", "a Cilium policy needs spec or specs");
    if (specs && !json_is_array(specs))
        return cilrd_failf(&r, specs, "specs", "must be a list of rules");
    if (spec && read_one(&r, out, spec, "", "spec", clusterwide, ns_assumed) < 0)
        return -1;
    for (i = 0; i < cilrd_len(specs); i++) {
        member_path(mp, sizeof(mp), "specs[%zu]", i);
        if (read_one(&r, out, json_array_get(specs, i), mp, mp, clusterwide,
                     ns_assumed && !spec && i == 0) < 0)
            return -1;
    }
    return 0;
}

int cilium_decide(const struct policy *pol, const struct object *obj, const struct request_ctx *ctx,
                  struct verdict *v, struct err *e)
{
    /* The egress judgement, then the DNS rules (DNS is an egress channel too: cildns.h). */
    return judge_read_then(pol, obj, ctx, cilium_read, cildns_check, v, e);
}
