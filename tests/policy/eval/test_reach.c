#include "policy/eval/reach.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/decide.h"
#include "policy/eval/judge.h"
#include "policy/eval/scope.h"
#include "policy/cni/netpol.h"
#include "tests/helpers/evalfix.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

static const char POLICY[] =
    "apiVersion: egressguard.io/v1alpha1\n"
    "kind: EgressPolicy\n"
    "metadata: {name: t}\n"
    "spec:\n"
    "  mode: enforce\n"
    "  aiWorkloads:\n"
    "    namespaces:\n"
    "      names: [\"ml-*\", notebooks]\n"
    "      selectors: [{matchLabels: {ai: \"true\"}}]\n"
    "    pods:\n"
    "      selectors: [{matchLabels: {ai-pod: \"true\"}}]\n"
    "  allow:\n"
    "    - name: dns\n"
    "      inCluster:\n"
    "        - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}\n"
    "          podSelector: {matchLabels: {k8s-app: kube-dns}}\n"
    "      ports: [{protocol: UDP, port: 53}]\n"
    "    - name: same\n"
    "      inCluster: [{sameNamespace: true}]\n"
    "    - name: registry\n"
    "      cidrs: [10.20.0.0/16]\n"
    "      ports: [{protocol: TCP, port: 443}]\n"
    "    - name: web\n"
    "      cidrs: [10.20.0.0/16, 10.21.0.0/16]\n"
    "      ports: [{protocol: TCP, port: 80}]\n"
    "    - name: s3\n"
    "      fqdns: [\"*.s3.amazonaws.com\"]\n"
    "      ports: [{protocol: TCP, port: 443}]\n"
    "  deny:\n"
    "    - name: metadata\n"
    "      cidrs: [169.254.169.254/32]\n";

/* Everything on every port: nothing can escape. */
static const char OPEN_POLICY[] =
    "apiVersion: egressguard.io/v1alpha1\n"
    "kind: EgressPolicy\n"
    "metadata: {name: open}\n"
    "spec:\n"
    "  aiWorkloads:\n"
    "    namespaces: {names: [\"*\"]}\n"
    "  allow:\n"
    "    - name: anywhere\n"
    "      cidrs: [0.0.0.0/0, \"::/0\"]\n";

static struct policy *load(const char *text)
{
    return evalfix_policy_text(text);
}

/* ---- building models ---- */

static struct egress_model *model(struct egress_list *l, const char *ns, bool ordered)
{
    struct egress_model *m = egress_list_add(l);

    assert_non_null(m);
    m->kind = strdup("Test");
    m->name = strdup(ns ? ns : "cluster");
    m->ns = ns ? strdup(ns) : NULL;
    m->governs_egress = true;
    m->default_deny = true;
    m->ordered = ordered;
    return m;
}

/* ports: "TCP/443 UDP/53-54 TCP" (a bare protocol = every port), "*" = everything */
static struct egress_rule *rule(struct egress_model *m, enum egress_action a, const char *path,
                                const char *ports)
{
    struct egress_rule *r = egress_model_add_rule(m, a, path, NULL);
    char buf[256], *tok, *save = NULL;

    assert_non_null(r);
    snprintf(buf, sizeof(buf), "%s", ports);
    for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        char *slash = strchr(tok, '/');
        unsigned lo, hi;
        int proto;
        struct err e;

        if (!strcmp(tok, "*")) {
            assert_int_equal(portset_add_proto(r->ports, PROTO_ANY), 0);
            continue;
        }
        if (slash)
            *slash = '\0';
        assert_int_equal(proto_parse(tok, &proto, &e), 0);
        if (!slash) {
            assert_int_equal(portset_add_proto(r->ports, proto), 0);
            continue;
        }
        if (sscanf(slash + 1, "%u-%u", &lo, &hi) != 2)
            hi = lo;
        assert_int_equal(portset_add_range(r->ports, proto, lo, hi), 0);
    }
    return r;
}

static void add_prefixes(struct cidrset *s, const char *list, bool remove)
{
    char buf[512], *tok, *save = NULL;

    snprintf(buf, sizeof(buf), "%s", list);
    for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        struct cidr c;
        struct err e;
        struct cidrset *one = cidrset_new();

        assert_int_equal(cidr_parse(tok, CIDR_STRICT, &c, NULL, &e), 0);
        assert_int_equal(cidrset_add(one, &c), 0);
        assert_int_equal(remove ? cidrset_subtract(s, one) : cidrset_union(s, one), 0);
        cidrset_free(one);
    }
}

