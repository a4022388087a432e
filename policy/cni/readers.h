#ifndef EGRESSGUARD_READERS_H
#define EGRESSGUARD_READERS_H

/*
 * The network-policy kinds egressguard reads into egress models, and their readers: for the
 * callers that take policies together rather than one at a time (`check --effective`, and the
 * policies a run knows, against which address sets are judged: netset.h).
 */

#include <stdbool.h>

#include "policy/base/err.h"
#include "policy/doc/manifest.h"
#include "policy/eval/judge.h"

/* The reader of obj's kind, or NULL when obj is not a network-policy kind egressguard reads. */
judge_reader *readers_find(const struct object *obj);

/*
 * Appends to out the models of every object of objs[0..n) that is a policy kind egressguard
 * reads. Objects that cannot be read are left out: decide_object() reports them. 0, or -1 with e
 * set on out of memory.
 */
int readers_read_all(const struct object *const *objs, size_t n, struct egress_list *out,
                     struct err *e);

#endif
