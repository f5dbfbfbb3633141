//  The codec: round trips of every message type, then every kind of hostile input.
#include "../../common/clock.h"
#include "../../common/error.h"
#include "../../proto/codec.h"
#include "testing.h"

#include <msgpack.h>

static mp_key_t s_key;

//  mp_codec_decode as the message or NULL, its code in *code when code is not NULL: a
//  failure never leaves a message behind, a success always does.
static mp_msg_t *s_try_decode (const void *header, size_t header_len, const void *body,
                               size_t body_len, const void *mac, size_t mac_len,
                               const mp_key_t *key, const mp_limits_t *limits, int *code,
                               char *err, size_t errlen)
{
    mp_msg_t *msg = NULL;
    int rc = mp_codec_decode (header, header_len, body, body_len, mac, mac_len, key, limits,
                              &msg, err, errlen);
    ASSERT_TRUE ((rc == MP_OK) == (msg != NULL));
    if (code)
        *code = rc;
    return msg;
}
static mp_limits_t s_limits; //  the defaults without the clock check

// -------------------------------------------------------------------------------------
//  Building messages from their schema.

static void s_fill_str (char *buf, size_t len, int variant, size_t field, size_t item)
{
    if (variant == 0) {
        buf[0] = 0;
        return;
    }
    int n = snprintf (buf, len, "tests/test_f%zu.py::test_%zu[p\xc3\xa9-%d]", field, item,
                      variant);
    //  Variant 2 pads strings out to a few hundred bytes.
    for (size_t i = (size_t) n; variant == 2 && i + 1 < len && i < 300; i++)
        buf[i] = (char) ('a' + i % 26), buf[i + 1] = 0;
}

static size_t s_fill_bin (uint8_t *buf, int variant, size_t field, size_t item)
{
    size_t len = variant == 0 ? 0 : variant == 1 ? 1 + item % 5 : 70000 + item;
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t) (i * 31 + field + item);
    return len;
}

static size_t s_list_len (int variant)
{
    return variant == 0 ? 0 : variant == 1 ? 3 : 200;
}

static uint64_t s_u64 (int variant, size_t field, size_t item)
{
    static const uint64_t values[] = { 0, 1, 127, 128, 255, 256, 65535, 65536,
                                       UINT32_MAX, (uint64_t) UINT32_MAX + 1, UINT64_MAX };
    return values[(field + item + (size_t) variant) % (sizeof values / sizeof values[0])];
}

static int64_t s_i64 (int variant, size_t field)
{
    static const int64_t values[] = { 0, -1, -32, -33, -128, -129, -32768, -32769,
                                      INT32_MIN, (int64_t) INT32_MIN - 1, INT64_MIN,
                                      INT64_MAX, 127, 200 };
    return values[(field * 3 + (size_t) variant * 5) % (sizeof values / sizeof values[0])];
}

static mp_msg_t *s_build (int type, int variant)
{
    static uint8_t bin[80000];
    char str[400];
    mp_msg_t *msg = mp_msg_new (type);
    ASSERT_NOT_NULL (msg);
    mp_msg_set_reqid (msg, variant == 2 ? UINT64_MAX : (uint64_t) type * 1000 + 17);
    ASSERT_EQ (mp_msg_set_from (msg, variant == 0 ? "" : "agent-\xe2\x82\xac-1"), 0);
    ASSERT_EQ (mp_msg_set_to (msg, variant == 0 ? "" : "coordinator"), 0);
    mp_msg_set_ts (msg, mp_clock_wall_ms () - (uint64_t) variant);
    const char *schema = mp_msg_schema (type);
    for (size_t f = 0; schema[f]; f++) {
        switch (schema[f]) {
        case 'u': ASSERT_EQ (mp_msg_add_u64 (msg, s_u64 (variant, f, 0)), 0); break;
        case 'i': ASSERT_EQ (mp_msg_add_i64 (msg, s_i64 (variant, f)), 0); break;
        case 's':
            s_fill_str (str, sizeof str, variant, f, 0);
            ASSERT_EQ (mp_msg_add_str (msg, str), 0);
            break;
        case 'b':
            ASSERT_EQ (mp_msg_add_bin (msg, bin, s_fill_bin (bin, variant, f, 0)), 0);
            break;
        default:
            ASSERT_EQ (mp_msg_add_list (msg), 0);
            for (size_t i = 0; i < s_list_len (variant); i++) {
                if (schema[f] == 'S') {
                    //  Every third item empty: empty strings inside lists too.
                    s_fill_str (str, sizeof str, i % 3 ? variant : 0, f, i);
                    ASSERT_EQ (mp_msg_push_str (msg, str), 0);
                }
                else if (schema[f] == 'B') {
                    int v = variant == 2 && i >= 4 ? 1 : variant;
                    ASSERT_EQ (mp_msg_push_bin (msg, bin, s_fill_bin (bin, v, f, i)), 0);
                }
                else
                    ASSERT_EQ (mp_msg_push_u64 (msg, s_u64 (variant, f, i)), 0);
            }
        }
    }
    ASSERT_TRUE (mp_msg_complete (msg));
    return msg;
}

