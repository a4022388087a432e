#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "policy/doc/doc.h"

/* Parses text; on success returns the docs (caller frees), on failure NULL with e set. */
static struct doc **parse(const char *text, size_t *n, struct err *e)
{
    struct doc **docs;

    memset(e, 0, sizeof(*e));
    if (doc_parse_stream(text, strlen(text), "t.yaml", &docs, n, e) < 0)
        return NULL;
    return docs;
}

static void free_docs(struct doc **docs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        doc_free(docs[i]);
    free(docs);
}

static void expect_error(const char *text, const char *msg, int line, int col)
{
    struct err e;
    size_t n;

    assert_null(parse(text, &n, &e));
    assert_string_equal(e.msg, msg);
    assert_string_equal(e.file, "t.yaml");
    assert_int_equal(e.line, line);
    assert_int_equal(e.col, col);
}

static void test_doc_parse_stream_scalars_follow_core_schema(void **state)
{
    struct err e;
    size_t n;
    struct doc **d = parse("a: 1\nb: '1'\nc: true\nd: \"true\"\ne: ~\nf:\ng: on\nh: 1.5\n"
                           "i: 0x1f\nj: -7\nk: 1e3\nl: 12345678901234567890123\nm: .\n",
                           &n, &e);
    json_t *r;

    (void)state;
    assert_non_null(d);
    r = doc_root(d[0]);
    assert_int_equal(json_integer_value(json_object_get(r, "a")), 1);
    assert_string_equal(json_string_value(json_object_get(r, "b")), "1");
    assert_true(json_is_true(json_object_get(r, "c")));
    assert_string_equal(json_string_value(json_object_get(r, "d")), "true");
    assert_true(json_is_null(json_object_get(r, "e")));
    assert_true(json_is_null(json_object_get(r, "f")));
    assert_string_equal(json_string_value(json_object_get(r, "g")), "on");
    assert_true(json_is_real(json_object_get(r, "h")));
    assert_int_equal(json_integer_value(json_object_get(r, "i")), 31);
    assert_int_equal(json_integer_value(json_object_get(r, "j")), -7);
    assert_true(json_is_real(json_object_get(r, "k")));
    assert_string_equal(json_string_value(json_object_get(r, "l")), "12345678901234567890123");
    assert_string_equal(json_string_value(json_object_get(r, "m")), ".");
    free_docs(d, n);
}

static void test_doc_pos_points_at_nodes(void **state)
{
    struct err e;
    size_t n;
    int line, col;
    struct doc **d =
        parse("# c\nkind: Pod\nspec:\n  containers:\n  - name: x\n    image: y\n", &n, &e);
    json_t *r, *c;

    (void)state;
    assert_non_null(d);
    r = doc_root(d[0]);
    assert_int_equal(doc_line(d[0]), 2);
    c = json_array_get(json_object_get(json_object_get(r, "spec"), "containers"), 0);
    assert_true(doc_pos(d[0], c, &line, &col));
    assert_int_equal(line, 5);
    assert_int_equal(col, 5);
    assert_true(doc_pos(d[0], json_object_get(c, "image"), &line, &col));
    assert_int_equal(line, 6);
    assert_int_equal(col, 12);
    assert_false(doc_pos(d[0], json_true(), &line, &col));
    free_docs(d, n);
}

static void test_doc_parse_stream_multi_document_and_empty(void **state)
{
    struct err e;
    size_t n;
    struct doc **d = parse("---\n# only a comment\n---\na: 1\n---\n---\nb: 2\n...\n", &n, &e);

    (void)state;
    assert_non_null(d);
    assert_int_equal(n, 2);
    assert_int_equal(doc_line(d[1]), 7);
    free_docs(d, n);
    memset(&e, 0, sizeof(e));
    assert_int_equal(doc_parse_stream("", 0, "t.yaml", &d, &n, &e), 0);
    assert_int_equal(n, 0);
    free(d);
}

static void test_doc_parse_stream_crlf_and_flow(void **state)
{
    struct err e;
    size_t n;
    int line, col;
    struct doc **d = parse("a: 1\r\nb:\r\n  c: [x, y,]\r\n", &n, &e);

    (void)state;
    assert_non_null(d);
    json_t *c = json_object_get(json_object_get(doc_root(d[0]), "b"), "c");
    assert_int_equal(json_array_size(c), 2);
    assert_true(doc_pos(d[0], c, &line, &col));
    assert_int_equal(line, 3);
    free_docs(d, n);
}

static void test_doc_parse_stream_json(void **state)
{
    struct err e;
    size_t n;
    struct doc **d =
        parse("{\"kind\": \"Pod\", \"n\": 3, \"s\": \"3\", \"l\": [true, null]}", &n, &e);

    (void)state;
    assert_non_null(d);
    assert_int_equal(json_integer_value(json_object_get(doc_root(d[0]), "n")), 3);
    assert_string_equal(json_string_value(json_object_get(doc_root(d[0]), "s")), "3");
    free_docs(d, n);
    expect_error("{\"a\": 1, \"a\": 2}", "duplicate key \"a\" (first at line 1)", 1, 10);
}

static void test_doc_parse_stream_rejects_hazards(void **state)
{
    char deep[512];

    (void)state;
    expect_error("a: 1\nb: 2\na: 3\n", "duplicate key \"a\" (first at line 1)", 3, 1);
    expect_error("a: &x 1\nb: *x\n", "anchors (&x) and aliases are not supported in manifests", 1,
                 4);
    expect_error("a: *x\n", "aliases (*x) are not supported in manifests", 1, 4);
    expect_error("a: !Ref x\n", "unsupported YAML tag \"!Ref\"", 1, 4);
    expect_error("name: {{ .Values.name }}\n",
                 "this looks like a Helm/Go template ({{ ... }}): render it first (helm "
                 "template, kustomize build) and check the output",
                 1, 8);
    expect_error("a: [1, 2\n", "did not find expected ',' or ']' while parsing a flow sequence", 2,
                 1);
    expect_error("a:\n\tb: 1\n",
                 "found character that cannot start any token while scanning "
                 "for the next token",
                 2, 1);
    memset(deep, '[', 150);
    deep[150] = '\0';
    expect_error(deep, "nesting deeper than 100 levels", 1, 101);
}

static void test_doc_parse_stream_rejects_binary(void **state)
{
    static const char bin[] = {'a', ':', ' ', (char)0xff, (char)0xfe, '\n', 0};
    struct err e;
    size_t n;

    (void)state;
    assert_null(parse(bin, &n, &e));
    assert_int_equal(e.line, 1);
    assert_non_null(strstr(e.msg, "UTF-8"));
}

static void test_doc_err_at_falls_back_to_document(void **state)
{
    struct err e;
    size_t n;
    struct doc **d = parse("\n\nkind: Pod\n", &n, &e);

    (void)state;
    memset(&e, 0, sizeof(e));
    err_set(&e, "boom");
    doc_err_at(d[0], json_true(), &e);
    assert_int_equal(e.line, 3);
    assert_int_equal(e.col, 1);
    free_docs(d, n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_doc_parse_stream_scalars_follow_core_schema),
        cmocka_unit_test(test_doc_pos_points_at_nodes),
        cmocka_unit_test(test_doc_parse_stream_multi_document_and_empty),
        cmocka_unit_test(test_doc_parse_stream_crlf_and_flow),
        cmocka_unit_test(test_doc_parse_stream_json),
        cmocka_unit_test(test_doc_parse_stream_rejects_hazards),
        cmocka_unit_test(test_doc_parse_stream_rejects_binary),
        cmocka_unit_test(test_doc_err_at_falls_back_to_document),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
