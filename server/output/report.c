#include "server/output/report.h"

#include <jansson.h>
#include <string.h>

#include "server/cmd/cli.h"
#include "server/output/polreport.h"
#include "server/output/yamlemit.h"

#ifndef EGRESSGUARD_VERSION
#define EGRESSGUARD_VERSION "0.1.0"
#endif

/* "deny", "warn", "audit" for violations by mode; "note" otherwise. */
static const char *severity(const struct finding *f)
{
    if (!f->violation)
        return "note";
    return f->mode == MODE_ENFORCE ? "deny" : f->mode == MODE_WARN ? "warn" : "audit";
}

void report_count(const struct report *r, struct report_counts *c)
{
    memset(c, 0, sizeof(*c));
    c->errors = r->n_input_errors;
    for (size_t i = 0; i < r->n_items; i++) {
        const struct report_item *it = &r->items[i];
        bool denied = false, warned = false, audited = false;

        c->objects++;
        if (it->failed) {
            c->errors++;
            continue;
        }
        if (it->v.evaluated)
            c->evaluated++;
        for (size_t j = 0; j < it->v.n_findings; j++) {
            const struct finding *f = &it->v.findings[j];
            const char *s = severity(f);
            denied |= !strcmp(s, "deny");
            warned |= !strcmp(s, "warn");
            audited |= !strcmp(s, "audit");
            c->notes += !f->violation;
        }
        c->denied += denied;
        c->warned += warned;
        c->audited += audited;
    }
}

static bool has_source(const struct object *o)
{
    return o->source && *o->source;
}

/* "ns/name", and where it was declared when that is more than file:line (a Pulumi URN). */
static void object_name(const struct object *o, char *buf, size_t size)
{
    int n;

    if (*o->ns && *o->name)
        n = snprintf(buf, size, "%s/%s", o->ns, o->name);
    else
        n = snprintf(buf, size, "%s", *o->name ? o->name : "(unnamed)");
    if (has_source(o) && n >= 0 && (size_t)n < size)
        snprintf(buf + n, size - (size_t)n, " (%s)", o->source);
}

static int finding_line(const struct report_item *it, const struct finding *f)
{
    return f->line ? f->line : it->obj->line;
}

static int write_text(FILE *out, const struct report *r)
{
    struct report_counts c;
    char name[512];

    for (size_t i = 0; i < r->n_input_errors; i++) {
        char buf[1024];
        err_format(&r->input_errors[i], buf, sizeof(buf));
        fprintf(out, "%s\n", buf);
    }
    for (size_t i = 0; i < r->n_items; i++) {
        const struct report_item *it = &r->items[i];
        const struct object *o = it->obj;

        object_name(o, name, sizeof(name));
        if (it->failed) {
            char buf[1024];
            err_format(&it->e, buf, sizeof(buf));
            fprintf(out, "%s (%s %s)\n", buf, o->kind, name);
            continue;
        }
        for (size_t j = 0; j < it->v.n_findings; j++) {
            const struct finding *f = &it->v.findings[j];
            fprintf(out, "%s:%d: %s %s: %s: %s%s%s\n", *o->file ? o->file : "<input>",
                    finding_line(it, f), o->kind, name, severity(f), f->path, *f->path ? ": " : "",
                    f->message);
        }
        if (r->verbose && !it->v.n_findings)
            fprintf(out, "%s:%d: %s %s: %s\n", *o->file ? o->file : "<input>", o->line, o->kind,
                    name, it->v.evaluated ? "ok" : "not evaluated (kind not governed)");
    }
    report_count(r, &c);
    fprintf(out,
            "egressguard: %zu object%s checked (%zu evaluated): %zu denied, %zu warned, "
            "%zu audited, %zu error%s\n",
            c.objects, c.objects == 1 ? "" : "s", c.evaluated, c.denied, c.warned, c.audited,
            c.errors, c.errors == 1 ? "" : "s");
    return ferror(out) ? -1 : 0;
}

static json_t *err_json(const struct err *e)
{
    return json_pack("{s:s, s:i, s:i, s:s}", "file", e->file ? e->file : "", "line", e->line,
                     "column", e->col, "message", e->msg);
}

