#include "server/cmd/checkrun.h"

#include <stdlib.h>
#include <string.h>

#include "policy/decide.h"
#include "policy/doc/mstream.h"

#define ARENA_CHUNK 65536

/* Strings kept for the report: object names, copied into chunks. */
struct arena {
    char **chunks;
    size_t n, alloc, used; /* used: bytes of the last chunk */
};

/* A string table: kinds, apiVersions and namespaces repeat, and are kept once. */
struct interned {
    char **slot; /* open addressing; NULL free */
    size_t cap, n;
};

/* What the run knows of one object it read. */
struct seen {
    bool filled;          /* read (numbers can be skipped, or taken back) */
    const char *blind_ns; /* decided without the labels of this namespace (interned), or NULL */
    struct doc *kept;     /* --effective: a network policy, kept whole */
};

struct check_run {
    const struct policy *pol;
    struct nsdb *ns;
    int64_t now;
    bool effective;
    struct manifest_stream *s;
    struct report_item *items; /* by object number */
    struct object *objs;       /* items[i].obj == &objs[i] once reported */
    struct seen *seen;
    size_t n, alloc;
    struct err *errs; /* input errors, and the reasons of objects that could not be decided */
    size_t n_errs, a_errs;
    struct err **why; /* per item: its reason (index into errs would move with realloc) */
    /* Namespaces learned from Namespace objects, with the number of the object (to forget them
     * when that object is taken back). */
    struct learned {
        const char *ns;
        size_t seq;
    } *learned;
    size_t n_learned, a_learned;
    char **paths; /* what was read, for a second pass */
    size_t n_paths, a_paths;
    struct arena names;
    struct interned strings;
    bool second;  /* the second pass: decide again only the objects marked */
    bool failed;
    int passes;
};

static int grow(void **arr, size_t n, size_t *alloc, size_t size)
{
    if (n == *alloc) {
        size_t na = *alloc ? *alloc * 2 : 64;
        void *p = realloc(*arr, na * size);

        if (!p)
            return -1;
        *arr = p;
        *alloc = na;
    }
    return 0;
}

static const char *arena_copy(struct arena *a, const char *s)
{
    size_t len = strlen(s) + 1;
    char *at;

    if (!a->n || a->used + len > ARENA_CHUNK) {
        size_t size = len > ARENA_CHUNK ? len : ARENA_CHUNK;

        if (grow((void **)&a->chunks, a->n, &a->alloc, sizeof(*a->chunks)) < 0 ||
            !(a->chunks[a->n] = malloc(size)))
            return NULL;
        a->n++;
        a->used = 0;
    }
    at = a->chunks[a->n - 1] + a->used;
    memcpy(at, s, len);
    /* a chunk that took one long string is full */
    a->used = len > ARENA_CHUNK ? ARENA_CHUNK : a->used + len;
    return at;
}

static size_t str_hash(const char *s)
{
    size_t h = 1469598103934665603ULL;

    while (*s)
        h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
    return h;
}

static const char *intern(struct interned *t, const char *s)
{
    size_t i;

    if ((t->n + 1) * 2 > t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        char **slot = calloc(cap, sizeof(*slot));

        if (!slot)
            return NULL;
        for (size_t k = 0; k < t->cap; k++) {
            if (!t->slot[k])
                continue;
            for (i = str_hash(t->slot[k]) & (cap - 1); slot[i]; i = (i + 1) & (cap - 1))
                ;
            slot[i] = t->slot[k];
        }
        free(t->slot);
        t->slot = slot;
        t->cap = cap;
    }
    for (i = str_hash(s) & (t->cap - 1); t->slot[i]; i = (i + 1) & (t->cap - 1))
        if (!strcmp(t->slot[i], s))
            return t->slot[i];
    if (!(t->slot[i] = strdup(s)))
        return NULL;
    t->n++;
    return t->slot[i];
}

/* Makes room for object number seq. */
static int reserve(struct check_run *r, size_t seq)
{
    size_t na = r->alloc ? r->alloc : 64;
    void *p;

    if (seq < r->alloc)
        return 0;
    while (na <= seq)
        na *= 2;
    if (!(p = realloc(r->items, na * sizeof(*r->items))))
        return -1;
    r->items = p;
    if (!(p = realloc(r->objs, na * sizeof(*r->objs))))
        return -1;
    r->objs = p;
    if (!(p = realloc(r->why, na * sizeof(*r->why))))
        return -1;
    r->why = p;
    if (!(p = realloc(r->seen, na * sizeof(*r->seen))))
        return -1;
    r->seen = p;
    memset(&r->seen[r->alloc], 0, (na - r->alloc) * sizeof(*r->seen));
    r->alloc = na;
    return 0;
}

static void forget(struct check_run *r, size_t i)
{
    if (!r->seen[i].filled)
        return;
    verdict_release(&r->items[i].v);
    free(r->why[i]);
    doc_free(r->seen[i].kept);
    memset(&r->seen[i], 0, sizeof(r->seen[i]));
}

