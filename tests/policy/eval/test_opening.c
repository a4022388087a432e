/*
 * Openings (policy/eval/opening.c): what models open together, read from real objects through the
 * CNI readers and printed as "peer on ports" lines, one per opening, in the list's order.
 */
#include "policy/eval/opening.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/base/buf.h"
#include "policy/cni/readers.h"
#include "policy/doc/manifest.h"
#include "policy/selector/selector.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

/* Reads every object of `yaml` into one list of models (each object by its CNI's reader). */
static void read_models(const char *yaml, struct manifest **mp, struct egress_list *models)
{
    struct manifest *m = manifest_new();
    struct err e = {0};

    assert_non_null(m);
    assert_int_equal(manifest_read_buffer(m, yaml, strlen(yaml), "t.yaml"), 0);
    if (manifest_n_errors(m))
        fail_msg("manifest: %s", manifest_error(m, 0)->msg);
    egress_list_init(models);
    for (size_t i = 0; i < manifest_n_objects(m); i++) {
        const struct object *o = manifest_object(m, i);
        judge_reader *read = readers_find(o);
        int rc = read ? read(o, models, &e) : 0;

        if (rc < 0)
            fail_msg("read %s: %s", o->kind, e.msg);
    }
    *mp = m;
}

/* The openings of every model of yaml, one "peer on ports" per line. Caller frees. */
static char *openings(const char *yaml)
{
    struct manifest *m;
    struct egress_list models;
    struct opening_list ops;
    const struct egress_model **ptrs;
    struct err e = {0};
    struct buf b;

    read_models(yaml, &m, &models);
    ptrs = calloc(models.n + 1, sizeof(*ptrs));
    assert_non_null(ptrs);
    for (size_t i = 0; i < models.n; i++)
        ptrs[i] = &models.models[i];
    opening_list_init(&ops);
    assert_int_equal(opening_list_build(ptrs, models.n, &ops, &e), 0);
    buf_init(&b, 1 << 20);
    for (size_t i = 0; i < ops.n; i++) {
        egress_peer_format(&ops.items[i].peer, &b);
        buf_puts(&b, " on ");
        portset_format(ops.items[i].ports, &b);
        buf_puts(&b, "\n");
    }
    opening_list_release(&ops);
    free(ptrs);
    egress_list_release(&models);
    manifest_free(m);
    {
        char *s = buf_detach(&b, NULL);
        return s ? s : strdup("");
    }
}

static void expect_openings(const char *yaml, const char *want)
{
    char *got = openings(yaml);

    if (strcmp(got, want))
        fail_msg("openings:\n%s\nwant:\n%s", got, want);
    free(got);
}

/*
 * Kubernetes NetworkPolicy: allows add up; `except` is part of the peer, nothing is denied.
 * "Network policies do not conflict; they are additive": the pod may reach "the union of what
 * all applicable policies allow" (kubernetes.io/docs/concepts/services-networking/network-policies).
 */
static void test_opening_netpol_union(void **state)
{
    (void)state;
    expect_openings("apiVersion: networking.k8s.io/v1\n"
                    "kind: NetworkPolicy\n"
                    "metadata: {name: a, namespace: ml}\n"
                    "spec:\n"
                    "  podSelector: {}\n"
                    "  policyTypes: [Egress]\n"
                    "  egress:\n"
                    "    - to: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}}]\n"
                    "      ports: [{port: 443}]\n"
                    "    - to: [{ipBlock: {cidr: 192.168.0.0/24}}]\n",
                    "cidr 10.0.0.0/16, 10.2.0.0/15, 10.4.0.0/14, 10.8.0.0/13, 10.16.0.0/12, "
                    "10.32.0.0/11, 10.64.0.0/10, 10.128.0.0/9 on TCP/443\n"
                    "cidr 192.168.0.0/24 on any protocol/port\n");
}

/*
 * The same across policies: a second policy's allow adds to the first one's, and a policy with no
 * egress rule (its default deny) takes nothing from the other's.
 */
