//  The client library (what the Python side loads): requests and their replies, posts,
//  messages kept for later, timeouts and bad signatures, against a fake ROUTER server
//  on ipc:// in a private directory (the client has a zmq context of its own).
#include <czmq.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/client.h"
#include "common/error.h"
#include "proto/wire.h"
#include "tests/c/testing.h"

#define KEY_TEXT "a client test's key, 32 bytes.."
static const mp_key_t s_key = { .bytes = KEY_TEXT, .len = sizeof KEY_TEXT - 1 };
static const mp_key_t s_wrong = { .bytes = "not the key the client was given", .len = 32 };

typedef struct {
    char dir[64];
    char key_file[128];
    char endpoint[128];
    zsock_t *server;
    zframe_t *route; //  the client's connection, once it sent something
    mpc_t *client;
} s_fixture_t;

static void s_start (s_fixture_t *f)
{
    memset (f, 0, sizeof *f);
    zsys_init ();
    snprintf (f->dir, sizeof f->dir, "/tmp/mp-test-client-XXXXXX");
    ASSERT_NOT_NULL (mkdtemp (f->dir));
    snprintf (f->key_file, sizeof f->key_file, "%s/key", f->dir);
    snprintf (f->endpoint, sizeof f->endpoint, "ipc://%s/server.ipc", f->dir);
    FILE *file = fopen (f->key_file, "w");
    ASSERT_NOT_NULL (file);
    fputs (KEY_TEXT "\n", file);
    fclose (file);
    ASSERT_EQ (chmod (f->key_file, 0600), 0);
    f->server = zsock_new (ZMQ_ROUTER);
    ASSERT_NOT_NULL (f->server);
    zsock_set_linger (f->server, 0);
    ASSERT_EQ (zsock_bind (f->server, "%s", f->endpoint), 0);
    char err[256] = "";
    f->client = mpc_new (f->endpoint, f->key_file, "front1", err, sizeof err);
    if (!f->client)
        MP_FAIL_AT ("mpc_new: %s", err);
}

static void s_stop (s_fixture_t *f)
{
    mpc_destroy (&f->client);
    ASSERT_NULL (f->client);
    zframe_destroy (&f->route);
    zsock_destroy (&f->server);
    char path[160];
    snprintf (path, sizeof path, "%s/server.ipc", f->dir);
    unlink (path);
    unlink (f->key_file);
    rmdir (f->dir);
}

//  The server's next message (5 s at most); it learns the client's connection.
static mp_msg_t *s_server_recv (s_fixture_t *f)
{
    zpoller_t *poller = zpoller_new (f->server, NULL);
    void *ready = zpoller_wait (poller, 5000);
    zpoller_destroy (&poller);
    ASSERT_NOT_NULL (ready);
    zmsg_t *zmsg = zmsg_recv (f->server);
    ASSERT_NOT_NULL (zmsg);
    zframe_t *route = zmsg_pop (zmsg);
    ASSERT_TRUE (zframe_streq (route, "front1")); //  its name is its routing id
    zframe_destroy (&f->route);
    f->route = route;
    char err[256] = "";
    mp_msg_t *msg = NULL;
    if (mp_wire_decode (zmsg, &s_key, &mp_limits_default, &msg, err, sizeof err) != MP_OK)
        MP_FAIL_AT ("the server cannot read the client's message: %s", err);
    ASSERT_STREQ (mp_msg_from (msg), "front1");
    zmsg_destroy (&zmsg);
    return msg;
}

//  The server sends msg (taken) with a request id, signed with key.
static void s_server_send (s_fixture_t *f, uint64_t reqid, mp_msg_t *msg, const mp_key_t *key)
{
    ASSERT_NOT_NULL (f->route);
    ASSERT_NOT_NULL (msg);
    mp_msg_set_reqid (msg, reqid);
    mp_msg_set_from (msg, "coord");
    mp_msg_set_to (msg, "front1");
    char err[256] = "";
    ASSERT_EQ (mp_wire_send (f->server, f->route, msg, key, err, sizeof err), 0);
    mp_msg_destroy (&msg);
}

