//  Runs as their front end sees them: submitted, planned, polled for events,
//  cancelled, finished and forgotten.
#include "../common/clock.h"
#include "coord_private.h"

static void s_send_run_end (mp_coord_t *self, mp_run_t *run)
{
    for (size_t i = 0; i < mp_agent_table_size (self->agents); i++) {
        mp_agent_entry_t *agent = mp_agent_table_at (self->agents, i);
        if (mp_run_ready (run, agent->key) == MP_READY_NONE)
            continue;
        mp_msg_t *end = mp_msg_new (MP_MSG_RUN_END);
        if (end && mp_msg_add_u64 (end, run->id) != 0)
            mp_msg_destroy (&end);
        mp_coord_send (self, agent->routing_id, "", 0, &end);
    }
}

//  The run is over: no unit queued or running (or it was cancelled).
void mp_coord_finish_run (mp_coord_t *self, mp_run_t *run)
{
    if (run->state == MP_RUN_DONE)
        return;
    run->state = MP_RUN_DONE;
    run->done_ms = mp_clock_mono_ms ();
    s_send_run_end (self, run);
    //  Agents free the slots of units still running when a cancelled run ends.
    for (size_t i = 0; i < mp_run_nunits (run); i++) {
        mp_unit_t *unit = mp_run_unit_at (run, i);
        if (unit->state != MP_UNIT_RUNNING)
            continue;
        mp_agent_entry_t *agent = mp_agent_table_find_key (self->agents, unit->agent);
        if (agent && agent->busy)
            agent->busy--;
        unit->state = MP_UNIT_DONE;
    }
    mp_info ("run %" PRIu64 " %s", run->id, run->cancelled ? "cancelled" : "complete");
    mp_coord_event (self, run, "done", "", 0, "", 0);
}

static void s_on_submit (mp_coord_t *self, mp_request_t *req)
{
    mp_run_t *run = mp_run_new (self->next_run, mp_msg_str (req->msg, 0), req->route,
                                mp_coord_on_grant, self);
    if (!run) {
        mp_coord_reply_error (self, req, MP_ENOMEM, "out of memory creating a run");
        return;
    }
    size_t nargs = mp_msg_count (req->msg, 1);
    for (size_t i = 0; i < nargs; i++)
        zlist_append (run->args, (void *) mp_msg_str_at (req->msg, 1, i));
    run->nunits_announced = (size_t) mp_msg_u64 (req->msg, 2);
    run->timeout_ms = mp_msg_u64 (req->msg, 3);
    run->front_seen_ms = mp_clock_mono_ms ();
    if (zlist_size (run->args) != nargs || !zlistx_add_end (self->runs, run)) {
        mp_run_destroy (&run);
        mp_coord_reply_error (self, req, MP_ENOMEM, "out of memory creating a run");
        return;
    }
    self->next_run++;
    mp_info ("run %" PRIu64 " submitted from %s: %zu units", run->id, run->cwd,
             run->nunits_announced);
    mp_coord_reply_ok (self, req, run->id);
}

static void s_on_plan_unit (mp_coord_t *self, mp_request_t *req, mp_run_t *run)
{
    size_t n = mp_msg_count (req->msg, 4);
    const char **tests = (const char **) calloc (n ? n : 1, sizeof (char *));
    if (!tests) {
        mp_coord_reply_error (self, req, MP_ENOMEM, "out of memory");
        return;
    }
    for (size_t i = 0; i < n; i++)
        tests[i] = mp_msg_str_at (req->msg, 4, i);
    char err[256];
    uint64_t strategy = mp_msg_u64 (req->msg, 3);
    int rc = strategy <= MP_STRATEGY_ISOLATED_SERIAL
                 ? mp_run_add_unit (run, mp_msg_u64 (req->msg, 1), mp_msg_str (req->msg, 2),
                                    (int) strategy, tests, n, err, sizeof err)
                 : (snprintf (err, sizeof err, "unknown strategy %" PRIu64, strategy), -1);
    free (tests);
    if (rc != 0)
        mp_coord_reply_error (self, req, MP_EINVAL, "%s", err);
    else
        mp_coord_reply_ok (self, req, 0);
}

