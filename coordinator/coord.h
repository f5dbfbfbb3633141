//  mp-coord's one reactor: a ROUTER socket that agents and front ends connect to.
#ifndef MP_COORD_H
#define MP_COORD_H

#include <stddef.h>
#include <stdint.h>

#include "../common/key.h"

typedef struct {
    const char **listen;       //  endpoints to bind
    size_t nlisten;
    mp_key_t key;
    uint64_t heartbeat_ms;     //  agents send one this often
    uint64_t expiry_ms;        //  an agent silent this long is gone
    uint64_t unit_ack_ms;      //  a unit sent but not started this long is taken back
                               //  (0: MP_UNIT_ACK_MS)
    //  CURVE (curve_auth.h): its key pair (a zcert secret file), and the directories of
    //  the public keys allowed to connect as agents and as clients. NULL: no CURVE.
    const char *curve_cert;
    const char *agent_keys;
    const char *client_keys;
} mp_coord_config_t;

typedef struct mp_coord_t mp_coord_t;

//  Binds every endpoint; NULL with a reason in err (no memory, or an endpoint it
//  cannot listen on).
mp_coord_t *mp_coord_new (const mp_coord_config_t *config, char *err, size_t errlen);
void mp_coord_destroy (mp_coord_t **self_p);
//  Serves until interrupted (SIGINT/SIGTERM). MP_OK, or MP_EIO when its reactor cannot
//  be set up (logged).
int mp_coord_run (mp_coord_t *self);

#endif
