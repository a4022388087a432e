#include "policy/cni/calico.h"

#include <stdlib.h>
#include <string.h>

#include "helpers/cnitest.h"
#include "policy/doc/manifest.h"
#include "policy/decide.h"
#include "policy/verdict.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

static void expect_models(const char *yaml, const char *want)
{
    cnitest_expect_models(calico_read, yaml, want);
}

static void expect_error(const char *yaml, int line, int col, const char *msg)
{
    cnitest_expect_error(calico_read, yaml, line, col, msg);
}

static void test_calico_read_types_default_egress_when_egress_rules(void **state)
{
    (void)state;
    expect_models(
        "apiVersion: projectcalico.org/v3\n"
        "kind: NetworkPolicy\n"
        "metadata: {name: p, namespace: ml-a}\n"
        "spec:\n"
        "  selector: app == 'trainer'\n"
        "  egress:\n"
        "  - action: Allow\n",
        "model NetworkPolicy.projectcalico.org ml-a/p\n"
        "subject ns=ml-a pods=app == \"trainer\" egress=governed default-deny ordered\n"
        "allow spec.egress[0] ports any protocol/port\n"
        "  to all [spec.egress[0].destination] \"every destination\"\n");
}

static void test_calico_read_types_default_ingress_only(void **state)
{
    (void)state;
    expect_models(
        "apiVersion: projectcalico.org/v3\n"
        "kind: NetworkPolicy\n"
        "metadata: {name: p, namespace: ml-a}\n"
        "spec:\n"
        "  selector: app == 'trainer'\n"
        "  ingress:\n"
        "  - action: Allow\n",
        "model NetworkPolicy.projectcalico.org ml-a/p\n"
        "subject ns=ml-a pods=app == \"trainer\" egress=ungoverned ordered\n");
}

static void test_calico_read_types_default_no_rules_is_ingress(void **state)
{
    (void)state;
    expect_models(
        "apiVersion: projectcalico.org/v3\n"
        "kind: NetworkPolicy\n"
        "metadata: {name: p, namespace: ml-a}\n"
        "spec:\n"
        "  selector: all()\n",
        "model NetworkPolicy.projectcalico.org ml-a/p\n"
        "subject ns=ml-a pods=all() egress=ungoverned ordered\n");
}

static void test_calico_read_types_egress_without_rules_denies_all(void **state)
{
    (void)state;
    expect_models(
        "apiVersion: projectcalico.org/v3\n"
        "kind: NetworkPolicy\n"
        "metadata: {name: p, namespace: ml-a}\n"
        "spec:\n"
        "  selector: all()\n"
        "  types: [Ingress, Egress]\n",
        "model NetworkPolicy.projectcalico.org ml-a/p\n"
        "subject ns=ml-a pods=all() egress=governed default-deny ordered\n");
}

static void test_calico_read_types_without_egress_ignores_rules(void **state)
{
    (void)state;
    expect_models(
        "apiVersion: projectcalico.org/v3\n"
        "kind: NetworkPolicy\n"
        "metadata: {name: p, namespace: ml-a}\n"
        "spec:\n"
        "  types: [Ingress]\n"
        "  egress:\n"
        "  - action: Allow\n",
        "model NetworkPolicy.projectcalico.org ml-a/p\n"
        "subject ns=ml-a pods=all() egress=ungoverned ordered\n"
        "note spec.egress: types does not include Egress: these rules are not applied\n");
}

