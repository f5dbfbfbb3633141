//  Decoding and authenticating the three frames of a message; see codec.h.
//  Order matters: sizes, then the MAC, then the bounds scan, and only then msgpack-c.
#include "../common/clock.h"
#include "../common/error.h"
#include "codec.h"
#include "msg_priv.h"
#include "scan.h"

#include <limits.h>
#include <stdarg.h>
#include <string.h>

#include <msgpack.h>

//  Where in the message a check is, for reasons: "body field 2 of UNIT, item 5".
typedef struct {
    const mp_scan_spec_t *spec;
    long field;
    long item; //  -1 outside lists
    char *err;
    size_t errlen;
} s_where_t;

static int s_fail (const s_where_t *w, int code, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

static int s_fail (const s_where_t *w, int code, const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    code = mp_scan_vfail (w->spec, w->field, w->item, code, w->err, w->errlen, fmt, args);
    va_end (args);
    return code;
}

static const char *s_type_name (const msgpack_object *o)
{
    switch (o->type) {
    case MSGPACK_OBJECT_NIL: return "nil";
    case MSGPACK_OBJECT_BOOLEAN: return "bool";
    case MSGPACK_OBJECT_POSITIVE_INTEGER: return "int";
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: return "negative int";
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: return "float";
    case MSGPACK_OBJECT_STR: return "string";
    case MSGPACK_OBJECT_BIN: return "bytes";
    case MSGPACK_OBJECT_ARRAY: return "list";
    case MSGPACK_OBJECT_MAP: return "map";
    default: return "ext";
    }
}

static const char *s_kind_name (char kind)
{
    switch (kind) {
    case 'u': return "uint";
    case 'i': return "int";
    case 's': return "string";
    case 'b': return "bytes";
    case 'S': return "list of strings";
    case 'B': return "list of bytes";
    default: return "list of uints";
    }
}

static int s_check_uint (const s_where_t *w, const msgpack_object *o, uint64_t *value)
{
    if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return s_fail (w, MP_EPROTO, "expected uint, got %s", s_type_name (o));
    *value = o->via.u64;
    return MP_OK;
}

static int s_check_int (const s_where_t *w, const msgpack_object *o, int64_t *value)
{
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        *value = o->via.i64;
    else if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 <= INT64_MAX)
        *value = (int64_t) o->via.u64;
    else if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        return s_fail (w, MP_EPROTO, "int %llu does not fit in 64 signed bits",
                       (unsigned long long) o->via.u64);
    else
        return s_fail (w, MP_EPROTO, "expected int, got %s", s_type_name (o));
    return MP_OK;
}

static int s_check_str (const s_where_t *w, const msgpack_object *o, size_t max_str)
{
    if (o->type != MSGPACK_OBJECT_STR)
        return s_fail (w, MP_EPROTO, "expected string, got %s", s_type_name (o));
    if (o->via.str.size > max_str)
        return s_fail (w, MP_ETOOBIG, "string of %u bytes, limit %zu",
                       (unsigned) o->via.str.size, max_str);
    if (o->via.str.size && memchr (o->via.str.ptr, 0, o->via.str.size))
        return s_fail (w, MP_EPROTO, "string contains a NUL byte");
    return MP_OK;
}

static int s_check_bin (const s_where_t *w, const msgpack_object *o)
{
    if (o->type != MSGPACK_OBJECT_BIN)
        return s_fail (w, MP_EPROTO, "expected bytes, got %s", s_type_name (o));
    return MP_OK;
}

static int s_oom (const s_where_t *w)
{
    return s_fail (w, MP_ENOMEM, "out of memory");
}

//  Runs the scan, then msgpack-c; u must be destroyed by the caller either way.
static int s_unpack (const s_where_t *w, const void *buf, size_t len, msgpack_unpacked *u)
{
    int rc = mp_scan (buf, len, w->spec, w->err, w->errlen);
    if (rc != MP_OK)
        return rc;
    size_t off = 0;
    msgpack_unpack_return ret = msgpack_unpack_next (u, buf, len, &off);
    if (ret == MSGPACK_UNPACK_NOMEM_ERROR)
        return s_oom (w);
    //  The scan has vouched for the bytes; a disagreement is still not trusted.
    if (ret != MSGPACK_UNPACK_SUCCESS || off != len || u->data.type != MSGPACK_OBJECT_ARRAY
        || u->data.via.array.size != w->spec->count)
        return s_fail (w, MP_EPROTO, "msgpack-c disagrees with the scan (%d)", (int) ret);
    return MP_OK;
}