static void test_opening_netpol_policies_add_up(void **state)
{
    (void)state;
    expect_openings("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                    "metadata: {name: a, namespace: ml}\n"
                    "spec:\n  podSelector: {}\n  policyTypes: [Egress]\n"
                    "  egress: [{to: [{ipBlock: {cidr: 10.0.0.0/16}}], ports: [{port: 443}]}]\n"
                    "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                    "metadata: {name: b, namespace: ml}\n"
                    "spec:\n  podSelector: {}\n  policyTypes: [Egress]\n"
                    "  egress: [{to: [{ipBlock: {cidr: 10.0.0.0/16}}], ports: [{port: 80}]}]\n"
                    "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                    "metadata: {name: deny-all, namespace: ml}\n"
                    "spec: {podSelector: {}, policyTypes: [Egress]}\n",
                    "cidr 10.0.0.0/16 on TCP/443\n"
                    "cidr 10.0.0.0/16 on TCP/80\n");
}

/* A model without egress in its policy types opens nothing. */
static void test_opening_ingress_only_opens_nothing(void **state)
{
    (void)state;
    expect_openings("apiVersion: networking.k8s.io/v1\n"
                    "kind: NetworkPolicy\n"
                    "metadata: {name: a, namespace: ml}\n"
                    "spec: {podSelector: {}, policyTypes: [Ingress], ingress: [{}]}\n",
                    "");
}

/*
 * Cilium: a deny wins over every allow, in any policy that selects the endpoint
 * (docs.cilium.io, Policy Language, "Deny Policies"), and subtraction splits by ports:
 * (A, Pa) − (D, Pd) = (A − D) × (Pa ∩ Pd) ∪ A × (Pa − Pd).
 */
static void test_opening_cilium_deny_wins_split_by_ports(void **state)
{
    (void)state;
    expect_openings("apiVersion: cilium.io/v2\n"
                    "kind: CiliumNetworkPolicy\n"
                    "metadata: {name: allow, namespace: ml}\n"
                    "spec:\n"
                    "  endpointSelector: {}\n"
                    "  egress:\n"
                    "    - toCIDR: [10.0.0.0/24]\n"
                    "      toPorts: [{ports: [{port: \"80\", protocol: TCP}, {port: \"443\", protocol: TCP}]}]\n"
                    "---\n"
                    "apiVersion: cilium.io/v2\n"
                    "kind: CiliumNetworkPolicy\n"
                    "metadata: {name: deny, namespace: ml}\n"
                    "spec:\n"
                    "  endpointSelector: {}\n"
                    "  egressDeny:\n"
                    "    - toCIDR: [10.0.0.0/25]\n"
                    "      toPorts: [{ports: [{port: \"80\", protocol: TCP}]}]\n",
                    "cidr 10.0.0.128/25 on TCP/80\n"
                    "cidr 10.0.0.0/24 on TCP/443\n");
}

/*
 * Calico: policies in `order`, rules first match wins, so a Deny in an earlier policy takes its
 * destinations from a later Allow (docs.tigera.io, "Policy ordering").
 */
static void test_opening_calico_earlier_deny_takes_from_later_allow(void **state)
{
    (void)state;
    expect_openings("apiVersion: projectcalico.org/v3\n"
                    "kind: NetworkPolicy\n"
                    "metadata: {name: allow, namespace: ml}\n"
                    "spec:\n"
                    "  order: 200\n"
                    "  selector: all()\n"
                    "  types: [Egress]\n"
                    "  egress:\n"
                    "    - action: Allow\n"
                    "      protocol: TCP\n"
                    "      destination: {nets: [10.0.0.0/16]}\n"
                    "---\n"
                    "apiVersion: projectcalico.org/v3\n"
                    "kind: NetworkPolicy\n"
                    "metadata: {name: deny, namespace: ml}\n"
                    "spec:\n"
                    "  order: 100\n"
                    "  selector: all()\n"
                    "  types: [Egress]\n"
                    "  egress:\n"
                    "    - action: Deny\n"
                    "      destination: {nets: [10.0.128.0/17]}\n",
                    "cidr 10.0.0.0/17 on TCP/*\n");
}

