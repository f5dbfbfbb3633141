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

//  A unit's process ended: report the test it died in, release what it held.
//  The unit's process is gone: its locks pass on and its trail starts are taken back.
//  Its owner name is the one mp_coord_owner gave its requests.
static void s_release_process (mp_run_t *run, mp_unit_t *unit)
{
    if (!unit->pid)
        return;
    char owner[160];
    snprintf (owner, sizeof owner, "%s/u%" PRIu64, unit->agent, unit->pid);
    mp_sync_owner_gone (run->sync, owner);
}

static void s_unit_ended (mp_coord_t *self, mp_run_t *run, mp_unit_t *unit, int64_t status,
                          const char *why)
{
    if (unit->state != MP_UNIT_RUNNING)
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
        mp_coord_event (self, run, "crash", unit->tests[unit->finished], unit->id, text,
                         strlen (text));
    }
    s_release_process (run, unit);
    unit->state = MP_UNIT_DONE;
    mp_sched_finish (run->sched, unit->id);
    mp_agent_entry_t *agent = mp_agent_table_find_key (self->agents, unit->agent);
    if (agent && agent->busy)
        agent->busy--;
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
            if (unit->state != MP_UNIT_RUNNING || !streq (unit->agent, agent->key))
                continue;
            if (unit->requeued == 0 && !unit->reported) {
                //  Nothing of it was reported: run it elsewhere, once.
                s_release_process (run, unit);
                unit->requeued++;
                unit->state = MP_UNIT_QUEUED;
                unit->pid = 0;
                unit->test_since_ms = 0;
                mp_sched_requeue (run->sched, unit->id);
            }
            else {
                char text[256];
                snprintf (text, sizeof text, "agent %s lost: %s", agent->name, why);
                s_unit_ended (self, run, unit, 0, text);
            }
        }
    }
    agent->busy = 0;
}

void mp_coord_offer_runs (mp_coord_t *self, mp_agent_entry_t *agent)
{
    for (mp_run_t *run = (mp_run_t *) zlistx_first (self->runs); run;
         run = (mp_run_t *) zlistx_next (self->runs)) {
        if (run->state != MP_RUN_RUNNING || mp_run_ready (run, agent->key) != MP_READY_NONE)
            continue;
        mp_msg_t *start = mp_msg_new (MP_MSG_RUN_START);
        int rc = start ? mp_msg_add_u64 (start, run->id) : -1;
        if (rc == 0)
            rc = mp_msg_add_str (start, run->cwd);
        if (rc == 0)
            rc = mp_msg_add_list (start);
        for (char *arg = (char *) zlist_first (run->args); rc == 0 && arg;
             arg = (char *) zlist_next (run->args))
            rc = mp_msg_push_str (start, arg);
        if (rc == 0)
            rc = mp_msg_add_list (start);
        if (rc != 0)
            mp_msg_destroy (&start);
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
                mp_msg_t *msg = mp_msg_new (MP_MSG_UNIT);
                int rc = msg ? mp_msg_add_u64 (msg, run->id) : -1;
                if (rc == 0)
                    rc = mp_msg_add_u64 (msg, unit->id);
                if (rc == 0)
                    rc = mp_msg_add_str (msg, unit->group);
                if (rc == 0)
                    rc = mp_msg_add_list (msg);
                for (size_t t = 0; rc == 0 && t < unit->ntests; t++)
                    rc = mp_msg_push_str (msg, unit->tests[t]);
                if (rc != 0)
                    mp_msg_destroy (&msg);
                unit->state = MP_UNIT_RUNNING;
                unit->pid = 0;
                unit->test_since_ms = 0;
                snprintf (unit->agent, sizeof unit->agent, "%s", agent->key);
                agent->busy++;
                char zygote[32];
                snprintf (zygote, sizeof zygote, "z%" PRIu64, run->id);
                mp_coord_send (self, agent->routing_id, zygote, 0, &msg);
            }
        }
    }
}

void mp_coord_on_zygote_ready (mp_coord_t *self, mp_request_t *req, mp_run_t *run)
{
    const char *error = mp_msg_str (req->msg, 2);
    if (*error) {
        mp_run_set_ready (run, req->agent->key, MP_READY_FAILED);
        char text[1024];
        snprintf (text, sizeof text, "agent %s: %s", req->agent->name, error);
        mp_coord_event (self, run, "error", "", 0, text, strlen (text));
        return;
    }
    mp_run_set_ready (run, req->agent->key, MP_READY_YES);
    mp_info ("run %" PRIu64 ": agent %s ready, %" PRIu64 " tests collected", run->id,
             req->agent->name, mp_msg_u64 (req->msg, 1));
}

