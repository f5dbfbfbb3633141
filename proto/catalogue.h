//  The message catalogue: the one place that says, for every message, its number,
//  the roles that may send it, the run it may touch, and its named, typed fields.
//  Everything else is derived from it: the codec's schemas, the typed views and
//  packers below, the permission checks of both daemons (authz.h), the Python
//  side's named tuples (through the client library) and docs/protocol.md (generated
//  by plugin/pytest_mp/protocol_doc.py, checked by tests/python/test_catalogue.py).
//
//  Field types, one character each:
//    u uint64   i int64   s string (UTF-8, no NUL)   b bytes
//    S list of strings   B list of bytes   U list of uint64
//
//  Scope: MP_SCOPE_NONE touches no run; MP_SCOPE_RUN names a run in its first field
//  `run` and may touch only a run its sender belongs to; MP_SCOPE_UNIT also names a
//  unit in its second field `unit`, which must be the sender's own.
#ifndef MP_CATALOGUE_H
#define MP_CATALOGUE_H

//  Roles, as bits: who may send a message.
#define MP_ROLE_FRONT 0x01  //  a front end: the user's pytest
#define MP_ROLE_AGENT 0x02  //  mp-agent
#define MP_ROLE_ZYGOTE 0x04 //  a run's collected pytest process on an agent
#define MP_ROLE_UNIT 0x08   //  a unit process forked from a zygote
#define MP_ROLE_COORD 0x10  //  mp-coord

typedef enum { MP_SCOPE_NONE = 0, MP_SCOPE_RUN = 1, MP_SCOPE_UNIT = 2 } mp_scope_t;

