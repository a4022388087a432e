#include "policy/config/nsdb.h"

#include <stdlib.h>
#include <string.h>

/*
 * A JSON object keeps it simple: name → labels object. Each stored labels object carries
 * kubernetes.io/metadata.name as the API server (1.21+) sets it, so selectors on the name work.
 */
struct nsdb *nsdb_new(void)
{
    struct nsdb *db = calloc(1, sizeof(*db));

    if (db && !(db->map = json_object())) {
        free(db);
        return NULL;
    }
    return db;
}

void nsdb_init_one(struct nsdb *db, const char *ns, const json_t *labels)
{
    db->map = NULL;
    db->one_ns = labels ? ns : NULL;
    db->one_labels = labels;
    db->lookup = NULL;
    db->src = NULL;
    db->complete = false;
}

void nsdb_init_source(struct nsdb *db, const json_t *(*lookup)(const void *src, const char *ns),
                      const void *src)
{
    db->map = NULL;
    db->one_ns = NULL;
    db->one_labels = NULL;
    db->lookup = lookup;
    db->src = src;
    db->complete = false;
}

void nsdb_set_complete(struct nsdb *db, bool complete)
{
    db->complete = complete;
}

bool nsdb_complete(const struct nsdb *db)
{
    return db && db->complete;
}

void nsdb_free(struct nsdb *db)
{
    if (!db)
        return;
    json_decref(db->map);
    free(db);
}

int nsdb_set(struct nsdb *db, const char *ns, const json_t *labels)
{
    json_t *copy = json_is_object(labels) ? json_deep_copy(labels) : json_object();

    if (!db->map || !copy) {
        json_decref(copy);
        return -1;
    }
    if (json_object_set_new(copy, "kubernetes.io/metadata.name", json_string(ns)) < 0 ||
        json_object_set_new(db->map, ns, copy) < 0)
        return -1;
    return 0;
}

void nsdb_forget(struct nsdb *db, const char *ns)
{
    if (db->map)
        json_object_del(db->map, ns);
}

int nsdb_parse_spec(const char *spec, char **ns, json_t **labels, struct err *e)
{
    const char *eq = strchr(spec, '=');
    char *rest = NULL, *tok, *save = NULL;

    *ns = NULL;
    *labels = NULL;
    if (!eq || eq == spec)
        return err_set(e, "invalid --namespace-labels \"%s\": want NAMESPACE=KEY=VALUE[,KEY=VALUE]",
                       spec);
    *ns = strndup(spec, (size_t)(eq - spec));
    rest = strdup(eq + 1);
    *labels = json_object();
    if (!*ns || !rest || !*labels) {
        err_set(e, "out of memory");
        goto fail;
    }
    for (tok = strtok_r(rest, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *v = strchr(tok, '=');
        if (!v || v == tok) {
            err_set(e, "invalid label \"%s\" in --namespace-labels \"%s\": want KEY=VALUE", tok,
                    spec);
            goto fail;
        }
        *v++ = '\0';
        if (json_object_set_new(*labels, tok, json_string(v)) < 0) {
            err_set(e, "invalid label \"%s\" in --namespace-labels \"%s\"", tok, spec);
            goto fail;
        }
    }
    free(rest);
    return 0;
fail:
    free(rest);
    free(*ns);
    json_decref(*labels);
    *ns = NULL;
    *labels = NULL;
    return -1;
}

int nsdb_set_spec(struct nsdb *db, const char *spec, struct err *e)
{
    char *ns;
    json_t *labels;
    int rc = 0;

    if (nsdb_parse_spec(spec, &ns, &labels, e) < 0)
        return -1;
    if (nsdb_set(db, ns, labels) < 0)
        rc = err_set(e, "out of memory");
    json_decref(labels);
    free(ns);
    return rc;
}

const json_t *nsdb_labels(const struct nsdb *db, const char *ns)
{
    if (!db || !ns)
        return NULL;
    if (db->lookup)
        return db->lookup(db->src, ns);
    if (db->map)
        return json_object_get(db->map, ns);
    return db->one_ns && !strcmp(db->one_ns, ns) ? db->one_labels : NULL;
}

int nsdb_merge(struct nsdb *dst, const struct nsdb *src)
{
    const char *ns;
    json_t *labels;

    if (!dst->map)
        return -1;
    if (!src)
        return 0;
    if (!src->map)
        return src->one_ns ? nsdb_set(dst, src->one_ns, src->one_labels) : 0;
    json_object_foreach(src->map, ns, labels)
        if (json_object_set(dst->map, ns, labels) < 0)
            return -1;
    return 0;
}
