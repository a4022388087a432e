#include "server/kube/secret.h"

#include <stdlib.h>
#include <string.h>

void secret_wipe(void *p, size_t n)
{
    volatile unsigned char *v = p;

    while (n--)
        *v++ = 0;
}

void secret_clear(struct secret *s)
{
    if (s->data) {
        secret_wipe(s->data, s->len + 1);
        if (s->release)
            s->release(s->data, s->len + 1);
        else
            free(s->data);
    }
    s->data = NULL;
    s->len = 0;
}

int secret_set(struct secret *s, const char *text, size_t len)
{
    char *copy = malloc(len + 1);

    secret_clear(s);
    if (!copy)
        return -1;
    memcpy(copy, text, len);
    copy[len] = '\0';
    s->data = copy;
    s->len = len;
    return 0;
}

void secret_free_str(char *s)
{
    if (!s)
        return;
    secret_wipe(s, strlen(s));
    free(s);
}
