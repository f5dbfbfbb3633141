#include "wire.h"

#include "../common/clock.h"

#include "../common/error.h"

int mp_wire_encode (const mp_msg_t *msg, const mp_key_t *key, zmsg_t **zmsg_p, char *err,
                    size_t errlen)
{
    mp_frames_t frames;
    int rc = mp_codec_encode (msg, key, &frames, err, errlen);
    if (rc != MP_OK)
        return rc;
    zmsg_t *zmsg = zmsg_new ();
    if (!zmsg || zmsg_addmem (zmsg, frames.header, frames.header_len) != 0
        || zmsg_addmem (zmsg, frames.body, frames.body_len) != 0
        || zmsg_addmem (zmsg, frames.mac, MP_MAC_LEN) != 0) {
        zmsg_destroy (&zmsg);
        mp_frames_clear (&frames);
        mp_set_error (err, errlen, "out of memory building frames");
        return MP_ENOMEM;
    }
    mp_frames_clear (&frames);
    *zmsg_p = zmsg;
    return MP_OK;
}

int mp_wire_decode (zmsg_t *zmsg, const mp_key_t *key, const mp_limits_t *limits,
                    mp_msg_t **msg_p, char *err, size_t errlen)
{
    if (zmsg_size (zmsg) != 3) {
        mp_set_error (err, errlen, "expected 3 frames, got %zu", zmsg_size (zmsg));
        return MP_EPROTO;
    }
    zframe_t *header = zmsg_first (zmsg);
    zframe_t *body = zmsg_next (zmsg);
    zframe_t *mac = zmsg_next (zmsg);
    return mp_codec_decode (zframe_data (header), zframe_size (header), zframe_data (body),
                            zframe_size (body), zframe_data (mac), zframe_size (mac), key,
                            limits, msg_p, err, errlen);
}

int mp_wire_send (zsock_t *sock, zframe_t *routing_id, const mp_msg_t *msg,
                  const mp_key_t *key, char *err, size_t errlen)
{
    zmsg_t *zmsg;
    int rc = mp_wire_encode (msg, key, &zmsg, err, errlen);
    if (rc != MP_OK)
        return rc;
    if (routing_id) {
        zframe_t *copy = zframe_dup (routing_id);
        if (!copy || zmsg_prepend (zmsg, &copy) != 0) {
            zframe_destroy (&copy);
            zmsg_destroy (&zmsg);
            mp_set_error (err, errlen, "out of memory adding routing id");
            return MP_ENOMEM;
        }
    }
    if (zmsg_send (&zmsg, sock) != 0) {
        zmsg_destroy (&zmsg);
        mp_set_error (err, errlen, "send failed: %s", zmq_strerror (zmq_errno ()));
        return MP_EIO;
    }
    return MP_OK;
}

int mp_wire_receive (zmsg_t *zmsg, const mp_key_t *key, mp_replay_t *replay,
                     mp_msg_t **msg_p, char *err, size_t errlen)
{
    mp_msg_t *msg = NULL;
    int rc = mp_wire_decode (zmsg, key, &mp_limits_default, &msg, err, errlen);
    if (rc == MP_OK)
        rc = mp_replay_check (replay, msg, mp_clock_mono_ms (), err, errlen);
    if (rc != MP_OK) {
        mp_msg_destroy (&msg);
        return rc;
    }
    *msg_p = msg;
    return MP_OK;
}
