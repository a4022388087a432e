#ifndef EGRESSGUARD_MODE_H
#define EGRESSGUARD_MODE_H

/*
 * What a violation does: enforce (denied), warn (admitted with a warning), audit (admitted and
 * recorded). The policy file sets one for the whole file and one per rule group.
 */
enum mode { MODE_ENFORCE = 0, MODE_WARN, MODE_AUDIT };

/* "enforce", "warn" or "audit". */
const char *mode_name(enum mode m);

#endif