static void s_assert_same (const mp_msg_t *a, const mp_msg_t *b)
{
    ASSERT_EQ (mp_msg_type (a), mp_msg_type (b));
    ASSERT_TRUE (mp_msg_reqid (a) == mp_msg_reqid (b));
    ASSERT_STREQ (mp_msg_from (a), mp_msg_from (b));
    ASSERT_STREQ (mp_msg_to (a), mp_msg_to (b));
    ASSERT_TRUE (mp_msg_ts (a) == mp_msg_ts (b));
    ASSERT_EQ (mp_msg_nfields (a), mp_msg_nfields (b));
    const char *schema = mp_msg_schema (mp_msg_type (a));
    for (size_t f = 0; schema[f]; f++) {
        size_t alen, blen;
        const void *ad, *bd;
        switch (schema[f]) {
        case 'u': ASSERT_TRUE (mp_msg_u64 (a, f) == mp_msg_u64 (b, f)); break;
        case 'i': ASSERT_TRUE (mp_msg_i64 (a, f) == mp_msg_i64 (b, f)); break;
        case 's': ASSERT_STREQ (mp_msg_str (a, f), mp_msg_str (b, f)); break;
        case 'b':
            ad = mp_msg_bin (a, f, &alen);
            bd = mp_msg_bin (b, f, &blen);
            ASSERT_NOT_NULL (ad);
            ASSERT_NOT_NULL (bd);
            ASSERT_EQ (alen, blen);
            ASSERT_TRUE (memcmp (ad, bd, alen) == 0);
            break;
        default:
            ASSERT_EQ (mp_msg_count (a, f), mp_msg_count (b, f));
            for (size_t i = 0; i < mp_msg_count (a, f); i++) {
                if (schema[f] == 'S')
                    ASSERT_STREQ (mp_msg_str_at (a, f, i), mp_msg_str_at (b, f, i));
                else if (schema[f] == 'U')
                    ASSERT_TRUE (mp_msg_u64_at (a, f, i) == mp_msg_u64_at (b, f, i));
                else {
                    ad = mp_msg_bin_at (a, f, i, &alen);
                    bd = mp_msg_bin_at (b, f, i, &blen);
                    ASSERT_EQ (alen, blen);
                    ASSERT_TRUE (memcmp (ad, bd, alen) == 0);
                }
            }
        }
    }
}

// -------------------------------------------------------------------------------------
//  Decoding helpers: sign whatever bytes a test made up, so they reach the parser.

static mp_msg_t *s_decode (const void *h, size_t hlen, const void *b, size_t blen,
                           const mp_limits_t *limits, int *code, char *err)
{
    uint8_t mac[MP_MAC_LEN];
    ASSERT_EQ (mp_hmac (&s_key, h, hlen, b, blen, mac), 0);
    err[0] = 0;
    *code = 12345;
    return s_try_decode (h, hlen, b, blen, mac, MP_MAC_LEN, &s_key, limits, code, err,
                            256);
}

//  Expects a signed decode to fail with code and a reason containing what.
#define EXPECT_FAIL(h, hlen, b, blen, limits, want_code, what)                           \
    do {                                                                                 \
        int code_;                                                                       \
        char err_[256];                                                                  \
        mp_msg_t *m_ = s_decode (h, hlen, b, blen, limits, &code_, err_);                \
        if (m_)                                                                          \
            MP_FAIL_AT ("decode should have failed (%s)", what);                         \
        if (code_ != (want_code) || !strstr (err_, what))                                \
            MP_FAIL_AT ("want %d \"%s\", got %d \"%s\"", want_code, what, code_, err_);  \
    } while (0)

typedef struct {
    msgpack_sbuffer buf;
    msgpack_packer pk;
} s_pack_t;

static void s_pack_init (s_pack_t *p)
{
    msgpack_sbuffer_init (&p->buf);
    msgpack_packer_init (&p->pk, &p->buf, msgpack_sbuffer_write);
}

static void s_pack_str (s_pack_t *p, const char *s, size_t len)
{
    msgpack_pack_str (&p->pk, len);
    msgpack_pack_str_body (&p->pk, s, len);
}

//  A header with every field chosen by the caller.
static void s_header (s_pack_t *p, uint64_t version, uint64_t type, uint64_t ts)
{
    s_pack_init (p);
    msgpack_pack_array (&p->pk, 8);
    msgpack_pack_uint64 (&p->pk, version);
    msgpack_pack_uint64 (&p->pk, type);
    msgpack_pack_uint64 (&p->pk, 99);
    s_pack_str (p, "from", 4);
    s_pack_str (p, "to", 2);
    msgpack_pack_uint64 (&p->pk, ts);
    msgpack_pack_uint64 (&p->pk, 7); //  session
    msgpack_pack_uint64 (&p->pk, 1); //  sequence number
}

static void s_pack_valid (s_pack_t *p, char kind)
{
    switch (kind) {
    case 'u': msgpack_pack_uint64 (&p->pk, 5); break;
    case 'i': msgpack_pack_int64 (&p->pk, -5); break;
    case 's': s_pack_str (p, "abc", 3); break;
    case 'b':
        msgpack_pack_bin (&p->pk, 2);
        msgpack_pack_bin_body (&p->pk, "\0\1", 2);
        break;
    case 'S':
        msgpack_pack_array (&p->pk, 2);
        s_pack_str (p, "x", 1);
        s_pack_str (p, "", 0);
        break;
    case 'B':
        msgpack_pack_array (&p->pk, 1);
        msgpack_pack_bin (&p->pk, 1);
        msgpack_pack_bin_body (&p->pk, "\xff", 1);
        break;
    default:
        msgpack_pack_array (&p->pk, 2);
        msgpack_pack_uint64 (&p->pk, 1);
        msgpack_pack_uint64 (&p->pk, UINT64_MAX);
    }
}

//  The wrong values tried in place of a field; each is wrong for some schema kinds.
enum { S_WRONG_COUNT = 12 };

