#include "policy/doc/member.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Appends len bytes of s at buf[*n], as many as fit before the NUL of a size-byte buffer. */
static void put(char *buf, size_t size, size_t *n, const char *s, size_t len)
{
    if (*n + len >= size)
        len = size - 1 - *n;
    memcpy(buf + *n, s, len);
    *n += len;
}

/*
 * Rule modules format a path for every member they read (findings are rare, reads are not), so
 * the two conversions paths use, %s and %zu, are done here without vsnprintf's machinery, which
 * cost a tenth of deciding a Pod. Any other conversion goes to vsnprintf.
 */
void member_path(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap, again;
    size_t n = 0;

    if (!size)
        return;
    va_start(ap, fmt);
    va_copy(again, ap);
    for (const char *f = fmt; *f && n < size - 1; f++) {
        if (*f != '%') {
            const char *pct = strchr(f, '%');
            size_t run = pct ? (size_t)(pct - f) : strlen(f);

            put(buf, size, &n, f, run);
            f += run - 1;
        } else if (f[1] == 's') {
            const char *s = va_arg(ap, const char *);

            if (!s)
                s = "(null)";
            put(buf, size, &n, s, strlen(s));
            f++;
        } else if (f[1] == 'z' && f[2] == 'u') {
            char digits[24], *d = digits + sizeof(digits);
            size_t v = va_arg(ap, size_t);

            do
                *--d = (char)('0' + v % 10);
            while ((v /= 10) != 0);
            put(buf, size, &n, d, (size_t)(digits + sizeof(digits) - d));
            f += 2;
        } else if (f[1] == '%') {
            put(buf, size, &n, "%", 1);
            f++;
        } else {
            if (vsnprintf(buf, size, fmt, again) < 0)
                buf[0] = '\0';
            va_end(again);
            va_end(ap);
            return;
        }
    }
    buf[n] = '\0';
    va_end(again);
    va_end(ap);
}

/* A JSON string as jansson writes it (JSON_COMPACT, no JSON_ENSURE_ASCII). */
static void json_text_string(const char *s, size_t len, struct buf *out)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t run = 0;

    buf_add(out, "\"", 1);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[6] = {'\\', 'u', '0', '0', 0, 0};
        size_t n = 2;

        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        buf_add(out, s + run, i - run);
        run = i + 1;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            n = 6;
        }
        buf_add(out, esc, n);
    }
    buf_add(out, s + run, len - run);
    buf_add(out, "\"", 1);
}

static int cmp_keys(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int member_json_text(const json_t *j, struct buf *out)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT: {
        const char *small[16], **keys = small, *k;
        size_t n = json_object_size(j), i = 0;
        json_t *v;

        if (n > 16 && !(keys = malloc(n * sizeof(*keys)))) {
            out->failed = true;
            return -1;
        }
        json_object_foreach((json_t *)j, k, v) keys[i++] = k;
        qsort(keys, n, sizeof(*keys), cmp_keys);
        buf_add(out, "{", 1);
        for (i = 0; i < n; i++) {
            if (i)
                buf_add(out, ",", 1);
            json_text_string(keys[i], strlen(keys[i]), out);
            buf_add(out, ":", 1);
            member_json_text(json_object_get(j, keys[i]), out);
        }
        buf_add(out, "}", 1);
        if (keys != small)
            free(keys);
        break;
    }
    case JSON_ARRAY:
        buf_add(out, "[", 1);
        for (size_t i = 0; i < json_array_size(j); i++) {
            if (i)
                buf_add(out, ",", 1);
            member_json_text(json_array_get(j, i), out);
        }
        buf_add(out, "]", 1);
        break;
    case JSON_STRING:
        json_text_string(json_string_value(j), json_string_length(j), out);
        break;
    default: {
        /* Numbers, booleans, null: rare in what readers quote; jansson's own text. */
        char *t = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);

        if (!t) {
            out->failed = true;
            return -1;
        }
        buf_puts(out, t);
        free(t);
    }
    }
    return out->failed ? -1 : 0;
}
