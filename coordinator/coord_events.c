//  A run's events: kept in order, handed to the front end's long polls in batches.
#include "../common/clock.h"
#include "coord_private.h"

#define MP_POLL_MAX_EVENTS 512
#define MP_POLL_MAX_BYTES (8u << 20)
#define MP_POLL_MAX_WAIT_MS 60000

void mp_coord_event (mp_coord_t *self, mp_run_t *run, const char *kind, const char *test,
                      uint64_t unit, const void *data, size_t len)
{
    if (mp_run_add_event (run, kind, test, unit, data, len) != 0)
        mp_error ("run %" PRIu64 ": out of memory keeping a %s event", run->id, kind);
    mp_coord_answer_poll (self, run, 0);
}

void mp_coord_answer_poll (mp_coord_t *self, mp_run_t *run, int force)
{
    if (!run->poll_route)
        return;
    size_t total = mp_run_nevents (run);
    if (total <= run->poll_after && !force && mp_clock_mono_ms () < run->poll_deadline_ms)
        return;
    //  The batch: events after poll_after, up to the count and byte limits (at least one).
    size_t first = run->poll_after + 1, last = run->poll_after, bytes = 0;
    while (last < total && last - run->poll_after < MP_POLL_MAX_EVENTS) {
        size_t len = mp_run_event (run, last + 1)->len;
        if (bytes > 0 && bytes + len > MP_POLL_MAX_BYTES)
            break;
        bytes += len;
        last++;
    }
    mp_msg_t *msg = mp_msg_new (MP_MSG_EVENTS);
    int rc = msg ? mp_msg_add_u64 (msg, first) : -1;
    for (int field = 0; field < 4 && rc == 0; field++) {
        rc = mp_msg_add_list (msg);
        for (size_t seq = first; rc == 0 && seq <= last; seq++) {
            const mp_event_t *event = mp_run_event (run, seq);
            switch (field) {
            case 0:
                rc = mp_msg_push_str (msg, event->kind);
                break;
            case 1:
                rc = mp_msg_push_str (msg, event->test);
                break;
            case 2:
                rc = mp_msg_push_u64 (msg, event->unit);
                break;
            default:
                rc = mp_msg_push_bin (msg, event->data, event->len);
                break;
            }
        }
    }
    if (rc != 0)
        mp_msg_destroy (&msg);
    mp_coord_send (self, run->poll_route, run->poll_from, run->poll_reqid, &msg);
    zframe_destroy (&run->poll_route);
    zstr_free (&run->poll_from);
}

void mp_coord_on_poll (mp_coord_t *self, mp_request_t *req, mp_run_t *run)
{
    if (run->state == MP_RUN_DONE && mp_msg_u64 (req->msg, 1) >= mp_run_nevents (run)) {
        //  The front end has every event, "done" included: the run can go.
        mp_msg_t *none = mp_msg_new (MP_MSG_EVENTS);
        if (none && (mp_msg_add_u64 (none, mp_run_nevents (run) + 1) != 0
                     || mp_msg_add_list (none) || mp_msg_add_list (none)
                     || mp_msg_add_list (none) || mp_msg_add_list (none)))
            mp_msg_destroy (&none);
        mp_coord_reply (self, req, &none);
        mp_coord_forget_run (self, run);
        return;
    }
    if (run->poll_route)
        //  A newer poll replaces an older one: answer the old one now.
        mp_coord_answer_poll (self, run, 1);
    uint64_t wait = mp_msg_u64 (req->msg, 2);
    run->poll_route = zframe_dup (req->route);
    run->poll_from = strdup (mp_msg_from (req->msg));
    run->poll_reqid = mp_msg_reqid (req->msg);
    run->poll_after = mp_msg_u64 (req->msg, 1);
    if (run->poll_after > mp_run_nevents (run))
        run->poll_after = mp_run_nevents (run);
    run->poll_deadline_ms =
        mp_clock_mono_ms () + (wait > MP_POLL_MAX_WAIT_MS ? MP_POLL_MAX_WAIT_MS : wait);
    if (!run->poll_route || !run->poll_from) {
        zframe_destroy (&run->poll_route);
        zstr_free (&run->poll_from);
        mp_coord_reply_error (self, req, MP_ENOMEM, "out of memory");
        return;
    }
    mp_coord_answer_poll (self, run, 0);
}
