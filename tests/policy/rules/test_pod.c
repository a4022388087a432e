#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "policy/decide.h"
#include "tests/helpers/evalfix.h"
#include "policy/config/nsdb.h"

#define DIR "tests/data/pod/"

static int setup(void **state)
{
    *state = evalfix_policy(DIR "policy.yaml");
    return 0;
}

static int teardown(void **state)
{
    policy_free(*state);
    return 0;
}

static void test_pod_decide_ai_pod_passes_every_rule(void **state)
{
    struct evalfix f;

    evalfix_file(&f, *state, DIR "ai-pass.yaml", 0, NULL);
    evalfix_expect_clean(&f);
    assert_int_equal(f.v.n_findings, 0);
    evalfix_release(&f);
}

static void test_pod_decide_host_network(void **state)
{
    struct evalfix f;

    evalfix_file(&f, *state, DIR "hostnetwork.yaml", 0, NULL);
    evalfix_expect(&f, "pod.hostNetwork", "spec.hostNetwork", 8,
                   "hostNetwork: true puts the pod on the node's network");
    evalfix_expect(&f, "pod.hostNetwork", "spec.hostNetwork", 8,
                   "AI workload: namespace \"ml-train\" is an AI namespace");
    assert_false(f.v.allowed);
    assert_int_equal(f.v.findings[0].mode, MODE_ENFORCE);
    evalfix_release(&f);

    evalfix_file(&f, *state, DIR "hostnetwork.yaml", 1, NULL);
    evalfix_expect_clean(&f);
    evalfix_release(&f);
}

static void test_pod_decide_privileged(void **state)
{
    struct evalfix f;

    evalfix_file(&f, *state, DIR "privileged.yaml", 0, NULL);
    evalfix_expect(&f, "pod.privileged", "spec.containers[1].securityContext.privileged", 14,
                   "a privileged container can rewrite the pod's own packet filtering");
    assert_int_equal(evalfix_count(&f, "pod.privileged", true), 1);
    evalfix_release(&f);

    evalfix_file(&f, *state, DIR "privileged.yaml", 1, NULL);
    evalfix_expect_clean(&f);
    evalfix_release(&f);
}

static void test_pod_decide_capabilities_any_case_and_prefix(void **state)
{
    struct evalfix f;

    evalfix_file(&f, *state, DIR "capabilities.yaml", 0, NULL);
    evalfix_expect(&f, "pod.capabilities", "spec.initContainers[0].securityContext.capabilities.add[0]",
                   13, "capability cap_net_admin lets the container change");
    evalfix_expect(&f, "pod.capabilities", "spec.containers[0].securityContext.capabilities.add[0]",
                   19, "capability Net_Raw");
    evalfix_expect(&f, "pod.capabilities", "spec.containers[0].securityContext.capabilities.add[1]",
                   19, "capability CAP_SYS_ADMIN");
    evalfix_expect(&f, "pod.capabilities", "spec.containers[0].securityContext.capabilities.add[2]",
                   19, "capability all");
    evalfix_expect(&f, "pod.capabilities",
                   "spec.ephemeralContainers[0].securityContext.capabilities.add[0]", 25,
                   "capability NET_ADMIN");
    assert_int_equal(evalfix_count(&f, "pod.capabilities", true), 5);
    evalfix_release(&f);

    evalfix_file(&f, *state, DIR "capabilities.yaml", 1, NULL);
    evalfix_expect_clean(&f);
    evalfix_release(&f);
}

