#ifndef EGRESSGUARD_POLICY_H
#define EGRESSGUARD_POLICY_H

/*
 * The organization's egress policy file (apiVersion egressguard.io/v1alpha1, kind EgressPolicy),
 * loaded into an immutable struct. A reload builds a new one; the old one keeps serving until
 * its last user releases it. Every field is documented in README.md ("The policy file").
 *
 * The struct is public so that rule modules read it directly; nothing may write to it after
 * policy_load() returns. All strings are owned by the policy.
 */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "policy/sets/cidr.h"
#include "policy/base/err.h"
#include "policy/config/dest.h"
#include "policy/sets/portset.h"
#include "policy/config/exemption.h"
#include "policy/config/mode.h"
#include "policy/selector/selector.h"

struct allowidx;


struct pod_rules {
    enum mode mode;
    bool host_network;
    bool privileged;
    char **capabilities; /* upper case, without CAP_ */
    size_t n_capabilities;
    bool dns;
    bool mesh_require_sidecar;
    bool mesh_deny_bypass;
    bool proxy_env;
    bool ai_outside_ai; /* aiWorkloadsOutsideAI (old name: acceleratorsOutsideAI) */
    char **required_labels;
    size_t n_required_labels;
};

struct policy {
    char *path;            /* the file it came from (for messages) */
    char *name;            /* metadata.name */
    char hash[17];         /* first 16 hex digits of the file's SHA-256, for annotations */
    enum mode mode;        /* spec.mode */

    /* aiWorkloads */
    char **ns_globs;
    size_t n_ns_globs;
    struct selector **ns_selectors; /* over namespace labels */
    size_t n_ns_selectors;
    struct selector **pod_selectors; /* over pod labels */
    size_t n_pod_selectors;
    char **accelerators; /* resource names */
    size_t n_accelerators;

    struct dest_entry *allow;
    size_t n_allow;
    struct dest_entry *deny;
    size_t n_deny;
    struct cidrset *deny_cidrs; /* union of every deny entry's CIDRs */
    struct allowidx *allowidx;  /* the allow-list compiled for decisions (allowidx.h) */

    struct exemption *exemptions; /* exemption.h */
    size_t n_exemptions;
    int exemption_warning_days; /* spec.exemptionWarningDays */

    /* identities */
    char **users, **groups, **service_accounts; /* service accounts as "namespace/name" */
    size_t n_users, n_groups, n_service_accounts;

    enum mode egress_mode;
    /* rules.dns: DNS rules that let AI pods resolve names outside the allow-list */
    enum mode dns_mode;     /* default warn, whatever spec.mode says */
    char **dns_suffixes;    /* rules.dns.clusterSuffixes: cluster-internal DNS suffixes AI pods
                               may resolve (normalized names); default cluster.local */
    size_t n_dns_suffixes;
    struct pod_rules pods;
    enum mode ns_mode;
    char **ns_required_labels;
    size_t n_ns_required_labels;
    bool unknown_kinds_allow;

    /*
     * What the loader noticed that is not an error (an old field name), each positioned in the
     * file (`file` points into the policy). check and review print them, serve logs them.
     */
    struct err *notes;
    size_t n_notes;

    /* mutation */
    bool mutation_enabled;
    char *profile;
    char **mut_label_keys, **mut_label_values;
    size_t n_mut_labels;
    char **mut_annotation_keys, **mut_annotation_values;
    size_t n_mut_annotations;
};

/* Loads and validates a policy file. NULL with e set (file:line:col) on any mistake. */
struct policy *policy_load(const char *path, struct err *e);

/* The same from bytes (the embedded example, tests); `name` is used in messages. */
struct policy *policy_load_buffer(const char *data, size_t len, const char *name, struct err *e);

void policy_free(struct policy *p); /* NULL is a no-op */

/* "enforce", "warn" or "audit". A rule group without a mode of its own takes spec.mode. */
/* Is the namespace an AI namespace by name glob, or by labels (JSON object; NULL = unknown)? */
bool policy_ns_is_ai(const struct policy *p, const char *ns, const json_t *labels);

/*
 * The first exemption in force at `now` (Unix time) that covers an object, or NULL. When none
 * is in force, *expired (may be NULL) is set to the first expired one that covers it, else NULL.
 */
const struct exemption *policy_exemption(const struct policy *p, const char *kind,
                                         const char *ns, const char *name, int64_t now,
                                         const struct exemption **expired);

/* How many exemptions are in each state at `now` (counts indexed by enum exemption_state). */
void policy_exemption_counts(const struct policy *p, int64_t now, size_t counts[3]);

/* The first instant after `now` at which some exemption changes state; EXEMPTION_NEVER. */
int64_t policy_exemption_next_change(const struct policy *p, int64_t now);

#endif