/* The report as one JSON value (json and yaml). New reference, NULL on out of memory. */
static json_t *report_json(const struct report *r)
{
    struct report_counts c;
    json_t *root, *results, *errors;

    report_count(r, &c);
    root = json_pack("{s:s, s:{s:s, s:s, s:s}, s:{s:I, s:I, s:I, s:I, s:I, s:I}, s:[], s:[]}",
                     "version", EGRESSGUARD_VERSION, "policy", "file", r->pol->path, "name",
                     r->pol->name, "hash", r->pol->hash, "summary", "objects",
                     (json_int_t)c.objects, "evaluated", (json_int_t)c.evaluated, "denied",
                     (json_int_t)c.denied, "warned", (json_int_t)c.warned, "audited",
                     (json_int_t)c.audited, "errors", (json_int_t)c.errors, "results", "errors");
    if (!root)
        return NULL;
    results = json_object_get(root, "results");
    errors = json_object_get(root, "errors");
    for (size_t i = 0; i < r->n_input_errors; i++)
        json_array_append_new(errors, err_json(&r->input_errors[i]));
    for (size_t i = 0; i < r->n_items; i++) {
        const struct report_item *it = &r->items[i];
        const struct object *o = it->obj;
        json_t *findings, *item;

        if (it->failed) {
            json_array_append_new(errors, err_json(&it->e));
            continue;
        }
        item = json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:b, s:b, s:[]}", "file", o->file, "line",
                         o->line, "apiVersion", o->api_version, "kind", o->kind, "namespace", o->ns,
                         "name", o->name, "allowed", it->v.allowed, "evaluated", it->v.evaluated,
                         "findings");
        if (!item) {
            json_decref(root);
            return NULL;
        }
        if (has_source(o))
            json_object_set_new(item, "source", json_string(o->source));
        if (it->v.exemption)
            json_object_set_new(item, "exemption", json_string(it->v.exemption));
        if (it->detail)
            json_object_set_new(item, "effective", json_deep_copy(it->detail));
        findings = json_object_get(item, "findings");
        for (size_t j = 0; j < it->v.n_findings; j++) {
            const struct finding *f = &it->v.findings[j];
            json_array_append_new(
                findings, json_pack("{s:s, s:s, s:s, s:b, s:s, s:s, s:i, s:i}", "rule", f->rule,
                                    "severity", severity(f), "mode", mode_name(f->mode),
                                    "violation", f->violation, "path", f->path, "message",
                                    f->message, "line", finding_line(it, f), "column", f->col));
        }
        json_array_append_new(results, item);
    }
    return root;
}

static int write_json(FILE *out, const struct report *r)
{
    json_t *root = report_json(r);
    int rc;

    if (!root)
        return -1;
    rc = json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    fputc('\n', out);
    json_decref(root);
    return rc < 0 || ferror(out) ? -1 : 0;
}

/* The json report as one YAML document, for people who read kubectl's -o yaml. */
static int write_yaml(FILE *out, const struct report *r)
{
    json_t *docs = json_pack("[o]", report_json(r));
    struct err e = {0};
    int rc;

    if (!docs)
        return -1;
    rc = yamlemit_docs(out, docs, &e);
    json_decref(docs);
    return rc < 0 || ferror(out) ? -1 : 0;
}

static json_t *sarif_result(const char *rule, const char *level, const char *text, const char *file,
                            int line, int col)
{
    json_t *res =
        json_pack("{s:s, s:s, s:{s:s}}", "ruleId", rule, "level", level, "message", "text", text);
    json_t *phys;

    if (!res || !file || !*file)
        return res;
    phys =
        json_pack("{s:{s:s}}", "artifactLocation", "uri", strcmp(file, "<stdin>") ? file : "stdin");
    if (phys && line > 0) {
        json_t *region = json_pack("{s:i}", "startLine", line);
        if (region && col > 0)
            json_object_set_new(region, "startColumn", json_integer(col));
        json_object_set_new(phys, "region", region);
    }
    json_object_set_new(res, "locations", json_pack("[{s:o}]", "physicalLocation", phys));
    return res;
}

static void sarif_rule(json_t *rules, json_t *seen, const char *id)
{
    if (json_object_get(seen, id))
        return;
    json_object_set_new(seen, id, json_true());
    json_array_append_new(rules,
                          json_pack("{s:s, s:{s:s}}", "id", id, "shortDescription", "text",
                                    !strcmp(id, "input") ? "input that cannot be evaluated" : id));
}

