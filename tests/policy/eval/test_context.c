/*
 * Network-policy changes judged in the context of the other policies (policy/eval/context.c),
 * through decide_object() as `check` and the webhook call it. The composition rules each case
 * relies on are cited next to it; compose.h cites them for the engine.
 */
#include "policy/eval/context.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/decide.h"
#include "policy/doc/manifest.h"
#include "tests/helpers/invfix.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#define NS_ML_A "apiVersion: v1\nkind: Namespace\nmetadata: {name: ml-a}\n---\n"

static const char allow_https[] = "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\n"
                                  "metadata: {name: allow-https, namespace: ml-a}\n"
                                  "spec:\n  endpointSelector: {}\n  egress:\n"
                                  "  - toEntities: [world]\n"
                                  "    toPorts: [{ports: [{port: \"443\", protocol: TCP}]}]\n";

/* The deny of everything outside the allow-list's ranges, for the pods `subject` selects. */
#define DENY_OUTSIDE(subject, except)                                                           \
    "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\n"                                    \
    "metadata: {name: deny-outside, namespace: ml-a}\n"                                        \
    "spec:\n  endpointSelector: {" subject "}\n  egressDeny:\n"                                \
    "  - toCIDRSet:\n    - {cidr: 0.0.0.0/0, except: [" except "]}\n"                          \
    "    - {cidr: \"::/0\", except: [\"fd00:20::/64\"]}\n"

struct world {
    struct policy *pol;
    struct invfix f; /* the other objects: the context */
};

static void world_load(struct world *w, const char *yaml)
{
    struct err e = {0};

    w->pol = policy_load("examples/policy.yaml", &e);
    assert_non_null(w->pol);
    invfix_load(&w->f, yaml, "cluster.yaml", NULL);
}

static void world_free(struct world *w)
{
    invfix_release(&w->f);
    policy_free(w->pol);
}

static const struct object *world_object(const struct world *w, const char *name)
{
    return invfix_object(&w->f, name);
}

/* Decides obj with the world as context; returns the verdict (release it). */
static void decide(struct world *w, const struct object *obj, const char *op, const json_t *old,
                   const char *user, struct verdict *v)
{
    struct request_ctx ctx = {.operation = op,
                              .old_object = old,
                              .username = user,
                              .context = &w->f.inv.in};
    struct err e = {0};

    verdict_init(v);
    assert_int_equal(decide_object(w->pol, obj, &ctx, v, &e), 0);
}

static void dump(const struct verdict *v)
{
    for (size_t i = 0; i < v->n_findings; i++)
        print_message("  %s %s: %s\n", v->findings[i].violation ? "violation" : "note",
                      v->findings[i].path, v->findings[i].message);
}

/*
 * Cilium: "Deny policies take precedence over allow policies, regardless of whether they are a
 * Cilium Network Policy, a Clusterwide Cilium Network Policy or even a Kubernetes Network Policy"
 * (docs.cilium.io/en/latest/security/policy/deny/). The allow to the world on TCP/443 is
 * admitted next to the deny, in either order of the input, and refused without it.
 */
static void test_context_layered_cilium_either_order(void **state)
{
    static const char deny[] = DENY_OUTSIDE("", "10.20.0.0/16, 10.30.0.0/24");
    char yaml[4096];
    struct world w;
    struct verdict v;

    (void)state;
    for (size_t i = 0; i < 2; i++) {
        snprintf(yaml, sizeof(yaml), "%s%s---\n%s", NS_ML_A, i ? deny : allow_https,
                 i ? allow_https : deny);
        world_load(&w, yaml);
        decide(&w, world_object(&w, "allow-https"), "CREATE", NULL, NULL, &v);
        if (!v.allowed)
            dump(&v);
        assert_true(v.allowed);
        assert_non_null(invfix_find(&v, false, "judged with the other policies of ml-a that apply to "
                                        "these pods: CiliumNetworkPolicy ml-a/deny-outside"));
        verdict_release(&v);
        world_free(&w);
    }
    world_load(&w, NS_ML_A);
    {
        struct manifest *m = manifest_new();

        assert_int_equal(manifest_read_buffer(m, allow_https, strlen(allow_https), "new.yaml"),
                         0);
        decide(&w, manifest_object(m, 0), "CREATE", NULL, NULL, &v);
        assert_false(v.allowed);
        assert_non_null(invfix_find(&v, true, "entity world opens"));
        verdict_release(&v);
        manifest_free(m);
    }
    world_free(&w);
}

