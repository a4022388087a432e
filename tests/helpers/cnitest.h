#ifndef EGRESSGUARD_TESTS_CNITEST_H
#define EGRESSGUARD_TESTS_CNITEST_H

/* Shared by the CNI reader tests: YAML text in, egress_model_format() text out. */

#include "policy/eval/egress.h"
#include "policy/base/err.h"
#include "policy/doc/manifest.h"

typedef int (*cnitest_reader)(const struct object *obj, struct egress_list *out, struct err *e);

/*
 * Parses `yaml` as the file "t.yaml", reads its first object with rd and returns every model's
 * text, concatenated (malloc()ed, caller frees). NULL with e set (positioned) when reading fails.
 */
char *cnitest_models(cnitest_reader rd, const char *yaml, struct err *e);

/* Fails the test unless rd reads yaml without an error into exactly the models text `want`. */
void cnitest_expect_models(cnitest_reader rd, const char *yaml, const char *want);

/* Fails the test unless rd fails on yaml with exactly this message at this line and column. */
void cnitest_expect_error(cnitest_reader rd, const char *yaml, int line, int col, const char *msg);

#endif
