#include "policy/decide.h"

#include <string.h>
#include <time.h>

#include "policy/cni/anp.h"
#include "policy/cni/calico.h"
#include "policy/cni/cilium.h"
#include "policy/cni/netpol.h"
#include "policy/eval/context.h"
#include "policy/eval/inventory.h"
#include "policy/cni/netset.h"
#include "policy/nsunknown.h"
#include "policy/rules/managed.h"
#include "policy/rules/namespace.h"
#include "policy/rules/pod.h"
#include "policy/rules/workload.h"

typedef int (*decider_fn)(const struct policy *pol, const struct object *obj,
                          const struct request_ctx *ctx, struct verdict *v, struct err *e);

/*
 * Which module decides which kind. A kind appears once per API group that serves it; the empty
 * group is the core API ("v1"). Each rule module adds its own lines.
 */
static const struct decider {
    const char *group;
    const char *kind;
    decider_fn decide;
    bool guarded; /* a network policy kind: managed_decide() runs first */
} deciders[] = {
    {"", "Namespace", namespace_decide, false},
    {"", "Pod", pod_decide, false},
    {"", "PodTemplate", workload_decide, false},
    {"", "ReplicationController", workload_decide, false},
    {"apps", "DaemonSet", workload_decide, false},
    {"apps", "Deployment", workload_decide, false},
    {"apps", "ReplicaSet", workload_decide, false},
    {"apps", "StatefulSet", workload_decide, false},
    {"batch", "CronJob", workload_decide, false},
    {"batch", "Job", workload_decide, false},
    {"cilium.io", "CiliumClusterwideNetworkPolicy", cilium_decide, true},
    {"cilium.io", "CiliumCIDRGroup", netset_decide, false},
    {"cilium.io", "CiliumNetworkPolicy", cilium_decide, true},
    {"crd.projectcalico.org", "GlobalNetworkPolicy", calico_decide, true},
    {"crd.projectcalico.org", "GlobalNetworkSet", netset_decide, false},
    {"crd.projectcalico.org", "HostEndpoint", netset_decide, false},
    {"crd.projectcalico.org", "NetworkPolicy", calico_decide, true},
    {"crd.projectcalico.org", "NetworkSet", netset_decide, false},
    {"extensions", "DaemonSet", workload_decide, false},
    {"extensions", "Deployment", workload_decide, false},
    {"extensions", "NetworkPolicy", netpol_decide, true},
    {"extensions", "ReplicaSet", workload_decide, false},
    {"networking.k8s.io", "NetworkPolicy", netpol_decide, true},
    {"policy.networking.k8s.io", "AdminNetworkPolicy", anp_decide, true},
    {"policy.networking.k8s.io", "BaselineAdminNetworkPolicy", anp_decide, true},
    {"projectcalico.org", "GlobalNetworkPolicy", calico_decide, true},
    {"projectcalico.org", "GlobalNetworkSet", netset_decide, false},
    {"projectcalico.org", "HostEndpoint", netset_decide, false},
    {"projectcalico.org", "NetworkPolicy", calico_decide, true},
    {"projectcalico.org", "NetworkSet", netset_decide, false},
    {NULL, NULL, NULL, false}, /* sentinel; keeps the table valid while it is being filled */
};

/*
 * A DELETE or UPDATE of a network policy while the other objects are known (ctx->context):
 * refused when it widens the egress of the old object's pods beyond the allow-list (context.h).
 * For a DELETE, obj is the object being deleted.
 */
