#ifndef EGRESSGUARD_TESTS_FAULTS_H
#define EGRESSGUARD_TESTS_FAULTS_H

/*
 * Allocation-failure injection for the suites named test_*_faults.c, which the Makefile links
 * with GNU ld's --wrap for malloc, calloc, realloc, strdup and free: every such call made by
 * code linked into the test binary (the engine's objects, the test itself) goes through here,
 * and so does every jansson allocation while faults are armed (json_set_alloc_funcs).
 * Allocations inside libc and other shared libraries are not seen. The production build is
 * untouched; the state is the test process's own (the suites are single-threaded).
 *
 * The usual loop (faults_sweep): run the operation once unarmed to learn the answer, then for
 * k = 0, 1, ... fail the k-th allocation and check that the operation either fails cleanly or
 * gives that same answer, and leaks nothing, until an armed run trips no failure (k is past its
 * last allocation).
 */

#include <stdbool.h>
#include <stddef.h>

/* Counts allocations from now and fails number n (0-based); n < 0 counts without failing. */
void faults_arm(long n);
/* Stops failing but goes on tracking blocks (faults_live), e.g. while a result is freed. */
void faults_hold(void);
/* Stops failing and tracking; jansson gets its default allocator back. */
void faults_disarm(void);
/* Did the armed failure happen since faults_arm()? */
bool faults_tripped(void);
/* Allocations seen since faults_arm() (the failed one included). */
long faults_count(void);

/*
 * Blocks allocated through the wrappers (or by jansson) since faults_arm() and not freed yet:
 * free what the operation returned while still armed, then this must be 0.
 */
size_t faults_live(void);

/*
 * The usual loop: for k = 0, 1, ... arms allocation k, calls once(arg, k) (which runs the
 * operation, checks its answer, failing the test, and frees what it made), fails the test when
 * blocks leaked, and stops after the first run that trips no failure. Returns that last k: how
 * many allocations an undisturbed run makes.
 */
long faults_sweep(void (*once)(void *arg, long k), void *arg);

/* The wrappers --wrap binds to; declared for -Wmissing-prototypes. */
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
void __wrap_free(void *p);

#endif
