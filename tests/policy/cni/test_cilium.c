#include "policy/cni/cilium.h"

#include <stdlib.h>
#include <string.h>

#include "helpers/cnitest.h"
#include "helpers/evalfix.h"
#include "policy/doc/doc.h"
#include "policy/doc/manifest.h"
#include "policy/decide.h"
#include "policy/verdict.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

static void expect_models(const char *yaml, const char *want)
{
    cnitest_expect_models(cilium_read, yaml, want);
}

static void expect_error(const char *yaml, int line, int col, const char *msg)
{
    cnitest_expect_error(cilium_read, yaml, line, col, msg);
}

static void test_cilium_read_subject_prefixes_and_namespace(void **state)
{
    (void)state;
    expect_models(
        "apiVersion: cilium.io/v2\n"
        "kind: CiliumNetworkPolicy\n"
        "metadata: {name: p, namespace: ml-a}\n"
        "spec:\n"
        "  endpointSelector:\n"
        "    matchLabels: {\"k8s:app\": web, \"any:tier\": fe, \"k8s:io.cilium.k8s.namespace.labels.team\": ml}\n"
        "  egress:\n"
        "  - toEndpoints: [{}]\n",
        "model CiliumNetworkPolicy ml-a/p\n"
        "subject ns=ml-a pods=app == \"web\" && tier == \"fe\" egress=governed default-deny\n"
        "allow spec.egress[0] ports any protocol/port\n"
        "  to cluster ns=ml-a pods=all() [spec.egress[0].toEndpoints[0]]\n");
}

static void test_cilium_read_to_endpoints_confined_to_own_namespace(void **state)
{
    (void)state;
    expect_models(
        "apiVersion: cilium.io/v2\n"
        "kind: CiliumNetworkPolicy\n"
        "metadata: {name: p, namespace: ml-a}\n"
        "spec:\n"
        "  endpointSelector: {}\n"
        "  egress:\n"
        "  - toEndpoints:\n"
        "    - matchLabels: {app: db}\n"
        "    - matchLabels: {\"k8s:io.kubernetes.pod.namespace\": kube-system, \"k8s:k8s-app\": kube-dns}\n"
        "    - matchLabels: {\"io.cilium.k8s.namespace.labels.team\": data}\n"
        "    - matchExpressions:\n"
        "      - {key: \"k8s:io.kubernetes.pod.namespace\", operator: Exists}\n",
        "model CiliumNetworkPolicy ml-a/p\n"
        "subject ns=ml-a pods=all() egress=governed default-deny\n"
        "allow spec.egress[0] ports any protocol/port\n"
        "  to cluster ns=ml-a pods=app == \"db\" [spec.egress[0].toEndpoints[0]]\n"
        "  to cluster ns=kube-system pods=k8s-app == \"kube-dns\" [spec.egress[0].toEndpoints[1]]\n"
        "  to cluster namespaces=team == \"data\" pods=all() [spec.egress[0].toEndpoints[2]]\n"
        "  to cluster namespaces=has(kubernetes.io/metadata.name) pods=all() [spec.egress[0].toEndpoints[3]]\n");
}

static void test_cilium_read_clusterwide_spans_namespaces(void **state)
{
    (void)state;
    expect_models(
        "apiVersion: cilium.io/v2\n"
        "kind: CiliumClusterwideNetworkPolicy\n"
        "metadata: {name: c}\n"
        "spec:\n"
        "  endpointSelector:\n"
        "    matchLabels: {\"io.kubernetes.pod.namespace\": ml-a}\n"
        "  egress:\n"
        "  - toEndpoints: [{}]\n"
        "  - toEndpoints:\n"
        "    - matchExpressions: [{key: io.cilium.k8s.policy.cluster, operator: Exists}, {key: app, operator: In, values: [x]}]\n",
        "model CiliumClusterwideNetworkPolicy c\n"
        "subject namespaces=kubernetes.io/metadata.name == \"ml-a\" pods=all() egress=governed default-deny\n"
        "allow spec.egress[0] ports any protocol/port\n"
        "  to cluster namespaces=all() pods=all() [spec.egress[0].toEndpoints[0]]\n"
        "allow spec.egress[1] ports any protocol/port\n"
        "  to cluster namespaces=all() pods=app in {\"x\"} [spec.egress[1].toEndpoints[0]]\n");
}

static void test_cilium_read_node_selector_is_host_policy(void **state)
{
    (void)state;
    expect_models(
        "apiVersion: cilium.io/v2\n"
        "kind: CiliumClusterwideNetworkPolicy\n"
        "metadata: {name: c}\n"
        "spec:\n"
        "  nodeSelector: {matchLabels: {role: worker}}\n"
        "  egress:\n"
        "  - toEntities: [kube-apiserver]\n",
        "model CiliumClusterwideNetworkPolicy c\n"
        "subject namespaces=all() pods=role == \"worker\" host egress=governed default-deny\n"
        "allow spec.egress[0] ports any protocol/port\n"
        "  to entity kube-apiserver [spec.egress[0].toEntities[0]] \"entity kube-apiserver\"\n");
}

