#include "policy/doc/manifest.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "policy/doc/mstream.h"

/*
 * The streaming reader (mstream.h) with a sink that keeps everything: the objects in slots
 * indexed by their number, and every doc (a document, one item of a List, a Pulumi file) with
 * the number of its first object.
 */
struct kept {
    struct doc *d;
    size_t seq;
};

struct manifest {
    struct manifest_stream *s; /* owns the file names objects and errors borrow */
    struct object *objs;
    bool *filled; /* filled[i]: objs[i] holds an object; not: a skipped number */
    size_t n_objs, a_objs;
    struct kept *docs;
    size_t n_docs, a_docs;
    struct err *errs;
    size_t n_errs, a_errs;
};

static int keep_object(void *cls, size_t seq, const struct object *obj, bool *keep)
{
    struct manifest *m = cls;

    if (seq >= m->a_objs) {
        size_t na = m->a_objs ? m->a_objs : 16;
        struct object *o;
        bool *f;

        while (na <= seq)
            na *= 2;
        if (!(o = realloc(m->objs, na * sizeof(*o))))
            return -1;
        m->objs = o;
        if (!(f = realloc(m->filled, na * sizeof(*f))))
            return -1;
        m->filled = f;
        memset(&m->filled[m->a_objs], 0, (na - m->a_objs) * sizeof(*f));
        m->a_objs = na;
    }
    m->objs[seq] = *obj;
    m->filled[seq] = true;
    if (seq >= m->n_objs)
        m->n_objs = seq + 1;
    *keep = true;
    return 0;
}

static int keep_doc(void *cls, struct doc *d, size_t seq)
{
    struct manifest *m = cls;

    if (m->n_docs == m->a_docs) {
        size_t na = m->a_docs ? m->a_docs * 2 : 16;
        struct kept *p = realloc(m->docs, na * sizeof(*p));

        if (!p) {
            doc_free(d);
            return -1;
        }
        m->docs = p;
        m->a_docs = na;
    }
    m->docs[m->n_docs++] = (struct kept){d, seq};
    return 0;
}

static int drop_objects(void *cls, size_t seq)
{
    struct manifest *m = cls;
    size_t w = 0;

    for (size_t i = seq; i < m->n_objs; i++)
        m->filled[i] = false;
    if (seq < m->n_objs)
        m->n_objs = seq;
    for (size_t i = 0; i < m->n_docs; i++) {
        if (m->docs[i].seq >= seq)
            doc_free(m->docs[i].d);
        else
            m->docs[w++] = m->docs[i];
    }
    m->n_docs = w;
    return 0;
}

static int keep_error(void *cls, const struct err *e)
{
    struct manifest *m = cls;

    if (m->n_errs == m->a_errs) {
        size_t na = m->a_errs ? m->a_errs * 2 : 16;
        struct err *p = realloc(m->errs, na * sizeof(*p));

        if (!p)
            return -1;
        m->errs = p;
        m->a_errs = na;
    }
    m->errs[m->n_errs++] = *e;
    return 0;
}

static const struct manifest_sink keeper = {.object = keep_object,
                                            .adopt = keep_doc,
                                            .retract = drop_objects,
                                            .error = keep_error,
                                            .keeps_all = true};

struct manifest *manifest_new(void)
{
    struct manifest *m = calloc(1, sizeof(*m));

    if (m && !(m->s = manifest_stream_new(&keeper, m))) {
        free(m);
        return NULL;
    }
    return m;
}

void manifest_free(struct manifest *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_docs; i++)
        doc_free(m->docs[i].d);
    free(m->docs);
    free(m->filled);
    free(m->objs);
    free(m->errs);
    manifest_stream_free(m->s);
    free(m);
}

/* Numbers a read may skip (a List item that was no object) leave empty slots: close them up. */
static void compact(struct manifest *m)
{
    size_t w = 0;

    for (size_t i = 0; i < m->n_objs; i++) {
        if (!m->filled[i])
            continue;
        m->objs[w] = m->objs[i];
        m->filled[w++] = true;
    }
    m->n_objs = w;
    manifest_stream_number_from(m->s, w); /* the next read appends */
    /* What is kept now is no later read's to take back (it takes back from w on). */
    for (size_t i = 0; i < m->n_docs; i++)
        m->docs[i].seq = 0;
}

int manifest_read(struct manifest *m, const char *path)
{
    int rc = manifest_stream_read(m->s, path);

    compact(m);
    return rc;
}

int manifest_read_buffer(struct manifest *m, const char *data, size_t len, const char *name)
{
    int rc = manifest_stream_read_buffer(m->s, data, len, name);

    compact(m);
    return rc;
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