static int judge_change(const struct policy *pol, const struct object *obj,
                        const struct request_ctx *ctx, struct verdict *v, struct err *e)
{
    bool del = !strcmp(ctx->operation, "DELETE");
    struct object old_view;
    const struct object *old = obj;
    struct egress_list old_models, new_models;
    struct compose_policy oldp, newp;
    char old_err[600], new_err[600];
    int rc = -1;

    if (!del) {
        if (!json_is_object(ctx->old_object))
            return 0;
        object_init(&old_view, (json_t *)ctx->old_object, NULL);
        old = &old_view;
    }
    if (!inventory_is_policy(old) ||
        policy_exemption(pol, old->kind, old->ns, old->name,
                         ctx->now ? ctx->now : (int64_t)time(NULL), NULL))
        return 0;
    /*
     * A namespace being deleted takes its policies with it: the namespace controller and the
     * garbage collector must get through, or the namespace hangs in Terminating.
     */
    if (ctx->username &&
        (!strcmp(ctx->username, "system:serviceaccount:kube-system:namespace-controller") ||
         !strcmp(ctx->username, "system:serviceaccount:kube-system:generic-garbage-collector")))
        return 0;
    egress_list_init(&old_models);
    egress_list_init(&new_models);
    if (inventory_read_policy(old, ctx->sets, ctx->namespaces, &old_models, &oldp, old_err,
                              sizeof(old_err), e) < 0 ||
        (!del && inventory_read_policy(obj, ctx->sets, ctx->namespaces, &new_models, &newp,
                                       new_err, sizeof(new_err), e) < 0))
        goto out;
    rc = context_judge_removal(pol, obj, ctx->context, &oldp, del ? NULL : &newp, v, e);
out:
    egress_list_release(&old_models);
    egress_list_release(&new_models);
    return rc;
}

/*
 * Kinds that say something about network traffic but that egressguard does not evaluate. They
 * are never passed in silence: admitted under unknownKinds allow, they get a note naming them.
 */
static bool is_unevaluated_network_kind(const struct object *obj)
{
    static const char *const words[] = {"NetworkPolicy", "Firewall", "EgressPolicy",
                                        "EgressGateway", "AuthorizationPolicy", NULL};
    char group[128];
    size_t i;

    for (i = 0; words[i]; i++)
        if (strstr(obj->kind, words[i]))
            return true;
    object_group(obj, group, sizeof(group));
    /* Calico profiles carry rules of their own; tiers order policies (Pass goes to the next). */
    return (!strcmp(group, "projectcalico.org") || !strcmp(group, "crd.projectcalico.org")) &&
           (!strcmp(obj->kind, "Profile") || !strcmp(obj->kind, "Tier"));
}

static const struct decider *find_decider(const struct object *obj)
{
    char group[128];

    object_group(obj, group, sizeof(group));
    for (const struct decider *d = deciders; d->kind; d++)
        if (!strcmp(d->kind, obj->kind) && !strcmp(d->group, group))
            return d;
    return NULL;
}

/*
 * A note on an exemption's lifecycle: rule "exemption.expiring" (it still applies, and ends
 * soon) or "exemption.expired" (it no longer applies).
 */
static int lifecycle_note(const struct policy *pol, const struct object *obj,
                          const struct exemption *x, bool expired, struct verdict *v)
{
    char who[300], end[96];

    exemption_describe(x, who, sizeof(who));
    exemption_end_text(x, expired, end, sizeof(end));
    /* The news first: admission warnings are cut at 120 characters. */
    if (expired)
        return verdict_add(v, obj, obj->json, "exemption.expired", pol->mode, false, "",
                           "exemption %s: the object is evaluated as if it did not exist (%s; "
                           "reason: %s)",
                           end, who, x->reason);
    return verdict_add(v, obj, obj->json, "exemption.expiring", pol->mode, false, "",
                       "exemption %s: fix the object or renew the exemption (%s)", end, who);
}

/* The object passes unevaluated, and the verdict says by which exemption and until when. */
static int exempt(const struct policy *pol, const struct object *obj, const struct exemption *x,
                  int64_t now, struct verdict *v, struct err *e)
{
    char end[96];

    if (!(v->exemption = strdup(x->reason)))
        return err_set(e, "out of memory");
    exemption_end_text(x, false, end, sizeof(end));
    if (verdict_add(v, obj, obj->json, "exemption", pol->mode, false, "",
                    "exempt by the policy file (line %d): %s%s%s", x->line, x->reason,
                    x->expires_text ? "; it " : "", x->expires_text ? end : "") < 0)
        return err_set(e, "out of memory");
    if (exemption_state(x, pol->exemption_warning_days, now) == EXEMPTION_EXPIRING &&
        lifecycle_note(pol, obj, x, false, v) < 0)
        return err_set(e, "out of memory");
    return 0;
}

