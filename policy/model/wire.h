#ifndef EGRESSGUARD_WIRE_H
#define EGRESSGUARD_WIRE_H

/*
 * What the Kubernetes API answers to a LIST and sends on a WATCH, turned into model items
 * (https://kubernetes.io/docs/reference/using-api/api-concepts/, "Efficient detection of
 * changes", "Retrieving large results sets in chunks", "Watch bookmarks"):
 *   - a LIST page is a `<Kind>List` with metadata.resourceVersion (where a watch starts),
 *     metadata.continue (the next page, absent on the last) and items without kind/apiVersion;
 *   - a WATCH is a stream of JSON documents, one per line: {"type": "ADDED" | "MODIFIED" |
 *     "DELETED" | "BOOKMARK" | "ERROR", "object": ...}. A BOOKMARK carries only a newer
 *     metadata.resourceVersion; an ERROR carries a Status, code 410 (Gone) when the requested
 *     resourceVersion is too old and the client must list again.
 * These bytes come from the network: everything is checked (types, kinds, sizes), and anything
 * unexpected is an error for the caller to act on (restart the watch, relist), never a crash or
 * a silent change to the model. Pure: no I/O.
 */

#include <stdbool.h>
#include <stddef.h>

#include "policy/base/buf.h"
#include "policy/base/err.h"
#include "policy/model/item.h"
#include "policy/model/kinds.h"

#define WIRE_MAX_LINE ((size_t)16 * 1024 * 1024) /* one watch event; bigger is refused */

struct wire_page {
    struct model_item **items; /* owned references */
    size_t n;
    char *rv;              /* the list's resourceVersion (owned) */
    char *cont;            /* the continue token, NULL on the last page (owned) */
    size_t skipped;        /* items the model could not take (no name, ...) */
    struct err first_skip; /* why the first of them was skipped */
};

void wire_page_init(struct wire_page *p);
void wire_page_release(struct wire_page *p);

/* Parses one LIST page of kind k. 0, or -1 with e set (not JSON, not a list, no resourceVersion).
 */
int wire_list(const char *data, size_t len, enum model_kind k, struct wire_page *out,
              struct err *e);

/* The same for a page already parsed (borrowed). */
int wire_list_json(const json_t *root, enum model_kind k, struct wire_page *out, struct err *e);

enum wire_type { WIRE_ADDED, WIRE_MODIFIED, WIRE_DELETED, WIRE_BOOKMARK, WIRE_ERROR };

struct wire_event {
    enum wire_type type;
    struct model_item *item; /* ADDED, MODIFIED, DELETED (its last state): owned reference */
    char *rv;                /* the object's resourceVersion; not for ERROR (owned) */
    long code;               /* ERROR: the Status code (410: resourceVersion too old), 0 if none */
    char *message;           /* ERROR: the Status message, at most 200 bytes (owned) */
};

void wire_event_init(struct wire_event *ev);
void wire_event_release(struct wire_event *ev);

/* Parses one watch line of kind k. 0, or -1 with e set. */
int wire_event(const char *line, size_t len, enum model_kind k, struct wire_event *ev,
               struct err *e);

/*
 * Cuts a watch stream into lines: feed each chunk as it arrives; on_line is called for every
 * complete non-empty line (without its newline) and may stop the stream by returning -1.
 * A line over WIRE_MAX_LINE fails the stream. Returns 0, or -1 (on_line's or e set).
 */
struct wire_stream {
    struct buf pending; /* an incomplete last line */
};

typedef int (*wire_line_fn)(void *cls, const char *line, size_t len, struct err *e);

void wire_stream_init(struct wire_stream *s);
void wire_stream_release(struct wire_stream *s);
int wire_stream_feed(struct wire_stream *s, const char *data, size_t len, wire_line_fn on_line,
                     void *cls, struct err *e);

#endif
