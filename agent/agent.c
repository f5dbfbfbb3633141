//  The agent: registers with the coordinator, starts a zygote per run, relays
//  units down and reports up, reaps every process it started (it is their
//  subreaper) and says how each ended. This file holds the reactor and the link to
//  the coordinator.
#include <errno.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent_private.h"
#include "../proto/reconnect.h"

#define MP_COORD_SILENCE_MS 8000 //  no word from the coordinator this long: it is gone
#define MP_HELLO_RETRY_MS 50 //  first retry; doubles up to 8 s
#define MP_SILENCE_WARN_MS 5000 //  unanswered this long, the agent says so

static void s_free_item (void **item)
{
    free (*item);
    *item = NULL;
}

int mp_agentd_send_coord (mp_agentd_t *self, mp_msg_t **msg_p)
{
    char err[256];
    int rc = MP_ENOMEM; //  the message could not be built
    if (*msg_p) {
        mp_msg_set_from (*msg_p, self->config.name);
        mp_sender_stamp (&self->sender, *msg_p);
        rc = mp_wire_send (self->coord, NULL, *msg_p, &self->config.key, err, sizeof err);
        if (rc != MP_OK)
            mp_debug ("cannot send %s: %s", mp_msg_name (mp_msg_type (*msg_p)), err);
    }
    mp_msg_destroy (msg_p);
    return rc;
}

static void s_send_hello (mp_agentd_t *self)
{
    mp_msg_t *hello = MP_PACK (hello, .name = self->config.name, .slots = self->config.slots,
                               .host = self->config.hostname,
                               .labels = { self->config.labels, self->config.nlabels });
    self->last_hello_ms = mp_clock_mono_ms ();
    mp_agentd_send_coord (self, &hello);
}

//  A message from the coordinator: for a local worker (relayed verbatim) or for us.
static int s_on_coord (zloop_t *loop, zsock_t *reader, void *arg)
{
    (void) loop;
    mp_agentd_t *self = (mp_agentd_t *) arg;
    zmsg_t *zmsg = zmsg_recv (reader);
    if (!zmsg)
        return zsys_interrupted ? -1 : 0;
    char err[256];
    mp_msg_t *msg = NULL;
    if (mp_wire_receive (zmsg, &self->config.key, self->replay, &msg, err, sizeof err)
        != MP_OK) {
        self->dropped++;
        mp_warn_limited ("dropped message from the coordinator: %s", err);
        zmsg_destroy (&zmsg);
        return 0;
    }
    self->last_heard_ms = mp_clock_mono_ms ();
    const char *to = mp_msg_to (msg);
    if (*to && !streq (to, self->config.name)) {
        //  For a worker: its routing id is its name.
        if (zmsg_pushstr (zmsg, to) != 0 || zmsg_send (&zmsg, self->local) != 0)
            mp_warn ("cannot relay %s to %s: %s", mp_msg_name (mp_msg_type (msg)), to,
                     zmq_strerror (zmq_errno ()));
    }
    else {
        switch (mp_msg_type (msg)) {
        case MP_MSG_WELCOME: {
            mp_welcome_msg_t welcome;
            mp_welcome_msg_view (msg, &welcome);
            self->registered = 1;
            self->hello_backoff_ms = MP_HELLO_RETRY_MS;
            self->silence_warn_ms = MP_SILENCE_WARN_MS;
            self->heartbeat_ms = welcome.heartbeat_ms ? welcome.heartbeat_ms : 1000;
            mp_info ("registered with %s: %zu slots", self->config.connect,
                     self->config.slots);
            break;
        }
        case MP_MSG_ERROR: {
            mp_error_msg_t error;
            mp_error_msg_view (msg, &error);
            if (error.code == MP_ENOENT && self->registered) {
                mp_warn ("the coordinator forgot us: registering again");
                self->registered = 0;
                self->unregistered_ms = mp_clock_mono_ms ();
                for (mp_agent_run_t *run = (mp_agent_run_t *) zlistx_first (self->runs); run;
                     run = (mp_agent_run_t *) zlistx_next (self->runs))
                    mp_agentd_kill_run (self, run);
                s_send_hello (self);
            }
            else
                mp_warn ("coordinator: %s", error.reason);
            break;
        }
        case MP_MSG_RUN_START:
            mp_agentd_start_run (self, msg);
            break;
        case MP_MSG_RUN_PLAN:
            mp_agentd_plan_run (self, msg);
            break;
        case MP_MSG_KILL: {
            //  Only a unit process of ours, of that run and unit: never any pid it names.
            mp_kill_msg_t order;
            mp_kill_msg_view (msg, &order);
            pid_t pid = (pid_t) order.pid;
            mp_agent_proc_t *proc = mp_agentd_find_proc (self, pid);
            if (proc && (uint64_t) pid == order.pid && proc->run == order.run
                && proc->unit == order.unit)
                kill (pid, SIGKILL);
            else
                mp_warn ("refused to kill pid %" PRIu64 ": not a unit process of ours",
                         order.pid);
            break;
        }
        case MP_MSG_RUN_END: {
            mp_run_end_msg_t end;
            mp_run_end_msg_view (msg, &end);
            mp_agent_run_t *run = mp_agentd_find_run (self, end.run);
            if (run)
                mp_agentd_end_run (self, run);
            break;
        }
        default:
            break;
        }
    }
    mp_msg_destroy (&msg);
    zmsg_destroy (&zmsg);
    return 0;
}

