//  Event kinds: what a run's event log holds and a front end replays. A unit
//  process reports the first four (REPORT's `kind`), its zygote relays its uncaptured
//  output (OUTPUT); the coordinator adds the rest.
//  The Python side reads this list through the client library and has one handler
//  per kind (frontend.py checks that it has exactly these).
#ifndef MP_EVENTS_H
#define MP_EVENTS_H

#include "catalogue.h"

//  X (NAME, wire name, who reports it, what it means)
#define MP_EVENT_KINDS(X)                                                                \
    X (LOGSTART, "logstart", MP_ROLE_UNIT, "a test begins")                             \
    X (LOGREPORT, "logreport", MP_ROLE_UNIT, "a phase's report, pytest-serialised")     \
    X (LOGFINISH, "logfinish", MP_ROLE_UNIT, "a test ends")                             \
    X (WARNING, "warning", MP_ROLE_UNIT, "a warning recorded during a test")            \
    X (OUTPUT, "output", MP_ROLE_ZYGOTE, "a unit process's uncaptured output (-s)")     \
    X (CRASH, "crash", MP_ROLE_COORD, "the unit process died in this test: why")        \
    X (ERROR, "error", MP_ROLE_COORD, "a run-level problem, such as a zygote's failure") \
    X (RETRY, "retry", MP_ROLE_COORD,                                                   \
       "the test's host was lost: its partial reports are void, it runs again elsewhere") \
    X (NOTICE, "notice", MP_ROLE_COORD, "something the user should know about the run")  \
    X (DONE, "done", MP_ROLE_COORD, "the run is over: the last event")

typedef enum {
    MP_EVENT_NONE = 0,
#define MP_X_EVENT_ENUM(NAME, wire, role, doc) MP_EVENT_##NAME,
    MP_EVENT_KINDS (MP_X_EVENT_ENUM)
#undef MP_X_EVENT_ENUM
    MP_EVENT_MAX
} mp_event_kind_t;

//  Wire name of a kind; NULL when out of range.
const char *mp_event_name (int kind);
//  The kind of a wire name; MP_EVENT_NONE when unknown.
int mp_event_parse (const char *name);
//  The role that reports a kind (MP_ROLE_UNIT or MP_ROLE_COORD); 0 when out of range.
unsigned mp_event_reporter (int kind);

#endif
