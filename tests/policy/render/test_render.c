#include "policy/render/render.h"
#include "policy/rules/managed.h"

#include <stdlib.h>
#include <string.h>

#include "policy/decide.h"
#include "tests/helpers/evalfix.h"
#include "policy/config/setdb.h"
#include "policy/config/policy.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

/*
 * One allow entry of each kind: in-cluster with ports, sameNamespace, CIDRs with a port range
 * and an always-denied range inside, FQDNs. Every target renders from it.
 */
static const char POLICY[] =
    "apiVersion: egressguard.io/v1alpha1\n"
    "kind: EgressPolicy\n"
    "metadata: {name: r}\n"
    "spec:\n"
    "  aiWorkloads:\n"
    "    namespaces: {names: [ml-*]}\n"
    "  allow:\n"
    "    - name: dns\n"
    "      inCluster:\n"
    "        - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}\n"
    "          podSelector: {matchLabels: {k8s-app: kube-dns}}\n"
    "      ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]\n"
    "    - name: peers\n"
    "      inCluster: [{sameNamespace: true}]\n"
    "    - name: link-local\n"
    "      cidrs: [169.254.0.0/16]\n"
    "      ports: [{protocol: TCP, port: 443}, {protocol: TCP, port: 8000, endPort: 8010}]\n"
    "    - name: s3\n"
    "      fqdns: [\"*.s3.amazonaws.com\", s3.amazonaws.com]\n"
    "      ports: [{protocol: TCP, port: 443}]\n"
    "  deny:\n"
    "    - name: metadata\n"
    "      cidrs: [169.254.169.254/32]\n"
    "  mutation:\n"
    "    enabled: true\n"
    "    labels: {egressguard.io/enforced: \"true\"}\n";

static int setup(void **state)
{
    struct err e = {0};

    *state = policy_load_buffer(POLICY, strlen(POLICY), "p.yaml", &e);
    if (!*state)
        fail_msg("policy: %d:%d %s", e.line, e.col, e.msg);
    return 0;
}

static int teardown(void **state)
{
    policy_free(*state);
    return 0;
}

/* render_build for namespace ml-a (when ns_given); fails the test on an error. */
static json_t *render(const struct policy *pol, enum render_target t, bool ns_given,
                      json_t **notes)
{
    static const char *const ns[] = {"ml-a"};
    struct render_opts o = {ns_given ? ns : NULL, ns_given ? 1 : 0};
    struct err e = {0};
    json_t *out = render_build(pol, t, &o, notes, &e);

    if (!out)
        fail_msg("render_build: %s", e.msg);
    return out;
}

/* Fails unless got equals the JSON text want exactly (keys in any order). */
static void expect_json(const json_t *got, const char *want)
{
    json_error_t jerr;
    json_t *w = json_loads(want, 0, &jerr);
    char *g;

    if (!w)
        fail_msg("bad expected JSON at %d:%d: %s", jerr.line, jerr.column, jerr.text);
    if (!json_equal(got, w)) {
        g = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS);
        print_message("got:  %s\n", g ? g : "(null)");
        free(g);
        g = json_dumps(w, JSON_COMPACT | JSON_SORT_KEYS);
        print_message("want: %s\n", g ? g : "(null)");
        free(g);
        json_decref(w);
        fail();
    }
    json_decref(w);
}

/* Kind, name, namespace (NULL: none) and the managed-by label and policy-hash annotation. */
static void expect_meta(const struct policy *pol, const json_t *obj, const char *api,
                        const char *kind, const char *name, const char *ns)
{
    const json_t *md = json_object_get(obj, "metadata");

    assert_string_equal(json_string_value(json_object_get(obj, "apiVersion")), api);
    assert_string_equal(json_string_value(json_object_get(obj, "kind")), kind);
    assert_string_equal(json_string_value(json_object_get(md, "name")), name);
    if (ns)
        assert_string_equal(json_string_value(json_object_get(md, "namespace")), ns);
    else
        assert_null(json_object_get(md, "namespace"));
    assert_string_equal(json_string_value(json_object_get(json_object_get(md, "labels"),
                                                          MANAGED_BY_LABEL)),
                        MANAGED_BY_VALUE);
    assert_string_equal(json_string_value(json_object_get(json_object_get(md, "annotations"),
                                                          "egressguard.io/policy-hash")),
                        pol->hash);
}

