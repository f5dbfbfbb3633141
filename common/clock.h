//  Wall and monotonic clocks in milliseconds.
#ifndef MP_CLOCK_H
#define MP_CLOCK_H

#include <stdint.h>

uint64_t mp_clock_wall_ms (void);  //  since the epoch, for message timestamps
uint64_t mp_clock_mono_ms (void);  //  monotonic, for timers and heartbeats

#endif
