//  A run's unit queue and its isolation barrier; see sched.h for the rules.
#include "coordinator/sched.h"

#include "../common/array.h"
#include "../common/error.h"

#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>


typedef struct {
    uint64_t id;
    size_t group;  //  index into groups
    size_t ntests;
    uint64_t weight_ms; //  expected duration (earlier runs'), 0 when not known
    size_t plan;   //  position in add order
    int strategy;
    mp_unit_state_t state;
} s_unit_t;

typedef struct {
    char *name;
    bool isolated;
    size_t first;   //  plan position of the group's first unit
    size_t queued;
    size_t running;
} s_group_t;

//  Open-addressing index of positions (stored +1, 0 = empty); never shrinks.
typedef struct {
    size_t *slots;
    size_t cap;  //  power of two, kept at least twice the number of entries
    size_t count;
} s_index_t;

struct mp_sched_t {
    s_unit_t *units;
    size_t nunits, units_cap;
    s_group_t *groups;
    size_t ngroups, groups_cap;
    s_index_t unit_ix;   //  unit id -> units[]
    s_index_t group_ix;  //  group name -> groups[]
    //  Queue of unit positions, head first; the head moves forward on start so
    //  taking the front is O(1), and requeue can usually step it back.
    //  Both grow in add, so seal and requeue never allocate; queue[0] is spare.
    size_t *queue;
    size_t qhead, qtail, qcap;
    size_t *scratch;  //  merge sort buffer
    size_t scratch_cap;
    size_t nrunning;
    size_t active;  //  group whose barrier is up, or SIZE_MAX
    bool sealed;
};

#define S_NONE SIZE_MAX

static const char *s_strategy_names[] = {"free", "serial", "isolated_free", "isolated_serial"};

int
mp_strategy_parse (const char *name, int *strategy)
{
    for (int i = 0; name && i < 4; i++)
        if (strcmp (name, s_strategy_names[i]) == 0) {
            *strategy = i;
            return MP_OK;
        }
    return MP_EINVAL;
}

const char *
mp_strategy_name (int strategy)
{
    if (strategy < 0 || strategy > 3)
        return NULL;
    return s_strategy_names[strategy];
}

static uint64_t
s_hash_u64 (uint64_t x)
{
    //  splitmix64 finaliser: caller ids are often sequential
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

static uint64_t
s_hash_str (const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++) {
        h ^= (unsigned char) *s;
        h *= 0x100000001b3ULL;
    }
    return h;
}

static uint64_t
s_unit_hash (const mp_sched_t *self, size_t pos)
{
    return s_hash_u64 (self->units[pos].id);
}

static uint64_t
s_group_hash (const mp_sched_t *self, size_t pos)
{
    return s_hash_str (self->groups[pos].name);
}

//  Inserts pos under hash h, growing (and rehashing with rehash_fn) when half full.
static int
s_index_put (mp_sched_t *self, s_index_t *ix, uint64_t h, size_t pos,
             uint64_t (*rehash_fn) (const mp_sched_t *, size_t))
{
    if ((ix->count + 1) * 2 > ix->cap) {
        size_t cap = ix->cap ? ix->cap * 2 : 16;
        size_t *slots = calloc (cap, sizeof *slots);
        if (!slots)
            return MP_ENOMEM;
        for (size_t i = 0; i < ix->cap; i++) {
            if (!ix->slots[i])
                continue;
            size_t j = (size_t) rehash_fn (self, ix->slots[i] - 1) & (cap - 1);
            while (slots[j])
                j = (j + 1) & (cap - 1);
            slots[j] = ix->slots[i];
        }
        free (ix->slots);
        ix->slots = slots;
        ix->cap = cap;
    }
    size_t j = (size_t) h & (ix->cap - 1);
    while (ix->slots[j])
        j = (j + 1) & (ix->cap - 1);
    ix->slots[j] = pos + 1;
    ix->count++;
    return MP_OK;
}

static size_t
s_find_unit (const mp_sched_t *self, uint64_t id)
{
    const s_index_t *ix = &self->unit_ix;
    if (!ix->cap)
        return S_NONE;
    size_t j = (size_t) s_hash_u64 (id) & (ix->cap - 1);
    while (ix->slots[j]) {
        if (self->units[ix->slots[j] - 1].id == id)
            return ix->slots[j] - 1;
        j = (j + 1) & (ix->cap - 1);
    }
    return S_NONE;
}

