//  Wall and monotonic clocks in milliseconds.
#include "clock.h"

#include <time.h>

static uint64_t s_clock_ms (clockid_t id)
{
    struct timespec ts;
    if (clock_gettime (id, &ts) != 0)
        return 0;
    return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

uint64_t mp_clock_wall_ms (void)
{
    return s_clock_ms (CLOCK_REALTIME);
}

uint64_t mp_clock_mono_ms (void)
{
    return s_clock_ms (CLOCK_MONOTONIC);
}
