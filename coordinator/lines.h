//  Lines: connections on which a unit process sends its sync requests straight to
//  the coordinator instead of through its agent's relay.
//
//  A unit process opens its line with LINE_OPEN, relayed by its agent, which vouches
//  for the process: the line's name (and, over CURVE, its connection's public key) is
//  then bound to that process's run, unit and sync-service owner until its unit ends.
//  A message arriving straight with a line's name is treated as coming from that
//  process; only sync requests may travel a line. Lines are few (one per running unit
//  process that uses the sync service at most) and closed with their unit.
#ifndef MP_LINES_H
#define MP_LINES_H

#include <czmq.h>
#include <stdint.h>

#include "../proto/peer.h"

//  Lock requests queued on one line at once; past that, they are refused.
#define MP_LINE_WAITS_MAX 16

typedef struct {
    char name[MP_PEER_NAME_MAX];   //  "l<hex>"
    uint64_t run, unit;
    char owner[MP_PEER_OWNER_MAX]; //  the process's sync-service name
    char key[41];                  //  its connection's CURVE key (Z85), "" without CURVE
    zframe_t *route;               //  the connection it last came on, NULL before any
    uint64_t waits[MP_LINE_WAITS_MAX]; //  request ids of its queued LOCK_ACQUIREs
    size_t nwaits;
} mp_line_t;

typedef struct mp_lines_t mp_lines_t;

mp_lines_t *mp_lines_new (void);
void mp_lines_destroy (mp_lines_t **self_p);
//  Binds a line to a process (replacing that owner's earlier line, if any). MP_OK;
//  MP_EINVAL when the name is not a line's or key is neither empty nor a Z85 key;
//  MP_ESTATE when another process holds the name; MP_ENOMEM.
int mp_lines_open (mp_lines_t *self, const char *name, uint64_t run, uint64_t unit,
                   const char *owner, const char *key);
mp_line_t *mp_lines_find (mp_lines_t *self, const char *name);
mp_line_t *mp_lines_find_owner (mp_lines_t *self, const char *owner);
//  Closes the owner's line, if it has one. Its key is copied into key (41 bytes, ""
//  when it had none or there was no line) for the caller to stop accepting it.
void mp_lines_close_owner (mp_lines_t *self, const char *owner, char *key);
//  The line a request came on was seen on route: remember it for later grants.
void mp_lines_seen (mp_line_t *line, zframe_t *route);
//  A LOCK_ACQUIRE with this request id is queued on the line: MP_OK, or MP_ETOOBIG
//  when too many are. mp_lines_take_wait says (1) whether a grant with this id is the
//  line's, forgetting it.
int mp_lines_add_wait (mp_line_t *line, uint64_t reqid);
int mp_lines_take_wait (mp_line_t *line, uint64_t reqid);
size_t mp_lines_size (mp_lines_t *self);
//  Closes every line of a run, calling forget (when not NULL) with each one's key.
typedef void (mp_lines_forget_fn) (void *arg, const char *key);
void mp_lines_close_run (mp_lines_t *self, uint64_t run, mp_lines_forget_fn *forget,
                         void *arg);

#endif
