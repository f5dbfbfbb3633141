//  Messages on czmq sockets: one signed message is three frames (codec.h); a ROUTER
//  prepends the peer's routing id, which callers push and pop themselves.
#ifndef MP_WIRE_H
#define MP_WIRE_H

#include <czmq.h>

#include "codec.h"
#include "replay.h"

//  Encodes msg into a new zmsg of three frames, in *zmsg_p. MP_OK, or a code of
//  mp_codec_encode or MP_ENOMEM, with a reason in err.
int mp_wire_encode (const mp_msg_t *msg, const mp_key_t *key, zmsg_t **zmsg_p, char *err,
                    size_t errlen);

//  Decodes the three frames of zmsg (not consumed) into a new message in *msg_p. MP_OK,
//  or MP_EPROTO (not three frames) or a code of mp_codec_decode, with a reason in err.
int mp_wire_decode (zmsg_t *zmsg, const mp_key_t *key, const mp_limits_t *limits,
                    mp_msg_t **msg_p, char *err, size_t errlen);

//  What a daemon receives: mp_wire_decode, then the replay check (replay.h), which
//  remembers the message's place in its sender's sequence. MP_OK, or a code of
//  either, with a reason in err; *msg_p is written only on MP_OK.
int mp_wire_receive (zmsg_t *zmsg, const mp_key_t *key, mp_replay_t *replay,
                     mp_msg_t **msg_p, char *err, size_t errlen);

//  Signs and sends msg, to the peer routing_id when it is not NULL (ROUTER sockets).
//  MP_OK, or with a reason in err: a code of mp_wire_encode, MP_ENOMEM, or MP_EIO when
//  zmq refuses the message.
int mp_wire_send (zsock_t *sock, zframe_t *routing_id, const mp_msg_t *msg,
                  const mp_key_t *key, char *err, size_t errlen);

#endif
