#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* The UPDATE from object `from` to object `to` of file `path` under pol, by user in group. */
static void update_of(struct evalfix *f, const struct policy *pol, const char *path, size_t from,
                      size_t to, const char *user, const char *group)
{
    struct request_ctx ctx = {0};
    struct manifest *m = manifest_new();
    json_t *groups = group ? json_pack("[s]", group) : json_array();

    assert_non_null(m);
    assert_non_null(groups);
    assert_int_equal(manifest_read(m, path), 0);
    ctx.operation = "UPDATE";
    ctx.old_object = manifest_object(m, from)->json;
    ctx.username = user;
    ctx.groups = groups;
    evalfix_file(f, pol, path, to, &ctx);
    json_decref(groups);
    manifest_free(m);
}

/* Evaluates the UPDATE from GOOD (the old object) to `index`, by `user` in `group`. */
static void update(struct evalfix *f, void **state, size_t index, const char *user,
                   const char *group)
{
    update_of(f, *state, NS, GOOD, index, user, group);
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

#define AI_LABELS "tests/data/namespace/ai-labels.yaml"

/* Indexes in ai-labels.yaml: the namespace before, then three UPDATEs of it. */
enum { AI_BEFORE, AI_REMOVED, AI_CHANGED, AI_KEPT };

/*
 * The labels aiWorkloads.namespaces.selectors read make a namespace an AI namespace: on one, only
 * spec.identities may remove or change them, as with the enforcement label.
 */
static void test_namespace_decide_ai_labels_guarded(void **state)
{
    struct evalfix f;
    const struct finding *x;

    update_of(&f, *state, AI_LABELS, AI_BEFORE, AI_REMOVED, "bob", NULL);
    x = evalfix_expect(&f, "namespace.aiLabel", "metadata.labels[egressguard.io/ai-workload]", 17,
                       "removing the label egressguard.io/ai-workload=\"true\" from AI namespace "
                       "\"research\" (aiWorkloads.namespaces.selectors read it to make a "
                       "namespace an AI namespace): only the policy's identities (users alice; "
                       "groups platform-admins; service accounts egressguard/egressguard) may do "
                       "that, not bob");
    assert_int_equal(x->mode, MODE_ENFORCE);
    assert_false(f.v.allowed);
    assert_int_equal(evalfix_count(&f, "namespace.aiLabel", true), 1);
    evalfix_release(&f);

    update_of(&f, *state, AI_LABELS, AI_BEFORE, AI_CHANGED, "bob", NULL);
    evalfix_expect(&f, "namespace.aiLabel", "metadata.labels[egressguard.io/ai-workload]", 25,
                   "changing the label egressguard.io/ai-workload from \"true\" to \"false\" on AI "
                   "namespace \"research\"");
    evalfix_release(&f);

    /* other labels change freely */
    update_of(&f, *state, AI_LABELS, AI_BEFORE, AI_KEPT, "bob", NULL);
    evalfix_expect_clean(&f);
    assert_int_equal(f.v.n_findings, 0);
    evalfix_release(&f);

    /* one of the identities: let through, with a note naming who */
    update_of(&f, *state, AI_LABELS, AI_BEFORE, AI_REMOVED, "alice", NULL);
    evalfix_expect_clean(&f);
    x = evalfix_find(&f, "namespace.aiLabel", false, 0);
    assert_non_null(x);
    assert_string_equal(x->message, "alice removes the label egressguard.io/ai-workload, which "
                                    "aiWorkloads.namespaces.selectors read, of AI namespace "
                                    "\"research\", as one of the policy's identities");
    evalfix_release(&f);

    /* not an AI namespace, before or after: its labels are its own business */
    update_of(&f, *state, AI_LABELS, AI_CHANGED, AI_REMOVED, "bob", NULL);
    evalfix_expect_clean(&f);
    assert_int_equal(evalfix_count(&f, "namespace.aiLabel", false), 0);
    evalfix_release(&f);
    /* becoming one is no threat either */
    update_of(&f, *state, AI_LABELS, AI_REMOVED, AI_BEFORE, "bob", NULL);
    evalfix_expect_clean(&f);
    evalfix_release(&f);
}

/*
 * A selector may make a namespace an AI namespace by a label's absence (NotIn, DoesNotExist):
 * then adding that label takes it out, and is guarded too.
 */
static void test_namespace_decide_ai_label_added(void **state)
{
    static const char policy[] =
        "apiVersion: egressguard.io/v1alpha1\nkind: EgressPolicy\nmetadata: {name: t}\n"
        "spec:\n  aiWorkloads:\n    namespaces:\n      selectors:\n"
        "        - matchExpressions:\n"
        "            - {key: kubernetes.io/metadata.name, operator: In, values: [lab]}\n"
        "            - {key: tier, operator: NotIn, values: [public]}\n"
        "  identities: {users: [alice]}\n";
    static const char ns[] = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: lab\n"
                             "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: lab\n"
                             "  labels: {tier: public}\n"
                             "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: lab\n"
                             "  labels: {tier: internal}\n";
    char path[] = "/tmp/egressguard-test-nsXXXXXX";
    struct err e = {0};
    struct policy *pol = policy_load_buffer(policy, strlen(policy), "p.yaml", &e);
    struct evalfix f;
    int fd = mkstemp(path);

    (void)state;
    assert_non_null(pol);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, ns, strlen(ns)), (int)strlen(ns));
    close(fd);
    update_of(&f, pol, path, 0, 1, "bob", NULL);
    evalfix_expect(&f, "namespace.aiLabel", "metadata.labels[tier]", 10,
                   "adding the label tier=\"public\" takes \"lab\" out of "
                   "aiWorkloads.namespaces.selectors, so it is no longer an AI namespace: only "
                   "the policy's identities (users alice) may do that, not bob");
    evalfix_release(&f);
    /* a label that keeps it an AI namespace */
    update_of(&f, pol, path, 0, 2, "bob", NULL);
    evalfix_expect_clean(&f);
    assert_int_equal(f.v.n_findings, 0);
    evalfix_release(&f);
    unlink(path);
    policy_free(pol);
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
        cmocka_unit_test(test_namespace_decide_ai_labels_guarded),
        cmocka_unit_test(test_namespace_decide_ai_label_added),
        cmocka_unit_test(test_namespace_decide_exemption_reported),
        cmocka_unit_test(test_namespace_decide_corpus),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
