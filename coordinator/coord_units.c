//  Units on agents: handed out as slots free up, followed through their reports,
//  ended by their process's exit, a timeout, or the loss of their agent or zygote.
#include <signal.h>

#include "../common/clock.h"
#include "../common/strs.h"
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

//  The unit's process is gone: its locks pass on, its trail starts are taken back if
//  it died (see mp_sync_owner_gone), and its sync-service name (the one s_authorise
//  gave its requests) is unbound, its line closed.
static void s_release_process (mp_coord_t *self, mp_run_t *run, mp_unit_t *unit, int died)
{
    if (!unit->pid)
        return;
    char name[MP_PEER_NAME_MAX], owner[MP_PEER_OWNER_MAX];
    mp_peer_unit_name (unit->pid, name);
    mp_peer_owner (unit->agent, name, owner);
    mp_sync_owner_gone (run->sync, owner, died);
    mp_run_unbind_owner (run, owner);
    mp_coord_close_line (self, owner);
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
    mp_run_inflight_remove (run, unit);
    //  Died: lost with its host, killed, crashed, or ended before its last test.
    s_release_process (self, run, unit, requeue || unit->timed_out || unit->status != 0
                                      || unit->finished < unit->ntests);
    if (requeue) {
        //  The next attempt starts afresh.
        unit->pid = 0;
        unit->test_since_ms = 0;
    }
    mp_agent_entry_t *agent = mp_agent_table_find_key (self->agents, unit->agent);
    if (agent)
        mp_agent_table_give_slot (self->agents, agent, unit->slot);
    return 0;
}

static void s_unit_ended (mp_coord_t *self, mp_run_t *run, mp_unit_t *unit, int64_t status,
                          const char *why)
{
    if (!mp_coord_unit_active (run, unit))
        return;
    unit->status = status;
    const mp_agent_entry_t *agent = mp_agent_table_find_key (self->agents, unit->agent);
    mp_debug ("run %" PRIu64 ": unit %" PRIu64 " (%s) ended on %s:%zu, pid %" PRIu64
              ", status %" PRId64 ": %zu of %zu tests finished", run->id, unit->id,
              *unit->group ? unit->group : "ungrouped", agent ? agent->name : "?", unit->slot,
              unit->pid, status, unit->finished, unit->ntests);
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
        if (unit->strategy == MP_STRATEGY_FREE && unit->finished + 1 < unit->ntests) {
            //  Tests of a free unit (several: --mp-reuse) do not depend on each other:
            //  the one running fails, the rest go back to the queue, to run from the
            //  next one in a fresh process. Not a loss of its host.
            unit->finished++;
            mp_coord_unit_off_slot (self, run, unit, 1);
            unit->timed_out = unit->stray_kill = 0;
            unit->status = 0;
            return;
        }
    }
    mp_coord_unit_off_slot (self, run, unit, 0);
    if (mp_sched_done (run->sched))
        mp_coord_finish_run (self, run);
}

//  The unit's host is gone (its agent was lost or left, its zygote died, or the unit
//  was never taken up): that is not the test's fault. The first time, the unit goes
//  back to the queue from its first unfinished test, and the front end is told
//  (RETRY) that the lost attempt's reports of that test are void; the second time,
//  the test fails naming both hosts. The lost attempt's locks and trail starts are
//  given back either way (mp_coord_unit_off_slot).
static void s_unit_lost (mp_coord_t *self, mp_run_t *run, mp_unit_t *unit,
                         const mp_agent_entry_t *agent, const char *why)
{
    if (!mp_coord_unit_active (run, unit))
        return;
    char where[192];
    snprintf (where, sizeof where, "agent %s (%s) %s", agent->name, agent->hostname, why);
    if (unit->requeued > 0) {
        char text[448];
        snprintf (text, sizeof text, "lost its host twice: first %s, then %s", unit->lost,
                  where);
        s_unit_ended (self, run, unit, 0, text);
        return;
    }
    snprintf (unit->lost, sizeof unit->lost, "%s", where);
    if (unit->finished < unit->ntests) {
        char text[256];
        snprintf (text, sizeof text, "%s: running it again elsewhere", where);
        mp_coord_event (self, run, MP_EVENT_RETRY, unit->tests[unit->finished], unit->id,
                        text, strlen (text));
    }
    if (mp_coord_unit_off_slot (self, run, unit, 1) == 0)
        unit->requeued++;
}

