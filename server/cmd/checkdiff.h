#ifndef EGRESSGUARD_CHECKDIFF_H
#define EGRESSGUARD_CHECKDIFF_H

/*
 * `check --diff BASE HEAD`: the egress a change of policies adds and removes per AI namespace
 * (policy/eval/diff.h), reported in check's formats. An addition is a finding on the HEAD object
 * and line that opens it (a violation when it lies outside the allow-list, so SARIF annotates
 * that line), a removal a note on the BASE object; a change of isolation is reported on an
 * "EgressDiff <namespace>" item.
 */

#include <stdbool.h>
#include <stdio.h>

#include "policy/config/nsdb.h"
#include "policy/config/policy.h"
#include "server/output/report.h"

/*
 * Reads BASE and HEAD (files, directories or -, as check reads them), compares, writes the
 * report to out. `labels` (may be NULL): namespace labels from the command line, for both sides.
 * Returns the exit code (0 nothing added outside the allow-list in enforce mode, 1 something is,
 * 2 input error).
 */
int check_diff(const struct policy *pol, const char *base, const char *head,
               const struct nsdb *labels, enum report_format fmt, bool verbose, FILE *out);

#endif
