/* Values not known before `pulumi up` (policy/rules/unknown.c): where they deny, where they
 * cannot matter, and the Pulumi resources that hide their object. Objects come from small
 * preview documents through the manifest reader, as `check` reads them. */
#include <stdio.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "policy/config/policy.h"
#include "policy/decide.h"
#include "policy/doc/manifest.h"
#include "policy/rules/unknown.h"
#include "policy/verdict.h"

#define U "\"04da6b54-80e4-46f7-96ec-b56ff0331ba9\""

struct judged {
    struct policy *pol;
    struct manifest *m;
    struct verdict v;
    struct err e;
    int rc;
};

/* A one-step preview creating a resource of `type` with `inputs`, read, decided and judged. */
static void judge(struct judged *j, const char *type, const char *inputs)
{
    char text[4096];
    struct request_ctx ctx = {.operation = "CREATE"};
    bool failed;

    memset(j, 0, sizeof(*j));
    j->pol = policy_load("tests/data/check/policy.yaml", &j->e);
    assert_non_null(j->pol);
    snprintf(text, sizeof(text),
             "{\"steps\": [{\"op\": \"create\", \"urn\": \"urn:pulumi:dev::p::%s::r\",\n"
             "\"newState\": {\"urn\": \"urn:pulumi:dev::p::%s::r\", \"custom\": true,\n"
             "\"type\": \"%s\",\n\"inputs\": %s}}]}\n",
             type, type, type, inputs);
    j->m = manifest_new();
    assert_int_equal(manifest_read_buffer(j->m, text, strlen(text), "preview.json"), 0);
    assert_int_equal(manifest_n_errors(j->m), 0);
    assert_int_equal(manifest_n_objects(j->m), 1);
    verdict_init(&j->v);
    failed = decide_object(j->pol, manifest_object(j->m, 0), &ctx, &j->v, &j->e) < 0;
    j->rc = unknown_judge(j->pol, manifest_object(j->m, 0), &j->v, failed, &j->e);
}

static void release(struct judged *j)
{
    verdict_release(&j->v);
    manifest_free(j->m);
    policy_free(j->pol);
}

/* The i-th finding of rule "unknown" (NULL when there are fewer). */
static const struct finding *unknown_finding(const struct verdict *v, size_t i)
{
    for (size_t k = 0; k < v->n_findings; k++)
        if (!strcmp(v->findings[k].rule, "unknown") && i-- == 0)
            return &v->findings[k];
    return NULL;
}

static void test_unknown_cidr_denies_instead_of_an_error(void **state)
{
    struct judged j;
    const struct finding *f;

    (void)state;
    judge(&j, "kubernetes:networking.k8s.io/v1:NetworkPolicy",
          "{\"apiVersion\": \"networking.k8s.io/v1\", \"kind\": \"NetworkPolicy\",\n"
          "\"metadata\": {\"name\": \"db\", \"namespace\": \"ml-team\"},\n"
          "\"spec\": {\"podSelector\": {}, \"policyTypes\": [\"Egress\"], \"egress\": [\n"
          "{\"to\": [{\"ipBlock\": {\"cidr\": " U "}}]}]}}");
    assert_int_equal(j.rc, 0);
    assert_false(j.v.allowed);
    f = unknown_finding(&j.v, 0); /* the read error, kept as a note */
    assert_non_null(f);
    assert_false(f->violation);
    assert_non_null(strstr(f->message, "cannot be read as written (spec.egress[0].to[0]."
                                       "ipBlock.cidr: invalid CIDR"));
    f = unknown_finding(&j.v, 1);
    assert_non_null(f);
    assert_true(f->violation);
    assert_string_equal(f->path, "spec.egress[0].to[0].ipBlock.cidr");
    assert_int_equal(f->line, 7);
    assert_non_null(strstr(f->message, "not known until `pulumi up`"));
    release(&j);
}

