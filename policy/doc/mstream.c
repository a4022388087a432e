#include "policy/doc/mstream.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "policy/base/room.h"
#include "policy/doc/pulumi.h"

#define MAX_DIR_DEPTH 32 /* directory recursion; also stops symlink loops */

/* An item of a List held until the List's own kind or apiVersion is known. */
struct held {
    struct doc *item;
    size_t seq;
};

struct manifest_stream {
    const struct manifest_sink *sink;
    void *cls;
    char **names; /* interned file names */
    size_t n_names, a_names;
    FILE *spool;  /* standard input, copied on first reading */
    size_t seq;   /* the next object's number */
    bool failed;  /* the sink said stop (or memory ran out) */

    /* The file being read: its first number, and its errors until it is finished. */
    size_t file_seq;
    struct err *errs;
    size_t n_errs, a_errs;

    /* The document being read: its first number, whether its items streamed, where its
     * items' errors start in errs (they stand only if it is a List), its held items. */
    size_t doc_seq, doc_errs;
    bool items;
    struct held *held;
    size_t n_held, a_held;

    /*
     * The numbers each document gave its objects, recorded on the first reading (in document
     * order over all files), so that a replay can pass over the documents the sink does not
     * want without building them. A file that failed to parse took its numbers back: then
     * nothing is passed over.
     */
    struct span {
        const char *file;     /* interned */
        size_t from, to;      /* [from, to) */
        struct doc_start at;  /* where it starts in its file */
        bool first;           /* the first document of a reading of its file */
    } *spans;
    size_t n_spans, a_spans;
    size_t doc_ord;  /* documents begun in this reading */
    bool span_open;  /* spans[n_spans - 1].to is not known yet */
    bool replaying;  /* manifest_stream_replay(): no recording, passing over */
    bool spans_bad;  /* out of memory, or a file took its numbers back */
    const char *file; /* the file being read */
    bool file_first;  /* no document of this reading of it begun yet */
};

struct manifest_stream *manifest_stream_new(const struct manifest_sink *sink, void *cls)
{
    struct manifest_stream *s = calloc(1, sizeof(*s));

    if (s) {
        s->sink = sink;
        s->cls = cls;
    }
    return s;
}

static void drop_held(struct manifest_stream *s)
{
    for (size_t i = 0; i < s->n_held; i++)
        doc_free(s->held[i].item);
    s->n_held = 0;
}

void manifest_stream_free(struct manifest_stream *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_names; i++)
        free(s->names[i]);
    free(s->names);
    if (s->spool)
        fclose(s->spool);
    drop_held(s);
    free(s->held);
    free(s->errs);
    free(s->spans);
    free(s);
}

void manifest_stream_number_from(struct manifest_stream *s, size_t n)
{
    s->seq = n;
}

void manifest_stream_replay(struct manifest_stream *s)
{
    s->seq = 0;
    s->doc_ord = 0;
    s->replaying = true;
}

/* The document being recorded ends here. */
static void close_span(struct manifest_stream *s)
{
    if (s->span_open)
        s->spans[s->n_spans - 1].to = s->seq;
    s->span_open = false;
}

/*
 * doc_sink.skip. First reading: a document starts, numbered from here. Replay: pass over the
 * document when it was the same one (file, first number) and the sink wants none of its numbers.
 */
static bool on_begin(void *cls, const struct doc_start *at)
{
    struct manifest_stream *s = cls;
    size_t k = s->doc_ord++;
    const struct span *sp;

    if (!s->replaying) {
        bool first = s->file_first;

        s->file_first = false;
        close_span(s);
        if (s->spans_bad ||
            room_for_one((void **)&s->spans, s->n_spans, &s->a_spans, sizeof(*s->spans)) < 0) {
            s->spans_bad = true;
            return false;
        }
        s->spans[s->n_spans++] = (struct span){s->file, s->seq, s->seq, *at, first};
        s->span_open = true;
        return false;
    }
    if (s->spans_bad || k >= s->n_spans || !s->sink->wants)
        return false;
    sp = &s->spans[k];
    if (sp->file != s->file || sp->from != s->seq || s->sink->wants(s->cls, sp->from, sp->to))
        return false;
    s->seq = sp->to;
    return true;
}

