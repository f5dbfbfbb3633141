#include "run.h"

#include <openssl/rand.h>

#include "../common/array.h"
#include "../common/error.h"
#include "../common/strs.h"

static void s_unit_destroy (mp_unit_t **unit_p)
{
    mp_unit_t *unit = *unit_p;
    if (!unit)
        return;
    for (size_t i = 0; i < unit->ntests; i++)
        free (unit->tests[i]);
    free (unit->tests);
    mp_strs_clear (&unit->requires, &unit->nrequires);
    free (unit->group);
    free (unit);
    *unit_p = NULL;
}

mp_run_t *mp_run_new (uint64_t id, const char *cwd, zframe_t *front, mp_sync_grant_fn *grant,
                      void *arg)
{
    mp_run_t *self = (mp_run_t *) calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->id = id;
    unsigned char raw[16];
    if (RAND_bytes (raw, sizeof raw) != 1) {
        free (self);
        return NULL;
    }
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf (self->uid + 2 * i, 3, "%02x", raw[i]);
    self->cwd = strdup (cwd);
    self->sched = mp_sched_new ();
    self->sync = mp_sync_new (grant, arg);
    self->front = zframe_dup (front);
    self->ready = zhashx_new ();
    self->owners = zhashx_new ();
    self->kills = zhashx_new ();
    self->inflight = zlistx_new ();
    if (!self->cwd || !self->sched || !self->sync || !self->front
        || !self->ready || !self->owners || !self->kills || !self->inflight) {
        mp_run_destroy (&self);
        return NULL;
    }
    return self;
}

void mp_run_destroy (mp_run_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    mp_run_t *self = *self_p;
    for (size_t i = 0; i < self->nunits; i++)
        s_unit_destroy (&self->units[i]);
    free (self->units);
    for (size_t i = 0; i < self->nevents; i++) {
        free (self->events[i].test);
        free (self->events[i].data);
    }
    free (self->events);
    zhashx_destroy (&self->ready);
    zhashx_destroy (&self->owners);
    zhashx_destroy (&self->kills);
    zlistx_destroy (&self->inflight);
    zframe_destroy (&self->front);
    zframe_destroy (&self->poll_route);
    free (self->poll_from);
    mp_sync_destroy (&self->sync);
    mp_sched_destroy (&self->sched);
    mp_strs_clear (&self->args, &self->nargs);
    mp_strs_clear (&self->files, &self->nfiles);
    free (self->cwd);
    free (self);
    *self_p = NULL;
}

int mp_run_inflight_add (mp_run_t *self, mp_unit_t *unit)
{
    if (!unit->inflight)
        unit->inflight = zlistx_add_end (self->inflight, unit);
    return unit->inflight ? MP_OK : MP_ENOMEM;
}

void mp_run_inflight_remove (mp_run_t *self, mp_unit_t *unit)
{
    if (unit->inflight)
        zlistx_delete (self->inflight, unit->inflight);
    unit->inflight = NULL;
}

int mp_run_set_args (mp_run_t *self, const char *const *args, size_t nargs)
{
    return mp_strs_set (&self->args, &self->nargs, args, nargs);
}

int mp_run_set_files (mp_run_t *self, const char *const *files, size_t nfiles)
{
    return mp_strs_set (&self->files, &self->nfiles, files, nfiles);
}

