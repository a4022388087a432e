#include "tests/helpers/policyfix.h"

#include <stdio.h>
#include <string.h>

struct policy *policyfix_load(const char *text, struct err *e)
{
    memset(e, 0, sizeof(*e));
    return policy_load_buffer(text, strlen(text), "p.yaml", e);
}

bool policyfix_refuses(const char *text, int line, int col, const char *msg)
{
    struct err e;
    struct policy *p = policyfix_load(text, &e);
    char buf[700];

    if (p) {
        policy_free(p);
        fprintf(stderr, "accepted: %s\n", text);
        return false;
    }
    err_format(&e, buf, sizeof(buf));
    if (e.line == line && e.col == col && !strcmp(e.msg, msg))
        return true;
    fprintf(stderr, "got   %s\nwant  p.yaml:%d:%d: %s\n", buf, line, col, msg);
    return false;
}
