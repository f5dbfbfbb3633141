//  The coordinator's handlers, without Python: a real coordinator in a thread, fake
//  agents, zygotes, unit processes and front ends on its endpoint (fake_peers.h).
#include "tests/c/fake_peers.h"
#include "tests/c/testing.h"

#define EP "inproc://coord"
#define HEARTBEAT_MS 100
#define LONG_EXPIRY_MS 10000

#define FREE MP_STRATEGY_FREE
#define SERIAL MP_STRATEGY_SERIAL
#define ISO_SERIAL MP_STRATEGY_ISOLATED_SERIAL

//  A NULL-ended list of test ids.
#define TESTS(...) ((const char *const[]) { __VA_ARGS__, NULL })

//  The next message for the agent is RUN_END of run.
static void s_expect_run_end (fp_peer_t *agent, uint64_t run)
{
    mp_msg_t *msg = fp_expect (agent, MP_MSG_RUN_END);
    mp_run_end_msg_t end;
    ASSERT_EQ (mp_run_end_msg_view (msg, &end), MP_OK);
    ASSERT_EQ (end.run, run);
    mp_msg_destroy (&msg);
}

//  Event number i (from 0) is of kind, for test.
static void s_assert_event (const fp_events_t *events, size_t i, const char *kind,
                            const char *test)
{
    ASSERT_LT (i, events->count);
    ASSERT_STREQ (events->kind[i], kind);
    ASSERT_STREQ (events->test[i], test);
}

//  Events from `from` on are the three of a passing test.
static void s_assert_passed (const fp_events_t *events, size_t from, const char *test,
                             uint64_t unit)
{
    s_assert_event (events, from, "logstart", test);
    s_assert_event (events, from + 1, "logreport", test);
    s_assert_event (events, from + 2, "logfinish", test);
    for (size_t i = from; i < from + 3; i++)
        ASSERT_EQ (events->unit[i], unit);
}

static void test_dispatch_fills_slots_then_refills (void)
{
    fp_coord_t *coord = fp_coord_start (EP, HEARTBEAT_MS, LONG_EXPIRY_MS);
    fp_peer_t *agent = fp_agent_new (EP, "agent1", 2);
    fp_peer_t *front = fp_peer_new (EP, "front1");
    fp_plan_t plan[] = {
        { 1, NULL, FREE, { "t.py::a", NULL } },
        { 2, NULL, FREE, { "t.py::b", NULL } },
        { 3, NULL, FREE, { "t.py::c", NULL } },
    };
    uint64_t run = fp_submit (front, 0, plan, 3);

    //  Once the zygote is ready, both slots fill (plan order), and only those.
    fp_agent_join (agent, run);
    ASSERT_EQ (fp_agent_unit (agent, run), 1);
    ASSERT_EQ (fp_agent_last_slot (agent), 0);
    ASSERT_EQ (fp_agent_unit (agent, run), 2);
    ASSERT_EQ (fp_agent_last_slot (agent), 1);
    fp_expect_nothing (agent, FP_QUIET_MS);

    //  A unit ends: its slot takes the third.
    fp_unit_passes (agent, run, 1, 101, TESTS ("t.py::a"));
    ASSERT_EQ (fp_agent_unit (agent, run), 3);
    //  The slot unit 1 gave back: no two units on an agent hold one at once.
    ASSERT_EQ (fp_agent_last_slot (agent), 0);
    fp_expect_nothing (agent, FP_QUIET_MS);
    fp_unit_passes (agent, run, 2, 102, TESTS ("t.py::b"));
    fp_unit_passes (agent, run, 3, 103, TESTS ("t.py::c"));

    //  The front end sees every report in order, then "done"; the agent, RUN_END.
    fp_events_t events = { 0 };
    fp_poll_until_done (front, run, &events);
    ASSERT_EQ (events.count, 10);
    s_assert_passed (&events, 0, "t.py::a", 1);
    s_assert_passed (&events, 3, "t.py::b", 2);
    s_assert_passed (&events, 6, "t.py::c", 3);
    s_assert_event (&events, 9, "done", "");
    ASSERT_STREQ (events.data[1], "logreport"); //  the payload as reported
    s_expect_run_end (agent, run);
    fp_expect_nothing (agent, FP_QUIET_MS);

    fp_peer_destroy (&front);
    fp_peer_destroy (&agent);
    fp_coord_stop (&coord);
}

//  --mp-reuse: a process that says UNIT_DONE ends its unit (its slot is free again)
//  and may announce the next; UNIT_DONE for another pid is refused.
static void test_a_reused_process_ends_its_unit_and_runs_another (void)
{
    fp_coord_t *coord = fp_coord_start (EP, HEARTBEAT_MS, LONG_EXPIRY_MS);
    fp_peer_t *agent = fp_agent_new (EP, "agent1", 1);
    fp_peer_t *front = fp_peer_new (EP, "front1");
    fp_plan_t plan[] = {
        { 1, NULL, FREE, { "t.py::a", NULL } },
        { 2, NULL, FREE, { "t.py::b", NULL } },
    };
    uint64_t run = fp_submit (front, 0, plan, 2);
    fp_agent_join (agent, run);
    ASSERT_EQ (fp_agent_unit (agent, run), 1);
    fp_unit_started (agent, run, 1, 301);
    fp_test_passes (agent, 301, run, 1, "t.py::a");
    char name[MP_PEER_NAME_MAX];
    mp_peer_unit_name (301, name);
    //  Speaking for another pid: refused, and the slot stays taken.
    ASSERT_EQ (fp_request_error (agent, name,
                                 MP_PACK (unit_done, .run = run, .unit = 1, .pid = 302)),
               MP_EAUTH);
    fp_expect_nothing (agent, FP_QUIET_MS);
    fp_unit_done (agent, run, 1, 301);
    //  The one slot takes the next unit, which the same process announces and runs.
    ASSERT_EQ (fp_agent_unit (agent, run), 2);
    fp_unit_passes (agent, run, 2, 301, TESTS ("t.py::b"));
    fp_events_t events = { 0 };
    fp_poll_until_done (front, run, &events);
    ASSERT_EQ (events.count, 7);
    s_assert_passed (&events, 0, "t.py::a", 1);
    s_assert_passed (&events, 3, "t.py::b", 2);
    s_assert_event (&events, 6, "done", "");
    s_expect_run_end (agent, run);

    fp_peer_destroy (&front);
    fp_peer_destroy (&agent);
    fp_coord_stop (&coord);
}

