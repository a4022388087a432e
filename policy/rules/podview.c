#include "policy/rules/podview.h"

#include <string.h>

#include "policy/doc/member.h"

#define PATH_MAX_LEN 512

static const char *const container_lists[POD_CONTAINER_LISTS] = {
    "containers",
    "initContainers",
    "ephemeralContainers",
};

const char *pod_container_list(size_t i)
{
    return i < POD_CONTAINER_LISTS ? container_lists[i] : NULL;
}

int pod_view_init(const struct object *obj, const json_t *meta, const char *meta_path,
                  const json_t *spec, const char *spec_path, struct pod_view *pv, struct err *e)
{
    char path[PATH_MAX_LEN];

    memset(pv, 0, sizeof(*pv));
    pv->spec_path = spec_path;
    pv->meta_path = meta_path;
    if (!json_is_object(spec)) {
        if (!spec || json_is_null(spec)) {
            err_set(e, "%s: missing: a pod needs a spec", spec_path);
            return doc_err_at(obj->doc, obj->json, e);
        }
        return member_check(obj, obj->json, spec, MEMBER_OBJECT, spec_path, e);
    }
    pv->spec = spec;
    if (meta && !json_is_null(meta)) {
        if (member_check(obj, obj->json, meta, MEMBER_OBJECT, meta_path, e) < 0)
            return -1;
        pv->meta = meta;
    }
    member_path(path, sizeof(path), "%s.labels", meta_path);
    if (member_get(obj, meta, "labels", MEMBER_OBJECT, path, &pv->labels, e) < 0)
        return -1;
    member_path(path, sizeof(path), "%s.annotations", meta_path);
    if (member_get(obj, meta, "annotations", MEMBER_OBJECT, path, &pv->annotations, e) < 0)
        return -1;
    return 0;
}
