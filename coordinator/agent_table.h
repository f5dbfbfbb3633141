//  The agents the coordinator knows: their routing ids, names, slots and heartbeats.
#ifndef MP_AGENT_TABLE_H
#define MP_AGENT_TABLE_H

#include <czmq.h>
#include <stdint.h>

#define MP_AGENT_KEY_MAX 80

typedef struct {
    char key[MP_AGENT_KEY_MAX]; //  hex of the routing id: stable name for owners
    zframe_t *routing_id;
    char *name;
    char *hostname;
    size_t slots;
    size_t busy;             //  slots in use: units sent or running here
    unsigned char *slot_used; //  per slot index, 1 while a unit holds it
    size_t slot_cap;         //  length of slot_used (at least slots)
    char address[160];       //  where it joined from (mp_peer_describe)
    char **labels;           //  what it offers (mp-agent --label), owned
    size_t nlabels;
    uint64_t last_seen_ms; //  monotonic
} mp_agent_entry_t;

typedef struct mp_agent_table_t mp_agent_table_t;

//  NULL on no memory.
mp_agent_table_t *mp_agent_table_new (void);
void mp_agent_table_destroy (mp_agent_table_t **self_p);

//  Hex key of a routing id, written into key (MP_AGENT_KEY_MAX bytes).
void mp_agent_table_key (zframe_t *routing_id, char *key);

//  The agent with this routing id, or NULL.
mp_agent_entry_t *mp_agent_table_find (mp_agent_table_t *self, zframe_t *routing_id);
mp_agent_entry_t *mp_agent_table_find_key (mp_agent_table_t *self, const char *key);
//  Registers (or re-registers) the agent with this routing id, into *agent_p. MP_OK or
//  MP_ENOMEM.
int mp_agent_table_upsert (mp_agent_table_t *self, zframe_t *routing_id, const char *name,
                           const char *hostname, size_t slots, mp_agent_entry_t **agent_p);
//  Replaces an agent's labels. MP_OK or MP_ENOMEM.
int mp_agent_table_set_labels (mp_agent_entry_t *agent, const char *const *labels, size_t n);
//  Takes the agent's lowest free slot into *slot: every unit on an agent runs in a slot
//  0 to slots-1 that no other unit holds meanwhile, which a test can use to pick a
//  per-slot resource. MP_OK, or MP_ESTATE when every slot is busy.
int mp_agent_table_take_slot (mp_agent_table_t *self, mp_agent_entry_t *agent, size_t *slot);
//  Gives a slot back (nothing when it was not taken).
void mp_agent_table_give_slot (mp_agent_table_t *self, mp_agent_entry_t *agent, size_t slot);
//  Forgets an agent (the pointer becomes invalid).
void mp_agent_table_remove (mp_agent_table_t *self, mp_agent_entry_t *agent);

size_t mp_agent_table_size (mp_agent_table_t *self);
//  Agent by position in registration order, 0 <= index < size; NULL otherwise.
mp_agent_entry_t *mp_agent_table_at (mp_agent_table_t *self, size_t index);
//  Busy slots summed over every agent.
size_t mp_agent_table_busy (mp_agent_table_t *self);

#endif
