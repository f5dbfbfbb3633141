//  mp-agent's reactor: one connection to the coordinator, one local socket for the
//  zygotes and unit processes it supervises, whose messages it relays.
#ifndef MP_AGENT_H
#define MP_AGENT_H

#include <stddef.h>
#include <sys/types.h>

#include "../common/key.h"

typedef struct {
    const char *connect;   //  coordinator endpoint
    size_t slots;
    mp_key_t key;
    const char *key_file;  //  handed to workers ("" when there is no key)
    const char *workdir;   //  absolute
    const char *python;
    const char *name;
    const char *hostname;
    const char *const *labels; //  KEY or KEY=VALUE each, what it offers
    size_t nlabels;
    int relay_sync;        //  1: unit processes send sync requests through it only
    //  A zygote made ready by the front end that started this agent (pytest --mp): a
    //  child of ours, forked from the front end after its configuration, waiting on a
    //  socket for its run (--zygote-ready PID:FD). Used for the first early run. 0/-1:
    //  none.
    pid_t ready_zygote;
    int ready_fd;
    //  CURVE: its key pair and the coordinator's public key, as Z85 text; "" for none.
    char curve_public[41], curve_secret[41], coord_public[41];
} mp_agent_config_t;

typedef struct mp_agentd_t mp_agentd_t;

//  Connects and sets up its local socket; NULL with a reason in err (no memory, a
//  socket or a directory it cannot make).
mp_agentd_t *mp_agentd_new (const mp_agent_config_t *config, char *err, size_t errlen);
//  Kills every process it started, then frees everything.
void mp_agentd_destroy (mp_agentd_t **self_p);
//  Serves until SIGINT/SIGTERM. MP_OK, or MP_EIO when its reactor cannot be set up
//  (logged).
int mp_agentd_run (mp_agentd_t *self);

#endif