static void test_calico_read_ordered_rules_and_order(void **state)
{
    (void)state;
    expect_models(
        "apiVersion: projectcalico.org/v3\n"
        "kind: NetworkPolicy\n"
        "metadata: {name: p, namespace: ml-a}\n"
        "spec:\n"
        "  order: 100.5\n"
        "  selector: app == 'trainer'\n"
        "  types: [Egress]\n"
        "  egress:\n"
        "  - action: Deny\n"
        "    destination: {nets: [169.254.169.254/32]}\n"
        "  - action: Log\n"
        "  - action: Pass\n"
        "    destination: {nets: [10.0.0.0/8]}\n"
        "  - action: Allow\n"
        "    protocol: TCP\n"
        "    destination:\n"
        "      nets: [10.0.0.0/8]\n"
        "      notNets: [10.1.0.0/16]\n"
        "      ports: [443, \"8000:8010\", https]\n",
        "model NetworkPolicy.projectcalico.org ml-a/p\n"
        "subject ns=ml-a pods=app == \"trainer\" egress=governed default-deny ordered order=100.5\n"
        "deny spec.egress[0] ports any protocol/port\n"
        "  to cidr 169.254.169.254/32 [spec.egress[0].destination] \"nets\"\n"
        "log spec.egress[1] ports any protocol/port\n"
        "  to all [spec.egress[1].destination] \"every destination\"\n"
        "pass spec.egress[2] ports any protocol/port\n"
        "  to cidr 10.0.0.0/8 [spec.egress[2].destination] \"nets\"\n"
        "allow spec.egress[3] ports TCP/*\n"
        "  to cidr 10.0.0.0/16, 10.2.0.0/15, 10.4.0.0/14, 10.8.0.0/13, 10.16.0.0/12, 10.32.0.0/11, 10.64.0.0/10, 10.128.0.0/9 [spec.egress[3].destination] \"nets minus notNets\"\n"
        "note spec.egress[2]: Pass hands this traffic to the next tier; none is known here, so the namespace's profile decides, which allows all egress: counted as opened\n"
        "note spec.egress[3].destination.ports[2]: named port \"https\" cannot be resolved offline: treated as every TCP port\n");
}

static void test_calico_read_global_namespace_selector_and_subject(void **state)
{
    (void)state;
    expect_models(
        "apiVersion: projectcalico.org/v3\n"
        "kind: GlobalNetworkPolicy\n"
        "metadata: {name: g}\n"
        "spec:\n"
        "  namespaceSelector: team == 'ml'\n"
        "  selector: has(gpu)\n"
        "  egress:\n"
        "  - action: Allow\n"
        "    destination:\n"
        "      selector: app == 'db'\n"
        "  - action: Allow\n"
        "    destination:\n"
        "      namespaceSelector: kubernetes.io/metadata.name == 'kube-system'\n"
        "      selector: k8s-app == 'kube-dns'\n"
        "      notSelector: tier == 'test'\n",
        "model GlobalNetworkPolicy.projectcalico.org g\n"
        "subject namespaces=team == \"ml\" pods=has(gpu) egress=governed default-deny ordered\n"
        "allow spec.egress[0] ports any protocol/port\n"
        "  to cluster namespaces=all() pods=app == \"db\" [spec.egress[0].destination] \"selector app == 'db'\"\n"
        "  to unknown NetworkSets of every namespace, GlobalNetworkSets and HostEndpoints matching app == \"db\" [spec.egress[0].destination] \"selector app == 'db'\"\n"
        "allow spec.egress[1] ports any protocol/port\n"
        "  to cluster namespaces=kubernetes.io/metadata.name == \"kube-system\" pods=k8s-app == \"kube-dns\" && tier != \"test\" [spec.egress[1].destination] \"namespaceSelector kubernetes.io/metadata.name == 'kube-system', selector k8s-app == 'kube-dns', notSelector tier == 'test'\"\n"
        "  to unknown NetworkSets of namespaces kubernetes.io/metadata.name == \"kube-system\" matching k8s-app == \"kube-dns\" && tier != \"test\" [spec.egress[1].destination] \"namespaceSelector kubernetes.io/metadata.name == 'kube-system', selector k8s-app == 'kube-dns', notSelector tier == 'test'\"\n");
}