//  X (NAME, name, number, senders, scope, what it does)
#define MP_MSG_CATALOGUE(X)                                                              \
    X (OK, ok, 1, MP_ROLE_COORD, MP_SCOPE_NONE, "a request succeeded")                 \
    X (ERROR, error, 2, MP_ROLE_COORD, MP_SCOPE_NONE, "a request was refused")         \
    X (HELLO, hello, 3, MP_ROLE_AGENT, MP_SCOPE_NONE, "an agent registers")            \
    X (WELCOME, welcome, 4, MP_ROLE_COORD, MP_SCOPE_NONE, "the agent is registered")    \
    X (HEARTBEAT, heartbeat, 5, MP_ROLE_AGENT | MP_ROLE_COORD, MP_SCOPE_NONE,          \
       "an agent is alive; the coordinator answers in kind")                            \
    X (RUN_START, run_start, 6, MP_ROLE_COORD, MP_SCOPE_NONE,                           \
       "an agent starts a zygote for a run")                                            \
    X (RUN_END, run_end, 7, MP_ROLE_COORD, MP_SCOPE_NONE,                               \
       "a run is over: its zygote leaves, its processes are stopped")                   \
    X (ZYGOTE_READY, zygote_ready, 8, MP_ROLE_ZYGOTE, MP_SCOPE_RUN,                     \
       "a zygote collected (or failed to)")                                             \
    X (UNIT, unit, 9, MP_ROLE_COORD, MP_SCOPE_NONE, "a zygote is to run a unit")         \
    X (UNIT_STARTED, unit_started, 10, MP_ROLE_UNIT, MP_SCOPE_UNIT,                     \
       "a unit process announces itself, before its first report")                      \
    X (UNIT_EXIT, unit_exit, 11, MP_ROLE_ZYGOTE | MP_ROLE_AGENT, MP_SCOPE_UNIT,         \
       "a unit process ended")                                                          \
    X (ZYGOTE_EXIT, zygote_exit, 12, MP_ROLE_AGENT, MP_SCOPE_RUN,                       \
       "a zygote ended before its run did")                                             \
    X (REPORT, report, 13, MP_ROLE_UNIT, MP_SCOPE_UNIT, "an event of a unit's test")    \
    X (SUBMIT, submit, 14, MP_ROLE_FRONT, MP_SCOPE_NONE, "a front end opens a run: OK(run)") \
    X (PLAN_UNIT, plan_unit, 15, MP_ROLE_FRONT, MP_SCOPE_RUN, "one unit of the plan")   \
    X (PLAN_END, plan_end, 16, MP_ROLE_FRONT, MP_SCOPE_RUN,                             \
       "the plan is complete: start it")                                                \
    X (POLL, poll, 17, MP_ROLE_FRONT, MP_SCOPE_RUN, "a long poll for a run's events")   \
    X (EVENTS, events, 18, MP_ROLE_COORD, MP_SCOPE_NONE, "a batch of a run's events")   \
    X (CANCEL, cancel, 19, MP_ROLE_FRONT, MP_SCOPE_RUN,                                 \
       "start nothing more, stop running units")                                        \
    X (BOARD_GET, board_get, 20, MP_ROLE_UNIT, MP_SCOPE_RUN, "read a board key: VALUE") \
    X (BOARD_SET, board_set, 21, MP_ROLE_UNIT, MP_SCOPE_RUN, "write a board key: OK")   \
    X (BOARD_DEL, board_del, 22, MP_ROLE_UNIT, MP_SCOPE_RUN,                            \
       "delete a board key: OK(found)")                                                 \
    X (BOARD_POP, board_pop, 23, MP_ROLE_UNIT, MP_SCOPE_RUN,                            \
       "remove and return a board key: VALUE")                                          \
    X (BOARD_SETDEFAULT, board_setdefault, 24, MP_ROLE_UNIT, MP_SCOPE_RUN,              \
       "set a key unless present: VALUE(existed, stored value)")                        \
    X (BOARD_ITEMS, board_items, 25, MP_ROLE_UNIT, MP_SCOPE_RUN, "the whole board: ITEMS") \
    X (VALUE, value, 26, MP_ROLE_COORD, MP_SCOPE_NONE, "a board value")                 \
    X (ITEMS, items, 27, MP_ROLE_COORD, MP_SCOPE_NONE, "the board's keys and values")   \
    X (LOCK_ACQUIRE, lock_acquire, 28, MP_ROLE_UNIT, MP_SCOPE_RUN,                      \
       "take a lock: OK once granted, FIFO")                                            \
    X (LOCK_RELEASE, lock_release, 29, MP_ROLE_UNIT, MP_SCOPE_RUN,                      \
       "release a lock: OK, or ERROR when not the holder")                              \
    X (TRAIL, trail, 30, MP_ROLE_UNIT, MP_SCOPE_RUN,                                    \
       "a trail's start or finish: OK(1 for the first start or last finish)")           \
    X (KILL, kill, 31, MP_ROLE_COORD, MP_SCOPE_NONE, "an agent kills a timed-out unit") \
    X (AGENTS, agents, 32, MP_ROLE_FRONT, MP_SCOPE_NONE, "how many agents: OK(count)")  \
    X (BYE, bye, 33, MP_ROLE_AGENT, MP_SCOPE_NONE,                                      \
       "an agent leaves: its units go elsewhere at once")                               \
    X (OUTPUT, output, 34, MP_ROLE_ZYGOTE, MP_SCOPE_UNIT,                               \
       "what a unit process wrote to its stdout and stderr, uncaptured (-s)")          \
    X (STATUS, status, 35, MP_ROLE_FRONT, MP_SCOPE_NONE,                                \
       "what is connected and running now: STATUS_INFO")                                \
    X (STATUS_INFO, status_info, 36, MP_ROLE_COORD, MP_SCOPE_NONE,                      \
       "the coordinator's agents and runs, as JSON")                                    \
    X (UNIT_DONE, unit_done, 37, MP_ROLE_UNIT, MP_SCOPE_UNIT,                           \
       "a unit process ended its unit: it leaves, or waits for another (--mp-reuse)")  \
    X (RUN_PLAN, run_plan, 38, MP_ROLE_COORD, MP_SCOPE_NONE,                            \
       "an early run is planned: the agent hands its zygote files and tests to compare") \
    X (LINE_OPEN, line_open, 39, MP_ROLE_UNIT, MP_SCOPE_UNIT,                           \
       "a unit process opens its line: its sync requests may come straight, not relayed")

//  Fields of each message, in wire order: F (NAME, type, field, meaning).
#define MP_FIELDS_OK(F) F (OK, u, value, "meaning depends on the request")
#define MP_FIELDS_ERROR(F) F (ERROR, i, code, "an mp_err_t") F (ERROR, s, reason, "why")
#define MP_FIELDS_HELLO(F)                                                               \
    F (HELLO, s, name, "the agent's name") F (HELLO, u, slots, "unit processes at once") \
    F (HELLO, s, host, "its hostname")                                                  \
    F (HELLO, S, labels, "what it offers: KEY or KEY=VALUE each (mp_requires)")