static void test_cilium_read_to_cidr_and_cidrset(void **state)
{
    (void)state;
    expect_models(
        "apiVersion: cilium.io/v2\n"
        "kind: CiliumNetworkPolicy\n"
        "metadata: {name: p, namespace: ml-a}\n"
        "spec:\n"
        "  endpointSelector: {}\n"
        "  egress:\n"
        "  - toCIDR: [\"1.1.1.1\", \"10.0.0.1/8\"]\n"
        "  - toCIDRSet:\n"
        "    - {cidr: 0.0.0.0/0, except: [10.0.0.0/8, 172.16.0.0/12]}\n"
        "    - {cidrGroupRef: corp-ranges}\n",
        "model CiliumNetworkPolicy ml-a/p\n"
        "subject ns=ml-a pods=all() egress=governed default-deny\n"
        "allow spec.egress[0] ports any protocol/port\n"
        "  to cidr 1.1.1.1/32 [spec.egress[0].toCIDR[0]] \"1.1.1.1\"\n"
        "  to cidr 10.0.0.0/8 [spec.egress[0].toCIDR[1]] \"10.0.0.1/8\"\n"
        "allow spec.egress[1] ports any protocol/port\n"
        "  to cidr 0.0.0.0/5, 8.0.0.0/7, 11.0.0.0/8, 12.0.0.0/6, 16.0.0.0/4, 32.0.0.0/3, 64.0.0.0/2, 128.0.0.0/3, 160.0.0.0/5, 168.0.0.0/6, 172.0.0.0/12, 172.32.0.0/11, 172.64.0.0/10, 172.128.0.0/9, 173.0.0.0/8, 174.0.0.0/7, 176.0.0.0/4, 192.0.0.0/2 [spec.egress[1].toCIDRSet[0]] \"0.0.0.0/0 except 10.0.0.0/8, 172.16.0.0/12\"\n"
        "  to unknown CiliumCIDRGroup \"corp-ranges\" [spec.egress[1].toCIDRSet[1]] \"cidrGroupRef corp-ranges\"\n"
        "note spec.egress[0].toCIDR[1]: \"10.0.0.1/8\" has host bits set: read as 10.0.0.0/8\n");
}

static void test_cilium_read_entities(void **state)
{
    (void)state;
    expect_models(
        "apiVersion: cilium.io/v2\n"
        "kind: CiliumNetworkPolicy\n"
        "metadata: {name: p, namespace: ml-a}\n"
        "spec:\n"
        "  endpointSelector: {}\n"
        "  egress:\n"
        "  - toEntities: [world, all, cluster, host, remote-node, kube-apiserver, ingress, health, init, unmanaged]\n",
        "model CiliumNetworkPolicy ml-a/p\n"
        "subject ns=ml-a pods=all() egress=governed default-deny\n"
        "allow spec.egress[0] ports any protocol/port\n"
        "  to cidr 0.0.0.0/0, ::/0 [spec.egress[0].toEntities[0]] \"entity world\"\n"
        "  to all [spec.egress[0].toEntities[1]] \"entity all\"\n"
        "  to entity cluster [spec.egress[0].toEntities[2]] \"entity cluster\"\n"
        "  to entity host [spec.egress[0].toEntities[3]] \"entity host\"\n"
        "  to entity remote-node [spec.egress[0].toEntities[4]] \"entity remote-node\"\n"
        "  to entity kube-apiserver [spec.egress[0].toEntities[5]] \"entity kube-apiserver\"\n"
        "  to entity ingress [spec.egress[0].toEntities[6]] \"entity ingress\"\n"
        "  to entity health [spec.egress[0].toEntities[7]] \"entity health\"\n"
        "  to entity init [spec.egress[0].toEntities[8]] \"entity init\"\n"
        "  to entity unmanaged [spec.egress[0].toEntities[9]] \"entity unmanaged\"\n");
}

static void test_cilium_read_fqdns_normalized(void **state)
{
    (void)state;
    expect_models(
        "apiVersion: cilium.io/v2\n"
        "kind: CiliumNetworkPolicy\n"
        "metadata: {name: p, namespace: ml-a}\n"
        "spec:\n"
        "  endpointSelector: {}\n"
        "  egress:\n"
        "  - toFQDNs:\n"
        "    - matchName: API.OpenAI.com.\n"
        "    - matchPattern: \"*.S3.amazonaws.com\"\n"
        "    - matchPattern: \"**.example.com\"\n"
        "    toPorts:\n"
        "    - ports: [{port: \"443\", protocol: TCP}]\n",
        "model CiliumNetworkPolicy ml-a/p\n"
        "subject ns=ml-a pods=all() egress=governed default-deny\n"
        "allow spec.egress[0] ports TCP/443\n"
        "  to fqdn api.openai.com [spec.egress[0].toFQDNs[0].matchName] \"API.OpenAI.com.\"\n"
        "  to fqdn *.s3.amazonaws.com [spec.egress[0].toFQDNs[1].matchPattern] \"*.S3.amazonaws.com\"\n"
        "  to fqdn * [spec.egress[0].toFQDNs[2].matchPattern] \"**.example.com\"\n"
        "note spec.egress[0].toFQDNs[2].matchPattern: \"**.\" matches any number of labels: counted as every name\n"
        "note spec.egress[0].toFQDNs: no DNS rule gives the proxy visibility of these names, so Cilium learns no addresses for them; counted as opened anyway\n");
}

static void test_cilium_read_to_services_unknown(void **state)
{
    (void)state;
    expect_models(
        "apiVersion: cilium.io/v2\n"
        "kind: CiliumNetworkPolicy\n"
        "metadata: {name: p, namespace: ml-a}\n"
        "spec:\n"
        "  endpointSelector: {}\n"
        "  egress:\n"
        "  - toServices:\n"
        "    - k8sService: {serviceName: api, namespace: ml-a}\n",
        "model CiliumNetworkPolicy ml-a/p\n"
        "subject ns=ml-a pods=all() egress=governed default-deny\n"
        "allow spec.egress[0] ports any protocol/port\n"
        "  to unknown toServices [spec.egress[0].toServices[0]] \"toServices\"\n"
        "note spec.egress[0].toServices[0]: toServices cannot be resolved offline: counted as any destination\n");
}