static void test_calico_read_namespaced_selector_confined(void **state)
{
    (void)state;
    expect_models(
        "apiVersion: projectcalico.org/v3\n"
        "kind: NetworkPolicy\n"
        "metadata: {name: p, namespace: ml-a}\n"
        "spec:\n"
        "  egress:\n"
        "  - action: Allow\n"
        "    destination:\n"
        "      selector: app == 'db'\n"
        "  - action: Allow\n"
        "    destination:\n"
        "      namespaceSelector: global()\n",
        "model NetworkPolicy.projectcalico.org ml-a/p\n"
        "subject ns=ml-a pods=all() egress=governed default-deny ordered\n"
        "allow spec.egress[0] ports any protocol/port\n"
        "  to cluster ns=ml-a pods=app == \"db\" [spec.egress[0].destination] \"selector app == 'db'\"\n"
        "  to unknown NetworkSets of namespace ml-a matching app == \"db\" [spec.egress[0].destination] \"selector app == 'db'\"\n"
        "allow spec.egress[1] ports any protocol/port\n"
        "  to unknown GlobalNetworkSets and HostEndpoints matching all() [spec.egress[1].destination] \"namespaceSelector global()\"\n");
}

static void test_calico_read_protocols_and_not_protocol(void **state)
{
    (void)state;
    expect_models(
        "apiVersion: projectcalico.org/v3\n"
        "kind: NetworkPolicy\n"
        "metadata: {name: p, namespace: ml-a}\n"
        "spec:\n"
        "  egress:\n"
        "  - action: Allow\n"
        "    protocol: 17\n"
        "    destination: {ports: [53]}\n"
        "  - action: Allow\n"
        "    notProtocol: TCP\n"
        "    destination: {nets: [192.0.2.0/24]}\n"
        "  - action: Allow\n"
        "    protocol: ICMP\n"
        "    icmp: {type: 8}\n",
        "model NetworkPolicy.projectcalico.org ml-a/p\n"
        "subject ns=ml-a pods=all() egress=governed default-deny ordered\n"
        "allow spec.egress[0] ports UDP/53\n"
        "  to all [spec.egress[0].destination] \"every destination\"\n"
        "allow spec.egress[1] ports any protocol/port except TCP/*\n"
        "  to cidr 192.0.2.0/24 [spec.egress[1].destination] \"nets\"\n"
        "allow spec.egress[2] ports ICMP\n"
        "  to all [spec.egress[2].destination] \"every destination\"\n"
        "note spec.egress[2].icmp: icmp narrows the rule: ignored (counted wider)\n");
}

static void test_calico_read_not_ports(void **state)
{
    (void)state;
    expect_models(
        "apiVersion: projectcalico.org/v3\n"
        "kind: NetworkPolicy\n"
        "metadata: {name: p, namespace: ml-a}\n"
        "spec:\n"
        "  egress:\n"
        "  - action: Allow\n"
        "    protocol: UDP\n"
        "    destination:\n"
        "      notPorts: [53, metrics]\n",
        "model NetworkPolicy.projectcalico.org ml-a/p\n"
        "subject ns=ml-a pods=all() egress=governed default-deny ordered\n"
        "allow spec.egress[0] ports UDP/0-52, UDP/54-65535\n"
        "  to all [spec.egress[0].destination] \"every destination\"\n"
        "note spec.egress[0].destination.notPorts[1]: named port \"metrics\" cannot be resolved offline: nothing excluded\n");
}

/*
 * Calico Enterprise domains: an asterisk "matches 1 or more path components at that position"
 * (Calico DNS policy docs), wider than any allow-list pattern but "*": counted as every name.
 */
static void test_calico_read_domains(void **state)
{
    (void)state;
    expect_models(
        "apiVersion: projectcalico.org/v3\n"
        "kind: GlobalNetworkPolicy\n"
        "metadata: {name: g}\n"
        "spec:\n"
        "  egress:\n"
        "  - action: Allow\n"
        "    destination:\n"
        "      domains: [\"API.example.com\", \"*.s3.amazonaws.com\"]\n",
        "model GlobalNetworkPolicy.projectcalico.org g\n"
        "subject namespaces=all() pods=all() egress=governed default-deny ordered\n"
        "allow spec.egress[0] ports any protocol/port\n"
        "  to fqdn api.example.com, * [spec.egress[0].destination.domains]\n"
        "note spec.egress[0].destination.domains[1]: \"*.s3.amazonaws.com\": in Calico '*' matches "
        "one or more labels, which no allow-list pattern but \"*\" covers: counted as every name\n");
}

