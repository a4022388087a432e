#include "server/webhook/admission.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/decide.h"
#include "policy/base/buf.h"

#include "policy/mutate/mutate.h"

#define WARNING_MAX 119  /* kube-apiserver truncates warnings; keep each under 120 */
#define WARNINGS_MAX 16  /* ... and many of them too: the rest are counted in one more */
#define MESSAGE_MAX 4000 /* status.message: long enough for several findings */
#define ANNOTATION_MAX 2000
/* A text assembled from findings (whose messages quote the object). Findings stop being added
 * once the text is longer than it will be shown, so this bounds the one finding that crosses. */
#define FINDINGS_TEXT_CAP ((size_t)1 << 20)
/* The whole answer: the parts above, a uid of at most UID_MAX, the policy's name, exemption and
 * mutation patch (from the policy file, not the request). */
#define RESPONSE_CAP ((size_t)4 << 20)
#define UID_MAX 256 /* kube-apiserver sends a UUID (36 characters) */
/* What a common answer takes (~600 bytes; a finding's sentence ~300): reserved in one allocation
 * at the start, so that the buffer does not grow by doubling from 64 bytes on every request. A
 * reservation that fails marks the buffer failed as an append would, which its end checks. */
#define RESPONSE_RESERVE ((size_t)1024)
#define TEXT_RESERVE ((size_t)512)

static const char *str_or_empty(const json_t *j)
{
    const char *s = json_string_value(j);
    return s ? s : "";
}

/* A member that must be an object or null/absent. */
static int opt_object(json_t *parent, const char *key, json_t **out, struct err *e)
{
    json_t *j = json_object_get(parent, key);

    *out = NULL;
    if (!j || json_is_null(j))
        return 0;
    if (!json_is_object(j))
        return err_set(e, "request.%s must be an object", key);
    *out = j;
    return 0;
}

static int opt_string(json_t *parent, const char *key, const char **out, struct err *e)
{
    json_t *j = json_object_get(parent, key);

    *out = "";
    if (!j || json_is_null(j))
        return 0;
    if (!json_is_string(j))
        return err_set(e, "request.%s must be a string", key);
    *out = json_string_value(j);
    return 0;
}

/*
 * The parts of a review must describe one object. kube-apiserver builds request.kind and
 * request.namespace from the object it sends (with matchPolicy Equivalent, converted to the
 * version named in request.kind: "Matching requests: matchPolicy", Kubernetes dynamic admission
 * control docs), so a disagreement means the review was not built by an API server or was
 * altered; judging one part and answering for another could admit what was never checked.
 * Parts that are absent are not a disagreement (test corpora omit them; the object view is
 * filled from the request then).
 */
static int check_part(const char *which, const json_t *o, const char *group, const char *version,
                      const char *kind, const char *ns, struct err *e)
{
    const char *okind = str_or_empty(json_object_get(o, "kind"));
    const char *oapi = str_or_empty(json_object_get(o, "apiVersion"));
    const char *ons = str_or_empty(json_object_get(json_object_get(o, "metadata"), "namespace"));
    const char *slash = strchr(oapi, '/');
    size_t glen = slash ? (size_t)(slash - oapi) : 0;

    if (*kind && *okind && strcmp(kind, okind))
        return err_set(e, "parts disagree: request.kind.kind is \"%s\" but %s.kind is \"%s\"",
                       kind, which, okind);
    if (*version && *oapi &&
        (strlen(group) != glen || strncmp(group, oapi, glen) ||
         strcmp(version, slash ? slash + 1 : oapi)))
        return err_set(e,
                       "parts disagree: request.kind is group \"%s\" version \"%s\" but %s."
                       "apiVersion is \"%s\"",
                       group, version, which, oapi);
    if (*ons && strcmp(ns, ons))
        return err_set(e,
                       "parts disagree: request.namespace is \"%s\" but %s.metadata.namespace "
                       "is \"%s\"",
                       ns, which, ons);
    return 0;
}

/* Fills the object view (of the object, or of oldObject without one) from the request where the
 * object is silent (kubewarden data omits apiVersion/kind; namespaced objects usually omit
 * metadata.namespace on CREATE), once the parts are known to agree. */
static int fill_identity(struct admission *a, json_t *req, json_t *object, json_t *old,
                         struct err *e)
{
    json_t *rkind = json_object_get(req, "kind");
    const char *group = "", *version = "", *kind = "", *ns, *name;

