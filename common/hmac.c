//  HMAC-SHA256 over header and body, with OpenSSL 3's EVP_MAC.
#include "hmac.h"
#include "error.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

int mp_hmac (const mp_key_t *key, const void *a, size_t alen, const void *b, size_t blen,
             uint8_t mac[MP_MAC_LEN])
{
    if (!key || (!a && alen) || (!b && blen) || !mac)
        return MP_EINVAL;
    int rc = MP_EIO;
    EVP_MAC *hmac = EVP_MAC_fetch (NULL, "HMAC", NULL);
    if (!hmac)
        return MP_EIO;
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new (hmac);
    if (!ctx)
        goto free_mac;
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string (OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end (),
    };
    //  The empty key (integrity only) still needs a non-NULL pointer to count as set.
    static const uint8_t none[1];
    const uint8_t *kb = key->len ? key->bytes : none;
    size_t klen = key->len <= MP_KEY_MAX ? key->len : MP_KEY_MAX;
    if (EVP_MAC_init (ctx, kb, klen, params) != 1)
        goto free_ctx;
    if (alen && EVP_MAC_update (ctx, a, alen) != 1)
        goto free_ctx;
    if (blen && EVP_MAC_update (ctx, b, blen) != 1)
        goto free_ctx;
    size_t outlen = 0;
    if (EVP_MAC_final (ctx, mac, &outlen, MP_MAC_LEN) != 1 || outlen != MP_MAC_LEN)
        goto free_ctx;
    rc = MP_OK;
free_ctx:
    EVP_MAC_CTX_free (ctx);
free_mac:
    EVP_MAC_free (hmac);
    return rc;
}

int mp_hmac_verify (const mp_key_t *key, const void *a, size_t alen, const void *b,
                    size_t blen, const void *mac, size_t maclen)
{
    if (!mac || maclen != MP_MAC_LEN)
        return 0;
    uint8_t want[MP_MAC_LEN];
    if (mp_hmac (key, a, alen, b, blen, want) != MP_OK)
        return 0;
    int ok = CRYPTO_memcmp (want, mac, MP_MAC_LEN) == 0;
    OPENSSL_cleanse (want, sizeof want);
    return ok;
}