static int write_sarif(FILE *out, const struct report *r)
{
    json_t *root, *results, *rules, *seen = json_object();
    char name[512], text[2048];
    int rc;

    root = json_pack("{s:s, s:s, s:[{s:{s:{s:s, s:s, s:[]}}, s:[]}]}", "$schema",
                     "https://json.schemastore.org/sarif-2.1.0.json", "version", "2.1.0", "runs",
                     "tool", "driver", "name", "egressguard", "version", EGRESSGUARD_VERSION,
                     "rules", "results");
    if (!root || !seen) {
        json_decref(root);
        json_decref(seen);
        return -1;
    }
    json_t *run = json_array_get(json_object_get(root, "runs"), 0);
    results = json_object_get(run, "results");
    rules = json_object_get(json_object_get(json_object_get(run, "tool"), "driver"), "rules");
    for (size_t i = 0; i < r->n_input_errors; i++) {
        const struct err *e = &r->input_errors[i];
        sarif_rule(rules, seen, "input");
        json_array_append_new(results,
                              sarif_result("input", "error", e->msg, e->file, e->line, e->col));
    }
    for (size_t i = 0; i < r->n_items; i++) {
        const struct report_item *it = &r->items[i];
        const struct object *o = it->obj;

        object_name(o, name, sizeof(name));
        if (it->failed) {
            sarif_rule(rules, seen, "input");
            snprintf(text, sizeof(text), "%s %s: %s", o->kind, name, it->e.msg);
            json_array_append_new(
                results, sarif_result("input", "error", text, it->e.file, it->e.line, it->e.col));
            continue;
        }
        for (size_t j = 0; j < it->v.n_findings; j++) {
            const struct finding *f = &it->v.findings[j];
            const char *sev = severity(f);
            sarif_rule(rules, seen, f->rule);
            snprintf(text, sizeof(text), "%s %s: %s%s%s", o->kind, name, f->path,
                     *f->path ? ": " : "", f->message);
            json_t *res = sarif_result(f->rule,
                                       !strcmp(sev, "deny")   ? "error"
                                       : !strcmp(sev, "warn") ? "warning"
                                                              : "note",
                                       text, o->file, finding_line(it, f), f->col);
            /* SARIF 2.1.0 §3.33: a logical location names what the file declares. */
            json_t *locs = json_object_get(res, "locations");
            if (has_source(o) && json_array_size(locs))
                json_object_set_new(json_array_get(locs, 0), "logicalLocations",
                                    json_pack("[{s:s, s:s}]", "fullyQualifiedName", o->source,
                                              "kind", "resource"));
            json_array_append_new(results, res);
        }
    }
    rc = json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    fputc('\n', out);
    json_decref(root);
    json_decref(seen);
    return rc < 0 || ferror(out) ? -1 : 0;
}

