#include "policy/cni/netset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/base/buf.h"
#include "policy/cni/caldst.h"
#include "policy/doc/doc.h"
#include "policy/doc/member.h"
#include "policy/eval/judge.h"
#include "policy/eval/opening.h"
#include "policy/eval/reach.h"
#include "policy/eval/scope.h"
#include "policy/eval/setres.h"
#include "policy/sets/fqdn.h"

#define PATH_LEN 256
/* The most a finding's text may take: it names the set, its addresses and domains, the policy
 * that reaches it and why it is judged (all from objects); cut there with "...". */
#define NETSET_MESSAGE_CAP ((size_t)8192)

bool netset_kind(const struct object *obj, enum setdb_kind *kind)
{
    static const struct {
        const char *group, *kind;
        enum setdb_kind k;
    } kinds[] = {
        {"projectcalico.org", "NetworkSet", SETDB_NETWORKSET},
        {"crd.projectcalico.org", "NetworkSet", SETDB_NETWORKSET},
        {"projectcalico.org", "GlobalNetworkSet", SETDB_GLOBALNETWORKSET},
        {"crd.projectcalico.org", "GlobalNetworkSet", SETDB_GLOBALNETWORKSET},
        {"projectcalico.org", "HostEndpoint", SETDB_HOSTENDPOINT},
        {"crd.projectcalico.org", "HostEndpoint", SETDB_HOSTENDPOINT},
        {"cilium.io", "CiliumCIDRGroup", SETDB_CIDRGROUP},
    };
    char group[128];
    size_t i;

    object_group(obj, group, sizeof(group));
    for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        if (!strcmp(kinds[i].group, group) && !strcmp(kinds[i].kind, obj->kind)) {
            if (kind)
                *kind = kinds[i].k;
            return true;
        }
    }
    return false;
}

/* The member of spec that holds the set's addresses. */
static const char *nets_field(enum setdb_kind kind)
{
    switch (kind) {
    case SETDB_HOSTENDPOINT:
        return "expectedIPs";
    case SETDB_CIDRGROUP:
        return "externalCIDRs";
    default:
        return "nets";
    }
}

static int read_nets(const struct object *obj, const json_t *list, const char *path,
                     struct cidrset *out, struct err *e)
{
    char p[PATH_LEN];
    size_t i;

    for (i = 0; i < json_array_size(list); i++) {
        const json_t *n = json_array_get(list, i);
        struct cidr c;

        member_path(p, sizeof(p), "%s[%zu]", path, i);
        if (member_check(obj, list, n, MEMBER_STRING, p, e) < 0)
            return -1;
        /* Calico's v3 API and Cilium's CIDR type both accept a bare address as its /32 or /128. */
        if (cidr_parse(json_string_value(n), CIDR_BARE_IP, &c, NULL, e) < 0) {
            err_prefix(e, "%s", p);
            return doc_err_at(obj->doc, n, e);
        }
        if (cidrset_add(out, &c) < 0)
            return err_set(e, "out of memory");
    }
    return 0;
}

static int read_domains(const struct object *obj, const json_t *list, struct setdb_entry *out,
                        struct err *e)
{
    char p[PATH_LEN], norm[FQDN_MAX];
    bool widened;
    size_t i;

    if (!(out->domains = calloc(json_array_size(list) + 1, sizeof(*out->domains))))
        return err_set(e, "out of memory");
    for (i = 0; i < json_array_size(list); i++) {
        const json_t *d = json_array_get(list, i);

        member_path(p, sizeof(p), "spec.allowedEgressDomains[%zu]", i);
        if (member_check(obj, list, d, MEMBER_STRING, p, e) < 0)
            return -1;
        /* A wildcard spans one or more labels in Calico: widened to every name (caldst.h). */
        if (caldst_domain(json_string_value(d), norm, &widened, e) < 0) {
            err_prefix(e, "%s", p);
            return doc_err_at(obj->doc, d, e);
        }
        if (!(out->domains[out->n_domains] = strdup(norm)))
            return err_set(e, "out of memory");
        out->n_domains++;
    }
    return 0;
}

/* Identity and labels, which an entry has even when its addresses cannot be read. */
static int read_identity(const struct object *obj, enum setdb_kind kind, struct setdb_entry *out)
{
    const json_t *meta = json_object_get(obj->json, "metadata");
    const json_t *labels = json_is_object(meta) ? json_object_get(meta, "labels") : NULL;
    char where[512];

    out->kind = kind;
    /* A namespaced object without a namespace is created in "default". */
    out->ns = strdup(kind == SETDB_NETWORKSET ? (*obj->ns ? obj->ns : "default") : "");
    out->name = strdup(obj->name);
    out->labels = json_is_object(labels) ? json_deep_copy(labels) : json_object();
    /* Calico labels every NetworkSet with its namespace (networksetprocessor.go). */
    if (out->labels && kind == SETDB_NETWORKSET &&
        json_object_set_new(out->labels, "projectcalico.org/namespace", json_string(out->ns)) < 0)
        return -1;
    if (obj->file && *obj->file) {
        snprintf(where, sizeof(where), "%s:%d", obj->file, obj->line);
        out->where = strdup(where);
    }
    return out->ns && out->name && out->labels && (!obj->file || !*obj->file || out->where) ? 0
                                                                                            : -1;
}

