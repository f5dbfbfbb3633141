#include "array.h"
#include "error.h"

#include <stdint.h>
#include <stdlib.h>

int mp_array_grow (void **array, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return MP_OK;
    size_t ncap = *cap ? *cap : 8;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2)
            return MP_ENOMEM;
        ncap *= 2;
    }
    if (size && ncap > SIZE_MAX / size)
        return MP_ENOMEM;
    void *grown = realloc (*array, ncap * size);
    if (!grown)
        return MP_ENOMEM;
    *array = grown;
    *cap = ncap;
    return MP_OK;
}