static void test_pod_decide_dns(void **state)
{
    struct evalfix f;

    evalfix_file(&f, *state, DIR "dns.yaml", 0, NULL);
    evalfix_expect(&f, "pod.dns", "spec.dnsConfig.nameservers[1]", 11,
                   "nameserver 8.8.8.8 is not in the allow-list on UDP or TCP port 53");
    /* In an allow entry's CIDRs, but that entry allows TCP/443 only. */
    evalfix_expect(&f, "pod.dns", "spec.dnsConfig.nameservers[2]", 12, "nameserver 10.20.0.53");
    assert_int_equal(evalfix_count(&f, "pod.dns", true), 2);
    evalfix_release(&f);

    evalfix_file(&f, *state, DIR "dns.yaml", 1, NULL);
    evalfix_expect(&f, "pod.dns", "spec.dnsPolicy", 23,
                   "dnsPolicy: None without dnsConfig.nameservers");
    evalfix_release(&f);

    evalfix_file(&f, *state, DIR "dns.yaml", 2, NULL);
    evalfix_expect_clean(&f);
    evalfix_release(&f);
}

static void test_pod_decide_dns_rejects_a_nameserver_that_is_no_address(void **state)
{
    struct evalfix f;

    evalfix_file(&f, *state, DIR "dns.yaml", 3, NULL);
    assert_int_equal(f.rc, -1);
    assert_string_equal(f.e.msg, "spec.dnsConfig.nameservers[0]: \"8.8.8.8/32\" is not an IP address");
    assert_string_equal(f.e.file, DIR "dns.yaml");
    assert_int_equal(f.e.line, 49);
    evalfix_release(&f);
}

static void test_pod_decide_mesh_bypass(void **state)
{
    struct evalfix f;

    evalfix_file(&f, *state, DIR "mesh.yaml", 0, NULL);
    evalfix_expect(&f, "pod.mesh",
                   "metadata.annotations[traffic.sidecar.istio.io/excludeOutboundIPRanges]", 10,
                   "sends traffic to 0.0.0.0/0 past the sidecar, and that is outside");
    evalfix_expect(&f, "pod.mesh",
                   "metadata.annotations[traffic.sidecar.istio.io/includeOutboundIPRanges]", 11,
                   "captures only \"10.0.0.0/8\"");
    evalfix_expect(&f, "pod.mesh",
                   "metadata.annotations[traffic.sidecar.istio.io/excludeOutboundPorts]", 12,
                   "\"5432\" lets traffic on these ports reach any destination");
    /* Inside no allow entry: the deny list wins anyway. */
    evalfix_expect(&f, "pod.mesh", "metadata.annotations[config.linkerd.io/skip-subnets]", 13,
                   "169.254.169.254/32");
    evalfix_expect(&f, "pod.mesh", "metadata.annotations[config.linkerd.io/skip-outbound-ports]",
                   14, "\"25,587\"");
    evalfix_expect(&f, "pod.mesh", "metadata.labels[sidecar.istio.io/inject]", 8,
                   "sidecar.istio.io/inject: \"false\" keeps the Istio sidecar out");
    evalfix_expect(&f, "pod.mesh", "metadata.annotations[linkerd.io/inject]", 15,
                   "linkerd.io/inject: disabled");
    assert_int_equal(evalfix_count(&f, "pod.mesh", true), 7);
    evalfix_release(&f);

    evalfix_file(&f, *state, DIR "mesh.yaml", 1, NULL);
    evalfix_expect(&f, "pod.mesh", "metadata.annotations[sidecar.istio.io/inject]", 28,
                   "\"no\"");
    evalfix_expect(&f, "pod.mesh",
                   "metadata.annotations[traffic.sidecar.istio.io/excludeOutboundIPRanges]", 29,
                   "sends traffic to * past the sidecar");
    evalfix_release(&f);

    evalfix_file(&f, *state, DIR "mesh.yaml", 2, NULL);
    evalfix_expect_clean(&f);
    evalfix_release(&f);
}

