//  A run's sync service: board, FIFO locks and trails.
//
//  The grant callback runs while this object is mid-operation: it must not call
//  back into the same mp_sync_t (queue the work and do it afterwards instead).
#include "coordinator/sync.h"

#include "../common/array.h"
#include "../common/error.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_NONE SIZE_MAX
#define S_TOMB SIZE_MAX  //  index slot of a deleted entry
#define S_MIN_CAP 16

//  Board entries sit in insertion order; deleted ones stay as holes until the
//  next compaction. A Fenwick tree over the live flags turns "the i-th live
//  entry" into O(log n), and an open-addressing index finds keys.
typedef struct {
    char *key;
    size_t klen;
    char *val;
    size_t vlen;
    bool live;
} s_entry_t;

typedef struct {
    char *owner;
    uint64_t token;
} s_waiter_t;

typedef struct {
    char *name;
    char *holder;  //  NULL when free
    s_waiter_t *waiters;
    size_t nwait, wcap;
} s_lock_t;

typedef struct {
    char *owner;
    size_t n;  //  starts not yet matched by a finish from this owner
} s_consumer_t;

typedef struct {
    char *name;
    size_t count;
    s_consumer_t *cons;
    size_t ncons, ccap;
} s_trail_t;

struct mp_sync_t {
    mp_sync_grant_fn *grant;
    void *arg;

    s_entry_t *entries;
    size_t cap;     //  entries and Fenwick size, a power of two
    size_t used;    //  positions taken, live or not
    size_t nlive;
    size_t *fen;    //  1-based Fenwick tree of live flags, cap + 1 long
    size_t *slots;  //  2 * cap long: 0 empty, S_TOMB deleted, else position + 1

    //  Few locks and trails per run: arrays of pointers, linear lookup. Pointers
    //  keep each object in place while callbacks hold its strings.
    s_lock_t **locks;
    size_t nlocks, locks_cap;
    s_trail_t **trails;
    size_t ntrails, trails_cap;
};

static uint64_t
s_hash (const void *data, size_t len)
{
    //  FNV-1a, then a final mix so the low bits (the slot) depend on every byte
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    h ^= h >> 32;
    h *= 0xd6e8feb86659fd93ULL;
    h ^= h >> 32;
    return h;
}

mp_sync_t *
mp_sync_new (mp_sync_grant_fn *grant, void *arg)
{
    mp_sync_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->grant = grant;
    self->arg = arg;
    return self;
}

static void
s_lock_free (s_lock_t *lock)
{
    for (size_t i = 0; i < lock->nwait; i++)
        free (lock->waiters[i].owner);
    free (lock->waiters);
    free (lock->holder);
    free (lock->name);
    free (lock);
}

static void
s_trail_free (s_trail_t *trail)
{
    for (size_t i = 0; i < trail->ncons; i++)
        free (trail->cons[i].owner);
    free (trail->cons);
    free (trail->name);
    free (trail);
}

void
mp_sync_destroy (mp_sync_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    mp_sync_t *self = *self_p;
    for (size_t i = 0; i < self->used; i++) {
        free (self->entries[i].key);
        free (self->entries[i].val);
    }
    free (self->entries);
    free (self->fen);
    free (self->slots);
    for (size_t i = 0; i < self->nlocks; i++)
        s_lock_free (self->locks[i]);
    free (self->locks);
    for (size_t i = 0; i < self->ntrails; i++)
        s_trail_free (self->trails[i]);
    free (self->trails);
    free (self);
    *self_p = NULL;
}

//  ---------------------------------------------------------------------------
//  Board

static void
s_fen_add (size_t *fen, size_t cap, size_t pos, bool live)
{
    for (size_t i = pos + 1; i <= cap; i += i & (~i + 1)) {
        if (live)
            fen[i]++;
        else
            fen[i]--;
    }
}

//  Position of the index-th live entry (0-based).
static size_t
s_fen_find (const size_t *fen, size_t cap, size_t index)
{
    size_t pos = 0, rest = index + 1;
    for (size_t step = cap; step; step >>= 1) {
        if (pos + step <= cap && fen[pos + step] < rest) {
            pos += step;
            rest -= fen[pos];
        }
    }
    return pos;  //  1-based pos + 1 is the answer, which is 0-based pos
}