//  The client posts AGENTS (no waiting) and the server receives it: its request id.
static uint64_t s_post (s_fixture_t *f)
{
    mp_msg_t *msg = mp_msg_new (MP_MSG_AGENTS);
    uint64_t reqid = mpc_send (f->client, msg);
    ASSERT_NE (reqid, 0);
    ASSERT_EQ (mp_msg_reqid (msg), reqid);
    mp_msg_destroy (&msg);
    mp_msg_t *got = s_server_recv (f);
    ASSERT_EQ (mp_msg_type (got), MP_MSG_AGENTS);
    ASSERT_EQ (mp_msg_reqid (got), reqid);
    mp_msg_destroy (&got);
    return reqid;
}

//  The OK's value, and that it is an OK.
static uint64_t s_ok_value (mp_msg_t *msg)
{
    ASSERT_NOT_NULL (msg);
    mp_ok_msg_t ok;
    ASSERT_EQ (mp_ok_msg_view (msg, &ok), MP_OK);
    return ok.value;
}

static void test_request_gets_its_reply (void)
{
    s_fixture_t f;
    s_start (&f);
    uint64_t first = s_post (&f);
    ASSERT_EQ (first, 1);
    //  The client's next request id is the next number: its answer can wait ahead.
    s_server_send (&f, 2, MP_PACK (ok, .value = 77), &s_key);
    mp_msg_t *request = mp_msg_new (MP_MSG_AGENTS);
    mp_msg_t *reply = mpc_request (f.client, request, 2000);
    ASSERT_EQ (mp_msg_reqid (request), 2);
    ASSERT_EQ (mp_msg_reqid (reply), 2);
    ASSERT_EQ (s_ok_value (reply), 77);
    mp_msg_destroy (&reply);
    mp_msg_destroy (&request);
    //  The request reached the server as sent.
    mp_msg_t *got = s_server_recv (&f);
    ASSERT_EQ (mp_msg_type (got), MP_MSG_AGENTS);
    ASSERT_EQ (mp_msg_reqid (got), 2);
    mp_msg_destroy (&got);
    //  A request id given by the caller is kept.
    s_server_send (&f, 1000, MP_PACK (ok, .value = 5), &s_key);
    request = mp_msg_new (MP_MSG_AGENTS);
    mp_msg_set_reqid (request, 1000);
    reply = mpc_request (f.client, request, 2000);
    ASSERT_EQ (s_ok_value (reply), 5);
    mp_msg_destroy (&reply);
    mp_msg_destroy (&request);
    s_stop (&f);
}

static void test_earlier_replies_dropped_others_kept (void)
{
    s_fixture_t f;
    s_start (&f);
    uint64_t post = s_post (&f);
    //  Ahead of the request's answer: the post's refusal, news with no request id,
    //  and an answer to a request not yet made.
    s_server_send (&f, post, MP_PACK (error, .code = MP_EAUTH, .reason = "not yours"), &s_key);
    const char *tests[] = { "t.py::a" };
    s_server_send (&f, 0, MP_PACK (unit, .run = 3, .unit = 4, .group = "",
                                   .tests = { tests, 1 }), &s_key);
    s_server_send (&f, post + 5, MP_PACK (ok, .value = 55), &s_key);
    s_server_send (&f, post + 1, MP_PACK (ok, .value = 11), &s_key);

    mp_msg_t *request = mp_msg_new (MP_MSG_AGENTS);
    mp_msg_t *reply = mpc_request (f.client, request, 2000);
    mp_msg_destroy (&request);
    ASSERT_EQ (mp_msg_reqid (reply), post + 1);
    ASSERT_EQ (s_ok_value (reply), 11);
    mp_msg_destroy (&reply);
    ASSERT_STRSTR (mpc_error (f.client), "not yours");

    //  The others wait for mpc_recv, in order; the refusal is not among them.
    mp_msg_t *msg = mpc_recv (f.client, 0);
    ASSERT_NOT_NULL (msg);
    ASSERT_EQ (mp_msg_type (msg), MP_MSG_UNIT);
    ASSERT_EQ (mp_msg_u64 (msg, MP_F_UNIT_unit), 4);
    mpc_msg_free (msg);
    ASSERT_EQ (mpc_wait (f.client, NULL, 0, 0), 1);
    msg = mpc_recv (f.client, 0);
    ASSERT_EQ (mp_msg_reqid (msg), post + 5);
    ASSERT_EQ (s_ok_value (msg), 55);
    mpc_msg_free (msg);
    ASSERT_NULL (mpc_recv (f.client, 100));
    ASSERT_STRSTR (mpc_error (f.client), "timeout");
    s_stop (&f);
}