/* The same two policies with the orders swapped: the Allow comes first and keeps everything. */
static void test_opening_calico_later_deny_takes_nothing(void **state)
{
    (void)state;
    expect_openings("apiVersion: projectcalico.org/v3\n"
                    "kind: NetworkPolicy\n"
                    "metadata: {name: allow, namespace: ml}\n"
                    "spec:\n"
                    "  order: 100\n"
                    "  selector: all()\n"
                    "  types: [Egress]\n"
                    "  egress:\n"
                    "    - action: Allow\n"
                    "      protocol: TCP\n"
                    "      destination: {nets: [10.0.0.0/16]}\n"
                    "---\n"
                    "apiVersion: projectcalico.org/v3\n"
                    "kind: NetworkPolicy\n"
                    "metadata: {name: deny, namespace: ml}\n"
                    "spec:\n"
                    "  order: 200\n"
                    "  selector: all()\n"
                    "  types: [Egress]\n"
                    "  egress:\n"
                    "    - action: Deny\n"
                    "      destination: {nets: [10.0.128.0/17]}\n",
                    "cidr 10.0.0.0/16 on TCP/*\n");
}

/* An Allow at order 200 and a Deny of half of it at order 100; `tier` is a spec line or "". */
#define TIERED_ALLOW(tier)                                                                        \
    "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\n"                                   \
    "metadata: {name: allow, namespace: ml}\nspec:\n" tier "  order: 200\n  selector: all()\n"  \
    "  types: [Egress]\n  egress:\n"                                                            \
    "    - action: Allow\n      protocol: TCP\n      destination: {nets: [10.0.0.0/16]}\n"
#define TIERED_DENY(tier)                                                                         \
    "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\n"                                   \
    "metadata: {name: deny, namespace: ml}\nspec:\n" tier "  order: 100\n  selector: all()\n"   \
    "  types: [Egress]\n  egress:\n"                                                            \
    "    - action: Deny\n      destination: {nets: [10.0.128.0/17]}\n"

/*
 * Tiers: "order: Indicates priority of this Tier, with lower order taking precedence"
 * (docs.tigera.io/calico/latest/reference/resources/tier), and the Tier objects are not known:
 * a Deny in another tier may come after the Allow, whatever the policies' orders, so it takes
 * nothing; within one tier the policies' orders decide.
 */
static void test_opening_calico_deny_of_another_tier_takes_nothing(void **state)
{
    (void)state;
    expect_openings(TIERED_ALLOW("") "---\n" TIERED_DENY("  tier: security\n"),
                    "cidr 10.0.0.0/16 on TCP/*\n");
    expect_openings(TIERED_ALLOW("  tier: platform\n") "---\n" TIERED_DENY("  tier: security\n"),
                    "cidr 10.0.0.0/16 on TCP/*\n");
    expect_openings(TIERED_ALLOW("  tier: security\n") "---\n" TIERED_DENY("  tier: security\n"),
                    "cidr 10.0.0.0/17 on TCP/*\n");
    expect_openings(TIERED_ALLOW("  tier: default\n") "---\n" TIERED_DENY(""),
                    "cidr 10.0.0.0/17 on TCP/*\n");
}

#define CALICO_ML(order, rules)                                                                   \
    "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: p" order             \
    ", namespace: ml}\nspec:\n  order: " order "\n  selector: all()\n  types: [Egress]\n"      \
    "  egress:\n" rules

/*
 * Calico matches nets on the packet's address, whatever holds it: a Deny of every address leaves
 * nothing, pods and names included; of IPv4 only, "every destination" is what IPv6 remains.
 */
static void test_opening_calico_deny_of_every_address(void **state)
{
    (void)state;
    expect_openings(CALICO_ML("1", "    - action: Deny\n      destination: {nets: [0.0.0.0/0, '::/0']}\n"
                                   "    - action: Allow\n"
                                   "    - action: Allow\n      destination: {selector: app == 'x'}\n"
                                   "    - action: Allow\n      destination: {domains: [a.example]}\n"),
                    "");
    expect_openings(CALICO_ML("1", "    - action: Deny\n      destination: {nets: [0.0.0.0/0]}\n"
                                   "    - action: Allow\n      protocol: TCP\n"
                                   "    - action: Allow\n      destination: {selector: app == 'x'}\n"),
                    "cidr ::/0 on TCP/*\n"
                    "cluster ns=ml pods=app == \"x\" on any protocol/port\n"
                    "unknown NetworkSets of namespace ml matching app == \"x\" on any "
                    "protocol/port\n");
}