//  Packs wrong value number n for kind and returns 1, or returns 0 when n is right for it.
static int s_pack_wrong (s_pack_t *p, char kind, int n)
{
    switch (n) {
    case 0: msgpack_pack_nil (&p->pk); return 1;
    case 1: msgpack_pack_true (&p->pk); return 1;
    case 2: msgpack_pack_double (&p->pk, 1.5); return 1;
    case 3: msgpack_pack_float (&p->pk, 1.5f); return 1;
    case 4:
        if (kind == 'u' || kind == 'i')
            return 0;
        msgpack_pack_uint64 (&p->pk, 3);
        return 1;
    case 5:
        if (kind == 'i')
            return 0;
        msgpack_pack_int64 (&p->pk, -3);
        return 1;
    case 6:
        if (kind != 'i')
            return 0;
        msgpack_pack_uint64 (&p->pk, (uint64_t) INT64_MAX + 1);
        return 1;
    case 7:
        if (kind == 's')
            return 0;
        s_pack_str (p, "s", 1);
        return 1;
    case 8:
        if (kind == 'b')
            return 0;
        msgpack_pack_bin (&p->pk, 1);
        msgpack_pack_bin_body (&p->pk, "b", 1);
        return 1;
    case 9: //  a list of the wrong element type
        if (kind != 'S' && kind != 'B' && kind != 'U')
            msgpack_pack_array (&p->pk, 0);
        else {
            msgpack_pack_array (&p->pk, 2);
            s_pack_valid (p, kind == 'U' ? 's' : 'u');
            s_pack_valid (p, kind == 'U' ? 's' : 'u');
        }
        return 1;
    case 10: //  a list holding one good and one bad element
        if (kind != 'S' && kind != 'B' && kind != 'U')
            return 0;
        msgpack_pack_array (&p->pk, 2);
        s_pack_valid (p, kind == 'S' ? 's' : kind == 'B' ? 'b' : 'u');
        s_pack_valid (p, kind == 'S' ? 'b' : kind == 'B' ? 's' : 'i');
        return 1;
    default: //  an empty map
        msgpack_pack_map (&p->pk, 0);
        return 1;
    }
}

// -------------------------------------------------------------------------------------

static void test_roundtrip_every_type (void)
{
    int checked = 0;
    for (int type = 1; type < MP_MSG_TYPE_MAX; type++) {
        if (!mp_msg_schema (type))
            continue;
        for (int variant = 0; variant < 3; variant++) {
            mp_msg_t *msg = s_build (type, variant);
            mp_frames_t frames;
            char err[256] = "";
            ASSERT_EQ (mp_codec_encode (msg, &s_key, &frames, err, sizeof err), 0);
            ASSERT_TRUE (frames.header_len <= s_limits.max_header);
            int code = 1;
            mp_msg_t *back = s_try_decode (frames.header, frames.header_len, frames.body,
                                              frames.body_len, frames.mac, MP_MAC_LEN,
                                              &s_key, &mp_limits_default, &code, err,
                                              sizeof err);
            if (!back)
                MP_FAIL_AT ("%s variant %d: %s", mp_msg_name (type), variant, err);
            ASSERT_EQ (code, MP_OK);
            s_assert_same (msg, back);
            mp_msg_t *copy = mp_msg_dup (back);
            s_assert_same (msg, copy);
            mp_msg_destroy (&copy);
            mp_msg_destroy (&back);
            mp_msg_destroy (&msg);
            mp_frames_clear (&frames);
            ASSERT_NULL (frames.header);
            checked++;
        }
    }
    ASSERT_EQ (checked, 3 * (MP_MSG_TYPE_MAX - 1)); //  every type, numbered 1..max-1
}

static void test_encode (void)
{
    char err[256] = "";
    mp_frames_t frames = { 0 };
    mp_msg_t *msg = mp_msg_new (MP_MSG_UNIT);
    mp_msg_add_u64 (msg, 1);
    ASSERT_EQ (mp_codec_encode (msg, &s_key, &frames, err, sizeof err), MP_EINVAL);
    ASSERT_STREQ (err, "message UNIT is incomplete: 1 of 5 fields");
    ASSERT_NULL (frames.header);
    mp_msg_destroy (&msg);
    ASSERT_EQ (mp_codec_encode (NULL, &s_key, &frames, err, sizeof err), MP_EINVAL);

    //  The encoder stamps a timestamp when the message has none.
    msg = mp_msg_new (MP_MSG_HEARTBEAT);
    uint64_t before = mp_clock_wall_ms ();
    ASSERT_EQ (mp_codec_encode (msg, &s_key, &frames, err, sizeof err), 0);
    int code;
    mp_msg_t *back = s_try_decode (frames.header, frames.header_len, frames.body,
                                      frames.body_len, frames.mac, MP_MAC_LEN, &s_key,
                                      &mp_limits_default, &code, err, sizeof err);
    ASSERT_NOT_NULL (back);
    ASSERT_TRUE (mp_msg_ts (back) >= before && mp_msg_ts (back) <= mp_clock_wall_ms ());
    ASSERT_EQ (mp_msg_ts (msg), 0); //  the message itself is not changed
    mp_msg_destroy (&back);
    mp_msg_destroy (&msg);
    mp_frames_clear (&frames);
    mp_frames_clear (&frames);
}

