#ifndef EGRESSGUARD_YAMLEMIT_H
#define EGRESSGUARD_YAMLEMIT_H

/*
 * JSON values written as a YAML stream (block style, one "---" document per value), for the
 * manifests `render` prints. Strings YAML would read as something else (true, 5, null, "") are
 * double-quoted so the YAML reads back as the same JSON.
 */

#include <stdio.h>

#include <jansson.h>

struct err;

/* Writes each element of the array `docs` as one document. Returns 0, or -1 with `e` set. */
int yamlemit_docs(FILE *out, const json_t *docs, struct err *e);

#endif