static void test_timeouts_return_null_and_say_so (void)
{
    s_fixture_t f;
    s_start (&f);
    s_post (&f);
    mp_msg_t *request = mp_msg_new (MP_MSG_AGENTS);
    int64_t start = zclock_mono ();
    ASSERT_NULL (mpc_request (f.client, request, 200));
    int64_t took = zclock_mono () - start;
    ASSERT_GE (took, 190);
    ASSERT_LT (took, 2000);
    ASSERT_STRSTR (mpc_error (f.client), "no reply to AGENTS within 200 ms");
    ASSERT_EQ (mpc_errno (f.client), MP_ETIMEDOUT);
    mp_msg_destroy (&request);

    start = zclock_mono ();
    ASSERT_NULL (mpc_recv (f.client, 150));
    ASSERT_GE (zclock_mono () - start, 140);
    ASSERT_STRSTR (mpc_error (f.client), "timeout");
    ASSERT_EQ (mpc_errno (f.client), MP_ETIMEDOUT);
    //  A wait that times out has not failed; a failing one says why, by its code too.
    ASSERT_EQ (mpc_wait (f.client, NULL, 0, 50), 0);
    ASSERT_EQ (mpc_errno (f.client), MP_OK);
    ASSERT_EQ (mpc_wait (f.client, NULL, -1, 50), MP_EINVAL);
    ASSERT_EQ (mpc_errno (f.client), MP_EINVAL);
    ASSERT_STRSTR (mpc_error (f.client), "negative count");
    s_stop (&f);
}

static void test_bad_signatures_are_dropped (void)
{
    s_fixture_t f;
    s_start (&f);
    uint64_t post = s_post (&f);
    //  The request's answer first forged (wrong key), then malformed, then real.
    s_server_send (&f, post + 1, MP_PACK (ok, .value = 666), &s_wrong);
    zmsg_t *two = zmsg_new ();
    zmsg_pushstr (two, "one");
    zmsg_addstr (two, "two");
    zframe_t *route = zframe_dup (f.route);
    zmsg_prepend (two, &route);
    ASSERT_EQ (zmsg_send (&two, f.server), 0);
    s_server_send (&f, post + 1, MP_PACK (ok, .value = 1), &s_key);
    mp_msg_t *request = mp_msg_new (MP_MSG_AGENTS);
    mp_msg_t *reply = mpc_request (f.client, request, 2000);
    mp_msg_destroy (&request);
    ASSERT_EQ (s_ok_value (reply), 1);
    mp_msg_destroy (&reply);
    //  The call succeeded: its code says so, whatever it dropped on the way.
    ASSERT_EQ (mpc_errno (f.client), MP_OK);

    //  mpc_recv too: a forged message is skipped, the real one after it returned.
    s_server_send (&f, 0, MP_PACK (run_end, .run = 666), &s_wrong);
    s_server_send (&f, 0, MP_PACK (run_end, .run = 7), &s_key);
    mp_msg_t *msg = mpc_recv (f.client, 2000);
    ASSERT_NOT_NULL (msg);
    ASSERT_EQ (mp_msg_u64 (msg, MP_F_RUN_END_run), 7);
    mpc_msg_free (msg);
    //  Only forged ones: nothing, by the deadline.
    s_server_send (&f, 0, MP_PACK (run_end, .run = 666), &s_wrong);
    ASSERT_NULL (mpc_recv (f.client, 200));
    s_stop (&f);
}