static int s_decode_list (s_where_t *w, mp_msg_t *msg, const msgpack_object *o, char kind,
                          const mp_limits_t *limits)
{
    if (o->type != MSGPACK_OBJECT_ARRAY)
        return s_fail (w, MP_EPROTO, "expected %s, got %s", s_kind_name (kind),
                       s_type_name (o));
    if (o->via.array.size > limits->max_list)
        return s_fail (w, MP_ETOOBIG, "list of %u elements, limit %zu",
                       (unsigned) o->via.array.size, limits->max_list);
    if (mp_msg_add_list (msg) != 0)
        return s_oom (w);
    for (uint32_t i = 0; i < o->via.array.size; i++) {
        const msgpack_object *item = &o->via.array.ptr[i];
        uint64_t u = 0;
        int rc;
        w->item = (long) i;
        if (kind == 'S') {
            if ((rc = s_check_str (w, item, limits->max_str)) != MP_OK)
                return rc;
            rc = mp_msg_push_strn (msg, item->via.str.ptr, item->via.str.size);
        }
        else if (kind == 'B') {
            if ((rc = s_check_bin (w, item)) != MP_OK)
                return rc;
            rc = mp_msg_push_bin (msg, item->via.bin.ptr, item->via.bin.size);
        }
        else {
            if ((rc = s_check_uint (w, item, &u)) != MP_OK)
                return rc;
            rc = mp_msg_push_u64 (msg, u);
        }
        if (rc != 0)
            return s_oom (w);
    }
    w->item = -1;
    return MP_OK;
}

static int s_decode_field (s_where_t *w, mp_msg_t *msg, const msgpack_object *o, char kind,
                           const mp_limits_t *limits)
{
    uint64_t u = 0;
    int64_t i = 0;
    int rc;
    switch (kind) {
    case 'u':
        if ((rc = s_check_uint (w, o, &u)) != MP_OK)
            return rc;
        return mp_msg_add_u64 (msg, u) == 0 ? MP_OK : s_oom (w);
    case 'i':
        if ((rc = s_check_int (w, o, &i)) != MP_OK)
            return rc;
        return mp_msg_add_i64 (msg, i) == 0 ? MP_OK : s_oom (w);
    case 's':
        if ((rc = s_check_str (w, o, limits->max_str)) != MP_OK)
            return rc;
        return mp_msg_add_strn (msg, o->via.str.ptr, o->via.str.size) == 0 ? MP_OK
                                                                            : s_oom (w);
    case 'b':
        if ((rc = s_check_bin (w, o)) != MP_OK)
            return rc;
        return mp_msg_add_bin (msg, o->via.bin.ptr, o->via.bin.size) == 0 ? MP_OK
                                                                           : s_oom (w);
    default: return s_decode_list (w, msg, o, kind, limits);
    }
}