static const json_t *spec_of(const json_t *objs, size_t i)
{
    return json_object_get(json_array_get(objs, i), "spec");
}

/* The verdict egressguard gives the rendered object i, read back as a manifest. */
static void decide(const struct policy *pol, const json_t *objs, size_t i, struct evalfix *f)
{
    char *text = json_dumps(json_array_get(objs, i), JSON_COMPACT);
    /* As `check` reads the rendered file alone: it holds every address set there is, none. */
    struct setdb *none = setdb_new();
    struct request_ctx ctx = {.operation = "CREATE", .sets = none};

    assert_non_null(text);
    assert_non_null(none);
    setdb_set_complete(none, true);
    evalfix_text(f, pol, text, 0, &ctx);
    free(text);
    setdb_free(none);
}

/* Every rendered object passes decide_object against the policy it was rendered from. */
static void expect_all_pass(const struct policy *pol, const json_t *objs)
{
    struct evalfix f;

    for (size_t i = 0; i < json_array_size(objs); i++) {
        decide(pol, objs, i, &f);
        evalfix_expect_clean(&f);
        assert_int_equal(f.rc, 0);
        assert_true(f.v.evaluated);
        assert_true(f.v.allowed);
        evalfix_release(&f);
    }
}

static void test_render_target_parse_names(void **state)
{
    enum render_target t = RENDER_ANP;

    (void)state;
    assert_int_equal(render_target_parse("networkpolicy", &t), 0);
    assert_int_equal(t, RENDER_NETWORKPOLICY);
    assert_int_equal(render_target_parse("cilium", &t), 0);
    assert_int_equal(t, RENDER_CILIUM);
    assert_int_equal(render_target_parse("calico", &t), 0);
    assert_int_equal(t, RENDER_CALICO);
    assert_int_equal(render_target_parse("adminnetworkpolicy", &t), 0);
    assert_int_equal(t, RENDER_ANP);
    assert_int_equal(render_target_parse("NetworkPolicy", &t), -1);
}

static void test_render_build_networkpolicy_needs_namespace(void **state)
{
    struct render_opts o = {NULL, 0};
    struct err e = {0};
    json_t *notes = NULL;

    assert_null(render_build(*state, RENDER_NETWORKPOLICY, &o, &notes, &e));
    assert_null(notes);
    assert_string_equal(e.msg,
                        "NetworkPolicies are namespaced: name the AI namespaces to render for");
}

static void test_render_build_networkpolicy_deny_then_allow(void **state)
{
    const struct policy *pol = *state;
    json_t *notes, *objs = render(pol, RENDER_NETWORKPOLICY, true, &notes);

    assert_int_equal(json_array_size(objs), 2);
    expect_meta(pol, json_array_get(objs, 0), "networking.k8s.io/v1", "NetworkPolicy",
                "egressguard-default-deny-egress", "ml-a");
    expect_json(spec_of(objs, 0), "{\"podSelector\": {}, \"policyTypes\": [\"Egress\"]}");
    expect_meta(pol, json_array_get(objs, 1), "networking.k8s.io/v1", "NetworkPolicy",
                "egressguard-allow-egress", "ml-a");
    /* The always-denied range is an ipBlock except; FQDNs are left out with a note. */
    expect_json(spec_of(objs, 1),
                "{\"podSelector\": {}, \"policyTypes\": [\"Egress\"], \"egress\": ["
                " {\"to\": [{\"namespaceSelector\": {\"matchLabels\":"
                "   {\"kubernetes.io/metadata.name\": \"kube-system\"}},"
                "   \"podSelector\": {\"matchLabels\": {\"k8s-app\": \"kube-dns\"}}}],"
                "  \"ports\": [{\"protocol\": \"TCP\", \"port\": 53},"
                "   {\"protocol\": \"UDP\", \"port\": 53}]},"
                " {\"to\": [{\"podSelector\": {}}]},"
                " {\"to\": [{\"ipBlock\": {\"cidr\": \"169.254.0.0/16\","
                "   \"except\": [\"169.254.169.254/32\"]}}],"
                "  \"ports\": [{\"protocol\": \"TCP\", \"port\": 443},"
                "   {\"protocol\": \"TCP\", \"port\": 8000, \"endPort\": 8010}]}]}");
    expect_json(notes, "[\"allow entry \\\"s3\\\": FQDNs (*.s3.amazonaws.com, ...) cannot be "
                       "expressed in a Kubernetes NetworkPolicy; not rendered (use the cilium "
                       "target, or an egress proxy)\"]");
    expect_all_pass(pol, objs);
    json_decref(objs);
    json_decref(notes);
}