static void test_pod_decide_proxy_env(void **state)
{
    struct evalfix f;

    evalfix_file(&f, *state, DIR "proxyenv.yaml", 0, NULL);
    evalfix_expect(&f, "pod.proxyEnv", "spec.containers[0].env[0].value", 13,
                   "HTTPS_PROXY sends traffic through the proxy squid.evil.example.org, port 3128");
    /* No port: clients may use 80 (Go) or 1080 (curl); the allow-list holds it on 3128 only. */
    evalfix_expect(&f, "pod.proxyEnv", "spec.containers[0].env[1].value", 15,
                   "http_proxy sends traffic through the proxy 10.40.0.9, port 80");
    evalfix_expect(&f, "pod.proxyEnv", "spec.containers[0].env[2].value", 17,
                   "NO_PROXY sends traffic to \"*\", \".example.org\", \"0.0.0.0/0\" around the proxy");
    evalfix_expect(&f, "pod.proxyEnv", "spec.containers[0].env[3].value", 19,
                   "the proxy 169.254.169.254, port 1080");
    assert_int_equal(evalfix_count(&f, "pod.proxyEnv", true), 4);
    assert_non_null(evalfix_find(&f, "pod.proxyEnv", false, 0));
    assert_string_equal(evalfix_find(&f, "pod.proxyEnv", false, 0)->path,
                        "spec.containers[0].envFrom");
    assert_string_equal(evalfix_find(&f, "pod.proxyEnv", false, 1)->path,
                        "spec.containers[0].env[4].valueFrom");
    assert_non_null(strstr(evalfix_find(&f, "pod.proxyEnv", false, 1)->message,
                           "no_proxy comes from valueFrom, which cannot be checked offline"));
    evalfix_release(&f);

    evalfix_file(&f, *state, DIR "proxyenv.yaml", 1, NULL);
    evalfix_expect_clean(&f);
    evalfix_release(&f);
}

static void test_pod_decide_accelerator_outside_ai_namespace(void **state)
{
    struct evalfix f;

    evalfix_file(&f, *state, DIR "accelerator.yaml", 0, NULL);
    evalfix_expect(&f, "pod.aiWorkloadOutsideAI",
                   "spec.containers[0].resources.limits[nvidia.com/gpu]", 16,
                   "requests accelerator nvidia.com/gpu in namespace \"default\", which is not an "
                   "AI namespace (by its name; its labels, which aiWorkloads.namespaces.selectors "
                   "look at, are unknown here)");
    evalfix_expect(&f, "pod.aiWorkloadOutsideAI",
                   "spec.initContainers[0].resources.requests[amd.com/gpu]", 11,
                   "amd.com/gpu");
    /* One finding per container and resource: the request that matches a limit is not repeated. */
    assert_int_equal(evalfix_count(&f, "pod.aiWorkloadOutsideAI", true), 2);
    /* Requesting an accelerator makes it an AI pod: the AI-only rules apply too. */
    evalfix_expect(&f, "pod.requiredLabels", "metadata.labels", 4,
                   "AI workload: requests nvidia.com/gpu at "
                   "spec.containers[0].resources.limits[nvidia.com/gpu]");
    evalfix_release(&f);

    evalfix_file(&f, *state, DIR "accelerator.yaml", 1, NULL);
    evalfix_expect_clean(&f);
    evalfix_release(&f);

    /* Zero GPUs is no request, and a pod that is not an AI workload may use the host network. */
    evalfix_file(&f, *state, DIR "accelerator.yaml", 2, NULL);
    evalfix_expect_clean(&f);
    assert_int_equal(f.v.n_findings, 0);
    evalfix_release(&f);
}

static void test_pod_decide_required_labels_and_pod_selectors(void **state)
{
    struct evalfix f;

    /* No namespace (kubectl's "default"), AI by its labels. */
    evalfix_file(&f, *state, DIR "labels.yaml", 0, NULL);
    evalfix_expect(&f, "pod.requiredLabels", "metadata.labels", 6,
                   "AI pods must carry the label data-classification, which is missing (AI "
                   "workload: metadata.labels match aiWorkloads.pods.selectors[0])");
    evalfix_release(&f);

    evalfix_file(&f, *state, DIR "labels.yaml", 1, NULL);
    evalfix_expect(&f, "pod.requiredLabels", "metadata.labels", 17, "which is empty");
    evalfix_expect(&f, "pod.hostNetwork", "spec.hostNetwork", 20, "hostNetwork");
    evalfix_release(&f);

    evalfix_file(&f, *state, DIR "labels.yaml", 2, NULL);
    evalfix_expect_clean(&f);
    evalfix_release(&f);
}

