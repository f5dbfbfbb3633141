//  The in-memory message: a type, header fields and schema-typed body fields.
#include "msg.h"
#include "msg_priv.h"

#include "../common/error.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  A counted buffer, always followed by a NUL so strings can be handed out as-is.
typedef struct {
    uint8_t *data;
    size_t len;
} s_buf_t;

typedef struct {
    char kind; //  the schema character
    union {
        uint64_t u;
        int64_t i;
        s_buf_t buf; //  's', 'b'
        struct {
            void *items; //  s_buf_t for 'S'/'B', uint64_t for 'U'
            size_t count;
            size_t cap;
            void *view; //  built by mp_msg_view: const char * or mp_bytes_t per item
        } list;
    };
} s_field_t;

struct mp_msg_t {
    int type;
    const char *schema;
    size_t nschema;
    uint64_t reqid;
    char *from;
    char *to;
    uint64_t ts;
    uint64_t session, seq; //  the sender's (sender.h), 0 when unsequenced
    size_t nfields;
    s_field_t *fields;
};

//  The catalogue, expanded into one spec per type: schema, names, docs and offsets.
#define MP_X_CHAR(NAME, type, field, doc) #type
#define MP_X_NAME(NAME, type, field, doc) #field,
#define MP_X_DOC(NAME, type, field, doc) doc,
#define MP_X_OFFSET(NAME, type, field, doc) offsetof (struct mp_##NAME##_fields, field),
#define MP_X_TABLES(NAME, name, num, senders, scope, doc)                                \
    static const char *const s_names_##NAME[] = { MP_FIELDS_##NAME (MP_X_NAME) NULL };   \
    static const char *const s_docs_##NAME[] = { MP_FIELDS_##NAME (MP_X_DOC) NULL };     \
    static const size_t s_offsets_##NAME[] = { MP_FIELDS_##NAME (MP_X_OFFSET) 0 };
