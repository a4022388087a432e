/*
 * libFuzzer harness for cidr_parse. The input is split at newlines into prefixes (each parsed with
 * and without CIDR_BARE_IP); what parses goes into a set, which is then formatted, split into
 * prefixes and checked: the prefixes must rebuild the same set, and a formatted prefix must parse
 * back to itself unless it is an IPv4-mapped one (which cidr_parse refuses by design).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/sets/cidr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cidrset *s = cidrset_new(), *back = cidrset_new();
    struct cidr *list = NULL;
    char *text = malloc(size + 1);
    char *line, *save = NULL;
    size_t n = 0, i;
    struct buf b;

    if (!s || !back || !text)
        goto out;
    memcpy(text, data, size);
    text[size] = '\0';
    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        struct cidr c, again;
        struct err e = {0};
        char out[CIDR_STRLEN];
        bool norm;

        if (cidr_parse(line, (line[0] & 1) ? CIDR_BARE_IP : CIDR_STRICT, &c, &norm, &e) < 0) {
            if (!e.msg[0])
                abort(); /* a failure must say why */
            continue;
        }
        cidr_format(&c, out, sizeof(out));
        if (cidr_parse(out, CIDR_STRICT, &again, &norm, &e) == 0 &&
            (norm || memcmp(&again, &c, sizeof(c)) != 0))
            abort();
        if (cidrset_add(s, &c) < 0)
            goto out;
    }
    buf_init(&b, 0);
    cidrset_format(s, 3, &b);
    buf_release(&b);
    if (cidrset_prefixes(s, &list, &n) < 0)
        goto out;
    if (cidrset_add_many(back, list, n) < 0)
        goto out;
    if (!cidrset_equal(s, back))
        abort();
    for (i = 1; i < n; i++)
        if (list[i - 1].family == list[i].family &&
            memcmp(list[i - 1].addr, list[i].addr, sizeof(list[i].addr)) >= 0)
            abort();
out:
    free(list);
    free(text);
    cidrset_free(s);
    cidrset_free(back);
    return 0;
}
