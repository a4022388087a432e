/*
 * The audit: verdicts of a whole cluster from the one decision path, decided again only where an
 * event can have changed them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "policy/audit/audit.h"
#include "policy/decide.h"
#include "policy/doc/manifest.h"

#define DAY 86400
#define T_2026_12_01 ((int64_t)20788 * DAY)
#define T_2027_02_01 ((int64_t)20850 * DAY) /* the first second after the exemption's last day */

static const char policy_text[] =
    "apiVersion: egressguard.io/v1alpha1\nkind: EgressPolicy\nmetadata: {name: t}\nspec:\n"
    "  aiWorkloads:\n    namespaces:\n      names: [\"ml-*\"]\n"
    "      selectors: [{matchLabels: {egressguard.io/ai-workload: \"true\"}}]\n"
    "  allow:\n  - {name: registry, cidrs: [10.20.0.0/16], ports: [{port: 443}]}\n"
    "  exemptionWarningDays: 0\n"
    "  exemptions:\n"
    "  - {kind: NetworkPolicy, namespace: ml-legacy, name: open, reason: migration,"
    " expires: 2027-01-31}\n";

static const char cluster[] =
    "apiVersion: v1\nkind: Namespace\nmetadata: {name: ml-team}\n---\n"
    "apiVersion: v1\nkind: Namespace\nmetadata: {name: research}\n---\n"
    "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
    "metadata: {name: bad, namespace: ml-team, uid: u-bad}\n"
    "spec:\n  podSelector: {}\n  policyTypes: [Egress]\n"
    "  egress: [{to: [{ipBlock: {cidr: 0.0.0.0/0}}], ports: [{port: 443}]}]\n---\n"
    "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
    "metadata: {name: good, namespace: ml-team}\n"
    "spec:\n  podSelector: {}\n  policyTypes: [Egress]\n"
    "  egress: [{to: [{ipBlock: {cidr: 10.20.0.0/16}}], ports: [{port: 443}]}]\n---\n"
    "apiVersion: v1\nkind: Pod\nmetadata: {name: trainer, namespace: research}\n"
    "spec: {hostNetwork: true, containers: [{name: c, image: i}]}\n---\n"
    "apiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\nmetadata: {name: ccnp}\n"
    "spec:\n  endpointSelector: {}\n  egress: [{toCIDR: [10.20.0.0/16]}]\n---\n"
    "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
    "metadata: {name: open, namespace: ml-legacy}\n"
    "spec: {podSelector: {}, policyTypes: [Egress], egress: [{}]}\n";

struct fix {
    struct policy *pol;
    struct audit *a;
    struct manifest *m;
};

static json_t *obj_of(const char *text)
{
    struct manifest *m = manifest_new();
    json_t *o;

    assert_non_null(m);
    assert_int_equal(manifest_read_buffer(m, text, strlen(text), "t.yaml"), 0);
    assert_int_equal(manifest_n_errors(m), 0);
    o = json_incref(manifest_object(m, 0)->json);
    manifest_free(m);
    return o;
}

static void put(struct audit *a, const char *text)
{
    json_t *o = obj_of(text);
    struct err e = {0};

    if (audit_put(a, o, &e) < 0)
        fail_msg("%s", e.msg);
    json_decref(o);
}

static void run(struct audit *a, int64_t now, struct audit_changes *c)
{
    struct err e = {0};

    if (audit_run(a, now, c, &e) < 0)
        fail_msg("%s", e.msg);
}

/* The run changed exactly these namespaces (comma-separated, sorted; "" is cluster-scoped). */
static void expect_changes(const struct audit_changes *c, const char *want)
{
    char got[512] = "";

    for (size_t i = 0; i < c->n; i++)
        snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", i ? "," : "",
                 *c->namespaces[i] ? c->namespaces[i] : "<cluster>");
    assert_string_equal(got, want);
}

static const struct audit_object *find(const struct audit *a, const char *ns, const char *name)
{
    const struct audit_object *const *objs;
    size_t n = audit_objects(a, ns, &objs);

    for (size_t i = 0; i < n; i++)
        if (!strcmp(objs[i]->name, name))
            return objs[i];
    return NULL;
}

static size_t violations(const struct audit_object *o)
{
    size_t n = 0;

    assert_non_null(o);
    for (size_t i = 0; i < o->v.n_findings; i++)
        n += o->v.findings[i].violation;
    return n;
}

static int setup(void **state)
{
    struct fix *f = calloc(1, sizeof(*f));
    struct err e = {0};
    struct audit_changes c;

    if (!f || !(f->pol = policy_load_buffer(policy_text, strlen(policy_text), "p.yaml", &e)) ||
        !(f->a = audit_new()) || !(f->m = manifest_new()) ||
        manifest_read_buffer(f->m, cluster, strlen(cluster), "cluster.yaml") < 0)
        return -1;
    for (size_t i = 0; i < manifest_n_objects(f->m); i++)
        if (audit_put(f->a, manifest_object(f->m, i)->json, &e) < 0)
            return -1;
    audit_set_policy(f->a, f->pol);
    if (audit_run(f->a, T_2026_12_01, &c, &e) < 0)
        return -1;
    audit_changes_release(&c);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fix *f = *state;

    audit_free(f->a);
    manifest_free(f->m);
    policy_free(f->pol);
    free(f);
    return 0;
}

