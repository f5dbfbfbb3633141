//  Fake peers for the daemons' tests: see fake_peers.h.
#include "fake_peers.h"

#include <pthread.h>

#include "common/clock.h"
#include "coordinator/coord.h"
#include "tests/c/testing.h"

#define FP_KEY_TEXT "the key the daemons' tests share"
const mp_key_t fp_key = { .bytes = FP_KEY_TEXT, .len = sizeof FP_KEY_TEXT - 1 };

void fp_init (void)
{
    zsys_init ();
}

//  ---------------------------------------------------------------------------------
//  A coordinator in a thread

struct fp_coord_t {
    mp_coord_t *coord;
    pthread_t thread;
};

static void *s_serve (void *arg)
{
    mp_coord_run ((mp_coord_t *) arg);
    return NULL;
}

fp_coord_t *fp_coord_start (const char *endpoint, uint64_t heartbeat_ms, uint64_t expiry_ms)
{
    return fp_coord_start_ack (endpoint, heartbeat_ms, expiry_ms, 0);
}

fp_coord_t *fp_coord_start_ack (const char *endpoint, uint64_t heartbeat_ms,
                                uint64_t expiry_ms, uint64_t unit_ack_ms)
{
    fp_init ();
    fp_coord_t *self = (fp_coord_t *) calloc (1, sizeof *self);
    ASSERT_NOT_NULL (self);
    const char *listen[] = { endpoint };
    mp_coord_config_t config = { .listen = listen, .nlisten = 1, .key = fp_key,
                                 .heartbeat_ms = heartbeat_ms, .expiry_ms = expiry_ms,
                                 .unit_ack_ms = unit_ack_ms };
    char err[256] = "";
    self->coord = mp_coord_new (&config, err, sizeof err);
    if (!self->coord)
        MP_FAIL_AT ("cannot start a coordinator on %s: %s", endpoint, err);
    ASSERT_EQ (pthread_create (&self->thread, NULL, s_serve, self->coord), 0);
    return self;
}

void fp_coord_stop (fp_coord_t **self_p)
{
    fp_coord_t *self = *self_p;
    if (!self)
        return;
    //  Its reactor checks this at least every tick (100 ms).
    zsys_interrupted = 1;
    pthread_join (self->thread, NULL);
    zsys_interrupted = 0;
    mp_coord_destroy (&self->coord);
    free (self);
    *self_p = NULL;
}

//  ---------------------------------------------------------------------------------
//  Peers

struct fp_peer_t {
    zsock_t *sock;
    char name[64];
    uint64_t reqid;
    mp_sender_t sender; //  every message it sends is sequenced, as real peers' are
    zlistx_t *kept; //  of mp_msg_t: arrived while a request waited for its answer
    //  A fake agent's heartbeats.
    uint64_t beat_ms, last_beat_ms;
    int silent;
    uint64_t last_slot; //  of the last UNIT a fake agent took
};

//  The fake agents that beat while any test waits.
#define FP_AGENTS_MAX 16
static fp_peer_t *s_agents[FP_AGENTS_MAX];

static void s_destroy_msg (void **item)
{
    mp_msg_t *msg = (mp_msg_t *) *item;
    mp_msg_destroy (&msg);
    *item = NULL;
}

fp_peer_t *fp_peer_new (const char *endpoint, const char *name)
{
    fp_init ();
    fp_peer_t *self = (fp_peer_t *) calloc (1, sizeof *self);
    ASSERT_NOT_NULL (self);
    snprintf (self->name, sizeof self->name, "%s", name);
    self->sock = zsock_new (ZMQ_DEALER);
    ASSERT_NOT_NULL (self->sock);
    zsock_set_identity (self->sock, name);
    zsock_set_linger (self->sock, 0);
    ASSERT_EQ (zsock_connect (self->sock, "%s", endpoint), 0);
    ASSERT_EQ (mp_sender_init (&self->sender), MP_OK);
    self->kept = zlistx_new ();
    ASSERT_NOT_NULL (self->kept);
    zlistx_set_destructor (self->kept, s_destroy_msg);
    return self;
}

void fp_peer_destroy (fp_peer_t **self_p)
{
    fp_peer_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < FP_AGENTS_MAX; i++)
        if (s_agents[i] == self)
            s_agents[i] = NULL;
    zlistx_destroy (&self->kept);
    zsock_destroy (&self->sock);
    free (self);
    *self_p = NULL;
}

const char *fp_peer_name (const fp_peer_t *self)
{
    return self->name;
}

zsock_t *fp_peer_sock (fp_peer_t *self)
{
    return self->sock;
}

