#include "policy/config/policy.h"

#include <errno.h>
#include <fnmatch.h>
#include <nettle/sha2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy/config/allowidx.h"
#include "policy/config/cfgread.h"
#include "policy/selector/selsubset.h"
#include "policy/doc/doc.h"
#include "policy/sets/fqdn.h"

#define API_VERSION "egressguard.io/v1alpha1"
#define KIND "EgressPolicy"

static int parse_ports(struct cfgread *l, const json_t *entry, const char *path, struct portset *ps)
{
    static const char *const fields[] = {"protocol", "port", "endPort", NULL};
    json_t *arr, *item;
    size_t i;
    char sub[256];
    int r = cfgread_opt(l, entry, "ports", JSON_ARRAY, path, &arr);

    if (r < 0)
        return -1;
    if (r == 0 || json_array_size(arr) == 0)
        return portset_add_proto(ps, PROTO_ANY) < 0 ? err_set(l->e, "out of memory") : 0;
    json_array_foreach(arr, i, item) {
        int proto = PROTO_TCP;
        json_t *v, *pv, *ev;
        long long port, end;

        snprintf(sub, sizeof(sub), "%s.ports[%zu]", path, i);
        if (!json_is_object(item))
            return cfgread_fail(l, item, sub, "must be a mapping {protocol, port, endPort}, not %s",
                        doc_type_name(item));
        if (cfgread_check_fields(l, item, sub, fields) < 0)
            return -1;
        if ((r = cfgread_opt(l, item, "protocol", JSON_STRING, sub, &v)) < 0)
            return -1;
        if (r > 0 && proto_parse(json_string_value(v), &proto, l->e) < 0)
            return cfgread_fail_inner(l, v, sub);
        pv = json_object_get(item, "port");
        ev = json_object_get(item, "endPort");
        if (json_is_string(pv))
            return cfgread_fail(l, pv, sub,
                        "named port \"%s\": the policy file needs port numbers (names resolve "
                        "differently in every pod)",
                        json_string_value(pv));
        if (pv && !json_is_integer(pv))
            return cfgread_fail(l, pv, sub, "port must be an integer 1-65535, not %s", doc_type_name(pv));
        if (ev && !json_is_integer(ev))
            return cfgread_fail(l, ev, sub, "endPort must be an integer 1-65535, not %s",
                        doc_type_name(ev));
        if (!pv) {
            if (ev)
                return cfgread_fail(l, ev, sub, "endPort needs port");
            if (portset_add_proto(ps, proto) < 0)
                return err_set(l->e, "out of memory");
            continue;
        }
        port = json_integer_value(pv);
        end = ev ? json_integer_value(ev) : port;
        if (port < 1 || port > 65535)
            return cfgread_fail(l, pv, sub, "port %lld is out of range 1-65535", port);
        if (end < port || end > 65535)
            return cfgread_fail(l, ev, sub, "endPort %lld must be between port %lld and 65535", end, port);
        if (proto != PROTO_ANY && !proto_has_ports(proto))
            return cfgread_fail(l, pv, sub, "protocol %s has no ports", proto_name(proto));
        if (portset_add_range(ps, proto, (unsigned)port, (unsigned)end) < 0)
            return err_set(l->e, "out of memory");
    }
    return 0;
}

static int parse_cidrs(struct cfgread *l, const json_t *entry, const char *path, struct cidrset *set)
{
    json_t *arr, *item;
    size_t i;
    char sub[256];
    int r = cfgread_opt(l, entry, "cidrs", JSON_ARRAY, path, &arr);

    if (r <= 0)
        return r;
    json_array_foreach(arr, i, item) {
        struct cidr c;
        bool normalized = false;

        snprintf(sub, sizeof(sub), "%s.cidrs[%zu]", path, i);
        if (!json_is_string(item))
            return cfgread_fail(l, item, sub, "must be a CIDR string such as \"10.0.0.0/8\", not %s",
                        doc_type_name(item));
        if (cidr_parse(json_string_value(item), CIDR_STRICT, &c, &normalized, l->e) < 0)
            return cfgread_fail_inner(l, item, sub);
        if (normalized) {
            /* A policy file is written by us, not copied from the wild: be exact. */
            char canon[CIDR_STRLEN];
            cidr_format(&c, canon, sizeof(canon));
            return cfgread_fail(l, item, sub, "\"%s\" has host bits set; write \"%s\"",
                        json_string_value(item), canon);
        }
        if (cidrset_add(set, &c) < 0)
            return err_set(l->e, "out of memory");
    }
    return 0;
}

