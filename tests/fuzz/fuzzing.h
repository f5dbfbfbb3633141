//  Helpers shared by the fuzz targets (header only: every tests/fuzz/fuzz_*.c is a
//  target of its own, see CMakeLists.txt).
//
//  The targets sign what they feed the decoder with a fixed key, so that inputs get
//  past the MAC check and reach the parsers; they check what decodes against the
//  message API and abort on any disagreement, which libFuzzer reports as a crash.
#ifndef MP_FUZZING_H
#define MP_FUZZING_H

#include "../../common/error.h"
#include "../../common/hmac.h"
#include "../../proto/codec.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const mp_key_t fz_key = { .bytes = "fuzz-key-0123456789abcdef", .len = 25 };

//  Default limits without the clock (a fuzz input must decode the same way every day).
static inline mp_limits_t fz_limits (void)
{
    mp_limits_t limits = mp_limits_default;
    limits.max_skew_ms = 0;
    return limits;
}

//  Small limits, so that inputs of a few bytes can cross every one of them.
static inline mp_limits_t fz_tight_limits (void)
{
    mp_limits_t limits = fz_limits ();
    limits.max_header = 64;
    limits.max_body = 4096;
    limits.max_list = 4;
    limits.max_str = 16;
    return limits;
}

#define FZ_CHECK(cond, ...)                                                              \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            fprintf (stderr, "fuzz check failed at %s:%d: %s: ", __FILE__, __LINE__,   \
                     #cond);                                                             \
            fprintf (stderr, __VA_ARGS__);                                               \
            fputc ('\n', stderr);                                                        \
            abort ();                                                                    \
        }                                                                                \
    } while (0)

//  The catalogue's message types, in number order: the first byte of an input picks one.
static inline size_t fz_types (int *types, size_t cap)
{
    size_t n = 0;
    for (int type = 0; type < 256 && n < cap; type++)
        if (mp_msg_spec (type))
            types[n++] = type;
    return n;
}

//  mp_codec_decode with the contract every caller relies on: a failure carries a
//  negative code, a reason and no message; a success a message.
static inline mp_msg_t *fz_decode (const void *header, size_t header_len, const void *body,
                                   size_t body_len, const void *mac, size_t mac_len,
                                   const mp_key_t *key, const mp_limits_t *limits, int *code_p)
{
    char err[256] = "";
    mp_msg_t *msg = NULL;
    int code = mp_codec_decode (header, header_len, body, body_len, mac, mac_len, key,
                                limits, &msg, err, sizeof err);
    if (code == MP_OK)
        FZ_CHECK (msg != NULL, "MP_OK without a message");
    else
        FZ_CHECK (msg == NULL && err[0] != 0 && code < 0, "code %d, reason '%s', message %p",
                  code, err, (void *) msg);
    if (code_p)
        *code_p = code;
    return msg;
}

//  Decodes header and body under fz_key with the MAC they deserve.
static inline mp_msg_t *fz_decode_signed (const void *header, size_t header_len,
                                          const void *body, size_t body_len,
                                          const mp_limits_t *limits, int *code_p)
{
    uint8_t mac[MP_MAC_LEN];
    FZ_CHECK (mp_hmac (&fz_key, header, header_len, body, body_len, mac) == MP_OK, "hmac");
    return fz_decode (header, header_len, body, body_len, mac, MP_MAC_LEN, &fz_key, limits,
                      code_p);
}

static inline int fz_str_eq (const char *a, const char *b)
{
    return a && b && strcmp (a, b) == 0;
}

static inline int fz_mem_eq (const void *a, size_t alen, const void *b, size_t blen)
{
    return alen == blen && (alen == 0 || (a && b && memcmp (a, b, alen) == 0));
}

//  Aborts unless a and b are the same message, header and every field, read through
//  the message API. A timestamp of 0 in a also matches any in b (the encoder stamps
//  one on a message without).
static inline void fz_check_equal (mp_msg_t *a, mp_msg_t *b)
{
    int type = mp_msg_type (a);
    FZ_CHECK (type == mp_msg_type (b), "type %d vs %d", type, mp_msg_type (b));
    FZ_CHECK (mp_msg_reqid (a) == mp_msg_reqid (b), "reqid");
    FZ_CHECK (mp_msg_ts (a) == mp_msg_ts (b) || (mp_msg_ts (a) == 0 && mp_msg_ts (b) != 0),
              "ts %llu vs %llu", (unsigned long long) mp_msg_ts (a),
              (unsigned long long) mp_msg_ts (b));
    FZ_CHECK (fz_str_eq (mp_msg_from (a), mp_msg_from (b)), "from");
    FZ_CHECK (fz_str_eq (mp_msg_to (a), mp_msg_to (b)), "to");
    FZ_CHECK (mp_msg_session (a) == mp_msg_session (b) && mp_msg_seq (a) == mp_msg_seq (b),
              "session and sequence number");
    const char *schema = mp_msg_schema (type);
    FZ_CHECK (schema != NULL, "no schema for %d", type);
    size_t nfields = strlen (schema);
    FZ_CHECK (mp_msg_nfields (a) == nfields && mp_msg_nfields (b) == nfields
                  && mp_msg_complete (a) && mp_msg_complete (b),
              "%s: %zu and %zu of %zu fields", mp_msg_name (type), mp_msg_nfields (a),
              mp_msg_nfields (b), nfields);
    for (size_t f = 0; f < nfields; f++) {
        size_t alen = 0, blen = 0, count = 0;
        const void *ad, *bd;
        switch (schema[f]) {
        case 'u':
            FZ_CHECK (mp_msg_u64 (a, f) == mp_msg_u64 (b, f), "%s field %zu",
                      mp_msg_name (type), f);
            break;
        case 'i':
            FZ_CHECK (mp_msg_i64 (a, f) == mp_msg_i64 (b, f), "%s field %zu",
                      mp_msg_name (type), f);
            break;
        case 's':
            FZ_CHECK (fz_str_eq (mp_msg_str (a, f), mp_msg_str (b, f)), "%s field %zu",
                      mp_msg_name (type), f);
            break;
        case 'b':
            ad = mp_msg_bin (a, f, &alen);
            bd = mp_msg_bin (b, f, &blen);
            FZ_CHECK (fz_mem_eq (ad, alen, bd, blen), "%s field %zu", mp_msg_name (type), f);
            break;
        default:
            count = mp_msg_count (a, f);
            FZ_CHECK (count == mp_msg_count (b, f), "%s field %zu: %zu vs %zu items",
                      mp_msg_name (type), f, count, mp_msg_count (b, f));
            for (size_t i = 0; i < count; i++) {
                if (schema[f] == 'S')
                    FZ_CHECK (fz_str_eq (mp_msg_str_at (a, f, i), mp_msg_str_at (b, f, i)),
                              "%s field %zu item %zu", mp_msg_name (type), f, i);
                else if (schema[f] == 'B') {
                    ad = mp_msg_bin_at (a, f, i, &alen);
                    bd = mp_msg_bin_at (b, f, i, &blen);
                    FZ_CHECK (fz_mem_eq (ad, alen, bd, blen), "%s field %zu item %zu",
                              mp_msg_name (type), f, i);
                }
                else
                    FZ_CHECK (mp_msg_u64_at (a, f, i) == mp_msg_u64_at (b, f, i),
                              "%s field %zu item %zu", mp_msg_name (type), f, i);
            }
        }
    }
}