//  Whether any agent may still run units of the run: one ready, or still collecting.
static int s_run_has_agents (mp_coord_t *self, mp_run_t *run)
{
    for (size_t i = 0; i < mp_agent_table_size (self->agents); i++) {
        int ready = mp_run_ready (run, mp_agent_table_at (self->agents, i)->key);
        if (ready == MP_READY_YES || ready == MP_READY_STARTING)
            return 1;
    }
    return 0;
}

//  Every unit of the run out on the agent is lost with it.
static void s_units_lost (mp_coord_t *self, mp_run_t *run, const mp_agent_entry_t *agent,
                          const char *why)
{
    for (size_t i = 0; i < mp_run_nunits (run); i++) {
        mp_unit_t *unit = mp_run_unit_at (run, i);
        if (mp_coord_unit_active (run, unit) && streq (unit->agent, agent->key))
            s_unit_lost (self, run, unit, agent, why);
    }
}

void mp_coord_agent_lost (mp_coord_t *self, mp_agent_entry_t *agent, const char *why)
{
    mp_warn ("agent %s (%s) lost: %s", agent->name, agent->hostname, why);
    char text[160];
    snprintf (text, sizeof text, "was lost: %s", why);
    for (mp_run_t *run = (mp_run_t *) zlistx_first (self->runs); run;
         run = (mp_run_t *) zlistx_next (self->runs)) {
        mp_run_set_ready (run, agent->key, MP_READY_NONE);
        if (run->state == MP_RUN_RUNNING)
            s_units_lost (self, run, agent, text);
    }
}

const char **mp_coord_planned_tests (mp_run_t *run, size_t *count)
{
    size_t ntests = 0;
    for (size_t i = 0; i < mp_run_nunits (run); i++)
        ntests += mp_run_unit_at (run, i)->ntests;
    const char **tests = (const char **) calloc (ntests ? ntests : 1, sizeof *tests);
    if (!tests)
        return NULL;
    ntests = 0;
    for (size_t i = 0; i < mp_run_nunits (run); i++) {
        mp_unit_t *unit = mp_run_unit_at (run, i);
        for (size_t t = 0; t < unit->ntests; t++)
            tests[ntests++] = unit->tests[t];
    }
    *count = ntests;
    return tests;
}

void mp_coord_offer_runs (mp_coord_t *self, mp_agent_entry_t *agent)
{
    for (mp_run_t *run = (mp_run_t *) zlistx_first (self->runs); run;
         run = (mp_run_t *) zlistx_next (self->runs)) {
        int offered = run->state == MP_RUN_RUNNING
                      || (run->early && run->state == MP_RUN_PLANNING);
        if (!offered || mp_run_ready (run, agent->key) != MP_READY_NONE)
            continue;
        //  What every process of the run may know of it (a test's identity).
        size_t workers = 0;
        for (size_t i = 0; i < mp_agent_table_size (self->agents); i++)
            workers += mp_agent_table_at (self->agents, i)->slots;
        char count[64], uid[64];
        snprintf (count, sizeof count, "PYTEST_MP_WORKER_COUNT=%zu", workers);
        snprintf (uid, sizeof uid, "PYTEST_MP_TESTRUN_UID=%s", run->uid);
        const char *env[] = { count, uid };
        //  Every planned test, for the zygote to check that it collected them (none
        //  yet for an early run's first agents: RUN_PLAN brings them).
        size_t ntests;
        const char **tests = mp_coord_planned_tests (run, &ntests);
        if (!tests) {
            mp_warn ("out of memory offering run %" PRIu64, run->id);
            continue;
        }
        mp_msg_t *start = MP_PACK (run_start, .run = run->id, .cwd = run->cwd,
                                   .args = { (const char *const *) run->args, run->nargs },
                                   .env = { env, 2 },
                                   .files = { (const char *const *) run->files, run->nfiles },
                                   .tests = { tests, ntests },
                                   .early = run->state == MP_RUN_PLANNING);
        free (tests);
        mp_run_set_ready (run, agent->key, MP_READY_STARTING);
        mp_coord_send (self, agent->routing_id, "", 0, &start);
    }
}

typedef struct {
    mp_run_t *run;
    const mp_agent_entry_t *agent;
} s_placement_t;

//  Whether the agent carries every label the unit requires (mp_sched_accept_fn).
static int s_agent_may_run (void *arg, uint64_t id)
{
    s_placement_t *placement = (s_placement_t *) arg;
    const mp_unit_t *unit = mp_run_unit (placement->run, id);
    return unit && mp_labels_meet ((const char *const *) placement->agent->labels,
                                   placement->agent->nlabels,
                                   (const char *const *) unit->requires, unit->nrequires);
}