static int parse_peers(struct cfgread *l, const json_t *entry, const char *path, struct dest_entry *d)
{
    static const char *const fields[] = {"sameNamespace", "namespaceSelector", "podSelector", NULL};
    json_t *arr, *item;
    size_t i;
    char sub[256];
    int r = cfgread_opt(l, entry, "inCluster", JSON_ARRAY, path, &arr);

    if (r <= 0 || !json_array_size(arr))
        return r < 0 ? -1 : 0;
    if (!(d->peers = calloc(json_array_size(arr), sizeof(*d->peers))))
        return err_set(l->e, "out of memory");
    json_array_foreach(arr, i, item) {
        struct peer_spec *p = &d->peers[d->n_peers];

        snprintf(sub, sizeof(sub), "%s.inCluster[%zu]", path, i);
        if (!json_is_object(item))
            return cfgread_fail(l, item, sub, "must be a mapping, not %s", doc_type_name(item));
        if (cfgread_check_fields(l, item, sub, fields) < 0 ||
            cfgread_opt_bool(l, item, "sameNamespace", sub, &p->same_namespace) < 0)
            return -1;
        d->n_peers++;
        if (p->same_namespace && json_object_get(item, "namespaceSelector"))
            return cfgread_fail(l, item, sub, "sameNamespace and namespaceSelector exclude each other");
        if (!p->same_namespace && !json_object_get(item, "namespaceSelector") &&
            !json_object_get(item, "podSelector"))
            return cfgread_fail(l, item, sub,
                        "name the peers: sameNamespace, namespaceSelector and/or podSelector "
                        "(use namespaceSelector: {} for every namespace)");
        if (!p->same_namespace &&
            cfgread_selector(l, item, "namespaceSelector", sub, &p->namespaces) < 0)
            return -1;
        if (cfgread_selector(l, item, "podSelector", sub, &p->pods) < 0)
            return -1;
    }
    return 0;
}

/*
 * "name (10.20.0.0/16 on TCP/443)": how findings name an allow entry. Made once at load, since
 * every escape message lists the nearest entries.
 */
static void describe_entry(const struct dest_entry *d, struct buf *b)
{
    size_t i;
    bool any = false;

    buf_printf(b, "%s (", d->name);
    if (!cidrset_is_empty(d->cidrs)) {
        cidrset_format(d->cidrs, 4, b);
        any = true;
    }
    for (i = 0; i < d->n_fqdns; i++, any = true)
        buf_printf(b, "%s%s", any ? ", " : "", d->fqdns[i]);
    for (i = 0; i < d->n_peers; i++, any = true) {
        const struct peer_spec *ps = &d->peers[i];

        buf_puts(b, any ? ", " : "");
        if (!ps->pods || selector_is_all(ps->pods)) {
            buf_puts(b, "every pod");
        } else {
            buf_puts(b, "pods ");
            selector_format(ps->pods, b);
        }
        if (ps->same_namespace) {
            buf_puts(b, " of the same namespace");
        } else if (!ps->namespaces || selector_is_all(ps->namespaces)) {
            buf_puts(b, " of every namespace");
        } else {
            buf_puts(b, " of namespaces ");
            selector_format(ps->namespaces, b);
        }
    }
    if (!any)
        buf_puts(b, "nothing");
    buf_puts(b, " on ");
    portset_format(d->ports, b);
    buf_puts(b, ")");
}

static int parse_entries(struct cfgread *l, const json_t *spec, const char *key, bool deny,
                         struct dest_entry **out, size_t *n)
{
    static const char *const allow_fields[] = {"name",      "reason", "cidrs", "fqdns",
                                               "inCluster", "ports",  NULL};
    static const char *const deny_fields[] = {"name", "reason", "cidrs", NULL};
    json_t *arr, *item;
    size_t i;
    char path[64];
    int r = cfgread_opt(l, spec, key, JSON_ARRAY, "spec", &arr);