static void test_frames_and_mac (void)
{
    mp_msg_t *msg = s_build (MP_MSG_UNIT, 1);
    mp_frames_t f;
    char err[256];
    int code;
    ASSERT_EQ (mp_codec_encode (msg, &s_key, &f, err, sizeof err), 0);
    mp_msg_destroy (&msg);

    //  Sizes first: an oversized frame is refused before its MAC is even looked at.
    mp_limits_t tight = s_limits;
    tight.max_header = f.header_len - 1;
    ASSERT_NULL (s_try_decode (f.header, f.header_len, f.body, f.body_len, "bad", 3,
                                  &s_key, &tight, &code, err, sizeof err));
    ASSERT_EQ (code, MP_ETOOBIG);
    ASSERT_TRUE (strstr (err, "header of") != NULL);
    tight = s_limits;
    tight.max_body = f.body_len - 1;
    ASSERT_NULL (s_try_decode (f.header, f.header_len, f.body, f.body_len, f.mac,
                                  MP_MAC_LEN, &s_key, &tight, &code, err, sizeof err));
    ASSERT_EQ (code, MP_ETOOBIG);
    ASSERT_TRUE (strstr (err, "body of") != NULL);

    //  A missing or short MAC frame, as when fewer than three frames arrive.
    size_t lens[] = { 0, 1, MP_MAC_LEN - 1, MP_MAC_LEN + 1 };
    uint8_t mac[MP_MAC_LEN + 1];
    memcpy (mac, f.mac, MP_MAC_LEN);
    mac[MP_MAC_LEN] = 0;
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        ASSERT_NULL (s_try_decode (f.header, f.header_len, f.body, f.body_len, mac,
                                      lens[i], &s_key, &s_limits, &code, err, sizeof err));
        ASSERT_EQ (code, MP_EAUTH);
    }
    ASSERT_NULL (s_try_decode (f.header, f.header_len, f.body, f.body_len, NULL,
                                  MP_MAC_LEN, &s_key, &s_limits, &code, err, sizeof err));
    ASSERT_EQ (code, MP_EAUTH);
    //  An empty body frame (as when only header and MAC arrive).
    ASSERT_NULL (s_try_decode (f.header, f.header_len, NULL, 0, f.mac, MP_MAC_LEN,
                                  &s_key, &s_limits, &code, err, sizeof err));
    ASSERT_EQ (code, MP_EAUTH);
    ASSERT_NULL (s_try_decode (NULL, 5, f.body, f.body_len, f.mac, MP_MAC_LEN, &s_key,
                                  &s_limits, &code, err, sizeof err));
    ASSERT_EQ (code, MP_EPROTO);

    //  Every single-bit change anywhere is caught by the MAC.
    for (size_t i = 0; i < MP_MAC_LEN * 8; i += 7) {
        memcpy (mac, f.mac, MP_MAC_LEN);
        mac[i / 8] ^= (uint8_t) (1 << (i % 8));
        ASSERT_NULL (s_try_decode (f.header, f.header_len, f.body, f.body_len, mac,
                                      MP_MAC_LEN, &s_key, &s_limits, &code, err,
                                      sizeof err));
        ASSERT_EQ (code, MP_EAUTH);
        ASSERT_STREQ (err, "mac does not match: wrong key or altered frames");
    }
    for (size_t i = 0; i < f.header_len; i++) {
        f.header[i] ^= 0x20;
        ASSERT_NULL (s_try_decode (f.header, f.header_len, f.body, f.body_len, f.mac,
                                      MP_MAC_LEN, &s_key, &s_limits, &code, err,
                                      sizeof err));
        ASSERT_EQ (code, MP_EAUTH);
        f.header[i] ^= 0x20;
    }
    f.body[f.body_len / 2] ^= 1;
    ASSERT_NULL (s_try_decode (f.header, f.header_len, f.body, f.body_len, f.mac,
                                  MP_MAC_LEN, &s_key, &s_limits, &code, err, sizeof err));
    ASSERT_EQ (code, MP_EAUTH);
    f.body[f.body_len / 2] ^= 1;
    //  Swapping bytes between frames changes the MAC input split, not its bytes; the
    //  header still parses only at its true length, so this must fail too.
    ASSERT_NULL (s_try_decode (f.header, f.header_len - 1, f.body, f.body_len, f.mac,
                                  MP_MAC_LEN, &s_key, &s_limits, &code, err, sizeof err));

    //  Wrong keys: first or last byte changed, one byte shorter, empty. (A key padded
    //  with NUL bytes is the same HMAC key: that is HMAC, not a flaw here.)
    mp_key_t other = s_key;
    other.bytes[0] ^= 1;
    mp_key_t last = s_key;
    last.bytes[last.len - 1] ^= 0x80;
    mp_key_t shorter = s_key;
    shorter.len--;
    mp_key_t empty = { .len = 0 };
    const mp_key_t *keys[] = { &other, &last, &shorter, &empty };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        ASSERT_NULL (s_try_decode (f.header, f.header_len, f.body, f.body_len, f.mac,
                                      MP_MAC_LEN, keys[i], &s_limits, &code, err,
                                      sizeof err));
        ASSERT_EQ (code, MP_EAUTH);
    }
    //  The right frames still decode, and the NULL code pointer is allowed.
    mp_msg_t *back = s_try_decode (f.header, f.header_len, f.body, f.body_len, f.mac,
                                      MP_MAC_LEN, &s_key, NULL, NULL, NULL, 0);
    ASSERT_NOT_NULL (back);
    mp_msg_destroy (&back);

    //  The empty key signs and verifies too (integrity only).
    msg = s_build (MP_MSG_HELLO, 1);
    mp_frames_t g;
    ASSERT_EQ (mp_codec_encode (msg, &empty, &g, err, sizeof err), 0);
    back = s_try_decode (g.header, g.header_len, g.body, g.body_len, g.mac, MP_MAC_LEN,
                            &empty, &s_limits, &code, err, sizeof err);
    ASSERT_NOT_NULL (back);
    mp_msg_destroy (&back);
    ASSERT_NULL (s_try_decode (g.header, g.header_len, g.body, g.body_len, g.mac,
                                  MP_MAC_LEN, &s_key, &s_limits, &code, err, sizeof err));
    ASSERT_EQ (code, MP_EAUTH);
    mp_msg_destroy (&msg);
    mp_frames_clear (&g);
    mp_frames_clear (&f);
}

