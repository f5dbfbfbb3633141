//  HMAC-SHA256 over header and body, with OpenSSL 3's EVP_MAC.
#include "hmac.h"
#include "error.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

//  A keyed context to copy: fetching HMAC and SHA256 from OpenSSL's providers and
//  keying a context cost more than the MAC of a message. One key is cached (a daemon
//  and a client sign with one), guarded for the client library's threads (and held
//  across fork, so that a child never inherits it locked), freed at exit before
//  OpenSSL's own clean-up (atexit runs in reverse order of registration).
static pthread_mutex_t s_cache_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t s_cache_once = PTHREAD_ONCE_INIT;
static EVP_MAC_CTX *s_cache_ctx;
static uint8_t s_cache_key[MP_KEY_MAX];
static size_t s_cache_len;

static void s_cache_free (void)
{
    pthread_mutex_lock (&s_cache_lock);
    EVP_MAC_CTX_free (s_cache_ctx);
    s_cache_ctx = NULL;
    OPENSSL_cleanse (s_cache_key, sizeof s_cache_key);
    pthread_mutex_unlock (&s_cache_lock);
}

static void s_fork_prepare (void)
{
    pthread_mutex_lock (&s_cache_lock);
}

static void s_fork_done (void)
{
    pthread_mutex_unlock (&s_cache_lock);
}

static void s_cache_init (void)
{
    atexit (s_cache_free);
    pthread_atfork (s_fork_prepare, s_fork_done, s_fork_done);
}

//  A new context keyed with kb, or NULL.
static EVP_MAC_CTX *s_keyed (const uint8_t *kb, size_t klen)
{
    EVP_MAC *hmac = EVP_MAC_fetch (NULL, "HMAC", NULL);
    if (!hmac)
        return NULL;
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new (hmac);
    EVP_MAC_free (hmac);
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string (OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end (),
    };
    if (ctx && EVP_MAC_init (ctx, kb, klen, params) != 1)
        EVP_MAC_CTX_free (ctx), ctx = NULL;
    return ctx;
}

//  A context keyed with kb, ready for its updates: a copy of the cached one.
static EVP_MAC_CTX *s_context (const uint8_t *kb, size_t klen)
{
    pthread_once (&s_cache_once, s_cache_init);
    pthread_mutex_lock (&s_cache_lock);
    if (!s_cache_ctx || s_cache_len != klen || CRYPTO_memcmp (s_cache_key, kb, klen) != 0) {
        EVP_MAC_CTX_free (s_cache_ctx);
        s_cache_ctx = s_keyed (kb, klen);
        memcpy (s_cache_key, kb, klen);
        s_cache_len = klen;
    }
    EVP_MAC_CTX *ctx = s_cache_ctx ? EVP_MAC_CTX_dup (s_cache_ctx) : NULL;
    pthread_mutex_unlock (&s_cache_lock);
    return ctx;
}

int mp_hmac (const mp_key_t *key, const void *a, size_t alen, const void *b, size_t blen,
             uint8_t mac[MP_MAC_LEN])
{
    if (!key || (!a && alen) || (!b && blen) || !mac)
        return MP_EINVAL;
    //  The empty key (integrity only) still needs a non-NULL pointer to count as set.
    static const uint8_t none[1];
    const uint8_t *kb = key->len ? key->bytes : none;
    size_t klen = key->len <= MP_KEY_MAX ? key->len : MP_KEY_MAX;
    EVP_MAC_CTX *ctx = s_context (kb, klen);
    if (!ctx)
        return MP_EIO;
    int rc = MP_EIO;
    size_t outlen = 0;
    if ((!alen || EVP_MAC_update (ctx, a, alen) == 1)
        && (!blen || EVP_MAC_update (ctx, b, blen) == 1)
        && EVP_MAC_final (ctx, mac, &outlen, MP_MAC_LEN) == 1 && outlen == MP_MAC_LEN)
        rc = MP_OK;
    EVP_MAC_CTX_free (ctx);
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
