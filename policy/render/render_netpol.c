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

static int np_peer(struct rbuild *b, const struct peer_spec *p, json_t *to)
{
    json_t *peer = json_object(), *sel;

    if (!peer)
        return rbuild_oom(b);
    if (!p->same_namespace) {
        if (!(sel = selemit_k8s(p->namespaces, NULL, b->e)) ||
            json_object_set_new(peer, "namespaceSelector", sel) < 0)
            goto fail;
    }
    if (p->same_namespace || !selector_is_all(p->pods)) {
        if (!(sel = selemit_k8s(p->pods, NULL, b->e)) ||
            json_object_set_new(peer, "podSelector", sel) < 0)
            goto fail;
    }
    return json_array_append_new(to, peer) < 0 ? rbuild_oom(b) : 0;
fail:
    json_decref(peer);
    return -1;
}

static json_t *np_rule(struct rbuild *b, const struct dest_entry *d)
{
    json_t *to = json_array(), *ports, *rule;
    struct rbuild_carved *c = NULL;
    size_t n = 0;
    bool all;

    if (!to || rbuild_carve(b, d->cidrs, &c, &n) < 0) {
        json_decref(to);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *ib = json_array_size(c[i].except)
                         ? json_pack("{s:{s:s, s:O}}", "ipBlock", "cidr", c[i].cidr, "except",
                                     c[i].except)
                         : json_pack("{s:{s:s}}", "ipBlock", "cidr", c[i].cidr);
        if (rbuild_push(to, ib) < 0)
            goto fail;
    }
    for (size_t i = 0; i < d->n_peers; i++)
        if (np_peer(b, &d->peers[i], to) < 0)
            goto fail;
    if (d->n_fqdns)
        rbuild_note(b, "allow entry \"%s\": FQDNs (%s%s) cannot be expressed in a Kubernetes "
                 "NetworkPolicy; not rendered (use the cilium target, or an egress proxy)",
              d->name, d->fqdns[0], d->n_fqdns > 1 ? ", ..." : "");
    rbuild_carved_free(c, n);
    c = NULL;
    if (!json_array_size(to)) { /* nothing expressible: no rule (an empty `to` would open all) */
        json_decref(to);
        return json_object();
    }
    if (!(ports = rbuild_k8s_ports(b, d, false, &all)))
        goto fail;
    rule = all || !json_array_size(ports)
               ? json_pack("{s:o}", "to", to)
               : json_pack("{s:o, s:o}", "to", to, "ports", ports);
    if (all || !json_array_size(ports))
        json_decref(ports);
    return rule;
fail:
    rbuild_carved_free(c, n);
    json_decref(to);
    return NULL;
}

static int np_namespace(struct rbuild *b, const char *ns, json_t *out);

int render_networkpolicy(struct rbuild *b, const struct render_opts *o, json_t *out)
{
    json_t *notes = b->notes;
    int rc = 0;

    for (size_t k = 0; k < o->n_namespaces && rc == 0; k++) {
        b->notes = k ? NULL : notes; /* the same notes hold for every namespace: say them once */
        rc = np_namespace(b, o->namespaces[k], out);
    }
    b->notes = notes;
    return rc;
}

static int np_namespace(struct rbuild *b, const char *ns, json_t *out)
{
    {
        json_t *egress = json_array();

        if (rbuild_push(out, rbuild_object(b, "networking.k8s.io/v1", "NetworkPolicy", NAME_DENY, ns,
                             json_pack("{s:{}, s:[s]}", "podSelector", "policyTypes",
                                       "Egress"))) < 0 ||
            !egress) {
            json_decref(egress);
            return b->e->msg[0] ? -1 : rbuild_oom(b);
        }
        for (size_t i = 0; i < b->pol->n_allow; i++) {
            json_t *r = np_rule(b, &b->pol->allow[i]);
            if (!r || (json_object_size(r) && json_array_append(egress, r) < 0)) {
                json_decref(r);
                json_decref(egress);
                return b->e->msg[0] ? -1 : rbuild_oom(b);
            }
            json_decref(r);
        }
        if (rbuild_push(out, rbuild_object(b, "networking.k8s.io/v1", "NetworkPolicy", NAME_ALLOW, ns,
                             json_pack("{s:{}, s:[s], s:o}", "podSelector", "policyTypes",
                                       "Egress", "egress", egress))) < 0)
            return b->e->msg[0] ? -1 : rbuild_oom(b);
    }
    return 0;
}
