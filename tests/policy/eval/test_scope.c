/*
 * Scope: which network policies govern AI workloads (policy/eval/scope.c), on models built by
 * hand and end to end through decide_object().
 */
#include "policy/eval/scope.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/decide.h"
#include "tests/helpers/evalfix.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

/* AI namespaces by name (ml-*, notebooks) and by the label ai=true; AI pods by ai-pod=true. */
#define POLICY_HEAD                                                                                \
    "apiVersion: egressguard.io/v1alpha1\n"                                                        \
    "kind: EgressPolicy\n"                                                                         \
    "metadata: {name: t}\n"                                                                        \
    "spec:\n"                                                                                      \
    "  aiWorkloads:\n"                                                                             \
    "    namespaces:\n"                                                                            \
    "      names: [\"ml-*\", notebooks]\n"                                                         \
    "      selectors: [{matchLabels: {ai: \"true\"}}]\n"                                           \
    "    pods:\n"                                                                                  \
    "      selectors: [{matchLabels: {ai-pod: \"true\"}}]\n"                                       \
    "  allow:\n"                                                                                   \
    "    - name: registry\n"                                                                       \
    "      cidrs: [10.20.0.0/16]\n"                                                                \
    "      ports: [{protocol: TCP, port: 443}]\n"

static const char POLICY[] = POLICY_HEAD;

/* Namespaces that can be no AI namespace: no ai=true label, no name matching ml-* or notebooks. */
#define TEAM_NOT_AI "ai == 'no' && kubernetes.io/metadata.name starts with 'team-'"
#define TEAM_NOT_AI_TEXT "ai == \"no\" && kubernetes.io/metadata.name starts with \"team-\""

/* POLICY_HEAD plus more of spec (rules, exemptions). */
static struct policy *load_with(const char *more)
{
    char text[4096];

    snprintf(text, sizeof(text), "%s%s", POLICY_HEAD, more);
    return evalfix_policy_text(text);
}

static struct selector *sel(const char *text)
{
    struct err e;
    struct selector *s;

    if (!text)
        return NULL;
    if (!(s = selector_parse(text, &e)))
        fail_msg("selector %s: %s", text, e.msg);
    return s;
}

/* Namespaces the tests know: team-x (ai=true), web (team=web), kube-system (no labels). */
static struct nsdb *known(void)
{
    struct nsdb *db = nsdb_new();
    json_t *ai = json_pack("{s:s}", "ai", "true"), *web = json_pack("{s:s}", "team", "web");

    assert_non_null(db);
    assert_int_equal(nsdb_set(db, "team-x", ai), 0);
    assert_int_equal(nsdb_set(db, "web", web), 0);
    assert_int_equal(nsdb_set(db, "kube-system", NULL), 0);
    json_decref(ai);
    json_decref(web);
    return db;
}

/*
 * Checks whether a model governs AI workloads, and why (want_why NULL: any reason). ns: a
 * namespaced model's namespace (NULL: cluster-wide, with ns_sel); kind: the model's kind
 * (Calico kinds read projectcalico.org/name).
 */
static void gov_kind(const struct policy *pol, const char *kind, const char *ns, const char *ns_sel,
                     const char *pod_sel, const struct nsdb *db, bool want, const char *want_why)
{
    struct egress_model m;
    struct buf b;
    bool yes;

    egress_model_init(&m);
    m.kind = strdup(kind);
    m.ns = ns ? strdup(ns) : NULL;
    m.ns_sel = sel(ns_sel);
    m.pod_sel = sel(pod_sel);
    buf_init(&b, 0);
    yes = scope_governs_ai(pol, &m, db, &b);
    if (yes != want)
        fail_msg("%s/%s/%s: governs %d, want %d (%s)", ns ? ns : "-", ns_sel ? ns_sel : "-",
                 pod_sel ? pod_sel : "-", yes, want, buf_str(&b));
    if (want_why)
        assert_string_equal(buf_str(&b), want_why);
    buf_release(&b);
    egress_model_release(&m);
}