#define MP_FIELDS_WELCOME(F) F (WELCOME, u, heartbeat_ms, "heartbeat interval")
#define MP_FIELDS_HEARTBEAT(F)
#define MP_FIELDS_RUN_START(F)                                                           \
    F (RUN_START, u, run, "run id") F (RUN_START, s, cwd, "the front end's directory")   \
    F (RUN_START, S, args, "pytest arguments") F (RUN_START, S, env, "extra KEY=VALUE")   \
    F (RUN_START, S, files, "the front end's test files: 'path digest' each")           \
    F (RUN_START, S, tests, "every planned test id: the zygote must have collected them") \
    F (RUN_START, u, early, "1: not planned yet; files and tests come in RUN_PLAN")
#define MP_FIELDS_RUN_END(F) F (RUN_END, u, run, "run id")
#define MP_FIELDS_ZYGOTE_READY(F)                                                        \
    F (ZYGOTE_READY, u, run, "run id") F (ZYGOTE_READY, u, collected, "tests collected") \
    F (ZYGOTE_READY, s, error, "why it cannot run the plan, or empty")
#define MP_FIELDS_UNIT(F)                                                                \
    F (UNIT, u, run, "run id") F (UNIT, u, unit, "unit id") F (UNIT, s, group, "group")  \
    F (UNIT, S, tests, "test ids, in order")                                            \
    F (UNIT, u, slot, "its slot on the agent: 0 to slots-1, held by no other unit")
#define MP_FIELDS_UNIT_STARTED(F)                                                        \
    F (UNIT_STARTED, u, run, "run id") F (UNIT_STARTED, u, unit, "unit id")              \
    F (UNIT_STARTED, u, pid, "the unit process")
#define MP_FIELDS_UNIT_EXIT(F)                                                           \
    F (UNIT_EXIT, u, run, "run id") F (UNIT_EXIT, u, unit, "unit id")                    \
    F (UNIT_EXIT, u, pid, "the unit process")                                           \
    F (UNIT_EXIT, i, status, "exit code, or minus the signal")
#define MP_FIELDS_UNIT_DONE(F)                                                           \
    F (UNIT_DONE, u, run, "run id") F (UNIT_DONE, u, unit, "unit id")                    \
    F (UNIT_DONE, u, pid, "the unit process")
#define MP_FIELDS_ZYGOTE_EXIT(F)                                                         \
    F (ZYGOTE_EXIT, u, run, "run id")                                                    \
    F (ZYGOTE_EXIT, i, status, "exit code, or minus the signal")
#define MP_FIELDS_REPORT(F)                                                              \
    F (REPORT, u, run, "run id") F (REPORT, u, unit, "unit id")                          \
    F (REPORT, s, kind, "an event kind (events.h)") F (REPORT, s, test, "test id")       \
    F (REPORT, b, data, "the event's payload")
#define MP_FIELDS_SUBMIT(F)                                                              \
    F (SUBMIT, s, cwd, "the front end's directory") F (SUBMIT, S, args, "pytest args")   \
    F (SUBMIT, u, units, "units the plan will hold")                                     \
    F (SUBMIT, u, timeout_ms, "per test, 0 for none")                                    \
    F (SUBMIT, S, files, "its test files: 'path digest' each, for agents to compare")    \
    F (SUBMIT, u, wait_ms, "how long a unit may wait for an agent with its labels")       \
    F (SUBMIT, u, early, "1: agents start collecting now, before the plan, unchecked "   \
                         "(units: 0, the plan is what came by PLAN_END)")
#define MP_FIELDS_PLAN_UNIT(F)                                                           \
    F (PLAN_UNIT, u, run, "run id") F (PLAN_UNIT, u, unit, "unit id")                    \
    F (PLAN_UNIT, s, group, "group, empty when ungrouped")                               \
    F (PLAN_UNIT, u, strategy, "an mp_strategy_t") F (PLAN_UNIT, S, tests, "test ids")   \
    F (PLAN_UNIT, S, requires, "labels its agent must have: KEY or KEY=VALUE each")     \
    F (PLAN_UNIT, u, weight_ms, "expected duration from earlier runs; 0: not known")