static struct egress_peer *cidr_peer(struct egress_rule *r, const char *path, const char *in,
                                     const char *except)
{
    struct egress_peer *p = egress_rule_add_peer(r, PEER_CIDR, path, NULL);

    assert_non_null(p);
    add_prefixes(p->cidrs, in, false);
    if (except) {
        add_prefixes(p->cidrs, except, true);
        assert_int_equal(egress_peer_set_text(p, "%s except %s", in, except), 0);
    } else {
        assert_int_equal(egress_peer_set_text(p, "%s", in), 0);
    }
    return p;
}

static void fqdn_peer(struct egress_rule *r, const char *path, const char *list)
{
    struct egress_peer *p = egress_rule_add_peer(r, PEER_FQDN, path, NULL);
    char buf[256], *tok, *save = NULL;

    assert_non_null(p);
    snprintf(buf, sizeof(buf), "%s", list);
    for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
        assert_int_equal(egress_peer_add_fqdn(p, tok), 0);
}

static struct selector *sel(const char *text)
{
    struct err e;
    struct selector *s;

    if (!text)
        return NULL;
    s = selector_parse(text, &e);
    if (!s)
        fail_msg("selector %s: %s", text, e.msg);
    return s;
}

static void cluster_peer(struct egress_rule *r, const char *path, const char *ns_name,
                         const char *ns_sel, const char *pod_sel)
{
    struct egress_peer *p = egress_rule_add_peer(r, PEER_CLUSTER, path, NULL);

    assert_non_null(p);
    p->cluster.ns_name = ns_name ? strdup(ns_name) : NULL;
    p->cluster.ns_sel = sel(ns_sel);
    p->cluster.pod_sel = sel(pod_sel);
}

static void named_peer(struct egress_rule *r, enum peer_kind k, const char *path, const char *what)
{
    struct egress_peer *p = egress_rule_add_peer(r, k, path, NULL);

    assert_non_null(p);
    if (what)
        p->entity = strdup(what);
}

/* ---- looking at the results ---- */

/* "<peer> on <ports> [path]" per opening, one per line. */
static char *openings_text(const struct egress_list *l)
{
    const struct egress_model *ms[8];
    struct opening_list ops;
    struct buf b;
    struct err e;
    size_t i;

    assert_true(l->n <= 8);
    for (i = 0; i < l->n; i++)
        ms[i] = &l->models[i];
    opening_list_init(&ops);
    assert_int_equal(opening_list_build(ms, l->n, &ops, &e), 0);
    buf_init(&b, 0);
    for (i = 0; i < ops.n; i++) {
        egress_peer_format(&ops.items[i].peer, &b);
        buf_puts(&b, " on ");
        portset_format(ops.items[i].ports, &b);
        buf_printf(&b, " [%s]\n", ops.items[i].orig->path);
    }
    opening_list_release(&ops);
    return buf_detach(&b, NULL);
}

static void want_openings(const struct egress_list *l, const char *want)
{
    char *got = openings_text(l);

    assert_string_equal(got ? got : "", want);
    free(got);
}

/* "ESCAPE path: message" and "NOTE path: message" lines for the models' joint openings. */
static char *check_text(const struct policy *pol, const char *subject_ns,
                        const struct egress_list *l)
{
    const struct egress_model *ms[8];
    struct opening_list ops;
    struct reach_result res;
    struct buf b;
    struct err e;
    size_t i;

    for (i = 0; i < l->n; i++)
        ms[i] = &l->models[i];
    opening_list_init(&ops);
    reach_result_init(&res);
    assert_int_equal(opening_list_build(ms, l->n, &ops, &e), 0);
    assert_int_equal(reach_check(pol, subject_ns, &ops, &res, &e), 0);
    buf_init(&b, 0);
    for (i = 0; i < res.n_escapes; i++)
        buf_printf(&b, "ESCAPE %s: %s\n", res.escapes[i].peer->path, res.escapes[i].message);
    for (i = 0; i < res.n_notes; i++)
        buf_printf(&b, "NOTE %s: %s\n", res.notes[i].peer->path, res.notes[i].message);
    reach_result_release(&res);
    opening_list_release(&ops);
    return buf_detach(&b, NULL);
}