static void test_calico_read_service_accounts_and_services_unknown(void **state)
{
    (void)state;
    expect_models(
        "apiVersion: projectcalico.org/v3\n"
        "kind: NetworkPolicy\n"
        "metadata: {name: p, namespace: ml-a}\n"
        "spec:\n"
        "  egress:\n"
        "  - action: Allow\n"
        "    destination:\n"
        "      serviceAccounts: {names: [api]}\n"
        "  - action: Allow\n"
        "    destination:\n"
        "      services: {name: kubernetes, namespace: default}\n",
        "model NetworkPolicy.projectcalico.org ml-a/p\n"
        "subject ns=ml-a pods=all() egress=governed default-deny ordered\n"
        "allow spec.egress[0] ports any protocol/port\n"
        "  to unknown serviceAccounts [spec.egress[0].destination]\n"
        "allow spec.egress[1] ports any protocol/port\n"
        "  to unknown services [spec.egress[1].destination]\n"
        "note spec.egress[0].destination: serviceAccounts cannot be resolved offline: counted as any destination\n"
        "note spec.egress[1].destination: services cannot be resolved offline: counted as any destination\n");
}

static void test_calico_read_allow_and_keeps_selector_part(void **state)
{
    (void)state;
    expect_models(
        "apiVersion: projectcalico.org/v3\n"
        "kind: NetworkPolicy\n"
        "metadata: {name: p, namespace: ml-a}\n"
        "spec:\n"
        "  egress:\n"
        "  - action: Allow\n"
        "    destination:\n"
        "      nets: [10.0.0.0/8]\n"
        "      selector: app == 'db'\n"
        "      serviceAccounts: {names: [db]}\n",
        "model NetworkPolicy.projectcalico.org ml-a/p\n"
        "subject ns=ml-a pods=all() egress=governed default-deny ordered\n"
        "allow spec.egress[0] ports any protocol/port\n"
        "  to cluster ns=ml-a pods=app == \"db\" [spec.egress[0].destination] \"selector app == 'db'\"\n"
        "  to unknown NetworkSets of namespace ml-a matching app == \"db\" [spec.egress[0].destination] \"selector app == 'db'\"\n"
        "note spec.egress[0].destination: destination fields are AND-ed; only the selector part is counted (wider than the rule)\n");
}

static void test_calico_read_deny_under_approximated(void **state)
{
    (void)state;
    expect_models(
        "apiVersion: projectcalico.org/v3\n"
        "kind: NetworkPolicy\n"
        "metadata: {name: p, namespace: ml-a}\n"
        "spec:\n"
        "  egress:\n"
        "  - action: Deny\n"
        "    destination:\n"
        "      nets: [10.0.0.0/8]\n"
        "      selector: app == 'db'\n"
        "  - action: Deny\n"
        "    destination:\n"
        "      serviceAccounts: {names: [db]}\n"
        "  - action: Deny\n"
        "    source: {selector: app == 'x'}\n"
        "    destination: {nets: [0.0.0.0/0]}\n"
        "  - action: Deny\n"
        "    protocol: TCP\n"
        "    destination:\n"
        "      nets: [0.0.0.0/0]\n"
        "      ports: [http, 80]\n"
        "  - action: Deny\n"
        "    protocol: TCP\n"
        "    destination:\n"
        "      nets: [0.0.0.0/0]\n"
        "      notPorts: [http]\n"
        "  - action: Deny\n"
        "    destination:\n"
        "      domains: [evil.example.com]\n",
        "model NetworkPolicy.projectcalico.org ml-a/p\n"
        "subject ns=ml-a pods=all() egress=governed default-deny ordered\n"
        "deny spec.egress[0] ports no port\n"
        "deny spec.egress[1] ports no port\n"
        "deny spec.egress[2] ports no port\n"
        "deny spec.egress[3] ports TCP/80\n"
        "  to cidr 0.0.0.0/0 [spec.egress[3].destination] \"nets\"\n"
        "deny spec.egress[4] ports no port\n"
        "deny spec.egress[5] ports any protocol/port\n"
        "  to fqdn evil.example.com [spec.egress[5].destination.domains]\n"
        "note spec.egress[0].destination: destination fields combined (AND) cannot be represented exactly: this deny is not counted\n"
        "note spec.egress[1].destination: serviceAccounts cannot be resolved offline: this deny is not counted\n"
        "note spec.egress[2].source: source narrows this deny in a way not modelled: the deny is not counted\n"
        "note spec.egress[3].destination.ports[0]: named port \"http\" cannot be resolved offline: not counted in this deny\n"
        "note spec.egress[4].destination.notPorts[0]: named port \"http\" cannot be resolved offline: this deny is not counted\n");
}