const char *manifest_stream_intern(struct manifest_stream *s, const char *name)
{
    char *copy;

    for (size_t i = 0; i < s->n_names; i++)
        if (!strcmp(s->names[i], name))
            return s->names[i];
    if (room_for_one((void **)&s->names, s->n_names, &s->a_names, sizeof(*s->names)) < 0 ||
        !(copy = strdup(name)))
        return NULL;
    s->names[s->n_names++] = copy;
    return copy;
}

/* An error of the file being read, handed over when the file is finished. */
static int record(struct manifest_stream *s, const struct err *e)
{
    if (room_for_one((void **)&s->errs, s->n_errs, &s->a_errs, sizeof(*s->errs)) < 0)
        return -1;
    s->errs[s->n_errs++] = *e;
    return 0;
}

static int record_at(struct manifest_stream *s, const struct doc *d, const json_t *node,
                     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int record_at(struct manifest_stream *s, const struct doc *d, const json_t *node,
                     const char *fmt, ...)
{
    struct err e = {0};
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(e.msg, sizeof(e.msg), fmt, ap);
    va_end(ap);
    doc_err_at(d, node, &e);
    return record(s, &e);
}

/* Hands one object of d over; *keep tells whether the sink wants d kept. */
static int hand_one(struct manifest_stream *s, struct doc *d, json_t *json, const char *source,
                    size_t seq, bool *keep)
{
    struct object obj;
    bool k = false;
    int rc;

    object_init(&obj, json, d);
    obj.source = source;
    rc = s->sink->object(s->cls, seq, &obj, &k);
    *keep = *keep || k;
    if (rc < 0)
        s->failed = true;
    return rc;
}

/* The doc of objects handed from seq on: to the sink when it asked for it, else freed. */
static int settle(struct manifest_stream *s, struct doc *d, bool keep, size_t seq)
{
    if (!keep) {
        doc_free(d);
        return 0;
    }
    if (s->sink->adopt(s->cls, d, seq) < 0) {
        s->failed = true;
        return -1;
    }
    return 0;
}

/* Hands the one object of a doc over. */
static int hand(struct manifest_stream *s, struct doc *d, json_t *json, size_t seq)
{
    bool keep = false;
    int rc = hand_one(s, d, json, NULL, seq, &keep);

    return settle(s, d, keep, seq) < 0 ? -1 : rc;
}

/* A Pulumi file: each Kubernetes resource an object that remembers its URN. */
struct pulumi_ctx {
    struct manifest_stream *s;
    struct doc *d;
    bool keep;
};

static int pulumi_object(void *cls, json_t *obj, const char *urn)
{
    struct pulumi_ctx *c = cls;

    return hand_one(c->s, c->d, obj, urn, c->s->seq++, &c->keep);
}

static int pulumi_problem(void *cls, const json_t *node, const char *msg)
{
    struct pulumi_ctx *c = cls;

    return record_at(c->s, c->d, node, "%s", msg);
}

static int retract(struct manifest_stream *s, size_t seq)
{
    if (s->seq > seq && s->sink->retract(s->cls, seq) < 0) {
        s->failed = true;
        return -1;
    }
    s->seq = seq;
    return 0;
}

static const char *str_or_null(const json_t *j)
{
    return json_is_string(j) ? json_string_value(j) : NULL;
}

/*
 * What a typed List gives an item that lacks them: kind (NetworkPolicyList → NetworkPolicy) and
 * apiVersion. 1 when the item is whole, 0 when it has no kind (a `kind: List` item needs its
 * own), -1 on out of memory.
 */
static int inherit(json_t *item, const json_t *list)
{
    const char *k = str_or_null(json_object_get(list, "kind"));
    json_t *api = json_object_get(list, "apiVersion");

    if (!json_is_string(json_object_get(item, "kind"))) {
        size_t n = k ? strlen(k) : 0;

        if (n <= 4 || !strcmp(k, "List"))
            return 0;
        if (json_object_set_new(item, "kind", json_stringn(k, n - 4)) < 0)
            return -1;
    }
    if (!json_is_string(json_object_get(item, "apiVersion")) && json_is_string(api) &&
        json_object_set(item, "apiVersion", api) < 0)
        return -1;
    return 1;
}

/* doc_sink.item: one item of a root mapping's `items` list, as soon as it is complete. */
static int on_item(void *cls, struct doc *item, const struct doc *root)
{
    struct manifest_stream *s = cls;
    json_t *j = doc_root(item), *list = doc_root(root);
    bool whole, has_kind, has_api;
    int r;

    if (!s->items) {
        /* The document's first item: nothing of it was numbered before. */
        s->items = true;
        s->doc_seq = s->seq;
        s->doc_errs = s->n_errs;
    }
    if (!json_is_object(j)) {
        r = record_at(s, item, j, "list item is %s, not a Kubernetes object", doc_type_name(j));
        doc_free(item);
        return r;
    }
    /* Whole already, or made whole by what the List said before its items. */
    has_kind = json_is_string(json_object_get(j, "kind"));
    has_api = json_is_string(json_object_get(j, "apiVersion"));
    whole = has_kind && has_api;
    if (!whole && (has_kind || json_object_get(list, "kind")) &&
        (has_api || json_object_get(list, "apiVersion"))) {
        r = inherit(j, list);
        if (r < 0) {
            doc_free(item);
            return -1;
        }
        whole = r > 0;
    }
    if (!has_kind && json_object_get(list, "kind") && !json_is_string(json_object_get(j, "kind"))) {
        /* The List's kind is known and gives none (kind: List): no need to wait. */
        const char *k = str_or_null(json_object_get(list, "kind"));

        if (!k || strlen(k) <= 4 || !strcmp(k, "List")) {
            r = record_at(s, item, j, "%s", "list item has no kind");
            doc_free(item);
            return r;
        }
    }
    if (whole)
        return hand(s, item, j, s->seq++);
    /* The List's kind or apiVersion comes after its items: hold it (and its number). */
    if (room_for_one((void **)&s->held, s->n_held, &s->a_held, sizeof(*s->held)) < 0) {
        doc_free(item);
        return -1;
    }
    s->held[s->n_held].item = item;
    s->held[s->n_held++].seq = s->seq++;
    return 0;
}

/* The end of a document whose items streamed, when it is no List: take the items back. */
static int not_a_list(struct manifest_stream *s)
{
    drop_held(s);
    s->n_errs = s->doc_errs;
    return retract(s, s->doc_seq);
}

/* doc_sink.doc: a whole document (a List's items already streamed out of it). */
static int on_doc(void *cls, struct doc *d)
{
    struct manifest_stream *s = cls;
    json_t *root = doc_root(d), *kind, *items;
    const char *k;
    size_t n;
    int rc = 0;

    if (!json_is_object(root)) {
        rc = record_at(s, d, root,
                       "not a Kubernetes object: the document is %s, not a mapping with "
                       "apiVersion and kind",
                       doc_type_name(root));
        goto done;
    }
    if (pulumi_detect(root)) {
        struct pulumi_ctx c = {s, d, false};
        struct pulumi_sink ps = {&c, pulumi_object, pulumi_problem};
        size_t first;

        if (s->items && not_a_list(s) < 0)
            goto fail;
        s->items = false;
        first = s->seq;
        rc = pulumi_read(root, &ps);
        return settle(s, d, c.keep, first) < 0 ? -1 : rc;
    }
    kind = json_object_get(root, "kind");
    items = json_object_get(root, "items");
    if (!json_is_string(kind) || !*(k = json_string_value(kind))) {
        if (s->items && not_a_list(s) < 0)
            goto fail;
        rc = record_at(s, d, kind ? kind : root, "%s",
                       kind ? "\"kind\" must be a non-empty string"
                            : "not a Kubernetes object: no \"kind\"");
        goto done;
    }
    n = strlen(k);
    if (n >= 4 && !strcmp(k + n - 4, "List") && items) {
        if (!json_is_array(items) && !json_is_null(items)) {
            rc = record_at(s, d, items, "%s: \"items\" must be a list", k);
            goto done;
        }
        /* The items held for the List's kind or apiVersion, in their places. */
        for (size_t i = 0; i < s->n_held; i++) {
            struct held *h = &s->held[i];
            int r = inherit(doc_root(h->item), root);

            if (r < 0)
                goto fail;
            if (r == 0)
                rc = record_at(s, h->item, doc_root(h->item), "%s", "list item has no kind");
            else
                rc = hand(s, h->item, doc_root(h->item), h->seq);
            if (r == 0)
                doc_free(h->item);
            h->item = NULL;
            if (rc < 0)
                goto fail;
        }
        s->n_held = 0;
        goto done;
    }
    if (s->items && not_a_list(s) < 0)
        goto fail;
    s->items = false;
    return hand(s, d, root, s->seq++);
fail:
    rc = -1;
done:
    drop_held(s);
    doc_free(d);
    s->items = false;
    return rc;
}

/*
 * A replay of file: the documents of its first reading (spans from doc_ord on, when they are
 * its), each read again from where it starts if the sink wants it, passed over unread if not.
 * 1 when done so, 0 when the spans do not allow it (the caller reads the whole file), -1 on
 * out of memory or when the sink says stop.
 */
static int replay_by_seek(struct manifest_stream *s, FILE *fp, const char *file)
{
    struct doc_sink sink = {.doc = on_doc, .item = on_item, .stream_cap = s->sink->keeps_all};
    size_t k = s->doc_ord, end = k;

    if (s->spans_bad || !s->sink->wants || k >= s->n_spans || !s->spans[k].first ||
        s->spans[k].file != file || s->spans[k].from != s->seq)
        return 0;
    do {
        if (s->spans[end].at.offset < 0)
            return 0;
        end++;
    } while (end < s->n_spans && !s->spans[end].first);
    for (; k < end; k++) {
        const struct span *sp = &s->spans[k];
        struct err e = {0};

        s->doc_ord = k + 1;
        s->seq = sp->from;
        if (!s->sink->wants(s->cls, sp->from, sp->to))
            continue;
        s->items = false;
        /* it parsed before: an error now is the file changing underfoot, or memory */
        if (doc_stream_file_at(fp, file, &sp->at, k + 1 < end ? sp[1].at.offset : -1, &sink, s,
                               &e) < 0 &&
            (s->failed || !strcmp(e.msg, "out of memory")))
            return -1;
        drop_held(s);
    }
    s->seq = s->spans[end - 1].to;
    return 1;
}

/* Reads one file's documents (fp), handing over its errors when it is finished. */
static int read_file(struct manifest_stream *s, FILE *fp, const char *data, size_t len,
                     const char *file)
{
    struct doc_sink sink = {.doc = on_doc, .item = on_item, .stream_cap = s->sink->keeps_all,
                            .skip = on_begin};
    struct err e = {0};
    int rc;

    s->file_seq = s->seq;
    s->n_errs = 0;
    s->items = false;
    s->file = file;
    s->file_first = true;
    if (s->replaying && fp) {
        rc = replay_by_seek(s, fp, file);
        if (rc != 0) {
            s->n_errs = 0; /* the first reading told them */
            return rc < 0 ? -1 : 0;
        }
    }
    rc = fp ? doc_stream_file(fp, file, &sink, s, &e) : doc_stream_buffer(data, len, file, &sink,
                                                                           s, &e);
    drop_held(s);
    if (!s->replaying)
        close_span(s);
    if (rc < 0) {
        s->spans_bad = true;
        if (s->failed || !strcmp(e.msg, "out of memory"))
            return -1;
        /* A file that does not parse is one error, as if nothing of it had been read. */
        s->n_errs = 0;
        if (retract(s, s->file_seq) < 0)
            return -1;
        return s->replaying ? 0 : s->sink->error(s->cls, &e);
    }
    for (size_t i = 0; i < s->n_errs && !s->replaying; i++)
        if (s->sink->error(s->cls, &s->errs[i]) < 0)
            return -1;
    s->n_errs = 0;
    return 0;
}

int manifest_stream_read_buffer(struct manifest_stream *s, const char *data, size_t len,
                                const char *name)
{
    const char *file = manifest_stream_intern(s, name);

    return file ? read_file(s, NULL, data, len, file) : -1;
}

/* An error about a path as a whole. */
static int path_error(struct manifest_stream *s, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int path_error(struct manifest_stream *s, const char *path, const char *fmt, ...)
{
    struct err e = {0};
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(e.msg, sizeof(e.msg), fmt, ap);
    va_end(ap);
    err_at(&e, manifest_stream_intern(s, path), 0, 0);
    return s->sink->error(s->cls, &e);
}

/* Standard input, copied aside the first time (it cannot be read twice). */
static int read_stdin(struct manifest_stream *s)
{
    const char *name = manifest_stream_intern(s, "<stdin>");
    char chunk[65536];
    size_t n, total = 0;

    if (!name)
        return -1;
    if (!s->spool) {
        if (!(s->spool = tmpfile()))
            return path_error(s, "<stdin>", "cannot read: %s", strerror(errno));
        /* One byte past the limit is enough for the parser to say the input is too large. */
        while (total <= DOC_MAX_BYTES && (n = fread(chunk, 1, sizeof(chunk), stdin)) > 0) {
            if (fwrite(chunk, 1, n, s->spool) != n)
                return path_error(s, "<stdin>", "cannot read: %s", strerror(errno));
            total += n;
        }
        if (ferror(stdin))
            return path_error(s, "<stdin>", "cannot read: %s", strerror(EIO));
        if (fflush(s->spool) != 0)
            return path_error(s, "<stdin>", "cannot read: %s", strerror(errno));
    }
    rewind(s->spool);
    return read_file(s, s->spool, NULL, 0, name);
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

static int read_path(struct manifest_stream *s, const char *path, int depth, bool top);

static int read_dir(struct manifest_stream *s, const char *path, int depth)
{
    DIR *dir = opendir(path);
    struct dirent *de;
    char **names = NULL;
    size_t n = 0, alloc = 0;
    int rc = 0;

    if (!dir)
        return path_error(s, path, "cannot open directory: %s", strerror(errno));
    while ((de = readdir(dir))) {
        if (de->d_name[0] == '.') /* ., .., and hidden entries such as .git */
            continue;
        if (room_for_one((void **)&names, n, &alloc, sizeof(*names)) < 0 ||
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
                rc = read_path(s, child, depth + 1, false);
                free(child);
            }
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

static int read_path(struct manifest_stream *s, const char *path, int depth, bool top)
{
    struct stat st;
    const char *file;
    FILE *fp;
    int rc;

    if (stat(path, &st) < 0)
        return path_error(s, path, "cannot open: %s", strerror(errno));
    if (S_ISDIR(st.st_mode)) {
        if (depth >= MAX_DIR_DEPTH)
            return path_error(s, path, "directories nested deeper than %d levels (a symlink loop?)",
                              MAX_DIR_DEPTH);
        return read_dir(s, path, depth);
    }
    /* Inside directories only manifest files count; a file named on the command line always does. */
    if (!top && (!S_ISREG(st.st_mode) || !wanted(path)))
        return 0;
    if (!(file = manifest_stream_intern(s, path)))
        return -1;
    if (!(fp = fopen(path, "rb")))
        return path_error(s, path, "cannot open: %s", strerror(errno));
    rc = read_file(s, fp, NULL, 0, file);
    fclose(fp);
    return rc;
}

int manifest_stream_read(struct manifest_stream *s, const char *path)
{
    if (!strcmp(path, "-"))
        return read_stdin(s);
    return read_path(s, path, 0, true);
}