static void gov(const struct policy *pol, const char *ns, const char *ns_sel, const char *pod_sel,
                const struct nsdb *db, bool want, const char *want_why)
{
    gov_kind(pol, "Test", ns, ns_sel, pod_sel, db, want, want_why);
}

/* A namespaced policy governs AI workloads when its namespace is (or may be) an AI namespace. */
static void test_scope_namespaced(void **state)
{
    struct policy *pol = evalfix_policy_text(POLICY);
    struct nsdb *db = known();

    (void)state;
    /* by name glob, whatever the pod selector */
    gov(pol, "ml-a", NULL, "ai-pod == 'false'", NULL, true, "namespace ml-a is an AI namespace");
    /* by labels the run knows */
    gov(pol, "team-x", NULL, "ai-pod == 'false'", db, true, "namespace team-x is an AI namespace");
    /* labels unknown: it may be an AI namespace by aiWorkloads.namespaces.selectors */
    gov(pol, "team-y", NULL, "ai-pod == 'false'", db, true,
        "namespace team-y may be an AI namespace: its labels, which "
        "aiWorkloads.namespaces.selectors look at, are unknown here (give its Namespace "
        "object or --namespace-labels)");
    gov(pol, "team-x", NULL, NULL, NULL, true, NULL);
    /*
     * Known not to be an AI namespace: the pod rule aiWorkloadsOutsideAI (on by default, enforced)
     * keeps AI-labelled pods out of it, so even a pod selector matching every pod governs none.
     */
    gov(pol, "web", NULL, NULL, db, false,
        "namespace web is not an AI namespace (by name and labels); rule "
        "pods.aiWorkloadsOutsideAI keeps AI workloads out of it");
    gov(pol, "kube-system", NULL, "ai-pod == 'true'", db, false, NULL);
    nsdb_free(db);
    policy_free(pol);
}

/* Namespace selectors that decide on the name alone need no labels. */
static void test_scope_namespaced_selectors_on_the_name(void **state)
{
    struct policy *names = evalfix_policy_text("apiVersion: egressguard.io/v1alpha1\nkind: EgressPolicy\n"
                                "metadata: {name: t}\nspec:\n  aiWorkloads:\n"
                                "    namespaces:\n      names: [\"ml-*\"]\n"
                                "      selectors: [{matchExpressions: [{key: "
                                "kubernetes.io/metadata.name, operator: In, values: [lab]}]}]\n"
                                "    pods: {selectors: [{matchLabels: {ai-pod: \"true\"}}]}\n");
    struct policy *globs = evalfix_policy_text("apiVersion: egressguard.io/v1alpha1\nkind: EgressPolicy\n"
                                "metadata: {name: t}\nspec:\n  aiWorkloads:\n"
                                "    namespaces: {names: [\"ml-*\"]}\n");

    (void)state;
    gov(names, "lab", NULL, NULL, NULL, true, "namespace lab is an AI namespace");
    gov(names, "web", NULL, NULL, NULL, false,
        "namespace web is not an AI namespace (by name); rule pods.aiWorkloadsOutsideAI keeps "
        "AI workloads out of it");
    /* no namespace selectors at all: the name settles it */
    gov(globs, "web", NULL, NULL, NULL, false, NULL);
    gov(globs, "ml-web", NULL, NULL, NULL, true, NULL);
    policy_free(names);
    policy_free(globs);
}