    *out = NULL;
    *n = 0;
    if (r <= 0 || !json_array_size(arr))
        return r < 0 ? -1 : 0;
    if (!(*out = calloc(json_array_size(arr), sizeof(**out))))
        return err_set(l->e, "out of memory");
    json_array_foreach(arr, i, item) {
        struct dest_entry *d = &(*out)[*n];
        int line = 0, col;

        snprintf(path, sizeof(path), "spec.%s[%zu]", key, i);
        if (!json_is_object(item))
            return cfgread_fail(l, item, path, "must be a mapping, not %s", doc_type_name(item));
        if (cfgread_check_fields(l, item, path, deny ? deny_fields : allow_fields) < 0)
            return -1;
        (*n)++;
        doc_pos(l->doc, item, &line, &col);
        d->line = line;
        if (!(d->cidrs = cidrset_new()) || !(d->ports = portset_new()))
            return err_set(l->e, "out of memory");
        json_t *name = cfgread_want(l, item, "name", JSON_STRING, path, true);
        if (!name)
            return -1;
        if (!*json_string_value(name))
            return cfgread_fail(l, name, path, "name must not be empty");
        for (size_t j = 0; j + 1 < *n; j++)
            if (!strcmp((*out)[j].name, json_string_value(name)))
                return cfgread_fail(l, name, path, "duplicate %s entry name \"%s\"", key,
                            json_string_value(name));
        if (!(d->name = strdup(json_string_value(name))))
            return err_set(l->e, "out of memory");
        if (cfgread_opt_string(l, item, "reason", path, &d->reason) < 0)
            return -1;
        if (!d->reason && !(d->reason = strdup("")))
            return err_set(l->e, "out of memory");
        if (parse_cidrs(l, item, path, d->cidrs) < 0)
            return -1;
        if (deny) {
            if (cidrset_is_empty(d->cidrs))
                return cfgread_fail(l, item, path, "a deny entry needs cidrs");
            if (portset_add_proto(d->ports, PROTO_ANY) < 0)
                return err_set(l->e, "out of memory");
            continue;
        }
        if (cfgread_string_list(l, item, "fqdns", path, &d->fqdns, &d->n_fqdns, cfgread_fqdn) < 0 ||
            parse_peers(l, item, path, d) < 0 || parse_ports(l, item, path, d->ports) < 0)
            return -1;
        if (cidrset_is_empty(d->cidrs) && !d->n_fqdns && !d->n_peers)
            return cfgread_fail(l, item, path, "an allow entry needs cidrs, fqdns or inCluster peers");
        struct buf sum;
        buf_init(&sum, 0);
        describe_entry(d, &sum);
        if (!(d->summary = buf_detach(&sum, NULL)))
            return err_set(l->e, "out of memory");
    }
    return 0;
}

static int parse_ai(struct cfgread *l, const json_t *spec, struct policy *p)
{
    static const char *const fields[] = {"namespaces", "pods", "accelerators", NULL};
    static const char *const ns_fields[] = {"names", "selectors", NULL};
    static const char *const pod_fields[] = {"selectors", NULL};
    const char *path = "spec.aiWorkloads";
    json_t *ai, *ns = NULL, *pods = NULL;
    int r = cfgread_opt(l, spec, "aiWorkloads", JSON_OBJECT, "spec", &ai);

    if (r < 0)
        return -1;
    if (r == 0)
        return cfgread_fail(l, spec, "spec",
                    "missing required field \"aiWorkloads\": say what counts as an AI workload");
    if (cfgread_check_fields(l, ai, path, fields) < 0 ||
        cfgread_opt(l, ai, "namespaces", JSON_OBJECT, path, &ns) < 0 ||
        cfgread_opt(l, ai, "pods", JSON_OBJECT, path, &pods) < 0)
        return -1;
    if (ns && (cfgread_check_fields(l, ns, "spec.aiWorkloads.namespaces", ns_fields) < 0 ||
               cfgread_string_list(l, ns, "names", "spec.aiWorkloads.namespaces", &p->ns_globs,
                           &p->n_ns_globs, cfgread_glob) < 0 ||
               cfgread_selector_list(l, ns, "selectors", "spec.aiWorkloads.namespaces", &p->ns_selectors,
                             &p->n_ns_selectors) < 0))
        return -1;
    if (pods && (cfgread_check_fields(l, pods, "spec.aiWorkloads.pods", pod_fields) < 0 ||
                 cfgread_selector_list(l, pods, "selectors", "spec.aiWorkloads.pods", &p->pod_selectors,
                               &p->n_pod_selectors) < 0))
        return -1;
    if (cfgread_string_list(l, ai, "accelerators", path, &p->accelerators, &p->n_accelerators, NULL) < 0)
        return -1;
    if (!p->n_ns_globs && !p->n_ns_selectors && !p->n_pod_selectors && !p->n_accelerators)
        return cfgread_fail(l, ai, path,
                    "names no namespaces, selectors or accelerators: nothing would "
                    "count as an AI workload");
    return 0;
}

