#ifndef EGRESSGUARD_TESTS_INVFIX_H
#define EGRESSGUARD_TESTS_INVFIX_H

/*
 * Test fixture for composition (policy/eval/compose.h): manifest text read as `check` reads it,
 * into its objects and an inventory. Failures to read end the test with the error.
 */

#include <stdbool.h>
#include <stddef.h>

#include "policy/config/nsdb.h"
#include "policy/doc/manifest.h"
#include "policy/eval/inventory.h"
#include "policy/verdict.h"

struct invfix {
    struct manifest *m;
    const struct object **objs;
    size_t n;
    struct inventory inv; /* inv.in is the compose_input */
};

/* Reads yaml as the file `file` (no errors allowed); ns (may be NULL) gives namespace labels. */
void invfix_load(struct invfix *f, const char *yaml, const char *file, const struct nsdb *ns);
void invfix_release(struct invfix *f);

/* The object named `name`; fails the test when there is none. */
const struct object *invfix_object(const struct invfix *f, const char *name);

/* The first finding of v (violations or notes) whose message contains text, or NULL. */
const struct finding *invfix_find(const struct verdict *v, bool violation, const char *text);

#endif
