#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>

#include <cmocka.h>

#include <string.h>

#include "policy/rules/managed.h"
#include "tests/helpers/evalfix.h"

#define FILE_ "tests/data/managed/policies.yaml"

enum { MANAGED, UNLABELLED, OTHER_MANAGER };

struct run {
    struct manifest *m;
    struct verdict v;
    struct err e;
    int rc;
};

/* managed_decide() on object `index`, with the old object `old` (-1: none). */
static void run(struct run *r, const struct policy *p, const char *op, size_t index, int old,
                const char *user)
{
    struct request_ctx ctx = {0};

    memset(r, 0, sizeof(*r));
    r->m = manifest_new();
    assert_non_null(r->m);
    assert_int_equal(manifest_read(r->m, FILE_), 0);
    assert_int_equal(manifest_n_errors(r->m), 0);
    ctx.operation = op;
    ctx.username = user;
    if (old >= 0)
        ctx.old_object = manifest_object(r->m, (size_t)old)->json;
    verdict_init(&r->v);
    r->rc = managed_decide(p, manifest_object(r->m, index), &ctx, &r->v, &r->e);
}

static void release(struct run *r)
{
    verdict_release(&r->v);
    manifest_free(r->m);
}

static int setup(void **state)
{
    *state = evalfix_policy("tests/data/pod/policy.yaml");
    return 0;
}

static int teardown(void **state)
{
    policy_free(*state);
    return 0;
}

static void test_managed_decide_update_denied(void **state)
{
    struct run r;

    run(&r, *state, "UPDATE", MANAGED, MANAGED, "bob");
    assert_int_equal(r.rc, 0);
    assert_false(r.v.allowed);
    assert_int_equal(r.v.n_findings, 1);
    assert_string_equal(r.v.findings[0].rule, "managed.policy");
    assert_string_equal(r.v.findings[0].path,
                        "metadata.labels[app.kubernetes.io/managed-by]");
    assert_int_equal(r.v.findings[0].line, 7);
    assert_string_equal(r.v.findings[0].message,
                        "NetworkPolicy ml-train/egressguard-default-deny is managed by "
                        "egressguard (app.kubernetes.io/managed-by: egressguard): only "
                        "egressguard's own service account (spec.identities.serviceAccounts) "
                        "may change it, not bob");
    release(&r);
}

/* Dropping the label in the same UPDATE does not hide the object: the old one has it. */
static void test_managed_decide_label_removal_denied(void **state)
{
    struct run r;

    run(&r, *state, "UPDATE", UNLABELLED, MANAGED, "bob");
    assert_false(r.v.allowed);
    assert_string_equal(r.v.findings[0].rule, "managed.policy");
    release(&r);
}

static void test_managed_decide_delete_denied(void **state)
{
    struct run r;

    run(&r, *state, "DELETE", MANAGED, MANAGED, "system:serviceaccount:kube-system:gc");
    assert_false(r.v.allowed);
    assert_non_null(strstr(r.v.findings[0].message, "may delete it"));
    release(&r);
}

/* Deleting a namespace completes: its controller (and the garbage collector) may delete what
 * egressguard manages in it, but not change it; a look-alike name may not. */
static void test_managed_decide_control_plane_may_delete(void **state)
{
    static const char *const deleters[] = {
        "system:serviceaccount:kube-system:namespace-controller",
        "system:serviceaccount:kube-system:generic-garbage-collector",
        "system:kube-controller-manager",
    };
    struct run r;

    for (size_t i = 0; i < sizeof(deleters) / sizeof(deleters[0]); i++) {
        run(&r, *state, "DELETE", MANAGED, MANAGED, deleters[i]);
        assert_true(r.v.allowed);
        assert_int_equal(r.v.n_findings, 0);
        release(&r);
        run(&r, *state, "UPDATE", MANAGED, MANAGED, deleters[i]);
        assert_false(r.v.allowed);
        release(&r);
    }
    run(&r, *state, "DELETE", MANAGED, MANAGED,
        "system:serviceaccount:kube-system:namespace-controller-x");
    assert_false(r.v.allowed);
    release(&r);
    run(&r, *state, "DELETE", MANAGED, MANAGED, "system:serviceaccount:other:namespace-controller");
    assert_false(r.v.allowed);
    release(&r);
}

static void test_managed_decide_own_service_account_passes(void **state)
{
    struct run r;

    run(&r, *state, "UPDATE", MANAGED, MANAGED, "system:serviceaccount:egressguard:egressguard");
    assert_true(r.v.allowed);
    assert_int_equal(r.v.n_findings, 0);
    release(&r);
    run(&r, *state, "DELETE", MANAGED, MANAGED, "system:serviceaccount:egressguard:egressguard");
    assert_true(r.v.allowed);
    release(&r);
    /* identities.users may relabel namespaces, but managed policies are egressguard's alone. */
    run(&r, *state, "UPDATE", MANAGED, MANAGED, "alice");
    assert_false(r.v.allowed);
    release(&r);
}

static void test_managed_decide_other_objects_pass(void **state)
{
    struct run r;

    run(&r, *state, "UPDATE", UNLABELLED, UNLABELLED, "bob");
    assert_true(r.v.allowed);
    assert_int_equal(r.v.n_findings, 0);
    release(&r);
    run(&r, *state, "DELETE", OTHER_MANAGER, OTHER_MANAGER, "bob");
    assert_int_equal(r.v.n_findings, 0);
    release(&r);
    /* CREATE is the egress evaluation's business, not this rule's. */
    run(&r, *state, "CREATE", MANAGED, -1, "bob");
    assert_int_equal(r.v.n_findings, 0);
    release(&r);
    run(&r, *state, NULL, MANAGED, -1, "bob");
    assert_int_equal(r.v.n_findings, 0);
    release(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_managed_decide_update_denied),
        cmocka_unit_test(test_managed_decide_label_removal_denied),
        cmocka_unit_test(test_managed_decide_delete_denied),
        cmocka_unit_test(test_managed_decide_control_plane_may_delete),
        cmocka_unit_test(test_managed_decide_own_service_account_passes),
        cmocka_unit_test(test_managed_decide_other_objects_pass),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
