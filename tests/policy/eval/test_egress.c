#include "policy/eval/egress.h"

#include <stdlib.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

static void add_cidr(struct egress_peer *p, const char *text)
{
    struct cidr c;
    struct err e = {0};

    assert_int_equal(cidr_parse(text, CIDR_STRICT, &c, NULL, &e), 0);
    assert_int_equal(cidrset_add(p->cidrs, &c), 0);
}

static char *format(const struct egress_model *m)
{
    struct buf b;

    buf_init(&b, 0);
    assert_int_equal(egress_model_format(m, &b), 0);
    return buf_detach(&b, NULL);
}

static void test_egress_model_format_namespaced(void **state)
{
    struct egress_model m;
    struct egress_rule *r;
    struct egress_peer *p;
    struct err e = {0};
    char *text;

    (void)state;
    egress_model_init(&m);
    m.kind = strdup("NetworkPolicy");
    m.name = strdup("ml-a/web");
    m.ns = strdup("ml-a");
    m.pod_sel = selector_all();
    m.governs_egress = true;
    m.default_deny = true;

    r = egress_model_add_rule(&m, EGRESS_ALLOW, "spec.egress[0]", NULL);
    assert_non_null(r);
    assert_true(portset_is_empty(r->ports));
    assert_int_equal(portset_add_range(r->ports, PROTO_TCP, 443, 443), 0);
    p = egress_rule_add_peer(r, PEER_CIDR, "spec.egress[0].to[0].ipBlock", NULL);
    assert_non_null(p);
    assert_non_null(p->cidrs);
    add_cidr(p, "172.16.0.0/12");
    {
        struct cidrset *ex = cidrset_new();
        struct cidr c;

        assert_int_equal(cidr_parse("172.16.0.0/13", CIDR_STRICT, &c, NULL, &e), 0);
        assert_int_equal(cidrset_add(ex, &c), 0);
        assert_int_equal(cidrset_subtract(p->cidrs, ex), 0);
        cidrset_free(ex);
    }
    assert_int_equal(egress_peer_set_text(p, "%s except %s", "172.16.0.0/12", "172.16.0.0/13"), 0);
    p = egress_rule_add_peer(r, PEER_CLUSTER, "spec.egress[0].to[1]", NULL);
    assert_non_null(p);
    assert_null(p->cidrs);
    p->cluster.ns_name = strdup("ml-a");
    p->cluster.pod_sel = selector_parse("app == 'db'", &e);
    assert_non_null(p->cluster.pod_sel);

    r = egress_model_add_rule(&m, EGRESS_DENY, "spec.egress[1]", NULL);
    assert_non_null(r);
    assert_int_equal(portset_add_proto(r->ports, PROTO_ANY), 0);
    p = egress_rule_add_peer(r, PEER_FQDN, "spec.egress[1].toFQDNs", NULL);
    assert_int_equal(egress_peer_add_fqdn(p, "*.example.com"), 0);
    assert_int_equal(egress_peer_add_fqdn(p, "example.com"), 0);
    p = egress_rule_add_peer(r, PEER_ENTITY, "", NULL);
    p->entity = strdup("kube-apiserver");

    assert_int_equal(egress_model_note(&m, NULL, "spec.egress[0].ports[0]",
                                       "named port \"%s\" is every TCP port", "http"), 0);
    text = format(&m);
    assert_string_equal(text,
                        "model NetworkPolicy ml-a/web\n"
                        "subject ns=ml-a pods=all() egress=governed default-deny\n"
                        "allow spec.egress[0] ports TCP/443\n"
                        "  to cidr 172.24.0.0/13 [spec.egress[0].to[0].ipBlock] "
                        "\"172.16.0.0/12 except 172.16.0.0/13\"\n"
                        "  to cluster ns=ml-a pods=app == \"db\" [spec.egress[0].to[1]]\n"
                        "deny spec.egress[1] ports any protocol/port\n"
                        "  to fqdn *.example.com, example.com [spec.egress[1].toFQDNs]\n"
                        "  to entity kube-apiserver\n"
                        "note spec.egress[0].ports[0]: named port \"http\" is every TCP port\n");
    free(text);
    egress_model_release(&m);
    /* released models are re-initialised: releasing twice is harmless */
    assert_null(m.rules);
    egress_model_release(&m);
}

static void test_egress_model_format_cluster_wide(void **state)
{
    struct egress_model m;
    struct egress_rule *r;
    struct egress_peer *p;
    struct err e = {0};
    char *text;

    (void)state;
    egress_model_init(&m);
    m.kind = strdup("CiliumClusterwideNetworkPolicy");
    m.name = strdup("everything");
    m.path = strdup("specs[1]");
    m.ns_sel = selector_parse("team == 'ml'", &e);
    assert_non_null(m.ns_sel);
    /* NULL pod selector prints as all() */
    m.host_policy = true;
    m.governs_egress = false;
    m.ordered = true;
    m.has_order = true;
    m.order = 12.5;
    r = egress_model_add_rule(&m, EGRESS_PASS, NULL, NULL);
    assert_int_equal(portset_add_range(r->ports, PROTO_UDP, 53, 53), 0);
    assert_int_equal(portset_add_range(r->ports, PROTO_TCP, 8000, 8080), 0);
    p = egress_rule_add_peer(r, PEER_ALL, "specs[1].egress[0]", NULL);
    assert_non_null(p);
    p = egress_rule_add_peer(r, PEER_CLUSTER, NULL, NULL);
    p->cluster.ns_sel = selector_all();
    p = egress_rule_add_peer(r, PEER_UNKNOWN, "x", NULL);
    p->entity = strdup("toServices");
    r = egress_model_add_rule(&m, EGRESS_LOG, "y", NULL);
    text = format(&m);
    assert_string_equal(text,
                        "model CiliumClusterwideNetworkPolicy everything specs[1]\n"
                        "subject namespaces=team == \"ml\" pods=all() host egress=ungoverned "
                        "ordered order=12.5\n"
                        "pass - ports TCP/8000-8080, UDP/53\n"
                        "  to all [specs[1].egress[0]]\n"
                        "  to cluster namespaces=all() pods=all()\n"
                        "  to unknown toServices [x]\n"
                        "log y ports no port\n");
    free(text);
    egress_model_release(&m);
}

