/* Kubernetes API replies (policy/model/wire.c): LIST pages, watch events, the line splitter;
 * what a hostile or broken server sends is an error, never a change. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "policy/model/wire.h"

static void test_wire_list_page(void **state)
{
    /* As kube-apiserver sends it: items without kind or apiVersion. */
    const char *page =
        "{\"kind\":\"NamespaceList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":"
        "\"120\",\"continue\":\"eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MTIwfQ==\"},\"items\":["
        "{\"metadata\":{\"name\":\"ml\",\"labels\":{\"a\":\"b\"}}},"
        "{\"metadata\":{\"labels\":{}}},"
        "{\"metadata\":{\"name\":\"web\"}}]}";
    struct wire_page p;
    struct err e = {0};

    (void)state;
    assert_int_equal(wire_list(page, strlen(page), MODEL_NAMESPACE, &p, &e), 0);
    assert_string_equal(p.rv, "120");
    assert_string_equal(p.cont, "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MTIwfQ==");
    assert_int_equal(p.n, 2);
    assert_string_equal(p.items[0]->name, "ml");
    assert_int_equal(p.skipped, 1);
    assert_string_equal(p.first_skip.msg, "items[1]: Namespace without metadata.name");
    wire_page_release(&p);
}

static void test_wire_list_last_page_and_errors(void **state)
{
    static const struct {
        const char *body, *msg;
    } bad[] = {
        {"[]", "not a JSON object"},
        {"{\"kind\":\"PodList\",\"metadata\":{\"resourceVersion\":\"1\"}}",
         "not a NetworkPolicyList: kind PodList"},
        {"{\"kind\":\"NetworkPolicyList\",\"metadata\":{}}",
         "NetworkPolicyList without metadata.resourceVersion"},
        {"{\"kind\":\"NetworkPolicyList\",\"metadata\":{\"resourceVersion\":\"1\"},\"items\":{}}",
         "NetworkPolicyList: items is not a list"},
    };
    const char *last = "{\"kind\":\"NetworkPolicyList\",\"metadata\":{\"resourceVersion\":\"5\","
                       "\"continue\":\"\"},\"items\":null}";
    struct wire_page p;
    struct err e = {0};

    (void)state;
    assert_int_equal(wire_list(last, strlen(last), MODEL_NETWORKPOLICY, &p, &e), 0);
    assert_null(p.cont);
    assert_int_equal(p.n, 0);
    wire_page_release(&p);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&e, 0, sizeof(e));
        assert_int_equal(wire_list(bad[i].body, strlen(bad[i].body), MODEL_NETWORKPOLICY, &p, &e),
                         -1);
        assert_string_equal(e.msg, bad[i].msg);
        assert_null(p.items);
    }
    memset(&e, 0, sizeof(e));
    assert_int_equal(wire_list("{\"a\":1,\"a\":2}", 13, MODEL_NAMESPACE, &p, &e), -1);
    assert_non_null(strstr(e.msg, "not JSON: duplicate object key"));
}

static void test_wire_events(void **state)
{
    const char *added = "{\"type\":\"ADDED\",\"object\":{\"kind\":\"Namespace\",\"apiVersion\":"
                        "\"v1\",\"metadata\":{\"name\":\"ml\",\"resourceVersion\":\"11\"}}}";
    const char *deleted = "{\"type\":\"DELETED\",\"object\":{\"kind\":\"CiliumNetworkPolicy\","
                          "\"apiVersion\":\"cilium.io/v2\",\"metadata\":{\"name\":\"p\","
                          "\"namespace\":\"ml\",\"resourceVersion\":\"12\"},\"spec\":{}}}";
    const char *bookmark = "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Namespace\","
                           "\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"99\"}}}";
    const char *gone = "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\","
                       "\"status\":\"Failure\",\"message\":\"too old resource version: 1 (99)\","
                       "\"reason\":\"Expired\",\"code\":410}}";
    struct wire_event ev;
    struct err e = {0};

    (void)state;
    assert_int_equal(wire_event(added, strlen(added), MODEL_NAMESPACE, &ev, &e), 0);
    assert_int_equal(ev.type, WIRE_ADDED);
    assert_string_equal(ev.rv, "11");
    assert_string_equal(ev.item->name, "ml");
    wire_event_release(&ev);
    assert_int_equal(wire_event(deleted, strlen(deleted), MODEL_CILIUM_NP, &ev, &e), 0);
    assert_int_equal(ev.type, WIRE_DELETED);
    assert_string_equal(ev.item->ns, "ml");
    wire_event_release(&ev);
    assert_int_equal(wire_event(bookmark, strlen(bookmark), MODEL_NAMESPACE, &ev, &e), 0);
    assert_int_equal(ev.type, WIRE_BOOKMARK);
    assert_string_equal(ev.rv, "99");
    assert_null(ev.item);
    wire_event_release(&ev);
    assert_int_equal(wire_event(gone, strlen(gone), MODEL_NAMESPACE, &ev, &e), 0);
    assert_int_equal(ev.type, WIRE_ERROR);
    assert_int_equal(ev.code, 410);
    assert_string_equal(ev.message, "too old resource version: 1 (99)");
    wire_event_release(&ev);
}

