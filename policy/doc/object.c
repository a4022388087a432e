#include "policy/doc/object.h"

#include <string.h>

static const char *str_or_empty(const json_t *j)
{
    const char *s = json_string_value(j);
    return s ? s : "";
}

void object_init(struct object *o, json_t *json, const struct doc *doc)
{
    json_t *meta = json_object_get(json, "metadata");

    memset(o, 0, sizeof(*o));
    o->json = json;
    o->doc = doc;
    o->file = doc ? doc_file(doc) : "";
    o->api_version = str_or_empty(json_object_get(json, "apiVersion"));
    o->kind = str_or_empty(json_object_get(json, "kind"));
    o->ns = str_or_empty(json_object_get(meta, "namespace"));
    o->name = str_or_empty(json_object_get(meta, "name"));
    o->uid = str_or_empty(json_object_get(meta, "uid"));
    if (doc) {
        int line, col;
        /* Whole documents (and List items, which are documents of their own when streamed)
         * start where their doc does: no lookup. */
        if (json == doc_root(doc))
            o->line = doc_line(doc);
        else
            o->line = doc_pos(doc, json, &line, &col) ? line : doc_line(doc);
    }
}

void object_group(const struct object *o, char *buf, size_t size)
{
    const char *slash = strchr(o->api_version, '/');
    size_t n = slash ? (size_t)(slash - o->api_version) : 0;

    if (n >= size)
        n = size - 1;
    memcpy(buf, o->api_version, n);
    buf[n] = '\0';
}
