#include "policy/rules/managed.h"

#include <stdbool.h>
#include <string.h>

#include "policy/config/identity.h"
#include "policy/doc/member.h"

static const json_t *labels_of(const json_t *o)
{
    const json_t *meta = json_is_object(o) ? json_object_get(o, "metadata") : NULL;

    return json_is_object(meta) ? json_object_get(meta, "labels") : NULL;
}

/*
 * The control plane's own deleters. When a namespace is deleted, the namespace controller
 * deletes everything in it, egressguard's policies included, and the namespace stays in
 * Terminating until that succeeded; the garbage collector deletes objects whose owners are gone.
 * With --use-service-account-credentials each controller of kube-controller-manager acts as its
 * own service account in kube-system (kubernetes plugin/pkg/auth/authorizer/rbac/bootstrappolicy/
 * controller_policy.go: "namespace-controller", "generic-garbage-collector"); without it, as
 * system:kube-controller-manager. They may delete, never change.
 */
static const char *const control_plane_deleters[] = {
    "system:serviceaccount:kube-system:namespace-controller",
    "system:serviceaccount:kube-system:generic-garbage-collector",
    "system:kube-controller-manager",
};

static bool control_plane_deleter(const struct request_ctx *ctx)
{
    for (size_t i = 0; ctx && ctx->username &&
                       i < sizeof(control_plane_deleters) / sizeof(control_plane_deleters[0]);
         i++)
        if (!strcmp(ctx->username, control_plane_deleters[i]))
            return true;
    return false;
}

static bool is_managed(const json_t *labels)
{
    const char *by = member_label(labels, MANAGED_BY_LABEL);

    return by && strcmp(by, MANAGED_BY_VALUE) == 0;
}

int managed_decide(const struct policy *pol, const struct object *obj,
                   const struct request_ctx *ctx, struct verdict *v, struct err *e)
{
    const char *op = ctx && ctx->operation ? ctx->operation : "CREATE";
    const json_t *labels = labels_of(obj->json);
    const json_t *old = ctx ? labels_of(ctx->old_object) : NULL;
    const char *path = "metadata.labels[" MANAGED_BY_LABEL "]";
    bool del = strcmp(op, "DELETE") == 0;

    if (!del && strcmp(op, "UPDATE") != 0)
        return 0;
    if (!is_managed(labels) && !is_managed(old))
        return 0;
    if (identity_is_service_account(pol, ctx) || (del && control_plane_deleter(ctx)))
        return 0;
    if (verdict_add(v, obj, is_managed(labels) ? labels : NULL, "managed.policy", pol->mode, true,
                    path,
                    "%s %s%s%s is managed by egressguard (%s: %s): only egressguard's own "
                    "service account (spec.identities.serviceAccounts) may %s it, not %s",
                    obj->kind, obj->ns && *obj->ns ? obj->ns : "", obj->ns && *obj->ns ? "/" : "",
                    obj->name, MANAGED_BY_LABEL, MANAGED_BY_VALUE, del ? "delete" : "change",
                    ctx && ctx->username ? ctx->username : "(unknown)") < 0)
        return err_set(e, "out of memory");
    return 0;
}
