//  State and helpers shared by the coordinator's message handlers.
#ifndef MP_COORD_PRIVATE_H
#define MP_COORD_PRIVATE_H

#include "../common/error.h"
#include "../common/log.h"
#include "../proto/events.h"
#include "../proto/peer.h"
#include "../proto/sender.h"
#include "../proto/wire.h"
#include "agent_table.h"
#include "curve_auth.h"
#include "lines.h"
#include "peer_limits.h"
#include "run.h"
#include "coord.h"

struct mp_coord_t {
    mp_coord_config_t config;
    zsock_t *router;
    zloop_t *loop;
    mp_agent_table_t *agents;
    zlistx_t *runs; //  of mp_run_t, submission order
    uint64_t next_run;
    uint64_t dropped; //  messages refused: bad signature, malformed, stale
    mp_peer_limits_t *limits; //  connections that send bad input
    mp_sender_t sender;       //  its session and sequence on the wire
    mp_replay_t *replay;      //  senders' sessions seen
    mp_curve_auth_t *curve;   //  NULL without CURVE
    mp_lines_t *lines;        //  unit processes' open lines
};

//  The request being handled: who sent it, with what rights, about what, and how to
//  answer. Handlers see only requests the catalogue allows (coord.c checks them), with
//  run and unit resolved for scoped messages.
typedef struct {
    zframe_t *route;         //  routing id of the connection (agent or front end)
    zframe_t *frame;         //  a frame of the message: the connection's properties
    mp_agent_entry_t *agent; //  the agent behind that connection, or NULL
    mp_msg_t *msg;
    unsigned role;           //  MP_ROLE_* of the sender
    mp_peer_t peer;          //  a zygote's or unit process's role and id
    char owner[MP_PEER_OWNER_MAX]; //  a zygote's or unit process's sync-service name
    mp_run_t *run;           //  the run a scoped message names
    mp_unit_t *unit;         //  the unit a unit-scoped message names
    mp_line_t *line;         //  the line it came on, NULL when relayed or a front end's
} mp_request_t;

//  A handler of one message type (or of several, for the sync service).
typedef void (mp_handler_fn) (mp_coord_t *self, mp_request_t *req);

//  Replies to a request (to its sender, through its connection). Takes msg.
void mp_coord_reply (mp_coord_t *self, const mp_request_t *req, mp_msg_t **msg_p);
//  Sends msg to a route, for the named local recipient (may be ""). Takes msg.
void mp_coord_send (mp_coord_t *self, zframe_t *route, const char *to, uint64_t reqid,
                    mp_msg_t **msg_p);
void mp_coord_reply_ok (mp_coord_t *self, const mp_request_t *req, uint64_t value);
void mp_coord_reply_error (mp_coord_t *self, const mp_request_t *req, int code,
                           const char *fmt, ...) __attribute__ ((format (printf, 4, 5)));

mp_run_t *mp_coord_find_run (mp_coord_t *self, uint64_t id);

//  A unit leaves its agent's slot: it ended (requeue 0) or goes back to the queue
//  (requeue 1). Through the scheduler, which owns its state; the slot is given back
//  exactly when the scheduler says the unit held one. Its process's locks and trail
//  starts are released either way. MP_OK, or the scheduler's code (MP_ESTATE when it
//  held no slot).
int mp_coord_unit_off_slot (mp_coord_t *self, mp_run_t *run, mp_unit_t *unit, int requeue);
//  1 when the unit is sent or running.
int mp_coord_unit_active (const mp_run_t *run, const mp_unit_t *unit);

//  Starts whatever units may start now, on every agent and run.
void mp_coord_dispatch (mp_coord_t *self);
//  The same after a unit of agent ended (NULL: not known): only that agent's slots,
//  when no isolation barrier can have moved.
void mp_coord_dispatch_freed (mp_coord_t *self, mp_agent_entry_t *agent);
//  Tells an agent about every running run it has not been told of.
void mp_coord_offer_runs (mp_coord_t *self, mp_agent_entry_t *agent);
//  Every test of the run's plan, in plan order (borrowed strings; the array is the
//  caller's to free), or NULL when out of memory.
const char **mp_coord_planned_tests (mp_run_t *run, size_t *count);
//  An agent is gone: its units go back to the queue (once) or fail.
void mp_coord_agent_lost (mp_coord_t *self, mp_agent_entry_t *agent, const char *why);
//  Appends an event to a run and answers its waiting poll.
void mp_coord_event (mp_coord_t *self, mp_run_t *run, int kind, const char *test,
                     uint64_t unit, const void *data, size_t len);
//  Answers the run's waiting poll when events are there or its deadline passed.
void mp_coord_answer_poll (mp_coord_t *self, mp_run_t *run, int force);

//  A unit sent to an agent whose process has not announced itself this long after is
//  taken back and runs elsewhere.
#define MP_UNIT_ACK_MS 10000

//  A front end polls at least this often while its run is on; silent longer, it is gone.
#define MP_FRONT_SILENCE_MS 60000

//  The run's front end is gone: nothing more starts, running units are stopped, and
//  the run is forgotten once over.
void mp_coord_abandon_run (mp_coord_t *self, mp_run_t *run);
//  Removes a run (the pointer becomes invalid). Not while iterating the runs.
void mp_coord_forget_run (mp_coord_t *self, mp_run_t *run);

//  Kills, through their agents, the unit processes whose test ran past the run's timeout.
void mp_coord_enforce_timeouts (mp_coord_t *self);

//  The run is over: no unit queued or running, or it was cancelled (coord_runs.c).
void mp_coord_finish_run (mp_coord_t *self, mp_run_t *run);

//  Handlers, by the message they take (msg is still owned by the caller).
mp_handler_fn mp_coord_on_submit, mp_coord_on_plan_unit, mp_coord_on_plan_end,
    mp_coord_on_cancel, mp_coord_on_poll, mp_coord_on_zygote_ready, mp_coord_on_report,
    mp_coord_on_unit_started, mp_coord_on_unit_exit, mp_coord_on_unit_done, mp_coord_on_output, mp_coord_on_zygote_exit,
    mp_coord_on_sync, mp_coord_on_status;
//  A unit process opens its line (coord_lines.c).
mp_handler_fn mp_coord_on_line_open;
//  Binds a request that came straight on a line to the line's process (coord_lines.c):
//  MP_OK, or MP_EAUTH with why in err (the process may send it relayed instead).
int mp_coord_authorise_line (mp_coord_t *self, mp_request_t *req, char *err, size_t errlen);
//  The process of owner is gone, or its run ended: its line closes.
void mp_coord_close_line (mp_coord_t *self, const char *owner);
void mp_coord_close_run_lines (mp_coord_t *self, uint64_t run);
//  Lock grant callback for every run's sync service (arg is the coordinator).
void mp_coord_on_grant (void *arg, const char *lock, const char *owner, uint64_t token);

#endif