    if (rkind && !json_is_null(rkind)) {
        if (!json_is_object(rkind))
            return err_set(e, "request.kind must be an object {group, version, kind}");
        group = str_or_empty(json_object_get(rkind, "group"));
        version = str_or_empty(json_object_get(rkind, "version"));
        kind = str_or_empty(json_object_get(rkind, "kind"));
    }
    if (opt_string(req, "namespace", &ns, e) < 0 || opt_string(req, "name", &name, e) < 0)
        return -1;
    if ((object && check_part("request.object", object, group, version, kind, ns, e) < 0) ||
        (old && check_part("request.oldObject", old, group, version, kind, ns, e) < 0))
        return -1;

    if (!object)
        object = old;
    if (!object) {
        a->synthetic = json_pack("{s:s, s:{s:s, s:s}}", "kind", kind, "metadata", "name", name,
                                 "namespace", ns);
        if (!a->synthetic)
            return err_set(e, "out of memory");
        object = a->synthetic;
    }
    object_init(&a->obj, object, NULL);
    a->obj.file = "";
    if (!*a->obj.kind)
        a->obj.kind = kind;
    if (!*a->obj.api_version && *version) {
        if (*group)
            snprintf(a->api_version, sizeof(a->api_version), "%s/%s", group, version);
        else
            snprintf(a->api_version, sizeof(a->api_version), "%s", version);
        a->obj.api_version = a->api_version;
    }
    if (!*a->obj.ns)
        a->obj.ns = ns;
    if (!*a->obj.name)
        a->obj.name = name;
    if (!*a->obj.kind)
        return err_set(e, "missing request.kind (and the object has no kind)");
    return 0;
}

int admission_decode_json(struct admission *a, json_t *root, int flags, struct err *e)
{
    json_t *req, *object, *old, *user = NULL, *groups = NULL, *dry;
    const char *api_version, *kind;

    memset(a, 0, sizeof(*a));
    a->root = root;
    if (!json_is_object(root)) {
        err_set(e, "the body must be a JSON object (an AdmissionReview)");
        goto fail;
    }
    req = json_object_get(root, "request");
    api_version = str_or_empty(json_object_get(root, "apiVersion"));
    kind = str_or_empty(json_object_get(root, "kind"));
    if (!req && (flags & ADMISSION_ALLOW_BARE) && json_object_get(root, "uid") && !*kind) {
        a->version = ADMISSION_BARE;
        req = root;
    } else {
        if (strcmp(kind, "AdmissionReview") != 0) {
            err_set(e, "kind must be AdmissionReview, not \"%s\"", kind);
            goto fail;
        }
        if (!strcmp(api_version, "admission.k8s.io/v1")) {
            a->version = ADMISSION_V1;
        } else if (!strcmp(api_version, "admission.k8s.io/v1beta1")) {
            a->version = ADMISSION_V1BETA1;
        } else {
            err_set(e, "unsupported apiVersion \"%s\" (want admission.k8s.io/v1 or v1beta1)",
                    api_version);
            goto fail;
        }
        if (!json_is_object(req)) {
            err_set(e, "missing request (an object)");
            goto fail;
        }
    }
    a->uid = json_string_value(json_object_get(req, "uid"));
    if (!a->uid || !*a->uid) {
        err_set(e, "missing request.uid");
        goto fail;
    }
    if (strlen(a->uid) > UID_MAX) {
        err_set(e, "request.uid is longer than %d bytes", UID_MAX);
        goto fail;
    }
    if (opt_string(req, "operation", &a->operation, e) < 0 ||
        opt_object(req, "object", &object, e) < 0 || opt_object(req, "oldObject", &old, e) < 0 ||
        opt_object(req, "userInfo", &user, e) < 0)
        goto fail;
    if (user) {
        a->username = str_or_empty(json_object_get(user, "username"));
        groups = json_object_get(user, "groups");
        if (groups && !json_is_array(groups) && !json_is_null(groups)) {
            err_set(e, "request.userInfo.groups must be an array");
            goto fail;
        }
    } else {
        a->username = "";
    }
    dry = json_object_get(req, "dryRun");
    if (dry && !json_is_boolean(dry) && !json_is_null(dry)) {
        err_set(e, "request.dryRun must be a boolean");
        goto fail;
    }
    /* CREATE and UPDATE are judged on the object they store, never on an oldObject alone. */
    if (!object && *a->operation && strcmp(a->operation, "DELETE") != 0 &&
        strcmp(a->operation, "CONNECT") != 0) {
        err_set(e, "missing request.object for operation %s", a->operation);
        goto fail;
    }
    if (old && !strcmp(a->operation, "CREATE")) {
        err_set(e, "parts disagree: request.oldObject is set for operation CREATE");
        goto fail;
    }
    /* A DELETE carries only oldObject: judge what is being removed. */
    if (fill_identity(a, req, object, old, e) < 0)
        goto fail;
    a->ctx.operation = *a->operation ? a->operation : NULL;
    a->ctx.old_object = old;
    a->ctx.username = a->username;
    a->ctx.groups = json_is_array(groups) ? groups : NULL;
    a->ctx.dry_run = json_is_true(dry);
    a->ctx.namespaces = NULL;
    return 0;
fail:
    admission_release(a);
    return -1;
}

