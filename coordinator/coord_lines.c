//  Unit processes' lines on the wire: opened through the agent that vouches for the
//  process, then used straight for sync requests (see lines.h).
#include "coord_private.h"

static void s_forget_key (void *arg, const char *key)
{
    mp_coord_t *self = (mp_coord_t *) arg;
    if (self->curve && *key)
        mp_curve_auth_forget_line (self->curve, key);
}

void mp_coord_close_line (mp_coord_t *self, const char *owner)
{
    char key[41];
    mp_lines_close_owner (self->lines, owner, key);
    s_forget_key (self, key);
}

void mp_coord_close_run_lines (mp_coord_t *self, uint64_t run)
{
    mp_lines_close_run (self->lines, run, s_forget_key, self);
}

//  LINE_OPEN, relayed: its agent vouched that the sender is the unit's process.
void mp_coord_on_line_open (mp_coord_t *self, mp_request_t *req)
{
    mp_line_open_msg_t open;
    mp_line_open_msg_view (req->msg, &open);
    if (self->curve && !*open.key) {
        mp_coord_reply_error (self, req, MP_EINVAL,
                              "line %s: a line needs a CURVE key on this coordinator",
                              open.line);
        return;
    }
    //  Without CURVE a key would prove nothing: none is kept.
    const char *key = self->curve ? open.key : "";
    mp_coord_close_line (self, req->owner);
    int rc = mp_lines_open (self->lines, open.line, req->run->id, req->unit->id, req->owner,
                            key);
    if (rc == MP_OK && *key && mp_curve_auth_allow_line (self->curve, key) != MP_OK) {
        mp_lines_close_owner (self->lines, req->owner, (char[41]) { 0 });
        rc = MP_ENOMEM;
    }
    if (rc != MP_OK) {
        mp_coord_reply_error (self, req, rc, "line %s: %s", open.line,
                              rc == MP_ESTATE ? "the name is taken"
                              : rc == MP_EINVAL ? "not a line name, or not a Z85 key"
                                                : "out of memory");
        return;
    }
    mp_coord_reply_ok (self, req, 1);
}

int mp_coord_authorise_line (mp_coord_t *self, mp_request_t *req, char *err, size_t errlen)
{
    mp_msg_t *msg = req->msg;
    int type = mp_msg_type (msg);
    const char *name = mp_msg_from (msg);
    mp_line_t *line = mp_lines_find (self->lines, name);
    if (!line) {
        mp_set_error (err, errlen, "no line %s is open: its unit ended, or it never opened",
                      name);
        return MP_EAUTH;
    }
    if (!mp_msg_is_sync_request (type)) {
        mp_set_error (err, errlen, "only sync requests may come on a line");
        return MP_EAUTH;
    }
    if (self->curve) {
        //  The connection must have proved the key its line was opened with.
        const char *user = zframe_meta (req->frame, "User-Id");
        size_t prefix = strlen (MP_CURVE_LINE);
        if (!user || strncmp (user, MP_CURVE_LINE, prefix) != 0
            || !streq (user + prefix, line->key)) {
            mp_set_error (err, errlen, "line %s was opened with another key", name);
            return MP_EAUTH;
        }
    }
    req->run = mp_coord_find_run (self, mp_msg_run (msg));
    if (!req->run || req->run->state == MP_RUN_DONE) {
        mp_set_error (err, errlen, "no active run %" PRIu64, mp_msg_run (msg));
        return MP_ENOENT;
    }
    mp_principal_t who = { .role = MP_ROLE_UNIT, .run_bound = 1, .run = line->run,
                           .unit_bound = 1, .unit = line->unit };
    int rc = mp_msg_authorise (msg, &who, err, errlen);
    if (rc != MP_OK)
        return rc;
    snprintf (req->owner, sizeof req->owner, "%s", line->owner);
    mp_lines_seen (line, req->route);
    req->line = line;
    return MP_OK;
}
