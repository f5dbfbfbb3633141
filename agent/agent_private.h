//  State and helpers shared by the agent's files: the reactor (agent.c), its runs and
//  processes (runs.c) and what its local peers, zygotes and unit processes, send
//  (local_peers.c).
#ifndef MP_AGENT_PRIVATE_H
#define MP_AGENT_PRIVATE_H

#include <signal.h>
#include <sys/types.h>

#include "../common/clock.h"
#include "../common/error.h"
#include "../common/log.h"
#include "../proto/peer.h"
#include "../proto/sender.h"
#include "../proto/wire.h"
#include "agent.h"

typedef struct {
    uint64_t id;
    pid_t zygote; //  0 once reaped
    int ended;    //  RUN_END received (or the coordinator was lost)
    uint64_t kill_at_ms; //  an ended run's zygote still there then is killed (monotonic)
    char log_path[600];
    char checkout_path[600]; //  what its zygote compares with its own checkout
} mp_agent_run_t;

typedef struct {
    pid_t pid;
    uint64_t run, unit;
} mp_agent_proc_t;

struct mp_agentd_t {
    mp_agent_config_t config;
    zloop_t *loop;
    zsock_t *coord;
    zsock_t *local;
    char rundir[256];    //  its private directory (rundir.c)
    int rundir_lock;     //  held open and flocked for its life: it is in use
    char local_endpoint[300];
    int sigfd;
    sigset_t orig_mask;
    int registered;
    uint64_t heartbeat_ms;
    uint64_t last_heard_ms;
    uint64_t last_hello_ms;
    uint64_t last_beat_ms;
    uint64_t hello_backoff_ms;
    uint64_t unregistered_ms;    //  since when no coordinator answered (monotonic)
    uint64_t silence_warn_ms;    //  say so when unanswered this long; doubles
    uint64_t last_stray_scan_ms;
    zlistx_t *runs;   //  of mp_agent_run_t
    zlistx_t *procs;  //  of mp_agent_proc_t: unit processes by pid
    uint64_t dropped;
    int failed;          //  it stops because it cannot go on (not asked to)
    mp_sender_t sender;  //  its session and sequence on the wire
    mp_replay_t *replay; //  the coordinator's and local peers' sessions seen
};

//  Makes the agent's private directory and locks it (MP_OK, or MP_EIO with why in
//  err); removes it; removes those of ours that agents killed before us left.
int mp_agentd_rundir_make (mp_agentd_t *self, char *err, size_t errlen);
void mp_agentd_rundir_remove (mp_agentd_t *self);
void mp_agentd_rundir_sweep (mp_agentd_t *self);

//  Signs and sends msg to the coordinator (taking it). MP_OK, or a code of mp_wire_send
//  or MP_ENOMEM when msg is NULL (logged).
int mp_agentd_send_coord (mp_agentd_t *self, mp_msg_t **msg_p);

//  Runs and unit processes (runs.c).
//  Lookups: NULL when none.
mp_agent_run_t *mp_agentd_find_run (mp_agentd_t *self, uint64_t id);
mp_agent_proc_t *mp_agentd_find_proc (mp_agentd_t *self, pid_t pid);
void mp_agentd_forget_proc (mp_agentd_t *self, pid_t pid);
//  Kills a run's whole process group: its zygote and every unit process.
void mp_agentd_kill_run (mp_agentd_t *self, mp_agent_run_t *run);
//  Removes the files an agent keeps for a run (its zygote's log, its checkout).
void mp_agentd_remove_run_files (mp_agent_run_t *run);
//  Forgets an ended run once its zygote and units are all reaped.
void mp_agentd_drop_run_if_idle (mp_agentd_t *self, mp_agent_run_t *run);
//  RUN_END: the run's unit processes are stopped, its zygote is told to leave, and
//  killed with its process group if it is still there after a grace period.
void mp_agentd_end_run (mp_agentd_t *self, mp_agent_run_t *run);
//  The parent pid of a process, from /proc, into *parent. MP_OK, or MP_EIO when it
//  cannot be read.
int mp_agentd_parent_of (pid_t pid, pid_t *parent);
//  Every process a run starts has this in its environment (with PYTEST_MP_RUN_ID),
//  unless it scrubs it: how an agent knows whose a stray process is.
#define MP_AGENT_PID_ENV "PYTEST_MP_AGENT_PID"

//  How long the first HELLO waits for the connection to the coordinator.
#define MP_FIRST_HELLO_WAIT_MS 200

//  Kills processes left by runs that are over, wherever they were reparented (daemons
//  that left their process group included): those whose environment names this
//  agent and a run that ended or that it does not know, and those of an agent that
//  is gone.
void mp_agentd_kill_strays (mp_agentd_t *self);
//  Kills the zygotes of ended runs whose grace period is over.
void mp_agentd_enforce_grace (mp_agentd_t *self, uint64_t now);
//  Waits, until the monotonic until_ms at the latest, for the zygotes of ended runs
//  to leave, reaping them.
void mp_agentd_wait_zygotes (mp_agentd_t *self, uint64_t until_ms);
//  Kills a run and forgets it and its processes at once.
void mp_agentd_discard_run (mp_agentd_t *self, mp_agent_run_t *run);
//  RUN_START: spawns the run's zygote.
void mp_agentd_start_run (mp_agentd_t *self, mp_msg_t *msg);
//  RUN_PLAN: an early run's files and tests, written for its zygote to compare.
void mp_agentd_plan_run (mp_agentd_t *self, mp_msg_t *msg);
//  A child was reaped: a zygote or an orphaned unit process, reported.
void mp_agentd_reaped (mp_agentd_t *self, pid_t pid, int wstatus);
//  The zygote made ready by the front end (--zygote-ready) is no longer ours to hand
//  a run: its socket is closed. Handed over, gone, or about to be killed.
void mp_agentd_forget_ready_zygote (mp_agentd_t *self);

//  Reader of the local socket: checks, notes and relays local peers' messages
//  (local_peers.c).
int mp_agentd_on_local (zloop_t *loop, zsock_t *reader, void *arg);

#endif
