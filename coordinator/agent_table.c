#include "agent_table.h"

#include "../common/array.h"
#include "../common/clock.h"
#include "../common/error.h"
#include "../common/strs.h"

struct mp_agent_table_t {
    mp_agent_entry_t **items; //  registration order
    size_t size, cap;
    zhashx_t *by_key; //  key -> entry of items: every message is looked up by its sender
    size_t busy;      //  the sum of the agents' busy slots
};

static void s_agent_destroy (mp_agent_entry_t **agent_p)
{
    mp_agent_entry_t *agent = *agent_p;
    if (!agent)
        return;
    zframe_destroy (&agent->routing_id);
    free (agent->name);
    free (agent->hostname);
    free (agent->slot_used);
    mp_strs_clear (&agent->labels, &agent->nlabels);
    free (agent);
    *agent_p = NULL;
}

mp_agent_table_t *mp_agent_table_new (void)
{
    mp_agent_table_t *self = (mp_agent_table_t *) calloc (1, sizeof (mp_agent_table_t));
    if (self && !(self->by_key = zhashx_new ()))
        free (self), self = NULL;
    return self;
}

void mp_agent_table_destroy (mp_agent_table_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    mp_agent_table_t *self = *self_p;
    for (size_t i = 0; i < self->size; i++)
        s_agent_destroy (&self->items[i]);
    free (self->items);
    zhashx_destroy (&self->by_key);
    free (self);
    *self_p = NULL;
}

void mp_agent_table_key (zframe_t *routing_id, char *key)
{
    static const char hex[] = "0123456789abcdef";
    const uint8_t *data = zframe_data (routing_id);
    size_t size = zframe_size (routing_id), out = 0;
    for (size_t i = 0; i < size && out + 2 < MP_AGENT_KEY_MAX; i++) {
        key[out++] = hex[data[i] >> 4];
        key[out++] = hex[data[i] & 15];
    }
    key[out] = '\0';
}

mp_agent_entry_t *mp_agent_table_find_key (mp_agent_table_t *self, const char *key)
{
    return (mp_agent_entry_t *) zhashx_lookup (self->by_key, key);
}

mp_agent_entry_t *mp_agent_table_find (mp_agent_table_t *self, zframe_t *routing_id)
{
    char key[MP_AGENT_KEY_MAX];
    mp_agent_table_key (routing_id, key);
    return mp_agent_table_find_key (self, key);
}

static mp_agent_entry_t *s_agent_add (mp_agent_table_t *self, zframe_t *routing_id)
{
    if (mp_array_grow ((void **) &self->items, &self->cap, self->size + 1,
                       sizeof *self->items) != 0)
        return NULL;
    mp_agent_entry_t *agent = (mp_agent_entry_t *) calloc (1, sizeof *agent);
    if (!agent)
        return NULL;
    mp_agent_table_key (routing_id, agent->key);
    agent->routing_id = zframe_dup (routing_id);
    if (!agent->routing_id || zhashx_insert (self->by_key, agent->key, agent) != 0) {
        zframe_destroy (&agent->routing_id);
        free (agent);
        return NULL;
    }
    self->items[self->size++] = agent;
    return agent;
}

int mp_agent_table_upsert (mp_agent_table_t *self, zframe_t *routing_id, const char *name,
                           const char *hostname, size_t slots, mp_agent_entry_t **agent_p)
{
    char *new_name = strdup (name), *new_host = strdup (hostname);
    mp_agent_entry_t *agent = mp_agent_table_find (self, routing_id);
    if (!agent && new_name && new_host)
        agent = s_agent_add (self, routing_id);
    //  Slots in use stay marked when an agent registers again with fewer.
    if (agent && slots > agent->slot_cap) {
        unsigned char *used = (unsigned char *) realloc (agent->slot_used, slots);
        if (used) {
            memset (used + agent->slot_cap, 0, slots - agent->slot_cap);
            agent->slot_used = used;
            agent->slot_cap = slots;
        }
    }
    if (!agent || !new_name || !new_host || slots > agent->slot_cap) {
        free (new_name);
        free (new_host);
        return MP_ENOMEM;
    }
    free (agent->name);
    free (agent->hostname);
    agent->name = new_name;
    agent->hostname = new_host;
    agent->slots = slots;
    agent->last_seen_ms = mp_clock_mono_ms ();
    *agent_p = agent;
    return MP_OK;
}

int mp_agent_table_set_labels (mp_agent_entry_t *agent, const char *const *labels, size_t n)
{
    return mp_strs_set (&agent->labels, &agent->nlabels, labels, n);
}

int mp_agent_table_take_slot (mp_agent_table_t *self, mp_agent_entry_t *agent, size_t *slot)
{
    for (size_t i = 0; i < agent->slots && i < agent->slot_cap; i++)
        if (!agent->slot_used[i]) {
            agent->slot_used[i] = 1;
            agent->busy++;
            self->busy++;
            *slot = i;
            return MP_OK;
        }
    return MP_ESTATE;
}

void mp_agent_table_give_slot (mp_agent_table_t *self, mp_agent_entry_t *agent, size_t slot)
{
    if (slot < agent->slot_cap && agent->slot_used[slot]) {
        agent->slot_used[slot] = 0;
        agent->busy--;
        self->busy--;
    }
}

void mp_agent_table_remove (mp_agent_table_t *self, mp_agent_entry_t *agent)
{
    for (size_t i = 0; i < self->size; i++) {
        if (self->items[i] != agent)
            continue;
        zhashx_delete (self->by_key, agent->key);
        self->busy -= agent->busy;
        s_agent_destroy (&self->items[i]);
        memmove (&self->items[i], &self->items[i + 1],
                 (self->size - i - 1) * sizeof *self->items);
        self->size--;
        return;
    }
}

size_t mp_agent_table_size (mp_agent_table_t *self)
{
    return self->size;
}

mp_agent_entry_t *mp_agent_table_at (mp_agent_table_t *self, size_t index)
{
    return index < self->size ? self->items[index] : NULL;
}

size_t mp_agent_table_busy (mp_agent_table_t *self)
{
    return self->busy;
}