//  Places units on free slots: of every agent, or of only one (NULL: every agent).
static void s_dispatch (mp_coord_t *self, mp_run_t *isolating, mp_agent_entry_t *only)
{
    //  Slots in use everywhere: counted once, then kept up as units are placed.
    size_t busy = mp_agent_table_busy (self->agents);
    for (mp_run_t *run = (mp_run_t *) zlistx_first (self->runs); run;
         run = (mp_run_t *) zlistx_next (self->runs)) {
        if (run->state != MP_RUN_RUNNING || run->cancelled || (isolating && run != isolating))
            continue;
        size_t nagents = only ? 1 : mp_agent_table_size (self->agents);
        for (size_t i = 0; i < nagents; i++) {
            mp_agent_entry_t *agent = only ? only : mp_agent_table_at (self->agents, i);
            if (mp_run_ready (run, agent->key) != MP_READY_YES)
                continue;
            uint64_t id;
            size_t slot;
            while (agent->busy < agent->slots) {
                if (mp_agent_table_take_slot (self->agents, agent, &slot) != MP_OK)
                    break;
                s_placement_t placement = { run, agent };
                if (!mp_sched_next_for (run->sched, busy, s_agent_may_run, &placement, &id)) {
                    mp_agent_table_give_slot (self->agents, agent, slot);
                    break;
                }
                busy++;
                mp_unit_t *unit = mp_run_unit (run, id);
                unit->slot = slot;
                mp_msg_t *msg = MP_PACK (unit, .run = run->id, .unit = unit->id,
                                         .group = unit->group, .slot = slot,
                                         //  A retry starts at its first unfinished test.
                                         .tests = { (const char *const *) unit->tests
                                                        + unit->finished,
                                                    unit->ntests - unit->finished });
                snprintf (unit->agent, sizeof unit->agent, "%s", agent->key);
                unit->sent_ms = mp_clock_mono_ms ();
                if (mp_run_inflight_add (run, unit) != MP_OK)
                    mp_warn ("out of memory: run %" PRIu64 " unit %" PRIu64 " has no "
                             "timeouts", run->id, unit->id);
                char zygote[MP_PEER_NAME_MAX];
                mp_peer_zygote_name (run->id, zygote);
                mp_coord_send (self, agent->routing_id, zygote, 0, &msg);
            }
        }
    }
}

//  The run whose isolated group is active, if any. Barriers are global: while one
//  run's isolated group is active, no other run starts anything.
static mp_run_t *s_isolating (mp_coord_t *self)
{
    for (mp_run_t *run = (mp_run_t *) zlistx_first (self->runs); run;
         run = (mp_run_t *) zlistx_next (self->runs))
        if (run->state == MP_RUN_RUNNING && mp_sched_barrier (run->sched))
            return run;
    return NULL;
}

void mp_coord_dispatch (mp_coord_t *self)
{
    s_dispatch (self, s_isolating (self), NULL);
}

void mp_coord_dispatch_freed (mp_coord_t *self, mp_agent_entry_t *agent)
{
    mp_run_t *isolating = s_isolating (self);
    //  Only the agent's freed slot is new, unless a barrier may move: one is active,
    //  or every slot is free (an isolated group waiting for the drain may start).
    if (!agent || isolating || mp_agent_table_busy (self->agents) == 0)
        s_dispatch (self, isolating, NULL);
    else
        s_dispatch (self, NULL, agent);
}

//  An agent was taken out of a run (what says how): the front end hears of it, as
//  an error that ends the run when no agent is left for it.
static void s_agent_out (mp_coord_t *self, mp_run_t *run, const char *what)
{
    int left = s_run_has_agents (self, run);
    char *text = zsys_sprintf ("%s%s", what, left ? "" : "; no agent is left for the run");
    if (!text)
        return;
    mp_coord_event (self, run, left ? MP_EVENT_NOTICE : MP_EVENT_ERROR, "", 0, text,
                    strlen (text));
    zstr_free (&text);
}

