/*
 * CIDR set algebra at 1k, 10k and 100k random prefixes. Prints the best of a few runs per
 * operation and the growth ratio from the previous size: about 10x (n log n: ~11-13x) per 10x
 * more prefixes is what linear merges and one sort should give. Not a pass/fail test.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy/sets/cidr.h"

#define RUNS 3

static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545f4914f6cdd1dull;
}

/* Nine in ten IPv4 /16../32, one in ten IPv6 /32../128 under 2001:db8::/32. */
static void random_prefixes(struct cidr *list, size_t n, uint64_t *rng)
{
    size_t i;

    for (i = 0; i < n; i++) {
        uint64_t r = next_rand(rng), r2 = next_rand(rng);

        memset(&list[i], 0, sizeof(list[i]));
        if (r % 10) {
            list[i].family = 4;
            memcpy(list[i].addr, &r2, 4);
            list[i].bits = 16 + (unsigned)(r >> 8) % 17;
        } else {
            list[i].family = 6;
            list[i].addr[0] = 0x20;
            list[i].addr[1] = 0x01;
            list[i].addr[2] = 0x0d;
            list[i].addr[3] = 0xb8;
            memcpy(list[i].addr + 4, &r2, 8);
            list[i].bits = 32 + (unsigned)(r >> 8) % 97;
        }
    }
}

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct cidrset *build(const struct cidr *list, size_t n)
{
    struct cidrset *s = cidrset_new();

    if (!s || cidrset_add_many(s, list, n) < 0) {
        fprintf(stderr, "bench_cidr: out of memory\n");
        exit(1);
    }
    return s;
}

enum { OP_ADD_MANY, OP_UNION, OP_SUBTRACT, OP_PREFIXES, NOPS };
static const char *const op_names[NOPS] = {"add_many", "union", "subtract", "prefixes"};

/* Best time in seconds of RUNS runs of one operation at size n. */
static double measure(int op, const struct cidr *la, const struct cidr *lb, size_t n,
                      size_t *result_size)
{
    double best = 1e9;
    int run;

    for (run = 0; run < RUNS; run++) {
        struct cidrset *a = op == OP_ADD_MANY ? NULL : build(la, n);
        struct cidrset *b = op == OP_UNION || op == OP_SUBTRACT ? build(lb, n) : NULL;
        struct cidr *out = NULL;
        size_t count = 0;
        double t0 = now(), dt;
        int rc = 0;

        switch (op) {
        case OP_ADD_MANY:
            a = build(la, n);
            break;
        case OP_UNION:
            rc = cidrset_union(a, b);
            break;
        case OP_SUBTRACT:
            rc = cidrset_subtract(a, b);
            break;
        default:
            rc = cidrset_prefixes(a, &out, &count);
            break;
        }
        dt = now() - t0;
        if (rc < 0) {
            fprintf(stderr, "bench_cidr: out of memory\n");
            exit(1);
        }
        if (op != OP_PREFIXES)
            cidrset_prefixes(a, &out, &count);
        *result_size = count;
        if (dt < best)
            best = dt;
        free(out);
        cidrset_free(a);
        cidrset_free(b);
    }
    return best;
}

int main(void)
{
    static const size_t sizes[] = {1000, 10000, 100000};
    double prev[NOPS] = {0};
    uint64_t rng = 0x5eed;
    size_t si;
    int op;

    printf("bench_cidr: best of %d runs; ratio = time / time at the previous size (10x prefixes)\n",
           RUNS);
    printf("%-10s %8s %12s %8s %12s\n", "operation", "n", "time (ms)", "ratio", "prefixes out");
    for (si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
        size_t n = sizes[si];
        struct cidr *la = malloc(n * sizeof(*la)), *lb = malloc(n * sizeof(*lb));

        if (!la || !lb) {
            fprintf(stderr, "bench_cidr: out of memory\n");
            return 1;
        }
        random_prefixes(la, n, &rng);
        random_prefixes(lb, n, &rng);
        for (op = 0; op < NOPS; op++) {
            size_t out;
            double t = measure(op, la, lb, n, &out);

            if (si == 0)
                printf("%-10s %8zu %12.3f %8s %12zu\n", op_names[op], n, t * 1e3, "-", out);
            else
                printf("%-10s %8zu %12.3f %8.1f %12zu\n", op_names[op], n, t * 1e3,
                       prev[op] > 0 ? t / prev[op] : 0.0, out);
            prev[op] = t;
        }
        free(la);
        free(lb);
    }
    return 0;
}
