#include "server/cmd/checkrun.h"

#include <stdlib.h>
#include <string.h>

#include "policy/base/room.h"
#include "policy/cni/netset.h"
#include "policy/cni/readers.h"
#include "policy/config/setdb.h"
#include "policy/decide.h"
#include "policy/doc/mstream.h"
#include "policy/eval/inventory.h"
#include "policy/rules/unknown.h"

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
    bool later;           /* judged in the context of the whole input: decided at the end */
    const char *blind_ns; /* decided without the labels of this namespace (interned), or NULL */
};

/* Something kept with the number of the object it came from, to drop when that is taken back. */
struct kept_doc {
    struct doc *d;
    size_t seq;
};

struct kept_set {
    struct setdb_entry entry;
    size_t seq;
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
    /*
     * What the whole input tells the decisions of network policies and address sets: every
     * policy (compact models, inventory.h), the sets, and the policies that reach sets by
     * reference (netset.h: ctx->policies), their references unresolved.
     */
    struct inventory inv;
    struct kept_set *sets_read;
    size_t n_sets_read, a_sets_read;
    struct setdb *sets;  /* at the end: sets_read, complete */
    struct egress_list reaching;
    size_t *reaching_seq; /* per model of reaching */
    size_t a_reaching_seq;
    struct kept_doc *docs; /* --effective: the documents of network policies, kept whole */
    size_t n_docs, a_docs;
    bool final;   /* the input is read: decisions see all of it */
    bool second;  /* the second pass: decide again only the objects marked */
    bool failed;
};

