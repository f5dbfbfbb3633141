//  The shared secret every frame is signed with.
#ifndef MP_KEY_H
#define MP_KEY_H

#include <stddef.h>
#include <stdint.h>

#define MP_KEY_MAX 256

typedef struct {
    uint8_t bytes[MP_KEY_MAX];
    size_t len; //  0 means no key: frames still carry an HMAC (integrity only)
} mp_key_t;

//  Loads a key file: its bytes with trailing whitespace removed; must hold 16..MP_KEY_MAX
//  bytes and must not be readable by group or others. path NULL or "" gives the empty key.
//  MP_OK, or with a reason in err: MP_EIO (cannot open or read it), MP_EINVAL (not a
//  regular file, too open a mode, a key of the wrong length), MP_ETOOBIG.
int mp_key_load (mp_key_t *key, const char *path, char *err, size_t errlen);

//  Writes a fresh random key (64 hex characters) to path with mode 0600. MP_OK, or
//  MP_EINVAL (no path) or MP_EIO with a reason in err.
int mp_key_generate_file (const char *path, char *err, size_t errlen);

#endif
