/* Namespaced mode's plan (policy/model/plan.c): create what is missing, update what drifted
 * (defaulted members aside), delete what is managed and no longer wanted, leave the rest alone;
 * and whether a namespace's policies are in place, for any number of namespaces. */
#include <jansson.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "policy/model/plan.h"

#define MANAGED "\"labels\": {\"app.kubernetes.io/managed-by\": \"egressguard\"}"

static json_t *j(const char *text)
{
    json_error_t je;
    json_t *v = json_loads(text, 0, &je);

    if (!v)
        fail_msg("bad test JSON: %s: %s", je.text, text);
    return v;
}

static void put(struct model_writer *w, const char *obj)
{
    json_t *o = j(obj);
    struct err e = {0};
    struct model_item *it = model_item_new(MODEL_NETWORKPOLICY, o, &e);

    json_decref(o);
    if (!it)
        fail_msg("%s", e.msg);
    assert_int_equal(model_writer_put(w, it), 0);
}

/* What render builds for one namespace: two policies. */
static json_t *wanted(const char *ns)
{
    char buf[1024];

    snprintf(buf, sizeof(buf),
             "[{\"apiVersion\": \"networking.k8s.io/v1\", \"kind\": \"NetworkPolicy\", "
             "\"metadata\": {\"name\": \"eg-deny\", \"namespace\": \"%s\", " MANAGED ", "
             "\"annotations\": {\"egressguard.io/policy-hash\": \"h1\"}}, \"spec\": "
             "{\"podSelector\": {}, \"policyTypes\": [\"Egress\"]}},"
             "{\"apiVersion\": \"networking.k8s.io/v1\", \"kind\": \"NetworkPolicy\", "
             "\"metadata\": {\"name\": \"eg-allow\", \"namespace\": \"%s\", " MANAGED ", "
             "\"annotations\": {\"egressguard.io/policy-hash\": \"h1\"}}, \"spec\": "
             "{\"podSelector\": {}, \"egress\": [{\"ports\": [{\"port\": 53}]}]}}]",
             ns, ns);
    return j(buf);
}

static void test_plan_covers_ignores_defaults(void **state)
{
    json_t *want = j("{\"egress\": [{\"ports\": [{\"port\": 53}]}]}");
    json_t *defaulted = j("{\"egress\": [{\"ports\": [{\"port\": 53, \"protocol\": \"TCP\"}]}], "
                          "\"policyTypes\": [\"Egress\"]}");
    json_t *widened = j("{\"egress\": [{\"ports\": [{\"port\": 53}]}, {}]}");
    json_t *changed = j("{\"egress\": [{\"ports\": [{\"port\": 54}]}]}");

    (void)state;
    assert_true(plan_covers(defaulted, want));
    assert_false(plan_covers(widened, want));
    assert_false(plan_covers(changed, want));
    assert_false(plan_covers(NULL, want));
    json_decref(want);
    json_decref(defaulted);
    json_decref(widened);
    json_decref(changed);
}