zmsg_t *fp_encode (fp_peer_t *self, const char *from, mp_msg_t *msg)
{
    ASSERT_NOT_NULL (msg);
    mp_msg_set_reqid (msg, ++self->reqid);
    ASSERT_EQ (mp_msg_set_from (msg, from ? from : self->name), 0);
    mp_sender_stamp (&self->sender, msg);
    char err[256] = "";
    zmsg_t *zmsg = NULL;
    if (mp_wire_encode (msg, &fp_key, &zmsg, err, sizeof err) != MP_OK)
        MP_FAIL_AT ("%s cannot encode %s: %s", self->name, mp_msg_name (mp_msg_type (msg)), err);
    mp_msg_destroy (&msg);
    return zmsg;
}

uint64_t fp_send (fp_peer_t *self, const char *from, mp_msg_t *msg)
{
    zmsg_t *zmsg = fp_encode (self, from, msg);
    ASSERT_EQ (zmsg_send (&zmsg, self->sock), 0);
    return self->reqid;
}

//  Every fake agent not silenced beats when its interval is over.
static void s_beat_all (void)
{
    uint64_t now = mp_clock_mono_ms ();
    for (size_t i = 0; i < FP_AGENTS_MAX; i++) {
        fp_peer_t *agent = s_agents[i];
        if (agent && !agent->silent && now - agent->last_beat_ms >= agent->beat_ms) {
            fp_send (agent, NULL, mp_msg_new (MP_MSG_HEARTBEAT));
            agent->last_beat_ms = now;
        }
    }
}

//  The next message on the socket itself (heartbeats skipped), or NULL at the deadline.
static mp_msg_t *s_recv_socket (fp_peer_t *self, uint64_t deadline)
{
    void *sock = zsock_resolve (self->sock);
    while (1) {
        s_beat_all ();
        uint64_t now = mp_clock_mono_ms ();
        if (now >= deadline)
            return NULL;
        uint64_t slice = deadline - now < 20 ? deadline - now : 20;
        zmq_pollitem_t item = { sock, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll (&item, 1, (long) slice) <= 0 || !(item.revents & ZMQ_POLLIN))
            continue;
        zmsg_t *zmsg = zmsg_recv (self->sock);
        ASSERT_NOT_NULL (zmsg);
        char err[256] = "";
        mp_msg_t *msg = NULL;
        int code = mp_wire_decode (zmsg, &fp_key, &mp_limits_default, &msg, err, sizeof err);
        zmsg_destroy (&zmsg);
        if (code != MP_OK)
            MP_FAIL_AT ("%s received a message it cannot read: %s", self->name, err);
        if (mp_msg_type (msg) == MP_MSG_HEARTBEAT) {
            mp_msg_destroy (&msg);
            continue;
        }
        return msg;
    }
}

mp_msg_t *fp_recv (fp_peer_t *self, int timeout_ms)
{
    mp_msg_t *msg = (mp_msg_t *) zlistx_first (self->kept);
    if (msg) {
        zlistx_detach_cur (self->kept);
        return msg;
    }
    return s_recv_socket (self, mp_clock_mono_ms () + (uint64_t) timeout_ms);
}

//  A message for a failure report: its type, and an error's reason.
static const char *s_describe (mp_msg_t *msg, char *buf, size_t size)
{
    mp_error_msg_t error;
    if (mp_error_msg_view (msg, &error) == MP_OK)
        snprintf (buf, size, "ERROR %" PRId64 " (%s)", error.code, error.reason);
    else
        snprintf (buf, size, "%s", mp_msg_name (mp_msg_type (msg)));
    return buf;
}

mp_msg_t *fp_expect (fp_peer_t *self, int type)
{
    mp_msg_t *msg = fp_recv (self, FP_WAIT_MS);
    if (!msg)
        MP_FAIL_AT ("%s: no %s within %d ms", self->name, mp_msg_name (type), FP_WAIT_MS);
    char what[600];
    if (mp_msg_type (msg) != type)
        MP_FAIL_AT ("%s: expected %s, got %s", self->name, mp_msg_name (type),
                    s_describe (msg, what, sizeof what));
    return msg;
}

void fp_expect_nothing (fp_peer_t *self, int ms)
{
    mp_msg_t *msg = fp_recv (self, ms);
    char what[600];
    if (msg)
        MP_FAIL_AT ("%s: expected nothing, got %s", self->name,
                    s_describe (msg, what, sizeof what));
}

mp_msg_t *fp_request (fp_peer_t *self, const char *from, mp_msg_t *msg)
{
    int type = mp_msg_type (msg);
    uint64_t reqid = fp_send (self, from, msg);
    uint64_t deadline = mp_clock_mono_ms () + FP_WAIT_MS;
    while (1) {
        mp_msg_t *reply = s_recv_socket (self, deadline);
        if (!reply)
            MP_FAIL_AT ("%s: no answer to %s within %d ms", self->name, mp_msg_name (type),
                        FP_WAIT_MS);
        if (mp_msg_reqid (reply) == reqid)
            return reply;
        ASSERT_NOT_NULL (zlistx_add_end (self->kept, reply));
    }
}

