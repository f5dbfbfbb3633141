//  Walks msgpack bytes with a cursor and a ceiling; see scan.h.
#include "scan.h"
#include "../common/error.h"

#include <stdarg.h>
#include <stdio.h>

typedef struct {
    const uint8_t *pos;
    const uint8_t *end;
    const mp_scan_spec_t *spec;
    long field; //  top-level element being read, -1 outside them
    char *err;
    size_t errlen;
} s_cursor_t;

int mp_scan_vfail (const mp_scan_spec_t *spec, long field, long item, int code, char *err,
                   size_t errlen, const char *fmt, va_list args)
{
    char index[32] = "", at[32] = "", what[160];
    if (field >= 0)
        snprintf (index, sizeof index, " field %ld", field);
    if (item >= 0)
        snprintf (at, sizeof at, ", item %ld", item);
    mp_vset_error (what, sizeof what, fmt, args);
    mp_set_error (err, errlen, "%s%s%s%s%s: %s", spec->frame, index, spec->name ? " of " : "",
                  spec->name ? spec->name : "", at, what);
    return code;
}

static int s_fail (s_cursor_t *c, int code, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

static int s_fail (s_cursor_t *c, int code, const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    code = mp_scan_vfail (c->spec, c->field, -1, code, c->err, c->errlen, fmt, args);
    va_end (args);
    return code;
}

static size_t s_left (const s_cursor_t *c)
{
    return (size_t) (c->end - c->pos);
}

//  Reads a big-endian unsigned integer of width bytes.
static int s_read_be (s_cursor_t *c, size_t width, uint64_t *value)
{
    if (s_left (c) < width)
        return s_fail (c, MP_EPROTO, "truncated");
    uint64_t v = 0;
    for (size_t i = 0; i < width; i++)
        v = (v << 8) | c->pos[i];
    c->pos += width;
    *value = v;
    return MP_OK;
}

static int s_skip (s_cursor_t *c, uint64_t n, const char *what)
{
    if (n > s_left (c))
        return s_fail (c, MP_EPROTO, "%s of %llu bytes overruns the frame (%zu left)", what,
                       (unsigned long long) n, s_left (c));
    c->pos += n;
    return MP_OK;
}

static int s_value (s_cursor_t *c, int depth);

static const char *s_tag_name (uint8_t tag)
{
    if (tag <= 0x7f || (tag >= 0xcc && tag <= 0xcf))
        return "uint";
    if (tag >= 0xe0 || (tag >= 0xd0 && tag <= 0xd3))
        return "int";
    if ((tag & 0xe0) == 0xa0 || (tag >= 0xd9 && tag <= 0xdb))
        return "str";
    if ((tag & 0xf0) == 0x80 || tag == 0xde || tag == 0xdf)
        return "map";
    if (tag >= 0xc4 && tag <= 0xc6)
        return "bin";
    if (tag == 0xca || tag == 0xcb)
        return "float";
    if (tag == 0xc0)
        return "nil";
    if (tag == 0xc2 || tag == 0xc3)
        return "bool";
    return tag == 0xc1 ? "invalid byte" : "ext";
}

//  depth: arrays enclosing this one, not counting itself.
static int s_array (s_cursor_t *c, uint64_t n, int depth)
{
    if (depth + 1 > c->spec->max_depth)
        return s_fail (c, MP_EPROTO, "lists nested deeper than %d", c->spec->max_depth);
    //  Every element takes at least one byte.
    if (n > s_left (c))
        return s_fail (c, MP_EPROTO, "array of %llu elements overruns the frame (%zu left)",
                       (unsigned long long) n, s_left (c));
    if (depth == 0 && n != c->spec->count)
        return s_fail (c, MP_EPROTO, "expected %zu fields, got %llu", c->spec->count,
                       (unsigned long long) n);
    if (depth > 0 && n > c->spec->max_list)
        return s_fail (c, MP_ETOOBIG, "list of %llu elements, limit %zu",
                       (unsigned long long) n, c->spec->max_list);
    for (uint64_t i = 0; i < n; i++) {
        if (depth == 0)
            c->field = (long) i;
        int rc = s_value (c, depth + 1);
        if (rc != MP_OK)
            return rc;
    }
    if (depth == 0)
        c->field = -1;
    return MP_OK;
}

static int s_value (s_cursor_t *c, int depth)
{
    if (s_left (c) == 0)
        return s_fail (c, MP_EPROTO, "truncated");
    uint8_t tag = *c->pos++;
    uint64_t n = 0;
    int rc = MP_OK;
    if (tag <= 0x7f || tag >= 0xe0) //  fixints
        return MP_OK;
    if ((tag & 0xe0) == 0xa0)
        return s_skip (c, tag & 0x1f, "str");
    if ((tag & 0xf0) == 0x90)
        return s_array (c, tag & 0x0f, depth);
    if ((tag & 0xf0) == 0x80)
        return s_fail (c, MP_EPROTO, "unexpected map");
    switch (tag) {
    case 0xc0: //  nil, false, true: harmless, the schema check names them
    case 0xc2:
    case 0xc3: return MP_OK;
    case 0xc4:
    case 0xc5:
    case 0xc6:
        rc = s_read_be (c, (size_t) 1 << (tag - 0xc4), &n);
        return rc ? rc : s_skip (c, n, "bin");
    case 0xca: return s_skip (c, 4, "float");
    case 0xcb: return s_skip (c, 8, "float");
    case 0xcc:
    case 0xcd:
    case 0xce:
    case 0xcf: return s_skip (c, (uint64_t) 1 << (tag - 0xcc), "uint");
    case 0xd0:
    case 0xd1:
    case 0xd2:
    case 0xd3: return s_skip (c, (uint64_t) 1 << (tag - 0xd0), "int");
    case 0xd9:
    case 0xda:
    case 0xdb:
        rc = s_read_be (c, (size_t) 1 << (tag - 0xd9), &n);
        return rc ? rc : s_skip (c, n, "str");
    case 0xdc:
    case 0xdd:
        rc = s_read_be (c, (size_t) 2 << (tag - 0xdc), &n);
        return rc ? rc : s_array (c, n, depth);
    case 0xde:
    case 0xdf: return s_fail (c, MP_EPROTO, "unexpected map");
    case 0xc1: return s_fail (c, MP_EPROTO, "invalid byte 0xc1");
    default: return s_fail (c, MP_EPROTO, "unexpected ext type 0x%02x", tag);
    }
}

int mp_scan (const uint8_t *buf, size_t len, const mp_scan_spec_t *spec, char *err,
             size_t errlen)
{
    static const uint8_t none[1];
    s_cursor_t c = { buf ? buf : none, buf ? buf + len : none, spec, -1, err, errlen };
    if (!buf || len == 0)
        return s_fail (&c, MP_EPROTO, "empty");
    uint8_t tag = buf[0];
    if ((tag & 0xf0) != 0x90 && tag != 0xdc && tag != 0xdd)
        return s_fail (&c, MP_EPROTO, "expected an array, got %s", s_tag_name (tag));
    int rc = s_value (&c, 0);
    if (rc != MP_OK)
        return rc;
    if (c.pos != c.end)
        return s_fail (&c, MP_EPROTO, "%zu trailing bytes", s_left (&c));
    return MP_OK;
}
