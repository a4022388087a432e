#include "policy/doc/manifest.h"

#include <stdlib.h>
#include <string.h>

#include "policy/doc/mstream.h"

/*
 * The streaming reader (mstream.h) with a sink that keeps everything: every object owns its
 * doc (a document, or one item of a List), slots indexed by the object's number.
 */
struct manifest {
    struct manifest_stream *s; /* owns the file names objects and errors borrow */
    struct object *objs;
    struct doc **docs; /* docs[i] holds objs[i]; NULL: an empty slot (a skipped number) */
    size_t n_objs, a_objs;
    struct err *errs;
    size_t n_errs, a_errs;
};

static int keep_object(void *cls, size_t seq, const struct object *obj, bool *keep)
{
    struct manifest *m = cls;

    if (seq >= m->a_objs) {
        size_t na = m->a_objs ? m->a_objs : 16;
        struct object *o;
        struct doc **d;

        while (na <= seq)
            na *= 2;
        if (!(o = realloc(m->objs, na * sizeof(*o))))
            return -1;
        m->objs = o;
        if (!(d = realloc(m->docs, na * sizeof(*d))))
            return -1;
        m->docs = d;
        memset(&m->docs[m->a_objs], 0, (na - m->a_objs) * sizeof(*d));
        m->a_objs = na;
    }
    m->objs[seq] = *obj;
    m->docs[seq] = (struct doc *)obj->doc;
    if (seq >= m->n_objs)
        m->n_objs = seq + 1;
    *keep = true;
    return 0;
}

static int drop_objects(void *cls, size_t seq)
{
    struct manifest *m = cls;

    for (size_t i = seq; i < m->n_objs; i++) {
        doc_free(m->docs[i]);
        m->docs[i] = NULL;
    }
    if (seq < m->n_objs)
        m->n_objs = seq;
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

static const struct manifest_sink keeper = {
    .object = keep_object, .retract = drop_objects, .error = keep_error, .keeps_all = true};

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
    for (size_t i = 0; i < m->n_objs; i++)
        doc_free(m->docs[i]);
    free(m->docs);
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
        if (!m->docs[i])
            continue;
        m->objs[w] = m->objs[i];
        m->docs[w++] = m->docs[i];
    }
    m->n_objs = w;
    manifest_stream_number_from(m->s, w); /* the next read appends */
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
