/* The cluster model (policy/model/model.c, item.c, kinds.c): snapshots, the copy-on-write
 * writer, lookups, relists, and what items keep of their objects. */
#include <jansson.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "policy/model/model.h"

static struct model_item *item(enum model_kind k, const char *json)
{
    json_error_t je;
    json_t *j = json_loads(json, 0, &je);
    struct err e = {0};
    struct model_item *it;

    if (!j)
        fail_msg("bad test JSON: %s", je.text);
    it = model_item_new(k, j, &e);
    json_decref(j);
    if (!it)
        fail_msg("model_item_new: %s", e.msg);
    return it;
}

static struct model_item *ns(const char *name, const char *label_value)
{
    char buf[256];

    snprintf(buf, sizeof(buf),
             "{\"metadata\": {\"name\": \"%s\", \"resourceVersion\": \"7\", \"labels\": "
             "{\"team\": \"%s\"}}}",
             name, label_value);
    return item(MODEL_NAMESPACE, buf);
}

static struct model_item *np(const char *nsname, const char *name)
{
    char buf[512];

    snprintf(buf, sizeof(buf),
             "{\"metadata\": {\"name\": \"%s\", \"namespace\": \"%s\"}, \"spec\": "
             "{\"podSelector\": {}, \"policyTypes\": [\"Egress\"]}}",
             name, nsname);
    return item(MODEL_NETWORKPOLICY, buf);
}

static const char *label(const struct model *m, const char *name, const char *key)
{
    return json_string_value(json_object_get(model_ns_labels(m, name), key));
}

static void test_model_empty_knows_nothing(void **state)
{
    struct model *m = model_new_empty();

    (void)state;
    assert_non_null(m);
    assert_null(model_ns_labels(m, "default"));
    assert_false(model_complete(m, MODEL_NAMESPACE));
    assert_int_equal(model_count(m, MODEL_NETWORKPOLICY), 0);
    assert_int_equal(model_generation(m), 0);
    model_unref(m);
}

/* A published snapshot never changes: later writes go to a new one. */
static void test_model_writer_snapshots_are_immutable(void **state)
{
    struct model_writer *w = model_writer_new();
    struct model *a, *b, *c;

    (void)state;
    assert_int_equal(model_writer_put(w, ns("ml", "a")), 0);
    a = model_writer_publish(w);
    assert_string_equal(label(a, "ml", "team"), "a");
    assert_string_equal(label(a, "ml", "kubernetes.io/metadata.name"), "ml");

    assert_int_equal(model_writer_put(w, ns("ml", "b")), 0);
    assert_int_equal(model_writer_put(w, ns("web", "c")), 0);
    b = model_writer_publish(w);
    assert_string_equal(label(a, "ml", "team"), "a"); /* the old one is untouched */
    assert_null(model_ns_labels(a, "web"));
    assert_string_equal(label(b, "ml", "team"), "b");
    assert_string_equal(label(b, "web", "team"), "c");
    assert_true(model_generation(b) > model_generation(a));

    /* Nothing changed: the same snapshot. */
    c = model_writer_publish(w);
    assert_ptr_equal(c, b);
    model_unref(c);

    assert_int_equal(model_writer_delete(w, MODEL_NAMESPACE, "", "ml"), 0);
    assert_int_equal(model_writer_delete(w, MODEL_NAMESPACE, "", "absent"), 0);
    c = model_writer_publish(w);
    assert_null(model_ns_labels(c, "ml"));
    assert_non_null(model_ns_labels(b, "ml"));
    /* The writer goes away; snapshots stay readable. */
    model_writer_free(w);
    assert_string_equal(label(b, "web", "team"), "c");
    model_unref(a);
    model_unref(b);
    model_unref(c);
}

static void test_model_list_by_namespace_is_sorted(void **state)
{
    struct model_writer *w = model_writer_new();
    struct model *m;
    struct model_item *const *items;
    size_t n;

    (void)state;
    assert_int_equal(model_writer_put(w, np("b", "z")), 0);
    assert_int_equal(model_writer_put(w, np("a", "y")), 0);
    assert_int_equal(model_writer_put(w, np("b", "a")), 0);
    assert_int_equal(model_writer_put(w, np("c", "x")), 0);
    assert_int_equal(model_writer_put(w, np("b", "a")), 0); /* replaces */
    m = model_writer_publish(w);
    assert_int_equal(model_count(m, MODEL_NETWORKPOLICY), 4);
    n = model_list(m, MODEL_NETWORKPOLICY, "b", &items);
    assert_int_equal(n, 2);
    assert_string_equal(items[0]->name, "a");
    assert_string_equal(items[1]->name, "z");
    assert_int_equal(model_list(m, MODEL_NETWORKPOLICY, "bb", &items), 0);
    assert_int_equal(model_list(m, MODEL_NETWORKPOLICY, NULL, &items), 4);
    assert_string_equal(items[0]->ns, "a");
    assert_string_equal(items[3]->ns, "c");
    assert_non_null(model_find(m, MODEL_NETWORKPOLICY, "c", "x"));
    assert_null(model_find(m, MODEL_NETWORKPOLICY, "c", "y"));
    assert_null(model_find(m, MODEL_CILIUM_NP, "c", "x"));
    model_unref(m);
    model_writer_free(w);
}

