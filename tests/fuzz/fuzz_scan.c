//  libFuzzer target for the bounds-checking msgpack scanner (mp_scan, proto/scan.h),
//  called directly, with no MAC in the way.
//
//  Input: two bytes of spec, then the frame.
//    byte 0: the count the top-level array must have (0..15, low nibble); bit 4 names
//            a message type in reasons, bit 5 calls it a "header" frame
//    byte 1: max_depth 1..4 (low 2 bits), max_list (the rest: 0..62, 63 for 1M)
//
//  The scan is what stands between msgpack-c and hostile bytes, and the decoder takes
//  its word: whatever it lets through, msgpack-c must parse into exactly one array of
//  the expected count, using every byte, with no map or ext anywhere, no list longer
//  than max_list and no deeper nesting than max_depth. A disagreement aborts.
#include "../../proto/scan.h"
#include "fuzzing.h"

#include <msgpack.h>

//  Checks an object msgpack-c built from bytes the scan accepted, depth counting arrays.
static void s_check_object (const msgpack_object *o, const mp_scan_spec_t *spec, int depth)
{
    switch (o->type) {
    case MSGPACK_OBJECT_MAP:
    case MSGPACK_OBJECT_EXT:
        FZ_CHECK (0, "scan let a map or an ext through (%d)", o->type);
        break;
    case MSGPACK_OBJECT_ARRAY:
        FZ_CHECK (depth + 1 <= spec->max_depth, "array at depth %d, max %d", depth + 1,
                  spec->max_depth);
        FZ_CHECK (depth == 0 ? o->via.array.size == spec->count
                             : o->via.array.size <= spec->max_list,
                  "array of %u at depth %d", (unsigned) o->via.array.size, depth);
        for (uint32_t i = 0; i < o->via.array.size; i++)
            s_check_object (&o->via.array.ptr[i], spec, depth + 1);
        break;
    default: FZ_CHECK (depth > 0, "top level is not an array");
    }
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    unsigned list = data[1] >> 2;
    mp_scan_spec_t spec = {
        (data[0] & 0x20) ? "header" : "body",
        (data[0] & 0x10) ? "FUZZ" : NULL,
        data[0] & 0x0f,
        1 + (data[1] & 3),
        list == 63 ? (size_t) 1 << 20 : list,
    };
    const uint8_t *buf = data + 2;
    size_t len = size - 2;
    char err[256] = "";
    int rc = mp_scan (len ? buf : NULL, len, &spec, err, sizeof err);
    if (rc != MP_OK) {
        FZ_CHECK (rc == MP_EPROTO || rc == MP_ETOOBIG, "scan returned %d", rc);
        FZ_CHECK (err[0] != 0, "scan failed without a reason");
        return 0;
    }
    FZ_CHECK (len > 0, "scan accepted an empty frame");
    msgpack_unpacked u;
    msgpack_unpacked_init (&u);
    size_t off = 0;
    msgpack_unpack_return ret = msgpack_unpack_next (&u, (const char *) buf, len, &off);
    FZ_CHECK (ret == MSGPACK_UNPACK_SUCCESS && off == len,
              "msgpack-c disagrees with the scan: %d, %zu of %zu bytes", (int) ret, off, len);
    s_check_object (&u.data, &spec, 0);
    msgpack_unpacked_destroy (&u);
    return 0;
}