static int decide(const struct policy *pol, const struct object *obj,
                  const struct request_ctx *ctx, struct verdict *v, struct err *e)
{
    const struct decider *d;
    const struct exemption *x, *gone;
    int64_t now;

    if (!json_is_object(obj->json) || !*obj->kind) {
        err_set(e, "not a Kubernetes object: apiVersion and kind are required");
        return doc_err_at(obj->doc, obj->json, e);
    }
    d = find_decider(obj);
    /*
     * egressguard's own policies are guarded before anything else, exemptions included: they
     * are what enforces the allow-list. A DELETE removes nothing else we judge, so only the
     * guard speaks then.
     */
    if (d && d->guarded && managed_decide(pol, obj, ctx, v, e) < 0)
        return -1;
    if (d && d->guarded && ctx->context && ctx->operation &&
        (!strcmp(ctx->operation, "DELETE") || !strcmp(ctx->operation, "UPDATE")) &&
        judge_change(pol, obj, ctx, v, e) < 0)
        return -1;
    if (ctx->operation && !strcmp(ctx->operation, "DELETE"))
        return 0;
    if (!d) {
        v->evaluated = false;
        /* The policy file decides what unknown kinds get: never an accidental allow. */
        if (pol->unknown_kinds_allow)
            return !is_unevaluated_network_kind(obj) ||
                           verdict_add(v, obj, obj->json, "kind", pol->mode, false, "",
                                       "%s (%s) is a network-policy kind egressguard does not "
                                       "evaluate: what it opens is not judged",
                                       obj->kind, *obj->api_version ? obj->api_version
                                                                    : "no apiVersion") == 0
                       ? 0
                       : err_set(e, "out of memory");
        return verdict_add(v, obj, obj->json, "kind", pol->mode, true, "",
                           "%s (%s) is not a kind egressguard evaluates, and the policy's "
                           "rules.unknownKinds is deny",
                           obj->kind, *obj->api_version ? obj->api_version : "no apiVersion") < 0
                   ? err_set(e, "out of memory")
                   : 0;
    }
    /* A Namespace's own name is the namespace an exemption's glob is about. */
    now = ctx->now ? ctx->now : (int64_t)time(NULL);
    x = policy_exemption(pol, obj->kind, strcmp(obj->kind, "Namespace") ? obj->ns : obj->name,
                         obj->name, now, &gone);
    if (x)
        return exempt(pol, obj, x, now, v, e);
    /* An expired exemption no longer applies: the object is judged, and told why. */
    if (gone && lifecycle_note(pol, obj, gone, true, v) < 0)
        return err_set(e, "out of memory");
    /* Unknown namespace labels may be anything: judged both ways, failing closed. */
    return nsunknown_decide(pol, obj, ctx, d->decide, v, e);
}

int decide_object(const struct policy *pol, const struct object *obj,
                   const struct request_ctx *ctx, struct verdict *v, struct err *e)
{
    static const struct request_ctx none;
    struct request_ctx with_budget;
    struct budget own;

    if (!ctx)
        ctx = &none;
    /* Every decision has a budget: the caller's, or the default one. */
    if (!ctx->budget) {
        with_budget = *ctx;
        budget_init(&own, BUDGET_DEFAULT_UNITS);
        with_budget.budget = &own;
        ctx = &with_budget;
    }
    if (decide(pol, obj, ctx, v, e) == 0)
        return 0;
    /* Whatever failed once the budget ran out failed because of it: say so, and deny. */
    if (budget_over(ctx->budget)) {
        err_set(e,
                "too complex to evaluate: deciding it takes more than %llu units of work (the "
                "limit of one decision; serve --max-decision-work); split it into smaller objects",
                ctx->budget->limit);
        doc_err_at(obj->doc, obj->json, e);
    }
    return -1;
}

bool decide_uses_namespace_labels(const struct policy *pol, const struct object *obj,
                                   const struct request_ctx *ctx)
{
    if (!pol->n_ns_selectors || !*obj->ns || !strcmp(obj->kind, "Namespace"))
        return false;
    if (ctx && ctx->operation && !strcmp(ctx->operation, "DELETE"))
        return false;
    return find_decider(obj) != NULL;
}
