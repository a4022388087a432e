#include "server/cmd/opts.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/base/suggest.h"
#include "server/cmd/cli.h"

void opts_init(struct opts *p, const char *cmd, const char *help, const struct opt *table, int argc,
               char **argv)
{
    memset(p, 0, sizeof(*p));
    p->cmd = cmd;
    p->help = help;
    p->table = table;
    p->argc = argc;
    p->argv = argv;
    p->next = 1;
}

int opts_error(const struct opts *p, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return cli_usage_error(p->cmd, "%s: %s", p->name, msg);
}

static int stop(struct opts *p, int status)
{
    p->status = status;
    return OPTS_STOP;
}

static int help(struct opts *p)
{
    if (p->help)
        fputs(p->help, stdout);
    return stop(p, EXIT_PASS);
}

/* The unknown option `word` ("--polcy=x", "-policy"), with the nearest long option if any. */
static void unknown(const struct opts *p, const char *word)
{
    const char *typed = word;
    char bare[64];
    size_t n;
    struct suggest s;
    const char *best;

    /* Compare names without dashes or a value: "-policy" and "--polcy=x" both mean --policy. */
    word += strspn(word, "-");
    n = strcspn(word, "=");
    snprintf(bare, sizeof(bare), "%.*s", (int)(n < sizeof(bare) ? n : sizeof(bare) - 1), word);
    suggest_init(&s, bare, 2);
    for (const struct opt *o = p->table; o->name; o++)
        suggest_add(&s, o->name); /* a long option written with one dash is 0 edits away */
    if ((best = suggest_best(&s)))
        cli_usage_error(p->cmd, "unknown option '%s' (did you mean '--%s'?)", typed, best);
    else
        cli_usage_error(p->cmd, "unknown option '%s'", typed);
}

/* Option o's id with its value (the rest of the word, else the next word), or OPTS_STOP. */
static int take_value(struct opts *p, const struct opt *o, const char *inline_value,
                      const char **value)
{
    if (o->kind == OPT_FLAG) {
        if (inline_value) {
            cli_usage_error(p->cmd, "%s takes no value (got '%s')", p->name, inline_value);
            return stop(p, EXIT_USAGE);
        }
        *value = NULL;
    } else if (inline_value) {
        *value = inline_value;
    } else if (p->next < p->argc) {
        *value = p->argv[p->next++];
    } else {
        cli_usage_error(p->cmd, "%s needs a value", p->name);
        return stop(p, EXIT_USAGE);
    }
    return o->id;
}

static int long_option(struct opts *p, const char *word, const char **value)
{
    const char *name = word + 2, *eq = strchr(name, '=');
    size_t n = eq ? (size_t)(eq - name) : strlen(name);

    for (const struct opt *o = p->table; o->name; o++) {
        if (strlen(o->name) != n || strncmp(o->name, name, n))
            continue;
        snprintf(p->name, sizeof(p->name), "--%s", o->name);
        return take_value(p, o, eq ? eq + 1 : NULL, value);
    }
    if (n == 4 && !strncmp(name, "help", 4) && !eq)
        return help(p);
    unknown(p, word);
    return stop(p, EXIT_USAGE);
}

static int short_option(struct opts *p, const char *word, const char **value)
{
    /* "-policy" is a long option with one dash missing, not -p with the value "olicy". */
    for (const struct opt *o = p->table; o->name && word[2]; o++) {
        if (!strcmp(word + 1, o->name)) {
            unknown(p, word);
            return stop(p, EXIT_USAGE);
        }
    }
    for (const struct opt *o = p->table; o->name; o++) {
        if (!o->letter || o->letter != word[1])
            continue;
        /* -pVALUE for options with a value; a flag stands alone (-v, not -vx). */
        if (word[2] && o->kind == OPT_FLAG)
            break;
        snprintf(p->name, sizeof(p->name), "-%c", o->letter);
        return take_value(p, o, word[2] ? word + 2 : NULL, value);
    }
    if (!strcmp(word, "-h"))
        return help(p);
    unknown(p, word);
    return stop(p, EXIT_USAGE);
}

int opts_next(struct opts *p, const char **value)
{
    const char *word;

    *value = NULL;
    if (p->next >= p->argc)
        return OPTS_END;
    word = p->argv[p->next++];
    if (p->operands_only || word[0] != '-' || !word[1]) {
        *value = word;
        return OPTS_OPERAND;
    }
    if (!strcmp(word, "--")) {
        p->operands_only = true;
        return opts_next(p, value);
    }
    if (word[1] == '-')
        return long_option(p, word, value);
    return short_option(p, word, value);
}

int opts_number(const struct opts *p, const char *value, const char *unit, long long min,
                long long max, long long *out)
{
    char *end;
    long long v;

    errno = 0;
    v = strtoll(value, &end, 10);
    /* strtoll() also takes leading blanks and a '+': a number here is digits, maybe a '-'. */
    if (!(isdigit((unsigned char)value[0]) || value[0] == '-') || *end || errno || v < min ||
        v > max)
        return opts_error(p, "want a whole number%s%s from %lld to %lld, got '%s'",
                          unit ? " of " : "", unit ? unit : "", min, max, value);
    *out = v;
    return 0;
}

int opts_choice(const struct opts *p, const char *value, const char *what,
                const char *const *choices)
{
    char list[256] = "";
    size_t used = 0;
    struct suggest s;
    const char *best;

    suggest_init(&s, value, 2);
    for (int i = 0; choices[i]; i++) {
        if (!strcmp(value, choices[i]))
            return i;
        suggest_add(&s, choices[i]);
        if (used < sizeof(list))
            used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "",
                                     choices[i]);
    }
    if ((best = suggest_best(&s)))
        opts_error(p, "unknown %s '%s' (did you mean '%s'?); one of: %s", what, value, best, list);
    else
        opts_error(p, "unknown %s '%s'; one of: %s", what, value, list);
    return -1;
}
