#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>

#include <cmocka.h>

#include <string.h>

#include "policy/decide.h"
#include "tests/helpers/evalfix.h"

#define NS "tests/data/namespace/namespaces.yaml"

/* Indexes of the objects in namespaces.yaml. */
enum { NO_OWNER, EMPTY_OWNER, GOOD, NOT_AI, LABEL_REMOVED, LABEL_CHANGED, EXEMPT };

static int setup(void **state)
{
    *state = evalfix_policy("tests/data/pod/policy.yaml");
    return 0;
}

static int teardown(void **state)
{
    policy_free(*state);
    return 0;
}

static void test_namespace_decide_required_labels(void **state)
{
    struct evalfix f;

    evalfix_file(&f, *state, NS, NO_OWNER, NULL);
    evalfix_expect(&f, "namespace.requiredLabels", "metadata.labels", 6,
                   "AI namespace \"ml-train\" must carry the label owner, which is missing");
    assert_false(f.v.allowed);
    evalfix_release(&f);

    /* AI by its labels; an empty value does not count. */
    evalfix_file(&f, *state, NS, EMPTY_OWNER, NULL);
    evalfix_expect(&f, "namespace.requiredLabels", "metadata.labels", 13,
                   "AI namespace \"research\" must carry the label owner, which is empty");
    evalfix_release(&f);

    evalfix_file(&f, *state, NS, GOOD, NULL);
    evalfix_expect_clean(&f);
    evalfix_release(&f);

    evalfix_file(&f, *state, NS, NOT_AI, NULL);
    evalfix_expect_clean(&f);
    assert_int_equal(f.v.n_findings, 0);
    evalfix_release(&f);
}

/* Evaluates the UPDATE from GOOD (the old object) to `index`, by `user` in `group`. */
static void update(struct evalfix *f, void **state, size_t index, const char *user,
                   const char *group)
{
    struct request_ctx ctx = {0};
    struct manifest *m = manifest_new();
    json_t *groups = group ? json_pack("[s]", group) : json_array();

    assert_non_null(m);
    assert_non_null(groups);
    assert_int_equal(manifest_read(m, NS), 0);
    ctx.operation = "UPDATE";
    ctx.old_object = manifest_object(m, GOOD)->json;
    ctx.username = user;
    ctx.groups = groups;
    evalfix_file(f, *state, NS, index, &ctx);
    json_decref(groups);
    manifest_free(m);
}

static void test_namespace_decide_enforcement_label(void **state)
{
    struct evalfix f;

    update(&f, state, LABEL_REMOVED, "bob", "developers");
    evalfix_expect(&f, "namespace.enforcementLabel", "metadata.labels[egressguard.io/enforced]",
                   34,
                   "removing the enforcement label egressguard.io/enforced=\"true\" takes AI "
                   "namespace \"ml-train\" out of egressguard's enforcement: only the policy's "
                   "identities may do that, not bob");
    assert_false(f.v.allowed);
    evalfix_release(&f);

    update(&f, state, LABEL_CHANGED, "system:serviceaccount:ml-train:default", NULL);
    evalfix_expect(&f, "namespace.enforcementLabel", "metadata.labels[egressguard.io/enforced]",
                   41, "from \"true\" to \"false\"");
    evalfix_release(&f);

    /* Unchanged label: nothing to say. */
    update(&f, state, GOOD, "bob", NULL);
    evalfix_expect_clean(&f);
    assert_int_equal(f.v.n_findings, 0);
    evalfix_release(&f);
}

static void test_namespace_decide_enforcement_label_exempt_identities(void **state)
{
    static const struct {
        const char *user, *group;
    } who[] = {
        {"alice", NULL},                                         /* identities.users */
        {"carol", "platform-admins"},                            /* identities.groups */
        {"system:serviceaccount:egressguard:egressguard", NULL}, /* identities.serviceAccounts */
    };
    struct evalfix f;
    size_t i;

    for (i = 0; i < sizeof(who) / sizeof(who[0]); i++) {
        const struct finding *x;

        update(&f, state, LABEL_REMOVED, who[i].user, who[i].group);
        evalfix_expect_clean(&f);
        x = evalfix_find(&f, "namespace.enforcementLabel", false, 0);
        assert_non_null(x);
        assert_non_null(strstr(x->message, "removes the enforcement label"));
        assert_non_null(strstr(x->message, who[i].user));
        evalfix_release(&f);
        }
    /* A service account of the same name in another namespace is nobody special. */
    update(&f, state, LABEL_REMOVED, "system:serviceaccount:ml-train:egressguard", NULL);
    assert_false(f.v.allowed);
    evalfix_release(&f);
}

static void test_namespace_decide_exemption_reported(void **state)
{
    struct evalfix f;

    evalfix_file(&f, *state, NS, EXEMPT, NULL);
    evalfix_expect_clean(&f);
    assert_string_equal(f.v.exemption, "INC-1: legacy namespace until 2027");
    assert_int_equal(evalfix_count(&f, "namespace.requiredLabels", true), 0);
    evalfix_release(&f);
}

static void test_namespace_decide_corpus(void **state)
{
    static const char *const dirs[] = {
        "tests/data/corpus/manifests/kubernetes__examples",
        "tests/data/corpus/manifests/kubernetes__website",
        "tests/data/corpus/manifests/slackhq__simple-kubernetes-webhook",
    };
    size_t d, i, n = 0;

    for (d = 0; d < sizeof(dirs) / sizeof(dirs[0]); d++) {
        struct manifest *m = manifest_new();

        assert_non_null(m);
        assert_int_equal(manifest_read(m, dirs[d]), 0);
        for (i = 0; i < manifest_n_objects(m); i++) {
            const struct object *o = manifest_object(m, i);
            struct verdict v;
            struct err e = {0};

            if (strcmp(o->kind, "Namespace") != 0)
                continue;
            verdict_init(&v);
            assert_int_equal(decide_object(*state, o, NULL, &v, &e), 0);
            assert_true(v.evaluated);
            verdict_release(&v);
            n++;
        }
        manifest_free(m);
    }
    assert_true(n >= 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_namespace_decide_required_labels),
        cmocka_unit_test(test_namespace_decide_enforcement_label),
        cmocka_unit_test(test_namespace_decide_enforcement_label_exempt_identities),
        cmocka_unit_test(test_namespace_decide_exemption_reported),
        cmocka_unit_test(test_namespace_decide_corpus),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