void mp_coord_on_zygote_ready (mp_coord_t *self, mp_request_t *req)
{
    mp_zygote_ready_msg_t ready;
    mp_zygote_ready_msg_view (req->msg, &ready);
    mp_run_t *run = req->run;
    if (*ready.error) {
        //  Its checkout or its collection differs from the front end's: the run goes
        //  on without it, or fails when no agent is left.
        mp_run_set_ready (run, req->agent->key, MP_READY_FAILED);
        char *text = zsys_sprintf ("agent %s (host %s) is left out of the run: %s",
                                   req->agent->name, req->agent->hostname, ready.error);
        if (text)
            s_agent_out (self, run, text);
        zstr_free (&text);
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
        if (unit->strategy == MP_STRATEGY_FREE && unit->finished < unit->ntests)
            //  A free unit's tests (several under --mp-reuse) are each torn down whole:
            //  what one left held passes on before the next starts, as between units.
            mp_sync_owner_gone (req->run->sync, req->owner, 0);
    }
    mp_coord_event (self, req->run, kind, report.test, unit->id, report.data.data,
                    report.data.len);
    mp_coord_reply_ok (self, req, 0);
}

void mp_coord_on_output (mp_coord_t *self, mp_request_t *req)
{
    mp_output_msg_t output;
    mp_output_msg_view (req->msg, &output);
    mp_unit_t *unit = req->unit;
    //  Shown live by the front end, next to the test the unit is in (if any).
    const char *test = unit->finished < unit->ntests ? unit->tests[unit->finished] : "";
    mp_coord_event (self, req->run, MP_EVENT_OUTPUT, test, unit->id, output.data.data,
                    output.data.len);
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
    unit->stray_kill = mp_run_take_kill (req->run, req->owner);
    mp_sched_started (req->run->sched, unit->id);
}

void mp_coord_on_unit_exit (mp_coord_t *self, mp_request_t *req)
{
    mp_unit_exit_msg_t ended;
    mp_unit_exit_msg_view (req->msg, &ended);
    mp_unit_t *unit = req->unit;
    if (unit->pid && unit->pid != ended.pid)
        return;
    if (unit->stray_kill && !unit->timed_out && ended.status == -SIGKILL) {
        //  Most likely the KILL its process's last unit timed out with, which came
        //  after that unit ended: not this unit's doing. It runs again (once).
        mp_agent_entry_t *agent = mp_agent_table_find_key (self->agents, unit->agent);
        if (agent) {
            s_unit_lost (self, req->run, unit, agent,
                         "killed its process for the unit it had run before, which ran "
                         "past the --mp-timeout");
            return;
        }
    }
    s_unit_ended (self, req->run, unit, ended.status, NULL);
}

//  A unit process is done with its unit: it leaves, or (--mp-reuse) stays for
//  another. The unit ends as if its process had exited 0 (the UNIT_EXIT that may
//  follow finds it ended), and the process's name is free to announce a next unit.
void mp_coord_on_unit_done (mp_coord_t *self, mp_request_t *req)
{
    mp_unit_done_msg_t done;
    mp_unit_done_msg_view (req->msg, &done);
    mp_unit_t *unit = req->unit;
    if (unit->pid != done.pid) {
        mp_coord_reply_error (self, req, MP_EAUTH, "%s may not end the unit of pid %" PRIu64,
                              mp_msg_from (req->msg), done.pid);
        return;
    }
    //  Its KILL is on its way, and the process goes on to another unit.
    if (unit->timed_out && mp_run_note_kill (req->run, req->owner) != MP_OK)
        mp_warn ("run %" PRIu64 ": out of memory noting a KILL", req->run->id);
    s_unit_ended (self, req->run, unit, 0, NULL);
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
    //  Only this agent is out of the run; it goes on elsewhere, or fails when no agent
    //  is left.
    char why[160];
    snprintf (why, sizeof why, "lost its zygote, which %s", status);
    s_units_lost (self, run, req->agent, why);
    s_agent_out (self, run, text);
}

