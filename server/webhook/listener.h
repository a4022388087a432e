#ifndef EGRESSGUARD_LISTENER_H
#define EGRESSGUARD_LISTENER_H

/*
 * Where the server listens: --listen parsed, and the listening socket opened by the server itself
 * (then handed to libmicrohttpd), so that the options on it are ours.
 */

#include <stdbool.h>
#include <sys/socket.h>

#include "policy/base/err.h"

/*
 * Parses "ADDR:PORT", "[V6]:PORT" or ":PORT" (all interfaces). 0 or -1 with e set.
 * *loopback tells whether the address is 127.0.0.0/8 or ::1.
 */
int listener_parse(const char *text, struct sockaddr_storage *out, socklen_t *len, bool *loopback,
                   struct err *e);

/*
 * A listening TCP socket on addr, without SO_REUSEPORT, so that a second server on the same port
 * is an error ("... the port is in use") instead of silently taking half of the connections.
 * The descriptor (close-on-exec), or -1 with e set.
 */
int listener_open(const struct sockaddr_storage *addr, socklen_t len, struct err *e);

#endif
