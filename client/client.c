#include "client.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "../common/clock.h"
#include "../common/curve_cert.h"
#include "../common/error.h"
#include "../proto/codec.h"
#include "../proto/reconnect.h"
#include "../proto/replay.h"
#include "../proto/sender.h"

#define MP_CLIENT_LINGER_MS 5000

typedef struct s_pending_t {
    mp_msg_t *msg;
    struct s_pending_t *next;
} s_pending_t;

struct mpc_t {
    void *ctx;
    void *sock;
    mp_key_t key;
    char *name;
    uint64_t next_reqid;
    s_pending_t *head, *tail; //  received while waiting for a reply
    uint64_t dropped;
    mp_sender_t sender;  //  its session and sequence on the wire
    mp_replay_t *replay; //  the coordinator's (and agent's) sessions seen
    char error[512]; //  reason of the last failure (mpc_error)
    int code;        //  its mp_err_t, MP_OK after a success (mpc_errno)
};

//  Records a failure: its code and its reason, always together.
static void s_error (mpc_t *self, int code, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
static void s_error (mpc_t *self, int code, const char *fmt, ...)
{
    self->code = code;
    va_list args;
    va_start (args, fmt);
    mp_vset_error (self->error, sizeof self->error, fmt, args);
    va_end (args);
}

mpc_t *mpc_new (const char *endpoint, const char *key_file, const char *name, char *err,
                size_t errlen)
{
    return mpc_new_curve (endpoint, key_file, name, NULL, NULL, err, errlen);
}

//  Sets the socket's CURVE keys (Z85): its key pair and the server's key.
static int s_apply_curve (void *sock, const char *public_key, const char *secret_key,
                          const char *server_key, char *err, size_t errlen)
{
    if (zmq_setsockopt (sock, ZMQ_CURVE_SERVERKEY, server_key, MP_CURVE_KEY_Z85) != 0
        || zmq_setsockopt (sock, ZMQ_CURVE_PUBLICKEY, public_key, MP_CURVE_KEY_Z85) != 0
        || zmq_setsockopt (sock, ZMQ_CURVE_SECRETKEY, secret_key, MP_CURVE_KEY_Z85) != 0) {
        mp_set_error (err, errlen, "cannot use CURVE: %s", zmq_strerror (zmq_errno ()));
        return MP_EIO;
    }
    return MP_OK;
}

//  A client with CURVE keys as Z85 text (public_key NULL: no CURVE). A line queues
//  nothing before it is connected: a request that finds no connection within
//  MP_LINE_SEND_MS is not sent at all (MP_ESTATE), and may go another way.
static mpc_t *s_new (const char *endpoint, const char *key_file, const char *name,
                     const char *public_key, const char *secret_key, const char *server_key,
                     int line, char *err, size_t errlen)
{
    mpc_t *self = (mpc_t *) calloc (1, sizeof *self);
    if (!self) {
        mp_set_error (err, errlen, "out of memory");
        return NULL;
    }
    self->next_reqid = 1;
    if (mp_key_load (&self->key, key_file, err, errlen) != MP_OK)
        goto fail;
    self->replay = mp_replay_new (2 * mp_limits_default.max_skew_ms);
    if (!self->replay || mp_sender_init (&self->sender) != MP_OK) {
        mp_set_error (err, errlen, "out of memory or randomness");
        goto fail;
    }
    self->name = strdup (name);
    self->ctx = zmq_ctx_new ();
    self->sock = self->ctx ? zmq_socket (self->ctx, ZMQ_DEALER) : NULL;
    if (!self->name || !self->sock) {
        mp_set_error (err, errlen, "cannot create a socket: %s", zmq_strerror (zmq_errno ()));
        goto fail;
    }
    int linger = MP_CLIENT_LINGER_MS;
    zmq_setsockopt (self->sock, ZMQ_LINGER, &linger, sizeof linger);
    int64_t max_size = (int64_t) mp_limits_default.max_body;
    zmq_setsockopt (self->sock, ZMQ_MAXMSGSIZE, &max_size, sizeof max_size);
    int first = MP_RECONNECT_FIRST_MS, most = MP_RECONNECT_MAX_MS;
    zmq_setsockopt (self->sock, ZMQ_RECONNECT_IVL, &first, sizeof first);
    zmq_setsockopt (self->sock, ZMQ_RECONNECT_IVL_MAX, &most, sizeof most);
    if (public_key
        && s_apply_curve (self->sock, public_key, secret_key, server_key, err, errlen) != MP_OK)
        goto fail;
    if (line) {
        //  Before connecting: both apply to the connections made after them.
        int immediate = 1, timeout = MP_LINE_SEND_MS;
        zmq_setsockopt (self->sock, ZMQ_IMMEDIATE, &immediate, sizeof immediate);
        zmq_setsockopt (self->sock, ZMQ_SNDTIMEO, &timeout, sizeof timeout);
    }
    if (zmq_setsockopt (self->sock, ZMQ_ROUTING_ID, name, strlen (name)) != 0
        || zmq_connect (self->sock, endpoint) != 0) {
        mp_set_error (err, errlen, "cannot connect to %s as %s: %s", endpoint, name,
                      zmq_strerror (zmq_errno ()));
        goto fail;
    }
    return self;
fail:
    mpc_destroy (&self);
    return NULL;
}

mpc_t *mpc_new_curve (const char *endpoint, const char *key_file, const char *name,
                      const char *cert, const char *server_cert, char *err, size_t errlen)
{
    if (!cert || !*cert)
        return s_new (endpoint, key_file, name, NULL, NULL, NULL, 0, err, errlen);
    char public_key[MP_CURVE_KEY_Z85], secret_key[MP_CURVE_KEY_Z85],
        server_key[MP_CURVE_KEY_Z85];
    if (mp_curve_cert_read (cert, public_key, secret_key, err, errlen) != MP_OK
        || mp_curve_cert_read (server_cert, server_key, NULL, err, errlen) != MP_OK)
        return NULL;
    return s_new (endpoint, key_file, name, public_key, secret_key, server_key, 0, err, errlen);
}

int mpc_curve_keypair (char *public_key, char *secret_key)
{
    return zmq_curve_keypair (public_key, secret_key) == 0 ? MP_OK : MP_EIO;
}

mpc_t *mpc_new_line (const char *endpoint, const char *key_file, const char *name,
                     const char *public_key, const char *secret_key, const char *server_key,
                     char *err, size_t errlen)
{
    int curve = server_key && *server_key;
    uint8_t raw[32];
    if (curve
        && (strlen (server_key) != MP_CURVE_KEY_Z85 - 1 || !zmq_z85_decode (raw, server_key)
            || !public_key || strlen (public_key) != MP_CURVE_KEY_Z85 - 1 || !secret_key
            || strlen (secret_key) != MP_CURVE_KEY_Z85 - 1)) {
        mp_set_error (err, errlen, "a line's keys must be Z85 CURVE keys");
        return NULL;
    }
    return s_new (endpoint, key_file, name, curve ? public_key : NULL, secret_key, server_key,
                  1, err, errlen);
}

static void s_free_pending (mpc_t *self)
{
    while (self->head) {
        s_pending_t *next = self->head->next;
        mp_msg_destroy (&self->head->msg);
        free (self->head);
        self->head = next;
    }
    self->tail = NULL;
}

void mpc_destroy (mpc_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    mpc_t *self = *self_p;
    if (self->sock)
        zmq_close (self->sock);
    if (self->ctx)
        zmq_ctx_term (self->ctx);
    s_free_pending (self);
    mp_replay_destroy (&self->replay);
    free (self->name);
    free (self);
    *self_p = NULL;
}

void mpc_forget (mpc_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    s_free_pending (*self_p);
    mp_replay_destroy (&(*self_p)->replay);
    free ((*self_p)->name);
    free (*self_p);
    *self_p = NULL;
}

const char *mpc_error (mpc_t *self)
{
    return self->error;
}

int mpc_errno (mpc_t *self)
{
    return self->code;
}

uint64_t mpc_send (mpc_t *self, mp_msg_t *msg)
{
    if (mp_msg_reqid (msg) == 0)
        mp_msg_set_reqid (msg, self->next_reqid++);
    int code = mp_msg_set_from (msg, self->name);
    if (code != MP_OK) {
        s_error (self, code, "out of memory");
        return 0;
    }
    mp_sender_stamp (&self->sender, msg);
    mp_frames_t frames;
    char err[256];
    code = mp_codec_encode (msg, &self->key, &frames, err, sizeof err);
    if (code != MP_OK) {
        s_error (self, code, "cannot encode %s: %s", mp_msg_name (mp_msg_type (msg)), err);
        return 0;
    }
    int rc = zmq_send (self->sock, frames.header, frames.header_len, ZMQ_SNDMORE);
    if (rc >= 0)
        rc = zmq_send (self->sock, frames.body, frames.body_len, ZMQ_SNDMORE);
    if (rc >= 0)
        rc = zmq_send (self->sock, frames.mac, MP_MAC_LEN, 0);
    mp_frames_clear (&frames);
    if (rc < 0 && zmq_errno () == EAGAIN) {
        //  Only a line has a send timeout, and its first frame did not go: none did.
        s_error (self, MP_ESTATE, "not sent: no connection within %d ms", MP_LINE_SEND_MS);
        return 0;
    }
    if (rc < 0) {
        s_error (self, MP_EIO, "send failed: %s", zmq_strerror (zmq_errno ()));
        return 0;
    }
    self->code = MP_OK;
    return mp_msg_reqid (msg);
}

//  Receives one multipart message already known to be waiting (or blocks).
static mp_msg_t *s_recv_one (mpc_t *self)
{
    zmq_msg_t parts[3];
    size_t nparts = 0;
    int more = 1, ok = 1;
    while (more) {
        zmq_msg_t part;
        zmq_msg_init (&part);
        if (zmq_msg_recv (&part, self->sock, 0) < 0) {
            s_error (self, MP_EIO, "receive failed: %s", zmq_strerror (zmq_errno ()));
            zmq_msg_close (&part);
            for (size_t i = 0; i < nparts; i++)
                zmq_msg_close (&parts[i]);
            return NULL;
        }
        more = zmq_msg_more (&part);
        if (nparts < 3)
            parts[nparts++] = part;
        else {
            ok = 0;
            zmq_msg_close (&part);
        }
    }
    mp_msg_t *msg = NULL;
    char err[256] = "expected 3 frames";
    int code = MP_EPROTO;
    if (ok && nparts == 3)
        code = mp_codec_decode (zmq_msg_data (&parts[0]), zmq_msg_size (&parts[0]),
                                zmq_msg_data (&parts[1]), zmq_msg_size (&parts[1]),
                                zmq_msg_data (&parts[2]), zmq_msg_size (&parts[2]),
                                &self->key, &mp_limits_default, &msg, err, sizeof err);
    for (size_t i = 0; i < nparts; i++)
        zmq_msg_close (&parts[i]);
    if (code == MP_OK)
        code = mp_replay_check (self->replay, msg, mp_clock_mono_ms (), err, sizeof err);
    if (code != MP_OK) {
        mp_msg_destroy (&msg);
        self->dropped++;
        s_error (self, code, "dropped a bad message: %s", err);
    }
    return msg;
}

int mpc_wait (mpc_t *self, const int *fds, int nfds, int timeout_ms)
{
    if (self->head)
        return 1;
    if (nfds < 0) {
        s_error (self, MP_EINVAL, "negative count of file descriptors");
        return MP_EINVAL;
    }
    zmq_pollitem_t *items = (zmq_pollitem_t *) calloc ((size_t) nfds + 1, sizeof *items);
    if (!items) {
        s_error (self, MP_ENOMEM, "out of memory");
        return MP_ENOMEM;
    }
    items[0] = (zmq_pollitem_t) { self->sock, 0, ZMQ_POLLIN, 0 };
    for (int i = 0; i < nfds; i++)
        items[1 + i] = (zmq_pollitem_t) { NULL, fds[i], ZMQ_POLLIN, 0 };
    int rc = zmq_poll (items, nfds + 1, timeout_ms), ready = 0;
    if (rc < 0) {
        //  Interrupted: as a timeout, so that the caller looks at its signals.
        ready = zmq_errno () == EINTR ? 0 : MP_EIO;
        s_error (self, ready, "poll failed: %s", zmq_strerror (zmq_errno ()));
    }
    else if (items[0].revents & ZMQ_POLLIN)
        ready = 1;
    else
        for (int i = 0; i < nfds && !ready; i++)
            if (items[1 + i].revents)
                ready = 2 + i;
    free (items);
    if (ready >= 0)
        self->code = MP_OK;
    return ready;
}

mp_msg_t *mpc_recv (mpc_t *self, int timeout_ms)
{
    if (self->head) {
        s_pending_t *first = self->head;
        mp_msg_t *msg = first->msg;
        self->head = first->next;
        if (!self->head)
            self->tail = NULL;
        free (first);
        self->code = MP_OK;
        return msg;
    }
    for (;;) {
        int rc = mpc_wait (self, NULL, 0, timeout_ms);
        if (rc == 0) {
            s_error (self, MP_ETIMEDOUT, "timeout");
            return NULL;
        }
        if (rc < 0)
            return NULL;
        mp_msg_t *msg = s_recv_one (self);
        if (msg) {
            self->code = MP_OK;
            return msg;
        }
        //  A dropped message does not end the wait; the clock restarts, as is simplest.
    }
}

//  The next message for a caller waiting on request ids [lo, hi): an answer to one
//  of them, returned. Answers to earlier posts are dropped (a refusal among them is
//  noted in the error); other messages are kept for mpc_recv. NULL on failure
//  (MP_ETIMEDOUT when nothing came within timeout_ms, MP_EIO, MP_ENOMEM).
static mp_msg_t *s_await (mpc_t *self, uint64_t lo, uint64_t hi, int timeout_ms,
                          const char *what)
{
    for (;;) {
        int rc = zmq_poll (&(zmq_pollitem_t) { self->sock, 0, ZMQ_POLLIN, 0 }, 1, timeout_ms);
        if (rc < 0 && zmq_errno () == EINTR)
            continue;
        if (rc == 0) {
            s_error (self, MP_ETIMEDOUT, "no reply to %s within %d ms", what, timeout_ms);
            return NULL;
        }
        if (rc < 0) {
            s_error (self, MP_EIO, "poll failed: %s", zmq_strerror (zmq_errno ()));
            return NULL;
        }
        mp_msg_t *reply = s_recv_one (self);
        if (!reply)
            continue;
        uint64_t reqid = mp_msg_reqid (reply);
        if (reqid >= lo && reqid < hi)
            return reply;
        if (reqid != 0 && reqid < lo) {
            //  The answer to an earlier post, which nobody waits for.
            mp_error_msg_t error;
            if (mp_error_msg_view (reply, &error) == MP_OK)
                s_error (self, (int) error.code, "an earlier message was refused: %s",
                         error.reason);
            mp_msg_destroy (&reply);
            continue;
        }
        s_pending_t *pending = (s_pending_t *) calloc (1, sizeof *pending);
        if (!pending) {
            mp_msg_destroy (&reply);
            s_error (self, MP_ENOMEM, "out of memory");
            return NULL;
        }
        pending->msg = reply;
        if (self->tail)
            self->tail->next = pending;
        else
            self->head = pending;
        self->tail = pending;
    }
}

mp_msg_t *mpc_request (mpc_t *self, mp_msg_t *msg, int timeout_ms)
{
    uint64_t reqid = mpc_send (self, msg);
    if (reqid == 0)
        return NULL;
    mp_msg_t *reply = s_await (self, reqid, reqid + 1, timeout_ms,
                               mp_msg_name (mp_msg_type (msg)));
    if (reply)
        self->code = MP_OK;
    return reply;
}

int mpc_request_all (mpc_t *self, mp_msg_t **msgs, size_t n, size_t window, int timeout_ms)
{
    if (window == 0) {
        s_error (self, MP_EINVAL, "a window of 0 requests");
        return MP_EINVAL;
    }
    //  Request ids of their own, consecutive, so that an answer is known by its id.
    uint64_t first = self->next_reqid;
    self->next_reqid += n;
    size_t sent = 0, answered = 0;
    while (answered < n) {
        while (sent < n && sent - answered < window) {
            mp_msg_set_reqid (msgs[sent], first + sent);
            if (mpc_send (self, msgs[sent]) == 0)
                return self->code;
            sent++;
        }
        mp_msg_t *reply = s_await (self, first, first + sent, timeout_ms,
                                   mp_msg_name (mp_msg_type (msgs[answered])));
        if (!reply)
            return self->code;
        mp_error_msg_t error;
        if (mp_error_msg_view (reply, &error) == MP_OK) {
            //  The rest's answers, if any come, are dropped as an earlier post's.
            s_error (self, error.code ? (int) error.code : MP_EPROTO, "%s refused: %s",
                     mp_msg_name (mp_msg_type (msgs[mp_msg_reqid (reply) - first])),
                     error.reason);
            mp_msg_destroy (&reply);
            return self->code;
        }
        mp_msg_destroy (&reply);
        answered++;
    }
    self->code = MP_OK;
    return MP_OK;
}

void mpc_msg_free (mp_msg_t *msg)
{
    mp_msg_destroy (&msg);
}

int mpc_key_generate (const char *path, char *err, size_t errlen)
{
    return mp_key_generate_file (path, err, errlen);
}
