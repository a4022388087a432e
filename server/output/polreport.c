#include "server/output/polreport.h"

#include <stdbool.h>
#include <string.h>

#include "policy/base/buf.h"

#define MESSAGE_MAX 1024 /* bytes of one result's message, and of each property */

enum result { R_FAIL, R_WARN, R_ERROR, R_SKIP, R_NONE };
static const char *const result_names[] = {"fail", "warn", "error", "skip"};

/* What a finding becomes in a report; R_NONE for notes nobody needs to act on. */
static enum result classify(const struct finding *f)
{
    if (f->violation)
        return f->mode == MODE_WARN ? R_WARN : R_FAIL;
    if (!strcmp(f->rule, "exemption"))
        return R_SKIP;
    if (!strncmp(f->rule, "exemption.", 10))
        return R_WARN;
    return R_NONE;
}

/* Sets a string property, cut to MESSAGE_MAX; empty strings are left out. */
static int set_prop(json_t *props, const char *key, struct buf *b)
{
    if (b->failed)
        return -1;
    if (!b->len)
        return 0;
    buf_cut_utf8(b, MESSAGE_MAX, "...");
    return json_object_set_new(props, key, json_string(b->data));
}

static json_t *resource(const struct polreport_entry *en)
{
    json_t *r = json_pack("{s:s, s:s}", "apiVersion", en->api_version, "kind", en->kind);

    if (!r)
        return NULL;
    if ((*en->ns && json_object_set_new(r, "namespace", json_string(en->ns)) < 0) ||
        json_object_set_new(r, "name", json_string(en->name)) < 0 ||
        (en->uid && *en->uid && json_object_set_new(r, "uid", json_string(en->uid)) < 0)) {
        json_decref(r);
        return NULL;
    }
    return r;
}

static json_t *result_new(const struct polreport_entry *en, const char *rule, enum result res,
                          const struct polreport_opts *o, const char *policy)
{
    /* The message is filled in by the caller; it comes early for people reading the YAML. */
    json_t *r = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:{s:I, s:i}, s:{}}", "source",
                          "egressguard", "policy", policy, "rule", rule, "result",
                          result_names[res], "message", "", "scored", 1, "timestamp", "seconds",
                          (json_int_t)o->now, "nanos", 0, "properties");
    char loc[1100];

    if (!r)
        return NULL;
    /* Input that is not one object (a broken file) has no resource: the report's scope. */
    if (en->kind && *en->kind &&
        json_object_set_new(r, "resources", json_pack("[o]", resource(en))) < 0)
        goto fail;
    if (en->file && *en->file) {
        snprintf(loc, sizeof(loc), "%s:%d", en->file, en->line);
        if (json_object_set_new(json_object_get(r, "properties"), "location", json_string(loc)) < 0)
            goto fail;
    }
    return r;
fail:
    json_decref(r);
    return NULL;
}

/* The result of the findings of entry en with this rule and class, from finding `first` on. */
static json_t *findings_result(const struct polreport_entry *en, size_t first, enum result res,
                               const struct polreport_opts *o, const char *policy)
{
    const struct verdict *v = en->v;
    const char *rule = v->findings[first].rule;
    json_t *r = result_new(en, rule, res, o, policy), *props;
    struct buf msg, paths, escapes;
    int rc = 0;

    if (!r)
        return NULL;
    buf_init(&msg, 0);
    buf_init(&paths, 0);
    buf_init(&escapes, 0);
    for (size_t i = first; i < v->n_findings; i++) {
        const struct finding *f = &v->findings[i];
        if (strcmp(f->rule, rule) || classify(f) != res)
            continue;
        buf_printf(&msg, "%s%s%s%s", msg.len ? "; " : "", f->path, *f->path ? ": " : "",
                   f->message);
        if (*f->path)
            buf_printf(&paths, "%s%s", paths.len ? ", " : "", f->path);
        if (f->escapes)
            buf_printf(&escapes, "%s%s", escapes.len ? "; " : "", f->escapes);
    }
    props = json_object_get(r, "properties");
    if (msg.failed ||
        json_object_set_new(props, "mode", json_string(mode_name(v->findings[first].mode))) < 0 ||
        set_prop(props, "paths", &paths) < 0 || set_prop(props, "escapes", &escapes) < 0)
        rc = -1;
    if (!rc) {
        buf_cut_utf8(&msg, MESSAGE_MAX, "...");
        rc = json_object_set_new(r, "message", json_string(buf_str(&msg)));
    }
    buf_release(&msg);
    buf_release(&paths);
    buf_release(&escapes);
    if (rc < 0) {
        json_decref(r);
        return NULL;
    }
    return r;
}