/* What must not reach the model: each is an error for the watcher to act on. */
static void test_wire_event_hostile(void **state)
{
    static const struct {
        const char *line, *msg;
    } bad[] = {
        {"{\"type\":\"ADDED\"}", "not a watch event (type ADDED)"},
        {"{\"type\":\"SURPRISE\",\"object\":{}}", "not a watch event (type SURPRISE)"},
        {"{\"type\":\"ADDED\",\"object\":{\"kind\":\"Secret\",\"apiVersion\":\"v1\",\"metadata\":"
         "{\"name\":\"s\",\"resourceVersion\":\"1\"}}}",
         "an object of kind Secret (v1) in a stream of Namespace"},
        {"{\"type\":\"ADDED\",\"object\":{\"kind\":\"Namespace\",\"apiVersion\":\"evil.io/v1\","
         "\"metadata\":{\"name\":\"s\",\"resourceVersion\":\"1\"}}}",
         "an object of kind Namespace (evil.io/v1) in a stream of Namespace"},
        {"{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"s\"}}}",
         "MODIFIED event without metadata.resourceVersion"},
        {"{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"resourceVersion\":\"3\",\"labels\":[]}}}",
         "Namespace without metadata.name"},
        {"{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"x\",\"resourceVersion\":\"3\","
         "\"labels\":[]}}}",
         "Namespace x: metadata.labels is not an object"},
        {"nonsense", NULL},
    };
    struct wire_event ev;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct err e = {0};
        assert_int_equal(wire_event(bad[i].line, strlen(bad[i].line), MODEL_NAMESPACE, &ev, &e),
                         -1);
        if (bad[i].msg)
            assert_string_equal(e.msg, bad[i].msg);
        else
            assert_non_null(strstr(e.msg, "not JSON"));
        assert_null(ev.item);
    }
}

struct lines {
    char got[8][64];
    int n, stop_at;
};

static int on_line(void *cls, const char *line, size_t len, struct err *e)
{
    struct lines *l = cls;

    if (l->n == l->stop_at)
        return err_set(e, "stopped");
    snprintf(l->got[l->n++], sizeof(l->got[0]), "%.*s", (int)len, line);
    return 0;
}

static void test_wire_stream_splits_lines_across_chunks(void **state)
{
    struct wire_stream s;
    struct lines l = {.stop_at = -1};
    struct err e = {0};
    const char *chunks[] = {"{\"a\"", ":1}\n\n{\"b\":2}\n{\"c", "\":3}", "\n"};

    (void)state;
    wire_stream_init(&s);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(wire_stream_feed(&s, chunks[i], strlen(chunks[i]), on_line, &l, &e), 0);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.got[0], "{\"a\":1}");
    assert_string_equal(l.got[1], "{\"b\":2}");
    assert_string_equal(l.got[2], "{\"c\":3}");
    l.stop_at = 3;
    assert_int_equal(wire_stream_feed(&s, "x\ny\n", 4, on_line, &l, &e), -1);
    assert_string_equal(e.msg, "stopped");
    wire_stream_release(&s);
}

