#include "policy/model/wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/doc/manifest.h"

void wire_page_init(struct wire_page *p)
{
    memset(p, 0, sizeof(*p));
}

void wire_page_release(struct wire_page *p)
{
    for (size_t i = 0; i < p->n; i++)
        model_item_unref(p->items[i]);
    free(p->items);
    free(p->rv);
    free(p->cont);
    wire_page_init(p);
}

void wire_event_init(struct wire_event *ev)
{
    memset(ev, 0, sizeof(*ev));
}

void wire_event_release(struct wire_event *ev)
{
    model_item_unref(ev->item);
    free(ev->rv);
    free(ev->message);
    wire_event_init(ev);
}

static json_t *parse(const char *data, size_t len, struct err *e)
{
    json_error_t je;
    json_t *j = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);

    if (!j)
        err_set(e, "not JSON: %s (line %d, column %d)", je.text, je.line, je.column);
    else if (!json_is_object(j)) {
        json_decref(j);
        err_set(e, "not a JSON object");
        return NULL;
    }
    return j;
}

/* Does apiVersion (may be NULL or "") name a group kind k is served from? Empty is accepted. */
static bool group_fits(enum model_kind k, const char *api_version)
{
    struct object o = {.api_version = api_version ? api_version : ""};
    const struct model_api *apis;
    size_t n;
    char group[128];

    if (!*o.api_version)
        return true;
    object_group(&o, group, sizeof(group));
    apis = model_apis(&n);
    for (size_t i = 0; i < n; i++)
        if (apis[i].kind == k && !strcmp(apis[i].group, group))
            return true;
    return false;
}

/* The object is of kind k (or does not say): list items omit kind and apiVersion. */
static int check_kind(enum model_kind k, const json_t *obj, struct err *e)
{
    const char *kind = json_string_value(json_object_get(obj, "kind"));
    const char *api = json_string_value(json_object_get(obj, "apiVersion"));
    const struct model_kind_info *info = model_kind_info(k);

    if ((json_object_get(obj, "kind") && !kind) || (kind && strcmp(kind, info->kind)) ||
        (json_object_get(obj, "apiVersion") && !api) || !group_fits(k, api))
        return err_set(e, "an object of kind %s (%s) in a stream of %s", kind ? kind : "?",
                       api ? api : "?", info->kind);
    return 0;
}

static char *meta_string(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(json_object_get(obj, "metadata"), key));

    return s ? strdup(s) : NULL;
}

int wire_list(const char *data, size_t len, enum model_kind k, struct wire_page *out, struct err *e)
{
    json_t *root = parse(data, len, e);
    int rc;

    wire_page_init(out);
    if (!root)
        return -1;
    rc = wire_list_json(root, k, out, e);
    json_decref(root);
    return rc;
}

int wire_list_json(const json_t *root, enum model_kind k, struct wire_page *out, struct err *e)
{
    const struct model_kind_info *info = model_kind_info(k);
    const json_t *items, *it;
    const char *kind;
    char want[80];
    size_t i;
    int rc = -1;

    wire_page_init(out);
    if (!json_is_object(root)) {
        err_set(e, "not a JSON object");
        return -1;
    }
    if (!info) {
        err_set(e, "unknown kind");
        goto out;
    }
    kind = json_string_value(json_object_get(root, "kind"));
    snprintf(want, sizeof(want), "%sList", info->kind);
    items = json_object_get(root, "items");
    if (kind && strcmp(kind, want)) {
        err_set(e, "not a %s: kind %s", want, kind);
        goto out;
    }
    if (items && !json_is_array(items) && !json_is_null(items)) {
        err_set(e, "%s: items is not a list", want);
        goto out;
    }
    if (!(out->rv = meta_string(root, "resourceVersion")) || !*out->rv) {
        err_set(e, "%s without metadata.resourceVersion", want);
        goto out;
    }
    out->cont = meta_string(root, "continue");
    if (out->cont && !*out->cont) {
        free(out->cont);
        out->cont = NULL;
    }
    if (json_array_size(items) &&
        !(out->items = calloc(json_array_size(items), sizeof(*out->items)))) {
        err_set(e, "out of memory");
        goto out;
    }
    json_array_foreach(items, i, it) {
        struct err ie = {0};
        struct model_item *mi = NULL;

        if (check_kind(k, it, &ie) == 0)
            mi = model_item_wire(k, it, json_string_value(json_object_get(root, "apiVersion")),
                                 &ie);
        if (!mi) {
            if (!strcmp(ie.msg, "out of memory")) {
                *e = ie;
                goto out;
            }
            if (!out->skipped++) {
                out->first_skip = ie;
                err_prefix(&out->first_skip, "items[%zu]", i);
            }
            continue;
        }
        out->items[out->n++] = mi;
    }
    rc = 0;
out:
    if (rc < 0)
        wire_page_release(out);
    return rc;
}

