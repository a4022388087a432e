#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "policy/doc/manifest.h"
#include "policy/mutate/jsonpatch.h"
#include "policy/mutate/mutate.h"
#include "tests/helpers/evalfix.h"

#define DIR "tests/data/mutate/"

static int setup(void **state)
{
    *state = evalfix_policy(DIR "policy.yaml");
    return 0;
}

static int teardown(void **state)
{
    policy_free(*state);
    return 0;
}

/* Mutates the first object of a manifest text; returns the patch (new ref, NULL if none). */
static json_t *mutate_text(const struct policy *p, const char *text, const char *op, int *rc,
                           struct err *e)
{
    struct manifest *m = manifest_new();
    struct request_ctx ctx = {.operation = op};
    struct verdict v;
    json_t *patch;

    assert_non_null(m);
    assert_int_equal(manifest_read_buffer(m, text, strlen(text), "ns.yaml"), 0);
    assert_int_equal(manifest_n_errors(m), 0);
    verdict_init(&v);
    memset(e, 0, sizeof(*e));
    *rc = mutate_decide(p, manifest_object(m, 0), &ctx, &v, e);
    assert_true(v.allowed);
    assert_int_equal(v.n_findings, 0);
    patch = json_incref(v.patch);
    verdict_release(&v);
    manifest_free(m);
    return patch;
}

/* Mutates a JSON object (no file). */
static json_t *mutate_json(const struct policy *p, json_t *obj)
{
    struct object o;
    struct request_ctx ctx = {0};
    struct verdict v;
    struct err e = {0};
    json_t *patch;

    object_init(&o, obj, NULL);
    verdict_init(&v);
    assert_int_equal(mutate_decide(p, &o, &ctx, &v, &e), 0);
    patch = json_incref(v.patch);
    verdict_release(&v);
    return patch;
}

static void assert_patch(const json_t *patch, const char *want)
{
    char *got = json_dumps(patch, JSON_COMPACT);

    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void test_mutate_decide_creates_absent_maps(void **state)
{
    struct err e;
    int rc;
    json_t *p = mutate_text(*state, "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ml-a\n",
                            "CREATE", &rc, &e);

    assert_int_equal(rc, 0);
    assert_int_equal(json_array_size(p), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(p, 0), "path")),
                        "/metadata/labels");
    assert_string_equal(json_string_value(json_object_get(json_array_get(p, 1), "path")),
                        "/metadata/annotations");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(json_array_get(p, 1), "value"),
                                          MUTATE_ANN_HASH)),
        ((const struct policy *)*state)->hash);
    json_decref(p);
}

static void test_mutate_decide_escapes_slash_and_tilde(void **state)
{
    struct err e;
    int rc;
    json_t *p = mutate_text(*state,
                            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ml-a\n"
                            "  labels: {team.example.com/egress: restricted}\n"
                            "  annotations: {other: x}\n",
                            "UPDATE", &rc, &e);
    char want[1024];

    assert_int_equal(rc, 0);
    snprintf(want, sizeof(want),
             "[{\"op\":\"add\",\"path\":\"/metadata/labels/egressguard.io~1enforced\","
             "\"value\":\"true\"},"
             "{\"op\":\"add\",\"path\":\"/metadata/annotations/example.com~1a~0b\","
             "\"value\":\"tilde\"},"
             "{\"op\":\"add\",\"path\":\"/metadata/annotations/egressguard.io~1profile\","
             "\"value\":\"gpu-training\"},"
             "{\"op\":\"add\",\"path\":\"/metadata/annotations/egressguard.io~1policy-hash\","
             "\"value\":\"%s\"},"
             "{\"op\":\"add\",\"path\":\"/metadata/annotations/egressguard.io~1managed-by\","
             "\"value\":\"egressguard\"}]",
             ((const struct policy *)*state)->hash);
    assert_patch(p, want);
    json_decref(p);
}

/*
 * An UPDATE that drops an enforcement label the namespace had is left for /validate to judge:
 * the mutation does not put it back (that would hide the attempt). A namespace that becomes an
 * AI namespace in an UPDATE still gets the labels it never had.
 */
