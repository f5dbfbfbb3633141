//  The coordinator's reactor: receives, authenticates and routes every message,
//  keeps agents alive by heartbeat, and owns the runs.
#include <stdarg.h>

#include "../common/clock.h"
#include "coord_private.h"

static void s_run_destroy (void **item)
{
    mp_run_t *run = (mp_run_t *) *item;
    mp_run_destroy (&run);
    *item = NULL;
}

mp_coord_t *mp_coord_new (const mp_coord_config_t *config, char *err, size_t errlen)
{
    mp_coord_t *self = (mp_coord_t *) calloc (1, sizeof *self);
    if (!self) {
        mp_set_error (err, errlen, "out of memory");
        return NULL;
    }
    self->config = *config;
    if (!self->config.unit_ack_ms)
        self->config.unit_ack_ms = MP_UNIT_ACK_MS;
    //  Run ids start from the clock, so that a restarted coordinator does not reuse
    //  the ids of runs that agents may still remember.
    self->next_run = mp_clock_wall_ms ();
    self->router = zsock_new (ZMQ_ROUTER);
    self->agents = mp_agent_table_new ();
    self->runs = zlistx_new ();
    self->loop = zloop_new ();
    self->limits = mp_peer_limits_new ();
    //  Sessions are remembered past the codec's timestamp window: a message older
    //  than that is refused as stale anyway.
    self->replay = mp_replay_new (2 * mp_limits_default.max_skew_ms);
    if (!self->router || !self->agents || !self->runs || !self->loop || !self->limits
        || !self->replay) {
        mp_set_error (err, errlen, "out of memory");
        goto fail;
    }
    if (mp_sender_init (&self->sender) != MP_OK) {
        mp_set_error (err, errlen, "no randomness for a session number");
        goto fail;
    }
    zlistx_set_destructor (self->runs, s_run_destroy);
    //  Fail loudly rather than drop a message for a peer that went away.
    zsock_set_router_mandatory (self->router, 1);
    //  Never block the reactor on one slow peer: a full pipe drops (and logs) instead.
    zsock_set_sndtimeo (self->router, 0);
    zsock_set_sndhwm (self->router, 100000);
    zsock_set_linger (self->router, 0);
    self->lines = mp_lines_new ();
    if (!self->lines) {
        mp_set_error (err, errlen, "out of memory");
        goto fail;
    }
    if (config->curve_cert) {
        //  The ZAP handler exists before the first handshake can need it.
        zcert_t *cert = zcert_load (config->curve_cert);
        if (!cert) {
            mp_set_error (err, errlen, "cannot read the CURVE key pair %s",
                          config->curve_cert);
            goto fail;
        }
        self->curve = mp_curve_auth_new (config->agent_keys, config->client_keys, err, errlen);
        if (self->curve) {
            zsock_set_zap_domain (self->router, MP_CURVE_DOMAIN);
            zsock_set_curve_server (self->router, 1);
            zcert_apply (cert, self->router);
        }
        zcert_destroy (&cert);
        if (!self->curve)
            goto fail;
    }
    //  Larger frames are refused by the transport before any of them is buffered.
    zsock_set_maxmsgsize (self->router, (int) mp_limits_default.max_body);
    for (size_t i = 0; i < config->nlisten; i++) {
        if (zsock_bind (self->router, "%s", config->listen[i]) == -1) {
            mp_set_error (err, errlen, "cannot listen on %s: %s", config->listen[i],
                          zmq_strerror (zmq_errno ()));
            goto fail;
        }
    }
    return self;
fail:
    mp_coord_destroy (&self);
    return NULL;
}

void mp_coord_destroy (mp_coord_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    mp_coord_t *self = *self_p;
    zloop_destroy (&self->loop);
    zlistx_destroy (&self->runs);
    mp_agent_table_destroy (&self->agents);
    mp_peer_limits_destroy (&self->limits);
    mp_replay_destroy (&self->replay);
    mp_curve_auth_destroy (&self->curve);
    mp_lines_destroy (&self->lines);
    zsock_destroy (&self->router);
    free (self);
    *self_p = NULL;
}

