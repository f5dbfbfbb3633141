//  Who may connect over CURVE, and as what: the coordinator's ZAP handler.
//
//  With CURVE on, every TCP peer proves that it holds the secret half of a public key,
//  and the handshake succeeds only when that key is in one of two allow-lists:
//  directories of public certificates (czmq zcert files) of agents and of clients
//  (front ends). The connection's ZAP user id, which every message arriving on it
//  carries as its "User-Id" property, is then MP_CURVE_AGENT or MP_CURVE_CLIENT:
//  the coordinator allows an agent's key only the agent's roles (and those of the
//  zygotes and unit processes it relays), a client's key only a front end's. A third
//  kind of key is given at run time, not from a directory: the key of a unit
//  process's line, accepted while the line is open, with MP_CURVE_LINE<key> as user.
#ifndef MP_CURVE_AUTH_H
#define MP_CURVE_AUTH_H

#include <czmq.h>

#define MP_CURVE_AGENT "agent"
#define MP_CURVE_CLIENT "client"
//  A unit process's line (lines.h): its user id is this prefix and its key in Z85.
#define MP_CURVE_LINE "line:"
#define MP_CURVE_DOMAIN "pytest-mp"

typedef struct mp_curve_auth_t mp_curve_auth_t;

//  Binds the process's ZAP endpoint and loads both allow-lists (re-read when they
//  change). NULL with a reason in err.
mp_curve_auth_t *mp_curve_auth_new (const char *agents_dir, const char *clients_dir,
                                    char *err, size_t errlen);
void mp_curve_auth_destroy (mp_curve_auth_t **self_p);
//  The socket a reactor reads ZAP requests from; answer each with mp_curve_auth_handle.
zsock_t *mp_curve_auth_socket (mp_curve_auth_t *self);
void mp_curve_auth_handle (mp_curve_auth_t *self);
//  Accepts (allow) or stops accepting (forget) a line's key (Z85): counted, so a key
//  given twice stays until forgotten twice. Connections made meanwhile stay up; each
//  message on them is checked against the line it names. allow: MP_OK or MP_ENOMEM.
int mp_curve_auth_allow_line (mp_curve_auth_t *self, const char *key);
void mp_curve_auth_forget_line (mp_curve_auth_t *self, const char *key);

#endif