static int parse_string_map(struct cfgread *l, const json_t *parent, const char *key, const char *path,
                            char ***keys, char ***vals, size_t *n)
{
    json_t *obj, *v;
    const char *k;
    int r = cfgread_opt(l, parent, key, JSON_OBJECT, path, &obj);

    if (r <= 0 || !json_object_size(obj))
        return r < 0 ? -1 : 0;
    *keys = calloc(json_object_size(obj), sizeof(char *));
    *vals = calloc(json_object_size(obj), sizeof(char *));
    if (!*keys || !*vals)
        return err_set(l->e, "out of memory");
    json_object_foreach(obj, k, v) {
        if (!json_is_string(v))
            return cfgread_fail(l, json_is_null(v) || json_is_boolean(v) ? obj : v, path,
                        "%s.%s must be a string (quote it: \"%s\")", key, k,
                        json_is_true(v)    ? "true"
                        : json_is_false(v) ? "false"
                                           : "...");
        (*keys)[*n] = strdup(k);
        (*vals)[*n] = strdup(json_string_value(v));
        (*n)++;
        if (!(*keys)[*n - 1] || !(*vals)[*n - 1])
            return err_set(l->e, "out of memory");
    }
    return 0;
}

/*
 * rules.pods.aiWorkloadsOutsideAI, which generalizes the older acceleratorsOutsideAI (accelerator
 * pods only) to every AI workload: the old key still works, with a note; both must agree.
 */
static int parse_ai_outside_ai(struct cfgread *l, const json_t *pods, struct pod_rules *pr)
{
    const char *pp = "spec.rules.pods";
    json_t *now = json_object_get(pods, "aiWorkloadsOutsideAI"),
           *old = json_object_get(pods, "acceleratorsOutsideAI");
    bool a = true, b = true;

    if (cfgread_opt_bool(l, pods, "aiWorkloadsOutsideAI", pp, &a) < 0 ||
        cfgread_opt_bool(l, pods, "acceleratorsOutsideAI", pp, &b) < 0)
        return -1;
    if (!old) {
        pr->ai_outside_ai = a;
        return 0;
    }
    if (now && a != b)
        return cfgread_fail(l, pods, pp,
                            "aiWorkloadsOutsideAI: %s and acceleratorsOutsideAI: %s disagree: "
                            "acceleratorsOutsideAI is its old name; keep aiWorkloadsOutsideAI",
                            a ? "true" : "false", b ? "true" : "false");
    pr->ai_outside_ai = b;
    return cfgread_note(l, pods, "acceleratorsOutsideAI",
                        "%s.acceleratorsOutsideAI is the old name of aiWorkloadsOutsideAI, which "
                        "keeps every AI workload (by pod labels or accelerators) in AI "
                        "namespaces; read as aiWorkloadsOutsideAI: %s",
                        pp, b ? "true" : "false");
}

/* A cluster-internal DNS suffix: a plain name (no pattern), normalized. */
static int read_suffix(struct cfgread *l, const json_t *item, const char *path, char **out)
{
    char norm[FQDN_MAX];

    if (fqdn_normalize(json_string_value(item), false, norm, l->e) < 0)
        return cfgread_fail_inner(l, item, path);
    if (!(*out = strdup(norm)))
        return err_set(l->e, "out of memory");
    return 0;
}

/*
 * rules.dns: the rule on DNS rules (Cilium toPorts[].rules.dns) in AI namespaces, and the
 * cluster-internal suffixes that AI pods may resolve besides the allow-listed names. Its mode
 * defaults to warn: the names a DNS rule lets through are a channel, not yet an opening.
 */
static int parse_dns(struct cfgread *l, const json_t *rules, struct policy *p)
{
    static const char *const fields[] = {"mode", "clusterSuffixes", NULL};
    const char *path = "spec.rules.dns";
    json_t *dns = NULL;

    if (cfgread_opt(l, rules, "dns", JSON_OBJECT, "spec.rules", &dns) < 0 ||
        (dns && cfgread_check_fields(l, dns, path, fields) < 0) ||
        cfgread_mode(l, dns, path, MODE_WARN, &p->dns_mode) < 0)
        return -1;
    if (dns && json_object_get(dns, "clusterSuffixes"))
        return cfgread_string_list(l, dns, "clusterSuffixes", path, &p->dns_suffixes,
                                   &p->n_dns_suffixes, read_suffix);
    if (!(p->dns_suffixes = calloc(1, sizeof(char *))) ||
        !(p->dns_suffixes[0] = strdup("cluster.local")))
        return err_set(l->e, "out of memory");
    p->n_dns_suffixes = 1;
    return 0;
}

