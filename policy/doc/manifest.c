#include "policy/doc/manifest.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "policy/doc/pulumi.h"

#define MAX_DIR_DEPTH 32 /* directory recursion; also stops symlink loops */

struct manifest {
    struct doc **docs;
    size_t n_docs, a_docs;
    struct object *objs;
    size_t n_objs, a_objs;
    struct err *errs;
    size_t n_errs, a_errs;
    char **names; /* file names that objects and errors borrow */
    size_t n_names, a_names;
};

/* Grows a manifest array by one slot; the caller writes it. */
static int grow(void **arr, size_t *n, size_t *alloc, size_t size)
{
    if (*n == *alloc) {
        size_t na = *alloc ? *alloc * 2 : 16;
        void *p = realloc(*arr, na * size);
        if (!p)
            return -1;
        *arr = p;
        *alloc = na;
    }
    return 0;
}

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
    if (doc) {
        int line, col;
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

struct manifest *manifest_new(void)
{
    return calloc(1, sizeof(struct manifest));
}

void manifest_free(struct manifest *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_docs; i++)
        doc_free(m->docs[i]);
    for (size_t i = 0; i < m->n_names; i++)
        free(m->names[i]);
    free(m->docs);
    free(m->objs);
    free(m->errs);
    free(m->names);
    free(m);
}

size_t manifest_n_objects(const struct manifest *m)
{
    return m->n_objs;
}

const struct object *manifest_object(const struct manifest *m, size_t i)
{
    return i < m->n_objs ? &m->objs[i] : NULL;
}

size_t manifest_n_errors(const struct manifest *m)
{
    return m->n_errs;
}

const struct err *manifest_error(const struct manifest *m, size_t i)
{
    return i < m->n_errs ? &m->errs[i] : NULL;
}

static const char *intern(struct manifest *m, const char *name)
{
    char *copy;

    if (grow((void **)&m->names, &m->n_names, &m->a_names, sizeof(*m->names)) < 0)
        return NULL;
    copy = strdup(name);
    if (!copy)
        return NULL;
    m->names[m->n_names++] = copy;
    return copy;
}

static int record(struct manifest *m, const struct err *e)
{
    if (grow((void **)&m->errs, &m->n_errs, &m->a_errs, sizeof(*m->errs)) < 0)
        return -1;
    m->errs[m->n_errs++] = *e;
    return 0;
}

/* Records a problem with `node` of doc d. */
static int record_at(struct manifest *m, const struct doc *d, const json_t *node, const char *fmt,
                     ...) __attribute__((format(printf, 4, 5)));

static int record_at(struct manifest *m, const struct doc *d, const json_t *node, const char *fmt,
                     ...)
{
    struct err e = {0};
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(e.msg, sizeof(e.msg), fmt, ap);
    va_end(ap);
    doc_err_at(d, node, &e);
    return record(m, &e);
}

static int add_object(struct manifest *m, json_t *json, const struct doc *d)
{
    if (grow((void **)&m->objs, &m->n_objs, &m->a_objs, sizeof(*m->objs)) < 0)
        return -1;
    object_init(&m->objs[m->n_objs++], json, d);
    return 0;
}

/* A typed list's items lack kind and apiVersion: NetworkPolicyList → NetworkPolicy. */
static int expand_list(struct manifest *m, json_t *list, const char *kind, const struct doc *d)
{
    json_t *items = json_object_get(list, "items");
    json_t *api = json_object_get(list, "apiVersion");
    size_t i;
    json_t *item;
    char item_kind[256] = "";

    if (!json_is_array(items) && !json_is_null(items) && items)
        return record_at(m, d, items, "%s: \"items\" must be a list", kind);
    if (strcmp(kind, "List") != 0)
        snprintf(item_kind, sizeof(item_kind), "%.*s", (int)(strlen(kind) - 4), kind);
    json_array_foreach(items, i, item) {
        if (!json_is_object(item)) {
            if (record_at(m, d, item, "list item is %s, not a Kubernetes object",
                          doc_type_name(item)) < 0)
                return -1;
            continue;
        }
        if (!json_is_string(json_object_get(item, "kind"))) {
            if (!item_kind[0]) {
                if (record_at(m, d, item, "%s", "list item has no kind") < 0)
                    return -1;
                continue;
            }
            if (json_object_set_new(item, "kind", json_string(item_kind)) < 0)
                return -1;
        }
        if (!json_is_string(json_object_get(item, "apiVersion")) && json_is_string(api) &&
            json_object_set(item, "apiVersion", api) < 0)
            return -1;
        if (add_object(m, item, d) < 0)
            return -1;
    }
    return 0;
}

/* Pulumi's files: each Kubernetes resource an object that remembers its URN. */
struct pulumi_ctx {
    struct manifest *m;
    const struct doc *d;
};

static int pulumi_object(void *cls, json_t *obj, const char *urn)
{
    struct pulumi_ctx *c = cls;

    if (add_object(c->m, obj, c->d) < 0)
        return -1;
    c->m->objs[c->m->n_objs - 1].source = urn;
    return 0;
}

static int pulumi_problem(void *cls, const json_t *node, const char *msg)
{
    struct pulumi_ctx *c = cls;

    return record_at(c->m, c->d, node, "%s", msg);
}

