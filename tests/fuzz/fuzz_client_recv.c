//  libFuzzer target for the client library's receive path: what mpc_recv and
//  mpc_request do with a multipart message that arrives (client/client.c, s_recv_one
//  and the reply matching of mpc_request).
//
//  client.c reads only from its socket, so the target plays the coordinator: a ROUTER
//  of its own, bound once on an abstract ipc endpoint, with an mpc_t (empty key)
//  connected to it. Each input becomes one multipart message from the ROUTER, followed
//  by a sentinel (a valid OK, reqid R, from "coord-sentinel") that bounds every wait.
//
//  Input: a flag byte, then up to 4 frames, each a 2-byte big-endian length and that
//  many bytes (fewer when the input ends first).
//    bit 0 (sign):    the third frame is replaced by (or, with two frames, is) the right
//                     HMAC of the first two under the client's key
//    bit 1 (request): the client calls mpc_request (AGENTS, reqid R) instead of mpc_recv
//    bit 2 (fresh):   the first frame is not sent as is but describes a header the
//                     target has the codec write with the current time (the client checks
//                     the clock, which no stored input can pass): byte 0 the type (modulo
//                     the catalogue's types, in number order, as for fuzz_body), byte 1
//                     the reqid (0: 0, 1: R, 2: R - 1, 3: R + 1, else the next 8 bytes,
//                     big-endian)
//
//  The client must then behave as its header says, checked against mp_codec_decode of
//  the same frames: mpc_recv returns a message that decodes (equal to it) and drops one
//  that does not; mpc_request returns a reply with reqid R, drops other replies to
//  earlier requests and keeps the rest for mpc_recv. Every wait ends well before its
//  5 s timeout; a timeout aborts.
#include "../../client/client.h"
#include "fuzzing.h"

#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define S_TIMEOUT_MS 5000
#define S_CLIENT "fuzzclient"
#define S_SENTINEL "coord-sentinel"

static void *s_ctx, *s_router;
static mpc_t *s_client;
static uint64_t s_serial;
static const mp_key_t s_empty = { .len = 0 };

static void s_cleanup (void)
{
    mpc_destroy (&s_client);
    if (s_router)
        zmq_close (s_router);
    if (s_ctx)
        zmq_ctx_term (s_ctx);
    s_router = s_ctx = NULL;
}

//  Receives and discards one multipart message on the ROUTER.
static void s_router_drain_one (void)
{
    zmq_pollitem_t item = { s_router, 0, ZMQ_POLLIN, 0 };
    FZ_CHECK (zmq_poll (&item, 1, S_TIMEOUT_MS) == 1, "nothing from the client");
    int more = 1;
    while (more) {
        zmq_msg_t part;
        zmq_msg_init (&part);
        FZ_CHECK (zmq_msg_recv (&part, s_router, 0) >= 0, "router recv: %s",
                  zmq_strerror (zmq_errno ()));
        more = zmq_msg_more (&part);
        zmq_msg_close (&part);
    }
}