uint64_t fp_request_ok (fp_peer_t *self, const char *from, mp_msg_t *msg)
{
    int type = mp_msg_type (msg);
    mp_msg_t *reply = fp_request (self, from, msg);
    char what[600];
    mp_ok_msg_t ok;
    if (mp_ok_msg_view (reply, &ok) != MP_OK)
        MP_FAIL_AT ("%s: %s was answered %s, not OK", self->name, mp_msg_name (type),
                    s_describe (reply, what, sizeof what));
    mp_msg_destroy (&reply);
    return ok.value;
}

int64_t fp_request_error (fp_peer_t *self, const char *from, mp_msg_t *msg)
{
    int type = mp_msg_type (msg);
    mp_msg_t *reply = fp_request (self, from, msg);
    char what[600];
    mp_error_msg_t error;
    if (mp_error_msg_view (reply, &error) != MP_OK)
        MP_FAIL_AT ("%s: %s was answered %s, not ERROR", self->name, mp_msg_name (type),
                    s_describe (reply, what, sizeof what));
    mp_msg_destroy (&reply);
    return error.code;
}

//  ---------------------------------------------------------------------------------
//  Agents, zygotes and unit processes

fp_peer_t *fp_agent_new (const char *endpoint, const char *name, uint64_t slots)
{
    fp_peer_t *self = fp_peer_new (endpoint, name);
    mp_msg_t *welcome = fp_request (self, NULL,
                                    MP_PACK (hello, .name = name, .slots = slots, .host = "h"));
    mp_welcome_msg_t view;
    char what[600];
    if (mp_welcome_msg_view (welcome, &view) != MP_OK)
        MP_FAIL_AT ("%s: HELLO was answered %s", name, s_describe (welcome, what, sizeof what));
    self->beat_ms = view.heartbeat_ms;
    self->last_beat_ms = mp_clock_mono_ms ();
    mp_msg_destroy (&welcome);
    size_t i = 0;
    while (i < FP_AGENTS_MAX && s_agents[i])
        i++;
    ASSERT_LT (i, FP_AGENTS_MAX);
    s_agents[i] = self;
    return self;
}

void fp_agent_silence (fp_peer_t *agent)
{
    agent->silent = 1;
}

void fp_agent_join (fp_peer_t *agent, uint64_t run)
{
    mp_msg_t *msg = fp_expect (agent, MP_MSG_RUN_START);
    mp_run_start_msg_t start;
    ASSERT_EQ (mp_run_start_msg_view (msg, &start), MP_OK);
    ASSERT_EQ (start.run, run);
    mp_msg_destroy (&msg);
    char zygote[MP_PEER_NAME_MAX];
    mp_peer_zygote_name (run, zygote);
    fp_send (agent, zygote, MP_PACK (zygote_ready, .run = run, .collected = 1, .error = ""));
}

uint64_t fp_agent_last_slot (const fp_peer_t *agent)
{
    return agent->last_slot;
}

uint64_t fp_agent_unit (fp_peer_t *agent, uint64_t run)
{
    return fp_agent_unit_tests (agent, run, NULL);
}

uint64_t fp_agent_unit_tests (fp_peer_t *agent, uint64_t run, const char *const *tests)
{
    mp_msg_t *msg = fp_expect (agent, MP_MSG_UNIT);
    mp_unit_msg_t unit;
    ASSERT_EQ (mp_unit_msg_view (msg, &unit), MP_OK);
    if (tests) {
        size_t n = 0;
        while (tests[n])
            n++;
        ASSERT_EQ (unit.tests.count, n);
        for (size_t i = 0; i < n; i++)
            ASSERT_STREQ (unit.tests.items[i], tests[i]);
    }
    ASSERT_EQ (unit.run, run);
    agent->last_slot = unit.slot;
    char zygote[MP_PEER_NAME_MAX];
    mp_peer_zygote_name (run, zygote);
    ASSERT_STREQ (mp_msg_to (msg), zygote);
    uint64_t id = unit.unit;
    mp_msg_destroy (&msg);
    return id;
}

void fp_unit_started (fp_peer_t *agent, uint64_t run, uint64_t unit, uint64_t pid)
{
    char name[MP_PEER_NAME_MAX];
    mp_peer_unit_name (pid, name);
    fp_send (agent, name, MP_PACK (unit_started, .run = run, .unit = unit, .pid = pid));
}

void fp_report (fp_peer_t *agent, uint64_t pid, uint64_t run, uint64_t unit, const char *kind,
                const char *test)
{
    char name[MP_PEER_NAME_MAX];
    mp_peer_unit_name (pid, name);
    fp_request_ok (agent, name,
                   MP_PACK (report, .run = run, .unit = unit, .kind = kind, .test = test,
                            .data = { kind, strlen (kind) }));
}

