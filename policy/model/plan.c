#include "policy/model/plan.h"

#include <stdlib.h>
#include <string.h>

#include "policy/doc/member.h"
#include "policy/rules/managed.h"

void plan_init(struct plan *p)
{
    memset(p, 0, sizeof(*p));
}

void plan_release(struct plan *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->actions[i].name);
        free(p->actions[i].rv);
        json_decref(p->actions[i].doc);
    }
    free(p->actions);
    plan_init(p);
}

bool plan_covers(const json_t *have, const json_t *want)
{
    const char *k;
    const json_t *v;
    size_t i;

    if (json_is_object(want)) {
        if (!json_is_object(have))
            return false;
        json_object_foreach((json_t *)want, k, v)
            if (!plan_covers(json_object_get(have, k), v))
                return false;
        return true;
    }
    if (json_is_array(want)) {
        if (!json_is_array(have) || json_array_size(have) != json_array_size(want))
            return false;
        json_array_foreach(want, i, v)
            if (!plan_covers(json_array_get(have, i), v))
                return false;
        return true;
    }
    return json_equal(have, want);
}

static const char *name_of(const json_t *doc)
{
    return json_string_value(json_object_get(json_object_get(doc, "metadata"), "name"));
}

/* Does the stored item already say everything the wanted object says? */
static bool in_step(const struct model_item *it, const json_t *want)
{
    const json_t *meta = json_object_get(want, "metadata");

    return it->managed && plan_covers(it->labels, json_object_get(meta, "labels")) &&
           plan_covers(it->annotations, json_object_get(meta, "annotations")) &&
           plan_covers(it->spec, json_object_get(want, "spec"));
}

static int add(struct plan *p, enum plan_op op, const char *name, const json_t *doc, const char *rv,
               struct err *e)
{
    struct plan_action *grown = realloc(p->actions, (p->n + 1) * sizeof(*grown)), *a;

    if (!grown)
        return err_set(e, "out of memory");
    p->actions = grown;
    a = &p->actions[p->n];
    memset(a, 0, sizeof(*a));
    if (!(a->name = strdup(name)) || (rv && !(a->rv = strdup(rv))) ||
        (doc && !(a->doc = json_deep_copy(doc)))) {
        free(a->name);
        free(a->rv);
        return err_set(e, "out of memory");
    }
    /* An update is conditional on the version the model saw. */
    if (op == PLAN_UPDATE &&
        json_object_set_new(json_object_get(a->doc, "metadata"), "resourceVersion",
                            json_string(rv ? rv : "")) < 0) {
        free(a->name);
        free(a->rv);
        json_decref(a->doc);
        return err_set(e, "out of memory");
    }
    a->op = op;
    p->n++;
    return 0;
}

int plan_namespace(const struct model *m, const char *ns, const json_t *want, struct plan *out,
                   struct err *e)
{
    struct model_item *const *have;
    size_t n = model_list(m, MODEL_NETWORKPOLICY, ns, &have), i;
    const json_t *doc;

    json_array_foreach(want, i, doc) {
        const char *name = name_of(doc);
        const struct model_item *it = name ? model_find(m, MODEL_NETWORKPOLICY, ns, name) : NULL;

        if (!name)
            return err_set(e, "a wanted NetworkPolicy without a name");
        if (it && it->terminating)
            continue; /* being deleted: created again once it is gone */
        if (!it) {
            if (add(out, PLAN_CREATE, name, doc, NULL, e) < 0)
                return -1;
        } else if (!in_step(it, doc) && add(out, PLAN_UPDATE, name, doc, it->rv, e) < 0) {
            return -1;
        }
    }
    for (i = 0; i < n; i++) {
        bool wanted = false;
        size_t j;

        if (!have[i]->managed || have[i]->terminating)
            continue;
        json_array_foreach(want, j, doc) {
            const char *name = name_of(doc);
            wanted = wanted || (name && !strcmp(name, have[i]->name));
        }
        if (!wanted && add(out, PLAN_DELETE, have[i]->name, NULL, have[i]->rv, e) < 0)
            return -1;
    }
    return 0;
}

bool plan_in_place(const struct model *m, const char *ns, const json_t *want, struct buf *missing)
{
    const json_t *doc;
    bool ok = true;
    size_t i;

    json_array_foreach(want, i, doc) {
        const char *name = name_of(doc);
        const struct model_item *it = name ? model_find(m, MODEL_NETWORKPOLICY, ns, name) : NULL;

        if (it && it->managed && !it->terminating)
            continue;
        if (missing)
            buf_printf(missing, "%s%s", ok ? "" : ", ", name ? name : "?");
        ok = false;
    }
    return ok;
}
