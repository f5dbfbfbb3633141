//  libFuzzer target for the header frame's decoder (s_decode_header in proto/decode.c,
//  reached only through mp_codec_decode).
//
//  Input: the header frame, as is. The body is a valid one for the type the header
//  seems to announce (a quick look at its second element; HEARTBEAT's empty body
//  otherwise) and the MAC is computed over both with a fixed key, so every input gets
//  past the MAC check into the parser. Decoded under the default limits (without the
//  clock), the tight ones, and the default ones with the clock. A header that decodes
//  must survive the round trip (re-encode, decode to an equal message).
#include "fuzzing.h"

//  The type a header announces, read without msgpack-c: [uint, uint type, ...] (any
//  integer form of a non-negative value); -1 when it is not that simple.
static long s_peek_type (const uint8_t *p, size_t len)
{
    size_t at = 0;
    if (len < 1)
        return -1;
    if ((p[0] & 0xf0) == 0x90)
        at = 1;
    else if (p[0] == 0xdc)
        at = 3;
    else if (p[0] == 0xdd)
        at = 5;
    else
        return -1;
    uint64_t values[2] = { 0, 0 };
    for (int i = 0; i < 2; i++) {
        if (at >= len)
            return -1;
        uint8_t tag = p[at++];
        if (tag <= 0x7f)
            values[i] = tag;
        else if ((tag >= 0xcc && tag <= 0xcf) || (tag >= 0xd0 && tag <= 0xd3)) {
            //  msgpack-c reads a signed form holding a positive value as a uint.
            size_t width = (size_t) 1 << (tag >= 0xd0 ? tag - 0xd0 : tag - 0xcc);
            if (len - at < width || (tag >= 0xd0 && (p[at] & 0x80)))
                return -1;
            for (size_t b = 0; b < width; b++)
                values[i] = values[i] << 8 | p[at + b];
            at += width;
        }
        else
            return -1;
    }
    return values[1] < 256 ? (long) values[1] : -1;
}

typedef struct {
    uint8_t *data;
    size_t len;
} s_body_t;

static s_body_t s_bodies[256];

static void s_init (void)
{
    static int done = 0;
    if (done)
        return;
    done = 1;
    for (int type = 0; type < 256; type++) {
        mp_msg_t *msg = fz_sample (type);
        if (!msg)
            continue;
        mp_frames_t frames;
        char err[256];
        FZ_CHECK (mp_codec_encode (msg, &fz_key, &frames, err, sizeof err) == MP_OK, "%s",
                  err);
        s_bodies[type].data = frames.body;
        s_bodies[type].len = frames.body_len;
        free (frames.header);
        mp_msg_destroy (&msg);
    }
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    s_init ();
    long type = s_peek_type (data, size);
    const s_body_t *body = &s_bodies[MP_MSG_HEARTBEAT];
    if (type >= 0 && s_bodies[type].data)
        body = &s_bodies[type];

    mp_limits_t limits = fz_limits ();
    mp_msg_t *msg = fz_decode_signed (data, size, body->data, body->len, &limits, NULL);
    if (msg) {
        FZ_CHECK (mp_msg_type (msg) == type, "decoded type %d, header says %ld",
                  mp_msg_type (msg), type);
        fz_check_roundtrip (msg, &limits);
    }
    mp_msg_destroy (&msg);

    mp_limits_t tight = fz_tight_limits ();
    msg = fz_decode_signed (data, size, body->data, body->len, &tight, NULL);
    mp_msg_destroy (&msg);

    //  The clock check, for the few inputs that carry a recent timestamp.
    msg = fz_decode_signed (data, size, body->data, body->len, &mp_limits_default, NULL);
    mp_msg_destroy (&msg);
    return 0;
}
