#ifndef EGRESSGUARD_DOC_H
#define EGRESSGUARD_DOC_H

/*
 * YAML and JSON documents as jansson trees that remember where each node came from.
 *
 * libyaml's event parser builds the json_t tree directly, so every object, array and scalar
 * node gets its line and column, and the hazards of untrusted YAML are refused with a position:
 * duplicate keys, anchors and aliases (no billion laughs), nesting deeper than DOC_MAX_DEPTH,
 * input larger than DOC_MAX_BYTES, Helm/Go templates, and bytes that are not YAML at all.
 * Plain scalars follow the YAML 1.2 core schema (true/false, null/~, integers, floats); every
 * other scalar, quoted or not, is a string (so `on` and `yes` stay strings).
 *
 * A doc owns its tree. Positions are looked up by node pointer; true/false/null are shared
 * jansson singletons, located by their place instead (doc_member_pos, doc_err_in). A doc is read
 * by one thread at a time: the first lookup sorts its positions (building one costs nothing per
 * node beyond an append, and most documents of a large input are never asked).
 */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "policy/base/err.h"

#define DOC_MAX_BYTES (64u << 20) /* one input file or stream */
#define DOC_MAX_DEPTH 100         /* nested mappings and sequences */

struct doc;

/*
 * Parses every document of a YAML (or JSON) stream. `file` is used in positions and must outlive
 * the docs. On success *docs is a malloc()ed array of *n docs (empty documents are skipped) and 0
 * is returned; on error -1 with e positioned, and nothing to free.
 */
int doc_parse_stream(const char *data, size_t len, const char *file, struct doc ***docs, size_t *n,
                     struct err *e);

/*
 * Where a document starts in a file: the line (0-based) of its first token, and the byte offset
 * of that line's start when it is known (every byte before the document is ASCII, so libyaml's
 * character count is a byte count; doc_stream_file only). doc_stream_file_at() (docfile.h) reads
 * the document again from there.
 */
struct doc_start {
    size_t line;
    long offset; /* -1: unknown */
};

/*
 * Streaming: each document is handed to sink->doc as soon as it is complete (the sink takes it;
 * a negative return stops the reading, e "out of memory" unless the sink set it). With
 * sink->item, the `items` list of a document whose root is a mapping streams too: each item is
 * handed over on its own as soon as it is complete, as a doc of its own (its root the item; the
 * sink takes it), and never becomes part of the list, which the document ends up holding empty;
 * `root` is the document being read, with the root keys read so far. Memory then holds one item
 * at a time, and DOC_MAX_NODES applies to each document and each item instead of the stream.
 * On a parse error, -1 with e positioned; what was handed over before stays handed over.
 */
struct doc_sink {
    int (*doc)(void *cls, struct doc *d);
    int (*item)(void *cls, struct doc *item, const struct doc *root);
    bool stream_cap; /* DOC_MAX_NODES over the stream even when items stream (a reader that
                        keeps everything) */
    /*
     * Optional: asked as each document starts (empty ones included, in stream order), with
     * where it starts (at). true passes the document over: libyaml still parses it (a syntax
     * error still fails the stream), but no tree is built, nothing is checked beyond syntax,
     * nothing is handed over.
     */
    bool (*skip)(void *cls, const struct doc_start *at);
};

int doc_stream_buffer(const char *data, size_t len, const char *file, const struct doc_sink *sink,
                      void *cls, struct err *e);
/*
 * For docfile.c only: the builder of doc_stream_buffer() over a libyaml parser whose input the
 * caller set up. doc_too_large(): the error of an input over DOC_MAX_BYTES (-1).
 */
struct yaml_parser_s;
struct doc_run_opts {
    const char *file;
    const char *data;          /* a buffer's bytes (the template sniff), or NULL */
    size_t len;
    const bool *template_seen; /* a file: set once "{{" went by */
    const size_t *first_high;  /* a file: offset of its first non-ASCII byte (doc_start) */
    bool one_doc;              /* stop after the first document */
};
int doc_run(struct yaml_parser_s *parser, const struct doc_run_opts *o,
            const struct doc_sink *sink, void *cls, struct err *e);
int doc_too_large(struct err *e, const char *file, size_t len);

void doc_free(struct doc *d); /* NULL is a no-op */

json_t *doc_root(const struct doc *d);     /* borrowed */
const char *doc_file(const struct doc *d); /* borrowed */
int doc_line(const struct doc *d);         /* where the document's root starts */

/* Position of a node of this doc; false when unknown (singletons, nodes not from this doc). */
bool doc_pos(const struct doc *d, const json_t *node, int *line, int *col);

/* "a mapping", "a list", "a string", "a number", "a boolean" or "null", for messages. */
const char *doc_type_name(const json_t *j);

/* Position of the mapping key that holds node (`key: node`); false for list items and unknowns. */
bool doc_key_pos(const struct doc *d, const json_t *node, int *line, int *col);

/*
 * Position of the value parent[key] (parent a mapping) or parent[index] (a list; key NULL), true,
 * false and null included, which doc_pos() cannot tell apart. false when unknown.
 */
bool doc_member_pos(const struct doc *d, const json_t *parent, const char *key, size_t index,
                    int *line, int *col);

/*
 * doc_err_at() for a value found inside `parent` (a mapping or list): the value's position; for
 * true, false and null, that of the first member of parent holding the same value (callers check
 * members in order, so the first such one is the one that failed); failing that, parent's.
 */
int doc_err_in(const struct doc *d, const json_t *parent, const json_t *value, struct err *e);

/*
 * Adds the position of `node` (or, failing that, the document's) to e, unless e already has
 * one. A true, false or null is found when it occurs only once in the document (doc_err_in()
 * finds it anywhere, given its container). d may be NULL (objects that did not come from a file). Returns -1.
 */
int doc_err_at(const struct doc *d, const json_t *node, struct err *e);

#endif
