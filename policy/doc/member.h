#ifndef EGRESSGUARD_MEMBER_H
#define EGRESSGUARD_MEMBER_H

/*
 * Typed reads of a Kubernetes object's fields, for the rule modules. An absent member, and JSON
 * null (which Kubernetes treats as absent), reads as NULL. A member of the wrong type is an error
 * that names the field path and is positioned at the member (true, false and null through their
 * place in the parent, see doc_member_pos()).
 */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "policy/base/buf.h"
#include "policy/base/err.h"
#include "policy/doc/manifest.h"

enum member_type { MEMBER_OBJECT, MEMBER_ARRAY, MEMBER_STRING, MEMBER_BOOL };

/*
 * parent[key] (parent may be NULL: absent) → *out (borrowed; NULL when absent). `path` is the
 * member's full field path, used in the message ("spec.hostNetwork: must be a boolean").
 * Returns 0, or -1 with e set and positioned.
 */
int member_get(const struct object *obj, const json_t *parent, const char *key,
               enum member_type type, const char *path, const json_t **out, struct err *e);

/* Checks a value already in hand (an array item); parent positions singletons. 0 or -1. */
int member_check(const struct object *obj, const json_t *parent, const json_t *value,
                 enum member_type type, const char *path, struct err *e);

/*
 * Formats a field path into buf. A path too long for buf is cut: paths only appear in messages,
 * and a cut one still points at the right place.
 */
void member_path(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * The string value of labels[key] when labels is an object and the value a string ("" for null,
 * as the API server stores it), else NULL.
 */
const char *member_label(const json_t *labels, const char *key);

/*
 * Appends a member as the policy wrote it, in compact JSON with sorted keys: exactly what
 * json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) writes, without its allocations (readers put such
 * text on every peer they read). Returns out's status.
 */
int member_json_text(const json_t *j, struct buf *out);

#endif
