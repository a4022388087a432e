#ifndef EGRESSGUARD_TRI_H
#define EGRESSGUARD_TRI_H

/*
 * Three-valued truth (Kleene): the answer to a question asked with only part of the facts known,
 * such as "does this selector match a namespace whose labels we have not all seen?". Callers treat
 * TRI_UNKNOWN as "may be either", which for egress means "may open it".
 */
enum tri { TRI_FALSE = 0, TRI_TRUE = 1, TRI_UNKNOWN = 2 };

#endif