void mp_coord_send (mp_coord_t *self, zframe_t *route, const char *to, uint64_t reqid,
                    mp_msg_t **msg_p)
{
    mp_msg_t *msg = *msg_p;
    char err[256];
    if (!msg) {
        mp_error ("out of memory building a message");
        return;
    }
    mp_msg_set_reqid (msg, reqid);
    mp_sender_stamp (&self->sender, msg);
    if (mp_msg_set_from (msg, "coord") != 0 || mp_msg_set_to (msg, to ? to : "") != 0
        || mp_wire_send (self->router, route, msg, &self->config.key, err, sizeof err) != 0)
        mp_warn ("cannot send %s to %s: %s", mp_msg_name (mp_msg_type (msg)),
                 to && *to ? to : "peer", err);
    mp_msg_destroy (msg_p);
}

void mp_coord_reply (mp_coord_t *self, const mp_request_t *req, mp_msg_t **msg_p)
{
    mp_coord_send (self, req->route, mp_msg_from (req->msg), mp_msg_reqid (req->msg), msg_p);
}

void mp_coord_reply_ok (mp_coord_t *self, const mp_request_t *req, uint64_t value)
{
    mp_msg_t *ok = MP_PACK (ok, .value = value);
    mp_coord_reply (self, req, &ok);
}

void mp_coord_reply_error (mp_coord_t *self, const mp_request_t *req, int code,
                           const char *fmt, ...)
{
    char reason[512];
    va_list args;
    va_start (args, fmt);
    mp_vset_error (reason, sizeof reason, fmt, args);
    va_end (args);
    mp_msg_t *msg = MP_PACK (error, .code = code, .reason = reason);
    mp_coord_reply (self, req, &msg);
}

mp_run_t *mp_coord_find_run (mp_coord_t *self, uint64_t id)
{
    for (mp_run_t *run = (mp_run_t *) zlistx_first (self->runs); run;
         run = (mp_run_t *) zlistx_next (self->runs))
        if (run->id == id)
            return run;
    return NULL;
}

static void s_on_hello (mp_coord_t *self, mp_request_t *req)
{
    mp_hello_msg_t hello;
    mp_hello_msg_view (req->msg, &hello);
    mp_peer_t peer;
    if (hello.slots == 0 || hello.slots > 4096 || mp_peer_parse (hello.name, &peer) == MP_OK
        || mp_peer_is_line (hello.name)) {
        mp_coord_reply_error (self, req, MP_EINVAL,
                              "agent %s: slots must be 1..4096, and the name may not look "
                              "like a zygote's, a unit process's or a line's",
                              hello.name);
        return;
    }
    mp_agent_entry_t *agent = req->agent;
    if (agent)
        //  Same connection says hello again: it restarted its state, so forget ours.
        mp_coord_agent_lost (self, agent, "registered again");
    if (mp_agent_table_upsert (self->agents, req->route, hello.name, hello.host,
                               (size_t) hello.slots, &agent) != MP_OK
        || mp_agent_table_set_labels (agent, hello.labels.items, hello.labels.count) != MP_OK) {
        mp_error ("out of memory registering agent %s", hello.name);
        return;
    }
    mp_peer_describe (req->route, req->frame, agent->address, sizeof agent->address);
    mp_info ("agent %s (%s) joined from %s with %zu slots", agent->name, agent->hostname,
             agent->address, agent->slots);
    mp_msg_t *welcome = MP_PACK (welcome, .heartbeat_ms = self->config.heartbeat_ms);
    mp_coord_reply (self, req, &welcome);
    mp_coord_offer_runs (self, agent);
}