static void test_truncation_and_trailing (void)
{
    const int types[] = { MP_MSG_UNIT, MP_MSG_EVENTS, MP_MSG_ERROR, MP_MSG_ITEMS };
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        mp_msg_t *msg = s_build (types[t], 1);
        mp_frames_t f;
        char err[256];
        ASSERT_EQ (mp_codec_encode (msg, &s_key, &f, err, sizeof err), 0);
        mp_msg_destroy (&msg);
        for (size_t len = 0; len < f.header_len; len++)
            EXPECT_FAIL (f.header, len, f.body, f.body_len, &s_limits, MP_EPROTO,
                         "header");
        for (size_t len = 0; len < f.body_len; len++)
            EXPECT_FAIL (f.header, f.header_len, f.body, len, &s_limits, MP_EPROTO,
                         "body");
        uint8_t *longer = malloc (f.body_len + 3);
        memcpy (longer, f.body, f.body_len);
        memcpy (longer + f.body_len, "\x00\x01\x02", 3);
        EXPECT_FAIL (f.header, f.header_len, longer, f.body_len + 1, &s_limits, MP_EPROTO,
                     "1 trailing bytes");
        EXPECT_FAIL (f.header, f.header_len, longer, f.body_len + 3, &s_limits, MP_EPROTO,
                     "3 trailing bytes");
        free (longer);
        longer = malloc (f.header_len + 1);
        memcpy (longer, f.header, f.header_len);
        longer[f.header_len] = 0xc0;
        EXPECT_FAIL (longer, f.header_len + 1, f.body, f.body_len, &s_limits, MP_EPROTO,
                     "header: 1 trailing bytes");
        free (longer);
        mp_frames_clear (&f);
    }
}

static void test_huge_counts (void)
{
    s_pack_t h;
    s_header (&h, MP_PROTO_VERSION, MP_MSG_UNIT, 0);
    const char *H = h.buf.data;
    size_t HL = h.buf.size;
    //  Top-level containers announcing billions of elements in five bytes.
    EXPECT_FAIL (H, HL, "\xdd\xff\xff\xff\xff", 5, &s_limits, MP_EPROTO,
                 "body of UNIT: array of 4294967295 elements overruns the frame (0 left)");
    EXPECT_FAIL (H, HL, "\xdc\xff\xff", 3, &s_limits, MP_EPROTO, "array of 65535 elements");
    EXPECT_FAIL ("\xdd\xff\xff\xff\xff", 5, "\x90", 1, &s_limits, MP_EPROTO,
                 "header: array of 4294967295 elements overruns");
    EXPECT_FAIL ("\xdf\xff\xff\xff\xff", 5, "\x90", 1, &s_limits, MP_EPROTO,
                 "header: expected an array, got map");
    //  Inside a field: lists, strings and bins announcing more than is there.
    const char *bodies[] = {
        "\x95\x01\x02\xa1g\xdd\xff\xff\xff\xff",     "\x95\x01\x02\xa1g\xdd\x7f\xff\xff\xff\xc0",
        "\x95\x01\x02\xdb\xff\xff\xff\xff\x90",     "\x95\x01\x02\xa1g\x91\xdb\xff\xff\xff\xff",
        "\x95\x01\x02\xc6\xff\xff\xff\xff\x90",     "\x95\x01\x02\xa1g\x91\xda\xff\xff",
        "\x95\x01\x02\xa1g\x91\xd9\x05\x61",        "\x95\x01\x02\xa1g\xdc\x00\x05\xa0\xa0",
    };
    const size_t lens[] = { 10, 11, 9, 11, 9, 9, 9, 10 };
    const char *what[] = {
        "body field 3 of UNIT: array of 4294967295 elements overruns the frame (0 left)",
        "body field 3 of UNIT: array of 2147483647 elements overruns the frame (1 left)",
        "body field 2 of UNIT: str of 4294967295 bytes overruns the frame (1 left)",
        "body field 3 of UNIT: str of 4294967295 bytes overruns",
        "body field 2 of UNIT: bin of 4294967295 bytes overruns",
        "body field 3 of UNIT: str of 65535 bytes overruns",
        "body field 3 of UNIT: str of 5 bytes overruns the frame (1 left)",
        "body field 3 of UNIT: array of 5 elements overruns the frame (2 left)",
    };
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++)
        EXPECT_FAIL (H, HL, bodies[i], lens[i], &s_limits, MP_EPROTO, what[i]);
    //  Truncated length prefixes.
    EXPECT_FAIL (H, HL, "\x95\x01\x02\xdb\xff\xff", 6, &s_limits, MP_EPROTO,
                 "body field 2 of UNIT: truncated");
    EXPECT_FAIL (H, HL, "\x95\x01\x02\xcf\xff\x00", 6, &s_limits, MP_EPROTO,
                 "body field 2 of UNIT: uint of 8 bytes overruns");
    msgpack_sbuffer_destroy (&h.buf);
}

