#include "server/cmd/checkdiff.h"

#include <stdlib.h>
#include <string.h>

#include "policy/doc/manifest.h"
#include "policy/eval/diff.h"
#include "policy/eval/inventory.h"
#include "server/cmd/cli.h"

/* One input of the comparison. */
struct side {
    struct manifest *m;
    struct nsdb *ns;
    const struct object **objs;
    struct inventory inv;
};

static void side_release(struct side *s)
{
    inventory_release(&s->inv);
    free(s->objs);
    nsdb_free(s->ns);
    manifest_free(s->m);
}

/* Reads path; its Namespace objects and the command line's labels say which labels are known. */
static int side_read(struct side *s, const char *path, const struct nsdb *labels, struct err *e)
{
    size_t i, n;

    memset(s, 0, sizeof(*s));
    if (!(s->m = manifest_new()) || !(s->ns = nsdb_new()) || manifest_read(s->m, path) < 0)
        return err_set(e, "out of memory");
    n = manifest_n_objects(s->m);
    if (!(s->objs = calloc(n ? n : 1, sizeof(*s->objs))))
        return err_set(e, "out of memory");
    for (i = 0; i < n; i++) {
        const struct object *o = s->objs[i] = manifest_object(s->m, i);

        if (!strcmp(o->kind, "Namespace") && !strcmp(o->api_version, "v1") && *o->name &&
            nsdb_set(s->ns, o->name, json_object_get(json_object_get(o->json, "metadata"),
                                                     "labels")) < 0)
            return err_set(e, "out of memory");
    }
    if (nsdb_merge(s->ns, labels) < 0)
        return err_set(e, "out of memory");
    return inventory_build(&s->inv, s->objs, n, s->ns, NULL, e);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The namespaces either side names, sorted and unique (borrowed). */
static const char **namespaces(const struct side *b, const struct side *h, size_t *n)
{
    size_t total = b->inv.n_namespaces + h->inv.n_namespaces, i, k = 0, u = 0;
    const char **names = calloc(total ? total : 1, sizeof(*names));

    if (!names)
        return NULL;
    for (i = 0; i < b->inv.n_namespaces; i++)
        names[k++] = b->inv.namespaces[i];
    for (i = 0; i < h->inv.n_namespaces; i++)
        names[k++] = h->inv.namespaces[i];
    qsort(names, k, sizeof(*names), cmp_str);
    for (i = 0; i < k; i++)
        if (!u || strcmp(names[u - 1], names[i]))
            names[u++] = names[i];
    *n = u;
    return names;
}

/* The report item of obj, made on first use. */
static struct report_item *item_for(struct report *r, const struct object *obj)
{
    size_t i;

    for (i = 0; i < r->n_items; i++)
        if (r->items[i].obj == obj)
            return &r->items[i];
    r->items[r->n_items].obj = obj;
    verdict_init(&r->items[r->n_items].v);
    return &r->items[r->n_items++];
}

int check_diff(const struct policy *pol, const char *base, const char *head,
               const struct nsdb *labels, enum report_format fmt, bool verbose, FILE *out)
{
    struct side b, h;
    struct diff_result res;
    struct report r = {0};
    struct report_counts counts;
    struct object *synth = NULL;
    const char **names = NULL;
    json_t *empty = NULL;
    struct err e = {0};
    size_t n_names = 0, i;
    int rc = EXIT_USAGE;

    diff_result_init(&res);
    if (side_read(&b, base, labels, &e) < 0 || side_read(&h, head, labels, &e) < 0)
        goto oom;
    for (i = 0; i < manifest_n_errors(b.m) + manifest_n_errors(h.m); i++) {
        char buf[1024];
        const struct err *x = i < manifest_n_errors(b.m)
                                   ? manifest_error(b.m, i)
                                   : manifest_error(h.m, i - manifest_n_errors(b.m));

        err_format(x, buf, sizeof(buf));
        fprintf(stderr, "%s\n", buf);
    }
    if (manifest_n_errors(b.m) || manifest_n_errors(h.m))
        goto out;
    if (!(names = namespaces(&b, &h, &n_names)) ||
        diff_evaluate(pol, &b.inv.in, &h.inv.in, names, n_names, &res, &e) < 0)
        goto oom;
    if (!(empty = json_object()) || !(synth = calloc(n_names ? n_names : 1, sizeof(*synth))) ||
        !(r.items = calloc(res.n ? res.n : 1, sizeof(*r.items))))
        goto oom;
    for (i = 0; i < res.n; i++) {
        const struct diff_change *c = &res.items[i];
        const struct object *obj = c->policy ? c->policy->obj : NULL;
        struct report_item *it;

        if (!obj) {
            size_t k;

            for (k = 0; k < n_names && strcmp(names[k], c->ns); k++)
                ;
            if (!synth[k].json)
                synth[k] = (struct object){.json = empty, .file = "", .api_version = "",
                                           .kind = "EgressDiff", .ns = "", .name = names[k]};
            obj = &synth[k];
        }
        it = item_for(&r, obj);
        it->v.evaluated = true;
        if (verdict_add(&it->v, obj, c->peer ? c->peer->node : NULL,
                        c->added ? "egress.added" : "egress.removed", pol->egress_mode,
                        c->outside, c->peer && c->peer->path ? c->peer->path : "", "%s",
                        c->message) < 0)
            goto oom;
    }
    r.pol = pol;
    r.verbose = verbose;
    if (report_write(out, fmt, &r) < 0) {
        fprintf(stderr, "egressguard check: cannot write the report\n");
        goto out;
    }
    report_count(&r, &counts);
    rc = counts.denied ? EXIT_VIOLATIONS : EXIT_PASS;
    goto out;
oom:
    fprintf(stderr, "egressguard check: %s\n", e.msg[0] ? e.msg : "out of memory");
out:
    for (i = 0; i < r.n_items; i++)
        verdict_release(&r.items[i].v);
    free(r.items);
    free(synth);
    json_decref(empty);
    free(names);
    diff_result_release(&res);
    side_release(&h);
    side_release(&b);
    return rc;
}
