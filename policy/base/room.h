#ifndef EGRESSGUARD_ROOM_H
#define EGRESSGUARD_ROOM_H

/*
 * Room in growable arrays: an array of `*alloc` elements of `size` bytes, of which n are used,
 * doubled when full, so that n appends cost O(n) in all.
 */

#include <stddef.h>

/*
 * Makes room for element n (n <= *alloc): reallocates *arr to twice its size (8 elements at
 * first) when it is full. 0, or -1 on out of memory (*arr and *alloc unchanged).
 */
int room_for_one(void **arr, size_t n, size_t *alloc, size_t size);

#endif