/* Rule off, or not enforced: AI-labelled pods may run anywhere, so pod selectors count again. */
static void test_scope_rule_off_or_not_enforced(void **state)
{
    struct policy *off = load_with("  rules:\n    pods: {aiWorkloadsOutsideAI: false}\n");
    struct policy *audit = load_with("  rules:\n    pods: {mode: audit}\n");
    struct policy *warn = load_with("  mode: warn\n");
    struct nsdb *db = known();

    (void)state;
    assert_false(scope_ai_confined(off));
    assert_false(scope_ai_confined(audit));
    assert_false(scope_ai_confined(warn));
    gov(off, "web", NULL, "app == 'x'", db, true,
        "namespace web is not an AI namespace (by name and labels); AI pods may still run "
        "there (rule pods.aiWorkloadsOutsideAI is off), and its pod selector app == \"x\" may "
        "select pods labelled as AI workloads");
    gov(off, "web", NULL, "ai-pod == 'false'", db, false,
        "namespace web is not an AI namespace (by name and labels); AI pods may still run "
        "there (rule pods.aiWorkloadsOutsideAI is off), but its pod selector ai-pod == "
        "\"false\" cannot select pods with AI labels");
    gov(audit, "web", NULL, NULL, db, true,
        "namespace web is not an AI namespace (by name and labels); AI pods may still run "
        "there (rule pods.aiWorkloadsOutsideAI is in audit mode, which admits them), and its "
        "pod selector all() may select pods labelled as AI workloads");
    gov(warn, "web", NULL, NULL, db, true, NULL);
    /* unknown labels still mean "may be an AI namespace" */
    gov(off, "team-y", NULL, "ai-pod == 'false'", db, true, NULL);
    /* cluster-wide: namespaces that cannot be AI, and pods that may carry AI labels */
    gov(off, NULL, "kubernetes.io/metadata.name == 'web'", "app == 'x'", db, true, NULL);
    gov(off, NULL, TEAM_NOT_AI, "ai-pod == 'false'", db, false,
        "cluster-wide, its namespace selector " TEAM_NOT_AI_TEXT
        " cannot select an AI namespace; AI "
        "pods may still run there (rule pods.aiWorkloadsOutsideAI is off), but its pod "
        "selector ai-pod == \"false\" cannot select pods with AI labels");
    nsdb_free(db);
    policy_free(off);
    policy_free(audit);
    policy_free(warn);
}

/* Pods an exemption lets in skip the pod rules: their namespace is judged as before the rule. */
static void test_scope_exempt_pods(void **state)
{
    struct policy *pol = load_with("  exemptions:\n"
                                   "    - {kind: Pod, namespace: \"web*\", reason: batch team}\n"
                                   "    - {kind: Deployment, namespace: \"*\", reason: pods are "
                                   "judged on their own}\n");
    struct policy *ai_only = load_with("  exemptions:\n"
                                       "    - {namespace: ml-system, reason: platform}\n");
    struct nsdb *db = known();

    (void)state;
    gov(pol, "web", NULL, "app == 'x'", db, true,
        "namespace web is not an AI namespace (by name and labels); AI pods may still run "
        "there, exempt by spec.exemptions, and its pod selector app == \"x\" may select pods "
        "labelled as AI workloads");
    gov(pol, "kube-system", NULL, NULL, db, false, NULL);
    /* cluster-wide without pinned names: any namespace may be such a one */
    gov(pol, NULL, TEAM_NOT_AI, NULL, db, true, NULL);
    /* an exemption inside AI namespaces changes nothing */
    gov(ai_only, NULL, TEAM_NOT_AI, NULL, db, false, NULL);
    gov(ai_only, "web", NULL, NULL, db, false, NULL);
    nsdb_free(db);
    policy_free(pol);
    policy_free(ai_only);
}

