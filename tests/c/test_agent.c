//  The agent's relay rules: a real agent in a thread, a fake coordinator (a ROUTER on
//  inproc) and fake local peers on the agent's local endpoint. Its "python" is a shell
//  script, the stand-in zygote, that starts one child (a real child of the zygote, to
//  play a unit process) and writes both pids into the test's directory.
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/agent_private.h"
#include "tests/c/fake_peers.h"
#include "tests/c/testing.h"

#define COORD_EP "inproc://fake-coord"
#define RUN 42

static const char s_zygote_script[] =
    "#!/bin/sh\n"
    "# A stand-in zygote, run as PYTHON -m pytest DIR: a child to play a unit process,\n"
    "# then both pids in DIR.\n"
    "dir=$3\n"
    "sleep 20 &\n"
    "echo $! > \"$dir/unit.tmp\" && mv \"$dir/unit.tmp\" \"$dir/unit.pid\"\n"
    "echo $$ > \"$dir/zygote.tmp\" && mv \"$dir/zygote.tmp\" \"$dir/zygote.pid\"\n"
    "exec sleep 20\n";

typedef struct {
    char dir[64];
    char python[128];
    mp_agentd_t *agent;
    pthread_t thread;
    zsock_t *router;  //  the fake coordinator
    zframe_t *route;  //  the agent's connection to it
    int welcomed;     //  the agent was answered WELCOME
    pid_t zygote, unit; //  of run RUN, once started
} s_fixture_t;

static void *s_serve (void *arg)
{
    mp_agentd_run ((mp_agentd_t *) arg);
    return NULL;
}

//  The next message from the agent (heartbeats answered and skipped), or NULL after
//  timeout_ms; in *frames, when not NULL, its three frames as they came.
static mp_msg_t *s_coord_recv (s_fixture_t *f, int timeout_ms, zmsg_t **frames)
{
    int64_t deadline = zclock_mono () + timeout_ms;
    while (1) {
        int64_t left = deadline - zclock_mono ();
        if (left <= 0)
            return NULL;
        zmq_pollitem_t item = { zsock_resolve (f->router), 0, ZMQ_POLLIN, 0 };
        if (zmq_poll (&item, 1, (long) left) <= 0)
            continue;
        zmsg_t *zmsg = zmsg_recv (f->router);
        ASSERT_NOT_NULL (zmsg);
        zframe_t *route = zmsg_pop (zmsg);
        char err[256] = "";
        mp_msg_t *msg = NULL;
        if (mp_wire_decode (zmsg, &fp_key, &mp_limits_default, &msg, err, sizeof err) != MP_OK)
            MP_FAIL_AT ("the fake coordinator cannot read a message: %s", err);
        if (!f->route)
            f->route = route;
        else {
            ASSERT_TRUE (zframe_eq (route, f->route));
            zframe_destroy (&route);
        }
        if (mp_msg_type (msg) == MP_MSG_HELLO && f->welcomed) {
            //  A retry sent before our WELCOME reached it (its first wait is short).
            mp_msg_destroy (&msg);
            zmsg_destroy (&zmsg);
            continue;
        }
        if (mp_msg_type (msg) == MP_MSG_HEARTBEAT) {
            mp_msg_t *beat = mp_msg_new (MP_MSG_HEARTBEAT);
            mp_msg_set_from (beat, "coord");
            ASSERT_EQ (mp_wire_send (f->router, f->route, beat, &fp_key, err, sizeof err), 0);
            mp_msg_destroy (&beat);
            mp_msg_destroy (&msg);
            zmsg_destroy (&zmsg);
            continue;
        }
        if (frames)
            *frames = zmsg;
        else
            zmsg_destroy (&zmsg);
        return msg;
    }
}

//  The fake coordinator sends msg (taken) to the agent, for the local peer `to` ("":
//  for the agent).
static void s_coord_send (s_fixture_t *f, const char *to, mp_msg_t *msg)
{
    char err[256] = "";
    ASSERT_NOT_NULL (msg);
    mp_msg_set_from (msg, "coord");
    mp_msg_set_to (msg, to);
    ASSERT_EQ (mp_wire_send (f->router, f->route, msg, &fp_key, err, sizeof err), 0);
    mp_msg_destroy (&msg);
}