//  A queued unit that needs labels no agent of the run has, past the run's wait: it
//  is dropped, and its tests fail naming the labels and the agents present. 1 when
//  it was dropped.
static int s_drop_unplaceable (mp_coord_t *self, mp_run_t *run, mp_unit_t *unit, uint64_t now)
{
    if (!unit->nrequires || now - run->started_ms <= run->wait_ms)
        return 0;
    char agents[1024] = "", needs[512], labels[256];
    size_t used = 0;
    for (size_t i = 0; i < mp_agent_table_size (self->agents); i++) {
        const mp_agent_entry_t *agent = mp_agent_table_at (self->agents, i);
        if (mp_run_ready (run, agent->key) == MP_READY_FAILED)
            continue;
        if (mp_labels_meet ((const char *const *) agent->labels, agent->nlabels,
                            (const char *const *) unit->requires, unit->nrequires))
            return 0; //  it only waits for a slot there
        mp_strs_join ((const char *const *) agent->labels, agent->nlabels, ", ", labels,
                      sizeof labels);
        int wrote = snprintf (agents + used, sizeof agents - used, "%s%s (%s)",
                              used ? "; " : "", agent->name, *labels ? labels : "no labels");
        if (wrote > 0)
            used = (size_t) wrote < sizeof agents - used ? used + (size_t) wrote
                                                          : sizeof agents - 1;
    }
    if (mp_sched_drop (run->sched, unit->id) != MP_OK)
        return 0;
    mp_strs_join ((const char *const *) unit->requires, unit->nrequires, ", ", needs,
                  sizeof needs);
    char *text = zsys_sprintf ("was not started: it requires %s, which no agent present "
                               "has after %.3g s (agents: %s)", needs,
                               (double) run->wait_ms / 1000.0, used ? agents : "none");
    if (text)
        mp_coord_event (self, run, MP_EVENT_CRASH, unit->tests[unit->finished], unit->id,
                        text, strlen (text));
    zstr_free (&text);
    if (mp_sched_done (run->sched))
        mp_coord_finish_run (self, run);
    return 1;
}

//  A unit sent or running: taken back when its agent never took it up, killed when
//  its test runs past the run's timeout.
static void s_check_inflight (mp_coord_t *self, mp_run_t *run, mp_unit_t *unit, uint64_t now)
{
    int state = MP_UNIT_QUEUED;
    mp_sched_state (run->sched, unit->id, &state);
    mp_agent_entry_t *holder = mp_agent_table_find_key (self->agents, unit->agent);
    if (state == MP_UNIT_SENT && holder && now - unit->sent_ms > self->config.unit_ack_ms) {
        //  Lost on the way, or its zygote never took it up: taken back, and that
        //  zygote gets nothing more of the run.
        char why[96];
        snprintf (why, sizeof why, "did not start it within %.3g s",
                  (double) self->config.unit_ack_ms / 1000.0);
        mp_run_set_ready (run, holder->key, MP_READY_FAILED);
        s_unit_lost (self, run, unit, holder, why);
        char text[320];
        snprintf (text, sizeof text, "agent %s (%s) %s: it gets no more of this run",
                  holder->name, holder->hostname, why);
        s_agent_out (self, run, text);
        return;
    }
    if (run->timeout_ms == 0 || !holder || !mp_coord_unit_active (run, unit)
        || unit->timed_out || !unit->pid || !unit->test_since_ms
        || now - unit->test_since_ms <= run->timeout_ms)
        return;
    mp_warn ("run %" PRIu64 ": %s ran past %" PRIu64 " ms: killing its process %" PRIu64,
             run->id, unit->tests[unit->finished], run->timeout_ms, unit->pid);
    unit->timed_out = 1;
    mp_msg_t *kill = MP_PACK (kill, .run = run->id, .unit = unit->id, .pid = unit->pid);
    mp_coord_send (self, holder->routing_id, "", 0, &kill);
}

//  The tick's look at units: the ones in flight, not the whole plan, but for queued
//  units needing labels in a run whose wait for such agents is over.
void mp_coord_enforce_timeouts (mp_coord_t *self)
{
    uint64_t now = mp_clock_mono_ms ();
    for (mp_run_t *run = (mp_run_t *) zlistx_first (self->runs); run;
         run = (mp_run_t *) zlistx_next (self->runs)) {
        if (run->state != MP_RUN_RUNNING)
            continue;
        if (run->nrequiring && now - run->started_ms > run->wait_ms)
            for (size_t i = 0; i < mp_run_nunits (run) && run->state == MP_RUN_RUNNING; i++) {
                mp_unit_t *unit = mp_run_unit_at (run, i);
                int state = MP_UNIT_QUEUED;
                mp_sched_state (run->sched, unit->id, &state);
                if (state == MP_UNIT_QUEUED)
                    s_drop_unplaceable (self, run, unit, now);
            }
        //  Copied first: a unit taken back leaves the list.
        size_t n = zlistx_size (run->inflight), k = 0;
        mp_unit_t **units = n ? (mp_unit_t **) malloc (n * sizeof *units) : NULL;
        if (!units)
            continue;
        for (mp_unit_t *unit = (mp_unit_t *) zlistx_first (run->inflight); unit && k < n;
             unit = (mp_unit_t *) zlistx_next (run->inflight))
            units[k++] = unit;
        for (size_t i = 0; i < k && run->state == MP_RUN_RUNNING; i++)
            s_check_inflight (self, run, units[i], now);
        free (units);
    }
}