static int parse_rules(struct cfgread *l, const json_t *spec, struct policy *p)
{
    static const char *const fields[] = {"egress", "pods",         "namespaces",
                                         "dns",    "unknownKinds", NULL};
    static const char *const egress_fields[] = {"mode", NULL};
    static const char *const pod_fields[] = {"mode",
                                             "hostNetwork",
                                             "privileged",
                                             "capabilities",
                                             "dns",
                                             "serviceMesh",
                                             "proxyEnv",
                                             "aiWorkloadsOutsideAI",
                                             "acceleratorsOutsideAI",
                                             "requiredLabels",
                                             NULL};
    static const char *const mesh_fields[] = {"requireSidecar", "denyBypassAnnotations", NULL};
    static const char *const ns_fields[] = {"mode", "requiredLabels", NULL};
    static const char *const default_caps[] = {"NET_ADMIN", "NET_RAW", "SYS_ADMIN", "ALL"};
    struct pod_rules *pr = &p->pods;
    json_t *rules = NULL, *eg = NULL, *pods = NULL, *mesh = NULL, *ns = NULL, *uk = NULL;
    const char *pp = "spec.rules.pods";

    pr->host_network = pr->privileged = pr->dns = pr->mesh_deny_bypass = pr->proxy_env =
        pr->ai_outside_ai = true;
    p->unknown_kinds_allow = true;
    if (cfgread_opt(l, spec, "rules", JSON_OBJECT, "spec", &rules) < 0 ||
        (rules && cfgread_check_fields(l, rules, "spec.rules", fields) < 0) ||
        cfgread_opt(l, rules, "egress", JSON_OBJECT, "spec.rules", &eg) < 0 ||
        cfgread_opt(l, rules, "pods", JSON_OBJECT, "spec.rules", &pods) < 0 ||
        cfgread_opt(l, rules, "namespaces", JSON_OBJECT, "spec.rules", &ns) < 0 ||
        cfgread_opt(l, rules, "unknownKinds", JSON_STRING, "spec.rules", &uk) < 0 ||
        parse_dns(l, rules, p) < 0)
        return -1;
    if (uk) {
        const char *s = json_string_value(uk);
        if (strcmp(s, "allow") && strcmp(s, "deny"))
            return cfgread_fail(l, uk, "spec.rules", "unknownKinds \"%s\" is not one of allow, deny", s);
        p->unknown_kinds_allow = !strcmp(s, "allow");
    }
    if ((eg && cfgread_check_fields(l, eg, "spec.rules.egress", egress_fields) < 0) ||
        cfgread_mode(l, eg, "spec.rules.egress", p->mode, &p->egress_mode) < 0 ||
        (pods && cfgread_check_fields(l, pods, pp, pod_fields) < 0) ||
        cfgread_mode(l, pods, pp, p->mode, &pr->mode) < 0 ||
        cfgread_opt_bool(l, pods, "hostNetwork", pp, &pr->host_network) < 0 ||
        cfgread_opt_bool(l, pods, "privileged", pp, &pr->privileged) < 0 ||
        cfgread_opt_bool(l, pods, "dns", pp, &pr->dns) < 0 ||
        cfgread_opt_bool(l, pods, "proxyEnv", pp, &pr->proxy_env) < 0 ||
        parse_ai_outside_ai(l, pods, pr) < 0 ||
        cfgread_opt(l, pods, "serviceMesh", JSON_OBJECT, pp, &mesh) < 0 ||
        (mesh && cfgread_check_fields(l, mesh, "spec.rules.pods.serviceMesh", mesh_fields) < 0) ||
        cfgread_opt_bool(l, mesh, "requireSidecar", "spec.rules.pods.serviceMesh",
                 &pr->mesh_require_sidecar) < 0 ||
        cfgread_opt_bool(l, mesh, "denyBypassAnnotations", "spec.rules.pods.serviceMesh",
                 &pr->mesh_deny_bypass) < 0 ||
        cfgread_string_list(l, pods, "requiredLabels", pp, &pr->required_labels, &pr->n_required_labels,
                    NULL) < 0 ||
        (ns && cfgread_check_fields(l, ns, "spec.rules.namespaces", ns_fields) < 0) ||
        cfgread_mode(l, ns, "spec.rules.namespaces", p->mode, &p->ns_mode) < 0 ||
        cfgread_string_list(l, ns, "requiredLabels", "spec.rules.namespaces", &p->ns_required_labels,
                    &p->n_ns_required_labels, NULL) < 0)
        return -1;
    if (pods && json_object_get(pods, "capabilities"))
        return cfgread_string_list(l, pods, "capabilities", pp, &pr->capabilities, &pr->n_capabilities,
                           cfgread_capability);
    if (!(pr->capabilities = calloc(4, sizeof(char *))))
        return err_set(l->e, "out of memory");
    for (size_t i = 0; i < 4; i++)
        if (!(pr->capabilities[pr->n_capabilities++] = strdup(default_caps[i])))
            return err_set(l->e, "out of memory");
    return 0;
}

