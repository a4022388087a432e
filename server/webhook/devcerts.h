#ifndef EGRESSGUARD_DEVCERTS_H
#define EGRESSGUARD_DEVCERTS_H

/*
 * Development certificates for `serve --dev`: a CA and a serving certificate for localhost and
 * 127.0.0.1 / ::1 kept in a directory, created when missing and reused afterwards.
 */

#include <limits.h>

#include "policy/base/err.h"

struct devcerts {
    char ca_path[PATH_MAX];   /* the caBundle to give curl or kube-apiserver */
    char cert_path[PATH_MAX];
    char key_path[PATH_MAX];
};

/* Fills out with the paths in dir, creating what is missing. 0, or -1 with e set. */
int devcerts_make(const char *dir, struct devcerts *out, struct err *e);

#endif
