#include "policy/rules/unknown.h"

#include <stdio.h>
#include <string.h>

#include "policy/doc/pulumi.h"

#define MAX_LISTED 8 /* unknown fields named one by one; the rest are counted */

struct found {
    const json_t *node[MAX_LISTED];
    bool secret[MAX_LISTED];
    char path[MAX_LISTED][256];
    size_t n;      /* all unknown values, listed or not */
    bool identity; /* apiVersion, kind, metadata.name or metadata.namespace among them */
};

static void note_unknown(struct found *f, const json_t *node, const char *path)
{
    static const char *const identity[] = {"apiVersion", "kind", "metadata", "metadata.name",
                                           "metadata.namespace"};

    for (size_t i = 0; i < sizeof(identity) / sizeof(identity[0]); i++)
        if (!strcmp(path, identity[i]))
            f->identity = true;
    if (f->n < MAX_LISTED) {
        f->node[f->n] = node;
        f->secret[f->n] = pulumi_is_secret(node);
        snprintf(f->path[f->n], sizeof(f->path[f->n]), "%s", path);
    }
    f->n++;
}

/* Every unknown value under v (at `path`), depth-first in document order. */
static void walk(struct found *f, const json_t *v, const char *path, int depth)
{
    char sub[256];
    const char *key;
    const json_t *item;
    size_t i;

    if (pulumi_is_unknown(v)) {
        note_unknown(f, v, path);
        return;
    }
    if (depth > 100) /* deeper than any document the reader accepts */
        return;
    if (json_is_object(v)) {
        json_object_foreach((json_t *)v, key, item) {
            snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "", key);
            walk(f, item, sub, depth + 1);
        }
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, item) {
            snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
            walk(f, item, sub, depth + 1);
        }
    }
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

int unknown_judge(const struct policy *pol, const struct object *obj, struct verdict *v,
                  bool failed, struct err *e)
{
    struct found f = {0};
    char type[256], why[600];
    bool release, patch, deny_unknowns, deny_patch;

    if (!obj->source || strncmp(obj->source, "urn:pulumi:", 11))
        return failed ? -1 : 0;
    pulumi_urn_type(obj->source, type, sizeof(type));
    release = !strcmp(type, "kubernetes:helm.sh/v3:Release");
    patch = !strncmp(type, "kubernetes:", 11) && ends_with(type, "Patch");
    walk(&f, obj->json, "", 0);
    /* Unknowns in a kind egressguard does not evaluate change nothing, unless they hide what or
     * where the object is; an exemption that matched by known fields stands. */
    deny_unknowns = f.n && (f.identity || failed || (v->evaluated && !v->exemption));
    /* A patch is partial: failing to read as a whole object is what it may well do. */
    deny_patch = patch && (failed || (v->evaluated && !v->exemption));
    if (!release && !deny_unknowns && !deny_patch)
        return failed ? -1 : 0;
    if (failed) {
        snprintf(why, sizeof(why), "%s", e->msg);
        verdict_release(v);
        verdict_init(v);
        v->evaluated = true;
        if (verdict_add(v, obj, obj->json, "unknown", pol->mode, false, "",
                        "cannot be read as written (%s)", why) < 0)
            return err_set(e, "out of memory");
    }
    for (size_t i = 0; deny_unknowns && i < f.n && i < MAX_LISTED; i++)
        if (verdict_add(v, obj, f.node[i], "unknown", pol->mode, true, f.path[i], "%s",
                        f.secret[i] ? "a Pulumi secret, which egressguard cannot read, so it may "
                                      "be anything: keep secrets out of the fields egressguard "
                                      "judges"
                                    : "not known until `pulumi up` (a Pulumi placeholder for an "
                                      "output of a resource not created yet), so it may be "
                                      "anything: give it a value the program knows, or check "
                                      "`pulumi stack export` after the update") < 0)
            return err_set(e, "out of memory");
    if (deny_unknowns && f.n > MAX_LISTED &&
        verdict_add(v, obj, obj->json, "unknown", pol->mode, true, "",
                    "%zu more values not known until `pulumi up`", f.n - MAX_LISTED) < 0)
        return err_set(e, "out of memory");
    if (deny_patch && verdict_add(v, obj, obj->json, "unknown", pol->mode, true, "",
                                  "%s is a server-side apply patch: the rest of the object it "
                                  "patches is not in this file, so what the result opens is "
                                  "unknown; check the patched object (kubectl get -o yaml) instead",
                                  type) < 0)
        return err_set(e, "out of memory");
    if (release && verdict_add(v, obj, obj->json, "unknown", pol->mode, true, "",
                               "a Helm release: the chart's manifests are not in this file, so "
                               "what it deploys is unknown; check them with helm template ... "
                               "| egressguard check -p POLICY -") < 0)
        return err_set(e, "out of memory");
    return 0;
}
