//  Units on agents: handed out as slots free up, followed through their reports,
//  ended by their process's exit, a timeout, or the loss of their agent or zygote.
#include <signal.h>

#include "../common/clock.h"
#include "coord_private.h"

static void s_describe_status (int64_t status, char *buf, size_t size)
{
    if (status < 0) {
        int sig = (int) -status;
        const char *name = sigabbrev_np (sig);
        snprintf (buf, size, "was killed by signal %d (SIG%s)", sig, name ? name : "?");
    }
    else
        snprintf (buf, size, "exited with code %" PRId64, status);
}

//  The unit's process is gone: its locks pass on, its trail starts are taken back, and
//  its sync-service name (the one s_authorise gave its requests) is unbound.
static void s_release_process (mp_run_t *run, mp_unit_t *unit)
{
    if (!unit->pid)
        return;
    char name[MP_PEER_NAME_MAX], owner[MP_PEER_OWNER_MAX];
    mp_peer_unit_name (unit->pid, name);
    mp_peer_owner (unit->agent, name, owner);
    mp_sync_owner_gone (run->sync, owner);
    mp_run_unbind_owner (run, owner);
}

int mp_coord_unit_active (const mp_run_t *run, const mp_unit_t *unit)
{
    return mp_sched_holds_slot (run->sched, unit->id);
}

int mp_coord_unit_off_slot (mp_coord_t *self, mp_run_t *run, mp_unit_t *unit, int requeue)
{
    int rc = requeue ? mp_sched_requeue (run->sched, unit->id)
                     : mp_sched_finish (run->sched, unit->id);
    if (rc != MP_OK)
        return rc;
    s_release_process (run, unit);
    if (requeue) {
        //  The next attempt starts afresh.
        unit->requeued++;
        unit->pid = 0;
        unit->test_since_ms = 0;
    }
    mp_agent_entry_t *agent = mp_agent_table_find_key (self->agents, unit->agent);
    if (agent && agent->busy)
        agent->busy--;
    return 0;
}

static void s_unit_ended (mp_coord_t *self, mp_run_t *run, mp_unit_t *unit, int64_t status,
                          const char *why)
{
    if (!mp_coord_unit_active (run, unit))
        return;
    if (unit->finished < unit->ntests) {
        char text[256];
        if (why)
            snprintf (text, sizeof text, "%s", why);
        else if (unit->timed_out)
            snprintf (text, sizeof text, "timed out after the --mp-timeout of %.3g s and was %s",
                      (double) run->timeout_ms / 1000.0, "killed");
        else
            s_describe_status (status, text, sizeof text);
        mp_coord_event (self, run, MP_EVENT_CRASH, unit->tests[unit->finished], unit->id, text,
                        strlen (text));
    }
    mp_coord_unit_off_slot (self, run, unit, 0);
    if (mp_sched_done (run->sched))
        mp_coord_finish_run (self, run);
}

void mp_coord_agent_lost (mp_coord_t *self, mp_agent_entry_t *agent, const char *why)
{
    mp_warn ("agent %s (%s) lost: %s", agent->name, agent->hostname, why);
    for (mp_run_t *run = (mp_run_t *) zlistx_first (self->runs); run;
         run = (mp_run_t *) zlistx_next (self->runs)) {
        mp_run_set_ready (run, agent->key, MP_READY_NONE);
        if (run->state != MP_RUN_RUNNING)
            continue;
        for (size_t i = 0; i < mp_run_nunits (run); i++) {
            mp_unit_t *unit = mp_run_unit_at (run, i);
            if (!mp_coord_unit_active (run, unit) || !streq (unit->agent, agent->key))
                continue;
            if (unit->requeued == 0 && !unit->reported) {
                //  Nothing of it was reported: run it elsewhere, once.
                mp_coord_unit_off_slot (self, run, unit, 1);
            }
            else {
                char text[256];
                snprintf (text, sizeof text, "agent %s lost: %s", agent->name, why);
                s_unit_ended (self, run, unit, 0, text);
            }
        }
    }
}

