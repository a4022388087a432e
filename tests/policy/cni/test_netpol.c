#include "policy/cni/netpol.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/decide.h"
#include "policy/doc/manifest.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

/* Spec lines start at line 7. */
#define HEAD                                                                                       \
    "apiVersion: networking.k8s.io/v1\n"                                                           \
    "kind: NetworkPolicy\n"                                                                        \
    "metadata:\n"                                                                                  \
    "  name: np\n"                                                                                 \
    "  namespace: ml-a\n"                                                                          \
    "spec:\n"

#define SUBJECT "model NetworkPolicy ml-a/np\nsubject ns=ml-a pods=all() "

/* Reads the one object of yaml; returns netpol_read's result, the model text in *text. */
static int read_np(const char *yaml, char **text, struct err *e)
{
    struct manifest *mf = manifest_new();
    struct egress_list l;
    struct buf b;
    int rc;

    assert_non_null(mf);
    assert_int_equal(manifest_read_buffer(mf, yaml, strlen(yaml), "np.yaml"), 0);
    assert_int_equal(manifest_n_errors(mf), 0);
    assert_int_equal(manifest_n_objects(mf), 1);
    egress_list_init(&l);
    memset(e, 0, sizeof(*e));
    rc = netpol_read(manifest_object(mf, 0), &l, e);
    *text = NULL;
    if (rc == 0) {
        assert_int_equal(l.n, 1);
        buf_init(&b, 0);
        assert_int_equal(egress_model_format(&l.models[0], &b), 0);
        *text = buf_detach(&b, NULL);
    }
    if (rc != 0) {
        /* e->file is borrowed from the manifest: check it while the manifest lives */
        assert_non_null(e->file);
        assert_string_equal(e->file, "np.yaml");
        e->file = "np.yaml";
    }
    egress_list_release(&l);
    manifest_free(mf);
    return rc;
}

static void expect_model(const char *yaml, const char *want)
{
    struct err e;
    char *text;

    if (read_np(yaml, &text, &e) != 0)
        fail_msg("unexpected error: %s", e.msg);
    assert_string_equal(text, want);
    free(text);
}

static void expect_error(const char *yaml, const char *msg, int line, int col)
{
    struct err e;
    char *text;

    assert_int_equal(read_np(yaml, &text, &e), -1);
    assert_null(text);
    assert_string_equal(e.msg, msg);
    assert_string_equal(e.file, "np.yaml");
    assert_int_equal(e.line, line);
    if (col)
        assert_int_equal(e.col, col);
}

static void test_netpol_read_no_egress_type_governs_nothing(void **state)
{
    (void)state;
    expect_model(HEAD "  podSelector: {}\n", SUBJECT "egress=ungoverned\n");
    /* egress: [] alone does not add Egress: the API server defaults on len(spec.egress) */
    expect_model(HEAD "  podSelector: {}\n  egress: []\n", SUBJECT "egress=ungoverned\n");
    /* policyTypes: [] is defaulted like a missing one */
    expect_model(HEAD "  podSelector: {}\n  policyTypes: []\n", SUBJECT "egress=ungoverned\n");
}

static void test_netpol_read_egress_rules_imply_egress_type(void **state)
{
    (void)state;
    expect_model(HEAD "  podSelector: {}\n  egress:\n  - ports:\n    - port: 53\n",
                 SUBJECT "egress=governed default-deny\n"
                         "allow spec.egress[0] ports TCP/53\n"
                         "  to all [spec.egress[0]] \"egress rule without `to`\"\n");
}

static void test_netpol_read_egress_type_without_rules_is_default_deny(void **state)
{
    (void)state;
    expect_model(HEAD "  podSelector: {}\n  policyTypes: [Egress]\n",
                 SUBJECT "egress=governed default-deny\n");
    expect_model(HEAD "  podSelector: {}\n  policyTypes: [Ingress, Egress]\n  egress: []\n",
                 SUBJECT "egress=governed default-deny\n");
}

