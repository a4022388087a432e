#ifndef EGRESSGUARD_JSONPATCH_H
#define EGRESSGUARD_JSONPATCH_H

/*
 * A small JSON Patch (RFC 6902) applier for what egressguard's own patches use: "add", "replace"
 * and "remove" on object members and array elements, with JSON Pointers (RFC 6901: "~1" is "/",
 * "~0" is "~"). `mutate` prints the patched object with it and the tests check idempotence with
 * it (apply the patch, mutate again: nothing left to add). jansson has no applier of its own.
 */

#include <jansson.h>

#include "policy/base/buf.h"
#include "policy/base/err.h"

/*
 * Applies `patch` (an array of operations) to a deep copy of `doc`. Returns the new document (a
 * new reference, the caller decrefs it), or NULL with e set ("patch[2]: path \"/a/b\": no member
 * \"a\"") when an operation is malformed, unsupported (move, copy, test) or does not apply. `doc`
 * is never modified.
 */
json_t *jsonpatch_apply(const json_t *doc, const json_t *patch, struct err *e);

/* Appends `key` escaped as one JSON Pointer reference token ("~" → "~0", "/" → "~1"). 0 or -1. */
int jsonpatch_escape(struct buf *b, const char *key);

#endif
