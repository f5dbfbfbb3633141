//  The sync service on the wire: board, locks and trails of a run, for its workers.
#include "coord_private.h"

void mp_coord_on_grant (void *arg, const char *lock, const char *owner, uint64_t token)
{
    mp_coord_t *self = (mp_coord_t *) arg;
    //  owner is "<agent key>/<worker>": answer the worker's waiting LOCK_ACQUIRE.
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
    mp_msg_t *ok = mp_msg_new (MP_MSG_OK);
    if (ok && mp_msg_add_u64 (ok, 1) != 0)
        mp_msg_destroy (&ok);
    mp_coord_send (self, agent->routing_id, slash + 1, token, &ok);
}

//  VALUE(found, value): val may be NULL for no value.
static void s_reply_value (mp_coord_t *self, mp_request_t *req, int found, const void *val,
                           size_t len)
{
    mp_msg_t *msg = mp_msg_new (MP_MSG_VALUE);
    if (msg && (mp_msg_add_u64 (msg, found ? 1 : 0) != 0
                || mp_msg_add_bin (msg, val ? val : "", val ? len : 0) != 0))
        mp_msg_destroy (&msg);
    mp_coord_reply (self, req, &msg);
}

static void s_reply_items (mp_coord_t *self, mp_request_t *req, mp_sync_t *sync)
{
    mp_msg_t *msg = mp_msg_new (MP_MSG_ITEMS);
    size_t size = mp_sync_board_size (sync);
    int rc = msg ? 0 : -1;
    for (int field = 0; field < 2 && rc == 0; field++) {
        rc = mp_msg_add_list (msg);
        for (size_t i = 0; i < size && rc == 0; i++) {
            const void *key, *val;
            size_t klen, vlen;
            mp_sync_board_at (sync, i, &key, &klen, &val, &vlen);
            rc = field == 0 ? mp_msg_push_bin (msg, key, klen) : mp_msg_push_bin (msg, val, vlen);
        }
    }
    if (rc != 0)
        mp_msg_destroy (&msg);
    mp_coord_reply (self, req, &msg);
}

void mp_coord_on_sync_message (mp_coord_t *self, mp_request_t *req)
{
    mp_msg_t *msg = req->msg;
    int type = mp_msg_type (msg);
    uint64_t id = mp_msg_u64 (msg, 0);
    mp_run_t *run = mp_coord_find_run (self, id);
    if (!run || run->state != MP_RUN_RUNNING) {
        mp_coord_reply_error (self, req, MP_ENOENT, "no active run %" PRIu64, id);
        return;
    }
    if (!req->agent) {
        //  Only unit processes, through their agent: lock owners must be able to die.
        mp_coord_reply_error (self, req, MP_EAUTH, "the sync service is for unit processes");
        return;
    }
    mp_sync_t *sync = run->sync;
    char owner[160], err[256] = "";
    mp_coord_owner (req, owner, sizeof owner);
    size_t klen = 0, vlen = 0;
    const void *key = NULL, *val = NULL;
    if (type != MP_MSG_BOARD_ITEMS && type != MP_MSG_LOCK_ACQUIRE && type != MP_MSG_LOCK_RELEASE
        && type != MP_MSG_TRAIL)
        key = mp_msg_bin (msg, 1, &klen);
    if (type == MP_MSG_BOARD_SET || type == MP_MSG_BOARD_SETDEFAULT)
        val = mp_msg_bin (msg, 2, &vlen);

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
        if (mp_sync_board_set (sync, key, klen, val, vlen) != 0)
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
        else if (mp_sync_board_set (sync, key, klen, val, vlen) != 0)
            mp_coord_reply_error (self, req, MP_ENOMEM, "out of memory storing a value");
        else
            s_reply_value (self, req, 0, val, vlen);
        break;
    }
    case MP_MSG_BOARD_ITEMS:
        s_reply_items (self, req, sync);
        break;
    case MP_MSG_LOCK_ACQUIRE: {
        int rc = mp_sync_lock_acquire (sync, mp_msg_str (msg, 1), owner, mp_msg_reqid (msg),
                                       err, sizeof err);
        if (rc == 1)
            mp_coord_reply_ok (self, req, 1);
        else if (rc < 0)
            mp_coord_reply_error (self, req, MP_ESTATE, "%s", err);
        //  rc == 0: queued; the grant callback answers later.
        break;
    }
    case MP_MSG_LOCK_RELEASE:
        if (mp_sync_lock_release (sync, mp_msg_str (msg, 1), owner, err, sizeof err) != 0)
            mp_coord_reply_error (self, req, MP_ESTATE, "%s", err);
        else
            mp_coord_reply_ok (self, req, 0);
        break;
    case MP_MSG_TRAIL: {
        int rc = mp_sync_trail (sync, mp_msg_str (msg, 1), mp_msg_str (msg, 2), owner, err,
                                sizeof err);
        if (rc < 0)
            mp_coord_reply_error (self, req, MP_EINVAL, "%s", err);
        else
            mp_coord_reply_ok (self, req, (uint64_t) rc);
        break;
    }
    default:
        break;
    }
}
