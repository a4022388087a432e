#include "policy/eval/setres.h"

#include <stdlib.h>
#include <string.h>

#include "policy/cni/netset.h"
#include "policy/cni/readers.h"
#include "policy/doc/manifest.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

/*
 * The manifest text's first object is a policy: it is read, its set references resolved against
 * the sets of the whole text (complete or not), and the peers of its rules returned, one line
 * each: "<rule> <peer format> \"<text>\"".
 */
static char *resolve(const char *yaml, bool complete, const struct nsdb *ns)
{
    struct manifest *m = manifest_new();
    const struct object **objs;
    struct setdb *db = setdb_new();
    struct egress_list l;
    struct err e = {0};
    struct buf b;
    size_t n, i, k, j;
    judge_reader *read;

    assert_non_null(m);
    assert_non_null(db);
    assert_int_equal(manifest_read_buffer(m, yaml, strlen(yaml), "t.yaml"), 0);
    assert_int_equal(manifest_n_errors(m), 0);
    n = manifest_n_objects(m);
    objs = calloc(n, sizeof(*objs));
    assert_non_null(objs);
    for (i = 0; i < n; i++)
        objs[i] = manifest_object(m, i);
    assert_int_equal(netset_collect(db, objs, n, &e), 0);
    setdb_set_complete(db, complete);
    read = readers_find(objs[0]);
    assert_non_null(read);
    egress_list_init(&l);
    if (read(objs[0], &l, &e) < 0)
        fail_msg("read: %d:%d %s", e.line, e.col, e.msg);
    assert_int_equal(setres_apply(&l, db, ns, &e), 0);
    buf_init(&b, 0);
    for (i = 0; i < l.n; i++)
        for (k = 0; k < l.models[i].n_rules; k++)
            for (j = 0; j < l.models[i].rules[k].n_peers; j++) {
                const struct egress_peer *p = &l.models[i].rules[k].peers[j];

                buf_printf(&b, "%s ", l.models[i].rules[k].path);
                egress_peer_format(p, &b);
                buf_printf(&b, " \"%s\"\n", p->text ? p->text : "");
                assert_null(p->setref); /* every reference was resolved */
            }
    egress_list_release(&l);
    setdb_free(db);
    free(objs);
    manifest_free(m);
    return buf_detach(&b, NULL);
}

static void expect(const char *yaml, bool complete, const struct nsdb *ns, const char *want)
{
    char *got = resolve(yaml, complete, ns);

    assert_string_equal(got ? got : "", want);
    free(got);
}

#define NP_ML_A_DB                                                                                \
    "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\n"                                     \
    "metadata: {name: p, namespace: ml-a}\n"                                                      \
    "spec:\n  egress:\n  - action: Allow\n    destination: {selector: role == 'db'}\n"

#define NETSET(ns, name, labels, nets)                                                            \
    "---\napiVersion: projectcalico.org/v3\nkind: NetworkSet\n"                                   \
    "metadata: {name: " name ", namespace: " ns ", labels: " labels "}\n"                         \
    "spec: {nets: " nets "}\n"

/*
 * A namespaced policy's selector reaches the NetworkSets of its own namespace with the labels
 * (libcalico-go getEndpointSelector: namespace confinement; NetworkSets carry
 * projectcalico.org/namespace), not those of another namespace or without the labels.
 */
static void test_setres_calico_namespaced_reaches_own_namespace(void **state)
{
    const char *yaml = NP_ML_A_DB NETSET("ml-a", "ext", "{role: db}", "[8.8.8.0/24]")
        NETSET("ml-b", "other", "{role: db}", "[9.9.9.0/24]")
            NETSET("ml-a", "nolabel", "{}", "[7.7.7.0/24]");

    (void)state;
    expect(yaml, true, NULL,
           "spec.egress[0] cluster ns=ml-a pods=role == \"db\" \"selector role == 'db'\"\n"
           "spec.egress[0] cidr 8.8.8.0/24 \"NetworkSet ml-a/ext (t.yaml:9), reached by "
           "selector role == 'db'\"\n");
    /* Not every set known: what it may also reach is possibly anything. */
    expect(yaml, false, NULL,
           "spec.egress[0] cluster ns=ml-a pods=role == \"db\" \"selector role == 'db'\"\n"
           "spec.egress[0] cidr 8.8.8.0/24 \"NetworkSet ml-a/ext (t.yaml:9), reached by "
           "selector role == 'db'\"\n"
           "spec.egress[0] unknown NetworkSets of namespace ml-a matching role == \"db\" that "
           "this run does not know \"selector role == 'db'\"\n");
}