static void want_check(const struct policy *pol, const char *ns, const struct egress_list *l,
                         const char *want)
{
    char *got = check_text(pol, ns, l);

    assert_string_equal(got ? got : "", want);
    free(got);
}

/* ---- openings ---- */

static void test_opening_list_build_deny_splits_ports(void **state)
{
    struct egress_list l;
    struct egress_model *m;
    struct egress_rule *r;

    (void)state;
    egress_list_init(&l);
    m = model(&l, "ml-a", false);
    r = rule(m, EGRESS_ALLOW, "a", "TCP");
    cidr_peer(r, "a.to[0]", "10.0.0.0/8", NULL);
    r = rule(m, EGRESS_DENY, "d", "TCP/443");
    cidr_peer(r, "d.to[0]", "10.0.0.0/9", NULL);
    /* (A − D) × (Pa ∩ Pd) ∪ A × (Pa − Pd) */
    want_openings(&l, "cidr 10.128.0.0/9 on TCP/443 [a.to[0]]\n"
                        "cidr 10.0.0.0/8 on TCP/0-442, TCP/444-65535 [a.to[0]]\n");
    egress_list_release(&l);
}

static void test_opening_list_build_unordered_deny_from_any_model(void **state)
{
    struct egress_list l;
    struct egress_model *m;
    struct egress_rule *r;

    (void)state;
    egress_list_init(&l);
    m = model(&l, "ml-a", false);
    r = rule(m, EGRESS_ALLOW, "a", "*");
    cidr_peer(r, "a.to[0]", "10.0.0.0/8", NULL);
    /* a deny written AFTER, in another policy, still wins over the allow */
    m = model(&l, "ml-a", false);
    r = rule(m, EGRESS_DENY, "d", "*");
    cidr_peer(r, "d.to[0]", "10.0.0.0/9", NULL);
    r = rule(m, EGRESS_LOG, "log", "*");
    named_peer(r, PEER_ALL, "log.to[0]", NULL);
    want_openings(&l, "cidr 10.128.0.0/9 on any protocol/port [a.to[0]]\n");
    egress_list_release(&l);
}

static void test_opening_list_build_ordered_only_later_rules(void **state)
{
    struct egress_list l;
    struct egress_model *m;
    struct egress_rule *r;

    (void)state;
    egress_list_init(&l);
    /* listed first but ordered second */
    m = model(&l, "ml-a", true);
    m->has_order = true;
    m->order = 200;
    r = rule(m, EGRESS_ALLOW, "late", "TCP/443");
    cidr_peer(r, "late.to[0]", "10.0.0.0/8", NULL);

    m = model(&l, "ml-a", true);
    m->has_order = true;
    m->order = 100;
    r = rule(m, EGRESS_ALLOW, "first", "TCP/443");
    cidr_peer(r, "first.to[0]", "10.0.0.0/8", NULL);
    r = rule(m, EGRESS_PASS, "pass", "TCP/443");
    cidr_peer(r, "pass.to[0]", "10.0.0.0/9", NULL);
    r = rule(m, EGRESS_ALLOW, "after-pass", "TCP/443");
    cidr_peer(r, "after-pass.to[0]", "10.0.0.0/8", NULL);
    r = rule(m, EGRESS_DENY, "deny", "TCP/443");
    cidr_peer(r, "deny.to[0]", "10.128.0.0/10", NULL);
    r = rule(m, EGRESS_ALLOW, "after-deny", "TCP/443");
    cidr_peer(r, "after-deny.to[0]", "10.0.0.0/8", NULL);
    /*
     * `first` is before every deny; the pass hides 10.0/9 from its own later rules only; the
     * deny hides 10.128/10 from every later rule, also of the later policy (order 200).
     */
    want_openings(&l, "cidr 10.0.0.0/8 on TCP/443 [first.to[0]]\n"
                        "cidr 10.128.0.0/9 on TCP/443 [after-pass.to[0]]\n"
                        "cidr 10.192.0.0/10 on TCP/443 [after-deny.to[0]]\n"
                        "cidr 10.0.0.0/9, 10.192.0.0/10 on TCP/443 [late.to[0]]\n");
    egress_list_release(&l);
}