static int s_on_signal (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    (void) loop;
    (void) item;
    mp_agentd_t *self = (mp_agentd_t *) arg;
    struct signalfd_siginfo info;
    int stop = 0;
    while (read (self->sigfd, &info, sizeof info) == (ssize_t) sizeof info)
        if (info.ssi_signo == SIGTERM || info.ssi_signo == SIGINT)
            stop = (int) info.ssi_signo;
    int wstatus;
    pid_t pid;
    while ((pid = waitpid (-1, &wstatus, WNOHANG)) > 0)
        mp_agentd_reaped (self, pid, wstatus);
    if (stop && self->registered) {
        //  Leaving, not lost: the coordinator sends our units elsewhere at once. The
        //  socket lingers so that the goodbye leaves before it is closed.
        mp_msg_t *bye = MP_PACK (bye, .reason = stop == SIGTERM ? "SIGTERM" : "SIGINT");
        mp_agentd_send_coord (self, &bye);
        zsock_set_linger (self->coord, 1000);
    }
    return stop ? -1 : 0;
}

//  A new connection to the coordinator. Sends fail at once rather than queue while
//  it is down: hellos are retried, and nothing stale arrives after a reconnect.
static zsock_t *s_connect_coord (const mp_agent_config_t *config, char *err, size_t errlen)
{
    const char *endpoint = config->connect;
    zsock_t *sock = zsock_new (ZMQ_DEALER);
    if (!sock) {
        mp_set_error (err, errlen, "out of memory");
        return NULL;
    }
    if (*config->coord_public) {
        //  The coordinator proves it holds its key; we prove we hold ours.
        zsock_set_curve_serverkey (sock, config->coord_public);
        zsock_set_curve_publickey (sock, config->curve_public);
        zsock_set_curve_secretkey (sock, config->curve_secret);
    }
    zsock_set_immediate (sock, 1);
    zsock_set_sndtimeo (sock, 0);
    zsock_set_linger (sock, 0);
    zsock_set_maxmsgsize (sock, (int) mp_limits_default.max_body);
    zsock_set_reconnect_ivl (sock, MP_RECONNECT_FIRST_MS);
    zsock_set_reconnect_ivl_max (sock, MP_RECONNECT_MAX_MS);
    if (zsock_connect (sock, "%s", endpoint) == -1) {
        mp_set_error (err, errlen, "cannot connect to %s: %s", endpoint,
                      zmq_strerror (zmq_errno ()));
        zsock_destroy (&sock);
    }
    return sock;
}

