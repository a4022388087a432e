#include "policy/config/setdb.h"

#include <stdlib.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

/* An entry of kind/ns/name holding one prefix. */
static struct setdb_entry entry(enum setdb_kind kind, const char *ns, const char *name,
                                const char *cidr)
{
    struct setdb_entry e;
    struct err err = {0};
    struct cidr c;

    memset(&e, 0, sizeof(e));
    e.kind = kind;
    e.ns = ns ? strdup(ns) : NULL;
    e.name = strdup(name);
    e.nets = cidrset_new();
    assert_non_null(e.name);
    assert_non_null(e.nets);
    assert_int_equal(cidr_parse(cidr, CIDR_STRICT, &c, NULL, &err), 0);
    assert_int_equal(cidrset_add(e.nets, &c), 0);
    return e;
}

static bool holds(const struct setdb_entry *e, const char *cidr)
{
    struct cidrset *s = cidrset_new();
    struct err err = {0};
    struct cidr c;
    bool yes;

    assert_non_null(s);
    assert_int_equal(cidr_parse(cidr, CIDR_STRICT, &c, NULL, &err), 0);
    assert_int_equal(cidrset_add(s, &c), 0);
    yes = cidrset_equal(e->nets, s);
    cidrset_free(s);
    return yes;
}

static void test_setdb_empty_knows_nothing(void **state)
{
    struct setdb *db = setdb_new();

    (void)state;
    assert_non_null(db);
    assert_int_equal(setdb_count(db), 0);
    assert_false(setdb_complete(db));
    assert_null(setdb_get(db, 0));
    assert_null(setdb_find(db, SETDB_NETWORKSET, "ml-a", "x"));
    /* No store at all: nothing known, and not everything. */
    assert_false(setdb_complete(NULL));
    assert_int_equal(setdb_count(NULL), 0);
    setdb_set_complete(db, true);
    assert_true(setdb_complete(db));
    setdb_free(db);
    setdb_free(NULL);
}

/* Online, kinds become known one by one: the store is complete when every kind is. */
static void test_setdb_complete_per_kind(void **state)
{
    struct setdb *db = setdb_new();

    (void)state;
    assert_non_null(db);
    setdb_set_complete(db, true);
    setdb_set_kind_complete(db, SETDB_HOSTENDPOINT, false, "HostEndpoints are not listed");
    assert_false(setdb_complete(db));
    assert_true(setdb_kind_complete(db, SETDB_NETWORKSET));
    assert_false(setdb_kind_complete(db, SETDB_HOSTENDPOINT));
    assert_string_equal(setdb_kind_why(db, SETDB_HOSTENDPOINT), "HostEndpoints are not listed");
    assert_null(setdb_kind_why(db, SETDB_NETWORKSET));
    assert_false(setdb_kind_complete(NULL, SETDB_NETWORKSET));
    setdb_set_kind_complete(db, SETDB_HOSTENDPOINT, true, "ignored");
    assert_true(setdb_complete(db));
    assert_null(setdb_kind_why(db, SETDB_HOSTENDPOINT));
    setdb_free(db);
}

static void test_setdb_add_find_and_replace(void **state)
{
    struct setdb *db = setdb_new();
    struct setdb_entry e;

    (void)state;
    e = entry(SETDB_NETWORKSET, "ml-a", "ext", "10.1.0.0/16");
    assert_int_equal(setdb_add(db, &e), 0);
    assert_null(e.name); /* taken */
    e = entry(SETDB_GLOBALNETWORKSET, NULL, "ext", "10.2.0.0/16");
    assert_int_equal(setdb_add(db, &e), 0);
    e = entry(SETDB_NETWORKSET, "ml-b", "ext", "10.3.0.0/16");
    assert_int_equal(setdb_add(db, &e), 0);
    assert_int_equal(setdb_count(db), 3);

    /* kind, namespace and name all count; a missing namespace is "" */
    assert_true(holds(setdb_find(db, SETDB_NETWORKSET, "ml-a", "ext"), "10.1.0.0/16"));
    assert_true(holds(setdb_find(db, SETDB_GLOBALNETWORKSET, "", "ext"), "10.2.0.0/16"));
    assert_true(holds(setdb_find(db, SETDB_GLOBALNETWORKSET, NULL, "ext"), "10.2.0.0/16"));
    assert_null(setdb_find(db, SETDB_CIDRGROUP, NULL, "ext"));
    assert_non_null(setdb_get(db, 0)->labels); /* always an object */

    /* the same identity again replaces, it does not add */
    e = entry(SETDB_NETWORKSET, "ml-a", "ext", "192.0.2.0/24");
    assert_int_equal(setdb_add(db, &e), 0);
    assert_int_equal(setdb_count(db), 3);
    assert_true(holds(setdb_find(db, SETDB_NETWORKSET, "ml-a", "ext"), "192.0.2.0/24"));
    setdb_free(db);
}

static void test_setdb_kind_names(void **state)
{
    (void)state;
    assert_string_equal(setdb_kind_name(SETDB_NETWORKSET), "NetworkSet");
    assert_string_equal(setdb_kind_name(SETDB_GLOBALNETWORKSET), "GlobalNetworkSet");
    assert_string_equal(setdb_kind_name(SETDB_HOSTENDPOINT), "HostEndpoint");
    assert_string_equal(setdb_kind_name(SETDB_CIDRGROUP), "CiliumCIDRGroup");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_setdb_empty_knows_nothing),
        cmocka_unit_test(test_setdb_complete_per_kind),
        cmocka_unit_test(test_setdb_add_find_and_replace),
        cmocka_unit_test(test_setdb_kind_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
