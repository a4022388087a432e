#ifndef EGRESSGUARD_BUDGET_H
#define EGRESSGUARD_BUDGET_H

/*
 * A decision's work budget, in deterministic units rather than time, so that the same object
 * gets the same answer on a busy machine and in tests. One unit is about one step of set
 * algebra (an interval of a CIDR or port set walked, an opening or peer visited): the loops
 * that grow with an object's size spend as they go, and once the limit is passed every
 * engine call in the decision fails, and the decision is refused as too complex: fail closed,
 * never an allow. decide_object() counts against BUDGET_DEFAULT_UNITS unless the caller brings
 * its own budget (the server: `serve --max-decision-work`).
 *
 * One budget belongs to one decision: plain fields, no locking (a decision runs on one thread).
 */

#include <stdbool.h>

/*
 * About a second of CPU at the most (the costliest units measured take some 65 ns each): a
 * NetworkPolicy with 100,000 ipBlocks needs 500,000 units, a thirtieth of it.
 */
#define BUDGET_DEFAULT_UNITS 16000000ULL

struct budget {
    unsigned long long limit; /* 0: unlimited */
    unsigned long long used;
    bool over;                /* used went past limit: everything from then on fails */
};

static inline void budget_init(struct budget *b, unsigned long long limit)
{
    b->limit = limit;
    b->used = 0;
    b->over = false;
}

/* Spends units; false once the budget is exceeded. A NULL budget is unlimited. */
static inline bool budget_spend(struct budget *b, unsigned long long units)
{
    if (!b)
        return true;
    b->used += units;
    if (b->limit && b->used > b->limit)
        b->over = true;
    return !b->over;
}

static inline bool budget_over(const struct budget *b)
{
    return b && b->over;
}

#endif
