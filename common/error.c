//  Error codes and the caller-owned reason buffer.
#include "error.h"

#include <stdarg.h>
#include <stdio.h>

const char *mp_strerror (int code)
{
    switch (code) {
    case MP_OK: return "success";
    case MP_EINVAL: return "invalid argument";
    case MP_EPROTO: return "malformed message";
    case MP_EAUTH: return "bad or missing signature";
    case MP_ENOMEM: return "out of memory";
    case MP_ETIMEDOUT: return "timed out";
    case MP_ENOENT: return "not found";
    case MP_ESTATE: return "not valid in this state";
    case MP_ETOOBIG: return "size limit exceeded";
    case MP_ESTALE: return "timestamp out of window";
    case MP_EIO: return "input/output error";
    case MP_EREPLAY: return "replayed or reordered message";
    default: return "unknown error";
    }
}

void mp_vset_error (char *err, size_t errlen, const char *fmt, va_list args)
{
    if (!err || errlen == 0)
        return;
    vsnprintf (err, errlen, fmt, args);
}

void mp_set_error (char *err, size_t errlen, const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    mp_vset_error (err, errlen, fmt, args);
    va_end (args);
}