int mp_run_add_unit (mp_run_t *self, uint64_t id, const char *group, int strategy,
                     const char *const *tests, size_t ntests, char *err, size_t errlen)
{
    if (self->state != MP_RUN_PLANNING) {
        mp_set_error (err, errlen, "run %" PRIu64 " is no longer planning", self->id);
        return MP_ESTATE;
    }
    if (ntests == 0) {
        mp_set_error (err, errlen, "unit %" PRIu64 " has no tests", id);
        return MP_EINVAL;
    }
    if (mp_run_unit (self, id)) {
        mp_set_error (err, errlen, "unit %" PRIu64 " planned twice", id);
        return MP_EINVAL;
    }
    if (mp_array_grow ((void **) &self->units, &self->cap_units, self->nunits + 1,
                       sizeof *self->units) != 0)
        goto nomem;
    mp_unit_t *unit = (mp_unit_t *) calloc (1, sizeof *unit);
    if (!unit)
        goto nomem;
    unit->id = id;
    unit->strategy = strategy;
    unit->group = strdup (group);
    unit->tests = (char **) calloc (ntests, sizeof (char *));
    if (!unit->group || !unit->tests) {
        s_unit_destroy (&unit);
        goto nomem;
    }
    for (size_t i = 0; i < ntests; i++) {
        unit->tests[i] = strdup (tests[i]);
        unit->ntests = i + 1;
        if (!unit->tests[i]) {
            s_unit_destroy (&unit);
            goto nomem;
        }
    }
    int rc = mp_sched_add (self->sched, id, group, strategy, ntests);
    if (rc != MP_OK) {
        s_unit_destroy (&unit);
        if (rc == MP_ENOMEM)
            goto nomem;
        mp_set_error (err, errlen, "unit %" PRIu64 ": strategy %d refused", id, strategy);
        return rc;
    }
    self->units[self->nunits++] = unit;
    return MP_OK;
nomem:
    mp_set_error (err, errlen, "out of memory adding unit %" PRIu64, id);
    return MP_ENOMEM;
}

mp_unit_t *mp_run_unit (mp_run_t *self, uint64_t id)
{
    //  Units are planned with ids 1..n in order, so try the direct slot first.
    if (id >= 1 && id <= self->nunits && self->units[id - 1]->id == id)
        return self->units[id - 1];
    for (size_t i = 0; i < self->nunits; i++)
        if (self->units[i]->id == id)
            return self->units[i];
    return NULL;
}

mp_unit_t *mp_run_unit_at (mp_run_t *self, size_t index)
{
    return index < self->nunits ? self->units[index] : NULL;
}

size_t mp_run_nunits (const mp_run_t *self)
{
    return self->nunits;
}

int mp_run_add_event (mp_run_t *self, int kind, const char *test, uint64_t unit,
                      const void *data, size_t len)
{
    if (mp_array_grow ((void **) &self->events, &self->cap_events, self->nevents + 1,
                       sizeof *self->events) != MP_OK)
        return MP_ENOMEM;
    mp_event_t *event = &self->events[self->nevents];
    memset (event, 0, sizeof *event);
    event->kind = kind;
    event->test = strdup (test);
    event->unit = unit;
    event->data = (uint8_t *) malloc (len ? len : 1);
    if (!event->test || !event->data) {
        free (event->test);
        free (event->data);
        return MP_ENOMEM;
    }
    if (len)
        memcpy (event->data, data, len);
    event->len = len;
    self->nevents++;
    return MP_OK;
}

size_t mp_run_nevents (const mp_run_t *self)
{
    return self->nevents;
}

const mp_event_t *mp_run_event (const mp_run_t *self, size_t seq)
{
    return seq >= 1 && seq <= self->nevents ? &self->events[seq - 1] : NULL;
}

int mp_run_ready (mp_run_t *self, const char *agent_key)
{
    void *value = zhashx_lookup (self->ready, agent_key);
    return value ? (int) ((uintptr_t) value - 1) : MP_READY_NONE;
}

void mp_run_set_ready (mp_run_t *self, const char *agent_key, int ready)
{
    zhashx_update (self->ready, agent_key, (void *) (uintptr_t) (ready + 1));
}

int mp_run_bind_owner (mp_run_t *self, const char *owner, uint64_t unit)
{
    return zhashx_insert (self->owners, owner, (void *) (uintptr_t) unit) == 0 ? MP_OK
                                                                                : MP_ESTATE;
}

void mp_run_unbind_owner (mp_run_t *self, const char *owner)
{
    zhashx_delete (self->owners, owner);
}

int mp_run_note_kill (mp_run_t *self, const char *owner)
{
    zhashx_update (self->kills, owner, (void *) (uintptr_t) 1);
    return zhashx_lookup (self->kills, owner) ? MP_OK : MP_ENOMEM;
}

int mp_run_take_kill (mp_run_t *self, const char *owner)
{
    if (!zhashx_lookup (self->kills, owner))
        return 0;
    zhashx_delete (self->kills, owner);
    return 1;
}

mp_unit_t *mp_run_owner_unit (mp_run_t *self, const char *owner)
{
    void *unit = zhashx_lookup (self->owners, owner);
    return unit ? mp_run_unit (self, (uint64_t) (uintptr_t) unit) : NULL;
}
