//  Encoding messages into signed frames; see codec.h. Decoding lives in decode.c.
#include "codec.h"
#include "../common/clock.h"
#include "../common/error.h"

#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

const mp_limits_t mp_limits_default = {
    .max_header = 1024,
    .max_body = (size_t) 64 << 20,
    .max_list = (size_t) 1 << 20,
    .max_str = (size_t) 64 << 10,
    .max_skew_ms = 300 * 1000,
};

static int s_pack_str (msgpack_packer *pk, const char *s)
{
    size_t len = strlen (s);
    return msgpack_pack_str (pk, len) || msgpack_pack_str_body (pk, s, len) ? MP_ENOMEM : MP_OK;
}

static int s_pack_bin (msgpack_packer *pk, const void *data, size_t len)
{
    return msgpack_pack_bin (pk, len) || msgpack_pack_bin_body (pk, data, len) ? MP_ENOMEM : MP_OK;
}

static int s_pack_header (msgpack_packer *pk, const mp_msg_t *msg)
{
    uint64_t ts = mp_msg_ts (msg);
    if (ts == 0)
        ts = mp_clock_wall_ms ();
    if (msgpack_pack_array (pk, 8) || msgpack_pack_uint64 (pk, MP_PROTO_VERSION)
        || msgpack_pack_uint64 (pk, (uint64_t) mp_msg_type (msg))
        || msgpack_pack_uint64 (pk, mp_msg_reqid (msg)) || s_pack_str (pk, mp_msg_from (msg))
        || s_pack_str (pk, mp_msg_to (msg)) || msgpack_pack_uint64 (pk, ts)
        || msgpack_pack_uint64 (pk, mp_msg_session (msg))
        || msgpack_pack_uint64 (pk, mp_msg_seq (msg)))
        return MP_ENOMEM;
    return MP_OK;
}

static int s_pack_list (msgpack_packer *pk, const mp_msg_t *msg, size_t field, char kind)
{
    size_t count = mp_msg_count (msg, field);
    if (msgpack_pack_array (pk, count))
        return MP_ENOMEM;
    for (size_t i = 0; i < count; i++) {
        int rc;
        size_t len;
        const void *data;
        if (kind == 'S')
            rc = s_pack_str (pk, mp_msg_str_at (msg, field, i));
        else if (kind == 'B') {
            data = mp_msg_bin_at (msg, field, i, &len);
            rc = s_pack_bin (pk, data, len);
        }
        else
            rc = msgpack_pack_uint64 (pk, mp_msg_u64_at (msg, field, i));
        if (rc)
            return MP_ENOMEM;
    }
    return MP_OK;
}

static int s_pack_body (msgpack_packer *pk, const mp_msg_t *msg)
{
    const char *schema = mp_msg_schema (mp_msg_type (msg));
    size_t nfields = strlen (schema);
    if (msgpack_pack_array (pk, nfields))
        return MP_ENOMEM;
    for (size_t i = 0; i < nfields; i++) {
        int rc;
        size_t len;
        const void *data;
        switch (schema[i]) {
        case 'u': rc = msgpack_pack_uint64 (pk, mp_msg_u64 (msg, i)); break;
        case 'i': rc = msgpack_pack_int64 (pk, mp_msg_i64 (msg, i)); break;
        case 's': rc = s_pack_str (pk, mp_msg_str (msg, i)); break;
        case 'b':
            data = mp_msg_bin (msg, i, &len);
            rc = s_pack_bin (pk, data, len);
            break;
        default: rc = s_pack_list (pk, msg, i, schema[i]);
        }
        if (rc)
            return MP_ENOMEM;
    }
    return MP_OK;
}

int mp_codec_encode (const mp_msg_t *msg, const mp_key_t *key, mp_frames_t *frames,
                     char *err, size_t errlen)
{
    if (!msg || !key || !frames) {
        mp_set_error (err, errlen, "encode needs a message, a key and frames");
        return MP_EINVAL;
    }
    if (!mp_msg_complete (msg)) {
        mp_set_error (err, errlen, "message %s is incomplete: %zu of %zu fields",
                      mp_msg_name (mp_msg_type (msg)), mp_msg_nfields (msg),
                      strlen (mp_msg_schema (mp_msg_type (msg))));
        return MP_EINVAL;
    }
    msgpack_sbuffer head, body;
    msgpack_sbuffer_init (&head);
    msgpack_sbuffer_init (&body);
    int rc = MP_ENOMEM;
    msgpack_packer pk;
    msgpack_packer_init (&pk, &head, msgpack_sbuffer_write);
    if (s_pack_header (&pk, msg) != 0)
        goto nomem;
    msgpack_packer_init (&pk, &body, msgpack_sbuffer_write);
    if (s_pack_body (&pk, msg) != 0)
        goto nomem;
    uint8_t mac[MP_MAC_LEN];
    if ((rc = mp_hmac (key, head.data, head.size, body.data, body.size, mac)) != MP_OK) {
        mp_set_error (err, errlen, "cannot compute the hmac");
        goto destroy;
    }
    frames->header_len = head.size;
    frames->header = (uint8_t *) msgpack_sbuffer_release (&head);
    frames->body_len = body.size;
    frames->body = (uint8_t *) msgpack_sbuffer_release (&body);
    memcpy (frames->mac, mac, MP_MAC_LEN);
    return MP_OK;

nomem:
    mp_set_error (err, errlen, "out of memory encoding %s", mp_msg_name (mp_msg_type (msg)));
destroy:
    msgpack_sbuffer_destroy (&head);
    msgpack_sbuffer_destroy (&body);
    return rc;
}

void mp_frames_clear (mp_frames_t *frames)
{
    if (!frames)
        return;
    free (frames->header);
    free (frames->body);
    memset (frames, 0, sizeof *frames);
}
