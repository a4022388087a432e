/* Unknown namespace labels (policy/nsunknown.c): a verdict that depends on them fails closed and
 * says why; one that does not is untouched; the opt-out judges as not AI, with a note. */
#include <jansson.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "policy/config/nsdb.h"
#include "policy/model/model.h"
#include "tests/helpers/evalfix.h"

#define HOSTNET_POD                                                                              \
    "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: research, labels: "             \
    "{data-classification: internal}}\nspec:\n  hostNetwork: true\n  containers: [{name: c, "  \
    "image: i}]\n"
#define GPU_POD                                                                                  \
    "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: research, labels: "             \
    "{data-classification: internal}}\nspec:\n  containers:\n  - name: c\n    image: i\n"       \
    "    resources: {limits: {nvidia.com/gpu: 1}}\n"
#define OPEN_NP                                                                                  \
    "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: n, namespace: "   \
    "research}\nspec:\n  podSelector: {matchLabels: {egressguard.io/ai-workload: \"false\", "   \
    "app.kubernetes.io/component: web}}\n  policyTypes: [Egress]\n"     \
    "  egress:\n  - to:\n    - ipBlock: {cidr: 0.0.0.0/0}\n"

struct fixture {
    struct policy *pol;
    struct model *empty;
    struct nsdb view; /* knows no namespace */
};

static int setup(void **state)
{
    static struct fixture f;

    f.pol = evalfix_policy("examples/policy.yaml");
    f.empty = model_new_empty();
    model_nsdb_view(&f.view, f.empty);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    policy_free(f->pol);
    model_unref(f->empty);
    return 0;
}

static void test_nsunknown_denies_what_an_ai_namespace_would_refuse(void **state)
{
    struct fixture *fx = *state;
    struct request_ctx ctx = {.namespaces = &fx->view, .ns_unknown_reason = "not in the test"};
    struct evalfix f;
    const struct finding *x;

    evalfix_text(&f, fx->pol, HOSTNET_POD, 0, &ctx);
    assert_int_equal(f.rc, 0);
    assert_false(f.v.allowed);
    x = evalfix_expect(&f, "namespace.labelsUnknown", "spec.hostNetwork", 5,
                       "the labels of namespace \"research\" are unknown (not in the test): if "
                       "they make it an AI namespace (aiWorkloads.namespaces.selectors), it is "
                       "refused as one: hostNetwork: true puts the pod on the node's network");
    assert_non_null(strstr(x->message, "--namespace-labels-unknown=allow"));
    /* Only the one finding: neither reading's own findings are repeated as if they were known. */
    assert_int_equal(f.v.n_findings, 1);
    evalfix_release(&f);
}

static void test_nsunknown_opt_out_judges_as_not_ai(void **state)
{
    struct fixture *fx = *state;
    struct request_ctx ctx = {.namespaces = &fx->view, .ns_unknown_allow = true};
    struct evalfix f;
    const struct finding *n;

    evalfix_text(&f, fx->pol, HOSTNET_POD, 0, &ctx);
    evalfix_expect_clean(&f);
    assert_true(f.v.allowed);
    n = evalfix_find(&f, "namespace.labelsUnknown", false, 0);
    assert_non_null(n);
    assert_non_null(strstr(n->message, "judged as not an AI namespace "
                                       "(--namespace-labels-unknown=allow)"));
    evalfix_release(&f);
}

/* Known labels decide as before, both ways. */
static void test_nsunknown_known_labels_decide(void **state)
{
    struct fixture *fx = *state;
    struct model_writer *w = model_writer_new();
    json_t *ai = json_pack("{s:s}", "egressguard.io/ai-workload", "true");
    struct request_ctx ctx = {0};
    struct nsdb view;
    struct model *m;
    struct evalfix f;

    assert_int_equal(model_writer_put(w, model_item_namespace("research", ai)), 0);
    m = model_writer_publish(w);
    model_nsdb_view(&view, m);
    ctx.namespaces = &view;
    evalfix_text(&f, fx->pol, HOSTNET_POD, 0, &ctx);
    evalfix_expect(&f, "pod.hostNetwork", "spec.hostNetwork", 5, "AI namespace");
    assert_int_equal(evalfix_count(&f, "namespace.labelsUnknown", true), 0);
    evalfix_release(&f);
    model_unref(m);

    assert_int_equal(model_writer_put(w, model_item_namespace("research", NULL)), 0);
    m = model_writer_publish(w);
    model_nsdb_view(&view, m);
    evalfix_text(&f, fx->pol, HOSTNET_POD, 0, &ctx);
    evalfix_expect_clean(&f);
    assert_int_equal(f.v.n_findings, 0);
    evalfix_release(&f);
    model_unref(m);
    model_writer_free(w);
    json_decref(ai);
}

