#include "server/kube/discovery.h"

#include <stdio.h>
#include <string.h>

/* Does the APIResourceList name `resource` (not a subresource such as "x/status")? */
static bool lists(const json_t *list, const char *resource)
{
    size_t i;
    const json_t *r;

    json_array_foreach(json_object_get(list, "resources"), i, r) {
        const char *name = json_string_value(json_object_get(r, "name"));
        if (name && !strcmp(name, resource))
            return true;
    }
    return false;
}

int discovery_round(struct kube *k, int chosen[MODEL_N_KINDS], struct err *e)
{
    size_t n;
    const struct model_api *apis = model_apis(&n);
    /* Several kinds share a group version: ask each once per round. */
    struct {
        const char *group, *version;
        json_t *list; /* NULL: not served */
    } seen[32];
    size_t n_seen = 0;
    int rc = 0;

    for (int i = 0; i < MODEL_N_KINDS; i++)
        chosen[i] = -1;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const json_t *list = NULL;
        size_t s;

        if (chosen[apis[i].kind] >= 0)
            continue; /* a preferred API serves it already */
        for (s = 0; s < n_seen; s++)
            if (!strcmp(seen[s].group, apis[i].group) && !strcmp(seen[s].version, apis[i].version))
                break;
        if (s == n_seen && n_seen < sizeof(seen) / sizeof(seen[0])) {
            char path[256];
            json_t *resp = NULL;
            long st;

            snprintf(path, sizeof(path), *apis[i].group ? "/apis/%s/%s" : "/api/%s%s",
                     *apis[i].group ? apis[i].group : apis[i].version,
                     *apis[i].group ? apis[i].version : "");
            st = kube_request(k, "GET", path, NULL, &resp, e);
            if (st == 200 && json_is_object(resp)) {
                seen[n_seen].list = resp;
            } else if (st == 404) {
                json_decref(resp);
                seen[n_seen].list = NULL;
            } else {
                json_decref(resp);
                if (st >= 0)
                    err_set(e, "GET %s: HTTP %ld", path, st);
                rc = -1;
                break;
            }
            seen[n_seen].group = apis[i].group;
            seen[n_seen].version = apis[i].version;
            n_seen++;
        }
        if (s < n_seen)
            list = seen[s].list;
        if (list && lists(list, apis[i].resource))
            chosen[apis[i].kind] = (int)i;
    }
    for (size_t s = 0; s < n_seen; s++)
        json_decref(seen[s].list);
    return rc;
}