static void test_cilium_read_to_ports_forms(void **state)
{
    (void)state;
    expect_models(
        "apiVersion: cilium.io/v2\n"
        "kind: CiliumNetworkPolicy\n"
        "metadata: {name: p, namespace: ml-a}\n"
        "spec:\n"
        "  endpointSelector: {}\n"
        "  egress:\n"
        "  - toEndpoints: [{matchLabels: {app: db}}]\n"
        "    toPorts:\n"
        "    - ports:\n"
        "      - {port: \"5432\", protocol: TCP}\n"
        "      - {port: \"8000\", endPort: 8010, protocol: UDP}\n"
        "      - {port: \"53\"}\n"
        "      - {port: \"9000\", protocol: SCTP}\n"
        "      - {port: metrics, protocol: TCP}\n"
        "  - toEndpoints: [{matchLabels: {app: any}}]\n"
        "    toPorts:\n"
        "    - ports: [{port: \"0\", protocol: TCP}]\n",
        "model CiliumNetworkPolicy ml-a/p\n"
        "subject ns=ml-a pods=all() egress=governed default-deny\n"
        "allow spec.egress[0] ports TCP/*, UDP/53, UDP/8000-8010, SCTP/53, SCTP/9000\n"
        "  to cluster ns=ml-a pods=app == \"db\" [spec.egress[0].toEndpoints[0]]\n"
        "allow spec.egress[1] ports TCP/*\n"
        "  to cluster ns=ml-a pods=app == \"any\" [spec.egress[1].toEndpoints[0]]\n"
        "note spec.egress[0].toPorts[0].ports[4].port: named port \"metrics\" cannot be resolved offline: treated as every port\n");
}

static void test_cilium_read_l7_rules_noted(void **state)
{
    (void)state;
    expect_models(
        "apiVersion: cilium.io/v2\n"
        "kind: CiliumNetworkPolicy\n"
        "metadata: {name: p, namespace: ml-a}\n"
        "spec:\n"
        "  endpointSelector: {}\n"
        "  egress:\n"
        "  - toEndpoints: [{matchLabels: {\"k8s:io.kubernetes.pod.namespace\": kube-system, k8s-app: kube-dns}}]\n"
        "    toPorts:\n"
        "    - ports: [{port: \"53\", protocol: ANY}]\n"
        "      rules:\n"
        "        dns: [{matchPattern: \"*.corp.example.com\"}, {matchName: pypi.org}]\n"
        "  - toFQDNs: [{matchName: pypi.org}]\n"
        "    toPorts:\n"
        "    - ports: [{port: \"80\", protocol: TCP}]\n"
        "      rules:\n"
        "        http: [{method: GET}]\n",
        "model CiliumNetworkPolicy ml-a/p\n"
        "subject ns=ml-a pods=all() egress=governed default-deny\n"
        "allow spec.egress[0] ports TCP/53, UDP/53, SCTP/53\n"
        "  to cluster ns=kube-system pods=k8s-app == \"kube-dns\" [spec.egress[0].toEndpoints[0]]\n"
        "allow spec.egress[1] ports TCP/80\n"
        "  to fqdn pypi.org [spec.egress[1].toFQDNs[0].matchName] \"pypi.org\"\n"
        "note spec.egress[0].toPorts[0].rules.dns: DNS rules limit which names may be resolved through this rule: *.corp.example.com, pypi.org\n"
        "note spec.egress[1].toPorts[0].rules.http: L7 rules filter requests but open the same destinations and ports at L3/L4\n");
}

static void test_cilium_read_fqdn_without_dns_rule_still_opens(void **state)
{
    (void)state;
    expect_models(
        "apiVersion: cilium.io/v2\n"
        "kind: CiliumNetworkPolicy\n"
        "metadata: {name: p, namespace: ml-a}\n"
        "spec:\n"
        "  endpointSelector: {}\n"
        "  egress:\n"
        "  - toFQDNs: [{matchName: example.com}]\n",
        "model CiliumNetworkPolicy ml-a/p\n"
        "subject ns=ml-a pods=all() egress=governed default-deny\n"
        "allow spec.egress[0] ports any protocol/port\n"
        "  to fqdn example.com [spec.egress[0].toFQDNs[0].matchName] \"example.com\"\n"
        "note spec.egress[0].toFQDNs: no DNS rule gives the proxy visibility of these names, so Cilium learns no addresses for them; counted as opened anyway\n");
}

static void test_cilium_read_l4_only_rule_opens_every_destination(void **state)
{
    (void)state;
    expect_models(
        "apiVersion: cilium.io/v2\n"
        "kind: CiliumNetworkPolicy\n"
        "metadata: {name: p, namespace: ml-a}\n"
        "spec:\n"
        "  endpointSelector: {matchLabels: {app: web}}\n"
        "  egress:\n"
        "  - toPorts:\n"
        "    - ports: [{port: \"443\", protocol: TCP}]\n",
        "model CiliumNetworkPolicy ml-a/p\n"
        "subject ns=ml-a pods=app == \"web\" egress=governed default-deny\n"
        "allow spec.egress[0] ports TCP/443\n"
        "  to all [spec.egress[0]] \"any destination (L4-only rule)\"\n");
}

static void test_cilium_read_empty_rule_denies_all(void **state)
{
    (void)state;
    expect_models(
        "apiVersion: cilium.io/v2\n"
        "kind: CiliumNetworkPolicy\n"
        "metadata: {name: p, namespace: ml-a}\n"
        "spec:\n"
        "  endpointSelector: {}\n"
        "  egress:\n"
        "  - {}\n",
        "model CiliumNetworkPolicy ml-a/p\n"
        "subject ns=ml-a pods=all() egress=governed default-deny\n");
}

static void test_cilium_read_empty_egress_list_ungoverned(void **state)
{
    (void)state;
    expect_models(
        "apiVersion: cilium.io/v2\n"
        "kind: CiliumNetworkPolicy\n"
        "metadata: {name: p, namespace: ml-a}\n"
        "spec:\n"
        "  endpointSelector: {}\n"
        "  egress: []\n"
        "  ingress:\n"
        "  - fromEntities: [world]\n",
        "model CiliumNetworkPolicy ml-a/p\n"
        "subject ns=ml-a pods=all() egress=ungoverned\n");
}

static void test_cilium_read_enable_default_deny_false(void **state)
{
    (void)state;
    expect_models(
        "apiVersion: cilium.io/v2\n"
        "kind: CiliumNetworkPolicy\n"
        "metadata: {name: p, namespace: ml-a}\n"
        "spec:\n"
        "  endpointSelector: {}\n"
        "  enableDefaultDeny: {egress: false}\n"
        "  egress:\n"
        "  - toCIDR: [10.0.0.0/8]\n",
        "model CiliumNetworkPolicy ml-a/p\n"
        "subject ns=ml-a pods=all() egress=governed\n"
        "allow spec.egress[0] ports any protocol/port\n"
        "  to cidr 10.0.0.0/8 [spec.egress[0].toCIDR[0]] \"10.0.0.0/8\"\n");
}