static int s_on_tick (zloop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    mp_agentd_t *self = (mp_agentd_t *) arg;
    uint64_t now = mp_clock_mono_ms ();
    if (now - self->last_stray_scan_ms >= 1000) {
        self->last_stray_scan_ms = now;
        mp_agentd_kill_strays (self);
    }
    if (!self->registered) {
        if (now - self->last_hello_ms >= self->hello_backoff_ms) {
            s_send_hello (self);
            if (self->hello_backoff_ms < 8000)
                self->hello_backoff_ms *= 2;
        }
        if (now - self->unregistered_ms >= self->silence_warn_ms) {
            //  Wrong keys get no answer at all: the coordinator drops what it cannot
            //  verify. Said again less and less often while it lasts.
            mp_warn ("no answer from %s for %" PRIu64 " s: is mp-coord running there, "
                     "reachable, and using the same key? retrying",
                     self->config.connect, (now - self->unregistered_ms) / 1000);
            self->silence_warn_ms = self->silence_warn_ms < 60000 ? self->silence_warn_ms * 2
                                                                  : 120000;
        }
        return 0;
    }
    if (now - self->last_heard_ms > MP_COORD_SILENCE_MS) {
        //  The coordinator is gone: stop zygotes and units, start over on a new socket.
        mp_warn ("no word from the coordinator for %d ms: stopping zygotes, reconnecting",
                 MP_COORD_SILENCE_MS);
        for (mp_agent_run_t *run = (mp_agent_run_t *) zlistx_first (self->runs); run;
             run = (mp_agent_run_t *) zlistx_next (self->runs))
            mp_agentd_kill_run (self, run);
        self->registered = 0;
        self->unregistered_ms = now;
        zloop_reader_end (self->loop, self->coord);
        zsock_destroy (&self->coord);
        char err[256];
        self->coord = s_connect_coord (&self->config, err, sizeof err);
        if (!self->coord || zloop_reader (self->loop, self->coord, s_on_coord, self) != 0) {
            mp_error ("cannot reconnect: %s", self->coord ? "reactor refused" : err);
            self->failed = 1; //  a failure: a supervisor restarts it
            return -1;
        }
        self->hello_backoff_ms = MP_HELLO_RETRY_MS;
        self->last_hello_ms = now;
        return 0;
    }
    mp_agentd_enforce_grace (self, now);
    mp_replay_expire (self->replay, now);
    if (now - self->last_beat_ms >= self->heartbeat_ms) {
        mp_msg_t *beat = mp_msg_new (MP_MSG_HEARTBEAT);
        mp_agentd_send_coord (self, &beat);
        self->last_beat_ms = now;
    }
    return 0;
}

