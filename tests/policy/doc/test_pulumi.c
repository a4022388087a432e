/* Pulumi's files as manifests (policy/doc/pulumi.c): shapes detected, Kubernetes resources read
 * with their URN, apiVersion/kind from the type, provider namespaces, deletions and other
 * providers skipped, unknowns and secrets recognised. tests/data/pulumi/ says where the shapes
 * come from. */
#include <stdio.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "policy/doc/manifest.h"
#include "policy/doc/pulumi.h"

#define DIR "tests/data/pulumi/"

static json_t *parse(const char *text)
{
    json_error_t jerr;
    json_t *j = json_loads(text, 0, &jerr);

    assert_non_null(j);
    return j;
}

static void test_pulumi_detect_shapes(void **state)
{
    static const struct {
        const char *json;
        bool pulumi;
    } cases[] = {
        {"{\"steps\": [{\"op\": \"create\", \"urn\": \"urn:pulumi:a::b::t::n\"}]}", true},
        {"{\"steps\": [], \"changeSummary\": {}}", true},
        {"{\"changeSummary\": {\"same\": 3}}", true}, /* a preview without changes */
        {"{\"version\": 3, \"deployment\": {\"resources\": [{\"urn\": \"u\"}]}}", true},
        {"{\"version\": 3, \"deployment\": {\"resources\": []}}", true},
        {"{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": []}", false},
        {"{\"kind\": \"Pod\", \"steps\": []}", false},
        {"{\"steps\": [{\"name\": \"build\"}]}", false},  /* someone else's steps */
        {"{\"deployment\": {\"resources\": []}}", false}, /* no version */
        {"[1, 2]", false},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *j = parse(cases[i].json);
        if (pulumi_detect(j) != cases[i].pulumi)
            fail_msg("case %zu (%s): want %d", i, cases[i].json, cases[i].pulumi);
        json_decref(j);
    }
}

static void test_pulumi_is_unknown(void **state)
{
    static const char *const unknown[] = {
        "\"04da6b54-80e4-46f7-96ec-b56ff0331ba9\"",
        "\"dd056dcd-154b-4c76-9bd3-c8f88648b5ff\"",
        "\"3eeb2bf0-c639-47a8-9e75-3b44932eb421\"",
        "\"[secret]\"",
        ("{\"4dabf18193072939515e22adb298388d\": \"1b47061264138c4ac30d75fd1eb44270\", "
         "\"ciphertext\": \"v1:x\"}"),
    };
    static const char *const known[] = {
        "\"10.0.0.0/8\"",
        "\"04da6b54-80e4-46f7-96ec-b56ff0331ba8\"",
        "{\"a\": 1}",
        "7",
        "[]",
        /* an asset, not a secret */
        "{\"4dabf18193072939515e22adb298388d\": \"c44067f5952c0a294b673a41bacd8c17\"}",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        json_t *j = json_loads(unknown[i], JSON_DECODE_ANY, NULL);
        assert_non_null(j);
        if (!pulumi_is_unknown(j))
            fail_msg("%s should be unknown", unknown[i]);
        json_decref(j);
    }
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        json_t *j = json_loads(known[i], JSON_DECODE_ANY, NULL);
        assert_non_null(j);
        if (pulumi_is_unknown(j))
            fail_msg("%s should be known", known[i]);
        json_decref(j);
    }
    assert_false(pulumi_is_unknown(NULL));
}

static void test_pulumi_urn_type(void **state)
{
    char buf[128];

    (void)state;
    pulumi_urn_type("urn:pulumi:dev::proj::kubernetes:core/v1:Pod::web", buf, sizeof(buf));
    assert_string_equal(buf, "kubernetes:core/v1:Pod");
    /* A child of a component: the type after its parents'. */
    pulumi_urn_type(
        "urn:pulumi:dev::proj::kubernetes:helm.sh/v4:Chart$kubernetes:networking.k8s.io/"
        "v1:NetworkPolicy::c:ns/np",
        buf, sizeof(buf));
    assert_string_equal(buf, "kubernetes:networking.k8s.io/v1:NetworkPolicy");
    pulumi_urn_type("urn:other:x", buf, sizeof(buf));
    assert_string_equal(buf, "");
    pulumi_urn_type("urn:pulumi:dev::proj", buf, sizeof(buf));
    assert_string_equal(buf, "");
}

static struct manifest *read_file(const char *path)
{
    struct manifest *m = manifest_new();

    assert_non_null(m);
    assert_int_equal(manifest_read(m, path), 0);
    return m;
}

static void test_pulumi_read_preview(void **state)
{
    struct manifest *m = read_file(DIR "preview.json");
    const struct object *o;

    (void)state;
    /* The stack, the provider and the AWS resource are not Kubernetes objects; the delete step
     * deploys nothing; the update's oldState is not read. */
    assert_int_equal(manifest_n_errors(m), 0);
    assert_int_equal(manifest_n_objects(m), 5);
    o = manifest_object(m, 0);
    assert_string_equal(o->kind, "Namespace");
    assert_string_equal(o->name, "ml-team");
    assert_string_equal(o->source,
                        "urn:pulumi:dev::ml-platform::kubernetes:core/v1:Namespace::ml-team");
    assert_string_equal(o->file, DIR "preview.json");
    assert_int_equal(o->line, 50); /* where its inputs begin */
    o = manifest_object(m, 2);
    assert_string_equal(o->name, "vector-db");
    o = manifest_object(m, 3);
    /* CustomResource: apiVersion and kind are the inputs' own. */
    assert_string_equal(o->api_version, "cilium.io/v2");
    assert_string_equal(o->kind, "CiliumNetworkPolicy");
    assert_string_equal(o->ns, "ml-team");
    o = manifest_object(m, 4);
    /* No apiVersion, kind or namespace in the inputs: the type gives apiVersion and kind, the
     * provider (inputs.namespace) the namespace. */
    assert_string_equal(o->api_version, "apps/v1");
    assert_string_equal(o->kind, "Deployment");
    assert_string_equal(o->ns, "ml-team");
    assert_string_equal(o->name, "trainer-x7k2p9qa");
    manifest_free(m);
}