void mp_coord_offer_runs (mp_coord_t *self, mp_agent_entry_t *agent)
{
    for (mp_run_t *run = (mp_run_t *) zlistx_first (self->runs); run;
         run = (mp_run_t *) zlistx_next (self->runs)) {
        if (run->state != MP_RUN_RUNNING || mp_run_ready (run, agent->key) != MP_READY_NONE)
            continue;
        mp_msg_t *start = MP_PACK (run_start, .run = run->id, .cwd = run->cwd,
                                   .args = { (const char *const *) run->args, run->nargs });
        mp_run_set_ready (run, agent->key, MP_READY_STARTING);
        mp_coord_send (self, agent->routing_id, "", 0, &start);
    }
}

void mp_coord_dispatch (mp_coord_t *self)
{
    //  Barriers are global: while one run's isolated group is active, no other run
    //  starts anything.
    mp_run_t *isolating = NULL;
    for (mp_run_t *run = (mp_run_t *) zlistx_first (self->runs); run && !isolating;
         run = (mp_run_t *) zlistx_next (self->runs))
        if (run->state == MP_RUN_RUNNING && mp_sched_barrier (run->sched))
            isolating = run;
    for (mp_run_t *run = (mp_run_t *) zlistx_first (self->runs); run;
         run = (mp_run_t *) zlistx_next (self->runs)) {
        if (run->state != MP_RUN_RUNNING || run->cancelled || (isolating && run != isolating))
            continue;
        for (size_t i = 0; i < mp_agent_table_size (self->agents); i++) {
            mp_agent_entry_t *agent = mp_agent_table_at (self->agents, i);
            if (mp_run_ready (run, agent->key) != MP_READY_YES)
                continue;
            uint64_t id;
            while (agent->busy < agent->slots
                   && mp_sched_next (run->sched, mp_agent_table_busy (self->agents), &id)) {
                mp_unit_t *unit = mp_run_unit (run, id);
                mp_msg_t *msg = MP_PACK (unit, .run = run->id, .unit = unit->id,
                                         .group = unit->group,
                                         .tests = { (const char *const *) unit->tests,
                                                    unit->ntests });
                snprintf (unit->agent, sizeof unit->agent, "%s", agent->key);
                agent->busy++;
                char zygote[MP_PEER_NAME_MAX];
                mp_peer_zygote_name (run->id, zygote);
                mp_coord_send (self, agent->routing_id, zygote, 0, &msg);
            }
        }
    }
}

void mp_coord_on_zygote_ready (mp_coord_t *self, mp_request_t *req)
{
    mp_zygote_ready_msg_t ready;
    mp_zygote_ready_msg_view (req->msg, &ready);
    mp_run_t *run = req->run;
    if (*ready.error) {
        mp_run_set_ready (run, req->agent->key, MP_READY_FAILED);
        char text[1024];
        snprintf (text, sizeof text, "agent %s: %s", req->agent->name, ready.error);
        mp_coord_event (self, run, MP_EVENT_ERROR, "", 0, text, strlen (text));
        return;
    }
    mp_run_set_ready (run, req->agent->key, MP_READY_YES);
    mp_info ("run %" PRIu64 ": agent %s ready, %" PRIu64 " tests collected", run->id,
             req->agent->name, ready.collected);
}

void mp_coord_on_report (mp_coord_t *self, mp_request_t *req)
{
    mp_report_msg_t report;
    mp_report_msg_view (req->msg, &report);
    mp_unit_t *unit = req->unit;
    int kind = mp_event_parse (report.kind);
    if (mp_event_reporter (kind) != MP_ROLE_UNIT) {
        mp_coord_reply_error (self, req, MP_EINVAL, "%s is not an event a unit reports",
                              report.kind);
        return;
    }
    unit->reported = 1;
    int current = unit->finished < unit->ntests && streq (unit->tests[unit->finished],
                                                            report.test);
    if (current && kind == MP_EVENT_LOGSTART)
        unit->test_since_ms = mp_clock_mono_ms ();
    if (current && kind == MP_EVENT_LOGFINISH) {
        unit->finished++;
        unit->test_since_ms = 0;
    }
    mp_coord_event (self, req->run, kind, report.test, unit->id, report.data.data,
                    report.data.len);
    mp_coord_reply_ok (self, req, 0);
}