static int add_doc(struct manifest *m, struct doc *d)
{
    json_t *root = doc_root(d);
    json_t *kind;
    const char *k;
    size_t n;

    if (grow((void **)&m->docs, &m->n_docs, &m->a_docs, sizeof(*m->docs)) < 0) {
        doc_free(d);
        return -1;
    }
    m->docs[m->n_docs++] = d;
    if (!json_is_object(root))
        return record_at(m, d, root,
                         "not a Kubernetes object: the document is %s, not a mapping "
                         "with apiVersion and kind",
                         doc_type_name(root));
    if (pulumi_detect(root)) {
        struct pulumi_ctx c = {m, d};
        struct pulumi_sink sink = {&c, pulumi_object, pulumi_problem};
        return pulumi_read(root, &sink);
    }
    kind = json_object_get(root, "kind");
    if (!json_is_string(kind) || !*(k = json_string_value(kind)))
        return record_at(m, d, kind ? kind : root, "%s",
                         kind ? "\"kind\" must be a non-empty string"
                              : "not a Kubernetes object: no \"kind\"");
    n = strlen(k);
    if (n >= 4 && !strcmp(k + n - 4, "List") && json_object_get(root, "items"))
        return expand_list(m, root, k, d);
    return add_object(m, root, d);
}

int manifest_read_buffer(struct manifest *m, const char *data, size_t len, const char *name)
{
    const char *file = intern(m, name);
    struct doc **docs;
    size_t n;
    struct err e = {0};

    if (!file)
        return -1;
    if (doc_parse_stream(data, len, file, &docs, &n, &e) < 0)
        return record(m, &e) < 0 ? -1 : 0;
    for (size_t i = 0; i < n; i++) {
        if (add_doc(m, docs[i]) < 0) {
            for (size_t j = i + 1; j < n; j++)
                doc_free(docs[j]);
            free(docs);
            return -1;
        }
    }
    free(docs);
    return 0;
}

/* Reads all of fp, up to one byte more than DOC_MAX_BYTES (so the parser reports the size). */
static char *slurp(FILE *fp, size_t *len)
{
    size_t alloc = 1 << 16, n = 0;
    char *p = malloc(alloc), *q;

    if (!p)
        return NULL;
    for (;;) {
        size_t got = fread(p + n, 1, alloc - n, fp);
        n += got;
        if (got == 0 || n > DOC_MAX_BYTES)
            break;
        if (n == alloc) {
            alloc *= 2;
            q = realloc(p, alloc);
            if (!q) {
                free(p);
                return NULL;
            }
            p = q;
        }
    }
    if (ferror(fp)) {
        free(p);
        errno = EIO;
        return NULL;
    }
    *len = n;
    return p;
}

static int read_stream(struct manifest *m, FILE *fp, const char *name)
{
    size_t len;
    char *data = slurp(fp, &len);
    int rc;

    if (!data) {
        struct err e = {0};
        const char *file = intern(m, name);
        err_set(&e, "cannot read: %s", strerror(errno));
        err_at(&e, file, 0, 0);
        return record(m, &e);
    }
    rc = manifest_read_buffer(m, data, len, name);
    free(data);
    return rc;
}

static bool wanted(const char *name)
{
    size_t n = strlen(name);

    return (n > 5 && !strcmp(name + n - 5, ".yaml")) || (n > 4 && !strcmp(name + n - 4, ".yml")) ||
           (n > 5 && !strcmp(name + n - 5, ".json"));
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int read_path(struct manifest *m, const char *path, int depth, bool top);

static int read_dir(struct manifest *m, const char *path, int depth)
{
    DIR *dir = opendir(path);
    struct dirent *de;
    char **names = NULL;
    size_t n = 0, alloc = 0;
    int rc = 0;

    if (!dir) {
        struct err e = {0};
        err_set(&e, "cannot open directory: %s", strerror(errno));
        err_at(&e, intern(m, path), 0, 0);
        return record(m, &e);
    }
    while ((de = readdir(dir))) {
        if (de->d_name[0] == '.') /* ., .., and hidden entries such as .git */
            continue;
        if (grow((void **)&names, &n, &alloc, sizeof(*names)) < 0 ||
            !(names[n] = strdup(de->d_name))) {
            rc = -1;
            break;
        }
        n++;
    }
    closedir(dir);
    if (n)
        qsort(names, n, sizeof(*names), cmp_str);
    for (size_t i = 0; i < n; i++) {
        if (rc == 0) {
            size_t len = strlen(path) + strlen(names[i]) + 2;
            char *child = malloc(len);
            if (!child) {
                rc = -1;
            } else {
                snprintf(child, len, "%s%s%s", path, path[strlen(path) - 1] == '/' ? "" : "/",
                         names[i]);
                rc = read_path(m, child, depth + 1, false);
                free(child);
            }
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

static int read_path(struct manifest *m, const char *path, int depth, bool top)
{
    struct stat st;
    FILE *fp;
    int rc;

    if (stat(path, &st) < 0) {
        struct err e = {0};
        err_set(&e, "cannot open: %s", strerror(errno));
        err_at(&e, intern(m, path), 0, 0);
        return record(m, &e);
    }
    if (S_ISDIR(st.st_mode)) {
        if (depth >= MAX_DIR_DEPTH) {
            struct err e = {0};
            err_set(&e, "directories nested deeper than %d levels (a symlink loop?)",
                    MAX_DIR_DEPTH);
            err_at(&e, intern(m, path), 0, 0);
            return record(m, &e);
        }
        return read_dir(m, path, depth);
    }
    /* Inside directories only manifest files count; a file named on the command line always does.
     */
    if (!top && (!S_ISREG(st.st_mode) || !wanted(path)))
        return 0;
    fp = fopen(path, "rb");
    if (!fp) {
        struct err e = {0};
        err_set(&e, "cannot open: %s", strerror(errno));
        err_at(&e, intern(m, path), 0, 0);
        return record(m, &e);
    }
    rc = read_stream(m, fp, path);
    fclose(fp);
    return rc;
}

int manifest_read(struct manifest *m, const char *path)
{
    if (!strcmp(path, "-"))
        return read_stream(m, stdin, "<stdin>");
    return read_path(m, path, 0, true);
}