static void test_pod_decide_namespace_labels_make_an_ai_pod(void **state)
{
    struct evalfix f;
    struct nsdb *db = nsdb_new();
    struct err e = {0};
    struct request_ctx ctx = {0};
    /* research is no AI namespace by name; its labels make it one. */
    const char *pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: research}\n"
                      "spec:\n  hostNetwork: true\n  containers: [{name: c, image: i}]\n";

    assert_non_null(db);
    evalfix_text(&f, *state, pod, 0, NULL);
    evalfix_expect_clean(&f);
    evalfix_release(&f);

    assert_int_equal(nsdb_set_spec(db, "research=egressguard.io/ai-workload=true", &e), 0);
    ctx.namespaces = db;
    evalfix_text(&f, *state, pod, 0, &ctx);
    evalfix_expect(&f, "pod.hostNetwork", "spec.hostNetwork", 5,
                   "AI workload: namespace \"research\" is an AI namespace");
    evalfix_release(&f);
    nsdb_free(db);
}

/* The server's per-request view: one namespace, its labels borrowed. */
static void test_nsdb_init_one_knows_one_namespace(void **state)
{
    struct evalfix f;
    struct nsdb view;
    struct request_ctx ctx = {0};
    json_t *labels = json_pack("{s:s}", "egressguard.io/ai-workload", "true");
    const char *pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: research}\n"
                      "spec:\n  hostNetwork: true\n  containers: [{name: c, image: i}]\n";

    assert_non_null(labels);
    nsdb_init_one(&view, "research", labels);
    assert_ptr_equal(nsdb_labels(&view, "research"), labels);
    assert_null(nsdb_labels(&view, "other"));
    assert_int_equal(nsdb_set(&view, "other", NULL), -1);
    ctx.namespaces = &view;
    evalfix_text(&f, *state, pod, 0, &ctx);
    evalfix_expect(&f, "pod.hostNetwork", "spec.hostNetwork", 5,
                   "AI workload: namespace \"research\" is an AI namespace");
    evalfix_release(&f);
    nsdb_init_one(&view, "research", NULL);
    assert_null(nsdb_labels(&view, "research"));
    json_decref(labels);
}

static void test_verdict_uses_namespace_labels_only_where_they_matter(void **state)
{
    static const struct {
        const char *api_version, *kind, *ns, *op;
        bool want;
    } cases[] = {
        {"v1", "Pod", "research", "CREATE", true},
        {"apps/v1", "Deployment", "research", "UPDATE", true},
        {"networking.k8s.io/v1", "NetworkPolicy", "research", "CREATE", true},
        {"v1", "Pod", "", "CREATE", false},        /* no namespace */
        {"v1", "Pod", "research", "DELETE", false}, /* only the managed guard speaks */
        {"v1", "Namespace", "", "CREATE", false},   /* its labels are in the object */
        {"v1", "ConfigMap", "research", "CREATE", false},
        {"cilium.io/v2", "CiliumClusterwideNetworkPolicy", "", "CREATE", false},
    };
    struct request_ctx ctx = {0};
    struct policy *none;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct object o;
        json_t *j = json_pack("{s:s, s:s, s:{s:s, s:s}}", "apiVersion", cases[i].api_version,
                              "kind", cases[i].kind, "metadata", "name", "x", "namespace",
                              cases[i].ns);
        assert_non_null(j);
        object_init(&o, j, NULL);
        ctx.operation = cases[i].op;
        if (decide_uses_namespace_labels(*state, &o, &ctx) != cases[i].want)
            fail_msg("%s %s in \"%s\": want %d", cases[i].op, cases[i].kind, cases[i].ns,
                     cases[i].want);
        json_decref(j);
    }
    /* A policy without namespace selectors: labels change nothing, so none are looked up. */
    none = evalfix_policy(DIR "policy-names-only.yaml");
    {
        struct object o;
        json_t *j = json_pack("{s:s, s:s, s:{s:s, s:s}}", "apiVersion", "v1", "kind", "Pod",
                              "metadata", "name", "x", "namespace", "research");
        assert_non_null(j);
        object_init(&o, j, NULL);
        ctx.operation = "CREATE";
        assert_false(decide_uses_namespace_labels(none, &o, &ctx));
        json_decref(j);
    }
    policy_free(none);
}