//  A decoded message must re-encode, and the encoding decode to an equal message;
//  the second encoding must be byte for byte the first (the encoder is canonical).
static inline void fz_check_roundtrip (mp_msg_t *msg, const mp_limits_t *limits)
{
    mp_frames_t first, second;
    char err[256] = "";
    FZ_CHECK (mp_codec_encode (msg, &fz_key, &first, err, sizeof err) == MP_OK,
              "re-encoding a decoded %s: %s", mp_msg_name (mp_msg_type (msg)), err);
    int code = 0;
    mp_msg_t *again = fz_decode (first.header, first.header_len, first.body, first.body_len,
                                 first.mac, MP_MAC_LEN, &fz_key, limits, &code);
    FZ_CHECK (again != NULL, "re-encoded %s does not decode: %d",
              mp_msg_name (mp_msg_type (msg)), code);
    fz_check_equal (msg, again);
    FZ_CHECK (mp_codec_encode (again, &fz_key, &second, err, sizeof err) == MP_OK,
              "encoding the round trip: %s", err);
    FZ_CHECK (fz_mem_eq (first.header, first.header_len, second.header, second.header_len)
                  && fz_mem_eq (first.body, first.body_len, second.body, second.body_len)
                  && memcmp (first.mac, second.mac, MP_MAC_LEN) == 0,
              "the encoder is not canonical");
    mp_frames_clear (&first);
    mp_frames_clear (&second);
    mp_msg_destroy (&again);
}

//  A complete message of type with a sample value in every field (lists of two); NULL
//  for an unknown type.
static inline mp_msg_t *fz_sample (int type)
{
    const char *schema = mp_msg_schema (type);
    mp_msg_t *msg = schema ? mp_msg_new (type) : NULL;
    if (!msg)
        return NULL;
    int rc = mp_msg_set_from (msg, "fe1") | mp_msg_set_to (msg, "z1");
    for (const char *k = schema; *k; k++) {
        switch (*k) {
        case 'u': rc |= mp_msg_add_u64 (msg, 7); break;
        case 'i': rc |= mp_msg_add_i64 (msg, -9); break;
        case 's': rc |= mp_msg_add_str (msg, "tests/test_x.py::test_y"); break;
        case 'b': rc |= mp_msg_add_bin (msg, "\0\x80" "data", 6); break;
        case 'S':
            rc |= mp_msg_add_list (msg) | mp_msg_push_str (msg, "a") | mp_msg_push_str (msg, "");
            break;
        case 'B':
            rc |= mp_msg_add_list (msg) | mp_msg_push_bin (msg, "\0", 1)
                  | mp_msg_push_bin (msg, "", 0);
            break;
        default:
            rc |= mp_msg_add_list (msg) | mp_msg_push_u64 (msg, 1)
                  | mp_msg_push_u64 (msg, UINT64_MAX);
        }
    }
    mp_msg_set_reqid (msg, 5);
    mp_msg_set_ts (msg, 1);
    FZ_CHECK (rc == MP_OK && mp_msg_complete (msg), "sample %s", mp_msg_name (type));
    return msg;
}

//  The header frame the codec writes for a sample message of type with these header
//  values (whatever the header's layout is today), in malloc'd memory of *len bytes.
static inline uint8_t *fz_header (int type, uint64_t reqid, const char *from, const char *to,
                                  uint64_t ts, size_t *len)
{
    mp_msg_t *msg = fz_sample (type);
    FZ_CHECK (msg != NULL, "no sample of type %d", type);
    FZ_CHECK (mp_msg_set_from (msg, from) == MP_OK && mp_msg_set_to (msg, to) == MP_OK,
              "names");
    mp_msg_set_reqid (msg, reqid);
    mp_msg_set_ts (msg, ts);
    mp_frames_t frames;
    char err[256] = "";
    FZ_CHECK (mp_codec_encode (msg, &fz_key, &frames, err, sizeof err) == MP_OK, "%s", err);
    mp_msg_destroy (&msg);
    free (frames.body);
    *len = frames.header_len;
    return frames.header;
}

#endif