/* A relist replaces a kind wholesale (what vanished is gone) and marks it complete. */
static void test_model_writer_replace_relists(void **state)
{
    struct model_writer *w = model_writer_new();
    struct model *before, *after;
    struct model_item *items[3];

    (void)state;
    assert_int_equal(model_writer_put(w, ns("gone", "x")), 0);
    assert_int_equal(model_writer_put(w, np("a", "kept")), 0);
    before = model_writer_publish(w);
    items[0] = ns("ml", "1");
    items[1] = ns("ml", "2"); /* duplicates: the last wins */
    items[2] = ns("alpha", "3");
    assert_int_equal(model_writer_replace(w, MODEL_NAMESPACE, items, 3), 0);
    after = model_writer_publish(w);
    assert_true(model_complete(after, MODEL_NAMESPACE));
    assert_false(model_complete(before, MODEL_NAMESPACE));
    assert_null(model_ns_labels(after, "gone"));
    assert_string_equal(label(after, "ml", "team"), "2");
    assert_string_equal(label(after, "alpha", "team"), "3");
    assert_int_equal(model_count(after, MODEL_NAMESPACE), 2);
    /* Other kinds are shared untouched. */
    assert_ptr_equal(model_find(after, MODEL_NETWORKPOLICY, "a", "kept"),
                     model_find(before, MODEL_NETWORKPOLICY, "a", "kept"));
    assert_non_null(model_ns_labels(before, "gone"));

    assert_int_equal(model_writer_forget(w, MODEL_NAMESPACE), 0);
    model_unref(after);
    after = model_writer_publish(w);
    assert_false(model_complete(after, MODEL_NAMESPACE));
    assert_int_equal(model_count(after, MODEL_NAMESPACE), 0);
    assert_int_equal(model_writer_set_complete(w, MODEL_NAMESPACE), 0);
    model_unref(after);
    after = model_writer_publish(w);
    assert_true(model_complete(after, MODEL_NAMESPACE));
    assert_int_equal(model_state(after, MODEL_NAMESPACE), MODEL_STATE_COMPLETE);
    assert_true(model_known(after, MODEL_NAMESPACE));
    model_unref(before);
    model_unref(after);
    model_writer_free(w);
}

/*
 * A kind the API server does not serve (its CRD not installed) has no objects, which is known:
 * not served is known as complete is, unknown is neither; serving it again makes it unknown until
 * listed.
 */
static void test_model_kind_states(void **state)
{
    struct model_writer *w = model_writer_new();
    struct model *m, *n;
    json_t *obj = json_pack("{s:{s:s},s:{s:[s]}}", "metadata", "name", "h1", "spec",
                            "expectedIPs", "192.0.2.1");
    struct err e = {0};

    (void)state;
    assert_non_null(w);
    assert_non_null(obj);
    assert_non_null(m = model_writer_publish(w));
    assert_int_equal(model_state(m, MODEL_CALICO_HOSTENDPOINT), MODEL_STATE_UNKNOWN);
    assert_false(model_known(m, MODEL_CALICO_HOSTENDPOINT));
    assert_int_equal(model_writer_put(w, model_item_new(MODEL_CALICO_HOSTENDPOINT, obj, &e)), 0);
    assert_int_equal(model_writer_set_not_served(w, MODEL_CALICO_HOSTENDPOINT), 0);
    assert_non_null(n = model_writer_publish(w));
    assert_int_equal(model_state(n, MODEL_CALICO_HOSTENDPOINT), MODEL_STATE_NOT_SERVED);
    assert_true(model_known(n, MODEL_CALICO_HOSTENDPOINT));
    assert_false(model_complete(n, MODEL_CALICO_HOSTENDPOINT));
    assert_int_equal(model_count(n, MODEL_CALICO_HOSTENDPOINT), 0);
    /* The older snapshot keeps what it had. */
    assert_int_equal(model_state(m, MODEL_CALICO_HOSTENDPOINT), MODEL_STATE_UNKNOWN);
    model_unref(m);
    assert_int_equal(model_writer_forget(w, MODEL_CALICO_HOSTENDPOINT), 0);
    assert_non_null(m = model_writer_publish(w));
    assert_int_equal(model_state(m, MODEL_CALICO_HOSTENDPOINT), MODEL_STATE_UNKNOWN);
    model_unref(m);
    model_unref(n);
    json_decref(obj);
    model_writer_free(w);
}

