//  Project-wide error codes, and the one way C code in pytest-mp reports failure.
//
//  The convention (common/, proto/, coordinator/, agent/, client/):
//
//  1. A function that can fail returns int: MP_OK (0) or a negative mp_err_t code,
//     the one that says what went wrong, never a bare -1. Its results go to
//     out-parameters, written only on success.
//  2. Where a person needs to know why, the caller passes `char *err, size_t errlen`,
//     filled with a lower-case reason that names the thing (no trailing period).
//     mp_set_error and mp_vset_error are the only formatters of reasons.
//  3. Constructors x_new return the object or NULL (no memory). One that can fail for
//     another reason takes err and errlen too. Each header says which.
//  4. Queries and predicates that cannot fail return their answer: "1 when ..." for
//     predicates, NULL for a lookup that finds nothing. They are not failures.
//  5. An object that has to remember its last failure for callers that cannot take
//     an err buffer (the client library, used through ctypes) keeps the reason and
//     the code together, set at the same places (mpc_error, mpc_errno).
#ifndef MP_ERROR_H
#define MP_ERROR_H

#include <stdarg.h>
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
    MP_EIO = -10,      //  system call or socket failure
    MP_EREPLAY = -11   //  a message replayed, or out of its sender's order
} mp_err_t;

//  Static, lower-case description of an error code.
const char *mp_strerror (int code);

//  printf into a caller-owned reason buffer; NULL or 0-length buffers are ignored.
void mp_set_error (char *err, size_t errlen, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
//  The same with a va_list, for functions that take a format of their own.
void mp_vset_error (char *err, size_t errlen, const char *fmt, va_list args)
    __attribute__ ((format (printf, 3, 0)));

#endif
