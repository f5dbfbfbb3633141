//  The ZAP handler (ZeroMQ RFC 27) for CURVE connections to the coordinator.
#include "curve_auth.h"

#include "../common/error.h"
#include "../common/log.h"

struct mp_curve_auth_t {
    zsock_t *handler;       //  REP on the ZAP endpoint
    zcertstore_t *agents;   //  allowed agents' public keys
    zcertstore_t *clients;  //  allowed clients' public keys
    zhashx_t *lines;        //  open lines' keys (Z85) -> how many lines gave it
};

mp_curve_auth_t *mp_curve_auth_new (const char *agents_dir, const char *clients_dir,
                                    char *err, size_t errlen)
{
    mp_curve_auth_t *self = (mp_curve_auth_t *) calloc (1, sizeof *self);
    if (!self) {
        mp_set_error (err, errlen, "out of memory");
        return NULL;
    }
    const char *dirs[] = { agents_dir, clients_dir };
    for (int i = 0; i < 2; i++)
        if (!dirs[i] || !zsys_file_exists (dirs[i])) {
            mp_set_error (err, errlen, "no directory of allowed %s keys at %s",
                          i == 0 ? "agents'" : "clients'", dirs[i] ? dirs[i] : "(none given)");
            goto fail;
        }
    self->agents = zcertstore_new (agents_dir);
    self->clients = zcertstore_new (clients_dir);
    self->handler = zsock_new (ZMQ_REP);
    self->lines = zhashx_new ();
    if (!self->agents || !self->clients || !self->handler || !self->lines) {
        mp_set_error (err, errlen, "out of memory");
        goto fail;
    }
    if (zsock_bind (self->handler, "inproc://zeromq.zap.01") == -1) {
        mp_set_error (err, errlen, "cannot bind the ZAP handler: %s",
                      zmq_strerror (zmq_errno ()));
        goto fail;
    }
    return self;
fail:
    mp_curve_auth_destroy (&self);
    return NULL;
}

void mp_curve_auth_destroy (mp_curve_auth_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    mp_curve_auth_t *self = *self_p;
    zsock_destroy (&self->handler);
    zcertstore_destroy (&self->agents);
    zcertstore_destroy (&self->clients);
    zhashx_destroy (&self->lines);
    free (self);
    *self_p = NULL;
}

zsock_t *mp_curve_auth_socket (mp_curve_auth_t *self)
{
    return self->handler;
}

void mp_curve_auth_handle (mp_curve_auth_t *self)
{
    //  version, request id, domain, address, identity, mechanism, credentials...
    zmsg_t *request = zmsg_recv (self->handler);
    if (!request)
        return;
    char *version = zmsg_popstr (request);
    zframe_t *id = zmsg_pop (request); //  opaque: echoed as it came
    char *domain = zmsg_popstr (request), *address = zmsg_popstr (request);
    zframe_t *identity = zmsg_pop (request);
    char *mechanism = zmsg_popstr (request);
    zframe_t *key = zmsg_pop (request);
    const char *user = NULL;
    char key_text[41] = "", line_user[sizeof MP_CURVE_LINE + 40] = "";
    if (mechanism && streq (mechanism, "CURVE") && key && zframe_size (key) == 32) {
        zmq_z85_encode (key_text, zframe_data (key), 32);
        if (zcertstore_lookup (self->agents, key_text))
            user = MP_CURVE_AGENT;
        else if (zcertstore_lookup (self->clients, key_text))
            user = MP_CURVE_CLIENT;
        else if (zhashx_lookup (self->lines, key_text)) {
            snprintf (line_user, sizeof line_user, "%s%s", MP_CURVE_LINE, key_text);
            user = line_user;
        }
    }
    if (!user)
        mp_warn_limited ("refused a %s connection from %s: key %s is in no allow-list",
                         mechanism ? mechanism : "?", address ? address : "?",
                         *key_text ? key_text : "(none)");
    zmsg_t *reply = zmsg_new ();
    zmsg_addstr (reply, "1.0");
    if (id)
        zmsg_append (reply, &id);
    else
        zmsg_addmem (reply, "", 0);
    zmsg_addstr (reply, user ? "200" : "400");
    zmsg_addstr (reply, user ? "OK" : "key not allowed");
    zmsg_addstr (reply, user ? user : "");
    zmsg_addmem (reply, "", 0); //  no metadata
    zmsg_send (&reply, self->handler);
    zstr_free (&version);
    zframe_destroy (&id);
    zstr_free (&domain);
    zstr_free (&address);
    zstr_free (&mechanism);
    zframe_destroy (&identity);
    zframe_destroy (&key);
    zmsg_destroy (&request);
}

int mp_curve_auth_allow_line (mp_curve_auth_t *self, const char *key)
{
    uintptr_t count = (uintptr_t) zhashx_lookup (self->lines, key);
    if (count)
        zhashx_update (self->lines, key, (void *) (count + 1));
    else if (zhashx_insert (self->lines, key, (void *) (uintptr_t) 1) != 0)
        return MP_ENOMEM;
    return MP_OK;
}

void mp_curve_auth_forget_line (mp_curve_auth_t *self, const char *key)
{
    uintptr_t count = (uintptr_t) zhashx_lookup (self->lines, key);
    if (count > 1)
        zhashx_update (self->lines, key, (void *) (count - 1));
    else if (count == 1)
        zhashx_delete (self->lines, key);
}