//  Finds key; returns its position or S_NONE, and its slot in *slot_p.
static size_t
s_board_find (const mp_sync_t *self, const void *key, size_t klen, size_t *slot_p)
{
    if (!self->cap)
        return S_NONE;
    size_t mask = 2 * self->cap - 1;
    for (size_t j = (size_t) s_hash (key, klen) & mask;; j = (j + 1) & mask) {
        size_t s = self->slots[j];
        if (s == 0)
            return S_NONE;
        if (s == S_TOMB)
            continue;
        const s_entry_t *e = &self->entries[s - 1];
        if (e->klen == klen && (klen == 0 || memcmp (e->key, key, klen) == 0)) {
            if (slot_p)
                *slot_p = j;
            return s - 1;
        }
    }
}

//  Moves the live entries, in order, into fresh arrays of cap entries, dropping
//  holes and tombstones. On failure nothing changes.
static int
s_board_rebuild (mp_sync_t *self, size_t cap)
{
    s_entry_t *entries = malloc (cap * sizeof *entries);
    size_t *fen = calloc (cap + 1, sizeof *fen);
    size_t *slots = calloc (2 * cap, sizeof *slots);
    if (!entries || !fen || !slots) {
        free (entries);
        free (fen);
        free (slots);
        return MP_ENOMEM;
    }
    size_t n = 0, mask = 2 * cap - 1;
    for (size_t i = 0; i < self->used; i++) {
        if (!self->entries[i].live)
            continue;
        entries[n] = self->entries[i];
        size_t j = (size_t) s_hash (entries[n].key, entries[n].klen) & mask;
        while (slots[j])
            j = (j + 1) & mask;
        slots[j] = n + 1;
        n++;
    }
    //  linear-time Fenwick build: positions 1..n hold one live entry each; the
    //  empty nodes above n still pass their children's sums upwards
    for (size_t i = 1; i <= cap; i++) {
        if (i <= n)
            fen[i] += 1;
        size_t up = i + (i & (~i + 1));
        if (up <= cap)
            fen[up] += fen[i];
    }
    free (self->entries);
    free (self->fen);
    free (self->slots);
    self->entries = entries;
    self->fen = fen;
    self->slots = slots;
    self->cap = cap;
    self->used = n;
    return MP_OK;
}

static void *
s_memdup (const void *src, size_t len)
{
    void *p = malloc (len ? len : 1);
    if (p && len)
        memcpy (p, src, len);
    return p;
}

int
mp_sync_board_set (mp_sync_t *self, const void *key, size_t klen, const void *val,
                   size_t vlen)
{
    if (!self || (!key && klen) || (!val && vlen))
        return MP_EINVAL;
    char *vcopy = s_memdup (val, vlen);
    if (!vcopy)
        return MP_ENOMEM;
    size_t pos = s_board_find (self, key, klen, NULL);
    if (pos != S_NONE) {
        //  a re-set key keeps its place, as a dict does
        free (self->entries[pos].val);
        self->entries[pos].val = vcopy;
        self->entries[pos].vlen = vlen;
        return MP_OK;
    }
    char *kcopy = s_memdup (key, klen);
    if (!kcopy)
        goto fail_val;
    if (self->used == self->cap) {
        size_t cap = S_MIN_CAP;
        while (cap < 2 * (self->nlive + 1))
            cap *= 2;
        if (s_board_rebuild (self, cap))
            goto fail_key;
    }
    pos = self->used++;
    self->entries[pos] =
        (s_entry_t) {.key = kcopy, .klen = klen, .val = vcopy, .vlen = vlen, .live = true};
    s_fen_add (self->fen, self->cap, pos, true);
    size_t mask = 2 * self->cap - 1;
    size_t j = (size_t) s_hash (key, klen) & mask;
    //  tombstones are not reused: rebuilds clear them, and used <= cap keeps the
    //  index at most half full
    while (self->slots[j])
        j = (j + 1) & mask;
    self->slots[j] = pos + 1;
    self->nlive++;
    return MP_OK;

fail_key:
    free (kcopy);
fail_val:
    free (vcopy);
    return MP_ENOMEM;
}