/* Cluster-wide policies: judged for the AI namespaces their selectors can reach. */
static void test_scope_clusterwide(void **state)
{
    struct policy *pol = evalfix_policy_text(POLICY);
    struct nsdb *db = known();

    (void)state;
    /* every namespace: some are AI namespaces */
    gov(pol, NULL, "all()", "ai-pod == 'false'", db, true,
        "cluster-wide, its namespace selector all() may select an AI namespace");
    gov(pol, NULL, NULL, NULL, db, true, NULL);
    gov(pol, NULL, "ai == 'true'", NULL, NULL, true, NULL);
    gov(pol, NULL, "kubernetes.io/metadata.name starts with 'ml-'", NULL, NULL, true, NULL);
    /* cannot select an AI namespace, and AI workloads live only in AI namespaces */
    gov(pol, NULL, TEAM_NOT_AI, NULL, db, false,
        "cluster-wide, its namespace selector " TEAM_NOT_AI_TEXT
        " cannot select an AI namespace; rule "
        "pods.aiWorkloadsOutsideAI keeps AI workloads out of them");
    gov(pol, NULL, "!all()", NULL, db, false, NULL);

    /* pinned by name: decided by the name and the labels the run knows */
    gov(pol, NULL, "kubernetes.io/metadata.name == 'web'", NULL, db, false,
        "cluster-wide, its namespace selector kubernetes.io/metadata.name == \"web\" names only "
        "namespaces that are not AI namespaces (by name and the labels known here); rule "
        "pods.aiWorkloadsOutsideAI keeps AI workloads out of them");
    gov(pol, NULL, "kubernetes.io/metadata.name == 'team-x'", NULL, db, true,
        "cluster-wide, its namespace selector reaches namespace team-x, an AI namespace");
    gov(pol, NULL, "kubernetes.io/metadata.name == 'ml-x'", NULL, NULL, true,
        "cluster-wide, its namespace selector reaches namespace ml-x, an AI namespace");
    /* a name whose labels nobody told us may be an AI namespace by its labels */
    gov(pol, NULL, "kubernetes.io/metadata.name == 'web'", NULL, NULL, true,
        "cluster-wide, its namespace selector reaches namespace web, whose labels are unknown "
        "here: it may be an AI namespace by aiWorkloads.namespaces.selectors");
    gov(pol, NULL, "kubernetes.io/metadata.name in {'web', 'kube-system', 'team-x'}", NULL, db,
        true,
        "cluster-wide, its namespace selector reaches namespace team-x, an AI "
        "namespace");
    gov(pol, NULL, "kubernetes.io/metadata.name in {'web', 'kube-system'}", NULL, db, false, NULL);
    /* x2: labels unknown */
    gov(pol, NULL, "kubernetes.io/metadata.name == 'web' || kubernetes.io/metadata.name == 'x2'",
        NULL, db, true, NULL);
    /* the rest of the selector is evaluated on the known labels: team-x has no tier label */
    gov(pol, NULL, "kubernetes.io/metadata.name == 'team-x' && tier == 'gold'", NULL, db, false,
        NULL);
    gov(pol, NULL, "kubernetes.io/metadata.name == 'team-x' && ai == 'true'", NULL, db, true, NULL);
    nsdb_free(db);
    policy_free(pol);
}

/*
 * Calico sets projectcalico.org/name on every namespace's profile to the namespace's name
 * (docs.tigera.io, "Calico Kubernetes namespace labels"; users cannot set it), so in a Calico
 * namespaceSelector it pins the name just as kubernetes.io/metadata.name does.
 */
static void test_scope_calico_namespace_name(void **state)
{
    struct policy *pol = evalfix_policy_text(POLICY);
    struct nsdb *db = known();

    (void)state;
    gov_kind(pol, "GlobalNetworkPolicy.projectcalico.org", NULL, "projectcalico.org/name == 'web'",
             NULL, db, false, NULL);
    gov_kind(pol, "GlobalNetworkPolicy.projectcalico.org", NULL,
             "projectcalico.org/name in {'web', 'notebooks'}", NULL, db, true,
             "cluster-wide, its namespace selector reaches namespace notebooks, an AI "
             "namespace");
    /* in another API the key is an ordinary label, which any namespace may carry */
    gov_kind(pol, "CiliumClusterwideNetworkPolicy", NULL, "projectcalico.org/name == 'web'", NULL,
             db, true, NULL);
    nsdb_free(db);
    policy_free(pol);
}

