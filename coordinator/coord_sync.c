//  The sync service on the wire: board, locks and trails of a run, for its workers.
#include "coord_private.h"

void mp_coord_on_grant (void *arg, const char *lock, const char *owner, uint64_t token)
{
    mp_coord_t *self = (mp_coord_t *) arg;
    //  Asked for on the process's line: answered there.
    mp_line_t *line = mp_lines_find_owner (self->lines, owner);
    if (line && mp_lines_take_wait (line, token) && line->route) {
        mp_msg_t *ok = MP_PACK (ok, .value = 1);
        mp_coord_send (self, line->route, line->name, token, &ok);
        return;
    }
    //  owner is "<agent key>/<peer name>": answer the unit process's LOCK_ACQUIRE.
    const char *slash = strchr (owner, '/');
    char key[MP_AGENT_KEY_MAX];
    size_t len = slash ? (size_t) (slash - owner) : 0;
    if (!slash || len >= sizeof key) {
        mp_warn ("lock %s granted to malformed owner %s", lock, owner);
        return;
    }
    memcpy (key, owner, len);
    key[len] = '\0';
    mp_agent_entry_t *agent = mp_agent_table_find_key (self->agents, key);
    if (!agent) {
        mp_warn ("lock %s granted to %s whose agent is gone", lock, owner);
        return;
    }
    mp_msg_t *ok = MP_PACK (ok, .value = 1);
    mp_coord_send (self, agent->routing_id, slash + 1, token, &ok);
}

//  VALUE(found, value): val may be NULL for no value.
static void s_reply_value (mp_coord_t *self, mp_request_t *req, int found, const void *val,
                           size_t len)
{
    mp_msg_t *msg = MP_PACK (value, .found = found ? 1 : 0,
                             .value = { val ? val : "", val ? len : 0 });
    mp_coord_reply (self, req, &msg);
}

static void s_reply_items (mp_coord_t *self, mp_request_t *req, mp_sync_t *sync)
{
    size_t size = mp_sync_board_size (sync);
    mp_bytes_t *keys = (mp_bytes_t *) calloc (size + 1, sizeof (mp_bytes_t));
    mp_bytes_t *values = (mp_bytes_t *) calloc (size + 1, sizeof (mp_bytes_t));
    mp_msg_t *msg = NULL;
    if (keys && values) {
        for (size_t i = 0; i < size; i++)
            mp_sync_board_at (sync, i, &keys[i].data, &keys[i].len, &values[i].data,
                              &values[i].len);
        msg = MP_PACK (items, .keys = { keys, size }, .values = { values, size });
    }
    free (keys);
    free (values);
    mp_coord_reply (self, req, &msg);
}

void mp_coord_on_sync (mp_coord_t *self, mp_request_t *req)
{
    mp_msg_t *msg = req->msg;
    int type = mp_msg_type (msg);
    mp_run_t *run = req->run;
    if (run->state != MP_RUN_RUNNING) {
        mp_coord_reply_error (self, req, MP_ENOENT, "no active run %" PRIu64, run->id);
        return;
    }
    mp_sync_t *sync = run->sync;
    const char *owner = req->owner;
    char err[256] = "";
    //  Board keys and values, lock and trail names: the same field names in every sync
    //  request that carries them.
    size_t klen, vlen;
    const void *key = mp_msg_bytes_named (msg, "key", &klen);
    const void *val = mp_msg_bytes_named (msg, "value", &vlen);
    const char *name = mp_msg_str_named (msg, "name");
    const char *state = mp_msg_str_named (msg, "state");

    switch (type) {
    case MP_MSG_BOARD_GET: {
        const void *found;
        size_t len;
        if (mp_sync_board_get (sync, key, klen, &found, &len) == 1)
            s_reply_value (self, req, 1, found, len);
        else
            s_reply_value (self, req, 0, NULL, 0);
        break;
    }
    case MP_MSG_BOARD_SET:
        if (mp_sync_board_set (sync, key, klen, val, vlen) != MP_OK)
            mp_coord_reply_error (self, req, MP_ENOMEM, "out of memory storing a value");
        else
            mp_coord_reply_ok (self, req, 0);
        break;
    case MP_MSG_BOARD_DEL:
        mp_coord_reply_ok (self, req, (uint64_t) mp_sync_board_del (sync, key, klen));
        break;
    case MP_MSG_BOARD_POP: {
        const void *found;
        size_t len;
        if (mp_sync_board_get (sync, key, klen, &found, &len) == 1) {
            //  Reply before deleting: found points into the board.
            s_reply_value (self, req, 1, found, len);
            mp_sync_board_del (sync, key, klen);
        }
        else
            s_reply_value (self, req, 0, NULL, 0);
        break;
    }
    case MP_MSG_BOARD_SETDEFAULT: {
        const void *found;
        size_t len;
        if (mp_sync_board_get (sync, key, klen, &found, &len) == 1)
            s_reply_value (self, req, 1, found, len);
        else if (mp_sync_board_set (sync, key, klen, val, vlen) != MP_OK)
            mp_coord_reply_error (self, req, MP_ENOMEM, "out of memory storing a value");
        else
            s_reply_value (self, req, 0, val, vlen);
        break;
    }
    case MP_MSG_BOARD_ITEMS:
        s_reply_items (self, req, sync);
        break;
    case MP_MSG_LOCK_ACQUIRE: {
        int granted;
        if (req->line && req->line->nwaits >= MP_LINE_WAITS_MAX) {
            mp_coord_reply_error (self, req, MP_ETOOBIG, "%d lock waits on one line",
                                  MP_LINE_WAITS_MAX);
            break;
        }
        int rc = mp_sync_lock_acquire (sync, name, owner, mp_msg_reqid (msg), &granted, err,
                                       sizeof err);
        if (rc != MP_OK)
            mp_coord_reply_error (self, req, rc, "%s", err);
        else if (granted)
            mp_coord_reply_ok (self, req, 1);
        else if (req->line)
            //  Queued: the grant callback answers later, on the line it came on.
            mp_lines_add_wait (req->line, mp_msg_reqid (msg));
        break;
    }
    case MP_MSG_LOCK_RELEASE: {
        int rc = mp_sync_lock_release (sync, name, owner, err, sizeof err);
        if (rc != MP_OK)
            mp_coord_reply_error (self, req, rc, "%s", err);
        else
            mp_coord_reply_ok (self, req, 0);
        break;
    }
    case MP_MSG_TRAIL: {
        int first_or_last;
        int rc = mp_sync_trail (sync, name, state, owner, &first_or_last, err, sizeof err);
        if (rc != MP_OK)
            mp_coord_reply_error (self, req, rc, "%s", err);
        else
            mp_coord_reply_ok (self, req, (uint64_t) first_or_last);
        break;
    }
    default:
        break;
    }
}
