#ifndef EGRESSGUARD_KUBECONFIG_H
#define EGRESSGUARD_KUBECONFIG_H

/*
 * Where the Kubernetes API is and how to authenticate to it: a kubeconfig file (its
 * current-context) or the in-cluster service account. As client-go's clientcmd reads them
 * (https://kubernetes.io/docs/concepts/configuration/organize-cluster-access-kubeconfig/):
 * cluster.server (https only), certificate-authority or -data; user.token or tokenFile,
 * client-certificate/-key or their -data forms; file references relative to the kubeconfig's
 * directory. What egressguard does not support is refused by name (exec and auth-provider
 * plugins, username/password, insecure-skip-tls-verify), never silently ignored.
 *
 * In a cluster: KUBERNETES_SERVICE_HOST/PORT and the service account's files in
 * /var/run/secrets/kubernetes.io/serviceaccount. That token is a bound token the kubelet
 * rotates: the client re-reads token_file (kube.h) instead of keeping the first one.
 */

#include <stdbool.h>
#include <stddef.h>

#include "policy/base/err.h"
#include "server/kube/secret.h"

#define KUBE_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

struct kube_config {
    char *server;        /* "https://host:port", no trailing slash */
    char *ca_pem;        /* the cluster CA bundle (PEM), NULL: the system's */
    char *cert_pem;      /* client certificate (PEM) or NULL */
    struct secret key;   /* its private key (PEM) */
    struct secret token; /* a bearer token given inline */
    char *token_file;    /* or a file holding it, re-read when it changes */
    /* File references as written (resolved against the kubeconfig's directory), read by
     * kubeconfig_load_files(). */
    char *ca_file, *cert_file, *key_file;
};

void kube_config_release(struct kube_config *c); /* wipes the secrets */

/*
 * Parses kubeconfig text (YAML or JSON; `name` for messages, `dir` the directory that relative
 * file references are resolved against, may be NULL). Fills c with the current context's
 * cluster and user; -data fields are decoded, file fields recorded but not read. 0, or -1 with e
 * set (positioned in the text when the YAML is broken) and c released.
 */
int kubeconfig_parse(const char *data, size_t len, const char *name, const char *dir,
                     struct kube_config *c, struct err *e);

/* Reads the files c refers to (CA, client certificate and key). 0, or -1 with e set. */
int kubeconfig_load_files(struct kube_config *c, struct err *e);

/* The whole of a kubeconfig file: read, parse, load its files. 0, or -1 with e set. */
int kubeconfig_load(const char *path, struct kube_config *c, struct err *e);

/* The in-cluster service account. 0, or -1 with e set (not in a cluster, unreadable files). */
int kubeconfig_in_cluster(struct kube_config *c, struct err *e);

/* Does this process run in a cluster with a service account (KUBERNETES_SERVICE_HOST set and the
 * token file readable)? */
bool kubeconfig_have_in_cluster(void);

#endif
