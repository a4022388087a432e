#include "policy/base/suggest.h"

#include <string.h>

size_t suggest_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), prev[64], cur[64];

    if (la >= 63 || lb >= 63)
        return 99;
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, (lb + 1) * sizeof(size_t));
    }
    return prev[lb];
}

void suggest_init(struct suggest *s, const char *word, size_t max_d)
{
    s->word = word;
    s->best = NULL;
    s->best_d = max_d + 1;
}

void suggest_add(struct suggest *s, const char *candidate)
{
    size_t d = suggest_distance(s->word, candidate);

    if (d < s->best_d && 2 * d <= strlen(s->word)) {
        s->best = candidate;
        s->best_d = d;
    }
}

const char *suggest_best(const struct suggest *s)
{
    return s->best;
}