static size_t
s_find_group (const mp_sched_t *self, const char *name)
{
    const s_index_t *ix = &self->group_ix;
    if (!ix->cap)
        return S_NONE;
    size_t j = (size_t) s_hash_str (name) & (ix->cap - 1);
    while (ix->slots[j]) {
        if (strcmp (self->groups[ix->slots[j] - 1].name, name) == 0)
            return ix->slots[j] - 1;
        j = (j + 1) & (ix->cap - 1);
    }
    return S_NONE;
}

mp_sched_t *
mp_sched_new (void)
{
    mp_sched_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->active = S_NONE;
    return self;
}

void
mp_sched_destroy (mp_sched_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    mp_sched_t *self = *self_p;
    for (size_t i = 0; i < self->ngroups; i++)
        free (self->groups[i].name);
    free (self->groups);
    free (self->units);
    free (self->unit_ix.slots);
    free (self->group_ix.slots);
    free (self->queue);
    free (self->scratch);
    free (self);
    *self_p = NULL;
}

//  Finds or creates the group, into *group. MP_OK, MP_EINVAL when it exists with the
//  other isolation, or MP_ENOMEM.
static int
s_group_for (mp_sched_t *self, const char *name, bool isolated, size_t *group)
{
    size_t g = s_find_group (self, name);
    if (g != S_NONE) {
        if (self->groups[g].isolated != isolated)
            return MP_EINVAL;
        *group = g;
        return MP_OK;
    }
    if (mp_array_grow ((void **) &self->groups, &self->groups_cap, self->ngroups + 1,
                       sizeof *self->groups))
        return MP_ENOMEM;
    char *copy = strdup (name);
    if (!copy)
        return MP_ENOMEM;
    g = self->ngroups;
    self->groups[g] = (s_group_t) {.name = copy, .isolated = isolated, .first = self->nunits};
    if (s_index_put (self, &self->group_ix, s_hash_str (name), g, s_group_hash)) {
        free (copy);
        return MP_ENOMEM;
    }
    self->ngroups++;
    *group = g;
    return MP_OK;
}

int
mp_sched_add (mp_sched_t *self, uint64_t unit, const char *group, int strategy,
              size_t ntests)
{
    if (!self || !mp_strategy_name (strategy))
        return MP_EINVAL;
    if (self->sealed)
        return MP_ESTATE;
    if (!group)
        group = "";
    if (s_find_unit (self, unit) != S_NONE)
        return MP_EINVAL;
    //  The ungrouped tests never hold a barrier, whatever they name.
    bool isolated = group[0] != '\0' && (strategy == MP_STRATEGY_ISOLATED_FREE
                                         || strategy == MP_STRATEGY_ISOLATED_SERIAL);
    if (mp_array_grow ((void **) &self->units, &self->units_cap, self->nunits + 1,
                       sizeof *self->units)
        || mp_array_grow ((void **) &self->queue, &self->qcap, self->nunits + 2,
                          sizeof *self->queue)
        || mp_array_grow ((void **) &self->scratch, &self->scratch_cap, self->nunits + 1,
                          sizeof *self->scratch))
        return MP_ENOMEM;
    size_t g;
    int rc = s_group_for (self, group, isolated, &g);
    if (rc != MP_OK)
        return rc;
    size_t pos = self->nunits;
    self->units[pos] = (s_unit_t) {.id = unit, .group = g, .ntests = ntests, .plan = pos,
                                   .strategy = strategy, .state = MP_UNIT_QUEUED};
    if (s_index_put (self, &self->unit_ix, s_hash_u64 (unit), pos, s_unit_hash))
        return MP_ENOMEM;
    self->queue[1 + pos] = pos;
    self->nunits++;
    self->groups[g].queued++;
    return MP_OK;
}

//  True when unit a goes before unit b in the queue.
static bool
s_before (const mp_sched_t *self, size_t a, size_t b)
{
    const s_unit_t *ua = &self->units[a];
    const s_unit_t *ub = &self->units[b];
    const s_group_t *ga = &self->groups[ua->group];
    const s_group_t *gb = &self->groups[ub->group];
    if (ga->isolated != gb->isolated)
        return ga->isolated;
    if (ga->isolated) {
        //  isolated groups in plan order of their first unit, each kept together
        if (ga->first != gb->first)
            return ga->first < gb->first;
    }
    else if (ua->weight_ms != ub->weight_ms)
        return ua->weight_ms > ub->weight_ms; //  longest first
    else if (ua->ntests != ub->ntests)
        return ua->ntests > ub->ntests;
    return ua->plan < ub->plan;
}