MP_MSG_CATALOGUE (MP_X_TABLES)
#define MP_X_SPEC(NAME, name, num, senders, scope, doc)                                  \
    [num] = { #NAME,         "" MP_FIELDS_##NAME (MP_X_CHAR), senders, scope, doc,       \
              MP_NFIELDS_##NAME, s_names_##NAME, s_docs_##NAME, s_offsets_##NAME },
static const mp_msg_spec_t s_specs[MP_MSG_TYPE_MAX] = { MP_MSG_CATALOGUE (MP_X_SPEC) };

#undef MP_X_TABLES
#undef MP_X_SPEC
#undef MP_X_CHAR
#undef MP_X_NAME
#undef MP_X_DOC
#undef MP_X_OFFSET

const mp_msg_spec_t *mp_msg_spec (int type)
{
    return type > 0 && type < MP_MSG_TYPE_MAX && s_specs[type].name ? &s_specs[type] : NULL;
}

const char *mp_msg_schema (int type)
{
    const mp_msg_spec_t *spec = mp_msg_spec (type);
    return spec ? spec->schema : NULL;
}

const char *mp_msg_name (int type)
{
    const mp_msg_spec_t *spec = mp_msg_spec (type);
    return spec ? spec->name : NULL;
}

const char *mp_msg_field_name (int type, size_t index)
{
    const mp_msg_spec_t *spec = mp_msg_spec (type);
    return spec && index < spec->nfields ? spec->fields[index] : NULL;
}

const char *mp_msg_field_doc (int type, size_t index)
{
    const mp_msg_spec_t *spec = mp_msg_spec (type);
    return spec && index < spec->nfields ? spec->docs[index] : NULL;
}

unsigned mp_msg_senders (int type)
{
    const mp_msg_spec_t *spec = mp_msg_spec (type);
    return spec ? spec->senders : 0;
}

int mp_msg_scope (int type)
{
    const mp_msg_spec_t *spec = mp_msg_spec (type);
    return spec ? spec->scope : MP_SCOPE_NONE;
}

const char *mp_msg_doc (int type)
{
    const mp_msg_spec_t *spec = mp_msg_spec (type);
    return spec ? spec->doc : NULL;
}

const char *mp_role_name (unsigned role)
{
    switch (role) {
    case MP_ROLE_FRONT: return "front end";
    case MP_ROLE_AGENT: return "agent";
    case MP_ROLE_ZYGOTE: return "zygote";
    case MP_ROLE_UNIT: return "unit process";
    case MP_ROLE_COORD: return "coordinator";
    default: return NULL;
    }
}

int mp_msg_is_sync_request (int type)
{
    switch (type) {
    case MP_MSG_BOARD_GET:
    case MP_MSG_BOARD_SET:
    case MP_MSG_BOARD_DEL:
    case MP_MSG_BOARD_POP:
    case MP_MSG_BOARD_SETDEFAULT:
    case MP_MSG_BOARD_ITEMS:
    case MP_MSG_LOCK_ACQUIRE:
    case MP_MSG_LOCK_RELEASE:
    case MP_MSG_TRAIL:
        return 1;
    default:
        return 0;
    }
}

static int s_buf_set (s_buf_t *buf, const void *data, size_t len)
{
    if (!data && len)
        return MP_EINVAL;
    if (len == SIZE_MAX)
        return MP_ENOMEM;
    uint8_t *copy = malloc (len + 1);
    if (!copy)
        return MP_ENOMEM;
    if (len)
        memcpy (copy, data, len);
    copy[len] = 0;
    buf->data = copy;
    buf->len = len;
    return MP_OK;
}

static void s_field_clear (s_field_t *field)
{
    if (field->kind == 's' || field->kind == 'b')
        free (field->buf.data);
    else if (field->kind == 'S' || field->kind == 'B') {
        s_buf_t *items = field->list.items;
        for (size_t i = 0; i < field->list.count; i++)
            free (items[i].data);
        free (items);
        free (field->list.view);
    }
    else if (field->kind == 'U')
        free (field->list.items);
}

mp_msg_t *mp_msg_new (int type)
{
    const char *schema = mp_msg_schema (type);
    if (!schema)
        return NULL;
    mp_msg_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->type = type;
    self->schema = schema;
    self->nschema = strlen (schema);
    //  One spare slot keeps calloc's size non-zero for empty schemas.
    self->fields = calloc (self->nschema + 1, sizeof *self->fields);
    if (!self->fields) {
        free (self);
        return NULL;
    }
    return self;
}

void mp_msg_destroy (mp_msg_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    mp_msg_t *self = *self_p;
    for (size_t i = 0; i < self->nfields; i++)
        s_field_clear (&self->fields[i]);
    free (self->fields);
    free (self->from);
    free (self->to);
    free (self);
    *self_p = NULL;
}

int mp_msg_type (const mp_msg_t *self)
{
    return self ? self->type : 0;
}

uint64_t mp_msg_reqid (const mp_msg_t *self)
{
    return self ? self->reqid : 0;
}

void mp_msg_set_reqid (mp_msg_t *self, uint64_t reqid)
{
    if (self)
        self->reqid = reqid;
}

static int s_set_name (char **slot, const char *name, size_t len)
{
    s_buf_t buf;
    int rc = s_buf_set (&buf, name ? name : "", name ? len : 0);
    if (rc != MP_OK)
        return rc;
    free (*slot);
    *slot = (char *) buf.data;
    return MP_OK;
}

const char *mp_msg_from (const mp_msg_t *self)
{
    return self && self->from ? self->from : "";
}

int mp_msg_set_from (mp_msg_t *self, const char *from)
{
    return self ? s_set_name (&self->from, from, from ? strlen (from) : 0) : MP_EINVAL;
}

int mp_msg_set_fromn (mp_msg_t *self, const char *from, size_t len)
{
    return self ? s_set_name (&self->from, from, len) : MP_EINVAL;
}

const char *mp_msg_to (const mp_msg_t *self)
{
    return self && self->to ? self->to : "";
}

int mp_msg_set_to (mp_msg_t *self, const char *to)
{
    return self ? s_set_name (&self->to, to, to ? strlen (to) : 0) : MP_EINVAL;
}

int mp_msg_set_ton (mp_msg_t *self, const char *to, size_t len)
{
    return self ? s_set_name (&self->to, to, len) : MP_EINVAL;
}

uint64_t mp_msg_session (const mp_msg_t *self)
{
    return self ? self->session : 0;
}

uint64_t mp_msg_seq (const mp_msg_t *self)
{
    return self ? self->seq : 0;
}

void mp_msg_set_sequence (mp_msg_t *self, uint64_t session, uint64_t seq)
{
    if (self) {
        self->session = session;
        self->seq = seq;
    }
}

uint64_t mp_msg_ts (const mp_msg_t *self)
{
    return self ? self->ts : 0;
}

void mp_msg_set_ts (mp_msg_t *self, uint64_t ts)
{
    if (self)
        self->ts = ts;
}

//  The slot for the next field when the schema wants kind there; NULL otherwise.
static s_field_t *s_next (mp_msg_t *self, char kind)
{
    if (!self || self->nfields >= self->nschema || self->schema[self->nfields] != kind)
        return NULL;
    return &self->fields[self->nfields];
}

int mp_msg_add_u64 (mp_msg_t *self, uint64_t value)
{
    s_field_t *field = s_next (self, 'u');
    if (!field)
        return MP_EINVAL;
    field->kind = 'u';
    field->u = value;
    self->nfields++;
    return MP_OK;
}

int mp_msg_add_i64 (mp_msg_t *self, int64_t value)
{
    s_field_t *field = s_next (self, 'i');
    if (!field)
        return MP_EINVAL;
    field->kind = 'i';
    field->i = value;
    self->nfields++;
    return MP_OK;
}

static int s_add_buf (mp_msg_t *self, char kind, const void *data, size_t len)
{
    s_field_t *field = s_next (self, kind);
    if (!field)
        return MP_EINVAL;
    int rc = s_buf_set (&field->buf, data, len);
    if (rc != MP_OK)
        return rc;
    field->kind = kind;
    self->nfields++;
    return MP_OK;
}

int mp_msg_add_str (mp_msg_t *self, const char *value)
{
    return value ? s_add_buf (self, 's', value, strlen (value)) : MP_EINVAL;
}

int mp_msg_add_strn (mp_msg_t *self, const char *value, size_t len)
{
    return s_add_buf (self, 's', value, len);
}

int mp_msg_add_bin (mp_msg_t *self, const void *data, size_t len)
{
    return s_add_buf (self, 'b', data, len);
}

int mp_msg_add_list (mp_msg_t *self)
{
    if (!self || self->nfields >= self->nschema)
        return MP_EINVAL;
    char kind = self->schema[self->nfields];
    if (kind != 'S' && kind != 'B' && kind != 'U')
        return MP_EINVAL;
    s_field_t *field = &self->fields[self->nfields];
    field->kind = kind;
    field->list.items = NULL;
    field->list.view = NULL;
    field->list.count = field->list.cap = 0;
    self->nfields++;
    return MP_OK;
}

//  Room for one more element in the last field, a list of kind, into *field_p. MP_OK,
//  MP_EINVAL when the last field is not such a list, or MP_ENOMEM.
static int s_list_grow (mp_msg_t *self, char kind, size_t item_size, s_field_t **field_p)
{
    if (!self || self->nfields == 0)
        return MP_EINVAL;
    s_field_t *field = &self->fields[self->nfields - 1];
    if (field->kind != kind)
        return MP_EINVAL;
    if (field->list.count == field->list.cap) {
        size_t cap = field->list.cap ? field->list.cap * 2 : 8;
        if (cap < field->list.cap || cap > SIZE_MAX / item_size)
            return MP_ENOMEM;
        void *items = realloc (field->list.items, cap * item_size);
        if (!items)
            return MP_ENOMEM;
        field->list.items = items;
        field->list.cap = cap;
    }
    *field_p = field;
    return MP_OK;
}

static int s_push_buf (mp_msg_t *self, char kind, const void *data, size_t len)
{
    s_field_t *field;
    int rc = s_list_grow (self, kind, sizeof (s_buf_t), &field);
    if (rc != MP_OK)
        return rc;
    s_buf_t *items = field->list.items;
    rc = s_buf_set (&items[field->list.count], data, len);
    if (rc != MP_OK)
        return rc;
    field->list.count++;
    return MP_OK;
}

int mp_msg_push_str (mp_msg_t *self, const char *value)
{
    return value ? s_push_buf (self, 'S', value, strlen (value)) : MP_EINVAL;
}

int mp_msg_push_strn (mp_msg_t *self, const char *value, size_t len)
{
    return s_push_buf (self, 'S', value, len);
}

int mp_msg_push_bin (mp_msg_t *self, const void *data, size_t len)
{
    return s_push_buf (self, 'B', data, len);
}

int mp_msg_push_u64 (mp_msg_t *self, uint64_t value)
{
    s_field_t *field;
    int rc = s_list_grow (self, 'U', sizeof (uint64_t), &field);
    if (rc != MP_OK)
        return rc;
    uint64_t *items = field->list.items;
    items[field->list.count++] = value;
    return MP_OK;
}

size_t mp_msg_nfields (const mp_msg_t *self)
{
    return self ? self->nfields : 0;
}

int mp_msg_complete (const mp_msg_t *self)
{
    return self && self->nfields == self->nschema;
}

//  The field at index when it is of kind; NULL otherwise.
static const s_field_t *s_field (const mp_msg_t *self, size_t index, char kind)
{
    if (!self || index >= self->nfields || self->fields[index].kind != kind)
        return NULL;
    return &self->fields[index];
}

uint64_t mp_msg_u64 (const mp_msg_t *self, size_t field)
{
    const s_field_t *f = s_field (self, field, 'u');
    return f ? f->u : 0;
}

int64_t mp_msg_i64 (const mp_msg_t *self, size_t field)
{
    const s_field_t *f = s_field (self, field, 'i');
    return f ? f->i : 0;
}

const char *mp_msg_str (const mp_msg_t *self, size_t field)
{
    const s_field_t *f = s_field (self, field, 's');
    return f ? (const char *) f->buf.data : NULL;
}

const void *mp_msg_bin (const mp_msg_t *self, size_t field, size_t *len)
{
    const s_field_t *f = s_field (self, field, 'b');
    if (len)
        *len = f ? f->buf.len : 0;
    return f ? f->buf.data : NULL;
}

size_t mp_msg_count (const mp_msg_t *self, size_t field)
{
    if (!self || field >= self->nfields)
        return 0;
    char kind = self->fields[field].kind;
    if (kind != 'S' && kind != 'B' && kind != 'U')
        return 0;
    return self->fields[field].list.count;
}

static const s_buf_t *s_item (const mp_msg_t *self, size_t field, size_t index, char kind)
{
    const s_field_t *f = s_field (self, field, kind);
    if (!f || index >= f->list.count)
        return NULL;
    return &((const s_buf_t *) f->list.items)[index];
}

const char *mp_msg_str_at (const mp_msg_t *self, size_t field, size_t index)
{
    const s_buf_t *item = s_item (self, field, index, 'S');
    return item ? (const char *) item->data : NULL;
}

const void *mp_msg_bin_at (const mp_msg_t *self, size_t field, size_t index, size_t *len)
{
    const s_buf_t *item = s_item (self, field, index, 'B');
    if (len)
        *len = item ? item->len : 0;
    return item ? item->data : NULL;
}

uint64_t mp_msg_u64_at (const mp_msg_t *self, size_t field, size_t index)
{
    const s_field_t *f = s_field (self, field, 'U');
    if (!f || index >= f->list.count)
        return 0;
    return ((const uint64_t *) f->list.items)[index];
}

mp_msg_t *mp_msg_dup (const mp_msg_t *self)
{
    if (!self)
        return NULL;
    mp_msg_t *copy = mp_msg_new (self->type);
    if (!copy)
        return NULL;
    copy->reqid = self->reqid;
    copy->ts = self->ts;
    copy->session = self->session;
    copy->seq = self->seq;
    if ((self->from && mp_msg_set_from (copy, self->from) != 0)
        || (self->to && mp_msg_set_to (copy, self->to) != 0))
        goto fail;
    for (size_t i = 0; i < self->nfields; i++) {
        const s_field_t *f = &self->fields[i];
        int rc = 0;
        switch (f->kind) {
        case 'u': rc = mp_msg_add_u64 (copy, f->u); break;
        case 'i': rc = mp_msg_add_i64 (copy, f->i); break;
        case 's': rc = mp_msg_add_strn (copy, (const char *) f->buf.data, f->buf.len); break;
        case 'b': rc = mp_msg_add_bin (copy, f->buf.data, f->buf.len); break;
        default:
            rc = mp_msg_add_list (copy);
            for (size_t j = 0; rc == 0 && j < f->list.count; j++) {
                if (f->kind == 'U')
                    rc = mp_msg_push_u64 (copy, ((const uint64_t *) f->list.items)[j]);
                else {
                    const s_buf_t *item = &((const s_buf_t *) f->list.items)[j];
                    rc = f->kind == 'S'
                             ? mp_msg_push_strn (copy, (const char *) item->data, item->len)
                             : mp_msg_push_bin (copy, item->data, item->len);
                }
            }
        }
        if (rc != 0)
            goto fail;
    }
    return copy;
fail:
    mp_msg_destroy (&copy);
    return NULL;
}

mp_msg_t *mp_msg_pack (int type, const void *fields)
{
    const mp_msg_spec_t *spec = mp_msg_spec (type);
    mp_msg_t *self = spec && fields ? mp_msg_new (type) : NULL;
    if (!self)
        return NULL;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < spec->nfields; i++) {
        const void *at = (const char *) fields + spec->offsets[i];
        switch (spec->schema[i]) {
        case 'u': rc = mp_msg_add_u64 (self, *(const uint64_t *) at); break;
        case 'i': rc = mp_msg_add_i64 (self, *(const int64_t *) at); break;
        case 's': rc = mp_msg_add_str (self, *(const char *const *) at); break;
        case 'b': {
            const mp_bytes_t *bytes = (const mp_bytes_t *) at;
            rc = mp_msg_add_bin (self, bytes->data, bytes->len);
            break;
        }
        case 'S': {
            const mp_strs_t *list = (const mp_strs_t *) at;
            rc = mp_msg_add_list (self);
            for (size_t j = 0; rc == 0 && j < list->count; j++)
                rc = mp_msg_push_str (self, list->items[j]);
            break;
        }
        case 'B': {
            const mp_bytes_list_t *list = (const mp_bytes_list_t *) at;
            rc = mp_msg_add_list (self);
            for (size_t j = 0; rc == 0 && j < list->count; j++)
                rc = mp_msg_push_bin (self, list->items[j].data, list->items[j].len);
            break;
        }
        default: {
            const mp_u64s_t *list = (const mp_u64s_t *) at;
            rc = mp_msg_add_list (self);
            for (size_t j = 0; rc == 0 && j < list->count; j++)
                rc = mp_msg_push_u64 (self, list->items[j]);
            break;
        }
        }
    }
    if (rc != 0)
        mp_msg_destroy (&self);
    return self;
}

