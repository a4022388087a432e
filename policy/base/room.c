#include "policy/base/room.h"

#include <stdint.h>
#include <stdlib.h>

int room_for_one(void **arr, size_t n, size_t *alloc, size_t size)
{
    size_t na;
    void *p;

    if (n < *alloc)
        return 0;
    na = *alloc ? *alloc * 2 : 8;
    if (na > SIZE_MAX / size || !(p = realloc(*arr, na * size)))
        return -1;
    *arr = p;
    *alloc = na;
    return 0;
}