static json_t *error_result(const struct polreport_entry *en, const struct polreport_opts *o,
                            const char *policy)
{
    json_t *r = result_new(en, "input", R_ERROR, o, policy);
    char msg[1024];

    if (!r)
        return NULL;
    err_format(en->error, msg, sizeof(msg));
    if (json_object_set_new(r, "message", json_string(msg)) < 0) {
        json_decref(r);
        return NULL;
    }
    return r;
}

/* Is finding i the first of its (rule, class) in v? Later ones go into its result. */
static bool first_of_group(const struct verdict *v, size_t i, enum result res)
{
    for (size_t j = 0; j < i; j++)
        if (!strcmp(v->findings[j].rule, v->findings[i].rule) && classify(&v->findings[j]) == res)
            return false;
    return true;
}

/*
 * Appends to results every result of class `res` (up to the cap) and counts them all. Returns
 * 0, or -1 on out of memory.
 */
static int add_class(json_t *results, enum result res, const struct polreport_entry *entries,
                     size_t n, const struct polreport_opts *o, const char *policy, size_t cap,
                     size_t *count)
{
    for (size_t e = 0; e < n; e++) {
        const struct polreport_entry *en = &entries[e];

        if (!en->v) {
            if (res != R_ERROR)
                continue;
            (*count)++;
            if (json_array_size(results) < cap &&
                json_array_append_new(results, error_result(en, o, policy)) < 0)
                return -1;
            continue;
        }
        for (size_t i = 0; i < en->v->n_findings; i++) {
            if (classify(&en->v->findings[i]) != res || !first_of_group(en->v, i, res))
                continue;
            (*count)++;
            if (json_array_size(results) >= cap)
                continue;
            if (json_array_append_new(results, findings_result(en, i, res, o, policy)) < 0)
                return -1;
        }
    }
    return 0;
}

/* An object that was judged and needs nothing: evaluated, no violation, no exemption. */
static bool passes(const struct polreport_entry *en)
{
    if (!en->v || !en->v->evaluated)
        return false;
    for (size_t i = 0; i < en->v->n_findings; i++)
        if (classify(&en->v->findings[i]) != R_NONE)
            return false;
    return true;
}

json_t *polreport_build(const char *ns, const struct polreport_entry *entries, size_t n,
                        const struct polreport_opts *o)
{
    size_t cap = o->max_results ? o->max_results : POLREPORT_MAX_RESULTS;
    size_t counts[R_NONE] = {0}, pass = 0, total;
    const char *policy = o->policy && *o->policy ? o->policy : "egressguard";
    json_t *rep, *results, *meta;

    rep =
        json_pack("{s:s, s:s, s:{s:s}}", "apiVersion", "wgpolicyk8s.io/v1alpha2", "kind",
                  *ns ? "PolicyReport" : "ClusterPolicyReport", "metadata", "name", POLREPORT_NAME);
    results = json_array();
    if (!rep || !results)
        goto oom;
    meta = json_object_get(rep, "metadata");
    if ((*ns && json_object_set_new(meta, "namespace", json_string(ns)) < 0) ||
        json_object_set_new(meta, "labels",
                            json_pack("{s:s}", "app.kubernetes.io/managed-by", "egressguard")) < 0)
        goto oom;
    for (int res = R_FAIL; res < R_NONE; res++)
        if (add_class(results, (enum result)res, entries, n, o, policy, cap, &counts[res]) < 0)
            goto oom;
    for (size_t e = 0; e < n; e++)
        pass += passes(&entries[e]);
    total = counts[R_FAIL] + counts[R_WARN] + counts[R_ERROR] + counts[R_SKIP];
    if (total > json_array_size(results)) {
        char omitted[32];
        snprintf(omitted, sizeof(omitted), "%zu", total - json_array_size(results));
        if (json_object_set_new(meta, "annotations",
                                json_pack("{s:s}", "egressguard.io/results-omitted", omitted)) < 0)
            goto oom;
    }
    if (json_object_set_new(
            rep, "summary",
            json_pack("{s:I, s:I, s:I, s:I, s:I}", "pass", (json_int_t)pass, "fail",
                      (json_int_t)counts[R_FAIL], "warn", (json_int_t)counts[R_WARN], "error",
                      (json_int_t)counts[R_ERROR], "skip", (json_int_t)counts[R_SKIP])) < 0)
        goto oom;
    if (json_object_set_new(rep, "results", results) < 0) { /* steals results, also on failure */
        json_decref(rep);
        return NULL;
    }
    return rep;
oom:
    json_decref(results);
    json_decref(rep);
    return NULL;
}
