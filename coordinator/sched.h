//  A run's unit queue and its isolation barrier.
//
//  Order: isolated groups first, in plan order (each group's units together), then
//  the other units, longest expected first (mp_sched_weigh), then larger units (more
//  tests) first, plan order among equals.
//  Barrier: an isolated group's first unit starts only when no slot is busy anywhere
//  (busy counts every agent and every run); while any unit of that group is queued
//  or running, only that group's units start. Non-isolated units start whenever a
//  slot is free and no barrier is up; a queued isolated group at the head of the
//  queue makes the queue drain (nothing behind it starts) until the barrier holds.
#ifndef MP_SCHED_H
#define MP_SCHED_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    MP_STRATEGY_FREE = 0,
    MP_STRATEGY_SERIAL = 1,
    MP_STRATEGY_ISOLATED_FREE = 2,
    MP_STRATEGY_ISOLATED_SERIAL = 3
} mp_strategy_t;

//  Parses "free", "serial", "isolated_free", "isolated_serial" into *strategy. MP_OK, or
//  MP_EINVAL when unknown.
int mp_strategy_parse (const char *name, int *strategy);
const char *mp_strategy_name (int strategy); //  NULL when out of range

//  A unit's life, which the scheduler alone changes: queued, then sent to an agent,
//  running once its process announced itself, and done; or dropped from the queue by
//  a cancel; sent and running units may go back to the queue (requeued).
typedef enum {
    MP_UNIT_QUEUED = 0,
    MP_UNIT_SENT,
    MP_UNIT_RUNNING,
    MP_UNIT_DONE,
    MP_UNIT_DROPPED
} mp_unit_state_t;

typedef struct mp_sched_t mp_sched_t;

//  NULL on no memory.
mp_sched_t *mp_sched_new (void);
void mp_sched_destroy (mp_sched_t **self_p);

//  Adds a unit before sealing. group may be "" for ungrouped tests. Unit ids are
//  the caller's and must be unique. MP_OK, MP_EINVAL (bad strategy, duplicate id, a
//  group named before with the other isolation), MP_ESTATE (already sealed) or
//  MP_ENOMEM.
int mp_sched_add (mp_sched_t *self, uint64_t unit, const char *group, int strategy,
                  size_t ntests);
//  Sets a unit's expected duration before sealing (0, the default: not known).
//  MP_OK, MP_ENOENT (no such unit) or MP_ESTATE (already sealed).
int mp_sched_weigh (mp_sched_t *self, uint64_t unit, uint64_t weight_ms);
//  Fixes the order; no more units may be added.
void mp_sched_seal (mp_sched_t *self);

//  The next unit that may start now, given busy slots everywhere: 1 when there is one,
//  with the unit in *unit (now sent); 0 when none may start now (not a failure).
int mp_sched_next (mp_sched_t *self, size_t busy, uint64_t *unit);
//  Whether the agent being filled may run this unit (its labels meet the unit's needs).
typedef int (mp_sched_accept_fn) (void *arg, uint64_t unit);
//  The same, for one agent: the first queued unit accept takes (NULL takes any); the
//  barrier holds as above, and units others may not run wait without holding back
//  the rest.
int mp_sched_next_for (mp_sched_t *self, size_t busy, mp_sched_accept_fn *accept, void *arg,
                       uint64_t *unit);
//  A sent unit's process announced itself. MP_OK, MP_ENOENT for an unknown unit, or
//  MP_ESTATE when it was not sent.
int mp_sched_started (mp_sched_t *self, uint64_t unit);
//  A sent or running unit ended (whatever its result): it gives back its slot.
//  MP_OK, MP_ENOENT for an unknown unit, or MP_ESTATE when it held none.
int mp_sched_finish (mp_sched_t *self, uint64_t unit);
//  A sent or running unit goes back to the front of the queue (its agent vanished).
//  MP_OK, MP_ENOENT for an unknown unit, or MP_ESTATE when it held no slot.
int mp_sched_requeue (mp_sched_t *self, uint64_t unit);
//  The unit's state (mp_unit_state_t) into *state. MP_OK, or MP_ENOENT for a unit it
//  does not know.
int mp_sched_state (const mp_sched_t *self, uint64_t unit, int *state);
//  1 when the unit holds a slot: sent or running.
int mp_sched_holds_slot (const mp_sched_t *self, uint64_t unit);
//  Drops every queued unit; returns how many were dropped. Sent and running ones
//  continue.
size_t mp_sched_cancel (mp_sched_t *self);
//  Drops one queued unit (no agent may run it). MP_OK, or MP_ESTATE when it is not
//  queued (MP_ENOENT without a scheduler).
int mp_sched_drop (mp_sched_t *self, uint64_t unit);

size_t mp_sched_queued (const mp_sched_t *self);
size_t mp_sched_running (const mp_sched_t *self); //  sent or running
//  1 when nothing is queued or running.
int mp_sched_done (const mp_sched_t *self);
//  1 while one of this run's isolated groups is active (from its first start until
//  none of its units is queued or running): units of other runs must not start.
int mp_sched_barrier (const mp_sched_t *self);

#endif
