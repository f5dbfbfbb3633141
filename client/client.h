//  The client library the Python plugin loads with ctypes: one signed DEALER
//  connection (plain libzmq with a context of its own, so a forked child can start
//  afresh) plus the message API of proto/msg.h, exported as is.
//
//  How the client object reports failure (its one way, for callers such as ctypes that
//  cannot pass an err buffer on every call): a call that fails says so by its return
//  value (NULL, 0 or negative, as each says below), and the object keeps the failure:
//  mpc_errno gives its mp_err_t (common/error.h) and mpc_error its reason, both set
//  together. A call that succeeds sets mpc_errno to MP_OK; mpc_error keeps the last
//  reason, which may tell of a message dropped on the way.
#ifndef MP_CLIENT_H
#define MP_CLIENT_H

#include "../proto/msg.h"

typedef struct mpc_t mpc_t;

//  Connects to endpoint, signing with the key in key_file (NULL or "" for none), as
//  the named peer (its routing id too). NULL with a reason in err (no memory, a key
//  file it cannot load, an endpoint it cannot connect to).
mpc_t *mpc_new (const char *endpoint, const char *key_file, const char *name, char *err,
                size_t errlen);
//  The same over CURVE: cert is this client's key pair file and server_cert the
//  coordinator's public key file (both as `mp-coord --gen-cert` writes them); NULL or
//  "" for cert means no CURVE.
mpc_t *mpc_new_curve (const char *endpoint, const char *key_file, const char *name,
                      const char *cert, const char *server_cert, char *err, size_t errlen);
//  How long a line waits for its connection before a request is given up unsent.
#define MP_LINE_SEND_MS 3000

//  Draws a CURVE key pair, as Z85 text (41 bytes each with the NUL). MP_OK or MP_EIO.
int mpc_curve_keypair (char *public_key, char *secret_key);
//  A unit process's line to the coordinator (LINE_OPEN): over CURVE with the given key
//  pair when server_key, the coordinator's public key in Z85, is not empty. Unlike
//  other connections it queues nothing before it is connected: a request that finds
//  no connection within MP_LINE_SEND_MS fails with MP_ESTATE, not sent. NULL with a
//  reason in err.
mpc_t *mpc_new_line (const char *endpoint, const char *key_file, const char *name,
                     const char *public_key, const char *secret_key, const char *server_key,
                     char *err, size_t errlen);
//  Closes the connection, waiting up to 5 s for unsent messages to leave.
void mpc_destroy (mpc_t **self_p);
//  Frees the object without touching its sockets: for a child after fork(), where
//  the parent's connection must be left alone.
void mpc_forget (mpc_t **self_p);

//  Sends msg (keeps ownership), giving it the next request id when it has none.
//  Returns the request id, or 0 on failure (MP_ENOMEM, an encoding code, MP_EIO when
//  zmq refuses it).
uint64_t mpc_send (mpc_t *self, mp_msg_t *msg);
//  The next message (owned by the caller), or NULL on timeout (MP_ETIMEDOUT; -1 waits
//  forever) or error (MP_EIO). Messages that fail to verify are dropped and counted.
mp_msg_t *mpc_recv (mpc_t *self, int timeout_ms);
//  Sends msg and waits for the reply with its request id. Replies to earlier
//  requests (posts: sent with mpc_send and not waited for) are dropped; other
//  messages that arrive meanwhile are kept for mpc_recv. NULL on failure: MP_ETIMEDOUT
//  when no reply came in time, or a code of mpc_send, MP_EIO, MP_ENOMEM.
mp_msg_t *mpc_request (mpc_t *self, mp_msg_t *msg, int timeout_ms);
//  Sends n requests (their request ids are set here), at most window of them
//  unanswered at a time, and waits for every answer: for many requests whose answers
//  only say they were taken (a plan's units), about one round trip rather than one
//  each. The answers are dropped. MP_OK when every one was taken; else the code of
//  the first refused (an ERROR answer, whose reason mpc_error gives), MP_ETIMEDOUT
//  when no answer came within timeout_ms of the one before, a code of mpc_send, or
//  MP_EINVAL for a window of 0. Other messages are kept for mpc_recv, as above.
int mpc_request_all (mpc_t *self, mp_msg_t **msgs, size_t n, size_t window, int timeout_ms);
//  Waits for a message or for one of fds to become readable. Returns 0 on timeout,
//  1 when a message is waiting, 2 + i when fds[i] is readable (an interrupted wait is a
//  timeout), or a negative mp_err_t on error (MP_EINVAL, MP_ENOMEM, MP_EIO).
int mpc_wait (mpc_t *self, const int *fds, int nfds, int timeout_ms);
//  The reason of the last failure ("" before any).
const char *mpc_error (mpc_t *self);
//  The mp_err_t of the last call: MP_OK after a success.
int mpc_errno (mpc_t *self);

//  For ctypes, which cannot pass a pointer to a pointer comfortably.
void mpc_msg_free (mp_msg_t *msg);

//  Writes a fresh key file (mode 0600). MP_OK, or MP_EINVAL or MP_EIO with a reason in
//  err (mp_key_generate_file).
int mpc_key_generate (const char *path, char *err, size_t errlen);

#endif
