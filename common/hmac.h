//  HMAC-SHA256 over a message's header and body frames.
#ifndef MP_HMAC_H
#define MP_HMAC_H

#include "key.h"

#define MP_MAC_LEN 32

//  mac = HMAC-SHA256(key, a || b). MP_OK, MP_EINVAL for a missing argument, or MP_EIO
//  when OpenSSL fails.
int mp_hmac (const mp_key_t *key, const void *a, size_t alen, const void *b, size_t blen,
             uint8_t mac[MP_MAC_LEN]);

//  1 when mac (of maclen bytes) is the right one, compared in constant time; 0 otherwise.
int mp_hmac_verify (const mp_key_t *key, const void *a, size_t alen, const void *b,
                    size_t blen, const void *mac, size_t maclen);

#endif