static void test_unknown_in_evaluated_kind_denies(void **state)
{
    struct judged j;
    const struct finding *f;

    (void)state;
    /* A pod label that may be anything may be the one that makes it an AI workload. */
    judge(&j, "kubernetes:core/v1:Pod",
          "{\"metadata\": {\"name\": \"p\", \"namespace\": \"web\",\n"
          "\"labels\": {\"app.kubernetes.io/component\": " U "}},\n"
          "\"spec\": {\"containers\": [{\"name\": \"c\", \"image\": \"i\"}]}}");
    assert_int_equal(j.rc, 0);
    assert_false(j.v.allowed);
    f = unknown_finding(&j.v, 0);
    assert_non_null(f);
    assert_string_equal(f->path, "metadata.labels.app.kubernetes.io/component");
    assert_int_equal(f->line, 5);
    assert_null(unknown_finding(&j.v, 1));
    release(&j);
}

static void test_unknown_in_kind_not_evaluated_changes_nothing(void **state)
{
    struct judged j;

    (void)state;
    judge(&j, "kubernetes:core/v1:ConfigMap",
          "{\"metadata\": {\"name\": \"c\", \"namespace\": \"ml-team\"},\n"
          "\"data\": {\"endpoint\": " U ", \"token\": \"[secret]\"}}");
    assert_int_equal(j.rc, 0);
    assert_true(j.v.allowed);
    assert_false(j.v.evaluated);
    assert_null(unknown_finding(&j.v, 0));
    release(&j);
}

static void test_unknown_namespace_denies_any_kind(void **state)
{
    struct judged j;
    const struct finding *f;

    (void)state;
    /* Where it lands is unknown: it could be anywhere, an AI namespace included. */
    judge(&j, "kubernetes:core/v1:ConfigMap",
          "{\"metadata\": {\"name\": \"c\", \"namespace\": " U "}}");
    assert_int_equal(j.rc, 0);
    assert_false(j.v.allowed);
    f = unknown_finding(&j.v, 0);
    assert_non_null(f);
    assert_string_equal(f->path, "metadata.namespace");
    release(&j);
}

static void test_unknown_secret_says_secret(void **state)
{
    struct judged j;
    const struct finding *f;

    (void)state;
    judge(&j, "kubernetes:core/v1:Pod",
          "{\"metadata\": {\"name\": \"p\", \"namespace\": \"ml-team\",\n"
          "\"labels\": {\"data-classification\": \"internal\"}},\n"
          "\"spec\": {\"containers\": [{\"name\": \"c\", \"image\": \"i\", \"env\": [\n"
          "{\"name\": \"HTTPS_PROXY\", \"value\": \"[secret]\"}]}]}}");
    assert_int_equal(j.rc, 0);
    assert_false(j.v.allowed);
    f = unknown_finding(&j.v, 0);
    assert_non_null(f);
    assert_string_equal(f->path, "spec.containers[0].env[0].value");
    assert_non_null(strstr(f->message, "a Pulumi secret, which egressguard cannot read"));
    release(&j);
}

static void test_unknown_many_are_counted(void **state)
{
    struct judged j;
    char inputs[2048];
    size_t n = 0;
    const struct finding *f;

    (void)state;
    n += (size_t)snprintf(inputs + n, sizeof(inputs) - n,
                          "{\"metadata\": {\"name\": \"p\", \"namespace\": \"ml-team\",\n"
                          "\"labels\": {\"data-classification\": \"internal\"}},\n"
                          "\"spec\": {\"containers\": [");
    for (int i = 0; i < 11; i++)
        n += (size_t)snprintf(inputs + n, sizeof(inputs) - n,
                              "%s{\"name\": \"c%d\", \"image\": " U "}", i ? ", " : "", i);
    snprintf(inputs + n, sizeof(inputs) - n, "]}}");
    judge(&j, "kubernetes:core/v1:Pod", inputs);
    assert_int_equal(j.rc, 0);
    for (size_t i = 0; i < 8; i++)
        assert_non_null(unknown_finding(&j.v, i));
    f = unknown_finding(&j.v, 8);
    assert_non_null(f);
    assert_string_equal(f->message, "3 more values not known until `pulumi up`");
    assert_null(unknown_finding(&j.v, 9));
    release(&j);
}

