#include "server/cmd/checkrun.h"

#include <stdlib.h>
#include <string.h>

#include "policy/base/room.h"
#include "policy/base/strmap.h"
#include "policy/cni/netset.h"
#include "policy/cni/readers.h"
#include "policy/config/setdb.h"
#include "policy/decide.h"
#include "policy/doc/mstream.h"
#include "policy/eval/inventory.h"
#include "policy/model/item.h"
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
    bool again;           /* to decide in the second pass (later, or its labels changed) */
    const char *used_ns;  /* decided with what was known of this namespace's labels (interned) */
    unsigned used_version; /* ... at this version of them (ns_version) */
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
    /*
     * The labels of the Namespace objects read, with the number of the object, so that what a
     * file taken back taught is forgotten (and an earlier Namespace of the same name counts
     * again). The last one of a name wins, as in the cluster model; --namespace-labels win over
     * all of them (pinned).
     */
    struct learned {
        const char *ns; /* interned */
        size_t seq;
        json_t *labels; /* owned: as the model normalizes them (item.h) */
    } *learned;
    size_t n_learned, a_learned;
    struct strmap *pinned;   /* namespaces of --namespace-labels */
    struct strmap *versions; /* namespace -> how many times its labels changed (uintptr_t) */
    bool ns_unknown_allow;
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

/* How many times the labels of ns changed while reading (0: never known). */
static unsigned ns_version(const struct check_run *r, const char *ns)
{
    return (unsigned)(uintptr_t)strmap_get(r->versions, ns);
}

/* The labels of ns changed (learned, replaced, or forgotten). */
static int ns_changed(struct check_run *r, const char *ns)
{
    return strmap_put(r->versions, ns, (void *)(uintptr_t)(ns_version(r, ns) + 1));
}

/*
 * Decides object i (obj read now) into items[i]; records which namespace's labels the verdict
 * used, and as they were when (decided again at the end if they changed afterwards).
 */
