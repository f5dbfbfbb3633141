//  A sender's place in the replay protection: every message it sends carries its
//  session (a random 64-bit number drawn when the sender is made, and again in a
//  forked child) and the next number of its sequence. Receivers (replay.h) drop a
//  message whose session they saw with an equal or higher number: a captured message
//  played again, on any connection, is refused. Each socket-owning object (the
//  coordinator's router, an agent, a client connection) has its own sender.
#ifndef MP_SENDER_H
#define MP_SENDER_H

#include <stdint.h>
#include <sys/types.h>

#include "msg.h"

typedef struct {
    uint64_t session; //  never 0: 0 marks a message that is not sequenced
    uint64_t seq;     //  of the last message stamped
    pid_t pid;        //  the process that drew the session
} mp_sender_t;

//  Draws a fresh session. MP_OK, or MP_EIO when no randomness could be had.
int mp_sender_init (mp_sender_t *self);
//  Gives msg the sender's session and its next sequence number.
void mp_sender_stamp (mp_sender_t *self, mp_msg_t *msg);

#endif