/* The verdict check can fail: an allow rule widened to every address is denied. */
static void test_render_build_networkpolicy_widened_is_denied(void **state)
{
    const struct policy *pol = *state;
    json_t *objs = render(pol, RENDER_NETWORKPOLICY, true, NULL);
    json_t *ib = json_object_get(json_array_get(json_object_get(json_array_get(
                                     json_object_get(spec_of(objs, 1), "egress"), 2), "to"), 0),
                                 "ipBlock");
    struct evalfix f;

    assert_int_equal(json_object_set_new(ib, "cidr", json_string("0.0.0.0/0")), 0);
    decide(pol, objs, 1, &f);
    assert_int_equal(f.rc, 0);
    assert_true(f.v.evaluated);
    assert_false(f.v.allowed);
    assert_non_null(evalfix_find(&f, "egress", true, 0));
    evalfix_release(&f);
    json_decref(objs);
}

static void test_render_build_cilium_fqdns_and_dns_rule(void **state)
{
    const struct policy *pol = *state;
    json_t *notes, *objs = render(pol, RENDER_CILIUM, true, &notes);

    assert_int_equal(json_array_size(objs), 2);
    expect_meta(pol, json_array_get(objs, 0), "cilium.io/v2", "CiliumClusterwideNetworkPolicy",
                "egressguard-ai-egress", NULL);
    /* Allow rules in entry order, then the kube-dns rule toFQDNs needs; denies as egressDeny. */
    expect_json(spec_of(objs, 0),
                "{\"endpointSelector\": {\"matchLabels\":"
                "  {\"io.cilium.k8s.namespace.labels.egressguard.io/enforced\": \"true\"}},"
                " \"egress\": ["
                "  {\"toEndpoints\": [{\"matchLabels\": {"
                "    \"io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name\": \"kube-system\","
                "    \"k8s-app\": \"kube-dns\"}}],"
                "   \"toPorts\": [{\"ports\": [{\"port\": \"53\", \"protocol\": \"TCP\"},"
                "    {\"port\": \"53\", \"protocol\": \"UDP\"}],"
                "    \"rules\": {\"dns\": [{\"matchPattern\": \"*.s3.amazonaws.com\"},"
                "     {\"matchName\": \"s3.amazonaws.com\"},"
                "     {\"matchPattern\": \"*.cluster.local\"},"
                "     {\"matchPattern\": \"*.*.cluster.local\"},"
                "     {\"matchPattern\": \"*.*.*.cluster.local\"},"
                "     {\"matchPattern\": \"*.*.*.*.cluster.local\"}]}}]},"
                "  {\"toCIDRSet\": [{\"cidr\": \"169.254.0.0/16\","
                "    \"except\": [\"169.254.169.254/32\"]}],"
                "   \"toPorts\": [{\"ports\": [{\"port\": \"443\", \"protocol\": \"TCP\"},"
                "    {\"port\": \"8000\", \"protocol\": \"TCP\", \"endPort\": 8010}]}]},"
                "  {\"toFQDNs\": [{\"matchPattern\": \"*.s3.amazonaws.com\"},"
                "    {\"matchName\": \"s3.amazonaws.com\"}],"
                "   \"toPorts\": [{\"ports\": [{\"port\": \"443\", \"protocol\": \"TCP\"}]}]},"
                "  {\"toEndpoints\": [{\"matchLabels\": {"
                "    \"k8s:io.kubernetes.pod.namespace\": \"kube-system\","
                "    \"k8s:k8s-app\": \"kube-dns\"}}],"
                "   \"toPorts\": [{\"ports\": [{\"port\": \"53\", \"protocol\": \"UDP\"},"
                "    {\"port\": \"53\", \"protocol\": \"TCP\"}],"
                "    \"rules\": {\"dns\": [{\"matchPattern\": \"*.s3.amazonaws.com\"},"
                "     {\"matchName\": \"s3.amazonaws.com\"},"
                "     {\"matchPattern\": \"*.cluster.local\"},"
                "     {\"matchPattern\": \"*.*.cluster.local\"},"
                "     {\"matchPattern\": \"*.*.*.cluster.local\"},"
                "     {\"matchPattern\": \"*.*.*.*.cluster.local\"}]}}]}],"
                " \"egressDeny\": [{\"toCIDRSet\": [{\"cidr\": \"169.254.169.254/32\"}]}]}");
    /* sameNamespace needs a namespaced policy. */
    expect_meta(pol, json_array_get(objs, 1), "cilium.io/v2", "CiliumNetworkPolicy",
                "egressguard-same-namespace", "ml-a");
    expect_json(spec_of(objs, 1), "{\"endpointSelector\": {}, \"egress\": [{\"toEndpoints\": [{}]}]}");
    expect_json(notes, "[]");
    expect_all_pass(pol, objs);
    json_decref(objs);
    json_decref(notes);
}

