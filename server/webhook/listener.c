#include "server/webhook/listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int listener_parse(const char *text, struct sockaddr_storage *out, socklen_t *len, bool *loopback,
                   struct err *e)
{
    const char *colon = strrchr(text, ':');
    char host[64];
    size_t hl;
    char *end;
    unsigned long port;

    memset(out, 0, sizeof(*out));
    if (!colon)
        return err_set(e, "--listen wants ADDR:PORT, not \"%s\"", text);
    port = strtoul(colon + 1, &end, 10);
    if (!colon[1] || *end || port > 65535)
        return err_set(e, "bad port in --listen \"%s\"", text);
    hl = (size_t)(colon - text);
    if (hl >= 2 && text[0] == '[' && text[hl - 1] == ']') {
        text++;
        hl -= 2;
    }
    if (hl >= sizeof(host))
        return err_set(e, "bad address in --listen \"%s\"", text);
    memcpy(host, text, hl);
    host[hl] = '\0';
    if (!hl)
        strcpy(host, "0.0.0.0");
    struct sockaddr_in *v4 = (struct sockaddr_in *)out;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)out;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        *len = sizeof(*v4);
        *loopback = (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
        return 0;
    }
    if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        *len = sizeof(*v6);
        *loopback = IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr);
        return 0;
    }
    return err_set(e, "bad address in --listen: \"%s\" is not an IPv4 or IPv6 address", host);
}

/* "ADDR:PORT" or "[V6]:PORT" of an address, for messages. */
static void addr_text(const struct sockaddr_storage *a, char *out, size_t size)
{
    char host[INET6_ADDRSTRLEN] = "?";

    if (a->ss_family == AF_INET6) {
        const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)a;
        inet_ntop(AF_INET6, &v6->sin6_addr, host, sizeof(host));
        snprintf(out, size, "[%s]:%u", host, (unsigned)ntohs(v6->sin6_port));
    } else {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)a;
        inet_ntop(AF_INET, &v4->sin_addr, host, sizeof(host));
        snprintf(out, size, "%s:%u", host, (unsigned)ntohs(v4->sin_port));
    }
}

int listener_open(const struct sockaddr_storage *addr, socklen_t len, struct err *e)
{
    char where[INET6_ADDRSTRLEN + 16];
    int fd, on = 1, err;

    addr_text(addr, where, sizeof(where));
    fd = socket(addr->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return err_set(e, "cannot listen on %s: %s", where, strerror(errno));
    /* SO_REUSEADDR only lets a restarted server bind while old connections linger in TIME_WAIT;
     * on Linux it never lets two servers listen on one port. SO_REUSEPORT would, and then the
     * kernel splits the connections between them: never set it. */
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0 ||
        bind(fd, (const struct sockaddr *)addr, len) < 0 || listen(fd, SOMAXCONN) < 0) {
        err = errno;
        close(fd);
        if (err == EADDRINUSE)
            return err_set(e, "cannot listen on %s: the port is in use (another server is "
                              "listening on it)",
                           where);
        return err_set(e, "cannot listen on %s: %s", where, strerror(err));
    }
    return fd;
}