//  --mp-reuse: a unit times out just as its test ends; its process ends the unit
//  (UNIT_DONE) and announces the next before the KILL reaches it. The SIGKILL the
//  next unit then dies of is the last one's: the next unit runs again, it is not a
//  crash. A SIGKILL without a KILL in flight stays a crash.
static void test_a_kill_for_a_reused_process_s_last_unit_reruns_its_next (void)
{
    fp_coord_t *coord = fp_coord_start (EP, HEARTBEAT_MS, LONG_EXPIRY_MS);
    fp_peer_t *agent = fp_agent_new (EP, "agent1", 1);
    fp_peer_t *front = fp_peer_new (EP, "front1");
    fp_plan_t plan[] = {
        { 1, NULL, FREE, { "t.py::a", NULL } },
        { 2, NULL, FREE, { "t.py::b", NULL } },
        { 3, NULL, FREE, { "t.py::c", NULL } },
    };
    uint64_t run = fp_submit (front, 200, plan, 3);
    fp_agent_join (agent, run);
    ASSERT_EQ (fp_agent_unit (agent, run), 1);
    fp_unit_started (agent, run, 1, 1501);
    fp_report (agent, 1501, run, 1, "logstart", "t.py::a");
    mp_msg_destroy (&(mp_msg_t *) { fp_expect (agent, MP_MSG_KILL) });
    //  The test had ended meanwhile; the process goes on.
    fp_report (agent, 1501, run, 1, "logreport", "t.py::a");
    fp_report (agent, 1501, run, 1, "logfinish", "t.py::a");
    fp_unit_done (agent, run, 1, 1501);
    ASSERT_EQ (fp_agent_unit (agent, run), 2);
    fp_unit_started (agent, run, 2, 1501);
    fp_report (agent, 1501, run, 2, "logstart", "t.py::b");
    fp_unit_exit (agent, run, 2, 1501, -9);
    //  Unit 2 comes again, runs in a new process and passes; unit 3 then dies of a
    //  SIGKILL of its own: a crash.
    ASSERT_EQ (fp_agent_unit (agent, run), 2);
    fp_unit_passes (agent, run, 2, 1502, TESTS ("t.py::b"));
    ASSERT_EQ (fp_agent_unit (agent, run), 3);
    fp_unit_started (agent, run, 3, 1503);
    fp_report (agent, 1503, run, 3, "logstart", "t.py::c");
    fp_unit_exit (agent, run, 3, 1503, -9);

    fp_events_t events = { 0 };
    fp_poll_until_done (front, run, &events);
    size_t retries = 0, crashes = 0;
    for (size_t i = 0; i < events.count; i++) {
        if (streq (events.kind[i], "retry")) {
            retries++;
            ASSERT_STREQ (events.test[i], "t.py::b");
            ASSERT_STRSTR (events.data[i], "the unit it had run before");
        }
        if (streq (events.kind[i], "crash")) {
            crashes++;
            ASSERT_STREQ (events.test[i], "t.py::c");
        }
    }
    ASSERT_EQ (retries, 1);
    ASSERT_EQ (crashes, 1);
    s_expect_run_end (agent, run);

    fp_peer_destroy (&front);
    fp_peer_destroy (&agent);
    fp_coord_stop (&coord);
}

//  An early run goes to the agents before its plan (nothing to compare yet), gets
//  no unit until PLAN_END, and then the agents get the files and tests (RUN_PLAN).
static void test_an_early_run_starts_zygotes_before_its_plan (void)
{
    fp_coord_t *coord = fp_coord_start (EP, HEARTBEAT_MS, LONG_EXPIRY_MS);
    fp_peer_t *agent = fp_agent_new (EP, "agent1", 1);
    fp_peer_t *front = fp_peer_new (EP, "front1");
    const char *args[] = { "-q" };
    uint64_t run = fp_request_ok (front, NULL,
                                  MP_PACK (submit, .cwd = "/tmp", .args = { args, 1 },
                                           .early = 1));
    mp_msg_t *msg = fp_expect (agent, MP_MSG_RUN_START);
    mp_run_start_msg_t start;
    ASSERT_EQ (mp_run_start_msg_view (msg, &start), MP_OK);
    ASSERT_EQ (start.run, run);
    ASSERT_EQ (start.early, 1);
    ASSERT_EQ (start.tests.count, 0);
    mp_msg_destroy (&msg);
    char zygote[MP_PEER_NAME_MAX];
    mp_peer_zygote_name (run, zygote);
    fp_send (agent, zygote, MP_PACK (zygote_ready, .run = run, .collected = 1, .error = ""));
    fp_expect_nothing (agent, FP_QUIET_MS);

    const char *const tests[] = { "t.py::a" };
    fp_request_ok (front, NULL,
                   MP_PACK (plan_unit, .run = run, .unit = 1, .group = "", .strategy = FREE,
                            .tests = { tests, 1 }));
    const char *files[] = { "t.py 0123" };
    fp_request_ok (front, NULL, MP_PACK (plan_end, .run = run, .files = { files, 1 }));
    msg = fp_expect (agent, MP_MSG_RUN_PLAN);
    mp_run_plan_msg_t plan;
    ASSERT_EQ (mp_run_plan_msg_view (msg, &plan), MP_OK);
    ASSERT_EQ (plan.run, run);
    ASSERT_EQ (plan.files.count, 1);
    ASSERT_STREQ (plan.files.items[0], "t.py 0123");
    ASSERT_EQ (plan.tests.count, 1);
    ASSERT_STREQ (plan.tests.items[0], "t.py::a");
    ASSERT_STREQ (mp_msg_to (msg), ""); //  for the agent, which hands it on
    mp_msg_destroy (&msg);
    ASSERT_EQ (fp_agent_unit (agent, run), 1);
    fp_unit_passes (agent, run, 1, 401, TESTS ("t.py::a"));
    fp_events_t events = { 0 };
    fp_poll_until_done (front, run, &events);
    ASSERT_EQ (events.count, 4);
    s_expect_run_end (agent, run);

    fp_peer_destroy (&front);
    fp_peer_destroy (&agent);
    fp_coord_stop (&coord);
}

