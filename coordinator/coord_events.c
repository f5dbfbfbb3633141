//  A run's events: kept in order, handed to the front end's long polls in batches.
#include "../common/clock.h"
#include "coord_private.h"

#define MP_POLL_MAX_EVENTS 512
#define MP_POLL_MAX_BYTES (8u << 20)
#define MP_POLL_MAX_WAIT_MS 60000

void mp_coord_event (mp_coord_t *self, mp_run_t *run, int kind, const char *test,
                     uint64_t unit, const void *data, size_t len)
{
    if (mp_run_add_event (run, kind, test, unit, data, len) != MP_OK)
        mp_error ("run %" PRIu64 ": out of memory keeping a %s event", run->id,
                  mp_event_name (kind));
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
    //  The batch as four parallel lists (the EVENTS message's fields).
    size_t n = last + 1 - first;
    const char **kinds = (const char **) calloc (n + 1, sizeof (char *));
    const char **tests = (const char **) calloc (n + 1, sizeof (char *));
    uint64_t *units = (uint64_t *) calloc (n + 1, sizeof (uint64_t));
    mp_bytes_t *data = (mp_bytes_t *) calloc (n + 1, sizeof (mp_bytes_t));
    mp_msg_t *msg = NULL;
    if (kinds && tests && units && data) {
        for (size_t seq = first; seq <= last; seq++) {
            const mp_event_t *event = mp_run_event (run, seq);
            kinds[seq - first] = mp_event_name (event->kind);
            tests[seq - first] = event->test;
            units[seq - first] = event->unit;
            data[seq - first] = (mp_bytes_t) { event->data, event->len };
        }
        msg = MP_PACK (events, .first = first, .kinds = { kinds, n }, .tests = { tests, n },
                       .units = { units, n }, .data = { data, n });
    }
    free (kinds);
    free (tests);
    free (units);
    free (data);
    mp_coord_send (self, run->poll_route, run->poll_from, run->poll_reqid, &msg);
    zframe_destroy (&run->poll_route);
    zstr_free (&run->poll_from);
}

void mp_coord_on_poll (mp_coord_t *self, mp_request_t *req)
{
    mp_poll_msg_t poll;
    mp_poll_msg_view (req->msg, &poll);
    mp_run_t *run = req->run;
    if (run->state == MP_RUN_DONE && poll.after >= mp_run_nevents (run)) {
        //  The front end has every event, "done" included: the run can go.
        mp_msg_t *none = MP_PACK (events, .first = mp_run_nevents (run) + 1);
        mp_coord_reply (self, req, &none);
        mp_coord_forget_run (self, run);
        return;
    }
    if (run->poll_route)
        //  A newer poll replaces an older one: answer the old one now.
        mp_coord_answer_poll (self, run, 1);
    run->poll_route = zframe_dup (req->route);
    run->poll_from = strdup (mp_msg_from (req->msg));
    run->poll_reqid = mp_msg_reqid (req->msg);
    run->poll_after = poll.after;
    if (run->poll_after > mp_run_nevents (run))
        run->poll_after = mp_run_nevents (run);
    run->poll_deadline_ms = mp_clock_mono_ms ()
                            + (poll.wait_ms > MP_POLL_MAX_WAIT_MS ? MP_POLL_MAX_WAIT_MS
                                                                  : poll.wait_ms);
    if (!run->poll_route || !run->poll_from) {
        zframe_destroy (&run->poll_route);
        zstr_free (&run->poll_from);
        mp_coord_reply_error (self, req, MP_ENOMEM, "out of memory");
        return;
    }
    mp_coord_answer_poll (self, run, 0);
}