static void test_pod_decide_workload_paths(void **state)
{
    static const struct {
        const char *kind, *priv, *labels;
        int priv_line, labels_line;
    } want[] = {
        {"Deployment", "spec.template.spec.containers[0].securityContext.privileged",
         "spec.template.metadata.labels", 14, 9},
        {"StatefulSet", "spec.template.spec.containers[0].securityContext.privileged",
         "spec.template.metadata.labels", 29, 24},
        {"DaemonSet", "spec.template.spec.containers[0].securityContext.privileged",
         "spec.template.metadata.labels", 44, 39},
        {"ReplicaSet", "spec.template.spec.containers[0].securityContext.privileged",
         "spec.template.metadata.labels", 59, 54},
        {"Job", "spec.template.spec.containers[0].securityContext.privileged",
         "spec.template.metadata.labels", 74, 69},
        {"Deployment", "spec.template.spec.containers[0].securityContext.privileged",
         "spec.template.metadata.labels", 89, 84},
        {"ReplicationController", "spec.template.spec.containers[0].securityContext.privileged",
         "spec.template.metadata.labels", 104, 99},
        {"CronJob", "spec.jobTemplate.spec.template.spec.containers[0].securityContext.privileged",
         "spec.jobTemplate.spec.template.metadata.labels", 122, 117},
        {"PodTemplate", "template.spec.containers[0].securityContext.privileged",
         "template.metadata.labels", 136, 131},
    };
    size_t i;

    for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        struct evalfix f;

        evalfix_file(&f, *state, DIR "workloads.yaml", i, NULL);
        assert_string_equal(f.obj->kind, want[i].kind);
        evalfix_expect(&f, "pod.privileged", want[i].priv, want[i].priv_line, "privileged");
        evalfix_expect(&f, "pod.requiredLabels", want[i].labels, want[i].labels_line,
                       "data-classification");
        assert_false(f.v.allowed);
        evalfix_release(&f);
    }

    {
        struct evalfix f;

        evalfix_file(&f, *state, DIR "workload-pass.yaml", 0, NULL);
        evalfix_expect_clean(&f);
        evalfix_release(&f);
    }
}

static void test_pod_decide_malformed(void **state)
{
    static const struct {
        const char *msg;
        int line;
    } want[] = {
        {"spec.hostNetwork: must be a boolean, not a string", 7},
        {"spec.template: missing: a Deployment needs a pod template", 16},
        {"spec.containers: must be a list, not a mapping", 25},
        {"metadata.annotations[sidecar.istio.io/inject]: must be a string, not a boolean", 33},
    };
    size_t i;

    for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        struct evalfix f;

        evalfix_file(&f, *state, DIR "malformed.yaml", i, NULL);
        assert_int_equal(f.rc, -1);
        assert_string_equal(f.e.msg, want[i].msg);
        assert_string_equal(f.e.file, DIR "malformed.yaml");
        assert_int_equal(f.e.line, want[i].line);
        evalfix_release(&f);
    }
}