static void test_structure (void)
{
    s_pack_t h;
    s_header (&h, MP_PROTO_VERSION, MP_MSG_UNIT, 0);
    const char *H = h.buf.data;
    size_t HL = h.buf.size;
    //  Nesting: a list inside a list field, a list inside the header.
    EXPECT_FAIL (H, HL, "\x95\x01\x02\xa1g\x91\x91\xa1x", 9, &s_limits, MP_EPROTO,
                 "body field 3 of UNIT: lists nested deeper than 2");
    EXPECT_FAIL (H, HL, "\x95\x01\x02\xa1g\x91\x90", 7, &s_limits, MP_EPROTO,
                 "nested deeper than 2");
    EXPECT_FAIL ("\x98\x02\x09\x90\xa0\xa0\x00\x00\x00", 9, "\x90", 1, &s_limits,
                 MP_EPROTO, "header field 2: lists nested deeper than 1");
    //  Deep nesting well past the cap stops at the cap.
    uint8_t deep[4096];
    memcpy (deep, "\x95\x01\x02\xa1g", 5);
    memset (deep + 5, 0x91, sizeof deep - 6);
    deep[sizeof deep - 1] = 0;
    EXPECT_FAIL (H, HL, deep, sizeof deep, &s_limits, MP_EPROTO, "nested deeper than 2");
    //  Maps where arrays are expected, at every level; exts; the never-used byte.
    EXPECT_FAIL (H, HL, "\x80", 1, &s_limits, MP_EPROTO,
                 "body of UNIT: expected an array, got map");
    EXPECT_FAIL ("\x80", 1, "\x90", 1, &s_limits, MP_EPROTO,
                 "header: expected an array, got map");
    EXPECT_FAIL (H, HL, "\x95\x01\x02\xa1g\x81\xa1k\xa1v", 9, &s_limits, MP_EPROTO,
                 "body field 3 of UNIT: unexpected map");
    EXPECT_FAIL (H, HL, "\x95\x01\x02\xa1g\x91\x80", 7, &s_limits, MP_EPROTO,
                 "body field 3 of UNIT: unexpected map");
    EXPECT_FAIL (H, HL, "\x95\x01\x02\xa1g\xde\x00\x00", 8, &s_limits, MP_EPROTO,
                 "unexpected map");
    EXPECT_FAIL (H, HL, "\x95\x01\x02\xd4\x01\x00\x90", 7, &s_limits, MP_EPROTO,
                 "body field 2 of UNIT: unexpected ext type 0xd4");
    EXPECT_FAIL (H, HL, "\x95\x01\x02\xc7\x01\x05\x00\x90", 8, &s_limits, MP_EPROTO,
                 "unexpected ext type 0xc7");
    EXPECT_FAIL (H, HL, "\x95\x01\x02\xc1\x90\x00", 6, &s_limits, MP_EPROTO, "invalid byte 0xc1");
    EXPECT_FAIL (H, HL, "\x01", 1, &s_limits, MP_EPROTO,
                 "body of UNIT: expected an array, got uint");
    EXPECT_FAIL (H, HL, "\xa3" "abc", 4, &s_limits, MP_EPROTO, "expected an array, got str");
    //  Too few and too many fields.
    EXPECT_FAIL (H, HL, "\x93\x01\x02\xa1g", 5, &s_limits, MP_EPROTO,
                 "body of UNIT: expected 5 fields, got 3");
    EXPECT_FAIL (H, HL, "\x96\x01\x02\xa1g\x90\x00\x00", 8, &s_limits, MP_EPROTO,
                 "body of UNIT: expected 5 fields, got 6");
    EXPECT_FAIL (H, HL, "\x90", 1, &s_limits, MP_EPROTO, "expected 5 fields, got 0");
    //  The same body in array16 and array32 form is fine: non-minimal sizes are legal.
    int code;
    char err[256];
    mp_msg_t *m = s_decode (H, HL, "\xdd\x00\x00\x00\x05\x01\xcf\0\0\0\0\0\0\0\x02\xa1g"
                                   "\xdc\x00\x01\xd9\x02hi\x00", 25, &s_limits, &code, err);
    if (!m)
        MP_FAIL_AT ("%s", err);
    ASSERT_EQ (mp_msg_u64 (m, 1), 2);
    ASSERT_STREQ (mp_msg_str_at (m, 3, 0), "hi");
    mp_msg_destroy (&m);
    msgpack_sbuffer_destroy (&h.buf);
}

