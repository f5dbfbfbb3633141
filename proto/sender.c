//  Sessions and sequence numbers of senders.
#include "sender.h"

#include <openssl/rand.h>
#include <unistd.h>

#include "../common/error.h"

int mp_sender_init (mp_sender_t *self)
{
    self->session = 0;
    while (self->session == 0)
        if (RAND_bytes ((unsigned char *) &self->session, sizeof self->session) != 1)
            return MP_EIO;
    self->seq = 0;
    self->pid = getpid ();
    return MP_OK;
}

void mp_sender_stamp (mp_sender_t *self, mp_msg_t *msg)
{
    //  A child after fork() must not reuse its parent's numbers: its messages would
    //  look like replays of the parent's.
    if (self->pid != getpid () && mp_sender_init (self) != MP_OK)
        return;
    mp_msg_set_sequence (msg, self->session, ++self->seq);
}
