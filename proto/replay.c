//  Sessions seen, with the last sequence number and time of each.
#include "replay.h"

#include <inttypes.h>
#include <stdlib.h>

#include "../common/error.h"

typedef struct {
    uint64_t session;
    uint64_t seq;
    uint64_t seen_ms;
} s_entry_t;

//  Open addressing on the session (already random: its low bits index the table).
struct mp_replay_t {
    s_entry_t *slots; //  session 0: empty
    size_t cap;       //  power of two
    size_t count;
    uint64_t forget_ms;
    uint64_t expired_ms; //  when forgotten sessions were last dropped
};

mp_replay_t *mp_replay_new (uint64_t forget_ms)
{
    mp_replay_t *self = (mp_replay_t *) calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->cap = 64;
    self->forget_ms = forget_ms;
    self->slots = (s_entry_t *) calloc (self->cap, sizeof *self->slots);
    if (!self->slots) {
        free (self);
        return NULL;
    }
    return self;
}

void mp_replay_destroy (mp_replay_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->slots);
    free (*self_p);
    *self_p = NULL;
}

static s_entry_t *s_find (s_entry_t *slots, size_t cap, uint64_t session)
{
    size_t i = (size_t) session & (cap - 1);
    while (slots[i].session && slots[i].session != session)
        i = (i + 1) & (cap - 1);
    return &slots[i];
}

//  Rebuilds the table at cap, keeping only sessions seen within forget_ms.
static int s_rehash (mp_replay_t *self, size_t cap, uint64_t now_ms)
{
    s_entry_t *slots = (s_entry_t *) calloc (cap, sizeof *slots);
    if (!slots)
        return MP_ENOMEM;
    size_t count = 0;
    for (size_t i = 0; i < self->cap; i++) {
        s_entry_t *old = &self->slots[i];
        if (old->session && now_ms - old->seen_ms <= self->forget_ms) {
            *s_find (slots, cap, old->session) = *old;
            count++;
        }
    }
    free (self->slots);
    self->slots = slots;
    self->cap = cap;
    self->count = count;
    return MP_OK;
}

int mp_replay_check (mp_replay_t *self, const mp_msg_t *msg, uint64_t now_ms, char *err,
                     size_t errlen)
{
    uint64_t session = mp_msg_session (msg), seq = mp_msg_seq (msg);
    if (session == 0)
        return MP_OK;
    s_entry_t *entry = s_find (self->slots, self->cap, session);
    if (entry->session) {
        if (seq <= entry->seq) {
            mp_set_error (err, errlen, "%s number %" PRIu64 " of session %016" PRIx64
                          " comes after number %" PRIu64 ": replayed or reordered",
                          mp_msg_name (mp_msg_type (msg)), seq, session, entry->seq);
            return MP_EREPLAY;
        }
        entry->seq = seq;
        entry->seen_ms = now_ms;
        return MP_OK;
    }
    if ((self->count + 1) * 2 > self->cap) {
        //  Half full: drop the forgotten, and grow if that is not enough.
        size_t cap = self->cap;
        if (s_rehash (self, cap, now_ms) != MP_OK)
            return MP_ENOMEM;
        while ((self->count + 1) * 2 > cap && cap < 2 * MP_REPLAY_SESSIONS_MAX)
            cap *= 2;
        if (cap != self->cap && s_rehash (self, cap, now_ms) != MP_OK)
            return MP_ENOMEM;
        if ((self->count + 1) * 2 > self->cap) {
            mp_set_error (err, errlen, "%zu live sessions: no room for another",
                          self->count);
            return MP_ETOOBIG;
        }
        entry = s_find (self->slots, self->cap, session);
    }
    *entry = (s_entry_t) { session, seq, now_ms };
    self->count++;
    return MP_OK;
}

void mp_replay_expire (mp_replay_t *self, uint64_t now_ms)
{
    //  A rebuild now and then: sessions are forgotten a little late, never early.
    if (now_ms - self->expired_ms < self->forget_ms / 4)
        return;
    if (s_rehash (self, self->cap, now_ms) == MP_OK)
        self->expired_ms = now_ms;
}

size_t mp_replay_size (const mp_replay_t *self)
{
    return self->count;
}