static void test_netpol_read_ingress_only_ignores_egress_rules(void **state)
{
    (void)state;
    expect_model(HEAD "  podSelector: {}\n  policyTypes: [Ingress]\n  egress:\n  - {}\n",
                 SUBJECT "egress=ungoverned\n"
                         "allow spec.egress[0] ports any protocol/port\n"
                         "  to all [spec.egress[0]] \"egress rule without `to`\"\n"
                         "note spec.egress: spec.egress is ignored: spec.policyTypes does not "
                         "list Egress\n");
}

static void test_netpol_read_empty_to_and_ports_mean_everything(void **state)
{
    (void)state;
    expect_model(HEAD "  podSelector: {}\n  egress:\n  - to: []\n    ports: []\n",
                 SUBJECT "egress=governed default-deny\n"
                         "allow spec.egress[0] ports any protocol/port\n"
                         "  to all [spec.egress[0]] \"egress rule with `to: []`\"\n");
}

static void test_netpol_read_ipblock_except(void **state)
{
    (void)state;
    expect_model(HEAD "  podSelector: {}\n  egress:\n  - to:\n    - ipBlock:\n"
                      "        cidr: 10.0.0.0/8\n        except: [10.128.0.0/9, 10.0.0.0/9]\n"
                      "    - ipBlock: {cidr: 172.16.0.0/12, except: [172.16.0.0/13]}\n"
                      "    - ipBlock: {cidr: \"fd00::/8\"}\n",
                 SUBJECT "egress=governed default-deny\n"
                         "allow spec.egress[0] ports any protocol/port\n"
                         "  to cidr nothing [spec.egress[0].to[0].ipBlock] "
                         "\"10.0.0.0/8 except 10.128.0.0/9, 10.0.0.0/9\"\n"
                         "  to cidr 172.24.0.0/13 [spec.egress[0].to[1].ipBlock] "
                         "\"172.16.0.0/12 except 172.16.0.0/13\"\n"
                         "  to cidr fd00::/8 [spec.egress[0].to[2].ipBlock] \"fd00::/8\"\n");
}

static void test_netpol_read_ipblock_host_bits_noted(void **state)
{
    (void)state;
    expect_model(HEAD "  podSelector: {}\n  egress:\n  - to:\n"
                      "    - ipBlock: {cidr: 10.1.2.3/16}\n",
                 SUBJECT "egress=governed default-deny\n"
                         "allow spec.egress[0] ports any protocol/port\n"
                         "  to cidr 10.1.0.0/16 [spec.egress[0].to[0].ipBlock] \"10.1.2.3/16\"\n"
                         "note spec.egress[0].to[0].ipBlock.cidr: \"10.1.2.3/16\" has host bits "
                         "set: read as 10.1.0.0/16\n");
}

static void test_netpol_read_ipblock_errors(void **state)
{
    (void)state;
    expect_error(HEAD "  podSelector: {}\n  egress:\n  - to:\n    - ipBlock:\n"
                      "        cidr: 10.0.0.0/8\n        except:\n        - 11.0.0.0/16\n",
                 "spec.egress[0].to[0].ipBlock.except[0]: 11.0.0.0/16 is not inside cidr "
                 "10.0.0.0/8",
                 13, 11);
    /* a wider except is not inside either, even when it contains the cidr */
    expect_error(HEAD "  podSelector: {}\n  egress:\n  - to:\n"
                      "    - ipBlock: {cidr: 10.0.0.0/8, except: [10.0.0.0/7]}\n",
                 "spec.egress[0].to[0].ipBlock.except[0]: 10.0.0.0/7 is not inside cidr "
                 "10.0.0.0/8",
                 10, 0);
    expect_error(HEAD "  podSelector: {}\n  egress:\n  - to:\n"
                      "    - ipBlock: {cidr: \"::/0\", except: [10.0.0.0/8]}\n",
                 "spec.egress[0].to[0].ipBlock.except[0]: 10.0.0.0/8 is not inside cidr ::/0",
                 10, 0);
    expect_error(HEAD "  podSelector: {}\n  egress:\n  - to:\n    - ipBlock: {except: []}\n",
                 "spec.egress[0].to[0].ipBlock.cidr: required", 10, 0);
    expect_error(HEAD "  podSelector: {}\n  egress:\n  - to:\n    - ipBlock:\n"
                      "        cidr: 10.0.0.0/33\n",
                 "spec.egress[0].to[0].ipBlock.cidr: invalid CIDR \"10.0.0.0/33\": prefix length "
                 "must be 0-32",
                 11, 15);
    expect_error(HEAD "  podSelector: {}\n  egress:\n  - to:\n    - ipBlock: {cidr: 10.0.0.0/8}\n"
                      "      podSelector: {}\n",
                 "spec.egress[0].to[0]: ipBlock may not be combined with namespaceSelector or "
                 "podSelector",
                 10, 0);
}