static void test_isolated_unit_holds_back_other_runs (void)
{
    fp_coord_t *coord = fp_coord_start (EP, HEARTBEAT_MS, LONG_EXPIRY_MS);
    fp_peer_t *agent1 = fp_agent_new (EP, "agent1", 1);
    fp_peer_t *agent2 = fp_agent_new (EP, "agent2", 1);
    fp_peer_t *front_a = fp_peer_new (EP, "front-a");
    fp_peer_t *front_b = fp_peer_new (EP, "front-b");

    //  Run A: one isolated serial group; its unit goes out at once (nothing is busy).
    fp_plan_t plan_a[] = { { 1, "db", ISO_SERIAL, { "db.py::x", "db.py::y", NULL } } };
    uint64_t run_a = fp_submit (front_a, 0, plan_a, 1);
    fp_agent_join (agent1, run_a);
    fp_agent_join (agent2, run_a);
    ASSERT_EQ (fp_agent_unit (agent1, run_a), 1);

    //  Run B, free units, both agents ready for it: nothing of B starts while A's
    //  isolated unit is out, sent or running.
    fp_plan_t plan_b[] = {
        { 1, NULL, FREE, { "b.py::p", NULL } },
        { 2, NULL, FREE, { "b.py::q", NULL } },
    };
    uint64_t run_b = fp_submit (front_b, 0, plan_b, 2);
    fp_agent_join (agent1, run_b);
    fp_agent_join (agent2, run_b);
    fp_expect_nothing (agent1, FP_QUIET_MS);
    fp_expect_nothing (agent2, FP_QUIET_MS);
    fp_unit_started (agent1, run_a, 1, 201);
    fp_report (agent1, 201, run_a, 1, "logstart", "db.py::x");
    fp_expect_nothing (agent2, FP_QUIET_MS);
    fp_report (agent1, 201, run_a, 1, "logreport", "db.py::x");
    fp_report (agent1, 201, run_a, 1, "logfinish", "db.py::x");
    fp_report (agent1, 201, run_a, 1, "logstart", "db.py::y");
    fp_report (agent1, 201, run_a, 1, "logreport", "db.py::y");
    fp_report (agent1, 201, run_a, 1, "logfinish", "db.py::y");
    fp_expect_nothing (agent2, FP_QUIET_MS);
    fp_expect_nothing (agent1, 0);

    //  A's unit ends: A is over, and B's units flow, one to each agent.
    fp_unit_exit (agent1, run_a, 1, 201, 0);
    s_expect_run_end (agent1, run_a);
    s_expect_run_end (agent2, run_a);
    uint64_t on1 = fp_agent_unit (agent1, run_b);
    uint64_t on2 = fp_agent_unit (agent2, run_b);
    ASSERT_TRUE ((on1 == 1 && on2 == 2) || (on1 == 2 && on2 == 1));
    fp_unit_passes (agent1, run_b, on1, 202, TESTS (plan_b[on1 - 1].tests[0]));
    fp_unit_passes (agent2, run_b, on2, 203, TESTS (plan_b[on2 - 1].tests[0]));

    fp_events_t events_a = { 0 }, events_b = { 0 };
    fp_poll_until_done (front_a, run_a, &events_a);
    ASSERT_EQ (events_a.count, 7);
    s_assert_passed (&events_a, 0, "db.py::x", 1);
    s_assert_passed (&events_a, 3, "db.py::y", 1);
    fp_poll_until_done (front_b, run_b, &events_b);
    ASSERT_EQ (events_b.count, 7);

    fp_peer_destroy (&front_b);
    fp_peer_destroy (&front_a);
    fp_peer_destroy (&agent2);
    fp_peer_destroy (&agent1);
    fp_coord_stop (&coord);
}

static void test_isolated_unit_waits_for_other_runs_to_drain (void)
{
    fp_coord_t *coord = fp_coord_start (EP, HEARTBEAT_MS, LONG_EXPIRY_MS);
    fp_peer_t *agent = fp_agent_new (EP, "agent1", 2);
    fp_peer_t *front_a = fp_peer_new (EP, "front-a");
    fp_peer_t *front_b = fp_peer_new (EP, "front-b");

    //  Run B's free unit is out first.
    fp_plan_t plan_b[] = { { 1, NULL, FREE, { "b.py::p", NULL } } };
    uint64_t run_b = fp_submit (front_b, 0, plan_b, 1);
    fp_agent_join (agent, run_b);
    ASSERT_EQ (fp_agent_unit (agent, run_b), 1);

    //  Run A's isolated unit waits for it, though a slot is free.
    fp_plan_t plan_a[] = { { 1, "db", ISO_SERIAL, { "db.py::x", NULL } } };
    uint64_t run_a = fp_submit (front_a, 0, plan_a, 1);
    fp_agent_join (agent, run_a);
    fp_expect_nothing (agent, FP_QUIET_MS);
    fp_unit_passes (agent, run_b, 1, 301, TESTS ("b.py::p"));
    s_expect_run_end (agent, run_b);
    ASSERT_EQ (fp_agent_unit (agent, run_a), 1);

    fp_peer_destroy (&front_b);
    fp_peer_destroy (&front_a);
    fp_peer_destroy (&agent);
    fp_coord_stop (&coord);
}

static void test_timeout_kills_and_reports_a_crash (void)
{
    fp_coord_t *coord = fp_coord_start (EP, HEARTBEAT_MS, LONG_EXPIRY_MS);
    fp_peer_t *agent = fp_agent_new (EP, "agent1", 1);
    fp_peer_t *front = fp_peer_new (EP, "front1");
    fp_plan_t plan[] = { { 1, "S", SERIAL, { "slow.py::t", "slow.py::u", NULL } } };
    uint64_t run = fp_submit (front, 200, plan, 1);
    fp_agent_join (agent, run);
    ASSERT_EQ (fp_agent_unit (agent, run), 1);

    //  The test starts and never finishes: past 200 ms its process is killed.
    fp_unit_started (agent, run, 1, 401);
    fp_report (agent, 401, run, 1, "logstart", "slow.py::t");
    uint64_t started = zclock_mono ();
    mp_msg_t *msg = fp_expect (agent, MP_MSG_KILL);
    ASSERT_GE (zclock_mono () - started, 150);
    mp_kill_msg_t kill;
    ASSERT_EQ (mp_kill_msg_view (msg, &kill), MP_OK);
    ASSERT_EQ (kill.run, run);
    ASSERT_EQ (kill.unit, 1);
    ASSERT_EQ (kill.pid, 401);
    mp_msg_destroy (&msg);
    fp_expect_nothing (agent, FP_QUIET_MS); //  killed once

    //  The zygote reports SIGKILL: a crash in the test that timed out, then done (the
    //  rest of a serial group does not run).
    fp_unit_exit (agent, run, 1, 401, -9);
    fp_events_t events = { 0 };
    fp_poll_until_done (front, run, &events);
    ASSERT_EQ (events.count, 3);
    s_assert_event (&events, 0, "logstart", "slow.py::t");
    s_assert_event (&events, 1, "crash", "slow.py::t");
    ASSERT_EQ (events.unit[1], 1);
    ASSERT_STRSTR (events.data[1], "timed out");
    s_assert_event (&events, 2, "done", "");
    s_expect_run_end (agent, run);

    fp_peer_destroy (&front);
    fp_peer_destroy (&agent);
    fp_coord_stop (&coord);
}