/* A deny for only some pods cannot clean an allow for every pod: it applies to some of them. */
static void test_context_partial_deny_does_not_admit(void **state)
{
    char yaml[4096];
    struct world w;
    struct verdict v;

    (void)state;
    snprintf(yaml, sizeof(yaml), "%s%s---\n%s", NS_ML_A, allow_https,
             DENY_OUTSIDE("matchLabels: {app: web}", "10.20.0.0/16, 10.30.0.0/24"));
    world_load(&w, yaml);
    decide(&w, world_object(&w, "allow-https"), "CREATE", NULL, NULL, &v);
    assert_false(v.allowed);
    assert_non_null(invfix_find(&v, true, "entity world opens"));
    verdict_release(&v);
    world_free(&w);
}

/* A deny that leaves more than the allow-list open: what remains is named, positioned. */
static void test_context_remainder_is_reported(void **state)
{
    char yaml[4096];
    struct world w;
    struct verdict v;
    const struct finding *f;

    (void)state;
    snprintf(yaml, sizeof(yaml), "%s%s---\n%s", NS_ML_A, allow_https,
             DENY_OUTSIDE("", "10.20.0.0/16, 10.30.0.0/24, 192.0.2.0/24"));
    world_load(&w, yaml);
    decide(&w, world_object(&w, "allow-https"), "CREATE", NULL, NULL, &v);
    assert_false(v.allowed);
    f = invfix_find(&v, true, "entity world opens 192.0.2.0/24 on TCP/443");
    assert_non_null(f);
    assert_string_equal(f->path, "spec.egress[0].toEntities[0]");
    assert_int_equal(f->line, 11);
    verdict_release(&v);
    world_free(&w);
}

/* A Calico policy that opens TCP/443 to every address for every pod of ml-a. */
#define CALICO_APP                                                                                \
    "---\napiVersion: projectcalico.org/v3\nkind: NetworkPolicy\n"                             \
    "metadata: {name: app, namespace: ml-a}\n"                                                  \
    "spec:\n  order: 100\n  egress:\n"                                                          \
    "  - action: Allow\n    protocol: TCP\n"                                                    \
    "    destination: {nets: [0.0.0.0/0], ports: [443]}\n"

/* Decides CALICO_APP next to `guard` (objects before it); the world is returned loaded. */
static void calico_app(struct world *w, const char *guard, bool want_allowed)
{
    char yaml[4096];
    struct verdict v;

    snprintf(yaml, sizeof(yaml), "%s%s%s", NS_ML_A, guard, CALICO_APP);
    world_load(w, yaml);
    decide(w, world_object(w, "app"), "CREATE", NULL, NULL, &v);
    if (v.allowed != want_allowed)
        dump(&v);
    assert_int_equal(v.allowed, want_allowed);
    if (!want_allowed)
        assert_non_null(invfix_find(&v, true, "nets opens 0.0.0.0/5"));
    verdict_release(&v);
}

/*
 * Calico: policies by order, and "If a NetworkPolicy or GlobalNetworkPolicy in the Tier Allows
 * or Denys the packet, then evaluation is done" (docs.tigera.io/calico/latest/reference/
 * resources/tier): a Deny at a lower order takes what a later Allow opens; at a higher order it
 * comes too late.
 */
static void calico_case(int deny_order, bool want_allowed)
{
    char guard[1024];
    struct world w;

    snprintf(guard, sizeof(guard),
             "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\n"
             "metadata: {name: guard}\n"
             "spec:\n  order: %d\n  types: [Egress]\n  egress:\n"
             "  - action: Deny\n    destination: {notNets: [10.20.0.0/16]}\n"
             "  - action: Pass\n",
             deny_order);
    calico_app(&w, guard, want_allowed);
    world_free(&w);
}

static void test_context_calico_order(void **state)
{
    (void)state;
    calico_case(10, true);
    calico_case(200, false);
}

/*
 * The guard in tier security: "order: Indicates priority of this Tier, with lower order taking
 * precedence" (docs.tigera.io/calico/latest/reference/resources/tier). The Tier objects are not
 * known, so the guard may come after the allow whatever the policies' orders: it takes nothing.
 */
static void test_context_calico_other_tier_takes_nothing(void **state)
{
    struct world w;

    (void)state;
    calico_app(&w,
               "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\n"
               "metadata: {name: security.guard}\n"
               "spec:\n  tier: security\n  order: 10\n  types: [Egress]\n  egress:\n"
               "  - action: Deny\n    destination: {notNets: [10.20.0.0/16]}\n"
               "  - action: Pass\n",
               false);
    world_free(&w);
}