int netset_read(const struct object *obj, struct setdb_entry *out, struct err *e)
{
    const json_t *meta, *labels, *spec, *nets = NULL, *doms = NULL;
    enum setdb_kind kind;
    const char *field;
    char p[PATH_LEN];

    memset(out, 0, sizeof(*out));
    if (!netset_kind(obj, &kind))
        return err_set(e, "%s is not an address set kind", obj->kind);
    if (member_get(obj, obj->json, "metadata", MEMBER_OBJECT, "metadata", &meta, e) < 0 ||
        member_get(obj, meta, "labels", MEMBER_OBJECT, "metadata.labels", &labels, e) < 0 ||
        member_get(obj, obj->json, "spec", MEMBER_OBJECT, "spec", &spec, e) < 0)
        return -1;
    if (!*obj->name) {
        err_set(e, "metadata.name is required");
        return doc_err_at(obj->doc, obj->json, e);
    }
    if (read_identity(obj, kind, out) < 0 || !(out->nets = cidrset_new()))
        goto oom;
    field = nets_field(kind);
    member_path(p, sizeof(p), "spec.%s", field);
    if (member_get(obj, spec, field, MEMBER_ARRAY, p, &nets, e) < 0 ||
        read_nets(obj, nets, p, out->nets, e) < 0)
        goto fail;
    if (kind == SETDB_HOSTENDPOINT && !json_array_size(nets)) {
        const json_t *ifname = spec ? json_object_get(spec, "interfaceName") : NULL;

        /*
         * A HostEndpoint's labels share the workload endpoints' label space, so rule selectors
         * reach it ("Host endpoints can have labels, and their labels are in the same namespace
         * as those of workload endpoints", docs.tigera.io, reference/host-endpoints/overview);
         * it stands for an interface named by interfaceName or by its expectedIPs
         * (reference/resources/hostendpoint). Without expectedIPs the addresses are the
         * interface's, unknown here.
         */
        cidrset_free(out->nets);
        out->nets = NULL;
        snprintf(p, sizeof(p), "no spec.expectedIPs: its addresses are those of interface %s "
                               "on its node, which are not known here",
                 json_is_string(ifname) ? json_string_value(ifname) : "(none given)");
        if (!(out->error = strdup(p)))
            goto oom;
        return 0;
    }
    if (kind == SETDB_NETWORKSET || kind == SETDB_GLOBALNETWORKSET) {
        if (member_get(obj, spec, "allowedEgressDomains", MEMBER_ARRAY,
                       "spec.allowedEgressDomains", &doms, e) < 0 ||
            (doms && read_domains(obj, doms, out, e) < 0))
            goto fail;
    }
    return 0;
oom:
    err_set(e, "out of memory");
fail:
    setdb_entry_release(out);
    return -1;
}

int netset_entry(const struct object *obj, struct setdb_entry *out, struct err *e)
{
    enum setdb_kind kind;
    struct err re = {0};
    char msg[sizeof(re.msg) + 64];

    if (!netset_kind(obj, &kind))
        return err_set(e, "%s is not an address-set kind", obj->kind);
    if (netset_read(obj, out, &re) < 0) {
        /* Unreadable: present, but what it holds is unknown. */
        memset(out, 0, sizeof(*out));
        err_format(&re, msg, sizeof(msg));
        if (read_identity(obj, kind, out) < 0 || !(out->error = strdup(msg))) {
            setdb_entry_release(out);
            return err_set(e, "out of memory");
        }
    }
    return 0;
}

int netset_collect(struct setdb *db, const struct object *const *objs, size_t n, struct err *e)
{
    size_t i;

    for (i = 0; i < n; i++) {
        struct setdb_entry entry;

        if (!netset_kind(objs[i], NULL))
            continue;
        if (netset_entry(objs[i], &entry, e) < 0)
            return -1;
        if (setdb_add(db, &entry) < 0)
            return err_set(e, "out of memory");
    }
    return 0;
}

/* ---- judging ------------------------------------------------------------------------ */

static void set_name(const struct setdb_entry *set, struct buf *b)
{
    buf_printf(b, "%s %s%s%s", setdb_kind_name(set->kind), *set->ns ? set->ns : "",
               *set->ns ? "/" : "", set->name);
}