/* Cilium CIDRs do not select endpoints Cilium manages: a world deny leaves pods open. */
static void test_opening_cilium_world_deny_keeps_pods(void **state)
{
    (void)state;
    expect_openings("apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\n"
                    "metadata: {name: c, namespace: ml}\n"
                    "spec:\n  endpointSelector: {}\n"
                    "  egress:\n  - toEndpoints: [{}]\n"
                    "  egressDeny:\n  - toCIDR: [0.0.0.0/0, '::/0']\n",
                    "cluster ns=ml pods=all() on any protocol/port\n");
}

/*
 * Calico Pass: "the next Tier containing a Policy that applies to the endpoint" decides
 * (docs.tigera.io/calico/latest/reference/resources/tier) and, none being known, the profile
 * allows all, so it opens what it matches; later rules and policies of its tier have no say.
 */
static void test_opening_calico_pass_opens(void **state)
{
    (void)state;
    expect_openings(CALICO_ML("1", "    - action: Pass\n      protocol: UDP\n"
                                   "    - action: Deny\n")
                    "---\n" CALICO_ML("2", "    - action: Allow\n      protocol: TCP\n"),
                    "all on UDP/*\n");
}

/*
 * AdminNetworkPolicies come before every other policy and the baseline after them all
 * (network-policy-api): the admin Deny takes from a Calico Allow of lower order, and a Calico
 * Deny takes from the baseline's Allow.
 */
static void test_opening_admin_and_baseline_layers(void **state)
{
    (void)state;
    expect_openings(CALICO_ML("1", "    - action: Allow\n      destination: {nets: [10.0.0.0/8]}\n"
                                   "    - action: Deny\n")
                    "---\napiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\n"
                    "metadata: {name: a}\nspec:\n  priority: 50\n  subject: {namespaces: {}}\n"
                    "  egress:\n  - action: Deny\n    to: [{networks: [10.1.0.0/16]}]\n"
                    "---\napiVersion: policy.networking.k8s.io/v1alpha1\n"
                    "kind: BaselineAdminNetworkPolicy\nmetadata: {name: default}\n"
                    "spec:\n  subject: {namespaces: {}}\n"
                    "  egress:\n  - action: Allow\n    to: [{networks: [0.0.0.0/0]}]\n",
                    "cidr 10.0.0.0/16, 10.2.0.0/15, 10.4.0.0/14, 10.8.0.0/13, 10.16.0.0/12, "
                    "10.32.0.0/11, 10.64.0.0/10, 10.128.0.0/9 on any protocol/port\n");
}

#define ANP(name, prio, rules)                                                                    \
    "---\napiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\n"               \
    "metadata: {name: " name "}\nspec:\n  priority: " prio "\n  subject: {namespaces: {}}\n"      \
    "  egress:\n" rules

/*
 * AdminNetworkPolicies in priority order: "the lowest priority, "0" corresponds to the highest
 * importance, while higher priorities have lower importance" (network-policy-api
 * apis/v1alpha1/adminnetworkpolicy_types.go, AdminNetworkPolicySpec.Priority), whatever their
 * order in the input: an Allow at 10 keeps what a Deny at 20 denies, and not the other way round.
 */
static void test_opening_admin_priority(void **state)
{
    (void)state;
    expect_openings(ANP("deny", "20", "  - {action: Deny, to: [{networks: [10.0.0.0/8]}]}\n")
                    ANP("allow", "10", "  - {action: Allow, to: [{networks: [10.1.0.0/16]}]}\n"),
                    "cidr 10.1.0.0/16 on any protocol/port\n");
    expect_openings(ANP("deny", "20", "  - {action: Deny, to: [{networks: [10.0.0.0/8]}]}\n")
                    ANP("allow", "30", "  - {action: Allow, to: [{networks: [10.1.0.0/16]}]}\n"),
                    "");
}

/*
 * An admin Pass: "instructs the selected traffic to skip any remaining ANP rules, and then pass
 * execution to any NetworkPolicies that select the pod" (adminnetworkpolicy_types.go,
 * AdminNetworkPolicyEgressRule.Action). A later ANP's Deny that the Pass may match takes nothing
 * from the namespace's Calico Allow (the passed traffic never meets it); one on other ports does.
 */