static void test_pulumi_read_export(void **state)
{
    struct manifest *m = read_file(DIR "export.json");
    const struct object *o;

    (void)state;
    /* The Chart component deploys nothing itself; its NetworkPolicy child does. The resource
     * marked "delete" is an old copy on its way out. */
    assert_int_equal(manifest_n_errors(m), 0);
    assert_int_equal(manifest_n_objects(m), 5);
    assert_string_equal(manifest_object(m, 0)->kind, "Namespace");
    o = manifest_object(m, 1);
    assert_string_equal(o->kind, "NetworkPolicy");
    assert_string_equal(o->name, "vector-db-egress");
    assert_non_null(strstr(o->source, "Chart$kubernetes:networking.k8s.io/v1:NetworkPolicy::"));
    assert_string_equal(manifest_object(m, 2)->kind, "Secret");
    assert_string_equal(manifest_object(m, 3)->kind, "Pod");
    o = manifest_object(m, 4);
    /* A patch: the kind patched, without the suffix. */
    assert_string_equal(o->kind, "NetworkPolicy");
    assert_non_null(strstr(o->source, "NetworkPolicyPatch::open-dns"));
    manifest_free(m);
}

static void test_pulumi_read_core_type_and_dedup(void **state)
{
    /* A replacement shows one URN in several steps; it is one object. */
    static const char text[] =
        "{\"steps\": [\n"
        "{\"op\": \"create-replacement\", \"urn\": "
        "\"urn:pulumi:s::p::kubernetes:core/v1:Pod::a\",\n"
        " \"newState\": {\"urn\": \"urn:pulumi:s::p::kubernetes:core/v1:Pod::a\", \"custom\": "
        "true,\n"
        "  \"type\": \"kubernetes:core/v1:Pod\", \"inputs\": {\"metadata\": {\"name\": \"a\"}}}},\n"
        "{\"op\": \"replace\", \"urn\": \"urn:pulumi:s::p::kubernetes:core/v1:Pod::a\",\n"
        " \"newState\": {\"urn\": \"urn:pulumi:s::p::kubernetes:core/v1:Pod::a\", \"custom\": "
        "true,\n"
        "  \"type\": \"kubernetes:core/v1:Pod\", \"inputs\": {\"metadata\": {\"name\": \"a\"}}}},\n"
        "{\"op\": \"delete-replaced\", \"urn\": \"urn:pulumi:s::p::kubernetes:core/v1:Pod::a\",\n"
        " \"oldState\": {}}\n"
        "]}\n";
    struct manifest *m = manifest_new();
    const struct object *o;

    (void)state;
    assert_int_equal(manifest_read_buffer(m, text, strlen(text), "p.json"), 0);
    assert_int_equal(manifest_n_objects(m), 1);
    o = manifest_object(m, 0);
    assert_string_equal(o->api_version, "v1"); /* core/v1 is the core API: "v1" */
    assert_string_equal(o->kind, "Pod");
    assert_int_equal(o->line, 4);
    manifest_free(m);
}

static void test_pulumi_read_problems_are_positioned(void **state)
{
    static const char text[] =
        "{\"steps\": [\n"
        "{\"op\": \"create\", \"urn\": \"urn:pulumi:s::p::kubernetes:core/v1:Pod::a\",\n"
        " \"newState\": {\"urn\": \"urn:pulumi:s::p::kubernetes:core/v1:Pod::a\", \"custom\": "
        "true,\n"
        "  \"type\": \"kubernetes:core/v1:Pod\",\n"
        "  \"inputs\": \"04da6b54-80e4-46f7-96ec-b56ff0331ba9\"}},\n"
        "{\"op\": \"create\", \"urn\": \"urn:pulumi:s::p::x::b\", \"newState\": {\"custom\": "
        "true}}\n"
        "]}\n";
    struct manifest *m = manifest_new();
    char buf[600];

    (void)state;
    assert_int_equal(manifest_read_buffer(m, text, strlen(text), "p.json"), 0);
    assert_int_equal(manifest_n_objects(m), 0);
    assert_int_equal(manifest_n_errors(m), 2);
    err_format(manifest_error(m, 0), buf, sizeof(buf));
    assert_string_equal(buf, "p.json:5:13: urn:pulumi:s::p::kubernetes:core/v1:Pod::a: the "
                             "resource's inputs are not known yet (may be anything): check again "
                             "after the resources it depends on exist");
    err_format(manifest_error(m, 1), buf, sizeof(buf));
    assert_string_equal(buf, "p.json:6:62: a Pulumi resource without \"urn\" and \"type\"");
    manifest_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pulumi_detect_shapes),
        cmocka_unit_test(test_pulumi_is_unknown),
        cmocka_unit_test(test_pulumi_urn_type),
        cmocka_unit_test(test_pulumi_read_preview),
        cmocka_unit_test(test_pulumi_read_export),
        cmocka_unit_test(test_pulumi_read_core_type_and_dedup),
        cmocka_unit_test(test_pulumi_read_problems_are_positioned),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
