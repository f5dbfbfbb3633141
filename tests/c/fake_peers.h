//  Fake peers for the daemons' tests: signed DEALER connections that play agents,
//  front ends, zygotes and unit processes against a real coordinator serving in a
//  thread of the test's process. Every receive has a time limit; the helpers named
//  fp_expect* fail the test (testing.h) when what arrives is not what they expect.
//
//  czmq is initialised by fp_coord_start (or fp_init): inside the test, never in main(),
//  since a forked test child has none of its parent's threads.
#ifndef MP_FAKE_PEERS_H
#define MP_FAKE_PEERS_H

#include <czmq.h>

#include "common/error.h"
#include "coordinator/sched.h"
#include "proto/events.h"
#include "proto/peer.h"
#include "proto/sender.h"
#include "proto/wire.h"

//  The key every fake peer and daemon of the tests signs with.
extern const mp_key_t fp_key;

//  czmq, once per test process.
void fp_init (void);

//  Receive limits that a test waits at most: a message that should come comes well
//  within FP_WAIT_MS; one that should not is waited for FP_QUIET_MS.
#define FP_WAIT_MS 5000
#define FP_QUIET_MS 300

//  A coordinator on endpoint, serving in a thread of this process until stopped.
typedef struct fp_coord_t fp_coord_t;
fp_coord_t *fp_coord_start (const char *endpoint, uint64_t heartbeat_ms, uint64_t expiry_ms);
//  The same, with units sent but not started taken back after unit_ack_ms.
fp_coord_t *fp_coord_start_ack (const char *endpoint, uint64_t heartbeat_ms,
                                uint64_t expiry_ms, uint64_t unit_ack_ms);
//  Stops its reactor, joins its thread and frees it.
void fp_coord_stop (fp_coord_t **self_p);

//  One connection, its routing id its name.
typedef struct fp_peer_t fp_peer_t;
fp_peer_t *fp_peer_new (const char *endpoint, const char *name);
void fp_peer_destroy (fp_peer_t **self_p);
const char *fp_peer_name (const fp_peer_t *self);
//  Its socket, for frames built by hand.
zsock_t *fp_peer_sock (fp_peer_t *self);

//  Signs and sends msg (taken) as the sender `from` (NULL: the peer's own name), with
//  a request id of its own; returns that request id.
uint64_t fp_send (fp_peer_t *self, const char *from, mp_msg_t *msg);
//  The signed frames fp_send would send (its next request id and sequence number), for
//  a test to send, and send again, on any socket. The caller owns them.
zmsg_t *fp_encode (fp_peer_t *self, const char *from, mp_msg_t *msg);
//  The next message that is not a HEARTBEAT (the caller owns it), or NULL when none
//  comes within timeout_ms. Fake agents keep beating meanwhile.
mp_msg_t *fp_recv (fp_peer_t *self, int timeout_ms);
//  The next message, which must be of this type (FP_WAIT_MS at most).
mp_msg_t *fp_expect (fp_peer_t *self, int type);
//  Nothing but heartbeats arrives for ms.
void fp_expect_nothing (fp_peer_t *self, int ms);
//  Sends msg as from and waits for the answer to it (FP_WAIT_MS at most); messages
//  that arrive meanwhile are kept for fp_recv, in order.
mp_msg_t *fp_request (fp_peer_t *self, const char *from, mp_msg_t *msg);
//  fp_request, whose answer must be OK: its value.
uint64_t fp_request_ok (fp_peer_t *self, const char *from, mp_msg_t *msg);
//  fp_request, whose answer must be ERROR: its code.
int64_t fp_request_error (fp_peer_t *self, const char *from, mp_msg_t *msg);

//  A fake agent: says HELLO with slots, gets WELCOME, and from then on heartbeats
//  whenever a test waits for any peer, until silenced.
fp_peer_t *fp_agent_new (const char *endpoint, const char *name, uint64_t slots);
void fp_agent_silence (fp_peer_t *agent);
//  RUN_START of run arrives (the next message); the run's zygote answers ZYGOTE_READY.
void fp_agent_join (fp_peer_t *agent, uint64_t run);
//  The next message is a UNIT of run for its zygote: its unit id.
uint64_t fp_agent_unit (fp_peer_t *agent, uint64_t run);
//  The slot the last of those UNITs named.
uint64_t fp_agent_last_slot (const fp_peer_t *agent);
//  The same, also checking the test ids it carries (a NULL-ended list).
uint64_t fp_agent_unit_tests (fp_peer_t *agent, uint64_t run, const char *const *tests);
//  The unit process pid of a unit announces itself (UNIT_STARTED, as u<pid>).
void fp_unit_started (fp_peer_t *agent, uint64_t run, uint64_t unit, uint64_t pid);
//  The unit process reports an event (as u<pid>), which must be answered OK.
void fp_report (fp_peer_t *agent, uint64_t pid, uint64_t run, uint64_t unit, const char *kind,
                const char *test);
//  The run's zygote says the unit process ended (UNIT_EXIT, as z<run>).
void fp_unit_exit (fp_peer_t *agent, uint64_t run, uint64_t unit, uint64_t pid,
                   int64_t status);
//  A unit process ends its unit itself (UNIT_DONE, as u<pid>).
void fp_unit_done (fp_peer_t *agent, uint64_t run, uint64_t unit, uint64_t pid);
//  One test of a unit that passes: logstart, logreport and logfinish.
void fp_test_passes (fp_peer_t *agent, uint64_t pid, uint64_t run, uint64_t unit,
                     const char *test);
//  A whole unit that passes: announced, fp_test_passes for each test (a NULL-ended
//  list), exit 0.
void fp_unit_passes (fp_peer_t *agent, uint64_t run, uint64_t unit, uint64_t pid,
                     const char *const *tests);

//  A front end's plan: one unit.
typedef struct {
    uint64_t id;
    const char *group; //  NULL: ungrouped
    int strategy;      //  mp_strategy_t
    const char *tests[4]; //  NULL-ended
} fp_plan_t;

//  SUBMIT, PLAN_UNIT for each unit, PLAN_END, each answered OK: the run id.
uint64_t fp_submit (fp_peer_t *front, uint64_t timeout_ms, const fp_plan_t *units,
                    size_t nunits);

//  A run's events as the front end received them, in order.
#define FP_EVENTS_MAX 64
typedef struct {
    size_t count;
    char kind[FP_EVENTS_MAX][16];
    char test[FP_EVENTS_MAX][64];
    uint64_t unit[FP_EVENTS_MAX];
    char data[FP_EVENTS_MAX][256];
} fp_events_t;

//  POLLs the run for events after those already in events, and adds what comes back
//  (at most wait_ms of waiting on the coordinator's side); how many were added.
size_t fp_poll (fp_peer_t *front, uint64_t run, uint64_t wait_ms, fp_events_t *events);
//  Polls until the "done" event arrived (FP_WAIT_MS at most).
void fp_poll_until_done (fp_peer_t *front, uint64_t run, fp_events_t *events);

#endif
