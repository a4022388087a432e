#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "server/output/polreport.h"

static const struct polreport_opts opts = {.policy = "p", .now = 1800000000};

static struct polreport_entry entry(const char *kind, const char *ns, const char *name,
                                    const struct verdict *v)
{
    return (struct polreport_entry){
        .api_version = "networking.k8s.io/v1", .kind = kind, .ns = ns, .name = name, .v = v};
}

static void add(struct verdict *v, const char *rule, enum mode mode, bool violation,
                const char *path, const char *msg, const char *escapes)
{
    assert_int_equal(verdict_add(v, NULL, NULL, rule, mode, violation, path, "%s", msg), 0);
    if (escapes)
        assert_non_null(v->findings[v->n_findings - 1].escapes = strdup(escapes));
}

static const char *str(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));

    assert_non_null(s);
    return s;
}

static json_int_t summary(const json_t *rep, const char *key)
{
    return json_integer_value(json_object_get(json_object_get(rep, "summary"), key));
}

static void test_polreport_build_one_result_per_object_and_rule(void **state)
{
    struct verdict v;
    struct polreport_entry e;
    json_t *rep, *r, *props, *res;

    (void)state;
    verdict_init(&v);
    add(&v, "egress", MODE_ENFORCE, true, "spec.egress[0].to[0].ipBlock", "opens 11.0.0.0/8",
        "11.0.0.0/8 on TCP/443");
    add(&v, "egress", MODE_ENFORCE, false, "spec.egress[0].to[1]", "a note", NULL);
    add(&v, "egress", MODE_ENFORCE, true, "spec.egress[1]", "opens 0.0.0.0/0",
        "0.0.0.0/0 on any protocol/port");
    e = entry("NetworkPolicy", "ml-team", "allow-web", &v);
    e.uid = "u-1";
    rep = polreport_build("ml-team", &e, 1, &opts);
    assert_non_null(rep);
    assert_string_equal(str(rep, "apiVersion"), "wgpolicyk8s.io/v1alpha2");
    assert_string_equal(str(rep, "kind"), "PolicyReport");
    assert_string_equal(str(json_object_get(rep, "metadata"), "namespace"), "ml-team");
    assert_string_equal(str(json_object_get(rep, "metadata"), "name"), "egressguard");
    assert_int_equal(json_array_size(json_object_get(rep, "results")), 1);
    r = json_array_get(json_object_get(rep, "results"), 0);
    assert_string_equal(str(r, "rule"), "egress");
    assert_string_equal(str(r, "result"), "fail");
    assert_string_equal(str(r, "policy"), "p");
    assert_string_equal(str(r, "message"), "spec.egress[0].to[0].ipBlock: opens 11.0.0.0/8; "
                                           "spec.egress[1]: opens 0.0.0.0/0");
    props = json_object_get(r, "properties");
    assert_string_equal(str(props, "mode"), "enforce");
    assert_string_equal(str(props, "paths"), "spec.egress[0].to[0].ipBlock, spec.egress[1]");
    assert_string_equal(str(props, "escapes"),
                        "11.0.0.0/8 on TCP/443; 0.0.0.0/0 on any protocol/port");
    res = json_array_get(json_object_get(r, "resources"), 0);
    assert_string_equal(str(res, "kind"), "NetworkPolicy");
    assert_string_equal(str(res, "namespace"), "ml-team");
    assert_string_equal(str(res, "uid"), "u-1");
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(r, "timestamp"), "seconds")),
        1800000000);
    assert_int_equal(summary(rep, "fail"), 1);
    assert_int_equal(summary(rep, "pass"), 0);
    json_decref(rep);
    verdict_release(&v);
}

static void test_polreport_build_result_classes(void **state)
{
    struct verdict warned, audited, exempt, clean, skipped;
    struct err broken = {.msg = "invalid CIDR", .file = "np.yaml", .line = 4, .col = 9};
    struct polreport_entry e[6];
    const char *want[][2] = {{"pod.hostNetwork", "fail"},
                             {"pod.dns", "warn"},
                             {"exemption.expiring", "warn"},
                             {"input", "error"},
                             {"exemption", "skip"}};
    json_t *rep, *results;

    (void)state;
    verdict_init(&warned);
    verdict_init(&audited);
    verdict_init(&exempt);
    verdict_init(&clean);
    verdict_init(&skipped);
    add(&warned, "pod.dns", MODE_WARN, true, "spec.dnsPolicy", "None", NULL);
    add(&audited, "pod.hostNetwork", MODE_AUDIT, true, "spec.hostNetwork", "on", NULL);
    add(&exempt, "exemption", MODE_ENFORCE, false, "", "exempt: legacy", NULL);
    add(&exempt, "exemption.expiring", MODE_ENFORCE, false, "", "ends soon", NULL);
    add(&clean, "egress", MODE_ENFORCE, false, "spec.egress[0]", "only denied ranges", NULL);
    skipped.evaluated = false;
    e[0] = entry("Pod", "a", "warned", &warned);
    e[1] = entry("Pod", "a", "audited", &audited);
    e[2] = entry("NetworkPolicy", "a", "exempt", &exempt);
    e[3] = entry("NetworkPolicy", "a", "clean", &clean);
    e[4] = entry("NetworkPolicy", "a", "broken", NULL);
    e[4].error = &broken;
    e[5] = entry("ConfigMap", "a", "skipped", &skipped);
    rep = polreport_build("a", e, 6, &opts);
    assert_non_null(rep);
    results = json_object_get(rep, "results");
    /* fail first, then warn, error, skip; notes are not results. */
    assert_int_equal(json_array_size(results), 5);
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(str(json_array_get(results, i), "rule"), want[i][0]);
        assert_string_equal(str(json_array_get(results, i), "result"), want[i][1]);
    }
    assert_string_equal(str(json_array_get(results, 3), "message"), "np.yaml:4:9: invalid CIDR");
    assert_int_equal(summary(rep, "pass"), 1); /* clean; skipped was not evaluated */
    assert_int_equal(summary(rep, "fail"), 1);
    assert_int_equal(summary(rep, "warn"), 2);
    assert_int_equal(summary(rep, "error"), 1);
    assert_int_equal(summary(rep, "skip"), 1);
    json_decref(rep);
    verdict_release(&warned);
    verdict_release(&audited);
    verdict_release(&exempt);
    verdict_release(&clean);
    verdict_release(&skipped);
}

