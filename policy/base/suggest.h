#ifndef EGRESSGUARD_SUGGEST_H
#define EGRESSGUARD_SUGGEST_H

/*
 * "Did you mean": the candidate nearest to a word someone typed (a policy field, a command, an
 * option, a render target), when it is near enough to be a typo. Plain value, nothing to free;
 * the word and the candidates are borrowed and must outlive it.
 *
 *     struct suggest s;
 *     suggest_init(&s, "alow", 2);
 *     for (each field f) suggest_add(&s, f);
 *     hint = suggest_best(&s);   // "allow", or NULL
 */

#include <stddef.h>

struct suggest {
    const char *word;
    const char *best; /* NULL until a candidate is near enough */
    size_t best_d;    /* its distance; candidates must beat it */
};

/*
 * Starts a search for candidates at most max_d edits (insertions, deletions, substitutions) away
 * from word. A candidate also has to keep most of the word: at most one edit per two of its
 * characters, so that "xml" does not "mean" yaml, nor "-x" every one-letter option.
 */
void suggest_init(struct suggest *s, const char *word, size_t max_d);

/* Considers one candidate; the first of equally near ones wins. */
void suggest_add(struct suggest *s, const char *candidate);

/* The nearest candidate, or NULL when none was near enough. */
const char *suggest_best(const struct suggest *s);

/* Levenshtein distance; words of 63 characters or more count as far from everything (99). */
size_t suggest_distance(const char *a, const char *b);

#endif