static void test_opening_list_build_names_and_cluster_subtraction(void **state)
{
    struct egress_list l;
    struct egress_model *m;
    struct egress_rule *r;

    (void)state;
    egress_list_init(&l);
    m = model(&l, "ml-a", false);
    r = rule(m, EGRESS_ALLOW, "a", "TCP/443");
    fqdn_peer(r, "a.fqdn", "api.example.com *.example.com www.other.org");
    cluster_peer(r, "a.pods", "ml-a", NULL, "app == 'db'");
    cluster_peer(r, "a.team", NULL, "team == 'x'", NULL);
    cidr_peer(r, "a.cidr", "10.0.0.0/8", NULL);
    r = rule(m, EGRESS_DENY, "d", "TCP");
    fqdn_peer(r, "d.fqdn", "*.example.com");
    cluster_peer(r, "d.pods", NULL, "kubernetes.io/metadata.name == 'ml-a'", NULL);
    /* `*` covers every name, but cannot be proven to cover addresses: the CIDR allow stays */
    fqdn_peer(r, "d.fqdn2", "*");
    want_openings(&l, "cluster namespaces=team == \"x\" pods=all() on TCP/443 [a.team]\n"
                        "cidr 10.0.0.0/8 on TCP/443 [a.cidr]\n");
    egress_list_release(&l);
}

static void test_opening_list_build_ungoverned_opens_nothing(void **state)
{
    struct egress_list l;
    struct egress_model *m;

    (void)state;
    egress_list_init(&l);
    m = model(&l, "ml-a", false);
    m->governs_egress = false;
    named_peer(rule(m, EGRESS_ALLOW, "a", "*"), PEER_ALL, "a", NULL);
    want_openings(&l, "");
    egress_list_release(&l);
}

/* ---- containment ---- */

static void test_reach_check_cidr_with_except(void **state)
{
    struct policy *pol = load(POLICY);
    struct egress_list l;
    struct egress_rule *r;

    (void)state;
    egress_list_init(&l);
    r = rule(model(&l, "ml-a", false), EGRESS_ALLOW, "spec.egress[0]", "TCP/443");
    cidr_peer(r, "spec.egress[0].to[0].ipBlock", "10.20.0.0/15", "10.20.128.0/17");
    cidr_peer(r, "spec.egress[0].to[1].ipBlock", "10.20.0.0/16", "10.20.128.0/17");
    want_check(pol, "ml-a", &l,
                 "ESCAPE spec.egress[0].to[0].ipBlock: 10.20.0.0/15 except 10.20.128.0/17 opens "
                 "10.21.0.0/16 on TCP/443; allowed here: registry (10.20.0.0/16 on TCP/443)\n");
    egress_list_release(&l);

    /* everything but 10/8: the message names the escaping ranges, capped */
    egress_list_init(&l);
    r = rule(model(&l, "ml-a", false), EGRESS_ALLOW, "spec.egress[0]", "TCP/443");
    cidr_peer(r, "spec.egress[0].to[0].ipBlock", "0.0.0.0/0", "10.0.0.0/8 128.0.0.0/1");
    want_check(pol, "ml-a", &l,
                 "ESCAPE spec.egress[0].to[0].ipBlock: 0.0.0.0/0 except 10.0.0.0/8 128.0.0.0/1 "
                 "opens 0.0.0.0/5, 8.0.0.0/7, 11.0.0.0/8, 12.0.0.0/6, 16.0.0.0/4, 32.0.0.0/3, "
                 "64.0.0.0/2 on TCP/443; allowed here: registry (10.20.0.0/16 on TCP/443)\n");
    egress_list_release(&l);
    policy_free(pol);
}

static void test_reach_check_port_atoms(void **state)
{
    struct policy *pol = load(POLICY);
    struct egress_list l;
    struct egress_rule *r;

    (void)state;
    egress_list_init(&l);
    r = rule(model(&l, "ml-a", false), EGRESS_ALLOW, "r", "TCP/80-443");
    /* TCP/80: web covers 10.20+10.21; TCP/443: registry covers 10.20; nothing between */
    cidr_peer(r, "r.a", "10.20.0.0/16", NULL);
    cidr_peer(r, "r.b", "10.21.0.0/16", NULL);
    cidr_peer(r, "r.c", "10.22.0.0/16", NULL);
    want_check(pol, "ml-a", &l,
                 "ESCAPE r.a: 10.20.0.0/16 opens 10.20.0.0/16 on TCP/81-442; allowed here: "
                 "registry (10.20.0.0/16 on TCP/443), web (10.20.0.0/15 on TCP/80)"
                 "\n"
                 "ESCAPE r.b: 10.21.0.0/16 opens 10.21.0.0/16 on TCP/81-443; allowed here: "
                 "registry (10.20.0.0/16 on TCP/443)\n"
                 "ESCAPE r.c: 10.22.0.0/16 opens 10.22.0.0/16 on TCP/80-443; allowed here: "
                 "registry (10.20.0.0/16 on TCP/443), web (10.20.0.0/15 on TCP/80)"
                 "\n");
    egress_list_release(&l);

    /* inside on exactly the allowed ports */
    egress_list_init(&l);
    r = rule(model(&l, "ml-a", false), EGRESS_ALLOW, "r", "TCP/80 TCP/443");
    cidr_peer(r, "r.a", "10.20.0.0/17", NULL);
    r = rule(model(&l, "ml-a", false), EGRESS_ALLOW, "s", "TCP/80");
    cidr_peer(r, "s.a", "10.21.0.0/16", NULL);
    want_check(pol, "ml-a", &l, "");
    egress_list_release(&l);
    policy_free(pol);
}