static int parse_mutation(struct cfgread *l, const json_t *spec, struct policy *p)
{
    static const char *const fields[] = {"enabled", "profile", "labels", "annotations", NULL};
    const char *path = "spec.mutation";
    json_t *m = NULL;

    if (cfgread_opt(l, spec, "mutation", JSON_OBJECT, "spec", &m) < 0 ||
        (m && cfgread_check_fields(l, m, path, fields) < 0) ||
        cfgread_opt_bool(l, m, "enabled", path, &p->mutation_enabled) < 0 ||
        cfgread_opt_string(l, m, "profile", path, &p->profile) < 0 ||
        parse_string_map(l, m, "labels", path, &p->mut_label_keys, &p->mut_label_values,
                         &p->n_mut_labels) < 0 ||
        parse_string_map(l, m, "annotations", path, &p->mut_annotation_keys,
                         &p->mut_annotation_values, &p->n_mut_annotations) < 0)
        return -1;
    if (!p->profile && !(p->profile = strdup("default")))
        return err_set(l->e, "out of memory");
    if (!p->n_mut_labels) {
        /* The enforcement label is what cluster-wide policies select on: there is always one. */
        p->mut_label_keys = calloc(1, sizeof(char *));
        p->mut_label_values = calloc(1, sizeof(char *));
        if (!p->mut_label_keys || !p->mut_label_values ||
            !(p->mut_label_keys[0] = strdup("egressguard.io/enforced")) ||
            !(p->mut_label_values[0] = strdup("true")))
            return err_set(l->e, "out of memory");
        p->n_mut_labels = 1;
    }
    return 0;
}

static int from_doc(struct cfgread *l, struct policy *p)
{
    static const char *const top[] = {"apiVersion", "kind", "metadata", "spec", NULL};
    static const char *const meta_fields[] = {"name", "labels", "annotations", NULL};
    static const char *const spec_fields[] = {"mode",       "aiWorkloads",
                                              "allow",      "deny",
                                              "exemptions", "exemptionWarningDays",
                                              "identities", "rules",
                                              "mutation",   NULL};
    static const char *const id_fields[] = {"users", "groups", "serviceAccounts", NULL};
    json_t *root = doc_root(l->doc), *av, *kind, *meta = NULL, *spec, *ids = NULL;

    if (!json_is_object(root))
        return cfgread_fail(l, root, "", "the policy file must be a mapping, not %s", doc_type_name(root));
    if (cfgread_check_fields(l, root, "", top) < 0)
        return -1;
    if (!(av = cfgread_want(l, root, "apiVersion", JSON_STRING, "", true)) ||
        !(kind = cfgread_want(l, root, "kind", JSON_STRING, "", true)))
        return -1;
    if (strcmp(json_string_value(av), API_VERSION))
        return cfgread_fail(l, av, "", "apiVersion \"%s\" is not " API_VERSION, json_string_value(av));
    if (strcmp(json_string_value(kind), KIND))
        return cfgread_fail(l, kind, "", "kind \"%s\" is not " KIND, json_string_value(kind));
    if (cfgread_opt(l, root, "metadata", JSON_OBJECT, "", &meta) < 0 ||
        (meta && cfgread_check_fields(l, meta, "metadata", meta_fields) < 0) ||
        cfgread_opt_string(l, meta, "name", "metadata", &p->name) < 0)
        return -1;
    if (!p->name && !(p->name = strdup("")))
        return err_set(l->e, "out of memory");
    if (!(spec = cfgread_want(l, root, "spec", JSON_OBJECT, "", true)))
        return -1;
    if (cfgread_check_fields(l, spec, "spec", spec_fields) < 0 ||
        cfgread_mode(l, spec, "spec", MODE_ENFORCE, &p->mode) < 0 || parse_ai(l, spec, p) < 0 ||
        parse_entries(l, spec, "allow", false, &p->allow, &p->n_allow) < 0 ||
        parse_entries(l, spec, "deny", true, &p->deny, &p->n_deny) < 0 ||
        exemptions_read(l, spec, &p->exemptions, &p->n_exemptions,
                        &p->exemption_warning_days) < 0)
        return -1;
    if (!(p->deny_cidrs = cidrset_new()))
        return err_set(l->e, "out of memory");
    for (size_t i = 0; i < p->n_deny; i++)
        if (cidrset_union(p->deny_cidrs, p->deny[i].cidrs) < 0)
            return err_set(l->e, "out of memory");
    /* Compiled once here so that no decision walks the entries (allowidx.h). */
    if (!(p->allowidx = allowidx_new(p->allow, p->n_allow, p->deny_cidrs, l->e)))
        return -1;
    if (cfgread_opt(l, spec, "identities", JSON_OBJECT, "spec", &ids) < 0 ||
        (ids && cfgread_check_fields(l, ids, "spec.identities", id_fields) < 0) ||
        cfgread_string_list(l, ids, "users", "spec.identities", &p->users, &p->n_users, NULL) < 0 ||
        cfgread_string_list(l, ids, "groups", "spec.identities", &p->groups, &p->n_groups, NULL) < 0 ||
        cfgread_string_list(l, ids, "serviceAccounts", "spec.identities", &p->service_accounts,
                    &p->n_service_accounts, cfgread_service_account) < 0)
        return -1;
    return parse_rules(l, spec, p) < 0 ? -1 : parse_mutation(l, spec, p);
}