//  The text of a small file, as a pid; 0 while it is not there.
static pid_t s_read_pid (const char *dir, const char *name)
{
    char path[128];
    snprintf (path, sizeof path, "%s/%s", dir, name);
    FILE *file = fopen (path, "r");
    if (!file)
        return 0;
    int pid = 0;
    if (fscanf (file, "%d", &pid) != 1)
        pid = 0;
    fclose (file);
    return (pid_t) pid;
}

//  An agent with 2 slots, registered with the fake coordinator; run RUN started, its
//  stand-in zygote and that zygote's child up.
static void s_start (s_fixture_t *f)
{
    memset (f, 0, sizeof *f);
    fp_init ();
    snprintf (f->dir, sizeof f->dir, "/tmp/mp-test-agent-XXXXXX");
    ASSERT_NOT_NULL (mkdtemp (f->dir));
    snprintf (f->python, sizeof f->python, "%s/python", f->dir);
    FILE *script = fopen (f->python, "w");
    ASSERT_NOT_NULL (script);
    fputs (s_zygote_script, script);
    fclose (script);
    ASSERT_EQ (chmod (f->python, 0700), 0);

    f->router = zsock_new (ZMQ_ROUTER);
    ASSERT_NOT_NULL (f->router);
    zsock_set_linger (f->router, 0);
    ASSERT_EQ (zsock_bind (f->router, COORD_EP), 0);
    mp_agent_config_t config = { .connect = COORD_EP, .slots = 2, .key = fp_key,
                                 .key_file = "", .workdir = f->dir, .python = f->python,
                                 .name = "agent-t", .hostname = "h" };
    char err[256] = "";
    //  In this thread, before the agent's: its signal mask is then every thread's.
    f->agent = mp_agentd_new (&config, err, sizeof err);
    if (!f->agent)
        MP_FAIL_AT ("cannot make an agent: %s", err);
    ASSERT_EQ (pthread_create (&f->thread, NULL, s_serve, f->agent), 0);

    mp_msg_t *hello = s_coord_recv (f, FP_WAIT_MS, NULL);
    ASSERT_NOT_NULL (hello);
    ASSERT_EQ (mp_msg_type (hello), MP_MSG_HELLO);
    mp_msg_destroy (&hello);
    s_coord_send (f, "", MP_PACK (welcome, .heartbeat_ms = 1000));
    f->welcomed = 1;

    const char *args[] = { f->dir };
    s_coord_send (f, "", MP_PACK (run_start, .run = RUN, .cwd = f->dir, .args = { args, 1 }));
    int64_t deadline = zclock_mono () + FP_WAIT_MS;
    while (!(f->zygote = s_read_pid (f->dir, "zygote.pid")) && zclock_mono () < deadline)
        zclock_sleep (10);
    ASSERT_GT (f->zygote, 0);
    f->unit = s_read_pid (f->dir, "unit.pid");
    ASSERT_GT (f->unit, 0);
}

static void s_stop (s_fixture_t *f)
{
    //  The agent's reactor checks this at least every tick (50 ms).
    zsys_interrupted = 1;
    pthread_join (f->thread, NULL);
    zsys_interrupted = 0;
    mp_agentd_destroy (&f->agent);
    zframe_destroy (&f->route);
    zsock_destroy (&f->router);
    const char *files[] = { "python", "unit.pid", "zygote.pid" };
    for (size_t i = 0; i < 3; i++) {
        char path[128];
        snprintf (path, sizeof path, "%s/%s", f->dir, files[i]);
        unlink (path);
    }
    rmdir (f->dir);
}

//  A local peer on the agent's local socket, its routing id its name.
static fp_peer_t *s_local (s_fixture_t *f, const char *name)
{
    return fp_peer_new (f->agent->local_endpoint, name);
}

static void s_unit_name (pid_t pid, char *name)
{
    mp_peer_unit_name ((uint64_t) pid, name);
}

//  Sends msg (taken) from the local peer as from (NULL: its own name); returns a copy
//  of the three frames sent.
static zmsg_t *s_local_send (fp_peer_t *peer, const char *from, mp_msg_t *msg)
{
    ASSERT_NOT_NULL (msg);
    mp_msg_set_reqid (msg, 5);
    mp_msg_set_from (msg, from ? from : fp_peer_name (peer));
    char err[256] = "";
    zmsg_t *zmsg = NULL;
    ASSERT_EQ (mp_wire_encode (msg, &fp_key, &zmsg, err, sizeof err), MP_OK);
    ASSERT_NOT_NULL (zmsg);
    zmsg_t *copy = zmsg_dup (zmsg);
    ASSERT_EQ (zmsg_send (&zmsg, fp_peer_sock (peer)), 0);
    mp_msg_destroy (&msg);
    return copy;
}

