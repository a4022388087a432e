#include "policy/eval/compose.h"

#include <string.h>

#include "policy/base/buf.h"
#include "policy/selector/selector.h"
#include "policy/sets/portset.h"
#include "tests/helpers/invfix.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#define NP INVFIX_NP

/* Policies of three namespaces and a cluster-wide one, in no particular order. */
static const char input[] =
    NP("b1", "ml-b", "{}") NP("a1", "ml-a", "{matchLabels: {app: web}}") NP("c1", "ml-c", "{}")
    "apiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\nmetadata: {name: cw}\n"
    "spec:\n  endpointSelector: {matchLabels: {app: web}}\n  egress:\n"
    "  - toCIDR: [10.20.0.0/16]\n---\n"
    NP("a2", "ml-a", "{}") NP("b2", "ml-b", "{}")
    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: ml-a}\n"
    "spec:\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: []}\n---\n"
    "apiVersion: v1\nkind: Pod\nmetadata: {name: db, namespace: ml-a, labels: {app: db}}\n"
    "spec: {containers: []}\n";

static void names(const struct compose_eval *ev, char *buf, size_t size)
{
    size_t i, len = 0;

    buf[0] = '\0';
    for (i = 0; i < ev->n_parts && len < size; i++)
        len += (size_t)snprintf(buf + len, size - len, "%s%s:%s", i ? " " : "",
                                ev->parts[i].policy->name,
                                ev->parts[i].applies == TRI_TRUE ? "yes" : "maybe");
}

/*
 * The parts of subject s composed over `in` and over `scan` (the same input without an index),
 * which must be the same; into out.
 */
static void same_as_scan(const struct policy *pol, const struct compose_input *in,
                         const struct compose_input *scan, const struct compose_subject *s,
                         char *out, size_t size)
{
    struct compose_eval a, b;
    struct err e = {0};
    char without[256];

    compose_eval_init(&a);
    compose_eval_init(&b);
    assert_int_equal(compose_eval_run(pol, in, NULL, 0, NULL, NULL, s, &a, &e), 0);
    assert_int_equal(compose_eval_run(pol, scan, NULL, 0, NULL, NULL, s, &b, &e), 0);
    names(&a, out, size);
    names(&b, without, sizeof(without));
    assert_string_equal(out, without);
    compose_eval_release(&a);
    compose_eval_release(&b);
}

/* The namespace index changes nothing but the work: the same parts, in input order. */
static void test_compose_index_same_as_scan(void **state)
{
    struct invfix f;
    struct compose_input scan;
    struct compose_subject s = {.ns = "ml-a"};
    struct policy *pol;
    struct err e = {0};
    char with[256];

    (void)state;
    assert_non_null(pol = policy_load("examples/policy.yaml", &e));
    invfix_load(&f, input, "t.yaml", NULL);
    assert_non_null(f.inv.in.by_ns);
    scan = f.inv.in;
    scan.by_ns = NULL;
    same_as_scan(pol, &f.inv.in, &scan, &s, with, sizeof(with));
    assert_string_equal(with, "a1:maybe cw:maybe a2:yes");
    invfix_release(&f);
    policy_free(pol);
}

/* The pod-label index (podindex.h) leaves out only policies that cannot apply. */
static void test_compose_pods_index_same_as_scan(void **state)
{
    static const char *const subjects[] = {"app == 'web'", "app == 'db'", "has(app)", "all()",
                                            "app in {'web', 'db'}"};
    struct invfix f;
    struct compose_input scan;
    struct policy *pol;
    struct err e = {0};

    (void)state;
    assert_non_null(pol = policy_load("examples/policy.yaml", &e));
    invfix_load(&f, input, "t.yaml", NULL);
    assert_non_null(f.inv.in.pods_index);
    scan = f.inv.in;
    scan.pods_index = NULL;
    for (size_t i = 0; i < sizeof(subjects) / sizeof(subjects[0]); i++) {
        struct selector *pods = selector_parse(subjects[i], &e);
        struct compose_subject s = {.ns = "ml-a", .pods = pods};
        char with[256];

        assert_non_null(pods);
        same_as_scan(pol, &f.inv.in, &scan, &s, with, sizeof(with));
        if (i == 1)
            assert_string_equal(with, "a2:yes"); /* a1 and cw pin app=web */
        selector_free(pods);
    }
    invfix_release(&f);
    policy_free(pol);
}