void fp_unit_exit (fp_peer_t *agent, uint64_t run, uint64_t unit, uint64_t pid,
                   int64_t status)
{
    char zygote[MP_PEER_NAME_MAX];
    mp_peer_zygote_name (run, zygote);
    fp_send (agent, zygote,
             MP_PACK (unit_exit, .run = run, .unit = unit, .pid = pid, .status = status));
}

void fp_unit_done (fp_peer_t *agent, uint64_t run, uint64_t unit, uint64_t pid)
{
    char name[MP_PEER_NAME_MAX];
    mp_peer_unit_name (pid, name);
    fp_send (agent, name, MP_PACK (unit_done, .run = run, .unit = unit, .pid = pid));
}

void fp_test_passes (fp_peer_t *agent, uint64_t pid, uint64_t run, uint64_t unit,
                     const char *test)
{
    fp_report (agent, pid, run, unit, "logstart", test);
    fp_report (agent, pid, run, unit, "logreport", test);
    fp_report (agent, pid, run, unit, "logfinish", test);
}

void fp_unit_passes (fp_peer_t *agent, uint64_t run, uint64_t unit, uint64_t pid,
                     const char *const *tests)
{
    fp_unit_started (agent, run, unit, pid);
    for (size_t i = 0; tests[i]; i++)
        fp_test_passes (agent, pid, run, unit, tests[i]);
    fp_unit_exit (agent, run, unit, pid, 0);
}

//  ---------------------------------------------------------------------------------
//  Front ends

static size_t s_count (const char *const *list)
{
    size_t n = 0;
    while (list[n])
        n++;
    return n;
}

uint64_t fp_submit (fp_peer_t *front, uint64_t timeout_ms, const fp_plan_t *units,
                    size_t nunits)
{
    const char *args[] = { "-q" };
    uint64_t run = fp_request_ok (front, NULL,
                                  MP_PACK (submit, .cwd = "/tmp", .args = { args, 1 },
                                           .units = nunits, .timeout_ms = timeout_ms));
    for (size_t i = 0; i < nunits; i++) {
        const fp_plan_t *unit = &units[i];
        fp_request_ok (front, NULL,
                       MP_PACK (plan_unit, .run = run, .unit = unit->id,
                                .group = unit->group ? unit->group : "",
                                .strategy = (uint64_t) unit->strategy,
                                .tests = { unit->tests, s_count (unit->tests) }));
    }
    fp_request_ok (front, NULL, MP_PACK (plan_end, .run = run));
    return run;
}

size_t fp_poll (fp_peer_t *front, uint64_t run, uint64_t wait_ms, fp_events_t *events)
{
    mp_msg_t *reply = fp_request (front, NULL,
                                  MP_PACK (poll, .run = run, .after = events->count,
                                           .wait_ms = wait_ms));
    mp_events_msg_t batch;
    char what[600];
    if (mp_events_msg_view (reply, &batch) != MP_OK)
        MP_FAIL_AT ("%s: POLL was answered %s", front->name,
                    s_describe (reply, what, sizeof what));
    size_t n = batch.kinds.count;
    ASSERT_EQ (batch.tests.count, n);
    ASSERT_EQ (batch.units.count, n);
    ASSERT_EQ (batch.data.count, n);
    if (n)
        ASSERT_EQ (batch.first, events->count + 1);
    ASSERT_LE (events->count + n, FP_EVENTS_MAX);
    for (size_t i = 0; i < n; i++) {
        size_t at = events->count++;
        snprintf (events->kind[at], sizeof events->kind[at], "%s", batch.kinds.items[i]);
        snprintf (events->test[at], sizeof events->test[at], "%s", batch.tests.items[i]);
        events->unit[at] = batch.units.items[i];
        size_t len = batch.data.items[i].len;
        if (len >= sizeof events->data[at])
            len = sizeof events->data[at] - 1;
        memcpy (events->data[at], batch.data.items[i].data, len);
        events->data[at][len] = '\0';
    }
    mp_msg_destroy (&reply);
    return n;
}

void fp_poll_until_done (fp_peer_t *front, uint64_t run, fp_events_t *events)
{
    uint64_t deadline = mp_clock_mono_ms () + FP_WAIT_MS;
    while (events->count == 0 || strcmp (events->kind[events->count - 1], "done") != 0) {
        if (mp_clock_mono_ms () > deadline)
            MP_FAIL_AT ("run %" PRIu64 ": no \"done\" event within %d ms (%zu events)", run,
                        FP_WAIT_MS, events->count);
        fp_poll (front, run, 500, events);
    }
}
