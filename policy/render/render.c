#include "policy/render/render.h"

#include <string.h>

#include "policy/render/rbuild.h"

int render_target_parse(const char *name, enum render_target *out)
{
    static const char *const names[] = {"networkpolicy", "cilium", "calico",
                                        "adminnetworkpolicy"};

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (!strcmp(name, names[i])) {
            *out = (enum render_target)i;
            return 0;
        }
    return -1;
}

json_t *render_build(const struct policy *pol, enum render_target t, const struct render_opts *o,
                     json_t **notes, struct err *e)
{
    static const struct render_opts none = {0};
    struct rbuild b = {.pol = pol, .e = e};
    json_t *out = json_array();
    int rc = -1;

    if (!o)
        o = &none;
    if (notes)
        *notes = NULL;
    if (!out || (notes && !(b.notes = json_array()))) {
        rbuild_oom(&b);
        goto out;
    }
    switch (t) {
    case RENDER_NETWORKPOLICY:
        if (!o->n_namespaces) {
            err_set(e, "NetworkPolicies are namespaced: name the AI namespaces to render for");
            goto out;
        }
        rc = render_networkpolicy(&b, o, out);
        break;
    case RENDER_CILIUM:
        rc = render_cilium(&b, o, out);
        break;
    case RENDER_CALICO:
        rc = render_calico(&b, o, out);
        break;
    case RENDER_ANP:
        rc = render_anp(&b, out);
        break;
    }
out:
    if (rc < 0) {
        json_decref(out);
        json_decref(b.notes);
        return NULL;
    }
    if (notes)
        *notes = b.notes;
    return out;
}