static void s_on_heartbeat (mp_coord_t *self, mp_request_t *req)
{
    req->agent->last_seen_ms = mp_clock_mono_ms ();
    mp_msg_t *beat = mp_msg_new (MP_MSG_HEARTBEAT);
    mp_coord_reply (self, req, &beat);
}

//  An agent leaves (SIGTERM, SIGINT): its units go elsewhere now, and it no longer
//  counts as present.
static void s_on_bye (mp_coord_t *self, mp_request_t *req)
{
    mp_bye_msg_t bye;
    mp_bye_msg_view (req->msg, &bye);
    char why[160];
    snprintf (why, sizeof why, "it left (%s)", bye.reason);
    mp_coord_agent_lost (self, req->agent, why);
    mp_agent_table_remove (self->agents, req->agent);
    req->agent = NULL;
}

static void s_on_agents (mp_coord_t *self, mp_request_t *req)
{
    mp_coord_reply_ok (self, req, mp_agent_table_size (self->agents));
}

//  One handler per message a coordinator takes; NULL for those it only sends.
static mp_handler_fn *const s_handlers[MP_MSG_TYPE_MAX] = {
    [MP_MSG_HELLO] = s_on_hello,
    [MP_MSG_HEARTBEAT] = s_on_heartbeat,
    [MP_MSG_AGENTS] = s_on_agents,
    [MP_MSG_BYE] = s_on_bye,
    [MP_MSG_SUBMIT] = mp_coord_on_submit,
    [MP_MSG_PLAN_UNIT] = mp_coord_on_plan_unit,
    [MP_MSG_PLAN_END] = mp_coord_on_plan_end,
    [MP_MSG_POLL] = mp_coord_on_poll,
    [MP_MSG_CANCEL] = mp_coord_on_cancel,
    [MP_MSG_ZYGOTE_READY] = mp_coord_on_zygote_ready,
    [MP_MSG_UNIT_STARTED] = mp_coord_on_unit_started,
    [MP_MSG_UNIT_EXIT] = mp_coord_on_unit_exit,
    [MP_MSG_UNIT_DONE] = mp_coord_on_unit_done,
    [MP_MSG_ZYGOTE_EXIT] = mp_coord_on_zygote_exit,
    [MP_MSG_REPORT] = mp_coord_on_report,
    [MP_MSG_OUTPUT] = mp_coord_on_output,
    [MP_MSG_STATUS] = mp_coord_on_status,
    [MP_MSG_BOARD_GET] = mp_coord_on_sync,
    [MP_MSG_BOARD_SET] = mp_coord_on_sync,
    [MP_MSG_BOARD_DEL] = mp_coord_on_sync,
    [MP_MSG_BOARD_POP] = mp_coord_on_sync,
    [MP_MSG_BOARD_SETDEFAULT] = mp_coord_on_sync,
    [MP_MSG_BOARD_ITEMS] = mp_coord_on_sync,
    [MP_MSG_LOCK_ACQUIRE] = mp_coord_on_sync,
    [MP_MSG_LOCK_RELEASE] = mp_coord_on_sync,
    [MP_MSG_TRAIL] = mp_coord_on_sync,
    [MP_MSG_LINE_OPEN] = mp_coord_on_line_open,
};

//  The sender's role, from its connection and the name it gives: a connection that
//  said hello is an agent, which speaks for itself under its own name and relays its
//  zygotes (z<run>) and unit processes (u<pid>), parsed into req->peer; a connection
//  that names a line (l<hex>) is a unit process straight on its line; any other is a
//  front end, unless it says hello. 0 when an agent's connection gives a name that is
//  none of these.
static unsigned s_role (mp_coord_t *self, mp_request_t *req)
{
    const char *from = mp_msg_from (req->msg);
    if (!req->agent) {
        //  Over CURVE an agent's key makes an agent, registered yet or not.
        const char *user = self->curve ? zframe_meta (req->frame, "User-Id") : NULL;
        if (user && streq (user, MP_CURVE_AGENT))
            return MP_ROLE_AGENT;
        if (mp_peer_is_line (from))
            return MP_ROLE_UNIT;
        return mp_msg_type (req->msg) == MP_MSG_HELLO ? MP_ROLE_AGENT : MP_ROLE_FRONT;
    }
    if (mp_peer_parse (from, &req->peer) == MP_OK)
        return req->peer.role;
    return streq (from, req->agent->name) ? MP_ROLE_AGENT : 0;
}

