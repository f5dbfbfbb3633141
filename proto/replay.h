//  A receiver's memory of senders' sessions (see sender.h): the highest sequence
//  number seen of each, so that a message whose number is not higher (a replay, or
//  one reordered) is dropped. A session silent for longer than the timestamp window
//  is forgotten: anything captured before then is refused as stale by the codec.
//  Messages without a session (0) are not sequenced and pass: only key holders can
//  make them, and every sender of this project stamps its messages.
#ifndef MP_REPLAY_H
#define MP_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "msg.h"

#define MP_REPLAY_SESSIONS_MAX 65536

typedef struct mp_replay_t mp_replay_t;

//  forget_ms: how long a silent session is remembered (the codec's skew limit or
//  more). NULL when out of memory.
mp_replay_t *mp_replay_new (uint64_t forget_ms);
void mp_replay_destroy (mp_replay_t **self_p);
//  MP_OK for a message to accept (and remember), MP_EREPLAY for one to drop, with a
//  reason in err; MP_ETOOBIG when a new session cannot be remembered (the table is
//  full of live sessions).
int mp_replay_check (mp_replay_t *self, const mp_msg_t *msg, uint64_t now_ms, char *err,
                     size_t errlen);
//  Forgets sessions silent for longer than forget_ms.
void mp_replay_expire (mp_replay_t *self, uint64_t now_ms);
size_t mp_replay_size (const mp_replay_t *self);

#endif
