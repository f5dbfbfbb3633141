//  Runs as their front end sees them: submitted, planned, polled for events,
//  cancelled, finished and forgotten.
#include "../common/clock.h"
#include "../common/strs.h"
#include "coord_private.h"

static void s_send_run_end (mp_coord_t *self, mp_run_t *run)
{
    for (size_t i = 0; i < mp_agent_table_size (self->agents); i++) {
        mp_agent_entry_t *agent = mp_agent_table_at (self->agents, i);
        if (mp_run_ready (run, agent->key) == MP_READY_NONE)
            continue;
        mp_msg_t *end = MP_PACK (run_end, .run = run->id);
        mp_coord_send (self, agent->routing_id, "", 0, &end);
    }
}

//  An early run is planned: the zygotes started before it compare their checkout with
//  it now, through their agents (those of agents that join later get it with
//  RUN_START).
static void s_send_plan (mp_coord_t *self, mp_run_t *run)
{
    size_t ntests;
    const char **tests = mp_coord_planned_tests (run, &ntests);
    if (!tests) {
        mp_warn ("out of memory sending run %" PRIu64 "'s plan", run->id);
        return;
    }
    for (size_t i = 0; i < mp_agent_table_size (self->agents); i++) {
        mp_agent_entry_t *agent = mp_agent_table_at (self->agents, i);
        int ready = mp_run_ready (run, agent->key);
        if (ready == MP_READY_NONE || ready == MP_READY_FAILED)
            continue;
        mp_msg_t *plan = MP_PACK (run_plan, .run = run->id,
                                  .files = { (const char *const *) run->files, run->nfiles },
                                  .tests = { tests, ntests });
        mp_coord_send (self, agent->routing_id, "", 0, &plan);
    }
    free (tests);
}

//  The run is over: no unit queued or running (or it was cancelled).
void mp_coord_finish_run (mp_coord_t *self, mp_run_t *run)
{
    if (run->state == MP_RUN_DONE)
        return;
    run->state = MP_RUN_DONE;
    run->done_ms = mp_clock_mono_ms ();
    s_send_run_end (self, run);
    //  Units still out when a cancelled run ends are stopped by their agents (RUN_END):
    //  they end here, through the scheduler, and give back their slots.
    for (size_t i = 0; i < mp_run_nunits (run); i++)
        mp_coord_unit_off_slot (self, run, mp_run_unit_at (run, i), 0);
    mp_coord_close_run_lines (self, run->id);
    mp_info ("run %" PRIu64 " %s", run->id, run->cancelled ? "cancelled" : "complete");
    mp_coord_event (self, run, MP_EVENT_DONE, "", 0, "", 0);
}

//  Every agent is told of the runs it may join now.
static void s_offer_all (mp_coord_t *self)
{
    for (size_t i = 0; i < mp_agent_table_size (self->agents); i++)
        mp_coord_offer_runs (self, mp_agent_table_at (self->agents, i));
}

void mp_coord_on_submit (mp_coord_t *self, mp_request_t *req)
{
    mp_submit_msg_t submit;
    mp_submit_msg_view (req->msg, &submit);
    mp_run_t *run = mp_run_new (self->next_run, submit.cwd, req->route, mp_coord_on_grant,
                                self);
    if (!run || mp_run_set_args (run, submit.args.items, submit.args.count) != MP_OK
        || mp_run_set_files (run, submit.files.items, submit.files.count) != MP_OK
        || !zlistx_add_end (self->runs, run)) {
        mp_run_destroy (&run);
        mp_coord_reply_error (self, req, MP_ENOMEM, "out of memory creating a run");
        return;
    }
    run->nunits_announced = (size_t) submit.units;
    run->timeout_ms = submit.timeout_ms;
    run->wait_ms = submit.wait_ms;
    run->early = submit.early != 0;
    run->front_seen_ms = mp_clock_mono_ms ();
    snprintf (run->front_name, sizeof run->front_name, "%s", mp_msg_from (req->msg));
    self->next_run++;
    mp_info ("run %" PRIu64 " submitted from %s: %zu units", run->id, run->cwd,
             run->nunits_announced);
    mp_coord_reply_ok (self, req, run->id);
    if (run->early)
        s_offer_all (self);
}

