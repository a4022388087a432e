/* AdmissionReview decode and encode (server/admission.c). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "policy/verdict.h"
#include "server/webhook/admission.h"

static const char pod_v1[] =
    "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{"
    "\"uid\":\"u-1\",\"kind\":{\"group\":\"\",\"version\":\"v1\",\"kind\":\"Pod\"},"
    "\"namespace\":\"ml-a\",\"operation\":\"CREATE\",\"dryRun\":true,"
    "\"userInfo\":{\"username\":\"alice\",\"groups\":[\"dev\",\"system:authenticated\"]},"
    "\"object\":{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"}}}}";

static int decode(struct admission *a, const char *text, int flags, struct err *e)
{
    return admission_decode(a, text, strlen(text), flags, e);
}

/* The response object of an encoded answer (new reference). */
static json_t *encode(const struct admission *a, const struct verdict *v, const struct err *ev)
{
    size_t len = 0;
    char *text = admission_encode(a, NULL, v, ev, &len);
    json_t *j;

    assert_non_null(text);
    assert_int_equal(len, strlen(text));
    j = json_loads(text, 0, NULL);
    free(text);
    assert_non_null(j);
    return j;
}

static void test_admission_decode_v1(void **state)
{
    struct admission a;
    struct err e = {0};

    (void)state;
    assert_int_equal(decode(&a, pod_v1, 0, &e), 0);
    assert_int_equal(a.version, ADMISSION_V1);
    assert_string_equal(a.uid, "u-1");
    assert_string_equal(a.obj.kind, "Pod");
    assert_string_equal(a.obj.api_version, "v1");
    assert_string_equal(a.obj.ns, "ml-a"); /* from request.namespace: the object has none */
    assert_string_equal(a.obj.name, "p");
    assert_string_equal(a.ctx.operation, "CREATE");
    assert_string_equal(a.ctx.username, "alice");
    assert_int_equal(json_array_size(a.ctx.groups), 2);
    assert_true(a.ctx.dry_run);
    assert_null(a.ctx.old_object);
    admission_release(&a);
}

static void test_admission_decode_v1beta1(void **state)
{
    struct admission a;
    struct err e = {0};
    json_t *j;
    struct verdict v;

    (void)state;
    j = json_loads(pod_v1, 0, NULL);
    json_object_set_new(j, "apiVersion", json_string("admission.k8s.io/v1beta1"));
    assert_int_equal(admission_decode_json(&a, j, 0, &e), 0);
    assert_int_equal(a.version, ADMISSION_V1BETA1);
    verdict_init(&v);
    j = encode(&a, &v, NULL);
    assert_string_equal(json_string_value(json_object_get(j, "apiVersion")),
                        "admission.k8s.io/v1beta1");
    assert_string_equal(json_string_value(json_object_get(j, "kind")), "AdmissionReview");
    json_decref(j);
    verdict_release(&v);
    admission_release(&a);
}

static void test_admission_decode_missing_uid(void **state)
{
    struct admission a;
    struct err e = {0};

    (void)state;
    assert_int_equal(decode(&a,
                            "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","
                            "\"request\":{\"kind\":{\"kind\":\"Pod\"},\"object\":{}}}",
                            0, &e),
                     -1);
    assert_string_equal(e.msg, "missing request.uid");
    assert_null(a.root);
}

static void test_admission_decode_malformed(void **state)
{
    struct admission a;
    struct err e = {0};

    (void)state;
    assert_int_equal(decode(&a, "{\"apiVersion\":\n  ,}", 0, &e), -1);
    assert_non_null(strstr(e.msg, "malformed JSON at line 2 column 3"));
}

static void test_admission_decode_wrong_version(void **state)
{
    struct admission a;
    struct err e = {0};

    (void)state;
    assert_int_equal(decode(&a, "{\"apiVersion\":\"admission.k8s.io/v2\",\"kind\":\"AdmissionReview\","
                                "\"request\":{\"uid\":\"x\"}}",
                            0, &e),
                     -1);
    assert_string_equal(e.msg, "unsupported apiVersion \"admission.k8s.io/v2\" (want "
                               "admission.k8s.io/v1 or v1beta1)");
    assert_int_equal(decode(&a, "{\"apiVersion\":\"v1\",\"kind\":\"Pod\"}", 0, &e), -1);
    assert_string_equal(e.msg, "kind must be AdmissionReview, not \"Pod\"");
    assert_int_equal(decode(&a, "[1]", 0, &e), -1);
    assert_string_equal(e.msg, "the body must be a JSON object (an AdmissionReview)");
}