static int decide(struct check_run *r, size_t i, const struct object *obj)
{
    struct request_ctx ctx = {.operation = "CREATE",
                              .namespaces = r->ns,
                              .ns_unknown_reason = "no Namespace object for it in the input, "
                                                   "no --namespace-labels",
                              .ns_unknown_allow = r->ns_unknown_allow,
                              .now = r->now};
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
    r->seen[i].used_ns = NULL;
    if (decide_uses_namespace_labels(r->pol, obj, &ctx)) {
        if (!(r->seen[i].used_ns = intern(&r->strings, obj->ns)))
            return -1;
        r->seen[i].used_version = ns_version(r, obj->ns);
    }
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

/* The labels of ns: those of the last Namespace of that name still read, else unknown. */
static int settle_ns(struct check_run *r, const char *ns)
{
    size_t i = r->n_learned;

    while (i > 0 && strcmp(r->learned[i - 1].ns, ns))
        i--;
    if (i > 0) {
        if (nsdb_set(r->ns, ns, r->learned[i - 1].labels) < 0)
            return -1;
    } else {
        nsdb_forget(r->ns, ns);
    }
    return ns_changed(r, ns);
}

/*
 * A Namespace of the input: its labels as the cluster model takes them (model_item_new: with
 * kubernetes.io/metadata.name; one it cannot take teaches nothing), unless --namespace-labels
 * gave them.
 */
static int learn(struct check_run *r, size_t seq, const struct object *obj)
{
    struct model_item *it;
    struct learned *l;
    struct err e = {0};
    const char *ns;

    if (strcmp(obj->kind, "Namespace") || strcmp(obj->api_version, "v1") || !*obj->name ||
        strmap_get(r->pinned, obj->name))
        return 0;
    if (!(it = model_item_new(MODEL_NAMESPACE, obj->json, &e)))
        return strcmp(e.msg, "out of memory") ? 0 : -1;
    if (!(ns = intern(&r->strings, obj->name)) ||
        room_for_one((void **)&r->learned, r->n_learned, &r->a_learned, sizeof(*l)) < 0) {
        model_item_unref(it);
        return -1;
    }
    l = &r->learned[r->n_learned++];
    l->ns = ns;
    l->seq = seq;
    l->labels = json_incref(it->labels);
    model_item_unref(it);
    return settle_ns(r, ns);
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
        if (seq >= r->n || !r->seen[seq].filled || !r->seen[seq].again ||
            !same_object(&r->objs[seq], obj))
            return 0;
        verdict_release(&r->items[seq].v);
        free(r->why[seq]);
        if (decide(r, seq, obj) < 0)
            goto oom;
        r->seen[seq].later = r->seen[seq].again = false;
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

/* Forgets the Namespaces of objects seq and above; the labels of their names settle again. */
static int unlearn(struct check_run *r, size_t seq)
{
    const char **gone = NULL;
    size_t i, w, n_gone = 0;
    int rc = 0;

    if (r->n_learned && !(gone = malloc(r->n_learned * sizeof(*gone)))) {
        r->failed = true;
        return -1;
    }
    for (i = w = 0; i < r->n_learned; i++) {
        if (r->learned[i].seq < seq) {
            r->learned[w++] = r->learned[i];
            continue;
        }
        json_decref(r->learned[i].labels);
        gone[n_gone++] = r->learned[i].ns;
    }
    r->n_learned = w;
    for (i = 0; i < n_gone && rc == 0; i++)
        rc = settle_ns(r, gone[i]);
    free(gone);
    if (rc < 0)
        r->failed = true;
    return rc;
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
    return unlearn(r, seq);
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

/* The second pass builds only the documents that hold an object to decide again. */
static bool on_wants(void *cls, size_t from, size_t to)
{
    const struct check_run *r = cls;

    for (size_t i = from; i < to && i < r->n; i++)
        if (r->seen[i].filled && r->seen[i].again)
            return true;
    return false;
}

static const struct manifest_sink sink = {.object = on_object,
                                          .adopt = on_adopt,
                                          .retract = on_retract,
                                          .error = on_error,
                                          .keeps_all = false,
                                          .wants = on_wants};

struct check_run *check_run_new(const struct policy *pol, const struct check_run_opts *o)
{
    struct check_run *r = calloc(1, sizeof(*r));
    struct err e = {0};

    if (!r)
        return NULL;
    r->pol = pol;
    r->now = o->now;
    r->effective = o->effective;
    r->ns_unknown_allow = o->ns_unknown_allow;
    egress_list_init(&r->reaching);
    if (!(r->ns = nsdb_new()) || !(r->pinned = strmap_new()) || !(r->versions = strmap_new()) ||
        inventory_begin(&r->inv, o->effective, &e) < 0 || !(r->s = manifest_stream_new(&sink, r)))
        goto fail;
    /* --namespace-labels: as the model takes them, and they win (the model puts them last) */
    for (size_t i = 0; i < o->n_cli_ns; i++) {
        const struct model_item *it = o->cli_ns[i];

        if (nsdb_set(r->ns, it->name, it->labels) < 0 ||
            strmap_put(r->pinned, it->name, (void *)it) < 0)
            goto fail;
    }
    return r;
fail:
    check_run_free(r);
    return NULL;
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
    for (size_t i = 0; i < r->n_learned; i++)
        json_decref(r->learned[i].labels);
    free(r->learned);
    nsdb_free(r->ns);
    strmap_free(r->pinned);
    strmap_free(r->versions);
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

        /* decided with labels that changed afterwards (learned, replaced): decide again */
        s->again = s->filled && (s->later || (s->used_ns && ns_version(r, s->used_ns) !=
                                                                 s->used_version));
        again = again || s->again;
    }
    if (again) {
        /* What waited for the whole input, or for labels read later: the input once more. */
        r->second = true;
        manifest_stream_replay(r->s);
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