/*
 * A NetworkSet of an AI namespace: every address and domain inside some allow entry (any ports),
 * since any policy of the namespace may select it on any port. Returns 0 or -1 (OOM).
 */
static int judge_in_ai_ns(const struct policy *pol, const struct object *obj,
                          const struct setdb_entry *set, const json_t *nets_node,
                          struct verdict *v)
{
    struct cidrset *allowed = cidrset_new(), *esc = NULL;
    const char **names = NULL;
    size_t i, j, n_names = 0;
    struct buf b;
    int rc = -1;

    buf_init_cut(&b, NETSET_MESSAGE_CAP, "...");
    if (!allowed)
        goto out;
    for (i = 0; i < pol->n_allow; i++) {
        n_names += pol->allow[i].n_fqdns;
        if (cidrset_union(allowed, pol->allow[i].cidrs) < 0)
            goto out;
    }
    if (!(esc = cidrset_dup(set->nets)) || cidrset_subtract(esc, allowed) < 0)
        goto out;
    if (!cidrset_is_empty(esc)) {
        set_name(set, &b);
        buf_puts(&b, " holds ");
        cidrset_format(esc, 8, &b);
        buf_printf(&b, ", outside every allow entry; any policy of AI namespace %s may reach "
                       "this set",
                   set->ns);
        if (b.failed || verdict_add(v, obj, nets_node, "egress", pol->egress_mode, true,
                                    "spec.nets", "%s", buf_str(&b)) < 0)
            goto out;
    }
    if (set->n_domains && !cidrset_is_all(allowed, 0)) {
        if (n_names && !(names = malloc(n_names * sizeof(*names))))
            goto out;
        n_names = 0;
        for (i = 0; i < pol->n_allow; i++)
            for (j = 0; j < pol->allow[i].n_fqdns; j++)
                names[n_names++] = pol->allow[i].fqdns[j];
        buf_reset(&b);
        set_name(set, &b);
        buf_puts(&b, " allows domains ");
        j = b.len;
        for (i = 0; i < set->n_domains; i++)
            if (!fqdn_subset_of_any(set->domains[i], names, n_names))
                buf_printf(&b, "%s%s", b.len > j ? ", " : "", set->domains[i]);
        if (b.len > j &&
            verdict_add(v, obj, nets_node, "egress", pol->egress_mode, true,
                        "spec.allowedEgressDomains",
                        "%s, outside every allow entry; any policy of AI namespace %s may reach "
                        "this set",
                        buf_str(&b), set->ns) < 0)
            goto out;
    }
    rc = 0;
out:
    free(names);
    buf_release(&b);
    cidrset_free(allowed);
    cidrset_free(esc);
    return rc;
}

/*
 * What rule r of model m opens through this set: the set's addresses (and domains) on the rule's
 * ports, judged as reach.h judges any opening. *judged is set when m governs AI workloads.
 */
static int judge_reached(const struct policy *pol, const struct object *obj,
                         const struct request_ctx *ctx, const struct setdb_entry *set,
                         const json_t *nets_node, const struct egress_model *m,
                         const struct egress_rule *r, const struct egress_peer *ref,
                         const char *why, struct verdict *v, struct err *e)
{
    struct egress_model tmp;
    struct egress_rule *tr;
    struct egress_peer *p;
    struct opening_list ops;
    struct reach_result res;
    struct buf text;
    char path[64];
    int rc = -1;

    (void)ctx;
    snprintf(path, sizeof(path), "spec.%s", nets_field(set->kind));
    egress_model_init(&tmp);
    opening_list_init(&ops);
    reach_result_init(&res);
    buf_init_cut(&text, SETRES_TEXT_CAP, "...");
    set_name(set, &text);
    buf_printf(&text, ", reached by %s in %s %s %s (AI workloads: %s)",
               ref->text ? ref->text : "a selector", m->kind, m->name, r->path, why);
    tmp.governs_egress = true;
    if (!(tr = egress_model_add_rule(&tmp, EGRESS_ALLOW, r->path, r->node)) ||
        portset_union(tr->ports, r->ports) < 0)
        goto oom;
    if (!set->nets) {
        /* A HostEndpoint without expectedIPs: what it stands for is not known (netset_read). */
        struct buf ent;

        buf_init_cut(&ent, SETRES_TEXT_CAP, "...");
        set_name(set, &ent);
        buf_printf(&ent, ", whose addresses cannot be read (%s)",
                   set->error ? set->error : "unreadable");
        if (!(p = egress_rule_add_peer(tr, PEER_UNKNOWN, path, nets_node)) ||
            !(p->text = buf_detach(&text, NULL)) || !(p->entity = buf_detach(&ent, NULL))) {
            buf_release(&ent);
            goto oom;
        }
    } else if (!cidrset_is_empty(set->nets)) {
        if (!(p = egress_rule_add_peer(tr, PEER_CIDR, path, nets_node)) ||
            cidrset_union(p->cidrs, set->nets) < 0 || !(p->text = buf_detach(&text, NULL)))
            goto oom;
    }
    for (size_t i = 0; i < set->n_domains; i++) {
        if (i == 0) {
            buf_init_cut(&text, SETRES_TEXT_CAP, "...");
            set_name(set, &text);
            buf_printf(&text, " (domains), reached by %s in %s %s %s (AI workloads: %s)",
                       ref->text ? ref->text : "a selector", m->kind, m->name, r->path, why);
            if (!(p = egress_rule_add_peer(tr, PEER_FQDN, "spec.allowedEgressDomains",
                                           nets_node)) ||
                !(p->text = buf_detach(&text, NULL)))
                goto oom;
        }
        if (egress_peer_add_fqdn(&tr->peers[tr->n_peers - 1], set->domains[i]) < 0)
            goto oom;
    }
    if (opening_list_build_one(&tmp, &ops, e) < 0 || reach_check(pol, m->ns, &ops, &res, e) < 0)
        goto out;
    if (judge_report(pol, obj, &res, false, v) < 0)
        goto oom;
    rc = 0;
    goto out;
oom:
    err_set(e, "out of memory");
out:
    buf_release(&text);
    reach_result_release(&res);
    opening_list_release(&ops);
    egress_model_release(&tmp);
    return rc;
}