static void test_cilium_read_enable_default_deny_without_rules(void **state)
{
    (void)state;
    expect_models(
        "apiVersion: cilium.io/v2\n"
        "kind: CiliumNetworkPolicy\n"
        "metadata: {name: p, namespace: ml-a}\n"
        "spec:\n"
        "  endpointSelector: {}\n"
        "  enableDefaultDeny: {egress: true, ingress: false}\n",
        "model CiliumNetworkPolicy ml-a/p\n"
        "subject ns=ml-a pods=all() egress=governed default-deny\n");
}

static void test_cilium_read_egress_deny_subtracts(void **state)
{
    (void)state;
    expect_models(
        "apiVersion: cilium.io/v2\n"
        "kind: CiliumNetworkPolicy\n"
        "metadata: {name: p, namespace: ml-a}\n"
        "spec:\n"
        "  endpointSelector: {}\n"
        "  egress:\n"
        "  - toEntities: [world]\n"
        "  egressDeny:\n"
        "  - toCIDRSet: [{cidr: 169.254.0.0/16}]\n"
        "    toPorts:\n"
        "    - ports: [{port: \"80\", protocol: TCP}, {port: http, protocol: TCP}]\n"
        "  - toServices: [{k8sService: {serviceName: x, namespace: y}}]\n"
        "  - toCIDRSet: [{cidrGroupRef: bad-ranges}]\n",
        "model CiliumNetworkPolicy ml-a/p\n"
        "subject ns=ml-a pods=all() egress=governed default-deny\n"
        "allow spec.egress[0] ports any protocol/port\n"
        "  to cidr 0.0.0.0/0, ::/0 [spec.egress[0].toEntities[0]] \"entity world\"\n"
        "deny spec.egressDeny[0] ports TCP/80\n"
        "  to cidr 169.254.0.0/16 [spec.egressDeny[0].toCIDRSet[0]] \"169.254.0.0/16\"\n"
        "deny spec.egressDeny[1] ports any protocol/port\n"
        "deny spec.egressDeny[2] ports any protocol/port\n"
        "note spec.egressDeny[0].toPorts[0].ports[1].port: named port \"http\" cannot be resolved offline: this deny is not counted\n"
        "note spec.egressDeny[1].toServices[0]: toServices cannot be resolved offline: this deny is not counted\n"
        "note spec.egressDeny[2].toCIDRSet[0].cidrGroupRef: cidrGroupRef: what a CIDR group holds is not counted in a deny\n");
}

static void test_cilium_read_specs_one_model_per_rule(void **state)
{
    (void)state;
    expect_models(
        "apiVersion: cilium.io/v2\n"
        "kind: CiliumNetworkPolicy\n"
        "metadata: {name: p, namespace: ml-a}\n"
        "specs:\n"
        "- endpointSelector: {matchLabels: {app: a}}\n"
        "  egress:\n"
        "  - toCIDR: [192.0.2.0/24]\n"
        "- endpointSelector: {matchLabels: {app: b}}\n"
        "  egressDeny:\n"
        "  - toEntities: [world]\n",
        "model CiliumNetworkPolicy ml-a/p specs[0]\n"
        "subject ns=ml-a pods=app == \"a\" egress=governed default-deny\n"
        "allow specs[0].egress[0] ports any protocol/port\n"
        "  to cidr 192.0.2.0/24 [specs[0].egress[0].toCIDR[0]] \"192.0.2.0/24\"\n"
        "model CiliumNetworkPolicy ml-a/p specs[1]\n"
        "subject ns=ml-a pods=app == \"b\" egress=governed default-deny\n"
        "deny specs[1].egressDeny[0] ports any protocol/port\n"
        "  to cidr 0.0.0.0/0, ::/0 [specs[1].egressDeny[0].toEntities[0]] \"entity world\"\n"
        "note specs[1]: egressDeny without egress rules also turns default deny on: all other egress of the selected pods is dropped\n");
}

static void test_cilium_read_spec_and_specs(void **state)
{
    (void)state;
    expect_models(
        "apiVersion: cilium.io/v2\n"
        "kind: CiliumNetworkPolicy\n"
        "metadata: {name: p, namespace: ml-a}\n"
        "spec:\n"
        "  endpointSelector: {matchLabels: {app: a}}\n"
        "  egress: [{toEntities: [cluster]}]\n"
        "specs:\n"
        "- endpointSelector: {matchLabels: {app: b}}\n"
        "  egress: [{toEntities: [host]}]\n",
        "model CiliumNetworkPolicy ml-a/p\n"
        "subject ns=ml-a pods=app == \"a\" egress=governed default-deny\n"
        "allow spec.egress[0] ports any protocol/port\n"
        "  to entity cluster [spec.egress[0].toEntities[0]] \"entity cluster\"\n"
        "model CiliumNetworkPolicy ml-a/p specs[0]\n"
        "subject ns=ml-a pods=app == \"b\" egress=governed default-deny\n"
        "allow specs[0].egress[0] ports any protocol/port\n"
        "  to entity host [specs[0].egress[0].toEntities[0]] \"entity host\"\n");
}

static void test_cilium_read_icmps(void **state)
{
    (void)state;
    expect_models(
        "apiVersion: cilium.io/v2\n"
        "kind: CiliumNetworkPolicy\n"
        "metadata: {name: p, namespace: ml-a}\n"
        "spec:\n"
        "  endpointSelector: {}\n"
        "  egress:\n"
        "  - toCIDR: [10.0.0.0/8]\n"
        "    icmps:\n"
        "    - fields: [{type: 8, family: IPv4}, {type: EchoRequest, family: IPv6}]\n",
        "model CiliumNetworkPolicy ml-a/p\n"
        "subject ns=ml-a pods=all() egress=governed default-deny\n"
        "allow spec.egress[0] ports ICMP, ICMPv6\n"
        "  to cidr 10.0.0.0/8 [spec.egress[0].toCIDR[0]] \"10.0.0.0/8\"\n"
        "note spec.egress[0].icmps: ICMP types are not modelled: every ICMP type is counted\n");
}