static void test_scope_not_pods(void **state)
{
    struct policy *pol = evalfix_policy_text(POLICY);
    struct egress_model m;
    struct buf b;

    (void)state;
    egress_model_init(&m);
    m.host_policy = true;
    buf_init(&b, 0);
    assert_false(scope_governs_ai(pol, &m, NULL, &b));
    assert_string_equal(buf_str(&b), "it governs nodes (nodeSelector), not pods; AI pods may "
                                     "not use the host network (rule pods.hostNetwork)");
    buf_release(&b);
    egress_model_release(&m);
    gov(pol, "ml-a", NULL, "!all()", NULL, false, "its pod selector matches no pod");
    policy_free(pol);
}

/* ---- end to end: the note a policy that governs no AI workload gets, in every CNI ---- */

static void decide_text(const struct policy *pol, const char *yaml, const struct nsdb *db,
                        struct verdict *v)
{
    struct manifest *mf = manifest_new();
    struct request_ctx ctx = {.namespaces = db};
    struct err e = {0};

    assert_int_equal(manifest_read_buffer(mf, yaml, strlen(yaml), "np.yaml"), 0);
    if (manifest_n_errors(mf))
        fail_msg("%s", manifest_error(mf, 0)->msg);
    assert_int_equal(manifest_n_objects(mf), 1);
    verdict_init(v);
    if (decide_object(pol, manifest_object(mf, 0), &ctx, v, &e) != 0)
        fail_msg("%s", e.msg);
    manifest_free(mf);
}

/* form with every "NS" replaced by ns */
static void subst(char *out, size_t size, const char *form, const char *ns)
{
    size_t n = 0;

    for (const char *p = form; *p && n + strlen(ns) + 1 < size;) {
        if (!strncmp(p, "NS", 2)) {
            memcpy(out + n, ns, strlen(ns));
            n += strlen(ns);
            p += 2;
        } else {
            out[n++] = *p++;
        }
    }
    out[n] = '\0';
}

/* One object that opens the world, in namespace `ns` or pinned to it. */
static void expect_decided(const struct policy *pol, const struct nsdb *db, const char *yaml,
                           bool allowed, const char *needle)
{
    struct verdict v;
    bool found = false;

    decide_text(pol, yaml, db, &v);
    for (size_t i = 0; i < v.n_findings; i++)
        if (strstr(v.findings[i].message, needle))
            found = true;
    if (v.allowed != allowed || !found) {
        for (size_t i = 0; i < v.n_findings; i++)
            fprintf(stderr, "  %s %s\n", v.findings[i].violation ? "deny" : "note",
                    v.findings[i].message);
        fail_msg("want allowed=%d and a finding containing \"%s\"", allowed, needle);
    }
    verdict_release(&v);
}

static void test_scope_decide_every_cni(void **state)
{
    struct policy *pol = evalfix_policy_text(POLICY);
    struct nsdb *db = known();
    static const char np[] = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                             "metadata: {name: open, namespace: NS}\n"
                             "spec:\n  podSelector: {}\n  egress: [{}]\n";
    static const char cnp[] = "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\n"
                              "metadata: {name: open, namespace: NS}\n"
                              "spec:\n  endpointSelector: {}\n"
                              "  egress: [{toEntities: [world]}]\n";
    static const char ccnp[] = "apiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\n"
                               "metadata: {name: open}\n"
                               "spec:\n  endpointSelector:\n    matchLabels:\n"
                               "      k8s:io.kubernetes.pod.namespace: NS\n"
                               "  egress: [{toEntities: [world]}]\n";
    static const char gnp[] = "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\n"
                              "metadata: {name: open}\n"
                              "spec:\n  namespaceSelector: projectcalico.org/name == 'NS'\n"
                              "  types: [Egress]\n  egress: [{action: Allow}]\n";
    static const char cnp_calico[] = "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\n"
                                     "metadata: {name: open, namespace: NS}\n"
                                     "spec:\n  types: [Egress]\n  egress: [{action: Allow}]\n";
    const char *const forms[] = {np, cnp, ccnp, gnp, cnp_calico};
    char yaml[1024];

    (void)state;
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        /* a namespace known not to be an AI namespace: not judged, and the note says why */
        subst(yaml, sizeof(yaml), forms[i], "web");
        expect_decided(pol, db, yaml, true, "not evaluated: it governs no AI workload");
        expect_decided(pol, db, yaml, true,
                       "rule pods.aiWorkloadsOutsideAI keeps AI workloads "
                       "out of");
        /* an AI namespace by its labels: judged */
        subst(yaml, sizeof(yaml), forms[i], "team-x");
        expect_decided(pol, db, yaml, false, "team-x");
        /* labels unknown: may be an AI namespace, judged, and the message says so */
        subst(yaml, sizeof(yaml), forms[i], "web");
        expect_decided(pol, NULL, yaml, false, "unknown here");
    }
    nsdb_free(db);
    policy_free(pol);
}