static void test_reach_check_fqdn(void **state)
{
    struct policy *pol = load(POLICY);
    struct egress_list l;
    struct egress_rule *r;

    (void)state;
    egress_list_init(&l);
    r = rule(model(&l, "ml-a", false), EGRESS_ALLOW, "r", "TCP/443");
    fqdn_peer(r, "r.in", "a.s3.amazonaws.com *.s3.amazonaws.com");
    fqdn_peer(r, "r.out", "b.s3.amazonaws.com *.amazonaws.com x.a.s3.amazonaws.com");
    r = rule(&l.models[0], EGRESS_ALLOW, "s", "TCP/80");
    fqdn_peer(r, "s.out", "a.s3.amazonaws.com");
    want_check(pol, "ml-a", &l,
                 "ESCAPE r.out: fqdn b.s3.amazonaws.com, *.amazonaws.com, x.a.s3.amazonaws.com "
                 "opens *.amazonaws.com, x.a.s3.amazonaws.com on TCP/443; allowed here: s3 "
                 "(*.s3.amazonaws.com on TCP/443)\n"
                 "ESCAPE s.out: fqdn a.s3.amazonaws.com opens a.s3.amazonaws.com on TCP/80; "
                 "allowed here: s3 (*.s3.amazonaws.com on TCP/443)\n");
    egress_list_release(&l);
    policy_free(pol);
}

static void test_reach_check_cluster_peers(void **state)
{
    struct policy *pol = load(POLICY);
    struct egress_list l;
    struct egress_rule *r;

    (void)state;
    egress_list_init(&l);
    r = rule(model(&l, "ml-a", false), EGRESS_ALLOW, "r", "UDP/53");
    cluster_peer(r, "r.dns", "kube-system", NULL, "k8s-app == 'kube-dns'");
    cluster_peer(r, "r.dns2", NULL, "kubernetes.io/metadata.name == 'kube-system'",
                 "k8s-app == 'kube-dns' && tier == 'x'");
    cluster_peer(r, "r.same", "ml-a", NULL, "app == 'db'");
    cluster_peer(r, "r.any-dns", NULL, NULL, "k8s-app == 'kube-dns'");
    cluster_peer(r, "r.other", "ml-b", NULL, NULL);
    want_check(pol, "ml-a", &l,
                 "ESCAPE r.any-dns: cluster namespaces=all() pods=k8s-app == \"kube-dns\" opens "
                 "pods k8s-app == \"kube-dns\" of every namespace on UDP/53; allowed here: dns "
                 "(pods k8s-app == \"kube-dns\" of namespaces kubernetes.io/metadata.name == "
                 "\"kube-system\" on UDP/53), same (every pod of the same namespace on any "
                 "protocol/port)\n"
                 "ESCAPE r.other: cluster ns=ml-b pods=all() opens every pod of namespace ml-b "
                 "on UDP/53; allowed here: dns (pods k8s-app == \"kube-dns\" of namespaces "
                 "kubernetes.io/metadata.name == \"kube-system\" on UDP/53), same (every pod of "
                 "the same namespace on any protocol/port)\n");
    egress_list_release(&l);

    /* a cluster-wide subject has no "same namespace" */
    egress_list_init(&l);
    r = rule(model(&l, NULL, false), EGRESS_ALLOW, "r", "TCP/5432");
    cluster_peer(r, "r.same", "ml-a", NULL, NULL);
    want_check(pol, NULL, &l,
                 "ESCAPE r.same: cluster ns=ml-a pods=all() opens every pod of namespace ml-a on "
                 "TCP/5432; allowed here: same (every pod of the same namespace on any "
                 "protocol/port)\n");
    egress_list_release(&l);
    policy_free(pol);
}