void mp_coord_on_plan_unit (mp_coord_t *self, mp_request_t *req)
{
    mp_plan_unit_msg_t plan;
    mp_plan_unit_msg_view (req->msg, &plan);
    mp_run_t *run = req->run;
    char err[256];
    int rc = MP_EINVAL;
    if (plan.strategy <= MP_STRATEGY_ISOLATED_SERIAL)
        rc = mp_run_add_unit (run, plan.unit, plan.group, (int) plan.strategy,
                              plan.tests.items, plan.tests.count, err, sizeof err);
    else
        mp_set_error (err, sizeof err, "unknown strategy %" PRIu64, plan.strategy);
    mp_unit_t *unit = rc == MP_OK ? mp_run_unit (run, plan.unit) : NULL;
    if (unit && mp_strs_set (&unit->requires, &unit->nrequires, plan.requires.items,
                             plan.requires.count) != MP_OK) {
        rc = MP_ENOMEM;
        mp_set_error (err, sizeof err, "out of memory");
    }
    if (unit && rc == MP_OK) {
        mp_sched_weigh (run->sched, unit->id, plan.weight_ms);
        if (unit->nrequires)
            run->nrequiring++;
    }
    if (rc != MP_OK)
        mp_coord_reply_error (self, req, rc, "%s", err);
    else
        mp_coord_reply_ok (self, req, 0);
}

void mp_coord_on_plan_end (mp_coord_t *self, mp_request_t *req)
{
    mp_run_t *run = req->run;
    mp_plan_end_msg_t end;
    mp_plan_end_msg_view (req->msg, &end);
    int early = run->early && run->state == MP_RUN_PLANNING;
    if (early) {
        run->nunits_announced = mp_run_nunits (run);
        if (mp_run_set_files (run, end.files.items, end.files.count) != MP_OK) {
            mp_coord_reply_error (self, req, MP_ENOMEM, "out of memory planning a run");
            return;
        }
    }
    if (run->state != MP_RUN_PLANNING || mp_run_nunits (run) != run->nunits_announced) {
        mp_coord_reply_error (self, req, MP_ESTATE,
                              "run %" PRIu64 ": plan has %zu of %zu announced units",
                              run->id, mp_run_nunits (run), run->nunits_announced);
        return;
    }
    mp_sched_seal (run->sched);
    run->state = MP_RUN_RUNNING;
    run->started_ms = mp_clock_mono_ms ();
    mp_coord_reply_ok (self, req, mp_agent_table_size (self->agents));
    if (early)
        s_send_plan (self, run);
    s_offer_all (self);
    if (mp_sched_done (run->sched))
        mp_coord_finish_run (self, run);
}

void mp_coord_on_cancel (mp_coord_t *self, mp_request_t *req)
{
    mp_run_t *run = req->run;
    if (run->state == MP_RUN_DONE) {
        //  It ended meanwhile (its front end saw the stop only while replaying).
        mp_coord_reply_ok (self, req, 0);
        return;
    }
    size_t dropped = mp_sched_cancel (run->sched);
    run->cancelled = 1;
    mp_info ("run %" PRIu64 " cancelled: %zu queued units dropped", run->id, dropped);
    mp_coord_reply_ok (self, req, dropped);
    mp_coord_finish_run (self, run);
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
    if (run->state == MP_RUN_PLANNING && !run->early) {
        run->state = MP_RUN_DONE;
        run->done_ms = mp_clock_mono_ms ();
        return;
    }
    mp_sched_cancel (run->sched);
    run->cancelled = 1;
    mp_coord_finish_run (self, run);
}