/* Judges the set against every known policy that governs AI workloads and reaches it. */
static int judge_policies(const struct policy *pol, const struct object *obj,
                          const struct request_ctx *ctx, const struct setdb_entry *set,
                          const json_t *nets_node, bool *judged, struct verdict *v,
                          struct err *e)
{
    const struct nsdb *ns = ctx ? ctx->namespaces : NULL;
    size_t i, k, j;

    for (i = 0; ctx && ctx->policies && i < ctx->policies->n; i++) {
        const struct egress_model *m = &ctx->policies->models[i];
        struct buf why;
        int ai = -1; /* unknown yet: scope is asked only of models that reach the set */

        if (!m->governs_egress)
            continue;
        buf_init_cut(&why, NETSET_MESSAGE_CAP, "...");
        for (k = 0; ai != 0 && k < m->n_rules; k++) {
            const struct egress_rule *r = &m->rules[k];

            if (r->action != EGRESS_ALLOW && !(r->action == EGRESS_PASS && m->pass_opens))
                continue;
            for (j = 0; ai != 0 && j < r->n_peers; j++) {
                const struct egress_peer *p = &r->peers[j];

                if (!p->setref || setres_reaches(p->setref, set, ns) == TRI_FALSE)
                    continue;
                if (ai < 0)
                    ai = scope_governs_ai(pol, m, ns, &why);
                if (!ai)
                    break;
                *judged = true;
                if (judge_reached(pol, obj, ctx, set, nets_node, m, r, p, buf_str(&why), v,
                                  e) < 0) {
                    buf_release(&why);
                    return -1;
                }
            }
        }
        buf_release(&why);
    }
    return 0;
}

int netset_decide(const struct policy *pol, const struct object *obj,
                  const struct request_ctx *ctx, struct verdict *v, struct err *e)
{
    const json_t *spec = json_object_get(obj->json, "spec");
    struct setdb_entry set;
    const json_t *nets_node;
    bool judged = false;
    int rc = -1;

    if (netset_read(obj, &set, e) < 0)
        return -1;
    nets_node = json_is_object(spec) ? json_object_get(spec, nets_field(set.kind)) : NULL;
    if (!nets_node)
        nets_node = obj->json;
    if (set.kind == SETDB_NETWORKSET &&
        policy_ns_is_ai(pol, set.ns, ctx ? nsdb_labels(ctx->namespaces, set.ns) : NULL)) {
        judged = true;
        if (judge_in_ai_ns(pol, obj, &set, nets_node, v) < 0) {
            err_set(e, "out of memory");
            goto out;
        }
    }
    if (judge_policies(pol, obj, ctx, &set, nets_node, &judged, v, e) < 0)
        goto out;
    if (!judged &&
        verdict_add(v, obj, NULL, "egress", pol->egress_mode, false, "",
                    "not evaluated: %s, and no network policy known to this run that governs AI "
                    "workloads reaches it",
                    set.kind == SETDB_NETWORKSET ? "its namespace is not an AI namespace"
                                                 : "it belongs to no namespace") < 0) {
        err_set(e, "out of memory");
        goto out;
    }
    rc = 0;
out:
    setdb_entry_release(&set);
    return rc;
}