//  The unit a unit-scoped message names, when it runs on the sender's agent.
static mp_unit_t *s_unit_here (mp_request_t *req)
{
    mp_unit_t *unit = mp_run_unit (req->run, mp_msg_unit (req->msg));
    if (!unit || !mp_coord_unit_active (req->run, unit)
        || !streq (unit->agent, req->agent->key))
        return NULL;
    return unit;
}

//  Binds the sender to what it may touch, applies the catalogue, and resolves the run
//  and unit the message names. MP_OK; or an error code with the reason in err, and
//  MP_ESTALE for late news of a run or unit that ended (dropped without an answer).
static int s_authorise (mp_coord_t *self, mp_request_t *req, char *err, size_t errlen)
{
    mp_msg_t *msg = req->msg;
    int type = mp_msg_type (msg);
    int scope = mp_msg_scope (type);
    req->role = s_role (self, req);
    if (!req->agent && req->role == MP_ROLE_UNIT)
        return mp_coord_authorise_line (self, req, err, errlen);
    if (!req->agent && type != MP_MSG_HELLO && !(mp_msg_senders (type) & MP_ROLE_FRONT)
        && (mp_msg_senders (type) & (MP_ROLE_AGENT | MP_ROLE_ZYGOTE | MP_ROLE_UNIT))) {
        //  An agent we expired or never met: it must register again.
        mp_set_error (err, errlen, "%s from an unknown agent: say hello", mp_msg_name (type));
        return MP_ENOENT;
    }
    if (self->curve) {
        //  The key the connection proved decides which roles it may take.
        const char *user = zframe_meta (req->frame, "User-Id");
        unsigned allowed = !user                       ? 0
                           : streq (user, MP_CURVE_AGENT) ? MP_ROLE_AGENT | MP_ROLE_ZYGOTE
                                                              | MP_ROLE_UNIT
                           : streq (user, MP_CURVE_CLIENT) ? MP_ROLE_FRONT
                                                           : 0;
        if (!(req->role & allowed)) {
            mp_set_error (err, errlen, "a connection with %s key may not act as %s",
                          user && *user ? user : "no allowed", mp_role_name (req->role)
                                                                   ? mp_role_name (req->role)
                                                                   : "this peer");
            return MP_EAUTH;
        }
    }
    mp_principal_t who = { .role = req->role };
    if (req->agent && (req->role == MP_ROLE_ZYGOTE || req->role == MP_ROLE_UNIT))
        mp_peer_owner (req->agent->key, mp_msg_from (msg), req->owner);
    if (scope != MP_SCOPE_NONE) {
        req->run = mp_coord_find_run (self, mp_msg_run (msg));
        if (!req->run || (req->run->state == MP_RUN_DONE && type != MP_MSG_POLL
                          && type != MP_MSG_CANCEL)) {
            mp_set_error (err, errlen, "no active run %" PRIu64, mp_msg_run (msg));
            //  Late news of an ended run (units killed at cancel) needs no answer.
            return type == MP_MSG_UNIT_EXIT || type == MP_MSG_UNIT_STARTED
                           || type == MP_MSG_ZYGOTE_EXIT
                       ? MP_ESTALE
                       : MP_ENOENT;
        }
        mp_run_t *run = req->run;
        who.run_bound = 1;
        if (req->role == MP_ROLE_FRONT && zframe_eq (req->route, run->front)) {
            who.run = run->id;
            run->front_seen_ms = mp_clock_mono_ms ();
        }
        else if (req->role == MP_ROLE_AGENT)
            who.run = mp_run_ready (run, req->agent->key) != MP_READY_NONE ? run->id : 0;
        else if (req->role == MP_ROLE_ZYGOTE)
            who.run = req->peer.id;
        else if (req->role == MP_ROLE_UNIT) {
            //  A unit process is bound by its announcement; until then it may only
            //  announce itself, for a unit handed to its agent that has no process yet.
            mp_unit_t *own = mp_run_owner_unit (run, req->owner);
            if (own) {
                who.run = run->id;
                who.unit_bound = 1;
                who.unit = own->id;
            }
            else if (type == MP_MSG_UNIT_STARTED)
                who.run = run->id;
        }
    }
    int rc = mp_msg_authorise (msg, &who, err, errlen);
    if (rc != MP_OK)
        return rc;
    if (scope == MP_SCOPE_UNIT) {
        req->unit = s_unit_here (req);
        if (!req->unit) {
            mp_set_error (err, errlen, "unit %" PRIu64 " is not running here",
                          mp_msg_unit (msg));
            return type == MP_MSG_REPORT ? MP_ESTATE : MP_ESTALE;
        }
    }
    return MP_OK;
}