//  mpc_request_all on a thread of its own, while the test plays the server.
typedef struct {
    mpc_t *client;
    mp_msg_t *msgs[5];
    size_t window;
    int rc;
} s_batch_t;

static void *s_batch_run (void *arg)
{
    s_batch_t *batch = (s_batch_t *) arg;
    batch->rc = mpc_request_all (batch->client, batch->msgs, 5, batch->window, 2000);
    return NULL;
}

static void s_batch_start (s_fixture_t *f, s_batch_t *batch, pthread_t *thread)
{
    memset (batch, 0, sizeof *batch);
    batch->client = f->client;
    batch->window = 2;
    for (size_t i = 0; i < 5; i++)
        batch->msgs[i] = MP_PACK (plan_unit, .run = 1, .unit = 10 + i, .group = "");
    ASSERT_EQ (pthread_create (thread, NULL, s_batch_run, batch), 0);
}

static void s_batch_free (s_batch_t *batch)
{
    for (size_t i = 0; i < 5; i++)
        mp_msg_destroy (&batch->msgs[i]);
}

//  Whether the server has a message within timeout_ms.
static int s_server_has (s_fixture_t *f, int timeout_ms)
{
    zpoller_t *poller = zpoller_new (f->server, NULL);
    int ready = zpoller_wait (poller, timeout_ms) != NULL;
    zpoller_destroy (&poller);
    return ready;
}

static void test_request_all_keeps_a_window_and_waits_for_every_answer (void)
{
    s_fixture_t f;
    s_start (&f);
    uint64_t post = s_post (&f);
    s_batch_t batch;
    pthread_t thread;
    s_batch_start (&f, &batch, &thread);
    //  Two go at once; a third only once one is answered.
    uint64_t ids[5];
    for (size_t i = 0; i < 2; i++) {
        mp_msg_t *got = s_server_recv (&f);
        ASSERT_EQ (mp_msg_type (got), MP_MSG_PLAN_UNIT);
        ASSERT_EQ (mp_msg_u64 (got, MP_F_PLAN_UNIT_unit), 10 + i);
        ids[i] = mp_msg_reqid (got);
        mp_msg_destroy (&got);
    }
    ASSERT_EQ (ids[0], post + 1);
    ASSERT_EQ (ids[1], post + 2);
    ASSERT_EQ (s_server_has (&f, 200), 0);
    //  Answered out of order, with news and the post's answer in between.
    s_server_send (&f, post, MP_PACK (ok, .value = 0), &s_key);
    s_server_send (&f, 0, MP_PACK (run_end, .run = 9), &s_key);
    s_server_send (&f, ids[1], MP_PACK (ok, .value = 0), &s_key);
    //  Each next one goes as an answer frees the window: answer these after it.
    const size_t then[] = { 0, 2, 3 };
    for (size_t i = 2; i < 5; i++) {
        mp_msg_t *got = s_server_recv (&f);
        ASSERT_EQ (mp_msg_u64 (got, MP_F_PLAN_UNIT_unit), 10 + i);
        ids[i] = mp_msg_reqid (got);
        ASSERT_EQ (ids[i], post + 1 + i);
        mp_msg_destroy (&got);
        s_server_send (&f, ids[then[i - 2]], MP_PACK (ok, .value = 0), &s_key);
    }
    //  Four answered; the last is still owed.
    ASSERT_EQ (s_server_has (&f, 100), 0);
    s_server_send (&f, ids[4], MP_PACK (ok, .value = 0), &s_key);
    ASSERT_EQ (pthread_join (thread, NULL), 0);
    ASSERT_EQ (batch.rc, MP_OK);
    ASSERT_EQ (mpc_errno (f.client), MP_OK);
    s_batch_free (&batch);
    //  The news waits for mpc_recv.
    mp_msg_t *msg = mpc_recv (f.client, 0);
    ASSERT_NOT_NULL (msg);
    ASSERT_EQ (mp_msg_u64 (msg, MP_F_RUN_END_run), 9);
    mpc_msg_free (msg);
    //  Request ids go on after the batch's.
    ASSERT_EQ (s_post (&f), post + 6);
    s_stop (&f);
}