//  What the local peer sent reaches the coordinator byte for byte.
static void s_expect_relayed (s_fixture_t *f, zmsg_t **sent_p)
{
    zmsg_t *sent = *sent_p;
    zmsg_t *got = NULL;
    mp_msg_t *msg = s_coord_recv (f, FP_WAIT_MS, &got);
    ASSERT_NOT_NULL (msg);
    ASSERT_EQ (zmsg_size (got), 3);
    zframe_t *a = zmsg_first (sent), *b = zmsg_first (got);
    for (size_t i = 0; i < 3; i++, a = zmsg_next (sent), b = zmsg_next (got))
        ASSERT_TRUE (zframe_eq (a, b));
    mp_msg_destroy (&msg);
    zmsg_destroy (&got);
    zmsg_destroy (sent_p);
}

//  Nothing reaches the coordinator (the local peer's message was dropped).
static void s_expect_dropped (s_fixture_t *f, zmsg_t **sent_p)
{
    zmsg_destroy (sent_p);
    mp_msg_t *msg = s_coord_recv (f, FP_QUIET_MS, NULL);
    if (msg)
        MP_FAIL_AT ("expected nothing at the coordinator, got %s from %s",
                    mp_msg_name (mp_msg_type (msg)), mp_msg_from (msg));
}

#define BYTES(text) { text, sizeof text - 1 }
#define READY(run_) MP_PACK (zygote_ready, .run = run_, .collected = 3, .error = "")
#define STARTED(run_, unit_, pid_)                                                     \
    MP_PACK (unit_started, .run = run_, .unit = unit_, .pid = (uint64_t) (pid_))
#define BOARD_SET(run_) MP_PACK (board_set, .run = run_, .key = BYTES ("k"), .value = BYTES ("v"))
#define REPORT(run_, unit_)                                                            \
    MP_PACK (report, .run = run_, .unit = unit_, .kind = "logstart", .test = "t.py::a",  \
             .data = BYTES (""))

static void test_allowed_messages_are_relayed_verbatim (void)
{
    s_fixture_t f;
    s_start (&f);
    char unit[MP_PEER_NAME_MAX];
    s_unit_name (f.unit, unit);
    fp_peer_t *zygote = s_local (&f, "z42");
    fp_peer_t *proc = s_local (&f, unit);

    //  Up: the zygote's and the announced unit process's messages, as they were sent.
    zmsg_t *sent = s_local_send (zygote, NULL, READY (RUN));
    s_expect_relayed (&f, &sent);
    sent = s_local_send (proc, NULL, STARTED (RUN, 7, f.unit));
    s_expect_relayed (&f, &sent);
    sent = s_local_send (proc, NULL, REPORT (RUN, 7));
    s_expect_relayed (&f, &sent);
    sent = s_local_send (proc, NULL, BOARD_SET (RUN));
    s_expect_relayed (&f, &sent);
    sent = s_local_send (zygote, NULL,
                         MP_PACK (unit_exit, .run = RUN, .unit = 7,
                                  .pid = (uint64_t) f.unit, .status = 0));
    s_expect_relayed (&f, &sent);

    //  Down: to the local peer the coordinator names.
    const char *tests[] = { "t.py::a" };
    s_coord_send (&f, "z42", MP_PACK (unit, .run = RUN, .unit = 8, .group = "",
                                      .tests = { tests, 1 }));
    mp_msg_t *msg = fp_expect (zygote, MP_MSG_UNIT);
    ASSERT_STREQ (mp_msg_to (msg), "z42");
    ASSERT_STREQ (mp_msg_from (msg), "coord");
    mp_msg_destroy (&msg);
    s_coord_send (&f, unit, MP_PACK (ok, .value = 9));
    msg = fp_expect (proc, MP_MSG_OK);
    ASSERT_EQ (mp_msg_u64 (msg, MP_F_OK_value), 9);
    mp_msg_destroy (&msg);
    fp_expect_nothing (zygote, 0);

    fp_peer_destroy (&proc);
    fp_peer_destroy (&zygote);
    s_stop (&f);
}