static void test_calico_read_allow_ignores_narrowing_fields(void **state)
{
    (void)state;
    expect_models(
        "apiVersion: projectcalico.org/v3\n"
        "kind: NetworkPolicy\n"
        "metadata: {name: p, namespace: ml-a}\n"
        "spec:\n"
        "  egress:\n"
        "  - action: Allow\n"
        "    ipVersion: 4\n"
        "    source: {selector: app == 'x'}\n"
        "    http: {methods: [GET]}\n"
        "    destination: {nets: [0.0.0.0/0]}\n",
        "model NetworkPolicy.projectcalico.org ml-a/p\n"
        "subject ns=ml-a pods=all() egress=governed default-deny ordered\n"
        "allow spec.egress[0] ports any protocol/port\n"
        "  to cidr 0.0.0.0/0 [spec.egress[0].destination] \"nets\"\n"
        "note spec.egress[0].ipVersion: ipVersion narrows the rule: ignored (counted wider)\n"
        "note spec.egress[0].source: source narrows the rule: ignored (counted wider)\n"
        "note spec.egress[0].http: http narrows the rule: ignored (counted wider)\n");
}

static void test_calico_read_crd_v1_lowercase_action(void **state)
{
    (void)state;
    expect_models(
        "apiVersion: crd.projectcalico.org/v1\n"
        "kind: GlobalNetworkPolicy\n"
        "metadata: {name: x}\n"
        "spec:\n"
        "  order: 0.0\n"
        "  egress:\n"
        "  - action: allow\n",
        "model GlobalNetworkPolicy.projectcalico.org x\n"
        "subject namespaces=all() pods=all() egress=governed default-deny ordered order=0\n"
        "allow spec.egress[0] ports any protocol/port\n"
        "  to all [spec.egress[0].destination] \"every destination\"\n");
}

static void test_calico_read_service_account_selector_drops_default_deny(void **state)
{
    (void)state;
    expect_models(
        "apiVersion: projectcalico.org/v3\n"
        "kind: NetworkPolicy\n"
        "metadata: {name: p, namespace: ml-a}\n"
        "spec:\n"
        "  serviceAccountSelector: role == 'batch'\n"
        "  egress:\n"
        "  - action: Allow\n"
        "    destination: {nets: [10.0.0.0/8]}\n",
        "model NetworkPolicy.projectcalico.org ml-a/p\n"
        "subject ns=ml-a pods=all() some-pods egress=governed ordered\n"
        "allow spec.egress[0] ports any protocol/port\n"
        "  to cidr 10.0.0.0/8 [spec.egress[0].destination] \"nets\"\n"
        "note spec.serviceAccountSelector: serviceAccountSelector narrows the subject, which is not modelled: the policy governs only some of the selected pods, so its denies and its default deny are not counted\n");
}

static void test_calico_read_tier_noted(void **state)
{
    (void)state;
    expect_models(
        "apiVersion: projectcalico.org/v3\n"
        "kind: GlobalNetworkPolicy\n"
        "metadata: {name: g}\n"
        "spec:\n"
        "  tier: security\n"
        "  order: 10\n"
        "  types: [Egress]\n",
        "model GlobalNetworkPolicy.projectcalico.org g\n"
        "subject namespaces=all() pods=all() egress=governed default-deny ordered order=10 tier=security\n"
        "note spec.tier: tier \"security\": tiers are evaluated in the order of their Tier objects, which is not known offline; the policy's Deny rules take nothing from other tiers' policies\n");
}