//  The pointer array a view of a list of strings or bytes hands out, rebuilt each time.
static int s_list_view (s_field_t *field)
{
    size_t size = field->kind == 'S' ? sizeof (const char *) : sizeof (mp_bytes_t);
    void *view = calloc (field->list.count ? field->list.count : 1, size);
    if (!view)
        return MP_ENOMEM;
    const s_buf_t *items = field->list.items;
    for (size_t j = 0; j < field->list.count; j++) {
        if (field->kind == 'S')
            ((const char **) view)[j] = (const char *) items[j].data;
        else
            ((mp_bytes_t *) view)[j] = (mp_bytes_t) { items[j].data, items[j].len };
    }
    free (field->list.view);
    field->list.view = view;
    return MP_OK;
}

int mp_msg_view (mp_msg_t *self, int type, void *fields)
{
    const mp_msg_spec_t *spec = mp_msg_spec (type);
    if (!spec || !fields || !self || self->type != type || !mp_msg_complete (self))
        return MP_EINVAL;
    for (size_t i = 0; i < spec->nfields; i++) {
        void *at = (char *) fields + spec->offsets[i];
        s_field_t *field = &self->fields[i];
        switch (field->kind) {
        case 'u': *(uint64_t *) at = field->u; break;
        case 'i': *(int64_t *) at = field->i; break;
        case 's': *(const char **) at = (const char *) field->buf.data; break;
        case 'b': *(mp_bytes_t *) at = (mp_bytes_t) { field->buf.data, field->buf.len }; break;
        case 'U':
            *(mp_u64s_t *) at = (mp_u64s_t) { field->list.items, field->list.count };
            break;
        default:
            if (s_list_view (field) != MP_OK)
                return MP_ENOMEM;
            if (field->kind == 'S')
                *(mp_strs_t *) at = (mp_strs_t) { field->list.view, field->list.count };
            else
                *(mp_bytes_list_t *) at = (mp_bytes_list_t) { field->list.view,
                                                              field->list.count };
            break;
        }
    }
    return MP_OK;
}

