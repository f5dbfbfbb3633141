//  The in-memory message: a type, header fields and schema-typed body fields.
#include "msg.h"
#include "msg_priv.h"

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
    size_t nfields;
    s_field_t *fields;
};

#define MP_X_SCHEMA(name, num, schema) [num] = schema,
static const char *s_schemas[MP_MSG_TYPE_MAX] = { MP_MSG_CATALOGUE (MP_X_SCHEMA) };
#undef MP_X_SCHEMA
#define MP_X_NAME(name, num, schema) [num] = #name,
static const char *s_names[MP_MSG_TYPE_MAX] = { MP_MSG_CATALOGUE (MP_X_NAME) };
#undef MP_X_NAME

const char *mp_msg_schema (int type)
{
    return type > 0 && type < MP_MSG_TYPE_MAX ? s_schemas[type] : NULL;
}

const char *mp_msg_name (int type)
{
    return type > 0 && type < MP_MSG_TYPE_MAX ? s_names[type] : NULL;
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
        return -1;
    if (len == SIZE_MAX)
        return -1;
    uint8_t *copy = malloc (len + 1);
    if (!copy)
        return -1;
    if (len)
        memcpy (copy, data, len);
    copy[len] = 0;
    buf->data = copy;
    buf->len = len;
    return 0;
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
    if (s_buf_set (&buf, name ? name : "", name ? len : 0) != 0)
        return -1;
    free (*slot);
    *slot = (char *) buf.data;
    return 0;
}

const char *mp_msg_from (const mp_msg_t *self)
{
    return self && self->from ? self->from : "";
}

int mp_msg_set_from (mp_msg_t *self, const char *from)
{
    return self ? s_set_name (&self->from, from, from ? strlen (from) : 0) : -1;
}

int mp_msg_set_fromn (mp_msg_t *self, const char *from, size_t len)
{
    return self ? s_set_name (&self->from, from, len) : -1;
}

const char *mp_msg_to (const mp_msg_t *self)
{
    return self && self->to ? self->to : "";
}

int mp_msg_set_to (mp_msg_t *self, const char *to)
{
    return self ? s_set_name (&self->to, to, to ? strlen (to) : 0) : -1;
}

int mp_msg_set_ton (mp_msg_t *self, const char *to, size_t len)
{
    return self ? s_set_name (&self->to, to, len) : -1;
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
        return -1;
    field->kind = 'u';
    field->u = value;
    self->nfields++;
    return 0;
}

int mp_msg_add_i64 (mp_msg_t *self, int64_t value)
{
    s_field_t *field = s_next (self, 'i');
    if (!field)
        return -1;
    field->kind = 'i';
    field->i = value;
    self->nfields++;
    return 0;
}

static int s_add_buf (mp_msg_t *self, char kind, const void *data, size_t len)
{
    s_field_t *field = s_next (self, kind);
    if (!field || s_buf_set (&field->buf, data, len) != 0)
        return -1;
    field->kind = kind;
    self->nfields++;
    return 0;
}

int mp_msg_add_str (mp_msg_t *self, const char *value)
{
    return value ? s_add_buf (self, 's', value, strlen (value)) : -1;
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
        return -1;
    char kind = self->schema[self->nfields];
    if (kind != 'S' && kind != 'B' && kind != 'U')
        return -1;
    s_field_t *field = &self->fields[self->nfields];
    field->kind = kind;
    field->list.items = NULL;
    field->list.count = field->list.cap = 0;
    self->nfields++;
    return 0;
}

//  Room for one more element in the last field, a list of kind; NULL otherwise.
static s_field_t *s_list_grow (mp_msg_t *self, char kind, size_t item_size)
{
    if (!self || self->nfields == 0)
        return NULL;
    s_field_t *field = &self->fields[self->nfields - 1];
    if (field->kind != kind)
        return NULL;
    if (field->list.count == field->list.cap) {
        size_t cap = field->list.cap ? field->list.cap * 2 : 8;
        if (cap < field->list.cap || cap > SIZE_MAX / item_size)
            return NULL;
        void *items = realloc (field->list.items, cap * item_size);
        if (!items)
            return NULL;
        field->list.items = items;
        field->list.cap = cap;
    }
    return field;
}

static int s_push_buf (mp_msg_t *self, char kind, const void *data, size_t len)
{
    s_field_t *field = s_list_grow (self, kind, sizeof (s_buf_t));
    if (!field)
        return -1;
    s_buf_t *items = field->list.items;
    if (s_buf_set (&items[field->list.count], data, len) != 0)
        return -1;
    field->list.count++;
    return 0;
}

int mp_msg_push_str (mp_msg_t *self, const char *value)
{
    return value ? s_push_buf (self, 'S', value, strlen (value)) : -1;
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
    s_field_t *field = s_list_grow (self, 'U', sizeof (uint64_t));
    if (!field)
        return -1;
    uint64_t *items = field->list.items;
    items[field->list.count++] = value;
    return 0;
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