/* Known to match nothing, with every set known: the reference is gone. */
static void test_setres_complete_and_nothing_reached_drops_reference(void **state)
{
    (void)state;
    expect(NP_ML_A_DB NETSET("ml-a", "web", "{role: web}", "[8.8.8.0/24]"), true, NULL,
           "spec.egress[0] cluster ns=ml-a pods=role == \"db\" \"selector role == 'db'\"\n");
}

/* global(): GlobalNetworkSets and HostEndpoints only (libcalico-go: !has(projectcalico.org/namespace)). */
static void test_setres_calico_global_reaches_global_sets(void **state)
{
    (void)state;
    expect("apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\n"
           "metadata: {name: p, namespace: ml-a}\n"
           "spec:\n  egress:\n  - action: Allow\n"
           "    destination: {namespaceSelector: global(), selector: role == 'db'}\n"
           "---\napiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\n"
           "metadata: {name: g, labels: {role: db}}\nspec: {nets: [1.1.1.1/32]}\n"
           "---\napiVersion: projectcalico.org/v3\nkind: HostEndpoint\n"
           "metadata: {name: h, labels: {role: db}}\nspec: {node: n1, expectedIPs: [192.0.2.7]}\n"
           "---\napiVersion: projectcalico.org/v3\nkind: HostEndpoint\n"
           "metadata: {name: h2, labels: {role: db}}\nspec: {node: n1, interfaceName: eth0}\n"
           NETSET("ml-a", "ns-set", "{role: db}", "[8.8.8.0/24]"),
           true, NULL,
           "spec.egress[0] cidr 1.1.1.1/32 \"GlobalNetworkSet g (t.yaml:9), reached by "
           "namespaceSelector global(), selector role == 'db'\"\n"
           "spec.egress[0] cidr 192.0.2.7/32 \"HostEndpoint h (t.yaml:14), reached by "
           "namespaceSelector global(), selector role == 'db'\"\n"
           "spec.egress[0] unknown HostEndpoint h2, whose addresses cannot be read (no "
           "spec.expectedIPs: its addresses are those of interface eth0 on its node, which are "
           "not known here) \"HostEndpoint h2 (t.yaml:19), reached by namespaceSelector "
           "global(), selector role == 'db'\"\n");
}

/*
 * A namespaceSelector over labels: a set in a namespace whose labels the run knows is reached by
 * them; in one whose labels it does not know, it may be (counted in an allow).
 */
static void test_setres_calico_namespace_labels(void **state)
{
    const char *yaml = "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\n"
                       "metadata: {name: g}\n"
                       "spec:\n  egress:\n  - action: Allow\n"
                       "    destination: {namespaceSelector: team == 'ml', selector: all()}\n"
        NETSET("ml-a", "a", "{}", "[10.1.0.0/16]") NETSET("web", "w", "{}", "[10.2.0.0/16]");
    struct nsdb *ns = nsdb_new();
    json_t *ml = json_pack("{s:s}", "team", "ml"), *web = json_pack("{s:s}", "team", "web");

    (void)state;
    assert_int_equal(nsdb_set(ns, "ml-a", ml), 0);
    expect(yaml, true, ns,
           "spec.egress[0] cluster namespaces=team == \"ml\" pods=all() \"namespaceSelector "
           "team == 'ml', selector all()\"\n"
           "spec.egress[0] cidr 10.1.0.0/16 \"NetworkSet ml-a/a (t.yaml:9), reached by "
           "namespaceSelector team == 'ml', selector all()\"\n"
           "spec.egress[0] cidr 10.2.0.0/16 \"NetworkSet web/w (t.yaml:14), reached by "
           "namespaceSelector team == 'ml', selector all()\"\n");
    assert_int_equal(nsdb_set(ns, "web", web), 0);
    expect(yaml, true, ns,
           "spec.egress[0] cluster namespaces=team == \"ml\" pods=all() \"namespaceSelector "
           "team == 'ml', selector all()\"\n"
           "spec.egress[0] cidr 10.1.0.0/16 \"NetworkSet ml-a/a (t.yaml:9), reached by "
           "namespaceSelector team == 'ml', selector all()\"\n");
    json_decref(ml);
    json_decref(web);
    nsdb_free(ns);
}

/*
 * A set that cannot be read holds unknown addresses; its domains are names (a Calico wildcard
 * spans one or more labels: every name).
 */
