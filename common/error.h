//  Project-wide error codes and a caller-owned reason buffer convention.
#ifndef MP_ERROR_H
#define MP_ERROR_H

#include <stddef.h>

typedef enum {
    MP_OK = 0,
    MP_EINVAL = -1,    //  bad argument or value
    MP_EPROTO = -2,    //  malformed message
    MP_EAUTH = -3,     //  bad or missing signature
    MP_ENOMEM = -4,    //  allocation failed
    MP_ETIMEDOUT = -5, //  no answer in time
    MP_ENOENT = -6,    //  no such run, key, lock or peer
    MP_ESTATE = -7,    //  operation not valid in this state
    MP_ETOOBIG = -8,   //  a size limit was exceeded
    MP_ESTALE = -9,    //  message timestamp out of window
    MP_EIO = -10       //  system call or socket failure
} mp_err_t;

//  Static, lower-case description of an error code.
const char *mp_strerror (int code);

//  printf into a caller-owned reason buffer; NULL or 0-length buffers are ignored.
void mp_set_error (char *err, size_t errlen, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

#endif
