//  HMAC-SHA256 over two frames, against RFC 4231 and in its misuses.
#include "../../common/hmac.h"
#include "../../common/error.h"
#include "testing.h"

static void test_rfc4231 (void)
{
    //  RFC 4231 test case 2, with the data split over the two frames.
    mp_key_t key = { .len = 4 };
    memcpy (key.bytes, "Jefe", 4);
    const char *data = "what do ya want for nothing?";
    static const uint8_t want[MP_MAC_LEN] = {
        0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24,
        0x26, 0x08, 0x95, 0x75, 0xc7, 0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27,
        0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec, 0x38, 0x43,
    };
    uint8_t mac[MP_MAC_LEN];
    for (size_t split = 0; split <= strlen (data); split++) {
        ASSERT_EQ (mp_hmac (&key, data, split, data + split, strlen (data) - split, mac), 0);
        ASSERT_TRUE (memcmp (mac, want, MP_MAC_LEN) == 0);
        ASSERT_EQ (mp_hmac_verify (&key, data, split, data + split, strlen (data) - split,
                                   want, MP_MAC_LEN),
                   1);
    }
}

static void test_verify (void)
{
    mp_key_t key = { .len = 16 };
    memcpy (key.bytes, "0123456789abcdef", 16);
    mp_key_t empty = { .len = 0 };
    uint8_t mac[MP_MAC_LEN], mac_empty[MP_MAC_LEN];
    ASSERT_EQ (mp_hmac (&key, "head", 4, "body", 4, mac), 0);
    ASSERT_EQ (mp_hmac (&empty, "head", 4, "body", 4, mac_empty), 0);
    ASSERT_TRUE (memcmp (mac, mac_empty, MP_MAC_LEN) != 0);
    ASSERT_EQ (mp_hmac_verify (&empty, "head", 4, "body", 4, mac_empty, MP_MAC_LEN), 1);
    ASSERT_EQ (mp_hmac_verify (&key, "head", 4, "body", 4, mac_empty, MP_MAC_LEN), 0);
    ASSERT_EQ (mp_hmac_verify (&key, "head", 4, "body", 4, mac, MP_MAC_LEN - 1), 0);
    ASSERT_EQ (mp_hmac_verify (&key, "head", 4, "body", 4, mac, 0), 0);
    ASSERT_EQ (mp_hmac_verify (&key, "head", 4, "body", 4, NULL, MP_MAC_LEN), 0);
    ASSERT_EQ (mp_hmac_verify (&key, "head", 4, "bodx", 4, mac, MP_MAC_LEN), 0);
    mac[31] ^= 1;
    ASSERT_EQ (mp_hmac_verify (&key, "head", 4, "body", 4, mac, MP_MAC_LEN), 0);
    ASSERT_EQ (mp_hmac (&key, NULL, 0, NULL, 0, mac), 0);
    ASSERT_EQ (mp_hmac (&key, NULL, 3, NULL, 0, mac), MP_EINVAL);
    ASSERT_EQ (mp_hmac (NULL, "a", 1, NULL, 0, mac), MP_EINVAL);
}

static const mp_test_t tests[] = {
    MP_TEST (test_rfc4231),
    MP_TEST (test_verify),
    { NULL, NULL },
};

MP_TEST_MAIN (tests)
