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
    //  Run ids start from the clock, so that a restarted coordinator does not reuse
    //  the ids of runs that agents may still remember.
    self->next_run = mp_clock_wall_ms ();
    self->router = zsock_new (ZMQ_ROUTER);
    self->agents = mp_agent_table_new ();
    self->runs = zlistx_new ();
    self->loop = zloop_new ();
    if (!self->router || !self->agents || !self->runs || !self->loop) {
        mp_set_error (err, errlen, "out of memory");
        goto fail;
    }
    zlistx_set_destructor (self->runs, s_run_destroy);
    //  Fail loudly rather than drop a message for a peer that went away.
    zsock_set_router_mandatory (self->router, 1);
    //  Never block the reactor on one slow peer: a full pipe drops (and logs) instead.
    zsock_set_sndtimeo (self->router, 0);
    zsock_set_sndhwm (self->router, 100000);
    zsock_set_linger (self->router, 0);
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
    mp_msg_t *ok = mp_msg_new (MP_MSG_OK);
    if (ok && mp_msg_add_u64 (ok, value) != 0)
        mp_msg_destroy (&ok);
    mp_coord_reply (self, req, &ok);
}

void mp_coord_reply_error (mp_coord_t *self, const mp_request_t *req, int code,
                            const char *fmt, ...)
{
    char reason[512];
    va_list args;
    va_start (args, fmt);
    vsnprintf (reason, sizeof reason, fmt, args);
    va_end (args);
    mp_msg_t *msg = mp_msg_new (MP_MSG_ERROR);
    if (msg && (mp_msg_add_i64 (msg, code) != 0 || mp_msg_add_str (msg, reason) != 0))
        mp_msg_destroy (&msg);
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

void mp_coord_owner (const mp_request_t *req, char *owner, size_t size)
{
    char key[MP_AGENT_KEY_MAX];
    mp_agent_table_key (req->route, key);
    snprintf (owner, size, "%s/%s", key, mp_msg_from (req->msg));
}

static void s_on_hello (mp_coord_t *self, mp_request_t *req)
{
    const char *name = mp_msg_str (req->msg, 0);
    uint64_t slots = mp_msg_u64 (req->msg, 1);
    if (slots == 0 || slots > 4096) {
        mp_coord_reply_error (self, req, MP_EINVAL, "agent %s: slots must be 1..4096", name);
        return;
    }
    mp_agent_entry_t *agent = mp_agent_table_find (self->agents, req->route);
    if (agent)
        //  Same connection says hello again: it restarted its state, so forget ours.
        mp_coord_agent_lost (self, agent, "registered again");
    agent = mp_agent_table_upsert (self->agents, req->route, name, mp_msg_str (req->msg, 2),
                              (size_t) slots);
    if (!agent) {
        mp_error ("out of memory registering agent %s", name);
        return;
    }
    mp_info ("agent %s (%s) joined with %zu slots", agent->name, agent->hostname,
             agent->slots);
    mp_msg_t *welcome = mp_msg_new (MP_MSG_WELCOME);
    if (welcome && mp_msg_add_u64 (welcome, self->config.heartbeat_ms) != 0)
        mp_msg_destroy (&welcome);
    mp_coord_reply (self, req, &welcome);
    mp_coord_offer_runs (self, agent);
}

static void s_on_heartbeat (mp_coord_t *self, mp_request_t *req)
{
    if (!req->agent) {
        //  An agent we expired or never met: tell it to register again.
        mp_coord_reply_error (self, req, MP_ENOENT, "unknown agent: say hello");
        return;
    }
    req->agent->last_seen_ms = mp_clock_mono_ms ();
    mp_msg_t *beat = mp_msg_new (MP_MSG_HEARTBEAT);
    mp_coord_reply (self, req, &beat);
}

//  Whether a message type may arrive from this kind of peer.
static int s_needs_agent (int type)
{
    switch (type) {
    case MP_MSG_ZYGOTE_READY:
    case MP_MSG_UNIT_STARTED:
    case MP_MSG_UNIT_EXIT:
    case MP_MSG_ZYGOTE_EXIT:
    case MP_MSG_REPORT:
        return 1;
    default:
        return 0;
    }
}

static void s_handle (mp_coord_t *self, mp_request_t *req)
{
    int type = mp_msg_type (req->msg);
    if (req->agent)
        req->agent->last_seen_ms = mp_clock_mono_ms ();
    if (s_needs_agent (type) && !req->agent) {
        mp_coord_reply_error (self, req, MP_ENOENT, "%s from an unregistered agent",
                               mp_msg_name (type));
        return;
    }
    switch (type) {
    case MP_MSG_HELLO:
        s_on_hello (self, req);
        break;
    case MP_MSG_HEARTBEAT:
        s_on_heartbeat (self, req);
        break;
    case MP_MSG_AGENTS:
        mp_coord_reply_ok (self, req, mp_agent_table_size (self->agents));
        break;
    case MP_MSG_SUBMIT:
    case MP_MSG_PLAN_UNIT:
    case MP_MSG_PLAN_END:
    case MP_MSG_POLL:
    case MP_MSG_CANCEL:
    case MP_MSG_ZYGOTE_READY:
    case MP_MSG_UNIT_STARTED:
    case MP_MSG_UNIT_EXIT:
    case MP_MSG_ZYGOTE_EXIT:
    case MP_MSG_REPORT:
        mp_coord_on_run_message (self, req);
        break;
    default:
        if (mp_msg_is_sync_request (type)) {
            mp_coord_on_sync_message (self, req);
            break;
        }
        self->dropped++;
        mp_warn ("unexpected %s from %s: dropped", mp_msg_name (type),
                 mp_msg_from (req->msg));
        break;
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
    char err[256];
    int code = 0;
    mp_msg_t *msg = route ? mp_wire_decode (zmsg, &self->config.key,
                                            &mp_limits_default, &code, err, sizeof err)
                          : NULL;
    if (!msg) {
        //  Never answered with data: counted and logged with the peer.
        char key[MP_AGENT_KEY_MAX] = "?";
        if (route)
            mp_agent_table_key (route, key);
        self->dropped++;
        mp_warn ("dropped message %" PRIu64 " from peer %s: %s (%s)", self->dropped, key,
                 route ? err : "no routing id", mp_strerror (code));
    }
    else {
        mp_request_t req = { route, mp_agent_table_find (self->agents, route), msg };
        s_handle (self, &req);
        mp_msg_destroy (&msg);
        mp_coord_dispatch (self);
    }
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
        //  A finished run whose front end never came back is let go after a while.
        if (run->state == MP_RUN_DONE && now - run->done_ms > 600000) {
            void *handle = zlistx_cursor (self->runs);
            run = (mp_run_t *) zlistx_next (self->runs);
            zlistx_delete (self->runs, handle);
            continue;
        }
        run = (mp_run_t *) zlistx_next (self->runs);
    }
    mp_coord_enforce_timeouts (self);
    mp_coord_dispatch (self);
    return 0;
}

int mp_coord_run (mp_coord_t *self)
{
    if (zloop_reader (self->loop, self->router, s_on_router, self) != 0
        || zloop_timer (self->loop, 100, 0, s_on_tick, self) == -1) {
        mp_error ("cannot set up the reactor");
        return -1;
    }
    zloop_start (self->loop);
    mp_info ("stopping; %" PRIu64 " bad messages were dropped", self->dropped);
    return 0;
}