static void test_admission_decode_bare_request(void **state)
{
    static const char bare[] = "{\"uid\":\"b-1\",\"kind\":{\"group\":\"apps\",\"version\":\"v1\","
                               "\"kind\":\"Deployment\"},\"operation\":\"CREATE\",\"namespace\":"
                               "\"default\",\"object\":{\"metadata\":{\"name\":\"d\"}}}";
    struct admission a;
    struct err e = {0};

    (void)state;
    assert_int_equal(decode(&a, bare, 0, &e), -1); /* the server wants a whole review */
    assert_string_equal(e.msg, "kind must be AdmissionReview, not \"\"");
    assert_int_equal(decode(&a, bare, ADMISSION_ALLOW_BARE, &e), 0);
    assert_int_equal(a.version, ADMISSION_BARE);
    assert_string_equal(a.uid, "b-1");
    /* The object has no apiVersion/kind: they come from request.kind. */
    assert_string_equal(a.obj.kind, "Deployment");
    assert_string_equal(a.obj.api_version, "apps/v1");
    assert_string_equal(a.obj.ns, "default");
    admission_release(&a);
}

static void test_admission_decode_delete_uses_old_object(void **state)
{
    struct admission a;
    struct err e = {0};

    (void)state;
    assert_int_equal(
        decode(&a,
               "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{"
               "\"uid\":\"d-1\",\"kind\":{\"group\":\"\",\"version\":\"v1\",\"kind\":\"Pod\"},"
               "\"operation\":\"DELETE\",\"namespace\":\"ml-a\",\"name\":\"gone\",\"object\":null,"
               "\"oldObject\":{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":"
               "\"gone\",\"labels\":{\"a\":\"b\"}}}}}",
               0, &e),
        0);
    assert_string_equal(a.obj.name, "gone");
    assert_non_null(json_object_get(json_object_get(a.obj.json, "metadata"), "labels"));
    assert_ptr_equal(a.ctx.old_object, a.obj.json);
    admission_release(&a);
}

static void test_admission_decode_missing_object(void **state)
{
    struct admission a;
    struct err e = {0};

    (void)state;
    assert_int_equal(decode(&a, "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","
                                "\"request\":{\"uid\":\"m\",\"operation\":\"CREATE\","
                                "\"kind\":{\"kind\":\"Pod\"}}}",
                            0, &e),
                     -1);
    assert_string_equal(e.msg, "missing request.object for operation CREATE");
    assert_int_equal(decode(&a, "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","
                                "\"request\":{\"uid\":\"m\",\"operation\":\"CREATE\","
                                "\"object\":[1]}}",
                            0, &e),
                     -1);
    assert_string_equal(e.msg, "request.object must be an object");
}

/* A review whose request part is `request` (a JSON object's members, without braces). */
static int decode_request(struct admission *a, const char *request, struct err *e)
{
    char text[2048];

    snprintf(text, sizeof(text),
             "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","
             "\"request\":{\"uid\":\"x-1\",%s}}",
             request);
    return decode(a, text, 0, e);
}

#define NETPOL_KIND "\"kind\":{\"group\":\"networking.k8s.io\",\"version\":\"v1\"," \
                    "\"kind\":\"NetworkPolicy\"}"

