#include "policy/config/identity.h"

#include <stddef.h>
#include <string.h>

#define SA_PREFIX "system:serviceaccount:"

bool identity_is_service_account(const struct policy *p, const struct request_ctx *ctx)
{
    const char *user, *ns, *name, *slash;
    size_t i, ns_len;

    if (!ctx || !ctx->username || strncmp(ctx->username, SA_PREFIX, strlen(SA_PREFIX)) != 0)
        return false;
    user = ctx->username + strlen(SA_PREFIX);
    for (i = 0; i < p->n_service_accounts; i++) {
        ns = p->service_accounts[i];
        slash = strchr(ns, '/');
        if (!slash)
            continue;
        ns_len = (size_t)(slash - ns);
        name = slash + 1;
        if (strncmp(user, ns, ns_len) == 0 && user[ns_len] == ':' &&
            strcmp(user + ns_len + 1, name) == 0)
            return true;
    }
    return false;
}

bool identity_exempt(const struct policy *p, const struct request_ctx *ctx)
{
    size_t i, j;
    const json_t *g;

    if (!ctx)
        return false;
    if (ctx->username)
        for (i = 0; i < p->n_users; i++)
            if (strcmp(ctx->username, p->users[i]) == 0)
                return true;
    json_array_foreach(ctx->groups, j, g) {
        if (!json_is_string(g))
            continue;
        for (i = 0; i < p->n_groups; i++)
            if (strcmp(json_string_value(g), p->groups[i]) == 0)
                return true;
    }
    return identity_is_service_account(p, ctx);
}

static void list(struct buf *b, const char *what, char *const *v, size_t n, bool *first)
{
    if (!n)
        return;
    buf_printf(b, "%s%s ", *first ? "" : "; ", what);
    for (size_t i = 0; i < n; i++)
        buf_printf(b, "%s%s", i ? ", " : "", v[i]);
    *first = false;
}

void identity_describe(const struct policy *p, struct buf *b)
{
    bool first = true;

    list(b, "users", p->users, p->n_users, &first);
    list(b, "groups", p->groups, p->n_groups, &first);
    list(b, "service accounts", p->service_accounts, p->n_service_accounts, &first);
    if (first)
        buf_puts(b, "nobody: spec.identities is empty");
}
