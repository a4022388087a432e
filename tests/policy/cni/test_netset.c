/*
 * Address-set objects (policy/cni/netset.c): Calico NetworkSet, GlobalNetworkSet, HostEndpoint
 * and Cilium CiliumCIDRGroup read into store entries, and judged by who reaches them.
 */
#include "policy/cni/netset.h"

#include <stdlib.h>
#include <string.h>

#include "tests/helpers/evalfix.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

/* Reads the one object of yaml: 0 with *out filled, or -1 with e set. */
static int read_one(const char *yaml, struct setdb_entry *out, struct err *e)
{
    struct manifest *m = manifest_new();
    int rc;

    assert_non_null(m);
    assert_int_equal(manifest_read_buffer(m, yaml, strlen(yaml), "t.yaml"), 0);
    assert_int_equal(manifest_n_objects(m), 1);
    rc = netset_read(manifest_object(m, 0), out, e);
    e->file = NULL; /* borrowed from the manifest */
    manifest_free(m);
    return rc;
}

static char *nets_text(const struct setdb_entry *s)
{
    struct buf b;

    buf_init(&b, 0);
    cidrset_format(s->nets, 0, &b);
    return buf_detach(&b, NULL);
}

static void test_netset_read_kinds(void **state)
{
    struct setdb_entry s;
    struct err e = {0};
    char *t;

    (void)state;
    /* Calico accepts bare addresses in nets (v3 NetworkSetSpec); no namespace is "default". */
    assert_int_equal(read_one("apiVersion: crd.projectcalico.org/v1\nkind: NetworkSet\n"
                              "metadata: {name: ext, labels: {role: db}}\n"
                              "spec: {nets: [192.0.2.7, 10.0.0.0/8],"
                              " allowedEgressDomains: [API.example.com]}\n",
                              &s, &e),
                     0);
    assert_int_equal(s.kind, SETDB_NETWORKSET);
    assert_string_equal(s.ns, "default");
    assert_string_equal(s.name, "ext");
    assert_string_equal(json_string_value(json_object_get(s.labels, "role")), "db");
    t = nets_text(&s);
    assert_string_equal(t, "10.0.0.0/8, 192.0.2.7/32");
    free(t);
    assert_int_equal(s.n_domains, 1);
    assert_string_equal(s.domains[0], "api.example.com");
    assert_string_equal(s.where, "t.yaml:1");
    assert_null(s.error);
    setdb_entry_release(&s);

    assert_int_equal(read_one("apiVersion: cilium.io/v2alpha1\nkind: CiliumCIDRGroup\n"
                              "metadata: {name: partners}\n"
                              "spec: {externalCIDRs: ['2001:db8::/32']}\n",
                              &s, &e),
                     0);
    assert_int_equal(s.kind, SETDB_CIDRGROUP);
    assert_string_equal(s.ns, "");
    t = nets_text(&s);
    assert_string_equal(t, "2001:db8::/32");
    free(t);
    setdb_entry_release(&s);

    /* A HostEndpoint without expectedIPs holds its interface's addresses: unknown here. */
    assert_int_equal(read_one("apiVersion: projectcalico.org/v3\nkind: HostEndpoint\n"
                              "metadata: {name: h}\nspec: {node: n1, interfaceName: eth0}\n",
                              &s, &e),
                     0);
    assert_null(s.nets);
    assert_non_null(strstr(s.error, "no spec.expectedIPs"));
    setdb_entry_release(&s);
}

static void test_netset_read_errors_are_positioned(void **state)
{
    struct setdb_entry s;
    struct err e = {0};

    (void)state;
    assert_int_equal(read_one("apiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\n"
                              "metadata: {name: g}\nspec:\n  nets: [10.0.0.0/8, 300.0.0.0/8]\n",
                              &s, &e),
                     -1);
    assert_string_equal(e.msg,
                        "spec.nets[1]: invalid CIDR \"300.0.0.0/8\": IPv4 octet out of range (0-255)");
    assert_int_equal(e.line, 5);
    assert_int_equal(e.col, 22);
    assert_int_equal(read_one("apiVersion: projectcalico.org/v3\nkind: NetworkSet\n"
                              "metadata: {name: s, namespace: a}\nspec: {nets: 10.0.0.0/8}\n",
                              &s, &e),
                     -1);
    assert_string_equal(e.msg, "spec.nets: must be a list, not a string");
    assert_int_equal(e.line, 4);
}

