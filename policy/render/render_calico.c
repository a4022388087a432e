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

/* A Calico selector expression (all() for everything). NULL with e on OOM. */
static json_t *calico_sel(struct rbuild *b, const struct selector *s)
{
    struct buf t;
    json_t *j;

    buf_init(&t, 0);
    if (selector_format(s, &t) < 0) {
        buf_release(&t);
        rbuild_oom(b);
        return NULL;
    }
    j = json_string(buf_str(&t));
    buf_release(&t);
    if (!j)
        rbuild_oom(b);
    return j;
}

/* The enforcement labels as a Calico selector: k == "v" && ... */
static json_t *calico_enforced(const struct policy *pol)
{
    struct buf t;
    json_t *j;

    buf_init(&t, 0);
    for (size_t i = 0; i < pol->n_mut_labels; i++)
        buf_printf(&t, "%s%s == \"%s\"", i ? " && " : "", pol->mut_label_keys[i],
                   pol->mut_label_values[i]);
    j = t.failed ? NULL : json_string(pol->n_mut_labels ? buf_str(&t) : "all()");
    buf_release(&t);
    return j;
}

/*
 * Appends one Allow rule per protocol of the entry's ports (Calico rules name one protocol),
 * each with destination `dst` plus its ports; one rule without protocol for every port.
 */
static int calico_allow(struct rbuild *b, const struct dest_entry *d, const json_t *dst, json_t *rules)
{
    struct portrange *r = NULL;
    size_t n = 0;
    int rc = -1;

    if (portset_is_all(d->ports))
        return rbuild_push(rules, json_pack("{s:s, s:O}", "action", "Allow", "destination", dst)) < 0
                   ? rbuild_oom(b)
                   : 0;
    if (portset_ranges(d->ports, &r, &n) < 0)
        return rbuild_oom(b);
    for (size_t i = 0; i < n;) {
        int proto = r[i].proto;
        json_t *dcopy = json_deep_copy(dst), *ports = json_array();
        bool whole = false;

        for (; i < n && r[i].proto == proto; i++) {
            char text[16];
            if (!proto_has_ports(proto) || (r[i].lo <= 1 && r[i].hi == 65535)) {
                whole = true;
                continue;
            }
            if (r[i].lo == r[i].hi) {
                if (rbuild_push(ports, json_integer(r[i].lo)) < 0)
                    goto fail;
            } else {
                snprintf(text, sizeof(text), "%u:%u", r[i].lo, r[i].hi);
                if (rbuild_push(ports, json_string(text)) < 0)
                    goto fail;
            }
        }
        if (!dcopy || !ports)
            goto fail;
        if (!whole && json_array_size(ports) && json_object_set(dcopy, "ports", ports) < 0)
            goto fail;
        json_decref(ports);
        ports = NULL;
        if (rbuild_push(rules, json_pack("{s:s, s:s, s:o}", "action", "Allow", "protocol",
                                  proto_name(proto), "destination", dcopy)) < 0)
            goto out;
        continue;
fail:
        json_decref(dcopy);
        json_decref(ports);
        goto out;
    }
    rc = 0;
out:
    free(r);
    return rc < 0 ? rbuild_oom(b) : 0;
}

