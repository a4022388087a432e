#include "policy/rules/workload.h"

#include <string.h>

#include "policy/doc/member.h"
#include "policy/rules/pod.h"

/* Follows a chain of object members from the root; the last one must be present. */
static int walk(const struct object *obj, const char *const *keys, size_t n, const json_t **out,
                struct err *e)
{
    char path[256] = "";
    const json_t *node = obj->json, *next;
    size_t i, len = 0;

    for (i = 0; i < n; i++) {
        member_path(path + len, sizeof(path) - len, "%s%s", i ? "." : "", keys[i]);
        len = strlen(path);
        if (member_get(obj, node, keys[i], MEMBER_OBJECT, path, &next, e) < 0)
            return -1;
        if (!next) {
            err_set(e, "%s: missing: a %s needs a pod template", path, obj->kind);
            return doc_err_at(obj->doc, node, e);
        }
        node = next;
    }
    *out = node;
    return 0;
}

int workload_decide(const struct policy *pol, const struct object *obj,
                    const struct request_ctx *ctx, struct verdict *v, struct err *e)
{
    static const char *const in_spec[] = {"spec", "template"};
    static const char *const in_cronjob[] = {"spec", "jobTemplate", "spec", "template"};
    static const char *const in_podtemplate[] = {"template"};
    const char *const *keys = in_spec;
    size_t n = 2;
    const char *meta_path = "spec.template.metadata", *spec_path = "spec.template.spec";
    const json_t *tmpl = NULL;
    struct pod_view pv;

    /* Deleting a workload opens nothing. */
    if (ctx && ctx->operation && strcmp(ctx->operation, "DELETE") == 0)
        return 0;
    if (strcmp(obj->kind, "CronJob") == 0) {
        keys = in_cronjob;
        n = 4;
        meta_path = "spec.jobTemplate.spec.template.metadata";
        spec_path = "spec.jobTemplate.spec.template.spec";
    } else if (strcmp(obj->kind, "PodTemplate") == 0) {
        keys = in_podtemplate;
        n = 1;
        meta_path = "template.metadata";
        spec_path = "template.spec";
    }
    if (walk(obj, keys, n, &tmpl, e) < 0)
        return -1;
    if (pod_view_init(obj, json_object_get(tmpl, "metadata"), meta_path,
                      json_object_get(tmpl, "spec"), spec_path, &pv, e) < 0)
        return -1;
    return pod_check(pol, obj, ctx, &pv, v, e);
}