static void test_audit_first_run_judges_everything_as_admission_would(void **state)
{
    struct fix *f = *state;
    struct audit *a = audit_new();
    struct audit_changes c;
    char **names;
    size_t n;

    assert_non_null(a);
    put(a, "apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n");
    run(a, T_2026_12_01, &c); /* no policy yet: nothing decided */
    assert_int_equal(c.decided, 0);
    audit_changes_release(&c);
    audit_free(a);

    assert_int_equal(audit_size(f->a), manifest_n_objects(f->m));
    assert_int_equal(audit_namespaces(f->a, &names, &n), 0);
    assert_int_equal(n, 4);
    assert_string_equal(names[0], "");
    assert_string_equal(names[1], "ml-legacy");
    assert_string_equal(names[2], "ml-team");
    assert_string_equal(names[3], "research");
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    /* Every verdict is decide_object()'s for a CREATE of the object, finding for finding. */
    for (size_t i = 0; i < manifest_n_objects(f->m); i++) {
        const struct object *o = manifest_object(f->m, i);
        const struct audit_object *got = find(f->a, o->ns, o->name);
        struct request_ctx ctx = {.operation = "CREATE", .now = T_2026_12_01};
        struct verdict v;
        struct err e = {0};

        assert_non_null(got);
        verdict_init(&v);
        assert_int_equal(decide_object(f->pol, o, &ctx, &v, &e), 0);
        assert_int_equal(got->v.allowed, v.allowed);
        assert_int_equal(got->v.n_findings, v.n_findings);
        for (size_t j = 0; j < v.n_findings; j++)
            assert_string_equal(got->v.findings[j].message, v.findings[j].message);
        verdict_release(&v);
    }
    assert_false(find(f->a, "ml-team", "bad")->v.allowed);
    assert_string_equal(find(f->a, "ml-team", "bad")->uid, "u-bad");
    assert_true(find(f->a, "ml-team", "good")->v.allowed);
    assert_true(find(f->a, "research", "trainer")->v.allowed); /* research is not AI (yet) */
    assert_non_null(find(f->a, "ml-legacy", "open")->v.exemption);
}

static void test_audit_resync_and_unchanged_verdicts_change_nothing(void **state)
{
    struct fix *f = *state;
    struct audit_changes c;

    struct err e = {0};

    /* The same objects again (a relist): nothing to decide. */
    for (size_t i = 0; i < manifest_n_objects(f->m); i++)
        assert_int_equal(audit_put(f->a, manifest_object(f->m, i)->json, &e), 0);
    run(f->a, T_2026_12_01, &c);
    assert_int_equal(c.decided, 0);
    expect_changes(&c, "");
    audit_changes_release(&c);
    /* Another annotation and status: decided again, same verdict, no report to rewrite. */
    put(f->a, "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
              "metadata: {name: bad, namespace: ml-team, uid: u-bad, annotations: {a: b}}\n"
              "spec:\n  podSelector: {}\n  policyTypes: [Egress]\n"
              "  egress: [{to: [{ipBlock: {cidr: 0.0.0.0/0}}], ports: [{port: 443}]}]\n"
              "status: {conditions: []}\n");
    run(f->a, T_2026_12_01, &c);
    assert_int_equal(c.decided, 1);
    expect_changes(&c, "");
    audit_changes_release(&c);
}

static void test_audit_fixing_an_object_changes_its_namespace_only(void **state)
{
    struct fix *f = *state;
    struct audit_changes c;

    put(f->a, "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
              "metadata: {name: bad, namespace: ml-team, uid: u-bad}\n"
              "spec:\n  podSelector: {}\n  policyTypes: [Egress]\n"
              "  egress: [{to: [{ipBlock: {cidr: 10.20.1.0/24}}], ports: [{port: 443}]}]\n");
    run(f->a, T_2026_12_01, &c);
    assert_int_equal(c.decided, 1);
    expect_changes(&c, "ml-team");
    assert_true(find(f->a, "ml-team", "bad")->v.allowed);
    audit_changes_release(&c);
}

static void test_audit_labelling_a_namespace_ai_judges_its_objects(void **state)
{
    struct fix *f = *state;
    struct audit_changes c;
    const struct audit_object *pod;

    put(f->a, "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: research\n"
              "  labels: {egressguard.io/ai-workload: \"true\"}\n");
    run(f->a, T_2026_12_01, &c);
    /* The Namespace, the pod in it and the one cluster-scoped policy; nothing in ml-team. */
    assert_int_equal(c.decided, 3);
    expect_changes(&c, "research");
    pod = find(f->a, "research", "trainer");
    assert_false(pod->v.allowed);
    assert_int_equal(violations(pod), 1);
    assert_string_equal(pod->v.findings[0].rule, "pod.hostNetwork");
    audit_changes_release(&c);
    /* The label goes away again: the pod is admitted again. */
    put(f->a, "apiVersion: v1\nkind: Namespace\nmetadata: {name: research}\n");
    run(f->a, T_2026_12_01, &c);
    expect_changes(&c, "research");
    assert_true(find(f->a, "research", "trainer")->v.allowed);
    audit_changes_release(&c);
}

