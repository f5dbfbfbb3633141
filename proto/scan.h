//  A bounds-checking pass over msgpack bytes, run before msgpack-c sees them.
//
//  msgpack-c reserves memory for a container's announced count before any element
//  arrives, so a few bytes can make it allocate gigabytes. This walker reads the
//  encoding with a cursor and a ceiling and only lets through a frame that is exactly
//  one array of the expected length, whose every length and count fits in the bytes
//  left, whose nesting is capped, and which has no maps, exts or trailing bytes.
#ifndef MP_SCAN_H
#define MP_SCAN_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *frame; //  "header" or "body", for reasons
    const char *name;  //  message type name, or NULL
    size_t count;      //  elements the top-level array must have
    int max_depth;     //  arrays allowed on any path, the top-level one included
    size_t max_list;   //  elements allowed in a nested array
} mp_scan_spec_t;

//  Returns MP_OK, or MP_EPROTO / MP_ETOOBIG with a reason in err.
int mp_scan (const uint8_t *buf, size_t len, const mp_scan_spec_t *spec, char *err,
             size_t errlen);

//  The reason of a failure in a frame, for the scan and the decoder alike: where it is
//  ("header", "header field 3", "body field 2 of UNIT", "body of UNIT", then ", item 5"
//  when item >= 0), a colon and what fmt says, into err. Returns code.
int mp_scan_vfail (const mp_scan_spec_t *spec, long field, long item, int code, char *err,
                   size_t errlen, const char *fmt, va_list args)
    __attribute__ ((format (printf, 7, 0)));

#endif
