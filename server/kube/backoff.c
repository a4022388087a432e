#include "server/kube/backoff.h"

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

int64_t backoff_now_ms(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

void backoff_init(struct backoff *b, long first_ms, long max_ms, uint64_t seed)
{
    struct timespec t;

    b->first_ms = first_ms > 0 ? first_ms : 1;
    b->max_ms = max_ms >= b->first_ms ? max_ms : b->first_ms;
    b->next_ms = b->first_ms;
    if (!seed) {
        clock_gettime(CLOCK_MONOTONIC, &t);
        seed = (uint64_t)t.tv_nsec ^ ((uint64_t)t.tv_sec << 32) ^ (uint64_t)(uintptr_t)b;
    }
    b->rng = seed;
}

long backoff_next(struct backoff *b)
{
    long d = b->next_ms, half = d / 2;
    long delay = half + (long)(splitmix(&b->rng) % (uint64_t)(d - half + 1));

    b->next_ms = d > b->max_ms / 2 ? b->max_ms : d * 2;
    return delay;
}

uint64_t backoff_random(struct backoff *b)
{
    return splitmix(&b->rng);
}

void backoff_reset(struct backoff *b)
{
    b->next_ms = b->first_ms;
}

int pause_init(struct pause *p)
{
    pthread_condattr_t ca;

    p->stop = p->woken = false;
    p->clock = CLOCK_MONOTONIC;
    if (pthread_mutex_init(&p->mu, NULL) != 0)
        return -1;
    if (pthread_condattr_init(&ca) != 0)
        goto fail_mu;
    if (pthread_condattr_setclock(&ca, p->clock) != 0 || pthread_cond_init(&p->cv, &ca) != 0) {
        pthread_condattr_destroy(&ca);
        goto fail_mu;
    }
    pthread_condattr_destroy(&ca);
    return 0;
fail_mu:
    pthread_mutex_destroy(&p->mu);
    return -1;
}

void pause_destroy(struct pause *p)
{
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
}

bool pause_for(struct pause *p, long ms)
{
    struct timespec until;
    bool stop;

    clock_gettime(p->clock, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&p->mu);
    while (!p->stop && !p->woken)
        if (pthread_cond_timedwait(&p->cv, &p->mu, &until) != 0)
            break; /* timed out */
    p->woken = false;
    stop = p->stop;
    pthread_mutex_unlock(&p->mu);
    return stop;
}

void pause_stop(struct pause *p)
{
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

void pause_wake(struct pause *p)
{
    pthread_mutex_lock(&p->mu);
    p->woken = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

bool pause_stopping(struct pause *p)
{
    bool stop;

    pthread_mutex_lock(&p->mu);
    stop = p->stop;
    pthread_mutex_unlock(&p->mu);
    return stop;
}