static void test_render_build_cilium_same_namespace_needs_namespace(void **state)
{
    json_t *notes, *objs = render(*state, RENDER_CILIUM, false, &notes);

    assert_int_equal(json_array_size(objs), 1);
    expect_json(notes, "[\"sameNamespace peers need a namespaced CiliumNetworkPolicy per AI "
                       "namespace: give --namespace NS to render them\"]");
    json_decref(objs);
    json_decref(notes);
}

static void test_render_build_calico_order_and_final_deny(void **state)
{
    const struct policy *pol = *state;
    json_t *notes, *objs = render(pol, RENDER_CALICO, true, &notes);

    assert_int_equal(json_array_size(objs), 2);
    expect_meta(pol, json_array_get(objs, 0), "projectcalico.org/v3", "GlobalNetworkPolicy",
                "egressguard-ai-egress", NULL);
    /* Deny the always-denied nets first, one Allow per protocol, a final Deny. */
    expect_json(spec_of(objs, 0),
                "{\"order\": 100, \"namespaceSelector\": \"egressguard.io/enforced == \\\"true\\\"\","
                " \"selector\": \"all()\", \"types\": [\"Egress\"], \"egress\": ["
                "  {\"action\": \"Deny\", \"destination\": {\"nets\": [\"169.254.169.254/32\"]}},"
                "  {\"action\": \"Allow\", \"protocol\": \"TCP\", \"destination\": {"
                "    \"namespaceSelector\": \"kubernetes.io/metadata.name == \\\"kube-system\\\"\","
                "    \"selector\": \"k8s-app == \\\"kube-dns\\\"\", \"ports\": [53]}},"
                "  {\"action\": \"Allow\", \"protocol\": \"UDP\", \"destination\": {"
                "    \"namespaceSelector\": \"kubernetes.io/metadata.name == \\\"kube-system\\\"\","
                "    \"selector\": \"k8s-app == \\\"kube-dns\\\"\", \"ports\": [53]}},"
                "  {\"action\": \"Allow\", \"protocol\": \"TCP\", \"destination\": {"
                "    \"nets\": [\"169.254.0.0/16\"], \"notNets\": [\"169.254.169.254/32\"],"
                "    \"ports\": [443, \"8000:8010\"]}},"
                "  {\"action\": \"Deny\"}]}");
    assert_int_equal(RENDER_CALICO_ORDER, 100);
    /* The namespaced sameNamespace policy comes before the global one (lower order). */
    expect_meta(pol, json_array_get(objs, 1), "projectcalico.org/v3", "NetworkPolicy",
                "egressguard-same-namespace", "ml-a");
    expect_json(spec_of(objs, 1),
                "{\"order\": 90, \"selector\": \"all()\", \"types\": [\"Egress\"], \"egress\": ["
                "  {\"action\": \"Allow\", \"destination\": {\"selector\": \"all()\"}}]}");
    expect_json(notes, "[\"allow entry \\\"s3\\\": FQDNs (*.s3.amazonaws.com, ...) cannot be "
                       "expressed in Calico open-source policy (destination.domains is Calico "
                       "Enterprise); not rendered\"]");
    expect_all_pass(pol, objs);
    json_decref(objs);
    json_decref(notes);
}

