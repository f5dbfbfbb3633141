//  Per-connection limits on bad input, and connection names for logs.
#include "peer_limits.h"

#include "agent_table.h"

typedef struct {
    uint64_t window_ms; //  start of its window (monotonic)
    uint64_t bad;       //  messages that failed to decode in it
} s_record_t;

struct mp_peer_limits_t {
    zhashx_t *records; //  hex routing id -> s_record_t
};

mp_peer_limits_t *mp_peer_limits_new (void)
{
    mp_peer_limits_t *self = (mp_peer_limits_t *) calloc (1, sizeof *self);
    if (self && !(self->records = zhashx_new ())) {
        free (self);
        return NULL;
    }
    if (self)
        zhashx_set_destructor (self->records, (zhashx_destructor_fn *) zstr_free);
    return self;
}

void mp_peer_limits_destroy (mp_peer_limits_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zhashx_destroy (&(*self_p)->records);
    free (*self_p);
    *self_p = NULL;
}

int mp_peer_limits_blocked (mp_peer_limits_t *self, zframe_t *route, uint64_t now_ms)
{
    char key[MP_AGENT_KEY_MAX];
    mp_agent_table_key (route, key);
    s_record_t *record = (s_record_t *) zhashx_lookup (self->records, key);
    return record && now_ms - record->window_ms < MP_BAD_PEER_WINDOW_MS
           && record->bad >= MP_BAD_PEER_LIMIT;
}

int mp_peer_limits_bad (mp_peer_limits_t *self, zframe_t *route, uint64_t now_ms)
{
    char key[MP_AGENT_KEY_MAX];
    mp_agent_table_key (route, key);
    s_record_t *record = (s_record_t *) zhashx_lookup (self->records, key);
    if (!record) {
        if (zhashx_size (self->records) >= MP_BAD_PEER_MAX)
            return 0;
        record = (s_record_t *) calloc (1, sizeof *record);
        if (!record || zhashx_insert (self->records, key, record) != 0) {
            free (record);
            return 0;
        }
        record->window_ms = now_ms;
    }
    if (now_ms - record->window_ms >= MP_BAD_PEER_WINDOW_MS) {
        record->window_ms = now_ms;
        record->bad = 0;
    }
    return ++record->bad == MP_BAD_PEER_LIMIT;
}

void mp_peer_limits_expire (mp_peer_limits_t *self, uint64_t now_ms)
{
    zlistx_t *keys = zhashx_keys (self->records);
    if (!keys)
        return;
    for (const char *key = (const char *) zlistx_first (keys); key;
         key = (const char *) zlistx_next (keys)) {
        s_record_t *record = (s_record_t *) zhashx_lookup (self->records, key);
        if (record && now_ms - record->window_ms >= MP_BAD_PEER_WINDOW_MS)
            zhashx_delete (self->records, key);
    }
    zlistx_destroy (&keys);
}

size_t mp_peer_limits_size (mp_peer_limits_t *self)
{
    return zhashx_size (self->records);
}

void mp_peer_describe (zframe_t *route, zframe_t *frame, char *buf, size_t size)
{
    char key[MP_AGENT_KEY_MAX];
    mp_agent_table_key (route, key);
    const char *address = frame ? zframe_meta (frame, "Peer-Address") : NULL;
    if (address && *address)
        snprintf (buf, size, "%s (id %s)", address, key);
    else
        snprintf (buf, size, "local (id %s)", key);
}
