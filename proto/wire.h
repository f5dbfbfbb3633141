//  Messages on czmq sockets: one signed message is three frames (codec.h); a ROUTER
//  prepends the peer's routing id, which callers push and pop themselves.
#ifndef MP_WIRE_H
#define MP_WIRE_H

#include <czmq.h>

#include "codec.h"

//  Encodes msg into a new zmsg of three frames; NULL with a reason in err.
zmsg_t *mp_wire_encode (const mp_msg_t *msg, const mp_key_t *key, char *err, size_t errlen);

//  Decodes the three frames of zmsg (not consumed); NULL with a reason and code.
mp_msg_t *mp_wire_decode (zmsg_t *zmsg, const mp_key_t *key, const mp_limits_t *limits,
                          int *code, char *err, size_t errlen);

//  Signs and sends msg, to the peer routing_id when it is not NULL (ROUTER sockets).
//  Returns 0, or -1 with a reason in err.
int mp_wire_send (zsock_t *sock, zframe_t *routing_id, const mp_msg_t *msg,
                  const mp_key_t *key, char *err, size_t errlen);

#endif
