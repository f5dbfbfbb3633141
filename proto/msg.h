//  The in-memory message every peer builds and reads, derived from the catalogue
//  (catalogue.h): a type, a header (request id, sender, recipient, timestamp) and a
//  body of named, typed fields. The codec (codec.h) is the only place that turns
//  these into bytes.
//
//  Outside proto/, fields are read and written by name: a message is built in one
//  call from a struct with designated initializers,
//      mp_msg_t *msg = MP_PACK (unit_exit, .run = id, .unit = u, .pid = p, .status = s);
//  and read through a view of the same struct,
//      mp_unit_exit_msg_t exit;
//      if (mp_unit_exit_msg_view (msg, &exit) == MP_OK) ... exit.pid ...
//  Strings, bytes and lists in a view point into the message and live as long as it.
#ifndef MP_MSG_H
#define MP_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "catalogue.h"

#define MP_PROTO_VERSION 2

typedef enum {
#define MP_X_ENUM(NAME, name, num, senders, scope, doc) MP_MSG_##NAME = num,
    MP_MSG_CATALOGUE (MP_X_ENUM)
#undef MP_X_ENUM
    MP_MSG_TYPE_MAX
} mp_msg_type_t;

//  Field index constants, MP_F_<NAME>_<field>, and MP_NFIELDS_<NAME>.
#define MP_X_FIELD_INDEX(NAME, type, field, doc) MP_F_##NAME##_##field,
#define MP_X_FIELD_ENUM(NAME, name, num, senders, scope, doc)                            \
    enum { MP_FIELDS_##NAME (MP_X_FIELD_INDEX) MP_NFIELDS_##NAME };
MP_MSG_CATALOGUE (MP_X_FIELD_ENUM)
#undef MP_X_FIELD_ENUM
#undef MP_X_FIELD_INDEX

//  Views of the field types that are not plain numbers or strings.
typedef struct {
    const void *data;
    size_t len;
} mp_bytes_t;
typedef struct {
    const char *const *items;
    size_t count;
} mp_strs_t;
typedef struct {
    const mp_bytes_t *items;
    size_t count;
} mp_bytes_list_t;
typedef struct {
    const uint64_t *items;
    size_t count;
} mp_u64s_t;

#define MP_CTYPE_u uint64_t
#define MP_CTYPE_i int64_t
#define MP_CTYPE_s const char *
#define MP_CTYPE_b mp_bytes_t
#define MP_CTYPE_S mp_strs_t
#define MP_CTYPE_B mp_bytes_list_t
#define MP_CTYPE_U mp_u64s_t

//  One struct per message, mp_<name>_msg_t, its fields named as in the catalogue.
//  (The trailing member keeps the structs of field-less messages legal C.)
#define MP_X_MEMBER(NAME, type, field, doc) MP_CTYPE_##type field;
#define MP_X_STRUCT(NAME, name, num, senders, scope, doc)                                \
    typedef struct mp_##NAME##_fields {                                                  \
        MP_FIELDS_##NAME (MP_X_MEMBER) char end_;                                        \
    } mp_##name##_msg_t;
MP_MSG_CATALOGUE (MP_X_STRUCT)
#undef MP_X_STRUCT
#undef MP_X_MEMBER

//  A message type as the catalogue describes it.
typedef struct {
    const char *name;           //  "UNIT_EXIT"
    const char *schema;         //  one type character per field
    unsigned senders;           //  MP_ROLE_* bits
    int scope;                  //  mp_scope_t
    const char *doc;
    size_t nfields;
    const char *const *fields;  //  field names
    const char *const *docs;    //  field meanings
    const size_t *offsets;      //  of each field in the message's struct
} mp_msg_spec_t;

//  The catalogue entry of a type; NULL when the type is unknown.
const mp_msg_spec_t *mp_msg_spec (int type);
//  Schema and name of a message type; NULL when the type is unknown.
const char *mp_msg_schema (int type);
const char *mp_msg_name (int type);
//  The catalogue one value at a time, for the client library's callers (ctypes):
//  field names and meanings by index (NULL past the last), senders and scope.
const char *mp_msg_field_name (int type, size_t index);
const char *mp_msg_field_doc (int type, size_t index);
unsigned mp_msg_senders (int type);
int mp_msg_scope (int type);
const char *mp_msg_doc (int type);
//  1 when the type is a request to a run's sync service (board, lock, trail).
int mp_msg_is_sync_request (int type);
//  Name of a role bit ("front end", "agent", ...); NULL for anything else.
const char *mp_role_name (unsigned role);

typedef struct mp_msg_t mp_msg_t;

//  A new, empty message of a known type; NULL when the type is unknown or on no memory.
//  Fields are then added in schema order with the mp_msg_add_* functions.
mp_msg_t *mp_msg_new (int type);
void mp_msg_destroy (mp_msg_t **self_p);
//  Deep copy; NULL on no memory.
mp_msg_t *mp_msg_dup (const mp_msg_t *self);