int admission_decode(struct admission *a, const char *data, size_t len, int flags, struct err *e)
{
    json_error_t jerr;
    json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);

    if (!root) {
        memset(a, 0, sizeof(*a));
        return err_set(e, "malformed JSON at line %d column %d: %s", jerr.line, jerr.column,
                       jerr.text);
    }
    return admission_decode_json(a, root, flags, e);
}

void admission_release(struct admission *a)
{
    json_decref(a->synthetic);
    json_decref(a->root);
    memset(a, 0, sizeof(*a));
}

int admission_decide(const struct policy *pol, enum admission_op op, struct admission *a,
                     struct verdict *v, struct err *e)
{
    if (op == ADMISSION_MUTATE) {
        return mutate_decide(pol, &a->obj, &a->ctx, v, e);
    }
    return decide_object(pol, &a->obj, &a->ctx, v, e);
}

const char *admission_verdict_word(const struct verdict *v, const struct err *eval_err)
{
    if (eval_err)
        return "error";
    if (!v->allowed)
        return "deny";
    for (size_t i = 0; i < v->n_findings; i++)
        if (v->findings[i].violation && v->findings[i].mode == MODE_WARN)
            return "warn";
    return "allow";
}

char *admission_base64(const unsigned char *data, size_t len)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t out_len = 4 * ((len + 2) / 3);
    char *out = malloc(out_len + 1), *p = out;

    if (!out)
        return NULL;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t n = (uint32_t)data[i] << 16;
        if (i + 1 < len)
            n |= (uint32_t)data[i + 1] << 8;
        if (i + 2 < len)
            n |= data[i + 2];
        *p++ = tab[(n >> 18) & 63];
        *p++ = tab[(n >> 12) & 63];
        *p++ = i + 1 < len ? tab[(n >> 6) & 63] : '=';
        *p++ = i + 2 < len ? tab[n & 63] : '=';
    }
    *p = '\0';
    return out;
}

static void finding_text(struct buf *b, const struct finding *f)
{
    /* plain appends: a format would copy the long message through vfprintf */
    if (f->path && *f->path) {
        buf_puts(b, f->path);
        buf_puts(b, ": ");
    }
    buf_puts(b, f->message ? f->message : "");
}

/* The sentence a person reads in kubectl's error: what was denied and why, naming fields. */
static char *deny_message(const struct admission *a, const struct verdict *v,
                          const struct err *eval_err)
{
    struct buf b;
    int n = 0;
    char *s;

    buf_init(&b, FINDINGS_TEXT_CAP);
    (void)buf_reserve(&b, TEXT_RESERVE);
    buf_printf(&b, "egressguard denied %s %s%s%s: ", a->obj.kind, a->obj.ns, *a->obj.ns ? "/" : "",
               a->obj.name);
    if (eval_err) {
        buf_printf(&b, "the object cannot be evaluated: %s", eval_err->msg);
    } else {
        for (size_t i = 0; i < v->n_findings && b.len <= MESSAGE_MAX; i++) {
            const struct finding *f = &v->findings[i];
            if (!f->violation || f->mode != MODE_ENFORCE)
                continue;
            if (n++)
                buf_puts(&b, "; ");
            finding_text(&b, f);
        }
        if (!n)
            buf_puts(&b, "denied by policy");
    }
    buf_cut_utf8(&b, MESSAGE_MAX, "...");
    s = buf_detach(&b, NULL);
    return s;
}

/*
 * The response is written straight into a buffer rather than built as a jansson tree and dumped:
 * on a denial that was a third of what answering costs beyond parsing the request.
 */
static void put_member(struct buf *b, bool *first, const char *key, const char *text)
{
    buf_puts(b, *first ? "" : ",");
    *first = false;
    buf_json_string(b, key);
    buf_puts(b, ":");
    buf_json_string(b, text);
}