static void s_init (void)
{
    if (s_client)
        return;
    char endpoint[64], err[256] = "";
    snprintf (endpoint, sizeof endpoint, "ipc://@mp-fuzz-client-%d", (int) getpid ());
    s_ctx = zmq_ctx_new ();
    s_router = s_ctx ? zmq_socket (s_ctx, ZMQ_ROUTER) : NULL;
    FZ_CHECK (s_router != NULL, "router");
    int zero = 0, one = 1;
    zmq_setsockopt (s_router, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt (s_router, ZMQ_ROUTER_MANDATORY, &one, sizeof one);
    FZ_CHECK (zmq_bind (s_router, endpoint) == 0, "bind %s: %s", endpoint,
              zmq_strerror (zmq_errno ()));
    s_client = mpc_new (endpoint, NULL, S_CLIENT, err, sizeof err);
    FZ_CHECK (s_client != NULL, "mpc_new: %s", err);
    atexit (s_cleanup);
    //  The ROUTER learns the client's routing id from its first message.
    mp_msg_t *hello = mp_msg_new (MP_MSG_HEARTBEAT);
    FZ_CHECK (hello && mpc_send (s_client, hello) != 0, "send: %s", mpc_error (s_client));
    mp_msg_destroy (&hello);
    s_router_drain_one ();
}

static void s_send_frames (uint8_t *const *frames, const size_t *lens, size_t n)
{
    FZ_CHECK (zmq_send (s_router, S_CLIENT, strlen (S_CLIENT), ZMQ_SNDMORE) >= 0,
              "router send: %s", zmq_strerror (zmq_errno ()));
    for (size_t i = 0; i < n; i++)
        FZ_CHECK (zmq_send (s_router, frames[i], lens[i], i + 1 < n ? ZMQ_SNDMORE : 0) >= 0,
                  "router send: %s", zmq_strerror (zmq_errno ()));
}

static void s_send_msg (mp_msg_t *msg)
{
    mp_frames_t f;
    char err[256];
    FZ_CHECK (mp_codec_encode (msg, &s_empty, &f, err, sizeof err) == MP_OK, "%s", err);
    uint8_t *frames[3] = { f.header, f.body, f.mac };
    size_t lens[3] = { f.header_len, f.body_len, MP_MAC_LEN };
    s_send_frames (frames, lens, 3);
    mp_frames_clear (&f);
}

static int s_is_sentinel (mp_msg_t *msg, uint64_t serial)
{
    return mp_msg_type (msg) == MP_MSG_OK && fz_str_eq (mp_msg_from (msg), S_SENTINEL)
           && mp_msg_u64 (msg, MP_F_OK_value) == serial;
}

static uint64_t s_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

//  mpc_recv, again when a signal cut its wait short (libFuzzer's SIGALRM timer does):
//  an interrupted wait is a timeout to the client library, by design.
static mp_msg_t *s_recv (void)
{
    uint64_t deadline = s_now_ms () + S_TIMEOUT_MS;
    mp_msg_t *msg = NULL;
    do
        msg = mpc_recv (s_client, S_TIMEOUT_MS);
    while (!msg && mpc_errno (s_client) == MP_ETIMEDOUT && s_now_ms () < deadline);
    return msg;
}

//  The fresh header a first frame describes (see the top), in malloc'd memory.
static uint8_t *s_fresh_header (const uint8_t *spec, size_t len, uint64_t r, size_t *out_len)
{
    static int types[256];
    static size_t ntypes;
    if (!ntypes)
        ntypes = fz_types (types, 256);
    int type = types[(len > 0 ? spec[0] : 0) % ntypes];
    uint64_t reqid = 0;
    switch (len > 1 ? spec[1] : 0) {
    case 0: reqid = 0; break;
    case 1: reqid = r; break;
    case 2: reqid = r - 1; break;
    case 3: reqid = r + 1; break;
    default:
        for (size_t i = 2; i < len && i < 10; i++)
            reqid = reqid << 8 | spec[i];
    }
    return fz_header (type, reqid, "coord", S_CLIENT, s_now_ms (), out_len);
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    s_init ();
    if (size < 1)
        return 0;
    uint64_t serial = ++s_serial;
    uint64_t r = ((uint64_t) 1 << 32) + serial; //  the request's reqid
    unsigned flags = data[0];
    uint8_t *frames[4];
    size_t lens[4], n = 0, at = 1;
    while (n < 4 && size - at >= 2) {
        size_t len = (size_t) data[at] << 8 | data[at + 1];
        at += 2;
        if (len > size - at)
            len = size - at;
        frames[n] = (uint8_t *) data + at;
        lens[n++] = len;
        at += len;
    }
    uint8_t *header = NULL, mac[MP_MAC_LEN];
    if ((flags & 4) && n > 0) {
        header = s_fresh_header (frames[0], lens[0], r, &lens[0]);
        frames[0] = header;
    }
    if ((flags & 1) && n >= 2) {
        FZ_CHECK (mp_hmac (&s_empty, frames[0], lens[0], frames[1], lens[1], mac) == MP_OK,
                  "hmac");
        frames[2] = mac;
        lens[2] = MP_MAC_LEN;
        if (n == 2)
            n = 3;
    }

    //  What the client should make of it.
    mp_msg_t *expected = NULL;
    if (n == 3)
        expected = fz_decode (frames[0], lens[0], frames[1], lens[1], frames[2], lens[2],
                              &s_empty, &mp_limits_default, NULL);

    if (n > 0)
        s_send_frames (frames, lens, n);
    mp_msg_t *sentinel = MP_PACK (ok, .value = serial);
    FZ_CHECK (sentinel && mp_msg_set_from (sentinel, S_SENTINEL) == MP_OK, "sentinel");
    mp_msg_set_reqid (sentinel, r);
    s_send_msg (sentinel);
    mp_msg_destroy (&sentinel);

    mp_msg_t *got = NULL;
    int keep = 0; //  1 when the client should hold the message for mpc_recv
    if (flags & 2) {
        mp_msg_t *request = mp_msg_new (MP_MSG_AGENTS);
        FZ_CHECK (request != NULL, "request");
        mp_msg_set_reqid (request, r);
        got = mpc_request (s_client, request, S_TIMEOUT_MS);
        mp_msg_destroy (&request);
        FZ_CHECK (got != NULL, "mpc_request: %d %s", mpc_errno (s_client),
                  mpc_error (s_client));
        FZ_CHECK (mpc_errno (s_client) == MP_OK, "mpc_errno %d after a reply",
                  mpc_errno (s_client));
        s_router_drain_one ();
        if (expected && mp_msg_reqid (expected) == r) {
            FZ_CHECK (!s_is_sentinel (got, serial), "the reply to the request was skipped");
            fz_check_equal (expected, got);
            mp_msg_destroy (&got);
        }
        else {
            FZ_CHECK (s_is_sentinel (got, serial), "mpc_request returned another message");
            mp_msg_destroy (&got);
            keep = expected && (mp_msg_reqid (expected) == 0 || mp_msg_reqid (expected) > r);
        }
    }
    else
        keep = expected != NULL;

    //  Then mpc_recv: the message kept (or received), then the sentinel (unless
    //  mpc_request returned it), then nothing.
    int sentinel_seen = (flags & 2) && !(expected && mp_msg_reqid (expected) == r);
    if (keep) {
        got = s_recv ();
        FZ_CHECK (got != NULL, "mpc_recv: %s", mpc_error (s_client));
        FZ_CHECK (!s_is_sentinel (got, serial), "the message was dropped");
        fz_check_equal (expected, got);
        mp_msg_destroy (&got);
    }
    if (!sentinel_seen) {
        got = s_recv ();
        FZ_CHECK (got != NULL, "mpc_recv: %s", mpc_error (s_client));
        FZ_CHECK (s_is_sentinel (got, serial), "%s instead of the sentinel",
                  mp_msg_name (mp_msg_type (got)));
        mp_msg_destroy (&got);
    }
    got = mpc_recv (s_client, 0);
    FZ_CHECK (got == NULL && mpc_errno (s_client) == MP_ETIMEDOUT, "a message too many: %s",
              got ? mp_msg_name (mp_msg_type (got)) : mpc_error (s_client));
    mp_msg_destroy (&expected);
    free (header);
    return 0;
}
