#include "policy/render/rbuild.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/base/buf.h"
#include "policy/render/render.h"
#include "policy/selector/selemit.h"
#include "policy/selector/selsubset.h"
#include "policy/sets/portset.h"

static int anp_entry(struct rbuild *b, const struct dest_entry *d, json_t *egress)
{
    json_t *to = json_array(), *ports = NULL, *nets = json_array(), *rule;
    struct cidr *al = NULL;
    size_t na = 0;
    char name[128], text[CIDR_STRLEN];
    bool all;
    int rc = -1;

    if (!to || !nets || cidrset_prefixes(d->cidrs, &al, &na) < 0)
        goto out;
    /* Deny rules come first in the ANP, so allowed networks need no carving. */
    for (size_t i = 0; i < na; i++) {
        cidr_format(&al[i], text, sizeof(text));
        if (rbuild_push(nets, json_string(text)) < 0)
            goto out;
    }
    if (na && rbuild_push(to, json_pack("{s:O}", "networks", nets)) < 0)
        goto out;
    for (size_t i = 0; i < d->n_peers; i++) {
        const struct peer_spec *p = &d->peers[i];
        json_t *ns, *pods;
        if (p->same_namespace) {
            rbuild_note(b, "allow entry \"%s\": sameNamespace has no AdminNetworkPolicy form; not "
                     "rendered (the BaselineAdminNetworkPolicy denies it unless a namespaced "
                     "NetworkPolicy allows it)", d->name);
            continue;
        }
        if (!(ns = selemit_k8s(p->namespaces, NULL, b->e)))
            goto out;
        if (selector_is_all(p->pods)) {
            if (rbuild_push(to, json_pack("{s:o}", "namespaces", ns)) < 0)
                goto out;
        } else if (!(pods = selemit_k8s(p->pods, NULL, b->e)) ||
                   rbuild_push(to, json_pack("{s:{s:o, s:o}}", "pods", "namespaceSelector", ns,
                                      "podSelector", pods)) < 0) {
            goto out;
        }
    }
    if (d->n_fqdns) {
        json_t *names = json_array();
        size_t wild = 0;

        for (size_t i = 0; names && i < d->n_fqdns; i++) {
            /*
             * In domainNames '*' "matches one or more entire labels" (network-policy-api
             * DomainName), in the allow-list one label only: a pattern would widen the entry.
             */
            if (strchr(d->fqdns[i], '*')) {
                wild++;
                continue;
            }
            if (rbuild_push(names, json_string(d->fqdns[i])) < 0)
                break;
        }
        if (wild)
            rbuild_note(b, "allow entry \"%s\": %zu wildcard name%s not rendered: '*' in "
                           "AdminNetworkPolicy domainNames matches any number of labels, wider "
                           "than the allow-list's one", d->name, wild, wild == 1 ? "" : "s");
        if (json_array_size(names)) {
            if (rbuild_push(to, json_pack("{s:o}", "domainNames", names)) < 0)
                goto out;
            rbuild_note(b, "allow entry \"%s\": FQDNs rendered as domainNames peers, which need "
                           "an AdminNetworkPolicy implementation supporting them", d->name);
        } else {
            json_decref(names);
        }
    }
    if (!json_array_size(to)) {
        rc = 0;
        goto out;
    }
    if (!(ports = rbuild_k8s_ports(b, d, true, &all)))
        goto out;
    snprintf(name, sizeof(name), "allow-%s", d->name);
    rule = json_pack("{s:s, s:s, s:O}", "name", name, "action", "Allow", "to", to);
    if (rule && !all && json_array_size(ports) && json_object_set(rule, "ports", ports) < 0) {
        json_decref(rule);
        goto out;
    }
    rc = rbuild_push(egress, rule);
out:
    free(al);
    json_decref(to);
    json_decref(nets);
    json_decref(ports);
    if (rc < 0 && !b->e->msg[0])
        rbuild_oom(b);
    return rc;
}

int render_anp(struct rbuild *b, json_t *out)
{
    json_t *egress = json_array(), *subject = rbuild_enforced_labels(b->pol, "");
    char name[128], text[CIDR_STRLEN];
    int rc = -1;

    if (!egress || !subject)
        goto out;
    for (size_t i = 0; i < b->pol->n_deny; i++) {
        const struct dest_entry *d = &b->pol->deny[i];
        struct cidr *dl = NULL;
        size_t nd = 0;
        json_t *nets = json_array();
        if (!nets || cidrset_prefixes(d->cidrs, &dl, &nd) < 0) {
            json_decref(nets);
            goto out;
        }
        for (size_t j = 0; j < nd; j++) {
            cidr_format(&dl[j], text, sizeof(text));
            rbuild_push(nets, json_string(text));
        }
        free(dl);
        snprintf(name, sizeof(name), "deny-%s", d->name);
        if (!nd) {
            json_decref(nets);
            continue;
        }
        if (rbuild_push(egress, json_pack("{s:s, s:s, s:[{s:o}]}", "name", name, "action", "Deny", "to",
                                   "networks", nets)) < 0)
            goto out;
    }
    for (size_t i = 0; i < b->pol->n_allow; i++)
        if (anp_entry(b, &b->pol->allow[i], egress) < 0)
            goto out;
    if (json_array_size(egress) > 100) {
        err_set(b->e, "the allow-list needs %zu AdminNetworkPolicy rules; at most 100 fit",
                json_array_size(egress));
        goto out;
    }
    if (rbuild_push(out, rbuild_object(b, "policy.networking.k8s.io/v1alpha1", "AdminNetworkPolicy",
                         NAME_CLUSTER, NULL,
                         json_pack("{s:i, s:{s:{s:O}}, s:O}", "priority", 10, "subject",
                                   "namespaces", "matchLabels", subject, "egress", egress))) < 0)
        goto out;
    /* The baseline is a singleton named "default". */
    if (rbuild_push(out, rbuild_object(b, "policy.networking.k8s.io/v1alpha1", "BaselineAdminNetworkPolicy",
                         "default", NULL,
                         json_pack("{s:{s:{s:O}}, s:[{s:s, s:s, s:[{s:[s, s]}, {s:{}}]}]}",
                                   "subject", "namespaces", "matchLabels", subject, "egress",
                                   "name", "default-deny-egress", "action", "Deny", "to",
                                   "networks", "0.0.0.0/0", "::/0", "namespaces"))) < 0)
        goto out;
    rc = 0;
out:
    if (rc < 0 && !b->e->msg[0])
        rbuild_oom(b);
    json_decref(egress);
    json_decref(subject);
    return rc;
}