static void test_zygote_of_a_run_not_live_is_dropped (void)
{
    s_fixture_t f;
    s_start (&f);
    fp_peer_t *zygote = s_local (&f, "z42");
    fp_peer_t *stranger = s_local (&f, "z43");

    //  No run 43 here.
    zmsg_t *sent = s_local_send (stranger, NULL, READY (43));
    s_expect_dropped (&f, &sent);
    //  Run 42's zygote speaks for run 42 only.
    sent = s_local_send (zygote, NULL, READY (43));
    s_expect_dropped (&f, &sent);
    sent = s_local_send (zygote, NULL, READY (RUN));
    s_expect_relayed (&f, &sent);

    //  Once the run is over, its zygote is told to leave and is not heard any more.
    s_coord_send (&f, "", MP_PACK (run_end, .run = RUN));
    mp_msg_t *msg = fp_expect (zygote, MP_MSG_RUN_END);
    ASSERT_EQ (mp_msg_u64 (msg, MP_F_RUN_END_run), RUN);
    mp_msg_destroy (&msg);
    sent = s_local_send (zygote, NULL, READY (RUN));
    s_expect_dropped (&f, &sent);

    fp_peer_destroy (&stranger);
    fp_peer_destroy (&zygote);
    s_stop (&f);
}

static void test_unit_process_must_announce_itself (void)
{
    s_fixture_t f;
    s_start (&f);
    char unit[MP_PEER_NAME_MAX];
    s_unit_name (f.unit, unit);
    fp_peer_t *proc = s_local (&f, unit);

    //  Not announced: nothing it says is relayed.
    zmsg_t *sent = s_local_send (proc, NULL, BOARD_SET (RUN));
    s_expect_dropped (&f, &sent);
    sent = s_local_send (proc, NULL, REPORT (RUN, 7));
    s_expect_dropped (&f, &sent);

    //  Announced, it is bound to its run and unit, and announces itself once.
    sent = s_local_send (proc, NULL, STARTED (RUN, 7, f.unit));
    s_expect_relayed (&f, &sent);
    sent = s_local_send (proc, NULL, BOARD_SET (43));
    s_expect_dropped (&f, &sent);
    sent = s_local_send (proc, NULL, REPORT (RUN, 8));
    s_expect_dropped (&f, &sent);
    sent = s_local_send (proc, NULL, STARTED (RUN, 8, f.unit));
    s_expect_dropped (&f, &sent);
    sent = s_local_send (proc, NULL, BOARD_SET (RUN));
    s_expect_relayed (&f, &sent);

    fp_peer_destroy (&proc);
    s_stop (&f);
}

static void test_unit_started_needs_a_new_child_of_the_zygote (void)
{
    s_fixture_t f;
    s_start (&f);
    char name[MP_PEER_NAME_MAX];

    //  This test's own process is no child of the zygote; nor is init.
    s_unit_name (getpid (), name);
    fp_peer_t *self = s_local (&f, name);
    zmsg_t *sent = s_local_send (self, NULL, STARTED (RUN, 7, getpid ()));
    s_expect_dropped (&f, &sent);
    fp_peer_t *init = s_local (&f, "u1");
    sent = s_local_send (init, NULL, STARTED (RUN, 7, 1));
    s_expect_dropped (&f, &sent);
    //  Nor is the zygote itself.
    s_unit_name (f.zygote, name);
    fp_peer_t *zygote_as_unit = s_local (&f, name);
    sent = s_local_send (zygote_as_unit, NULL, STARTED (RUN, 7, f.zygote));
    s_expect_dropped (&f, &sent);

    //  The real child: not for another pid than its own, nor for a run not here.
    s_unit_name (f.unit, name);
    fp_peer_t *proc = s_local (&f, name);
    sent = s_local_send (proc, NULL, STARTED (RUN, 7, getpid ()));
    s_expect_dropped (&f, &sent);
    sent = s_local_send (proc, NULL, STARTED (43, 7, f.unit));
    s_expect_dropped (&f, &sent);
    sent = s_local_send (proc, NULL, STARTED (RUN, 7, f.unit));
    s_expect_relayed (&f, &sent);

    fp_peer_destroy (&proc);
    fp_peer_destroy (&zygote_as_unit);
    fp_peer_destroy (&init);
    fp_peer_destroy (&self);
    s_stop (&f);
}