static void test_cilium_read_reserved_identity_selector(void **state)
{
    (void)state;
    expect_models(
        "apiVersion: cilium.io/v2\n"
        "kind: CiliumNetworkPolicy\n"
        "metadata: {name: p, namespace: ml-a}\n"
        "spec:\n"
        "  endpointSelector: {}\n"
        "  egress:\n"
        "  - toEndpoints: [{matchLabels: {\"reserved:host\": \"\"}}]\n",
        "model CiliumNetworkPolicy ml-a/p\n"
        "subject ns=ml-a pods=all() egress=governed default-deny\n"
        "allow spec.egress[0] ports any protocol/port\n"
        "  to entity host [spec.egress[0].toEndpoints[0]] \"entity host\"\n");
}

static void test_cilium_read_missing_namespace_is_default(void **state)
{
    (void)state;
    expect_models(
        "apiVersion: cilium.io/v2\n"
        "kind: CiliumNetworkPolicy\n"
        "metadata: {name: p}\n"
        "spec:\n"
        "  endpointSelector: {}\n"
        "  egress: [{toEndpoints: [{}]}]\n",
        "model CiliumNetworkPolicy default/p\n"
        "subject ns=default pods=all() egress=governed default-deny\n"
        "allow spec.egress[0] ports any protocol/port\n"
        "  to cluster ns=default pods=all() [spec.egress[0].toEndpoints[0]]\n"
        "note metadata.namespace: no namespace given: the policy is read as in \"default\"\n");
}

static void test_cilium_read_rejects_empty_cidr(void **state)
{
    (void)state;
    expect_error(
        "apiVersion: cilium.io/v2\n"
        "kind: CiliumNetworkPolicy\n"
        "metadata: {name: p, namespace: ml-a}\n"
        "spec:\n"
        "  endpointSelector: {}\n"
        "  egress:\n"
        "  - toCIDR: [\"\"]\n",
        7, 14, "spec.egress[0].toCIDR[0]: invalid CIDR \"\": empty (Cilium rejects the policy)");
}

static void test_cilium_read_rejects_bad_cidr(void **state)
{
    (void)state;
    expect_error(
        "apiVersion: cilium.io/v2\n"
        "kind: CiliumNetworkPolicy\n"
        "metadata: {name: p, namespace: ml-a}\n"
        "spec:\n"
        "  endpointSelector: {}\n"
        "  egress:\n"
        "  - toCIDRSet:\n"
        "    - cidr: 10.0.0.0/33\n",
        8, 13, "spec.egress[0].toCIDRSet[0].cidr: invalid CIDR \"10.0.0.0/33\": prefix length must be 0-32");
}

static void test_cilium_read_rejects_bad_except(void **state)
{
    (void)state;
    expect_error(
        "apiVersion: cilium.io/v2\n"
        "kind: CiliumNetworkPolicy\n"
        "metadata: {name: p, namespace: ml-a}\n"
        "spec:\n"
        "  endpointSelector: {}\n"
        "  egress:\n"
        "  - toCIDRSet:\n"
        "    - {cidr: 10.0.0.0/8, except: [\"10.1.0.0/x\"]}\n",
        8, 35, "spec.egress[0].toCIDRSet[0].except[0]: invalid CIDR \"10.1.0.0/x\": prefix length must be 0-32");
}

static void test_cilium_read_rejects_combined_l3(void **state)
{
    (void)state;
    expect_error(
        "apiVersion: cilium.io/v2\n"
        "kind: CiliumNetworkPolicy\n"
        "metadata: {name: p, namespace: ml-a}\n"
        "spec:\n"
        "  endpointSelector: {}\n"
        "  egress:\n"
        "  - toEndpoints: [{}]\n"
        "    toCIDR: [10.0.0.0/8]\n",
        8, 13, "spec.egress[0].toCIDR: combining toEndpoints and toCIDR is not supported by Cilium");
}

static void test_cilium_read_rejects_unknown_entity(void **state)
{
    (void)state;
    expect_error(
        "apiVersion: cilium.io/v2\n"
        "kind: CiliumNetworkPolicy\n"
        "metadata: {name: p, namespace: ml-a}\n"
        "spec:\n"
        "  endpointSelector: {}\n"
        "  egress:\n"
        "  - toEntities: [wrld]\n",
        7, 18, "spec.egress[0].toEntities[0]: unknown entity \"wrld\"");
}

static void test_cilium_read_rejects_bad_protocol(void **state)
{
    (void)state;
    expect_error(
        "apiVersion: cilium.io/v2\n"
        "kind: CiliumNetworkPolicy\n"
        "metadata: {name: p, namespace: ml-a}\n"
        "spec:\n"
        "  endpointSelector: {}\n"
        "  egress:\n"
        "  - toPorts:\n"
        "    - ports: [{port: \"80\", protocol: ICMP}]\n",
        8, 38, "spec.egress[0].toPorts[0].ports[0].protocol: unknown protocol \"ICMP\" (Cilium accepts TCP, UDP, SCTP, ANY)");
}

static void test_cilium_read_rejects_end_port_below_port(void **state)
{
    (void)state;
    expect_error(
        "apiVersion: cilium.io/v2\n"
        "kind: CiliumNetworkPolicy\n"
        "metadata: {name: p, namespace: ml-a}\n"
        "spec:\n"
        "  endpointSelector: {}\n"
        "  egress:\n"
        "  - toPorts:\n"
        "    - ports: [{port: \"80\", endPort: 79}]\n",
        8, 37, "spec.egress[0].toPorts[0].ports[0].endPort: endPort must not be less than port");
}