static void test_opening_admin_pass_skips_later_admin_denies(void **state)
{
    (void)state;
    expect_openings(CALICO_ML("1", "    - action: Allow\n      protocol: TCP\n"
                                   "      destination: {nets: [0.0.0.0/0], ports: [443]}\n")
                    ANP("pass", "10", "  - {action: Pass, to: [{networks: [0.0.0.0/0]}]}\n")
                    ANP("guard", "20", "  - {action: Deny, to: [{networks: [0.0.0.0/0]}]}\n"),
                    "cidr 0.0.0.0/0 on TCP/443\n");
    expect_openings(CALICO_ML("1", "    - action: Allow\n      protocol: UDP\n"
                                   "      destination: {nets: [10.0.0.0/8]}\n")
                    ANP("pass", "10", "  - action: Pass\n    to: [{networks: [0.0.0.0/0]}]\n"
                                      "    ports: [{portNumber: {protocol: TCP, port: 443}}]\n")
                    ANP("guard", "20", "  - action: Deny\n    to: [{networks: [0.0.0.0/0]}]\n"
                                       "    ports: [{portNumber: {protocol: UDP, port: 53}}]\n"),
                    "cidr 10.0.0.0/8 on UDP/0-52, UDP/54-65535\n");
    /* without the Pass, the Deny takes it all */
    expect_openings(CALICO_ML("1", "    - action: Allow\n      protocol: TCP\n"
                                   "      destination: {nets: [0.0.0.0/0], ports: [443]}\n")
                    ANP("guard", "20", "  - {action: Deny, to: [{networks: [0.0.0.0/0]}]}\n"),
                    "");
}

/*
 * An admin Allow is final: matching traffic "will be allowed regardless of NetworkPolicy and
 * BaselineAdminNetworkPolicy rules" (adminnetworkpolicy_types.go,
 * AdminNetworkPolicyRuleActionAllow): a Calico Deny of everything at any order takes nothing from
 * it, and a later ANP's Deny takes nothing either.
 */
static void test_opening_admin_allow_is_final(void **state)
{
    (void)state;
    expect_openings(CALICO_ML("1", "    - action: Deny\n")
                    ANP("allow", "10", "  - {action: Allow, to: [{networks: [10.0.0.0/8]}]}\n")
                    ANP("guard", "20", "  - {action: Deny, to: [{networks: [0.0.0.0/0]}]}\n"),
                    "cidr 10.0.0.0/8 on any protocol/port\n");
}

/*
 * The baseline comes after the NetworkPolicies: "Policy tiers are evaluated in the following
 * order: Admin tier, NetworkPolicy tier, Baseline tier", the baseline's rules being ones that "CAN
 * be overridden by developer NetworkPolicies" (network-policy-api site-src/api-overview.md), so a
 * Kubernetes NetworkPolicy's allow stands against a baseline Deny of everything.
 */
static void test_opening_baseline_after_netpol(void **state)
{
    (void)state;
    expect_openings("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                    "metadata: {name: a, namespace: ml}\n"
                    "spec:\n  podSelector: {}\n  policyTypes: [Egress]\n"
                    "  egress: [{to: [{ipBlock: {cidr: 10.0.0.0/16}}], ports: [{port: 443}]}]\n"
                    "---\napiVersion: policy.networking.k8s.io/v1alpha1\n"
                    "kind: BaselineAdminNetworkPolicy\nmetadata: {name: default}\n"
                    "spec:\n  subject: {namespaces: {}}\n"
                    "  egress:\n  - action: Deny\n    to: [{networks: [0.0.0.0/0]}]\n",
                    "cidr 10.0.0.0/16 on TCP/443\n");
}