/* Two GlobalNetworkPolicies: one for namespace ml-b only, one for every namespace. */
static const char globals[] =
    "---\napiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: gb}\n"
    "spec:\n  namespaceSelector: projectcalico.org/name == 'ml-b'\n  types: [Egress]\n"
    "  egress: [{action: Allow, destination: {nets: [10.20.0.0/16]}}]\n"
    "---\napiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: gall}\n"
    "spec:\n  namespaceSelector: all()\n  types: [Egress]\n"
    "  egress: [{action: Deny, destination: {nets: [169.254.169.254/32]}}]\n";

/*
 * inventory_focus (explain of one namespace) keeps only ml-a's policies and workloads and the
 * cluster-wide policies that may apply there, and every composition in ml-a is the same as over
 * the whole input: the namespace, one pod selector, each workload.
 */
static void test_compose_focus_same_as_whole(void **state)
{
    struct invfix f;
    struct inventory focused;
    struct policy *pol;
    struct err e = {0};
    struct selector *web = selector_parse("app == 'web'", &e);
    char yaml[sizeof(input) + sizeof(globals)], with[256], names_kept[256] = "";
    struct compose_subject s = {.ns = "ml-a"};

    (void)state;
    assert_non_null(web);
    assert_non_null(pol = policy_load("examples/policy.yaml", &e));
    snprintf(yaml, sizeof(yaml), "%s%s", input, globals);
    invfix_load(&f, yaml, "t.yaml", NULL);
    assert_int_equal(inventory_begin(&focused, true, &e), 0);
    inventory_focus(&focused, "ml-a");
    for (size_t i = 0; i < f.n; i++)
        assert_int_equal(inventory_add(&focused, i, f.objs[i], true, &e), 0);
    assert_int_equal(inventory_end(&focused, NULL, NULL, &e), 0);
    for (size_t i = 0; i < focused.n_policies; i++)
        snprintf(names_kept + strlen(names_kept), sizeof(names_kept) - strlen(names_kept), "%s%s",
                 i ? " " : "", focused.policies[i].name);
    assert_string_equal(names_kept, "a1 cw a2 gall"); /* b1, c1, b2 and gb cannot apply in ml-a */
    assert_int_equal(focused.n_workloads, 2);
    same_as_scan(pol, &focused.in, &f.inv.in, &s, with, sizeof(with));
    assert_string_equal(with, "a1:maybe cw:maybe a2:yes gall:yes");
    s.pods = web;
    same_as_scan(pol, &focused.in, &f.inv.in, &s, with, sizeof(with));
    assert_string_equal(with, "a1:yes cw:yes a2:yes gall:yes");
    s.pods = NULL;
    for (size_t i = 0; i < focused.n_workloads; i++) {
        struct compose_subject w = {.ns = "ml-a", .workload = &focused.workloads[i]};
        struct compose_subject w_whole = {.ns = "ml-a", .workload = &f.inv.workloads[i]};
        struct compose_eval a, b;
        char without[256];

        assert_string_equal(focused.workloads[i].name, f.inv.workloads[i].name);
        compose_eval_init(&a);
        compose_eval_init(&b);
        assert_int_equal(compose_eval_run(pol, &focused.in, NULL, 0, NULL, NULL, &w, &a, &e), 0);
        assert_int_equal(compose_eval_run(pol, &f.inv.in, NULL, 0, NULL, NULL, &w_whole, &b, &e),
                         0);
        names(&a, with, sizeof(with));
        names(&b, without, sizeof(without));
        assert_string_equal(with, without);
        compose_eval_release(&a);
        compose_eval_release(&b);
    }
    inventory_release(&focused);
    invfix_release(&f);
    selector_free(web);
    policy_free(pol);
}

