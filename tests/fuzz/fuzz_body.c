//  libFuzzer target for every message body's decoder (s_decode_body in
//  proto/decode.c and the schema checks under it, reached through mp_codec_decode).
//
//  Input: one byte that picks the message type (modulo the number of types in the
//  catalogue, in number order: byte 0 is OK, byte 1 ERROR, ...), then the body frame.
//  The header is a fixed valid one for that type and the MAC is computed over both with
//  a fixed key, so every input reaches the body's parser.
//
//  A body that decodes must round-trip: re-encode (mp_codec_encode), decode again, and
//  compare field by field through the message API; its typed view must fill, and the
//  readers by name, the scope and the authorisation checks must hold up. Any mismatch
//  aborts. Each input is decoded under the tight limits too.
#include "fuzzing.h"

static int s_types[256];
static size_t s_ntypes;

//  What the daemons do with a decoded message next: read it through its typed view,
//  by field name, and authorise it for a few principals.
static void s_use (mp_msg_t *msg)
{
    int type = mp_msg_type (msg);
    union {
#define MP_X_MEMBER(NAME, name, num, senders, scope, doc) mp_##name##_msg_t name;
        MP_MSG_CATALOGUE (MP_X_MEMBER)
#undef MP_X_MEMBER
    } view;
    FZ_CHECK (mp_msg_view (msg, type, &view) == MP_OK, "view of a decoded %s",
              mp_msg_name (type));
    const mp_msg_spec_t *spec = mp_msg_spec (type);
    FZ_CHECK (spec && spec->nfields == strlen (spec->schema), "spec of %d", type);
    for (size_t f = 0; f < spec->nfields; f++) {
        const char *field = spec->fields[f];
        const char *at = (const char *) &view + spec->offsets[f];
        size_t len = 0;
        const void *bytes;
        switch (spec->schema[f]) {
        case 'u':
            FZ_CHECK (*(const uint64_t *) at == mp_msg_u64 (msg, f), "view %s", field);
            break;
        case 'i':
            FZ_CHECK (*(const int64_t *) at == mp_msg_i64 (msg, f), "view %s", field);
            break;
        case 's':
            FZ_CHECK (fz_str_eq (*(const char *const *) at, mp_msg_str (msg, f)), "view %s",
                      field);
            FZ_CHECK (fz_str_eq (mp_msg_str_named (msg, field), mp_msg_str (msg, f)),
                      "str_named %s", field);
            break;
        case 'b':
            bytes = mp_msg_bytes_named (msg, field, &len);
            FZ_CHECK (fz_mem_eq (((const mp_bytes_t *) at)->data, ((const mp_bytes_t *) at)->len,
                                 bytes, len),
                      "view/bytes_named %s", field);
            break;
        default:
            //  Every list view is a pointer and a count.
            FZ_CHECK (((const mp_strs_t *) at)->count == mp_msg_count (msg, f), "view %s",
                      field);
        }
    }
    uint64_t run = mp_msg_run (msg), unit = mp_msg_unit (msg);
    for (unsigned role = MP_ROLE_FRONT; role <= MP_ROLE_COORD; role <<= 1) {
        mp_principal_t who = { role, 1, run, role == MP_ROLE_UNIT, unit };
        char err[256];
        int rc = mp_msg_authorise (msg, &who, err, sizeof err);
        FZ_CHECK (rc == MP_OK || rc == MP_EAUTH, "authorise: %d", rc);
        FZ_CHECK ((rc == MP_OK) == ((mp_msg_senders (type) & role) != 0),
                  "%s from role %u bound to its own run: %d", mp_msg_name (type), role, rc);
        who.run = run + 1;
        rc = mp_msg_authorise (msg, &who, err, sizeof err);
        if (mp_msg_scope (type) != MP_SCOPE_NONE)
            FZ_CHECK (rc == MP_EAUTH, "%s for another run passed", mp_msg_name (type));
    }
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    static uint8_t *headers[256];
    static size_t header_lens[256];
    if (!s_ntypes) {
        s_ntypes = fz_types (s_types, 256);
        for (size_t i = 0; i < s_ntypes; i++)
            headers[i] = fz_header (s_types[i], 5, "fe1", "z1", 1, &header_lens[i]);
    }
    if (size < 1)
        return 0;
    int type = s_types[data[0] % s_ntypes];
    const uint8_t *header = headers[data[0] % s_ntypes];
    size_t header_len = header_lens[data[0] % s_ntypes];

    mp_limits_t limits = fz_limits ();
    mp_msg_t *msg = fz_decode_signed (header, header_len, data + 1, size - 1, &limits, NULL);
    if (msg) {
        FZ_CHECK (mp_msg_type (msg) == type, "decoded %d from a %d header", mp_msg_type (msg),
                  type);
        fz_check_roundtrip (msg, &limits);
        s_use (msg);
        mp_msg_t *copy = mp_msg_dup (msg);
        FZ_CHECK (copy != NULL, "dup");
        fz_check_equal (msg, copy);
        mp_msg_destroy (&copy);
    }
    mp_msg_destroy (&msg);

    mp_limits_t tight = fz_tight_limits ();
    msg = fz_decode_signed (header, header_len, data + 1, size - 1, &tight, NULL);
    mp_msg_destroy (&msg);
    return 0;
}
