/*
 * The compiled allow-list (policy/config/allowidx.c) against the entries it was compiled from:
 * for random policies, every question is also answered by walking the entries, and the answers
 * must agree (what the class of a port holds, how a port set splits, which entries it touches).
 */
#include "policy/config/allowidx.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/base/buf.h"
#include "policy/config/policy.h"
#include "policy/selector/selsubset.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

static uint64_t next(uint64_t *st)
{
    uint64_t x = *st;

    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *st = x;
}

/* Small pools, so that entries overlap in ports and destinations. */
static const char *const cidrs[] = {"10.0.0.0/8", "10.20.0.0/16", "192.168.1.0/24",
                                    "0.0.0.0/0", "\"fd00::/8\"", "\"::/0\"", "172.16.0.0/12"};
static const char *const fqdns[] = {"\"*.s3.amazonaws.com\"", "s3.amazonaws.com",
                                    "\"*.example.org\"", "\"*\"", "api.example.org"};
static const char *const port_pool[] = {
    "{protocol: TCP, port: 443}", "{protocol: TCP, port: 8000, endPort: 8010}",
    "{protocol: UDP, port: 53}", "{protocol: TCP, port: 53}", "{protocol: ANY}",
    "{protocol: TCP}", "{protocol: SCTP, port: 9}", "{protocol: TCP, port: 440, endPort: 445}"};

/* A random policy of up to 12 allow entries and an always-denied range. */
static struct policy *random_policy(uint64_t *st)
{
    struct buf b;
    struct err e = {0};
    struct policy *p;
    size_t n = next(st) % 13;

    buf_init(&b, 0);
    buf_puts(&b, "apiVersion: egressguard.io/v1alpha1\nkind: EgressPolicy\nmetadata: {name: r}\n"
                 "spec:\n  aiWorkloads: {namespaces: {names: [ml-a]}}\n  allow:\n");
    for (size_t i = 0; i < n; i++) {
        size_t k = next(st) % 3, kinds = 0;

        buf_printf(&b, "  - name: e%zu\n", i);
        if (next(st) % 2 || k == 0) {
            buf_printf(&b, "    cidrs: [%s, %s]\n", cidrs[next(st) % 7], cidrs[next(st) % 7]);
            kinds++;
        }
        if (next(st) % 2 || (k == 1 && !kinds)) {
            buf_printf(&b, "    fqdns: [%s]\n", fqdns[next(st) % 5]);
            kinds++;
        }
        if (next(st) % 3 == 0 || !kinds)
            buf_puts(&b, next(st) % 2 ? "    inCluster: [{sameNamespace: true}]\n"
                                      : "    inCluster: [{namespaceSelector: {}}]\n");
        if (next(st) % 4) {
            buf_puts(&b, "    ports:\n");
            for (size_t j = 0, m = 1 + next(st) % 3; j < m; j++)
                buf_printf(&b, "    - %s\n", port_pool[next(st) % 8]);
        }
    }
    if (!n)
        buf_puts(&b, "  - {name: only, cidrs: [10.1.0.0/16], ports: [{protocol: TCP, port: 1}]}\n");
    buf_puts(&b, "  deny:\n  - {name: md, cidrs: [169.254.169.254/32, 10.20.1.0/24]}\n");
    assert_false(b.failed);
    p = policy_load_buffer(b.data, b.len, "r.yaml", &e);
    if (!p)
        fail_msg("random policy: %d:%d %s\n%s", e.line, e.col, e.msg, b.data);
    buf_release(&b);
    return p;
}

/* The class of (proto, port), asked of the entries one by one. */
static void check_point(const struct policy *p, int proto, unsigned port)
{
    const struct allowidx_class *c = allowidx_at(p->allowidx, proto, port);
    struct cidrset *want = cidrset_new(), *reach;
    size_t n_peers = 0;
    bool every_pod = false;

    assert_non_null(want);
    for (size_t i = 0; i < p->n_allow; i++) {
        const struct dest_entry *d = &p->allow[i];
        bool in = portset_contains(d->ports, proto, port);

        assert_int_equal(!!(c->entries[i / 64] >> (i % 64) & 1), in);
        if (!in)
            continue;
        assert_int_equal(cidrset_union(want, d->cidrs), 0);
        n_peers += d->n_peers;
        for (size_t j = 0; j < d->n_peers; j++)
            every_pod |= !d->peers[j].same_namespace &&
                         selector_is_all(d->peers[j].namespaces) && selector_is_all(d->peers[j].pods);
    }
    assert_true(cidrset_equal(c->cidrs, want));
    reach = cidrset_dup(want);
    assert_non_null(reach);
    assert_int_equal(cidrset_union(reach, p->deny_cidrs), 0);
    assert_true(cidrset_equal(c->reach, reach));
    assert_int_equal(c->every_addr, cidrset_is_all(reach, 0));
    assert_int_equal(c->n_peers, n_peers);
    assert_int_equal(c->every_pod, every_pod);
    /* FQDNs: the class answers what the covering entries' patterns answer together. */
    for (size_t q = 0; q < 5; q++) {
        const char *probe[] = {"a.s3.amazonaws.com", "s3.amazonaws.com", "x.example.org",
                               "api.example.org", "example.com"};
        bool want_name = false;

        for (size_t i = 0; i < p->n_allow; i++)
            for (size_t j = 0; portset_contains(p->allow[i].ports, proto, port) &&
                               j < p->allow[i].n_fqdns;
                 j++)
                want_name |= fqdn_matches(p->allow[i].fqdns[j], probe[q]);
        assert_int_equal(fqdn_index_matches(c->fqdns, probe[q]), want_name);
    }
    cidrset_free(want);
    cidrset_free(reach);
}