//  --mp-reuse: a free unit may hold several tests, run one after another in one
//  process and each torn down whole: a lock one of them left held passes on before
//  the next starts. A crash costs only the test that was running; the rest of the
//  unit goes back to the queue, from the next test, in a fresh process.
static void test_a_free_unit_of_several_tests_loses_only_its_crashed_test (void)
{
    fp_coord_t *coord = fp_coord_start (EP, HEARTBEAT_MS, LONG_EXPIRY_MS);
    fp_peer_t *agent = fp_agent_new (EP, "agent1", 2);
    fp_peer_t *front = fp_peer_new (EP, "front1");
    fp_plan_t plan[] = {
        { 1, NULL, FREE, { "t.py::a", "t.py::b", "t.py::c", NULL } },
        { 2, NULL, FREE, { "t.py::d", NULL } },
    };
    uint64_t run = fp_submit (front, 0, plan, 2);
    fp_agent_join (agent, run);
    ASSERT_EQ (fp_agent_unit (agent, run), 1);
    ASSERT_EQ (fp_agent_unit (agent, run), 2);
    fp_unit_started (agent, run, 1, 801);
    fp_unit_started (agent, run, 2, 802);

    //  a takes the lock and ends holding it; d, waiting for it, gets it then.
    fp_report (agent, 801, run, 1, "logstart", "t.py::a");
    ASSERT_EQ (fp_request_ok (agent, "u801", MP_PACK (lock_acquire, .run = run,
                                                      .name = "mp_lock")),
               1);
    uint64_t asked = fp_send (agent, "u802", MP_PACK (lock_acquire, .run = run,
                                                       .name = "mp_lock"));
    fp_report (agent, 801, run, 1, "logreport", "t.py::a");
    fp_expect_nothing (agent, FP_QUIET_MS);
    fp_report (agent, 801, run, 1, "logfinish", "t.py::a");
    mp_msg_t *grant = fp_expect (agent, MP_MSG_OK);
    ASSERT_EQ (mp_msg_reqid (grant), asked);
    mp_msg_destroy (&grant);
    ASSERT_EQ (fp_request_ok (agent, "u802", MP_PACK (lock_release, .run = run,
                                                      .name = "mp_lock")),
               0);
    fp_test_passes (agent, 802, run, 2, "t.py::d");
    fp_unit_exit (agent, run, 2, 802, 0);

    //  b crashes its process: c comes again, alone, and runs in a new one.
    fp_report (agent, 801, run, 1, "logstart", "t.py::b");
    fp_unit_exit (agent, run, 1, 801, -11);
    ASSERT_EQ (fp_agent_unit_tests (agent, run, TESTS ("t.py::c")), 1);
    fp_unit_passes (agent, run, 1, 803, TESTS ("t.py::c"));

    fp_events_t events = { 0 };
    fp_poll_until_done (front, run, &events);
    ASSERT_EQ (events.count, 12);
    s_assert_passed (&events, 0, "t.py::a", 1);
    s_assert_passed (&events, 3, "t.py::d", 2);
    s_assert_event (&events, 6, "logstart", "t.py::b");
    s_assert_event (&events, 7, "crash", "t.py::b");
    ASSERT_STRSTR (events.data[7], "signal 11");
    s_assert_passed (&events, 8, "t.py::c", 1);
    s_assert_event (&events, 11, "done", "");
    s_expect_run_end (agent, run);

    fp_peer_destroy (&front);
    fp_peer_destroy (&agent);
    fp_coord_stop (&coord);
}

static void test_lost_agent_unit_is_requeued_once (void)
{
    fp_coord_t *coord = fp_coord_start (EP, HEARTBEAT_MS, 600);
    fp_peer_t *agent1 = fp_agent_new (EP, "agent1", 1);
    fp_peer_t *agent2 = fp_agent_new (EP, "agent2", 1);
    fp_peer_t *front = fp_peer_new (EP, "front1");
    fp_plan_t plan[] = { { 1, NULL, FREE, { "t.py::a", NULL } } };
    uint64_t run = fp_submit (front, 0, plan, 1);

    //  Agent 1 gets the unit, then goes silent before anything is reported.
    fp_agent_join (agent1, run);
    ASSERT_EQ (fp_agent_unit (agent1, run), 1);
    fp_agent_join (agent2, run);
    fp_expect_nothing (agent2, FP_QUIET_MS);
    fp_agent_silence (agent1);

    //  After the expiry the unit goes to agent 2, which runs it; the front end is told.
    ASSERT_EQ (fp_agent_unit (agent2, run), 1);
    fp_unit_passes (agent2, run, 1, 502, TESTS ("t.py::a"));
    fp_events_t events = { 0 };
    fp_poll_until_done (front, run, &events);
    ASSERT_EQ (events.count, 5);
    s_assert_event (&events, 0, "retry", "t.py::a");
    ASSERT_STRSTR (events.data[0], "agent agent1 (h) was lost: heartbeats stopped");
    s_assert_passed (&events, 1, "t.py::a", 1);
    s_assert_event (&events, 4, "done", "");

    fp_peer_destroy (&front);
    fp_peer_destroy (&agent2);
    fp_peer_destroy (&agent1);
    fp_coord_stop (&coord);
}

static void test_host_loss_reruns_from_the_unfinished_test_and_fails_the_second_time (void)
{
    fp_coord_t *coord = fp_coord_start (EP, HEARTBEAT_MS, 600);
    fp_peer_t *agent1 = fp_agent_new (EP, "agent1", 1);
    fp_peer_t *agent2 = fp_agent_new (EP, "agent2", 1);
    fp_peer_t *front = fp_peer_new (EP, "front1");
    fp_plan_t plan[] = { { 1, "S", SERIAL, { "t.py::a", "t.py::b", NULL } } };
    uint64_t run = fp_submit (front, 0, plan, 1);
    fp_agent_join (agent1, run);
    ASSERT_EQ (fp_agent_unit (agent1, run), 1);
    fp_agent_join (agent2, run);

    //  Agent 1 finishes a, starts b, and is lost.
    fp_unit_started (agent1, run, 1, 601);
    fp_test_passes (agent1, 601, run, 1, "t.py::a");
    fp_report (agent1, 601, run, 1, "logstart", "t.py::b");
    fp_agent_silence (agent1);

    //  The unit goes to agent 2 from b on: a already reported is not run again.
    ASSERT_EQ (fp_agent_unit_tests (agent2, run, TESTS ("t.py::b")), 1);
    fp_unit_started (agent2, run, 1, 602);
    fp_report (agent2, 602, run, 1, "logstart", "t.py::b");
    fp_agent_silence (agent2);

    fp_events_t events = { 0 };
    fp_poll_until_done (front, run, &events);
    ASSERT_EQ (events.count, 8);
    s_assert_event (&events, 0, "logstart", "t.py::a");
    s_assert_event (&events, 2, "logfinish", "t.py::a");
    s_assert_event (&events, 3, "logstart", "t.py::b");
    s_assert_event (&events, 4, "retry", "t.py::b");
    ASSERT_STRSTR (events.data[4], "agent1");
    s_assert_event (&events, 5, "logstart", "t.py::b");
    //  The second loss fails the test, naming both hosts.
    s_assert_event (&events, 6, "crash", "t.py::b");
    ASSERT_STRSTR (events.data[6], "lost its host twice: first agent agent1");
    ASSERT_STRSTR (events.data[6], "then agent agent2");
    s_assert_event (&events, 7, "done", "");

    fp_peer_destroy (&front);
    fp_peer_destroy (&agent2);
    fp_peer_destroy (&agent1);
    fp_coord_stop (&coord);
}