static void test_calico_read_rejects_bad_selector_column(void **state)
{
    (void)state;
    expect_error(
        "apiVersion: projectcalico.org/v3\n"
        "kind: NetworkPolicy\n"
        "metadata: {name: p, namespace: ml-a}\n"
        "spec:\n"
        "  selector: app == 'a' &&& b\n",
        5, 26, "spec.selector: expected '&&' but found '&'");
}

static void test_calico_read_rejects_bad_rule_selector_column(void **state)
{
    (void)state;
    expect_error(
        "apiVersion: projectcalico.org/v3\n"
        "kind: NetworkPolicy\n"
        "metadata: {name: p, namespace: ml-a}\n"
        "spec:\n"
        "  egress:\n"
        "  - action: Allow\n"
        "    destination:\n"
        "      selector: \"has(app\"\n",
        8, 24, "spec.egress[0].destination.selector: expected ')' but found end of input");
}

static void test_calico_read_rejects_empty_net(void **state)
{
    (void)state;
    expect_error(
        "apiVersion: projectcalico.org/v3\n"
        "kind: NetworkPolicy\n"
        "metadata: {name: p, namespace: ml-a}\n"
        "spec:\n"
        "  egress:\n"
        "  - action: Allow\n"
        "    destination: {nets: [\"\"]}\n",
        7, 26, "spec.egress[0].destination.nets[0]: invalid CIDR \"\": empty");
}

static void test_calico_read_rejects_bad_net(void **state)
{
    (void)state;
    expect_error(
        "apiVersion: projectcalico.org/v3\n"
        "kind: NetworkPolicy\n"
        "metadata: {name: p, namespace: ml-a}\n"
        "spec:\n"
        "  egress:\n"
        "  - action: Allow\n"
        "    destination: {nets: [10.0.0.0/40]}\n",
        7, 26, "spec.egress[0].destination.nets[0]: invalid CIDR \"10.0.0.0/40\": prefix length must be 0-32");
}

static void test_calico_read_rejects_ports_without_protocol(void **state)
{
    (void)state;
    expect_error(
        "apiVersion: projectcalico.org/v3\n"
        "kind: NetworkPolicy\n"
        "metadata: {name: p, namespace: ml-a}\n"
        "spec:\n"
        "  egress:\n"
        "  - action: Allow\n"
        "    destination: {ports: [80]}\n",
        7, 26, "spec.egress[0].destination.ports: ports need protocol TCP, UDP, SCTP or UDPLite on the rule");
}

static void test_calico_read_rejects_bad_action(void **state)
{
    (void)state;
    expect_error(
        "apiVersion: projectcalico.org/v3\n"
        "kind: NetworkPolicy\n"
        "metadata: {name: p, namespace: ml-a}\n"
        "spec:\n"
        "  egress:\n"
        "  - action: Accept\n",
        6, 13, "spec.egress[0].action: unknown action \"Accept\" (Allow, Deny, Log or Pass)");
}

static void test_calico_read_rejects_missing_action(void **state)
{
    (void)state;
    expect_error(
        "apiVersion: projectcalico.org/v3\n"
        "kind: NetworkPolicy\n"
        "metadata: {name: p, namespace: ml-a}\n"
        "spec:\n"
        "  egress:\n"
        "  - destination: {nets: [10.0.0.0/8]}\n",
        6, 5, "spec.egress[0].action: is required (Allow, Deny, Log or Pass)");
}

static void test_calico_read_rejects_bad_port_range(void **state)
{
    (void)state;
    expect_error(
        "apiVersion: projectcalico.org/v3\n"
        "kind: NetworkPolicy\n"
        "metadata: {name: p, namespace: ml-a}\n"
        "spec:\n"
        "  egress:\n"
        "  - action: Allow\n"
        "    protocol: TCP\n"
        "    destination: {ports: [\"90:80\"]}\n",
        8, 27, "spec.egress[0].destination.ports[0]: invalid port or range \"90:80\"");
}