/* An unreadable set is still known: present, with what it holds unknown. */
static void test_netset_collect_keeps_unreadable_sets(void **state)
{
    static const char yaml[] =
        "apiVersion: projectcalico.org/v3\nkind: NetworkSet\n"
        "metadata: {name: bad, namespace: ml-a}\nspec: {nets: [nope]}\n---\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: ml-a}\n";
    struct manifest *m = manifest_new();
    struct setdb *db = setdb_new();
    const struct object *objs[2];
    const struct setdb_entry *s;
    struct err e = {0};

    (void)state;
    assert_int_equal(manifest_read_buffer(m, yaml, strlen(yaml), "t.yaml"), 0);
    objs[0] = manifest_object(m, 0);
    objs[1] = manifest_object(m, 1);
    assert_int_equal(netset_collect(db, objs, 2, &e), 0);
    assert_int_equal(setdb_count(db), 1);
    s = setdb_find(db, SETDB_NETWORKSET, "ml-a", "bad");
    assert_non_null(s);
    assert_null(s->nets);
    assert_string_equal(s->error, "t.yaml:4:15: spec.nets[0]: invalid CIDR \"nope\": bad IPv4 address");
    setdb_free(db);
    manifest_free(m);
}

/* ---- judging ------------------------------------------------------------------------ */

#define SET(ns, labels, nets)                                                                     \
    "apiVersion: projectcalico.org/v3\nkind: NetworkSet\n"                                        \
    "metadata: {name: s, namespace: " ns ", labels: " labels "}\nspec:\n  nets: " nets "\n"

/* In an AI namespace any policy may select the set, on any port: its nets must be allowed. */
static void test_netset_decide_in_ai_namespace(void **state)
{
    const struct policy *pol = *state;
    struct evalfix f;

    evalfix_cluster(&f, pol, SET("ml-a", "{}", "[10.20.1.0/24, 8.8.8.8/32]"), 0, true);
    evalfix_expect(&f, "egress", "spec.nets", 5,
                   "NetworkSet ml-a/s holds 8.8.8.8/32, outside every allow entry; any policy of "
                   "AI namespace ml-a may reach this set");
    evalfix_release(&f);
    /* inside some allow entry (whatever its ports): admitted */
    evalfix_cluster(&f, pol, SET("ml-a", "{}", "[10.20.1.0/24, 10.30.0.0/24]"), 0, true);
    evalfix_expect_clean(&f);
    evalfix_release(&f);
}

/*
 * A set outside AI namespaces is judged through the policies the run knows that govern AI
 * workloads and reach it: on their ports. Otherwise it is only noted.
 */
static void test_netset_decide_through_reaching_policies(void **state)
{
    const struct policy *pol = *state;
    static const char gnp[] =
        "---\napiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\n"
        "metadata: {name: to-db}\n"
        "spec:\n  namespaceSelector: projectcalico.org/name == 'ml-a'\n  egress:\n"
        "  - action: Allow\n    protocol: TCP\n"
        "    destination: {namespaceSelector: team == 'data', selector: role == 'db',"
        " ports: [443]}\n";
    char yaml[2048];
    struct evalfix f;

    snprintf(yaml, sizeof(yaml), "%s%s", SET("data", "{role: db}", "[10.20.1.0/24, 8.8.8.8/32]"),
             gnp);
    /* Namespace data's labels unknown: the policy may reach the set, and it is judged. */
    evalfix_cluster(&f, pol, yaml, 0, true);
    evalfix_expect(&f, "egress", "spec.nets", 5,
                   "NetworkSet data/s, reached by namespaceSelector team == 'data', selector "
                   "role == 'db' in GlobalNetworkPolicy.projectcalico.org to-db spec.egress[0] "
                   "(AI workloads: ");
    assert_non_null(strstr(evalfix_find(&f, "egress", true, 0)->message,
                           "opens 8.8.8.8/32 on TCP/443"));
    evalfix_release(&f);

    /* Labels known not to match: nobody that governs AI workloads reaches it. */
    snprintf(yaml, sizeof(yaml),
             "%s%s---\napiVersion: v1\nkind: Namespace\nmetadata: {name: data, labels: {team: "
             "web}}\n",
             SET("data", "{role: db}", "[8.8.8.8/32]"), gnp);
    evalfix_cluster(&f, pol, yaml, 0, true);
    evalfix_expect_clean(&f);
    assert_int_equal(evalfix_count(&f, "egress", false), 1);
    assert_non_null(strstr(evalfix_find(&f, "egress", false, 0)->message, "not evaluated"));
    evalfix_release(&f);

    /* A deny reaching it does not make it judged: a deny opens nothing. */
    evalfix_cluster(&f, pol,
                    "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\n"
                    "metadata: {name: blocklist, labels: {feed: threats}}\nspec: {nets: [0.0.0.0/0]}\n"
                    "---\napiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\n"
                    "metadata: {name: block}\n"
                    "spec:\n  egress:\n  - action: Deny\n"
                    "    destination: {namespaceSelector: global(), selector: feed == 'threats'}\n",
                    0, true);
    evalfix_expect_clean(&f);
    evalfix_release(&f);
}