static void test_cilium_read_rejects_bad_selector(void **state)
{
    (void)state;
    expect_error(
        "apiVersion: cilium.io/v2\n"
        "kind: CiliumNetworkPolicy\n"
        "metadata: {name: p, namespace: ml-a}\n"
        "spec:\n"
        "  endpointSelector: {}\n"
        "  egress:\n"
        "  - toEndpoints:\n"
        "    - matchExpressions: [{key: app, operator: Inn, values: [a]}]\n",
        8, 47, "spec.egress[0].toEndpoints[0]: matchExpressions[0].operator: unknown operator \"Inn\"");
}

static void test_cilium_read_rejects_no_spec(void **state)
{
    (void)state;
    expect_error(
        "apiVersion: cilium.io/v2\n"
        "kind: CiliumNetworkPolicy\n"
        "metadata: {name: p}\n",
        1, 1, "spec: a Cilium policy needs spec or specs");
}

static void test_cilium_read_rejects_both_selectors(void **state)
{
    (void)state;
    expect_error(
        "apiVersion: cilium.io/v2\n"
        "kind: CiliumNetworkPolicy\n"
        "metadata: {name: p, namespace: ml-a}\n"
        "spec:\n"
        "  endpointSelector: {}\n"
        "  nodeSelector: {}\n",
        5, 3, "spec: exactly one of endpointSelector or nodeSelector must be given");
}

static void test_cilium_read_rejects_deny_fqdns(void **state)
{
    (void)state;
    expect_error(
        "apiVersion: cilium.io/v2\n"
        "kind: CiliumNetworkPolicy\n"
        "metadata: {name: p, namespace: ml-a}\n"
        "spec:\n"
        "  endpointSelector: {}\n"
        "  egressDeny:\n"
        "  - toFQDNs: [{matchName: a.com}]\n",
        7, 14, "spec.egressDeny[0].toFQDNs: egressDeny does not support toFQDNs");
}

static void test_cilium_read_rejects_bad_fqdn(void **state)
{
    (void)state;
    expect_error(
        "apiVersion: cilium.io/v2\n"
        "kind: CiliumNetworkPolicy\n"
        "metadata: {name: p, namespace: ml-a}\n"
        "spec:\n"
        "  endpointSelector: {}\n"
        "  egress:\n"
        "  - toFQDNs: [{matchName: \"exa mple.com\"}]\n",
        7, 27, "spec.egress[0].toFQDNs[0].matchName: invalid DNS name \"exa mple.com\": character ' ' is not allowed");
}

static void test_cilium_read_rejects_icmps_with_ports(void **state)
{
    (void)state;
    expect_error(
        "apiVersion: cilium.io/v2\n"
        "kind: CiliumNetworkPolicy\n"
        "metadata: {name: p, namespace: ml-a}\n"
        "spec:\n"
        "  endpointSelector: {}\n"
        "  egress:\n"
        "  - toPorts: [{ports: [{port: \"80\"}]}]\n"
        "    icmps: [{fields: [{type: 8}]}]\n",
        8, 12, "spec.egress[0].icmps: icmps may only be present without toPorts (Cilium rejects the rule)");
}

/* The namespace part of a subject is kept apart from the pod labels (the text form hides it). */
static void test_cilium_read_subject_namespace_labels(void **state)
{
    static const char yaml[] =
        "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: p, namespace: ml-a}\n"
        "spec:\n  endpointSelector:\n    matchLabels: {app: web, "
        "\"io.cilium.k8s.namespace.labels.team\": ml}\n";
    struct doc **docs = NULL;
    struct egress_list l;
    struct object o;
    struct err e = {0};
    struct buf b;
    size_t n = 0;

    (void)state;
    egress_list_init(&l);
    buf_init(&b, 0);
    assert_int_equal(doc_parse_stream(yaml, strlen(yaml), "t.yaml", &docs, &n, &e), 0);
    object_init(&o, doc_root(docs[0]), docs[0]);
    assert_int_equal(cilium_read(&o, &l, &e), 0);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.models[0].ns, "ml-a");
    assert_int_equal(selector_format(l.models[0].ns_sel, &b), 0);
    assert_string_equal(buf_str(&b), "team == \"ml\"");
    assert_false(l.models[0].ordered);
    buf_release(&b);
    egress_list_release(&l);
    doc_free(docs[0]);
    free(docs);
}

/* decide_object with the example policy over an object given as YAML. */
static int decide(const char *yaml, struct verdict *v, struct err *e)
{
    struct policy *pol = policy_load("examples/policy.yaml", e);
    struct manifest *m = manifest_new();
    int rc;

    assert_non_null(pol);
    assert_non_null(m);
    assert_int_equal(manifest_read_buffer(m, yaml, strlen(yaml), "t.yaml"), 0);
    assert_int_equal(manifest_n_errors(m), 0);
    assert_int_equal(manifest_n_objects(m), 1);
    verdict_init(v);
    rc = decide_object(pol, manifest_object(m, 0), NULL, v, e);
    if (rc < 0) {
        /* e->file is borrowed from the manifest, which goes away here. */
        assert_non_null(e->file);
        assert_string_equal(e->file, "t.yaml");
        e->file = NULL;
    }
    manifest_free(m);
    policy_free(pol);
    return rc;
}

static bool has_finding(const struct verdict *v, const char *rule, bool violation,
                        const char *path)
{
    for (size_t i = 0; i < v->n_findings; i++)
        if (!strcmp(v->findings[i].rule, rule) && v->findings[i].violation == violation &&
            (!path || !strcmp(v->findings[i].path, path)))
            return true;
    return false;
}

static void test_cilium_decide_world_escapes(void **state)
{
    struct verdict v;
    struct err e = {0};

    (void)state;
    assert_int_equal(decide("apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\n"
                            "metadata: {name: p, namespace: ml-a}\n"
                            "spec:\n  endpointSelector: {}\n  egress:\n"
                            "  - toCIDRSet: [{cidr: 10.20.0.0/16}]\n"
                            "    toPorts: [{ports: [{port: \"443\", protocol: TCP}]}]\n"
                            "  - toEntities: [world]\n",
                            &v, &e),
                     0);
    assert_false(v.allowed);
    assert_true(has_finding(&v, "egress", true, "spec.egress[1].toEntities[0]"));
    assert_false(has_finding(&v, "egress", true, "spec.egress[0].toCIDRSet[0]"));
    verdict_release(&v);
}