static void test_header_fields (void)
{
    s_pack_t h;
    const char *body = "\x91\x07"; //  OK(7)
    s_header (&h, MP_PROTO_VERSION + 1, MP_MSG_OK, 0);
    char want[64];
    snprintf (want, sizeof want, "header field 0: protocol version %d, expected %d",
              MP_PROTO_VERSION + 1, MP_PROTO_VERSION);
    EXPECT_FAIL (h.buf.data, h.buf.size, body, 2, &s_limits, MP_EPROTO, want);
    msgpack_sbuffer_destroy (&h.buf);
    s_header (&h, 0, MP_MSG_OK, 0);
    EXPECT_FAIL (h.buf.data, h.buf.size, body, 2, &s_limits, MP_EPROTO, "protocol version 0");
    msgpack_sbuffer_destroy (&h.buf);
    const uint64_t unknown[] = { 0, MP_MSG_TYPE_MAX, 99, (uint64_t) 1 << 40, UINT64_MAX };
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        s_header (&h, MP_PROTO_VERSION, unknown[i], 0);
        EXPECT_FAIL (h.buf.data, h.buf.size, body, 2, &s_limits, MP_EPROTO,
                     "header field 1: unknown message type");
        msgpack_sbuffer_destroy (&h.buf);
    }
    //  Hand-made headers with a wrong type in each position (a version-2 header has 8
    //  fields: version, type, reqid, from, to, ts, session, seq).
    const char *bad[] = {
        "\x98\xa1\x32\x01\x00\xa0\xa0\x00\x00\x00",
        "\x98\x02\xff\x00\xa0\xa0\x00\x00\x00",
        "\x98\x02\x01\xff\xa0\xa0\x00\x00\x00",
        "\x98\x02\x01\x00\x05\xa0\x00\x00\x00",
        "\x98\x02\x01\x00\xa0\xc4\x00\x00\x00\x00",
        "\x98\x02\x01\x00\xa0\xa0\xa0\x00\x00",
        "\x98\x02\x01\x00\xa0\xa0\xc0\x00\x00",
        "\x98\x02\x01\x00\xa0\xa0\xd0\xff\x00\x00",
        "\x98\x02\x01\x00\xa0\xa0\x00\xa0\x00",
        "\x98\x02\x01\x00\xa0\xa0\x00\x00\xc0",
    };
    const size_t lens[] = { 10, 9, 9, 9, 10, 9, 9, 10, 9, 9 };
    const char *what[] = {
        "header field 0: expected uint, got string",
        "header field 1: expected uint, got negative int",
        "header field 2: expected uint, got negative int",
        "header field 3: expected string, got int",
        "header field 4: expected string, got bytes",
        "header field 5: expected uint, got string",
        "header field 5: expected uint, got nil",
        "header field 5: expected uint, got negative int",
        "header field 6: expected uint, got string",
        "header field 7: expected uint, got nil",
    };
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++)
        EXPECT_FAIL (bad[i], lens[i], body, 2, &s_limits, MP_EPROTO, what[i]);
    EXPECT_FAIL ("\x97\x02\x01\x00\xa0\xa0\x00\x00", 8, body, 2, &s_limits, MP_EPROTO,
                 "header: expected 8 fields, got 7");
    EXPECT_FAIL ("\x99\x02\x01\x00\xa0\xa0\x00\x00\x00\x00", 10, body, 2, &s_limits,
                 MP_EPROTO, "header: expected 8 fields, got 9");
    EXPECT_FAIL ("\x98\x02\x01\x00\xa3" "a\0b\xa0\x00\x00\x00", 12, body, 2, &s_limits,
                 MP_EPROTO, "header field 3: string contains a NUL byte");
    EXPECT_FAIL ("", 0, body, 2, &s_limits, MP_EPROTO, "header: empty");
    //  A minimal hand-made header is accepted, with its session and sequence number.
    int code;
    char err[256];
    mp_msg_t *m = s_decode ("\x98\x02\x01\x00\xa0\xa1z\x00\x2a\x05", 10, body, 2,
                            &s_limits, &code, err);
    ASSERT_NOT_NULL (m);
    ASSERT_EQ (mp_msg_session (m), 42);
    ASSERT_EQ (mp_msg_seq (m), 5);
    ASSERT_STREQ (mp_msg_to (m), "z");
    ASSERT_EQ (mp_msg_u64 (m, 0), 7);
    mp_msg_destroy (&m);
}

static void test_timestamps (void)
{
    mp_limits_t limits = s_limits;
    limits.max_skew_ms = 1000;
    const char *body = "\x91\x07";
    uint64_t now = mp_clock_wall_ms ();
    const uint64_t stale[] = { 0, 1, now - 60000, now + 60000, UINT64_MAX };
    s_pack_t h;
    for (size_t i = 0; i < sizeof stale / sizeof stale[0]; i++) {
        s_header (&h, MP_PROTO_VERSION, MP_MSG_OK, stale[i]);
        EXPECT_FAIL (h.buf.data, h.buf.size, body, 2, &limits, MP_ESTALE,
                     "header field 5: timestamp");
        //  Without the check the same message is fine.
        int code;
        char err[256];
        mp_msg_t *m = s_decode (h.buf.data, h.buf.size, body, 2, &s_limits, &code, err);
        ASSERT_NOT_NULL (m);
        ASSERT_TRUE (mp_msg_ts (m) == stale[i]);
        mp_msg_destroy (&m);
        msgpack_sbuffer_destroy (&h.buf);
    }
    s_header (&h, MP_PROTO_VERSION, MP_MSG_OK, now - 500);
    int code;
    char err[256];
    mp_msg_t *m = s_decode (h.buf.data, h.buf.size, body, 2, &limits, &code, err);
    ASSERT_NOT_NULL (m);
    mp_msg_destroy (&m);
    msgpack_sbuffer_destroy (&h.buf);
}

//  Every field of every type, replaced by every kind of wrong value.
static void test_wrong_field_types (void)
{
    int tried = 0;
    for (int type = 1; type < MP_MSG_TYPE_MAX; type++) {
        const char *schema = mp_msg_schema (type);
        s_pack_t h;
        s_header (&h, MP_PROTO_VERSION, (uint64_t) type, 0);
        for (size_t f = 0; schema[f]; f++) {
            for (int n = 0; n < S_WRONG_COUNT; n++) {
                s_pack_t b;
                s_pack_init (&b);
                msgpack_pack_array (&b.pk, strlen (schema));
                int wrong = 0;
                for (size_t g = 0; schema[g]; g++) {
                    if (g == f)
                        wrong = s_pack_wrong (&b, schema[g], n);
                    else
                        s_pack_valid (&b, schema[g]);
                }
                if (wrong) {
                    char what[64];
                    snprintf (what, sizeof what, "body field %zu of %s", f,
                              mp_msg_name (type));
                    EXPECT_FAIL (h.buf.data, h.buf.size, b.buf.data, b.buf.size, &s_limits,
                                 MP_EPROTO, what);
                    tried++;
                }
                msgpack_sbuffer_destroy (&b.buf);
            }
        }
        //  And the all-valid body decodes.
        s_pack_t b;
        s_pack_init (&b);
        msgpack_pack_array (&b.pk, strlen (schema));
        for (size_t g = 0; schema[g]; g++)
            s_pack_valid (&b, schema[g]);
        int code;
        char err[256];
        mp_msg_t *m = s_decode (h.buf.data, h.buf.size, b.buf.data, b.buf.size, &s_limits,
                                &code, err);
        if (!m)
            MP_FAIL_AT ("%s: %s", mp_msg_name (type), err);
        mp_msg_destroy (&m);
        msgpack_sbuffer_destroy (&b.buf);
        msgpack_sbuffer_destroy (&h.buf);
    }
    ASSERT_TRUE (tried > 500);

    //  A few exact reasons.
    s_pack_t h;
    s_header (&h, MP_PROTO_VERSION, MP_MSG_UNIT, 0);
    EXPECT_FAIL (h.buf.data, h.buf.size, "\x95\x01\x02\xa1g\x05\x00", 7, &s_limits, MP_EPROTO,
                 "body field 3 of UNIT: expected list of strings, got int");
    EXPECT_FAIL (h.buf.data, h.buf.size, "\x95\x01\x02\xa1g\x92\xa0\x05\x00", 9, &s_limits,
                 MP_EPROTO, "body field 3 of UNIT, item 1: expected string, got int");
    EXPECT_FAIL (h.buf.data, h.buf.size, "\x95\xcb\0\0\0\0\0\0\0\0\x02\xa1g\x90\x00", 15,
                 &s_limits, MP_EPROTO, "body field 0 of UNIT: expected uint, got float");
    msgpack_sbuffer_destroy (&h.buf);
    s_header (&h, MP_PROTO_VERSION, MP_MSG_ZYGOTE_EXIT, 0);
    EXPECT_FAIL (h.buf.data, h.buf.size, "\x92\x01\xcf\x80\0\0\0\0\0\0\0", 11, &s_limits,
                 MP_EPROTO, "body field 1 of ZYGOTE_EXIT: int 9223372036854775808 does not");
    msgpack_sbuffer_destroy (&h.buf);
}