int
mp_sync_board_get (mp_sync_t *self, const void *key, size_t klen, const void **val,
                   size_t *vlen)
{
    if (!self || (!key && klen))
        return 0;
    size_t pos = s_board_find (self, key, klen, NULL);
    if (pos == S_NONE)
        return 0;
    if (val)
        *val = self->entries[pos].val;
    if (vlen)
        *vlen = self->entries[pos].vlen;
    return 1;
}

int
mp_sync_board_del (mp_sync_t *self, const void *key, size_t klen)
{
    if (!self || (!key && klen))
        return 0;
    size_t slot;
    size_t pos = s_board_find (self, key, klen, &slot);
    if (pos == S_NONE)
        return 0;
    s_entry_t *e = &self->entries[pos];
    free (e->key);
    free (e->val);
    *e = (s_entry_t) {.live = false};
    self->slots[slot] = S_TOMB;
    s_fen_add (self->fen, self->cap, pos, false);
    self->nlive--;
    //  Compact once holes outnumber live entries: amortised O(1) per delete.
    //  A failed compaction only postpones it.
    size_t holes = self->used - self->nlive;
    if (holes > S_MIN_CAP && holes > self->nlive) {
        size_t cap = S_MIN_CAP;
        while (cap < 2 * self->nlive)
            cap *= 2;
        s_board_rebuild (self, cap);
    }
    return 1;
}

size_t
mp_sync_board_size (const mp_sync_t *self)
{
    return self ? self->nlive : 0;
}

void
mp_sync_board_at (const mp_sync_t *self, size_t index, const void **key, size_t *klen,
                  const void **val, size_t *vlen)
{
    if (!self || index >= self->nlive)
        return;
    const s_entry_t *e = &self->entries[s_fen_find (self->fen, self->cap, index)];
    if (key)
        *key = e->key;
    if (klen)
        *klen = e->klen;
    if (val)
        *val = e->val;
    if (vlen)
        *vlen = e->vlen;
}

//  ---------------------------------------------------------------------------
//  Locks

static size_t
s_lock_index (const mp_sync_t *self, const char *name)
{
    for (size_t i = 0; i < self->nlocks; i++)
        if (strcmp (self->locks[i]->name, name) == 0)
            return i;
    return S_NONE;
}

static size_t
s_lock_create (mp_sync_t *self, const char *name)
{
    if (mp_array_grow ((void **) &self->locks, &self->locks_cap, self->nlocks + 1,
                       sizeof *self->locks))
        return S_NONE;
    s_lock_t *lock = calloc (1, sizeof *lock);
    if (!lock)
        return S_NONE;
    lock->name = strdup (name);
    if (!lock->name) {
        free (lock);
        return S_NONE;
    }
    self->locks[self->nlocks] = lock;
    return self->nlocks++;
}

//  An idle lock (no holder, no waiters) is forgotten so names do not pile up.
static void
s_lock_drop_if_idle (mp_sync_t *self, size_t i)
{
    s_lock_t *lock = self->locks[i];
    if (lock->holder || lock->nwait)
        return;
    s_lock_free (lock);
    self->locks[i] = self->locks[--self->nlocks];
}

int
mp_sync_lock_acquire (mp_sync_t *self, const char *name, const char *owner,
                      uint64_t token, int *granted, char *err, size_t errlen)
{
    if (!self || !name || !owner || !granted) {
        mp_set_error (err, errlen, "lock acquire needs a lock name and an owner");
        return MP_EINVAL;
    }
    size_t i = s_lock_index (self, name);
    if (i == S_NONE && (i = s_lock_create (self, name)) == S_NONE)
        goto nomem;
    s_lock_t *lock = self->locks[i];
    if (lock->holder && strcmp (lock->holder, owner) == 0) {
        mp_set_error (err, errlen, "lock %s is already held by %s", name, owner);
        return MP_ESTATE;
    }
    for (size_t w = 0; w < lock->nwait; w++) {
        if (strcmp (lock->waiters[w].owner, owner) == 0) {
            mp_set_error (err, errlen, "%s already waits for lock %s", owner, name);
            return MP_ESTATE;
        }
    }
    char *copy = strdup (owner);
    if (!copy)
        goto nomem_drop;
    if (!lock->holder) {
        lock->holder = copy;
        *granted = 1;
        return MP_OK;
    }
    if (mp_array_grow ((void **) &lock->waiters, &lock->wcap, lock->nwait + 1,
                       sizeof *lock->waiters)) {
        free (copy);
        goto nomem_drop;
    }
    lock->waiters[lock->nwait++] = (s_waiter_t) {.owner = copy, .token = token};
    *granted = 0;
    return MP_OK;

nomem_drop:
    s_lock_drop_if_idle (self, i);
nomem:
    mp_set_error (err, errlen, "lock %s: out of memory", name);
    return MP_ENOMEM;
}