/* A HostEndpoint is an address set of its expectedIPs; without any its addresses are unknown. */
static void test_model_item_hostendpoint(void **state)
{
    json_t *with = json_pack("{s:{s:s,s:{s:s}},s:{s:[s,s]}}", "metadata", "name", "h1", "labels",
                             "role", "db", "spec", "expectedIPs", "192.0.2.1", "2001:db8::1");
    json_t *without = json_pack("{s:{s:s},s:{s:s}}", "metadata", "name", "h2", "spec",
                                "interfaceName", "eth0");
    struct model_item *a, *b;
    struct err e = {0};

    (void)state;
    assert_non_null(a = model_item_new(MODEL_CALICO_HOSTENDPOINT, with, &e));
    assert_null(a->error);
    assert_string_equal(a->ns, "");
    assert_non_null(a->nets);
    assert_false(cidrset_is_empty(a->nets));
    assert_int_equal(a->n_domains, 0);
    assert_non_null(b = model_item_new(MODEL_CALICO_HOSTENDPOINT, without, &e));
    assert_null(b->nets);
    assert_non_null(b->error);
    assert_non_null(strstr(b->error, "interface eth0"));
    model_item_unref(a);
    model_item_unref(b);
    json_decref(with);
    json_decref(without);
}

static void test_model_item_namespace(void **state)
{
    struct model_item *it = item(
        MODEL_NAMESPACE, "{\"metadata\": {\"name\": \"ml\", \"uid\": \"u1\", \"resourceVersion\": "
                         "\"9\", \"deletionTimestamp\": \"2024-01-01T00:00:00Z\", \"labels\": "
                         "{\"kubernetes.io/metadata.name\": \"forged\"}}}");
    json_t *none = json_object();
    struct err e = {0};

    (void)state;
    assert_string_equal(it->ns, "");
    assert_string_equal(it->rv, "9");
    assert_true(it->terminating);
    /* The API server sets the name label to the name, whatever was asked. */
    assert_string_equal(json_string_value(json_object_get(it->labels, "kubernetes.io/metadata.name")),
                        "ml");
    model_item_unref(it);
    it = item(MODEL_NAMESPACE, "{\"metadata\": {\"name\": \"t\"}, \"status\": {\"phase\": "
                               "\"Terminating\"}}");
    assert_true(it->terminating);
    model_item_unref(it);

    assert_null(model_item_new(MODEL_NAMESPACE, none, &e));
    assert_string_equal(e.msg, "Namespace without metadata.name");
    json_decref(none);
}

static void test_model_item_policy_read_once(void **state)
{
    struct model_item *it = item(
        MODEL_NETWORKPOLICY,
        "{\"metadata\": {\"name\": \"p\", \"namespace\": \"ml\", \"labels\": "
        "{\"app.kubernetes.io/managed-by\": \"egressguard\"}}, \"spec\": {\"podSelector\": {}, "
        "\"policyTypes\": [\"Egress\"], \"egress\": [{\"to\": [{\"ipBlock\": {\"cidr\": "
        "\"10.0.0.0/8\"}}]}]}}");
    json_t *bad;
    struct err e = {0};

    (void)state;
    assert_null(it->error);
    assert_int_equal(it->egress.n, 1);
    assert_int_equal(it->egress.models[0].n_rules, 1);
    assert_null(it->egress.models[0].rules[0].node); /* no pointer into freed JSON */
    assert_null(it->egress.models[0].rules[0].peers[0].node);
    assert_true(it->managed);
    assert_non_null(it->spec);
    model_item_unref(it);

    /* A policy its reader refuses is still an item: with why, and no models. */
    it = item(MODEL_NETWORKPOLICY,
              "{\"metadata\": {\"name\": \"p\", \"namespace\": \"ml\"}, \"spec\": {\"podSelector\": "
              "{}, \"egress\": [{\"to\": [{\"ipBlock\": {\"cidr\": \"10.0.0.0/33\"}}]}]}}");
    assert_non_null(it->error);
    assert_non_null(strstr(it->error, "10.0.0.0/33"));
    assert_int_equal(it->egress.n, 0);
    assert_false(it->managed);
    assert_null(it->spec);
    model_item_unref(it);

    /* A namespaced kind needs its namespace. */
    bad = json_pack("{s:{s:s}}", "metadata", "name", "p");
    assert_null(model_item_new(MODEL_CILIUM_NP, bad, &e));
    assert_string_equal(e.msg, "CiliumNetworkPolicy p without metadata.namespace");
    json_decref(bad);
}