static void test_setres_unreadable_set_and_domains(void **state)
{
    (void)state;
    expect(NP_ML_A_DB NETSET("ml-a", "bad", "{role: db}", "[not-a-cidr]")
               "---\napiVersion: projectcalico.org/v3\nkind: NetworkSet\n"
               "metadata: {name: dom, namespace: ml-a, labels: {role: db}}\n"
               "spec: {allowedEgressDomains: [api.example.com, '*.example.org']}\n",
           true, NULL,
           "spec.egress[0] cluster ns=ml-a pods=role == \"db\" \"selector role == 'db'\"\n"
           "spec.egress[0] unknown NetworkSet ml-a/bad, whose addresses cannot be read "
           "(t.yaml:12:15: spec.nets[0]: invalid CIDR \"not-a-cidr\": bad IPv4 address) "
           "\"NetworkSet ml-a/bad (t.yaml:9), reached by selector role == 'db'\"\n"
           "spec.egress[0] fqdn api.example.com, * \"NetworkSet ml-a/dom (t.yaml:14) "
           "(domains), reached by selector role == 'db'\"\n");
}

/*
 * Cilium cidrGroupRef: a known group is its externalCIDRs; a group the run does not know may be
 * created with any address, so it stays unknown even when every group is known.
 */
static void test_setres_cidr_group_by_name_and_selector(void **state)
{
    const char *yaml =
        "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\n"
        "metadata: {name: p, namespace: ml-a}\n"
        "spec:\n  endpointSelector: {}\n  egress:\n  - toCIDRSet:\n"
        "    - cidrGroupRef: partners\n    - cidrGroupRef: missing\n"
        "    - cidrGroupSelector: {matchLabels: {team: ml}}\n"
        "---\napiVersion: cilium.io/v2alpha1\nkind: CiliumCIDRGroup\n"
        "metadata: {name: partners}\nspec: {externalCIDRs: [203.0.113.0/24]}\n"
        "---\napiVersion: cilium.io/v2alpha1\nkind: CiliumCIDRGroup\n"
        "metadata: {name: mlg, labels: {team: ml}}\nspec: {externalCIDRs: [10.30.0.0/24]}\n";

    (void)state;
    expect(yaml, true, NULL,
           "spec.egress[0] cidr 203.0.113.0/24 \"CiliumCIDRGroup partners (t.yaml:12), reached "
           "by cidrGroupRef partners\"\n"
           "spec.egress[0] unknown CiliumCIDRGroup \"missing\", which this run does not know "
           "\"cidrGroupRef missing\"\n"
           "spec.egress[0] cidr 10.30.0.0/24 \"CiliumCIDRGroup mlg (t.yaml:17), reached by "
           "cidrGroupSelector team == \"ml\"\"\n");
    expect(yaml, false, NULL,
           "spec.egress[0] cidr 203.0.113.0/24 \"CiliumCIDRGroup partners (t.yaml:12), reached "
           "by cidrGroupRef partners\"\n"
           "spec.egress[0] unknown CiliumCIDRGroup \"missing\", which this run does not know "
           "\"cidrGroupRef missing\"\n"
           "spec.egress[0] cidr 10.30.0.0/24 \"CiliumCIDRGroup mlg (t.yaml:17), reached by "
           "cidrGroupSelector team == \"ml\"\"\n"
           "spec.egress[0] unknown CiliumCIDRGroups matching team == \"ml\" that this run does "
           "not know \"cidrGroupSelector team == \"ml\"\"\n");
}

/* Nothing known at all (the server without a cluster model): every reference is unknown. */
static void test_setres_no_store_is_unknown(void **state)
{
    struct manifest *m = manifest_new();
    struct egress_list l;
    struct err e = {0};
    const struct egress_peer *p;

    (void)state;
    assert_int_equal(manifest_read_buffer(m, NP_ML_A_DB, strlen(NP_ML_A_DB), "t.yaml"), 0);
    egress_list_init(&l);
    assert_int_equal(readers_find(manifest_object(m, 0))(manifest_object(m, 0), &l, &e), 0);
    assert_int_equal(setres_apply(&l, NULL, NULL, &e), 0);
    assert_int_equal(l.models[0].rules[0].n_peers, 2);
    p = &l.models[0].rules[0].peers[1];
    assert_int_equal(p->kind, PEER_UNKNOWN);
    assert_string_equal(p->entity,
                        "NetworkSets of namespace ml-a matching role == \"db\" that this run "
                        "does not know");
    egress_list_release(&l);
    manifest_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_setres_calico_namespaced_reaches_own_namespace),
        cmocka_unit_test(test_setres_complete_and_nothing_reached_drops_reference),
        cmocka_unit_test(test_setres_calico_global_reaches_global_sets),
        cmocka_unit_test(test_setres_calico_namespace_labels),
        cmocka_unit_test(test_setres_unreadable_set_and_domains),
        cmocka_unit_test(test_setres_cidr_group_by_name_and_selector),
        cmocka_unit_test(test_setres_no_store_is_unknown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