static void test_a_unit_its_agent_does_not_take_up_is_taken_back (void)
{
    fp_coord_t *coord = fp_coord_start_ack (EP, HEARTBEAT_MS, LONG_EXPIRY_MS, 300);
    fp_peer_t *agent1 = fp_agent_new (EP, "agent1", 1);
    fp_peer_t *agent2 = fp_agent_new (EP, "agent2", 1);
    fp_peer_t *front = fp_peer_new (EP, "front1");
    fp_plan_t plan[] = { { 1, NULL, FREE, { "t.py::a", NULL } } };
    uint64_t run = fp_submit (front, 0, plan, 1);
    fp_agent_join (agent1, run);
    ASSERT_EQ (fp_agent_unit (agent1, run), 1);
    fp_agent_join (agent2, run);

    //  Agent 1 stays alive but its zygote never starts the unit: it goes to agent 2.
    ASSERT_EQ (fp_agent_unit (agent2, run), 1);
    fp_unit_passes (agent2, run, 1, 702, TESTS ("t.py::a"));
    fp_events_t events = { 0 };
    fp_poll_until_done (front, run, &events);
    ASSERT_EQ (events.count, 6);
    s_assert_event (&events, 0, "retry", "t.py::a");
    ASSERT_STRSTR (events.data[0], "agent agent1 (h) did not start it within 0.3 s");
    //  Its zygote is out of the run, which goes on on agent 2.
    s_assert_event (&events, 1, "notice", "");
    ASSERT_STRSTR (events.data[1], "it gets no more of this run");
    s_assert_passed (&events, 2, "t.py::a", 1);
    //  A late announcement from agent 1's unit process is refused.
    char name[MP_PEER_NAME_MAX];
    mp_peer_unit_name (701, name);
    ASSERT_TRUE (fp_request_error (agent1, name, MP_PACK (board_get, .run = run,
                                                           .key = { "k", 1 })) < 0);

    fp_peer_destroy (&front);
    fp_peer_destroy (&agent2);
    fp_peer_destroy (&agent1);
    fp_coord_stop (&coord);
}

static void test_a_zygote_death_takes_only_its_agent_out_of_the_run (void)
{
    fp_coord_t *coord = fp_coord_start (EP, HEARTBEAT_MS, LONG_EXPIRY_MS);
    fp_peer_t *agent1 = fp_agent_new (EP, "agent1", 1);
    fp_peer_t *agent2 = fp_agent_new (EP, "agent2", 1);
    fp_peer_t *front = fp_peer_new (EP, "front1");
    fp_plan_t plan[] = {
        { 1, NULL, FREE, { "t.py::a", NULL } },
        { 2, NULL, FREE, { "t.py::b", NULL } },
    };
    uint64_t run = fp_submit (front, 0, plan, 2);
    fp_agent_join (agent1, run);
    ASSERT_EQ (fp_agent_unit (agent1, run), 1);
    fp_agent_join (agent2, run);
    ASSERT_EQ (fp_agent_unit (agent2, run), 2);
    fp_unit_started (agent1, run, 1, 801);
    fp_report (agent1, 801, run, 1, "logstart", "t.py::a");
    char zygote[MP_PEER_NAME_MAX];
    mp_peer_zygote_name (run, zygote);
    (void) zygote;
    fp_send (agent1, fp_peer_name (agent1),
             MP_PACK (zygote_exit, .run = run, .status = -9));

    //  Agent 2 runs b, then a again; the run ends well.
    fp_unit_passes (agent2, run, 2, 802, TESTS ("t.py::b"));
    ASSERT_EQ (fp_agent_unit (agent2, run), 1);
    fp_unit_passes (agent2, run, 1, 803, TESTS ("t.py::a"));
    //  Agent 1 got nothing more of the run but its end.
    s_expect_run_end (agent1, run);
    fp_events_t events = { 0 };
    fp_poll_until_done (front, run, &events);
    size_t retries = 0, notices = 0, errors = 0, crashes = 0;
    for (size_t i = 0; i < events.count; i++) {
        retries += streq (events.kind[i], "retry");
        notices += streq (events.kind[i], "notice");
        errors += streq (events.kind[i], "error");
        crashes += streq (events.kind[i], "crash");
    }
    ASSERT_EQ (retries, 1);
    ASSERT_EQ (notices, 1);
    ASSERT_EQ (errors, 0);
    ASSERT_EQ (crashes, 0);

    fp_peer_destroy (&front);
    fp_peer_destroy (&agent2);
    fp_peer_destroy (&agent1);
    fp_coord_stop (&coord);
}

static void test_an_agent_that_says_bye_is_gone_at_once (void)
{
    fp_coord_t *coord = fp_coord_start (EP, HEARTBEAT_MS, LONG_EXPIRY_MS);
    fp_peer_t *agent1 = fp_agent_new (EP, "agent1", 1);
    fp_peer_t *agent2 = fp_agent_new (EP, "agent2", 1);
    fp_peer_t *front = fp_peer_new (EP, "front1");
    ASSERT_EQ (fp_request_ok (front, "front1", mp_msg_new (MP_MSG_AGENTS)), 2);
    fp_plan_t plan[] = { { 1, NULL, FREE, { "t.py::a", NULL } } };
    uint64_t run = fp_submit (front, 0, plan, 1);
    fp_agent_join (agent1, run);
    ASSERT_EQ (fp_agent_unit (agent1, run), 1);
    fp_agent_join (agent2, run);
    fp_send (agent1, fp_peer_name (agent1), MP_PACK (bye, .reason = "SIGTERM"));

    //  Long before any expiry: the unit runs on agent 2, and agent 1 no longer counts.
    ASSERT_EQ (fp_agent_unit (agent2, run), 1);
    ASSERT_EQ (fp_request_ok (front, "front1", mp_msg_new (MP_MSG_AGENTS)), 1);
    fp_unit_passes (agent2, run, 1, 902, TESTS ("t.py::a"));
    fp_events_t events = { 0 };
    fp_poll_until_done (front, run, &events);
    s_assert_event (&events, 0, "retry", "t.py::a");
    ASSERT_STRSTR (events.data[0], "it left (SIGTERM)");

    fp_peer_destroy (&front);
    fp_peer_destroy (&agent2);
    fp_peer_destroy (&agent1);
    fp_coord_stop (&coord);
}

static void test_cancel_ends_the_run_and_frees_its_slots (void)
{
    fp_coord_t *coord = fp_coord_start (EP, HEARTBEAT_MS, LONG_EXPIRY_MS);
    fp_peer_t *agent = fp_agent_new (EP, "agent1", 2);
    fp_peer_t *front = fp_peer_new (EP, "front1");
    fp_plan_t plan[] = {
        { 1, NULL, FREE, { "t.py::a", NULL } },
        { 2, NULL, FREE, { "t.py::b", NULL } },
        { 3, NULL, FREE, { "t.py::c", NULL } },
        { 4, NULL, FREE, { "t.py::d", NULL } },
    };
    uint64_t run = fp_submit (front, 0, plan, 4);
    fp_agent_join (agent, run);
    ASSERT_EQ (fp_agent_unit (agent, run), 1);
    ASSERT_EQ (fp_agent_unit (agent, run), 2);
    fp_unit_started (agent, run, 1, 701);
    fp_report (agent, 701, run, 1, "logstart", "t.py::a");

    //  Cancelled: the two queued units are dropped, the agent is told the run is
    //  over, the front end gets "done".
    ASSERT_EQ (fp_request_ok (front, NULL, MP_PACK (cancel, .run = run)), 2);
    s_expect_run_end (agent, run);
    fp_events_t events = { 0 };
    fp_poll_until_done (front, run, &events);
    ASSERT_EQ (events.count, 2);
    s_assert_event (&events, 0, "logstart", "t.py::a");
    s_assert_event (&events, 1, "done", "");
    //  Late news of the cancelled run's processes is dropped without an answer.
    fp_unit_exit (agent, run, 1, 701, -9);
    fp_expect_nothing (agent, FP_QUIET_MS);

    //  A new run gets both slots at once: the cancelled units gave theirs back
    //  (exactly once: a third unit waits).
    fp_plan_t again[] = {
        { 1, NULL, FREE, { "t.py::a", NULL } },
        { 2, NULL, FREE, { "t.py::b", NULL } },
        { 3, NULL, FREE, { "t.py::c", NULL } },
    };
    uint64_t next = fp_submit (front, 0, again, 3);
    ASSERT_NE (next, run);
    fp_agent_join (agent, next);
    ASSERT_EQ (fp_agent_unit (agent, next), 1);
    ASSERT_EQ (fp_agent_unit (agent, next), 2);
    fp_expect_nothing (agent, FP_QUIET_MS);

    fp_peer_destroy (&front);
    fp_peer_destroy (&agent);
    fp_coord_stop (&coord);
}

