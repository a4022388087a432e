/*
 * libFuzzer harness for what the Kubernetes API sends (policy/model/wire.c) and what the model
 * does with it: the input is read once as a LIST page and once as a WATCH stream (cut into
 * chunks where the input has a 0x01 byte, so events split across chunks too), for a kind chosen
 * by the first byte; every item and event goes through a model writer as the watch applies it.
 * Never a crash or a leak; an item the model takes is findable in the published snapshot.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/model/model.h"
#include "policy/model/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct feed {
    enum model_kind kind;
    struct model_writer *w;
};

static int on_line(void *cls, const char *line, size_t len, struct err *e)
{
    struct feed *f = cls;
    struct wire_event ev;

    if (wire_event(line, len, f->kind, &ev, e) < 0)
        return 0; /* a bad event: the watch would relist; go on fuzzing the rest */
    if ((ev.type == WIRE_ADDED || ev.type == WIRE_MODIFIED) && ev.item) {
        struct model_item *it = ev.item;
        ev.item = NULL;
        if (it->kind != f->kind)
            abort();
        model_writer_put(f->w, it);
    } else if (ev.type == WIRE_DELETED && ev.item) {
        model_writer_delete(f->w, f->kind, ev.item->ns, ev.item->name);
    } else if (ev.type == WIRE_ERROR && !ev.message) {
        abort();
    }
    wire_event_release(&ev);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct feed f;
    struct wire_page page;
    struct wire_stream s;
    struct err e = {0};
    struct model *m;
    size_t start;

    if (size < 1 || size > 1024 * 1024)
        return 0;
    f.kind = (enum model_kind)(data[0] % MODEL_N_KINDS);
    if (!(f.w = model_writer_new()))
        return 0;
    data++;
    size--;
    if (wire_list((const char *)data, size, f.kind, &page, &e) == 0) {
        size_t n = page.n;
        if (!page.rv || !*page.rv)
            abort();
        model_writer_replace(f.w, f.kind, page.items, n);
        page.n = 0;
        m = model_writer_publish(f.w);
        if (m && model_count(m, f.kind) > n)
            abort();
        model_unref(m);
        wire_page_release(&page);
    }
    wire_stream_init(&s);
    start = 0;
    for (size_t i = 0; i <= size; i++) {
        if (i == size || data[i] == 0x01) {
            wire_stream_feed(&s, (const char *)data + start, i - start, on_line, &f, &e);
            start = i + 1;
        }
    }
    wire_stream_release(&s);
    m = model_writer_publish(f.w);
    if (m) {
        struct model_item *const *items;
        size_t n = model_list(m, f.kind, NULL, &items);
        for (size_t i = 0; i < n; i++)
            if (model_find(m, f.kind, items[i]->ns, items[i]->name) != items[i])
                abort();
    }
    model_unref(m);
    model_writer_free(f.w);
    return 0;
}