static void test_calico_read_rejects_bad_protocol(void **state)
{
    (void)state;
    expect_error(
        "apiVersion: projectcalico.org/v3\n"
        "kind: NetworkPolicy\n"
        "metadata: {name: p, namespace: ml-a}\n"
        "spec:\n"
        "  egress:\n"
        "  - action: Allow\n"
        "    protocol: TPC\n",
        7, 15, "spec.egress[0].protocol: unknown protocol \"TPC\"");
}

static void test_calico_read_rejects_bad_type(void **state)
{
    (void)state;
    expect_error(
        "apiVersion: projectcalico.org/v3\n"
        "kind: NetworkPolicy\n"
        "metadata: {name: p, namespace: ml-a}\n"
        "spec:\n"
        "  types: [Egres]\n",
        5, 11, "spec.types[0]: must be Ingress or Egress");
}

static void test_calico_read_rejects_namespace_selector_on_namespaced(void **state)
{
    (void)state;
    expect_error(
        "apiVersion: projectcalico.org/v3\n"
        "kind: NetworkPolicy\n"
        "metadata: {name: p, namespace: ml-a}\n"
        "spec:\n"
        "  namespaceSelector: all()\n",
        5, 22, "spec.namespaceSelector: only a GlobalNetworkPolicy has a namespaceSelector");
}

static void test_calico_read_rejects_bad_domain(void **state)
{
    (void)state;
    expect_error(
        "apiVersion: projectcalico.org/v3\n"
        "kind: GlobalNetworkPolicy\n"
        "metadata: {name: g}\n"
        "spec:\n"
        "  egress:\n"
        "  - action: Allow\n"
        "    destination: {domains: [\"a..b\"]}\n",
        7, 29, "spec.egress[0].destination.domains[0]: invalid DNS name pattern \"a..b\": empty label");
}

static int decide(const char *yaml, struct verdict *v, struct err *e)
{
    struct policy *pol = policy_load("examples/policy.yaml", e);
    struct manifest *m = manifest_new();
    int rc;

    assert_non_null(pol);
    assert_non_null(m);
    assert_int_equal(manifest_read_buffer(m, yaml, strlen(yaml), "t.yaml"), 0);
    assert_int_equal(manifest_n_objects(m), 1);
    verdict_init(v);
    rc = decide_object(pol, manifest_object(m, 0), NULL, v, e);
    if (rc < 0) {
        assert_non_null(e->file);
        assert_string_equal(e->file, "t.yaml");
        e->file = NULL; /* borrowed from the manifest */
    }
    manifest_free(m);
    policy_free(pol);
    return rc;
}

static bool has_violation(const struct verdict *v, const char *path)
{
    for (size_t i = 0; i < v->n_findings; i++)
        if (!strcmp(v->findings[i].rule, "egress") && v->findings[i].violation &&
            (!path || !strcmp(v->findings[i].path, path)))
            return true;
    return false;
}

/* First match wins: the Deny before the Allow takes the metadata address away. */
static void test_calico_decide_first_match_wins(void **state)
{
    struct verdict v;
    struct err e = {0};

    (void)state;
    assert_int_equal(decide("apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\n"
                            "metadata: {name: p, namespace: ml-a}\n"
                            "spec:\n  egress:\n"
                            "  - action: Deny\n    destination: {notNets: [10.20.0.0/16]}\n"
                            "  - action: Allow\n    protocol: TCP\n"
                            "    destination: {ports: [443], nets: [0.0.0.0/0]}\n",
                            &v, &e),
                     0);
    assert_true(v.allowed);
    assert_false(has_violation(&v, NULL));
    verdict_release(&v);

    /* The same rules in the other order open TCP/443 everywhere. */
    assert_int_equal(decide("apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\n"
                            "metadata: {name: p, namespace: ml-a}\n"
                            "spec:\n  egress:\n"
                            "  - action: Allow\n    protocol: TCP\n"
                            "    destination: {ports: [443], nets: [0.0.0.0/0]}\n"
                            "  - action: Deny\n    destination: {notNets: [10.20.0.0/16]}\n",
                            &v, &e),
                     0);
    assert_false(v.allowed);
    assert_true(has_violation(&v, "spec.egress[0].destination"));
    verdict_release(&v);
}

