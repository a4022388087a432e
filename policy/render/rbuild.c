#include "policy/render/rbuild.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/selector/selsubset.h"
#include "policy/base/buf.h"
#include "policy/rules/managed.h"
#include "policy/sets/cidr.h"
#include "policy/sets/portset.h"
#include "policy/selector/selemit.h"

int rbuild_oom(struct rbuild *b)
{
    return err_set(b->e, "out of memory");
}

int rbuild_note(struct rbuild *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int rbuild_note(struct rbuild *b, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (!b->notes)
        return 0;
    return json_array_append_new(b->notes, json_string(msg)) < 0 ? rbuild_oom(b) : 0;
}

int rbuild_push(json_t *arr, json_t *v)
{
    return v ? json_array_append_new(arr, v) : -1;
}

/* metadata with the managed-by label and the policy-hash annotation; ns may be NULL. */
json_t *rbuild_meta(const struct rbuild *b, const char *name, const char *ns)
{
    json_t *m = json_pack("{s:s, s:{s:s}, s:{s:s}}", "name", name, "labels",
                          MANAGED_BY_LABEL, MANAGED_BY_VALUE, "annotations",
                          "egressguard.io/policy-hash", b->pol->hash);

    if (m && ns && json_object_set_new(m, "namespace", json_string(ns)) < 0) {
        json_decref(m);
        return NULL;
    }
    return m;
}

json_t *rbuild_object(const struct rbuild *b, const char *api, const char *kind, const char *name,
                      const char *ns, json_t *spec)
{
    if (!spec)
        return NULL;
    return json_pack("{s:s, s:s, s:o, s:o}", "apiVersion", api, "kind", kind, "metadata",
                     rbuild_meta(b, name, ns), "spec", spec);
}

/* The enforcement labels (policy mutation labels) as a JSON object, keys prefixed. */
json_t *rbuild_enforced_labels(const struct policy *pol, const char *prefix)
{
    json_t *o = json_object();
    char key[512];

    for (size_t i = 0; o && i < pol->n_mut_labels; i++) {
        snprintf(key, sizeof(key), "%s%s", prefix, pol->mut_label_keys[i]);
        if (json_object_set_new(o, key, json_string(pol->mut_label_values[i])) < 0) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

/* Does prefix a contain prefix d (d inside a, or equal)? */
static bool cidr_within(const struct cidr *d, const struct cidr *a)
{
    return d->family == a->family && d->bits >= a->bits &&
           cidr_contains_addr(a, a->family, d->addr);
}

int rbuild_carve(struct rbuild *b, const struct cidrset *s, struct rbuild_carved **out, size_t *n)
{
    struct cidr *al = NULL, *dl = NULL;
    size_t na = 0, nd = 0;
    int rc = -1;

    *out = NULL;
    *n = 0;
    if (cidrset_prefixes(s, &al, &na) < 0 || cidrset_prefixes(b->pol->deny_cidrs, &dl, &nd) < 0)
        goto out;
    if (na && !(*out = calloc(na, sizeof(**out))))
        goto out;
    for (size_t i = 0; i < na; i++) {
        bool gone = false;
        json_t *exc = json_array();
        char text[CIDR_STRLEN];

        if (!exc)
            goto out;
        for (size_t j = 0; j < nd && !gone; j++) {
            if (cidr_within(&al[i], &dl[j])) {
                gone = true;
            } else if (cidr_within(&dl[j], &al[i])) {
                cidr_format(&dl[j], text, sizeof(text));
                if (json_array_append_new(exc, json_string(text)) < 0)
                    gone = true;
            }
        }
        if (gone) {
            cidr_format(&al[i], text, sizeof(text));
            json_decref(exc);
            continue;
        }
        cidr_format(&al[i], (*out)[*n].cidr, sizeof((*out)[*n].cidr));
        (*out)[(*n)++].except = exc;
    }
    rc = 0;
out:
    free(al);
    free(dl);
    return rc < 0 ? rbuild_oom(b) : 0;
}

void rbuild_carved_free(struct rbuild_carved *c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        json_decref(c[i].except);
    free(c);
}

/* Kubernetes/ANP-style port list. *all set when the entry opens every port (list empty). */
json_t *rbuild_k8s_ports(struct rbuild *b, const struct dest_entry *d, bool anp, bool *all)
{
    struct portrange *r = NULL;
    size_t n = 0;
    json_t *arr = json_array();

    *all = portset_is_all(d->ports);
    if (!arr || *all)
        return arr;
    if (portset_ranges(d->ports, &r, &n) < 0) {
        json_decref(arr);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        const char *proto = proto_name(r[i].proto);
        bool whole = r[i].lo <= 1 && r[i].hi == 65535;
        json_t *p;

        if (!proto_has_ports(r[i].proto)) {
            rbuild_note(b, "allow entry \"%s\": protocol %s cannot be expressed in this target's "
                     "ports; not rendered", d->name, proto);
            continue;
        }
        if (anp)
            p = whole || r[i].lo != r[i].hi
                    ? json_pack("{s:{s:s, s:i, s:i}}", "portRange", "protocol", proto, "start",
                                (int)(r[i].lo ? r[i].lo : 1), "end", (int)r[i].hi)
                    : json_pack("{s:{s:s, s:i}}", "portNumber", "protocol", proto, "port",
                                (int)r[i].lo);
        else if (whole)
            p = json_pack("{s:s}", "protocol", proto);
        else if (r[i].lo == r[i].hi)
            p = json_pack("{s:s, s:i}", "protocol", proto, "port", (int)r[i].lo);
        else
            p = json_pack("{s:s, s:i, s:i}", "protocol", proto, "port", (int)r[i].lo, "endPort",
                          (int)r[i].hi);
        if (rbuild_push(arr, p) < 0) {
            free(r);
            json_decref(arr);
            return NULL;
        }
    }
    free(r);
    return arr;
}
