//  A run's sync service: the message board, named FIFO locks and trails.
//  Pure data structures: no sockets. Lock grants that happen later (on release or
//  when a holder dies) are announced through the grant callback.
#ifndef MP_SYNC_H
#define MP_SYNC_H

#include <stddef.h>
#include <stdint.h>

typedef struct mp_sync_t mp_sync_t;

//  Called when a queued waiter is granted a lock: the owner and token it queued with.
typedef void(mp_sync_grant_fn) (void *arg, const char *lock, const char *owner,
                                uint64_t token);

//  NULL on no memory.
mp_sync_t *mp_sync_new (mp_sync_grant_fn *grant, void *arg);
void mp_sync_destroy (mp_sync_t **self_p);

//  Board: keys and values are opaque bytes (pickles); the board keeps copies.
//  Entries keep insertion order (a re-set key keeps its place, as a dict does).
//  MP_OK, MP_EINVAL (no board, or a NULL key or value with a length) or MP_ENOMEM.
int mp_sync_board_set (mp_sync_t *self, const void *key, size_t klen, const void *val,
                       size_t vlen);
//  A lookup that cannot fail: 1 when found, with *val/*vlen pointing into the board
//  (valid until the next change); 0 when not.
int mp_sync_board_get (mp_sync_t *self, const void *key, size_t klen, const void **val,
                       size_t *vlen);
//  1 when removed, 0 when absent.
int mp_sync_board_del (mp_sync_t *self, const void *key, size_t klen);
size_t mp_sync_board_size (const mp_sync_t *self);
//  Entry by position in insertion order, 0 <= index < size.
void mp_sync_board_at (const mp_sync_t *self, size_t index, const void **key, size_t *klen,
                       const void **val, size_t *vlen);

//  Locks: non-reentrant, created on first use, FIFO among waiters.
//  MP_OK with *granted 1 when granted now, or 0 when queued (the grant callback fires
//  later with owner and token). With a reason in err: MP_ESTATE when owner already
//  holds or waits for it, MP_EINVAL without a name or owner, MP_ENOMEM.
int mp_sync_lock_acquire (mp_sync_t *self, const char *name, const char *owner,
                          uint64_t token, int *granted, char *err, size_t errlen);
//  MP_OK, or MP_ESTATE (reason in err) when owner does not hold the lock. The next
//  waiter, if any, is granted (callback) before this returns.
int mp_sync_lock_release (mp_sync_t *self, const char *name, const char *owner, char *err,
                          size_t errlen);
//  1 when owner holds the named lock.
int mp_sync_lock_held_by (const mp_sync_t *self, const char *name, const char *owner);

//  Trails: state "start" sets *first_or_last to 1 when the consumer count was 0 (now
//  1), else 0 with count+1; "finish" sets it to 1 when count-1 reaches 0, else 0. Both
//  give MP_OK. Finish at count 0 or any other state is MP_EINVAL, out of memory
//  MP_ENOMEM, with a reason in err. Consumptions are remembered per owner.
int mp_sync_trail (mp_sync_t *self, const char *name, const char *state, const char *owner,
                   int *first_or_last, char *err, size_t errlen);
//  Current consumer count of a trail (0 when unknown).
size_t mp_sync_trail_count (const mp_sync_t *self, const char *name);

//  The owner's process is gone: its held locks are released (next waiters granted)
//  and its waits dropped. When it died (killed, crashed, or ended before finishing
//  its unit) its unfinished trail starts are taken back too; a process that ended
//  normally leaves every trail's count as its tests left it, as in the original.
void mp_sync_owner_gone (mp_sync_t *self, const char *owner, int died);

#endif