static void s_handle (mp_coord_t *self, mp_request_t *req)
{
    int type = mp_msg_type (req->msg);
    if (req->agent)
        req->agent->last_seen_ms = mp_clock_mono_ms ();
    char err[256] = "";
    int rc = s_authorise (self, req, err, sizeof err);
    if (rc == MP_OK && !s_handlers[type]) {
        rc = MP_EAUTH;
        mp_set_error (err, sizeof err, "the coordinator takes no such message");
    }
    if (rc == MP_OK)
        s_handlers[type](self, req);
    else if (rc == MP_ESTALE)
        mp_debug ("%s from %s: %s", mp_msg_name (type), mp_msg_from (req->msg), err);
    else {
        self->dropped++;
        if (rc == MP_EAUTH) {
            char peer[160];
            mp_peer_describe (req->route, req->frame, peer, sizeof peer);
            mp_warn_limited ("refused %s from %s on %s: %s", mp_msg_name (type),
                             mp_msg_from (req->msg), peer, err);
        }
        mp_coord_reply_error (self, req, rc, "%s", err);
    }
}

//  What a message may change for placement. Most of the traffic (reports, heartbeats,
//  polls, plan units, the sync service) frees no slot and readies no unit: the
//  scan over every run and agent is skipped for it. The tick dispatches anyway.
static void s_dispatch_after (mp_coord_t *self, int type, zframe_t *route)
{
    if (mp_msg_is_sync_request (type))
        return;
    switch (type) {
    case MP_MSG_REPORT:
    case MP_MSG_HEARTBEAT:
    case MP_MSG_POLL:
    case MP_MSG_OUTPUT:
    case MP_MSG_PLAN_UNIT:
    case MP_MSG_UNIT_STARTED:
    case MP_MSG_STATUS:
    case MP_MSG_AGENTS:
    case MP_MSG_LINE_OPEN:
        return;
    case MP_MSG_UNIT_EXIT:
    case MP_MSG_UNIT_DONE:
        //  Relayed by the agent whose slot it held (looked up again: handling may
        //  have removed it).
        mp_coord_dispatch_freed (self, mp_agent_table_find (self->agents, route));
        return;
    default:
        mp_coord_dispatch (self);
    }
}

