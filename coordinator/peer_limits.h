//  What the coordinator allows a connection before it proves anything, and how logs
//  name a connection.
//
//  A connection that sends more than MP_BAD_PEER_LIMIT messages that fail to decode
//  (bad MAC, malformed, stale) within MP_BAD_PEER_WINDOW_MS has its further messages
//  dropped unread until that window ends: no MAC is computed over its frames. At
//  most MP_BAD_PEER_MAX connections are tracked at once; past that, new offenders are
//  only counted and logged (rate-limited).
#ifndef MP_PEER_LIMITS_H
#define MP_PEER_LIMITS_H

#include <czmq.h>
#include <stdint.h>

#define MP_BAD_PEER_LIMIT 20
#define MP_BAD_PEER_WINDOW_MS 10000
#define MP_BAD_PEER_MAX 4096

typedef struct mp_peer_limits_t mp_peer_limits_t;

//  NULL when out of memory.
mp_peer_limits_t *mp_peer_limits_new (void);
void mp_peer_limits_destroy (mp_peer_limits_t **self_p);

//  1 when messages from this connection are dropped unread now.
int mp_peer_limits_blocked (mp_peer_limits_t *self, zframe_t *route, uint64_t now_ms);
//  A message from the connection failed to decode. 1 when this one blocks it.
int mp_peer_limits_bad (mp_peer_limits_t *self, zframe_t *route, uint64_t now_ms);
//  Forgets the windows that ended.
void mp_peer_limits_expire (mp_peer_limits_t *self, uint64_t now_ms);
size_t mp_peer_limits_size (mp_peer_limits_t *self);

//  How logs name the connection a message came on (route, its routing id; frame, one
//  of the message's own frames, which carry the connection's properties): the address
//  the transport saw, which the peer cannot choose, and its routing id, which it can.
//  "10.0.0.5 (id 00a1b2c3d4)", or "local (id ...)" for transports without addresses
//  (or a NULL frame).
void mp_peer_describe (zframe_t *route, zframe_t *frame, char *buf, size_t size);

#endif
