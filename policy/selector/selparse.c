/*
 * Calico's selector language (libcalico-go lib/selector): a tokenizer and a recursive-descent
 * parser. Grammar, lowest precedence first:
 *
 *   or    := and ('||' and)*
 *   and   := unary ('&&' unary)*
 *   unary := '!'* primary
 *   primary := 'has(' label ')' | 'all(' ')' | 'global(' ')' | '(' or ')'
 *            | label ('==' | '!=' | 'contains' | 'starts with' | 'ends with') string
 *            | label ('in' | 'not in') '{' (string (',' string)* ','?)? '}'
 *
 * As in Calico: labels are [A-Za-z0-9_./-]+; strings are '...' or "..." without escapes;
 * whitespace is space and tab; `notin`, `startswith`, `endswith` are accepted spellings;
 * `has`, `all`, `global` are keywords only when '(' follows at once. Calico also takes an
 * operator word glued to what follows (`a inx`); we want a word boundary there.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/selector/selector.h"
#include "policy/selector/selnode.h"

enum tok {
    T_EOF,
    T_LABEL,
    T_STRING,
    T_LPAREN,
    T_RPAREN,
    T_LBRACE,
    T_RBRACE,
    T_COMMA,
    T_EQ,
    T_NE,
    T_NOT,
    T_AND,
    T_OR,
    T_HAS,
    T_ALL,
    T_GLOBAL,
};

struct parser {
    const char *text;
    size_t pos;        /* where the lexer continues */
    enum tok kind;     /* the current token */
    size_t start;      /* its offset in text */
    const char *val;   /* LABEL, STRING: the characters, not NUL-terminated */
    size_t vlen;
    int depth;         /* open parentheses */
    struct err *e;
};

static bool is_label_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '.' || c == '/' || c == '-';
}

static int fail_at(struct parser *p, size_t offset, const char *msg)
{
    err_set(p->e, "%s", msg);
    return err_at(p->e, NULL, 0, (int)offset + 1);
}

/* A short description of the current token for "expected X but found Y" messages. */
static void describe(const struct parser *p, char *out, size_t size)
{
    static const char *const names[] = {
        [T_LPAREN] = "'('", [T_RPAREN] = "')'", [T_LBRACE] = "'{'",    [T_RBRACE] = "'}'",
        [T_COMMA] = "','",  [T_EQ] = "'=='",    [T_NE] = "'!='",       [T_NOT] = "'!'",
        [T_AND] = "'&&'",   [T_OR] = "'||'",    [T_HAS] = "'has('",   [T_ALL] = "'all('",
        [T_GLOBAL] = "'global('",
    };
    int n = p->vlen > 40 ? 40 : (int)p->vlen;
    const char *more = p->vlen > 40 ? "..." : "";

    if (p->kind == T_EOF)
        snprintf(out, size, "end of input");
    else if (p->kind == T_LABEL)
        snprintf(out, size, "label \"%.*s%s\"", n, p->val, more);
    else if (p->kind == T_STRING)
        snprintf(out, size, "string \"%.*s%s\"", n, p->val, more);
    else
        snprintf(out, size, "%s", names[p->kind]);
}

static int expected(struct parser *p, const char *what)
{
    char found[96];

    describe(p, found, sizeof(found));
    err_set(p->e, "expected %s but found %s", what, found);
    return err_at(p->e, NULL, 0, (int)p->start + 1);
}

static bool word_then_paren(const char *s, const char *word)
{
    size_t n = strlen(word);

    return strncmp(s, word, n) == 0 && s[n] == '(';
}