static void test_opening_cluster_subset_and_ns_selects(void **state)
{
    struct err e = {0};
    struct selector *ml = selector_parse("team == 'ml'", &e);
    struct selector *ml_gpu = selector_parse("team == 'ml' && gpu == 'yes'", &e);
    struct selector *byname =
        selector_parse("kubernetes.io/metadata.name == 'ml-a'", &e);
    char ml_a[] = "ml-a";
    struct cluster_peer fixed = {.ns_name = ml_a};
    struct cluster_peer any_ml = {.ns_sel = ml};
    struct cluster_peer gpu_ml = {.ns_sel = ml_gpu};
    struct cluster_peer named = {.ns_sel = byname};
    struct cluster_peer all = {0};
    json_t *labels = json_pack("{s:s, s:s}", "team", "ml", "kubernetes.io/metadata.name", "ml-a");

    (void)state;
    assert_non_null(ml);
    assert_non_null(ml_gpu);
    assert_non_null(byname);
    assert_true(opening_cluster_subset(&gpu_ml, &any_ml));
    assert_false(opening_cluster_subset(&any_ml, &gpu_ml));
    assert_true(opening_cluster_subset(&any_ml, &all));
    assert_false(opening_cluster_subset(&all, &any_ml));
    /* A fixed namespace is inside a selector that pins its name. */
    assert_true(opening_cluster_subset(&fixed, &named));
    /* Knowing only a name proves nothing about other labels. */
    assert_false(opening_cluster_subset(&fixed, &any_ml));

    assert_true(opening_ns_selects(byname, "ml-a", NULL));
    assert_false(opening_ns_selects(byname, "ml-b", NULL));
    assert_false(opening_ns_selects(ml, "ml-a", NULL));
    assert_true(opening_ns_selects(ml, "ml-a", labels));
    assert_true(opening_ns_selects(NULL, "anything", NULL));

    json_decref(labels);
    selector_free(ml);
    selector_free(ml_gpu);
    selector_free(byname);
}

/*
 * A subtraction that splits an opening while the list is full: the array grows while the split
 * peer is being copied (a use after free before; `make asan` and valgrind catch it).
 */
static void test_opening_split_when_list_full(void **state)
{
    char yaml[4096], *got;
    struct buf want;
    size_t len;
    int i;

    (void)state;
    len = (size_t)snprintf(yaml, sizeof(yaml),
                           "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\n"
                           "metadata: {name: allow, namespace: ml}\n"
                           "spec:\n  endpointSelector: {}\n  egress:\n");
    buf_init(&want, 0);
    for (i = 0; i < 8; i++) {
        len += (size_t)snprintf(yaml + len, sizeof(yaml) - len,
                                "    - toCIDR: [10.0.%d.0/24]\n"
                                "      toPorts: [{ports: [{port: \"80\", endPort: 81, protocol: TCP}]}]\n",
                                i);
    }
    snprintf(yaml + len, sizeof(yaml) - len,
             "---\napiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\n"
             "metadata: {name: deny, namespace: ml}\n"
             "spec:\n  endpointSelector: {}\n  egressDeny:\n    - toCIDR: [10.0.0.0/16]\n"
             "      toPorts: [{ports: [{port: \"80\", protocol: TCP}]}]\n");
    for (i = 0; i < 8; i++)
        buf_printf(&want, "cidr 10.0.%d.0/24 on TCP/81\n", i);
    got = openings(yaml);
    assert_string_equal(got, buf_str(&want));
    free(got);
    buf_release(&want);
}

/*
 * The openings of allow_yaml's models less, with opening_list_subtract_all(), every deny rule of
 * deny_yaml's, one "peer on ports" per line.
 */
static void expect_subtract_all(const char *allow_yaml, const char *deny_yaml, bool ip,
                                const char *want)
{
    struct manifest *ma, *md;
    struct egress_list allow, deny;
    struct opening_list ops;
    struct err e = {0};
    struct buf b;

    read_models(allow_yaml, &ma, &allow);
    read_models(deny_yaml, &md, &deny);
    opening_list_init(&ops);
    for (size_t i = 0; i < allow.n; i++)
        assert_int_equal(opening_list_build_one(&allow.models[i], &ops, &e), 0);
    for (size_t i = 0; i < deny.n; i++)
        for (size_t k = 0; k < deny.models[i].n_rules; k++)
            for (size_t j = 0; j < deny.models[i].rules[k].n_peers; j++)
                if (deny.models[i].rules[k].action == EGRESS_DENY)
                    assert_int_equal(
                        opening_list_subtract_all(&ops, &deny.models[i].rules[k].peers[j],
                                                  deny.models[i].rules[k].ports, ip),
                        0);
    buf_init(&b, 1 << 16);
    for (size_t i = 0; i < ops.n; i++) {
        egress_peer_format(&ops.items[i].peer, &b);
        buf_puts(&b, " on ");
        portset_format(ops.items[i].ports, &b);
        buf_puts(&b, "\n");
    }
    assert_string_equal(buf_str(&b), want);
    buf_release(&b);
    opening_list_release(&ops);
    egress_list_release(&allow);
    egress_list_release(&deny);
    manifest_free(ma);
    manifest_free(md);
}