/* A workload's labels decide exactly; a selector subject by subset and overlap. */
static void test_compose_applies(void **state)
{
    struct invfix f;
    struct err e = {0};
    struct selector *web = selector_parse("app == 'web'", &e), *db = selector_parse("app == 'db'", &e);
    const struct compose_policy *a1 = NULL, *cw = NULL;
    struct compose_subject s;

    (void)state;
    assert_non_null(web);
    assert_non_null(db);
    invfix_load(&f, input, "t.yaml", NULL);
    for (size_t i = 0; i < f.inv.n_policies; i++) {
        if (!strcmp(f.inv.policies[i].name, "a1"))
            a1 = &f.inv.policies[i];
        if (!strcmp(f.inv.policies[i].name, "cw"))
            cw = &f.inv.policies[i];
    }
    assert_non_null(a1);
    assert_non_null(cw);
    assert_int_equal(f.inv.n_workloads, 2);
    s = (struct compose_subject){.ns = "ml-a", .workload = &f.inv.workloads[0]};
    assert_int_equal(compose_applies(&f.inv.in, &a1->models->models[0], &s), TRI_TRUE);
    assert_int_equal(compose_applies(&f.inv.in, &cw->models->models[0], &s), TRI_TRUE);
    s.workload = &f.inv.workloads[1]; /* the db pod */
    assert_int_equal(compose_applies(&f.inv.in, &a1->models->models[0], &s), TRI_FALSE);
    s = (struct compose_subject){.ns = "ml-a", .pods = web};
    assert_int_equal(compose_applies(&f.inv.in, &a1->models->models[0], &s), TRI_TRUE);
    s.pods = db;
    assert_int_equal(compose_applies(&f.inv.in, &a1->models->models[0], &s), TRI_FALSE);
    s = (struct compose_subject){.ns = "ml-b", .pods = web};
    assert_int_equal(compose_applies(&f.inv.in, &a1->models->models[0], &s), TRI_FALSE);
    assert_int_equal(compose_applies(&f.inv.in, &cw->models->models[0], &s), TRI_TRUE);
    selector_free(web);
    selector_free(db);
    invfix_release(&f);
}

/* The openings of l, one "peer on ports" per line. */
static void format_list(const struct opening_list *l, struct buf *b)
{
    for (size_t i = 0; i < l->n; i++) {
        egress_peer_format(&l->items[i].peer, b);
        buf_puts(b, " on ");
        portset_format(l->items[i].ports, b);
        buf_puts(b, "\n");
    }
}

/* compose_eval_bounds() of ml-a's pods (every pod: subject NULL) in yaml, as text. */
static void bounds(const char *yaml, const char *pods, const char *want_upper,
                   const char *want_lower, bool want_exact)
{
    struct invfix f;
    struct err e = {0};
    struct selector *sel = pods ? selector_parse(pods, &e) : NULL;
    struct compose_subject s = {.ns = "ml-a", .pods = sel};
    struct compose_eval ev;
    struct opening_list up, lo;
    struct policy *pol;
    struct buf bu, bl;
    bool exact;

    assert_true(!pods || sel);
    assert_non_null(pol = policy_load("examples/policy.yaml", &e));
    invfix_load(&f, yaml, "t.yaml", NULL);
    compose_eval_init(&ev);
    opening_list_init(&up);
    opening_list_init(&lo);
    assert_int_equal(compose_eval_run(pol, &f.inv.in, NULL, 0, NULL, NULL, &s, &ev, &e), 0);
    assert_int_equal(compose_eval_bounds(&ev, &up, &lo, &exact, &e), 0);
    buf_init(&bu, 1 << 16);
    buf_init(&bl, 1 << 16);
    format_list(&up, &bu);
    format_list(&lo, &bl);
    assert_string_equal(buf_str(&bu), want_upper);
    assert_string_equal(buf_str(&bl), want_lower);
    assert_int_equal(exact, want_exact);
    buf_release(&bu);
    buf_release(&bl);
    opening_list_release(&up);
    opening_list_release(&lo);
    compose_eval_release(&ev);
    invfix_release(&f);
    policy_free(pol);
    selector_free(sel);
}