//  Reads the header into a new, empty message of the announced type.
static int s_decode_header (const void *buf, size_t len, const mp_limits_t *limits,
                            mp_msg_t **msg_p, char *err, size_t errlen)
{
    mp_scan_spec_t spec = { "header", NULL, 8, 1, 0 };
    s_where_t w = { &spec, -1, -1, err, errlen };
    msgpack_unpacked u;
    msgpack_unpacked_init (&u);
    int rc = s_unpack (&w, buf, len, &u);
    if (rc != MP_OK)
        goto done;
    const msgpack_object *f = u.data.via.array.ptr;
    uint64_t version = 0, type = 0, reqid = 0, ts = 0, session = 0, seq = 0;
    w.field = 0;
    if ((rc = s_check_uint (&w, &f[0], &version)) != MP_OK)
        goto done;
    if (version != MP_PROTO_VERSION) {
        rc = s_fail (&w, MP_EPROTO, "protocol version %llu, expected %d",
                     (unsigned long long) version, MP_PROTO_VERSION);
        goto done;
    }
    w.field = 1;
    if ((rc = s_check_uint (&w, &f[1], &type)) != MP_OK)
        goto done;
    if (type > INT_MAX || !mp_msg_schema ((int) type)) {
        rc = s_fail (&w, MP_EPROTO, "unknown message type %llu", (unsigned long long) type);
        goto done;
    }
    w.field = 2;
    if ((rc = s_check_uint (&w, &f[2], &reqid)) != MP_OK)
        goto done;
    for (w.field = 3; w.field <= 4; w.field++)
        if ((rc = s_check_str (&w, &f[w.field], limits->max_str)) != MP_OK)
            goto done;
    w.field = 5;
    if ((rc = s_check_uint (&w, &f[5], &ts)) != MP_OK)
        goto done;
    if (limits->max_skew_ms) {
        uint64_t now = mp_clock_wall_ms ();
        uint64_t skew = now > ts ? now - ts : ts - now;
        if (skew > limits->max_skew_ms) {
            rc = s_fail (&w, MP_ESTALE, "timestamp %llu is %llu ms from now, limit %llu",
                         (unsigned long long) ts, (unsigned long long) skew,
                         (unsigned long long) limits->max_skew_ms);
            goto done;
        }
    }
    w.field = 6;
    if ((rc = s_check_uint (&w, &f[6], &session)) != MP_OK)
        goto done;
    w.field = 7;
    if ((rc = s_check_uint (&w, &f[7], &seq)) != MP_OK)
        goto done;
    w.field = -1;
    mp_msg_t *msg = mp_msg_new ((int) type);
    if (!msg || mp_msg_set_fromn (msg, f[3].via.str.ptr, f[3].via.str.size) != 0
        || mp_msg_set_ton (msg, f[4].via.str.ptr, f[4].via.str.size) != 0) {
        mp_msg_destroy (&msg);
        rc = s_oom (&w);
        goto done;
    }
    mp_msg_set_reqid (msg, reqid);
    mp_msg_set_ts (msg, ts);
    mp_msg_set_sequence (msg, session, seq);
    *msg_p = msg;
done:
    msgpack_unpacked_destroy (&u);
    return rc;
}

static int s_decode_body (mp_msg_t *msg, const void *buf, size_t len,
                          const mp_limits_t *limits, char *err, size_t errlen)
{
    const char *schema = mp_msg_schema (mp_msg_type (msg));
    mp_scan_spec_t spec = { "body", mp_msg_name (mp_msg_type (msg)), strlen (schema), 2,
                            limits->max_list };
    s_where_t w = { &spec, -1, -1, err, errlen };
    msgpack_unpacked u;
    msgpack_unpacked_init (&u);
    int rc = s_unpack (&w, buf, len, &u);
    for (size_t i = 0; rc == MP_OK && i < spec.count; i++) {
        w.field = (long) i;
        rc = s_decode_field (&w, msg, &u.data.via.array.ptr[i], schema[i], limits);
    }
    msgpack_unpacked_destroy (&u);
    return rc;
}

int mp_codec_decode (const void *header, size_t header_len, const void *body,
                     size_t body_len, const void *mac, size_t mac_len, const mp_key_t *key,
                     const mp_limits_t *limits, mp_msg_t **msg_p, char *err, size_t errlen)
{
    if (!limits)
        limits = &mp_limits_default;
    if (!key || !msg_p) {
        mp_set_error (err, errlen, "decode needs a key and a place for the message");
        return MP_EINVAL;
    }
    if ((!header && header_len) || (!body && body_len)) {
        mp_set_error (err, errlen, "frame without data");
        return MP_EPROTO;
    }
    if (header_len > limits->max_header || body_len > limits->max_body) {
        mp_set_error (err, errlen, "%s of %zu bytes, limit %zu",
                      header_len > limits->max_header ? "header" : "body",
                      header_len > limits->max_header ? header_len : body_len,
                      header_len > limits->max_header ? limits->max_header
                                                      : limits->max_body);
        return MP_ETOOBIG;
    }
    if (!mac || mac_len != MP_MAC_LEN) {
        mp_set_error (err, errlen, "mac of %zu bytes, expected %d", mac ? mac_len : 0,
                      MP_MAC_LEN);
        return MP_EAUTH;
    }
    if (!mp_hmac_verify (key, header, header_len, body, body_len, mac, mac_len)) {
        mp_set_error (err, errlen, "mac does not match: wrong key or altered frames");
        return MP_EAUTH;
    }
    mp_msg_t *msg = NULL;
    int rc = s_decode_header (header, header_len, limits, &msg, err, errlen);
    if (rc == MP_OK)
        rc = s_decode_body (msg, body, body_len, limits, err, errlen);
    if (rc != MP_OK) {
        mp_msg_destroy (&msg);
        return rc;
    }
    *msg_p = msg;
    return MP_OK;
}