static void test_limits (void)
{
    mp_limits_t limits = s_limits;
    limits.max_list = 3;
    limits.max_str = 8;
    s_pack_t h;
    s_header (&h, MP_PROTO_VERSION, MP_MSG_UNIT, 0);
    const char *H = h.buf.data;
    size_t HL = h.buf.size;
    int code;
    char err[256];
    //  At the limits: fine.
    mp_msg_t *m = s_decode (H, HL, "\x95\x01\x02\xa8" "12345678\x93\xa0\xa0\xa8" "abcdefgh\x00",
                            25, &limits, &code, err);
    if (!m)
        MP_FAIL_AT ("%s", err);
    ASSERT_STREQ (mp_msg_str (m, 2), "12345678");
    ASSERT_STREQ (mp_msg_str_at (m, 3, 2), "abcdefgh");
    mp_msg_destroy (&m);
    //  One over.
    EXPECT_FAIL (H, HL, "\x95\x01\x02\xa0\x94\xa0\xa0\xa0\xa0\x00", 10, &limits, MP_ETOOBIG,
                 "body field 3 of UNIT: list of 4 elements, limit 3");
    EXPECT_FAIL (H, HL, "\x95\x01\x02\xa9" "123456789\x90\x00", 15, &limits, MP_ETOOBIG,
                 "body field 2 of UNIT: string of 9 bytes, limit 8");
    EXPECT_FAIL (H, HL, "\x95\x01\x02\xa0\x91\xa9" "123456789\x00", 16, &limits, MP_ETOOBIG,
                 "body field 3 of UNIT, item 0: string of 9 bytes, limit 8");
    EXPECT_FAIL ("\x98\x02\x01\x00\xa9" "123456789\xa0\x00\x00\x00", 18, "\x91\x07", 2,
                 &limits, MP_ETOOBIG, "header field 3: string of 9 bytes, limit 8");
    //  NUL bytes inside strings.
    EXPECT_FAIL (H, HL, "\x95\x01\x02\xa3" "a\0b\x90\x00", 9, &s_limits, MP_EPROTO,
                 "body field 2 of UNIT: string contains a NUL byte");
    EXPECT_FAIL (H, HL, "\x95\x01\x02\xa0\x92\xa0\xa1\0\x00", 9, &s_limits, MP_EPROTO,
                 "body field 3 of UNIT, item 1: string contains a NUL byte");
    msgpack_sbuffer_destroy (&h.buf);

    //  Limits from a real encoder: a list of max_list + 1 test ids.
    mp_msg_t *msg = mp_msg_new (MP_MSG_UNIT);
    mp_msg_add_u64 (msg, 1);
    mp_msg_add_u64 (msg, 2);
    mp_msg_add_str (msg, "g");
    mp_msg_add_list (msg);
    for (int i = 0; i < 4; i++)
        mp_msg_push_str (msg, "t");
    mp_msg_add_u64 (msg, 0);
    mp_frames_t f;
    ASSERT_EQ (mp_codec_encode (msg, &s_key, &f, err, sizeof err), 0);
    ASSERT_NULL (s_try_decode (f.header, f.header_len, f.body, f.body_len, f.mac,
                                  MP_MAC_LEN, &s_key, &limits, &code, err, sizeof err));
    ASSERT_EQ (code, MP_ETOOBIG);
    mp_frames_clear (&f);
    mp_msg_destroy (&msg);
}

static const mp_test_t tests[] = {
    MP_TEST (test_roundtrip_every_type),
    MP_TEST (test_encode),
    MP_TEST (test_frames_and_mac),
    MP_TEST (test_truncation_and_trailing),
    MP_TEST (test_huge_counts),
    MP_TEST (test_structure),
    MP_TEST (test_header_fields),
    MP_TEST (test_timestamps),
    MP_TEST (test_wrong_field_types),
    MP_TEST (test_limits),
    { NULL, NULL },
};

int main (int argc, char **argv)
{
    s_key.len = 32;
    memcpy (s_key.bytes, "0123456789abcdef0123456789abcdef", 32);
    s_limits = mp_limits_default;
    s_limits.max_skew_ms = 0;
    return mp_test_main (tests, argc, argv);
}