#define CNP(name, sel, rules)                                                                     \
    "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\n"                                     \
    "metadata: {name: " name ", namespace: ml-a}\n"                                             \
    "spec:\n  endpointSelector: " sel "\n" rules "---\n"

/*
 * Upper: what some pod may reach; lower: what every pod surely reaches. A policy that may apply
 * adds to the upper bound only, and its deny takes from the lower one whatever it may match; a
 * pod nothing isolates reaches every destination.
 */
static void test_compose_bounds(void **state)
{
    (void)state;
    /* nothing applies: every destination, both ways */
    bounds("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: ml-a}\n", NULL,
           "all on any protocol/port\n", "all on any protocol/port\n", true);
    /* a policy for app=web only: it may isolate some pods, and opens 10.20.0.0/16 to them */
    bounds(NP("web", "ml-a", "{matchLabels: {app: web}}"), NULL,
           "cidr 10.20.0.0/16 on any protocol/port\nall on any protocol/port\n", "", false);
    /* the same for the web pods: exact */
    bounds(NP("web", "ml-a", "{matchLabels: {app: web}}"), "app == 'web'",
           "cidr 10.20.0.0/16 on any protocol/port\n", "cidr 10.20.0.0/16 on any protocol/port\n",
           true);
    /* a deny that may apply takes only from the lower bound, a name on its ports entirely */
    bounds(NP("all", "ml-a", "{}")
           CNP("names", "{}", "  egress:\n  - toFQDNs: [{matchName: pypi.internal.example.com}]\n"
                              "    toPorts: [{ports: [{port: \"443\", protocol: TCP}]}]\n")
           CNP("guard", "{matchLabels: {app: web}}",
               "  egressDeny:\n  - toCIDR: [10.20.128.0/17]\n"),
           NULL,
           "cidr 10.20.0.0/16 on any protocol/port\nfqdn pypi.internal.example.com on TCP/443\n",
           "cidr 10.20.0.0/17 on any protocol/port\n", false);
}

#define CALICO_A(rules)                                                                           \
    "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: p, namespace: ml-a}\n" \
    "spec:\n  order: 1\n  selector: all()\n  types: [Egress]\n  egress:\n" rules

/*
 * Calico's end of tier and profile: "If the Tier applies to the endpoint, but takes no action on
 * the packet the packet is dropped", and a Pass goes to "the next Tier containing a Policy that
 * applies to the endpoint" (docs.tigera.io/calico/latest/reference/resources/tier), after the
 * last one to the namespace's profile, which allows all (calico.c). A policy that selects the
 * pods isolates them: what it does not match is dropped, not handed to the profile; what it
 * passes is open.
 */
static void test_compose_calico_end_of_tier_and_profile(void **state)
{
    (void)state;
    bounds(CALICO_A("  - action: Allow\n    destination: {nets: [10.20.0.0/16]}\n"), NULL,
           "cidr 10.20.0.0/16 on any protocol/port\n", "cidr 10.20.0.0/16 on any protocol/port\n",
           true);
    bounds(CALICO_A("  - action: Pass\n    protocol: UDP\n"), NULL, "all on UDP/*\n",
           "all on UDP/*\n", true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compose_index_same_as_scan),
        cmocka_unit_test(test_compose_pods_index_same_as_scan),
        cmocka_unit_test(test_compose_focus_same_as_whole),
        cmocka_unit_test(test_compose_applies),
        cmocka_unit_test(test_compose_bounds),
        cmocka_unit_test(test_compose_calico_end_of_tier_and_profile),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
