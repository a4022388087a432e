#include "faults.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);

static bool armed, tripped;
static long fail_at = -1, seen;

/*
 * The blocks allocated through the wrappers while armed and not freed yet: an open-addressing
 * set of pointers (tombstones for removals), allocated with the real allocator.
 */
#define TOMB ((void *)1)
static void **live;
static size_t live_cap, live_used, live_n;

static size_t slot_of(const void *p, size_t cap)
{
    uintptr_t x = (uintptr_t)p;

    x ^= x >> 17;
    x *= (uintptr_t)0x9e3779b97f4a7c15ULL;
    return (size_t)(x >> 7) & (cap - 1);
}

static void live_add(void *p);

static void live_grow(void)
{
    void **old = live;
    size_t old_cap = live_cap;

    live_cap = live_cap ? live_cap * 2 : 1024;
    live = __real_calloc(live_cap, sizeof(*live));
    if (!live)
        abort();
    live_used = live_n = 0;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i] && old[i] != TOMB)
            live_add(old[i]);
    __real_free(old);
}

static void live_add(void *p)
{
    size_t h;

    if ((live_used + 1) * 2 > live_cap)
        live_grow();
    h = slot_of(p, live_cap);
    while (live[h] && live[h] != TOMB)
        h = (h + 1) & (live_cap - 1);
    if (!live[h])
        live_used++;
    live[h] = p;
    live_n++;
}

static void live_remove(void *p)
{
    size_t h;

    if (!live_cap || !p)
        return;
    for (h = slot_of(p, live_cap); live[h]; h = (h + 1) & (live_cap - 1)) {
        if (live[h] == p) {
            live[h] = TOMB;
            live_n--;
            return;
        }
    }
}

/* true when this allocation must fail. */
static bool next_fails(void)
{
    if (!armed)
        return false;
    if (seen++ == fail_at) {
        tripped = true;
        return true;
    }
    return false;
}

static void *track(void *p)
{
    if (armed && p)
        live_add(p);
    return p;
}

void *__wrap_malloc(size_t n)
{
    return next_fails() ? NULL : track(__real_malloc(n));
}

void *__wrap_calloc(size_t n, size_t size)
{
    return next_fails() ? NULL : track(__real_calloc(n, size));
}

void *__wrap_realloc(void *p, size_t n)
{
    void *q;

    if (next_fails())
        return NULL;
    q = __real_realloc(p, n);
    if (q && armed) {
        live_remove(p);
        live_add(q);
    }
    return q;
}

char *__wrap_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = __wrap_malloc(n);

    if (p)
        memcpy(p, s, n);
    return p;
}

void __wrap_free(void *p)
{
    if (armed)
        live_remove(p);
    __real_free(p);
}

static void *json_alloc(size_t n)
{
    return __wrap_malloc(n);
}

static void json_release(void *p)
{
    __wrap_free(p);
}

void faults_arm(long n)
{
    armed = true;
    fail_at = n;
    seen = 0;
    tripped = false;
    if (live)
        memset(live, 0, live_cap * sizeof(*live));
    live_used = live_n = 0;
    json_set_alloc_funcs(json_alloc, json_release);
}

void faults_hold(void)
{
    fail_at = -1;
}

void faults_disarm(void)
{
    armed = false;
    fail_at = -1;
    json_set_alloc_funcs(__real_malloc, __real_free);
}

bool faults_tripped(void)
{
    return tripped;
}

long faults_count(void)
{
    return seen;
}

size_t faults_live(void)
{
    return live_n;
}

long faults_sweep(void (*once)(void *arg, long k), void *arg)
{
    long k;

    for (k = 0;; k++) {
        faults_arm(k);
        once(arg, k);
        if (faults_live())
            fail_msg("allocation %ld failed: %zu blocks leaked", k, faults_live());
        faults_disarm();
        if (!faults_tripped())
            return k;
    }
}