//  Merge sort: stable, and needs no allocation here (scratch grows in add).
static void
s_sort (const mp_sched_t *self, size_t *a, size_t *tmp, size_t n)
{
    if (n < 2)
        return;
    size_t mid = n / 2;
    s_sort (self, a, tmp, mid);
    s_sort (self, a + mid, tmp, n - mid);
    size_t i = 0, j = mid, k = 0;
    while (i < mid && j < n)
        tmp[k++] = s_before (self, a[j], a[i]) ? a[j++] : a[i++];
    while (i < mid)
        tmp[k++] = a[i++];
    while (j < n)
        tmp[k++] = a[j++];
    memcpy (a, tmp, n * sizeof *a);
}

int
mp_sched_weigh (mp_sched_t *self, uint64_t unit, uint64_t weight_ms)
{
    if (!self)
        return MP_ENOENT;
    if (self->sealed)
        return MP_ESTATE;
    size_t pos = s_find_unit (self, unit);
    if (pos == S_NONE)
        return MP_ENOENT;
    self->units[pos].weight_ms = weight_ms;
    return MP_OK;
}

void
mp_sched_seal (mp_sched_t *self)
{
    if (!self || self->sealed)
        return;
    self->sealed = true;
    //  the queue starts at 1: requeue steps qhead back, down to 0 at most
    self->qhead = 1;
    self->qtail = 1 + self->nunits;
    if (self->nunits)
        s_sort (self, self->queue + self->qhead, self->scratch, self->nunits);
}

//  Takes the queue entry at position i out and marks its unit running.
static uint64_t
s_start (mp_sched_t *self, size_t i)
{
    size_t pos = self->queue[i];
    //  shift the (short) prefix right by one rather than the tail left
    memmove (self->queue + self->qhead + 1, self->queue + self->qhead,
             (i - self->qhead) * sizeof *self->queue);
    self->qhead++;
    s_unit_t *u = &self->units[pos];
    s_group_t *g = &self->groups[u->group];
    u->state = MP_UNIT_SENT;
    g->queued--;
    g->running++;
    self->nrunning++;
    if (g->isolated)
        self->active = u->group;
    return u->id;
}

int
mp_sched_next (mp_sched_t *self, size_t busy, uint64_t *unit)
{
    return mp_sched_next_for (self, busy, NULL, NULL, unit);
}

int
mp_sched_next_for (mp_sched_t *self, size_t busy, mp_sched_accept_fn *accept, void *arg,
                   uint64_t *unit)
{
    if (!self)
        return 0;
    if (!self->sealed)
        mp_sched_seal (self);
    if (self->qhead == self->qtail)
        return 0;
    size_t pick = self->qtail;
    if (self->active != S_NONE) {
        //  Barrier up: only the active group's units; they sit at the front.
        if (self->groups[self->active].queued == 0)
            return 0;
        for (size_t i = self->qhead; i < self->qtail && pick == self->qtail; i++) {
            const s_unit_t *u = &self->units[self->queue[i]];
            if (u->group == self->active && (!accept || accept (arg, u->id)))
                pick = i;
        }
    }
    else {
        //  An isolated group at the head waits for every slot everywhere to drain,
        //  and nothing behind it may start meanwhile.
        const s_unit_t *head = &self->units[self->queue[self->qhead]];
        if (self->groups[head->group].isolated) {
            if (busy > 0)
                return 0;
            for (size_t i = self->qhead; i < self->qtail && pick == self->qtail; i++) {
                const s_unit_t *u = &self->units[self->queue[i]];
                if (u->group == head->group && (!accept || accept (arg, u->id)))
                    pick = i;
            }
        }
        else
            //  The first unit this agent may run: a unit needing labels it lacks
            //  waits for an agent that has them, without holding back the others.
            for (size_t i = self->qhead; i < self->qtail && pick == self->qtail; i++)
                if (!accept || accept (arg, self->units[self->queue[i]].id))
                    pick = i;
    }
    if (pick == self->qtail)
        return 0;
    uint64_t id = s_start (self, pick);
    if (unit)
        *unit = id;
    return 1;
}

//  Lowers the barrier once its group has nothing queued or running.
static void
s_check_barrier (mp_sched_t *self)
{
    if (self->active == S_NONE)
        return;
    const s_group_t *g = &self->groups[self->active];
    if (g->queued == 0 && g->running == 0)
        self->active = S_NONE;
}