static void test_admission_decode_parts_disagree(void **state)
{
    static const struct {
        const char *request, *msg;
    } cases[] = {
        {NETPOL_KIND ",\"namespace\":\"ml-a\",\"operation\":\"CREATE\",\"object\":{"
                     "\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"x\"}}",
         "parts disagree: request.kind.kind is \"NetworkPolicy\" but request.object.kind is "
         "\"ConfigMap\""},
        {NETPOL_KIND ",\"namespace\":\"ml-a\",\"operation\":\"CREATE\",\"object\":{"
                     "\"apiVersion\":\"cilium.io/v1\",\"kind\":\"NetworkPolicy\"}",
         "parts disagree: request.kind is group \"networking.k8s.io\" version \"v1\" but "
         "request.object.apiVersion is \"cilium.io/v1\""},
        {NETPOL_KIND ",\"namespace\":\"ml-a\",\"operation\":\"CREATE\",\"object\":{"
                     "\"apiVersion\":\"networking.k8s.io/v1beta1\",\"kind\":\"NetworkPolicy\"}",
         "parts disagree: request.kind is group \"networking.k8s.io\" version \"v1\" but "
         "request.object.apiVersion is \"networking.k8s.io/v1beta1\""},
        {NETPOL_KIND ",\"namespace\":\"default\",\"operation\":\"CREATE\",\"object\":{"
                     "\"kind\":\"NetworkPolicy\",\"metadata\":{\"namespace\":\"ml-a\"}}",
         "parts disagree: request.namespace is \"default\" but request.object.metadata.namespace "
         "is \"ml-a\""},
        {NETPOL_KIND ",\"operation\":\"CREATE\",\"object\":{\"metadata\":{\"namespace\":\"ml-a\"}}",
         "parts disagree: request.namespace is \"\" but request.object.metadata.namespace is "
         "\"ml-a\""},
        {NETPOL_KIND ",\"namespace\":\"ml-a\",\"operation\":\"UPDATE\",\"object\":{},"
                     "\"oldObject\":{\"metadata\":{\"namespace\":\"default\"}}",
         "parts disagree: request.namespace is \"ml-a\" but request.oldObject.metadata.namespace "
         "is \"default\""},
        {NETPOL_KIND ",\"namespace\":\"ml-a\",\"operation\":\"DELETE\",\"oldObject\":{"
                     "\"kind\":\"Pod\"}",
         "parts disagree: request.kind.kind is \"NetworkPolicy\" but request.oldObject.kind is "
         "\"Pod\""},
        {NETPOL_KIND ",\"namespace\":\"ml-a\",\"operation\":\"CREATE\",\"object\":{},"
                     "\"oldObject\":{}",
         "parts disagree: request.oldObject is set for operation CREATE"},
        /* before: judged on the oldObject, as if it were what CREATE stores */
        {NETPOL_KIND ",\"namespace\":\"ml-a\",\"operation\":\"CREATE\",\"oldObject\":{}",
         "missing request.object for operation CREATE"},
        {NETPOL_KIND ",\"namespace\":\"ml-a\",\"operation\":\"UPDATE\",\"oldObject\":{}",
         "missing request.object for operation UPDATE"},
    };
    struct admission a;
    struct err e;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(&e, 0, sizeof(e));
        assert_int_equal(decode_request(&a, cases[i].request, &e), -1);
        assert_string_equal(e.msg, cases[i].msg);
    }
}

/* What agrees, or is only absent, decodes: the object view is completed from the request. */
static void test_admission_decode_parts_agree(void **state)
{
    static const char *const ok[] = {
        NETPOL_KIND ",\"namespace\":\"ml-a\",\"operation\":\"CREATE\",\"object\":{"
                    "\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"NetworkPolicy\","
                    "\"metadata\":{\"name\":\"p\",\"namespace\":\"ml-a\"}}",
        NETPOL_KIND ",\"namespace\":\"ml-a\",\"operation\":\"CREATE\",\"object\":{\"metadata\":{}}",
        NETPOL_KIND ",\"namespace\":\"ml-a\",\"operation\":\"UPDATE\",\"object\":{},"
                    "\"oldObject\":{\"kind\":\"NetworkPolicy\",\"metadata\":{\"namespace\":\"ml-a\"}}",
        NETPOL_KIND ",\"namespace\":\"ml-a\",\"operation\":\"DELETE\",\"oldObject\":{}",
        /* a Namespace's own CREATE carries its name as request.namespace, the object none */
        "\"kind\":{\"group\":\"\",\"version\":\"v1\",\"kind\":\"Namespace\"},\"namespace\":"
        "\"ml-a\",\"operation\":\"CREATE\",\"object\":{\"apiVersion\":\"v1\",\"kind\":"
        "\"Namespace\",\"metadata\":{\"name\":\"ml-a\"}}",
    };
    struct admission a;
    struct err e = {0};

    (void)state;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        if (decode_request(&a, ok[i], &e) != 0)
            fail_msg("case %zu: %s", i, e.msg);
        assert_string_equal(a.obj.ns, "ml-a");
        admission_release(&a);
    }
}

static void test_admission_decode_uid_too_long(void **state)
{
    char text[1024], uid[300];
    struct admission a;
    struct err e = {0};

    (void)state;
    memset(uid, 'u', sizeof(uid) - 1);
    uid[sizeof(uid) - 1] = '\0';
    snprintf(text, sizeof(text),
             "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{"
             "\"uid\":\"%s\",\"kind\":{\"kind\":\"Pod\"}}}",
             uid);
    assert_int_equal(decode(&a, text, 0, &e), -1);
    assert_string_equal(e.msg, "request.uid is longer than 256 bytes");
}

