//  The message catalogue and the in-memory message every peer builds and reads.
//
//  A message is a type, a header (request id, sender, recipient, timestamp) and a
//  body: an ordered list of fields whose types are fixed per message type by a
//  schema string, one character per field:
//    'u' uint64   'i' int64   's' string (UTF-8, no NUL)   'b' bytes
//    'S' list of strings   'B' list of bytes   'U' list of uint64
//  The codec (codec.h) is the only place that turns these into bytes.
#ifndef MP_MSG_H
#define MP_MSG_H

#include <stddef.h>
#include <stdint.h>

#define MP_PROTO_VERSION 1

//  X-macro: name, number, schema, then the meaning of each field.
#define MP_MSG_CATALOGUE(X)                                                              \
    X (OK, 1, "u")               /* value (meaning depends on the request)          */   \
    X (ERROR, 2, "is")           /* code (mp_err_t), reason                         */   \
    X (HELLO, 3, "sus")          /* agent name, slots, hostname          A->C       */   \
    X (WELCOME, 4, "u")          /* heartbeat interval ms                C->A       */   \
    X (HEARTBEAT, 5, "")         /*                                      A<->C      */   \
    X (RUN_START, 6, "usSS")     /* run, cwd, pytest args, env "K=V"     C->A       */   \
    X (RUN_END, 7, "u")          /* run                                  C->A       */   \
    X (ZYGOTE_READY, 8, "uus")   /* run, tests collected, error or ""    Z->A->C    */   \
    X (UNIT, 9, "uusS")          /* run, unit, group, test ids           C->A->Z    */   \
    X (UNIT_STARTED, 10, "uuu")  /* run, unit, pid                       Z->A->C    */   \
    X (UNIT_EXIT, 11, "uuui")    /* run, unit, pid, status (code, -sig)  Z|A->C     */   \
    X (ZYGOTE_EXIT, 12, "ui")    /* run, status (code, or -signal)       A->C       */   \
    X (REPORT, 13, "uussb")      /* run, unit, kind, test id, data       U->A->C    */   \
    X (SUBMIT, 14, "sSuu")       /* cwd, args, units, test timeout ms: OK(run)  F->C */   \
    X (PLAN_UNIT, 15, "uusuS")   /* run, unit, group, strategy, test ids F->C       */   \
    X (PLAN_END, 16, "u")        /* run: the plan is complete, start it  F->C       */   \
    X (POLL, 17, "uuu")          /* run, after seq, wait ms              F->C       */   \
    X (EVENTS, 18, "uSSUB")      /* first seq, kinds, test ids, units, data  C->F   */   \
    X (CANCEL, 19, "u")          /* run: start nothing more, stop units  F->C       */   \
    X (BOARD_GET, 20, "ub")      /* run, key                  -> VALUE               */   \
    X (BOARD_SET, 21, "ubb")     /* run, key, value           -> OK                  */   \
    X (BOARD_DEL, 22, "ub")      /* run, key                  -> OK(found)           */   \
    X (BOARD_POP, 23, "ub")      /* run, key                  -> VALUE               */   \
    X (BOARD_SETDEFAULT, 24, "ubb") /* run, key, value        -> VALUE(existed, value) */ \
    X (BOARD_ITEMS, 25, "u")     /* run                       -> ITEMS               */   \
    X (VALUE, 26, "ub")          /* found, value                                     */   \
    X (ITEMS, 27, "BB")          /* keys, values                                     */   \
    X (LOCK_ACQUIRE, 28, "us")   /* run, name  -> OK once granted (FIFO)             */   \
    X (LOCK_RELEASE, 29, "us")   /* run, name  -> OK, or ERROR when not the holder   */   \
    X (TRAIL, 30, "uss")         /* run, name, state -> OK(1 first start/last finish)*/   \
    X (KILL, 31, "uuu")          /* run, unit, pid: a test timed out     C->A       */   \
    X (AGENTS, 32, "")           /* -> OK(agents registered)             F->C       */

typedef enum {
#define MP_X_ENUM(name, num, schema) MP_MSG_##name = num,
    MP_MSG_CATALOGUE (MP_X_ENUM)
#undef MP_X_ENUM
    MP_MSG_TYPE_MAX
} mp_msg_type_t;

//  Schema and name of a message type; NULL when the type is unknown.
const char *mp_msg_schema (int type);
const char *mp_msg_name (int type);

//  1 when the type is a request to a run's sync service (board, lock, trail).
int mp_msg_is_sync_request (int type);

typedef struct mp_msg_t mp_msg_t;

//  A new, empty message of a known type (NULL otherwise). Fields are then added in
//  schema order with the mp_msg_add_* functions.
mp_msg_t *mp_msg_new (int type);
void mp_msg_destroy (mp_msg_t **self_p);
//  Deep copy.
mp_msg_t *mp_msg_dup (const mp_msg_t *self);

int mp_msg_type (const mp_msg_t *self);
uint64_t mp_msg_reqid (const mp_msg_t *self);
void mp_msg_set_reqid (mp_msg_t *self, uint64_t reqid);
//  Sender and recipient names ("" when unset); the message keeps its own copies.
const char *mp_msg_from (const mp_msg_t *self);
int mp_msg_set_from (mp_msg_t *self, const char *from);
const char *mp_msg_to (const mp_msg_t *self);
int mp_msg_set_to (mp_msg_t *self, const char *to);
//  Timestamp in wall-clock ms; the codec stamps it on encode when 0.
uint64_t mp_msg_ts (const mp_msg_t *self);
void mp_msg_set_ts (mp_msg_t *self, uint64_t ts);

//  Builders: append the next field. Each returns 0, or -1 when the next schema field
//  is of another type, the body is already complete, or memory runs out.
int mp_msg_add_u64 (mp_msg_t *self, uint64_t value);
int mp_msg_add_i64 (mp_msg_t *self, int64_t value);
int mp_msg_add_str (mp_msg_t *self, const char *value);
int mp_msg_add_bin (mp_msg_t *self, const void *data, size_t len);
//  Lists: start an empty list field, then push its elements.
int mp_msg_add_list (mp_msg_t *self);
int mp_msg_push_str (mp_msg_t *self, const char *value);
int mp_msg_push_bin (mp_msg_t *self, const void *data, size_t len);
int mp_msg_push_u64 (mp_msg_t *self, uint64_t value);

//  Number of fields added so far; 1 when it equals the schema length.
size_t mp_msg_nfields (const mp_msg_t *self);
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

#endif