/* Reads the next token into p. Returns 0, or -1 with p->e set. */
static int next(struct parser *p)
{
    const char *t = p->text;
    size_t i = p->pos;
    const char *q;
    char c;

    while (t[i] == ' ' || t[i] == '\t')
        i++;
    p->start = i;
    p->val = NULL;
    p->vlen = 0;
    c = t[i];
    switch (c) {
    case '\0':
        p->kind = T_EOF;
        p->pos = i;
        return 0;
    case '(':
        p->kind = T_LPAREN;
        break;
    case ')':
        p->kind = T_RPAREN;
        break;
    case '{':
        p->kind = T_LBRACE;
        break;
    case '}':
        p->kind = T_RBRACE;
        break;
    case ',':
        p->kind = T_COMMA;
        break;
    case '"':
    case '\'':
        if (!(q = strchr(t + i + 1, c)))
            return fail_at(p, i, "unterminated string");
        p->kind = T_STRING;
        p->val = t + i + 1;
        p->vlen = (size_t)(q - (t + i + 1));
        p->pos = (size_t)(q - t) + 1;
        return 0;
    case '=':
        if (t[i + 1] != '=')
            return fail_at(p, i, "expected '==' but found '='");
        p->kind = T_EQ;
        i++;
        break;
    case '!':
        p->kind = t[i + 1] == '=' ? T_NE : T_NOT;
        i += p->kind == T_NE;
        break;
    case '&':
        if (t[i + 1] != '&')
            return fail_at(p, i, "expected '&&' but found '&'");
        p->kind = T_AND;
        i++;
        break;
    case '|':
        if (t[i + 1] != '|')
            return fail_at(p, i, "expected '||' but found '|'");
        p->kind = T_OR;
        i++;
        break;
    default:
        if (word_then_paren(t + i, "has")) {
            p->kind = T_HAS;
            p->pos = i + 4;
            return 0;
        }
        if (word_then_paren(t + i, "all")) {
            p->kind = T_ALL;
            p->pos = i + 4;
            return 0;
        }
        if (word_then_paren(t + i, "global")) {
            p->kind = T_GLOBAL;
            p->pos = i + 7;
            return 0;
        }
        if (is_label_char(c)) {
            p->kind = T_LABEL;
            p->val = t + i;
            while (is_label_char(t[i]))
                i++;
            p->vlen = (size_t)(t + i - p->val);
            p->pos = i;
            return 0;
        }
        err_set(p->e, (c >= 0x21 && c < 0x7f) ? "unexpected character '%c'"
                                              : "unexpected character '\\x%02x'",
                c >= 0x21 && c < 0x7f ? (unsigned)c : (unsigned)(unsigned char)c);
        return err_at(p->e, NULL, 0, (int)i + 1);
    }
    p->pos = i + 1;
    return 0;
}

static bool is_word(const struct parser *p, const char *w)
{
    return p->kind == T_LABEL && p->vlen == strlen(w) && memcmp(p->val, w, p->vlen) == 0;
}

static char *copy_val(const struct parser *p)
{
    char *s = malloc(p->vlen + 1);

    if (s) {
        memcpy(s, p->val, p->vlen);
        s[p->vlen] = '\0';
    }
    return s;
}

static int oom(struct parser *p)
{
    return err_set(p->e, "out of memory");
}

static struct selector *parse_or(struct parser *p);

/* After `label in` / `label not in`: the set literal, ending after '}'. */
static struct selector *parse_set(struct parser *p, enum selnode_op op, const char *key)
{
    struct selector *s = NULL;
    char **vals = NULL, **grown;
    size_t n = 0, alloc = 0, i;
    bool after_string = false;

    if (p->kind != T_LBRACE) {
        expected(p, "'{'");
        return NULL;
    }
    if (next(p) < 0)
        return NULL;
    while (p->kind == T_STRING) {
        if (n == alloc) {
            alloc = alloc ? alloc * 2 : 4;
            if (!(grown = realloc(vals, alloc * sizeof(*vals)))) {
                oom(p);
                goto out;
            }
            vals = grown;
        }
        if (!(vals[n] = copy_val(p))) {
            oom(p);
            goto out;
        }
        n++;
        if (next(p) < 0)
            goto out;
        if (p->kind != T_COMMA) {
            after_string = true;
            break;
        }
        if (next(p) < 0)
            goto out;
    }
    if (p->kind != T_RBRACE) {
        expected(p, after_string ? "',' or '}'" : "a quoted string or '}'");
        goto out;
    }
    if (next(p) < 0)
        goto out;
    if (!(s = selnode_leaf(op, key, (const char *const *)vals, n)))
        oom(p);
out:
    for (i = 0; i < n; i++)
        free(vals[i]);
    free(vals);
    return s;
}

/* The current token is a label: read its operator and operand. */
static struct selector *parse_comparison(struct parser *p)
{
    enum selnode_op op;
    struct selector *s = NULL;
    char *key, *val = NULL;