//  The position of a unit that holds a slot (sent or running), into *pos. MP_OK,
//  MP_ENOENT for a unit it does not know, or MP_ESTATE when the unit holds none.
static int
s_find_holder (const mp_sched_t *self, uint64_t unit, size_t *pos)
{
    size_t at = self ? s_find_unit (self, unit) : S_NONE;
    if (at == S_NONE)
        return MP_ENOENT;
    if (self->units[at].state != MP_UNIT_SENT && self->units[at].state != MP_UNIT_RUNNING)
        return MP_ESTATE;
    *pos = at;
    return MP_OK;
}

int
mp_sched_started (mp_sched_t *self, uint64_t unit)
{
    size_t pos = self ? s_find_unit (self, unit) : S_NONE;
    if (pos == S_NONE)
        return MP_ENOENT;
    if (self->units[pos].state != MP_UNIT_SENT)
        return MP_ESTATE;
    self->units[pos].state = MP_UNIT_RUNNING;
    return MP_OK;
}

int
mp_sched_state (const mp_sched_t *self, uint64_t unit, int *state)
{
    size_t pos = self ? s_find_unit (self, unit) : S_NONE;
    if (pos == S_NONE)
        return MP_ENOENT;
    *state = (int) self->units[pos].state;
    return MP_OK;
}

int
mp_sched_holds_slot (const mp_sched_t *self, uint64_t unit)
{
    size_t pos;
    return s_find_holder (self, unit, &pos) == MP_OK;
}

int
mp_sched_finish (mp_sched_t *self, uint64_t unit)
{
    size_t pos;
    int rc = s_find_holder (self, unit, &pos);
    if (rc != MP_OK)
        return rc;
    s_unit_t *u = &self->units[pos];
    u->state = MP_UNIT_DONE;
    self->groups[u->group].running--;
    self->nrunning--;
    s_check_barrier (self);
    return MP_OK;
}

int
mp_sched_requeue (mp_sched_t *self, uint64_t unit)
{
    size_t pos;
    int rc = s_find_holder (self, unit, &pos);
    if (rc != MP_OK)
        return rc;
    //  qhead is 1 + started - requeued, and this unit is among the started ones
    //  not yet back, so the slot in front is always free.
    assert (self->qhead > 0);
    self->queue[--self->qhead] = pos;
    s_unit_t *u = &self->units[pos];
    s_group_t *g = &self->groups[u->group];
    u->state = MP_UNIT_QUEUED;
    g->running--;
    g->queued++;
    self->nrunning--;
    //  If none of its group still runs, the barrier must be earned again: the
    //  group waits at the head for every slot to drain, as on its first start.
    if (self->active == u->group && g->running == 0)
        self->active = S_NONE;
    return MP_OK;
}

size_t
mp_sched_cancel (mp_sched_t *self)
{
    if (!self)
        return 0;
    if (!self->sealed)
        mp_sched_seal (self);
    size_t dropped = 0;
    for (size_t i = self->qhead; i < self->qtail; i++) {
        s_unit_t *u = &self->units[self->queue[i]];
        u->state = MP_UNIT_DROPPED;
        self->groups[u->group].queued--;
        dropped++;
    }
    self->qhead = self->qtail;
    s_check_barrier (self);
    return dropped;
}

int
mp_sched_drop (mp_sched_t *self, uint64_t unit)
{
    if (!self)
        return MP_ENOENT;
    if (!self->sealed)
        mp_sched_seal (self);
    for (size_t i = self->qhead; i < self->qtail; i++) {
        s_unit_t *u = &self->units[self->queue[i]];
        if (u->id != unit)
            continue;
        u->state = MP_UNIT_DROPPED;
        self->groups[u->group].queued--;
        memmove (self->queue + self->qhead + 1, self->queue + self->qhead,
                 (i - self->qhead) * sizeof *self->queue);
        self->qhead++;
        s_check_barrier (self);
        return MP_OK;
    }
    return MP_ESTATE;
}

size_t
mp_sched_queued (const mp_sched_t *self)
{
    if (!self)
        return 0;
    if (!self->sealed)
        return self->nunits;
    return self->qtail - self->qhead;
}

size_t
mp_sched_running (const mp_sched_t *self)
{
    return self ? self->nrunning : 0;
}

int
mp_sched_done (const mp_sched_t *self)
{
    return mp_sched_queued (self) == 0 && mp_sched_running (self) == 0;
}

int
mp_sched_barrier (const mp_sched_t *self)
{
    return self && self->active != S_NONE;
}