mp_agentd_t *mp_agentd_new (const mp_agent_config_t *config, char *err, size_t errlen)
{
    mp_agentd_t *self = (mp_agentd_t *) calloc (1, sizeof *self);
    if (!self) {
        mp_set_error (err, errlen, "out of memory");
        return NULL;
    }
    self->config = *config;
    self->sigfd = -1;
    self->rundir_lock = -1;
    self->heartbeat_ms = 1000;
    self->hello_backoff_ms = MP_HELLO_RETRY_MS;
    self->silence_warn_ms = MP_SILENCE_WARN_MS;
    self->unregistered_ms = mp_clock_mono_ms ();
    //  Orphaned unit processes come to us, so that we can say how they ended.
    if (prctl (PR_SET_CHILD_SUBREAPER, 1) != 0) {
        mp_set_error (err, errlen, "cannot become a subreaper: %s", strerror (errno));
        goto fail;
    }
    sigset_t mask;
    sigemptyset (&mask);
    sigaddset (&mask, SIGCHLD);
    sigaddset (&mask, SIGTERM);
    sigaddset (&mask, SIGINT);
    if (sigprocmask (SIG_BLOCK, &mask, &self->orig_mask) != 0
        || (self->sigfd = signalfd (-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) == -1) {
        mp_set_error (err, errlen, "cannot watch signals: %s", strerror (errno));
        goto fail;
    }
    if (mp_agentd_rundir_make (self, err, errlen) != MP_OK)
        goto fail;
    mp_agentd_rundir_sweep (self);
    snprintf (self->local_endpoint, sizeof self->local_endpoint, "ipc://%s/agent.ipc",
              self->rundir);
    self->runs = zlistx_new ();
    self->procs = zlistx_new ();
    self->replay = mp_replay_new (2 * mp_limits_default.max_skew_ms);
    if (!self->replay || mp_sender_init (&self->sender) != MP_OK) {
        mp_set_error (err, errlen, "out of memory or randomness");
        goto fail;
    }
    self->loop = zloop_new ();
    self->local = zsock_new (ZMQ_ROUTER);
    if (!self->runs || !self->procs || !self->loop || !self->local) {
        mp_set_error (err, errlen, "out of memory");
        goto fail;
    }
    zlistx_set_destructor (self->runs, s_free_item);
    zlistx_set_destructor (self->procs, s_free_item);
    zsock_set_router_mandatory (self->local, 1);
    zsock_set_sndtimeo (self->local, 1000);
    zsock_set_linger (self->local, 0);
    zsock_set_maxmsgsize (self->local, (int) mp_limits_default.max_body);
    if (zsock_bind (self->local, "%s", self->local_endpoint) == -1) {
        mp_set_error (err, errlen, "cannot bind %s: %s", self->local_endpoint,
                      zmq_strerror (zmq_errno ()));
        goto fail;
    }
    self->coord = s_connect_coord (&self->config, err, errlen);
    if (!self->coord)
        goto fail;
    return self;
fail:
    mp_agentd_destroy (&self);
    return NULL;
}

void mp_agentd_destroy (mp_agentd_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    mp_agentd_t *self = *self_p;
    if (self->config.ready_zygote > 0) {
        //  Never handed a run: nothing of it to keep.
        kill (self->config.ready_zygote, SIGKILL);
        mp_agentd_forget_ready_zygote (self);
    }
    if (self->runs) {
        //  Zygotes told to leave get a moment to finish their sessions; the rest go now.
        mp_agentd_wait_zygotes (self, mp_clock_mono_ms () + 4000);
        for (mp_agent_run_t *run = (mp_agent_run_t *) zlistx_first (self->runs); run;
             run = (mp_agent_run_t *) zlistx_next (self->runs)) {
            mp_agentd_kill_run (self, run);
            mp_agentd_remove_run_files (run);
        }
    }
    if (self->runs)
        mp_agentd_kill_strays (self);
    //  Reap what we killed so nothing is left behind as a zombie of ours.
    while (waitpid (-1, NULL, WNOHANG) > 0)
        ;
    zloop_destroy (&self->loop);
    zsock_destroy (&self->coord);
    zsock_destroy (&self->local);
    zlistx_destroy (&self->runs);
    zlistx_destroy (&self->procs);
    mp_replay_destroy (&self->replay);
    mp_agentd_rundir_remove (self);
    if (self->sigfd != -1)
        close (self->sigfd);
    free (self);
    *self_p = NULL;
}

int mp_agentd_run (mp_agentd_t *self)
{
    zmq_pollitem_t sigitem = { NULL, self->sigfd, ZMQ_POLLIN, 0 };
    if (zloop_reader (self->loop, self->coord, s_on_coord, self) != 0
        || zloop_reader (self->loop, self->local, mp_agentd_on_local, self) != 0
        || zloop_poller (self->loop, &sigitem, s_on_signal, self) != 0
        || zloop_timer (self->loop, 50, 0, s_on_tick, self) == -1) {
        mp_error ("cannot set up the reactor");
        return MP_EIO;
    }
    //  The connection is not made yet: the first HELLO waits for it a moment rather
    //  than fail and be sent again at the next tick, 50 ms on the way to the first test.
    //  Sent, it has the WELCOME's time to come back (twice the first retry's) counted
    //  from when it left: a HELLO again meanwhile would register the agent twice.
    zsock_set_sndtimeo (self->coord, MP_FIRST_HELLO_WAIT_MS);
    s_send_hello (self);
    zsock_set_sndtimeo (self->coord, 0);
    self->last_hello_ms = mp_clock_mono_ms ();
    self->hello_backoff_ms *= 2;
    zloop_start (self->loop);
    mp_info ("stopping");
    return self->failed ? MP_EIO : MP_OK;
}