/*
 * AdminNetworkPolicies come before the namespace's Calico policies, lowest priority first; a Deny
 * of everything at priority 20 takes what the app's Allow opens, unless an ANP at priority 10
 * Passes that traffic: "Pass: instructs the selected traffic to skip any remaining ANP rules, and
 * then pass execution to any NetworkPolicies that select the pod" (network-policy-api
 * apis/v1alpha1/adminnetworkpolicy_types.go). With the Pass, the guard never sees it: refused.
 */
static void test_context_admin_pass_skips_admin_guard(void **state)
{
    static const char guard[] =
        "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\n"
        "metadata: {name: guard}\nspec:\n  priority: 20\n  subject: {namespaces: {}}\n"
        "  egress:\n  - action: Deny\n    to: [{networks: [0.0.0.0/0, '::/0']}]\n---\n";
    static const char pass[] =
        "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\n"
        "metadata: {name: delegate}\nspec:\n  priority: 10\n  subject: {namespaces: {}}\n"
        "  egress:\n  - action: Pass\n    to: [{networks: [0.0.0.0/0]}]\n---\n";
    char both[2048];
    struct world w;

    (void)state;
    calico_app(&w, guard, true);
    world_free(&w);
    snprintf(both, sizeof(both), "%s%s", pass, guard);
    calico_app(&w, both, false);
    world_free(&w);
}

/*
 * "serviceAccountSelector: Selects the service account(s) to which this policy applies"
 * (docs.tigera.io/calico/latest/reference/resources/networkpolicy): a guard narrowed that way
 * governs only the pods of some service accounts, which are not known, so it cannot take away
 * what another policy opens to every pod. The narrowed policy's own Deny still comes before its
 * own Allow for the pods it governs.
 */
static void test_context_calico_service_account_guard(void **state)
{
    struct world w;
    struct verdict v;

    (void)state;
    calico_app(&w,
               "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\n"
               "metadata: {name: guard, namespace: ml-a}\n"
               "spec:\n  order: 10\n  serviceAccountSelector: role == 'batch'\n"
               "  types: [Egress]\n  egress:\n"
               "  - action: Deny\n    destination: {notNets: [10.20.0.0/16]}\n"
               "  - action: Allow\n    protocol: TCP\n    destination: {ports: [443]}\n",
               false);
    decide(&w, world_object(&w, "guard"), "CREATE", NULL, NULL, &v);
    if (!v.allowed)
        dump(&v);
    assert_true(v.allowed);
    verdict_release(&v);
    world_free(&w);
}

/*
 * Kubernetes: "Network policies do not conflict; they are additive" (kubernetes.io/docs/concepts/
 * services-networking/network-policies/): a default deny next to an allow takes nothing from it.
 */
static void test_context_kubernetes_union(void **state)
{
    struct world w;
    struct verdict v;

    (void)state;
    world_load(&w, NS_ML_A "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                           "metadata: {name: deny-all, namespace: ml-a}\n"
                           "spec: {podSelector: {}, policyTypes: [Egress]}\n---\n"
                           "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                           "metadata: {name: web, namespace: ml-a}\n"
                           "spec:\n  podSelector: {}\n  policyTypes: [Egress]\n  egress:\n"
                           "  - to: [{ipBlock: {cidr: 0.0.0.0/0}}]\n");
    decide(&w, world_object(&w, "web"), "CREATE", NULL, NULL, &v);
    assert_false(v.allowed);
    verdict_release(&v);
    world_free(&w);
}

/* Deleting the deny of a layered pair widens the allow's pods: refused, naming what opens. */
static void test_context_delete_deny_refused(void **state)
{
    char yaml[4096];
    struct world w;
    struct verdict v;
    const struct finding *f;

    (void)state;
    snprintf(yaml, sizeof(yaml), "%s%s---\n%s", NS_ML_A, allow_https,
             DENY_OUTSIDE("", "10.20.0.0/16, 10.30.0.0/24"));
    world_load(&w, yaml);
    decide(&w, world_object(&w, "deny-outside"), "DELETE", NULL, NULL, &v);
    assert_false(v.allowed);
    f = invfix_find(&v, true, "deleting CiliumNetworkPolicy ml-a/deny-outside (cluster.yaml:");
    assert_non_null(f);
    assert_non_null(strstr(f->message, "with it gone, CiliumNetworkPolicy ml-a/allow-https "
                                       "(cluster.yaml:5): entity world opens"));
    verdict_release(&v);
    /* deleting the allow takes nothing away that keeps the namespace inside */
    decide(&w, world_object(&w, "allow-https"), "DELETE", NULL, NULL, &v);
    assert_true(v.allowed);
    verdict_release(&v);
    /* the namespace controller deleting a terminating namespace's policies gets through */
    decide(&w, world_object(&w, "deny-outside"), "DELETE", NULL,
           "system:serviceaccount:kube-system:namespace-controller", &v);
    assert_true(v.allowed);
    verdict_release(&v);
    world_free(&w);
}

