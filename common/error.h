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

//  X (NAME, code, description): every error code, the one list of them (the Python
//  side reads names and codes through mp_err_name).
#define MP_ERRORS(X)                                                                     \
    X (OK, 0, "success")                                                                 \
    X (EINVAL, -1, "invalid argument")               /* bad argument or value */         \
    X (EPROTO, -2, "malformed message")                                                  \
    X (EAUTH, -3, "bad or missing signature")        /* or a sender without the right */ \
    X (ENOMEM, -4, "out of memory")                                                      \
    X (ETIMEDOUT, -5, "timed out")                   /* no answer in time */             \
    X (ENOENT, -6, "not found")                      /* no such run, key, lock or peer */ \
    X (ESTATE, -7, "not valid in this state")                                            \
    X (ETOOBIG, -8, "size limit exceeded")                                               \
    X (ESTALE, -9, "timestamp out of window")                                            \
    X (EIO, -10, "input/output error")               /* system call or socket failure */ \
    X (EREPLAY, -11, "replayed or reordered message")

#define MP_ERR_ENUM(name, code, text) MP_##name = code,
typedef enum { MP_ERRORS (MP_ERR_ENUM) } mp_err_t;
#undef MP_ERR_ENUM

//  Static, lower-case description of an error code.
const char *mp_strerror (int code);
//  Its name without the prefix ("EAUTH"), or NULL for a code that is none.
const char *mp_err_name (int code);

//  printf into a caller-owned reason buffer; NULL or 0-length buffers are ignored.
void mp_set_error (char *err, size_t errlen, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
//  The same with a va_list, for functions that take a format of their own.
void mp_vset_error (char *err, size_t errlen, const char *fmt, va_list args)
    __attribute__ ((format (printf, 3, 0)));

#endif