static int s_on_router (zloop_t *loop, zsock_t *reader, void *arg)
{
    (void) loop;
    mp_coord_t *self = (mp_coord_t *) arg;
    zmsg_t *zmsg = zmsg_recv (reader);
    if (!zmsg)
        return zsys_interrupted ? -1 : 0;
    zframe_t *route = zmsg_pop (zmsg);
    uint64_t now = mp_clock_mono_ms ();
    char err[256];
    mp_msg_t *msg = NULL;
    if (route && mp_peer_limits_blocked (self->limits, route, now)) {
        //  Past its share of bad input: not even verified.
        self->dropped++;
        goto done;
    }
    int code = route ? mp_wire_receive (zmsg, &self->config.key, self->replay, &msg, err,
                                        sizeof err)
                     : MP_EPROTO;
    if (code == MP_OK) {
        mp_request_t req = { .route = route, .frame = zmsg_first (zmsg),
                             .agent = mp_agent_table_find (self->agents, route), .msg = msg };
        s_handle (self, &req);
        s_dispatch_after (self, mp_msg_type (msg), route);
        mp_msg_destroy (&msg);
        goto done;
    }
    //  Never answered with data: counted and logged with the peer's address.
    char peer[160] = "a peer with no routing id";
    if (route)
        mp_peer_describe (route, zmsg_first (zmsg), peer, sizeof peer);
    self->dropped++;
    mp_warn_limited ("dropped message %" PRIu64 " from %s: %s (%s)", self->dropped, peer,
                     route ? err : "no routing id", mp_strerror (code));
    if (route && mp_peer_limits_bad (self->limits, route, now))
        mp_warn_limited ("%s sent %d bad messages: dropping what it sends for %d s unread",
                         peer, MP_BAD_PEER_LIMIT, MP_BAD_PEER_WINDOW_MS / 1000);
done:
    zframe_destroy (&route);
    zmsg_destroy (&zmsg);
    return 0;
}

static int s_on_tick (zloop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    mp_coord_t *self = (mp_coord_t *) arg;
    uint64_t now = mp_clock_mono_ms ();
    for (size_t i = 0; i < mp_agent_table_size (self->agents);) {
        mp_agent_entry_t *agent = mp_agent_table_at (self->agents, i);
        if (now - agent->last_seen_ms > self->config.expiry_ms) {
            mp_coord_agent_lost (self, agent, "heartbeats stopped");
            mp_agent_table_remove (self->agents, agent);
        }
        else
            i++;
    }
    mp_run_t *run = (mp_run_t *) zlistx_first (self->runs);
    while (run) {
        mp_coord_answer_poll (self, run, 0);
        if (run->state != MP_RUN_DONE && now - run->front_seen_ms > MP_FRONT_SILENCE_MS)
            mp_coord_abandon_run (self, run);
        //  A finished run whose front end never came back is let go after a while. (It
        //  may have ended after `now` was read, in this very tick: no unsigned wrap.)
        if (run->state == MP_RUN_DONE && run->done_ms + 600000 < now) {
            void *handle = zlistx_cursor (self->runs);
            run = (mp_run_t *) zlistx_next (self->runs);
            zlistx_delete (self->runs, handle);
            continue;
        }
        run = (mp_run_t *) zlistx_next (self->runs);
    }
    mp_peer_limits_expire (self->limits, now);
    mp_replay_expire (self->replay, now);
    mp_coord_enforce_timeouts (self);
    mp_coord_dispatch (self);
    return 0;
}

static int s_on_zap (zloop_t *loop, zsock_t *reader, void *arg)
{
    (void) loop;
    (void) reader;
    mp_curve_auth_handle (((mp_coord_t *) arg)->curve);
    return 0;
}

int mp_coord_run (mp_coord_t *self)
{
    if ((self->curve
         && zloop_reader (self->loop, mp_curve_auth_socket (self->curve), s_on_zap, self) != 0)
        || zloop_reader (self->loop, self->router, s_on_router, self) != 0
        || zloop_timer (self->loop, 100, 0, s_on_tick, self) == -1) {
        mp_error ("cannot set up the reactor");
        return MP_EIO;
    }
    zloop_start (self->loop);
    mp_info ("stopping; %" PRIu64 " bad messages were dropped", self->dropped);
    return MP_OK;
}
