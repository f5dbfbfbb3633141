//  CURVE key files as czmq writes them (zcert_save, `mp-coord --gen-cert`): a public
//  file with `public-key = "<Z85>"`, and a secret file with that and
//  `secret-key = "<Z85>"`. Read here without czmq, for the client library too.
#ifndef MP_CURVE_CERT_H
#define MP_CURVE_CERT_H

#include <stddef.h>

#define MP_CURVE_KEY_Z85 41 //  40 characters and a NUL

//  Reads the public key, and the secret key when secret is not NULL, from path. MP_OK,
//  or MP_EIO (cannot read it), MP_EINVAL (a key missing or malformed; a secret key
//  file readable by others), with a reason in err.
int mp_curve_cert_read (const char *path, char *public_key, char *secret_key, char *err,
                        size_t errlen);

#endif
