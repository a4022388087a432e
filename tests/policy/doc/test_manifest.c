#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "policy/doc/manifest.h"

static struct manifest *read_text(const char *text)
{
    struct manifest *m = manifest_new();

    assert_non_null(m);
    assert_int_equal(manifest_read_buffer(m, text, strlen(text), "in.yaml"), 0);
    return m;
}

static void test_manifest_read_directory_recursive_sorted(void **state)
{
    struct manifest *m = manifest_new();
    const struct object *o;

    (void)state;
    assert_int_equal(manifest_read(m, "tests/data/manifest/dir"), 0);
    /* a.yaml: Namespace + List of 2 pods; sub/b.json: NetworkPolicyList of 1; broken.yml: error;
     * notes.txt and .hidden/ are not read. */
    assert_int_equal(manifest_n_objects(m), 4);
    o = manifest_object(m, 0);
    assert_string_equal(o->kind, "Namespace");
    assert_string_equal(o->name, "ml-a");
    assert_int_equal(o->line, 1);
    o = manifest_object(m, 2);
    assert_string_equal(o->kind, "Pod");
    assert_string_equal(o->name, "p2");
    assert_string_equal(o->ns, "ml-a");
    assert_int_equal(o->line, 12);
    assert_string_equal(o->file, "tests/data/manifest/dir/a.yaml");
    o = manifest_object(m, 3);
    /* Items of a typed list take kind and apiVersion from the list. */
    assert_string_equal(o->kind, "NetworkPolicy");
    assert_string_equal(o->api_version, "networking.k8s.io/v1");
    assert_string_equal(o->name, "np1");
    assert_int_equal(manifest_n_errors(m), 1);
    assert_string_equal(manifest_error(m, 0)->file, "tests/data/manifest/dir/sub/broken.yml");
    assert_int_equal(manifest_error(m, 0)->line, 2);
    manifest_free(m);
}

static void test_manifest_read_reports_non_objects(void **state)
{
    struct manifest *m = read_text("just some text\n---\n- a\n- b\n---\nmetadata: {}\n---\n"
                                   "kind: List\nitems:\n- metadata: {name: x}\n- 3\n");
    char buf[600];

    (void)state;
    assert_int_equal(manifest_n_objects(m), 0);
    assert_int_equal(manifest_n_errors(m), 5);
    err_format(manifest_error(m, 0), buf, sizeof(buf));
    assert_string_equal(buf, "in.yaml:1:1: not a Kubernetes object: the document is a string, "
                             "not a mapping with apiVersion and kind");
    err_format(manifest_error(m, 1), buf, sizeof(buf));
    assert_string_equal(buf, "in.yaml:3:1: not a Kubernetes object: the document is a list, not "
                             "a mapping with apiVersion and kind");
    err_format(manifest_error(m, 2), buf, sizeof(buf));
    assert_string_equal(buf, "in.yaml:6:1: not a Kubernetes object: no \"kind\"");
    err_format(manifest_error(m, 3), buf, sizeof(buf));
    assert_string_equal(buf, "in.yaml:10:3: list item has no kind");
    err_format(manifest_error(m, 4), buf, sizeof(buf));
    assert_string_equal(buf, "in.yaml:11:3: list item is a number, not a Kubernetes object");
    manifest_free(m);
}

static void test_manifest_read_missing_file(void **state)
{
    struct manifest *m = manifest_new();
    char buf[600];

    (void)state;
    assert_int_equal(manifest_read(m, "tests/data/manifest/nope.yaml"), 0);
    assert_int_equal(manifest_n_errors(m), 1);
    err_format(manifest_error(m, 0), buf, sizeof(buf));
    assert_string_equal(buf,
                        "tests/data/manifest/nope.yaml: cannot open: No such file or directory");
    manifest_free(m);
}

static void test_object_group(void **state)
{
    struct manifest *m = read_text("apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\n---\n"
                                   "apiVersion: v1\nkind: Pod\n");
    char g[64];

    (void)state;
    object_group(manifest_object(m, 0), g, sizeof(g));
    assert_string_equal(g, "cilium.io");
    object_group(manifest_object(m, 1), g, sizeof(g));
    assert_string_equal(g, "");
    manifest_free(m);
}

/* Every real third-party manifest loads; only the three with duplicate keys fail, positioned. */
static void test_manifest_read_corpus(void **state)
{
    struct manifest *m = manifest_new();

    (void)state;
    assert_int_equal(manifest_read(m, "tests/data/corpus/manifests"), 0);
    assert_int_equal(manifest_n_errors(m), 3);
    for (size_t i = 0; i < manifest_n_errors(m); i++) {
        const struct err *e = manifest_error(m, i);
        assert_non_null(strstr(e->file, "openshift-origin"));
        assert_true(e->line > 0 && e->col > 0);
        assert_non_null(strstr(e->msg, "duplicate key \"selector\""));
    }
    assert_int_equal(manifest_n_objects(m), 655);
    for (size_t i = 0; i < manifest_n_objects(m); i++) {
        const struct object *o = manifest_object(m, i);
        assert_true(*o->kind);
        assert_true(o->line > 0);
    }
    manifest_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_manifest_read_directory_recursive_sorted),
        cmocka_unit_test(test_manifest_read_reports_non_objects),
        cmocka_unit_test(test_manifest_read_missing_file),
        cmocka_unit_test(test_object_group),
        cmocka_unit_test(test_manifest_read_corpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