static void test_cilium_decide_inside_allow_list(void **state)
{
    struct verdict v;
    struct err e = {0};

    (void)state;
    assert_int_equal(decide("apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\n"
                            "metadata: {name: p, namespace: ml-a}\n"
                            "spec:\n  endpointSelector: {}\n  egress:\n"
                            "  - toFQDNs: [{matchPattern: \"*.s3.amazonaws.com\"}]\n"
                            "    toPorts: [{ports: [{port: \"443\", protocol: TCP}]}]\n",
                            &v, &e),
                     0);
    assert_true(v.allowed);
    assert_false(has_finding(&v, "egress", true, NULL));
    verdict_release(&v);
}

/* An egressDeny of the whole world makes the allow of world harmless (deny wins). */
static void test_cilium_decide_deny_subtracts(void **state)
{
    struct verdict v;
    struct err e = {0};

    (void)state;
    assert_int_equal(decide("apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\n"
                            "metadata: {name: p, namespace: ml-a}\n"
                            "spec:\n  endpointSelector: {}\n  egress:\n"
                            "  - toCIDR: [0.0.0.0/0]\n"
                            "  egressDeny:\n"
                            "  - toCIDRSet: [{cidr: 0.0.0.0/0, except: [10.20.0.0/16]}]\n"
                            "  - toPorts: [{ports: [{port: \"0\", protocol: UDP}, "
                            "{port: \"0\", protocol: SCTP}]}]\n",
                            &v, &e),
                     0);
    /* What is left: 10.20.0.0/16 on TCP (and non-port protocols), not only TCP/443. */
    assert_false(v.allowed);
    assert_true(has_finding(&v, "egress", true, "spec.egress[0].toCIDR[0]"));
    verdict_release(&v);
}

static void test_cilium_decide_malformed_is_positioned(void **state)
{
    struct verdict v;
    struct err e = {0};

    (void)state;
    assert_int_equal(decide("apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\n"
                            "metadata: {name: p, namespace: ml-a}\n"
                            "spec:\n  endpointSelector: {}\n  egress:\n"
                            "  - toCIDR: [\"\"]\n",
                            &v, &e),
                     -1);
    assert_string_equal(e.msg, "spec.egress[0].toCIDR[0]: invalid CIDR \"\": empty (Cilium "
                               "rejects the policy)");
    assert_int_equal(e.line, 7);
    assert_int_equal(e.col, 14);
    verdict_release(&v);
}

/*
 * Every Cilium policy of the corpus evaluates, except those broken on purpose, which fail with
 * a position. `expect` lists the files that must fail and where.
 */
static void check_dir(const struct policy *pol, const char *dir, const char *const *bad,
                      const int *lines, const int *cols, size_t n_bad, size_t *n_seen)
{
    struct manifest *m = manifest_new();
    size_t i, k;

    assert_non_null(m);
    assert_int_equal(manifest_read(m, dir), 0);
    for (i = 0; i < manifest_n_objects(m); i++) {
        const struct object *o = manifest_object(m, i);
        struct verdict v;
        struct err e = {0};
        int rc;

        if (!cilium_is_policy(o))
            continue;
        (*n_seen)++;
        verdict_init(&v);
        rc = decide_object(pol, o, NULL, &v, &e);
        for (k = 0; k < n_bad; k++)
            if (strstr(o->file, bad[k]))
                break;
        if (k < n_bad) {
            if (rc != -1)
                fail_msg("%s: expected an error", o->file);
            assert_int_equal(e.line, lines[k]);
            assert_int_equal(e.col, cols[k]);
        } else if (rc != 0) {
            fail_msg("%s:%d: %s", o->file, e.line, e.msg);
        }
        assert_true(v.evaluated);
        verdict_release(&v);
    }
    manifest_free(m);
}

static void test_cilium_decide_corpus(void **state)
{
    static const char *const bad[] = {"chapter12__invalid-policy.yaml", "tocidr-empty.yaml"};
    static const int lines[] = {14, 12}, cols[] = {9, 16};
    struct err e = {0};
    struct policy *pol = policy_load("examples/policy.yaml", &e);
    size_t seen = 0;

    (void)state;
    assert_non_null(pol);
    check_dir(pol, "tests/data/corpus/manifests/cilium__cilium-cli", bad, lines, cols, 2, &seen);
    check_dir(pol, "tests/data/corpus/manifests/isovalent__cilium-up-and-running", bad, lines,
              cols, 2, &seen);
    check_dir(pol, "tests/data/cilium", bad, lines, cols, 2, &seen);
    assert_int_equal(seen, 117);
    policy_free(pol);
}

/*
 * Cilium's documented DNS rule (docs.cilium.io, "DNS-based" policies): port "53", protocol ANY
 * to kube-dns, which Cilium applies to TCP, UDP and SCTP (pkg/policy/api/l4.go). The example
 * policy's cluster-dns entry admits it; without SCTP/53 in the entry it would be denied.
 */
