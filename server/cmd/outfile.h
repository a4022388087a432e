#ifndef EGRESSGUARD_OUTFILE_H
#define EGRESSGUARD_OUTFILE_H

/*
 * A report file (`check --output-file FILE`) must never be one of the command's inputs: writing
 * it would destroy the policy or a manifest, or plant a report where the next run reads it as a
 * manifest.
 */

#include <stddef.h>

#include "policy/base/err.h"

/*
 * 0 when writing `out` touches no input, -1 with e set when it would: `out` is the policy file or
 * an input file (the same file under any name: compared by device and inode), or lies inside an
 * input directory where the manifest reader would pick it up. "-" (standard output) is always
 * safe. The inputs are paths as given on the command line ("-" for standard input is skipped).
 */
int outfile_check(const char *out, const char *policy, char *const *inputs, size_t n,
                  struct err *e);

#endif