static void test_netpol_read_peer_must_name_something(void **state)
{
    (void)state;
    expect_error(HEAD "  podSelector: {}\n  egress:\n  - to:\n    - {}\n",
                 "spec.egress[0].to[0]: must specify ipBlock, namespaceSelector or podSelector",
                 10, 7);
}

static void test_netpol_read_selectors_and_vs_or(void **state)
{
    (void)state;
    /* one peer: pods app=pg IN namespaces team=db */
    expect_model(HEAD "  podSelector: {}\n  egress:\n  - to:\n"
                      "    - namespaceSelector: {matchLabels: {team: db}}\n"
                      "      podSelector: {matchLabels: {app: pg}}\n",
                 SUBJECT "egress=governed default-deny\n"
                         "allow spec.egress[0] ports any protocol/port\n"
                         "  to cluster namespaces=team == \"db\" pods=app == \"pg\" "
                         "[spec.egress[0].to[0]] \"namespaceSelector: {\"matchLabels\":"
                         "{\"team\":\"db\"}} podSelector: {\"matchLabels\":{\"app\":\"pg\"}}\"\n");
    /* two peers: every pod of namespaces team=db, OR pods app=pg of the policy's namespace */
    expect_model(HEAD "  podSelector: {}\n  egress:\n  - to:\n"
                      "    - namespaceSelector: {matchLabels: {team: db}}\n"
                      "    - podSelector: {matchLabels: {app: pg}}\n",
                 SUBJECT "egress=governed default-deny\n"
                         "allow spec.egress[0] ports any protocol/port\n"
                         "  to cluster namespaces=team == \"db\" pods=all() "
                         "[spec.egress[0].to[0]] \"namespaceSelector: {\"matchLabels\":"
                         "{\"team\":\"db\"}}\"\n"
                         "  to cluster ns=ml-a pods=app == \"pg\" [spec.egress[0].to[1]] "
                         "\"podSelector: {\"matchLabels\":{\"app\":\"pg\"}}\"\n");
}

static void test_netpol_read_empty_namespace_selector_is_every_namespace(void **state)
{
    (void)state;
    expect_model(HEAD "  podSelector: {matchLabels: {app: web}}\n  egress:\n  - to:\n"
                      "    - namespaceSelector: {}\n",
                 "model NetworkPolicy ml-a/np\nsubject ns=ml-a pods=app == \"web\" "
                 "egress=governed default-deny\n"
                 "allow spec.egress[0] ports any protocol/port\n"
                 "  to cluster namespaces=all() pods=all() [spec.egress[0].to[0]] "
                 "\"namespaceSelector: {}\"\n");
}