static void test_reach_check_everything_entities_unknown(void **state)
{
    struct policy *pol = load(POLICY), *open = load(OPEN_POLICY);
    struct egress_list l;
    struct egress_rule *r;

    (void)state;
    egress_list_init(&l);
    r = rule(model(&l, "ml-a", false), EGRESS_ALLOW, "r", "TCP/443");
    named_peer(r, PEER_ALL, "r.all", NULL);
    named_peer(r, PEER_ENTITY, "r.api", "kube-apiserver");
    named_peer(r, PEER_UNKNOWN, "r.svc", "toServices");
    /* every destination and "possibly anything" include spec.deny's ranges */
    want_check(pol, "ml-a", &l,
                 "ESCAPE r.all: all opens 169.254.169.254/32 on TCP/443, which the policy file "
                 "always denies (spec.deny: metadata): no network policy may open it\n"
                 "ESCAPE r.all: all opens every destination (0.0.0.0/0, ::/0) on TCP/443; "
                 "allowed here: same (every pod of the same namespace on any protocol/port), "
                 "registry (10.20.0.0/16 on TCP/443), s3 (*.s3.amazonaws.com on "
                 "TCP/443)\n"
                 "ESCAPE r.api: entity kube-apiserver opens entity kube-apiserver on TCP/443; "
                 "allowed here: same (every pod of the same namespace on any protocol/port)\n"
                 "ESCAPE r.svc: unknown toServices opens 169.254.169.254/32 on TCP/443, which the "
                 "policy file always denies (spec.deny: metadata): no network policy may open "
                 "it\n"
                 "ESCAPE r.svc: unknown toServices opens toServices (possibly anything) on "
                 "TCP/443; allowed here: same (every pod of the "
                 "same namespace on any protocol/port), registry (10.20.0.0/16 "
                 "on TCP/443), s3 (*.s3.amazonaws.com on TCP/443)\n");
    /* when every address is allowed, nothing escapes */
    want_check(open, "ml-a", &l, "");
    egress_list_release(&l);
    policy_free(pol);
    policy_free(open);
}

static void test_reach_check_always_denied(void **state)
{
    struct policy *pol = load(POLICY);
    struct egress_list l;
    struct egress_rule *r;

    (void)state;
    egress_list_init(&l);
    r = rule(model(&l, "ml-a", false), EGRESS_ALLOW, "r", "TCP/80");
    cidr_peer(r, "r.meta", "169.254.169.254/32", NULL);
    cidr_peer(r, "r.near", "169.254.169.252/30", NULL);
    /*
     * spec.deny is never opened: an opening that meets it is a violation naming exactly the
     * ranges it opens of it (before, they were taken out silently, which holds only if some
     * other layer blocks them: Kubernetes NetworkPolicies add up, one object cannot show that).
     */
    want_check(pol, "ml-a", &l,
                 "ESCAPE r.meta: 169.254.169.254/32 opens 169.254.169.254/32 on TCP/80, which the "
                 "policy file always denies (spec.deny: metadata): no network policy may open "
                 "it\n"
                 "ESCAPE r.near: 169.254.169.252/30 opens 169.254.169.254/32 on TCP/80, which the "
                 "policy file always denies (spec.deny: metadata): no network policy may open "
                 "it\n"
                 "ESCAPE r.near: 169.254.169.252/30 opens 169.254.169.252/31, 169.254.169.255/32 "
                 "on TCP/80; allowed here: web (10.20.0.0/15 on TCP/80)\n");
    egress_list_release(&l);
    policy_free(pol);
}

/* ---- the decider end to end ---- */

static void decide_ctx(const struct policy *pol, const char *yaml, const struct request_ctx *ctx,
                       struct verdict *v)
{
    struct manifest *mf = manifest_new();
    struct err e = {0};

    assert_int_equal(manifest_read_buffer(mf, yaml, strlen(yaml), "np.yaml"), 0);
    assert_int_equal(manifest_n_objects(mf), 1);
    verdict_init(v);
    if (decide_object(pol, manifest_object(mf, 0), ctx, v, &e) != 0)
        fail_msg("%s", e.msg);
    manifest_free(mf);
}