static void test_pod_decide_exemption_reported(void **state)
{
    struct evalfix f;

    evalfix_file(&f, *state, DIR "exempt.yaml", 0, NULL);
    evalfix_expect_clean(&f);
    assert_non_null(f.v.exemption);
    assert_string_equal(f.v.exemption, "the platform team's controllers");
    assert_int_equal(evalfix_count(&f, "exemption", false), 1);
    assert_int_equal(evalfix_count(&f, "pod.hostNetwork", true), 0);
    evalfix_release(&f);
}

static void test_pod_decide_modes_and_switches(void **state)
{
    const char *policy =
        "apiVersion: egressguard.io/v1alpha1\nkind: EgressPolicy\nmetadata: {name: t}\n"
        "spec:\n  aiWorkloads:\n    namespaces: {names: [\"ml-*\"]}\n"
        "  rules:\n    pods:\n      mode: warn\n      hostNetwork: false\n"
        "      aiWorkloadsOutsideAI: false\n";
    struct err e = {0};
    struct policy *p = policy_load_buffer(policy, strlen(policy), "p.yaml", &e);
    struct evalfix f;

    (void)state;
    assert_non_null(p);
    evalfix_file(&f, p, DIR "hostnetwork.yaml", 0, NULL);
    evalfix_expect_clean(&f);
    evalfix_release(&f);
    evalfix_file(&f, p, DIR "accelerator.yaml", 0, NULL);
    assert_int_equal(evalfix_count(&f, "pod.aiWorkloadOutsideAI", true), 0);
    evalfix_release(&f);
    /* warn: the violation is reported and the pod admitted. */
    evalfix_file(&f, p, DIR "privileged.yaml", 0, NULL);
    assert_int_equal(evalfix_find(&f, "pod.privileged", true, 0)->mode, MODE_WARN);
    assert_true(f.v.allowed);
    evalfix_release(&f);
    policy_free(p);
}

/*
 * rules.pods.aiWorkloadsOutsideAI: an AI workload by pod labels (or accelerators, above) must run
 * in an AI namespace. A namespace whose labels the run does not know is judged by its name, and
 * the message says its labels were unknown.
 */
static void test_pod_decide_ai_labels_outside_ai_namespace(void **state)
{
    struct nsdb *db = nsdb_new();
    struct request_ctx ctx = {0};
    json_t *plain = json_pack("{s:s}", "team", "web"),
           *ai = json_pack("{s:s}", "egressguard.io/ai-workload", "true");
    struct evalfix f;

    assert_non_null(db);
    assert_non_null(plain);
    assert_non_null(ai);
    evalfix_file(&f, *state, DIR "outside-ai.yaml", 0, NULL);
    evalfix_expect(&f, "pod.aiWorkloadOutsideAI", "metadata.labels", 8,
                   "labels match aiWorkloads.pods.selectors[0], so this is an AI workload, but "
                   "namespace \"team-web\" is not an AI namespace (by its name; its labels, which "
                   "aiWorkloads.namespaces.selectors look at, are unknown here): AI work must run "
                   "where its egress is governed");
    assert_int_equal(evalfix_count(&f, "pod.aiWorkloadOutsideAI", true), 1);
    assert_false(f.v.allowed);
    evalfix_release(&f);

    /* its labels known, and not those of an AI namespace */
    assert_int_equal(nsdb_set(db, "team-web", plain), 0);
    ctx.namespaces = db;
    evalfix_file(&f, *state, DIR "outside-ai.yaml", 0, &ctx);
    evalfix_expect(&f, "pod.aiWorkloadOutsideAI", "metadata.labels", 8,
                   "namespace \"team-web\" is not an AI namespace: AI work must run");
    evalfix_release(&f);
    /* the workload template says the same at its own path */
    evalfix_file(&f, *state, DIR "outside-ai.yaml", 1, &ctx);
    evalfix_expect(&f, "pod.aiWorkloadOutsideAI", "spec.template.metadata.labels", 23,
                   "namespace \"team-web\" is not an AI namespace");
    evalfix_release(&f);
    /* an ordinary pod there is none of egressguard's business */
    evalfix_file(&f, *state, DIR "outside-ai.yaml", 2, &ctx);
    evalfix_expect_clean(&f);
    assert_int_equal(f.v.n_findings, 0);
    evalfix_release(&f);

    /* labelled as an AI namespace: the pod is where it belongs */
    assert_int_equal(nsdb_set(db, "team-web", ai), 0);
    evalfix_file(&f, *state, DIR "outside-ai.yaml", 0, &ctx);
    evalfix_expect_clean(&f);
    assert_int_equal(evalfix_count(&f, "pod.aiWorkloadOutsideAI", false), 0);
    evalfix_release(&f);
    evalfix_file(&f, *state, DIR "outside-ai.yaml", 1, &ctx);
    evalfix_expect_clean(&f);
    evalfix_release(&f);

    json_decref(plain);
    json_decref(ai);
    nsdb_free(db);
}