/*
 * "What surely stays open": CIDRs from CIDRs exactly; a name the deny's addresses may hold is
 * gone on the deny's ports; other ports keep everything; "every destination" less addresses is
 * the other addresses only when the deny matches by address.
 */
static void test_opening_subtract_all(void **state)
{
    static const char allow[] =
        "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\n"
        "metadata: {name: allow, namespace: ml}\n"
        "spec:\n  endpointSelector: {}\n  egress:\n"
        "    - toCIDR: [10.0.0.0/16]\n"
        "      toPorts: [{ports: [{port: \"443\", protocol: TCP}]}]\n"
        "    - toFQDNs: [{matchName: pypi.internal.example.com}]\n"
        "      toPorts: [{ports: [{port: \"443\", protocol: TCP}, {port: \"80\", protocol: TCP}]}]\n"
        "    - toEntities: [all]\n"
        "      toPorts: [{ports: [{port: \"8443\", protocol: TCP}]}]\n";
    static const char deny[] =
        "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\n"
        "metadata: {name: deny, namespace: ml}\n"
        "spec:\n  endpointSelector: {}\n  egressDeny:\n"
        "    - toCIDR: [10.0.128.0/17]\n"
        "      toPorts: [{ports: [{port: \"443\", protocol: TCP}, {port: \"8443\", protocol: TCP}]}]\n";

    (void)state;
    expect_subtract_all(allow, deny, false,
                        "cidr 10.0.0.0/17 on TCP/443\n"
                        "fqdn pypi.internal.example.com on TCP/80\n");
    expect_subtract_all(allow, deny, true,
                        "cidr 10.0.0.0/17 on TCP/443\n"
                        "cidr 0.0.0.0/5, 8.0.0.0/7, 10.0.0.0/17, 10.1.0.0/16, 10.2.0.0/15, "
                        "10.4.0.0/14, 10.8.0.0/13, 10.16.0.0/12, 10.32.0.0/11, 10.64.0.0/10, "
                        "10.128.0.0/9, 11.0.0.0/8, 12.0.0.0/6, 16.0.0.0/4, 32.0.0.0/3, "
                        "64.0.0.0/2, 128.0.0.0/1, ::/0 on TCP/8443\n"
                        "fqdn pypi.internal.example.com on TCP/80\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_opening_netpol_union),
        cmocka_unit_test(test_opening_netpol_policies_add_up),
        cmocka_unit_test(test_opening_ingress_only_opens_nothing),
        cmocka_unit_test(test_opening_cilium_deny_wins_split_by_ports),
        cmocka_unit_test(test_opening_calico_earlier_deny_takes_from_later_allow),
        cmocka_unit_test(test_opening_calico_later_deny_takes_nothing),
        cmocka_unit_test(test_opening_calico_deny_of_another_tier_takes_nothing),
        cmocka_unit_test(test_opening_calico_deny_of_every_address),
        cmocka_unit_test(test_opening_cilium_world_deny_keeps_pods),
        cmocka_unit_test(test_opening_calico_pass_opens),
        cmocka_unit_test(test_opening_admin_and_baseline_layers),
        cmocka_unit_test(test_opening_admin_priority),
        cmocka_unit_test(test_opening_admin_pass_skips_later_admin_denies),
        cmocka_unit_test(test_opening_admin_allow_is_final),
        cmocka_unit_test(test_opening_baseline_after_netpol),
        cmocka_unit_test(test_opening_cluster_subset_and_ns_selects),
        cmocka_unit_test(test_opening_split_when_list_full),
        cmocka_unit_test(test_opening_subtract_all),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
