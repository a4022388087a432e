#ifndef EGRESSGUARD_LIVE_H
#define EGRESSGUARD_LIVE_H

/*
 * What the server serves right now: the policy, the TLS credentials and the client CAs. Readers
 * take a reference (live_policy_get, live_creds_get, live_trust_get) and keep using what they got
 * even if a reload swaps in a new one meanwhile, so a request finishes on the policy it started
 * with. Reloads build the new object completely before swapping; a file that does not load is
 * logged and counted and the old one keeps serving. A serving certificate that has expired or is
 * not valid yet is refused like a file that does not load (at start: the server does not start);
 * one not valid yet is tried again once it is.
 *
 * Reloads come from SIGHUP (live_reload(force)) and from file changes: live_watch_fd() is an
 * inotify descriptor watching the DIRECTORIES of the files, because a Kubernetes ConfigMap or
 * Secret mount replaces a `..data` symlink instead of writing the file.
 */

#include <stdbool.h>
#include <stddef.h>

#include "policy/base/err.h"
#include "policy/config/policy.h"
#include "server/webhook/log.h"
#include "server/webhook/metrics.h"
#include "server/webhook/tls.h"

struct live;
struct policy_ref;

struct live_config {
    const char *policy_path;    /* NULL: policy_data instead (embedded, never reloaded) */
    const char *policy_data;
    size_t policy_len;
    const char *cert_path, *key_path; /* borrowed; must outlive the struct live */
    const char *client_ca_path;       /* CAs for client certificates, or NULL (borrowed) */
};

/* Loads everything once. NULL with e set when the first load fails (nothing to fall back on). */
struct live *live_new(const struct live_config *cfg, struct metrics *m, const struct log *lg,
                      struct err *e);
void live_free(struct live *l); /* after every reference is gone */

struct policy_ref *live_policy_get(struct live *l); /* new reference; never NULL */
const struct policy *policy_ref_policy(const struct policy_ref *r);
void live_policy_put(struct policy_ref *r); /* NULL is a no-op */

struct tls_creds *live_creds_get(struct live *l); /* new reference (tls_creds_unref) */
struct tls_trust *live_trust_get(struct live *l); /* new reference, or NULL without --client-ca */

/*
 * Reloads what changed on disk (identity by stat: device, inode, size, mtime — a symlink swap
 * changes the inode), or everything with force. Returns the number of failed reloads.
 */
int live_reload(struct live *l, bool force);

/* Milliseconds until live_reload() should run again without a file change (a serving certificate
 * that was refused as not valid yet becomes valid then), or -1 when nothing waits. */
long live_retry_ms(struct live *l);

/* Starts watching the files' directories; returns the inotify fd (owned by l) or -1 with e. */
int live_watch_start(struct live *l, struct err *e);

/* Reads pending inotify events; true when one concerns a watched directory entry. */
bool live_watch_drain(struct live *l);

#endif