/* A CiliumCIDRGroup named by a policy that governs AI workloads is judged on its ports. */
static void test_netset_decide_cidr_group(void **state)
{
    const struct policy *pol = *state;
    struct evalfix f;

    evalfix_cluster(&f, pol,
                    "apiVersion: cilium.io/v2alpha1\nkind: CiliumCIDRGroup\n"
                    "metadata: {name: partners}\nspec:\n  externalCIDRs: [203.0.113.0/24]\n---\n"
                    "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\n"
                    "metadata: {name: p, namespace: ml-a}\n"
                    "spec:\n  endpointSelector: {}\n  egress:\n"
                    "  - toCIDRSet: [{cidrGroupRef: partners}]\n"
                    "    toPorts: [{ports: [{port: '443', protocol: TCP}]}]\n",
                    0, true);
    evalfix_expect(&f, "egress", "spec.externalCIDRs", 5,
                   "CiliumCIDRGroup partners, reached by cidrGroupRef partners in "
                   "CiliumNetworkPolicy ml-a/p spec.egress[0]");
    evalfix_release(&f);
}

/* A HostEndpoint labelled role=ROLE with SPEC, then the policy text `rest`, into buf. */
static const char *hep_yaml(char *buf, size_t size, const char *role, const char *spec,
                            const char *rest)
{
    snprintf(buf, size,
             "apiVersion: projectcalico.org/v3\nkind: HostEndpoint\n"
             "metadata: {name: gw1, labels: {role: %s}}\nspec: {node: n1, %s}\n%s",
             role, spec, rest);
    return buf;
}

/*
 * A HostEndpoint is judged as a GlobalNetworkSet of its expectedIPs: Calico selectors that match
 * a host endpoint stand for those addresses (docs.tigera.io, calico/latest/reference/resources/
 * hostendpoint: expectedIPs). Without them what it holds is unknown: a policy governing AI
 * workloads that reaches it fails closed.
 */
static void test_netset_decide_host_endpoint(void **state)
{
    const struct policy *pol = *state;
    static const char np[] =
        "---\napiVersion: projectcalico.org/v3\nkind: NetworkPolicy\n"
        "metadata: {name: to-gw, namespace: ml-a}\n"
        "spec:\n  selector: all()\n  egress:\n  - action: Allow\n    protocol: TCP\n"
        "    destination: {namespaceSelector: global(), selector: role == 'gw', ports: [443]}\n";
    char yaml[2048];
    struct evalfix f;
    bool said = false;

    evalfix_cluster(&f, pol, hep_yaml(yaml, sizeof(yaml), "gw", "expectedIPs: [198.51.100.7]", np),
                    0, true);
    evalfix_expect(&f, "egress", "spec.expectedIPs", 4,
                   "HostEndpoint gw1, reached by namespaceSelector global(), selector role == "
                   "'gw' in NetworkPolicy.projectcalico.org ml-a/to-gw spec.egress[0]");
    assert_non_null(strstr(evalfix_find(&f, "egress", true, 0)->message,
                           "opens 198.51.100.7/32 on TCP/443"));
    evalfix_release(&f);

    evalfix_cluster(&f, pol, hep_yaml(yaml, sizeof(yaml), "gw", "interfaceName: eth0", np), 0,
                    true);
    for (size_t i = 0; i < evalfix_count(&f, "egress", true); i++)
        said = said || strstr(evalfix_find(&f, "egress", true, i)->message,
                              "HostEndpoint gw1, whose addresses cannot be read (no "
                              "spec.expectedIPs");
    assert_true(said);
    evalfix_release(&f);

    /* Inside the allow-list on the policy's port, or reached by nobody: admitted. */
    evalfix_cluster(&f, pol, hep_yaml(yaml, sizeof(yaml), "gw", "expectedIPs: [10.20.0.9]", np),
                    0, true);
    evalfix_expect_clean(&f);
    evalfix_release(&f);
    evalfix_cluster(&f, pol, hep_yaml(yaml, sizeof(yaml), "other", "expectedIPs: [0.0.0.0/0]", ""),
                    0, true);
    evalfix_expect_clean(&f);
    evalfix_release(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_netset_read_kinds),
        cmocka_unit_test(test_netset_read_errors_are_positioned),
        cmocka_unit_test(test_netset_collect_keeps_unreadable_sets),
        cmocka_unit_test(test_netset_decide_in_ai_namespace),
        cmocka_unit_test(test_netset_decide_through_reaching_policies),
        cmocka_unit_test(test_netset_decide_cidr_group),
        cmocka_unit_test(test_netset_decide_host_endpoint),
    };

    return cmocka_run_group_tests(tests, evalfix_setup_example, evalfix_teardown_policy);
}