static void test_model_item_sets(void **state)
{
    struct model_item *it = item(MODEL_CALICO_GLOBALNETWORKSET,
                                 "{\"metadata\": {\"name\": \"s\", \"labels\": {\"role\": \"db\"}}, "
                                 "\"spec\": {\"nets\": [\"198.51.100.0/28\", \"203.0.113.7\"], "
                                 "\"allowedEgressDomains\": [\"db.example.com\"]}}");
    uint8_t a[4] = {203, 0, 113, 7}, b[4] = {203, 0, 113, 8};

    (void)state;
    assert_null(it->error);
    assert_true(cidrset_contains_addr(it->nets, 4, a));
    assert_false(cidrset_contains_addr(it->nets, 4, b));
    assert_int_equal(it->n_domains, 1);
    assert_string_equal(it->domains[0], "db.example.com");
    model_item_unref(it);

    it = item(MODEL_CILIUM_CIDRGROUP,
              "{\"metadata\": {\"name\": \"g\"}, \"spec\": {\"externalCIDRs\": [\"10.48.0.0/24\", "
              "\"nope\"]}}");
    assert_non_null(it->error);
    assert_non_null(strstr(it->error, "spec.externalCIDRs[1]"));
    model_item_unref(it);

    it = item(MODEL_ANP, "{\"metadata\": {\"name\": \"a\"}, \"spec\": {\"priority\": 10}}");
    assert_non_null(it->raw);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(it->raw, "spec"),
                                                        "priority")),
                     10);
    model_item_unref(it);
}

static void test_model_kinds(void **state)
{
    struct object o = {.api_version = "crd.projectcalico.org/v1", .kind = "NetworkSet"};
    size_t n;
    const struct model_api *apis = model_apis(&n);

    (void)state;
    assert_int_equal(model_kind_of(&o), MODEL_CALICO_NETWORKSET);
    o.api_version = "networking.k8s.io/v1";
    o.kind = "NetworkPolicy";
    assert_int_equal(model_kind_of(&o), MODEL_NETWORKPOLICY);
    o.api_version = "v1";
    o.kind = "Pod";
    assert_int_equal(model_kind_of(&o), -1);
    /* Every kind is served by at least one API, Calico's v3 API first. */
    for (int k = 0; k < MODEL_N_KINDS; k++) {
        bool seen = false;
        for (size_t i = 0; i < n; i++)
            seen = seen || apis[i].kind == (enum model_kind)k;
        assert_true(seen);
    }
    for (size_t i = 0; i < n; i++)
        if (apis[i].kind == MODEL_CALICO_NP) {
            assert_string_equal(apis[i].group, "projectcalico.org");
            break;
        }
}

/* `check`'s model: the objects of the input. */
static void test_model_writer_put_objects(void **state)
{
    const char *yaml = "apiVersion: v1\nkind: Namespace\nmetadata: {name: ml, labels: {a: b}}\n"
                       "---\napiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: ml}\n"
                       "---\napiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\n"
                       "metadata: {name: c}\nspec: {endpointSelector: {}}\n"
                       "---\napiVersion: projectcalico.org/v3\nkind: NetworkPolicy\n"
                       "metadata: {name: n, namespace: ml}\nspec: {selector: all()}\n";
    struct manifest *mf = manifest_new();
    struct model_writer *w = model_writer_new();
    const struct object *objs[8];
    struct model *m;
    struct err e = {0};

    (void)state;
    assert_int_equal(manifest_read_buffer(mf, yaml, strlen(yaml), "in.yaml"), 0);
    assert_int_equal(manifest_n_objects(mf), 4);
    for (size_t i = 0; i < 4; i++)
        objs[i] = manifest_object(mf, i);
    assert_int_equal(model_writer_put_objects(w, objs, 4, &e), 0);
    manifest_free(mf); /* the model keeps nothing of the input */
    m = model_writer_publish(w);
    assert_string_equal(label(m, "ml", "a"), "b");
    assert_int_equal(model_count(m, MODEL_CILIUM_NP), 0); /* no namespace: left to the decision */
    assert_non_null(model_find(m, MODEL_CALICO_NP, "ml", "n"));
    model_unref(m);
    model_writer_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_empty_knows_nothing),
        cmocka_unit_test(test_model_writer_snapshots_are_immutable),
        cmocka_unit_test(test_model_list_by_namespace_is_sorted),
        cmocka_unit_test(test_model_writer_replace_relists),
        cmocka_unit_test(test_model_item_namespace),
        cmocka_unit_test(test_model_item_policy_read_once),
        cmocka_unit_test(test_model_item_sets),
        cmocka_unit_test(test_model_kinds),
        cmocka_unit_test(test_model_writer_put_objects),
        cmocka_unit_test(test_model_kind_states),
        cmocka_unit_test(test_model_item_hostendpoint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