#define MP_FIELDS_PLAN_END(F)                                                            \
    F (PLAN_END, u, run, "run id")                                                       \
    F (PLAN_END, S, files, "an early run's test files: 'path digest' each")
#define MP_FIELDS_LINE_OPEN(F)                                                           \
    F (LINE_OPEN, u, run, "run id") F (LINE_OPEN, u, unit, "unit id")                    \
    F (LINE_OPEN, s, line, "the name its direct connection gives (mp_peer_line_name)")  \
    F (LINE_OPEN, s, key, "that connection's CURVE public key (Z85), or empty")
#define MP_FIELDS_RUN_PLAN(F)                                                            \
    F (RUN_PLAN, u, run, "run id") F (RUN_PLAN, S, files, "the front end's test files")   \
    F (RUN_PLAN, S, tests, "every planned test id: the zygote must have collected them")
#define MP_FIELDS_POLL(F)                                                                \
    F (POLL, u, run, "run id") F (POLL, u, after, "last event seen")                     \
    F (POLL, u, wait_ms, "longest wait for news")
#define MP_FIELDS_EVENTS(F)                                                              \
    F (EVENTS, u, first, "sequence number of the first") F (EVENTS, S, kinds, "kinds")   \
    F (EVENTS, S, tests, "test ids") F (EVENTS, U, units, "unit ids")                    \
    F (EVENTS, B, data, "payloads")
#define MP_FIELDS_CANCEL(F) F (CANCEL, u, run, "run id")
#define MP_FIELDS_BOARD_GET(F) F (BOARD_GET, u, run, "run id") F (BOARD_GET, b, key, "key")
#define MP_FIELDS_BOARD_SET(F)                                                           \
    F (BOARD_SET, u, run, "run id") F (BOARD_SET, b, key, "key")                         \
    F (BOARD_SET, b, value, "value")
#define MP_FIELDS_BOARD_DEL(F) F (BOARD_DEL, u, run, "run id") F (BOARD_DEL, b, key, "key")
#define MP_FIELDS_BOARD_POP(F) F (BOARD_POP, u, run, "run id") F (BOARD_POP, b, key, "key")
#define MP_FIELDS_BOARD_SETDEFAULT(F)                                                    \
    F (BOARD_SETDEFAULT, u, run, "run id") F (BOARD_SETDEFAULT, b, key, "key")           \
    F (BOARD_SETDEFAULT, b, value, "the default")
#define MP_FIELDS_BOARD_ITEMS(F) F (BOARD_ITEMS, u, run, "run id")
#define MP_FIELDS_VALUE(F)                                                               \
    F (VALUE, u, found, "1 when the key was there") F (VALUE, b, value, "value")
#define MP_FIELDS_ITEMS(F) F (ITEMS, B, keys, "keys") F (ITEMS, B, values, "values")
#define MP_FIELDS_LOCK_ACQUIRE(F)                                                        \
    F (LOCK_ACQUIRE, u, run, "run id") F (LOCK_ACQUIRE, s, name, "lock name")
#define MP_FIELDS_LOCK_RELEASE(F)                                                        \
    F (LOCK_RELEASE, u, run, "run id") F (LOCK_RELEASE, s, name, "lock name")
#define MP_FIELDS_TRAIL(F)                                                               \
    F (TRAIL, u, run, "run id") F (TRAIL, s, name, "trail name")                         \
    F (TRAIL, s, state, "start or finish")
#define MP_FIELDS_KILL(F)                                                                \
    F (KILL, u, run, "run id") F (KILL, u, unit, "unit id") F (KILL, u, pid, "its process")
#define MP_FIELDS_AGENTS(F)
#define MP_FIELDS_BYE(F) F (BYE, s, reason, "why it leaves")
#define MP_FIELDS_STATUS(F)
#define MP_FIELDS_STATUS_INFO(F)                                                         \
    F (STATUS_INFO, b, json, "agents and runs, as JSON (docs/deploy.md)")                \
    F (STATUS_INFO, b, text, "the same, as lines for a person")
#define MP_FIELDS_OUTPUT(F)                                                              \
    F (OUTPUT, u, run, "run id") F (OUTPUT, u, unit, "unit id")                          \
    F (OUTPUT, b, data, "a payload: the worker and the text")

#endif
