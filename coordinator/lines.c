//  Lines of unit processes: their names, owners and connections (see lines.h).
#include "lines.h"

#include "../common/error.h"

struct mp_lines_t {
    zhashx_t *by_name;  //  name -> mp_line_t, owned
    zhashx_t *by_owner; //  owner -> the same mp_line_t, borrowed
};

static void s_line_destroy (void **item)
{
    mp_line_t *line = (mp_line_t *) *item;
    if (line) {
        zframe_destroy (&line->route);
        free (line);
    }
    *item = NULL;
}

mp_lines_t *mp_lines_new (void)
{
    mp_lines_t *self = (mp_lines_t *) calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->by_name = zhashx_new ();
    self->by_owner = zhashx_new ();
    if (!self->by_name || !self->by_owner) {
        mp_lines_destroy (&self);
        return NULL;
    }
    zhashx_set_destructor (self->by_name, s_line_destroy);
    return self;
}

void mp_lines_destroy (mp_lines_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    mp_lines_t *self = *self_p;
    zhashx_destroy (&self->by_owner);
    zhashx_destroy (&self->by_name);
    free (self);
    *self_p = NULL;
}

static int s_is_z85_key (const char *key)
{
    if (strlen (key) != 40)
        return 0;
    uint8_t raw[32];
    return zmq_z85_decode (raw, key) != NULL;
}

static void s_remove (mp_lines_t *self, mp_line_t *line)
{
    zhashx_delete (self->by_owner, line->owner);
    zhashx_delete (self->by_name, line->name); //  frees line
}

int mp_lines_open (mp_lines_t *self, const char *name, uint64_t run, uint64_t unit,
                   const char *owner, const char *key)
{
    if (!mp_peer_is_line (name) || !owner || strlen (owner) >= MP_PEER_OWNER_MAX
        || !key || (*key && !s_is_z85_key (key)))
        return MP_EINVAL;
    mp_line_t *held = mp_lines_find (self, name);
    if (held && !streq (held->owner, owner))
        return MP_ESTATE;
    //  One line per process: a new one replaces its last (a reused process's next unit).
    mp_line_t *last = mp_lines_find_owner (self, owner);
    if (last)
        s_remove (self, last);
    mp_line_t *line = (mp_line_t *) calloc (1, sizeof *line);
    if (!line)
        return MP_ENOMEM;
    snprintf (line->name, sizeof line->name, "%s", name);
    snprintf (line->owner, sizeof line->owner, "%s", owner);
    snprintf (line->key, sizeof line->key, "%s", key);
    line->run = run;
    line->unit = unit;
    if (zhashx_insert (self->by_name, line->name, line) != 0) {
        free (line);
        return MP_ENOMEM;
    }
    if (zhashx_insert (self->by_owner, line->owner, line) != 0) {
        zhashx_delete (self->by_name, line->name);
        return MP_ENOMEM;
    }
    return MP_OK;
}

mp_line_t *mp_lines_find (mp_lines_t *self, const char *name)
{
    return name ? (mp_line_t *) zhashx_lookup (self->by_name, name) : NULL;
}

mp_line_t *mp_lines_find_owner (mp_lines_t *self, const char *owner)
{
    return owner ? (mp_line_t *) zhashx_lookup (self->by_owner, owner) : NULL;
}

void mp_lines_close_owner (mp_lines_t *self, const char *owner, char *key)
{
    key[0] = '\0';
    mp_line_t *line = mp_lines_find_owner (self, owner);
    if (!line)
        return;
    snprintf (key, 41, "%s", line->key);
    s_remove (self, line);
}

void mp_lines_seen (mp_line_t *line, zframe_t *route)
{
    if (line->route && zframe_eq (line->route, route))
        return;
    zframe_destroy (&line->route);
    line->route = zframe_dup (route);
}

int mp_lines_add_wait (mp_line_t *line, uint64_t reqid)
{
    if (line->nwaits >= MP_LINE_WAITS_MAX)
        return MP_ETOOBIG;
    line->waits[line->nwaits++] = reqid;
    return MP_OK;
}

int mp_lines_take_wait (mp_line_t *line, uint64_t reqid)
{
    for (size_t i = 0; i < line->nwaits; i++)
        if (line->waits[i] == reqid) {
            line->waits[i] = line->waits[--line->nwaits];
            return 1;
        }
    return 0;
}

size_t mp_lines_size (mp_lines_t *self)
{
    return zhashx_size (self->by_name);
}

void mp_lines_close_run (mp_lines_t *self, uint64_t run, mp_lines_forget_fn *forget,
                         void *arg)
{
    //  Collected first: a zhashx may not change while it is walked.
    zlistx_t *owners = zlistx_new ();
    if (!owners)
        return;
    zlistx_set_destructor (owners, (zlistx_destructor_fn *) zstr_free);
    for (mp_line_t *line = (mp_line_t *) zhashx_first (self->by_name); line;
         line = (mp_line_t *) zhashx_next (self->by_name))
        if (line->run == run) {
            char *owner = strdup (line->owner);
            if (owner && !zlistx_add_end (owners, owner))
                free (owner);
        }
    for (char *owner = (char *) zlistx_first (owners); owner;
         owner = (char *) zlistx_next (owners)) {
        char key[41];
        mp_lines_close_owner (self, owner, key);
        if (forget && *key)
            forget (arg, key);
    }
    zlistx_destroy (&owners);
}
