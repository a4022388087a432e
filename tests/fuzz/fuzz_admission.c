/* libFuzzer harness: AdmissionReview decoding (any version, bare requests too), the decision with
 * the embedded example policy, and the encoding of the answer. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/config/policy.h"
#include "policy/verdict.h"
#include "server/webhook/admission.h"

extern const char embedded_example_policy[];
extern const size_t embedded_example_policy_len;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Loaded once per process: a harness is single-threaded and this is never written again. */
    static struct policy *pol;
    struct admission a;
    struct err e = {0}, ev = {0};
    struct verdict v;
    char *text;
    size_t len;
    int rc;

    if (!pol) {
        pol = policy_load_buffer(embedded_example_policy, embedded_example_policy_len, "example",
                                 &e);
        if (!pol)
            abort();
    }
    if (admission_decode(&a, (const char *)data, size, ADMISSION_ALLOW_BARE, &e) < 0) {
        if (!e.msg[0])
            abort(); /* every refusal has a reason */
        return 0;
    }
    if (!a.uid || !*a.uid || !a.obj.kind || !*a.obj.kind)
        abort();
    for (int op = 0; op < 2; op++) {
        verdict_init(&v);
        rc = admission_decide(pol, (enum admission_op)op, &a, &v, &ev);
        text = admission_encode(&a, pol, &v, rc < 0 ? &ev : NULL, &len);
        if (text && rc < 0 && strstr(text, "\"allowed\":true"))
            abort(); /* an object that cannot be evaluated is never allowed */
        if (text) {
            /* the answer is written by hand: it must still be JSON, with the uid intact */
            json_t *back = json_loadb(text, len, 0, NULL);
            const char *uid = json_string_value(
                json_object_get(json_object_get(back, "response"), "uid"));
            if (!back || !uid || strcmp(uid, a.uid) != 0)
                abort();
            json_decref(back);
        }
        free(text);
        verdict_release(&v);
    }
    admission_release(&a);
    return 0;
}
