/* verdict: only an enforced violation denies; findings carry the position of their node. */
#include "policy/verdict.h"

#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

static void test_verdict_only_enforced_violations_deny(void **state)
{
    struct verdict v;

    (void)state;
    verdict_init(&v);
    assert_true(v.allowed);
    assert_true(v.evaluated);
    assert_int_equal(verdict_add(&v, NULL, NULL, "pod.hostNetwork", MODE_WARN, true, "spec",
                                 "warned %d", 1), 0);
    assert_int_equal(verdict_add(&v, NULL, NULL, "pod.hostNetwork", MODE_AUDIT, true, NULL,
                                 "audited"), 0);
    assert_int_equal(verdict_add(&v, NULL, NULL, "egress", MODE_ENFORCE, false, "", "a note"), 0);
    assert_true(v.allowed);
    assert_int_equal(verdict_add(&v, NULL, NULL, "egress", MODE_ENFORCE, true, "spec.egress[0]",
                                 "opens %s", "0.0.0.0/0"), 0);
    assert_false(v.allowed);
    assert_int_equal(v.n_findings, 4);
    assert_string_equal(v.findings[0].message, "warned 1");
    assert_string_equal(v.findings[1].path, ""); /* NULL path reads as "" */
    assert_string_equal(v.findings[3].path, "spec.egress[0]");
    assert_string_equal(v.findings[3].message, "opens 0.0.0.0/0");
    verdict_release(&v);
    /* Released is initialised again: reusable. */
    assert_int_equal(v.n_findings, 0);
    assert_true(v.allowed);
}

static void test_verdict_finding_positions(void **state)
{
    static const char yaml[] = "apiVersion: v1\n"
                               "kind: Pod\n"
                               "metadata: {name: p}\n"
                               "spec:\n"
                               "  dnsPolicy: None\n";
    struct manifest *m = manifest_new();
    const struct object *o;
    struct verdict v;

    (void)state;
    assert_int_equal(manifest_read_buffer(m, yaml, strlen(yaml), "p.yaml"), 0);
    o = manifest_object(m, 0);
    verdict_init(&v);
    verdict_add(&v, o, json_object_get(json_object_get(o->json, "spec"), "dnsPolicy"),
                "pod.dns", MODE_ENFORCE, true, "spec.dnsPolicy", "dns policy None");
    verdict_add(&v, o, NULL, "pod", MODE_ENFORCE, true, "", "no node: the object's line");
    assert_int_equal(v.findings[0].line, 5);
    assert_int_equal(v.findings[0].col, 14);
    assert_int_equal(v.findings[1].line, o->line);
    verdict_release(&v);
    manifest_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verdict_only_enforced_violations_deny),
        cmocka_unit_test(test_verdict_finding_positions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