static void test_sender_must_match_its_connection (void)
{
    s_fixture_t f;
    s_start (&f);
    char unit[MP_PEER_NAME_MAX];
    s_unit_name (f.unit, unit);
    fp_peer_t *zygote = s_local (&f, "z42");
    fp_peer_t *proc = s_local (&f, unit);
    fp_peer_t *other = s_local (&f, "u999999");

    //  Each one's valid message, sent on another's connection.
    zmsg_t *sent = s_local_send (zygote, unit, STARTED (RUN, 7, f.unit));
    s_expect_dropped (&f, &sent);
    sent = s_local_send (proc, "z42", READY (RUN));
    s_expect_dropped (&f, &sent);
    sent = s_local_send (other, unit, STARTED (RUN, 7, f.unit));
    s_expect_dropped (&f, &sent);
    //  A name that is no local peer's, such as the agent's own, even on its own
    //  connection.
    fp_peer_t *impostor = s_local (&f, "agent-t");
    sent = s_local_send (impostor, NULL, mp_msg_new (MP_MSG_HEARTBEAT));
    s_expect_dropped (&f, &sent);
    sent = s_local_send (impostor, NULL, MP_PACK (zygote_exit, .run = RUN, .status = 1));
    s_expect_dropped (&f, &sent);
    fp_peer_destroy (&impostor);

    //  On their own connections, they pass.
    sent = s_local_send (proc, NULL, STARTED (RUN, 7, f.unit));
    s_expect_relayed (&f, &sent);
    sent = s_local_send (zygote, NULL, READY (RUN));
    s_expect_relayed (&f, &sent);

    fp_peer_destroy (&other);
    fp_peer_destroy (&proc);
    fp_peer_destroy (&zygote);
    s_stop (&f);
}

//  The state letter of a process in /proc, or 0 when it is gone.
static char s_proc_state (pid_t pid)
{
    char path[64], buf[512];
    snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
    FILE *file = fopen (path, "r");
    if (!file)
        return 0;
    size_t n = fread (buf, 1, sizeof buf - 1, file);
    fclose (file);
    buf[n] = '\0';
    char *end = strrchr (buf, ')');
    return end && end[1] == ' ' ? end[2] : 0;
}

static int s_alive (pid_t pid)
{
    char state = s_proc_state (pid);
    return state != 0 && state != 'Z' && state != 'X';
}

static void test_kill_only_its_own_unit_process (void)
{
    s_fixture_t f;
    s_start (&f);
    char unit[MP_PEER_NAME_MAX];
    s_unit_name (f.unit, unit);
    fp_peer_t *proc = s_local (&f, unit);
    zmsg_t *sent = s_local_send (proc, NULL, STARTED (RUN, 7, f.unit));
    s_expect_relayed (&f, &sent);

    //  A KILL that does not name it exactly (run, unit, pid) is refused.
    s_coord_send (&f, "", MP_PACK (kill, .run = RUN, .unit = 8, .pid = (uint64_t) f.unit));
    s_coord_send (&f, "", MP_PACK (kill, .run = 43, .unit = 7, .pid = (uint64_t) f.unit));
    s_coord_send (&f, "", MP_PACK (kill, .run = RUN, .unit = 7, .pid = (uint64_t) f.zygote));
    s_coord_send (&f, "", MP_PACK (kill, .run = RUN, .unit = 7,
                                   .pid = (uint64_t) f.unit + (1ull << 32)));
    zclock_sleep (FP_QUIET_MS);
    ASSERT_TRUE (s_alive (f.unit));
    ASSERT_TRUE (s_alive (f.zygote));

    //  The right one kills it.
    s_coord_send (&f, "", MP_PACK (kill, .run = RUN, .unit = 7, .pid = (uint64_t) f.unit));
    int64_t deadline = zclock_mono () + FP_WAIT_MS;
    while (s_alive (f.unit) && zclock_mono () < deadline)
        zclock_sleep (10);
    ASSERT_TRUE (!s_alive (f.unit));
    ASSERT_TRUE (s_alive (f.zygote));

    fp_peer_destroy (&proc);
    s_stop (&f);
}

static const mp_test_t tests[] = {
    MP_TEST (test_allowed_messages_are_relayed_verbatim),
    MP_TEST (test_zygote_of_a_run_not_live_is_dropped),
    MP_TEST (test_unit_process_must_announce_itself),
    MP_TEST (test_unit_started_needs_a_new_child_of_the_zygote),
    MP_TEST (test_sender_must_match_its_connection),
    MP_TEST (test_kill_only_its_own_unit_process),
    { NULL, NULL },
};

MP_TEST_MAIN (tests)