static void test_cilium_decide_canonical_dns_rule(void **state)
{
    static const char rule[] =
        "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\n"
        "metadata: {name: dns, namespace: ml-a}\n"
        "spec:\n  endpointSelector: {}\n  egress:\n"
        "  - toEndpoints:\n    - matchLabels:\n"
        "        \"k8s:io.kubernetes.pod.namespace\": kube-system\n"
        "        \"k8s:k8s-app\": kube-dns\n"
        "    toPorts:\n    - ports: [{port: \"53\", protocol: ANY}]\n"
        "      rules: {dns: [{matchPattern: \"*\"}]}\n";
    /* The entry as it was before: DNS on UDP and TCP only. */
    static const char before[] =
        "apiVersion: egressguard.io/v1alpha1\nkind: EgressPolicy\nmetadata: {name: t}\n"
        "spec:\n  aiWorkloads: {namespaces: {names: [ml-*]}}\n  allow:\n"
        "  - name: cluster-dns\n    inCluster:\n"
        "    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}\n"
        "      podSelector: {matchLabels: {k8s-app: kube-dns}}\n"
        "    ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]\n";
    struct policy *pol = evalfix_policy("examples/policy.yaml"), *narrow;
    struct err e = {0};
    struct evalfix f;

    (void)state;
    /*
     * The L3/L4 part is inside the allow-list; matchPattern "*" lets every name resolve, which the
     * DNS rule reports (cildns.c; warn by default, so the object is admitted).
     */
    evalfix_text(&f, pol, rule, 0, NULL);
    assert_int_equal(evalfix_count(&f, "egress", true), 0);
    assert_non_null(evalfix_find(&f, "dns", true, 0));
    assert_int_equal(evalfix_find(&f, "dns", true, 0)->mode, MODE_WARN);
    assert_true(f.v.allowed);
    evalfix_release(&f);
    narrow = policy_load_buffer(before, strlen(before), "before.yaml", &e);
    assert_non_null(narrow);
    evalfix_text(&f, narrow, rule, 0, NULL);
    evalfix_expect(&f, "egress", "spec.egress[0].toEndpoints[0]", 8, "on SCTP/53");
    evalfix_release(&f);
    policy_free(narrow);
    policy_free(pol);
}

/* cidrGroupRef: a known group's CIDRs are judged; a group the run does not know is a violation. */
static void test_cilium_decide_cidr_group_ref(void **state)
{
    static const char cnp[] =
        "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\n"
        "metadata: {name: p, namespace: ml-a}\n"
        "spec:\n  endpointSelector: {}\n  egress:\n"
        "  - toCIDRSet: [{cidrGroupRef: registry}]\n"
        "    toPorts: [{ports: [{port: \"443\", protocol: TCP}]}]\n";
    struct policy *pol = evalfix_policy("examples/policy.yaml");
    char yaml[1024];
    struct evalfix f;

    (void)state;
    snprintf(yaml, sizeof(yaml),
             "%s---\napiVersion: cilium.io/v2alpha1\nkind: CiliumCIDRGroup\n"
             "metadata: {name: registry}\nspec: {externalCIDRs: [10.20.0.0/24]}\n",
             cnp);
    evalfix_cluster(&f, pol, yaml, 0, true);
    evalfix_expect_clean(&f);
    evalfix_release(&f);
    evalfix_cluster(&f, pol, cnp, 0, true);
    evalfix_expect(&f, "egress", "spec.egress[0].toCIDRSet[0]", 7,
                   "cidrGroupRef registry opens CiliumCIDRGroup \"registry\", which this run "
                   "does not know (possibly anything) on TCP/443");
    evalfix_release(&f);
    policy_free(pol);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cilium_decide_canonical_dns_rule),
        cmocka_unit_test(test_cilium_decide_cidr_group_ref),
        cmocka_unit_test(test_cilium_read_subject_prefixes_and_namespace),
        cmocka_unit_test(test_cilium_read_to_endpoints_confined_to_own_namespace),
        cmocka_unit_test(test_cilium_read_clusterwide_spans_namespaces),
        cmocka_unit_test(test_cilium_read_node_selector_is_host_policy),
        cmocka_unit_test(test_cilium_read_to_cidr_and_cidrset),
        cmocka_unit_test(test_cilium_read_entities),
        cmocka_unit_test(test_cilium_read_fqdns_normalized),
        cmocka_unit_test(test_cilium_read_to_services_unknown),
        cmocka_unit_test(test_cilium_read_to_ports_forms),
        cmocka_unit_test(test_cilium_read_l7_rules_noted),
        cmocka_unit_test(test_cilium_read_fqdn_without_dns_rule_still_opens),
        cmocka_unit_test(test_cilium_read_l4_only_rule_opens_every_destination),
        cmocka_unit_test(test_cilium_read_empty_rule_denies_all),
        cmocka_unit_test(test_cilium_read_empty_egress_list_ungoverned),
        cmocka_unit_test(test_cilium_read_enable_default_deny_false),
        cmocka_unit_test(test_cilium_read_enable_default_deny_without_rules),
        cmocka_unit_test(test_cilium_read_egress_deny_subtracts),
        cmocka_unit_test(test_cilium_read_specs_one_model_per_rule),
        cmocka_unit_test(test_cilium_read_spec_and_specs),
        cmocka_unit_test(test_cilium_read_icmps),
        cmocka_unit_test(test_cilium_read_reserved_identity_selector),
        cmocka_unit_test(test_cilium_read_missing_namespace_is_default),
        cmocka_unit_test(test_cilium_read_rejects_empty_cidr),
        cmocka_unit_test(test_cilium_read_rejects_bad_cidr),
        cmocka_unit_test(test_cilium_read_rejects_bad_except),
        cmocka_unit_test(test_cilium_read_rejects_combined_l3),
        cmocka_unit_test(test_cilium_read_rejects_unknown_entity),
        cmocka_unit_test(test_cilium_read_rejects_bad_protocol),
        cmocka_unit_test(test_cilium_read_rejects_end_port_below_port),
        cmocka_unit_test(test_cilium_read_rejects_bad_selector),
        cmocka_unit_test(test_cilium_read_rejects_no_spec),
        cmocka_unit_test(test_cilium_read_rejects_both_selectors),
        cmocka_unit_test(test_cilium_read_rejects_deny_fqdns),
        cmocka_unit_test(test_cilium_read_rejects_bad_fqdn),
        cmocka_unit_test(test_cilium_read_rejects_icmps_with_ports),
        cmocka_unit_test(test_cilium_read_subject_namespace_labels),
        cmocka_unit_test(test_cilium_decide_world_escapes),
        cmocka_unit_test(test_cilium_decide_inside_allow_list),
        cmocka_unit_test(test_cilium_decide_deny_subtracts),
        cmocka_unit_test(test_cilium_decide_malformed_is_positioned),
        cmocka_unit_test(test_cilium_decide_corpus),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