uint64_t mp_msg_run (const mp_msg_t *self)
{
    const mp_msg_spec_t *spec = self ? mp_msg_spec (self->type) : NULL;
    return spec && spec->scope != MP_SCOPE_NONE ? mp_msg_u64 (self, 0) : 0;
}

uint64_t mp_msg_unit (const mp_msg_t *self)
{
    const mp_msg_spec_t *spec = self ? mp_msg_spec (self->type) : NULL;
    return spec && spec->scope == MP_SCOPE_UNIT ? mp_msg_u64 (self, 1) : 0;
}

int mp_msg_authorise (const mp_msg_t *self, const mp_principal_t *who, char *err,
                      size_t errlen)
{
    const mp_msg_spec_t *spec = self ? mp_msg_spec (self->type) : NULL;
    const char *role = mp_role_name (who->role);
    if (!spec || !role || !(spec->senders & who->role)) {
        mp_set_error (err, errlen, "%s may not send %s",
                      role ? (who->role == MP_ROLE_AGENT ? "an agent" : role) : "no role",
                      spec ? spec->name : "that");
        return MP_EAUTH;
    }
    if (spec->scope != MP_SCOPE_NONE && who->run_bound && mp_msg_run (self) != who->run) {
        mp_set_error (err, errlen, "%s about run %" PRIu64 ", which is not this %s's",
                      spec->name, mp_msg_run (self), role);
        return MP_EAUTH;
    }
    if (spec->scope == MP_SCOPE_UNIT && who->unit_bound && mp_msg_unit (self) != who->unit) {
        mp_set_error (err, errlen, "%s about unit %" PRIu64 ", which is not this %s's",
                      spec->name, mp_msg_unit (self), role);
        return MP_EAUTH;
    }
    return MP_OK;
}

//  The index of a named field of the message's type; SIZE_MAX when it has none.
static size_t s_field_index (const mp_msg_t *self, const char *field)
{
    const mp_msg_spec_t *spec = self ? mp_msg_spec (self->type) : NULL;
    for (size_t i = 0; spec && field && i < spec->nfields; i++)
        if (strcmp (spec->fields[i], field) == 0)
            return i;
    return SIZE_MAX;
}

const void *mp_msg_bytes_named (const mp_msg_t *self, const char *field, size_t *len)
{
    size_t index = s_field_index (self, field);
    if (len)
        *len = 0;
    return index == SIZE_MAX ? NULL : mp_msg_bin (self, index, len);
}

const char *mp_msg_str_named (const mp_msg_t *self, const char *field)
{
    size_t index = s_field_index (self, field);
    return index == SIZE_MAX ? NULL : mp_msg_str (self, index);
}
