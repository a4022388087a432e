#ifndef EGRESSGUARD_SELWITNESS_H
#define EGRESSGUARD_SELWITNESS_H

/*
 * A witness of a selector: one label set it matches. Used where a decision must consider "these
 * labels may be anything": judging an object under a label set that makes the selector match
 * shows what it would be if the unknown labels were such.
 */

#include <jansson.h>
#include <stdbool.h>

#include "policy/selector/selector.h"

/*
 * A label set s matches, as a new JSON object, or NULL when none was found: none exists (every
 * candidate was tried), or the search gave up (*gave_up set: over 8 free keys or 65536
 * combinations, or out of memory; gave_up may be NULL). `fixed`
 * (may be NULL) are labels every candidate carries unchanged (kubernetes.io/metadata.name of a
 * namespace): they are in the result and never varied. Each answer is confirmed with
 * selector_matches(), so a witness is never wrong; it may be missing.
 */
json_t *selector_witness(const struct selector *s, const json_t *fixed, bool *gave_up);

#endif
