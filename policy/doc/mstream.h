#ifndef EGRESSGUARD_MSTREAM_H
#define EGRESSGUARD_MSTREAM_H

/*
 * Manifests read as a stream: files, directories and standard input are parsed as they are read
 * (doc.h streaming), and each Kubernetes object is handed to a sink as soon as it is complete,
 * then freed, so reading 100,000 objects holds about one at a time. The items of a List stream
 * one by one too. What is read, and how, is what manifest.h describes; manifest.h's reader is
 * this one with a sink that keeps everything.
 *
 * Streaming means telling the sink things it must sometimes take back:
 *  - An object is numbered `seq` (0, 1, ... in input order; a number may be skipped, never
 *    reused). An item of a typed List that lacks its kind or apiVersion, in a List whose own
 *    kind/apiVersion comes after its items, is held until the List's end, so it may arrive after
 *    objects with higher numbers.
 *  - retract(seq): the objects from seq on were not objects after all (their file turned out not
 *    to parse, which makes the whole file an error as it always was; or a document with a root
 *    `items` list turned out not to be a List, and is one object itself). Numbering goes on from
 *    seq.
 *  - Errors of a file are handed over when the file is finished (or dropped with its objects
 *    when it fails to parse: then only the parse error is).
 *
 * An object whose document turned out not to be a List arrives with an empty `items`: the items
 * were streamed away. No decision reads a root-level `items` of the kinds it evaluates.
 */

#include <stdbool.h>
#include <stddef.h>

#include "policy/base/err.h"
#include "policy/doc/doc.h"
#include "policy/doc/docfile.h"
#include "policy/doc/object.h"

struct manifest_sink {
    /*
     * An object. obj (and its doc, obj->doc) live until the call returns, unless the sink sets
     * *keep: then, once the doc's objects are handed over (one, or a Pulumi file's several),
     * adopt() gives the doc to the sink. A negative return stops the reading (out of memory).
     */
    int (*object)(void *cls, size_t seq, const struct object *obj, bool *keep);
    /* Takes d (free it with doc_free()), which holds the objects handed from seq on. */
    int (*adopt)(void *cls, struct doc *d, size_t seq);
    /* The objects from seq on (and the docs adopted with them) are taken back. */
    int (*retract)(void *cls, size_t seq);
    int (*error)(void *cls, const struct err *e); /* e positioned; the sink copies it */
    bool keeps_all; /* the sink keeps every document: DOC_MAX_NODES then bounds the stream */
    /*
     * Optional, asked on a replay only: does the sink want any of the objects numbered
     * [from, to) (one document's; from == to: it gave none)? false passes the document over
     * unbuilt.
     */
    bool (*wants)(void *cls, size_t from, size_t to);
};

struct manifest_stream;

/* NULL on out of memory. The sink is borrowed. */
struct manifest_stream *manifest_stream_new(const struct manifest_sink *sink, void *cls);
void manifest_stream_free(struct manifest_stream *s);

/*
 * Reads a file, a directory or "-" (standard input, copied aside on first reading so that it
 * can be read again). Input errors go to the sink and do not stop the reading; -1 only when
 * memory runs out (or the sink says stop).
 */
int manifest_stream_read(struct manifest_stream *s, const char *path);
/* Reads bytes as if they were the file `name`. */
int manifest_stream_read_buffer(struct manifest_stream *s, const char *data, size_t len,
                                const char *name);

/*
 * The next object read gets number n. With 0, reading the same paths again hands over the same
 * objects with the same numbers (a second pass over the input).
 */
void manifest_stream_number_from(struct manifest_stream *s, size_t n);

/*
 * Reading the same paths again, after they were read once with this stream: the same objects
 * with the same numbers (from 0), except that a document whose objects the sink's wants()
 * refuses is passed over: not read at all when its file is a file (the wanted documents are
 * read from where they start), else parsed but not built. A document that is not the one read
 * the first time (the input changed, or a file failed to parse) is read in full. Take-backs
 * happen again as they did; errors are not told again (those of paths that cannot be opened
 * this time are).
 */
void manifest_stream_replay(struct manifest_stream *s);

/* A copy of name that lives as long as the stream (objects' `file` strings are such copies). */
const char *manifest_stream_intern(struct manifest_stream *s, const char *name);

#endif
