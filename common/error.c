//  Error codes and the caller-owned reason buffer.
#include "error.h"

#include <stdarg.h>
#include <stdio.h>

const char *mp_strerror (int code)
{
#define MP_ERR_TEXT(name, value, text)                                                   \
    case value:                                                                          \
        return text;
    switch (code) {
        MP_ERRORS (MP_ERR_TEXT)
    default:
        return "unknown error";
    }
#undef MP_ERR_TEXT
}

const char *mp_err_name (int code)
{
#define MP_ERR_NAME(name, value, text)                                                   \
    case value:                                                                          \
        return #name;
    switch (code) {
        MP_ERRORS (MP_ERR_NAME)
    default:
        return NULL;
    }
#undef MP_ERR_NAME
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