/* A line without end is refused at the cap, not buffered forever. */
static void test_wire_stream_caps_a_line(void **state)
{
    struct wire_stream s;
    struct lines l = {.stop_at = -1};
    struct err e = {0};
    size_t chunk = 1024 * 1024;
    char *junk = malloc(chunk);
    int rc = 0;

    (void)state;
    assert_non_null(junk);
    memset(junk, 'x', chunk);
    wire_stream_init(&s);
    for (size_t sent = 0; rc == 0 && sent <= WIRE_MAX_LINE; sent += chunk)
        rc = wire_stream_feed(&s, junk, chunk, on_line, &l, &e);
    assert_int_equal(rc, -1);
    assert_string_equal(e.msg, "a watch event longer than 16777216 bytes");
    assert_int_equal(l.n, 0);
    wire_stream_release(&s);
    free(junk);
}

static void test_wire_decision_text(void **state)
{
    /* A Pod LIST page as kube-apiserver sends it, with what no decision reads. */
    const char *page =
        "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"7\"},"
        "\"items\":[{\"metadata\":{\"name\":\"p\",\"namespace\":\"ml\",\"labels\":{\"a\":\"b\"},"
        "\"managedFields\":[{\"manager\":\"kubectl\"}],\"annotations\":{\"x\":\"y\","
        "\"kubectl.kubernetes.io/last-applied-configuration\":\"{...}\"}},"
        "\"spec\":{\"hostNetwork\":true,\"nodeName\":\"n1\",\"volumes\":[{\"name\":\"v\"}],"
        "\"containers\":[{\"name\":\"c\",\"image\":\"i\",\"command\":[\"sh\"],"
        "\"env\":[{\"name\":\"HTTPS_PROXY\",\"value\":\"http://p:3128\"}],"
        "\"resources\":{\"limits\":{\"nvidia.com/gpu\":\"1\"}}}],"
        "\"initContainers\":[{\"name\":\"i\",\"image\":\"j\",\"securityContext\":{\"privileged\":true}}]},"
        "\"status\":{\"phase\":\"Running\"}}]}";
    /* A NetworkPolicy keeps its whole spec; only status and the bulky metadata go. */
    const char *np =
        "{\"kind\":\"NetworkPolicyList\",\"apiVersion\":\"networking.k8s.io/v1\",\"metadata\":"
        "{\"resourceVersion\":\"8\"},\"items\":[{\"metadata\":{\"name\":\"n\",\"namespace\":\"ml\","
        "\"managedFields\":[]},\"spec\":{\"podSelector\":{}},\"status\":{}}]}";
    struct wire_page p;
    struct err e = {0};

    (void)state;
    assert_int_equal(wire_list(page, strlen(page), MODEL_POD, &p, &e), 0);
    assert_int_equal(p.n, 1);
    assert_string_equal(
        p.items[0]->text,
        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"annotations\":{\"x\":\"y\"},"
        "\"labels\":{\"a\":\"b\"},\"name\":\"p\",\"namespace\":\"ml\"},\"spec\":{\"containers\":"
        "[{\"env\":[{\"name\":\"HTTPS_PROXY\",\"value\":\"http://p:3128\"}],\"name\":\"c\","
        "\"resources\":{\"limits\":{\"nvidia.com/gpu\":\"1\"}}}],\"hostNetwork\":true,"
        "\"initContainers\":[{\"name\":\"i\",\"securityContext\":{\"privileged\":true}}]}}");
    wire_page_release(&p);
    assert_int_equal(wire_list(np, strlen(np), MODEL_NETWORKPOLICY, &p, &e), 0);
    assert_string_equal(p.items[0]->text,
                        "{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"NetworkPolicy\","
                        "\"metadata\":{\"name\":\"n\",\"namespace\":\"ml\"},\"spec\":"
                        "{\"podSelector\":{}}}");
    wire_page_release(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wire_list_page),
        cmocka_unit_test(test_wire_decision_text),
        cmocka_unit_test(test_wire_list_last_page_and_errors),
        cmocka_unit_test(test_wire_events),
        cmocka_unit_test(test_wire_event_hostile),
        cmocka_unit_test(test_wire_stream_splits_lines_across_chunks),
        cmocka_unit_test(test_wire_stream_caps_a_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