//  The holder lets go: the first waiter, if any, becomes holder and is told.
//  Nothing touches the lock after the callback.
static void
s_lock_pass (mp_sync_t *self, size_t i)
{
    s_lock_t *lock = self->locks[i];
    free (lock->holder);
    lock->holder = NULL;
    if (!lock->nwait) {
        s_lock_drop_if_idle (self, i);
        return;
    }
    s_waiter_t next = lock->waiters[0];
    memmove (lock->waiters, lock->waiters + 1, (lock->nwait - 1) * sizeof *lock->waiters);
    lock->nwait--;
    lock->holder = next.owner;
    if (self->grant)
        self->grant (self->arg, lock->name, lock->holder, next.token);
}

int
mp_sync_lock_release (mp_sync_t *self, const char *name, const char *owner, char *err,
                      size_t errlen)
{
    if (!self || !name || !owner) {
        mp_set_error (err, errlen, "lock release needs a lock name and an owner");
        return MP_EINVAL;
    }
    size_t i = s_lock_index (self, name);
    if (i == S_NONE || !self->locks[i]->holder
        || strcmp (self->locks[i]->holder, owner) != 0) {
        mp_set_error (err, errlen, "lock %s is not held by %s", name, owner);
        return MP_ESTATE;
    }
    s_lock_pass (self, i);
    return MP_OK;
}

int
mp_sync_lock_held_by (const mp_sync_t *self, const char *name, const char *owner)
{
    if (!self || !name || !owner)
        return 0;
    size_t i = s_lock_index (self, name);
    return i != S_NONE && self->locks[i]->holder
           && strcmp (self->locks[i]->holder, owner) == 0;
}

//  ---------------------------------------------------------------------------
//  Trails

static size_t
s_trail_index (const mp_sync_t *self, const char *name)
{
    for (size_t i = 0; i < self->ntrails; i++)
        if (strcmp (self->trails[i]->name, name) == 0)
            return i;
    return S_NONE;
}

static size_t
s_consumer_index (const s_trail_t *trail, const char *owner)
{
    for (size_t c = 0; c < trail->ncons; c++)
        if (strcmp (trail->cons[c].owner, owner) == 0)
            return c;
    return S_NONE;
}

static void
s_consumer_remove (s_trail_t *trail, size_t c)
{
    free (trail->cons[c].owner);
    trail->cons[c] = trail->cons[--trail->ncons];
}

//  A trail back at count 0 has no outstanding consumption: forget it, and any
//  record left by finishes that came from other owners than the starts.
static void
s_trail_drop_if_idle (mp_sync_t *self, size_t i)
{
    if (self->trails[i]->count)
        return;
    s_trail_free (self->trails[i]);
    self->trails[i] = self->trails[--self->ntrails];
}