static const int protos[] = {PROTO_TCP, PROTO_UDP, PROTO_SCTP, PROTO_ICMP, 0, 255};

static void test_allowidx_classes_against_entries(void **state)
{
    uint64_t st = 0x9e3779b97f4a7c15ULL;

    (void)state;
    for (int round = 0; round < 60; round++) {
        struct policy *p = random_policy(&st);
        static const unsigned probe_ports[] = {0,    1,    9,    52,   53,    54,   439,
                                               440,  443,  445,  446,  7999,  8000, 8005,
                                               8010, 8011, 9999, 65534, 65535};

        for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
            for (size_t j = 0; j < sizeof(probe_ports) / sizeof(probe_ports[0]); j++)
                check_point(p, protos[i], probe_ports[j]);
        policy_free(p);
    }
}

/* A random port set of a few runs, on the protocols the pools use. */
static struct portset *random_ports(uint64_t *st)
{
    struct portset *s = portset_new();

    assert_non_null(s);
    for (size_t i = 0, n = 1 + next(st) % 4; i < n; i++) {
        int proto = protos[next(st) % 6];
        unsigned lo = (unsigned)(next(st) % 9000), hi = lo + (unsigned)(next(st) % 600);

        if (next(st) % 5 == 0)
            assert_int_equal(portset_add_proto(s, proto), 0);
        else
            assert_int_equal(portset_add_range(s, proto, lo, hi > 65535 ? 65535 : hi), 0);
    }
    return s;
}

static void test_allowidx_split_partitions_by_class(void **state)
{
    uint64_t st = 12345;
    size_t multi = 0;

    (void)state;
    for (int round = 0; round < 200; round++) {
        struct policy *p = random_policy(&st);
        struct portset *ports = random_ports(&st), *seen = portset_new();
        struct allowidx_atoms atoms;
        size_t words = allowidx_words(p->allowidx);
        uint64_t *touch = calloc(words, sizeof(*touch));

        assert_non_null(seen);
        assert_non_null(touch);
        assert_true(allowidx_split(p->allowidx, ports, &atoms) >= 1);
        multi += atoms.n > 1;
        for (size_t k = 0; k < atoms.n; k++) {
            const struct portset *a = atoms.v[k].ports ? atoms.v[k].ports : ports;

            /* Disjoint pieces of the set, each key of which is in the atom's class. */
            assert_false(portset_overlaps(a, seen));
            assert_int_equal(portset_union(seen, a), 0);
            for (size_t r = 0; r < portset_runs(a); r++) {
                unsigned long lo, hi;

                portset_run(a, r, &lo, &hi);
                assert_ptr_equal(allowidx_at(p->allowidx, (int)(lo >> 16), lo & 0xffff),
                                 atoms.v[k].cls);
                assert_ptr_equal(allowidx_at(p->allowidx, (int)(hi >> 16), hi & 0xffff),
                                 atoms.v[k].cls);
            }
            for (size_t j = 0; j < k; j++)
                assert_ptr_not_equal(atoms.v[j].cls, atoms.v[k].cls);
        }
        assert_true(portset_equal(seen, ports));
        /* The entries it touches: those whose ports meet the set. */
        allowidx_touching(p->allowidx, ports, touch);
        for (size_t i = 0; i < p->n_allow; i++)
            assert_int_equal(!!(touch[i / 64] >> (i % 64) & 1),
                             portset_overlaps(p->allow[i].ports, ports));
        allowidx_atoms_release(&atoms);
        portset_free(ports);
        portset_free(seen);
        free(touch);
        policy_free(p);
    }
    assert_true(multi > 20); /* the multi-class path ran */
}

static void test_allowidx_all_cidrs_and_offering(void **state)
{
    uint64_t st = 777;

    (void)state;
    for (int round = 0; round < 50; round++) {
        struct policy *p = random_policy(&st);
        struct cidrset *all = cidrset_new();

        assert_non_null(all);
        for (size_t i = 0; i < p->n_allow; i++) {
            const struct dest_entry *d = &p->allow[i];
            const uint64_t bit = (uint64_t)1 << (i % 64);

            assert_int_equal(cidrset_union(all, d->cidrs), 0);
            assert_int_equal(!!(allowidx_offering(p->allowidx, ALLOWIDX_CIDRS)[i / 64] & bit),
                             !cidrset_is_empty(d->cidrs));
            assert_int_equal(!!(allowidx_offering(p->allowidx, ALLOWIDX_FQDNS)[i / 64] & bit),
                             d->n_fqdns > 0);
            assert_int_equal(!!(allowidx_offering(p->allowidx, ALLOWIDX_PEERS)[i / 64] & bit),
                             d->n_peers > 0);
        }
        assert_int_equal(cidrset_subtract(all, p->deny_cidrs), 0);
        assert_true(cidrset_equal(all, allowidx_all_cidrs(p->allowidx)));
        cidrset_free(all);
        policy_free(p);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_allowidx_classes_against_entries),
        cmocka_unit_test(test_allowidx_split_partitions_by_class),
        cmocka_unit_test(test_allowidx_all_cidrs_and_offering),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
