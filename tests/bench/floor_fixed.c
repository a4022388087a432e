/* Floor 1: reads the body, answers a fixed AdmissionReview. */
#include <pthread.h>

#include "floor_common.h"

static char *floor_answer(const char *body, size_t len)
{
    (void)body;
    (void)len;
    return strdup("{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","
                  "\"response\":{\"uid\":\"fixed\",\"allowed\":true}}");
}