static void hash_hex(const char *data, size_t len, char out[17])
{
    struct sha256_ctx ctx;
    uint8_t md[SHA256_DIGEST_SIZE];

    sha256_init(&ctx);
    sha256_update(&ctx, len, (const uint8_t *)data);
    sha256_digest(&ctx, sizeof(md), md);
    for (int i = 0; i < 8; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

struct policy *policy_load_buffer(const char *data, size_t len, const char *name, struct err *e)
{
    struct policy *p = calloc(1, sizeof(*p));
    struct doc **docs = NULL;
    size_t n = 0;
    struct cfgread l = {.e = e};

    if (!p) {
        err_set(e, "out of memory");
        return NULL;
    }
    if (!(p->path = strdup(name))) {
        err_set(e, "out of memory");
        goto cfgread_fail;
    }
    /* Positions in errors borrow p->path, which dies with p: errors name `name` instead. */
    if (doc_parse_stream(data, len, name, &docs, &n, e) < 0)
        goto cfgread_fail;
    if (n == 0) {
        err_set(e, "the policy file is empty");
        err_at(e, name, 0, 0);
        goto cfgread_fail;
    }
    if (n > 1) {
        err_set(e, "the policy file must hold one document, not %zu", n);
        err_at(e, name, doc_line(docs[1]), 1);
        goto cfgread_fail;
    }
    l.doc = docs[0];
    if (from_doc(&l, p) < 0)
        goto cfgread_fail;
    /* The notes outlive the doc: their positions name the policy's own copy of the path. */
    p->notes = l.notes;
    p->n_notes = l.n_notes;
    l.notes = NULL;
    for (size_t i = 0; i < p->n_notes; i++)
        p->notes[i].file = p->path;
    hash_hex(data, len, p->hash);
    doc_free(docs[0]);
    free(docs);
    return p;
cfgread_fail:
    for (size_t i = 0; i < n; i++)
        doc_free(docs[i]);
    free(docs);
    free(l.notes);
    policy_free(p);
    return NULL;
}

struct policy *policy_load(const char *path, struct err *e)
{
    FILE *fp = fopen(path, "rb");
    char *data = NULL;
    size_t len = 0, alloc = 0;
    struct policy *p = NULL;

    if (!fp) {
        err_set(e, "cannot open policy file: %s", strerror(errno));
        err_at(e, path, 0, 0);
        return NULL;
    }
    for (;;) {
        if (len == alloc) {
            alloc = alloc ? alloc * 2 : 1 << 14;
            char *nd = alloc > DOC_MAX_BYTES * 2u ? NULL : realloc(data, alloc);
            if (!nd) {
                err_set(e, "policy file too large or out of memory");
                err_at(e, path, 0, 0);
                goto out;
            }
            data = nd;
        }
        size_t got = fread(data + len, 1, alloc - len, fp);
        if (!got)
            break;
        len += got;
    }
    if (ferror(fp)) {
        err_set(e, "cannot read policy file: %s", strerror(errno));
        err_at(e, path, 0, 0);
        goto out;
    }
    p = policy_load_buffer(data ? data : "", len, path, e);
out:
    free(data);
    fclose(fp);
    return p;
}

static void free_strings(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void free_entries(struct dest_entry *d, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(d[i].name);
        free(d[i].reason);
        free(d[i].summary);
        cidrset_free(d[i].cidrs);
        portset_free(d[i].ports);
        free_strings(d[i].fqdns, d[i].n_fqdns);
        for (size_t j = 0; j < d[i].n_peers; j++) {
            selector_free(d[i].peers[j].namespaces);
            selector_free(d[i].peers[j].pods);
        }
        free(d[i].peers);
    }
    free(d);
}

void policy_free(struct policy *p)
{
    if (!p)
        return;
    free(p->path);
    free(p->name);
    free_strings(p->ns_globs, p->n_ns_globs);
    for (size_t i = 0; i < p->n_ns_selectors; i++)
        selector_free(p->ns_selectors[i]);
    free(p->ns_selectors);
    for (size_t i = 0; i < p->n_pod_selectors; i++)
        selector_free(p->pod_selectors[i]);
    free(p->pod_selectors);
    free_strings(p->accelerators, p->n_accelerators);
    free_entries(p->allow, p->n_allow);
    free_entries(p->deny, p->n_deny);
    cidrset_free(p->deny_cidrs);
    allowidx_free(p->allowidx);
    exemptions_free(p->exemptions, p->n_exemptions);
    free_strings(p->users, p->n_users);
    free_strings(p->groups, p->n_groups);
    free_strings(p->service_accounts, p->n_service_accounts);
    free_strings(p->pods.capabilities, p->pods.n_capabilities);
    free_strings(p->pods.required_labels, p->pods.n_required_labels);
    free_strings(p->ns_required_labels, p->n_ns_required_labels);
    free(p->notes);
    free_strings(p->dns_suffixes, p->n_dns_suffixes);
    free(p->profile);
    free_strings(p->mut_label_keys, p->n_mut_labels);
    free_strings(p->mut_label_values, p->n_mut_labels);
    free_strings(p->mut_annotation_keys, p->n_mut_annotations);
    free_strings(p->mut_annotation_values, p->n_mut_annotations);
    free(p);
}

bool policy_ns_is_ai(const struct policy *p, const char *ns, const json_t *labels)
{
    for (size_t i = 0; ns && i < p->n_ns_globs; i++)
        if (fnmatch(p->ns_globs[i], ns, 0) == 0)
            return true;
    for (size_t i = 0; labels && i < p->n_ns_selectors; i++)
        if (selector_matches(p->ns_selectors[i], labels))
            return true;
    return false;
}

const struct exemption *policy_exemption(const struct policy *p, const char *kind, const char *ns,
                                         const char *name, int64_t now,
                                         const struct exemption **expired)
{
    if (expired)
        *expired = NULL;
    for (size_t i = 0; i < p->n_exemptions; i++) {
        const struct exemption *x = &p->exemptions[i];
        if (!exemption_covers(x, kind, ns, name))
            continue;
        if (exemption_state(x, p->exemption_warning_days, now) != EXEMPTION_EXPIRED)
            return x;
        if (expired && !*expired)
            *expired = x;
    }
    return NULL;
}

void policy_exemption_counts(const struct policy *p, int64_t now, size_t counts[3])
{
    counts[EXEMPTION_ACTIVE] = counts[EXEMPTION_EXPIRING] = counts[EXEMPTION_EXPIRED] = 0;
    for (size_t i = 0; i < p->n_exemptions; i++)
        counts[exemption_state(&p->exemptions[i], p->exemption_warning_days, now)]++;
}

int64_t policy_exemption_next_change(const struct policy *p, int64_t now)
{
    int64_t next = EXEMPTION_NEVER;

    for (size_t i = 0; i < p->n_exemptions; i++) {
        int64_t t = exemption_next_change(&p->exemptions[i], p->exemption_warning_days, now);
        if (t < next)
            next = t;
    }
    return next;
}