void mp_coord_on_unit_started (mp_coord_t *self, mp_request_t *req)
{
    mp_unit_started_msg_t started;
    mp_unit_started_msg_view (req->msg, &started);
    mp_unit_t *unit = req->unit;
    char name[MP_PEER_NAME_MAX];
    mp_peer_unit_name (started.pid, name);
    //  The agent vouched that this connection is that pid, a child of the run's zygote.
    if (!streq (name, mp_msg_from (req->msg))) {
        mp_coord_reply_error (self, req, MP_EAUTH, "%s may not announce pid %" PRIu64,
                              mp_msg_from (req->msg), started.pid);
        return;
    }
    if (unit->pid || mp_run_bind_owner (req->run, req->owner, unit->id) != MP_OK) {
        mp_coord_reply_error (self, req, MP_ESTATE, "unit %" PRIu64 " has a process already",
                              unit->id);
        return;
    }
    unit->pid = started.pid;
    mp_sched_started (req->run->sched, unit->id);
}

void mp_coord_on_unit_exit (mp_coord_t *self, mp_request_t *req)
{
    mp_unit_exit_msg_t ended;
    mp_unit_exit_msg_view (req->msg, &ended);
    mp_unit_t *unit = req->unit;
    if (!unit->pid || unit->pid == ended.pid)
        s_unit_ended (self, req->run, unit, ended.status, NULL);
}

void mp_coord_on_zygote_exit (mp_coord_t *self, mp_request_t *req)
{
    mp_zygote_exit_msg_t ended;
    mp_zygote_exit_msg_view (req->msg, &ended);
    mp_run_t *run = req->run;
    int was = mp_run_ready (run, req->agent->key);
    mp_run_set_ready (run, req->agent->key, MP_READY_FAILED);
    if (run->state != MP_RUN_RUNNING || was == MP_READY_FAILED)
        return;
    char status[128], text[512];
    s_describe_status (ended.status, status, sizeof status);
    snprintf (text, sizeof text, "agent %s: its zygote (the pytest process that collects the "
              "suite) %s%s", req->agent->name, status,
              was == MP_READY_STARTING ? " before it finished collecting" : "");
    mp_coord_event (self, run, MP_EVENT_ERROR, "", 0, text, strlen (text));
    //  Units handed to it that never got a process will not be reported by anyone.
    for (size_t i = 0; i < mp_run_nunits (run); i++) {
        mp_unit_t *unit = mp_run_unit_at (run, i);
        if (mp_coord_unit_active (run, unit) && !unit->pid
            && streq (unit->agent, req->agent->key))
            s_unit_ended (self, run, unit, 0, text);
    }
}

void mp_coord_enforce_timeouts (mp_coord_t *self)
{
    uint64_t now = mp_clock_mono_ms ();
    for (mp_run_t *run = (mp_run_t *) zlistx_first (self->runs); run;
         run = (mp_run_t *) zlistx_next (self->runs)) {
        if (run->state != MP_RUN_RUNNING || run->timeout_ms == 0)
            continue;
        for (size_t i = 0; i < mp_run_nunits (run); i++) {
            mp_unit_t *unit = mp_run_unit_at (run, i);
            if (!mp_coord_unit_active (run, unit) || unit->timed_out || !unit->pid
                || !unit->test_since_ms || now - unit->test_since_ms <= run->timeout_ms)
                continue;
            mp_agent_entry_t *agent = mp_agent_table_find_key (self->agents, unit->agent);
            if (!agent)
                continue;
            mp_warn ("run %" PRIu64 ": %s ran past %" PRIu64 " ms: killing its process %" PRIu64,
                     run->id, unit->tests[unit->finished], run->timeout_ms, unit->pid);
            unit->timed_out = 1;
            mp_msg_t *kill = MP_PACK (kill, .run = run->id, .unit = unit->id, .pid = unit->pid);
            mp_coord_send (self, agent->routing_id, "", 0, &kill);
        }
    }
}