static void test_render_build_anp_denies_before_allows(void **state)
{
    const struct policy *pol = *state;
    json_t *notes, *objs = render(pol, RENDER_ANP, false, &notes);

    assert_int_equal(json_array_size(objs), 2);
    expect_meta(pol, json_array_get(objs, 0), "policy.networking.k8s.io/v1alpha1",
                "AdminNetworkPolicy", "egressguard-ai-egress", NULL);
    /* Deny rules first (ANP rules are ordered), so allowed networks need no except. */
    expect_json(spec_of(objs, 0),
                "{\"priority\": 10, \"subject\": {\"namespaces\": {\"matchLabels\":"
                "  {\"egressguard.io/enforced\": \"true\"}}}, \"egress\": ["
                "  {\"name\": \"deny-metadata\", \"action\": \"Deny\","
                "   \"to\": [{\"networks\": [\"169.254.169.254/32\"]}]},"
                "  {\"name\": \"allow-dns\", \"action\": \"Allow\", \"to\": [{\"pods\": {"
                "    \"namespaceSelector\": {\"matchLabels\":"
                "     {\"kubernetes.io/metadata.name\": \"kube-system\"}},"
                "    \"podSelector\": {\"matchLabels\": {\"k8s-app\": \"kube-dns\"}}}}],"
                "   \"ports\": [{\"portNumber\": {\"protocol\": \"TCP\", \"port\": 53}},"
                "    {\"portNumber\": {\"protocol\": \"UDP\", \"port\": 53}}]},"
                "  {\"name\": \"allow-link-local\", \"action\": \"Allow\","
                "   \"to\": [{\"networks\": [\"169.254.0.0/16\"]}],"
                "   \"ports\": [{\"portNumber\": {\"protocol\": \"TCP\", \"port\": 443}},"
                "    {\"portRange\": {\"protocol\": \"TCP\", \"start\": 8000, \"end\": 8010}}]},"
                "  {\"name\": \"allow-s3\", \"action\": \"Allow\","
                "   \"to\": [{\"domainNames\": [\"s3.amazonaws.com\"]}],"
                "   \"ports\": [{\"portNumber\": {\"protocol\": \"TCP\", \"port\": 443}}]}]}");
    /* The baseline (a singleton named "default") denies everything the ANP did not allow. */
    expect_meta(pol, json_array_get(objs, 1), "policy.networking.k8s.io/v1alpha1",
                "BaselineAdminNetworkPolicy", "default", NULL);
    expect_json(spec_of(objs, 1),
                "{\"subject\": {\"namespaces\": {\"matchLabels\":"
                "  {\"egressguard.io/enforced\": \"true\"}}}, \"egress\": ["
                "  {\"name\": \"default-deny-egress\", \"action\": \"Deny\","
                "   \"to\": [{\"networks\": [\"0.0.0.0/0\", \"::/0\"]}, {\"namespaces\": {}}]}]}");
    expect_json(notes,
                "[\"allow entry \\\"peers\\\": sameNamespace has no AdminNetworkPolicy form; not "
                "rendered (the BaselineAdminNetworkPolicy denies it unless a namespaced "
                "NetworkPolicy allows it)\", \"allow entry \\\"s3\\\": 1 wildcard name not "
                "rendered: '*' in AdminNetworkPolicy domainNames matches any number of labels, "
                "wider than the allow-list's one\", \"allow entry \\\"s3\\\": FQDNs rendered "
                "as domainNames peers, which need an AdminNetworkPolicy implementation supporting "
                "them\"]");
    /* egressguard evaluates both kinds: what it renders passes its own check. */
    expect_all_pass(pol, objs);
    json_decref(objs);
    json_decref(notes);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render_target_parse_names),
        cmocka_unit_test_setup_teardown(test_render_build_networkpolicy_needs_namespace, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_render_build_networkpolicy_deny_then_allow, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_render_build_networkpolicy_widened_is_denied, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_render_build_cilium_fqdns_and_dns_rule, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_render_build_cilium_same_namespace_needs_namespace,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_render_build_calico_order_and_final_deny, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_render_build_anp_denies_before_allows, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