/* The other direction: an accelerator pod is refused outside AI namespaces. */
static void test_nsunknown_denies_what_a_plain_namespace_would_refuse(void **state)
{
    struct fixture *fx = *state;
    struct request_ctx ctx = {.namespaces = &fx->view, .ns_unknown_reason = "r"};
    struct evalfix f;

    evalfix_text(&f, fx->pol, GPU_POD, 0, &ctx);
    assert_false(f.v.allowed);
    evalfix_expect(&f, "namespace.labelsUnknown",
                   "spec.containers[0].resources.limits[nvidia.com/gpu]", 8,
                   "if they do not make it an AI namespace (aiWorkloads.namespaces.selectors), it "
                   "is refused: requests accelerator nvidia.com/gpu in namespace \"research\"");
    evalfix_release(&f);
}

/* Harmless either way: admitted, nothing said; AI by name: no guessing at all. */
static void test_nsunknown_silent_when_labels_do_not_matter(void **state)
{
    struct fixture *fx = *state;
    struct request_ctx ctx = {.namespaces = &fx->view};
    struct evalfix f;
    const char *plain = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: research, "
                        "labels: {data-classification: internal}}\nspec:\n  containers: [{name: "
                        "c, image: i}]\n";
    const char *by_name = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: ml-a}\n"
                          "spec:\n  hostNetwork: true\n  containers: [{name: c, image: i}]\n";

    evalfix_text(&f, fx->pol, plain, 0, &ctx);
    assert_true(f.v.allowed);
    assert_int_equal(f.v.n_findings, 0);
    evalfix_release(&f);
    evalfix_text(&f, fx->pol, by_name, 0, &ctx);
    evalfix_expect(&f, "pod.hostNetwork", "spec.hostNetwork", 5, "ml-a");
    assert_int_equal(evalfix_count(&f, "namespace.labelsUnknown", true), 0);
    evalfix_release(&f);
    /* No namespace knowledge at all (ctx without a view): by name only, as before. */
    evalfix_text(&f, fx->pol, HOSTNET_POD, 0, NULL);
    evalfix_expect_clean(&f);
    evalfix_release(&f);
}

/* A network policy whose pod selector cannot select AI pods governs AI workloads only if its
 * namespace is an AI namespace: unknown labels, so it is judged as if it were. */
static void test_nsunknown_network_policy(void **state)
{
    struct fixture *fx = *state;
    struct request_ctx ctx = {.namespaces = &fx->view, .ns_unknown_reason = "r"};
    struct evalfix f;

    evalfix_text(&f, fx->pol, OPEN_NP, 0, &ctx);
    assert_false(f.v.allowed);
    evalfix_expect(&f, "namespace.labelsUnknown", "spec.egress[0].to[0].ipBlock", 9,
                   "it is refused as one: 0.0.0.0/0 opens");
    evalfix_release(&f);
    ctx.ns_unknown_allow = true;
    evalfix_text(&f, fx->pol, OPEN_NP, 0, &ctx);
    assert_true(f.v.allowed);
    evalfix_release(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nsunknown_denies_what_an_ai_namespace_would_refuse),
        cmocka_unit_test(test_nsunknown_opt_out_judges_as_not_ai),
        cmocka_unit_test(test_nsunknown_known_labels_decide),
        cmocka_unit_test(test_nsunknown_denies_what_a_plain_namespace_would_refuse),
        cmocka_unit_test(test_nsunknown_silent_when_labels_do_not_matter),
        cmocka_unit_test(test_nsunknown_network_policy),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