static int calico_entry(struct rbuild *b, const struct dest_entry *d, json_t *rules, json_t *same)
{
    struct rbuild_carved *c = NULL;
    size_t n = 0;
    int rc = -1;

    if (rbuild_carve(b, d->cidrs, &c, &n) < 0)
        return -1;
    if (n) {
        json_t *nets = json_array(), *not = json_array(), *dst;
        for (size_t i = 0; nets && not && i < n; i++)
            if (rbuild_push(nets, json_string(c[i].cidr)) < 0 || json_array_extend(not, c[i].except) < 0)
                break;
        dst = json_array_size(not) ? json_pack("{s:O, s:O}", "nets", nets, "notNets", not)
                                   : json_pack("{s:O}", "nets", nets);
        json_decref(nets);
        json_decref(not);
        if (!dst)
            goto out;
        rc = calico_allow(b, d, dst, rules);
        json_decref(dst);
        if (rc < 0)
            goto out;
        rc = -1;
    }
    for (size_t i = 0; i < d->n_peers; i++) {
        const struct peer_spec *p = &d->peers[i];
        json_t *dst;
        int r2;
        if (p->same_namespace)
            dst = json_pack("{s:o}", "selector", calico_sel(b, p->pods));
        else
            dst = json_pack("{s:o, s:o}", "namespaceSelector", calico_sel(b, p->namespaces),
                            "selector", calico_sel(b, p->pods));
        if (!dst)
            goto out;
        r2 = calico_allow(b, d, dst, p->same_namespace ? same : rules);
        json_decref(dst);
        if (r2 < 0)
            goto out;
    }
    if (d->n_fqdns)
        rbuild_note(b, "allow entry \"%s\": FQDNs (%s%s) cannot be expressed in Calico open-source "
                 "policy (destination.domains is Calico Enterprise); not rendered",
              d->name, d->fqdns[0], d->n_fqdns > 1 ? ", ..." : "");
    rc = 0;
out:
    rbuild_carved_free(c, n);
    if (rc < 0 && !b->e->msg[0])
        rbuild_oom(b);
    return rc;
}

int render_calico(struct rbuild *b, const struct render_opts *o, json_t *out)
{
    json_t *rules = json_array(), *same = json_array(), *spec = NULL, *nets = json_array();
    struct cidr *dl = NULL;
    size_t nd = 0;
    char text[CIDR_STRLEN];
    int rc = -1;

    if (!rules || !same || !nets || cidrset_prefixes(b->pol->deny_cidrs, &dl, &nd) < 0)
        goto out;
    for (size_t i = 0; i < nd; i++) {
        cidr_format(&dl[i], text, sizeof(text));
        if (rbuild_push(nets, json_string(text)) < 0)
            goto out;
    }
    if (nd && rbuild_push(rules, json_pack("{s:s, s:{s:O}}", "action", "Deny", "destination", "nets",
                                    nets)) < 0)
        goto out;
    for (size_t i = 0; i < b->pol->n_allow; i++)
        if (calico_entry(b, &b->pol->allow[i], rules, same) < 0)
            goto out;
    if (rbuild_push(rules, json_pack("{s:s}", "action", "Deny")) < 0)
        goto out;
    spec = json_pack("{s:i, s:o, s:s, s:[s], s:O}", "order", RENDER_CALICO_ORDER,
                     "namespaceSelector", calico_enforced(b->pol), "selector", "all()", "types",
                     "Egress", "egress", rules);
    if (rbuild_push(out, rbuild_object(b, "projectcalico.org/v3", "GlobalNetworkPolicy", NAME_CLUSTER, NULL,
                         spec)) < 0)
        goto out;
    if (json_array_size(same)) {
        if (!o->n_namespaces)
            rbuild_note(b, "sameNamespace peers need a namespaced Calico NetworkPolicy per AI "
                     "namespace: give --namespace NS to render them");
        for (size_t k = 0; k < o->n_namespaces; k++)
            if (rbuild_push(out, rbuild_object(b, "projectcalico.org/v3", "NetworkPolicy", NAME_SAME_NS,
                                 o->namespaces[k],
                                 json_pack("{s:i, s:s, s:[s], s:O}", "order",
                                           RENDER_CALICO_ORDER - 10, "selector", "all()", "types",
                                           "Egress", "egress", same))) < 0)
                goto out;
    }
    rc = 0;
out:
    free(dl);
    if (rc < 0 && !b->e->msg[0])
        rbuild_oom(b);
    json_decref(rules);
    json_decref(same);
    json_decref(nets);
    return rc;
}
