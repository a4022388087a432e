/*
 * libFuzzer harness for the policy loader: arbitrary bytes as an EgressPolicy file. It either
 * loads or fails with a message (a position too, whenever the input parsed as YAML).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "policy/config/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct err e = {0};
    struct policy *p = policy_load_buffer((const char *)data, size, "fuzz.yaml", &e);

    if (!p && !e.msg[0])
        abort();
    if (p) {
        (void)policy_ns_is_ai(p, "ml-team", NULL);
        (void)policy_exemption(p, "Pod", "ns", "name", 0, NULL);
    }
    policy_free(p);
    return 0;
}
