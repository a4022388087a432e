#ifndef EGRESSGUARD_ADMISSION_H
#define EGRESSGUARD_ADMISSION_H

/*
 * AdmissionReview (admission.k8s.io/v1 and v1beta1) in and out. The server and `egressguard review`
 * both go decode → admission_decide() → encode, so an AdmissionReview gets the same answer from
 * either, and the same verdict as the object on disk under `check` (decide_object()).
 *
 * The body is parsed exactly once (json_loadb); everything in struct admission borrows from that
 * one tree, which admission_release() frees.
 */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "policy/base/err.h"
#include "policy/doc/manifest.h"
#include "policy/config/policy.h"
#include "policy/verdict.h"

enum admission_version {
    ADMISSION_V1 = 0, /* admission.k8s.io/v1 */
    ADMISSION_V1BETA1,
    ADMISSION_BARE, /* a bare AdmissionRequest (only with ADMISSION_ALLOW_BARE); answered as v1 */
};

enum admission_flags {
    ADMISSION_ALLOW_BARE = 1, /* accept the `request` member on its own (test data, `review`) */
};

/* What the webhook is asked: /validate runs decide_object(), /mutate runs mutate_decide(). */
enum admission_op { ADMISSION_VALIDATE = 0, ADMISSION_MUTATE };

struct admission {
    json_t *root; /* owned: the whole parsed document */
    enum admission_version version;
    const char *uid;       /* borrowed from root; never NULL after a successful decode */
    const char *operation; /* "" when absent */
    const char *username;  /* "" when absent */
    struct object obj;     /* the object (oldObject for DELETE); identity filled from the request */
    struct request_ctx ctx;
    json_t *synthetic;       /* owned: a stand-in {apiVersion, kind, metadata} when no object came */
    char api_version[128];   /* "group/version" built from request.kind when the object has none */
};

/*
 * Parses and checks an AdmissionReview. Returns 0 with `a` filled in (release it), or -1 with e
 * set to a reason fit for an HTTP 400 ("missing request.uid", "malformed JSON at line 1 column 7:
 * ..."); `a` needs no release then.
 */
int admission_decode(struct admission *a, const char *data, size_t len, int flags, struct err *e);

/* The same from an already parsed document (YAML input of `review`); steals `root` either way. */
int admission_decode_json(struct admission *a, json_t *root, int flags, struct err *e);

void admission_release(struct admission *a); /* safe on a zeroed struct */

/*
 * Decides: decide_object() for validation, mutate_decide() for mutation. `v` must be
 * verdict_init()ed by the caller and released by it. Returns 0, or -1 with e set when the object
 * cannot be evaluated; the caller must then answer with admission_encode(..., e) which DENIES.
 */
int admission_decide(const struct policy *pol, enum admission_op op, struct admission *a,
                     struct verdict *v, struct err *e);

/*
 * The AdmissionReview response, in the request's version: uid echoed, allowed, status {code,
 * message}, warnings (warn-mode findings, each shorter than 120 characters), auditAnnotations and,
 * when v->patch is a non-empty array, the base64 JSON Patch with patchType "JSONPatch".
 * When `eval_err` is non-NULL the object could not be evaluated: the answer denies with its reason.
 * `pol` may be NULL (only used for the policy annotation). Returns a malloc()ed compact JSON
 * string (length in *len), or NULL on out of memory (or an answer over its cap, which only a
 * policy file with an enormous mutation patch could reach).
 */
char *admission_encode(const struct admission *a, const struct policy *pol,
                       const struct verdict *v, const struct err *eval_err, size_t *len);

/* The verdict word used in logs, metrics and annotations: "allow", "warn", "deny" or "error". */
const char *admission_verdict_word(const struct verdict *v, const struct err *eval_err);

/* Standard base64 of `len` bytes into a malloc()ed NUL-terminated string; NULL on OOM. */
char *admission_base64(const unsigned char *data, size_t len);

#endif