static void xml_escaped(FILE *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '&':
            fputs("&amp;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        default:
            /* XML 1.0 forbids most control characters even escaped. */
            if ((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t')
                fputc('?', out);
            else
                fputc(*s, out);
        }
    }
}

static int write_junit(FILE *out, const struct report *r)
{
    struct report_counts c;
    char name[512];

    report_count(r, &c);
    fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fprintf(out,
            "<testsuites>\n  <testsuite name=\"egressguard check\" tests=\"%zu\" "
            "failures=\"%zu\" errors=\"%zu\">\n",
            c.objects + r->n_input_errors, c.denied, c.errors);
    for (size_t i = 0; i < r->n_input_errors; i++) {
        char buf[1024];
        err_format(&r->input_errors[i], buf, sizeof(buf));
        fputs("    <testcase classname=\"input\" name=\"", out);
        xml_escaped(out, r->input_errors[i].file ? r->input_errors[i].file : "input");
        fputs("\">\n      <error message=\"", out);
        xml_escaped(out, buf);
        fputs("\"/>\n    </testcase>\n", out);
    }
    for (size_t i = 0; i < r->n_items; i++) {
        const struct report_item *it = &r->items[i];
        const struct object *o = it->obj;
        bool open = false;

        object_name(o, name, sizeof(name));
        fputs("    <testcase classname=\"", out);
        xml_escaped(out, o->kind);
        fputs("\" name=\"", out);
        xml_escaped(out, name);
        fprintf(out, " (%s:%d)\">\n", *o->file ? o->file : "<input>", o->line);
        if (it->failed) {
            char buf[1024];
            err_format(&it->e, buf, sizeof(buf));
            fputs("      <error message=\"", out);
            xml_escaped(out, buf);
            fputs("\"/>\n", out);
        }
        for (size_t j = 0; !it->failed && j < it->v.n_findings; j++) {
            const struct finding *f = &it->v.findings[j];
            if (strcmp(severity(f), "deny"))
                continue;
            if (!open) {
                fputs("      <failure message=\"denied by egressguard\">", out);
                open = true;
            }
            fprintf(out, "%s:%d: ", *o->file ? o->file : "<input>", finding_line(it, f));
            xml_escaped(out, f->path);
            fputs(*f->path ? ": " : "", out);
            xml_escaped(out, f->message);
            fputc('\n', out);
        }
        if (open)
            fputs("</failure>\n", out);
        for (size_t j = 0; !it->failed && j < it->v.n_findings; j++) {
            const struct finding *f = &it->v.findings[j];
            if (!strcmp(severity(f), "deny"))
                continue;
            fprintf(out, "      <system-out>%s: ", severity(f));
            xml_escaped(out, f->path);
            fputs(*f->path ? ": " : "", out);
            xml_escaped(out, f->message);
            fputs("</system-out>\n", out);
        }
        fputs("    </testcase>\n", out);
    }
    fputs("  </testsuite>\n</testsuites>\n", out);
    return ferror(out) ? -1 : 0;
}

/* Which report an item belongs in: its namespace; a namespace's effective egress in its own. */
static const char *placement(const struct report_item *it)
{
    return strcmp(it->obj->kind, "EffectiveEgress") ? it->obj->ns : it->obj->name;
}

static int by_placement(const void *a, const void *b)
{
    const struct report_item *const *x = a, *const *y = b;
    int c = strcmp(placement(*x), placement(*y));

    return c ? c : *x < *y ? -1 : *x > *y;
}

static void entry_of(const struct report_item *it, struct polreport_entry *en)
{
    const struct object *o = it->obj;
    bool eff = !strcmp(o->kind, "EffectiveEgress");

    memset(en, 0, sizeof(*en));
    en->api_version = eff ? "v1" : o->api_version;
    en->kind = eff ? "Namespace" : o->kind;
    en->ns = eff ? "" : o->ns;
    en->name = o->name;
    en->uid = eff ? NULL
                  : json_string_value(json_object_get(json_object_get(o->json, "metadata"), "uid"));
    en->file = eff ? NULL : o->file;
    en->line = o->line;
    en->v = it->failed ? NULL : &it->v;
    en->error = &it->e;
}

/*
 * One PolicyReport per namespace that holds a judged object (even if all pass: applying the
 * stream then clears results that were fixed), and the ClusterPolicyReport, always, first; input
 * errors that are no object's go into it.
 */
static int write_policyreport(FILE *out, const struct report *r)
{
    const struct report_item **items = calloc(r->n_items + 1, sizeof(*items));
    struct polreport_entry *en = calloc(r->n_items + r->n_input_errors + 1, sizeof(*en));
    struct polreport_opts o = {.policy = r->pol->name, .now = r->now};
    json_t *docs = json_array();
    size_t n = 0, m = 0, i, j, k;
    struct err e = {0};
    int rc = -1;

    if (!items || !en || !docs)
        goto out;
    for (i = 0; i < r->n_items; i++)
        if (r->items[i].failed || r->items[i].v.evaluated || r->items[i].v.n_findings)
            items[n++] = &r->items[i];
    qsort(items, n, sizeof(*items), by_placement);
    /* Cluster-scoped objects sort first (namespace ""); input errors join them. */
    for (j = 0; j < n && !*placement(items[j]); j++)
        entry_of(items[j], &en[m++]);
    for (k = 0; k < r->n_input_errors; k++)
        en[m++] = (struct polreport_entry){.error = &r->input_errors[k]};
    if (json_array_append_new(docs, polreport_build("", en, m, &o)) < 0)
        goto out;
    for (i = j; i < n; i = j) {
        const char *ns = placement(items[i]);

        for (m = 0, j = i; j < n && !strcmp(placement(items[j]), ns); j++)
            entry_of(items[j], &en[m++]);
        if (json_array_append_new(docs, polreport_build(ns, en, m, &o)) < 0)
            goto out;
    }
    rc = yamlemit_docs(out, docs, &e) < 0 || ferror(out) ? -1 : 0;
out:
    json_decref(docs);
    free(items);
    free(en);
    return rc;
}

/* One row per format, in enum report_format's order; a new format is one row and one writer. */
static const struct format {
    const char *name;
    int (*write)(FILE *out, const struct report *r);
} formats[] = {
    {"text", write_text},   {"json", write_json},   {"yaml", write_yaml},
    {"sarif", write_sarif}, {"junit", write_junit}, {"policyreport", write_policyreport},
};
#define N_FORMATS (sizeof(formats) / sizeof(formats[0]))

const char *const *report_formats(void)
{
    static const char *const names[N_FORMATS + 1] = {"text",  "json",  "yaml",
                                                     "sarif", "junit", "policyreport",
                                                     NULL};
    return names;
}

int report_format_parse(const char *s, enum report_format *out)
{
    for (size_t i = 0; i < N_FORMATS; i++)
        if (!strcmp(s, formats[i].name)) {
            *out = (enum report_format)i;
            return 0;
        }
    return -1;
}

int report_write(FILE *out, enum report_format fmt, const struct report *r)
{
    if ((size_t)fmt >= N_FORMATS)
        return -1;
    return formats[fmt].write(out, r);
}