static const char *arena_copy(struct arena *a, const char *s)
{
    size_t len = strlen(s) + 1;
    char *at;

    if (!a->n || a->used + len > ARENA_CHUNK) {
        size_t size = len > ARENA_CHUNK ? len : ARENA_CHUNK;

        if (room_for_one((void **)&a->chunks, a->n, &a->alloc, sizeof(*a->chunks)) < 0 ||
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
    memset(&r->items[r->alloc], 0, (na - r->alloc) * sizeof(*r->items));
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
    memset(&r->seen[i], 0, sizeof(r->seen[i]));
}

/* Decides object i (obj read now) into items[i]; marks it when its namespace was unknown. */
static int decide(struct check_run *r, size_t i, const struct object *obj)
{
    struct request_ctx ctx = {.operation = "CREATE", .namespaces = r->ns, .now = r->now};
    struct report_item *it = &r->items[i];
    struct err e = {0};

    if (r->final) {
        /* The sets and the policies of the input are what the run knows of them. */
        ctx.sets = r->sets;
        ctx.policies = &r->reaching;
        ctx.context = &r->inv.in;
    }
    verdict_init(&it->v);
    it->failed = decide_object(r->pol, obj, &ctx, &it->v, &e) < 0;
    /* Objects from Pulumi files: values not known before `pulumi up` may be anything. */
    it->failed = unknown_judge(r->pol, obj, &it->v, it->failed, &e) < 0;
    r->why[i] = NULL;
    if (it->failed) {
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
        !(o->uid = *obj->uid ? arena_copy(&r->names, obj->uid) : "") ||
        !(o->source = obj->source && *obj->source ? arena_copy(&r->names, obj->source) : ""))
        return -1;
    return 0;
}

/* Moves the models of from to the end of to (from is left empty). */
static int move_models(struct egress_list *to, struct egress_list *from)
{
    for (size_t i = 0; i < from->n; i++) {
        struct egress_model *m = egress_list_add(to);

        if (!m)
            return -1;
        *m = from->models[i];
        egress_model_init(&from->models[i]);
    }
    egress_list_release(from);
    return 0;
}

static bool reaches_sets(const struct egress_model *m)
{
    for (size_t i = 0; i < m->n_rules; i++)
        for (size_t k = 0; k < m->rules[i].n_peers; k++)
            if (m->rules[i].peers[k].setref)
                return true;
    return false;
}

/*
 * A network policy or an address set: what it tells the others is kept now (inventory, sets,
 * the policies that reach sets); it is decided once the whole input is known.
 */
static int remember(struct check_run *r, size_t seq, const struct object *obj, bool *keep)
{
    struct err e = {0};

    r->seen[seq].later = true;
    verdict_init(&r->items[seq].v);
    r->items[seq].failed = false;
    r->why[seq] = NULL;
    if (netset_kind(obj, NULL)) {
        struct kept_set *k;

        if (room_for_one((void **)&r->sets_read, r->n_sets_read, &r->a_sets_read, sizeof(*k)) < 0)
            return -1;
        k = &r->sets_read[r->n_sets_read];
        if (netset_entry(obj, &k->entry, &e) < 0)
            return -1;
        k->seq = seq;
        r->n_sets_read++;
        return 0;
    }
    if (inventory_add(&r->inv, seq, obj, r->effective, &e) < 0)
        return -1;
    *keep = r->effective; /* effective.h positions findings in the policies' documents */
    if (r->inv.n_policies && !r->inv.policies[r->inv.n_policies - 1].error) {
        const struct egress_list *l = &r->inv.lists[r->inv.n_policies - 1];
        struct egress_list again;
        bool reaches = false;
        int rc;

        for (size_t i = 0; i < l->n && !reaches; i++)
            reaches = reaches_sets(&l->models[i]);
        if (!reaches)
            return 0;
        /* read once more: the inventory's models get their references resolved at the end */
        egress_list_init(&again);
        rc = readers_find(obj)(obj, &again, &e);
        if (rc < 0 && strcmp(e.msg, "out of memory"))
            rc = 0; /* as readers_read_all(): what cannot be read reaches nothing */
        for (size_t i = 0; rc == 0 && i < again.n; i++) {
            egress_model_detach(&again.models[i], false);
            if (room_for_one((void **)&r->reaching_seq, r->reaching.n + i, &r->a_reaching_seq,
                     sizeof(size_t)) < 0)
                rc = -1;
            else
                r->reaching_seq[r->reaching.n + i] = seq;
        }
        if (rc == 0)
            rc = move_models(&r->reaching, &again);
        egress_list_release(&again);
        return rc;
    }
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
        room_for_one((void **)&r->learned, r->n_learned, &r->a_learned, sizeof(*r->learned)) < 0)
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
    struct err e = {0};

    if (r->second) {
        /*
         * Only what waited for the whole input (or for labels) is decided now. The input replays
         * as it did, taking back what it took back then, so a number may first go to an object
         * that will be taken back: only the object the number ended with counts.
         */
        if (seq >= r->n || !r->seen[seq].filled ||
            (!r->seen[seq].later && !r->seen[seq].blind_ns) || !same_object(&r->objs[seq], obj))
            return 0;
        verdict_release(&r->items[seq].v);
        free(r->why[seq]);
        if (decide(r, seq, obj) < 0)
            goto oom;
        r->seen[seq].later = false;
        r->seen[seq].blind_ns = NULL;
        return 0;
    }
    if (reserve(r, seq) < 0)
        goto oom;
    forget(r, seq);
    if (learn(r, seq, obj) < 0 || keep_identity(r, seq, obj) < 0)
        goto oom;
    r->seen[seq].filled = true;
    if (seq >= r->n)
        r->n = seq + 1;
    if (inventory_is_policy(obj) || netset_kind(obj, NULL)) {
        if (remember(r, seq, obj, keep) < 0)
            goto oom;
        return 0;
    }
    /* --effective: workloads and the namespaces objects name */
    if ((r->effective && inventory_add(&r->inv, seq, obj, false, &e) < 0) || decide(r, seq, obj) < 0)
        goto oom;
    return 0;
oom:
    r->failed = true;
    return -1;
}

static int on_adopt(void *cls, struct doc *d, size_t seq)
{
    struct check_run *r = cls;

    if (room_for_one((void **)&r->docs, r->n_docs, &r->a_docs, sizeof(*r->docs)) < 0) {
        doc_free(d);
        r->failed = true;
        return -1;
    }
    r->docs[r->n_docs].d = d;
    r->docs[r->n_docs++].seq = seq;
    return 0;
}

static int on_retract(void *cls, size_t seq)
{
    struct check_run *r = cls;
    size_t i, w;

    if (r->second)
        return 0;
    for (i = seq; i < r->n; i++)
        forget(r, i);
    if (seq < r->n)
        r->n = seq;
    inventory_drop_from(&r->inv, seq);
    for (i = w = 0; i < r->n_sets_read; i++)
        if (r->sets_read[i].seq >= seq)
            setdb_entry_release(&r->sets_read[i].entry);
        else
            r->sets_read[w++] = r->sets_read[i];
    r->n_sets_read = w;
    for (i = w = 0; i < r->reaching.n; i++)
        if (r->reaching_seq[i] >= seq) {
            egress_model_release(&r->reaching.models[i]);
        } else {
            r->reaching.models[w] = r->reaching.models[i];
            r->reaching_seq[w++] = r->reaching_seq[i];
        }
    r->reaching.n = w;
    for (i = w = 0; i < r->n_docs; i++)
        if (r->docs[i].seq >= seq)
            doc_free(r->docs[i].d);
        else
            r->docs[w++] = r->docs[i];
    r->n_docs = w;
    /* Labels learned from objects taken back were never known. */
    for (i = w = 0; i < r->n_learned; i++) {
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
    if (room_for_one((void **)&r->errs, r->n_errs, &r->a_errs, sizeof(*r->errs)) < 0) {
        r->failed = true;
        return -1;
    }
    r->errs[r->n_errs++] = *e;
    return 0;
}

static const struct manifest_sink sink = {.object = on_object,
                                          .adopt = on_adopt,
                                          .retract = on_retract,
                                          .error = on_error,
                                          .keeps_all = false};

struct check_run *check_run_new(const struct policy *pol, struct nsdb *ns, bool effective,
                                int64_t now)
{
    struct check_run *r = calloc(1, sizeof(*r));
    struct err e = {0};

    if (!r)
        return NULL;
    r->pol = pol;
    r->ns = ns;
    r->now = now;
    r->effective = effective;
    egress_list_init(&r->reaching);
    if (inventory_begin(&r->inv, effective, &e) < 0 || !(r->s = manifest_stream_new(&sink, r))) {
        check_run_free(r);
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
    inventory_release(&r->inv);
    for (size_t i = 0; i < r->n_sets_read; i++)
        setdb_entry_release(&r->sets_read[i].entry);
    free(r->sets_read);
    setdb_free(r->sets);
    egress_list_release(&r->reaching);
    free(r->reaching_seq);
    for (size_t i = 0; i < r->n_docs; i++)
        doc_free(r->docs[i].d);
    free(r->docs);
    manifest_stream_free(r->s);
    free(r);
}

int check_run_read(struct check_run *r, const char *path)
{
    char *copy = strdup(path);

    if (!copy || room_for_one((void **)&r->paths, r->n_paths, &r->a_paths, sizeof(*r->paths)) < 0) {
        free(copy);
        return -1;
    }
    r->paths[r->n_paths++] = copy;
    return manifest_stream_read(r->s, path) < 0 || r->failed ? -1 : 0;
}

int check_run_finish(struct check_run *r, struct effective_result *eff, struct err *e)
{
    bool again = false;

    /*
     * The input is taken as the whole cluster being judged: its sets are all there are, and a
     * selector that reaches none of them reaches none (README: "How a network policy is judged").
     */
    if (!(r->sets = setdb_new()))
        return err_set(e, "out of memory");
    for (size_t i = 0; i < r->n_sets_read; i++)
        if (setdb_add(r->sets, &r->sets_read[i].entry) < 0)
            return err_set(e, "out of memory");
    r->n_sets_read = 0; /* taken by the store */
    setdb_set_complete(r->sets, true);
    if (inventory_end(&r->inv, r->ns, r->sets, e) < 0)
        return -1;
    r->final = true;
    for (size_t i = 0; i < r->n; i++) {
        struct seen *s = &r->seen[i];

        if (s->filled && s->blind_ns && !nsdb_labels(r->ns, s->blind_ns))
            s->blind_ns = NULL; /* still unknown: the verdict stands */
        again = again || (s->filled && (s->later || s->blind_ns));
    }
    if (again) {
        /* What waited for the whole input, or for labels read later: the input once more. */
        r->second = true;
        manifest_stream_number_from(r->s, 0);
        for (size_t i = 0; i < r->n_paths; i++)
            if (manifest_stream_read(r->s, r->paths[i]) < 0 || r->failed)
                return err_set(e, "out of memory");
        r->second = false;
    }
    if (r->effective && effective_inventory(r->pol, &r->inv, r->ns, eff, e) < 0)
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