static void test_unknown_patch_denies_evaluated_kinds(void **state)
{
    struct judged j;
    const struct finding *f;

    (void)state;
    /* Whole as far as it goes, and inside the allow-list: still only part of an object. */
    judge(&j, "kubernetes:networking.k8s.io/v1:NetworkPolicyPatch",
          "{\"apiVersion\": \"networking.k8s.io/v1\", \"kind\": \"NetworkPolicy\",\n"
          "\"metadata\": {\"name\": \"n\", \"namespace\": \"ml-team\"},\n"
          "\"spec\": {\"podSelector\": {}, \"policyTypes\": [\"Egress\"]}}");
    assert_int_equal(j.rc, 0);
    assert_false(j.v.allowed);
    f = unknown_finding(&j.v, 0);
    assert_non_null(f);
    assert_non_null(strstr(f->message, "NetworkPolicyPatch is a server-side apply patch"));
    release(&j);
    judge(
        &j, "kubernetes:core/v1:ConfigMapPatch",
        "{\"metadata\": {\"name\": \"c\", \"namespace\": \"ml-team\"}, \"data\": {\"a\": \"b\"}}");
    assert_int_equal(j.rc, 0);
    assert_true(j.v.allowed);
    assert_null(unknown_finding(&j.v, 0));
    release(&j);
}

static void test_unknown_helm_release_denies(void **state)
{
    struct judged j;
    const struct finding *f;

    (void)state;
    judge(&j, "kubernetes:helm.sh/v3:Release",
          "{\"chart\": \"vector-db\", \"namespace\": \"ml-team\", \"values\": {}}");
    assert_int_equal(j.rc, 0);
    assert_false(j.v.allowed);
    f = unknown_finding(&j.v, 0);
    assert_non_null(f);
    assert_non_null(strstr(f->message, "a Helm release: the chart's manifests are not in this "
                                       "file"));
    release(&j);
}

static void test_unknown_exemption_stands(void **state)
{
    struct judged j;

    (void)state;
    /* tests/data/check/policy.yaml exempts namespace ml-platform-system. */
    judge(&j, "kubernetes:networking.k8s.io/v1:NetworkPolicy",
          "{\"apiVersion\": \"networking.k8s.io/v1\", \"kind\": \"NetworkPolicy\",\n"
          "\"metadata\": {\"name\": \"n\", \"namespace\": \"ml-platform-system\"},\n"
          "\"spec\": {\"podSelector\": {\"matchLabels\": {\"app\": " U "}}}}");
    assert_int_equal(j.rc, 0);
    assert_true(j.v.allowed);
    assert_non_null(j.v.exemption);
    assert_null(unknown_finding(&j.v, 0));
    release(&j);
}

static void test_unknown_other_sources_untouched(void **state)
{
    static const char text[] = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n"
                               "  namespace: ml-team\n  labels:\n    data-classification: "
                               "\"04da6b54-80e4-46f7-96ec-b56ff0331ba9\"\n"
                               "spec:\n  containers: [{name: c, image: i}]\n";
    struct request_ctx ctx = {.operation = "CREATE"};
    struct err e = {0};
    struct policy *pol = policy_load("tests/data/check/policy.yaml", &e);
    struct manifest *m = manifest_new();
    struct verdict v;

    (void)state;
    assert_non_null(pol);
    assert_int_equal(manifest_read_buffer(m, text, strlen(text), "pod.yaml"), 0);
    verdict_init(&v);
    assert_int_equal(decide_object(pol, manifest_object(m, 0), &ctx, &v, &e), 0);
    assert_int_equal(unknown_judge(pol, manifest_object(m, 0), &v, false, &e), 0);
    assert_true(v.allowed);
    assert_null(unknown_finding(&v, 0));
    /* A failure of an object not from Pulumi stays a failure. */
    assert_int_equal(unknown_judge(pol, manifest_object(m, 0), &v, true, &e), -1);
    verdict_release(&v);
    manifest_free(m);
    policy_free(pol);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unknown_cidr_denies_instead_of_an_error),
        cmocka_unit_test(test_unknown_in_evaluated_kind_denies),
        cmocka_unit_test(test_unknown_in_kind_not_evaluated_changes_nothing),
        cmocka_unit_test(test_unknown_namespace_denies_any_kind),
        cmocka_unit_test(test_unknown_secret_says_secret),
        cmocka_unit_test(test_unknown_many_are_counted),
        cmocka_unit_test(test_unknown_patch_denies_evaluated_kinds),
        cmocka_unit_test(test_unknown_helm_release_denies),
        cmocka_unit_test(test_unknown_exemption_stands),
        cmocka_unit_test(test_unknown_other_sources_untouched),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