int wire_event(const char *line, size_t len, enum model_kind k, struct wire_event *ev,
               struct err *e)
{
    static const char *const types[] = {"ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"};
    json_t *root = parse(line, len, e), *obj;
    const char *type;
    int rc = -1, t = -1;

    wire_event_init(ev);
    if (!root)
        return -1;
    type = json_string_value(json_object_get(root, "type"));
    obj = json_object_get(root, "object");
    for (int i = 0; type && i < 5; i++)
        if (!strcmp(type, types[i]))
            t = i;
    if (t < 0 || !json_is_object(obj)) {
        err_set(e, "not a watch event (type %.40s)", type ? type : "missing");
        goto out;
    }
    ev->type = (enum wire_type)t;
    if (ev->type == WIRE_ERROR) {
        const char *msg = json_string_value(json_object_get(obj, "message"));
        json_t *code = json_object_get(obj, "code");
        ev->code = json_is_integer(code) ? (long)json_integer_value(code) : 0;
        if (!(ev->message = strndup(msg ? msg : "", 200))) {
            err_set(e, "out of memory");
            goto out;
        }
        rc = 0;
        goto out;
    }
    if (check_kind(k, obj, e) < 0)
        goto out;
    if (!(ev->rv = meta_string(obj, "resourceVersion")) || !*ev->rv) {
        err_set(e, "%s event without metadata.resourceVersion", types[t]);
        goto out;
    }
    if (ev->type != WIRE_BOOKMARK && !(ev->item = model_item_wire(k, obj, NULL, e)))
        goto out;
    rc = 0;
out:
    json_decref(root);
    if (rc < 0)
        wire_event_release(ev);
    return rc;
}

void wire_stream_init(struct wire_stream *s)
{
    buf_init(&s->pending, WIRE_MAX_LINE);
}

void wire_stream_release(struct wire_stream *s)
{
    buf_release(&s->pending);
}

int wire_stream_feed(struct wire_stream *s, const char *data, size_t len, wire_line_fn on_line,
                     void *cls, struct err *e)
{
    while (len) {
        const char *nl = memchr(data, '\n', len);
        size_t take = nl ? (size_t)(nl - data) : len;

        if (buf_add(&s->pending, data, take) < 0) {
            buf_reset(&s->pending);
            return err_set(e, "a watch event longer than %zu bytes", WIRE_MAX_LINE);
        }
        if (!nl)
            break;
        data += take + 1;
        len -= take + 1;
        if (s->pending.len) {
            int rc = on_line(cls, s->pending.data, s->pending.len, e);
            /* One huge event must not pin its buffer for the rest of the stream. */
            if (s->pending.alloc > 1024 * 1024) {
                buf_release(&s->pending);
                buf_init(&s->pending, WIRE_MAX_LINE);
            } else {
                buf_reset(&s->pending);
            }
            if (rc < 0)
                return -1;
        }
    }
    return 0;
}
