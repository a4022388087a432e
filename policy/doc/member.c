#include "policy/doc/member.h"

#include <stdarg.h>
#include <stdio.h>

#include "policy/doc/doc.h"

static const char *type_name(enum member_type t)
{
    switch (t) {
    case MEMBER_OBJECT:
        return "an object";
    case MEMBER_ARRAY:
        return "a list";
    case MEMBER_STRING:
        return "a string";
    case MEMBER_BOOL:
        return "a boolean";
    }
    return "?";
}

static bool has_type(const json_t *j, enum member_type t)
{
    switch (t) {
    case MEMBER_OBJECT:
        return json_is_object(j);
    case MEMBER_ARRAY:
        return json_is_array(j);
    case MEMBER_STRING:
        return json_is_string(j);
    case MEMBER_BOOL:
        return json_is_boolean(j);
    }
    return false;
}

int member_check(const struct object *obj, const json_t *parent, const json_t *value,
                 enum member_type type, const char *path, struct err *e)
{
    if (has_type(value, type))
        return 0;
    err_set(e, "%s: must be %s, not %s", path, type_name(type), doc_type_name(value));
    return doc_err_in(obj->doc, parent, value, e);
}

int member_get(const struct object *obj, const json_t *parent, const char *key,
               enum member_type type, const char *path, const json_t **out, struct err *e)
{
    const json_t *v;

    *out = NULL;
    if (!json_is_object(parent))
        return 0;
    v = json_object_get(parent, key);
    if (!v || json_is_null(v))
        return 0;
    if (!has_type(v, type)) {
        int line, col;

        err_set(e, "%s: must be %s, not %s", path, type_name(type), doc_type_name(v));
        if (obj->doc && doc_member_pos(obj->doc, parent, key, 0, &line, &col))
            return err_at(e, doc_file(obj->doc), line, col);
        return doc_err_at(obj->doc, parent, e);
    }
    *out = v;
    return 0;
}

const char *member_label(const json_t *labels, const char *key)
{
    const json_t *v = json_is_object(labels) ? json_object_get(labels, key) : NULL;

    /* Labels are a Go map[string]string: the API server stores a null value as "". */
    if (json_is_null(v))
        return "";
    return json_is_string(v) ? json_string_value(v) : NULL;
}

void member_path(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    if (vsnprintf(buf, size, fmt, ap) < 0 && size > 0)
        buf[0] = '\0';
    va_end(ap);
}