/* Deleting the only egress default deny leaves the pods unrestricted: refused. */
static void test_context_delete_default_deny_refused(void **state)
{
    struct world w;
    struct verdict v;

    (void)state;
    world_load(&w, NS_ML_A "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                           "metadata: {name: deny-all, namespace: ml-a}\n"
                           "spec: {podSelector: {}, policyTypes: [Egress]}\n");
    decide(&w, world_object(&w, "deny-all"), "DELETE", NULL, NULL, &v);
    assert_false(v.allowed);
    assert_non_null(invfix_find(&v, true, "leaves its pods in ml-a without egress default deny"));
    verdict_release(&v);
    world_free(&w);
}

/* An UPDATE that narrows the deny widens the allow: refused; one that keeps it: admitted. */
static void test_context_update_deny(void **state)
{
    static const char narrowed[] = DENY_OUTSIDE("", "10.20.0.0/16, 10.30.0.0/24, 198.51.100.0/24");
    static const char same[] = DENY_OUTSIDE("", "10.20.0.0/16");
    char yaml[4096];
    struct world w;
    struct verdict v;
    struct manifest *m = manifest_new();

    (void)state;
    snprintf(yaml, sizeof(yaml), "%s%s---\n%s", NS_ML_A, allow_https,
             DENY_OUTSIDE("", "10.20.0.0/16, 10.30.0.0/24"));
    world_load(&w, yaml);
    assert_non_null(m);
    assert_int_equal(manifest_read_buffer(m, narrowed, strlen(narrowed), "new.yaml"), 0);
    assert_int_equal(manifest_read_buffer(m, same, strlen(same), "new2.yaml"), 0);
    decide(&w, manifest_object(m, 0), "UPDATE", world_object(&w, "deny-outside")->json, NULL,
           &v);
    assert_false(v.allowed);
    assert_non_null(invfix_find(&v, true, "changing CiliumNetworkPolicy ml-a/deny-outside"));
    assert_non_null(invfix_find(&v, true, "198.51.100.0/24 on TCP/443"));
    verdict_release(&v);
    decide(&w, manifest_object(m, 1), "UPDATE", world_object(&w, "deny-outside")->json, NULL,
           &v);
    if (!v.allowed)
        dump(&v);
    assert_true(v.allowed);
    verdict_release(&v);
    manifest_free(m);
    world_free(&w);
}

/* Cluster-wide policies are judged alone: the namespaces they reach are not all known offline. */
static void test_context_clusterwide_alone(void **state)
{
    char yaml[4096];
    struct world w;
    struct verdict v;

    (void)state;
    snprintf(yaml, sizeof(yaml),
             "%sapiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\n"
             "metadata: {name: world}\n"
             "spec:\n  endpointSelector: {}\n  egress:\n  - toEntities: [world]\n"
             "    toPorts: [{ports: [{port: \"443\", protocol: TCP}]}]\n---\n%s",
             NS_ML_A, DENY_OUTSIDE("", "10.20.0.0/16, 10.30.0.0/24"));
    world_load(&w, yaml);
    decide(&w, world_object(&w, "world"), "CREATE", NULL, NULL, &v);
    assert_false(v.allowed);
    verdict_release(&v);
    world_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_context_layered_cilium_either_order),
        cmocka_unit_test(test_context_partial_deny_does_not_admit),
        cmocka_unit_test(test_context_remainder_is_reported),
        cmocka_unit_test(test_context_calico_order),
        cmocka_unit_test(test_context_calico_service_account_guard),
        cmocka_unit_test(test_context_calico_other_tier_takes_nothing),
        cmocka_unit_test(test_context_admin_pass_skips_admin_guard),
        cmocka_unit_test(test_context_kubernetes_union),
        cmocka_unit_test(test_context_delete_deny_refused),
        cmocka_unit_test(test_context_delete_default_deny_refused),
        cmocka_unit_test(test_context_update_deny),
        cmocka_unit_test(test_context_clusterwide_alone),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
