//  Growing a heap array by doubling.
#ifndef MP_ARRAY_H
#define MP_ARRAY_H

#include <stddef.h>

//  Makes *array hold at least need elements of size bytes, doubling *cap as it goes.
//  MP_OK, or MP_ENOMEM (array and cap untouched) when memory runs out or sizes overflow.
int mp_array_grow (void **array, size_t *cap, size_t need, size_t size);

#endif