static void decide(const struct policy *pol, const char *yaml, struct verdict *v)
{
    decide_ctx(pol, yaml, NULL, v);
}

static void test_reach_decide_findings(void **state)
{
    struct policy *pol = load(POLICY);
    struct nsdb *db = nsdb_new();
    struct request_ctx ctx = {.namespaces = db};
    struct verdict v;

    (void)state;
    decide(pol,
           "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
           "metadata: {name: np, namespace: ml-a}\n"
           "spec:\n"
           "  podSelector: {}\n"
           "  egress:\n"
           "  - to:\n"
           "    - ipBlock: {cidr: 0.0.0.0/0, except: [10.0.0.0/8]}\n"
           "    ports: [{port: 443}]\n"
           "  - to: [{ipBlock: {cidr: 10.20.0.0/16}}]\n"
           "    ports: [{port: 443}, {port: http}]\n",
           &v);
    assert_false(v.allowed);
    assert_int_equal(v.n_findings, 4);
    assert_false(v.findings[0].violation);
    assert_string_equal(v.findings[0].path, "spec.egress[1].ports[1].port");
    /* the metadata address is inside 0.0.0.0/0 except 10.0.0.0/8: spec.deny, reported apart */
    assert_true(v.findings[1].violation);
    assert_string_equal(v.findings[1].path, "spec.egress[0].to[0].ipBlock");
    assert_int_equal(v.findings[1].line, 8);
    assert_string_equal(v.findings[1].message,
                        "0.0.0.0/0 except 10.0.0.0/8 opens 169.254.169.254/32 on TCP/443, which "
                        "the policy file always denies (spec.deny: metadata): no network policy "
                        "may open it (AI workloads: namespace ml-a is an AI namespace)");
    assert_true(v.findings[2].violation);
    assert_string_equal(v.findings[2].rule, "egress");
    assert_int_equal(v.findings[2].mode, MODE_ENFORCE);
    assert_string_equal(v.findings[2].path, "spec.egress[0].to[0].ipBlock");
    assert_int_equal(v.findings[2].line, 8);
    assert_string_equal(v.findings[2].message,
                        "0.0.0.0/0 except 10.0.0.0/8 opens 0.0.0.0/5, 8.0.0.0/7, 11.0.0.0/8, "
                        "12.0.0.0/6, 16.0.0.0/4, 32.0.0.0/3, 64.0.0.0/2, 128.0.0.0/3, ... (30 "
                        "more) on TCP/443; allowed here: registry (10.20.0.0/16 on TCP/443) (AI workloads: "
                        "namespace ml-a is an AI namespace)");
    /* the named port is every TCP port, and 10.20/16 is allowed only on 80 and 443 */
    assert_string_equal(v.findings[3].path, "spec.egress[1].to[0].ipBlock");
    assert_string_equal(v.findings[3].message,
                        "10.20.0.0/16 opens 10.20.0.0/16 on TCP/0-79, TCP/81-442, TCP/444-65535; "
                        "allowed here: registry (10.20.0.0/16 on TCP/443), web (10.20.0.0/15 on "
                        "TCP/80) (AI workloads: namespace ml-a is an AI namespace)");
    verdict_release(&v);

    /* not governing AI workloads (web's labels are known, no AI label): a note that says why */
    assert_non_null(db);
    assert_int_equal(nsdb_set(db, "web", NULL), 0);
    decide_ctx(pol,
               "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
               "metadata: {name: np, namespace: web}\n"
               "spec:\n"
               "  podSelector: {}\n"
               "  egress: [{}]\n",
               &ctx, &v);
    assert_true(v.allowed);
    assert_int_equal(v.n_findings, 1);
    assert_false(v.findings[0].violation);
    assert_string_equal(v.findings[0].message,
                        "not evaluated: it governs no AI workload: namespace web is not an AI "
                        "namespace (by name and labels); rule pods.aiWorkloadsOutsideAI keeps AI "
                        "workloads out of it");
    verdict_release(&v);
    nsdb_free(db);

    /* no Egress policy type: opens and restricts nothing */
    decide(pol,
           "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
           "metadata: {name: np, namespace: ml-a}\n"
           "spec: {podSelector: {}, policyTypes: [Ingress]}\n",
           &v);
    assert_true(v.allowed);
    assert_int_equal(v.n_findings, 1);
    assert_string_equal(v.findings[0].message,
                        "not evaluated: the policy does not govern egress, so it opens and "
                        "restricts nothing");
    verdict_release(&v);

    /* default deny passes without a finding */
    decide(pol,
           "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
           "metadata: {name: np, namespace: ml-a}\n"
           "spec: {podSelector: {}, policyTypes: [Egress]}\n",
           &v);
    assert_true(v.allowed);
    assert_int_equal(v.n_findings, 0);
    verdict_release(&v);
    policy_free(pol);
}