/* Decides object i (obj read now) into items[i]; marks it when its namespace was unknown. */
static int decide(struct check_run *r, size_t i, const struct object *obj)
{
    struct request_ctx ctx = {.operation = "CREATE", .namespaces = r->ns, .now = r->now};
    struct report_item *it = &r->items[i];
    struct err e = {0};

    verdict_init(&it->v);
    it->failed = false;
    r->why[i] = NULL;
    if (decide_object(r->pol, obj, &ctx, &it->v, &e) < 0) {
        it->failed = true;
        if (!(r->why[i] = malloc(sizeof(e))))
            return -1;
        *r->why[i] = e;
    }
    r->seen[i].blind_ns = NULL;
    if (decide_uses_namespace_labels(r->pol, obj, &ctx) && !nsdb_labels(r->ns, obj->ns) &&
        !(r->seen[i].blind_ns = intern(&r->strings, obj->ns)))
        return -1;
    return 0;
}

/* Keeps what the report says of obj: its identity, in strings that outlive the input. */
static int keep_identity(struct check_run *r, size_t i, const struct object *obj)
{
    struct object *o = &r->objs[i];

    *o = *obj;
    o->json = NULL;
    o->doc = NULL;
    if (!(o->api_version = intern(&r->strings, obj->api_version)) ||
        !(o->kind = intern(&r->strings, obj->kind)) || !(o->ns = intern(&r->strings, obj->ns)) ||
        !(o->name = arena_copy(&r->names, obj->name)) ||
        !(o->uid = *obj->uid ? arena_copy(&r->names, obj->uid) : ""))
        return -1;
    return 0;
}

/* A Namespace of the input: its labels, unless known already (the first one, or -n, wins). */
static int learn(struct check_run *r, size_t seq, const struct object *obj)
{
    const char *ns;

    if (strcmp(obj->kind, "Namespace") || strcmp(obj->api_version, "v1") || !*obj->name ||
        nsdb_labels(r->ns, obj->name))
        return 0;
    if (!(ns = intern(&r->strings, obj->name)) ||
        nsdb_set(r->ns, ns, json_object_get(json_object_get(obj->json, "metadata"), "labels")) <
            0 ||
        grow((void **)&r->learned, r->n_learned, &r->a_learned, sizeof(*r->learned)) < 0)
        return -1;
    r->learned[r->n_learned].ns = ns;
    r->learned[r->n_learned++].seq = seq;
    return 0;
}

/* Is obj (read again) the object kept as o? Its place in the input says so. */
static bool same_object(const struct object *o, const struct object *obj)
{
    return o->file == obj->file && o->line == obj->line && !strcmp(o->kind, obj->kind) &&
           !strcmp(o->name, obj->name);
}

static int on_object(void *cls, size_t seq, const struct object *obj, bool *keep)
{
    struct check_run *r = cls;

    if (r->second) {
        /*
         * Only what waited for labels is decided again, now that every Namespace is known. The
         * input replays as it did, taking back what it took back then, so a number may first
         * go to an object that will be taken back: only the object the number ended with counts.
         */
        if (seq >= r->n || !r->seen[seq].filled || !r->seen[seq].blind_ns ||
            !same_object(&r->objs[seq], obj))
            return 0;
        verdict_release(&r->items[seq].v);
        free(r->why[seq]);
        if (decide(r, seq, obj) < 0)
            goto oom;
        r->seen[seq].blind_ns = NULL;
        return 0;
    }
    if (reserve(r, seq) < 0)
        goto oom;
    forget(r, seq);
    if (learn(r, seq, obj) < 0 || keep_identity(r, seq, obj) < 0 || decide(r, seq, obj) < 0)
        goto oom;
    r->seen[seq].filled = true;
    if (seq >= r->n)
        r->n = seq + 1;
    if (r->effective && effective_reads(obj)) {
        *keep = true;
        r->seen[seq].kept = (struct doc *)obj->doc;
        r->objs[seq].json = obj->json;
        r->objs[seq].doc = obj->doc;
    }
    return 0;
oom:
    r->failed = true;
    return -1;
}

static int on_retract(void *cls, size_t seq)
{
    struct check_run *r = cls;

    if (r->second)
        return 0;
    for (size_t i = seq; i < r->n; i++)
        forget(r, i);
    if (seq < r->n)
        r->n = seq;
    /* Labels learned from objects taken back were never known. */
    size_t w = 0;
    for (size_t i = 0; i < r->n_learned; i++) {
        if (r->learned[i].seq >= seq)
            nsdb_forget(r->ns, r->learned[i].ns);
        else
            r->learned[w++] = r->learned[i];
    }
    r->n_learned = w;
    return 0;
}

static int on_error(void *cls, const struct err *e)
{
    struct check_run *r = cls;

    if (r->second)
        return 0;
    if (grow((void **)&r->errs, r->n_errs, &r->a_errs, sizeof(*r->errs)) < 0) {
        r->failed = true;
        return -1;
    }
    r->errs[r->n_errs++] = *e;
    return 0;
}

static const struct manifest_sink sink = {on_object, on_retract, on_error, false};

