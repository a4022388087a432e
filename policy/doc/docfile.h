#ifndef EGRESSGUARD_DOCFILE_H
#define EGRESSGUARD_DOCFILE_H

/*
 * Documents streamed from files (doc.h's streaming, with the file read as it is parsed), and one
 * document read again from where it starts.
 */

#include <stdio.h>

#include "policy/doc/doc.h"

/* doc_stream_buffer() from a file, read as it is parsed (DOC_MAX_BYTES counted as it goes). */
int doc_stream_file(FILE *fp, const char *file, const struct doc_sink *sink, void *cls,
                    struct err *e);

/*
 * The one document of fp that starts at `at` (as doc_sink.skip was told while fp was streamed,
 * at->offset known), streamed to sink as doc_stream_file() would, with the same positions; the
 * rest of the file is not read: nothing from `end` on (the next document's start; -1: up to
 * the end of the file). sink->skip is not asked.
 */
int doc_stream_file_at(FILE *fp, const char *file, const struct doc_start *at, long end,
                       const struct doc_sink *sink, void *cls, struct err *e);

#endif