static void test_calico_decide_selector_error_is_positioned(void **state)
{
    struct verdict v;
    struct err e = {0};

    (void)state;
    assert_int_equal(decide("apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\n"
                            "metadata: {name: g}\n"
                            "spec:\n  selector: app == 'a' &&& b\n",
                            &v, &e),
                     -1);
    assert_string_equal(e.msg, "spec.selector: expected '&&' but found '&'");
    assert_int_equal(e.line, 5);
    assert_int_equal(e.col, 26);
    verdict_release(&v);
}

/* Every Calico policy of the corpus evaluates without error. */
static void test_calico_decide_corpus(void **state)
{
    struct err e = {0};
    struct policy *pol = policy_load("examples/policy.yaml", &e);
    struct manifest *m = manifest_new();
    size_t i, seen = 0;

    (void)state;
    assert_non_null(pol);
    assert_non_null(m);
    assert_int_equal(manifest_read(m, "tests/data/corpus/manifests/projectcalico__calico"), 0);
    for (i = 0; i < manifest_n_objects(m); i++) {
        const struct object *o = manifest_object(m, i);
        struct verdict v;

        if (!calico_is_policy(o))
            continue;
        seen++;
        verdict_init(&v);
        if (decide_object(pol, o, NULL, &v, &e) != 0)
            fail_msg("%s:%d: %s", o->file, e.line, e.msg);
        assert_true(v.evaluated);
        verdict_release(&v);
    }
    assert_int_equal(seen, 31);
    manifest_free(m);
    policy_free(pol);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_calico_read_types_default_egress_when_egress_rules),
        cmocka_unit_test(test_calico_read_types_default_ingress_only),
        cmocka_unit_test(test_calico_read_types_default_no_rules_is_ingress),
        cmocka_unit_test(test_calico_read_types_egress_without_rules_denies_all),
        cmocka_unit_test(test_calico_read_types_without_egress_ignores_rules),
        cmocka_unit_test(test_calico_read_ordered_rules_and_order),
        cmocka_unit_test(test_calico_read_global_namespace_selector_and_subject),
        cmocka_unit_test(test_calico_read_namespaced_selector_confined),
        cmocka_unit_test(test_calico_read_protocols_and_not_protocol),
        cmocka_unit_test(test_calico_read_not_ports),
        cmocka_unit_test(test_calico_read_domains),
        cmocka_unit_test(test_calico_read_service_accounts_and_services_unknown),
        cmocka_unit_test(test_calico_read_allow_and_keeps_selector_part),
        cmocka_unit_test(test_calico_read_deny_under_approximated),
        cmocka_unit_test(test_calico_read_allow_ignores_narrowing_fields),
        cmocka_unit_test(test_calico_read_crd_v1_lowercase_action),
        cmocka_unit_test(test_calico_read_service_account_selector_drops_default_deny),
        cmocka_unit_test(test_calico_read_tier_noted),
        cmocka_unit_test(test_calico_read_rejects_bad_selector_column),
        cmocka_unit_test(test_calico_read_rejects_bad_rule_selector_column),
        cmocka_unit_test(test_calico_read_rejects_empty_net),
        cmocka_unit_test(test_calico_read_rejects_bad_net),
        cmocka_unit_test(test_calico_read_rejects_ports_without_protocol),
        cmocka_unit_test(test_calico_read_rejects_bad_action),
        cmocka_unit_test(test_calico_read_rejects_missing_action),
        cmocka_unit_test(test_calico_read_rejects_bad_port_range),
        cmocka_unit_test(test_calico_read_rejects_bad_protocol),
        cmocka_unit_test(test_calico_read_rejects_bad_type),
        cmocka_unit_test(test_calico_read_rejects_namespace_selector_on_namespaced),
        cmocka_unit_test(test_calico_read_rejects_bad_domain),
        cmocka_unit_test(test_calico_decide_first_match_wins),
        cmocka_unit_test(test_calico_decide_selector_error_is_positioned),
        cmocka_unit_test(test_calico_decide_corpus),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