/*
 * nsunknown.h judges an object whose namespace's labels are unknown both ways; in the reading
 * "they do not make it an AI namespace" (request_ctx.ns_assumed_not_ai) a policy there governs no
 * AI workload, so the two readings differ and the decision fails closed, saying why.
 */
static void test_scope_assumed_not_ai(void **state)
{
    struct policy *pol = evalfix_policy_text(POLICY);
    struct nsdb *none = nsdb_new();
    struct egress_model m;
    struct buf b;
    static const char np[] = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                             "metadata: {name: open, namespace: team-y}\n"
                             "spec:\n  podSelector: {}\n  egress: [{}]\n";
    struct manifest *mf = manifest_new();
    struct request_ctx ctx = {.namespaces = none, .ns_unknown_reason = "not in the test"};
    struct verdict v;
    struct err e = {0};
    bool found = false;

    (void)state;
    egress_model_init(&m);
    m.ns = strdup("team-y");
    buf_init(&b, 0);
    assert_false(scope_governs_ai_assuming(pol, &m, NULL, "team-y", &b));
    assert_string_equal(buf_str(&b), "namespace team-y is not an AI namespace (by name, and taken "
                                     "not to be one by labels); rule pods.aiWorkloadsOutsideAI "
                                     "keeps AI workloads out of it");
    buf_release(&b);
    /* the assumption is about that one namespace */
    assert_true(scope_governs_ai_assuming(pol, &m, NULL, "team-z", NULL));
    free(m.ns);
    m.ns = strdup("ml-a"); /* AI by name whatever its labels */
    assert_true(scope_governs_ai_assuming(pol, &m, NULL, "ml-a", NULL));
    egress_model_release(&m);

    assert_non_null(none);
    assert_int_equal(manifest_read_buffer(mf, np, strlen(np), "np.yaml"), 0);
    verdict_init(&v);
    assert_int_equal(decide_object(pol, manifest_object(mf, 0), &ctx, &v, &e), 0);
    assert_false(v.allowed);
    for (size_t i = 0; i < v.n_findings; i++)
        if (!strcmp(v.findings[i].rule, "namespace.labelsUnknown") && v.findings[i].violation &&
            strstr(v.findings[i].message, "if they make it an AI namespace"))
            found = true;
    assert_true(found);
    verdict_release(&v);
    /* opted out (--namespace-labels-unknown=allow): taken as not an AI namespace, not judged */
    ctx.ns_unknown_allow = true;
    verdict_init(&v);
    assert_int_equal(decide_object(pol, manifest_object(mf, 0), &ctx, &v, &e), 0);
    assert_true(v.allowed);
    verdict_release(&v);
    manifest_free(mf);
    nsdb_free(none);
    policy_free(pol);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scope_namespaced),
        cmocka_unit_test(test_scope_namespaced_selectors_on_the_name),
        cmocka_unit_test(test_scope_rule_off_or_not_enforced),
        cmocka_unit_test(test_scope_exempt_pods),
        cmocka_unit_test(test_scope_clusterwide),
        cmocka_unit_test(test_scope_calico_namespace_name),
        cmocka_unit_test(test_scope_not_pods),
        cmocka_unit_test(test_scope_decide_every_cni),
        cmocka_unit_test(test_scope_assumed_not_ai),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
