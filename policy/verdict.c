#include "policy/verdict.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/base/buf.h"

void verdict_init(struct verdict *v)
{
    memset(v, 0, sizeof(*v));
    v->allowed = true;
    v->evaluated = true;
}

void verdict_release(struct verdict *v)
{
    for (size_t i = 0; i < v->n_findings; i++) {
        free(v->findings[i].rule);
        free(v->findings[i].path);
        free(v->findings[i].message);
        free(v->findings[i].escapes);
    }
    free(v->findings);
    free(v->exemption);
    json_decref(v->patch);
    verdict_init(v);
}

int verdict_add(struct verdict *v, const struct object *obj, const json_t *node,
                const char *rule, enum mode mode, bool violation, const char *path,
                const char *fmt, ...)
{
    struct finding *f, *nf;
    struct buf msg;
    va_list ap;

    nf = realloc(v->findings, (v->n_findings + 1) * sizeof(*nf));
    if (!nf)
        return -1;
    v->findings = nf;
    f = &nf[v->n_findings];
    memset(f, 0, sizeof(*f));
    buf_init_cut(&msg, VERDICT_MESSAGE_CAP, "...");
    va_start(ap, fmt);
    buf_vprintf(&msg, fmt, ap);
    va_end(ap);
    f->message = buf_detach(&msg, NULL);
    if (!f->message)
        return -1;
    {
        /* a report keeps findings to the end: no room to spare (the buffer grows by doubling) */
        char *fit = realloc(f->message, strlen(f->message) + 1);

        if (fit)
            f->message = fit;
    }
    f->rule = strdup(rule);
    f->path = strdup(path ? path : "");
    if (!f->rule || !f->path) {
        free(f->rule);
        free(f->path);
        free(f->message);
        return -1;
    }
    f->mode = mode;
    f->violation = violation;
    if (obj && obj->doc && node && !doc_pos(obj->doc, node, &f->line, &f->col)) {
        f->line = obj->line;
        f->col = 0;
    } else if (obj && !f->line) {
        f->line = obj->line;
    }
    v->n_findings++;
    if (violation && mode == MODE_ENFORCE)
        v->allowed = false;
    return 0;
}
