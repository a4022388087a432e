#include "server/admission.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/buf.h"

#include "policy/mutate.h"

#define WARNING_MAX 119      /* kube-apiserver truncates warnings; keep each under 120 */
#define MESSAGE_MAX 4000     /* status.message: long enough for several findings */
#define ANNOTATION_MAX 2000

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

/* Fills the object view from the request when the object itself is silent (kubewarden data omits
 * apiVersion/kind; namespaced objects usually omit metadata.namespace on CREATE). */
static int fill_identity(struct admission *a, json_t *req, json_t *object, struct err *e)
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
    if (!object && !old && *a->operation && strcmp(a->operation, "DELETE") != 0 &&
        strcmp(a->operation, "CONNECT") != 0) {
        err_set(e, "missing request.object for operation %s", a->operation);
        goto fail;
    }
    /* A DELETE carries only oldObject: judge what is being removed. */
    if (fill_identity(a, req, object ? object : old, e) < 0)
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
    return verdict_decide(pol, &a->obj, &a->ctx, v, e);
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

/* Cuts s to at most max bytes without splitting a UTF-8 sequence, marking the cut with "...". */
static void truncate_utf8(char *s, size_t max)
{
    size_t n = strlen(s);

    if (n <= max)
        return;
    n = max - 3;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    memcpy(s + n, "...", 4);
}

static void finding_text(struct buf *b, const struct finding *f)
{
    if (f->path && *f->path)
        buf_printf(b, "%s: %s", f->path, f->message ? f->message : "");
    else
        buf_puts(b, f->message ? f->message : "");
}

/* The sentence a person reads in kubectl's error: what was denied and why, naming fields. */
static char *deny_message(const struct admission *a, const struct verdict *v,
                          const struct err *eval_err)
{
    struct buf b;
    int n = 0;
    char *s;

    buf_init(&b, 0);
    buf_printf(&b, "egressguard denied %s %s%s%s: ", a->obj.kind, a->obj.ns,
               *a->obj.ns ? "/" : "", a->obj.name);
    if (eval_err) {
        buf_printf(&b, "the object cannot be evaluated: %s", eval_err->msg);
    } else {
        for (size_t i = 0; i < v->n_findings; i++) {
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
    s = buf_detach(&b, NULL);
    if (s)
        truncate_utf8(s, MESSAGE_MAX);
    return s;
}

/* Appends b's text, cut under the API server's warning limit, to *arr (created on first use). */
static int push_warning(json_t **arr, struct buf *b)
{
    char *s = buf_detach(b, NULL);
    int rc;

    if (!s || (!*arr && !(*arr = json_array()))) {
        free(s);
        return -1;
    }
    truncate_utf8(s, WARNING_MAX);
    rc = json_array_append_new(*arr, json_string(s));
    free(s);
    return rc;
}

static int add_warnings(json_t *resp, const struct verdict *v)
{
    json_t *arr = NULL;
    struct buf b;

    for (size_t i = 0; i < v->n_findings; i++) {
        const struct finding *f = &v->findings[i];

        if (!f->violation || f->mode != MODE_WARN)
            continue;
        buf_init(&b, 0);
        buf_puts(&b, "egressguard: ");
        finding_text(&b, f);
        if (push_warning(&arr, &b) < 0)
            goto fail;
    }
    /* An exemption is allowed, and said so: the requester learns why nothing was checked. */
    if (v->exemption) {
        buf_init(&b, 0);
        buf_printf(&b, "egressguard: exempt by the policy: %s", v->exemption);
        if (push_warning(&arr, &b) < 0)
            goto fail;
    }
    return arr ? json_object_set_new(resp, "warnings", arr) : 0;
fail:
    json_decref(arr);
    return -1;
}

static int add_annotations(json_t *resp, const struct admission *a, const struct policy *pol,
                           const struct verdict *v, const struct err *eval_err)
{
    json_t *ann = json_object();
    struct buf b;
    char *s;
    int n = 0;

    (void)a;
    if (!ann)
        return -1;
    json_object_set_new(ann, "verdict", json_string(admission_verdict_word(v, eval_err)));
    if (pol) {
        buf_init(&b, 0);
        buf_printf(&b, "%s@%s", pol->name ? pol->name : "", pol->hash);
        if ((s = buf_detach(&b, NULL)))
            json_object_set_new(ann, "policy", json_string(s));
        free(s);
    }
    if (v->exemption)
        json_object_set_new(ann, "exemption", json_string(v->exemption));
    buf_init(&b, 0);
    for (size_t i = 0; !eval_err && i < v->n_findings; i++) {
        const struct finding *f = &v->findings[i];
        if (!f->violation)
            continue;
        if (n++)
            buf_puts(&b, "; ");
        buf_printf(&b, "[%s %s] ", mode_name(f->mode), f->rule ? f->rule : "");
        finding_text(&b, f);
    }
    if (n && (s = buf_detach(&b, NULL))) {
        truncate_utf8(s, ANNOTATION_MAX);
        json_object_set_new(ann, "findings", json_string(s));
        free(s);
    }
    buf_release(&b);
    return json_object_set_new(resp, "auditAnnotations", ann);
}

static int add_patch(json_t *resp, const struct verdict *v)
{
    char *text, *b64;
    int rc;

    if (!json_is_array(v->patch) || json_array_size(v->patch) == 0)
        return 0;
    if (!(text = json_dumps(v->patch, JSON_COMPACT)))
        return -1;
    b64 = admission_base64((const unsigned char *)text, strlen(text));
    free(text);
    if (!b64)
        return -1;
    rc = json_object_set_new(resp, "patch", json_string(b64));
    free(b64);
    if (rc < 0)
        return -1;
    return json_object_set_new(resp, "patchType", json_string("JSONPatch"));
}

char *admission_encode(const struct admission *a, const struct policy *pol,
                       const struct verdict *v, const struct err *eval_err, size_t *len)
{
    bool allowed = !eval_err && v->allowed;
    json_t *out = NULL, *resp;
    char *msg = NULL, *text = NULL;

    if (allowed) {
        msg = strdup(v->exemption ? "allowed: exempt" : "allowed");
    } else {
        msg = deny_message(a, v, eval_err);
    }
    if (!msg)
        return NULL;
    out = json_pack("{s:s, s:s, s:{s:s, s:b, s:{s:i, s:s}}}", "apiVersion",
                    a->version == ADMISSION_V1BETA1 ? "admission.k8s.io/v1beta1"
                                                    : "admission.k8s.io/v1",
                    "kind", "AdmissionReview", "response", "uid", a->uid, "allowed", allowed,
                    "status", "code", allowed ? 200 : (eval_err ? 400 : 403), "message", msg);
    if (!out)
        goto out;
    resp = json_object_get(out, "response");
    if (add_warnings(resp, v) < 0 || add_annotations(resp, a, pol, v, eval_err) < 0 ||
        (allowed && add_patch(resp, v) < 0))
        goto out;
    text = json_dumps(out, JSON_COMPACT);
    if (text && len)
        *len = strlen(text);
out:
    json_decref(out);
    free(msg);
    return text;
}
