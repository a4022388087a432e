#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/cni/netset.h"
#include "policy/cni/readers.h"
#include "policy/decide.h"
#include "tests/helpers/evalfix.h"

struct policy *evalfix_policy(const char *path)
{
    struct err e = {0};
    struct policy *p = policy_load(path, &e);
    char buf[700];

    if (!p) {
        err_format(&e, buf, sizeof(buf));
        fail_msg("policy %s: %s", path, buf);
    }
    return p;
}

struct policy *evalfix_policy_text(const char *text)
{
    struct err e = {0};
    struct policy *p = policy_load_buffer(text, strlen(text), "t.yaml", &e);
    char buf[700];

    if (!p) {
        err_format(&e, buf, sizeof(buf));
        fail_msg("policy: %s", buf);
    }
    return p;
}

int evalfix_setup_example(void **state)
{
    *state = evalfix_policy("examples/policy.yaml");
    return 0;
}

int evalfix_teardown_policy(void **state)
{
    policy_free(*state);
    return 0;
}

static void dump(const struct evalfix *f)
{
    size_t i;

    for (i = 0; i < f->v.n_findings; i++) {
        const struct finding *x = &f->v.findings[i];

        print_message("  %s %s %s:%d:%d %s\n", x->violation ? "violation" : "note", x->rule,
                      x->path, x->line, x->col, x->message);
    }
}

static void evaluate(struct evalfix *f, const struct policy *p, const char *what, size_t index,
                     const struct request_ctx *ctx)
{
    char buf[700];

    if (manifest_n_errors(f->m) > 0) {
        err_format(manifest_error(f->m, 0), buf, sizeof(buf));
        fail_msg("%s: %s", what, buf);
    }
    if (manifest_n_objects(f->m) <= index)
        fail_msg("%s: only %zu objects", what, manifest_n_objects(f->m));
    f->obj = manifest_object(f->m, index);
    verdict_init(&f->v);
    f->rc = decide_object(p, f->obj, ctx, &f->v, &f->e);
}

void evalfix_file(struct evalfix *f, const struct policy *p, const char *path, size_t index,
                  const struct request_ctx *ctx)
{
    memset(f, 0, sizeof(*f));
    f->m = manifest_new();
    assert_non_null(f->m);
    assert_int_equal(manifest_read(f->m, path), 0);
    evaluate(f, p, path, index, ctx);
}

void evalfix_text(struct evalfix *f, const struct policy *p, const char *text, size_t index,
                  const struct request_ctx *ctx)
{
    memset(f, 0, sizeof(*f));
    f->m = manifest_new();
    assert_non_null(f->m);
    assert_int_equal(manifest_read_buffer(f->m, text, strlen(text), "t.yaml"), 0);
    evaluate(f, p, "t.yaml", index, ctx);
}

void evalfix_cluster(struct evalfix *f, const struct policy *p, const char *text, size_t index,
                     bool complete)
{
    const struct object **objs;
    struct request_ctx ctx = {.operation = "CREATE"};
    struct err e = {0};
    size_t n, i;

    memset(f, 0, sizeof(*f));
    f->m = manifest_new();
    f->sets = setdb_new();
    f->ns = nsdb_new();
    assert_non_null(f->m);
    assert_non_null(f->sets);
    assert_non_null(f->ns);
    assert_int_equal(manifest_read_buffer(f->m, text, strlen(text), "t.yaml"), 0);
    n = manifest_n_objects(f->m);
    objs = calloc(n + 1, sizeof(*objs));
    assert_non_null(objs);
    for (i = 0; i < n; i++) {
        objs[i] = manifest_object(f->m, i);
        if (!strcmp(objs[i]->kind, "Namespace"))
            assert_int_equal(nsdb_set(f->ns, objs[i]->name,
                                      json_object_get(json_object_get(objs[i]->json, "metadata"),
                                                      "labels")),
                             0);
    }
    assert_int_equal(netset_collect(f->sets, objs, n, &e), 0);
    assert_int_equal(readers_read_all(objs, n, &f->policies, &e), 0);
    setdb_set_complete(f->sets, complete);
    free(objs);
    ctx.sets = f->sets;
    ctx.policies = &f->policies;
    ctx.namespaces = f->ns;
    evaluate(f, p, "t.yaml", index, &ctx);
}

void evalfix_release(struct evalfix *f)
{
    verdict_release(&f->v);
    manifest_free(f->m);
    setdb_free(f->sets);
    egress_list_release(&f->policies);
    nsdb_free(f->ns);
    memset(f, 0, sizeof(*f));
}

const struct finding *evalfix_find(const struct evalfix *f, const char *rule, bool violation,
                                   size_t n)
{
    size_t i;

    for (i = 0; i < f->v.n_findings; i++) {
        const struct finding *x = &f->v.findings[i];

        if (strcmp(x->rule, rule) == 0 && x->violation == violation && n-- == 0)
            return x;
    }
    return NULL;
}

size_t evalfix_count(const struct evalfix *f, const char *rule, bool violation)
{
    size_t i, n = 0;

    for (i = 0; i < f->v.n_findings; i++)
        if (strcmp(f->v.findings[i].rule, rule) == 0 && f->v.findings[i].violation == violation)
            n++;
    return n;
}

void evalfix_expect_clean(const struct evalfix *f)
{
    size_t i;

    if (f->rc != 0) {
        char buf[700];

        err_format(&f->e, buf, sizeof(buf));
        fail_msg("decide_object failed: %s", buf);
    }
    for (i = 0; i < f->v.n_findings; i++) {
        if (f->v.findings[i].violation) {
            dump(f);
            fail_msg("unexpected violation");
        }
    }
    assert_true(f->v.allowed);
}

const struct finding *evalfix_expect(const struct evalfix *f, const char *rule, const char *path,
                                     int line, const char *needle)
{
    size_t i;

    if (f->rc != 0) {
        char buf[700];

        err_format(&f->e, buf, sizeof(buf));
        fail_msg("decide_object failed: %s", buf);
    }
    for (i = 0; i < f->v.n_findings; i++) {
        const struct finding *x = &f->v.findings[i];

        if (x->violation && strcmp(x->rule, rule) == 0 && strcmp(x->path, path) == 0 &&
            x->line == line && strstr(x->message, needle))
            return x;
    }
    dump(f);
    fail_msg("no %s violation at %s line %d containing \"%s\"", rule, path, line, needle);
    return NULL;
}