//  Two runs from two front ends, one unit each, both out on one agent and announced:
//  run A's unit process is u<pid_a>, run B's u<pid_b>.
typedef struct {
    fp_coord_t *coord;
    fp_peer_t *agent, *front_a, *front_b;
    uint64_t run_a, run_b;
} s_two_runs_t;

static void s_two_runs_start (s_two_runs_t *self, uint64_t pid_a, uint64_t pid_b)
{
    self->coord = fp_coord_start (EP, HEARTBEAT_MS, LONG_EXPIRY_MS);
    self->agent = fp_agent_new (EP, "agent1", 2);
    self->front_a = fp_peer_new (EP, "front-a");
    self->front_b = fp_peer_new (EP, "front-b");
    fp_plan_t plan[] = { { 1, NULL, FREE, { "t.py::a", NULL } } };
    self->run_a = fp_submit (self->front_a, 0, plan, 1);
    fp_agent_join (self->agent, self->run_a);
    ASSERT_EQ (fp_agent_unit (self->agent, self->run_a), 1);
    self->run_b = fp_submit (self->front_b, 0, plan, 1);
    fp_agent_join (self->agent, self->run_b);
    ASSERT_EQ (fp_agent_unit (self->agent, self->run_b), 1);
    if (pid_a)
        fp_unit_started (self->agent, self->run_a, 1, pid_a);
    if (pid_b)
        fp_unit_started (self->agent, self->run_b, 1, pid_b);
}

static void s_two_runs_stop (s_two_runs_t *self)
{
    fp_peer_destroy (&self->front_b);
    fp_peer_destroy (&self->front_a);
    fp_peer_destroy (&self->agent);
    fp_coord_stop (&self->coord);
}

#define BYTES(text) { text, sizeof text - 1 }

static void test_unit_process_cannot_touch_another_runs_board (void)
{
    s_two_runs_t two;
    s_two_runs_start (&two, 801, 802);
    fp_peer_t *agent = two.agent;
    ASSERT_EQ (fp_request_ok (agent, "u802",
                              MP_PACK (board_set, .run = two.run_b, .key = BYTES ("k"),
                                       .value = BYTES ("b's"))),
               0);

    //  Run A's unit process may not write, read or report into run B.
    ASSERT_EQ (fp_request_error (agent, "u801",
                                 MP_PACK (board_set, .run = two.run_b, .key = BYTES ("k"),
                                          .value = BYTES ("a's"))),
               MP_EAUTH);
    ASSERT_EQ (fp_request_error (agent, "u801",
                                 MP_PACK (board_get, .run = two.run_b, .key = BYTES ("k"))),
               MP_EAUTH);
    ASSERT_LT (fp_request_error (agent, "u801",
                                 MP_PACK (report, .run = two.run_b, .unit = 1,
                                          .kind = "logstart", .test = "t.py::a",
                                          .data = BYTES (""))),
               0);
    //  Its own run's board it may write.
    ASSERT_EQ (fp_request_ok (agent, "u801",
                              MP_PACK (board_set, .run = two.run_a, .key = BYTES ("k"),
                                       .value = BYTES ("a's"))),
               0);

    //  Run B's board is as B's unit process left it.
    mp_msg_t *reply = fp_request (agent, "u802",
                                  MP_PACK (board_get, .run = two.run_b, .key = BYTES ("k")));
    mp_value_msg_t value;
    ASSERT_EQ (mp_value_msg_view (reply, &value), MP_OK);
    ASSERT_EQ (value.found, 1);
    ASSERT_EQ (value.value.len, 3);
    ASSERT_TRUE (memcmp (value.value.data, "b's", 3) == 0);
    mp_msg_destroy (&reply);
    //  And no report reached B's front end.
    fp_events_t events = { 0 };
    ASSERT_EQ (fp_poll (two.front_b, two.run_b, 0, &events), 0);
    s_two_runs_stop (&two);
}

//  Captured traffic sent again, byte for byte, on the same or a new connection.
static void test_replayed_messages_are_dropped (void)
{
    s_two_runs_t two;
    s_two_runs_start (&two, 811, 812);
    fp_peer_t *agent = two.agent;

    //  A BOARD_SET captured on its way, then a newer value, then the capture again.
    zmsg_t *old = fp_encode (agent, "u811", MP_PACK (board_set, .run = two.run_a,
                                                     .key = BYTES ("k"),
                                                     .value = BYTES ("old")));
    zmsg_t *copy = zmsg_dup (old);
    ASSERT_EQ (zmsg_send (&copy, fp_peer_sock (agent)), 0);
    mp_msg_destroy (&(mp_msg_t *) { fp_expect (agent, MP_MSG_OK) });
    ASSERT_EQ (fp_request_ok (agent, "u811", MP_PACK (board_set, .run = two.run_a,
                                                      .key = BYTES ("k"),
                                                      .value = BYTES ("new"))),
               0);
    copy = zmsg_dup (old);
    ASSERT_EQ (zmsg_send (&copy, fp_peer_sock (agent)), 0);
    fp_expect_nothing (agent, FP_QUIET_MS); //  dropped, unanswered
    //  ... and on a connection of its own.
    fp_peer_t *thief = fp_peer_new (EP, "thief");
    ASSERT_EQ (zmsg_send (&old, fp_peer_sock (thief)), 0);
    fp_expect_nothing (thief, FP_QUIET_MS);
    mp_msg_t *reply = fp_request (agent, "u811", MP_PACK (board_get, .run = two.run_a,
                                                          .key = BYTES ("k")));
    mp_value_msg_t value;
    ASSERT_EQ (mp_value_msg_view (reply, &value), MP_OK);
    ASSERT_TRUE (value.value.len == 3 && memcmp (value.value.data, "new", 3) == 0);
    mp_msg_destroy (&reply);

    //  A captured HELLO adds no phantom agent.
    fp_peer_t *joiner = fp_peer_new (EP, "joiner");
    zmsg_t *hello = fp_encode (joiner, NULL, MP_PACK (hello, .name = "joiner", .slots = 8,
                                                      .host = "h"));
    copy = zmsg_dup (hello);
    ASSERT_EQ (zmsg_send (&copy, fp_peer_sock (joiner)), 0);
    mp_msg_destroy (&(mp_msg_t *) { fp_expect (joiner, MP_MSG_WELCOME) });
    uint64_t agents = fp_request_ok (two.front_a, NULL, mp_msg_new (MP_MSG_AGENTS));
    fp_peer_t *phantom = fp_peer_new (EP, "phantom");
    ASSERT_EQ (zmsg_send (&hello, fp_peer_sock (phantom)), 0);
    fp_expect_nothing (phantom, FP_QUIET_MS);
    ASSERT_EQ (fp_request_ok (two.front_a, NULL, mp_msg_new (MP_MSG_AGENTS)), agents);

    fp_peer_destroy (&phantom);
    fp_peer_destroy (&joiner);
    fp_peer_destroy (&thief);
    s_two_runs_stop (&two);
}

