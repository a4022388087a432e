#ifndef EGRESSGUARD_BACKOFF_H
#define EGRESSGUARD_BACKOFF_H

/*
 * Retry delays and the waits between retries.
 *
 * struct backoff: exponential with full jitter in its upper half (each delay is uniform in
 * [d/2, d], d doubling from `first` up to `max`), so that replicas that lost the API server at
 * the same moment do not come back in step. The generator is seeded per instance; no global
 * state.
 *
 * struct pause: a sleep that another thread can end early (stop for shutdown, wake for "there
 * is work"), timed on CLOCK_MONOTONIC: a wall-clock step (NTP, a VM resumed) neither stretches
 * nor skips a retry.
 */

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct backoff {
    long first_ms, max_ms;
    long next_ms; /* the upper bound of the next delay */
    uint64_t rng;
};

/* seed: any value (0 picks one from the monotonic clock and the struct's address). */
void backoff_init(struct backoff *b, long first_ms, long max_ms, uint64_t seed);

/* The next delay in milliseconds, and the one after it doubles (up to max). */
long backoff_next(struct backoff *b);

/* After a success: the next delay is `first` again. */
void backoff_reset(struct backoff *b);

/* A random number from the instance's generator (for other jitter). */
uint64_t backoff_random(struct backoff *b);

struct pause {
    pthread_mutex_t mu;
    pthread_cond_t cv; /* timed on clock */
    clockid_t clock;   /* CLOCK_MONOTONIC */
    bool stop, woken;
};

/* 0, or -1 when the mutex or condition cannot be made. */
int pause_init(struct pause *p);
void pause_destroy(struct pause *p);

/*
 * Sleeps up to ms milliseconds, less when pause_stop() or pause_wake() is called (also when it
 * was called before this sleep began, since the last wait). Returns true when stopping.
 */
bool pause_for(struct pause *p, long ms);

void pause_stop(struct pause *p); /* every later pause_for() returns true at once */
void pause_wake(struct pause *p); /* ends the current (or next) pause_for() early */
bool pause_stopping(struct pause *p);

/* Milliseconds on CLOCK_MONOTONIC. */
int64_t backoff_now_ms(void);

#endif