static void test_netpol_read_selector_errors(void **state)
{
    (void)state;
    expect_error(HEAD "  podSelector: {}\n  egress:\n  - to:\n    - namespaceSelector:\n"
                      "        matchExpressions:\n        - {key: team, operator: Inn}\n",
                 "spec.egress[0].to[0].namespaceSelector: matchExpressions[0].operator: unknown "
                 "operator \"Inn\"",
                 12, 0);
    expect_error(HEAD "  podSelector: {}\n  egress:\n  - to:\n    - podSelector: []\n",
                 "spec.egress[0].to[0].podSelector: must be a label selector (an object)", 10, 0);
}

static void test_netpol_read_ports(void **state)
{
    (void)state;
    expect_model(HEAD "  podSelector: {}\n  egress:\n  - ports:\n"
                      "    - {port: 443}\n"
                      "    - {protocol: UDP, port: 53}\n"
                      "    - {protocol: SCTP}\n"
                      "    - {protocol: TCP, port: 8000, endPort: 8010}\n"
                      "    - {}\n"
                      "    - {protocol: UDP, port: dns}\n",
                 SUBJECT "egress=governed default-deny\n"
                         "allow spec.egress[0] ports TCP/*, UDP/*, SCTP/*\n"
                         "  to all [spec.egress[0]] \"egress rule without `to`\"\n"
                         "note spec.egress[0].ports[5].port: named port \"dns\" cannot be "
                         "resolved offline: treated as every UDP port\n");
    expect_model(HEAD "  podSelector: {}\n  egress:\n  - ports:\n"
                      "    - {port: 443}\n"
                      "    - {protocol: UDP, port: 53}\n"
                      "    - {protocol: TCP, port: 8000, endPort: 8010}\n"
                      "    - {protocol: SCTP, port: 9}\n",
                 SUBJECT "egress=governed default-deny\n"
                         "allow spec.egress[0] ports TCP/443, TCP/8000-8010, UDP/53, SCTP/9\n"
                         "  to all [spec.egress[0]] \"egress rule without `to`\"\n");
    expect_model(HEAD "  podSelector: {}\n  egress:\n  - ports:\n    - {port: http}\n",
                 SUBJECT "egress=governed default-deny\n"
                         "allow spec.egress[0] ports TCP/*\n"
                         "  to all [spec.egress[0]] \"egress rule without `to`\"\n"
                         "note spec.egress[0].ports[0].port: named port \"http\" cannot be "
                         "resolved offline: treated as every TCP port\n");
}

static void test_netpol_read_port_errors(void **state)
{
    (void)state;
    expect_error(HEAD "  podSelector: {}\n  egress:\n  - ports:\n    - {protocol: ICMP}\n",
                 "spec.egress[0].ports[0].protocol: unsupported protocol \"ICMP\" (TCP, UDP or "
                 "SCTP)",
                 10, 18);
    expect_error(HEAD "  podSelector: {}\n  egress:\n  - ports:\n    - {protocol: tcp}\n",
                 "spec.egress[0].ports[0].protocol: unsupported protocol \"tcp\" (TCP, UDP or "
                 "SCTP)",
                 10, 18);
    expect_error(HEAD "  podSelector: {}\n  egress:\n  - ports:\n    - port: 80\n"
                      "      endPort: 79\n",
                 "spec.egress[0].ports[0].endPort: must be greater than or equal to port (80)",
                 11, 16);
    expect_error(HEAD "  podSelector: {}\n  egress:\n  - ports:\n    - endPort: 79\n",
                 "spec.egress[0].ports[0].endPort: requires a numeric port", 10, 16);
    expect_error(HEAD "  podSelector: {}\n  egress:\n  - ports:\n    - port: http\n"
                      "      endPort: 90\n",
                 "spec.egress[0].ports[0].endPort: may not be used with a named port (\"http\")",
                 11, 16);
    /* true, false and null have no node of their own: errors still point at them */
    expect_error(HEAD "  podSelector: {}\n  egress:\n  - ports:\n    - port: 80\n"
                      "      protocol: null\n    - port: true\n      protocol: null\n",
                 "spec.egress[0].ports[1].port: must be a port number or a port name", 12, 13);
    expect_error(HEAD "  podSelector: {matchLabels: {a: null}}\n  egress:\n  - to:\n"
                      "    - ipBlock: {cidr: null}\n",
                 "spec.egress[0].to[0].ipBlock.cidr: required, not null", 10, 23);
    expect_error(HEAD "  podSelector: {}\n  egress:\n  - to:\n    - null\n    - null\n",
                 "spec.egress[0].to[0]: must be an object (ipBlock, namespaceSelector, "
                 "podSelector)",
                 10, 7);
    expect_error(HEAD "  podSelector: {}\n  egress:\n  - ports:\n    - port: 65536\n",
                 "spec.egress[0].ports[0].port: must be between 1 and 65535, not 65536", 10, 13);
    expect_error(HEAD "  podSelector: {}\n  egress:\n  - ports:\n    - port: \"80\"\n",
                 "spec.egress[0].ports[0].port: invalid named port \"80\": a port name has 1-15 "
                 "lower-case letters, digits and '-', with at least one letter (numbers are "
                 "written without quotes)",
                 10, 13);
}

