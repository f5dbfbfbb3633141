//  Messages to and from the three frames on the wire: header, body, HMAC.
//
//  header: msgpack array [version, type, reqid, from, to, ts_ms, session, seq]
//  body:   msgpack array of the schema's fields
//  mac:    HMAC-SHA256(key, header || body), 32 bytes
//
//  Decoding trusts nothing: frame sizes are checked against limits, the MAC is
//  verified before any parsing, every container count and string length is checked
//  against the bytes actually present (before msgpack-c allocates for it), nesting
//  depth is capped, every field's type is checked against the schema, and trailing
//  bytes are rejected.
#ifndef MP_CODEC_H
#define MP_CODEC_H

#include "../common/hmac.h"
#include "../common/key.h"
#include "msg.h"

typedef struct {
    size_t max_header;    //  bytes in the header frame
    size_t max_body;      //  bytes in the body frame
    size_t max_list;      //  elements in one list field
    size_t max_str;       //  bytes in one string (test ids, names)
    uint64_t max_skew_ms; //  |now - ts| allowed; 0 disables the check
} mp_limits_t;

//  Defaults: 1 KiB header, 64 MiB body, 1M list elements, 64 KiB strings, 300 s skew.
extern const mp_limits_t mp_limits_default;

typedef struct {
    uint8_t *header;
    size_t header_len;
    uint8_t *body;
    size_t body_len;
    uint8_t mac[MP_MAC_LEN];
} mp_frames_t;

//  Encodes a complete message into frames (owned by frames; release with
//  mp_frames_clear). Stamps the timestamp when the message has none.
//  MP_OK, or with a reason in err: MP_EINVAL (no message, key or frames, or an incomplete
//  message), MP_ENOMEM, or what mp_hmac returns.
int mp_codec_encode (const mp_msg_t *msg, const mp_key_t *key, mp_frames_t *frames,
                     char *err, size_t errlen);
void mp_frames_clear (mp_frames_t *frames);

//  Decodes and authenticates three frames. MP_OK and a new message owned by the caller
//  in *msg_p, or with a reason in err: MP_EAUTH bad MAC, MP_ETOOBIG over a limit,
//  MP_ESTALE timestamp, MP_EINVAL no key or msg_p, MP_ENOMEM, MP_EPROTO anything else.
int mp_codec_decode (const void *header, size_t header_len, const void *body,
                     size_t body_len, const void *mac, size_t mac_len, const mp_key_t *key,
                     const mp_limits_t *limits, mp_msg_t **msg_p, char *err, size_t errlen);

#endif