int mp_msg_type (const mp_msg_t *self);
uint64_t mp_msg_reqid (const mp_msg_t *self);
void mp_msg_set_reqid (mp_msg_t *self, uint64_t reqid);
//  Sender and recipient names ("" when unset); the message keeps its own copies.
//  Setting one gives MP_OK, MP_EINVAL without a message, or MP_ENOMEM.
const char *mp_msg_from (const mp_msg_t *self);
int mp_msg_set_from (mp_msg_t *self, const char *from);
const char *mp_msg_to (const mp_msg_t *self);
int mp_msg_set_to (mp_msg_t *self, const char *to);
//  The sender's session and sequence number (sender.h); 0 and 0 when unsequenced.
uint64_t mp_msg_session (const mp_msg_t *self);
uint64_t mp_msg_seq (const mp_msg_t *self);
void mp_msg_set_sequence (mp_msg_t *self, uint64_t session, uint64_t seq);
//  Timestamp in wall-clock ms; the codec stamps it on encode when 0.
uint64_t mp_msg_ts (const mp_msg_t *self);
void mp_msg_set_ts (mp_msg_t *self, uint64_t ts);

//  Builders: append the next field. Each returns MP_OK, MP_EINVAL when the next schema
//  field is of another type or the body is already complete, or MP_ENOMEM.
int mp_msg_add_u64 (mp_msg_t *self, uint64_t value);
int mp_msg_add_i64 (mp_msg_t *self, int64_t value);
int mp_msg_add_str (mp_msg_t *self, const char *value);
int mp_msg_add_bin (mp_msg_t *self, const void *data, size_t len);
//  Lists: start an empty list field, then push its elements.
int mp_msg_add_list (mp_msg_t *self);
int mp_msg_push_str (mp_msg_t *self, const char *value);
int mp_msg_push_bin (mp_msg_t *self, const void *data, size_t len);
int mp_msg_push_u64 (mp_msg_t *self, uint64_t value);

//  Number of fields added so far.
size_t mp_msg_nfields (const mp_msg_t *self);
//  1 when every field of the schema is there.
int mp_msg_complete (const mp_msg_t *self);

//  Readers by field index. A wrong index or type gives 0 / NULL (a programmer
//  error: decoded messages always match their schema). Strings are NUL-terminated
//  and owned by the message.
uint64_t mp_msg_u64 (const mp_msg_t *self, size_t field);
int64_t mp_msg_i64 (const mp_msg_t *self, size_t field);
const char *mp_msg_str (const mp_msg_t *self, size_t field);
const void *mp_msg_bin (const mp_msg_t *self, size_t field, size_t *len);
size_t mp_msg_count (const mp_msg_t *self, size_t field); //  elements of a list field
const char *mp_msg_str_at (const mp_msg_t *self, size_t field, size_t index);
const void *mp_msg_bin_at (const mp_msg_t *self, size_t field, size_t index, size_t *len);
uint64_t mp_msg_u64_at (const mp_msg_t *self, size_t field, size_t index);

//  A new message of type with every field taken from the type's struct (fields points
//  to one). Copies everything. NULL when the type is unknown or memory runs out.
mp_msg_t *mp_msg_pack (int type, const void *fields);
//  Fills the type's struct (fields points to one) from a complete message of that
//  type. MP_OK, or MP_EINVAL when the message is of another type or incomplete, or
//  MP_ENOMEM. What it points to belongs to the message.
int mp_msg_view (mp_msg_t *self, int type, void *fields);

//  Readers by field name, for code that serves several types sharing a field (the
//  sync service's key, value, name and state): NULL when the message has no such
//  field of that type. Bytes come with their length in *len.
const void *mp_msg_bytes_named (const mp_msg_t *self, const char *field, size_t *len);
const char *mp_msg_str_named (const mp_msg_t *self, const char *field);

//  The rights a sender has, as its daemon established them: its role, and the run
//  (and unit) it belongs to when it is bound to one.
typedef struct {
    unsigned role;    //  one MP_ROLE_* bit
    int run_bound;    //  1: may touch only run
    uint64_t run;
    int unit_bound;   //  1: may touch only unit (of run)
    uint64_t unit;
} mp_principal_t;

//  Applies the catalogue to a message from a sender: its role must be among the
//  type's senders, and a scoped message must name the run (and unit) the sender is
//  bound to. MP_OK, or MP_EAUTH with the reason in err.
int mp_msg_authorise (const mp_msg_t *self, const mp_principal_t *who, char *err,
                      size_t errlen);
//  The run (and unit) a scoped message names; 0 for what its scope lacks.
uint64_t mp_msg_run (const mp_msg_t *self);
uint64_t mp_msg_unit (const mp_msg_t *self);

//  Typed forms of both, one pair per message: mp_<name>_msg_pack/_view.
#define MP_X_TYPED(NAME, name, num, senders, scope, doc)                                 \
    static inline mp_msg_t *mp_##name##_msg_pack (const mp_##name##_msg_t *fields)      \
    {                                                                                    \
        return mp_msg_pack (MP_MSG_##NAME, fields);                                      \
    }                                                                                    \
    static inline int mp_##name##_msg_view (mp_msg_t *msg, mp_##name##_msg_t *fields)   \
    {                                                                                    \
        return mp_msg_view (msg, MP_MSG_##NAME, fields);                                 \
    }
MP_MSG_CATALOGUE (MP_X_TYPED)
#undef MP_X_TYPED

//  A message in one call, fields by name: MP_PACK (run_end, .run = 7).
#define MP_PACK(name, ...) mp_##name##_msg_pack (&(const mp_##name##_msg_t) { __VA_ARGS__ })

#endif