static mp_unit_t *s_running_unit (mp_request_t *req, mp_run_t *run, size_t field)
{
    mp_unit_t *unit = mp_run_unit (run, mp_msg_u64 (req->msg, field));
    if (!unit || unit->state != MP_UNIT_RUNNING || !streq (unit->agent, req->agent->key))
        return NULL;
    return unit;
}

void mp_coord_on_report (mp_coord_t *self, mp_request_t *req, mp_run_t *run)
{
    mp_unit_t *unit = s_running_unit (req, run, 1);
    if (!unit) {
        mp_coord_reply_error (self, req, MP_ESTATE, "unit %" PRIu64 " is not running here",
                               mp_msg_u64 (req->msg, 1));
        return;
    }
    char sender[32];
    snprintf (sender, sizeof sender, "u%" PRIu64, unit->pid);
    if (unit->pid && !streq (mp_msg_from (req->msg), sender)) {
        mp_coord_reply_error (self, req, MP_EAUTH, "unit %" PRIu64 " is not yours",
                               unit->id);
        return;
    }
    unit->reported = 1;
    const char *kind = mp_msg_str (req->msg, 2);
    const char *test = mp_msg_str (req->msg, 3);
    size_t len;
    const void *data = mp_msg_bin (req->msg, 4, &len);
    int current = unit->finished < unit->ntests && streq (unit->tests[unit->finished], test);
    if (current && streq (kind, "logstart"))
        unit->test_since_ms = mp_clock_mono_ms ();
    if (current && streq (kind, "logfinish")) {
        unit->finished++;
        unit->test_since_ms = 0;
    }
    mp_coord_event (self, run, kind, test, unit->id, data, len);
    mp_coord_reply_ok (self, req, 0);
}

void mp_coord_on_unit_started (mp_coord_t *self, mp_request_t *req, mp_run_t *run)
{
    (void) self;
    mp_unit_t *unit = s_running_unit (req, run, 1);
    if (unit && !unit->pid)
        unit->pid = mp_msg_u64 (req->msg, 2);
}

void mp_coord_on_unit_exit (mp_coord_t *self, mp_request_t *req, mp_run_t *run)
{
    mp_unit_t *unit = s_running_unit (req, run, 1);
    uint64_t pid = mp_msg_u64 (req->msg, 2);
    if (unit && (!unit->pid || unit->pid == pid))
        s_unit_ended (self, run, unit, mp_msg_i64 (req->msg, 3), NULL);
}

void mp_coord_on_zygote_exit (mp_coord_t *self, mp_request_t *req, mp_run_t *run)
{
    int was = mp_run_ready (run, req->agent->key);
    mp_run_set_ready (run, req->agent->key, MP_READY_FAILED);
    if (run->state != MP_RUN_RUNNING || was == MP_READY_FAILED)
        return;
    char status[128], text[512];
    s_describe_status (mp_msg_i64 (req->msg, 1), status, sizeof status);
    snprintf (text, sizeof text, "agent %s: its zygote (the pytest process that collects the suite) %s%s", req->agent->name,
              status, was == MP_READY_STARTING ? " before it finished collecting" : "");
    mp_coord_event (self, run, "error", "", 0, text, strlen (text));
    //  Units handed to it that never got a process will not be reported by anyone.
    for (size_t i = 0; i < mp_run_nunits (run); i++) {
        mp_unit_t *unit = mp_run_unit_at (run, i);
        if (unit->state == MP_UNIT_RUNNING && !unit->pid
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
            if (unit->state != MP_UNIT_RUNNING || unit->timed_out || !unit->pid
                || !unit->test_since_ms || now - unit->test_since_ms <= run->timeout_ms)
                continue;
            mp_agent_entry_t *agent = mp_agent_table_find_key (self->agents, unit->agent);
            if (!agent)
                continue;
            mp_warn ("run %" PRIu64 ": %s ran past %" PRIu64 " ms: killing its process %" PRIu64,
                     run->id, unit->tests[unit->finished], run->timeout_ms, unit->pid);
            unit->timed_out = 1;
            mp_msg_t *kill = mp_msg_new (MP_MSG_KILL);
            if (kill
                && (mp_msg_add_u64 (kill, run->id) != 0 || mp_msg_add_u64 (kill, unit->id) != 0
                    || mp_msg_add_u64 (kill, unit->pid) != 0))
                mp_msg_destroy (&kill);
            mp_coord_send (self, agent->routing_id, "", 0, &kill);
        }
    }
}