static void test_audit_delete_forgets_and_empties(void **state)
{
    struct fix *f = *state;
    struct audit_changes c;
    const struct audit_object *const *objs;

    assert_int_equal(audit_delete(f->a, "v1", "Pod", "research", "nothing"), 0);
    assert_int_equal(audit_delete(f->a, "v1", "Pod", "research", "trainer"), 0);
    run(f->a, T_2026_12_01, &c);
    assert_int_equal(c.decided, 0);
    expect_changes(&c, "research");
    assert_int_equal(audit_objects(f->a, "research", &objs), 0);
    audit_changes_release(&c);
    /* Deleting a Namespace makes its labels unknown again; its objects are decided again. */
    assert_int_equal(audit_delete(f->a, "v1", "Namespace", "", "ml-team"), 0);
    run(f->a, T_2026_12_01, &c);
    assert_int_equal(c.decided, 3); /* bad, good, ccnp */
    expect_changes(&c, "<cluster>");
    audit_changes_release(&c);
}

static void test_audit_exemption_end_needs_no_event(void **state)
{
    struct fix *f = *state;
    struct audit_changes c;
    const struct audit_object *o;

    assert_int_equal(audit_next_run(f->a), T_2027_02_01);
    run(f->a, T_2027_02_01 - 1, &c); /* the last second of the last day */
    assert_int_equal(c.decided, 0);
    audit_changes_release(&c);
    run(f->a, T_2027_02_01, &c);
    assert_int_equal(c.decided, 1); /* only the object the exemption let through */
    expect_changes(&c, "ml-legacy");
    o = find(f->a, "ml-legacy", "open");
    assert_null(o->v.exemption);
    assert_false(o->v.allowed);
    assert_true(violations(o) > 0);
    audit_changes_release(&c);
    assert_int_equal(audit_next_run(f->a), EXEMPTION_NEVER);
    run(f->a, T_2027_02_01 + DAY, &c);
    assert_int_equal(c.decided, 0);
    audit_changes_release(&c);
}

static void test_audit_new_policy_decides_everything(void **state)
{
    struct fix *f = *state;
    static const char narrower[] =
        "apiVersion: egressguard.io/v1alpha1\nkind: EgressPolicy\nmetadata: {name: t}\nspec:\n"
        "  aiWorkloads:\n    namespaces:\n      names: [\"ml-*\"]\n"
        "  allow:\n  - {name: registry, cidrs: [10.20.0.0/24], ports: [{port: 443}]}\n";
    struct err e = {0};
    struct policy *p = policy_load_buffer(narrower, strlen(narrower), "p2.yaml", &e);
    struct audit_changes c;

    assert_non_null(p);
    audit_set_policy(f->a, p);
    run(f->a, T_2026_12_01, &c);
    assert_int_equal(c.decided, audit_size(f->a));
    /* good and the CCNP (10.20.0.0/16) escape the narrower list; the exemption is gone. */
    expect_changes(&c, "<cluster>,ml-legacy,ml-team");
    assert_false(find(f->a, "ml-team", "good")->v.allowed);
    audit_changes_release(&c);
    audit_set_policy(f->a, f->pol);
    run(f->a, T_2026_12_01, &c);
    audit_changes_release(&c);
    policy_free(p);
}

static void test_audit_bad_objects(void **state)
{
    struct fix *f = *state;
    json_t *o = obj_of("apiVersion: v1\nkind: Pod\nmetadata: {namespace: x}\n");
    struct audit_changes c;
    const struct audit_object *got;
    struct err e = {0};

    assert_int_equal(audit_put(f->a, o, &e), -1);
    assert_string_equal(e.msg, "an object without kind or name cannot be audited");
    json_decref(o);
    /* A malformed policy is a result of its own (error), never an allow. */
    put(f->a, "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
              "metadata: {name: broken, namespace: ml-team}\n"
              "spec:\n  podSelector: {}\n  egress: [{to: [{ipBlock: {cidr: 10.0.0.0/33}}]}]\n");
    run(f->a, T_2026_12_01, &c);
    expect_changes(&c, "ml-team");
    got = find(f->a, "ml-team", "broken");
    assert_true(got->failed);
    assert_non_null(strstr(got->e.msg, "10.0.0.0/33"));
    audit_changes_release(&c);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_audit_first_run_judges_everything_as_admission_would),
        T(test_audit_resync_and_unchanged_verdicts_change_nothing),
        T(test_audit_fixing_an_object_changes_its_namespace_only),
        T(test_audit_labelling_a_namespace_ai_judges_its_objects),
        T(test_audit_delete_forgets_and_empties),
        T(test_audit_exemption_end_needs_no_event),
        T(test_audit_new_policy_decides_everything),
        T(test_audit_bad_objects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
