//  The agents the coordinator knows: their routing ids, names, slots and heartbeats.
#ifndef MP_AGENTS_H
#define MP_AGENTS_H

#include <czmq.h>
#include <stdint.h>

#define MP_AGENT_KEY_MAX 80

typedef struct {
    char key[MP_AGENT_KEY_MAX]; //  hex of the routing id: stable name for owners
    zframe_t *routing_id;
    char *name;
    char *hostname;
    size_t slots;
    size_t busy;
    uint64_t last_seen_ms; //  monotonic
} mp_agent_t;

typedef struct mp_agents_t mp_agents_t;

mp_agents_t *mp_agents_new (void);
void mp_agents_destroy (mp_agents_t **self_p);

//  Hex key of a routing id, written into key (MP_AGENT_KEY_MAX bytes).
void mp_agents_key (zframe_t *routing_id, char *key);

//  The agent with this routing id, or NULL.
mp_agent_t *mp_agents_find (mp_agents_t *self, zframe_t *routing_id);
mp_agent_t *mp_agents_find_key (mp_agents_t *self, const char *key);
//  Registers (or re-registers) the agent with this routing id; NULL on no memory.
mp_agent_t *mp_agents_upsert (mp_agents_t *self, zframe_t *routing_id, const char *name,
                              const char *hostname, size_t slots);
//  Forgets an agent (the pointer becomes invalid).
void mp_agents_remove (mp_agents_t *self, mp_agent_t *agent);

size_t mp_agents_size (mp_agents_t *self);
//  Agent by position in registration order, 0 <= index < size.
mp_agent_t *mp_agents_at (mp_agents_t *self, size_t index);
//  Busy slots summed over every agent.
size_t mp_agents_busy (mp_agents_t *self);

#endif