static int
s_trail_start (mp_sync_t *self, const char *name, const char *owner, int *first,
               char *err, size_t errlen)
{
    size_t i = s_trail_index (self, name);
    if (i == S_NONE) {
        if (mp_array_grow ((void **) &self->trails, &self->trails_cap, self->ntrails + 1,
                           sizeof *self->trails))
            goto nomem;
        s_trail_t *trail = calloc (1, sizeof *trail);
        if (!trail)
            goto nomem;
        if (!(trail->name = strdup (name))) {
            free (trail);
            goto nomem;
        }
        i = self->ntrails++;
        self->trails[i] = trail;
    }
    s_trail_t *trail = self->trails[i];
    size_t c = s_consumer_index (trail, owner);
    if (c == S_NONE) {
        char *copy = strdup (owner);
        if (!copy
            || mp_array_grow ((void **) &trail->cons, &trail->ccap, trail->ncons + 1,
                              sizeof *trail->cons)) {
            free (copy);
            s_trail_drop_if_idle (self, i);
            goto nomem;
        }
        c = trail->ncons++;
        trail->cons[c] = (s_consumer_t) {.owner = copy, .n = 0};
    }
    trail->cons[c].n++;
    *first = trail->count++ == 0;
    return MP_OK;

nomem:
    mp_set_error (err, errlen, "trail %s: out of memory", name);
    return MP_ENOMEM;
}

static int
s_trail_finish (mp_sync_t *self, const char *name, const char *owner, int *last,
                char *err, size_t errlen)
{
    size_t i = s_trail_index (self, name);
    if (i == S_NONE || self->trails[i]->count == 0) {
        mp_set_error (err, errlen, "trail %s: finish without a matching start", name);
        return MP_EINVAL;
    }
    s_trail_t *trail = self->trails[i];
    //  a finish from an owner with no start of its own still counts, as in the
    //  original; other owners' records stay as they are
    size_t c = s_consumer_index (trail, owner);
    if (c != S_NONE && --trail->cons[c].n == 0)
        s_consumer_remove (trail, c);
    if (--trail->count > 0) {
        *last = 0;
        return MP_OK;
    }
    s_trail_drop_if_idle (self, i);
    *last = 1;
    return MP_OK;
}

int
mp_sync_trail (mp_sync_t *self, const char *name, const char *state, const char *owner,
               int *first_or_last, char *err, size_t errlen)
{
    if (!self || !name || !owner || !first_or_last) {
        mp_set_error (err, errlen, "trail needs a name and an owner");
        return MP_EINVAL;
    }
    if (state && strcmp (state, "start") == 0)
        return s_trail_start (self, name, owner, first_or_last, err, errlen);
    if (state && strcmp (state, "finish") == 0)
        return s_trail_finish (self, name, owner, first_or_last, err, errlen);
    mp_set_error (err, errlen, "trail %s: unknown state '%s' (expected 'start' or 'finish')",
                  name, state ? state : "(none)");
    return MP_EINVAL;
}

size_t
mp_sync_trail_count (const mp_sync_t *self, const char *name)
{
    if (!self || !name)
        return 0;
    size_t i = s_trail_index (self, name);
    return i == S_NONE ? 0 : self->trails[i]->count;
}

//  ---------------------------------------------------------------------------

void
mp_sync_owner_gone (mp_sync_t *self, const char *owner, int died)
{
    if (!self || !owner)
        return;
    //  Waits first, so a lock released below is never granted to this owner.
    for (size_t i = 0; i < self->nlocks;) {
        s_lock_t *lock = self->locks[i];
        for (size_t w = 0; w < lock->nwait;) {
            if (strcmp (lock->waiters[w].owner, owner) == 0) {
                free (lock->waiters[w].owner);
                memmove (lock->waiters + w, lock->waiters + w + 1,
                         (lock->nwait - w - 1) * sizeof *lock->waiters);
                lock->nwait--;
            }
            else
                w++;
        }
        size_t before = self->nlocks;
        if (lock->holder && strcmp (lock->holder, owner) == 0)
            s_lock_pass (self, i);
        else
            s_lock_drop_if_idle (self, i);
        //  a dropped lock's slot now holds the last lock: look at it again
        if (self->nlocks == before)
            i++;
    }
    for (size_t i = 0; i < self->ntrails;) {
        s_trail_t *trail = self->trails[i];
        size_t c = s_consumer_index (trail, owner);
        if (c != S_NONE) {
            size_t n = trail->cons[c].n;
            if (died)
                trail->count -= n < trail->count ? n : trail->count;
            s_consumer_remove (trail, c);
        }
        size_t before = self->ntrails;
        s_trail_drop_if_idle (self, i);
        if (self->ntrails == before)
            i++;
    }
}