/* The rule's switch, and its old name acceleratorsOutsideAI kept as an alias with a note. */
static void test_pod_decide_ai_outside_ai_switch_and_alias(void **state)
{
    static const char head[] =
        "apiVersion: egressguard.io/v1alpha1\nkind: EgressPolicy\nmetadata: {name: t}\n"
        "spec:\n  aiWorkloads:\n    namespaces: {names: [\"ml-*\"]}\n"
        "    pods: {selectors: [{matchLabels: {egressguard.io/ai-workload: \"true\"}}]}\n"
        "    accelerators: [nvidia.com/gpu, amd.com/gpu]\n  rules:\n    pods:\n";
    static const struct {
        const char *pods;
        bool on;
        int note_line; /* 0: no note */
    } cases[] = {
        {"      hostNetwork: true\n", true, 0},
        {"      aiWorkloadsOutsideAI: false\n", false, 0},
        {"      acceleratorsOutsideAI: false\n", false, 11},
        {"      acceleratorsOutsideAI: true\n", true, 11},
        {"      aiWorkloadsOutsideAI: true\n      acceleratorsOutsideAI: true\n", true, 12},
    };
    char text[1024];
    struct err e = {0};

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct policy *p;
        struct evalfix f;

        snprintf(text, sizeof(text), "%s%s", head, cases[i].pods);
        p = policy_load_buffer(text, strlen(text), "p.yaml", &e);
        if (!p)
            fail_msg("case %zu: %s", i, e.msg);
        assert_int_equal(p->pods.ai_outside_ai, cases[i].on);
        assert_int_equal(p->n_notes, cases[i].note_line ? 1 : 0);
        if (cases[i].note_line) {
            assert_int_equal(p->notes[0].line, cases[i].note_line);
            assert_int_equal(p->notes[0].col, 30);
            assert_string_equal(p->notes[0].file, "p.yaml");
            assert_non_null(strstr(p->notes[0].msg, "spec.rules.pods.acceleratorsOutsideAI is "
                                                     "the old name of aiWorkloadsOutsideAI"));
        }
        evalfix_file(&f, p, DIR "outside-ai.yaml", 0, NULL);
        assert_int_equal(evalfix_count(&f, "pod.aiWorkloadOutsideAI", true), cases[i].on);
        evalfix_release(&f);
        evalfix_file(&f, p, DIR "accelerator.yaml", 0, NULL);
        assert_int_equal(evalfix_count(&f, "pod.aiWorkloadOutsideAI", true), cases[i].on ? 2 : 0);
        evalfix_release(&f);
        policy_free(p);
    }
    /* the two names disagreeing is a mistake, not a choice */
    snprintf(text, sizeof(text), "%s%s", head,
             "      aiWorkloadsOutsideAI: false\n      acceleratorsOutsideAI: true\n");
    assert_null(policy_load_buffer(text, strlen(text), "p.yaml", &e));
    assert_string_equal(e.msg, "spec.rules.pods: aiWorkloadsOutsideAI: false and "
                               "acceleratorsOutsideAI: true disagree: acceleratorsOutsideAI is "
                               "its old name; keep aiWorkloadsOutsideAI");
    assert_int_equal(e.line, 11);
}