static void test_plan_namespace_creates_updates_deletes(void **state)
{
    struct model_writer *w = model_writer_new();
    json_t *want = wanted("ml");
    struct plan p;
    struct model *m;
    struct err e = {0};

    (void)state;
    /* eg-deny in step (with a defaulted member), eg-allow missing, an old managed one, a
     * user's own. */
    put(w, "{\"metadata\": {\"name\": \"eg-deny\", \"namespace\": \"ml\", \"resourceVersion\": "
           "\"5\", " MANAGED ", \"annotations\": {\"egressguard.io/policy-hash\": \"h1\"}}, "
           "\"spec\": {\"podSelector\": {}, \"policyTypes\": [\"Egress\"], \"ingress\": []}}");
    put(w, "{\"metadata\": {\"name\": \"eg-old\", \"namespace\": \"ml\", \"resourceVersion\": "
           "\"6\", " MANAGED "}, \"spec\": {\"podSelector\": {}}}");
    put(w, "{\"metadata\": {\"name\": \"users\", \"namespace\": \"ml\", \"resourceVersion\": "
           "\"7\"}, \"spec\": {\"podSelector\": {}}}");
    put(w, "{\"metadata\": {\"name\": \"eg-old\", \"namespace\": \"other\", \"resourceVersion\": "
           "\"8\", " MANAGED "}, \"spec\": {\"podSelector\": {}}}");
    m = model_writer_publish(w);
    plan_init(&p);
    assert_int_equal(plan_namespace(m, "ml", want, &p, &e), 0);
    assert_int_equal(p.n, 2);
    assert_int_equal(p.actions[0].op, PLAN_CREATE);
    assert_string_equal(p.actions[0].name, "eg-allow");
    assert_null(json_object_get(json_object_get(p.actions[0].doc, "metadata"),
                                "resourceVersion"));
    assert_int_equal(p.actions[1].op, PLAN_DELETE);
    assert_string_equal(p.actions[1].name, "eg-old");
    assert_string_equal(p.actions[1].rv, "6");
    plan_release(&p);
    model_unref(m);

    /* The policy reloaded (a new hash) and eg-deny edited by hand: both updated, each
     * conditional on the version the model saw. */
    json_decref(want);
    want = wanted("ml");
    json_object_set_new(json_object_get(json_object_get(json_array_get(want, 0), "metadata"),
                                        "annotations"),
                        "egressguard.io/policy-hash", json_string("h2"));
    put(w, "{\"metadata\": {\"name\": \"eg-allow\", \"namespace\": \"ml\", \"resourceVersion\": "
           "\"9\", " MANAGED ", \"annotations\": {\"egressguard.io/policy-hash\": \"h1\"}}, "
           "\"spec\": {\"podSelector\": {}, \"egress\": [{\"ports\": [{\"port\": 53}]}, {}]}}");
    m = model_writer_publish(w);
    plan_init(&p);
    assert_int_equal(plan_namespace(m, "ml", want, &p, &e), 0);
    assert_int_equal(p.n, 3);
    assert_int_equal(p.actions[0].op, PLAN_UPDATE);
    assert_string_equal(p.actions[0].name, "eg-deny");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(p.actions[0].doc, "metadata"), "resourceVersion")),
                        "5");
    assert_int_equal(p.actions[1].op, PLAN_UPDATE);
    assert_string_equal(p.actions[1].name, "eg-allow");
    assert_int_equal(p.actions[2].op, PLAN_DELETE);
    plan_release(&p);

    /* No longer an AI namespace: everything egressguard manages goes, nothing else. */
    plan_init(&p);
    json_decref(want);
    want = json_array();
    assert_int_equal(plan_namespace(m, "ml", want, &p, &e), 0);
    assert_int_equal(p.n, 3);
    for (size_t i = 0; i < p.n; i++) {
        assert_int_equal(p.actions[i].op, PLAN_DELETE);
        assert_string_not_equal(p.actions[i].name, "users");
    }
    plan_release(&p);
    model_unref(m);
    model_writer_free(w);
    json_decref(want);
}

/* Held until every wanted policy is in the model: for 5000 AI namespaces as for one (no table of
 * namespaces to fill up). */
static void test_plan_in_place_many_namespaces(void **state)
{
    struct model_writer *w = model_writer_new();
    struct model *m;
    struct buf missing;
    int i;

    (void)state;
    for (i = 0; i < 5000; i++) {
        char buf[300];
        snprintf(buf, sizeof(buf),
                 "{\"metadata\": {\"name\": \"eg-deny\", \"namespace\": \"ml-%d\", " MANAGED
                 "}, \"spec\": {\"podSelector\": {}}}",
                 i);
        put(w, buf);
        if (i != 4321) {
            snprintf(buf, sizeof(buf),
                     "{\"metadata\": {\"name\": \"eg-allow\", \"namespace\": \"ml-%d\", " MANAGED
                     "}, \"spec\": {\"podSelector\": {}}}",
                     i);
            put(w, buf);
        }
    }
    m = model_writer_publish(w);
    buf_init(&missing, 0);
    for (i = 0; i < 5000; i++) {
        char ns[32];
        json_t *want;
        bool ok;
        snprintf(ns, sizeof(ns), "ml-%d", i);
        want = wanted(ns);
        ok = plan_in_place(m, ns, want, &missing);
        json_decref(want);
        if (i == 4321)
            assert_false(ok);
        else if (!ok)
            fail_msg("namespace %s held: %s", ns, buf_str(&missing));
    }
    assert_string_equal(buf_str(&missing), "eg-allow");
    buf_release(&missing);
    model_unref(m);
    model_writer_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan_covers_ignores_defaults),
        cmocka_unit_test(test_plan_namespace_creates_updates_deletes),
        cmocka_unit_test(test_plan_in_place_many_namespaces),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
