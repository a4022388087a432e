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
    if (identity_is_service_account(pol, ctx))
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
