//  One submitted test run: its plan (units), their progress, the events the front
//  end polls, each agent's readiness for it, and its sync service and scheduler.
#ifndef MP_RUN_H
#define MP_RUN_H

#include <czmq.h>
#include <stdint.h>

#include "sched.h"
#include "sync.h"

typedef struct {
    uint64_t id;
    char *group;
    int strategy;
    char **tests;
    size_t ntests;
    size_t finished;   //  tests whose logfinish arrived
    //  Its state is the scheduler's (mp_sched_state): run.c keeps only its data.
    char agent[80];    //  key of the agent it was last sent to
    size_t slot;       //  its slot there (mp_agent_table_take_slot) while it holds one
    uint64_t pid;      //  its process, once started
    int requeued;      //  times it lost its host and went back to the queue
    char lost[192];    //  where and why its first attempt was lost ("" when it was not)
    uint64_t sent_ms;  //  when it was last sent to an agent (monotonic)
    uint64_t test_since_ms; //  when its current test began (monotonic), 0 between tests
    int timed_out;     //  killed for exceeding the run's timeout
    int stray_kill;    //  its reused process may get the KILL meant for its last unit
    int64_t status;    //  how its process ended: exit code, or minus the signal
    int reported;      //  some report of it arrived
    char **requires;   //  labels an agent needs to run it (mp_requires), owned
    size_t nrequires;
    void *inflight;    //  its place in its run's inflight list while sent or running
} mp_unit_t;

typedef struct {
    int kind; //  mp_event_kind_t
    char *test;
    uint64_t unit;
    uint8_t *data;
    size_t len;
} mp_event_t;

typedef enum { MP_RUN_PLANNING = 0, MP_RUN_RUNNING, MP_RUN_DONE } mp_run_state_t;

//  Readiness of one agent for one run.
typedef enum {
    MP_READY_NONE = 0, //  not told yet
    MP_READY_STARTING, //  RUN_START sent
    MP_READY_YES,      //  its zygote collected and waits for units
    MP_READY_FAILED    //  its zygote failed; it gets no units of this run
} mp_ready_t;

typedef struct {
    uint64_t id;
    char uid[33];     //  random hex, unique across coordinators: PYTEST_MP_TESTRUN_UID
    int state;        //  mp_run_state_t
    int cancelled;
    int early;        //  its zygotes start at once, collecting while its plan is made
    char *cwd;
    char **args;      //  the front end's pytest arguments, owned
    size_t nargs;
    char **files;     //  the front end's test files, "path digest", owned
    size_t nfiles;
    size_t nunits_announced;
    uint64_t timeout_ms; //  per test, 0 for none
    uint64_t wait_ms;    //  how long a unit may wait for an agent with its labels
    uint64_t started_ms; //  when its plan was complete (monotonic)
    mp_sched_t *sched;
    mp_sync_t *sync;
    zframe_t *front;  //  routing id of the front end that submitted it
    char front_name[128]; //  its name: "fe-HOST-PID-..." (who started the run)
    //  A POLL waiting for events: answered when one arrives or at its deadline.
    zframe_t *poll_route;
    char *poll_from;
    uint64_t poll_reqid;
    uint64_t poll_after;
    uint64_t poll_deadline_ms;
    uint64_t done_ms; //  when it ended (monotonic), for clean-up
    uint64_t front_seen_ms; //  last message from its front end (monotonic)
    //  private
    mp_unit_t **units;
    size_t nunits, cap_units;
    mp_event_t *events;
    size_t nevents, cap_events;
    zhashx_t *ready; //  agent key -> mp_ready_t + 1
    zhashx_t *owners; //  "<agent key>/u<pid>" of a started unit process -> unit id
    //  Owners of reused processes that ended a unit after its KILL was sent: the KILL
    //  may reach them in their next unit (mp_run_note_kill).
    zhashx_t *kills;
    //  Units sent or running (mp_unit_t *, owned by units): what the tick looks at,
    //  rather than every unit of the plan.
    zlistx_t *inflight;
    size_t nrequiring; //  units that need agent labels (mp_requires)
} mp_run_t;

//  A new run in the planning state; NULL on no memory. grant and arg go to the sync
//  service (lock grants to waiters).
mp_run_t *mp_run_new (uint64_t id, const char *cwd, zframe_t *front, mp_sync_grant_fn *grant,
                      void *arg);
void mp_run_destroy (mp_run_t **self_p);

//  Copies the front end's pytest arguments. MP_OK or MP_ENOMEM.
int mp_run_set_args (mp_run_t *self, const char *const *args, size_t nargs);
//  Copies the front end's test-file fingerprints. MP_OK or MP_ENOMEM.
int mp_run_set_files (mp_run_t *self, const char *const *files, size_t nfiles);

//  Adds a planned unit (copies everything). MP_OK, or with a reason in err: MP_ESTATE
//  (no longer planning), MP_EINVAL (no tests, a unit id planned twice, a strategy the
//  scheduler refuses) or MP_ENOMEM.
int mp_run_add_unit (mp_run_t *self, uint64_t id, const char *group, int strategy,
                     const char *const *tests, size_t ntests, char *err, size_t errlen);
//  A unit was sent to an agent, or left its slot: in or out of the inflight list.
int mp_run_inflight_add (mp_run_t *self, mp_unit_t *unit);
void mp_run_inflight_remove (mp_run_t *self, mp_unit_t *unit);
//  The unit with this id; NULL when none.
mp_unit_t *mp_run_unit (mp_run_t *self, uint64_t id);
//  Unit by position in plan order; NULL past the last.
mp_unit_t *mp_run_unit_at (mp_run_t *self, size_t index);
size_t mp_run_nunits (const mp_run_t *self);

//  Appends an event (copies); its sequence number is the new event count. MP_OK or
//  MP_ENOMEM.
int mp_run_add_event (mp_run_t *self, int kind, const char *test, uint64_t unit,
                      const void *data, size_t len);
size_t mp_run_nevents (const mp_run_t *self);
//  Event by sequence number, 1 <= seq <= nevents; NULL otherwise.
const mp_event_t *mp_run_event (const mp_run_t *self, size_t seq);

//  The unit a started unit process runs, by its sync-service owner name: bound when
//  it announces itself, unbound when it is gone. Binding gives MP_OK, or MP_ESTATE when
//  the owner is bound already. The lookup gives NULL for a process not of this run.
int mp_run_bind_owner (mp_run_t *self, const char *owner, uint64_t unit);
void mp_run_unbind_owner (mp_run_t *self, const char *owner);
mp_unit_t *mp_run_owner_unit (mp_run_t *self, const char *owner);

//  A KILL went to the owner's process for a unit it then ended itself (UNIT_DONE):
//  noted, and taken (1, forgotten) when the process announces its next unit.
int mp_run_note_kill (mp_run_t *self, const char *owner);
int mp_run_take_kill (mp_run_t *self, const char *owner);

int mp_run_ready (mp_run_t *self, const char *agent_key);
void mp_run_set_ready (mp_run_t *self, const char *agent_key, int ready);

#endif