static void test_polreport_build_caps_results_and_counts_all(void **state)
{
    struct verdict v[5];
    struct polreport_entry e[5];
    struct polreport_opts o = opts;
    char names[5][8];
    json_t *rep, *results;

    (void)state;
    for (int i = 0; i < 5; i++) {
        verdict_init(&v[i]);
        /* Warnings come first in the input; failures must still come first in the report. */
        add(&v[i], "egress", i < 3 ? MODE_WARN : MODE_ENFORCE, true, "spec", "x", NULL);
        snprintf(names[i], sizeof(names[i]), "np-%d", i);
        e[i] = entry("NetworkPolicy", "a", names[i], &v[i]);
    }
    o.max_results = 3;
    rep = polreport_build("a", e, 5, &o);
    assert_non_null(rep);
    results = json_object_get(rep, "results");
    assert_int_equal(json_array_size(results), 3);
    assert_string_equal(str(json_array_get(results, 0), "result"), "fail");
    assert_string_equal(str(json_array_get(results, 1), "result"), "fail");
    assert_string_equal(str(json_array_get(results, 2), "result"), "warn");
    assert_int_equal(summary(rep, "fail"), 2);
    assert_int_equal(summary(rep, "warn"), 3);
    assert_string_equal(str(json_object_get(json_object_get(rep, "metadata"), "annotations"),
                            "egressguard.io/results-omitted"),
                        "2");
    json_decref(rep);
    for (int i = 0; i < 5; i++)
        verdict_release(&v[i]);
}

static void test_polreport_build_cluster_report_and_scope_errors(void **state)
{
    struct verdict v;
    struct err broken = {.msg = "did not find expected key", .file = "x.yaml", .line = 2};
    struct polreport_entry e[2];
    json_t *rep, *r;

    (void)state;
    verdict_init(&v);
    add(&v, "egress", MODE_ENFORCE, true, "spec.egress[0]", "opens everything", NULL);
    e[0] = entry("CiliumClusterwideNetworkPolicy", "", "ccnp", &v);
    e[1] = (struct polreport_entry){.error = &broken}; /* a broken file: no object */
    rep = polreport_build("", e, 2, &opts);
    assert_non_null(rep);
    assert_string_equal(str(rep, "kind"), "ClusterPolicyReport");
    assert_null(json_object_get(json_object_get(rep, "metadata"), "namespace"));
    assert_null(json_object_get(json_object_get(rep, "metadata"), "annotations"));
    r = json_array_get(json_object_get(rep, "results"), 0);
    assert_null(json_object_get(json_array_get(json_object_get(r, "resources"), 0), "namespace"));
    r = json_array_get(json_object_get(rep, "results"), 1);
    assert_string_equal(str(r, "result"), "error");
    assert_null(json_object_get(r, "resources"));
    assert_string_equal(str(r, "message"), "x.yaml:2: did not find expected key");
    json_decref(rep);
    verdict_release(&v);
}

static void test_polreport_build_cuts_long_text_on_characters(void **state)
{
    struct verdict v;
    struct polreport_entry e;
    char *msg = malloc(3001);
    const char *got;
    json_t *rep;
    size_t n;

    (void)state;
    assert_non_null(msg);
    for (int i = 0; i < 1000; i++)
        memcpy(msg + 3 * i, "\xe2\x82\xac", 3); /* € */
    msg[3000] = '\0';
    verdict_init(&v);
    add(&v, "egress", MODE_ENFORCE, true, "", msg, msg);
    e = entry("NetworkPolicy", "a", "long", &v);
    rep = polreport_build("a", &e, 1, &opts);
    assert_non_null(rep);
    got = str(json_array_get(json_object_get(rep, "results"), 0), "message");
    n = strlen(got);
    assert_true(n <= 1024 && n > 1000);
    assert_string_equal(got + n - 3, "...");
    assert_int_equal((n - 3) % 3, 0); /* whole characters only */
    got = str(json_object_get(json_array_get(json_object_get(rep, "results"), 0), "properties"),
              "escapes");
    assert_true(strlen(got) <= 1024);
    json_decref(rep);
    verdict_release(&v);
    free(msg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_polreport_build_one_result_per_object_and_rule),
        cmocka_unit_test(test_polreport_build_result_classes),
        cmocka_unit_test(test_polreport_build_caps_results_and_counts_all),
        cmocka_unit_test(test_polreport_build_cluster_report_and_scope_errors),
        cmocka_unit_test(test_polreport_build_cuts_long_text_on_characters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
