#include "policy/cni/cildns.h"

#include <stdio.h>
#include <string.h>

#include "policy/doc/member.h"
#include "policy/eval/scope.h"
#include "policy/sets/fqdn.h"

bool cildns_allowed(const struct policy *pol, const char *pattern)
{
    size_t i, n = strlen(pattern);

    for (i = 0; i < pol->n_dns_suffixes; i++) {
        const char *s = pol->dns_suffixes[i];
        size_t k = strlen(s);

        /* the suffix itself, or anything under it: a pattern's '*' never crosses a dot */
        if (!strcmp(pattern, s) || (n > k + 1 && pattern[n - k - 1] == '.' &&
                                    !strcmp(pattern + n - k, s) && strcmp(pattern, "*")))
            return true;
    }
    for (i = 0; i < pol->n_allow; i++)
        if (fqdn_subset_of_any(pattern, (const char *const *)pol->allow[i].fqdns,
                               pol->allow[i].n_fqdns))
            return true;
    return false;
}

/* The model of a rule: "" for spec, "specs[i]" for one of several. */
static const struct egress_model *model_at(const struct egress_list *models, const char *path)
{
    size_t i;

    for (i = 0; i < models->n; i++)
        if (!strcmp(models->models[i].path ? models->models[i].path : "", path))
            return &models->models[i];
    return NULL;
}

static int check_entry(const struct policy *pol, const struct object *obj, const json_t *d,
                       const char *path, struct verdict *v, struct err *e)
{
    static const char *const keys[] = {"matchName", "matchPattern"};
    char norm[FQDN_MAX], p[320];
    struct err fe = {0};
    size_t k;

    for (k = 0; k < 2; k++) {
        const json_t *s = json_object_get(d, keys[k]);

        if (!json_is_string(s) || fqdn_normalize(json_string_value(s), k == 1, norm, &fe) < 0)
            continue;
        if (cildns_allowed(pol, norm))
            continue;
        member_path(p, sizeof(p), "%s.%s", path, keys[k]);
        if (verdict_add(v, obj, s, "dns", pol->dns_mode, true, p,
                        "DNS rule lets AI pods resolve %s%s%s, outside the allow-list's names "
                        "and the cluster suffixes: every query for such a name carries data out "
                        "through the resolvers",
                        strcmp(norm, "*") ? "\"" : "every name (", norm,
                        strcmp(norm, "*") ? "\"" : ")") < 0)
            return err_set(e, "out of memory");
    }
    return 0;
}

/* Every DNS entry of one rule (spec or specs[i]) at field path `rpath`. */
static int check_rule(const struct policy *pol, const struct object *obj, const json_t *rule,
                      const char *rpath, struct verdict *v, struct err *e)
{
    const json_t *egress = json_object_get(rule, "egress"), *er, *tp, *d;
    size_t i, j, k;
    char path[256];

    json_array_foreach(egress, i, er) {
        json_array_foreach(json_object_get(er, "toPorts"), j, tp) {
            const json_t *dns = json_object_get(json_object_get(tp, "rules"), "dns");

            json_array_foreach(dns, k, d) {
                member_path(path, sizeof(path), "%s.egress[%zu].toPorts[%zu].rules.dns[%zu]",
                            rpath, i, j, k);
                if (check_entry(pol, obj, d, path, v, e) < 0)
                    return -1;
            }
        }
    }
    return 0;
}

int cildns_check(const struct policy *pol, const struct object *obj,
                 const struct request_ctx *ctx, const struct egress_list *models,
                 struct verdict *v, struct err *e)
{
    const json_t *spec = json_object_get(obj->json, "spec");
    const json_t *specs = json_object_get(obj->json, "specs"), *r;
    const struct nsdb *ns = ctx ? ctx->namespaces : NULL;
    const struct egress_model *m;
    char mpath[64];
    size_t i;

    if (json_is_object(spec) && (m = model_at(models, "")) && scope_governs_ai(pol, m, ns, NULL) &&
        check_rule(pol, obj, spec, "spec", v, e) < 0)
        return -1;
    json_array_foreach(specs, i, r) {
        snprintf(mpath, sizeof(mpath), "specs[%zu]", i);
        if (json_is_object(r) && (m = model_at(models, mpath)) &&
            scope_governs_ai(pol, m, ns, NULL) && check_rule(pol, obj, r, mpath, v, e) < 0)
            return -1;
    }
    return 0;
}