static void test_netpol_read_subject(void **state)
{
    (void)state;
    /*
     * k8s.io/api networking/v1 types.go: PodSelector is a metav1.LabelSelector struct (not a
     * pointer), so a missing or null podSelector is stored as {}: "An empty podSelector matches
     * all pods in this namespace". Both API versions read it so, with a note.
     */
    expect_model(HEAD "  policyTypes: [Egress]\n",
                 SUBJECT "egress=governed default-deny\n"
                 "note spec.podSelector: spec.podSelector is missing: Kubernetes stores it as {}, "
                 "which selects every pod of namespace ml-a\n");
    expect_model(HEAD "  podSelector: null\n  policyTypes: [Egress]\n",
                 SUBJECT "egress=governed default-deny\n"
                 "note spec.podSelector: spec.podSelector is null: Kubernetes stores it as {}, "
                 "which selects every pod of namespace ml-a\n");
    expect_model(HEAD "  podSelector: ~\n",
                 "model NetworkPolicy ml-a/np\nsubject ns=ml-a pods=all() egress=ungoverned\n"
                 "note spec.podSelector: spec.podSelector is null: Kubernetes stores it as {}, "
                 "which selects every pod of namespace ml-a\n");
    expect_model("apiVersion: extensions/v1beta1\nkind: NetworkPolicy\nmetadata:\n  name: np\n"
                 "  namespace: ml-a\nspec:\n  policyTypes: [Egress]\n",
                 SUBJECT "egress=governed default-deny\n"
                 "note spec.podSelector: spec.podSelector is missing: Kubernetes stores it as {}, "
                 "which selects every pod of namespace ml-a\n");
    /* a null matchLabels value is "" (Go's map[string]string decoding, as the API server does) */
    expect_model(HEAD "  podSelector:\n    matchLabels: {app: null, tier: web}\n"
                      "  policyTypes: [Egress]\n",
                 "model NetworkPolicy ml-a/np\nsubject ns=ml-a pods=app == \"\" && "
                 "tier == \"web\" egress=governed default-deny\n");
    expect_model("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: np\n"
                 "spec:\n  podSelector: {}\n  egress:\n  - to:\n    - podSelector: {}\n",
                 "model NetworkPolicy default/np\nsubject ns=default pods=all() egress=governed "
                 "default-deny\n"
                 "allow spec.egress[0] ports any protocol/port\n"
                 "  to cluster ns=default pods=all() [spec.egress[0].to[0]] \"podSelector: {}\"\n"
                 "note metadata.namespace: metadata.namespace is missing: evaluated as "
                 "namespace \"default\"; kubectl applies it to the current namespace\n");
    expect_error(HEAD "  podSelector: {}\n  policyTypes: [Egres]\n",
                 "spec.policyTypes[0]: unknown policy type \"Egres\" (Ingress or Egress)", 8, 17);
    expect_error(HEAD "  podSelector: {}\n  egress: {}\n",
                 "spec.egress: must be a list of egress rules", 8, 11);
}

