#include "policy/model/kinds.h"

#include <string.h>

static const struct model_kind_info infos[MODEL_N_KINDS] = {
    [MODEL_NAMESPACE] = {"Namespace", "namespaces", false, MODEL_FORM_NAMESPACE},
    [MODEL_NETWORKPOLICY] = {"NetworkPolicy", "networkpolicies", true, MODEL_FORM_POLICY},
    [MODEL_CILIUM_NP] = {"CiliumNetworkPolicy", "ciliumnetworkpolicies", true, MODEL_FORM_POLICY},
    [MODEL_CILIUM_CCNP] = {"CiliumClusterwideNetworkPolicy", "ciliumclusterwidenetworkpolicies",
                           false, MODEL_FORM_POLICY},
    [MODEL_CILIUM_CIDRGROUP] = {"CiliumCIDRGroup", "ciliumcidrgroups", false, MODEL_FORM_NETSET},
    [MODEL_CALICO_NP] = {"NetworkPolicy", "calico_networkpolicies", true, MODEL_FORM_POLICY},
    [MODEL_CALICO_GNP] = {"GlobalNetworkPolicy", "calico_globalnetworkpolicies", false,
                          MODEL_FORM_POLICY},
    [MODEL_CALICO_NETWORKSET] = {"NetworkSet", "calico_networksets", true, MODEL_FORM_NETSET},
    [MODEL_CALICO_GLOBALNETWORKSET] = {"GlobalNetworkSet", "calico_globalnetworksets", false,
                                       MODEL_FORM_NETSET},
    [MODEL_CALICO_HOSTENDPOINT] = {"HostEndpoint", "calico_hostendpoints", false,
                                   MODEL_FORM_NETSET},
    [MODEL_ANP] = {"AdminNetworkPolicy", "adminnetworkpolicies", false, MODEL_FORM_RAW},
    [MODEL_BANP] = {"BaselineAdminNetworkPolicy", "baselineadminnetworkpolicies", false,
                    MODEL_FORM_RAW},
};

/*
 * Group, version and resource as the projects publish them:
 *  - Namespace v1, NetworkPolicy networking.k8s.io/v1 (Kubernetes API reference);
 *  - Cilium: cilium.io/v2 for CNP and CCNP; CiliumCIDRGroup is cilium.io/v2alpha1 in Cilium
 *    1.14-1.17 and cilium.io/v2 from 1.18 (docs.cilium.io, network/kubernetes/ciliumcidrgroup);
 *  - Calico: projectcalico.org/v3 through the Calico API server, and the crd.projectcalico.org/v1
 *    CRDs that back it (docs.tigera.io, reference/resources; the e2e CRDs);
 *  - AdminNetworkPolicy and BaselineAdminNetworkPolicy: policy.networking.k8s.io/v1alpha1
 *    (kubernetes-sigs/network-policy-api).
 */
static const struct model_api apis[] = {
    {MODEL_NAMESPACE, "", "v1", "namespaces"},
    {MODEL_NETWORKPOLICY, "networking.k8s.io", "v1", "networkpolicies"},
    {MODEL_CILIUM_NP, "cilium.io", "v2", "ciliumnetworkpolicies"},
    {MODEL_CILIUM_CCNP, "cilium.io", "v2", "ciliumclusterwidenetworkpolicies"},
    {MODEL_CILIUM_CIDRGROUP, "cilium.io", "v2", "ciliumcidrgroups"},
    {MODEL_CILIUM_CIDRGROUP, "cilium.io", "v2alpha1", "ciliumcidrgroups"},
    {MODEL_CALICO_NP, "projectcalico.org", "v3", "networkpolicies"},
    {MODEL_CALICO_NP, "crd.projectcalico.org", "v1", "networkpolicies"},
    {MODEL_CALICO_GNP, "projectcalico.org", "v3", "globalnetworkpolicies"},
    {MODEL_CALICO_GNP, "crd.projectcalico.org", "v1", "globalnetworkpolicies"},
    {MODEL_CALICO_NETWORKSET, "projectcalico.org", "v3", "networksets"},
    {MODEL_CALICO_NETWORKSET, "crd.projectcalico.org", "v1", "networksets"},
    {MODEL_CALICO_GLOBALNETWORKSET, "projectcalico.org", "v3", "globalnetworksets"},
    {MODEL_CALICO_GLOBALNETWORKSET, "crd.projectcalico.org", "v1", "globalnetworksets"},
    {MODEL_CALICO_HOSTENDPOINT, "projectcalico.org", "v3", "hostendpoints"},
    {MODEL_CALICO_HOSTENDPOINT, "crd.projectcalico.org", "v1", "hostendpoints"},
    {MODEL_ANP, "policy.networking.k8s.io", "v1alpha1", "adminnetworkpolicies"},
    {MODEL_BANP, "policy.networking.k8s.io", "v1alpha1", "baselineadminnetworkpolicies"},
};

const struct model_kind_info *model_kind_info(enum model_kind k)
{
    return (int)k >= 0 && k < MODEL_N_KINDS ? &infos[k] : NULL;
}

const struct model_api *model_apis(size_t *n)
{
    *n = sizeof(apis) / sizeof(apis[0]);
    return apis;
}

int model_kind_lookup(const char *group, const char *kind)
{
    for (size_t i = 0; i < sizeof(apis) / sizeof(apis[0]); i++)
        if (!strcmp(apis[i].group, group) && !strcmp(infos[apis[i].kind].kind, kind))
            return (int)apis[i].kind;
    return -1;
}

int model_kind_of(const struct object *obj)
{
    char group[128];

    object_group(obj, group, sizeof(group));
    return model_kind_lookup(group, obj->kind);
}
