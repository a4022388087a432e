#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "tests/helpers/invfix.h"

void invfix_load(struct invfix *f, const char *yaml, const char *file, const struct nsdb *ns)
{
    struct err e = {0};
    size_t i;

    memset(f, 0, sizeof(*f));
    assert_non_null(f->m = manifest_new());
    assert_int_equal(manifest_read_buffer(f->m, yaml, strlen(yaml), file), 0);
    if (manifest_n_errors(f->m))
        fail_msg("%s: %s", file, manifest_error(f->m, 0)->msg);
    f->n = manifest_n_objects(f->m);
    assert_non_null(f->objs = calloc(f->n ? f->n : 1, sizeof(*f->objs)));
    for (i = 0; i < f->n; i++)
        f->objs[i] = manifest_object(f->m, i);
    if (inventory_build(&f->inv, f->objs, f->n, ns, NULL, &e) < 0)
        fail_msg("inventory: %s", e.msg);
}

void invfix_release(struct invfix *f)
{
    inventory_release(&f->inv);
    free(f->objs);
    manifest_free(f->m);
    memset(f, 0, sizeof(*f));
}

const struct object *invfix_object(const struct invfix *f, const char *name)
{
    for (size_t i = 0; i < f->n; i++)
        if (!strcmp(f->objs[i]->name, name))
            return f->objs[i];
    fail_msg("no object %s", name);
    return NULL;
}

const struct finding *invfix_find(const struct verdict *v, bool violation, const char *text)
{
    for (size_t i = 0; i < v->n_findings; i++)
        if (v->findings[i].violation == violation && strstr(v->findings[i].message, text))
            return &v->findings[i];
    return NULL;
}