    if (!(key = copy_val(p))) {
        oom(p);
        return NULL;
    }
    if (next(p) < 0)
        goto out;
    if (p->kind == T_EQ || p->kind == T_NE) {
        op = p->kind == T_EQ ? SEL_EQ : SEL_NE;
    } else if (is_word(p, "in") || is_word(p, "notin")) {
        op = is_word(p, "in") ? SEL_IN : SEL_NOTIN;
    } else if (is_word(p, "not")) {
        if (next(p) < 0)
            goto out;
        if (!is_word(p, "in")) {
            expected(p, "'in' after 'not'");
            goto out;
        }
        op = SEL_NOTIN;
    } else if (is_word(p, "contains")) {
        op = SEL_CONTAINS;
    } else if (is_word(p, "startswith") || is_word(p, "endswith")) {
        op = is_word(p, "startswith") ? SEL_STARTS : SEL_ENDS;
    } else if (is_word(p, "starts") || is_word(p, "ends")) {
        op = is_word(p, "starts") ? SEL_STARTS : SEL_ENDS;
        if (next(p) < 0)
            goto out;
        if (!is_word(p, "with")) {
            expected(p, op == SEL_STARTS ? "'with' after 'starts'" : "'with' after 'ends'");
            goto out;
        }
    } else {
        char what[160];

        snprintf(what, sizeof(what),
                 "an operator (==, !=, in, not in, contains, starts with, ends with) after "
                 "label \"%.40s%s\"",
                 key, strlen(key) > 40 ? "..." : "");
        expected(p, what);
        goto out;
    }
    if (next(p) < 0)
        goto out;
    if (op == SEL_IN || op == SEL_NOTIN) {
        s = parse_set(p, op, key);
        goto out;
    }
    if (p->kind != T_STRING) {
        expected(p, "a quoted string");
        goto out;
    }
    if (!(val = copy_val(p))) {
        oom(p);
        goto out;
    }
    if (next(p) < 0)
        goto out;
    if (!(s = selnode_leaf(op, key, (const char *const *)&val, 1)))
        oom(p);
out:
    free(val);
    free(key);
    return s;
}

/* `has(`, `all(`, `global(` have been read; the rest up to ')'. */
static struct selector *parse_call(struct parser *p, enum tok kind)
{
    struct selector *s = NULL;
    char *key = NULL;

    if (next(p) < 0)
        return NULL;
    if (kind == T_HAS) {
        if (p->kind != T_LABEL) {
            expected(p, "a label inside has()");
            return NULL;
        }
        if (!(key = copy_val(p))) {
            oom(p);
            return NULL;
        }
        if (next(p) < 0)
            goto out;
    }
    if (p->kind != T_RPAREN) {
        expected(p, "')'");
        goto out;
    }
    if (next(p) < 0)
        goto out;
    s = selnode_leaf(kind == T_HAS ? SEL_HAS : kind == T_ALL ? SEL_ALL : SEL_GLOBAL, key, NULL, 0);
    if (!s)
        oom(p);
out:
    free(key);
    return s;
}

static struct selector *parse_unary(struct parser *p)
{
    struct selector *s = NULL;
    bool negate = false;

    while (p->kind == T_NOT) {
        negate = !negate;
        if (next(p) < 0)
            return NULL;
    }
    switch (p->kind) {
    case T_HAS:
    case T_ALL:
    case T_GLOBAL:
        s = parse_call(p, p->kind);
        break;
    case T_LABEL:
        s = parse_comparison(p);
        break;
    case T_LPAREN:
        if (++p->depth > SELNODE_MAX_DEPTH) {
            fail_at(p, p->start, "selector nested too deeply");
            return NULL;
        }
        if (next(p) < 0 || !(s = parse_or(p)))
            return NULL;
        if (p->kind != T_RPAREN) {
            expected(p, "')'");
            selector_free(s);
            return NULL;
        }
        p->depth--;
        if (next(p) < 0) {
            selector_free(s);
            return NULL;
        }
        break;
    default:
        expected(p, "a label, '(', '!', has(), all() or global()");
        return NULL;
    }
    if (s && negate && !(s = selnode_not(s)))
        oom(p);
    return s;
}

/* One loop for both binary levels: `||` over and-terms, `&&` over unary terms. */
static struct selector *parse_level(struct parser *p, enum tok optok)
{
    enum selnode_op op = optok == T_OR ? SEL_OR : SEL_AND;
    struct selector *s, *rhs;

    s = optok == T_OR ? parse_level(p, T_AND) : parse_unary(p);
    while (s && p->kind == optok) {
        if (next(p) < 0 || !(rhs = optok == T_OR ? parse_level(p, T_AND) : parse_unary(p))) {
            selector_free(s);
            return NULL;
        }
        if (!(s = op == SEL_OR ? selnode_or2(s, rhs) : selnode_and2(s, rhs)))
            oom(p);
    }
    return s;
}

static struct selector *parse_or(struct parser *p)
{
    return parse_level(p, T_OR);
}

struct selector *selector_parse(const char *text, struct err *e)
{
    struct parser p = {.text = text, .e = e};
    struct selector *s;

    if (next(&p) < 0)
        return NULL;
    if (p.kind == T_EOF)
        return selector_all();
    if (!(s = parse_or(&p)))
        return NULL;
    if (p.kind != T_EOF) {
        expected(&p, "'&&', '||' or end of input");
        selector_free(s);
        return NULL;
    }
    return s;
}
