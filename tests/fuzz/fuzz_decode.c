//  libFuzzer target for mp_codec_decode.
//
//  Input layout: 2-byte big-endian header length, 4-byte big-endian body length, the
//  header, the body, then the rest as the MAC. Inputs too short for their announced
//  lengths decode as three empty frames.
//
//  The MAC in the input only gets past the check by luck, so each input is also decoded
//  with the empty key and a MAC computed here: that is what exercises the parser. A
//  decoded message must re-encode to bytes that decode and re-encode identically.
#include "../../common/error.h"
#include "../../common/hmac.h"
#include "../../proto/codec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void s_split (const uint8_t *data, size_t size, mp_frames_t *f, const uint8_t **mac,
                     size_t *mac_len)
{
    memset (f, 0, sizeof *f);
    *mac = data;
    *mac_len = 0;
    if (size < 6)
        return;
    size_t hlen = (size_t) data[0] << 8 | data[1];
    size_t blen = (size_t) data[2] << 24 | (size_t) data[3] << 16 | (size_t) data[4] << 8
                  | data[5];
    if (hlen > size - 6 || blen > size - 6 - hlen)
        return;
    f->header = (uint8_t *) data + 6;
    f->header_len = hlen;
    f->body = (uint8_t *) data + 6 + hlen;
    f->body_len = blen;
    *mac = data + 6 + hlen + blen;
    *mac_len = size - 6 - hlen - blen;
}

static mp_msg_t *s_decode (const mp_frames_t *f, const void *mac, size_t mac_len,
                           const mp_key_t *key, const mp_limits_t *limits)
{
    char err[256] = "";
    mp_msg_t *msg = NULL;
    int code = mp_codec_decode (f->header, f->header_len, f->body, f->body_len, mac, mac_len,
                                key, limits, &msg, err, sizeof err);
    //  A failure always carries a code and a reason, and no message; a success a message.
    if (code != MP_OK ? msg != NULL || err[0] == 0 || code > 0 : msg == NULL)
        abort ();
    return msg;
}

static void s_check_roundtrip (const mp_msg_t *msg, const mp_key_t *key,
                               const mp_limits_t *limits)
{
    mp_frames_t first, second;
    char err[256];
    if (mp_codec_encode (msg, key, &first, err, sizeof err) != 0)
        abort ();
    mp_msg_t *again = s_decode (&first, first.mac, MP_MAC_LEN, key, limits);
    if (!again)
        abort ();
    mp_msg_t *copy = mp_msg_dup (again);
    if (!copy || mp_codec_encode (copy, key, &second, err, sizeof err) != 0)
        abort ();
    if (first.header_len != second.header_len || first.body_len != second.body_len
        || memcmp (first.header, second.header, first.header_len) != 0
        || (first.body_len && memcmp (first.body, second.body, first.body_len) != 0))
        abort ();
    mp_frames_clear (&first);
    mp_frames_clear (&second);
    mp_msg_destroy (&again);
    mp_msg_destroy (&copy);
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    static const mp_key_t key = { .bytes = "fuzz-key-0123456789abcdef", .len = 25 };
    static const mp_key_t empty = { .len = 0 };
    mp_limits_t limits = mp_limits_default;
    limits.max_skew_ms = 0;
    mp_limits_t tight = limits;
    tight.max_header = 64;
    tight.max_body = 4096;
    tight.max_list = 4;
    tight.max_str = 16;

    mp_frames_t f;
    const uint8_t *mac;
    size_t mac_len;
    s_split (data, size, &f, &mac, &mac_len);

    mp_msg_t *msg = s_decode (&f, mac, mac_len, &key, &limits);
    mp_msg_destroy (&msg);

    uint8_t good[MP_MAC_LEN];
    if (mp_hmac (&empty, f.header, f.header_len, f.body, f.body_len, good) != 0)
        abort ();
    msg = s_decode (&f, good, MP_MAC_LEN, &empty, &limits);
    if (msg)
        s_check_roundtrip (msg, &empty, &limits);
    mp_msg_destroy (&msg);
    msg = s_decode (&f, good, MP_MAC_LEN, &empty, &tight);
    mp_msg_destroy (&msg);
    return 0;
}