/*
 * Texts have caps (reach.c, verdict.h): an escape through thousands of names is cut with "...",
 * and it stays one escape, on its ports, and a violation that denies.
 */
static void test_reach_long_texts_cut_not_lost(void **state)
{
    struct policy *pol = load(POLICY);
    struct egress_list l;
    struct egress_rule *r;
    struct egress_peer *p;
    struct opening_list ops;
    struct reach_result res;
    const struct egress_model *m;
    struct buf yaml;
    struct verdict v;
    struct err e;
    char name[64];

    (void)state;
    egress_list_init(&l);
    r = rule(model(&l, "ml-a", false), EGRESS_ALLOW, "r", "TCP/443");
    assert_non_null(p = egress_rule_add_peer(r, PEER_FQDN, "r.out", NULL));
    for (int i = 0; i < 3000; i++) {
        snprintf(name, sizeof(name), "host%04d.example.org", i);
        assert_int_equal(egress_peer_add_fqdn(p, name), 0);
    }
    m = &l.models[0];
    opening_list_init(&ops);
    reach_result_init(&res);
    assert_int_equal(opening_list_build(&m, 1, &ops, &e), 0);
    assert_int_equal(reach_check(pol, "ml-a", &ops, &res, &e), 0);
    assert_int_equal(res.n_escapes, 1);
    assert_true(res.escapes[0].cut);
    assert_non_null(strstr(res.escapes[0].what, "host0000.example.org, host0001.example.org"));
    assert_non_null(strstr(res.escapes[0].what, "... on TCP/443"));
    assert_null(strstr(res.escapes[0].what, "host2999"));
    /* the peer's text is cut too, and the sentence still says what escapes and what is near */
    assert_true(strlen(res.escapes[0].message) < 24 * 1024);
    assert_non_null(strstr(res.escapes[0].message, "... opens host0000.example.org"));
    assert_non_null(strstr(res.escapes[0].message, "; allowed here: s3 (*.s3.amazonaws.com"));
    reach_result_release(&res);
    opening_list_release(&ops);
    egress_list_release(&l);

    /* the same through the decider: denied, the finding's message within its cap */
    buf_init(&yaml, 0);
    buf_puts(&yaml, "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\n"
                    "metadata: {name: names, namespace: ml-a}\n"
                    "spec:\n  types: [Egress]\n  egress:\n  - action: Allow\n"
                    "    protocol: TCP\n    destination:\n      ports: [443]\n      domains:\n");
    for (int i = 0; i < 3000; i++)
        buf_printf(&yaml, "      - host%04d.example.org\n", i);
    assert_false(yaml.failed);
    decide(pol, buf_str(&yaml), &v);
    assert_false(v.allowed);
    assert_int_equal(v.n_findings, 1);
    assert_true(v.findings[0].violation);
    assert_true(strlen(v.findings[0].message) <= VERDICT_MESSAGE_CAP);
    assert_non_null(strstr(v.findings[0].message, "... on TCP/443; allowed here: "));
    verdict_release(&v);
    buf_release(&yaml);
    policy_free(pol);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_opening_list_build_deny_splits_ports),
        cmocka_unit_test(test_opening_list_build_unordered_deny_from_any_model),
        cmocka_unit_test(test_opening_list_build_ordered_only_later_rules),
        cmocka_unit_test(test_opening_list_build_names_and_cluster_subtraction),
        cmocka_unit_test(test_opening_list_build_ungoverned_opens_nothing),
        cmocka_unit_test(test_reach_check_cidr_with_except),
        cmocka_unit_test(test_reach_check_port_atoms),
        cmocka_unit_test(test_reach_check_fqdn),
        cmocka_unit_test(test_reach_check_cluster_peers),
        cmocka_unit_test(test_reach_check_everything_entities_unknown),
        cmocka_unit_test(test_reach_check_always_denied),
        cmocka_unit_test(test_reach_decide_findings),
        cmocka_unit_test(test_reach_long_texts_cut_not_lost),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