static void test_egress_list_add_grows(void **state)
{
    struct egress_list l;
    size_t i;

    (void)state;
    egress_list_init(&l);
    for (i = 0; i < 40; i++) {
        struct egress_model *m = egress_list_add(&l);

        assert_non_null(m);
        assert_null(m->kind);
        assert_int_equal(m->n_rules, 0);
        assert_false(m->governs_egress);
        m->name = strdup(i % 2 ? "odd" : "even");
        assert_non_null(egress_model_add_rule(m, EGRESS_ALLOW, "r", NULL));
    }
    assert_int_equal(l.n, 40);
    assert_string_equal(l.models[39].name, "odd");
    assert_string_equal(l.models[0].rules[0].path, "r");
    egress_list_release(&l);
    assert_int_equal(l.n, 0);
    assert_null(l.models);
}

static void test_egress_peer_copy_is_deep(void **state)
{
    struct egress_model m;
    struct egress_rule *r;
    struct egress_peer *p, copy;
    struct buf b;

    (void)state;
    egress_model_init(&m);
    r = egress_model_add_rule(&m, EGRESS_ALLOW, "r", NULL);
    p = egress_rule_add_peer(r, PEER_CIDR, "r.to[0]", NULL);
    add_cidr(p, "10.0.0.0/8");
    assert_int_equal(egress_peer_set_text(p, "10.0.0.0/8"), 0);
    assert_int_equal(egress_peer_copy(&copy, p), 0);
    egress_model_release(&m); /* the copy must not share anything with the original */
    buf_init(&b, 0);
    assert_int_equal(egress_peer_format(&copy, &b), 0);
    assert_string_equal(buf_str(&b), "cidr 10.0.0.0/8");
    assert_string_equal(copy.path, "r.to[0]");
    assert_string_equal(copy.text, "10.0.0.0/8");
    buf_release(&b);
    egress_peer_release(&copy);
}

/* A model copy owns everything: formatted the same once the original is gone. */
static void test_egress_model_copy_is_deep(void **state)
{
    struct egress_model m, copy;
    struct egress_rule *r;
    struct egress_peer *p;
    struct err e = {0};
    char *want, *got;

    (void)state;
    egress_model_init(&m);
    assert_non_null(m.kind = strdup("NetworkPolicy.projectcalico.org"));
    assert_non_null(m.name = strdup("ml-a/layered"));
    assert_non_null(m.ns = strdup("ml-a"));
    assert_non_null(m.tier = strdup("security"));
    assert_non_null(m.pod_sel = selector_parse("app == 'web'", &e));
    m.governs_egress = m.default_deny = m.ordered = m.has_order = true;
    m.order = 150;
    r = egress_model_add_rule(&m, EGRESS_DENY, "spec.egress[0]", NULL);
    assert_non_null(r);
    assert_int_equal(portset_add_range(r->ports, PROTO_TCP, 443, 443), 0);
    p = egress_rule_add_peer(r, PEER_CIDR, "spec.egress[0].destination", NULL);
    add_cidr(p, "198.51.100.0/24");
    p = egress_rule_add_peer(r, PEER_CLUSTER, "spec.egress[0].destination", NULL);
    assert_non_null(p->cluster.ns_sel = selector_parse("team == 'db'", &e));
    r = egress_model_add_rule(&m, EGRESS_ALLOW, "spec.egress[1]", NULL);
    assert_int_equal(portset_add_proto(r->ports, PROTO_ANY), 0);
    assert_non_null(egress_rule_add_peer(r, PEER_ALL, "spec.egress[1]", NULL));
    assert_int_equal(egress_model_note(&m, NULL, "spec.egress[0]", "a note"), 0);

    want = format(&m);
    assert_int_equal(egress_model_copy(&copy, &m), 0);
    egress_model_release(&m);
    got = format(&copy);
    assert_string_equal(got, want);
    assert_true(strstr(got, "tier=security") && strstr(got, "order=150"));
    free(want);
    free(got);
    egress_model_release(&copy);
}

static void test_egress_names(void **state)
{
    (void)state;
    assert_string_equal(egress_action_name(EGRESS_ALLOW), "allow");
    assert_string_equal(egress_action_name(EGRESS_DENY), "deny");
    assert_string_equal(egress_action_name(EGRESS_PASS), "pass");
    assert_string_equal(egress_action_name(EGRESS_LOG), "log");
    assert_string_equal(egress_peer_kind_name(PEER_ENTITY), "entity");
    assert_string_equal(egress_peer_kind_name(PEER_UNKNOWN), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_egress_model_format_namespaced),
        cmocka_unit_test(test_egress_model_format_cluster_wide),
        cmocka_unit_test(test_egress_list_add_grows),
        cmocka_unit_test(test_egress_peer_copy_is_deep),
        cmocka_unit_test(test_egress_model_copy_is_deep),
        cmocka_unit_test(test_egress_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
