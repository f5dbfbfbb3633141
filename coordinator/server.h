//  mp-coord's one reactor: a ROUTER socket that agents and front ends connect to.
#ifndef MP_SERVER_H
#define MP_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "../common/key.h"

typedef struct {
    const char **listen;       //  endpoints to bind
    size_t nlisten;
    mp_key_t key;
    uint64_t heartbeat_ms;     //  agents send one this often
    uint64_t expiry_ms;        //  an agent silent this long is gone
} mp_server_config_t;

typedef struct mp_server_t mp_server_t;

//  Binds every endpoint; NULL with a reason in err.
mp_server_t *mp_server_new (const mp_server_config_t *config, char *err, size_t errlen);
void mp_server_destroy (mp_server_t **self_p);
//  Serves until interrupted (SIGINT/SIGTERM). Returns 0, or -1 on a fatal error.
int mp_server_run (mp_server_t *self);

#endif