/* Every pod and workload of the third-party corpus evaluates without an error. */
static void test_pod_decide_corpus(void **state)
{
    static const char *const dirs[] = {
        "tests/data/corpus/manifests/kubernetes__examples",
        "tests/data/corpus/manifests/kubernetes__website",
        "tests/data/corpus/manifests/slackhq__simple-kubernetes-webhook",
        "tests/data/corpus/manifests/stackrox__admission-controller-webhook-demo",
    };
    static const char *const kinds[] = {"Pod", "Deployment", "StatefulSet", "DaemonSet",
                                        "ReplicaSet", "Job", "CronJob", "ReplicationController",
                                        "PodTemplate"};
    struct policy *ex = evalfix_policy("examples/policy.yaml");
    size_t d, i, k, evaluated = 0, ai = 0;

    (void)state;
    for (d = 0; d < sizeof(dirs) / sizeof(dirs[0]); d++) {
        struct manifest *m = manifest_new();

        assert_non_null(m);
        assert_int_equal(manifest_read(m, dirs[d]), 0);
        for (i = 0; i < manifest_n_objects(m); i++) {
            const struct object *o = manifest_object(m, i);
            struct verdict v;
            struct err e = {0};
            bool pod_kind = false;

            for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
                pod_kind = pod_kind || strcmp(o->kind, kinds[k]) == 0;
            if (!pod_kind)
                continue;
            verdict_init(&v);
            if (decide_object(ex, o, NULL, &v, &e) != 0) {
                char buf[700];

                err_format(&e, buf, sizeof(buf));
                fail_msg("%s", buf);
            }
            assert_true(v.evaluated);
            evaluated++;
            for (k = 0; k < v.n_findings; k++)
                if (strncmp(v.findings[k].rule, "pod.", 4) == 0) {
                    ai++;
                    break;
                }
            verdict_release(&v);
        }
        manifest_free(m);
    }
    print_message("corpus: %zu pods and workloads evaluated, %zu with pod findings\n", evaluated,
                  ai);
    assert_true(evaluated > 100);
    policy_free(ex);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pod_decide_ai_pod_passes_every_rule),
        cmocka_unit_test(test_pod_decide_host_network),
        cmocka_unit_test(test_pod_decide_privileged),
        cmocka_unit_test(test_pod_decide_capabilities_any_case_and_prefix),
        cmocka_unit_test(test_pod_decide_dns),
        cmocka_unit_test(test_pod_decide_dns_rejects_a_nameserver_that_is_no_address),
        cmocka_unit_test(test_pod_decide_mesh_bypass),
        cmocka_unit_test(test_pod_decide_proxy_env),
        cmocka_unit_test(test_pod_decide_accelerator_outside_ai_namespace),
        cmocka_unit_test(test_pod_decide_required_labels_and_pod_selectors),
        cmocka_unit_test(test_pod_decide_namespace_labels_make_an_ai_pod),
        cmocka_unit_test(test_nsdb_init_one_knows_one_namespace),
        cmocka_unit_test(test_verdict_uses_namespace_labels_only_where_they_matter),
        cmocka_unit_test(test_pod_decide_workload_paths),
        cmocka_unit_test(test_pod_decide_malformed),
        cmocka_unit_test(test_pod_decide_exemption_reported),
        cmocka_unit_test(test_pod_decide_modes_and_switches),
        cmocka_unit_test(test_pod_decide_ai_labels_outside_ai_namespace),
        cmocka_unit_test(test_pod_decide_ai_outside_ai_switch_and_alias),
        cmocka_unit_test(test_pod_decide_corpus),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