static void test_admission_encode_allowed(void **state)
{
    struct admission a;
    struct err e = {0};
    struct verdict v;
    json_t *j, *r;

    (void)state;
    assert_int_equal(decode(&a, pod_v1, 0, &e), 0);
    verdict_init(&v);
    j = encode(&a, &v, NULL);
    r = json_object_get(j, "response");
    assert_string_equal(json_string_value(json_object_get(r, "uid")), "u-1");
    assert_true(json_is_true(json_object_get(r, "allowed")));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "status"), "code")), 200);
    assert_null(json_object_get(r, "warnings"));
    assert_null(json_object_get(r, "patch"));
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(r, "auditAnnotations"), "verdict")),
        "allow");
    json_decref(j);
    verdict_release(&v);
    admission_release(&a);
}

static void test_admission_encode_denied(void **state)
{
    struct admission a;
    struct err e = {0};
    struct verdict v;
    json_t *j, *r, *st;

    (void)state;
    assert_int_equal(decode(&a, pod_v1, 0, &e), 0);
    verdict_init(&v);
    assert_int_equal(verdict_add(&v, &a.obj, NULL, "pod.hostNetwork", MODE_ENFORCE, true,
                                 "spec.hostNetwork", "hostNetwork bypasses egress policies"),
                     0);
    assert_int_equal(verdict_add(&v, &a.obj, NULL, "egress", MODE_ENFORCE, true,
                                 "spec.egress[0].to[0].ipBlock", "0.0.0.0/0 is outside the "
                                 "allow-list"),
                     0);
    j = encode(&a, &v, NULL);
    r = json_object_get(j, "response");
    st = json_object_get(r, "status");
    assert_true(json_is_false(json_object_get(r, "allowed")));
    assert_int_equal(json_integer_value(json_object_get(st, "code")), 403);
    assert_string_equal(json_string_value(json_object_get(st, "message")),
                        "egressguard denied Pod ml-a/p: spec.hostNetwork: hostNetwork bypasses "
                        "egress policies; spec.egress[0].to[0].ipBlock: 0.0.0.0/0 is outside the "
                        "allow-list");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(r, "auditAnnotations"), "verdict")),
        "deny");
    json_decref(j);
    verdict_release(&v);
    admission_release(&a);
}

/* The response is written by hand: quotes, backslashes, control characters and UTF-8 in a
 * message must come back intact through a real JSON parser. */
static void test_admission_encode_escapes(void **state)
{
    static const char tricky[] = "a \"quoted\" \\path\\ on\nlines\tand \x01 and caf\xc3\xa9 /";
    struct admission a;
    struct err e = {0};
    struct verdict v;
    json_t *j, *r;
    char want[256];

    (void)state;
    assert_int_equal(decode(&a, pod_v1, 0, &e), 0);
    verdict_init(&v);
    assert_int_equal(verdict_add(&v, &a.obj, NULL, "egress", MODE_WARN, true, "", "%s", tricky),
                     0);
    j = encode(&a, &v, NULL);
    r = json_object_get(j, "response");
    snprintf(want, sizeof(want), "egressguard: %s", tricky);
    assert_string_equal(json_string_value(json_array_get(json_object_get(r, "warnings"), 0)),
                        want);
    snprintf(want, sizeof(want), "[warn egress] %s", tricky);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(r, "auditAnnotations"), "findings")),
        want);
    json_decref(j);
    verdict_release(&v);
    admission_release(&a);
}

static void test_admission_encode_warning_truncated(void **state)
{
    struct admission a;
    struct err e = {0};
    struct verdict v;
    json_t *j, *w;
    const char *s;

    (void)state;
    assert_int_equal(decode(&a, pod_v1, 0, &e), 0);
    verdict_init(&v);
    assert_int_equal(verdict_add(&v, &a.obj, NULL, "egress", MODE_WARN, true, "spec.egress",
                                 "%0150d", 7),
                     0);
    assert_int_equal(verdict_add(&v, &a.obj, NULL, "egress", MODE_AUDIT, true, "spec", "audit"),
                     0);
    j = encode(&a, &v, NULL);
    w = json_object_get(json_object_get(j, "response"), "warnings");
    assert_int_equal(json_array_size(w), 1); /* audit findings are not warnings */
    s = json_string_value(json_array_get(w, 0));
    assert_true(strlen(s) < 120);
    assert_string_equal(s + strlen(s) - 3, "...");
    assert_int_equal(strncmp(s, "egressguard: spec.egress: 000", 29), 0);
    assert_true(json_is_true(json_object_get(json_object_get(j, "response"), "allowed")));
    json_decref(j);
    verdict_release(&v);
    admission_release(&a);
}