static void test_request_all_stops_at_a_refusal (void)
{
    s_fixture_t f;
    s_start (&f);
    s_batch_t batch;
    pthread_t thread;
    s_batch_start (&f, &batch, &thread);
    mp_msg_t *got = s_server_recv (&f);
    uint64_t first = mp_msg_reqid (got);
    mp_msg_destroy (&got);
    got = s_server_recv (&f);
    mp_msg_destroy (&got);
    s_server_send (&f, first + 1, MP_PACK (error, .code = MP_EINVAL, .reason = "no such group"),
                   &s_key);
    ASSERT_EQ (pthread_join (thread, NULL), 0);
    ASSERT_EQ (batch.rc, MP_EINVAL);
    ASSERT_EQ (mpc_errno (f.client), MP_EINVAL);
    ASSERT_STRSTR (mpc_error (f.client), "PLAN_UNIT refused: no such group");
    //  The first's late answer is dropped, as an earlier post's, by the next request.
    s_server_send (&f, first, MP_PACK (ok, .value = 1), &s_key);
    uint64_t next = first + 5;
    s_server_send (&f, next, MP_PACK (ok, .value = 42), &s_key);
    mp_msg_t *request = mp_msg_new (MP_MSG_AGENTS);
    mp_msg_t *reply = mpc_request (f.client, request, 2000);
    ASSERT_EQ (mp_msg_reqid (request), next);
    ASSERT_EQ (s_ok_value (reply), 42);
    mp_msg_destroy (&reply);
    mp_msg_destroy (&request);
    s_batch_free (&batch);
    //  A window of nothing is refused.
    ASSERT_EQ (mpc_request_all (f.client, NULL, 0, 0, 100), MP_EINVAL);
    s_stop (&f);
}

static void test_new_refuses_a_bad_key_file (void)
{
    zsys_init ();
    char dir[] = "/tmp/mp-test-client-XXXXXX";
    ASSERT_NOT_NULL (mkdtemp (dir));
    char path[128], err[256] = "";
    snprintf (path, sizeof path, "%s/key", dir);
    //  Missing.
    ASSERT_NULL (mpc_new ("ipc:///nonexistent", path, "front1", err, sizeof err));
    ASSERT_TRUE (err[0] != '\0');
    //  Readable by others.
    FILE *file = fopen (path, "w");
    ASSERT_NOT_NULL (file);
    fputs (KEY_TEXT, file);
    fclose (file);
    ASSERT_EQ (chmod (path, 0644), 0);
    err[0] = '\0';
    ASSERT_NULL (mpc_new ("ipc:///nonexistent", path, "front1", err, sizeof err));
    ASSERT_TRUE (err[0] != '\0');
    unlink (path);
    rmdir (dir);
}

static const mp_test_t tests[] = {
    MP_TEST (test_request_gets_its_reply),
    MP_TEST (test_earlier_replies_dropped_others_kept),
    MP_TEST (test_timeouts_return_null_and_say_so),
    MP_TEST (test_bad_signatures_are_dropped),
    MP_TEST (test_request_all_keeps_a_window_and_waits_for_every_answer),
    MP_TEST (test_request_all_stops_at_a_refusal),
    MP_TEST (test_new_refuses_a_bad_key_file),
    { NULL, NULL },
};

MP_TEST_MAIN (tests)