static void test_mutate_decide_update_leaves_removed_label_to_validation(void **state)
{
    const char *text = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ml-a\n"
                       "  labels: {team: a}\n";
    struct manifest *m = manifest_new();
    json_t *old_with = json_pack("{s:{s:s, s:{s:s, s:s}}}", "metadata", "name", "ml-a", "labels",
                                 "team", "a", "egressguard.io/enforced", "true");
    json_t *old_without = json_pack("{s:{s:s, s:{s:s}}}", "metadata", "name", "ml-a", "labels",
                                    "team", "a");
    struct request_ctx ctx = {.operation = "UPDATE", .old_object = old_with};
    struct verdict v;
    struct err e = {0};
    char *got;

    (void)state;
    assert_int_equal(manifest_read_buffer(m, text, strlen(text), "ns.yaml"), 0);
    verdict_init(&v);
    assert_int_equal(mutate_decide(*state, manifest_object(m, 0), &ctx, &v, &e), 0);
    got = json_dumps(v.patch, JSON_COMPACT);
    /* the label it had is not put back; the one it never had is added; annotations follow */
    assert_null(strstr(got, "/metadata/labels/egressguard.io~1enforced"));
    assert_non_null(strstr(got, "/metadata/labels/team.example.com~1egress"));
    assert_non_null(strstr(got, "\"/metadata/annotations\""));
    free(got);
    verdict_release(&v);

    ctx.old_object = old_without;
    verdict_init(&v);
    assert_int_equal(mutate_decide(*state, manifest_object(m, 0), &ctx, &v, &e), 0);
    got = json_dumps(v.patch, JSON_COMPACT);
    assert_non_null(strstr(got, "\"/metadata/labels/egressguard.io~1enforced\""));
    free(got);
    verdict_release(&v);
    json_decref(old_with);
    json_decref(old_without);
    manifest_free(m);
}

static void test_mutate_decide_idempotent_after_apply(void **state)
{
    static const char *const inputs[] = {
        "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"ml-x\"}}",
        "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"ml-x\","
        "\"labels\":null,\"annotations\":{}}}",
        "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"r\",\"labels\":"
        "{\"egressguard.io/ai-workload\":\"true\",\"egressguard.io/enforced\":\"false\"},"
        "\"annotations\":{\"example.com/a~b\":\"old\",\"egressguard.io/profile\":\"x\"}}}",
        "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"ml-y\","
        "\"annotations\":{\"egressguard.io/managed-by\":\"egressguard\"}}}",
    };

    for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
        json_t *obj = json_loads(inputs[i], 0, NULL), *patched, *again;
        json_t *p;
        struct err e = {0};

        assert_non_null(obj);
        p = mutate_json(*state, obj);
        assert_non_null(p);
        assert_true(json_array_size(p) > 0);
        patched = jsonpatch_apply(obj, p, &e);
        assert_non_null(patched);
        assert_string_equal(json_string_value(json_object_get(
                                json_object_get(json_object_get(patched, "metadata"), "labels"),
                                "egressguard.io/enforced")),
                            "true");
        again = mutate_json(*state, patched);
        assert_non_null(again);
        assert_patch(again, "[]");
        json_decref(again);
        json_decref(patched);
        json_decref(p);
        json_decref(obj);
    }
}

static void test_mutate_decide_skips_what_is_not_ours(void **state)
{
    struct err e;
    int rc;
    json_t *p;

    p = mutate_text(*state, "apiVersion: v1\nkind: Namespace\nmetadata: {name: web}\n", "CREATE",
                    &rc, &e);
    assert_int_equal(rc, 0);
    assert_null(p); /* not an AI namespace */
    p = mutate_text(*state, "apiVersion: v1\nkind: Namespace\nmetadata: {name: ml-a}\n", "DELETE",
                    &rc, &e);
    assert_null(p);
    p = mutate_text(*state, "apiVersion: v1\nkind: Pod\nmetadata: {name: ml-a}\n", "CREATE", &rc,
                    &e);
    assert_null(p);
}

static void test_mutate_decide_rejects_malformed_labels(void **state)
{
    struct err e;
    int rc;
    json_t *p = mutate_text(*state,
                            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ml-a\n"
                            "  annotations: [a]\n",
                            "CREATE", &rc, &e);

    assert_int_equal(rc, -1);
    assert_null(p);
    assert_string_equal(e.msg, "metadata.annotations must be a mapping");
    assert_int_equal(e.line, 5);
    assert_int_equal(e.col, 16);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_mutate_decide_creates_absent_maps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mutate_decide_escapes_slash_and_tilde, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_mutate_decide_update_leaves_removed_label_to_validation,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_mutate_decide_idempotent_after_apply, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_mutate_decide_skips_what_is_not_ours, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_mutate_decide_rejects_malformed_labels, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
