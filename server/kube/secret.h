#ifndef EGRESSGUARD_SECRET_H
#define EGRESSGUARD_SECRET_H

/*
 * Memory that holds a credential (a bearer token, a private key, an Authorization header): it is
 * overwritten with zeros before it is given back, so that a token does not outlive its use in
 * freed heap memory (core dumps, later allocations). A compiler may not drop the wipe: it goes
 * through a volatile pointer.
 */

#include <stddef.h>

struct secret {
    char *data; /* NUL-terminated copy, or NULL */
    size_t len;
    /* How the memory is given back once wiped; NULL: free(). A seam for tests. */
    void (*release)(void *p, size_t size);
};

/* Replaces the contents with a copy of text[0..len), wiping the old ones. 0, or -1 on OOM
 * (the old contents are wiped and gone either way). */
int secret_set(struct secret *s, const char *text, size_t len);

/* Wipes and releases the contents; the struct is left empty (release kept). */
void secret_clear(struct secret *s);

/* Overwrites n bytes at p with zeros, in a way the compiler keeps. */
void secret_wipe(void *p, size_t n);

/* Wipes a NUL-terminated string and frees it (NULL is a no-op). */
void secret_free_str(char *s);

#endif
