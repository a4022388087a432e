#include "server/output/yamlemit.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "policy/base/err.h"

#define MAX_DEPTH 64

/* A plain scalar that YAML 1.1 or 1.2 resolves to a non-string: it must be quoted. */
static bool ambiguous(const char *s)
{
    static const char *const words[] = {"true", "false", "yes", "no", "on", "off", "y", "n",
                                        "null", "~", ".inf", "-.inf", "+.inf", ".nan"};

    if (!*s || strchr("0123456789-+.", *s))
        return true;
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (!strcasecmp(s, words[i]))
            return true;
    return false;
}

static int emit(yaml_emitter_t *em, yaml_event_t *ev, struct err *e)
{
    if (!yaml_emitter_emit(em, ev))
        return err_set(e, "cannot write YAML: %s", em->problem ? em->problem : "output error");
    return 0;
}

static int scalar(yaml_emitter_t *em, const char *text, bool quote, struct err *e)
{
    yaml_event_t ev;

    yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)text, (int)strlen(text), 1, 1,
                                 quote ? YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_ANY_SCALAR_STYLE);
    return emit(em, &ev, e);
}

static int value(yaml_emitter_t *em, const json_t *v, int depth, struct err *e)
{
    yaml_event_t ev;
    char num[64];

    if (depth > MAX_DEPTH)
        return err_set(e, "cannot write YAML: nested deeper than %d", MAX_DEPTH);
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *key;
        json_t *item;

        yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
        if (emit(em, &ev, e) < 0)
            return -1;
        json_object_foreach((json_t *)v, key, item) {
            if (scalar(em, key, ambiguous(key), e) < 0 || value(em, item, depth + 1, e) < 0)
                return -1;
        }
        yaml_mapping_end_event_initialize(&ev);
        return emit(em, &ev, e);
    }
    case JSON_ARRAY: {
        size_t i;
        json_t *item;

        yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE);
        if (emit(em, &ev, e) < 0)
            return -1;
        json_array_foreach(v, i, item) {
            if (value(em, item, depth + 1, e) < 0)
                return -1;
        }
        yaml_sequence_end_event_initialize(&ev);
        return emit(em, &ev, e);
    }
    case JSON_STRING:
        return scalar(em, json_string_value(v), ambiguous(json_string_value(v)), e);
    case JSON_INTEGER:
        snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return scalar(em, num, false, e);
    case JSON_REAL:
        snprintf(num, sizeof(num), "%.17g", json_real_value(v));
        return scalar(em, num, false, e);
    case JSON_TRUE:
        return scalar(em, "true", false, e);
    case JSON_FALSE:
        return scalar(em, "false", false, e);
    case JSON_NULL:
    default:
        return scalar(em, "null", false, e);
    }
}

int yamlemit_docs(FILE *out, const json_t *docs, struct err *e)
{
    yaml_emitter_t em;
    yaml_event_t ev;
    size_t i;
    json_t *doc;
    int rc = -1;

    if (!json_is_array(docs))
        return err_set(e, "cannot write YAML: not a list of documents");
    if (!yaml_emitter_initialize(&em))
        return err_set(e, "out of memory");
    yaml_emitter_set_output_file(&em, out);
    yaml_emitter_set_unicode(&em, 1);
    yaml_emitter_set_width(&em, -1); /* never fold long values such as a caBundle */
    yaml_emitter_set_indent(&em, 2);
    yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
    if (emit(&em, &ev, e) < 0)
        goto out;
    json_array_foreach(docs, i, doc) {
        yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 0);
        if (emit(&em, &ev, e) < 0 || value(&em, doc, 0, e) < 0)
            goto out;
        yaml_document_end_event_initialize(&ev, 1);
        if (emit(&em, &ev, e) < 0)
            goto out;
    }
    yaml_stream_end_event_initialize(&ev);
    if (emit(&em, &ev, e) < 0)
        goto out;
    if (!yaml_emitter_flush(&em)) {
        err_set(e, "cannot write YAML: output error");
        goto out;
    }
    rc = 0;
out:
    yaml_emitter_delete(&em);
    return rc;
}