static void test_front_end_cannot_speak_for_workers (void)
{
    s_two_runs_t two;
    s_two_runs_start (&two, 901, 0);
    fp_peer_t *front = two.front_a;
    uint64_t run = two.run_a;
    ASSERT_LT (fp_request_error (front, NULL,
                                 MP_PACK (zygote_ready, .run = run, .collected = 1,
                                          .error = "")),
               0);
    ASSERT_LT (fp_request_error (front, "z1", MP_PACK (zygote_ready, .run = run,
                                                        .collected = 1, .error = "")),
               0);
    ASSERT_LT (fp_request_error (front, NULL,
                                 MP_PACK (report, .run = run, .unit = 1, .kind = "logstart",
                                          .test = "t.py::a", .data = BYTES (""))),
               0);
    ASSERT_LT (fp_request_error (front, "u901",
                                 MP_PACK (report, .run = run, .unit = 1, .kind = "logstart",
                                          .test = "t.py::a", .data = BYTES (""))),
               0);
    ASSERT_LT (fp_request_error (front, NULL,
                                 MP_PACK (unit_exit, .run = run, .unit = 1, .pid = 901,
                                          .status = 0)),
               0);
    ASSERT_LT (fp_request_error (front, NULL,
                                 MP_PACK (board_set, .run = run, .key = BYTES ("k"),
                                          .value = BYTES ("v"))),
               0);
    //  Nothing of it reached the run: no events, and the unit still runs.
    fp_events_t events = { 0 };
    ASSERT_EQ (fp_poll (front, run, 0, &events), 0);
    fp_report (two.agent, 901, run, 1, "logstart", "t.py::a");
    ASSERT_EQ (fp_poll (front, run, 0, &events), 1);
    s_assert_event (&events, 0, "logstart", "t.py::a");
    s_two_runs_stop (&two);
}

static void test_front_end_cannot_poll_or_cancel_another_run (void)
{
    s_two_runs_t two;
    s_two_runs_start (&two, 1001, 0);
    ASSERT_EQ (fp_request_error (two.front_b, NULL,
                                 MP_PACK (poll, .run = two.run_a, .after = 0, .wait_ms = 0)),
               MP_EAUTH);
    ASSERT_EQ (fp_request_error (two.front_b, NULL, MP_PACK (cancel, .run = two.run_a)),
               MP_EAUTH);
    //  Run A goes on: its unit reports, its front end polls.
    fp_report (two.agent, 1001, two.run_a, 1, "logstart", "t.py::a");
    fp_events_t events = { 0 };
    ASSERT_EQ (fp_poll (two.front_a, two.run_a, 0, &events), 1);
    s_assert_event (&events, 0, "logstart", "t.py::a");
    s_two_runs_stop (&two);
}

static void test_reports_need_an_announced_unit_process_and_a_unit_kind (void)
{
    s_two_runs_t two;
    s_two_runs_start (&two, 0, 0);
    fp_peer_t *agent = two.agent;
    uint64_t run = two.run_a;
#define REPORT(kind_) MP_PACK (report, .run = run, .unit = 1, .kind = kind_, \
                               .test = "t.py::a", .data = BYTES (""))
    //  Not announced yet: refused.
    ASSERT_EQ (fp_request_error (agent, "u1101", REPORT ("logstart")), MP_EAUTH);
    //  Nor may the zygote or the agent itself report.
    ASSERT_LT (fp_request_error (agent, "z1", REPORT ("logstart")), 0);
    char zygote[MP_PEER_NAME_MAX];
    mp_peer_zygote_name (run, zygote);
    ASSERT_EQ (fp_request_error (agent, zygote, REPORT ("logstart")), MP_EAUTH);
    ASSERT_EQ (fp_request_error (agent, NULL, REPORT ("logstart")), MP_EAUTH);

    //  Announced: kinds a unit does not report are refused, the others taken.
    fp_unit_started (agent, run, 1, 1101);
    ASSERT_EQ (fp_request_error (agent, "u1101", REPORT ("bogus")), MP_EINVAL);
    ASSERT_EQ (fp_request_error (agent, "u1101", REPORT ("")), MP_EINVAL);
    ASSERT_EQ (fp_request_error (agent, "u1101", REPORT ("crash")), MP_EINVAL);
    ASSERT_EQ (fp_request_error (agent, "u1101", REPORT ("done")), MP_EINVAL);
    //  Another unit process may not speak for it.
    ASSERT_EQ (fp_request_error (agent, "u1102", REPORT ("logstart")), MP_EAUTH);
    fp_report (agent, 1101, run, 1, "logstart", "t.py::a");
    fp_report (agent, 1101, run, 1, "warning", "t.py::a");
#undef REPORT
    fp_events_t events = { 0 };
    ASSERT_EQ (fp_poll (two.front_a, run, 0, &events), 2);
    s_assert_event (&events, 0, "logstart", "t.py::a");
    s_assert_event (&events, 1, "warning", "t.py::a");
    s_two_runs_stop (&two);
}

