/*
 * libFuzzer harness for the Calico selector parser: parse; format; re-parse the formatted text,
 * which must succeed and format identically; both trees must agree on a fixed label set, and
 * !s must disagree with s there; is_all/is_none proofs must agree with matching.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/selector/selsubset.h"
#include "policy/base/buf.h"
#include "policy/base/err.h"
#include "policy/selector/selector.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct selector *s = NULL, *again = NULL, *neg = NULL;
    struct buf one, two;
    struct err e = {0};
    json_t *labels;
    char *text;

    if (size > 4096)
        return 0;
    if (!(text = malloc(size + 1)))
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    buf_init(&one, 0);
    buf_init(&two, 0);
    labels = json_pack("{s:s, s:s, s:s}", "app", "web", "tier", "", "a.b/c-d_e", "x'y\"z");
    s = selector_parse(text, &e);
    if (!s) {
        /* Errors point into the text (or just past it, for "end of input"). */
        if (e.col < 1 || (size_t)e.col > strlen(text) + 1 || e.line != 0 || !e.msg[0])
            abort();
        goto out;
    }
    if (selector_format(s, &one) < 0)
        abort();
    if (!(again = selector_parse(buf_str(&one), &e)))
        abort();
    if (selector_format(again, &two) < 0 || strcmp(buf_str(&one), buf_str(&two)) != 0)
        abort();
    if (labels && selector_matches(s, labels) != selector_matches(again, labels))
        abort();
    if (labels && selector_eval(s, labels, true) != (selector_matches(s, labels) ? TRI_TRUE
                                                                                 : TRI_FALSE))
        abort();
    neg = selector_not(s);
    if (neg && labels && selector_matches(neg, labels) == selector_matches(s, labels))
        abort();
    /* Proofs must agree with matching. */
    if (labels && selector_is_none(s) && selector_matches(s, labels))
        abort();
    if (labels && selector_is_all(s) && !selector_matches(s, labels))
        abort();
    (void)selector_subset(s, again);
    (void)selector_eval(s, labels, false);
out:
    selector_free(neg);
    selector_free(again);
    selector_free(s);
    json_decref(labels);
    buf_release(&one);
    buf_release(&two);
    free(text);
    return 0;
}
