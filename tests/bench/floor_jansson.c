/* Floor 2: parses the body with jansson (once) and answers with the request's uid. */
#include <jansson.h>
#include <pthread.h>

#include "floor_common.h"

static char *floor_answer(const char *body, size_t len)
{
    json_t *req = json_loadb(body, len, 0, NULL), *reply;
    const char *uid;
    char *out = NULL;

    if (!req)
        return NULL;
    if (json_unpack(req, "{s:{s:s}}", "request", "uid", &uid) == 0) {
        reply = json_pack("{s:s, s:s, s:{s:s, s:b}}", "apiVersion", "admission.k8s.io/v1", "kind",
                          "AdmissionReview", "response", "uid", uid, "allowed", 1);
        out = json_dumps(reply, JSON_COMPACT);
        json_decref(reply);
    }
    json_decref(req);
    return out;
}