/* ---- the corpus: every NetworkPolicy evaluates without error against the example policy ---- */

static struct policy *load_policy(void)
{
    struct err e = {0};
    struct policy *p = policy_load("tests/data/netpol/policy.yaml", &e);

    if (!p)
        fail_msg("policy: %s", e.msg);
    return p;
}

/* Decides every object of one file; returns the number of violations, fills *notes. */
static size_t decide_file(const struct policy *pol, const char *path, struct verdict *last,
                          size_t *n_objects)
{
    struct manifest *mf = manifest_new();
    size_t i, violations = 0, k;

    assert_non_null(mf);
    assert_int_equal(manifest_read(mf, path), 0);
    if (manifest_n_errors(mf))
        fail_msg("%s: %s", path, manifest_error(mf, 0)->msg);
    *n_objects = 0;
    for (i = 0; i < manifest_n_objects(mf); i++) {
        const struct object *o = manifest_object(mf, i);
        struct verdict v;
        struct err e = {0};

        if (strcmp(o->kind, "NetworkPolicy"))
            continue;
        (*n_objects)++;
        verdict_init(&v);
        /* Files broken on purpose upstream (*-invalid.yaml) must fail, positioned. */
        if (strstr(path, "-invalid") && strstr(o->name, "test-network-policy")) {
            assert_int_equal(decide_object(pol, o, NULL, &v, &e), -1);
            assert_true(e.line > 0 && e.col > 0);
            assert_non_null(strstr(e.msg, "spec.ingress[0].ports[0].port: invalid named port"));
            verdict_release(&v);
            continue;
        }
        if (decide_object(pol, o, NULL, &v, &e) != 0)
            fail_msg("%s: %s:%d:%d: %s", path, e.file ? e.file : "", e.line, e.col, e.msg);
        assert_true(v.evaluated);
        for (k = 0; k < v.n_findings; k++)
            violations += v.findings[k].violation;
        if (last) {
            verdict_release(last);
            *last = v;
        } else {
            verdict_release(&v);
        }
    }
    manifest_free(mf);
    return violations;
}

static void test_netpol_decide_corpus(void **state)
{
    struct policy *pol = load_policy();
    DIR *d = opendir("tests/data/netpol");
    struct dirent *de;
    size_t files = 0, objects = 0, n;

    (void)state;
    assert_non_null(d);
    while ((de = readdir(d))) {
        char path[512];
        size_t len = strlen(de->d_name);

        if (len < 5 || strcmp(de->d_name + len - 5, ".yaml") || !strcmp(de->d_name, "policy.yaml"))
            continue;
        snprintf(path, sizeof(path), "tests/data/netpol/%s", de->d_name);
        decide_file(pol, path, NULL, &n);
        objects += n;
        files++;
    }
    closedir(d);
    assert_int_equal(files, 40);
    assert_int_equal(objects, 47);
    policy_free(pol);
}

static const struct finding *find(const struct verdict *v, bool violation, const char *needle)
{
    size_t i;

    for (i = 0; i < v->n_findings; i++)
        if (v->findings[i].violation == violation && strstr(v->findings[i].message, needle))
            return &v->findings[i];
    return NULL;
}

