#include "array.h"

#include <stdint.h>
#include <stdlib.h>

int mp_array_grow (void **array, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap : 8;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2)
            return -1;
        ncap *= 2;
    }
    if (size && ncap > SIZE_MAX / size)
        return -1;
    void *grown = realloc (*array, ncap * size);
    if (!grown)
        return -1;
    *array = grown;
    *cap = ncap;
    return 0;
}