static void s_on_plan_end (mp_coord_t *self, mp_request_t *req, mp_run_t *run)
{
    if (run->state != MP_RUN_PLANNING || mp_run_nunits (run) != run->nunits_announced) {
        mp_coord_reply_error (self, req, MP_ESTATE,
                               "run %" PRIu64 ": plan has %zu of %zu announced units",
                               run->id, mp_run_nunits (run), run->nunits_announced);
        return;
    }
    mp_sched_seal (run->sched);
    run->state = MP_RUN_RUNNING;
    mp_coord_reply_ok (self, req, mp_agent_table_size (self->agents));
    for (size_t i = 0; i < mp_agent_table_size (self->agents); i++)
        mp_coord_offer_runs (self, mp_agent_table_at (self->agents, i));
    if (mp_sched_done (run->sched))
        mp_coord_finish_run (self, run);
}

static void s_on_cancel (mp_coord_t *self, mp_request_t *req, mp_run_t *run)
{
    size_t dropped = mp_sched_cancel (run->sched);
    run->cancelled = 1;
    mp_info ("run %" PRIu64 " cancelled: %zu queued units dropped", run->id, dropped);
    mp_coord_reply_ok (self, req, dropped);
    mp_coord_finish_run (self, run);
}

void mp_coord_on_run_message (mp_coord_t *self, mp_request_t *req)
{
    int type = mp_msg_type (req->msg);
    if (type == MP_MSG_SUBMIT) {
        s_on_submit (self, req);
        return;
    }
    uint64_t id = mp_msg_u64 (req->msg, 0);
    mp_run_t *run = mp_coord_find_run (self, id);
    if (!run || (run->state == MP_RUN_DONE && type != MP_MSG_POLL)) {
        //  Late news of an ended run (units killed at cancel) needs no answer.
        if (type == MP_MSG_UNIT_EXIT || type == MP_MSG_UNIT_STARTED
            || type == MP_MSG_ZYGOTE_EXIT)
            return;
        mp_coord_reply_error (self, req, MP_ENOENT, "no active run %" PRIu64, id);
        return;
    }
    int from_front = zframe_eq (req->route, run->front);
    if (from_front)
        run->front_seen_ms = mp_clock_mono_ms ();
    switch (type) {
    case MP_MSG_PLAN_UNIT:
    case MP_MSG_PLAN_END:
    case MP_MSG_POLL:
    case MP_MSG_CANCEL:
        if (!from_front) {
            mp_coord_reply_error (self, req, MP_EAUTH, "run %" PRIu64 " is not yours", id);
            return;
        }
        break;
    default:
        break;
    }
    switch (type) {
    case MP_MSG_PLAN_UNIT:
        s_on_plan_unit (self, req, run);
        break;
    case MP_MSG_PLAN_END:
        s_on_plan_end (self, req, run);
        break;
    case MP_MSG_POLL:
        mp_coord_on_poll (self, req, run);
        break;
    case MP_MSG_CANCEL:
        s_on_cancel (self, req, run);
        break;
    case MP_MSG_ZYGOTE_READY:
        mp_coord_on_zygote_ready (self, req, run);
        break;
    case MP_MSG_REPORT:
        mp_coord_on_report (self, req, run);
        break;
    case MP_MSG_UNIT_STARTED:
        mp_coord_on_unit_started (self, req, run);
        break;
    case MP_MSG_UNIT_EXIT:
        mp_coord_on_unit_exit (self, req, run);
        break;
    case MP_MSG_ZYGOTE_EXIT:
        mp_coord_on_zygote_exit (self, req, run);
        break;
    default:
        break;
    }
}

void mp_coord_forget_run (mp_coord_t *self, mp_run_t *run)
{
    void *handle = zlistx_find (self->runs, run);
    if (handle)
        zlistx_delete (self->runs, handle);
}

void mp_coord_abandon_run (mp_coord_t *self, mp_run_t *run)
{
    mp_warn ("run %" PRIu64 ": no word from its front end for %d s: cancelling it", run->id,
             MP_FRONT_SILENCE_MS / 1000);
    if (run->state == MP_RUN_PLANNING) {
        run->state = MP_RUN_DONE;
        run->done_ms = mp_clock_mono_ms ();
        return;
    }
    mp_sched_cancel (run->sched);
    run->cancelled = 1;
    mp_coord_finish_run (self, run);
}
