//  libFuzzer target for the daemons' decoder, mp_wire_decode (proto/wire.h): a czmq
//  message of any number of frames, no socket needed.
//
//  Input: a flag byte, then up to 4 frames, each a 2-byte big-endian length and that
//  many bytes (fewer when the input ends first), as for fuzz_client_recv. Flag bit 0:
//  the third frame is replaced by (or, with two frames, is) the right HMAC of the first
//  two under the target's key.
//
//  mp_wire_decode must agree with mp_codec_decode on the same frames (code and message,
//  field by field) and refuse any other number of frames; what decodes must survive
//  mp_wire_encode and mp_wire_decode again.
#include "../../proto/wire.h"
#include "fuzzing.h"

static mp_msg_t *s_wire_decode (zmsg_t *zmsg, const mp_limits_t *limits, int *code_p)
{
    char err[256] = "";
    mp_msg_t *msg = NULL;
    int code = mp_wire_decode (zmsg, &fz_key, limits, &msg, err, sizeof err);
    if (code == MP_OK)
        FZ_CHECK (msg != NULL, "MP_OK without a message");
    else
        FZ_CHECK (msg == NULL && err[0] != 0 && code < 0, "code %d, reason '%s'", code, err);
    *code_p = code;
    return msg;
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const uint8_t *frames[4];
    size_t lens[4], n = 0, at = 1;
    while (n < 4 && size - at >= 2) {
        size_t len = (size_t) data[at] << 8 | data[at + 1];
        at += 2;
        if (len > size - at)
            len = size - at;
        frames[n] = data + at;
        lens[n++] = len;
        at += len;
    }
    uint8_t mac[MP_MAC_LEN];
    if ((data[0] & 1) && n >= 2) {
        FZ_CHECK (mp_hmac (&fz_key, frames[0], lens[0], frames[1], lens[1], mac) == MP_OK,
                  "hmac");
        frames[2] = mac;
        lens[2] = MP_MAC_LEN;
        if (n == 2)
            n = 3;
    }
    zmsg_t *zmsg = zmsg_new ();
    FZ_CHECK (zmsg != NULL, "zmsg");
    for (size_t i = 0; i < n; i++)
        FZ_CHECK (zmsg_addmem (zmsg, frames[i], lens[i]) == 0, "zmsg_addmem");

    mp_limits_t limits = fz_limits ();
    int code = 0, expected_code = MP_EPROTO;
    mp_msg_t *msg = s_wire_decode (zmsg, &limits, &code);
    mp_msg_t *expected = NULL;
    if (n == 3)
        expected = fz_decode (frames[0], lens[0], frames[1], lens[1], frames[2], lens[2],
                              &fz_key, &limits, &expected_code);
    FZ_CHECK (code == expected_code, "mp_wire_decode %d, mp_codec_decode %d (%zu frames)",
              code, expected_code, n);
    FZ_CHECK (zmsg_size (zmsg) == n, "the message was consumed");
    if (msg) {
        fz_check_equal (expected, msg);
        zmsg_t *again = NULL;
        char err[256] = "";
        FZ_CHECK (mp_wire_encode (msg, &fz_key, &again, err, sizeof err) == MP_OK, "%s", err);
        mp_msg_t *copy = s_wire_decode (again, &limits, &code);
        FZ_CHECK (copy != NULL, "re-encoded %s does not decode: %d",
                  mp_msg_name (mp_msg_type (msg)), code);
        fz_check_equal (msg, copy);
        mp_msg_destroy (&copy);
        zmsg_destroy (&again);
    }
    mp_msg_destroy (&msg);
    mp_msg_destroy (&expected);

    mp_limits_t tight = fz_tight_limits ();
    msg = s_wire_decode (zmsg, &tight, &code);
    mp_msg_destroy (&msg);
    zmsg_destroy (&zmsg);
    return 0;
}