//  A unit process's line: opened through its agent, it serves that process's sync
//  requests straight, in its run only, until its unit ends; lock grants for requests
//  made on it come back on it.
static void test_a_line_serves_only_its_process_while_its_unit_runs (void)
{
    fp_coord_t *coord = fp_coord_start (EP, HEARTBEAT_MS, LONG_EXPIRY_MS);
    fp_peer_t *agent = fp_agent_new (EP, "agent1", 2);
    fp_peer_t *front = fp_peer_new (EP, "front");
    fp_plan_t plan[] = { { 1, NULL, FREE, { "t.py::a", NULL } },
                         { 2, NULL, FREE, { "t.py::b", NULL } } };
    uint64_t run = fp_submit (front, 0, plan, 2);
    fp_agent_join (agent, run);
    ASSERT_EQ (fp_agent_unit (agent, run), 1);
    ASSERT_EQ (fp_agent_unit (agent, run), 2);
    fp_unit_started (agent, run, 1, 1301);
    fp_unit_started (agent, run, 2, 1302);
    char name[MP_PEER_NAME_MAX], other[MP_PEER_NAME_MAX];
    ASSERT_EQ (mp_peer_line_name (name), MP_OK);
    ASSERT_EQ (mp_peer_line_name (other), MP_OK);
    ASSERT_TRUE (mp_peer_is_line (name) && !streq (name, other));
    fp_peer_t *line = fp_peer_new (EP, name);

    //  Not open yet: refused, and nothing is written.
    ASSERT_EQ (fp_request_error (line, name, MP_PACK (board_set, .run = run,
                                                      .key = BYTES ("k"),
                                                      .value = BYTES ("early"))),
               MP_EAUTH);
    //  Opened by the process it is for, for its own unit only.
    ASSERT_EQ (fp_request_error (agent, "u1301", MP_PACK (line_open, .run = run, .unit = 2,
                                                          .line = name, .key = "")),
               MP_EAUTH);
    ASSERT_EQ (fp_request_error (agent, "u1399", MP_PACK (line_open, .run = run, .unit = 1,
                                                          .line = name, .key = "")),
               MP_EAUTH);
    ASSERT_EQ (fp_request_error (agent, "u1301", MP_PACK (line_open, .run = run, .unit = 1,
                                                          .line = "l00", .key = "")),
               MP_EINVAL);
    ASSERT_EQ (fp_request_ok (agent, "u1301", MP_PACK (line_open, .run = run, .unit = 1,
                                                       .line = name, .key = "")),
               1);
    //  Another process may not take the name.
    ASSERT_EQ (fp_request_error (agent, "u1302", MP_PACK (line_open, .run = run, .unit = 2,
                                                          .line = name, .key = "")),
               MP_ESTATE);

    //  Its sync requests go straight, to the same board its relayed ones see.
    ASSERT_EQ (fp_request_ok (line, name, MP_PACK (board_set, .run = run, .key = BYTES ("k"),
                                                   .value = BYTES ("straight"))),
               0);
    mp_msg_t *reply = fp_request (agent, "u1302", MP_PACK (board_get, .run = run,
                                                           .key = BYTES ("k")));
    mp_value_msg_t value;
    ASSERT_EQ (mp_value_msg_view (reply, &value), MP_OK);
    ASSERT_TRUE (value.found && value.value.len == 8
                 && memcmp (value.value.data, "straight", 8) == 0);
    mp_msg_destroy (&reply);
    //  Nothing but sync requests.
    ASSERT_EQ (fp_request_error (line, name, MP_PACK (report, .run = run, .unit = 1,
                                                      .kind = "logstart", .test = "t.py::a",
                                                      .data = BYTES (""))),
               MP_EAUTH);
    //  A name no line has is refused.
    fp_peer_t *stranger = fp_peer_new (EP, other);
    ASSERT_EQ (fp_request_error (stranger, other, MP_PACK (board_get, .run = run,
                                                           .key = BYTES ("k"))),
               MP_EAUTH);

    //  The lock is the process's whichever way it asks: held by u1302, then asked for
    //  on the line, the grant comes on the line, not through the agent.
    ASSERT_EQ (fp_request_ok (agent, "u1302", MP_PACK (lock_acquire, .run = run,
                                                       .name = "mp_lock")),
               1);
    uint64_t asked = fp_send (line, name, MP_PACK (lock_acquire, .run = run,
                                                   .name = "mp_lock"));
    fp_expect_nothing (line, FP_QUIET_MS);
    ASSERT_EQ (fp_request_ok (agent, "u1302", MP_PACK (lock_release, .run = run,
                                                       .name = "mp_lock")),
               0);
    mp_msg_t *grant = fp_expect (line, MP_MSG_OK);
    ASSERT_EQ (mp_msg_reqid (grant), asked);
    mp_msg_destroy (&grant);
    fp_expect_nothing (agent, FP_QUIET_MS);
    //  ... and the process's relayed release frees it.
    ASSERT_EQ (fp_request_ok (agent, "u1301", MP_PACK (lock_release, .run = run,
                                                       .name = "mp_lock")),
               0);

    //  Nothing of another run.
    fp_peer_t *front_b = fp_peer_new (EP, "front-b");
    uint64_t run_b = fp_submit (front_b, 0, plan, 1);
    ASSERT_EQ (fp_request_error (line, name, MP_PACK (board_get, .run = run_b,
                                                      .key = BYTES ("k"))),
               MP_EAUTH);

    //  Its unit ends: the line is closed. (A request on the agent's connection,
    //  answered, shows the end was handled: one connection's messages keep their order.)
    fp_unit_exit (agent, run, 1, 1301, 0);
    mp_msg_destroy (&(mp_msg_t *) { fp_request (agent, "u1302",
                                                MP_PACK (board_get, .run = run,
                                                         .key = BYTES ("k"))) });
    ASSERT_EQ (fp_request_error (line, name, MP_PACK (board_get, .run = run,
                                                      .key = BYTES ("k"))),
               MP_EAUTH);

    fp_peer_destroy (&stranger);
    fp_peer_destroy (&front_b);
    fp_peer_destroy (&line);
    fp_peer_destroy (&front);
    fp_peer_destroy (&agent);
    fp_coord_stop (&coord);
}

static const mp_test_t tests[] = {
    MP_TEST (test_dispatch_fills_slots_then_refills),
    MP_TEST (test_a_reused_process_ends_its_unit_and_runs_another),
    MP_TEST (test_an_early_run_starts_zygotes_before_its_plan),
    MP_TEST (test_isolated_unit_holds_back_other_runs),
    MP_TEST (test_isolated_unit_waits_for_other_runs_to_drain),
    MP_TEST (test_timeout_kills_and_reports_a_crash),
    MP_TEST (test_a_kill_for_a_reused_process_s_last_unit_reruns_its_next),
    MP_TEST (test_a_free_unit_of_several_tests_loses_only_its_crashed_test),
    MP_TEST (test_lost_agent_unit_is_requeued_once),
    MP_TEST (test_host_loss_reruns_from_the_unfinished_test_and_fails_the_second_time),
    MP_TEST (test_a_unit_its_agent_does_not_take_up_is_taken_back),
    MP_TEST (test_a_zygote_death_takes_only_its_agent_out_of_the_run),
    MP_TEST (test_an_agent_that_says_bye_is_gone_at_once),
    MP_TEST (test_cancel_ends_the_run_and_frees_its_slots),
    MP_TEST (test_unit_process_cannot_touch_another_runs_board),
    MP_TEST (test_replayed_messages_are_dropped),
    MP_TEST (test_front_end_cannot_speak_for_workers),
    MP_TEST (test_front_end_cannot_poll_or_cancel_another_run),
    MP_TEST (test_reports_need_an_announced_unit_process_and_a_unit_kind),
    MP_TEST (test_a_line_serves_only_its_process_while_its_unit_runs),
    { NULL, NULL },
};

MP_TEST_MAIN (tests)