static void test_netpol_decide_corpus_verdicts(void **state)
{
    struct policy *pol = load_policy();
    struct verdict v;
    const struct finding *f;
    size_t n;

    (void)state;
    verdict_init(&v);
    /* default-deny egress (recipe 11): opens nothing */
    assert_int_equal(decide_file(pol,
                                 "tests/data/netpol/"
                                 "11-deny-egress-traffic-from-an-application.md__block01.yaml",
                                 &v, &n),
                     0);
    assert_true(v.allowed);

    /*
     * allow-all egress in ml-research (an AI namespace by the glob ml-*): every destination, and
     * within it the addresses spec.deny names, each a violation
     */
    assert_int_equal(decide_file(pol, "tests/data/netpol/ai-allow-all-egress.yaml", &v, &n), 2);
    assert_false(v.allowed);
    f = find(&v, true, "169.254.169.254/32");
    assert_non_null(f);
    assert_string_equal(f->path, "spec.egress[0]");
    assert_string_equal(f->message,
                        "egress rule with `to: []` opens 169.254.169.254/32, fd00:ec2::254/128 on "
                        "any protocol/port, which the policy file always denies (spec.deny: "
                        "cloud-metadata): no network policy may open it (AI workloads: namespace "
                        "ml-research-2 is an AI namespace)");
    f = find(&v, true, "0.0.0.0/0");
    assert_non_null(f);
    assert_string_equal(f->rule, "egress");
    assert_string_equal(f->path, "spec.egress[0]");
    assert_string_equal(f->message,
                        "egress rule with `to: []` opens every destination (0.0.0.0/0, ::/0) on any "
                        "protocol/port; allowed here: cluster-dns (pods k8s-app == \"kube-dns\" "
                        "of namespaces kubernetes.io/metadata.name == \"kube-system\" on TCP/53, "
                        "UDP/53), same-namespace (every pod of the same namespace on any "
                        "protocol/port), model-registry (10.20.0.0/16, fd00:20::/64 on TCP/443) "
                        "and 2 more (AI workloads: namespace ml-research-2 is an AI namespace)");
    policy_free(pol);
    verdict_release(&v);
}

/* An except list longer than a peer's text may be (EGRESS_PEER_TEXT_CAP) is read in full; only
 * the text, which quotes it for messages, is left out. */
static void test_netpol_read_long_except_list(void **state)
{
    struct buf y;
    struct err e;
    char *text;

    (void)state;
    buf_init(&y, 0);
    buf_puts(&y, HEAD "  podSelector: {}\n  policyTypes: [Egress]\n  egress:\n"
                 "    - to:\n        - ipBlock:\n            cidr: 10.0.0.0/8\n"
                 "            except:\n");
    for (int i = 0; i < 300; i++)
        buf_printf(&y, "              - 10.%d.%d.0/24\n", i / 256, i % 256);
    assert_false(y.failed);
    if (read_np(buf_str(&y), &text, &e) != 0)
        fail_msg("unexpected error: %s", e.msg);
    assert_null(strstr(text, "\"10.0.0.0/8 except")); /* no text: too long to keep */
    assert_non_null(strstr(text, "10.2.0.0/15")); /* the model is complete: past the excepts */
    free(text);
    buf_release(&y);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_netpol_read_no_egress_type_governs_nothing),
        cmocka_unit_test(test_netpol_read_egress_rules_imply_egress_type),
        cmocka_unit_test(test_netpol_read_egress_type_without_rules_is_default_deny),
        cmocka_unit_test(test_netpol_read_ingress_only_ignores_egress_rules),
        cmocka_unit_test(test_netpol_read_empty_to_and_ports_mean_everything),
        cmocka_unit_test(test_netpol_read_ipblock_except),
        cmocka_unit_test(test_netpol_read_ipblock_host_bits_noted),
        cmocka_unit_test(test_netpol_read_ipblock_errors),
        cmocka_unit_test(test_netpol_read_peer_must_name_something),
        cmocka_unit_test(test_netpol_read_selectors_and_vs_or),
        cmocka_unit_test(test_netpol_read_empty_namespace_selector_is_every_namespace),
        cmocka_unit_test(test_netpol_read_selector_errors),
        cmocka_unit_test(test_netpol_read_ports),
        cmocka_unit_test(test_netpol_read_port_errors),
        cmocka_unit_test(test_netpol_read_subject),
        cmocka_unit_test(test_netpol_decide_corpus),
        cmocka_unit_test(test_netpol_decide_corpus_verdicts),
        cmocka_unit_test(test_netpol_read_long_except_list),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
