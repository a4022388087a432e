#include "policy/cni/readers.h"

#include <string.h>

#include "policy/cni/anp.h"
#include "policy/cni/calico.h"
#include "policy/cni/cilium.h"
#include "policy/cni/netpol.h"

static bool is_netpol(const struct object *obj)
{
    char group[128];

    object_group(obj, group, sizeof(group));
    return !strcmp(obj->kind, "NetworkPolicy") &&
           (!strcmp(group, "networking.k8s.io") || !strcmp(group, "extensions"));
}

/* Every policy kind with an egress reader. */
static const struct {
    bool (*is)(const struct object *obj);
    judge_reader *read;
} readers[] = {
    {is_netpol, netpol_read},
    {cilium_is_policy, cilium_read},
    {calico_is_policy, calico_read},
    {anp_is_policy, anp_read},
};

judge_reader *readers_find(const struct object *obj)
{
    size_t i;

    for (i = 0; i < sizeof(readers) / sizeof(readers[0]); i++)
        if (readers[i].is(obj))
            return readers[i].read;
    return NULL;
}

int readers_read_all(const struct object *const *objs, size_t n, struct egress_list *out,
                     struct err *e)
{
    size_t i, k;

    for (i = 0; i < n; i++) {
        judge_reader *read = readers_find(objs[i]);
        struct egress_list one;
        struct egress_model *grown;
        struct err re = {0};

        if (!read)
            continue;
        egress_list_init(&one);
        if (read(objs[i], &one, &re) < 0) {
            egress_list_release(&one);
            continue;
        }
        /* Move the models over; the list owns them from now on. */
        for (k = 0; k < one.n; k++) {
            if (!(grown = egress_list_add(out))) {
                egress_list_release(&one);
                return err_set(e, "out of memory");
            }
            *grown = one.models[k];
            egress_model_init(&one.models[k]);
        }
        egress_list_release(&one);
    }
    return 0;
}