/* Many warn findings: the first 16 as warnings, the rest counted in one more. */
static void test_admission_encode_warnings_limited(void **state)
{
    struct admission a;
    struct err e = {0};
    struct verdict v;
    json_t *j, *w;

    (void)state;
    assert_int_equal(decode(&a, pod_v1, 0, &e), 0);
    verdict_init(&v);
    for (int i = 0; i < 40; i++)
        assert_int_equal(
            verdict_add(&v, &a.obj, NULL, "egress", MODE_WARN, true, "", "warning %d", i), 0);
    j = encode(&a, &v, NULL);
    w = json_object_get(json_object_get(j, "response"), "warnings");
    assert_int_equal(json_array_size(w), 17);
    assert_string_equal(json_string_value(json_array_get(w, 15)), "egressguard: warning 15");
    assert_string_equal(json_string_value(json_array_get(w, 16)), "egressguard: 24 more warnings");
    json_decref(j);
    verdict_release(&v);
    admission_release(&a);
}

static void test_admission_encode_eval_error_denies(void **state)
{
    struct admission a;
    struct err e = {0}, ev = {0};
    struct verdict v;
    json_t *j, *r;

    (void)state;
    assert_int_equal(decode(&a, pod_v1, 0, &e), 0);
    verdict_init(&v); /* allowed = true: the error must still deny */
    err_set(&ev, "spec.containers must be an array");
    j = encode(&a, &v, &ev);
    r = json_object_get(j, "response");
    assert_true(json_is_false(json_object_get(r, "allowed")));
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(r, "status"), "message")),
        "egressguard denied Pod ml-a/p: the object cannot be evaluated: spec.containers must be "
        "an array");
    assert_string_equal(admission_verdict_word(&v, &ev), "error");
    json_decref(j);
    verdict_release(&v);
    admission_release(&a);
}

static void test_admission_encode_patch(void **state)
{
    struct admission a;
    struct err e = {0};
    struct verdict v;
    json_t *j, *r;

    (void)state;
    assert_int_equal(decode(&a, pod_v1, 0, &e), 0);
    verdict_init(&v);
    v.patch = json_pack("[{s:s, s:s, s:s}]", "op", "add", "path", "/a", "value", "b");
    j = encode(&a, &v, NULL);
    r = json_object_get(j, "response");
    assert_string_equal(json_string_value(json_object_get(r, "patchType")), "JSONPatch");
    /* base64 of [{"op":"add","path":"/a","value":"b"}] */
    assert_string_equal(json_string_value(json_object_get(r, "patch")),
                        "W3sib3AiOiJhZGQiLCJwYXRoIjoiL2EiLCJ2YWx1ZSI6ImIifV0=");
    json_decref(j);
    json_decref(v.patch);
    v.patch = json_array(); /* an empty patch is no patch */
    j = encode(&a, &v, NULL);
    assert_null(json_object_get(json_object_get(j, "response"), "patchType"));
    json_decref(j);
    verdict_release(&v);
    admission_release(&a);
}

static void test_admission_base64_vectors(void **state)
{
    static const char *const in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const want[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=",
                                       "Zm9vYmFy"};

    (void)state;
    for (size_t i = 0; i < 7; i++) {
        char *s = admission_base64((const unsigned char *)in[i], strlen(in[i]));
        assert_string_equal(s, want[i]);
        free(s);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_admission_decode_v1),
        cmocka_unit_test(test_admission_decode_v1beta1),
        cmocka_unit_test(test_admission_decode_missing_uid),
        cmocka_unit_test(test_admission_decode_malformed),
        cmocka_unit_test(test_admission_decode_wrong_version),
        cmocka_unit_test(test_admission_decode_bare_request),
        cmocka_unit_test(test_admission_decode_delete_uses_old_object),
        cmocka_unit_test(test_admission_decode_missing_object),
        cmocka_unit_test(test_admission_decode_parts_disagree),
        cmocka_unit_test(test_admission_decode_parts_agree),
        cmocka_unit_test(test_admission_decode_uid_too_long),
        cmocka_unit_test(test_admission_encode_allowed),
        cmocka_unit_test(test_admission_encode_denied),
        cmocka_unit_test(test_admission_encode_escapes),
        cmocka_unit_test(test_admission_encode_warning_truncated),
        cmocka_unit_test(test_admission_encode_warnings_limited),
        cmocka_unit_test(test_admission_encode_eval_error_denies),
        cmocka_unit_test(test_admission_encode_patch),
        cmocka_unit_test(test_admission_base64_vectors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