static void put_warnings(struct buf *out, const struct verdict *v)
{
    struct buf w;
    bool any = false;
    size_t n = 0;

    buf_init(&w, FINDINGS_TEXT_CAP);
    (void)buf_reserve(&w, TEXT_RESERVE);
    for (size_t i = 0; i < v->n_findings; i++) {
        const struct finding *f = &v->findings[i];

        /* Warn-mode violations, and an exemption that ends soon or has ended. */
        if (((!f->violation || f->mode != MODE_WARN) && strncmp(f->rule, "exemption.", 10)) ||
            n++ >= WARNINGS_MAX)
            continue;
        buf_reset(&w);
        buf_puts(&w, "egressguard: ");
        finding_text(&w, f);
        buf_puts(out, any ? "," : ",\"warnings\":[");
        any = true;
        buf_cut_utf8(&w, WARNING_MAX, "...");
        buf_json_string(out, buf_str(&w));
    }
    if (n > WARNINGS_MAX)
        buf_printf(out, ",\"egressguard: %zu more warnings\"", n - WARNINGS_MAX);
    /* An exemption is allowed, and said so: the requester learns why nothing was checked. */
    if (v->exemption) {
        buf_reset(&w);
        buf_printf(&w, "egressguard: exempt by the policy: %s", v->exemption);
        buf_puts(out, any ? "," : ",\"warnings\":[");
        any = true;
        buf_cut_utf8(&w, WARNING_MAX, "...");
        buf_json_string(out, buf_str(&w));
    }
    if (any)
        buf_puts(out, "]");
    if (w.failed)
        out->failed = true;
    buf_release(&w);
}

static void put_annotations(struct buf *out, const struct policy *pol, const struct verdict *v,
                            const struct err *eval_err)
{
    struct buf b;
    bool first = true;
    int n = 0;

    buf_puts(out, ",\"auditAnnotations\":{");
    put_member(out, &first, "verdict", admission_verdict_word(v, eval_err));
    buf_init(&b, FINDINGS_TEXT_CAP);
    if (pol) {
        buf_puts(&b, pol->name ? pol->name : "");
        buf_puts(&b, "@");
        buf_puts(&b, pol->hash);
        put_member(out, &first, "policy", buf_str(&b));
    }
    if (v->exemption)
        put_member(out, &first, "exemption", v->exemption);
    buf_reset(&b);
    for (size_t i = 0; !eval_err && i < v->n_findings && b.len <= ANNOTATION_MAX; i++) {
        const struct finding *f = &v->findings[i];
        if (!f->violation)
            continue;
        if (n++)
            buf_puts(&b, "; ");
        buf_puts(&b, "[");
        buf_puts(&b, mode_name(f->mode));
        buf_puts(&b, " ");
        buf_puts(&b, f->rule ? f->rule : "");
        buf_puts(&b, "] ");
        finding_text(&b, f);
    }
    buf_cut_utf8(&b, ANNOTATION_MAX, "...");
    if (n)
        put_member(out, &first, "findings", buf_str(&b));
    if (b.failed)
        out->failed = true;
    buf_release(&b);
    buf_puts(out, "}");
}

static int put_patch(struct buf *out, const struct verdict *v)
{
    char *text, *b64;

    if (!json_is_array(v->patch) || json_array_size(v->patch) == 0)
        return 0;
    if (!(text = json_dumps(v->patch, JSON_COMPACT)))
        return -1;
    b64 = admission_base64((const unsigned char *)text, strlen(text));
    free(text);
    if (!b64)
        return -1;
    buf_puts(out, ",\"patch\":\"");
    buf_puts(out, b64); /* base64: nothing to escape */
    buf_puts(out, "\",\"patchType\":\"JSONPatch\"");
    free(b64);
    return 0;
}

char *admission_encode(const struct admission *a, const struct policy *pol, const struct verdict *v,
                       const struct err *eval_err, size_t *len)
{
    bool allowed = !eval_err && v->allowed;
    struct buf out;
    char *msg;

    msg = allowed ? strdup(v->exemption ? "allowed: exempt" : "allowed")
                  : deny_message(a, v, eval_err);
    if (!msg)
        return NULL;
    buf_init(&out, RESPONSE_CAP);
    (void)buf_reserve(&out, RESPONSE_RESERVE);
    buf_puts(&out, a->version == ADMISSION_V1BETA1
                       ? "{\"apiVersion\":\"admission.k8s.io/v1beta1\",\"kind\":\"AdmissionReview\","
                         "\"response\":{\"uid\":"
                       : "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","
                         "\"response\":{\"uid\":");
    buf_json_string(&out, a->uid);
    buf_puts(&out, allowed ? ",\"allowed\":true,\"status\":{\"code\":200,\"message\":"
                   : eval_err ? ",\"allowed\":false,\"status\":{\"code\":400,\"message\":"
                              : ",\"allowed\":false,\"status\":{\"code\":403,\"message\":");
    buf_json_string(&out, msg);
    buf_puts(&out, "}");
    put_warnings(&out, v);
    put_annotations(&out, pol, v, eval_err);
    if (allowed && put_patch(&out, v) < 0)
        out.failed = true;
    buf_puts(&out, "}}");
    free(msg);
    return buf_detach(&out, len);
}