struct check_run *check_run_new(const struct policy *pol, struct nsdb *ns, bool effective,
                                int64_t now)
{
    struct check_run *r = calloc(1, sizeof(*r));

    if (!r)
        return NULL;
    r->pol = pol;
    r->ns = ns;
    r->now = now;
    r->effective = effective;
    r->passes = 1;
    if (!(r->s = manifest_stream_new(&sink, r))) {
        free(r);
        return NULL;
    }
    return r;
}

void check_run_free(struct check_run *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        forget(r, i);
    free(r->items);
    free(r->objs);
    free(r->why);
    free(r->seen);
    free(r->errs);
    free(r->learned);
    for (size_t i = 0; i < r->n_paths; i++)
        free(r->paths[i]);
    free(r->paths);
    for (size_t i = 0; i < r->names.n; i++)
        free(r->names.chunks[i]);
    free(r->names.chunks);
    for (size_t i = 0; i < r->strings.cap; i++)
        free(r->strings.slot[i]);
    free(r->strings.slot);
    manifest_stream_free(r->s);
    free(r);
}

int check_run_read(struct check_run *r, const char *path)
{
    char *copy = strdup(path);

    if (!copy || grow((void **)&r->paths, r->n_paths, &r->a_paths, sizeof(*r->paths)) < 0) {
        free(copy);
        return -1;
    }
    r->paths[r->n_paths++] = copy;
    return manifest_stream_read(r->s, path) < 0 || r->failed ? -1 : 0;
}

/* The effective egress: the network policies kept, and one stand-in per namespace named. */
static int effective(struct check_run *r, struct effective_result *eff, struct err *e)
{
    struct interned named = {0};
    const struct object **objs = NULL;
    struct object *standins = NULL;
    size_t n = 0, k = 0;
    int rc = -1;

    /* The namespaces the input names: objects' own, and Namespace objects'. */
    for (size_t i = 0; i < r->n; i++) {
        const struct object *o = &r->objs[i];
        const char *ns = !strcmp(o->kind, "Namespace") && !strcmp(o->api_version, "v1")
                             ? o->name
                             : o->ns;

        if (r->seen[i].filled && *ns && !intern(&named, ns))
            goto out;
    }
    if (!(objs = calloc(r->n + named.n + 1, sizeof(*objs))) ||
        !(standins = calloc(named.n + 1, sizeof(*standins))))
        goto out;
    for (size_t i = 0; i < r->n; i++)
        if (r->seen[i].filled && r->seen[i].kept)
            objs[n++] = &r->objs[i];
    for (size_t i = 0; i < named.cap; i++) {
        if (!named.slot[i])
            continue;
        standins[k] = (struct object){.file = "", .api_version = "v1", .kind = "Namespace",
                                      .ns = "", .name = named.slot[i]};
        objs[n++] = &standins[k++];
    }
    rc = effective_evaluate(r->pol, objs, n, r->ns, eff, e);
out:
    if (rc < 0 && !e->msg[0])
        err_set(e, "out of memory");
    free(objs);
    free(standins);
    for (size_t i = 0; i < named.cap; i++)
        free(named.slot[i]);
    free(named.slot);
    return rc;
}

int check_run_finish(struct check_run *r, struct effective_result *eff, struct err *e)
{
    bool again = false;

    for (size_t i = 0; i < r->n && !again; i++)
        again = r->seen[i].filled && r->seen[i].blind_ns && nsdb_labels(r->ns, r->seen[i].blind_ns);
    if (again) {
        /* Labels that came after objects that needed them: read the input again for those. */
        r->second = true;
        r->passes = 2;
        for (size_t i = 0; i < r->n; i++)
            if (r->seen[i].blind_ns && !nsdb_labels(r->ns, r->seen[i].blind_ns))
                r->seen[i].blind_ns = NULL; /* still unknown: the verdict stands */
        manifest_stream_number_from(r->s, 0);
        for (size_t i = 0; i < r->n_paths; i++)
            if (manifest_stream_read(r->s, r->paths[i]) < 0 || r->failed)
                return err_set(e, "out of memory");
        r->second = false;
    }
    if (r->effective && effective(r, eff, e) < 0)
        return -1;
    return 0;
}

void check_run_report(struct check_run *r, struct report *out)
{
    size_t w = 0;

    /* Close up the numbers that were skipped or taken back. */
    for (size_t i = 0; i < r->n; i++) {
        if (!r->seen[i].filled)
            continue;
        if (w != i) {
            r->items[w] = r->items[i];
            r->objs[w] = r->objs[i];
            r->why[w] = r->why[i];
            r->seen[w] = r->seen[i];
            memset(&r->seen[i], 0, sizeof(r->seen[i]));
        }
        w++;
    }
    r->n = w;
    for (size_t i = 0; i < r->n; i++) {
        r->items[i].obj = &r->objs[i];
        r->items[i].e = r->why[i];
    }
    out->items = r->items;
    out->n_items = r->n;
    out->input_errors = r->n_errs ? r->errs : NULL;
    out->n_input_errors = r->n_errs;
}

int check_run_passes(const struct check_run *r)
{
    return r->passes;
}
